//! The session's side of prepared statements: COM_STMT_PREPARE and its definitions,
//! COM_STMT_EXECUTE (with COM_STMT_SEND_LONG_DATA for parameters too large for one packet),
//! COM_STMT_FETCH for statements executed with a read-only cursor, COM_STMT_RESET, and
//! COM_STMT_CLOSE for statements dropped without `close`.
//!
//! A server-side statement lives as long as the server session that prepared it: a reconnect or
//! COM_RESET_CONNECTION deallocates every one. Each session therefore has an epoch, new on every
//! open and every reset, and a statement keeps the epoch it was prepared in.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::connection::Conn;
// MariaDB's answer to COM_STMT_BULK_EXECUTE of a statement other than INSERT, REPLACE, UPDATE or DELETE.
use super::cursor::ER_UNSUPPORTED_PS;
use super::result_set::StatementResult;
use crate::error::Error;
use crate::protocol::binary_value::{is_long_data_capable, param_bytes};
use crate::protocol::column::Column;
use crate::protocol::com_stmt_bulk_execute::{BulkExecute, Pushed};
use crate::protocol::com_stmt_close::com_stmt_close;
use crate::protocol::com_stmt_execute::{com_stmt_execute, CURSOR_TYPE_NO_CURSOR};
use crate::protocol::com_stmt_fetch::com_stmt_fetch;
use crate::protocol::com_stmt_prepare::{com_stmt_prepare, PrepareResponse};
use crate::protocol::com_stmt_reset::com_stmt_reset;
use crate::protocol::com_stmt_send_long_data::{com_stmt_send_long_data, LONG_DATA_HEADER_LEN};
use crate::protocol::constants::capability::CLIENT_DEPRECATE_EOF;
use crate::protocol::constants::mariadb_capability::MARIADB_CLIENT_STMT_BULK_OPERATIONS;
use crate::protocol::constants::status::SERVER_STATUS_CURSOR_EXISTS;
use crate::protocol::ok_packet::EofPacket;
use crate::protocol::response::Response;
use crate::protocol::value::Value;

/// Parameters smaller than this in total always fit in one COM_STMT_EXECUTE: the server's
/// max_allowed_packet is at least 1 KiB. Larger ones make the session ask for it (once).
const SMALL_EXECUTE: usize = 1000;

/// Epochs are unique in the instance, so a statement of a replaced session never matches.
static NEXT_EPOCH: AtomicU64 = AtomicU64::new(1);

fn next_epoch() -> u64 {
    NEXT_EPOCH.fetch_add(1, Ordering::Relaxed)
}

/// Statement ids to deallocate, each with the epoch it belongs to.
pub(crate) type CloseQueue = Rc<RefCell<Vec<(u64, u32)>>>;

/// What the session knows of its prepared statements.
#[derive(Debug)]
pub(crate) struct PreparedState {
    /// The server session's epoch (see the module documentation).
    pub epoch: u64,
    /// Statements dropped without `close`: COM_STMT_CLOSE goes out before the next command.
    pub close_queue: CloseQueue,
    /// Whether the current result's rows are in the binary protocol (COM_STMT_EXECUTE).
    pub binary_rows: bool,
    /// Statements of `execute_prepared` by SQL text, least recently used first.
    pub cache: Vec<(String, Prepared)>,
    /// How many statements `cache` keeps.
    pub cache_size: usize,
}

/// The statement cache's size unless the caller sets another.
pub const DEFAULT_STATEMENT_CACHE_SIZE: usize = 16;

impl Default for PreparedState {
    fn default() -> Self {
        PreparedState {
            epoch: next_epoch(),
            close_queue: CloseQueue::default(),
            binary_rows: false,
            cache: Vec::new(),
            cache_size: DEFAULT_STATEMENT_CACHE_SIZE,
        }
    }
}

/// What COM_STMT_PREPARE told of a statement.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub id: u32,
    pub epoch: u64,
    pub params: Rc<[Column]>,
    pub columns: Rc<[Column]>,
}

impl Conn {
    /// Every statement prepared so far is gone (COM_RESET_CONNECTION was sent).
    pub(crate) fn forget_statements(&mut self) {
        self.prepared.epoch = next_epoch();
        self.prepared.close_queue.borrow_mut().clear();
        self.prepared.cache.clear();
    }

