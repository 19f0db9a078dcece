//! Authentication plugins. MariaDB's own (mysql_native_password, client_ed25519) against the real
//! server; MySQL 8's (caching_sha2_password, sha256_password, mysql_clear_password) and MariaDB
//! 11.6's parsec, which the local MariaDB cannot produce, against scripted peers that play the server byte for byte, over plain TCP or
//! inside TLS (rustls as the server), and check exactly what the client wrote, with the expected
//! values computed here, independently of the client. mysql_clear_password against the real server
//! is in tests/tls.rs, next to the TLS MariaDB.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::pki::pki;
use common::*;
use host_test::driver::{ConnectOptions, ErrorKind, Session, SslOptions, Value};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha1::Sha1;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// client_ed25519 against the real MariaDB. Its default plugin is mysql_native_password, so every
// login of an ed25519 user goes through an AuthSwitchRequest.

/// Installs auth_ed25519 and creates the test users, once per test binary.
fn ed25519_users() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let installed = server()
            .admin_sql("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519'")
            .unwrap();
        if installed.trim() == "0" {
            if let Err(e) = server().admin_sql("INSTALL SONAME 'auth_ed25519'") {
                assert!(format!("{e:#}").contains("already installed"), "{e:#}");
            }
        }
        server()
            .admin_sql(
                "CREATE OR REPLACE USER 'ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('secret'); \
                 CREATE OR REPLACE USER 'ed_empty'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD(''); \
                 CREATE OR REPLACE USER 'ed_utf8'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('pässwörd ✓'); \
                 GRANT ALL ON test.* TO 'ed'@'127.0.0.1', 'ed_empty'@'127.0.0.1', 'ed_utf8'@'127.0.0.1'",
            )
            .unwrap();
    });
}

fn options_for(s: &mut Session, user: &str, passwd: &str) -> ConnectOptions {
    let mut o = options(s);
    o.user = user.into();
    o.passwd = passwd.into();
    o
}

#[test]
fn ed25519_user_connects_through_auth_switch() {
    ed25519_users();
    let mut s = session();
    let o = options_for(&mut s, "ed", "secret");
    // Nonces are random: a few logins cover nonces ending in any byte, NUL included.
    for _ in 0..5 {
        let c = s.connect(&o).unwrap().expect("ed25519 login");
        assert_eq!(scalar(&mut s, c, "SELECT CURRENT_USER()"), text("ed@127.0.0.1"));
        s.close(c).unwrap().unwrap();
    }
}

#[test]
fn ed25519_wrong_password_is_1045() {
    ed25519_users();
    let mut s = session();
    for passwd in ["Secret", "", "secret "] {
        let o = options_for(&mut s, "ed", passwd);
        let e = s.connect(&o).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Operational, Some(1045));
    }
}

#[test]
fn ed25519_empty_password_user_is_refused_like_mariadbs_own_client() {
    // MariaDB 10.11 stores no key for ed25519 USING PASSWORD(''), and refuses every login to such
    // a user, its own command-line client included: the signature is sent and rejected cleanly.
    ed25519_users();
    let mut s = session();
    for passwd in ["", "secret"] {
        let o = options_for(&mut s, "ed_empty", passwd);
        let e = s.connect(&o).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Operational, Some(1045));
    }
}

#[test]
fn ed25519_non_ascii_password() {
    ed25519_users();
    let mut s = session();
    let o = options_for(&mut s, "ed_utf8", "pässwörd ✓");
    let c = s.connect(&o).unwrap().expect("ed25519 login with a UTF-8 password");
    assert_eq!(scalar(&mut s, c, "SELECT CURRENT_USER()"), text("ed_utf8@127.0.0.1"));
    let o = options_for(&mut s, "ed_utf8", "passwoerd ✓");
    assert_kind(&s.connect(&o).unwrap().unwrap_err(), ErrorKind::Operational, Some(1045));
}

#[test]
fn native_password_still_works_alongside() {
    let mut s = session();
    let c = connect(&mut s);
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
}

// ---------------------------------------------------------------------------------------------
// Scripted peers.

const NONCE: &[u8; 20] = b"\x3d\x4f\x11\x7a\x22\x5e\x63\x05\x7f\x2b\x48\x19\x6c\x0e\x54\x31\x2a\x77\x09\x66";
const NONCE2: &[u8; 20] = b"Zk8#q1@vN7$wL2!pR5^x";

const CLIENT_CONNECT_WITH_DB: u32 = 1 << 3;

/// A MySQL 8.0 Initial Handshake Packet announcing `plugin`, with NONCE.
fn mysql8_handshake(plugin: &str) -> Vec<u8> {
    // Capabilities as MySQL 8.0 sends them (CLIENT_LONG_PASSWORD set: no MariaDB extensions).
    handshake_with_capabilities(plugin, 0xdfff_ffff)
}

fn handshake_with_capabilities(plugin: &str, caps: u32) -> Vec<u8> {
    let mut h = vec![10];
    h.extend_from_slice(b"8.0.36\0");
    h.extend_from_slice(&7u32.to_le_bytes());
    h.extend_from_slice(&NONCE[..8]);
    h.push(0);
    h.extend_from_slice(&(caps as u16).to_le_bytes());
    h.push(255); // utf8mb4_0900_ai_ci
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    h.push(21);
    h.extend_from_slice(&[0; 10]);
    h.extend_from_slice(&NONCE[8..]);
    h.push(0);
    h.extend_from_slice(plugin.as_bytes());
    h.push(0);
    h
}

