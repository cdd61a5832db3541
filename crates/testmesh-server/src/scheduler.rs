//! The scheduler: queues the runs of due schedules. Each tick is claimed in the store with a
//! compare-and-set first, so several servers on one database never queue the same tick twice.

use std::time::Duration;

use chrono::Utc;
use testmesh_store::{Execution, Schedule, Store, Trigger};
use tokio_util::sync::CancellationToken;

use crate::error::ApiResult;
use crate::selection::{self, Run, Selection};

/// Queues one execution per flow the schedule selects, with its environment and variables.
pub(crate) async fn enqueue_runs(store: &Store, schedule: &Schedule) -> ApiResult<Vec<Execution>> {
    let selection = match &schedule.flow_id {
        Some(id) => Selection::Flows(vec![id.clone()]),
        None => Selection::Query {
            suite: schedule.suite.clone(),
            tags: schedule.tags.clone(),
        },
    };
    selection::enqueue(
        store,
        Run {
            workspace_id: &schedule.workspace_id,
            selection: &selection,
            environment: schedule.environment.as_deref(),
            variables: schedule.variables.clone(),
            trigger: Trigger::Schedule,
            schedule_id: Some(&schedule.id),
        },
    )
    .await
}

/// Looks for due schedules every `every` until `shutdown` is cancelled.
pub(crate) async fn run(store: Store, every: Duration, shutdown: CancellationToken) {
    loop {
        tick(&store).await;
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Queues the runs of every schedule due now whose tick this process wins.
async fn tick(store: &Store) {
    let now = Utc::now();
    let due = match store.due_schedules(now).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "scheduler: cannot read due schedules");
            return;
        }
    };
    for schedule in due {
        match store.mark_schedule_ran(&schedule, now).await {
            Ok(true) => match enqueue_runs(store, &schedule).await {
                Ok(executions) => tracing::info!(
                    schedule = %schedule.name,
                    executions = executions.len(),
                    "scheduler: queued runs"
                ),
                Err(e) => tracing::warn!(
                    schedule = %schedule.name,
                    error = %e,
                    "scheduler: the tick was skipped"
                ),
            },
            // Another server claimed this tick.
            Ok(false) => {}
            Err(e) => tracing::warn!(
                schedule = %schedule.name,
                error = %e,
                "scheduler: cannot claim the tick"
            ),
        }
    }
}
