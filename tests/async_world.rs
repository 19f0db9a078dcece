//! What only the WASI 0.3 component (world `driver-async`) does, against the real MariaDB: rows
//! through `stream<row>` and errors through its future, many calls in flight in one instance, and
//! waiting on the pool. Types, errors, transactions and the pool as the 0.2 world has them are
//! proven for this world by the shared integration tests, which `scripts/test` runs a second time
//! through this component.

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use common::server;
use futures::future::join_all;
use host_test::driver::{ConnectOptions, DbError, ErrorKind, Sandbox, Value};
use host_test::driver_async::{AsyncHost, AsyncSession, Conn, EndFuture, PoolHandle, RowStream};

fn session() -> AsyncSession {
    AsyncHost::shared().instantiate(&Sandbox::default()).expect("instantiate the 0.3 component")
}

fn options(s: &mut AsyncSession) -> ConnectOptions {
    s.options_from_url(&server().url("test")).expect("no trap").expect("valid url")
}

fn connect(s: &mut AsyncSession) -> Conn {
    let o = options(s);
    s.connect(&o).expect("no trap").expect("connect")
}

fn rows(s: &mut AsyncSession, c: Conn, sql: &str) -> Vec<Vec<Value>> {
    let cur = s.cursor(c).unwrap();
    s.execute(cur, sql, None).unwrap().unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let r = s.fetchall(cur).unwrap().unwrap();
    s.drop_resource(cur.0).unwrap();
    r
}

fn assert_error(e: &DbError, kind: ErrorKind, code: u16, sqlstate: &str) {
    assert_eq!((e.kind, e.code, e.sqlstate.as_deref()), (kind, Some(code), Some(sqlstate)), "{e:?}");
}

#[test]
fn errors_are_typed() {
    let mut s = session();
    let mut o = options(&mut s);
    o.passwd = "not-the-Secret-pw-123".into();
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_error(&e, ErrorKind::Operational, 1045, "28000");
    assert!(!e.message.contains("not-the-Secret-pw-123"), "password leaked: {}", e.message);

    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    let e = s.execute(cur, "SELECT * FROM no_such_table", None).unwrap().unwrap_err();
    assert_error(&e, ErrorKind::Programming, 1146, "42S02");
    let e = s.query(c, "SELEC 1", None).unwrap().unwrap_err();
    assert_error(&e, ErrorKind::Programming, 1064, "42000");
    // The connection is still in step after both.
    assert_eq!(rows(&mut s, c, "SELECT 'still here'"), vec![vec![Value::Text("still here".into())]]);
}

#[test]
fn query_streams_columns_then_rows_then_the_end() {
    let mut s = session();
    let c = connect(&mut s);
    let out = s.query(c, "SELECT seq, CONCAT('row-', seq) AS label FROM seq_1_to_5000", None).unwrap().unwrap();
    let names: Vec<&str> = out.columns.iter().map(|col| col.name.as_str()).collect();
    assert_eq!(names, ["seq", "label"]);
    assert_eq!(out.rows.len(), 5000);
    for (i, row) in out.rows.iter().enumerate() {
        let n = i as u64 + 1;
        assert_eq!(row, &vec![Value::Uint(n), Value::Text(format!("row-{n}"))]);
    }
    assert_eq!(out.end, Ok(()));
    // A statement without a result set: no columns, no rows, a clean end.
    let out = s.query(c, "DO 1", None).unwrap().unwrap();
    assert!(out.columns.is_empty() && out.rows.is_empty() && out.end.is_ok(), "{out:?}");
}

/// Behaviour 5: an error the server raises after some rows were streamed ends the stream and
/// arrives, typed, through the future; the connection stays usable.
#[test]
fn a_server_error_after_streamed_rows_arrives_through_the_future() {
    let mut s = session();
    let c = connect(&mut s);
    let out = s
        .query(c, "SELECT seq, IF(seq = 3000, (SELECT 1 UNION SELECT 2), seq) FROM seq_1_to_5000", None)
        .unwrap()
        .expect("the statement starts");
    assert_eq!(out.rows.len(), 2999, "every row before the failing one arrives");
    assert!(out.rows.iter().enumerate().all(|(i, r)| r[0] == Value::Uint(i as u64 + 1)));
    let e = out.end.unwrap_err();
    assert_error(&e, ErrorKind::Operational, 1242, "21000");
    assert_eq!(rows(&mut s, c, "SELECT 'after'"), vec![vec![Value::Text("after".into())]]);
}

