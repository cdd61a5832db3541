//! The worker loop: claim executions up to the concurrency limit, run each in its own task, put
//! expired leases of dead workers back in the queue, fire due schedules, and shut down gracefully.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use serde::Serialize;
use testmesh_runner::{CancellationToken, FlowLibrary, Registry, Runner, Secrets, actions};
use testmesh_store::{Execution, Store};
use tokio::sync::broadcast;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::error::WorkerError;
use crate::execute::{Ending, Shared, execute};
use crate::live::Live;
use crate::options::WorkerOptions;
use crate::scheduler::{Fired, Scheduler};

/// Notices kept for slow subscribers before the oldest are dropped.
const NOTICE_BUFFER: usize = 4096;

/// What a worker did, for logs and dashboards ([`Worker::subscribe`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// An execution was claimed and is starting.
    Claimed {
        /// The execution.
        execution_id: String,
        /// Its flow's name.
        flow_name: String,
        /// How many times it has been claimed, this one included.
        attempt: i64,
    },
    /// An execution ran and its outcome is stored (the row as stored).
    Finished(Box<Execution>),
    /// The lease of an execution was lost (it expired and another worker may run it): its run was
    /// stopped and nothing was stored.
    LeaseLost {
        /// The execution.
        execution_id: String,
    },
    /// An execution was given back to the queue at shutdown.
    Released {
        /// The execution.
        execution_id: String,
    },
    /// Expired leases were reclaimed: executions of dead workers queued again (or finished).
    Reclaimed {
        /// How many.
        count: u64,
    },
    /// A schedule fired.
    Scheduled(Fired),
    /// Something failed and was survived (a database error, say).
    Problem {
        /// What failed.
        message: String,
    },
}

impl Notice {
    pub(crate) fn problem(message: String) -> Notice {
        Notice::Problem { message }
    }
}

/// Clears the running flag when `run` ends, or when its future is dropped.
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Sends notices; nobody listening is fine.
#[derive(Clone)]
pub(crate) struct Notices(broadcast::Sender<Notice>);

impl Notices {
    pub(crate) fn send(&self, notice: Notice) {
        let _ = self.0.send(notice);
    }
}

/// A worker: runs queued executions from the store until told to stop. See the crate docs.
pub struct Worker {
    store: Store,
    options: WorkerOptions,
    /// The actions flows may use.
    registry: Registry,
    notices: Notices,
    running: AtomicBool,
}

impl Worker {
    /// A worker over `store` (SQLite or PostgreSQL) with `options`, running flows with the
    /// built-in actions ([`actions::builtin`]).
    pub fn new(store: Store, options: WorkerOptions) -> Worker {
        Worker::with_registry(store, options, actions::builtin())
    }

    /// A worker whose flows use the actions of `registry` — e.g. the built-in ones plus mock
    /// server actions sharing a server's mock hub.
    pub fn with_registry(store: Store, options: WorkerOptions, registry: Registry) -> Worker {
        Worker {
            store,
            options,
            registry,
            notices: Notices(broadcast::channel(NOTICE_BUFFER).0),
            running: AtomicBool::new(false),
        }
    }

    /// The worker's id, as executions it holds record it.
    pub fn id(&self) -> &str {
        &self.options.id
    }

    /// The options it runs with.
    pub fn options(&self) -> &WorkerOptions {
        &self.options
    }

