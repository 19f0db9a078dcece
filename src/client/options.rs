//! The parameters of `connect()`, with cymysql's names and defaults.

use std::fmt;
use std::time::Duration;

pub use super::converters::Converters;
pub use super::cursor_class::CursorClass;
pub use super::events::{EventOptions, StatementText};
pub use super::host_list::{Endpoint, HaOptions, Strategy};
use crate::error::Error;
pub use crate::protocol::conversions::{Conversions, DecimalFormat, JsonFormat, TemporalFormat};

/// The default of [`ConnectOptions::max_result_bytes`]: 256 MiB.
///
/// A wasm32 guest has 4 GiB of linear memory for everything it holds. A buffered result of this
/// size is held again while it crosses the component boundary (`fetchall` lowers a second copy
/// into the guest's memory for the host to lift), and the row queue may double its capacity once
/// more while it grows: about 3x the limit at the peak, well inside 4 GiB, with room left for the
/// other connections and pools of the instance. Results this large are better streamed with an
/// unbuffered cursor, which this limit does not restrict beyond one row.
pub const DEFAULT_MAX_RESULT_BYTES: u64 = 256 << 20;

/// TLS settings, mirroring the `ssl` dict of cymysql (`ca`, `cert`, `key`) plus verification switches.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SslOptions {
    /// PEM text of the CA certificates to trust.
    pub ca: Option<String>,
    /// PEM text of the client certificate.
    pub cert: Option<String>,
    /// PEM text of the client private key.
    pub key: Option<String>,
    pub verify_cert: bool,
    pub verify_identity: bool,
}

impl fmt::Debug for SslOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SslOptions")
            .field("ca", &self.ca.as_ref().map(|_| "<pem>"))
            .field("cert", &self.cert.as_ref().map(|_| "<pem>"))
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("verify_cert", &self.verify_cert)
            .field("verify_identity", &self.verify_identity)
            .finish()
    }
}

