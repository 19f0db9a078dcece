//! Authentication plugins, one file each: pure objects stepping through their exchange.
//!
//! The connection sends what [`AuthPlugin::start`] returns (inside HandshakeResponse41, or after
//! an AuthSwitchRequest), then hands every AuthMoreData payload to [`AuthPlugin::on_more_data`]
//! until the server ends the exchange with OK_Packet or ERR_Packet.

pub mod caching_sha2_password;
pub mod clear_password;
pub mod context;
pub mod ed25519;
mod error;
pub mod native_password;
pub mod parsec;
mod rsa_password;
pub mod sha256_password;

pub use context::AuthContext;
pub use error::AuthError;
pub use rsa_password::ServerPublicKey;

use crate::protocol::error::ProtocolError;

/// What a plugin does with an AuthMoreData packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// Send these bytes to the server as the next packet.
    Send(Vec<u8>),
    /// Send nothing; the server speaks next (OK_Packet, ERR_Packet or more data).
    Wait,
}

/// One side of an authentication exchange (MySQL's "client authentication plugin").
pub trait AuthPlugin {
    /// The plugin's name on the wire, as in AuthSwitchRequest and HandshakeResponse41.
    fn name(&self) -> &'static str;
    /// The first response, to the nonce of the handshake or of an AuthSwitchRequest.
    fn start(&mut self, nonce: &[u8]) -> Result<Vec<u8>, AuthError>;
    /// The reply to an AuthMoreData packet (`data` is its payload after the 0x01 header).
    fn on_more_data(&mut self, data: &[u8]) -> Result<AuthStep, AuthError>;
}

/// Fills a buffer with cryptographically secure random bytes (RSA padding, parsec's client scramble).
/// The host's source comes in through [`AuthContext::random`]: the protocol core reads none itself.
pub type FillRandom = fn(&mut [u8]) -> Result<(), AuthError>;

/// The plugin the server names, for `password` in `context`; an unknown name is NotSupported
/// and named, and so is mysql_clear_password where it would expose the password.
pub fn plugin_for(name: &str, password: &str, context: &AuthContext) -> Result<Box<dyn AuthPlugin>, AuthError> {
    let password = password.as_bytes().to_vec();
    Ok(match name {
        native_password::NAME => Box::new(native_password::NativePassword::new(password)),
        ed25519::NAME => Box::new(ed25519::ClientEd25519::new(password)),
        parsec::NAME => Box::new(parsec::Parsec::new(password, context.random)),
        caching_sha2_password::NAME => Box::new(caching_sha2_password::CachingSha2Password::new(
            password,
            context.random,
            context.password_protection(),
        )),
        sha256_password::NAME => {
            Box::new(sha256_password::Sha256Password::new(password, context.random, context.password_protection()))
        }
        clear_password::NAME if context.cleartext_allowed() => Box::new(clear_password::ClearPassword::new(password)),
        clear_password::NAME => {
            return Err(AuthError::Unsupported(
                "authentication plugin 'mysql_clear_password' sends the password in clear text: \
                 it needs ssl, or allow_cleartext_password set"
                    .into(),
            ))
        }
        other => return Err(AuthError::Unsupported(format!("authentication plugin '{}'", shown_name(other)))),
    })
}

/// Longest part of a plugin name the server sent that is quoted back in an error.
const MAX_SHOWN_NAME: usize = 64;

/// A plugin name from the server as an error quotes it: control characters escaped, cut short,
/// so a hostile server cannot put terminal escapes or a megabyte line into the caller's logs.
fn shown_name(name: &str) -> String {
    let mut shown: String = name.chars().take(MAX_SHOWN_NAME).flat_map(char::escape_debug).collect();
    if name.chars().nth(MAX_SHOWN_NAME).is_some() {
        shown.push_str("...");
    }
    shown
}

/// The password as the plugins that send it itself do: NUL-terminated, so one containing a NUL
/// is refused (the server would read a shorter password).
pub(crate) fn with_nul(password: &[u8], plugin: &str) -> Result<Vec<u8>, AuthError> {
    sendable_password(password, plugin)?;
    let mut bytes = Vec::with_capacity(password.len() + 1);
    bytes.extend_from_slice(password);
    bytes.push(0);
    Ok(bytes)
}

/// Refuses a password that `plugin` would have to send NUL-terminated (in clear inside TLS, or
/// RSA-encrypted) when it contains a NUL. Plugins that hash the password take any byte.
pub(crate) fn sendable_password(password: &[u8], plugin: &str) -> Result<(), AuthError> {
    if password.contains(&0) {
        return Err(AuthError::Caller(format!(
            "the password contains a NUL byte, which {plugin} cannot send: it sends the password \
             NUL-terminated (mysql_native_password, client_ed25519 and parsec take any byte)"
        )));
    }
    Ok(())
}

