//! The action registry: leaf actions (HTTP, database, log, …) plug in here without touching the
//! executor. Control flow (`condition`, `for_each`, `parallel`, `wait_until`, `run_flow`) belongs to the
//! executor because it runs steps.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use testmesh_flow::{Action, ActionKind};

use crate::record::StepError;

/// Builds the records of an exchange — the request as sent and the response as received — from the
/// step's result. Records are built only when they are kept (a failure, a JSON report), so a passed
/// step of a lean run never pays for them.
pub type ExchangeRecords = Box<dyn FnOnce(&Value) -> Exchange + Send>;

/// The request and response records of an exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// The request as sent (for records and failure output).
    pub request: Value,
    /// The response as received.
    pub response: Value,
}

/// What an action returns.
#[derive(Default)]
pub struct Outcome {
    /// The result object: what assertions, outputs and `${step.…}` references see.
    pub result: Value,
    /// The exchange's records, for actions that send a request and receive a response.
    pub exchange: Option<ExchangeRecords>,
}

impl Outcome {
    /// An outcome with only a result.
    pub fn of(result: Value) -> Self {
        Outcome {
            result,
            exchange: None,
        }
    }
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("result", &self.result)
            .field("exchange", &self.exchange.is_some())
            .finish()
    }
}

/// The future an action returns.
pub type ActionFuture<'a> = Pin<Box<dyn Future<Output = Result<Outcome, StepError>> + Send + 'a>>;

/// A leaf action.
pub trait Handler: Send + Sync + 'static {
    /// Runs one attempt of the action with its rendered config. The executor enforces timeouts by
    /// dropping the future; `cx.timeout` is given so clients can also set their own.
    fn run<'a>(&'a self, action: &'a Action, cx: &'a ActionCx) -> ActionFuture<'a>;
}

/// What an action may use besides its config.
pub struct ActionCx {
    /// Directory of the flow file (relative paths in configs are resolved against it).
    pub flow_dir: PathBuf,
    /// The step's time limit for this attempt, when there is one.
    pub timeout: Option<Duration>,
    /// State shared by the steps of one flow run (e.g. the cookie jar).
    pub flow_state: Arc<FlowState>,
    /// The id of the flow run (a queued execution's id when it runs one).
    pub execution_id: String,
    /// The id of the step running the action.
    pub step_id: String,
}

/// Per-flow-run state that actions create on first use, keyed by type.
#[derive(Default)]
pub struct FlowState {
    values: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl FlowState {
    /// The value of type `T` for this flow run, created by `init` on first use.
    pub fn get_or_init<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = values.get(&TypeId::of::<T>())
            && let Ok(value) = Arc::clone(existing).downcast::<T>()
        {
            return value;
        }
        let value = Arc::new(init());
        values.insert(TypeId::of::<T>(), value.clone());
        value
    }

    /// The value of type `T` for this flow run, if some step created it.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        values
            .get(&TypeId::of::<T>())
            .and_then(|v| Arc::clone(v).downcast::<T>().ok())
    }
}

/// Leaf actions by kind.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<ActionKind, Arc<dyn Handler>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Adds or replaces the handler of an action.
    pub fn register(&mut self, kind: ActionKind, handler: impl Handler) {
        self.handlers.insert(kind, Arc::new(handler));
    }

    /// The handler of an action.
    pub fn get(&self, kind: ActionKind) -> Option<&Arc<dyn Handler>> {
        self.handlers.get(&kind)
    }

    /// Whether an action can run.
    pub fn supports(&self, kind: ActionKind) -> bool {
        self.handlers.contains_key(&kind)
    }
}
