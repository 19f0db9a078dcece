//! The packets of the Connection Phase: the Initial Handshake Packet (protocol version 10),
//! SSLRequest, HandshakeResponse41, and what the server answers while authenticating
//! (OK_Packet, ERR_Packet, AuthSwitchRequest, AuthMoreData).

use super::buf::{put_lenenc_bytes, put_lenenc_int, Reader};
use super::constants::capability::*;
use super::err_packet::ErrPacket;
use super::ok_packet::OkPacket;
use crate::protocol::error::{ConnectionPhaseError, ProtocolError};

/// MariaDB sends its extended capabilities in the last 4 of the 10 reserved bytes, when it
/// clears CLIENT_LONG_PASSWORD (which it calls CLIENT_MYSQL) from the classic set.
const MARIADB_CLIENT_MYSQL: u32 = CLIENT_LONG_PASSWORD;

/// The server's first packet (Protocol::HandshakeV10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeV10 {
    pub server_version: String,
    pub connection_id: u32,
    /// The nonce for the auth plugin (both parts joined, without the trailing NUL).
    pub auth_plugin_data: Vec<u8>,
    pub capabilities: u32,
    /// MariaDB's extended capability flags (0 for MySQL).
    pub mariadb_capabilities: u32,
    pub charset: u8,
    pub status_flags: u16,
    pub auth_plugin_name: String,
}

impl HandshakeV10 {
    pub fn parse(payload: &[u8]) -> Result<HandshakeV10, ProtocolError> {
        let mut r = Reader::new(payload);
        let version = r.u8("protocol version")?;
        if version != 10 {
            return Err(ProtocolError::UnsupportedProtocolVersion(version));
        }
        let server_version = String::from_utf8_lossy(r.null_terminated("server version")?).into_owned();
        let connection_id = r.u32("connection id")?;
        let mut auth_plugin_data = r.take(8, "auth plugin data")?.to_vec();
        r.skip(1, "filler")?;
        let mut capabilities = r.u16("capability flags")? as u32;
        // Servers older than 4.1 may end the packet here.
        if r.is_empty() {
            return Ok(HandshakeV10 {
                server_version,
                connection_id,
                auth_plugin_data,
                capabilities,
                mariadb_capabilities: 0,
                charset: 0,
                status_flags: 0,
                auth_plugin_name: String::new(),
            });
        }
        let charset = r.u8("character set")?;
        let status_flags = r.u16("status flags")?;
        capabilities |= (r.u16("capability flags upper")? as u32) << 16;
        let auth_data_len = r.u8("auth plugin data length")?;
        r.skip(6, "reserved")?;
        let extended = r.u32("MariaDB capabilities")?;
        let mariadb_capabilities = if capabilities & MARIADB_CLIENT_MYSQL == 0 { extended } else { 0 };
        if capabilities & CLIENT_SECURE_CONNECTION != 0 {
            let n = (auth_data_len as usize).saturating_sub(8).max(13);
            let part2 = r.take(n.min(r.remaining()), "auth plugin data part 2")?;
            // The second part is NUL-terminated; the NUL is not part of the nonce.
            let part2 = part2.strip_suffix(&[0]).unwrap_or(part2);
            auth_plugin_data.extend_from_slice(part2);
        }
        let auth_plugin_name = if capabilities & CLIENT_PLUGIN_AUTH != 0 {
            String::from_utf8_lossy(r.null_terminated_or_rest()).into_owned()
        } else {
            String::new()
        };
        Ok(HandshakeV10 {
            server_version,
            connection_id,
            auth_plugin_data,
            capabilities,
            mariadb_capabilities,
            charset,
            status_flags,
            auth_plugin_name,
        })
    }
}

/// The client's reply to the handshake (Protocol::HandshakeResponse41).
#[derive(Debug, Clone)]
pub struct HandshakeResponse41<'a> {
    pub capabilities: u32,
    pub max_packet_size: u32,
    pub collation: u8,
    pub username: &'a str,
    pub auth_response: &'a [u8],
    pub database: Option<&'a str>,
    pub auth_plugin_name: &'a str,
    pub connect_attrs: &'a [(&'a str, &'a str)],
    /// Sent last, as one byte, when `capabilities` has CLIENT_ZSTD_COMPRESSION_ALGORITHM.
    pub zstd_compression_level: u8,
    /// MariaDB's extended capabilities asked for (`MARIADB_CLIENT_*`), sent in the last 4 reserved
    /// bytes when `capabilities` lacks CLIENT_MYSQL (CLIENT_LONG_PASSWORD), as MariaDB reads them.
    pub mariadb_capabilities: u32,
}

