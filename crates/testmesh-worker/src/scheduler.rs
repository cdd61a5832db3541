//! The scheduler: enqueues the runs of due schedules. Any number of schedulers (workers, servers)
//! may tick at once: each due tick is claimed in the store with a compare-and-set, and only the
//! scheduler that wins it enqueues the runs.

use chrono::{DateTime, Utc};
use serde::Serialize;
use testmesh_store::{RunContext, Schedule, Store, Trigger};

use crate::error::WorkerError;

/// A schedule tick this scheduler enqueued.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fired {
    /// The schedule's id.
    pub schedule_id: String,
    /// Its name.
    pub schedule_name: String,
    /// The tick that fired.
    pub tick: Option<DateTime<Utc>>,
    /// The executions enqueued.
    pub execution_ids: Vec<String>,
    /// Runs that could not be enqueued (a deleted flow, no flow matching the selection).
    pub problems: Vec<String>,
}

/// Enqueues the runs of due schedules; see the module docs.
#[derive(Debug, Clone)]
pub struct Scheduler {
    store: Store,
}

impl Scheduler {
    /// A scheduler over `store`.
    pub fn new(store: Store) -> Scheduler {
        Scheduler { store }
    }

    /// Fires every schedule due at `now` whose tick nobody else claimed first: its flow, or every
    /// live flow of its suite and/or tags, is enqueued with trigger `schedule`, the schedule's
    /// environment and variables. Missed ticks are not replayed (the store moves the next run past
    /// `now`).
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Vec<Fired>, WorkerError> {
        let mut fired = Vec::new();
        for schedule in self.store.due_schedules(now).await? {
            if !self.store.mark_schedule_ran(&schedule, now).await? {
                continue;
            }
            fired.push(self.enqueue(&schedule).await);
        }
        Ok(fired)
    }

    /// Enqueues the runs of a tick this scheduler won. Failures are listed in the result rather
    /// than returned: the tick is taken, and the other runs of it still go.
    async fn enqueue(&self, schedule: &Schedule) -> Fired {
        let mut fired = Fired {
            schedule_id: schedule.id.clone(),
            schedule_name: schedule.name.clone(),
            tick: schedule.next_run_at,
            execution_ids: Vec::new(),
            problems: Vec::new(),
        };
        let flow_ids = match &schedule.flow_id {
            Some(flow_id) => vec![flow_id.clone()],
            None => match self
                .store
                .selected_flow_ids(
                    &schedule.workspace_id,
                    schedule.suite.as_deref(),
                    &schedule.tags,
                )
                .await
            {
                Ok(ids) => ids,
                Err(e) => {
                    fired
                        .problems
                        .push(format!("cannot list the flows to run: {e}"));
                    return fired;
                }
            },
        };
        if flow_ids.is_empty() {
            fired
                .problems
                .push("no live flow matches the schedule's suite and tags".to_string());
        }
        // Like a run requested over the API: no environment named means the workspace's default.
        let environment = match &schedule.environment {
            Some(name) => Some(name.clone()),
            None => match self.store.default_environment(&schedule.workspace_id).await {
                Ok(env) => Some(env.name),
                Err(testmesh_store::Error::NotFound { .. }) => None,
                Err(e) => {
                    fired
                        .problems
                        .push(format!("cannot read the default environment: {e}"));
                    return fired;
                }
            },
        };
        for flow_id in flow_ids {
            let context = RunContext {
                environment: environment.clone(),
                variables: schedule.variables.clone(),
                schedule_id: Some(schedule.id.clone()),
                ..RunContext::for_flow(&schedule.workspace_id, &flow_id, None, Trigger::Schedule)
            };
            match self.store.enqueue_execution(&context).await {
                Ok(execution) => fired.execution_ids.push(execution.id),
                Err(e) => fired.problems.push(format!("flow {flow_id}: {e}")),
            }
        }
        fired
    }
}
