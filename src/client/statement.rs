//! Server-side prepared statements (COM_STMT_PREPARE / EXECUTE / CLOSE): [`Connection::prepare`]
//! and the [`Statement`] it returns.
//!
//! The statement is parsed once by the server and executed with its parameters in the binary
//! protocol; rows come back as the same [`Value`]s the text protocol gives. Its results are read
//! through a [`Cursor`], buffered or unbuffered, exactly as a text query's.

use std::rc::Rc;

use super::connection::{Conn, Connection};
use super::cursor::{Cursor, ServerCursor};
use super::prepare::{CloseQueue, Prepared};
use crate::error::Error;
use crate::protocol::column::Column;
use crate::protocol::com_stmt_execute::{CURSOR_TYPE_NO_CURSOR, CURSOR_TYPE_READ_ONLY};
use crate::protocol::constants::status::SERVER_STATUS_CURSOR_EXISTS;
use crate::protocol::interpolate::Params;
use crate::protocol::placeholders::to_question_marks;
use crate::protocol::value::Value;

/// A statement prepared on the server (COM_STMT_PREPARE), with `?` placeholders.
///
/// It lives as long as the server session that prepared it: after a reconnect, or a pool's
/// COM_RESET_CONNECTION, executing it is an interface error and it has to be prepared again.
/// Dropped without [`Statement::close`], it is deallocated before the connection's next command.
pub struct Statement {
    conn: Connection,
    lease: u64,
    prepared: Prepared,
    closed: bool,
    close_queue: CloseQueue,
    /// The text it was prepared from, for statement events.
    sql: Rc<str>,
}

impl std::fmt::Debug for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement").field("id", &self.prepared.id).field("closed", &self.closed).finish_non_exhaustive()
    }
}

impl Connection {
    /// Prepares `sql` on the server (COM_STMT_PREPARE). Placeholders are `?`, not `%s`.
    pub async fn prepare(&self, sql: &str) -> Result<Statement, Error> {
        let mut c = self.lock().await;
        let prepared = c.command(async |c: &mut Conn| c.prepare_statement(sql).await).await?;
        Ok(Statement {
            conn: self.clone(),
            lease: self.lease(),
            close_queue: c.prepared.close_queue.clone(),
            prepared,
            closed: false,
            sql: sql.into(),
        })
    }
}

impl Statement {
    /// How many `?` placeholders the statement has.
    pub fn param_count(&self) -> usize {
        self.prepared.params.len()
    }

    /// The columns of the statement's result set as the server described them at prepare time
    /// (empty for a statement without one).
    pub fn columns(&self) -> &[Column] {
        &self.prepared.columns
    }

    /// The statement id the server gave it.
    pub fn id(&self) -> u32 {
        self.prepared.id
    }

