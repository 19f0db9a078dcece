//! The compressed protocol through the component. zlib against MariaDB: the server really
//! compresses, large and many-row results, statements over 16 MiB, multi-statement batches,
//! executemany, a killed session, and the values that are refused. zstd against a scripted
//! MySQL 8 peer, since MariaDB has no zstd.

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use common::*;
use host_test::driver::{Conn, ConnectOptions, ErrorKind, Params, Session, Value};

const CLIENT_MULTI_STATEMENTS: u32 = 1 << 16;

fn zlib_options(s: &mut Session) -> ConnectOptions {
    let mut o = options(s);
    o.compress = Some("zlib".into());
    o
}

fn compressed(s: &mut Session) -> Conn {
    let o = zlib_options(s);
    s.connect(&o).unwrap().expect("connect with compress=zlib")
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

/// A TCP relay to the test server that counts the bytes the server sends.
fn counting_relay() -> (u16, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let from_server = Arc::new(Mutex::new(0usize));
    let counter = from_server.clone();
    thread::spawn(move || {
        let (client, _) = listener.accept().unwrap();
        let upstream = TcpStream::connect(("127.0.0.1", server().port)).unwrap();
        let (mut c_read, mut u_write) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
        thread::spawn(move || {
            let _ = std::io::copy(&mut c_read, &mut u_write);
            let _ = u_write.shutdown(Shutdown::Write);
        });
        let (mut u_read, mut c_write) = (upstream, client);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match u_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    *counter.lock().unwrap() += n;
                    if c_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = c_write.shutdown(Shutdown::Write);
    });
    (port, from_server)
}

#[test]
fn the_server_really_compresses() {
    let mut s = session();
    let c = compressed(&mut s);
    assert_eq!(rows(&mut s, c, "SHOW SESSION STATUS LIKE 'Compression'"), vec![vec![text("Compression"), text("ON")]]);
    // Without the option the same server leaves the session uncompressed.
    let plain = connect(&mut s);
    assert_eq!(
        rows(&mut s, plain, "SHOW SESSION STATUS LIKE 'Compression'"),
        vec![vec![text("Compression"), text("OFF")]]
    );
}

#[test]
fn a_compressible_result_is_small_on_the_wire() {
    let (port, from_server) = counting_relay();
    let mut s = session();
    let mut o = zlib_options(&mut s);
    o.port = port;
    let c = s.connect(&o).unwrap().expect("connect through the relay");
    let before = *from_server.lock().unwrap();
    let value = scalar(&mut s, c, "SELECT REPEAT('abc', 1000000)");
    assert_eq!(value, text(&"abc".repeat(1_000_000)));
    let sent = *from_server.lock().unwrap() - before;
    assert!(sent < 100_000, "3 MB of text took {sent} bytes on the wire");
}

#[test]
fn a_200000_row_result_is_read_in_full() {
    let mut s = session();
    let c = compressed(&mut s);
    let cur = s.cursor(c).unwrap();
    let n = s.execute(cur, "SELECT seq, CONCAT('row-', seq) FROM seq_1_to_200000", None).unwrap().unwrap();
    assert_eq!(n, 200_000);
    let all = s.fetchall(cur).unwrap().unwrap();
    assert_eq!(all.len(), 200_000);
    let mut sum = 0u64;
    for (i, row) in all.iter().enumerate() {
        let k = i as u64 + 1;
        assert_eq!(row, &vec![Value::Uint(k), text(&format!("row-{k}"))], "row {i}");
        sum += k;
    }
    assert_eq!(sum, 200_000 * 200_001 / 2);
    // The same through an unbuffered cursor, counted as it streams.
    let ss = s.ss_cursor(c).unwrap();
    s.execute(ss, "SELECT seq FROM seq_1_to_200000", None).unwrap().unwrap();
    let (mut count, mut sum) = (0u64, 0u64);
    loop {
        let batch = s.fetchmany(ss, Some(5000)).unwrap().unwrap();
        if batch.is_empty() {
            break;
        }
        for row in batch {
            match row.as_slice() {
                [Value::Uint(k)] => sum += k,
                other => panic!("{other:?}"),
            }
            count += 1;
        }
    }
    assert_eq!((count, sum), (200_000, 200_000 * 200_001 / 2));
    assert_eq!(scalar(&mut s, c, "SELECT 'after'"), text("after"));
}

#[test]
fn a_20_mib_value_spans_several_envelopes() {
    let mut s = session();
    let c = compressed(&mut s);
    let len = 20 * 1024 * 1024;
    let cur = s.cursor(c).unwrap();
    s.execute(cur, &format!("SELECT REPEAT('0123456789abcdef', {}), 'next'", len / 16), None).unwrap().unwrap();
    let got = s.fetchall(cur).unwrap().unwrap();
    match got.as_slice() {
        [row] => {
            assert_eq!(row.len(), 2);
            match &row[0] {
                Value::Text(t) => {
                    assert_eq!(t.len(), len);
                    assert!(t.as_bytes().chunks(16).all(|c| c == b"0123456789abcdef"), "the value came back different");
                }
                other => panic!("{:?}", std::mem::discriminant(other)),
            }
            assert_eq!(row[1], text("next"));
        }
        other => panic!("{} rows", other.len()),
    }
    assert_eq!(scalar(&mut s, c, "SELECT 1"), int(1));
}

#[test]
fn a_17_mib_parameter_round_trips_byte_identical() {
    let mut s = session();
    let c = compressed(&mut s);
    let t = fresh_table(&mut s, c, "compress_blob", "k INT PRIMARY KEY, b LONGBLOB");
    // Noise does not compress: the server sends it back in stored envelopes.
    let data = noise(17 * 1024 * 1024, 0x2545_F491_4F6C_DD1D);
    let cur = s.cursor(c).unwrap();
    let p = Params::Positional(vec![Value::Bytes(data.clone())]);
    assert_eq!(s.execute(cur, &format!("INSERT INTO {t} VALUES (1, %s)"), Some(&p)).unwrap(), Ok(1));
    assert_eq!(scalar(&mut s, c, &format!("SELECT LENGTH(b) FROM {t}")), int(data.len() as i64));
    match scalar(&mut s, c, &format!("SELECT b FROM {t} WHERE k = 1")) {
        Value::Bytes(b) => {
            assert_eq!(b.len(), data.len());
            assert_eq!(b.iter().zip(&data).position(|(x, y)| x != y), None, "bytes differ");
        }
        other => panic!("expected bytes, got {:?}", std::mem::discriminant(&other)),
    }
    // A large text statement that compresses well, the other path of the same size.
    let n = 17 * 1024 * 1024 / 5;
    let p = Params::Positional(vec![text(&"x'y\\z".repeat(n))]);
    s.execute(cur, &format!("UPDATE {t} SET b = %s WHERE k = 1"), Some(&p)).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, &format!("SELECT b = REPEAT('x\\'y\\\\z', {n}) FROM {t}")), int(1));
}

