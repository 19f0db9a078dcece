//! cymysql-wasi: the asyncio API of cymysql as a MySQL/MariaDB client for WebAssembly.
//!
//! - [`protocol`]: the sans-IO core (packets, auth, values, escaping), no sockets, no async.
//! - [`client`]: connections and cursors on `futures`, over any [`client::transport::Transport`].
//! - `wasi` (wasm32 only): the `wasi:sockets` transport and a reactor over `wasi:io/poll`.
//! - `wasi::p3` (wasm32, feature `p3`): the same over `wasi:sockets@0.3` and `wasi:clocks@0.3`.
//! - `component` (wasm32, feature `component`): the exports of the WIT world `cymysql:aio/driver`;
//!   with feature `async-world`, `component_async` exports `cymysql:aio/driver-async` (WASI 0.3)
//!   instead. A guest that uses the crate as a library has neither, so it exports only its own world.

pub mod client;
pub mod error;
pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod wasi;

#[cfg(all(target_arch = "wasm32", feature = "component", not(feature = "async-world")))]
mod component;

#[cfg(all(target_arch = "wasm32", feature = "async-world"))]
mod component_async;

pub use client::connection::Connection;
pub use client::cursor::{Cursor, DictCursor, DictRow};
pub use client::options::ConnectOptions;
pub use error::{Error, ErrorKind};
pub use protocol::interpolate::Params;
pub use protocol::value::Value;
