//! The integration tests, one module a file, linked into one binary so that wasmtime and its
//! bindings are compiled and linked once. scripts/test runs each module in a process of its own
//! (`cargo test --test integration -- <module>::`): every module gets its own throwaway MariaDB and
//! compiled component, and modules that change server-wide settings never run beside each other.

mod common;

mod async_world;
mod auth;
mod callproc;
mod charsets;
mod cli;
mod cluster;
mod compress;
mod connect;
mod conveniences;
mod edge_function;
mod faults;
mod ha;
mod host_tools;
mod lifecycle;
mod memory;
mod native;
mod node_package;
mod observability;
mod p3_guest;
mod params;
mod pool;
mod prepared;
mod python_app;
mod python_app_async;
mod results;
mod rust_app;
mod slim;
mod tls;
mod types;
