//! `host-test query --world async`: the statements through the WASI 0.3 component, each one's rows
//! read from its `stream<row>` and its end from the future. Autocommit, `--single-transaction`,
//! error lines and exit statuses are those of the 0.2 path ([`super::run_session`]).

use anyhow::Result;
use host_test::driver::{Call, ConnectOptions, Sandbox};
use host_test::driver_async::{AsyncHost, AsyncSession, Conn};

use super::{print_result, run_session, CliSession, QueryArgs, Status};

/// Runs `q` through a new instance of the 0.3 component. The error is a trap or a component that
/// could not be loaded.
pub fn run(q: &QueryArgs) -> Result<Status> {
    let host = AsyncHost::load(&host_test::driver_async::component_path())?;
    let mut sandbox = Sandbox { any_address: true, ..Sandbox::default() };
    if let Some(limit) = q.max_memory {
        sandbox.memory_limit = Some(limit);
    }
    let mut s = host.instantiate(&sandbox)?;
    Ok(run_session(&mut s, q)?)
}

impl CliSession for AsyncSession {
    type Conn = Conn;
    fn options_from_url(&mut self, url: &str) -> Call<ConnectOptions> {
        AsyncSession::options_from_url(self, url)
    }
    fn connect(&mut self, options: &ConnectOptions) -> Call<Conn> {
        AsyncSession::connect(self, options)
    }
    /// Streams the statement's rows and prints them; rows that arrived before a failure are shown,
    /// then the failure.
    fn run_statement(&mut self, conn: Conn, sql: &str, q: &QueryArgs) -> Call<()> {
        let out = match self.query(conn, sql, None)? {
            Ok(out) => out,
            Err(e) => return Ok(Err(e)),
        };
        let has_result = !out.columns.is_empty();
        let (rowcount, lastrowid) = if has_result {
            (i64::try_from(out.rows.len()).unwrap_or(i64::MAX), None)
        } else {
            (i64::try_from(self.affected_rows(conn)?).unwrap_or(i64::MAX), Some(self.insert_id(conn)?))
        };
        let warnings = self.warning_count(conn)?;
        let columns = has_result.then_some(&out.columns[..]);
        print_result(columns, &out.rows, rowcount, lastrowid, warnings, q);
        Ok(out.end)
    }
    fn commit(&mut self, conn: Conn) -> Call<()> {
        AsyncSession::commit(self, conn)
    }
    fn rollback(&mut self, conn: Conn) -> Call<()> {
        AsyncSession::rollback(self, conn)
    }
    fn close(&mut self, conn: Conn) -> Call<()> {
        AsyncSession::close(self, conn)
    }
}
