//! Client-side parameter interpolation through the component: placeholders, every value kind
//! as a parameter, hostile strings under both escaping modes and with multi-statements on, and
//! the connection character sets that escaping depends on.

use crate::common;

use common::*;
use host_test::driver::bindings::exports::cymysql::aio::types::{Date, Datetime, Time};
use host_test::driver::{Conn, ErrorKind, Params, Session, Value};

const CLIENT_MULTI_STATEMENTS: u32 = 1 << 16;

fn pos(values: Vec<Value>) -> Params {
    Params::Positional(values)
}

fn named(pairs: &[(&str, Value)]) -> Params {
    Params::Named(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

/// Runs `sql` with `params` on a fresh cursor and returns every row; panics on error.
fn query(s: &mut Session, c: Conn, sql: &str, params: Option<&Params>) -> Vec<Vec<Value>> {
    let cur = s.cursor(c).unwrap();
    s.execute(cur, sql, params).unwrap().unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let r = s.fetchall(cur).unwrap().unwrap();
    s.drop_cursor(cur).unwrap();
    r
}

/// Runs `sql` with `params` expecting the driver to refuse it; returns the error.
fn query_err(s: &mut Session, c: Conn, sql: &str, params: Option<&Params>) -> host_test::driver::DbError {
    let cur = s.cursor(c).unwrap();
    let r = s.execute(cur, sql, params).unwrap();
    s.drop_cursor(cur).unwrap();
    match r {
        Ok(n) => panic!("{sql} with {params:?}: expected an error, got {n}"),
        Err(e) => e,
    }
}

fn one(s: &mut Session, c: Conn, sql: &str, params: Option<&Params>) -> Value {
    let rows = query(s, c, sql, params);
    assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
    assert_eq!(rows[0].len(), 1, "{sql}: {rows:?}");
    rows.into_iter().next().unwrap().into_iter().next().unwrap()
}

fn connect_with(s: &mut Session, edit: impl FnOnce(&mut host_test::driver::ConnectOptions)) -> Conn {
    let mut o = options(s);
    edit(&mut o);
    s.connect(&o).unwrap().expect("connect")
}

#[test]
fn positional_and_named_placeholders() {
    let mut s = session();
    let c = connect(&mut s);
    let rows = query(&mut s, c, "SELECT %s, %s, %s", Some(&pos(vec![Value::Int(-7), text("a'b"), Value::Null])));
    assert_eq!(rows, vec![vec![Value::Int(-7), text("a'b"), Value::Null]]);

    let p = named(&[("a", Value::Int(1)), ("b", text("x\\y")), ("unused", Value::Int(99))]);
    let rows = query(&mut s, c, "SELECT %(a)s, %(b)s, %(a)s + 1", Some(&p));
    assert_eq!(rows, vec![vec![Value::Int(1), text("x\\y"), Value::Int(2)]]);

    // A placeholder inside SQL quotes is still a placeholder, as in PyMySQL: it is replaced by a
    // quoted literal, so the quotes around it end up adjacent string literals.
    let rows = query(&mut s, c, "SELECT CONCAT('<', %s, '>')", Some(&pos(vec![text("%s")])));
    assert_eq!(rows, vec![vec![text("<%s>")]]);
}

#[test]
fn no_params_means_no_percent_processing() {
    let mut s = session();
    let c = connect(&mut s);
    assert_eq!(one(&mut s, c, "SELECT '100%'", None), text("100%"));
    assert_eq!(one(&mut s, c, "SELECT '%s'", None), text("%s"));
    assert_eq!(one(&mut s, c, "SELECT '%%'", None), text("%%"));
    assert_eq!(one(&mut s, c, "SELECT 'abc' LIKE 'a%'", None), Value::Int(1));

    // With parameters, even none, `%` is a format character: `%%` is a literal percent sign.
    let empty = pos(vec![]);
    assert_eq!(one(&mut s, c, "SELECT '100%%'", Some(&empty)), text("100%"));
    assert_eq!(one(&mut s, c, "SELECT 'abc' LIKE 'a%%'", Some(&empty)), Value::Int(1));
    let e = query_err(&mut s, c, "SELECT '100%'", Some(&empty));
    assert_kind(&e, ErrorKind::Programming, None);
    let e = query_err(&mut s, c, "SELECT '%s'", Some(&empty));
    assert_kind(&e, ErrorKind::Programming, None);
}

#[test]
fn wrong_parameters_are_programming_errors() {
    let mut s = session();
    let c = connect(&mut s);
    let one_value = pos(vec![Value::Int(1)]);
    let two_values = pos(vec![Value::Int(1), Value::Int(2)]);
    let cases: Vec<(&str, Params)> = vec![
        ("SELECT %s, %s", one_value.clone()),
        ("SELECT %s", two_values.clone()),
        ("SELECT 1", one_value.clone()),
        ("SELECT %d", one_value.clone()),
        ("SELECT %i", one_value.clone()),
        ("SELECT %5s", one_value.clone()),
        ("SELECT %s %", one_value.clone()),
        ("SELECT %(missing)s", named(&[("present", Value::Int(1))])),
        ("SELECT %(a)d", named(&[("a", Value::Int(1))])),
        ("SELECT %(a", named(&[("a", Value::Int(1))])),
        ("SELECT %(a)s", one_value.clone()),
        ("SELECT %s", named(&[("a", Value::Int(1))])),
    ];
    for (sql, p) in &cases {
        let e = query_err(&mut s, c, sql, Some(p));
        assert_kind(&e, ErrorKind::Programming, None);
        assert_eq!(e.code, None, "{sql}: a client-side error, nothing was sent: {e:?}");
    }
    // Nothing reached the server, so the connection is as it was.
    assert!(s.is_open(c).unwrap());
    assert_eq!(one(&mut s, c, "SELECT %s", Some(&one_value)), Value::Int(1));
}

#[test]
fn values_that_have_no_literal_are_data_errors() {
    let mut s = session();
    let c = connect(&mut s);
    for v in [
        Value::Double(f64::NAN),
        Value::Double(f64::INFINITY),
        Value::Float(f32::NEG_INFINITY),
        Value::Decimal("1; DROP TABLE t".into()),
        Value::Decimal("".into()),
        Value::Set(vec!["a,b".into()]),
        Value::Time(Time { negative: false, hours: 1, minutes: 0, seconds: 0, microseconds: 1_000_000 }),
    ] {
        let e = query_err(&mut s, c, "SELECT %s", Some(&pos(vec![v.clone()])));
        assert_kind(&e, ErrorKind::Data, None);
    }
    assert_eq!(one(&mut s, c, "SELECT 2", None), Value::Int(2));
}

fn date(year: u16, month: u8, day: u8) -> Value {
    Value::Date(Date { year, month, day })
}

fn datetime(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, us: u32) -> Datetime {
    Datetime { year: y, month: mo, day: d, hour: h, minute: mi, second: s, microsecond: us }
}

fn time(negative: bool, hours: u32, minutes: u8, seconds: u8, microseconds: u32) -> Value {
    Value::Time(Time { negative, hours, minutes, seconds, microseconds })
}

/// A GEOMETRY value in MySQL's internal format: SRID, then WKB of POINT(x y).
fn point(srid: u32, x: f64, y: f64) -> Vec<u8> {
    let mut b = srid.to_le_bytes().to_vec();
    b.push(1);
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&x.to_le_bytes());
    b.extend_from_slice(&y.to_le_bytes());
    b
}

/// Column type, then (parameter, value expected back) pairs.
type RoundTrip = (&'static str, Vec<(Value, Value)>);

fn same(values: Vec<Value>) -> Vec<(Value, Value)> {
    values.into_iter().map(|v| (v.clone(), v)).collect()
}

fn round_trip_cases() -> Vec<RoundTrip> {
    let every_byte: Vec<u8> = (0u8..=255).collect();
    let nasty = "it's \"quoted\" \\ back\\slash \0 NUL \x1a ctrl-Z\n\r\t 😀 żółw €\\";
    let json = r#"{"a": [1, "x'y\\z", "\u00e9"], "b": null, "c": "😀"}"#;
    vec![
        ("BIGINT", same(vec![Value::Int(i64::MIN), Value::Int(i64::MAX), Value::Int(0), Value::Int(-1), Value::Null])),
        ("BIGINT UNSIGNED", same(vec![Value::Uint(u64::MAX), Value::Uint(0), Value::Uint(1 << 63), Value::Null])),
        ("TINYINT", same(vec![Value::Int(-128), Value::Int(127)])),
        (
            "DOUBLE",
            same(vec![
                Value::Double(0.1 + 0.2),
                Value::Double(1.0 / 3.0),
                Value::Double(1e300),
                Value::Double(-2.5e-300),
                Value::Double(f64::MAX),
                Value::Double(f64::MIN_POSITIVE),
                Value::Double(-123456.789),
                Value::Double(0.0),
            ]),
        ),
        ("FLOAT", same(vec![Value::Float(1.5), Value::Float(-0.25), Value::Float(0.1), Value::Float(123456.0)])),
        (
            "DECIMAL(40,20)",
            vec![
                (
                    Value::Decimal("-12345678901234567890.12345678901234567890".into()),
                    Value::Decimal("-12345678901234567890.12345678901234567890".into()),
                ),
                (Value::Decimal("0.00000000000000000001".into()), Value::Decimal("0.00000000000000000001".into())),
                (Value::Decimal("42".into()), Value::Decimal("42.00000000000000000000".into())),
                (Value::Decimal("-1.5e3".into()), Value::Decimal("-1500.00000000000000000000".into())),
            ],
        ),
        ("TEXT", same(vec![text(nasty), text(""), text("😀🙈"), Value::Null])),
        ("VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", same(vec![text("'\\\0\x1a\"")])),
        (
            "BLOB",
            same(vec![
                Value::Bytes(every_byte.clone()),
                Value::Bytes(every_byte.iter().rev().copied().collect()),
                Value::Bytes(vec![]),
                Value::Null,
            ]),
        ),
        ("VARBINARY(300)", same(vec![Value::Bytes(every_byte)])),
        ("DATE", same(vec![date(2024, 2, 29), date(0, 0, 0), date(2024, 0, 0), date(1000, 1, 1), date(9999, 12, 31)])),
        (
            "DATETIME(6)",
            same(vec![
                Value::Datetime(datetime(2024, 1, 2, 3, 4, 5, 123_456)),
                Value::Datetime(datetime(0, 0, 0, 0, 0, 0, 0)),
                Value::Datetime(datetime(9999, 12, 31, 23, 59, 59, 999_999)),
                Value::Datetime(datetime(2000, 1, 1, 0, 0, 0, 1)),
            ]),
        ),
        ("TIMESTAMP(6) NULL", same(vec![Value::Timestamp(datetime(2020, 6, 15, 12, 34, 56, 654_321)), Value::Null])),
        (
            "TIME(6)",
            same(vec![
                time(true, 838, 59, 59, 0),
                time(false, 838, 59, 59, 0),
                time(true, 0, 0, 1, 500_000),
                time(true, 123, 45, 6, 789_012),
                time(false, 0, 0, 0, 0),
                time(false, 12, 0, 0, 1),
            ]),
        ),
        ("YEAR", same(vec![Value::Year(2024), Value::Year(1901), Value::Year(2155), Value::Year(0)])),
        // MariaDB's JSON is LONGTEXT with a validity check: the text comes back verbatim.
        ("JSON", vec![(Value::Json(json.into()), text(json))]),
        ("BIT(64)", same(vec![Value::Bit(u64::MAX), Value::Bit(0), Value::Bit((1 << 63) | 5), Value::Bit(1)])),
        (
            "ENUM('x','y','it''s','😀')",
            same(vec![Value::Enum("y".into()), Value::Enum("it's".into()), Value::Enum("😀".into())]),
        ),
        (
            "SET('a','b','c','d')",
            vec![
                (Value::Set(vec!["a".into(), "c".into()]), Value::Set(vec!["a".into(), "c".into()])),
                (Value::Set(vec![]), Value::Set(vec![])),
                (Value::Set(vec!["d".into(), "b".into()]), Value::Set(vec!["b".into(), "d".into()])),
                (
                    Value::Set(vec!["a".into(), "b".into(), "c".into(), "d".into()]),
                    Value::Set(vec!["a".into(), "b".into(), "c".into(), "d".into()]),
                ),
            ],
        ),
        ("GEOMETRY NULL", same(vec![Value::Geometry(point(0, 1.0, -2.5)), Value::Null])),
    ]
}

fn check_round_trips(s: &mut Session, c: Conn, table: &str) {
    for (column_type, cases) in round_trip_cases() {
        fresh_table(s, c, table, &format!("id INT PRIMARY KEY, v {column_type}"));
        let cur = s.cursor(c).unwrap();
        for (i, (param, _)) in cases.iter().enumerate() {
            // Alternate the two placeholder styles.
            let (sql, p) = if i % 2 == 0 {
                (format!("INSERT INTO {table} (id, v) VALUES (%s, %s)"), pos(vec![Value::Int(i as i64), param.clone()]))
            } else {
                (
                    format!("INSERT INTO {table} (id, v) VALUES (%(id)s, %(v)s)"),
                    named(&[("v", param.clone()), ("id", Value::Int(i as i64))]),
                )
            };
            let n =
                s.execute(cur, &sql, Some(&p)).unwrap().unwrap_or_else(|e| panic!("{column_type} {param:?}: {e:?}"));
            assert_eq!(n, 1);
        }
        s.drop_cursor(cur).unwrap();
        let got = rows(s, c, &format!("SELECT v FROM {table} ORDER BY id"));
        let want: Vec<Vec<Value>> = cases.iter().map(|(_, back)| vec![back.clone()]).collect();
        assert_eq!(got, want, "{column_type}");
        // The parameter also matches the stored value when compared on the server.
        for (i, (param, back)) in cases.iter().enumerate() {
            let reordered = param != back && !matches!(param, Value::Decimal(_));
            if reordered
                || *param == Value::Null
                || matches!(param, Value::Json(_) | Value::Geometry(_) | Value::Float(_))
            {
                continue;
            }
            let p = pos(vec![param.clone(), Value::Int(i as i64)]);
            let hit = query(s, c, &format!("SELECT COUNT(*) FROM {table} WHERE v = %s AND id = %s"), Some(&p));
            assert_eq!(hit, vec![vec![Value::Int(1)]], "{column_type} {param:?}");
        }
    }
}

#[test]
fn every_value_kind_round_trips_through_typed_columns() {
    let mut s = session();
    let c = connect(&mut s);
    check_round_trips(&mut s, c, "params_kinds");
}

#[test]
fn every_value_kind_round_trips_under_no_backslash_escapes() {
    let mut s = session();
    let c = connect(&mut s);
    exec(&mut s, c, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
    check_round_trips(&mut s, c, "params_kinds_nbe");
}

#[test]
fn a_bytes_parameter_compares_as_binary() {
    let mut s = session();
    let c = connect(&mut s);
    let every_byte: Vec<u8> = (0u8..=255).collect();
    let p = pos(vec![Value::Bytes(every_byte.clone())]);
    assert_eq!(one(&mut s, c, "SELECT %s", Some(&p)), Value::Bytes(every_byte.clone()));
    assert_eq!(one(&mut s, c, "SELECT LENGTH(%s)", Some(&p)), Value::Int(256));
    let expected_hex: String = every_byte.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(one(&mut s, c, "SELECT HEX(%s)", Some(&p)), text(&expected_hex));
}

/// Strings that would break out of a badly escaped literal; `{t}` is replaced by a sentinel
/// table's name so that a break-out would really drop something.
fn hostile_corpus(sentinel: &str) -> Vec<String> {
    let mut corpus: Vec<String> = [
        "'",
        "''",
        "'''",
        "\"",
        "\"\"",
        "\\",
        "\\\\",
        "\\\\\\",
        "end\\",
        "\\'",
        "\\\\'",
        "'\\",
        "\\\"",
        "\\' OR 1=1 -- ",
        "' OR '1'='1",
        "' OR 1=1 -- ",
        "' OR 1=1 #",
        "'; DROP TABLE {t}; --",
        "\\'; DROP TABLE {t}; -- ",
        "''; DROP TABLE {t}; -- ",
        "1'); DROP TABLE {t}; --",
        "'); DROP TABLE {t}; SELECT ('",
        "\\'); DROP TABLE {t}; SELECT ('\\",
        "\"; DROP TABLE {t}; --",
        "'/**/;/**/DROP/**/TABLE/**/{t};/**/--/**/",
        "*/ DROP TABLE {t}; /*",
        "`; DROP TABLE {t}; --`",
        "\0",
        "a\0b",
        "'\0'; DROP TABLE {t}; -- ",
        "\\\0'",
        "\x1a",
        "\\\x1a'",
        "\x1a'; DROP TABLE {t}; -- ",
        "\n\r\t\x08\x0b\x0c",
        "%s",
        "%%",
        "%(x)s",
        "\u{2019} OR \u{2018}1\u{2019}=\u{2018}1",
        "\u{FF07} OR 1=1 -- ",
        "\u{02BC}; DROP TABLE {t}; --",
        "\u{FF3C}\u{FF07}; DROP TABLE {t}; --",
        "\u{00BF}'; DROP TABLE {t}; -- ",
        "\u{00BF}\\'; DROP TABLE {t}; -- ",
        "\u{7E0C}'; DROP TABLE {t}; -- ",
        "\u{815C}\\",
        "😀'😀\\😀",
        "\u{FEFF}'",
        "\u{0000}\u{FFFD}\u{10FFFF}'",
        "$$'; DROP TABLE {t}; $$",
    ]
    .iter()
    .map(|s| s.replace("{t}", sentinel))
    .collect();
    // Every ASCII character, controls included.
    corpus.push((0u8..128).map(char::from).collect());
    // Very long strings: many escapes, and long runs that end on a backslash.
    corpus.push("'".repeat(100_000));
    corpus.push("\\".repeat(100_001));
    corpus.push(format!("{}'; DROP TABLE {sentinel}; -- ", "x\\'\0\"😀".repeat(60_000)));
    corpus
}

/// Passes every corpus string through `SELECT %s` and through INSERT, and reads each back.
fn check_corpus(s: &mut Session, c: Conn, sentinel: &str, table: &str, multi: bool) {
    fresh_table(s, c, table, "id INT PRIMARY KEY, v LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    let corpus = hostile_corpus(sentinel);
    assert!(corpus.len() >= 30);
    let cur = s.cursor(c).unwrap();
    for (i, hostile) in corpus.iter().enumerate() {
        let p = pos(vec![text(hostile)]);
        let n = s.execute(cur, "SELECT %s", Some(&p)).unwrap().unwrap_or_else(|e| panic!("#{i}: {e:?}"));
        assert_eq!(n, 1, "#{i}");
        let got = s.fetchall(cur).unwrap().unwrap();
        assert!(got == vec![vec![text(hostile)]], "#{i}: SELECT %s did not return the string ({:?})", got.first());
        if multi {
            // A break-out would have produced a second result (or error) here.
            assert_eq!(s.nextset(cur).unwrap(), Ok(false), "#{i}: more than one result");
        }
        let p = pos(vec![Value::Int(i as i64), text(hostile)]);
        let sql = format!("INSERT INTO {table} (id, v) VALUES (%s, %s)");
        let n = s.execute(cur, &sql, Some(&p)).unwrap().unwrap_or_else(|e| panic!("#{i}: {e:?}"));
        assert_eq!(n, 1, "#{i}");
        if multi {
            assert_eq!(s.nextset(cur).unwrap(), Ok(false), "#{i}: more than one result");
        }
    }
    s.drop_cursor(cur).unwrap();
    let stored = rows(s, c, &format!("SELECT id, v FROM {table} ORDER BY id"));
    assert_eq!(stored.len(), corpus.len());
    for (i, (row, hostile)) in stored.iter().zip(&corpus).enumerate() {
        assert!(*row == vec![Value::Int(i as i64), text(hostile)], "#{i}: stored value differs");
    }
    // The stored values also compare equal to the parameter on the server, byte for byte.
    let cur = s.cursor(c).unwrap();
    for (i, hostile) in corpus.iter().enumerate() {
        let p = pos(vec![text(hostile), Value::Int(i as i64)]);
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE v = %s AND id = %s");
        s.execute(cur, &sql, Some(&p)).unwrap().unwrap();
        assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(1)]], "#{i}");
    }
    s.drop_cursor(cur).unwrap();
    assert_eq!(
        rows(s, c, &format!("SELECT id FROM {sentinel}")),
        vec![vec![Value::Int(1)]],
        "the sentinel table survived"
    );
}

fn make_sentinel(s: &mut Session, c: Conn, name: &str) {
    fresh_table(s, c, name, "id INT PRIMARY KEY");
    exec(s, c, &format!("INSERT INTO {name} VALUES (1)"));
    s.commit(c).unwrap().unwrap();
}

fn no_backslash_escapes_on(s: &mut Session, c: Conn) -> bool {
    match scalar(s, c, "SELECT @@SESSION.sql_mode") {
        Value::Text(m) => m.split(',').any(|f| f == "NO_BACKSLASH_ESCAPES"),
        other => panic!("sql_mode: {other:?}"),
    }
}

#[test]
fn injection_corpus_in_default_sql_mode() {
    let mut s = session();
    let c = connect(&mut s);
    assert!(!no_backslash_escapes_on(&mut s, c));
    make_sentinel(&mut s, c, "params_sentinel_default");
    check_corpus(&mut s, c, "params_sentinel_default", "params_corpus_default", false);
}

#[test]
fn injection_corpus_after_set_session_no_backslash_escapes() {
    let mut s = session();
    let c = connect(&mut s);
    make_sentinel(&mut s, c, "params_sentinel_nbe");
    exec(&mut s, c, "SET SESSION sql_mode='NO_BACKSLASH_ESCAPES'");
    assert!(no_backslash_escapes_on(&mut s, c));
    check_corpus(&mut s, c, "params_sentinel_nbe", "params_corpus_nbe", false);
    // And back: the driver follows the server's status flag both ways.
    exec(&mut s, c, "SET SESSION sql_mode=''");
    assert!(!no_backslash_escapes_on(&mut s, c));
    check_corpus(&mut s, c, "params_sentinel_nbe", "params_corpus_nbe", false);
}

#[test]
fn injection_corpus_with_sql_mode_option_at_connect() {
    let mut s = session();
    let c = connect_with(&mut s, |o| o.sql_mode = Some("NO_BACKSLASH_ESCAPES".into()));
    assert!(no_backslash_escapes_on(&mut s, c));
    make_sentinel(&mut s, c, "params_sentinel_opt");
    check_corpus(&mut s, c, "params_sentinel_opt", "params_corpus_opt", false);
    // Set by init_command instead: the driver still learns it from the server's status.
    let c2 = connect_with(&mut s, |o| o.init_command = Some("SET SESSION sql_mode='NO_BACKSLASH_ESCAPES'".into()));
    assert!(no_backslash_escapes_on(&mut s, c2));
    check_corpus(&mut s, c2, "params_sentinel_opt", "params_corpus_init", false);
}

#[test]
fn injection_corpus_with_multi_statements_in_both_modes() {
    let mut s = session();
    let c = connect_with(&mut s, |o| o.client_flag |= CLIENT_MULTI_STATEMENTS);
    // Multi-statements are really on: a batch gives two results.
    let cur = s.cursor(c).unwrap();
    s.execute(cur, "SELECT 1; SELECT 2", None).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(1)]]);
    assert_eq!(s.nextset(cur).unwrap(), Ok(true));
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(2)]]);
    assert_eq!(s.nextset(cur).unwrap(), Ok(false));
    s.drop_cursor(cur).unwrap();

    make_sentinel(&mut s, c, "params_sentinel_multi");
    check_corpus(&mut s, c, "params_sentinel_multi", "params_corpus_multi", true);
    exec(&mut s, c, "SET SESSION sql_mode='NO_BACKSLASH_ESCAPES'");
    check_corpus(&mut s, c, "params_sentinel_multi", "params_corpus_multi", true);

    let mut s2 = session();
    let c2 = connect_with(&mut s2, |o| {
        o.client_flag |= CLIENT_MULTI_STATEMENTS;
        o.sql_mode = Some("NO_BACKSLASH_ESCAPES,ANSI_QUOTES".into());
    });
    check_corpus(&mut s2, c2, "params_sentinel_multi", "params_corpus_multi2", true);
}

