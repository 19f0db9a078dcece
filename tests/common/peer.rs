//! A scripted MySQL server over plain TCP, for exchanges the real MariaDB cannot produce (values
//! it never sends, hostile text, a connection dropped on cue). It logs any client in, then answers
//! each query from a script.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::packet;

/// MariaDB 10.11's Initial Handshake Packet as captured, with CLIENT_DEPRECATE_EOF and the MariaDB
/// extended capabilities cleared so that result sets take their classic form (EOF packets, no
/// metadata cache).
pub const HANDSHAKE: &[u8] = b"\x0a5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x03\x00\x00\x00^MFXes6P\x00\xfe\xf7\x08\x02\x00\xff\x80\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00mWKP3MiGgREA\x00mysql_native_password\x00";

/// OK_Packet, autocommit off: connecting needs no further statement.
pub const OK: &[u8] = b"\x00\x00\x00\x00\x00\x00\x00";

/// EOF_Packet, no warnings, no status flags.
pub const EOF: &[u8] = b"\xfe\x00\x00\x00\x00";

/// The server side of one connection.
pub struct Peer {
    pub stream: TcpStream,
}

impl Peer {
    pub fn send(&mut self, seq: u8, payload: &[u8]) {
        self.stream.write_all(&packet(seq, payload)).unwrap();
    }

    /// The next packet from the client: (sequence id, payload); None at EOF.
    pub fn recv(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).ok()?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        let mut payload = vec![0; len];
        self.stream.read_exact(&mut payload).ok()?;
        Some((header[3], payload))
    }

    /// Sends [`HANDSHAKE`] and accepts whatever the client answers.
    pub fn login(&mut self) {
        self.send(0, HANDSHAKE);
        let (seq, _) = self.recv().expect("a HandshakeResponse");
        self.send(seq + 1, OK);
    }

    /// Answers each COM_QUERY with the packets `reply` gives for its SQL (sequence ids from 1),
    /// or hangs up when it gives None; any other command gets OK. Returns the SQL seen, once the
    /// client quits or goes away.
    pub fn serve(&mut self, mut reply: impl FnMut(&str) -> Option<Vec<Vec<u8>>>) -> Vec<String> {
        let mut seen = Vec::new();
        while let Some((_, payload)) = self.recv() {
            match payload.split_first() {
                Some((0x01, _)) => break,
                Some((0x03, sql)) => {
                    let sql = String::from_utf8_lossy(sql).into_owned();
                    let packets = reply(&sql);
                    seen.push(sql);
                    let Some(packets) = packets else { break };
                    for (seq, p) in (1u8..).zip(&packets) {
                        self.send(seq, p);
                    }
                }
                _ => self.send(1, OK),
            }
        }
        seen
    }
}

/// Starts a scripted server for one connection; the script's result comes back through the handle.
pub fn scripted<T: Send + 'static>(script: impl FnOnce(&mut Peer) -> T + Send + 'static) -> (u16, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        script(&mut Peer { stream })
    });
    (port, handle)
}

/// ERR_Packet with `code`, `sqlstate` and `message` as given, whatever bytes they hold.
pub fn err(code: u16, sqlstate: &[u8; 5], message: &[u8]) -> Vec<u8> {
    let mut p = vec![0xff];
    p.extend_from_slice(&code.to_le_bytes());
    p.push(b'#');
    p.extend_from_slice(sqlstate);
    p.extend_from_slice(message);
    p
}

fn lenenc_bytes(out: &mut Vec<u8>, b: &[u8]) {
    match b.len() {
        n if n < 251 => out.push(n as u8),
        n if n < 1 << 16 => {
            out.push(0xfc);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        n => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
    }
    out.extend_from_slice(b);
}

/// ColumnDefinition41 of a column `name` of MYSQL_TYPE_* `type_code` (utf8mb4, no flags).
pub fn column(name: &str, type_code: u8) -> Vec<u8> {
    let mut p = Vec::new();
    for field in ["def", "test", "t", "t", name, name].map(str::as_bytes) {
        lenenc_bytes(&mut p, field);
    }
    p.push(0x0c);
    p.extend_from_slice(&45u16.to_le_bytes());
    p.extend_from_slice(&1024u32.to_le_bytes());
    p.push(type_code);
    p.extend_from_slice(&0u16.to_le_bytes());
    p.push(if matches!(type_code, 4 | 5) { 31 } else { 0 });
    p.extend_from_slice(&[0, 0]);
    p
}

/// A text-protocol result set: column count, definitions, EOF, rows (None is NULL), EOF.
pub fn result_set(columns: &[(&str, u8)], rows: &[Vec<Option<&str>>]) -> Vec<Vec<u8>> {
    let mut packets = vec![vec![columns.len() as u8]];
    packets.extend(columns.iter().map(|(name, t)| column(name, *t)));
    packets.push(EOF.to_vec());
    for row in rows {
        let mut p = Vec::new();
        for cell in row {
            match cell {
                Some(text) => lenenc_bytes(&mut p, text.as_bytes()),
                None => p.push(0xfb),
            }
        }
        packets.push(p);
    }
    packets.push(EOF.to_vec());
    packets
}
