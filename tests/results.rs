//! Results through the component: multi-statement batches and nextset, results nobody read,
//! executemany batching, row counts and insert ids, transactions, fetch semantics, unbuffered
//! and dict cursors, and cursor misuse.

use crate::common;

use common::*;
use host_test::driver::{Conn, ConnectOptions, Cur, ErrorKind, Params, Session, Value};

const CLIENT_MULTI_STATEMENTS: u32 = 1 << 16;

fn pos(values: Vec<Value>) -> Params {
    Params::Positional(values)
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

/// A value of the Sequence engine's `seq` column, which is BIGINT UNSIGNED.
fn seq(n: u64) -> Value {
    Value::Uint(n)
}

fn multi(s: &mut Session) -> Conn {
    let mut o = options(s);
    o.client_flag |= CLIENT_MULTI_STATEMENTS;
    s.connect(&o).unwrap().expect("connect with CLIENT_MULTI_STATEMENTS")
}

fn ok_rows(s: &mut Session, cur: Cur) -> Vec<Vec<Value>> {
    s.fetchall(cur).unwrap().unwrap()
}

/// A session status counter such as Com_insert.
fn status_counter(s: &mut Session, c: Conn, name: &str) -> u64 {
    let r = rows(s, c, &format!("SHOW SESSION STATUS LIKE '{name}'"));
    match r.as_slice() {
        [row] => match row.get(1) {
            Some(Value::Text(n)) => n.parse().unwrap(),
            other => panic!("{name}: {other:?}"),
        },
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn multi_statements_are_off_by_default() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT 1; SELECT 2");
    assert_kind(&e, ErrorKind::Programming, Some(1064));
    assert_eq!(e.sqlstate.as_deref(), Some("42000"));
    // The record carries code and SQLSTATE; the message is the server's words alone.
    assert!(e.message.starts_with("You have an error in your SQL syntax"), "{e:?}");
    // The same cursor and the connection carry on.
    assert_eq!(s.execute(cur, "SELECT 3", None).unwrap(), Ok(1));
    assert_eq!(ok_rows(&mut s, cur), vec![vec![int(3)]]);
    assert_eq!(s.nextset(cur).unwrap(), Ok(false));
    assert_eq!(scalar(&mut s, c, "SELECT 4"), int(4));
}

#[test]
fn nextset_walks_every_result() {
    let mut s = session();
    let c = multi(&mut s);
    let t = fresh_table(&mut s, c, "results_walk", "v INT");
    let cur = s.cursor(c).unwrap();
    let n = s
        .execute(
            cur,
            &format!(
                "SELECT 1; INSERT INTO {t} VALUES (10), (20), (30); SELECT 'a', 'b'; SELECT v FROM {t} ORDER BY v"
            ),
            None,
        )
        .unwrap()
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(s.rowcount(cur).unwrap(), 1);
    assert!(s.description(cur).unwrap().is_some());
    assert_eq!(ok_rows(&mut s, cur), vec![vec![int(1)]]);

    assert_eq!(s.nextset(cur).unwrap(), Ok(true));
    assert_eq!(s.rowcount(cur).unwrap(), 3, "the INSERT's affected rows");
    assert_eq!(s.description(cur).unwrap(), None);
    assert_eq!(ok_rows(&mut s, cur), Vec::<Vec<Value>>::new());

    assert_eq!(s.nextset(cur).unwrap(), Ok(true));
    assert_eq!(s.rowcount(cur).unwrap(), 1);
    let names: Vec<String> = s.description(cur).unwrap().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(ok_rows(&mut s, cur), vec![vec![text("a"), text("b")]]);

    assert_eq!(s.nextset(cur).unwrap(), Ok(true));
    assert_eq!(ok_rows(&mut s, cur), vec![vec![int(10)], vec![int(20)], vec![int(30)]]);

    assert_eq!(s.nextset(cur).unwrap(), Ok(false));
    assert_eq!(s.nextset(cur).unwrap(), Ok(false));
    assert_eq!(scalar(&mut s, c, "SELECT 'next'"), text("next"));
}

#[test]
fn nextset_on_an_unbuffered_cursor_skips_unread_rows() {
    let mut s = session();
    let c = multi(&mut s);
    let cur = s.ss_cursor(c).unwrap();
    s.execute(cur, "SELECT seq FROM seq_1_to_1000; SELECT 'second'", None).unwrap().unwrap();
    assert_eq!(s.fetchone(cur).unwrap(), Ok(Some(vec![seq(1)])));
    assert_eq!(s.nextset(cur).unwrap(), Ok(true));
    assert_eq!(s.fetchall(cur).unwrap(), Ok(vec![vec![text("second")]]));
    assert_eq!(s.nextset(cur).unwrap(), Ok(false));
    assert_eq!(scalar(&mut s, c, "SELECT 'after'"), text("after"));
}

#[test]
fn a_failed_statement_mid_batch_is_reported_by_nextset() {
    let mut s = session();
    let c = multi(&mut s);
    let cur = s.cursor(c).unwrap();
    assert_eq!(s.execute(cur, "SELECT 1; SELEKT 2; SELECT 3", None).unwrap(), Ok(1));
    assert_eq!(ok_rows(&mut s, cur), vec![vec![int(1)]]);
    let e = s.nextset(cur).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, Some(1064));
    // The server stops a batch at its first error: SELECT 3 never ran.
    assert_eq!(s.nextset(cur).unwrap(), Ok(false));
    assert!(s.is_open(c).unwrap());
    assert_eq!(s.execute(cur, "SELECT 'after'", None).unwrap(), Ok(1));
    assert_eq!(ok_rows(&mut s, cur), vec![vec![text("after")]]);
    assert_eq!(s.nextset(cur).unwrap(), Ok(false));
    let other = s.cursor(c).unwrap();
    assert_eq!(s.execute(other, "SELECT 'other'", None).unwrap(), Ok(1));
    assert_eq!(ok_rows(&mut s, other), vec![vec![text("other")]]);
}

#[test]
fn an_error_in_a_batch_nobody_walked_surfaces_once() {
    let mut s = session();
    let c = multi(&mut s);
    let first = s.cursor(c).unwrap();
    assert_eq!(s.execute(first, "SELECT 1; SELEKT 2", None).unwrap(), Ok(1));
    let other = s.cursor(c).unwrap();
    // As cymysql: the skipped statement's error is what the next command reports...
    let e = exec_err(&mut s, other, "SELECT 'mine'");
    assert_kind(&e, ErrorKind::Programming, Some(1064));
    // ...and after it the connection answers each query with its own result.
    assert_eq!(s.execute(other, "SELECT 'mine'", None).unwrap(), Ok(1));
    assert_eq!(ok_rows(&mut s, other), vec![vec![text("mine")]]);
    assert_eq!(s.nextset(first).unwrap(), Ok(false));
}

#[test]
fn unread_results_never_leak_into_the_next_query() {
    let mut s = session();
    let c = multi(&mut s);
    let t = fresh_table(&mut s, c, "results_unread", "v INT");
    let first = s.cursor(c).unwrap();
    s.execute(first, &format!("SELECT 'one'; INSERT INTO {t} VALUES (1); SELECT 'three'"), None).unwrap().unwrap();
    let second = s.cursor(c).unwrap();
    assert_eq!(s.execute(second, "SELECT 'mine'", None).unwrap(), Ok(1));
    assert_eq!(ok_rows(&mut s, second), vec![vec![text("mine")]]);
    assert_eq!(s.nextset(second).unwrap(), Ok(false));
    // The batch's results were consumed, not handed to anyone later; its statements did run.
    assert_eq!(s.nextset(first).unwrap(), Ok(false));
    assert_eq!(scalar(&mut s, c, &format!("SELECT COUNT(*) FROM {t}")), int(1));
    // The same on the cursor that ran the batch.
    s.execute(first, "SELECT 'a'; SELECT 'b'; SELECT 'c'", None).unwrap().unwrap();
    assert_eq!(s.execute(first, "SELECT 'again'", None).unwrap(), Ok(1));
    assert_eq!(ok_rows(&mut s, first), vec![vec![text("again")]]);
    assert_eq!(s.nextset(first).unwrap(), Ok(false));
}

#[test]
fn an_abandoned_unbuffered_result_never_leaks() {
    let mut s = session();
    let c = multi(&mut s);
    let ss = s.ss_cursor(c).unwrap();
    s.execute(ss, "SELECT seq FROM seq_1_to_50000", None).unwrap().unwrap();
    assert_eq!(s.fetchmany(ss, Some(3)).unwrap(), Ok(vec![vec![seq(1)], vec![seq(2)], vec![seq(3)]]));
    let other = s.cursor(c).unwrap();
    assert_eq!(s.execute(other, "SELECT 'mine'", None).unwrap(), Ok(1));
    assert_eq!(ok_rows(&mut s, other), vec![vec![text("mine")]]);
    // The abandoned cursor's rows were discarded, never mixed into anything else.
    assert_eq!(s.fetchone(ss).unwrap(), Ok(None));

    // Abandoned mid-result inside a batch, then reused.
    s.execute(ss, "SELECT seq FROM seq_1_to_50000; SELECT 'tail'", None).unwrap().unwrap();
    assert_eq!(s.fetchone(ss).unwrap(), Ok(Some(vec![seq(1)])));
    assert_eq!(s.execute(ss, "SELECT 'reused'", None).unwrap().map(|_| ()), Ok(()));
    assert_eq!(s.fetchall(ss).unwrap(), Ok(vec![vec![text("reused")]]));
    assert_eq!(s.nextset(ss).unwrap(), Ok(false));

    // Closing an unbuffered cursor mid-result leaves the connection in step.
    let ss2 = s.ss_cursor(c).unwrap();
    s.execute(ss2, "SELECT seq FROM seq_1_to_50000", None).unwrap().unwrap();
    assert_eq!(s.fetchone(ss2).unwrap(), Ok(Some(vec![seq(1)])));
    s.close_cursor(ss2).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT 'clean'"), text("clean"));
}

#[test]
fn executemany_batches_inserts() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "results_many", "a INT PRIMARY KEY, b VARCHAR(40)");
    let seq: Vec<Params> = (0..1000).map(|i| pos(vec![int(i), text(&format!("row '{i}' \\"))])).collect();
    let before = status_counter(&mut s, c, "Com_insert");
    let cur = s.cursor(c).unwrap();
    assert_eq!(s.executemany(cur, &format!("INSERT INTO {t} (a, b) VALUES (%s, %s)"), &seq).unwrap(), Ok(1000));
    assert_eq!(s.rowcount(cur).unwrap(), 1000);
    let statements = status_counter(&mut s, c, "Com_insert") - before;
    assert!((1..=5).contains(&statements), "1000 rows took {statements} INSERT statements");
    assert_eq!(
        rows(&mut s, c, &format!("SELECT COUNT(*), SUM(a), MIN(b), MAX(b) FROM {t}")),
        vec![vec![int(1000), Value::Decimal("499500".into()), text("row '0' \\"), text("row '999' \\")]]
    );
    // An empty sequence does nothing.
    assert_eq!(s.executemany(cur, &format!("INSERT INTO {t} (a, b) VALUES (%s, %s)"), &[]).unwrap(), Ok(0));
    assert_eq!(scalar(&mut s, c, &format!("SELECT COUNT(*) FROM {t}")), int(1000));
}

