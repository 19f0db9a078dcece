//! Rows turned into columns for bulk reads: one buffer a column instead of a value a cell.
//!
//! Across the component boundary a `list<list<value>>` costs a variant and, for strings, a list
//! per cell, each lowered by the guest and lifted by the host one at a time. A column batch is a
//! handful of flat lists a column (`list<s64>`, `list<u8>` with the cell ends), which the
//! canonical ABI copies as blocks.

use std::borrow::Cow;

use crate::error::Error;
use crate::protocol::buf::Reader;
use crate::protocol::charset::encoding_of_collation;
use crate::protocol::column::Column;
use crate::protocol::constants::{column_flag, column_type::*};
use crate::protocol::conversions::text_form;
use crate::protocol::error::ProtocolError;
use crate::protocol::escape::{write_date, write_datetime, write_time};
use crate::protocol::text_value::{decode_text_value, is_plain_string, is_text_as_sent, text_as_sent, CellError};
use crate::protocol::value::Value;

/// Rows of a result, column by column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnBatch {
    /// How many rows the batch holds; every column has this many cells.
    pub rows: u32,
    /// One a column, in column order.
    pub columns: Vec<ColumnValues>,
}

/// One column's cells.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnValues {
    /// A bit a row, least significant bit first: set where the cell is NULL.
    pub nulls: Vec<u8>,
    pub data: ColumnData,
}

/// A column's cells in the narrowest form that holds every one of them. The form follows the
/// column's type (see [`ColumnBatch::from_rows`]); NULL cells hold 0 or no bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Signed integers and YEAR.
    Int(Vec<i64>),
    /// UNSIGNED integers and BIT.
    UInt(Vec<u64>),
    /// FLOAT (widened exactly) and DOUBLE.
    Double(Vec<f64>),
    /// Everything else, as the text protocol writes it, in UTF-8: DECIMAL, strings, dates and
    /// times, JSON, ENUM, SET (members joined by commas).
    Text(VarLen),
    /// Binary strings and GEOMETRY; also a text column holding a value that is not valid in its
    /// character set, which then keeps its bytes as they came.
    Bytes(VarLen),
}

/// Cells of varying length in one buffer: cell `i` is `data[ends[i - 1]..ends[i]]` (from 0 for the
/// first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VarLen {
    pub ends: Vec<u32>,
    pub data: Vec<u8>,
}

impl VarLen {
    fn push(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.data.extend_from_slice(bytes);
        let end = u32::try_from(self.data.len()).map_err(|_| too_large())?;
        self.ends.push(end);
        Ok(())
    }

    /// A cell as the text protocol writes `v`; dates and times go through `scratch`, one buffer a
    /// column rather than a String a cell.
    fn push_text_form(&mut self, v: &Value, column: &Column, scratch: &mut String) -> Result<(), Error> {
        scratch.clear();
        match v {
            Value::Date(d) => write_date(scratch, d),
            Value::DateTime(d) | Value::Timestamp(d) => write_datetime(scratch, d, ' ', column.decimals),
            Value::Time(t) => write_time(scratch, t, column.decimals),
            _ => return self.push(&text_form(v, column).unwrap_or(Cow::Borrowed(&[]))),
        }
        self.push(scratch.as_bytes())
    }
}

impl ColumnData {
    fn empty(kind: Kind) -> ColumnData {
        match kind {
            Kind::Int => ColumnData::Int(Vec::new()),
            Kind::UInt => ColumnData::UInt(Vec::new()),
            Kind::Double => ColumnData::Double(Vec::new()),
            Kind::Text => ColumnData::Text(VarLen::default()),
            Kind::Bytes => ColumnData::Bytes(VarLen::default()),
        }
    }
}

impl ColumnValues {
    fn new(kind: Kind) -> ColumnValues {
        ColumnValues { nulls: Vec::new(), data: ColumnData::empty(kind) }
    }

