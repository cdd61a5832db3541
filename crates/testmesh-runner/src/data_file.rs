//! Data files referenced by flows (`input_file`): JSON or YAML, read with positions in errors.

use std::path::Path;

use serde_json::Value;

use crate::record::StepError;

/// Reads a JSON or YAML file; `what` names the setting in messages (`cannot read input_file …`).
pub(crate) fn read(path: &Path, what: &str) -> Result<Value, StepError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| StepError::config(format!("cannot read {what} {}: {e}", path.display())))?;
    testmesh_flow::yaml::parse(&text)
        .map(|node| node.to_json())
        .map_err(|e| {
            StepError::config(format!(
                "{}:{}:{}: {}",
                path.display(),
                e.span.line,
                e.span.col,
                e.message
            ))
        })
}
