//! Transactions with bounded retries (Connector/J's and mysql_async's transient-error retry): the
//! caller's work runs between START TRANSACTION and COMMIT, and is run again from the start when it
//! fails with a retryable error ([`Error::is_retryable`]) such as a deadlock or a Galera
//! certification conflict.
//!
//! Never a silent replay of half a transaction: the whole closure runs again on a fresh
//! transaction, and a COMMIT that got no answer (the connection broke while it was in flight) is
//! never retried, since the server may have committed it.

use std::future::Future;
use std::time::Duration;

use super::connection::Connection;
use super::pool::Pool;
use super::transport::Runtime;
use crate::error::Error;

/// How often and how patiently a transaction is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs of the closure at most, the first included (1 means no retry).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled before each further one, with random jitter of up to
    /// half of it so that two deadlocked transactions do not collide again in step.
    pub backoff: Duration,
    /// The longest wait between two runs.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, backoff: Duration::from_millis(10), max_backoff: Duration::from_secs(1) }
    }
}

impl RetryPolicy {
    /// The wait before run `attempt + 1` (attempt counts from 1).
    fn delay(&self, attempt: u32, runtime: &dyn Runtime) -> Duration {
        if self.backoff.is_zero() {
            return Duration::ZERO;
        }
        let base = self.backoff.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(self.max_backoff);
        let mut byte = [0u8; 1];
        let jitter = match (runtime.random())(&mut byte) {
            Ok(()) => base / 2 * u32::from(byte[0]) / 255,
            Err(_) => Duration::ZERO,
        };
        base.saturating_add(jitter).min(self.max_backoff)
    }
}

/// Waits between two runs; no timer at all for a zero backoff.
async fn pause(runtime: &dyn Runtime, delay: Duration) {
    if !delay.is_zero() {
        runtime.pause(delay).await;
    }
}

/// How one run of the closure ended.
enum Run<T> {
    Committed(T),
    /// Failed before COMMIT, or COMMIT was refused by the server (which then rolled back): safe
    /// to run again if the error is retryable.
    RolledBack(Error),
    /// COMMIT got no answer: the outcome is unknown, so it is never retried.
    Unknown(Error),
}

/// One run: START TRANSACTION, the closure, COMMIT; ROLLBACK when the closure fails.
async fn run_once<T, F, Fut>(conn: &Connection, work: &mut F) -> Run<T>
where
    F: FnMut(Connection) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    if let Err(e) = conn.begin().await {
        return Run::RolledBack(e);
    }
    match work(conn.clone()).await {
        Ok(value) => match conn.commit().await {
            Ok(()) => Run::Committed(value),
            Err(e @ Error::Server { .. }) => Run::RolledBack(e),
            Err(e) => Run::Unknown(e),
        },
        Err(e) => {
            // A broken connection has no transaction left to roll back: the server did on close.
            if conn.is_usable() {
                let _ = conn.rollback().await;
            }
            Run::RolledBack(e)
        }
    }
}

impl Pool {
    /// Runs `work` in a transaction on a pooled connection and commits it, running it again (on a
    /// connection acquired afresh, so a broken one is replaced) when it fails with a retryable error,
    /// up to [`RetryPolicy::default`]'s attempts. `work` must not commit itself; it may run any
    /// number of times, so it should have no effects outside the transaction.
    pub async fn transaction<T, F, Fut>(&self, work: F) -> Result<T, Error>
    where
        F: FnMut(Connection) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.transaction_with(&RetryPolicy::default(), work).await
    }

    /// [`Pool::transaction`] with an explicit retry policy.
    pub async fn transaction_with<T, F, Fut>(&self, policy: &RetryPolicy, mut work: F) -> Result<T, Error>
    where
        F: FnMut(Connection) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut attempt = 1;
        loop {
            let run = match self.acquire().await {
                Ok(conn) => run_once(conn.connection(), &mut work).await,
                Err(e) => Run::RolledBack(e),
            };
            match run {
                Run::Committed(value) => return Ok(value),
                Run::Unknown(e) => return Err(e),
                Run::RolledBack(e) if !e.is_retryable() || attempt >= policy.max_attempts => return Err(e),
                Run::RolledBack(_) => {}
            }
            pause(self.runtime(), policy.delay(attempt, self.runtime())).await;
            attempt += 1;
        }
    }
}

impl Connection {
    /// Runs `work` in a transaction on this connection and commits it, running it again when it
    /// fails with a retryable error while the connection stays usable (a broken connection ends
    /// the retries: use [`Pool::transaction`] to get a fresh one). `work` must not commit itself.
    pub async fn transaction_with<T, F, Fut>(&self, policy: &RetryPolicy, mut work: F) -> Result<T, Error>
    where
        F: FnMut(Connection) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let runtime = self.runtime().await;
        let mut attempt = 1;
        loop {
            match run_once(self, &mut work).await {
                Run::Committed(value) => return Ok(value),
                Run::Unknown(e) => return Err(e),
                Run::RolledBack(e) if !e.is_retryable() || attempt >= policy.max_attempts || !self.is_usable() => {
                    return Err(e)
                }
                Run::RolledBack(_) => {}
            }
            pause(runtime.as_ref(), policy.delay(attempt, runtime.as_ref())).await;
            attempt += 1;
        }
    }
}
