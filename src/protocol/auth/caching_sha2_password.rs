//! caching_sha2_password (MySQL 8's default): a SHA-256 scramble, then either the server's
//! "fast auth success" or, when its cache is cold, the password itself: in clear text inside TLS,
//! RSA-encrypted over plain TCP (under the caller's key, or the server's when the caller allows
//! asking for it; otherwise refused without a request).

use sha2::{Digest, Sha256};

use super::context::PasswordProtection;
use super::rsa_password::{encrypt_password, parse_public_key};
use super::AuthError;
use super::{no_public_key, sendable_password, unexpected_more_data, with_nul, AuthPlugin, AuthStep, FillRandom};

/// The plugin's name on the wire.
pub const NAME: &str = "caching_sha2_password";
/// AuthMoreData from the server: the scramble matched the cached hash; OK_Packet follows.
pub const FAST_AUTH_SUCCESS: u8 = 0x03;
/// AuthMoreData from the server: send the password itself (over TLS, or RSA-encrypted).
pub const PERFORM_FULL_AUTHENTICATION: u8 = 0x04;
/// The client's request for the server's RSA public key.
pub const REQUEST_PUBLIC_KEY: u8 = 0x02;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// The scramble was sent: fast auth success or a request for full authentication comes next.
    ScrambleSent,
    /// The public key was requested: AuthMoreData holds it in PEM.
    KeyRequested,
    /// Nothing more to send: OK_Packet or ERR_Packet comes next.
    Done,
}

/// caching_sha2_password; `protection` says how full authentication sends the password.
pub struct CachingSha2Password {
    password: Vec<u8>,
    nonce: Vec<u8>,
    random: FillRandom,
    protection: PasswordProtection,
    state: State,
}

impl CachingSha2Password {
    pub fn new(password: Vec<u8>, random: FillRandom, protection: PasswordProtection) -> CachingSha2Password {
        CachingSha2Password { password, nonce: Vec::new(), random, protection, state: State::Start }
    }
}

impl AuthPlugin for CachingSha2Password {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, nonce: &[u8]) -> Result<Vec<u8>, AuthError> {
        // 20 bytes of nonce, followed by a NUL in an AuthSwitchRequest.
        self.nonce = nonce[..nonce.len().min(20)].to_vec();
        self.state = State::ScrambleSent;
        Ok(scramble(&self.password, &self.nonce))
    }

    fn on_more_data(&mut self, data: &[u8]) -> Result<AuthStep, AuthError> {
        match (self.state, data) {
            (State::ScrambleSent, [FAST_AUTH_SUCCESS]) => {
                self.state = State::Done;
                Ok(AuthStep::Wait)
            }
            (State::ScrambleSent, [PERFORM_FULL_AUTHENTICATION]) => match &self.protection {
                PasswordProtection::Tls => {
                    let password = with_nul(&self.password, NAME)?;
                    self.state = State::Done;
                    Ok(AuthStep::Send(password))
                }
                PasswordProtection::CallerKey(key) => {
                    sendable_password(&self.password, NAME)?;
                    self.state = State::Done;
                    Ok(AuthStep::Send(encrypt_password(&self.password, &self.nonce, key.rsa(), self.random)?))
                }
                PasswordProtection::RequestServerKey => {
                    // Refused before the key is asked for: it could not be used.
                    sendable_password(&self.password, NAME)?;
                    self.state = State::KeyRequested;
                    Ok(AuthStep::Send(vec![REQUEST_PUBLIC_KEY]))
                }
                PasswordProtection::Refuse => Err(no_public_key(NAME)),
            },
            (State::KeyRequested, pem) => {
                let key = parse_public_key(pem)?;
                self.state = State::Done;
                Ok(AuthStep::Send(encrypt_password(&self.password, &self.nonce, &key, self.random)?))
            }
            _ => Err(unexpected_more_data("caching_sha2_password exchange")),
        }
    }
}

