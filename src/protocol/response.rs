//! Generic Response Packets and the COM_QUERY Response: a server reply told apart by its first
//! byte, read in the context it arrives in. The same byte means different things in different
//! places: 0x00 starts an OK_Packet but also a row whose first value is empty, and 0xFE ends a row
//! stream but is the 8-byte length prefix of a large column count or value.

use super::buf::Reader;
use super::constants::capability::CLIENT_DEPRECATE_EOF;
use super::err_packet::ErrPacket;
use super::ok_packet::{is_result_terminator, EofPacket, OkPacket};
use crate::protocol::error::ProtocolError;

/// The first byte of an OK_Packet.
const OK_HEADER: u8 = 0x00;
/// The first byte of an ERR_Packet.
const ERR_HEADER: u8 = 0xFF;
/// The first byte of an EOF_Packet (and of the OK_Packet that ends rows under CLIENT_DEPRECATE_EOF).
const EOF_HEADER: u8 = 0xFE;
/// The first byte of a LOCAL INFILE Request.
const LOCAL_INFILE_HEADER: u8 = 0xFB;

/// A server reply to a command, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// OK_Packet: the command succeeded. Under CLIENT_DEPRECATE_EOF it also ends a result set's
    /// rows (with header 0xFE).
    Ok(OkPacket),
    /// ERR_Packet: the command failed, or the statement failed partway through its result.
    Err(ErrPacket),
    /// EOF_Packet: the end of a result set's rows without CLIENT_DEPRECATE_EOF.
    Eof(EofPacket),
    /// LOCAL INFILE Request: the server asks for the client file with this name.
    LocalInfile(Vec<u8>),
    /// The column count that starts a Text Resultset; the column definitions follow.
    ResultSet {
        /// How many column definitions follow (at least 1).
        column_count: u64,
    },
}

impl Response {
    /// A reply that can only be an OK_Packet or an ERR_Packet: COM_PING, COM_INIT_DB,
    /// COM_RESET_CONNECTION, and the server's answer to LOCAL INFILE data. Anything else is an
    /// unexpected packet in `context`.
    pub fn parse_ok_or_err(
        payload: &[u8],
        capabilities: u32,
        context: &'static str,
    ) -> Result<Response, ProtocolError> {
        match payload.first() {
            None => Err(ProtocolError::Truncated(context)),
            Some(&OK_HEADER) => Ok(Response::Ok(OkPacket::parse(payload, capabilities)?)),
            Some(&ERR_HEADER) => Ok(Response::Err(ErrPacket::parse(payload)?)),
            Some(&header) => Err(ProtocolError::UnexpectedPacket { context, header }),
        }
    }

    /// The first packet of a COM_QUERY Response (and of each further result): an OK_Packet, an
    /// ERR_Packet, a LOCAL INFILE Request, or the column count of a result set.
    pub fn parse_query_response(payload: &[u8], capabilities: u32) -> Result<Response, ProtocolError> {
        match payload.split_first() {
            None => Err(ProtocolError::Truncated("result header")),
            Some((&OK_HEADER, _)) => Ok(Response::Ok(OkPacket::parse(payload, capabilities)?)),
            Some((&ERR_HEADER, _)) => Ok(Response::Err(ErrPacket::parse(payload)?)),
            Some((&LOCAL_INFILE_HEADER, name)) => Ok(Response::LocalInfile(name.to_vec())),
            Some(_) => {
                let mut r = Reader::new(payload);
                let column_count = r.lenenc_int("column count")?;
                if column_count == 0 || !r.is_empty() {
                    return Err(ProtocolError::InvalidValue("column count"));
                }
                Ok(Response::ResultSet { column_count })
            }
        }
    }

    /// A packet of a result set's row stream: `None` for a row (its bytes stay the caller's), or
    /// what ends the rows: an ERR_Packet, or the terminator, an EOF_Packet or, under
    /// CLIENT_DEPRECATE_EOF, an OK_Packet with header 0xFE.
    pub fn parse_row_or_end(payload: &[u8], capabilities: u32) -> Result<Option<Response>, ProtocolError> {
        match payload.first() {
            None => Err(ProtocolError::Truncated("row")),
            Some(&ERR_HEADER) => Ok(Some(Response::Err(ErrPacket::parse(payload)?))),
            Some(&EOF_HEADER) if is_result_terminator(payload) => {
                if capabilities & CLIENT_DEPRECATE_EOF != 0 {
                    Ok(Some(Response::Ok(OkPacket::parse(payload, capabilities)?)))
                } else {
                    Ok(Some(Response::Eof(EofPacket::parse(payload)?)))
                }
            }
            Some(_) => Ok(None),
        }
    }

