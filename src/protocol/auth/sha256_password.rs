//! sha256_password (MySQL 5.6+): the password itself, NUL-terminated, inside TLS; without TLS,
//! encrypted with the server's RSA public key (the caller's copy, or asked of the server when the
//! caller allows it; otherwise refused before anything is sent). An empty password is a single
//! NUL either way.

use super::context::PasswordProtection;
use super::rsa_password::{encrypt_password, parse_public_key};
use super::AuthError;
use super::{no_public_key, sendable_password, unexpected_more_data, with_nul, AuthPlugin, AuthStep, FillRandom};

/// The plugin's name on the wire.
pub const NAME: &str = "sha256_password";
/// The client's request for the server's RSA public key (the whole first response).
pub const REQUEST_PUBLIC_KEY: u8 = 0x01;

/// sha256_password; `protection` says how the password travels.
pub struct Sha256Password {
    password: Vec<u8>,
    nonce: Vec<u8>,
    random: FillRandom,
    protection: PasswordProtection,
    key_requested: bool,
}

impl Sha256Password {
    pub fn new(password: Vec<u8>, random: FillRandom, protection: PasswordProtection) -> Sha256Password {
        Sha256Password { password, nonce: Vec::new(), random, protection, key_requested: false }
    }
}

impl AuthPlugin for Sha256Password {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, nonce: &[u8]) -> Result<Vec<u8>, AuthError> {
        self.nonce = nonce[..nonce.len().min(20)].to_vec();
        self.key_requested = false;
        if self.password.is_empty() {
            return Ok(vec![0]);
        }
        match &self.protection {
            PasswordProtection::Tls => with_nul(&self.password, NAME),
            PasswordProtection::CallerKey(key) => {
                sendable_password(&self.password, NAME)?;
                encrypt_password(&self.password, &self.nonce, key.rsa(), self.random)
            }
            PasswordProtection::RequestServerKey => {
                sendable_password(&self.password, NAME)?;
                self.key_requested = true;
                Ok(vec![REQUEST_PUBLIC_KEY])
            }
            PasswordProtection::Refuse => Err(no_public_key(NAME)),
        }
    }

    fn on_more_data(&mut self, data: &[u8]) -> Result<AuthStep, AuthError> {
        if !self.key_requested {
            return Err(unexpected_more_data("sha256_password exchange"));
        }
        let key = parse_public_key(data)?;
        self.key_requested = false;
        Ok(AuthStep::Send(encrypt_password(&self.password, &self.nonce, &key, self.random)?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::rsa_password::tests::{fixed_random, PRIVATE_PEM, PUBLIC_PEM};
    use super::super::rsa_password::{xor_with_nonce, ServerPublicKey};
    use super::*;

    const NONCE: &[u8; 20] = b"abcdefghijklmnopqrst";

    fn requesting(password: &[u8]) -> Sha256Password {
        Sha256Password::new(password.to_vec(), fixed_random, PasswordProtection::RequestServerKey)
    }

    fn decrypt(sealed: &[u8]) -> Vec<u8> {
        use rsa::pkcs8::DecodePrivateKey;
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_PEM).unwrap();
        private.decrypt(rsa::Oaep::new::<sha1::Sha1>(), sealed).unwrap()
    }

    #[test]
    fn empty_password_is_a_nul() {
        let key = ServerPublicKey::from_pem(PUBLIC_PEM).unwrap();
        for protection in [
            PasswordProtection::RequestServerKey,
            PasswordProtection::Tls,
            PasswordProtection::CallerKey(key),
            PasswordProtection::Refuse,
        ] {
            let mut p = Sha256Password::new(Vec::new(), fixed_random, protection);
            assert_eq!(p.start(NONCE).unwrap(), vec![0]);
            assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err());
        }
    }

    #[test]
    fn requests_the_key_then_sends_the_encrypted_password() {
        let mut p = requesting(b"secret");
        let mut switch_nonce = NONCE.to_vec();
        switch_nonce.push(0);
        assert_eq!(p.start(&switch_nonce).unwrap(), vec![REQUEST_PUBLIC_KEY]);
        let AuthStep::Send(sealed) = p.on_more_data(PUBLIC_PEM.as_bytes()).unwrap() else { panic!("nothing sent") };
        assert_eq!(decrypt(&sealed), xor_with_nonce(b"secret", NONCE).unwrap());
        // The exchange is over: more data is a protocol error.
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err());
    }

    #[test]
    fn without_tls_key_or_consent_nothing_is_sent_not_even_the_request() {
        let mut p = Sha256Password::new(b"secret".to_vec(), fixed_random, PasswordProtection::Refuse);
        match p.start(NONCE) {
            Err(AuthError::Unsupported(m)) => assert!(m.contains("get_server_public_key") && m.contains(NAME), "{m}"),
            other => panic!("no 0x01 request: {other:?}"),
        }
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err(), "no key was asked for");
        // With consent, the request is the single byte 0x01; a password with a NUL is refused first.
        assert_eq!(requesting(b"secret").start(NONCE).unwrap(), b"\x01");
        assert!(matches!(requesting(b"sec\0ret").start(NONCE), Err(AuthError::Caller(_))));
    }

    #[test]
    fn over_tls_the_password_itself() {
        let mut p = Sha256Password::new(b"secret".to_vec(), fixed_random, PasswordProtection::Tls);
        assert_eq!(p.start(NONCE).unwrap(), b"secret\0");
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err());
    }

    #[test]
    fn with_the_callers_key_the_encrypted_password_comes_first() {
        let key = ServerPublicKey::from_pem(PUBLIC_PEM).unwrap();
        let mut p = Sha256Password::new(b"secret".to_vec(), fixed_random, PasswordProtection::CallerKey(key));
        let sealed = p.start(NONCE).unwrap();
        assert_eq!(decrypt(&sealed), xor_with_nonce(b"secret", NONCE).unwrap());
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err());
    }

    #[test]
    fn garbage_instead_of_a_key_is_an_error() {
        let mut p = requesting(b"secret");
        p.start(NONCE).unwrap();
        assert!(p.on_more_data(b"\x03").is_err());
    }
}
