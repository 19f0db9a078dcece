//! Server-side prepared statements (COM_STMT_PREPARE / EXECUTE / SEND_LONG_DATA / RESET / CLOSE)
//! against the real MariaDB: the binary protocol gives the same values as the text protocol, its
//! parameters carry every type, and every failure is typed and leaves the connection usable.

use crate::common;

use common::*;
use host_test::driver::bindings::exports::cymysql::aio::types::{Date, Datetime, Time};
use host_test::driver::{Call, Conn, ConnectOptions, ErrorKind, Params, ScrollMode, Session, Stmt, Value};

fn prepare(s: &mut Session, c: Conn, sql: &str) -> Stmt {
    s.prepare(c, sql).expect("no trap").unwrap_or_else(|e| panic!("{sql}: {e:?}"))
}

/// Every row of executing `st` with `params`.
fn run(s: &mut Session, st: Stmt, params: &[Value]) -> Vec<Vec<Value>> {
    let cur = s.stmt_execute(st, params).expect("no trap").unwrap_or_else(|e| panic!("{params:?}: {e:?}"));
    let rows = s.fetchall(cur).unwrap().unwrap();
    s.drop_cursor(cur).unwrap();
    rows
}

fn dt(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8, microsecond: u32) -> Datetime {
    Datetime { year, month, day, hour, minute, second, microsecond }
}

/// A session that accepts zero dates, in UTC.
fn lax(s: &mut Session) -> Conn {
    let c = connect(s);
    exec(s, c, "SET SESSION sql_mode = ''");
    exec(s, c, "SET SESSION time_zone = '+00:00'");
    c
}

const EDGE_COLUMNS: &str = "k INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, \
     mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, \
     de DECIMAL(65,30), dz DECIMAL(5,0), da DATE, dt DATETIME(6), d0 DATETIME, ts TIMESTAMP(6) NULL, tm TIME(6), \
     t0 TIME, y YEAR, b1 BIT(1), b BIT(64), j JSON, g GEOMETRY, e ENUM('a','b'), st SET('x','y','z'), \
     v VARCHAR(20) CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1, vb VARBINARY(20), \
     tx TEXT CHARACTER SET utf8mb4, bl BLOB";

/// Three rows of edge values and one of NULLs (k = 1 to 4) in a table of [`EDGE_COLUMNS`].
fn fill_edge_table(s: &mut Session, c: Conn, t: &str) {
    exec(
        s,
        c,
        &format!(
            "INSERT INTO {t} VALUES \
             (1, -128, 255, -32768, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, \
              18446744073709551615, -3.4e38, -1.7976931348623157e308, \
              '-12345678901234567890123456789012345.123456789012345678901234567890', -99999, \
              '0000-00-00', '2024-02-29 23:59:59.123456', '0000-00-00 00:00:00', '2038-01-19 03:14:07.999999', \
              '-838:59:59.999999', '00:00:00', 2155, b'1', b'1111111111111111111111111111111111111111111111111111111111111111', \
              '{{\"a\": [1, 2.5, null]}}', ST_GeomFromText('POINT(1 2)'), 'b', 'x,z', 'żółw 😀', 'déjà', X'00FF7F', \
              REPEAT('é', 300), X'0001FEFF'), \
             (2, 127, 0, 32767, 8388607, 0, 2147483647, 0, 9223372036854775807, 0, 1.5, 5e-324, \
              '0.000000000000000000000000000001', 0, '9999-12-31', '1000-01-01 00:00:00.000001', \
              '2024-02-00 12:00:00', '1970-01-01 00:00:01.000000', '-00:00:00.5', '838:59:59', 0, b'0', b'0', \
              '[]', ST_GeomFromText('LINESTRING(0 0, 1 1)'), 'a', '', '', '', '', '', ''), \
             (3, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, -0.0, '1', 1, '2024-01-02', '2024-01-02 00:00:00', \
              '2024-01-02 03:04:05', NULL, '12:00:00', '-01:02:03', 1901, b'1', b'101', 'true', NULL, NULL, 'x,y,z', \
              'a', 'a', X'', 'a', X'00'), \
             (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
              NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
        ),
    );
}

/// Three rows of edge values and one of NULLs, read once through COM_QUERY and once through
/// COM_STMT_EXECUTE: every value is the same.
#[test]
fn text_and_binary_protocols_give_identical_values() {
    let mut s = session();
    let c = lax(&mut s);
    let t = fresh_table(&mut s, c, "ps_edge", EDGE_COLUMNS);
    fill_edge_table(&mut s, c, &t);
    let text = rows(&mut s, c, &format!("SELECT * FROM {t} ORDER BY k"));
    assert_eq!(text.len(), 4);
    let st = prepare(&mut s, c, &format!("SELECT * FROM {t} WHERE k >= ? ORDER BY k"));
    assert_eq!(s.stmt_param_count(st).unwrap(), 1);
    assert_eq!(s.stmt_description(st).unwrap().len(), 32);
    let binary = run(&mut s, st, &[Value::Int(1)]);
    for (t, b) in text.iter().zip(&binary) {
        for (i, (tv, bv)) in t.iter().zip(b).enumerate() {
            assert_eq!(tv, bv, "row {:?} column {i}", t.first());
        }
    }
    assert_eq!(text, binary);
    // A few cells spelled out, so that equal is also right.
    assert_eq!(binary[0][9], Value::Uint(u64::MAX));
    assert_eq!(binary[0][14], Value::Date(Date { year: 0, month: 0, day: 0 }));
    assert_eq!(binary[0][15], Value::Datetime(dt(2024, 2, 29, 23, 59, 59, 123456)));
    assert_eq!(
        binary[0][18],
        Value::Time(Time { negative: true, hours: 838, minutes: 59, seconds: 59, microseconds: 999999 })
    );
    assert_eq!(binary[0][22], Value::Bit(u64::MAX));
    assert_eq!(binary[0][26], Value::Set(vec!["x".into(), "z".into()]));
    assert!(binary[3].iter().skip(1).all(|v| *v == Value::Null), "{:?}", binary[3]);
    // The same statement again, unbuffered, reads the same rows.
    let cur = s.stmt_ss_execute(st, &[Value::Int(3)]).unwrap().unwrap();
    assert_eq!(s.fetchone(cur).unwrap().unwrap().as_ref(), Some(&text[2]));
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![text[3].clone()]);
    s.drop_cursor(cur).unwrap();
}

/// splitmix64: a seedable generator small enough to live here, for the property test's values.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (the modulo bias is far below what a test could notice).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// Uniform in `lo..=hi`, for spans up to 2^64.
    fn uniform(&mut self, lo: i128, hi: i128) -> i128 {
        let wide = u128::from(self.next_u64()) << 64 | u128::from(self.next_u64());
        lo + (wide % (hi - lo + 1) as u128) as i128
    }

    /// In `lo..=hi`, a boundary (an end, an end ± 1, 0, ±1) a third of the time, a small number
    /// a sixth of the time, otherwise uniform.
    fn edgy(&mut self, lo: i128, hi: i128) -> i128 {
        match self.below(6) {
            0 | 1 => self.pick(&[lo, lo + 1, hi - 1, hi, 0, 1, -1]).clamp(lo, hi),
            2 => self.uniform(-100, 100).clamp(lo, hi),
            _ => self.uniform(lo, hi),
        }
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
}

/// How the property test draws a column's values.
#[derive(Clone, Copy)]
enum Gen {
    Int {
        bits: u32,
        unsigned: bool,
    },
    Float,
    Double,
    /// FLOAT(M,D) or DOUBLE(M,D): values of at most D decimals.
    FixedFloat {
        precision: u32,
        scale: u32,
        double: bool,
    },
    Decimal {
        precision: usize,
        scale: usize,
    },
    Date,
    Datetime {
        fsp: u32,
    },
    Timestamp {
        fsp: u32,
    },
    Time {
        fsp: u32,
    },
    Year,
    Bit(u32),
    Json,
    Geometry,
    Enum(&'static [&'static str]),
    Set(&'static [&'static str]),
    Text {
        chars: usize,
        latin1: bool,
        padded: bool,
    },
    Bytes {
        max: usize,
        padded: bool,
    },
}

