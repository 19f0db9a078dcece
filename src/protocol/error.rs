//! Errors of the protocol core: bytes from the server that do not follow the protocol. The client
//! maps them to the PEP 249 classes at one edge (`crate::error`).

use std::fmt;

use super::auth::AuthError;
use super::err_packet::ErrPacket;

/// Bytes from the server that do not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// A packet ended before a field it must contain.
    Truncated(&'static str),
    /// A packet of a kind that cannot come at this point of the exchange.
    UnexpectedPacket { context: &'static str, header: u8 },
    /// The sequence id of a packet is not the one expected.
    SequenceMismatch { expected: u8, got: u8 },
    /// A field holds a value outside its domain.
    InvalidValue(&'static str),
    /// The server speaks a protocol version other than 10.
    UnsupportedProtocolVersion(u8),
    /// The server does not offer a capability the client requires.
    MissingCapability(&'static str),
    /// A compressed envelope that does not inflate to what it announces.
    BadCompressedFrame,
    /// A logical packet longer than the client accepts (its max_allowed_packet, in bytes).
    PacketTooLarge { limit: usize },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Truncated(what) => write!(f, "malformed packet: {what} is truncated"),
            ProtocolError::UnexpectedPacket { context, header } => {
                write!(f, "unexpected packet 0x{header:02x} while reading {context}")
            }
            ProtocolError::SequenceMismatch { expected, got } => {
                write!(f, "packet sequence number wrong: expected {expected}, got {got}")
            }
            ProtocolError::InvalidValue(what) => write!(f, "malformed packet: invalid {what}"),
            ProtocolError::UnsupportedProtocolVersion(v) => {
                write!(f, "unsupported protocol version {v}")
            }
            ProtocolError::MissingCapability(what) => write!(f, "server does not support {what}"),
            ProtocolError::BadCompressedFrame => write!(f, "corrupted compressed packet"),
            ProtocolError::PacketTooLarge { limit } => {
                write!(f, "Got packet bigger than the client's max_allowed_packet ({limit} bytes)")
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// What a caller handed the protocol core that it cannot put on the wire: a value with no MySQL
/// literal or no representation in the connection's charset, a format string that does not match
/// its parameters, a character set this client cannot serve. Each keeps the message the caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// A value that has no literal or no encoding (DataError).
    Value(String),
    /// A `%` format string and its parameters do not match (ProgrammingError, as PyMySQL's
    /// TypeError and KeyError surface).
    Format(String),
    /// A character set MySQL does not know (ProgrammingError).
    UnknownCharset(String),
    /// A character set this client cannot serve safely (NotSupportedError).
    UnsupportedCharset(String),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Value(m)
            | InputError::Format(m)
            | InputError::UnknownCharset(m)
            | InputError::UnsupportedCharset(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for InputError {}

/// Why the Connection Phase (handshake and authentication) ended without a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionPhaseError {
    /// The server's bytes break the protocol.
    Protocol(ProtocolError),
    /// The server refused the client with an ERR_Packet.
    Server(ErrPacket),
    /// The authentication plugin could not go on.
    Auth(AuthError),
    /// TLS was asked for and the server does not offer it: nothing was sent in clear.
    TlsNotOffered,
    /// What the caller gave cannot be sent in the handshake (a NUL in a NUL-terminated field).
    Caller(String),
    /// The driving loop or the server asked for what this client cannot do at this point.
    Interface(String),
}

impl fmt::Display for ConnectionPhaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionPhaseError::Protocol(e) => write!(f, "{e}"),
            ConnectionPhaseError::Server(e) => write!(f, "({}, '{}') {}", e.code, e.sqlstate, e.message),
            ConnectionPhaseError::Auth(e) => write!(f, "{e}"),
            ConnectionPhaseError::TlsNotOffered => f.write_str("ssl was requested but the server does not offer TLS"),
            ConnectionPhaseError::Caller(why) | ConnectionPhaseError::Interface(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ConnectionPhaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectionPhaseError::Protocol(e) => Some(e),
            ConnectionPhaseError::Auth(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtocolError> for ConnectionPhaseError {
    fn from(e: ProtocolError) -> Self {
        ConnectionPhaseError::Protocol(e)
    }
}

impl From<AuthError> for ConnectionPhaseError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Protocol(e) => ConnectionPhaseError::Protocol(e),
            e => ConnectionPhaseError::Auth(e),
        }
    }
}

impl From<ErrPacket> for ConnectionPhaseError {
    fn from(e: ErrPacket) -> Self {
        ConnectionPhaseError::Server(e)
    }
}
