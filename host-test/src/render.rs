//! Rendering values and result sets for people (tables) and programs (JSON lines).
//!
//! Everything the server controls (cells, column names, error messages, which may quote plugin
//! names or SQL) goes through [`terminal`] before it reaches a terminal, so a hostile server cannot
//! move the cursor, ring the bell, retitle the window or hide text with control characters.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{json, Value as Json};

use crate::driver::{Column, Value};

/// The MYSQL_TYPE_* name of a column type code, without the prefix.
pub fn type_name(code: u8) -> &'static str {
    match code {
        0 => "DECIMAL",
        1 => "TINY",
        2 => "SHORT",
        3 => "LONG",
        4 => "FLOAT",
        5 => "DOUBLE",
        6 => "NULL",
        7 => "TIMESTAMP",
        8 => "LONGLONG",
        9 => "INT24",
        10 => "DATE",
        11 => "TIME",
        12 => "DATETIME",
        13 => "YEAR",
        14 => "NEWDATE",
        15 => "VARCHAR",
        16 => "BIT",
        245 => "JSON",
        246 => "NEWDECIMAL",
        247 => "ENUM",
        248 => "SET",
        249 => "TINY_BLOB",
        250 => "MEDIUM_BLOB",
        251 => "LONG_BLOB",
        252 => "BLOB",
        253 => "VAR_STRING",
        254 => "STRING",
        255 => "GEOMETRY",
        _ => "UNKNOWN",
    }
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for byte in b {
        let _ = write!(s, "{byte:02x}");
    }
    s
}

fn frac(us: u32) -> String {
    if us == 0 {
        String::new()
    } else {
        format!(".{us:06}")
    }
}

/// ISO-like text of temporal values, keeping microseconds and the sign of TIME; other values as text.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(f) => f.to_string(),
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) | Value::Enum(s) => s.clone(),
        Value::Bytes(b) | Value::Geometry(b) => format!("0x{}", hex(b)),
        Value::Date(d) => format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
        Value::Datetime(d) | Value::Timestamp(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{}",
            d.year,
            d.month,
            d.day,
            d.hour,
            d.minute,
            d.second,
            frac(d.microsecond)
        ),
        Value::Time(t) => format!(
            "{}{:02}:{:02}:{:02}{}",
            if t.negative { "-" } else { "" },
            t.hours,
            t.minutes,
            t.seconds,
            frac(t.microseconds)
        ),
        Value::Year(y) => y.to_string(),
        Value::Bit(b) => b.to_string(),
        Value::Set(s) => s.join(","),
    }
}

/// A floating-point value as JSON: a number when finite; otherwise the strings `"Infinity"`,
/// `"-Infinity"` and `"NaN"`, which JSON cannot hold as numbers but JavaScript's `Number()`,
/// Python's `float()`, Java's `Double.parseDouble` and Rust's `parse::<f64>()` all read back.
/// Never `null`, which is SQL NULL.
fn json_float(f: f64) -> Json {
    if f.is_finite() {
        json!(f)
    } else if f.is_nan() {
        json!("NaN")
    } else if f > 0.0 {
        json!("Infinity")
    } else {
        json!("-Infinity")
    }
}

/// A value as JSON: numbers for integers, strings for DECIMAL, `{"bytes": hex}` for binary,
/// non-finite floats as strings (see [`json_float`]).
pub fn json_value(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => json!(i),
        Value::Uint(u) => json!(u),
        Value::Float(f) => json_float(f64::from(*f)),
        Value::Double(f) => json_float(*f),
        Value::Year(y) => json!(y),
        Value::Bit(b) => json!(b),
        Value::Bytes(b) | Value::Geometry(b) => json!({ "bytes": hex(b) }),
        Value::Set(s) => json!(s),
        other => Json::String(text(other)),
    }
}

