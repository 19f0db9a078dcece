//! More than one server: retryable errors and the transaction helper, host lists with their
//! strategies, failover at safe points, and read/write routing, against real MariaDB servers.
//!
//! The native Rust API (blocking sockets, `NativeRuntime`) plays the second client where a test
//! needs two sessions to run at once (a deadlock), since one component call blocks its instance.

use crate::common;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::*;
use cymysql_wasi::client::native::NativeRuntime;
use cymysql_wasi::client::pool::{Pool, PoolOptions};
use cymysql_wasi::client::transaction::RetryPolicy;
use cymysql_wasi::client::url::parse_url;
use cymysql_wasi::{Connection, Error, Value as RValue};
use futures::executor::block_on;
use host_test::driver::{Conn, ErrorKind, PoolHandle, Session, Value};
use host_test::server::TestServer;

/// A native connection to the shared server (for the other side of a conflict).
fn native(db: &str) -> Connection {
    let o = parse_url(&server().url(db)).unwrap();
    block_on(Connection::connect(o, Rc::new(NativeRuntime))).unwrap()
}

fn native_exec(c: &Connection, sql: &str) -> Result<u64, Error> {
    block_on(async {
        let mut cur = c.cursor();
        cur.execute(sql, None).await
    })
}

fn native_scalar(c: &Connection, sql: &str) -> RValue {
    block_on(async {
        let mut cur = c.cursor();
        cur.execute(sql, None).await.unwrap();
        cur.fetchone().await.unwrap().and_then(|r| r.into_iter().next()).unwrap()
    })
}

/// A table of `rows` rows (id 1..=rows, v 0) in database `test`.
fn hot_rows(table: &str, rows: u32) {
    let values: Vec<String> = (1..=rows).map(|i| format!("({i}, 0)")).collect();
    server()
        .admin_sql(&format!(
            "DROP TABLE IF EXISTS test.{table}; CREATE TABLE test.{table} (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; \
             INSERT INTO test.{table} VALUES {}",
            values.join(",")
        ))
        .unwrap();
}

/// Waits (bounded) until some transaction waits for a row lock.
fn wait_for_lock_wait() {
    for _ in 0..200 {
        let n = server()
            .admin_sql("SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")
            .unwrap();
        if n.trim() != "0" {
            return;
        }
        thread::sleep(Duration::from_millis(25));
    }
    panic!("no transaction ever waited for a lock");
}

/// The other side of a deadlock: locks rows 2..=rows (heavier, so InnoDB picks the caller's
/// one-row transaction as the victim), says so, waits for the go, then asks for row 1, which the
/// caller holds, and commits once it gets it.
fn heavy_locker(table: &'static str, rows: u32) -> (thread::JoinHandle<()>, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let handle = thread::spawn(move || {
        let c = native("test");
        native_exec(&c, "START TRANSACTION").unwrap();
        native_exec(&c, &format!("UPDATE {table} SET v = v + 1 WHERE id BETWEEN 2 AND {rows}")).unwrap();
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        native_exec(&c, &format!("UPDATE {table} SET v = v + 1 WHERE id = 1")).unwrap();
        native_exec(&c, "COMMIT").unwrap();
    });
    (handle, ready_rx, go_tx)
}

#[test]
fn a_real_deadlock_is_a_retryable_1213_through_the_component() {
    hot_rows("ha_deadlock", 12);
    let mut s = session();
    let c = connect(&mut s);
    let (other, ready, go) = heavy_locker("ha_deadlock", 12);
    ready.recv().unwrap();
    exec(&mut s, c, "START TRANSACTION");
    exec(&mut s, c, "UPDATE ha_deadlock SET v = v + 1 WHERE id = 1");
    go.send(()).unwrap();
    wait_for_lock_wait();
    // Row 2 is held by the other transaction, which waits for our row 1: a cycle.
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "UPDATE ha_deadlock SET v = v + 1 WHERE id = 2");
    assert_eq!((e.code, e.sqlstate.as_deref(), e.retryable), (Some(1213), Some("40001"), true), "{e:?}");
    // The server rolled our transaction back; the other one commits, and running ours again works.
    other.join().unwrap();
    exec(&mut s, c, "ROLLBACK");
    exec(&mut s, c, "START TRANSACTION");
    exec(&mut s, c, "UPDATE ha_deadlock SET v = v + 1 WHERE id IN (1, 2)");
    exec(&mut s, c, "COMMIT");
    assert_eq!(scalar(&mut s, c, "SELECT CAST(SUM(v) AS SIGNED) FROM ha_deadlock WHERE id <= 2"), Value::Int(4));
    // A real error is not retryable.
    let e = exec_err(&mut s, cur, "INSERT INTO ha_deadlock VALUES (1, 0)");
    assert_eq!((e.kind, e.code, e.retryable), (ErrorKind::Integrity, Some(1062), false), "{e:?}");
}

