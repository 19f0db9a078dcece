//! Text protocol row (ProtocolText::ResultsetRow): one length-encoded string or NULL per column.

use super::buf::Reader;
use super::column::Column;
use super::text_value::decode_text_value;
use super::value::Value;
use crate::error::ProtocolError;

/// Decodes a row packet into one value per column.
pub fn decode_text_row(payload: &[u8], columns: &[Column]) -> Result<Vec<Value>, ProtocolError> {
    let mut r = Reader::new(payload);
    let mut row = Vec::with_capacity(columns.len());
    for column in columns {
        let raw = r.lenenc_bytes_or_null("row value")?;
        row.push(decode_text_value(column, raw)?);
    }
    if !r.is_empty() {
        return Err(ProtocolError::InvalidValue("row with more values than columns"));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::column_type::*;

    fn column(column_type: u8, charset: u16) -> Column {
        Column {
            schema: String::new(),
            table: String::new(),
            org_table: String::new(),
            name: "c".into(),
            org_name: "c".into(),
            charset,
            length: 0,
            column_type,
            flags: 0,
            decimals: 0,
        }
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
}
