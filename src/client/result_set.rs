//! COM_QUERY Response: the result header, column definitions and text rows of each result, and the
//! further results of a multi-statement query (SERVER_MORE_RESULTS_EXISTS).

use std::rc::Rc;

use bytes::Bytes;

use super::connection::{Conn, Pending};
use super::converters::DecodeFn;
use crate::error::{Error, ProtocolError};
use crate::protocol::binary_row::decode_binary_row;
use crate::protocol::column::Column;
use crate::protocol::constants::{capability::*, status::*};
use crate::protocol::conversions::text_form;
use crate::protocol::ok_packet::{EofPacket, OkPacket};
use crate::protocol::response::Response;
use crate::protocol::text_row::{decode_text_row, decode_text_row_with};
use crate::protocol::text_value::{decode_text_value, CellError};
use crate::protocol::value::Value;

/// A result set's columns and whether it is still being read from the wire.
#[derive(Debug, Clone)]
pub(crate) struct ResultMeta {
    pub columns: Rc<[Column]>,
}

/// The outcome of one statement: either an OK or a result set whose rows follow.
#[derive(Debug)]
pub(crate) enum StatementResult {
    Ok(OkPacket),
    Rows(ResultMeta),
}
impl Conn {
    /// Reads everything earlier commands left on the wire, so the next command sees its own replies.
    /// An error that a skipped statement of a batch reported is returned, as cymysql does.
    pub(crate) async fn drain_pending(&mut self) -> Result<(), Error> {
        loop {
            match self.pending.clone() {
                Pending::Nothing => return Ok(()),
                Pending::Rows { .. } => while self.read_row_packet().await?.is_some() {},
                Pending::MoreResults { id } => {
                    self.read_statement_result(id).await?;
                }
            }
        }
    }
    /// Runs one COM_QUERY and reads its first result's header and columns (inside a `command`).
    pub(crate) async fn start_query(&mut self, sql: &str) -> Result<(u64, StatementResult), Error> {
        let encoded = self.charset.encoding.encode(sql)?;
        self.send_query(&encoded).await?;
        self.prepared.binary_rows = false;
        let id = self.next_result_id;
        self.next_result_id += 1;
        let result = self.read_statement_result(id).await?;
        Ok((id, result))
    }

    /// Reads and discards the rows of result `id` still on the wire (inside a `command`).
    pub(crate) async fn discard_rows(&mut self, id: u64) -> Result<(), Error> {
        if self.pending == (Pending::Rows { id }) {
            while self.read_row_packet().await?.is_some() {}
        }
        Ok(())
    }

    /// Reads the next result of multi-statement command `id`, if there is one (inside a `command`).
    pub(crate) async fn next_result(&mut self, id: u64) -> Result<Option<StatementResult>, Error> {
        self.discard_rows(id).await?;
        if self.pending != (Pending::MoreResults { id }) {
            return Ok(None);
        }
        self.read_statement_result(id).await.map(Some)
    }

