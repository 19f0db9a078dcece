//! Cursors (cymysql's `Cursor`, `SSCursor`, `DictCursor`, `SSDictCursor`).

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use super::column_batch::{ColumnBatch, TextColumns};
use super::connection::{Conn, Connection};
use super::events::Ran;
use super::prepare::Prepared;
use super::result_set::StatementResult;
use crate::error::Error;
use crate::protocol::column::Column;
use crate::protocol::constants::status::{SERVER_STATUS_CURSOR_EXISTS, SERVER_STATUS_LAST_ROW_SENT};
use crate::protocol::interpolate::{interpolate, interpolate_into, interpolate_into_with, split_insert_values, Params};
use crate::protocol::placeholders::to_question_marks;
use crate::protocol::value::{row_memory_size, Value};

pub use super::cursor_class::{AnyCursor, CursorClass};
pub use super::dict_cursor::{dict_keys, DictCursor, DictRow};

/// "This command is not supported in the prepared statement protocol yet" (ER_UNSUPPORTED_PS).
pub(crate) const ER_UNSUPPORTED_PS: u16 = 1295;

/// Rows a scroll over a server-side cursor reads (and drops) at a time.
const SKIP_BATCH: usize = 1000;

/// A row of a tuple cursor.
pub type Row = Vec<Value>;

/// Decoded bytes held by several cursors together, counted against `max_result_bytes` besides
/// each cursor's own rows: for work whose results are kept together, as a pool's `gather`
/// returns every task's rows at once. Clones share the count.
#[derive(Debug, Clone, Default)]
pub struct SharedBudget(Rc<Cell<u64>>);

impl SharedBudget {
    /// The bytes counted so far.
    pub fn used(&self) -> u64 {
        self.0.get()
    }
}

/// Executes statements on a connection and fetches their rows.
///
/// Buffered cursors read a result set completely in `execute`; unbuffered ones (`ss_cursor`)
/// read rows from the server as they are fetched, so memory stays flat on large results.
pub struct Cursor {
    conn: Connection,
    /// The connection's lease when the cursor was made; a pooled connection returned since then
    /// belongs to someone else, and this cursor must not touch it.
    lease: u64,
    pub(super) unbuffered: bool,
    closed: bool,
    pub(super) executed: bool,
    pub(super) result_id: u64,
    pub(super) columns: Option<Rc<[Column]>>,
    rows: VecDeque<Row>,
    rowcount: i64,
    /// Rows of the current unbuffered result read from the server so far.
    streamed: u64,
    lastrowid: Option<u64>,
    arraysize: usize,
    /// Decoded bytes of the rows this cursor holds for the current result (`max_result_bytes`).
    held: u64,
    /// What every row costs on top of its values: a dict row carries its keys across the WIT edge.
    row_overhead: u64,
    /// Whether rows are handed out as dict rows.
    pub(super) dict: bool,
    shared: Option<SharedBudget>,
    /// What this cursor has added to `shared` so far.
    shared_charged: u64,
    /// This cursor's own statement timeout; `None` follows the connection's option.
    pub(super) statement_timeout: Option<Option<Duration>>,
    /// PEP 249 `rownumber`: the index of the next row in the result set; `None` before execute.
    rownumber: Option<u64>,
    /// Buffered: the index in `rows` of the next row (they stay held for `scroll`).
    pos: usize,
    /// Buffered: the rows of the current result set, including any `fetchall` moved out.
    result_rows: usize,
    /// Reads rows as decoded, without the caller's conversions (the driver's own statements).
    pub(super) plain: bool,
    /// The server-side cursor (COM_STMT_FETCH) the current result's rows come from, if any.
    pub(super) server_cursor: Option<ServerCursor>,
}

/// A statement's read-only cursor on the server: its rows come a batch at a time by
/// COM_STMT_FETCH, and the connection is free for other commands between batches.
#[derive(Debug)]
pub(super) struct ServerCursor {
    pub statement: Prepared,
    /// Rows asked for by each COM_STMT_FETCH.
    pub fetch_size: u32,
    /// Whether the server holds more rows: its last word had SERVER_STATUS_CURSOR_EXISTS and not
    /// SERVER_STATUS_LAST_ROW_SENT.
    pub open: bool,
    /// Rows read of the current batch; `None` while reading what the execute itself sent.
    pub batch_rows: Option<u64>,
}

