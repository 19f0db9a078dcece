//! The WIT exports of the `driver-async` world (WASI 0.3): each call that waits on the server is an
//! `async fn`, run by wit-bindgen's executor, so calls from the host overlap inside one instance.
//! Conversions are the 0.2 component's; only the shape of the calls differs.

#[path = "../component/convert.rs"]
mod convert;
mod pool;
mod statement;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::channel::oneshot;
use futures::lock::Mutex;

use crate::client::connection::Connection as ClientConnection;
use crate::client::cursor::{AnyCursor, Cursor as ClientCursor, DictCursor as ClientDictCursor};
use crate::client::events::EventLog;
use crate::client::pool::Pool as ClientPool;
use crate::protocol::column::Column as ClientColumn;
use crate::wasi::p3::WasiP3Runtime;

use convert::{
    arraysize_out, column_batch_out, column_out, description_out, dict_row_out, error_out, options_and_log_in,
    options_out, params_in, params_list_in, row_out, rows_out, scroll_mode_in, size_in, take_events, value_in,
    value_out, warning_out, AsCursor,
};

wit_bindgen_p3::generate!({
    world: "driver-async",
    path: "wit",
    runtime_path: "wit_bindgen_p3::rt",
});

use exports::cymysql::aio::connection_async as wit;
use exports::cymysql::aio::types::{
    Column, ColumnBatch, ConnectOptions, Error as WitError, Params, ScrollMode, Value as WitValue, Warning,
};
use wit_bindgen_p3::rt::async_support::{FutureReader, StreamReader};

struct Component;

type Row = Vec<WitValue>;

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

/// What a cursor's plain (non-async) functions report: the state after the last call that finished.
/// Calls in flight hold the cursor itself.
#[derive(Default)]
struct Snapshot {
    description: Option<Vec<Column>>,
    rowcount: i64,
    lastrowid: Option<u64>,
    arraysize: u32,
    rownumber: Option<u64>,
}

fn snapshot_of(c: &ClientCursor) -> Snapshot {
    Snapshot {
        description: description_out(c),
        rowcount: c.rowcount(),
        lastrowid: c.lastrowid(),
        arraysize: arraysize_out(c),
        rownumber: c.rownumber(),
    }
}

/// A cursor's settings, set without waiting for a call in flight and applied to the cursor by the
/// next call.
#[derive(Clone, Copy)]
struct Settings {
    arraysize: u32,
    /// `None` follows the connection's statement-timeout.
    statement_timeout: Option<Option<Duration>>,
}

impl Settings {
    fn of(seen: &Snapshot) -> Cell<Settings> {
        Cell::new(Settings { arraysize: seen.arraysize, statement_timeout: None })
    }

    fn apply(self, cursor: &mut ClientCursor) {
        cursor.set_arraysize(self.arraysize as usize);
        cursor.set_statement_timeout(self.statement_timeout);
    }
}

/// A cursor resource, tuple or dict. Concurrent calls on one cursor queue on its lock.
pub struct CursorState<C> {
    cursor: Mutex<C>,
    seen: RefCell<Snapshot>,
    settings: Cell<Settings>,
}

/// The `cursor` resource.
pub type CursorResource = CursorState<ClientCursor>;

/// The `dict-cursor` resource.
pub type DictCursorResource = CursorState<ClientDictCursor>;

/// Records a new arraysize for the next call and for what `arraysize` reports now.
fn set_arraysize(settings: &Cell<Settings>, seen: &RefCell<Snapshot>, size: u32) {
    let size = size.max(1);
    settings.set(Settings { arraysize: size, ..settings.get() });
    seen.borrow_mut().arraysize = size;
}

fn set_statement_timeout(settings: &Cell<Settings>, seconds: Option<f64>) -> Result<(), WitError> {
    let limit = convert::cursor_statement_timeout(seconds).map_err(|e| error_out(&e))?;
    settings.set(Settings { statement_timeout: limit, ..settings.get() });
    Ok(())
}

