//! cymysql-wasi: the asyncio API of cymysql as a MySQL/MariaDB client for WebAssembly.
//!
//! - [`protocol`]: the sans-IO core (packets, auth, values, escaping), no sockets, no async.
//! - [`client`]: connections and cursors on `futures`, over any [`client::transport::Transport`].
//! - `wasi` (wasm32 only): the `wasi:sockets` transport and a reactor over `wasi:io/poll`.
//! - `wasi::p3` (wasm32, feature `p3`): the same over `wasi:sockets@0.3` and `wasi:clocks@0.3`.
//! - `component` (wasm32, feature `component`): the exports of the WIT world `cymysql:aio/driver`;
//!   with feature `async-world`, `component_async` exports `cymysql:aio/driver-async` (WASI 0.3)
//!   instead. A guest that uses the crate as a library has neither, so it exports only its own world.
//!
//! # Example
//!
//! A query through a dict cursor (the README's "Rust guests" shows this same text):
//!
#![doc = include_str!("readme_example.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

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

/// What `cargo test --doc` checks besides the examples; the item exists only in that build.
///
/// The README shows the crate's example word for word:
///
/// ```
/// let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
/// let example = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/readme_example.md"));
/// assert!(readme.contains(example), "README.md must show src/readme_example.md as it is");
/// ```
///
/// The version of the WIT package (wit/README.md): both files of `cymysql:aio` declare the same
/// one, every versioned `cymysql:aio` name in README.md and wit/README.md is that version, and it is
/// no newer than the crate's, since every change to the WIT ships in a release of the crate.
///
/// ```
/// fn declared(wit: &str) -> &str {
///     let line = wit.lines().find_map(|l| l.strip_prefix("package cymysql:aio@")?.strip_suffix(';'));
///     line.expect("a `package cymysql:aio@X.Y.Z;` line")
/// }
/// fn numbers(version: &str) -> Vec<u64> {
///     version.split(['.', '-', '+']).take(3).map(|n| n.parse().expect("X.Y.Z")).collect()
/// }
/// let version = declared(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/wit/world.wit")));
/// assert_eq!(declared(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/wit/driver-async.wit"))), version);
/// let crate_version = env!("CARGO_PKG_VERSION");
/// assert!(numbers(version) <= numbers(crate_version), "cymysql:aio@{version} is newer than the crate {crate_version}");
/// let docs = [
///     include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")),
///     include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/wit/README.md")),
/// ];
/// let mut named = 0;
/// for doc in docs {
///     // `cymysql:aio@X.Y.Z` and `cymysql:aio/interface@X.Y.Z`
///     for (at, _) in doc.match_indices("cymysql:aio") {
///         let rest = &doc[at + "cymysql:aio".len()..];
///         let rest = rest.trim_start_matches(|c: char| c == '/' || c == '-' || c.is_ascii_alphanumeric());
///         let Some(v) = rest.strip_prefix('@').filter(|v| v.starts_with(|c: char| c.is_ascii_digit())) else {
///             continue;
///         };
///         let v = v.split(|c: char| !(c == '.' || c == '-' || c.is_ascii_alphanumeric())).next().unwrap();
///         assert_eq!(v.trim_end_matches('.'), version, "{:?}", doc[at..].lines().next());
///         named += 1;
///     }
/// }
/// assert!(named > 0);
/// ```
#[cfg(doctest)]
pub struct DocChecks;