/// Behaviour 2: two streams from two connections, read alternately row by row with at most one
/// row buffered on the host: each arrives complete, in order, and nothing crosses over.
#[test]
fn two_streams_read_interleaved_stay_apart() {
    let mut s = session();
    let (c1, c2) = (connect(&mut s), connect(&mut s));
    let (a_rows, b_rows) = s
        .run(async |a, api, _| {
            let q = async |c: Conn, tag: &str| {
                let sql = format!("SELECT seq, '{tag}' FROM seq_1_to_2000");
                api.connection().call_query(a, c.0, sql, None).await
            };
            let (cols1, rows1, end1) = q(c1, "a").await?.expect("first query");
            let (cols2, rows2, end2) = q(c2, "b").await?.expect("second query");
            assert_eq!((cols1.len(), cols2.len()), (2, 2));
            let mut r1 = RowStream::pipe(a, rows1, 1)?;
            let mut r2 = RowStream::pipe(a, rows2, 1)?;
            let (e1, e2) = (EndFuture::pipe(a, end1)?, EndFuture::pipe(a, end2)?);
            let (mut got1, mut got2) = (Vec::new(), Vec::new());
            loop {
                let x = r1.next().await;
                let y = r2.next().await;
                if x.is_none() && y.is_none() {
                    break;
                }
                got1.extend(x);
                got2.extend(y);
            }
            assert_eq!((e1.wait().await, e2.wait().await), (Ok(()), Ok(())));
            Ok((got1, got2))
        })
        .unwrap();
    for (tag, got) in [("a", a_rows), ("b", b_rows)] {
        assert_eq!(got.len(), 2000, "stream {tag}");
        for (i, row) in got.iter().enumerate() {
            assert_eq!(row, &vec![Value::Uint(i as u64 + 1), Value::Text(tag.into())], "stream {tag} row {i}");
        }
    }
}

/// Behaviour 6: concurrent calls on one connection run one after the other: each gets its own
/// results, including a call made while a stream holds the connection.
#[test]
fn concurrent_calls_on_one_connection_are_serialized() {
    let mut s = session();
    let c = connect(&mut s);
    let (cur1, cur2) = (s.cursor(c).unwrap(), s.cursor(c).unwrap());
    let (first, second, streamed, other) = s
        .run(async |a, api, _| {
            let cur = api.cursor();
            let one = async {
                cur.call_execute(a, cur1.0, "SELECT SLEEP(0.1), 'first'".into(), None).await?.expect("first");
                Ok::<_, wasmtime::Error>(cur.call_fetchall(a, cur1.0).await?.expect("first rows"))
            };
            let two = async {
                cur.call_execute(a, cur2.0, "SELECT 'second'".into(), None).await?.expect("second");
                Ok::<_, wasmtime::Error>(cur.call_fetchall(a, cur2.0).await?.expect("second rows"))
            };
            let (first, second) = futures::future::try_join(one, two).await?;

            // A cursor call made while a stream holds the connection waits for the stream's end.
            let (_, rows, end) =
                api.connection().call_query(a, c.0, "SELECT seq FROM seq_1_to_3000".into(), None).await?.expect("q");
            let mut rows = RowStream::pipe(a, rows, 16)?;
            let end = EndFuture::pipe(a, end)?;
            let other = async {
                cur.call_execute(a, cur1.0, "SELECT 'other'".into(), None).await?.expect("other");
                Ok::<_, wasmtime::Error>(cur.call_fetchall(a, cur1.0).await?.expect("other rows"))
            };
            let read = async {
                let mut all = Vec::new();
                while let Some(row) = rows.next().await {
                    all.push(row);
                }
                all
            };
            let (other, streamed) = futures::future::join(other, read).await;
            assert_eq!(end.wait().await, Ok(()));
            Ok((first, second, streamed, other?))
        })
        .unwrap();
    assert_eq!(first, vec![vec![Value::Int(0), Value::Text("first".into())]]);
    assert_eq!(second, vec![vec![Value::Text("second".into())]]);
    assert_eq!(streamed.len(), 3000);
    assert!(streamed.iter().enumerate().all(|(i, r)| r == &vec![Value::Uint(i as u64 + 1)]));
    assert_eq!(other, vec![vec![Value::Text("other".into())]]);
}