/// XOR(SHA256(password), SHA256(SHA256(SHA256(password)) + nonce)); empty for an empty password.
pub fn scramble(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = Sha256::digest(password);
    let stage2 = Sha256::digest(stage1);
    let mut h = Sha256::new();
    h.update(stage2);
    h.update(nonce);
    let mix = h.finalize();
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

#[cfg(test)]
mod tests {
    use super::super::rsa_password::tests::{fixed_random, PRIVATE_PEM, PUBLIC_PEM};
    use super::super::rsa_password::{xor_with_nonce, ServerPublicKey};
    use super::*;

    const NONCE: &[u8; 20] = b"\x0e\x1e\x2d\x6d\x4a\x64\x37\x22\x01\x1a\x4b\x30\x0c\x28\x0a\x4d\x2c\x06\x72\x4f";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn scramble_known_vector() {
        // The published vectors of go-sql-driver/mysql (TestScrambleSHA256Pass).
        let nonce = [10, 47, 74, 111, 75, 73, 34, 48, 88, 76, 114, 74, 37, 13, 3, 80, 82, 2, 23, 21];
        assert_eq!(
            hex(&scramble(b"secret", &nonce)),
            "f490e76f66d9d86665ce54d98c78d0acfe2fb0b08b423da807144873d30b312c"
        );
        assert_eq!(
            hex(&scramble(b"secret2", &nonce)),
            "abc3934a012cf342e876071c8ee202de51785b430258a7a0138bc79c4d800bc6"
        );
        assert!(scramble(b"", NONCE).is_empty());
    }

    fn plugin(password: &[u8]) -> CachingSha2Password {
        CachingSha2Password::new(password.to_vec(), fixed_random, PasswordProtection::RequestServerKey)
    }

    #[test]
    fn full_auth_without_tls_key_or_consent_is_refused_and_asks_nothing() {
        let mut p = CachingSha2Password::new(b"secret".to_vec(), fixed_random, PasswordProtection::Refuse);
        // The scramble goes as usual, and the fast path still works.
        assert_eq!(p.start(NONCE).unwrap(), scramble(b"secret", NONCE));
        match p.on_more_data(&[PERFORM_FULL_AUTHENTICATION]) {
            Err(AuthError::Unsupported(m)) => {
                assert!(m.contains("get_server_public_key") && m.contains(NAME), "{m}");
                assert!(!m.contains("secret"), "{m}");
            }
            other => panic!("no request byte, no password: {other:?}"),
        }
        // Nothing was asked, so a key arriving anyway is not read.
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err());
        let mut fast = CachingSha2Password::new(b"secret".to_vec(), fixed_random, PasswordProtection::Refuse);
        fast.start(NONCE).unwrap();
        assert_eq!(fast.on_more_data(&[FAST_AUTH_SUCCESS]).unwrap(), AuthStep::Wait);
    }

    #[test]
    fn with_consent_the_key_request_is_the_single_byte_0x02() {
        let mut p = plugin(b"secret");
        p.start(NONCE).unwrap();
        assert_eq!(p.on_more_data(&[PERFORM_FULL_AUTHENTICATION]).unwrap(), AuthStep::Send(b"\x02".to_vec()));
        // A password that cannot be sent is refused before the key is asked for.
        let mut nul = plugin(b"sec\0ret");
        nul.start(NONCE).unwrap();
        assert!(matches!(nul.on_more_data(&[PERFORM_FULL_AUTHENTICATION]), Err(AuthError::Caller(_))));
    }

    #[test]
    fn fast_auth() {
        let mut p = plugin(b"secret");
        let mut switch_nonce = NONCE.to_vec();
        switch_nonce.push(0);
        assert_eq!(p.start(&switch_nonce).unwrap(), scramble(b"secret", NONCE));
        assert_eq!(p.on_more_data(&[FAST_AUTH_SUCCESS]).unwrap(), AuthStep::Wait);
        assert!(p.on_more_data(&[FAST_AUTH_SUCCESS]).is_err());
    }

    #[test]
    fn full_auth_with_the_servers_key() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::Oaep;
        let mut p = plugin(b"secret");
        p.start(NONCE).unwrap();
        assert_eq!(p.on_more_data(&[PERFORM_FULL_AUTHENTICATION]).unwrap(), AuthStep::Send(vec![REQUEST_PUBLIC_KEY]));
        let AuthStep::Send(sealed) = p.on_more_data(PUBLIC_PEM.as_bytes()).unwrap() else { panic!("nothing sent") };
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_PEM).unwrap();
        let plain = private.decrypt(Oaep::new::<sha1::Sha1>(), &sealed).unwrap();
        assert_eq!(plain, xor_with_nonce(b"secret", NONCE).unwrap());
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err());
    }

    #[test]
    fn full_auth_over_tls_sends_the_password_with_its_nul() {
        let mut p = CachingSha2Password::new("pässwörd".as_bytes().to_vec(), fixed_random, PasswordProtection::Tls);
        assert_eq!(p.start(NONCE).unwrap(), scramble("pässwörd".as_bytes(), NONCE));
        assert_eq!(
            p.on_more_data(&[PERFORM_FULL_AUTHENTICATION]).unwrap(),
            AuthStep::Send(b"p\xc3\xa4ssw\xc3\xb6rd\0".to_vec())
        );
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err(), "no key is read over TLS");
    }

    #[test]
    fn full_auth_with_the_callers_key_asks_nothing() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::Oaep;
        let key = ServerPublicKey::from_pem(PUBLIC_PEM).unwrap();
        let mut p = CachingSha2Password::new(b"secret".to_vec(), fixed_random, PasswordProtection::CallerKey(key));
        p.start(NONCE).unwrap();
        let AuthStep::Send(sealed) = p.on_more_data(&[PERFORM_FULL_AUTHENTICATION]).unwrap() else {
            panic!("nothing sent")
        };
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_PEM).unwrap();
        let plain = private.decrypt(Oaep::new::<sha1::Sha1>(), &sealed).unwrap();
        assert_eq!(plain, xor_with_nonce(b"secret", NONCE).unwrap());
        assert!(p.on_more_data(PUBLIC_PEM.as_bytes()).is_err());
    }

    #[test]
    fn unexpected_replies_are_errors() {
        for reply in [&b""[..], b"\x05", b"\x03\x03", b"-----BEGIN PUBLIC KEY-----"] {
            let mut p = plugin(b"secret");
            p.start(NONCE).unwrap();
            assert!(p.on_more_data(reply).is_err(), "{reply:?}");
        }
        let mut p = plugin(b"secret");
        p.start(NONCE).unwrap();
        p.on_more_data(&[PERFORM_FULL_AUTHENTICATION]).unwrap();
        assert!(p.on_more_data(b"not a key").is_err());
    }
}
