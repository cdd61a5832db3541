//! Reporting and analytics over stored executions: daily metrics per flow and suite with exact
//! percentiles, step performance per day and action, flakiness scores that tell flaky flows from
//! broken ones, failure categories, and reports rendered as one self-contained HTML file, JUnit
//! XML or JSON.
//!
//! [`model::ReportData`] is what every report format renders; it is assembled from the store.

pub mod aggregate;
pub mod categories;
pub mod collect;
pub mod error;
pub mod flakiness;
pub mod html;
pub mod json;
pub mod junit;
pub mod model;
pub mod percentile;
pub mod stored;
pub mod svg;

pub use error::ReportError;
pub use model::ReportData;

/// Renders a report in a stored report's format.
pub fn render(data: &ReportData, format: testmesh_store::ReportFormat) -> String {
    match format {
        testmesh_store::ReportFormat::Html => html::render(data),
        testmesh_store::ReportFormat::Junit => junit::render(data),
        testmesh_store::ReportFormat::Json => json::render(data),
    }
}
