//! The operations of a document, with parameters, request bodies and responses resolved through
//! `$ref`s. Schemas are kept as written (their `$ref`s point into the [`Document`]) because they may
//! be recursive.

use std::path::Path;

use http::Method;
use serde_json::{Map, Value};

use super::document::Document;
use crate::error::ImportError;
use crate::source::escape;

/// HTTP methods an OpenAPI path item may hold, in the order the specification lists them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A loaded OpenAPI document and its operations.
#[derive(Debug, Clone)]
pub struct OpenApi {
    /// The document (JSON, source positions, `$ref` resolution).
    pub document: Document,
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub api_version: String,
    /// The path part of `servers[0].url`, server variables replaced by their defaults, without a
    /// trailing slash (`/v1`); empty when there is no server or it has no path.
    pub base_path: String,
    /// Every operation, in document order (paths, then methods in specification order).
    pub operations: Vec<Operation>,
}

/// One operation: a method on a path template.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The HTTP method.
    pub method: Method,
    /// The path template as written in `paths` (`/users/{id}`).
    pub path: String,
    /// `operationId`.
    pub operation_id: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// Path-level and operation-level parameters merged (the operation's win).
    pub parameters: Vec<Parameter>,
    /// `requestBody`.
    pub request_body: Option<RequestBody>,
    /// `responses`, in document order.
    pub responses: Vec<Response>,
    /// JSON pointer of the operation (`/paths/~1users~1{id}/get`).
    pub pointer: String,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParameterLocation {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

impl ParameterLocation {
    /// The `in` value (`path`, `query`, `header`, `cookie`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterLocation::Path => "path",
            ParameterLocation::Query => "query",
            ParameterLocation::Header => "header",
            ParameterLocation::Cookie => "cookie",
        }
    }
}

/// One parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// The name.
    pub name: String,
    /// Where it goes.
    pub location: ParameterLocation,
    /// Whether it must be present (always true for path parameters).
    pub required: bool,
    /// Its schema (from `schema`, or from the first media type of `content`).
    pub schema: Option<Value>,
    /// `style`, defaulted per location (`form` for query and cookie, `simple` for path and header).
    pub style: String,
    /// `explode`, defaulted (`true` for `form`, else `false`).
    pub explode: bool,
    /// `example`, or the first of `examples`.
    pub example: Option<Value>,
    /// JSON pointer of the (resolved) parameter object.
    pub pointer: String,
}

/// A request body.
#[derive(Debug, Clone)]
pub struct RequestBody {
    /// Whether a body must be sent.
    pub required: bool,
    /// The accepted media types, in document order.
    pub content: Vec<MediaType>,
}

/// One media type of a request body or response.
#[derive(Debug, Clone)]
pub struct MediaType {
    /// The media type key as written (`application/json`, `text/*`).
    pub name: String,
    /// Its schema.
    pub schema: Option<Value>,
    /// `example`.
    pub example: Option<Value>,
    /// `examples`, by name, references resolved, only those with a `value`.
    pub examples: Vec<(String, Value)>,
}

impl MediaType {
    /// True for `application/json` and `+json` types (`application/problem+json`).
    pub fn is_json(&self) -> bool {
        is_json_media_type(&self.name)
    }
}

/// True for `application/json`, `*/*+json`, `application/*` JSON variants; parameters ignored.
pub fn is_json_media_type(name: &str) -> bool {
    let essence = name
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// One response of an operation.
#[derive(Debug, Clone)]
pub struct Response {
    /// The key as written: `200`, `2XX` or `default`.
    pub status: String,
    /// `description`.
    pub description: String,
    /// Response headers, by name.
    pub headers: Vec<ResponseHeader>,
    /// Media types.
    pub content: Vec<MediaType>,
}

impl Response {
    /// The numeric status: `200` as 200, `2XX` as 200, `default` as `None`.
    pub fn code(&self) -> Option<u16> {
        if let Ok(code) = self.status.parse::<u16>() {
            return Some(code);
        }
        let mut chars = self.status.chars();
        match (chars.next(), chars.as_str()) {
            (Some(d @ '1'..='5'), "XX" | "xx") => d.to_digit(10).map(|d| d as u16 * 100),
            _ => None,
        }
    }

    /// The media type a mock answers with: `application/json` if offered, else another JSON type,
    /// else the first.
    pub fn preferred_content(&self) -> Option<&MediaType> {
        self.content
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case("application/json"))
            .or_else(|| self.content.iter().find(|m| m.is_json()))
            .or_else(|| self.content.first())
    }
}

/// One response header.
#[derive(Debug, Clone)]
pub struct ResponseHeader {
    /// The name as written.
    pub name: String,
    /// `required`.
    pub required: bool,
    /// Its schema.
    pub schema: Option<Value>,
    /// `example`, or the first of `examples`.
    pub example: Option<Value>,
}