/// One result set as the `--json` line: columns, rows, rowcount, lastrowid, warnings.
pub fn json_result(
    columns: &[Column],
    rows: &[Vec<Value>],
    rowcount: i64,
    lastrowid: Option<u64>,
    warnings: u16,
) -> Json {
    json!({
        "columns": columns.iter().map(|c| json!({"name": c.name, "type": type_name(c.type_code)})).collect::<Vec<_>>(),
        "rows": rows.iter().map(|r| r.iter().map(json_value).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "rowcount": rowcount,
        "lastrowid": lastrowid,
        "warnings": warnings,
    })
}

/// A result set as an aligned text table, control characters in names and cells escaped and
/// column names cut at [`NAME_LIMIT`].
pub fn table(columns: &[Column], rows: &[Vec<Value>]) -> String {
    let names: Vec<String> = columns.iter().map(|c| column_name(&c.name)).collect();
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|v| terminal(&text(v))).collect()).collect();
    let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut String, items: &mut dyn Iterator<Item = &str>| {
        out.push('|');
        for (item, w) in items.zip(&widths) {
            let _ = write!(out, " {item:<w$} |");
        }
        out.push('\n');
    };
    let rule: String = widths.iter().map(|w| format!("+{}", "-".repeat(w + 2))).collect::<String>() + "+\n";
    let mut out = rule.clone();
    line(&mut out, &mut names.iter().map(String::as_str));
    out.push_str(&rule);
    for row in &cells {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out.push_str(&rule);
    out
}

/// The longest error message shown, in characters: a server may put a megabyte of text (a plugin
/// name, an echoed statement) in one error, and the line stays readable.
pub const MESSAGE_LIMIT: usize = 1000;

/// The longest column name shown, in characters: MariaDB allows 256 for an alias, so only a
/// server that breaks its own limits sends more.
pub const NAME_LIMIT: usize = 256;

/// The PEP 249 class name of an error kind.
pub fn class_name(kind: crate::driver::ErrorKind) -> &'static str {
    use crate::driver::ErrorKind as K;
    match kind {
        K::Interface => "InterfaceError",
        K::Database => "DatabaseError",
        K::Data => "DataError",
        K::Operational => "OperationalError",
        K::Integrity => "IntegrityError",
        K::Internal => "InternalError",
        K::Programming => "ProgrammingError",
        K::NotSupported => "NotSupportedError",
    }
}

/// A driver error as one line, in the `mariadb` client's format: `ERROR 1064 (42000): ...` for the
/// server's errors and `ERROR 2003 (HY000): ...` for client (`CR_*`) errors, which carry HY000 as
/// libmariadb gives them. An error with no code shows its PEP 249 class instead:
/// `ERROR: ProgrammingError: ...`. The message is cut at [`MESSAGE_LIMIT`] and escaped.
pub fn error(e: &crate::driver::DbError) -> String {
    let message = terminal(&cut(&e.message, MESSAGE_LIMIT));
    match e.code {
        Some(code) => format!("ERROR {code} ({}): {message}", terminal(e.sqlstate.as_deref().unwrap_or("HY000"))),
        None => format!("ERROR: {}: {message}", class_name(e.kind)),
    }
}

/// A column name as shown: cut at [`NAME_LIMIT`], control characters escaped.
pub fn column_name(name: &str) -> String {
    terminal(&cut(name, NAME_LIMIT))
}

/// `s` cut to its first `limit` characters, with a marker saying how many more there were.
pub fn cut(s: &str, limit: usize) -> Cow<'_, str> {
    match s.char_indices().nth(limit) {
        None => Cow::Borrowed(s),
        Some((at, _)) => {
            let rest = s[at..].chars().count();
            Cow::Owned(format!("{}[... {rest} more characters]", &s[..at]))
        }
    }
}

