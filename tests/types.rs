//! Every MySQL column type decoded exactly through the text protocol, column descriptions, and
//! results whose shape stresses the framing: 300 columns, rows of 16 MiB and more, rows that end
//! exactly on the 0xFFFFFF packet boundary.

use crate::common;

use common::*;
use host_test::driver::bindings::exports::cymysql::aio::types::{Date, Datetime, Time};
use host_test::driver::{
    Conn, ConnectOptions, Conversions, DecimalFormat, JsonFormat, Params, Session, TemporalFormat, Value,
};

/// enum_field_types codes (MYSQL_TYPE_*).
const TYPE_NEWDECIMAL: u8 = 246;
const TYPE_LONG: u8 = 3;
const TYPE_LONGLONG: u8 = 8;
const TYPE_DATETIME: u8 = 12;
const TYPE_VAR_STRING: u8 = 253;
const TYPE_BLOB: u8 = 252;
const TYPE_GEOMETRY: u8 = 255;
/// Column definition flags.
const NOT_NULL_FLAG: u16 = 1;
const UNSIGNED_FLAG: u16 = 32;
const BINARY_FLAG: u16 = 128;
const BINARY_COLLATION: u16 = 63;
/// The server's collation-server (utf8mb4_general_ci).
const UTF8MB4_GENERAL_CI: u16 = 45;
/// The largest payload of one packet.
const MAX_PACKET: usize = 0xFF_FFFF;

/// A session whose sql_mode accepts zero dates and out-of-range values, with UTC for TIMESTAMP.
fn lax(s: &mut Session) -> Conn {
    let c = connect(s);
    exec(s, c, "SET SESSION sql_mode = ''");
    exec(s, c, "SET SESSION time_zone = '+00:00'");
    c
}

/// The only row of `sql`.
fn row(s: &mut Session, c: Conn, sql: &str) -> Vec<Value> {
    let mut all = rows(s, c, sql);
    assert_eq!(all.len(), 1, "{sql}: {all:?}");
    all.remove(0)
}

fn exec_with(s: &mut Session, c: Conn, sql: &str, params: Vec<Value>) -> u64 {
    let cur = s.cursor(c).unwrap();
    let n = s.execute(cur, sql, Some(&Params::Positional(params))).unwrap().unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    s.drop_cursor(cur).unwrap();
    n
}

fn date(year: u16, month: u8, day: u8) -> Value {
    Value::Date(Date { year, month, day })
}

fn dt(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8, microsecond: u32) -> Datetime {
    Datetime { year, month, day, hour, minute, second, microsecond }
}

fn time(negative: bool, hours: u32, minutes: u8, seconds: u8, microseconds: u32) -> Value {
    Value::Time(Time { negative, hours, minutes, seconds, microseconds })
}

#[test]
fn integers_signed_min_max_and_unsigned_max() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(
        &mut s,
        c,
        "ty_ints",
        "k INT PRIMARY KEY, ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT, \
         uti TINYINT UNSIGNED, usi SMALLINT UNSIGNED, umi MEDIUMINT UNSIGNED, ui INT UNSIGNED, ubi BIGINT UNSIGNED",
    );
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES \
             (1, -128, -32768, -8388608, -2147483648, -9223372036854775808, 0, 0, 0, 0, 0), \
             (2, 127, 32767, 8388607, 2147483647, 9223372036854775807, \
                 255, 65535, 16777215, 4294967295, 18446744073709551615)"
        ),
    );
    let all = rows(&mut s, c, &format!("SELECT ti, si, mi, i, bi, uti, usi, umi, ui, ubi FROM {t} ORDER BY k"));
    let int = Value::Int;
    let uint = Value::Uint;
    assert_eq!(
        all,
        vec![
            vec![
                int(-128),
                int(-32768),
                int(-8388608),
                int(-2147483648),
                int(i64::MIN),
                uint(0),
                uint(0),
                uint(0),
                uint(0),
                uint(0)
            ],
            vec![
                int(127),
                int(32767),
                int(8388607),
                int(2147483647),
                int(i64::MAX),
                uint(255),
                uint(65535),
                uint(16777215),
                uint(4294967295),
                uint(u64::MAX)
            ],
        ]
    );
    // Expressions keep their exact value too.
    assert_eq!(
        row(&mut s, c, "SELECT CAST(18446744073709551615 AS UNSIGNED), -9223372036854775808, ~0"),
        vec![uint(u64::MAX), int(i64::MIN), uint(u64::MAX)]
    );
}

#[test]
fn zerofill_integers_lose_their_padding_not_their_value() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "ty_zerofill", "z INT(8) ZEROFILL");
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES (42)"));
    assert_eq!(scalar(&mut s, c, &format!("SELECT z FROM {t}")), Value::Uint(42));
}

#[test]
fn float_and_double() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "ty_floats", "k INT PRIMARY KEY, f FLOAT, d DOUBLE");
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES (1, 1.5, 0.1), (2, -3.25, -2.2250738585072014e-308), \
             (3, 1.23457, 1.7976931348623157e308), (4, 0, 0.30000000000000004), (5, -1e30, 5e-324)"
        ),
    );
    let all = rows(&mut s, c, &format!("SELECT f, d FROM {t} ORDER BY k"));
    assert_eq!(
        all,
        vec![
            vec![Value::Float(1.5), Value::Double(0.1)],
            vec![Value::Float(-3.25), Value::Double(-2.2250738585072014e-308)],
            vec![Value::Float(1.23457), Value::Double(f64::MAX)],
            vec![Value::Float(0.0), Value::Double(0.30000000000000004)],
            vec![Value::Float(-1e30), Value::Double(5e-324)],
        ]
    );
    assert_eq!(row(&mut s, c, "SELECT 0.1e0 + 0.2e0"), vec![Value::Double(0.1 + 0.2)]);
}

