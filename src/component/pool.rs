//! The `pool` resource: a pool lending `connection` resources, and gather over it.

use std::rc::Rc;

use super::convert::{
    count, error_out, options_and_log_in, params_in, pool_metrics_out, pool_records, pool_seconds, pool_settings,
    row_out, take_events,
};
use super::exports::cymysql::aio::connection::Connection as WitConnection;
use super::exports::cymysql::aio::pool as wit;
use super::exports::cymysql::aio::types::{ConnectOptions, Error as WitError, Event, PoolMetrics};
use super::{run, Component, ConnectionResource};
use crate::client::events::EventLog;
use crate::client::pool::{Pool, PoolCounters, PoolOptions, PooledConnection, StatementOutcome, TaskStatement};
use crate::error::{Error, Timeout};
use crate::wasi::reactor::block_on;
use crate::wasi::WasiRuntime;

/// The `pool` resource.
pub struct PoolResource {
    pool: Pool,
    /// The event log every connection of the pool reports to, when connect-options asked for one.
    events: Option<Rc<EventLog>>,
}

pool_records!(wit);

fn statement_in(s: wit::Statement) -> TaskStatement {
    TaskStatement { query: s.query, params: s.params.map(params_in) }
}

fn outcome_out(o: StatementOutcome) -> wit::StatementResult {
    wit::StatementResult {
        rows: o.rows.into_iter().map(row_out).collect(),
        rowcount: o.rowcount,
        lastrowid: o.lastrowid,
    }
}

impl wit::Guest for Component {
    type Pool = PoolResource;

    fn default_pool_options() -> wit::PoolOptions {
        settings_out(&PoolOptions::default())
    }
}

impl PoolResource {
    /// A lent connection as a resource that goes back to this pool when dropped.
    fn lend(&self, acquired: Result<PooledConnection, Error>) -> Result<WitConnection, WitError> {
        let conn = match acquired {
            Ok(conn) => conn,
            // Nothing but a timer could end the wait: no other call runs while this one blocks.
            Err(Error::WaitsOnNothing) => return Err(error_out(&Error::Timeout(Timeout::PoolExhausted))),
            Err(e) => return Err(error_out(&e)),
        };
        Ok(WitConnection::new(ConnectionResource {
            conn: conn.detach(),
            pool: Some(self.pool.clone()),
            events: self.events.clone(),
        }))
    }

    fn create(options: ConnectOptions, settings: Result<PoolOptions, Error>) -> Result<wit::Pool, WitError> {
        let (options, events) = options_and_log_in(options).map_err(|e| error_out(&e))?;
        let settings = settings.map_err(|e| error_out(&e))?;
        let pool = run(Pool::create(options, settings, Rc::new(WasiRuntime)))?;
        Ok(wit::Pool::new(PoolResource { pool, events }))
    }
}

impl wit::GuestPool for PoolResource {
    fn create_pool(
        options: ConnectOptions,
        minsize: u32,
        maxsize: u32,
        pool_recycle: Option<f64>,
    ) -> Result<wit::Pool, WitError> {
        Self::create(options, pool_settings(minsize, maxsize, pool_recycle))
    }

    fn create_pool_with(options: ConnectOptions, settings: wit::PoolOptions) -> Result<wit::Pool, WitError> {
        Self::create(options, settings_in(settings))
    }

    fn acquire(&self) -> Result<WitConnection, WitError> {
        self.lend(block_on(self.pool.acquire()))
    }

    fn acquire_read(&self) -> Result<WitConnection, WitError> {
        self.lend(block_on(self.pool.acquire_read()))
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
        counters_out(self.pool.counters())
    }

    fn metrics(&self) -> PoolMetrics {
        pool_metrics_out(self.pool.metrics())
    }

    fn take_events(&self) -> Vec<Event> {
        take_events(self.events.as_ref())
    }

    fn close(&self) {
        let _ = run(async {
            self.pool.close().await;
            Ok(())
        });
    }

    fn wait_closed(&self) -> Result<(), WitError> {
        // Nothing can release a lent connection while this call blocks the instance.
        run(self.pool.wait_closed_unless_lent())
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
        let tasks = tasks.into_iter().map(|task| task.into_iter().map(statement_in).collect()).collect();
        match run(async { Ok(self.pool.gather(tasks).await) }) {
            Ok(results) => results
                .into_iter()
                .map(|r| r.map(|task| task.into_iter().map(outcome_out).collect()).map_err(|e| error_out(&e)))
                .collect(),
            Err(e) => vec![Err(e)],
        }
    }
}
