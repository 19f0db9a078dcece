//! COM_STMT_RESET: discards a statement's long data and open cursor. Replied to with OK or ERR.

/// The command byte of COM_STMT_RESET.
pub const COM_STMT_RESET: u8 = 0x1a;

/// The COM_STMT_RESET packet for statement `statement_id`.
pub fn com_stmt_reset(statement_id: u32) -> [u8; 5] {
    let id = statement_id.to_le_bytes();
    [COM_STMT_RESET, id[0], id[1], id[2], id[3]]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_statement_id_is_little_endian() {
        // The server answered this for statement 6 with `00 00 00 02 00 00 00` (captured).
        assert_eq!(super::com_stmt_reset(6), [0x1a, 6, 0, 0, 0]);
    }
}
