//! Running one claimed execution: load its flow version, gather its environment and variables, run
//! it while heartbeats keep the lease (and pick up cancellation), then complete it — or write
//! nothing when the lease was lost, or give it back when the worker shuts down.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use indexmap::IndexMap;
use serde_json::Value;
use testmesh_flow::interpolate::VariableSources;
use testmesh_flow::{Flow, Step};
use testmesh_runner::{CancellationToken, FlowRecord, FlowStatus, RunOptions, Runner, Secrets};
use testmesh_store::{ClaimedExecution, Error as StoreError, Execution, Store};

use crate::live::{Live, finished};
use crate::worker::{Notice, Notices};

/// Attempts at storing a finished execution before leaving it to lease expiry.
const COMPLETE_ATTEMPTS: u32 = 3;

/// What one worker shares with its executions.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) runner: Runner,
    pub(crate) live: Live,
    pub(crate) notices: Notices,
    pub(crate) worker_id: String,
    pub(crate) lease: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) retry_pause: Duration,
    /// Triggered when the shutdown grace period is over: runs still going are released.
    pub(crate) release: CancellationToken,
}

/// How an execution left this worker.
pub(crate) enum Ending {
    /// Stored with its outcome (the row as stored).
    Finished(Box<Execution>),
    /// Another worker has it now (or nobody may have it); nothing was written.
    LeaseLost(String),
    /// Given back to the queue at shutdown.
    Released(String),
    /// It could not be stored (the database failed); it runs again after its lease expires.
    Abandoned(String, StoreError),
}

/// A run ready to start.
struct Prepared {
    flow: Flow,
    options: RunOptions,
}

/// The phase of every step id of a flow, nested steps included.
fn step_phases(flow: &Flow) -> HashMap<String, &'static str> {
    let mut phases = HashMap::new();
    for (phase, steps) in flow.phases() {
        Step::walk(steps, &mut |step| {
            phases.insert(step.id.clone(), phase.name());
        });
    }
    phases
}

/// Why a run cannot start.
enum NotRunnable {
    /// Fails the execution: the flow no longer loads, the environment is gone, a secret cannot be
    /// decrypted.
    Invalid(String),
    /// A database error: the execution goes back to the queue.
    Transient(StoreError),
}

/// Runs a claimed execution to its end.
pub(crate) async fn execute(shared: Arc<Shared>, claimed: ClaimedExecution) -> Ending {
    let execution = claimed.execution;
    let id = execution.id.clone();
    let cancel = CancellationToken::new();
    let prepared = prepare(&shared.store, &execution, &claimed.yaml, cancel.clone()).await;
    let phases = match &prepared {
        Ok(p) => step_phases(&p.flow),
        Err(_) => HashMap::new(),
    };
    let registration = shared.live.register(&id, execution.attempts, phases);
    // Heartbeats run beside the flow (and through its completion) so a slow step or a slow
    // database never lets the lease lapse; they stop when this function returns.
    let lost = registration.superseded.clone();
    let beats = AbortOnDrop(tokio::spawn(heartbeats(
        shared.clone(),
        id.clone(),
        cancel.clone(),
        lost.clone(),
    )));

    let record = match prepared {
        Ok(prepared) => {
            let run = shared.runner.run(&prepared.flow, None, &prepared.options);
            tokio::select! {
                record = run => record,
                () = lost.cancelled() => return Ending::LeaseLost(id),
                () = shared.release.cancelled() => return release(&shared, id).await,
            }
        }
        Err(NotRunnable::Transient(e)) => {
            shared.notices.send(Notice::problem(format!(
                "cannot prepare execution {id}: {e}; giving it back to the queue"
            )));
            return release(&shared, id).await;
        }
        Err(NotRunnable::Invalid(message)) => unrunnable_record(&execution, message),
    };
    // The run's events are stored before its outcome, and the final event after it.
    shared.live.flush().await;
    let ending = complete(&shared, &id, &record, &lost).await;
    drop(beats);
    if let Ending::Finished(stored) = &ending {
        let (kind, data) = finished(stored.status, &record);
        shared.live.send(&id, kind, data);
        shared.live.flush().await;
    }
    drop(registration);
    ending
}