    /// The cached statement for `sql`, prepared now if it is not cached (inside a `command`).
    ///
    /// A statement evicted to make room is deallocated before the next command, which first
    /// reads what a cursor left of its result: eviction never cuts a result short.
    pub(crate) async fn cached_statement(&mut self, sql: &str) -> Result<Prepared, Error> {
        if let Some(i) = self.prepared.cache.iter().position(|(s, _)| s == sql) {
            let entry = self.prepared.cache.remove(i);
            let prepared = entry.1.clone();
            self.prepared.cache.push(entry);
            return Ok(prepared);
        }
        let prepared = self.prepare_statement(sql).await?;
        if self.prepared.cache_size > 0 {
            while self.prepared.cache.len() >= self.prepared.cache_size {
                let (_, old) = self.prepared.cache.remove(0);
                self.prepared.close_queue.borrow_mut().push((old.epoch, old.id));
            }
            self.prepared.cache.push((sql.to_string(), prepared.clone()));
        } else {
            self.prepared.close_queue.borrow_mut().push((prepared.epoch, prepared.id));
        }
        Ok(prepared)
    }

    /// Sends a command packet (its command byte included) as a new sequence, after reading what
    /// earlier commands left on the wire and deallocating statements dropped since.
    pub(super) async fn send_command_packet(&mut self, packet: &[u8]) -> Result<(), Error> {
        self.drain_pending().await?;
        self.close_dropped_statements().await?;
        self.reset_seq();
        self.write_packet(packet).await
    }

    /// COM_STMT_CLOSE for each statement dropped without `close` in this epoch. No reply comes.
    pub(super) async fn close_dropped_statements(&mut self) -> Result<(), Error> {
        let queued = std::mem::take(&mut *self.prepared.close_queue.borrow_mut());
        for (epoch, id) in queued {
            if epoch == self.prepared.epoch {
                self.reset_seq();
                self.write_packet(&com_stmt_close(id)).await?;
            }
        }
        Ok(())
    }

    /// COM_STMT_PREPARE: the statement's id and its parameter and column definitions (inside a `command`).
    pub(crate) async fn prepare_statement(&mut self, sql: &str) -> Result<Prepared, Error> {
        let encoded = self.charset.encoding.encode(sql)?;
        self.send_command_packet(&com_stmt_prepare(&encoded)).await?;
        let packet = self.read_packet().await?;
        let ok = match self.track(PrepareResponse::parse(&packet).map_err(Error::from))? {
            PrepareResponse::Err(e) => return Err(e.into()),
            PrepareResponse::Ok(ok) => ok,
        };
        let params = self.read_definitions(ok.num_params).await?;
        let columns = self.read_definitions(ok.num_columns).await?;
        self.warning_count = ok.warning_count;
        Ok(Prepared { id: ok.statement_id, epoch: self.prepared.epoch, params, columns })
    }

    /// `n` ColumnDefinition41 packets, then an EOF_Packet unless CLIENT_DEPRECATE_EOF is in force.
    async fn read_definitions(&mut self, n: u16) -> Result<Rc<[Column]>, Error> {
        // The count is the server's word: reserve for what a prepared statement usually has and let
        // the vector grow as definitions actually arrive.
        let mut columns = Vec::with_capacity(usize::from(n).min(64));
        for _ in 0..n {
            let packet = self.read_packet().await?;
            columns.push(self.track(Column::parse(&packet).map_err(Error::from))?);
        }
        if n > 0 && self.capabilities & CLIENT_DEPRECATE_EOF == 0 {
            let packet = self.read_packet().await?;
            self.track(EofPacket::parse(&packet).map_err(Error::from))?;
        }
        Ok(columns.into())
    }

    /// Whether executing with `params` may need long data, so max_allowed_packet is wanted first.
    pub(crate) fn execute_may_need_long_data(params: &[Value]) -> bool {
        let size: usize = params.iter().map(|v| if is_long_data_capable(v) { value_len(v) } else { 9 }).sum();
        size > SMALL_EXECUTE
    }

