//! The WIT exports of the `driver` world: thin wrappers that run the async API to completion.

mod convert;
mod pool;
mod statement;

use std::cell::RefCell;
use std::rc::Rc;

use crate::client::connection::Connection as ClientConnection;
use crate::client::cursor::{AnyCursor, Cursor as ClientCursor, DictCursor as ClientDictCursor};
use crate::client::events::EventLog;
use crate::client::pool::Pool as ClientPool;
use crate::wasi::reactor::block_on;
use crate::wasi::WasiRuntime;

use convert::{
    arraysize_out, column_batch_out, description_out, dict_row_out, error_out, options_and_log_in, options_out,
    params_in, params_list_in, row_out, rows_out, scroll_mode_in, size_in, take_events, value_in, value_out,
    warning_out, AsCursor,
};

wit_bindgen::generate!({
    world: "driver",
    path: "wit",
});

use exports::cymysql::aio::connection as wit;
use exports::cymysql::aio::types::{
    Column, ColumnBatch, ConnectOptions, Error as WitError, Params, ScrollMode, Value as WitValue, Warning,
};

struct Component;

impl wit::Guest for Component {
    type Connection = ConnectionResource;
    type Cursor = CursorResource;
    type DictCursor = DictCursorResource;
    type Statement = statement::StatementResource;

    fn options_from_url(url: String) -> Result<ConnectOptions, WitError> {
        crate::client::url::parse_url(&url).map(|o| options_out(&o)).map_err(|e| error_out(&e))
    }

    fn default_options() -> ConnectOptions {
        options_out(&crate::client::options::ConnectOptions::default())
    }
}

/// The `connection` resource; one lent by a pool goes back to it when dropped.
pub struct ConnectionResource {
    conn: ClientConnection,
    pool: Option<ClientPool>,
    /// Where its events go when connect-options asked for an event log (the pool's, if lent).
    events: Option<Rc<EventLog>>,
}

impl Drop for ConnectionResource {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.release(self.conn.clone());
        }
    }
}

/// The `cursor` resource.
pub struct CursorResource {
    cursor: RefCell<ClientCursor>,
}

/// The `dict-cursor` resource.
pub struct DictCursorResource {
    cursor: RefCell<ClientDictCursor>,
}

fn run<T>(fut: impl std::future::Future<Output = Result<T, crate::Error>>) -> Result<T, WitError> {
    block_on(fut).map_err(|e| error_out(&e))
}

impl wit::GuestConnection for ConnectionResource {
    fn connect(options: ConnectOptions) -> Result<wit::Connection, WitError> {
        let (options, events) = options_and_log_in(options).map_err(|e| error_out(&e))?;
        let conn = run(ClientConnection::connect(options, Rc::new(WasiRuntime)))?;
        Ok(wit::Connection::new(ConnectionResource { conn, pool: None, events }))
    }

    fn cursor(&self) -> wit::Cursor {
        wit::Cursor::new(CursorResource { cursor: RefCell::new(self.conn.cursor()) })
    }

    fn dict_cursor(&self) -> wit::DictCursor {
        wit::DictCursor::new(DictCursorResource { cursor: RefCell::new(self.conn.dict_cursor()) })
    }

    fn ss_cursor(&self) -> wit::Cursor {
        wit::Cursor::new(CursorResource { cursor: RefCell::new(self.conn.ss_cursor()) })
    }

    fn ss_dict_cursor(&self) -> wit::DictCursor {
        wit::DictCursor::new(DictCursorResource { cursor: RefCell::new(self.conn.ss_dict_cursor()) })
    }

    fn default_cursor(&self) -> wit::AnyCursor {
        match self.conn.default_cursor() {
            AnyCursor::Tuple(c) => wit::AnyCursor::Tuple(wit::Cursor::new(CursorResource { cursor: RefCell::new(c) })),
            AnyCursor::Dict(c) => {
                wit::AnyCursor::Dict(wit::DictCursor::new(DictCursorResource { cursor: RefCell::new(c) }))
            }
        }
    }

    fn prepare(&self, sql: String) -> Result<wit::Statement, WitError> {
        let statement = run(self.conn.prepare(&sql))?;
        Ok(wit::Statement::new(statement::StatementResource::new(statement)))
    }

    fn commit(&self) -> Result<(), WitError> {
        run(self.conn.commit())
    }

    fn rollback(&self) -> Result<(), WitError> {
        run(self.conn.rollback())
    }

    fn autocommit(&self, on: bool) -> Result<(), WitError> {
        run(self.conn.autocommit(on))
    }

    fn get_autocommit(&self) -> bool {
        self.conn.get_autocommit()
    }

    fn ping(&self, reconnect: bool) -> Result<(), WitError> {
        run(self.conn.ping(reconnect))
    }

    fn set_charset(&self, charset: String) -> Result<(), WitError> {
        run(self.conn.set_charset(&charset))
    }

    fn select_db(&self, db: String) -> Result<(), WitError> {
        run(self.conn.select_db(&db))
    }

    fn close(&self) -> Result<(), WitError> {
        run(self.conn.close())
    }

    fn ensure_closed(&self) {
        let _ = run(async {
            self.conn.ensure_closed().await;
            Ok(())
        });
    }

    fn open(&self) -> bool {
        run(async { Ok(self.conn.is_open().await) }).unwrap_or(false)
    }

    fn server_version(&self) -> String {
        self.conn.server_version()
    }

    fn thread_id(&self) -> u32 {
        self.conn.thread_id()
    }

    fn compression(&self) -> Option<String> {
        self.conn.compression().map(String::from)
    }

    fn insert_id(&self) -> u64 {
        self.conn.insert_id()
    }

