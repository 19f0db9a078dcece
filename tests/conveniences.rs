//! PyMySQL's conveniences through the component: begin, kill, show_warnings, mogrify, the
//! connection information calls, rownumber, scroll, cursorclass and the PEP 249 no-ops.

use crate::common;

use common::*;
use host_test::driver::{AnyCur, ConnectOptions, CursorClass, ErrorKind, Params, ScrollMode, Value, Warning};

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

/// `SELECT seq FROM seq_1_to_5`: five rows, 1 to 5.
const FIVE: &str = "SELECT seq FROM seq_1_to_5";

fn seq(n: u64) -> Vec<Value> {
    vec![Value::Uint(n)]
}

#[test]
fn rownumber_follows_fetchone_fetchmany_scroll_and_fetchall() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    // None before the first execute.
    assert_eq!(s.rownumber(cur).unwrap(), None);
    s.execute(cur, FIVE, None).unwrap().unwrap();
    assert_eq!(s.rownumber(cur).unwrap(), Some(0));
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), Some(seq(1)));
    assert_eq!(s.rownumber(cur).unwrap(), Some(1));
    assert_eq!(s.fetchmany(cur, Some(2)).unwrap().unwrap(), vec![seq(2), seq(3)]);
    assert_eq!(s.rownumber(cur).unwrap(), Some(3));
    // Back over rows already fetched, then forward again: the rows are still there.
    s.scroll(cur, -2, ScrollMode::Relative).unwrap().unwrap();
    assert_eq!(s.rownumber(cur).unwrap(), Some(1));
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), Some(seq(2)));
    s.scroll(cur, 4, ScrollMode::Absolute).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![seq(5)]);
    assert_eq!(s.rownumber(cur).unwrap(), Some(5));
    s.scroll(cur, 0, ScrollMode::Absolute).unwrap().unwrap();
    assert_eq!(s.fetchmany(cur, Some(10)).unwrap().unwrap(), vec![seq(1), seq(2), seq(3), seq(4)]);
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), None);
    assert_eq!(s.rownumber(cur).unwrap(), Some(4));
    // A statement without a result set starts at 0 too (PyMySQL's rule).
    s.execute(cur, "DO 1", None).unwrap().unwrap();
    assert_eq!(s.rownumber(cur).unwrap(), Some(0));
    // The dict cursor keeps its own count.
    let d = s.dict_cursor(c).unwrap();
    assert_eq!(s.dict_rownumber(d).unwrap(), None);
    s.dict_execute(d, FIVE, None).unwrap().unwrap();
    s.dict_scroll(d, 3, ScrollMode::Relative).unwrap().unwrap();
    assert_eq!(s.dict_fetchone(d).unwrap().unwrap(), Some(vec![("seq".to_string(), Value::Uint(4))]));
    assert_eq!(s.dict_rownumber(d).unwrap(), Some(4));
}

#[test]
fn scroll_out_of_range_is_a_programming_error_and_the_cursor_stays_put() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    // Before execute: the usual programming error.
    let e = s.scroll(cur, 0, ScrollMode::Absolute).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    s.execute(cur, FIVE, None).unwrap().unwrap();
    s.fetchone(cur).unwrap().unwrap();
    for (value, mode) in [
        (-2, ScrollMode::Relative),
        (4, ScrollMode::Relative),
        (5, ScrollMode::Absolute),
        (-1, ScrollMode::Absolute),
        (i64::MAX, ScrollMode::Relative),
        (i64::MIN, ScrollMode::Absolute),
    ] {
        let e = s.scroll(cur, value, mode).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Programming, None);
        assert!(e.message.starts_with("out of range"), "{value} {mode:?}: {e:?}");
        assert_eq!(s.rownumber(cur).unwrap(), Some(1));
    }
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), Some(seq(2)));
    // Rows fetchall handed out are gone; earlier ones stay reachable.
    assert_eq!(s.fetchall(cur).unwrap().unwrap().len(), 3);
    let e = s.scroll(cur, 3, ScrollMode::Absolute).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, None);
    s.scroll(cur, 1, ScrollMode::Absolute).unwrap().unwrap();
    assert_eq!(s.fetchone(cur).unwrap().unwrap(), Some(seq(2)));
    // A statement without rows has nowhere to scroll to.
    s.execute(cur, "DO 1", None).unwrap().unwrap();
    let e = s.scroll(cur, 0, ScrollMode::Absolute).unwrap().unwrap_err();
    assert!(e.message.starts_with("out of range"), "{e:?}");
    // The connection carries on.
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
}

