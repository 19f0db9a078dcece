//! Deadlines on the wire: connect_timeout, read_timeout and write_timeout on every wait, and the
//! statement timeout, which sends `KILL QUERY` from a second connection when it expires.

use std::rc::Rc;
use std::time::Duration;

use super::connection::Conn;
use super::options::ConnectOptions;
use super::transport::{with_timeout, LocalFuture, Runtime};
use crate::error::{Error, Timeout};

/// Least time a killed statement gets to report its interruption before the connection is
/// given up (the statement's own limit, when longer).
const MIN_KILL_GRACE: Duration = Duration::from_secs(2);
/// The statement timeout of the command on the wire: when it expires, and whether `KILL QUERY`
/// was sent (the deadline is then the end of the grace for the server's reply).
#[derive(Debug, Clone, Copy)]
pub(super) struct StatementClock {
    deadline: Duration,
    limit: Duration,
    killed: bool,
}

/// Which deadline bounds a wait on the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expiry {
    /// The wait fails with this timeout (and the connection breaks).
    Fail(Timeout),
    /// The running statement is over its time: kill it, then go on reading its reply.
    KillStatement,
}
impl Conn {
    /// How long the next wait on the transport may last, and what happens when it does not end
    /// in time; `None` waits as long as the network does. Fails if a deadline already passed.
    pub(super) fn wait_limit(
        &mut self,
        io: Option<Duration>,
        io_timeout: Timeout,
    ) -> Result<Option<(Duration, Expiry)>, Error> {
        let now = self.runtime.now();
        let mut limit = io.map(|d| (d, Expiry::Fail(io_timeout)));
        let mut tighten = |deadline: Duration, expiry: Expiry| {
            let left = deadline.saturating_sub(now);
            if limit.is_none_or(|(d, _)| left < d) {
                limit = Some((left, expiry));
            }
        };
        if let Some(deadline) = self.connect_deadline {
            tighten(deadline, Expiry::Fail(Timeout::Connect));
        }
        // Only a read waits on the statement: a write that stalls is the write timeout's business.
        if let (Some(clock), Timeout::Read) = (self.statement_clock, io_timeout) {
            tighten(clock.deadline, Expiry::KillStatement);
        }
        match limit {
            Some((left, Expiry::Fail(t))) if left.is_zero() => Err(Error::Timeout(t)),
            other => Ok(other),
        }
    }
    /// Starts the statement timeout of the command about to be sent (inside a `command`).
    pub(crate) fn start_statement_clock(&mut self, limit: Option<Duration>) {
        self.statement_clock = limit.map(|limit| StatementClock {
            deadline: self.runtime.now().saturating_add(limit),
            limit,
            killed: false,
        });
    }

    /// Stops the statement timeout. Once `KILL QUERY` went out, the statement's outcome is the
    /// timeout, whatever the server replied (as Connector/J does): ER_QUERY_INTERRUPTED, another
    /// error, or a result made up by the interruption (a killed `SELECT SLEEP(5)` returns 1).
    /// A fatal error (the connection lost meanwhile) is reported as it is.
    pub(crate) fn stop_statement_clock<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        let killed = self.statement_clock.take().is_some_and(|c| c.killed);
        match r {
            Err(e) if e.is_fatal() => Err(e),
            _ if killed => Err(Error::Timeout(Timeout::Statement)),
            other => other,
        }
    }

    /// The running statement is over its time: `KILL QUERY` it from a second connection, then
    /// give the server a grace period to report the interruption on this one. If the kill
    /// cannot be sent, or the grace passes too, the connection is given up.
    pub(super) async fn kill_statement(&mut self) -> Result<(), Error> {
        let Some(clock) = self.statement_clock.as_mut() else { return Ok(()) };
        let grace = clock.limit.max(MIN_KILL_GRACE);
        if clock.killed {
            self.mark_broken();
            return Err(Error::Timeout(Timeout::Statement));
        }
        clock.killed = true;
        let killer = kill_query(self.options.clone(), self.runtime.clone(), self.thread_id, grace);
        let sent = killer.await;
        match (sent, self.statement_clock.as_mut()) {
            (Ok(()), Some(clock)) => {
                clock.deadline = self.runtime.now().saturating_add(grace);
                Ok(())
            }
            _ => {
                self.mark_broken();
                Err(Error::Timeout(Timeout::Statement))
            }
        }
    }
}

/// Sends `KILL QUERY thread_id` on a short-lived connection of its own (as mysql_async and
/// Connector/J do), bounded by `limit`. Boxed: it opens a connection from inside a read of one.
fn kill_query(
    options: ConnectOptions,
    runtime: Rc<dyn Runtime>,
    thread_id: u32,
    limit: Duration,
) -> LocalFuture<'static, Result<(), Error>> {
    Box::pin(async move {
        // A bare session: nothing of the caller's set-up is needed to kill a statement.
        let options = ConnectOptions {
            db: None,
            sql_mode: None,
            init_command: None,
            read_default_file: None,
            autocommit: None,
            compress: None,
            statement_timeout: None,
            local_infile: false,
            client_flag: 0,
            // The statement runs on this server of a host list, not whichever the list picks.
            ha: None,
            ..options
        };
        let rt = runtime.clone();
        with_timeout(rt.as_ref(), Some(limit), Timeout::Statement, async move {
            let mut conn = Conn::open(options, runtime).await?;
            let r = conn.query_all(&format!("KILL QUERY {thread_id}")).await;
            let _ = conn.close().await;
            r
        })
        .await
    })
}
