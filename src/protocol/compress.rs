//! The compressed protocol (CLIENT_COMPRESS, zlib): a 7-byte envelope around already-framed
//! packets, with its own sequence id. The packet codec runs unchanged on the unwrapped bytes.
//!
//! Envelope header: 3-byte length of the payload as sent, 1-byte compressed sequence id, 3-byte
//! length before compression; 0 there means the payload is stored uncompressed.

use bytes::{Buf, BytesMut};
use miniz_oxide::deflate::compress_to_vec_zlib;
use miniz_oxide::inflate::decompress_to_vec_zlib_with_limit;

use super::constants::MAX_PACKET_PAYLOAD;
use crate::error::ProtocolError;

/// Size of the envelope header (MySQL's NET_HEADER_SIZE + COMP_HEADER_SIZE).
pub const COMPRESSED_HEADER_LEN: usize = 7;

/// Payloads shorter than this are sent stored (MySQL's MIN_COMPRESS_LENGTH).
pub const MIN_COMPRESS_LENGTH: usize = 50;

/// zlib's default level, what the server's `my_compress` uses.
const COMPRESSION_LEVEL: u8 = 6;

/// Wraps and unwraps compressed-protocol envelopes, tracking the compressed sequence id.
///
/// The id restarts at 0 with each command and counts envelopes in both directions: the server's
/// first reply envelope follows the last one the client sent.
#[derive(Debug, Default)]
pub struct CompressedCodec {
    seq: u8,
}

impl CompressedCodec {
    pub fn new() -> Self {
        CompressedCodec { seq: 0 }
    }

    /// Starts a new command: the next envelope sent has compressed sequence id 0.
    pub fn reset_seq(&mut self) {
        self.seq = 0;
    }

    pub fn seq(&self) -> u8 {
        self.seq
    }

    /// Appends `packets` (framed packet bytes) to `out` as envelopes of at most 16 MiB - 1 bytes
    /// of input each, compressed where that makes them smaller.
    pub fn encode(&mut self, packets: &[u8], out: &mut Vec<u8>) {
        for chunk in packets.chunks(MAX_PACKET_PAYLOAD) {
            let deflated = if chunk.len() >= MIN_COMPRESS_LENGTH {
                Some(compress_to_vec_zlib(chunk, COMPRESSION_LEVEL)).filter(|z| z.len() < chunk.len())
            } else {
                None
            };
            let (body, uncompressed_len) = match &deflated {
                Some(z) => (&z[..], chunk.len()),
                None => (chunk, 0),
            };
            out.reserve(COMPRESSED_HEADER_LEN + body.len());
            out.extend_from_slice(&(body.len() as u32).to_le_bytes()[..3]);
            out.push(self.seq);
            out.extend_from_slice(&(uncompressed_len as u32).to_le_bytes()[..3]);
            out.extend_from_slice(body);
            self.seq = self.seq.wrapping_add(1);
        }
    }

    /// Moves every complete envelope at the front of `input` to `out`, inflated. Returns whether
    /// at least one was taken. An envelope that fails leaves `input` where it starts.
    pub fn decode(&mut self, input: &mut BytesMut, out: &mut BytesMut) -> Result<bool, ProtocolError> {
        let mut progress = false;
        while let Some(header) = EnvelopeHeader::parse(input) {
            if input.len() < COMPRESSED_HEADER_LEN + header.body_len {
                input.reserve(COMPRESSED_HEADER_LEN + header.body_len - input.len());
                break;
            }
            if header.seq != self.seq {
                return Err(ProtocolError::SequenceMismatch { expected: self.seq, got: header.seq });
            }
            let body = &input[COMPRESSED_HEADER_LEN..COMPRESSED_HEADER_LEN + header.body_len];
            if header.uncompressed_len == 0 {
                out.extend_from_slice(body);
            } else {
                out.extend_from_slice(&inflate(body, header.uncompressed_len)?);
            }
            input.advance(COMPRESSED_HEADER_LEN + header.body_len);
            self.seq = self.seq.wrapping_add(1);
            progress = true;
        }
        Ok(progress)
    }
}

