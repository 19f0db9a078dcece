//! Servers that work together, for the tests of host lists: a Galera cluster of throwaway nodes
//! on loopback, and a primary with a binlog replica.
//!
//! [`GaleraCluster::start`] bootstraps the first node (`--wsrep-new-cluster`) and lets the others
//! join it by rsync state transfer; each node has its own data directory, SQL port, gcomm port,
//! IST port and SST port. [`ReplicaPair::start`] starts two plain servers and points the second at
//! the first with CHANGE MASTER TO.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::server::{free_port, percent_encode, sql_string, ServerSpec, TestServer};

/// How long a node may take to reach Synced (a state transfer included).
const SYNC_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a write made through one node may take to be applied on the others.
const APPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// The Galera provider of Debian's `galera-4`.
const PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";

/// A running Galera cluster; dropping it stops every node and deletes its data.
pub struct GaleraCluster {
    pub nodes: Vec<TestServer>,
}

/// Ports a node takes besides its SQL port.
struct NodePorts {
    sql: u16,
    gcomm: u16,
    ist: u16,
    sst: u16,
}

impl GaleraCluster {
    /// Starts `n` nodes (3 keeps quorum when one is killed) and waits until all are Synced.
    pub fn start(n: usize) -> Result<GaleraCluster> {
        if !Path::new(PROVIDER).exists() {
            bail!("the Galera provider {PROVIDER} is missing: install Debian's galera-4 (scripts/setup does)");
        }
        let ports: Vec<NodePorts> = (0..n)
            .map(|_| Ok(NodePorts { sql: free_port()?, gcomm: free_port()?, ist: free_port()?, sst: free_port()? }))
            .collect::<Result<_>>()?;
        let members: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{}", p.gcomm)).collect();
        let address = format!("gcomm://{}", members.join(","));
        let spec = |p: &NodePorts| ServerSpec {
            extra: vec![
                "--wsrep-on=ON".into(),
                format!("--wsrep-provider={PROVIDER}"),
                "--wsrep-cluster-name=cymysql-wasi-test".into(),
                format!("--wsrep-cluster-address={address}"),
                format!("--wsrep-node-address=127.0.0.1:{}", p.gcomm),
                format!("--wsrep-node-incoming-address=127.0.0.1:{}", p.sql),
                format!("--wsrep-sst-receive-address=127.0.0.1:{}", p.sst),
                format!(
                    "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{};ist.recv_addr=127.0.0.1:{}",
                    p.gcomm, p.ist
                ),
                "--wsrep-sst-method=rsync".into(),
                // What Galera requires of the server.
                "--binlog-format=ROW".into(),
                "--innodb-autoinc-lock-mode=2".into(),
                "--default-storage-engine=InnoDB".into(),
            ],
            port: Some(p.sql),
            as_mysql_user: true,
            ..ServerSpec::default()
        };
        let first =
            TestServer::start_spec(&ServerSpec { first_start: vec!["--wsrep-new-cluster".into()], ..spec(&ports[0]) })
                .context("bootstrapping the first Galera node")?;
        wait_synced(&first)?;
        let password = first.root_password.clone();
        let mut cluster = GaleraCluster { nodes: vec![first] };
        // One at a time: a donor serves one state transfer at a time anyway.
        for (i, p) in ports.iter().enumerate().skip(1) {
            let node = TestServer::start_spec(&ServerSpec {
                joins_cluster: true,
                root_password: Some(password.clone()),
                ..spec(p)
            })
            .with_context(|| format!("starting Galera node {}", i + 1))?;
            wait_synced(&node)?;
            cluster.nodes.push(node);
        }
        Ok(cluster)
    }

    /// A URL over every node, `mysql://root:PASS@127.0.0.1:P1,127.0.0.1:P2,.../db`, to which
    /// the caller adds `?ha=...`.
    pub fn url(&self, db: &str) -> String {
        let hosts: Vec<String> = self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        format!(
            "mysql://root:{}@{}/{}",
            percent_encode(&self.nodes[0].root_password),
            hosts.join(","),
            percent_encode(db)
        )
    }

