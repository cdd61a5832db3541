//! Checking requests against an OpenAPI document, the way Prism does in front of its mocks.
//!
//! Answers, in this order: 404 when no path template matches, 405 when the path exists but not the
//! method (the message lists the allowed ones), 400 for missing or invalid path, query, header and
//! cookie parameters (strings are coerced to the parameter's type first: integer, number, boolean,
//! arrays in `form`/`simple`/`spaceDelimited`/`pipeDelimited` styles, `deepObject` objects), 415 for a
//! content type the operation does not accept, 400 for a body that is not valid JSON, and 422 for a
//! body that does not match its schema. Every message starts with where the problem is
//! (`query.limit: expected integer, got "abc"`, `body/name: "name" is a required property`); when
//! several classes of problem are found, all messages are returned under the status of the first
//! class. Schemas are compiled once, in [`Validator::new`].

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, Method};
use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Value};

use super::document::{Document, percent_decode};
use super::mock::{MockOptions, literal_segments};
use super::model::{OpenApi, ParameterLocation, is_json_media_type};
use super::schema::{Direction, compile};

/// A request to check: what the mock engine's `MockRequest` holds, minus the peer address.
#[derive(Debug, Clone)]
pub struct ValidationRequest {
    /// The method.
    pub method: Method,
    /// The path as received (percent-encoded), without the query string.
    pub path: String,
    /// The query pairs, decoded, in order (repeated names repeat).
    pub query: Vec<(String, String)>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// Why a request was refused: the status to answer and one message per problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {}", errors.join("; "))]
pub struct Rejection {
    /// 400, 404, 405, 415 or 422.
    pub status: u16,
    /// What is wrong, each message starting with the location (`query.limit: …`).
    pub errors: Vec<String>,
}

/// Why a [`Validator`] could not be built: a schema that `jsonschema` refuses.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{location}: invalid schema: {message}")]
pub struct SchemaError {
    /// Where the schema is.
    pub location: crate::source::Location,
    /// What `jsonschema` said.
    pub message: String,
}

/// Decoded path parameters, by name, in template order.
pub type PathParams = Vec<(String, String)>;

/// Most messages one rejection carries.
const MAX_ERRORS: usize = 20;

/// Checks requests against the operations of one document. Build once, use for every request.
pub struct Validator {
    base: String,
    routes: Vec<Route>,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("base", &self.base)
            .field("routes", &self.routes.len())
            .finish()
    }
}

struct Route {
    template: String,
    pattern: regex::Regex,
    /// Parameter names in capture order.
    names: Vec<String>,
    literal: usize,
    operations: Vec<OperationCheck>,
}

struct OperationCheck {
    method: Method,
    /// Index into [`OpenApi::operations`].
    index: usize,
    params: Vec<ParamCheck>,
    body: Option<BodyCheck>,
}

struct ParamCheck {
    name: String,
    location: ParameterLocation,
    required: bool,
    style: String,
    explode: bool,
    shape: Shape,
    validator: Option<jsonschema::Validator>,
}

struct BodyCheck {
    required: bool,
    media: Vec<MediaCheck>,
}

struct MediaCheck {
    /// Lower-case media type key (`application/json`, `text/*`).
    name: String,
    kind: MediaKind,
    shape: Shape,
    validator: Option<jsonschema::Validator>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum MediaKind {
    Json,
    Form,
    Other,
}

/// What a string from the wire is coerced to before schema validation.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Any,
    String,
    Integer,
    Number,
    Boolean,
    Null,
    Array(Box<Shape>),
    Object(Vec<(String, Shape)>),
    /// A type list (`[integer, "null"]`) or `oneOf`/`anyOf` alternatives: the first that accepts the
    /// text wins.
    Union(Vec<Shape>),
}