    /// Row `row`'s cell, `v`, decoded: its NULL bit, and its value into the column.
    fn push(&mut self, row: usize, v: &Value, column: &Column, scratch: &mut String) -> Result<(), Error> {
        self.start_row(row);
        if matches!(v, Value::Null) {
            if let Some(bits) = self.nulls.last_mut() {
                *bits |= 1 << (row % 8);
            }
        }
        push_value(&mut self.data, v, column, scratch)
    }

    /// A new byte of NULL bits every eighth row.
    fn start_row(&mut self, row: usize) {
        if row.is_multiple_of(8) {
            self.nulls.push(0);
        }
    }
}

fn too_large() -> Error {
    Error::NotSupported("a column batch past 4 GiB: fetch fewer rows at a time".into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    UInt,
    Double,
    Text,
    Bytes,
}

impl Kind {
    fn of_value(v: &Value) -> Option<Kind> {
        Some(match v {
            Value::Null => return None,
            Value::Int(_) | Value::Year(_) => Kind::Int,
            Value::UInt(_) | Value::Bit(_) => Kind::UInt,
            Value::Float(_) | Value::Double(_) => Kind::Double,
            Value::Bytes(_) | Value::Geometry(_) => Kind::Bytes,
            _ => Kind::Text,
        })
    }

    /// What a column of this definition decodes to when no cell says otherwise (all NULL).
    fn of_column(c: &Column) -> Kind {
        let unsigned = c.flags & column_flag::UNSIGNED_FLAG != 0;
        match c.column_type {
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONGLONG
                if unsigned =>
            {
                Kind::UInt
            }
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONGLONG
            | MYSQL_TYPE_YEAR => Kind::Int,
            MYSQL_TYPE_BIT => Kind::UInt,
            MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => Kind::Double,
            MYSQL_TYPE_GEOMETRY => Kind::Bytes,
            MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_BLOB
            | MYSQL_TYPE_VAR_STRING
            | MYSQL_TYPE_STRING
            | MYSQL_TYPE_VARCHAR
                if c.charset == 63 =>
            {
                Kind::Bytes
            }
            _ => Kind::Text,
        }
    }
}

impl ColumnBatch {
    /// `rows` of a result with `columns`, column by column. A column's form is the one its cells'
    /// values share (a connection's converters can change a type's value); cells of different
    /// forms in one column all become text, or bytes if one of them is bytes. An error only when
    /// a column's bytes pass 4 GiB, which a `list<u8>` cannot index.
    pub fn from_rows<'r>(columns: &[Column], rows: &'r [Vec<Value>]) -> Result<ColumnBatch, Error> {
        let n = u32::try_from(rows.len()).map_err(|_| too_large())?;
        let mut out = Vec::with_capacity(columns.len());
        let mut scratch = String::new();
        for (i, column) in columns.iter().enumerate() {
            let cell = |row: &'r Vec<Value>| -> &'r Value { row.get(i).unwrap_or(&Value::Null) };
            let mut kind = None;
            for v in rows.iter().map(cell) {
                kind = match (kind, Kind::of_value(v)) {
                    (k, None) => k,
                    (None, k) => k,
                    (Some(a), Some(b)) if a == b => Some(a),
                    (Some(Kind::Bytes), _) | (_, Some(Kind::Bytes)) => Some(Kind::Bytes),
                    _ => Some(Kind::Text),
                };
            }
            let mut values = ColumnValues::new(kind.unwrap_or_else(|| Kind::of_column(column)));
            for (r, v) in rows.iter().map(cell).enumerate() {
                values.push(r, v, column, &mut scratch)?;
            }
            out.push(values);
        }
        Ok(ColumnBatch { rows: n, columns: out })
    }
}

/// A batch built straight from text-protocol row packets (ProtocolText::ResultsetRow), for a
/// result read with no converters: strings go from the packet into their column's buffer, and only
/// the other cells are decoded, to values that need no allocation but DECIMAL's. The batch is the
/// one [`ColumnBatch::from_rows`] makes of the same rows decoded.
pub struct TextColumns<'c> {
    columns: &'c [Column],
    out: Vec<ColumnValues>,
    rows: u32,
    scratch: String,
}

