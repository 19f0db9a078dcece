//! The Connection Phase: TCP connect, the initial handshake, the TLS upgrade (SSLRequest),
//! HandshakeResponse41, the authentication exchange (AuthSwitchRequest, AuthMoreData), then the
//! session set-up cymysql applies (sql_mode, init_command, autocommit).

use std::rc::Rc;

use super::connection::{Conn, Pending, State};
use super::option_file::apply_default_file;
use super::options::{ConnectOptions, SslOptions};
use super::packets::{receive_limit, MAX_ALLOWED_PACKET, READ_CHUNK};
use super::prepare::PreparedState;
#[cfg(feature = "tls")]
use super::tls::TlsStream;
use super::transport::{with_timeout, Runtime};
use crate::error::{Error, ProtocolError, Timeout};
use crate::protocol::auth::{AuthContext, ServerPublicKey};
use crate::protocol::charset::charset_by_name;
use crate::protocol::column_cache::ColumnCache;
use crate::protocol::compress::Algorithm;
use crate::protocol::connection_phase::{Action, Handshake, HandshakeOptions};
use crate::protocol::constants::{capability::*, status::*};
use crate::protocol::escape::escape_string_into;
use crate::protocol::framing::Framing;

/// Results a set-up statement (sql_mode, init_command, autocommit) may return: a server whose
/// more-results flag never clears must not keep connect busy for ever.
const MAX_SETUP_RESULTS: usize = 64;

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
                framing: Framing::new(receive_limit(options.max_result_bytes), READ_CHUNK),
                scratch: vec![0; READ_CHUNK].into_boxed_slice(),
                state: State::InCommand,
                options: options.clone(),
                charset,
                capabilities: 0,
                mariadb_capabilities: 0,
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
                column_cache: ColumnCache::default(),
                connect_deadline,
                statement_clock: None,
                endpoint: None,
                hosts: None,
                lost_transaction: false,
                failovers: 0,
                prepared: PreparedState { cache_size: options.statement_cache_size, ..Default::default() },
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
                conn.framing.compress(algorithm);
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

    /// Drives the Connection Phase's state machine over the transport.
    async fn handshake(&mut self, server_public_key: Option<ServerPublicKey>) -> Result<(), Error> {
        self.framing.reset_seq();
        let o = &self.options;
        let mut handshake = Handshake::new(HandshakeOptions {
            user: o.user.clone(),
            password: o.passwd.clone(),
            database: o.db.clone(),
            client_flag: o.client_flag,
            local_infile: o.local_infile,
            compression: match o.compress.as_deref() {
                Some("zlib") => CLIENT_COMPRESS,
                Some("zstd") => CLIENT_ZSTD_COMPRESSION_ALGORITHM,
                _ => 0,
            },
            zstd_compression_level: o.zstd_compression_level,
            tls: o.ssl.is_some(),
            collation: u8::try_from(self.charset.collation_id).unwrap_or(45),
            max_packet_size: MAX_ALLOWED_PACKET as u32,
            auth: AuthContext {
                secure_transport: false,
                allow_cleartext_password: o.allow_cleartext_password,
                get_server_public_key: o.get_server_public_key,
                server_public_key,
                random: self.runtime.random(),
            },
        });
        let ssl = o.ssl.clone();
        let mut action = Action::ReadPacket;
        let negotiated = loop {
            action = match action {
                Action::ReadPacket => {
                    let packet = self.read_packet().await?;
                    handshake.receive(&packet)?
                }
                Action::WritePacket(payload) => {
                    self.write_packet(&payload).await?;
                    handshake.resume()?
                }
                Action::UpgradeTls => {
                    // The state machine asks for TLS only when the options did.
                    let ssl = ssl.as_ref().ok_or_else(|| Error::Interface("TLS upgrade without ssl options".into()))?;
                    self.start_tls(ssl).await?;
                    handshake.resume()?
                }
                Action::Finished(negotiated) => break negotiated,
            };
        };
        self.capabilities = negotiated.capabilities;
        self.mariadb_capabilities = negotiated.mariadb_capabilities;
        self.server_version = negotiated.server_version;
        self.thread_id = negotiated.connection_id;
        self.status = negotiated.status_flags;
        Ok(())
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
