//! The password exchange shared by caching_sha2_password and sha256_password over plain TCP:
//! (password + NUL) XOR nonce, encrypted with RSA-OAEP (SHA-1) under the server's public key.

use std::fmt;

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPublicKey};
use sha1::Sha1;

use super::AuthError;
use super::FillRandom;
use crate::protocol::error::ProtocolError;

/// The RSA public key of the server's caching_sha2_password / sha256_password key pair, as the
/// caller gives it (MySQL's `--server-public-key-path`) instead of the server sending it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerPublicKey(RsaPublicKey);

impl ServerPublicKey {
    /// The key from PEM text: SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`, what the server's
    /// `caching_sha2_password_public_key_path` holds) or PKCS#1 (`BEGIN RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<ServerPublicKey, AuthError> {
        decode_pem(pem.as_bytes()).map(ServerPublicKey).ok_or_else(|| {
            AuthError::Caller(
                "server_public_key: not an RSA public key in PEM (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY)".into(),
            )
        })
    }

    pub(super) fn rsa(&self) -> &RsaPublicKey {
        &self.0
    }
}

impl fmt::Debug for ServerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerPublicKey(RSA {} bits)", self.0.size() * 8)
    }
}

/// The server's public key as it sends it in AuthMoreData: PEM, SubjectPublicKeyInfo or PKCS#1.
pub(super) fn parse_public_key(pem: &[u8]) -> Result<RsaPublicKey, AuthError> {
    decode_pem(pem).ok_or(AuthError::Protocol(ProtocolError::InvalidValue("RSA public key from the server")))
}

/// PEM in either form, ignoring surrounding whitespace and the NUL a server may append.
fn decode_pem(pem: &[u8]) -> Option<RsaPublicKey> {
    let text = std::str::from_utf8(pem).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    RsaPublicKey::from_public_key_pem(text).or_else(|_| RsaPublicKey::from_pkcs1_pem(text)).ok()
}

/// The password XORed with the nonce, cycling through the nonce, NUL-terminated.
pub(super) fn xor_with_nonce(password: &[u8], nonce: &[u8]) -> Result<Vec<u8>, AuthError> {
    if nonce.is_empty() {
        return Err(ProtocolError::InvalidValue("empty authentication nonce").into());
    }
    let mut plain = super::with_nul(password, "RSA password encryption")?;
    for (byte, key) in plain.iter_mut().zip(nonce.iter().cycle()) {
        *byte ^= key;
    }
    Ok(plain)
}

/// The encrypted password the server expects after sending its public key.
pub(super) fn encrypt_password(
    password: &[u8],
    nonce: &[u8],
    key: &RsaPublicKey,
    random: FillRandom,
) -> Result<Vec<u8>, AuthError> {
    let plain = xor_with_nonce(password, nonce)?;
    let mut rng = Random { fill: random, failed: None };
    let sealed = key
        .encrypt(&mut rng, Oaep::new::<Sha1>(), &plain)
        .map_err(|e| AuthError::Client(format!("cannot encrypt the password for the server: {e}")))?;
    match rng.failed {
        Some(e) => Err(e),
        None => Ok(sealed),
    }
}

/// Adapts a [`FillRandom`] to the RNG traits: a failure is recorded, and the caller discards the result.
struct Random {
    fill: FillRandom,
    failed: Option<AuthError>,
}

impl RngCore for Random {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if let Err(e) = (self.fill)(dest) {
            self.failed.get_or_insert(e);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Random {}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A 1024-bit test key (`openssl genrsa 1024`), small to keep the tests quick.
    pub const PRIVATE_PEM: &str = include_str!("testdata/rsa1024.pem");
    pub const PUBLIC_PEM: &str = include_str!("testdata/rsa1024.pub.pem");

    pub fn fixed_random(buf: &mut [u8]) -> Result<(), AuthError> {
        buf.fill(0x5a);
        Ok(())
    }

    fn failing_random(_: &mut [u8]) -> Result<(), AuthError> {
        Err(AuthError::Client("no entropy".into()))
    }

    #[test]
    fn xor_cycles_through_the_nonce() {
        assert_eq!(xor_with_nonce(b"abc", b"\x01\x02").unwrap(), vec![b'a' ^ 1, b'b' ^ 2, b'c' ^ 1, 2]);
        assert!(xor_with_nonce(b"abc", b"").is_err());
        assert!(matches!(xor_with_nonce(b"a\0c", b"\x01"), Err(AuthError::Caller(_))));
    }

    #[test]
    fn parses_both_pem_forms_and_rejects_garbage() {
        let key = parse_public_key(PUBLIC_PEM.as_bytes()).unwrap();
        let mut with_nul = PUBLIC_PEM.as_bytes().to_vec();
        with_nul.push(0);
        assert_eq!(parse_public_key(&with_nul).unwrap(), key);
        assert!(parse_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err());
        assert!(parse_public_key(b"\xff\xfe").is_err());
        assert!(parse_public_key(b"").is_err());
    }

    #[test]
    fn caller_key_is_checked_when_given() {
        let key = ServerPublicKey::from_pem(PUBLIC_PEM).unwrap();
        assert_eq!(key.rsa(), &parse_public_key(PUBLIC_PEM.as_bytes()).unwrap());
        assert_eq!(format!("{key:?}"), "ServerPublicKey(RSA 1024 bits)");
        for bad in ["", "secret", PRIVATE_PEM, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"] {
            match ServerPublicKey::from_pem(bad) {
                Err(AuthError::Caller(m)) => assert!(m.contains("server_public_key"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn hostile_keys_are_errors_not_panics() {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::pkcs8::LineEnding;
        use rsa::BigUint;
        let moduli = [BigUint::from(0u8), BigUint::from(1u8), BigUint::from(2u8), BigUint::from(u64::MAX)];
        let huge = BigUint::from_bytes_be(&[0xff; 1024]);
        for n in moduli.iter().chain([&huge]) {
            for e in [0u32, 1, 3, 65537] {
                let key = RsaPublicKey::new_unchecked(n.clone(), BigUint::from(e));
                let Ok(pem) = key.to_pkcs1_pem(LineEnding::LF) else { continue };
                if let Ok(key) = parse_public_key(pem.as_bytes()) {
                    let _ = encrypt_password(b"secret", b"01234567890123456789", &key, fixed_random);
                }
            }
        }
    }

    #[test]
    fn encryption_decrypts_to_the_xored_password() {
        use rsa::pkcs8::DecodePrivateKey;
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_PEM).unwrap();
        let key = parse_public_key(PUBLIC_PEM.as_bytes()).unwrap();
        let nonce = b"0123456789abcdefghij";
        let sealed = encrypt_password(b"secret", nonce, &key, fixed_random).unwrap();
        assert_eq!(sealed.len(), 128);
        let plain = private.decrypt(Oaep::new::<Sha1>(), &sealed).unwrap();
        assert_eq!(plain, xor_with_nonce(b"secret", nonce).unwrap());
        assert!(encrypt_password(b"secret", nonce, &key, failing_random).is_err());
        // Longer than the key can hold: an error, not a panic.
        assert!(encrypt_password(&[b'x'; 200], nonce, &key, fixed_random).is_err());
    }
}
