//! Network faults between the component and a real MariaDB, injected by host-test's proxy
//! (connections dropped mid-handshake, mid-result, mid-transaction and after COMMIT was sent;
//! a server that stalls or stops taking bytes; a flipped byte), and the timeouts that bound them:
//! each call ends in a typed error, the connection is marked broken, a pool recovers, and
//! nothing is committed twice. Statement timeouts run against the server directly.

use crate::common;

use common::*;
use host_test::driver::{ConnectOptions, DbError, ErrorKind, Session, Value};
use host_test::proxy::{Action, Fault, FaultProxy};

/// A proxy in front of the shared server, and options that connect through it.
///
/// Every option set carries a read timeout so that a fault the driver failed to notice ends the
/// test with an error instead of hanging it; tests of a dropped connection check that the error
/// is the lost connection, not that timeout.
fn through_proxy(s: &mut Session) -> (FaultProxy, ConnectOptions) {
    let proxy = FaultProxy::start(([127, 0, 0, 1], server().port).into()).expect("start the proxy");
    let mut o = options(s);
    o.port = proxy.port();
    o.read_timeout = Some(20.0);
    (proxy, o)
}

/// Rows of `table` as the server itself counts them (not through the component).
fn server_count(table: &str, filter: &str) -> u64 {
    let out = server().admin_sql(&format!("SELECT COUNT(*) FROM test.{table} {filter}")).unwrap();
    out.trim().parse().unwrap_or_else(|_| panic!("count of {table}: {out:?}"))
}

/// A lost connection (CR_SERVER_LOST) seen as such, not as the safety-net read timeout.
fn assert_lost(e: &DbError) {
    assert_kind(e, ErrorKind::Operational, Some(2013));
    assert!(!e.message.contains("read_timeout"), "the drop itself must be noticed: {e:?}");
}

#[test]
fn a_drop_mid_handshake_is_a_connect_error_and_the_next_connect_works() {
    let mut s = session();
    let (proxy, o) = through_proxy(&mut s);
    // 20 bytes: inside the HandshakeV10, before the server's capabilities.
    proxy.arm(Fault::on_connect(20, Action::Drop));
    let e = s.connect(&o).expect("no trap").unwrap_err();
    assert_eq!(proxy.fired(), 1);
    assert_lost(&e);
    let c = s.connect(&o).unwrap().expect("a connection after the fault");
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
}

#[test]
fn a_drop_mid_result_breaks_the_connection_and_a_pool_recovers() {
    let mut s = session();
    let (proxy, o) = through_proxy(&mut s);
    let mut settings = s.default_pool_options().unwrap();
    (settings.minsize, settings.maxsize) = (1, 1);
    let p = s.create_pool_with(&o, &settings).unwrap().expect("pool");
    let c = s.acquire(p).unwrap().unwrap();
    proxy.arm(Fault::after("seq_1_to_200000", 10_000, Action::Drop));
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT seq, REPEAT('x', 100) FROM seq_1_to_200000");
    assert_eq!(proxy.fired(), 1);
    assert_lost(&e);
    assert!(!s.is_open(c).unwrap());
    let e = exec_err(&mut s, cur, "SELECT 1");
    assert_kind(&e, ErrorKind::Operational, Some(2006));
    s.drop_cursor(cur).unwrap();
    s.release(p, c).unwrap();
    let c = s.acquire(p).unwrap().expect("the pool replaces the broken connection");
    assert_eq!(scalar(&mut s, c, "SELECT COUNT(*) FROM seq_1_to_200000"), Value::Int(200_000));
    s.release(p, c).unwrap();
}

#[test]
fn an_unbuffered_result_dropped_between_rows_is_a_lost_connection() {
    let mut s = session();
    let (proxy, o) = through_proxy(&mut s);
    let c = s.connect(&o).unwrap().unwrap();
    proxy.arm(Fault::after("seq_1_to_300000", 200_000, Action::Drop));
    let cur = s.ss_cursor(c).unwrap();
    s.execute(cur, "SELECT seq FROM seq_1_to_300000", None).unwrap().expect("the columns arrive");
    let e = loop {
        match s.fetchmany(cur, Some(1000)).expect("no trap") {
            Ok(rows) => assert!(!rows.is_empty(), "the result cannot end: the proxy cuts it"),
            Err(e) => break e,
        }
    };
    assert_lost(&e);
    assert!(!s.is_open(c).unwrap());
}

