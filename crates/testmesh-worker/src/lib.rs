//! TestMesh workers: processes that run queued executions from the store, on one machine (SQLite)
//! or on many sharing a PostgreSQL database.
//!
//! A [`Worker`] claims pending executions (`FOR UPDATE SKIP LOCKED` on PostgreSQL), runs up to
//! `concurrency` of them at once with one [`testmesh_runner::Runner`], renews each claim's lease
//! with heartbeats (which also carry cancellation requests), appends live events to the store
//! through one batching writer task, and completes each execution exactly once — a worker that lost
//! its lease writes nothing. It puts the executions of dead workers back in the queue when their
//! leases expire, fires due schedules through a [`Scheduler`], and on shutdown lets running
//! executions finish within a grace period and releases the rest.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use testmesh_worker::{Worker, WorkerOptions};
//! let store = testmesh_store::Store::open("postgres://testmesh@db/testmesh").await?;
//! let worker = Worker::new(store, WorkerOptions::default());
//! // Runs for an hour, then finishes or releases what it holds and returns.
//! worker.run(tokio::time::sleep(std::time::Duration::from_secs(3600))).await?;
//! # Ok(()) }
//! ```

mod error;
mod execute;
mod live;
mod options;
mod scheduler;
mod worker;

pub use error::WorkerError;
pub use options::{DEFAULT_LEASE, WorkerOptions, default_worker_id};
pub use scheduler::{Fired, Scheduler};
pub use worker::{Notice, Worker};
