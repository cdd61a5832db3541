//! Execution events: what happened during a run, in order (`execution.started`, `step.started`,
//! `step.completed`, …). The process running an execution appends them; the server's live view
//! tails them, so it works the same whether the run is in-process or on a worker elsewhere.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::Stream;
use futures::stream;
use serde::Serialize;
use serde_json::Value;

use crate::db::{RowExt, Sql, now_ms, to_json_text};
use crate::error::{Error, Result};
use crate::{ExecutionStatus, Store};

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

/// What following an execution's events yields.
#[derive(Debug)]
pub enum Followed {
    /// The next event.
    Event(ExecutionEvent),
    /// The execution is over and every event was sent.
    End(ExecutionStatus),
    /// Reading the store failed; the stream ends (a client reconnects to resume).
    Failed(Error),
}

/// Where a [`follow_events`] stream is.
struct Tail {
    store: Store,
    workspace_id: String,
    execution_id: String,
    /// The last `seq` yielded.
    after: i64,
    poll: Duration,
    queued: VecDeque<Followed>,
    /// The final status, once seen.
    final_status: Option<ExecutionStatus>,
    /// After the final status, the stream waits one poll interval and looks once more before it
    /// ends: a worker appends its last event just after it stores the outcome.
    grace_used: bool,
    done: bool,
}

/// The events of an execution after `after` (0 for all), then new ones as they are appended —
/// the store is polled every `poll` while the execution is not final — and, once it is final and
/// every event was yielded, [`Followed::End`]. The live views of the API and the dashboard use
/// it, so they show runs of in-process and remote workers alike.
pub fn follow_events(
    store: Store,
    workspace_id: String,
    execution_id: String,
    after: i64,
    poll: Duration,
) -> impl Stream<Item = Followed> {
    let tail = Tail {
        store,
        workspace_id,
        execution_id,
        after,
        poll,
        queued: VecDeque::new(),
        final_status: None,
        grace_used: false,
        done: false,
    };
    stream::unfold(tail, |mut tail| async move {
        loop {
            if let Some(next) = tail.queued.pop_front() {
                return Some((next, tail));
            }
            if tail.done {
                return None;
            }
            match look(&mut tail).await {
                Ok(true) => continue,
                Ok(false) => tokio::time::sleep(tail.poll).await,
                Err(e) => {
                    tail.queued.push_back(Followed::Failed(e));
                    tail.done = true;
                }
            }
        }
    })
}

/// One look at the store: queues new events, or notices the end. `Ok(false)` when there was
/// nothing new and the caller should wait before looking again.
async fn look(tail: &mut Tail) -> Result<bool> {
    let events = tail
        .store
        .events_after(&tail.execution_id, tail.after, MAX_EVENTS_PER_READ)
        .await?;
    if let Some(last) = events.last() {
        tail.after = last.seq;
        tail.queued.extend(events.into_iter().map(Followed::Event));
        return Ok(true);
    }
    match tail.final_status {
        Some(status) if tail.grace_used => {
            tail.queued.push_back(Followed::End(status));
            tail.done = true;
            Ok(true)
        }
        Some(_) => {
            tail.grace_used = true;
            Ok(false)
        }
        None => {
            let execution = tail
                .store
                .get_execution(&tail.workspace_id, &tail.execution_id)
                .await?;
            if execution.status.is_final() {
                tail.final_status = Some(execution.status);
                return Ok(true);
            }
            Ok(false)
        }
    }
}
