//! The `pool` resource of the async world: `acquire` waits while other calls in flight release.

use std::rc::Rc;
use std::time::Duration;

use super::convert::{error_out, options_in};
use super::exports::cymysql::aio::connection_async::Connection as WitConnection;
use super::exports::cymysql::aio::pool_async as wit;
use super::exports::cymysql::aio::types::{ConnectOptions, Error as WitError};
use super::{out, Component, ConnectionResource};
use crate::client::pool::{Pool, PoolOptions};
use crate::error::Error;
use crate::wasi::p3::WasiP3Runtime;

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
    async fn create(options: ConnectOptions, settings: Result<PoolOptions, Error>) -> Result<wit::Pool, WitError> {
        let options = options_in(options).map_err(|e| error_out(&e))?;
        let settings = settings.map_err(|e| error_out(&e))?;
        let pool = out(Pool::create(options, settings, Rc::new(WasiP3Runtime)).await)?;
        Ok(wit::Pool::new(PoolResource { pool }))
    }
}

impl wit::GuestPool for PoolResource {
    async fn create_pool(
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
        Self::create(options, settings).await
    }

    async fn create_pool_with(options: ConnectOptions, settings: wit::PoolOptions) -> Result<wit::Pool, WitError> {
        Self::create(options, settings_in(settings)).await
    }

    async fn acquire(&self) -> Result<WitConnection, WitError> {
        let conn = out(self.pool.acquire().await)?;
        Ok(WitConnection::new(ConnectionResource { conn: conn.detach(), pool: Some(self.pool.clone()) }))
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
