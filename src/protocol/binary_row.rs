//! Binary Protocol Resultset Row: a 0x00 header, a NULL bitmap (offset 2), then each non-NULL
//! value in its binary form.

use super::binary_value::decode_binary_value;
use super::buf::Reader;
use super::column::Column;
use super::text_value::CellError;
use super::value::Value;
use crate::protocol::error::ProtocolError;

/// The first two bits of a result row's NULL bitmap are reserved.
const ROW_BITMAP_OFFSET: usize = 2;

/// Decodes a binary row packet into one value per column.
///
/// As in the text path, a value outside its type's domain is reported only once the whole row
/// has been read and found well-formed.
pub fn decode_binary_row(payload: &[u8], columns: &[Column]) -> Result<Vec<Value>, CellError> {
    let mut r = Reader::new(payload);
    if r.u8("binary row header")? != 0x00 {
        return Err(ProtocolError::InvalidValue("binary row header").into());
    }
    let bitmap = r.take((columns.len() + ROW_BITMAP_OFFSET).div_ceil(8), "binary row NULL bitmap")?;
    let mut row = Vec::with_capacity(columns.len());
    let mut refused = None;
    for (i, column) in columns.iter().enumerate() {
        let bit = i + ROW_BITMAP_OFFSET;
        let is_null = bitmap.get(bit / 8).is_some_and(|b| b & (1 << (bit % 8)) != 0);
        if is_null {
            row.push(Value::Null);
            continue;
        }
        match decode_binary_value(column, &mut r) {
            Ok(value) => row.push(value),
            Err(e @ CellError::OutOfDomain(_)) => {
                refused.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    if !r.is_empty() {
        return Err(ProtocolError::InvalidValue("binary row with more values than columns").into());
    }
    match refused {
        Some(e) => Err(e),
        None => Ok(row),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::protocol::value::{Date, DateTime, Time};

    /// Debian's MariaDB 10.11.19 on loopback under CLIENT_DEPRECATE_EOF, captured: `test.edge`
    /// holds one row of edge values of every type, the NULL in its last column
    /// (`CREATE TABLE test.edge (ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, i INT,
    /// bi BIGINT, bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, de DECIMAL(65,30), da DATE, dt DATETIME(6),
    /// ts TIMESTAMP(6) NULL, tm TIME(6), y YEAR, b BIT(64), j JSON, g GEOMETRY, e ENUM('a','b'),
    /// s SET('x','y','z'), v VARCHAR(20), vb VARBINARY(20), n INT)` in a latin1 database, read over
    /// a utf8mb4 connection with time_zone '+00:00').
    pub(crate) mod captured {
        /// COM_STMT_PREPARE_OK of `SELECT * FROM test.edge WHERE n IS NULL AND ti = ?`.
        pub const PREPARE_OK: &[u8] = b"\x00\x07\x00\x00\x00\x17\x00\x01\x00\x00\x00\x00";
        /// Its one parameter definition.
        pub const PARAM_DEF: &[u8] = b"\x03def\x00\x00\x00\x01?\x00\x0c?\x00\x00\x00\x00\x00\x06\x80\x00\x00\x00\x00";
        /// The column definitions of the result of executing it.
        pub const COLUMNS: &[&[u8]] = &[
            b"\x03def\x04test\x04edge\x04edge\x02ti\x02ti\x0c?\x00\x04\x00\x00\x00\x01\x00\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02tu\x02tu\x0c?\x00\x03\x00\x00\x00\x01 \x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02si\x02si\x0c?\x00\x06\x00\x00\x00\x02\x00\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02mi\x02mi\x0c?\x00\x09\x00\x00\x00\x09\x00\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01i\x01i\x0c?\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02bi\x02bi\x0c?\x00\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02bu\x02bu\x0c?\x00\x14\x00\x00\x00\x08 \x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01f\x01f\x0c?\x00\x0c\x00\x00\x00\x04\x00\x00\x1f\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01d\x01d\x0c?\x00\x16\x00\x00\x00\x05\x00\x00\x1f\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02de\x02de\x0c?\x00C\x00\x00\x00\xf6\x00\x00\x1e\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02da\x02da\x0c?\x00\x0a\x00\x00\x00\x0a\x80\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02dt\x02dt\x0c?\x00\x1a\x00\x00\x00\x0c\x80\x00\x06\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02ts\x02ts\x0c?\x00\x1a\x00\x00\x00\x07\xa0\x00\x06\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02tm\x02tm\x0c?\x00\x11\x00\x00\x00\x0b\x80\x00\x06\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01y\x01y\x0c?\x00\x04\x00\x00\x00\x0d`\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01b\x01b\x0c?\x00@\x00\x00\x00\x10 \x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01j\x01j\x0c-\x00\xff\xff\xff\xff\xfc\x90\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01g\x01g\x0c?\x00\xff\xff\xff\xff\xff\x90\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01e\x01e\x0c-\x00\x04\x00\x00\x00\xfe\x00\x01\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01s\x01s\x0c-\x00\x14\x00\x00\x00\xfe\x00\x08\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01v\x01v\x0c-\x00P\x00\x00\x00\xfd\x00\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x02vb\x02vb\x0c?\x00\x14\x00\x00\x00\xfd\x80\x00\x00\x00\x00",
            b"\x03def\x04test\x04edge\x04edge\x01n\x01n\x0c?\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00",
        ];
        /// The one binary row.
        pub const ROW: &[u8] = b"\x00\x00\x00\x00\x01\x80\xff\x00\x80\x00\x00\x80\xff\x00\x00\x00\x80\x00\x00\x00\x00\x00\x00\x00\x80\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\xc0?\x00\x00\x00\x00\x00\x00\x02\xc0C-12345678901234567890123456789012345.123456789012345678901234567890\x00\x0b\xe8\x07\x02\x1d\x17;;@\xe2\x01\x00\x0b\xf6\x07\x01\x13\x03\x0e\x07?B\x0f\x00\x0c\x01\x22\x00\x00\x00\x16;;?B\x0f\x00k\x08\x08\x00\x00\x00\x00\x00\x00\x00\x0a\x0d{\x22a\x22: [1, 2]}\x19\x00\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x00@\x01b\x03x,z\x05?\xc3\xb3?w\x02\x00\xff";
        /// The OK_Packet that ends the rows.
        pub const END: &[u8] = b"\xfe\x00\x00\x22\x00\x00\x00";
        /// The COM_STMT_EXECUTE request sent with ti = -128 (statement id 7).
        pub const EXECUTE: &[u8] =
            b"\x17\x07\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00\x80\xff\xff\xff\xff\xff\xff\xff";
    }

    pub(crate) fn edge_columns() -> Vec<Column> {
        captured::COLUMNS.iter().map(|p| Column::parse(p).unwrap()).collect()
    }

    fn dt(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8, microsecond: u32) -> DateTime {
        DateTime { date: Date { year, month, day }, hour, minute, second, microsecond }
    }

    #[test]
    fn decodes_a_captured_row_of_every_type() {
        let row = decode_binary_row(captured::ROW, &edge_columns()).unwrap();
        let point = b"\x00\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x00@";
        assert_eq!(
            row,
            vec![
                Value::Int(-128),
                Value::UInt(255),
                Value::Int(-32768),
                Value::Int(-8388608),
                Value::Int(i64::from(i32::MIN)),
                Value::Int(i64::MIN),
                Value::UInt(u64::MAX),
                Value::Float(1.5),
                Value::Double(-2.25),
                Value::Decimal("-12345678901234567890123456789012345.123456789012345678901234567890".into()),
                Value::Date(Date { year: 0, month: 0, day: 0 }),
                Value::DateTime(dt(2024, 2, 29, 23, 59, 59, 123456)),
                Value::Timestamp(dt(2038, 1, 19, 3, 14, 7, 999999)),
                Value::Time(Time { negative: true, hours: 838, minutes: 59, seconds: 59, microseconds: 999999 }),
                Value::Year(2155),
                Value::Bit(0b1010),
                // MariaDB's JSON is LONGTEXT on the wire, text in both protocols.
                Value::Text("{\"a\": [1, 2]}".into()),
                Value::Geometry(point.to_vec()),
                Value::Enum("b".into()),
                Value::Set(vec!["x".into(), "z".into()]),
                // 'żółw' in a latin1 column: what latin1 cannot hold became '?'.
                Value::Text("?ó?w".into()),
                Value::Bytes(vec![0x00, 0xff]),
                Value::Null,
            ]
        );
    }

    #[test]
    fn a_binary_row_is_never_taken_for_the_end_of_rows() {
        use crate::protocol::constants::capability::*;
        use crate::protocol::response::Response;
        let caps = CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF | CLIENT_SESSION_TRACK;
        assert_eq!(Response::parse_row_or_end(captured::ROW, caps), Ok(None));
        assert!(matches!(Response::parse_row_or_end(captured::END, caps), Ok(Some(Response::Ok(_)))));
    }

    #[test]
    fn truncated_or_long_rows_are_protocol_errors() {
        let columns = edge_columns();
        for n in 0..captured::ROW.len() {
            assert!(
                matches!(decode_binary_row(&captured::ROW[..n], &columns), Err(CellError::Malformed(_))),
                "prefix {n}"
            );
        }
        let mut long = captured::ROW.to_vec();
        long.push(0);
        assert!(matches!(decode_binary_row(&long, &columns), Err(CellError::Malformed(_))));
        let mut bad_header = captured::ROW.to_vec();
        bad_header[0] = 0x01;
        assert!(matches!(decode_binary_row(&bad_header, &columns), Err(CellError::Malformed(_))));
    }

    #[test]
    fn every_byte_flipped_never_panics() {
        let columns = edge_columns();
        for i in 0..captured::ROW.len() {
            for v in [0x00, 0x01, 0x0b, 0x7f, 0x80, 0xfb, 0xfc, 0xfe, 0xff] {
                let mut row = captured::ROW.to_vec();
                row[i] = v;
                let _ = decode_binary_row(&row, &columns);
            }
        }
    }

    #[test]
    fn the_null_bitmap_starts_at_bit_two() {
        // `SELECT CAST(NULL AS SIGNED), 1`, captured: the first column NULL (bit 2), then INT 1.
        let c = |p: &[u8]| Column::parse(p).unwrap();
        let columns = [
            c(b"\x03def\x00\x00\x00\x14CAST(NULL AS SIGNED)\x00\x0c?\x00\x02\x00\x00\x00\x03\x80\x00\x00\x00\x00"),
            c(b"\x03def\x00\x00\x00\x011\x00\x0c?\x00\x01\x00\x00\x00\x03\x81\x00\x00\x00\x00"),
        ];
        assert_eq!(decode_binary_row(b"\x00\x04\x01\x00\x00\x00", &columns), Ok(vec![Value::Null, Value::Int(1)]));
    }

    #[test]
    fn short_temporal_forms() {
        // `SELECT CAST('-00:00:00.5' AS TIME(6)), CAST('0000-00-00 00:00:00' AS DATETIME),
        // CAST('2024-01-02' AS DATETIME), CAST('12:00:00' AS TIME)`, captured.
        let c = |p: &[u8]| Column::parse(p).unwrap();
        let columns = [
            c(b"\x03def\x00\x00\x00\x1eCAST('-00:00:00.5' AS TIME(6))\x00\x0c?\x00\x11\x00\x00\x00\x0b\x80\x00\x06\x00\x00"),
            c(b"\x03def\x00\x00\x00'CAST('0000-00-00 00:00:00' AS DATETIME)\x00\x0c?\x00\x13\x00\x00\x00\x0c\x80\x00\x00\x00\x00"),
            c(b"\x03def\x00\x00\x00\x1eCAST('2024-01-02' AS DATETIME)\x00\x0c?\x00\x13\x00\x00\x00\x0c\x80\x00\x00\x00\x00"),
            c(b"\x03def\x00\x00\x00\x18CAST('12:00:00' AS TIME)\x00\x0c?\x00\x0a\x00\x00\x00\x0b\x80\x00\x00\x00\x00"),
        ];
        let row = b"\x00\x00\x0c\x01\x00\x00\x00\x00\x00\x00\x00 \xa1\x07\x00\x00\x04\xe8\x07\x01\x02\x08\x00\x00\x00\x00\x00\x0c\x00\x00";
        assert_eq!(
            decode_binary_row(row, &columns),
            Ok(vec![
                Value::Time(Time { negative: true, hours: 0, minutes: 0, seconds: 0, microseconds: 500000 }),
                Value::DateTime(DateTime::default()),
                Value::DateTime(dt(2024, 1, 2, 0, 0, 0, 0)),
                Value::Time(Time { negative: false, hours: 12, minutes: 0, seconds: 0, microseconds: 0 }),
            ])
        );
    }

    #[test]
    fn values_outside_their_domain_are_data_errors_once_the_row_is_read() {
        let columns = edge_columns();
        // The MEDIUMINT cell (4 bytes on the wire, after the header, the bitmap, TINYINT x2 and
        // SMALLINT) set past 24 bits.
        let mut row = captured::ROW.to_vec();
        let mi = 1 + 4 + 1 + 1 + 2;
        row[mi..mi + 4].copy_from_slice(&0x0100_0000u32.to_le_bytes());
        match decode_binary_row(&row, &columns) {
            Err(CellError::OutOfDomain(m)) => assert!(m.contains("MEDIUMINT"), "{m}"),
            other => panic!("{other:?}"),
        }
        // The same cell in a row cut short: the protocol error wins.
        assert!(matches!(decode_binary_row(&row[..row.len() - 1], &columns), Err(CellError::Malformed(_))));
    }
}