#[test]
fn multi_statement_results_with_nextset() {
    let mut s = session();
    let mut o = zlib_options(&mut s);
    o.client_flag |= CLIENT_MULTI_STATEMENTS;
    let c = s.connect(&o).unwrap().unwrap();
    let cur = s.cursor(c).unwrap();
    s.execute(cur, "SELECT 1; SELECT REPEAT('y', 5000); DO 1; SELECT seq FROM seq_1_to_3000; SELECT 'last'", None)
        .unwrap()
        .unwrap();
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![int(1)]]);
    assert_eq!(s.nextset(cur).unwrap(), Ok(true));
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![text(&"y".repeat(5000))]]);
    assert_eq!(s.nextset(cur).unwrap(), Ok(true));
    assert_eq!(s.description(cur).unwrap(), None);
    assert_eq!(s.nextset(cur).unwrap(), Ok(true));
    assert_eq!(s.fetchall(cur).unwrap().unwrap().len(), 3000);
    assert_eq!(s.nextset(cur).unwrap(), Ok(true));
    assert_eq!(s.fetchall(cur).unwrap().unwrap(), vec![vec![text("last")]]);
    assert_eq!(s.nextset(cur).unwrap(), Ok(false));
    // A batch left unread is drained before the next command.
    s.execute(cur, "SELECT seq FROM seq_1_to_10000; SELECT 2", None).unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT 'clean'"), text("clean"));
}

