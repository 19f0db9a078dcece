//! COM_STMT_BULK_EXECUTE (MariaDB 10.2+, with MARIADB_CLIENT_STMT_BULK_OPERATIONS): runs a
//! prepared statement once per row of parameters in one request, and the server answers once.
//!
//! The request is the command byte 0xFA, the statement id (4 bytes), the flags (2 bytes), with
//! STMT_BULK_FLAG_CLIENT_SEND_TYPES the parameter types (type and unsigned flag, 2 bytes each,
//! once for every row), then for each row and each parameter an indicator byte, followed by the
//! value in the binary protocol's form when the indicator is STMT_INDICATOR_NONE. The server runs
//! rows until the packet ends, so the rows of one request share their types: a row whose
//! non-NULL values have other types than the request's starts a new one.

use super::binary_value::{param_type, write_param};
use super::charset::Encoding;
use super::constants::column_type::MYSQL_TYPE_NULL;
use super::error::InputError;
use super::value::Value;

/// The command byte of COM_STMT_BULK_EXECUTE.
pub const COM_STMT_BULK_EXECUTE: u8 = 0xFA;

/// Flag: the server answers each row with its own OK (MariaDB 11.5+, MARIADB_CLIENT_BULK_UNIT_RESULTS).
pub const STMT_BULK_FLAG_SEND_UNIT_RESULTS: u16 = 64;
/// Flag: the parameter types follow the flags.
pub const STMT_BULK_FLAG_CLIENT_SEND_TYPES: u16 = 128;

/// Indicator: the value follows.
pub const STMT_INDICATOR_NONE: u8 = 0;
/// Indicator: the parameter is NULL; no value follows.
pub const STMT_INDICATOR_NULL: u8 = 1;
/// Indicator: the column's default; no value follows.
pub const STMT_INDICATOR_DEFAULT: u8 = 2;
/// Indicator: the column is left as it is (UPDATE); no value follows.
pub const STMT_INDICATOR_IGNORE: u8 = 3;

/// The bytes before the types: command, statement id, flags.
const HEADER_LEN: usize = 1 + 4 + 2;

/// What [`BulkExecute::push_row`] did with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// The row is in the request.
    Added,
    /// The request would grow past the limit: the row was left out, nothing changed.
    Full,
    /// A value's type differs from the request's for its parameter: the row was left out.
    TypesDiffer,
}

/// A COM_STMT_BULK_EXECUTE request, built a row at a time up to a size limit.
#[derive(Debug, Clone)]
pub struct BulkExecute {
    packet: Vec<u8>,
    /// Each parameter's type in this request, `None` while every row so far had it NULL.
    types: Vec<Option<(u8, u8)>>,
    rows: usize,
}

impl BulkExecute {
    /// An empty request for statement `statement_id`, which takes `param_count` parameters.
    pub fn new(statement_id: u32, param_count: usize) -> BulkExecute {
        let mut packet = Vec::with_capacity(HEADER_LEN + 2 * param_count + 64);
        packet.push(COM_STMT_BULK_EXECUTE);
        packet.extend_from_slice(&statement_id.to_le_bytes());
        packet.extend_from_slice(&STMT_BULK_FLAG_CLIENT_SEND_TYPES.to_le_bytes());
        // The types are filled in by `finish`, once every row has had its say.
        packet.resize(HEADER_LEN + 2 * param_count, 0);
        BulkExecute { packet, types: vec![None; param_count], rows: 0 }
    }

    /// The rows in the request.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The request's length so far, command byte included.
    pub fn len(&self) -> usize {
        self.packet.len()
    }

    /// Whether the request has no row yet.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends `row` (one value per parameter, text encoded in `encoding`) unless the request
    /// would then be longer than `limit` bytes or the row's types differ from the request's. A
    /// value without a stored form (NaN, a SET member with a comma) is an error, and nothing is
    /// appended.
    pub fn push_row(&mut self, row: &[Value], encoding: Encoding, limit: usize) -> Result<Pushed, InputError> {
        if row.len() != self.types.len() {
            return Err(InputError::Format(format!(
                "the statement takes {} parameters, {} given",
                self.types.len(),
                row.len()
            )));
        }
        for (v, t) in row.iter().zip(&self.types) {
            if matches!(v, Value::Null) {
                continue;
            }
            if t.is_some_and(|t| t != param_type(v)) {
                return Ok(Pushed::TypesDiffer);
            }
        }
        let start = self.packet.len();
        for v in row {
            if matches!(v, Value::Null) {
                self.packet.push(STMT_INDICATOR_NULL);
                continue;
            }
            self.packet.push(STMT_INDICATOR_NONE);
            if let Err(e) = write_param(&mut self.packet, v, encoding) {
                self.packet.truncate(start);
                return Err(e);
            }
            if self.packet.len() > limit {
                break;
            }
        }
        if self.packet.len() > limit {
            self.packet.truncate(start);
            return Ok(Pushed::Full);
        }
        for (v, t) in row.iter().zip(self.types.iter_mut()) {
            if !matches!(v, Value::Null) {
                *t = Some(param_type(v));
            }
        }
        self.rows += 1;
        Ok(Pushed::Added)
    }

