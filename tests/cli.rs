//! The `host-test` command-line tool, run as a user runs it: `query` against the shared server
//! with and without `--json` and `--dict`, autocommit and `--single-transaction` checked from a
//! second connection, its failures and exit statuses, and `demo`. What MariaDB cannot send
//! (non-finite floats, control characters and megabytes of text in names and errors, a connection
//! dropped on cue) comes from a scripted peer (tests/common/peer.rs).

use crate::common;

use std::ffi::OsStr;
use std::process::{Command, Output};

use common::peer::{self, scripted};
use common::server;
use serde_json::{json, Value as Json};

/// Exit statuses, as `host-test --help` documents them.
const SQL_ERROR: i32 = 1;
const USAGE_ERROR: i32 = 2;
const CLIENT_ERROR: i32 = 3;
const GUEST_TRAP: i32 = 4;

/// Runs the built `host-test` binary with `args`.
fn run(args: &[&str]) -> Output {
    run_os(&args.iter().map(OsStr::new).collect::<Vec<_>>())
}

fn run_os(args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_host-test")).args(args).output().expect("run host-test")
}

/// Runs `query --url <shared server> [flags] SQL...` and returns the output.
fn query(flags: &[&str], statements: &[&str]) -> Output {
    let url = server().url("test");
    let mut args = vec!["query", "--url", url.as_str()];
    args.extend_from_slice(flags);
    args.extend_from_slice(statements);
    run(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the statements with `--json`, expects success and returns one parsed line per result.
fn json_results(statements: &[&str]) -> Vec<Json> {
    let o = query(&["--json"], statements);
    assert!(o.status.success(), "exit {:?}; stderr: {}", o.status, stderr(&o));
    stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// (name, type) of each column of a `--json` result.
fn columns(result: &Json) -> Vec<(String, String)> {
    result["columns"]
        .as_array()
        .expect("columns array")
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["type"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn json_values_of_every_kind() {
    let sql = "SELECT CAST(18446744073709551615 AS UNSIGNED) AS u, -9223372036854775808 AS i, \
               CAST('12345678901234567890.123456789' AS DECIMAL(30,9)) AS d, X'00FF7F' AS b, \
               CAST('2024-02-29 23:59:59.999999' AS DATETIME(6)) AS dt, CAST('-838:59:59' AS TIME) AS t, \
               CAST('-00:00:00.5' AS TIME(1)) AS t1, NULL AS n, 'żółw \"😀\"\\n' AS s, DATE '2024-01-31' AS dd, \
               0.5e0 AS f";
    let results = json_results(&[sql]);
    assert_eq!(results.len(), 1);
    let r = &results[0];
    let expected_columns = [
        ("u", "LONGLONG"),
        ("i", "LONGLONG"),
        ("d", "NEWDECIMAL"),
        ("b", "VAR_STRING"),
        ("dt", "DATETIME"),
        ("t", "TIME"),
        ("t1", "TIME"),
        ("n", "NULL"),
        ("s", "VAR_STRING"),
        ("dd", "DATE"),
        ("f", "DOUBLE"),
    ];
    assert_eq!(columns(r), expected_columns.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect::<Vec<_>>());
    let row = &r["rows"][0];
    // The exact number, not a float approximation of it.
    assert_eq!(row[0].as_u64(), Some(u64::MAX), "{row}");
    assert_eq!(row[0].to_string(), "18446744073709551615");
    assert_eq!(row[1].as_i64(), Some(i64::MIN), "{row}");
    assert_eq!(row[2], json!("12345678901234567890.123456789"));
    assert_eq!(row[3], json!({"bytes": "00ff7f"}));
    assert_eq!(row[4], json!("2024-02-29 23:59:59.999999"));
    assert_eq!(row[5], json!("-838:59:59"));
    assert_eq!(row[6], json!("-00:00:00.500000"));
    assert_eq!(row[7], Json::Null);
    assert_eq!(row[8], json!("żółw \"😀\"\n"));
    assert_eq!(row[9], json!("2024-01-31"));
    assert_eq!(row[10].as_f64(), Some(0.5));
    assert_eq!(r["rows"].as_array().unwrap().len(), 1);
    assert_eq!(r["rowcount"], json!(1));
    assert_eq!(r["warnings"], json!(0));
}

#[test]
fn json_one_line_per_statement_with_rowcount_lastrowid_and_warnings() {
    let results = json_results(&[
        "DROP TABLE IF EXISTS cli_inserts",
        "CREATE TABLE cli_inserts (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10)) AUTO_INCREMENT = 41",
        "INSERT INTO cli_inserts (v) VALUES ('a'), ('b'), ('c')",
        "SELECT id, v FROM cli_inserts ORDER BY id",
        "SELECT CAST('abc' AS INT) AS bad",
        "UPDATE cli_inserts SET v = 'z' WHERE id > 41",
    ]);
    assert_eq!(results.len(), 6, "{results:?}");
    for r in &results[..3] {
        assert_eq!(r["columns"], json!([]), "{r}");
        assert_eq!(r["rows"], json!([]), "{r}");
    }
    let insert = &results[2];
    assert_eq!(insert["rowcount"], json!(3), "{insert}");
    // LAST_INSERT_ID() is the first id of a multi-row INSERT.
    assert_eq!(insert["lastrowid"], json!(41), "{insert}");
    assert_eq!(insert["warnings"], json!(0), "{insert}");

    let select = &results[3];
    assert_eq!(columns(select), vec![("id".into(), "LONG".into()), ("v".into(), "VAR_STRING".into())]);
    assert_eq!(select["rows"], json!([[41, "a"], [42, "b"], [43, "c"]]));
    assert_eq!(select["rowcount"], json!(3));

    let warned = &results[4];
    assert_eq!(warned["rows"], json!([[0]]), "{warned}");
    assert_eq!(warned["warnings"], json!(1), "{warned}");

    let update = &results[5];
    assert_eq!(update["rowcount"], json!(2), "{update}");
    assert_eq!(update["warnings"], json!(0), "{update}");
}

#[test]
fn table_output_has_header_values_and_row_count() {
    let o = query(&[], &["SELECT 1 AS one, 'hello' AS greeting, NULL AS nothing", "DO 1"]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        vec![
            "+-----+----------+---------+",
            "| one | greeting | nothing |",
            "+-----+----------+---------+",
            "| 1   | hello    | NULL    |",
            "+-----+----------+---------+",
            "1 row(s)",
            "OK, 0 row(s) affected",
        ],
        "{out}"
    );
}

#[test]
fn dict_output_names_every_value() {
    let o = query(&["--dict"], &["SELECT 1 AS one, 'hello' AS greeting UNION ALL SELECT 2, 'bye'"]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "{one: 1, greeting: hello}\n{one: 2, greeting: bye}\n2 row(s)\n");
}

#[test]
fn failing_statement_exits_non_zero_and_the_others_still_run() {
    let o = query(&["--json"], &["SELECT * FROM cli_no_such_table", "SELECT 2 AS two"]);
    assert_eq!(o.status.code(), Some(SQL_ERROR), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err, "ERROR 1146 (42S02): Table 'test.cli_no_such_table' doesn't exist\n");
    let out = stdout(&o);
    let lines: Vec<Json> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["rows"], json!([[2]]));
}

#[test]
fn wrong_password_fails_without_showing_it() {
    let srv = server();
    let secret = "Wr0ngButSecretPw42";
    let url = format!("mysql://root:{secret}@127.0.0.1:{}/test", srv.port);
    let o = run(&["query", "--url", &url, "SELECT 1"]);
    assert_eq!(o.status.code(), Some(CLIENT_ERROR), "a refused login is a connection error");
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.starts_with("ERROR 1045 (28000): Access denied for user 'root'@"), "{err}");
    assert!(!err.contains(secret), "password leaked: {err}");
    assert!(!err.contains(&srv.root_password), "the real password leaked: {err}");
}

#[test]
fn bad_urls_fail_without_showing_the_password() {
    let port = server().port;
    let secret = "Hunter2SecretPw";
    for url in [
        "not a url".to_string(),
        format!("postgres://root:{secret}@127.0.0.1:{port}/test"),
        format!("mysql://root:{secret}@127.0.0.1:99999/test"),
        format!("mysql://root:{secret}@127.0.0.1:{port}/test?no_such_option=1"),
    ] {
        let o = run(&["query", "--url", &url, "SELECT 1"]);
        assert_eq!(o.status.code(), Some(CLIENT_ERROR), "{url}");
        assert!(o.stdout.is_empty(), "{url}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.starts_with("ERROR"), "{url}: {err}");
        assert!(!err.contains(secret), "password leaked for {url}: {err}");
    }
}

#[test]
fn usage_errors() {
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(USAGE_ERROR));
    assert!(stderr(&o).contains("usage:"), "{}", stderr(&o));
    let o = run(&["query", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(USAGE_ERROR));
    assert!(stderr(&o).starts_with("host-test: --url is required\n"), "{}", stderr(&o));
    let url = server().url("test");
    let o = run(&["query", "--url", &url]);
    assert_eq!(o.status.code(), Some(USAGE_ERROR));
    assert!(stderr(&o).starts_with("host-test: no SQL given\n"), "{}", stderr(&o));
    let o = run(&["query", "--url", &url, "--autocommit", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(USAGE_ERROR));
    assert!(stderr(&o).starts_with("host-test: unknown option '--autocommit'\n"), "{}", stderr(&o));
}

#[test]
fn help_documents_the_flags_and_exit_statuses() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for needle in ["--single-transaction", "autocommit on", "exit status:", "1  the server rejected", "4  guest trap"] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    assert_eq!(stdout(&run(&["query", "--help"])), help);
}

/// An argument that is not UTF-8 is a usage error naming it, not a panic (exit 101, backtrace).
#[test]
fn a_non_utf8_argument_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let url = server().url("test");
    let bad = OsStr::from_bytes(b"SELECT '\xff\xfe'");
    let o = run_os(&[OsStr::new("query"), OsStr::new("--url"), OsStr::new(&url), bad]);
    assert_eq!(o.status.code(), Some(USAGE_ERROR));
    let err = stderr(&o);
    assert!(err.starts_with("host-test: argument 4 is not valid UTF-8: SELECT '\u{fffd}\u{fffd}'"), "{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
    assert!(o.stdout.is_empty());
}

/// Rows `SELECT v FROM test.<table>` holds, read by the server's own client (a second connection).
fn rows_seen_by_another_connection(table: &str) -> Vec<String> {
    let out = server().admin_sql(&format!("SELECT v FROM test.{table} ORDER BY v")).unwrap();
    out.lines().map(str::to_string).collect()
}

fn fresh_table(table: &str) {
    server()
        .admin_sql(&format!(
            "DROP TABLE IF EXISTS test.{table}; CREATE TABLE test.{table} (v VARCHAR(10)) ENGINE=InnoDB"
        ))
        .unwrap();
}

/// As in the `mariadb` client, a statement that succeeded stays done: autocommit is on.
#[test]
fn writes_persist_with_autocommit_on_by_default() {
    // Both worlds' components go through the same CLI session rules.
    for world in ["driver", "async"] {
        let table = format!("cli_autocommit_{world}");
        fresh_table(&table);
        let insert = format!("INSERT INTO {table} VALUES ('a'), ('b')");
        let o = query(&["--world", world], &[&insert, "SELECT @@autocommit AS ac"]);
        assert!(o.status.success(), "{world}: {}", stderr(&o));
        assert!(stdout(&o).starts_with("OK, 2 row(s) affected\n"), "{world}: {}", stdout(&o));
        assert!(stdout(&o).contains("| 1  |"), "{world}: {}", stdout(&o));
        assert_eq!(rows_seen_by_another_connection(&table), ["a", "b"], "{world}");

        // A statement the server rejects does not undo the ones before it.
        let insert = format!("INSERT INTO {table} VALUES ('c')");
        let o = query(&["--world", world], &[&insert, "INSERT INTO cli_no_such_table VALUES (1)"]);
        assert_eq!(o.status.code(), Some(SQL_ERROR), "{world}");
        assert_eq!(rows_seen_by_another_connection(&table), ["a", "b", "c"], "{world}");
    }
}

/// The URL's own `autocommit` key is honoured: the user asked for it.
#[test]
fn autocommit_off_in_the_url_is_honoured() {
    fresh_table("cli_url_autocommit");
    let url = format!("{}?autocommit=false", server().url("test"));
    let o = run(&["query", "--url", &url, "INSERT INTO cli_url_autocommit VALUES ('x')", "SELECT @@autocommit AS ac"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("| 0  |"), "{}", stdout(&o));
    assert!(rows_seen_by_another_connection("cli_url_autocommit").is_empty());
}

#[test]
fn single_transaction_commits_at_the_end() {
    fresh_table("cli_single_ok");
    let o = query(
        &["--single-transaction"],
        &[
            "INSERT INTO cli_single_ok VALUES ('a')",
            "INSERT INTO cli_single_ok VALUES ('b')",
            "SELECT @@autocommit AS ac",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("| 0  |"), "{}", stdout(&o));
    assert_eq!(rows_seen_by_another_connection("cli_single_ok"), ["a", "b"]);
}

#[test]
fn single_transaction_rolls_back_and_stops_at_the_first_error() {
    fresh_table("cli_single_err");
    let o = query(
        &["--single-transaction"],
        &[
            "INSERT INTO cli_single_err VALUES ('a')",
            "INSERT INTO cli_no_such_table VALUES (1)",
            "INSERT INTO cli_single_err VALUES ('b')",
        ],
    );
    assert_eq!(o.status.code(), Some(SQL_ERROR));
    let err = stderr(&o);
    assert!(err.starts_with("ERROR 1146 (42S02): Table 'test.cli_no_such_table' doesn't exist\nROLLBACK"), "{err}");
    // The statement after the error never ran.
    assert_eq!(stdout(&o), "OK, 1 row(s) affected\n");
    assert!(rows_seen_by_another_connection("cli_single_err").is_empty());
}

#[test]
fn refused_connection_prints_its_client_error_code() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let o = run(&["query", "--url", &format!("mysql://root@127.0.0.1:{port}/"), "SELECT 1"]);
    assert_eq!(o.status.code(), Some(CLIENT_ERROR));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("ERROR 2003 (HY000): Can't connect to MySQL server on '127.0.0.1:{port}'")),
        "{err}"
    );
}

/// A real guest trap: the host refuses to grow the instance's memory past `--max-memory`, with the
/// component's own result cap raised out of the way, and the guest's allocator aborts.
#[test]
fn a_guest_trap_has_its_own_exit_status() {
    let url = format!("{}?max_result_bytes=1G", server().url("test"));
    let nulls = format!("SELECT {} FROM seq_1_to_100000", vec!["NULL"; 64].join(","));
    let o = run(&["query", "--max-memory", "64M", "--url", &url, "SELECT 1 AS before_the_trap", &nulls, "SELECT 2"]);
    assert_eq!(o.status.code(), Some(GUEST_TRAP), "{}", stderr(&o));
    let err = stderr(&o);
    let line = err.lines().find(|l| l.starts_with("ERROR")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.starts_with("ERROR: the component trapped (wasm trap: "), "{err}");
    assert!(line.ends_with("the instance is lost"), "{err}");
    assert!(stdout(&o).contains("before_the_trap"), "{}", stdout(&o));
    // With the component's cap under the host's limit, the same statement is a client error.
    let url = format!("{}?max_result_bytes=16M", server().url("test"));
    let o = run(&["query", "--max-memory", "64M", "--url", &url, &nulls]);
    assert_eq!(o.status.code(), Some(CLIENT_ERROR), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("ERROR 2008 (HY000): "), "{}", stderr(&o));
}

/// Everything a terminal would act on: C0 controls other than the line feeds between lines, DEL,
/// C1 controls.
fn has_raw_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

/// A hostile server's text in column names, cells and an error message reaches the terminal
/// escaped, and a 5000-character message is cut. MariaDB never sends such bytes: a scripted peer.
#[test]
fn server_text_is_escaped_and_long_messages_are_cut() {
    for flags in [&[][..], &["--dict"][..]] {
        let (port, peer) = scripted(|p| {
            p.login();
            p.serve(|sql| match sql {
                "SELECT evil" => Some(peer::result_set(
                    &[("a\u{1b}[2Jb", 253)],
                    &[vec![Some("x\u{1b}]0;pwned\u{7}\r\0\u{9b}\u{7f}y")]],
                )),
                "SELECT err" => {
                    let mut message = b"\x1b[31mboom\x07\r\n".to_vec();
                    message.extend(std::iter::repeat_n(b'z', 5000));
                    Some(vec![peer::err(1105, b"HY000", &message)])
                }
                _ => Some(vec![peer::OK.to_vec()]),
            })
        });
        let url = format!("mysql://root@127.0.0.1:{port}/");
        let mut args = vec!["query", "--url", url.as_str()];
        args.extend_from_slice(flags);
        args.extend(["SELECT evil", "SELECT err"]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(SQL_ERROR), "{}", stderr(&o));
        let (out, err) = (stdout(&o), stderr(&o));
        assert!(!has_raw_controls(&out), "{out:?}");
        assert!(!has_raw_controls(&err), "{err:?}");
        if flags.is_empty() {
            assert!(out.contains("| a\\x1b[2Jb "), "{out}");
            assert!(out.contains("| x\\x1b]0;pwned\\x07\\r\\0\\u{009b}\\x7fy |"), "{out}");
        } else {
            assert!(out.starts_with("{a\\x1b[2Jb: x\\x1b]0;pwned\\x07\\r\\0\\u{009b}\\x7fy}\n"), "{out}");
        }
        assert!(err.starts_with("ERROR 1105 (HY000): \\x1b[31mboom\\x07\\r\\nzzz"), "{err}");
        assert!(err.ends_with("z[... 4012 more characters]\n"), "{}", &err[err.len() - 60..]);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.len() < 1100, "{} bytes", err.len());
        assert_eq!(peer.join().unwrap().iter().filter(|q| q.starts_with("SELECT ")).count(), 2);
    }
}

/// A megabyte-long plugin name full of escapes in an AuthSwitchRequest (which MariaDB never sends)
/// becomes one short escaped line and a connection error.
#[test]
fn a_hostile_plugin_name_is_escaped_and_cut() {
    let (port, _peer) = scripted(|p| {
        p.send(0, peer::HANDSHAKE);
        let (seq, _) = p.recv().expect("a HandshakeResponse");
        let mut switch = vec![0xfe];
        for _ in 0..100_000 {
            switch.extend_from_slice("\u{1b}[2J\u{7}\r\u{9b}".as_bytes());
        }
        switch.extend_from_slice(b"\x00nonce-of-20-bytes!!\x00");
        p.send(seq + 1, &switch);
        let _ = p.recv();
    });
    let o = run(&["query", "--url", &format!("mysql://root@127.0.0.1:{port}/"), "SELECT 1"]);
    assert_eq!(o.status.code(), Some(CLIENT_ERROR), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!has_raw_controls(&err), "{:?}", &err[..200.min(err.len())]);
    assert!(err.starts_with("ERROR 2"), "{}", &err[..200.min(err.len())]);
    assert_eq!(err.lines().count(), 1);
    assert!(err.len() < 8000, "{} bytes", err.len());
}

/// DOUBLE and FLOAT infinities and NaN are values in `--json`, never `null` (SQL NULL). MariaDB
/// cannot store them, so a scripted peer sends them as a server that can would.
#[test]
fn json_shows_non_finite_floats_distinguishably() {
    let (port, _peer) = scripted(|p| {
        p.login();
        p.serve(|sql| {
            Some(match sql {
                "SELECT floats" => peer::result_set(
                    &[("d", 5), ("f", 4)],
                    &[
                        vec![Some("inf"), Some("-inf")],
                        vec![Some("-inf"), Some("nan")],
                        vec![Some("nan"), Some("inf")],
                        vec![None, Some("1.5")],
                    ],
                ),
                _ => vec![peer::OK.to_vec()],
            })
        })
    });
    let o = run(&["query", "--json", "--url", &format!("mysql://root@127.0.0.1:{port}/"), "SELECT floats"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: Json = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(
        r["rows"],
        json!([["Infinity", "-Infinity"], ["-Infinity", "NaN"], ["NaN", "Infinity"], [null, 1.5]]),
        "{r}"
    );
    assert_eq!(columns(&r), vec![("d".into(), "DOUBLE".into()), ("f".into(), "FLOAT".into())]);
}

/// A connection lost in the middle of a run is a client error (2013 in the client's format); the
/// statements after it are not attempted. The peer hangs up on cue, which MariaDB would not.
#[test]
fn a_lost_connection_stops_the_run_with_a_client_error() {
    let (port, peer) = scripted(|p| {
        p.login();
        p.serve(|sql| match sql {
            "SELECT hang_up" => None,
            _ => Some(peer::result_set(&[("one", 8)], &[vec![Some("1")]])),
        })
    });
    let url = format!("mysql://root@127.0.0.1:{port}/");
    let o = run(&["query", "--url", &url, "SELECT before", "SELECT hang_up", "SELECT after"]);
    assert_eq!(o.status.code(), Some(CLIENT_ERROR), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.starts_with("ERROR 2013 (HY000): Lost connection to MySQL server"), "{err}");
    let seen = peer.join().unwrap();
    assert!(seen.contains(&"SELECT before".to_string()), "{seen:?}");
    assert!(!seen.contains(&"SELECT after".to_string()), "{seen:?}");
}

#[test]
fn demo_runs_to_the_end() {
    let o = run(&["demo"]);
    let out = stdout(&o);
    assert!(o.status.success(), "exit {:?}\nstdout:\n{out}\nstderr:\n{}", o.status, stderr(&o));
    assert!(out.contains("== done"), "{out}");
}
