//! The async connection: a thin loop feeding the protocol core from a transport.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::future::{select, Either};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::lock::{Mutex, MutexGuard};

use super::options::{ConnectOptions, SslOptions};
#[cfg(feature = "tls")]
use super::tls::TlsStream;
use super::transport::{with_timeout, LocalFuture, Runtime, Transport};
use crate::error::{Error, ProtocolError, Timeout};
use crate::protocol::auth::{plugin_for, AuthContext, AuthStep, ServerPublicKey};
use crate::protocol::buf::Reader;
use crate::protocol::charset::{charset_by_name, Charset};
use crate::protocol::codec::PacketCodec;
use crate::protocol::column::Column;
use crate::protocol::column_cache::ColumnCache;
use crate::protocol::compress::{peek_envelope, Algorithm, CompressedCodec};
use crate::protocol::constants::{capability::*, command::*, status::*};
use crate::protocol::err_packet::{framed_server_error, server_error};
use crate::protocol::escape::{escape_string_into, EscapeMode};
use crate::protocol::handshake::{ssl_request, HandshakeResponse41, HandshakeV10};
use crate::protocol::interpolate::{interpolate, Params};
use crate::protocol::ok_packet::{is_result_terminator, EofPacket, OkPacket};
use crate::protocol::option_file::parse_option_file;
use crate::protocol::result_header::ResultHeader;
use crate::protocol::text_row::decode_text_row;
use crate::protocol::value::Value;

/// The largest logical packet the protocol allows (MySQL's own client limit is 1 GiB).
const MAX_ALLOWED_PACKET: usize = 1 << 30;

/// The largest logical packet accepted from the server: `max_result_bytes`, since a row larger
/// than that cannot be held anyway, but at least one physical packet (16 MiB) and at most 1 GiB.
fn receive_limit(max_result_bytes: u64) -> usize {
    usize::try_from(max_result_bytes).unwrap_or(usize::MAX).clamp(1 << 24, MAX_ALLOWED_PACKET)
}
const READ_CHUNK: usize = 64 * 1024;
/// LOCAL INFILE data is sent in packets of this size.
const MAX_PACKET_PAYLOAD_CHUNK: usize = 1 << 20;
/// Results a set-up statement (sql_mode, init_command, autocommit) may return: a server whose
/// more-results flag never clears must not keep connect busy for ever.
const MAX_SETUP_RESULTS: usize = 64;
/// Least time a killed statement gets to report its interruption before the connection is
/// given up (the statement's own limit, when longer).
const MIN_KILL_GRACE: Duration = Duration::from_secs(2);

/// Capabilities we ask for whenever the server offers them.
const CLIENT_CAPABILITIES: u32 = CLIENT_LONG_PASSWORD
    | CLIENT_LONG_FLAG
    | CLIENT_PROTOCOL_41
    | CLIENT_TRANSACTIONS
    | CLIENT_SECURE_CONNECTION
    | CLIENT_MULTI_RESULTS
    | CLIENT_PS_MULTI_RESULTS
    | CLIENT_PLUGIN_AUTH
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
    | CLIENT_CONNECT_ATTRS
    | CLIENT_DEPRECATE_EOF;

/// The compressed protocol once it is on: the envelope codec, inflated bytes the packet codec has
/// not taken yet, and the envelopes of the write in progress.
struct Compression {
    codec: CompressedCodec,
    plain: BytesMut,
    envelopes: Vec<u8>,
}

/// The statement timeout of the command on the wire: when it expires, and whether `KILL QUERY`
/// was sent (the deadline is then the end of the grace for the server's reply).
#[derive(Debug, Clone, Copy)]
struct StatementClock {
    deadline: Duration,
    limit: Duration,
    killed: bool,
}

/// Which deadline bounds a wait on the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    /// The wait fails with this timeout (and the connection breaks).
    Fail(Timeout),
    /// The running statement is over its time: kill it, then go on reading its reply.
    KillStatement,
}

/// A result set's columns and whether it is still being read from the wire.
#[derive(Debug, Clone)]
pub(crate) struct ResultMeta {
    pub columns: Rc<[Column]>,
}

/// The outcome of one statement: either an OK or a result set whose rows follow.
#[derive(Debug)]
pub(crate) enum StatementResult {
    Ok(OkPacket),
    Rows(ResultMeta),
}

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
enum State {
    Ready,
    /// A command started and has not finished; if it is abandoned the connection is unusable.
    InCommand,
    Broken,
    Closed,
}

/// The state of one server session. Reached through [`Connection`].
pub(crate) struct Conn {
    transport: Option<Box<dyn Transport>>,
    runtime: Rc<dyn Runtime>,
    codec: PacketCodec,
    rbuf: BytesMut,
    scratch: Box<[u8]>,
    wbuf: Vec<u8>,
    state: State,
    pub(crate) options: ConnectOptions,
    pub(crate) charset: &'static Charset,
    capabilities: u32,
    pub(crate) status: u16,
    pub(crate) server_version: String,
    pub(crate) thread_id: u32,
    pub(crate) affected_rows: u64,
    pub(crate) insert_id: u64,
    pub(crate) warning_count: u16,
    pub(crate) info: String,
    pub(crate) pending: Pending,
    next_result_id: u64,
    /// The server's max_allowed_packet, read on first need (executemany batching).
    max_allowed_packet: Option<usize>,
    /// Set when a statement switched character_set_client to a charset we cannot escape for.
    unsafe_charset: Option<String>,
    /// Set after the handshake when CLIENT_COMPRESS was agreed.
    compression: Option<Compression>,
    /// The last result set's column definitions, reused when the next result's are the same.
    column_cache: ColumnCache,
    /// While connecting: when connect_timeout expires (on the runtime's clock).
    connect_deadline: Option<Duration>,
    /// While a statement with a statement timeout runs.
    statement_clock: Option<StatementClock>,
}

