//! The seam between the protocol and the network: a byte stream and a way to open one.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};

use crate::error::{Error, Timeout};
use crate::protocol::auth::FillRandom;

/// A connected, ordered byte stream to the server (TCP today; TLS or WASI 0.3 streams plug in here).
pub trait Transport: AsyncRead + AsyncWrite + Unpin {}

impl<T: AsyncRead + AsyncWrite + Unpin> Transport for T {}

/// A boxed future that need not be `Send`: components are single-threaded.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// What the client needs from its environment: opening streams and waiting.
pub trait Runtime {
    /// Opens a TCP connection to `host:port`, resolving the name if it is not an IP literal.
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> LocalFuture<'a, Result<Box<dyn Transport>, Error>>;

    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> LocalFuture<'static, ()>;

    /// A deliberate wait, such as a retry's backoff: [`Runtime::sleep`], unless the runtime's
    /// timers cannot fire (blocking sockets), where it must block instead of never ending.
    fn pause(&self, duration: Duration) -> LocalFuture<'static, ()> {
        self.sleep(duration)
    }

    /// Monotonic time since an arbitrary origin, for idle and age checks.
    fn now(&self) -> Duration;

    /// The host's cryptographically secure random bytes, which the protocol core is given for
    /// authentication (RSA padding, parsec's client scramble) and never reads itself.
    fn random(&self) -> FillRandom;

    /// Reads a file for `read_default_file` (through the host's preopened directories under WASI).
    fn read_file(&self, path: &str) -> Result<String, Error> {
        std::fs::read_to_string(path).map_err(|e| Error::Interface(format!("cannot read option file {path}: {e}")))
    }

    /// Reads a file for LOAD DATA LOCAL INFILE (only when the caller enabled local_infile).
    fn read_file_bytes(&self, path: &str) -> Result<Vec<u8>, Error> {
        std::fs::read(path).map_err(|e| Error::Interface(format!("cannot read LOCAL INFILE file {path}: {e}")))
    }
}

/// Runs `fut`, failing with `Error::Timeout(what)` if it has not finished within `limit`.
pub async fn with_timeout<T>(
    runtime: &dyn Runtime,
    limit: Option<Duration>,
    what: Timeout,
    fut: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let Some(limit) = limit else { return fut.await };
    let fut = std::pin::pin!(fut);
    match futures::future::select(fut, runtime.sleep(limit)).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(((), _)) => Err(Error::Timeout(what)),
    }
}