#[test]
fn executemany_batches_named_parameters_and_fails_cleanly() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "results_many_named", "a INT PRIMARY KEY, b VARCHAR(10)");
    let named = |a: i64, b: &str| Params::Named(vec![("b".into(), text(b)), ("a".into(), int(a))]);
    let before = status_counter(&mut s, c, "Com_insert");
    let cur = s.cursor(c).unwrap();
    let sql = format!("INSERT INTO {t} (a, b) VALUES (%(a)s, %(b)s)");
    assert_eq!(s.executemany(cur, &sql, &[named(1, "x"), named(2, "y'"), named(3, "z\\")]).unwrap(), Ok(3));
    assert_eq!(status_counter(&mut s, c, "Com_insert") - before, 1, "sent as one statement");
    assert_eq!(
        rows(&mut s, c, &format!("SELECT a, b FROM {t} ORDER BY a")),
        vec![vec![int(1), text("x")], vec![int(2), text("y'")], vec![int(3), text("z\\")]]
    );

    // A parameter set that does not fit the placeholders is refused before anything is sent.
    let bad = vec![pos(vec![int(10), text("ok")]), pos(vec![int(11)]), pos(vec![int(12), text("ok")])];
    let e = s.executemany(cur, &format!("INSERT INTO {t} (a, b) VALUES (%s, %s)"), &bad).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    assert_eq!(scalar(&mut s, c, &format!("SELECT COUNT(*) FROM {t}")), int(3));

    // A server error in the batch is reported, the statement has no effect, and the connection carries on.
    let dup = vec![pos(vec![int(20), text("new")]), pos(vec![int(1), text("dup")])];
    let e = s.executemany(cur, &format!("INSERT INTO {t} (a, b) VALUES (%s, %s)"), &dup).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Integrity, Some(1062));
    assert_eq!(scalar(&mut s, c, &format!("SELECT COUNT(*) FROM {t}")), int(3));
    assert!(s.is_open(c).unwrap());
}

