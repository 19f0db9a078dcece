//! The command guard: every exchange with the server runs inside [`Conn::command`], which starts
//! it, ends it, and marks the session broken when the packet sequence can no longer be trusted.
//!
//! A command whose future is dropped halfway (a timeout, a cancelled task) never reaches its end:
//! the session stays `InCommand`, and the next command finds it broken instead of reading the
//! abandoned command's replies as its own. A fatal error (see [`Error::is_fatal`]) breaks it at once.

use std::ops::{Deref, DerefMut};

use futures::lock::MutexGuard;

use super::connection::{Cached, Conn, Connection, Pending, State};
use crate::error::Error;

/// The session locked for one caller. When the lock is released what the server last reported
/// is copied to the connection's cache, readable without the lock (`get_autocommit`, `insert_id`).
pub(crate) struct Session<'a> {
    conn: MutexGuard<'a, Conn>,
    cached: &'a Cached,
}

impl Connection {
    /// Waits for the session: commands from several tasks queue up here in turn.
    ///
    /// If a transaction guard was dropped unended since the last lock, ROLLBACK goes first, so the
    /// abandoned work never reaches a later COMMIT; if that fails the session is marked broken.
    pub(crate) async fn lock(&self) -> Session<'_> {
        let mut session = Session { conn: self.inner.lock().await, cached: &self.cached };
        if self.cached.rollback_pending.replace(false)
            && session.state == State::Ready
            && session.query_all("ROLLBACK").await.is_err()
        {
            session.mark_broken();
        }
        session
    }

    /// Marks the session for a ROLLBACK before its next command (see [`Connection::lock`]).
    pub(crate) fn rollback_on_next_use(&self) {
        self.cached.rollback_pending.set(true);
    }
}

impl Deref for Session<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl DerefMut for Session<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.cached.update(&self.conn);
    }
}

impl Conn {
    /// Runs one command: fails at once if the session cannot take it, runs `exchange`, then marks
    /// the wire known again (what the command left on it is in `pending`), or the session broken
    /// if `exchange` failed fatally.
    pub(crate) async fn command<T>(
        &mut self,
        exchange: impl AsyncFnOnce(&mut Conn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if self.may_fail_over() {
            self.fail_over().await?;
        }
        self.check_ready()?;
        self.state = State::InCommand;
        let r = exchange(self).await;
        let r = self.track(r);
        if self.state == State::InCommand {
            self.state = State::Ready;
        }
        r
    }

    /// Fails if the connection cannot start a command; marks it broken if a command was abandoned.
    pub(crate) fn check_ready(&mut self) -> Result<(), Error> {
        match self.state {
            State::Ready => Ok(()),
            State::Closed => Err(Error::Closed),
            State::Broken if self.lost_transaction => Err(Error::TransactionLost),
            State::Broken => Err(Error::Broken),
            State::InCommand => {
                // A command future was dropped halfway: the packet sequence is unknown.
                self.mark_broken();
                Err(Error::Broken)
            }
        }
    }

    pub(crate) fn mark_broken(&mut self) {
        if self.state != State::Broken {
            self.note_broken_transaction();
        }
        self.state = State::Broken;
        self.transport = None;
        self.pending = Pending::Nothing;
    }

    /// Records the outcome of a step: fatal errors break the connection.
    pub(super) fn track<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &r {
            if e.is_fatal() {
                self.mark_broken();
            }
        }
        r
    }
}
