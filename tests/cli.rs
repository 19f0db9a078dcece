//! The `host-test` command-line tool, run as a user runs it: `query` against the shared server
//! with and without `--json` and `--dict`, its failures, and `demo`.

mod common;

use std::process::{Command, Output};

use common::server;
use serde_json::{json, Value as Json};

/// Runs the built `host-test` binary with `args`.
fn run(args: &[&str]) -> Output {
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
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("1146") && err.contains("cli_no_such_table"), "{err}");
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
    assert!(!o.status.success());
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("1045") && err.contains("Access denied"), "{err}");
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
        assert!(!o.status.success(), "{url}");
        assert!(o.stdout.is_empty(), "{url}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.starts_with("error:"), "{url}: {err}");
        assert!(!err.contains(secret), "password leaked for {url}: {err}");
    }
}

#[test]
fn usage_errors() {
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("usage:"), "{}", stderr(&o));
    let o = run(&["query", "SELECT 1"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--url is required"), "{}", stderr(&o));
    let url = server().url("test");
    let o = run(&["query", "--url", &url]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no SQL given"), "{}", stderr(&o));
}

#[test]
fn demo_runs_to_the_end() {
    let o = run(&["demo"]);
    let out = stdout(&o);
    assert!(o.status.success(), "exit {:?}\nstdout:\n{out}\nstderr:\n{}", o.status, stderr(&o));
    assert!(out.contains("== done"), "{out}");
}