/// The columns of [`EDGE_COLUMNS`] after `k`, and more: ZEROFILL integers, FLOAT(M,D) and
/// DOUBLE(M,D), DECIMAL of other precisions and scales, DATETIME, TIMESTAMP and TIME of other
/// fractional precisions, a BIT of neither 1 nor 64 bits, CHAR and BINARY (padded), an ENUM of
/// non-ASCII members, and a MEDIUMBLOB for the longer length prefixes.
const RANDOM_COLUMNS: &[(&str, &str, Gen)] = &[
    ("ti", "TINYINT", Gen::Int { bits: 8, unsigned: false }),
    ("tu", "TINYINT UNSIGNED", Gen::Int { bits: 8, unsigned: true }),
    ("si", "SMALLINT", Gen::Int { bits: 16, unsigned: false }),
    ("su", "SMALLINT UNSIGNED", Gen::Int { bits: 16, unsigned: true }),
    ("mi", "MEDIUMINT", Gen::Int { bits: 24, unsigned: false }),
    ("mu", "MEDIUMINT UNSIGNED", Gen::Int { bits: 24, unsigned: true }),
    ("i", "INT", Gen::Int { bits: 32, unsigned: false }),
    ("iu", "INT UNSIGNED", Gen::Int { bits: 32, unsigned: true }),
    ("bi", "BIGINT", Gen::Int { bits: 64, unsigned: false }),
    ("bu", "BIGINT UNSIGNED", Gen::Int { bits: 64, unsigned: true }),
    ("iz", "INT(8) UNSIGNED ZEROFILL", Gen::Int { bits: 32, unsigned: true }),
    ("bz", "BIGINT UNSIGNED ZEROFILL", Gen::Int { bits: 64, unsigned: true }),
    ("f", "FLOAT", Gen::Float),
    ("d", "DOUBLE", Gen::Double),
    ("fm", "FLOAT(7,3)", Gen::FixedFloat { precision: 7, scale: 3, double: false }),
    ("dd", "DOUBLE(12,3)", Gen::FixedFloat { precision: 12, scale: 3, double: true }),
    ("de", "DECIMAL(65,30)", Gen::Decimal { precision: 65, scale: 30 }),
    ("dz", "DECIMAL(5,0)", Gen::Decimal { precision: 5, scale: 0 }),
    ("dm", "DECIMAL(12,4)", Gen::Decimal { precision: 12, scale: 4 }),
    ("df", "DECIMAL(6,6)", Gen::Decimal { precision: 6, scale: 6 }),
    ("dw", "DECIMAL(65,0)", Gen::Decimal { precision: 65, scale: 0 }),
    ("da", "DATE", Gen::Date),
    ("dt", "DATETIME(6)", Gen::Datetime { fsp: 6 }),
    ("d0", "DATETIME", Gen::Datetime { fsp: 0 }),
    ("d3", "DATETIME(3)", Gen::Datetime { fsp: 3 }),
    ("ts", "TIMESTAMP(6) NULL", Gen::Timestamp { fsp: 6 }),
    ("t4", "TIMESTAMP(4) NULL", Gen::Timestamp { fsp: 4 }),
    ("tm", "TIME(6)", Gen::Time { fsp: 6 }),
    ("t0", "TIME", Gen::Time { fsp: 0 }),
    ("t1", "TIME(1)", Gen::Time { fsp: 1 }),
    ("y", "YEAR", Gen::Year),
    ("b1", "BIT(1)", Gen::Bit(1)),
    ("b13", "BIT(13)", Gen::Bit(13)),
    ("b", "BIT(64)", Gen::Bit(64)),
    ("j", "JSON", Gen::Json),
    ("g", "GEOMETRY", Gen::Geometry),
    ("e", "ENUM('a','b')", Gen::Enum(&["a", "b"])),
    (
        "eu",
        "ENUM('żółw 😀','it''s','back\\\\slash') CHARACTER SET utf8mb4",
        Gen::Enum(&["żółw 😀", "it's", "back\\slash"]),
    ),
    ("st", "SET('x','y','z')", Gen::Set(&["x", "y", "z"])),
    ("v", "VARCHAR(20) CHARACTER SET utf8mb4", Gen::Text { chars: 20, latin1: false, padded: false }),
    ("c", "CHAR(10) CHARACTER SET utf8mb4", Gen::Text { chars: 10, latin1: false, padded: true }),
    ("l1", "VARCHAR(20) CHARACTER SET latin1", Gen::Text { chars: 20, latin1: true, padded: false }),
    ("vb", "VARBINARY(20)", Gen::Bytes { max: 20, padded: false }),
    ("bn", "BINARY(4)", Gen::Bytes { max: 4, padded: true }),
    ("tx", "TEXT CHARACTER SET utf8mb4", Gen::Text { chars: 300, latin1: false, padded: false }),
    ("bl", "BLOB", Gen::Bytes { max: 300, padded: false }),
    ("mb", "MEDIUMBLOB", Gen::Bytes { max: 70_000, padded: false }),
];

/// One generated cell: the value written, and the value every read must give, or `None` where the
/// server legitimately changes what it was given (then only the read paths are compared).
struct Cell {
    written: Value,
    expected: Option<Value>,
}

fn exact(v: Value) -> Cell {
    Cell { written: v.clone(), expected: Some(v) }
}

/// The seed of the property test: `CYMYSQL_PROPTEST_SEED` if set, else the clock.
fn proptest_seed() -> u64 {
    match std::env::var("CYMYSQL_PROPTEST_SEED") {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("CYMYSQL_PROPTEST_SEED={s:?} is not a u64")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default(),
    }
}

/// A character for a utf8mb4 or a latin1 (MariaDB's latin1 is cp1252) column: quotes, backslash,
/// NUL and the other characters escaping must get right, then 1- to 4-byte UTF-8.
fn random_char(rng: &mut Rng, latin1: bool) -> char {
    const NASTY: &[char] = &['\'', '"', '\\', '\0', '%', '_', '\n', '\r', '\t', '\x1a', ' ', '`', '?', ','];
    const CP1252: &[char] = &[
        '€', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 'Ž', '‘', '’', '“', '”', '•', '–', '—', '˜', '™',
        'š', '›', 'œ', 'ž', 'Ÿ', '\u{81}', '\u{8d}', '\u{8f}', '\u{90}', '\u{9d}',
    ];
    let code = |rng: &mut Rng, lo: u32, hi: u32| rng.uniform(lo.into(), hi.into()) as u32;
    let c = match (latin1, rng.below(10)) {
        (_, 0..=2) => return rng.pick(NASTY),
        (_, 3..=4) => code(rng, 0x20, 0x7e),
        (true, 5..=7) => code(rng, 0xa0, 0xff),
        (true, _) => return rng.pick(CP1252),
        (false, 5) => code(rng, 0x80, 0x7ff),
        (false, 6..=7) => code(rng, 0x800, 0xffff),
        (false, _) => code(rng, 0x1_0000, 0x10_ffff),
    };
    // The surrogates are the only code points in these ranges that are not characters.
    char::from_u32(c).unwrap_or('\u{fffd}')
}

fn random_text(rng: &mut Rng, max_chars: usize, latin1: bool) -> String {
    let len = rng.edgy(0, max_chars as i128) as usize;
    let mut s: String = (0..len).map(|_| random_char(rng, latin1)).collect();
    if rng.one_in(8) && len > 0 {
        // Trailing spaces, which VARCHAR and TEXT keep and CHAR drops.
        s.pop();
        s.push(' ');
    }
    s
}