    /// Reads a result header and, for a result set, its column definitions.
    /// Sets `pending` to what remains of this command on the wire.
    pub(super) async fn read_statement_result(&mut self, id: u64) -> Result<StatementResult, Error> {
        self.pending = Pending::Nothing;
        let packet = self.read_packet().await?;
        let response = match Response::parse_query_response(&packet, self.capabilities) {
            Ok(response) => response,
            Err(e) => {
                self.mark_broken();
                return Err(e.into());
            }
        };
        match response {
            Response::Ok(ok) => {
                self.record_ok(&ok);
                if ok.status_flags & SERVER_MORE_RESULTS_EXISTS != 0 {
                    self.pending = Pending::MoreResults { id };
                }
                Ok(StatementResult::Ok(ok))
            }
            Response::Err(e) => Err(e.into()),
            Response::LocalInfile(name) => self.send_local_infile(id, &name).await,
            Response::ResultSet { column_count: n } => {
                // MySQL's limit; a count past it (or past usize) leaves the session out of step.
                let Some(n) = usize::try_from(n).ok().filter(|&n| n <= 4096) else {
                    self.mark_broken();
                    return Err(ProtocolError::InvalidValue("column count").into());
                };
                // Definitions count toward max_result_bytes: 4096 of them can each be a packet long.
                let limit = self.options.max_result_bytes;
                let mut too_large = false;
                self.column_cache.start();
                for _ in 0..n {
                    let packet = self.read_packet().await?;
                    if !too_large {
                        let pushed = self.column_cache.push(&packet);
                        self.track(pushed.map_err(Error::from))?;
                        too_large = self.column_cache.held_bytes() as u64 > limit;
                    }
                }
                let columns = self.column_cache.finish();
                if self.capabilities & CLIENT_DEPRECATE_EOF == 0 {
                    let packet = self.read_packet().await?;
                    let eof = EofPacket::parse(&packet).map_err(Error::from);
                    // Its status says whether a cursor holds the rows (COM_STMT_EXECUTE).
                    self.status = self.track(eof)?.status_flags;
                }
                self.pending = Pending::Rows { id };
                if too_large {
                    self.discard_rows(id).await?;
                    return Err(Error::ResultTooLarge { limit });
                }
                Ok(StatementResult::Rows(ResultMeta { columns }))
            }
            other @ Response::Eof(_) => {
                self.mark_broken();
                Err(other.unexpected("result header").into())
            }
        }
    }

    /// Rows of result `id` follow on the wire (COM_STMT_FETCH's reply has no header).
    pub(super) fn begin_rows(&mut self, id: u64) {
        self.pending = Pending::Rows { id };
    }

    /// The current result has no rows on the wire after all (a cursor holds them).
    pub(super) fn end_rows(&mut self) {
        self.pending = Pending::Nothing;
    }

    /// Reads one row packet of the current result set; `None` at its end (status recorded).
    pub(crate) async fn read_row_packet(&mut self) -> Result<Option<Bytes>, Error> {
        let id = match self.pending {
            Pending::Rows { id } => id,
            _ => return Ok(None),
        };
        let packet = self.read_packet().await?;
        self.row_or_end(id, packet)
    }

    /// A packet read in result set `id`: the row it is, or `None` when it ends the result set.
    fn row_or_end(&mut self, id: u64, packet: Bytes) -> Result<Option<Bytes>, Error> {
        let end = match Response::parse_row_or_end(&packet, self.capabilities) {
            Ok(None) => return Ok(Some(packet)),
            Ok(Some(end)) => end,
            Err(e) => {
                self.mark_broken();
                return Err(e.into());
            }
        };
        let (status, warnings) = match end {
            Response::Err(e) => {
                // The statement failed mid-result (killed, timeout): the command is over.
                self.pending = Pending::Nothing;
                return Err(e.into());
            }
            Response::Ok(ok) => {
                self.track_session_state(&ok);
                (ok.status_flags, ok.warnings)
            }
            Response::Eof(eof) => (eof.status_flags, eof.warnings),
            other => {
                self.mark_broken();
                return Err(other.unexpected("row").into());
            }
        };
        self.status = status;
        self.warning_count = warnings;
        self.affected_rows = 0;
        self.pending =
            if status & SERVER_MORE_RESULTS_EXISTS != 0 { Pending::MoreResults { id } } else { Pending::Nothing };
        Ok(None)
    }

    /// Reads and decodes the next row of result `id`, in the caller's conversions; `None` at its end.
    pub(crate) async fn read_row(&mut self, id: u64, columns: &[Column]) -> Result<Option<Vec<Value>>, Error> {
        self.read_row_as(id, columns, true).await
    }

    /// [`Conn::read_row`], with the caller's conversions only when `convert`: the driver's own
    /// statements (max_allowed_packet, SHOW WARNINGS, the Galera node check) read values as decoded.
    pub(crate) async fn read_row_as(
        &mut self,
        id: u64,
        columns: &[Column],
        convert: bool,
    ) -> Result<Option<Vec<Value>>, Error> {
        if self.pending != (Pending::Rows { id }) {
            return Ok(None);
        }
        let packet = self.read_row_packet().await?;
        self.decode_row(packet, columns, convert)
    }