/// AuthSwitchRequest to `plugin` with `nonce`, NUL-terminated as MySQL sends it.
fn auth_switch(plugin: &str, nonce: &[u8]) -> Vec<u8> {
    let mut p = vec![0xfe];
    p.extend_from_slice(plugin.as_bytes());
    p.push(0);
    p.extend_from_slice(nonce);
    p.push(0);
    p
}

fn more_data(data: &[u8]) -> Vec<u8> {
    let mut p = vec![0x01];
    p.extend_from_slice(data);
    p
}

/// OK_Packet with autocommit off, so that connecting needs no further statement.
const OK: &[u8] = b"\x00\x00\x00\x00\x00\x00\x00";
const ACCESS_DENIED: &[u8] = b"\xff\x15\x04#28000Access denied for user 'u'@'localhost' (using password: YES)";

/// A byte stream the peer speaks over: the TCP stream, then TLS over it.
trait Wire: Read + Write + Send {}

impl<T: Read + Write + Send> Wire for T {}

/// The server side of one connection.
struct Peer {
    stream: Box<dyn Wire>,
}

impl Peer {
    /// After the client's SSLRequest: the rest of the exchange runs inside TLS, this side the server.
    fn start_tls(&mut self) {
        let plain = std::mem::replace(&mut self.stream, Box::new(std::io::Cursor::new(Vec::new())));
        let session = rustls::ServerConnection::new(tls_server_config()).unwrap();
        self.stream = Box::new(rustls::StreamOwned::new(session, plain));
    }

    fn send(&mut self, seq: u8, payload: &[u8]) {
        self.stream.write_all(&packet(seq, payload)).unwrap();
    }

    /// The next packet from the client: (sequence id, payload); None at EOF.
    fn recv(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).ok()?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        let mut payload = vec![0; len];
        self.stream.read_exact(&mut payload).ok()?;
        Some((header[3], payload))
    }

    fn expect(&mut self, seq: u8) -> Vec<u8> {
        let (got, payload) = self.recv().expect("a packet from the client");
        assert_eq!(got, seq, "sequence id of {payload:?}");
        payload
    }

    /// Answers every command with OK until the client quits or goes away.
    fn serve_until_quit(&mut self) {
        while let Some((_, payload)) = self.recv() {
            if payload.first() == Some(&0x01) {
                return;
            }
            self.send(1, OK);
        }
    }

    /// Everything the client still sends before it closes the connection.
    fn drain(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        let _ = self.stream.read_to_end(&mut rest);
        rest
    }
}

/// Starts a scripted server; the script's result comes back through the handle.
fn scripted<T: Send + 'static>(script: impl FnOnce(&mut Peer) -> T + Send + 'static) -> (u16, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        script(&mut Peer { stream: Box::new(stream) })
    });
    (port, handle)
}

fn scripted_options(s: &mut Session, port: u16, user: &str, passwd: &str) -> ConnectOptions {
    let mut o = options_for(s, user, passwd);
    o.port = port;
    o.db = None;
    o.connect_timeout = Some(10.0);
    o
}

/// The fields of a HandshakeResponse41 an auth test cares about.
struct Response {
    user: String,
    auth: Vec<u8>,
    plugin: String,
}

fn parse_response(p: &[u8]) -> Response {
    let caps = u32::from_le_bytes(p[..4].try_into().unwrap());
    let mut rest = &p[32..];
    let nul = |r: &[u8]| r.iter().position(|&b| b == 0).unwrap();
    let n = nul(rest);
    let user = String::from_utf8(rest[..n].to_vec()).unwrap();
    rest = &rest[n + 1..];
    // The client asks for CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA, which MySQL 8 grants: the length is
    // one byte below 251, 0xfc and two bytes above (a 2048-bit RSA block is 256 bytes).
    let (len, skip) = match rest[0] {
        0xfc => (u16::from_le_bytes([rest[1], rest[2]]) as usize, 3),
        n => (n as usize, 1),
    };
    let auth = rest[skip..skip + len].to_vec();
    rest = &rest[skip + len..];
    if caps & CLIENT_CONNECT_WITH_DB != 0 {
        rest = &rest[nul(rest) + 1..];
    }
    let plugin = String::from_utf8(rest[..nul(rest)].to_vec()).unwrap();
    Response { user, auth, plugin }
}

/// caching_sha2_password's scramble, computed here from its definition.
fn sha256_scramble(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    let p1 = Sha256::digest(password);
    let p2 = Sha256::digest(p1);
    let mut h = Sha256::new();
    h.update(p2);
    h.update(nonce);
    p1.iter().zip(h.finalize().iter()).map(|(a, b)| a ^ b).collect()
}

/// A 2048-bit RSA key pair made by `openssl`, once per test binary: (private key file, public PEM).
fn rsa_key() -> &'static (PathBuf, Vec<u8>) {
    static KEY: OnceLock<(PathBuf, Vec<u8>)> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cymysql-wasi-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let private = dir.join("private.pem");
        let made = Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"])
            .arg(&private)
            .output()
            .expect("openssl is installed");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let public = Command::new("openssl").args(["pkey", "-pubout", "-in"]).arg(&private).output().unwrap();
        assert!(public.status.success());
        (private, public.stdout)
    })
}

