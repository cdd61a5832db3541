//! The request of a step: path, query, header and cookie parameters, a body valid against its
//! schema, and credentials from the security schemes.

use serde_json::{Map, Value, json};

use super::super::model::{MediaType, Operation, Parameter, ParameterLocation, template_names};
use super::super::sample::{Sampler, primary_type};
use super::super::schema::{Direction, compile};
use super::{Cx, checks};
use crate::output::StepIds;

/// A variable the user sets before running a flow (a credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Var {
    /// Its name (`API_TOKEN`).
    pub(crate) name: String,
    /// The value declared in the flow's `env`.
    pub(crate) default: String,
    /// What it is, for the header comment.
    pub(crate) about: String,
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// Sent as JSON.
    Json(Value),
    /// `application/x-www-form-urlencoded` fields.
    Form(Map<String, Value>),
    /// `multipart/form-data` fields.
    Multipart(Map<String, Value>),
    /// Text sent as written.
    Text(String),
}

/// A body and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    /// The media type key as written in the document.
    pub(crate) media: String,
    /// What is sent (values not yet escaped for interpolation).
    pub(crate) payload: Payload,
    /// The media type's schema.
    pub(crate) schema: Option<Value>,
}

/// One HTTP request of a step. Values are kept as data; [`Request::config`] escapes them.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The method, upper-case.
    pub(crate) method: String,
    /// The path template.
    pub(crate) path: String,
    /// Path parameter values by name, already serialised and percent-encoded (or a `${…}`
    /// reference, which is kept as written).
    pub(crate) path_values: Vec<(String, String)>,
    /// Query parameters.
    pub(crate) params: Map<String, Value>,
    /// Headers.
    pub(crate) headers: Map<String, Value>,
    /// Cookies.
    pub(crate) cookies: Map<String, Value>,
    /// The body.
    pub(crate) body: Option<Body>,
    /// The `auth` mapping.
    pub(crate) auth: Option<Value>,
    /// Query parameters, headers and cookies that carry credentials (`${…}` references).
    pub(crate) credentials: Vec<String>,
    /// Variables the request uses.
    pub(crate) vars: Vec<Var>,
    /// What was not translated.
    pub(crate) notes: Vec<String>,
}

impl Request {
    /// `${BASE_URL}` and the path with its parameters filled in.
    pub(crate) fn url(&self) -> String {
        let mut out = String::from("${BASE_URL}");
        let mut rest = self.path.as_str();
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            out.push_str(&escape(&rest[..open]));
            let name = &rest[open + 1..close];
            match self.path_values.iter().find(|(n, _)| n == name) {
                Some((_, value)) => out.push_str(value),
                None => out.push_str(&escape(&rest[open..=close])),
            }
            rest = &rest[close + 1..];
        }
        out.push_str(&escape(rest));
        out
    }

    /// Sets path parameter `name` to `value` as written (a `${…}` reference, or encoded text).
    pub(crate) fn set_path_value(&mut self, name: &str, value: String) {
        match self.path_values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.path_values.push((name.to_string(), value)),
        }
    }

    /// The `http_request` config.
    pub(crate) fn config(&self) -> Value {
        let mut config = Map::new();
        config.insert("method".into(), json!(self.method));
        config.insert("url".into(), json!(self.url()));
        let keep = |map: &Map<String, Value>, credentials: &[String]| -> Value {
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let value = if credentials.contains(k) {
                            v.clone()
                        } else {
                            escape_value(v)
                        };
                        (k.clone(), value)
                    })
                    .collect(),
            )
        };
        if !self.headers.is_empty() {
            config.insert("headers".into(), keep(&self.headers, &self.credentials));
        }
        if !self.params.is_empty() {
            config.insert("params".into(), keep(&self.params, &self.credentials));
        }
        if !self.cookies.is_empty() {
            config.insert("cookies".into(), keep(&self.cookies, &self.credentials));
        }
        if let Some(body) = &self.body {
            match &body.payload {
                Payload::Json(value) => {
                    let sent = match value {
                        // A string body is sent as written, so a JSON string goes out encoded.
                        Value::String(_) | Value::Null => json!(value.to_string()),
                        other => other.clone(),
                    };
                    config.insert("body".into(), escape_value(&sent));
                }
                Payload::Text(text) => {
                    config.insert("body".into(), json!(escape(text)));
                }
                Payload::Form(fields) => {
                    config.insert("form".into(), escape_value(&Value::Object(fields.clone())));
                }
                Payload::Multipart(fields) => {
                    config.insert(
                        "multipart".into(),
                        escape_value(&Value::Object(fields.clone())),
                    );
                }
            }
        }
        if let Some(auth) = &self.auth {
            config.insert("auth".into(), auth.clone());
        }
        Value::Object(config)
    }

    /// A step sending this request: `id`, `name`, `action`, `config`.
    pub(crate) fn step(&self, name: &str, ids: &mut StepIds) -> Map<String, Value> {
        let mut step = Map::new();
        step.insert("id".into(), json!(ids.next(name)));
        step.insert("name".into(), json!(super::clip(name, 200)));
        step.insert("action".into(), json!("http_request"));
        step.insert("config".into(), self.config());
        step
    }
}

