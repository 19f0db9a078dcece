//! The session's framing: MySQL Packets, inside the compressed protocol's envelopes once that is
//! agreed. It owns the bytes read and not yet decoded and the bytes of the write in progress, and
//! recognises the ERR_Packet a server sends out of sequence when it closes a session.

use bytes::{Bytes, BytesMut};

use super::codec::PacketCodec;
use super::compress::{peek_envelope, Algorithm, CompressedCodec};
use super::err_packet::{framed_server_error, ErrPacket};
use super::error::ProtocolError;

/// Why no packet could be read: the server's bytes break the protocol, or the server ended the
/// session with an ERR_Packet out of sequence (KILL, shutdown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    Protocol(ProtocolError),
    Server(ErrPacket),
}

/// The compressed protocol once it is on.
#[derive(Debug)]
struct Compressed {
    codec: CompressedCodec,
    /// Inflated bytes the packet codec has not taken yet.
    plain: BytesMut,
    /// The envelopes of the write in progress.
    envelopes: Vec<u8>,
}

/// Packets to and from the server, plain or compressed.
#[derive(Debug)]
pub struct Framing {
    packets: PacketCodec,
    compressed: Option<Compressed>,
    /// Bytes from the server not decoded yet (envelopes, under the compressed protocol).
    input: BytesMut,
    /// The packets of the write in progress.
    output: Vec<u8>,
}

impl Framing {
    /// Plain framing, refusing logical packets larger than `max_payload`.
    pub fn new(max_payload: usize, read_capacity: usize) -> Self {
        Framing {
            packets: PacketCodec::new(max_payload),
            compressed: None,
            input: BytesMut::with_capacity(read_capacity),
            output: Vec::with_capacity(1024),
        }
    }

    /// Switches to the compressed protocol (from the first command after the handshake's OK).
    pub fn compress(&mut self, algorithm: Algorithm) {
        self.compressed = Some(Compressed {
            codec: CompressedCodec::with_algorithm(algorithm),
            plain: BytesMut::new(),
            envelopes: Vec::new(),
        });
        self.packets.skip_seq_check();
    }

    /// The compression in use, if any.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.compressed.as_ref().map(|z| z.codec.algorithm())
    }

    /// Starts the packet sequence of a new command (and the compressed one).
    pub fn reset_seq(&mut self) {
        self.packets.reset_seq();
        if let Some(z) = self.compressed.as_mut() {
            z.codec.reset_seq();
        }
    }

    /// Takes bytes read from the server.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// The next logical packet (16 MiB parts joined), or `None` until more bytes are fed.
    pub fn next_packet(&mut self) -> Result<Option<Bytes>, FramingError> {
        loop {
            let input = match self.compressed.as_mut() {
                Some(z) => &mut z.plain,
                None => &mut self.input,
            };
            match self.packets.decode(input) {
                Ok(Some(p)) => return Ok(Some(p)),
                Ok(None) => {
                    if !self.unwrap_envelopes()? {
                        return Ok(None);
                    }
                }
                Err(e) => {
                    let held = self.compressed.as_ref().map_or(&self.input[..], |z| &z.plain[..]);
                    return Err(out_of_sequence(e, || framed_server_error(held)));
                }
            }
        }
    }

    /// Under the compressed protocol, moves the complete envelopes fed so far to the plain bytes
    /// the packet codec reads, up to a packet's worth; whether any was moved.
    fn unwrap_envelopes(&mut self) -> Result<bool, FramingError> {
        let Some(z) = self.compressed.as_mut() else { return Ok(false) };
        match z.codec.decode(&mut self.input, &mut z.plain) {
            Ok(progress) => Ok(progress),
            Err(e) => {
                let input = &self.input;
                let algorithm = z.codec.algorithm();
                Err(out_of_sequence(e, || peek_envelope(algorithm, input).and_then(|p| framed_server_error(&p))))
            }
        }
    }

    /// Starts a write: what the previous one framed is dropped.
    pub fn start_write(&mut self) {
        self.output.clear();
    }

    /// Frames `payload` as the next packet(s) of the write in progress.
    pub fn push_packet(&mut self, payload: &[u8]) {
        self.packets.encode(payload, &mut self.output);
    }

    /// The bytes to send for the write in progress (its envelopes under the compressed protocol).
    pub fn outgoing(&mut self) -> &[u8] {
        match self.compressed.as_mut() {
            Some(z) => {
                z.envelopes.clear();
                z.codec.encode(&self.output, &mut z.envelopes);
                &z.envelopes
            }
            None => &self.output,
        }
    }

    /// The write was sent (or failed): one large statement should not pin its envelopes' memory
    /// for the session's life.
    pub fn written(&mut self) {
        if let Some(z) = self.compressed.as_mut() {
            if z.envelopes.capacity() > 1 << 20 {
                z.envelopes = Vec::new();
            }
        }
    }
}