#[test]
fn decimal_keeps_every_digit() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "ty_decimal", "k INT PRIMARY KEY, d DECIMAL(65,30), small DECIMAL(5,2)");
    let big = "12345678901234567890123456789012345.123456789012345678901234567890";
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES (1, '{big}', 999.99), (2, '-{big}', -0.5), (3, 0, 0), \
             (4, '0.000000000000000000000000000001', -999.99)"
        ),
    );
    let all = rows(&mut s, c, &format!("SELECT d, small FROM {t} ORDER BY k"));
    let dec = |v: &str| Value::Decimal(v.into());
    assert_eq!(
        all,
        vec![
            vec![dec(big), dec("999.99")],
            vec![dec(&format!("-{big}")), dec("-0.50")],
            vec![dec("0.000000000000000000000000000000"), dec("0.00")],
            vec![dec("0.000000000000000000000000000001"), dec("-999.99")],
        ]
    );
    // A parameter carries a DECIMAL exactly into an expression and back.
    let cur = s.cursor(c).unwrap();
    let p = Params::Positional(vec![Value::Decimal(format!("-{big}"))]);
    s.execute(cur, "SELECT CAST(%s AS DECIMAL(65,30))", Some(&p)).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![dec(&format!("-{big}"))]]);
}

#[test]
fn dates_including_zero_dates_and_zero_parts() {
    let mut s = session();
    let c = lax(&mut s);
    let t = fresh_table(&mut s, c, "ty_dates", "k INT PRIMARY KEY, d DATE");
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES (1, '0000-00-00'), (2, '2024-00-15'), (3, '2024-02-00'), \
             (4, '1000-01-01'), (5, '9999-12-31'), (6, '2024-02-29')"
        ),
    );
    let all: Vec<Value> = rows(&mut s, c, &format!("SELECT d FROM {t} ORDER BY k")).into_iter().flatten().collect();
    assert_eq!(
        all,
        vec![
            date(0, 0, 0),
            date(2024, 0, 15),
            date(2024, 2, 0),
            date(1000, 1, 1),
            date(9999, 12, 31),
            date(2024, 2, 29),
        ]
    );
}

#[test]
fn datetime_with_exact_microseconds() {
    let mut s = session();
    let c = lax(&mut s);
    let t = fresh_table(&mut s, c, "ty_datetimes", "k INT PRIMARY KEY, d6 DATETIME(6), d0 DATETIME, d3 DATETIME(3)");
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES \
             (1, '2024-02-29 23:59:59.999999', '2024-02-29 23:59:59', '2024-02-29 23:59:59.999'), \
             (2, '2024-01-01 00:00:00.000001', '1000-01-01 00:00:00', '2024-01-01 00:00:00.001'), \
             (3, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '2024-00-00 12:34:56.5')"
        ),
    );
    let all = rows(&mut s, c, &format!("SELECT d6, d0, d3 FROM {t} ORDER BY k"));
    let v = Value::Datetime;
    assert_eq!(
        all,
        vec![
            vec![
                v(dt(2024, 2, 29, 23, 59, 59, 999_999)),
                v(dt(2024, 2, 29, 23, 59, 59, 0)),
                v(dt(2024, 2, 29, 23, 59, 59, 999_000))
            ],
            vec![v(dt(2024, 1, 1, 0, 0, 0, 1)), v(dt(1000, 1, 1, 0, 0, 0, 0)), v(dt(2024, 1, 1, 0, 0, 0, 1_000))],
            vec![v(dt(0, 0, 0, 0, 0, 0, 0)), v(dt(0, 0, 0, 0, 0, 0, 0)), v(dt(2024, 0, 0, 12, 34, 56, 500_000))],
        ]
    );
}

#[test]
fn timestamp_with_exact_microseconds() {
    let mut s = session();
    let c = lax(&mut s);
    let t = fresh_table(&mut s, c, "ty_timestamps", "k INT PRIMARY KEY, ts TIMESTAMP(6) NULL, ts0 TIMESTAMP NULL");
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES (1, '2038-01-19 03:14:07.999999', '1970-01-01 00:00:01'), \
             (2, '2024-02-29 12:00:00.000001', '0000-00-00 00:00:00')"
        ),
    );
    let all = rows(&mut s, c, &format!("SELECT ts, ts0 FROM {t} ORDER BY k"));
    let v = Value::Timestamp;
    assert_eq!(
        all,
        vec![
            vec![v(dt(2038, 1, 19, 3, 14, 7, 999_999)), v(dt(1970, 1, 1, 0, 0, 1, 0))],
            vec![v(dt(2024, 2, 29, 12, 0, 0, 1)), v(dt(0, 0, 0, 0, 0, 0, 0))],
        ]
    );
}

