//! OK_Packet and EOF_Packet: the end of a command or of a result set, with the server status.

use super::buf::Reader;
use super::constants::capability::{CLIENT_PROTOCOL_41, CLIENT_SESSION_TRACK};
use super::constants::status::SERVER_SESSION_STATE_CHANGED;
use crate::protocol::error::ProtocolError;

/// OK_Packet (header 0x00, or 0xFE when it ends a result set under CLIENT_DEPRECATE_EOF).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OkPacket {
    pub affected_rows: u64,
    pub last_insert_id: u64,
    pub status_flags: u16,
    pub warnings: u16,
    /// Human-readable information, e.g. "Records: 3  Duplicates: 0  Warnings: 0".
    pub info: String,
    /// System variables whose session value changed (SESSION_TRACK_SYSTEM_VARIABLES), in order.
    pub changed_variables: Vec<(String, String)>,
}

/// SESSION_TRACK_SYSTEM_VARIABLES: the session state entry type carrying variable changes.
const SESSION_TRACK_SYSTEM_VARIABLES: u8 = 0;

impl OkPacket {
    /// Parses an OK_Packet whose header byte (0x00 or 0xFE) is still in `payload`.
    pub fn parse(payload: &[u8], capabilities: u32) -> Result<OkPacket, ProtocolError> {
        let mut r = Reader::new(payload);
        let header = r.u8("OK header")?;
        if header != 0x00 && header != 0xFE {
            return Err(ProtocolError::UnexpectedPacket { context: "OK packet", header });
        }
        let affected_rows = r.lenenc_int("affected rows")?;
        let last_insert_id = r.lenenc_int("last insert id")?;
        let (status_flags, warnings) =
            if capabilities & CLIENT_PROTOCOL_41 != 0 { (r.u16("status flags")?, r.u16("warnings")?) } else { (0, 0) };
        let mut changed_variables = Vec::new();
        let info = if capabilities & CLIENT_SESSION_TRACK != 0 {
            // Under session tracking the info is length-encoded and may be absent altogether.
            let info = if r.is_empty() { &[][..] } else { r.lenenc_bytes("OK info")? };
            if status_flags & SERVER_SESSION_STATE_CHANGED != 0 && !r.is_empty() {
                let state = r.lenenc_bytes("session state")?;
                changed_variables = parse_session_state(state)?;
            }
            info
        } else {
            r.rest()
        };
        let info = String::from_utf8_lossy(info).into_owned();
        Ok(OkPacket { affected_rows, last_insert_id, status_flags, warnings, info, changed_variables })
    }
}

/// Reads the session state changes of an OK packet, keeping the system variable ones.
fn parse_session_state(state: &[u8]) -> Result<Vec<(String, String)>, ProtocolError> {
    let mut r = Reader::new(state);
    let mut vars = Vec::new();
    while !r.is_empty() {
        let kind = r.u8("session state type")?;
        let data = r.lenenc_bytes("session state data")?;
        if kind == SESSION_TRACK_SYSTEM_VARIABLES {
            let mut d = Reader::new(data);
            let name = d.lenenc_bytes("tracked variable name")?;
            let value = d.lenenc_bytes("tracked variable value")?;
            vars.push((String::from_utf8_lossy(name).into_owned(), String::from_utf8_lossy(value).into_owned()));
        }
    }
    Ok(vars)
}

/// EOF_Packet (header 0xFE, fewer than 9 bytes): the end of column definitions or rows
/// when CLIENT_DEPRECATE_EOF is not in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EofPacket {
    pub warnings: u16,
    pub status_flags: u16,
}

impl EofPacket {
    pub fn parse(payload: &[u8]) -> Result<EofPacket, ProtocolError> {
        let mut r = Reader::new(payload);
        let header = r.u8("EOF header")?;
        if header != 0xFE || payload.len() >= 9 {
            return Err(ProtocolError::UnexpectedPacket { context: "EOF packet", header });
        }
        // Pre-4.1 servers send a bare 0xFE; there is no status to read then.
        if r.is_empty() {
            return Ok(EofPacket::default());
        }
        Ok(EofPacket { warnings: r.u16("EOF warnings")?, status_flags: r.u16("EOF status")? })
    }
}

