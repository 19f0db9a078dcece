//! The parameters of `connect()`, with cymysql's names and defaults.

use std::fmt;
use std::time::Duration;

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
    /// PEM text of the server's RSA public key (MySQL's `--server-public-key-path`): caching_sha2_password
    /// and sha256_password then encrypt the password with it instead of asking the server for its key.
    pub server_public_key: Option<String>,
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
            server_public_key: None,
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
            .field("server_public_key", &self.server_public_key.as_ref().map(|_| "<pem>"))
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
