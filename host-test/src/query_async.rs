//! `host-test query --world async`: the statements through the WASI 0.3 component, each one's rows
//! read from its `stream<row>` and its end from the future. Autocommit, `--single-transaction`,
//! error lines and exit statuses are those of the 0.2 path.

use anyhow::Result;
use host_test::driver::{DbError, Sandbox};
use host_test::driver_async::{AsyncHost, AsyncSession, Conn};
use host_test::render;

use super::{print_result, status_of, QueryArgs, Status};

/// Connects, runs the statements and ends the transaction as asked. The error is a trap or a
/// component that could not be loaded.
pub fn run(q: &QueryArgs) -> Result<Status> {
    let host = AsyncHost::load(&host_test::driver_async::component_path())?;
    let mut sandbox = Sandbox { any_address: true, ..Sandbox::default() };
    if let Some(limit) = q.max_memory {
        sandbox.memory_limit = Some(limit);
    }
    let mut s = host.instantiate(&sandbox)?;
    let mut options = match s.options_from_url(&q.url)? {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{}", render::error(&e));
            return Ok(Status::ClientError);
        }
    };
    q.apply_autocommit(&mut options);
    let conn = match s.connect(&options)? {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", render::error(&e));
            return Ok(Status::ClientError);
        }
    };
    let mut status = Status::Success;
    for sql in &q.statements {
        if let Err(e) = statement(&mut s, conn, sql, q)? {
            eprintln!("{}", render::error(&e));
            let failure = status_of(&e);
            status = status.max(failure);
            if q.single_transaction || failure != Status::SqlError {
                break;
            }
        }
    }
    if q.single_transaction {
        if status == Status::Success {
            if let Err(e) = s.commit(conn)? {
                eprintln!("{}", render::error(&e));
                status = status_of(&e);
            }
        } else {
            match s.rollback(conn)? {
                Ok(()) => eprintln!("ROLLBACK: the transaction was rolled back; none of its statements were committed"),
                Err(e) => eprintln!("{} (while rolling back)", render::error(&e)),
            }
        }
    }
    let _ = s.close(conn)?;
    Ok(status)
}

/// Streams one statement's rows and prints them; rows that arrived before a failure are shown,
/// then the failure.
fn statement(s: &mut AsyncSession, conn: Conn, sql: &str, q: &QueryArgs) -> Result<Result<(), DbError>> {
    let out = match s.query(conn, sql, None)? {
        Ok(out) => out,
        Err(e) => return Ok(Err(e)),
    };
    let has_result = !out.columns.is_empty();
    let (rowcount, lastrowid) = if has_result {
        (i64::try_from(out.rows.len()).unwrap_or(i64::MAX), None)
    } else {
        (i64::try_from(s.affected_rows(conn)?).unwrap_or(i64::MAX), Some(s.insert_id(conn)?))
    };
    let warnings = s.warning_count(conn)?;
    let columns = has_result.then_some(&out.columns[..]);
    print_result(columns, &out.rows, rowcount, lastrowid, warnings, q);
    Ok(out.end)
}
