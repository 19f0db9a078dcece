//! Host lists (Connector/J's multi-host URLs): several servers behind one set of options, the
//! order they are tried in (`sequential`, `loadbalance`, `replication`), and what is known of each
//! server's health: a server that failed is set aside for a while, then tried again.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use super::connection::Conn;
use super::options::ConnectOptions;
use super::transport::Runtime;
use crate::error::{Error, Timeout};

/// One server of a host list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

/// How a host list is used, with Connector/J's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Always the first server that is up, in the order given (failover).
    Sequential,
    /// Each new connection goes to the next server that is up, in turn (round robin).
    LoadBalance,
    /// The first server is the primary and takes writes; a connection for reads
    /// ([`HaOptions::read_only`], [`super::pool::Pool::acquire_read`]) goes to the others
    /// (replicas), in turn, falling back to the primary when none is up.
    Replication,
}

impl Strategy {
    /// The strategy named as in the URL's `ha=` (`sequential`, `loadbalance`, `replication`).
    pub fn from_name(name: &str) -> Option<Strategy> {
        match name.to_ascii_lowercase().as_str() {
            "sequential" => Some(Strategy::Sequential),
            "loadbalance" => Some(Strategy::LoadBalance),
            "replication" => Some(Strategy::Replication),
            _ => None,
        }
    }
}

/// More than one server: the endpoints, the strategy and the failure handling.
#[derive(Debug, Clone, PartialEq)]
pub struct HaOptions {
    /// Every server, in the order given; the first is also `ConnectOptions::host` and `port`.
    pub endpoints: Vec<Endpoint>,
    pub strategy: Strategy,
    /// How long a server that failed is set aside before it is tried again (mysql2's
    /// `restoreNodeTimeout`). While every server is set aside, all are tried anyway.
    pub retry_down_after: Duration,
    /// Opt-in failover at safe points: a connection that broke outside a transaction is replaced
    /// on its next command, with the session state re-applied. Off by default.
    pub failover: bool,
    /// Galera: connect and acquire take only a node that is Synced ([`super::galera`]), and set
    /// the others aside. One round trip more per connect and per acquire. Off by default.
    pub galera: bool,
    /// Galera causal reads: `wsrep_sync_wait` for every session (1 makes reads wait until the
    /// node applied every earlier commit of the cluster). None leaves the server's setting.
    pub wsrep_sync_wait: Option<u8>,
    /// The connection is for reads: under `replication` it goes to a replica (falling back to the
    /// primary), and so does its failover. Connector/J's `setReadOnly(true)`. Default false.
    pub read_only: bool,
}

/// The default of [`HaOptions::retry_down_after`].
pub const DEFAULT_RETRY_DOWN_AFTER: Duration = Duration::from_secs(10);

impl HaOptions {
    /// A list of one server, `sequential`.
    pub fn single(host: &str, port: u16) -> HaOptions {
        HaOptions {
            endpoints: vec![Endpoint { host: host.to_string(), port }],
            strategy: Strategy::Sequential,
            retry_down_after: DEFAULT_RETRY_DOWN_AFTER,
            failover: false,
            galera: false,
            wsrep_sync_wait: None,
            read_only: false,
        }
    }
}

/// What a connection will be used for: under `replication`, reads may go to a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Write,
    Read,
}

impl Purpose {
    /// What the options ask a connection for: reads with `read_only`, else writes.
    pub fn of(options: &ConnectOptions) -> Purpose {
        match &options.ha {
            Some(ha) if ha.read_only => Purpose::Read,
            _ => Purpose::Write,
        }
    }
}

/// The health of a host list's servers, shared by the connections of one pool (or one connection).
#[derive(Debug)]
pub struct Hosts {
    options: HaOptions,
    /// Per endpoint: until when it is set aside (on the runtime's clock).
    down_until: RefCell<Vec<Option<Duration>>>,
    /// Where the next round-robin pick starts.
    next: Cell<usize>,
    /// Per endpoint: what has gone wrong with it so far (pool metrics).
    tally: RefCell<Vec<EndpointTally>>,
}

/// Running totals of one endpoint's failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointTally {
    /// Connects to it that failed.
    pub failed_connects: u64,
    /// Times it was set aside (a failed connect, or a session on it that broke).
    pub marked_down: u64,
}

impl Hosts {
    pub fn new(options: HaOptions) -> Rc<Hosts> {
        let n = options.endpoints.len();
        let tally = RefCell::new(vec![EndpointTally::default(); n]);
        Rc::new(Hosts { options, down_until: RefCell::new(vec![None; n]), next: Cell::new(0), tally })
    }

    pub fn options(&self) -> &HaOptions {
        &self.options
    }

    pub fn endpoint(&self, i: usize) -> Option<&Endpoint> {
        self.options.endpoints.get(i)
    }

