//! Binary Protocol Value: one cell of a binary result row, and one parameter of COM_STMT_EXECUTE.
//!
//! Decoding yields the same [`Value`] the text protocol gives for the same cell, so a caller sees
//! no difference between the two paths: the string, ENUM, SET, BIT and DECIMAL rules are shared
//! with `text_value`, and values outside their type's domain are data errors there and here.

use super::buf::{put_lenenc_bytes, Reader};
use super::charset::Encoding;
use super::column::Column;
use super::constants::column_type::*;
use super::error::{InputError, ProtocolError};
use super::text_value::{decimal_text, decode_string_like, integer_domain, out_of_domain, CellError};
use super::value::{Date, DateTime, Time, Value};

/// The flag in the high byte of a parameter type that marks an unsigned integer.
pub const UNSIGNED_PARAM: u8 = 0x80;

/// TIME's range is -838:59:59.999999 to 838:59:59.999999.
const TIME_MAX_HOURS: u32 = 838;

/// Reads one non-NULL cell of `column` from a binary row.
pub fn decode_binary_value(column: &Column, r: &mut Reader<'_>) -> Result<Value, CellError> {
    let invalid = |what| CellError::Malformed(ProtocolError::InvalidValue(what));
    match column.column_type {
        MYSQL_TYPE_TINY => {
            let b = r.u8("TINYINT in a binary row")?;
            integer(column, if column.is_unsigned() { i128::from(b) } else { i128::from(b as i8) })
        }
        MYSQL_TYPE_SHORT => {
            let v = r.u16("SMALLINT in a binary row")?;
            integer(column, if column.is_unsigned() { i128::from(v) } else { i128::from(v as i16) })
        }
        MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG => {
            let v = r.u32("INT in a binary row")?;
            integer(column, if column.is_unsigned() { i128::from(v) } else { i128::from(v as i32) })
        }
        MYSQL_TYPE_LONGLONG => {
            let v = r.u64("BIGINT in a binary row")?;
            integer(column, if column.is_unsigned() { i128::from(v) } else { i128::from(v as i64) })
        }
        MYSQL_TYPE_YEAR => {
            let y = r.u16("YEAR in a binary row")?;
            let two_digit = column.length == 2 && y <= 99;
            if y == 0 || (1901..=2155).contains(&y) || two_digit {
                Ok(Value::Year(y))
            } else {
                Err(out_of_domain(column, "YEAR", y.to_string().as_bytes()))
            }
        }
        MYSQL_TYPE_FLOAT => Ok(Value::Float(f32::from_bits(r.u32("FLOAT in a binary row")?))),
        MYSQL_TYPE_DOUBLE => Ok(Value::Double(f64::from_bits(r.u64("DOUBLE in a binary row")?))),
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => {
            let raw = r.lenenc_bytes("DECIMAL in a binary row")?;
            decimal_text(raw).map(|s| Value::Decimal(s.to_owned())).ok_or(invalid("DECIMAL in a binary row"))
        }
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => {
            let dt = read_datetime(column, r, "DATE")?;
            Ok(Value::Date(dt.date))
        }
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => Ok(Value::DateTime(read_datetime(column, r, "DATETIME")?)),
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => Ok(Value::Timestamp(read_datetime(column, r, "TIMESTAMP")?)),
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Ok(Value::Time(read_time(column, r)?)),
        MYSQL_TYPE_NULL => Ok(Value::Null),
        _ => {
            // Every other type is a length-encoded string, decoded as the text protocol does.
            let raw = r.lenenc_bytes("string in a binary row")?;
            decode_string_like(column, raw)
        }
    }
}

/// An integer held to its column type's range, as the text path holds it (a 4-byte MEDIUMINT
/// with a value past 24 bits is refused the same way).
fn integer(column: &Column, value: i128) -> Result<Value, CellError> {
    let unsigned = column.is_unsigned();
    let (name, min, max) = integer_domain(column.column_type, unsigned);
    if value < min || value > max {
        let type_name = if unsigned { format!("{name} UNSIGNED") } else { name.to_string() };
        return Err(out_of_domain(column, &type_name, value.to_string().as_bytes()));
    }
    Ok(if unsigned {
        Value::UInt(u64::try_from(value).unwrap_or_default())
    } else {
        Value::Int(i64::try_from(value).unwrap_or_default())
    })
}

