//! What the connection knows that decides how a plugin may send the password itself.

use super::rsa_password::ServerPublicKey;
use super::{AuthError, FillRandom};

/// The circumstances of one authentication exchange, fixed once TLS is (or is not) set up.
#[derive(Debug, Clone)]
pub struct AuthContext {
    /// TLS is established: a password may travel in clear text inside it (MySQL's "secure connection").
    pub secure_transport: bool,
    /// The caller lets mysql_clear_password send the password without TLS (MySQL's
    /// `enable-cleartext-plugin`).
    pub allow_cleartext_password: bool,
    /// The caller lets caching_sha2_password and sha256_password ask the server for its RSA public
    /// key over plain TCP (MySQL's `get-server-public-key`).
    pub get_server_public_key: bool,
    /// The server's RSA public key as the caller gave it (MySQL's `--server-public-key-path`):
    /// used instead of asking the server for its key.
    pub server_public_key: Option<ServerPublicKey>,
    /// The host's random bytes, given by the client's runtime; by default there are none, and a
    /// plugin that needs them fails.
    pub random: FillRandom,
}

impl Default for AuthContext {
    fn default() -> Self {
        AuthContext {
            secure_transport: false,
            allow_cleartext_password: false,
            get_server_public_key: false,
            server_public_key: None,
            random: no_random_source,
        }
    }
}

fn no_random_source(_: &mut [u8]) -> Result<(), AuthError> {
    Err(AuthError::Client("no random source: the runtime gave none".into()))
}

/// How caching_sha2_password and sha256_password send the password when the server wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProtection {
    /// Inside TLS: the password itself, NUL-terminated, as MySQL's client sends it.
    Tls,
    /// RSA-OAEP under the key the caller gave; nothing is asked of the server.
    CallerKey(ServerPublicKey),
    /// RSA-OAEP under the key the server sends when asked (the caller allowed asking).
    RequestServerKey,
    /// No TLS, no key from the caller, and no consent to ask the server: the password cannot be
    /// sent, and full authentication fails without a byte of it, or a key request, going out.
    Refuse,
}

impl AuthContext {
    /// TLS wins over RSA (the key is then not needed), and a caller's key over asking the server,
    /// which is done only when the caller allowed it.
    pub fn password_protection(&self) -> PasswordProtection {
        match (&self.server_public_key, self.secure_transport) {
            (_, true) => PasswordProtection::Tls,
            (Some(key), false) => PasswordProtection::CallerKey(key.clone()),
            (None, false) if self.get_server_public_key => PasswordProtection::RequestServerKey,
            (None, false) => PasswordProtection::Refuse,
        }
    }

    /// Whether mysql_clear_password may run: over TLS, or when the caller allowed it.
    pub fn cleartext_allowed(&self) -> bool {
        self.secure_transport || self.allow_cleartext_password
    }
}

#[cfg(test)]
mod tests {
    use super::super::rsa_password::tests::PUBLIC_PEM;
    use super::*;

    #[test]
    fn tls_then_caller_key_then_request_if_allowed() {
        let key = ServerPublicKey::from_pem(PUBLIC_PEM).unwrap();
        let with_key = AuthContext { server_public_key: Some(key.clone()), ..AuthContext::default() };
        assert_eq!(with_key.password_protection(), PasswordProtection::CallerKey(key.clone()));
        let tls = AuthContext { secure_transport: true, ..with_key.clone() };
        assert_eq!(tls.password_protection(), PasswordProtection::Tls);
        let asking = AuthContext { get_server_public_key: true, ..AuthContext::default() };
        assert_eq!(asking.password_protection(), PasswordProtection::RequestServerKey);
        let asking_with_key = AuthContext { get_server_public_key: true, ..with_key };
        assert_eq!(asking_with_key.password_protection(), PasswordProtection::CallerKey(key));
        let asking_over_tls = AuthContext { secure_transport: true, ..asking };
        assert_eq!(asking_over_tls.password_protection(), PasswordProtection::Tls);
        assert_eq!(AuthContext::default().password_protection(), PasswordProtection::Refuse);
    }

    #[test]
    fn cleartext_needs_tls_or_consent() {
        assert!(!AuthContext::default().cleartext_allowed());
        assert!(AuthContext { secure_transport: true, ..AuthContext::default() }.cleartext_allowed());
        assert!(AuthContext { allow_cleartext_password: true, ..AuthContext::default() }.cleartext_allowed());
    }
}
