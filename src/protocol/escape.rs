//! Rendering values as SQL literals for client-side parameter interpolation.
//!
//! String escaping follows `mysql_real_escape_string` (and PyMySQL's `escape_string`), or
//! `escape_quotes_for_mysql` when the server runs with `NO_BACKSLASH_ESCAPES`. Bytes are sent
//! as hexadecimal literals, which read the same under every character set and SQL mode.

use std::fmt::{Display, Write};

use super::error::InputError;
use super::value::{Date, DateTime, Time, Value};

/// How the server reads backslashes in string literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EscapeMode {
    /// The server's `NO_BACKSLASH_ESCAPES` SQL mode (`SERVER_STATUS_NO_BACKSLASH_ESCAPES`):
    /// a backslash is an ordinary character and only a doubled quote escapes a quote.
    pub no_backslash_escapes: bool,
}

/// The escaped form of `byte` between single quotes, or `None` if it stands for itself.
const fn escape_of(byte: u8, mode: EscapeMode) -> Option<&'static str> {
    if mode.no_backslash_escapes {
        return if byte == b'\'' { Some("''") } else { None };
    }
    match byte {
        0 => Some("\\0"),
        b'\n' => Some("\\n"),
        b'\r' => Some("\\r"),
        b'\\' => Some("\\\\"),
        b'\'' => Some("\\'"),
        b'"' => Some("\\\""),
        0x1a => Some("\\Z"),
        _ => None,
    }
}

/// For each byte value, whether [`escape_of`] changes it, without and with NO_BACKSLASH_ESCAPES.
const SPECIAL: [[bool; 256]; 2] = {
    let mut table = [[false; 256]; 2];
    let mut b = 0;
    while b < 256 {
        table[0][b] = escape_of(b as u8, EscapeMode { no_backslash_escapes: false }).is_some();
        table[1][b] = escape_of(b as u8, EscapeMode { no_backslash_escapes: true }).is_some();
        b += 1;
    }
    table
};

/// Appends `s` escaped for use between single quotes (without adding the quotes).
pub fn escape_string_into(out: &mut String, s: &str, mode: EscapeMode) {
    out.reserve(s.len());
    // Parameters are mostly plain text: one table lookup per byte finds the few to escape.
    let special = &SPECIAL[usize::from(mode.no_backslash_escapes)];
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        if !special[usize::from(byte)] {
            continue;
        }
        // Every escaped byte is ASCII, so these slices always fall on character boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        out.push_str(escape_of(byte, mode).unwrap_or_default());
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
}

/// Appends `s` as a quoted string literal.
fn write_quoted(out: &mut String, s: &str, mode: EscapeMode) {
    out.push('\'');
    escape_string_into(out, s, mode);
    out.push('\'');
}

/// Appends a value through its `Display` form.
fn push_display(out: &mut String, v: impl Display) {
    // Writing into a String cannot fail.
    let _ = write!(out, "{v}");
}

/// Appends `n` in decimal: `executemany` writes integers by the hundred thousand, and `core::fmt`
/// costs several times this loop.
fn push_u64(out: &mut String, mut n: u64) {
    // u64::MAX has 20 digits.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(digits.get(start..).unwrap_or_default()).unwrap_or_default());
}

/// Appends `v` as a SQL literal, as PyMySQL's `escape_item` renders it.
///
/// Non-finite floats and DECIMAL text that is not a number are [`InputError::Value`]: MySQL has no
/// literal for the former, and the latter is written unquoted.
pub fn write_literal(out: &mut String, v: &Value, mode: EscapeMode) -> Result<(), InputError> {
    match v {
        Value::Null => out.push_str("NULL"),
        Value::Int(n) => {
            if *n < 0 {
                out.push('-');
            }
            push_u64(out, n.unsigned_abs());
        }
        Value::UInt(n) | Value::Bit(n) => push_u64(out, *n),
        Value::Year(n) => push_u64(out, u64::from(*n)),
        Value::Float(f) => write_float(out, *f, f.is_finite(), uses_exponent(f64::from(*f)))?,
        Value::Double(f) => write_float(out, *f, f.is_finite(), uses_exponent(*f))?,
        Value::Decimal(s) => {
            if !is_numeric_literal(s) {
                return Err(InputError::Value(format!("{s:?} is not a DECIMAL number")));
            }
            out.push_str(s);
        }
        Value::Text(s) | Value::Enum(s) | Value::Json(s) => write_quoted(out, s, mode),
        Value::Set(members) => {
            // A comma inside a member would silently split it into two members.
            if let Some(m) = members.iter().find(|m| m.contains(',')) {
                return Err(InputError::Value(format!("SET member {m:?} contains a comma")));
            }
            out.push('\'');
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                escape_string_into(out, m, mode);
            }
            out.push('\'');
        }
        Value::Bytes(b) | Value::Geometry(b) => write_hex(out, b),
        Value::Date(d) => {
            out.push('\'');
            write_date(out, d);
            out.push('\'');
        }
        Value::DateTime(dt) | Value::Timestamp(dt) => {
            check_microseconds(dt.microsecond)?;
            out.push('\'');
            write_datetime(out, dt, ' ', ANY_SCALE);
            out.push('\'');
        }
        Value::Time(t) => {
            check_microseconds(t.microseconds)?;
            out.push('\'');
            write_time(out, t, ANY_SCALE);
            out.push('\'');
        }
    }
    Ok(())
}