impl<C: AsCursor> CursorState<C> {
    fn new(cursor: C) -> Self {
        let seen = snapshot_of(cursor.plain());
        let settings = Settings::of(&seen);
        CursorState { cursor: Mutex::new(cursor), seen: RefCell::new(seen), settings }
    }

    /// Runs `op` on the cursor, then records what the plain functions report.
    async fn with<T>(&self, op: impl AsyncFnOnce(&mut C) -> Result<T, crate::Error>) -> Result<T, WitError> {
        let mut cursor = self.cursor.lock().await;
        self.settings.get().apply(cursor.plain_mut());
        let r = op(&mut cursor).await;
        *self.seen.borrow_mut() = snapshot_of(cursor.plain());
        r.map_err(|e| error_out(&e))
    }
}

fn out<T>(r: Result<T, crate::Error>) -> Result<T, WitError> {
    r.map_err(|e| error_out(&e))
}

/// Why a stream's future resolves without the producer having said: the instance stopped it.
fn interrupted() -> Result<(), WitError> {
    Err(error_out(&crate::Error::Interface("the query stream was interrupted".into())))
}

type QueryResult = (Vec<Column>, StreamReader<Row>, FutureReader<Result<(), WitError>>);

/// Starts `query` on `conn` in a task of its own that outlives this call: it writes the rows to the
/// stream as the host reads them, then how the statement ended to the future.
async fn start_query(conn: ClientConnection, query: String, params: Option<Params>) -> Result<QueryResult, WitError> {
    let (columns_tx, columns_rx) = oneshot::channel::<Vec<Column>>();
    let (mut rows_tx, rows_rx) = wit_stream::new::<Row>();
    let (end_tx, end_rx) = wit_future::new::<Result<(), WitError>>(interrupted);
    let (start_tx, start_rx) = oneshot::channel::<Result<(), WitError>>();
    wit_bindgen_p3::spawn_local(async move {
        let params = params.map(params_in);
        let columns_tx = RefCell::new(Some(columns_tx));
        let r = conn
            .query_stream(
                &query,
                params.as_ref(),
                |cols: &[ClientColumn]| {
                    let cols = cols.iter().map(column_out).collect();
                    columns_tx.borrow_mut().take().is_some_and(|tx| tx.send(cols).is_ok())
                },
                async |batch| {
                    let batch: Vec<Row> = batch.into_iter().map(row_out).collect();
                    rows_tx.write_all(batch).await.is_empty()
                },
            )
            .await;
        drop(rows_tx);
        let started = columns_tx.borrow().is_none();
        if started {
            let _ = end_tx.write(out(r)).await;
        } else {
            // The statement never started: the call itself fails, and the future is not read.
            let _ = start_tx.send(out(r));
            drop(end_tx);
        }
    });
    match columns_rx.await {
        Ok(columns) => Ok((columns, rows_rx, end_rx)),
        Err(_) => Err(start_rx.await.ok().and_then(Result::err).unwrap_or_else(|| {
            error_out(&crate::Error::Interface("the query ended before its columns were read".into()))
        })),
    }
}

impl wit::GuestConnection for ConnectionResource {
    async fn connect(options: ConnectOptions) -> Result<wit::Connection, WitError> {
        let (options, events) = options_and_log_in(options).map_err(|e| error_out(&e))?;
        let conn = out(ClientConnection::connect(options, Rc::new(WasiP3Runtime)).await)?;
        Ok(wit::Connection::new(ConnectionResource { conn, pool: None, events }))
    }

    fn cursor(&self) -> wit::Cursor {
        wit::Cursor::new(CursorResource::new(self.conn.cursor()))
    }

    fn dict_cursor(&self) -> wit::DictCursor {
        wit::DictCursor::new(DictCursorResource::new(self.conn.dict_cursor()))
    }