    /// Waits (bounded) until every node answers `probe` with at least one row, reading causally
    /// (`wsrep_sync_wait = 1`). Galera certifies a write set on every node at commit but applies it
    /// on the others a little later, so DDL and rows written through one node are only there for
    /// another node's sessions once this returns.
    pub fn wait_applied(&self, probe: &str) -> Result<()> {
        for node in &self.nodes {
            let deadline = Instant::now() + APPLY_TIMEOUT;
            loop {
                match node.admin_sql(&format!("SET SESSION wsrep_sync_wait = 1; {probe}")) {
                    Ok(out) if !out.trim().is_empty() => break,
                    outcome if Instant::now() >= deadline => {
                        bail!(
                            "node on port {} did not apply `{probe}` within {}s: {outcome:?}",
                            node.port,
                            APPLY_TIMEOUT.as_secs()
                        )
                    }
                    _ => thread::sleep(Duration::from_millis(100)),
                }
            }
        }
        Ok(())
    }

    /// Kills node `i` as in a crash; the others keep quorum (of three).
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    /// Starts node `i` again (it rejoins by incremental state transfer) and waits until it is Synced.
    pub fn restart(&mut self, i: usize) -> Result<()> {
        self.nodes[i].restart()?;
        wait_synced(&self.nodes[i])
    }
}

/// `wsrep_local_state` of a node, or None while it does not answer.
pub fn local_state(node: &TestServer) -> Option<u8> {
    let out = node.admin_sql("SHOW GLOBAL STATUS LIKE 'wsrep_local_state'").ok()?;
    out.split_whitespace().nth(1)?.parse().ok()
}

/// Waits until a node is Synced (state 4) with its cluster.
fn wait_synced(node: &TestServer) -> Result<()> {
    let deadline = Instant::now() + SYNC_TIMEOUT;
    while local_state(node) != Some(4) {
        if Instant::now() >= deadline {
            bail!("Galera node on port {} did not reach Synced within {}s", node.port, SYNC_TIMEOUT.as_secs());
        }
        thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// A primary with binlog replication to one replica; dropping it stops both.
pub struct ReplicaPair {
    pub primary: TestServer,
    pub replica: TestServer,
}

impl ReplicaPair {
    /// Starts both servers and replication from the primary's current binlog position; both
    /// have the same root password, so one URL lists both.
    pub fn start() -> Result<ReplicaPair> {
        let primary = TestServer::start_spec(&ServerSpec {
            extra: vec!["--server-id=1".into(), "--log-bin=binlog".into(), "--binlog-format=ROW".into()],
            ..ServerSpec::default()
        })?;
        let replica = TestServer::start_spec(&ServerSpec {
            extra: vec!["--server-id=2".into(), "--read-only=ON".into()],
            root_password: Some(primary.root_password.clone()),
            ..ServerSpec::default()
        })?;
        let (file, pos) = binlog_position(&primary)?;
        replica.admin_sql(&format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='root', \
             MASTER_PASSWORD={}, MASTER_LOG_FILE={}, MASTER_LOG_POS={pos}; START SLAVE;",
            primary.port,
            sql_string(&primary.root_password),
            sql_string(&file)
        ))?;
        Ok(ReplicaPair { primary, replica })
    }

    /// `mysql://root:PASS@127.0.0.1:PRIMARY,127.0.0.1:REPLICA/db?ha=replication`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "mysql://root:{}@127.0.0.1:{},127.0.0.1:{}/{}?ha=replication",
            percent_encode(&self.primary.root_password),
            self.primary.port,
            self.replica.port,
            percent_encode(db)
        )
    }

    /// Waits until the replica applied everything the primary wrote so far.
    pub fn wait_caught_up(&self) -> Result<()> {
        let (file, pos) = binlog_position(&self.primary)?;
        let out = self.replica.admin_sql(&format!("SELECT MASTER_POS_WAIT({}, {pos}, 30)", sql_string(&file)))?;
        // The number of events waited for, or -1 on timeout, NULL when replication is not running.
        if out.trim().starts_with('-') || out.trim() == "NULL" {
            bail!("the replica did not reach {file}:{pos} within 30s ({})", out.trim());
        }
        Ok(())
    }
}

/// The primary's current binlog file and position.
fn binlog_position(primary: &TestServer) -> Result<(String, u64)> {
    let status = primary.admin_sql("SHOW MASTER STATUS")?;
    let mut fields = status.split_whitespace();
    match (fields.next(), fields.next().and_then(|p| p.parse().ok())) {
        (Some(file), Some(pos)) => Ok((file.to_string(), pos)),
        _ => bail!("SHOW MASTER STATUS gave no binlog position: {status:?}"),
    }
}
