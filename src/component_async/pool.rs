//! The `pool` resource of the async world: `acquire` waits while other calls in flight release.

use std::rc::Rc;

use super::convert::{
    count, error_out, options_and_log_in, pool_metrics_out, pool_records, pool_seconds, pool_settings, take_events,
};
use super::exports::cymysql::aio::connection_async::Connection as WitConnection;
use super::exports::cymysql::aio::pool_async as wit;
use super::exports::cymysql::aio::types::{ConnectOptions, Error as WitError, Event, PoolMetrics};
use super::{out, Component, ConnectionResource};
use crate::client::events::EventLog;
use crate::client::pool::{Pool, PoolCounters, PoolOptions, PooledConnection};
use crate::error::Error;
use crate::wasi::p3::WasiP3Runtime;

/// The `pool` resource.
pub struct PoolResource {
    pool: Pool,
    /// The event log every connection of the pool reports to, when connect-options asked for one.
    events: Option<Rc<EventLog>>,
}

pool_records!(wit);

impl wit::Guest for Component {
    type Pool = PoolResource;

    fn default_pool_options() -> wit::PoolOptions {
        settings_out(&PoolOptions::default())
    }
}

impl PoolResource {
    async fn create(options: ConnectOptions, settings: Result<PoolOptions, Error>) -> Result<wit::Pool, WitError> {
        let (options, events) = options_and_log_in(options).map_err(|e| error_out(&e))?;
        let settings = settings.map_err(|e| error_out(&e))?;
        let pool = out(Pool::create(options, settings, Rc::new(WasiP3Runtime)).await)?;
        Ok(wit::Pool::new(PoolResource { pool, events }))
    }

    /// A lent connection as a resource that goes back to this pool when dropped.
    fn lend(&self, conn: PooledConnection) -> WitConnection {
        WitConnection::new(ConnectionResource {
            conn: conn.detach(),
            pool: Some(self.pool.clone()),
            events: self.events.clone(),
        })
    }
}

impl wit::GuestPool for PoolResource {
    async fn create_pool(
        options: ConnectOptions,
        minsize: u32,
        maxsize: u32,
        pool_recycle: Option<f64>,
    ) -> Result<wit::Pool, WitError> {
        Self::create(options, pool_settings(minsize, maxsize, pool_recycle)).await
    }

    async fn create_pool_with(options: ConnectOptions, settings: wit::PoolOptions) -> Result<wit::Pool, WitError> {
        Self::create(options, settings_in(settings)).await
    }

    async fn acquire(&self) -> Result<WitConnection, WitError> {
        Ok(self.lend(out(self.pool.acquire().await)?))
    }

    async fn acquire_read(&self) -> Result<WitConnection, WitError> {
        Ok(self.lend(out(self.pool.acquire_read().await)?))
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

    async fn close(&self) {
        self.pool.close().await
    }

    async fn wait_closed(&self) -> Result<(), WitError> {
        out(self.pool.wait_closed().await)
    }

    async fn terminate(&self) {
        self.pool.terminate().await
    }

    async fn clear(&self) {
        self.pool.clear().await
    }
}
