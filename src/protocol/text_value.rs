//! Decoding one cell of a text-protocol result row (ProtocolText::ResultsetRow).
//!
//! This runs once per cell of every result set, so numbers, dates and times are parsed straight
//! from the row's bytes without building intermediate strings.
//!
//! Two failures are told apart. Text that is not the form of the column's type at all (`abc` in
//! an INT column) breaks the protocol. Text of the right form whose value the type cannot hold
//! (TINYINT `99999`, TIME `4000000000:00:00`, month 13) is a data error: the row was framed
//! correctly, so the connection stays in step and only the value is refused.

use std::fmt;

use super::charset::{encoding_of_collation, Encoding};
use super::column::Column;
use super::constants::column_flag::{ENUM_FLAG, SET_FLAG};
use super::constants::column_type::*;
use super::constants::BINARY_COLLATION;
use super::error::ProtocolError;
use super::value::{Date, DateTime, Time, Value};

/// TIME's range is -838:59:59.999999 to 838:59:59.999999.
const TIME_MAX_HOURS: u32 = 838;
/// Longest part of a server's value or column name quoted back in an error.
const MAX_QUOTED: usize = 40;

/// Why a cell could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellError {
    /// Not the text form of the column's type: the server's bytes break the protocol.
    Malformed(ProtocolError),
    /// The form of the column's type, but a value outside that type's domain.
    OutOfDomain(String),
}

impl From<ProtocolError> for CellError {
    fn from(e: ProtocolError) -> Self {
        CellError::Malformed(e)
    }
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CellError::Malformed(e) => write!(f, "{e}"),
            CellError::OutOfDomain(message) => f.write_str(message),
        }
    }
}

/// How a date or time text failed: its shape, or a field outside its range.
enum Bad {
    Shape,
    Range,
}

/// Decodes one cell of a text-protocol row; `raw` is `None` for the 0xFB NULL marker.
///
/// Text that is not valid in the column's character set is returned as [`Value::Bytes`] so that
/// nothing is lost; numbers, dates and times that do not parse are [`CellError::Malformed`], and
/// those outside their type's domain [`CellError::OutOfDomain`].
pub fn decode_text_value(column: &Column, raw: Option<&[u8]>) -> Result<Value, CellError> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    let invalid = |what| CellError::Malformed(ProtocolError::InvalidValue(what));
    let temporal = |what: &'static str, type_name: &'static str| {
        move |bad| match bad {
            Bad::Shape => CellError::Malformed(ProtocolError::InvalidValue(what)),
            Bad::Range => out_of_domain(column, type_name, raw),
        }
    };
    match column.column_type {
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONGLONG => {
            decode_integer(column, raw)
        }
        MYSQL_TYPE_YEAR => decode_year(column, raw),
        // Non-finite values (`inf`, `nan`) are values, never NULL.
        MYSQL_TYPE_FLOAT => parse_float::<f32>(raw).map(Value::Float).ok_or(invalid("FLOAT in a text row")),
        MYSQL_TYPE_DOUBLE => parse_float::<f64>(raw).map(Value::Double).ok_or(invalid("DOUBLE in a text row")),
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => text_as_sent(column, raw).map(|s| Value::Decimal(s.to_owned())),
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => {
            parse_date(raw).map(Value::Date).map_err(temporal("DATE in a text row", "DATE"))
        }
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => {
            parse_datetime(raw).map(Value::DateTime).map_err(temporal("DATETIME in a text row", "DATETIME"))
        }
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => {
            parse_datetime(raw).map(Value::Timestamp).map_err(temporal("TIMESTAMP in a text row", "TIMESTAMP"))
        }
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => {
            parse_time(raw).map(Value::Time).map_err(temporal("TIME in a text row", "TIME"))
        }
        MYSQL_TYPE_NULL => Ok(Value::Null),
        _ => decode_string_like(column, raw),
    }
}

/// A cell the server sends as a string in both protocols (BIT, JSON, ENUM, SET, GEOMETRY, the
/// string types, and types this client does not know), read by the same rules in both.
pub(crate) fn decode_string_like(column: &Column, raw: &[u8]) -> Result<Value, CellError> {
    match column.column_type {
        MYSQL_TYPE_BIT => decode_bit(column, raw),
        // JSON is always utf8mb4 on the wire, whatever collation the column definition names.
        MYSQL_TYPE_JSON => text_as_sent(column, raw).map(|s| Value::Json(s.to_owned())),
        MYSQL_TYPE_ENUM => Ok(decode_enum(column, raw)),
        MYSQL_TYPE_SET => Ok(decode_set(column, raw)),
        MYSQL_TYPE_GEOMETRY => Ok(Value::Geometry(raw.to_vec())),
        // Result sets describe ENUM and SET columns as strings with a flag.
        MYSQL_TYPE_STRING | MYSQL_TYPE_VAR_STRING if column.flags & ENUM_FLAG != 0 => Ok(decode_enum(column, raw)),
        MYSQL_TYPE_STRING | MYSQL_TYPE_VAR_STRING if column.flags & SET_FLAG != 0 => Ok(decode_set(column, raw)),
        _ if is_plain_string(column) => Ok(decode_string(column, raw)),
        // A type this client does not know: keep the bytes rather than guess.
        _ => Ok(Value::Bytes(raw.to_vec())),
    }
}

