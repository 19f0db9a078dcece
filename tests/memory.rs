//! Memory limits: `max-result-bytes` bounds what a buffered result may hold, a result over it is a
//! typed error with the connection still usable, the host's store limiter bounds the instance,
//! and lengths a server announces without sending allocate nothing.
//!
//! The tests against the real MariaDB come first. The scripted peers after them send deliberately
//! hostile bytes (lengths and counts announced and never sent, oversized definitions), which a
//! real server does not produce.

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::*;
use host_test::driver::{
    ConnectOptions, ErrorKind, Host, PoolOptions, Sandbox, Session, Statement, Value, DEFAULT_MEMORY_LIMIT,
};

const MIB: u64 = 1 << 20;
const CR_OUT_OF_MEMORY: u16 = 2008;
const CR_NET_PACKET_TOO_LARGE: u16 = 2020;
const CR_SERVER_GONE_ERROR: u16 = 2006;
const CR_SERVER_LOST: u16 = 2013;
const CR_MALFORMED_PACKET: u16 = 2027;

/// 100,000 rows of an integer and 100 bytes of text: about 11 MiB on the wire, more decoded.
const WIDE: &str = "SELECT seq, REPEAT('x', 100) FROM seq_1_to_100000";

fn capped(s: &mut Session, max_result_bytes: u64) -> ConnectOptions {
    ConnectOptions { max_result_bytes, ..options(s) }
}

fn connect_capped(s: &mut Session, max_result_bytes: u64) -> host_test::driver::Conn {
    let o = capped(s, max_result_bytes);
    s.connect(&o).unwrap().expect("connect")
}

fn one() -> Vec<Vec<Value>> {
    vec![vec![Value::Int(1)]]
}

#[test]
fn the_default_is_256_mib_and_urls_can_set_it() {
    let mut s = session();
    assert_eq!(s.default_options().unwrap().max_result_bytes, 256 * MIB);
    assert_eq!(options(&mut s).max_result_bytes, 256 * MIB);
    let o = s.options_from_url(&format!("{}?max_result_bytes=64M", server().url("test"))).unwrap().unwrap();
    assert_eq!(o.max_result_bytes, 64 * MIB);
    let e = s.options_from_url(&format!("{}?max_result_bytes=0", server().url("test"))).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    let o = capped(&mut s, 0);
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    assert!(e.message.contains("max_result_bytes"), "{e:?}");
}

#[test]
fn a_buffered_result_over_the_cap_is_refused_and_the_connection_carries_on() {
    let mut s = session();
    let c = connect_capped(&mut s, MIB);
    let thread_id = s.thread_id(c).unwrap();
    let before = s.peak_memory();
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, WIDE);
    assert_kind(&e, ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
    assert!(e.message.contains("max_result_bytes (1048576 bytes)"), "{e:?}");
    // Nothing of the refused result is handed out afterwards.
    assert_eq!(s.fetchall(cur).unwrap(), Ok(vec![]));
    // The rest was read and discarded: the same cursor and session answer the next statement.
    assert_eq!(s.execute(cur, "SELECT 1", None).unwrap(), Ok(1));
    assert_eq!(s.fetchall(cur).unwrap(), Ok(one()));
    assert_eq!(s.thread_id(c).unwrap(), thread_id);
    assert!(s.is_open(c).unwrap());
    // About 1 MiB was held, not the 11 MiB result nor its decoded size.
    let grown = s.peak_memory() - before;
    assert!(grown < 6 << 20, "guest memory grew by {grown} bytes");
    // A result under the cap is read in full on the same connection.
    assert_eq!(rows(&mut s, c, "SELECT seq FROM seq_1_to_1000").len(), 1000);
}

#[test]
fn dict_cursors_count_their_keys_and_are_refused_the_same_way() {
    let mut s = session();
    let c = connect_capped(&mut s, MIB);
    let cur = s.dict_cursor(c).unwrap();
    let e = s.dict_execute(cur, WIDE, None).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
    // 10,000 rows of one short value fit in 1 MiB as tuples, not once every row carries its
    // 200-byte key across the component boundary.
    let long_key = "k".repeat(200);
    let sql = format!("SELECT 1 AS `{long_key}` FROM seq_1_to_10000");
    assert_eq!(rows(&mut s, c, &sql).len(), 10_000);
    let e = s.dict_execute(cur, &sql, None).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
    assert_eq!(s.dict_execute(cur, "SELECT 1 AS one", None).unwrap(), Ok(1));
    assert_eq!(s.dict_fetchall(cur).unwrap(), Ok(vec![vec![("one".to_string(), Value::Int(1))]]));
}

