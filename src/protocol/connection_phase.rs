//! The Connection Phase as a sans-IO state machine: the greeting, capability negotiation, the
//! SSLRequest, HandshakeResponse41, and the authentication exchange (AuthSwitchRequest,
//! AuthMoreData and the plugins).
//!
//! No I/O happens here. The caller reads a packet when asked ([`Action::ReadPacket`]) and hands it
//! to [`Handshake::receive`], writes the packets it is given ([`Action::WritePacket`]), upgrades its
//! transport when told ([`Action::UpgradeTls`]), and calls [`Handshake::resume`] once it has; at
//! [`Action::Finished`] the session is authenticated.

use super::auth::{plugin_for, AuthContext, AuthError, AuthPlugin, AuthStep};
use super::constants::capability::*;
use super::constants::mariadb_capability::MARIADB_CLIENT_STMT_BULK_OPERATIONS;
use super::handshake::{ssl_request, AuthResponse, Greeting, HandshakeResponse41, HandshakeV10};
use crate::protocol::error::{ConnectionPhaseError, ProtocolError};

/// Capabilities we ask for whenever the server offers them.
pub const CLIENT_CAPABILITIES: u32 = CLIENT_LONG_PASSWORD
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

/// MariaDB's extended capabilities we ask for whenever the server offers them.
pub const CLIENT_MARIADB_CAPABILITIES: u32 = MARIADB_CLIENT_STMT_BULK_OPERATIONS;

/// Packets the server may send after HandshakeResponse41 before the exchange counts as never ending.
const MAX_AUTH_PACKETS: usize = 8;

/// The connection options the handshake needs. Not `Debug`: it holds the password.
#[derive(Clone, Default)]
pub struct HandshakeOptions {
    /// The user name sent in HandshakeResponse41.
    pub user: String,
    /// The password the authentication plugins use; it never leaves in clear outside TLS.
    pub password: String,
    /// The default database, sent with CLIENT_CONNECT_WITH_DB.
    pub database: Option<String>,
    /// Capability flags the caller adds (`client_flag`); those this build cannot speak are dropped.
    pub client_flag: u32,
    /// Whether LOAD DATA LOCAL INFILE may be used (CLIENT_LOCAL_FILES).
    pub local_infile: bool,
    /// The compression capability asked for: CLIENT_COMPRESS, CLIENT_ZSTD_COMPRESSION_ALGORITHM or 0.
    pub compression: u32,
    /// The zstd level sent when zstd is agreed.
    pub zstd_compression_level: u8,
    /// Whether TLS is required: a server that does not offer it is refused.
    pub tls: bool,
    /// The connection collation's id (its low byte goes in the handshake).
    pub collation: u8,
    /// The largest packet the client accepts, as announced to the server.
    pub max_packet_size: u32,
    /// How plugins may send the password; `secure_transport` is set here once TLS is up.
    pub auth: AuthContext,
}

/// What the handshake settled, for the session that follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The capabilities in force: those asked for that the server offers.
    pub capabilities: u32,
    /// MariaDB's extended capabilities in force (`MARIADB_CLIENT_*`; 0 with MySQL).
    pub mariadb_capabilities: u32,
    /// The server version, without MariaDB's "5.5.5-" replication prefix.
    pub server_version: String,
    /// The connection (thread) id, as `KILL QUERY` takes it.
    pub connection_id: u32,
    /// The status flags of the final OK_Packet.
    pub status_flags: u16,
}

/// What the caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Read the next packet and pass it to [`Handshake::receive`].
    ReadPacket,
    /// Write this payload as the next packet, then call [`Handshake::resume`].
    WritePacket(Vec<u8>),
    /// Replace the transport with TLS over it, then call [`Handshake::resume`].
    UpgradeTls,
    /// The session is authenticated.
    Finished(Negotiated),
}

/// Where the exchange stands.
enum State {
    /// The greeting is due.
    Greeting,
    /// The SSLRequest is being written; the TLS upgrade follows.
    SslRequestSent(HandshakeV10),
    /// The TLS upgrade is under way; HandshakeResponse41 follows.
    Upgrading(HandshakeV10),
    /// A packet of ours is being written, after `reads` packets of the authentication exchange.
    Sent { reads: usize },
    /// The server's next authentication packet is due, after `reads` of them.
    AuthResult { reads: usize },
    /// Finished or failed: nothing more to do.
    Done,
}

