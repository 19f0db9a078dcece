//! mysql_clear_password: the password itself, NUL-terminated. The server needs it in clear text
//! (LDAP, PAM and the like), so it is only run over TLS or when the caller allows it; that check
//! is made before the plugin exists (see [`plugin_for`](super::plugin_for)).

use super::AuthError;
use super::{unexpected_more_data, with_nul, AuthPlugin, AuthStep};

/// The plugin's name on the wire.
pub const NAME: &str = "mysql_clear_password";

/// mysql_clear_password: one packet, no further exchange.
pub struct ClearPassword {
    password: Vec<u8>,
}

impl ClearPassword {
    pub fn new(password: Vec<u8>) -> ClearPassword {
        ClearPassword { password }
    }
}

impl AuthPlugin for ClearPassword {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, _nonce: &[u8]) -> Result<Vec<u8>, AuthError> {
        with_nul(&self.password, NAME)
    }

    fn on_more_data(&mut self, _data: &[u8]) -> Result<AuthStep, AuthError> {
        Err(unexpected_more_data("mysql_clear_password exchange"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_and_nul_whatever_the_nonce() {
        let mut p = ClearPassword::new("pässwörd".as_bytes().to_vec());
        assert_eq!(p.start(b"").unwrap(), b"p\xc3\xa4ssw\xc3\xb6rd\0");
        assert_eq!(p.start(b"01234567890123456789\0").unwrap(), b"p\xc3\xa4ssw\xc3\xb6rd\0");
        assert_eq!(ClearPassword::new(Vec::new()).start(b"").unwrap(), b"\0");
        assert!(p.on_more_data(b"").is_err());
        assert!(matches!(ClearPassword::new(b"a\0b".to_vec()).start(b""), Err(AuthError::Caller(_))));
    }
}