/// Decrypts what the client sent with the private key: RSA-OAEP with SHA-1, as MySQL does.
fn rsa_decrypt(sealed: &[u8]) -> Vec<u8> {
    let (private, _) = rsa_key();
    let input = private.with_extension(format!("{}.bin", rand_suffix()));
    std::fs::write(&input, sealed).unwrap();
    let out = Command::new("openssl")
        .args(["pkeyutl", "-decrypt", "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1", "-inkey"])
        .arg(private)
        .arg("-in")
        .arg(&input)
        .output()
        .unwrap();
    std::fs::remove_file(&input).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// (password + NUL) XOR nonce, cycling through the nonce.
fn xor_password(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    password.iter().chain([0u8].iter()).zip(nonce.iter().cycle()).map(|(p, n)| p ^ n).collect()
}

#[test]
fn scripted_caching_sha2_fast_auth() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, &more_data(&[0x03]));
        p.send(3, OK);
        p.serve_until_quit();
        response
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "secret");
    let c = s.connect(&o).unwrap().expect("fast auth");
    s.close(c).unwrap().unwrap();
    let r = peer.join().unwrap();
    assert_eq!(r.user, "u");
    assert_eq!(r.plugin, "caching_sha2_password");
    assert_eq!(r.auth, sha256_scramble(b"secret", NONCE));
}

#[test]
fn scripted_caching_sha2_empty_password_sends_nothing() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, OK);
        p.serve_until_quit();
        response
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "");
    let c = s.connect(&o).unwrap().expect("empty password");
    s.close(c).unwrap().unwrap();
    let r = peer.join().unwrap();
    assert_eq!(r.plugin, "caching_sha2_password");
    assert_eq!(r.auth, b"");
}

#[test]
fn scripted_caching_sha2_full_auth_with_rsa() {
    let public = rsa_key().1.clone();
    let (port, peer) = scripted(move |p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, &more_data(&[0x04]));
        let request = p.expect(3);
        p.send(4, &more_data(&public));
        let sealed = p.expect(5);
        p.send(6, OK);
        p.serve_until_quit();
        (response, request, sealed)
    });
    let mut s = session();
    let mut o = scripted_options(&mut s, port, "u", "secret");
    o.get_server_public_key = true;
    let c = s.connect(&o).unwrap().expect("full auth");
    s.close(c).unwrap().unwrap();
    let (r, request, sealed) = peer.join().unwrap();
    assert_eq!(r.auth, sha256_scramble(b"secret", NONCE));
    assert_eq!(request, [0x02], "request for the public key");
    assert_eq!(sealed.len(), 256);
    assert_eq!(rsa_decrypt(&sealed), xor_password(b"secret", NONCE));
}

#[test]
fn scripted_caching_sha2_full_auth_wrong_password_is_1045() {
    let public = rsa_key().1.clone();
    let (port, peer) = scripted(move |p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        p.expect(1);
        p.send(2, &more_data(&[0x04]));
        p.expect(3);
        p.send(4, &more_data(&public));
        p.expect(5);
        p.send(6, ACCESS_DENIED);
    });
    let mut s = session();
    let mut o = scripted_options(&mut s, port, "u", "wrong");
    o.get_server_public_key = true;
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(1045));
    assert_eq!(e.sqlstate.as_deref(), Some("28000"));
    peer.join().unwrap();
}

#[test]
fn scripted_caching_sha2_after_switch_from_native() {
    // A MySQL 8 server whose default is native_password switches a caching_sha2 user.
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, &auth_switch("caching_sha2_password", NONCE2));
        let scramble = p.expect(3);
        p.send(4, &more_data(&[0x03]));
        p.send(5, OK);
        p.serve_until_quit();
        (response, scramble)
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "secret");
    let c = s.connect(&o).unwrap().expect("switch to caching_sha2_password");
    s.close(c).unwrap().unwrap();
    let (r, scramble) = peer.join().unwrap();
    assert_eq!(r.plugin, "mysql_native_password");
    assert_eq!(r.auth.len(), 20);
    assert_eq!(scramble, sha256_scramble(b"secret", NONCE2), "the switch's nonce, without its NUL");
}

/// mysql_native_password's scramble, computed here from its definition.
fn sha1_scramble(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    let p1 = Sha1::digest(password);
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(Sha1::digest(p1));
    p1.iter().zip(h.finalize().iter()).map(|(a, b)| a ^ b).collect()
}

#[test]
fn scripted_mysql8_default_caching_sha2_switches_to_native() {
    // MySQL 8's usual case: the handshake names caching_sha2_password, the user has native_password.
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, &auth_switch("mysql_native_password", NONCE2));
        let scramble = p.expect(3);
        p.send(4, OK);
        p.serve_until_quit();
        (response, scramble)
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "secret");
    let c = s.connect(&o).unwrap().expect("switch to mysql_native_password");
    s.close(c).unwrap().unwrap();
    let (r, scramble) = peer.join().unwrap();
    assert_eq!(r.plugin, "caching_sha2_password");
    assert_eq!(r.auth, sha256_scramble(b"secret", NONCE));
    assert_eq!(scramble, sha1_scramble(b"secret", NONCE2));
}

#[test]
fn scripted_caching_sha2_bad_public_key_is_an_error() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        p.expect(1);
        p.send(2, &more_data(&[0x04]));
        p.expect(3);
        p.send(4, &more_data(b"-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n"));
        p.drain()
    });
    let mut s = session();
    let mut o = scripted_options(&mut s, port, "u", "secret");
    o.get_server_public_key = true;
    let e = s.connect(&o).expect("a bad key must not trap the component").unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(2027));
    assert_eq!(peer.join().unwrap(), b"", "nothing sent after a bad key");
}

#[test]
fn scripted_caching_sha2_unexpected_more_data_is_an_error() {
    for reply in [&[0x05][..], &[], &[0x03, 0x03]] {
        let reply = reply.to_vec();
        let (port, peer) = scripted(move |p| {
            p.send(0, &mysql8_handshake("caching_sha2_password"));
            p.expect(1);
            p.send(2, &more_data(&reply));
            p.drain();
        });
        let mut s = session();
        let o = scripted_options(&mut s, port, "u", "secret");
        let e = s.connect(&o).expect("no trap").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Operational, "{e:?}");
        peer.join().unwrap();
    }
}

