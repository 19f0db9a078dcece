//! cymysql's `conv` and `encoders` in Rust: a caller's decoders by column type and encoders by
//! value type, set in [`ConnectOptions::converters`](super::options::ConnectOptions) or on a
//! connection with [`Connection::set_converters`].
//!
//! With none set (the default) rows and parameters take the usual path, with no conversion pass.

use std::fmt;
use std::sync::Arc;

use super::connection::Connection;
use crate::protocol::column::Column;
use crate::protocol::error::InputError;
use crate::protocol::escape::{write_literal, EscapeMode};
use crate::protocol::value::{Value, ValueKind};

/// A decoder (a value of cymysql's `conv`): the column and the cell's text as the text protocol
/// carries it (never NULL: NULL stays [`Value::Null`], as in cymysql) to the value to return.
/// An `Err` message becomes a data error for the row; the rest of the result is discarded and
/// the connection stays usable.
pub type DecodeFn = dyn Fn(&Column, &[u8]) -> Result<Value, String> + Send + Sync;

/// An encoder (a value of cymysql's `encoders`): a parameter to the SQL literal put in the
/// statement in its place, under the session's escaping rules. What it returns is sent verbatim,
/// so it must quote and escape text itself (see [`crate::protocol::escape::escape_string_into`]).
/// An `Err` message becomes a data error and nothing is sent.
pub type EncodeFn = dyn Fn(&Value, EscapeMode) -> Result<String, String> + Send + Sync;

/// A caller's decoders, keyed by the column's `enum_field_types` code (`MYSQL_TYPE_*`, as the
/// server sends it: DECIMAL columns arrive as `MYSQL_TYPE_NEWDECIMAL`), and encoders, keyed by
/// [`ValueKind`].
///
/// Decoders apply to rows of cursors, dict cursors, prepared statements and query streams. On
/// the binary protocol (prepared statements) a decoder receives the text the text protocol would
/// have carried, rendered from the decoded value, with strings in UTF-8. Encoders apply where
/// parameters become SQL text (`execute`, `executemany`, `mogrify`, `callproc`); the binary
/// protocol sends parameters typed, so they do not apply there.
#[derive(Clone, Default)]
pub struct Converters {
    decoders: Vec<(u8, Arc<DecodeFn>)>,
    encoders: Vec<(ValueKind, Arc<EncodeFn>)>,
}

impl Converters {
    /// No decoders and no encoders.
    pub fn new() -> Self {
        Converters::default()
    }

    /// Decodes columns of `field_type` with `decode` (replacing an earlier decoder for it).
    pub fn decoder(
        mut self,
        field_type: u8,
        decode: impl Fn(&Column, &[u8]) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        self.decoders.retain(|(t, _)| *t != field_type);
        self.decoders.push((field_type, Arc::new(decode)));
        self
    }

    /// Encodes parameters of `kind` with `encode` (replacing an earlier encoder for it).
    pub fn encoder(
        mut self,
        kind: ValueKind,
        encode: impl Fn(&Value, EscapeMode) -> Result<String, String> + Send + Sync + 'static,
    ) -> Self {
        self.encoders.retain(|(k, _)| *k != kind);
        self.encoders.push((kind, Arc::new(encode)));
        self
    }

    /// Whether no decoder and no encoder is set.
    pub fn is_empty(&self) -> bool {
        self.decoders.is_empty() && self.encoders.is_empty()
    }

    pub(crate) fn has_decoders(&self) -> bool {
        !self.decoders.is_empty()
    }

    pub(crate) fn has_encoders(&self) -> bool {
        !self.encoders.is_empty()
    }

    /// The decoder for columns of `field_type`, if one is set.
    pub(crate) fn decoder_for(&self, field_type: u8) -> Option<&DecodeFn> {
        self.decoders.iter().find(|(t, _)| *t == field_type).map(|(_, f)| &**f)
    }

    /// Writes `v` as the caller's encoder for its kind renders it, or as the driver does.
    pub(crate) fn write_literal(&self, out: &mut String, v: &Value, mode: EscapeMode) -> Result<(), InputError> {
        match self.encoders.iter().find(|(k, _)| *k == v.kind()) {
            Some((_, encode)) => {
                out.push_str(&encode(v, mode).map_err(InputError::Value)?);
                Ok(())
            }
            None => write_literal(out, v, mode),
        }
    }
}

impl PartialEq for Converters {
    /// The same functions for the same keys, in the same order (functions compare by identity).
    fn eq(&self, other: &Self) -> bool {
        self.decoders.len() == other.decoders.len()
            && self.encoders.len() == other.encoders.len()
            && self.decoders.iter().zip(&other.decoders).all(|(a, b)| a.0 == b.0 && Arc::ptr_eq(&a.1, &b.1))
            && self.encoders.iter().zip(&other.encoders).all(|(a, b)| a.0 == b.0 && Arc::ptr_eq(&a.1, &b.1))
    }
}

impl fmt::Debug for Converters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Converters")
            .field("decoders", &self.decoders.iter().map(|(t, _)| *t).collect::<Vec<_>>())
            .field("encoders", &self.encoders.iter().map(|(k, _)| *k).collect::<Vec<_>>())
            .finish()
    }
}

impl Connection {
    /// Replaces this connection's decoders and encoders (cymysql's `conv` and `encoders`); they
    /// take effect from the next statement and survive a reconnect.
    pub async fn set_converters(&self, converters: Converters) {
        self.lock().await.options.converters = converters;
    }

    /// This connection's decoders and encoders.
    pub async fn converters(&self) -> Converters {
        self.lock().await.options.converters.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::column_type::*;

    #[test]
    fn a_later_function_for_the_same_key_replaces_the_earlier() {
        let c = Converters::new()
            .decoder(MYSQL_TYPE_LONG, |_, _| Ok(Value::Int(1)))
            .decoder(MYSQL_TYPE_LONG, |_, _| Ok(Value::Int(2)))
            .encoder(ValueKind::Int, |_, _| Ok("1".into()));
        assert_eq!(format!("{c:?}"), "Converters { decoders: [3], encoders: [Int] }");
        let col = crate::protocol::binary_row::tests::edge_columns().remove(0);
        assert_eq!(c.decoder_for(MYSQL_TYPE_LONG).map(|f| f(&col, b"7")), Some(Ok(Value::Int(2))));
        assert!(c.decoder_for(MYSQL_TYPE_TINY).is_none());
        assert_eq!(c.clone(), c);
        assert_ne!(c, Converters::new());
        assert!(Converters::new().is_empty() && !c.is_empty());
    }

    #[test]
    fn encoders_take_their_kind_and_the_rest_is_escaped_as_usual() {
        let c = Converters::new()
            .encoder(ValueKind::Bytes, |v, _| match v {
                Value::Bytes(b) => Ok(format!("UNHEX('{}')", b.iter().map(|x| format!("{x:02X}")).collect::<String>())),
                _ => Err("not bytes".into()),
            })
            .encoder(ValueKind::Double, |_, _| Err("no doubles here".into()));
        let mode = EscapeMode::default();
        let mut out = String::new();
        c.write_literal(&mut out, &Value::Bytes(vec![0xbf, 0x27]), mode).unwrap();
        out.push(' ');
        c.write_literal(&mut out, &Value::Text("it's".into()), mode).unwrap();
        assert_eq!(out, "UNHEX('BF27') 'it\\'s'");
        let e = c.write_literal(&mut out, &Value::Double(1.0), mode).unwrap_err();
        assert_eq!(e, InputError::Value("no doubles here".into()));
    }
}
