//! The pool: create_pool semantics, clean hand-overs, eviction, recycling, closing, and gather
//! running many tasks concurrently over one pool inside one component instance.

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::*;
use host_test::driver::{ConnectOptions, ErrorKind, Params, PoolHandle, Session, Statement, Value, World};

/// Options for a user of its own, so a test can find (and kill) exactly its pool's sessions.
fn user_options(s: &mut Session, user: &str) -> ConnectOptions {
    server()
        .admin_sql(&format!(
            "CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY 'pw-{user}'; \
             GRANT ALL ON test.* TO '{user}'@'127.0.0.1'; GRANT PROCESS ON *.* TO '{user}'@'127.0.0.1';"
        ))
        .unwrap();
    let mut o = options(s);
    o.user = user.into();
    o.passwd = format!("pw-{user}");
    o
}

fn sessions_of(user: &str, filter: &str) -> Vec<u64> {
    let out = server()
        .admin_sql(&format!("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{user}' {filter}"))
        .unwrap();
    out.lines().filter_map(|l| l.trim().parse().ok()).collect()
}

fn stmt(query: &str) -> Statement {
    Statement { query: query.into(), params: None }
}

fn stmt_with(query: &str, params: Vec<Value>) -> Statement {
    Statement { query: query.into(), params: Some(Params::Positional(params)) }
}

fn create(
    s: &mut Session,
    o: &ConnectOptions,
    min: u32,
    max: u32,
    configure: impl FnOnce(&mut host_test::driver::PoolOptions),
) -> PoolHandle {
    let mut settings = s.default_pool_options().unwrap();
    settings.minsize = min;
    settings.maxsize = max;
    configure(&mut settings);
    s.create_pool_with(o, &settings).unwrap().expect("create pool")
}

#[test]
fn create_pool_opens_minsize_and_checks_bounds() {
    let mut s = session();
    let o = options(&mut s);
    let p = s.create_pool(&o, 3, 5, None).unwrap().unwrap();
    assert_eq!(s.pool_size(p).unwrap(), (3, 3, 3, 5));
    let e = s.create_pool(&o, 4, 2, None).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    // maxsize 0 means no limit.
    let unlimited = s.create_pool(&o, 0, 0, None).unwrap().unwrap();
    let held: Vec<_> = (0..12).map(|_| s.acquire(unlimited).unwrap().unwrap()).collect();
    assert_eq!(s.pool_size(unlimited).unwrap().0, 12);
    for c in held {
        s.release(unlimited, c).unwrap();
    }
    assert_eq!(s.pool_size(unlimited).unwrap().1, 12);
    s.pool_terminate(unlimited).unwrap();
}

#[test]
fn seed_example_five_users_fetched_concurrently() {
    let mut s = session();
    let c = connect(&mut s);
    fresh_table(&mut s, c, "pool_users", "id INT PRIMARY KEY, name VARCHAR(20)");
    exec(&mut s, c, "INSERT INTO pool_users VALUES (1,'ann'),(2,'ben'),(3,'cid'),(4,'dot'),(5,'eve')");
    s.commit(c).unwrap().unwrap();
    let o = options(&mut s);
    let p = s.create_pool(&o, 1, 5, None).unwrap().unwrap();
    let tasks: Vec<Vec<Statement>> = (1..=5)
        .map(|id| vec![stmt_with("SELECT id, name FROM pool_users WHERE id = %s", vec![Value::Int(id)])])
        .collect();
    let results = s.gather(p, &tasks).unwrap();
    let names: Vec<Value> = results.into_iter().map(|r| r.unwrap().remove(0).rows.remove(0).remove(1)).collect();
    assert_eq!(names, ["ann", "ben", "cid", "dot", "eve"].map(text).to_vec());
    // And the same with dict cursors on acquired connections.
    for id in 1..=5 {
        let conn = s.acquire(p).unwrap().unwrap();
        let dc = s.dict_cursor(conn).unwrap();
        s.dict_execute(
            dc,
            "SELECT name FROM pool_users WHERE id = %s",
            Some(&Params::Positional(vec![Value::Int(id)])),
        )
        .unwrap()
        .unwrap();
        let row = s.dict_fetchone(dc).unwrap().unwrap().unwrap();
        assert_eq!(row[0].0, "name");
        s.release(p, conn).unwrap();
    }
    assert!(s.pool_size(p).unwrap().0 <= 5);
}

