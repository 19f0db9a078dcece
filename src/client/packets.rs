//! MySQL Packets on the wire: reading and writing logical packets through the packet codec and,
//! once it is agreed, the compressed protocol's envelopes; starting a command's sequence.

use bytes::{Bytes, BytesMut};
use futures::future::{select, Either};
use futures::io::{AsyncReadExt, AsyncWriteExt};

use super::connection::Conn;
use super::timeouts::Expiry;
use crate::error::{Error, ProtocolError, Timeout};
use crate::protocol::compress::{peek_envelope, CompressedCodec};
use crate::protocol::constants::command::*;
use crate::protocol::err_packet::{framed_server_error, ErrPacket};

/// The largest logical packet the protocol allows (MySQL's own client limit is 1 GiB).
pub(super) const MAX_ALLOWED_PACKET: usize = 1 << 30;

/// The largest logical packet accepted from the server: `max_result_bytes`, since a row larger
/// than that cannot be held anyway, but at least one physical packet (16 MiB) and at most 1 GiB.
pub(super) fn receive_limit(max_result_bytes: u64) -> usize {
    usize::try_from(max_result_bytes).unwrap_or(usize::MAX).clamp(1 << 24, MAX_ALLOWED_PACKET)
}
pub(super) const READ_CHUNK: usize = 64 * 1024;

/// The compressed protocol once it is on: the envelope codec, inflated bytes the packet codec has
/// not taken yet, and the envelopes of the write in progress.
pub(super) struct Compression {
    pub(super) codec: CompressedCodec,
    pub(super) plain: BytesMut,
    pub(super) envelopes: Vec<u8>,
}
impl Conn {
    async fn fill(&mut self) -> Result<(), Error> {
        let read = loop {
            let limit = self.wait_limit(self.options.read_timeout, Timeout::Read)?;
            if let Some((left, Expiry::KillStatement)) = limit {
                if left.is_zero() {
                    self.kill_statement().await?;
                    continue;
                }
            }
            let runtime = self.runtime.clone();
            let transport = self.transport.as_mut().ok_or(Error::Broken)?;
            // Reading into a scratch buffer allocated once costs a copy of what arrived, where
            // growing `rbuf` for each read would zero a whole chunk for a 50-byte reply.
            let read = transport.read(&mut self.scratch);
            let outcome = match limit {
                None => Ok(read.await),
                // A read dropped before it completes has taken no bytes, so giving up here loses nothing.
                Some((left, expiry)) => match select(read, runtime.sleep(left)).await {
                    Either::Left((r, _)) => Ok(r),
                    Either::Right(_) => Err(expiry),
                },
            };
            match outcome {
                Ok(r) => break r,
                Err(Expiry::Fail(t)) => return Err(Error::Timeout(t)),
                Err(Expiry::KillStatement) => self.kill_statement().await?,
            }
        };
        let n = match read {
            Ok(n) => n,
            Err(e) => return Err(Error::ConnectionLost(e.to_string())),
        };
        self.rbuf.extend_from_slice(&self.scratch[..n.min(self.scratch.len())]);
        if n == 0 {
            return Err(Error::ConnectionLost("server closed the connection".into()));
        }
        self.unwrap_envelopes().map(drop)
    }

    /// Under the compressed protocol, moves the complete envelopes read so far to the plain
    /// buffer the packet codec reads, up to a packet's worth; whether any was moved.
    fn unwrap_envelopes(&mut self) -> Result<bool, Error> {
        let Some(z) = self.compression.as_mut() else { return Ok(false) };
        let e = match z.codec.decode(&mut self.rbuf, &mut z.plain) {
            Ok(progress) => return Ok(progress),
            Err(e) => e,
        };
        let out_of_sequence = match e {
            ProtocolError::SequenceMismatch { .. } => {
                peek_envelope(z.codec.algorithm(), &self.rbuf).and_then(|p| framed_server_error(&p)).map(server_error)
            }
            _ => None,
        };
        let err = out_of_sequence.unwrap_or_else(|| e.into());
        self.mark_broken();
        Err(err)
    }