#[test]
fn the_transaction_helper_reruns_the_deadlock_victim_and_commits_once() {
    hot_rows("ha_helper", 12);
    let o = parse_url(&server().url("test")).unwrap();
    let config = PoolOptions { minsize: 1, maxsize: 2, ..PoolOptions::default() };
    let pool = block_on(Pool::create(o, config, Rc::new(NativeRuntime))).unwrap();
    let (other, ready, go) = heavy_locker("ha_helper", 12);
    ready.recv().unwrap();
    let attempts = Cell::new(0u32);
    let errors = std::cell::RefCell::new(Vec::new());
    let policy = RetryPolicy { backoff: Duration::ZERO, ..RetryPolicy::default() };
    let mut go = Some(go);
    let r = block_on(pool.transaction_with(&policy, |conn| {
        attempts.set(attempts.get() + 1);
        let go = go.take();
        let errors = &errors;
        async move {
            let mut cur = conn.cursor();
            cur.execute("UPDATE ha_helper SET v = v + 10 WHERE id = 1", None).await?;
            if let Some(go) = go {
                go.send(()).unwrap();
                wait_for_lock_wait();
            }
            let r = cur.execute("UPDATE ha_helper SET v = v + 10 WHERE id = 2", None).await;
            if let Err(e) = &r {
                errors.borrow_mut().push(e.clone());
            }
            r
        }
    }));
    assert_eq!(r, Ok(1));
    other.join().unwrap();
    let errors = errors.into_inner();
    assert_eq!(attempts.get(), 2, "{errors:?}");
    assert!(matches!(&errors[..], [e @ Error::Server { code: 1213, .. }] if e.is_retryable()), "{errors:?}");
    // Applied exactly once: 10 from our committed run, 1 from the other transaction, per row.
    let check = native("test");
    assert_eq!(native_scalar(&check, "SELECT CAST(v AS SIGNED) FROM ha_helper WHERE id = 1"), RValue::Int(11));
    assert_eq!(native_scalar(&check, "SELECT CAST(v AS SIGNED) FROM ha_helper WHERE id = 2"), RValue::Int(11));

    // A real error is not retried, and the work is rolled back.
    let runs = Cell::new(0u32);
    let r: Result<u64, Error> = block_on(pool.transaction_with(&policy, |conn| {
        runs.set(runs.get() + 1);
        async move {
            let mut cur = conn.cursor();
            cur.execute("UPDATE ha_helper SET v = 100 WHERE id = 3", None).await?;
            cur.execute("INSERT INTO ha_helper VALUES (1, 0)", None).await
        }
    }));
    assert!(matches!(r, Err(Error::Server { code: 1062, .. })), "{r:?}");
    assert_eq!(runs.get(), 1);
    assert_eq!(native_scalar(&check, "SELECT CAST(v AS SIGNED) FROM ha_helper WHERE id = 3"), RValue::Int(1));
}

/// A user of the same name and password on every server, so one host list reaches them all.
const HA_USER: &str = "ha_user";
const HA_PASSWORD: &str = "ha-pw";

fn add_ha_user(server: &TestServer) {
    server
        .admin_sql(&format!(
            "CREATE USER IF NOT EXISTS '{HA_USER}'@'127.0.0.1' IDENTIFIED BY '{HA_PASSWORD}'; \
             GRANT ALL ON *.* TO '{HA_USER}'@'127.0.0.1'; CREATE DATABASE IF NOT EXISTS test;"
        ))
        .unwrap();
}

