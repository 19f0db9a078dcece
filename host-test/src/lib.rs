//! Host-side tools for the cymysql-wasi component: test server, wasmtime driver, CLI.

pub mod cluster;
pub mod command;
pub mod compose;
pub mod driver;
pub mod driver_async;
pub mod proxy;
pub mod render;
pub mod serve;
pub mod server;
pub mod session;
