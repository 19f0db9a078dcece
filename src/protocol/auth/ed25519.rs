//! client_ed25519 (MariaDB's auth_ed25519): an ed25519 signature of the server's 32-byte nonce.
//!
//! MariaDB derives the key unusually: SHA-512(password) *is* the expanded secret key (clamped
//! scalar, then the nonce prefix), where RFC 8032 would hash a 32-byte seed. The signature itself
//! is standard ed25519, so the curve arithmetic is ed25519-dalek's.

use ed25519_dalek::hazmat::{raw_sign, ExpandedSecretKey};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha512};

use super::AuthError;
use super::{unexpected_more_data, AuthPlugin, AuthStep};
use crate::protocol::error::ProtocolError;

/// The plugin's name on the wire.
pub const NAME: &str = "client_ed25519";
/// The length of the nonce the server signs with (MariaDB's NONCE_BYTES).
const NONCE_LEN: usize = 32;

/// client_ed25519: one signature, no further exchange.
pub struct ClientEd25519 {
    password: Vec<u8>,
}

impl ClientEd25519 {
    pub fn new(password: Vec<u8>) -> ClientEd25519 {
        ClientEd25519 { password }
    }
}

impl AuthPlugin for ClientEd25519 {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, nonce: &[u8]) -> Result<Vec<u8>, AuthError> {
        // The handshake's 20-byte nonce is too short: the caller then answers with another
        // plugin, and the server switches to this one with a nonce of its own.
        let nonce = nonce.get(..NONCE_LEN).ok_or(ProtocolError::InvalidValue("client_ed25519 nonce"))?;
        Ok(sign(&self.password, nonce).to_vec())
    }

    fn on_more_data(&mut self, _data: &[u8]) -> Result<AuthStep, AuthError> {
        Err(unexpected_more_data("client_ed25519 exchange"))
    }
}

/// The public key MariaDB stores for `password` (what `PASSWORD()` shows, base64-encoded).
pub fn public_key(password: &[u8]) -> [u8; 32] {
    VerifyingKey::from(&expanded_key(password)).to_bytes()
}

/// The 64-byte signature (R, S) of `message` with the key derived from `password`.
pub fn sign(password: &[u8], message: &[u8]) -> [u8; 64] {
    let key = expanded_key(password);
    let public = VerifyingKey::from(&key);
    raw_sign::<Sha512>(&key, message, &public).to_bytes()
}

fn expanded_key(password: &[u8]) -> ExpandedSecretKey {
    let hash: [u8; 64] = Sha512::digest(password).into();
    ExpandedSecretKey::from_bytes(&hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signature;

    fn b64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn public_keys_match_mariadb() {
        // From MariaDB 10.11: SELECT authentication_string after IDENTIFIED VIA ed25519 USING PASSWORD(..).
        assert_eq!(b64(&public_key(b"secret")), "ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY");
        assert_eq!(b64(&public_key("pässwörd".as_bytes())), "3AcJUN7vR2AnAzs/McwNtGs2GDbHzL5YqZoIOPw62V0");
    }

    #[test]
    fn signature_verifies_and_is_deterministic() {
        let nonce: Vec<u8> = (0..32).collect();
        let mut p = ClientEd25519::new(b"secret".to_vec());
        let reply = p.start(&nonce).unwrap();
        assert_eq!(reply.len(), 64);
        assert_eq!(reply, sign(b"secret", &nonce).to_vec());
        let public = VerifyingKey::from_bytes(&public_key(b"secret")).unwrap();
        let sig = Signature::from_slice(&reply).unwrap();
        public.verify_strict(&nonce, &sig).unwrap();
        assert!(public.verify_strict(&nonce[1..], &sig).is_err());
        // A trailing NUL after the nonce is ignored; a short nonce is refused.
        let mut with_nul = nonce.clone();
        with_nul.push(0);
        assert_eq!(p.start(&with_nul).unwrap(), reply);
        assert!(p.start(&nonce[..20]).is_err());
        assert!(p.on_more_data(b"").is_err());
    }
}