impl HandshakeResponse41<'_> {
    /// Appends the packet to `out`. A field that cannot be written as it is (a NUL inside a
    /// NUL-terminated string, which the server would read as the end of the field and the rest as
    /// the next fields; an auth response too long for its one-byte length) is an error, and
    /// nothing is appended: the packet is never sent altered.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), ConnectionPhaseError> {
        nul_terminable("user name", self.username)?;
        if self.capabilities & CLIENT_CONNECT_WITH_DB != 0 {
            nul_terminable("database name", self.database.unwrap_or(""))?;
        }
        if self.capabilities & CLIENT_PLUGIN_AUTH != 0 {
            nul_terminable("authentication plugin name", self.auth_plugin_name)?;
        }
        let short_auth_len = match self.capabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA {
            0 => Some(u8::try_from(self.auth_response.len()).map_err(|_| {
                ConnectionPhaseError::Interface(
                    "the authentication response is longer than 255 bytes, and the server does not \
                     accept a longer one in the handshake"
                        .into(),
                )
            })?),
            _ => None,
        };
        out.extend_from_slice(&ssl_request(
            self.capabilities,
            self.mariadb_capabilities,
            self.max_packet_size,
            self.collation,
        ));
        put_nul_terminated(out, self.username);
        match short_auth_len {
            None => put_lenenc_bytes(out, self.auth_response),
            Some(len) => {
                out.push(len);
                out.extend_from_slice(self.auth_response);
            }
        }
        if self.capabilities & CLIENT_CONNECT_WITH_DB != 0 {
            put_nul_terminated(out, self.database.unwrap_or(""));
        }
        if self.capabilities & CLIENT_PLUGIN_AUTH != 0 {
            put_nul_terminated(out, self.auth_plugin_name);
        }
        if self.capabilities & CLIENT_CONNECT_ATTRS != 0 {
            let mut attrs = Vec::new();
            for (k, v) in self.connect_attrs {
                put_lenenc_bytes(&mut attrs, k.as_bytes());
                put_lenenc_bytes(&mut attrs, v.as_bytes());
            }
            put_lenenc_int(out, attrs.len() as u64);
            out.extend_from_slice(&attrs);
        }
        if self.capabilities & CLIENT_ZSTD_COMPRESSION_ALGORITHM != 0 {
            out.push(self.zstd_compression_level);
        }
        Ok(())
    }
}

/// Refuses a NUL inside a string the packet carries NUL-terminated, naming the field only (a user
/// name or database may be a secret's neighbour in a connection string).
fn nul_terminable(field: &str, value: &str) -> Result<(), ConnectionPhaseError> {
    if value.contains('\0') {
        return Err(ConnectionPhaseError::Caller(format!(
            "the {field} contains a NUL byte, which cannot be sent in the handshake"
        )));
    }
    Ok(())
}

/// Appends `value` and its terminating NUL; `value` was checked by [`nul_terminable`].
fn put_nul_terminated(out: &mut Vec<u8>, value: &str) {
    out.extend_from_slice(value.as_bytes());
    out.push(0);
}

/// The SSLRequest packet: the first 32 bytes of HandshakeResponse41, sent before TLS starts.
/// MariaDB's extended capabilities go in its last 4 bytes when the client does not claim
/// CLIENT_MYSQL (CLIENT_LONG_PASSWORD); otherwise those bytes are reserved zeros.
pub fn ssl_request(capabilities: u32, mariadb_capabilities: u32, max_packet_size: u32, collation: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    out.extend_from_slice(&capabilities.to_le_bytes());
    out.extend_from_slice(&max_packet_size.to_le_bytes());
    out.push(collation);
    out.extend_from_slice(&[0u8; 19]);
    let extended = if capabilities & MARIADB_CLIENT_MYSQL == 0 { mariadb_capabilities } else { 0 };
    out.extend_from_slice(&extended.to_le_bytes());
    out
}

/// The server's first packet: the Initial Handshake Packet, or an ERR_Packet when it refuses
/// the client before the handshake (too many connections, a blocked host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    /// The Initial Handshake Packet: the connection goes on.
    Handshake(HandshakeV10),
    /// The server refuses the client.
    Err(ErrPacket),
}

impl Greeting {
    /// Parses the server's first packet.
    pub fn parse(payload: &[u8]) -> Result<Greeting, ProtocolError> {
        match payload.first() {
            Some(0xFF) => Ok(Greeting::Err(ErrPacket::parse(payload)?)),
            _ => Ok(Greeting::Handshake(HandshakeV10::parse(payload)?)),
        }
    }
}