    fn ss_cursor(&self) -> wit::Cursor {
        wit::Cursor::new(CursorResource::new(self.conn.ss_cursor()))
    }

    fn ss_dict_cursor(&self) -> wit::DictCursor {
        wit::DictCursor::new(DictCursorResource::new(self.conn.ss_dict_cursor()))
    }

    fn default_cursor(&self) -> wit::AnyCursor {
        match self.conn.default_cursor() {
            AnyCursor::Tuple(c) => wit::AnyCursor::Tuple(wit::Cursor::new(CursorResource::new(c))),
            AnyCursor::Dict(c) => wit::AnyCursor::Dict(wit::DictCursor::new(DictCursorResource::new(c))),
        }
    }

    async fn query(&self, query: String, params: Option<Params>) -> Result<QueryResult, WitError> {
        start_query(self.conn.clone(), query, params).await
    }

    async fn prepare(&self, sql: String) -> Result<wit::Statement, WitError> {
        let statement = out(self.conn.prepare(&sql).await)?;
        Ok(wit::Statement::new(statement::StatementResource::new(statement)))
    }

    async fn commit(&self) -> Result<(), WitError> {
        out(self.conn.commit().await)
    }

    async fn rollback(&self) -> Result<(), WitError> {
        out(self.conn.rollback().await)
    }

    async fn autocommit(&self, on: bool) -> Result<(), WitError> {
        out(self.conn.autocommit(on).await)
    }

    fn get_autocommit(&self) -> bool {
        self.conn.get_autocommit()
    }

    async fn ping(&self, reconnect: bool) -> Result<(), WitError> {
        out(self.conn.ping(reconnect).await)
    }

    async fn set_charset(&self, charset: String) -> Result<(), WitError> {
        out(self.conn.set_charset(&charset).await)
    }

    async fn select_db(&self, db: String) -> Result<(), WitError> {
        out(self.conn.select_db(&db).await)
    }

    async fn close(&self) -> Result<(), WitError> {
        out(self.conn.close().await)
    }

    async fn ensure_closed(&self) {
        self.conn.ensure_closed().await
    }

    async fn open(&self) -> bool {
        self.conn.is_open().await
    }

    async fn server_version(&self) -> String {
        self.conn.server_version()
    }

    async fn thread_id(&self) -> u32 {
        self.conn.thread_id()
    }

    async fn compression(&self) -> Option<String> {
        self.conn.compression().map(String::from)
    }

    async fn insert_id(&self) -> u64 {
        self.conn.insert_id()
    }

    async fn affected_rows(&self) -> u64 {
        self.conn.affected_rows()
    }

    async fn warning_count(&self) -> u16 {
        self.conn.warning_count()
    }

    fn in_transaction(&self) -> bool {
        self.conn.in_transaction()
    }

    async fn escape_string(&self, s: String) -> String {
        self.conn.escape_string(&s).await
    }

    async fn begin(&self) -> Result<(), WitError> {
        out(self.conn.begin().await)
    }

    async fn kill(&self, thread_id: u64) -> Result<(), WitError> {
        out(self.conn.kill(thread_id).await)
    }

    async fn show_warnings(&self) -> Result<Vec<Warning>, WitError> {
        out(self.conn.show_warnings().await).map(|w| w.into_iter().map(warning_out).collect())
    }

    async fn get_host_info(&self) -> String {
        self.conn.get_host_info().await
    }

    fn get_proto_info(&self) -> u8 {
        self.conn.get_proto_info()
    }

    fn get_server_info(&self) -> String {
        self.conn.get_server_info()
    }

    async fn character_set_name(&self) -> String {
        self.conn.character_set_name().await
    }

    fn take_events(&self) -> Vec<exports::cymysql::aio::types::Event> {
        take_events(self.events.as_ref())
    }
}

