//! Loads the WASI 0.3 component (world `driver-async`) and calls its `async func` exports through
//! `run_concurrent`: one call at a time like [`crate::driver::Session`], or many at once inside
//! [`AsyncSession::run`].

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use wasmtime::component::{
    Accessor, Component, FutureConsumer, FutureReader, Lift, Linker, ResourceAny, Source, StreamConsumer, StreamReader,
    StreamResult,
};
use wasmtime::{AsContextMut, Config, Engine, Result, Store, StoreContextMut};

use crate::driver::{
    block_on, compile, AnyCur, Call, Column, ColumnBatch, ConnectOptions, DbError, DictRow, Event, HostState, Params,
    PoolCounters, PoolMetrics, PoolOptions, Sandbox, ScrollMode, Statement, StatementResult, Value, Warning,
};

/// Host bindings generated from `wit/` for the async world; `types` is shared with the 0.2 bindings.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "driver-async",
        exports: { default: async | store },
        with: { "cymysql:aio/types": crate::driver::bindings::exports::cymysql::aio::types },
    });
}

use bindings::exports::cymysql::aio::pool_async::{PoolCounters as AsyncPoolCounters, PoolOptions as AsyncPoolOptions};

/// The instance's API: connection, cursor and dict-cursor calls.
pub type ConnectionApi = bindings::exports::cymysql::aio::connection_async::Guest;
/// The instance's API: pool calls.
pub type PoolApi = bindings::exports::cymysql::aio::pool_async::Guest;

/// A trap or host failure, for code that names it without depending on wasmtime.
pub use wasmtime::Error as HostError;

/// Where `scripts/build-component` puts the 0.3 component.
pub fn component_path() -> PathBuf {
    if let Ok(p) = std::env::var("CYMYSQL_WASI_ASYNC_COMPONENT") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/guest/cymysql_driver_async.wasm")
}

/// The compiled 0.3 component and a linker with WASI 0.3 and the WASI 0.2 that Rust's std imports.
pub struct AsyncHost {
    engine: Engine,
    component: Component,
    linker: Linker<HostState>,
}

/// Compiles the WASI 0.3 component at `path` (reusing a cached compilation) for an engine with
/// component-model async, and a linker with WASI 0.3 plus the WASI 0.2 that Rust's std imports.
pub(crate) fn load_p3<T: wasmtime_wasi::WasiView + 'static>(path: &Path) -> Result<(Engine, Component, Linker<T>)> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(true);
    let engine = Engine::new(&config)?;
    let component = compile(&engine, path)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    Ok((engine, component, linker))
}

impl AsyncHost {
    /// Compiles the component at `path` (reusing a cached compilation).
    pub fn load(path: &Path) -> Result<AsyncHost> {
        let (engine, component, linker) = load_p3(path)?;
        Ok(AsyncHost { engine, component, linker })
    }

    /// One host per process, loaded on first use.
    pub fn shared() -> &'static AsyncHost {
        static HOST: OnceLock<AsyncHost> = OnceLock::new();
        HOST.get_or_init(|| match AsyncHost::load(&component_path()) {
            Ok(h) => h,
            Err(e) => panic!("cannot load the 0.3 component: {e:#}"),
        })
    }

    /// A fresh instance of the component.
    pub fn instantiate(&self, sandbox: &Sandbox) -> Result<AsyncSession> {
        let mut store = Store::new(&self.engine, HostState::new(sandbox)?);
        store.limiter(|s| &mut s.memory);
        let driver = block_on(bindings::DriverAsync::instantiate_async(&mut store, &self.component, &self.linker))?;
        Ok(AsyncSession { store, driver })
    }
}

/// One instance of the 0.3 component; handles below belong to it.
pub struct AsyncSession {
    store: Store<HostState>,
    driver: bindings::DriverAsync,
}

pub use crate::driver::{Conn, Cur, DictCur, PoolHandle, Stmt};

/// Everything a streamed `query` delivered: columns, the rows in order, and how it ended.
#[derive(Debug)]
pub struct Streamed {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    pub end: Result<(), DbError>,
}

