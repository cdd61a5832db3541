//! API coverage: which operations of an OpenAPI document the flows exercise, which of their
//! declared statuses the flows assert (or recorded runs observed), and what is missing.
//!
//! 1. [`calls_in_flow`] lists the HTTP calls of a flow without running it: every `http_request`
//!    (or `http`) step of every phase, nested steps included (`condition`, `for_each`, `parallel`,
//!    `wait_until`, `error_steps`), with the statuses its assertions expect. Calls from recorded
//!    runs are built by the caller with [`CallSource::History`] and the observed status.
//! 2. [`analyze`] matches each call's URL to an operation (method + path template) and builds a
//!    [`Coverage`]: per operation the calls that reach it and the declared statuses covered or
//!    missing, the calls that match no operation, the percentage and recommendations.
//! 3. [`Coverage::to_table`], [`Coverage::to_json`] and [`Coverage::to_html`] render it.
//!
//! An operation is **covered** when at least one call reaches it. Its **status coverage** is the
//! share of its declared statuses (`default` aside) that some call asserts or observed; a covered
//! operation with declared statuses never asserted nor observed is **partial**. The percentage is
//! covered operations (partial ones included) over all operations. See `docs/coverage.md`.

mod analyze;
mod calls;
mod render;

pub use analyze::analyze;
pub use calls::calls_in_flow;

/// Where a call was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallSource {
    /// In a flow file, without running it.
    Static,
    /// In a recorded execution.
    History,
}

impl CallSource {
    /// `static` or `history`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallSource::Static => "static",
            CallSource::History => "history",
        }
    }
}

/// One HTTP call a flow makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Call {
    /// The flow (its file or name, as the caller labels it).
    pub flow: String,
    /// The step id (nested steps have their generated ids, `loop_steps_0`).
    pub step: String,
    /// The HTTP method as written (`GET` when the step gives none).
    pub method: String,
    /// The URL as written (`${BASE_URL}/pets/${pet_id}`) or, for history, as requested.
    pub url: String,
    /// Statuses the step's assertions accept (`status == 201`, `status in [200, 204]`) or, for
    /// history, the observed status. The values `1`–`5` stand for a whole class: `4` means any
    /// 4xx (from `status >= 400 and status < 500`). Empty when nothing about the status is known.
    pub statuses: Vec<u16>,
    /// Where the call was found.
    pub source: CallSource,
}

/// `201`, or `4XX` for a class marker.
pub fn status_label(status: u16) -> String {
    if (1..=5).contains(&status) {
        format!("{status}XX")
    } else {
        status.to_string()
    }
}

/// Settings of [`analyze`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageOptions {
    /// The address flows and recorded runs call the API at (`http://localhost:8080/api`); it is
    /// removed from URLs before matching. Scheme and host are removed anyway, and so is a leading
    /// variable such as `${BASE_URL}` or `{{baseUrl}}`.
    pub base_url: Option<String>,
}

/// How much of an operation the calls cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoverageStatus {
    /// No call reaches it.
    Uncovered,
    /// Reached, but some declared statuses are never asserted nor observed.
    Partial,
    /// Reached, and every declared status is asserted or observed.
    Covered,
}

impl CoverageStatus {
    /// `uncovered`, `partial` or `covered`.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Uncovered => "uncovered",
            CoverageStatus::Partial => "partial",
            CoverageStatus::Covered => "covered",
        }
    }
}

/// The coverage of one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationCoverage {
    /// The method, upper-case.
    pub method: String,
    /// The path template as written in the document (`/pets/{id}`).
    pub path: String,
    /// `operationId`.
    pub operation_id: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// Covered, partial or uncovered.
    pub status: CoverageStatus,
    /// The calls that reach it, one per flow step and source, statuses merged.
    pub covered_by: Vec<Call>,
    /// The response keys as written: `200`, `4XX`, `default`.
    pub declared_statuses: Vec<String>,
    /// Declared statuses some call asserts or observed (`default` when a status no other key
    /// declares was seen).
    pub covered_statuses: Vec<String>,
    /// Declared statuses (other than `default`) no call asserts nor observed.
    pub missing_statuses: Vec<String>,
    /// Statuses calls assert or observed that the operation does not declare (nor `default`).
    pub undeclared_statuses: Vec<String>,
    /// Covered share of the declared statuses other than `default`, in percent (one decimal);
    /// 100 for a reached operation that declares none, 0 when unreached.
    pub status_coverage: f64,
}

impl OperationCoverage {
    /// `GET /pets/{id}`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The distinct flows that reach the operation, in order.
    pub fn flows(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for call in &self.covered_by {
            if !out.contains(&call.flow.as_str()) {
                out.push(&call.flow);
            }
        }
        out
    }
}

/// The result of [`analyze`].
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// The document's title and version (`Petstore 1.0.0`).
    pub title: String,
    /// Number of operations.
    pub total: usize,
    /// Operations reached by at least one call (partial ones included).
    pub covered: usize,
    /// Reached operations with declared statuses never asserted nor observed.
    pub partial: usize,
    /// `covered / total × 100`, one decimal (0 for a document without operations).
    pub percent: f64,
    /// Every operation, in document order.
    pub operations: Vec<OperationCoverage>,
    /// Calls that match no operation (undocumented endpoints, typos, a method the path does not
    /// have, URLs that are only a variable), one per flow step and source.
    pub unmatched: Vec<Call>,
    /// What to do next, most important first.
    pub recommendations: Vec<String>,
    /// Why each of `unmatched` matches nothing, in the same order.
    unmatched_reasons: Vec<String>,
}

impl Coverage {
    /// Why `unmatched[index]` matches no operation.
    pub fn unmatched_reason(&self, index: usize) -> Option<&str> {
        self.unmatched_reasons.get(index).map(String::as_str)
    }

    /// Operations no call reaches.
    pub fn uncovered(&self) -> usize {
        self.total - self.covered
    }
}