/// The second server of the host-list tests, started once for this test binary (about 3 s).
fn second() -> &'static TestServer {
    static SECOND: std::sync::OnceLock<TestServer> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| {
        add_ha_user(server());
        let s = TestServer::start().expect("a second MariaDB");
        add_ha_user(&s);
        s
    })
}

/// A loopback port nothing listens on: connects to it are refused.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn list_url(ports: &[u16], query: &str) -> String {
    let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    format!("mysql://{HA_USER}:{HA_PASSWORD}@{}/test?{query}", hosts.join(","))
}

fn port_of(s: &mut Session, c: Conn) -> u16 {
    match scalar(s, c, "SELECT @@port") {
        Value::Int(p) => p as u16,
        Value::Uint(p) => p as u16,
        other => panic!("@@port: {other:?}"),
    }
}

fn list_pool(s: &mut Session, url: &str, min: u32, max: u32) -> PoolHandle {
    let o = s.options_from_url(url).unwrap().expect("valid url");
    let mut settings = s.default_pool_options().unwrap();
    settings.minsize = min;
    settings.maxsize = max;
    s.create_pool_with(&o, &settings).unwrap().expect("create pool")
}

#[test]
fn sequential_falls_over_a_dead_server_to_the_next() {
    let (a, b, dead) = (server().port, second().port, dead_port());
    let mut s = session();
    let url = list_url(&[dead, a, b], "ha=sequential&connect_timeout=5");
    let o = s.options_from_url(&url).unwrap().unwrap();
    let ha = o.ha.as_ref().expect("a host list");
    assert_eq!(ha.endpoints.iter().map(|e| e.port).collect::<Vec<_>>(), [dead, a, b]);
    let c = s.connect(&o).unwrap().expect("connect falls over to the second host");
    assert_eq!(port_of(&mut s, c), a);
    // A pool of the same list: every connection on the first server that is up.
    let p = list_pool(&mut s, &url, 0, 3);
    let conns: Vec<Conn> = (0..3).map(|_| s.acquire(p).unwrap().expect("acquire")).collect();
    for c in conns {
        assert_eq!(port_of(&mut s, c), a);
        s.release(p, c).unwrap();
    }
    // A list of dead servers only fails with a typed, retryable connect error.
    let url = list_url(&[dead, dead_port()], "connect_timeout=5");
    let e = s.connect_url(&url).unwrap().unwrap_err();
    assert_eq!((e.kind, e.code, e.retryable), (ErrorKind::Operational, Some(2003), true), "{e:?}");
}

#[test]
fn loadbalance_spreads_new_connections_over_the_servers() {
    let (a, b) = (server().port, second().port);
    let mut s = session();
    let p = list_pool(&mut s, &list_url(&[a, b], "ha=loadbalance"), 0, 4);
    let conns: Vec<Conn> = (0..4).map(|_| s.acquire(p).unwrap().expect("acquire")).collect();
    let mut ports: Vec<u16> = conns.iter().map(|&c| port_of(&mut s, c)).collect();
    ports.sort();
    let mut expected = vec![a, a, b, b];
    expected.sort();
    assert_eq!(ports, expected);
}