/// What the server sends while authenticating: after HandshakeResponse41, and after each
/// reply of the client's authentication plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthResponse<'a> {
    /// Authentication succeeded.
    Ok(OkPacket),
    /// Authentication failed.
    Err(ErrPacket),
    /// AuthSwitchRequest: go on with another plugin, starting from its own nonce (each plugin
    /// trims the nonce's trailing NUL itself).
    AuthSwitchRequest {
        /// The plugin to go on with.
        plugin_name: String,
        /// Its nonce, as the server sent it.
        plugin_data: &'a [u8],
    },
    /// The pre-4.1 switch to mysql_old_password: a bare 0xFE.
    OldAuthSwitchRequest,
    /// AuthMoreData: the plugin's exchange goes on with these bytes.
    AuthMoreData(&'a [u8]),
}

impl<'a> AuthResponse<'a> {
    /// Parses a packet of the authentication exchange; `capabilities` are those agreed.
    pub fn parse(payload: &'a [u8], capabilities: u32) -> Result<AuthResponse<'a>, ProtocolError> {
        match payload.split_first() {
            None => Err(ProtocolError::Truncated("authentication result")),
            Some((0x00, _)) => Ok(AuthResponse::Ok(OkPacket::parse(payload, capabilities)?)),
            Some((0xFF, _)) => Ok(AuthResponse::Err(ErrPacket::parse(payload)?)),
            Some((0xFE, [])) => Ok(AuthResponse::OldAuthSwitchRequest),
            Some((0xFE, body)) => {
                let mut r = Reader::new(body);
                let plugin_name = String::from_utf8_lossy(r.null_terminated_or_rest()).into_owned();
                Ok(AuthResponse::AuthSwitchRequest { plugin_name, plugin_data: r.rest() })
            }
            // MariaDB servers from before MDEV-37554 prefix plugin data with 0x01 only when its
            // first byte could be mistaken for another packet, so any other first byte is plugin
            // data too (parsec's ext-salt starts with 'P').
            Some((0x01, data)) => Ok(AuthResponse::AuthMoreData(data)),
            Some(_) => Ok(AuthResponse::AuthMoreData(payload)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::protocol::constants::mariadb_capability::MARIADB_CLIENT_STMT_BULK_OPERATIONS;

    /// The handshake of Debian's MariaDB 10.11.19 (captured on loopback; server charset latin1).
    pub const MARIADB_HANDSHAKE: &[u8] = b"\x0a5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x03\x00\x00\x00\
^MFXes6P\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00\
mWKP3MiGgREA\x00mysql_native_password\x00";

    #[test]
    fn parses_mariadb_handshake() {
        let h = HandshakeV10::parse(MARIADB_HANDSHAKE).unwrap();
        assert_eq!(h.server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
        assert_eq!(h.connection_id, 3);
        assert_eq!(h.auth_plugin_data, b"^MFXes6PmWKP3MiGgREA");
        assert_eq!(h.auth_plugin_name, "mysql_native_password");
        assert_ne!(h.capabilities & CLIENT_PROTOCOL_41, 0);
        assert_ne!(h.capabilities & CLIENT_DEPRECATE_EOF, 0);
        assert_eq!(h.capabilities & CLIENT_LONG_PASSWORD, 0);
        assert_eq!(h.mariadb_capabilities, 0x1d);
        assert_eq!(h.charset, 8);
        assert_eq!(h.status_flags, 2);
    }

    #[test]
    fn every_truncation_is_an_error_or_a_shorter_handshake() {
        for n in 0..MARIADB_HANDSHAKE.len() {
            // Must not panic; truncated handshakes are errors unless they end where an old server's would.
            let _ = HandshakeV10::parse(&MARIADB_HANDSHAKE[..n]);
        }
        assert!(HandshakeV10::parse(&MARIADB_HANDSHAKE[..20]).is_err());
        assert_eq!(HandshakeV10::parse(b"\x09abc\x00"), Err(ProtocolError::UnsupportedProtocolVersion(9)));
    }

    #[test]
    fn response_layout() {
        let caps = CLIENT_PROTOCOL_41
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH
            | CLIENT_CONNECT_WITH_DB
            | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
        let resp = HandshakeResponse41 {
            capabilities: caps,
            max_packet_size: 1 << 24,
            collation: 45,
            username: "root",
            auth_response: &[1, 2, 3],
            database: Some("test"),
            auth_plugin_name: "mysql_native_password",
            connect_attrs: &[],
            zstd_compression_level: 0,
            mariadb_capabilities: MARIADB_CLIENT_STMT_BULK_OPERATIONS,
        };
        let mut out = Vec::new();
        resp.write(&mut out).unwrap();
        assert_eq!(&out[..4], &caps.to_le_bytes());
        assert_eq!(out[8], 45);
        // Without CLIENT_MYSQL (CLIENT_LONG_PASSWORD) MariaDB reads its extended flags at 28..32.
        assert_eq!(&out[9..28], &[0; 19]);
        assert_eq!(&out[28..32], b"\x04\x00\x00\x00");
        assert_eq!(&out[32..37], b"root\x00");
        assert_eq!(&out[37..41], &[3, 1, 2, 3]);
        assert_eq!(&out[41..46], b"test\x00");
        assert_eq!(&out[46..], b"mysql_native_password\x00");
    }

    #[test]
    fn extended_capabilities_only_without_client_mysql() {
        let bulk = MARIADB_CLIENT_STMT_BULK_OPERATIONS;
        assert_eq!(&ssl_request(CLIENT_PROTOCOL_41, bulk, 1 << 24, 45)[28..], b"\x04\x00\x00\x00");
        // A client claiming CLIENT_MYSQL speaks to MySQL: the bytes stay reserved zeros.
        let mysql = ssl_request(CLIENT_PROTOCOL_41 | CLIENT_LONG_PASSWORD, bulk, 1 << 24, 45);
        assert_eq!(mysql.len(), 32);
        assert_eq!(&mysql[9..], &[0; 23]);
    }

    #[test]
    fn zstd_level_follows_the_connect_attributes() {
        let caps = CLIENT_PROTOCOL_41
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH
            | CLIENT_CONNECT_ATTRS
            | CLIENT_ZSTD_COMPRESSION_ALGORITHM;
        let mut resp = HandshakeResponse41 {
            capabilities: caps,
            max_packet_size: 1 << 24,
            collation: 45,
            username: "u",
            auth_response: &[],
            database: None,
            auth_plugin_name: "p",
            connect_attrs: &[("k", "v")],
            zstd_compression_level: 7,
            mariadb_capabilities: 0,
        };
        let mut out = Vec::new();
        resp.write(&mut out).unwrap();
        assert_eq!(&out[32..], b"u\x00\x00p\x00\x04\x01k\x01v\x07");
        // Without the capability the byte is not sent, whatever the level.
        resp.capabilities &= !CLIENT_ZSTD_COMPRESSION_ALGORITHM;
        out.clear();
        resp.write(&mut out).unwrap();
        assert_eq!(&out[32..], b"u\x00\x00p\x00\x04\x01k\x01v");
    }

    fn response<'a>(username: &'a str, database: Option<&'a str>, plugin: &'a str) -> HandshakeResponse41<'a> {
        HandshakeResponse41 {
            capabilities: CLIENT_PROTOCOL_41
                | CLIENT_SECURE_CONNECTION
                | CLIENT_PLUGIN_AUTH
                | CLIENT_CONNECT_WITH_DB
                | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
            max_packet_size: 1 << 24,
            collation: 45,
            username,
            auth_response: b"AAAAA",
            database,
            auth_plugin_name: plugin,
            connect_attrs: &[],
            zstd_compression_level: 0,
            mariadb_capabilities: 0,
        }
    }

    #[test]
    fn a_nul_inside_a_nul_terminated_field_is_refused_and_nothing_written() {
        // The user name of mysql://root%00%05AAAAAevil_db%00evil_plugin@host/realdb, which would
        // otherwise be read as user root, auth response AAAAA, database evil_db, plugin evil_plugin.
        let injected = "root\x00\x05AAAAAevil_db\x00evil_plugin";
        let cases = [
            (response(injected, Some("realdb"), "mysql_native_password"), "user name"),
            (response("root\x00\x00", None, "mysql_native_password"), "user name"),
            (response("root", Some("real\x00db"), "mysql_native_password"), "database name"),
            (response("root", Some("realdb"), "evil\x00plugin"), "authentication plugin name"),
        ];
        for (resp, field) in cases {
            let mut out = b"kept".to_vec();
            match resp.write(&mut out) {
                Err(ConnectionPhaseError::Caller(m)) => assert!(m.contains(field) && !m.contains("root"), "{m}"),
                other => panic!("{field}: {other:?}"),
            }
            assert_eq!(out, b"kept", "{field}: nothing appended");
        }
        // Without CLIENT_CONNECT_WITH_DB the database is not sent, so it is not checked either.
        let mut resp = response("root", Some("real\x00db"), "mysql_native_password");
        resp.capabilities &= !CLIENT_CONNECT_WITH_DB;
        let mut out = Vec::new();
        resp.write(&mut out).unwrap();
        assert_eq!(&out[32..], b"root\x00\x05AAAAAmysql_native_password\x00");
    }

    #[test]
    fn a_long_auth_response_without_lenenc_is_refused_not_cut() {
        let long = [7u8; 256];
        let mut resp = response("u", None, "p");
        resp.capabilities &= !(CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_CONNECT_WITH_DB);
        resp.auth_response = &long[..255];
        let mut out = Vec::new();
        resp.write(&mut out).unwrap();
        assert_eq!(out.len(), 32 + 2 + 1 + 255 + 2);
        assert_eq!(out[34], 255);
        resp.auth_response = &long;
        let mut out = Vec::new();
        assert!(matches!(resp.write(&mut out), Err(ConnectionPhaseError::Interface(_))));
        assert!(out.is_empty());
    }

    /// Debian's MariaDB 10.11.19, captured on loopback: the AuthSwitchRequest sent to a client that
    /// answered with mysql_native_password for a user IDENTIFIED VIA ed25519 (32-byte nonce).
    const MARIADB_SWITCH_TO_ED25519: &[u8] = b"\xfeclient_ed25519\x00\x838\xea!&\xf3\xbe\xa7\xd7]\xc2\x03\xcbzLw}4\x0cH\xff\xc60\x94\xa5b\xad\x0b\xa0\x90$\x9a";
    /// The same server: the OK after a successful login, and the ERR after a wrong password.
    const MARIADB_AUTH_OK: &[u8] = b"\x00\x00\x00\x02\x00\x00\x00";
    const MARIADB_ACCESS_DENIED: &[u8] =
        b"\xff\x15\x04#28000Access denied for user 'nat'@'localhost' (using password: YES)";

    #[test]
    fn a_greeting_is_a_handshake_or_a_refusal() {
        let Ok(Greeting::Handshake(h)) = Greeting::parse(MARIADB_HANDSHAKE) else { panic!("not a handshake") };
        assert_eq!(h, HandshakeV10::parse(MARIADB_HANDSHAKE).unwrap());
        // An ERR before the handshake carries no SQLSTATE.
        let refused = Greeting::parse(b"\xff\x10\x04Too many connections");
        let err = ErrPacket { code: 1040, sqlstate: "HY000".into(), message: "Too many connections".into() };
        assert_eq!(refused, Ok(Greeting::Err(err)));
        assert!(Greeting::parse(b"\xff\x10").is_err());
        assert!(Greeting::parse(b"").is_err());
    }

    #[test]
    fn authentication_results_of_each_kind() {
        let caps = CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK;
        let parse = |p| AuthResponse::parse(p, caps);
        assert_eq!(parse(MARIADB_AUTH_OK), Ok(AuthResponse::Ok(OkPacket { status_flags: 2, ..OkPacket::default() })));
        let denied = ErrPacket {
            code: 1045,
            sqlstate: "28000".into(),
            message: "Access denied for user 'nat'@'localhost' (using password: YES)".into(),
        };
        assert_eq!(parse(MARIADB_ACCESS_DENIED), Ok(AuthResponse::Err(denied)));
        assert_eq!(
            parse(MARIADB_SWITCH_TO_ED25519),
            Ok(AuthResponse::AuthSwitchRequest {
                plugin_name: "client_ed25519".into(),
                plugin_data: &MARIADB_SWITCH_TO_ED25519[16..],
            })
        );
        assert_eq!(parse(b"\xfe"), Ok(AuthResponse::OldAuthSwitchRequest));
        // caching_sha2_password's fast-auth result (MySQL 8): AuthMoreData with its 0x01 prefix.
        assert_eq!(parse(b"\x01\x03"), Ok(AuthResponse::AuthMoreData(b"\x03")));
        // MariaDB's parsec ext-salt before MDEV-37554 has no prefix: the whole packet is plugin data.
        assert_eq!(parse(b"P\x12salt"), Ok(AuthResponse::AuthMoreData(b"P\x12salt")));
        assert_eq!(parse(b""), Err(ProtocolError::Truncated("authentication result")));
        assert!(parse(b"\x00\x00").is_err(), "a truncated OK_Packet");
    }
}
