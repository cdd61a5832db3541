//! Aggregates over stored history for monitoring: step durations as histogram buckets.

use serde::Serialize;

use crate::Store;
use crate::db::{RowExt, Sql};
use crate::error::Result;

/// The durations of the recorded steps of one action, as cumulative histogram buckets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDurations {
    /// The action, e.g. `http_request`.
    pub action: String,
    /// `(upper bound in ms, steps that took at most that long)`, one per bound asked for, in order.
    pub buckets: Vec<(i64, i64)>,
    /// Steps counted (skipped steps are not: they did not run).
    pub count: i64,
    /// Their total duration in milliseconds.
    pub sum_ms: i64,
}

impl Store {
    /// The duration histogram of every recorded step that ran (nested steps included), per action,
    /// by action name, over all workspaces. `bounds_ms` are the bucket upper bounds, ascending.
    pub async fn step_duration_histogram(&self, bounds_ms: &[i64]) -> Result<Vec<StepDurations>> {
        // Sums are cast: PostgreSQL's SUM(bigint) is numeric, which the Any driver cannot read.
        let mut sql = Sql::new(
            "SELECT action, COUNT(*) AS n, CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT) AS total",
        );
        for (i, bound) in bounds_ms.iter().enumerate() {
            sql.push(", CAST(COALESCE(SUM(CASE WHEN duration_ms <= ")
                .bind(*bound)
                .push(" THEN 1 ELSE 0 END), 0) AS BIGINT) AS b")
                .push(&i.to_string());
        }
        sql.push(" FROM execution_steps WHERE status <> 'skipped' GROUP BY action ORDER BY action");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let buckets = bounds_ms
                    .iter()
                    .enumerate()
                    .map(|(i, bound)| Ok((*bound, row.int(&format!("b{i}"))?)))
                    .collect::<Result<_>>()?;
                Ok(StepDurations {
                    action: row.text("action")?,
                    buckets,
                    count: row.int("n")?,
                    sum_ms: row.int("total")?,
                })
            })
            .collect()
    }
}