/// Behaviour 1: 64 executes issued at once into one instance over a pool of maxsize 16. The server
/// sees several of them sleeping at the same moment, never more than the pool allows.
#[test]
fn many_calls_in_flight_share_a_pool() {
    const SQL: &str = "SELECT SLEEP(0.2)";
    let mut s = session();
    let o = options(&mut s);
    let mut settings = s.default_pool_options().unwrap();
    settings.minsize = 1;
    settings.maxsize = 16;
    settings.acquire_timeout = Some(120.0);
    let p = s.create_pool_with(&o, &settings).unwrap().expect("create pool");

    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (done, peak) = (done.clone(), peak.clone());
        std::thread::spawn(move || {
            let count = format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = '{SQL}'");
            while !done.load(Ordering::Acquire) {
                if let Ok(n) = server().admin_sql(&count).map(|out| out.trim().parse::<usize>().unwrap_or(0)) {
                    peak.fetch_max(n, Ordering::AcqRel);
                }
            }
        })
    };
    let results = s
        .run(async |a, api, pool| {
            let tasks = (0..64).map(|_| async move {
                let conn = pool.pool().call_acquire(a, p.0).await?.expect("acquire");
                let cur = api.connection().call_cursor(a, conn).await?;
                let n = api.cursor().call_execute(a, cur, SQL.into(), None).await?;
                let rows = api.cursor().call_fetchall(a, cur).await?;
                pool.pool().call_release(a, p.0, conn).await?;
                Ok::<_, wasmtime::Error>((n, rows, cur))
            });
            join_all(tasks).await.into_iter().collect::<wasmtime::Result<Vec<_>>>()
        })
        .unwrap();
    done.store(true, Ordering::Release);
    watcher.join().unwrap();
    for (n, rows, cur) in results {
        assert_eq!(n, Ok(1));
        assert_eq!(rows, Ok(vec![vec![Value::Int(0)]]));
        s.drop_resource(cur).unwrap();
    }
    let peak = peak.load(Ordering::Acquire);
    eprintln!("most SLEEPs the server ran at once: {peak}");
    assert!((8..=16).contains(&peak), "the server saw {peak} sleeping at once");
    let counters = s.pool_counters(p).unwrap();
    assert!(counters.created <= 16, "{counters:?}");
    assert!(counters.waited > 0 && counters.timed_out == 0, "{counters:?}");
    assert_eq!(counters.acquired, 64, "{counters:?}");
}

#[test]
fn cli_runs_statements_through_the_async_world() {
    let url = server().url("test");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(["query", "--url", &url, "--world", "async", "--json", "SELECT seq FROM seq_1_to_3", "SELECT nope"])
        .output()
        .expect("run host-test");
    let stdout = String::from_utf8(o.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "the second statement fails: {stdout}");
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().expect("one result line")).unwrap();
    assert_eq!(first["rows"], serde_json::json!([[1], [2], [3]]));
    assert_eq!(first["rowcount"], 3);
    assert!(stderr.contains("ERROR 1054 (42S22)") && stderr.contains("nope"), "{stderr}");
    assert_eq!(o.status.code(), Some(1), "an SQL error: {stderr}");
}

/// A connection of its own, and a pool of at most one connection, so that its next borrower gets
/// the same session back.
fn connection_and_pool_of_one(s: &mut AsyncSession) -> (Conn, PoolHandle) {
    let c = connect(s);
    let o = options(s);
    let mut settings = s.default_pool_options().unwrap();
    settings.maxsize = 1;
    (c, s.create_pool_with(&o, &settings).unwrap().expect("create pool"))
}