    /// The connection the statement was prepared on.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn check_open(&self) -> Result<&Prepared, Error> {
        if self.closed {
            Err(Error::Interface("the prepared statement is closed".into()))
        } else if self.lease != self.conn.lease() {
            Err(Error::Interface("the statement's connection went back to the pool".into()))
        } else {
            Ok(&self.prepared)
        }
    }

    /// Executes the statement with `params` (one per `?`) and returns a buffered cursor over
    /// its result. For rows read as they arrive, use `ss_cursor().execute_statement(..)`.
    pub async fn execute(&self, params: &[Value]) -> Result<Cursor, Error> {
        let mut cursor = self.conn.cursor();
        cursor.execute_statement(self, params).await?;
        Ok(cursor)
    }

    /// Executes the statement with `params` and returns an unbuffered cursor (cymysql's
    /// `SSCursor`): its rows are read from the server as they are fetched.
    pub async fn ss_execute(&self, params: &[Value]) -> Result<Cursor, Error> {
        let mut cursor = self.conn.ss_cursor();
        cursor.execute_statement(self, params).await?;
        Ok(cursor)
    }

    /// Executes the statement with a read-only cursor on the server (CURSOR_TYPE_READ_ONLY) and
    /// returns an unbuffered cursor over it: the server keeps the result, and each fetch that
    /// needs rows asks for the next `fetch_size` of them (COM_STMT_FETCH). Between batches the
    /// connection is free for other statements, which an `ss_execute` result would block.
    ///
    /// The server materializes the result when the statement runs (in a temporary table), so
    /// this suits a large result read slowly, interleaved with other work on the connection.
    /// The cursor lasts until it is read to the end, closed (COM_STMT_RESET), or the statement
    /// runs again or is closed; a fetch after that is the server's error. A statement the
    /// server runs without a cursor (a CALL) sends its rows at once, read as `ss_execute`'s.
    pub async fn open_cursor(&self, params: &[Value], fetch_size: u32) -> Result<Cursor, Error> {
        let mut cursor = self.conn.ss_cursor();
        cursor.execute_statement_with_cursor(self, params, fetch_size).await?;
        Ok(cursor)
    }

    /// Executes the statement once per parameter set; returns the total affected rows.
    ///
    /// On MariaDB (MARIADB_CLIENT_STMT_BULK_OPERATIONS) the sets go as COM_STMT_BULK_EXECUTE, as
    /// many to a request as max_allowed_packet allows, and the server answers each request once;
    /// elsewhere, and for statements the server does not run in bulk, each set is one
    /// COM_STMT_EXECUTE. An error (a duplicate key) stops at the request it came from. MariaDB
    /// runs a bulk INSERT request as one statement, so on a transactional table none of that
    /// request's rows stay; it runs UPDATE and DELETE a set at a time, so the sets before the
    /// failing one stay applied. Earlier requests stay applied either way (committed with autocommit).
    pub async fn executemany(&self, seq_of_params: &[Vec<Value>]) -> Result<u64, Error> {
        let mut cursor = self.conn.cursor();
        cursor.executemany_statement(self, seq_of_params).await
    }

    /// COM_STMT_RESET: discards long data sent for the next execution and any open cursor.
    pub async fn reset(&self) -> Result<(), Error> {
        let prepared = self.check_open()?.clone();
        let mut c = self.conn.lock().await;
        c.command(async |c: &mut Conn| c.reset_statement(&prepared).await).await
    }

    /// COM_STMT_CLOSE: deallocates the statement on the server. Closing twice is harmless; a
    /// connection that is closed or broken has nothing to deallocate.
    pub async fn close(&mut self) -> Result<(), Error> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        if self.lease != self.conn.lease() {
            // The pool took the connection back and reset or discarded the session.
            return Ok(());
        }
        let mut c = self.conn.lock().await;
        if c.check_ready().is_err() {
            return Ok(());
        }
        let prepared = self.prepared.clone();
        c.command(async |c: &mut Conn| c.close_statement(&prepared).await).await
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        if !self.closed {
            self.close_queue.borrow_mut().push((self.prepared.epoch, self.prepared.id));
        }
    }
}

impl Connection {
    /// How many statements `execute_prepared` keeps prepared on this connection (default 16,
    /// least recently used evicted first; 0 prepares and deallocates each time).
    pub async fn set_statement_cache_size(&self, size: usize) {
        let mut c = self.lock().await;
        c.prepared.cache_size = size;
        while c.prepared.cache.len() > size {
            let (_, old) = c.prepared.cache.remove(0);
            c.prepared.close_queue.borrow_mut().push((old.epoch, old.id));
        }
    }
}

impl Cursor {
    /// Runs `query` as `execute` does, but as a server-side prepared statement: `%s` and
    /// `%(name)s` outside strings, names and comments become `?`, the values are sent in the
    /// binary protocol, and the statement stays prepared in the connection's cache for the next
    /// call with the same text. With `params` `None` the query is prepared as it is.
    pub async fn execute_prepared(&mut self, query: &str, params: Option<&Params>) -> Result<u64, Error> {
        self.check_open()?;
        let conn = self.connection().clone();
        let mut c = conn.lock().await;
        let (sql, values) = match params {
            None => (query.to_string(), Vec::new()),
            Some(p) => {
                let mapped = to_question_marks(query, p, c.escape_mode())?;
                (mapped.sql, mapped.params)
            }
        };
        let max_packet =
            if Conn::execute_may_need_long_data(&values) { Some(c.max_allowed_packet().await?) } else { None };
        c.command(async |c: &mut Conn| {
            self.reset();
            self.executed = true;
            let started = c.observe_start();
            let r = async {
                let prepared = c.cached_statement(&sql).await?;
                c.start_statement_clock(self.statement_timeout.unwrap_or(c.options.statement_timeout));
                let r = async {
                    let (id, result) = c.start_execute(&prepared, &values, max_packet, CURSOR_TYPE_NO_CURSOR).await?;
                    self.result_id = id;
                    self.load(c, result).await
                }
                .await;
                c.stop_statement_clock(r)
            }
            .await;
            if let Some(started) = started {
                self.report(c, started, query, params.is_some(), &sql, &r);
            }
            r
        })
        .await
    }

