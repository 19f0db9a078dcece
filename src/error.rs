//! Errors of the driver: what went wrong, with the MySQL error code and SQLSTATE where there is one.

use std::fmt;

pub use crate::protocol::auth::AuthError;
use crate::protocol::err_packet::ErrPacket;
pub use crate::protocol::error::{ConnectionPhaseError, InputError, ProtocolError};
use crate::protocol::framing::FramingError;
use crate::protocol::text_value::CellError;

/// The PEP 249 exception classes that cymysql raises, used to classify every error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Interface,
    Database,
    Data,
    Operational,
    Integrity,
    Internal,
    Programming,
    NotSupported,
}

/// Client error codes (`CR_*` in MySQL's errmsg.h) for failures the server did not report.
pub mod client_code {
    pub const CR_UNKNOWN_ERROR: u16 = 2000;
    pub const CR_CONN_HOST_ERROR: u16 = 2003;
    pub const CR_OUT_OF_MEMORY: u16 = 2008;
    pub const CR_UNKNOWN_HOST: u16 = 2005;
    pub const CR_SERVER_GONE_ERROR: u16 = 2006;
    pub const CR_SERVER_LOST: u16 = 2013;
    pub const CR_COMMANDS_OUT_OF_SYNC: u16 = 2014;
    pub const CR_NET_PACKET_TOO_LARGE: u16 = 2020;
    pub const CR_SSL_CONNECTION_ERROR: u16 = 2026;
    pub const CR_MALFORMED_PACKET: u16 = 2027;
    pub const CR_NOT_IMPLEMENTED: u16 = 2054;
    pub const CR_AUTH_PLUGIN_CANNOT_LOAD: u16 = 2059;
}

/// Server error codes (`ER_*`) the client itself reports.
pub mod server_code {
    /// "Query execution was interrupted": what a statement stopped by `KILL QUERY` ends with.
    pub const ER_QUERY_INTERRUPTED: u16 = 1317;
    /// "Unknown command": what a Galera node that is not ready (not synced, no quorum) answers.
    pub const ER_UNKNOWN_COM_ERROR: u16 = 1047;
    /// "Lock wait timeout exceeded; try restarting transaction".
    pub const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
    /// "Deadlock found when trying to get lock; try restarting transaction": also a Galera
    /// certification failure at COMMIT.
    pub const ER_LOCK_DEADLOCK: u16 = 1213;
}

/// Which deadline passed: each timeout option, and the pool's waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// `connect_timeout`: TCP connect, TLS, handshake, authentication and the statements run
    /// right after (sql_mode, init_command, autocommit).
    Connect,
    /// `read_timeout`: the server sent nothing for that long while a reply was due.
    Read,
    /// `write_timeout`: the server took no bytes for that long while a command was being sent.
    Write,
    /// `statement_timeout`: the statement ran longer and was stopped with `KILL QUERY`.
    Statement,
    /// A pool's `acquire_timeout`.
    PoolAcquire,
    /// Every connection of a pool is lent out and nothing running could return one.
    PoolExhausted,
}

impl Timeout {
    /// The option that expired, as cymysql and PyMySQL name it.
    pub fn option_name(self) -> &'static str {
        match self {
            Timeout::Connect => "connect_timeout",
            Timeout::Read => "read_timeout",
            Timeout::Write => "write_timeout",
            Timeout::Statement => "statement_timeout",
            Timeout::PoolAcquire => "pool acquire_timeout",
            Timeout::PoolExhausted => "pool exhausted: every connection is lent out",
        }
    }
}

/// Every failure the driver reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An ERR_Packet sent by the server.
    Server { code: u16, sqlstate: String, message: String },
    /// The server's bytes break the protocol; the connection is marked broken.
    Protocol(ProtocolError),
    /// An authentication plugin could not go on (its protocol errors arrive as `Protocol`).
    Auth(AuthError),
    /// The TCP connection could not be opened.
    Connect { host: String, port: u16, reason: String },
    /// The host name did not resolve.
    UnknownHost(String),
    /// The connection broke while a command was in flight.
    ConnectionLost(String),
    /// TLS could not be set up: the server offers none, or the handshake or its certificate failed.
    Tls(String),
    /// The connection was marked broken by an earlier failure or a dropped command.
    Broken,
    /// The connection broke inside a transaction, which the server rolled back: nothing of it
    /// is replayed, and commands fail with this until the caller rolls back.
    TransactionLost,
    /// The connection was closed by the caller.
    Closed,
    /// The cursor was closed by the caller.
    CursorClosed,
    /// A deadline passed. After `Read`, `Write` and `Connect` the connection is broken; after
    /// `Statement` the server interrupted the statement and the connection is usable.
    Timeout(Timeout),
    /// The operation waits on nothing that can ever complete (no socket, no timer): waiting
    /// would never end, e.g. a pool without acquire_timeout whose connections are all lent out
    /// to the caller that is now blocked.
    WaitsOnNothing,
    /// A feature the server or this build does not provide.
    NotSupported(String),
    /// The caller misused the API (wrong parameter count, unknown charset, ...).
    Programming(String),
    /// `scroll` would leave the result set (PyMySQL's `IndexError("out of range")`): a programming
    /// error; the cursor stays where it was.
    OutOfRange { target: i64, rows: u64 },
    /// A value that cannot be represented without loss.
    Data(String),
    /// A misuse of the interface other than the above.
    Interface(String),
    /// A result set would hold more decoded bytes than `max_result_bytes` allows; the rest of it
    /// was read and discarded, and the connection stays usable.
    ResultTooLarge { limit: u64 },
}

