//! Negative steps: requests an API must refuse with a 4xx, in the manner of Schemathesis's checks.
//!
//! - `negative_data_rejection`: a body that violates its schema (a required property missing, a
//!   property of the wrong type, a value outside its enum, minimum, maximum or length, the wrong
//!   kind of body, no body when one is required). Every candidate is checked against the schema
//!   and kept only if it really is invalid.
//! - `missing_required_header`: a required header parameter left out.
//! - `missing_required_parameter`: a required query or cookie parameter left out.
//! - `invalid_parameter`: a path or query parameter with a value of the wrong type or outside
//!   its enum.
//! - `unsupported_method`: a method the path does not declare (once per path).
//!
//! Each step keeps the credentials and every other valid value of the positive request, and
//! asserts `status >= 400 && status < 500`.

use serde_json::{Value, json};

use super::super::document::Document;
use super::super::model::{Operation, ParameterLocation};
use super::super::sample::primary_type;
use super::super::schema::{Direction, compile};
use super::Cx;
use super::request::{Payload, Request, encode_segment, query_entries, text};
use crate::output::StepIds;

/// The assertion of every negative step.
pub(crate) const REFUSED: &str = "status >= 400 && status < 500";

/// Most invalid bodies sent per operation.
const MAX_BODIES: usize = 6;

/// The negative steps for `op`, from its positive request `req`. `first_on_path`: whether `op` is
/// the first operation of its path (which carries the path's `unsupported_method` step).
pub(crate) fn steps(
    cx: &Cx<'_>,
    op: &Operation,
    req: &Request,
    first_on_path: bool,
    ids: &mut StepIds,
) -> Vec<Value> {
    let mut out = Vec::new();
    let label = super::origin(op);
    let mut push = |check: &str, what: String, r: &Request| {
        let mut step = r.step(&what, ids);
        step.insert(
            "name".into(),
            json!(super::clip(&format!("{label}: {what}"), 200)),
        );
        step.insert("tags".into(), json!([check]));
        step.insert("assert".into(), json!([REFUSED]));
        out.push(Value::Object(step));
    };

    for (what, r) in invalid_bodies(cx, op, req) {
        push("negative_data_rejection", what, &r);
    }

    for p in &op.parameters {
        if !p.required {
            continue;
        }
        let (check, removed) = match p.location {
            ParameterLocation::Header => {
                let mut r = req.clone();
                let key = r
                    .headers
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case(&p.name) && !req.credentials.contains(k))
                    .cloned();
                let removed = key.is_some_and(|k| {
                    r.headers.retain(|h, _| *h != k);
                    true
                });
                ("missing_required_header", removed.then_some(r))
            }
            ParameterLocation::Query => {
                let mut r = req.clone();
                let before = r.params.len();
                r.params.retain(|k, _| {
                    req.credentials.contains(k)
                        || !(k == &p.name || k.starts_with(&format!("{}[", p.name)))
                });
                let removed = r.params.len() < before;
                ("missing_required_parameter", removed.then_some(r))
            }
            ParameterLocation::Cookie => {
                let mut r = req.clone();
                let removed =
                    !req.credentials.contains(&p.name) && r.cookies.remove(&p.name).is_some();
                ("missing_required_parameter", removed.then_some(r))
            }
            ParameterLocation::Path => continue,
        };
        if let Some(r) = removed {
            let what = format!("without the required {} `{}`", p.location.as_str(), p.name);
            push(check, what, &r);
        }
    }

    let doc = &cx.api.document;
    for p in &op.parameters {
        if !matches!(
            p.location,
            ParameterLocation::Path | ParameterLocation::Query
        ) {
            continue;
        }
        let Some(schema) = &p.schema else {
            continue;
        };
        let Some((bad, what)) = invalid_scalar(doc, schema) else {
            continue;
        };
        if p.location == ParameterLocation::Query && req.credentials.iter().any(|c| c == &p.name) {
            continue;
        }
        let mut r = req.clone();
        match p.location {
            ParameterLocation::Path => {
                r.set_path_value(&p.name, encode_segment(&text(&bad)));
            }
            _ => {
                r.params
                    .retain(|k, _| !(k == &p.name || k.starts_with(&format!("{}[", p.name))));
                for (name, v) in query_entries(p, &bad) {
                    r.params.insert(name, v);
                }
            }
        }
        let what = format!("{} `{}` {what}", p.location.as_str(), p.name);
        push("invalid_parameter", what, &r);
    }

    if first_on_path && let Some(method) = undeclared_method(cx, &op.path) {
        let mut r = req.clone();
        r.method = method.to_string();
        r.body = None;
        r.headers
            .retain(|k, _| !k.eq_ignore_ascii_case("content-type"));
        let what = format!("{method} is not declared for {}", op.path);
        push("unsupported_method", what, &r);
    }
    out
}

