//! `host-test`: run SQL through the cymysql-wasi component, or run the demo.
//!
//!     host-test query --url mysql://user:pass@host:port/db [--dict] [--json] [--single-transaction] [--world async] "SQL" ...
//!     host-test demo
//!     host-test compose APP.wasm --plug DRIVER.wasm [--plug ...] -o OUT.wasm
//!     host-test run [--allow IP[:PORT]]... [--allow-any] [--env NAME=VALUE]... COMMAND.wasm [ARG ...]
//!     host-test serve [--listen IP:PORT] [--allow IP[:PORT]]... [--allow-any] [--env NAME=VALUE]... PROXY.wasm
//!
//! `query` behaves as the `mariadb` command-line client does where the two overlap: autocommit on,
//! errors printed as `ERROR 1064 (42000): ...`, server text escaped before it reaches the terminal.

use std::ffi::OsString;
use std::process::ExitCode;

use host_test::driver::{Call, Conn, ConnectOptions, DbError, Host, Sandbox, Session};
use host_test::render;

mod demo;
mod query_async;
mod tools;

const USAGE: &str = "\
usage:
  host-test query --url mysql://user:pass@host:port/db [options] [--] SQL [SQL ...]
  host-test demo
  host-test compose APP.wasm --plug DRIVER.wasm [--plug ...] -o OUT.wasm
  host-test run [--allow IP[:PORT]]... [--allow-any] [--env NAME=VALUE]... COMMAND.wasm [ARG ...]
  host-test serve [--listen IP:PORT] [--allow IP[:PORT]]... [--allow-any] [--env NAME=VALUE]... PROXY.wasm

compose plugs the exports of each --plug component into the app's imports, as `wac plug` does.
run runs a wasi:cli command component (WASI 0.2 or 0.3) as `wasmtime run -S inherit-network`
does, but lets it open TCP connections only to loopback and to the --allow addresses (--allow-any:
anywhere); its environment is only the --env variables. Its exit status is the command's.
serve serves a wasi:http/proxy component over HTTP/1.1 as `wasmtime serve -S inherit-network`
does, with the same network policy and environment, a fresh instance per request, on --listen
(default 127.0.0.1:8080; port 0 picks one). Its first line of output is `serving http://ADDR/`.

query runs each SQL argument through the component, in order, with autocommit on (each statement
is committed when it succeeds), as the mariadb client does. After a statement the server rejects,
the next ones still run; after a connection or client error, none do.

options:
  --url URL             where to connect (also --url=URL); the URL's own keys apply, and an
                        autocommit=... key there is honoured
  --json                one JSON object per result set (non-finite floats as \"Infinity\",
                        \"-Infinity\", \"NaN\"; null is SQL NULL)
  --dict                one {column: value} line per row
  --max-memory SIZE     the most linear memory the component instance may grow to (bytes, or with
                        a K, M or G suffix; default 1G); growth past it makes the guest trap
  --single-transaction  run every statement in one transaction: COMMIT after the last one; at the
                        first error, stop and ROLLBACK (statements that commit implicitly, such as
                        DDL, cannot be rolled back)
  --world driver|async  which component runs the statements: the WASI 0.2 `driver` world (default)
                        or the WASI 0.3 `driver-async` one, whose rows come through a stream
  --                    every argument after this one is SQL, even if it starts with --

exit status:
  0  every statement succeeded
  1  the server rejected a statement (SQL error: ERROR with a server code)
  2  usage error (unknown option, missing --url or SQL, an argument that is not UTF-8)
  3  connection or client error: could not connect (bad URL, refused, login denied), or a client
     error (CR_* code, lost connection, malformed reply, value out of range)
  4  guest trap: the component trapped (or its call failed inside wasmtime); the instance is lost
  5  the component could not be loaded or instantiated (build it with scripts/build-component)";

/// How a run ends, from least to most severe; the discriminant is the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Success = 0,
    /// The server rejected a statement with an ERR packet.
    SqlError = 1,
    /// Connecting failed, or the driver reported a client (`CR_*`) or other non-server error.
    ClientError = 3,
    /// A call into the component trapped or failed in the host: the instance cannot be used again.
    GuestTrap = 4,
    /// The component could not be loaded or instantiated.
    LoadError = 5,
}