/// Appends a float in a form that reads back as the same value, always as an approximate-value
/// literal (with an exponent) as PyMySQL's `escape_float` does, so MySQL computes in DOUBLE.
///
/// Like Python's `repr`, large and tiny magnitudes use scientific notation (`1e300`).
fn write_float<F>(out: &mut String, f: F, finite: bool, scientific: bool) -> Result<(), InputError>
where
    F: Display + std::fmt::LowerExp,
{
    if !finite {
        return Err(InputError::Value(format!("{f} cannot be written as a MySQL literal")));
    }
    if scientific {
        let _ = write!(out, "{f:e}");
    } else {
        push_display(out, f);
        out.push_str("e0");
    }
    Ok(())
}

/// Whether Python's `repr` would write `f` in scientific notation (decimal exponent < -4 or >= 16).
fn uses_exponent(f: f64) -> bool {
    let magnitude = f.abs();
    magnitude >= 1e16 || (magnitude != 0.0 && magnitude < 1e-4)
}

/// Whether `s` is `[-+]digits[.digits][e[-+]digits]`, safe to write unquoted.
fn is_numeric_literal(s: &str) -> bool {
    fn digits(b: &[u8]) -> (usize, &[u8]) {
        let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
        (n, b.get(n..).unwrap_or_default())
    }
    let b = s.as_bytes();
    let b = b.strip_prefix(b"-").or_else(|| b.strip_prefix(b"+")).unwrap_or(b);
    let (n, mut rest) = digits(b);
    if n == 0 {
        return false;
    }
    if let Some(frac) = rest.strip_prefix(b".") {
        let (n, after) = digits(frac);
        if n == 0 {
            return false;
        }
        rest = after;
    }
    if let Some(exp) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let exp = exp.strip_prefix(b"-").or_else(|| exp.strip_prefix(b"+")).unwrap_or(exp);
        let (n, after) = digits(exp);
        if n == 0 {
            return false;
        }
        rest = after;
    }
    rest.is_empty()
}

/// Appends `X'…'`: a hexadecimal literal reads the same under every character set and SQL mode.
fn write_hex(out: &mut String, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(b.len() * 2 + 3);
    out.push_str("X'");
    // Digits go through a small buffer: one push per character costs more than the conversion.
    let mut digits = [0u8; 128];
    for chunk in b.chunks(digits.len() / 2) {
        for (pair, &byte) in digits.chunks_exact_mut(2).zip(chunk) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        let hex = digits.get(..chunk.len() * 2).unwrap_or_default();
        out.push_str(std::str::from_utf8(hex).unwrap_or_default());
    }
    out.push('\'');
}

/// A fraction of a second must be below one second to keep its meaning.
fn check_microseconds(us: u32) -> Result<(), InputError> {
    if us > 999_999 {
        return Err(InputError::Value(format!("{us} microseconds is not a fraction of a second")));
    }
    Ok(())
}

/// A scale for [`write_datetime`] and [`write_time`] that is not a column's: all six digits of a
/// fraction when there is one (what a literal needs to keep the value).
pub(crate) const ANY_SCALE: u8 = u8::MAX;

/// The most fraction digits MySQL keeps (microseconds).
const MAX_FRACTION_DIGITS: u8 = 6;

/// `YYYY-MM-DD`.
pub(crate) fn write_date(out: &mut String, d: &Date) {
    push_digits(out, u32::from(d.year), 4);
    out.push('-');
    push_digits(out, u32::from(d.month), 2);
    out.push('-');
    push_digits(out, u32::from(d.day), 2);
}

/// `YYYY-MM-DD<separator>HH:MM:SS[.ffffff]`, the fraction as [`write_fraction`] writes it.
pub(crate) fn write_datetime(out: &mut String, dt: &DateTime, separator: char, scale: u8) {
    write_date(out, &dt.date);
    out.push(separator);
    write_clock(out, dt.hour.into(), dt.minute, dt.second);
    write_fraction(out, dt.microsecond, scale);
}

