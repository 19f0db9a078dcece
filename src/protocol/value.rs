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

/// Which variant a [`Value`] is, without its data: the key of a caller's encoder (cymysql's
/// `encoders`, keyed by Python type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    Null,
    Int,
    UInt,
    Float,
    Double,
    Decimal,
    Text,
    Bytes,
    Date,
    DateTime,
    Timestamp,
    Time,
    Year,
    Json,
    Bit,
    Enum,
    Set,
    Geometry,
}

impl Value {
    /// Which variant this is.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::Null => ValueKind::Null,
            Value::Int(_) => ValueKind::Int,
            Value::UInt(_) => ValueKind::UInt,
            Value::Float(_) => ValueKind::Float,
            Value::Double(_) => ValueKind::Double,
            Value::Decimal(_) => ValueKind::Decimal,
            Value::Text(_) => ValueKind::Text,
            Value::Bytes(_) => ValueKind::Bytes,
            Value::Date(_) => ValueKind::Date,
            Value::DateTime(_) => ValueKind::DateTime,
            Value::Timestamp(_) => ValueKind::Timestamp,
            Value::Time(_) => ValueKind::Time,
            Value::Year(_) => ValueKind::Year,
            Value::Json(_) => ValueKind::Json,
            Value::Bit(_) => ValueKind::Bit,
            Value::Enum(_) => ValueKind::Enum,
            Value::Set(_) => ValueKind::Set,
            Value::Geometry(_) => ValueKind::Geometry,
        }
    }

    /// The bytes this value occupies in memory: its own slot plus what it owns on the heap.
    /// This, not the wire length, is what a buffered result costs (a NULL is 1 byte on the wire).
    pub fn memory_size(&self) -> usize {
        let heap = match self {
            Value::Decimal(s) | Value::Text(s) | Value::Json(s) | Value::Enum(s) => s.capacity(),
            Value::Bytes(b) | Value::Geometry(b) => b.capacity(),
            Value::Set(members) => {
                members.capacity() * std::mem::size_of::<String>() + members.iter().map(String::capacity).sum::<usize>()
            }
            _ => 0,
        };
        std::mem::size_of::<Value>() + heap
    }
}

/// The bytes a decoded row occupies: its vector and every value.
pub fn row_memory_size(row: &[Value]) -> usize {
    std::mem::size_of::<Vec<Value>>() + row.iter().map(Value::memory_size).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_size_counts_the_slot_and_the_heap() {
        let slot = std::mem::size_of::<Value>();
        assert_eq!(Value::Null.memory_size(), slot);
        assert_eq!(Value::Int(7).memory_size(), slot);
        assert_eq!(Value::Text("abc".into()).memory_size(), slot + 3);
        assert_eq!(Value::Bytes(vec![0; 100]).memory_size(), slot + 100);
        let set = Value::Set(vec!["ab".into(), "c".into()]);
        assert_eq!(set.memory_size(), slot + 2 * std::mem::size_of::<String>() + 3);
        // A row of NULLs costs far more than its wire bytes (one 0xFB each).
        let nulls = vec![Value::Null; 10];
        assert_eq!(row_memory_size(&nulls), std::mem::size_of::<Vec<Value>>() + 10 * slot);
        assert!(row_memory_size(&nulls) > 10 * 8);
    }
}