/// DATE, DATETIME and TIMESTAMP: a length (0, 4, 7 or 11), then year, month, day, hour, minute,
/// second and microseconds as far as the length reaches. Length 0 is the zero date.
fn read_datetime(column: &Column, r: &mut Reader<'_>, type_name: &'static str) -> Result<DateTime, CellError> {
    let what = "date in a binary row";
    let len = r.u8(what)?;
    if !matches!(len, 0 | 4 | 7 | 11) {
        return Err(CellError::Malformed(ProtocolError::InvalidValue(what)));
    }
    let mut dt = DateTime::default();
    if len >= 4 {
        dt.date = Date { year: r.u16(what)?, month: r.u8(what)?, day: r.u8(what)? };
    }
    if len >= 7 {
        (dt.hour, dt.minute, dt.second) = (r.u8(what)?, r.u8(what)?, r.u8(what)?);
    }
    if len == 11 {
        dt.microsecond = r.u32(what)?;
    }
    let Date { year, month, day } = dt.date;
    if year > 9999
        || month > 12
        || day > 31
        || dt.hour > 23
        || dt.minute > 59
        || dt.second > 59
        || dt.microsecond > 999_999
    {
        let text = format!(
            "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
            dt.hour, dt.minute, dt.second, dt.microsecond
        );
        return Err(out_of_domain(column, type_name, text.as_bytes()));
    }
    Ok(dt)
}

/// TIME: a length (0, 8 or 12), then the sign, days, hours, minutes, seconds and microseconds.
fn read_time(column: &Column, r: &mut Reader<'_>) -> Result<Time, CellError> {
    let what = "TIME in a binary row";
    let len = r.u8(what)?;
    if !matches!(len, 0 | 8 | 12) {
        return Err(CellError::Malformed(ProtocolError::InvalidValue(what)));
    }
    if len == 0 {
        return Ok(Time::default());
    }
    let negative = match r.u8(what)? {
        0 => false,
        1 => true,
        _ => return Err(CellError::Malformed(ProtocolError::InvalidValue(what))),
    };
    let days = r.u32(what)?;
    let (hour, minutes, seconds) = (r.u8(what)?, r.u8(what)?, r.u8(what)?);
    let microseconds = if len == 12 { r.u32(what)? } else { 0 };
    let hours = u64::from(days) * 24 + u64::from(hour);
    if hour > 23 || minutes > 59 || seconds > 59 || microseconds > 999_999 || hours > u64::from(TIME_MAX_HOURS) {
        let sign = if negative { "-" } else { "" };
        let text = format!("{sign}{days}d {hour:02}:{minutes:02}:{seconds:02}.{microseconds:06}");
        return Err(out_of_domain(column, "TIME", text.as_bytes()));
    }
    Ok(Time { negative, hours: hours as u32, minutes, seconds, microseconds })
}

/// The type a parameter is sent as: an `enum_field_types` code and the unsigned flag byte.
pub fn param_type(v: &Value) -> (u8, u8) {
    match v {
        Value::Null => (MYSQL_TYPE_NULL, 0),
        Value::Int(_) => (MYSQL_TYPE_LONGLONG, 0),
        Value::UInt(_) | Value::Bit(_) => (MYSQL_TYPE_LONGLONG, UNSIGNED_PARAM),
        Value::Year(_) => (MYSQL_TYPE_SHORT, UNSIGNED_PARAM),
        Value::Float(_) => (MYSQL_TYPE_FLOAT, 0),
        Value::Double(_) => (MYSQL_TYPE_DOUBLE, 0),
        Value::Decimal(_) => (MYSQL_TYPE_NEWDECIMAL, 0),
        // Text is read in character_set_client, as the same text in a COM_QUERY would be.
        Value::Text(_) | Value::Enum(_) | Value::Set(_) | Value::Json(_) => (MYSQL_TYPE_VAR_STRING, 0),
        // BLOB parameters carry the binary charset: the bytes are never converted.
        Value::Bytes(_) | Value::Geometry(_) => (MYSQL_TYPE_BLOB, 0),
        Value::Date(_) => (MYSQL_TYPE_DATE, 0),
        Value::DateTime(_) => (MYSQL_TYPE_DATETIME, 0),
        Value::Timestamp(_) => (MYSQL_TYPE_TIMESTAMP, 0),
        Value::Time(_) => (MYSQL_TYPE_TIME, 0),
    }
}