impl Validator {
    /// Compiles the checks for every operation of `api`, with paths under the base path that
    /// `options` gives (the same as [`mock_definition`](super::mock_definition)'s).
    pub fn new(api: &OpenApi, options: &MockOptions) -> Result<Validator, SchemaError> {
        let doc = &api.document;
        let compile_at = |schema: &Value, pointer: &str, direction| {
            compile(doc, schema, direction).map_err(|message| SchemaError {
                location: doc.locate(pointer),
                message,
            })
        };
        let mut routes: Vec<Route> = Vec::new();
        for (index, op) in api.operations.iter().enumerate() {
            let mut params = Vec::new();
            for p in &op.parameters {
                let validator = match &p.schema {
                    Some(s) => Some(compile_at(s, &p.pointer, Direction::Request)?),
                    None => None,
                };
                params.push(ParamCheck {
                    name: p.name.clone(),
                    location: p.location,
                    required: p.required,
                    style: p.style.clone(),
                    explode: p.explode,
                    shape: p.schema.as_ref().map_or(Shape::Any, |s| shape(doc, s, 0)),
                    validator,
                });
            }
            let body = match &op.request_body {
                None => None,
                Some(body) => {
                    let mut media = Vec::new();
                    for m in &body.content {
                        let name = essence(&m.name);
                        let kind = if is_json_media_type(&name) {
                            MediaKind::Json
                        } else if name == "application/x-www-form-urlencoded" {
                            MediaKind::Form
                        } else {
                            MediaKind::Other
                        };
                        let validator = match (&m.schema, kind) {
                            (Some(s), MediaKind::Json | MediaKind::Form) => Some(compile_at(
                                s,
                                &format!("{}/requestBody", op.pointer),
                                Direction::Request,
                            )?),
                            _ => None,
                        };
                        media.push(MediaCheck {
                            name,
                            kind,
                            shape: m.schema.as_ref().map_or(Shape::Any, |s| shape(doc, s, 0)),
                            validator,
                        });
                    }
                    Some(BodyCheck {
                        required: body.required,
                        media,
                    })
                }
            };
            let check = OperationCheck {
                method: op.method.clone(),
                index,
                params,
                body,
            };
            match routes.iter_mut().find(|r| r.template == op.path) {
                Some(route) => route.operations.push(check),
                None => {
                    let (pattern, names) =
                        route_pattern(&op.path).map_err(|message| SchemaError {
                            location: doc.locate(&op.pointer),
                            message,
                        })?;
                    routes.push(Route {
                        template: op.path.clone(),
                        pattern,
                        names,
                        literal: literal_segments(&op.path),
                        operations: vec![check],
                    });
                }
            }
        }
        // Concrete paths before templated ones, as OpenAPI requires; stable for ties.
        routes.sort_by_key(|r| std::cmp::Reverse(r.literal));
        Ok(Validator {
            base: options.base_path_for(api),
            routes,
        })
    }

    /// Finds the operation a request is for: its index in [`OpenApi::operations`] and the decoded
    /// path parameters. 404 or 405 when there is none.
    pub fn route(&self, method: &Method, path: &str) -> Result<(usize, PathParams), Rejection> {
        let (op, params) = self.find(method, path)?;
        Ok((op.index, params))
    }

    fn find(
        &self,
        method: &Method,
        path: &str,
    ) -> Result<(&OperationCheck, PathParams), Rejection> {
        let not_found = || Rejection {
            status: 404,
            errors: vec![format!(
                "path: no operation of the OpenAPI document matches {path}"
            )],
        };
        let relative = if self.base.is_empty() {
            path
        } else {
            match path.strip_prefix(self.base.as_str()) {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
                _ => return Err(not_found()),
            }
        };
        let relative = if relative.is_empty() { "/" } else { relative };
        let mut allowed: Vec<&str> = Vec::new();
        for route in &self.routes {
            let Some(captures) = route.pattern.captures(relative) else {
                continue;
            };
            match route.operations.iter().find(|o| o.method == *method) {
                Some(op) => {
                    let params = route
                        .names
                        .iter()
                        .zip(captures.iter().skip(1))
                        .map(|(name, m)| {
                            (name.clone(), percent_decode(m.map_or("", |m| m.as_str())))
                        })
                        .collect();
                    return Ok((op, params));
                }
                None => {
                    for op in &route.operations {
                        if !allowed.contains(&op.method.as_str()) {
                            allowed.push(op.method.as_str());
                        }
                    }
                }
            }
        }
        if allowed.is_empty() {
            return Err(not_found());
        }
        Err(Rejection {
            status: 405,
            errors: vec![format!(
                "method: {method} is not allowed for {path}; allowed: {}",
                allowed.join(", ")
            )],
        })
    }