/// A connection to a MySQL or MariaDB server (cymysql's `Connection`).
///
/// Cheap to clone: clones share the session, and commands from several tasks queue up in turn.
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Rc<Mutex<Conn>>,
    /// Copy of the status bits readable without waiting for the lock.
    status_hint: Rc<Cell<u16>>,
    /// Bumped each time a pool takes the connection back: cursors of an earlier borrower stop working.
    lease: Rc<Cell<u64>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Connection {
    /// Opens a session: TCP connect, handshake, authentication, then sql_mode, init_command and
    /// autocommit as cymysql applies them.
    pub async fn connect(options: ConnectOptions, runtime: Rc<dyn Runtime>) -> Result<Connection, Error> {
        let conn = Conn::open(options, runtime).await?;
        let status = conn.status;
        Ok(Connection {
            inner: Rc::new(Mutex::new(conn)),
            status_hint: Rc::new(Cell::new(status)),
            lease: Rc::new(Cell::new(0)),
        })
    }

    pub(crate) async fn lock(&self) -> MutexGuard<'_, Conn> {
        self.inner.lock().await
    }

    /// A cursor returning rows as value lists; rows are read in full by `execute`.
    pub fn cursor(&self) -> super::cursor::Cursor {
        super::cursor::Cursor::new(self.clone(), false)
    }

    /// An unbuffered cursor (cymysql's `SSCursor`): rows stream from the server as they are fetched.
    pub fn ss_cursor(&self) -> super::cursor::Cursor {
        super::cursor::Cursor::new(self.clone(), true)
    }

    /// A cursor returning rows as (column name, value) pairs.
    pub fn dict_cursor(&self) -> super::cursor::DictCursor {
        super::cursor::DictCursor::new(self.cursor())
    }

    /// An unbuffered dict cursor (cymysql's `SSDictCursor`).
    pub fn ss_dict_cursor(&self) -> super::cursor::DictCursor {
        super::cursor::DictCursor::new(self.ss_cursor())
    }

    async fn simple(&self, sql: &str) -> Result<(), Error> {
        let mut c = self.lock().await;
        let r = c.query_all(sql).await;
        self.status_hint.set(c.status);
        r
    }

    pub async fn commit(&self) -> Result<(), Error> {
        self.simple("COMMIT").await
    }

    pub async fn rollback(&self) -> Result<(), Error> {
        self.simple("ROLLBACK").await
    }

    /// Sets the session's autocommit mode.
    pub async fn autocommit(&self, on: bool) -> Result<(), Error> {
        self.simple(if on { "SET AUTOCOMMIT = 1" } else { "SET AUTOCOMMIT = 0" }).await
    }

    /// Whether autocommit is on, as of the last status the server sent.
    pub fn get_autocommit(&self) -> bool {
        self.status_hint.get() & SERVER_STATUS_AUTOCOMMIT != 0
    }

    /// Whether a transaction is open, as of the last status the server sent.
    pub fn in_transaction(&self) -> bool {
        self.status_hint.get() & SERVER_STATUS_IN_TRANS != 0
    }

    /// COM_PING; with `reconnect`, a broken or closed session is replaced by a new one.
    pub async fn ping(&self, reconnect: bool) -> Result<(), Error> {
        let mut c = self.lock().await;
        let result = c.ping().await;
        let result = match result {
            Err(e) if reconnect && c.state != State::Ready => {
                let _ = e;
                let fresh = Conn::open(c.options.clone(), c.runtime.clone()).await?;
                *c = fresh;
                Ok(())
            }
            other => other,
        };
        self.status_hint.set(c.status);
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
            // The reset returns character set, sql_mode and autocommit to the server's defaults.
            let names = format!("SET NAMES {}", c.charset.name);
            c.query_all(&names).await?;
            c.after_connect().await?;
        } else if c.status & SERVER_STATUS_IN_TRANS != 0 {
            c.query_all("ROLLBACK").await?;
        }
        self.status_hint.set(c.status);
        Ok(())
    }

    /// Whether the connection is open and not known to be broken.
    pub async fn is_open(&self) -> bool {
        self.lock().await.state == State::Ready
    }

    pub async fn server_version(&self) -> String {
        self.lock().await.server_version.clone()
    }

    pub async fn thread_id(&self) -> u32 {
        self.lock().await.thread_id
    }

    /// The compression algorithm in use ("zlib" or "zstd"), if any: asking for one the server
    /// does not offer connects uncompressed, and this is how the caller finds out.
    pub async fn compression(&self) -> Option<&'static str> {
        self.lock().await.compression.as_ref().map(|c| c.codec.algorithm().name())
    }

    pub async fn insert_id(&self) -> u64 {
        self.lock().await.insert_id
    }

    pub async fn affected_rows(&self) -> u64 {
        self.lock().await.affected_rows
    }

    pub async fn warning_count(&self) -> u16 {
        self.lock().await.warning_count
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

    pub(crate) fn set_status_hint(&self, status: u16) {
        self.status_hint.set(status);
    }
}

impl Conn {
    async fn open(mut options: ConnectOptions, runtime: Rc<dyn Runtime>) -> Result<Conn, Error> {
        if options.unix_socket.is_some() {
            return Err(Error::NotSupported("unix_socket: wasi:sockets has no AF_UNIX; use host and port".into()));
        }
        if options.named_pipe {
            return Err(Error::NotSupported("named_pipe: only TCP is available under WASI".into()));
        }
        match options.compress.as_deref() {
            None | Some("zlib") => {}
            #[cfg(not(feature = "zstd"))]
            Some("zstd") => {
                return Err(Error::NotSupported("compress=zstd: this component was built without zstd".into()))
            }
            #[cfg(feature = "zstd")]
            Some("zstd") => {
                if !(1..=22).contains(&options.zstd_compression_level) {
                    return Err(Error::Programming(format!(
                        "zstd_compression_level must be 1 to 22, not {}",
                        options.zstd_compression_level
                    )));
                }
            }
            Some(other) => {
                return Err(Error::Programming(format!("compress must be \"zlib\" or \"zstd\", not {other:?}")))
            }
        }
        if let Some(path) = options.read_default_file.clone() {
            apply_default_file(&mut options, &path, runtime.as_ref())?;
        }
        // After the option file, whose values pass the same checks as the caller's.
        options.validate()?;
        // Refused before the server sees us: an aborted handshake counts against the host there.
        #[cfg(not(feature = "tls"))]
        if options.ssl.is_some() {
            return Err(Error::NotSupported("ssl: this component was built without TLS".into()));
        }
        if options.max_result_bytes == 0 {
            return Err(Error::Programming("max_result_bytes must be greater than 0".into()));
        }
        let charset = charset_by_name(&options.charset)?;
        // Checked before any byte goes out: a key that cannot be used is the caller's mistake.
        let server_public_key = options.server_public_key.as_deref().map(ServerPublicKey::from_pem).transpose()?;
        let timeout = options.connect_timeout;
        let rt = runtime.clone();
        let connect_deadline = timeout.map(|t| runtime.now().saturating_add(t));
        // One deadline for all of connect, the set-up statements included; it is also checked
        // before every read and write, so a server that keeps sending cannot outrun it.
        with_timeout(rt.as_ref(), timeout, Timeout::Connect, async {
            let transport = runtime.connect(&options.host, options.port).await?;
            let mut conn = Conn {
                transport: Some(transport),
                runtime: runtime.clone(),
                codec: PacketCodec::new(receive_limit(options.max_result_bytes)),
                rbuf: BytesMut::with_capacity(READ_CHUNK),
                scratch: vec![0; READ_CHUNK].into_boxed_slice(),
                wbuf: Vec::with_capacity(1024),
                state: State::InCommand,
                options: options.clone(),
                charset,
                capabilities: 0,
                status: 0,
                server_version: String::new(),
                thread_id: 0,
                affected_rows: 0,
                insert_id: 0,
                warning_count: 0,
                info: String::new(),
                pending: Pending::Nothing,
                next_result_id: 1,
                max_allowed_packet: None,
                unsafe_charset: None,
                compression: None,
                column_cache: ColumnCache::default(),
                connect_deadline,
                statement_clock: None,
            };
            conn.handshake(server_public_key).await?;
            // Compression starts with the first command after the handshake's OK.
            let algorithm = if conn.capabilities & CLIENT_COMPRESS != 0 {
                Some(Algorithm::Zlib)
            } else {
                #[cfg(feature = "zstd")]
                if conn.capabilities & CLIENT_ZSTD_COMPRESSION_ALGORITHM != 0 {
                    Some(Algorithm::Zstd { level: conn.options.zstd_compression_level })
                } else {
                    None
                }
                #[cfg(not(feature = "zstd"))]
                None
            };
            if let Some(algorithm) = algorithm {
                conn.compression = Some(Compression {
                    codec: CompressedCodec::with_algorithm(algorithm),
                    plain: BytesMut::new(),
                    envelopes: Vec::new(),
                });
                conn.codec.skip_seq_check();
            }
            conn.state = State::Ready;
            conn.after_connect().await?;
            conn.connect_deadline = None;
            Ok(conn)
        })
        .await
    }