/// Stores the record, retrying database errors while the lease holds.
async fn complete(
    shared: &Shared,
    id: &str,
    record: &FlowRecord,
    lost: &CancellationToken,
) -> Ending {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match shared
            .store
            .complete_claimed(id, &shared.worker_id, record)
            .await
        {
            Ok(execution) => return Ending::Finished(Box::new(execution)),
            Err(StoreError::LeaseLost { .. }) => return Ending::LeaseLost(id.to_string()),
            Err(e) if attempt >= COMPLETE_ATTEMPTS || lost.is_cancelled() => {
                return Ending::Abandoned(id.to_string(), e);
            }
            Err(_) => tokio::time::sleep(shared.retry_pause).await,
        }
    }
}

/// Gives the execution back to the queue.
async fn release(shared: &Shared, id: String) -> Ending {
    match shared.store.release(&id, &shared.worker_id).await {
        Ok(()) => Ending::Released(id),
        Err(StoreError::LeaseLost { .. }) => Ending::LeaseLost(id),
        Err(e) => Ending::Abandoned(id, e),
    }
}

/// Renews the lease every `heartbeat`; cancels the run when cancellation was requested and
/// triggers `lost` when the lease is gone. Database errors are reported and retried at the next
/// beat: the lease may still hold.
async fn heartbeats(
    shared: Arc<Shared>,
    id: String,
    cancel: CancellationToken,
    lost: CancellationToken,
) {
    loop {
        tokio::time::sleep(shared.heartbeat).await;
        match shared
            .store
            .heartbeat(&id, &shared.worker_id, shared.lease)
            .await
        {
            Ok(beat) if beat.cancel_requested => cancel.cancel(),
            Ok(_) => {}
            Err(StoreError::LeaseLost { .. }) => {
                lost.cancel();
                return;
            }
            Err(e) => shared.notices.send(Notice::problem(format!(
                "heartbeat of execution {id} failed: {e}"
            ))),
        }
    }
}

/// Stops a spawned task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Loads the flow and builds the run's options: the flow's `env:` below the environment's enabled
/// variables below the execution's own, the environment's secret values masked, the execution's
/// id on records and events. The worker's process environment is deliberately not visible to
/// stored flows: it may hold the worker's own credentials.
async fn prepare(
    store: &Store,
    execution: &Execution,
    yaml: &str,
    cancel: CancellationToken,
) -> Result<Prepared, NotRunnable> {
    let loaded = testmesh_flow::load_str(yaml);
    let errors: Vec<String> = loaded
        .errors()
        .map(|d| format!("{}:{}: {}", d.span.line, d.span.col, d.message))
        .collect();
    let flow = match loaded.flow {
        Some(flow) if errors.is_empty() => flow,
        _ => {
            return Err(NotRunnable::Invalid(format!(
                "the flow version no longer loads: {}",
                if errors.is_empty() {
                    "it is not a flow".to_string()
                } else {
                    errors.join("; ")
                }
            )));
        }
    };
    // The flow's `env:` holds its defaults; the environment chosen for the run overrides them, and
    // the run's own variables override both (the original let `env:` win: a quirk).
    let mut overrides = IndexMap::new();
    let mut secrets = Vec::new();
    if let Some(name) = &execution.environment {
        let environment = store
            .decrypted_environment(&execution.workspace_id, name)
            .await
            .map_err(|e| match e {
                StoreError::NotFound { .. } => {
                    NotRunnable::Invalid(format!("environment `{name}` does not exist"))
                }
                StoreError::Database(_) | StoreError::Io { .. } => NotRunnable::Transient(e),
                e => NotRunnable::Invalid(format!("environment `{name}`: {e}")),
            })?;
        for variable in environment.variables.into_iter().filter(|v| v.enabled) {
            if variable.is_secret {
                secrets.push(variable.value.clone());
            }
            overrides.insert(variable.key, Value::String(variable.value));
        }
    }
    if let Value::Object(map) = &execution.variables {
        overrides.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let variables = VariableSources {
        cli_vars: overrides,
        ..VariableSources::default()
    };
    Ok(Prepared {
        flow,
        options: RunOptions {
            variables,
            cancel: Some(cancel),
            execution_id: Some(execution.id.clone()),
            secrets: Secrets::new(secrets),
            ..RunOptions::default()
        },
    })
}

/// The record of an execution that could not run.
fn unrunnable_record(execution: &Execution, error: String) -> FlowRecord {
    FlowRecord {
        execution_id: execution.id.clone(),
        name: execution.flow_name.clone(),
        path: None,
        suite: execution.suite.clone(),
        tags: execution.tags.clone(),
        status: FlowStatus::Failed,
        started_at: Utc::now(),
        duration: Duration::ZERO,
        steps: Vec::new(),
        error: Some(error),
        cancelled: false,
        outputs: IndexMap::new(),
    }
}