    /// The request's bytes, its types in place. A parameter NULL in every row is sent as
    /// MYSQL_TYPE_NULL.
    pub fn finish(mut self) -> Vec<u8> {
        for (i, t) in self.types.iter().enumerate() {
            let (code, flag) = t.unwrap_or((MYSQL_TYPE_NULL, 0));
            if let Some(slot) = self.packet.get_mut(HEADER_LEN + 2 * i..HEADER_LEN + 2 * i + 2) {
                slot.copy_from_slice(&[code, flag]);
            }
        }
        self.packet
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::{Date, DateTime};

    const NO_LIMIT: usize = usize::MAX;

    fn bulk(id: u32, rows: &[Vec<Value>]) -> Vec<u8> {
        let mut b = BulkExecute::new(id, rows.first().map_or(0, Vec::len));
        for row in rows {
            assert_eq!(b.push_row(row, Encoding::Utf8mb4, NO_LIMIT), Ok(Pushed::Added));
        }
        b.finish()
    }

    /// Each byte written out from MariaDB's documentation of COM_STMT_BULK_EXECUTE.
    #[test]
    fn matches_the_documented_layout() {
        let rows = [
            vec![Value::Int(1), Value::Text("ab".into()), Value::Null],
            vec![Value::Null, Value::Text("".into()), Value::UInt(7)],
        ];
        let want: &[u8] = b"\xfa\
            \x05\x00\x00\x00\
            \x80\x00\
            \x08\x00\xfd\x00\x08\x80\
            \x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x02ab\x01\
            \x01\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00";
        assert_eq!(bulk(5, &rows), want);
    }

    #[test]
    fn a_parameter_null_in_every_row_is_sent_as_null_type() {
        let rows = [vec![Value::Null, Value::Double(0.5)], vec![Value::Null, Value::Double(-1.0)]];
        let mut want = b"\xfa\x01\x00\x00\x00\x80\x00\x06\x00\x05\x00".to_vec();
        for d in [0.5f64, -1.0] {
            want.extend_from_slice(&[STMT_INDICATOR_NULL, STMT_INDICATOR_NONE]);
            want.extend_from_slice(&d.to_le_bytes());
        }
        assert_eq!(bulk(1, &rows), want);
    }

    #[test]
    fn values_take_their_binary_form() {
        let dt = DateTime {
            date: Date { year: 2024, month: 2, day: 29 },
            hour: 23,
            minute: 59,
            second: 58,
            microsecond: 123456,
        };
        let rows = [vec![Value::DateTime(dt), Value::Decimal("-1.50".into()), Value::Bytes(vec![0, 0xff])]];
        let want: &[u8] = b"\xfa\x02\x00\x00\x00\x80\x00\x0c\x00\xf6\x00\xfc\x00\
            \x00\x0b\xe8\x07\x02\x1d\x17\x3b\x3a\x40\xe2\x01\x00\
            \x00\x05-1.50\
            \x00\x02\x00\xff";
        assert_eq!(bulk(2, &rows), want);
    }

    #[test]
    fn rows_of_other_types_and_rows_past_the_limit_are_left_out() {
        let mut b = BulkExecute::new(9, 1);
        assert_eq!(b.push_row(&[Value::Null], Encoding::Utf8mb4, NO_LIMIT), Ok(Pushed::Added));
        assert_eq!(b.push_row(&[Value::Int(1)], Encoding::Utf8mb4, NO_LIMIT), Ok(Pushed::Added));
        // Signed then unsigned BIGINT: the server reads a whole request with one type.
        assert_eq!(b.push_row(&[Value::UInt(1)], Encoding::Utf8mb4, NO_LIMIT), Ok(Pushed::TypesDiffer));
        let len = b.len();
        assert_eq!(len, 9 + 1 + 9);
        assert_eq!(b.push_row(&[Value::Int(2)], Encoding::Utf8mb4, len + 8), Ok(Pushed::Full));
        assert_eq!(b.len(), len);
        assert_eq!(b.push_row(&[Value::Int(2)], Encoding::Utf8mb4, len + 9), Ok(Pushed::Added));
        assert_eq!(b.rows(), 3);
        assert_eq!(&b.finish()[7..9], b"\x08\x00");
    }

    #[test]
    fn bad_values_and_counts_are_errors_and_change_nothing() {
        let mut b = BulkExecute::new(1, 2);
        assert!(b.push_row(&[Value::Int(1), Value::Double(f64::NAN)], Encoding::Utf8mb4, NO_LIMIT).is_err());
        assert!(b.push_row(&[Value::Int(1)], Encoding::Utf8mb4, NO_LIMIT).is_err());
        assert!(b.push_row(&[Value::Text("ż".into()), Value::Null], Encoding::Latin1, NO_LIMIT).is_err());
        assert_eq!((b.rows(), b.len()), (0, 11));
        assert_eq!(b.finish(), b"\xfa\x01\x00\x00\x00\x80\x00\x06\x00\x06\x00");
    }
}
