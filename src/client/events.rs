//! Observability: per-statement and per-connect events handed to a [`Listener`] set in
//! [`ConnectOptions::events`](super::options::ConnectOptions::events), and [`EventLog`], a listener
//! that keeps the most recent events for a caller to take (what the component's `take-events` reads).
//!
//! With no listener nothing is measured: no clock is read and no text is built, the cost is one
//! branch per statement.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use super::connection::Conn;
use super::options::ConnectOptions;
use super::transport::Runtime;
use crate::error::Error;
use crate::protocol::statement_digest::{digest_text, may_carry_secret};

/// What a statement event reports of the statement's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatementText {
    /// The statement digest text: every literal and parameter replaced by `?`, lists folded to
    /// `(...)` (MySQL's `STATEMENT_DIGEST_TEXT`). No value of any kind shows. The default.
    #[default]
    Digest,
    /// The statement as given to `execute`, before parameters are interpolated (`%s` placeholders
    /// stay): no parameter value shows, literals the caller wrote into the SQL do.
    Query,
    /// The statement as sent, parameters interpolated. A prepared statement's text has `?` for its
    /// parameters, which are never rendered.
    Full,
}

/// One statement run on the server (`execute`, each statement `executemany` sends, a prepared
/// statement's execution, `commit`, `rollback`, `begin`).
#[derive(Debug, Clone, PartialEq)]
pub struct StatementEvent {
    /// The statement's text as [`StatementText`] asks. A statement that may carry a password or a
    /// key (`IDENTIFIED BY`, `MASTER_PASSWORD`, `AES_ENCRYPT`, ...) is always given as its digest.
    pub text: String,
    /// The server, `host:port` (the endpoint of a host list the session is on).
    pub host: String,
    /// The session's connection id (`CONNECTION_ID()`).
    pub connection_id: u32,
    /// From sending the statement until `execute` returned, on the runtime's monotonic clock: with
    /// a buffered cursor every row was read by then, with an unbuffered one only the columns.
    pub duration: Duration,
    /// Rows of the result set read by `execute`: 0 for a statement without one, `None` for an
    /// unbuffered cursor (its rows are read as they are fetched).
    pub rows: Option<u64>,
    /// The OK packet's affected rows; 0 for a result set.
    pub affected_rows: u64,
    /// How the statement failed, if it did: kind, MySQL code and SQLSTATE. A server error's
    /// message, which may quote values, is [`REDACTED_MESSAGE`] unless the text is
    /// [`StatementText::Full`].
    pub error: Option<Error>,
}

/// One attempt to open a session on a server (connect, a pool opening a connection, reconnect,
/// failover; each server of a host list tried is one event).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectEvent {
    /// The server, `host:port`.
    pub host: String,
    /// The new session's connection id; 0 when the attempt failed.
    pub connection_id: u32,
    /// TCP connect, TLS, authentication and the set-up statements, on the runtime's clock.
    pub duration: Duration,
    pub error: Option<Error>,
}

/// An event of either kind, as [`EventLog`] keeps them.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Statement(StatementEvent),
    Connect(ConnectEvent),
}

/// Receives events as they happen, on the task that ran the statement: keep it short.
pub trait Listener {
    /// A statement ended, successfully or not.
    fn on_statement(&self, event: &StatementEvent);

    /// A connect attempt ended.
    fn on_connect(&self, event: &ConnectEvent) {
        let _ = event;
    }
}

/// Who listens, and what statement events report of the text: part of the connection options, so
/// a pool's connections all report to the pool's listener.
#[derive(Clone, Default)]
pub struct EventOptions {
    /// `None` (the default): no events, no cost.
    pub listener: Option<Rc<dyn Listener>>,
    pub statement_text: StatementText,
}

impl EventOptions {
    /// Events to `listener`, with the default statement text (the digest).
    pub fn to(listener: Rc<dyn Listener>) -> EventOptions {
        EventOptions { listener: Some(listener), statement_text: StatementText::default() }
    }
}

