//! Live events: the runner's events for the executions this worker holds, turned into the store's
//! event kinds (`execution.started`, `step.completed`, …) and appended by one writer task in
//! batches, so a running flow never waits on the database.
//!
//! Only executions registered here get events: a `run_flow` sub-flow's own events, and events of
//! an execution whose lease was lost, are dropped. The final event (`execution.completed`,
//! `.failed`, `.cancelled`) is not taken from the runner but sent once the outcome is stored, so a
//! run whose worker died before storing it never announces an end that did not happen.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use testmesh_runner::{CancellationToken, Event, EventSink, FlowRecord, StepStatus};
use testmesh_store::{ExecutionStatus, Store};
use tokio::sync::{mpsc, oneshot};

use crate::worker::{Notice, Notices};

/// Most messages one append round takes from the channel.
const MAX_BATCH: usize = 512;

enum Message {
    Event {
        execution_id: String,
        kind: &'static str,
        data: Value,
    },
    /// Answered once every message sent before it is written.
    Flush(oneshot::Sender<()>),
}

/// An execution this worker holds.
struct Active {
    generation: u64,
    attempt: i64,
    /// The phase of each step id of its flow (nested steps included).
    phases: Arc<HashMap<String, &'static str>>,
    lost: CancellationToken,
}

type ActiveMap = Arc<Mutex<HashMap<String, Active>>>;

/// The event sink of a worker's runner and the handle of its writer task. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Live {
    tx: mpsc::UnboundedSender<Message>,
    active: ActiveMap,
    generations: Arc<AtomicU64>,
}

/// An execution's place in [`Live`]; dropping it stops its events.
pub(crate) struct Registration {
    live: Live,
    execution_id: String,
    generation: u64,
    /// Triggered when the execution is registered again: this holder no longer owns it.
    pub(crate) superseded: CancellationToken,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut active = lock(&self.live.active);
        if active
            .get(&self.execution_id)
            .is_some_and(|a| a.generation == self.generation)
        {
            active.remove(&self.execution_id);
        }
    }
}

fn lock(active: &ActiveMap) -> std::sync::MutexGuard<'_, HashMap<String, Active>> {
    active.lock().unwrap_or_else(|e| e.into_inner())
}

impl Live {
    /// Starts the writer task; it ends once every clone of the returned `Live` is dropped and
    /// everything sent is written.
    pub(crate) fn start(store: Store, notices: Notices) -> (Live, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let active = ActiveMap::default();
        let writer = tokio::spawn(write(store, rx, active.clone(), notices));
        let live = Live {
            tx,
            active,
            generations: Arc::new(AtomicU64::new(0)),
        };
        (live, writer)
    }

    /// Starts passing on the events of `execution_id` (claimed for the `attempt`th time) whose
    /// flow has the steps of `phases`. A holder registered before under the same id is told
    /// through its `superseded` token: the execution was reclaimed and claimed again while that
    /// holder still ran it.
    pub(crate) fn register(
        &self,
        execution_id: &str,
        attempt: i64,
        phases: HashMap<String, &'static str>,
    ) -> Registration {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let superseded = CancellationToken::new();
        let previous = lock(&self.active).insert(
            execution_id.to_string(),
            Active {
                generation,
                attempt,
                phases: Arc::new(phases),
                lost: superseded.clone(),
            },
        );
        if let Some(previous) = previous {
            previous.lost.cancel();
        }
        Registration {
            live: self.clone(),
            execution_id: execution_id.to_string(),
            generation,
            superseded,
        }
    }

    /// Queues an event of a registered execution for the store, adding the attempt to
    /// `execution.started` and the phase to step events.
    pub(crate) fn send(&self, execution_id: &str, kind: &'static str, mut data: Value) {
        let (attempt, phases) = match lock(&self.active).get(execution_id) {
            Some(active) => (active.attempt, active.phases.clone()),
            None => return,
        };
        if let Value::Object(map) = &mut data {
            if kind == "execution.started" {
                map.insert("attempt".into(), json!(attempt));
            }
            if let Some(step_id) = map.get("step_id").and_then(Value::as_str) {
                let phase = phases.get(step_id).copied();
                map.insert("phase".into(), json!(phase));
            }
        }
        // The writer only stops once every sender is gone, so this cannot fail while `self` lives.
        let _ = self.tx.send(Message::Event {
            execution_id: execution_id.to_string(),
            kind,
            data,
        });
    }