impl OpenApi {
    /// Reads and loads a document file.
    pub fn load(path: &Path) -> Result<OpenApi, ImportError> {
        OpenApi::from_document(Document::load(path)?)
    }

    /// Loads a document from text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<OpenApi, ImportError> {
        OpenApi::from_document(Document::parse(text, file)?)
    }

    /// Builds the operation model of a parsed document.
    pub fn from_document(document: Document) -> Result<OpenApi, ImportError> {
        let root = document.root();
        let info = root.get("info");
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let title = text(info.and_then(|i| i.get("title")));
        let api_version = text(info.and_then(|i| i.get("version")));
        let base_path = base_path(root);
        let mut operations = Vec::new();
        if let Some(paths) = root.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let item_pointer = format!("/paths/{}", escape(path));
                if !path.starts_with('/') {
                    return Err(document
                        .invalid(&item_pointer, format!("path {path:?} must start with `/`")));
                }
                let (item, item_pointer) = document.resolve(item, &item_pointer)?;
                let Some(item_map) = item.as_object() else {
                    return Err(document.invalid(&item_pointer, "a path item must be a mapping"));
                };
                let shared = parameters(&document, item_map, &item_pointer)?;
                for method in METHODS {
                    let Some(op) = item_map.get(method) else {
                        continue;
                    };
                    let pointer = format!("{item_pointer}/{method}");
                    operations.push(operation(&document, path, method, op, &pointer, &shared)?);
                }
            }
        }
        Ok(OpenApi {
            title,
            api_version,
            base_path,
            operations,
            document,
        })
    }

    /// The operation with this `operationId`.
    pub fn operation(&self, operation_id: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.operation_id.as_deref() == Some(operation_id))
    }
}

/// The path of `servers[0].url` with variables replaced by their defaults.
fn base_path(root: &Value) -> String {
    let Some(server) = root
        .get("servers")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
    else {
        return String::new();
    };
    let mut url = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if let Some(vars) = server.get("variables").and_then(Value::as_object) {
        for (name, var) in vars {
            if let Some(default) = var.get("default").and_then(Value::as_str) {
                url = url.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    // `https://host:port/v1`, `//host/v1` or `/v1`: keep only the path.
    let path = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("", |j| &url[i + 3 + j..]),
        None if url.starts_with("//") => url[2..].find('/').map_or("", |j| &url[2 + j..]),
        None => url.as_str(),
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        String::new()
    } else if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

fn operation(
    doc: &Document,
    path: &str,
    method: &str,
    op: &Value,
    pointer: &str,
    shared: &[Parameter],
) -> Result<Operation, ImportError> {
    let Some(map) = op.as_object() else {
        return Err(doc.invalid(pointer, "an operation must be a mapping"));
    };
    let own = parameters(doc, map, pointer)?;
    let mut merged: Vec<Parameter> = shared
        .iter()
        .filter(|s| {
            !own.iter()
                .any(|o| o.name == s.name && o.location == s.location)
        })
        .cloned()
        .collect();
    merged.extend(own);
    for name in template_names(path) {
        if !merged
            .iter()
            .any(|p| p.location == super::ParameterLocation::Path && p.name == name)
        {
            // Prism and most tools accept this; the parameter is then an unconstrained string.
            merged.push(Parameter {
                name: name.to_string(),
                location: ParameterLocation::Path,
                required: true,
                schema: None,
                style: "simple".into(),
                explode: false,
                example: None,
                pointer: pointer.to_string(),
            });
        }
    }
    let request_body = match map.get("requestBody") {
        None => None,
        Some(body) => {
            let (body, body_pointer) = doc.resolve(body, &format!("{pointer}/requestBody"))?;
            Some(RequestBody {
                required: body.get("required").and_then(Value::as_bool) == Some(true),
                content: content(doc, body, &body_pointer)?,
            })
        }
    };
    let mut responses = Vec::new();
    if let Some(all) = map.get("responses").and_then(Value::as_object) {
        for (status, response) in all {
            let at = format!("{pointer}/responses/{}", escape(status));
            let (response, at) = doc.resolve(response, &at)?;
            let mut headers = Vec::new();
            if let Some(hs) = response.get("headers").and_then(Value::as_object) {
                for (name, header) in hs {
                    let (header, hp) =
                        doc.resolve(header, &format!("{at}/headers/{}", escape(name)))?;
                    headers.push(ResponseHeader {
                        name: name.clone(),
                        required: header.get("required").and_then(Value::as_bool) == Some(true),
                        schema: header_schema(header),
                        example: example_of(doc, header, &hp)?,
                    });
                }
            }
            responses.push(Response {
                status: status.clone(),
                description: response
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                headers,
                content: content(doc, response, &at)?,
            });
        }
    }
    let strings = |key: &str| -> Vec<String> {
        map.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Operation {
        method: Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| doc.invalid(pointer, "invalid method"))?,
        path: path.to_string(),
        operation_id: map
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string),
        summary: map
            .get("summary")
            .and_then(Value::as_str)
            .map(str::to_string),
        tags: strings("tags"),
        deprecated: map.get("deprecated").and_then(Value::as_bool) == Some(true),
        parameters: merged,
        request_body,
        responses,
        pointer: pointer.to_string(),
    })
}

/// The `{name}`s of a path template.
pub(crate) fn template_names(path: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        names.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    names
}

fn parameters(
    doc: &Document,
    holder: &Map<String, Value>,
    pointer: &str,
) -> Result<Vec<Parameter>, ImportError> {
    let Some(list) = holder.get("parameters") else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err(doc.invalid(
            &format!("{pointer}/parameters"),
            "`parameters` must be a list",
        ));
    };
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let (p, at) = doc.resolve(p, &format!("{pointer}/parameters/{i}"))?;
        let name = p.get("name").and_then(Value::as_str);
        let location = match p.get("in").and_then(Value::as_str) {
            Some("path") => ParameterLocation::Path,
            Some("query") => ParameterLocation::Query,
            Some("header") => ParameterLocation::Header,
            Some("cookie") => ParameterLocation::Cookie,
            other => {
                return Err(doc.invalid(
                    &at,
                    format!(
                        "parameter `in` must be path, query, header or cookie, got {}",
                        other.map_or("nothing".to_string(), |o| format!("{o:?}"))
                    ),
                ));
            }
        };
        let Some(name) = name else {
            return Err(doc.invalid(&at, "a parameter needs a `name`"));
        };
        let style = p
            .get("style")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| match location {
                ParameterLocation::Query | ParameterLocation::Cookie => "form".into(),
                ParameterLocation::Path | ParameterLocation::Header => "simple".into(),
            });
        let explode = p
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == "form");
        out.push(Parameter {
            name: name.to_string(),
            location,
            required: location == ParameterLocation::Path
                || p.get("required").and_then(Value::as_bool) == Some(true),
            schema: header_schema(p),
            style,
            explode,
            example: example_of(doc, p, &at)?,
            pointer: at,
        });
    }
    Ok(out)
}

