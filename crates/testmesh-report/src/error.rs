//! Errors of aggregation and report assembly: bad requests (named by field, with the expected
//! form) and store failures.

use chrono::NaiveDate;

/// What can go wrong while aggregating or assembling a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The first day is after the last.
    #[error(
        "the period starts ({from}) after it ends ({to}): give a first day on or before the last"
    )]
    InvalidRange {
        /// First day asked for.
        from: NaiveDate,
        /// Last day asked for.
        to: NaiveDate,
    },
    /// A filter value is not one the field takes.
    #[error("invalid {field} `{value}`: expected {expected}")]
    InvalidFilter {
        /// The field, e.g. `statuses`.
        field: &'static str,
        /// The value given.
        value: String,
        /// What the field takes.
        expected: &'static str,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] testmesh_store::Error),
}

impl ReportError {
    /// True when the request was at fault (a bad range or filter, or a store refusal of the
    /// input): callers answer 4xx or exit with the usage code, not an internal error.
    pub fn is_input(&self) -> bool {
        match self {
            ReportError::InvalidRange { .. } | ReportError::InvalidFilter { .. } => true,
            ReportError::Store(e) => matches!(
                e,
                testmesh_store::Error::Invalid { .. } | testmesh_store::Error::NotFound { .. }
            ),
        }
    }
}
