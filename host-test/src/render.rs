//! Rendering values and result sets for people (tables) and programs (JSON lines).

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

/// A value as JSON: numbers for integers, strings for DECIMAL, `{"bytes": hex}` for binary.
pub fn json_value(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => json!(i),
        Value::Uint(u) => json!(u),
        Value::Float(f) => json!(f),
        Value::Double(f) => json!(f),
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

/// A result set as an aligned text table.
pub fn table(columns: &[Column], rows: &[Vec<Value>]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(text).collect()).collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.name.chars().count()).collect();
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
    line(&mut out, &mut columns.iter().map(|c| c.name.as_str()));
    out.push_str(&rule);
    for row in &cells {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out.push_str(&rule);
    out
}

/// A driver error as one line: its class, then the message (which carries code and SQLSTATE).
pub fn error(e: &crate::driver::DbError) -> String {
    use crate::driver::ErrorKind as K;
    let class = match e.kind {
        K::Interface => "InterfaceError",
        K::Database => "DatabaseError",
        K::Data => "DataError",
        K::Operational => "OperationalError",
        K::Integrity => "IntegrityError",
        K::Internal => "InternalError",
        K::Programming => "ProgrammingError",
        K::NotSupported => "NotSupportedError",
    };
    format!("{class}: {}", e.message)
}