impl PartialEq for EventOptions {
    fn eq(&self, other: &Self) -> bool {
        let same = match (&self.listener, &other.listener) {
            (None, None) => true,
            (Some(a), Some(b)) => std::ptr::addr_eq(Rc::as_ptr(a), Rc::as_ptr(b)),
            _ => false,
        };
        same && self.statement_text == other.statement_text
    }
}

impl fmt::Debug for EventOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventOptions")
            .field("listener", &self.listener.as_ref().map(|_| "<listener>"))
            .field("statement_text", &self.statement_text)
            .finish()
    }
}

/// The text of a statement as an event reports it. `query` is what the caller gave, `with_params`
/// whether `%` placeholders were in use, `sent` the statement as it went to the server.
pub(crate) fn statement_text(mode: StatementText, query: &str, with_params: bool, sent: &str) -> String {
    let shown = match mode {
        StatementText::Digest => return digest_text(query, with_params),
        StatementText::Query => query,
        StatementText::Full => sent,
    };
    if may_carry_secret(shown) {
        digest_text(query, with_params)
    } else {
        shown.to_string()
    }
}

/// A listener that keeps the most recent `capacity` events until they are taken: for a caller that
/// cannot be called back (a component's host polls it with `take-events`).
#[derive(Debug)]
pub struct EventLog {
    events: RefCell<VecDeque<Event>>,
    capacity: usize,
    dropped: Cell<u64>,
}

impl EventLog {
    /// A log keeping up to `capacity` events; older ones are dropped (and counted) beyond it.
    pub fn new(capacity: usize) -> Rc<EventLog> {
        Rc::new(EventLog { events: RefCell::new(VecDeque::new()), capacity, dropped: Cell::new(0) })
    }

    /// Every event kept, oldest first; the log is then empty.
    pub fn take(&self) -> Vec<Event> {
        Vec::from(std::mem::take(&mut *self.events.borrow_mut()))
    }

    /// Events dropped so far because the log was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }

    fn keep(&self, event: Event) {
        if self.capacity == 0 {
            self.dropped.set(self.dropped.get().saturating_add(1));
            return;
        }
        let mut events = self.events.borrow_mut();
        while events.len() >= self.capacity {
            events.pop_front();
            self.dropped.set(self.dropped.get().saturating_add(1));
        }
        events.push_back(event);
    }
}

impl Listener for EventLog {
    fn on_statement(&self, event: &StatementEvent) {
        self.keep(Event::Statement(event.clone()));
    }

    fn on_connect(&self, event: &ConnectEvent) {
        self.keep(Event::Connect(event.clone()));
    }
}

/// What a statement event says of the error. The server's messages quote values (`Duplicate entry
/// '..'`, `Incorrect integer value: '..'`, `near '..'`), so unless the full text was asked for,
/// a server error keeps its code and SQLSTATE and loses its message.
fn error_for_event(mode: StatementText, e: &Error) -> Error {
    match e {
        Error::Server { code, sqlstate, .. } if mode != StatementText::Full => {
            Error::Server { code: *code, sqlstate: sqlstate.clone(), message: REDACTED_MESSAGE.to_string() }
        }
        other => other.clone(),
    }
}

/// The message of a server error in a statement event unless the full text was asked for.
pub const REDACTED_MESSAGE: &str = "(the server's message is left out: it may quote values)";

/// `host:port`, with an IPv6 address in brackets.
pub(crate) fn host_label(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// What a statement event says of the statement: its text as given and as sent, and its outcome.
pub(crate) struct Ran<'a> {
    pub query: &'a str,
    /// Whether `query` had `%` placeholders filled from parameters.
    pub with_params: bool,
    pub sent: &'a str,
    pub rows: Option<u64>,
    pub affected_rows: u64,
    pub error: Option<&'a Error>,
}

