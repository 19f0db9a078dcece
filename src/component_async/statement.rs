//! The `statement` resource of the `driver-async` world: a server-side prepared statement.
//! Concurrent calls on one statement queue on its lock.

use futures::lock::Mutex;

use super::convert::{column_out, value_in};
use super::{out, wit, Column, CursorResource, WitError, WitValue};
use crate::client::statement::Statement;

/// The `statement` resource.
pub struct StatementResource {
    statement: Mutex<Statement>,
    /// The columns described at prepare time, readable while a call holds the statement.
    columns: Vec<Column>,
    param_count: u32,
}

impl StatementResource {
    pub fn new(statement: Statement) -> Self {
        let columns = statement.columns().iter().map(column_out).collect();
        let param_count = u32::try_from(statement.param_count()).unwrap_or(u32::MAX);
        StatementResource { statement: Mutex::new(statement), columns, param_count }
    }
}

fn values_in(params: Vec<WitValue>) -> Vec<crate::protocol::value::Value> {
    params.into_iter().map(value_in).collect()
}

fn cursor_out(cursor: crate::client::cursor::Cursor) -> wit::Cursor {
    wit::Cursor::new(CursorResource::new(cursor))
}

impl wit::GuestStatement for StatementResource {
    fn param_count(&self) -> u32 {
        self.param_count
    }

    fn description(&self) -> Vec<Column> {
        self.columns.clone()
    }

    async fn execute(&self, params: Vec<WitValue>) -> Result<wit::Cursor, WitError> {
        let params = values_in(params);
        out(self.statement.lock().await.execute(&params).await).map(cursor_out)
    }

    async fn ss_execute(&self, params: Vec<WitValue>) -> Result<wit::Cursor, WitError> {
        let params = values_in(params);
        out(self.statement.lock().await.ss_execute(&params).await).map(cursor_out)
    }

    async fn open_cursor(&self, params: Vec<WitValue>, fetch_size: u32) -> Result<wit::Cursor, WitError> {
        let params = values_in(params);
        out(self.statement.lock().await.open_cursor(&params, fetch_size).await).map(cursor_out)
    }

    async fn executemany(&self, seq_of_params: Vec<Vec<WitValue>>) -> Result<u64, WitError> {
        let seq: Vec<_> = seq_of_params.into_iter().map(values_in).collect();
        out(self.statement.lock().await.executemany(&seq).await)
    }

    async fn reset(&self) -> Result<(), WitError> {
        out(self.statement.lock().await.reset().await)
    }

    async fn close(&self) -> Result<(), WitError> {
        out(self.statement.lock().await.close().await)
    }
}