#[test]
fn escape_string_follows_the_sql_mode() {
    let mut s = session();
    let c = connect(&mut s);
    let raw = "it's a \\ \"test\"\0\x1a\n";
    assert_eq!(s.escape_string(c, raw).unwrap(), "it\\'s a \\\\ \\\"test\\\"\\0\\Z\\n");
    let check_literal = |s: &mut Session, c: Conn| {
        let escaped = s.escape_string(c, raw).unwrap();
        assert_eq!(one(s, c, &format!("SELECT '{escaped}'"), None), text(raw), "{escaped:?}");
    };
    check_literal(&mut s, c);

    exec(&mut s, c, "SET SESSION sql_mode='NO_BACKSLASH_ESCAPES'");
    assert_eq!(s.escape_string(c, raw).unwrap(), "it''s a \\ \"test\"\0\x1a\n");
    check_literal(&mut s, c);

    exec(&mut s, c, "SET SESSION sql_mode=DEFAULT");
    assert_eq!(s.escape_string(c, "'\\").unwrap(), "\\'\\\\");

    let c2 = connect_with(&mut s, |o| o.sql_mode = Some("NO_BACKSLASH_ESCAPES".into()));
    assert_eq!(s.escape_string(c2, "'\\").unwrap(), "''\\");
    check_literal(&mut s, c2);
}