impl<'c> TextColumns<'c> {
    pub fn new(columns: &'c [Column]) -> TextColumns<'c> {
        let out = columns.iter().map(|c| ColumnValues::new(Kind::of_column(c))).collect();
        TextColumns { columns, out, rows: 0, scratch: String::new() }
    }

    /// Rows added so far.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Adds one row packet. As for [`decode_text_row`](crate::protocol::text_row::decode_text_row),
    /// a value outside its type's domain is reported only once the whole row is known to be
    /// well-formed; after any error the batch is to be dropped.
    pub fn push_row(&mut self, payload: &[u8]) -> Result<(), Error> {
        let mut r = Reader::new(payload);
        let row = self.rows as usize;
        let mut refused = None;
        for (column, out) in self.columns.iter().zip(self.out.iter_mut()) {
            let raw = r.lenenc_bytes_or_null("row value").map_err(CellError::from)?;
            let value = match raw {
                Some(raw) if is_plain_string(column) => {
                    out.start_row(row);
                    push_string(&mut out.data, column, raw)?;
                    continue;
                }
                // DECIMAL and JSON: checked, then copied from the packet, not through a String.
                Some(raw) if is_text_as_sent(column) => {
                    let text = text_as_sent(column, raw)?;
                    out.start_row(row);
                    push_utf8(&mut out.data, text)?;
                    continue;
                }
                raw => match decode_text_value(column, raw) {
                    Ok(v) => v,
                    Err(e @ CellError::OutOfDomain(_)) => {
                        refused.get_or_insert(e);
                        Value::Null
                    }
                    Err(e) => return Err(e.into()),
                },
            };
            out.push(row, &value, column, &mut self.scratch)?;
        }
        if !r.is_empty() {
            return Err(CellError::from(ProtocolError::InvalidValue("row with more values than columns")).into());
        }
        if let Some(e) = refused {
            return Err(e.into());
        }
        self.rows = self.rows.checked_add(1).ok_or_else(too_large)?;
        Ok(())
    }

    pub fn finish(self) -> ColumnBatch {
        ColumnBatch { rows: self.rows, columns: self.out }
    }
}

/// A string cell as `decode_string` reads it: bytes for the binary charset or text not valid in
/// the column's, else its text in UTF-8 (the same bytes for a UTF-8 connection).
fn push_string(data: &mut ColumnData, column: &Column, raw: &[u8]) -> Result<(), Error> {
    let text = if column.charset == 63 { None } else { encoding_of_collation(column.charset).decode(raw) };
    match (data, text) {
        (data, Some(text)) => push_utf8(data, &text),
        (data @ ColumnData::Text(_), None) => {
            into_bytes(data);
            push_string(data, column, raw)
        }
        (ColumnData::Bytes(cells), None) => cells.push(raw),
        _ => Err(Error::Interface("a string column that is not text or bytes".into())),
    }
}

/// Text into a text or bytes column.
fn push_utf8(data: &mut ColumnData, text: &str) -> Result<(), Error> {
    match data {
        ColumnData::Text(cells) | ColumnData::Bytes(cells) => cells.push(text.as_bytes()),
        _ => Err(Error::Interface("text for a column of numbers".into())),
    }
}

/// A decoded cell into its column; a text column that meets bytes becomes a bytes column.
fn push_value(data: &mut ColumnData, v: &Value, column: &Column, scratch: &mut String) -> Result<(), Error> {
    match (data, v) {
        (ColumnData::Int(c), Value::Int(i)) => c.push(*i),
        (ColumnData::Int(c), Value::Year(y)) => c.push(i64::from(*y)),
        (ColumnData::UInt(c), Value::UInt(u) | Value::Bit(u)) => c.push(*u),
        (ColumnData::Double(c), Value::Double(d)) => c.push(*d),
        (ColumnData::Double(c), Value::Float(f)) => c.push(f64::from(*f)),
        (ColumnData::Int(c), Value::Null) => c.push(0),
        (ColumnData::UInt(c), Value::Null) => c.push(0),
        (ColumnData::Double(c), Value::Null) => c.push(0.0),
        (data @ ColumnData::Text(_), Value::Bytes(_) | Value::Geometry(_)) => {
            into_bytes(data);
            return push_value(data, v, column, scratch);
        }
        (ColumnData::Text(cells) | ColumnData::Bytes(cells), v) => cells.push_text_form(v, column, scratch)?,
        // Column forms follow decode_text_value's types, so a number always meets its own form.
        _ => return Err(Error::Interface("a decoded value unlike its column type".into())),
    }
    Ok(())
}

fn into_bytes(data: &mut ColumnData) {
    if let ColumnData::Text(cells) = data {
        *data = ColumnData::Bytes(std::mem::take(cells));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::{Date, DateTime, Time};

    fn column(column_type: u8, flags: u16, charset: u16, decimals: u8) -> Column {
        Column { flags, charset, decimals, ..Column::of_type(column_type) }
    }

    fn text(ends: &[u32], data: &str) -> ColumnData {
        ColumnData::Text(VarLen { ends: ends.to_vec(), data: data.as_bytes().to_vec() })
    }

    fn row_packet(cells: &[Option<&[u8]>]) -> Vec<u8> {
        let mut p = Vec::new();
        for cell in cells {
            match cell {
                None => p.push(0xfb),
                Some(b) => {
                    p.push(u8::try_from(b.len()).unwrap());
                    p.extend_from_slice(b);
                }
            }
        }
        p
    }

    /// Straight from the packets and through decoded values, every column type gives the same
    /// batch: the two paths are one behaviour.
    #[test]
    fn text_rows_give_the_batch_their_decoded_values_give() {
        let columns = [
            column(MYSQL_TYPE_TINY, 0, 63, 0),
            column(MYSQL_TYPE_LONGLONG, column_flag::UNSIGNED_FLAG, 63, 0),
            column(MYSQL_TYPE_FLOAT, 0, 63, 31),
            column(MYSQL_TYPE_DOUBLE, 0, 63, 31),
            column(MYSQL_TYPE_NEWDECIMAL, 0, 63, 2),
            column(MYSQL_TYPE_VAR_STRING, 0, 45, 0),
            column(MYSQL_TYPE_VAR_STRING, 0, 8, 0),
            column(MYSQL_TYPE_BLOB, column_flag::BLOB_FLAG, 63, 0),
            column(MYSQL_TYPE_DATE, 0, 63, 0),
            column(MYSQL_TYPE_DATETIME, 0, 63, 6),
            column(MYSQL_TYPE_TIME, 0, 63, 2),
            column(MYSQL_TYPE_YEAR, column_flag::UNSIGNED_FLAG, 63, 0),
            column(MYSQL_TYPE_BIT, column_flag::UNSIGNED_FLAG, 63, 0),
            column(MYSQL_TYPE_STRING, column_flag::SET_FLAG, 45, 0),
            column(MYSQL_TYPE_STRING, column_flag::ENUM_FLAG, 45, 0),
            column(MYSQL_TYPE_JSON, 0, 63, 0),
            column(MYSQL_TYPE_GEOMETRY, 0, 63, 0),
            column(MYSQL_TYPE_NULL, 0, 63, 0),
            column(200, 0, 45, 0),
            column(MYSQL_TYPE_VAR_STRING, 0, 45, 0),
        ];
        let rows: [[Option<&[u8]>; 20]; 3] = [
            [
                Some(b"-128"),
                Some(b"18446744073709551615"),
                Some(b"1.5"),
                Some(b"-2.25e300"),
                Some(b"-0.01"),
                Some("Zoë".as_bytes()),
                Some(b"caf\xe9"),
                Some(b"\x00\xff"),
                Some(b"0000-00-00"),
                Some(b"2024-02-29 23:59:59.000007"),
                Some(b"-838:59:59.50"),
                Some(b"2155"),
                Some(b"\x0a"),
                Some(b"a,b"),
                Some(b"x"),
                Some(br#"{"k": [1]}"#),
                Some(b"\0\0\0\0\x01"),
                None,
                Some(b"?"),
                Some(b"ok"),
            ],
            [None; 20],
            [
                Some(b"7"),
                Some(b"0"),
                Some(b"-0"),
                Some(b"0"),
                Some(b"12.50"),
                Some(b""),
                Some(b"plain"),
                Some(b""),
                Some(b"2000-01-01"),
                Some(b"2000-01-01 00:00:00.000000"),
                Some(b"00:00:01.00"),
                Some(b"1901"),
                Some(b"\x00"),
                Some(b""),
                Some(b"y"),
                Some(b"null"),
                Some(b""),
                None,
                Some(b"\xff"),
                // Not UTF-8 in a utf8mb4 column: the column becomes bytes, as decoded values make it.
                Some(b"\xc3"),
            ],
        ];
        let packets: Vec<Vec<u8>> = rows.iter().map(|r| row_packet(r)).collect();
        let mut straight = TextColumns::new(&columns);
        for p in &packets {
            straight.push_row(p).unwrap();
        }
        let decoded: Vec<Vec<Value>> =
            packets.iter().map(|p| crate::protocol::text_row::decode_text_row(p, &columns).unwrap()).collect();
        let through_values = ColumnBatch::from_rows(&columns, &decoded).unwrap();
        let straight = straight.finish();
        assert_eq!(straight, through_values);
        assert_eq!(straight.columns[6].data, text(&[5, 5, 10], "caféplain"));
        assert!(matches!(straight.columns[19].data, ColumnData::Bytes(_)));
    }

    #[test]
    fn a_text_row_that_breaks_the_protocol_or_a_domain_is_an_error() {
        let columns = [column(MYSQL_TYPE_TINY, 0, 63, 0), column(MYSQL_TYPE_VAR_STRING, 0, 45, 0)];
        for bad in [
            row_packet(&[Some(b"300"), Some(b"x")]),
            row_packet(&[Some(b"1")]),
            row_packet(&[Some(b"1"), Some(b"x"), Some(b"extra")]),
            vec![0x01, b'1', 0x05, b'x'],
            row_packet(&[Some(b"one"), Some(b"x")]),
        ] {
            let mut b = TextColumns::new(&columns);
            assert!(b.push_row(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_type_takes_its_column_form() {
        let columns = [
            column(MYSQL_TYPE_LONGLONG, 0, 63, 0),
            column(MYSQL_TYPE_LONGLONG, column_flag::UNSIGNED_FLAG, 63, 0),
            column(MYSQL_TYPE_FLOAT, 0, 63, 31),
            column(MYSQL_TYPE_NEWDECIMAL, 0, 63, 2),
            column(MYSQL_TYPE_VAR_STRING, 0, 45, 0),
            column(MYSQL_TYPE_BLOB, column_flag::BLOB_FLAG, 63, 0),
            column(MYSQL_TYPE_DATETIME, 0, 63, 6),
            column(MYSQL_TYPE_TIME, 0, 63, 3),
            column(MYSQL_TYPE_SET, 0, 45, 0),
            column(MYSQL_TYPE_YEAR, 0, 63, 0),
        ];
        let rows = vec![
            vec![
                Value::Int(i64::MIN),
                Value::UInt(u64::MAX),
                Value::Float(1.5),
                Value::Decimal("-0.01".into()),
                Value::Text("Zoë".into()),
                Value::Bytes(vec![0, 255]),
                Value::DateTime(DateTime {
                    date: Date { year: 2024, month: 2, day: 29 },
                    hour: 23,
                    minute: 59,
                    second: 59,
                    microsecond: 7,
                }),
                Value::Time(Time { negative: true, hours: 838, minutes: 59, seconds: 59, microseconds: 500_000 }),
                Value::Set(vec!["a".into(), "b".into()]),
                Value::Year(2155),
            ],
            vec![Value::Null; 10],
            vec![
                Value::Int(7),
                Value::UInt(0),
                Value::Double(-2.25),
                Value::Decimal("12.50".into()),
                Value::Text(String::new()),
                Value::Bytes(vec![]),
                Value::Date(Date { year: 0, month: 0, day: 0 }),
                Value::Time(Time { negative: false, hours: 0, minutes: 0, seconds: 1, microseconds: 0 }),
                Value::Set(vec![]),
                Value::Year(0),
            ],
        ];
        let b = ColumnBatch::from_rows(&columns, &rows).unwrap();
        assert_eq!(b.rows, 3);
        let data: Vec<&ColumnData> = b.columns.iter().map(|c| &c.data).collect();
        assert_eq!(data[0], &ColumnData::Int(vec![i64::MIN, 0, 7]));
        assert_eq!(data[1], &ColumnData::UInt(vec![u64::MAX, 0, 0]));
        assert_eq!(data[2], &ColumnData::Double(vec![1.5, 0.0, -2.25]));
        assert_eq!(data[3], &text(&[5, 5, 10], "-0.0112.50"));
        assert_eq!(data[4], &text(&[4, 4, 4], "Zoë"));
        assert_eq!(data[5], &ColumnData::Bytes(VarLen { ends: vec![2, 2, 2], data: vec![0, 255] }));
        assert_eq!(data[6], &text(&[26, 26, 36], "2024-02-29 23:59:59.0000070000-00-00"));
        assert_eq!(data[7], &text(&[14, 14, 26], "-838:59:59.50000:00:01.000"));
        assert_eq!(data[8], &text(&[3, 3, 3], "a,b"));
        assert_eq!(data[9], &ColumnData::Int(vec![2155, 0, 0]));
        // Row 1 is NULL in every column, and nothing else is.
        assert!(b.columns.iter().all(|c| c.nulls == [0b010]));
    }

    #[test]
    fn an_all_null_column_takes_its_form_from_the_definition() {
        let columns = [
            column(MYSQL_TYPE_LONG, column_flag::UNSIGNED_FLAG, 63, 0),
            column(MYSQL_TYPE_DOUBLE, 0, 63, 31),
            column(MYSQL_TYPE_STRING, 0, 63, 0),
            column(MYSQL_TYPE_STRING, 0, 45, 0),
        ];
        let rows: Vec<Vec<Value>> = (0..9).map(|_| vec![Value::Null; 4]).collect();
        let b = ColumnBatch::from_rows(&columns, &rows).unwrap();
        let empty = VarLen { ends: vec![0; 9], data: vec![] };
        assert_eq!(
            b.columns.iter().map(|c| c.data.clone()).collect::<Vec<_>>(),
            [
                ColumnData::UInt(vec![0; 9]),
                ColumnData::Double(vec![0.0; 9]),
                ColumnData::Bytes(empty.clone()),
                ColumnData::Text(empty)
            ]
        );
        assert!(b.columns.iter().all(|c| c.nulls == [0xff, 0x01]));
    }

    #[test]
    fn mixed_forms_in_one_column_become_text_or_bytes() {
        let columns = [column(MYSQL_TYPE_VAR_STRING, 0, 45, 0), column(MYSQL_TYPE_VAR_STRING, 0, 45, 0)];
        // Text that was not valid in its charset arrives as bytes; a converter may return numbers.
        let rows = vec![
            vec![Value::Text("ok".into()), Value::Int(-5)],
            vec![Value::Bytes(vec![0xff]), Value::Text("x".into())],
        ];
        let b = ColumnBatch::from_rows(&columns, &rows).unwrap();
        assert_eq!(b.columns[0].data, ColumnData::Bytes(VarLen { ends: vec![2, 3], data: b"ok\xff".to_vec() }));
        assert_eq!(b.columns[1].data, text(&[2, 3], "-5x"));
    }

    #[test]
    fn short_rows_read_as_null_and_no_rows_is_an_empty_batch() {
        let columns = [column(MYSQL_TYPE_LONG, 0, 63, 0), column(MYSQL_TYPE_LONG, 0, 63, 0)];
        let b = ColumnBatch::from_rows(&columns, &[vec![Value::Int(1)]]).unwrap();
        assert_eq!(b.columns[1].nulls, [1]);
        let empty = ColumnBatch::from_rows(&columns, &[]).unwrap();
        assert_eq!(empty.rows, 0);
        assert!(empty.columns.iter().all(|c| c.nulls.is_empty() && c.data == ColumnData::Int(vec![])));
    }
}