#[test]
fn unbuffered_cursors_stream_past_the_cap_but_fetchall_is_bounded() {
    let mut s = session();
    let c = connect_capped(&mut s, MIB);
    let cur = s.ss_cursor(c).unwrap();
    // Streaming holds one batch at a time: the whole result comes through.
    assert_eq!(s.execute(cur, WIDE, None).unwrap(), Ok(0));
    let mut n = 0;
    loop {
        let batch = s.fetchmany(cur, Some(1000)).unwrap().unwrap();
        if batch.is_empty() {
            break;
        }
        n += batch.len();
    }
    assert_eq!(n, 100_000);
    // fetchall (and a fetchmany as large) accumulates, and is refused past the cap.
    assert_eq!(s.execute(cur, WIDE, None).unwrap(), Ok(0));
    assert_eq!(s.fetchmany(cur, Some(10)).unwrap().unwrap().len(), 10);
    let e = s.fetchall(cur).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
    assert_eq!(s.fetchone(cur).unwrap(), Ok(None));
    assert_eq!(s.execute(cur, WIDE, None).unwrap(), Ok(0));
    let e = s.fetchmany(cur, Some(100_000)).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
    // The session is in step: the next statement gets its own answer.
    assert_eq!(s.execute(cur, "SELECT 1", None).unwrap(), Ok(0));
    assert_eq!(s.fetchall(cur).unwrap(), Ok(one()));
    let ss_dict = s.ss_dict_cursor(c).unwrap();
    assert_eq!(s.dict_execute(ss_dict, WIDE, None).unwrap(), Ok(0));
    let e = s.dict_fetchall(ss_dict).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
}

/// `SELECT NULL, ... (64 columns) FROM seq_1_to_N`: 68 bytes a row on the wire, over 1 KiB decoded.
fn nulls(rows: u32) -> String {
    format!("SELECT {} FROM seq_1_to_{rows}", vec!["NULL"; 64].join(","))
}

#[test]
fn all_null_columns_under_the_default_cap_fail_cleanly_before_the_hosts_limit() {
    let mut s = session();
    let c = connect(&mut s);
    let cur = s.cursor(c).unwrap();
    // 20 MiB on the wire that decodes to over 300 MiB: once, this grew the guest to 4 GiB and trapped.
    let e = exec_err(&mut s, cur, &nulls(300_000));
    assert_kind(&e, ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
    assert_eq!(s.refused_growths(), 0, "the store limiter never had to refuse");
    // The cap (256 MiB) plus buffers, far from the host's 1 GiB and wasm32's 4 GiB.
    assert!(s.peak_memory() < 320 << 20, "peak {}", s.peak_memory());
    assert!(s.peak_memory() < DEFAULT_MEMORY_LIMIT);
    assert_eq!(s.execute(cur, "SELECT 1", None).unwrap(), Ok(1));
    assert_eq!(s.fetchall(cur).unwrap(), Ok(one()));
}

#[test]
fn the_store_limiter_refuses_growth_that_the_cap_would_have_prevented() {
    let limited = || {
        let sandbox = Sandbox { memory_limit: Some(64 << 20), ..Sandbox::default() };
        Host::shared().instantiate(&sandbox).unwrap()
    };
    // With the cap raised past the host's limit, the limiter is what stops the guest: it traps.
    let mut s = limited();
    let o = capped(&mut s, 1 << 30);
    let c = s.connect(&o).unwrap().unwrap();
    let cur = s.cursor(c).unwrap();
    assert!(s.execute(cur, &nulls(100_000), None).is_err(), "the guest traps when refused memory");
    assert!(s.refused_growths() > 0);
    assert!(s.peak_memory() <= 64 << 20);
    // With a cap under the limit, the same statement is a typed error and the instance lives on.
    let mut s = limited();
    let o = capped(&mut s, 16 * MIB);
    let c = s.connect(&o).unwrap().unwrap();
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, &nulls(100_000));
    assert_kind(&e, ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
    assert_eq!(s.refused_growths(), 0);
    assert_eq!(scalar(&mut s, c, "SELECT 1"), Value::Int(1));
}

// Scripted peers: hostile bytes MariaDB does not send.

/// CLIENT_LONG_PASSWORD | LONG_FLAG | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION |
/// MULTI_RESULTS | PLUGIN_AUTH | PLUGIN_AUTH_LENENC_CLIENT_DATA: no CLIENT_DEPRECATE_EOF, so
/// columns and rows end with EOF packets.
const CAPABILITIES: u32 = 0x002a_a205;
/// OK_Packet, autocommit off, so that connecting needs no further statement.
const OK: &[u8] = b"\x00\x00\x00\x00\x00\x00\x00";
const EOF: &[u8] = b"\xfe\x00\x00\x00\x00";

fn handshake() -> Vec<u8> {
    let mut h = vec![10];
    h.extend_from_slice(b"5.5.5-10.11.0-MariaDB\0");
    h.extend_from_slice(&7u32.to_le_bytes());
    h.extend_from_slice(b"abcdefgh\0");
    h.extend_from_slice(&(CAPABILITIES as u16).to_le_bytes());
    h.push(45);
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&((CAPABILITIES >> 16) as u16).to_le_bytes());
    h.push(21);
    h.extend_from_slice(&[0; 10]);
    h.extend_from_slice(b"ijklmnopqrst\0");
    h.extend_from_slice(b"mysql_native_password\0");
    h
}