/// Watches the server while `f` runs and returns the most sessions of `user` seen running SLEEP at once.
fn max_concurrent_sleepers<T>(user: &str, f: impl FnOnce() -> T) -> (T, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let max = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (stop, max, user) = (stop.clone(), max.clone(), user.to_string());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let n = sessions_of(&user, "AND INFO LIKE 'SELECT SLEEP%'").len();
                max.fetch_max(n, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let out = f();
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    (out, max.load(Ordering::Relaxed))
}

#[test]
fn gather_overlaps_network_waits_up_to_maxsize() {
    let mut s = session();
    let o = user_options(&mut s, "gatherer");
    let p = s.create_pool(&o, 0, 16, None).unwrap().unwrap();
    let tasks: Vec<Vec<Statement>> = (0..64).map(|_| vec![stmt("SELECT SLEEP(0.4)")]).collect();
    let (results, seen) = max_concurrent_sleepers("gatherer", || s.gather(p, &tasks).unwrap());
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    // 64 sleeps over 16 connections: the server sees many at once, never more than the pool allows.
    assert!(seen >= 8, "only {seen} queries ran at once");
    assert!(seen <= 16, "{seen} sessions at once from a pool of 16");
    let (size, free, _, _) = s.pool_size(p).unwrap();
    assert!(size <= 16);
    assert_eq!(size, free);
    let c = s.pool_counters(p).unwrap();
    assert_eq!(c.acquired, 64);
    assert_eq!(c.in_use, 0);
    assert!(c.waited > 0);
    assert_eq!(c.created - c.closed, size as u64);
}

#[test]
fn a_connection_goes_back_clean() {
    let mut s = session();
    let c0 = connect(&mut s);
    fresh_table(&mut s, c0, "pool_clean", "id INT PRIMARY KEY, v INT");
    exec(&mut s, c0, "INSERT INTO pool_clean VALUES (1, 0)");
    s.commit(c0).unwrap().unwrap();
    let o = options(&mut s);
    for reset in [true, false] {
        let p = create(&mut s, &o, 1, 1, |st| st.reset_on_release = reset);
        let a = s.acquire(p).unwrap().unwrap();
        let id = s.thread_id(a).unwrap();
        exec(&mut s, a, "UPDATE pool_clean SET v = v + 1");
        exec(&mut s, a, "SET @left_behind = 'dirty'");
        assert!(s.in_transaction(a).unwrap());
        s.release(p, a).unwrap();

        let b = s.acquire(p).unwrap().unwrap();
        assert_eq!(s.thread_id(b).unwrap(), id, "same session reused");
        assert_eq!(scalar(&mut s, b, "SELECT @@in_transaction"), Value::Uint(0));
        assert_eq!(scalar(&mut s, b, "SELECT v FROM pool_clean"), Value::Int(0), "the update was rolled back");
        assert_eq!(scalar(&mut s, b, "SELECT @@autocommit"), Value::Int(0), "connect-time autocommit kept");
        let var = scalar(&mut s, b, "SELECT @left_behind");
        if reset {
            assert_eq!(var, Value::Null, "COM_RESET_CONNECTION clears session state");
        } else {
            assert_eq!(var, text("dirty"));
        }
        // Dropping the handle gives the connection back too.
        s.drop_conn(b).unwrap();
        assert_eq!(s.pool_size(p).unwrap().1, 1);
        s.pool_terminate(p).unwrap();
    }
}

#[test]
fn killed_connections_are_evicted_never_handed_out() {
    let mut s = session();
    let o = user_options(&mut s, "evictee");
    let p = s.create_pool(&o, 2, 2, None).unwrap().unwrap();
    let ids = sessions_of("evictee", "");
    assert_eq!(ids.len(), 2);
    for id in &ids {
        server().admin_sql(&format!("KILL {id}")).unwrap();
    }
    thread::sleep(Duration::from_millis(200));
    // The pool pings idle connections only after ping-after-idle; a killed one is found on first use.
    for _ in 0..4 {
        let c = s.acquire(p).unwrap().unwrap();
        let cur = s.cursor(c).unwrap();
        match s.execute(cur, "SELECT 1", None).unwrap() {
            Ok(_) => {}
            Err(e) => assert_eq!(e.kind, ErrorKind::Operational, "{e:?}"),
        }
        s.release(p, c).unwrap();
    }
    let c = s.acquire(p).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
    assert!(!ids.contains(&(s.thread_id(c).unwrap() as u64)));
    s.release(p, c).unwrap();
    let counters = s.pool_counters(p).unwrap();
    assert!(counters.evicted >= 2, "{counters:?}");
    assert!(s.pool_size(p).unwrap().0 <= 2);
}

#[test]
fn exhausted_pool_times_out_with_a_clear_error() {
    let mut s = session();
    let o = options(&mut s);
    let p = create(&mut s, &o, 1, 1, |st| st.acquire_timeout = Some(0.2));
    let held = s.acquire(p).unwrap().unwrap();
    let e = s.acquire(p).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Operational, "{e:?}");
    assert!(e.message.contains("acquire"), "{e:?}");
    assert_eq!(s.pool_counters(p).unwrap().timed_out, 1);
    if s.world() == World::Driver {
        // A 0.2 call blocks the instance, so without a timeout nothing could free a connection
        // during the call: an error at once, no hang. (A 0.3 acquire waits for another call in
        // flight to release; tests/async_world.rs shows it.)
        let q = create(&mut s, &o, 1, 1, |st| st.acquire_timeout = None);
        let held_q = s.acquire(q).unwrap().unwrap();
        let e = s.acquire(q).unwrap().unwrap_err();
        assert!(e.message.contains("exhausted"), "{e:?}");
        s.release(q, held_q).unwrap();
    }
    s.release(p, held).unwrap();
    let again = s.acquire(p).unwrap().expect("a released connection is lent again");
    s.release(p, again).unwrap();
}

