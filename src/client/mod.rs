//! The async API on `futures`: connections and cursors over any byte-stream transport.

mod callproc;
pub mod column_batch;
mod command;
pub mod connection;
mod connection_phase;
pub mod conveniences;
pub mod converters;
pub mod cursor;
pub mod cursor_class;
mod dict_cursor;
pub mod events;
mod failover;
pub mod galera;
mod gather;
pub mod host_list;
mod local_infile;
pub mod option_file;
pub mod options;
mod packets;
pub mod pool;
mod prepare;
pub mod query_stream;
mod result_set;
mod row_stream;
pub mod statement;
mod timeouts;
#[cfg(feature = "tls")]
pub mod tls;
pub mod transaction;
pub mod transaction_guard;
pub mod transport;
pub mod url;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
