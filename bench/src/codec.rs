//! The CPU cost of the compressed protocol, per MiB: zlib and zstd envelopes over the text-protocol
//! packets of W1's rows, encoded and decoded natively by the same codec the component runs.

use std::time::Instant;

use bytes::BytesMut;
use cymysql_wasi::protocol::codec::PacketCodec;
use cymysql_wasi::protocol::compress::{Algorithm, CompressedCodec};

/// Throughput of one algorithm on one input, in MiB of uncompressed bytes per second.
pub struct Cost {
    pub compress: f64,
    pub decompress: f64,
    /// Compressed size over uncompressed size.
    pub ratio: f64,
}

fn lenenc_str(out: &mut Vec<u8>, s: &[u8]) {
    // Every value here is shorter than 251 bytes: a one-byte length.
    out.push(s.len() as u8);
    out.extend_from_slice(s);
}

/// W1's rows (the bench table's formulas) as the server frames them in the text protocol.
pub fn w1_packets(rows: i64) -> Vec<u8> {
    let mut codec = PacketCodec::new(1 << 30);
    let mut wire = Vec::new();
    let mut row = Vec::with_capacity(512);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for id in 1..=rows {
        row.clear();
        lenenc_str(&mut row, id.to_string().as_bytes());
        lenenc_str(&mut row, (id * 1_234_567).to_string().as_bytes());
        lenenc_str(&mut row, (id as f64 / 7.0).to_string().as_bytes());
        lenenc_str(&mut row, format!("{:.2}", (id % 100_000) as f64 / 100.0).as_bytes());
        lenenc_str(&mut row, format!("name-{id}").as_bytes());
        let mut body = format!("body {id} ");
        while body.len() < 200 {
            body.push_str("lorem ipsum ");
        }
        lenenc_str(&mut row, &body.as_bytes()[..200]);
        let (s, us) = (id * 1_000_003 / 1_000_000, id * 1_000_003 % 1_000_000);
        let ts = format!(
            "2024-{:02}-{:02} {:02}:{:02}:{:02}.{us:06}",
            1 + s / 2_592_000 % 12,
            1 + s / 86_400 % 28,
            s / 3600 % 24,
            s / 60 % 60,
            s % 60
        );
        lenenc_str(&mut row, ts.as_bytes());
        lenenc_str(&mut row, format!("20{:02}-{:02}-{:02}", id % 25, 1 + id % 12, 1 + id % 28).as_bytes());
        let mut bin = [0u8; 32];
        for chunk in bin.chunks_mut(8) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            chunk.copy_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        lenenc_str(&mut row, &bin);
        codec.encode(&row, &mut wire);
    }
    wire
}

/// Encodes `plain` into envelopes, then decodes them back, timing each direction.
pub fn measure(algorithm: Algorithm, plain: &[u8]) -> Cost {
    let mib = plain.len() as f64 / (1 << 20) as f64;
    let mut wire = Vec::with_capacity(plain.len());
    let start = Instant::now();
    CompressedCodec::with_algorithm(algorithm).encode(plain, &mut wire);
    let compress = mib / start.elapsed().as_secs_f64();

    let ratio = wire.len() as f64 / plain.len() as f64;
    let mut input = BytesMut::from(&wire[..]);
    let mut step = BytesMut::new();
    let mut out = Vec::with_capacity(plain.len());
    let mut decoder = CompressedCodec::with_algorithm(algorithm);
    let start = Instant::now();
    // As the connection reads: each step unwraps at most a packet's worth, and `Ok(false)` means
    // "take what you were given" or "no complete envelope left", so the step buffer is emptied
    // every time and the loop ends at the first step that unwraps nothing.
    loop {
        match decoder.decode(&mut input, &mut step) {
            Ok(true) => {
                out.extend_from_slice(&step);
                step.clear();
            }
            Ok(false) => break,
            Err(e) => panic!("decoding our own envelopes: {e:?}"),
        }
    }
    let decompress = mib / start.elapsed().as_secs_f64();
    assert!(input.is_empty(), "{} bytes of envelopes left undecoded", input.len());
    assert!(out[..] == plain[..], "the round trip changed the bytes");
    Cost { compress, decompress, ratio }
}