/// Behaviour 3: the host drops a stream halfway. The rest of the result is read and discarded, so
/// the next call on that connection, or on the pool that lent it, sees only its own rows.
#[test]
fn a_stream_dropped_halfway_leaves_no_stray_rows() {
    let mut s = session();
    let (c, p) = connection_and_pool_of_one(&mut s);
    let (direct, pooled) = s
        .run(async |a, api, pool| {
            let head = async |conn: Conn| {
                let sql = "SELECT seq FROM seq_1_to_200000".to_string();
                let (_, rows, end) = api.connection().call_query(a, conn.0, sql, None).await?.expect("query");
                let mut rows = RowStream::pipe(a, rows, 4)?;
                let end = EndFuture::pipe(a, end)?;
                let mut first = Vec::new();
                for _ in 0..10 {
                    first.extend(rows.next().await);
                }
                rows.close();
                Ok::<_, wasmtime::Error>((first, end.wait().await))
            };
            let after = async |conn: Conn| {
                let cur = api.connection().call_cursor(a, conn.0).await?;
                api.cursor().call_execute(a, cur, "SELECT 'next'".into(), None).await?.expect("next");
                Ok::<_, wasmtime::Error>(api.cursor().call_fetchall(a, cur).await?.expect("rows"))
            };
            // On a connection of its own: the next call waits for the drain, then runs.
            let (first, _) = head(c).await?;
            assert_eq!(first.len(), 10);
            assert!(first.iter().enumerate().all(|(i, r)| r == &vec![Value::Uint(i as u64 + 1)]));
            let direct = after(c).await?;
            // On a pooled connection given back at once: the pool's next borrower sees only its rows.
            let lent = Conn(pool.pool().call_acquire(a, p.0).await?.expect("acquire"));
            let (_, lent_end) = head(lent).await?;
            assert_eq!(lent_end, Ok(()));
            pool.pool().call_release(a, p.0, lent.0).await?;
            let again = Conn(pool.pool().call_acquire(a, p.0).await?.expect("acquire again"));
            let pooled = after(again).await?;
            pool.pool().call_release(a, p.0, again.0).await?;
            Ok((direct, pooled))
        })
        .unwrap();
    assert_eq!(direct, vec![vec![Value::Text("next".into())]]);
    assert_eq!(pooled, vec![vec![Value::Text("next".into())]]);
}

