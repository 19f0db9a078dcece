//! Observability through the component: the event log of a connection and of a pool (statement and
//! connect events, what they say of the statement's text), and pool metrics. Per-host metrics with a
//! host list are in tests/ha.rs, which has the second server; the Rust listener in tests/native.rs.

use crate::common;

use common::*;
use host_test::driver::{
    ConnectEvent, ConnectOptions, Event, EventLogOptions, Params, Session, StatementEvent, StatementText, Value,
};

fn logged(s: &mut Session, capacity: u32, statement_text: StatementText) -> ConnectOptions {
    ConnectOptions { event_log: Some(EventLogOptions { capacity, statement_text }), ..options(s) }
}

fn split(events: Vec<Event>) -> (Vec<StatementEvent>, Vec<ConnectEvent>) {
    let (mut statements, mut connects) = (Vec::new(), Vec::new());
    for e in events {
        match e {
            Event::Statement(e) => statements.push(e),
            Event::Connect(e) => connects.push(e),
        }
    }
    (statements, connects)
}

/// What a test checks of a statement event: text, rows, affected rows, error code and SQLSTATE.
type Seen<'a> = (&'a str, Option<u64>, u64, Option<u16>, Option<&'a str>);

fn host() -> String {
    format!("127.0.0.1:{}", server().port)
}