/// The first of GET, PATCH, PUT, POST and DELETE that `path` does not declare.
fn undeclared_method(cx: &Cx<'_>, path: &str) -> Option<&'static str> {
    let declared: Vec<&str> = cx
        .api
        .operations
        .iter()
        .filter(|o| o.path == path)
        .map(|o| o.method.as_str())
        .collect();
    ["GET", "PATCH", "PUT", "POST", "DELETE"]
        .into_iter()
        .find(|m| !declared.contains(m))
}

/// A value of the wrong type (or outside the enum) for a scalar parameter schema, and what it is.
fn invalid_scalar(doc: &Document, schema: &Value) -> Option<(Value, String)> {
    let map = doc.resolve_schema(schema).as_object()?;
    if let Some(values) = map.get("enum").and_then(Value::as_array)
        && values.iter().all(Value::is_string)
    {
        let bad = not_in(values);
        return Some((json!(bad), "outside its enum".into()));
    }
    match primary_type(map).as_deref() {
        Some("integer") => Some((json!("not-a-number"), "is not an integer".into())),
        Some("number") => Some((json!("not-a-number"), "is not a number".into())),
        Some("boolean") => Some((json!("not-a-boolean"), "is not a boolean".into())),
        _ => None,
    }
}

/// A string that is none of `values`.
fn not_in(values: &[Value]) -> String {
    let mut bad = "not-in-enum".to_string();
    while values.iter().any(|v| v.as_str() == Some(bad.as_str())) {
        bad.push('x');
    }
    bad
}

/// The properties (name, resolved schema) and required names of an object schema, through
/// `$ref`s and `allOf`.
pub(crate) fn object_properties(
    doc: &Document,
    schema: &Value,
) -> (Vec<(String, Value)>, Vec<String>) {
    let mut props: Vec<(String, Value)> = Vec::new();
    let mut required: Vec<String> = Vec::new();
    collect(doc, schema, &mut props, &mut required, 0);
    (props, required)
}

fn collect(
    doc: &Document,
    schema: &Value,
    props: &mut Vec<(String, Value)>,
    required: &mut Vec<String>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    let Some(map) = doc.resolve_schema(schema).as_object() else {
        return;
    };
    if let Some(own) = map.get("properties").and_then(Value::as_object) {
        for (name, prop) in own {
            if !props.iter().any(|(n, _)| n == name) {
                props.push((name.clone(), doc.resolve_schema(prop).clone()));
            }
        }
    }
    for name in map
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !required.iter().any(|r| r == name) {
            required.push(name.to_string());
        }
    }
    for part in map
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect(doc, part, props, required, depth + 1);
    }
}

/// Requests whose body violates the schema, each with what is wrong.
fn invalid_bodies(cx: &Cx<'_>, op: &Operation, req: &Request) -> Vec<(String, Request)> {
    let mut out = Vec::new();
    let Some(body) = &req.body else {
        return out;
    };
    if op.request_body.as_ref().is_some_and(|b| b.required) {
        let mut r = req.clone();
        r.body = None;
        r.headers
            .retain(|k, _| !k.eq_ignore_ascii_case("content-type"));
        out.push(("without the required body".to_string(), r));
    }
    let doc = &cx.api.document;
    let Some(schema) = &body.schema else {
        return out;
    };
    let (value, form) = match &body.payload {
        Payload::Json(v) => (v.clone(), false),
        Payload::Form(fields) => (Value::Object(fields.clone()), true),
        Payload::Multipart(_) | Payload::Text(_) => return out,
    };
    let Ok(validator) = compile(doc, schema, Direction::Request) else {
        return out;
    };
    let mut candidates: Vec<(String, Value)> = Vec::new();
    if let Value::Object(fields) = &value {
        let (props, required) = object_properties(doc, schema);
        let with = |name: &str, v: Value| {
            let mut changed = fields.clone();
            changed.insert(name.to_string(), v);
            Value::Object(changed)
        };
        if let Some(name) = required.iter().find(|n| fields.contains_key(n.as_str())) {
            let mut changed = fields.clone();
            changed.retain(|k, _| k != name);
            candidates.push((
                format!("body without the required `{name}`"),
                Value::Object(changed),
            ));
        }
        let mut kinds_done: Vec<&str> = Vec::new();
        for (name, prop) in &props {
            if !fields.contains_key(name) {
                continue;
            }
            for (kind, bad, what) in property_violations(prop, form) {
                if kinds_done.contains(&kind) {
                    continue;
                }
                let changed = with(name, bad);
                if !validator.is_valid(&changed) {
                    kinds_done.push(kind);
                    candidates.push((format!("body `{name}` {what}"), changed));
                }
            }
        }
        if !form {
            candidates.push(("body is a list, not an object".into(), json!([])));
        }
    } else if value.is_array() {
        candidates.push(("body is an object, not a list".into(), json!({})));
    }
    for (what, bad) in candidates {
        if out.len() >= MAX_BODIES {
            break;
        }
        if validator.is_valid(&bad) {
            continue;
        }
        let mut r = req.clone();
        if let Some(b) = r.body.as_mut() {
            b.payload = match (&b.payload, bad) {
                (Payload::Form(_), Value::Object(fields)) => Payload::Form(fields),
                (_, bad) => Payload::Json(bad),
            };
        }
        out.push((what, r));
    }
    out
}

