//! Loads the cymysql-wasi component into wasmtime and calls its exports as a user would.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::Result;
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, ResourceTable, WasiCtx, WasiCtxView, WasiView};

use crate::driver_async::AsyncHost;
pub use crate::session::{Session, World};

/// Host bindings generated from `wit/`.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "driver",
        additional_derives: [PartialEq],
        exports: { default: async },
    });
}

pub use bindings::exports::cymysql::aio::types::{
    Column, ColumnBatch, ColumnData, ColumnValues, ConnectEvent, ConnectOptions, Conversions, CursorClass,
    DecimalFormat, Error as DbError, ErrorKind, Event, EventLogOptions, HostMetrics, JsonFormat, Params, PoolMetrics,
    ScrollMode, SslOptions, StatementEvent, StatementText, TemporalFormat, Value, VarLen, Warning,
};

/// The default of [`Sandbox::memory_limit`]: 1 GiB, four times the component's default
/// `max-result-bytes` (256 MiB), which covers a result at that limit held once decoded, once more
/// as it is lowered for the host, and the doubling of the buffers it grew in.
pub const DEFAULT_MEMORY_LIMIT: usize = 1 << 30;

/// What the guest may reach: loopback TCP and name lookup, and optional preopened directories.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// (host directory, guest path) pairs made readable to the guest.
    pub preopens: Vec<(PathBuf, String)>,
    /// Allow TCP to any address, not only loopback (the CLI against a remote server).
    pub any_address: bool,
    /// The most linear memory the instance may grow to, in bytes; `None` leaves wasm32's 4 GiB.
    /// Growth past it is refused, which the guest sees as a failed allocation (and traps on).
    /// The component's `max-result-bytes` keeps it from getting there on a server's say-so.
    pub memory_limit: Option<usize>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox { preopens: Vec::new(), any_address: false, memory_limit: Some(DEFAULT_MEMORY_LIMIT) }
    }
}

/// The per-instance state of the host.
pub struct HostState {
    ctx: WasiCtx,
    table: ResourceTable,
    pub(crate) memory: MemoryPeak,
}

/// The store's resource limiter: records the largest linear memory the guest was given (it
/// never shrinks) and refuses growth past `limit`.
///
/// This is how an embedder bounds an instance: `Store::limiter` with a `ResourceLimiter` whose
/// `memory_growing` answers `Ok(false)`. `memory.grow` then returns -1 in the guest, whose
/// allocator reports an allocation failure; Rust aborts on that, so the call traps and the
/// instance is lost. The limit is a backstop that turns a runaway guest into a trap at a size
/// the host chose; what keeps a server from driving the guest there is `max-result-bytes`.
#[derive(Debug, Default)]
pub(crate) struct MemoryPeak {
    peak: usize,
    limit: Option<usize>,
    /// Growths refused so far.
    refused: usize,
}

impl wasmtime::ResourceLimiter for MemoryPeak {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        if self.limit.is_some_and(|limit| desired > limit) {
            self.refused += 1;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, _desired: usize, _maximum: Option<usize>) -> Result<bool> {
        Ok(true)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }
}

/// Runs a call into the component to completion on this thread's current-thread tokio runtime.
///
/// With wasmtime-wasi's synchronous bindings every wait of the guest on a socket went through a
/// multi-threaded runtime: a worker thread saw the socket ready and woke the caller, two context
/// switches per wait. Here the thread that waits is the one that polls.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    }
    RUNTIME.with(|rt| rt.block_on(f))
}

/// A compiled component of either world and the linker for it; compile once, instantiate many times.
pub enum Host {
    Sync { engine: Engine, component: Component, linker: Linker<HostState> },
    Async(AsyncHost),
}

/// Where the release build of the component lands.
pub fn component_path() -> PathBuf {
    if let Ok(p) = std::env::var("CYMYSQL_WASI_COMPONENT") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.join("target/wasm32-wasip2/guest/cymysql_driver.wasm")
}