/// Restores the server-wide max_allowed_packet even when the test fails.
struct RestoreMaxAllowedPacket;

impl Drop for RestoreMaxAllowedPacket {
    fn drop(&mut self) {
        let mut s = session();
        let c = connect(&mut s);
        exec(&mut s, c, "SET GLOBAL max_allowed_packet = 268435456");
    }
}

#[test]
fn executemany_splits_batches_at_max_allowed_packet() {
    let mut s = session();
    let admin = connect(&mut s);
    let _restore = RestoreMaxAllowedPacket;
    exec(&mut s, admin, "SET GLOBAL max_allowed_packet = 1048576");
    // The session value is taken from the global one at connect.
    let c = connect(&mut s);
    assert_eq!(scalar(&mut s, c, "SELECT @@SESSION.max_allowed_packet"), Value::Uint(1_048_576));
    let t = fresh_table(&mut s, c, "results_split", "id INT PRIMARY KEY, v MEDIUMTEXT");
    // 50 KiB per row; quotes and backslashes make the escaped literal bigger still.
    let values: Vec<String> = (0..100).map(|i| format!("{i:03}'\\").repeat(50 * 1024 / 5)).collect();
    assert_eq!(values[0].len(), 51_200);
    let seq: Vec<Params> = values.iter().enumerate().map(|(i, v)| pos(vec![int(i as i64), text(v)])).collect();
    let before = status_counter(&mut s, c, "Com_insert");
    let cur = s.cursor(c).unwrap();
    let n = s.executemany(cur, &format!("INSERT INTO {t} (id, v) VALUES (%s, %s)"), &seq).unwrap();
    assert_eq!(n, Ok(100));
    let statements = status_counter(&mut s, c, "Com_insert") - before;
    // About 7.5 MiB of literals in statements of at most 1 MiB.
    assert!((8..100).contains(&statements), "100 rows took {statements} INSERT statements");
    let stored = rows(&mut s, c, &format!("SELECT id, v FROM {t} ORDER BY id"));
    assert_eq!(stored.len(), 100);
    for (i, row) in stored.iter().enumerate() {
        assert!(*row == vec![int(i as i64), text(&values[i])], "row {i} differs");
    }
}