    /// Waits until every event queued so far is written (or failed to be).
    pub(crate) async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Message::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

impl EventSink for Live {
    fn on_event(&self, event: Event<'_>) {
        if let Some((execution_id, kind, data)) = describe(event) {
            self.send(execution_id, kind, data);
        }
    }
}

/// The execution id, store kind and data of a runner event; `None` for the end of the flow (see
/// the module docs).
fn describe(event: Event<'_>) -> Option<(&str, &'static str, Value)> {
    Some(match event {
        Event::FlowStarted {
            execution_id,
            name,
            total_steps,
        } => (
            execution_id,
            "execution.started",
            json!({"flow_name": name, "total_steps": total_steps}),
        ),
        Event::StepStarted {
            execution_id,
            step_id,
            name,
            action,
            depth,
        } => (
            execution_id,
            "step.started",
            json!({"step_id": step_id, "step_name": name, "action": action, "depth": depth}),
        ),
        Event::StepFinished {
            execution_id,
            record,
            depth,
        } => {
            let duration_ms = millis(record.duration);
            let (kind, data) = match record.status {
                StepStatus::Passed => (
                    "step.completed",
                    json!({"status": "passed", "duration_ms": duration_ms}),
                ),
                StepStatus::Failed => (
                    "step.failed",
                    json!({
                        "status": "failed",
                        "error_message": record.error.as_ref().map(|e| e.message.as_str()),
                        "duration_ms": duration_ms,
                    }),
                ),
                StepStatus::Skipped => (
                    "step.skipped",
                    json!({"status": "skipped", "reason": record.skip_reason}),
                ),
            };
            let mut data = data;
            if let Value::Object(map) = &mut data {
                map.insert("step_id".into(), json!(record.id));
                map.insert("step_name".into(), json!(record.name));
                map.insert("action".into(), json!(record.action));
                map.insert("depth".into(), json!(depth));
            }
            (execution_id, kind, data)
        }
        Event::FlowFinished { .. } => return None,
    })
}

/// The final event of a stored execution: `execution.completed`, `.failed` or `.cancelled` (as
/// stored: a cancellation requested at the last moment wins over the run's own outcome), with the
/// record's counts, duration and error.
pub(crate) fn finished(status: ExecutionStatus, record: &FlowRecord) -> (&'static str, Value) {
    let counts = record.step_counts();
    let kind = match status {
        ExecutionStatus::Cancelled => "execution.cancelled",
        ExecutionStatus::Failed => "execution.failed",
        _ => "execution.completed",
    };
    let data = json!({
        "passed_steps": counts.passed,
        "failed_steps": counts.failed,
        "skipped_steps": counts.skipped,
        "total_steps": counts.total,
        "duration_ms": millis(record.duration),
        "error": record.error,
    });
    (kind, data)
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The writer: takes what is queued (up to [`MAX_BATCH`] messages), appends each execution's
/// events in one transaction, answers flushes, and repeats until every sender is gone.
async fn write(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Message>,
    active: ActiveMap,
    notices: Notices,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut order: Vec<String> = Vec::new();
        let mut events: HashMap<String, Vec<(&'static str, Value)>> = HashMap::new();
        let mut flushes = Vec::new();
        for message in batch.drain(..) {
            match message {
                Message::Event {
                    execution_id,
                    kind,
                    data,
                } => {
                    let list = events.entry(execution_id.clone()).or_insert_with(|| {
                        order.push(execution_id);
                        Vec::new()
                    });
                    list.push((kind, data));
                }
                Message::Flush(done) => flushes.push(done),
            }
        }
        for execution_id in order {
            // An execution whose lease was lost while its events waited gets no more.
            if !lock(&active).contains_key(&execution_id) {
                continue;
            }
            let Some(list) = events.remove(&execution_id) else {
                continue;
            };
            if let Err(e) = store.append_events(&execution_id, &list).await {
                notices.send(Notice::problem(format!(
                    "cannot store {} live events of execution {execution_id}: {e}",
                    list.len()
                )));
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use testmesh_runner::StepRecord;

    #[test]
    fn step_events_carry_ids_names_and_outcomes() {
        let mut record = StepRecord::skipped("pay", Some("Pay"), "http_request", "x");
        record.status = StepStatus::Failed;
        record.skip_reason = None;
        record.duration = Duration::from_millis(42);
        record.error = Some(testmesh_runner::StepError::action("boom"));
        let (id, kind, data) = describe(Event::StepFinished {
            execution_id: "e1",
            record: &record,
            depth: 1,
        })
        .unwrap();
        assert_eq!((id, kind), ("e1", "step.failed"));
        assert_eq!(
            data,
            json!({"status": "failed", "error_message": "boom", "duration_ms": 42,
                   "step_id": "pay", "step_name": "Pay", "action": "http_request", "depth": 1})
        );
        let (_, kind, data) = describe(Event::StepStarted {
            execution_id: "e1",
            step_id: "pay",
            name: None,
            action: "http_request",
            depth: 0,
        })
        .unwrap();
        assert_eq!(kind, "step.started");
        assert_eq!(
            data,
            json!({"step_id": "pay", "step_name": null, "action": "http_request", "depth": 0})
        );
    }
}
