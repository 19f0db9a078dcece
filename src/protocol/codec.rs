//! Packet framing: the 4-byte header (3-byte length, 1-byte sequence id), splitting payloads of
//! 16 MiB and more over several packets and joining them back.

use bytes::{Buf, Bytes, BytesMut};

use super::constants::MAX_PACKET_PAYLOAD;
use crate::protocol::error::ProtocolError;

/// Frames and unframes packets, tracking the sequence id of the current command.
#[derive(Debug, Default)]
pub struct PacketCodec {
    seq: u8,
    /// Parts of a payload of 16 MiB or more, waiting for its last packet.
    partial: Option<BytesMut>,
    /// Refuse logical packets larger than this (the client's max_allowed_packet).
    max_payload: usize,
    /// Whether incoming sequence ids are checked (not under the compressed protocol).
    check_seq: bool,
}

impl PacketCodec {
    pub fn new(max_payload: usize) -> Self {
        PacketCodec { seq: 0, partial: None, max_payload, check_seq: true }
    }

    /// Starts a new command: the next packet sent has sequence id 0.
    pub fn reset_seq(&mut self) {
        self.seq = 0;
        self.partial = None;
    }

    pub fn seq(&self) -> u8 {
        self.seq
    }

    /// Sets the next sequence id, for exchanges that continue one the transport layer began
    /// (the handshake response after an SSL request).
    pub fn set_seq(&mut self, seq: u8) {
        self.seq = seq;
    }

    /// Stops checking incoming sequence ids, for the compressed protocol: there the envelope's id
    /// is the one checked, and MariaDB numbers the packets inside by its flushes (net_flush syncs
    /// them to the compressed id), which no client checks either. Ids then follow what arrives.
    pub fn skip_seq_check(&mut self) {
        self.check_seq = false;
    }

    /// Appends `payload` to `out` as one or more packets.
    pub fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        out.reserve(payload.len() + 4 * (payload.len() / MAX_PACKET_PAYLOAD + 1));
        let mut rest = payload;
        loop {
            let n = rest.len().min(MAX_PACKET_PAYLOAD);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
            out.push(self.seq);
            self.seq = self.seq.wrapping_add(1);
            out.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            // A payload that fills its last packet exactly is closed by an empty packet.
            if n < MAX_PACKET_PAYLOAD {
                break;
            }
        }
    }

    /// Takes the next complete payload out of `input`, or `None` if more bytes are needed.
    pub fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Bytes>, ProtocolError> {
        loop {
            if input.len() < 4 {
                return Ok(None);
            }
            let len = u32::from_le_bytes([input[0], input[1], input[2], 0]) as usize;
            // Nothing is reserved for the announced length: a server can announce 16 MiB and send
            // nothing, so the buffer grows only with what arrives.
            if input.len() < 4 + len {
                return Ok(None);
            }
            let seq = input[3];
            if seq != self.seq && self.check_seq {
                return Err(ProtocolError::SequenceMismatch { expected: self.seq, got: seq });
            }
            self.seq = seq.wrapping_add(1);
            input.advance(4);
            let chunk = input.split_to(len);
            if len == MAX_PACKET_PAYLOAD || self.partial.is_some() {
                let partial = self.partial.get_or_insert_with(BytesMut::new);
                if partial.len() + len > self.max_payload {
                    self.partial = None;
                    return Err(ProtocolError::PacketTooLarge { limit: self.max_payload });
                }
                partial.extend_from_slice(&chunk);
                if len == MAX_PACKET_PAYLOAD {
                    continue;
                }
                return Ok(self.partial.take().map(BytesMut::freeze));
            }
            return Ok(Some(chunk.freeze()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_payload_round_trip() {
        let mut c = PacketCodec::new(1 << 30);
        let mut out = Vec::new();
        c.encode(b"\x03SELECT 1", &mut out);
        assert_eq!(&out[..4], &[9, 0, 0, 0]);
        let mut d = PacketCodec::new(1 << 30);
        let mut input = BytesMut::from(&out[..]);
        assert_eq!(d.decode(&mut input).unwrap().unwrap().as_ref(), b"\x03SELECT 1");
        assert!(input.is_empty());
    }

    #[test]
    fn payloads_of_16_mib_and_more_are_split_and_joined() {
        for size in [MAX_PACKET_PAYLOAD - 1, MAX_PACKET_PAYLOAD, MAX_PACKET_PAYLOAD + 1, 2 * MAX_PACKET_PAYLOAD + 5] {
            let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let mut c = PacketCodec::new(1 << 30);
            let mut out = Vec::new();
            c.encode(&payload, &mut out);
            let packets = size / MAX_PACKET_PAYLOAD + 1;
            assert_eq!(out.len(), size + 4 * packets, "size {size}");
            assert_eq!(c.seq() as usize, packets);
            let mut d = PacketCodec::new(1 << 30);
            // Feed in uneven pieces, as a socket would deliver them.
            let mut input = BytesMut::new();
            let mut got = None;
            for piece in out.chunks(1 << 20) {
                input.extend_from_slice(piece);
                if let Some(p) = d.decode(&mut input).unwrap() {
                    got = Some(p);
                }
            }
            assert_eq!(got.unwrap().as_ref(), &payload[..]);
        }
    }

    #[test]
    fn wrong_sequence_id_is_an_error() {
        let mut d = PacketCodec::new(1 << 30);
        let mut input = BytesMut::from(&b"\x01\x00\x00\x05\x00"[..]);
        assert_eq!(d.decode(&mut input), Err(ProtocolError::SequenceMismatch { expected: 0, got: 5 }));
    }

    #[test]
    fn sequence_ids_can_be_left_unchecked() {
        let mut d = PacketCodec::new(1 << 30);
        d.skip_seq_check();
        let mut input = BytesMut::from(&b"\x01\x00\x00\x05\x00\x01\x00\x00\x02\x01"[..]);
        assert_eq!(d.decode(&mut input).unwrap().unwrap().as_ref(), b"\x00");
        assert_eq!(d.seq(), 6);
        assert_eq!(d.decode(&mut input).unwrap().unwrap().as_ref(), b"\x01");
        assert_eq!(d.seq(), 3);
    }

    #[test]
    fn oversized_multi_packet_is_refused() {
        let mut d = PacketCodec::new(100);
        let mut input = BytesMut::new();
        input.extend_from_slice(&[0xff, 0xff, 0xff, 0]);
        input.extend_from_slice(&vec![0u8; MAX_PACKET_PAYLOAD]);
        assert_eq!(d.decode(&mut input), Err(ProtocolError::PacketTooLarge { limit: 100 }));
    }

    #[test]
    fn an_announced_length_allocates_nothing_until_it_arrives() {
        let mut d = PacketCodec::new(1 << 30);
        // A full-size header, then a few bytes of its 16 MiB body.
        let mut input = BytesMut::from(&b"\xff\xff\xff\x00abc"[..]);
        let before = input.capacity();
        assert_eq!(d.decode(&mut input), Ok(None));
        assert_eq!(input.capacity(), before);
        assert!(input.capacity() < 1024);
    }
}