/// Behaviour 3, for a call rather than a stream: the host drops the future of an `execute` whose
/// statement is still running. The connection's next call, directly or through the pool, sees only
/// its own result.
#[test]
fn a_call_dropped_in_flight_leaves_no_stray_rows() {
    let mut s = session();
    let (c, p) = connection_and_pool_of_one(&mut s);
    let (direct, pooled) = s
        .run(async |a, api, pool| {
            // Starts a statement that answers after 1 s and drops the call once it is on the
            // server (the drop does not depend on how long anything took: the server is asked).
            let abandon = async |conn: Conn| {
                let id = api.connection().call_thread_id(a, conn.0).await?;
                let cur = api.connection().call_cursor(a, conn.0).await?;
                let cursors = api.cursor();
                let call = cursors.call_execute(a, cur, "SELECT SLEEP(1), 'stale'".into(), None);
                let started = async {
                    while !common::processlist_running(id, "SLEEP") {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                };
                match futures::future::select(Box::pin(call), Box::pin(started)).await {
                    futures::future::Either::Left(_) => panic!("the statement finished before it was seen running"),
                    futures::future::Either::Right(_) => {}
                }
                Ok::<_, wasmtime::Error>(())
            };
            let next = async |conn: Conn| {
                let cur = api.connection().call_cursor(a, conn.0).await?;
                let r = api.cursor().call_execute(a, cur, "SELECT 'next'".into(), None).await?;
                Ok::<_, wasmtime::Error>(match r {
                    Ok(_) => api.cursor().call_fetchall(a, cur).await?,
                    Err(e) => Err(e),
                })
            };
            abandon(c).await?;
            let direct = next(c).await?;
            let lent = Conn(pool.pool().call_acquire(a, p.0).await?.expect("acquire"));
            abandon(lent).await?;
            pool.pool().call_release(a, p.0, lent.0).await?;
            let again = Conn(pool.pool().call_acquire(a, p.0).await?.expect("acquire again"));
            let pooled = next(again).await?;
            pool.pool().call_release(a, p.0, again.0).await?;
            Ok((direct, pooled))
        })
        .unwrap();
    assert_eq!(direct, Ok(vec![vec![Value::Text("next".into())]]));
    assert_eq!(pooled, Ok(vec![vec![Value::Text("next".into())]]));
}

/// Behaviour 4: a million rows through `stream<row>` to a host that takes at most 64 at a time.
/// The guest reads the socket only as the host consumes, so its memory stays small.
#[test]
fn a_million_rows_to_a_slow_reader_keep_guest_memory_small() {
    let mut s = session();
    let c = connect(&mut s);
    let (count, last, end) = s
        .run(async |a, api, _| {
            let sql = "SELECT seq, 'a row of some length to make the result large' FROM seq_1_to_1000000".to_string();
            let (_, rows, end) = api.connection().call_query(a, c.0, sql, None).await?.expect("query");
            let mut rows = RowStream::pipe(a, rows, 64)?;
            let end = EndFuture::pipe(a, end)?;
            let (mut count, mut last) = (0u64, None);
            while let Some(row) = rows.next().await {
                count += 1;
                last = row.into_iter().next();
            }
            Ok((count, last, end.wait().await))
        })
        .unwrap();
    assert_eq!((count, last, end), (1_000_000, Some(Value::Uint(1_000_000)), Ok(())));
    let peak = s.peak_memory();
    eprintln!("peak guest linear memory over a million streamed rows: {peak} bytes");
    assert!(peak < 8 << 20, "peak guest memory {peak} bytes");
}

/// `pool.acquire` waits while every connection is lent: waiters are served first come, first
/// served as connections come back, and a waiter past the pool's deadline gets a typed timeout.
#[test]
fn acquire_waits_in_line_and_times_out() {
    let mut s = session();
    let o = options(&mut s);
    let mut settings = s.default_pool_options().unwrap();
    settings.minsize = 1;
    settings.maxsize = 1;
    settings.acquire_timeout = Some(60.0);
    let p = s.create_pool_with(&o, &settings).unwrap().expect("create pool");
    let order = s
        .run(async |a, api, pool| {
            let holder = Conn(pool.pool().call_acquire(a, p.0).await?.expect("first acquire"));
            let served = std::cell::RefCell::new(Vec::new());
            let waiter = async |n: u32| {
                let conn = pool.pool().call_acquire(a, p.0).await?.expect("queued acquire");
                let cur = api.connection().call_cursor(a, conn).await?;
                api.cursor().call_execute(a, cur, format!("SELECT {n}"), None).await?.expect("select");
                served.borrow_mut().push(n);
                pool.pool().call_release(a, p.0, conn).await?;
                Ok::<_, wasmtime::Error>(())
            };
            let release_holder = async {
                // Runs after the waiters have queued: each of them was polled (and so called) first.
                let cur = api.connection().call_cursor(a, holder.0).await?;
                api.cursor().call_execute(a, cur, "SELECT SLEEP(0.1)".into(), None).await?.expect("hold");
                pool.pool().call_release(a, p.0, holder.0).await?;
                Ok::<_, wasmtime::Error>(())
            };
            let (w1, w2, w3, r) = futures::join!(waiter(1), waiter(2), waiter(3), release_holder);
            w1?;
            w2?;
            w3?;
            r?;
            Ok(served.into_inner())
        })
        .unwrap();
    assert_eq!(order, [1, 2, 3]);
    let counters = s.pool_counters(p).unwrap();
    assert_eq!((counters.waited, counters.created), (3, 1), "{counters:?}");

    settings.acquire_timeout = Some(0.3);
    let p = s.create_pool_with(&o, &settings).unwrap().expect("create pool");
    let held = s.acquire(p).unwrap().expect("the only connection");
    let e = s.acquire(p).unwrap().expect_err("nothing comes back");
    // A pool timeout is operational with no MySQL code, as in the 0.2 world (README, Timeouts).
    assert_eq!((e.kind, e.code), (ErrorKind::Operational, None), "{e:?}");
    assert!(e.message.contains("acquire"), "{e:?}");
    assert_eq!(s.pool_counters(p).unwrap().timed_out, 1);
    s.release(p, held).unwrap();
    assert!(s.acquire(p).unwrap().is_ok(), "the connection is lent again once released");
}

#[test]
fn a_streamed_query_is_one_statement_event_with_every_row_streamed() {
    use host_test::driver::{Event, EventLogOptions, StatementText};
    let mut s = session();
    let o = ConnectOptions {
        event_log: Some(EventLogOptions { capacity: 10, statement_text: StatementText::Digest }),
        ..options(&mut s)
    };
    let c = s.connect(&o).unwrap().expect("connect");
    s.take_events(c).unwrap();
    let streamed = s.query(c, "SELECT seq FROM seq_1_to_700 WHERE seq > 0", None).unwrap().expect("query");
    assert_eq!((streamed.rows.len(), streamed.end.clone()), (700, Ok(())));
    let e = s.query(c, "SELECT nosuch FROM seq_1_to_3", None).unwrap().unwrap_err();
    assert_eq!(e.code, Some(1054));
    let seen: Vec<(String, Option<u64>, Option<u16>)> = s
        .take_events(c)
        .unwrap()
        .into_iter()
        .map(|e| match e {
            Event::Statement(e) => (e.text, e.rows, e.error.and_then(|e| e.code)),
            Event::Connect(e) => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("SELECT seq FROM seq_1_to_700 WHERE seq > ?".to_string(), Some(700), None),
            ("SELECT nosuch FROM seq_1_to_3".to_string(), Some(0), Some(1054)),
        ]
    );
}
