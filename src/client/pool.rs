//! A connection pool (cymysql's `create_pool`): FIFO waiters, acquire deadlines, liveness checks,
//! clean sessions on release, recycling by age, and counters.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::connection::Connection;
pub use super::gather::{StatementOutcome, TaskStatement};
use super::host_list::{Hosts, Purpose, Strategy};
use super::options::ConnectOptions;
use super::transport::{with_timeout, Runtime};
use crate::error::{Error, Timeout};

mod metrics;
pub use metrics::{HostMetrics, PoolMetrics};

/// Settings of a pool beyond the connection options.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolOptions {
    /// Connections opened when the pool is created and kept at least.
    pub minsize: usize,
    /// The most connections at once; 0 means no limit.
    pub maxsize: usize,
    /// Connections older than this are closed instead of reused (cymysql's `pool_recycle`).
    pub pool_recycle: Option<Duration>,
    /// How long `acquire` may wait for a connection; `None` waits as long as it takes.
    pub acquire_timeout: Option<Duration>,
    /// A connection idle for longer than this is pinged before it is handed out.
    pub ping_after_idle: Duration,
    /// Send COM_RESET_CONNECTION when a connection comes back (off: only roll back open transactions).
    pub reset_on_release: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            minsize: 1,
            maxsize: 10,
            pool_recycle: None,
            acquire_timeout: Some(Duration::from_secs(30)),
            ping_after_idle: Duration::from_secs(30),
            reset_on_release: true,
        }
    }
}

/// Running totals of what the pool has done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolCounters {
    pub created: u64,
    pub closed: u64,
    pub acquired: u64,
    /// Acquires that had to wait for a connection.
    pub waited: u64,
    pub timed_out: u64,
    /// Connections found broken, dead or too old and thrown away.
    pub evicted: u64,
    pub in_use: u64,
}

struct Idle {
    conn: Connection,
    created: Duration,
    last_used: Duration,
    /// Came back from a user and has not been cleaned yet.
    dirty: bool,
}

struct Waiter {
    id: u64,
    waker: Option<Waker>,
    /// A connection handed over by `release`, or a free slot to open one (`None` inside `Some`).
    granted: Option<Option<Idle>>,
}

#[derive(Default)]
struct State {
    free: VecDeque<Idle>,
    /// Connections that exist or are being opened, free or in use.
    size: usize,
    waiters: VecDeque<Waiter>,
    next_waiter: u64,
    closed: bool,
    counters: PoolCounters,
    closed_wakers: Vec<Waker>,
    /// Each connection in use: its identity, creation time, and a handle to close it on terminate.
    in_use: Vec<(usize, Duration, Connection)>,
    /// Per-server counts for [`Pool::metrics`].
    tally: metrics::HostTally,
}

impl State {
    /// Gives a free connection to the first waiter still waiting, or keeps it for the next acquire.
    fn hand_over(&mut self, idle: Idle) {
        match self.waiters.iter_mut().find(|w| w.granted.is_none()) {
            Some(w) => {
                w.granted = Some(Some(idle));
                if let Some(waker) = w.waker.take() {
                    waker.wake();
                }
            }
            None => self.free.push_back(idle),
        }
    }
}

struct Inner {
    options: ConnectOptions,
    /// The health of a host list's servers, shared by every connection of the pool.
    hosts: Option<Rc<Hosts>>,
    runtime: Rc<dyn Runtime>,
    config: PoolOptions,
    state: RefCell<State>,
    /// Under `replication`: the pool of read connections (on replicas, falling back to the
    /// primary), with the same limits and the same host health; [`Pool::acquire_read`] lends them.
    readers: Option<Pool>,
}

/// A pool of connections. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Pool {
    inner: Rc<Inner>,
}

fn identity(conn: &Connection) -> usize {
    Rc::as_ptr(&conn.inner) as *const () as usize
}

/// A connection lent by the pool; it goes back when dropped (cleaned before its next use).
pub struct PooledConnection {
    conn: Option<Connection>,
    pool: Pool,
}