/// How [`Cursor::scroll`] counts (PEP 249's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScrollMode {
    /// From the current position (the default).
    #[default]
    Relative,
    /// From the first row.
    Absolute,
}

impl Connection {
    /// A cursor returning rows as value lists; rows are read in full by `execute`.
    pub fn cursor(&self) -> Cursor {
        Cursor::new(self.clone(), false)
    }

    /// An unbuffered cursor (cymysql's `SSCursor`): rows stream from the server as they are fetched.
    pub fn ss_cursor(&self) -> Cursor {
        Cursor::new(self.clone(), true)
    }
}

impl Cursor {
    fn new(conn: Connection, unbuffered: bool) -> Cursor {
        Cursor {
            lease: conn.lease(),
            conn,
            unbuffered,
            closed: false,
            executed: false,
            result_id: 0,
            columns: None,
            rows: VecDeque::new(),
            rowcount: -1,
            streamed: 0,
            lastrowid: None,
            arraysize: 1,
            held: 0,
            row_overhead: 0,
            dict: false,
            shared: None,
            shared_charged: 0,
            statement_timeout: None,
            rownumber: None,
            pos: 0,
            result_rows: 0,
            plain: false,
            server_cursor: None,
        }
    }

    /// Counts this cursor's rows in `budget` as well: results over `max_result_bytes` in total,
    /// across every cursor sharing it, fail like a single result over it.
    pub fn share_budget(&mut self, budget: SharedBudget) {
        self.shared = Some(budget);
    }

    /// Takes back from the shared budget everything this cursor added: its rows are not returned.
    pub fn release_shared_budget(&mut self) {
        if let Some(b) = &self.shared {
            b.0.set(b.0.get().saturating_sub(self.shared_charged));
        }
        self.shared_charged = 0;
    }

    /// Counts a row the cursor is about to hold; an error once the rows held exceed `limit`.
    fn charge(&mut self, row: &Row, limit: u64) -> Result<(), Error> {
        self.charge_size((row_memory_size(row) as u64).saturating_add(self.row_overhead), limit)
    }

    /// [`Cursor::charge`] for `size` bytes held in some other form (a column batch).
    fn charge_size(&mut self, size: u64, limit: u64) -> Result<(), Error> {
        self.held = self.held.saturating_add(size);
        let shared = self.shared.as_ref().map_or(0, |b| {
            b.0.set(b.0.get().saturating_add(size));
            b.0.get()
        });
        if self.shared.is_some() {
            self.shared_charged = self.shared_charged.saturating_add(size);
        }
        if self.held > limit || shared > limit {
            return Err(Error::ResultTooLarge { limit });
        }
        Ok(())
    }

    /// Gives up the current result after it outgrew `max_result_bytes`: drops the rows held and
    /// reads the rest of it off the wire, so the connection can run its next command.
    async fn abandon_result(&mut self, c: &mut Conn, e: Error) -> Result<(), Error> {
        self.release_rows();
        // A broken connection has nothing left to read; its error is the one to report.
        if !e.is_fatal() {
            c.discard_rows(self.result_id).await?;
        }
        Err(e)
    }

    /// Drops the rows held of the current result and gives their bytes back to a shared budget.
    fn release_rows(&mut self) {
        let freed = self.held;
        self.reset();
        if let Some(b) = &self.shared {
            b.0.set(b.0.get().saturating_sub(freed));
            self.shared_charged = self.shared_charged.saturating_sub(freed);
        }
    }

