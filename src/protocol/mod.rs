//! The sans-IO protocol core: bytes in, packets, values and events out. No sockets, no async.

pub mod auth;
pub mod binary_row;
pub mod binary_value;
pub mod buf;
pub mod charset;
pub mod codec;
pub mod column;
pub mod column_cache;
pub mod com_stmt_bulk_execute;
pub mod com_stmt_close;
pub mod com_stmt_execute;
pub mod com_stmt_fetch;
pub mod com_stmt_prepare;
pub mod com_stmt_reset;
pub mod com_stmt_send_long_data;
pub mod compress;
pub mod connection_phase;
pub mod constants;
pub mod conversions;
pub mod err_packet;
pub mod error;
pub mod escape;
pub mod framing;
// Entry points for the fuzzers in fuzz/ and their smoke test; not part of the API.
#[doc(hidden)]
pub mod fuzz_targets;
pub mod handshake;
pub mod interpolate;
#[cfg(feature = "charsets")]
pub mod legacy_charset;
pub mod ok_packet;
pub mod option_file;
pub mod placeholders;
pub mod response;
pub mod statement_digest;
pub mod text_row;
pub mod text_value;
pub mod value;