impl PooledConnection {
    /// The connection itself.
    pub fn connection(&self) -> &Connection {
        // Present until drop or release.
        self.conn.as_ref().unwrap_or_else(|| unreachable!("pooled connection used after release"))
    }

    /// Takes the connection out of the guard; the caller must give it back with [`Pool::release`].
    pub fn detach(mut self) -> Connection {
        match self.conn.take() {
            Some(c) => c,
            None => unreachable!("pooled connection detached twice"),
        }
    }
}

impl std::ops::Deref for PooledConnection {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.connection()
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.release(conn);
        }
    }
}

impl Pool {
    /// Creates a pool and opens `minsize` connections (cymysql's `create_pool`).
    pub async fn create(options: ConnectOptions, config: PoolOptions, runtime: Rc<dyn Runtime>) -> Result<Pool, Error> {
        if config.maxsize != 0 && config.maxsize < config.minsize {
            return Err(Error::Programming(format!(
                "maxsize ({}) must be 0 (no limit) or at least minsize ({})",
                config.maxsize, config.minsize
            )));
        }
        let hosts = options.ha.clone().map(Hosts::new);
        let readers = match (&options.ha, &hosts) {
            (Some(ha), Some(shared)) if ha.strategy == Strategy::Replication && !ha.read_only => {
                let mut read_options = options.clone();
                if let Some(ha) = read_options.ha.as_mut() {
                    ha.read_only = true;
                }
                let read_config = PoolOptions { minsize: 0, ..config.clone() };
                Some(Pool::with_hosts(read_options, read_config, runtime.clone(), Some(shared.clone()), None))
            }
            _ => None,
        };
        let pool = Pool::with_hosts(options, config, runtime, hosts, readers);
        for _ in 0..pool.inner.config.minsize {
            pool.inner.state.borrow_mut().size += 1;
            match pool.open().await {
                Ok(idle) => pool.inner.state.borrow_mut().free.push_back(idle),
                Err(e) => {
                    pool.inner.state.borrow_mut().size -= 1;
                    pool.terminate().await;
                    return Err(e);
                }
            }
        }
        Ok(pool)
    }

    fn with_hosts(
        options: ConnectOptions,
        config: PoolOptions,
        runtime: Rc<dyn Runtime>,
        hosts: Option<Rc<Hosts>>,
        readers: Option<Pool>,
    ) -> Pool {
        let state = RefCell::new(State::default());
        Pool { inner: Rc::new(Inner { options, hosts, runtime, config, state, readers }) }
    }

    async fn open(&self) -> Result<Idle, Error> {
        let (options, runtime) = (self.inner.options.clone(), self.inner.runtime.clone());
        let conn = match &self.inner.hosts {
            Some(hosts) => {
                let purpose = Purpose::of(&options);
                Connection::connect_via(options, runtime, hosts, purpose).await?
            }
            None => match Connection::connect(options, runtime).await {
                Ok(conn) => conn,
                Err(e) => {
                    self.inner.state.borrow_mut().tally.failed += 1;
                    return Err(e);
                }
            },
        };
        let now = self.inner.runtime.now();
        let mut st = self.inner.state.borrow_mut();
        st.counters.created += 1;
        st.tally.count_created(conn.endpoint());
        drop(st);
        Ok(Idle { conn, created: now, last_used: now, dirty: false })
    }

    /// Borrows a connection, waiting in line (first come, first served) when all are in use.
    pub async fn acquire(&self) -> Result<PooledConnection, Error> {
        let rt = self.inner.runtime.clone();
        let deadline = self.inner.config.acquire_timeout;
        let r = with_timeout(rt.as_ref(), deadline, Timeout::PoolAcquire, self.acquire_inner()).await;
        match r {
            Ok(conn) => Ok(PooledConnection { conn: Some(conn), pool: self.clone() }),
            Err(e) => {
                if e == Error::Timeout(Timeout::PoolAcquire) {
                    self.inner.state.borrow_mut().counters.timed_out += 1;
                }
                Err(e)
            }
        }
    }