#[test]
fn a_stopped_server_is_set_aside_and_the_pool_hands_out_only_the_live_one() {
    let a = server().port;
    add_ha_user(server());
    let doomed = TestServer::start().expect("a server to stop");
    add_ha_user(&doomed);
    let d = doomed.port;
    let mut s = session();
    let url = list_url(&[a, d], "ha=loadbalance&retry_down_after=600");
    let p = list_pool(&mut s, &url, 2, 4);
    let conns: Vec<Conn> = (0..2).map(|_| s.acquire(p).unwrap().expect("acquire")).collect();
    let mut ports: Vec<u16> = conns.iter().map(|&c| port_of(&mut s, c)).collect();
    ports.sort();
    assert_eq!(ports, {
        let mut v = vec![a, d];
        v.sort();
        v
    });
    for c in conns {
        s.release(p, c).unwrap();
    }
    drop(doomed);
    // The idle connection to the stopped server fails once, with a retryable error; from then
    // on the server is known down, and every connection handed out is on the live one.
    let mut failures = 0;
    for _ in 0..8 {
        let c = s.acquire(p).unwrap().expect("acquire never fails while one server is up");
        let cur = s.cursor(c).unwrap();
        match s.execute(cur, "SELECT @@port", None).unwrap() {
            Ok(_) => {
                let row = s.fetchall(cur).unwrap().unwrap();
                let port = row.first().and_then(|r| r.first()).cloned();
                assert!(matches!(port, Some(Value::Uint(p)) if p == u64::from(a)), "{row:?}");
            }
            Err(e) => {
                assert!(e.retryable && e.kind == ErrorKind::Operational, "{e:?}");
                failures += 1;
            }
        }
        s.drop_cursor(cur).unwrap();
        s.release(p, c).unwrap();
    }
    assert!(failures <= 1, "{failures} connections to the stopped server were handed out");
    // A fresh connection of the list skips it too.
    let c = s.connect_url(&url).unwrap().expect("connect");
    assert_eq!(port_of(&mut s, c), a);
}

/// Kills session `thread_id` on the shared server and waits until it is gone.
fn kill_session(thread_id: u32) {
    server().admin_sql(&format!("KILL {thread_id}")).unwrap();
    assert!(wait_gone(thread_id), "session {thread_id} outlived KILL");
}

/// Runs `sql` expecting a failure; returns it.
fn fails(s: &mut Session, c: Conn, sql: &str) -> host_test::driver::DbError {
    let cur = s.cursor(c).unwrap();
    let e = exec_err(s, cur, sql);
    s.drop_cursor(cur).unwrap();
    e
}

#[test]
fn failover_replaces_a_killed_session_with_its_state_on_the_next_command() {
    let mut s = session();
    let base = server().url("test");
    let url = format!("{base}?failover=true&sql_mode=ANSI_QUOTES&init_command=SET+%40tag%3D42");
    let c = s.connect_url(&url).unwrap().expect("connect");
    s.set_charset(c, "latin1").unwrap().unwrap();
    s.autocommit(c, true).unwrap().unwrap();
    s.select_db(c, "mysql").unwrap().unwrap();
    let before = s.thread_id(c).unwrap();
    kill_session(before);
    // The command that finds the session gone fails (it may have run: it is not re-sent)...
    let e = fails(&mut s, c, "SELECT 1");
    assert!(e.retryable && matches!(e.code, Some(2006 | 2013)), "{e:?}");
    // ...and the next one runs on a new session with the same state.
    let row =
        rows(&mut s, c, "SELECT @@character_set_client, @@sql_mode, @tag, @@autocommit, DATABASE(), CONNECTION_ID()");
    let after = s.thread_id(c).unwrap();
    assert_ne!(after, before);
    assert_eq!(
        row,
        vec![vec![
            text("latin1"),
            text("ANSI_QUOTES"),
            Value::Int(42),
            Value::Int(1),
            text("mysql"),
            Value::Uint(u64::from(after))
        ]]
    );
    assert!(s.is_open(c).unwrap());

    // Without failover the connection stays broken.
    let c = s.connect_url(&base).unwrap().expect("connect");
    kill_session(s.thread_id(c).unwrap());
    fails(&mut s, c, "SELECT 1");
    let e = fails(&mut s, c, "SELECT 1");
    assert_eq!(e.code, Some(2006), "{e:?}");
}