impl AsyncSession {
    /// The largest linear memory of the guest so far, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.store.data().peak_memory()
    }

    /// How many times the guest asked to grow its memory past [`Sandbox::memory_limit`] and was refused.
    pub fn refused_growths(&self) -> usize {
        self.store.data().refused_growths()
    }

    /// Runs `f` inside `run_concurrent`: the calls it makes through the accessor may overlap.
    pub fn run<R>(
        &mut self,
        f: impl AsyncFnOnce(&Accessor<HostState>, &ConnectionApi, &PoolApi) -> Result<R>,
    ) -> Result<R> {
        let Self { store, driver } = self;
        let conn = driver.cymysql_aio_connection_async();
        let pool = driver.cymysql_aio_pool_async();
        block_on(store.run_concurrent(async |a| f(a, conn, pool).await))?
    }

    /// Drops any resource handle of this instance.
    pub fn drop_resource(&mut self, r: ResourceAny) -> Result<()> {
        block_on(r.resource_drop_async(&mut self.store))
    }

    /// Runs `sql` through the streaming `query` and reads the whole stream, then its end.
    pub fn query(&mut self, c: Conn, sql: &str, params: Option<&Params>) -> Call<Streamed> {
        let (sql, params) = (sql.to_string(), params.cloned());
        self.run(async |a, api, _| {
            let (columns, rows, end) = match api.connection().call_query(a, c.0, sql, params).await? {
                Ok(r) => r,
                Err(e) => return Ok(Err(e)),
            };
            let mut rows = RowStream::pipe(a, rows, usize::MAX)?;
            let end = EndFuture::pipe(a, end)?;
            let mut all = Vec::new();
            while let Some(row) = rows.next().await {
                all.push(row);
            }
            let end = end.wait().await;
            Ok(Ok(Streamed { columns, rows: all, end }))
        })
    }
}

/// A connection call: `$call` on the `connection` resource with the accessor, the handle and `$args`.
macro_rules! on_connection {
    ($self:ident, $call:ident, $c:expr $(, $arg:expr)*) => {{
        let handle = $c.0;
        $self.run(async |a, api, _| api.connection().$call(a, handle $(, $arg)*).await)
    }};
}

macro_rules! on_cursor {
    ($self:ident, $iface:ident, $call:ident, $cur:expr $(, $arg:expr)*) => {{
        let handle = $cur.0;
        $self.run(async |a, api, _| api.$iface().$call(a, handle $(, $arg)*).await)
    }};
}

macro_rules! on_pool {
    ($self:ident, $call:ident, $p:expr $(, $arg:expr)*) => {{
        let handle = $p.0;
        $self.run(async |a, _, pool| pool.pool().$call(a, handle $(, $arg)*).await)
    }};
}

/// The calls of [`crate::driver::SyncSession`], under the same names and signatures, so
/// [`crate::session::Session`] runs the same tests against either world.
impl AsyncSession {
    pub fn default_options(&mut self) -> Result<ConnectOptions> {
        self.run(async |a, api, _| api.call_default_options(a).await)
    }

    pub fn options_from_url(&mut self, url: &str) -> Call<ConnectOptions> {
        let url = url.to_string();
        self.run(async |a, api, _| api.call_options_from_url(a, url).await)
    }

    pub fn connect(&mut self, options: &ConnectOptions) -> Call<Conn> {
        let o = options.clone();
        Ok(self.run(async |a, api, _| api.connection().call_connect(a, o).await)?.map(Conn))
    }

    pub fn connect_url(&mut self, url: &str) -> Call<Conn> {
        match self.options_from_url(url)? {
            Ok(o) => self.connect(&o),
            Err(e) => Ok(Err(e)),
        }
    }

    pub fn cursor(&mut self, c: Conn) -> Result<Cur> {
        Ok(Cur(on_connection!(self, call_cursor, c)?))
    }

    pub fn ss_cursor(&mut self, c: Conn) -> Result<Cur> {
        Ok(Cur(on_connection!(self, call_ss_cursor, c)?))
    }

