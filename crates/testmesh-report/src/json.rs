//! The JSON report: [`ReportData`] pretty-printed. Its schema is the model's (documented in
//! `docs/reports.md`, versioned by `schema_version`), so reading a report back gives the same
//! data.

use crate::model::ReportData;

/// Renders `data` as pretty-printed JSON.
pub fn render(data: &ReportData) -> String {
    match serde_json::to_string_pretty(data) {
        Ok(json) => json,
        // The model serialises only strings, numbers, dates and plain structs, so this cannot
        // happen today; if a future field could fail, callers still get valid JSON saying why.
        Err(error) => serde_json::json!({
            "schema_version": data.schema_version,
            "error": format!("cannot serialise the report: {error}"),
        })
        .to_string(),
    }
}