/// Compiles the component at `path` for `engine`, reusing a serialized compilation next to it when
/// the component has not changed.
pub(crate) fn compile(engine: &Engine, path: &Path) -> Result<Component> {
    let wasm = std::fs::read(path).map_err(|e| {
        wasmtime::format_err!("reading component {} (build it with scripts/build-component): {e}", path.display())
    })?;
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        wasm.hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        h.finish()
    };
    let cached = path.with_extension(format!("{key:016x}.cwasm"));
    // SAFETY: the file is one this function wrote with `Component::serialize` for this engine
    // configuration; wasmtime checks the version and configuration header itself.
    match unsafe { Component::deserialize_file(engine, &cached) } {
        Ok(c) => Ok(c),
        Err(_) => {
            let c = Component::new(engine, &wasm)?;
            if let Ok(bytes) = c.serialize() {
                let tmp = cached.with_extension(format!("tmp{}", std::process::id()));
                if std::fs::write(&tmp, bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, &cached);
                }
            }
            Ok(c)
        }
    }
}

impl Host {
    /// Compiles the 0.2 component at `path`, reusing a serialized compilation next to it when the
    /// component has not changed.
    pub fn load(path: &Path) -> Result<Host> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config)?;
        let component = compile(&engine, path)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Ok(Host::Sync { engine, component, linker })
    }

    /// Compiles the component of `world` from where `scripts/build-component` puts it.
    pub fn load_world(world: World) -> Result<Host> {
        match world {
            World::Driver => Host::load(&component_path()),
            World::Async => Ok(Host::Async(AsyncHost::load(&crate::driver_async::component_path())?)),
        }
    }

    /// One host per process, loaded on first use, of the world [`World::from_env`] names.
    pub fn shared() -> &'static Host {
        static HOST: OnceLock<Host> = OnceLock::new();
        HOST.get_or_init(|| match Host::load_world(World::from_env()) {
            Ok(h) => h,
            Err(e) => panic!("cannot load the component: {e:#}"),
        })
    }

    /// A fresh instance of the component.
    pub fn instantiate(&self, sandbox: &Sandbox) -> Result<Session> {
        match self {
            Host::Sync { engine, component, linker } => {
                let mut store = Store::new(engine, HostState::new(sandbox)?);
                store.limiter(|s| &mut s.memory);
                let driver = block_on(bindings::Driver::instantiate_async(&mut store, component, linker))?;
                Ok(Session::Sync(SyncSession { store, driver }))
            }
            Host::Async(host) => Ok(Session::Async(host.instantiate(sandbox)?)),
        }
    }
}

impl HostState {
    /// WASI for one instance, reaching what `sandbox` allows.
    pub(crate) fn new(sandbox: &Sandbox) -> Result<HostState> {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stderr();
        wasi.allow_tcp(true);
        wasi.allow_ip_name_lookup(true);
        let any = sandbox.any_address;
        wasi.socket_addr_check(move |addr: SocketAddr, use_: SocketAddrUse| {
            Box::pin(async move {
                match use_ {
                    // A connect first binds the unspecified address implicitly.
                    SocketAddrUse::TcpBind => addr.ip().is_unspecified(),
                    SocketAddrUse::TcpConnect => any || addr.ip().is_loopback(),
                    _ => false,
                }
            })
        });
        for (host_dir, guest) in &sandbox.preopens {
            wasi.preopened_dir(host_dir, guest, FsPerms::ReadOnly)?;
        }
        let memory = MemoryPeak { limit: sandbox.memory_limit, ..MemoryPeak::default() };
        Ok(HostState { ctx: wasi.build(), table: ResourceTable::new(), memory })
    }

    /// The largest linear memory of the guest so far, in bytes.
    pub(crate) fn peak_memory(&self) -> usize {
        self.memory.peak
    }

    /// How many times the guest asked to grow its memory past [`Sandbox::memory_limit`] and was refused.
    pub(crate) fn refused_growths(&self) -> usize {
        self.memory.refused
    }
}

/// One instance of the 0.2 component; handles below belong to it.
pub struct SyncSession {
    store: Store<HostState>,
    driver: bindings::Driver,
}

/// A `connection` resource owned by a session.
#[derive(Debug, Clone, Copy)]
pub struct Conn(pub ResourceAny);

/// A `cursor` resource.
#[derive(Debug, Clone, Copy)]
pub struct Cur(pub ResourceAny);

/// A `dict-cursor` resource.
#[derive(Debug, Clone, Copy)]
pub struct DictCur(pub ResourceAny);

/// What `default-cursor` made: a cursor of either row shape.
#[derive(Debug, Clone, Copy)]
pub enum AnyCur {
    Tuple(Cur),
    Dict(DictCur),
}

/// A `pool` resource.
#[derive(Debug, Clone, Copy)]
pub struct PoolHandle(pub ResourceAny);