    /// Notices of what the worker does from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.0.subscribe()
    }

    /// Runs until `shutdown` completes: claims up to `concurrency` executions at once and runs
    /// them, reclaims expired leases every half lease, and fires due schedules when the scheduler
    /// is on. Then stops claiming, lets running executions finish for up to `shutdown_grace`,
    /// releases the rest to the queue, and returns once every event is written.
    ///
    /// Store errors do not end the loop (they are sent as [`Notice::Problem`] and retried); only
    /// invalid options or a second concurrent `run` do.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), WorkerError> {
        self.options.validate()?;
        if self.running.swap(true, Ordering::SeqCst) {
            return Err(WorkerError::AlreadyRunning(self.options.id.clone()));
        }
        let _running = Running(&self.running);
        let (live, writer) = Live::start(self.store.clone(), self.notices.clone());
        let shared = Arc::new(Shared {
            store: self.store.clone(),
            runner: Runner::new(
                self.registry.clone(),
                Arc::new(live.clone()),
                Secrets::default(),
                FlowLibrary::default(),
            ),
            live,
            notices: self.notices.clone(),
            worker_id: self.options.id.clone(),
            lease: self.options.lease,
            heartbeat: self.options.heartbeat,
            retry_pause: self.options.poll,
            release: CancellationToken::new(),
        });
        let mut tasks = JoinSet::new();
        self.serve(&shared, &mut tasks, shutdown).await;
        self.drain(&shared, &mut tasks).await;
        // The writer ends once the last sender (in `shared` and its runner) is gone.
        drop(shared);
        let _ = writer.await;
        Ok(())
    }

    /// The main loop, until `shutdown`.
    async fn serve(
        &self,
        shared: &Arc<Shared>,
        tasks: &mut JoinSet<Ending>,
        shutdown: impl Future<Output = ()>,
    ) {
        let options = &self.options;
        let scheduler = options
            .scheduler
            .then(|| Scheduler::new(self.store.clone()));
        let mut reclaim = tokio::time::interval(options.lease / 2);
        reclaim.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut schedule = tokio::time::interval(options.schedule_every);
        schedule.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut next_claim = Instant::now();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                Some(joined) = tasks.join_next() => self.report(joined),
                _ = reclaim.tick() => self.reclaim().await,
                _ = schedule.tick(), if scheduler.is_some() => {
                    if let Some(scheduler) = &scheduler {
                        self.fire(scheduler).await;
                    }
                }
                () = tokio::time::sleep_until(next_claim), if tasks.len() < options.concurrency => {
                    next_claim = match self.store.claim_next(&options.id, options.lease).await {
                        Ok(Some(claimed)) => {
                            self.notices.send(Notice::Claimed {
                                execution_id: claimed.execution.id.clone(),
                                flow_name: claimed.execution.flow_name.clone(),
                                attempt: claimed.execution.attempts,
                            });
                            tasks.spawn(execute(shared.clone(), claimed));
                            // More may be waiting: ask again at once.
                            Instant::now()
                        }
                        Ok(None) => Instant::now() + options.poll,
                        Err(e) => {
                            self.notices
                                .send(Notice::problem(format!("cannot claim an execution: {e}")));
                            Instant::now() + options.poll
                        }
                    };
                }
            }
        }
    }

    /// After shutdown: waits for running executions up to the grace period, then releases the
    /// ones still running and waits for them to be given back.
    async fn drain(&self, shared: &Shared, tasks: &mut JoinSet<Ending>) {
        let grace = tokio::time::sleep(self.options.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                joined = tasks.join_next() => match joined {
                    Some(joined) => self.report(joined),
                    None => return,
                },
                () = &mut grace => break,
            }
        }
        shared.release.cancel();
        while let Some(joined) = tasks.join_next().await {
            self.report(joined);
        }
    }

    fn report(&self, joined: Result<Ending, tokio::task::JoinError>) {
        self.notices.send(match joined {
            Ok(Ending::Finished(execution)) => Notice::Finished(execution),
            Ok(Ending::LeaseLost(execution_id)) => Notice::LeaseLost { execution_id },
            Ok(Ending::Released(execution_id)) => Notice::Released { execution_id },
            Ok(Ending::Abandoned(execution_id, e)) => Notice::problem(format!(
                "cannot store execution {execution_id}: {e}; it runs again once its lease expires"
            )),
            // Its lease expires and another claim runs it again.
            Err(e) => Notice::problem(format!("an execution task stopped: {e}")),
        });
    }

    async fn reclaim(&self) {
        match self.store.reclaim_expired(Utc::now()).await {
            Ok(0) => {}
            Ok(count) => self.notices.send(Notice::Reclaimed { count }),
            Err(e) => self.notices.send(Notice::problem(format!(
                "cannot reclaim expired leases: {e}"
            ))),
        }
    }

    async fn fire(&self, scheduler: &Scheduler) {
        match scheduler.tick(Utc::now()).await {
            Ok(fired) => {
                for f in fired {
                    self.notices.send(Notice::Scheduled(f));
                }
            }
            Err(e) => self
                .notices
                .send(Notice::problem(format!("cannot fire schedules: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_serialize_with_their_kind() {
        let notices = [
            Notice::problem("database down".into()),
            Notice::LeaseLost {
                execution_id: "e1".into(),
            },
            Notice::Reclaimed { count: 2 },
            Notice::Scheduled(Fired {
                schedule_id: "s1".into(),
                schedule_name: "nightly".into(),
                tick: None,
                execution_ids: vec!["e2".into()],
                problems: Vec::new(),
            }),
        ];
        let json: Vec<serde_json::Value> = notices
            .iter()
            .map(|n| serde_json::to_value(n).unwrap_or_default())
            .collect();
        assert_eq!(json[0]["kind"], "problem");
        assert_eq!(json[0]["message"], "database down");
        assert_eq!(json[1]["kind"], "lease_lost");
        assert_eq!(json[2]["count"], 2);
        assert_eq!(json[3]["kind"], "scheduled");
        assert_eq!(json[3]["schedule_name"], "nightly");
    }
}