/// The methods of `cursor` and `dict-cursor`, which differ only in how a row is converted.
macro_rules! cursor_methods {
    ($row:ty, $row_out:ident) => {
        async fn execute(&self, query: String, params: Option<Params>) -> Result<u64, WitError> {
            let params = params.map(params_in);
            self.with(async |c| c.execute(&query, params.as_ref()).await).await
        }

        async fn executemany(&self, query: String, seq_of_params: Vec<Params>) -> Result<u64, WitError> {
            let seq = params_list_in(seq_of_params);
            self.with(async |c| c.executemany(&query, &seq).await).await
        }

        async fn mogrify(&self, query: String, params: Option<Params>) -> Result<String, WitError> {
            let params = params.map(params_in);
            self.with(async |c| c.plain().mogrify(&query, params.as_ref()).await).await
        }

        async fn execute_prepared(&self, query: String, params: Option<Params>) -> Result<u64, WitError> {
            let params = params.map(params_in);
            self.with(async |c| c.plain_mut().execute_prepared(&query, params.as_ref()).await).await
        }

        async fn fetchone(&self) -> Result<Option<$row>, WitError> {
            self.with(async |c| c.fetchone().await).await.map(|r| r.map($row_out))
        }

        async fn fetchmany(&self, size: Option<u32>) -> Result<Vec<$row>, WitError> {
            let rows = self.with(async |c| c.fetchmany(size_in(size)).await).await?;
            Ok(rows_out(rows, $row_out))
        }

        async fn fetchall(&self) -> Result<Vec<$row>, WitError> {
            let rows = self.with(async |c| c.fetchall().await).await?;
            Ok(rows_out(rows, $row_out))
        }

        async fn nextset(&self) -> Result<bool, WitError> {
            self.with(async |c| c.nextset().await).await
        }

        async fn callproc(&self, procname: String, args: Vec<WitValue>) -> Result<Vec<WitValue>, WitError> {
            let args: Vec<_> = args.into_iter().map(value_in).collect();
            let out = self.with(async |c| c.plain_mut().callproc(&procname, &args).await).await?;
            Ok(out.into_iter().map(value_out).collect())
        }

        fn description(&self) -> Option<Vec<Column>> {
            self.seen.borrow().description.clone()
        }

        fn rowcount(&self) -> i64 {
            self.seen.borrow().rowcount
        }

        fn lastrowid(&self) -> Option<u64> {
            self.seen.borrow().lastrowid
        }

        fn arraysize(&self) -> u32 {
            self.seen.borrow().arraysize
        }

        fn set_arraysize(&self, size: u32) {
            set_arraysize(&self.settings, &self.seen, size);
        }

        fn set_statement_timeout(&self, seconds: Option<f64>) -> Result<(), WitError> {
            set_statement_timeout(&self.settings, seconds)
        }

        fn rownumber(&self) -> Option<u64> {
            self.seen.borrow().rownumber
        }

        async fn scroll(&self, value: i64, mode: ScrollMode) -> Result<(), WitError> {
            let mode = scroll_mode_in(mode);
            self.with(async |c| c.plain_mut().scroll(value, mode).await).await
        }

        fn setinputsizes(&self, _sizes: Vec<Option<u64>>) {
            // PEP 249 compatibility only: nothing to record (see Cursor::setinputsizes).
        }

        fn setoutputsizes(&self, _size: u64, _column: Option<u32>) {
            // PEP 249 compatibility only (see Cursor::setoutputsizes).
        }

        async fn close(&self) -> Result<(), WitError> {
            self.with(async |c| c.close().await).await
        }
    };
}

impl wit::GuestCursor for CursorResource {
    cursor_methods!(Row, row_out);

    async fn fetch_columns(&self, size: Option<u32>) -> Result<ColumnBatch, WitError> {
        let size = size.map(|n| n as usize);
        Ok(column_batch_out(self.with(async |c| c.fetch_columns(size).await).await?))
    }
}

impl wit::GuestDictCursor for DictCursorResource {
    cursor_methods!(Vec<(String, WitValue)>, dict_row_out);
}

export!(Component);