    /// The connection this cursor runs on.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(super) fn check_open(&self) -> Result<(), Error> {
        if self.closed {
            Err(Error::CursorClosed)
        } else if self.lease != self.conn.lease() {
            Err(Error::Interface("the cursor's connection went back to the pool".into()))
        } else {
            Ok(())
        }
    }

    /// Runs `query`, with `%s` / `%(name)s` placeholders filled from `params` when given.
    /// Returns the number of affected rows, or of rows in a buffered result set.
    ///
    /// With the connection option `prepared_execution`, a call with `params` runs as
    /// [`Cursor::execute_prepared`] does; a statement the server cannot prepare
    /// (ER_UNSUPPORTED_PS) then goes as text.
    pub async fn execute(&mut self, query: &str, params: Option<&Params>) -> Result<u64, Error> {
        self.check_open()?;
        let conn = self.conn.clone();
        let mut c = conn.lock().await;
        if params.is_some() && c.options.prepared_execution {
            drop(c);
            match self.execute_prepared(query, params).await {
                Err(e) if e.code() == Some(ER_UNSUPPORTED_PS) => c = conn.lock().await,
                done => return done,
            }
        }
        let sql = c.render_query(query, params)?;
        c.command(async |c: &mut Conn| self.run_observed(c, query, params.is_some(), &sql).await).await
    }

    /// [`Cursor::run`], reported to the connection's listener when there is one.
    async fn run_observed(&mut self, c: &mut Conn, query: &str, with_params: bool, sql: &str) -> Result<u64, Error> {
        let Some(started) = c.observe_start() else { return self.run(c, sql).await };
        let r = self.run(c, sql).await;
        self.report(c, started, query, with_params, sql, &r);
        r
    }

    /// Hands the listener the event of the statement that just ended on this cursor.
    pub(super) fn report(
        &self,
        c: &Conn,
        started: Duration,
        query: &str,
        with_params: bool,
        sent: &str,
        r: &Result<u64, Error>,
    ) {
        let (rows, affected_rows) = match (r, &self.columns) {
            (Err(_), _) => (Some(0), 0),
            (Ok(_), Some(_)) if self.unbuffered => (None, 0),
            (Ok(_), Some(_)) => (Some(self.rows.len() as u64), 0),
            (Ok(n), None) => (Some(0), *n),
        };
        let error = r.as_ref().err();
        c.report_statement(started, Ran { query, with_params, sent, rows, affected_rows, error });
    }

    async fn run(&mut self, c: &mut Conn, sql: &str) -> Result<u64, Error> {
        self.reset();
        self.executed = true;
        c.start_statement_clock(self.statement_timeout.unwrap_or(c.options.statement_timeout));
        let r = async {
            let (id, result) = c.start_query(sql).await?;
            self.result_id = id;
            self.load(c, result).await
        }
        .await;
        c.stop_statement_clock(r)
    }

    pub(super) fn reset(&mut self) {
        self.columns = None;
        // Released, not just cleared: a result that hit the limit should not pin its memory.
        self.rows = VecDeque::new();
        self.held = 0;
        self.rowcount = -1;
        self.streamed = 0;
        self.lastrowid = None;
        self.rownumber = None;
        self.pos = 0;
        self.result_rows = 0;
        self.server_cursor = None;
    }

    pub(super) async fn load(&mut self, c: &mut Conn, result: StatementResult) -> Result<u64, Error> {
        self.rownumber = Some(0);
        match result {
            StatementResult::Ok(ok) => {
                self.rowcount = i64::try_from(ok.affected_rows).unwrap_or(i64::MAX);
                self.lastrowid = Some(ok.last_insert_id);
                Ok(ok.affected_rows)
            }
            StatementResult::Rows(meta) => {
                self.columns = Some(meta.columns.clone());
                self.lastrowid = None;
                self.row_overhead = if self.dict {
                    let per_key = |c: &Column| c.name.len() + std::mem::size_of::<String>();
                    meta.columns.iter().map(per_key).sum::<usize>() as u64
                } else {
                    0
                };
                if self.unbuffered {
                    return Ok(0);
                }
                let limit = c.options.max_result_bytes;
                // A result that fails partway (a value outside its type, an error from the server
                // mid-result, the memory cap) is dropped whole: no caller sees a truncated result
                // as if it were complete.
                loop {
                    let row = match c.read_row_as(self.result_id, &meta.columns, !self.plain).await {
                        Ok(Some(row)) => row,
                        Ok(None) => break,
                        Err(e) => return self.abandon_result(c, e).await.map(|()| 0),
                    };
                    if let Err(e) = self.charge(&row, limit) {
                        return self.abandon_result(c, e).await.map(|()| 0);
                    }
                    self.rows.push_back(row);
                }
                self.rowcount = self.rows.len() as i64;
                self.result_rows = self.rows.len();
                Ok(self.rows.len() as u64)
            }
        }
    }

    /// Runs `query` once per parameter set; `INSERT ... VALUES (...)` is sent as multi-row
    /// INSERTs no larger than the server's max_allowed_packet. Returns the total affected rows.
    ///
    /// With the connection option `prepared_execution` and a server that offers MariaDB's bulk
    /// operations, the statement is prepared (from the statement cache) and the sets go as
    /// COM_STMT_BULK_EXECUTE instead, for every kind of statement the server runs in bulk
    /// (INSERT, REPLACE, UPDATE, DELETE); otherwise as above.
    pub async fn executemany(&mut self, query: &str, seq_of_params: &[Params]) -> Result<u64, Error> {
        self.check_open()?;
        if seq_of_params.is_empty() {
            return Ok(0);
        }
        if let Some(total) = self.executemany_bulk(query, seq_of_params).await? {
            return Ok(total);
        }
        if let Some(parts) = split_insert_values(query) {
            return self.execute_batched(query, parts.prefix, parts.values, parts.suffix, seq_of_params).await;
        }
        let mut total = 0u64;
        for params in seq_of_params {
            total = total.saturating_add(self.execute(query, Some(params)).await?);
        }
        self.rowcount = i64::try_from(total).unwrap_or(i64::MAX);
        Ok(total)
    }

    async fn execute_batched(
        &mut self,
        query: &str,
        prefix: &str,
        values: &str,
        suffix: &str,
        rows: &[Params],
    ) -> Result<u64, Error> {
        let conn = self.conn.clone();
        let mut c = conn.lock().await;
        let limit = c.max_allowed_packet().await?;
        let mode = c.escape_mode_checked()?;
        // As cymysql: the prefix is %-formatted with no arguments (so %% becomes %), the suffix is not.
        let prefix = interpolate(prefix, Some(&Params::Positional(Vec::new())), mode)?;
        let converters = c.options.converters.clone();
        let total = c
            .command(async |c: &mut Conn| {
                let mut total = 0u64;
                let mut sql = String::with_capacity(limit.min(1 << 20));
                sql.push_str(&prefix);
                let mut in_batch = 0usize;
                for params in rows {
                    // Each row is rendered in place; the rare row that does not fit is moved to the next statement.
                    let row_start = sql.len();
                    if in_batch > 0 {
                        sql.push(',');
                    }
                    if converters.has_encoders() {
                        let literal = |out: &mut String, v: &Value, mode| converters.write_literal(out, v, mode);
                        interpolate_into_with(&mut sql, values, params, mode, literal)?;
                    } else {
                        interpolate_into(&mut sql, values, params, mode)?;
                    }
                    // Bytes of the statement once the suffix is in, plus the command byte.
                    if in_batch > 0 && sql.len() + suffix.len() + 1 > limit {
                        let row = sql.split_off(row_start + 1);
                        sql.truncate(row_start);
                        sql.push_str(suffix);
                        total = total.saturating_add(self.run_observed(c, query, true, &sql).await?);
                        sql.clear();
                        sql.push_str(&prefix);
                        sql.push_str(&row);
                        in_batch = 0;
                    }
                    in_batch += 1;
                }
                if in_batch > 0 {
                    sql.push_str(suffix);
                    total = total.saturating_add(self.run_observed(c, query, true, &sql).await?);
                }
                Ok(total)
            })
            .await?;
        self.rowcount = i64::try_from(total).unwrap_or(i64::MAX);
        Ok(total)
    }

    /// `executemany` as one prepared statement run in bulk, when `prepared_execution` is on and
    /// the server offers bulk operations; `None`, with nothing executed, otherwise.
    async fn executemany_bulk(&mut self, query: &str, seq_of_params: &[Params]) -> Result<Option<u64>, Error> {
        let conn = self.conn.clone();
        let mut c = conn.lock().await;
        if !c.options.prepared_execution || seq_of_params.len() < 2 || !c.offers_bulk_execute() {
            return Ok(None);
        }
        let mode = c.escape_mode();
        let mut sql = None;
        let mut sets = Vec::with_capacity(seq_of_params.len());
        for params in seq_of_params {
            let mapped = to_question_marks(query, params, mode)?;
            // Every set maps to the same text unless its kind changes (positional, named).
            match &sql {
                None => sql = Some(mapped.sql),
                Some(s) if *s == mapped.sql => {}
                Some(_) => return Ok(None),
            }
            sets.push(mapped.params);
        }
        let Some(sql) = sql else { return Ok(None) };
        let limit = c.max_allowed_packet().await?;
        let done = c
            .command(async |c: &mut Conn| {
                let prepared = c.cached_statement(&sql).await?;
                if !c.can_bulk_execute(&prepared, sets.len()) {
                    return Ok(None);
                }
                self.reset();
                self.executed = true;
                c.start_statement_clock(self.statement_timeout.unwrap_or(c.options.statement_timeout));
                let r = c.bulk_execute(&prepared, &sets, limit).await;
                c.stop_statement_clock(r)
            })
            .await?;
        Ok(done.map(|(total, insert_id)| {
            self.set_outcome(total, Some(insert_id));
            total
        }))
    }

    fn check_executed(&self) -> Result<(), Error> {
        self.check_open()?;
        if self.executed {
            Ok(())
        } else {
            Err(Error::Programming("execute() first".into()))
        }
    }

    /// Reads up to `n` more rows of an unbuffered result from the server into the local queue.
    async fn pull(&mut self, n: usize) -> Result<(), Error> {
        if !self.unbuffered || self.rows.len() >= n {
            return Ok(());
        }
        let Some(columns) = self.columns.clone() else {
            return Ok(());
        };
        let conn = self.conn.clone();
        let mut c = conn.lock().await;
        let fetching = self.server_cursor.as_ref().is_some_and(|s| s.open);
        if !c.is_current(self.result_id) && !fetching {
            return Ok(());
        }
        c.command(async |c: &mut Conn| self.fill(c, &columns, n, true).await).await
    }

    /// Reads rows into the queue until it holds `n` (inside a `command`): those of the result on
    /// the wire, then, with `fetch`, those a server-side cursor still holds, by COM_STMT_FETCH.
    /// A fetched batch is read whole, however few rows were asked for: left on the wire, the next
    /// command would discard it, and the connection is to be free between batches.
    pub(super) async fn fill(&mut self, c: &mut Conn, columns: &[Column], n: usize, fetch: bool) -> Result<(), Error> {
        let limit = c.options.max_result_bytes;
        // Only what this call accumulates counts (and what an earlier one left queued).
        self.held = self.rows.iter().map(|r| row_memory_size(r) as u64 + self.row_overhead).sum();
        loop {
            let in_batch =
                self.server_cursor.as_ref().is_some_and(|s| s.batch_rows.is_some()) && c.is_current(self.result_id);
            if self.rows.len() >= n && !in_batch {
                break;
            }
            if !c.is_current(self.result_id) {
                match &mut self.server_cursor {
                    Some(sc) if sc.open && fetch => {
                        // Closed until this batch's end says otherwise: an error leaves it closed.
                        sc.open = false;
                        sc.batch_rows = Some(0);
                        self.result_id = c.fetch_cursor_rows(&sc.statement, sc.fetch_size).await?;
                    }
                    _ => break,
                }
            }
            match c.read_row_as(self.result_id, columns, !self.plain).await {
                Ok(Some(row)) => {
                    if let Err(e) = self.charge(&row, limit) {
                        return self.abandon_result(c, e).await;
                    }
                    self.rows.push_back(row);
                    self.streamed += 1;
                    if let Some(rows) = self.server_cursor.as_mut().and_then(|s| s.batch_rows.as_mut()) {
                        *rows += 1;
                    }
                }
                Ok(None) => {
                    if let Some(sc) = &mut self.server_cursor {
                        let status = c.status;
                        // A batch of no rows ends the cursor whatever its status claims, so a
                        // server cannot keep the client asking forever.
                        sc.open = status & SERVER_STATUS_CURSOR_EXISTS != 0
                            && status & SERVER_STATUS_LAST_ROW_SENT == 0
                            && sc.batch_rows != Some(0)
                            && !c.is_current(self.result_id);
                        if sc.open {
                            continue;
                        }
                    }
                    // Every row has now come off the wire, so the count is known.
                    self.rowcount = i64::try_from(self.streamed).unwrap_or(i64::MAX);
                    break;
                }
                Err(e) => return self.abandon_result(c, e).await,
            }
        }
        Ok(())
    }

    /// Moves `rownumber` (and a buffered cursor's position) past `n` rows handed out or skipped.
    fn advance(&mut self, n: usize) {
        if !self.unbuffered {
            self.pos = self.pos.saturating_add(n);
        }
        self.rownumber = Some(self.rownumber.unwrap_or(0).saturating_add(n as u64));
    }

    /// The next row, or `None` when the result set is exhausted.
    ///
    /// A buffered cursor keeps its rows until the next statement so that [`Cursor::scroll`] can
    /// come back to them (as PyMySQL's `_rows`): it hands out a copy.
    pub async fn fetchone(&mut self) -> Result<Option<Row>, Error> {
        self.check_executed()?;
        let row = if self.unbuffered {
            self.pull(1).await?;
            self.rows.pop_front()
        } else {
            self.rows.get(self.pos).cloned()
        };
        if row.is_some() {
            self.advance(1);
        }
        Ok(row)
    }

    /// Up to `size` rows (`arraysize` when `None`); a buffered cursor hands out copies, as
    /// [`Cursor::fetchone`] does.
    pub async fn fetchmany(&mut self, size: Option<usize>) -> Result<Vec<Row>, Error> {
        self.check_executed()?;
        let n = size.unwrap_or(self.arraysize);
        let rows: Vec<Row> = if self.unbuffered {
            self.pull(n).await?;
            let n = n.min(self.rows.len());
            self.rows.drain(..n).collect()
        } else {
            let end = self.pos.saturating_add(n).min(self.rows.len());
            self.rows.range(self.pos.min(end)..end).cloned().collect()
        };
        self.advance(rows.len());
        Ok(rows)
    }

    /// All remaining rows.
    ///
    /// They are moved out, not copied, even from a buffered cursor: a result near
    /// `max_result_bytes` must not be held twice. `scroll` cannot come back to them afterwards
    /// (it reports not-supported); rows before them stay reachable.
    pub async fn fetchall(&mut self) -> Result<Vec<Row>, Error> {
        self.check_executed()?;
        self.pull(usize::MAX).await?;
        let rows = if self.unbuffered || self.pos == 0 {
            // The queue's buffer becomes the result: no second buffer of every row, no moves.
            Vec::from(std::mem::take(&mut self.rows))
        } else {
            let from = self.pos.min(self.rows.len());
            self.rows.drain(from..).collect()
        };
        self.advance(rows.len());
        Ok(rows)
    }

    /// The next `size` rows (all that remain when `None`), column by column, for bulk reads across
    /// a component boundary. The rows are taken as [`Cursor::fetchmany`] and
    /// [`Cursor::fetchall`] take them.
    pub async fn fetch_columns(&mut self, size: Option<usize>) -> Result<ColumnBatch, Error> {
        if let Some(batch) = self.fetch_text_columns(size.unwrap_or(usize::MAX)).await? {
            return Ok(batch);
        }
        let rows = match size {
            Some(n) => self.fetchmany(Some(n)).await?,
            None => self.fetchall().await?,
        };
        ColumnBatch::from_rows(self.columns.as_deref().unwrap_or_default(), &rows)
    }

    /// [`Cursor::fetch_columns`] straight from the wire, with no `Value` a cell: an unbuffered
    /// text-protocol result read with no converters, nothing queued and no server cursor. `None`
    /// when the rows must be decoded as values instead.
    async fn fetch_text_columns(&mut self, n: usize) -> Result<Option<ColumnBatch>, Error> {
        if !self.unbuffered || !self.rows.is_empty() || self.server_cursor.is_some() {
            return Ok(None);
        }
        self.check_executed()?;
        let Some(columns) = self.columns.clone() else { return Ok(None) };
        let conn = self.conn.clone();
        let mut c = conn.lock().await;
        if !c.is_current(self.result_id) || !c.rows_are_plain_text() {
            return Ok(None);
        }
        let batch = c
            .command(async |c: &mut Conn| {
                let limit = c.options.max_result_bytes;
                self.held = 0;
                let mut batch = TextColumns::new(&columns);
                while (batch.rows() as usize) < n {
                    let pushed = match c.read_raw_row(self.result_id).await {
                        Ok(Some(packet)) => {
                            // The packet's length stands for the cell bytes the batch now holds.
                            let size = (packet.len() as u64).saturating_add(self.row_overhead);
                            self.charge_size(size, limit).and_then(|()| batch.push_row(&packet))
                        }
                        Ok(None) => {
                            // Every row has now come off the wire, so the count is known.
                            self.rowcount = i64::try_from(self.streamed).unwrap_or(i64::MAX);
                            break;
                        }
                        Err(e) => Err(e),
                    };
                    match pushed {
                        Ok(()) => self.streamed += 1,
                        Err(e) => return self.abandon_result(c, e).await.map(|()| None),
                    }
                }
                Ok(Some(batch.finish()))
            })
            .await?;
        if let Some(b) = &batch {
            self.advance(b.rows as usize);
        }
        Ok(batch)
    }

    /// PEP 249 `rownumber`: the index in the result set of the row the next fetch returns;
    /// `None` before the first `execute`.
    pub fn rownumber(&self) -> Option<u64> {
        self.rownumber
    }

    /// PEP 249 `scroll` with PyMySQL's semantics: moves to `value` rows from the current one
    /// (`Relative`) or to row `value` (`Absolute`).
    ///
    /// A buffered cursor moves anywhere in the result set; a target outside it is
    /// [`Error::OutOfRange`] (PyMySQL's `IndexError`), and the cursor stays where it was.
    /// Rows `fetchall` moved out cannot be reached again: not-supported.
    /// An unbuffered cursor (SSCursor) only moves forward, reading and discarding the rows it
    /// skips (past the end it stops at the end, as PyMySQL's); backwards is not-supported.
    pub async fn scroll(&mut self, value: i64, mode: ScrollMode) -> Result<(), Error> {
        self.check_executed()?;
        let current = self.rownumber.unwrap_or(0);
        let current_i = i64::try_from(current).unwrap_or(i64::MAX);
        if self.unbuffered {
            let target = match mode {
                ScrollMode::Relative => current_i.saturating_add(value),
                ScrollMode::Absolute => value,
            };
            if target < current_i {
                return Err(Error::NotSupported("backwards scrolling is not supported by an unbuffered cursor".into()));
            }
            return self.skip(target.abs_diff(current_i)).await;
        }
        let target = match mode {
            ScrollMode::Relative => current_i.checked_add(value),
            ScrollMode::Absolute => Some(value),
        };
        let rows = self.result_rows as u64;
        let Some(index) = target.and_then(|t| usize::try_from(t).ok()).filter(|&t| t < self.result_rows) else {
            return Err(Error::OutOfRange { target: target.unwrap_or(i64::MAX), rows });
        };
        if index >= self.rows.len() {
            return Err(Error::NotSupported(format!(
                "row {index} was handed out by fetchall, which moves rows rather than copying them; \
                 execute the statement again to read it"
            )));
        }
        self.pos = index;
        self.rownumber = Some(index as u64);
        Ok(())
    }

    /// Unbuffered: moves `n` rows forward, dropping rows already read, then reading and
    /// discarding the rest from the server (each counted in `rownumber`, as PyMySQL counts them).
    async fn skip(&mut self, n: u64) -> Result<(), Error> {
        let queued = usize::try_from(n).unwrap_or(usize::MAX).min(self.rows.len());
        self.rows.drain(..queued);
        let mut left = n - queued as u64;
        self.rownumber = Some(self.rownumber.unwrap_or(0).saturating_add(n));
        if self.columns.is_none() {
            return Ok(());
        }
        if self.server_cursor.is_some() {
            // Rows behind a server cursor come in batches: read them as fetches do, and drop them.
            while left > 0 {
                let batch = usize::try_from(left).unwrap_or(usize::MAX).min(SKIP_BATCH);
                self.pull(batch).await?;
                if self.rows.is_empty() {
                    break;
                }
                let n = batch.min(self.rows.len());
                self.rows.drain(..n);
                left -= n as u64;
            }
            return Ok(());
        }
        let conn = self.conn.clone();
        let mut c = conn.lock().await;
        if left == 0 || !c.is_current(self.result_id) {
            return Ok(());
        }
        let id = self.result_id;
        c.command(async |c: &mut Conn| {
            while left > 0 {
                // Only framed, never decoded: the rows are dropped unseen.
                match c.skip_row(id).await {
                    Ok(true) => {
                        self.streamed += 1;
                        left -= 1;
                    }
                    Ok(false) => {
                        self.rowcount = i64::try_from(self.streamed).unwrap_or(i64::MAX);
                        break;
                    }
                    Err(e) => return self.abandon_result(c, e).await,
                }
            }
            Ok(())
        })
        .await
    }

    /// Moves to the next result of a multi-statement query; `false` when there is none.
    pub async fn nextset(&mut self) -> Result<bool, Error> {
        self.check_executed()?;
        let conn = self.conn.clone();
        let mut c = conn.lock().await;
        if !c.is_current(self.result_id) {
            return Ok(false);
        }
        let id = self.result_id;
        c.command(async |c: &mut Conn| match c.next_result(id).await? {
            None => Ok(false),
            Some(result) => {
                self.reset();
                self.load(c, result).await.map(|_| true)
            }
        })
        .await
    }

    /// The columns of the current result set (PEP 249 `description`), `None` without one.
    pub fn description(&self) -> Option<&[Column]> {
        self.columns.as_deref()
    }

    /// Affected rows, rows in a buffered result, or -1 when not known (unbuffered, not executed).
    pub fn rowcount(&self) -> i64 {
        self.rowcount
    }

    /// Records what a run of several statements did: the affected rows in total, the last insert id.
    pub(super) fn set_outcome(&mut self, affected: u64, lastrowid: Option<u64>) {
        self.rowcount = i64::try_from(affected).unwrap_or(i64::MAX);
        self.lastrowid = lastrowid;
    }

    /// The AUTO_INCREMENT id of the last INSERT (the OK packet's last insert id).
    pub fn lastrowid(&self) -> Option<u64> {
        self.lastrowid
    }

    pub fn arraysize(&self) -> usize {
        self.arraysize
    }

    /// Overrides the connection's `statement_timeout` for this cursor (JDBC's `setQueryTimeout`):
    /// `Some(Some(limit))` bounds each statement, `Some(None)` lets them run, `None` follows the
    /// connection again. It covers `execute` (and each statement of `executemany`): the whole
    /// result of a buffered cursor, the result header and columns of an unbuffered one.
    pub fn set_statement_timeout(&mut self, limit: Option<Option<Duration>>) {
        self.statement_timeout = limit;
    }

    pub fn set_arraysize(&mut self, n: usize) {
        self.arraysize = n.max(1);
    }

    /// Closes the cursor: an unbuffered result still on the wire is read and discarded,
    /// and later calls fail with an interface error.
    pub async fn close(&mut self) -> Result<(), Error> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.rows.clear();
        if self.lease != self.conn.lease() {
            // What the wire holds now belongs to the connection's next borrower.
            return Ok(());
        }
        let conn = self.conn.clone();
        let mut c = conn.lock().await;
        // A session that cannot take a command has nothing of ours left to read.
        if c.is_current(self.result_id) && c.check_ready().is_ok() {
            c.command(async |c: &mut Conn| c.drain_pending().await).await?;
        }
        if let Some(sc) = self.server_cursor.take().filter(|s| s.open) {
            // The server would hold the cursor's rows until the statement runs again or closes.
            if c.check_ready().is_ok() && sc.statement.epoch == c.prepared.epoch {
                c.command(async |c: &mut Conn| c.reset_statement(&sc.statement).await).await?;
            }
        }
        Ok(())
    }
}