#[test]
fn scripted_sha256_password_with_rsa() {
    let public = rsa_key().1.clone();
    let (port, peer) = scripted(move |p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        p.expect(1);
        p.send(2, &auth_switch("sha256_password", NONCE2));
        let request = p.expect(3);
        p.send(4, &more_data(&public));
        let sealed = p.expect(5);
        p.send(6, OK);
        p.serve_until_quit();
        (request, sealed)
    });
    let mut s = session();
    let mut o = scripted_options(&mut s, port, "u", "pässwörd");
    o.get_server_public_key = true;
    let c = s.connect(&o).unwrap().expect("sha256_password");
    s.close(c).unwrap().unwrap();
    let (request, sealed) = peer.join().unwrap();
    assert_eq!(request, [0x01], "request for the public key");
    assert_eq!(rsa_decrypt(&sealed), xor_password("pässwörd".as_bytes(), NONCE2));
}

#[test]
fn scripted_caching_sha2_full_auth_without_get_server_public_key_asks_nothing() {
    // MySQL's own client refuses the same way: over plain TCP, without a key from the caller, the
    // server's key would be trusted blindly, so neither a 0x02 request nor the password goes out.
    for url_flag in [None, Some("false")] {
        let (port, peer) = scripted(|p| {
            p.send(0, &mysql8_handshake("caching_sha2_password"));
            let response = parse_response(&p.expect(1));
            p.send(2, &more_data(&[0x04]));
            (response, p.drain())
        });
        let mut s = session();
        let mut o = scripted_options(&mut s, port, "u", "secret");
        if let Some(flag) = url_flag {
            let url = format!("mysql://u:secret@127.0.0.1:{port}/?get_server_public_key={flag}");
            o = s.options_from_url(&url).unwrap().unwrap();
        }
        assert!(!o.get_server_public_key, "off by default");
        let e = s.connect(&o).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::NotSupported, None);
        assert!(e.message.contains("get_server_public_key") && e.message.contains("caching_sha2_password"), "{e:?}");
        let (r, rest) = peer.join().unwrap();
        assert_eq!(r.auth, sha256_scramble(b"secret", NONCE), "the scramble itself goes as usual");
        assert_eq!(rest, b"", "nothing after the request for full authentication");
    }
}

#[test]
fn scripted_caching_sha2_get_server_public_key_from_the_url() {
    let public = rsa_key().1.clone();
    let (port, peer) = scripted(move |p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        p.expect(1);
        p.send(2, &more_data(&[0x04]));
        let request = p.expect(3);
        p.send(4, &more_data(&public));
        let sealed = p.expect(5);
        p.send(6, OK);
        p.serve_until_quit();
        (request, sealed)
    });
    let mut s = session();
    let url = format!("mysql://u:secret@127.0.0.1:{port}/?get_server_public_key=true");
    let o = s.options_from_url(&url).unwrap().unwrap();
    assert!(o.get_server_public_key);
    let c = s.connect(&o).unwrap().expect("full auth with the server's key");
    s.close(c).unwrap().unwrap();
    let (request, sealed) = peer.join().unwrap();
    assert_eq!(request, [0x02]);
    assert_eq!(rsa_decrypt(&sealed), xor_password(b"secret", NONCE));
}

#[test]
fn scripted_sha256_password_without_get_server_public_key_asks_nothing() {
    // After an AuthSwitchRequest: no 0x01 request, nothing at all.
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        p.expect(1);
        p.send(2, &auth_switch("sha256_password", NONCE2));
        p.drain()
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "secret");
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, None);
    assert!(e.message.contains("get_server_public_key") && e.message.contains("sha256_password"), "{e:?}");
    assert_eq!(peer.join().unwrap(), b"", "no request for the key after the switch");

    // As the handshake's plugin: the response is native_password's (a user of that plugin still
    // logs in), not the request; the server's switch back to sha256_password is then refused.
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("sha256_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, &auth_switch("sha256_password", NONCE2));
        (response, p.drain())
    });
    let o = scripted_options(&mut s, port, "u", "secret");
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::NotSupported, None);
    let (r, rest) = peer.join().unwrap();
    assert_eq!(r.plugin, "mysql_native_password");
    assert_eq!(r.auth, sha1_scramble(b"secret", NONCE));
    assert_eq!(rest, b"");
}

#[test]
fn scripted_clear_password_with_a_nul_is_refused_and_not_sent() {
    // mysql_clear_password sends the password NUL-terminated: a NUL inside would cut it short.
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, &auth_switch("mysql_clear_password", b""));
        (response, p.drain())
    });
    let mut s = session();
    let mut o = scripted_options(&mut s, port, "u", "Sekrit\0pw-42");
    o.allow_cleartext_password = true;
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    assert!(e.message.contains("NUL") && !e.message.contains("Sekrit"), "{e:?}");
    let (r, rest) = peer.join().unwrap();
    // native_password hashes the password, NUL and all.
    assert_eq!(r.auth, sha1_scramble(b"Sekrit\0pw-42", NONCE));
    assert_eq!(rest, b"", "the password was not sent");
}

#[test]
fn scripted_sha256_password_empty_password_is_a_nul() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        p.expect(1);
        p.send(2, &auth_switch("sha256_password", NONCE2));
        let reply = p.expect(3);
        p.send(4, OK);
        p.serve_until_quit();
        reply
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "");
    let c = s.connect(&o).unwrap().expect("sha256_password, empty password");
    s.close(c).unwrap().unwrap();
    assert_eq!(peer.join().unwrap(), [0x00]);
}

