//! The scheduler: queues the runs of due schedules. Each tick is claimed in the store with a
//! compare-and-set first, so several servers on one database never queue the same tick twice.

use std::time::Duration;

use chrono::Utc;
use testmesh_store::{Execution, Schedule, Store, Trigger};
use testmesh_worker::Scheduler;
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

/// Queues the runs of every schedule due now whose tick this process wins (the workers' scheduler:
/// one implementation of ticks for servers and workers).
async fn tick(store: &Store) {
    match Scheduler::new(store.clone()).tick(Utc::now()).await {
        Ok(fired) => {
            for f in fired {
                tracing::info!(
                    schedule = %f.schedule_name,
                    executions = f.execution_ids.len(),
                    "scheduler: queued runs"
                );
                for problem in f.problems {
                    tracing::warn!(schedule = %f.schedule_name, %problem, "scheduler: a run was not queued");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "scheduler: cannot fire due schedules"),
    }
}