/// `[-]HH:MM:SS[.ffffff]`, hours as many digits as they need (at least two).
pub(crate) fn write_time(out: &mut String, t: &Time, scale: u8) {
    if t.negative {
        out.push('-');
    }
    write_clock(out, t.hours, t.minutes, t.seconds);
    write_fraction(out, t.microseconds, scale);
}

fn write_clock(out: &mut String, hours: u32, minutes: u8, seconds: u8) {
    push_digits(out, hours, 2);
    out.push(':');
    push_digits(out, u32::from(minutes), 2);
    out.push(':');
    push_digits(out, u32::from(seconds), 2);
}

/// `.ffffff` cut to `scale` digits, as the server's text for a column of that scale; none for
/// scale 0. A scale above 6 (an expression's, or [`ANY_SCALE`]) shows all six digits when there
/// is a fraction.
fn write_fraction(out: &mut String, us: u32, scale: u8) {
    let digits = match scale {
        0 => return,
        1..=MAX_FRACTION_DIGITS => scale,
        _ if us == 0 => return,
        _ => MAX_FRACTION_DIGITS,
    };
    let six = us.min(999_999);
    // The first `digits` of the six: drop the 6 - digits last ones.
    let kept = six / 10u32.pow(u32::from(MAX_FRACTION_DIGITS - digits));
    out.push('.');
    push_digits(out, kept, usize::from(digits));
}