/// Whether a parameter is sent as a length-encoded string, and so can go as long data.
pub fn is_long_data_capable(v: &Value) -> bool {
    matches!(param_type(v).0, MYSQL_TYPE_VAR_STRING | MYSQL_TYPE_BLOB | MYSQL_TYPE_NEWDECIMAL)
}

/// The bytes of a string-like parameter (text encoded for the connection), `None` for the others.
pub fn param_bytes<'a>(v: &'a Value, encoding: Encoding) -> Result<Option<std::borrow::Cow<'a, [u8]>>, InputError> {
    use std::borrow::Cow;
    Ok(Some(match v {
        Value::Text(s) | Value::Enum(s) | Value::Json(s) => encoding.encode(s)?,
        Value::Decimal(s) => Cow::Borrowed(s.as_bytes()),
        Value::Set(members) => {
            // A comma inside a member would silently split it into two members.
            if let Some(m) = members.iter().find(|m| m.contains(',')) {
                return Err(InputError::Value(format!("SET member {m:?} contains a comma")));
            }
            Cow::Owned(encoding.encode(&members.join(","))?.into_owned())
        }
        Value::Bytes(b) | Value::Geometry(b) => Cow::Borrowed(b.as_slice()),
        _ => return Ok(None),
    }))
}

/// Appends a non-NULL parameter's value in the binary protocol's form.
///
/// Non-finite floats and fractions of a second of a million microseconds or more are refused, as
/// the text path refuses them: the server would store something other than what was given.
pub fn write_param(out: &mut Vec<u8>, v: &Value, encoding: Encoding) -> Result<(), InputError> {
    if let Some(bytes) = param_bytes(v, encoding)? {
        put_lenenc_bytes(out, &bytes);
        return Ok(());
    }
    match v {
        Value::Null => {}
        Value::Int(n) => out.extend_from_slice(&n.to_le_bytes()),
        Value::UInt(n) | Value::Bit(n) => out.extend_from_slice(&n.to_le_bytes()),
        Value::Year(y) => out.extend_from_slice(&y.to_le_bytes()),
        Value::Float(f) => {
            finite(f.is_finite(), f)?;
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Double(f) => {
            finite(f.is_finite(), f)?;
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Date(d) => {
            out.push(4);
            write_date(out, d);
        }
        Value::DateTime(dt) | Value::Timestamp(dt) => {
            check_microseconds(dt.microsecond)?;
            out.push(11);
            write_date(out, &dt.date);
            out.extend_from_slice(&[dt.hour, dt.minute, dt.second]);
            out.extend_from_slice(&dt.microsecond.to_le_bytes());
        }
        Value::Time(t) => {
            check_microseconds(t.microseconds)?;
            out.push(12);
            out.push(u8::from(t.negative));
            out.extend_from_slice(&(t.hours / 24).to_le_bytes());
            out.extend_from_slice(&[(t.hours % 24) as u8, t.minutes, t.seconds]);
            out.extend_from_slice(&t.microseconds.to_le_bytes());
        }
        // Sent above as strings.
        Value::Decimal(_)
        | Value::Text(_)
        | Value::Bytes(_)
        | Value::Enum(_)
        | Value::Set(_)
        | Value::Json(_)
        | Value::Geometry(_) => {}
    }
    Ok(())
}

fn finite(is_finite: bool, f: &dyn std::fmt::Display) -> Result<(), InputError> {
    if is_finite {
        Ok(())
    } else {
        Err(InputError::Value(format!("{f} cannot be stored in MySQL")))
    }
}

fn check_microseconds(us: u32) -> Result<(), InputError> {
    if us > 999_999 {
        return Err(InputError::Value(format!("{us} microseconds is not a fraction of a second")));
    }
    Ok(())
}

fn write_date(out: &mut Vec<u8>, d: &Date) {
    out.extend_from_slice(&d.year.to_le_bytes());
    out.extend_from_slice(&[d.month, d.day]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::column_flag::UNSIGNED_FLAG;

    fn col(column_type: u8, flags: u16, length: u32) -> Column {
        Column { flags, length, ..Column::of_type(column_type) }
    }

    fn decode(column: &Column, bytes: &[u8]) -> Result<Value, CellError> {
        let mut r = Reader::new(bytes);
        let v = decode_binary_value(column, &mut r)?;
        assert!(r.is_empty(), "{bytes:?} not read to its end");
        Ok(v)
    }

    #[test]
    fn integers_by_width_and_sign() {
        assert_eq!(decode(&col(MYSQL_TYPE_TINY, 0, 4), b"\xff"), Ok(Value::Int(-1)));
        assert_eq!(decode(&col(MYSQL_TYPE_TINY, UNSIGNED_FLAG, 3), b"\xff"), Ok(Value::UInt(255)));
        assert_eq!(decode(&col(MYSQL_TYPE_SHORT, UNSIGNED_FLAG, 5), b"\xff\xff"), Ok(Value::UInt(65535)));
        assert_eq!(decode(&col(MYSQL_TYPE_INT24, 0, 9), b"\xff\xff\x7f\x00"), Ok(Value::Int(8388607)));
        assert_eq!(
            decode(&col(MYSQL_TYPE_LONG, UNSIGNED_FLAG, 10), b"\xff\xff\xff\xff"),
            Ok(Value::UInt(u32::MAX.into()))
        );
        assert_eq!(decode(&col(MYSQL_TYPE_LONGLONG, 0, 20), &i64::MIN.to_le_bytes()), Ok(Value::Int(i64::MIN)));
        assert!(matches!(
            decode(&col(MYSQL_TYPE_INT24, UNSIGNED_FLAG, 8), b"\x00\x00\x00\x01"),
            Err(CellError::OutOfDomain(_))
        ));
        assert!(matches!(decode(&col(MYSQL_TYPE_LONGLONG, 0, 20), b"\x01\x02"), Err(CellError::Malformed(_))));
    }

    #[test]
    fn years() {
        let year = col(MYSQL_TYPE_YEAR, UNSIGNED_FLAG, 4);
        assert_eq!(decode(&year, b"\x00\x00"), Ok(Value::Year(0)));
        assert_eq!(decode(&year, b"\x6d\x07"), Ok(Value::Year(1901)));
        assert!(matches!(decode(&year, b"\x6c\x07"), Err(CellError::OutOfDomain(_))));
    }

    #[test]
    fn dates_and_times_of_every_length() {
        let date = col(MYSQL_TYPE_DATE, 0, 10);
        assert_eq!(decode(&date, b"\x00"), Ok(Value::Date(Date::default())));
        assert_eq!(decode(&date, b"\x04\xe8\x07\x02\x00"), Ok(Value::Date(Date { year: 2024, month: 2, day: 0 })));
        let datetime = col(MYSQL_TYPE_DATETIME, 0, 19);
        let seven =
            DateTime { date: Date { year: 2024, month: 1, day: 2 }, hour: 3, minute: 4, second: 5, microsecond: 0 };
        assert_eq!(decode(&datetime, b"\x07\xe8\x07\x01\x02\x03\x04\x05"), Ok(Value::DateTime(seven)));
        for bad in [&b"\x05\xe8\x07\x01\x02\x03"[..], b"\x04\xe8\x07", b"\x0b\xe8\x07\x01\x02\x03\x04\x05\x00"] {
            assert!(matches!(decode(&datetime, bad), Err(CellError::Malformed(_))), "{bad:?}");
        }
        for out in [
            &b"\x04\xe8\x07\x0d\x01"[..],
            b"\x07\xe8\x07\x01\x01\x18\x00\x00",
            b"\x0b\xe8\x07\x01\x01\x00\x00\x00\x40\x42\x0f\x00",
        ] {
            assert!(matches!(decode(&datetime, out), Err(CellError::OutOfDomain(_))), "{out:?}");
        }
        let time = col(MYSQL_TYPE_TIME, 0, 10);
        assert_eq!(decode(&time, b"\x00"), Ok(Value::Time(Time::default())));
        let t = Time { negative: false, hours: 49, minutes: 2, seconds: 3, microseconds: 0 };
        assert_eq!(decode(&time, b"\x08\x00\x02\x00\x00\x00\x01\x02\x03"), Ok(Value::Time(t)));
        // A sign byte other than 0 or 1, and 839 hours.
        assert!(matches!(decode(&time, b"\x08\x02\x00\x00\x00\x00\x01\x02\x03"), Err(CellError::Malformed(_))));
        assert!(matches!(decode(&time, b"\x08\x00\x22\x00\x00\x00\x17\x00\x00"), Err(CellError::OutOfDomain(_))));
    }

    #[test]
    fn strings_follow_the_text_rules() {
        assert_eq!(decode(&col(MYSQL_TYPE_BIT, UNSIGNED_FLAG, 9), b"\x02\x01\xff"), Ok(Value::Bit(511)));
        assert!(matches!(
            decode(&col(MYSQL_TYPE_BIT, UNSIGNED_FLAG, 8), b"\x02\x01\xff"),
            Err(CellError::OutOfDomain(_))
        ));
        assert_eq!(decode(&col(MYSQL_TYPE_NEWDECIMAL, 0, 10), b"\x04-1.5"), Ok(Value::Decimal("-1.5".into())));
        assert!(matches!(decode(&col(MYSQL_TYPE_NEWDECIMAL, 0, 10), b"\x021e"), Err(CellError::Malformed(_))));
        let mut text = col(MYSQL_TYPE_VAR_STRING, 0, 10);
        text.charset = 45;
        assert_eq!(decode(&text, b"\x02\xc3\xb3"), Ok(Value::Text("ó".into())));
        assert_eq!(decode(&text, b"\x01\xff"), Ok(Value::Bytes(vec![0xff])));
        assert!(matches!(decode(&text, b"\x05ab"), Err(CellError::Malformed(_))));
        assert_eq!(decode(&col(200, 0, 0), b"\x01z"), Ok(Value::Bytes(b"z".to_vec())));
    }

    #[test]
    fn every_value_read_back_as_sent() {
        // A parameter's bytes are a value's bytes in a row of the same type.
        let cases = [
            (Value::Int(-5), col(MYSQL_TYPE_LONGLONG, 0, 20)),
            (Value::UInt(u64::MAX), col(MYSQL_TYPE_LONGLONG, UNSIGNED_FLAG, 20)),
            (Value::Double(0.1), col(MYSQL_TYPE_DOUBLE, 0, 22)),
            (Value::Float(0.1), col(MYSQL_TYPE_FLOAT, 0, 12)),
            (Value::Year(2155), col(MYSQL_TYPE_YEAR, UNSIGNED_FLAG, 4)),
            (
                Value::Time(Time { negative: true, hours: 838, minutes: 59, seconds: 59, microseconds: 999_999 }),
                col(MYSQL_TYPE_TIME, 0, 17),
            ),
            (Value::Bytes(vec![0, 1, 2]), col(MYSQL_TYPE_BLOB, 0, 10)),
        ];
        for (v, c) in cases {
            let mut out = Vec::new();
            write_param(&mut out, &v, Encoding::Utf8mb4).unwrap();
            assert_eq!(decode(&c, &out), Ok(v));
        }
    }
}