/// The data error for `raw`, a well-formed value that type `type_name` cannot hold. The value
/// and the column name come from the server: they are quoted escaped and cut short.
pub(crate) fn out_of_domain(column: &Column, type_name: &str, raw: &[u8]) -> CellError {
    CellError::OutOfDomain(format!(
        "{type_name} value '{}' from the server is out of range for its type (column '{}')",
        quoted(raw),
        quoted(column.name.as_bytes())
    ))
}

/// Up to [`MAX_QUOTED`] bytes of server text, control characters and invalid UTF-8 escaped.
fn quoted(bytes: &[u8]) -> String {
    let cut = bytes.get(..MAX_QUOTED).unwrap_or(bytes);
    let mut s: String = String::from_utf8_lossy(cut).escape_debug().collect();
    if cut.len() < bytes.len() {
        s.push_str("...");
    }
    s
}

/// CHAR, VARCHAR, TEXT and BLOB columns, not ENUM or SET: what [`decode_string`] reads, and
/// what `fetch-columns` copies straight from a row packet.
pub(crate) fn is_plain_string(column: &Column) -> bool {
    matches!(
        column.column_type,
        MYSQL_TYPE_VARCHAR
            | MYSQL_TYPE_VAR_STRING
            | MYSQL_TYPE_STRING
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_BLOB
    ) && column.flags & (ENUM_FLAG | SET_FLAG) == 0
}

/// CHAR, VARCHAR, TEXT and their binary twins: bytes for the binary collation, else text if the
/// bytes are valid in the column's character set, else bytes.
pub(crate) fn decode_string(column: &Column, raw: &[u8]) -> Value {
    if column.charset == BINARY_COLLATION {
        return Value::Bytes(raw.to_vec());
    }
    match column_text(column, raw) {
        Some(s) => Value::Text(s),
        None => Value::Bytes(raw.to_vec()),
    }
}

/// An ENUM member; bytes if it is not valid text.
pub(crate) fn decode_enum(column: &Column, raw: &[u8]) -> Value {
    match column_text(column, raw) {
        Some(s) => Value::Enum(s),
        None => Value::Bytes(raw.to_vec()),
    }
}

/// A SET value: its members as the server lists them, comma-separated; bytes if not valid text.
pub(crate) fn decode_set(column: &Column, raw: &[u8]) -> Value {
    match column_text(column, raw) {
        Some(s) if s.is_empty() => Value::Set(Vec::new()),
        Some(s) => Value::Set(s.split(',').map(str::to_owned).collect()),
        None => Value::Bytes(raw.to_vec()),
    }
}

/// The cell decoded in its column's character set (UTF-8 for the binary collation).
fn column_text(column: &Column, raw: &[u8]) -> Option<String> {
    let encoding = match encoding_of_collation(column.charset) {
        Encoding::Binary => Encoding::Utf8mb4,
        other => other,
    };
    encoding.decode(raw).map(|s| s.into_owned())
}

/// The SQL name of an integer column type and its range, by the UNSIGNED flag.
pub(crate) fn integer_domain(column_type: u8, unsigned: bool) -> (&'static str, i128, i128) {
    let (name, bits) = match column_type {
        MYSQL_TYPE_TINY => ("TINYINT", 8),
        MYSQL_TYPE_SHORT => ("SMALLINT", 16),
        MYSQL_TYPE_INT24 => ("MEDIUMINT", 24),
        MYSQL_TYPE_LONG => ("INT", 32),
        _ => ("BIGINT", 64),
    };
    if unsigned {
        (name, 0, (1i128 << bits) - 1)
    } else {
        (name, -(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    }
}

/// An integer cell, typed by the UNSIGNED flag and held to its column type's range (MySQL and
/// MariaDB give an expression mixing signed and unsigned a wider type or DECIMAL, so a value
/// outside the range is never legitimate).
fn decode_integer(column: &Column, raw: &[u8]) -> Result<Value, CellError> {
    let unsigned = column.is_unsigned();
    let (negative, digits) = match raw.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, raw),
    };
    let (name, min, max) = integer_domain(column.column_type, unsigned);
    let out_of_range = || {
        let type_name = if unsigned { format!("{name} UNSIGNED") } else { name.to_string() };
        out_of_domain(column, &type_name, raw)
    };
    let Some(magnitude) = parse_u64(digits) else {
        return Err(if is_digits(digits) {
            out_of_range()
        } else {
            CellError::Malformed(ProtocolError::InvalidValue("integer in a text row"))
        });
    };
    let value = if negative { -i128::from(magnitude) } else { i128::from(magnitude) };
    if value < min || value > max {
        return Err(out_of_range());
    }
    Ok(if unsigned {
        Value::UInt(u64::try_from(value).unwrap_or_default())
    } else {
        Value::Int(i64::try_from(value).unwrap_or_default())
    })
}

/// YEAR: 0 (the zero year), 1901 to 2155, or 0 to 99 in a YEAR(2) column.
fn decode_year(column: &Column, raw: &[u8]) -> Result<Value, CellError> {
    let Some(year) = parse_u64(raw) else {
        return Err(if is_digits(raw) {
            out_of_domain(column, "YEAR", raw)
        } else {
            CellError::Malformed(ProtocolError::InvalidValue("YEAR in a text row"))
        });
    };
    let two_digit = column.length == 2 && year <= 99;
    match u16::try_from(year) {
        Ok(y) if y == 0 || (1901..=2155).contains(&y) || two_digit => Ok(Value::Year(y)),
        _ => Err(out_of_domain(column, "YEAR", raw)),
    }
}

