//! The `assert` action: expressions over given data (usually interpolated from earlier steps).

use serde_json::{Map, Value, json};
use testmesh_flow::Action;

use crate::handler::{ActionCx, ActionFuture, Handler, Outcome};
use crate::record::{ErrorKind, StepError};

/// Evaluates `assertions` against `data`.
pub struct AssertAction;

impl Handler for AssertAction {
    fn run<'a>(&'a self, action: &'a Action, _: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::Assert(config) = action else {
                return Err(StepError::config("assert handler got another action"));
            };
            let data = as_object(&config.data);
            let failures: Vec<String> = config
                .assertions
                .iter()
                .filter_map(|a| {
                    a.expr.check(&data).err().map(|f| {
                        format!(
                            "  - {}: {}",
                            a.expr.source(),
                            a.message.clone().unwrap_or(f.message)
                        )
                    })
                })
                .collect();
            if !failures.is_empty() {
                let fields: Vec<&str> = data.keys().map(String::as_str).collect();
                return Err(StepError::new(
                    ErrorKind::Assertion,
                    format!(
                        "assertion failed:\n{}\n  (data has: {})",
                        failures.join("\n"),
                        fields.join(", ")
                    ),
                ));
            }
            Ok(Outcome::of(json!({
                "assertions_count": config.assertions.len(),
                "passed": true,
                "data": Value::Object(data),
            })))
        })
    }
}

/// The original's rule: an object is used as is; a string holding a JSON object is parsed; anything
/// else is seen as `value`.
fn as_object(data: &Value) -> Map<String, Value> {
    match data {
        Value::Object(map) => map.clone(),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(map)) => map,
            _ => Map::from_iter([("value".to_string(), data.clone())]),
        },
        other => Map::from_iter([("value".to_string(), other.clone())]),
    }
}