#[test]
fn time_negative_and_beyond_24_hours() {
    let mut s = session();
    let c = lax(&mut s);
    let t = fresh_table(&mut s, c, "ty_times", "k INT PRIMARY KEY, t6 TIME(6), t0 TIME");
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES (1, '-838:59:59.999999', '-838:59:59'), (2, '838:59:59', '838:59:59'), \
             (3, '-00:00:01', '-00:00:01'), (4, '-00:00:00.5', '00:00:00'), (5, '00:00:00.000001', '12:34:56')"
        ),
    );
    let all = rows(&mut s, c, &format!("SELECT t6, t0 FROM {t} ORDER BY k"));
    assert_eq!(
        all,
        vec![
            vec![time(true, 838, 59, 59, 999_999), time(true, 838, 59, 59, 0)],
            vec![time(false, 838, 59, 59, 0), time(false, 838, 59, 59, 0)],
            vec![time(true, 0, 0, 1, 0), time(true, 0, 0, 1, 0)],
            vec![time(true, 0, 0, 0, 500_000), time(false, 0, 0, 0, 0)],
            vec![time(false, 0, 0, 0, 1), time(false, 12, 34, 56, 0)],
        ]
    );
    // A fraction of fewer than six digits is scaled, not read as microseconds.
    assert_eq!(
        row(&mut s, c, "SELECT CAST('-00:00:00.5' AS TIME(1)), CAST('100:00:00.25' AS TIME(2))"),
        vec![time(true, 0, 0, 0, 500_000), time(false, 100, 0, 0, 250_000)]
    );
}

#[test]
fn year() {
    let mut s = session();
    let c = lax(&mut s);
    let t = fresh_table(&mut s, c, "ty_years", "k INT PRIMARY KEY, y YEAR");
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES (1, 1901), (2, 2155), (3, 2024), (4, 0), (5, '70')"));
    let all: Vec<Value> = rows(&mut s, c, &format!("SELECT y FROM {t} ORDER BY k")).into_iter().flatten().collect();
    assert_eq!(all, vec![Value::Year(1901), Value::Year(2155), Value::Year(2024), Value::Year(0), Value::Year(1970)]);
}

#[test]
fn bit_one_and_sixty_four() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "ty_bits", "k INT PRIMARY KEY, b1 BIT(1), b10 BIT(10), b64 BIT(64)");
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES (1, b'1', b'1000000001', 0xFFFFFFFFFFFFFFFF), (2, b'0', b'0', 0), \
             (3, 1, 1023, 0x8000000000000001)"
        ),
    );
    let all = rows(&mut s, c, &format!("SELECT b1, b10, b64 FROM {t} ORDER BY k"));
    assert_eq!(
        all,
        vec![
            vec![Value::Bit(1), Value::Bit(513), Value::Bit(u64::MAX)],
            vec![Value::Bit(0), Value::Bit(0), Value::Bit(0)],
            vec![Value::Bit(1), Value::Bit(1023), Value::Bit(0x8000_0000_0000_0001)],
        ]
    );
}

#[test]
fn enum_and_set_including_the_empty_set() {
    let mut s = session();
    let c = lax(&mut s);
    let t = fresh_table(
        &mut s,
        c,
        "ty_enum_set",
        "k INT PRIMARY KEY, e ENUM('small','medium','large','żółw 😀'), st SET('a','b','c','d')",
    );
    // Under a lax sql_mode an unknown ENUM value is stored as the empty string (index 0).
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES (1, 'medium', 'a,c'), (2, 'żółw 😀', ''), (3, 'nope', 'd,c,b,a'), (4, 'small', 'b')"
        ),
    );
    let all = rows(&mut s, c, &format!("SELECT e, st FROM {t} ORDER BY k"));
    let set = |m: &[&str]| Value::Set(m.iter().map(|x| x.to_string()).collect());
    assert_eq!(
        all,
        vec![
            vec![Value::Enum("medium".into()), set(&["a", "c"])],
            vec![Value::Enum("żółw 😀".into()), set(&[])],
            vec![Value::Enum(String::new()), set(&["a", "b", "c", "d"])],
            vec![Value::Enum("small".into()), set(&["b"])],
        ]
    );
}

#[test]
fn json_is_longtext_on_mariadb() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "ty_json", "k INT PRIMARY KEY, j JSON");
    let stored = r#"{"a": [1, 2.5, null, true], "b": {"ü": "😀"}, "n": 18446744073709551615}"#;
    exec_with(&mut s, c, &format!("INSERT INTO {t} VALUES (1, %s)"), vec![Value::Json(stored.into())]);
    assert_eq!(scalar(&mut s, c, &format!("SELECT j FROM {t}")), text(stored));
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("SELECT j FROM {t}"), None).unwrap().unwrap();
    let col = &s.description(cur).unwrap().unwrap()[0];
    // MariaDB declares it LONGTEXT with a CHECK (JSON_VALID(..)).
    assert_eq!((col.type_code, col.charset), (TYPE_BLOB, UTF8MB4_GENERAL_CI), "{col:?}");
    // Invalid JSON is refused by the column's check.
    let e = exec_err(&mut s, cur, &format!("INSERT INTO {t} VALUES (2, '{{not json')"));
    assert_eq!(e.code, Some(4025), "{e:?}");
}