/// A sequence mismatch where an ERR_Packet stands is the server closing the session; any other
/// failure is what it is.
fn out_of_sequence(
    e: ProtocolError,
    err_packet: impl FnOnce() -> Option<Result<ErrPacket, ProtocolError>>,
) -> FramingError {
    let found = match e {
        ProtocolError::SequenceMismatch { .. } => err_packet(),
        _ => None,
    };
    match found {
        Some(Ok(packet)) => FramingError::Server(packet),
        Some(Err(malformed)) => FramingError::Protocol(malformed),
        None => FramingError::Protocol(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = (payload.len() as u32).to_le_bytes()[..3].to_vec();
        p.push(seq);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn packets_arrive_in_pieces_and_whole() {
        let mut f = Framing::new(1 << 24, 64);
        let wire = [packet(0, b"\x00\x00\x00\x02\x00\x00\x00"), packet(1, b"\xfe")].concat();
        f.feed(&wire[..3]);
        assert_eq!(f.next_packet(), Ok(None));
        f.feed(&wire[3..]);
        assert_eq!(f.next_packet().unwrap().as_deref(), Some(&b"\x00\x00\x00\x02\x00\x00\x00"[..]));
        assert_eq!(f.next_packet().unwrap().as_deref(), Some(&b"\xfe"[..]));
        assert_eq!(f.next_packet(), Ok(None));
    }

    #[test]
    fn an_err_packet_out_of_sequence_is_the_servers_error() {
        // Shaped as MariaDB ends a killed session: ER_CONNECTION_KILLED with sequence id 0.
        let mut f = Framing::new(1 << 24, 64);
        f.reset_seq();
        f.start_write();
        f.push_packet(b"\x03SELECT 1");
        assert_eq!(f.outgoing(), &packet(0, b"\x03SELECT 1")[..]);
        f.feed(&packet(0, b"\xff\x87\x07#70100Connection was killed"));
        match f.next_packet() {
            Err(FramingError::Server(e)) => assert_eq!((e.code, e.message.as_str()), (1927, "Connection was killed")),
            other => panic!("{other:?}"),
        }
        // Any other packet out of sequence is a protocol error.
        let mut f = Framing::new(1 << 24, 64);
        f.feed(&packet(5, b"\x00"));
        assert!(matches!(f.next_packet(), Err(FramingError::Protocol(ProtocolError::SequenceMismatch { .. }))));
    }

    #[test]
    fn compressed_framing_round_trips() {
        let mut client = Framing::new(1 << 24, 64);
        client.compress(Algorithm::Zlib);
        client.start_write();
        client.push_packet(&[b'x'; 300]);
        let sent = client.outgoing().to_vec();
        client.written();
        // The server's side of the same framing reads what the client sent.
        let mut server = Framing::new(1 << 24, 64);
        server.compress(Algorithm::Zlib);
        server.feed(&sent);
        assert_eq!(server.next_packet().unwrap().as_deref(), Some(&[b'x'; 300][..]));
        assert_eq!(client.algorithm(), Some(Algorithm::Zlib));
    }
}
