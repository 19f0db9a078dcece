use super::*;
use crate::client::transport::LocalFuture;
use crate::error::{ProtocolError, Timeout};
use crate::protocol::constants::capability::*;
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
    fn random(&self) -> crate::protocol::auth::FillRandom {
        crate::client::native::os_random
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
    let (conn, input, _) = scripted_connection_with(Some("zlib"), crate::protocol::handshake::tests::MARIADB_HANDSHAKE);
    // As a killed session's server sends it: envelope 0 when 1 is due.
    input.borrow_mut().extend(stored(0, &packet(0, b"\xff\x87\x07#70100Connection was killed")));
    let mut cursor = conn.cursor();
    let e = futures::executor::block_on(cursor.execute("SELECT 1", None)).unwrap_err();
    assert_eq!(e.code(), Some(1927), "{e:?}");
    assert!(!conn.is_usable());
}

#[test]
fn a_corrupted_envelope_is_a_protocol_error() {
    let (conn, input, _) = scripted_connection_with(Some("zlib"), crate::protocol::handshake::tests::MARIADB_HANDSHAKE);
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
    let options =
        ConnectOptions { autocommit: None, read_timeout: Some(Duration::from_secs(1)), ..ConnectOptions::default() };
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
    let options =
        ConnectOptions { autocommit: None, read_timeout: Some(Duration::from_secs(1)), ..ConnectOptions::default() };
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

/// Payloads of the packets in `bytes` (uncompressed framing).
fn payloads(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 4 {
        let len = usize::from(rest[0]) | usize::from(rest[1]) << 8 | usize::from(rest[2]) << 16;
        out.push(&rest[4..4 + len]);
        rest = &rest[4 + len..];
    }
    out
}

/// A server that answers COM_STMT_FETCH with an empty batch while its status still says the cursor
/// is open: the client ends the cursor there instead of asking forever.
#[test]
fn a_server_cursor_ends_at_an_empty_batch_whatever_its_status_says() {
    use crate::protocol::binary_row::tests::captured::COLUMNS;
    use crate::protocol::value::Value;
    let (conn, input, written) = scripted_connection();
    // `n INT` of the captured `test.edge` definitions.
    let column = COLUMNS[22];
    // An OK ending rows (0xFE under CLIENT_DEPRECATE_EOF): SERVER_STATUS_CURSOR_EXISTS | AUTOCOMMIT.
    const OPEN: &[u8] = b"\xfe\x00\x00\x42\x00\x00\x00";
    {
        let mut i = input.borrow_mut();
        // COM_STMT_PREPARE_OK: statement 1, one column, no parameters.
        i.extend(packet(1, b"\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"));
        i.extend(packet(2, column));
        // COM_STMT_EXECUTE with a cursor: the definitions, then at once the end that says it opened.
        i.extend(packet(1, b"\x01"));
        i.extend(packet(2, column));
        i.extend(packet(3, OPEN));
        // The first COM_STMT_FETCH: one row, the cursor still open.
        i.extend(packet(1, b"\x00\x00\x05\x00\x00\x00"));
        i.extend(packet(2, OPEN));
        // The second: no rows, and the same claim.
        i.extend(packet(1, OPEN));
    }
    written.borrow_mut().clear();
    let fut = async {
        let st = conn.prepare("SELECT n FROM t").await?;
        let mut cur = st.open_cursor(&[], 1).await?;
        let rows = cur.fetchall().await?;
        Ok::<_, Error>((rows, cur.rowcount()))
    };
    let mut fut = std::pin::pin!(fut);
    let waker = futures::task::noop_waker();
    // Every reply is there already: a third fetch would wait for one that never comes.
    let Poll::Ready(done) = fut.as_mut().poll(&mut Context::from_waker(&waker)) else {
        panic!("the client asked for another batch after an empty one");
    };
    assert_eq!(done.unwrap(), (vec![vec![Value::Int(5)]], 1));
    let written = written.borrow();
    let commands: Vec<u8> = payloads(&written).iter().map(|p| p[0]).collect();
    // COM_STMT_PREPARE, COM_STMT_EXECUTE (flags: CURSOR_TYPE_READ_ONLY), two COM_STMT_FETCH of one row.
    assert_eq!(commands, [0x16, 0x17, 0x1c, 0x1c]);
    assert_eq!(payloads(&written)[1][5], 0x01);
    assert_eq!(payloads(&written)[2], [0x1c, 1, 0, 0, 0, 1, 0, 0, 0]);
    assert!(conn.is_usable());
}