    /// COM_STMT_EXECUTE of `statement`, then its result header and columns (inside a `command`).
    /// Rows that follow are decoded in the binary protocol. With `max_packet` (the server's
    /// max_allowed_packet), parameters that would make the request larger are sent as long data.
    ///
    /// With `cursor_type` CURSOR_TYPE_READ_ONLY the server may keep the rows behind a cursor
    /// for COM_STMT_FETCH: it then ends the result at once with SERVER_STATUS_CURSOR_EXISTS.
    pub(crate) async fn start_execute(
        &mut self,
        statement: &Prepared,
        params: &[Value],
        max_packet: Option<usize>,
        cursor_type: u8,
    ) -> Result<(u64, StatementResult), Error> {
        self.check_statement(statement, params.len())?;
        let has_text =
            params.iter().any(|v| matches!(v, Value::Text(_) | Value::Enum(_) | Value::Set(_) | Value::Json(_)));
        if has_text {
            // Text goes in character_set_client: one this driver does not know cannot be served.
            self.escape_mode_checked()?;
        }
        let encoding = self.charset.encoding;
        let mut long_data = Vec::new();
        let mut packet = com_stmt_execute(statement.id, cursor_type, params, &long_data, encoding)?;
        if let Some(limit) = max_packet {
            // The largest string parameters go as long data until the request fits.
            let mut candidates: Vec<usize> =
                (0..params.len()).filter(|&i| params.get(i).is_some_and(is_long_data_capable)).collect();
            candidates.sort_by_key(|&i| std::cmp::Reverse(params.get(i).map_or(0, value_len)));
            for i in candidates {
                if packet.len() <= limit {
                    break;
                }
                long_data.push(i);
                packet = com_stmt_execute(statement.id, cursor_type, params, &long_data, encoding)?;
            }
            let chunk = limit.saturating_sub(LONG_DATA_HEADER_LEN).max(1);
            for &i in &long_data {
                let Some(bytes) = params.get(i).map(|v| param_bytes(v, encoding)).transpose()?.flatten() else {
                    continue;
                };
                let param_id = u16::try_from(i).map_err(|_| Error::Programming("too many parameters".into()))?;
                for piece in bytes.chunks(chunk) {
                    self.send_command_packet(&com_stmt_send_long_data(statement.id, param_id, piece)).await?;
                }
            }
        }
        self.send_command_packet(&packet).await?;
        let id = self.next_result_id;
        self.next_result_id += 1;
        self.prepared.binary_rows = true;
        let result = self.read_statement_result(id).await;
        let opened = cursor_type != CURSOR_TYPE_NO_CURSOR && self.status & SERVER_STATUS_CURSOR_EXISTS != 0;
        if matches!(result, Ok(StatementResult::Rows(_))) && opened && self.capabilities & CLIENT_DEPRECATE_EOF == 0 {
            // The EOF after the definitions was the result's end: no rows follow it. Only when a
            // cursor was asked for: a server claiming one otherwise still has rows to send.
            self.end_rows();
        }
        if let Err(e) = &result {
            if !long_data.is_empty() && !e.is_fatal() {
                // MariaDB keeps a failed statement's long data (and its error) until
                // COM_STMT_RESET: without it every later execution would fail the same way.
                self.reset_statement(statement).await?;
            }
        }
        Ok((id, result?))
    }

    /// Whether `executemany` of `statement` with `rows` parameter sets can go as
    /// COM_STMT_BULK_EXECUTE: the server offers it, the statement has parameters and returns no
    /// result set (bulk results of INSERT … RETURNING are not read), and there is more than one row.
    pub(crate) fn can_bulk_execute(&self, statement: &Prepared, rows: usize) -> bool {
        self.offers_bulk_execute() && statement.columns.is_empty() && !statement.params.is_empty() && rows > 1
    }

    /// Whether the server offers COM_STMT_BULK_EXECUTE (MARIADB_CLIENT_STMT_BULK_OPERATIONS).
    pub(crate) fn offers_bulk_execute(&self) -> bool {
        self.mariadb_capabilities & MARIADB_CLIENT_STMT_BULK_OPERATIONS != 0
    }

