//! examples/python-app, a Python `wasi:cli` command built with componentize-py, using the driver
//! through the PEP 249 shim `cymysql_wasi.py`, composed with the 0.2 driver component and run
//! against the real MariaDB. scripts/build-python builds it.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::common;
use host_test::command::{python_app_path, CommandHost, Network, Output, Stdio};
use host_test::server::shared as server;

const EXPECTED: &str = "customer=Zoë total=12.50\n\
                        customer=O'Brien total=7.25\n\
                        customer=Zoë total=30.00\n\
                        ProgrammingError 1064 42000\n\
                        Zoë: 2 orders, 42.50 in all\n\
                        gather: [(42,)] []\n";

/// The app composed with the driver, written once beside the app.
fn composed() -> &'static CommandHost {
    static HOST: OnceLock<CommandHost> = OnceLock::new();
    HOST.get_or_init(|| {
        common::compose_with_driver(&python_app_path(), "python_app_composed.wasm", "scripts/build-python")
    })
}

fn run(url: &str) -> Output {
    composed().run(&[], &[("DATABASE_URL", url)], &Network::default(), Stdio::Capture).expect("the app does not trap")
}

fn url_of_own_db() -> String {
    server().admin_sql("CREATE DATABASE IF NOT EXISTS python_app").expect("create database");
    server().url("python_app")
}

#[test]
fn the_python_app_writes_and_reads_its_orders_with_native_values() {
    let out = run(&url_of_own_db());
    assert_eq!((out.status, out.stderr.as_str(), out.stdout.as_str()), (0, "", EXPECTED), "{out:?}");
    // What it committed is on the server, read by another client: the Decimal and the datetime
    // went as exact values.
    let on_server =
        server().admin_sql("SELECT COUNT(*), SUM(total), MIN(placed) FROM python_app.python_app_orders").unwrap();
    assert_eq!(on_server.trim(), "3\t49.75\t2024-02-29 23:59:59.123456");
}

#[test]
fn a_driver_error_ends_the_app_with_status_1_and_the_exception_on_stderr() {
    let url = url_of_own_db();
    let out = run(&common::with_password(&url, "Wr0ngPassw0rd"));
    assert_eq!(out.status, 1, "{out:?}");
    assert!(out.stderr.starts_with("OperationalError: (1045, '28000') Access denied for user"), "{out:?}");
    assert!(!out.stderr.contains("Wr0ngPassw0rd") && !out.stdout.contains("Wr0ngPassw0rd"), "{out:?}");
}

#[test]
fn the_wit_bundle_carries_the_driver_world_as_it_is() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bundled = std::fs::read_to_string(root.join("examples/python-app/wit/deps/cymysql-aio/world.wit")).unwrap();
    assert_eq!(bundled, std::fs::read_to_string(root.join("wit/world.wit")).unwrap(), "run scripts/build-python");
}
