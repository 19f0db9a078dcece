//! The async connection: the session's state, the public [`Connection`] handle, and the commands
//! that are one packet each way (COM_PING, COM_INIT_DB, COM_RESET_CONNECTION, COM_QUIT).
//!
//! The rest of the session lives beside it, one concern a file: `connection_phase.rs` (connect,
//! TLS, authentication), `command.rs` (the command guard), `packets.rs` (reads and writes through
//! the framing), `timeouts.rs`, `result_set.rs`, `local_infile.rs` and `option_file.rs`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::io::AsyncWriteExt;
use futures::lock::Mutex;

use super::host_list::{Hosts, Purpose};
use super::options::ConnectOptions;
use super::packets::MAX_ALLOWED_PACKET;
use super::prepare::PreparedState;
use super::result_set::StatementResult;
use super::timeouts::StatementClock;
use super::transport::{Runtime, Transport};
use crate::error::Error;
use crate::protocol::charset::{charset_by_name, Charset};
use crate::protocol::column_cache::ColumnCache;
use crate::protocol::constants::{command::*, status::*};
use crate::protocol::escape::{escape_string_into, EscapeMode};
use crate::protocol::framing::Framing;
use crate::protocol::interpolate::{interpolate, interpolate_with, Params};
use crate::protocol::ok_packet::OkPacket;
use crate::protocol::response::Response;
use crate::protocol::value::Value;

/// What the wire still holds for an earlier command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pending {
    Nothing,
    /// Rows of result `id` not read yet (an unbuffered cursor is reading them).
    Rows {
        id: u64,
    },
    /// Further results of multi-statement command `id` (SERVER_MORE_RESULTS_EXISTS).
    MoreResults {
        id: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Ready,
    /// A command started and has not finished; if it is abandoned the connection is unusable.
    InCommand,
    Broken,
    Closed,
}

/// The state of one server session. Reached through [`Connection`].
pub(crate) struct Conn {
    pub(super) transport: Option<Box<dyn Transport>>,
    pub(super) runtime: Rc<dyn Runtime>,
    /// Packets to and from the server, plain or compressed, with their buffers.
    pub(super) framing: Framing,
    pub(super) scratch: Box<[u8]>,
    pub(super) state: State,
    pub(crate) options: ConnectOptions,
    pub(crate) charset: &'static Charset,
    pub(super) capabilities: u32,
    /// MariaDB's extended capabilities in force (`MARIADB_CLIENT_*`), 0 with MySQL.
    pub(super) mariadb_capabilities: u32,
    pub(crate) status: u16,
    pub(crate) server_version: String,
    pub(crate) thread_id: u32,
    pub(crate) affected_rows: u64,
    pub(crate) insert_id: u64,
    pub(crate) warning_count: u16,
    pub(crate) info: String,
    pub(crate) pending: Pending,
    pub(super) next_result_id: u64,
    /// The server's max_allowed_packet, read on first need (executemany batching).
    pub(super) max_allowed_packet: Option<usize>,
    /// Set when a statement switched character_set_client to a charset we cannot escape for.
    pub(super) unsafe_charset: Option<String>,
    /// The last result set's column definitions, reused when the next result's are the same.
    pub(super) column_cache: ColumnCache,
    /// While connecting: when connect_timeout expires (on the runtime's clock).
    pub(super) connect_deadline: Option<Duration>,
    /// While a statement with a statement timeout runs.
    pub(super) statement_clock: Option<StatementClock>,
    /// With a host list: which of its servers this session is on, and the list's health.
    pub(super) endpoint: Option<usize>,
    pub(super) hosts: Option<Rc<Hosts>>,
    /// The session broke inside a transaction the caller has not rolled back yet.
    pub(super) lost_transaction: bool,
    /// Sessions replaced by failover so far.
    pub(super) failovers: u32,
    /// Prepared statements: the session's epoch and statements waiting for COM_STMT_CLOSE.
    pub(crate) prepared: PreparedState,
}

/// A connection to a MySQL or MariaDB server (cymysql's `Connection`).
///
/// Cheap to clone: clones share the session, and commands from several tasks queue up in turn.
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Rc<Mutex<Conn>>,
    /// What the session last reported, readable without waiting for the lock.
    pub(super) cached: Rc<Cached>,
    /// Bumped each time a pool takes the connection back: cursors of an earlier borrower stop working.
    lease: Rc<Cell<u64>>,
}

