//! The `statement` resource of the `driver` world: a server-side prepared statement.

use std::cell::RefCell;

use super::convert::{column_out, value_in};
use super::{run, wit, CursorResource, WitError, WitValue};
use crate::client::statement::Statement;

/// The `statement` resource.
pub struct StatementResource {
    statement: RefCell<Statement>,
}

impl StatementResource {
    pub fn new(statement: Statement) -> Self {
        StatementResource { statement: RefCell::new(statement) }
    }
}

fn values_in(params: Vec<WitValue>) -> Vec<crate::protocol::value::Value> {
    params.into_iter().map(value_in).collect()
}

fn cursor_out(cursor: crate::client::cursor::Cursor) -> wit::Cursor {
    wit::Cursor::new(CursorResource { cursor: RefCell::new(cursor) })
}

impl wit::GuestStatement for StatementResource {
    fn param_count(&self) -> u32 {
        u32::try_from(self.statement.borrow().param_count()).unwrap_or(u32::MAX)
    }

    fn description(&self) -> Vec<super::Column> {
        self.statement.borrow().columns().iter().map(column_out).collect()
    }

    fn execute(&self, params: Vec<WitValue>) -> Result<wit::Cursor, WitError> {
        let params = values_in(params);
        run(self.statement.borrow().execute(&params)).map(cursor_out)
    }

    fn ss_execute(&self, params: Vec<WitValue>) -> Result<wit::Cursor, WitError> {
        let params = values_in(params);
        run(self.statement.borrow().ss_execute(&params)).map(cursor_out)
    }

    fn open_cursor(&self, params: Vec<WitValue>, fetch_size: u32) -> Result<wit::Cursor, WitError> {
        let params = values_in(params);
        run(self.statement.borrow().open_cursor(&params, fetch_size)).map(cursor_out)
    }

    fn executemany(&self, seq_of_params: Vec<Vec<WitValue>>) -> Result<u64, WitError> {
        let seq: Vec<_> = seq_of_params.into_iter().map(values_in).collect();
        run(self.statement.borrow().executemany(&seq))
    }

    fn reset(&self) -> Result<(), WitError> {
        run(self.statement.borrow().reset())
    }

    fn close(&self) -> Result<(), WitError> {
        run(self.statement.borrow_mut().close())
    }
}