    pub fn dict_cursor(&mut self, c: Conn) -> Result<DictCur> {
        Ok(DictCur(on_connection!(self, call_dict_cursor, c)?))
    }

    pub fn ss_dict_cursor(&mut self, c: Conn) -> Result<DictCur> {
        Ok(DictCur(on_connection!(self, call_ss_dict_cursor, c)?))
    }

    pub fn commit(&mut self, c: Conn) -> Call<()> {
        on_connection!(self, call_commit, c)
    }

    pub fn rollback(&mut self, c: Conn) -> Call<()> {
        on_connection!(self, call_rollback, c)
    }

    pub fn autocommit(&mut self, c: Conn, on: bool) -> Call<()> {
        on_connection!(self, call_autocommit, c, on)
    }

    pub fn get_autocommit(&mut self, c: Conn) -> Result<bool> {
        on_connection!(self, call_get_autocommit, c)
    }

    pub fn ping(&mut self, c: Conn, reconnect: bool) -> Call<()> {
        on_connection!(self, call_ping, c, reconnect)
    }

    pub fn set_charset(&mut self, c: Conn, charset: &str) -> Call<()> {
        on_connection!(self, call_set_charset, c, charset.to_string())
    }

    pub fn select_db(&mut self, c: Conn, db: &str) -> Call<()> {
        on_connection!(self, call_select_db, c, db.to_string())
    }

    pub fn close(&mut self, c: Conn) -> Call<()> {
        on_connection!(self, call_close, c)
    }

    pub fn ensure_closed(&mut self, c: Conn) -> Result<()> {
        on_connection!(self, call_ensure_closed, c)
    }

    pub fn is_open(&mut self, c: Conn) -> Result<bool> {
        on_connection!(self, call_open, c)
    }

    pub fn server_version(&mut self, c: Conn) -> Result<String> {
        on_connection!(self, call_server_version, c)
    }

    pub fn thread_id(&mut self, c: Conn) -> Result<u32> {
        on_connection!(self, call_thread_id, c)
    }

    pub fn compression(&mut self, c: Conn) -> Result<Option<String>> {
        on_connection!(self, call_compression, c)
    }

    pub fn insert_id(&mut self, c: Conn) -> Result<u64> {
        on_connection!(self, call_insert_id, c)
    }

    pub fn affected_rows(&mut self, c: Conn) -> Result<u64> {
        on_connection!(self, call_affected_rows, c)
    }

    pub fn warning_count(&mut self, c: Conn) -> Result<u16> {
        on_connection!(self, call_warning_count, c)
    }

    pub fn in_transaction(&mut self, c: Conn) -> Result<bool> {
        on_connection!(self, call_in_transaction, c)
    }

    pub fn begin(&mut self, c: Conn) -> Call<()> {
        on_connection!(self, call_begin, c)
    }

    pub fn kill(&mut self, c: Conn, thread_id: u64) -> Call<()> {
        on_connection!(self, call_kill, c, thread_id)
    }

    pub fn show_warnings(&mut self, c: Conn) -> Call<Vec<Warning>> {
        on_connection!(self, call_show_warnings, c)
    }

    pub fn get_host_info(&mut self, c: Conn) -> Result<String> {
        on_connection!(self, call_get_host_info, c)
    }

    pub fn get_proto_info(&mut self, c: Conn) -> Result<u8> {
        on_connection!(self, call_get_proto_info, c)
    }

    pub fn get_server_info(&mut self, c: Conn) -> Result<String> {
        on_connection!(self, call_get_server_info, c)
    }

    pub fn character_set_name(&mut self, c: Conn) -> Result<String> {
        on_connection!(self, call_character_set_name, c)
    }