    /// The statement's server-side state, if this open cursor may run it: the statement is open
    /// and was prepared on this cursor's connection.
    fn usable_statement<'s>(&self, statement: &'s Statement) -> Result<&'s Prepared, Error> {
        self.check_open()?;
        let prepared = statement.check_open()?;
        if !Rc::ptr_eq(&statement.conn.inner, &self.connection().inner) {
            return Err(Error::Programming("the statement was prepared on another connection".into()));
        }
        Ok(prepared)
    }

    /// Executes prepared `statement` once per parameter set of `seq_of_params` on this cursor, in
    /// bulk where the server offers it (see [`Statement::executemany`]). Returns the total affected
    /// rows, which is also the cursor's `rowcount`; `lastrowid` is that of the last request.
    pub async fn executemany_statement(
        &mut self,
        statement: &Statement,
        seq_of_params: &[Vec<Value>],
    ) -> Result<u64, Error> {
        let prepared = self.usable_statement(statement)?;
        let conn = self.connection().clone();
        let mut c = conn.lock().await;
        if c.can_bulk_execute(prepared, seq_of_params.len()) {
            let limit = c.max_allowed_packet().await?;
            let done = c
                .command(async |c: &mut Conn| {
                    self.reset();
                    self.executed = true;
                    c.start_statement_clock(self.statement_timeout.unwrap_or(c.options.statement_timeout));
                    let r = c.bulk_execute(prepared, seq_of_params, limit).await;
                    c.stop_statement_clock(r)
                })
                .await?;
            if let Some((total, insert_id)) = done {
                self.set_outcome(total, Some(insert_id));
                return Ok(total);
            }
        }
        drop(c);
        let mut total = 0u64;
        let mut insert_id = None;
        for params in seq_of_params {
            total = total.saturating_add(self.execute_statement(statement, params).await?);
            insert_id = self.lastrowid();
        }
        self.set_outcome(total, insert_id);
        Ok(total)
    }

    /// Executes prepared `statement` with `params` (one per `?`) on this cursor, as `execute`
    /// runs a text query: buffered cursors read the whole result, unbuffered ones leave the rows
    /// to the fetch calls. Returns the affected rows, or the rows of a buffered result.
    pub async fn execute_statement(&mut self, statement: &Statement, params: &[Value]) -> Result<u64, Error> {
        self.run_statement(statement, params, None).await
    }

    /// Executes prepared `statement` with a read-only server-side cursor (see
    /// [`Statement::open_cursor`]) on this unbuffered cursor: its rows are fetched `fetch_size`
    /// at a time as the fetch calls need them.
    pub async fn execute_statement_with_cursor(
        &mut self,
        statement: &Statement,
        params: &[Value],
        fetch_size: u32,
    ) -> Result<u64, Error> {
        if !self.unbuffered {
            return Err(Error::Programming("a server-side cursor needs an unbuffered cursor (ss_cursor)".into()));
        }
        if fetch_size == 0 {
            return Err(Error::Programming("fetch_size must be at least 1".into()));
        }
        self.run_statement(statement, params, Some(fetch_size)).await
    }

    async fn run_statement(
        &mut self,
        statement: &Statement,
        params: &[Value],
        fetch_size: Option<u32>,
    ) -> Result<u64, Error> {
        let prepared = self.usable_statement(statement)?;
        let conn = self.connection().clone();
        let mut c = conn.lock().await;
        let max_packet =
            if Conn::execute_may_need_long_data(params) { Some(c.max_allowed_packet().await?) } else { None };
        c.command(async |c: &mut Conn| {
            self.reset();
            self.executed = true;
            let started = c.observe_start();
            c.start_statement_clock(self.statement_timeout.unwrap_or(c.options.statement_timeout));
            let r = async {
                let cursor_type = if fetch_size.is_some() { CURSOR_TYPE_READ_ONLY } else { CURSOR_TYPE_NO_CURSOR };
                let (id, result) = c.start_execute(prepared, params, max_packet, cursor_type).await?;
                self.result_id = id;
                let n = self.load(c, result).await?;
                if let (Some(fetch_size), Some(columns)) = (fetch_size, self.columns.clone()) {
                    let opened = !c.is_current(id) && c.status & SERVER_STATUS_CURSOR_EXISTS != 0;
                    self.server_cursor =
                        Some(ServerCursor { statement: prepared.clone(), fetch_size, open: opened, batch_rows: None });
                    // What follows the definitions now: the end that says a cursor holds the rows,
                    // or the first row when the server sent them at once. Read here, it cannot be
                    // drained away by another statement before the first fetch.
                    self.fill(c, &columns, 1, false).await?;
                }
                Ok(n)
            }
            .await;
            let r = c.stop_statement_clock(r);
            if let Some(started) = started {
                self.report(c, started, &statement.sql, false, &statement.sql, &r);
            }
            r
        })
        .await
    }
}
