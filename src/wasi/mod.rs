//! The WASI 0.2 side: a reactor over `wasi:io/poll`, TCP over `wasi:sockets`, timers from `wasi:clocks`.

pub mod reactor;
pub mod tcp;

use std::time::Duration;

use crate::client::transport::{LocalFuture, Runtime, Transport};
use crate::error::Error;

/// The runtime of a WASI 0.2 component.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasiRuntime;

impl Runtime for WasiRuntime {
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> LocalFuture<'a, Result<Box<dyn Transport>, Error>> {
        Box::pin(async move { tcp::connect(host, port).await.map(|s| Box::new(s) as Box<dyn Transport>) })
    }

    fn sleep(&self, duration: Duration) -> LocalFuture<'static, ()> {
        Box::pin(reactor::sleep(duration))
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(wasi::clocks::monotonic_clock::now())
    }
}

// Last, so the line numbers that panic locations carry in the 0.2 component do not move.
#[cfg(feature = "p3")]
pub mod p3;