fn random_json_string(rng: &mut Rng) -> String {
    let mut s = String::from("\"");
    for _ in 0..rng.below(12) {
        if rng.one_in(5) {
            s.push_str(rng.pick(&[
                "\\\"",
                "\\\\",
                "\\/",
                "\\b",
                "\\f",
                "\\n",
                "\\r",
                "\\t",
                "\\u0000",
                "\\u00e9",
                "\\ud83d\\ude00",
            ]));
            continue;
        }
        match random_char(rng, false) {
            c @ ('"' | '\\' | '\0'..='\x1f') => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// A JSON document, with the irregular spacing MariaDB must keep as written.
fn random_json(rng: &mut Rng, depth: u32) -> String {
    let space = |rng: &mut Rng| rng.pick(&["", "", " ", "\n  "]);
    match rng.below(if depth >= 3 { 3 } else { 5 }) {
        0 => rng
            .pick(&["null", "true", "false", "0", "-0", "1.5e-3", "18446744073709551615", "-9223372036854775808"])
            .into(),
        1 => random_json_string(rng),
        2 => rng.uniform(-1_000_000, 1_000_000).to_string(),
        3 => {
            let items: Vec<String> = (0..rng.below(4)).map(|_| random_json(rng, depth + 1)).collect();
            format!("[{}{}]", items.join(&format!(",{}", space(rng))), space(rng))
        }
        _ => {
            let members: Vec<String> = (0..rng.below(4))
                .map(|_| format!("{}:{}{}", random_json_string(rng), space(rng), random_json(rng, depth + 1)))
                .collect();
            format!("{{{}{}}}", space(rng), members.join(", "))
        }
    }
}

/// A coordinate: a boundary, a small number, or any finite double.
fn random_coordinate(rng: &mut Rng) -> f64 {
    match rng.below(3) {
        0 => rng.pick(&[0.0, -0.0, 1.0, -1.0, 180.0, -90.0, f64::MAX, f64::MIN, f64::MIN_POSITIVE, 5e-324]),
        1 => rng.uniform(-1000, 1000) as f64 / 8.0,
        _ => loop {
            let f = f64::from_bits(rng.next_u64());
            if f.is_finite() {
                break f;
            }
        },
    }
}

/// A POINT or LINESTRING in MySQL's internal format: SRID, then WKB (little-endian).
fn random_geometry(rng: &mut Rng) -> Vec<u8> {
    let mut b = rng.pick(&[0u32, 4326, 3857]).to_le_bytes().to_vec();
    b.push(1);
    let points = if rng.one_in(2) {
        b.extend_from_slice(&1u32.to_le_bytes());
        1
    } else {
        let n = rng.uniform(2, 5) as u32;
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&n.to_le_bytes());
        n
    };
    for _ in 0..points * 2 {
        b.extend_from_slice(&random_coordinate(rng).to_le_bytes());
    }
    b
}

fn is_leap(year: u16) -> bool {
    // MariaDB does not count year 0 as a leap year.
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) && year != 0
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A valid date (year 0 to 9999), the zero date, or a date with a zero month or day (which the
/// empty sql_mode allows).
fn random_date(rng: &mut Rng) -> Date {
    let year = if rng.one_in(3) {
        rng.pick(&[0, 1, 999, 1000, 1969, 1970, 2000, 2038, 9999])
    } else {
        rng.uniform(0, 9999) as u16
    };
    let month = rng.edgy(1, 12) as u8;
    let day = rng.edgy(1, i128::from(days_in_month(year, month))) as u8;
    match rng.below(20) {
        0 => Date { year: 0, month: 0, day: 0 },
        1 => Date { year, month: 0, day },
        2 => Date { year, month, day: 0 },
        _ => Date { year, month, day },
    }
}

/// Microseconds a column of `fsp` fractional digits keeps as they are (more would be truncated).
fn random_microseconds(rng: &mut Rng, fsp: u32) -> u32 {
    let us = rng.edgy(0, 999_999) as u32;
    us - us % 10u32.pow(6 - fsp)
}

/// Civil date of a day count from 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    Date { year, month, day }
}

fn from_unix(seconds: i64, microsecond: u32) -> Datetime {
    let Date { year, month, day } = civil_from_days(seconds.div_euclid(86_400));
    let s = seconds.rem_euclid(86_400);
    dt(year, month, day, (s / 3600) as u8, (s / 60 % 60) as u8, (s % 60) as u8, microsecond)
}

/// `[-]digits[.digits]` written, and the form DECIMAL(precision, scale) stores: the fraction padded
/// to the scale and no sign on zero.
fn random_decimal(rng: &mut Rng, precision: usize, scale: usize) -> Cell {
    let digits = |rng: &mut Rng, max: usize| -> String {
        let len = rng.edgy(0, max as i128) as usize;
        match rng.below(4) {
            0 => "9".repeat(len),
            1 => "0".repeat(len),
            _ => (0..len).map(|_| char::from(b'0' + rng.below(10) as u8)).collect(),
        }
    };
    let whole = digits(rng, precision - scale);
    let fraction = digits(rng, scale);
    let negative = rng.one_in(2);
    let whole = match whole.trim_start_matches('0') {
        "" => "0".to_string(),
        w => w.to_string(),
    };
    let zero = whole == "0" && fraction.bytes().all(|b| b == b'0');
    let mut written = format!("{}{whole}", if negative { "-" } else { "" });
    if !fraction.is_empty() {
        written = format!("{written}.{fraction}");
    }
    let mut stored = format!("{}{whole}", if negative && !zero { "-" } else { "" });
    if scale > 0 {
        stored = format!("{stored}.{fraction:0<scale$}");
    }
    Cell { written: Value::Decimal(written), expected: Some(Value::Decimal(stored)) }
}

/// A boundary, an integer or a fraction of one, or any finite double.
fn random_double(rng: &mut Rng) -> f64 {
    match rng.below(3) {
        0 => rng.pick(&[
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            1e23,
        ]),
        1 => rng.uniform(-1 << 60, 1 << 60) as f64 / rng.pick(&[1.0, 3.0, 1024.0, 1e10]),
        _ => loop {
            let f = f64::from_bits(rng.next_u64());
            if f.is_finite() {
                break f;
            }
        },
    }
}

fn random_cell(rng: &mut Rng, generator: Gen) -> Cell {
    match generator {
        Gen::Int { bits, unsigned } => {
            let (lo, hi) =
                if unsigned { (0, (1i128 << bits) - 1) } else { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) };
            let n = rng.edgy(lo, hi);
            exact(if unsigned { Value::Uint(n as u64) } else { Value::Int(n as i64) })
        }
        Gen::Float => {
            // The text protocol sends FLOAT with 6 significant digits, so a float of more would read
            // differently through the two paths by design: every float here has at most 6.
            let text = if rng.one_in(3) {
                rng.pick(&[
                    "0",
                    "-0",
                    "1",
                    "-1",
                    "3.40282e38",
                    "-3.40282e38",
                    "1.17549e-38",
                    "1.4013e-45",
                    "-1.4013e-45",
                    "0.1",
                ])
                .to_string()
            } else {
                loop {
                    let sign = if rng.one_in(2) { "-" } else { "" };
                    let t = format!("{sign}{}e{}", rng.uniform(1, 999_999), rng.uniform(-50, 33));
                    if t.parse::<f32>().is_ok_and(f32::is_finite) {
                        break t;
                    }
                }
            };
            let f: f32 = text.parse().unwrap();
            // MariaDB has no negative zero: -0 is stored as 0.
            Cell { written: Value::Float(f), expected: Some(Value::Float(if f == 0.0 { 0.0 } else { f })) }
        }
        Gen::FixedFloat { precision, scale, double } => {
            // A number of at most `scale` decimals is stored as is, and printed with `scale` decimals
            // by the text protocol, which parses back to the same float.
            let limit = 10i128.pow(precision) - 1;
            let mut m = rng.edgy(-limit, limit);
            // MariaDB stores a DOUBLE(M,D) as floor(x) + its fraction rounded to D decimals, which
            // for -1 < x < 0 is not the double nearest x, and the text protocol then prints the
            // stored value rounded: the paths differ by the server's design. Only fractions it
            // adds exactly (eighths) stay negative there.
            let one = 10i128.pow(scale);
            if double && -one < m && m < 0 && (m * 8) % one != 0 {
                m = -m;
            }
            let text = format!(
                "{}{}.{:0>width$}",
                if m < 0 { "-" } else { "" },
                m.abs() / 10i128.pow(scale),
                m.abs() % 10i128.pow(scale),
                width = scale as usize
            );
            if double {
                let f: f64 = text.parse().unwrap();
                Cell { written: Value::Double(f), expected: Some(Value::Double(if f == 0.0 { 0.0 } else { f })) }
            } else {
                let f: f32 = text.parse().unwrap();
                Cell { written: Value::Float(f), expected: Some(Value::Float(if f == 0.0 { 0.0 } else { f })) }
            }
        }
        Gen::Double => {
            let f = random_double(rng);
            Cell { written: Value::Double(f), expected: Some(Value::Double(if f == 0.0 { 0.0 } else { f })) }
        }
        Gen::Decimal { precision, scale } => random_decimal(rng, precision, scale),
        Gen::Date => exact(Value::Date(random_date(rng))),
        Gen::Datetime { fsp } => {
            let Date { year, month, day } = random_date(rng);
            let (hour, minute, second) = (rng.edgy(0, 23) as u8, rng.edgy(0, 59) as u8, rng.edgy(0, 59) as u8);
            exact(Value::Datetime(dt(year, month, day, hour, minute, second, random_microseconds(rng, fsp))))
        }
        Gen::Timestamp { fsp } => match rng.below(15) {
            // The zero timestamp, which the empty sql_mode allows.
            0 => exact(Value::Timestamp(dt(0, 0, 0, 0, 0, 0, 0))),
            // Outside TIMESTAMP's range: the server stores the zero timestamp with a warning, a
            // legitimate change, so only the read paths are compared.
            1 => {
                let seconds =
                    if rng.one_in(2) { rng.uniform(-2_208_988_800, -1) } else { rng.uniform(1 << 31, 4_102_444_800) };
                Cell {
                    written: Value::Timestamp(from_unix(seconds as i64, random_microseconds(rng, fsp))),
                    expected: None,
                }
            }
            _ => {
                let seconds = rng.edgy(1, (1 << 31) - 1) as i64;
                exact(Value::Timestamp(from_unix(seconds, random_microseconds(rng, fsp))))
            }
        },
        Gen::Time { fsp } => {
            let (hours, minutes, seconds) = (rng.edgy(0, 838) as u32, rng.edgy(0, 59) as u8, rng.edgy(0, 59) as u8);
            let microseconds = random_microseconds(rng, fsp);
            let negative = rng.one_in(2);
            // The server has no negative zero: -00:00:00 is stored as 00:00:00.
            let zero = hours == 0 && minutes == 0 && seconds == 0 && microseconds == 0;
            let stored = Time { negative: negative && !zero, hours, minutes, seconds, microseconds };
            Cell {
                written: Value::Time(Time { negative, hours, minutes, seconds, microseconds }),
                expected: Some(Value::Time(stored)),
            }
        }
        Gen::Year => {
            exact(Value::Year(if rng.one_in(3) { rng.pick(&[0, 1901, 2155]) } else { rng.uniform(1901, 2155) as u16 }))
        }
        Gen::Bit(bits) => exact(Value::Bit(rng.edgy(0, (1i128 << bits) - 1) as u64)),
        Gen::Json => {
            // MariaDB's JSON is LONGTEXT with a JSON_VALID check, kept as written and read as text.
            let doc = random_json(rng, 0);
            Cell { written: Value::Json(doc.clone()), expected: Some(text(&doc)) }
        }
        Gen::Geometry => exact(Value::Geometry(random_geometry(rng))),
        Gen::Enum(members) => exact(Value::Enum(rng.pick(members).into())),
        Gen::Set(members) => {
            // Members in any order, repeats included; the server keeps each once, in its order.
            let chosen: Vec<&str> = (0..rng.below(5)).map(|_| rng.pick(members)).collect();
            let stored = members.iter().filter(|m| chosen.contains(m)).map(|m| m.to_string()).collect();
            Cell {
                written: Value::Set(chosen.iter().map(|m| m.to_string()).collect()),
                expected: Some(Value::Set(stored)),
            }
        }
        Gen::Text { chars, latin1, padded } => {
            let s = random_text(rng, chars, latin1);
            // CHAR drops trailing spaces when read.
            let stored = if padded { s.trim_end_matches(' ') } else { &s };
            Cell { written: text(&s), expected: Some(text(stored)) }
        }
        Gen::Bytes { max, padded } => {
            let len = if max > u16::MAX.into() {
                // The lengths where a length-encoded string's prefix grows (251 and 65536 bytes
                // take 3 and 4 bytes), rarely the large ones.
                match rng.below(20) {
                    0 => rng.pick(&[65_535, 65_536, 65_537, max]),
                    1..=4 => rng.pick(&[250, 251, 252]),
                    _ => rng.uniform(0, 300) as usize,
                }
            } else {
                rng.edgy(0, max as i128) as usize
            };
            let mut b: Vec<u8> = match rng.below(4) {
                0 => vec![rng.pick(&[0u8, 0xff, b'\'', b'\\']); len],
                _ => (0..len).map(|_| rng.next_u64() as u8).collect(),
            };
            let written = Value::Bytes(b.clone());
            // BINARY(n) pads with zero bytes and keeps them.
            if padded {
                b.resize(max, 0);
            }
            Cell { written, expected: Some(Value::Bytes(b)) }
        }
    }
}

/// `n` rows of [`RANDOM_COLUMNS`] with `k` = 1 to `n`; a row's chance of NULL in each column is
/// its own, from never to always.
fn random_rows(rng: &mut Rng, n: i64) -> Vec<Vec<Cell>> {
    (1..=n)
        .map(|k| {
            let null_one_in = if rng.one_in(40) { 1 } else { rng.pick(&[0, 10, 10, 3]) };
            let mut row = vec![exact(Value::Int(k))];
            for &(_, _, generator) in RANDOM_COLUMNS {
                let null = null_one_in > 0 && rng.one_in(null_one_in);
                row.push(if null { exact(Value::Null) } else { random_cell(rng, generator) });
            }
            row
        })
        .collect()
}

/// Equal, and floats equal bit for bit: -0.0 is not 0.0 here.
fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// Where a failing step of the property test is: the seed to replay it with, and the step.
fn replay(seed: u64, step: &str) -> String {
    format!("seed {seed} (replay: CYMYSQL_PROPTEST_SEED={seed}): {step}")
}

/// The result of a driver call, or a panic that names the seed (a trap included: a guest that
/// panics on a value traps).
fn must<T>(call: Call<T>, seed: u64, step: &str) -> T {
    match call {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("{}: {e:?}", replay(seed, step)),
        Err(trap) => panic!("{}: trap: {trap:?}", replay(seed, step)),
    }
}

/// Every row `sql` gives through COM_QUERY, buffered or unbuffered.
fn query_rows(s: &mut Session, c: Conn, sql: &str, unbuffered: bool, seed: u64) -> Vec<Vec<Value>> {
    let cur = if unbuffered { s.ss_cursor(c) } else { s.cursor(c) }.unwrap();
    must(s.execute(cur, sql, None), seed, sql);
    let got = must(s.fetchall(cur), seed, sql);
    s.drop_cursor(cur).unwrap();
    got
}

/// Every row a prepared statement gives: buffered, unbuffered, or through a server cursor
/// fetching `fetch_size` rows at a time.
fn statement_rows(s: &mut Session, st: Stmt, how: &str, fetch_size: u32, seed: u64) -> Vec<Vec<Value>> {
    let params = [Value::Int(0)];
    let cur = must(
        match how {
            "buffered" => s.stmt_execute(st, &params),
            "unbuffered" => s.stmt_ss_execute(st, &params),
            _ => s.stmt_open_cursor(st, &params, fetch_size),
        },
        seed,
        how,
    );
    let got = must(s.fetchall(cur), seed, how);
    s.drop_cursor(cur).unwrap();
    got
}

/// Every row of `t` read through each path a caller has: COM_QUERY buffered and unbuffered, a
/// prepared statement's buffered execute, unbuffered execute and read-only server cursor, and a
/// cursor's `execute-prepared` (the statement cache).
fn read_every_way(s: &mut Session, c: Conn, t: &str, fetch_size: u32, seed: u64) -> Vec<(String, Vec<Vec<Value>>)> {
    let sql = format!("SELECT * FROM {t} ORDER BY k");
    let mut reads = vec![
        ("COM_QUERY".to_string(), query_rows(s, c, &sql, false, seed)),
        ("COM_QUERY unbuffered".to_string(), query_rows(s, c, &sql, true, seed)),
    ];
    let sql = format!("SELECT * FROM {t} WHERE k >= ? ORDER BY k");
    let st = must(s.prepare(c, &sql), seed, &sql);
    reads.push(("COM_STMT_EXECUTE".into(), statement_rows(s, st, "buffered", fetch_size, seed)));
    reads.push(("COM_STMT_EXECUTE unbuffered".into(), statement_rows(s, st, "unbuffered", fetch_size, seed)));
    reads.push((format!("COM_STMT_FETCH by {fetch_size}"), statement_rows(s, st, "cursor", fetch_size, seed)));
    must(s.stmt_close(st), seed, "close");
    let cur = s.cursor(c).unwrap();
    let sql = format!("SELECT * FROM {t} WHERE k >= %s ORDER BY k");
    must(s.execute_prepared(cur, &sql, Some(&Params::Positional(vec![Value::Int(0)]))), seed, &sql);
    reads.push(("execute-prepared".into(), must(s.fetchall(cur), seed, &sql)));
    s.drop_cursor(cur).unwrap();
    reads
}

/// Expressions over the random table, for result types only a SELECT makes: NULL, arithmetic
/// widened to BIGINT, DECIMAL and DOUBLE, dates and times computed (or NULL when out of range),
/// strings of mixed character sets, ENUM, SET and BIT as numbers.
const DERIVED: &str = "k, NULL, -ti, mu * 2, bu DIV 1, iz + 0, i * 1.5, de + 0, f * 1, d / 3, DATE(dt), \
     TIME(dt), TIMEDIFF(tm, t0), dt + INTERVAL 1 SECOND, da + INTERVAL 1 DAY, YEAR(da), UNIX_TIMESTAMP(ts), \
     COALESCE(ts, d3), CAST(tm AS DECIMAL(20,6)), CAST(t1 AS DATETIME(6)), CONCAT(v, l1), CONCAT(vb, bl), \
     IF(k % 2, v, vb), HEX(b), b + 0, e + 0, st + 0, JSON_TYPE(j), ST_AsText(g), CHAR_LENGTH(tx), CAST(bu AS CHAR), \
     GREATEST(ti, si), LEAST(dt, d0)";

/// A property test of the binary protocol. Random rows over every column type of the edge table
/// and a few more (both ends of each integer, FLOAT, DOUBLE, DECIMAL of several precisions and
/// scales, zero and zero-in-date dates, TIMESTAMP at and past its range, negative TIME with
/// microseconds up to 838 hours, YEAR, BIT, JSON, GEOMETRY, ENUM, SET, CHAR, VARCHAR and TEXT of 1-
/// to 4-byte characters with quotes, backslashes and NUL, BINARY and BLOB bytes, NULLs) are written
/// once through `%s` interpolation (COM_QUERY) and once through a prepared bulk executemany, and
/// each table is read back through COM_QUERY (buffered, unbuffered) and the binary protocol
/// (buffered, unbuffered, server cursor, `execute-prepared`). It proves that every read gives the
/// same values (floats bit for bit), and that every value whose stored form is known equals it, so
/// that a bug the two paths share fails too.
///
/// The seed is printed (shown with `--nocapture` or on failure) and is in every failure message;
/// replay one with `CYMYSQL_PROPTEST_SEED=<seed> scripts/test prepared::`, and set
/// `CYMYSQL_PROPTEST_ROWS` for more rows than 200.
#[test]
fn random_rows_read_the_same_through_text_and_binary_protocols() {
    let seed = proptest_seed();
    let n: i64 = std::env::var("CYMYSQL_PROPTEST_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let mut rng = Rng(seed);
    let generated = random_rows(&mut rng, n);
    let fetch_size = rng.uniform(1, 64) as u32;
    // The connection varies too: zlib compression, and quotes doubled instead of backslashed.
    let compress = rng.one_in(3);
    let no_backslash_escapes = rng.one_in(2);
    eprintln!(
        "random rows: seed {seed}, {n} rows, compress {compress}, NO_BACKSLASH_ESCAPES {no_backslash_escapes} \
         (replay: CYMYSQL_PROPTEST_SEED={seed} scripts/test prepared::)"
    );
    let names: Vec<String> = std::iter::once("k INT".to_string())
        .chain(RANDOM_COLUMNS.iter().map(|(name, sql, _)| format!("{name} {sql}")))
        .collect();
    let columns = format!("{} PRIMARY KEY, {}", names[0], names[1..].join(", "));
    let written: Vec<Vec<Value>> =
        generated.iter().map(|row| row.iter().map(|c| c.written.clone()).collect()).collect();
    let mut s = session();
    let o = ConnectOptions { compress: compress.then(|| "zlib".to_string()), ..options(&mut s) };
    let c = must(s.connect(&o), seed, "connect");
    assert_eq!(s.compression(c).unwrap().is_some(), compress, "{}", replay(seed, "compression"));
    exec(&mut s, c, "SET SESSION time_zone = '+00:00'");
    // Zero dates need an empty sql_mode; the tables are made before quoting changes.
    exec(&mut s, c, "SET SESSION sql_mode = ''");
    let by_text = fresh_table(&mut s, c, "ps_random_text", &columns);
    let by_binary = fresh_table(&mut s, c, "ps_random_binary", &columns);
    if no_backslash_escapes {
        exec(&mut s, c, "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'");
    }

    let cur = s.cursor(c).unwrap();
    let insert = format!("INSERT INTO {by_text} VALUES ({})", vec!["%s"; names.len()].join(", "));
    let sets: Vec<Params> = written.iter().map(|row| Params::Positional(row.clone())).collect();
    assert_eq!(must(s.executemany(cur, &insert, &sets), seed, "the interpolated INSERT"), n as u64);
    s.drop_cursor(cur).unwrap();
    let insert = format!("INSERT INTO {by_binary} VALUES ({})", vec!["?"; names.len()].join(", "));
    let ins = must(s.prepare(c, &insert), seed, &insert);
    assert_eq!(must(s.stmt_executemany(ins, &written), seed, "the prepared INSERT"), n as u64);

    let mut failures = Vec::new();
    for t in [&by_text, &by_binary] {
        let reads = read_every_way(&mut s, c, t, fetch_size, seed);
        let reference = &reads[0].1;
        for (way, got) in &reads {
            if got.len() != generated.len() {
                failures.push(format!("{t}: {way} read {} rows of {}", got.len(), generated.len()));
                continue;
            }
            for (r, ((row, want), first)) in got.iter().zip(&generated).zip(reference).enumerate() {
                if row.len() != want.len() || first.len() != want.len() {
                    failures.push(format!("{t} k={}: {way} read {} columns of {}", r + 1, row.len(), want.len()));
                    continue;
                }
                for (i, cell) in want.iter().enumerate() {
                    let (value, text_value) = (&row[i], &first[i]);
                    let at = format!("{t} k={} column {}", r + 1, names[i]);
                    if !identical(value, text_value) {
                        failures.push(format!("{at}: {way} read {value:?}, COM_QUERY read {text_value:?}"));
                    } else if let Some(e) = cell.expected.as_ref().filter(|e| !identical(e, value)) {
                        failures
                            .push(format!("{at}: {way} read {value:?}, expected {e:?} (written {:?})", cell.written));
                    }
                }
            }
        }
    }
    // Values computed by the server have no expected form of their own: only the paths are compared.
    let text_rows = query_rows(&mut s, c, &format!("SELECT {DERIVED} FROM {by_text} ORDER BY k"), false, seed);
    let sql = format!("SELECT {DERIVED} FROM {by_text} WHERE k >= ? ORDER BY k");
    let st = must(s.prepare(c, &sql), seed, &sql);
    let binary_reads = [
        ("COM_STMT_EXECUTE".to_string(), statement_rows(&mut s, st, "buffered", fetch_size, seed)),
        (format!("COM_STMT_FETCH by {fetch_size}"), statement_rows(&mut s, st, "cursor", fetch_size, seed)),
    ];
    for (way, got) in &binary_reads {
        assert_eq!(got.len(), text_rows.len(), "{}", replay(seed, &format!("{way} of the expressions")));
        for (r, (row, first)) in got.iter().zip(&text_rows).enumerate() {
            for (i, (value, text_value)) in row.iter().zip(first).enumerate() {
                if !identical(value, text_value) {
                    failures.push(format!(
                        "expression {i} k={}: {way} read {value:?}, COM_QUERY read {text_value:?}",
                        r + 1
                    ));
                }
            }
        }
    }
    // Cut short: a MEDIUMBLOB printed whole is hundreds of kilobytes.
    let shown: Vec<String> = failures.iter().take(25).map(|f| f.chars().take(800).collect()).collect();
    let shown = shown.join("\n");
    assert!(failures.is_empty(), "{}", replay(seed, &format!("{} differences, the first:\n{}", failures.len(), shown)));
}

/// Values bound as binary parameters land in their columns as the same values read back
/// through the text protocol, NULLs included.
#[test]
fn parameters_of_every_type_round_trip() {
    let mut s = session();
    let c = lax(&mut s);
    let t = fresh_table(
        &mut s,
        c,
        "ps_params",
        "k INT PRIMARY KEY, bi BIGINT, bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, de DECIMAL(40,20), da DATE, \
         dt DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), y YEAR, b BIT(64), e ENUM('a','b'), st SET('x','y','z'), \
         v VARCHAR(40) CHARACTER SET utf8mb4, vb VARBINARY(20), g GEOMETRY NULL",
    );
    let point = rows(&mut s, c, "SELECT ST_GeomFromText('POINT(3 4)')").remove(0).remove(0);
    let full = vec![
        Value::Int(1),
        Value::Int(i64::MIN),
        Value::Uint(u64::MAX),
        Value::Float(1.5),
        Value::Double(-2.5e-300),
        Value::Decimal("-12345678901234567890.12345678901234567890".into()),
        Value::Date(Date { year: 0, month: 0, day: 0 }),
        Value::Datetime(dt(2024, 2, 29, 23, 59, 59, 123456)),
        Value::Timestamp(dt(2038, 1, 19, 3, 14, 7, 999999)),
        Value::Time(Time { negative: true, hours: 838, minutes: 59, seconds: 59, microseconds: 999999 }),
        Value::Year(2155),
        Value::Bit(u64::MAX),
        Value::Enum("b".into()),
        Value::Set(vec!["x".into(), "z".into()]),
        text("żółw 😀 '\"\\"),
        Value::Bytes(vec![0, 0xff, b'\'', b'\\']),
        point,
    ];
    let mut nulls = vec![Value::Null; full.len()];
    nulls[0] = Value::Int(2);
    let st = prepare(&mut s, c, &format!("INSERT INTO {t} VALUES ({})", vec!["?"; full.len()].join(", ")));
    assert_eq!(s.stmt_executemany(st, &[full.clone(), nulls.clone()]).unwrap(), Ok(2));
    let back = rows(&mut s, c, &format!("SELECT * FROM {t} ORDER BY k"));
    assert_eq!(back, vec![full, nulls]);
}

#[test]
fn errors_are_typed_and_the_connection_stays_usable() {
    let mut s = session();
    let c = connect(&mut s);
    // A syntax error at prepare: ProgrammingError 1064, 42000.
    let e = s.prepare(c, "SELEC 1").unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, Some(1064));
    assert_eq!(e.sqlstate.as_deref(), Some("42000"));
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
    // A wrong parameter count is the caller's error; nothing reaches the server.
    let st = prepare(&mut s, c, "SELECT ? + ?");
    for params in [vec![], vec![Value::Int(1)], vec![Value::Int(1); 3]] {
        let e = s.stmt_execute(st, &params).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Programming, None);
        assert!(e.message.contains("takes 2 parameters"), "{e:?}");
    }
    assert_eq!(run(&mut s, st, &[Value::Int(1), Value::Int(2)]), vec![vec![Value::Int(3)]]);
    // A value that has no stored form is refused before it is sent.
    let e = s.stmt_execute(st, &[Value::Double(f64::NAN), Value::Int(1)]).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Data, None);
    // A server error at execute (a duplicate key): IntegrityError 1062.
    let t = fresh_table(&mut s, c, "ps_errors", "k INT PRIMARY KEY");
    let ins = prepare(&mut s, c, &format!("INSERT INTO {t} VALUES (?)"));
    assert_eq!(s.stmt_executemany(ins, &[vec![Value::Int(1)]]).unwrap(), Ok(1));
    let e = s.stmt_execute(ins, &[Value::Int(1)]).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Integrity, Some(1062));
    assert_eq!(run(&mut s, st, &[Value::Int(2), Value::Int(2)]), vec![vec![Value::Int(4)]]);
    // A closed statement is an interface error; closing again is harmless.
    assert_eq!(s.stmt_close(st).unwrap(), Ok(()));
    assert_eq!(s.stmt_close(st).unwrap(), Ok(()));
    assert_kind(&s.stmt_execute(st, &[Value::Int(1), Value::Int(1)]).unwrap().unwrap_err(), ErrorKind::Interface, None);
    assert_eq!(s.stmt_reset(ins).unwrap(), Ok(()));
    assert_eq!(scalar(&mut s, c, "SELECT 2"), Value::Int(2));
}