#[test]
fn a_drop_mid_transaction_loses_only_the_uncommitted_work() {
    let mut s = session();
    let (proxy, o) = through_proxy(&mut s);
    let c = s.connect(&o).unwrap().unwrap();
    let t = fresh_table(&mut s, c, "fault_mid_tx", "id INT PRIMARY KEY");
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES (1)"));
    s.commit(c).unwrap().unwrap();
    exec(&mut s, c, &format!("INSERT INTO {t} VALUES (2)"));
    let thread_id = s.thread_id(c).unwrap();
    proxy.arm(Fault::after("'mid transaction'", 0, Action::Drop));
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT 'mid transaction'");
    assert_eq!(proxy.fired(), 1);
    assert_lost(&e);
    assert!(!s.is_open(c).unwrap());
    assert!(wait_gone(thread_id), "the server ends the session");
    assert_eq!(server_count(&t, ""), 1, "the open transaction was rolled back");
}

#[test]
fn a_commit_whose_ok_is_lost_is_never_sent_twice() {
    let mut s = session();
    let (proxy, o) = through_proxy(&mut s);
    let c = s.connect(&o).unwrap().unwrap();
    let t = fresh_table(&mut s, c, "fault_commit", "id INT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(20)");
    s.commit(c).unwrap().unwrap();
    exec(&mut s, c, &format!("INSERT INTO {t} (tag) VALUES ('once')"));
    let thread_id = s.thread_id(c).unwrap();
    let commits_before = proxy.client_sent_count("\x03COMMIT");
    // The server receives the COMMIT; the connection goes before its OK comes back.
    proxy.arm(Fault::after("\x03COMMIT", 0, Action::Drop));
    let e = s.commit(c).expect("no trap").unwrap_err();
    assert_eq!(proxy.fired(), 1);
    assert_lost(&e);
    assert!(!s.is_open(c).unwrap());
    // Whatever the caller tries next, the driver does not replay the COMMIT.
    assert!(s.commit(c).unwrap().is_err());
    assert!(s.ping(c, false).unwrap().is_err());
    assert!(wait_gone(thread_id));
    assert_eq!(proxy.client_sent_count("\x03COMMIT"), commits_before + 1, "COMMIT went out exactly once");
    assert!(server_count(&t, "WHERE tag = 'once'") <= 1, "committed at most once");
}

#[test]
fn a_stall_longer_than_read_timeout_is_a_typed_timeout() {
    let mut s = session();
    let (proxy, mut o) = through_proxy(&mut s);
    o.read_timeout = Some(0.3);
    let mut settings = s.default_pool_options().unwrap();
    (settings.minsize, settings.maxsize) = (1, 1);
    let p = s.create_pool_with(&o, &settings).unwrap().expect("pool");
    let c = s.acquire(p).unwrap().unwrap();
    proxy.arm(Fault::after("'stalled'", 0, Action::StallServer));
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT 'stalled'");
    assert_eq!(proxy.fired(), 1);
    assert_kind(&e, ErrorKind::Operational, Some(2013));
    assert!(e.message.contains("read_timeout"), "{e:?}");
    assert!(!s.is_open(c).unwrap(), "the reply may still come: the packet sequence is unknown");
    s.drop_cursor(cur).unwrap();
    s.release(p, c).unwrap();
    let c = s.acquire(p).unwrap().expect("the pool recovers");
    assert_eq!(scalar(&mut s, c, "SELECT 'after'"), text("after"));
    s.release(p, c).unwrap();
}

#[test]
fn a_stall_mid_result_of_an_unbuffered_cursor_is_a_read_timeout() {
    let mut s = session();
    let (proxy, mut o) = through_proxy(&mut s);
    o.read_timeout = Some(0.3);
    let c = s.connect(&o).unwrap().unwrap();
    proxy.arm(Fault::after("seq_1_to_100000", 50_000, Action::StallServer));
    let cur = s.ss_cursor(c).unwrap();
    s.execute(cur, "SELECT seq FROM seq_1_to_100000", None).unwrap().expect("the columns arrive");
    let e = loop {
        match s.fetchmany(cur, Some(1000)).expect("no trap") {
            Ok(rows) => assert!(!rows.is_empty(), "the result cannot end: the proxy holds it"),
            Err(e) => break e,
        }
    };
    assert_kind(&e, ErrorKind::Operational, Some(2013));
    assert!(e.message.contains("read_timeout"), "{e:?}");
    assert!(!s.is_open(c).unwrap());
}