#[test]
fn scripted_clear_password_switch_is_refused() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        p.expect(1);
        p.send(2, &auth_switch("mysql_clear_password", b""));
        p.drain()
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "Sekrit-pw-42");
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotSupported, "{e:?}");
    assert!(e.message.contains("mysql_clear_password"), "{e:?}");
    let rest = peer.join().unwrap();
    assert!(!rest.windows(12).any(|w| w == b"Sekrit-pw-42"), "password sent in clear: {rest:?}");
}

#[test]
fn scripted_clear_password_allowed_without_tls_when_the_caller_says_so() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        p.expect(1);
        p.send(2, &auth_switch("mysql_clear_password", b""));
        let reply = p.expect(3);
        p.send(4, OK);
        p.serve_until_quit();
        reply
    });
    let mut s = session();
    let mut o = scripted_options(&mut s, port, "u", "pässwörd");
    o.allow_cleartext_password = true;
    let c = s.connect(&o).unwrap().expect("clear text allowed");
    s.close(c).unwrap().unwrap();
    assert_eq!(peer.join().unwrap(), "pässwörd\0".as_bytes());
}

#[test]
fn scripted_clear_password_as_the_handshakes_plugin() {
    // A server whose default plugin is mysql_clear_password: refused, the client answers with
    // native_password, and the server's switch back is refused too; allowed, the password goes first.
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_clear_password"));
        let refused = parse_response(&p.expect(1));
        p.send(2, &auth_switch("mysql_clear_password", b""));
        (refused, p.drain())
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "Sekrit-pw-42");
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotSupported, "{e:?}");
    assert!(e.message.contains("mysql_clear_password"), "{e:?}");
    let (refused, rest) = peer.join().unwrap();
    assert_eq!(refused.plugin, "mysql_native_password");
    assert_eq!(refused.auth, sha1_scramble(b"Sekrit-pw-42", NONCE));
    assert!(!rest.windows(12).any(|w| w == b"Sekrit-pw-42"), "password sent in clear: {rest:?}");

    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_clear_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, OK);
        p.serve_until_quit();
        response
    });
    let mut o = scripted_options(&mut s, port, "u", "Sekrit-pw-42");
    o.allow_cleartext_password = true;
    let c = s.connect(&o).unwrap().expect("clear text allowed");
    s.close(c).unwrap().unwrap();
    let r = peer.join().unwrap();
    assert_eq!(r.plugin, "mysql_clear_password");
    assert_eq!(r.auth, b"Sekrit-pw-42\0");
}

#[test]
fn scripted_caching_sha2_full_auth_with_the_callers_key_requests_no_key() {
    let public = rsa_key().1.clone();
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, &more_data(&[0x04]));
        let sealed = p.expect(3);
        p.send(4, OK);
        p.serve_until_quit();
        (response, sealed)
    });
    let mut s = session();
    let mut o = scripted_options(&mut s, port, "u", "secret");
    o.server_public_key = Some(String::from_utf8(public).unwrap());
    let c = s.connect(&o).unwrap().expect("full auth with the caller's key");
    s.close(c).unwrap().unwrap();
    let (r, sealed) = peer.join().unwrap();
    assert_eq!(r.auth, sha256_scramble(b"secret", NONCE));
    assert_eq!(sealed.len(), 256, "an RSA block, not a key request: {sealed:?}");
    assert_eq!(rsa_decrypt(&sealed), xor_password(b"secret", NONCE));
}

#[test]
fn scripted_sha256_password_with_the_callers_key_sends_the_password_first() {
    let public = String::from_utf8(rsa_key().1.clone()).unwrap();
    // After an AuthSwitchRequest...
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        p.expect(1);
        p.send(2, &auth_switch("sha256_password", NONCE2));
        let sealed = p.expect(3);
        p.send(4, OK);
        p.serve_until_quit();
        sealed
    });
    let mut s = session();
    let mut o = scripted_options(&mut s, port, "u", "pässwörd");
    o.server_public_key = Some(public.clone());
    let c = s.connect(&o).unwrap().expect("sha256_password with the caller's key");
    s.close(c).unwrap().unwrap();
    let sealed = peer.join().unwrap();
    assert_eq!(sealed.len(), 256);
    assert_eq!(rsa_decrypt(&sealed), xor_password("pässwörd".as_bytes(), NONCE2));

    // ...and as the handshake's plugin, inside HandshakeResponse41.
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("sha256_password"));
        let response = parse_response(&p.expect(1));
        p.send(2, OK);
        p.serve_until_quit();
        response
    });
    let mut o = scripted_options(&mut s, port, "u", "secret");
    o.server_public_key = Some(public);
    let c = s.connect(&o).unwrap().expect("sha256_password in the handshake response");
    s.close(c).unwrap().unwrap();
    let r = peer.join().unwrap();
    assert_eq!(r.plugin, "sha256_password");
    assert_eq!(rsa_decrypt(&r.auth), xor_password(b"secret", NONCE));
}

#[test]
fn scripted_long_first_response_waits_for_the_switch_without_lenenc_auth_data() {
    // A server without CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA takes at most 255 bytes of auth data in
    // HandshakeResponse41: the 256-byte RSA block is not cut short but sent after the switch.
    const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 1 << 21;
    let public = String::from_utf8(rsa_key().1.clone()).unwrap();
    let (port, peer) = scripted(|p| {
        p.send(
            0,
            &handshake_with_capabilities("sha256_password", 0xdfff_ffff & !CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA),
        );
        let response = parse_response(&p.expect(1));
        p.send(2, &auth_switch("sha256_password", NONCE2));
        let sealed = p.expect(3);
        p.send(4, OK);
        p.serve_until_quit();
        (response, sealed)
    });
    let mut s = session();
    let mut o = scripted_options(&mut s, port, "u", "secret");
    o.server_public_key = Some(public);
    let c = s.connect(&o).unwrap().expect("sha256_password after the switch");
    s.close(c).unwrap().unwrap();
    let (r, sealed) = peer.join().unwrap();
    assert_eq!(r.plugin, "mysql_native_password");
    assert_eq!(r.auth, sha1_scramble(b"secret", NONCE));
    assert_eq!(rsa_decrypt(&sealed), xor_password(b"secret", NONCE2));
}