impl Error {
    /// The PEP 249 class, following cymysql's mapping of server error codes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Server { code, .. } => kind_of_server_code(*code),
            Error::Protocol(_) => ErrorKind::Operational,
            Error::Auth(AuthError::Protocol(_)) => ErrorKind::Operational,
            Error::Auth(AuthError::Unsupported(_)) => ErrorKind::NotSupported,
            Error::Auth(AuthError::Caller(_)) => ErrorKind::Programming,
            Error::Auth(AuthError::Client(_)) => ErrorKind::Interface,
            Error::Connect { .. } | Error::UnknownHost(_) => ErrorKind::Operational,
            Error::ConnectionLost(_) | Error::Broken | Error::Timeout(_) => ErrorKind::Operational,
            Error::TransactionLost => ErrorKind::Operational,
            Error::WaitsOnNothing => ErrorKind::Interface,
            Error::Tls(_) | Error::ResultTooLarge { .. } => ErrorKind::Operational,
            Error::Closed | Error::CursorClosed | Error::Interface(_) => ErrorKind::Interface,
            Error::NotSupported(_) => ErrorKind::NotSupported,
            Error::Programming(_) | Error::OutOfRange { .. } => ErrorKind::Programming,
            Error::Data(_) => ErrorKind::Data,
        }
    }

    /// The MySQL error code: the server's, or a client `CR_*` code.
    pub fn code(&self) -> Option<u16> {
        use client_code::*;
        match self {
            Error::Server { code, .. } => Some(*code),
            Error::Protocol(ProtocolError::SequenceMismatch { .. }) => Some(CR_COMMANDS_OUT_OF_SYNC),
            Error::Protocol(ProtocolError::PacketTooLarge { .. }) => Some(CR_NET_PACKET_TOO_LARGE),
            Error::Protocol(_) => Some(CR_MALFORMED_PACKET),
            Error::Auth(AuthError::Protocol(e)) => Error::Protocol(e.clone()).code(),
            Error::Auth(AuthError::Unsupported(_)) => Some(CR_NOT_IMPLEMENTED),
            Error::Auth(AuthError::Caller(_) | AuthError::Client(_)) => None,
            Error::Connect { .. } => Some(CR_CONN_HOST_ERROR),
            Error::UnknownHost(_) => Some(CR_UNKNOWN_HOST),
            Error::ConnectionLost(_) | Error::TransactionLost => Some(CR_SERVER_LOST),
            Error::Tls(_) => Some(CR_SSL_CONNECTION_ERROR),
            Error::Broken => Some(CR_SERVER_GONE_ERROR),
            // As PyMySQL: a failure anywhere in connect is "can't connect", a read that times out
            // is a lost connection, a write that does is a server gone away.
            Error::Timeout(Timeout::Connect) => Some(CR_CONN_HOST_ERROR),
            Error::Timeout(Timeout::Read) => Some(CR_SERVER_LOST),
            Error::Timeout(Timeout::Write) => Some(CR_SERVER_GONE_ERROR),
            Error::Timeout(Timeout::Statement) => Some(server_code::ER_QUERY_INTERRUPTED),
            Error::Timeout(Timeout::PoolAcquire | Timeout::PoolExhausted) => None,
            Error::WaitsOnNothing => None,
            Error::NotSupported(_) => Some(CR_NOT_IMPLEMENTED),
            Error::ResultTooLarge { .. } => Some(CR_OUT_OF_MEMORY),
            Error::Closed | Error::CursorClosed => None,
            Error::Programming(_) | Error::Data(_) | Error::Interface(_) => None,
            Error::OutOfRange { .. } => None,
        }
    }

    /// The error in words for a record that carries [`code`](Self::code) and
    /// [`sqlstate`](Self::sqlstate) beside it (the WIT `error`): a server error's own message,
    /// without the `(code, 'state') ` that [`Display`](fmt::Display) puts first, as PyMySQL does.
    pub fn message(&self) -> String {
        match self {
            Error::Server { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The SQLSTATE the server sent with its error.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Server { sqlstate, .. } if !sqlstate.is_empty() => Some(sqlstate),
            // The server's own SQLSTATE for ER_QUERY_INTERRUPTED.
            Error::Timeout(Timeout::Statement) => Some("70100"),
            // Connector/J's SQLSTATE for a connection that failed during a transaction.
            Error::TransactionLost => Some("08007"),
            _ => None,
        }
    }

    /// Whether the same work may succeed if it is run again from the start of its transaction
    /// (Connector/J's transient class): a deadlock or Galera certification conflict (1213), a lock
    /// wait timeout (1205), a Galera node not ready (1047), SQLSTATE 40001 (serialization failure)
    /// or 08xxx (connection exception), and the client's own connection failures (2003 can't
    /// connect, 2006 gone away, 2013 lost). It says nothing about whether the failed work was
    /// applied: a connection lost during COMMIT may have committed, which is why
    /// [`crate::client::transaction`] never re-runs a transaction whose COMMIT got no answer.
    pub fn is_retryable(&self) -> bool {
        use server_code::*;
        if let Error::Server { code, sqlstate, .. } = self {
            return matches!(*code, ER_LOCK_DEADLOCK | ER_LOCK_WAIT_TIMEOUT | ER_UNKNOWN_COM_ERROR)
                || sqlstate.starts_with("08")
                || sqlstate == "40001";
        }
        matches!(
            self,
            Error::Connect { .. }
                | Error::ConnectionLost(_)
                | Error::Broken
                | Error::TransactionLost
                | Error::Timeout(Timeout::Connect | Timeout::Read | Timeout::Write)
        )
    }

    /// Whether the connection that produced this error can no longer carry commands.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::Protocol(_)
                | Error::Auth(AuthError::Protocol(_))
                | Error::ConnectionLost(_)
                | Error::Broken
                | Error::TransactionLost
                | Error::Closed
                | Error::Timeout(Timeout::Connect | Timeout::Read | Timeout::Write)
        )
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}