#[test]
fn old_connections_are_recycled() {
    let mut s = session();
    let o = options(&mut s);
    let p = s.create_pool(&o, 1, 1, Some(0.3)).unwrap().unwrap();
    let c = s.acquire(p).unwrap().unwrap();
    let first = s.thread_id(c).unwrap();
    s.release(p, c).unwrap();
    thread::sleep(Duration::from_millis(500));
    let c = s.acquire(p).unwrap().unwrap();
    assert_ne!(s.thread_id(c).unwrap(), first, "a connection older than pool_recycle is replaced");
    s.release(p, c).unwrap();
    assert!(s.pool_counters(p).unwrap().evicted >= 1);
}

#[test]
fn close_and_wait_closed() {
    let mut s = session();
    let o = user_options(&mut s, "closer");
    let p = s.create_pool(&o, 2, 3, None).unwrap().unwrap();
    let e = s.pool_wait_closed(p).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Interface, None);
    let lent = s.acquire(p).unwrap().unwrap();
    s.pool_close(p).unwrap();
    let e = s.acquire(p).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Interface, None);
    match &mut s {
        Session::Sync(_) => {
            // Nothing can give the connection back while a 0.2 call blocks the instance, so
            // wait-closed fails at once instead of waiting forever.
            let e = s.pool_wait_closed(p).unwrap().unwrap_err();
            assert!(e.message.contains("still lent"), "{e:?}");
            // The lent connection still works until it comes back, then it is closed.
            assert_eq!(scalar(&mut s, lent, "SELECT 7"), Value::Int(7));
            s.release(p, lent).unwrap();
            s.pool_wait_closed(p).unwrap().unwrap();
        }
        Session::Async(a) => {
            // In the 0.3 world wait-closed waits while another call in flight uses the lent
            // connection and gives it back.
            let released = AtomicBool::new(false);
            let (waited, seven) = a
                .run(async |acc, api, pool| {
                    let wait = async {
                        let r = pool.pool().call_wait_closed(acc, p.0).await?;
                        Ok::<_, wasmtime::Error>((r, released.load(Ordering::SeqCst)))
                    };
                    let use_then_release = async {
                        let cur = api.connection().call_cursor(acc, lent.0).await?;
                        api.cursor().call_execute(acc, cur, "SELECT 7".into(), None).await?.expect("SELECT 7");
                        let rows = api.cursor().call_fetchall(acc, cur).await?.expect("its row");
                        released.store(true, Ordering::SeqCst);
                        pool.pool().call_release(acc, p.0, lent.0).await?;
                        Ok(rows)
                    };
                    futures::future::try_join(wait, use_then_release).await
                })
                .unwrap();
            assert_eq!(waited, (Ok(()), true), "wait-closed returned once the lent connection came back");
            assert_eq!(seven, vec![vec![Value::Int(7)]]);
        }
    }
    assert_eq!(s.pool_size(p).unwrap().0, 0);
    thread::sleep(Duration::from_millis(300));
    assert!(sessions_of("closer", "").is_empty(), "every pooled session closed");
}

