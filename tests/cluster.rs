//! A real 3-node Galera cluster and a real primary with a binlog replica, started by host-test's
//! cluster harness on loopback: node state checks, certification conflicts, a node killed under
//! load, and read/write routing.
//!
//! The Rust API runs natively here (blocking sockets, `NativeRuntime`): the load test needs many
//! sessions at once from several threads, and the component's calls block their instance.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use cymysql_wasi::client::galera::NodeState;
use cymysql_wasi::client::native::NativeRuntime;
use cymysql_wasi::client::pool::{Pool, PoolOptions};
use cymysql_wasi::client::transaction::RetryPolicy;
use cymysql_wasi::client::url::parse_url;
use cymysql_wasi::{Connection, Error, Value};
use futures::executor::block_on;
use host_test::cluster::{local_state, GaleraCluster, ReplicaPair};

/// One cluster for the module; each test takes it whole (they kill and desync nodes).
fn cluster() -> MutexGuard<'static, GaleraCluster> {
    static CLUSTER: OnceLock<Mutex<GaleraCluster>> = OnceLock::new();
    let m = CLUSTER.get_or_init(|| Mutex::new(GaleraCluster::start(3).unwrap_or_else(|e| panic!("{e:#}"))));
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn connect(url: &str) -> Result<Connection, Error> {
    block_on(Connection::connect(parse_url(url).unwrap(), Rc::new(NativeRuntime)))
}

fn exec(c: &Connection, sql: &str) -> Result<u64, Error> {
    block_on(async { c.cursor().execute(sql, None).await })
}

fn scalar(c: &Connection, sql: &str) -> Value {
    block_on(async {
        let mut cur = c.cursor();
        cur.execute(sql, None).await.unwrap();
        cur.fetchone().await.unwrap().and_then(|r| r.into_iter().next()).unwrap()
    })
}

fn int(v: Value) -> i64 {
    match v {
        Value::Int(i) => i,
        Value::UInt(u) => i64::try_from(u).unwrap(),
        Value::Decimal(d) => d.parse().unwrap(),
        other => panic!("not an integer: {other:?}"),
    }
}