/// BIT(n): 1..=8 big-endian bytes, no more than n bits when the column declares 1..=64 of them.
pub(crate) fn decode_bit(column: &Column, raw: &[u8]) -> Result<Value, CellError> {
    if raw.is_empty() {
        return Err(CellError::Malformed(ProtocolError::InvalidValue("BIT in a text row")));
    }
    let bits = column.length;
    let declared = (1..=64).contains(&bits);
    let max_len = if declared { bits.div_ceil(8) as usize } else { 8 };
    if raw.len() > max_len {
        return Err(out_of_domain(column, "BIT", raw));
    }
    let value = raw.iter().fold(0u64, |n, &byte| (n << 8) | u64::from(byte));
    if declared && bits < 64 && value >> bits != 0 {
        return Err(out_of_domain(column, "BIT", raw));
    }
    Ok(Value::Bit(value))
}

/// Whether `b` is one or more ASCII digits.
fn is_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

/// One or more ASCII digits as a `u64`; `None` on anything else or on overflow.
fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    // Nineteen digits cannot overflow, so the common case needs no checked multiply, which
    // wasm32 (without a 64-bit high multiply) makes a call to a 128-bit multiply per digit.
    if b.len() <= 19 {
        let mut n = 0u64;
        for &c in b {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            n = n * 10 + u64::from(d);
        }
        return Some(n);
    }
    b.iter().try_fold(0u64, |n, &c| {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// A FLOAT or DOUBLE cell; also accepts `inf`, `-inf` and `nan`.
fn parse_float<F: std::str::FromStr>(b: &[u8]) -> Option<F> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Whether a column's text-protocol cell is its value's text as sent (DECIMAL, JSON), which
/// [`text_as_sent`] checks without copying it.
pub(crate) fn is_text_as_sent(column: &Column) -> bool {
    matches!(column.column_type, MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL | MYSQL_TYPE_JSON)
}

/// A DECIMAL cell that has DECIMAL's shape, or a JSON cell that is UTF-8 (JSON is utf8mb4 on the
/// wire whatever collation the column names), borrowed from the packet.
pub(crate) fn text_as_sent<'a>(column: &Column, raw: &'a [u8]) -> Result<&'a str, CellError> {
    let invalid = |what| CellError::Malformed(ProtocolError::InvalidValue(what));
    if column.column_type == MYSQL_TYPE_JSON {
        std::str::from_utf8(raw).map_err(|_| invalid("JSON that is not UTF-8"))
    } else {
        decimal_text(raw).ok_or(invalid("DECIMAL that is not [-]digits[.digits]"))
    }
}

/// The cell as text if it has DECIMAL's shape `[-]digits[.digits]`.
pub(crate) fn decimal_text(b: &[u8]) -> Option<&str> {
    let unsigned = match b.split_first() {
        Some((b'-', rest)) => rest,
        _ => b,
    };
    let (int_part, frac_part) = match unsigned.iter().position(|&c| c == b'.') {
        Some(dot) => (unsigned.get(..dot)?, Some(unsigned.get(dot + 1..)?)),
        None => (unsigned, None),
    };
    if !is_digits(int_part) || !frac_part.is_none_or(is_digits) {
        return None;
    }
    std::str::from_utf8(b).ok()
}

/// Exactly `b.len()` ASCII digits, at most nine so that the value fits in a `u32`.
fn fixed_digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    b.iter().try_fold(0u32, |n, &c| {
        let d = c.wrapping_sub(b'0');
        (d <= 9).then(|| n * 10 + u32::from(d))
    })
}

/// Two ASCII digits at `at`.
fn two_digits(b: &[u8], at: usize) -> Result<u8, Bad> {
    let digits = b.get(at..at.checked_add(2).ok_or(Bad::Shape)?).ok_or(Bad::Shape)?;
    fixed_digits(digits).and_then(|v| u8::try_from(v).ok()).ok_or(Bad::Shape)
}

/// `YYYY-MM-DD`; zero parts are allowed (`0000-00-00`, `2024-02-00`), as MySQL stores them.
fn parse_date(b: &[u8]) -> Result<Date, Bad> {
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err(Bad::Shape);
    }
    let year = b.get(..4).and_then(fixed_digits).and_then(|y| u16::try_from(y).ok()).ok_or(Bad::Shape)?;
    let month = two_digits(b, 5)?;
    let day = two_digits(b, 8)?;
    if month > 12 || day > 31 {
        return Err(Bad::Range);
    }
    Ok(Date { year, month, day })
}

/// `MM:SS` followed by an optional fraction, the part of a time after the hours.
fn parse_minutes_seconds(b: &[u8]) -> Result<(u8, u8, u32), Bad> {
    if b.get(2) != Some(&b':') {
        return Err(Bad::Shape);
    }
    let minute = two_digits(b, 0)?;
    let second = two_digits(b, 3)?;
    let microsecond = parse_fraction(b.get(5..).ok_or(Bad::Shape)?)?;
    if minute > 59 || second > 59 {
        return Err(Bad::Range);
    }
    Ok((minute, second, microsecond))
}