/// Wrong arguments: exit status 2.
const USAGE_ERROR: u8 = 2;

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

fn main() -> ExitCode {
    let args = match utf8_args(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(why) => return usage_error(&why),
    };
    match args.first().map(String::as_str) {
        Some("query") => match QueryArgs::parse(&args[1..]) {
            Ok(Some(q)) => run_query(&q).into(),
            Ok(None) => help(),
            Err(why) => usage_error(&why),
        },
        Some("demo") => match demo::run() {
            Ok(code) => code,
            Err(e) => {
                eprintln!("ERROR: {}", render::terminal(&format!("{e:#}")));
                ExitCode::FAILURE
            }
        },
        Some("compose") => match tools::compose(&args[1..]) {
            Ok(code) => code,
            Err(why) => usage_error(&why),
        },
        Some("run") => match tools::run(&args[1..]) {
            Ok(code) => code,
            Err(why) => usage_error(&why),
        },
        Some("serve") => match tools::serve(&args[1..]) {
            Ok(code) => code,
            Err(why) => usage_error(&why),
        },
        Some("--help" | "-h" | "help") => help(),
        Some(other) => usage_error(&format!("unknown command '{}'", render::terminal(other))),
        None => usage_error("no command given"),
    }
}

fn help() -> ExitCode {
    println!("{USAGE}");
    ExitCode::SUCCESS
}

fn usage_error(why: &str) -> ExitCode {
    eprintln!("host-test: {why}\n{USAGE}");
    ExitCode::from(USAGE_ERROR)
}

/// The arguments as UTF-8, or which one is not: SQL, URLs and options are text, and guessing at
/// the bytes of a statement could run something other than what was typed.
fn utf8_args(args: impl Iterator<Item = OsString>) -> Result<Vec<String>, String> {
    args.enumerate()
        .map(|(i, a)| {
            a.into_string().map_err(|bad| {
                format!(
                    "argument {} is not valid UTF-8: {} (invalid bytes shown as U+FFFD)",
                    i + 1,
                    render::terminal(&render::cut(&bad.to_string_lossy(), render::MESSAGE_LIMIT))
                )
            })
        })
        .collect()
}

/// The arguments of `query`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct QueryArgs {
    url: String,
    dict: bool,
    json: bool,
    single_transaction: bool,
    /// `--max-memory`; None keeps the sandbox's default.
    max_memory: Option<usize>,
    /// `--world async`: the WASI 0.3 `driver-async` component instead of the 0.2 `driver` one.
    world_async: bool,
    statements: Vec<String>,
}

impl QueryArgs {
    /// The parsed arguments, None when help was asked for, or why they are wrong.
    fn parse(args: &[String]) -> Result<Option<QueryArgs>, String> {
        let mut q = QueryArgs::default();
        let mut url = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--url" => url = Some(it.next().ok_or("--url needs a value")?.clone()),
                "--dict" => q.dict = true,
                "--json" => q.json = true,
                "--single-transaction" => q.single_transaction = true,
                "--max-memory" => q.max_memory = Some(parse_size(it.next().ok_or("--max-memory needs a value")?)?),
                "--world" => match it.next().map(String::as_str) {
                    Some("driver" | "sync") => q.world_async = false,
                    Some("driver-async" | "async") => q.world_async = true,
                    _ => return Err("--world takes driver or async".into()),
                },
                "--help" | "-h" => return Ok(None),
                "--" => q.statements.extend(it.by_ref().cloned()),
                s if s.starts_with("--url=") => url = Some(s["--url=".len()..].to_string()),
                s if s.starts_with("--") => return Err(format!("unknown option '{}'", render::terminal(s))),
                s => q.statements.push(s.to_string()),
            }
        }
        q.url = url.ok_or("--url is required")?;
        if q.statements.is_empty() {
            return Err("no SQL given".into());
        }
        Ok(Some(q))
    }
}

