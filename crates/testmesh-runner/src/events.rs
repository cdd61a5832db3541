//! Progress events: the one interface through which the CLI, the store and the server follow a run.

use std::sync::Arc;

use crate::record::{FlowRecord, StepRecord};

/// Something that happened during a run.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A flow started.
    FlowStarted {
        /// Execution id.
        execution_id: &'a str,
        /// Flow name.
        name: &'a str,
        /// Number of top-level steps in all phases.
        total_steps: usize,
    },
    /// A step started (nested steps too; `depth` is 0 for top-level steps).
    StepStarted {
        /// Execution id.
        execution_id: &'a str,
        /// Step id.
        step_id: &'a str,
        /// Display name.
        name: Option<&'a str>,
        /// Action name.
        action: &'a str,
        /// Nesting depth.
        depth: usize,
    },
    /// A step finished (passed, failed or skipped). A step skipped without starting (after an
    /// earlier failure, a timeout or a cancellation) gets only this event, no `StepStarted`.
    StepFinished {
        /// Execution id.
        execution_id: &'a str,
        /// The record.
        record: &'a StepRecord,
        /// Nesting depth.
        depth: usize,
    },
    /// A flow finished.
    FlowFinished {
        /// The record.
        record: &'a FlowRecord,
    },
}

/// Receives events. Implementations must be cheap: they run on the executor's tasks.
pub trait EventSink: Send + Sync {
    /// Called for every event, in order for one flow.
    fn on_event(&self, event: Event<'_>);
}

/// Ignores every event.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn on_event(&self, _: Event<'_>) {}
}

/// Passes every event to each of several sinks, in order (the console and the store, say).
pub struct EventSinks(pub Vec<Arc<dyn EventSink>>);

impl EventSink for EventSinks {
    fn on_event(&self, event: Event<'_>) {
        for sink in &self.0 {
            sink.on_event(event);
        }
    }
}