#[test]
fn statement_events_carry_counts_errors_and_host_and_no_parameter_by_default() {
    let mut s = session();
    let o = logged(&mut s, 100, StatementText::Digest);
    let c = s.connect(&o).unwrap().expect("connect");
    let id = s.thread_id(c).unwrap();
    let (statements, connects) = split(s.take_events(c).unwrap());
    assert!(statements.is_empty(), "{statements:?}");
    assert_eq!(connects.len(), 1, "{connects:?}");
    assert_eq!((connects[0].host.clone(), connects[0].connection_id, connects[0].error.clone()), (host(), id, None));
    let table = fresh_table(&mut s, c, "obs_events", "id INT PRIMARY KEY, name VARCHAR(20)");
    s.take_events(c).unwrap();

    let cur = s.cursor(c).unwrap();
    let secret = Params::Positional(vec![Value::Int(3), text("s3cret-param")]);
    let insert = format!("INSERT INTO {table} VALUES (1, 'a'), (2, 'b'), (%s, %s)");
    assert_eq!(s.execute(cur, &insert, Some(&secret)).unwrap().unwrap(), 3);
    assert_eq!(s.execute(cur, &format!("SELECT id FROM {table} WHERE id < 3"), None).unwrap().unwrap(), 2);
    let e = exec_err(&mut s, cur, &format!("SELECT nosuch FROM {table}"));
    assert_eq!(e.code, Some(1054));
    // The server's message quotes the value; the event keeps only code and SQLSTATE.
    let bad = Params::Positional(vec![text("s3cret-param")]);
    let e = exec_err_with(&mut s, cur, &format!("INSERT INTO {table} VALUES (%s, 'x')"), &bad);
    assert_eq!(e.code, Some(1366));
    assert!(e.message.contains("s3cret-param"), "{e:?}");
    let by_name = Params::Positional(vec![text("s3cret-param")]);
    let cur2 = s.cursor(c).unwrap();
    s.execute(cur2, &format!("SELECT id FROM {table} WHERE name = %s"), Some(&by_name)).unwrap().unwrap();
    let ss = s.ss_cursor(c).unwrap();
    s.execute(ss, &format!("SELECT id FROM {table}"), None).unwrap().unwrap();
    assert_eq!(s.fetchall(ss).unwrap().unwrap().len(), 3);
    s.commit(c).unwrap().unwrap();

    let (statements, connects) = split(s.take_events(c).unwrap());
    assert!(connects.is_empty(), "{connects:?}");
    let seen: Vec<Seen<'_>> = statements
        .iter()
        .map(|e| {
            let error = e.error.as_ref();
            (
                e.text.as_str(),
                e.rows,
                e.affected_rows,
                error.and_then(|e| e.code),
                error.and_then(|e| e.sqlstate.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("INSERT INTO obs_events VALUES (...)", Some(0), 3, None, None),
            ("SELECT id FROM obs_events WHERE id < ?", Some(2), 0, None, None),
            ("SELECT nosuch FROM obs_events", Some(0), 0, Some(1054), Some("42S22")),
            ("INSERT INTO obs_events VALUES (...)", Some(0), 0, Some(1366), Some("22007")),
            ("SELECT id FROM obs_events WHERE name = ?", Some(1), 0, None, None),
            ("SELECT id FROM obs_events", None, 0, None, None),
            ("COMMIT", Some(0), 0, None, None),
        ]
    );
    for e in &statements {
        assert_eq!((e.host.as_str(), e.connection_id), (host().as_str(), id), "{e:?}");
        assert!(!format!("{e:?}").contains("s3cret"), "{e:?}");
    }
    // Measured on the component's clock: a round trip to the server takes some time.
    assert!(statements.iter().filter(|e| e.error.is_none()).all(|e| e.duration_ns > 0), "{statements:?}");
    // Taken: the log is empty until the next statement.
    assert!(s.take_events(c).unwrap().is_empty());
}

#[test]
fn the_text_shows_parameters_only_when_asked_and_never_a_password() {
    let mut s = session();
    let secret = Params::Positional(vec![text("s3cret-param")]);
    let password = Params::Positional(vec![text("pw-never-shown")]);
    let mut texts = Vec::new();
    for mode in [StatementText::Query, StatementText::Full] {
        let o = logged(&mut s, 10, mode);
        let c = s.connect(&o).unwrap().expect("connect");
        let cur = s.cursor(c).unwrap();
        s.execute(cur, "SELECT %s, 'literal'", Some(&secret)).unwrap().unwrap();
        // No such user: the server refuses it after parsing, and the event is still reported.
        let e = exec_err_with(&mut s, cur, "ALTER USER 'nobody_obs'@'localhost' IDENTIFIED BY %s", &password);
        assert!(e.code.is_some(), "{e:?}");
        let (statements, _) = split(s.take_events(c).unwrap());
        // The server's message is in the event only with the full text.
        let message = statements.last().and_then(|e| e.error.as_ref()).map(|e| e.message.clone());
        assert_eq!(message == Some(e.message.clone()), mode == StatementText::Full, "{message:?}");
        texts.push(statements.into_iter().map(|e| e.text).collect::<Vec<_>>());
    }
    assert_eq!(
        texts,
        [
            ["SELECT %s, 'literal'", "ALTER USER ?@? IDENTIFIED BY ?"],
            ["SELECT 's3cret-param', 'literal'", "ALTER USER ?@? IDENTIFIED BY ?"],
        ]
    );
}

fn exec_err_with(
    s: &mut Session,
    cur: host_test::driver::Cur,
    sql: &str,
    params: &Params,
) -> host_test::driver::DbError {
    match s.execute(cur, sql, Some(params)).expect("no trap") {
        Ok(n) => panic!("{sql}: expected an error, got {n}"),
        Err(e) => e,
    }
}

#[test]
fn no_log_no_events_and_a_full_log_keeps_the_most_recent() {
    let mut s = session();
    let c = connect(&mut s);
    exec(&mut s, c, "SELECT 1");
    assert!(s.take_events(c).unwrap().is_empty());

    let o = logged(&mut s, 2, StatementText::Digest);
    let c = s.connect(&o).unwrap().expect("connect");
    for n in 1..=4 {
        exec(&mut s, c, &format!("SELECT {n} AS n{n}"));
    }
    let (statements, connects) = split(s.take_events(c).unwrap());
    assert!(connects.is_empty());
    let texts: Vec<&str> = statements.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["SELECT ? AS n3", "SELECT ? AS n4"]);
}

#[test]
fn a_pool_shares_one_log_and_reports_its_server_in_metrics() {
    let mut s = session();
    let o = logged(&mut s, 100, StatementText::Digest);
    let p = s.create_pool(&o, 2, 4, None).unwrap().expect("create pool");
    let m = s.pool_metrics(p).unwrap();
    assert_eq!((m.size, m.free, m.waiting, m.hosts.len()), (2, 2, 0, 1), "{m:?}");
    let h = &m.hosts[0];
    assert_eq!((h.host.as_str(), h.port), ("127.0.0.1", server().port));
    assert_eq!((h.open, h.in_use, h.created, h.failed, h.marked_down, h.down), (2, 0, 2, 0, 0, false), "{h:?}");
    let (_, connects) = split(s.pool_take_events(p).unwrap());
    assert_eq!(connects.len(), 2, "{connects:?}");
    assert!(connects.iter().all(|e| e.error.is_none() && e.host == host() && e.connection_id > 0), "{connects:?}");

    let c = s.acquire(p).unwrap().expect("acquire");
    let id = s.thread_id(c).unwrap();
    exec(&mut s, c, "SELECT 42");
    let h = s.pool_metrics(p).unwrap().hosts.remove(0);
    assert_eq!((h.open, h.in_use, h.created), (2, 1, 2), "{h:?}");
    // The lent connection reads the pool's log: its statement, then nothing for the pool.
    let (statements, _) = split(s.take_events(c).unwrap());
    assert_eq!(statements.iter().map(|e| (e.text.as_str(), e.connection_id)).collect::<Vec<_>>(), [("SELECT ?", id)]);
    assert!(s.pool_take_events(p).unwrap().is_empty());
    s.release(p, c).unwrap();
    let h = s.pool_metrics(p).unwrap().hosts.remove(0);
    assert_eq!((h.open, h.in_use), (2, 0), "{h:?}");
}
