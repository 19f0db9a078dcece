//! Failover at safe points (opt-in, `HaOptions::failover`): a session that broke outside a
//! transaction is replaced on its next command, on the host list's best server, with the session
//! state re-applied: character set, database, sql_mode, init_command and autocommit. The command
//! that found the session broken is never re-sent (it may have run), and a session that broke
//! inside a transaction is never replaced silently: its commands fail with
//! [`Error::TransactionLost`] until the caller rolls back, since the server already did.

use super::connection::{Conn, State};
use super::transport::LocalFuture;
use crate::error::Error;
use crate::protocol::constants::status::*;

impl Conn {
    /// Whether this session may be replaced now: failover asked for, broken, and not inside a
    /// transaction the caller has not yet given up.
    pub(super) fn may_fail_over(&self) -> bool {
        self.state == State::Broken
            && !self.lost_transaction
            && self.hosts.as_ref().is_some_and(|h| h.options().failover)
    }

    /// Replaces the broken session by a new one with the same state; the failover count goes up.
    pub(super) async fn fail_over(&mut self) -> Result<(), Error> {
        // What the session last had, which may differ from the connect-time options.
        self.options.charset = self.charset.name.to_string();
        self.options.autocommit = Some(self.status & SERVER_STATUS_AUTOCOMMIT != 0);
        // Boxed: opening a session runs commands, which may fail over (never at once: a new
        // session is not broken), so the future type would otherwise contain itself.
        let reopen: LocalFuture<'_, Result<Conn, Error>> = Box::pin(self.reopen());
        let fresh = reopen.await?;
        let failovers = self.failovers.saturating_add(1);
        *self = fresh;
        self.failovers = failovers;
        Ok(())
    }

    /// Called as the session breaks: remembers whether a transaction was open, which the server
    /// rolls back, so its next commands cannot silently run outside it.
    pub(super) fn note_broken_transaction(&mut self) {
        if self.status & SERVER_STATUS_IN_TRANS != 0 {
            self.lost_transaction = true;
        }
    }
}
