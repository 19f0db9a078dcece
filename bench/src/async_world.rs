//! The WASI 0.3 component (world `driver-async`) under the same workloads: W1 through the `query`
//! stream, W2 as one host task, W3 as 64 host tasks issuing calls concurrently (no gather).

use std::time::{Duration, Instant};

use anyhow::Result;
use futures::future::join_all;
use host_test::driver::{Params, Sandbox, Value};
use host_test::driver_async::{AsyncHost, AsyncSession, Conn, EndFuture, HostError, RowStream};

use crate::{ok, POINT_QUERIES, POOL, ROWS, TASKS};

/// One instance of the 0.3 component with one connection.
pub struct AsyncComponent {
    pub s: AsyncSession,
    pub conn: Conn,
}

fn point(i: i64) -> Params {
    Params::Positional(vec![Value::Int((i * 7919) % ROWS + 1)])
}

impl AsyncComponent {
    pub fn connect(host: &AsyncHost, url: &str) -> Result<AsyncComponent> {
        let mut s = host.instantiate(&Sandbox::default())?;
        let o = ok(s.options_from_url(url)?)?;
        let conn = ok(s.connect(&o)?)?;
        Ok(AsyncComponent { s, conn })
    }

    /// W1: every row of the table through `stream<row>`, read as they come.
    pub fn w1_stream(&mut self) -> Result<usize> {
        let conn = self.conn;
        let n = self.s.run(async |a, api, _| {
            let (_, rows, end) =
                api.connection().call_query(a, conn.0, "SELECT * FROM bench".into(), None).await?.unwrap();
            let mut rows = RowStream::pipe(a, rows, 4096)?;
            let end = EndFuture::pipe(a, end)?;
            let mut n = 0;
            while rows.next().await.is_some() {
                n += 1;
            }
            end.wait().await.unwrap();
            Ok(n)
        })?;
        Ok(n)
    }

    /// W2: point queries one after the other on one connection, from one host task.
    pub fn w2(&mut self) -> Result<usize> {
        let conn = self.conn;
        let n = self.s.run(async |a, api, _| {
            let cur = api.connection().call_cursor(a, conn.0).await?;
            let mut n = 0;
            for i in 0..POINT_QUERIES {
                let sql = "SELECT * FROM bench WHERE id = %s".to_string();
                api.cursor().call_execute(a, cur, sql, Some(point(i))).await?.unwrap();
                n += api.cursor().call_fetchone(a, cur).await?.unwrap().is_some() as usize;
            }
            Ok(n)
        })?;
        Ok(n)
    }

    /// W3: 64 host tasks share a pool of 16, each acquiring once and running its share of point
    /// queries; the calls of all tasks are in flight in the one instance at once.
    pub fn w3(&mut self, url: &str) -> Result<Duration> {
        let o = ok(self.s.options_from_url(url)?)?;
        let mut settings = self.s.default_pool_options()?;
        settings.minsize = POOL;
        settings.maxsize = POOL;
        settings.acquire_timeout = Some(600.0);
        let pool = ok(self.s.create_pool_with(&o, &settings)?)?;
        let per_task = POINT_QUERIES as usize / TASKS;
        let t = Instant::now();
        let n = self.s.run(async |a, api, pools| {
            let tasks = (0..TASKS).map(|task| async move {
                let conn = pools.pool().call_acquire(a, pool.0).await?.unwrap();
                let cur = api.connection().call_cursor(a, conn).await?;
                let mut n = 0;
                for q in 0..per_task {
                    let sql = "SELECT * FROM bench WHERE id = %s".to_string();
                    let p = point((task * per_task + q) as i64);
                    api.cursor().call_execute(a, cur, sql, Some(p)).await?.unwrap();
                    n += api.cursor().call_fetchone(a, cur).await?.unwrap().is_some() as usize;
                }
                pools.pool().call_release(a, pool.0, conn).await?;
                Ok::<_, HostError>(n)
            });
            let counts = join_all(tasks).await.into_iter().collect::<Result<Vec<_>, HostError>>()?;
            Ok(counts.into_iter().sum::<usize>())
        })?;
        let elapsed = t.elapsed();
        assert_eq!(n, per_task * TASKS);
        self.s.drop_resource(pool.0)?;
        Ok(elapsed)
    }
}