#[test]
fn text_types_are_text_and_binary_types_are_bytes() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(
        &mut s,
        c,
        "ty_strings",
        "k INT PRIMARY KEY, ch CHAR(20), vc VARCHAR(100), tx TEXT, lt LONGTEXT, \
         bn BINARY(6), vb VARBINARY(100), bl BLOB, lb LONGBLOB",
    );
    let word = "żółw 😀 漢字 한국어 \\ ' \"";
    let bytes: Vec<u8> = vec![0x00, 0xFF, 0x27, 0x5C, 0x00];
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    exec_with(
        &mut s,
        c,
        &format!("INSERT INTO {t} VALUES (1, %s, %s, %s, %s, %s, %s, %s, %s)"),
        vec![
            text("😀 CJK 漢字  "),
            text(word),
            text(word),
            text(""),
            Value::Bytes(bytes.clone()),
            Value::Bytes(bytes.clone()),
            Value::Bytes(all_bytes.clone()),
            Value::Bytes(Vec::new()),
        ],
    );
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("SELECT ch, vc, tx, lt, bn, vb, bl, lb FROM {t}"), None).unwrap().unwrap();
    let got = s.fetchall(cur).unwrap().unwrap();
    let mut padded = bytes.clone();
    padded.push(0x00); // BINARY(6) pads with 0x00.
    assert_eq!(
        got,
        vec![vec![
            text("😀 CJK 漢字"), // CHAR drops trailing spaces
            text(word),
            text(word),
            text(""),
            Value::Bytes(padded),
            Value::Bytes(bytes),
            Value::Bytes(all_bytes),
            Value::Bytes(Vec::new()),
        ]]
    );
    let desc = s.description(cur).unwrap().unwrap();
    for col in &desc[..4] {
        assert_eq!(col.charset, UTF8MB4_GENERAL_CI, "{col:?}");
    }
    for col in &desc[4..] {
        assert_eq!(col.charset, BINARY_COLLATION, "{col:?}");
        assert_ne!(col.flags & BINARY_FLAG, 0, "{col:?}");
    }
    // Literals follow the same rule: a binary string is bytes even when it is valid UTF-8.
    assert_eq!(
        row(&mut s, c, "SELECT _binary'abc', X'00FF', 'abc', CONVERT(X'F09F9880' USING utf8mb4)"),
        vec![Value::Bytes(b"abc".to_vec()), Value::Bytes(vec![0, 0xFF]), text("abc"), text("😀")]
    );
}

#[test]
fn geometry_is_srid_and_wkb() {
    let mut s = session();
    let c = connect(&mut s);
    let point: Vec<u8> = [
        &[0u8, 0, 0, 0][..],   // SRID 0
        &[1],                  // little-endian WKB
        &[1, 0, 0, 0],         // wkbPoint
        &1.0f64.to_le_bytes(), // x
        &2.0f64.to_le_bytes(), // y
    ]
    .concat();
    assert_eq!(point.len(), 25);
    assert_eq!(scalar(&mut s, c, "SELECT ST_GeomFromText('POINT(1 2)')"), Value::Geometry(point.clone()));
    let t = fresh_table(&mut s, c, "ty_geometry", "k INT PRIMARY KEY, g GEOMETRY, p POINT");
    exec(
        &mut s,
        c,
        &format!("INSERT INTO {t} VALUES (1, ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(1 2)', 4326))"),
    );
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("SELECT g, p FROM {t}"), None).unwrap().unwrap();
    let mut with_srid = point.clone();
    with_srid[..4].copy_from_slice(&4326u32.to_le_bytes());
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Geometry(point), Value::Geometry(with_srid)]]);
    let desc = s.description(cur).unwrap().unwrap();
    assert!(desc.iter().all(|col| col.type_code == TYPE_GEOMETRY), "{desc:?}");
}

#[test]
fn null_in_every_column_type() {
    let mut s = session();
    let c = connect(&mut s);
    let columns = [
        "TINYINT",
        "SMALLINT UNSIGNED",
        "MEDIUMINT",
        "INT",
        "BIGINT UNSIGNED",
        "FLOAT",
        "DOUBLE",
        "DECIMAL(65,30)",
        "DATE",
        "DATETIME(6)",
        "TIMESTAMP(6) NULL",
        "TIME(6)",
        "YEAR",
        "BIT(64)",
        "ENUM('a','b')",
        "SET('a','b')",
        "JSON",
        "CHAR(5)",
        "VARCHAR(10)",
        "TEXT",
        "BINARY(4)",
        "VARBINARY(10)",
        "BLOB",
        "LONGBLOB",
        "GEOMETRY",
        "POINT",
    ];
    let defs: Vec<String> = columns.iter().enumerate().map(|(i, ty)| format!("c{i} {ty}")).collect();
    let t = fresh_table(&mut s, c, "ty_nulls", &defs.join(", "));
    exec(&mut s, c, &format!("INSERT INTO {t} () VALUES ()"));
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("SELECT * FROM {t}"), None).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Null; columns.len()]]);
    let desc = s.description(cur).unwrap().unwrap();
    assert_eq!(desc.len(), columns.len());
    assert!(desc.iter().all(|col| col.nullable && col.flags & NOT_NULL_FLAG == 0), "{desc:?}");
    // NULL literals and NULL from expressions, beside non-NULL values in the same row.
    assert_eq!(
        row(&mut s, c, "SELECT NULL, 1, CAST(NULL AS DATE), 'x', CAST(NULL AS UNSIGNED), NULLIF(X'00', X'00')"),
        vec![Value::Null, Value::Int(1), Value::Null, text("x"), Value::Null, Value::Null]
    );
}

