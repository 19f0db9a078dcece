//! The parameters of `connect()`, with cymysql's names and defaults.

use std::fmt;
use std::time::Duration;

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
    pub connect_timeout: Option<Duration>,
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
    /// PEM text of the server's RSA public key (MySQL's `--server-public-key-path`): caching_sha2_password
    /// and sha256_password then encrypt the password with it instead of asking the server for its key.
    pub server_public_key: Option<String>,
    /// The most a buffered result may hold in decoded, in-memory bytes (values and their heap,
    /// not wire bytes: a 1-byte NULL is a whole `Value`). Also the largest single packet (row)
    /// accepted, though never less than 16 MiB nor more than 1 GiB. Exceeding it is
    /// [`crate::Error::ResultTooLarge`] (CR_OUT_OF_MEMORY) with the rest of the result discarded.
    pub max_result_bytes: u64,
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
            ssl: None,
            compress: None,
            zstd_compression_level: 3,
            named_pipe: false,
            autocommit: Some(false),
            local_infile: false,
            allow_cleartext_password: false,
            server_public_key: None,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
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
            .field("ssl", &self.ssl)
            .field("compress", &self.compress)
            .field("zstd_compression_level", &self.zstd_compression_level)
            .field("named_pipe", &self.named_pipe)
            .field("autocommit", &self.autocommit)
            .field("local_infile", &self.local_infile)
            .field("allow_cleartext_password", &self.allow_cleartext_password)
            .field("server_public_key", &self.server_public_key.as_ref().map(|_| "<pem>"))
            .field("max_result_bytes", &self.max_result_bytes)
            .finish()
    }
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
}
