//! Galera cluster nodes (MariaDB Galera Cluster, Percona XtraDB Cluster). A node serves the
//! application only while it is in the primary component and Synced: `wsrep_ready` is ON and
//! `wsrep_local_state` is 4. A joiner refuses queries with 1047, but a donor or a desynced node
//! answers them from data that may be behind the cluster, so "it answered" is not enough. With
//! `HaOptions::galera`, connect and acquire ask the node first and skip one that is not Synced.

use super::connection::{Conn, Connection};
use super::result_set::StatementResult;
use crate::error::{server_code::ER_UNKNOWN_COM_ERROR, Error};
use crate::protocol::value::Value;

/// `wsrep_local_state` of a node that is Synced with the cluster.
pub const WSREP_SYNCED: u8 = 4;

/// What a node says of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Not a Galera node (no `wsrep_local_state`): there is nothing to wait for.
    Standalone,
    /// A Galera node: `wsrep_ready` and `wsrep_local_state` (1 joining, 2 donor, 3 joined, 4 synced).
    Galera { ready: bool, local_state: u8 },
}

impl NodeState {
    /// Reads the rows of `SHOW GLOBAL STATUS WHERE Variable_name IN (...)`.
    pub fn from_status<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> NodeState {
        let (mut ready, mut local_state) = (false, None);
        for (name, value) in rows {
            match name.to_ascii_lowercase().as_str() {
                "wsrep_ready" => ready = value.eq_ignore_ascii_case("ON"),
                // An unreadable state is not Synced.
                "wsrep_local_state" => local_state = Some(value.trim().parse().unwrap_or(0)),
                _ => {}
            }
        }
        match local_state {
            None => NodeState::Standalone,
            Some(local_state) => NodeState::Galera { ready, local_state },
        }
    }

    /// Whether the node may take application traffic.
    pub fn is_synced(self) -> bool {
        match self {
            NodeState::Standalone => true,
            NodeState::Galera { ready, local_state } => ready && local_state == WSREP_SYNCED,
        }
    }
}

/// The error for a node that answered but is not Synced: the one a joiner sends itself (1047,
/// 08S01), so callers and the retry helper treat both alike.
fn not_synced(state: NodeState) -> Error {
    let detail = match state {
        NodeState::Galera { ready, local_state } => {
            format!("wsrep_ready {}, wsrep_local_state {local_state}", if ready { "ON" } else { "OFF" })
        }
        NodeState::Standalone => String::new(),
    };
    Error::Server {
        code: ER_UNKNOWN_COM_ERROR,
        sqlstate: "08S01".into(),
        message: format!("the Galera node is not Synced with its cluster ({detail})"),
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::UInt(u)) => u.to_string(),
        _ => String::new(),
    }
}

impl Conn {
    /// Asks the node for its Galera state, one round trip.
    pub(crate) async fn galera_state(&mut self) -> Result<NodeState, Error> {
        let rows = self
            .command(async |c: &mut Conn| {
                let sql = "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state')";
                let (id, result) = c.start_query(sql).await?;
                let mut rows = Vec::new();
                if let StatementResult::Rows(meta) = result {
                    while let Some(row) = c.read_row_as(id, &meta.columns, false).await? {
                        rows.push((text(row.first()), text(row.get(1))));
                    }
                }
                c.drain_pending().await?;
                Ok(rows)
            })
            .await?;
        Ok(NodeState::from_status(rows.iter().map(|(n, v)| (n.as_str(), v.as_str()))))
    }

    /// Fails with 1047 unless the node is Synced (or not a Galera node at all).
    pub(crate) async fn check_galera_synced(&mut self) -> Result<(), Error> {
        let state = self.galera_state().await?;
        if state.is_synced() {
            Ok(())
        } else {
            Err(not_synced(state))
        }
    }

    /// Causal reads: every read of the session waits until the node applied what the cluster
    /// committed before it (`wsrep_sync_wait`, a bit mask; 1 covers reads).
    pub(crate) async fn set_wsrep_sync_wait(&mut self, mask: u8) -> Result<(), Error> {
        self.query_all(&format!("SET SESSION wsrep_sync_wait = {mask}")).await
    }
}

impl Connection {
    /// What the server says of itself as a Galera node (one round trip).
    pub async fn galera_state(&self) -> Result<NodeState, Error> {
        self.lock().await.galera_state().await
    }

    /// Fails with a retryable 1047 unless the node is Synced (or not a Galera node at all).
    pub(crate) async fn check_galera_synced(&self) -> Result<(), Error> {
        self.lock().await.check_galera_synced().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_synced_only_when_ready_and_in_state_4() {
        let synced = NodeState::from_status([("wsrep_local_state", "4"), ("wsrep_ready", "ON")]);
        assert_eq!(synced, NodeState::Galera { ready: true, local_state: 4 });
        assert!(synced.is_synced());
        // A donor answers queries but may be behind: not synced.
        assert!(!NodeState::from_status([("wsrep_local_state", "2"), ("wsrep_ready", "ON")]).is_synced());
        // Out of the primary component.
        assert!(!NodeState::from_status([("WSREP_LOCAL_STATE", "4"), ("WSREP_READY", "OFF")]).is_synced());
        assert!(!NodeState::from_status([("wsrep_local_state", "x"), ("wsrep_ready", "ON")]).is_synced());
        // A server without wsrep shows wsrep_ready OFF and no local state: not a cluster node.
        assert_eq!(NodeState::from_status([("wsrep_ready", "OFF")]), NodeState::Standalone);
        assert!(NodeState::Standalone.is_synced());
    }

    #[test]
    fn a_node_not_synced_is_a_retryable_1047() {
        let e = not_synced(NodeState::Galera { ready: true, local_state: 2 });
        assert!(e.is_retryable());
        assert!(
            matches!(&e, Error::Server { code: 1047, sqlstate, message }
            if sqlstate == "08S01" && message.contains("wsrep_local_state 2")),
            "{e:?}"
        );
    }
}