    /// The next row packet of result `id`, undecoded; `None` at its end.
    pub(crate) async fn read_raw_row(&mut self, id: u64) -> Result<Option<Bytes>, Error> {
        if self.pending != (Pending::Rows { id }) {
            return Ok(None);
        }
        self.read_row_packet().await
    }

    /// Whether rows read now are text-protocol rows decoded with no converter or conversion, which
    /// `fetch-columns` can take straight from the packets.
    pub(crate) fn rows_are_plain_text(&self) -> bool {
        !self.prepared.binary_rows && !self.options.converters.has_decoders() && self.options.conversions.is_default()
    }

    /// Reads past the next row of result `id` without decoding it (a row `scroll` skips);
    /// `false` at the result's end.
    pub(crate) async fn skip_row(&mut self, id: u64) -> Result<bool, Error> {
        if self.pending != (Pending::Rows { id }) {
            return Ok(false);
        }
        Ok(self.read_row_packet().await?.is_some())
    }

    /// The next row of result `id` if its bytes have already arrived, without reading the socket:
    /// `None` when they have not, `Some(None)` at the result's end.
    pub(crate) fn buffered_row(&mut self, id: u64, columns: &[Column]) -> Result<Option<Option<Vec<Value>>>, Error> {
        if self.pending != (Pending::Rows { id }) {
            return Ok(Some(None));
        }
        let Some(packet) = self.buffered_packet()? else { return Ok(None) };
        let packet = self.row_or_end(id, packet)?;
        self.decode_row(packet, columns, true).map(Some)
    }

    fn decode_row(
        &mut self,
        packet: Option<Bytes>,
        columns: &[Column],
        convert: bool,
    ) -> Result<Option<Vec<Value>>, Error> {
        let Some(packet) = packet else { return Ok(None) };
        let plain = !convert || (!self.options.converters.has_decoders() && self.options.conversions.is_default());
        let row = if plain {
            if self.prepared.binary_rows {
                decode_binary_row(&packet, columns)
            } else {
                decode_text_row(&packet, columns)
            }
        } else {
            self.decode_converted_row(&packet, columns)
        };
        let row = row.map_err(Error::from);
        self.track(row).map(Some)
    }

    /// Decodes a row through the caller's decoders (cymysql's `conv`) and the connection's result
    /// conversions. A decoder's error is a data error: the row was framed correctly.
    fn decode_converted_row(&self, packet: &[u8], columns: &[Column]) -> Result<Vec<Value>, CellError> {
        let converters = &self.options.converters;
        let conversions = self.options.conversions;
        let decoded = |c: &Column, raw: &[u8], decode: &DecodeFn| decode(c, raw).map_err(CellError::OutOfDomain);
        let mut row = if self.prepared.binary_rows {
            let mut row = decode_binary_row(packet, columns)?;
            if converters.has_decoders() {
                for (value, c) in row.iter_mut().zip(columns) {
                    let Some(decode) = converters.decoder_for(c.column_type) else { continue };
                    if let Some(text) = text_form(value, c) {
                        let converted = decoded(c, &text, decode)?;
                        *value = converted;
                    }
                }
            }
            row
        } else {
            decode_text_row_with(packet, columns, |c, raw| match (raw, converters.decoder_for(c.column_type)) {
                (Some(raw), Some(decode)) => decoded(c, raw, decode),
                _ => decode_text_value(c, raw),
            })?
        };
        if !conversions.is_default() {
            for (value, c) in row.iter_mut().zip(columns) {
                // What a caller's decoder returned is theirs, not converted again.
                if converters.decoder_for(c.column_type).is_none() {
                    *value = conversions.apply(std::mem::replace(value, Value::Null), c);
                }
            }
        }
        Ok(row)
    }

    pub(crate) fn is_current(&self, id: u64) -> bool {
        match self.pending {
            Pending::Rows { id: p } | Pending::MoreResults { id: p } => p == id,
            Pending::Nothing => false,
        }
    }
}
