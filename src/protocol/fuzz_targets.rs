//! Fuzz targets: one entry function for each parser that server or caller bytes reach, with the
//! captured packets that seed it.
//!
//! The functions are written once and run twice: by libFuzzer through the cargo-fuzz crate in
//! `fuzz/` (see `fuzz/README.md` and `scripts/fuzz`), and by the smoke test at the end of this
//! file, which `cargo test --lib` runs over the seeds and a fixed set of their mutations.
//!
//! Each target drives a parser as the connection does (the same calls in the same order) and,
//! besides "no panic", asserts what must hold for any input: a round trip gives back what went
//! in, a cache answers as a fresh parse would, a value kept as bytes keeps all of them.

use bytes::BytesMut;

use super::auth::caching_sha2_password::{self, CachingSha2Password};
use super::auth::parsec::{self, Parsec};
use super::auth::sha256_password::{self, Sha256Password};
use super::auth::{plugin_for, AuthContext, AuthPlugin, AuthStep, ServerPublicKey};
use super::buf::Reader;
use super::codec::PacketCodec;
use super::column::Column;
use super::column_cache::ColumnCache;
use super::compress::{self, Algorithm, CompressedCodec};
use super::constants::capability::*;
use super::constants::MAX_PACKET_PAYLOAD;
use super::err_packet::{framed_server_error, ErrPacket};
use super::escape::{escape_string_into, EscapeMode};
use super::handshake::{AuthResponse, Greeting, HandshakeV10};
use super::interpolate::{interpolate as interpolate_params, split_insert_values, Params};
use super::ok_packet::{is_result_terminator, EofPacket, OkPacket};
use super::option_file::parse_option_file;
use super::response::Response;
use super::text_row::decode_text_row;
use super::text_value::decode_text_value;
use super::value::{Date, DateTime, Time, Value};
use crate::client::column_batch::{ColumnBatch, TextColumns};
use crate::client::option_file::{apply_option_file, Explicit};
use crate::client::options::ConnectOptions;
use crate::client::url::parse_url;
use crate::error::Error;

/// One fuzz target: its name (the cargo-fuzz binary's), its entry function and its seeds.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
    pub seeds: fn() -> Vec<Vec<u8>>,
}

/// Every target, in the order `scripts/fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target { name: "packet_codec", run: packet_codec, seeds: packet_codec_seeds },
    Target { name: "compressed_zlib", run: compressed_zlib, seeds: compressed_zlib_seeds },
    #[cfg(feature = "zstd")]
    Target { name: "compressed_zstd", run: compressed_zstd, seeds: compressed_zstd_seeds },
    Target { name: "handshake", run: handshake, seeds: handshake_seeds },
    Target { name: "auth", run: auth, seeds: auth_seeds },
    Target { name: "ok_err_eof", run: ok_err_eof, seeds: ok_err_eof_seeds },
    Target { name: "column_definitions", run: column_definitions, seeds: column_definitions_seeds },
    Target { name: "result_set", run: result_set, seeds: result_set_seeds },
    Target { name: "text_value", run: text_value, seeds: text_value_seeds },
    Target { name: "option_file", run: option_file, seeds: option_file_seeds },
    Target { name: "url", run: url, seeds: url_seeds },
    Target { name: "interpolate", run: interpolate, seeds: interpolate_seeds },
];

/// The client's max_allowed_packet in the targets: large, so that only the wire format limits.
const MAX_PAYLOAD: usize = 1 << 30;

/// The payloads of the packets framed back to back in `data` (3-byte length, sequence id,
/// payload), up to the first incomplete one. Sequence ids are not checked: the exchange
/// targets are about what the packets hold, the packet_codec target about their framing.
fn split_packets(data: &[u8]) -> Vec<&[u8]> {
    let mut r = Reader::new(data);
    let mut packets = Vec::new();
    while let (Ok(len), Ok(_seq)) = (r.u24("length"), r.u8("sequence id")) {
        match r.take(len as usize, "payload") {
            Ok(payload) => packets.push(payload),
            Err(_) => break,
        }
    }
    packets
}

/// Frames `payload` as packet `seq`, for seeds.
fn frame(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut codec = PacketCodec::new(MAX_PAYLOAD);
    codec.set_seq(seq);
    let mut out = Vec::new();
    codec.encode(payload, &mut out);
    out
}

/// Frames the payloads as one exchange starting at sequence id `first`, for seeds.
fn exchange(first: u8, payloads: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        out.extend_from_slice(&frame(first.wrapping_add(i as u8), p));
    }
    out
}

/// Packets captured from real servers (the unit tests of each parser hold the same bytes).
mod captured {
    /// The handshake of Debian's MariaDB 10.11.19 (server charset latin1), as in handshake.rs.
    pub const MARIADB_HANDSHAKE: &[u8] = b"\x0a5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x03\x00\x00\x00\
^MFXes6P\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00\
mWKP3MiGgREA\x00mysql_native_password\x00";
    /// `SELECT id FROM test.t` against MariaDB 10.11.19 (id INT NOT NULL PRIMARY KEY), as in column.rs.
    pub const ID_COLUMN: &[u8] =
        b"\x03def\x04test\x01t\x01t\x02id\x02id\x0c\x3f\x00\x0b\x00\x00\x00\x03\x03\x50\x00\x00\x00";
    /// `INSERT INTO test.t VALUES (8),(9),(10)` on MariaDB 10.11.19, as in ok_packet.rs.
    pub const OK_AFTER_INSERT: &[u8] = b"\x00\x03\x00\x02\x00\x00\x00&Records: 3  Duplicates: 0  Warnings: 0";
    /// The OK that ends `SELECT id FROM test.t` under CLIENT_DEPRECATE_EOF, as in ok_packet.rs.
    pub const RESULT_TERMINATOR: &[u8] = b"\xfe\x00\x00\x22\x00\x00\x00";
    /// An access-denied ERR_Packet, as in err_packet.rs.
    pub const ACCESS_DENIED: &[u8] =
        b"\xff\x15\x04#28000Access denied for user 'root'@'localhost' (using password: YES)";
    /// An ERR_Packet sent before capabilities are agreed (no SQLSTATE), as in err_packet.rs.
    pub const TOO_MANY_CONNECTIONS: &[u8] = b"\xff\x10\x04Too many connections";
    /// The ERR a killed session receives, framed, as in compress.rs.
    pub const KILLED_FRAME: &[u8] = b"\x0e\x00\x00\x00\xff\x87\x07#70100Killed";
    /// MariaDB 10.11's zlib reply to `SELECT REPEAT('a', 100)` in one envelope (sequence 1): the
    /// column count, the column definition, the row and the closing OK, as in compress.rs.
    pub const MARIADB_COMPRESSED_REPLY: &[u8] = &[
        0x49, 0x00, 0x00, 0x01, 0xa3, 0x00, 0x00, 0x78, 0x9c, 0x63, 0x64, 0x60, 0x60, 0x64, 0x54, 0x63, 0x60, 0x60,
        0x62, 0x4e, 0x49, 0x4d, 0x63, 0x60, 0x60, 0x10, 0x08, 0x72, 0x0d, 0x70, 0x75, 0x0c, 0xd1, 0x50, 0x4f, 0x54,
        0xd7, 0x51, 0x30, 0x34, 0x30, 0xd0, 0x64, 0xe0, 0xd1, 0x65, 0x98, 0xc0, 0xc8, 0xc0, 0xf0, 0x97, 0x81, 0x41,
        0x9d, 0x81, 0x21, 0x95, 0x81, 0x81, 0x39, 0x25, 0x91, 0x0e, 0x80, 0x9d, 0x81, 0x81, 0xe5, 0x1f, 0xd0, 0x59,
        0x40, 0x27, 0x01, 0x00, 0x3e, 0x73, 0x2e, 0xb5,
    ];
    /// The RSA public key of the auth tests, as a server sends it in AuthMoreData.
    pub const PUBLIC_PEM: &str = include_str!("auth/testdata/rsa1024.pub.pem");
}