/// Everything `connect()` takes. `Debug` never shows the password.
#[derive(Clone, PartialEq)]
pub struct ConnectOptions {
    pub host: String,
    pub user: String,
    pub passwd: String,
    pub db: Option<String>,
    pub port: u16,
    /// Not available under WASI (wasi:sockets has no AF_UNIX); asking for it is an error.
    pub unix_socket: Option<String>,
    pub charset: String,
    pub sql_mode: Option<String>,
    /// A my.cnf-style file read through the host's preopened directories.
    pub read_default_file: Option<String>,
    /// The group of `read_default_file` to read besides `[client]`.
    pub read_default_group: Option<String>,
    /// Extra `CLIENT_*` flags, e.g. CLIENT_MULTI_STATEMENTS.
    pub client_flag: u32,
    pub init_command: Option<String>,
    /// Bounds all of connect: TCP, TLS, handshake, authentication and the set-up statements.
    pub connect_timeout: Option<Duration>,
    /// Longest wait for the server's next bytes once a reply is due (PyMySQL's `read_timeout`);
    /// `None` waits as long as the network does. Expiry breaks the connection.
    pub read_timeout: Option<Duration>,
    /// Longest wait for the server to take the next bytes of a command (PyMySQL's
    /// `write_timeout`); `None` waits as long as the network does. Expiry breaks the connection.
    pub write_timeout: Option<Duration>,
    /// Longest run of one statement (JDBC's `setQueryTimeout`): on expiry the statement is
    /// stopped with `KILL QUERY` from a second, short-lived connection, the call fails with
    /// ER_QUERY_INTERRUPTED and the connection stays usable. `None` lets statements run.
    pub statement_timeout: Option<Duration>,
    pub ssl: Option<SslOptions>,
    /// `"zlib"` or `"zstd"`.
    pub compress: Option<String>,
    pub zstd_compression_level: u8,
    /// Windows named pipes; not available under WASI.
    pub named_pipe: bool,
    /// `None` keeps the server's default; cymysql's default is `Some(false)`.
    pub autocommit: Option<bool>,
    /// LOAD DATA LOCAL INFILE; off unless asked for.
    pub local_infile: bool,
    /// Lets mysql_clear_password send the password without TLS (MySQL's `enable-cleartext-plugin`);
    /// over TLS it is always allowed.
    pub allow_cleartext_password: bool,
    /// Lets caching_sha2_password and sha256_password ask the server for its RSA public key over
    /// plain TCP (MySQL's `get-server-public-key`). Off by default: a man in the middle could
    /// answer with its own key, so full authentication without TLS and without `server_public_key`
    /// is refused instead.
    pub get_server_public_key: bool,
    /// PEM text of the server's RSA public key (MySQL's `--server-public-key-path`): caching_sha2_password
    /// and sha256_password then encrypt the password with it instead of asking the server for its key.
    pub server_public_key: Option<String>,
    /// The most a buffered result may hold in decoded, in-memory bytes (values and their heap,
    /// not wire bytes: a 1-byte NULL is a whole `Value`). Also the largest single packet (row)
    /// accepted, though never less than 16 MiB nor more than 1 GiB. Exceeding it is
    /// [`crate::Error::ResultTooLarge`] (CR_OUT_OF_MEMORY) with the rest of the result discarded.
    pub max_result_bytes: u64,
    /// More than one server: a host list, its strategy and failover (see [`HaOptions`]). `None`
    /// connects to `host` and `port` only.
    pub ha: Option<HaOptions>,
    /// Observability: a listener for statement and connect events, and what they report of a
    /// statement's text (see [`EventOptions`]). None by default, at no cost.
    pub events: EventOptions,
    /// Opt-in: `execute(sql, params)` with parameters runs as a server-side prepared statement
    /// from the statement cache (as `execute_prepared` does), and `executemany` of such a cursor
    /// uses MariaDB's bulk execution where the server offers it. Off by default: `%s` is then
    /// filled in on the client (cymysql's semantics, and what works through Vitess and ProxySQL).
    /// `execute(sql)` without parameters always goes as text.
    pub prepared_execution: bool,
    /// How many statements each connection keeps prepared for `execute_prepared` (and for
    /// `prepared_execution`), least recently used evicted first; 0 deallocates each after use.
    pub statement_cache_size: usize,
    /// How DECIMAL, temporal and JSON values come back (default: exact text, records, JSON).
    pub conversions: Conversions,
    /// The caller's decoders and encoders (cymysql's `conv` and `encoders`); none by default.
    pub converters: Converters,
    /// The kind of cursor [`Connection::default_cursor`](super::connection::Connection::default_cursor)
    /// makes (PyMySQL's `cursorclass`); a tuple cursor by default.
    pub cursorclass: CursorClass,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            host: "localhost".into(),
            user: String::new(),
            passwd: String::new(),
            db: None,
            port: 3306,
            unix_socket: None,
            charset: "utf8mb4".into(),
            sql_mode: None,
            read_default_file: None,
            read_default_group: None,
            client_flag: 0,
            init_command: None,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: None,
            write_timeout: None,
            statement_timeout: None,
            ssl: None,
            compress: None,
            zstd_compression_level: 3,
            named_pipe: false,
            autocommit: Some(false),
            local_infile: false,
            allow_cleartext_password: false,
            get_server_public_key: false,
            server_public_key: None,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
            ha: None,
            events: EventOptions::default(),
            prepared_execution: false,
            statement_cache_size: super::prepare::DEFAULT_STATEMENT_CACHE_SIZE,
            conversions: Conversions::default(),
            converters: Converters::default(),
            cursorclass: CursorClass::default(),
        }
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("host", &self.host)
            .field("user", &self.user)
            .field("passwd", &"<redacted>")
            .field("db", &self.db)
            .field("port", &self.port)
            .field("unix_socket", &self.unix_socket)
            .field("charset", &self.charset)
            .field("sql_mode", &self.sql_mode)
            .field("read_default_file", &self.read_default_file)
            .field("read_default_group", &self.read_default_group)
            .field("client_flag", &self.client_flag)
            .field("init_command", &self.init_command)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("ssl", &self.ssl)
            .field("compress", &self.compress)
            .field("zstd_compression_level", &self.zstd_compression_level)
            .field("named_pipe", &self.named_pipe)
            .field("autocommit", &self.autocommit)
            .field("local_infile", &self.local_infile)
            .field("allow_cleartext_password", &self.allow_cleartext_password)
            .field("get_server_public_key", &self.get_server_public_key)
            .field("server_public_key", &self.server_public_key.as_ref().map(|_| "<pem>"))
            .field("max_result_bytes", &self.max_result_bytes)
            .field("ha", &self.ha)
            .field("events", &self.events)
            .field("prepared_execution", &self.prepared_execution)
            .field("statement_cache_size", &self.statement_cache_size)
            .field("conversions", &self.conversions)
            .field("converters", &self.converters)
            .field("cursorclass", &self.cursorclass)
            .finish()
    }
}

