//! parsec (MariaDB 11.6+, "Password Authentication using Response Signed with Elliptic Curve").
//!
//! The server switches to it with a 32-byte scramble; the client answers with an empty packet to
//! ask for the ext-salt ('P' for PBKDF2, an iteration factor, an 18-byte salt). The key is
//! PBKDF2-HMAC-SHA512(password, salt, 1024 << factor), 32 bytes, used as a standard ed25519 seed;
//! the client sends 32 random bytes of its own followed by the signature of
//! server scramble || client scramble.

use ed25519_dalek::{Signer, SigningKey};
use sha2::Sha512;

use super::AuthError;
use super::{unexpected_more_data, AuthPlugin, AuthStep, FillRandom};
use crate::protocol::error::ProtocolError;

/// The plugin's name on the wire.
pub const NAME: &str = "parsec";
/// CHALLENGE_SCRAMBLE_LENGTH: the server's scramble and the client's.
const SCRAMBLE_LEN: usize = 32;
/// CHALLENGE_SALT_LENGTH.
const SALT_LEN: usize = 18;
/// The ext-salt's algorithm byte for PBKDF2 (the only one defined).
const PBKDF2: u8 = b'P';
/// The largest iteration factor MariaDB's client accepts (8192 rounds): a server cannot make the
/// client spin for ever.
const MAX_ITERATION_FACTOR: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// The empty packet went out: the ext-salt comes next.
    SaltRequested,
    /// The signed response went out: OK_Packet or ERR_Packet comes next.
    Done,
}

/// parsec: ext-salt request, then one signed response.
pub struct Parsec {
    password: Vec<u8>,
    random: FillRandom,
    server_scramble: [u8; SCRAMBLE_LEN],
    state: State,
}

impl Parsec {
    pub fn new(password: Vec<u8>, random: FillRandom) -> Parsec {
        Parsec { password, random, server_scramble: [0; SCRAMBLE_LEN], state: State::Start }
    }
}

impl AuthPlugin for Parsec {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, nonce: &[u8]) -> Result<Vec<u8>, AuthError> {
        // The handshake's 20-byte nonce is too short: the caller then answers with another plugin
        // and the server switches to this one with a scramble of its own.
        let scramble = nonce.get(..SCRAMBLE_LEN).ok_or(ProtocolError::InvalidValue("parsec scramble"))?;
        self.server_scramble.copy_from_slice(scramble);
        self.state = State::SaltRequested;
        // An empty packet: "send me the ext-salt".
        Ok(Vec::new())
    }

    fn on_more_data(&mut self, data: &[u8]) -> Result<AuthStep, AuthError> {
        if self.state != State::SaltRequested {
            return Err(unexpected_more_data("parsec exchange"));
        }
        let (factor, salt) = parse_ext_salt(data)?;
        let mut client_scramble = [0u8; SCRAMBLE_LEN];
        (self.random)(&mut client_scramble)?;
        self.state = State::Done;
        let signature = sign(&self.password, factor, salt, &self.server_scramble, &client_scramble);
        let mut response = Vec::with_capacity(SCRAMBLE_LEN + signature.len());
        response.extend_from_slice(&client_scramble);
        response.extend_from_slice(&signature);
        Ok(AuthStep::Send(response))
    }
}

/// The ext-salt: 'P', the iteration factor (0 = 1024 rounds), the 18-byte salt.
fn parse_ext_salt(data: &[u8]) -> Result<(u8, &[u8]), AuthError> {
    match data {
        [PBKDF2, factor, salt @ ..] if salt.len() == SALT_LEN && *factor <= MAX_ITERATION_FACTOR => Ok((*factor, salt)),
        [PBKDF2, _, salt @ ..] if salt.len() == SALT_LEN => {
            Err(ProtocolError::InvalidValue("parsec iteration factor (at most 3)").into())
        }
        [algorithm, ..] if *algorithm != PBKDF2 && data.len() == 2 + SALT_LEN => Err(AuthError::Unsupported(format!(
            "parsec key derivation {:?} (only 'P', PBKDF2)",
            char::from(*algorithm)
        ))),
        _ => Err(ProtocolError::InvalidValue("parsec ext-salt").into()),
    }
}

/// The ed25519 seed: PBKDF2-HMAC-SHA512(password, salt, 1024 << factor), 32 bytes.
pub fn derive_key(password: &[u8], factor: u8, salt: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, 1024 << factor.min(MAX_ITERATION_FACTOR), &mut key);
    key
}

