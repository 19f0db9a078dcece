//! Rust ergonomics for cymysql's `async with conn` and `async for row in cursor`: a transaction
//! guard and cursors as `futures::Stream`s of rows.
//!
//! Dropping a guard cannot await a ROLLBACK, so it only marks the connection; the next caller
//! that takes the connection's lock sends the ROLLBACK first (see `Connection::lock`). A work
//! left half done is therefore never committed by a later COMMIT.

use futures::stream::{self, Stream};

use super::connection::Connection;
use super::cursor::{Cursor, DictCursor, DictRow};
use crate::error::Error;
use crate::protocol::value::Value;

/// A transaction begun with [`Connection::begin_transaction`]: [`commit`](Transaction::commit)
/// or [`rollback`](Transaction::rollback) ends it, and dropping it unended rolls it back on the
/// connection's next use.
#[must_use = "dropping the guard rolls the transaction back"]
pub struct Transaction<'a> {
    conn: &'a Connection,
    ended: bool,
}

impl Connection {
    /// `BEGIN`, returning a guard that rolls back unless committed.
    pub async fn begin_transaction(&self) -> Result<Transaction<'_>, Error> {
        self.begin().await?;
        Ok(Transaction { conn: self, ended: false })
    }

    /// Runs `body` in a transaction: commits if it returns `Ok`, rolls back if it returns `Err`
    /// (or if the future is dropped before it ends).
    pub async fn transaction<T>(&self, body: impl AsyncFnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let tx = self.begin_transaction().await?;
        match body(self).await {
            Ok(v) => tx.commit().await.map(|()| v),
            Err(e) => {
                // The body's error is the one to report; a failed ROLLBACK breaks the session.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
}

impl Transaction<'_> {
    /// COMMIT. On an error the transaction is rolled back on the connection's next use.
    pub async fn commit(mut self) -> Result<(), Error> {
        self.conn.commit().await?;
        self.ended = true;
        Ok(())
    }

    /// ROLLBACK.
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.conn.rollback().await?;
        self.ended = true;
        Ok(())
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.rollback_on_next_use();
        }
    }
}

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
