//! The TestMesh executor: runs flows phase by phase, step by step, with retries, timeouts, control
//! flow, assertions and outputs; reports through events and records; and hosts the registry of
//! leaf actions that later crates extend.
//!
//! Library code never prints: the CLI and the server decide how to show events and records.

pub mod actions;
mod data_file;
pub mod env;
pub mod events;
pub mod exchanges;
pub mod executor;
pub mod handler;
pub mod record;
pub mod secrets;

pub use events::{Event, EventSink, EventSinks, NoEvents};
pub use exchanges::{HttpExchangeLog, RecordedExchange};
pub use executor::{FlowLibrary, RunOptions, Runner};
pub use handler::{
    ActionCx, ActionFuture, Exchange, ExchangeRecords, FlowState, Handler, Outcome, Registry,
};
pub use record::{
    AssertionRecord, ErrorKind, FlowRecord, FlowStatus, StepCounts, StepError, StepRecord,
    StepStatus,
};
pub use secrets::Secrets;
/// Cancels a run: see [`RunOptions::cancel`].
pub use tokio_util::sync::CancellationToken;