#[test]
fn latin1_connection_round_trips_text() {
    let mut s = session();
    let c = connect(&mut s);
    s.set_charset(c, "latin1").unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT @@character_set_client"), text("latin1"));
    let word = "café € 'x' \\ ÿ";
    let p = pos(vec![text(word)]);
    assert_eq!(one(&mut s, c, "SELECT %s", Some(&p)), text(word));
    // The server received the characters, not their UTF-8 bytes read as latin1.
    assert_eq!(one(&mut s, c, "SELECT CHAR_LENGTH(%s)", Some(&p)), Value::Int(word.chars().count() as i64));
    assert_eq!(
        one(&mut s, c, "SELECT HEX(CONVERT(%s USING utf8mb4))", Some(&pos(vec![text("é€")]))),
        text("C3A9E282AC")
    );
    let t = fresh_table(&mut s, c, "params_latin1", "id INT PRIMARY KEY, v TEXT CHARACTER SET utf8mb4");
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("INSERT INTO {t} VALUES (1, %s)"), Some(&p)).unwrap().unwrap();
    s.drop_cursor(cur).unwrap();
    assert_eq!(scalar(&mut s, c, &format!("SELECT v FROM {t}")), text(word));
    // Read back over a utf8mb4 connection too: stored as the right characters.
    let mut s2 = session();
    let c2 = connect(&mut s2);
    s.commit(c).unwrap().unwrap();
    assert_eq!(scalar(&mut s2, c2, &format!("SELECT v FROM {t}")), text(word));
    // A character latin1 cannot hold is refused, not replaced by '?'.
    let e = query_err(&mut s, c, "SELECT %s", Some(&pos(vec![text("ż")])));
    assert_kind(&e, ErrorKind::Data, None);
    assert_eq!(one(&mut s, c, "SELECT 1", None), Value::Int(1));
}