    /// Borrows a connection for reads only: under `ha=replication` one to a replica (in turn,
    /// falling back to the primary when none is up), from a second set of connections with the
    /// same limits; otherwise the same as [`Pool::acquire`]. Writes through it fail on a replica
    /// that is read-only, or worse, land where no one reads them: use it for reads.
    pub async fn acquire_read(&self) -> Result<PooledConnection, Error> {
        match &self.inner.readers {
            Some(readers) => readers.acquire().await,
            None => self.acquire().await,
        }
    }

    async fn acquire_inner(&self) -> Result<Connection, Error> {
        let mut waited = false;
        loop {
            let grant = {
                let mut st = self.inner.state.borrow_mut();
                if st.closed {
                    return Err(Error::Interface("the pool is closed".into()));
                }
                // Newcomers queue behind earlier waiters still waiting, so nobody is overtaken; waiters
                // already handed a connection are not ahead of anyone.
                if st.waiters.iter().all(|w| w.granted.is_some()) {
                    if let Some(idle) = st.free.pop_front() {
                        Some(Some(idle))
                    } else if self.inner.config.maxsize == 0 || st.size < self.inner.config.maxsize {
                        st.size += 1;
                        Some(None)
                    } else {
                        None
                    }
                } else {
                    None
                }
            };
            let grant = match grant {
                Some(g) => g,
                None => {
                    if !waited {
                        waited = true;
                        self.inner.state.borrow_mut().counters.waited += 1;
                    }
                    match (WaitTurn { pool: self, id: None }).await {
                        Ok(g) => g,
                        Err(e) => return Err(e),
                    }
                }
            };
            // Holds the slot: if this future is dropped (acquire timeout) or the candidate is
            // evicted, the slot is given back to the next waiter.
            let mut slot = Slot { pool: self, armed: true };
            let candidate = match grant {
                Some(idle) => idle,
                None => self.open().await?,
            };
            if let Some(conn) = self.check_out(candidate).await {
                slot.armed = false;
                self.inner.state.borrow_mut().counters.acquired += 1;
                return Ok(conn);
            }
        }
    }

    /// Makes a candidate ready for a user, or evicts it (returning `None`).
    async fn check_out(&self, mut idle: Idle) -> Option<Connection> {
        let now = self.inner.runtime.now();
        let too_old = self.inner.config.pool_recycle.is_some_and(|max| now.saturating_sub(idle.created) > max);
        // Never a connection to a server known to be down, however healthy it looks.
        let host_down = self.inner.hosts.as_ref().zip(idle.conn.endpoint()).is_some_and(|(h, i)| h.is_down(i, now));
        let mut healthy = idle.conn.is_usable() && !too_old && !host_down;
        if healthy && idle.dirty {
            healthy = idle.conn.reset_session(self.inner.config.reset_on_release).await.is_ok();
            idle.dirty = false;
            idle.last_used = now;
        }
        let galera = self.inner.hosts.as_ref().is_some_and(|h| h.options().galera);
        if healthy && galera {
            // Asking the node's state is a round trip too: no ping besides it. A node that left
            // Synced is set aside like one that is down.
            healthy = idle.conn.check_galera_synced().await.is_ok();
            if let (false, Some(hosts), Some(i)) = (healthy, &self.inner.hosts, idle.conn.endpoint()) {
                hosts.mark_down(i, self.inner.runtime.now());
            }
        } else if healthy && now.saturating_sub(idle.last_used) > self.inner.config.ping_after_idle {
            healthy = idle.conn.ping(false).await.is_ok();
        }
        if healthy {
            self.inner.state.borrow_mut().in_use.push((identity(&idle.conn), idle.created, idle.conn.clone()));
            return Some(idle.conn);
        }
        {
            let mut st = self.inner.state.borrow_mut();
            st.counters.evicted += 1;
            st.counters.closed += 1;
        }
        idle.conn.ensure_closed().await;
        None
    }

