//! The WASI 0.2 side: a reactor over `wasi:io/poll`, TCP over `wasi:sockets`, timers from `wasi:clocks`.

pub mod reactor;
pub mod tcp;

use std::time::Duration;

use crate::client::transport::{LocalFuture, Runtime, Transport};
use crate::error::Error;
use crate::protocol::auth::{AuthError, FillRandom};

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

    fn random(&self) -> FillRandom {
        random_bytes
    }
}

/// Random bytes from `wasi:random`, for both worlds (Rust's std imports WASI 0.2 in either).
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<(), AuthError> {
    let bytes = wasi::random::random::get_random_bytes(buf.len() as u64);
    if bytes.len() != buf.len() {
        return Err(AuthError::Client("wasi:random returned too few bytes".into()));
    }
    buf.copy_from_slice(&bytes);
    Ok(())
}

// Last, so the line numbers that panic locations carry in the 0.2 component do not move.
#[cfg(feature = "p3")]
pub mod p3;

/// Connects to the first of `addresses` that accepts, for both worlds' TCP; when none does, the
/// last failure, as `describe` words it, is the reason.
pub(crate) async fn connect_first<A, T, E, F: std::future::Future<Output = Result<T, E>>>(
    host: &str,
    port: u16,
    addresses: Vec<A>,
    mut connect_one: impl FnMut(A) -> F,
    describe: fn(&E) -> String,
) -> Result<T, Error> {
    let mut last = None;
    for address in addresses {
        match connect_one(address).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    let reason = last.map(|e| describe(&e)).unwrap_or_else(|| "no address".into());
    Err(Error::Connect { host: host.to_string(), port, reason })
}
