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

use crate::driver::{block_on, compile, Column, ConnectOptions, DbError, HostState, Params, Sandbox, Value};

/// Host bindings generated from `wit/` for the async world; `types` is shared with the 0.2 bindings.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "driver-async",
        exports: { default: async | store },
        with: { "cymysql:aio/types": crate::driver::bindings::exports::cymysql::aio::types },
    });
}

pub use bindings::exports::cymysql::aio::pool_async::{PoolCounters, PoolOptions};

/// The instance's API: connection, cursor and dict-cursor calls.
pub type ConnectionApi = bindings::exports::cymysql::aio::connection_async::Guest;
/// The instance's API: pool calls.
pub type PoolApi = bindings::exports::cymysql::aio::pool_async::Guest;

/// A trap or host failure, for code that names it without depending on wasmtime.
pub use wasmtime::Error as HostError;

/// A call's outcome: the outer error is a trap or host failure (always a bug), the inner one the driver's.
pub type Call<T> = Result<Result<T, DbError>>;

/// Where `scripts/build-component` puts the 0.3 component.
pub fn component_path() -> PathBuf {
    if let Ok(p) = std::env::var("CYMYSQL_WASI_ASYNC_COMPONENT") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/guest-async/cymysql_wasi.wasm")
}

/// The compiled 0.3 component and a linker with WASI 0.3 and the WASI 0.2 that Rust's std imports.
pub struct AsyncHost {
    engine: Engine,
    component: Component,
    linker: Linker<HostState>,
}

impl AsyncHost {
    /// Compiles the component at `path` (reusing a cached compilation).
    pub fn load(path: &Path) -> Result<AsyncHost> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.wasm_component_model_async(true);
        let engine = Engine::new(&config)?;
        let component = compile(&engine, path)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi::p3::add_to_linker(&mut linker)?;
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

/// A `connection` resource.
#[derive(Debug, Clone, Copy)]
pub struct Conn(pub ResourceAny);

/// A `cursor` resource.
#[derive(Debug, Clone, Copy)]
pub struct Cur(pub ResourceAny);

/// A `pool` resource.
#[derive(Debug, Clone, Copy)]
pub struct PoolHandle(pub ResourceAny);

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

    pub fn cursor(&mut self, c: Conn) -> Result<Cur> {
        Ok(Cur(self.run(async |a, api, _| api.connection().call_cursor(a, c.0).await)?))
    }

    pub fn execute(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<u64> {
        let (sql, params) = (sql.to_string(), params.cloned());
        self.run(async |a, api, _| api.cursor().call_execute(a, cur.0, sql, params).await)
    }

    pub fn fetchone(&mut self, cur: Cur) -> Call<Option<Vec<Value>>> {
        self.run(async |a, api, _| api.cursor().call_fetchone(a, cur.0).await)
    }

    pub fn fetchall(&mut self, cur: Cur) -> Call<Vec<Vec<Value>>> {
        self.run(async |a, api, _| api.cursor().call_fetchall(a, cur.0).await)
    }

    pub fn nextset(&mut self, cur: Cur) -> Call<bool> {
        self.run(async |a, api, _| api.cursor().call_nextset(a, cur.0).await)
    }

    pub fn description(&mut self, cur: Cur) -> Result<Option<Vec<Column>>> {
        self.run(async |a, api, _| api.cursor().call_description(a, cur.0).await)
    }

    pub fn rowcount(&mut self, cur: Cur) -> Result<i64> {
        self.run(async |a, api, _| api.cursor().call_rowcount(a, cur.0).await)
    }

    pub fn lastrowid(&mut self, cur: Cur) -> Result<Option<u64>> {
        self.run(async |a, api, _| api.cursor().call_lastrowid(a, cur.0).await)
    }

    pub fn thread_id(&mut self, c: Conn) -> Result<u32> {
        self.run(async |a, api, _| api.connection().call_thread_id(a, c.0).await)
    }

    pub fn server_version(&mut self, c: Conn) -> Result<String> {
        self.run(async |a, api, _| api.connection().call_server_version(a, c.0).await)
    }

    pub fn warning_count(&mut self, c: Conn) -> Result<u16> {
        self.run(async |a, api, _| api.connection().call_warning_count(a, c.0).await)
    }

    pub fn insert_id(&mut self, c: Conn) -> Result<u64> {
        self.run(async |a, api, _| api.connection().call_insert_id(a, c.0).await)
    }

    pub fn affected_rows(&mut self, c: Conn) -> Result<u64> {
        self.run(async |a, api, _| api.connection().call_affected_rows(a, c.0).await)
    }

    pub fn commit(&mut self, c: Conn) -> Call<()> {
        self.run(async |a, api, _| api.connection().call_commit(a, c.0).await)
    }

    pub fn rollback(&mut self, c: Conn) -> Call<()> {
        self.run(async |a, api, _| api.connection().call_rollback(a, c.0).await)
    }

    pub fn close(&mut self, c: Conn) -> Call<()> {
        self.run(async |a, api, _| api.connection().call_close(a, c.0).await)
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

    pub fn create_pool_with(&mut self, o: &ConnectOptions, settings: &PoolOptions) -> Call<PoolHandle> {
        let (o, settings) = (o.clone(), *settings);
        Ok(self.run(async |a, _, pool| pool.pool().call_create_pool_with(a, o, settings).await)?.map(PoolHandle))
    }

    pub fn default_pool_options(&mut self) -> Result<PoolOptions> {
        self.run(async |a, _, pool| pool.call_default_pool_options(a).await)
    }

    pub fn acquire(&mut self, p: PoolHandle) -> Call<Conn> {
        Ok(self.run(async |a, _, pool| pool.pool().call_acquire(a, p.0).await)?.map(Conn))
    }

    pub fn release(&mut self, p: PoolHandle, c: Conn) -> Result<()> {
        self.run(async |a, _, pool| pool.pool().call_release(a, p.0, c.0).await)
    }

    pub fn pool_counters(&mut self, p: PoolHandle) -> Result<PoolCounters> {
        self.run(async |a, _, pool| pool.pool().call_counters(a, p.0).await)
    }

    /// Drops any resource handle of this instance.
    pub fn drop_resource(&mut self, r: ResourceAny) -> Result<()> {
        block_on(r.resource_drop_async(&mut self.store))
    }
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
