//! cymysql's `async for row in cursor` in Rust: a cursor's rows as a `futures::Stream`.

use futures::stream::{self, Stream};

use super::cursor::{Cursor, DictCursor, DictRow};
use crate::error::Error;
use crate::protocol::value::Value;

impl Cursor {
    /// The rows of the current result set as a `futures::Stream` (`async for row in cursor`),
    /// buffered or unbuffered; it ends after the last row or the first error.
    pub fn rows(&mut self) -> impl Stream<Item = Result<Vec<Value>, Error>> + '_ {
        stream::unfold(Some(self), |cursor| async move {
            let cursor = cursor?;
            match cursor.fetchone().await {
                Ok(Some(row)) => Some((Ok(row), Some(cursor))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

impl DictCursor {
    /// [`Cursor::rows`] with dict rows.
    pub fn rows(&mut self) -> impl Stream<Item = Result<DictRow, Error>> + '_ {
        stream::unfold(Some(self), |cursor| async move {
            let cursor = cursor?;
            match cursor.fetchone().await {
                Ok(Some(row)) => Some((Ok(row), Some(cursor))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}