#[test]
fn unbuffered_cursors_scroll_forward_only_skipping_rows() {
    let mut s = session();
    let c = connect(&mut s);
    let ss = s.ss_cursor(c).unwrap();
    s.execute(ss, FIVE, None).unwrap().unwrap();
    assert_eq!(s.rownumber(ss).unwrap(), Some(0));
    s.scroll(ss, 1, ScrollMode::Relative).unwrap().unwrap();
    assert_eq!(s.fetchone(ss).unwrap().unwrap(), Some(seq(2)));
    s.scroll(ss, 3, ScrollMode::Absolute).unwrap().unwrap();
    assert_eq!(s.rownumber(ss).unwrap(), Some(3));
    // Backwards, relative or absolute, is not supported, and leaves the cursor where it was.
    let e = s.scroll(ss, -1, ScrollMode::Relative).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, Some(2054));
    let e = s.scroll(ss, 1, ScrollMode::Absolute).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, Some(2054));
    assert_eq!(s.fetchone(ss).unwrap().unwrap(), Some(seq(4)));
    // Past the end it stops at the end, counting as PyMySQL's SSCursor does; the result is read
    // off the wire, so the connection runs the next statement.
    s.scroll(ss, 10, ScrollMode::Relative).unwrap().unwrap();
    assert_eq!(s.rownumber(ss).unwrap(), Some(14));
    assert_eq!(s.fetchone(ss).unwrap().unwrap(), None);
    s.execute(ss, "SELECT 7", None).unwrap().unwrap();
    assert_eq!(s.fetchall(ss).unwrap().unwrap(), vec![vec![Value::Int(7)]]);
    // The unbuffered dict cursor too.
    let sd = s.ss_dict_cursor(c).unwrap();
    s.dict_execute(sd, FIVE, None).unwrap().unwrap();
    s.dict_scroll(sd, 4, ScrollMode::Absolute).unwrap().unwrap();
    assert_eq!(s.dict_fetchall(sd).unwrap().unwrap(), vec![vec![("seq".to_string(), Value::Uint(5))]]);
    let e = s.dict_scroll(sd, 0, ScrollMode::Absolute).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, None);
}

#[test]
fn cursorclass_makes_dict_rows_the_default() {
    let mut s = session();
    // Tuple rows unless asked.
    let c = connect(&mut s);
    assert_eq!(options(&mut s).cursorclass, CursorClass::Cursor);
    let AnyCur::Tuple(cur) = s.default_cursor(c).unwrap() else { panic!("expected a tuple cursor") };
    s.execute(cur, "SELECT 1 AS one", None).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(1)]]);
    // DictCursor from the options, and SSDictCursor from the URL.
    let o = ConnectOptions { cursorclass: CursorClass::DictCursor, ..options(&mut s) };
    let c = s.connect(&o).unwrap().unwrap();
    let AnyCur::Dict(d) = s.default_cursor(c).unwrap() else { panic!("expected a dict cursor") };
    s.dict_execute(d, "SELECT 1 AS one", None).unwrap().unwrap();
    assert_eq!(s.dict_fetchall(d).unwrap().unwrap(), vec![vec![("one".to_string(), Value::Int(1))]]);
    assert_eq!(s.dict_rowcount(d).unwrap(), 1);
    let c = s.connect_url(&format!("{}?cursorclass=SSDictCursor", server().url("test"))).unwrap().unwrap();
    let AnyCur::Dict(sd) = s.default_cursor(c).unwrap() else { panic!("expected a dict cursor") };
    s.dict_execute(sd, FIVE, None).unwrap().unwrap();
    // Unbuffered: the row count is unknown until the rows are read.
    assert_eq!(s.dict_rowcount(sd).unwrap(), -1);
    assert_eq!(s.dict_fetchall(sd).unwrap().unwrap().len(), 5);
    let e = s.options_from_url(&format!("{}?cursorclass=Nope", server().url("test"))).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
}

#[test]
fn setinputsizes_and_setoutputsizes_do_nothing() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    s.setinputsizes(cur, &[Some(10), None]).unwrap();
    s.setoutputsizes(cur, 1 << 20, Some(0)).unwrap();
    s.execute(cur, "SELECT %s", Some(&Params::Positional(vec![text("long enough text")]))).unwrap().unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![text("long enough text")]]);
    let d = s.dict_cursor(c).unwrap();
    s.dict_setinputsizes(d, &[]).unwrap();
    s.dict_setoutputsizes(d, 0, None).unwrap();
    s.dict_execute(d, "SELECT 2 AS two", None).unwrap().unwrap();
    assert_eq!(s.dict_fetchall(d).unwrap().unwrap(), vec![vec![("two".to_string(), Value::Int(2))]]);
}