/// Microseconds per unit of a fraction with 0..=6 digits.
const FRACTION_SCALE: [u32; 7] = [1, 100_000, 10_000, 1_000, 100, 10, 1];

/// An empty string or `.` and 1..=6 digits, scaled to microseconds (`.5` is 500000). More
/// digits than six are finer than MySQL's microseconds: outside the domain.
fn parse_fraction(b: &[u8]) -> Result<u32, Bad> {
    let Some((dot, digits)) = b.split_first() else {
        return Ok(0);
    };
    if *dot != b'.' || !is_digits(digits) {
        return Err(Bad::Shape);
    }
    let scale = FRACTION_SCALE.get(digits.len()).ok_or(Bad::Range)?;
    fixed_digits(digits).and_then(|f| f.checked_mul(*scale)).ok_or(Bad::Shape)
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`.
fn parse_datetime(b: &[u8]) -> Result<DateTime, Bad> {
    let date = parse_date(b.get(..10).ok_or(Bad::Shape)?)?;
    if b.get(10) != Some(&b' ') || b.get(13) != Some(&b':') {
        return Err(Bad::Shape);
    }
    let hour = two_digits(b, 11)?;
    let (minute, second, microsecond) = parse_minutes_seconds(b.get(14..).ok_or(Bad::Shape)?)?;
    if hour > 23 {
        return Err(Bad::Range);
    }
    Ok(DateTime { date, hour, minute, second, microsecond })
}

/// `[-]H+:MM:SS[.ffffff]`, from -838:59:59.999999 to 838:59:59.999999.
fn parse_time(b: &[u8]) -> Result<Time, Bad> {
    let (negative, rest) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let colon = rest.iter().position(|&c| c == b':').ok_or(Bad::Shape)?;
    let hour_digits = rest.get(..colon).ok_or(Bad::Shape)?;
    if !is_digits(hour_digits) {
        return Err(Bad::Shape);
    }
    let (minutes, seconds, microseconds) = parse_minutes_seconds(rest.get(colon + 1..).ok_or(Bad::Shape)?)?;
    let hours = parse_u64(hour_digits).and_then(|h| u32::try_from(h).ok()).ok_or(Bad::Range)?;
    if hours > TIME_MAX_HOURS {
        return Err(Bad::Range);
    }
    Ok(Time { negative, hours, minutes, seconds, microseconds })
}

#[cfg(test)]
mod tests {
    use super::super::constants::column_flag::UNSIGNED_FLAG;
    use super::*;

    const UTF8MB4: u16 = 45;
    const LATIN1: u16 = 8;

    fn col(column_type: u8, flags: u16, charset: u16) -> Column {
        sized(column_type, flags, charset, 0)
    }

    fn sized(column_type: u8, flags: u16, charset: u16, length: u32) -> Column {
        Column { flags, charset, length, ..Column::of_type(column_type) }
    }

    fn decode(column_type: u8, flags: u16, charset: u16, raw: &[u8]) -> Result<Value, CellError> {
        decode_text_value(&col(column_type, flags, charset), Some(raw))
    }

    fn ok(column_type: u8, raw: &[u8]) -> Value {
        decode(column_type, 0, BINARY_COLLATION, raw).unwrap()
    }

    /// Not the form of the type: a protocol error.
    fn err(column_type: u8, flags: u16, raw: &[u8]) {
        let r = decode(column_type, flags, BINARY_COLLATION, raw);
        assert!(
            matches!(r, Err(CellError::Malformed(ProtocolError::InvalidValue(_)))),
            "type {column_type} {raw:?}: {r:?}"
        );
    }

    /// The form of the type, outside its domain: a data error.
    fn refused_in(column: &Column, raw: &[u8]) {
        let r = decode_text_value(column, Some(raw));
        assert!(matches!(r, Err(CellError::OutOfDomain(_))), "type {} {raw:?}: {r:?}", column.column_type);
    }

    fn refused(column_type: u8, flags: u16, raw: &[u8]) {
        refused_in(&col(column_type, flags, BINARY_COLLATION), raw);
    }

    fn dt(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, us: u32) -> DateTime {
        DateTime { date: Date { year: y, month: mo, day: d }, hour: h, minute: mi, second: s, microsecond: us }
    }

    #[test]
    fn null_marker_is_null_for_every_type() {
        for t in [MYSQL_TYPE_LONG, MYSQL_TYPE_VAR_STRING, MYSQL_TYPE_DATE, MYSQL_TYPE_BIT, 200] {
            assert_eq!(decode_text_value(&col(t, 0, 63), None), Ok(Value::Null));
        }
        assert_eq!(ok(MYSQL_TYPE_NULL, b""), Value::Null);
    }

    #[test]
    fn integers() {
        assert_eq!(ok(MYSQL_TYPE_TINY, b"-128"), Value::Int(-128));
        assert_eq!(ok(MYSQL_TYPE_SHORT, b"32767"), Value::Int(32767));
        assert_eq!(ok(MYSQL_TYPE_INT24, b"-8388608"), Value::Int(-8388608));
        assert_eq!(ok(MYSQL_TYPE_LONG, b"0"), Value::Int(0));
        assert_eq!(ok(MYSQL_TYPE_LONGLONG, b"-9223372036854775808"), Value::Int(i64::MIN));
        assert_eq!(ok(MYSQL_TYPE_LONGLONG, b"9223372036854775807"), Value::Int(i64::MAX));
        let unsigned = |raw: &[u8]| decode(MYSQL_TYPE_LONGLONG, UNSIGNED_FLAG, 63, raw).unwrap();
        assert_eq!(unsigned(b"18446744073709551615"), Value::UInt(u64::MAX));
        assert_eq!(unsigned(b"0"), Value::UInt(0));
        assert_eq!(decode(MYSQL_TYPE_TINY, UNSIGNED_FLAG, 63, b"255"), Ok(Value::UInt(255)));
        // ZEROFILL pads with zeros.
        assert_eq!(ok(MYSQL_TYPE_LONG, b"0000000042"), Value::Int(42));
        assert_eq!(unsigned(b"-0"), Value::UInt(0));
        // Nineteen digits and more, around the end of the unchecked fast path.
        assert_eq!(unsigned(b"9999999999999999999"), Value::UInt(9_999_999_999_999_999_999));
        assert_eq!(unsigned(b"00000000000000000000000042"), Value::UInt(42));
    }

    #[test]
    fn integers_outside_their_type_are_data_errors() {
        // (type, lowest, highest, one below, one above), signed.
        let signed = [
            (MYSQL_TYPE_TINY, ["-128", "127", "-129", "128"]),
            (MYSQL_TYPE_SHORT, ["-32768", "32767", "-32769", "32768"]),
            (MYSQL_TYPE_INT24, ["-8388608", "8388607", "-8388609", "8388608"]),
            (MYSQL_TYPE_LONG, ["-2147483648", "2147483647", "-2147483649", "2147483648"]),
            (
                MYSQL_TYPE_LONGLONG,
                ["-9223372036854775808", "9223372036854775807", "-9223372036854775809", "9223372036854775808"],
            ),
        ];
        for (t, [low, high, below, above]) in signed {
            assert_eq!(ok(t, low.as_bytes()), Value::Int(low.parse().unwrap()), "{t}");
            assert_eq!(ok(t, high.as_bytes()), Value::Int(high.parse().unwrap()), "{t}");
            refused(t, 0, below.as_bytes());
            refused(t, 0, above.as_bytes());
        }
        let unsigned = [
            (MYSQL_TYPE_TINY, ["255", "256"]),
            (MYSQL_TYPE_SHORT, ["65535", "65536"]),
            (MYSQL_TYPE_INT24, ["16777215", "16777216"]),
            (MYSQL_TYPE_LONG, ["4294967295", "4294967296"]),
            (MYSQL_TYPE_LONGLONG, ["18446744073709551615", "18446744073709551616"]),
        ];
        for (t, [high, above]) in unsigned {
            assert_eq!(decode(t, UNSIGNED_FLAG, 63, high.as_bytes()), Ok(Value::UInt(high.parse().unwrap())), "{t}");
            refused(t, UNSIGNED_FLAG, above.as_bytes());
            refused(t, UNSIGNED_FLAG, b"-1");
        }
        refused(MYSQL_TYPE_TINY, 0, b"99999");
        refused(MYSQL_TYPE_LONGLONG, UNSIGNED_FLAG, b"99999999999999999999999");
        // The message names the type, the value and the column, escaped.
        let mut c = col(MYSQL_TYPE_TINY, 0, 63);
        c.name = "n\x1b[2J".into();
        match decode_text_value(&c, Some(b"99999")) {
            Err(CellError::OutOfDomain(m)) => {
                assert!(m.contains("TINYINT value '99999'") && m.contains("n\\u{1b}[2J"), "{m}");
                assert!(!m.contains('\x1b'), "{m}");
            }
            other => panic!("{other:?}"),
        }
        match decode_text_value(&col(MYSQL_TYPE_SHORT, UNSIGNED_FLAG, 63), Some(&[b'9'; 500])) {
            Err(CellError::OutOfDomain(m)) => assert!(m.contains("SMALLINT UNSIGNED") && m.len() < 200, "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_integers_are_errors() {
        for raw in [&b""[..], b"-", b"+1", b" 1", b"1 ", b"1.0", b"0x10", b"1e3", b"--1", b"-1-", b"9\x009"] {
            err(MYSQL_TYPE_LONGLONG, 0, raw);
            err(MYSQL_TYPE_LONGLONG, UNSIGNED_FLAG, raw);
        }
    }

    #[test]
    fn year() {
        assert_eq!(ok(MYSQL_TYPE_YEAR, b"2024"), Value::Year(2024));
        assert_eq!(ok(MYSQL_TYPE_YEAR, b"0000"), Value::Year(0));
        assert_eq!(ok(MYSQL_TYPE_YEAR, b"1901"), Value::Year(1901));
        assert_eq!(ok(MYSQL_TYPE_YEAR, b"2155"), Value::Year(2155));
        for raw in [&b""[..], b"-1", b"20x4", b"2024 "] {
            err(MYSQL_TYPE_YEAR, 0, raw);
        }
        for raw in [&b"1900"[..], b"2156", b"65536", b"99", b"99999999999999999999999"] {
            refused_in(&sized(MYSQL_TYPE_YEAR, 0, 63, 4), raw);
        }
        // YEAR(2) sends two digits.
        let year2 = sized(MYSQL_TYPE_YEAR, 0, 63, 2);
        assert_eq!(decode_text_value(&year2, Some(b"99")), Ok(Value::Year(99)));
        assert_eq!(decode_text_value(&year2, Some(b"00")), Ok(Value::Year(0)));
        refused_in(&year2, b"100");
    }

    #[test]
    fn floats_and_doubles() {
        assert_eq!(ok(MYSQL_TYPE_FLOAT, b"1.5"), Value::Float(1.5));
        assert_eq!(ok(MYSQL_TYPE_FLOAT, b"-3.40282e38"), Value::Float(-3.40282e38));
        assert_eq!(ok(MYSQL_TYPE_DOUBLE, b"1.7976931348623157e308"), Value::Double(f64::MAX));
        assert_eq!(ok(MYSQL_TYPE_DOUBLE, b"-2.2250738585072014e-308"), Value::Double(-f64::MIN_POSITIVE));
        assert_eq!(ok(MYSQL_TYPE_DOUBLE, b"0.1"), Value::Double(0.1));
        assert_eq!(ok(MYSQL_TYPE_DOUBLE, b"1e-7"), Value::Double(1e-7));
        assert_eq!(ok(MYSQL_TYPE_DOUBLE, b"inf"), Value::Double(f64::INFINITY));
        assert_eq!(ok(MYSQL_TYPE_DOUBLE, b"-inf"), Value::Double(f64::NEG_INFINITY));
        assert!(matches!(ok(MYSQL_TYPE_DOUBLE, b"nan"), Value::Double(d) if d.is_nan()));
        assert_eq!(ok(MYSQL_TYPE_FLOAT, b"-inf"), Value::Float(f32::NEG_INFINITY));
        assert_eq!(ok(MYSQL_TYPE_FLOAT, b"inf"), Value::Float(f32::INFINITY));
        assert!(matches!(ok(MYSQL_TYPE_FLOAT, b"nan"), Value::Float(f) if f.is_nan()));
        // Non-finite values stay values, whatever the spelling Rust accepts; only the 0xFB marker is NULL.
        for raw in [&b"NaN"[..], b"-nan", b"Infinity", b"-INF"] {
            assert!(matches!(ok(MYSQL_TYPE_DOUBLE, raw), Value::Double(d) if !d.is_finite()), "{raw:?}");
        }
        match ok(MYSQL_TYPE_DOUBLE, b"-0") {
            Value::Double(d) => assert!(d == 0.0 && d.is_sign_negative()),
            other => panic!("{other:?}"),
        }
        for raw in [&b""[..], b"1.5.5", b"abc", b"1,5", b"\xff"] {
            err(MYSQL_TYPE_DOUBLE, 0, raw);
            err(MYSQL_TYPE_FLOAT, 0, raw);
        }
    }

    #[test]
    fn decimals_keep_their_text() {
        for raw in ["0", "-0.50", "12345678901234567890123456789012345678901234567890.123", "7.000"] {
            assert_eq!(ok(MYSQL_TYPE_NEWDECIMAL, raw.as_bytes()), Value::Decimal(raw.into()));
            assert_eq!(ok(MYSQL_TYPE_DECIMAL, raw.as_bytes()), Value::Decimal(raw.into()));
        }
        for raw in [&b""[..], b"-", b".5", b"5.", b"1e5", b"+1", b"1.2.3", b"NaN", b"1 ", b"-.1", b"1.-2"] {
            err(MYSQL_TYPE_NEWDECIMAL, 0, raw);
        }
    }

    #[test]
    fn dates() {
        let date = |y, m, d| Value::Date(Date { year: y, month: m, day: d });
        assert_eq!(ok(MYSQL_TYPE_DATE, b"2024-01-02"), date(2024, 1, 2));
        assert_eq!(ok(MYSQL_TYPE_DATE, b"0000-00-00"), date(0, 0, 0));
        assert_eq!(ok(MYSQL_TYPE_NEWDATE, b"9999-12-31"), date(9999, 12, 31));
        assert_eq!(ok(MYSQL_TYPE_DATE, b"2024-02-00"), date(2024, 2, 0));
        for raw in [&b""[..], b"2024-1-02", b"2024-01-02 ", b"2024/01/02", b"20x4-01-02", b"2024-01-0", b"+024-01-02"] {
            err(MYSQL_TYPE_DATE, 0, raw);
        }
        for raw in [&b"2024-13-01"[..], b"2024-01-32", b"0000-99-00", b"9999-00-99"] {
            refused(MYSQL_TYPE_DATE, 0, raw);
            refused(MYSQL_TYPE_NEWDATE, 0, raw);
        }
    }

    #[test]
    fn datetimes_and_timestamps() {
        assert_eq!(ok(MYSQL_TYPE_DATETIME, b"2024-01-02 03:04:05"), Value::DateTime(dt(2024, 1, 2, 3, 4, 5, 0)));
        assert_eq!(
            ok(MYSQL_TYPE_DATETIME, b"2024-01-02 03:04:05.5"),
            Value::DateTime(dt(2024, 1, 2, 3, 4, 5, 500_000))
        );
        assert_eq!(ok(MYSQL_TYPE_DATETIME, b"2024-01-02 03:04:05.000001"), Value::DateTime(dt(2024, 1, 2, 3, 4, 5, 1)));
        assert_eq!(
            ok(MYSQL_TYPE_DATETIME2, b"9999-12-31 23:59:59.999999"),
            Value::DateTime(dt(9999, 12, 31, 23, 59, 59, 999_999))
        );
        assert_eq!(ok(MYSQL_TYPE_DATETIME, b"0000-00-00 00:00:00"), Value::DateTime(dt(0, 0, 0, 0, 0, 0, 0)));
        assert_eq!(
            ok(MYSQL_TYPE_TIMESTAMP, b"1970-01-01 00:00:01.120"),
            Value::Timestamp(dt(1970, 1, 1, 0, 0, 1, 120_000))
        );
        assert_eq!(ok(MYSQL_TYPE_TIMESTAMP2, b"2038-01-19 03:14:07"), Value::Timestamp(dt(2038, 1, 19, 3, 14, 7, 0)));
        for raw in [
            &b"2024-01-02"[..],
            b"2024-01-02 03:04",
            b"2024-01-02T03:04:05",
            b"2024-01-02 03:04:05.",
            b"2024-01-02 03:04:05,5",
            b"2024-01-02 03:04:05.5x",
            b"2024-01-02 3:04:05",
        ] {
            err(MYSQL_TYPE_DATETIME, 0, raw);
            err(MYSQL_TYPE_TIMESTAMP, 0, raw);
        }
        assert_eq!(ok(MYSQL_TYPE_DATETIME, b"0000-00-00 00:00:00.000000"), Value::DateTime(dt(0, 0, 0, 0, 0, 0, 0)));
        for raw in [
            &b"2024-01-02 24:00:00"[..],
            b"2024-01-02 99:00:00",
            b"2024-01-02 03:60:00",
            b"2024-01-02 03:04:60",
            b"2024-01-02 03:04:05.1234567",
            b"2024-13-02 03:04:05",
            b"2024-01-32 03:04:05",
        ] {
            for t in [MYSQL_TYPE_DATETIME, MYSQL_TYPE_DATETIME2, MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_TIMESTAMP2] {
                refused(t, 0, raw);
            }
        }
    }

    #[test]
    fn times() {
        let time = |negative, hours, minutes, seconds, microseconds| {
            Value::Time(Time { negative, hours, minutes, seconds, microseconds })
        };
        assert_eq!(ok(MYSQL_TYPE_TIME, b"00:00:00"), time(false, 0, 0, 0, 0));
        assert_eq!(ok(MYSQL_TYPE_TIME, b"12:34:56.5"), time(false, 12, 34, 56, 500_000));
        assert_eq!(ok(MYSQL_TYPE_TIME, b"-00:00:01"), time(true, 0, 0, 1, 0));
        assert_eq!(ok(MYSQL_TYPE_TIME, b"838:59:59"), time(false, 838, 59, 59, 0));
        assert_eq!(ok(MYSQL_TYPE_TIME, b"-838:59:59.999999"), time(true, 838, 59, 59, 999_999));
        assert_eq!(ok(MYSQL_TYPE_TIME2, b"838:59:59.999999"), time(false, 838, 59, 59, 999_999));
        assert_eq!(ok(MYSQL_TYPE_TIME, b"5:06:07"), time(false, 5, 6, 7, 0));
        assert_eq!(ok(MYSQL_TYPE_TIME, b"-0838:00:00"), time(true, 838, 0, 0, 0));
        for raw in [
            &b""[..],
            b"-",
            b":00:00",
            b"12:34",
            b"12:3:56",
            b"12:00:00.",
            b"--1:00:00",
            b"+1:00:00",
            b"12:00:00 ",
            b"4000000000:00:0x",
        ] {
            err(MYSQL_TYPE_TIME, 0, raw);
        }
        for raw in [
            &b"839:00:00"[..],
            b"-839:00:00",
            b"1234:00:00",
            b"4000000000:00:00",
            b"99999999999999999999999:00:00",
            b"12:60:00",
            b"12:00:60",
            b"12:00:00.1234567",
        ] {
            refused(MYSQL_TYPE_TIME, 0, raw);
            refused(MYSQL_TYPE_TIME2, 0, raw);
        }
    }

    #[test]
    fn bits_are_big_endian() {
        assert_eq!(ok(MYSQL_TYPE_BIT, b"\x01"), Value::Bit(1));
        assert_eq!(ok(MYSQL_TYPE_BIT, b"\x01\x00"), Value::Bit(256));
        assert_eq!(ok(MYSQL_TYPE_BIT, b"\xff\xff\xff\xff\xff\xff\xff\xff"), Value::Bit(u64::MAX));
        err(MYSQL_TYPE_BIT, 0, b"");
        refused(MYSQL_TYPE_BIT, 0, b"\x01\x02\x03\x04\x05\x06\x07\x08\x09");
    }

    #[test]
    fn bits_beyond_the_declared_width_are_data_errors() {
        let bit = |n| sized(MYSQL_TYPE_BIT, UNSIGNED_FLAG, 63, n);
        assert_eq!(decode_text_value(&bit(5), Some(b"\x1f")), Ok(Value::Bit(31)));
        assert_eq!(decode_text_value(&bit(12), Some(b"\x0f\xff")), Ok(Value::Bit(4095)));
        assert_eq!(decode_text_value(&bit(64), Some(&[0xff; 8])), Ok(Value::Bit(u64::MAX)));
        assert_eq!(decode_text_value(&bit(1), Some(b"\x01")), Ok(Value::Bit(1)));
        refused_in(&bit(5), b"\x20");
        refused_in(&bit(5), b"\x00\x1f");
        refused_in(&bit(12), b"\x10\x00");
        refused_in(&bit(1), b"\x02");
        refused_in(&bit(63), &[0xff; 8]);
    }

    #[test]
    fn json() {
        assert_eq!(ok(MYSQL_TYPE_JSON, br#"{"a": [1, "\u00e9"]}"#), Value::Json(r#"{"a": [1, "\u00e9"]}"#.into()));
        err(MYSQL_TYPE_JSON, 0, b"\"\xff\"");
        // MariaDB has no JSON type: its JSON columns are utf8mb4 LONGTEXT.
        assert_eq!(decode(MYSQL_TYPE_LONG_BLOB, 0, UTF8MB4, b"[1]"), Ok(Value::Text("[1]".into())));
    }

    #[test]
    fn enums_and_sets() {
        assert_eq!(decode(MYSQL_TYPE_ENUM, 0, UTF8MB4, b"small"), Ok(Value::Enum("small".into())));
        assert_eq!(decode(MYSQL_TYPE_STRING, ENUM_FLAG, UTF8MB4, b"\xc3\xa9"), Ok(Value::Enum("é".into())));
        assert_eq!(decode(MYSQL_TYPE_STRING, ENUM_FLAG, UTF8MB4, b""), Ok(Value::Enum(String::new())));
        assert_eq!(decode(MYSQL_TYPE_STRING, ENUM_FLAG, LATIN1, b"caf\xe9"), Ok(Value::Enum("café".into())));
        assert_eq!(decode(MYSQL_TYPE_STRING, ENUM_FLAG, UTF8MB4, b"\xff"), Ok(Value::Bytes(vec![0xff])));
        assert_eq!(
            decode(MYSQL_TYPE_SET, 0, UTF8MB4, b"a,b,c"),
            Ok(Value::Set(vec!["a".into(), "b".into(), "c".into()]))
        );
        assert_eq!(decode(MYSQL_TYPE_STRING, SET_FLAG, UTF8MB4, b"x"), Ok(Value::Set(vec!["x".into()])));
        assert_eq!(decode(MYSQL_TYPE_STRING, SET_FLAG, UTF8MB4, b""), Ok(Value::Set(vec![])));
        assert_eq!(
            decode(MYSQL_TYPE_VAR_STRING, SET_FLAG, UTF8MB4, b"a,"),
            Ok(Value::Set(vec!["a".into(), String::new()]))
        );
    }

    #[test]
    fn geometry_keeps_its_bytes() {
        let wkb =
            b"\x00\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40";
        assert_eq!(ok(MYSQL_TYPE_GEOMETRY, wkb), Value::Geometry(wkb.to_vec()));
    }

    #[test]
    fn strings_decode_by_collation_and_never_lose_bytes() {
        for t in [
            MYSQL_TYPE_VARCHAR,
            MYSQL_TYPE_VAR_STRING,
            MYSQL_TYPE_STRING,
            MYSQL_TYPE_TINY_BLOB,
            MYSQL_TYPE_MEDIUM_BLOB,
            MYSQL_TYPE_LONG_BLOB,
            MYSQL_TYPE_BLOB,
        ] {
            assert_eq!(decode(t, 0, UTF8MB4, "żółw 😀".as_bytes()), Ok(Value::Text("żółw 😀".into())));
            assert_eq!(decode(t, 0, UTF8MB4, b""), Ok(Value::Text(String::new())));
            // Valid UTF-8, but the binary collation says these are bytes.
            assert_eq!(decode(t, 0, BINARY_COLLATION, b"abc"), Ok(Value::Bytes(b"abc".to_vec())));
            assert_eq!(decode(t, 0, UTF8MB4, b"a\xffb"), Ok(Value::Bytes(b"a\xffb".to_vec())));
            assert_eq!(decode(t, 0, LATIN1, b"\x80 caf\xe9"), Ok(Value::Text("€ café".into())));
            assert_eq!(decode(t, 0, 11, b"ascii\x80"), Ok(Value::Bytes(b"ascii\x80".to_vec())));
            // utf8mb3 cannot hold 4-byte characters.
            assert_eq!(decode(t, 0, 33, "😀".as_bytes()), Ok(Value::Bytes("😀".as_bytes().to_vec())));
        }
        // A collation of a character set we do not decode (big5_chinese_ci): valid UTF-8 is text,
        // the rest bytes.
        assert_eq!(decode(MYSQL_TYPE_VAR_STRING, 0, 1, b"abc"), Ok(Value::Text("abc".into())));
        assert_eq!(decode(MYSQL_TYPE_VAR_STRING, 0, 1, b"\xb0\xa1"), Ok(Value::Bytes(vec![0xb0, 0xa1])));
        // gbk_chinese_ci is decoded with the charsets feature.
        #[cfg(feature = "charsets")]
        assert_eq!(decode(MYSQL_TYPE_VAR_STRING, 0, 28, b"\xb0\xa1"), Ok(Value::Text("啊".into())));
    }

    #[test]
    fn unknown_types_keep_their_bytes() {
        assert_eq!(decode(100, 0, UTF8MB4, b"\x00\x01"), Ok(Value::Bytes(vec![0, 1])));
        assert_eq!(decode(MYSQL_TYPE_TIME2 + 1, 0, UTF8MB4, b"x"), Ok(Value::Bytes(b"x".to_vec())));
    }
}
