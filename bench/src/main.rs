//! Benchmarks (issue: peers and a first performance pass): the component through wasmtime, the same
//! core natively, and mysql_async on tokio, against a throwaway MariaDB, interleaved, median of runs.
//!
//!     cargo run --release -p cymysql-bench [-- --runs N --out FILE --only w1,w2,w2e --sides component,native,reference]
//!
//! `--sides` runs only some implementations, so that a profiler (callgrind) sees one at a time;
//! `async` is the WASI 0.3 component.

mod async_world;
mod codec;

use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use cymysql_wasi::protocol::compress::Algorithm;
use host_test::driver::{
    EventLogOptions, Host, Params as WParams, Sandbox, Session, Statement, StatementText, Value as WValue,
};
use host_test::server::TestServer;
use mysql_async::prelude::*;

const ROWS: i64 = 200_000;
const POINT_QUERIES: i64 = 20_000;
const TASKS: usize = 64;
const POOL: u32 = 16;
const INSERT_ROWS: i64 = 50_000;

fn ok<T>(r: Result<T, host_test::driver::DbError>) -> Result<T> {
    r.map_err(|e| anyhow!("{e:?}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// One line of the table: a rate (higher is better) or a time (lower is better) per implementation.
struct Line {
    name: &'static str,
    unit: &'static str,
    higher_is_better: bool,
    component: Option<f64>,
    native: Option<f64>,
    reference: Option<f64>,
}

fn ratio(ours: Option<f64>, reference: Option<f64>, higher_is_better: bool) -> String {
    match (ours, reference) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 => {
            format!("{:.2}x", if higher_is_better { a / b } else { b / a })
        }
        _ => "-".into(),
    }
}

fn cell(v: Option<f64>) -> String {
    match v {
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
        None => "n/a".into(),
    }
}

fn load_table(server: &TestServer) -> Result<()> {
    server.admin_sql(&format!(
        "USE test; DROP TABLE IF EXISTS test.bench;
         CREATE TABLE test.bench (id INT PRIMARY KEY, big BIGINT, dbl DOUBLE, amount DECIMAL(12,2), name VARCHAR(64),
             body TEXT, ts DATETIME(6), day DATE, bin VARBINARY(64));
         INSERT INTO test.bench SELECT seq, seq * 1234567, seq / 7, (seq % 100000) / 100, CONCAT('name-', seq),
             RPAD(CONCAT('body ', seq, ' '), 200, 'lorem ipsum '),
             TIMESTAMPADD(MICROSECOND, seq * 1000003, '2024-01-01 00:00:00'), DATE_ADD('2000-01-01', INTERVAL seq % 9000 DAY),
             UNHEX(SHA2(seq, 256)) FROM seq_1_to_{ROWS};
         CREATE TABLE test.bench_insert LIKE test.bench;"
    ))?;
    Ok(())
}

struct Component {
    s: Session,
    conn: host_test::driver::Conn,
}

impl Component {
    fn connect(host: &Host, url: &str) -> Result<Component> {
        let mut s = host.instantiate(&Sandbox::default())?;
        let conn = ok(s.connect_url(url)?)?;
        Ok(Component { s, conn })
    }

    /// A connection whose statement events go to an event log of 1024 (digest text), drained by
    /// `w2_drain`: W2 with a listener, for the overhead of observability.
    fn connect_logged(host: &Host, url: &str) -> Result<Component> {
        let mut s = host.instantiate(&Sandbox::default())?;
        let mut o = ok(s.options_from_url(url)?)?;
        o.event_log = Some(EventLogOptions { capacity: 1024, statement_text: StatementText::Digest });
        let conn = ok(s.connect(&o)?)?;
        Ok(Component { s, conn })
    }

    /// W2, then the events kept taken across the boundary, as a host polling the log would.
    fn w2_drain(&mut self) -> Result<usize> {
        let n = self.w2()?;
        let kept = self.s.take_events(self.conn)?.len();
        assert_eq!(kept, 1024);
        Ok(n)
    }

    fn w1_fetchall(&mut self) -> Result<usize> {
        let cur = self.s.cursor(self.conn)?;
        ok(self.s.execute(cur, "SELECT * FROM bench", None)?)?;
        let n = ok(self.s.fetchall(cur)?)?.len();
        self.s.drop_cursor(cur)?;
        Ok(n)
    }

    /// W1 through `fetch-columns`: the same rows, one list a column.
    fn w1_columns(&mut self) -> Result<usize> {
        let cur = self.s.cursor(self.conn)?;
        ok(self.s.execute(cur, "SELECT * FROM bench", None)?)?;
        let n = ok(self.s.fetch_columns(cur, None)?)?.rows as usize;
        self.s.drop_cursor(cur)?;
        Ok(n)
    }

    /// W1 as a bulk reader would take it: an unbuffered cursor and `fetch-columns` in batches of
    /// 10,000 rows, built straight from the row packets.
    fn w1_columns_unbuffered(&mut self) -> Result<usize> {
        let cur = self.s.ss_cursor(self.conn)?;
        ok(self.s.execute(cur, "SELECT * FROM bench", None)?)?;
        let mut n = 0;
        loop {
            let rows = ok(self.s.fetch_columns(cur, Some(10_000))?)?.rows as usize;
            if rows == 0 {
                break;
            }
            n += rows;
        }
        self.s.drop_cursor(cur)?;
        Ok(n)
    }

    fn w1_fetchmany(&mut self, sql: &str) -> Result<usize> {
        let cur = self.s.ss_cursor(self.conn)?;
        ok(self.s.execute(cur, sql, None)?)?;
        let mut n = 0;
        loop {
            let batch = ok(self.s.fetchmany(cur, Some(1000))?)?;
            if batch.is_empty() {
                break;
            }
            n += batch.len();
        }
        self.s.drop_cursor(cur)?;
        Ok(n)
    }

    fn w2(&mut self) -> Result<usize> {
        let cur = self.s.cursor(self.conn)?;
        let mut n = 0;
        for i in 0..POINT_QUERIES {
            let id = (i * 7919) % ROWS + 1;
            let p = WParams::Positional(vec![WValue::Int(id)]);
            ok(self.s.execute(cur, "SELECT * FROM bench WHERE id = %s", Some(&p))?)?;
            n += ok(self.s.fetchone(cur)?)?.is_some() as usize;
        }
        self.s.drop_cursor(cur)?;
        Ok(n)
    }

    fn w3(&mut self, url: &str, reset: bool) -> Result<Duration> {
        let o = ok(self.s.options_from_url(url)?)?;
        let mut settings = self.s.default_pool_options()?;
        settings.minsize = POOL;
        settings.maxsize = POOL;
        settings.reset_on_release = reset;
        let pool = ok(self.s.create_pool_with(&o, &settings)?)?;
        let per_task = POINT_QUERIES as usize / TASKS;
        let tasks: Vec<Vec<Statement>> = (0..TASKS)
            .map(|t| {
                (0..per_task)
                    .map(|q| Statement {
                        query: "SELECT * FROM bench WHERE id = %s".into(),
                        params: Some(WParams::Positional(vec![WValue::Int(
                            ((t * per_task + q) as i64 * 7919) % ROWS + 1,
                        )])),
                    })
                    .collect()
            })
            .collect();
        let t = Instant::now();
        let results = self.s.gather(pool, &tasks)?;
        let elapsed = t.elapsed();
        self.s.pool_terminate(pool)?;
        let mut n = 0;
        for r in results {
            n += ok(r)?.len();
        }
        assert_eq!(n, POINT_QUERIES as usize / TASKS * TASKS);
        Ok(elapsed)
    }

    /// Wall time of `n` concurrent `SELECT SLEEP(0.2)` over a pool of `n`: one query's time if they overlap.
    fn sleepers(&mut self, url: &str, n: u32) -> Result<Duration> {
        let o = ok(self.s.options_from_url(url)?)?;
        let pool = ok(self.s.create_pool(&o, n, n, None)?)?;
        let tasks: Vec<Vec<Statement>> =
            (0..n).map(|_| vec![Statement { query: "SELECT SLEEP(0.2)".into(), params: None }]).collect();
        let t = Instant::now();
        let results = self.s.gather(pool, &tasks)?;
        let elapsed = t.elapsed();
        assert!(results.iter().all(|r| r.is_ok()));
        self.s.pool_terminate(pool)?;
        Ok(elapsed)
    }

    fn w4(&mut self) -> Result<Duration> {
        let cur = self.s.cursor(self.conn)?;
        ok(self.s.execute(cur, "TRUNCATE bench_insert", None)?)?;
        let rows: Vec<WParams> = (1..=INSERT_ROWS)
            .map(|i| {
                WParams::Positional(vec![
                    WValue::Int(i),
                    WValue::Int(i * 1234567),
                    WValue::Double(i as f64 / 7.0),
                    WValue::Decimal(format!("{}.{:02}", i % 1000, i % 100)),
                    WValue::Text(format!("name-{i}")),
                    WValue::Text(format!("{:<200}", format!("body {i}"))),
                    WValue::Text("2024-01-01 00:00:00.000001".into()),
                    WValue::Text("2001-02-03".into()),
                    WValue::Bytes(vec![(i % 256) as u8; 32]),
                ])
            })
            .collect();
        let t = Instant::now();
        ok(self.s.execute(cur, "BEGIN", None)?)?;
        let n = ok(self.s.executemany(
            cur,
            "INSERT INTO bench_insert VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            &rows,
        )?)?;
        ok(self.s.commit(self.conn)?)?;
        let elapsed = t.elapsed();
        self.s.drop_cursor(cur)?;
        assert_eq!(n, INSERT_ROWS as u64);
        Ok(elapsed)
    }
}

mod native {
    //! The same core on the native target, over blocking std sockets.
    use super::*;
    use cymysql_wasi::client::events::{EventOptions, Listener, StatementEvent};
    use cymysql_wasi::client::native::NativeRuntime;
    use cymysql_wasi::client::url::parse_url;
    use cymysql_wasi::{Connection, Params, Value};
    use futures::executor::block_on;

    pub fn connect(url: &str) -> Result<Connection> {
        Ok(block_on(Connection::connect(parse_url(url)?, Rc::new(NativeRuntime)))?)
    }

    /// Counts statement events: the least a listener can do.
    #[derive(Default)]
    pub struct Counter(pub std::cell::Cell<u64>);

    impl Listener for Counter {
        fn on_statement(&self, _: &StatementEvent) {
            self.0.set(self.0.get() + 1);
        }
    }

    /// A connection whose statement events (digest text) go to `listener`.
    pub fn connect_listened(url: &str, listener: Rc<Counter>) -> Result<Connection> {
        let mut o = parse_url(url)?;
        o.events = EventOptions::to(listener);
        Ok(block_on(Connection::connect(o, Rc::new(NativeRuntime)))?)
    }

    #[inline(never)] // a symbol of its own, for callgrind --toggle-collect
    pub fn w1(conn: &Connection) -> Result<usize> {
        block_on(async {
            let mut c = conn.cursor();
            c.execute("SELECT * FROM bench", None).await?;
            Ok(c.fetchall().await?.len())
        })
    }

    #[inline(never)] // a symbol of its own, for callgrind --toggle-collect
    pub fn w1_fetchmany(conn: &Connection) -> Result<usize> {
        block_on(async {
            let mut c = conn.ss_cursor();
            c.execute("SELECT * FROM bench", None).await?;
            let mut n = 0;
            loop {
                let b = c.fetchmany(Some(1000)).await?;
                if b.is_empty() {
                    break Ok(n);
                }
                n += b.len();
            }
        })
    }

    #[inline(never)] // a symbol of its own, for callgrind --toggle-collect
    pub fn w2(conn: &Connection) -> Result<usize> {
        block_on(async {
            let mut c = conn.cursor();
            let mut n = 0;
            for i in 0..POINT_QUERIES {
                let id = (i * 7919) % ROWS + 1;
                c.execute("SELECT * FROM bench WHERE id = %s", Some(&Params::Positional(vec![Value::Int(id)]))).await?;
                n += c.fetchone().await?.is_some() as usize;
            }
            Ok(n)
        })
    }

    #[inline(never)] // a symbol of its own, for callgrind --toggle-collect
    pub fn w4(conn: &Connection) -> Result<Duration> {
        block_on(async {
            let mut c = conn.cursor();
            c.execute("TRUNCATE bench_insert", None).await?;
            let rows: Vec<Params> = (1..=INSERT_ROWS)
                .map(|i| {
                    Params::Positional(vec![
                        Value::Int(i),
                        Value::Int(i * 1234567),
                        Value::Double(i as f64 / 7.0),
                        Value::Decimal(format!("{}.{:02}", i % 1000, i % 100)),
                        Value::Text(format!("name-{i}")),
                        Value::Text(format!("{:<200}", format!("body {i}"))),
                        Value::Text("2024-01-01 00:00:00.000001".into()),
                        Value::Text("2001-02-03".into()),
                        Value::Bytes(vec![(i % 256) as u8; 32]),
                    ])
                })
                .collect();
            let t = Instant::now();
            c.execute("BEGIN", None).await?;
            c.executemany("INSERT INTO bench_insert VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", &rows).await?;
            conn.commit().await?;
            Ok(t.elapsed())
        })
    }
}

mod reference {
    //! mysql_async on a current-thread tokio runtime (one core, like the component).
    use super::*;
    use mysql_async::{Conn, Opts, Pool, Row, Value};

    pub fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
    }

    pub async fn connect(url: &str) -> Result<Conn> {
        Ok(Conn::new(Opts::from_url(url)?).await?)
    }

    /// Every value decoded: rows come from the binary protocol as typed values.
    pub async fn w1(conn: &mut Conn) -> Result<usize> {
        let rows: Vec<Row> = conn.exec("SELECT * FROM bench", ()).await?;
        let decoded: Vec<Vec<Value>> = rows.into_iter().map(Row::unwrap).collect();
        Ok(decoded.len())
    }

    pub async fn w1_stream(conn: &mut Conn) -> Result<usize> {
        let mut result = conn.exec_iter("SELECT * FROM bench", ()).await?;
        let mut n = 0;
        while let Some(row) = result.next().await? {
            let v: Vec<Value> = row.unwrap();
            n += !v.is_empty() as usize;
        }
        Ok(n)
    }

    pub async fn w2(conn: &mut Conn) -> Result<usize> {
        let mut n = 0;
        for i in 0..POINT_QUERIES {
            let id = (i * 7919) % ROWS + 1;
            let row: Option<Row> = conn.exec_first("SELECT * FROM bench WHERE id = ?", (id,)).await?;
            n += row.map(|r| r.unwrap().len()).is_some() as usize;
        }
        Ok(n)
    }

    /// W2 as our driver runs it, for comparison: the text protocol, the id in the statement.
    pub async fn w2_text(conn: &mut Conn) -> Result<usize> {
        let mut n = 0;
        for i in 0..POINT_QUERIES {
            let id = (i * 7919) % ROWS + 1;
            let row: Option<Row> = conn.query_first(format!("SELECT * FROM bench WHERE id = {id}")).await?;
            n += row.map(|r| r.unwrap().len()).is_some() as usize;
        }
        Ok(n)
    }

    /// W3; `prepared` false runs it as our driver does, the id in the statement's text.
    pub async fn w3(url: &str, prepared: bool) -> Result<Duration> {
        let opts = mysql_async::OptsBuilder::from_opts(Opts::from_url(url)?).pool_opts(
            mysql_async::PoolOpts::default().with_constraints(
                mysql_async::PoolConstraints::new(POOL as usize, POOL as usize).expect("constraints"),
            ),
        );
        let pool = Pool::new(opts);
        let per_task = POINT_QUERIES as usize / TASKS;
        // Open the connections first, as the component's pool does at create.
        let warm: Vec<_> = futures::future::join_all((0..POOL).map(|_| pool.get_conn())).await;
        drop(warm);
        let t = Instant::now();
        let tasks = (0..TASKS).map(|t| {
            let pool = pool.clone();
            async move {
                let mut conn = pool.get_conn().await?;
                for q in 0..per_task {
                    let id = ((t * per_task + q) as i64 * 7919) % ROWS + 1;
                    let _row: Option<Row> = if prepared {
                        conn.exec_first("SELECT * FROM bench WHERE id = ?", (id,)).await?
                    } else {
                        conn.query_first(format!("SELECT * FROM bench WHERE id = {id}")).await?
                    };
                }
                Ok::<_, mysql_async::Error>(())
            }
        });
        for r in futures::future::join_all(tasks).await {
            r?;
        }
        let elapsed = t.elapsed();
        pool.disconnect().await?;
        Ok(elapsed)
    }

    pub async fn w4(conn: &mut Conn) -> Result<Duration> {
        conn.query_drop("TRUNCATE bench_insert").await?;
        let t = Instant::now();
        let mut tx = conn.start_transaction(mysql_async::TxOpts::default()).await?;
        tx.exec_batch(
            "INSERT INTO bench_insert VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (1..=INSERT_ROWS).map(|i| {
                (
                    i,
                    i * 1234567,
                    i as f64 / 7.0,
                    format!("{}.{:02}", i % 1000, i % 100),
                    format!("name-{i}"),
                    format!("{:<200}", format!("body {i}")),
                    "2024-01-01 00:00:00.000001",
                    "2001-02-03",
                    vec![(i % 256) as u8; 32],
                )
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(t.elapsed())
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize =
        args.iter().position(|a| a == "--runs").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(5);
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "bench/results.md".into());

    let only: Option<String> = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let want = |w: &str| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == w));
    let sides: Option<String> = args.iter().position(|a| a == "--sides").and_then(|i| args.get(i + 1)).cloned();
    let side = |s: &str| sides.as_deref().is_none_or(|o| o.split(',').any(|x| x == s));
    let (comp_on, native_on, ref_on) = (side("component"), side("native"), side("reference"));
    let async_on = side("async");

    eprintln!("[setup] starting MariaDB and loading {ROWS} rows");
    let server = TestServer::start()?;
    load_table(&server)?;
    let url = server.url("test");
    let host = Host::load(&host_test::driver::component_path())?;
    let rt = reference::rt();

    let mut comp = Component::connect(&host, &url)?;
    let async_host = host_test::driver_async::AsyncHost::load(&host_test::driver_async::component_path())?;
    let mut comp03 = async_world::AsyncComponent::connect(&async_host, &url)?;
    let native_conn = native::connect(&url)?;
    let mut async_conn = rt.block_on(reference::connect(&url))?;
    let mut compressed = Component::connect(&host, &format!("{url}?compress=zlib"))?;
    let native_compressed = native::connect(&format!("{url}?compress=zlib"))?;
    let mut async_compressed = rt.block_on(reference::connect(&format!("{url}?compression=fast")))?;
    let mut logged = Component::connect_logged(&host, &url)?;
    let counter = Rc::new(native::Counter::default());
    let native_listened = native::connect_listened(&url, counter.clone())?;
    // The same workloads with the connect option a user picks for them when prepared statements
    // suit: execute with parameters prepared once from the cache, executemany as MariaDB's bulk execute.
    let prep_url = format!("{url}?prepared_execution=true");
    let mut comp_prep = Component::connect(&host, &prep_url)?;
    let native_prep = native::connect(&prep_url)?;

    let mut t: std::collections::HashMap<&'static str, Vec<f64>> = Default::default();
    let mut push = |k: &'static str, v: f64| t.entry(k).or_default().push(v);
    for run in 1..=runs {
        if want("w1") {
            eprintln!("[run {run}/{runs}] W1 fetchall");
            if comp_on {
                let s = Instant::now();
                assert_eq!(comp.w1_fetchall()?, ROWS as usize);
                push("w1c", ROWS as f64 / secs(s.elapsed()));
                let s = Instant::now();
                assert_eq!(comp.w1_columns()?, ROWS as usize);
                push("w1k", ROWS as f64 / secs(s.elapsed()));
                let s = Instant::now();
                assert_eq!(comp.w1_columns_unbuffered()?, ROWS as usize);
                push("w1ku", ROWS as f64 / secs(s.elapsed()));
            }
            if async_on {
                let s = Instant::now();
                assert_eq!(comp03.w1_stream()?, ROWS as usize);
                push("w1a", ROWS as f64 / secs(s.elapsed()));
            }
            if native_on {
                let s = Instant::now();
                assert_eq!(native::w1(&native_conn)?, ROWS as usize);
                push("w1n", ROWS as f64 / secs(s.elapsed()));
            }
            if ref_on {
                let s = Instant::now();
                assert_eq!(rt.block_on(reference::w1(&mut async_conn))?, ROWS as usize);
                push("w1r", ROWS as f64 / secs(s.elapsed()));
            }
        }
        if want("w1z") {
            eprintln!("[run {run}/{runs}] W1 fetchall with zlib compression");
            if comp_on {
                let s = Instant::now();
                assert_eq!(compressed.w1_fetchall()?, ROWS as usize);
                push("w1zc", ROWS as f64 / secs(s.elapsed()));
            }
            if native_on {
                let s = Instant::now();
                assert_eq!(native::w1(&native_compressed)?, ROWS as usize);
                push("w1zn", ROWS as f64 / secs(s.elapsed()));
            }
            if ref_on {
                let s = Instant::now();
                assert_eq!(rt.block_on(reference::w1(&mut async_compressed))?, ROWS as usize);
                push("w1zr", ROWS as f64 / secs(s.elapsed()));
            }
        }
        if want("w1m") {
            eprintln!("[run {run}/{runs}] W1 fetchmany(1000)");
            if comp_on {
                let s = Instant::now();
                assert_eq!(comp.w1_fetchmany("SELECT * FROM bench")?, ROWS as usize);
                push("w1mc", ROWS as f64 / secs(s.elapsed()));
            }
            if native_on {
                let s = Instant::now();
                assert_eq!(native::w1_fetchmany(&native_conn)?, ROWS as usize);
                push("w1mn", ROWS as f64 / secs(s.elapsed()));
            }
            if ref_on {
                let s = Instant::now();
                assert_eq!(rt.block_on(reference::w1_stream(&mut async_conn))?, ROWS as usize);
                push("w1mr", ROWS as f64 / secs(s.elapsed()));
            }
        }
        if want("w2") {
            eprintln!("[run {run}/{runs}] W2 {POINT_QUERIES} point queries");
            if comp_on {
                let s = Instant::now();
                assert_eq!(comp.w2()?, POINT_QUERIES as usize);
                push("w2c", POINT_QUERIES as f64 / secs(s.elapsed()));
                let s = Instant::now();
                assert_eq!(comp_prep.w2()?, POINT_QUERIES as usize);
                push("w2cp", POINT_QUERIES as f64 / secs(s.elapsed()));
            }
            if async_on {
                let s = Instant::now();
                assert_eq!(comp03.w2()?, POINT_QUERIES as usize);
                push("w2a", POINT_QUERIES as f64 / secs(s.elapsed()));
            }
            if native_on {
                let s = Instant::now();
                assert_eq!(native::w2(&native_conn)?, POINT_QUERIES as usize);
                push("w2n", POINT_QUERIES as f64 / secs(s.elapsed()));
                let s = Instant::now();
                assert_eq!(native::w2(&native_prep)?, POINT_QUERIES as usize);
                push("w2np", POINT_QUERIES as f64 / secs(s.elapsed()));
            }
            if ref_on {
                let s = Instant::now();
                assert_eq!(rt.block_on(reference::w2(&mut async_conn))?, POINT_QUERIES as usize);
                push("w2r", POINT_QUERIES as f64 / secs(s.elapsed()));
                let s = Instant::now();
                assert_eq!(rt.block_on(reference::w2_text(&mut async_conn))?, POINT_QUERIES as usize);
                push("w2rt", POINT_QUERIES as f64 / secs(s.elapsed()));
            }
        }
        if want("w2e") {
            eprintln!("[run {run}/{runs}] W2 {POINT_QUERIES} point queries with an event log / a listener");
            if comp_on {
                let s = Instant::now();
                assert_eq!(logged.w2_drain()?, POINT_QUERIES as usize);
                push("w2ec", POINT_QUERIES as f64 / secs(s.elapsed()));
            }
            if native_on {
                let heard = counter.0.get();
                let s = Instant::now();
                assert_eq!(native::w2(&native_listened)?, POINT_QUERIES as usize);
                push("w2en", POINT_QUERIES as f64 / secs(s.elapsed()));
                assert_eq!(counter.0.get() - heard, POINT_QUERIES as u64);
            }
        }
        if want("w3") {
            eprintln!("[run {run}/{runs}] W3 {TASKS} tasks over a pool of {POOL}");
            if comp_on {
                push("w3c", POINT_QUERIES as f64 / secs(comp.w3(&url, true)?));
                push("w3cn", POINT_QUERIES as f64 / secs(comp.w3(&url, false)?));
                push("w3cp", POINT_QUERIES as f64 / secs(comp.w3(&prep_url, true)?));
            }
            if async_on {
                push("w3a", POINT_QUERIES as f64 / secs(comp03.w3(&url)?));
            }
            if ref_on {
                let d = rt.block_on(reference::w3(&url, true))?;
                push("w3r", POINT_QUERIES as f64 / secs(d));
                let d = rt.block_on(reference::w3(&url, false))?;
                push("w3rt", POINT_QUERIES as f64 / secs(d));
            }
        }
        if want("sleep") {
            eprintln!("[run {run}/{runs}] 16 concurrent SELECT SLEEP(0.2)");
            if comp_on {
                push("sl16", secs(comp.sleepers(&url, 16)?));
                push("sl1", secs(comp.sleepers(&url, 1)?));
            }
        }
        if want("w4") {
            eprintln!("[run {run}/{runs}] W4 executemany of {INSERT_ROWS} rows");
            if comp_on {
                push("w4c", INSERT_ROWS as f64 / secs(comp.w4()?));
                push("w4cp", INSERT_ROWS as f64 / secs(comp_prep.w4()?));
            }
            if native_on {
                let d = native::w4(&native_conn)?;
                push("w4n", INSERT_ROWS as f64 / secs(d));
                let d = native::w4(&native_prep)?;
                push("w4np", INSERT_ROWS as f64 / secs(d));
            }
            if ref_on {
                let d = rt.block_on(reference::w4(&mut async_conn))?;
                push("w4r", INSERT_ROWS as f64 / secs(d));
            }
        }
        if want("startup") {
            eprintln!("[run {run}/{runs}] start-up");
            for _ in 0..5 {
                let s = Instant::now();
                let mut c = Component::connect(&host, &url)?;
                let cur = c.s.cursor(c.conn)?;
                ok(c.s.execute(cur, "SELECT 1", None)?)?;
                ok(c.s.fetchone(cur)?)?;
                push("suc", secs(s.elapsed()) * 1000.0);
                let s = Instant::now();
                let mut c = async_world::AsyncComponent::connect(&async_host, &url)?;
                let cur = c.s.cursor(c.conn)?;
                ok(c.s.execute(cur, "SELECT 1", None)?)?;
                ok(c.s.fetchone(cur)?)?;
                push("sua", secs(s.elapsed()) * 1000.0);
                let s = Instant::now();
                let n = native::connect(&url)?;
                futures::executor::block_on(async {
                    let mut c = n.cursor();
                    c.execute("SELECT 1", None).await?;
                    c.fetchone().await
                })?;
                push("sun", secs(s.elapsed()) * 1000.0);
                let s = Instant::now();
                rt.block_on(async {
                    let mut c = reference::connect(&url).await?;
                    let _: Option<i64> = c.query_first("SELECT 1").await?;
                    c.disconnect().await?;
                    Ok::<_, anyhow::Error>(())
                })?;
                push("sur", secs(s.elapsed()) * 1000.0);
            }
        }
    }

    let mut codec_mib = 0.0;
    if want("codec") {
        eprintln!("[codec] zlib and zstd envelopes over W1's rows, natively");
        let plain = codec::w1_packets(ROWS);
        codec_mib = plain.len() as f64 / (1 << 20) as f64;
        for _ in 0..runs {
            for ([c, d, r], algorithm) in [
                (["zlib_c", "zlib_d", "zlib_r"], Algorithm::Zlib),
                (["zstd_c", "zstd_d", "zstd_r"], Algorithm::Zstd { level: 3 }),
            ] {
                let cost = codec::measure(algorithm, &plain);
                push(c, cost.compress);
                push(d, cost.decompress);
                push(r, cost.ratio);
            }
        }
    }

    let mut memory = None;
    if want("memory") {
        eprintln!("[memory] 1,000,000 rows streamed with fetchmany(1000) through the component");
        let mut mem = Component::connect(&host, &url)?;
        let before = mem.s.peak_memory();
        let n = mem.w1_fetchmany("SELECT b.* FROM bench b JOIN seq_1_to_5")?;
        assert_eq!(n, 1_000_000);
        memory = Some((before, mem.s.peak_memory()));
    }

    let m = |k: &str| t.get(k).map(|v| median(v.clone()));
    let lines = [
        Line {
            name: "W1 SELECT * 200k rows, fetchall",
            unit: "rows/s",
            higher_is_better: true,
            component: m("w1c"),
            native: m("w1n"),
            reference: m("w1r"),
        },
        Line {
            name: "W1 SELECT * 200k rows, fetch-columns (one list a column)",
            unit: "rows/s",
            higher_is_better: true,
            component: m("w1k"),
            native: m("w1n"),
            reference: m("w1r"),
        },
        Line {
            name: "W1 SELECT * 200k rows, ss-cursor + fetch-columns(10000), straight from the packets",
            unit: "rows/s",
            higher_is_better: true,
            component: m("w1ku"),
            native: m("w1n"),
            reference: m("w1r"),
        },
        Line {
            name: "W1 SELECT * 200k rows, fetchall, zlib compression",
            unit: "rows/s",
            higher_is_better: true,
            component: m("w1zc"),
            native: m("w1zn"),
            reference: m("w1zr"),
        },
        Line {
            name: "W1 SELECT * 200k rows, fetchmany(1000)",
            unit: "rows/s",
            higher_is_better: true,
            component: m("w1mc"),
            native: m("w1mn"),
            reference: m("w1mr"),
        },
        Line {
            name: "W2 20k point queries, 1 connection",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w2c"),
            native: m("w2n"),
            reference: m("w2r"),
        },
        Line {
            name: "W2, mysql_async with the text protocol as we use it (no prepared statement)",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w2c"),
            native: m("w2n"),
            reference: m("w2rt"),
        },
        Line {
            name: "W2 with statement events: component with an event log of 1024 (digest), natively a listener",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w2ec"),
            native: m("w2en"),
            reference: m("w2r"),
        },
        Line {
            name: "W2 with prepared_execution (statement cache, binary protocol)",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w2cp"),
            native: m("w2np"),
            reference: m("w2r"),
        },
        Line {
            name: "W3 64 tasks, 20k queries, pool 16 (reset on release)",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w3c"),
            native: None,
            reference: m("w3r"),
        },
        Line {
            name: "W3 64 tasks, 20k queries, pool 16 (no reset)",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w3cn"),
            native: None,
            reference: m("w3r"),
        },
        Line {
            name: "W3, mysql_async with the text protocol as we use it (reset on release)",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w3c"),
            native: None,
            reference: m("w3rt"),
        },
        Line {
            name: "W3 with prepared_execution (reset on release: each borrower prepares again)",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w3cp"),
            native: None,
            reference: m("w3r"),
        },
        Line {
            name: "W4 executemany 50k rows, one transaction",
            unit: "rows/s",
            higher_is_better: true,
            component: m("w4c"),
            native: m("w4n"),
            reference: m("w4r"),
        },
        Line {
            name: "W4 with prepared_execution (COM_STMT_BULK_EXECUTE)",
            unit: "rows/s",
            higher_is_better: true,
            component: m("w4cp"),
            native: m("w4np"),
            reference: m("w4r"),
        },
        Line {
            name: "W1 SELECT * 200k rows, 0.3 component: query, rows read from stream<row>",
            unit: "rows/s",
            higher_is_better: true,
            component: m("w1a"),
            native: None,
            reference: m("w1r"),
        },
        Line {
            name: "W2 20k point queries, 1 connection, 0.3 component",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w2a"),
            native: None,
            reference: m("w2r"),
        },
        Line {
            name: "W3 64 host tasks, 20k queries, pool 16 (reset on release), 0.3 component, no gather",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w3a"),
            native: None,
            reference: m("w3r"),
        },
        Line {
            name: "W3, 0.3 component, against mysql_async with the text protocol",
            unit: "queries/s",
            higher_is_better: true,
            component: m("w3a"),
            native: None,
            reference: m("w3rt"),
        },
        Line {
            name: "Start-up, 0.3 component: instantiate + connect + first row",
            unit: "ms",
            higher_is_better: false,
            component: m("sua"),
            native: None,
            reference: m("sur"),
        },
        Line {
            name: "Start-up: instantiate + connect + first row",
            unit: "ms",
            higher_is_better: false,
            component: m("suc"),
            native: m("sun"),
            reference: m("sur"),
        },
    ];
    let mut table = String::new();
    if let (Some(one), Some(many)) = (m("sl1"), m("sl16")) {
        table.push_str(&format!(
            "Overlap in one component instance: 1 x SELECT SLEEP(0.2) took {one:.3} s; 16 concurrent over a pool of 16 (gather) took {many:.3} s.\n\n"
        ));
    }
    table.push_str(&format!(
        "Machine: {} cores, {}; MariaDB 10.11; median of {runs} interleaved runs; mysql_async 0.37 on a current-thread tokio runtime.\n\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        std::env::consts::ARCH
    ));
    table.push_str("| workload | unit | component (wasmtime) | core natively | mysql_async | component / mysql_async |\n|---|---|---|---|---|---|\n");
    for l in &lines {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            l.name,
            l.unit,
            cell(l.component),
            cell(l.native),
            cell(l.reference),
            ratio(l.component, l.reference, l.higher_is_better)
        ));
    }
    // Not measured unless asked for (--only without memory): no line rather than a zero.
    if let Some((before, peak)) = memory {
        table.push_str(&format!(
            "\nPeak guest linear memory streaming 1,000,000 rows with fetchmany(1000): {:.1} MiB (before the query: {:.1} MiB).\n",
            peak as f64 / (1 << 20) as f64,
            before as f64 / (1 << 20) as f64
        ));
    }
    if let (Some(zc), Some(zd), Some(zr), Some(sc), Some(sd), Some(sr)) =
        (m("zlib_c"), m("zlib_d"), m("zlib_r"), m("zstd_c"), m("zstd_d"), m("zstd_r"))
    {
        let per = |mib_s: f64| 1000.0 / mib_s;
        table.push_str(&format!(
            "\nCompressed protocol CPU, natively on one core, over W1's rows as text-protocol packets ({codec_mib:.0} MiB): \
             zlib compresses {zc:.0} MiB/s ({:.1} ms per MiB) and decompresses {zd:.0} MiB/s ({:.1} ms per MiB), wire size {:.0}%; \
             zstd (ruzstd, fastest) compresses {sc:.0} MiB/s ({:.1} ms per MiB) and decompresses {sd:.0} MiB/s ({:.1} ms per MiB), wire size {:.0}%.\n",
            per(zc), per(zd), zr * 100.0, per(sc), per(sd), sr * 100.0
        ));
    }
    println!("{table}");
    std::fs::write(&out, &table)?;
    eprintln!("[done] written to {out}");
    Ok(())
}