/// Statements are deallocated on the server by close and by dropping them, and a reconnect makes
/// an old statement an interface error instead of running whatever now has its id.
#[test]
fn statements_are_deallocated_and_die_with_their_session() {
    let mut s = session();
    let c = connect(&mut s);
    let closed = |s: &mut Session| rows(s, c, "SHOW SESSION STATUS LIKE 'Com_stmt_close'");
    let a = prepare(&mut s, c, "SELECT 1");
    let b = prepare(&mut s, c, "SELECT 2");
    assert_eq!(s.stmt_close(a).unwrap(), Ok(()));
    s.drop_stmt(b).unwrap();
    // The next command sends COM_STMT_CLOSE for the dropped one first; it still works.
    assert_eq!(scalar(&mut s, c, "SELECT 3"), Value::Int(3));
    assert_eq!(closed(&mut s), vec![vec![text("Com_stmt_close"), text("2")]]);
    let st = prepare(&mut s, c, "SELECT CONNECTION_ID()");
    let before = run(&mut s, st, &[]);
    // KILL ends the server session; ping(reconnect) opens a new one.
    let id = s.thread_id(c).unwrap();
    server().admin_sql(&format!("KILL {id}")).unwrap();
    assert!(wait_gone(id));
    let _ = s.ping(c, false).unwrap();
    assert_eq!(s.ping(c, true).unwrap(), Ok(()));
    let e = s.stmt_execute(st, &[]).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Interface, None);
    let again = prepare(&mut s, c, "SELECT CONNECTION_ID()");
    assert_ne!(run(&mut s, again, &[]), before);
}

