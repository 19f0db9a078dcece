//! The WASI 0.3 side: TCP over `wasi:sockets@0.3` and timers from `wasi:clocks@0.3`. Waiting is the
//! component model's own (async imports, streams, futures), so there is no reactor here: the
//! futures run on whatever executor drives the component's exports (wit-bindgen's).

pub mod tcp;

use std::time::Duration;

use crate::client::transport::{LocalFuture, Runtime, Transport};
use crate::error::Error;
use crate::protocol::auth::FillRandom;

/// The runtime of a WASI 0.3 component, for [`crate::Connection::connect`] and the pool.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasiP3Runtime;

impl Runtime for WasiP3Runtime {
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> LocalFuture<'a, Result<Box<dyn Transport>, Error>> {
        Box::pin(async move { tcp::connect(host, port).await.map(|s| Box::new(s) as Box<dyn Transport>) })
    }

    fn sleep(&self, duration: Duration) -> LocalFuture<'static, ()> {
        let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        Box::pin(wasip3::clocks::monotonic_clock::wait_for(ns))
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(wasip3::clocks::monotonic_clock::now())
    }

    fn random(&self) -> FillRandom {
        super::random_bytes
    }
}
