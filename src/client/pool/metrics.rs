//! Pool metrics per server: for each endpoint of the host list (or the pool's one server), the
//! connections open and lent, those opened and failed so far, and whether it is set aside now.

use super::{Pool, State};
use crate::client::connection::Connection;
use crate::client::host_list::Endpoint;

/// One server's figures in a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMetrics {
    pub endpoint: Endpoint,
    /// Connections to it that the pool holds now, free or lent.
    pub open: u64,
    /// Of those, the ones lent.
    pub in_use: u64,
    /// Connections the pool opened to it so far.
    pub created: u64,
    /// Connects to it that failed so far (by the pool's connections, including failover).
    pub failed: u64,
    /// Times it was set aside after a failure (only with a host list).
    pub marked_down: u64,
    /// Whether it is set aside now, so no connection to it is handed out.
    pub down: bool,
}

/// The pool's figures now, per server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolMetrics {
    /// Connections open or being opened, free or lent (as [`Pool::size`]).
    pub size: u64,
    /// Connections waiting in the pool (as [`Pool::freesize`]).
    pub free: u64,
    /// Acquires waiting for a connection.
    pub waiting: u64,
    /// One entry per endpoint of the host list, in its order; one for a pool without a list.
    pub hosts: Vec<HostMetrics>,
}

/// What the pool itself counts per endpoint (index 0 for a pool without a host list).
#[derive(Debug, Default)]
pub(super) struct HostTally {
    pub created: Vec<u64>,
    /// Failed connects of a pool without a host list (the list counts its own).
    pub failed: u64,
}

impl HostTally {
    pub(super) fn count_created(&mut self, endpoint: Option<usize>) {
        let i = endpoint.unwrap_or(0);
        if self.created.len() <= i {
            self.created.resize(i + 1, 0);
        }
        if let Some(n) = self.created.get_mut(i) {
            *n = n.saturating_add(1);
        }
    }
}

impl Pool {
    /// The pool's figures per server, as of now.
    pub fn metrics(&self) -> PoolMetrics {
        let inner = &self.inner;
        let st: &State = &inner.state.borrow();
        let now = inner.runtime.now();
        let endpoints = match (&inner.hosts, &inner.options.ha) {
            (Some(_), Some(ha)) => ha.endpoints.clone(),
            _ => vec![Endpoint { host: inner.options.host.clone(), port: inner.options.port }],
        };
        let at = |conn: &Connection| conn.endpoint().unwrap_or(0);
        let free: Vec<usize> = st.free.iter().map(|idle| at(&idle.conn)).collect();
        let lent: Vec<usize> = st.in_use.iter().map(|(_, _, conn)| at(conn)).collect();
        let hosts = endpoints
            .into_iter()
            .enumerate()
            .map(|(i, endpoint)| {
                let in_use = lent.iter().filter(|&&e| e == i).count() as u64;
                let open = in_use + free.iter().filter(|&&e| e == i).count() as u64;
                let created = st.tally.created.get(i).copied().unwrap_or(0);
                let (failed, marked_down, down) = match &inner.hosts {
                    Some(h) => {
                        let t = h.tally(i);
                        (t.failed_connects, t.marked_down, h.is_down(i, now))
                    }
                    None => (st.tally.failed, 0, false),
                };
                HostMetrics { endpoint, open, in_use, created, failed, marked_down, down }
            })
            .collect();
        let waiting = st.waiters.iter().filter(|w| w.granted.is_none()).count() as u64;
        PoolMetrics { size: st.size as u64, free: st.free.len() as u64, waiting, hosts }
    }
}