impl ConnectOptions {
    /// Refuses values that cannot travel in the field that carries them, before anything is sent:
    /// a NUL would end the NUL-terminated user name or database of HandshakeResponse41 early and
    /// let the rest be read as further fields; a NUL in a statement, a charset name or a file
    /// name would be cut short by the server or the host; a control character in the host would
    /// make name lookup and certificate checks see different names. Run by the URL parser and by
    /// `connect`, so options from a URL, an option file or a WIT caller all pass through it.
    /// Errors name the field, never its value. The password is checked by the plugin that would
    /// send it: one that hashes it takes any byte.
    pub fn validate(&self) -> Result<(), Error> {
        if self.host.bytes().any(|b| b.is_ascii_control()) {
            return Err(Error::Programming("host contains a control character or NUL byte".into()));
        }
        if let Some(ha) = &self.ha {
            if ha.endpoints.is_empty() {
                return Err(Error::Programming("ha: the host list is empty".into()));
            }
            if ha.endpoints.iter().any(|e| e.host.is_empty() || e.host.bytes().any(|b| b.is_ascii_control())) {
                return Err(Error::Programming(
                    "ha: a host of the list is empty or contains a control character".into(),
                ));
            }
        }
        no_nul("user", &self.user)?;
        let optional = [
            ("db", &self.db),
            ("sql_mode", &self.sql_mode),
            ("init_command", &self.init_command),
            ("read_default_file", &self.read_default_file),
            ("read_default_group", &self.read_default_group),
            ("unix_socket", &self.unix_socket),
            ("compress", &self.compress),
        ];
        for (field, value) in optional {
            if let Some(value) = value {
                no_nul(field, value)?;
            }
        }
        no_nul("charset", &self.charset)
    }
}

/// Refuses a NUL byte in `value`, naming `field`.
pub(crate) fn no_nul(field: &str, value: &str) -> Result<(), Error> {
    if value.contains('\0') {
        return Err(Error::Programming(format!("{field} contains a NUL byte, which cannot be sent to the server")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let o = ConnectOptions {
            passwd: "hunter2-Secret".into(),
            ssl: Some(SslOptions { key: Some("-----BEGIN PRIVATE KEY----- s3cr3t".into()), ..SslOptions::default() }),
            server_public_key: Some("-----BEGIN PUBLIC KEY----- MIIBIjAN".into()),
            ..ConnectOptions::default()
        };
        for text in [format!("{o:?}"), format!("{o:#?}")] {
            assert!(!text.contains("hunter2-Secret"), "{text}");
            assert!(!text.contains("s3cr3t"), "{text}");
            assert!(text.contains("<redacted>"));
            assert!(!text.contains("MIIBIjAN"), "{text}");
        }
    }

    #[test]
    fn validate_refuses_nul_in_every_field_that_cannot_carry_it() {
        assert_eq!(ConnectOptions::default().validate(), Ok(()));
        let cases: Vec<(&str, ConnectOptions)> = vec![
            ("user", ConnectOptions { user: "root\0\x05AAAAAevil_db\0evil_plugin".into(), ..Default::default() }),
            ("user", ConnectOptions { user: "root\0\0".into(), ..Default::default() }),
            ("db", ConnectOptions { db: Some("real\0db".into()), ..Default::default() }),
            ("charset", ConnectOptions { charset: "utf8mb4\0".into(), ..Default::default() }),
            ("sql_mode", ConnectOptions { sql_mode: Some("ANSI\0".into()), ..Default::default() }),
            ("init_command", ConnectOptions { init_command: Some("SET @a=1\0".into()), ..Default::default() }),
            ("read_default_file", ConnectOptions { read_default_file: Some("/a\0b".into()), ..Default::default() }),
            ("read_default_group", ConnectOptions { read_default_group: Some("g\0".into()), ..Default::default() }),
            ("unix_socket", ConnectOptions { unix_socket: Some("/s\0".into()), ..Default::default() }),
            ("compress", ConnectOptions { compress: Some("zlib\0".into()), ..Default::default() }),
            ("host", ConnectOptions { host: "db.example\0.evil".into(), ..Default::default() }),
            ("host", ConnectOptions { host: "db\r\nexample".into(), ..Default::default() }),
        ];
        for (field, o) in cases {
            match o.validate() {
                Err(Error::Programming(m)) => assert!(m.starts_with(field), "{field}: {m}"),
                other => panic!("{field}: {other:?}"),
            }
        }
        // The password is the plugins' business; UTF-8 and bytes other than NUL are fine anywhere.
        let fine = ConnectOptions {
            user: "żółw \u{1b}".into(),
            passwd: "pa\0ss".into(),
            db: Some("db-ü".into()),
            host: "::1".into(),
            ..Default::default()
        };
        assert_eq!(fine.validate(), Ok(()));
    }

    #[test]
    fn get_server_public_key_is_off_by_default_and_shown() {
        let o = ConnectOptions::default();
        assert!(!o.get_server_public_key);
        assert!(format!("{o:?}").contains("get_server_public_key: false"));
    }
}
