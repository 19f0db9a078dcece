//! Protocol constants, named as in the MySQL and MariaDB documentation.

/// `CLIENT_*` capability flags (lower 32 bits of the negotiated set).
pub mod capability {
    pub const CLIENT_LONG_PASSWORD: u32 = 1;
    pub const CLIENT_FOUND_ROWS: u32 = 1 << 1;
    pub const CLIENT_LONG_FLAG: u32 = 1 << 2;
    pub const CLIENT_CONNECT_WITH_DB: u32 = 1 << 3;
    pub const CLIENT_NO_SCHEMA: u32 = 1 << 4;
    pub const CLIENT_COMPRESS: u32 = 1 << 5;
    pub const CLIENT_ODBC: u32 = 1 << 6;
    pub const CLIENT_LOCAL_FILES: u32 = 1 << 7;
    pub const CLIENT_IGNORE_SPACE: u32 = 1 << 8;
    pub const CLIENT_PROTOCOL_41: u32 = 1 << 9;
    pub const CLIENT_INTERACTIVE: u32 = 1 << 10;
    pub const CLIENT_SSL: u32 = 1 << 11;
    pub const CLIENT_IGNORE_SIGPIPE: u32 = 1 << 12;
    pub const CLIENT_TRANSACTIONS: u32 = 1 << 13;
    pub const CLIENT_RESERVED: u32 = 1 << 14;
    pub const CLIENT_SECURE_CONNECTION: u32 = 1 << 15;
    pub const CLIENT_MULTI_STATEMENTS: u32 = 1 << 16;
    pub const CLIENT_MULTI_RESULTS: u32 = 1 << 17;
    pub const CLIENT_PS_MULTI_RESULTS: u32 = 1 << 18;
    pub const CLIENT_PLUGIN_AUTH: u32 = 1 << 19;
    pub const CLIENT_CONNECT_ATTRS: u32 = 1 << 20;
    pub const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 1 << 21;
    pub const CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS: u32 = 1 << 22;
    pub const CLIENT_SESSION_TRACK: u32 = 1 << 23;
    pub const CLIENT_DEPRECATE_EOF: u32 = 1 << 24;
    pub const CLIENT_ZSTD_COMPRESSION_ALGORITHM: u32 = 1 << 26;
}

/// MariaDB's extended capability flags: the upper 32 bits of MariaDB's 64-bit capability set, sent
/// in the last 4 reserved bytes of the handshake and of HandshakeResponse41 (`MARIADB_CLIENT_*`
/// shifted down by 32).
pub mod mariadb_capability {
    pub const MARIADB_CLIENT_PROGRESS: u32 = 1;
    /// COM_STMT_BULK_EXECUTE (array binding), since MariaDB 10.2.
    pub const MARIADB_CLIENT_STMT_BULK_OPERATIONS: u32 = 1 << 2;
    pub const MARIADB_CLIENT_EXTENDED_METADATA: u32 = 1 << 3;
    pub const MARIADB_CLIENT_CACHE_METADATA: u32 = 1 << 4;
}

/// `SERVER_STATUS_*` flags carried by OK and EOF packets.
pub mod status {
    pub const SERVER_STATUS_IN_TRANS: u16 = 1;
    pub const SERVER_STATUS_AUTOCOMMIT: u16 = 1 << 1;
    pub const SERVER_MORE_RESULTS_EXISTS: u16 = 1 << 3;
    pub const SERVER_STATUS_NO_GOOD_INDEX_USED: u16 = 1 << 4;
    pub const SERVER_STATUS_NO_INDEX_USED: u16 = 1 << 5;
    pub const SERVER_STATUS_CURSOR_EXISTS: u16 = 1 << 6;
    pub const SERVER_STATUS_LAST_ROW_SENT: u16 = 1 << 7;
    pub const SERVER_STATUS_DB_DROPPED: u16 = 1 << 8;
    pub const SERVER_STATUS_NO_BACKSLASH_ESCAPES: u16 = 1 << 9;
    pub const SERVER_STATUS_METADATA_CHANGED: u16 = 1 << 10;
    pub const SERVER_QUERY_WAS_SLOW: u16 = 1 << 11;
    pub const SERVER_PS_OUT_PARAMS: u16 = 1 << 12;
    pub const SERVER_STATUS_IN_TRANS_READONLY: u16 = 1 << 13;
    pub const SERVER_SESSION_STATE_CHANGED: u16 = 1 << 14;
}

