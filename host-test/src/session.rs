//! One component instance of either world behind one API, so the integration tests run unchanged
//! against the 0.2 `driver` component and the 0.3 `driver-async` one.

use wasmtime::Result;

use crate::driver::{
    AnyCur, Call, Column, ColumnBatch, Conn, ConnectOptions, Cur, DbError, DictCur, DictRow, Event, Params,
    PoolCounters, PoolHandle, PoolMetrics, PoolOptions, ScrollMode, Statement, StatementResult, Stmt, SyncSession,
    Value, Warning,
};
use crate::driver_async::AsyncSession;

/// Which of the two components a host loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    /// WASI 0.2, world `driver`: synchronous calls.
    Driver,
    /// WASI 0.3, world `driver-async`: `async func` calls.
    Async,
}

impl World {
    /// The world named by `CYMYSQL_WORLD` (`driver`, the default, or `async`): `scripts/test` runs the
    /// integration tests once with each.
    pub fn from_env() -> World {
        match std::env::var("CYMYSQL_WORLD").as_deref() {
            Ok("async") => World::Async,
            Ok("driver") | Ok("") | Err(_) => World::Driver,
            Ok(other) => panic!("CYMYSQL_WORLD={other}: expected driver or async"),
        }
    }
}

/// One instance of the component of either world; handles belong to it.
pub enum Session {
    Sync(SyncSession),
    Async(AsyncSession),
}