/// The client side of the Connection Phase.
pub struct Handshake {
    options: HandshakeOptions,
    state: State,
    capabilities: u32,
    mariadb_capabilities: u32,
    plugin: Option<Box<dyn AuthPlugin>>,
    server_version: String,
    connection_id: u32,
}

impl Handshake {
    /// A handshake about to read the server's greeting: its first action is [`Action::ReadPacket`].
    pub fn new(options: HandshakeOptions) -> Handshake {
        Handshake {
            options,
            state: State::Greeting,
            capabilities: 0,
            mariadb_capabilities: 0,
            plugin: None,
            server_version: String::new(),
            connection_id: 0,
        }
    }

    /// The capabilities asked for and offered (known once the greeting is read).
    pub fn capabilities(&self) -> u32 {
        self.capabilities
    }

    /// Takes the packet an [`Action::ReadPacket`] asked for.
    pub fn receive(&mut self, packet: &[u8]) -> Result<Action, ConnectionPhaseError> {
        let r = match std::mem::replace(&mut self.state, State::Done) {
            State::Greeting => self.on_greeting(packet),
            State::AuthResult { reads } => self.on_auth_packet(packet, reads + 1),
            _ => Err(out_of_order()),
        };
        self.finish_step(r)
    }

    /// Goes on after an [`Action::WritePacket`] or [`Action::UpgradeTls`] was carried out.
    pub fn resume(&mut self) -> Result<Action, ConnectionPhaseError> {
        let r = match std::mem::replace(&mut self.state, State::Done) {
            State::SslRequestSent(hs) => {
                self.state = State::Upgrading(hs);
                Ok(Action::UpgradeTls)
            }
            State::Upgrading(hs) => self.handshake_response(&hs),
            State::Sent { reads } if reads >= MAX_AUTH_PACKETS => {
                Err(ProtocolError::InvalidValue("authentication exchange does not end").into())
            }
            State::Sent { reads } => {
                self.state = State::AuthResult { reads };
                Ok(Action::ReadPacket)
            }
            _ => Err(out_of_order()),
        };
        self.finish_step(r)
    }

    /// A failed step ends the exchange: a later call is a caller's mistake, not a retry.
    fn finish_step(&mut self, r: Result<Action, ConnectionPhaseError>) -> Result<Action, ConnectionPhaseError> {
        if r.is_err() {
            self.state = State::Done;
        }
        r
    }

    fn on_greeting(&mut self, packet: &[u8]) -> Result<Action, ConnectionPhaseError> {
        let hs = match Greeting::parse(packet)? {
            Greeting::Handshake(hs) => hs,
            Greeting::Err(e) => return Err(e.into()),
        };
        if hs.capabilities & CLIENT_PROTOCOL_41 == 0 {
            return Err(ProtocolError::MissingCapability("protocol 4.1").into());
        }
        let o = &self.options;
        let mut wanted = CLIENT_CAPABILITIES | o.client_flag;
        if o.database.is_some() {
            wanted |= CLIENT_CONNECT_WITH_DB;
        }
        if o.local_infile {
            wanted |= CLIENT_LOCAL_FILES;
        } else {
            wanted &= !CLIENT_LOCAL_FILES;
        }
        // Features this build cannot speak are never asked for, whatever client_flag says.
        wanted &= !(CLIENT_SSL | CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION_ALGORITHM);
        // The compression asked for, if offered; a server without it is used uncompressed, even
        // one that offers the other algorithm (MariaDB and MySQL before 8.0.18 have no zstd).
        wanted |= o.compression & (CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION_ALGORITHM);
        // Session tracking tells us when a statement changes character_set_client behind our back.
        wanted |= CLIENT_SESSION_TRACK;
        self.capabilities = wanted & hs.capabilities;
        // MariaDB reads its extended flags only from a client that, like the server, clears CLIENT_MYSQL.
        if self.capabilities & CLIENT_LONG_PASSWORD == 0 {
            self.mariadb_capabilities = CLIENT_MARIADB_CAPABILITIES & hs.mariadb_capabilities;
        }
        if o.tls {
            // Asking for TLS and getting clear text would be a silent downgrade: refuse instead.
            if hs.capabilities & CLIENT_SSL == 0 {
                return Err(ConnectionPhaseError::TlsNotOffered);
            }
            self.capabilities |= CLIENT_SSL;
            let request = ssl_request(self.capabilities, self.mariadb_capabilities, o.max_packet_size, o.collation);
            self.state = State::SslRequestSent(hs);
            return Ok(Action::WritePacket(request));
        }
        self.handshake_response(&hs)
    }