    /// Whether endpoint `i` failed less than `retry_down_after` ago.
    pub fn is_down(&self, i: usize, now: Duration) -> bool {
        self.down_until.borrow().get(i).copied().flatten().is_some_and(|until| now < until)
    }

    /// Sets endpoint `i` aside until `retry_down_after` from `now`.
    pub fn mark_down(&self, i: usize, now: Duration) {
        if let Some(slot) = self.down_until.borrow_mut().get_mut(i) {
            *slot = Some(now.saturating_add(self.options.retry_down_after));
        }
        if let Some(t) = self.tally.borrow_mut().get_mut(i) {
            t.marked_down = t.marked_down.saturating_add(1);
        }
    }

    /// What has gone wrong with endpoint `i` so far.
    pub fn tally(&self, i: usize) -> EndpointTally {
        self.tally.borrow().get(i).copied().unwrap_or_default()
    }

    fn count_failed_connect(&self, i: usize) {
        if let Some(t) = self.tally.borrow_mut().get_mut(i) {
            t.failed_connects = t.failed_connects.saturating_add(1);
        }
    }

    pub fn mark_up(&self, i: usize) {
        if let Some(slot) = self.down_until.borrow_mut().get_mut(i) {
            *slot = None;
        }
    }

    /// The endpoints to try, best first: those up in the strategy's order, then those set aside
    /// (a last resort, so a list whose servers all failed once still recovers).
    pub fn order(&self, purpose: Purpose, now: Duration) -> Vec<usize> {
        let n = self.options.endpoints.len();
        let rotate = |from: usize, ids: &mut Vec<usize>| {
            if !ids.is_empty() {
                let k = from % ids.len();
                ids.rotate_left(k);
            }
        };
        let mut ids: Vec<usize> = match (self.options.strategy, purpose) {
            (Strategy::Sequential, _) => (0..n).collect(),
            (Strategy::LoadBalance, _) => {
                let mut ids: Vec<usize> = (0..n).collect();
                let start = self.next.get();
                self.next.set(start.wrapping_add(1));
                rotate(start, &mut ids);
                ids
            }
            (Strategy::Replication, Purpose::Write) => vec![0],
            (Strategy::Replication, Purpose::Read) => {
                let mut replicas: Vec<usize> = (1..n).collect();
                let start = self.next.get();
                self.next.set(start.wrapping_add(1));
                rotate(start, &mut replicas);
                replicas.push(0);
                replicas
            }
        };
        // Stable: up first, each group in the order above.
        ids.sort_by_key(|&i| self.is_down(i, now));
        ids
    }
}

/// Whether a connect failure says the server (not the caller's options) is at fault, so the
/// next server is worth a try.
fn server_at_fault(e: &Error) -> bool {
    // 1040 too many connections, 1129 host blocked, 1047 Galera node not ready.
    e.is_retryable()
        || matches!(e, Error::UnknownHost(_) | Error::Tls(_) | Error::Protocol(_))
        || matches!(e, Error::Server { code: 1040 | 1129, .. })
}

impl Conn {
    /// Opens a session on the first server of `hosts` that takes it, in the strategy's order,
    /// all within one connect_timeout. A server that fails is set aside; the last failure is
    /// returned when none succeeds. Errors that are the caller's (a wrong password) end it at once.
    pub(crate) async fn open_any(
        options: &ConnectOptions,
        runtime: Rc<dyn Runtime>,
        hosts: &Rc<Hosts>,
        purpose: Purpose,
    ) -> Result<Conn, Error> {
        let start = runtime.now();
        let deadline = options.connect_timeout.map(|t| start.saturating_add(t));
        let mut last = None;
        for i in hosts.order(purpose, start) {
            let Some(endpoint) = hosts.endpoint(i) else { continue };
            let now = runtime.now();
            let mut o = options.clone();
            o.host.clone_from(&endpoint.host);
            o.port = endpoint.port;
            if let Some(deadline) = deadline {
                let left = deadline.saturating_sub(now);
                if left.is_zero() {
                    break;
                }
                o.connect_timeout = Some(left);
            }
            let opened = match Conn::open_observed(o, runtime.clone()).await {
                Ok(conn) => conn.prepare_for_cluster(hosts.options()).await,
                Err(e) => Err(e),
            };
            match opened {
                Ok(mut conn) => {
                    hosts.mark_up(i);
                    conn.endpoint = Some(i);
                    conn.hosts = Some(hosts.clone());
                    return Ok(conn);
                }
                Err(e) if server_at_fault(&e) => {
                    hosts.count_failed_connect(i);
                    hosts.mark_down(i, runtime.now());
                    last = Some(e);
                }
                Err(e) => {
                    hosts.count_failed_connect(i);
                    return Err(e);
                }
            }
        }
        Err(last.unwrap_or(Error::Timeout(Timeout::Connect)))
    }