/// Puts back the server's max_allowed_packet (256 MiB, as the test server starts), even when the
/// test fails.
struct RestoreMaxAllowedPacket;

impl Drop for RestoreMaxAllowedPacket {
    fn drop(&mut self) {
        let _ = server().admin_sql("SET GLOBAL max_allowed_packet = 268435456");
    }
}

/// Parameters larger than max_allowed_packet together go as COM_STMT_SEND_LONG_DATA; one larger
/// than it alone is the server's typed error, and the connection stays usable.
#[test]
fn long_data_beyond_max_allowed_packet() {
    let mut s = session();
    let c0 = connect(&mut s);
    let t = fresh_table(&mut s, c0, "ps_long", "k INT PRIMARY KEY, a MEDIUMBLOB, b MEDIUMTEXT");
    // Only sessions opened while the global is lowered have the small limit.
    let limit = 64 * 1024;
    let restore = RestoreMaxAllowedPacket;
    server().admin_sql(&format!("SET GLOBAL max_allowed_packet = {limit}")).unwrap();
    let o = options(&mut s);
    let opened = s.connect(&o);
    drop(restore);
    let c = opened.unwrap().unwrap();
    let announced = scalar(&mut s, c, "SELECT @@max_allowed_packet");
    assert!(matches!(announced, Value::Uint(n) if n == limit), "{announced:?}");
    let a = noise(40_000, 7);
    let b = "ż".repeat(20_000);
    let ins = prepare(&mut s, c, &format!("INSERT INTO {t} VALUES (?, ?, ?)"));
    let cur = s.stmt_execute(ins, &[Value::Int(1), Value::Bytes(a.clone()), text(&b)]).unwrap().unwrap();
    assert_eq!(s.rowcount(cur).unwrap(), 1);
    s.drop_cursor(cur).unwrap();
    assert_eq!(s.commit(c).unwrap(), Ok(()));
    let back = rows(&mut s, c0, &format!("SELECT a, b FROM {t} WHERE k = 1"));
    // Compared whole, not printed: a failure would print 80 KB.
    assert!(back == vec![vec![Value::Bytes(a), text(&b)]], "the stored values differ");
    // One parameter above the limit: the server refuses it, typed, and the session goes on.
    let big = noise(limit as usize + 1000, 9);
    let e = s.stmt_execute(ins, &[Value::Int(2), Value::Bytes(big), Value::Null]).unwrap().unwrap_err();
    assert_ne!(e.kind, ErrorKind::Interface, "{e:?}");
    assert!(e.code.is_some(), "{e:?}");
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
    let cur = s.stmt_execute(ins, &[Value::Int(3), Value::Null, text("small")]).unwrap().unwrap();
    s.drop_cursor(cur).unwrap();
    assert_eq!(s.commit(c).unwrap(), Ok(()));
    assert_eq!(scalar(&mut s, c, &format!("SELECT COUNT(*) FROM {t}")), Value::Int(2));
}