/// A ColumnDefinition41 for a VARCHAR column called `name`.
fn column(name: &[u8]) -> Vec<u8> {
    let mut c = b"\x03def\x00\x00\x00".to_vec();
    let len = name.len() as u32;
    if len < 251 {
        c.push(len as u8);
    } else {
        c.push(0xfd);
        c.extend_from_slice(&len.to_le_bytes()[..3]);
    }
    c.extend_from_slice(name);
    c.extend_from_slice(b"\x00\x0c\x2d\x00\x00\x01\x00\x00\xfd\x00\x00\x00\x00\x00");
    c
}

struct Peer {
    stream: TcpStream,
}

impl Peer {
    fn send(&mut self, seq: u8, payload: &[u8]) {
        self.stream.write_all(&packet(seq, payload)).unwrap();
    }

    /// The next packet from the client; None once it has gone.
    fn recv(&mut self) -> Option<Vec<u8>> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).ok()?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        let mut payload = vec![0; len];
        self.stream.read_exact(&mut payload).ok()?;
        Some(payload)
    }

    /// Waits for the client's next COM_QUERY.
    fn query(&mut self) -> Vec<u8> {
        let p = self.recv().expect("a query from the client");
        assert_eq!(p.first(), Some(&0x03), "{p:?}");
        p
    }

    /// Sends a result set header: the column count, the definitions and their EOF.
    fn columns(&mut self, defs: &[Vec<u8>]) -> u8 {
        self.send(1, &[defs.len() as u8]);
        let mut seq = 2;
        for d in defs {
            self.send(seq, d);
            seq += 1;
        }
        self.send(seq, EOF);
        seq + 1
    }

    /// Answers `SELECT 1` with a one-row result.
    fn answer_one(&mut self) {
        self.query();
        let seq = self.columns(&[column(b"1")]);
        self.send(seq, b"\x011");
        self.send(seq + 1, EOF);
    }

    /// Hangs up: the client sees the connection lost, never a stall.
    fn hang_up(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

fn scripted(script: impl FnOnce(&mut Peer) + Send + 'static) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut peer = Peer { stream };
        peer.send(0, &handshake());
        peer.recv().expect("a handshake response");
        peer.send(2, OK);
        script(&mut peer);
    });
    (port, handle)
}

/// Connects to a scripted peer with `max_result_bytes`; returns the session and a cursor.
fn scripted_session(port: u16, max_result_bytes: u64) -> (Session, host_test::driver::Conn) {
    let mut s = session();
    let mut o = s.options_from_url(&format!("mysql://u@127.0.0.1:{port}/")).unwrap().unwrap();
    o.max_result_bytes = max_result_bytes;
    let c = s.connect(&o).unwrap().expect("connect to the scripted peer");
    (s, c)
}

