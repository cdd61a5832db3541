//! Running a worker in the background and waiting for what it does.

use std::sync::Arc;
use std::time::Duration;

use testmesh_runner::CancellationToken;
use testmesh_store::{Execution, ExecutionEvent, RunContext, Store, Trigger};
use testmesh_worker::{Notice, Worker, WorkerOptions};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

pub const WS: &str = testmesh_store::DEFAULT_WORKSPACE_ID;

/// Fast timings for tests: a 1 s lease (heartbeat every 333 ms), quick polls.
pub fn options(concurrency: usize) -> WorkerOptions {
    WorkerOptions {
        concurrency,
        poll: Duration::from_millis(50),
        schedule_every: Duration::from_millis(200),
        scheduler: false,
        ..WorkerOptions::default().with_lease(Duration::from_secs(1))
    }
}

/// A worker running on its own task until [`Running::stop`].
pub struct Running {
    pub worker: Arc<Worker>,
    pub notices: broadcast::Receiver<Notice>,
    stop: CancellationToken,
    task: JoinHandle<Result<(), testmesh_worker::WorkerError>>,
}

impl Running {
    pub fn start(store: Store, options: WorkerOptions) -> Running {
        let worker = Arc::new(Worker::new(store, options));
        let notices = worker.subscribe();
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let worker = worker.clone();
            let stop = stop.clone();
            async move { worker.run(async move { stop.cancelled().await }).await }
        });
        Running {
            worker,
            notices,
            stop,
            task,
        }
    }

    /// Asks for a graceful shutdown and waits for `run` to return.
    pub async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the worker stops")
            .expect("the worker task")
            .expect("the worker ran");
    }

    /// The next notice matching `pick`, within 30 s.
    pub async fn notice<T>(&mut self, mut pick: impl FnMut(&Notice) -> Option<T>) -> T {
        let wait = async {
            loop {
                match self.notices.recv().await {
                    Ok(notice) => {
                        if let Some(found) = pick(&notice) {
                            return found;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("notices ended: {e}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .expect("the notice arrives within 30 s")
    }
}

/// Stores a flow and returns its id.
pub async fn create_flow(store: &Store, yaml: &str) -> String {
    store.create_flow(WS, yaml, None).await.unwrap().flow.id
}

/// Queues a run of a flow through the API trigger.
pub async fn enqueue(store: &Store, flow_id: &str) -> Execution {
    store
        .enqueue_execution(&RunContext::for_flow(WS, flow_id, None, Trigger::Api))
        .await
        .unwrap()
}

/// Waits until the execution is final (completed, failed or cancelled), within 30 s.
pub async fn wait_final(store: &Store, id: &str) -> Execution {
    let wait = async {
        loop {
            let execution = store.get_execution(WS, id).await.unwrap();
            if execution.status.is_final() {
                return execution;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the execution finishes within 30 s")
}

/// Every event of an execution as stored now.
pub async fn events_now(store: &Store, id: &str) -> Vec<ExecutionEvent> {
    store.events_after(id, 0, 1000).await.unwrap()
}

/// Every event of a finished execution: waits (up to 10 s) for the final event, which the worker
/// appends just after storing the outcome.
pub async fn events(store: &Store, id: &str) -> Vec<ExecutionEvent> {
    let wait = async {
        loop {
            let events = events_now(store, id).await;
            let last = events.last().map(|e| e.kind.as_str()).unwrap_or_default();
            if matches!(
                last,
                "execution.completed" | "execution.failed" | "execution.cancelled"
            ) {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("the final event is stored")
}

/// `kind` or `kind:step_id` for each event.
pub fn event_names(events: &[ExecutionEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e.data.get("step_id").and_then(|s| s.as_str()) {
            Some(step) => format!("{}:{step}", e.kind),
            None => e.kind.clone(),
        })
        .collect()
}
