//! cymysql's `async with conn` in Rust: a transaction guard, and a closure run in one transaction
//! (committed on `Ok`, rolled back on `Err`; run once, where [`Connection::transaction_with`]
//! retries).
//!
//! Dropping a guard cannot await a ROLLBACK, so it only marks the connection; the next caller
//! that takes the connection's lock sends the ROLLBACK first (see `Connection::lock`). A work
//! left half done is therefore never committed by a later COMMIT.

use super::connection::Connection;
use crate::error::Error;

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