#[test]
fn scripted_malformed_server_public_key_fails_before_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let mut s = session();
    let port = listener.local_addr().unwrap().port();
    for pem in ["not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"] {
        let mut o = scripted_options(&mut s, port, "u", "secret");
        o.server_public_key = Some(pem.into());
        let e = s.connect(&o).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Programming, None);
        assert!(e.message.contains("server_public_key"), "{e:?}");
    }
    let accepted = listener.accept();
    assert!(accepted.is_err(), "the client connected despite an unusable key");
}

#[test]
fn scripted_old_password_switch_is_refused() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        p.expect(1);
        p.send(2, b"\xfe");
        p.drain()
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "secret");
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotSupported, "{e:?}");
    assert!(e.message.contains("mysql_old_password"), "{e:?}");
    peer.join().unwrap();
}

#[test]
fn scripted_ed25519_switch_signs_the_32_byte_nonce() {
    // The same exchange MariaDB runs, with a fixed nonce ending in NUL: the NUL is part of the nonce.
    let mut nonce = [0x42u8; 32];
    nonce[31] = 0;
    let (port, peer) = scripted(move |p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        p.expect(1);
        let mut switch = b"\xfeclient_ed25519\0".to_vec();
        switch.extend_from_slice(&nonce);
        p.send(2, &switch);
        let signature = p.expect(3);
        p.send(4, OK);
        p.serve_until_quit();
        signature
    });
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "secret");
    let c = s.connect(&o).unwrap().expect("ed25519");
    s.close(c).unwrap().unwrap();
    let signature = peer.join().unwrap();
    assert_eq!(signature.len(), 64);
    // Checked against MariaDB's stored public key for 'secret' by the real-server tests; here,
    // a verification with openssl of the signature over the exact 32 bytes.
    assert!(ed25519_verifies(&signature, &nonce), "signature does not verify over the 32-byte nonce");
    assert!(!ed25519_verifies(&signature, &nonce[..31]), "the check can fail");
}

/// MariaDB's public key for the password 'secret' (its authentication_string, base64).
const ED25519_PUBLIC_SECRET: &str = "ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY";

/// Verifies an ed25519 signature with openssl against ED25519_PUBLIC_SECRET.
fn ed25519_verifies(signature: &[u8], message: &[u8]) -> bool {
    let dir = std::env::temp_dir().join(format!("cymysql-wasi-ed-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    // SubjectPublicKeyInfo for Ed25519: a fixed 12-byte DER prefix, then the 32-byte key.
    let pem =
        format!("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA{}=\n-----END PUBLIC KEY-----\n", ED25519_PUBLIC_SECRET);
    std::fs::write(dir.join("pub.pem"), pem).unwrap();
    std::fs::write(dir.join("sig"), signature).unwrap();
    std::fs::write(dir.join("msg"), message).unwrap();
    let out = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg", "-sigfile", "sig"])
        .current_dir(&dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    out.status.success()
}

// ---------------------------------------------------------------------------------------------
// Scripted peers inside TLS: after the SSLRequest the peer is a rustls server with the test PKI's
// certificate for 127.0.0.1, and the client verifies it against the test CA.

const CLIENT_SSL: u32 = 1 << 11;

fn tls_server_config() -> Arc<rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let chain = CertificateDer::pem_slice_iter(pki().server_cert.as_bytes()).collect::<Result<Vec<_>, _>>();
            let key = PrivateKeyDer::from_pem_slice(pki().server_key.as_bytes()).unwrap();
            let config =
                rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_no_client_auth()
                    .with_single_cert(chain.unwrap(), key)
                    .unwrap();
            Arc::new(config)
        })
        .clone()
}

/// Options for a scripted peer that expects TLS, verifying its certificate and host name.
fn scripted_tls_options(s: &mut Session, port: u16, user: &str, passwd: &str) -> ConnectOptions {
    let mut o = scripted_options(s, port, user, passwd);
    assert_eq!(o.host, "127.0.0.1", "the test certificate names 127.0.0.1");
    o.ssl = Some(SslOptions {
        ca: Some(pki().ca.clone()),
        cert: None,
        key: None,
        verify_cert: true,
        verify_identity: true,
    });
    o
}

/// Reads the SSLRequest (sequence 1) and turns the peer into the TLS server.
fn accept_ssl_request(p: &mut Peer) {
    let request = p.expect(1);
    assert_eq!(request.len(), 32, "SSLRequest: {request:?}");
    let caps = u32::from_le_bytes(request[..4].try_into().unwrap());
    assert_ne!(caps & CLIENT_SSL, 0, "SSLRequest without CLIENT_SSL");
    p.start_tls();
}