/// A pooled connection's statements die with COM_RESET_CONNECTION on release: the next borrower
/// prepares its own, and the old handle is an interface error, not someone else's statement.
#[test]
fn statements_after_a_pool_reset() {
    let mut s = session();
    let o = options(&mut s);
    let p = s.create_pool(&o, 1, 1, None).unwrap().unwrap();
    let c = s.acquire(p).unwrap().unwrap();
    let st = prepare(&mut s, c, "SELECT ? * 2");
    assert_eq!(run(&mut s, st, &[Value::Int(21)]), vec![vec![Value::Int(42)]]);
    s.release(p, c).unwrap();
    let c2 = s.acquire(p).unwrap().unwrap();
    let e = s.stmt_execute(st, &[Value::Int(1)]).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Interface, None);
    let st2 = prepare(&mut s, c2, "SELECT ? * 3");
    assert_eq!(run(&mut s, st2, &[Value::Int(2)]), vec![vec![Value::Int(6)]]);
    s.drop_stmt(st).unwrap();
    assert_eq!(run(&mut s, st2, &[Value::Int(3)]), vec![vec![Value::Int(9)]]);
}

fn status(s: &mut Session, c: Conn, name: &str) -> String {
    match rows(s, c, &format!("SHOW SESSION STATUS LIKE '{name}'")).remove(0).remove(1) {
        Value::Text(t) => t,
        other => panic!("{other:?}"),
    }
}

/// `execute-prepared` maps `%s` to `?` outside strings and keeps the statement prepared: the same
/// text runs again without a second COM_STMT_PREPARE.
#[test]
fn execute_prepared_uses_the_statement_cache() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    let q = "SELECT %s + 1, '%s', %(x)s";
    let named = |n: i64| Params::Named(vec![("x".into(), Value::Int(n))]);
    // Named and positional cannot mix: the caller's error, typed.
    let e = s.execute_prepared(cur, q, Some(&named(1))).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    let q = "SELECT %(x)s + 1, '%s', `k` FROM (SELECT 1 AS k) AS t -- %s";
    let before: u64 = status(&mut s, c, "Com_stmt_prepare").parse().unwrap();
    for n in 0..3 {
        assert_eq!(s.execute_prepared(cur, q, Some(&named(n))).unwrap(), Ok(1));
        assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(n + 1), text("%s"), Value::Int(1)]]);
    }
    let after: u64 = status(&mut s, c, "Com_stmt_prepare").parse().unwrap();
    assert_eq!(after - before, 1, "one COM_STMT_PREPARE for three executions");
    assert_eq!(s.execute_prepared(cur, "SELECT %s", Some(&Params::Positional(vec![Value::Null]))).unwrap(), Ok(1));
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Null]]);
}