    /// A connection slot is gone: let the first waiter open a new one.
    fn forget_slot(&self) {
        let mut guard = self.inner.state.borrow_mut();
        let st = &mut *guard;
        st.size = st.size.saturating_sub(1);
        if !st.closed && (self.inner.config.maxsize == 0 || st.size < self.inner.config.maxsize) {
            if let Some(w) = st.waiters.iter_mut().find(|w| w.granted.is_none()) {
                st.size += 1;
                w.granted = Some(None);
                if let Some(waker) = w.waker.take() {
                    waker.wake();
                }
            }
        }
        if st.size == 0 {
            for w in st.closed_wakers.drain(..) {
                w.wake();
            }
        }
    }

    /// Gives a connection back. It is cleaned (rollback, reset) before its next user gets it;
    /// a broken one is thrown away and its slot freed.
    pub fn release(&self, conn: Connection) {
        let key = identity(&conn);
        let now = self.inner.runtime.now();
        let mut st = self.inner.state.borrow_mut();
        // Not ours (maybe our readers'), or released twice: leave it to its owner.
        let Some(i) = st.in_use.iter().position(|(k, _, _)| *k == key) else {
            drop(st);
            if let Some(readers) = &self.inner.readers {
                readers.release(conn);
            }
            return;
        };
        let created = st.in_use.swap_remove(i).1;
        conn.end_lease();
        if st.closed || !conn.is_usable() {
            // A connection that broke sets its server aside (its next connections go elsewhere).
            if let (Some(hosts), Some(i), true) = (&self.inner.hosts, conn.endpoint(), conn.is_broken()) {
                hosts.mark_down(i, now);
            }
            st.counters.closed += 1;
            if !st.closed {
                st.counters.evicted += 1;
            }
            drop(st);
            // No COM_QUIT without an executor here; the socket closes now even if the borrower
            // kept a cursor (which refuses to run once the lease ended).
            conn.disconnect();
            self.forget_slot();
            return;
        }
        st.hand_over(Idle { conn, created, last_used: now, dirty: true });
    }

    pub(crate) fn runtime(&self) -> &dyn Runtime {
        self.inner.runtime.as_ref()
    }

    /// Connections open or being opened, free or in use.
    pub fn size(&self) -> usize {
        self.inner.state.borrow().size
    }

    /// Connections waiting in the pool.
    pub fn freesize(&self) -> usize {
        self.inner.state.borrow().free.len()
    }

    pub fn minsize(&self) -> usize {
        self.inner.config.minsize
    }

    pub fn maxsize(&self) -> usize {
        self.inner.config.maxsize
    }

    pub fn counters(&self) -> PoolCounters {
        let st = self.inner.state.borrow();
        PoolCounters { in_use: st.in_use.len() as u64, ..st.counters }
    }

    pub fn is_closed(&self) -> bool {
        self.inner.state.borrow().closed
    }

    /// Closes the free connections; the pool stays open and opens new ones on demand.
    pub async fn clear(&self) {
        let free: Vec<Idle> = self.inner.state.borrow_mut().free.drain(..).collect();
        for idle in free {
            idle.conn.ensure_closed().await;
            self.inner.state.borrow_mut().counters.closed += 1;
            self.forget_slot();
        }
        if let Some(readers) = &self.inner.readers {
            Box::pin(readers.clear()).await;
        }
    }

    /// Stops lending: free connections are closed now, connections in use when they come back.
    /// Waiters get an error.
    pub async fn close(&self) {
        let waiters: Vec<Waiter> = {
            let mut st = self.inner.state.borrow_mut();
            st.closed = true;
            st.waiters.drain(..).collect()
        };
        for mut w in waiters {
            if let Some(waker) = w.waker.take() {
                waker.wake();
            }
        }
        self.clear().await;
        if let Some(readers) = &self.inner.readers {
            Box::pin(readers.close()).await;
        }
    }

