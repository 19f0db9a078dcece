//! examples/rust-app, a Rust `wasi:cli` command that imports `cymysql:aio/connection` and `pool`,
//! composed with the 0.2 driver component (wac's library, as `wac plug` does) and run as a command
//! against the real MariaDB, through the library and through `host-test compose` and `run`.

use std::process::Command;
use std::sync::OnceLock;

use crate::common;
use host_test::command::{rust_app_path, CommandHost, Network, Output, Stdio};
use host_test::driver::component_path;
use host_test::server::shared as server;

const EXPECTED: &str = "customer=Zoë total=12.50\n\
                        customer=O'Brien total=7.25\n\
                        customer=Zoë total=30.00\n\
                        Zoë: 2 orders, 42.50 in all\n";

/// The app composed with the driver, written once beside the app.
fn composed() -> &'static CommandHost {
    static HOST: OnceLock<CommandHost> = OnceLock::new();
    HOST.get_or_init(|| {
        common::compose_with_driver(&rust_app_path(), "rust_app_composed.wasm", "scripts/build-component")
    })
}

fn run(url: &str, network: &Network) -> Output {
    composed().run(&[], &[("DATABASE_URL", url)], network, Stdio::Capture).expect("the app does not trap")
}

/// The database of a test that lets the app write: the app empties and refills its table, so two
/// such tests never share one.
fn url_of_own_db(name: &str) -> String {
    server().admin_sql(&format!("CREATE DATABASE IF NOT EXISTS {name}")).expect("create database");
    server().url(name)
}

#[test]
fn the_composed_app_writes_and_reads_its_orders() {
    let url = url_of_own_db("rust_app_lib");
    let out = run(&url, &Network::default());
    assert_eq!((out.status, out.stderr.as_str(), out.stdout.as_str()), (0, "", EXPECTED), "{out:?}");
    // What it committed is on the server, read by another client.
    let on_server = server().admin_sql("SELECT COUNT(*), SUM(total) FROM rust_app_lib.rust_app_orders").unwrap();
    assert!(on_server.contains("3\t49.75"), "{on_server}");
}

#[test]
fn a_wrong_password_exits_1_with_the_typed_error_and_no_password() {
    let url = url_of_own_db("rust_app_lib");
    let bad = common::with_password(&url, "Wr0ngPassw0rd");
    let out = run(&bad, &Network::default());
    assert_eq!(out.status, 1, "{out:?}");
    assert!(out.stderr.starts_with("OperationalError: (1045, '28000') Access denied for user"), "{out:?}");
    assert!(!out.stderr.contains("Wr0ngPassw0rd") && !out.stdout.contains("Wr0ngPassw0rd"), "{out:?}");
}

#[test]
fn the_network_policy_refuses_an_address_it_does_not_name() {
    let url = url_of_own_db("rust_app_lib");
    let out = run(&url, &Network { any: false, loopback: false, allow: Vec::new() });
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stderr.starts_with("OperationalError: (2003, 'HY000') Can't connect to MySQL server on")
            && out.stderr.trim_end().ends_with("(access denied)"),
        "{out:?}"
    );
}

#[test]
fn the_app_alone_is_not_runnable_until_composed() {
    let e = CommandHost::load(&rust_app_path())
        .and_then(|h| h.run(&[], &[], &Network::default(), Stdio::Capture))
        .expect_err("the app imports cymysql:aio, which only the driver provides");
    assert!(format!("{e:#}").contains("cymysql:aio"), "{e:#}");
}

#[test]
fn host_test_compose_and_run_do_the_same_from_the_command_line() {
    let url = url_of_own_db("rust_app_cli");
    let out = rust_app_path().with_file_name("rust_app_cli.wasm");
    let bin = env!("CARGO_BIN_EXE_host-test");
    let composed = Command::new(bin)
        .args(["compose", rust_app_path().to_str().unwrap(), "--plug", component_path().to_str().unwrap(), "-o"])
        .arg(&out)
        .output()
        .expect("run host-test compose");
    assert!(composed.status.success(), "{composed:?}");
    let ran = Command::new(bin)
        .args(["run", "--env", &format!("DATABASE_URL={url}"), out.to_str().unwrap()])
        .output()
        .expect("run host-test run");
    assert_eq!(ran.status.code(), Some(0), "{ran:?}");
    assert_eq!(String::from_utf8_lossy(&ran.stdout), EXPECTED);
}