impl Conn {
    /// When a statement starts, if anyone listens; `None` (no clock read) otherwise.
    pub(crate) fn observe_start(&self) -> Option<Duration> {
        self.options.events.listener.as_ref().map(|_| self.runtime.now())
    }

    /// Hands the listener the event of a statement that started at `started` and just ended.
    pub(crate) fn report_statement(&self, started: Duration, ran: Ran<'_>) {
        let Some(listener) = &self.options.events.listener else { return };
        let event = StatementEvent {
            text: statement_text(self.options.events.statement_text, ran.query, ran.with_params, ran.sent),
            host: host_label(&self.options.host, self.options.port),
            connection_id: self.thread_id,
            duration: self.runtime.now().saturating_sub(started),
            rows: ran.rows,
            affected_rows: ran.affected_rows,
            error: ran.error.map(|e| error_for_event(self.options.events.statement_text, e)),
        };
        listener.on_statement(&event);
    }

    /// [`Conn::open`], reported to the options' listener as a connect event.
    pub(crate) async fn open_observed(options: ConnectOptions, runtime: Rc<dyn Runtime>) -> Result<Conn, Error> {
        let Some(listener) = options.events.listener.clone() else { return Conn::open(options, runtime).await };
        let host = host_label(&options.host, options.port);
        let started = runtime.now();
        let r = Conn::open(options, runtime.clone()).await;
        let event = ConnectEvent {
            host,
            connection_id: r.as_ref().map_or(0, |c| c.thread_id),
            duration: runtime.now().saturating_sub(started),
            error: r.as_ref().err().cloned(),
        };
        listener.on_connect(&event);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_never_shows_parameters_unless_asked_and_never_a_password() {
        let (q, sent) =
            ("SELECT * FROM t WHERE a = %s AND b = 'lit'", "SELECT * FROM t WHERE a = 'secret' AND b = 'lit'");
        assert_eq!(statement_text(StatementText::Digest, q, true, sent), "SELECT * FROM t WHERE a = ? AND b = ?");
        assert_eq!(statement_text(StatementText::Query, q, true, sent), q);
        assert_eq!(statement_text(StatementText::Full, q, true, sent), sent);
        let (q, sent) = ("ALTER USER u IDENTIFIED BY %s", "ALTER USER u IDENTIFIED BY 'hunter2'");
        for mode in [StatementText::Digest, StatementText::Query, StatementText::Full] {
            assert_eq!(statement_text(mode, q, true, sent), "ALTER USER u IDENTIFIED BY ?", "{mode:?}");
        }
    }

    #[test]
    fn a_server_message_reaches_an_event_only_with_the_full_text() {
        let e = Error::Server { code: 1062, sqlstate: "23000".into(), message: "Duplicate entry 's3cret'".into() };
        for mode in [StatementText::Digest, StatementText::Query] {
            let r = error_for_event(mode, &e);
            assert_eq!((r.code(), r.sqlstate(), r.kind()), (e.code(), e.sqlstate(), e.kind()));
            assert_eq!(r.message(), REDACTED_MESSAGE);
        }
        assert_eq!(error_for_event(StatementText::Full, &e), e);
        assert_eq!(error_for_event(StatementText::Digest, &Error::Broken), Error::Broken);
    }

    #[test]
    fn the_log_keeps_the_most_recent_events_and_counts_the_dropped() {
        let log = EventLog::new(2);
        let event = |n: u64| StatementEvent {
            text: format!("q{n}"),
            host: "h:1".into(),
            connection_id: 1,
            duration: Duration::ZERO,
            rows: Some(n),
            affected_rows: 0,
            error: None,
        };
        for n in 0..3 {
            log.on_statement(&event(n));
        }
        assert_eq!(log.take(), vec![Event::Statement(event(1)), Event::Statement(event(2))]);
        assert_eq!(log.dropped(), 1);
        assert!(log.take().is_empty());
        let none = EventLog::new(0);
        none.on_statement(&event(0));
        assert_eq!((none.take().len(), none.dropped()), (0, 1));
    }
}
