//! MySQL's value domain, decoded losslessly.

/// A calendar date as MySQL stores it: `0000-00-00` and dates with zero parts are representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// A DATETIME or TIMESTAMP with microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateTime {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub microsecond: u32,
}

/// A TIME value: a signed duration of up to 838:59:59.999999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Time {
    pub negative: bool,
    pub hours: u32,
    pub minutes: u8,
    pub seconds: u8,
    pub microseconds: u32,
}

/// One cell of a result set, or one parameter of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// TINYINT..BIGINT (signed).
    Int(i64),
    /// TINYINT..BIGINT UNSIGNED.
    UInt(u64),
    Float(f32),
    Double(f64),
    /// DECIMAL / NUMERIC, kept as the server's exact text.
    Decimal(String),
    /// CHAR, VARCHAR, TEXT in a non-binary charset.
    Text(String),
    /// BINARY, VARBINARY, BLOB, or text that is not valid in its charset.
    Bytes(Vec<u8>),
    Date(Date),
    DateTime(DateTime),
    /// TIMESTAMP: the same shape as DATETIME, kept apart so callers know its time zone semantics.
    Timestamp(DateTime),
    Time(Time),
    Year(u16),
    Json(String),
    /// BIT(n), n <= 64, as an unsigned integer.
    Bit(u64),
    Enum(String),
    /// SET members in server order.
    Set(Vec<String>),
    /// GEOMETRY in MySQL's internal format (4-byte SRID + WKB).
    Geometry(Vec<u8>),
}
