//! examples/python-app-async, a Python WASI 0.3 `wasi:cli` command built with componentize-py's
//! async support: it awaits the `driver-async` world's calls, reads rows from `query`'s
//! `stream<row>`, and runs two pooled connections at once under asyncio. Composed with the 0.3
//! driver component and run against the real MariaDB. scripts/build-python builds it.

use std::sync::OnceLock;

use crate::common;
use host_test::command::{python_app_async_path, CommandHost, Network, Output, Stdio};
use host_test::server::shared as server;

const EXPECTED: &str = "customer=Zoë total=12.50\n\
                        customer=O'Brien total=7.25\n\
                        customer=Zoë total=30.00\n\
                        3 rows streamed\n\
                        ProgrammingError 1064 42000\n\
                        b got the lock a released: 1\n";

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The app composed with the 0.3 driver (wac's library, as `wac plug` does), written once beside
/// the app.
fn composed() -> &'static CommandHost {
    static HOST: OnceLock<CommandHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let out = common::composed_with(
            &python_app_async_path(),
            &host_test::driver_async::component_path(),
            "python_app_async_composed.wasm",
            "scripts/build-component and scripts/build-python",
        );
        CommandHost::load(&out).expect("load the composed app")
    })
}

fn run(url: &str) -> Output {
    composed().run(&[], &[("DATABASE_URL", url)], &Network::default(), Stdio::Capture).expect("the app does not trap")
}

fn url_of_own_db() -> String {
    server().admin_sql("CREATE DATABASE IF NOT EXISTS python_app_async").expect("create database");
    server().url("python_app_async")
}

#[test]
fn the_async_python_app_writes_its_orders_and_streams_them_back() {
    let out = run(&url_of_own_db());
    assert_eq!((out.status, out.stderr.as_str(), out.stdout.as_str()), (0, "", EXPECTED), "{out:?}");
    // What it committed is on the server, read by another client: the Decimal and the datetime
    // went as exact values.
    let on_server = server()
        .admin_sql("SELECT COUNT(*), SUM(total), MIN(placed) FROM python_app_async.python_async_orders")
        .unwrap();
    assert_eq!(on_server.trim(), "3\t49.75\t2024-02-29 23:59:59.123456");
}

#[test]
fn a_driver_error_ends_the_async_app_with_status_1_and_the_error_on_stderr() {
    let url = url_of_own_db();
    let out = run(&common::with_password(&url, "Wr0ngPassw0rd"));
    assert_eq!((out.status, out.stdout.as_str()), (1, ""), "{out:?}");
    assert!(out.stderr.starts_with("OperationalError: (1045, '28000') Access denied for user"), "{out:?}");
    assert!(!out.stderr.contains("Wr0ngPassw0rd"), "{out:?}");
}

#[test]
fn the_wit_bundle_carries_the_driver_worlds_as_they_are() {
    for file in ["world.wit", "driver-async.wit"] {
        let bundled =
            std::fs::read_to_string(root().join("examples/python-app-async/wit/deps/cymysql-aio").join(file)).unwrap();
        assert_eq!(
            bundled,
            std::fs::read_to_string(root().join("wit").join(file)).unwrap(),
            "run scripts/build-python"
        );
    }
}