#[test]
fn executemany_with_on_duplicate_key_update() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "results_upsert", "k INT PRIMARY KEY, v VARCHAR(10)");
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES (1, 'a'), (2, 'b')"));
    let before = status_counter(&mut s, c, "Com_insert");
    let cur = s.cursor(c).unwrap();
    let seq = vec![pos(vec![int(1), text("x")]), pos(vec![int(3), text("z")]), pos(vec![int(2), text("b")])];
    let n = s
        .executemany(
            cur,
            &format!("INSERT INTO {t} (k, v) VALUES (%s, %s) ON DUPLICATE KEY UPDATE v = VALUES(v)"),
            &seq,
        )
        .unwrap();
    // An updated row counts 2, an inserted one 1, an unchanged one 0.
    assert_eq!(n, Ok(3));
    assert_eq!(status_counter(&mut s, c, "Com_insert") - before, 1, "sent as one statement");
    assert_eq!(
        rows(&mut s, c, &format!("SELECT k, v FROM {t} ORDER BY k")),
        vec![vec![int(1), text("x")], vec![int(2), text("b")], vec![int(3), text("z")]]
    );
}

#[test]
fn executemany_on_update_runs_each_and_sums_affected_rows() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "results_update_many", "k INT PRIMARY KEY, grp INT, v VARCHAR(10)");
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES (1, 1, ''), (2, 1, ''), (3, 2, ''), (4, 2, ''), (5, 2, '')"));
    let before = status_counter(&mut s, c, "Com_update");
    let cur = s.cursor(c).unwrap();
    let seq = vec![pos(vec![text("x"), int(1)]), pos(vec![text("y"), int(2)]), pos(vec![text("z"), int(9)])];
    let n = s.executemany(cur, &format!("UPDATE {t} SET v = %s WHERE grp = %s"), &seq).unwrap();
    assert_eq!(n, Ok(5));
    assert_eq!(s.rowcount(cur).unwrap(), 5);
    assert_eq!(status_counter(&mut s, c, "Com_update") - before, 3, "one UPDATE per parameter set");
    assert_eq!(
        rows(&mut s, c, &format!("SELECT v, COUNT(*) FROM {t} GROUP BY v ORDER BY v")),
        vec![vec![text("x"), int(2)], vec![text("y"), int(3)]]
    );
}

#[test]
fn rowcount_for_select_and_update() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    assert_eq!(s.rowcount(cur).unwrap(), -1, "not executed");
    assert_eq!(s.execute(cur, "SELECT seq FROM seq_1_to_7", None).unwrap(), Ok(7));
    assert_eq!(s.rowcount(cur).unwrap(), 7);
    assert_eq!(s.execute(cur, "SELECT 1 FROM DUAL WHERE 0", None).unwrap(), Ok(0));
    assert_eq!(s.rowcount(cur).unwrap(), 0);
    let t = fresh_table(&mut s, c, "results_rowcount", "k INT PRIMARY KEY, v INT");
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES (1, 0), (2, 0), (3, 5)"));
    assert_eq!(s.execute(cur, &format!("UPDATE {t} SET v = 5"), None).unwrap(), Ok(2));
    assert_eq!(s.rowcount(cur).unwrap(), 2, "rows changed, not rows matched");
    assert_eq!(s.affected_rows(c).unwrap(), 2);
    assert_eq!(s.execute(cur, &format!("DELETE FROM {t} WHERE k > 1"), None).unwrap(), Ok(2));
    assert_eq!(s.rowcount(cur).unwrap(), 2);
    // An unbuffered cursor does not know its count until the rows are read.
    let ss = s.ss_cursor(c).unwrap();
    s.execute(ss, "SELECT seq FROM seq_1_to_7", None).unwrap().unwrap();
    assert_eq!(s.rowcount(ss).unwrap(), -1);
}

#[test]
fn lastrowid_and_insert_id() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "results_autoinc", "id INT AUTO_INCREMENT PRIMARY KEY, v INT");
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("INSERT INTO {t} (v) VALUES (%s)"), Some(&pos(vec![int(1)]))).unwrap().unwrap();
    assert_eq!(s.lastrowid(cur).unwrap(), Some(1));
    assert_eq!(s.insert_id(c).unwrap(), 1);
    s.execute(cur, &format!("INSERT INTO {t} (v) VALUES (2), (3), (4)"), None).unwrap().unwrap();
    // A multi-row INSERT reports the first id it generated.
    assert_eq!(s.lastrowid(cur).unwrap(), Some(2));
    assert_eq!(s.insert_id(c).unwrap(), 2);
    assert_eq!(scalar(&mut s, c, "SELECT LAST_INSERT_ID()"), Value::Uint(2));

    exec(&mut s, c, "DROP TABLE IF EXISTS results_autoinc_u64");
    exec(
        &mut s,
        c,
        "CREATE TABLE results_autoinc_u64 (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, v INT) \
         AUTO_INCREMENT = 18446744073709551614",
    );
    s.execute(cur, "INSERT INTO results_autoinc_u64 (v) VALUES (1)", None).unwrap().unwrap();
    assert_eq!(s.lastrowid(cur).unwrap(), Some(18_446_744_073_709_551_614));
    assert_eq!(s.insert_id(c).unwrap(), 18_446_744_073_709_551_614);
    assert_eq!(scalar(&mut s, c, "SELECT id FROM results_autoinc_u64"), Value::Uint(18_446_744_073_709_551_614));
    // A SELECT has no insert id.
    s.execute(cur, "SELECT 1", None).unwrap().unwrap();
    assert_eq!(s.lastrowid(cur).unwrap(), None);
}

