//! COM_STMT_PREPARE and its response, COM_STMT_PREPARE_OK: the statement id and how many
//! parameter and column definitions follow.

use super::buf::Reader;
use super::err_packet::ErrPacket;
use crate::protocol::error::ProtocolError;

/// The command byte of COM_STMT_PREPARE.
pub const COM_STMT_PREPARE: u8 = 0x16;

/// COM_STMT_PREPARE_OK: the first packet of a successful COM_STMT_PREPARE response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StmtPrepareOk {
    /// The id the server gave the statement; later COM_STMT_* commands name it.
    pub statement_id: u32,
    /// How many column definitions follow the parameters' (0 for a statement without rows).
    pub num_columns: u16,
    /// How many `?` the statement has; that many parameter definitions follow.
    pub num_params: u16,
    pub warning_count: u16,
}

/// The first packet of a COM_STMT_PREPARE response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrepareResponse {
    Ok(StmtPrepareOk),
    Err(ErrPacket),
}

impl PrepareResponse {
    /// Parses COM_STMT_PREPARE_OK or an ERR_Packet.
    pub fn parse(payload: &[u8]) -> Result<PrepareResponse, ProtocolError> {
        let context = "COM_STMT_PREPARE response";
        match payload.first() {
            None => Err(ProtocolError::Truncated(context)),
            Some(0xFF) => Ok(PrepareResponse::Err(ErrPacket::parse(payload)?)),
            Some(0x00) => {
                let mut r = Reader::new(payload);
                r.skip(1, context)?;
                let statement_id = r.u32("statement id")?;
                let num_columns = r.u16("number of columns")?;
                let num_params = r.u16("number of parameters")?;
                r.skip(1, "reserved byte")?;
                // The warning count is absent from servers before 4.1.
                let warning_count = if r.is_empty() { 0 } else { r.u16("warning count")? };
                Ok(PrepareResponse::Ok(StmtPrepareOk { statement_id, num_columns, num_params, warning_count }))
            }
            Some(&header) => Err(ProtocolError::UnexpectedPacket { context, header }),
        }
    }
}

/// The COM_STMT_PREPARE packet for `sql`, already encoded in the connection's charset.
pub fn com_stmt_prepare(sql: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(sql.len() + 1);
    p.push(COM_STMT_PREPARE);
    p.extend_from_slice(sql);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::binary_row::tests::captured;
    use crate::protocol::column::Column;

    #[test]
    fn parses_a_captured_prepare_ok_and_its_parameter() {
        assert_eq!(
            PrepareResponse::parse(captured::PREPARE_OK),
            Ok(PrepareResponse::Ok(StmtPrepareOk {
                statement_id: 7,
                num_columns: 23,
                num_params: 1,
                warning_count: 0
            }))
        );
        let param = Column::parse(captured::PARAM_DEF).unwrap();
        assert_eq!((param.name.as_str(), param.column_type), ("?", 6));
    }

    #[test]
    fn parses_a_captured_syntax_error() {
        // `SELEC 1`, captured.
        let err = b"\xff(\x04#42000You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'SELEC 1' at line 1";
        let Ok(PrepareResponse::Err(e)) = PrepareResponse::parse(err) else { panic!("not an error") };
        assert_eq!((e.code, e.sqlstate.as_str()), (1064, "42000"));
    }

    #[test]
    fn malformed_responses_are_errors() {
        for n in 1..10 {
            assert!(PrepareResponse::parse(&captured::PREPARE_OK[..n]).is_err(), "prefix {n}");
        }
        assert_eq!(PrepareResponse::parse(b""), Err(ProtocolError::Truncated("COM_STMT_PREPARE response")));
        assert!(matches!(PrepareResponse::parse(b"\x01\x02"), Err(ProtocolError::UnexpectedPacket { header: 1, .. })));
    }

    #[test]
    fn the_request_is_the_command_byte_and_the_text() {
        assert_eq!(com_stmt_prepare(b"SELECT ?"), b"\x16SELECT ?");
    }
}