/// Copies of the session's values that change only when a command ends, made when the session's
/// lock is released, so they are read without waiting for a command in flight.
#[derive(Default)]
pub(super) struct Cached {
    status: Cell<u16>,
    thread_id: Cell<u32>,
    insert_id: Cell<u64>,
    affected_rows: Cell<u64>,
    warning_count: Cell<u16>,
    compression: Cell<Option<&'static str>>,
    endpoint: Cell<Option<usize>>,
    failovers: Cell<u32>,
    server_version: RefCell<String>,
    cursorclass: Cell<super::cursor_class::CursorClass>,
    /// A transaction guard was dropped unended: the next lock sends ROLLBACK first.
    pub(super) rollback_pending: Cell<bool>,
}

impl Cached {
    fn of(c: &Conn) -> Cached {
        let cached = Cached::default();
        cached.update(c);
        cached
    }

    /// Copies the session's values (the lock is being released).
    pub(super) fn update(&self, c: &Conn) {
        self.status.set(c.status);
        self.thread_id.set(c.thread_id);
        self.insert_id.set(c.insert_id);
        self.affected_rows.set(c.affected_rows);
        self.warning_count.set(c.warning_count);
        self.compression.set(c.framing.algorithm().map(|a| a.name()));
        self.endpoint.set(c.endpoint);
        self.failovers.set(c.failovers);
        self.cursorclass.set(c.options.cursorclass);
        // Changes only when a reconnect replaced the session.
        if *self.server_version.borrow() != c.server_version {
            self.server_version.borrow_mut().clone_from(&c.server_version);
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Connection {
    /// Opens a session: TCP connect, handshake, authentication, then sql_mode, init_command and
    /// autocommit as cymysql applies them.
    /// With a host list (`options.ha`), the servers are tried by its strategy.
    pub async fn connect(options: ConnectOptions, runtime: Rc<dyn Runtime>) -> Result<Connection, Error> {
        match options.ha.clone() {
            Some(ha) => {
                let purpose = Purpose::of(&options);
                Connection::connect_via(options, runtime, &Hosts::new(ha), purpose).await
            }
            None => Ok(Connection::from_conn(Conn::open_observed(options, runtime).await?)),
        }
    }

    /// Opens a session on one of `hosts` (shared health, e.g. a pool's), chosen for `purpose`.
    pub(crate) async fn connect_via(
        options: ConnectOptions,
        runtime: Rc<dyn Runtime>,
        hosts: &Rc<Hosts>,
        purpose: Purpose,
    ) -> Result<Connection, Error> {
        Ok(Connection::from_conn(Conn::open_any(&options, runtime, hosts, purpose).await?))
    }

    fn from_conn(conn: Conn) -> Connection {
        Connection {
            cached: Rc::new(Cached::of(&conn)),
            inner: Rc::new(Mutex::new(conn)),
            lease: Rc::new(Cell::new(0)),
        }
    }

    /// Which server of the host list this session is on (an index into `HaOptions::endpoints`).
    pub fn endpoint(&self) -> Option<usize> {
        self.cached.endpoint.get()
    }

    /// Whether a failure broke the connection (not a close by the caller).
    pub(crate) fn is_broken(&self) -> bool {
        self.inner.try_lock().is_some_and(|c| c.state == State::Broken)
    }

    async fn simple(&self, sql: &str) -> Result<(), Error> {
        let mut c = self.lock().await;
        c.query_all_observed(sql).await
    }

    /// Starts a transaction (`START TRANSACTION`), whatever the autocommit mode.
    pub async fn begin(&self) -> Result<(), Error> {
        self.simple("START TRANSACTION").await
    }

    /// The runtime the session runs on (its clock and timers).
    pub(crate) async fn runtime(&self) -> Rc<dyn Runtime> {
        self.lock().await.runtime.clone()
    }

    pub async fn commit(&self) -> Result<(), Error> {
        self.simple("COMMIT").await
    }

    /// Rolls back. After the session broke inside a transaction (which the server rolled back)
    /// this only acknowledges it, so the next command may fail over.
    pub async fn rollback(&self) -> Result<(), Error> {
        let mut c = self.lock().await;
        if c.lost_transaction {
            c.lost_transaction = false;
            return Ok(());
        }
        c.query_all_observed("ROLLBACK").await
    }

    /// How many times failover replaced this connection's session (`HaOptions::failover`).
    pub fn failovers(&self) -> u32 {
        self.cached.failovers.get()
    }

    /// Sets the session's autocommit mode.
    pub async fn autocommit(&self, on: bool) -> Result<(), Error> {
        self.simple(if on { "SET AUTOCOMMIT = 1" } else { "SET AUTOCOMMIT = 0" }).await
    }

    /// Whether autocommit is on, as of the last status the server sent.
    pub fn get_autocommit(&self) -> bool {
        self.cached.status.get() & SERVER_STATUS_AUTOCOMMIT != 0
    }

    /// Whether a transaction is open, as of the last status the server sent.
    pub fn in_transaction(&self) -> bool {
        self.cached.status.get() & SERVER_STATUS_IN_TRANS != 0
    }

    /// COM_PING; with `reconnect`, a broken or closed session is replaced by a new one.
    pub async fn ping(&self, reconnect: bool) -> Result<(), Error> {
        let mut c = self.lock().await;
        let result = c.ping().await;
        let result = match result {
            Err(e) if reconnect && c.state != State::Ready => {
                let _ = e;
                let fresh = c.reopen().await?;
                *c = fresh;
                Ok(())
            }
            other => other,
        };
        result
    }

    /// Changes the connection character set (`SET NAMES`).
    pub async fn set_charset(&self, name: &str) -> Result<(), Error> {
        let charset = charset_by_name(name)?;
        let mut c = self.lock().await;
        c.query_all(&format!("SET NAMES {}", charset.name)).await?;
        c.charset = charset;
        c.unsafe_charset = None;
        c.options.charset = charset.name.to_string();
        Ok(())
    }

    /// COM_INIT_DB: makes `db` the default database.
    pub async fn select_db(&self, db: &str) -> Result<(), Error> {
        // The same rule as the handshake's database, which a reconnect sends.
        super::options::no_nul("db", db)?;
        let mut c = self.lock().await;
        c.simple_command(COM_INIT_DB, db.as_bytes()).await?;
        c.options.db = Some(db.to_string());
        Ok(())
    }

    /// Sends COM_QUIT and closes the stream; later commands fail with an interface error.
    pub async fn close(&self) -> Result<(), Error> {
        let mut c = self.lock().await;
        c.close().await
    }

    /// Like `close`, but never fails: for clean-up paths (cymysql's `ensure_closed`).
    pub async fn ensure_closed(&self) {
        let mut c = self.lock().await;
        let _ = c.close().await;
    }

    /// Whether the connection can take a command now, without a round trip: false when it is
    /// closed, broken, or a command was abandoned halfway (its packet sequence is unknown).
    pub fn is_usable(&self) -> bool {
        match self.inner.try_lock() {
            Some(c) => c.state == State::Ready && c.transport.is_some(),
            None => false,
        }
    }

    /// Closes the socket now, without COM_QUIT (there may be no executor to send it), unless a call
    /// is in flight. For a connection the pool discards on release: a cursor the borrower kept
    /// would otherwise hold the server session open for as long as the cursor lives.
    pub(crate) fn disconnect(&self) {
        if let Some(mut c) = self.inner.try_lock() {
            c.transport = None;
            c.state = State::Closed;
            c.pending = Pending::Nothing;
        }
    }

    /// Returns the session to a clean state for its next user: rolls back an open transaction and,
    /// with `reset`, sends COM_RESET_CONNECTION and re-applies the connect-time settings.
    pub async fn reset_session(&self, reset: bool) -> Result<(), Error> {
        let mut c = self.lock().await;
        // A server error left by the previous user's unread batch is theirs, not ours.
        if let Err(e) = c.drain_before_reuse().await {
            if e.is_fatal() {
                return Err(e);
            }
        }
        if reset {
            c.simple_command(COM_RESET_CONNECTION, &[]).await?;
            // The reset deallocated every prepared statement of the session.
            c.forget_statements();
            // The reset returns character set, sql_mode and autocommit to the server's defaults.
            let names = format!("SET NAMES {}", c.charset.name);
            c.query_all(&names).await?;
            c.after_connect().await?;
        } else if c.status & SERVER_STATUS_IN_TRANS != 0 {
            c.query_all("ROLLBACK").await?;
        }
        Ok(())
    }

    /// Whether the connection is open and not known to be broken.
    pub async fn is_open(&self) -> bool {
        self.lock().await.state == State::Ready
    }

    /// The server's version, without MariaDB's `5.5.5-` replication prefix.
    pub fn server_version(&self) -> String {
        self.cached.server_version.borrow().clone()
    }

    /// The kind of cursor [`Connection::default_cursor`] makes (PyMySQL's `cursorclass`).
    pub fn cursorclass(&self) -> super::cursor_class::CursorClass {
        self.cached.cursorclass.get()
    }

    /// The session's connection id (`CONNECTION_ID()`), as the handshake gave it.
    pub fn thread_id(&self) -> u32 {
        self.cached.thread_id.get()
    }

    /// The compression algorithm in use ("zlib" or "zstd"), if any: asking for one the server
    /// does not offer connects uncompressed, and this is how the caller finds out.
    pub fn compression(&self) -> Option<&'static str> {
        self.cached.compression.get()
    }

    /// The last statement's LAST_INSERT_ID, as of the last command that finished.
    pub fn insert_id(&self) -> u64 {
        self.cached.insert_id.get()
    }

    /// The last statement's affected rows, as of the last command that finished.
    pub fn affected_rows(&self) -> u64 {
        self.cached.affected_rows.get()
    }

    /// The last statement's warnings, as of the last command that finished.
    pub fn warning_count(&self) -> u16 {
        self.cached.warning_count.get()
    }

    /// Escapes `s` for use inside a quoted literal on this connection (charset and sql_mode aware).
    pub async fn escape_string(&self, s: &str) -> String {
        let c = self.lock().await;
        let mut out = String::with_capacity(s.len() + 2);
        escape_string_into(&mut out, s, c.escape_mode());
        out
    }

    /// The current lease: cursors remember it and refuse to run once it changes.
    pub(crate) fn lease(&self) -> u64 {
        self.lease.get()
    }

    /// Ends the current borrower's lease (the pool took the connection back).
    pub(crate) fn end_lease(&self) {
        self.lease.set(self.lease.get().wrapping_add(1));
    }
}

impl Conn {
    /// A new session with this one's options, on the same server or, with a host list, on the
    /// list's best server now (the one that failed is set aside).
    pub(super) async fn reopen(&self) -> Result<Conn, Error> {
        match (&self.hosts, self.endpoint) {
            (Some(hosts), Some(i)) => {
                if self.state == State::Broken {
                    hosts.mark_down(i, self.runtime.now());
                }
                Conn::open_any(&self.options, self.runtime.clone(), hosts, Purpose::of(&self.options)).await
            }
            _ => Conn::open_observed(self.options.clone(), self.runtime.clone()).await,
        }
    }

    pub(crate) fn escape_mode(&self) -> EscapeMode {
        EscapeMode { no_backslash_escapes: self.status & SERVER_STATUS_NO_BACKSLASH_ESCAPES != 0 }
    }

    /// Reads and discards what a previous user left on the wire.
    async fn drain_before_reuse(&mut self) -> Result<(), Error> {
        self.command(async |c: &mut Conn| c.drain_pending().await).await
    }

    /// Runs COM_QUERY and discards any rows: for statements run for their effect.
    pub(crate) async fn query_all(&mut self, sql: &str) -> Result<(), Error> {
        self.command(async |c: &mut Conn| {
            let (_, first) = c.start_query(sql).await?;
            drop(first);
            c.drain_pending().await
        })
        .await
    }

    /// [`Conn::query_all`] for a statement the caller asked for (commit, rollback, begin,
    /// autocommit), reported to the listener.
    async fn query_all_observed(&mut self, sql: &str) -> Result<(), Error> {
        let Some(started) = self.observe_start() else { return self.query_all(sql).await };
        let r = self.query_all(sql).await;
        let ran = super::events::Ran {
            query: sql,
            with_params: false,
            sent: sql,
            rows: Some(0),
            affected_rows: self.affected_rows,
            error: r.as_ref().err(),
        };
        self.report_statement(started, ran);
        r
    }

    async fn simple_command(&mut self, command: u8, arg: &[u8]) -> Result<OkPacket, Error> {
        self.command(async |c: &mut Conn| c.simple_command_inner(command, arg).await).await
    }

    async fn simple_command_inner(&mut self, command: u8, arg: &[u8]) -> Result<OkPacket, Error> {
        self.send_command(command, arg).await?;
        let packet = self.read_packet().await?;
        let context = "command reply";
        let r = match Response::parse_ok_or_err(&packet, self.capabilities, context) {
            Ok(Response::Ok(ok)) => Ok(ok),
            Ok(Response::Err(e)) => Err(e.into()),
            Ok(other) => Err(other.unexpected(context).into()),
            Err(e) => Err(e.into()),
        };
        let r = self.track(r);
        if let Ok(ok) = &r {
            self.status = ok.status_flags;
            self.track_session_state(ok);
        }
        r
    }

    async fn ping(&mut self) -> Result<(), Error> {
        self.simple_command(COM_PING, &[]).await.map(|_| ())
    }

    pub(super) async fn close(&mut self) -> Result<(), Error> {
        match self.state {
            State::Closed => return Err(Error::Closed),
            State::Ready => {
                // COM_QUIT gets no reply; the server just closes the stream.
                self.reset_seq();
                let _ = self.write_packet(&[COM_QUIT]).await;
            }
            State::InCommand | State::Broken => {}
        }
        if let Some(mut t) = self.transport.take() {
            let _ = t.close().await;
        }
        self.state = State::Closed;
        self.pending = Pending::Nothing;
        Ok(())
    }

    /// The largest statement the server accepts, asked once per session.
    pub(crate) async fn max_allowed_packet(&mut self) -> Result<usize, Error> {
        if let Some(n) = self.max_allowed_packet {
            return Ok(n);
        }
        let n = self
            .command(async |c: &mut Conn| {
                let (id, result) = c.start_query("SELECT @@max_allowed_packet").await?;
                let mut n = None;
                if let StatementResult::Rows(meta) = result {
                    while let Some(row) = c.read_row_as(id, &meta.columns, false).await? {
                        n = match row.first() {
                            Some(Value::Int(v)) => usize::try_from(*v).ok(),
                            Some(Value::UInt(v)) => usize::try_from(*v).ok(),
                            _ => None,
                        };
                    }
                }
                c.drain_pending().await?;
                Ok(n)
            })
            .await;
        // Leave room for the packet header and command byte; never exceed what we accept ourselves.
        let n = n?.unwrap_or(1 << 24).min(MAX_ALLOWED_PACKET).saturating_sub(64).max(1024);
        self.max_allowed_packet = Some(n);
        Ok(n)
    }

    pub(super) fn record_ok(&mut self, ok: &OkPacket) {
        self.affected_rows = ok.affected_rows;
        self.insert_id = ok.last_insert_id;
        self.warning_count = ok.warnings;
        self.status = ok.status_flags;
        self.info.clone_from(&ok.info);
        self.track_session_state(ok);
    }

    /// Follows `character_set_client` as the server reports it, so escaping always matches the
    /// charset the server parses with, even after a raw `SET NAMES` in user SQL.
    pub(super) fn track_session_state(&mut self, ok: &OkPacket) {
        for (name, value) in &ok.changed_variables {
            if name == "character_set_client" {
                match charset_by_name(value) {
                    Ok(cs) => {
                        self.charset = cs;
                        self.unsafe_charset = None;
                    }
                    Err(_) => self.unsafe_charset = Some(value.clone()),
                }
            }
        }
    }

    /// `query` with its `%s` / `%(name)s` placeholders filled from `params` for this session.
    pub(crate) fn render_query(&self, query: &str, params: Option<&Params>) -> Result<String, Error> {
        match params {
            // Without parameters nothing is escaped, so any session charset is fine.
            None => Ok(interpolate(query, None, self.escape_mode())?),
            Some(_) if self.options.converters.has_encoders() => {
                let converters = &self.options.converters;
                let literal = |out: &mut String, v: &Value, mode| converters.write_literal(out, v, mode);
                Ok(interpolate_with(query, params, self.escape_mode_checked()?, literal)?)
            }
            Some(_) => Ok(interpolate(query, params, self.escape_mode_checked()?)?),
        }
    }

    /// The escaping rules for parameters, or an error when the session's character set is one
    /// this driver cannot escape for.
    pub(crate) fn escape_mode_checked(&self) -> Result<EscapeMode, Error> {
        match &self.unsafe_charset {
            None => Ok(self.escape_mode()),
            Some(name) => {
                let why = charset_by_name(name).err().map(|e| e.to_string()).unwrap_or_default();
                Err(Error::NotSupported(format!(
                    "the session character set was changed to {name}, which this driver cannot escape for \
                     ({why}); use set_charset with a character set it carries, such as utf8mb4"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests;