/// The refusal of full authentication over plain TCP when the caller gave no key and did not
/// allow asking the server for one (MySQL's client refuses the same way).
pub(crate) fn no_public_key(plugin: &str) -> AuthError {
    AuthError::Unsupported(format!(
        "authentication plugin '{plugin}' needs the password itself, which over plain TCP is \
         encrypted with the server's RSA public key: use ssl, give server_public_key, or set \
         get_server_public_key (MySQL's get-server-public-key) to let the server send its key, \
         which a man in the middle could replace with its own"
    ))
}

/// The error for an AuthMoreData packet a plugin does not expect at this point.
pub(crate) fn unexpected_more_data(context: &'static str) -> AuthError {
    ProtocolError::UnexpectedPacket { context, header: 0x01 }.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_by_name() {
        let plain = AuthContext::default();
        for name in ["mysql_native_password", "client_ed25519", "parsec", "caching_sha2_password", "sha256_password"] {
            assert_eq!(plugin_for(name, "pw", &plain).map(|p| p.name()).ok(), Some(name));
        }
        match plugin_for("auth_gssapi_client", "pw", &plain).err() {
            Some(AuthError::Unsupported(m)) => assert!(m.contains("auth_gssapi_client"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_plugin_names_from_the_server_are_escaped_and_cut() {
        let long = "x".repeat(1 << 20);
        for (name, shown) in [("evil\x1b[2J\x07", "'evil\\u{1b}[2J\\u{7}'"), (long.as_str(), "xxx...'")] {
            match plugin_for(name, "pw", &AuthContext::default()).err() {
                Some(AuthError::Unsupported(m)) => {
                    assert!(m.contains(shown) && m.len() < 200, "{m}");
                    assert!(!m.chars().any(|c| c.is_control()), "{m}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn clear_password_only_over_tls_or_when_allowed() {
        match plugin_for("mysql_clear_password", "Sekrit-pw", &AuthContext::default()).err() {
            Some(AuthError::Unsupported(m)) => {
                assert!(m.contains("mysql_clear_password") && m.contains("allow_cleartext_password"), "{m}");
                assert!(!m.contains("Sekrit-pw"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        let tls = AuthContext { secure_transport: true, ..AuthContext::default() };
        let allowed = AuthContext { allow_cleartext_password: true, ..AuthContext::default() };
        for context in [tls, allowed] {
            let mut p = plugin_for("mysql_clear_password", "pw", &context).unwrap();
            assert_eq!(p.name(), "mysql_clear_password");
            assert_eq!(p.start(b"").unwrap(), b"pw\0");
        }
    }

    #[test]
    fn a_nul_in_the_password_is_refused_only_where_it_travels_nul_terminated() {
        // 32 bytes, as client_ed25519 and parsec get them after a switch.
        let nonce = b"0123456789abcdef0123456789abcdef";
        let tls = AuthContext { secure_transport: true, allow_cleartext_password: true, ..AuthContext::default() };
        // Hashed or signed: any byte.
        for name in ["mysql_native_password", "client_ed25519", "parsec", "caching_sha2_password"] {
            let mut p = plugin_for(name, "pa\0ss", &tls).unwrap();
            assert!(p.start(nonce).is_ok(), "{name}");
        }
        // Sent itself: refused, and the error does not show it.
        let mut clear = plugin_for("mysql_clear_password", "Sekrit\0pw", &tls).unwrap();
        let mut sha256 = plugin_for("sha256_password", "Sekrit\0pw", &tls).unwrap();
        for e in [clear.start(nonce).unwrap_err(), sha256.start(nonce).unwrap_err()] {
            match e {
                AuthError::Caller(m) => assert!(m.contains("NUL") && !m.contains("Sekrit"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        let mut caching = plugin_for("caching_sha2_password", "Sekrit\0pw", &tls).unwrap();
        caching.start(nonce).unwrap();
        assert!(matches!(caching.on_more_data(&[0x04]), Err(AuthError::Caller(_))));
    }

    #[test]
    fn random_bytes_come_only_from_the_context() {
        // Without a source from the runtime, a plugin that needs random bytes fails instead of
        // reading any itself.
        let mut parsec = plugin_for("parsec", "pw", &AuthContext::default()).unwrap();
        parsec.start(&[7; 32]).unwrap();
        let ext_salt = [b'P', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
        assert!(matches!(parsec.on_more_data(&ext_salt), Err(AuthError::Client(_))));
    }
}
