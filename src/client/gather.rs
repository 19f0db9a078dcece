//! `gather` over a pool (cymysql.aio's `asyncio.gather` of tasks that each acquire a connection):
//! tasks run concurrently, each its statements in order on one pooled connection.

use super::cursor::{Row, SharedBudget};
use super::pool::Pool;
use crate::error::Error;
use crate::protocol::interpolate::Params;

/// One statement of a [`Pool::gather`] task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskStatement {
    pub query: String,
    pub params: Option<Params>,
}

/// What one statement of a [`Pool::gather`] task returned.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementOutcome {
    /// Every row of the statement's result set; empty for a statement without one.
    pub rows: Vec<Row>,
    pub rowcount: i64,
    pub lastrowid: Option<u64>,
}

impl Pool {
    /// Runs each task (its statements in order on one pooled connection) concurrently with the
    /// others, like `asyncio.gather` over the pool; one result per task, in order. Every task's
    /// rows are returned together, so together they stay within `max_result_bytes`.
    pub async fn gather(&self, tasks: Vec<Vec<TaskStatement>>) -> Vec<Result<Vec<StatementOutcome>, Error>> {
        let budget = SharedBudget::default();
        let runs = tasks.into_iter().map(|task| self.run_task(task, budget.clone()));
        futures::future::join_all(runs).await
    }

    async fn run_task(&self, task: Vec<TaskStatement>, budget: SharedBudget) -> Result<Vec<StatementOutcome>, Error> {
        let conn = self.acquire().await?;
        let mut cursor = conn.cursor();
        cursor.share_budget(budget);
        let mut results = Vec::with_capacity(task.len());
        for statement in task {
            let executed = cursor.execute(&statement.query, statement.params.as_ref()).await;
            let rows = match executed {
                Ok(_) if cursor.description().is_some() => cursor.fetchall().await,
                Ok(_) => Ok(Vec::new()),
                Err(e) => Err(e),
            };
            let rows = match rows {
                Ok(rows) => rows,
                Err(e) => {
                    // A failed task returns no rows: they no longer count against the others.
                    cursor.release_shared_budget();
                    return Err(e);
                }
            };
            results.push(StatementOutcome { rows, rowcount: cursor.rowcount(), lastrowid: cursor.lastrowid() });
        }
        Ok(results)
    }
}