#[test]
fn clear_closes_free_connections_and_the_pool_goes_on() {
    let mut s = session();
    let o = options(&mut s);
    let p = s.create_pool(&o, 3, 3, None).unwrap().unwrap();
    s.pool_clear(p).unwrap();
    assert_eq!(s.pool_size(p).unwrap().0, 0);
    let c = s.acquire(p).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
    s.release(p, c).unwrap();
}

#[test]
fn dead_connections_never_leave_waiters_hung() {
    // 12 tasks over 2 connections; both sessions are killed while tasks wait for them.
    let mut s = session();
    let o = user_options(&mut s, "hung");
    let p = s.create_pool(&o, 2, 2, None).unwrap().unwrap();
    let killer = thread::spawn(|| {
        for _ in 0..50 {
            let busy = sessions_of("hung", "AND INFO LIKE 'SELECT SLEEP%'");
            if busy.len() == 2 {
                for id in busy {
                    let _ = server().admin_sql(&format!("KILL {id}"));
                }
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    });
    let tasks: Vec<Vec<Statement>> = (0..12).map(|_| vec![stmt("SELECT SLEEP(0.3)"), stmt("SELECT 'done'")]).collect();
    let results = s.gather(p, &tasks).unwrap();
    assert!(killer.join().unwrap(), "the killer saw both sessions busy");
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(!failed.is_empty() && failed.len() <= 2, "{failed:?}");
    for e in &failed {
        assert_eq!(e.kind, ErrorKind::Operational, "{e:?}");
        assert!(e.code.is_some());
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 12 - failed.len());
    let c = s.pool_counters(p).unwrap();
    assert_eq!(c.in_use, 0);
    assert!(c.evicted >= failed.len() as u64);
}

#[test]
fn many_tasks_with_random_kills() {
    let mut s = session();
    let c0 = connect(&mut s);
    fresh_table(&mut s, c0, "pool_stress", "id INT AUTO_INCREMENT PRIMARY KEY, task INT, n INT");
    s.commit(c0).unwrap().unwrap();
    let o = user_options(&mut s, "stressed");
    let p = s.create_pool(&o, 4, 16, None).unwrap().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (stop, kills) = (stop.clone(), kills.clone());
        thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) && i < 400 {
                let ids = sessions_of("stressed", "");
                if !ids.is_empty() {
                    let victim = ids[(i as usize * 7919) % ids.len()];
                    if server().admin_sql(&format!("KILL {victim}")).is_ok() {
                        kills.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += 1;
                thread::sleep(Duration::from_millis(25));
            }
        })
    };
    let (mut ok, mut failed) = (0usize, 0usize);
    // 64 tasks x 300 queries in rounds of 30 queries per acquire, so connections change hands often.
    for round in 0..10 {
        let tasks: Vec<Vec<Statement>> = (0..64)
            .map(|t| {
                let mut v = vec![stmt("SELECT @@in_transaction, 'fresh'"), stmt("BEGIN")];
                for q in 0..27 {
                    v.push(stmt_with(
                        "INSERT INTO pool_stress (task, n) VALUES (%s, %s)",
                        vec![Value::Int(t), Value::Int(round * 100 + q)],
                    ));
                }
                // Left open on purpose: release must roll it back before the next user.
                v.push(stmt("SELECT @@in_transaction"));
                v
            })
            .collect();
        for r in s.gather(p, &tasks).unwrap() {
            match r {
                Ok(results) => {
                    assert_eq!(results[0].rows[0][0], Value::Uint(0), "a transaction leaked into the next acquirer");
                    assert_eq!(results.last().unwrap().rows[0][0], Value::Uint(1));
                    ok += 1;
                }
                Err(e) => {
                    assert!(matches!(e.kind, ErrorKind::Operational), "{e:?}");
                    assert!(e.code.is_some(), "{e:?}");
                    failed += 1;
                }
            }
        }
        let (size, _, _, max) = s.pool_size(p).unwrap();
        assert!(size <= max, "pool grew to {size} over maxsize {max}");
    }
    stop.store(true, Ordering::Relaxed);
    killer.join().unwrap();
    assert_eq!(ok + failed, 640);
    assert!(ok > 0);
    assert!(kills.load(Ordering::Relaxed) > 0);
    // Nothing was committed: every task left its transaction open, and release rolled it back.
    assert_eq!(scalar(&mut s, c0, "SELECT COUNT(*) FROM pool_stress"), Value::Int(0));
    let c = s.pool_counters(p).unwrap();
    let (size, free, _, _) = s.pool_size(p).unwrap();
    assert_eq!(c.in_use, 0, "no connection leaks");
    assert_eq!(size, free);
    assert_eq!(c.created - c.closed, size as u64, "{c:?}");
    // An acquire that opens a connection fails when the killer hits that session while it is set
    // up; every other one lent a connection or timed out.
    assert!((ok as u64..=640 - c.timed_out).contains(&c.acquired), "{c:?}");
    s.pool_terminate(p).unwrap();
}

