//! Errors of workers and the scheduler.

/// What stops a worker or a scheduler tick. Problems with single executions (a database hiccup, a
/// lost lease) do not stop a worker: they are reported as [`crate::Notice`]s and retried.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The options cannot work together.
    #[error("invalid worker options: {0}")]
    Options(String),
    /// [`crate::Worker::run`] was called while the worker was already running.
    #[error("worker {0} is already running")]
    AlreadyRunning(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] testmesh_store::Error),
}