impl QueryArgs {
    /// The component's default is cymysql's (autocommit off); a person at a command line expects
    /// the mariadb client's, where a statement that succeeded stays done.
    fn apply_autocommit(&self, options: &mut host_test::driver::ConnectOptions) {
        if self.single_transaction {
            options.autocommit = Some(false);
        } else if !url_sets(&self.url, "autocommit") {
            options.autocommit = Some(true);
        }
    }
}

/// A size in bytes: digits, optionally followed by K, M or G (powers of 1024).
fn parse_size(text: &str) -> Result<usize, String> {
    let (digits, shift) = match text.as_bytes().last() {
        Some(b'K' | b'k') => (&text[..text.len() - 1], 10),
        Some(b'M' | b'm') => (&text[..text.len() - 1], 20),
        Some(b'G' | b'g') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits.parse::<usize>().ok().and_then(|n| n.checked_mul(1 << shift)).filter(|&n| n > 0).ok_or_else(|| {
        format!("--max-memory takes a size in bytes such as 65536, 512K or 64M, not '{}'", render::terminal(text))
    })
}

/// Whether the query string of `url` names `key` (so the user chose its value).
fn url_sets(url: &str, key: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| query.split('&').any(|kv| kv.split('=').next() == Some(key)))
}

/// Whether a statement's error is the server rejecting it (an ER_* code from an ERR packet) rather
/// than a client failure (a CR_* code, 2000 to 2999, or no code at all).
pub(crate) fn status_of(e: &DbError) -> Status {
    match e.code {
        Some(code) if !(2000..3000).contains(&code) => Status::SqlError,
        _ => Status::ClientError,
    }
}

fn run_query(q: &QueryArgs) -> Status {
    if q.world_async {
        return match query_async::run(q) {
            Ok(status) => status,
            Err(e) => {
                eprintln!("{}", host_failure(&e));
                Status::GuestTrap
            }
        };
    }
    let host = match Host::load(&host_test::driver::component_path()) {
        Ok(host) => host,
        Err(e) => {
            eprintln!("ERROR: cannot load the component: {}", render::terminal(&format!("{e:#}")));
            return Status::LoadError;
        }
    };
    let mut sandbox = Sandbox { any_address: true, ..Sandbox::default() };
    if let Some(limit) = q.max_memory {
        sandbox.memory_limit = Some(limit);
    }
    let mut s = match host.instantiate(&sandbox) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ERROR: cannot instantiate the component: {}", render::terminal(&format!("{e:#}")));
            return Status::LoadError;
        }
    };
    match run_session(&mut s, q) {
        Ok(status) => status,
        Err(e) => {
            let e = anyhow::Error::from(e);
            eprintln!("{}", host_failure(&e));
            Status::GuestTrap
        }
    }
}

/// What is printed when a call into the component fails in wasmtime, which ends the instance: one
/// line saying so, then wasmtime's account (the guest's backtrace), each line escaped.
fn host_failure(e: &anyhow::Error) -> String {
    let what = match e.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("the component trapped ({trap})"),
        None => "a call into the component failed in the host".to_string(),
    };
    let detail: Vec<String> = format!("{e:#}").lines().map(render::terminal).collect();
    format!("ERROR: {what}; the instance is lost\n{}", detail.join("\n"))
}

/// What `query` needs of a component instance, whichever world it was built for.
trait CliSession {
    type Conn: Copy;
    fn options_from_url(&mut self, url: &str) -> Call<ConnectOptions>;
    fn connect(&mut self, options: &ConnectOptions) -> Call<Self::Conn>;
    /// Runs one statement and prints what it returned.
    fn run_statement(&mut self, conn: Self::Conn, sql: &str, q: &QueryArgs) -> Call<()>;
    fn commit(&mut self, conn: Self::Conn) -> Call<()>;
    fn rollback(&mut self, conn: Self::Conn) -> Call<()>;
    fn close(&mut self, conn: Self::Conn) -> Call<()>;
}