/// The request for `op` with valid values, or why none can be built.
pub(crate) fn build(cx: &Cx<'_>, op: &Operation) -> Result<Request, String> {
    let doc = &cx.api.document;
    let sampler = Sampler::new(doc, Direction::Request);
    let mut req = Request {
        method: op.method.as_str().to_string(),
        path: op.path.clone(),
        path_values: Vec::new(),
        params: Map::new(),
        headers: Map::new(),
        cookies: Map::new(),
        body: None,
        auth: None,
        credentials: Vec::new(),
        vars: Vec::new(),
        notes: Vec::new(),
    };
    for name in template_names(&op.path) {
        let param = op
            .parameters
            .iter()
            .find(|p| p.location == ParameterLocation::Path && p.name == name);
        let text = match param {
            Some(p) => path_text(p, &value_of(&sampler, p)),
            None => "1".to_string(),
        };
        req.path_values.push((name.to_string(), text));
    }
    for p in &op.parameters {
        if p.location == ParameterLocation::Path || !(p.required || has_example(cx, p)) {
            continue;
        }
        let value = value_of(&sampler, p);
        match p.location {
            ParameterLocation::Query => {
                for (name, v) in query_entries(p, &value) {
                    req.params.insert(name, v);
                }
            }
            ParameterLocation::Header => {
                if ["accept", "content-type", "authorization"]
                    .contains(&p.name.to_ascii_lowercase().as_str())
                {
                    continue;
                }
                req.headers.insert(p.name.clone(), header_value(p, &value));
            }
            ParameterLocation::Cookie => {
                req.cookies.insert(p.name.clone(), cookie_value(&value));
            }
            ParameterLocation::Path => {}
        }
    }
    if let Some(body) = &op.request_body
        && !body.content.is_empty()
    {
        match choose_body(cx, &body.content, &mut req.notes) {
            Ok(chosen) => {
                if let Some(content_type) = content_type_header(&chosen) {
                    req.headers
                        .insert("Content-Type".into(), json!(content_type));
                }
                req.body = Some(chosen);
            }
            Err(reason) if body.required => return Err(reason),
            Err(reason) => req
                .notes
                .push(format!("optional request body left out: {reason}")),
        }
    }
    if let Some(response) = checks::expected(op).response
        && response.content.len() > 1
        && let Some(media) = response.preferred_content()
        && !media.name.contains('*')
    {
        req.headers.insert("Accept".into(), json!(media.name));
    }
    security(cx, op, &mut req);
    if has_double_brace(&req) {
        req.notes.push(
            "a value contains `{{`, which flows read as a variable reference; it is sent as `{ {`, edit it by hand"
                .into(),
        );
    }
    Ok(req)
}

/// Whether an optional parameter has an example to send.
fn has_example(cx: &Cx<'_>, p: &Parameter) -> bool {
    if p.example.is_some() {
        return true;
    }
    let Some(schema) = &p.schema else {
        return false;
    };
    let schema = cx.api.document.resolve_schema(schema);
    schema.get("example").is_some()
        || schema
            .get("examples")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty())
}

/// A parameter's value: its example, else one built from its schema.
pub(crate) fn value_of(sampler: &Sampler<'_>, p: &Parameter) -> Value {
    if let Some(example) = &p.example {
        return example.clone();
    }
    match &p.schema {
        Some(schema) => sampler.sample(schema),
        None => json!("1"),
    }
}