/// The unwrapped contents of the complete envelope at the front of `input`, whatever its sequence
/// id: for reading the ERR a server sends out of sequence as it closes a session (KILL).
pub fn peek_envelope(input: &[u8]) -> Option<Vec<u8>> {
    let header = EnvelopeHeader::parse(input)?;
    let body = input.get(COMPRESSED_HEADER_LEN..COMPRESSED_HEADER_LEN + header.body_len)?;
    if header.uncompressed_len == 0 {
        Some(body.to_vec())
    } else {
        inflate(body, header.uncompressed_len).ok()
    }
}

struct EnvelopeHeader {
    body_len: usize,
    seq: u8,
    uncompressed_len: usize,
}

impl EnvelopeHeader {
    fn parse(input: &[u8]) -> Option<EnvelopeHeader> {
        let h = input.get(..COMPRESSED_HEADER_LEN)?;
        Some(EnvelopeHeader {
            body_len: u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize,
            seq: h[3],
            uncompressed_len: u32::from_le_bytes([h[4], h[5], h[6], 0]) as usize,
        })
    }
}

/// Inflates a zlib stream that must give exactly `len` bytes.
fn inflate(body: &[u8], len: usize) -> Result<Vec<u8>, ProtocolError> {
    match decompress_to_vec_zlib_with_limit(body, len) {
        Ok(plain) if plain.len() == len => Ok(plain),
        _ => Err(ProtocolError::BadCompressedFrame),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::PacketCodec;

    /// Bytes that compress well but not trivially.
    fn text(size: usize) -> Vec<u8> {
        b"SELECT id, name, created_at FROM users WHERE id = 42; ".iter().copied().cycle().take(size).collect()
    }

    /// Bytes that do not compress (xorshift).
    fn noise(size: usize) -> Vec<u8> {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        (0..size)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn round_trip(input: &[u8]) -> Vec<u8> {
        let mut enc = CompressedCodec::new();
        let mut wire = Vec::new();
        enc.encode(input, &mut wire);
        let mut dec = CompressedCodec::new();
        let mut rbuf = BytesMut::new();
        let mut plain = BytesMut::new();
        // Feed in uneven pieces, as a socket would deliver them.
        for piece in wire.chunks(65_537) {
            rbuf.extend_from_slice(piece);
            dec.decode(&mut rbuf, &mut plain).unwrap();
        }
        assert!(rbuf.is_empty());
        assert_eq!(dec.seq(), enc.seq());
        plain.to_vec()
    }

    #[test]
    fn short_payloads_are_stored() {
        let mut c = CompressedCodec::new();
        let mut out = Vec::new();
        c.encode(b"\x09\x00\x00\x00\x03SELECT 1", &mut out);
        assert_eq!(&out[..], b"\x0d\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x03SELECT 1");
        assert_eq!(c.seq(), 1);
    }

    #[test]
    fn incompressible_payloads_are_stored() {
        let data = noise(1000);
        let mut c = CompressedCodec::new();
        let mut out = Vec::new();
        c.encode(&data, &mut out);
        assert_eq!(&out[..7], &[0xe8, 0x03, 0, 0, 0, 0, 0]);
        assert_eq!(&out[7..], &data[..]);
        assert_eq!(round_trip(&data), data);
    }

    #[test]
    fn compressible_payloads_are_compressed() {
        let data = text(1000);
        let mut c = CompressedCodec::new();
        let mut out = Vec::new();
        c.encode(&data, &mut out);
        let body_len = u32::from_le_bytes([out[0], out[1], out[2], 0]) as usize;
        assert_eq!(out.len(), 7 + body_len);
        assert!(body_len < 200, "{body_len}");
        assert_eq!(&out[3..7], &[0, 0xe8, 0x03, 0]);
        assert_eq!(round_trip(&data), data);
    }

    #[test]
    fn small_and_large_round_trips() {
        for size in [0, 1, 49, 50, 51, 4096, 1 << 20] {
            assert_eq!(round_trip(&text(size)), text(size), "text {size}");
            assert_eq!(round_trip(&noise(size)), noise(size), "noise {size}");
        }
    }

    #[test]
    fn input_of_16_mib_and_more_spans_several_envelopes() {
        for size in [MAX_PACKET_PAYLOAD, MAX_PACKET_PAYLOAD + 1, 1 << 24, 2 * MAX_PACKET_PAYLOAD + 7] {
            let data = text(size);
            let mut c = CompressedCodec::new();
            let mut out = Vec::new();
            c.encode(&data, &mut out);
            let envelopes = size.div_ceil(MAX_PACKET_PAYLOAD);
            assert_eq!(c.seq() as usize, envelopes, "size {size}");
            assert_eq!(round_trip(&data), data, "size {size}");
        }
        let data = noise(1 << 24);
        assert_eq!(round_trip(&data), data);
    }

    #[test]
    fn a_logical_packet_over_16_mib_survives_both_layers() {
        let payload = noise(17 << 20);
        let mut packets = Vec::new();
        PacketCodec::new(1 << 30).encode(&payload, &mut packets);
        let plain = round_trip(&packets);
        let mut plain = BytesMut::from(&plain[..]);
        let got = PacketCodec::new(1 << 30).decode(&mut plain).unwrap().unwrap();
        assert_eq!(got.as_ref(), &payload[..]);
    }

    #[test]
    fn sequence_continues_across_calls_and_wraps() {
        let mut c = CompressedCodec::new();
        let mut out = Vec::new();
        for i in 0..300u32 {
            out.clear();
            c.encode(b"x", &mut out);
            assert_eq!(out[3], i as u8);
        }
        c.reset_seq();
        out.clear();
        c.encode(b"x", &mut out);
        assert_eq!(out[3], 0);
    }

    #[test]
    fn wrong_sequence_id_is_an_error_and_leaves_the_envelope() {
        let mut d = CompressedCodec::new();
        let mut input = BytesMut::from(&b"\x01\x00\x00\x03\x00\x00\x00x"[..]);
        let mut out = BytesMut::new();
        assert_eq!(d.decode(&mut input, &mut out), Err(ProtocolError::SequenceMismatch { expected: 0, got: 3 }));
        assert_eq!(input.len(), 8);
        assert!(out.is_empty());
    }

    #[test]
    fn truncated_envelopes_wait_for_more() {
        let data = text(500);
        let mut wire = Vec::new();
        CompressedCodec::new().encode(&data, &mut wire);
        for cut in [0, 3, 6, 7, wire.len() - 1] {
            let mut d = CompressedCodec::new();
            let mut input = BytesMut::from(&wire[..cut]);
            let mut out = BytesMut::new();
            assert_eq!(d.decode(&mut input, &mut out), Ok(false), "cut {cut}");
            assert_eq!(input.len(), cut);
            input.extend_from_slice(&wire[cut..]);
            assert_eq!(d.decode(&mut input, &mut out), Ok(true), "cut {cut}");
            assert_eq!(&out[..], &data[..]);
        }
    }

    fn decode_all(wire: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        let mut d = CompressedCodec::new();
        let mut input = BytesMut::from(wire);
        let mut out = BytesMut::new();
        d.decode(&mut input, &mut out)?;
        Ok(out.to_vec())
    }

    #[test]
    fn bit_flips_in_compressed_data_are_typed_errors() {
        let data = text(5000);
        let mut wire = Vec::new();
        CompressedCodec::new().encode(&data, &mut wire);
        let mut caught = 0;
        for pos in 7..wire.len() {
            for bit in 0..8 {
                let mut bad = wire.clone();
                bad[pos] ^= 1 << bit;
                match decode_all(&bad) {
                    Err(e) => {
                        assert_eq!(e, ProtocolError::BadCompressedFrame, "byte {pos} bit {bit}");
                        caught += 1;
                    }
                    // Only the padding bits after the last deflate block are free to change.
                    Ok(plain) => assert!(plain == data, "byte {pos} bit {bit}: wrong bytes accepted"),
                }
            }
        }
        assert!(caught >= (wire.len() - 7) * 8 - 8, "{caught}");
    }

    #[test]
    fn wrong_lengths_are_typed_errors() {
        let data = text(5000);
        let mut wire = Vec::new();
        CompressedCodec::new().encode(&data, &mut wire);
        let body_len = wire.len() - 7;
        // Announces one byte more or less than the stream inflates to.
        for announced in [4999u32, 5001, 1, 0xFF_FFFF] {
            let mut bad = wire.clone();
            bad[4..7].copy_from_slice(&announced.to_le_bytes()[..3]);
            assert_eq!(decode_all(&bad), Err(ProtocolError::BadCompressedFrame), "announced {announced}");
        }
        // A body cut short, the envelope still complete by its own length.
        for short in [1, 2, 10, body_len - 1] {
            let mut bad = wire[..wire.len() - short].to_vec();
            bad[..3].copy_from_slice(&((body_len - short) as u32).to_le_bytes()[..3]);
            assert_eq!(decode_all(&bad), Err(ProtocolError::BadCompressedFrame), "short {short}");
        }
        // Garbage that is not a zlib stream at all, and an empty compressed body.
        assert_eq!(decode_all(b"\x03\x00\x00\x00\x10\x00\x00abc"), Err(ProtocolError::BadCompressedFrame));
        assert_eq!(decode_all(b"\x00\x00\x00\x00\x10\x00\x00"), Err(ProtocolError::BadCompressedFrame));
    }

    #[test]
    fn an_error_sent_out_of_sequence_can_be_peeked() {
        let err = b"\x0e\x00\x00\x00\xff\x87\x07#70100Killed";
        let mut wire = Vec::new();
        CompressedCodec::new().encode(err, &mut wire);
        wire[3] = 9;
        assert_eq!(decode_all(&wire), Err(ProtocolError::SequenceMismatch { expected: 0, got: 9 }));
        assert_eq!(peek_envelope(&wire).as_deref(), Some(&err[..]));
        assert_eq!(peek_envelope(&wire[..wire.len() - 1]), None);
    }

    /// Captured from MariaDB 10.11 with compression on: the reply to `SELECT REPEAT('a', 100)` in
    /// one envelope (sequence 1, after the client's command in envelope 0), deflated by zlib,
    /// holding the column count, the column definition, the row and the closing OK (inner 1 to 4).
    const MARIADB_REPLY: &[u8] = &[
        0x49, 0x00, 0x00, 0x01, 0xa3, 0x00, 0x00, 0x78, 0x9c, 0x63, 0x64, 0x60, 0x60, 0x64, 0x54, 0x63, 0x60, 0x60,
        0x62, 0x4e, 0x49, 0x4d, 0x63, 0x60, 0x60, 0x10, 0x08, 0x72, 0x0d, 0x70, 0x75, 0x0c, 0xd1, 0x50, 0x4f, 0x54,
        0xd7, 0x51, 0x30, 0x34, 0x30, 0xd0, 0x64, 0xe0, 0xd1, 0x65, 0x98, 0xc0, 0xc8, 0xc0, 0xf0, 0x97, 0x81, 0x41,
        0x9d, 0x81, 0x21, 0x95, 0x81, 0x81, 0x39, 0x25, 0x91, 0x0e, 0x80, 0x9d, 0x81, 0x81, 0xe5, 0x1f, 0xd0, 0x59,
        0x40, 0x27, 0x01, 0x00, 0x3e, 0x73, 0x2e, 0xb5,
    ];

    #[test]
    fn a_captured_mariadb_exchange() {
        let mut c = CompressedCodec::new();
        let mut packets = PacketCodec::new(1 << 30);
        let mut command = Vec::new();
        packets.encode(b"\x03SELECT REPEAT('a', 100)", &mut command);
        let mut out = Vec::new();
        c.encode(&command, &mut out);
        // What the client sent: under 50 bytes, so stored.
        assert_eq!(&out[..7], &[0x1c, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&out[7..], &command[..]);

        let mut input = BytesMut::from(MARIADB_REPLY);
        let mut plain = BytesMut::new();
        assert_eq!(c.decode(&mut input, &mut plain), Ok(true));
        assert!(input.is_empty());
        assert_eq!(c.seq(), 2);
        assert_eq!(plain.len(), 0xa3);
        assert_eq!(packets.decode(&mut plain).unwrap().unwrap().as_ref(), b"\x01");
        let column = packets.decode(&mut plain).unwrap().unwrap();
        assert!(column.starts_with(b"\x03def\x00\x00\x00\x10REPEAT('a', 100)"));
        let row = packets.decode(&mut plain).unwrap().unwrap();
        assert_eq!(row[0], 100);
        assert_eq!(&row[1..], &[b'a'; 100][..]);
        assert_eq!(packets.decode(&mut plain).unwrap().unwrap().as_ref(), b"\xfe\x00\x00\x02\x00\x00\x00");
        assert!(plain.is_empty());
        // The same envelope one id off is out of sequence.
        let mut d = CompressedCodec::new();
        let mut input = BytesMut::from(MARIADB_REPLY);
        assert_eq!(
            d.decode(&mut input, &mut BytesMut::new()),
            Err(ProtocolError::SequenceMismatch { expected: 0, got: 1 })
        );
    }
}
