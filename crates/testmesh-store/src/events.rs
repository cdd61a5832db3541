//! Execution events: what happened during a run, in order (`execution.started`, `step.started`,
//! `step.completed`, …). The process running an execution appends them; the server's live view
//! tails them, so it works the same whether the run is in-process or on a worker elsewhere.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::Store;
use crate::db::{RowExt, Sql, now_ms, to_json_text};
use crate::error::Result;

/// Most events one call returns.
pub const MAX_EVENTS_PER_READ: i64 = 1000;

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionEvent {
    /// The execution.
    pub execution_id: String,
    /// Position in the execution's events, from 1.
    pub seq: i64,
    /// What happened, e.g. `step.completed`.
    pub kind: String,
    /// Details (JSON object).
    pub data: Value,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Appends events to an execution, after those it has, in one transaction; returns the seq of
    /// the last one. Events of one execution must come from one writer at a time (the holder of
    /// its lease).
    pub async fn append_events(&self, execution_id: &str, events: &[(&str, Value)]) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let mut sql =
            Sql::new("SELECT COALESCE(MAX(seq), 0) FROM execution_events WHERE execution_id = ");
        sql.bind(execution_id);
        let mut seq = sql.count(&mut *tx).await?;
        if !events.is_empty() {
            let now = now_ms();
            let mut sql = Sql::new(
                "INSERT INTO execution_events (execution_id, seq, kind, data, created_at) VALUES ",
            );
            for (i, (kind, data)) in events.iter().enumerate() {
                seq += 1;
                sql.push(if i == 0 { "(" } else { ", (" })
                    .bind(execution_id)
                    .push(", ")
                    .bind(seq)
                    .push(", ")
                    .bind(*kind)
                    .push(", ")
                    .bind(to_json_text(data))
                    .push(", ")
                    .bind(now)
                    .push(")");
            }
            sql.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(seq)
    }

    /// The events of an execution after `after_seq` (0 for all), oldest first, at most `limit`
    /// (capped at [`MAX_EVENTS_PER_READ`]).
    pub async fn events_after(
        &self,
        execution_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ExecutionEvent>> {
        let mut sql = Sql::new(
            "SELECT execution_id, seq, kind, data, created_at FROM execution_events WHERE execution_id = ",
        );
        sql.bind(execution_id)
            .push(" AND seq > ")
            .bind(after_seq)
            .push(" ORDER BY seq LIMIT ")
            .bind(limit.clamp(1, MAX_EVENTS_PER_READ));
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ExecutionEvent {
                    execution_id: row.text("execution_id")?,
                    seq: row.int("seq")?,
                    kind: row.text("kind")?,
                    data: row.json("data")?,
                    created_at: row.time("created_at")?,
                })
            })
            .collect()
    }
}
