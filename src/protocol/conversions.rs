//! Result conversions chosen at connect: DECIMAL as exact text or as a double, DATE / DATETIME /
//! TIMESTAMP / TIME as records or as ISO 8601 text, JSON as its own variant or as text. They are
//! applied to values already decoded, so the text and the binary protocol give the same result.
//!
//! Also the text form of a decoded value (what the text protocol would have carried), which the
//! caller's decoders (cymysql's `conv`) receive for rows of the binary protocol.

use std::borrow::Cow;

use super::column::Column;
use super::escape::{write_date, write_datetime, write_time};
use super::value::{Date, DateTime, Time, Value};

/// How DECIMAL / NUMERIC values come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalFormat {
    /// [`Value::Decimal`] with the server's exact text (the default: nothing is rounded).
    #[default]
    Text,
    /// [`Value::Double`], rounded to the nearest f64 as Python's `float(Decimal)` would.
    Double,
}

/// How DATE, DATETIME, TIMESTAMP and TIME values come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TemporalFormat {
    /// [`Value::Date`], [`Value::DateTime`], [`Value::Timestamp`], [`Value::Time`] (the default).
    #[default]
    Record,
    /// [`Value::Text`] in ISO 8601: `2024-02-29`, `2024-02-29T13:05:09.250000`, `-838:59:59`.
    /// Zero dates stay `0000-00-00`; TIME keeps MySQL's sign and hours past 24.
    IsoText,
}

/// How values of MySQL's JSON type come back. MariaDB stores JSON as LONGTEXT and describes it as
/// text, so its JSON columns arrive as [`Value::Text`] whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonFormat {
    /// [`Value::Json`] carrying the document's text (the default).
    #[default]
    Json,
    /// [`Value::Text`] carrying the same text.
    Text,
}

/// The result conversions of a connection; the default changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Conversions {
    pub decimal: DecimalFormat,
    pub temporal: TemporalFormat,
    pub json: JsonFormat,
}

impl Conversions {
    /// Whether every value is left as decoded: rows then skip the conversion pass.
    pub fn is_default(&self) -> bool {
        *self == Conversions::default()
    }

    /// `value`, decoded from `column`, in the chosen formats.
    pub fn apply(&self, value: Value, column: &Column) -> Value {
        match value {
            Value::Decimal(s) if self.decimal == DecimalFormat::Double => match s.parse::<f64>() {
                Ok(f) => Value::Double(f),
                // Decoding admits only numeric text, which always parses; keep it exact otherwise.
                Err(_) => Value::Decimal(s),
            },
            Value::Json(s) if self.json == JsonFormat::Text => Value::Text(s),
            Value::Date(d) if self.temporal == TemporalFormat::IsoText => Value::Text(date_text(d)),
            Value::DateTime(d) | Value::Timestamp(d) if self.temporal == TemporalFormat::IsoText => {
                Value::Text(datetime_text(d, 'T', column.decimals))
            }
            Value::Time(t) if self.temporal == TemporalFormat::IsoText => Value::Text(time_text(t, column.decimals)),
            other => other,
        }
    }
}

/// `YYYY-MM-DD`.
pub fn date_text(d: Date) -> String {
    let mut s = String::with_capacity(10);
    write_date(&mut s, &d);
    s
}

/// `YYYY-MM-DD<separator>HH:MM:SS[.ffffff]`, the fraction as wide as the column declares.
pub fn datetime_text(d: DateTime, separator: char, decimals: u8) -> String {
    let mut s = String::with_capacity(26);
    write_datetime(&mut s, &d, separator, decimals);
    s
}

/// `[-]HH:MM:SS[.ffffff]`, the fraction as wide as the column declares.
pub fn time_text(t: Time, decimals: u8) -> String {
    let mut s = String::with_capacity(17);
    write_time(&mut s, &t, decimals);
    s
}

