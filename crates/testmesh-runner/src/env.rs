//! The names an expression sees: the step's result, `response`, earlier steps' outputs and variables.

use std::cell::OnceCell;

use serde_json::{Map, Value, json};
use testmesh_flow::expr::Env;
use testmesh_flow::interpolate::Scope;

/// Assertion environment of a step, in lookup order: the result's own keys (`status`, `body`),
/// `response` (`response.status`, `response.body`, `response.headers[...]`, `response.time`),
/// extra names (e.g. `timeout` for `retry_on`), step ids (`login.body.token`), then variables.
pub struct StepEnv<'a> {
    result: Option<&'a Map<String, Value>>,
    /// Built on first use: most assertions never read `response`.
    response: OnceCell<Value>,
    extra: Map<String, Value>,
    scope: &'a Scope,
}

impl<'a> StepEnv<'a> {
    /// An environment over a step result (an object; other values are seen as `value`).
    pub fn new(result: Option<&'a Value>, scope: &'a Scope) -> Self {
        let result = result.and_then(Value::as_object);
        StepEnv {
            result,
            response: OnceCell::new(),
            extra: Map::new(),
            scope,
        }
    }

    /// An environment with no step result (`when`, `condition`, `wait_until`).
    pub fn variables(scope: &'a Scope) -> Self {
        StepEnv::new(None, scope)
    }

    /// Adds a name that shadows everything else.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.extra.insert(name.to_string(), value);
        self
    }
}

impl Env for StepEnv<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        if let Some(v) = self.extra.get(name) {
            return Some(v);
        }
        if let Some(v) = self.result.and_then(|r| r.get(name)) {
            return Some(v);
        }
        if name == "response"
            && let Some(result) = self.result
        {
            return Some(self.response.get_or_init(|| {
                json!({
                    "status": result.get("status").cloned().unwrap_or(Value::Null),
                    "body": result.get("body").cloned().unwrap_or(Value::Null),
                    "headers": result.get("headers").cloned().unwrap_or(Value::Null),
                    "time": result.get("duration_ms").cloned().unwrap_or(Value::Null),
                })
            }));
        }
        self.scope
            .outputs()
            .get(name)
            .or_else(|| self.scope.lookup_var(name))
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.extra.keys().cloned().collect();
        if let Some(r) = self.result {
            names.extend(r.keys().cloned());
            names.push("response".into());
        }
        names.extend(self.scope.outputs().keys().cloned());
        names
    }
}