#[test]
fn description_reports_type_nullability_flags_charset_and_decimals() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(
        &mut s,
        c,
        "ty_described",
        "id INT UNSIGNED NOT NULL PRIMARY KEY, big BIGINT, price DECIMAL(10,3) NOT NULL, \
         at DATETIME(6), name VARCHAR(40), raw VARBINARY(16)",
    );
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("SELECT id AS ident, big, price, at, name, raw FROM {t}"), None).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), Vec::<Vec<Value>>::new());
    let d = s.description(cur).unwrap().unwrap();
    assert_eq!(d.len(), 6);

    let id = &d[0];
    assert_eq!((id.name.as_str(), id.org_name.as_str()), ("ident", "id"));
    assert_eq!((id.table.as_str(), id.org_table.as_str(), id.schema.as_str()), (t.as_str(), t.as_str(), "test"));
    assert_eq!(id.type_code, TYPE_LONG);
    assert!(!id.nullable);
    assert_ne!(id.flags & UNSIGNED_FLAG, 0, "{id:?}");
    assert_ne!(id.flags & NOT_NULL_FLAG, 0, "{id:?}");
    assert_eq!(id.charset, BINARY_COLLATION, "numbers are described with the binary collation");

    let big = &d[1];
    assert_eq!(big.type_code, TYPE_LONGLONG);
    assert!(big.nullable);
    assert_eq!(big.flags & UNSIGNED_FLAG, 0, "{big:?}");

    let price = &d[2];
    assert_eq!((price.type_code, price.decimals, price.nullable), (TYPE_NEWDECIMAL, 3, false), "{price:?}");

    let at = &d[3];
    assert_eq!((at.type_code, at.decimals, at.nullable), (TYPE_DATETIME, 6, true), "{at:?}");

    let name = &d[4];
    assert_eq!((name.type_code, name.charset), (TYPE_VAR_STRING, UTF8MB4_GENERAL_CI), "{name:?}");
    assert_eq!(name.length, 40 * 4, "{name:?}");

    let raw = &d[5];
    assert_eq!((raw.type_code, raw.charset, raw.length), (TYPE_VAR_STRING, BINARY_COLLATION, 16), "{raw:?}");
}

#[test]
fn three_hundred_columns() {
    // A column count of 251 or more is a 3-byte length-encoded integer (0xFC + 2 bytes).
    let mut s = session();
    let c = connect(&mut s);
    let select: Vec<String> = (0..300).map(|i| format!("{i} * 7 AS col_{i}")).collect();
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("SELECT {}", select.join(", ")), None).unwrap().unwrap();
    let got = s.fetchall(cur).unwrap().unwrap();
    let expected: Vec<Value> = (0..300).map(|i| Value::Int(i * 7)).collect();
    assert_eq!(got, vec![expected]);
    let names: Vec<String> = s.description(cur).unwrap().unwrap().into_iter().map(|col| col.name).collect();
    assert_eq!(names, (0..300).map(|i| format!("col_{i}")).collect::<Vec<_>>());

    // The same from a table, with text and NULL cells mixed in.
    let defs: Vec<String> = (0..300).map(|i| format!("c{i} VARCHAR(4)")).collect();
    let t = fresh_table(&mut s, c, "ty_wide", &defs.join(", "));
    let values: Vec<String> = (0..300).map(|i| if i % 3 == 0 { "NULL".into() } else { format!("'v{i}'") }).collect();
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES ({})", values.join(", ")));
    let got = row(&mut s, c, &format!("SELECT * FROM {t}"));
    let expected: Vec<Value> =
        (0..300).map(|i| if i % 3 == 0 { Value::Null } else { text(&format!("v{i}")) }).collect();
    assert_eq!(got, expected);
}

#[test]
fn row_larger_than_16_mib_is_received() {
    let mut s = session();
    let c = connect(&mut s);
    let n = 20 * 1024 * 1024;
    // Two big rows and a small one after them: the stream goes on correctly after each joined packet.
    let all = rows(
        &mut s,
        c,
        &format!("SELECT REPEAT('x', {n}) AS v UNION ALL SELECT REPEAT('y', {n}) UNION ALL SELECT 'end'"),
    );
    assert_eq!(all.len(), 3);
    for (r, fill) in all.iter().take(2).zip([b'x', b'y']) {
        match &r[..] {
            [Value::Text(v)] => assert!(v.len() == n && v.bytes().all(|b| b == fill), "len {}", v.len()),
            other => panic!("{:?}", other.iter().map(std::mem::discriminant).collect::<Vec<_>>()),
        }
    }
    assert_eq!(all[2], vec![text("end")]);
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));

    // Unbuffered, the big rows arrive one fetch at a time.
    let cur = s.ss_cursor(c).unwrap();
    s.execute(cur, &format!("SELECT REPEAT(X'00', {n}) UNION ALL SELECT X'01'"), None).unwrap().unwrap();
    let first = s.fetchone(cur).unwrap().unwrap();
    assert!(first == Some(vec![Value::Bytes(vec![0; n])]), "first row came back different");
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), Some(vec![Value::Bytes(vec![1])]));
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), None);
}

#[test]
fn values_at_length_encoding_boundaries() {
    // Length prefixes change size at 251 (0xFC + 2 bytes) and 65536 (0xFD + 3 bytes); 0xFB is NULL.
    let mut s = session();
    let c = connect(&mut s);
    let lengths = [0usize, 1, 250, 251, 252, 255, 256, 65535, 65536, 65537];
    let select: Vec<String> = lengths.iter().flat_map(|n| [format!("REPEAT('z', {n})"), "NULL".into()]).collect();
    let got = row(&mut s, c, &format!("SELECT {}", select.join(", ")));
    let expected: Vec<Value> = lengths.iter().flat_map(|&n| [text(&"z".repeat(n)), Value::Null]).collect();
    assert!(got == expected, "values at the length-encoding boundaries came back different");
}