/// The bytes the text protocol carries for `value` in `column`: MySQL's own text for numbers,
/// dates and times, strings as UTF-8, BIT as its big-endian bytes. `None` for NULL.
pub fn text_form<'a>(value: &'a Value, column: &Column) -> Option<Cow<'a, [u8]>> {
    let owned = |s: String| Some(Cow::Owned(s.into_bytes()));
    match value {
        Value::Null => None,
        Value::Int(n) => owned(n.to_string()),
        Value::UInt(n) => owned(n.to_string()),
        Value::Float(f) => owned(f.to_string()),
        Value::Double(f) => owned(f.to_string()),
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) | Value::Enum(s) => Some(Cow::Borrowed(s.as_bytes())),
        Value::Bytes(b) | Value::Geometry(b) => Some(Cow::Borrowed(b)),
        Value::Date(d) => owned(date_text(*d)),
        Value::DateTime(d) | Value::Timestamp(d) => owned(datetime_text(*d, ' ', column.decimals)),
        Value::Time(t) => owned(time_text(*t, column.decimals)),
        Value::Year(y) => owned(format!("{y:04}")),
        Value::Bit(b) => {
            let width = usize::try_from(column.length.div_ceil(8)).unwrap_or(8).clamp(1, 8);
            Some(Cow::Owned(b.to_be_bytes().get(8 - width..).unwrap_or_default().to_vec()))
        }
        Value::Set(members) => owned(members.join(",")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::column_type::*;

    fn column(column_type: u8, decimals: u8, length: u32) -> Column {
        Column { decimals, length, ..Column::of_type(column_type) }
    }

    fn dt(micro: u32) -> DateTime {
        DateTime { date: Date { year: 2024, month: 2, day: 29 }, hour: 13, minute: 5, second: 9, microsecond: micro }
    }

    #[test]
    fn the_default_changes_nothing() {
        let c = Conversions::default();
        assert!(c.is_default());
        let col = column(MYSQL_TYPE_NEWDECIMAL, 2, 10);
        for v in [Value::Decimal("1.10".into()), Value::Json("{}".into()), Value::Date(Date::default()), Value::Null] {
            assert_eq!(c.apply(v.clone(), &col), v);
        }
    }

    #[test]
    fn decimal_as_double() {
        let c = Conversions { decimal: DecimalFormat::Double, ..Default::default() };
        assert!(!c.is_default());
        let col = column(MYSQL_TYPE_NEWDECIMAL, 2, 10);
        assert_eq!(c.apply(Value::Decimal("-12.50".into()), &col), Value::Double(-12.5));
        assert_eq!(c.apply(Value::Decimal("0.1".into()), &col), Value::Double(0.1));
        // Other values are left alone.
        assert_eq!(c.apply(Value::Text("1.5".into()), &col), Value::Text("1.5".into()));
    }

    #[test]
    fn temporal_values_as_iso_text_follow_the_column_scale() {
        let c = Conversions { temporal: TemporalFormat::IsoText, ..Default::default() };
        let date = Value::Date(Date { year: 2024, month: 2, day: 29 });
        assert_eq!(c.apply(date, &column(MYSQL_TYPE_DATE, 0, 10)), Value::Text("2024-02-29".into()));
        let zero = Value::Date(Date::default());
        assert_eq!(c.apply(zero, &column(MYSQL_TYPE_DATE, 0, 10)), Value::Text("0000-00-00".into()));
        let c6 = column(MYSQL_TYPE_DATETIME, 6, 26);
        assert_eq!(c.apply(Value::DateTime(dt(250_000)), &c6), Value::Text("2024-02-29T13:05:09.250000".into()));
        assert_eq!(
            c.apply(Value::Timestamp(dt(0)), &column(MYSQL_TYPE_TIMESTAMP, 0, 19)),
            Value::Text("2024-02-29T13:05:09".into())
        );
        assert_eq!(
            c.apply(Value::DateTime(dt(123_456)), &column(MYSQL_TYPE_DATETIME, 3, 23)),
            Value::Text("2024-02-29T13:05:09.123".into())
        );
        // An expression's scale is not fixed (31): six digits when there is a fraction.
        assert_eq!(
            c.apply(Value::DateTime(dt(5)), &column(MYSQL_TYPE_DATETIME, 31, 26)),
            Value::Text("2024-02-29T13:05:09.000005".into())
        );
        let t = Time { negative: true, hours: 838, minutes: 59, seconds: 59, microseconds: 0 };
        assert_eq!(c.apply(Value::Time(t), &column(MYSQL_TYPE_TIME, 0, 10)), Value::Text("-838:59:59".into()));
        let t = Time { negative: false, hours: 1, minutes: 2, seconds: 3, microseconds: 40 };
        assert_eq!(c.apply(Value::Time(t), &column(MYSQL_TYPE_TIME, 6, 17)), Value::Text("01:02:03.000040".into()));
        assert_eq!(c.apply(Value::Year(2024), &column(MYSQL_TYPE_YEAR, 0, 4)), Value::Year(2024));
    }

    #[test]
    fn json_as_text() {
        let c = Conversions { json: JsonFormat::Text, ..Default::default() };
        let col = column(MYSQL_TYPE_JSON, 0, 0);
        assert_eq!(c.apply(Value::Json("{\"a\": 1}".into()), &col), Value::Text("{\"a\": 1}".into()));
    }

    #[test]
    fn text_form_is_what_the_text_protocol_carries() {
        let form = |v: Value, c: Column| text_form(&v, &c).map(|b| b.into_owned());
        let some = |s: &str| Some(s.as_bytes().to_vec());
        assert_eq!(form(Value::Null, column(MYSQL_TYPE_LONG, 0, 11)), None);
        assert_eq!(form(Value::Int(-42), column(MYSQL_TYPE_LONG, 0, 11)), some("-42"));
        assert_eq!(form(Value::UInt(u64::MAX), column(MYSQL_TYPE_LONGLONG, 0, 20)), some("18446744073709551615"));
        assert_eq!(form(Value::Double(1.5), column(MYSQL_TYPE_DOUBLE, 31, 22)), some("1.5"));
        assert_eq!(form(Value::Decimal("1.10".into()), column(MYSQL_TYPE_NEWDECIMAL, 2, 5)), some("1.10"));
        assert_eq!(
            form(Value::DateTime(dt(250_000)), column(MYSQL_TYPE_DATETIME, 2, 22)),
            some("2024-02-29 13:05:09.25")
        );
        assert_eq!(form(Value::Year(5), column(MYSQL_TYPE_YEAR, 0, 4)), some("0005"));
        assert_eq!(form(Value::Bit(0x0102), column(MYSQL_TYPE_BIT, 0, 12)), Some(vec![1, 2]));
        assert_eq!(form(Value::Bit(1), column(MYSQL_TYPE_BIT, 0, 1)), Some(vec![1]));
        assert_eq!(form(Value::Set(vec!["a".into(), "c".into()]), column(MYSQL_TYPE_SET, 0, 3)), some("a,c"));
        assert_eq!(form(Value::Bytes(vec![0, 0xff]), column(MYSQL_TYPE_BLOB, 0, 3)), Some(vec![0, 0xff]));
    }
}