#[test]
fn a_server_taking_no_bytes_is_a_write_timeout() {
    let mut s = session();
    let (proxy, mut o) = through_proxy(&mut s);
    o.write_timeout = Some(0.3);
    let c = s.connect(&o).unwrap().unwrap();
    proxy.arm(Fault::after("/* stall writes */", 0, Action::StallClient));
    // Larger than every socket buffer between the guest and the proxy.
    let sql = format!("/* stall writes */ SELECT '{}'", "w".repeat(48 << 20));
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, &sql);
    assert_eq!(proxy.fired(), 1);
    assert_kind(&e, ErrorKind::Operational, Some(2006));
    assert!(e.message.contains("write_timeout"), "{e:?}");
    assert!(!s.is_open(c).unwrap());
}

#[test]
fn a_flipped_byte_is_a_protocol_error_that_breaks_the_connection() {
    let mut s = session();
    let (proxy, o) = through_proxy(&mut s);
    let c = s.connect(&o).unwrap().unwrap();
    // Offset 3 is the sequence id of the reply's first packet.
    proxy.arm(Fault::after("'flipped'", 3, Action::FlipByte));
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT 'flipped'");
    assert_eq!(proxy.fired(), 1);
    assert_kind(&e, ErrorKind::Operational, Some(2014));
    assert!(!s.is_open(c).unwrap());
}

#[test]
fn connect_timeout_bounds_the_statements_after_authentication() {
    let mut s = session();
    let (proxy, mut o) = through_proxy(&mut s);
    o.read_timeout = None;
    o.connect_timeout = Some(0.5);
    o.autocommit = Some(false);
    o.init_command = Some("SET @hung = 'init'".into());
    // Authentication succeeds; the server never answers init_command.
    proxy.arm(Fault::after("@hung", 0, Action::StallServer));
    let e = s.connect(&o).expect("no trap").unwrap_err();
    assert_eq!(proxy.fired(), 1);
    assert_kind(&e, ErrorKind::Operational, Some(2003));
    assert!(e.message.contains("connect_timeout"), "{e:?}");
    // The same options connect once the server answers.
    let c = s.connect(&o).unwrap().expect("connect after the fault");
    assert_eq!(scalar(&mut s, c, "SELECT @hung"), text("init"));
}

#[test]
fn statement_timeout_kills_the_query_and_keeps_the_connection() {
    let mut s = session();
    let mut o = options(&mut s);
    o.statement_timeout = Some(0.5);
    let c = s.connect(&o).unwrap().unwrap();
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT SLEEP(5)");
    assert_kind(&e, ErrorKind::Operational, Some(1317));
    assert_eq!(e.sqlstate.as_deref(), Some("70100"), "{e:?}");
    assert!(e.message.contains("statement_timeout"), "{e:?}");
    assert!(s.is_open(c).unwrap());
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
    s.execute(cur, "SELECT SLEEP(0)", None).unwrap().expect("a statement within its time runs");
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![Value::Int(0)]]);
}

#[test]
fn a_cursor_can_set_its_own_statement_timeout() {
    let mut s = session();
    let o = options(&mut s);
    let c = s.connect(&o).unwrap().unwrap();
    let cur = s.cursor(c).unwrap();
    s.set_statement_timeout(cur, Some(0.3)).unwrap().unwrap();
    let e = exec_err(&mut s, cur, "SELECT SLEEP(5)");
    assert_kind(&e, ErrorKind::Operational, Some(1317));
    // The connection's other cursors are unaffected, and 0 lifts the limit.
    assert_eq!(scalar(&mut s, c, "SELECT SLEEP(0.6)"), Value::Int(0));
    s.set_statement_timeout(cur, Some(0.0)).unwrap().unwrap();
    s.execute(cur, "SELECT SLEEP(0.6)", None).unwrap().expect("no limit");
    let e = s.set_statement_timeout(cur, Some(-1.0)).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
}

#[test]
fn statement_timeout_interrupts_a_buffered_result_mid_rows() {
    let mut s = session();
    let mut o = options(&mut s);
    o.statement_timeout = Some(0.3);
    let c = s.connect(&o).unwrap().unwrap();
    let cur = s.cursor(c).unwrap();
    // Rows flow while the statement runs: one row, then a long sleep in the second.
    let e = exec_err(&mut s, cur, "SELECT seq, IF(seq = 2, SLEEP(5), 0) FROM seq_1_to_3");
    assert_kind(&e, ErrorKind::Operational, Some(1317));
    assert!(s.is_open(c).unwrap());
    assert_eq!(scalar(&mut s, c, "SELECT 2"), Value::Int(2));
}
