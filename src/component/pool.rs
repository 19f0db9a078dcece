//! The `pool` resource: a pool lending `connection` resources, and gather over it.

use std::rc::Rc;
use std::time::Duration;

use super::convert::{error_out, options_in, params_in, value_out};
use super::exports::cymysql::aio::connection::Connection as WitConnection;
use super::exports::cymysql::aio::pool as wit;
use super::exports::cymysql::aio::types::{ConnectOptions, Error as WitError};
use super::{run, Component, ConnectionResource};
use crate::client::cursor::SharedBudget;
use crate::client::pool::{Pool, PoolOptions};
use crate::error::{Error, Timeout};
use crate::wasi::reactor::block_on;
use crate::wasi::WasiRuntime;

/// The `pool` resource.
pub struct PoolResource {
    pool: Pool,
}

fn seconds(what: &str, s: f64) -> Result<Duration, Error> {
    if s.is_finite() && (0.0..1e9).contains(&s) {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(Error::Programming(format!("{what} must be a non-negative number of seconds")))
    }
}

fn settings_in(s: wit::PoolOptions) -> Result<PoolOptions, Error> {
    Ok(PoolOptions {
        minsize: s.minsize as usize,
        maxsize: s.maxsize as usize,
        pool_recycle: s.pool_recycle.map(|v| seconds("pool-recycle", v)).transpose()?,
        acquire_timeout: s.acquire_timeout.map(|v| seconds("acquire-timeout", v)).transpose()?,
        ping_after_idle: seconds("ping-after-idle", s.ping_after_idle)?,
        reset_on_release: s.reset_on_release,
    })
}

fn settings_out(s: &PoolOptions) -> wit::PoolOptions {
    wit::PoolOptions {
        minsize: u32::try_from(s.minsize).unwrap_or(u32::MAX),
        maxsize: u32::try_from(s.maxsize).unwrap_or(u32::MAX),
        pool_recycle: s.pool_recycle.map(|d| d.as_secs_f64()),
        acquire_timeout: s.acquire_timeout.map(|d| d.as_secs_f64()),
        ping_after_idle: s.ping_after_idle.as_secs_f64(),
        reset_on_release: s.reset_on_release,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl wit::Guest for Component {
    type Pool = PoolResource;

    fn default_pool_options() -> wit::PoolOptions {
        settings_out(&PoolOptions::default())
    }
}

impl PoolResource {
    fn create(options: ConnectOptions, settings: Result<PoolOptions, Error>) -> Result<wit::Pool, WitError> {
        let options = options_in(options).map_err(|e| error_out(&e))?;
        let settings = settings.map_err(|e| error_out(&e))?;
        let pool = run(Pool::create(options, settings, Rc::new(WasiRuntime)))?;
        Ok(wit::Pool::new(PoolResource { pool }))
    }
}

impl wit::GuestPool for PoolResource {
    fn create_pool(
        options: ConnectOptions,
        minsize: u32,
        maxsize: u32,
        pool_recycle: Option<f64>,
    ) -> Result<wit::Pool, WitError> {
        let settings = pool_recycle.map(|v| seconds("pool-recycle", v)).transpose().map(|pool_recycle| PoolOptions {
            minsize: minsize as usize,
            maxsize: maxsize as usize,
            pool_recycle,
            ..PoolOptions::default()
        });
        Self::create(options, settings)
    }

    fn create_pool_with(options: ConnectOptions, settings: wit::PoolOptions) -> Result<wit::Pool, WitError> {
        Self::create(options, settings_in(settings))
    }

    fn acquire(&self) -> Result<WitConnection, WitError> {
        let pool = &self.pool;
        let conn = match block_on(pool.acquire()) {
            Ok(conn) => conn,
            // Nothing but a timer could end the wait: no other call runs while this one blocks.
            Err(Error::WaitsOnNothing) => return Err(error_out(&Error::Timeout(Timeout::PoolExhausted))),
            Err(e) => return Err(error_out(&e)),
        };
        Ok(WitConnection::new(ConnectionResource { conn: conn.detach(), pool: Some(pool.clone()) }))
    }

    fn release(&self, conn: WitConnection) {
        let mut resource: ConnectionResource = conn.into_inner();
        let lender = resource.pool.take();
        self.pool.release(resource.conn.clone());
        drop(lender);
    }

    fn size(&self) -> u32 {
        count(self.pool.size())
    }

    fn freesize(&self) -> u32 {
        count(self.pool.freesize())
    }

    fn minsize(&self) -> u32 {
        count(self.pool.minsize())
    }

    fn maxsize(&self) -> u32 {
        count(self.pool.maxsize())
    }

    fn counters(&self) -> wit::PoolCounters {
        let c = self.pool.counters();
        wit::PoolCounters {
            created: c.created,
            closed: c.closed,
            acquired: c.acquired,
            waited: c.waited,
            timed_out: c.timed_out,
            evicted: c.evicted,
            in_use: c.in_use,
        }
    }

    fn close(&self) {
        let _ = run(async {
            self.pool.close().await;
            Ok(())
        });
    }

    fn wait_closed(&self) -> Result<(), WitError> {
        if self.pool.is_closed() {
            let lent = self.pool.counters().in_use;
            if lent > 0 {
                let msg = format!("{lent} connection(s) are still lent out; release them before wait-closed");
                return Err(error_out(&Error::Interface(msg)));
            }
        }
        run(self.pool.wait_closed())
    }

    fn terminate(&self) {
        let _ = run(async {
            self.pool.terminate().await;
            Ok(())
        });
    }

    fn clear(&self) {
        let _ = run(async {
            self.pool.clear().await;
            Ok(())
        });
    }

    fn gather(&self, tasks: Vec<Vec<wit::Statement>>) -> Vec<Result<Vec<wit::StatementResult>, WitError>> {
        let pool = &self.pool;
        // Every task's rows are returned together, so together they stay within max_result_bytes.
        let budget = SharedBudget::default();
        let futures = tasks.into_iter().map(|task| {
            let budget = budget.clone();
            async move {
                let conn = pool.acquire().await?;
                let mut cursor = conn.cursor();
                cursor.share_budget(budget);
                let mut results = Vec::with_capacity(task.len());
                for statement in task {
                    let params = statement.params.map(params_in);
                    let executed = cursor.execute(&statement.query, params.as_ref()).await;
                    let rows = match executed {
                        Ok(_) if cursor.description().is_some() => cursor.fetchall().await,
                        Ok(_) => Ok(Vec::new()),
                        Err(e) => Err(e),
                    };
                    let rows = match rows {
                        Ok(rows) => rows,
                        Err(e) => {
                            // A failed task returns no rows: they no longer count against the others.
                            cursor.release_shared_budget();
                            return Err(e);
                        }
                    };
                    results.push(wit::StatementResult {
                        rows: rows.into_iter().map(|r| r.into_iter().map(value_out).collect()).collect(),
                        rowcount: cursor.rowcount(),
                        lastrowid: cursor.lastrowid(),
                    });
                }
                Ok::<_, Error>(results)
            }
        });
        let all = run(async { Ok(futures::future::join_all(futures).await) });
        match all {
            Ok(results) => results.into_iter().map(|r| r.map_err(|e| error_out(&e))).collect(),
            Err(e) => vec![Err(e)],
        }
    }
}