/// The signature of server scramble || client scramble with the key derived from the password.
pub fn sign(password: &[u8], factor: u8, salt: &[u8], server: &[u8; 32], client: &[u8; 32]) -> [u8; 64] {
    let key = SigningKey::from_bytes(&derive_key(password, factor, salt));
    let mut message = [0u8; 2 * SCRAMBLE_LEN];
    message[..SCRAMBLE_LEN].copy_from_slice(server);
    message[SCRAMBLE_LEN..].copy_from_slice(client);
    key.sign(&message).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, VerifyingKey};

    const SALT: [u8; 18] = *b"saltsaltsaltsalt18";

    fn fixed_random(buf: &mut [u8]) -> Result<(), AuthError> {
        buf.fill(0xc5);
        Ok(())
    }

    fn ext_salt(factor: u8) -> Vec<u8> {
        let mut data = vec![b'P', factor];
        data.extend_from_slice(&SALT);
        data
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn key_derivation_matches_openssl() {
        // `openssl kdf -keylen 32 -kdfopt digest:SHA512 -kdfopt pass:secret
        //  -kdfopt salt:saltsaltsaltsalt18 -kdfopt iter:2048 PBKDF2`: factor 1 is 2048 rounds.
        assert_eq!(
            hex(&derive_key(b"secret", 1, &SALT)),
            "19b28dcb88447c0d381497f6ec7d5c8984db4a431ef40cfdb503195d5adbf3e9"
        );
        // The published PBKDF2-HMAC-SHA512 vector (password, salt, 1 round), same crate call.
        let mut out = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<Sha512>(b"password", b"salt", 1, &mut out);
        assert_eq!(hex(&out[..16]), "867f70cf1ade02cff3752599a3a53dc4");
        assert_ne!(derive_key(b"secret", 0, &SALT), derive_key(b"secret", 1, &SALT));
    }

    #[test]
    fn exchange_signs_both_scrambles() {
        let server: [u8; 32] = core::array::from_fn(|i| i as u8);
        let mut p = Parsec::new(b"secret".to_vec(), fixed_random);
        assert_eq!(p.start(&server).unwrap(), b"", "an empty packet asks for the ext-salt");
        let AuthStep::Send(response) = p.on_more_data(&ext_salt(1)).unwrap() else { panic!("nothing sent") };
        assert_eq!(response.len(), 96);
        assert_eq!(response[..32], [0xc5; 32], "the client scramble comes first");
        let public = SigningKey::from_bytes(&derive_key(b"secret", 1, &SALT)).verifying_key();
        let mut message = server.to_vec();
        message.extend_from_slice(&response[..32]);
        let signature = Signature::from_slice(&response[32..]).unwrap();
        public.verify_strict(&message, &signature).unwrap();
        // Another password, or another factor, gives another key.
        let other = VerifyingKey::from(&SigningKey::from_bytes(&derive_key(b"secret", 0, &SALT)));
        assert!(other.verify_strict(&message, &signature).is_err());
        assert!(p.on_more_data(&ext_salt(1)).is_err(), "the exchange is over");
    }

    #[test]
    fn a_trailing_nul_after_the_scramble_is_ignored_and_a_short_one_refused() {
        let mut server = vec![7u8; 32];
        let mut p = Parsec::new(b"pw".to_vec(), fixed_random);
        server.push(0);
        p.start(&server).unwrap();
        assert_eq!(p.server_scramble, [7; 32]);
        assert!(Parsec::new(b"pw".to_vec(), fixed_random).start(&[7; 20]).is_err());
    }

    #[test]
    fn malformed_ext_salts_are_errors() {
        let mut too_slow = ext_salt(4);
        for bad in [&b""[..], b"P", &ext_salt(0)[..19], &[ext_salt(0), vec![0]].concat(), &ext_salt(255)] {
            let mut p = Parsec::new(b"pw".to_vec(), fixed_random);
            p.start(&[1; 32]).unwrap();
            assert!(matches!(p.on_more_data(bad), Err(AuthError::Protocol(_))), "{bad:?}");
        }
        too_slow[0] = b'S';
        let mut p = Parsec::new(b"pw".to_vec(), fixed_random);
        p.start(&[1; 32]).unwrap();
        assert!(matches!(p.on_more_data(&too_slow), Err(AuthError::Unsupported(_))));
        // Data before start is out of place.
        assert!(Parsec::new(b"pw".to_vec(), fixed_random).on_more_data(&ext_salt(0)).is_err());
    }

    #[test]
    fn a_failing_random_source_is_an_error() {
        fn failing(_: &mut [u8]) -> Result<(), AuthError> {
            Err(AuthError::Client("no entropy".into()))
        }
        let mut p = Parsec::new(b"pw".to_vec(), failing);
        p.start(&[1; 32]).unwrap();
        assert!(p.on_more_data(&ext_salt(0)).is_err());
    }
}