    /// Checks a request; `Ok(())` when it conforms to its operation.
    pub fn validate(&self, request: &ValidationRequest) -> Result<(), Rejection> {
        let (op, path_params) = self.find(&request.method, &request.path)?;
        // (rank, message): the status of the lowest rank present is answered.
        let mut found: Vec<(u8, String)> = Vec::new();
        for param in &op.params {
            check_param(param, request, &path_params, &mut found);
        }
        if let Some(body) = &op.body {
            check_body(body, request, &mut found);
        }
        let Some(rank) = found.iter().map(|(r, _)| *r).min() else {
            return Ok(());
        };
        let status = match rank {
            RANK_PARAM | RANK_SYNTAX => 400,
            RANK_MEDIA => 415,
            _ => 422,
        };
        Err(Rejection {
            status,
            errors: found.into_iter().map(|(_, m)| m).take(MAX_ERRORS).collect(),
        })
    }
}

const RANK_PARAM: u8 = 0;
const RANK_MEDIA: u8 = 1;
const RANK_SYNTAX: u8 = 2;
const RANK_BODY: u8 = 3;

/// `^/users/([^/]+)$` for `/users/{id}`, with the parameter names in order.
fn route_pattern(template: &str) -> Result<(regex::Regex, Vec<String>), String> {
    let mut pattern = String::from("^");
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        pattern.push_str(&regex::escape(&rest[..open]));
        pattern.push_str("([^/]+)");
        names.push(rest[open + 1..open + close].to_string());
        rest = &rest[open + close + 1..];
    }
    pattern.push_str(&regex::escape(rest));
    pattern.push('$');
    regex::Regex::new(&pattern)
        .map(|re| (re, names))
        .map_err(|e| format!("cannot match path template {template:?}: {e}"))
}

/// The lower-case type/subtype of a media type, parameters dropped.
fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn check_param(
    param: &ParamCheck,
    request: &ValidationRequest,
    path_params: &[(String, String)],
    found: &mut Vec<(u8, String)>,
) {
    let loc = format!("{}.{}", param.location.as_str(), param.name);
    let raw: Vec<String> = match param.location {
        ParameterLocation::Path => path_params
            .iter()
            .filter(|(n, _)| *n == param.name)
            .map(|(_, v)| v.clone())
            .collect(),
        ParameterLocation::Query => {
            if let (Shape::Object(_), "deepObject") = (&param.shape, param.style.as_str()) {
                return check_deep_object(param, &loc, &request.query, found);
            }
            request
                .query
                .iter()
                .filter(|(n, _)| *n == param.name)
                .map(|(_, v)| v.clone())
                .collect()
        }
        ParameterLocation::Header => {
            // OpenAPI: header parameters named Accept, Content-Type or Authorization are ignored.
            if ["accept", "content-type", "authorization"]
                .contains(&param.name.to_ascii_lowercase().as_str())
            {
                return;
            }
            let mut values = Vec::new();
            for value in request.headers.get_all(param.name.as_str()) {
                match value.to_str() {
                    Ok(v) => values.push(v.trim().to_string()),
                    Err(_) => {
                        found.push((RANK_PARAM, format!("{loc}: the value is not visible ASCII")));
                        return;
                    }
                }
            }
            if values.is_empty() {
                values
            } else {
                vec![values.join(",")]
            }
        }
        ParameterLocation::Cookie => cookies(&request.headers)
            .into_iter()
            .filter(|(n, _)| *n == param.name)
            .map(|(_, v)| v)
            .collect(),
    };
    if raw.is_empty() {
        if param.required {
            found.push((RANK_PARAM, format!("{loc}: required parameter is missing")));
        }
        return;
    }
    let value = match coerce_param(param, &raw) {
        Ok(v) => v,
        Err(message) => {
            found.push((RANK_PARAM, format!("{loc}: {message}")));
            return;
        }
    };
    if let Some(validator) = &param.validator {
        schema_errors(validator, &value, &loc, RANK_PARAM, found);
    }
}

