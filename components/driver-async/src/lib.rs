//! The WASI 0.3 component: the WIT world `cymysql:aio/driver-async`, with TLS and zstd.
//! The exports are cymysql-wasi's; this crate only links them into a cdylib of its own name.
#![cfg(target_arch = "wasm32")]

extern crate cymysql_wasi;