/// A `statement` resource (a server-side prepared statement).
#[derive(Debug, Clone, Copy)]
pub struct Stmt(pub ResourceAny);

pub use bindings::exports::cymysql::aio::pool::{PoolCounters, PoolOptions, Statement, StatementResult};

/// A dict row: (key, value) pairs in column order.
pub type DictRow = Vec<(String, Value)>;

/// A call's outcome: the outer error is a trap or host failure (always a bug), the inner one the driver's.
pub type Call<T> = Result<Result<T, DbError>>;

impl SyncSession {
    /// The largest linear memory of the guest so far, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.store.data().memory.peak
    }

    /// How many times the guest asked to grow its memory past [`Sandbox::memory_limit`] and was refused.
    pub fn refused_growths(&self) -> usize {
        self.store.data().memory.refused
    }

    pub fn default_options(&mut self) -> Result<ConnectOptions> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.call_default_options(&mut self.store))
    }

    pub fn options_from_url(&mut self, url: &str) -> Call<ConnectOptions> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.call_options_from_url(&mut self.store, url))
    }

    pub fn connect(&mut self, options: &ConnectOptions) -> Call<Conn> {
        let api = self.driver.cymysql_aio_connection();
        Ok(block_on(api.connection().call_connect(&mut self.store, options))?.map(Conn))
    }

    pub fn connect_url(&mut self, url: &str) -> Call<Conn> {
        match self.options_from_url(url)? {
            Ok(o) => self.connect(&o),
            Err(e) => Ok(Err(e)),
        }
    }

    pub fn cursor(&mut self, c: Conn) -> Result<Cur> {
        let api = self.driver.cymysql_aio_connection();
        Ok(Cur(block_on(api.connection().call_cursor(&mut self.store, c.0))?))
    }

    pub fn ss_cursor(&mut self, c: Conn) -> Result<Cur> {
        let api = self.driver.cymysql_aio_connection();
        Ok(Cur(block_on(api.connection().call_ss_cursor(&mut self.store, c.0))?))
    }

    pub fn dict_cursor(&mut self, c: Conn) -> Result<DictCur> {
        let api = self.driver.cymysql_aio_connection();
        Ok(DictCur(block_on(api.connection().call_dict_cursor(&mut self.store, c.0))?))
    }

    pub fn ss_dict_cursor(&mut self, c: Conn) -> Result<DictCur> {
        let api = self.driver.cymysql_aio_connection();
        Ok(DictCur(block_on(api.connection().call_ss_dict_cursor(&mut self.store, c.0))?))
    }

    pub fn commit(&mut self, c: Conn) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_commit(&mut self.store, c.0))
    }

    pub fn rollback(&mut self, c: Conn) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_rollback(&mut self.store, c.0))
    }

    pub fn autocommit(&mut self, c: Conn, on: bool) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_autocommit(&mut self.store, c.0, on))
    }

    pub fn get_autocommit(&mut self, c: Conn) -> Result<bool> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_get_autocommit(&mut self.store, c.0))
    }

    pub fn ping(&mut self, c: Conn, reconnect: bool) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_ping(&mut self.store, c.0, reconnect))
    }

    pub fn set_charset(&mut self, c: Conn, charset: &str) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_set_charset(&mut self.store, c.0, charset))
    }

    pub fn select_db(&mut self, c: Conn, db: &str) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_select_db(&mut self.store, c.0, db))
    }

    pub fn close(&mut self, c: Conn) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_close(&mut self.store, c.0))
    }

    pub fn ensure_closed(&mut self, c: Conn) -> Result<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_ensure_closed(&mut self.store, c.0))
    }

    pub fn is_open(&mut self, c: Conn) -> Result<bool> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_open(&mut self.store, c.0))
    }

    pub fn server_version(&mut self, c: Conn) -> Result<String> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_server_version(&mut self.store, c.0))
    }

    pub fn thread_id(&mut self, c: Conn) -> Result<u32> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_thread_id(&mut self.store, c.0))
    }

    pub fn compression(&mut self, c: Conn) -> Result<Option<String>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_compression(&mut self.store, c.0))
    }

    pub fn insert_id(&mut self, c: Conn) -> Result<u64> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_insert_id(&mut self.store, c.0))
    }

    pub fn affected_rows(&mut self, c: Conn) -> Result<u64> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_affected_rows(&mut self.store, c.0))
    }

    pub fn warning_count(&mut self, c: Conn) -> Result<u16> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_warning_count(&mut self.store, c.0))
    }

    pub fn in_transaction(&mut self, c: Conn) -> Result<bool> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_in_transaction(&mut self.store, c.0))
    }

    pub fn begin(&mut self, c: Conn) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_begin(&mut self.store, c.0))
    }

    pub fn kill(&mut self, c: Conn, thread_id: u64) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_kill(&mut self.store, c.0, thread_id))
    }

    pub fn show_warnings(&mut self, c: Conn) -> Call<Vec<Warning>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_show_warnings(&mut self.store, c.0))
    }

    pub fn get_host_info(&mut self, c: Conn) -> Result<String> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_get_host_info(&mut self.store, c.0))
    }

    pub fn get_proto_info(&mut self, c: Conn) -> Result<u8> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_get_proto_info(&mut self.store, c.0))
    }

    pub fn get_server_info(&mut self, c: Conn) -> Result<String> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_get_server_info(&mut self.store, c.0))
    }

    pub fn character_set_name(&mut self, c: Conn) -> Result<String> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_character_set_name(&mut self.store, c.0))
    }

    pub fn mogrify(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<String> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_mogrify(&mut self.store, cur.0, sql, params))
    }

    pub fn escape_string(&mut self, c: Conn, s: &str) -> Result<String> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_escape_string(&mut self.store, c.0, s))
    }

    pub fn execute(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<u64> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_execute(&mut self.store, cur.0, sql, params))
    }

    pub fn executemany(&mut self, cur: Cur, sql: &str, seq: &[Params]) -> Call<u64> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_executemany(&mut self.store, cur.0, sql, seq))
    }

    pub fn fetchone(&mut self, cur: Cur) -> Call<Option<Vec<Value>>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_fetchone(&mut self.store, cur.0))
    }

    pub fn fetchmany(&mut self, cur: Cur, size: Option<u32>) -> Call<Vec<Vec<Value>>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_fetchmany(&mut self.store, cur.0, size))
    }

    pub fn fetchall(&mut self, cur: Cur) -> Call<Vec<Vec<Value>>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_fetchall(&mut self.store, cur.0))
    }

    pub fn fetch_columns(&mut self, cur: Cur, size: Option<u32>) -> Call<ColumnBatch> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_fetch_columns(&mut self.store, cur.0, size))
    }

    pub fn nextset(&mut self, cur: Cur) -> Call<bool> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_nextset(&mut self.store, cur.0))
    }

    pub fn callproc(&mut self, cur: Cur, procname: &str, args: &[Value]) -> Call<Vec<Value>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_callproc(&mut self.store, cur.0, procname, args))
    }

    pub fn description(&mut self, cur: Cur) -> Result<Option<Vec<Column>>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_description(&mut self.store, cur.0))
    }

    pub fn rowcount(&mut self, cur: Cur) -> Result<i64> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_rowcount(&mut self.store, cur.0))
    }

    pub fn lastrowid(&mut self, cur: Cur) -> Result<Option<u64>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_lastrowid(&mut self.store, cur.0))
    }

    pub fn set_arraysize(&mut self, cur: Cur, n: u32) -> Result<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_set_arraysize(&mut self.store, cur.0, n))
    }

    /// Sets (seconds, 0 for no limit) or clears the cursor's own statement timeout.
    pub fn set_statement_timeout(&mut self, cur: Cur, seconds: Option<f64>) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_set_statement_timeout(&mut self.store, cur.0, seconds))
    }

    pub fn close_cursor(&mut self, cur: Cur) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_close(&mut self.store, cur.0))
    }

    pub fn dict_execute(&mut self, cur: DictCur, sql: &str, params: Option<&Params>) -> Call<u64> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_execute(&mut self.store, cur.0, sql, params))
    }

    pub fn dict_fetchone(&mut self, cur: DictCur) -> Call<Option<DictRow>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_fetchone(&mut self.store, cur.0))
    }

    pub fn dict_fetchmany(&mut self, cur: DictCur, size: Option<u32>) -> Call<Vec<DictRow>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_fetchmany(&mut self.store, cur.0, size))
    }

    pub fn dict_fetchall(&mut self, cur: DictCur) -> Call<Vec<DictRow>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_fetchall(&mut self.store, cur.0))
    }

    pub fn dict_description(&mut self, cur: DictCur) -> Result<Option<Vec<Column>>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_description(&mut self.store, cur.0))
    }

    pub fn dict_rowcount(&mut self, cur: DictCur) -> Result<i64> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_rowcount(&mut self.store, cur.0))
    }

    /// Drops a resource handle in the guest.
    pub fn drop_conn(&mut self, c: Conn) -> Result<()> {
        block_on(c.0.resource_drop_async(&mut self.store))
    }

    pub fn drop_cursor(&mut self, c: Cur) -> Result<()> {
        block_on(c.0.resource_drop_async(&mut self.store))
    }

    pub fn default_pool_options(&mut self) -> Result<PoolOptions> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.call_default_pool_options(&mut self.store))
    }

    pub fn create_pool(
        &mut self,
        o: &ConnectOptions,
        minsize: u32,
        maxsize: u32,
        recycle: Option<f64>,
    ) -> Call<PoolHandle> {
        let api = self.driver.cymysql_aio_pool();
        Ok(block_on(api.pool().call_create_pool(&mut self.store, o, minsize, maxsize, recycle))?.map(PoolHandle))
    }

    pub fn create_pool_with(&mut self, o: &ConnectOptions, settings: &PoolOptions) -> Call<PoolHandle> {
        let api = self.driver.cymysql_aio_pool();
        Ok(block_on(api.pool().call_create_pool_with(&mut self.store, o, *settings))?.map(PoolHandle))
    }

    pub fn acquire(&mut self, p: PoolHandle) -> Call<Conn> {
        let api = self.driver.cymysql_aio_pool();
        Ok(block_on(api.pool().call_acquire(&mut self.store, p.0))?.map(Conn))
    }

    pub fn release(&mut self, p: PoolHandle, c: Conn) -> Result<()> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.pool().call_release(&mut self.store, p.0, c.0))
    }

    pub fn pool_size(&mut self, p: PoolHandle) -> Result<(u32, u32, u32, u32)> {
        let api = self.driver.cymysql_aio_pool();
        let size = block_on(api.pool().call_size(&mut self.store, p.0))?;
        let free = block_on(api.pool().call_freesize(&mut self.store, p.0))?;
        let min = block_on(api.pool().call_minsize(&mut self.store, p.0))?;
        let max = block_on(api.pool().call_maxsize(&mut self.store, p.0))?;
        Ok((size, free, min, max))
    }

    pub fn pool_counters(&mut self, p: PoolHandle) -> Result<PoolCounters> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.pool().call_counters(&mut self.store, p.0))
    }

    pub fn pool_close(&mut self, p: PoolHandle) -> Result<()> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.pool().call_close(&mut self.store, p.0))
    }

    pub fn pool_wait_closed(&mut self, p: PoolHandle) -> Call<()> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.pool().call_wait_closed(&mut self.store, p.0))
    }

    pub fn pool_terminate(&mut self, p: PoolHandle) -> Result<()> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.pool().call_terminate(&mut self.store, p.0))
    }

    pub fn pool_clear(&mut self, p: PoolHandle) -> Result<()> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.pool().call_clear(&mut self.store, p.0))
    }

    pub fn gather(
        &mut self,
        p: PoolHandle,
        tasks: &[Vec<Statement>],
    ) -> Result<Vec<Result<Vec<StatementResult>, DbError>>> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.pool().call_gather(&mut self.store, p.0, tasks))
    }
}