#[test]
fn terminate_closes_lent_connections_too() {
    let mut s = session();
    let o = user_options(&mut s, "terminated");
    let p = s.create_pool(&o, 2, 2, None).unwrap().unwrap();
    let lent = s.acquire(p).unwrap().unwrap();
    assert_eq!(scalar(&mut s, lent, "SELECT 1"), Value::Int(1));
    s.pool_terminate(p).unwrap();
    assert!(!s.is_open(lent).unwrap());
    let cur = s.cursor(lent).unwrap();
    assert_kind(&exec_err(&mut s, cur, "SELECT 1"), ErrorKind::Interface, None);
    // Giving it back afterwards is harmless, and nothing of the pool is left on the server.
    s.release(p, lent).unwrap();
    assert_eq!(s.pool_size(p).unwrap().0, 0);
    thread::sleep(Duration::from_millis(300));
    assert!(sessions_of("terminated", "").is_empty());
}

#[test]
fn cursors_of_a_returned_connection_stop_working() {
    let mut s = session();
    let o = options(&mut s);
    let p = s.create_pool(&o, 1, 1, None).unwrap().unwrap();
    let first = s.acquire(p).unwrap().unwrap();
    let stale = s.cursor(first).unwrap();
    s.execute(stale, "SELECT 'mine'", None).unwrap().unwrap();
    s.release(p, first).unwrap();
    // The next borrower gets the same session; the old cursor must not reach into it.
    let second = s.acquire(p).unwrap().unwrap();
    let fresh = s.ss_cursor(second).unwrap();
    s.execute(fresh, "SELECT seq FROM seq_1_to_3", None).unwrap().unwrap();
    let e = exec_err(&mut s, stale, "SELECT 'intruder'");
    assert_kind(&e, ErrorKind::Interface, None);
    assert_kind(&s.fetchone(stale).unwrap().unwrap_err(), ErrorKind::Interface, None);
    s.close_cursor(stale).unwrap().unwrap();
    let rows = s.fetchall(fresh).unwrap().unwrap();
    assert_eq!(rows, vec![vec![Value::Uint(1)], vec![Value::Uint(2)], vec![Value::Uint(3)]]);
    s.release(p, second).unwrap();
}
