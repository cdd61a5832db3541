//! The OpenAPI 3.1 document, built from the route table, and the validators of its request schemas.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Param, ParamKind};
use crate::routes::{BodyDoc, Endpoint, Reply};
use crate::schemas;

/// The document for `endpoints`.
pub(crate) fn document(endpoints: &[Endpoint]) -> Value {
    let mut paths = Map::new();
    for endpoint in endpoints {
        let item = paths
            .entry(endpoint.path.to_string())
            .or_insert_with(|| json!({}));
        if let Some(item) = item.as_object_mut() {
            item.insert(
                endpoint.method.as_str().to_ascii_lowercase(),
                operation(endpoint),
            );
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "TestMesh API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Flows, executions with live events, environments, collections, schedules and API keys. Every route but /health needs an API key; the key's workspace is the workspace the request acts in. Errors are JSON: {\"error\", \"code\", \"details\"?}.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "tags": [
            {"name": "flows"}, {"name": "executions"}, {"name": "environments"},
            {"name": "collections"}, {"name": "schedules"}, {"name": "api-keys"},
            {"name": "mock-servers"}, {"name": "contracts"}, {"name": "system"},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas::components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer tm_…`"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    })
}

fn operation(endpoint: &Endpoint) -> Value {
    let mut op = json!({
        "operationId": endpoint.operation_id,
        "tags": [endpoint.tag],
        "summary": endpoint.summary,
    });
    let Some(map) = op.as_object_mut() else {
        return op;
    };
    if !endpoint.description.is_empty() {
        map.insert("description".into(), json!(endpoint.description));
    }
    if endpoint.public {
        map.insert("security".into(), json!([]));
    }
    let mut parameters: Vec<Value> = path_params(endpoint.path)
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": if name == "version" { json!({"type": "integer", "minimum": 1}) } else { json!({"type": "string"}) },
            })
        })
        .collect();
    parameters.extend(endpoint.query.iter().map(query_param));
    parameters.extend(endpoint.headers.iter().map(|param| {
        let mut value = query_param(param);
        value["in"] = json!("header");
        value
    }));
    if !parameters.is_empty() {
        map.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = endpoint.body {
        map.insert("requestBody".into(), request_body(body));
    }
    map.insert("responses".into(), responses(endpoint));
    op
}

fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

fn query_param(param: &Param) -> Value {
    let schema = match param.kind {
        ParamKind::Text => json!({"type": "string"}),
        ParamKind::Repeated => json!({"type": "array", "items": {"type": "string"}}),
        ParamKind::Int(min, max) => json!({"type": "integer", "minimum": min, "maximum": max}),
        ParamKind::Time => json!({"type": "string", "format": "date-time"}),
        ParamKind::Enum(values) => json!({"enum": values}),
    };
    let mut value = json!({
        "name": param.name,
        "in": "query",
        "required": false,
        "description": param.description,
        "schema": schema,
    });
    if let (ParamKind::Repeated, Some(map)) = (param.kind, value.as_object_mut()) {
        map.insert("style".into(), json!("form"));
        map.insert("explode".into(), json!(true));
    }
    value
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn request_body(body: BodyDoc) -> Value {
    match body {
        BodyDoc::Json(schema) => json!({
            "required": true,
            "content": {"application/json": {"schema": schema_ref(schema)}},
        }),
        BodyDoc::FlowYaml => json!({
            "required": true,
            "content": {
                "application/json": {"schema": schema_ref("FlowInput")},
                "application/yaml": {"schema": {"type": "string", "description": "the flow YAML itself"}},
            },
        }),
    }
}

fn error_reply(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema_ref("Error")}},
    })
}

fn responses(endpoint: &Endpoint) -> Value {
    let mut out = Map::new();
    for (status, description, reply) in &endpoint.replies {
        let value = match reply {
            Reply::Json(schema) => json!({
                "description": description,
                "content": {"application/json": {"schema": schema_ref(schema)}},
            }),
            Reply::Empty => json!({"description": description}),
            Reply::EventStream(schema) => json!({
                "description": format!("{description}; each event's `data` is a JSON {schema}"),
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }),
            Reply::Text(media) => json!({
                "description": description,
                "content": {*media: {"schema": {"type": "string"}}},
            }),
        };
        out.insert(status.to_string(), value);
    }
    // The errors every route of this kind can give, unless the route documents them itself.
    let mut common = vec![("500", "internal error")];
    if !endpoint.public {
        common.push(("401", "missing, unknown or revoked API key"));
        common.push((
            "429",
            "rate limit exceeded; `Retry-After` says when to retry",
        ));
    }
    if endpoint.path.contains('{') {
        common.push(("404", "nothing with that id in the key's workspace"));
    }
    if !endpoint.query.is_empty() {
        common.push(("400", "unknown or invalid query parameter"));
    }
    if endpoint.body.is_some() {
        common.push(("400", "malformed JSON (with its line and column)"));
        common.push(("413", "body larger than the limit"));
        common.push(("415", "wrong Content-Type"));
        common.push(("422", "the body does not match its schema"));
    }
    for (status, description) in common {
        out.entry(status.to_string())
            .or_insert_with(|| error_reply(description));
    }
    Value::Object(out)
}

/// Compiled validators for the document's schemas, by name.
pub(crate) struct Schemas {
    validators: HashMap<String, jsonschema::Validator>,
}

/// Findings listed in one error answer, at most.
const MAX_FINDINGS: usize = 20;

impl Schemas {
    /// Compiles every schema of `document`'s components.
    pub(crate) fn compile(document: &Value) -> Result<Schemas, String> {
        let components = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .ok_or("the document has no schemas")?;
        let mut validators = HashMap::new();
        for name in components.keys() {
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#/components/schemas/{name}"),
                "components": {"schemas": components},
            });
            let validator =
                jsonschema::validator_for(&root).map_err(|e| format!("schema {name}: {e}"))?;
            validators.insert(name.clone(), validator);
        }
        Ok(Schemas { validators })
    }

    /// 422 with every finding (at most 20) unless `value` matches schema `name`.
    pub(crate) fn check(&self, name: &str, value: &Value) -> ApiResult<()> {
        let validator = self
            .validators
            .get(name)
            .ok_or_else(|| ApiError::internal(&format!("no schema named {name}")))?;
        let findings: Vec<Value> = validator
            .iter_errors(value)
            .take(MAX_FINDINGS)
            .map(|e| {
                let path = e.instance_path().to_string();
                json!({
                    "path": if path.is_empty() { "/".to_string() } else { path },
                    "message": e.to_string(),
                })
            })
            .collect();
        match findings.first() {
            None => Ok(()),
            Some(first) => {
                let message = format!(
                    "invalid body: {}: {}",
                    first["path"].as_str().unwrap_or("/"),
                    first["message"].as_str().unwrap_or_default()
                );
                Err(ApiError::unprocessable("invalid_body", message)
                    .with_details(json!({ "errors": findings })))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::endpoints;

    #[test]
    fn every_operation_is_unique_and_every_reference_resolves() {
        let doc = document(&endpoints());
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "unknown schema {name}");
        }
        let mut ids: Vec<&str> = endpoints().iter().map(|e| e.operation_id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "operation ids are unique");
        assert!(Schemas::compile(&doc).is_ok());
    }

    #[test]
    fn request_bodies_are_checked() {
        let schemas = Schemas::compile(&document(&endpoints())).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            schemas
                .check(
                    "ApiKeyInput",
                    &json!({"name": "ci", "rate_limit_per_minute": 5})
                )
                .is_ok()
        );
        let err = schemas
            .check(
                "ApiKeyInput",
                &json!({"nme": "ci", "rate_limit_per_minute": 0}),
            )
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(err.code, "invalid_body");
        let findings = err.details.unwrap_or_default()["errors"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(findings, 3, "missing name, unknown nme, rate limit below 1");
    }
}
