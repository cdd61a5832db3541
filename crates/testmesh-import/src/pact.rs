//! A pact checked against the provider's OpenAPI document: does the provider document what the
//! consumer expects?
//!
//! Each HTTP interaction of the pact is routed through the document's operations and its example
//! request and response are validated against them. Findings are [`Change`]s (part `openapi`),
//! so they read and gate like the breaking changes of `testmesh contract diff`:
//!
//! | rule | severity |
//! |---|---|
//! | `openapi_route_missing`: no operation for the path (a 404) | breaking |
//! | `openapi_method_missing`: the path exists, not the method (a 405) | breaking |
//! | `openapi_request_invalid`: the example request breaks the operation's parameters or body schema | breaking |
//! | `openapi_status_undocumented`: no response for the status (nor its class, nor `default`) | breaking |
//! | `openapi_status_default`: only the `default` response covers the status | info |
//! | `openapi_response_invalid`: the example response body breaks the documented schema | breaking |
//! | `openapi_content_type_undocumented`: the response's content type is not documented | warning |
//!
//! The comparison lives here rather than in `testmesh-contract` because importers sit downstream
//! of the contract crate (DESIGN.md §2): this crate reads pacts, the contract crate knows nothing
//! of OpenAPI.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;
use testmesh_contract::diff::{Change, Severity};
use testmesh_contract::{InteractionKind, Pact};

use crate::escape;
use crate::openapi::{
    Direction, MockOptions, OpenApi, SchemaError, ValidationRequest, Validator, compile,
};

/// Checks every HTTP interaction of `pact` against `api`. Pact paths may include the document's
/// base path (`servers[0].url`) or not. An error only when a schema of the document cannot be
/// compiled.
pub fn check_pact_against_openapi(pact: &Pact, api: &OpenApi) -> Result<Vec<Change>, SchemaError> {
    let with_base = Validator::new(api, &MockOptions::default())?;
    let without_base = Validator::new(
        api,
        &MockOptions {
            base_path: Some(String::new()),
            ..MockOptions::default()
        },
    )?;
    let base = MockOptions::default().base_path_for(api);
    let mut changes = Vec::new();
    for interaction in &pact.interactions {
        let InteractionKind::Http { request, response } = &interaction.kind else {
            continue;
        };
        let name = interaction.description.as_str();
        let change = |rule, severity, path: String, message: String| {
            Change::new(rule, severity, name, "openapi", path, message)
        };
        let validator = if !base.is_empty() && request.path.starts_with(&base) {
            &with_base
        } else {
            &without_base
        };
        let Ok(method) = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes()) else {
            changes.push(change(
                "openapi_method_missing",
                Severity::Breaking,
                request.path.clone(),
                format!("'{}' is not an HTTP method", request.method),
            ));
            continue;
        };
        let endpoint = format!("{} {}", request.method.to_ascii_uppercase(), request.path);
        let index = match validator.route(&method, &request.path) {
            Ok((index, _)) => index,
            Err(rejection) => {
                let (rule, message) = if rejection.status == 405 {
                    (
                        "openapi_method_missing",
                        format!(
                            "{endpoint} is not documented: {}",
                            rejection.errors.join("; ")
                        ),
                    )
                } else {
                    (
                        "openapi_route_missing",
                        format!("no operation of the OpenAPI document matches {endpoint}"),
                    )
                };
                changes.push(change(
                    rule,
                    Severity::Breaking,
                    request.path.clone(),
                    message,
                ));
                continue;
            }
        };
        let operation = &api.operations[index];
        let op_name = operation
            .operation_id
            .clone()
            .unwrap_or_else(|| format!("{} {}", operation.method, operation.path));

        // The consumer's request, as the pact shows it.
        let mut headers = HeaderMap::new();
        for (k, values) in &request.headers {
            if let Ok(header_name) = HeaderName::from_bytes(k.as_bytes()) {
                for v in values {
                    if let Ok(value) = HeaderValue::from_str(v) {
                        headers.append(header_name.clone(), value);
                    }
                }
            }
        }
        let validation = ValidationRequest {
            method: method.clone(),
            path: request.path.clone(),
            query: request
                .query
                .iter()
                .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
                .collect(),
            headers,
            body: Bytes::from(request.body.bytes().map(<[u8]>::to_vec).unwrap_or_default()),
        };
        if let Err(rejection) = validator.validate(&validation) {
            for error in &rejection.errors {
                changes.push(change(
                    "openapi_request_invalid",
                    Severity::Breaking,
                    error.split(':').next().unwrap_or_default().to_string(),
                    format!("the request does not conform to {op_name}: {error}"),
                ));
            }
        }

        // The response the consumer expects.
        let status = response.status;
        let exact = operation
            .responses
            .iter()
            .find(|r| r.status == status.to_string());
        let class = operation.responses.iter().find(|r| {
            r.status.len() == 3
                && r.status[1..].eq_ignore_ascii_case("xx")
                && r.status
                    .starts_with(char::from(b'0' + (status / 100) as u8))
        });
        let default = operation.responses.iter().find(|r| r.status == "default");
        let Some(documented) = exact.or(class).or(default) else {
            let known: Vec<&str> = operation
                .responses
                .iter()
                .map(|r| r.status.as_str())
                .collect();
            changes.push(change(
                "openapi_status_undocumented",
                Severity::Breaking,
                status.to_string(),
                format!(
                    "{op_name} does not document status {status} (documented: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
            continue;
        };
        if exact.is_none() && class.is_none() {
            changes.push(change(
                "openapi_status_default",
                Severity::Info,
                status.to_string(),
                format!("status {status} is only covered by {op_name}'s default response"),
            ));
        }
        let Some(bytes) = response.body.bytes() else {
            continue;
        };
        let content_type = response.content_type();
        let media = match &content_type {
            Some(ct) => documented.content.iter().find(|m| {
                let name = m.name.to_ascii_lowercase();
                let essence = name
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                essence == ct.base() || essence == "*/*" || essence == format!("{}/*", ct.main)
            }),
            None => documented.preferred_content(),
        };
        let Some(media) = media else {
            if !documented.content.is_empty() {
                changes.push(change(
                    "openapi_content_type_undocumented",
                    Severity::Warning,
                    String::new(),
                    format!(
                        "{op_name} does not document {} responses for status {status}",
                        content_type.map_or_else(|| "these".to_string(), |ct| ct.base())
                    ),
                ));
            }
            continue;
        };
        let (Some(schema), true) = (
            &media.schema,
            content_type.as_ref().is_none_or(|c| c.is_json()),
        ) else {
            continue;
        };
        let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
            continue;
        };
        let validator =
            compile(&api.document, schema, Direction::Response).map_err(|message| SchemaError {
                location: api.document.locate(&format!(
                    "{}/responses/{}",
                    operation.pointer,
                    escape(&documented.status)
                )),
                message,
            })?;
        for error in validator.iter_errors(&body).take(20) {
            let pointer = error.instance_path().to_string();
            changes.push(change(
                "openapi_response_invalid",
                Severity::Breaking,
                pointer_to_path(&pointer),
                format!(
                    "the expected response does not match {op_name}'s schema for {}: {error}",
                    documented.status
                ),
            ));
        }
    }
    Ok(changes)
}

/// `/items/2/price` → `$.items[2].price`.
fn pointer_to_path(pointer: &str) -> String {
    let mut out = "$".to_string();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            out.push('.');
            out.push_str(&segment);
        }
    }
    out
}
