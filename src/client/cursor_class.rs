//! PyMySQL's `cursorclass`: the kind of cursor a connection makes by default, so that dict rows
//! can be every cursor's default.

use super::connection::Connection;
use super::cursor::{Cursor, DictCursor};

/// The cursor kinds of cymysql and PyMySQL, by their class names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CursorClass {
    /// Buffered, rows as value lists (`Cursor`, the default).
    #[default]
    Cursor,
    /// Buffered, rows as (column name, value) pairs (`DictCursor`).
    DictCursor,
    /// Unbuffered, rows as value lists (`SSCursor`).
    SSCursor,
    /// Unbuffered, dict rows (`SSDictCursor`).
    SSDictCursor,
}

impl CursorClass {
    /// The class named `name`: PyMySQL's class names (`DictCursor`) or their kebab-case WIT
    /// names (`dict-cursor`), in any case.
    pub fn from_name(name: &str) -> Option<CursorClass> {
        let key: String = name.chars().filter(|c| *c != '-' && *c != '_').flat_map(char::to_lowercase).collect();
        match key.as_str() {
            "cursor" | "tuple" => Some(CursorClass::Cursor),
            "dictcursor" | "dict" => Some(CursorClass::DictCursor),
            "sscursor" => Some(CursorClass::SSCursor),
            "ssdictcursor" => Some(CursorClass::SSDictCursor),
            _ => None,
        }
    }
}

/// A cursor of either row shape, as [`Connection::default_cursor`] makes it.
pub enum AnyCursor {
    Tuple(Cursor),
    Dict(DictCursor),
}

impl Connection {
    /// A new cursor of the connection's `cursorclass` (PyMySQL's `connection.cursor()` without an
    /// argument).
    pub fn default_cursor(&self) -> AnyCursor {
        match self.cursorclass() {
            CursorClass::Cursor => AnyCursor::Tuple(self.cursor()),
            CursorClass::SSCursor => AnyCursor::Tuple(self.ss_cursor()),
            CursorClass::DictCursor => AnyCursor::Dict(self.dict_cursor()),
            CursorClass::SSDictCursor => AnyCursor::Dict(self.ss_dict_cursor()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_in_pymysql_and_wit_spelling() {
        for (name, class) in [
            ("Cursor", CursorClass::Cursor),
            ("DictCursor", CursorClass::DictCursor),
            ("dict-cursor", CursorClass::DictCursor),
            ("SSCursor", CursorClass::SSCursor),
            ("ss_cursor", CursorClass::SSCursor),
            ("SSDictCursor", CursorClass::SSDictCursor),
            ("ss-dict-cursor", CursorClass::SSDictCursor),
        ] {
            assert_eq!(CursorClass::from_name(name), Some(class), "{name}");
        }
        assert_eq!(CursorClass::from_name("Dicts"), None);
        assert_eq!(CursorClass::from_name(""), None);
    }
}
