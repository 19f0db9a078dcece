//! Text protocol row (ProtocolText::ResultsetRow): one length-encoded string or NULL per column.

use super::buf::Reader;
use super::column::Column;
use super::text_value::{decode_text_value, CellError};
use super::value::Value;
use crate::protocol::error::ProtocolError;

/// Decodes a row packet into one value per column.
///
/// A value outside its column type's domain is reported only once the whole row has been read
/// and found well-formed, so that the data error never hides a packet that breaks the protocol.
pub fn decode_text_row(payload: &[u8], columns: &[Column]) -> Result<Vec<Value>, CellError> {
    decode_text_row_with(payload, columns, decode_text_value)
}

/// [`decode_text_row`] with `decode` turning each cell (its raw bytes, `None` for NULL) into a
/// value: the caller's decoders by column type, falling back to [`decode_text_value`].
pub fn decode_text_row_with(
    payload: &[u8],
    columns: &[Column],
    mut decode: impl FnMut(&Column, Option<&[u8]>) -> Result<Value, CellError>,
) -> Result<Vec<Value>, CellError> {
    let mut r = Reader::new(payload);
    let mut row = Vec::with_capacity(columns.len());
    let mut refused = None;
    for column in columns {
        let raw = r.lenenc_bytes_or_null("row value")?;
        match decode(column, raw) {
            Ok(value) => row.push(value),
            Err(e @ CellError::OutOfDomain(_)) => {
                refused.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    if !r.is_empty() {
        return Err(ProtocolError::InvalidValue("row with more values than columns").into());
    }
    match refused {
        Some(e) => Err(e),
        None => Ok(row),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::column_type::*;

    fn column(column_type: u8, charset: u16) -> Column {
        Column { charset, ..Column::of_type(column_type) }
    }

    #[test]
    fn decodes_values_and_nulls() {
        let cols = [column(MYSQL_TYPE_LONGLONG, 63), column(MYSQL_TYPE_VAR_STRING, 45), column(MYSQL_TYPE_BLOB, 63)];
        let row = decode_text_row(b"\x0242\xfb\x02\x00\xff", &cols).unwrap();
        assert_eq!(row, vec![Value::Int(42), Value::Null, Value::Bytes(vec![0, 0xff])]);
    }

    #[test]
    fn short_and_long_rows_are_errors() {
        let cols = [column(MYSQL_TYPE_LONGLONG, 63), column(MYSQL_TYPE_LONGLONG, 63)];
        assert!(decode_text_row(b"\x0242", &cols).is_err());
        assert!(decode_text_row(b"\x0242\x011\x012", &cols).is_err());
        assert!(decode_text_row(b"\x0542", &cols).is_err());
    }

    #[test]
    fn an_out_of_range_value_is_a_data_error_only_in_a_well_formed_row() {
        let cols = [column(MYSQL_TYPE_TINY, 63), column(MYSQL_TYPE_LONGLONG, 63)];
        // TINYINT 99999, then a good BIGINT: the data error, once the row is read to its end.
        match decode_text_row(b"\x0599999\x0242", &cols) {
            Err(CellError::OutOfDomain(m)) => assert!(m.contains("TINYINT") && m.contains("99999"), "{m}"),
            other => panic!("{other:?}"),
        }
        // The same value in a row that breaks the framing or the next cell's form: a protocol error.
        for bad in [&b"\x0599999\x0242\x011"[..], b"\x0599999\x0542", b"\x0599999\x02ab"] {
            assert!(matches!(decode_text_row(bad, &cols), Err(CellError::Malformed(_))), "{bad:?}");
        }
        assert_eq!(decode_text_row(b"\x03127\x0242", &cols), Ok(vec![Value::Int(127), Value::Int(42)]));
    }
}
