//! MySQL Packets on the wire: reading and writing logical packets through the session's framing
//! (`protocol::framing`, plain or compressed) with the read and write timeouts; starting a
//! command's sequence.

use bytes::Bytes;
use futures::future::{select, Either};
use futures::io::{AsyncReadExt, AsyncWriteExt};

use super::connection::Conn;
use super::timeouts::Expiry;
use crate::error::{Error, Timeout};
use crate::protocol::constants::command::*;

/// The largest logical packet the protocol allows (MySQL's own client limit is 1 GiB).
pub(super) const MAX_ALLOWED_PACKET: usize = 1 << 30;

/// The largest logical packet accepted from the server: `max_result_bytes`, since a row larger
/// than that cannot be held anyway, but at least one physical packet (16 MiB) and at most 1 GiB.
pub(super) fn receive_limit(max_result_bytes: u64) -> usize {
    usize::try_from(max_result_bytes).unwrap_or(usize::MAX).clamp(1 << 24, MAX_ALLOWED_PACKET)
}
pub(super) const READ_CHUNK: usize = 64 * 1024;

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
            // growing the framing's input for each read would zero a whole chunk for a 50-byte reply.
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
        self.framing.feed(&self.scratch[..n.min(self.scratch.len())]);
        if n == 0 {
            return Err(Error::ConnectionLost("server closed the connection".into()));
        }
        Ok(())
    }

    /// Reads one logical packet (joining 16 MiB parts).
    pub(crate) async fn read_packet(&mut self) -> Result<Bytes, Error> {
        loop {
            if let Some(p) = self.buffered_packet()? {
                return Ok(p);
            }
            let r = self.fill().await;
            self.track(r)?;
        }
    }

    /// The next logical packet if all its bytes have arrived; the socket is not read.
    pub(crate) fn buffered_packet(&mut self) -> Result<Option<Bytes>, Error> {
        self.framing.next_packet().map_err(|e| {
            self.mark_broken();
            e.into()
        })
    }

    pub(super) async fn write_packet(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.framing.start_write();
        self.framing.push_packet(payload);
        self.flush_wbuf().await
    }

    pub(super) async fn flush_wbuf(&mut self) -> Result<(), Error> {
        let limit = match self.wait_limit(self.options.write_timeout, Timeout::Write) {
            Ok(limit) => limit,
            Err(e) => return self.track(Err(e)),
        };
        let runtime = self.runtime.clone();
        let transport = self.transport.as_mut().ok_or(Error::Broken)?;
        let bytes = self.framing.outgoing();
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
        self.framing.written();
        self.track(r)
    }
    /// Starts the packet sequence of a new command (and the compressed one).
    pub(super) fn reset_seq(&mut self) {
        self.framing.reset_seq();
    }

    /// Starts a command: finishes what an earlier one left on the wire, then sends the command packet.
    pub(super) async fn send_command(&mut self, command: u8, arg: &[u8]) -> Result<(), Error> {
        self.drain_pending().await?;
        self.close_dropped_statements().await?;
        self.reset_seq();
        let mut packet = Vec::with_capacity(arg.len() + 1);
        packet.push(command);
        packet.extend_from_slice(arg);
        self.write_packet(&packet).await
    }

    /// Sends a COM_QUERY whose text is already encoded for the connection charset.
    pub(super) async fn send_query(&mut self, sql: &[u8]) -> Result<(), Error> {
        self.send_command(COM_QUERY, sql).await
    }
}
