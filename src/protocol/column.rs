//! ColumnDefinition41: the description of one result set column.

use super::buf::Reader;
use super::constants::column_flag::{NOT_NULL_FLAG, UNSIGNED_FLAG};
use crate::protocol::error::ProtocolError;

/// One column of a result set, as the server describes it (ColumnDefinition41).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub schema: String,
    /// The table alias (`table` in the protocol).
    pub table: String,
    pub org_table: String,
    /// The column alias (`name` in the protocol).
    pub name: String,
    pub org_name: String,
    /// The collation id of the column's values in this result.
    pub charset: u16,
    pub length: u32,
    /// An `enum_field_types` code.
    pub column_type: u8,
    pub flags: u16,
    pub decimals: u8,
}

impl Column {
    /// A column of `column_type` named `c`, binary, with no flags: what unit tests and fuzz
    /// targets start from.
    pub(crate) fn of_type(column_type: u8) -> Column {
        Column {
            schema: String::new(),
            table: String::new(),
            org_table: String::new(),
            name: "c".into(),
            org_name: "c".into(),
            charset: 63,
            length: 0,
            column_type,
            flags: 0,
            decimals: 0,
        }
    }

    /// Parses a ColumnDefinition41 payload.
    pub fn parse(payload: &[u8]) -> Result<Column, ProtocolError> {
        let mut r = Reader::new(payload);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let _catalog = r.lenenc_bytes("column catalog")?;
        let schema = text(r.lenenc_bytes("column schema")?);
        let table = text(r.lenenc_bytes("column table")?);
        let org_table = text(r.lenenc_bytes("column org_table")?);
        let name = text(r.lenenc_bytes("column name")?);
        let org_name = text(r.lenenc_bytes("column org_name")?);
        let _fixed_len = r.lenenc_int("column fixed fields length")?;
        let charset = r.u16("column charset")?;
        let length = r.u32("column length")?;
        let column_type = r.u8("column type")?;
        let flags = r.u16("column flags")?;
        let decimals = r.u8("column decimals")?;
        Ok(Column { schema, table, org_table, name, org_name, charset, length, column_type, flags, decimals })
    }

    /// The bytes this definition occupies in memory: the struct and its five strings.
    pub fn memory_size(&self) -> usize {
        let strings = [&self.schema, &self.table, &self.org_table, &self.name, &self.org_name];
        std::mem::size_of::<Column>() + strings.iter().map(|s| s.capacity()).sum::<usize>()
    }

    pub fn is_unsigned(&self) -> bool {
        self.flags & UNSIGNED_FLAG != 0
    }

    pub fn is_nullable(&self) -> bool {
        self.flags & NOT_NULL_FLAG == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `SELECT id FROM test.t` against MariaDB 10.11.19 (id INT NOT NULL PRIMARY KEY), captured.
    const ID_COLUMN: &[u8] =
        b"\x03def\x04test\x01t\x01t\x02id\x02id\x0c\x3f\x00\x0b\x00\x00\x00\x03\x03\x50\x00\x00\x00";

    #[test]
    fn parses_captured_definition() {
        let c = Column::parse(ID_COLUMN).unwrap();
        assert_eq!((c.schema.as_str(), c.table.as_str(), c.name.as_str()), ("test", "t", "id"));
        assert_eq!(c.charset, 63);
        assert_eq!(c.length, 11);
        assert_eq!(c.column_type, 3);
        assert_eq!(c.flags, 0x5003);
        assert!(!c.is_nullable());
    }

    #[test]
    fn truncated_definition_is_an_error() {
        for n in 0..ID_COLUMN.len() - 2 {
            assert!(Column::parse(&ID_COLUMN[..n]).is_err(), "prefix {n}");
        }
    }
}
