//! Turning definitions into the compiled form that serves requests: regexes, templates,
//! expressions and file bodies are prepared once, and every problem is reported with the field path.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use serde_json::Value;
use testmesh_flow::expr::{self, Expr};

use crate::definition::*;
use crate::matcher::*;
use crate::template::{Template, ValueTemplate};

/// Bodies read with `body_from_file` may not be larger than this.
const MAX_BODY_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Errors as (canonical field path, message).
pub(crate) type Errors = Vec<(String, String)>;

/// An endpoint ready to match and answer.
pub(crate) struct CompiledEndpoint {
    pub id: Arc<str>,
    pub label: String,
    pub priority: i64,
    pub method: Option<Method>,
    pub path: PathMatcher,
    pub query: Vec<QueryMatch>,
    pub headers: Vec<HeaderMatch>,
    pub body_equals: Option<BodyEquals>,
    pub body_partial: Option<Value>,
    pub body_pattern: Option<(regex::bytes::Regex, String)>,
    pub body_matches: Vec<Expr>,
    pub responses: Vec<(Option<Expr>, CompiledResponse)>,
    pub default: Option<CompiledResponse>,
    pub legacy: Option<CompiledLegacy>,
    /// Requests this endpoint has answered (for `{{request_count}}`).
    pub hits: AtomicU64,
}

/// An answer ready to render.
pub(crate) struct CompiledResponse {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderTemplate)>,
    pub body: BodyTemplate,
    /// Added when the headers do not set a content type.
    pub content_type: Option<HeaderValue>,
    pub delay: Option<DelayDef>,
    pub hang: bool,
    pub close: bool,
    pub changes: Vec<CompiledChange>,
}

pub(crate) enum HeaderTemplate {
    Static(HeaderValue),
    Template(Template),
}

pub(crate) enum BodyTemplate {
    Static(Bytes),
    Text(Template),
    Json(ValueTemplate),
}

/// A compiled state change.
pub(crate) struct CompiledChange {
    pub action: StateAction,
    pub path: Vec<String>,
    pub value: Option<ValueTemplate>,
}

/// The original's endpoint state rule.
pub(crate) struct CompiledLegacy {
    pub key: String,
    pub initial: Value,
    pub change: Option<CompiledChange>,
}

fn expression(source: &str, path: String, errors: &mut Errors) -> Option<Expr> {
    match expr::parse(source) {
        Ok(e) => Some(e),
        Err(e) => {
            errors.push((
                path,
                format!("invalid expression {}: {e}", Value::from(source)),
            ));
            None
        }
    }
}