#[test]
fn affected_rows_and_warning_count_on_the_connection() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "results_counts", "k INT PRIMARY KEY, v INT");
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("INSERT INTO {t} VALUES (1, 0), (2, 0), (3, 0)"), None).unwrap().unwrap();
    assert_eq!(s.affected_rows(c).unwrap(), 3);
    assert_eq!(s.warning_count(c).unwrap(), 0);
    // A duplicate key under IGNORE is a warning, not an error.
    assert_eq!(s.execute(cur, &format!("INSERT IGNORE INTO {t} VALUES (1, 9), (4, 9)"), None).unwrap(), Ok(1));
    assert_eq!(s.affected_rows(c).unwrap(), 1);
    assert_eq!(s.warning_count(c).unwrap(), 1);
    assert_eq!(rows(&mut s, c, "SHOW WARNINGS").len(), 1);
    // A SELECT's warnings arrive at the end of its rows.
    s.execute(cur, "SELECT CAST('12abc' AS SIGNED), CAST('x' AS SIGNED)", None).unwrap().unwrap();
    assert_eq!(ok_rows(&mut s, cur), vec![vec![int(12), int(0)]]);
    assert_eq!(s.warning_count(c).unwrap(), 2);
    s.execute(cur, &format!("UPDATE {t} SET v = v + 1 WHERE k <= 2"), None).unwrap().unwrap();
    assert_eq!(s.affected_rows(c).unwrap(), 2);
    assert_eq!(s.warning_count(c).unwrap(), 0);
}

#[test]
fn in_transaction_follows_the_server_status() {
    let mut s = session();
    let c = connect(&mut s);
    assert!(!s.get_autocommit(c).unwrap());
    let t = fresh_table(&mut s, c, "results_trx", "k INT PRIMARY KEY, v INT");
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES (1, 0)"));
    s.commit(c).unwrap().unwrap();
    assert!(!s.in_transaction(c).unwrap());
    exec(&mut s, c, &format!("UPDATE {t} SET v = 1"));
    assert!(s.in_transaction(c).unwrap());
    s.commit(c).unwrap().unwrap();
    assert!(!s.in_transaction(c).unwrap());
    exec(&mut s, c, &format!("UPDATE {t} SET v = 2"));
    assert!(s.in_transaction(c).unwrap());
    s.rollback(c).unwrap().unwrap();
    assert!(!s.in_transaction(c).unwrap());
    // With autocommit on, each statement is its own transaction.
    s.autocommit(c, true).unwrap().unwrap();
    exec(&mut s, c, &format!("UPDATE {t} SET v = 3"));
    assert!(!s.in_transaction(c).unwrap());
    exec(&mut s, c, "BEGIN");
    assert!(s.in_transaction(c).unwrap());
    s.commit(c).unwrap().unwrap();
    assert!(!s.in_transaction(c).unwrap());
}

#[test]
fn commit_persists_and_rollback_discards() {
    let mut s = session();
    let writer = connect(&mut s);
    let t = fresh_table(&mut s, writer, "results_commit", "k INT PRIMARY KEY");
    s.commit(writer).unwrap().unwrap();
    let reader = connect(&mut s);
    // Autocommit on, so every read sees the latest committed data.
    s.autocommit(reader, true).unwrap().unwrap();
    let count = |s: &mut Session, c: Conn| scalar(s, c, &format!("SELECT COUNT(*) FROM {t}"));

    exec(&mut s, writer, &format!("INSERT INTO {t} VALUES (1)"));
    assert_eq!(count(&mut s, writer), int(1));
    assert_eq!(count(&mut s, reader), int(0), "uncommitted rows are invisible to others");
    s.commit(writer).unwrap().unwrap();
    assert_eq!(count(&mut s, reader), int(1));

    exec(&mut s, writer, &format!("INSERT INTO {t} VALUES (2)"));
    assert_eq!(count(&mut s, writer), int(2));
    s.rollback(writer).unwrap().unwrap();
    assert_eq!(count(&mut s, writer), int(1));
    assert_eq!(count(&mut s, reader), int(1));

    // Closing without commit discards too.
    exec(&mut s, writer, &format!("INSERT INTO {t} VALUES (3)"));
    s.close(writer).unwrap().unwrap();
    assert_eq!(rows(&mut s, reader, &format!("SELECT k FROM {t}")), vec![vec![int(1)]]);
}

