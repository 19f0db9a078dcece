//! `host-test query --world async`: the statements through the WASI 0.3 component, each one's rows
//! read from its `stream<row>` and its end from the future.

use std::process::ExitCode;

use anyhow::Result;
use host_test::driver::{Column, DbError, Sandbox, Value};
use host_test::driver_async::{AsyncHost, AsyncSession, Conn};
use host_test::render;

/// Connects to `url` and runs each statement, printing as the 0.2 path does.
pub fn run(url: &str, statements: &[String], dict: bool, as_json: bool) -> Result<ExitCode> {
    let host = AsyncHost::load(&host_test::driver_async::component_path())?;
    let mut s = host.instantiate(&Sandbox { any_address: true, ..Sandbox::default() })?;
    let conn = match s.options_from_url(url)? {
        Ok(o) => s.connect(&o)?,
        Err(e) => Err(e),
    };
    let conn = match conn {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", render::error(&e));
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut failed = false;
    for sql in statements {
        if let Err(e) = statement(&mut s, conn, sql, dict, as_json)? {
            eprintln!("error: {}", render::error(&e));
            failed = true;
        }
    }
    let _ = s.close(conn)?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn statement(s: &mut AsyncSession, conn: Conn, sql: &str, dict: bool, as_json: bool) -> Result<Result<(), DbError>> {
    let out = match s.query(conn, sql, None)? {
        Ok(out) => out,
        Err(e) => return Ok(Err(e)),
    };
    // Rows that arrived before a failure are shown, then the failure.
    let has_result = !out.columns.is_empty();
    let (rowcount, lastrowid) = if has_result {
        (out.rows.len() as i64, None)
    } else {
        (i64::try_from(s.affected_rows(conn)?).unwrap_or(i64::MAX), Some(s.insert_id(conn)?))
    };
    let warnings = s.warning_count(conn)?;
    print(&out.columns, &out.rows, has_result, rowcount, lastrowid, warnings, dict, as_json);
    Ok(out.end)
}

#[allow(clippy::too_many_arguments)]
fn print(
    columns: &[Column],
    rows: &[Vec<Value>],
    has_result: bool,
    rowcount: i64,
    lastrowid: Option<u64>,
    warnings: u16,
    dict: bool,
    as_json: bool,
) {
    if as_json {
        println!("{}", render::json_result(columns, rows, rowcount, lastrowid, warnings));
    } else if has_result {
        if dict {
            for row in rows {
                let pairs: Vec<String> =
                    columns.iter().zip(row).map(|(c, v)| format!("{}: {}", c.name, render::text(v))).collect();
                println!("{{{}}}", pairs.join(", "));
            }
        } else {
            print!("{}", render::table(columns, rows));
        }
        println!("{} row(s)", rows.len());
    } else {
        println!("OK, {rowcount} row(s) affected");
    }
}
