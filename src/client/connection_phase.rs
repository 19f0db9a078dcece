//! The Connection Phase: TCP connect, the initial handshake, the TLS upgrade (SSLRequest),
//! HandshakeResponse41, the authentication exchange (AuthSwitchRequest, AuthMoreData), then the
//! session set-up cymysql applies (sql_mode, init_command, autocommit).

use std::rc::Rc;

use bytes::BytesMut;

use super::connection::{Conn, Pending, State};
use super::option_file::apply_default_file;
use super::options::{ConnectOptions, SslOptions};
use super::packets::{receive_limit, Compression, MAX_ALLOWED_PACKET, READ_CHUNK};
#[cfg(feature = "tls")]
use super::tls::TlsStream;
use super::transport::{with_timeout, Runtime};
use crate::error::{Error, ProtocolError, Timeout};
use crate::protocol::auth::{plugin_for, AuthContext, AuthStep, ServerPublicKey};
use crate::protocol::charset::charset_by_name;
use crate::protocol::codec::PacketCodec;
use crate::protocol::column_cache::ColumnCache;
use crate::protocol::compress::{Algorithm, CompressedCodec};
use crate::protocol::constants::{capability::*, status::*};
use crate::protocol::escape::escape_string_into;
use crate::protocol::handshake::{ssl_request, AuthResponse, Greeting, HandshakeResponse41};

/// Results a set-up statement (sql_mode, init_command, autocommit) may return: a server whose
/// more-results flag never clears must not keep connect busy for ever.
const MAX_SETUP_RESULTS: usize = 64;

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

impl Conn {
    pub(super) async fn open(mut options: ConnectOptions, runtime: Rc<dyn Runtime>) -> Result<Conn, Error> {
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
        let hs = match Greeting::parse(&first)? {
            Greeting::Handshake(hs) => hs,
            Greeting::Err(e) => return Err(e.into()),
        };
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
            match AuthResponse::parse(&packet, self.capabilities)? {
                AuthResponse::Ok(ok) => {
                    self.status = ok.status_flags;
                    return Ok(());
                }
                AuthResponse::Err(e) => return Err(e.into()),
                AuthResponse::OldAuthSwitchRequest => {
                    return Err(Error::NotSupported("authentication plugin 'mysql_old_password'".into()))
                }
                AuthResponse::AuthSwitchRequest { plugin_name, plugin_data } => {
                    plugin = plugin_for(&plugin_name, &passwd, &context)?;
                    let response = plugin.start(plugin_data)?;
                    self.write_packet(&response).await?;
                }
                AuthResponse::AuthMoreData(data) => match plugin.on_more_data(data)? {
                    AuthStep::Send(reply) => self.write_packet(&reply).await?,
                    AuthStep::Wait => {}
                },
            }
        }
        Err(ProtocolError::InvalidValue("authentication exchange does not end").into())
    }

    pub(super) async fn after_connect(&mut self) -> Result<(), Error> {
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
        self.command(async |c: &mut Conn| {
            let (id, _) = c.start_query(sql).await?;
            for _ in 0..MAX_SETUP_RESULTS {
                if c.next_result(id).await?.is_none() {
                    return Ok(());
                }
            }
            c.mark_broken();
            Err(ProtocolError::InvalidValue("more-results flag of a set-up statement that never clears").into())
        })
        .await
    }
}