/// `n` in decimal, zero-padded to at least `width` digits. Temporal text is written for every
/// cell of a column (`fetch-columns`, `temporal=iso-text`), and `core::fmt` costs thousands of
/// instructions a value in the component.
fn push_digits(out: &mut String, mut n: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = start.min(buf.len().saturating_sub(width));
    out.push_str(std::str::from_utf8(buf.get(start..).unwrap_or_default()).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKSLASH: EscapeMode = EscapeMode { no_backslash_escapes: false };
    const NO_BACKSLASH: EscapeMode = EscapeMode { no_backslash_escapes: true };

    fn escaped(s: &str, mode: EscapeMode) -> String {
        let mut out = String::new();
        escape_string_into(&mut out, s, mode);
        out
    }

    fn literal(v: &Value, mode: EscapeMode) -> Result<String, InputError> {
        let mut out = String::new();
        write_literal(&mut out, v, mode).map(|()| out)
    }

    #[test]
    fn digits_are_zero_padded_to_at_least_their_width() {
        let mut s = String::new();
        for (n, width) in [(0, 4), (7, 2), (838, 2), (65_535, 4), (u32::MAX, 2), (5, 6), (0, 0)] {
            push_digits(&mut s, n, width);
            s.push('|');
        }
        assert_eq!(s, "0000|07|838|65535|4294967295|000005|0|");
    }

    fn lit(v: Value) -> String {
        literal(&v, BACKSLASH).unwrap()
    }

    #[test]
    fn backslash_escapes_match_mysql_real_escape_string() {
        assert_eq!(escaped("\0\n\r\\'\"\x1a", BACKSLASH), "\\0\\n\\r\\\\\\'\\\"\\Z");
        assert_eq!(escaped("plain text", BACKSLASH), "plain text");
        assert_eq!(escaped("tab\tstays % _", BACKSLASH), "tab\tstays % _");
        assert_eq!(escaped("żółw 'ü' 😀", BACKSLASH), "żółw \\'ü\\' 😀");
        assert_eq!(escaped("", BACKSLASH), "");
        assert_eq!(escaped("end\\", BACKSLASH), "end\\\\");
    }

    #[test]
    fn no_backslash_escapes_only_doubles_quotes() {
        assert_eq!(escaped("it's", NO_BACKSLASH), "it''s");
        assert_eq!(escaped("\0\n\r\\\"\x1a", NO_BACKSLASH), "\0\n\r\\\"\x1a");
        assert_eq!(escaped("''", NO_BACKSLASH), "''''");
        assert_eq!(escaped("żółw'", NO_BACKSLASH), "żółw''");
    }

    #[test]
    fn escaping_appends() {
        let mut out = String::from("x=");
        escape_string_into(&mut out, "a'b", BACKSLASH);
        assert_eq!(out, "x=a\\'b");
    }

    #[test]
    fn numbers() {
        assert_eq!(lit(Value::Null), "NULL");
        assert_eq!(lit(Value::Int(-42)), "-42");
        assert_eq!(lit(Value::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(lit(Value::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(lit(Value::Year(2024)), "2024");
        assert_eq!(lit(Value::Bit(5)), "5");
        for n in [0i64, 1, 9, 10, 99, 100, 1234567, i64::MAX, -1, -10, i64::MIN + 1] {
            assert_eq!(lit(Value::Int(n)), n.to_string());
        }
        for n in [0u64, 7, 10, 1 << 63, u64::MAX - 1] {
            assert_eq!(lit(Value::UInt(n)), n.to_string());
        }
    }

    #[test]
    fn floats_round_trip_as_double_literals() {
        assert_eq!(lit(Value::Double(1.5)), "1.5e0");
        assert_eq!(lit(Value::Double(1.0)), "1e0");
        assert_eq!(lit(Value::Double(0.0)), "0e0");
        assert_eq!(lit(Value::Double(-0.0)), "-0e0");
        assert_eq!(lit(Value::Double(0.1)), "0.1e0");
        assert_eq!(lit(Value::Double(1e300)), "1e300");
        assert_eq!(lit(Value::Double(-1.5e-7)), "-1.5e-7");
        assert_eq!(lit(Value::Double(1e16)), "1e16");
        assert_eq!(lit(Value::Double(1234567890123456.0)), "1234567890123456e0");
        assert_eq!(lit(Value::Double(f64::MAX)), "1.7976931348623157e308");
        assert_eq!(lit(Value::Double(5e-324)), "5e-324");
        assert_eq!(lit(Value::Float(0.1)), "0.1e0");
        assert_eq!(lit(Value::Float(3.4028235e38)), "3.4028235e38");
        for f in [0.1, 1.0 / 3.0, 123456.789, 1e-5, 9_007_199_254_740_992.0, 2.2250738585072014e-308] {
            let s = lit(Value::Double(f));
            assert_eq!(s.parse::<f64>().unwrap(), f, "{s}");
        }
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(literal(&Value::Double(f), BACKSLASH), Err(InputError::Value(_))));
        }
        assert!(matches!(literal(&Value::Float(f32::NAN), BACKSLASH), Err(InputError::Value(_))));
    }

    #[test]
    fn decimals_are_validated_because_they_go_unquoted() {
        for good in ["0", "-1.50", "+3", "12345678901234567890.000001", "1E+5", "1e-3", "-0.5e10"] {
            assert_eq!(lit(Value::Decimal(good.into())), good);
        }
        for bad in
            ["", "-", "1.", ".5", "1e", "1e+", "NaN", "Infinity", "1 OR 1=1", "1;DROP TABLE t", "0x10", "1,5", "١"]
        {
            assert!(matches!(literal(&Value::Decimal(bad.into()), BACKSLASH), Err(InputError::Value(_))), "{bad:?}");
        }
    }

    #[test]
    fn strings_enums_json_and_sets() {
        assert_eq!(lit(Value::Text("it's".into())), "'it\\'s'");
        assert_eq!(literal(&Value::Text("it's".into()), NO_BACKSLASH).unwrap(), "'it''s'");
        assert_eq!(lit(Value::Enum("small".into())), "'small'");
        assert_eq!(lit(Value::Json(r#"{"a":"b\n"}"#.into())), r#"'{\"a\":\"b\\n\"}'"#);
        assert_eq!(lit(Value::Set(vec!["a".into(), "b'".into()])), "'a,b\\''");
        assert_eq!(lit(Value::Set(vec![])), "''");
        assert!(matches!(literal(&Value::Set(vec!["a,b".into()]), BACKSLASH), Err(InputError::Value(_))));
    }

    #[test]
    fn bytes_are_hex() {
        assert_eq!(lit(Value::Bytes(vec![0x00, 0x27, 0x5c, 0xff])), "X'00275CFF'");
        assert_eq!(literal(&Value::Bytes(b"'\\".to_vec()), NO_BACKSLASH).unwrap(), "X'275C'");
        assert_eq!(lit(Value::Bytes(vec![])), "X''");
        // Longer than the digit buffer's 64 bytes, with a partial last chunk.
        let long: Vec<u8> = (0..=255).chain(0..=9).collect();
        let expected: String = long.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(lit(Value::Bytes(long)), format!("X'{expected}'"));
        assert_eq!(lit(Value::Geometry(vec![1, 2])), "X'0102'");
    }

    #[test]
    fn temporal_values() {
        let date = Date { year: 2024, month: 1, day: 2 };
        assert_eq!(lit(Value::Date(date)), "'2024-01-02'");
        assert_eq!(lit(Value::Date(Date::default())), "'0000-00-00'");
        let dt = DateTime { date, hour: 3, minute: 4, second: 5, microsecond: 0 };
        assert_eq!(lit(Value::DateTime(dt)), "'2024-01-02 03:04:05'");
        assert_eq!(lit(Value::Timestamp(DateTime { microsecond: 500_000, ..dt })), "'2024-01-02 03:04:05.500000'");
        assert_eq!(lit(Value::DateTime(DateTime { microsecond: 1, ..dt })), "'2024-01-02 03:04:05.000001'");
        let t = Time { negative: true, hours: 838, minutes: 59, seconds: 59, microseconds: 1 };
        assert_eq!(lit(Value::Time(t)), "'-838:59:59.000001'");
        assert_eq!(lit(Value::Time(Time { hours: 1, minutes: 2, seconds: 3, ..Time::default() })), "'01:02:03'");
        assert_eq!(lit(Value::Time(Time { negative: true, seconds: 1, ..Time::default() })), "'-00:00:01'");
        let bad = DateTime { microsecond: 1_000_000, ..dt };
        assert!(matches!(literal(&Value::DateTime(bad), BACKSLASH), Err(InputError::Value(_))));
        let bad = Time { microseconds: 1_000_000, ..t };
        assert!(matches!(literal(&Value::Time(bad), BACKSLASH), Err(InputError::Value(_))));
    }

    /// Scans a single-quoted MySQL string literal at the start of `sql` under `mode`'s rules;
    /// returns the unescaped content and the byte length of the literal, quotes included.
    fn scan_literal(sql: &str, mode: EscapeMode) -> Option<(String, usize)> {
        let mut chars = sql.char_indices();
        if chars.next()? != (0, '\'') {
            return None;
        }
        let mut content = String::new();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' if !mode.no_backslash_escapes => {
                    let (_, e) = chars.next()?;
                    match e {
                        '0' => content.push('\0'),
                        'n' => content.push('\n'),
                        'r' => content.push('\r'),
                        't' => content.push('\t'),
                        'b' => content.push('\x08'),
                        'Z' => content.push('\x1a'),
                        // MySQL keeps the backslash before % and _ (for LIKE patterns).
                        '%' | '_' => {
                            content.push('\\');
                            content.push(e);
                        }
                        other => content.push(other),
                    }
                }
                '\'' => {
                    let rest = sql.get(i + 1..)?;
                    if rest.starts_with('\'') {
                        chars.next();
                        content.push('\'');
                    } else {
                        return Some((content, i + 1));
                    }
                }
                other => content.push(other),
            }
        }
        None
    }

    const HOSTILE: &[&str] = &[
        "",
        "'",
        "''",
        "\\",
        "\\'",
        "'\\",
        "\\\\'",
        "\\' OR 1=1 --",
        "' OR 1=1 --",
        "'' OR ''='",
        "\\'' OR ''='",
        "a\0b",
        "\0'",
        "\x1a",
        "\\\x1a'",
        "\"",
        "\\\"'",
        "trailing backslash\\",
        "trailing\\\\\\",
        "\n\r\t\x08",
        "żółw 😀 '",
        "\u{2019}\u{ff07}\u{5c}",
        "%s %(a)s %%",
        "\\%\\_",
        "'); DROP TABLE users; --",
        "x'\\",
        "\u{a5}\u{5c}'",
        "\u{815c}'",
    ];

    #[test]
    fn injection_corpus_stays_inside_the_literal() {
        for mode in [BACKSLASH, NO_BACKSLASH] {
            for &s in HOSTILE {
                for v in [Value::Text(s.into()), Value::Enum(s.into()), Value::Json(s.into())] {
                    let rendered = literal(&v, mode).unwrap();
                    let (content, len) = scan_literal(&rendered, mode)
                        .unwrap_or_else(|| panic!("{mode:?} {s:?}: unterminated {rendered:?}"));
                    assert_eq!(len, rendered.len(), "{mode:?} {s:?}: literal ends early in {rendered:?}");
                    assert_eq!(content, s, "{mode:?} {s:?}: rendered {rendered:?}");
                }
            }
        }
    }

    #[test]
    fn injection_corpus_as_set_members() {
        for mode in [BACKSLASH, NO_BACKSLASH] {
            for &s in HOSTILE.iter().filter(|s| !s.contains(',')) {
                let rendered = literal(&Value::Set(vec![s.into(), "x".into()]), mode).unwrap();
                let (content, len) = scan_literal(&rendered, mode).unwrap();
                assert_eq!(len, rendered.len(), "{mode:?} {s:?}");
                assert_eq!(content, format!("{s},x"));
            }
        }
    }
}
