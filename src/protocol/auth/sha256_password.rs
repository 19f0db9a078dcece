//! sha256_password (MySQL 5.6+): without TLS, the client asks for the server's RSA public key
//! and sends the password encrypted with it; an empty password is a single NUL.

use super::rsa_password::{encrypt_password, parse_public_key};
use super::{unexpected_more_data, AuthPlugin, AuthStep, FillRandom};
use crate::error::Error;

/// The plugin's name on the wire.
pub const NAME: &str = "sha256_password";
/// The client's request for the server's RSA public key (the whole first response).
pub const REQUEST_PUBLIC_KEY: u8 = 0x01;

/// sha256_password over plain TCP, always through the server's RSA key.
pub struct Sha256Password {
    password: Vec<u8>,
    nonce: Vec<u8>,
    random: FillRandom,
    key_requested: bool,
}

impl Sha256Password {
    pub fn new(password: Vec<u8>, random: FillRandom) -> Sha256Password {
        Sha256Password { password, nonce: Vec::new(), random, key_requested: false }
    }
}

impl AuthPlugin for Sha256Password {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, nonce: &[u8]) -> Result<Vec<u8>, Error> {
        self.nonce = nonce[..nonce.len().min(20)].to_vec();
        if self.password.is_empty() {
            self.key_requested = false;
            return Ok(vec![0]);
        }
        self.key_requested = true;
        Ok(vec![REQUEST_PUBLIC_KEY])
    }

    fn on_more_data(&mut self, data: &[u8]) -> Result<AuthStep, Error> {
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
    use super::super::rsa_password::xor_with_nonce;
    use super::*;

    const NONCE: &[u8; 20] = b"abcdefghijklmnopqrst";

    #[test]
    fn empty_password_is_a_nul() {
        let mut p = Sha256Password::new(Vec::new(), fixed_random);
        assert_eq!(p.start(NONCE).unwrap(), vec![0]);
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err());
    }

    #[test]
    fn requests_the_key_then_sends_the_encrypted_password() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::Oaep;
        let mut p = Sha256Password::new(b"secret".to_vec(), fixed_random);
        let mut switch_nonce = NONCE.to_vec();
        switch_nonce.push(0);
        assert_eq!(p.start(&switch_nonce).unwrap(), vec![REQUEST_PUBLIC_KEY]);
        let AuthStep::Send(sealed) = p.on_more_data(PUBLIC_PEM.as_bytes()).unwrap() else { panic!("nothing sent") };
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_PEM).unwrap();
        let plain = private.decrypt(Oaep::new::<sha1::Sha1>(), &sealed).unwrap();
        assert_eq!(plain, xor_with_nonce(b"secret", NONCE).unwrap());
        // The exchange is over: more data is a protocol error.
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err());
    }

    #[test]
    fn garbage_instead_of_a_key_is_an_error() {
        let mut p = Sha256Password::new(b"secret".to_vec(), fixed_random);
        p.start(NONCE).unwrap();
        assert!(p.on_more_data(b"\x03").is_err());
    }
}