fn check_deep_object(
    param: &ParamCheck,
    loc: &str,
    query: &[(String, String)],
    found: &mut Vec<(u8, String)>,
) {
    let prefix = format!("{}[", param.name);
    let mut object = Map::new();
    let Shape::Object(props) = &param.shape else {
        return;
    };
    for (key, value) in query {
        let Some(field) = key.strip_prefix(&prefix).and_then(|k| k.strip_suffix(']')) else {
            continue;
        };
        let field_shape = props
            .iter()
            .find(|(n, _)| n == field)
            .map_or(&Shape::Any, |(_, s)| s);
        match coerce(field_shape, value) {
            Ok(v) => {
                object.insert(field.to_string(), v);
            }
            Err(message) => found.push((RANK_PARAM, format!("{loc}[{field}]: {message}"))),
        }
    }
    if object.is_empty() {
        if param.required {
            found.push((RANK_PARAM, format!("{loc}: required parameter is missing")));
        }
        return;
    }
    if let Some(validator) = &param.validator {
        schema_errors(validator, &Value::Object(object), loc, RANK_PARAM, found);
    }
}

/// The `name=value` pairs of the `Cookie` headers.
fn cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            Some((n.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// The raw strings of a parameter as a JSON value of its shape.
fn coerce_param(param: &ParamCheck, raw: &[String]) -> Result<Value, String> {
    let shape = match &param.shape {
        Shape::Union(alternatives) => alternatives
            .iter()
            .find(|s| matches!(s, Shape::Array(_)))
            .unwrap_or(&param.shape),
        other => other,
    };
    match shape {
        Shape::Array(item) => {
            let separator = match param.style.as_str() {
                "spaceDelimited" => Some(' '),
                "pipeDelimited" => Some('|'),
                "form" if param.explode => None,
                _ => Some(','),
            };
            let parts: Vec<&str> = match separator {
                None => raw.iter().map(String::as_str).collect(),
                Some(sep) => raw
                    .iter()
                    .flat_map(|r| r.split(sep))
                    .filter(|s| !s.is_empty())
                    .collect(),
            };
            let mut items = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                items.push(coerce(item, part).map_err(|m| format!("item {i}: {m}"))?);
            }
            Ok(Value::Array(items))
        }
        Shape::Object(props) if param.style != "deepObject" => {
            // `simple`/`form` without explode: `k,v,k,v`; exploded form arrives as separate
            // query names, which only deepObject describes unambiguously, so it is read as `k=v,…`.
            let text = raw.join(",");
            let mut object = Map::new();
            let tokens: Vec<&str> = text.split(',').collect();
            let pairs: Vec<(String, String)> = if param.explode {
                tokens
                    .iter()
                    .filter_map(|t| t.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            } else {
                tokens
                    .chunks(2)
                    .filter_map(|c| Some((c.first()?.to_string(), c.get(1)?.to_string())))
                    .collect()
            };
            for (k, v) in pairs {
                let s = props
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map_or(&Shape::Any, |(_, s)| s);
                object.insert(k.clone(), coerce(s, &v).map_err(|m| format!("{k}: {m}"))?);
            }
            Ok(Value::Object(object))
        }
        _ => {
            if raw.len() > 1 && param.location == ParameterLocation::Query {
                return Err(format!("expected one value, got {}", raw.len()));
            }
            coerce(shape, raw.first().map_or("", String::as_str))
        }
    }
}

/// One string as a JSON value of `shape`, or a message saying what was expected.
fn coerce(shape: &Shape, text: &str) -> Result<Value, String> {
    let got = || format!("got {text:?}");
    match shape {
        Shape::Any | Shape::String | Shape::Object(_) => Ok(Value::String(text.to_string())),
        Shape::Integer => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<u64>().map(Value::from))
            .map_err(|_| format!("expected integer, {}", got())),
        Shape::Number => {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::from(i));
            }
            text.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("expected number, {}", got()))
        }
        Shape::Boolean => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected boolean, {}", got())),
        },
        Shape::Null => match text {
            "" | "null" => Ok(Value::Null),
            _ => Err(format!("expected null, {}", got())),
        },
        Shape::Array(item) => {
            let items: Result<Vec<Value>, String> = text
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|part| coerce(item, part))
                .collect();
            items.map(Value::Array)
        }
        Shape::Union(alternatives) => {
            // A string alternative accepts anything, so it is tried last.
            let mut names = Vec::new();
            for alt in alternatives
                .iter()
                .filter(|a| !matches!(a, Shape::String | Shape::Any))
            {
                match coerce(alt, text) {
                    Ok(v) => return Ok(v),
                    Err(_) => names.push(alt.name()),
                }
            }
            if alternatives
                .iter()
                .any(|a| matches!(a, Shape::String | Shape::Any))
            {
                return Ok(Value::String(text.to_string()));
            }
            Err(format!("expected {}, {}", names.join(" or "), got()))
        }
    }
}