#[test]
fn a_row_announced_at_16_mib_and_never_sent_allocates_nothing() {
    let (port, peer) = scripted(|p| {
        p.query();
        let seq = p.columns(&[column(b"a")]);
        // A full-size packet header, then 100 of its 16 MiB - 1 bytes.
        let mut partial = vec![0xff, 0xff, 0xff, seq];
        partial.extend_from_slice(&[b'z'; 100]);
        p.stream.write_all(&partial).unwrap();
        p.hang_up();
    });
    let (mut s, c) = scripted_session(port, 256 * MIB);
    let before = s.peak_memory();
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT a");
    assert_kind(&e, ErrorKind::Operational, Some(CR_SERVER_LOST));
    let grown = s.peak_memory() - before;
    assert!(grown < 1 << 20, "guest memory grew by {grown} bytes for 104 bytes received");
    peer.join().unwrap();
}

#[test]
fn thousands_of_announced_columns_never_sent_allocate_nothing() {
    let (port, peer) = scripted(|p| {
        p.query();
        p.send(1, b"\xfc\x00\x10"); // 4096 columns
        p.send(2, &column(b"a"));
        p.hang_up();
    });
    let (mut s, c) = scripted_session(port, 256 * MIB);
    let before = s.peak_memory();
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT a");
    assert_kind(&e, ErrorKind::Operational, Some(CR_SERVER_LOST));
    let grown = s.peak_memory() - before;
    assert!(grown < 1 << 20, "guest memory grew by {grown} bytes");
    peer.join().unwrap();
}