/// A value as text: strings as they are, `null` as nothing, anything else as compact JSON.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn join(items: &[Value], separator: &str, each: impl Fn(&str) -> String) -> String {
    items
        .iter()
        .map(|v| each(&text(v)))
        .collect::<Vec<_>>()
        .join(separator)
}

fn pairs(map: &Map<String, Value>, explode: bool, each: impl Fn(&str) -> String) -> String {
    map.iter()
        .map(|(k, v)| {
            if explode {
                format!("{}={}", each(k), each(&text(v)))
            } else {
                format!("{},{}", each(k), each(&text(v)))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A path parameter serialised in its style (`simple`, `label`, `matrix`) and percent-encoded.
pub(crate) fn path_text(p: &Parameter, value: &Value) -> String {
    let enc = |s: &str| encode_segment(s);
    match p.style.as_str() {
        "label" => match value {
            Value::Array(items) => {
                format!(".{}", join(items, if p.explode { "." } else { "," }, enc))
            }
            Value::Object(map) => {
                if p.explode {
                    format!(".{}", pairs(map, true, enc).replace(',', "."))
                } else {
                    format!(".{}", pairs(map, false, enc))
                }
            }
            other => format!(".{}", enc(&text(other))),
        },
        "matrix" => {
            let name = enc(&p.name);
            match value {
                Value::Array(items) if p.explode => items
                    .iter()
                    .map(|v| format!(";{name}={}", enc(&text(v))))
                    .collect(),
                Value::Array(items) => format!(";{name}={}", join(items, ",", enc)),
                Value::Object(map) if p.explode => map
                    .iter()
                    .map(|(k, v)| format!(";{}={}", enc(k), enc(&text(v))))
                    .collect(),
                Value::Object(map) => format!(";{name}={}", pairs(map, false, enc)),
                other => format!(";{name}={}", enc(&text(other))),
            }
        }
        _ => match value {
            Value::Array(items) => join(items, ",", enc),
            Value::Object(map) => pairs(map, p.explode, enc),
            other => enc(&text(other)),
        },
    }
}

/// Query entries of a parameter in its style (`form`, `spaceDelimited`, `pipeDelimited`,
/// `deepObject`). A list value repeats the name.
pub(crate) fn query_entries(p: &Parameter, value: &Value) -> Vec<(String, Value)> {
    let same = |s: &str| s.to_string();
    match value {
        Value::Array(items) => match p.style.as_str() {
            "spaceDelimited" => vec![(p.name.clone(), json!(join(items, " ", same)))],
            "pipeDelimited" => vec![(p.name.clone(), json!(join(items, "|", same)))],
            _ if p.explode => vec![(p.name.clone(), Value::Array(items.clone()))],
            _ => vec![(p.name.clone(), json!(join(items, ",", same)))],
        },
        Value::Object(map) => match p.style.as_str() {
            "deepObject" => map
                .iter()
                .map(|(k, v)| (format!("{}[{k}]", p.name), scalar(v)))
                .collect(),
            _ if p.explode => map.iter().map(|(k, v)| (k.clone(), scalar(v))).collect(),
            _ => vec![(p.name.clone(), json!(pairs(map, false, same)))],
        },
        other => vec![(p.name.clone(), other.clone())],
    }
}

/// A scalar stays itself; lists and mappings become text.
fn scalar(value: &Value) -> Value {
    match value {
        Value::Array(_) | Value::Object(_) => json!(text(value)),
        other => other.clone(),
    }
}

/// A header value in the `simple` style.
fn header_value(p: &Parameter, value: &Value) -> Value {
    let same = |s: &str| s.to_string();
    match value {
        Value::Array(items) => json!(join(items, ",", same)),
        Value::Object(map) => json!(pairs(map, p.explode, same)),
        Value::Null => json!(""),
        other => other.clone(),
    }
}

/// A cookie value in the `form` style.
fn cookie_value(value: &Value) -> Value {
    let same = |s: &str| s.to_string();
    match value {
        Value::Array(items) => json!(join(items, ",", same)),
        Value::Object(map) => json!(pairs(map, false, same)),
        Value::Null => json!(""),
        other => other.clone(),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `$${` for every `${`, so the text is sent as written. Flows have no escape for `{{`, so it
/// becomes `{ {` (the request builder reports values where that happened).
pub(crate) fn escape(text: &str) -> String {
    let mut out = text.replace("${", "$${");
    while out.contains("{{") {
        out = out.replace("{{", "{ {");
    }
    out
}

/// [`escape`] on every string of a value (keys are not interpolated).
pub(crate) fn escape_value(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(escape(s)),
        Value::Array(items) => Value::Array(items.iter().map(escape_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), escape_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether a value of the request (before escaping) holds `{{`.
fn has_double_brace(req: &Request) -> bool {
    fn any(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains("{{"),
            Value::Array(items) => items.iter().any(any),
            Value::Object(map) => map.values().any(any),
            _ => false,
        }
    }
    let body = match req.body.as_ref().map(|b| &b.payload) {
        Some(Payload::Json(v)) => any(v),
        Some(Payload::Form(m) | Payload::Multipart(m)) => m.values().any(any),
        Some(Payload::Text(t)) => t.contains("{{"),
        None => false,
    };
    body || [&req.params, &req.headers, &req.cookies]
        .iter()
        .any(|m| m.values().any(any))
        || req.path_values.iter().any(|(_, v)| v.contains("{{"))
}

/// The lower-case type/subtype of a media type.
pub(crate) fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Json,
    Form,
    Multipart,
    Text,
    Other,
}

fn kind(media: &MediaType) -> Kind {
    let essence = essence(&media.name);
    if media.is_json() {
        Kind::Json
    } else if essence == "application/x-www-form-urlencoded" {
        Kind::Form
    } else if essence == "multipart/form-data" {
        Kind::Multipart
    } else if essence.starts_with("text/") {
        Kind::Text
    } else {
        Kind::Other
    }
}

/// A body for the first media type (JSON first, then forms, then text) a value can be built for.
fn choose_body(
    cx: &Cx<'_>,
    content: &[MediaType],
    notes: &mut Vec<String>,
) -> Result<Body, String> {
    let mut order: Vec<&MediaType> = content.iter().collect();
    order.sort_by_key(|m| {
        (
            kind(m),
            !essence(&m.name).eq("application/json"),
            m.name.contains('*'),
        )
    });
    let mut reasons = Vec::new();
    for media in order {
        match body_for(cx, media, notes) {
            Ok(payload) => {
                return Ok(Body {
                    media: media.name.clone(),
                    payload,
                    schema: media.schema.clone(),
                });
            }
            Err(reason) => reasons.push(reason),
        }
    }
    Err(reasons.join("; "))
}

fn body_for(cx: &Cx<'_>, media: &MediaType, notes: &mut Vec<String>) -> Result<Payload, String> {
    let sampler = Sampler::new(&cx.api.document, Direction::Request);
    match kind(media) {
        Kind::Json => Ok(Payload::Json(
            valid_value(cx, media, &sampler, notes).unwrap_or_else(|| json!({})),
        )),
        Kind::Form | Kind::Multipart => {
            let value = valid_value(cx, media, &sampler, notes).unwrap_or_else(|| json!({}));
            let Value::Object(map) = value else {
                return Err(format!(
                    "the {} body is not an object of fields",
                    essence(&media.name)
                ));
            };
            let fields: Map<String, Value> = map
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let v = match v {
                        // One field per name: a one-item list is its item (what an exploded
                        // list of one sends); longer lists are sent comma-separated.
                        Value::Array(items) if items.len() == 1 => items
                            .into_iter()
                            .next()
                            .map(|i| scalar(&i))
                            .unwrap_or_default(),
                        Value::Array(items) => json!(join(&items, ",", |s| s.to_string())),
                        Value::Object(_) => json!(text(&v)),
                        other => other,
                    };
                    (k, v)
                })
                .collect();
            Ok(if kind(media) == Kind::Form {
                Payload::Form(fields)
            } else {
                Payload::Multipart(fields)
            })
        }
        Kind::Text | Kind::Other => {
            let example = media
                .example
                .clone()
                .or_else(|| media.examples.first().map(|(_, v)| v.clone()));
            if let Some(Value::String(s)) = example {
                return Ok(Payload::Text(s));
            }
            let schema_type = media.schema.as_ref().and_then(|s| {
                cx.api
                    .document
                    .resolve_schema(s)
                    .as_object()
                    .and_then(primary_type)
            });
            match (schema_type.as_deref(), kind(media)) {
                (Some("string"), _) | (None, Kind::Text) => {
                    let value = media
                        .schema
                        .as_ref()
                        .map(|s| sampler.sample(s))
                        .unwrap_or_else(|| json!("text"));
                    Ok(Payload::Text(text(&value)))
                }
                _ => Err(format!(
                    "no example of the {} request body to send, and one cannot be built from its schema",
                    media.name
                )),
            }
        }
    }
}

/// The first of the media type's example, its named examples and a value built from its schema
/// that validates against the schema; the first of them when none does (with a note).
fn valid_value(
    cx: &Cx<'_>,
    media: &MediaType,
    sampler: &Sampler<'_>,
    notes: &mut Vec<String>,
) -> Option<Value> {
    let mut candidates: Vec<Value> = Vec::new();
    candidates.extend(media.example.clone());
    candidates.extend(media.examples.iter().map(|(_, v)| v.clone()));
    let Some(schema) = &media.schema else {
        return candidates.into_iter().next();
    };
    candidates.push(sampler.sample(schema));
    let Ok(validator) = compile(&cx.api.document, schema, Direction::Request) else {
        return candidates.into_iter().next();
    };
    if let Some(valid) = candidates.iter().find(|c| validator.is_valid(c)) {
        return Some(valid.clone());
    }
    let first = candidates.into_iter().next()?;
    let problem = validator
        .iter_errors(&first)
        .next()
        .map(|e| format!("{}: {e}", e.instance_path()))
        .unwrap_or_default();
    notes.push(format!(
        "no value valid against the {} request body schema could be built ({problem}); check the body",
        media.name
    ));
    Some(first)
}

/// The `Content-Type` a step must set itself: any body but plain JSON, forms and multipart (the
/// runner labels those, multipart with its boundary).
fn content_type_header(body: &Body) -> Option<String> {
    let essence = essence(&body.media);
    match &body.payload {
        Payload::Json(_) if essence == "application/json" || body.media.contains('*') => None,
        Payload::Form(_) | Payload::Multipart(_) => None,
        Payload::Text(_) if body.media.contains('*') => Some(if essence.starts_with("text/") {
            "text/plain".into()
        } else {
            "application/octet-stream".into()
        }),
        _ => Some(body.media.clone()),
    }
}

/// Adds the credentials of the operation's first security requirement (else the document's).
fn security(cx: &Cx<'_>, op: &Operation, req: &mut Request) {
    let doc = &cx.api.document;
    let requirements = doc
        .get(&op.pointer)
        .and_then(|o| o.get("security"))
        .or_else(|| doc.root().get("security"))
        .and_then(Value::as_array);
    let Some(first) = requirements
        .and_then(|r| r.first())
        .and_then(Value::as_object)
    else {
        return;
    };
    for scheme_name in first.keys() {
        let scheme = doc
            .root()
            .pointer("/components/securitySchemes")
            .and_then(|s| s.get(scheme_name))
            .and_then(|s| doc.resolve(s, "/components/securitySchemes").ok())
            .map(|(s, _)| s);
        let Some(scheme) = scheme else {
            req.notes.push(format!(
                "security scheme `{scheme_name}` is not defined under components.securitySchemes; no credentials are sent"
            ));
            continue;
        };
        let kind = scheme
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match kind {
            "http" => {
                let http = scheme
                    .get("scheme")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                match http.as_str() {
                    "basic" => {
                        let user = var(req, "API_USERNAME", format!("user name for HTTP basic authentication (scheme `{scheme_name}`)"));
                        let password = var(req, "API_PASSWORD", format!("password for HTTP basic authentication (scheme `{scheme_name}`)"));
                        set_auth(
                            req,
                            json!({"type": "basic", "username": user, "password": password}),
                            scheme_name,
                        );
                    }
                    "bearer" => {
                        let token = var(
                            req,
                            "API_TOKEN",
                            format!("bearer token (scheme `{scheme_name}`)"),
                        );
                        set_bearer(req, token, scheme_name);
                    }
                    other => req.notes.push(format!(
                        "HTTP `{other}` authentication (scheme `{scheme_name}`) is not translated; add the credentials by hand"
                    )),
                }
            }
            "apiKey" => {
                let name = scheme
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("X-API-Key")
                    .to_string();
                let location = scheme.get("in").and_then(Value::as_str).unwrap_or("header");
                let reference = var(
                    req,
                    &api_key_var(scheme_name),
                    format!("API key sent in {location} `{name}` (scheme `{scheme_name}`)"),
                );
                let target = match location {
                    "query" => &mut req.params,
                    "cookie" => &mut req.cookies,
                    _ => &mut req.headers,
                };
                target.insert(name.clone(), json!(reference));
                req.credentials.push(name);
            }
            "oauth2" | "openIdConnect" => {
                let token = var(
                    req,
                    "ACCESS_TOKEN",
                    format!("OAuth 2 access token (scheme `{scheme_name}`)"),
                );
                set_bearer(req, token, scheme_name);
                req.notes.push(format!(
                    "{} (scheme `{scheme_name}`) is sent as a bearer token from ACCESS_TOKEN; obtaining the token is not generated",
                    if kind == "oauth2" { "OAuth 2" } else { "OpenID Connect" }
                ));
            }
            "mutualTLS" => req.notes.push(format!(
                "mutual TLS (scheme `{scheme_name}`) is not translated; set `client_cert` and `client_key` by hand"
            )),
            other => req.notes.push(format!(
                "security scheme `{scheme_name}` of type `{other}` is not translated"
            )),
        }
    }
}

/// Declares variable `name` and returns its reference.
fn var(req: &mut Request, name: &str, about: String) -> String {
    if !req.vars.iter().any(|v| v.name == name) {
        req.vars.push(Var {
            name: name.to_string(),
            default: String::new(),
            about,
        });
    }
    format!("${{{name}}}")
}

fn set_auth(req: &mut Request, auth: Value, scheme_name: &str) {
    if req.auth.is_none() {
        req.auth = Some(auth);
    } else {
        req.notes.push(format!(
            "scheme `{scheme_name}` also needs the Authorization header, which another scheme of the same requirement uses; not sent"
        ));
    }
}

fn set_bearer(req: &mut Request, token: String, scheme_name: &str) {
    if req.auth.is_none() {
        req.auth = Some(json!({"type": "bearer", "token": token}));
    } else if !req
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("authorization"))
    {
        req.headers
            .insert("Authorization".into(), json!(format!("Bearer {token}")));
        req.credentials.push("Authorization".into());
    } else {
        req.notes.push(format!(
            "scheme `{scheme_name}` also needs the Authorization header, which another scheme of the same requirement uses; not sent"
        ));
    }
}

/// The variable of an API key scheme: the scheme's name in upper snake case, with `_API_KEY`
/// unless it already names a key (`ApiKeyAuth` → `API_KEY`, `partnerKey` → `PARTNER_KEY`,
/// `session` → `SESSION_API_KEY`).
pub(crate) fn api_key_var(scheme: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in scheme.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let mut base = out.trim_matches('_').to_string();
    if let Some(stripped) = base.strip_suffix("_AUTH") {
        base = stripped.to_string();
    }
    if base.is_empty() {
        return "API_KEY".into();
    }
    if base.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        base = format!("KEY_{base}");
    }
    if base.split('_').any(|w| w == "KEY" || w == "APIKEY") {
        base
    } else {
        format!("{base}_API_KEY")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_variables_are_named_after_schemes() {
        assert_eq!(api_key_var("ApiKeyAuth"), "API_KEY");
        assert_eq!(api_key_var("api_key"), "API_KEY");
        assert_eq!(api_key_var("partnerKey"), "PARTNER_KEY");
        assert_eq!(api_key_var("session"), "SESSION_API_KEY");
        assert_eq!(api_key_var("x-tenant"), "X_TENANT_API_KEY");
        assert_eq!(api_key_var("!!"), "API_KEY");
    }

    #[test]
    fn segments_are_encoded_and_templates_escaped() {
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(escape("${x} $y"), "$${x} $y");
        assert_eq!(escape("{{{a}}}"), "{ { {a}}}");
        assert_eq!(
            escape_value(&json!({"k${": ["${a}"]})),
            json!({"k${": ["$${a}"]})
        );
    }
}
