//! The WASI 0.2 component without TLS and zstd: the world `cymysql:aio/driver` at about half the size.
//! The exports are cymysql-wasi's; this crate only links them into a cdylib of its own name.
#![cfg(target_arch = "wasm32")]

extern crate cymysql_wasi;