#[test]
fn small_commands_take_the_stored_path() {
    let mut s = session();
    let c = compressed(&mut s);
    for i in 0..300 {
        assert_eq!(scalar(&mut s, c, &format!("SELECT {i}")), int(i));
    }
    s.ping(c, false).unwrap().unwrap();
    s.select_db(c, "mysql").unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT DATABASE()"), text("mysql"));
    s.set_charset(c, "latin1").unwrap().unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT @@character_set_client"), text("latin1"));
    s.autocommit(c, true).unwrap().unwrap();
    s.commit(c).unwrap().unwrap();
    // Errors come back in sequence and leave the session usable.
    let cur = s.cursor(c).unwrap();
    let e = exec_err(&mut s, cur, "SELEKT 1");
    assert_kind(&e, ErrorKind::Programming, Some(1064));
    assert_eq!(scalar(&mut s, c, "SELECT 'still here'"), text("still here"));
}

#[test]
fn executemany_batches_through_compression() {
    let mut s = session();
    let c = compressed(&mut s);
    let t = fresh_table(&mut s, c, "compress_many", "a INT PRIMARY KEY, b VARCHAR(40)");
    let seq: Vec<Params> =
        (0..5000).map(|i| Params::Positional(vec![int(i), text(&format!("row '{i}' \\"))])).collect();
    let cur = s.cursor(c).unwrap();
    assert_eq!(s.executemany(cur, &format!("INSERT INTO {t} (a, b) VALUES (%s, %s)"), &seq).unwrap(), Ok(5000));
    assert_eq!(
        rows(&mut s, c, &format!("SELECT COUNT(*), SUM(a), MIN(b), MAX(b) FROM {t}")),
        vec![vec![int(5000), Value::Decimal("12497500".into()), text("row '0' \\"), text("row '999' \\")]]
    );
}

#[test]
fn kill_during_a_compressed_session_then_ping_reconnects() {
    let mut s = session();
    let c = compressed(&mut s);
    let id = s.thread_id(c).unwrap();
    assert_eq!(scalar(&mut s, c, "SELECT 1"), int(1));
    let cur = s.cursor(c).unwrap();
    server().admin_sql(&format!("KILL {id}")).unwrap();
    assert!(wait_gone(id));
    let e = exec_err(&mut s, cur, "SELECT 1");
    assert_eq!(e.kind, ErrorKind::Operational, "{e:?}");
    assert!(matches!(e.code, Some(2013) | Some(2006) | Some(1927) | Some(4031)), "{e:?}");
    assert!(!s.is_open(c).unwrap());
    s.ping(c, true).unwrap().expect("ping(reconnect=true) reconnects");
    assert_ne!(s.thread_id(c).unwrap(), id);
    assert_eq!(
        rows(&mut s, c, "SHOW SESSION STATUS LIKE 'Compression'"),
        vec![vec![text("Compression"), text("ON")]],
        "the new session is compressed too"
    );
}