#[test]
fn scripted_tls_caching_sha2_full_auth_sends_the_password_in_clear_inside_tls() {
    // With or without a caller's key: over TLS the password itself goes, as MySQL's client sends it.
    for key in [None, Some(String::from_utf8(rsa_key().1.clone()).unwrap())] {
        let (port, peer) = scripted(|p| {
            p.send(0, &mysql8_handshake("caching_sha2_password"));
            accept_ssl_request(p);
            let response = parse_response(&p.expect(2));
            p.send(3, &more_data(&[0x04]));
            let password = p.expect(4);
            p.send(5, OK);
            p.serve_until_quit();
            (response, password)
        });
        let mut s = session();
        let mut o = scripted_tls_options(&mut s, port, "u", "pässwörd");
        o.server_public_key = key;
        let c = s.connect(&o).unwrap().expect("full auth over TLS");
        s.close(c).unwrap().unwrap();
        let (r, password) = peer.join().unwrap();
        assert_eq!(r.plugin, "caching_sha2_password");
        assert_eq!(r.auth, sha256_scramble("pässwörd".as_bytes(), NONCE));
        assert_eq!(password, "pässwörd\0".as_bytes(), "no key request, no RSA: the password and a NUL");
    }
}

#[test]
fn scripted_tls_caching_sha2_full_auth_wrong_password_is_1045() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        accept_ssl_request(p);
        p.expect(2);
        p.send(3, &more_data(&[0x04]));
        let password = p.expect(4);
        p.send(5, ACCESS_DENIED);
        password
    });
    let mut s = session();
    let o = scripted_tls_options(&mut s, port, "u", "wrong");
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(1045));
    assert_eq!(peer.join().unwrap(), b"wrong\0");
}

#[test]
fn scripted_tls_caching_sha2_fast_auth() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("caching_sha2_password"));
        accept_ssl_request(p);
        let response = parse_response(&p.expect(2));
        p.send(3, &more_data(&[0x03]));
        p.send(4, OK);
        p.serve_until_quit();
        response
    });
    let mut s = session();
    let o = scripted_tls_options(&mut s, port, "u", "secret");
    let c = s.connect(&o).unwrap().expect("fast auth over TLS");
    s.close(c).unwrap().unwrap();
    assert_eq!(peer.join().unwrap().auth, sha256_scramble(b"secret", NONCE));
}

#[test]
fn scripted_tls_sha256_password_sends_the_password_in_clear_inside_tls() {
    // As the handshake's plugin: the password is the auth response of HandshakeResponse41.
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("sha256_password"));
        accept_ssl_request(p);
        let response = parse_response(&p.expect(2));
        p.send(3, OK);
        p.serve_until_quit();
        response
    });
    let mut s = session();
    let o = scripted_tls_options(&mut s, port, "u", "secret");
    let c = s.connect(&o).unwrap().expect("sha256_password over TLS");
    s.close(c).unwrap().unwrap();
    let r = peer.join().unwrap();
    assert_eq!(r.plugin, "sha256_password");
    assert_eq!(r.auth, b"secret\0");

    // After an AuthSwitchRequest.
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        accept_ssl_request(p);
        p.expect(2);
        p.send(3, &auth_switch("sha256_password", NONCE2));
        let password = p.expect(4);
        p.send(5, OK);
        p.serve_until_quit();
        password
    });
    let o = scripted_tls_options(&mut s, port, "u", "pässwörd");
    let c = s.connect(&o).unwrap().expect("sha256_password after a switch, over TLS");
    s.close(c).unwrap().unwrap();
    assert_eq!(peer.join().unwrap(), "pässwörd\0".as_bytes());
}

#[test]
fn scripted_tls_clear_password_switch_is_followed_inside_tls() {
    let (port, peer) = scripted(|p| {
        p.send(0, &mysql8_handshake("mysql_native_password"));
        accept_ssl_request(p);
        p.expect(2);
        p.send(3, &auth_switch("mysql_clear_password", b""));
        let password = p.expect(4);
        p.send(5, OK);
        p.serve_until_quit();
        password
    });
    let mut s = session();
    let o = scripted_tls_options(&mut s, port, "u", "Sekrit-pw-42");
    assert!(!o.allow_cleartext_password);
    let c = s.connect(&o).unwrap().expect("mysql_clear_password over TLS");
    s.close(c).unwrap().unwrap();
    assert_eq!(peer.join().unwrap(), b"Sekrit-pw-42\0");
}

// ---------------------------------------------------------------------------------------------
// MariaDB's parsec (11.6+; this machine's MariaDB is older), scripted from MariaDB's server and
// Connector/C sources: AuthSwitchRequest with a 32-byte scramble, an empty packet back, the
// ext-salt ('P', iteration factor, 18-byte salt), then client scramble || ed25519 signature of
// server scramble || client scramble. The peer checks the signature with openssl, from a key it
// derives with openssl's PBKDF2, so nothing of the client's crypto is reused.

const PARSEC_SCRAMBLE: [u8; 32] = *b"\x00parsec-server-scramble-32-byt\xfe\x01";
const PARSEC_SALT: [u8; 18] = *b"\x01\x02salt-of-18-byt\xff\x00";

/// A MariaDB 11.8 Initial Handshake Packet (default plugin mysql_native_password), with NONCE.
fn mariadb_handshake() -> Vec<u8> {
    let mut h = mysql8_handshake("mysql_native_password");
    h.splice(1..7, b"5.5.5-11.8.3-MariaDB".iter().copied());
    h
}

/// The ext-salt as the server sends it: `prefixed` as MariaDB with MDEV-37554 does (0x01 first),
/// or bare as older MariaDB servers do ('P' needs no escaping there).
fn parsec_ext_salt(factor: u8, prefixed: bool) -> Vec<u8> {
    let mut p = if prefixed { vec![0x01] } else { Vec::new() };
    p.push(b'P');
    p.push(factor);
    p.extend_from_slice(&PARSEC_SALT);
    p
}