impl From<ErrPacket> for Error {
    fn from(e: ErrPacket) -> Error {
        Error::Server { code: e.code, sqlstate: e.sqlstate, message: e.message }
    }
}

impl From<FramingError> for Error {
    fn from(e: FramingError) -> Error {
        match e {
            FramingError::Protocol(e) => Error::Protocol(e),
            FramingError::Server(e) => e.into(),
        }
    }
}

impl From<ConnectionPhaseError> for Error {
    fn from(e: ConnectionPhaseError) -> Error {
        match e {
            ConnectionPhaseError::Protocol(e) => Error::Protocol(e),
            ConnectionPhaseError::Server(e) => e.into(),
            ConnectionPhaseError::Auth(e) => e.into(),
            ConnectionPhaseError::TlsNotOffered => Error::Tls(ConnectionPhaseError::TlsNotOffered.to_string()),
            ConnectionPhaseError::Caller(why) => Error::Programming(why),
            ConnectionPhaseError::Interface(why) => Error::Interface(why),
        }
    }
}

impl From<CellError> for Error {
    fn from(e: CellError) -> Self {
        match e {
            CellError::Malformed(e) => Error::Protocol(e),
            CellError::OutOfDomain(message) => Error::Data(message),
        }
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        match e {
            InputError::Value(m) => Error::Data(m),
            InputError::Format(m) | InputError::UnknownCharset(m) => Error::Programming(m),
            InputError::UnsupportedCharset(m) => Error::NotSupported(m),
        }
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        match e {
            // One variant for the server breaking the protocol, wherever it does.
            AuthError::Protocol(e) => Error::Protocol(e),
            e => Error::Auth(e),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Server { code, sqlstate, message } => write!(f, "({code}, '{sqlstate}') {message}"),
            Error::Protocol(e) => write!(f, "{e}"),
            Error::Auth(e) => write!(f, "{e}"),
            Error::Connect { host, port, reason } => {
                write!(f, "Can't connect to MySQL server on '{host}:{port}' ({reason})")
            }
            Error::UnknownHost(host) => write!(f, "Unknown MySQL server host '{host}'"),
            Error::ConnectionLost(why) => write!(f, "Lost connection to MySQL server ({why})"),
            Error::Tls(why) => write!(f, "SSL connection error: {why}"),
            Error::Broken => write!(f, "MySQL server has gone away (connection is broken)"),
            Error::TransactionLost => f.write_str(
                "Lost connection to MySQL server inside a transaction, which the server rolled back; \
                 nothing was replayed: roll back, then run the transaction again",
            ),
            Error::Closed => write!(f, "connection already closed"),
            Error::CursorClosed => write!(f, "cursor closed"),
            Error::Timeout(Timeout::Read) => {
                write!(f, "Lost connection to MySQL server during query (read_timeout expired)")
            }
            Error::Timeout(Timeout::Write) => write!(f, "MySQL server has gone away (write_timeout expired)"),
            Error::Timeout(Timeout::Connect) => write!(f, "Can't connect to MySQL server (connect_timeout expired)"),
            Error::Timeout(Timeout::Statement) => {
                write!(f, "Query execution was interrupted (statement_timeout expired; KILL QUERY sent)")
            }
            Error::Timeout(t) => write!(f, "timed out: {}", t.option_name()),
            Error::WaitsOnNothing => f.write_str("the operation waits on nothing that can complete"),
            Error::NotSupported(what) => write!(f, "not supported: {what}"),
            Error::Programming(what) | Error::Data(what) | Error::Interface(what) => f.write_str(what),
            Error::OutOfRange { target, rows } => {
                write!(f, "out of range: row {target} of a result set of {rows} rows")
            }
            Error::ResultTooLarge { limit } => write!(
                f,
                "MySQL client ran out of memory: the result set holds more than max_result_bytes ({limit} bytes); \
                 it was discarded. Fetch it in parts with an unbuffered cursor (ss_cursor) and fetchmany, \
                 or raise max_result_bytes"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Protocol(e) => Some(e),
            Error::Auth(e) => Some(e),
            _ => None,
        }
    }
}

/// cymysql's err.py table (shared with PyMySQL), defaulting like it: codes below 1000 are
/// internal, others operational.
fn kind_of_server_code(code: u16) -> ErrorKind {
    match code {
        1265 | 1263 | 1264 | 1230 | 1171 | 1406 | 1441 | 1366 | 1367 => ErrorKind::Data,
        1062 | 1216 | 1452 | 1217 | 1451 | 1215 | 1048 | 1557 | 1586 | 4025 => ErrorKind::Integrity,
        1007 | 1149 | 1064 | 1146 | 1102 | 1103 | 1110 | 1111 | 1112 | 1113 | 1179 | 1166 | 1054 | 1060 | 1061
        | 1068 | 1091 | 1050 | 1051 | 1136 | 1109 | 1305 => ErrorKind::Programming,
        1196 | 1235 | 1289 | 1286 => ErrorKind::NotSupported,
        c if c < 1000 => ErrorKind::Internal,
        _ => ErrorKind::Operational,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_codes_map_to_cymysql_classes() {
        let server = |code| Error::Server { code, sqlstate: "HY000".into(), message: String::new() };
        assert_eq!(server(1062).kind(), ErrorKind::Integrity);
        assert_eq!(server(1064).kind(), ErrorKind::Programming);
        assert_eq!(server(1146).kind(), ErrorKind::Programming);
        assert_eq!(server(1406).kind(), ErrorKind::Data);
        assert_eq!(server(1045).kind(), ErrorKind::Operational);
        assert_eq!(server(1049).kind(), ErrorKind::Operational);
        assert_eq!(server(1235).kind(), ErrorKind::NotSupported);
        assert_eq!(server(999).kind(), ErrorKind::Internal);
        assert_eq!(server(1045).code(), Some(1045));
        assert_eq!(server(1045).sqlstate(), Some("HY000"));
    }

    #[test]
    fn client_failures_carry_cr_codes() {
        assert_eq!(Error::ConnectionLost("eof".into()).code(), Some(2013));
        assert_eq!(Error::Broken.code(), Some(2006));
        assert_eq!(Error::Closed.kind(), ErrorKind::Interface);
        assert!(Error::Broken.is_fatal());
    }

    #[test]
    fn transient_failures_are_retryable_and_others_are_not() {
        let server = |code, sqlstate: &str| Error::Server { code, sqlstate: sqlstate.into(), message: String::new() };
        for e in [
            server(1213, "40001"),
            server(1205, "HY000"),
            server(1047, "08S01"),
            server(1047, "HY000"),
            server(4000, "08004"),
            server(1180, "40001"),
            Error::ConnectionLost("eof".into()),
            Error::Broken,
            Error::Timeout(Timeout::Read),
            Error::Connect { host: "h".into(), port: 1, reason: "refused".into() },
        ] {
            assert!(e.is_retryable(), "{e:?}");
        }
        for e in [
            server(1062, "23000"),
            server(1064, "42000"),
            server(1045, "28000"),
            server(1317, "70100"),
            Error::Timeout(Timeout::Statement),
            Error::Timeout(Timeout::PoolAcquire),
            Error::Closed,
            Error::UnknownHost("nowhere".into()),
            Error::Programming("p".into()),
        ] {
            assert!(!e.is_retryable(), "{e:?}");
        }
    }

    #[test]
    fn memory_limits_have_their_client_codes() {
        let e = Error::ResultTooLarge { limit: 1 << 20 };
        assert_eq!((e.kind(), e.code(), e.is_fatal()), (ErrorKind::Operational, Some(2008), false));
        assert!(e.to_string().contains("1048576"), "{e}");
        let e = Error::Protocol(ProtocolError::PacketTooLarge { limit: 1 << 24 });
        assert_eq!((e.kind(), e.code(), e.is_fatal()), (ErrorKind::Operational, Some(2020), true));
    }

    #[test]
    fn layered_errors_keep_their_class_and_cause() {
        let e = Error::from(AuthError::Unsupported("authentication plugin 'x'".into()));
        assert_eq!((e.kind(), e.code()), (ErrorKind::NotSupported, Some(2054)));
        assert_eq!(e.to_string(), "not supported: authentication plugin 'x'");
        assert!(std::error::Error::source(&e).is_some_and(|cause| cause.to_string() == e.to_string()));
        let e = Error::from(AuthError::Protocol(ProtocolError::BadCompressedFrame));
        assert_eq!(e, Error::Protocol(ProtocolError::BadCompressedFrame));
        assert_eq!(std::error::Error::source(&e).map(|c| c.to_string()), Some("corrupted compressed packet".into()));
        let e = Error::from(ConnectionPhaseError::TlsNotOffered);
        assert_eq!((e.kind(), e.code()), (ErrorKind::Operational, Some(2026)));
        assert_eq!(e.to_string(), "SSL connection error: ssl was requested but the server does not offer TLS");
        let refused = ErrPacket { code: 1040, sqlstate: "HY000".into(), message: "Too many connections".into() };
        let e = Error::from(ConnectionPhaseError::Server(refused));
        assert_eq!((e.code(), e.sqlstate()), (Some(1040), Some("HY000")));
    }

    #[test]
    fn input_and_cell_errors_keep_their_classes_and_messages() {
        let kinds = [
            (InputError::Value("v".into()), ErrorKind::Data),
            (InputError::Format("f".into()), ErrorKind::Programming),
            (InputError::UnknownCharset("u".into()), ErrorKind::Programming),
            (InputError::UnsupportedCharset("n".into()), ErrorKind::NotSupported),
        ];
        for (input, kind) in kinds {
            let message = input.to_string();
            let e = Error::from(input);
            assert_eq!(e.kind(), kind, "{e:?}");
            assert!(e.to_string().ends_with(&message), "{e}");
        }
        assert_eq!(Error::from(CellError::OutOfDomain("month 13".into())).kind(), ErrorKind::Data);
        let malformed = CellError::Malformed(ProtocolError::InvalidValue("DATE"));
        assert_eq!(Error::from(malformed), Error::Protocol(ProtocolError::InvalidValue("DATE")));
    }

    #[test]
    fn timeouts_say_what_expired() {
        let read = Error::Timeout(Timeout::Read);
        assert_eq!((read.kind(), read.code()), (ErrorKind::Operational, Some(2013)));
        assert!(read.is_fatal());
        assert!(read.to_string().contains("read_timeout"));
        assert_eq!(Error::Timeout(Timeout::Write).code(), Some(2006));
        assert_eq!(Error::Timeout(Timeout::Connect).code(), Some(2003));
        assert!(Error::Timeout(Timeout::Connect).to_string().contains("connect_timeout"));
        let statement = Error::Timeout(Timeout::Statement);
        assert_eq!(
            (statement.kind(), statement.code(), statement.sqlstate()),
            (ErrorKind::Operational, Some(1317), Some("70100"))
        );
        assert!(!statement.is_fatal(), "the server ended the statement: the connection goes on");
    }

    #[test]
    fn scrolling_out_of_range_is_pymysqls_index_error_as_a_programming_error() {
        let e = Error::OutOfRange { target: 7, rows: 5 };
        assert_eq!((e.kind(), e.code(), e.sqlstate()), (ErrorKind::Programming, None, None));
        assert!(!e.is_fatal(), "the cursor stays where it was");
        assert_eq!(e.message(), "out of range: row 7 of a result set of 5 rows");
    }
}