fn check_fetch_semantics(s: &mut Session, cur: Cur) {
    assert_eq!(s.arraysize(cur).unwrap(), 1, "PEP 249 default");
    s.execute(cur, "SELECT seq FROM seq_1_to_6", None).unwrap().unwrap();
    assert_eq!(s.fetchmany(cur, None).unwrap(), Ok(vec![vec![seq(1)]]), "arraysize rows");
    assert_eq!(s.fetchone(cur).unwrap(), Ok(Some(vec![seq(2)])));
    s.set_arraysize(cur, 2).unwrap();
    assert_eq!(s.arraysize(cur).unwrap(), 2);
    assert_eq!(s.fetchmany(cur, None).unwrap(), Ok(vec![vec![seq(3)], vec![seq(4)]]));
    assert_eq!(s.fetchmany(cur, Some(1)).unwrap(), Ok(vec![vec![seq(5)]]));
    assert_eq!(s.fetchmany(cur, Some(10)).unwrap(), Ok(vec![vec![seq(6)]]));
    assert_eq!(s.fetchmany(cur, Some(10)).unwrap(), Ok(vec![]));
    assert_eq!(s.fetchmany(cur, None).unwrap(), Ok(vec![]));
    assert_eq!(s.fetchone(cur).unwrap(), Ok(None));
    assert_eq!(s.fetchall(cur).unwrap(), Ok(vec![]));
    assert_eq!(s.rowcount(cur).unwrap(), 6, "every row read, so the count is known");

    s.execute(cur, "SELECT seq FROM seq_1_to_4", None).unwrap().unwrap();
    assert_eq!(s.fetchone(cur).unwrap(), Ok(Some(vec![seq(1)])));
    assert_eq!(s.fetchall(cur).unwrap(), Ok(vec![vec![seq(2)], vec![seq(3)], vec![seq(4)]]));
    assert_eq!(s.fetchall(cur).unwrap(), Ok(vec![]));
    assert_eq!(s.fetchone(cur).unwrap(), Ok(None));

    // A statement without a result set has no rows to fetch.
    s.execute(cur, "DO 1", None).unwrap().unwrap();
    assert_eq!(s.fetchone(cur).unwrap(), Ok(None));
    assert_eq!(s.fetchall(cur).unwrap(), Ok(vec![]));
}

#[test]
fn fetch_semantics_buffered() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    check_fetch_semantics(&mut s, cur);
}

#[test]
fn fetch_semantics_unbuffered() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.ss_cursor(c).unwrap();
    check_fetch_semantics(&mut s, cur);
}

#[test]
fn unbuffered_cursor_streams_many_rows() {
    let mut s = session();
    let c = connect(&mut s);
    let ss = s.ss_cursor(c).unwrap();
    s.execute(ss, "SELECT seq, CONCAT('row-', seq) FROM seq_1_to_100000", None).unwrap().unwrap();
    assert_eq!(s.rowcount(ss).unwrap(), -1, "unknown until read");
    let (mut count, mut sum, mut batches) = (0u64, 0u64, 0u32);
    loop {
        let batch = s.fetchmany(ss, Some(1000)).unwrap().unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() == 1000 || count + batch.len() as u64 == 100_000, "batch of {}", batch.len());
        for row in batch {
            count += 1;
            let Value::Uint(n) = row[0] else { panic!("{row:?}") };
            assert_eq!(n, count, "rows arrive in order");
            assert_eq!(row[1], text(&format!("row-{n}")));
            sum += n;
        }
        batches += 1;
    }
    assert_eq!(count, 100_000);
    assert_eq!(sum, 5_000_050_000);
    assert_eq!(batches, 100);
    assert_eq!(s.fetchone(ss).unwrap(), Ok(None));
    assert_eq!(s.rowcount(ss).unwrap(), 100_000, "known once every row was read");
    assert_eq!(scalar(&mut s, c, "SELECT 'after'"), text("after"));
}

fn keys(row: &[(String, Value)]) -> Vec<&str> {
    row.iter().map(|(k, _)| k.as_str()).collect()
}

#[test]
fn dict_cursor_keys_rows_by_column_name() {
    let mut s = session();
    let c = connect(&mut s);
    let a = fresh_table(&mut s, c, "results_dict_a", "id INT PRIMARY KEY, name VARCHAR(10)");
    let b = fresh_table(&mut s, c, "results_dict_b", "id INT PRIMARY KEY, a_id INT");
    exec(&mut s, c, &format!("INSERT INTO {a} VALUES (1, 'one'), (2, 'two')"));
    exec(&mut s, c, &format!("INSERT INTO {b} VALUES (10, 1), (20, 2)"));
    let d = s.dict_cursor(c).unwrap();

    assert_eq!(s.dict_execute(d, &format!("SELECT name, id FROM {a} ORDER BY id"), None).unwrap(), Ok(2));
    assert_eq!(s.dict_rowcount(d).unwrap(), 2);
    let first = s.dict_fetchone(d).unwrap().unwrap().unwrap();
    assert_eq!(first, vec![("name".to_string(), text("one")), ("id".to_string(), int(1))]);
    let rest = s.dict_fetchall(d).unwrap().unwrap();
    assert_eq!(rest, vec![vec![("name".to_string(), text("two")), ("id".to_string(), int(2))]]);
    assert_eq!(s.dict_fetchone(d).unwrap(), Ok(None));

    // A repeated name takes `table.name`, the table as the query names it.
    let sql = format!("SELECT x.id, y.id, x.id FROM {a} x JOIN {b} y ON y.a_id = x.id ORDER BY x.id");
    s.dict_execute(d, &sql, None).unwrap().unwrap();
    let all = s.dict_fetchall(d).unwrap().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(keys(&all[0]), ["id", "y.id", "x.id"]);
    assert_eq!(all[0].iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(), vec![int(1), int(10), int(1)]);

    // Without a table, the column's position tells them apart.
    s.dict_execute(d, "SELECT 1 AS x, 2 AS x, 3 AS x", None).unwrap().unwrap();
    let row = s.dict_fetchone(d).unwrap().unwrap().unwrap();
    assert_eq!(row, vec![("x".to_string(), int(1)), ("x#2".to_string(), int(2)), ("x#3".to_string(), int(3))]);

    // fetchmany, and keys that follow each result of a batch.
    s.dict_execute(d, &format!("SELECT id FROM {b} ORDER BY id"), None).unwrap().unwrap();
    let some = s.dict_fetchmany(d, Some(5)).unwrap().unwrap();
    assert_eq!(some, vec![vec![("id".to_string(), int(10))], vec![("id".to_string(), int(20))]]);

    let mc = multi(&mut s);
    let md = s.dict_cursor(mc).unwrap();
    s.dict_execute(md, "SELECT 1 AS first; SELECT 2 AS second", None).unwrap().unwrap();
    assert_eq!(s.dict_fetchall(md).unwrap(), Ok(vec![vec![("first".to_string(), int(1))]]));
    assert_eq!(s.dict_nextset(md).unwrap(), Ok(true));
    assert_eq!(s.dict_fetchall(md).unwrap(), Ok(vec![vec![("second".to_string(), int(2))]]));
    assert_eq!(s.dict_nextset(md).unwrap(), Ok(false));
}