    /// What a host list asks of a new session before it is used: a Synced Galera node, causal
    /// reads. A session that fails is closed here, so nothing is left open on a node set aside.
    async fn prepare_for_cluster(mut self, ha: &HaOptions) -> Result<Conn, Error> {
        let mut r = Ok(());
        if ha.galera {
            r = self.check_galera_synced().await;
        }
        if let (Ok(()), Some(mask)) = (&r, ha.wsrep_sync_wait) {
            r = self.set_wsrep_sync_wait(mask).await;
        }
        match r {
            Ok(()) => Ok(self),
            Err(e) => {
                let _ = self.close().await;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(strategy: Strategy, n: u16) -> Rc<Hosts> {
        let endpoints = (0..n).map(|i| Endpoint { host: "127.0.0.1".into(), port: 3306 + i }).collect();
        Hosts::new(HaOptions {
            endpoints,
            strategy,
            retry_down_after: Duration::from_secs(5),
            ..HaOptions::single("127.0.0.1", 3306)
        })
    }

    #[test]
    fn sequential_keeps_the_order_and_sets_failed_servers_aside_for_a_while() {
        let h = hosts(Strategy::Sequential, 3);
        let t0 = Duration::from_secs(100);
        assert_eq!(h.order(Purpose::Write, t0), [0, 1, 2]);
        h.mark_down(0, t0);
        assert_eq!(h.order(Purpose::Write, t0), [1, 2, 0]);
        assert_eq!(h.order(Purpose::Write, t0 + Duration::from_millis(4999)), [1, 2, 0]);
        // Set aside for retry_down_after, then tried first again.
        assert_eq!(h.order(Purpose::Write, t0 + Duration::from_secs(5)), [0, 1, 2]);
        h.mark_down(1, t0);
        h.mark_up(0);
        assert_eq!(h.order(Purpose::Write, t0), [0, 2, 1]);
    }

    #[test]
    fn loadbalance_starts_each_connection_at_the_next_server() {
        let h = hosts(Strategy::LoadBalance, 3);
        let t = Duration::ZERO;
        let firsts: Vec<usize> = (0..6).map(|_| h.order(Purpose::Write, t)[0]).collect();
        assert_eq!(firsts, [0, 1, 2, 0, 1, 2]);
        h.mark_down(1, t);
        let firsts: Vec<usize> = (0..3).map(|_| h.order(Purpose::Write, t)[0]).collect();
        assert!(!firsts.contains(&1), "{firsts:?}");
    }

    #[test]
    fn replication_writes_to_the_primary_and_reads_from_replicas_then_the_primary() {
        let h = hosts(Strategy::Replication, 3);
        let t = Duration::ZERO;
        assert_eq!(h.order(Purpose::Write, t), [0]);
        assert_eq!(h.order(Purpose::Read, t), [1, 2, 0]);
        assert_eq!(h.order(Purpose::Read, t), [2, 1, 0]);
        h.mark_down(1, t);
        h.mark_down(2, t);
        assert_eq!(h.order(Purpose::Read, t), [0, 1, 2]);
        assert_eq!(Strategy::from_name("LoadBalance"), Some(Strategy::LoadBalance));
        assert_eq!(Strategy::from_name("random"), None);
    }

    #[test]
    fn urls_carry_host_lists_and_their_options() {
        use crate::client::url::parse_url;
        let o = parse_url("mysql://u:p@h1:3306,h2:3307,[::1],h4/db?ha=loadbalance&retry_down_after=2.5").unwrap();
        assert_eq!((o.host.as_str(), o.port, o.db.as_deref()), ("h1", 3306, Some("db")));
        let ha = o.ha.unwrap();
        let eps: Vec<(&str, u16)> = ha.endpoints.iter().map(|e| (e.host.as_str(), e.port)).collect();
        assert_eq!(eps, [("h1", 3306), ("h2", 3307), ("::1", 3306), ("h4", 3306)]);
        assert_eq!(
            (ha.strategy, ha.retry_down_after, ha.failover),
            (Strategy::LoadBalance, Duration::from_millis(2500), false)
        );
        // A list without ha= is sequential; one host with ha= is a list of one.
        let o = parse_url("mysql://h1,h2/").unwrap();
        assert_eq!(o.ha.map(|h| (h.strategy, h.endpoints.len())), Some((Strategy::Sequential, 2)));
        let o = parse_url("mysql://h1:3310/?failover=true&ha=replication").unwrap();
        let ha = o.ha.unwrap();
        assert_eq!(
            (ha.strategy, ha.failover, ha.endpoints),
            (Strategy::Replication, true, vec![Endpoint { host: "h1".into(), port: 3310 }])
        );
        assert_eq!(parse_url("mysql://h1/").unwrap().ha, None);
        for bad in [
            "mysql://h1,,h2/",
            "mysql://h1,/",
            "mysql://h1,h2:0/",
            "mysql://h1/?ha=random",
            "mysql://h1/?failover=maybe",
        ] {
            assert!(matches!(parse_url(bad), Err(Error::Programming(_))), "{bad}");
        }
    }
}