/// Each call goes to the instance's own session type, which has it under the same name and signature.
macro_rules! each_world {
    ($(fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        impl Session {
            $(
                pub fn $name(&mut self $(, $arg: $ty)*) -> $ret {
                    match self {
                        Session::Sync(s) => s.$name($($arg),*),
                        Session::Async(s) => s.$name($($arg),*),
                    }
                }
            )*
        }
    };
}

impl Session {
    pub fn world(&self) -> World {
        match self {
            Session::Sync(_) => World::Driver,
            Session::Async(_) => World::Async,
        }
    }

    /// The largest linear memory of the guest so far, in bytes.
    pub fn peak_memory(&self) -> usize {
        match self {
            Session::Sync(s) => s.peak_memory(),
            Session::Async(s) => s.peak_memory(),
        }
    }

    /// How many times the guest asked to grow its memory past the sandbox's limit and was refused.
    pub fn refused_growths(&self) -> usize {
        match self {
            Session::Sync(s) => s.refused_growths(),
            Session::Async(s) => s.refused_growths(),
        }
    }
}

each_world! {
    fn default_options(&mut self) -> Result<ConnectOptions>;
    fn options_from_url(&mut self, url: &str) -> Call<ConnectOptions>;
    fn connect(&mut self, options: &ConnectOptions) -> Call<Conn>;
    fn connect_url(&mut self, url: &str) -> Call<Conn>;
    fn cursor(&mut self, c: Conn) -> Result<Cur>;
    fn ss_cursor(&mut self, c: Conn) -> Result<Cur>;
    fn dict_cursor(&mut self, c: Conn) -> Result<DictCur>;
    fn ss_dict_cursor(&mut self, c: Conn) -> Result<DictCur>;
    fn commit(&mut self, c: Conn) -> Call<()>;
    fn rollback(&mut self, c: Conn) -> Call<()>;
    fn autocommit(&mut self, c: Conn, on: bool) -> Call<()>;
    fn get_autocommit(&mut self, c: Conn) -> Result<bool>;
    fn ping(&mut self, c: Conn, reconnect: bool) -> Call<()>;
    fn set_charset(&mut self, c: Conn, charset: &str) -> Call<()>;
    fn select_db(&mut self, c: Conn, db: &str) -> Call<()>;
    fn close(&mut self, c: Conn) -> Call<()>;
    fn ensure_closed(&mut self, c: Conn) -> Result<()>;
    fn is_open(&mut self, c: Conn) -> Result<bool>;
    fn server_version(&mut self, c: Conn) -> Result<String>;
    fn thread_id(&mut self, c: Conn) -> Result<u32>;
    fn compression(&mut self, c: Conn) -> Result<Option<String>>;
    fn insert_id(&mut self, c: Conn) -> Result<u64>;
    fn affected_rows(&mut self, c: Conn) -> Result<u64>;
    fn warning_count(&mut self, c: Conn) -> Result<u16>;
    fn in_transaction(&mut self, c: Conn) -> Result<bool>;
    fn escape_string(&mut self, c: Conn, s: &str) -> Result<String>;
    fn begin(&mut self, c: Conn) -> Call<()>;
    fn kill(&mut self, c: Conn, thread_id: u64) -> Call<()>;
    fn show_warnings(&mut self, c: Conn) -> Call<Vec<Warning>>;
    fn get_host_info(&mut self, c: Conn) -> Result<String>;
    fn get_proto_info(&mut self, c: Conn) -> Result<u8>;
    fn get_server_info(&mut self, c: Conn) -> Result<String>;
    fn character_set_name(&mut self, c: Conn) -> Result<String>;
    fn mogrify(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<String>;
    fn execute(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<u64>;
    fn executemany(&mut self, cur: Cur, sql: &str, seq: &[Params]) -> Call<u64>;
    fn fetchone(&mut self, cur: Cur) -> Call<Option<Vec<Value>>>;
    fn fetchmany(&mut self, cur: Cur, size: Option<u32>) -> Call<Vec<Vec<Value>>>;
    fn fetchall(&mut self, cur: Cur) -> Call<Vec<Vec<Value>>>;
    fn fetch_columns(&mut self, cur: Cur, size: Option<u32>) -> Call<ColumnBatch>;
    fn nextset(&mut self, cur: Cur) -> Call<bool>;
    fn callproc(&mut self, cur: Cur, procname: &str, args: &[Value]) -> Call<Vec<Value>>;
    fn description(&mut self, cur: Cur) -> Result<Option<Vec<Column>>>;
    fn rowcount(&mut self, cur: Cur) -> Result<i64>;
    fn lastrowid(&mut self, cur: Cur) -> Result<Option<u64>>;
    fn set_arraysize(&mut self, cur: Cur, n: u32) -> Result<()>;
    fn set_statement_timeout(&mut self, cur: Cur, seconds: Option<f64>) -> Call<()>;
    fn close_cursor(&mut self, cur: Cur) -> Call<()>;
    fn dict_execute(&mut self, cur: DictCur, sql: &str, params: Option<&Params>) -> Call<u64>;
    fn dict_fetchone(&mut self, cur: DictCur) -> Call<Option<DictRow>>;
    fn dict_fetchmany(&mut self, cur: DictCur, size: Option<u32>) -> Call<Vec<DictRow>>;
    fn dict_fetchall(&mut self, cur: DictCur) -> Call<Vec<DictRow>>;
    fn dict_description(&mut self, cur: DictCur) -> Result<Option<Vec<Column>>>;
    fn dict_rowcount(&mut self, cur: DictCur) -> Result<i64>;
    fn drop_conn(&mut self, c: Conn) -> Result<()>;
    fn drop_cursor(&mut self, c: Cur) -> Result<()>;
    fn default_pool_options(&mut self) -> Result<PoolOptions>;
    fn create_pool(&mut self, o: &ConnectOptions, minsize: u32, maxsize: u32, recycle: Option<f64>) -> Call<PoolHandle>;
    fn create_pool_with(&mut self, o: &ConnectOptions, settings: &PoolOptions) -> Call<PoolHandle>;
    fn acquire(&mut self, p: PoolHandle) -> Call<Conn>;
    fn release(&mut self, p: PoolHandle, c: Conn) -> Result<()>;
    fn pool_size(&mut self, p: PoolHandle) -> Result<(u32, u32, u32, u32)>;
    fn pool_counters(&mut self, p: PoolHandle) -> Result<PoolCounters>;
    fn pool_close(&mut self, p: PoolHandle) -> Result<()>;
    fn pool_wait_closed(&mut self, p: PoolHandle) -> Call<()>;
    fn pool_terminate(&mut self, p: PoolHandle) -> Result<()>;
    fn pool_clear(&mut self, p: PoolHandle) -> Result<()>;
    fn gather(&mut self, p: PoolHandle, tasks: &[Vec<Statement>]) -> Result<Vec<Result<Vec<StatementResult>, DbError>>>;
    fn arraysize(&mut self, cur: Cur) -> Result<u32>;
    fn dict_nextset(&mut self, cur: DictCur) -> Call<bool>;
    fn dict_callproc(&mut self, cur: DictCur, procname: &str, args: &[Value]) -> Call<Vec<Value>>;
}

each_world! {
    fn prepare(&mut self, c: Conn, sql: &str) -> Call<Stmt>;
    fn stmt_param_count(&mut self, s: Stmt) -> Result<u32>;
    fn stmt_description(&mut self, s: Stmt) -> Result<Vec<Column>>;
    fn stmt_execute(&mut self, s: Stmt, params: &[Value]) -> Call<Cur>;
    fn stmt_ss_execute(&mut self, s: Stmt, params: &[Value]) -> Call<Cur>;
    fn stmt_open_cursor(&mut self, s: Stmt, params: &[Value], fetch_size: u32) -> Call<Cur>;
    fn stmt_executemany(&mut self, s: Stmt, seq: &[Vec<Value>]) -> Call<u64>;
    fn stmt_reset(&mut self, s: Stmt) -> Call<()>;
    fn stmt_close(&mut self, s: Stmt) -> Call<()>;
    fn drop_stmt(&mut self, s: Stmt) -> Result<()>;
    fn execute_prepared(&mut self, cur: Cur, sql: &str, params: Option<&Params>) -> Call<u64>;
}

each_world! {
    fn take_events(&mut self, c: Conn) -> Result<Vec<Event>>;
    fn pool_metrics(&mut self, p: PoolHandle) -> Result<PoolMetrics>;
    fn pool_take_events(&mut self, p: PoolHandle) -> Result<Vec<Event>>;
    fn default_cursor(&mut self, c: Conn) -> Result<AnyCur>;
    fn rownumber(&mut self, cur: Cur) -> Result<Option<u64>>;
    fn scroll(&mut self, cur: Cur, value: i64, mode: ScrollMode) -> Call<()>;
    fn setinputsizes(&mut self, cur: Cur, sizes: &[Option<u64>]) -> Result<()>;
    fn setoutputsizes(&mut self, cur: Cur, size: u64, column: Option<u32>) -> Result<()>;
    fn dict_rownumber(&mut self, cur: DictCur) -> Result<Option<u64>>;
    fn dict_scroll(&mut self, cur: DictCur, value: i64, mode: ScrollMode) -> Call<()>;
    fn dict_setinputsizes(&mut self, cur: DictCur, sizes: &[Option<u64>]) -> Result<()>;
    fn dict_setoutputsizes(&mut self, cur: DictCur, size: u64, column: Option<u32>) -> Result<()>;
}