/// `s` with every character that steers a terminal written out as an escape: NUL, tab, line feed
/// and carriage return as `\0`, `\t`, `\n` and `\r` (as the `mariadb` client's batch mode writes
/// them), other C0 controls and DEL as `\xNN`, C1 controls and the bidirectional overrides and
/// isolates (which reorder what follows on the line) as `\u{NNNN}`. Printable text, backslashes
/// included, is left as it is.
pub fn terminal(s: &str) -> String {
    if !s.chars().any(steers_terminal) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if steers_terminal(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// C0, DEL, C1, and the Unicode bidirectional embeddings, overrides, isolates and marks.
fn steers_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{DbError, ErrorKind};

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(terminal("plain ż 😀 \\ text"), "plain ż 😀 \\ text");
        assert_eq!(terminal("\u{1b}[31mred\u{7}\r\n\0\t"), "\\x1b[31mred\\x07\\r\\n\\0\\t");
        assert_eq!(terminal("a\u{7f}b\u{9b}c\u{85}"), "a\\x7fb\\u{009b}c\\u{0085}");
        assert_eq!(terminal("x\u{202e}y\u{2066}z"), "x\\u{202e}y\\u{2066}z");
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let shown = terminal(&c.to_string());
            assert!(shown.starts_with('\\') && !shown.chars().any(char::is_control), "{c:?} -> {shown:?}");
        }
    }

    #[test]
    fn long_text_is_cut_with_a_marker() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "abc[... 1 more characters]");
        assert_eq!(cut("żółwie", 2), "żó[... 4 more characters]");
        let long = "x".repeat(1_000_000);
        let shown = cut(&long, MESSAGE_LIMIT);
        assert!(shown.starts_with(&"x".repeat(MESSAGE_LIMIT)), "{}", &shown[..20]);
        assert!(shown.ends_with("x[... 999000 more characters]"), "{}", &shown[shown.len() - 40..]);
    }

    fn db_error(kind: ErrorKind, code: Option<u16>, sqlstate: Option<&str>, message: &str) -> DbError {
        DbError { kind, code, sqlstate: sqlstate.map(str::to_string), message: message.to_string(), retryable: false }
    }

    #[test]
    fn errors_in_the_mariadb_clients_format() {
        let syntax =
            db_error(ErrorKind::Programming, Some(1064), Some("42000"), "You have an error in your SQL syntax");
        assert_eq!(error(&syntax), "ERROR 1064 (42000): You have an error in your SQL syntax");
        let refused = db_error(
            ErrorKind::Operational,
            Some(2003),
            None,
            "Can't connect to MySQL server on '127.0.0.1:1' (connection refused)",
        );
        assert_eq!(
            error(&refused),
            "ERROR 2003 (HY000): Can't connect to MySQL server on '127.0.0.1:1' (connection refused)"
        );
        let no_code = db_error(ErrorKind::Programming, None, None, "unknown option 'x'");
        assert_eq!(error(&no_code), "ERROR: ProgrammingError: unknown option 'x'");
        let hostile = db_error(
            ErrorKind::Operational,
            Some(1105),
            Some("HY\u{1b}00"),
            &format!("\u{1b}]0;owned\u{7}{}", "y".repeat(5000)),
        );
        let shown = error(&hostile);
        assert!(shown.starts_with("ERROR 1105 (HY\\x1b00): \\x1b]0;owned\\x07yyy"), "{}", &shown[..40]);
        assert!(shown.ends_with("[... 4010 more characters]"), "{}", &shown[shown.len() - 40..]);
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn non_finite_floats_are_not_null_in_json() {
        assert_eq!(json_value(&Value::Double(f64::INFINITY)), json!("Infinity"));
        assert_eq!(json_value(&Value::Double(f64::NEG_INFINITY)), json!("-Infinity"));
        assert_eq!(json_value(&Value::Double(f64::NAN)), json!("NaN"));
        assert_eq!(json_value(&Value::Float(f32::NAN)), json!("NaN"));
        assert_eq!(json_value(&Value::Float(f32::NEG_INFINITY)), json!("-Infinity"));
        assert_eq!(json_value(&Value::Double(-0.0)).to_string(), "-0.0");
        assert_eq!(json_value(&Value::Float(0.5)), json!(0.5));
        assert_eq!(json_value(&Value::Null), Json::Null);
    }

    #[test]
    fn table_escapes_cells_and_column_names() {
        let column = |name: &str| Column {
            name: name.to_string(),
            org_name: String::new(),
            table: String::new(),
            org_table: String::new(),
            schema: String::new(),
            type_code: 253,
            length: 0,
            decimals: 0,
            flags: 0,
            charset: 45,
            nullable: true,
        };
        let t = table(&[column("a\u{1b}[2J")], &[vec![Value::Text("x\ry\u{7}".into())]]);
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        assert!(t.contains("| a\\x1b[2J |") && t.contains("| x\\ry\\x07 |"), "{t}");
    }
}