/// Whether a packet in a row stream is its terminator (EOF or OK with header 0xFE) rather than a row:
/// a row can start with 0xFE only as the prefix of a value of 16 MiB or more.
pub fn is_result_terminator(payload: &[u8]) -> bool {
    payload.first() == Some(&0xFE) && payload.len() < super::constants::MAX_PACKET_PAYLOAD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ok_after_insert() {
        // `INSERT INTO test.t VALUES (8),(9),(10)` on MariaDB 10.11.19, captured.
        let p = b"\x00\x03\x00\x02\x00\x00\x00&Records: 3  Duplicates: 0  Warnings: 0";
        let ok = OkPacket::parse(p, CLIENT_PROTOCOL_41).unwrap();
        assert_eq!(ok.affected_rows, 3);
        assert_eq!(ok.last_insert_id, 0);
        assert_eq!(ok.status_flags, 2);
        assert_eq!(ok.warnings, 0);
        assert!(ok.info.contains("Records: 3"));
    }

    #[test]
    fn parses_result_set_terminator() {
        // The OK that ends `SELECT id FROM test.t` under CLIENT_DEPRECATE_EOF, captured.
        let p = b"\xfe\x00\x00\x22\x00\x00\x00";
        assert!(is_result_terminator(p));
        let ok = OkPacket::parse(p, CLIENT_PROTOCOL_41).unwrap();
        assert_eq!(ok.status_flags, 0x22);
        assert_eq!(ok.warnings, 0);
    }

    #[test]
    fn session_tracking_reports_changed_variables() {
        // `SET NAMES gbk` answered by MariaDB 10.11 under CLIENT_SESSION_TRACK: three tracked
        // variables change (status 0x4002: autocommit | session state changed).
        let p = crate::protocol::fuzz_targets::ok_with_changed_variables(&[
            ("character_set_client", "gbk"),
            ("character_set_connection", "gbk"),
            ("character_set_results", "gbk"),
        ]);
        let ok = OkPacket::parse(&p, CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK).unwrap();
        assert_eq!(ok.changed_variables[0], ("character_set_client".to_string(), "gbk".to_string()));
        assert_eq!(ok.changed_variables.len(), 3);
        // Truncated state is an error, not a panic.
        assert!(OkPacket::parse(&p[..p.len() - 3], CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK).is_err());
        // Without state changes, an OK under session tracking may end right after the warnings.
        let plain =
            OkPacket::parse(b"\x00\x01\x00\x02\x00\x00\x00", CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK).unwrap();
        assert_eq!((plain.affected_rows, plain.info.as_str()), (1, ""));
    }

    #[test]
    fn last_insert_id_keeps_all_64_bits() {
        let mut p = vec![0x00, 0x01, 0xFE];
        p.extend_from_slice(&u64::MAX.to_le_bytes());
        p.extend_from_slice(&[0x02, 0x00, 0x01, 0x00]);
        let ok = OkPacket::parse(&p, CLIENT_PROTOCOL_41).unwrap();
        assert_eq!(ok.last_insert_id, u64::MAX);
        assert_eq!(ok.warnings, 1);
    }

    #[test]
    fn eof_packet_fields_in_protocol_order() {
        // Warnings come before status: cymysql read them the other way round.
        let eof = EofPacket::parse(b"\xfe\x02\x00\x0a\x00").unwrap();
        assert_eq!(eof.warnings, 2);
        assert_eq!(eof.status_flags, 0x000a);
        assert!(EofPacket::parse(b"\xfe\x00").is_err());
        assert!(EofPacket::parse(b"\x00\x00\x00\x00\x00").is_err());
    }

    #[test]
    fn truncated_ok_is_an_error() {
        assert!(OkPacket::parse(b"\x00", CLIENT_PROTOCOL_41).is_err());
        assert!(OkPacket::parse(b"\x00\x00\x00\x02", CLIENT_PROTOCOL_41).is_err());
        assert!(OkPacket::parse(b"", CLIENT_PROTOCOL_41).is_err());
    }
}
