//! COM_STMT_CLOSE: deallocates a prepared statement. The server sends no reply.

/// The command byte of COM_STMT_CLOSE.
pub const COM_STMT_CLOSE: u8 = 0x19;

/// The COM_STMT_CLOSE packet for statement `statement_id`.
pub fn com_stmt_close(statement_id: u32) -> [u8; 5] {
    let id = statement_id.to_le_bytes();
    [COM_STMT_CLOSE, id[0], id[1], id[2], id[3]]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_statement_id_is_little_endian() {
        assert_eq!(super::com_stmt_close(0x0102_0304), [0x19, 4, 3, 2, 1]);
    }
}
