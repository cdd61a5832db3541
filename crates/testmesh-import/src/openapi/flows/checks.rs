//! Assertions of a positive step: the documented status, the content type and the response schema.

use serde_json::{Map, Value, json};

use super::super::model::{Operation, Response};
use super::super::schema::{Direction, to_json_schema};
use super::request::{Request, essence};
use super::{Cx, origin};
use crate::output::Import;

/// Deepest schema (in JSON nesting) put into a `matches_schema` assertion; the expression parser
/// refuses trees deeper than 64.
const MAX_SCHEMA_DEPTH: usize = 48;

/// Largest schema text put into one assertion (a flow file may hold at most 1 MiB).
const MAX_SCHEMA_BYTES: usize = 256 * 1024;

/// The response a positive request expects.
pub(crate) struct Expected<'a> {
    /// The status assertion.
    pub(crate) status: String,
    /// The response whose body is checked, if any.
    pub(crate) response: Option<&'a Response>,
}

/// The first documented 2xx response, else the first with an explicit code; with only `default`,
/// any status below 400.
pub(crate) fn expected(op: &Operation) -> Expected<'_> {
    let chosen = op
        .responses
        .iter()
        .find(|r| r.code().is_some_and(|c| (200..300).contains(&c)))
        .or_else(|| op.responses.iter().find(|r| r.code().is_some()));
    match chosen {
        Some(response) => {
            let code = response.code().unwrap_or(200);
            let status = if response.status.parse::<u16>().is_ok() {
                format!("status == {code}")
            } else {
                format!("status >= {code} && status < {}", code + 100)
            };
            Expected {
                status,
                response: Some(response),
            }
        }
        None => Expected {
            status: "status < 400".into(),
            response: None,
        },
    }
}

/// Adds the positive assertions of `op` to `step`.
pub(crate) fn add_positive(
    cx: &Cx<'_>,
    op: &Operation,
    req: &Request,
    step: &mut Map<String, Value>,
    import: &mut Import,
) {
    let expected = expected(op);
    let mut asserts = vec![json!(expected.status)];
    if let Some(response) = expected.response
        && req.method != "HEAD"
        && response.code() != Some(204)
        && response.code() != Some(304)
    {
        body_assertions(cx, op, response, &mut asserts, import);
    }
    step.insert("assert".into(), Value::Array(asserts));
}

fn body_assertions(
    cx: &Cx<'_>,
    op: &Operation,
    response: &Response,
    asserts: &mut Vec<Value>,
    import: &mut Import,
) {
    let Some(media) = response.preferred_content() else {
        return;
    };
    let essence = essence(&media.name);
    let quoted = |s: &str| s.replace('\\', "\\\\").replace('\'', "\\'");
    if essence == "*/*" || essence.is_empty() {
        // Anything goes.
    } else if let Some(kind) = essence.strip_suffix("/*") {
        asserts.push(json!(format!(
            "headers[\"content-type\"] startsWith '{}/'",
            quoted(kind)
        )));
    } else {
        asserts.push(json!(format!(
            "headers[\"content-type\"] contains '{}'",
            quoted(&essence)
        )));
    }
    let Some(schema) = &media.schema else {
        return;
    };
    if !media.is_json() {
        return;
    }
    let mut bundled = to_json_schema(&cx.api.document, schema, Direction::Response);
    if schema_accepts_anything(&bundled) {
        return;
    }
    let depth = depth(&bundled);
    let size = bundled.to_string().len();
    if depth > MAX_SCHEMA_DEPTH || size > MAX_SCHEMA_BYTES {
        let what = format!(
            "the {} response schema is too {} for a `matches_schema` assertion; the body is not checked",
            response.status,
            if depth > MAX_SCHEMA_DEPTH {
                "deeply nested"
            } else {
                "large"
            }
        );
        import.untranslated(origin(op), what);
        return;
    }
    // The runner defaults to 2020-12, which is what the bundled schema is.
    if let Some(map) = bundled.as_object_mut() {
        map.remove("$schema");
    }
    let mut assertion = Map::new();
    assertion.insert("body matches_schema".into(), bundled);
    asserts.push(Value::Object(assertion));
}

/// `{allOf: [{}]}` and the like: no constraint worth an assertion.
fn schema_accepts_anything(bundled: &Value) -> bool {
    let Some(map) = bundled.as_object() else {
        return true;
    };
    let parts = map.get("allOf").and_then(Value::as_array);
    map.keys().all(|k| k == "$schema" || k == "allOf")
        && parts.is_some_and(|p| p.iter().all(|s| s == &json!({}) || s == &json!(true)))
}

/// Nesting depth of a JSON value (a scalar is 0).
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_containers() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({"a": [1, {"b": {}}]})), 4);
        assert!(schema_accepts_anything(
            &json!({"$schema": "x", "allOf": [{}]})
        ));
        assert!(!schema_accepts_anything(
            &json!({"allOf": [{"type": "object"}]})
        ));
    }
}