#[test]
fn zstd_against_mariadb_is_uncompressed_and_bad_values_are_refused() {
    let mut s = session();
    let mut o = options(&mut s);
    // MariaDB offers zlib but not zstd: the session is opened without compression.
    o.compress = Some("zstd".into());
    let c = s.connect(&o).unwrap().expect("compress=zstd falls back to no compression");
    assert_eq!(rows(&mut s, c, "SHOW SESSION STATUS LIKE 'Compression'"), vec![vec![text("Compression"), text("OFF")]]);
    assert_eq!(s.compression(c).unwrap(), None, "the caller can see the fallback");
    let z = compressed(&mut s);
    assert_eq!(s.compression(z).unwrap().as_deref(), Some("zlib"));
    let plain = connect(&mut s);
    assert_eq!(s.compression(plain).unwrap(), None);
    for level in [0, 23, 255] {
        o.zstd_compression_level = level;
        let e = s.connect(&o).unwrap().unwrap_err();
        assert_kind(&e, ErrorKind::Programming, None);
        assert!(e.message.contains("zstd_compression_level"), "{e:?}");
    }
    o.zstd_compression_level = 3;
    o.compress = Some("gzip".into());
    let e = s.connect(&o).unwrap().unwrap_err();
    assert_kind(&e, ErrorKind::Programming, None);
    assert!(e.message.contains("gzip"), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// zstd against a scripted MySQL 8 peer.

const CLIENT_COMPRESS: u32 = 1 << 5;
const CLIENT_ZSTD_COMPRESSION_ALGORITHM: u32 = 1 << 26;

/// A MySQL 8.0.36 Initial Handshake Packet: every capability MySQL 8 sends, zlib and zstd included.
fn mysql8_handshake() -> Vec<u8> {
    let nonce = b"\x3d\x4f\x11\x7a\x22\x5e\x63\x05\x7f\x2b\x48\x19\x6c\x0e\x54\x31\x2a\x77\x09\x66";
    let mut h = vec![10];
    h.extend_from_slice(b"8.0.36\0");
    h.extend_from_slice(&7u32.to_le_bytes());
    h.extend_from_slice(&nonce[..8]);
    h.push(0);
    let caps: u32 = 0xdfff_ffff;
    assert_ne!(caps & CLIENT_ZSTD_COMPRESSION_ALGORITHM, 0);
    h.extend_from_slice(&(caps as u16).to_le_bytes());
    h.push(255);
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    h.push(21);
    h.extend_from_slice(&[0; 10]);
    h.extend_from_slice(&nonce[8..]);
    h.push(0);
    h.extend_from_slice(b"mysql_native_password\0");
    h
}

/// Reads one plain packet: (sequence id, payload).
fn read_packet(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).unwrap();
    let mut payload = vec![0; u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize];
    stream.read_exact(&mut payload).unwrap();
    (header[3], payload)
}

/// Reads one compressed envelope: (compressed sequence id, announced uncompressed length, body).
fn read_envelope(stream: &mut TcpStream) -> (u8, usize, Vec<u8>) {
    let mut header = [0u8; 7];
    stream.read_exact(&mut header).unwrap();
    let mut body = vec![0; u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize];
    stream.read_exact(&mut body).unwrap();
    (header[3], u32::from_le_bytes([header[4], header[5], header[6], 0]) as usize, body)
}

/// What the scripted MySQL 8 peer saw the client send.
struct Seen {
    response: (u8, Vec<u8>),
    query_envelope: (u8, usize, Vec<u8>),
    query: Vec<u8>,
}

/// zstd end to end: the client asks for CLIENT_ZSTD_COMPRESSION_ALGORITHM with its level byte,
/// compresses its COM_QUERY as a zstd frame and reads a zstd-compressed result set. MariaDB has
/// no zstd protocol compression (only MySQL 8.0.18+ does), so the real test server cannot play
/// this; a scripted peer speaks MySQL 8 instead and checks the client's bytes with ruzstd.
#[test]
fn scripted_mysql8_zstd_session() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(&packet(0, &mysql8_handshake())).unwrap();
        let response = read_packet(&mut stream);
        // OK_Packet, uncompressed, autocommit off so that connecting sends nothing more.
        stream.write_all(&packet(2, b"\x00\x00\x00\x00\x00\x00\x00")).unwrap();
        // From the first command on, everything is in envelopes.
        let query_envelope = read_envelope(&mut stream);
        let (_, announced, body) = &query_envelope;
        let mut query = Vec::new();
        ruzstd::decoding::StreamingDecoder::new(&body[..]).unwrap().read_to_end(&mut query).unwrap();
        assert_eq!(query.len(), *announced);
        // The reply MySQL would send for SELECT REPEAT('a', 100): column count, column definition,
        // row, and the OK that ends it (CLIENT_DEPRECATE_EOF), packets 1 to 4, captured from MariaDB.
        let mut reply = packet(1, b"\x01");
        reply.extend(packet(
            2,
            b"\x03def\x00\x00\x00\x10REPEAT('a', 100)\x00\x0c-\x00\x90\x01\x00\x00\xfd\x00\x00'\x00\x00",
        ));
        let mut row = vec![100u8];
        row.extend_from_slice(&[b'a'; 100]);
        reply.extend(packet(3, &row));
        reply.extend(packet(4, b"\xfe\x00\x00\x02\x00\x00\x00"));
        let frame = ruzstd::encoding::compress_to_vec(&reply[..], ruzstd::encoding::CompressionLevel::Fastest);
        assert!(frame.len() < reply.len());
        let mut envelope = (frame.len() as u32).to_le_bytes()[..3].to_vec();
        envelope.push(1);
        envelope.extend_from_slice(&(reply.len() as u32).to_le_bytes()[..3]);
        envelope.extend_from_slice(&frame);
        stream.write_all(&envelope).unwrap();
        // Wait for the client to go away (COM_QUIT in an envelope, then EOF).
        let _ = std::io::copy(&mut stream, &mut std::io::sink());
        Seen { response, query_envelope, query }
    });

    let mut s = session();
    let mut o = options(&mut s);
    o.port = port;
    o.connect_timeout = Some(5.0);
    o.compress = Some("zstd".into());
    o.zstd_compression_level = 7;
    let c = s.connect(&o).unwrap().expect("connect to the scripted MySQL 8 peer");
    // Long enough (50 bytes or more) and repetitive enough to be sent compressed.
    let sql = format!("SELECT REPEAT('a', 100) /* {} */", "zstd ".repeat(40));
    assert_eq!(rows(&mut s, c, &sql), vec![vec![text(&"a".repeat(100))]]);
    assert_eq!(s.compression(c).unwrap().as_deref(), Some("zstd"));
    s.close(c).unwrap().unwrap();
    drop(s);
    let seen = peer.join().expect("the peer saw what it expected");

    let (seq, response) = seen.response;
    assert_eq!(seq, 1);
    let caps = u32::from_le_bytes(response[..4].try_into().unwrap());
    assert_ne!(caps & CLIENT_ZSTD_COMPRESSION_ALGORITHM, 0, "zstd asked for");
    assert_eq!(caps & CLIENT_COMPRESS, 0, "zlib not asked for as well");
    assert_eq!(response.last(), Some(&7), "zstd_compression_level closes HandshakeResponse41");

    let (seq, announced, body) = seen.query_envelope;
    assert_eq!(seq, 0);
    assert_ne!(announced, 0, "the COM_QUERY envelope is compressed, not stored");
    assert_eq!(&body[..4], &[0x28, 0xb5, 0x2f, 0xfd], "a zstd frame");
    assert!(body.len() < announced, "{} bytes for {announced}", body.len());
    let mut expected = vec![0x03];
    expected.extend_from_slice(sql.as_bytes());
    assert_eq!(seen.query, packet(0, &expected));
}

