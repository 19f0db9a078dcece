//! The first packet of a COM_QUERY response: OK, ERR, LOCAL INFILE request, or a column count.

use super::buf::Reader;
use super::err_packet::server_error;
use super::ok_packet::OkPacket;
use crate::error::{Error, ProtocolError};

/// What a COM_QUERY response starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultHeader {
    /// A statement without a result set.
    Ok(OkPacket),
    /// LOCAL INFILE Request: the server asks for a client file by name.
    LocalInfile(Vec<u8>),
    /// A result set with this many columns follows.
    Columns(u64),
}

impl ResultHeader {
    pub fn parse(payload: &[u8], capabilities: u32) -> Result<ResultHeader, Error> {
        match payload.first() {
            None => Err(ProtocolError::Truncated("result header").into()),
            Some(0x00) => Ok(ResultHeader::Ok(OkPacket::parse(payload, capabilities)?)),
            Some(0xFF) => Err(server_error(payload)),
            Some(0xFB) => Ok(ResultHeader::LocalInfile(payload[1..].to_vec())),
            Some(_) => {
                let mut r = Reader::new(payload);
                let n = r.lenenc_int("column count")?;
                if n == 0 || !r.is_empty() {
                    return Err(ProtocolError::InvalidValue("column count").into());
                }
                Ok(ResultHeader::Columns(n))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::capability::CLIENT_PROTOCOL_41;

    #[test]
    fn recognises_each_kind() {
        assert_eq!(ResultHeader::parse(b"\x03", CLIENT_PROTOCOL_41).unwrap(), ResultHeader::Columns(3));
        assert_eq!(ResultHeader::parse(b"\xfc\x01\x01", CLIENT_PROTOCOL_41).unwrap(), ResultHeader::Columns(257));
        assert!(matches!(
            ResultHeader::parse(b"\x00\x01\x00\x02\x00\x00\x00", CLIENT_PROTOCOL_41),
            Ok(ResultHeader::Ok(_))
        ));
        assert_eq!(
            ResultHeader::parse(b"\xfb/etc/passwd", CLIENT_PROTOCOL_41).unwrap(),
            ResultHeader::LocalInfile(b"/etc/passwd".to_vec())
        );
        let e = ResultHeader::parse(b"\xff\x7a\x04#42S02Table 'test.nope' doesn't exist", CLIENT_PROTOCOL_41);
        assert!(matches!(e, Err(Error::Server { code: 1146, .. })));
    }

    #[test]
    fn malformed_headers_are_errors() {
        assert!(ResultHeader::parse(b"", CLIENT_PROTOCOL_41).is_err());
        assert!(ResultHeader::parse(b"\xfc\x01", CLIENT_PROTOCOL_41).is_err());
        assert!(ResultHeader::parse(b"\x03\x00", CLIENT_PROTOCOL_41).is_err());
    }
}