/// Waits (bounded) until node `i` reports `state`.
fn wait_state(c: &GaleraCluster, i: usize, state: u8) {
    for _ in 0..300 {
        if local_state(&c.nodes[i]) == Some(state) {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("node {i} never reached wsrep_local_state {state}");
}

#[test]
fn a_node_that_is_not_synced_is_skipped_at_connect_and_at_acquire() {
    let cluster = cluster();
    let base = cluster.url("test");
    let pool_url = format!("{base}?ha=sequential&galera=true&retry_down_after=60");
    let pool = block_on(Pool::create(
        parse_url(&pool_url).unwrap(),
        PoolOptions { minsize: 1, maxsize: 2, ..PoolOptions::default() },
        Rc::new(NativeRuntime),
    ))
    .unwrap();
    {
        let conn = block_on(pool.acquire()).unwrap();
        assert_eq!(conn.endpoint(), Some(0));
        assert_eq!(block_on(conn.galera_state()).unwrap(), NodeState::Galera { ready: true, local_state: 4 });
    }
    // Node 1 of the list (index 0) leaves Synced: a desynced node still answers queries, from data
    // that may be behind the cluster.
    cluster.nodes[0].admin_sql("SET GLOBAL wsrep_desync = ON").unwrap();
    wait_state(&cluster, 0, 2);
    let plain = connect(&format!("{base}?ha=sequential")).unwrap();
    assert_eq!(plain.endpoint(), Some(0), "without galera=true the desynced node is taken");
    assert_eq!(block_on(plain.galera_state()).unwrap(), NodeState::Galera { ready: true, local_state: 2 });
    let checked = connect(&format!("{base}?ha=sequential&galera=true&wsrep_sync_wait=1")).unwrap();
    assert_eq!(checked.endpoint(), Some(1));
    // Causal reads are on for the session.
    assert_eq!(int(scalar(&checked, "SELECT @@wsrep_sync_wait")), 1);
    // The pool's idle connection is on the desynced node: acquire sets it aside for another.
    {
        let conn = block_on(pool.acquire()).unwrap();
        assert_eq!(conn.endpoint(), Some(1));
        assert_eq!(int(scalar(&conn, "SELECT 1")), 1);
    }
    assert!(pool.counters().evicted >= 1, "{:?}", pool.counters());
    cluster.nodes[0].admin_sql("SET GLOBAL wsrep_desync = OFF").unwrap();
    wait_state(&cluster, 0, 4);
    // With every node out of Synced, connect fails with the retryable 1047 a joiner would send.
    for node in &cluster.nodes {
        node.admin_sql("SET GLOBAL wsrep_desync = ON").unwrap();
    }
    let e = connect(&format!("{base}?galera=true")).unwrap_err();
    for node in &cluster.nodes {
        node.admin_sql("SET GLOBAL wsrep_desync = OFF").unwrap();
    }
    assert!(matches!(&e, Error::Server { code: 1047, .. }) && e.is_retryable(), "{e:?}");
    for i in 0..3 {
        wait_state(&cluster, i, 4);
    }
    block_on(pool.terminate());
}

#[test]
fn a_certification_conflict_is_a_retryable_1213_and_the_helper_commits_once() {
    let cluster = cluster();
    cluster.nodes[0]
        .admin_sql(
            "DROP TABLE IF EXISTS test.hot; CREATE TABLE test.hot (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; \
             INSERT INTO test.hot VALUES (1, 0)",
        )
        .unwrap();
    cluster.wait_applied("SELECT v FROM test.hot WHERE id = 1").unwrap_or_else(|e| panic!("{e:#}"));
    let base = cluster.url("test");
    // The helper's transactions run on node 1; the conflicting writer is on node 2.
    let pool = block_on(Pool::create(
        parse_url(&format!("{base}?ha=sequential&galera=true")).unwrap(),
        PoolOptions { minsize: 1, maxsize: 1, ..PoolOptions::default() },
        Rc::new(NativeRuntime),
    ))
    .unwrap();
    // Autocommit, so each UPDATE commits at once; causal reads, so its last SELECT sees what node 1
    // committed.
    let other = connect(&format!(
        "mysql://root:{}@127.0.0.1:{}/test?autocommit=true&wsrep_sync_wait=1",
        cluster.nodes[0].root_password, cluster.nodes[1].port
    ))
    .unwrap();
    // First, the error itself: node 2 commits the same row while node 1's transaction holds it.
    let mine = block_on(pool.acquire()).unwrap();
    assert_eq!(mine.endpoint(), Some(0));
    exec(&mine, "START TRANSACTION").unwrap();
    exec(&mine, "UPDATE hot SET v = v + 1 WHERE id = 1").unwrap();
    exec(&other, "UPDATE hot SET v = v + 100 WHERE id = 1").unwrap();
    let e = exec(&mine, "COMMIT").unwrap_err();
    assert!(matches!(&e, Error::Server { code: 1213, sqlstate, .. } if sqlstate == "40001"), "{e:?}");
    assert!(e.is_retryable());
    let _ = exec(&mine, "ROLLBACK");
    drop(mine);
    // Then the helper: the first run loses the same race, the second commits.
    let attempts = Cell::new(0u32);
    let policy = RetryPolicy { backoff: Duration::ZERO, ..RetryPolicy::default() };
    block_on(pool.transaction_with(&policy, |conn| {
        attempts.set(attempts.get() + 1);
        let first = attempts.get() == 1;
        let other = &other;
        async move {
            conn.cursor().execute("UPDATE hot SET v = v + 1 WHERE id = 1", None).await?;
            if first {
                other.cursor().execute("UPDATE hot SET v = v + 100 WHERE id = 1", None).await.unwrap();
            }
            Ok(())
        }
    }))
    .unwrap();
    assert_eq!(attempts.get(), 2);
    // 100 twice from node 2, 1 once from the helper: nothing lost, nothing applied twice.
    assert_eq!(int(scalar(&other, "SELECT v FROM hot WHERE id = 1")), 201);
    block_on(pool.terminate());
}

const ACCOUNTS: i64 = 20;
const OPENING_BALANCE: i64 = 1000;

/// How one transfer ended, as its caller saw it.
struct Outcome {
    id: i64,
    result: Result<(), Error>,
    /// Endpoint and start of every run of the closure.
    runs: Vec<(Option<usize>, Instant)>,
}

/// One worker: its own pool over the whole cluster, transfers until told to stop.
fn worker(url: String, n: i64, stop: Arc<AtomicBool>, committed: Arc<AtomicUsize>) -> Vec<Outcome> {
    let pool = block_on(Pool::create(
        parse_url(&url).unwrap(),
        PoolOptions { minsize: 0, maxsize: 2, ..PoolOptions::default() },
        Rc::new(NativeRuntime),
    ))
    .unwrap();
    let policy = RetryPolicy { max_attempts: 8, backoff: Duration::from_millis(5), ..RetryPolicy::default() };
    let mut outcomes = Vec::new();
    let mut k = 0i64;
    while !stop.load(Ordering::Relaxed) {
        k += 1;
        let id = n * 1_000_000 + k;
        let from = (id * 7) % ACCOUNTS + 1;
        let to = (id * 13 + 5) % ACCOUNTS + 1;
        let to = if to == from { to % ACCOUNTS + 1 } else { to };
        let amount = id % 50 + 1;
        let runs = std::cell::RefCell::new(Vec::new());
        let result = block_on(pool.transaction_with(&policy, |conn| {
            runs.borrow_mut().push((conn.endpoint(), Instant::now()));
            async move {
                let mut cur = conn.cursor();
                cur.execute(&format!("UPDATE accounts SET balance = balance - {amount} WHERE id = {from}"), None)
                    .await?;
                cur.execute(&format!("UPDATE accounts SET balance = balance + {amount} WHERE id = {to}"), None).await?;
                cur.execute(
                    &format!(
                        "INSERT INTO ledger (transfer_id, src, dst, amount) VALUES ({id}, {from}, {to}, {amount})"
                    ),
                    None,
                )
                .await?;
                Ok(())
            }
        }));
        if result.is_ok() {
            committed.fetch_add(1, Ordering::Relaxed);
        }
        outcomes.push(Outcome { id, result, runs: runs.into_inner() });
    }
    block_on(pool.terminate());
    outcomes
}

/// Waits until `committed` grew by `n` (bounded: a stalled cluster fails the test).
fn wait_commits(committed: &AtomicUsize, n: usize) {
    let target = committed.load(Ordering::Relaxed) + n;
    let deadline = Instant::now() + Duration::from_secs(120);
    while committed.load(Ordering::Relaxed) < target {
        assert!(Instant::now() < deadline, "transfers stalled at {}", committed.load(Ordering::Relaxed));
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_node_killed_under_load_loses_no_transfer_and_applies_none_twice() {
    let mut cluster = cluster();
    let values: Vec<String> = (1..=ACCOUNTS).map(|i| format!("({i}, {OPENING_BALANCE})")).collect();
    cluster.nodes[0]
        .admin_sql(&format!(
            "DROP TABLE IF EXISTS test.accounts, test.ledger; \
             CREATE TABLE test.accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB; \
             CREATE TABLE test.ledger (n BIGINT AUTO_INCREMENT PRIMARY KEY, transfer_id BIGINT NOT NULL, \
               src INT NOT NULL, dst INT NOT NULL, amount BIGINT NOT NULL) ENGINE=InnoDB; \
             INSERT INTO test.accounts VALUES {}",
            values.join(",")
        ))
        .unwrap();
    cluster
        .wait_applied(&format!(
            "SELECT (SELECT COUNT(*) FROM test.ledger), balance FROM test.accounts WHERE id = {ACCOUNTS}"
        ))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let url = format!("{}?ha=loadbalance&galera=true&retry_down_after=1&connect_timeout=10", cluster.url("test"));
    let stop = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (1..=6)
        .map(|n| {
            let (url, stop, committed) = (url.clone(), stop.clone(), committed.clone());
            thread::spawn(move || worker(url, n, stop, committed))
        })
        .collect();
    wait_commits(&committed, 60);
    let dead = 1;
    let killed_at = Instant::now();
    cluster.kill(dead);
    // Throughput recovers on the two nodes left.
    wait_commits(&committed, 120);
    let restart_at = Instant::now();
    cluster.restart(dead).unwrap_or_else(|e| panic!("{e:#}"));
    wait_commits(&committed, 60);
    stop.store(true, Ordering::Relaxed);
    let outcomes: Vec<Outcome> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();

    // The server's record: every ledger row, and the balances.
    let node = &cluster.nodes[0];
    let ledger = node.admin_sql("SELECT transfer_id, src, dst, amount FROM test.ledger").unwrap();
    let mut applied: HashMap<i64, usize> = HashMap::new();
    let mut expected = vec![OPENING_BALANCE; ACCOUNTS as usize + 1];
    for line in ledger.lines() {
        let f: Vec<i64> = line.split('\t').map(|x| x.parse().unwrap()).collect();
        *applied.entry(f[0]).or_default() += 1;
        expected[f[1] as usize] -= f[3];
        expected[f[2] as usize] += f[3];
    }
    let balances = node.admin_sql("SELECT id, balance FROM test.accounts ORDER BY id").unwrap();
    for line in balances.lines() {
        let f: Vec<i64> = line.split('\t').map(|x| x.parse().unwrap()).collect();
        assert_eq!(f[1], expected[f[0] as usize], "account {} differs from its ledger", f[0]);
    }
    let sum = node.admin_sql("SELECT SUM(balance) FROM test.accounts").unwrap();
    assert_eq!(sum.trim().parse::<i64>().unwrap(), ACCOUNTS * OPENING_BALANCE);
    assert!(applied.values().all(|&n| n == 1), "a transfer was applied twice");
    // Every transfer reported committed is there exactly once; one that failed is there at most
    // once, and only when its COMMIT got no answer (its outcome was unknown, never retried).
    let mut failed = 0;
    for o in &outcomes {
        match &o.result {
            Ok(()) => assert_eq!(applied.get(&o.id), Some(&1), "transfer {} committed but missing", o.id),
            Err(e) => {
                failed += 1;
                if applied.contains_key(&o.id) {
                    assert!(!e.is_retryable() || matches!(e, Error::ConnectionLost(_) | Error::Broken), "{e:?}");
                }
            }
        }
    }
    let ids: HashSet<i64> = outcomes.iter().map(|o| o.id).collect();
    assert!(applied.keys().all(|id| ids.contains(id)), "a ledger row no caller made");
    // The dead node takes no transaction between its pool's first failure on it and its restart.
    let mut by_worker: HashMap<i64, Vec<&Outcome>> = HashMap::new();
    for o in &outcomes {
        by_worker.entry(o.id / 1_000_000).or_default().push(o);
    }
    for list in by_worker.values() {
        let detected = list
            .iter()
            .flat_map(|o| o.runs.iter())
            .filter(|(ep, t)| *ep == Some(dead) && *t > killed_at)
            .map(|(_, t)| *t)
            .min();
        if let Some(detected) = detected {
            let later = list
                .iter()
                .flat_map(|o| o.runs.iter())
                .filter(|(ep, t)| *ep == Some(dead) && *t > detected && *t < restart_at)
                .count();
            assert_eq!(later, 0, "runs on the dead node after its failure was seen");
        }
    }
    let after_restart = outcomes.iter().filter(|o| o.result.is_ok() && o.runs.last().is_some_and(|r| r.1 > restart_at));
    assert!(after_restart.count() > 0);
    eprintln!("{} transfers, {failed} failed with a typed error", outcomes.len());
}

#[test]
fn replication_sends_writes_to_the_primary_and_reads_to_the_replica_then_falls_back() {
    let pair = ReplicaPair::start().unwrap_or_else(|e| panic!("{e:#}"));
    let url = pair.url("test");
    let pool = block_on(Pool::create(
        parse_url(&url).unwrap(),
        PoolOptions { minsize: 1, maxsize: 2, ..PoolOptions::default() },
        Rc::new(NativeRuntime),
    ))
    .unwrap();
    let server_id = |c: &Connection| int(scalar(c, "SELECT @@server_id"));
    {
        let w = block_on(pool.acquire()).unwrap();
        assert_eq!((w.endpoint(), server_id(&w)), (Some(0), 1));
        exec(&w, "CREATE TABLE routed (id INT PRIMARY KEY, v VARCHAR(10))").unwrap();
        exec(&w, "INSERT INTO routed VALUES (1, 'written')").unwrap();
        exec(&w, "COMMIT").unwrap();
    }
    pair.wait_caught_up().unwrap();
    {
        let r = block_on(pool.acquire_read()).unwrap();
        assert_eq!((r.endpoint(), server_id(&r)), (Some(1), 2));
        assert_eq!(scalar(&r, "SELECT v FROM routed WHERE id = 1"), Value::Text("written".into()));
    }
    // A connection asked for reads by URL goes to the replica too; writes never do.
    let reader = connect(&format!("{url}&read_only=true")).unwrap();
    assert_eq!(server_id(&reader), 2);
    assert_eq!(server_id(&connect(&url).unwrap()), 1);
    // With the replica stopped, reads fall back to the primary.
    pair.replica.admin_sql("SHUTDOWN").unwrap();
    block_on(pool.clear());
    let r = block_on(pool.acquire_read()).unwrap();
    assert_eq!((r.endpoint(), server_id(&r)), (Some(0), 1));
    drop(r);
    block_on(pool.terminate());
}
