//! COM_STMT_FETCH: asks for the next rows of a statement executed with a read-only cursor
//! (COM_STMT_EXECUTE with CURSOR_TYPE_READ_ONLY). The server answers with up to that many binary
//! rows and an EOF (or OK) whose status has SERVER_STATUS_CURSOR_EXISTS, plus
//! SERVER_STATUS_LAST_ROW_SENT once the cursor is exhausted.
//!
//! `Statement::open_cursor` opens such cursors; the cursor's fetch calls send this request.

/// The command byte of COM_STMT_FETCH.
pub const COM_STMT_FETCH: u8 = 0x1c;

/// The COM_STMT_FETCH packet asking for up to `num_rows` rows of statement `statement_id`.
pub fn com_stmt_fetch(statement_id: u32, num_rows: u32) -> [u8; 9] {
    let mut p = [0u8; 9];
    p[0] = COM_STMT_FETCH;
    p[1..5].copy_from_slice(&statement_id.to_le_bytes());
    p[5..9].copy_from_slice(&num_rows.to_le_bytes());
    p
}

#[cfg(test)]
mod tests {
    #[test]
    fn statement_id_then_row_count_little_endian() {
        // As the MySQL documentation lays it out: 0x1c, stmt_id int<4>, num_rows int<4>.
        assert_eq!(super::com_stmt_fetch(7, 1000), [0x1c, 7, 0, 0, 0, 0xe8, 0x03, 0, 0]);
        assert_eq!(super::com_stmt_fetch(0x0102_0304, u32::MAX), [0x1c, 4, 3, 2, 1, 0xff, 0xff, 0xff, 0xff]);
    }
}
