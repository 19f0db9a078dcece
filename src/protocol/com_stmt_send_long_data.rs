//! COM_STMT_SEND_LONG_DATA: a piece of one parameter's value, sent before COM_STMT_EXECUTE.
//! The server appends the pieces and sends no reply; an error shows at the execute.

/// The command byte of COM_STMT_SEND_LONG_DATA.
pub const COM_STMT_SEND_LONG_DATA: u8 = 0x18;

/// The bytes of a COM_STMT_SEND_LONG_DATA packet before its data.
pub const LONG_DATA_HEADER_LEN: usize = 7;

/// The COM_STMT_SEND_LONG_DATA packet carrying `data` for parameter `param_id` (0-based).
pub fn com_stmt_send_long_data(statement_id: u32, param_id: u16, data: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(LONG_DATA_HEADER_LEN + data.len());
    p.push(COM_STMT_SEND_LONG_DATA);
    p.extend_from_slice(&statement_id.to_le_bytes());
    p.extend_from_slice(&param_id.to_le_bytes());
    p.extend_from_slice(data);
    p
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_then_data() {
        assert_eq!(super::com_stmt_send_long_data(7, 2, b"abc"), b"\x18\x07\x00\x00\x00\x02\x00abc");
    }
}