/// The framed packets MariaDB sent inside [`captured::MARIADB_COMPRESSED_REPLY`].
fn captured_reply_packets() -> Vec<u8> {
    compress::peek_envelope(Algorithm::Zlib, captured::MARIADB_COMPRESSED_REPLY).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Packet framing

/// The packet codec over a byte stream delivered in pieces. The first byte chooses whether
/// sequence ids are checked (bit 0) and the size of the pieces (the other bits).
pub fn packet_codec(data: &[u8]) {
    let Some((&flags, stream)) = data.split_first() else { return };
    let mut codec = PacketCodec::new(MAX_PAYLOAD);
    if flags & 1 != 0 {
        codec.skip_seq_check();
    }
    let piece = usize::from(flags >> 1).max(1);
    let mut input = BytesMut::new();
    let mut consumed = 0usize;
    for chunk in stream.chunks(piece) {
        input.extend_from_slice(chunk);
        loop {
            let seq = codec.seq();
            let before = input.len();
            match codec.decode(&mut input) {
                Ok(Some(payload)) => {
                    // Payloads under 16 MiB are one packet: encoding it again gives its frame back.
                    let taken = before - input.len();
                    let frame_bytes = stream.get(consumed..consumed + taken).unwrap_or_default();
                    consumed += taken;
                    let mut again = PacketCodec::new(MAX_PAYLOAD);
                    again.set_seq(if flags & 1 != 0 { frame_bytes.get(3).copied().unwrap_or(seq) } else { seq });
                    let mut out = Vec::new();
                    again.encode(&payload, &mut out);
                    assert_eq!(out, frame_bytes, "a decoded packet encodes back to its frame");
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = framed_server_error(stream);
}

fn packet_codec_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for flags in [0u8, 1, 7, 0xff] {
        for stream in [
            captured_reply_packets(),
            frame(0, captured::MARIADB_HANDSHAKE),
            frame(2, captured::OK_AFTER_INSERT),
            captured::KILLED_FRAME.to_vec(),
            exchange(1, &[b"\x01", captured::ID_COLUMN, b"\x0242", captured::RESULT_TERMINATOR]),
        ] {
            let mut seed = vec![flags];
            seed.extend_from_slice(&stream);
            seeds.push(seed);
        }
    }
    seeds
}

// ---------------------------------------------------------------------------------------------
// Compressed protocol

/// Reads `data` as the server's compressed reply to a command, as the connection does: the
/// command goes out first (so the reply continues its sequence), envelopes are unwrapped a
/// packet's worth at a time, and what they hold goes through the packet codec.
fn compressed(algorithm: Algorithm, data: &[u8]) {
    let mut codec = CompressedCodec::with_algorithm(algorithm);
    let mut command = Vec::new();
    PacketCodec::new(MAX_PAYLOAD).encode(b"\x03SELECT REPEAT('a', 100)", &mut command);
    codec.encode(&command, &mut Vec::new());
    let _ = compress::peek_envelope(algorithm, data);

    let mut input = BytesMut::from(data);
    let mut step = BytesMut::new();
    let mut plain = BytesMut::new();
    while let Ok(true) = codec.decode(&mut input, &mut step) {
        // One call stops once it holds a packet's worth: at most one envelope past that.
        assert!(step.len() < 2 * MAX_PACKET_PAYLOAD, "one step unwrapped {} bytes", step.len());
        plain.extend_from_slice(&step.split());
    }

    // What came out, sent back through a fresh pair of codecs, comes out the same.
    let mut wire = Vec::new();
    CompressedCodec::with_algorithm(algorithm).encode(&plain, &mut wire);
    let mut back = BytesMut::new();
    let mut decoder = CompressedCodec::with_algorithm(algorithm);
    let mut wire = BytesMut::from(&wire[..]);
    while decoder.decode(&mut wire, &mut step).expect("our own envelopes decode") {
        back.extend_from_slice(&step.split());
    }
    assert_eq!(back, plain, "a round trip through our own envelopes");

    let mut packets = PacketCodec::new(MAX_PAYLOAD);
    packets.skip_seq_check();
    while let Ok(Some(_)) = packets.decode(&mut plain) {}
}

/// The compressed protocol with zlib (CLIENT_COMPRESS).
pub fn compressed_zlib(data: &[u8]) {
    compressed(Algorithm::Zlib, data);
}

fn compressed_zlib_seeds() -> Vec<Vec<u8>> {
    compressed_seeds(Algorithm::Zlib, captured::MARIADB_COMPRESSED_REPLY.to_vec())
}

/// Seeds for `algorithm`: the captured reply (zlib) or the same packets in our own envelopes,
/// a stored envelope, and several envelopes in a row.
fn compressed_seeds(algorithm: Algorithm, captured_reply: Vec<u8>) -> Vec<Vec<u8>> {
    let envelopes = |first_seq: u8, packets: &[u8]| {
        let mut codec = CompressedCodec::with_algorithm(algorithm);
        for _ in 0..first_seq {
            codec.encode(b"", &mut Vec::new());
        }
        let mut out = Vec::new();
        codec.encode(packets, &mut out);
        out
    };
    let mut several = envelopes(1, &captured_reply_packets());
    let mut codec = CompressedCodec::with_algorithm(algorithm);
    for _ in 0..2 {
        codec.encode(b"", &mut Vec::new());
    }
    codec.encode(&frame(5, captured::OK_AFTER_INSERT), &mut several);
    vec![
        captured_reply,
        envelopes(1, &captured_reply_packets()),
        envelopes(1, captured::KILLED_FRAME),
        envelopes(1, &frame(1, &captured::ACCESS_DENIED.repeat(3))),
        several,
    ]
}

/// The compressed protocol with zstd (CLIENT_ZSTD_COMPRESSION_ALGORITHM).
#[cfg(feature = "zstd")]
pub fn compressed_zstd(data: &[u8]) {
    compressed(Algorithm::Zstd { level: 3 }, data);
}

#[cfg(feature = "zstd")]
fn compressed_zstd_seeds() -> Vec<Vec<u8>> {
    // No server here speaks zstd: the captured packets travel in our own zstd envelopes.
    let zstd = Algorithm::Zstd { level: 3 };
    let mut reply = Vec::new();
    let mut codec = CompressedCodec::with_algorithm(zstd);
    codec.encode(b"", &mut Vec::new());
    codec.encode(&captured_reply_packets(), &mut reply);
    compressed_seeds(zstd, reply)
}

// ---------------------------------------------------------------------------------------------
// Connection phase

/// HandshakeV10, the server's first packet.
pub fn handshake(data: &[u8]) {
    if let Ok(h) = HandshakeV10::parse(data) {
        assert!(h.auth_plugin_data.len() >= 8, "the nonce's first part is 8 bytes");
        let _ = format!("{h:?}");
    }
}

fn handshake_seeds() -> Vec<Vec<u8>> {
    let mysql8 = {
        // MySQL 8's layout: CLIENT_LONG_PASSWORD set (no MariaDB capabilities), caching_sha2_password.
        let mut h = captured::MARIADB_HANDSHAKE.to_vec();
        let caps = h.iter().position(|&b| b == 0).unwrap_or(0) + 14;
        if let Some(b) = h.get_mut(caps) {
            *b |= 1;
        }
        let end = h.len() - b"mysql_native_password\x00".len();
        h.truncate(end);
        h.extend_from_slice(b"caching_sha2_password\x00");
        h
    };
    let pre41 = captured::MARIADB_HANDSHAKE.get(..captured::MARIADB_HANDSHAKE.len() - 60).unwrap_or_default().to_vec();
    vec![captured::MARIADB_HANDSHAKE.to_vec(), mysql8, pre41]
}

/// The password the auth target authenticates with. A plugin must never put it in an error.
const FUZZ_PASSWORD: &str = "Sekrit-fuzz-pw";

/// Random bytes for the plugins: fixed, so that a crash replays.
fn fixed_random(buf: &mut [u8]) -> Result<(), crate::protocol::auth::AuthError> {
    buf.fill(0x5a);
    Ok(())
}

/// The plugin the server names, as `plugin_for` makes it but with fixed random bytes.
fn fuzz_plugin(name: &str, password: &str, context: &AuthContext) -> Result<Box<dyn AuthPlugin>, Error> {
    let bytes = password.as_bytes().to_vec();
    Ok(match name {
        parsec::NAME => Box::new(Parsec::new(bytes, fixed_random)),
        caching_sha2_password::NAME => {
            Box::new(CachingSha2Password::new(bytes, fixed_random, context.password_protection()))
        }
        sha256_password::NAME => Box::new(Sha256Password::new(bytes, fixed_random, context.password_protection())),
        other => plugin_for(other, password, context)?,
    })
}

/// The authentication phase of a connection against a server that sends `data`: the first byte
/// chooses the circumstances (bit 0 TLS, bit 1 clear text allowed, bit 2 the caller's RSA key,
/// bit 3 an empty password, bit 4 CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA); then come framed
/// packets: HandshakeV10, and the server's AuthSwitchRequest, AuthMoreData, OK or ERR packets.
///
/// The steps are those of `Connection::authenticate`: each plugin's `start` with the server's
/// nonce and `on_more_data` with whatever the server sends next.
pub fn auth(data: &[u8]) {
    let Some((&flags, stream)) = data.split_first() else { return };
    let password = if flags & 8 != 0 { "" } else { FUZZ_PASSWORD };
    let leaked = |e: &Error| {
        !password.is_empty()
            && !stream.windows(password.len()).any(|w| w == password.as_bytes())
            && (e.to_string().contains(password) || format!("{e:?}").contains(password))
    };
    let result = auth_exchange(flags, password, stream);
    if let Err(e) = &result {
        assert!(!leaked(e), "an authentication error shows the password: {e:?}");
    }
}

fn auth_exchange(flags: u8, password: &str, stream: &[u8]) -> Result<(), Error> {
    let mut packets = split_packets(stream).into_iter();
    let Some(first) = packets.next() else { return Ok(()) };
    let hs = match Greeting::parse(first)? {
        Greeting::Handshake(hs) => hs,
        Greeting::Err(e) => return Err(e.into()),
    };
    let server_public_key = (flags & 4 != 0).then(|| ServerPublicKey::from_pem(captured::PUBLIC_PEM).ok()).flatten();
    // Options that join the context later keep their defaults here.
    #[allow(clippy::needless_update)]
    let context = AuthContext {
        secure_transport: flags & 1 != 0,
        allow_cleartext_password: flags & 2 != 0,
        server_public_key,
        ..AuthContext::default()
    };
    let lenenc = flags & 16 != 0;
    let default_plugin = match hs.auth_plugin_name.as_str() {
        "" => "mysql_native_password",
        name => name,
    };
    let native = |context| fuzz_plugin("mysql_native_password", password, context);
    let mut plugin = fuzz_plugin(default_plugin, password, &context).or_else(|_| native(&context))?;
    let fits = |r: &[u8]| r.len() <= 255 || lenenc;
    match plugin.start(&hs.auth_plugin_data) {
        Ok(r) if fits(&r) => {}
        _ => {
            plugin = native(&context)?;
            plugin.start(&hs.auth_plugin_data)?;
        }
    }
    for packet in packets.take(8) {
        if packet.is_empty() {
            return Ok(());
        }
        match AuthResponse::parse(packet, CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK)? {
            AuthResponse::Ok(_) => return Ok(()),
            AuthResponse::Err(e) => return Err(e.into()),
            AuthResponse::OldAuthSwitchRequest => return Err(Error::NotSupported("mysql_old_password".into())),
            AuthResponse::AuthSwitchRequest { plugin_name, plugin_data } => {
                plugin = fuzz_plugin(&plugin_name, password, &context)?;
                plugin.start(plugin_data)?;
            }
            AuthResponse::AuthMoreData(data) => {
                if let AuthStep::Send(reply) = plugin.on_more_data(data)? {
                    let _ = reply.len();
                }
            }
        }
    }
    Ok(())
}

fn auth_seeds() -> Vec<Vec<u8>> {
    let nonce20 = b"\x0e\x1e\x2d\x6d\x4a\x64\x37\x22\x01\x1a\x4b\x30\x0c\x28\x0a\x4d\x2c\x06\x72\x4f";
    let nonce32: Vec<u8> = (1..=32).collect();
    let switch = |name: &str, nonce: &[u8]| {
        let mut p = vec![0xFE];
        p.extend_from_slice(name.as_bytes());
        p.push(0);
        p.extend_from_slice(nonce);
        p.push(0);
        p
    };
    let more = |data: &[u8]| {
        let mut p = vec![0x01];
        p.extend_from_slice(data);
        p
    };
    let ok = b"\x00\x00\x00\x02\x00\x00\x00".as_slice();
    let hs = captured::MARIADB_HANDSHAKE;
    let mut parsec_salt = b"P\x00".to_vec();
    parsec_salt.extend_from_slice(b"saltsaltsaltsalt18");
    // Each exchange with the circumstances it is seeded under: no TLS (0), TLS (1), clear text
    // allowed and the caller's RSA key (6), an empty password with lenenc auth data (24).
    let all: &[u8] = &[0, 1, 6, 24];
    let exchanges: Vec<(&[u8], Vec<Vec<u8>>)> = vec![
        // MariaDB: native password accepted; access denied; refused before the handshake.
        (all, vec![hs.to_vec(), ok.to_vec()]),
        (&[0], vec![hs.to_vec(), captured::ACCESS_DENIED.to_vec()]),
        (&[0], vec![captured::TOO_MANY_CONNECTIONS.to_vec()]),
        // Switches to each plugin MariaDB and MySQL name, with their exchanges. parsec's key
        // derivation takes milliseconds: one seed of it is enough.
        (all, vec![hs.to_vec(), switch("client_ed25519", &nonce32), ok.to_vec()]),
        (&[0], vec![hs.to_vec(), switch("parsec", &nonce32), more(&parsec_salt), ok.to_vec()]),
        (all, vec![hs.to_vec(), switch("caching_sha2_password", nonce20), more(b"\x03"), ok.to_vec()]),
        (all, vec![hs.to_vec(), switch("caching_sha2_password", nonce20), more(b"\x04"), ok.to_vec()]),
        (
            &[0],
            vec![
                hs.to_vec(),
                switch("caching_sha2_password", nonce20),
                more(b"\x04"),
                more(captured::PUBLIC_PEM.as_bytes()),
                ok.to_vec(),
            ],
        ),
        (
            &[0, 6],
            vec![hs.to_vec(), switch("sha256_password", nonce20), more(captured::PUBLIC_PEM.as_bytes()), ok.to_vec()],
        ),
        (all, vec![hs.to_vec(), switch("mysql_clear_password", b""), ok.to_vec()]),
        (&[0], vec![hs.to_vec(), switch("mysql_native_password", nonce20), ok.to_vec()]),
        (&[0], vec![hs.to_vec(), vec![0xFE]]),
    ];
    let mut seeds = Vec::new();
    for (flags, packets) in &exchanges {
        let payloads: Vec<&[u8]> = packets.iter().map(Vec::as_slice).collect();
        for &flags in *flags {
            let mut seed = vec![flags];
            seed.extend_from_slice(&exchange(0, &payloads));
            seeds.push(seed);
        }
    }
    seeds
}

// ---------------------------------------------------------------------------------------------
// Command phase

/// The capability set chosen by a target's first byte.
fn capabilities(flags: u8) -> u32 {
    let mut caps = 0;
    for (bit, cap) in [CLIENT_PROTOCOL_41, CLIENT_SESSION_TRACK, CLIENT_DEPRECATE_EOF].into_iter().enumerate() {
        if flags & (1 << bit) != 0 {
            caps |= cap;
        }
    }
    caps
}

/// OK_Packet, ERR_Packet, EOF_Packet and the result header, each given every payload. The first
/// byte chooses the capabilities (bit 0 CLIENT_PROTOCOL_41, bit 1 CLIENT_SESSION_TRACK).
pub fn ok_err_eof(data: &[u8]) {
    let Some((&flags, payload)) = data.split_first() else { return };
    let caps = capabilities(flags);
    if let Ok(ok) = OkPacket::parse(payload, caps) {
        let _ = format!("{ok:?}");
    }
    if let Ok(eof) = EofPacket::parse(payload) {
        assert!(payload.len() < 9, "an EOF packet is shorter than 9 bytes");
        let _ = eof;
    }
    if let Ok(err) = ErrPacket::parse(payload) {
        // Five bytes, or "HY000" when absent; a hostile server's bytes may not be ASCII.
        assert!((1..=5).contains(&err.sqlstate.chars().count()), "SQLSTATE {:?}", err.sqlstate);
    }
    let _ = ErrPacket::parse(payload).map(|e| crate::error::Error::from(e).to_string());
    let _ = is_result_terminator(payload);
    if let Ok(Response::ResultSet { column_count }) = Response::parse_query_response(payload, caps) {
        assert!(column_count > 0, "a result set has at least one column");
    }
    let _ = Response::parse_ok_or_err(payload, caps, "command reply");
    let _ = Response::parse_row_or_end(payload, caps);
    let _ = framed_server_error(payload);
}

/// An OK_Packet (status autocommit | session state changed) whose session-state block reports
/// each `(name, value)` as a changed system variable, as a server with CLIENT_SESSION_TRACK sends it.
pub(crate) fn ok_with_changed_variables(variables: &[(&str, &str)]) -> Vec<u8> {
    let mut ok = b"\x00\x00\x00\x02\x40\x00\x00\x00".to_vec();
    let mut state = Vec::new();
    for (name, value) in variables {
        let mut entry = vec![name.len() as u8];
        entry.extend_from_slice(name.as_bytes());
        entry.push(value.len() as u8);
        entry.extend_from_slice(value.as_bytes());
        state.push(0);
        state.push(entry.len() as u8);
        state.extend_from_slice(&entry);
    }
    ok.push(state.len() as u8);
    ok.extend_from_slice(&state);
    ok
}

fn ok_err_eof_seeds() -> Vec<Vec<u8>> {
    let tracked = ok_with_changed_variables(&[("character_set_client", "gbk"), ("autocommit", "ON")]);
    let payloads: [&[u8]; 9] = [
        captured::OK_AFTER_INSERT,
        captured::RESULT_TERMINATOR,
        &tracked,
        captured::ACCESS_DENIED,
        captured::TOO_MANY_CONNECTIONS,
        b"\xfe\x02\x00\x0a\x00",
        b"\xfc\x01\x01",
        b"\xfb/etc/passwd",
        b"\x00\x01\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x02\x00\x01\x00",
    ];
    let mut seeds = Vec::new();
    for flags in [1u8, 3, 7] {
        for p in payloads {
            let mut seed = vec![flags];
            seed.extend_from_slice(p);
            seeds.push(seed);
        }
    }
    seeds
}

/// Column definitions through the cache the connection keeps, for framed ColumnDefinition41
/// packets: read three times (fresh, the same again, then without the first packet), each
/// result must be what parsing every packet afresh gives.
pub fn column_definitions(data: &[u8]) {
    let packets = split_packets(data);
    let fresh: Vec<Result<Column, _>> = packets.iter().map(|p| Column::parse(p)).collect();
    let mut cache = ColumnCache::default();
    for round in [0usize, 0, 1, 0] {
        let these = packets.get(round..).unwrap_or_default();
        let expected = fresh.get(round..).unwrap_or_default();
        cache.start();
        let mut failed = false;
        for (p, want) in these.iter().zip(expected) {
            let got = cache.push(p);
            assert_eq!(got.is_ok(), want.is_ok(), "the cache and a fresh parse agree on errors");
            if got.is_err() {
                failed = true;
                break;
            }
        }
        let columns = cache.finish();
        if !failed {
            let want: Vec<&Column> = expected.iter().filter_map(|c| c.as_ref().ok()).collect();
            let got: Vec<&Column> = columns.iter().collect();
            assert_eq!(got, want, "the cache answers as a fresh parse");
        }
    }
}

fn column_definitions_seeds() -> Vec<Vec<u8>> {
    let reply = captured_reply_packets();
    let repeat_column = split_packets(&reply).get(1).map(|c| c.to_vec()).unwrap_or_default();
    let x_column = b"\x03def\x04test\x01t\x01t\x01x\x02id\x0c\x3f\x00\x0b\x00\x00\x00\x03\x03\x50\x00\x00\x00";
    vec![
        exchange(2, &[captured::ID_COLUMN]),
        exchange(2, &[captured::ID_COLUMN, x_column, captured::ID_COLUMN]),
        exchange(2, &[&repeat_column, captured::ID_COLUMN]),
    ]
}

/// A text-protocol result set as the connection reads it: the result header, its column
/// definitions, EOF unless CLIENT_DEPRECATE_EOF (bit 2 of the first byte), then rows until the
/// terminator, each decoded against whatever columns the server described.
pub fn result_set(data: &[u8]) {
    let Some((&flags, stream)) = data.split_first() else { return };
    let caps = capabilities(flags) | CLIENT_PROTOCOL_41;
    let mut packets = split_packets(stream).into_iter();
    let Some(first) = packets.next() else { return };
    let Ok(Response::ResultSet { column_count: n }) = Response::parse_query_response(first, caps) else { return };
    // The connection refuses more columns than MySQL allows in a table.
    let Some(n) = usize::try_from(n).ok().filter(|&n| n <= 4096) else { return };
    let mut cache = ColumnCache::default();
    cache.start();
    for _ in 0..n {
        let Some(p) = packets.next() else { return };
        if cache.push(p).is_err() {
            return;
        }
    }
    let columns = cache.finish();
    if caps & CLIENT_DEPRECATE_EOF == 0 && packets.next().map(EofPacket::parse).is_none_or(|r| r.is_err()) {
        return;
    }
    // `fetch-columns` builds its batch from the same packets without decoding rows to values: it
    // must refuse what decoding refuses and otherwise give the batch of the decoded rows.
    let mut straight = TextColumns::new(&columns);
    let mut decoded = Vec::new();
    for packet in packets {
        match Response::parse_row_or_end(packet, caps) {
            Ok(None) => {
                let pushed = straight.push_row(packet);
                match decode_text_row(packet, &columns) {
                    Ok(row) => {
                        assert_eq!(row.len(), columns.len(), "one value per column");
                        assert!(pushed.is_ok(), "the packet path refused a row decoding took: {pushed:?}");
                        decoded.push(row);
                    }
                    Err(_) => {
                        assert!(pushed.is_err(), "the packet path took a row decoding refused");
                        return;
                    }
                }
            }
            Ok(Some(_)) | Err(_) => break,
        }
    }
    let through_values = ColumnBatch::from_rows(&columns, &decoded).expect("a small batch");
    // Debug, not ==, so that a NaN cell equals itself.
    assert_eq!(format!("{:?}", straight.finish()), format!("{through_values:?}"));
}

fn result_set_seeds() -> Vec<Vec<u8>> {
    use super::constants::column_type::*;
    let column = |name: &str, column_type: u8, charset: u16, flags: u16| {
        let mut c = b"\x03def\x04test\x01t\x01t".to_vec();
        c.push(name.len() as u8);
        c.extend_from_slice(name.as_bytes());
        c.push(name.len() as u8);
        c.extend_from_slice(name.as_bytes());
        c.push(0x0c);
        c.extend_from_slice(&charset.to_le_bytes());
        c.extend_from_slice(&20u32.to_le_bytes());
        c.push(column_type);
        c.extend_from_slice(&flags.to_le_bytes());
        c.extend_from_slice(&[0, 0, 0]);
        c
    };
    let cells = |values: &[Option<&[u8]>]| {
        let mut row = Vec::new();
        for v in values {
            match v {
                Some(v) => super::buf::put_lenenc_bytes(&mut row, v),
                None => row.push(0xFB),
            }
        }
        row
    };
    let typed = [
        (column("i", MYSQL_TYPE_LONGLONG, 63, 0), &b"-9223372036854775808"[..]),
        (column("u", MYSQL_TYPE_LONGLONG, 63, 32), b"18446744073709551615"),
        (column("d", MYSQL_TYPE_NEWDECIMAL, 63, 0), b"-12.50"),
        (column("f", MYSQL_TYPE_DOUBLE, 63, 0), b"1.5e300"),
        (column("dt", MYSQL_TYPE_DATETIME, 63, 0), b"2024-02-29 23:59:59.999999"),
        (column("t", MYSQL_TYPE_TIME, 63, 0), b"-838:59:59.000001"),
        (column("y", MYSQL_TYPE_YEAR, 63, 0), b"2155"),
        (column("b", MYSQL_TYPE_BIT, 63, 0), b"\x01\x02"),
        (column("s", MYSQL_TYPE_VAR_STRING, 45, 0), "h\u{e9}llo".as_bytes()),
        (column("l", MYSQL_TYPE_VAR_STRING, 8, 0), b"caf\xe9"),
        (column("e", MYSQL_TYPE_STRING, 45, 256), b"small"),
        (column("set", MYSQL_TYPE_STRING, 45, 2048), b"a,b"),
        (column("j", MYSQL_TYPE_JSON, 63, 0), b"{\"a\": [1]}"),
    ];
    let mut payloads: Vec<Vec<u8>> = vec![vec![typed.len() as u8]];
    payloads.extend(typed.iter().map(|(c, _)| c.clone()));
    let values: Vec<Option<&[u8]>> = typed.iter().map(|(_, v)| Some(*v)).collect();
    payloads.push(cells(&values));
    payloads.push(cells(&vec![None; typed.len()]));
    payloads.push(captured::RESULT_TERMINATOR.to_vec());
    let many: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();

    let mut classic = payloads.clone();
    classic.insert(typed.len() + 1, b"\xfe\x00\x00\x22\x00".to_vec());
    let last = classic.len() - 1;
    classic[last] = b"\xfe\x00\x00\x22\x00".to_vec();
    let classic: Vec<&[u8]> = classic.iter().map(Vec::as_slice).collect();

    let mut seeds = Vec::new();
    for (flags, stream) in [
        (7u8, captured_reply_packets()),
        (7, exchange(1, &many)),
        (1, exchange(1, &classic)),
        (7, exchange(1, &[b"\x01", captured::ID_COLUMN, b"\x0242", captured::ACCESS_DENIED])),
    ] {
        let mut seed = vec![flags];
        seed.extend_from_slice(&stream);
        seeds.push(seed);
    }
    seeds
}

/// One text-protocol cell against an arbitrary column: byte 0 the column type, bytes 1-2 its
/// flags, bytes 3-4 its collation, the rest the cell (NULL when byte 0 of the flags' high byte
/// has bit 7 set and the cell is empty).
pub fn text_value(data: &[u8]) {
    let (Some(&column_type), Some(flags), Some(charset), Some(raw)) = (
        data.first(),
        data.get(1..3).map(|b| u16::from_le_bytes([b[0], b[1]])),
        data.get(3..5).map(|b| u16::from_le_bytes([b[0], b[1]])),
        data.get(5..),
    ) else {
        return;
    };
    let column = Column { flags, charset, ..Column::of_type(column_type) };
    let cell = if raw.is_empty() && flags & 0x8000 != 0 { None } else { Some(raw) };
    match decode_text_value(&column, cell) {
        // Nothing is lost: a cell kept as bytes keeps every byte.
        Ok(Value::Bytes(b)) | Ok(Value::Geometry(b)) => assert_eq!(b, raw),
        Ok(Value::Null) => {}
        Ok(v) => {
            assert!(cell.is_some(), "NULL decodes as NULL");
            let _ = format!("{v:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fn text_value_seeds() -> Vec<Vec<u8>> {
    use super::constants::column_type::*;
    let cells: [(u8, u16, u16, &[u8]); 16] = [
        (MYSQL_TYPE_LONG, 0, 63, b"-2147483648"),
        (MYSQL_TYPE_LONGLONG, 32, 63, b"18446744073709551615"),
        (MYSQL_TYPE_FLOAT, 0, 63, b"-3.4028235e38"),
        (MYSQL_TYPE_DOUBLE, 0, 63, b"inf"),
        (MYSQL_TYPE_NEWDECIMAL, 0, 63, b"-99999999999999999999.99"),
        (MYSQL_TYPE_DATE, 0, 63, b"0000-00-00"),
        (MYSQL_TYPE_TIMESTAMP, 0, 63, b"2038-01-19 03:14:07.5"),
        (MYSQL_TYPE_TIME, 0, 63, b"-838:59:59.999999"),
        (MYSQL_TYPE_YEAR, 0, 63, b"1901"),
        (MYSQL_TYPE_BIT, 0, 63, b"\xff\xff\xff\xff\xff\xff\xff\xff"),
        (MYSQL_TYPE_JSON, 0, 63, b"[1, \"x\"]"),
        (MYSQL_TYPE_VAR_STRING, 0, 28, b"\xb0\xa1"),
        (MYSQL_TYPE_VAR_STRING, 0, 95, b"\x82\xa0"),
        (MYSQL_TYPE_STRING, 2048, 45, b"a,b,c"),
        (MYSQL_TYPE_BLOB, 0, 33, "\u{1F600}".as_bytes()),
        (MYSQL_TYPE_GEOMETRY, 0, 63, b"\x00\x00\x00\x00\x01\x01\x00\x00\x00"),
    ];
    cells
        .iter()
        .map(|(t, flags, charset, raw)| {
            let mut seed = vec![*t];
            seed.extend_from_slice(&flags.to_le_bytes());
            seed.extend_from_slice(&charset.to_le_bytes());
            seed.extend_from_slice(raw);
            seed
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Caller input

/// A `my.cnf` text, read for the client's groups and applied to the default options.
pub fn option_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let pairs = parse_option_file(&text, &["client", "mysql", "cymysql"]);
    for (key, _) in &pairs {
        assert!(!key.is_empty(), "an option has a name");
        assert!(!key.contains('-') && key.to_ascii_lowercase() == *key, "keys are normalised: {key:?}");
    }
    let mut opts = ConnectOptions::default();
    apply_option_file(&mut opts, &pairs, &Explicit::default());
}

fn option_file_seeds() -> Vec<Vec<u8>> {
    [
        "[client]\nuser = app\npassword = \"p#ss\\\"word\" # comment\nhost=db.example\nport=3307\n\
         default-character-set=utf8mb4\n[mysqld]\ndatadir=/var/lib/mysql\n",
        "\u{feff}# MySQL\n!include /etc/mysql/common.cnf\n!includedir /etc/mysql/conf.d/\n[CLIENT]\n\
         loose-ssl-ca = '/etc/ssl/ca.pem'\nsocket=/run/mysqld/mysqld.sock\ninit-command=SET NAMES utf8\\s\n",
        "[mysql\nuser=leak\n[cymysql]\nsql-mode = ANSI_QUOTES\\\\\ndatabase\n; comment\n\tpasswd=\\n\\t\\r\\b\\x\\\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// A connection URL as a caller passes it.
pub fn url(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_url(text) {
        Ok(opts) => {
            let _ = format!("{opts:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fn url_seeds() -> Vec<Vec<u8>> {
    [
        "mysql://root:secret@127.0.0.1:3306/test?charset=utf8mb4&connect_timeout=2.5",
        "mariadb://app%40corp:p%40ss+word@[::1]:3307/my%20db?autocommit=true&local_infile=false&compress=zstd",
        "mysql://u@host/?ssl=verify_identity&client_flag=65536&sql_mode=ANSI&init_command=SET+NAMES+utf8",
        "mysql://localhost?compress=zlib&allow_cleartext_password=true&server_public_key=-----BEGIN%20PUBLIC",
        "mysql://user:pa:ss@@host:99999/db#frag",
        "postgres://x",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// Reads back a string literal as MySQL does in `mode`: the inverse of [`escape_string_into`]
/// between quotes, for checking that escaping loses and adds nothing.
fn unescape(escaped: &str, mode: EscapeMode) -> Option<String> {
    let mut out = String::new();
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' if chars.next() == Some('\'') => out.push('\''),
            // An unpaired quote would end the literal: the value escaped into SQL.
            '\'' => return None,
            '\\' if !mode.no_backslash_escapes => out.push(match chars.next()? {
                '0' => '\0',
                'n' => '\n',
                'r' => '\r',
                'Z' => '\u{1a}',
                other => other,
            }),
            c => out.push(c),
        }
    }
    Some(out)
}

/// Caller parameters interpolated into a statement. Byte 0: bit 0 NO_BACKSLASH_ESCAPES, bit 1
/// named parameters. Then NUL-separated parts: the statement, and one parameter each, whose
/// first byte chooses its type.
pub fn interpolate(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let mode = EscapeMode { no_backslash_escapes: flags & 1 != 0 };
    let mut parts = rest.split(|&b| b == 0);
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let values: Vec<Value> = parts.map(value_from).collect();
    for v in &values {
        if let Value::Text(s) = v {
            let mut escaped = String::new();
            escape_string_into(&mut escaped, s, mode);
            assert_eq!(unescape(&escaped, mode).as_deref(), Some(s.as_str()), "escaping round trip");
        }
    }
    let params = if flags & 2 != 0 {
        Params::Named(
            values.into_iter().enumerate().map(|(i, v)| (char::from(b'a' + (i % 26) as u8).to_string(), v)).collect(),
        )
    } else {
        Params::Positional(values)
    };
    let _ = interpolate_params(&query, Some(&params), mode);
    if let Some(split) = split_insert_values(&query) {
        assert!(split.prefix.len() + split.values.len() + split.suffix.len() <= query.len());
    }
}

/// A parameter from its bytes: the first chooses the type, the rest gives the value.
fn value_from(part: &[u8]) -> Value {
    let Some((&kind, b)) = part.split_first() else { return Value::Null };
    let n = b.iter().take(8).fold(0u64, |n, &x| (n << 8) | u64::from(x));
    let text = || String::from_utf8_lossy(b).into_owned();
    let byte = |i: usize| b.get(i).copied().unwrap_or(0);
    let date = || Date { year: u16::from_le_bytes([byte(0), byte(1)]), month: byte(2), day: byte(3) };
    match kind % 16 {
        0 => Value::Null,
        1 => Value::Int(n as i64),
        2 => Value::UInt(n),
        3 => Value::Float(f32::from_bits(n as u32)),
        4 => Value::Double(f64::from_bits(n)),
        5 => Value::Decimal(text()),
        6 => Value::Bytes(b.to_vec()),
        7 => Value::Date(date()),
        8 => Value::DateTime(DateTime {
            date: date(),
            hour: byte(4),
            minute: byte(5),
            second: byte(6),
            microsecond: u32::from_le_bytes([byte(7), byte(8), byte(9), 0]),
        }),
        9 => Value::Time(Time {
            negative: byte(0) & 1 != 0,
            hours: u32::from_le_bytes([byte(1), byte(2), byte(3), 0]),
            minutes: byte(4),
            seconds: byte(5),
            microseconds: u32::from_le_bytes([byte(6), byte(7), byte(8), 0]),
        }),
        10 => Value::Year(n as u16),
        11 => Value::Json(text()),
        12 => Value::Bit(n),
        13 => Value::Set(text().split(',').map(str::to_owned).collect()),
        14 => Value::Enum(text()),
        _ => Value::Text(text()),
    }
}

fn interpolate_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let mut add = |flags: u8, parts: &[&[u8]]| {
        let mut seed = vec![flags];
        seed.extend_from_slice(&parts.join(&0u8));
        seeds.push(seed);
    };
    add(
        0,
        &[
            b"SELECT %s, %s, %s",
            b"\x0fO'Reilly \\ \"x\"\n\x1a",
            b"\x01\x80\x00\x00\x00\x00\x00\x00\x00",
            b"\x06\x00\xff",
        ],
    );
    add(1, &[b"SELECT %s LIKE 'a%%'", b"\x0fit''s"]);
    add(2, &[b"UPDATE t SET a = %(a)s WHERE b = %(b)s", b"\x04\x3f\xf8\x00\x00\x00\x00\x00\x00", b"\x05-12.50"]);
    add(
        0,
        &[
            b"INSERT INTO t (a, b) VALUES (%s, %s) ON DUPLICATE KEY UPDATE b = VALUES(b)",
            b"\x07\xe8\x07\x02\x1d",
            b"\x09\x01\x46\x03\x00\x3b\x3b\x3f\x42\x0f",
        ],
    );
    add(0, &[b"REPLACE INTO t VALUES(%s)", b"\x0da,b,c"]);
    add(0, &[b"SELECT %d", b"\x02\x01"]);
    seeds
}

// ---------------------------------------------------------------------------------------------

/// A fixed sequence of mutations of `seed`, for the smoke test: every truncation (sampled past
/// 256 bytes), single bit flips, bytes set to length-encoding markers and length fields
/// inflated to their maximum, and a few bytes changed, inserted or removed at once.
pub fn mutations(seed: &[u8], count: usize) -> Vec<Vec<u8>> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (seed.len() as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if bound == 0 {
            0
        } else {
            (state % bound as u64) as usize
        }
    };
    let mut out = Vec::with_capacity(count + 256);
    let step = seed.len().div_ceil(256).max(1);
    out.extend((0..seed.len()).step_by(step).map(|n| seed[..n].to_vec()));
    if seed.is_empty() {
        return out;
    }
    const MARKERS: [u8; 7] = [0x00, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF, 0x80];
    for i in 0..count {
        let mut m = seed.to_vec();
        match i % 4 {
            0 => {
                let at = next(m.len());
                m[at] ^= 1 << next(8);
            }
            1 => {
                let at = next(m.len());
                m[at] = MARKERS[next(MARKERS.len())];
            }
            2 => {
                // A length field (1, 2, 3 or 8 bytes) at its maximum.
                let at = next(m.len());
                let width = [1, 2, 3, 8][next(4)];
                for b in m.iter_mut().skip(at).take(width) {
                    *b = 0xFF;
                }
            }
            _ => {
                for _ in 0..=next(3) {
                    match next(3) {
                        0 => {
                            let at = next(m.len());
                            m[at] = next(256) as u8;
                        }
                        1 => {
                            let at = next(m.len() + 1);
                            m.insert(at, next(256) as u8);
                        }
                        _ if m.len() > 1 => {
                            let at = next(m.len());
                            m.remove(at);
                        }
                        _ => {}
                    }
                }
            }
        }
        out.push(m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mutations run per seed: with every target's seeds, about 0.3 million inputs in all.
    const MUTATIONS_PER_SEED: usize = 2000;
    /// Fewer for the auth target, whose inputs run key derivations and RSA.
    const AUTH_MUTATIONS_PER_SEED: usize = 400;

    fn smoke(name: &str) {
        let target = TARGETS.iter().find(|t| t.name == name).expect("a target of that name");
        let seeds = (target.seeds)();
        assert!(!seeds.is_empty(), "{name} has seeds");
        for seed in &seeds {
            (target.run)(seed);
            let count = if name == "auth" { AUTH_MUTATIONS_PER_SEED } else { MUTATIONS_PER_SEED };
            for m in mutations(seed, count) {
                (target.run)(&m);
            }
        }
    }

    macro_rules! smoke_tests {
        ($($name:ident),* $(,)?) => {
            $(
                #[test]
                fn $name() {
                    smoke(stringify!($name));
                }
            )*

            #[test]
            fn every_target_has_a_smoke_test() {
                let tested = [$(stringify!($name),)* "compressed_zstd"];
                for t in TARGETS {
                    assert!(tested.contains(&t.name), "no smoke test for {}", t.name);
                }
            }
        };
    }

    smoke_tests!(
        packet_codec,
        compressed_zlib,
        handshake,
        auth,
        ok_err_eof,
        column_definitions,
        result_set,
        text_value,
        option_file,
        url,
        interpolate,
    );

    #[cfg(feature = "zstd")]
    #[test]
    fn compressed_zstd() {
        smoke("compressed_zstd");
    }

    #[test]
    fn seeds_reach_past_the_first_check() {
        // A seed that every parser refuses at once would seed nothing: the captured exchanges
        // must be read to their end.
        let reply = captured_reply_packets();
        assert_eq!(split_packets(&reply).len(), 4);
        assert!(HandshakeV10::parse(captured::MARIADB_HANDSHAKE).is_ok());
        let native_ok = auth_seeds().into_iter().next().unwrap();
        assert_eq!(auth_exchange(0, FUZZ_PASSWORD, &native_ok[1..]).ok(), Some(()));
        for seed in auth_seeds() {
            let (flags, stream) = seed.split_first().unwrap();
            let password = if flags & 8 != 0 { "" } else { FUZZ_PASSWORD };
            let last = split_packets(stream).last().map(|p| p.first().copied());
            let result = auth_exchange(*flags, password, stream);
            // With no TLS and no key of the caller's, every exchange ending in OK is read to its
            // end, unless a plugin refuses by policy (not a malformed packet).
            match last {
                Some(Some(0x00)) if *flags == 0 => {
                    assert!(!matches!(result, Err(Error::Protocol(_))), "{seed:?}: {result:?}")
                }
                Some(Some(0x00)) => {}
                _ => assert!(result.is_err(), "{seed:?}"),
            }
        }
    }

    #[test]
    fn mutations_are_fixed_and_varied() {
        let seed = captured::OK_AFTER_INSERT;
        let a = mutations(seed, 100);
        assert_eq!(a, mutations(seed, 100));
        assert!(a.iter().filter(|m| m.as_slice() != seed).count() > 90);
        assert!(a.iter().any(|m| m.len() > seed.len()) && a.iter().any(|m| m.len() < seed.len()));
    }
}
