//! Reporting and analytics over stored executions: daily metrics per flow and suite with exact
//! percentiles, step performance per day and action, flakiness scores that tell flaky flows from
//! broken ones, failure categories, and reports rendered as one self-contained HTML file, JUnit
//! XML or JSON.
//!
//! [`model::ReportData`] is what every report format renders; it is assembled from the store.

pub mod categories;
pub mod flakiness;
pub mod html;
pub mod json;
pub mod junit;
pub mod model;
pub mod percentile;
pub mod svg;

pub use model::ReportData;