/// Seventeen different statements through a cache of sixteen while an unbuffered cursor is still
/// reading the first one's rows. As with any command, the first of them reads the rest of that
/// result off the wire; the evicted statement is deallocated only then, so no reply goes astray
/// and every later result is whole.
#[test]
fn cache_eviction_while_a_cursor_is_reading() {
    let mut s = session();
    let c = connect(&mut s);
    let reader = s.ss_cursor(c).unwrap();
    let q = "SELECT seq FROM seq_1_to_1000 WHERE seq > %s";
    assert_eq!(s.execute_prepared(reader, q, Some(&Params::Positional(vec![Value::Int(0)]))).unwrap(), Ok(0));
    assert_eq!(s.fetchmany(reader, Some(10)).unwrap().unwrap().len(), 10);
    let other = s.cursor(c).unwrap();
    for n in 0..17 {
        let sql = format!("SELECT %s + {n}");
        s.execute_prepared(other, &sql, Some(&Params::Positional(vec![Value::Int(1)]))).unwrap().unwrap();
        assert_eq!(s.fetchall(other).unwrap().unwrap(), vec![vec![Value::Int(1 + n)]]);
    }
    // The reader's result was read off the wire by the next command, as for a text query.
    assert_eq!(s.fetchall(reader).unwrap().unwrap(), Vec::<Vec<Value>>::new());
    let closed: u64 = status(&mut s, c, "Com_stmt_close").parse().unwrap();
    assert!(closed >= 2, "evicted statements are deallocated ({closed})");
    // The first statement was evicted; running its text again prepares it anew and works.
    assert_eq!(s.execute_prepared(other, q, Some(&Params::Positional(vec![Value::Int(998)]))).unwrap(), Ok(2));
    assert_eq!(s.fetchall(other).unwrap().unwrap(), vec![vec![Value::Uint(999)], vec![Value::Uint(1000)]]);
}

/// COM_RESET_CONNECTION (a pool's release) deallocates every statement: the cache is emptied with
/// it, so the next borrower's `execute-prepared` prepares again instead of naming a dead id.
#[test]
fn statement_cache_after_a_pool_reset() {
    let mut s = session();
    let o = options(&mut s);
    let p = s.create_pool(&o, 1, 1, None).unwrap().unwrap();
    let q = "SELECT %s * 2";
    for round in 0..3 {
        let c = s.acquire(p).unwrap().unwrap();
        let cur = s.cursor(c).unwrap();
        let n = Params::Positional(vec![Value::Int(round)]);
        assert_eq!(s.execute_prepared(cur, q, Some(&n)).unwrap(), Ok(1), "round {round}");
        assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(round * 2)]]);
        s.drop_cursor(cur).unwrap();
        s.release(p, c).unwrap();
    }
}

fn status_n(s: &mut Session, c: Conn, name: &str) -> u64 {
    status(s, c, name).parse().unwrap()
}

/// executemany of a prepared INSERT on MariaDB goes as COM_STMT_BULK_EXECUTE: the edge-value rows
/// (every type, a row of NULLs, NULLs among values) land as they were read, the affected-row total
/// is returned, and the whole batch is one execution on the server.
#[test]
fn bulk_executemany_with_nulls_and_every_type() {
    let mut s = session();
    let c = lax(&mut s);
    let src = fresh_table(&mut s, c, "ps_bulk_src", EDGE_COLUMNS);
    fill_edge_table(&mut s, c, &src);
    let edge = rows(&mut s, c, &format!("SELECT * FROM {src} ORDER BY k"));
    let t = fresh_table(&mut s, c, "ps_bulk", EDGE_COLUMNS);
    let ins = prepare(&mut s, c, &format!("INSERT INTO {t} VALUES ({})", vec!["?"; 32].join(", ")));
    // The edge rows three times over, keys 1 to 12; the last round starts with the NULL row.
    let mut batch = Vec::new();
    for round in 0..3i64 {
        let mut round_rows = edge.clone();
        if round == 2 {
            round_rows.rotate_right(1);
        }
        for mut row in round_rows {
            let Value::Int(k) = row[0] else { panic!("{:?}", row[0]) };
            row[0] = Value::Int(k + 4 * round);
            batch.push(row);
        }
    }
    let before = status_n(&mut s, c, "Com_stmt_execute");
    assert_eq!(s.stmt_executemany(ins, &batch).unwrap(), Ok(12));
    let executions = status_n(&mut s, c, "Com_stmt_execute") - before;
    assert_eq!(executions, 1, "one COM_STMT_BULK_EXECUTE for twelve rows");
    let mut back = rows(&mut s, c, &format!("SELECT * FROM {t} ORDER BY k"));
    batch.sort_by_key(|r| match r[0] {
        Value::Int(k) => k,
        _ => 0,
    });
    for (b, want) in back.iter().zip(&batch) {
        for (i, (got, w)) in b.iter().zip(want).enumerate() {
            assert_eq!(got, w, "row {:?} column {i}", want[0]);
        }
    }
    assert_eq!(back.len(), 12);
    // A column whose type changes between rows (signed, then unsigned BIGINT) splits the batch
    // into requests of one type each; the values still land exactly.
    let u = fresh_table(&mut s, c, "ps_bulk_types", "k INT PRIMARY KEY, v DECIMAL(20,0)");
    let ins = prepare(&mut s, c, &format!("INSERT INTO {u} VALUES (?, ?)"));
    let mixed = vec![
        vec![Value::Int(1), Value::Int(-5)],
        vec![Value::Int(2), Value::Null],
        vec![Value::Int(3), Value::Uint(u64::MAX)],
        vec![Value::Int(4), text("7")],
    ];
    assert_eq!(s.stmt_executemany(ins, &mixed).unwrap(), Ok(4));
    back = rows(&mut s, c, &format!("SELECT CAST(v AS CHAR) FROM {u} ORDER BY k"));
    assert_eq!(back, vec![vec![text("-5")], vec![Value::Null], vec![text("18446744073709551615")], vec![text("7")]]);
}

/// Rows together far larger than max_allowed_packet go in several bulk requests, each within it
/// (a request over it would be refused and the session closed); a row too large for a request of
/// its own goes alone as COM_STMT_EXECUTE with long data. Every row lands once.
#[test]
fn bulk_batches_are_split_by_max_allowed_packet() {
    let mut s = session();
    let c0 = connect(&mut s);
    let t = fresh_table(&mut s, c0, "ps_bulk_split", "k INT PRIMARY KEY, a MEDIUMBLOB, b MEDIUMTEXT");
    let limit = 64 * 1024;
    let restore = RestoreMaxAllowedPacket;
    server().admin_sql(&format!("SET GLOBAL max_allowed_packet = {limit}")).unwrap();
    let o = options(&mut s);
    let opened = s.connect(&o);
    drop(restore);
    let c = opened.unwrap().unwrap();
    let ins = prepare(&mut s, c, &format!("INSERT INTO {t} VALUES (?, ?, ?)"));
    let mut batch: Vec<Vec<Value>> = (0..300i64)
        .map(|k| vec![Value::Int(k), Value::Bytes(noise(1000 + k as usize, k as u64)), text(&"é".repeat(k as usize))])
        .collect();
    // Two values of 40 KB: together over the limit, so this row cannot share or fill a request.
    batch[150] = vec![Value::Int(150), Value::Bytes(noise(40_000, 3)), text(&"ż".repeat(20_000))];
    let before = status_n(&mut s, c, "Com_stmt_execute");
    assert_eq!(s.stmt_executemany(ins, &batch).unwrap(), Ok(300));
    let executions = status_n(&mut s, c, "Com_stmt_execute") - before;
    // About 330 KB of rows: at least six requests of at most 64 KB, and far fewer than a row each.
    assert!((6..50).contains(&executions), "{executions} executions");
    assert_eq!(s.commit(c).unwrap(), Ok(()));
    let back = rows(&mut s, c0, &format!("SELECT k, a, b FROM {t} ORDER BY k"));
    // Compared whole, not printed: a failure would print megabytes.
    assert!(back == batch, "the stored rows differ");
}

/// A duplicate key in the middle of a bulk request is the server's typed error (IntegrityError
/// 1062), nothing of that request is stored, the session stays usable and the same statement runs
/// again; a statement MariaDB does not run in bulk falls back to one execution per set.
#[test]
fn bulk_error_in_the_middle_of_a_batch() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "ps_bulk_dup", "k INT PRIMARY KEY, v VARCHAR(10)");
    let ins = prepare(&mut s, c, &format!("INSERT INTO {t} VALUES (?, ?)"));
    let mut batch: Vec<Vec<Value>> = (1..=100).map(|k| vec![Value::Int(k), text("x")]).collect();
    batch[50][0] = Value::Int(7);
    let e = s.stmt_executemany(ins, &batch).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Integrity, Some(1062));
    assert_eq!(e.sqlstate.as_deref(), Some("23000"));
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
    // The request is one statement: with autocommit, InnoDB rolls back the rows before the duplicate too.
    assert_eq!(scalar(&mut s, c, &format!("SELECT COUNT(*) FROM {t}")), Value::Int(0));
    let more: Vec<Vec<Value>> = (1000..1010).map(|k| vec![Value::Int(k), Value::Null]).collect();
    assert_eq!(s.stmt_executemany(ins, &more).unwrap(), Ok(10));
    // A statement the server does not run in bulk (SET) runs a parameter set at a time.
    let set = prepare(&mut s, c, "SET @bulk_last = ?");
    assert_eq!(s.stmt_executemany(set, &[vec![Value::Int(1)], vec![Value::Int(2)]]).unwrap(), Ok(0));
    assert_eq!(scalar(&mut s, c, "SELECT @bulk_last"), Value::Int(2));
}

fn positional(values: Vec<Value>) -> Params {
    Params::Positional(values)
}

