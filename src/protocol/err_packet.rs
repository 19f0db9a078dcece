//! ERR_Packet: a failure reported by the server.

use super::buf::Reader;
use crate::protocol::error::ProtocolError;

/// ERR_Packet (header 0xFF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrPacket {
    pub code: u16,
    /// Five characters; "HY000" when the server sent none (errors before the handshake).
    pub sqlstate: String,
    pub message: String,
}

impl ErrPacket {
    pub fn parse(payload: &[u8]) -> Result<ErrPacket, ProtocolError> {
        let mut r = Reader::new(payload);
        let header = r.u8("ERR header")?;
        if header != 0xFF {
            return Err(ProtocolError::UnexpectedPacket { context: "ERR packet", header });
        }
        let code = r.u16("error code")?;
        // The '#' marker and SQLSTATE are absent in errors sent before capabilities are agreed.
        let sqlstate = if r.peek() == Some(b'#') {
            r.skip(1, "sqlstate marker")?;
            String::from_utf8_lossy(r.take(5, "sqlstate")?).into_owned()
        } else {
            "HY000".to_string()
        };
        let message = String::from_utf8_lossy(r.rest()).into_owned();
        Ok(ErrPacket { code, sqlstate, message })
    }
}

/// The ERR_Packet at the start of framed bytes (4-byte header, then payload), if that is what they
/// hold: a server closing a session (KILL, shutdown) sends one out of sequence.
pub fn framed_server_error(frame: &[u8]) -> Option<Result<ErrPacket, ProtocolError>> {
    if frame.get(4) != Some(&0xFF) {
        return None;
    }
    let len = frame.get(..3).map(|h| u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize)?;
    Some(ErrPacket::parse(frame.get(4..4 + len).unwrap_or(&[])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_access_denied() {
        let p = b"\xff\x15\x04#28000Access denied for user 'root'@'localhost' (using password: YES)";
        let e = ErrPacket::parse(p).unwrap();
        assert_eq!(e.code, 1045);
        assert_eq!(e.sqlstate, "28000");
        assert!(e.message.starts_with("Access denied"));
    }

    #[test]
    fn pre_handshake_error_has_no_sqlstate() {
        let e = ErrPacket::parse(b"\xff\x10\x04Too many connections").unwrap();
        assert_eq!((e.code, e.sqlstate.as_str(), e.message.as_str()), (1040, "HY000", "Too many connections"));
    }

    #[test]
    fn framed_error_is_found_only_at_an_err_header() {
        let frame = b"\x0a\x00\x00\x00\xff\x9f\x07Killed...";
        assert!(matches!(framed_server_error(frame), Some(Ok(ErrPacket { code: 1951, .. }))));
        assert_eq!(framed_server_error(b"\x01\x00\x00\x00\x00"), None);
        // A header announcing more than arrived is a protocol error, not a panic.
        assert!(matches!(framed_server_error(b"\x40\x00\x00\x00\xff\x15"), Some(Err(_))));
    }

    #[test]
    fn truncated_err_is_a_protocol_error() {
        assert!(ErrPacket::parse(b"\xff\x15").is_err());
        assert!(ErrPacket::parse(b"\xff\x15\x04#28").is_err());
        assert!(ErrPacket::parse(b"\xff").is_err());
    }
}