impl CliSession for Session {
    type Conn = Conn;
    fn options_from_url(&mut self, url: &str) -> Call<ConnectOptions> {
        Session::options_from_url(self, url)
    }
    fn connect(&mut self, options: &ConnectOptions) -> Call<Conn> {
        Session::connect(self, options)
    }
    fn run_statement(&mut self, conn: Conn, sql: &str, q: &QueryArgs) -> Call<()> {
        run_statement(self, conn, sql, q)
    }
    fn commit(&mut self, conn: Conn) -> Call<()> {
        Session::commit(self, conn)
    }
    fn rollback(&mut self, conn: Conn) -> Call<()> {
        Session::rollback(self, conn)
    }
    fn close(&mut self, conn: Conn) -> Call<()> {
        Session::close(self, conn)
    }
}

/// Connects, runs the statements and ends the transaction as asked. The outer error is a trap.
fn run_session<S: CliSession>(s: &mut S, q: &QueryArgs) -> wasmtime::Result<Status> {
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
        if let Err(e) = s.run_statement(conn, sql, q)? {
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

/// Runs one statement and prints each of its result sets.
fn run_statement(s: &mut Session, conn: Conn, sql: &str, q: &QueryArgs) -> wasmtime::Result<Result<(), DbError>> {
    let cur = s.cursor(conn)?;
    // After a trap the instance can do nothing more, dropping the cursor included: report the trap.
    let outcome = print_results(s, conn, cur, sql, q)?;
    s.drop_cursor(cur)?;
    Ok(outcome)
}

fn print_results(
    s: &mut Session,
    conn: Conn,
    cur: host_test::driver::Cur,
    sql: &str,
    q: &QueryArgs,
) -> wasmtime::Result<Result<(), DbError>> {
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
        print_result(columns.as_deref(), &rows, rowcount, lastrowid, warnings, q);
        match s.nextset(cur)? {
            Ok(true) => continue,
            Ok(false) => return Ok(Ok(())),
            Err(e) => return Ok(Err(e)),
        }
    }
}

/// Prints one result set (or the OK of a statement without one) as `q` asks.
fn print_result(
    columns: Option<&[host_test::driver::Column]>,
    rows: &[Vec<host_test::driver::Value>],
    rowcount: i64,
    lastrowid: Option<u64>,
    warnings: u16,
    q: &QueryArgs,
) {
    if q.json {
        println!("{}", render::json_result(columns.unwrap_or_default(), rows, rowcount, lastrowid, warnings));
    } else if let Some(cols) = columns {
        if q.dict {
            for row in rows {
                let pairs: Vec<String> = cols
                    .iter()
                    .zip(row)
                    .map(|(c, v)| format!("{}: {}", render::column_name(&c.name), render::terminal(&render::text(v))))
                    .collect();
                println!("{{{}}}", pairs.join(", "));
            }
        } else {
            print!("{}", render::table(cols, rows));
        }
        println!("{} row(s)", rows.len());
    } else {
        println!("OK, {rowcount} row(s) affected");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_test::driver::ErrorKind;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn query_arguments() {
        let q = QueryArgs::parse(&strings(&[
            "--url=mysql://h/",
            "--json",
            "--single-transaction",
            "--world",
            "async",
            "SELECT 1",
            "--",
            "--x",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            q,
            QueryArgs {
                url: "mysql://h/".into(),
                dict: false,
                json: true,
                single_transaction: true,
                max_memory: None,
                world_async: true,
                statements: strings(&["SELECT 1", "--x"]),
            }
        );
        assert_eq!(QueryArgs::parse(&strings(&["--url", "u", "--help"])), Ok(None));
        assert_eq!(QueryArgs::parse(&strings(&["--world", "p4"])), Err("--world takes driver or async".into()));
        assert_eq!(QueryArgs::parse(&strings(&["--url"])), Err("--url needs a value".into()));
        assert_eq!(QueryArgs::parse(&strings(&["SELECT 1"])), Err("--url is required".into()));
        assert_eq!(QueryArgs::parse(&strings(&["--url", "u"])), Err("no SQL given".into()));
        assert_eq!(QueryArgs::parse(&strings(&["--url", "u", "--\u{1b}x"])), Err("unknown option '--\\x1bx'".into()));
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        for bad in ["", "0", "M", "-1M", "1T", "1.5G", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        let q = QueryArgs::parse(&strings(&["--max-memory", "8M", "--url", "u", "DO 1"])).unwrap().unwrap();
        assert_eq!(q.max_memory, Some(8 << 20));
    }

    #[test]
    fn non_utf8_arguments_are_named() {
        use std::os::unix::ffi::OsStringExt;
        let args = vec![OsString::from("query"), OsString::from_vec(b"SELECT '\xff\x1b'".to_vec())];
        let why = utf8_args(args.into_iter()).unwrap_err();
        assert_eq!(why, "argument 2 is not valid UTF-8: SELECT '\u{fffd}\\x1b' (invalid bytes shown as U+FFFD)");
        assert_eq!(utf8_args([OsString::from("ż")].into_iter()), Ok(vec!["ż".to_string()]));
    }

    #[test]
    fn autocommit_chosen_in_the_url_is_seen() {
        assert!(url_sets("mysql://h/db?autocommit=false", "autocommit"));
        assert!(url_sets("mysql://h/db?charset=utf8mb4&autocommit=0", "autocommit"));
        assert!(!url_sets("mysql://h/db?init_command=SET%20autocommit%3D0", "autocommit"));
        assert!(!url_sets("mysql://autocommit@h/db", "autocommit"));
    }

    #[test]
    fn server_errors_and_client_errors_have_their_own_status() {
        let e = |code| DbError {
            kind: ErrorKind::Operational,
            code,
            sqlstate: None,
            message: String::new(),
            retryable: false,
        };
        assert_eq!(status_of(&e(Some(1064))), Status::SqlError);
        assert_eq!(status_of(&e(Some(4025))), Status::SqlError);
        assert_eq!(status_of(&e(Some(2013))), Status::ClientError);
        assert_eq!(status_of(&e(Some(2003))), Status::ClientError);
        assert_eq!(status_of(&e(None)), Status::ClientError);
        let codes: Vec<u8> =
            [Status::Success, Status::SqlError, Status::ClientError, Status::GuestTrap, Status::LoadError]
                .iter()
                .map(|s| *s as u8)
                .chain([USAGE_ERROR])
                .collect();
        assert_eq!(codes, [0, 1, 3, 4, 5, 2]);
    }

    /// A real trap from wasmtime, as a call into the component returns it: a core module whose only
    /// function executes `unreachable`, which is what a Rust guest's abort compiles to.
    #[test]
    fn a_wasmtime_trap_is_reported_as_one() {
        use wasmtime::{Engine, Instance, Module, Store};
        #[rustfmt::skip]
        let wasm: &[u8] = &[
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00,             // type section: () -> ()
            0x03, 0x02, 0x01, 0x00,                         // function section: one of type 0
            0x07, 0x05, 0x01, 0x01, b'f', 0x00, 0x00,       // export "f" = function 0
            0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b,       // code: no locals, unreachable, end
        ];
        let engine = Engine::default();
        let module = Module::new(&engine, wasm).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
        let e = anyhow::Error::from(f.call(&mut store, ()).unwrap_err());
        let line = host_failure(&e);
        let first =
            "ERROR: the component trapped (wasm trap: wasm `unreachable` instruction executed); the instance is lost\n";
        assert!(line.starts_with(first), "{line}");
        assert!(line.contains("<wasm function 0>"), "the guest's backtrace follows: {line}");
        let other = host_failure(&anyhow::anyhow!("resource has children"));
        assert!(other.starts_with("ERROR: a call into the component failed in the host"), "{other}");
    }
}
