//! Errors of the authentication plugins, mapped to the PEP 249 classes at the client edge
//! (`crate::error`), where the plugin error stays reachable as the cause.

use std::fmt;

use crate::protocol::error::ProtocolError;

/// Why an authentication plugin could not go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The server's AuthMoreData or key does not follow the plugin's exchange.
    Protocol(ProtocolError),
    /// A plugin, or a step of one, this driver does not take (NotSupported).
    Unsupported(String),
    /// What the caller gave cannot be used: a password the plugin cannot send, a key that is not
    /// one (ProgrammingError).
    Caller(String),
    /// The client side failed: no random bytes, the encryption refused (InterfaceError).
    Client(String),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Protocol(e) => write!(f, "{e}"),
            AuthError::Unsupported(what) => write!(f, "not supported: {what}"),
            AuthError::Caller(why) | AuthError::Client(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthError::Protocol(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtocolError> for AuthError {
    fn from(e: ProtocolError) -> Self {
        AuthError::Protocol(e)
    }
}