    /// Replaces the plain transport with TLS over it, right after the SSLRequest.
    #[cfg(feature = "tls")]
    async fn start_tls(&mut self, ssl: &SslOptions) -> Result<(), Error> {
        let plain = self.transport.take().ok_or(Error::Broken)?;
        let tls = TlsStream::connect(plain, ssl, &self.options.host).await?;
        self.transport = Some(Box::new(tls));
        Ok(())
    }

    /// Unreachable: `open` refuses ssl options in a build without TLS.
    #[cfg(not(feature = "tls"))]
    async fn start_tls(&mut self, _ssl: &SslOptions) -> Result<(), Error> {
        Err(Error::NotSupported("ssl: this component was built without TLS".into()))
    }

    async fn handshake(&mut self, server_public_key: Option<ServerPublicKey>) -> Result<(), Error> {
        self.codec.reset_seq();
        let first = self.read_packet().await?;
        if first.first() == Some(&0xFF) {
            return Err(server_error(&first));
        }
        let hs = HandshakeV10::parse(&first)?;
        if hs.capabilities & CLIENT_PROTOCOL_41 == 0 {
            return Err(ProtocolError::MissingCapability("protocol 4.1").into());
        }
        let mut wanted = CLIENT_CAPABILITIES | self.options.client_flag;
        if self.options.db.is_some() {
            wanted |= CLIENT_CONNECT_WITH_DB;
        }
        if self.options.local_infile {
            wanted |= CLIENT_LOCAL_FILES;
        } else {
            wanted &= !CLIENT_LOCAL_FILES;
        }
        // Features this build cannot speak are never asked for, whatever client_flag says.
        wanted &= !(CLIENT_SSL | CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION_ALGORITHM);
        // The compression asked for, if offered; a server without it is used uncompressed, even
        // one that offers the other algorithm (MariaDB and MySQL before 8.0.18 have no zstd).
        match self.options.compress.as_deref() {
            Some("zlib") => wanted |= CLIENT_COMPRESS,
            Some("zstd") => wanted |= CLIENT_ZSTD_COMPRESSION_ALGORITHM,
            _ => {}
        }
        // Session tracking tells us when a statement changes character_set_client behind our back.
        wanted |= CLIENT_SESSION_TRACK;
        self.capabilities = wanted & hs.capabilities;
        let collation = u8::try_from(self.charset.collation_id).unwrap_or(45);
        if let Some(ssl) = self.options.ssl.clone() {
            // Asking for TLS and getting clear text would be a silent downgrade: refuse instead.
            if hs.capabilities & CLIENT_SSL == 0 {
                return Err(Error::Tls("ssl was requested but the server does not offer TLS".into()));
            }
            self.capabilities |= CLIENT_SSL;
            self.write_packet(&ssl_request(self.capabilities, MAX_ALLOWED_PACKET as u32, collation)).await?;
            self.start_tls(&ssl).await?;
        }
        self.server_version = hs.server_version.strip_prefix("5.5.5-").unwrap_or(&hs.server_version).to_string();
        self.thread_id = hs.connection_id;
        self.status = hs.status_flags;

        let passwd = self.options.passwd.clone();
        let context = AuthContext {
            secure_transport: self.capabilities & CLIENT_SSL != 0,
            allow_cleartext_password: self.options.allow_cleartext_password,
            get_server_public_key: self.options.get_server_public_key,
            server_public_key,
        };
        let default_plugin = match hs.auth_plugin_name.as_str() {
            "" => "mysql_native_password",
            name => name,
        };
        // A default plugin we cannot start is answered with native_password: the server then switches.
        let native = |context| plugin_for("mysql_native_password", &passwd, context);
        let mut plugin = plugin_for(default_plugin, &passwd, &context).or_else(|_| native(&context))?;
        // Without CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA the response's length is a single byte: a
        // longer one (an RSA block, a long password) goes as its own packet after the server's switch.
        let fits = |r: &[u8]| r.len() <= 255 || self.capabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0;
        let response = match plugin.start(&hs.auth_plugin_data) {
            Ok(r) if fits(&r) => r,
            _ => {
                plugin = native(&context)?;
                plugin.start(&hs.auth_plugin_data)?
            }
        };
        let attrs = [("_client_name", "cymysql-wasi"), ("_client_version", env!("CARGO_PKG_VERSION"))];
        let mut payload = Vec::with_capacity(128);
        HandshakeResponse41 {
            capabilities: self.capabilities,
            max_packet_size: MAX_ALLOWED_PACKET as u32,
            collation,
            username: &self.options.user,
            auth_response: &response,
            database: self.options.db.as_deref(),
            auth_plugin_name: plugin.name(),
            connect_attrs: &attrs,
            zstd_compression_level: self.options.zstd_compression_level,
        }
        .write(&mut payload)?;
        self.write_packet(&payload).await?;

        // The result of authentication must be read and checked: an ERR here is the real reason.
        for _ in 0..8 {
            let packet = self.read_packet().await?;
            match packet.split_first() {
                Some((0x00, _)) => {
                    let ok = OkPacket::parse(&packet, self.capabilities)?;
                    self.status = ok.status_flags;
                    return Ok(());
                }
                Some((0xFF, _)) => return Err(server_error(&packet)),
                // A bare 0xFE is the pre-4.1 switch to mysql_old_password.
                Some((0xFE, [])) => {
                    return Err(Error::NotSupported("authentication plugin 'mysql_old_password'".into()))
                }
                Some((0xFE, body)) => {
                    // AuthSwitchRequest: plugin name, then the new nonce (each plugin trims its own).
                    let mut r = Reader::new(body);
                    let name = String::from_utf8_lossy(r.null_terminated_or_rest()).into_owned();
                    plugin = plugin_for(&name, &passwd, &context)?;
                    let response = plugin.start(r.rest())?;
                    self.write_packet(&response).await?;
                }
                // AuthMoreData: the plugin's exchange goes on. MariaDB servers from before MDEV-37554
                // prefix plugin data with 0x01 only when its first byte could be mistaken for another
                // packet, so any other first byte is plugin data too (parsec's ext-salt starts with 'P').
                Some((&header, data)) => {
                    let data = if header == 0x01 { data } else { &packet[..] };
                    match plugin.on_more_data(data)? {
                        AuthStep::Send(reply) => self.write_packet(&reply).await?,
                        AuthStep::Wait => {}
                    }
                }
                None => return Err(ProtocolError::Truncated("authentication result").into()),
            }
        }
        Err(ProtocolError::InvalidValue("authentication exchange does not end").into())
    }

