//! examples/node, the npm package: the 0.2 driver transpiled by jco, run on a worker thread behind
//! Promises. examples/node/test.mjs uses it under Node against the real MariaDB (values, dict rows,
//! the event loop during a query, typed errors, transactions, a pool); `npm pack` must ship the
//! transpiled driver and the TypeScript types. scripts/build-node builds it.

use std::path::PathBuf;
use std::process::Command;

use host_test::server::shared as server;

fn package() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/node")
}

fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(package())
        .output()
        .unwrap_or_else(|e| panic!("{program} (scripts/setup installs it): {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn the_package_works_under_node_against_the_server() {
    server().admin_sql("CREATE DATABASE IF NOT EXISTS node_app").expect("create database");
    let url = server().url("node_app");
    let (ok, stdout, stderr) = run("node", &["test.mjs"], &[("DATABASE_URL", &url)]);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let passed: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("ok - ")).collect();
    assert_eq!(passed.len(), 8, "{stdout}");
    assert!(passed.contains(&"the event loop keeps running while a query runs"), "{stdout}");
    // What it committed is on the server, read by another client.
    let on_server = server().admin_sql("SELECT id, name, price FROM node_app.node_values").unwrap();
    assert_eq!(on_server.trim(), "1\tZoë\t12.50");
}

#[test]
fn npm_pack_ships_the_transpiled_driver_and_the_types() {
    let (ok, stdout, stderr) = run("npm", &["pack", "--dry-run", "--json", "--loglevel=error"], &[]);
    assert!(ok, "{stderr}");
    for file in [
        "index.js",
        "index.d.ts",
        "worker.js",
        "values.js",
        "error.js",
        "driver/cymysql_driver.js",
        "driver/cymysql_driver.core.wasm",
    ] {
        assert!(stdout.contains(&format!("\"path\": \"{file}\"")), "{file} is not in the package: {stdout}");
    }
    assert!(!stdout.contains("node_modules/") && !stdout.contains("test.mjs"), "{stdout}");
}