    pub fn mogrify(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<String> {
        on_cursor!(self, cursor, call_mogrify, cur, sql.to_string(), params.cloned())
    }

    pub fn escape_string(&mut self, c: Conn, s: &str) -> Result<String> {
        on_connection!(self, call_escape_string, c, s.to_string())
    }

    pub fn execute(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<u64> {
        on_cursor!(self, cursor, call_execute, cur, sql.to_string(), params.cloned())
    }

    pub fn executemany(&mut self, cur: Cur, sql: &str, seq: &[Params]) -> Call<u64> {
        on_cursor!(self, cursor, call_executemany, cur, sql.to_string(), seq.to_vec())
    }

    pub fn fetchone(&mut self, cur: Cur) -> Call<Option<Vec<Value>>> {
        on_cursor!(self, cursor, call_fetchone, cur)
    }

    pub fn fetchmany(&mut self, cur: Cur, size: Option<u32>) -> Call<Vec<Vec<Value>>> {
        on_cursor!(self, cursor, call_fetchmany, cur, size)
    }

    pub fn fetchall(&mut self, cur: Cur) -> Call<Vec<Vec<Value>>> {
        on_cursor!(self, cursor, call_fetchall, cur)
    }

    pub fn fetch_columns(&mut self, cur: Cur, size: Option<u32>) -> Call<ColumnBatch> {
        on_cursor!(self, cursor, call_fetch_columns, cur, size)
    }

    pub fn nextset(&mut self, cur: Cur) -> Call<bool> {
        on_cursor!(self, cursor, call_nextset, cur)
    }

    pub fn callproc(&mut self, cur: Cur, procname: &str, args: &[Value]) -> Call<Vec<Value>> {
        on_cursor!(self, cursor, call_callproc, cur, procname.to_string(), args.to_vec())
    }

    pub fn description(&mut self, cur: Cur) -> Result<Option<Vec<Column>>> {
        on_cursor!(self, cursor, call_description, cur)
    }

    pub fn rowcount(&mut self, cur: Cur) -> Result<i64> {
        on_cursor!(self, cursor, call_rowcount, cur)
    }

    pub fn lastrowid(&mut self, cur: Cur) -> Result<Option<u64>> {
        on_cursor!(self, cursor, call_lastrowid, cur)
    }

    pub fn arraysize(&mut self, cur: Cur) -> Result<u32> {
        on_cursor!(self, cursor, call_arraysize, cur)
    }

    pub fn set_arraysize(&mut self, cur: Cur, n: u32) -> Result<()> {
        on_cursor!(self, cursor, call_set_arraysize, cur, n)
    }

    /// Sets (seconds, 0 for no limit) or clears the cursor's own statement timeout.
    pub fn set_statement_timeout(&mut self, cur: Cur, seconds: Option<f64>) -> Call<()> {
        on_cursor!(self, cursor, call_set_statement_timeout, cur, seconds)
    }

    pub fn close_cursor(&mut self, cur: Cur) -> Call<()> {
        on_cursor!(self, cursor, call_close, cur)
    }

    pub fn dict_execute(&mut self, cur: DictCur, sql: &str, params: Option<&Params>) -> Call<u64> {
        on_cursor!(self, dict_cursor, call_execute, cur, sql.to_string(), params.cloned())
    }

    pub fn dict_fetchone(&mut self, cur: DictCur) -> Call<Option<DictRow>> {
        on_cursor!(self, dict_cursor, call_fetchone, cur)
    }

    pub fn dict_fetchmany(&mut self, cur: DictCur, size: Option<u32>) -> Call<Vec<DictRow>> {
        on_cursor!(self, dict_cursor, call_fetchmany, cur, size)
    }

    pub fn dict_fetchall(&mut self, cur: DictCur) -> Call<Vec<DictRow>> {
        on_cursor!(self, dict_cursor, call_fetchall, cur)
    }

    pub fn dict_callproc(&mut self, cur: DictCur, procname: &str, args: &[Value]) -> Call<Vec<Value>> {
        on_cursor!(self, dict_cursor, call_callproc, cur, procname.to_string(), args.to_vec())
    }

    pub fn dict_nextset(&mut self, cur: DictCur) -> Call<bool> {
        on_cursor!(self, dict_cursor, call_nextset, cur)
    }

    pub fn default_cursor(&mut self, c: Conn) -> Result<AnyCur> {
        use bindings::exports::cymysql::aio::connection_async::AnyCursor;
        Ok(match on_connection!(self, call_default_cursor, c)? {
            AnyCursor::Tuple(r) => AnyCur::Tuple(Cur(r)),
            AnyCursor::Dict(r) => AnyCur::Dict(DictCur(r)),
        })
    }

    pub fn rownumber(&mut self, cur: Cur) -> Result<Option<u64>> {
        on_cursor!(self, cursor, call_rownumber, cur)
    }

    pub fn scroll(&mut self, cur: Cur, value: i64, mode: ScrollMode) -> Call<()> {
        on_cursor!(self, cursor, call_scroll, cur, value, mode)
    }

    pub fn setinputsizes(&mut self, cur: Cur, sizes: &[Option<u64>]) -> Result<()> {
        on_cursor!(self, cursor, call_setinputsizes, cur, sizes.to_vec())
    }

    pub fn setoutputsizes(&mut self, cur: Cur, size: u64, column: Option<u32>) -> Result<()> {
        on_cursor!(self, cursor, call_setoutputsizes, cur, size, column)
    }

    pub fn dict_rownumber(&mut self, cur: DictCur) -> Result<Option<u64>> {
        on_cursor!(self, dict_cursor, call_rownumber, cur)
    }

    pub fn dict_scroll(&mut self, cur: DictCur, value: i64, mode: ScrollMode) -> Call<()> {
        on_cursor!(self, dict_cursor, call_scroll, cur, value, mode)
    }

    pub fn dict_setinputsizes(&mut self, cur: DictCur, sizes: &[Option<u64>]) -> Result<()> {
        on_cursor!(self, dict_cursor, call_setinputsizes, cur, sizes.to_vec())
    }

    pub fn dict_setoutputsizes(&mut self, cur: DictCur, size: u64, column: Option<u32>) -> Result<()> {
        on_cursor!(self, dict_cursor, call_setoutputsizes, cur, size, column)
    }

    pub fn dict_description(&mut self, cur: DictCur) -> Result<Option<Vec<Column>>> {
        on_cursor!(self, dict_cursor, call_description, cur)
    }

    pub fn dict_rowcount(&mut self, cur: DictCur) -> Result<i64> {
        on_cursor!(self, dict_cursor, call_rowcount, cur)
    }

    pub fn drop_conn(&mut self, c: Conn) -> Result<()> {
        self.drop_resource(c.0)
    }

    pub fn drop_cursor(&mut self, c: Cur) -> Result<()> {
        self.drop_resource(c.0)
    }

    pub fn default_pool_options(&mut self) -> Result<PoolOptions> {
        Ok(settings_out(self.run(async |a, _, pool| pool.call_default_pool_options(a).await)?))
    }

    pub fn create_pool(
        &mut self,
        o: &ConnectOptions,
        minsize: u32,
        maxsize: u32,
        recycle: Option<f64>,
    ) -> Call<PoolHandle> {
        let o = o.clone();
        let created =
            self.run(async |a, _, pool| pool.pool().call_create_pool(a, o, minsize, maxsize, recycle).await)?;
        Ok(created.map(PoolHandle))
    }

    pub fn create_pool_with(&mut self, o: &ConnectOptions, settings: &PoolOptions) -> Call<PoolHandle> {
        let (o, settings) = (o.clone(), settings_in(settings));
        Ok(self.run(async |a, _, pool| pool.pool().call_create_pool_with(a, o, settings).await)?.map(PoolHandle))
    }

    pub fn acquire(&mut self, p: PoolHandle) -> Call<Conn> {
        Ok(on_pool!(self, call_acquire, p)?.map(Conn))
    }

    pub fn release(&mut self, p: PoolHandle, c: Conn) -> Result<()> {
        on_pool!(self, call_release, p, c.0)
    }

    pub fn pool_size(&mut self, p: PoolHandle) -> Result<(u32, u32, u32, u32)> {
        let handle = p.0;
        self.run(async |a, _, pool| {
            let pool = pool.pool();
            let size = pool.call_size(a, handle).await?;
            let free = pool.call_freesize(a, handle).await?;
            let min = pool.call_minsize(a, handle).await?;
            let max = pool.call_maxsize(a, handle).await?;
            Ok((size, free, min, max))
        })
    }

    pub fn pool_counters(&mut self, p: PoolHandle) -> Result<PoolCounters> {
        Ok(counters_out(on_pool!(self, call_counters, p)?))
    }

    pub fn take_events(&mut self, c: Conn) -> Result<Vec<Event>> {
        on_connection!(self, call_take_events, c)
    }

    pub fn pool_metrics(&mut self, p: PoolHandle) -> Result<PoolMetrics> {
        on_pool!(self, call_metrics, p)
    }

    pub fn pool_take_events(&mut self, p: PoolHandle) -> Result<Vec<Event>> {
        on_pool!(self, call_take_events, p)
    }

    pub fn pool_close(&mut self, p: PoolHandle) -> Result<()> {
        on_pool!(self, call_close, p)
    }

    pub fn pool_wait_closed(&mut self, p: PoolHandle) -> Call<()> {
        on_pool!(self, call_wait_closed, p)
    }

    pub fn pool_terminate(&mut self, p: PoolHandle) -> Result<()> {
        on_pool!(self, call_terminate, p)
    }

    pub fn pool_clear(&mut self, p: PoolHandle) -> Result<()> {
        on_pool!(self, call_clear, p)
    }

    /// The 0.2 world's `gather`, done the 0.3 way: the host runs the tasks concurrently itself, each
    /// acquiring a connection, running its statements on a cursor and releasing it. The 0.3 world
    /// has no `gather` of its own; what differs is that each task's rows count against
    /// `max-result-bytes` on their own, not together.
    pub fn gather(
        &mut self,
        p: PoolHandle,
        tasks: &[Vec<Statement>],
    ) -> Result<Vec<Result<Vec<StatementResult>, DbError>>> {
        let tasks = tasks.to_vec();
        let ran = self.run(async |a, api, pool| {
            let runs = tasks.into_iter().map(|task| async move {
                let conn = match pool.pool().call_acquire(a, p.0).await? {
                    Ok(c) => c,
                    Err(e) => return Ok((None, Err(e))),
                };
                let cur = api.connection().call_cursor(a, conn).await?;
                let results = run_task(a, api, cur, task).await?;
                pool.pool().call_release(a, p.0, conn).await?;
                Ok::<_, HostError>((Some(cur), results))
            });
            futures::future::try_join_all(runs).await
        })?;
        let mut out = Vec::with_capacity(ran.len());
        for (cur, results) in ran {
            if let Some(cur) = cur {
                self.drop_resource(cur)?;
            }
            out.push(results);
        }
        Ok(out)
    }
}

/// One `gather` task's statements on `cur`, stopping at the first error.
async fn run_task(
    a: &Accessor<HostState>,
    api: &ConnectionApi,
    cur: ResourceAny,
    task: Vec<Statement>,
) -> Result<Result<Vec<StatementResult>, DbError>> {
    let cursor = api.cursor();
    let mut results = Vec::with_capacity(task.len());
    for statement in task {
        if let Err(e) = cursor.call_execute(a, cur, statement.query, statement.params).await? {
            return Ok(Err(e));
        }
        let rows = match cursor.call_description(a, cur).await? {
            Some(_) => match cursor.call_fetchall(a, cur).await? {
                Ok(rows) => rows,
                Err(e) => return Ok(Err(e)),
            },
            None => Vec::new(),
        };
        let rowcount = cursor.call_rowcount(a, cur).await?;
        let lastrowid = cursor.call_lastrowid(a, cur).await?;
        results.push(StatementResult { rows, rowcount, lastrowid });
    }
    Ok(Ok(results))
}

/// The 0.3 world's pool records have the 0.2 world's fields; the host speaks the 0.2 ones.
fn settings_in(s: &PoolOptions) -> AsyncPoolOptions {
    AsyncPoolOptions {
        minsize: s.minsize,
        maxsize: s.maxsize,
        pool_recycle: s.pool_recycle,
        acquire_timeout: s.acquire_timeout,
        ping_after_idle: s.ping_after_idle,
        reset_on_release: s.reset_on_release,
    }
}

fn settings_out(s: AsyncPoolOptions) -> PoolOptions {
    PoolOptions {
        minsize: s.minsize,
        maxsize: s.maxsize,
        pool_recycle: s.pool_recycle,
        acquire_timeout: s.acquire_timeout,
        ping_after_idle: s.ping_after_idle,
        reset_on_release: s.reset_on_release,
    }
}

fn counters_out(c: AsyncPoolCounters) -> PoolCounters {
    let AsyncPoolCounters { created, closed, acquired, waited, timed_out, evicted, in_use } = c;
    PoolCounters { created, closed, acquired, waited, timed_out, evicted, in_use }
}

/// Rows taken from a guest's `stream<row>` and not read yet, shared by the consumer wasmtime drives
/// and the reader the host code awaits.
struct Shared<T> {
    queue: VecDeque<T>,
    /// How many rows may wait here; the guest's write waits while the queue is full.
    capacity: usize,
    /// The guest ended the stream (wasmtime dropped the consumer).
    ended: bool,
    /// The host dropped its end.
    closed: bool,
    consumer: Option<Waker>,
    reader: Option<Waker>,
}

/// The host's end of a `stream<T>` from the guest: rows in order, at most `capacity` buffered.
pub struct RowStream<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

struct Feed<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T: Lift + Send + Sync + 'static> RowStream<T> {
    /// Starts consuming `stream`; at most `capacity` items wait unread (backpressure on the guest).
    pub fn pipe(a: &Accessor<HostState>, stream: StreamReader<T>, capacity: usize) -> Result<RowStream<T>> {
        let shared = Arc::new(Mutex::new(Shared {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            ended: false,
            closed: false,
            consumer: None,
            reader: None,
        }));
        let feed = Feed { shared: shared.clone() };
        a.with(|mut store| stream.pipe(store.as_context_mut(), feed))?;
        Ok(RowStream { shared })
    }

    /// The next item, or `None` once the guest ended the stream.
    pub async fn next(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| {
            let mut s = lock(&self.shared);
            if let Some(item) = s.queue.pop_front() {
                if let Some(w) = s.consumer.take() {
                    w.wake();
                }
                return Poll::Ready(Some(item));
            }
            if s.ended {
                return Poll::Ready(None);
            }
            s.reader = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Drops the host's end: the guest's next write sees the stream dropped.
    pub fn close(self) {
        let mut s = lock(&self.shared);
        s.closed = true;
        s.queue.clear();
        if let Some(w) = s.consumer.take() {
            w.wake();
        }
    }
}

impl<T> Drop for Feed<T> {
    fn drop(&mut self) {
        let mut s = lock(&self.shared);
        s.ended = true;
        if let Some(w) = s.reader.take() {
            w.wake();
        }
    }
}

impl<D, T: Lift + Send + Sync + 'static> StreamConsumer<D> for Feed<T> {
    type Item = T;

    fn poll_consume(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<D>,
        mut source: Source<'_, T>,
        finish: bool,
    ) -> Poll<Result<StreamResult>> {
        let mut s = lock(&self.shared);
        if s.closed {
            return Poll::Ready(Ok(StreamResult::Dropped));
        }
        let room = s.capacity.saturating_sub(s.queue.len());
        if room == 0 {
            if finish {
                return Poll::Ready(Ok(StreamResult::Cancelled));
            }
            s.consumer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let mut items: Vec<T> = Vec::with_capacity(room.min(1024));
        source.read(store.as_context_mut(), &mut items)?;
        s.queue.extend(items);
        if let Some(w) = s.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

/// What the guest wrote to a `query`'s future, shared by its consumer and the host's reader.
#[derive(Default)]
struct End {
    value: Option<Result<(), DbError>>,
    /// wasmtime dropped the consumer: nothing more will come.
    gone: bool,
    reader: Option<Waker>,
}

/// The host's end of a `query`'s `future<result<_, error>>`.
pub struct EndFuture {
    shared: Arc<Mutex<End>>,
}

struct EndFeed {
    shared: Arc<Mutex<End>>,
}

impl EndFuture {
    /// Starts waiting for `future`.
    pub fn pipe(a: &Accessor<HostState>, future: FutureReader<Result<(), DbError>>) -> Result<EndFuture> {
        let shared = Arc::new(Mutex::new(End::default()));
        let feed = EndFeed { shared: shared.clone() };
        a.with(|mut store| future.pipe(store.as_context_mut(), feed))?;
        Ok(EndFuture { shared })
    }

    /// How the statement ended; an interface error if the guest dropped the future unwritten.
    pub async fn wait(self) -> Result<(), DbError> {
        std::future::poll_fn(|cx| {
            let mut s = lock(&self.shared);
            if let Some(v) = s.value.take() {
                return Poll::Ready(v);
            }
            if s.gone {
                return Poll::Ready(Err(DbError {
                    kind: crate::driver::ErrorKind::Interface,
                    code: None,
                    sqlstate: None,
                    message: "the query's end future was dropped unwritten".into(),
                    retryable: false,
                }));
            }
            s.reader = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl Drop for EndFeed {
    fn drop(&mut self) {
        let mut s = lock(&self.shared);
        s.gone = true;
        if let Some(w) = s.reader.take() {
            w.wake();
        }
    }
}

impl<D> FutureConsumer<D> for EndFeed {
    type Item = Result<(), DbError>;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<D>,
        mut source: Source<'_, Self::Item>,
        _finish: bool,
    ) -> Poll<Result<()>> {
        let mut value = None;
        source.read(store.as_context_mut(), &mut value)?;
        let mut s = lock(&self.shared);
        s.value = value;
        if let Some(w) = s.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(()))
    }
}

/// Prepared statement calls.
impl AsyncSession {
    pub fn prepare(&mut self, c: Conn, sql: &str) -> Call<Stmt> {
        Ok(on_connection!(self, call_prepare, c, sql.to_string())?.map(Stmt))
    }

    pub fn stmt_param_count(&mut self, s: Stmt) -> Result<u32> {
        on_cursor!(self, statement, call_param_count, s)
    }

    pub fn stmt_description(&mut self, s: Stmt) -> Result<Vec<Column>> {
        on_cursor!(self, statement, call_description, s)
    }

    pub fn stmt_execute(&mut self, s: Stmt, params: &[Value]) -> Call<Cur> {
        Ok(on_cursor!(self, statement, call_execute, s, params.to_vec())?.map(Cur))
    }

    pub fn stmt_ss_execute(&mut self, s: Stmt, params: &[Value]) -> Call<Cur> {
        Ok(on_cursor!(self, statement, call_ss_execute, s, params.to_vec())?.map(Cur))
    }

    pub fn stmt_open_cursor(&mut self, s: Stmt, params: &[Value], fetch_size: u32) -> Call<Cur> {
        Ok(on_cursor!(self, statement, call_open_cursor, s, params.to_vec(), fetch_size)?.map(Cur))
    }

    pub fn stmt_executemany(&mut self, s: Stmt, seq: &[Vec<Value>]) -> Call<u64> {
        on_cursor!(self, statement, call_executemany, s, seq.to_vec())
    }

    pub fn stmt_reset(&mut self, s: Stmt) -> Call<()> {
        on_cursor!(self, statement, call_reset, s)
    }

    pub fn stmt_close(&mut self, s: Stmt) -> Call<()> {
        on_cursor!(self, statement, call_close, s)
    }

    pub fn drop_stmt(&mut self, s: Stmt) -> Result<()> {
        self.drop_resource(s.0)
    }

    pub fn execute_prepared(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<u64> {
        on_cursor!(self, cursor, call_execute_prepared, cur, sql.to_string(), params.cloned())
    }
}