/// Invalid values for a property: (kind, value, what is wrong).
fn property_violations(prop: &Value, form: bool) -> Vec<(&'static str, Value, String)> {
    let mut out = Vec::new();
    let Some(map) = prop.as_object() else {
        return out;
    };
    let t = primary_type(map);
    match t.as_deref() {
        Some("string") if !form => {
            out.push(("type", json!(12345), "is a number, not a string".into()))
        }
        Some(n @ ("integer" | "number")) => out.push((
            "type",
            json!("not-a-number"),
            format!(
                "is text, not {}",
                if n == "integer" {
                    "an integer"
                } else {
                    "a number"
                }
            ),
        )),
        Some("boolean") => out.push((
            "type",
            json!("not-a-boolean"),
            "is text, not a boolean".into(),
        )),
        Some("array") if !form => {
            out.push(("type", json!("not-an-array"), "is text, not a list".into()))
        }
        Some("object") if !form => out.push((
            "type",
            json!("not-an-object"),
            "is text, not an object".into(),
        )),
        _ => {}
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        if values.iter().all(Value::is_string) {
            out.push(("enum", json!(not_in(values)), "is outside its enum".into()));
        } else if let Some(max) = values.iter().filter_map(Value::as_f64).reduce(f64::max) {
            out.push((
                "enum",
                number(max.floor() + 1.0),
                "is outside its enum".into(),
            ));
        }
    }
    let bound = |key: &str| map.get(key).and_then(Value::as_f64);
    let exclusive = |key: &str| map.get(key) == Some(&Value::Bool(true));
    if let Some(min) = bound("exclusiveMinimum") {
        out.push((
            "minimum",
            number(min),
            format!("is {min}, not above its exclusive minimum"),
        ));
    } else if let Some(min) = bound("minimum") {
        let bad = if exclusive("exclusiveMinimum") {
            min
        } else {
            min - 1.0
        };
        out.push((
            "minimum",
            number(bad),
            format!("is {}, below its minimum {min}", number(bad)),
        ));
    }
    if let Some(max) = bound("exclusiveMaximum") {
        out.push((
            "maximum",
            number(max),
            format!("is {max}, not below its exclusive maximum"),
        ));
    } else if let Some(max) = bound("maximum") {
        let bad = if exclusive("exclusiveMaximum") {
            max
        } else {
            max + 1.0
        };
        out.push((
            "maximum",
            number(bad),
            format!("is {}, above its maximum {max}", number(bad)),
        ));
    }
    if let Some(max) = map
        .get("maxLength")
        .and_then(Value::as_u64)
        .filter(|m| *m < 10_000)
    {
        out.push((
            "maxLength",
            json!("x".repeat(max as usize + 1)),
            format!("is longer than its maxLength {max}"),
        ));
    }
    if let Some(min) = map
        .get("minLength")
        .and_then(Value::as_u64)
        .filter(|m| *m > 0 && *m < 10_000)
    {
        out.push((
            "minLength",
            json!("x".repeat(min as usize - 1)),
            format!("is shorter than its minLength {min}"),
        ));
    }
    out
}

/// A number as an integer when it is one.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        json!(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(json!(0), Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_cover_types_and_bounds() {
        let v = property_violations(
            &json!({"type": "integer", "minimum": 1, "maximum": 10}),
            false,
        );
        let kinds: Vec<_> = v.iter().map(|(k, ..)| *k).collect();
        assert_eq!(kinds, ["type", "minimum", "maximum"]);
        assert_eq!(v[1].1, json!(0));
        assert_eq!(v[2].1, json!(11));
        let v = property_violations(
            &json!({"type": "string", "enum": ["a"], "maxLength": 2}),
            true,
        );
        let kinds: Vec<_> = v.iter().map(|(k, ..)| *k).collect();
        assert_eq!(kinds, ["enum", "maxLength"]);
        assert_eq!(not_in(&[json!("not-in-enum")]), "not-in-enumx");
    }
}