#[test]
fn a_closed_cursor_is_an_interface_error() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    s.execute(cur, "SELECT 1", None).unwrap().unwrap();
    s.close_cursor(cur).unwrap().unwrap();
    assert_kind(&exec_err(&mut s, cur, "SELECT 1"), ErrorKind::Interface, None);
    assert_kind(&s.fetchone(cur).unwrap().unwrap_err(), ErrorKind::Interface, None);
    assert_kind(&s.fetchmany(cur, None).unwrap().unwrap_err(), ErrorKind::Interface, None);
    assert_kind(&s.fetchall(cur).unwrap().unwrap_err(), ErrorKind::Interface, None);
    assert_kind(&s.nextset(cur).unwrap().unwrap_err(), ErrorKind::Interface, None);
    assert_kind(
        &s.executemany(cur, "SELECT %s", &[pos(vec![int(1)])]).unwrap().unwrap_err(),
        ErrorKind::Interface,
        None,
    );
    // Closing twice is harmless, and the connection is unaffected.
    assert_eq!(s.close_cursor(cur).unwrap(), Ok(()));
    assert_eq!(scalar(&mut s, c, "SELECT 2"), int(2));
}

#[test]
fn fetch_before_execute_is_a_programming_error() {
    let mut s = session();
    let c = connect(&mut s);
    for cur in [s.cursor(c).unwrap(), s.ss_cursor(c).unwrap()] {
        assert_kind(&s.fetchone(cur).unwrap().unwrap_err(), ErrorKind::Programming, None);
        assert_kind(&s.fetchmany(cur, Some(2)).unwrap().unwrap_err(), ErrorKind::Programming, None);
        assert_kind(&s.fetchall(cur).unwrap().unwrap_err(), ErrorKind::Programming, None);
        assert_kind(&s.nextset(cur).unwrap().unwrap_err(), ErrorKind::Programming, None);
    }
    let d = s.dict_cursor(c).unwrap();
    assert_kind(&s.dict_fetchone(d).unwrap().unwrap_err(), ErrorKind::Programming, None);
}

#[test]
fn description_is_none_without_a_result_set() {
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(&mut s, c, "results_descr", "id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, note TEXT");
    let cur = s.cursor(c).unwrap();
    assert_eq!(s.description(cur).unwrap(), None, "not executed");
    s.execute(cur, &format!("INSERT INTO {t} VALUES (1, 'a', NULL)"), None).unwrap().unwrap();
    assert_eq!(s.description(cur).unwrap(), None);
    s.execute(cur, &format!("SELECT id, name AS label, note FROM {t}"), None).unwrap().unwrap();
    let d = s.description(cur).unwrap().expect("a SELECT has columns");
    let summary: Vec<(&str, &str, &str, bool)> =
        d.iter().map(|c| (c.name.as_str(), c.org_name.as_str(), c.table.as_str(), c.nullable)).collect();
    assert_eq!(
        summary,
        [("id", "id", t.as_str(), false), ("label", "name", t.as_str(), false), ("note", "note", t.as_str(), true)]
    );
    assert_eq!(d[0].type_code, 3, "MYSQL_TYPE_LONG");
    assert_eq!(d[0].schema, "test");
    s.execute(cur, &format!("UPDATE {t} SET name = 'b'"), None).unwrap().unwrap();
    assert_eq!(s.description(cur).unwrap(), None);
}

