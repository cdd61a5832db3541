//! The HTTP exchanges of one flow run, kept for building contracts from them.
//!
//! The executor keeps the log only for a run whose flow has a `contract_generate` step (so other
//! runs never pay for it) and feeds it every passed `http_request` step: the request as sent and
//! the response as received (bodies cut like the step records'), secrets masked, with the step's
//! name and `contract:` hints. Flows called with `run_flow` have their own runs and logs.

use std::sync::Mutex;

use serde_json::Value;
use testmesh_flow::model::step::ContractHints;

/// Most exchanges one run keeps; later ones are counted, not kept.
pub const MAX_EXCHANGES: usize = 10_000;

/// One exchange of an `http_request` step.
#[derive(Debug, Clone)]
pub struct RecordedExchange {
    /// The step's id.
    pub step_id: String,
    /// The step's name.
    pub step_name: Option<String>,
    /// The step's `contract:` hints.
    pub hints: Option<ContractHints>,
    /// The request record: `{method, url, headers, body}`.
    pub request: Value,
    /// The response record: `{status, headers, body, truncated?, body_encoding?}`.
    pub response: Value,
}

/// The exchanges of one run, in the order the steps finished.
#[derive(Debug, Default)]
pub struct HttpExchangeLog {
    inner: Mutex<(Vec<RecordedExchange>, u64)>,
}

impl HttpExchangeLog {
    /// Adds an exchange (counted as dropped past [`MAX_EXCHANGES`]).
    pub fn push(&self, exchange: RecordedExchange) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.0.len() < MAX_EXCHANGES {
            inner.0.push(exchange);
        } else {
            inner.1 += 1;
        }
    }

    /// The exchanges so far.
    pub fn entries(&self) -> Vec<RecordedExchange> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// How many exchanges were not kept.
    pub fn dropped(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).1
    }
}
