//! The job queue: pending executions claimed atomically by workers, held with leases renewed by
//! heartbeats, completed exactly once by the lease holder, and reclaimed when a lease expires.
//!
//! Every transition is one conditional `UPDATE` on the execution row, so it either happens for the
//! caller or for nobody else. Worker ids must be unique per worker process (e.g. `host:pid:uuid`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use testmesh_runner::FlowRecord;

use crate::Store;
use crate::db::{Backend, RowExt, Sql, ms, now_ms};
use crate::error::{Error, Result};
use crate::executions::{
    EXECUTION_COLUMNS, Execution, ExecutionStatus, insert_steps, lease_end, step_counts,
};

/// After this many claims whose leases expired, an execution is failed instead of queued again:
/// a flow that kills its worker every time must not take the fleet down with it.
pub const MAX_ATTEMPTS: i64 = 5;

/// A claimed execution with the YAML of the flow version it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimedExecution {
    /// The execution (status running, leased to the claiming worker).
    pub execution: Execution,
    /// The flow YAML of the recorded version.
    pub yaml: String,
}

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Heartbeat {
    /// The lease now ends at this time.
    pub lease_expires_at: DateTime<Utc>,
    /// Someone asked to cancel: stop after the current step and complete.
    pub cancel_requested: bool,
}

