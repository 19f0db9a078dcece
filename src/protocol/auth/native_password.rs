//! mysql_native_password: SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))).

use sha1::{Digest, Sha1};

use super::AuthError;
use super::{unexpected_more_data, AuthPlugin, AuthStep};

/// The plugin's name on the wire.
pub const NAME: &str = "mysql_native_password";

/// mysql_native_password: one scramble, no further exchange.
pub struct NativePassword {
    password: Vec<u8>,
}

impl NativePassword {
    pub fn new(password: Vec<u8>) -> NativePassword {
        NativePassword { password }
    }
}

impl AuthPlugin for NativePassword {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, nonce: &[u8]) -> Result<Vec<u8>, AuthError> {
        Ok(scramble(&self.password, nonce))
    }

    fn on_more_data(&mut self, _data: &[u8]) -> Result<AuthStep, AuthError> {
        Err(unexpected_more_data("mysql_native_password exchange"))
    }
}

/// The auth response for `password` and the server's 20-byte nonce; empty for an empty password.
pub fn scramble(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    // Servers send 20 bytes of nonce, sometimes followed by a NUL.
    let nonce = &nonce[..nonce.len().min(20)];
    let stage1 = Sha1::digest(password);
    let stage2 = Sha1::digest(stage1);
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(stage2);
    let mix = h.finalize();
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_server_side_check() {
        // The server stores SHA1(SHA1(pw)) and checks SHA1(resp XOR SHA1(nonce + stored)) == stored.
        let nonce = b"01234567890123456789";
        let resp = scramble(b"secret", nonce);
        let stored = Sha1::digest(Sha1::digest(b"secret"));
        let mut h = Sha1::new();
        h.update(nonce);
        h.update(stored);
        let mix = h.finalize();
        let stage1: Vec<u8> = resp.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect();
        assert_eq!(Sha1::digest(&stage1).as_slice(), stored.as_slice());
    }

    #[test]
    fn plugin_answers_once() {
        let mut p = NativePassword::new(b"secret".to_vec());
        // A switch request's nonce keeps its trailing NUL: the scramble ignores it.
        assert_eq!(p.start(b"01234567890123456789\0").unwrap(), scramble(b"secret", b"01234567890123456789"));
        assert!(p.on_more_data(b"\x03").is_err());
    }

    #[test]
    fn known_vector() {
        // PASSWORD('password') is *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19; with an all-zero nonce:
        let resp = scramble(b"password", &[0u8; 20]);
        assert_eq!(resp.len(), 20);
        assert!(scramble(b"", &[0u8; 20]).is_empty());
    }
}