/// Observability: event logs and pool metrics.
impl SyncSession {
    pub fn take_events(&mut self, c: Conn) -> Result<Vec<Event>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.connection().call_take_events(&mut self.store, c.0))
    }

    pub fn pool_metrics(&mut self, p: PoolHandle) -> Result<PoolMetrics> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.pool().call_metrics(&mut self.store, p.0))
    }

    pub fn pool_take_events(&mut self, p: PoolHandle) -> Result<Vec<Event>> {
        let api = self.driver.cymysql_aio_pool();
        block_on(api.pool().call_take_events(&mut self.store, p.0))
    }
}

/// Cursor calls used by the result-handling tests.
impl SyncSession {
    pub fn arraysize(&mut self, cur: Cur) -> Result<u32> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_arraysize(&mut self.store, cur.0))
    }

    pub fn dict_callproc(&mut self, cur: DictCur, procname: &str, args: &[Value]) -> Call<Vec<Value>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_callproc(&mut self.store, cur.0, procname, args))
    }

    pub fn dict_nextset(&mut self, cur: DictCur) -> Call<bool> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_nextset(&mut self.store, cur.0))
    }

    pub fn default_cursor(&mut self, c: Conn) -> Result<AnyCur> {
        use bindings::exports::cymysql::aio::connection::AnyCursor;
        let api = self.driver.cymysql_aio_connection();
        Ok(match block_on(api.connection().call_default_cursor(&mut self.store, c.0))? {
            AnyCursor::Tuple(r) => AnyCur::Tuple(Cur(r)),
            AnyCursor::Dict(r) => AnyCur::Dict(DictCur(r)),
        })
    }

    pub fn rownumber(&mut self, cur: Cur) -> Result<Option<u64>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_rownumber(&mut self.store, cur.0))
    }

    pub fn scroll(&mut self, cur: Cur, value: i64, mode: ScrollMode) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_scroll(&mut self.store, cur.0, value, mode))
    }

    pub fn setinputsizes(&mut self, cur: Cur, sizes: &[Option<u64>]) -> Result<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_setinputsizes(&mut self.store, cur.0, sizes))
    }

    pub fn setoutputsizes(&mut self, cur: Cur, size: u64, column: Option<u32>) -> Result<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_setoutputsizes(&mut self.store, cur.0, size, column))
    }

    pub fn dict_rownumber(&mut self, cur: DictCur) -> Result<Option<u64>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_rownumber(&mut self.store, cur.0))
    }

    pub fn dict_scroll(&mut self, cur: DictCur, value: i64, mode: ScrollMode) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_scroll(&mut self.store, cur.0, value, mode))
    }

    pub fn dict_setinputsizes(&mut self, cur: DictCur, sizes: &[Option<u64>]) -> Result<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_setinputsizes(&mut self.store, cur.0, sizes))
    }

    pub fn dict_setoutputsizes(&mut self, cur: DictCur, size: u64, column: Option<u32>) -> Result<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.dict_cursor().call_setoutputsizes(&mut self.store, cur.0, size, column))
    }
}

