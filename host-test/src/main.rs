//! `host-test`: run SQL through the cymysql-wasi component, or run the demo.
//!
//!     host-test query --url mysql://user:pass@host:port/db [--dict] [--json] [--world async] "SQL" ["SQL" ...]
//!     host-test demo

use std::process::ExitCode;

use anyhow::{bail, Result};
use host_test::driver::{Host, Sandbox, Session};
use host_test::render;

mod demo;
mod query_async;

fn usage() -> &'static str {
    "usage:\n  host-test query --url mysql://user:pass@host:port/db [--dict] [--json] [--world driver|async] SQL [SQL ...]\n  host-test demo"
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("query") => query(&args[1..]),
        Some("demo") => demo::run(),
        _ => {
            eprintln!("{}", usage());
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn query(args: &[String]) -> Result<ExitCode> {
    let mut url = None;
    let mut dict = false;
    let mut as_json = false;
    // Which component: the WASI 0.2 `driver` world, or the 0.3 `driver-async` one.
    let mut world_async = false;
    let mut statements = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--url" => url = it.next().cloned(),
            "--dict" => dict = true,
            "--json" => as_json = true,
            "--world" => match it.next().map(String::as_str) {
                Some("driver" | "sync") => world_async = false,
                Some("driver-async" | "async") => world_async = true,
                other => bail!("unknown world {other:?}: driver or async\n{}", usage()),
            },
            s if s.starts_with("--url=") => url = Some(s["--url=".len()..].to_string()),
            s if s.starts_with("--") => bail!("unknown option {s}\n{}", usage()),
            s => statements.push(s.to_string()),
        }
    }
    let Some(url) = url else { bail!("--url is required\n{}", usage()) };
    if statements.is_empty() {
        bail!("no SQL given\n{}", usage());
    }
    if world_async {
        return query_async::run(&url, &statements, dict, as_json);
    }
    let host = Host::load(&host_test::driver::component_path())?;
    let mut s = host.instantiate(&Sandbox { any_address: true, ..Sandbox::default() })?;
    let conn = match s.connect_url(&url)? {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", render::error(&e));
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut failed = false;
    for sql in &statements {
        if let Err(e) = run_statement(&mut s, conn, sql, dict, as_json)? {
            eprintln!("error: {}", render::error(&e));
            failed = true;
        }
    }
    let _ = s.close(conn)?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn run_statement(
    s: &mut Session,
    conn: host_test::driver::Conn,
    sql: &str,
    dict: bool,
    as_json: bool,
) -> Result<Result<(), host_test::driver::DbError>> {
    let cur = s.cursor(conn)?;
    if let Err(e) = s.execute(cur, sql, None)? {
        return Ok(Err(e));
    }
    loop {
        let columns = s.description(cur)?;
        let rows = match s.fetchall(cur)? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let rowcount = s.rowcount(cur)?;
        let lastrowid = s.lastrowid(cur)?;
        let warnings = s.warning_count(conn)?;
        if as_json {
            let cols = columns.clone().unwrap_or_default();
            println!("{}", render::json_result(&cols, &rows, rowcount, lastrowid, warnings));
        } else if let Some(cols) = &columns {
            if dict {
                for row in &rows {
                    let pairs: Vec<String> =
                        cols.iter().zip(row).map(|(c, v)| format!("{}: {}", c.name, render::text(v))).collect();
                    println!("{{{}}}", pairs.join(", "));
                }
            } else {
                print!("{}", render::table(cols, &rows));
            }
            println!("{} row(s)", rows.len());
        } else {
            println!("OK, {rowcount} row(s) affected");
        }
        match s.nextset(cur)? {
            Ok(true) => continue,
            Ok(false) => break,
            Err(e) => return Ok(Err(e)),
        }
    }
    s.drop_cursor(cur)?;
    Ok(Ok(()))
}
