//! A blocking std::net transport for the native target: unit tests and benchmarks of the core.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};

use super::transport::{LocalFuture, Runtime, Transport};
use crate::error::Error;
use crate::protocol::auth::{AuthError, FillRandom};

/// Blocking sockets behind the async traits: every poll completes at once.
/// Only for a single-task executor (`futures::executor::block_on`).
#[derive(Debug, Default, Clone, Copy)]
pub struct NativeRuntime;

/// A TCP stream whose reads and writes block the calling thread.
pub struct BlockingTcp(TcpStream);

impl AsyncRead for BlockingTcp {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.get_mut().0.read(buf))
    }
}

impl AsyncWrite for BlockingTcp {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.get_mut().0.write(buf))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.get_mut().0.flush())
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.get_mut().0.shutdown(std::net::Shutdown::Both))
    }
}

impl Runtime for NativeRuntime {
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> LocalFuture<'a, Result<Box<dyn Transport>, Error>> {
        Box::pin(async move {
            let addrs = (host, port).to_socket_addrs().map_err(|_| Error::UnknownHost(host.to_string()))?;
            let mut last = None;
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        return Ok(Box::new(BlockingTcp(s)) as Box<dyn Transport>);
                    }
                    Err(e) => last = Some(e),
                }
            }
            let reason = last.map(|e| e.to_string()).unwrap_or_else(|| "no address".into());
            Err(Error::Connect { host: host.to_string(), port, reason })
        })
    }

    fn now(&self) -> Duration {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        ORIGIN.get_or_init(std::time::Instant::now).elapsed()
    }

    fn random(&self) -> FillRandom {
        os_random
    }

    fn sleep(&self, duration: Duration) -> LocalFuture<'static, ()> {
        // Blocking transports finish before any timer could fire; a timer that never
        // completes keeps `with_timeout` correct without a thread per wait.
        let _ = duration;
        Box::pin(futures::future::pending())
    }

    fn pause(&self, duration: Duration) -> LocalFuture<'static, ()> {
        // Nothing else runs on this thread while a blocking runtime waits anyway.
        std::thread::sleep(duration);
        Box::pin(futures::future::ready(()))
    }
}

/// Random bytes from the operating system.
pub(crate) fn os_random(buf: &mut [u8]) -> Result<(), AuthError> {
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .map_err(|e| AuthError::Client(format!("no random source: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn os_random_fills() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        super::os_random(&mut a).unwrap();
        super::os_random(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