    async fn after_connect(&mut self) -> Result<(), Error> {
        if let Some(mode) = self.options.sql_mode.clone() {
            let mut sql = String::from("SET sql_mode='");
            escape_string_into(&mut sql, &mode, self.escape_mode());
            sql.push('\'');
            self.setup_query(&sql).await?;
        }
        if let Some(init) = self.options.init_command.clone() {
            self.setup_query(&init).await?;
            self.setup_query("COMMIT").await?;
        }
        if let Some(on) = self.options.autocommit {
            if (self.status & SERVER_STATUS_AUTOCOMMIT != 0) != on {
                self.setup_query(if on { "SET AUTOCOMMIT = 1" } else { "SET AUTOCOMMIT = 0" }).await?;
            }
        }
        Ok(())
    }

    /// Runs a statement of the session set-up, reading at most MAX_SETUP_RESULTS results.
    async fn setup_query(&mut self, sql: &str) -> Result<(), Error> {
        self.begin()?;
        let r = async {
            let (id, _) = self.start_query(sql).await?;
            for _ in 0..MAX_SETUP_RESULTS {
                if self.next_result(id).await?.is_none() {
                    return Ok(());
                }
            }
            self.mark_broken();
            Err(ProtocolError::InvalidValue("more-results flag of a set-up statement that never clears").into())
        }
        .await;
        self.end(r)
    }

    pub(crate) fn escape_mode(&self) -> EscapeMode {
        EscapeMode { no_backslash_escapes: self.status & SERVER_STATUS_NO_BACKSLASH_ESCAPES != 0 }
    }

    /// Fails if the connection cannot start a command; marks it broken if a command was abandoned.
    fn check_ready(&mut self) -> Result<(), Error> {
        match self.state {
            State::Ready => Ok(()),
            State::Closed => Err(Error::Closed),
            State::Broken => Err(Error::Broken),
            State::InCommand => {
                // A command future was dropped halfway: the packet sequence is unknown.
                self.mark_broken();
                Err(Error::Broken)
            }
        }
    }

    pub(crate) fn mark_broken(&mut self) {
        self.state = State::Broken;
        self.transport = None;
        self.pending = Pending::Nothing;
    }