    /// HandshakeResponse41 with the first response of the plugin the server named.
    fn handshake_response(&mut self, hs: &HandshakeV10) -> Result<Action, ConnectionPhaseError> {
        self.server_version = hs.server_version.strip_prefix("5.5.5-").unwrap_or(&hs.server_version).to_string();
        self.connection_id = hs.connection_id;
        self.options.auth.secure_transport = self.capabilities & CLIENT_SSL != 0;
        let o = &self.options;
        let default_plugin = match hs.auth_plugin_name.as_str() {
            "" => "mysql_native_password",
            name => name,
        };
        // A default plugin we cannot start is answered with native_password: the server then switches.
        let native = || plugin_for("mysql_native_password", &o.password, &o.auth);
        let mut plugin = plugin_for(default_plugin, &o.password, &o.auth).or_else(|_| native())?;
        // Without CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA the response's length is a single byte: a
        // longer one (an RSA block, a long password) goes as its own packet after the server's switch.
        let fits = |r: &[u8]| r.len() <= 255 || self.capabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0;
        let response = match plugin.start(&hs.auth_plugin_data) {
            Ok(r) if fits(&r) => r,
            _ => {
                plugin = native()?;
                plugin.start(&hs.auth_plugin_data)?
            }
        };
        let attrs = [("_client_name", "cymysql-wasi"), ("_client_version", env!("CARGO_PKG_VERSION"))];
        let mut payload = Vec::with_capacity(128);
        HandshakeResponse41 {
            capabilities: self.capabilities,
            max_packet_size: o.max_packet_size,
            collation: o.collation,
            username: &o.user,
            auth_response: &response,
            database: o.database.as_deref(),
            auth_plugin_name: plugin.name(),
            connect_attrs: &attrs,
            zstd_compression_level: o.zstd_compression_level,
            mariadb_capabilities: self.mariadb_capabilities,
        }
        .write(&mut payload)?;
        self.plugin = Some(plugin);
        self.state = State::Sent { reads: 0 };
        Ok(Action::WritePacket(payload))
    }

    /// The `reads`-th packet of the authentication exchange. Its result must be read and checked:
    /// an ERR here is the real reason a connect fails.
    fn on_auth_packet(&mut self, packet: &[u8], reads: usize) -> Result<Action, ConnectionPhaseError> {
        let plugin = self.plugin.as_mut().ok_or_else(out_of_order)?;
        match AuthResponse::parse(packet, self.capabilities)? {
            AuthResponse::Ok(ok) => Ok(Action::Finished(Negotiated {
                capabilities: self.capabilities,
                mariadb_capabilities: self.mariadb_capabilities,
                server_version: std::mem::take(&mut self.server_version),
                connection_id: self.connection_id,
                status_flags: ok.status_flags,
            })),
            AuthResponse::Err(e) => Err(e.into()),
            AuthResponse::OldAuthSwitchRequest => {
                Err(AuthError::Unsupported("authentication plugin 'mysql_old_password'".into()).into())
            }
            AuthResponse::AuthSwitchRequest { plugin_name, plugin_data } => {
                let o = &self.options;
                let mut switched = plugin_for(&plugin_name, &o.password, &o.auth)?;
                let response = switched.start(plugin_data)?;
                self.plugin = Some(switched);
                self.state = State::Sent { reads };
                Ok(Action::WritePacket(response))
            }
            AuthResponse::AuthMoreData(data) => match plugin.on_more_data(data)? {
                AuthStep::Send(reply) => {
                    self.state = State::Sent { reads };
                    Ok(Action::WritePacket(reply))
                }
                AuthStep::Wait if reads >= MAX_AUTH_PACKETS => {
                    Err(ProtocolError::InvalidValue("authentication exchange does not end").into())
                }
                AuthStep::Wait => {
                    self.state = State::AuthResult { reads };
                    Ok(Action::ReadPacket)
                }
            },
        }
    }
}