/// Prepared statement calls.
impl SyncSession {
    pub fn prepare(&mut self, c: Conn, sql: &str) -> Call<Stmt> {
        let api = self.driver.cymysql_aio_connection();
        Ok(block_on(api.connection().call_prepare(&mut self.store, c.0, sql))?.map(Stmt))
    }

    pub fn stmt_param_count(&mut self, s: Stmt) -> Result<u32> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.statement().call_param_count(&mut self.store, s.0))
    }

    pub fn stmt_description(&mut self, s: Stmt) -> Result<Vec<Column>> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.statement().call_description(&mut self.store, s.0))
    }

    pub fn stmt_execute(&mut self, s: Stmt, params: &[Value]) -> Call<Cur> {
        let api = self.driver.cymysql_aio_connection();
        Ok(block_on(api.statement().call_execute(&mut self.store, s.0, params))?.map(Cur))
    }

    pub fn stmt_ss_execute(&mut self, s: Stmt, params: &[Value]) -> Call<Cur> {
        let api = self.driver.cymysql_aio_connection();
        Ok(block_on(api.statement().call_ss_execute(&mut self.store, s.0, params))?.map(Cur))
    }

    pub fn stmt_open_cursor(&mut self, s: Stmt, params: &[Value], fetch_size: u32) -> Call<Cur> {
        let api = self.driver.cymysql_aio_connection();
        Ok(block_on(api.statement().call_open_cursor(&mut self.store, s.0, params, fetch_size))?.map(Cur))
    }

    pub fn stmt_executemany(&mut self, s: Stmt, seq: &[Vec<Value>]) -> Call<u64> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.statement().call_executemany(&mut self.store, s.0, seq))
    }

    pub fn stmt_reset(&mut self, s: Stmt) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.statement().call_reset(&mut self.store, s.0))
    }

    pub fn stmt_close(&mut self, s: Stmt) -> Call<()> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.statement().call_close(&mut self.store, s.0))
    }

    pub fn drop_stmt(&mut self, s: Stmt) -> Result<()> {
        block_on(s.0.resource_drop_async(&mut self.store))
    }

    pub fn execute_prepared(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<u64> {
        let api = self.driver.cymysql_aio_connection();
        block_on(api.cursor().call_execute_prepared(&mut self.store, cur.0, sql, params))
    }
}