#[test]
fn text_in_a_column_charset_without_conversion() {
    // With character_set_results NULL the server sends each column in its own charset.
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(
        &mut s,
        c,
        "ty_charsets",
        "l VARCHAR(10) CHARACTER SET latin1, u VARCHAR(10) CHARACTER SET utf8mb4, b VARBINARY(10)",
    );
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES ('café €', 'café 😀', X'E9FF')"));
    exec(&mut s, c, "SET character_set_results = NULL");
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("SELECT l, u, b FROM {t}"), None).unwrap().unwrap();
    assert_eq!(
        s.fetchall(cur).unwrap().unwrap(),
        vec![vec![text("café €"), text("café 😀"), Value::Bytes(vec![0xE9, 0xFF])]]
    );
    let charsets: Vec<u16> = s.description(cur).unwrap().unwrap().iter().map(|col| col.charset).collect();
    assert_eq!(charsets, vec![8, UTF8MB4_GENERAL_CI, BINARY_COLLATION], "latin1_swedish_ci, utf8mb4, binary");
}

#[test]
fn longblob_over_16_mib_round_trips_through_a_parameter() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "ty_longblob", "k INT PRIMARY KEY, b LONGBLOB");
    let data = noise(17 * 1024 * 1024, 0x9E37_79B9_7F4A_7C15);
    // Sent as X'..': a 34 MiB statement, split over three packets.
    assert_eq!(exec_with(&mut s, c, &format!("INSERT INTO {t} VALUES (1, %s)"), vec![Value::Bytes(data.clone())]), 1);
    assert_eq!(scalar(&mut s, c, &format!("SELECT LENGTH(b) FROM {t}")), Value::Int(data.len() as i64));
    let got = scalar(&mut s, c, &format!("SELECT b FROM {t} WHERE k = 1"));
    match got {
        Value::Bytes(b) => {
            assert_eq!(b.len(), data.len());
            let first_difference = b.iter().zip(&data).position(|(x, y)| x != y);
            assert_eq!(first_difference, None, "bytes differ");
        }
        other => panic!("expected bytes, got {:?}", std::mem::discriminant(&other)),
    }
}

#[test]
fn text_parameter_over_16_mib_with_quotes_and_backslashes_round_trips() {
    let mut s = session();
    let c = connect(&mut s);
    // Escaping doubles some characters, so the statement is larger than the text.
    let unit = "ab'c\\d\"e\0f😀\n";
    let big: String = unit.repeat(17 * 1024 * 1024 / unit.len() + 1);
    let cur = s.cursor(c).unwrap();
    let p = Params::Positional(vec![text(&big)]);
    s.execute(cur, "SELECT %s", Some(&p)).unwrap().unwrap();
    let got = s.fetchall(cur).unwrap().unwrap();
    assert!(got == vec![vec![text(&big)]], "the text came back different");
}

/// `SELECT REPEAT(x, len)` twice in one result: each row's payload is `len` plus its length prefix.
fn boundary_rows(s: &mut Session, c: Conn, fill: &str, len: usize) -> Vec<Vec<Value>> {
    rows(s, c, &format!("SELECT REPEAT({fill}, {len}) FROM (SELECT 1 UNION ALL SELECT 2) AS two"))
}

#[test]
fn rows_around_the_packet_size_boundary() {
    let mut s = session();
    let c = connect(&mut s);
    // Values below 2^24 bytes have a 4-byte length prefix (0xFD + 3), from 2^24 on a 9-byte one
    // (0xFE + 8, so the row starts like an EOF packet). A payload of exactly 0xFFFFFF is followed
    // by an empty packet; one of exactly 2 * 0xFFFFFF by a third, empty one.
    let lengths = [
        MAX_PACKET - 5,
        MAX_PACKET - 4,
        MAX_PACKET - 3,
        MAX_PACKET - 1,
        MAX_PACKET,
        MAX_PACKET + 1,
        2 * MAX_PACKET - 9,
        2 * MAX_PACKET - 8,
    ];
    for (i, len) in lengths.into_iter().enumerate() {
        // Alternate text and binary values; 0xFE bytes fill the binary ones.
        let (fill, expected) =
            if i % 2 == 0 { ("'a'", text(&"a".repeat(len))) } else { ("X'FE'", Value::Bytes(vec![0xFE; len])) };
        let got = boundary_rows(&mut s, c, fill, len);
        assert_eq!(got.len(), 2, "len {len}");
        for r in got {
            assert!(r.len() == 1 && r[0] == expected, "a row of one value of {len} bytes came back different");
        }
        assert_eq!(scalar(&mut s, c, "SELECT 'next'"), text("next"), "after len {len}");
    }
}

#[test]
fn statements_around_the_packet_size_boundary() {
    let mut s = session();
    let c = connect(&mut s);
    // COM_QUERY's payload is the command byte plus the statement.
    let frame = "SELECT LENGTH('')".len();
    for payload in [MAX_PACKET - 1, MAX_PACKET, MAX_PACKET + 1, 2 * MAX_PACKET, 2 * MAX_PACKET + 1] {
        let len = payload - 1 - frame;
        let sql = format!("SELECT LENGTH('{}')", "q".repeat(len));
        assert_eq!(sql.len() + 1, payload);
        assert_eq!(scalar(&mut s, c, &sql), Value::Int(len as i64), "payload {payload}");
        assert_eq!(scalar(&mut s, c, "SELECT 'next'"), text("next"), "after payload {payload}");
    }
}

// ---------------------------------------------------------------------------------------------
// Values outside their type, and non-finite floats: MariaDB never sends either (it refuses or
// clips such values), so a scripted peer plays a MySQL 8 server sending them, byte for byte.