    /// Runs `statement` once per row of `rows` with COM_STMT_BULK_EXECUTE (inside a `command`), in
    /// requests no longer than `limit` (the server's max_allowed_packet); a row too large for a
    /// request of its own runs as COM_STMT_EXECUTE with long data. Returns the affected rows in
    /// total and the last request's insert id, or `None` with nothing executed when the server
    /// does not run this kind of statement in bulk. An error stops at the request that failed:
    /// the requests before it have run.
    pub(crate) async fn bulk_execute(
        &mut self,
        statement: &Prepared,
        rows: &[Vec<Value>],
        limit: usize,
    ) -> Result<Option<(u64, u64)>, Error> {
        for row in rows {
            self.check_statement(statement, row.len())?;
        }
        let has_text = rows
            .iter()
            .flatten()
            .any(|v| matches!(v, Value::Text(_) | Value::Enum(_) | Value::Set(_) | Value::Json(_)));
        if has_text {
            // Text goes in character_set_client: one this driver does not know cannot be served.
            self.escape_mode_checked()?;
        }
        let encoding = self.charset.encoding;
        let params = statement.params.len();
        let (mut total, mut insert_id, mut sent) = (0u64, 0u64, false);
        let mut request = BulkExecute::new(statement.id, params);
        let mut next = 0;
        while let Some(row) = rows.get(next) {
            match request.push_row(row, encoding, limit).map_err(Error::from)? {
                Pushed::Added => {
                    next += 1;
                    if next < rows.len() {
                        continue;
                    }
                }
                Pushed::Full if request.is_empty() => {
                    // Alone too large for a request: COM_STMT_EXECUTE sends its values as long data.
                    next += 1;
                    let (_, result) = self.start_execute(statement, row, Some(limit), CURSOR_TYPE_NO_CURSOR).await?;
                    if let StatementResult::Ok(ok) = result {
                        total = total.saturating_add(ok.affected_rows);
                        insert_id = ok.last_insert_id;
                    }
                    self.drain_pending().await?;
                    sent = true;
                    continue;
                }
                Pushed::Full | Pushed::TypesDiffer => {}
            }
            let full = std::mem::replace(&mut request, BulkExecute::new(statement.id, params));
            match self.send_bulk(full.finish()).await {
                Ok(ok) => {
                    total = total.saturating_add(ok.0);
                    insert_id = ok.1;
                    sent = true;
                }
                Err(e) if !sent && e.code() == Some(ER_UNSUPPORTED_PS) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(Some((total, insert_id)))
    }

    /// Sends one COM_STMT_BULK_EXECUTE request and reads its reply: the affected rows and insert id.
    async fn send_bulk(&mut self, packet: Vec<u8>) -> Result<(u64, u64), Error> {
        self.send_command_packet(&packet).await?;
        drop(packet);
        let id = self.next_result_id;
        self.next_result_id += 1;
        self.prepared.binary_rows = true;
        match self.read_statement_result(id).await? {
            StatementResult::Ok(ok) => Ok((ok.affected_rows, ok.last_insert_id)),
            StatementResult::Rows(_) => {
                // Not asked for (the statement has no result set): read off so the session stays in step.
                self.drain_pending().await?;
                Ok((0, 0))
            }
        }
    }

    /// COM_STMT_FETCH: asks for the next `rows` rows of `statement`'s open cursor (inside a
    /// `command`). They follow as the binary rows of a new result, whose end tells (in
    /// SERVER_STATUS_CURSOR_EXISTS and SERVER_STATUS_LAST_ROW_SENT) whether the cursor has more.
    pub(crate) async fn fetch_cursor_rows(&mut self, statement: &Prepared, rows: u32) -> Result<u64, Error> {
        self.check_statement(statement, statement.params.len())?;
        self.send_command_packet(&com_stmt_fetch(statement.id, rows)).await?;
        let id = self.next_result_id;
        self.next_result_id += 1;
        self.prepared.binary_rows = true;
        self.begin_rows(id);
        Ok(id)
    }

    /// COM_STMT_RESET: drops the statement's long data and open cursor (inside a `command`).
    pub(crate) async fn reset_statement(&mut self, statement: &Prepared) -> Result<(), Error> {
        self.check_statement(statement, statement.params.len())?;
        self.send_command_packet(&com_stmt_reset(statement.id)).await?;
        let packet = self.read_packet().await?;
        let context = "COM_STMT_RESET reply";
        match self.track(Response::parse_ok_or_err(&packet, self.capabilities, context).map_err(Error::from))? {
            Response::Ok(ok) => {
                self.status = ok.status_flags;
                Ok(())
            }
            Response::Err(e) => Err(e.into()),
            other => Err(self.track(Err(other.unexpected(context).into()))?),
        }
    }

    /// COM_STMT_CLOSE now (inside a `command`); nothing to do for a statement of an earlier session.
    pub(crate) async fn close_statement(&mut self, statement: &Prepared) -> Result<(), Error> {
        if statement.epoch == self.prepared.epoch {
            self.send_command_packet(&com_stmt_close(statement.id)).await?;
        }
        Ok(())
    }

    /// Refuses a statement of an earlier server session, and a parameter count other than its own.
    fn check_statement(&self, statement: &Prepared, given: usize) -> Result<(), Error> {
        if statement.epoch != self.prepared.epoch {
            return Err(Error::Interface(
                "the prepared statement no longer exists: the session was reset or reconnected since".into(),
            ));
        }
        if given != statement.params.len() {
            return Err(Error::Programming(format!(
                "the statement takes {} parameters, {given} given",
                statement.params.len()
            )));
        }
        Ok(())
    }
}

/// The bytes a string-like parameter takes (before charset conversion).
fn value_len(v: &Value) -> usize {
    match v {
        Value::Text(s) | Value::Enum(s) | Value::Json(s) | Value::Decimal(s) => s.len(),
        Value::Bytes(b) | Value::Geometry(b) => b.len(),
        Value::Set(m) => m.iter().map(|s| s.len() + 1).sum(),
        _ => 8,
    }
}