#[test]
fn huge_announced_counts_and_lengths_are_malformed_packets() {
    // A column count of 2^40, then a cell announcing 2^60 bytes inside a 12-byte packet.
    let cases: [(&[u8], Option<&'static [u8]>); 2] =
        [(b"\xfe\x00\x00\x00\x00\x00\x01\x00\x00", None), (b"\x01", Some(b"\xfe\x00\x00\x00\x00\x00\x00\x00\x10abc"))];
    for (count, row) in cases {
        let count = count.to_vec();
        let (port, peer) = scripted(move |p| {
            p.query();
            p.send(1, &count);
            if let Some(row) = row {
                p.send(2, &column(b"a"));
                p.send(3, EOF);
                p.send(4, row);
            }
            // Whatever the client does next, it must not be waiting on this peer.
            let _ = p.recv();
        });
        let (mut s, c) = scripted_session(port, 256 * MIB);
        let before = s.peak_memory();
        let cur = s.cursor(c).unwrap();
        let e = exec_err(&mut s, cur, "SELECT a");
        assert_kind(&e, ErrorKind::Operational, Some(CR_MALFORMED_PACKET));
        assert!(s.peak_memory() - before < 1 << 20);
        // The session is cleanly broken, not left out of step.
        let e = exec_err(&mut s, cur, "SELECT 1");
        assert_kind(&e, ErrorKind::Operational, Some(CR_SERVER_GONE_ERROR));
        s.close(c).unwrap().unwrap();
        peer.join().unwrap();
    }
}

#[test]
fn a_packet_chain_past_the_limit_is_refused_with_cr_net_packet_too_large() {
    let (port, peer) = scripted(|p| {
        p.query();
        let seq = p.columns(&[column(b"a")]);
        // Two full 16 MiB - 1 parts of one logical packet: past the 16 MiB floor of the limit.
        let part = vec![b'q'; 0xff_ffff];
        for i in 0..2 {
            if p.stream.write_all(&packet(seq + i, &part)).is_err() {
                return;
            }
        }
        let _ = p.recv();
    });
    let (mut s, c) = scripted_session(port, MIB);
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT a");
    assert_kind(&e, ErrorKind::Operational, Some(CR_NET_PACKET_TOO_LARGE));
    assert!(s.peak_memory() < 128 << 20, "peak {}", s.peak_memory());
    let e = exec_err(&mut s, cur, "SELECT 1");
    assert_kind(&e, ErrorKind::Operational, Some(CR_SERVER_GONE_ERROR));
    s.close(c).unwrap().unwrap();
    peer.join().unwrap();
}

#[test]
fn oversized_column_definitions_count_toward_the_cap_and_are_drained() {
    let (port, peer) = scripted(|p| {
        p.query();
        // 64 definitions with 32 KiB names each: 2 MiB of metadata for a 1 MiB cap.
        let defs: Vec<Vec<u8>> = (0..64u8).map(|i| column(&vec![b'a' + i % 26; 32 << 10])).collect();
        let seq = p.columns(&defs);
        let row: Vec<u8> = std::iter::repeat_n(&b"\x01v"[..], 64).flatten().copied().collect();
        for i in 0..3 {
            p.send(seq + i, &row);
        }
        p.send(seq + 3, EOF);
        p.answer_one();
        let _ = p.recv();
    });
    let (mut s, c) = scripted_session(port, MIB);
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELECT wide");
    assert_kind(&e, ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
    assert_eq!(s.execute(cur, "SELECT 1", None).unwrap(), Ok(1));
    assert_eq!(s.fetchall(cur).unwrap(), Ok(vec![vec![Value::Text("1".into())]]));
    s.close(c).unwrap().unwrap();
    peer.join().unwrap();
}

/// What only the 0.2 world has: `gather`, whose tasks' rows come back together. (The 0.3 host runs
/// calls concurrently itself, and each call's rows count on their own; `scripts/test` skips this
/// module for that world.)
mod driver_world {
    use super::*;

    #[test]
    fn gather_results_count_together() {
        let mut s = session();
        let o = capped(&mut s, MIB);
        let settings = PoolOptions { minsize: 2, maxsize: 2, ..s.default_pool_options().unwrap() };
        let p = s.create_pool_with(&o, &settings).unwrap().unwrap();
        let statement = |query: &str| Statement { query: query.to_string(), params: None };
        // Each task's rows fit under 1 MiB alone (about 0.6 MiB), but not all three together.
        let part = "SELECT seq, REPEAT('y', 20) FROM seq_1_to_6000";
        let tasks = vec![vec![statement(part)], vec![statement(part)], vec![statement(part)]];
        let results = s.gather(p, &tasks).unwrap();
        assert_eq!(results.len(), 3);
        let refused = results.iter().filter(|r| r.as_ref().is_err_and(|e| e.code == Some(CR_OUT_OF_MEMORY))).count();
        assert!(refused >= 1, "{:?}", results.iter().map(|r| r.as_ref().map(|v| v[0].rows.len())).collect::<Vec<_>>());
        for r in results.iter().flatten() {
            assert_eq!(r[0].rows.len(), 6000);
        }
        // One task alone is fine, and the pool's connections carry on after the refusals.
        let results = s.gather(p, &[vec![statement(part)], vec![statement("SELECT 1")]]).unwrap();
        assert_eq!(results[0].as_ref().unwrap()[0].rows.len(), 6000);
        assert_eq!(results[1].as_ref().unwrap()[0].rows, one());
        // A task that fails returns no rows, so its earlier rows stop counting against the others. The
        // other task reads its rows after a pause on the server, once the failing one has failed (both
        // sets of rows together would be over the cap).
        let failing = vec![statement(part), statement("SELECT * FROM no_such_table_in_memory_tests")];
        let later = vec![statement("SELECT SLEEP(1)"), statement(part)];
        let results = s.gather(p, &[failing, later]).unwrap();
        assert_kind(results[0].as_ref().unwrap_err(), ErrorKind::Programming, Some(1146));
        assert!(results[1].as_ref().is_ok_and(|r| r[1].rows.len() == 6000), "{:?}", results[1].as_ref().err());
        let big = s.gather(p, &[vec![statement(WIDE)]]).unwrap();
        assert_kind(big[0].as_ref().unwrap_err(), ErrorKind::Operational, Some(CR_OUT_OF_MEMORY));
        let after = s.gather(p, &[vec![statement("SELECT 1")], vec![statement("SELECT 1")]]).unwrap();
        assert!(after.iter().all(|r| r.as_ref().is_ok_and(|r| r[0].rows == one())), "{after:?}");
        s.pool_terminate(p).unwrap();
    }
}