    /// The error for a reply that has no place where it came: its header byte is named, as
    /// when no parse function accepted it.
    pub fn unexpected(&self, context: &'static str) -> ProtocolError {
        let header = match self {
            Response::Ok(_) => OK_HEADER,
            Response::Err(_) => ERR_HEADER,
            Response::Eof(_) => EOF_HEADER,
            Response::LocalInfile(_) => LOCAL_INFILE_HEADER,
            // The first byte of the column count's length-encoded integer.
            Response::ResultSet { column_count } => match *column_count {
                n @ 0..=250 => n as u8,
                251..=0xFFFF => 0xFC,
                0x1_0000..=0xFF_FFFF => 0xFD,
                _ => 0xFE,
            },
        };
        ProtocolError::UnexpectedPacket { context, header }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::capability::{CLIENT_PROTOCOL_41, CLIENT_SESSION_TRACK};

    /// Debian's MariaDB 10.11.19, captured on loopback (CLIENT_PROTOCOL_41, no CLIENT_DEPRECATE_EOF).
    mod captured {
        /// `CREATE DATABASE IF NOT EXISTS test`: one row affected, autocommit.
        pub const OK_CREATE_DATABASE: &[u8] = b"\x00\x01\x00\x02\x00\x00\x00";
        /// `SELECT * FROM test.nope`.
        pub const ERR_NO_SUCH_TABLE: &[u8] = b"\xff\x7a\x04#42S02Table 'test.nope' doesn't exist";
        /// `SELECT 1`: the column count, then (after the definition and an EOF) the row and the EOF.
        pub const ONE_COLUMN: &[u8] = b"\x01";
        pub const ROW_1: &[u8] = b"\x011";
        pub const EOF_AUTOCOMMIT: &[u8] = b"\xfe\x00\x00\x02\x00";
        /// `SELECT id FROM test.t` (a full scan): the EOF after its rows (status autocommit | no index used).
        pub const EOF_NO_INDEX_USED: &[u8] = b"\xfe\x00\x00\x22\x00";
        /// `LOAD DATA LOCAL INFILE '/tmp/ids.csv' INTO TABLE test.t`: the request, and the OK after the data.
        pub const LOCAL_INFILE_REQUEST: &[u8] = b"\xfb/tmp/ids.csv";
        pub const OK_AFTER_INFILE: &[u8] =
            b"\x00\x02\x00\x02\x00\x00\x00/Records: 2  Deleted: 0  Skipped: 0  Warnings: 0";
        /// The OK that ends `SELECT id FROM test.t` under CLIENT_DEPRECATE_EOF, as in ok_packet.rs.
        pub const OK_TERMINATOR: &[u8] = b"\xfe\x00\x00\x22\x00\x00\x00";
    }

    const CAPS: u32 = CLIENT_PROTOCOL_41;

    fn ok(affected_rows: u64, status_flags: u16, info: &str) -> Response {
        Response::Ok(OkPacket { affected_rows, status_flags, info: info.into(), ..OkPacket::default() })
    }

    fn no_such_table() -> Response {
        Response::Err(ErrPacket {
            code: 1146,
            sqlstate: "42S02".into(),
            message: "Table 'test.nope' doesn't exist".into(),
        })
    }

    #[test]
    fn query_responses_of_each_kind() {
        let parse = |p| Response::parse_query_response(p, CAPS);
        assert_eq!(parse(captured::OK_CREATE_DATABASE), Ok(ok(1, 2, "")));
        assert_eq!(parse(captured::ERR_NO_SUCH_TABLE), Ok(no_such_table()));
        assert_eq!(parse(captured::ONE_COLUMN), Ok(Response::ResultSet { column_count: 1 }));
        assert_eq!(parse(b"\xfc\x01\x01"), Ok(Response::ResultSet { column_count: 257 }));
        assert_eq!(parse(captured::LOCAL_INFILE_REQUEST), Ok(Response::LocalInfile(b"/tmp/ids.csv".to_vec())));
    }

    #[test]
    fn malformed_query_responses_are_errors() {
        let parse = |p| Response::parse_query_response(p, CAPS);
        assert_eq!(parse(b""), Err(ProtocolError::Truncated("result header")));
        assert!(parse(b"\xfc\x01").is_err());
        assert_eq!(parse(b"\x03\x00"), Err(ProtocolError::InvalidValue("column count")));
        // An empty file name is still a request: the runtime's file read refuses it.
        assert_eq!(parse(b"\xfb"), Ok(Response::LocalInfile(Vec::new())));
        assert!(parse(b"\xff\x7a").is_err(), "a truncated ERR_Packet");
    }

    #[test]
    fn ok_or_err_replies() {
        let parse = |p| Response::parse_ok_or_err(p, CAPS, "command reply");
        assert_eq!(parse(captured::OK_CREATE_DATABASE), Ok(ok(1, 2, "")));
        assert_eq!(
            // The info is length-encoded, as the client reads it under CLIENT_SESSION_TRACK.
            Response::parse_ok_or_err(captured::OK_AFTER_INFILE, CAPS | CLIENT_SESSION_TRACK, "LOCAL INFILE reply"),
            Ok(ok(2, 2, "Records: 2  Deleted: 0  Skipped: 0  Warnings: 0"))
        );
        assert_eq!(parse(captured::ERR_NO_SUCH_TABLE), Ok(no_such_table()));
        assert_eq!(
            parse(captured::ONE_COLUMN),
            Err(ProtocolError::UnexpectedPacket { context: "command reply", header: 1 })
        );
        assert_eq!(
            parse(captured::EOF_AUTOCOMMIT),
            Err(ProtocolError::UnexpectedPacket { context: "command reply", header: 0xFE })
        );
        assert_eq!(parse(b""), Err(ProtocolError::Truncated("command reply")));
    }

    #[test]
    fn rows_and_what_ends_them() {
        let parse = |p| Response::parse_row_or_end(p, CAPS);
        assert_eq!(parse(captured::ROW_1), Ok(None));
        // A row whose first value is empty starts with 0x00, like an OK_Packet.
        assert_eq!(parse(b"\x00\x011"), Ok(None));
        assert_eq!(
            parse(captured::EOF_AUTOCOMMIT),
            Ok(Some(Response::Eof(EofPacket { warnings: 0, status_flags: 2 })))
        );
        assert_eq!(
            parse(captured::EOF_NO_INDEX_USED),
            Ok(Some(Response::Eof(EofPacket { warnings: 0, status_flags: 0x22 })))
        );
        assert_eq!(parse(captured::ERR_NO_SUCH_TABLE), Ok(Some(no_such_table())));
        assert_eq!(parse(b""), Err(ProtocolError::Truncated("row")));
        // A 0xFE that prefixes a value of 16 MiB or more is a row, not a terminator.
        let mut big = vec![0xFE];
        big.resize(crate::protocol::constants::MAX_PACKET_PAYLOAD, b'a');
        assert_eq!(parse(&big), Ok(None));
    }

    #[test]
    fn under_deprecate_eof_rows_end_with_an_ok() {
        let caps = CAPS | CLIENT_DEPRECATE_EOF | CLIENT_SESSION_TRACK;
        assert_eq!(Response::parse_row_or_end(captured::OK_TERMINATOR, caps), Ok(Some(ok(0, 0x22, ""))));
        assert_eq!(Response::parse_row_or_end(captured::ROW_1, caps), Ok(None));
    }

    #[test]
    fn an_unexpected_reply_names_its_header_byte() {
        let header = |r: Response| match r.unexpected("here") {
            ProtocolError::UnexpectedPacket { context: "here", header } => header,
            other => panic!("{other:?}"),
        };
        for p in [
            captured::OK_CREATE_DATABASE,
            captured::ERR_NO_SUCH_TABLE,
            captured::ONE_COLUMN,
            captured::LOCAL_INFILE_REQUEST,
        ] {
            assert_eq!(header(Response::parse_query_response(p, CAPS).unwrap()), p[0]);
        }
        assert_eq!(header(Response::parse_query_response(b"\xfc\x01\x01", CAPS).unwrap()), 0xFC);
        assert_eq!(header(Response::parse_query_response(b"\xfd\x01\x00\x01", CAPS).unwrap()), 0xFD);
        assert_eq!(header(Response::parse_row_or_end(captured::EOF_AUTOCOMMIT, CAPS).unwrap().unwrap()), 0xFE);
    }
}