/// Compiles one endpoint; `index` only feeds the generated id when the definition has none.
pub(crate) fn compile_endpoint(
    def: &EndpointDef,
    base_dir: Option<&Path>,
    index: usize,
) -> Result<CompiledEndpoint, Errors> {
    let mut errors: Errors = Vec::new();
    let method = match def.method.as_str() {
        "*" => None,
        m => match Method::from_bytes(m.as_bytes()) {
            Ok(m) => Some(m),
            Err(_) => {
                errors.push(("method".into(), format!("`{m}` is not an HTTP method")));
                None
            }
        },
    };
    let m = &def.match_;
    let path = match (&m.path_pattern, def.path.is_empty()) {
        (Some(p), _) => PathMatcher::from_pattern(p)
            .map_err(|e| errors.push(("match.path_pattern".into(), e)))
            .ok(),
        (None, false) => PathMatcher::from_path(&def.path)
            .map_err(|e| errors.push(("path".into(), e)))
            .ok(),
        (None, true) => {
            errors.push(("path".into(), "an endpoint needs a `path`".into()));
            None
        }
    };
    let mut query = Vec::new();
    for (name, spec) in &m.query {
        match StrMatch::compile(spec) {
            Ok(want) => query.push(QueryMatch {
                name: name.clone(),
                want,
            }),
            Err(e) => errors.push((format!("match.query.{name}"), e)),
        }
    }
    let mut headers = Vec::new();
    for (name, spec) in &m.headers {
        let Ok(header) = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()) else {
            errors.push((
                format!("match.headers.{name}"),
                format!("`{name}` is not a valid header name"),
            ));
            continue;
        };
        match StrMatch::compile(spec) {
            Ok(want) => headers.push(HeaderMatch {
                shown: name.clone(),
                name: header,
                want,
            }),
            Err(e) => errors.push((format!("match.headers.{name}"), e)),
        }
    }
    let body_equals = m.body_equals.as_ref().map(|v| match v {
        Value::String(s) => BodyEquals::Text(s.clone()),
        other => BodyEquals::Json(other.clone()),
    });
    let body_pattern = m.body_pattern.as_ref().and_then(|p| {
        compile_bytes_regex(p)
            .map(|r| (r, p.clone()))
            .map_err(|e| errors.push(("match.body_pattern".into(), e)))
            .ok()
    });
    let body_matches: Vec<Expr> = m
        .body_matches
        .iter()
        .enumerate()
        .filter_map(|(i, src)| expression(src, format!("match.body_matches[{i}]"), &mut errors))
        .collect();
    let mut responses = Vec::new();
    for (i, conditional) in def.responses.iter().enumerate() {
        let when = conditional
            .when
            .as_ref()
            .and_then(|w| expression(w, format!("responses[{i}].when"), &mut errors));
        match compile_response(&conditional.response, base_dir) {
            Ok(r) => responses.push((when, r)),
            Err(e) => errors.extend(
                e.into_iter()
                    .map(|(p, m)| (join(&format!("responses[{i}]"), &p), m)),
            ),
        }
    }
    let default = match &def.response {
        Some(r) => match compile_response(r, base_dir) {
            Ok(r) => Some(r),
            Err(e) => {
                errors.extend(e.into_iter().map(|(p, m)| (join("response", &p), m)));
                None
            }
        },
        None if def.responses.is_empty() => compile_response(&ResponseDef::default(), None).ok(),
        None => None,
    };
    let legacy = def.state.as_ref().and_then(|s| {
        let change = match s.update_rule {
            None => None,
            Some(action) => {
                let value = match (&s.update_value, action) {
                    (Some(v), _) => Some(v.clone()),
                    (None, StateAction::Set | StateAction::Append) => Some(Value::Null),
                    (None, _) => None,
                };
                let value = match value.map(|v| ValueTemplate::compile(&v, "state.update_value")) {
                    Some(Ok(v)) => Some(v),
                    Some(Err(e)) => {
                        errors.push(e);
                        return None;
                    }
                    None => None,
                };
                Some(CompiledChange {
                    action,
                    path: vec![s.state_key.clone()],
                    value,
                })
            }
        };
        Some(CompiledLegacy {
            key: s.state_key.clone(),
            initial: s.initial_value.clone().unwrap_or(Value::Null),
            change,
        })
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(path) = path else {
        return Err(vec![("path".into(), "an endpoint needs a `path`".into())]);
    };
    let id = match &def.id {
        Some(id) => Arc::from(id.as_str()),
        None => Arc::from(format!("endpoint-{index}").as_str()),
    };
    Ok(CompiledEndpoint {
        id,
        label: def.label(),
        priority: def.priority,
        method,
        path,
        query,
        headers,
        body_equals,
        body_partial: m.body.clone(),
        body_pattern,
        body_matches,
        responses,
        default,
        legacy,
        hits: AtomicU64::new(0),
    })
}

/// Compiles one answer.
pub(crate) fn compile_response(
    def: &ResponseDef,
    base_dir: Option<&Path>,
) -> Result<CompiledResponse, Errors> {
    let mut errors: Errors = Vec::new();
    let status = StatusCode::from_u16(def.status).unwrap_or_else(|_| {
        errors.push((
            "status".into(),
            format!("{} is not an HTTP status", def.status),
        ));
        StatusCode::OK
    });
    let mut headers = Vec::new();
    let mut has_content_type = false;
    for (name, value) in &def.headers {
        let path = format!("headers.{name}");
        let Ok(header) = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()) else {
            errors.push((path, format!("`{name}` is not a valid header name")));
            continue;
        };
        has_content_type |= header == http::header::CONTENT_TYPE;
        let template = if def.template {
            match Template::parse(value) {
                Ok(t) if !t.is_literal() => Some(t),
                Ok(_) => None,
                Err(e) => {
                    errors.push((path, e));
                    continue;
                }
            }
        } else {
            None
        };
        match template {
            Some(t) => headers.push((header, HeaderTemplate::Template(t))),
            None => match HeaderValue::from_str(value) {
                Ok(v) => headers.push((header, HeaderTemplate::Static(v))),
                Err(_) => errors.push((
                    path,
                    format!(
                        "{} is not a valid header value",
                        Value::from(value.as_str())
                    ),
                )),
            },
        }
    }
    const JSON: &str = "application/json";
    const TEXT: &str = "text/plain; charset=utf-8";
    let (body, content_type) = if let Some(file) = &def.body_from_file {
        let resolved = match base_dir {
            Some(dir) => dir.join(file),
            None => Path::new(file).to_path_buf(),
        };
        let read = std::fs::metadata(&resolved).and_then(|meta| {
            if meta.len() > MAX_BODY_FILE_BYTES {
                Err(std::io::Error::other(format!(
                    "the file is larger than {MAX_BODY_FILE_BYTES} bytes"
                )))
            } else {
                std::fs::read(&resolved)
            }
        });
        match read {
            Ok(bytes) => (
                BodyTemplate::Static(Bytes::from(bytes)),
                content_type_for(&resolved),
            ),
            Err(e) => {
                errors.push((
                    "body_from_file".into(),
                    format!("cannot read `{}`: {e}", resolved.display()),
                ));
                (BodyTemplate::Static(Bytes::new()), None)
            }
        }
    } else if let Some(text) = &def.body_text {
        (
            text_body(text, def.template, "body_text", &mut errors),
            Some(TEXT),
        )
    } else if let Some(Value::String(text)) = &def.body {
        (
            text_body(text, def.template, "body", &mut errors),
            Some(TEXT),
        )
    } else if let Some(value) = &def.body {
        let template = if def.template {
            ValueTemplate::compile(value, "body").unwrap_or_else(|e| {
                errors.push(e);
                ValueTemplate::Literal(Value::Null)
            })
        } else {
            ValueTemplate::Literal(value.clone())
        };
        let body = match template {
            ValueTemplate::Literal(v) => {
                BodyTemplate::Static(Bytes::from(serde_json::to_vec(&v).unwrap_or_default()))
            }
            t => BodyTemplate::Json(t),
        };
        (body, Some(JSON))
    } else {
        (BodyTemplate::Static(Bytes::new()), None)
    };
    let mut changes = Vec::new();
    for (i, change) in def.state_changes.iter().enumerate() {
        let value = match &change.value {
            Some(v) => match ValueTemplate::compile(v, &format!("state_changes[{i}].value")) {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            },
            None => None,
        };
        changes.push(CompiledChange {
            action: change.action,
            path: change.path.split('.').map(str::to_string).collect(),
            value,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CompiledResponse {
        status,
        headers,
        body,
        content_type: if has_content_type {
            None
        } else {
            content_type.map(HeaderValue::from_static)
        },
        delay: def.delay,
        hang: def.hang,
        close: def.close_connection,
        changes,
    })
}

fn text_body(text: &str, template: bool, path: &str, errors: &mut Errors) -> BodyTemplate {
    if !template {
        return BodyTemplate::Static(Bytes::from(text.to_string()));
    }
    match Template::parse(text) {
        Ok(t) if t.is_literal() => BodyTemplate::Static(Bytes::from(text.to_string())),
        Ok(t) => BodyTemplate::Text(t),
        Err(e) => {
            errors.push((path.to_string(), e));
            BodyTemplate::Static(Bytes::new())
        }
    }
}

fn content_type_for(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "json" => "application/json",
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "text" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "csv" => "text/csv",
        "js" => "text/javascript",
        "css" => "text/css",
        "yaml" | "yml" => "application/yaml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    })
}

/// `prefix.path`, or `prefix[i]…` for an index.
pub(crate) fn join(prefix: &str, path: &str) -> String {
    if path.is_empty() {
        prefix.to_string()
    } else if path.starts_with('[') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}.{path}")
    }
}
