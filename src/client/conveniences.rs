//! PyMySQL's connection and cursor conveniences: `begin`, `kill`, `show_warnings`, `mogrify`,
//! `get_host_info`, `get_proto_info`, `get_server_info`, `character_set_name`, and the PEP 249
//! no-ops `setinputsizes` and `setoutputsizes`. (`rownumber` and `scroll` live with the cursor.)

use super::connection::Connection;
use super::cursor::{Cursor, DictCursor, ScrollMode};
use crate::error::Error;
use crate::protocol::interpolate::Params;
use crate::protocol::value::Value;

/// One row of `SHOW WARNINGS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// `Note`, `Warning` or `Error`.
    pub level: String,
    /// The MySQL error code (ER_*).
    pub code: u32,
    /// The message.
    pub message: String,
}

/// The protocol version every server this client accepts speaks (HandshakeV10).
pub const PROTOCOL_VERSION: u8 = 10;

impl Connection {
    /// `KILL thread_id`: ends another session (or this one) on the server.
    pub async fn kill(&self, thread_id: u64) -> Result<(), Error> {
        self.lock().await.query_all(&format!("KILL {thread_id}")).await
    }

    /// The warnings of the last statement (`SHOW WARNINGS`).
    pub async fn show_warnings(&self) -> Result<Vec<Warning>, Error> {
        let mut cursor = self.cursor();
        // Read as the server sent it, whatever decoders or conversions the caller set.
        cursor.plain = true;
        cursor.execute("SHOW WARNINGS", None).await?;
        let rows = cursor.fetchall().await?;
        let text = |v: Option<&Value>| match v {
            Some(Value::Text(s)) => s.clone(),
            _ => String::new(),
        };
        let code = |v: Option<&Value>| match v {
            Some(Value::UInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
            Some(Value::Int(n)) => u32::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        Ok(rows
            .iter()
            .map(|row| Warning { level: text(row.first()), code: code(row.get(1)), message: text(row.get(2)) })
            .collect())
    }

    /// PyMySQL's `get_host_info`: `socket <host>:<port>`.
    pub async fn get_host_info(&self) -> String {
        let c = self.lock().await;
        format!("socket {}:{}", c.options.host, c.options.port)
    }

    /// PyMySQL's `get_proto_info`: the protocol version, 10.
    pub fn get_proto_info(&self) -> u8 {
        PROTOCOL_VERSION
    }

    /// PyMySQL's `get_server_info`: the server's version string.
    pub fn get_server_info(&self) -> String {
        self.server_version()
    }

    /// The connection character set's name (`character_set_client` as this client follows it).
    pub async fn character_set_name(&self) -> String {
        self.lock().await.charset.name.to_string()
    }
}

impl Cursor {
    /// The statement exactly as `execute` would send it, parameters interpolated (PyMySQL's `mogrify`).
    pub async fn mogrify(&self, query: &str, params: Option<&Params>) -> Result<String, Error> {
        self.connection().lock().await.render_query(query, params)
    }

    /// PEP 249 `setinputsizes`: does nothing. It exists for DB-API compatibility only; parameters
    /// are sized by their values.
    pub fn setinputsizes(&mut self, _sizes: &[Option<u64>]) {}

    /// PEP 249 `setoutputsize` (PyMySQL's `setoutputsizes`): does nothing. It exists for DB-API
    /// compatibility only; columns are read whole.
    pub fn setoutputsizes(&mut self, _size: u64, _column: Option<usize>) {}
}

impl DictCursor {
    /// [`Cursor::mogrify`].
    pub async fn mogrify(&self, query: &str, params: Option<&Params>) -> Result<String, Error> {
        self.cursor().mogrify(query, params).await
    }

    /// [`Cursor::rownumber`].
    pub fn rownumber(&self) -> Option<u64> {
        self.cursor().rownumber()
    }

    /// [`Cursor::scroll`].
    pub async fn scroll(&mut self, value: i64, mode: ScrollMode) -> Result<(), Error> {
        self.cursor_mut().scroll(value, mode).await
    }

    /// [`Cursor::setinputsizes`]: does nothing.
    pub fn setinputsizes(&mut self, _sizes: &[Option<u64>]) {}

    /// [`Cursor::setoutputsizes`]: does nothing.
    pub fn setoutputsizes(&mut self, _size: u64, _column: Option<usize>) {}
}