/// `fetch-columns`: a result column by column, each in the form its type gives (integers, unsigned,
/// doubles, text as the text protocol writes it, bytes), NULLs in a bitmap; written out here by
/// hand, not derived from the driver's own row values.
#[test]
fn fetch_columns_gives_each_column_as_one_list() {
    use host_test::driver::{ColumnData, VarLen};
    let mut s = session();
    let c = connect(&mut s);
    let t = fresh_table(
        &mut s,
        c,
        "fetch_columns",
        "id INT, u BIGINT UNSIGNED, d DOUBLE, amount DECIMAL(6,2), name VARCHAR(20), bin VARBINARY(8), \
         ts DATETIME(3), tm TIME, st SET('a','b'), y YEAR, b BIT(4)",
    );
    exec(
        &mut s,
        c,
        &format!(
            "INSERT INTO {t} VALUES \
             (1, 18446744073709551615, -1.5, 12.50, 'Zoë', x'00ff', '2024-02-29 23:59:59.12', '-838:59:59', 'a,b', 2155, b'1010'), \
             (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), \
             (3, 0, 0, -0.01, '', '', '2000-01-01 00:00:00', '00:00:01', '', 1901, b'0000')"
        ),
    );
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("SELECT * FROM {t} ORDER BY id"), None).unwrap().unwrap();
    let batch = s.fetch_columns(cur, None).unwrap().unwrap();
    // An unbuffered cursor builds the batch straight from the row packets, not from values: the
    // same columns either way.
    let ss = s.ss_cursor(c).unwrap();
    s.execute(ss, &format!("SELECT * FROM {t} ORDER BY id"), None).unwrap().unwrap();
    assert_eq!(s.fetch_columns(ss, None).unwrap().unwrap(), batch);
    assert_eq!(s.rowcount(ss).unwrap(), 3);
    assert_eq!(batch.rows, 3);
    let var = |ends: &[u32], data: &[u8]| VarLen { ends: ends.to_vec(), data: data.to_vec() };
    let expected = [
        ColumnData::Int(vec![1, 2, 3]),
        ColumnData::Uint(vec![u64::MAX, 0, 0]),
        ColumnData::Double(vec![-1.5, 0.0, 0.0]),
        ColumnData::Text(var(&[5, 5, 10], b"12.50-0.01")),
        ColumnData::Text(var(&[4, 4, 4], "Zoë".as_bytes())),
        ColumnData::Bytes(var(&[2, 2, 2], b"\x00\xff")),
        ColumnData::Text(var(&[23, 23, 46], b"2024-02-29 23:59:59.1202000-01-01 00:00:00.000")),
        ColumnData::Text(var(&[10, 10, 18], b"-838:59:5900:00:01")),
        ColumnData::Text(var(&[3, 3, 3], b"a,b")),
        ColumnData::Int(vec![2155, 0, 1901]),
        ColumnData::Uint(vec![0b1010, 0, 0]),
    ];
    assert_eq!(batch.columns.len(), expected.len());
    for (i, (got, want)) in batch.columns.iter().zip(&expected).enumerate() {
        assert_eq!(&got.data, want, "column {i}");
        // Row 2 (bit 1) is NULL everywhere but in id.
        assert_eq!(got.nulls, if i == 0 { [0] } else { [0b010] }, "column {i}");
    }
    // Everything was taken: the next batch is empty, as fetchall would be.
    let empty = s.fetch_columns(cur, None).unwrap().unwrap();
    assert_eq!((empty.rows, empty.columns.len()), (0, expected.len()));
}

/// On an unbuffered cursor `fetch-columns` takes `size` rows at a time from the server, as
/// fetchmany does, and an error leaves the connection usable.
#[test]
fn fetch_columns_in_batches_from_an_unbuffered_cursor() {
    use host_test::driver::ColumnData;
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.ss_cursor(c).unwrap();
    s.execute(cur, "SELECT seq, CONCAT('n', seq) FROM seq_1_to_2500", None).unwrap().unwrap();
    let mut seen = Vec::new();
    let mut text_bytes = 0;
    loop {
        let b = s.fetch_columns(cur, Some(1000)).unwrap().unwrap();
        if b.rows == 0 {
            break;
        }
        match (&b.columns[0].data, &b.columns[1].data) {
            (ColumnData::Uint(ids), ColumnData::Text(names)) => {
                assert_eq!((ids.len(), names.ends.len()), (b.rows as usize, b.rows as usize));
                let first = names.ends.first().copied().unwrap_or(0) as usize;
                assert_eq!(&names.data[..first], format!("n{}", ids[0]).as_bytes());
                text_bytes += names.data.len();
                seen.extend_from_slice(ids);
            }
            other => panic!("unexpected forms {other:?}"),
        }
    }
    assert_eq!(seen, (1..=2500).collect::<Vec<u64>>());
    // "n1".."n9" is 2 bytes each, then 3, 4 and 5 bytes: the text is all there.
    assert_eq!(text_bytes, 9 * 2 + 90 * 3 + 900 * 4 + 1501 * 5);
    let never_executed = s.cursor(c).unwrap();
    let e = s.fetch_columns(never_executed, None).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    assert_eq!(scalar(&mut s, c, "SELECT 41 + 1"), Value::Int(42));
}

/// A column batch counts against `max_result_bytes` as rows do: past it, the result is dropped
/// with CR_OUT_OF_MEMORY and the connection goes on; a batch within it comes whole.
#[test]
fn fetch_columns_is_bounded_by_max_result_bytes() {
    let mut s = session();
    let o = ConnectOptions { max_result_bytes: 64 * 1024, ..options(&mut s) };
    let c = s.connect(&o).unwrap().unwrap();
    let cur = s.ss_cursor(c).unwrap();
    s.execute(cur, "SELECT seq, REPEAT('x', 100) FROM seq_1_to_5000", None).unwrap().unwrap();
    let e = s.fetch_columns(cur, None).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(2008));
    assert_eq!(scalar(&mut s, c, "SELECT 41 + 1"), Value::Int(42));
    s.execute(cur, "SELECT seq, REPEAT('x', 100) FROM seq_1_to_5000", None).unwrap().unwrap();
    let b = s.fetch_columns(cur, Some(100)).unwrap().unwrap();
    assert_eq!(b.rows, 100);
}