    /// Closes the pool and every connection it lent, in use or not.
    pub async fn terminate(&self) {
        self.close().await;
        let lent: Vec<(usize, Duration, Connection)> = self.inner.state.borrow_mut().in_use.drain(..).collect();
        for (_, _, conn) in lent {
            conn.ensure_closed().await;
            self.inner.state.borrow_mut().counters.closed += 1;
        }
        {
            let mut st = self.inner.state.borrow_mut();
            st.size = st.free.len();
            for w in st.closed_wakers.drain(..) {
                w.wake();
            }
        }
        if let Some(readers) = &self.inner.readers {
            Box::pin(readers.terminate()).await;
        }
    }

    /// Waits until every connection has come back and been closed. An error before `close`.
    pub async fn wait_closed(&self) -> Result<(), Error> {
        if !self.is_closed() {
            return Err(Error::Interface("wait_closed() called before close()".into()));
        }
        WaitClosed { pool: self }.await;
        if let Some(readers) = &self.inner.readers {
            WaitClosed { pool: readers }.await;
        }
        Ok(())
    }

    /// Like [`Pool::wait_closed`], but fails at once while connections are still lent after
    /// `close`: for a caller that blocks until the wait ends, so no borrower could give them back.
    pub async fn wait_closed_unless_lent(&self) -> Result<(), Error> {
        if self.is_closed() {
            let lent = self.counters().in_use;
            if lent > 0 {
                let msg = format!("{lent} connection(s) are still lent out; release them before wait-closed");
                return Err(Error::Interface(msg));
            }
        }
        self.wait_closed().await
    }
}

/// A reserved connection slot, given back on drop unless a connection was handed out in it.
struct Slot<'a> {
    pool: &'a Pool,
    armed: bool,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.pool.forget_slot();
        }
    }
}

/// Waits for `release` or a freed slot to hand this waiter its turn.
struct WaitTurn<'a> {
    pool: &'a Pool,
    id: Option<u64>,
}

impl Future for WaitTurn<'_> {
    type Output = Result<Option<Idle>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let pool = self.pool;
        let mut st = pool.inner.state.borrow_mut();
        let id = match self.id {
            Some(id) => id,
            None => {
                let id = st.next_waiter;
                st.next_waiter += 1;
                st.waiters.push_back(Waiter { id, waker: Some(cx.waker().clone()), granted: None });
                drop(st);
                self.id = Some(id);
                return Poll::Pending;
            }
        };
        let Some(pos) = st.waiters.iter().position(|w| w.id == id) else {
            // Removed by `close`.
            self.id = None;
            return Poll::Ready(Err(Error::Interface("the pool is closed".into())));
        };
        if st.waiters[pos].granted.is_some() {
            let w = st.waiters.remove(pos);
            drop(st);
            self.id = None;
            return Poll::Ready(Ok(w.and_then(|w| w.granted).flatten()));
        }
        st.waiters[pos].waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for WaitTurn<'_> {
    fn drop(&mut self) {
        // A waiter that gives up (timeout, cancelled) passes on whatever it was granted.
        let Some(id) = self.id else { return };
        let granted = {
            let mut st = self.pool.inner.state.borrow_mut();
            let Some(pos) = st.waiters.iter().position(|w| w.id == id) else { return };
            st.waiters.remove(pos).and_then(|w| w.granted)
        };
        match granted {
            Some(Some(idle)) => self.pool.inner.state.borrow_mut().hand_over(idle),
            Some(None) => self.pool.forget_slot(),
            None => {}
        }
    }
}

struct WaitClosed<'a> {
    pool: &'a Pool,
}

impl Future for WaitClosed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.pool.inner.state.borrow_mut();
        if st.size == 0 {
            return Poll::Ready(());
        }
        st.closed_wakers.push(cx.waker().clone());
        Poll::Pending
    }
}