impl Shape {
    fn name(&self) -> &'static str {
        match self {
            Shape::Any => "any value",
            Shape::String => "string",
            Shape::Integer => "integer",
            Shape::Number => "number",
            Shape::Boolean => "boolean",
            Shape::Null => "null",
            Shape::Array(_) => "array",
            Shape::Object(_) => "object",
            Shape::Union(_) => "one of several types",
        }
    }
}

/// The coercion shape of a schema (references, `allOf`, `oneOf`/`anyOf` and type lists followed).
fn shape(doc: &Document, schema: &Value, depth: usize) -> Shape {
    if depth > 8 {
        return Shape::Any;
    }
    let schema = doc.resolve_schema(schema);
    let Some(map) = schema.as_object() else {
        return Shape::Any;
    };
    let by_name = |t: &str| match t {
        "string" => Shape::String,
        "integer" => Shape::Integer,
        "number" => Shape::Number,
        "boolean" => Shape::Boolean,
        "null" => Shape::Null,
        "array" => Shape::Array(Box::new(
            map.get("items")
                .map_or(Shape::Any, |i| shape(doc, i, depth + 1)),
        )),
        "object" => Shape::Object(
            map.get("properties")
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), shape(doc, v, depth + 1)))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => Shape::Any,
    };
    let mut base = match map.get("type") {
        Some(Value::String(t)) => by_name(t),
        Some(Value::Array(types)) => Shape::Union(
            types
                .iter()
                .filter_map(Value::as_str)
                .map(by_name)
                .collect(),
        ),
        _ => Shape::Any,
    };
    if base == Shape::Any
        && let Some(all) = map.get("allOf").and_then(Value::as_array)
    {
        base = all
            .iter()
            .map(|s| shape(doc, s, depth + 1))
            .find(|s| *s != Shape::Any)
            .unwrap_or(Shape::Any);
    }
    if base == Shape::Any {
        for key in ["oneOf", "anyOf"] {
            if let Some(alternatives) = map.get(key).and_then(Value::as_array) {
                base = Shape::Union(
                    alternatives
                        .iter()
                        .map(|s| shape(doc, s, depth + 1))
                        .collect(),
                );
            }
        }
    }
    if map.get("nullable") == Some(&Value::Bool(true)) && base != Shape::Any {
        base = Shape::Union(vec![base, Shape::Null]);
    }
    base
}