    fn affected_rows(&self) -> u64 {
        self.conn.affected_rows()
    }

    fn warning_count(&self) -> u16 {
        self.conn.warning_count()
    }

    fn in_transaction(&self) -> bool {
        self.conn.in_transaction()
    }

    fn escape_string(&self, s: String) -> String {
        run(async { Ok(self.conn.escape_string(&s).await) }).unwrap_or_default()
    }

    fn begin(&self) -> Result<(), WitError> {
        run(self.conn.begin())
    }

    fn kill(&self, thread_id: u64) -> Result<(), WitError> {
        run(self.conn.kill(thread_id))
    }

    fn show_warnings(&self) -> Result<Vec<Warning>, WitError> {
        run(self.conn.show_warnings()).map(|w| w.into_iter().map(warning_out).collect())
    }

    fn get_host_info(&self) -> String {
        run(async { Ok(self.conn.get_host_info().await) }).unwrap_or_default()
    }

    fn get_proto_info(&self) -> u8 {
        self.conn.get_proto_info()
    }

    fn get_server_info(&self) -> String {
        self.conn.get_server_info()
    }

    fn character_set_name(&self) -> String {
        run(async { Ok(self.conn.character_set_name().await) }).unwrap_or_default()
    }

    fn take_events(&self) -> Vec<exports::cymysql::aio::types::Event> {
        take_events(self.events.as_ref())
    }
}

/// The methods of `cursor` and `dict-cursor`, which differ only in how a row is converted.
macro_rules! cursor_methods {
    ($row:ty, $row_out:ident) => {
        fn execute(&self, query: String, params: Option<Params>) -> Result<u64, WitError> {
            let params = params.map(params_in);
            run(self.cursor.borrow_mut().execute(&query, params.as_ref()))
        }

        fn executemany(&self, query: String, seq_of_params: Vec<Params>) -> Result<u64, WitError> {
            let seq = params_list_in(seq_of_params);
            run(self.cursor.borrow_mut().executemany(&query, &seq))
        }

        fn mogrify(&self, query: String, params: Option<Params>) -> Result<String, WitError> {
            let params = params.map(params_in);
            run(self.cursor.borrow().plain().mogrify(&query, params.as_ref()))
        }

        fn execute_prepared(&self, query: String, params: Option<Params>) -> Result<u64, WitError> {
            let params = params.map(params_in);
            run(self.cursor.borrow_mut().plain_mut().execute_prepared(&query, params.as_ref()))
        }

        fn fetchone(&self) -> Result<Option<$row>, WitError> {
            run(self.cursor.borrow_mut().fetchone()).map(|r| r.map($row_out))
        }

        fn fetchmany(&self, size: Option<u32>) -> Result<Vec<$row>, WitError> {
            run(self.cursor.borrow_mut().fetchmany(size_in(size))).map(|rows| rows_out(rows, $row_out))
        }

        fn fetchall(&self) -> Result<Vec<$row>, WitError> {
            run(self.cursor.borrow_mut().fetchall()).map(|rows| rows_out(rows, $row_out))
        }

        fn nextset(&self) -> Result<bool, WitError> {
            run(self.cursor.borrow_mut().nextset())
        }

        fn callproc(&self, procname: String, args: Vec<WitValue>) -> Result<Vec<WitValue>, WitError> {
            let args: Vec<_> = args.into_iter().map(value_in).collect();
            run(self.cursor.borrow_mut().plain_mut().callproc(&procname, &args))
                .map(|a| a.into_iter().map(value_out).collect())
        }

        fn description(&self) -> Option<Vec<Column>> {
            description_out(self.cursor.borrow().plain())
        }

        fn rowcount(&self) -> i64 {
            self.cursor.borrow().plain().rowcount()
        }

        fn lastrowid(&self) -> Option<u64> {
            self.cursor.borrow().plain().lastrowid()
        }

        fn arraysize(&self) -> u32 {
            arraysize_out(self.cursor.borrow().plain())
        }

        fn set_arraysize(&self, size: u32) {
            self.cursor.borrow_mut().plain_mut().set_arraysize(size as usize)
        }

        fn set_statement_timeout(&self, seconds: Option<f64>) -> Result<(), WitError> {
            let limit = convert::cursor_statement_timeout(seconds).map_err(|e| error_out(&e))?;
            self.cursor.borrow_mut().plain_mut().set_statement_timeout(limit);
            Ok(())
        }

        fn rownumber(&self) -> Option<u64> {
            self.cursor.borrow().plain().rownumber()
        }

        fn scroll(&self, value: i64, mode: ScrollMode) -> Result<(), WitError> {
            run(self.cursor.borrow_mut().plain_mut().scroll(value, scroll_mode_in(mode)))
        }

        fn setinputsizes(&self, sizes: Vec<Option<u64>>) {
            self.cursor.borrow_mut().plain_mut().setinputsizes(&sizes)
        }

        fn setoutputsizes(&self, size: u64, column: Option<u32>) {
            self.cursor.borrow_mut().plain_mut().setoutputsizes(size, column.map(|c| c as usize))
        }

        fn close(&self) -> Result<(), WitError> {
            run(self.cursor.borrow_mut().close())
        }
    };
}

impl wit::GuestCursor for CursorResource {
    cursor_methods!(Vec<WitValue>, row_out);

    fn fetch_columns(&self, size: Option<u32>) -> Result<ColumnBatch, WitError> {
        run(self.cursor.borrow_mut().fetch_columns(size.map(|n| n as usize))).map(column_batch_out)
    }
}

impl wit::GuestDictCursor for DictCursorResource {
    cursor_methods!(Vec<(String, WitValue)>, dict_row_out);
}

export!(Component);