/// Command bytes (`COM_*`).
pub mod command {
    pub const COM_QUIT: u8 = 0x01;
    pub const COM_INIT_DB: u8 = 0x02;
    pub const COM_QUERY: u8 = 0x03;
    pub const COM_PING: u8 = 0x0e;
    pub const COM_RESET_CONNECTION: u8 = 0x1f;
}

/// `enum_field_types`: the column type codes of ColumnDefinition41.
pub mod column_type {
    pub const MYSQL_TYPE_DECIMAL: u8 = 0;
    pub const MYSQL_TYPE_TINY: u8 = 1;
    pub const MYSQL_TYPE_SHORT: u8 = 2;
    pub const MYSQL_TYPE_LONG: u8 = 3;
    pub const MYSQL_TYPE_FLOAT: u8 = 4;
    pub const MYSQL_TYPE_DOUBLE: u8 = 5;
    pub const MYSQL_TYPE_NULL: u8 = 6;
    pub const MYSQL_TYPE_TIMESTAMP: u8 = 7;
    pub const MYSQL_TYPE_LONGLONG: u8 = 8;
    pub const MYSQL_TYPE_INT24: u8 = 9;
    pub const MYSQL_TYPE_DATE: u8 = 10;
    pub const MYSQL_TYPE_TIME: u8 = 11;
    pub const MYSQL_TYPE_DATETIME: u8 = 12;
    pub const MYSQL_TYPE_YEAR: u8 = 13;
    pub const MYSQL_TYPE_NEWDATE: u8 = 14;
    pub const MYSQL_TYPE_VARCHAR: u8 = 15;
    pub const MYSQL_TYPE_BIT: u8 = 16;
    pub const MYSQL_TYPE_TIMESTAMP2: u8 = 17;
    pub const MYSQL_TYPE_DATETIME2: u8 = 18;
    pub const MYSQL_TYPE_TIME2: u8 = 19;
    pub const MYSQL_TYPE_JSON: u8 = 245;
    pub const MYSQL_TYPE_NEWDECIMAL: u8 = 246;
    pub const MYSQL_TYPE_ENUM: u8 = 247;
    pub const MYSQL_TYPE_SET: u8 = 248;
    pub const MYSQL_TYPE_TINY_BLOB: u8 = 249;
    pub const MYSQL_TYPE_MEDIUM_BLOB: u8 = 250;
    pub const MYSQL_TYPE_LONG_BLOB: u8 = 251;
    pub const MYSQL_TYPE_BLOB: u8 = 252;
    pub const MYSQL_TYPE_VAR_STRING: u8 = 253;
    pub const MYSQL_TYPE_STRING: u8 = 254;
    pub const MYSQL_TYPE_GEOMETRY: u8 = 255;
}

/// Column definition flags (`*_FLAG`).
pub mod column_flag {
    pub const NOT_NULL_FLAG: u16 = 1;
    pub const PRI_KEY_FLAG: u16 = 2;
    pub const UNIQUE_KEY_FLAG: u16 = 4;
    pub const MULTIPLE_KEY_FLAG: u16 = 8;
    pub const BLOB_FLAG: u16 = 16;
    pub const UNSIGNED_FLAG: u16 = 32;
    pub const ZEROFILL_FLAG: u16 = 64;
    pub const BINARY_FLAG: u16 = 128;
    pub const ENUM_FLAG: u16 = 256;
    pub const AUTO_INCREMENT_FLAG: u16 = 512;
    pub const TIMESTAMP_FLAG: u16 = 1024;
    pub const SET_FLAG: u16 = 2048;
}

/// The collation id of the `binary` character set: marks BLOB/BINARY as opposed to TEXT/CHAR.
pub const BINARY_COLLATION: u16 = 63;

/// The largest payload of one physical packet; longer payloads continue in the next one.
pub const MAX_PACKET_PAYLOAD: usize = 0xFF_FFFF;