/// Prepared statements through zlib: a binary result and a 1 MiB binary parameter that does not
/// compress (stored envelopes), then the connection carries on.
#[test]
fn prepared_statements_through_compression() {
    let mut s = session();
    let c = compressed(&mut s);
    assert_eq!(s.compression(c).unwrap().as_deref(), Some("zlib"));
    let data = noise(1024 * 1024, 0x9E37_79B9_7F4A_7C15);
    let st = s.prepare(c, "SELECT ?, LENGTH(?), CAST(? AS UNSIGNED), CAST(? AS DATETIME(6))").unwrap().unwrap();
    let when = host_test::driver::bindings::exports::cymysql::aio::types::Datetime {
        year: 2024,
        month: 2,
        day: 29,
        hour: 1,
        minute: 2,
        second: 3,
        microsecond: 4,
    };
    let params =
        [Value::Bytes(data.clone()), Value::Bytes(data.clone()), Value::Uint(u64::MAX - 1), Value::Datetime(when)];
    let cur = s.stmt_execute(st, &params).unwrap().unwrap();
    let row = s.fetchone(cur).unwrap().unwrap().expect("one row");
    assert!(row[0] == Value::Bytes(data.clone()), "the bytes came back different");
    assert_eq!(row[1..], [int(data.len() as i64), Value::Uint(u64::MAX - 1), Value::Datetime(when)]);
    assert_eq!(scalar(&mut s, c, "SELECT 1"), int(1));
}
