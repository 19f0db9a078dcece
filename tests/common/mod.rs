//! Shared set-up of the integration tests: one throwaway MariaDB and one compiled component per
//! test binary, a fresh component instance per test.

#![allow(dead_code)]

pub mod peer;
pub mod pki;

use host_test::driver::{Conn, ConnectOptions, Cur, DbError, ErrorKind, Host, Sandbox, Session, Value};
use host_test::server::{self, TestServer};

pub fn server() -> &'static TestServer {
    server::shared()
}

/// A new instance of the component, allowed to reach loopback only.
pub fn session() -> Session {
    Host::shared().instantiate(&Sandbox::default()).expect("instantiate the component")
}

/// Options for the shared server's root user on database `test`, from the component's own URL parser.
pub fn options(s: &mut Session) -> ConnectOptions {
    s.options_from_url(&server().url("test")).expect("no trap").expect("valid url")
}

/// A connection to the shared server through the component.
pub fn connect(s: &mut Session) -> Conn {
    let o = options(s);
    s.connect(&o).expect("no trap").expect("connect")
}

/// Runs `sql` (no parameters) and returns every row; panics on error.
pub fn rows(s: &mut Session, c: Conn, sql: &str) -> Vec<Vec<Value>> {
    let cur = s.cursor(c).unwrap();
    s.execute(cur, sql, None).unwrap().unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let r = s.fetchall(cur).unwrap().unwrap();
    s.drop_cursor(cur).unwrap();
    r
}

/// Runs `sql` and returns its first value.
pub fn scalar(s: &mut Session, c: Conn, sql: &str) -> Value {
    rows(s, c, sql).into_iter().next().and_then(|r| r.into_iter().next()).unwrap_or_else(|| panic!("{sql}: no rows"))
}

/// Runs `sql` for its effect.
pub fn exec(s: &mut Session, c: Conn, sql: &str) -> u64 {
    let cur = s.cursor(c).unwrap();
    let n = s.execute(cur, sql, None).unwrap().unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    s.drop_cursor(cur).unwrap();
    n
}

/// Runs `sql` expecting the driver to fail; returns its error.
pub fn exec_err(s: &mut Session, cur: Cur, sql: &str) -> DbError {
    match s.execute(cur, sql, None).expect("no trap") {
        Ok(n) => panic!("{sql}: expected an error, got {n}"),
        Err(e) => e,
    }
}

/// A table name unique to this test, in database `test`, dropped first if it exists.
pub fn fresh_table(s: &mut Session, c: Conn, name: &str, columns: &str) -> String {
    exec(s, c, &format!("DROP TABLE IF EXISTS {name}"));
    exec(s, c, &format!("CREATE TABLE {name} ({columns})"));
    name.to_string()
}

pub fn text(v: &str) -> Value {
    Value::Text(v.to_string())
}

pub fn assert_kind(e: &DbError, kind: ErrorKind, code: Option<u16>) {
    assert_eq!(e.kind, kind, "{e:?}");
    if code.is_some() {
        assert_eq!(e.code, code, "{e:?}");
    }
}

/// Deterministic pseudo-random bytes (xorshift64*): every byte value likely present, and they do
/// not compress.
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One MySQL packet as a scripted peer writes it: 3-byte length, sequence id, payload.
pub fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = (payload.len() as u32).to_le_bytes()[..3].to_vec();
    p.push(seq);
    p.extend_from_slice(payload);
    p
}

/// Whether the shared server still lists session `thread_id`.
pub fn processlist_has(thread_id: u32) -> bool {
    let out = server()
        .admin_sql(&format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {thread_id}"))
        .unwrap();
    out.trim() != "0"
}

/// Whether session `thread_id` is running a statement whose text contains `fragment`.
pub fn processlist_running(thread_id: u32, fragment: &str) -> bool {
    let out = server()
        .admin_sql(&format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {thread_id} AND INFO LIKE '%{fragment}%'"
        ))
        .unwrap();
    out.trim() != "0"
}

/// Waits (bounded) for the server to notice a closed or killed session.
pub fn wait_gone(thread_id: u32) -> bool {
    for _ in 0..100 {
        if !processlist_has(thread_id) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// The command `app` composed with the 0.2 driver (wac's library, as `wac plug` does), written
/// beside it as `out` and loaded; `scripts/build-*` named in `built_by` makes the app.
pub fn compose_with_driver(app: &std::path::Path, out: &str, built_by: &str) -> host_test::command::CommandHost {
    let driver = host_test::driver::component_path();
    host_test::command::CommandHost::load(&composed_with(app, &driver, out, built_by)).expect("load the composed app")
}

/// `app` composed with the 0.2 driver, written beside it as `out`: the file's path.
pub fn composed_with_driver(app: &std::path::Path, out: &str, built_by: &str) -> std::path::PathBuf {
    composed_with(app, &host_test::driver::component_path(), out, built_by)
}

/// `app` composed with the component `driver`, written beside the app as `out`: the file's path.
pub fn composed_with(app: &std::path::Path, driver: &std::path::Path, out: &str, built_by: &str) -> std::path::PathBuf {
    let read = |path: &std::path::Path| {
        std::fs::read(path).unwrap_or_else(|e| panic!("{} (build it with {built_by}): {e}", path.display()))
    };
    let bytes = host_test::compose::plug(&read(app), &[&read(driver)]).expect("compose");
    let out = app.with_file_name(out);
    std::fs::write(&out, bytes).expect("write the composed app");
    out
}

/// `url` (`mysql://user:password@host/...`) with another password: a login the server refuses.
pub fn with_password(url: &str, password: &str) -> String {
    let (head, host) = url.split_once('@').expect("user:password@host");
    let (user, _) = head.rsplit_once(':').expect("user:password");
    format!("{user}:{password}@{host}")
}