/// `schema`, or the schema of the first media type of `content` (parameters and headers allow both).
fn header_schema(holder: &Value) -> Option<Value> {
    holder.get("schema").cloned().or_else(|| {
        holder
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.values().next())
            .and_then(|m| m.get("schema"))
            .cloned()
    })
}

/// `example`, else the value of the first of `examples`.
fn example_of(doc: &Document, holder: &Value, at: &str) -> Result<Option<Value>, ImportError> {
    if let Some(example) = holder.get("example") {
        return Ok(Some(example.clone()));
    }
    Ok(named_examples(doc, holder, at)?
        .into_iter()
        .next()
        .map(|(_, v)| v))
}

fn named_examples(
    doc: &Document,
    holder: &Value,
    at: &str,
) -> Result<Vec<(String, Value)>, ImportError> {
    let mut out = Vec::new();
    if let Some(examples) = holder.get("examples").and_then(Value::as_object) {
        for (name, example) in examples {
            let (example, _) = doc.resolve(example, &format!("{at}/examples/{}", escape(name)))?;
            // `externalValue` examples cannot be served without fetching; they are skipped.
            if let Some(value) = example.get("value") {
                out.push((name.clone(), value.clone()));
            }
        }
    }
    Ok(out)
}

fn content(doc: &Document, holder: &Value, at: &str) -> Result<Vec<MediaType>, ImportError> {
    let mut out = Vec::new();
    if let Some(content) = holder.get("content").and_then(Value::as_object) {
        for (name, media) in content {
            let mp = format!("{at}/content/{}", escape(name));
            out.push(MediaType {
                name: name.clone(),
                schema: media.get("schema").cloned(),
                example: media.get("example").cloned(),
                examples: named_examples(doc, media, &mp)?,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths_come_from_the_first_server() {
        let bp = |v: Value| base_path(&serde_json::json!({ "servers": [v] }));
        assert_eq!(
            bp(serde_json::json!({"url": "https://api.example.com/v1/"})),
            "/v1"
        );
        assert_eq!(
            bp(serde_json::json!({"url": "https://api.example.com"})),
            ""
        );
        assert_eq!(bp(serde_json::json!({"url": "/api"})), "/api");
        assert_eq!(bp(serde_json::json!({"url": "api/v2"})), "/api/v2");
        assert_eq!(
            bp(
                serde_json::json!({"url": "http://{host}/{v}", "variables": {"host": {"default": "h"}, "v": {"default": "v3"}}})
            ),
            "/v3"
        );
        assert_eq!(base_path(&serde_json::json!({})), "");
    }

    #[test]
    fn range_statuses_have_codes() {
        let r = |s: &str| Response {
            status: s.into(),
            description: String::new(),
            headers: vec![],
            content: vec![],
        };
        assert_eq!(r("201").code(), Some(201));
        assert_eq!(r("2XX").code(), Some(200));
        assert_eq!(r("default").code(), None);
    }
}