/// The connect option `prepared-execution`: `execute` with parameters prepares once and runs in
/// the binary protocol; without parameters it stays text; `executemany` of INSERT and of UPDATE
/// goes as one bulk request. The option also comes from the URL.
#[test]
fn prepared_execution_option() {
    let mut s = session();
    let url = format!("{}?prepared_execution=true", server().url("test"));
    let o = s.options_from_url(&url).unwrap().unwrap();
    assert!(o.prepared_execution);
    assert_eq!(o.statement_cache_size, 16);
    let c = s.connect(&o).unwrap().unwrap();
    let cur = s.cursor(c).unwrap();
    let prepares = status_n(&mut s, c, "Com_stmt_prepare");
    for n in 0..3 {
        assert_eq!(
            s.execute(cur, "SELECT %s + 1, %s", Some(&positional(vec![Value::Int(n), Value::Null]))).unwrap(),
            Ok(1)
        );
        assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(n + 1), Value::Null]]);
    }
    assert_eq!(s.execute(cur, "SELECT 5", None).unwrap(), Ok(1));
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(5)]]);
    assert_eq!(status_n(&mut s, c, "Com_stmt_prepare") - prepares, 1, "one prepare for three executions");
    // A server error is still typed and the cursor goes on.
    let e = s.execute(cur, "SELECT * FROM no_such_table WHERE k = %s", Some(&positional(vec![Value::Int(1)])));
    assert_kind(&e.unwrap().unwrap_err(), ErrorKind::Programming, Some(1146));
    let t = fresh_table(&mut s, c, "ps_option", "k INT PRIMARY KEY, v VARCHAR(10)");
    let sets: Vec<Params> = (0..50).map(|k| positional(vec![Value::Int(k), text("x")])).collect();
    let executions = status_n(&mut s, c, "Com_stmt_execute");
    assert_eq!(s.executemany(cur, &format!("INSERT INTO {t} VALUES (%s, %s)"), &sets).unwrap(), Ok(50));
    assert_eq!(status_n(&mut s, c, "Com_stmt_execute") - executions, 1, "one bulk request");
    let updates: Vec<Params> = (0..10).map(|k| positional(vec![text("y"), Value::Int(k)])).collect();
    let received = status_n(&mut s, c, "Bytes_received");
    assert_eq!(s.executemany(cur, &format!("UPDATE {t} SET v = %s WHERE k = %s"), &updates).unwrap(), Ok(10));
    // MariaDB counts each set of a bulk UPDATE as an execution, so the bytes tell: the prepare and
    // one request of ten 12-byte sets take about 230; ten COM_STMT_EXECUTEs alone would take 300.
    let sent = status_n(&mut s, c, "Bytes_received") - received;
    assert!(sent < 300, "{sent} bytes: the sets went one by one");
    assert_eq!(s.rowcount(cur).unwrap(), 10);
    // Unlike a bulk INSERT (one statement), MariaDB runs a bulk UPDATE's sets one execution each:
    // a duplicate key in the sixth stops the request and the five before it stay applied.
    let renames: Vec<Params> =
        (0..10).map(|k| positional(vec![Value::Int(if k == 5 { 49 } else { k + 1000 }), Value::Int(k)])).collect();
    let e = s.executemany(cur, &format!("UPDATE {t} SET k = %s WHERE k = %s"), &renames).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Integrity, Some(1062));
    assert_eq!(scalar(&mut s, c, &format!("SELECT COUNT(*) FROM {t} WHERE k >= 1000")), Value::Int(5));
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
    assert_eq!(
        rows(&mut s, c, &format!("SELECT v, COUNT(*) FROM {t} GROUP BY v ORDER BY v")),
        vec![vec![text("x"), Value::Int(40)], vec![text("y"), Value::Int(10)]]
    );
}

/// The connect option `statement-cache-size`: with 1, two statements taking turns are prepared
/// each time; with the default both stay prepared.
#[test]
fn statement_cache_size_option() {
    let mut s = session();
    let mut prepares_for = |size: u32| {
        let o = ConnectOptions { prepared_execution: true, statement_cache_size: size, ..options(&mut s) };
        let c = s.connect(&o).unwrap().unwrap();
        let cur = s.cursor(c).unwrap();
        let before = status_n(&mut s, c, "Com_stmt_prepare");
        for n in 0..3 {
            for q in ["SELECT %s", "SELECT %s + 0"] {
                assert_eq!(s.execute(cur, q, Some(&positional(vec![Value::Int(n)]))).unwrap(), Ok(1));
                assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(n)]]);
            }
        }
        status_n(&mut s, c, "Com_stmt_prepare") - before
    };
    assert_eq!(prepares_for(1), 6);
    assert_eq!(prepares_for(16), 2);
}

fn seq_rows(from: u64, to: u64) -> Vec<Vec<Value>> {
    (from..=to).map(|n| vec![Value::Uint(n), Value::Text(format!("r{n}"))]).collect()
}

/// A read-only server cursor (COM_STMT_EXECUTE with CURSOR_TYPE_READ_ONLY, then COM_STMT_FETCH):
/// the rows come a batch at a time, other statements run on the connection between batches, and
/// the cursor ends exactly at the result's last row.
#[test]
fn server_cursor_fetches_in_batches_and_leaves_the_connection_free() {
    let mut s = session();
    let c = connect(&mut s);
    let st = prepare(&mut s, c, "SELECT seq, CONCAT('r', seq) FROM seq_1_to_1000 WHERE seq > ? ORDER BY seq");
    let fetches = status_n(&mut s, c, "Com_stmt_fetch");
    let cur = s.stmt_open_cursor(st, &[Value::Int(0)], 300).unwrap().unwrap();
    // No rows came with the execute: nothing was fetched yet.
    assert_eq!(status_n(&mut s, c, "Com_stmt_fetch"), fetches);
    assert_eq!(s.fetchmany(cur, Some(10)).unwrap().unwrap(), seq_rows(1, 10));
    // The connection is free between batches, which an unbuffered result would not leave it.
    assert_eq!(scalar(&mut s, c, "SELECT 41 + 1"), Value::Int(42));
    let double = prepare(&mut s, c, "SELECT ? * 2");
    assert_eq!(run(&mut s, double, &[Value::Int(21)]), vec![vec![Value::Int(42)]]);
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), Some(seq_rows(11, 11).remove(0)));
    // Scrolling forward reads and drops whole batches.
    s.scroll(cur, 500, ScrollMode::Relative).unwrap().unwrap();
    assert_eq!(s.rownumber(cur).unwrap(), Some(511));
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), seq_rows(512, 1000));
    assert_eq!(s.rowcount(cur).unwrap(), 1000);
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), None);
    // 1000 rows by 300: three full batches and a last one of 100 that says the cursor is done.
    assert_eq!(status_n(&mut s, c, "Com_stmt_fetch") - fetches, 4);
    // An empty result ends at once.
    let cur = s.stmt_open_cursor(st, &[Value::Int(1000)], 300).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), Vec::<Vec<Value>>::new());
    assert_eq!(s.rowcount(cur).unwrap(), 0);
}

/// The cursor's statement running again closes the cursor on the server: its next batch is the
/// server's typed error and the connection goes on. A fetch size of 0 is the caller's error, and
/// closing a cursor with rows left frees them on the server (COM_STMT_RESET).
#[test]
fn server_cursor_errors_are_typed_and_close_frees_it() {
    let mut s = session();
    let c = connect(&mut s);
    let st = prepare(&mut s, c, "SELECT seq, CONCAT('r', seq) FROM seq_1_to_1000 WHERE seq > ? ORDER BY seq");
    let e = s.stmt_open_cursor(st, &[Value::Int(0)], 0).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    let cur = s.stmt_open_cursor(st, &[Value::Int(990)], 4).unwrap().unwrap();
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), Some(seq_rows(991, 991).remove(0)));
    assert_eq!(run(&mut s, st, &[Value::Int(999)]), seq_rows(1000, 1000));
    // The batch already fetched is the cursor's own; the next one is gone with the server cursor.
    assert_eq!(s.fetchmany(cur, Some(3)).unwrap().unwrap(), seq_rows(992, 994));
    let e = s.fetchone(cur).unwrap().unwrap_err();
    assert_eq!(e.code, Some(1421), "ER_STMT_HAS_NO_OPEN_CURSOR: {e:?}");
    assert_eq!(scalar(&mut s, c, "SELECT 2"), Value::Int(2));
    // Closed with rows left on the server: COM_STMT_RESET frees them.
    let resets = status_n(&mut s, c, "Com_stmt_reset");
    let cur = s.stmt_open_cursor(st, &[Value::Int(0)], 10).unwrap().unwrap();
    assert_eq!(s.fetchmany(cur, Some(5)).unwrap().unwrap(), seq_rows(1, 5));
    s.close_cursor(cur).unwrap().unwrap();
    assert_eq!(status_n(&mut s, c, "Com_stmt_reset") - resets, 1);
    assert_eq!(run(&mut s, st, &[Value::Int(998)]), seq_rows(999, 1000));
}