/// A MySQL 8.0 Initial Handshake Packet (mysql_native_password, CLIENT_DEPRECATE_EOF).
fn peer_handshake() -> Vec<u8> {
    let caps: u32 = 0xdfff_ffff;
    let mut h = vec![10];
    h.extend_from_slice(b"8.0.36\0");
    h.extend_from_slice(&7u32.to_le_bytes());
    h.extend_from_slice(b"abcdefgh\0");
    h.extend_from_slice(&(caps as u16).to_le_bytes());
    h.push(255);
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    h.push(21);
    h.extend_from_slice(&[0; 10]);
    h.extend_from_slice(b"ijklmnopqrst\0mysql_native_password\0");
    h
}

/// ColumnDefinition41 of a column `name` of `column_type` in the binary collation.
fn column_definition(name: &str, column_type: u8, length: u32) -> Vec<u8> {
    let mut c = b"\x03def\x00\x00\x00".to_vec();
    c.push(name.len() as u8);
    c.extend_from_slice(name.as_bytes());
    c.extend_from_slice(b"\x00\x0c");
    c.extend_from_slice(&BINARY_COLLATION.to_le_bytes());
    c.extend_from_slice(&length.to_le_bytes());
    c.push(column_type);
    c.extend_from_slice(&BINARY_FLAG.to_le_bytes());
    c.extend_from_slice(b"\x1f\x00\x00");
    c
}

/// A one-column result set (count, definition, rows, OK-as-EOF), sequence ids from 1.
fn result_set(column: Vec<u8>, cells: &[Option<&[u8]>]) -> Vec<u8> {
    let mut out = packet(1, b"\x01");
    out.extend(packet(2, &column));
    let mut seq = 3;
    for cell in cells {
        let row = match cell {
            Some(v) => [&[v.len() as u8][..], v].concat(),
            None => vec![0xfb],
        };
        out.extend(packet(seq, &row));
        seq += 1;
    }
    out.extend(packet(seq, b"\xfe\x00\x00\x00\x00\x00\x00"));
    out
}

#[test]
fn scripted_out_of_range_value_is_a_data_error_and_the_connection_stays_usable() {
    use std::io::{Read, Write};
    const TYPE_TINY: u8 = 1;
    const TYPE_TIME: u8 = 11;
    const TYPE_DOUBLE: u8 = 5;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let recv = |stream: &mut std::net::TcpStream| {
            let mut header = [0u8; 4];
            stream.read_exact(&mut header).ok()?;
            let mut payload = vec![0; u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize];
            stream.read_exact(&mut payload).ok()?;
            Some(payload)
        };
        stream.write_all(&packet(0, &peer_handshake())).unwrap();
        recv(&mut stream).unwrap();
        stream.write_all(&packet(2, b"\x00\x00\x00\x00\x00\x00\x00")).unwrap();
        let replies = [
            // TINYINT 99999 between two good rows, then TIME 4000000000 hours.
            result_set(column_definition("t", TYPE_TINY, 4), &[Some(b"1"), Some(b"99999"), Some(b"2")]),
            result_set(column_definition("h", TYPE_TIME, 10), &[Some(b"4000000000:00:00")]),
            // Non-finite doubles next to SQL NULL.
            result_set(
                column_definition("d", TYPE_DOUBLE, 22),
                &[Some(b"inf"), Some(b"-inf"), Some(b"nan"), None, Some(b"1.5")],
            ),
        ];
        let mut queries = Vec::new();
        for reply in replies {
            queries.push(recv(&mut stream).unwrap());
            stream.write_all(&reply).unwrap();
        }
        queries.push(recv(&mut stream).unwrap_or_default());
        queries
    });
    let mut s = session();
    let mut o = options(&mut s);
    o.port = port;
    o.db = None;
    let c = s.connect(&o).unwrap().expect("connect to the scripted peer");
    let cur = s.cursor(c).unwrap();
    for sql in ["SELECT t", "SELECT h"] {
        let e = exec_err(&mut s, cur, sql);
        assert_kind(&e, host_test::driver::ErrorKind::Data, None);
        assert!(e.message.contains("out of range"), "{e:?}");
        // The row read before the refused one is not handed out as if the result were complete.
        assert_eq!(s.fetchall(cur).unwrap().unwrap(), Vec::<Vec<Value>>::new(), "{sql}");
    }
    // The rest of each refused result was drained: the next statement gets its own rows.
    s.execute(cur, "SELECT d", None).unwrap().expect("the connection is still usable");
    let all = s.fetchall(cur).unwrap().unwrap();
    let got: Vec<String> = all
        .iter()
        .map(|r| match r[0] {
            Value::Double(d) => format!("{d}"),
            Value::Null => "NULL".into(),
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, ["inf", "-inf", "NaN", "NULL", "1.5"]);
    s.close(c).unwrap().unwrap();
    let queries = peer.join().unwrap();
    assert_eq!(queries, [&b"\x03SELECT t"[..], b"\x03SELECT h", b"\x03SELECT d", b"\x01"]);
}

/// A connection whose options convert results as `conversions` says, with UTC for TIMESTAMP.
fn converting(s: &mut Session, conversions: Conversions) -> Conn {
    let o = ConnectOptions { conversions, ..options(s) };
    let c = s.connect(&o).unwrap().unwrap();
    exec(s, c, "SET SESSION time_zone = '+00:00'");
    c
}

/// The row of `sql` read with the text protocol (execute) and with the binary one
/// (execute-prepared), which must agree.
fn both_protocols(s: &mut Session, c: Conn, sql: &str) -> Vec<Value> {
    let cur = s.cursor(c).unwrap();
    s.execute(cur, sql, None).unwrap().unwrap();
    let text_row = s.fetchone(cur).unwrap().unwrap().unwrap();
    s.execute_prepared(cur, sql, Some(&Params::Positional(vec![]))).unwrap().unwrap();
    let binary_row = s.fetchone(cur).unwrap().unwrap().unwrap();
    assert_eq!(text_row, binary_row, "{sql}: text and binary protocol disagree");
    s.drop_cursor(cur).unwrap();
    text_row
}