    /// Reads one logical packet (joining 16 MiB parts).
    pub(crate) async fn read_packet(&mut self) -> Result<Bytes, Error> {
        loop {
            let input = match self.compression.as_mut() {
                Some(z) => &mut z.plain,
                None => &mut self.rbuf,
            };
            match self.codec.decode(input) {
                Ok(Some(p)) => return Ok(p),
                Ok(None) => {
                    // Envelopes a bounded unwrap left in rbuf come before the socket.
                    let r = match self.unwrap_envelopes() {
                        Ok(false) => self.fill().await,
                        other => other.map(drop),
                    };
                    self.track(r)?;
                }
                Err(e) => {
                    let out_of_sequence = match e {
                        ProtocolError::SequenceMismatch { .. } => {
                            framed_server_error(self.compression.as_ref().map_or(&self.rbuf[..], |z| &z.plain[..]))
                                .map(server_error)
                        }
                        _ => None,
                    };
                    self.mark_broken();
                    return Err(out_of_sequence.unwrap_or_else(|| e.into()));
                }
            }
        }
    }

    pub(super) async fn write_packet(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.wbuf.clear();
        self.codec.encode(payload, &mut self.wbuf);
        self.flush_wbuf().await
    }

    pub(super) async fn flush_wbuf(&mut self) -> Result<(), Error> {
        let limit = match self.wait_limit(self.options.write_timeout, Timeout::Write) {
            Ok(limit) => limit,
            Err(e) => return self.track(Err(e)),
        };
        let runtime = self.runtime.clone();
        let transport = self.transport.as_mut().ok_or(Error::Broken)?;
        let bytes = match self.compression.as_mut() {
            Some(z) => {
                z.envelopes.clear();
                z.codec.encode(&self.wbuf, &mut z.envelopes);
                &z.envelopes
            }
            None => &self.wbuf,
        };
        let write = async {
            transport.write_all(bytes).await?;
            transport.flush().await
        };
        let r = match limit {
            None => write.await.map_err(|e| Error::ConnectionLost(e.to_string())),
            // Part of the command may be out: the connection breaks either way (the timeout is fatal).
            Some((left, expiry)) => match select(std::pin::pin!(write), runtime.sleep(left)).await {
                Either::Left((r, _)) => r.map_err(|e| Error::ConnectionLost(e.to_string())),
                Either::Right(_) => Err(Error::Timeout(match expiry {
                    Expiry::Fail(t) => t,
                    Expiry::KillStatement => Timeout::Write,
                })),
            },
        };
        if let Err(Error::Timeout(_)) = r {
            // A host may wait for a write in progress before it lets go of the stream (wasmtime
            // 48 does, and a shutdown waits too): with a server that takes nothing that wait never
            // ends. The stalled stream is left to the instance's end instead of blocking it now.
            if let Some(stalled) = self.transport.take() {
                std::mem::forget(stalled);
            }
        }
        if let Some(z) = self.compression.as_mut() {
            // One large statement should not pin its envelopes' memory for the session's life.
            if z.envelopes.capacity() > 1 << 20 {
                z.envelopes = Vec::new();
            }
        }
        self.track(r)
    }
    /// Starts the packet sequence of a new command (and the compressed one).
    pub(super) fn reset_seq(&mut self) {
        self.codec.reset_seq();
        if let Some(z) = self.compression.as_mut() {
            z.codec.reset_seq();
        }
    }

    /// Starts a command: finishes what an earlier one left on the wire, then sends the command packet.
    pub(super) async fn send_command(&mut self, command: u8, arg: &[u8]) -> Result<(), Error> {
        self.drain_pending().await?;
        self.reset_seq();
        self.wbuf.clear();
        let mut packet = Vec::with_capacity(arg.len() + 1);
        packet.push(command);
        packet.extend_from_slice(arg);
        self.codec.encode(&packet, &mut self.wbuf);
        self.flush_wbuf().await
    }

    /// Sends a COM_QUERY whose text is already encoded for the connection charset.
    pub(super) async fn send_query(&mut self, sql: &[u8]) -> Result<(), Error> {
        self.send_command(COM_QUERY, sql).await
    }
}

/// The error an out-of-sequence ERR_Packet reports; a malformed one is a protocol error.
fn server_error(parsed: Result<ErrPacket, ProtocolError>) -> Error {
    parsed.map_or_else(Error::from, Error::from)
}