/// A step the state machine did not ask for: the driving loop is wrong, not the server.
fn out_of_order() -> ConnectionPhaseError {
    ConnectionPhaseError::Interface("the handshake was stepped out of order".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::handshake::tests::MARIADB_HANDSHAKE;
    use ed25519_dalek::{Signature, VerifyingKey};

    /// What the client did: each packet it wrote, with "TLS" where it upgraded the transport.
    #[derive(Debug, PartialEq, Eq)]
    enum Wrote {
        Packet(Vec<u8>),
        Tls,
    }

    /// Runs `handshake` against the server's packets, in order; the packets the client wrote, and
    /// how the exchange ended.
    fn exchange(handshake: &mut Handshake, server: &[&[u8]]) -> (Vec<Wrote>, Result<Negotiated, ConnectionPhaseError>) {
        let mut server = server.iter();
        let mut wrote = Vec::new();
        let mut action = Ok(Action::ReadPacket);
        loop {
            action = match action {
                Ok(Action::ReadPacket) => match server.next() {
                    Some(packet) => handshake.receive(packet),
                    None => panic!("the client waits for a packet the server did not send; it wrote {wrote:?}"),
                },
                Ok(Action::WritePacket(p)) => {
                    wrote.push(Wrote::Packet(p));
                    handshake.resume()
                }
                Ok(Action::UpgradeTls) => {
                    wrote.push(Wrote::Tls);
                    handshake.resume()
                }
                Ok(Action::Finished(n)) => return (wrote, Ok(n)),
                Err(e) => return (wrote, Err(e)),
            };
        }
    }

    fn options(user: &str, password: &str) -> HandshakeOptions {
        HandshakeOptions {
            user: user.into(),
            password: password.into(),
            collation: 45,
            max_packet_size: 1 << 30,
            zstd_compression_level: 3,
            ..HandshakeOptions::default()
        }
    }

    /// HandshakeResponse41 as the MySQL documentation lays it out, written out here field by field
    /// (no database, no zstd): what the client must send.
    fn response41(capabilities: u32, user: &str, auth: &[u8], plugin: &str) -> Vec<u8> {
        let mut p = capabilities.to_le_bytes().to_vec();
        p.extend_from_slice(&(1u32 << 30).to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0; 19]);
        // MariaDB's extended capabilities: bulk operations, to a MariaDB server (no CLIENT_MYSQL).
        let extended = if capabilities & CLIENT_LONG_PASSWORD == 0 { MARIADB_CLIENT_STMT_BULK_OPERATIONS } else { 0 };
        p.extend_from_slice(&extended.to_le_bytes());
        p.extend_from_slice(user.as_bytes());
        p.push(0);
        p.push(auth.len() as u8);
        p.extend_from_slice(auth);
        p.extend_from_slice(plugin.as_bytes());
        p.push(0);
        let version = env!("CARGO_PKG_VERSION");
        let mut attrs = b"\x0c_client_name\x0ccymysql-wasi\x0f_client_version".to_vec();
        attrs.push(version.len() as u8);
        attrs.extend_from_slice(version.as_bytes());
        p.push(attrs.len() as u8);
        p.extend_from_slice(&attrs);
        p
    }

    /// What the client asks for against MariaDB 10.11's greeting: CLIENT_CAPABILITIES and
    /// CLIENT_SESSION_TRACK, without CLIENT_LONG_PASSWORD (MariaDB clears it to flag its own
    /// capabilities).
    const CAPS_WITH_MARIADB: u32 = 0x01BE_A204;
    /// The same against MySQL 8.0's greeting, which offers everything.
    const CAPS_WITH_MYSQL8: u32 = 0x01BE_A205;

    /// MariaDB 10.11.19's OK after a successful login (captured), status autocommit.
    const MARIADB_AUTH_OK: &[u8] = b"\x00\x00\x00\x02\x00\x00\x00";

    #[test]
    fn mariadb_native_password_login() {
        let mut hs = Handshake::new(options("root", "secret"));
        let (wrote, end) = exchange(&mut hs, &[MARIADB_HANDSHAKE, MARIADB_AUTH_OK]);
        // SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))) for the nonce "^MFXes6PmWKP3MiGgREA".
        let scramble = b"\xb7\x33\xd7\x62\x06\x25\x91\xb6\xaa\x3e\x50\x9e\xfc\x95\x34\x4b\x9d\x2e\xbb\x45";
        let expected = response41(CAPS_WITH_MARIADB, "root", scramble, "mysql_native_password");
        assert_eq!(wrote, [Wrote::Packet(expected)]);
        let negotiated = Negotiated {
            capabilities: CAPS_WITH_MARIADB,
            mariadb_capabilities: MARIADB_CLIENT_STMT_BULK_OPERATIONS,
            server_version: "10.11.19-MariaDB-0+deb12u1".into(),
            connection_id: 3,
            status_flags: 2,
        };
        assert_eq!(end, Ok(negotiated));
    }

    #[test]
    fn mariadb_switch_to_client_ed25519() {
        // Captured from MariaDB 10.11.19 for a user IDENTIFIED VIA ed25519 USING PASSWORD('secret').
        let switch = b"\xfeclient_ed25519\x00\x838\xea!&\xf3\xbe\xa7\xd7]\xc2\x03\xcbzLw}4\x0cH\xff\xc60\x94\xa5b\xad\x0b\xa0\x90$\x9a";
        // That user's authentication_string on the server, base64-decoded: its public key.
        let stored_key = b"\x64\x88\x14\x44\x45\x20\xe4\xf5\x60\x43\xa2\xec\x92\x15\xe6\x3b\
\xe7\x99\x2d\x2d\x27\x0b\xc6\xde\xe8\x73\xe3\x61\x64\x78\x60\x96";
        let mut hs = Handshake::new(options("ed", "secret"));
        let (wrote, end) = exchange(&mut hs, &[MARIADB_HANDSHAKE, switch, MARIADB_AUTH_OK]);
        assert!(end.is_ok(), "{end:?}");
        let [Wrote::Packet(_), Wrote::Packet(signature)] = &wrote[..] else { panic!("{wrote:?}") };
        // The signature of the switch's nonce that the server checks against the stored key.
        let key = VerifyingKey::from_bytes(stored_key).unwrap();
        key.verify_strict(&switch[16..], &Signature::from_slice(signature).unwrap()).unwrap();
    }

    /// An Initial Handshake Packet laid out as MySQL 8.0.36 sends it: every capability but
    /// CLIENT_REMEMBER_OPTIONS, utf8mb4_0900_ai_ci, and `plugin` as the default.
    fn mysql8_greeting(plugin: &str) -> Vec<u8> {
        let mut h =
            b"\x0a8.0.36\x00\x07\x00\x00\x00\x3d\x4f\x11\x7a\x22\x5e\x63\x05\x00\xff\xff\xff\x02\x00\xff\xdf\x15"
                .to_vec();
        h.extend_from_slice(&[0; 10]);
        h.extend_from_slice(b"\x7f\x2b\x48\x19\x6c\x0e\x54\x31\x2a\x77\x09\x66\x00");
        h.extend_from_slice(plugin.as_bytes());
        h.push(0);
        h
    }

    /// caching_sha2_password's scramble of "secret" for the nonce of [`mysql8_greeting`]:
    /// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce).
    const SHA2_SCRAMBLE: &[u8] = b"\x40\x20\x4a\x7c\x80\x10\x57\x86\x80\x29\x70\x4a\x96\xce\x5c\x39\
\x29\x84\xa5\xba\xaa\x0a\x29\xf3\x9b\x5b\x5c\x47\xb0\xb8\x4d\x2a";

    #[test]
    fn mysql8_caching_sha2_fast_authentication() {
        let mut hs = Handshake::new(options("app", "secret"));
        let greeting = mysql8_greeting("caching_sha2_password");
        // fast_auth_success, then the OK.
        let (wrote, end) = exchange(&mut hs, &[&greeting, b"\x01\x03", MARIADB_AUTH_OK]);
        let expected = response41(CAPS_WITH_MYSQL8, "app", SHA2_SCRAMBLE, "caching_sha2_password");
        assert_eq!(wrote, [Wrote::Packet(expected)]);
        let end = end.unwrap();
        assert_eq!((end.server_version.as_str(), end.connection_id), ("8.0.36", 7));
    }

    #[test]
    fn mysql8_caching_sha2_full_authentication_inside_tls() {
        let mut hs = Handshake::new(HandshakeOptions { tls: true, ..options("app", "secret") });
        let greeting = mysql8_greeting("caching_sha2_password");
        // perform_full_authentication: the password goes in clear inside TLS, NUL-terminated.
        let (wrote, end) = exchange(&mut hs, &[&greeting, b"\x01\x04", MARIADB_AUTH_OK]);
        let caps = CAPS_WITH_MYSQL8 | CLIENT_SSL;
        let mut ssl_request = caps.to_le_bytes().to_vec();
        ssl_request.extend_from_slice(&(1u32 << 30).to_le_bytes());
        ssl_request.push(45);
        ssl_request.extend_from_slice(&[0; 23]);
        let response = response41(caps, "app", SHA2_SCRAMBLE, "caching_sha2_password");
        assert_eq!(
            wrote,
            [Wrote::Packet(ssl_request), Wrote::Tls, Wrote::Packet(response), Wrote::Packet(b"secret\x00".to_vec())]
        );
        assert_eq!(end.map(|n| n.capabilities), Ok(caps));
    }

    #[test]
    fn mysql8_switch_to_native_password() {
        let mut hs = Handshake::new(options("app", "secret"));
        let greeting = mysql8_greeting("caching_sha2_password");
        let nonce = b"\x11\x22\x33\x44\x55\x66\x77\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x21\x32\x43\x54";
        let mut switch = b"\xfemysql_native_password\x00".to_vec();
        switch.extend_from_slice(nonce);
        switch.push(0);
        let (wrote, end) = exchange(&mut hs, &[&greeting, &switch, MARIADB_AUTH_OK]);
        assert!(end.is_ok(), "{end:?}");
        let native = b"\x72\xea\x33\xf0\x58\xae\xf4\x8f\x88\x4c\xaf\x4c\xe6\x95\x92\x17\x7d\xaf\x4f\x55";
        assert_eq!(wrote.last(), Some(&Wrote::Packet(native.to_vec())));
    }

    #[test]
    fn refusals_and_failures_end_the_exchange() {
        // A server refusing the client before the handshake.
        let mut hs = Handshake::new(options("root", "secret"));
        let (wrote, end) = exchange(&mut hs, &[b"\xff\x10\x04Too many connections"]);
        assert!(wrote.is_empty());
        assert!(matches!(&end, Err(ConnectionPhaseError::Server(e)) if e.code == 1040), "{end:?}");
        // TLS asked for, not offered: nothing is sent in clear.
        let mut hs = Handshake::new(HandshakeOptions { tls: true, ..options("root", "secret") });
        let (wrote, end) = exchange(&mut hs, &[MARIADB_HANDSHAKE]);
        assert!(wrote.is_empty());
        assert_eq!(end, Err(ConnectionPhaseError::TlsNotOffered));
        // Access denied (captured from MariaDB 10.11.19).
        let denied = b"\xff\x15\x04#28000Access denied for user 'nat'@'localhost' (using password: YES)";
        let (_, end) = exchange(&mut Handshake::new(options("nat", "wrong")), &[MARIADB_HANDSHAKE, denied]);
        assert!(matches!(&end, Err(ConnectionPhaseError::Server(e)) if e.code == 1045), "{end:?}");
        // mysql_old_password.
        let (_, end) = exchange(&mut Handshake::new(options("root", "secret")), &[MARIADB_HANDSHAKE, b"\xfe"]);
        assert!(matches!(end, Err(ConnectionPhaseError::Auth(AuthError::Unsupported(_)))), "{end:?}");
        // A step the machine did not ask for.
        let mut hs = Handshake::new(options("root", "secret"));
        assert!(matches!(hs.resume(), Err(ConnectionPhaseError::Interface(_))));
    }

    #[test]
    fn an_exchange_that_never_ends_is_cut_off() {
        // A server that answers every reply with another AuthSwitchRequest: after eight of them
        // (each answered, as the client answered before) the client gives up.
        let switch = b"\xfemysql_native_password\x0012345678901234567890\x00";
        let mut server: Vec<&[u8]> = vec![MARIADB_HANDSHAKE];
        server.extend(std::iter::repeat_n(&switch[..], MAX_AUTH_PACKETS));
        let (wrote, end) = exchange(&mut Handshake::new(options("root", "secret")), &server);
        assert_eq!(wrote.len(), 1 + MAX_AUTH_PACKETS);
        assert_eq!(end, Err(ProtocolError::InvalidValue("authentication exchange does not end").into()));
    }
}
