//! PyMySQL's conveniences through the component: begin, kill, show_warnings, mogrify and the
//! connection information calls.

use crate::common;

use common::*;
use host_test::driver::{ErrorKind, Params, Value, Warning};

#[test]
fn mogrify_is_the_statement_execute_sends() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    let p = Params::Positional(vec![Value::Int(-3), text("it's"), Value::Bytes(vec![0xbf, 0x27]), Value::Null]);
    let sql = s.mogrify(cur, "SELECT %s, %s, %s, %s, '%%'", Some(&p)).unwrap().unwrap();
    assert_eq!(sql, "SELECT -3, 'it\\'s', X'BF27', NULL, '%'");
    // Without parameters nothing is processed, as in execute.
    assert_eq!(s.mogrify(cur, "SELECT '%s'", None).unwrap().unwrap(), "SELECT '%s'");
    // Running the mogrified text gives what execute with the parameters gives.
    s.execute(cur, &sql, None).unwrap().unwrap();
    let direct = s.fetchall(cur).unwrap().unwrap();
    s.execute(cur, "SELECT %s, %s, %s, %s, '%%'", Some(&p)).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), direct);
    // Under NO_BACKSLASH_ESCAPES quotes are doubled.
    exec(&mut s, c, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'");
    let sql = s.mogrify(cur, "SELECT %s", Some(&Params::Positional(vec![text("it's \\")]))).unwrap().unwrap();
    assert_eq!(sql, "SELECT 'it''s \\'");
    // A wrong parameter count is the same programming error as in execute.
    let e = s.mogrify(cur, "SELECT %s, %s", Some(&Params::Positional(vec![Value::Int(1)]))).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
}

#[test]
fn begin_starts_a_transaction_that_rollback_undoes() {
    let mut s = session();
    let c = connect(&mut s);
    s.autocommit(c, true).unwrap().unwrap();
    let t = fresh_table(&mut s, c, "conv_begin", "id INT PRIMARY KEY");
    s.begin(c).unwrap().unwrap();
    assert!(s.in_transaction(c).unwrap());
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES (1)"));
    s.rollback(c).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, &format!("SELECT COUNT(*) FROM {t}")), Value::Int(0));
}

#[test]
fn show_warnings_lists_the_last_statements_warnings() {
    let mut s = session();
    let c = connect(&mut s);
    exec(&mut s, c, "SELECT 1/0, CAST('x' AS INT)");
    let w = s.show_warnings(c).unwrap().unwrap();
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(w[0], Warning { level: "Warning".into(), code: 1365, message: "Division by 0".into() });
    assert_eq!((w[1].level.as_str(), w[1].code), ("Warning", 1292), "{w:?}");
    // A statement that uses a table starts a new list.
    let t = fresh_table(&mut s, c, "conv_warn", "id INT");
    exec(&mut s, c, &format!("SELECT * FROM {t}"));
    assert_eq!(s.show_warnings(c).unwrap().unwrap(), vec![]);
}

#[test]
fn kill_ends_another_session() {
    let mut s = session();
    let c = connect(&mut s);
    let victim = connect(&mut s);
    let id = s.thread_id(victim).unwrap();
    s.kill(c, u64::from(id)).unwrap().unwrap();
    assert!(wait_gone(id), "session {id} still listed");
    let cur = s.cursor(victim).unwrap();
    let e = exec_err(&mut s, cur, "SELECT 1");
    assert_eq!(e.kind, ErrorKind::Operational, "{e:?}");
    // An unknown thread is the server's ER_NO_SUCH_THREAD.
    let e = s.kill(c, u64::from(u32::MAX)).unwrap().unwrap_err();
    assert_eq!(e.code, Some(1094), "{e:?}");
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
}

#[test]
fn connection_information() {
    let mut s = session();
    let o = options(&mut s);
    let c = connect(&mut s);
    assert_eq!(s.get_host_info(c).unwrap(), format!("socket {}:{}", o.host, o.port));
    assert_eq!(s.get_proto_info(c).unwrap(), 10);
    let version = s.get_server_info(c).unwrap();
    assert_eq!(version, s.server_version(c).unwrap());
    assert_eq!(scalar(&mut s, c, "SELECT VERSION()"), text(&version));
    assert_eq!(s.character_set_name(c).unwrap(), "utf8mb4");
    s.set_charset(c, "latin1").unwrap().unwrap();
    assert_eq!(s.character_set_name(c).unwrap(), "latin1");
}