    /// Records the outcome of a step: fatal errors break the connection.
    fn track<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &r {
            if e.is_fatal() {
                self.mark_broken();
            }
        }
        r
    }

    /// How long the next wait on the transport may last, and what happens when it does not end
    /// in time; `None` waits as long as the network does. Fails if a deadline already passed.
    fn wait_limit(&mut self, io: Option<Duration>, io_timeout: Timeout) -> Result<Option<(Duration, Expiry)>, Error> {
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

    async fn fill(&mut self) -> Result<(), Error> {
        let read = loop {
            let limit = self.wait_limit(self.options.read_timeout, Timeout::Read)?;
            if let Some((left, Expiry::KillStatement)) = limit {
                if left.is_zero() {
                    self.kill_statement().await?;
                    continue;
                }
            }
            let runtime = self.runtime.clone();
            let transport = self.transport.as_mut().ok_or(Error::Broken)?;
            // Reading into a scratch buffer allocated once costs a copy of what arrived, where
            // growing `rbuf` for each read would zero a whole chunk for a 50-byte reply.
            let read = transport.read(&mut self.scratch);
            let outcome = match limit {
                None => Ok(read.await),
                // A read dropped before it completes has taken no bytes, so giving up here loses nothing.
                Some((left, expiry)) => match select(read, runtime.sleep(left)).await {
                    Either::Left((r, _)) => Ok(r),
                    Either::Right(_) => Err(expiry),
                },
            };
            match outcome {
                Ok(r) => break r,
                Err(Expiry::Fail(t)) => return Err(Error::Timeout(t)),
                Err(Expiry::KillStatement) => self.kill_statement().await?,
            }
        };
        let n = match read {
            Ok(n) => n,
            Err(e) => return Err(Error::ConnectionLost(e.to_string())),
        };
        self.rbuf.extend_from_slice(&self.scratch[..n.min(self.scratch.len())]);
        if n == 0 {
            return Err(Error::ConnectionLost("server closed the connection".into()));
        }
        self.unwrap_envelopes().map(drop)
    }

    /// Under the compressed protocol, moves the complete envelopes read so far to the plain
    /// buffer the packet codec reads, up to a packet's worth; whether any was moved.
    fn unwrap_envelopes(&mut self) -> Result<bool, Error> {
        let Some(z) = self.compression.as_mut() else { return Ok(false) };
        let e = match z.codec.decode(&mut self.rbuf, &mut z.plain) {
            Ok(progress) => return Ok(progress),
            Err(e) => e,
        };
        let out_of_sequence = match e {
            ProtocolError::SequenceMismatch { .. } => {
                peek_envelope(z.codec.algorithm(), &self.rbuf).and_then(|p| framed_server_error(&p))
            }
            _ => None,
        };
        let err = out_of_sequence.unwrap_or_else(|| e.into());
        self.mark_broken();
        Err(err)
    }

    /// Reads one logical packet (joining 16 MiB parts).
    pub(crate) async fn read_packet(&mut self) -> Result<Bytes, Error> {
        loop {
            let input = match self.compression.as_mut() {
                Some(z) => &mut z.plain,
                None => &mut self.rbuf,
            };
            match self.codec.decode(input) {
                Ok(Some(p)) => return Ok(p),
                Ok(None) => {
                    // Envelopes a bounded unwrap left in rbuf come before the socket.
                    let r = match self.unwrap_envelopes() {
                        Ok(false) => self.fill().await,
                        other => other.map(drop),
                    };
                    self.track(r)?;
                }
                Err(e) => {
                    let out_of_sequence = match e {
                        ProtocolError::SequenceMismatch { .. } => {
                            framed_server_error(self.compression.as_ref().map_or(&self.rbuf[..], |z| &z.plain[..]))
                        }
                        _ => None,
                    };
                    self.mark_broken();
                    return Err(out_of_sequence.unwrap_or_else(|| e.into()));
                }
            }
        }
    }

    async fn write_packet(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.wbuf.clear();
        self.codec.encode(payload, &mut self.wbuf);
        self.flush_wbuf().await
    }

    async fn flush_wbuf(&mut self) -> Result<(), Error> {
        let limit = match self.wait_limit(self.options.write_timeout, Timeout::Write) {
            Ok(limit) => limit,
            Err(e) => return self.track(Err(e)),
        };
        let runtime = self.runtime.clone();
        let transport = self.transport.as_mut().ok_or(Error::Broken)?;
        let bytes = match self.compression.as_mut() {
            Some(z) => {
                z.envelopes.clear();
                z.codec.encode(&self.wbuf, &mut z.envelopes);
                &z.envelopes
            }
            None => &self.wbuf,
        };
        let write = async {
            transport.write_all(bytes).await?;
            transport.flush().await
        };
        let r = match limit {
            None => write.await.map_err(|e| Error::ConnectionLost(e.to_string())),
            // Part of the command may be out: the connection breaks either way (the timeout is fatal).
            Some((left, expiry)) => match select(std::pin::pin!(write), runtime.sleep(left)).await {
                Either::Left((r, _)) => r.map_err(|e| Error::ConnectionLost(e.to_string())),
                Either::Right(_) => Err(Error::Timeout(match expiry {
                    Expiry::Fail(t) => t,
                    Expiry::KillStatement => Timeout::Write,
                })),
            },
        };
        if let Err(Error::Timeout(_)) = r {
            // A host may wait for a write in progress before it lets go of the stream (wasmtime
            // 48 does, and a shutdown waits too): with a server that takes nothing that wait never
            // ends. The stalled stream is left to the instance's end instead of blocking it now.
            if let Some(stalled) = self.transport.take() {
                std::mem::forget(stalled);
            }
        }
        if let Some(z) = self.compression.as_mut() {
            // One large statement should not pin its envelopes' memory for the session's life.
            if z.envelopes.capacity() > 1 << 20 {
                z.envelopes = Vec::new();
            }
        }
        self.track(r)
    }

    /// Starts the statement timeout of the command about to be sent (inside `begin`/`end`).
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
    async fn kill_statement(&mut self) -> Result<(), Error> {
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

    /// Starts the packet sequence of a new command (and the compressed one).
    fn reset_seq(&mut self) {
        self.codec.reset_seq();
        if let Some(z) = self.compression.as_mut() {
            z.codec.reset_seq();
        }
    }

    /// Starts a command: finishes what an earlier one left on the wire, then sends the command packet.
    async fn send_command(&mut self, command: u8, arg: &[u8]) -> Result<(), Error> {
        self.drain_pending().await?;
        self.reset_seq();
        self.wbuf.clear();
        let mut packet = Vec::with_capacity(arg.len() + 1);
        packet.push(command);
        packet.extend_from_slice(arg);
        self.codec.encode(&packet, &mut self.wbuf);
        self.flush_wbuf().await
    }

    /// Sends a COM_QUERY whose text is already encoded for the connection charset.
    async fn send_query(&mut self, sql: &[u8]) -> Result<(), Error> {
        self.send_command(COM_QUERY, sql).await
    }

    /// Starts an operation; if it is abandoned before `end`, the connection counts as broken.
    pub(crate) fn begin(&mut self) -> Result<(), Error> {
        self.check_ready()?;
        self.state = State::InCommand;
        Ok(())
    }

    /// Ends an operation: the wire is in a known state again (what is left is in `pending`).
    pub(crate) fn end<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        if self.state == State::InCommand {
            self.state = State::Ready;
        }
        r
    }

    /// Reads everything earlier commands left on the wire, so the next command sees its own replies.
    /// An error that a skipped statement of a batch reported is returned, as cymysql does.
    pub(crate) async fn drain_pending(&mut self) -> Result<(), Error> {
        loop {
            match self.pending.clone() {
                Pending::Nothing => return Ok(()),
                Pending::Rows { .. } => while self.read_row_packet().await?.is_some() {},
                Pending::MoreResults { id } => {
                    self.read_statement_result(id).await?;
                }
            }
        }
    }

    /// Reads and discards what a previous user left on the wire.
    async fn drain_before_reuse(&mut self) -> Result<(), Error> {
        self.begin()?;
        let r = self.drain_pending().await;
        self.end(r)
    }

    /// Runs COM_QUERY and discards any rows: for statements run for their effect.
    pub(crate) async fn query_all(&mut self, sql: &str) -> Result<(), Error> {
        self.begin()?;
        let r = async {
            let (_, first) = self.start_query(sql).await?;
            drop(first);
            self.drain_pending().await
        }
        .await;
        self.end(r)
    }

    async fn simple_command(&mut self, command: u8, arg: &[u8]) -> Result<OkPacket, Error> {
        self.begin()?;
        let r = self.simple_command_inner(command, arg).await;
        self.end(r)
    }

    async fn simple_command_inner(&mut self, command: u8, arg: &[u8]) -> Result<OkPacket, Error> {
        self.send_command(command, arg).await?;
        let packet = self.read_packet().await?;
        let r = match packet.first() {
            Some(0x00) => OkPacket::parse(&packet, self.capabilities).map_err(Error::from),
            Some(0xFF) => Err(server_error(&packet)),
            Some(&header) => Err(ProtocolError::UnexpectedPacket { context: "command reply", header }.into()),
            None => Err(ProtocolError::Truncated("command reply").into()),
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

    async fn close(&mut self) -> Result<(), Error> {
        match self.state {
            State::Closed => return Err(Error::Closed),
            State::Ready => {
                // COM_QUIT gets no reply; the server just closes the stream.
                self.reset_seq();
                self.wbuf.clear();
                self.codec.encode(&[COM_QUIT], &mut self.wbuf);
                let _ = self.flush_wbuf().await;
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

    /// Runs one COM_QUERY and reads its first result's header and columns (inside `begin`/`end`).
    pub(crate) async fn start_query(&mut self, sql: &str) -> Result<(u64, StatementResult), Error> {
        let encoded = self.charset.encoding.encode(sql)?;
        self.send_query(&encoded).await?;
        let id = self.next_result_id;
        self.next_result_id += 1;
        let result = self.read_statement_result(id).await?;
        Ok((id, result))
    }

    /// Reads and discards the rows of result `id` still on the wire (inside `begin`/`end`).
    pub(crate) async fn discard_rows(&mut self, id: u64) -> Result<(), Error> {
        if self.pending == (Pending::Rows { id }) {
            while self.read_row_packet().await?.is_some() {}
        }
        Ok(())
    }

    /// Reads the next result of multi-statement command `id`, if there is one (inside `begin`/`end`).
    pub(crate) async fn next_result(&mut self, id: u64) -> Result<Option<StatementResult>, Error> {
        self.discard_rows(id).await?;
        if self.pending != (Pending::MoreResults { id }) {
            return Ok(None);
        }
        self.read_statement_result(id).await.map(Some)
    }

    /// Reads a result header and, for a result set, its column definitions.
    /// Sets `pending` to what remains of this command on the wire.
    async fn read_statement_result(&mut self, id: u64) -> Result<StatementResult, Error> {
        self.pending = Pending::Nothing;
        let packet = self.read_packet().await?;
        let header = ResultHeader::parse(&packet, self.capabilities);
        let header = match header {
            Ok(h) => h,
            Err(e @ Error::Server { .. }) => return Err(e),
            Err(e) => {
                self.mark_broken();
                return Err(e);
            }
        };
        match header {
            ResultHeader::Ok(ok) => {
                self.record_ok(&ok);
                if ok.status_flags & SERVER_MORE_RESULTS_EXISTS != 0 {
                    self.pending = Pending::MoreResults { id };
                }
                Ok(StatementResult::Ok(ok))
            }
            ResultHeader::LocalInfile(name) => {
                // The file goes only when the caller enabled local_infile; a server asking anyway
                // (a malicious one reading client files) gets an empty file and the caller an error.
                let name = String::from_utf8_lossy(&name).into_owned();
                let contents = if self.options.local_infile {
                    self.runtime.read_file_bytes(&name)
                } else {
                    Err(Error::NotSupported("LOAD DATA LOCAL INFILE is disabled (local_infile)".into()))
                };
                let chunk = MAX_PACKET_PAYLOAD_CHUNK;
                if let Ok(data) = &contents {
                    for part in data.chunks(chunk) {
                        self.wbuf.clear();
                        self.codec.encode(part, &mut self.wbuf);
                        self.flush_wbuf().await?;
                    }
                }
                self.wbuf.clear();
                self.codec.encode(&[], &mut self.wbuf);
                self.flush_wbuf().await?;
                let packet = self.read_packet().await?;
                match packet.first() {
                    Some(0xFF) => Err(server_error(&packet)),
                    Some(0x00) => {
                        let ok = OkPacket::parse(&packet, self.capabilities).map_err(Error::from);
                        let ok = self.track(ok)?;
                        self.record_ok(&ok);
                        if ok.status_flags & SERVER_MORE_RESULTS_EXISTS != 0 {
                            self.pending = Pending::MoreResults { id };
                        }
                        contents.map(|_| StatementResult::Ok(ok))
                    }
                    Some(&header) => {
                        self.mark_broken();
                        Err(ProtocolError::UnexpectedPacket { context: "LOCAL INFILE reply", header }.into())
                    }
                    None => {
                        self.mark_broken();
                        Err(ProtocolError::Truncated("LOCAL INFILE reply").into())
                    }
                }
            }
            ResultHeader::Columns(n) => {
                // MySQL's limit; a count past it (or past usize) leaves the session out of step.
                let Some(n) = usize::try_from(n).ok().filter(|&n| n <= 4096) else {
                    self.mark_broken();
                    return Err(ProtocolError::InvalidValue("column count").into());
                };
                // Definitions count toward max_result_bytes: 4096 of them can each be a packet long.
                let limit = self.options.max_result_bytes;
                let mut too_large = false;
                self.column_cache.start();
                for _ in 0..n {
                    let packet = self.read_packet().await?;
                    if !too_large {
                        let pushed = self.column_cache.push(&packet);
                        self.track(pushed.map_err(Error::from))?;
                        too_large = self.column_cache.held_bytes() as u64 > limit;
                    }
                }
                let columns = self.column_cache.finish();
                if self.capabilities & CLIENT_DEPRECATE_EOF == 0 {
                    let packet = self.read_packet().await?;
                    let eof = EofPacket::parse(&packet).map_err(Error::from);
                    self.track(eof)?;
                }
                self.pending = Pending::Rows { id };
                if too_large {
                    self.discard_rows(id).await?;
                    return Err(Error::ResultTooLarge { limit });
                }
                Ok(StatementResult::Rows(ResultMeta { columns }))
            }
        }
    }

    /// The largest statement the server accepts, asked once per session.
    pub(crate) async fn max_allowed_packet(&mut self) -> Result<usize, Error> {
        if let Some(n) = self.max_allowed_packet {
            return Ok(n);
        }
        self.begin()?;
        let r = async {
            let (id, result) = self.start_query("SELECT @@max_allowed_packet").await?;
            let mut n = None;
            if let StatementResult::Rows(meta) = result {
                while let Some(row) = self.read_row(id, &meta.columns).await? {
                    n = match row.first() {
                        Some(Value::Int(v)) => usize::try_from(*v).ok(),
                        Some(Value::UInt(v)) => usize::try_from(*v).ok(),
                        _ => None,
                    };
                }
            }
            self.drain_pending().await?;
            Ok(n)
        }
        .await;
        // Leave room for the packet header and command byte; never exceed what we accept ourselves.
        let n = self.end(r)?.unwrap_or(1 << 24).min(MAX_ALLOWED_PACKET).saturating_sub(64).max(1024);
        self.max_allowed_packet = Some(n);
        Ok(n)
    }

    fn record_ok(&mut self, ok: &OkPacket) {
        self.affected_rows = ok.affected_rows;
        self.insert_id = ok.last_insert_id;
        self.warning_count = ok.warnings;
        self.status = ok.status_flags;
        self.info.clone_from(&ok.info);
        self.track_session_state(ok);
    }

    /// Follows `character_set_client` as the server reports it, so escaping always matches the
    /// charset the server parses with, even after a raw `SET NAMES` in user SQL.
    fn track_session_state(&mut self, ok: &OkPacket) {
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
            None => interpolate(query, None, self.escape_mode()),
            Some(_) => interpolate(query, params, self.escape_mode_checked()?),
        }
    }

    /// The escaping rules for parameters, or an error when the session's character set is one
    /// this driver cannot escape for.
    pub(crate) fn escape_mode_checked(&self) -> Result<EscapeMode, Error> {
        match &self.unsafe_charset {
            None => Ok(self.escape_mode()),
            Some(name) => Err(Error::NotSupported(format!(
                "the session character set was changed to {name}, which this driver cannot escape for; \
                 use set_charset with utf8mb4, utf8mb3, latin1, ascii or binary"
            ))),
        }
    }

    /// Reads one row packet of the current result set; `None` at its end (status recorded).
    pub(crate) async fn read_row_packet(&mut self) -> Result<Option<Bytes>, Error> {
        let id = match self.pending {
            Pending::Rows { id } => id,
            _ => return Ok(None),
        };
        let packet = self.read_packet().await?;
        match packet.first() {
            Some(0xFF) => {
                // The statement failed mid-result (killed, timeout): the command is over.
                self.pending = Pending::Nothing;
                Err(server_error(&packet))
            }
            Some(0xFE) if is_result_terminator(&packet) => {
                let (status, warnings) = if self.capabilities & CLIENT_DEPRECATE_EOF != 0 {
                    let ok = OkPacket::parse(&packet, self.capabilities).map_err(Error::from);
                    let ok = self.track(ok)?;
                    self.track_session_state(&ok);
                    (ok.status_flags, ok.warnings)
                } else {
                    let eof = EofPacket::parse(&packet).map_err(Error::from);
                    let eof = self.track(eof)?;
                    (eof.status_flags, eof.warnings)
                };
                self.status = status;
                self.warning_count = warnings;
                self.affected_rows = 0;
                self.pending = if status & SERVER_MORE_RESULTS_EXISTS != 0 {
                    Pending::MoreResults { id }
                } else {
                    Pending::Nothing
                };
                Ok(None)
            }
            Some(_) => Ok(Some(packet)),
            None => {
                self.mark_broken();
                Err(ProtocolError::Truncated("row").into())
            }
        }
    }

    /// Reads and decodes the next row of result `id`; `None` at its end.
    pub(crate) async fn read_row(&mut self, id: u64, columns: &[Column]) -> Result<Option<Vec<Value>>, Error> {
        if self.pending != (Pending::Rows { id }) {
            return Ok(None);
        }
        match self.read_row_packet().await? {
            None => Ok(None),
            Some(packet) => {
                let row = decode_text_row(&packet, columns).map_err(Error::from);
                self.track(row).map(Some)
            }
        }
    }

    pub(crate) fn is_current(&self, id: u64) -> bool {
        match self.pending {
            Pending::Rows { id: p } | Pending::MoreResults { id: p } => p == id,
            Pending::Nothing => false,
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

/// Reads `read_default_file` and fills the options the caller left at their defaults.
fn apply_default_file(options: &mut ConnectOptions, path: &str, runtime: &dyn Runtime) -> Result<(), Error> {
    let text = runtime.read_file(path)?;
    let mut groups = vec!["client"];
    if let Some(g) = options.read_default_group.as_deref() {
        groups.push(g);
    }
    let pairs = parse_option_file(&text, &groups);
    let defaults = ConnectOptions::default();
    let explicit = super::url::Explicit {
        host: options.host != defaults.host,
        user: options.user != defaults.user,
        passwd: options.passwd != defaults.passwd,
        db: options.db != defaults.db,
        port: options.port != defaults.port,
        charset: options.charset != defaults.charset,
    };
    super::url::apply_option_file(options, &pairs, &explicit);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::transport::LocalFuture;
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    /// Plays captured server bytes, then has nothing more to say (reads stay pending).
    struct Scripted {
        input: Rc<RefCell<Vec<u8>>>,
        written: Rc<RefCell<Vec<u8>>>,
    }

    impl futures::io::AsyncRead for Scripted {
        fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
            let mut input = self.input.borrow_mut();
            if input.is_empty() {
                return Poll::Pending;
            }
            let n = buf.len().min(input.len());
            buf[..n].copy_from_slice(&input[..n]);
            input.drain(..n);
            Poll::Ready(Ok(n))
        }
    }

    impl futures::io::AsyncWrite for Scripted {
        fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
            self.written.borrow_mut().extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    struct ScriptedRuntime {
        input: Rc<RefCell<Vec<u8>>>,
        written: Rc<RefCell<Vec<u8>>>,
        /// Timers complete at once (every wait that has to wait times out); otherwise never.
        timers_fire: bool,
    }

    impl Runtime for ScriptedRuntime {
        fn connect<'a>(&'a self, _: &'a str, _: u16) -> LocalFuture<'a, Result<Box<dyn Transport>, Error>> {
            let t = Scripted { input: self.input.clone(), written: self.written.clone() };
            Box::pin(async move { Ok(Box::new(t) as Box<dyn Transport>) })
        }
        fn sleep(&self, _: Duration) -> LocalFuture<'static, ()> {
            if self.timers_fire {
                Box::pin(futures::future::ready(()))
            } else {
                Box::pin(futures::future::pending())
            }
        }
        fn now(&self) -> Duration {
            Duration::ZERO
        }
    }

    fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = (payload.len() as u32).to_le_bytes()[..3].to_vec();
        p.push(seq);
        p.extend_from_slice(payload);
        p
    }

    /// A session opened against captured MariaDB 10.11 packets, autocommit left as the server has it.
    type Bytes = Rc<RefCell<Vec<u8>>>;

    fn scripted_connection() -> (Connection, Bytes, Bytes) {
        scripted_connection_with(None, crate::protocol::handshake::tests::MARIADB_HANDSHAKE)
    }

    fn scripted_connection_with(compress: Option<&str>, handshake: &[u8]) -> (Connection, Bytes, Bytes) {
        let input = Rc::new(RefCell::new(Vec::new()));
        let written = Rc::new(RefCell::new(Vec::new()));
        input.borrow_mut().extend(packet(0, handshake));
        input.borrow_mut().extend(packet(2, b"\x00\x00\x00\x02\x00\x00\x00"));
        let rt = Rc::new(ScriptedRuntime { input: input.clone(), written: written.clone(), timers_fire: false });
        let options = ConnectOptions {
            autocommit: None,
            connect_timeout: None,
            compress: compress.map(String::from),
            ..ConnectOptions::default()
        };
        let conn = futures::executor::block_on(Connection::connect(options, rt)).expect("scripted handshake");
        (conn, input, written)
    }

    /// The capability flags of the HandshakeResponse41 the client wrote (packet 1).
    fn response_capabilities(written: &[u8]) -> u32 {
        u32::from_le_bytes([written[4], written[5], written[6], written[7]])
    }

    /// A stored (uncompressed) compressed-protocol envelope.
    fn stored(seq: u8, body: &[u8]) -> Vec<u8> {
        let mut e = (body.len() as u32).to_le_bytes()[..3].to_vec();
        e.push(seq);
        e.extend_from_slice(&[0, 0, 0]);
        e.extend_from_slice(body);
        e
    }

    #[test]
    fn compression_starts_after_the_handshake_ok() {
        let (conn, input, written) =
            scripted_connection_with(Some("zlib"), crate::protocol::handshake::tests::MARIADB_HANDSHAKE);
        assert_ne!(response_capabilities(&written.borrow()) & CLIENT_COMPRESS, 0);
        written.borrow_mut().clear();
        // The server's reply: envelope 1 (after the client's 0) holding the OK as packet 1.
        input.borrow_mut().extend(stored(1, &packet(1, b"\x00\x01\x00\x02\x00\x00\x00")));
        let mut cursor = conn.cursor();
        assert_eq!(futures::executor::block_on(cursor.execute("DELETE FROM t", None)).unwrap(), 1);
        assert_eq!(&written.borrow()[..], &stored(0, &packet(0, b"\x03DELETE FROM t"))[..]);
        // The next command starts both sequences again.
        written.borrow_mut().clear();
        input.borrow_mut().extend(stored(1, &packet(1, b"\x00\x00\x00\x02\x00\x00\x00")));
        futures::executor::block_on(conn.ping(false)).unwrap();
        assert_eq!(&written.borrow()[..], &stored(0, &packet(0, &[COM_PING]))[..]);
    }

    #[test]
    fn a_server_without_compression_is_used_uncompressed() {
        let mut handshake = crate::protocol::handshake::tests::MARIADB_HANDSHAKE.to_vec();
        // Lower capability bytes: after the version string, connection id, 8 nonce bytes, filler.
        let at = handshake.iter().position(|&b| b == 0).unwrap() + 1 + 4 + 8 + 1;
        handshake[at] &= !(CLIENT_COMPRESS as u8);
        let (conn, input, written) = scripted_connection_with(Some("zlib"), &handshake);
        assert_eq!(response_capabilities(&written.borrow()) & CLIENT_COMPRESS, 0);
        written.borrow_mut().clear();
        input.borrow_mut().extend(packet(1, b"\x00\x01\x00\x02\x00\x00\x00"));
        let mut cursor = conn.cursor();
        assert_eq!(futures::executor::block_on(cursor.execute("DELETE FROM t", None)).unwrap(), 1);
        assert_eq!(&written.borrow()[..], &packet(0, b"\x03DELETE FROM t")[..]);
    }

    #[cfg(feature = "zstd")]
    /// MARIADB_HANDSHAKE with CLIENT_ZSTD_COMPRESSION_ALGORITHM added, as a MySQL 8.0.18+ offers it.
    fn handshake_offering_zstd() -> Vec<u8> {
        let mut handshake = crate::protocol::handshake::tests::MARIADB_HANDSHAKE.to_vec();
        // Upper capability bytes: after the lower two, the charset and the two status bytes.
        let at = handshake.iter().position(|&b| b == 0).unwrap() + 1 + 4 + 8 + 1 + 2 + 1 + 2;
        handshake[at + 1] |= (CLIENT_ZSTD_COMPRESSION_ALGORITHM >> 24) as u8;
        handshake
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_is_asked_for_with_its_level_and_used_after_the_ok() {
        let (conn, input, written) = scripted_connection_with(Some("zstd"), &handshake_offering_zstd());
        let caps = response_capabilities(&written.borrow());
        assert_ne!(caps & CLIENT_ZSTD_COMPRESSION_ALGORITHM, 0);
        assert_eq!(caps & CLIENT_COMPRESS, 0, "only one algorithm is asked for");
        // The level byte (default 3) closes the response, after the connect attributes.
        assert_eq!(written.borrow().last(), Some(&3));
        written.borrow_mut().clear();
        input.borrow_mut().extend(stored(1, &packet(1, b"\x00\x01\x00\x02\x00\x00\x00")));
        let mut cursor = conn.cursor();
        assert_eq!(futures::executor::block_on(cursor.execute("DELETE FROM t", None)).unwrap(), 1);
        assert_eq!(&written.borrow()[..], &stored(0, &packet(0, b"\x03DELETE FROM t"))[..]);
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_against_a_server_with_only_zlib_is_uncompressed() {
        let (conn, input, written) =
            scripted_connection_with(Some("zstd"), crate::protocol::handshake::tests::MARIADB_HANDSHAKE);
        assert_eq!(response_capabilities(&written.borrow()) & (CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION_ALGORITHM), 0);
        written.borrow_mut().clear();
        input.borrow_mut().extend(packet(1, b"\x00\x01\x00\x02\x00\x00\x00"));
        let mut cursor = conn.cursor();
        assert_eq!(futures::executor::block_on(cursor.execute("DELETE FROM t", None)).unwrap(), 1);
        assert_eq!(&written.borrow()[..], &packet(0, b"\x03DELETE FROM t")[..]);
    }

    #[test]
    fn an_out_of_sequence_error_envelope_is_reported_and_breaks_the_session() {
        let (conn, input, _) =
            scripted_connection_with(Some("zlib"), crate::protocol::handshake::tests::MARIADB_HANDSHAKE);
        // As a killed session's server sends it: envelope 0 when 1 is due.
        input.borrow_mut().extend(stored(0, &packet(0, b"\xff\x87\x07#70100Connection was killed")));
        let mut cursor = conn.cursor();
        let e = futures::executor::block_on(cursor.execute("SELECT 1", None)).unwrap_err();
        assert_eq!(e.code(), Some(1927), "{e:?}");
        assert!(!conn.is_usable());
    }

    #[test]
    fn a_corrupted_envelope_is_a_protocol_error() {
        let (conn, input, _) =
            scripted_connection_with(Some("zlib"), crate::protocol::handshake::tests::MARIADB_HANDSHAKE);
        input.borrow_mut().extend(b"\x05\x00\x00\x01\x40\x00\x00garbage");
        let mut cursor = conn.cursor();
        let e = futures::executor::block_on(cursor.execute("SELECT 1", None)).unwrap_err();
        assert_eq!(e, Error::Protocol(ProtocolError::BadCompressedFrame));
        assert!(!conn.is_usable());
    }

    #[test]
    fn a_command_dropped_halfway_marks_the_connection_broken() {
        let (conn, input, _) = scripted_connection();
        assert!(conn.is_usable());
        let mut cursor = conn.cursor();
        {
            let fut = cursor.execute("SELECT 1", None);
            let mut fut = std::pin::pin!(fut);
            let waker = futures::task::noop_waker();
            // The query is sent; its reply has not come: the caller gives up (a timeout, a cancelled task).
            assert!(fut.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        }
        assert!(!conn.is_usable(), "the packet sequence is unknown after an abandoned command");
        // Even if the late reply arrives, it must never be read as the answer to the next command.
        input.borrow_mut().extend(packet(1, b"\x01"));
        let e = futures::executor::block_on(conn.ping(false)).unwrap_err();
        assert_eq!(e, Error::Broken);
    }

    /// Connects with `options` to a server that sends a handshake, accepts the login, then
    /// sends `after_login`; timers complete at once.
    fn connect_hurried(options: ConnectOptions, after_login: &[u8]) -> (Result<Connection, Error>, Bytes) {
        let input = Rc::new(RefCell::new(Vec::new()));
        let written = Rc::new(RefCell::new(Vec::new()));
        input.borrow_mut().extend(packet(0, crate::protocol::handshake::tests::MARIADB_HANDSHAKE));
        input.borrow_mut().extend(packet(2, b"\x00\x00\x00\x02\x00\x00\x00"));
        input.borrow_mut().extend_from_slice(after_login);
        let rt = Rc::new(ScriptedRuntime { input: input.clone(), written, timers_fire: true });
        (futures::executor::block_on(Connection::connect(options, rt)), input)
    }

    #[test]
    fn a_silent_server_is_a_read_timeout_that_breaks_the_session() {
        let options = ConnectOptions {
            autocommit: None,
            read_timeout: Some(Duration::from_secs(1)),
            ..ConnectOptions::default()
        };
        let (conn, _) = connect_hurried(options, b"");
        let conn = conn.expect("every read of the login had its bytes ready");
        let mut cursor = conn.cursor();
        let e = futures::executor::block_on(cursor.execute("SELECT 1", None)).unwrap_err();
        assert_eq!(e, Error::Timeout(Timeout::Read));
        assert_eq!(e.code(), Some(2013));
        assert!(!conn.is_usable(), "a reply may still come: the packet sequence is unknown");
    }

    #[test]
    fn a_read_timeout_inside_a_packet_breaks_the_session() {
        let options = ConnectOptions {
            autocommit: None,
            read_timeout: Some(Duration::from_secs(1)),
            ..ConnectOptions::default()
        };
        let (conn, input) = connect_hurried(options, b"");
        let conn = conn.unwrap();
        // A result header, then half a column definition.
        input.borrow_mut().extend(packet(1, b"\x01"));
        input.borrow_mut().extend(&packet(2, b"\x03def\x00\x00\x00\x01a")[..8]);
        let e = futures::executor::block_on(conn.cursor().execute("SELECT 1", None)).unwrap_err();
        assert_eq!(e, Error::Timeout(Timeout::Read));
        assert!(!conn.is_usable());
    }

    #[test]
    fn connect_timeout_covers_the_statements_after_authentication() {
        // The login is accepted with autocommit on; SET AUTOCOMMIT = 0 is never answered.
        let options = ConnectOptions { connect_timeout: Some(Duration::from_secs(1)), ..ConnectOptions::default() };
        let (conn, _) = connect_hurried(options, b"");
        assert_eq!(conn.unwrap_err(), Error::Timeout(Timeout::Connect));
    }

    #[test]
    fn a_more_results_flag_that_never_clears_does_not_keep_connect_busy() {
        // Every reply to SET AUTOCOMMIT = 0 announces another (SERVER_MORE_RESULTS_EXISTS).
        let mut replies = Vec::new();
        for seq in 1..=200u8 {
            replies.extend(packet(seq, b"\x00\x00\x00\x0a\x00\x00\x00"));
        }
        let options = ConnectOptions { connect_timeout: None, ..ConnectOptions::default() };
        let (conn, _) = connect_hurried(options, &replies);
        assert!(matches!(conn.unwrap_err(), Error::Protocol(ProtocolError::InvalidValue(_))));
    }

    #[test]
    fn query_bytes_follow_com_query_framing() {
        let (conn, input, written) = scripted_connection();
        written.borrow_mut().clear();
        input.borrow_mut().extend(packet(1, b"\x00\x01\x00\x02\x00\x00\x00"));
        let mut cursor = conn.cursor();
        let n = futures::executor::block_on(cursor.execute("DELETE FROM t", None)).unwrap();
        assert_eq!(n, 1);
        assert_eq!(&written.borrow()[..], &packet(0, b"\x03DELETE FROM t")[..]);
    }
}