#[test]
fn big5_is_not_supported() {
    let mut s = session();
    let c = connect(&mut s);
    let e = s.set_charset(c, "big5").unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, None);
    // The connection keeps its character set and works.
    assert_eq!(scalar(&mut s, c, "SELECT @@character_set_client"), text("utf8mb4"));
    let p = pos(vec![text("\u{00BF}'")]);
    assert_eq!(one(&mut s, c, "SELECT %s", Some(&p)), text("\u{00BF}'"));

    let mut o = options(&mut s);
    o.charset = Some("big5".into());
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, None);
    o.charset = Some("no_such_charset".into());
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
}

#[test]
fn utf8mb3_refuses_four_byte_characters() {
    let mut s = session();
    let c = connect_with(&mut s, |o| o.charset = Some("utf8mb3".into()));
    match scalar(&mut s, c, "SELECT @@character_set_client") {
        Value::Text(cs) => assert!(cs == "utf8mb3" || cs == "utf8", "{cs}"),
        other => panic!("{other:?}"),
    }
    let bmp = "żółw € 'ok'";
    assert_eq!(one(&mut s, c, "SELECT %s", Some(&pos(vec![text(bmp)]))), text(bmp));
    let t = fresh_table(&mut s, c, "params_mb3", "id INT PRIMARY KEY, v TEXT CHARACTER SET utf8mb4");
    let cur = s.cursor(c).unwrap();
    let e = s
        .execute(cur, &format!("INSERT INTO {t} VALUES (1, %s)"), Some(&pos(vec![text("a😀b")])))
        .unwrap()
        .unwrap_err();
    assert_kind(&e, ErrorKind::Data, None);
    let e = s.execute(cur, "SELECT %s", Some(&pos(vec![text("😀")]))).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Data, None);
    // Nothing was stored, and the connection carries on.
    assert_eq!(rows(&mut s, c, &format!("SELECT * FROM {t}")), Vec::<Vec<Value>>::new());
    assert_eq!(one(&mut s, c, "SELECT %s", Some(&pos(vec![text(bmp)]))), text(bmp));
}

#[test]
fn raw_set_names_is_followed_through_session_tracking() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    let hostile = Params::Positional(vec![Value::Text("€' OR 1=1 -- ".into())]);
    // A charset the driver can escape for: it switches encodings with the server.
    s.execute(cur, "SET NAMES latin1", None).unwrap().unwrap();
    s.execute(cur, "SELECT %s", Some(&Params::Positional(vec![Value::Text("café €".into())]))).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Text("café €".into())]]);
    // One it cannot escape for: parameters are refused instead of being sent mis-escaped.
    s.execute(cur, "SET NAMES big5", None).unwrap().unwrap();
    let e = s.execute(cur, "SELECT %s", Some(&hostile)).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotSupported, "{e:?}");
    assert!(e.message.contains("big5"), "{e:?}");
    // Statements without parameters still run, and set-charset brings parameters back.
    s.execute(cur, "SELECT 1", None).unwrap().unwrap();
    s.set_charset(c, "utf8mb4").unwrap().unwrap();
    s.execute(cur, "SELECT %s", Some(&hostile)).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Text("€' OR 1=1 -- ".into())]]);
}