const TEMPORALS: &str = "SELECT CAST('2024-02-29' AS DATE), CAST('2024-02-29 13:05:09.25' AS DATETIME(6)), \
     CAST('2024-02-29 13:05:09.123456' AS DATETIME(3)), TIMESTAMP'2024-02-29 13:05:09', \
     CAST('-838:59:59' AS TIME), CAST('01:02:03.00004' AS TIME(6)), NULL";

#[test]
fn decimal_comes_back_as_exact_text_by_default_and_as_double_on_request() {
    let mut s = session();
    let sql = "SELECT CAST(-12.50 AS DECIMAL(10,2)), CAST(0.1 AS DECIMAL(65,30)), CAST(NULL AS DECIMAL(5,1))";
    let defaults = default_conversions(&mut s);
    assert_eq!(defaults.decimal, DecimalFormat::Text);
    let c = converting(&mut s, defaults);
    assert_eq!(
        both_protocols(&mut s, c, sql),
        vec![Value::Decimal("-12.50".into()), Value::Decimal("0.100000000000000000000000000000".into()), Value::Null]
    );
    let c = converting(&mut s, Conversions { decimal: DecimalFormat::Double, ..defaults });
    assert_eq!(both_protocols(&mut s, c, sql), vec![Value::Double(-12.5), Value::Double(0.1), Value::Null]);
    // Also through the URL, and through a dict cursor and a prepared statement.
    let url = format!("{}?decimal=double", server().url("test"));
    let c = s.connect_url(&url).unwrap().unwrap();
    let d = s.dict_cursor(c).unwrap();
    s.dict_execute(d, "SELECT CAST(2.75 AS DECIMAL(4,2)) AS d", None).unwrap().unwrap();
    assert_eq!(s.dict_fetchall(d).unwrap().unwrap(), vec![vec![("d".to_string(), Value::Double(2.75))]]);
    let st = s.prepare(c, "SELECT CAST(? AS DECIMAL(6,3))").unwrap().unwrap();
    let cur = s.stmt_execute(st, &[Value::Decimal("1.125".into())]).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Double(1.125)]]);
}

fn default_conversions(s: &mut Session) -> Conversions {
    s.default_options().unwrap().conversions
}

#[test]
fn temporal_values_come_back_as_records_by_default_and_as_iso_text_on_request() {
    let mut s = session();
    let defaults = default_conversions(&mut s);
    assert_eq!(defaults.temporal, TemporalFormat::Record);
    let c = converting(&mut s, defaults);
    let records = both_protocols(&mut s, c, TEMPORALS);
    assert_eq!(records[0], date(2024, 2, 29));
    assert_eq!(records[1], Value::Datetime(dt(2024, 2, 29, 13, 5, 9, 250_000)));
    assert_eq!(records[4], time(true, 838, 59, 59, 0));
    let c = converting(&mut s, Conversions { temporal: TemporalFormat::IsoText, ..defaults });
    assert_eq!(
        both_protocols(&mut s, c, TEMPORALS),
        vec![
            text("2024-02-29"),
            text("2024-02-29T13:05:09.250000"),
            text("2024-02-29T13:05:09.123"),
            text("2024-02-29T13:05:09"),
            text("-838:59:59"),
            text("01:02:03.000040"),
            Value::Null,
        ]
    );
    // Zero dates stay zero; a TIMESTAMP column under iso-text through the URL and a streamed row.
    let url = format!("{}?temporal=iso-text", server().url("test"));
    let c = s.connect_url(&url).unwrap().unwrap();
    exec(&mut s, c, "SET SESSION sql_mode = ''");
    exec(&mut s, c, "SET SESSION time_zone = '+00:00'");
    let t = fresh_table(&mut s, c, "ty_iso", "d DATE, ts TIMESTAMP(2) NULL");
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES ('0000-00-00', '2001-02-03 04:05:06.07')"));
    let sql = format!("SELECT d, ts FROM {t}");
    assert_eq!(both_protocols(&mut s, c, &sql), vec![text("0000-00-00"), text("2001-02-03T04:05:06.07")]);
}

#[test]
fn json_stays_text_on_mariadb_under_either_json_format() {
    // MariaDB describes JSON columns as LONGTEXT, so the json option (which turns MySQL's JSON
    // type into text) changes nothing here; the MySQL JSON type is covered by unit tests.
    let mut s = session();
    let defaults = default_conversions(&mut s);
    assert_eq!(defaults.json, JsonFormat::Json);
    for (json, table) in [(JsonFormat::Json, "ty_json_as_json"), (JsonFormat::Text, "ty_json_as_text")] {
        let c = converting(&mut s, Conversions { json, ..defaults });
        let t = fresh_table(&mut s, c, table, "j JSON");
        exec(&mut s, c, &format!("INSERT INTO {t} VALUES ('[1, \"a\"]')"));
        assert_eq!(both_protocols(&mut s, c, &format!("SELECT j FROM {t}")), vec![text("[1, \"a\"]")]);
    }
    let o = s.options_from_url(&format!("{}?json=text", server().url("test"))).unwrap().unwrap();
    assert_eq!(o.conversions.json, JsonFormat::Text);
    let e = s.options_from_url(&format!("{}?json=object", server().url("test"))).unwrap().unwrap_err();
    assert_eq!(e.kind, host_test::driver::ErrorKind::Programming, "{e:?}");
}
