//! Streaming a result set to a consumer as it arrives, holding the connection until it ends: what
//! WASI 0.3's `stream<row>` needs, and what a consumer that is slower than the server needs.

use super::connection::{Conn, Connection};
use super::cursor::Row;
use super::events::Ran;
use super::result_set::StatementResult;
use crate::error::Error;
use crate::protocol::column::Column;
use crate::protocol::interpolate::Params;

/// The most rows handed over at once. A batch holds only rows already received: the socket is read
/// again only after the consumer took the batch, so memory stays bounded whatever the result's size.
pub const MAX_BATCH: usize = 256;

impl Connection {
    /// Runs `query` and hands its result to the consumer as it arrives: `on_columns` first (empty for
    /// a statement without a result set), then batches of rows to `on_rows`. Either returning false
    /// means nobody listens any more: the rest of the result is read and discarded, so the
    /// connection stays usable. The connection is held until then; other calls on it wait.
    ///
    /// An error before `on_columns` was called means the statement did not start; one after it is
    /// how the statement ended (a server error after some rows, such as a killed query).
    pub async fn query_stream(
        &self,
        query: &str,
        params: Option<&Params>,
        on_columns: impl FnOnce(&[Column]) -> bool,
        mut on_rows: impl AsyncFnMut(Vec<Row>) -> bool,
    ) -> Result<(), Error> {
        let mut c = self.lock().await;
        let sql = c.render_query(query, params)?;
        let started = c.observe_start();
        let (mut streamed, mut affected_rows) = (0u64, 0u64);
        let r = c
            .command(async |c: &mut Conn| {
                let (id, result) = c.start_query(&sql).await?;
                let columns = match result {
                    StatementResult::Ok(ok) => {
                        affected_rows = ok.affected_rows;
                        on_columns(&[]);
                        return c.drain_pending().await;
                    }
                    StatementResult::Rows(meta) => meta.columns.clone(),
                };
                let mut listening = on_columns(&columns);
                while listening {
                    let Some(first) = c.read_row(id, &columns).await? else { break };
                    let mut batch = vec![first];
                    let mut end = Ok(false);
                    // Rows whose bytes already arrived join the batch; the socket is not read for it,
                    // so no read, timeout or KILL is started and dropped half-way.
                    while batch.len() < MAX_BATCH {
                        match c.buffered_row(id, &columns) {
                            Ok(None) => break,
                            Ok(Some(Some(row))) => batch.push(row),
                            Ok(Some(None)) => {
                                end = Ok(true);
                                break;
                            }
                            Err(e) => {
                                end = Err(e);
                                break;
                            }
                        }
                    }
                    streamed += batch.len() as u64;
                    listening = on_rows(batch).await;
                    if end? {
                        break;
                    }
                }
                // The consumer left early, or further results of a multi-statement query follow.
                c.drain_pending().await
            })
            .await;
        if let Some(started) = started {
            let error = r.as_ref().err();
            let ran =
                Ran { query, with_params: params.is_some(), sent: &sql, rows: Some(streamed), affected_rows, error };
            c.report_statement(started, ran);
        }
        r
    }
}
