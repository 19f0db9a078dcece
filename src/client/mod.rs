//! The async API on `futures`: connections and cursors over any byte-stream transport.

pub mod connection;
pub mod cursor;
pub mod options;
pub mod pool;
pub mod query_stream;
#[cfg(feature = "tls")]
pub mod tls;
pub mod transport;
pub mod url;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