#[test]
fn failover_never_replays_a_transaction_it_fails_until_rollback() {
    let mut s = session();
    let c0 = connect(&mut s);
    let table = fresh_table(&mut s, c0, "ha_in_tx", "id INT PRIMARY KEY");
    let c = s.connect_url(&format!("{}?failover=true", server().url("test"))).unwrap().expect("connect");
    assert!(!s.get_autocommit(c).unwrap());
    exec(&mut s, c, &format!("INSERT INTO {table} VALUES (1)"));
    assert!(s.in_transaction(c).unwrap());
    kill_session(s.thread_id(c).unwrap());
    let e = fails(&mut s, c, &format!("INSERT INTO {table} VALUES (2)"));
    assert!(matches!(e.code, Some(2006 | 2013)), "{e:?}");
    // Inside the lost transaction: a typed error, again and again, and no new session.
    for sql in [format!("INSERT INTO {table} VALUES (3)"), "COMMIT".to_string()] {
        let e = fails(&mut s, c, &sql);
        assert_eq!((e.code, e.sqlstate.as_deref(), e.retryable), (Some(2013), Some("08007"), true), "{e:?}");
        assert!(e.message.contains("rolled back"), "{e:?}");
    }
    let e = s.commit(c).unwrap().unwrap_err();
    assert_eq!(e.sqlstate.as_deref(), Some("08007"));
    // Rollback acknowledges it; the next command fails over, and nothing of the old one landed.
    s.rollback(c).unwrap().expect("rollback after a lost transaction");
    exec(&mut s, c, &format!("INSERT INTO {table} VALUES (4)"));
    s.commit(c).unwrap().unwrap();
    assert_eq!(rows(&mut s, c0, &format!("SELECT id FROM {table}")), vec![vec![Value::Int(4)]]);
}

#[test]
fn pool_metrics_and_events_are_per_host_over_a_host_list() {
    let (a, b, dead) = (server().port, second().port, dead_port());
    let mut s = session();
    let url = list_url(&[a, b, dead], "ha=loadbalance&retry_down_after=600&connect_timeout=5");
    let mut o = s.options_from_url(&url).unwrap().expect("valid url");
    o.event_log = Some(host_test::driver::EventLogOptions {
        capacity: 100,
        statement_text: host_test::driver::StatementText::Digest,
    });
    let mut settings = s.default_pool_options().unwrap();
    (settings.minsize, settings.maxsize) = (0, 4);
    let p = s.create_pool_with(&o, &settings).unwrap().expect("create pool");
    let conns: Vec<Conn> = (0..4).map(|_| s.acquire(p).unwrap().expect("acquire")).collect();
    let ports: Vec<u16> = conns.iter().map(|&c| port_of(&mut s, c)).collect();
    let m = s.pool_metrics(p).unwrap();
    let figures: Vec<(u16, u64, u64, u64, bool)> =
        m.hosts.iter().map(|h| (h.port, h.open, h.in_use, h.created, h.down)).collect();
    let on = |port: u16| ports.iter().filter(|&&p| p == port).count() as u64;
    assert_eq!(figures, [(a, on(a), on(a), on(a), false), (b, on(b), on(b), on(b), false), (dead, 0, 0, 0, true)]);
    assert_eq!(on(a) + on(b), 4);
    let dead_host = &m.hosts[2];
    assert!(dead_host.failed >= 1 && dead_host.marked_down >= 1, "{dead_host:?}");
    assert_eq!((m.hosts[0].failed, m.hosts[1].failed), (0, 0), "{m:?}");
    for c in conns {
        s.release(p, c).unwrap();
    }
    let m = s.pool_metrics(p).unwrap();
    assert_eq!((m.size, m.free, m.hosts[0].in_use + m.hosts[1].in_use), (4, 4, 0), "{m:?}");

    // The pool's log: the refused connect to the dead server, and statements on both live ones.
    let events = s.pool_take_events(p).unwrap();
    let mut connects_failed = Vec::new();
    let mut statement_hosts = Vec::new();
    for e in events {
        match e {
            host_test::driver::Event::Connect(e) if e.error.is_some() => connects_failed.push(e),
            host_test::driver::Event::Connect(_) => {}
            host_test::driver::Event::Statement(e) => statement_hosts.push(e.host),
        }
    }
    assert!(!connects_failed.is_empty());
    for e in &connects_failed {
        assert_eq!(e.host, format!("127.0.0.1:{dead}"));
        assert_eq!((e.connection_id, e.error.as_ref().and_then(|e| e.code)), (0, Some(2003)), "{e:?}");
    }
    statement_hosts.sort();
    statement_hosts.dedup();
    let mut live = vec![format!("127.0.0.1:{a}"), format!("127.0.0.1:{b}")];
    live.sort();
    assert_eq!(statement_hosts, live);
}