/// Whether `response` (client scramble || signature) is what a parsec server accepts for
/// `password`: the ed25519 seed is PBKDF2-HMAC-SHA512(password, salt, 1024 << factor) by openssl.
fn parsec_verifies(password: &str, factor: u8, response: &[u8]) -> bool {
    assert_eq!(response.len(), 96, "client scramble and signature: {response:?}");
    let dir = std::env::temp_dir().join(format!("cymysql-wasi-parsec-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let salt: String = PARSEC_SALT.iter().map(|b| format!("{b:02x}")).collect();
    let seed = Command::new("openssl")
        .args(["kdf", "-binary", "-keylen", "32", "-kdfopt", "digest:SHA512"])
        .arg("-kdfopt")
        .arg(format!("pass:{password}"))
        .arg("-kdfopt")
        .arg(format!("hexsalt:{salt}"))
        .arg("-kdfopt")
        .arg(format!("iter:{}", 1024u32 << factor))
        .arg("PBKDF2")
        .output()
        .unwrap();
    assert!(seed.status.success(), "{}", String::from_utf8_lossy(&seed.stderr));
    assert_eq!(seed.stdout.len(), 32);
    // PKCS#8 for a raw Ed25519 private key: a fixed 16-byte DER prefix, then the 32-byte seed.
    let mut der = b"\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20".to_vec();
    der.extend_from_slice(&seed.stdout);
    std::fs::write(dir.join("key.der"), der).unwrap();
    let mut message = PARSEC_SCRAMBLE.to_vec();
    message.extend_from_slice(&response[..32]);
    std::fs::write(dir.join("msg"), message).unwrap();
    std::fs::write(dir.join("sig"), &response[32..]).unwrap();
    let out = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-keyform", "DER", "-inkey", "key.der", "-rawin", "-in", "msg", "-sigfile", "sig"])
        .current_dir(&dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    out.status.success()
}

/// What a scripted parsec server saw of one login.
struct ParsecLogin {
    /// The client's packet after the switch (empty: "send the ext-salt").
    salt_request: Vec<u8>,
    /// Client scramble || signature.
    response: Vec<u8>,
    /// Whether the signature verified for the server's password.
    accepted: bool,
}

/// A parsec server for `password`.
fn parsec_peer(password: &'static str, factor: u8, prefixed: bool) -> (u16, JoinHandle<ParsecLogin>) {
    scripted(move |p| {
        p.send(0, &mariadb_handshake());
        p.expect(1);
        // MariaDB sends the scramble with no trailing NUL.
        p.send(2, &[&b"\xfeparsec\0"[..], &PARSEC_SCRAMBLE].concat());
        let salt_request = p.expect(3);
        p.send(4, &parsec_ext_salt(factor, prefixed));
        let response = p.expect(5);
        let accepted = parsec_verifies(password, factor, &response);
        p.send(6, if accepted { OK } else { ACCESS_DENIED });
        if accepted {
            p.serve_until_quit();
        }
        ParsecLogin { salt_request, response, accepted }
    })
}

#[test]
fn scripted_parsec_signs_both_scrambles() {
    let mut s = session();
    let mut client_scrambles = Vec::new();
    for (factor, prefixed) in [(0, false), (1, true), (3, false)] {
        let (port, peer) = parsec_peer("pässwörd ✓", factor, prefixed);
        let o = scripted_options(&mut s, port, "u", "pässwörd ✓");
        let c = s.connect(&o).unwrap().unwrap_or_else(|e| panic!("parsec, factor {factor}: {e:?}"));
        s.close(c).unwrap().unwrap();
        let login = peer.join().unwrap();
        assert_eq!(login.salt_request, b"", "an empty packet asks for the ext-salt");
        assert!(login.accepted, "factor {factor}: the signature does not verify");
        client_scrambles.push(login.response[..32].to_vec());
    }
    assert_ne!(client_scrambles[0], client_scrambles[1], "the client scramble is random");
}

#[test]
fn scripted_parsec_wrong_password_is_1045() {
    let mut s = session();
    for passwd in ["pässwörd", "", "pässwörd ✓ "] {
        let (port, peer) = parsec_peer("pässwörd ✓", 0, true);
        let o = scripted_options(&mut s, port, "u", passwd);
        let e = s.connect(&o).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Operational, Some(1045));
        assert!(!peer.join().unwrap().accepted, "{passwd:?} was accepted");
    }
}

#[test]
fn scripted_parsec_empty_password() {
    let (port, peer) = parsec_peer("", 0, false);
    let mut s = session();
    let o = scripted_options(&mut s, port, "u", "");
    let c = s.connect(&o).unwrap().expect("parsec with an empty password");
    s.close(c).unwrap().unwrap();
    assert!(peer.join().unwrap().accepted);
}

#[test]
fn scripted_parsec_bad_ext_salt_is_an_error_not_a_hang() {
    // An iteration factor above 3 (MariaDB's client refuses it too) and a short ext-salt.
    for ext_salt in [parsec_ext_salt(40, true), parsec_ext_salt(0, true)[..10].to_vec()] {
        let (port, peer) = scripted(move |p| {
            p.send(0, &mariadb_handshake());
            p.expect(1);
            p.send(2, &[&b"\xfeparsec\0"[..], &PARSEC_SCRAMBLE].concat());
            p.expect(3);
            p.send(4, &ext_salt);
            p.drain()
        });
        let mut s = session();
        let o = scripted_options(&mut s, port, "u", "secret");
        let e = s.connect(&o).expect("no trap").unwrap_err();
        assert_kind(&e, ErrorKind::Operational, Some(2027));
        assert_eq!(peer.join().unwrap(), b"", "nothing sent after a bad ext-salt");
    }
}
