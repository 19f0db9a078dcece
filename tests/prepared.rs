//! Server-side prepared statements (COM_STMT_PREPARE / EXECUTE / SEND_LONG_DATA / RESET / CLOSE)
//! against the real MariaDB: the binary protocol gives the same values as the text protocol, its
//! parameters carry every type, and every failure is typed and leaves the connection usable.

use crate::common;

use common::*;
use host_test::driver::bindings::exports::cymysql::aio::types::{Date, Datetime, Time};
use host_test::driver::{Conn, ConnectOptions, ErrorKind, Params, ScrollMode, Session, Stmt, Value};

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