impl Store {
    /// Claims the oldest pending execution for `worker_id` with a lease of `lease`, or returns
    /// `None` when the queue is empty. Concurrent claimers never get the same execution.
    pub async fn claim_next(
        &self,
        worker_id: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedExecution>> {
        loop {
            let now = now_ms();
            let mut sql = Sql::new("UPDATE executions SET status = 'running', worker_id = ");
            sql.bind(worker_id)
                .push(", lease_expires_at = ")
                .bind(lease_end(now, lease))
                .push(", started_at = ")
                .bind(now)
                .push(
                    ", attempts = attempts + 1 WHERE id = (SELECT id FROM executions WHERE status = 'pending' ORDER BY created_at, id LIMIT 1",
                );
            // PostgreSQL: concurrent claimers skip each other's locked row instead of queueing
            // behind it. SQLite: the single UPDATE holds the database write lock, which is atomic.
            if self.backend == Backend::Postgres {
                sql.push(" FOR UPDATE SKIP LOCKED");
            }
            sql.push(") RETURNING ").push(EXECUTION_COLUMNS);
            let Some(row) = sql.fetch_optional(&self.pool).await? else {
                return Ok(None);
            };
            let execution = Execution::from_row(&row)?;
            let mut yaml = Sql::new("SELECT yaml FROM flow_versions WHERE flow_id = ");
            yaml.bind(execution.flow_id.as_deref())
                .push(" AND version = ")
                .bind(execution.flow_version);
            match yaml.fetch_optional(&self.pool).await? {
                Some(row) => {
                    return Ok(Some(ClaimedExecution {
                        yaml: row.text("yaml")?,
                        execution,
                    }));
                }
                None => {
                    // Nothing to run (the flow was removed with its workspace): finish it as
                    // failed rather than hand out an empty job, and look for the next one.
                    self.finish_unrunnable(&execution.id, worker_id).await?;
                }
            }
        }
    }

    async fn finish_unrunnable(&self, id: &str, worker_id: &str) -> Result<()> {
        let mut sql = Sql::new(
            "UPDATE executions SET status = 'failed', error = 'the flow version to run no longer exists', lease_expires_at = NULL, finished_at = ",
        );
        sql.bind(now_ms())
            .push(" WHERE status = 'running' AND id = ")
            .bind(id)
            .push(" AND worker_id = ")
            .bind(worker_id);
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// Extends the lease of a claimed execution. `LeaseLost` when the worker no longer holds it
    /// (reclaimed after expiry, released, cancelled before it ran, or finished).
    pub async fn heartbeat(
        &self,
        execution_id: &str,
        worker_id: &str,
        lease: Duration,
    ) -> Result<Heartbeat> {
        let until = lease_end(now_ms(), lease);
        let mut sql = Sql::new("UPDATE executions SET lease_expires_at = ");
        sql.bind(until)
            .push(" WHERE status = 'running' AND id = ")
            .bind(execution_id)
            .push(" AND worker_id = ")
            .bind(worker_id)
            .push(" RETURNING lease_expires_at, cancel_requested");
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| lease_lost(execution_id, worker_id))?;
        Ok(Heartbeat {
            lease_expires_at: row.time("lease_expires_at")?,
            cancel_requested: row.flag("cancel_requested")?,
        })
    }

    /// Stores the outcome of a claimed execution: the final status (cancelled when cancellation
    /// was requested), counts and every step, in one transaction — only while `worker_id` still
    /// holds the execution, so each execution is completed exactly once. `LeaseLost` otherwise,
    /// and nothing is written. The record's own execution id is ignored.
    pub async fn complete_claimed(
        &self,
        execution_id: &str,
        worker_id: &str,
        record: &FlowRecord,
    ) -> Result<Execution> {
        let [total, passed, failed, skipped] = step_counts(record);
        let duration = i64::try_from(record.duration.as_millis()).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        // The guarded UPDATE comes first: it decides, under the row lock, whether this worker may
        // complete at all.
        let mut sql = Sql::new(
            "UPDATE executions SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE ",
        );
        sql.bind(ExecutionStatus::of_record(record).as_str())
            .push(" END, finished_at = ")
            .bind(now_ms())
            .push(", duration_ms = ")
            .bind(duration)
            .push(", total_steps = ")
            .bind(total)
            .push(", passed_steps = ")
            .bind(passed)
            .push(", failed_steps = ")
            .bind(failed)
            .push(", skipped_steps = ")
            .bind(skipped)
            .push(", error = ")
            .bind(record.error.as_deref())
            .push(", lease_expires_at = NULL WHERE status = 'running' AND id = ")
            .bind(execution_id)
            .push(" AND worker_id = ")
            .bind(worker_id)
            .push(" RETURNING ")
            .push(EXECUTION_COLUMNS);
        let Some(row) = sql.fetch_optional(&mut *tx).await? else {
            tx.rollback().await?;
            return Err(lease_lost(execution_id, worker_id));
        };
        let execution = Execution::from_row(&row)?;
        insert_steps(&mut tx, execution_id, record).await?;
        tx.commit().await?;
        Ok(execution)
    }

    /// Puts executions whose lease ended before `now` back in the queue (attempts are kept), or
    /// fails them after [`MAX_ATTEMPTS`] claims, or cancels them when cancellation was requested.
    /// Returns how many executions were reclaimed or finished.
    pub async fn reclaim_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let now = ms(now);
        let mut sql = Sql::new(
            "UPDATE executions SET worker_id = NULL, lease_expires_at = NULL, status = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN attempts >= ",
        );
        sql.bind(MAX_ATTEMPTS)
            .push(" THEN 'failed' ELSE 'pending' END, error = CASE WHEN cancel_requested = 1 THEN 'cancelled while its worker was lost' WHEN attempts >= ")
            .bind(MAX_ATTEMPTS)
            .push(" THEN 'its worker was lost on every attempt' ELSE error END, finished_at = CASE WHEN cancel_requested = 1 OR attempts >= ")
            .bind(MAX_ATTEMPTS)
            .push(" THEN ")
            .bind(now)
            .push(" ELSE NULL END WHERE status = 'running' AND lease_expires_at < ")
            .bind(now);
        sql.execute(&self.pool).await
    }

    /// Gives a claimed execution back to the queue (graceful shutdown). `LeaseLost` when the worker
    /// does not hold it.
    pub async fn release(&self, execution_id: &str, worker_id: &str) -> Result<()> {
        let mut sql = Sql::new(
            "UPDATE executions SET worker_id = NULL, lease_expires_at = NULL, started_at = NULL, status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'pending' END, finished_at = CASE WHEN cancel_requested = 1 THEN ",
        );
        sql.bind(now_ms())
            .push(" ELSE NULL END WHERE status = 'running' AND id = ")
            .bind(execution_id)
            .push(" AND worker_id = ")
            .bind(worker_id);
        if sql.execute(&self.pool).await? == 0 {
            return Err(lease_lost(execution_id, worker_id));
        }
        Ok(())
    }
}

fn lease_lost(execution_id: &str, worker_id: &str) -> Error {
    Error::LeaseLost {
        execution_id: execution_id.to_string(),
        worker_id: worker_id.to_string(),
    }
}