fn check_body(body: &BodyCheck, request: &ValidationRequest, found: &mut Vec<(u8, String)>) {
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(essence);
    if request.body.is_empty() {
        if body.required {
            found.push((RANK_BODY, "body: a request body is required".into()));
        }
        return;
    }
    if body.media.is_empty() {
        return;
    }
    let accepted = || {
        body.media
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(content_type) = content_type else {
        found.push((
            RANK_MEDIA,
            format!(
                "header.content-type: missing; the body must be one of: {}",
                accepted()
            ),
        ));
        return;
    };
    let media = body
        .media
        .iter()
        .find(|m| m.name == content_type)
        .or_else(|| {
            body.media.iter().find(|m| {
                m.name == "*/*"
                    || m.name
                        .strip_suffix("/*")
                        .is_some_and(|t| content_type.split('/').next() == Some(t))
            })
        });
    let Some(media) = media else {
        found.push((
            RANK_MEDIA,
            format!(
                "header.content-type: {content_type} is not supported; expected one of: {}",
                accepted()
            ),
        ));
        return;
    };
    let value = match media.kind {
        MediaKind::Other => return,
        MediaKind::Json => match serde_json::from_slice::<Value>(&request.body) {
            Ok(v) => v,
            Err(e) => {
                found.push((RANK_SYNTAX, format!("body: invalid JSON: {e}")));
                return;
            }
        },
        MediaKind::Form => {
            let props = match &media.shape {
                Shape::Object(props) => props.as_slice(),
                _ => &[],
            };
            let mut object = Map::new();
            for (key, value) in url::form_urlencoded::parse(&request.body) {
                let s = props
                    .iter()
                    .find(|(n, _)| *n == key)
                    .map_or(&Shape::Any, |(_, s)| s);
                let coerced = match s {
                    Shape::Array(item) => coerce(item, &value).map(|v| {
                        let mut items = match object.remove(key.as_ref()) {
                            Some(Value::Array(items)) => items,
                            _ => Vec::new(),
                        };
                        items.push(v);
                        Value::Array(items)
                    }),
                    other => coerce(other, &value),
                };
                match coerced {
                    Ok(v) => {
                        object.insert(key.into_owned(), v);
                    }
                    Err(m) => found.push((RANK_BODY, format!("body/{key}: {m}"))),
                }
            }
            Value::Object(object)
        }
    };
    if let Some(validator) = &media.validator {
        schema_errors(validator, &value, "body", RANK_BODY, found);
    }
}

/// Adds one message per schema violation, located at `prefix` + the instance path.
fn schema_errors(
    validator: &jsonschema::Validator,
    value: &Value,
    prefix: &str,
    rank: u8,
    found: &mut Vec<(u8, String)>,
) {
    for error in validator.iter_errors(value).take(MAX_ERRORS) {
        let mut path = error.instance_path().to_string();
        // A missing property is reported at its object; name the property itself, which is where a
        // user looks for it.
        if let ValidationErrorKind::Required { property } = error.kind()
            && let Some(name) = property.as_str()
        {
            path.push('/');
            path.push_str(&crate::source::escape(name));
        }
        found.push((rank, format!("{prefix}{path}: {error}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_patterns_match_templates() {
        let (re, names) = match route_pattern("/files/{name}.{ext}") {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let caps = re.captures("/files/report.pdf");
        assert!(caps.is_some());
        assert_eq!(names, ["name", "ext"]);
        assert!(!re.is_match("/files/a/b.pdf"));
    }

    #[test]
    fn coercion() {
        assert_eq!(coerce(&Shape::Integer, "12"), Ok(Value::from(12)));
        assert_eq!(
            coerce(&Shape::Integer, "abc"),
            Err("expected integer, got \"abc\"".into())
        );
        assert_eq!(coerce(&Shape::Number, "1.5"), Ok(Value::from(1.5)));
        assert_eq!(coerce(&Shape::Boolean, "true"), Ok(Value::Bool(true)));
        assert!(coerce(&Shape::Boolean, "yes").is_err());
        let int_or_null = Shape::Union(vec![Shape::Integer, Shape::Null]);
        assert_eq!(coerce(&int_or_null, "null"), Ok(Value::Null));
        assert_eq!(
            coerce(&int_or_null, "x"),
            Err("expected integer or null, got \"x\"".into())
        );
    }
}
