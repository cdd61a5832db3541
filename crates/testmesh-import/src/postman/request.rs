//! One Postman request as an `http_request` config: method, URL (string or v2.x URL object, path
//! variables, query), headers, body (raw, urlencoded, formdata, graphql) and auth.

use serde_json::{Map, Value, json};

use super::text::has_vars;
use super::vars::FlowVars;
use super::{RequestItem, description};
use crate::ImportError;
use crate::source::Source;

/// Methods `testmesh validate` accepts without a warning.
const STANDARD_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A request as a step, or why it is skipped.
pub(super) enum Built {
    Step(Step),
    Skip(String),
}

/// The parts of a step taken from a request.
pub(super) struct Step {
    pub config: Map<String, Value>,
    pub description: Option<String>,
    /// What was not translated.
    pub notes: Vec<String>,
}

/// Query parameters for `params` (a repeated key holds a list).
type Params = Vec<(String, Value)>;

/// Query parameters as written (`None`: a key without `=`).
type Query = Vec<(String, Option<String>)>;

/// A form field: key, value and the field itself.
type Field<'v> = (String, Option<String>, &'v Value);

/// Builds the step config of `request`.
pub(super) fn build(
    source: &Source,
    request: &RequestItem<'_>,
    vars: &mut FlowVars<'_>,
) -> Result<Built, ImportError> {
    let pointer = format!("{}/request", request.pointer);
    let raw = request.item.get("request").unwrap_or(&Value::Null);
    let owned;
    let r = match raw {
        Value::String(url) => {
            owned = json!({"url": url});
            &owned
        }
        Value::Object(_) => raw,
        _ => {
            return Err(source.invalid(
                &pointer,
                "`request` must be an object (or, in v2.0, a URL string)",
            ));
        }
    };
    let mut notes = Vec::new();
    let method = match r.get("method") {
        None | Some(Value::Null) => "GET".to_string(),
        Some(Value::String(m)) if !m.trim().is_empty() => m.trim().to_ascii_uppercase(),
        Some(_) => {
            return Err(source.invalid(&format!("{pointer}/method"), "`method` must be a string"));
        }
    };
    if !STANDARD_METHODS.contains(&method.as_str()) {
        notes.push(format!(
            "method `{method}` is not a standard HTTP method; it is sent as written"
        ));
    }
    let url_pointer = format!("{pointer}/url");
    let (url, params) = match r.get("url") {
        None | Some(Value::Null) => return Ok(Built::Skip("the request has no URL".into())),
        Some(Value::String(s)) => (s.trim().to_string(), None),
        Some(Value::Object(_)) => {
            url_object(source, &url_pointer, r.get("url").unwrap_or(&Value::Null))?
        }
        Some(_) => {
            return Err(source.invalid(&url_pointer, "`url` must be a string or a URL object"));
        }
    };
    if url.is_empty() {
        return Ok(Built::Skip("the request has no URL".into()));
    }
    let mut url = vars.convert(&url);
    if !url.starts_with("${") && !url.contains("://") {
        // Postman sends a URL without a scheme over http.
        url = format!("http://{url}");
    }
    let mut config = Map::new();
    config.insert("method".into(), json!(method));
    config.insert("url".into(), json!(url));

    let mut headers = headers(
        source,
        &format!("{pointer}/header"),
        r.get("header"),
        vars,
        &mut notes,
    )?;
    let body = body(
        source,
        &format!("{pointer}/body"),
        r.get("body"),
        &headers,
        vars,
        &mut notes,
    )?;
    if let Some((name, value)) = body.content_type
        && !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"))
    {
        headers.insert(name.to_string(), json!(value));
    }
    let auth = match &request.auth {
        Some((auth, owner)) => {
            let owner = if *owner == request.label {
                String::new()
            } else {
                format!(" (set on {owner})")
            };
            auth_config(auth, vars, &owner, &mut notes, &mut headers)
        }
        None => None,
    };
    if !headers.is_empty() {
        config.insert("headers".into(), Value::Object(headers));
    }
    if let Some(params) = params {
        let mut converted = Map::new();
        for (k, v) in params {
            converted.insert(k, vars.convert_value(&v));
        }
        if !converted.is_empty() {
            config.insert("params".into(), Value::Object(converted));
        }
    }
    if let Some((key, value)) = body.value {
        config.insert(key.into(), value);
    }
    if let Some(auth) = auth {
        match auth {
            Auth::Config(auth) => {
                config.insert("auth".into(), auth);
            }
            Auth::Query(name, value) => {
                let params = config
                    .entry("params")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(params) = params {
                    params.insert(name, value);
                }
            }
        }
    }
    Ok(Built::Step(Step {
        config,
        description: description(Some(r)),
        notes,
    }))
}

/// A v2.x URL object: the URL (query inline when it cannot be a `params` mapping) and the query
/// as `params`, in Postman text (placeholders not yet converted).
fn url_object(
    source: &Source,
    pointer: &str,
    url: &Value,
) -> Result<(String, Option<Params>), ImportError> {
    let text = |key: &str| -> Result<Option<String>, ImportError> {
        match url.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(source.invalid(
                &format!("{pointer}/{key}"),
                format!("`{key}` must be a string"),
            )),
        }
    };
    let parts = |key: &str, separator: &str| -> Result<Option<String>, ImportError> {
        match url.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        Value::Number(n) => out.push(n.to_string()),
                        // v2.0 path segments may be `{type, value}` objects.
                        Value::Object(o) => match o.get("value").and_then(Value::as_str) {
                            Some(s) => out.push(s.to_string()),
                            None => {
                                return Err(source.invalid(
                                    &format!("{pointer}/{key}/{i}"),
                                    "a URL segment object needs a string `value`",
                                ));
                            }
                        },
                        _ => {
                            return Err(source.invalid(
                                &format!("{pointer}/{key}/{i}"),
                                format!("`{key}` entries must be strings"),
                            ));
                        }
                    }
                }
                Ok(Some(out.join(separator)))
            }
            Some(_) => Err(source.invalid(
                &format!("{pointer}/{key}"),
                format!("`{key}` must be a string or a list of strings"),
            )),
        }
    };
    let raw = text("raw")?;
    let host = parts("host", ".")?;
    let path = parts("path", "/")?;
    let variables = path_variables(source, pointer, url)?;
    let query = query(source, pointer, url)?;

    let (mut base, raw_query) = match &host {
        Some(host) if !host.is_empty() => {
            let mut base = String::new();
            let protocol = text("protocol")?.filter(|p| !p.is_empty()).or_else(|| {
                raw.as_deref()
                    .and_then(|r| r.split_once("://"))
                    .map(|(scheme, _)| scheme.to_string())
                    .filter(|s| !s.contains(['/', '{']))
            });
            if let Some(protocol) = protocol {
                base.push_str(protocol.trim_end_matches("://"));
                base.push_str("://");
            }
            base.push_str(host);
            if let Some(port) = text("port")?.filter(|p| !p.is_empty()) {
                base.push(':');
                base.push_str(&port);
            }
            if let Some(path) = path.filter(|p| !p.is_empty()) {
                if !path.starts_with('/') {
                    base.push('/');
                }
                base.push_str(&path);
            }
            // Without a `query` list, the raw URL's query is the one sent.
            let raw_query = raw
                .as_deref()
                .and_then(|r| r.split('#').next())
                .and_then(|r| r.split_once('?'))
                .map(|(_, q)| q.to_string());
            (base, raw_query)
        }
        _ => {
            // No parts: the raw URL, with its own query.
            let raw = raw.unwrap_or_default();
            let raw = raw.split('#').next().unwrap_or_default().to_string();
            match raw.split_once('?') {
                Some((base, q)) => (base.to_string(), Some(q.to_string())),
                None => (raw, None),
            }
        }
    };
    // `:name` path segments take their values from `url.variable`.
    if !variables.is_empty() {
        base = base
            .split('/')
            .map(|segment| match segment.strip_prefix(':') {
                Some(name) => match variables.iter().find(|(k, _)| k == name) {
                    Some((_, Some(value))) => value.clone(),
                    _ => format!("{{{{{name}}}}}"),
                },
                None => segment.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
    } else if base.contains("/:") {
        base = base
            .split('/')
            .map(|segment| match segment.strip_prefix(':') {
                Some(name) if !name.is_empty() && !name.contains(['{', '}']) => {
                    format!("{{{{{name}}}}}")
                }
                _ => segment.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
    }
    let query = match (query, raw_query) {
        (Some(query), _) => query,
        (None, Some(q)) if !q.is_empty() => return Ok((format!("{base}?{q}"), None)),
        _ => return Ok((base, None)),
    };
    if query.is_empty() {
        return Ok((base, None));
    }
    // A `params` mapping reads best, but it re-encodes values and cannot say "key without `=`":
    // such queries stay in the URL as written.
    let plain = query.iter().all(|(k, v)| {
        v.is_some()
            && !k.is_empty()
            && ![k.as_str(), v.as_deref().unwrap_or_default()]
                .iter()
                .any(|s| s.contains(['%', '+', '&', '=', '#']))
    });
    if plain {
        let mut params: Vec<(String, Value)> = Vec::new();
        for (k, v) in query {
            let v = Value::String(v.unwrap_or_default());
            match params.iter_mut().find(|(name, _)| *name == k) {
                Some((_, Value::Array(list))) => list.push(v),
                Some((_, existing)) => *existing = Value::Array(vec![existing.clone(), v]),
                None => params.push((k, v)),
            }
        }
        return Ok((base, Some(params)));
    }
    let q: Vec<String> = query
        .into_iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k,
        })
        .collect();
    Ok((format!("{base}?{}", q.join("&")), None))
}

/// `url.variable`: `(name, value)` pairs (`None`: no value).
fn path_variables(
    source: &Source,
    pointer: &str,
    url: &Value,
) -> Result<Vec<(String, Option<String>)>, ImportError> {
    let list = match url.get("variable") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(source.invalid(&format!("{pointer}/variable"), "`variable` must be a list"));
        }
    };
    let mut out = Vec::new();
    for (i, var) in list.iter().enumerate() {
        let Some(key) = var
            .get("key")
            .or_else(|| var.get("id"))
            .and_then(Value::as_str)
        else {
            return Err(source.invalid(
                &format!("{pointer}/variable/{i}"),
                "a path variable needs a `key`",
            ));
        };
        let value = match var.get("value") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        out.push((key.to_string(), value));
    }
    Ok(out)
}

/// `url.query`: enabled `(key, value)` pairs (`None`: a key without `=`); `None` when absent.
fn query(source: &Source, pointer: &str, url: &Value) -> Result<Option<Query>, ImportError> {
    let list = match url.get("query") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(source.invalid(
                &format!("{pointer}/query"),
                "`query` must be a list of {key, value}",
            ));
        }
    };
    let mut out = Vec::new();
    for (i, param) in list.iter().enumerate() {
        if !param.is_object() {
            return Err(source.invalid(
                &format!("{pointer}/query/{i}"),
                "a query parameter must be an object with `key` and `value`",
            ));
        }
        if param.get("disabled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let key = match param.get("key") {
            Some(Value::String(k)) => k.clone(),
            None | Some(Value::Null) => String::new(),
            Some(other) => other.to_string(),
        };
        let value = match param.get("value") {
            Some(Value::String(v)) => Some(v.clone()),
            None | Some(Value::Null) => None,
            Some(other) => Some(other.to_string()),
        };
        if key.is_empty() && value.is_none() {
            continue;
        }
        out.push((key, value));
    }
    Ok(Some(out))
}

/// The enabled headers (v2.1 list, or v2.0's `Name: value` lines).
fn headers(
    source: &Source,
    pointer: &str,
    header: Option<&Value>,
    vars: &mut FlowVars<'_>,
    notes: &mut Vec<String>,
) -> Result<Map<String, Value>, ImportError> {
    let mut out = Map::new();
    let mut add = |name: &str, value: &str, vars: &mut FlowVars<'_>| {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        if has_vars(name) || name.contains("${") {
            notes.push(format!(
                "header name `{name}` holds a variable; header names are sent as written"
            ));
        }
        out.insert(name.to_string(), Value::String(vars.convert(value)));
    };
    match header {
        None | Some(Value::Null) => {}
        Some(Value::String(lines)) => {
            for line in lines.lines() {
                if let Some((name, value)) = line.split_once(':') {
                    add(name, value.trim(), vars);
                }
            }
        }
        Some(Value::Array(list)) => {
            for (i, h) in list.iter().enumerate() {
                if !h.is_object() {
                    return Err(source.invalid(
                        &format!("{pointer}/{i}"),
                        "a header must be an object with `key` and `value`",
                    ));
                }
                if h.get("disabled").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let Some(name) = h.get("key").and_then(Value::as_str) else {
                    return Err(source.invalid(
                        &format!("{pointer}/{i}/key"),
                        "a header needs a string `key`",
                    ));
                };
                let value = match h.get("value") {
                    Some(Value::String(v)) => v.clone(),
                    None | Some(Value::Null) => String::new(),
                    Some(other) => other.to_string(),
                };
                add(name, &value, vars);
            }
        }
        Some(_) => {
            return Err(source.invalid(pointer, "`header` must be a list of {key, value}"));
        }
    }
    Ok(out)
}

/// A request body as one of `body` / `form` / `multipart`, plus a content type to add.
struct Body {
    value: Option<(&'static str, Value)>,
    content_type: Option<(&'static str, String)>,
}

fn body(
    source: &Source,
    pointer: &str,
    body: Option<&Value>,
    headers: &Map<String, Value>,
    vars: &mut FlowVars<'_>,
    notes: &mut Vec<String>,
) -> Result<Body, ImportError> {
    let none = Body {
        value: None,
        content_type: None,
    };
    let body = match body {
        None | Some(Value::Null) => return Ok(none),
        Some(b @ Value::Object(_)) => b,
        Some(_) => return Err(source.invalid(pointer, "`body` must be an object with a `mode`")),
    };
    if body.get("disabled").and_then(Value::as_bool) == Some(true) {
        return Ok(none);
    }
    let mode = body.get("mode").and_then(Value::as_str).unwrap_or("raw");
    match mode {
        "raw" => {
            let raw = match body.get("raw") {
                None | Some(Value::Null) => return Ok(none),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            if raw.trim().is_empty() {
                return Ok(none);
            }
            let language = body
                .get("options")
                .and_then(|o| o.get("raw"))
                .and_then(|r| r.get("language"))
                .and_then(Value::as_str)
                .unwrap_or("text");
            let header_type = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_ascii_lowercase);
            let json_declared =
                language == "json" || header_type.as_deref().is_some_and(|t| t.contains("json"));
            if (json_declared || looks_like_json(&raw))
                && let Some(value) = json_with_placeholders(&raw, vars)
            {
                return Ok(Body {
                    value: Some(("body", value)),
                    content_type: None,
                });
            }
            let content_type = match language {
                "json" => Some("application/json"),
                "xml" => Some("application/xml"),
                "html" => Some("text/html"),
                "javascript" => Some("application/javascript"),
                _ => None,
            };
            Ok(Body {
                value: Some(("body", Value::String(vars.convert(&raw)))),
                content_type: content_type.map(|t| ("Content-Type", t.to_string())),
            })
        }
        "urlencoded" => {
            let mut form = Map::new();
            for (key, value, _) in fields(
                source,
                &format!("{pointer}/urlencoded"),
                body.get("urlencoded"),
            )? {
                if form.contains_key(&key) {
                    notes.push(format!(
                        "form field `{key}` appears more than once; only the first is sent"
                    ));
                    continue;
                }
                form.insert(key, Value::String(vars.convert(&value.unwrap_or_default())));
            }
            Ok(Body {
                value: (!form.is_empty()).then_some(("form", Value::Object(form))),
                content_type: None,
            })
        }
        "formdata" => {
            let mut multipart = Map::new();
            for (key, value, field) in
                fields(source, &format!("{pointer}/formdata"), body.get("formdata"))?
            {
                if multipart.contains_key(&key) {
                    notes.push(format!(
                        "multipart field `{key}` appears more than once; only the first is sent"
                    ));
                    continue;
                }
                if field.get("type").and_then(Value::as_str) == Some("file") {
                    let src = match field.get("src") {
                        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                        Some(Value::Array(list)) => {
                            list.first().and_then(Value::as_str).map(str::to_string)
                        }
                        _ => None,
                    };
                    let Some(src) = src else {
                        notes.push(format!(
                            "multipart file field `{key}` has no file; it is left out"
                        ));
                        continue;
                    };
                    notes.push(format!("multipart file field `{key}`: `{src}` is read relative to the flow file; put the file there"));
                    let mut file = Map::new();
                    file.insert("file".into(), Value::String(vars.convert(&src)));
                    if let Some(ct) = field
                        .get("contentType")
                        .and_then(Value::as_str)
                        .filter(|c| !c.is_empty())
                    {
                        file.insert("content_type".into(), json!(ct));
                    }
                    multipart.insert(key, Value::Object(file));
                } else {
                    multipart.insert(key, Value::String(vars.convert(&value.unwrap_or_default())));
                }
            }
            Ok(Body {
                value: (!multipart.is_empty()).then_some(("multipart", Value::Object(multipart))),
                content_type: None,
            })
        }
        "graphql" => {
            let graphql = body.get("graphql").unwrap_or(&Value::Null);
            let query = graphql
                .get("query")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut payload = Map::new();
            payload.insert("query".into(), Value::String(vars.convert(query)));
            match graphql.get("variables") {
                Some(Value::String(v)) if !v.trim().is_empty() => {
                    match json_with_placeholders(v, vars) {
                        Some(value) => {
                            payload.insert("variables".into(), value);
                        }
                        None => notes
                            .push("GraphQL variables are not valid JSON; they are left out".into()),
                    }
                }
                Some(v @ Value::Object(_)) => {
                    payload.insert("variables".into(), vars.convert_value(v));
                }
                _ => {}
            }
            Ok(Body {
                value: Some(("body", Value::Object(payload))),
                content_type: None,
            })
        }
        "file" => {
            let src = body
                .get("file")
                .and_then(|f| f.get("src"))
                .and_then(Value::as_str)
                .unwrap_or("");
            notes.push(format!("binary file body `{src}` is not translated (http_request sends text, JSON, form or multipart bodies)"));
            Ok(none)
        }
        other => {
            notes.push(format!("body mode `{other}` is not translated"));
            Ok(none)
        }
    }
}

/// Enabled `{key, value}` entries of a urlencoded/formdata list, with the entry itself.
fn fields<'v>(
    source: &Source,
    pointer: &str,
    list: Option<&'v Value>,
) -> Result<Vec<Field<'v>>, ImportError> {
    let list = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(source.invalid(pointer, "must be a list of {key, value}")),
    };
    let mut out = Vec::new();
    for (i, field) in list.iter().enumerate() {
        if !field.is_object() {
            return Err(source.invalid(
                &format!("{pointer}/{i}"),
                "a field must be an object with `key` and `value`",
            ));
        }
        if field.get("disabled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let Some(key) = field
            .get("key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
        else {
            continue;
        };
        let value = match field.get("value") {
            Some(Value::String(v)) => Some(v.clone()),
            None | Some(Value::Null) => None,
            Some(other) => Some(other.to_string()),
        };
        out.push((key.to_string(), value, field));
    }
    Ok(out)
}

fn looks_like_json(raw: &str) -> bool {
    let t = raw.trim();
    (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'))
}

/// Private-use marker around placeholders standing in for unquoted `{{var}}`s while parsing.
const MARK: char = '\u{E000}';

/// A JSON text with Postman placeholders (also unquoted ones, `{"n": {{count}}}`) as a value:
/// a string that is exactly one placeholder becomes a single reference (which keeps the
/// variable's type), other strings are converted. `None` when the text is not JSON.
fn json_with_placeholders(raw: &str, vars: &mut FlowVars<'_>) -> Option<Value> {
    let mut text = String::new();
    let mut names = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if !in_string
            && rest.starts_with("{{")
            && let Some(end) = rest.find("}}")
        {
            let name = rest.get(2..end).unwrap_or_default();
            if !name.trim().is_empty() && !name.contains(['{', '}', '"']) {
                text.push_str(&format!("\"{MARK}{}{MARK}\"", names.len()));
                names.push(name.trim().to_string());
                rest = rest.get(end + 2..).unwrap_or_default();
                continue;
            }
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        text.push(c);
        rest = rest.get(c.len_utf8()..).unwrap_or_default();
    }
    let value: Value = serde_json::from_str(&text).ok()?;
    Some(restore(&value, &names, vars))
}

fn restore(value: &Value, names: &[String], vars: &mut FlowVars<'_>) -> Value {
    match value {
        Value::String(s) => {
            let marker = s
                .strip_prefix(MARK)
                .and_then(|s| s.strip_suffix(MARK))
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| names.get(i));
            match marker {
                Some(name) => Value::String(vars.typed_reference(name)),
                None => Value::String(vars.convert(s)),
            }
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| restore(v, names, vars)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), restore(v, names, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What a Postman auth becomes.
enum Auth {
    /// An `auth:` mapping of the step.
    Config(Value),
    /// A query parameter (an API key sent in the query).
    Query(String, Value),
}

/// A parameter of a Postman auth: v2.1 lists `{key, value}`, v2.0 has an object.
fn auth_param<'a>(auth: &'a Value, kind: &str, key: &str) -> Option<&'a Value> {
    match auth.get(kind)? {
        Value::Array(list) => list
            .iter()
            .find(|p| p.get("key").and_then(Value::as_str) == Some(key))
            .and_then(|p| p.get("value")),
        Value::Object(map) => map.get(key),
        _ => None,
    }
    .filter(|v| !v.is_null())
}

fn auth_text(auth: &Value, kind: &str, key: &str) -> Option<String> {
    match auth_param(auth, kind, key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The step's auth for a Postman auth object (`owner`: ` (set on …)` when inherited).
fn auth_config(
    auth: &Value,
    vars: &mut FlowVars<'_>,
    owner: &str,
    notes: &mut Vec<String>,
    headers: &mut Map<String, Value>,
) -> Option<Auth> {
    let kind = auth.get("type").and_then(Value::as_str).unwrap_or("");
    let text =
        |key: &str, vars: &mut FlowVars<'_>| auth_text(auth, kind, key).map(|v| vars.convert(&v));
    match kind {
        "basic" => {
            let username = text("username", vars).unwrap_or_default();
            let password = text("password", vars).unwrap_or_default();
            Some(Auth::Config(
                json!({"type": "basic", "username": username, "password": password}),
            ))
        }
        "bearer" => {
            let token = text("token", vars).unwrap_or_default();
            Some(Auth::Config(json!({"type": "bearer", "token": token})))
        }
        "apikey" => {
            let name = auth_text(auth, kind, "key").unwrap_or_else(|| "X-API-Key".into());
            let value = text("value", vars).unwrap_or_default();
            match auth_text(auth, kind, "in").as_deref() {
                Some("query") => Some(Auth::Query(name, json!(value))),
                _ => Some(Auth::Config(
                    json!({"type": "api_key", "name": name, "key": value, "location": "header"}),
                )),
            }
        }
        "oauth2" => {
            let grant = auth_text(auth, kind, "grant_type").unwrap_or_default();
            let token_url = text("accessTokenUrl", vars);
            let client_id = text("clientId", vars);
            if grant == "client_credentials" && token_url.is_some() && client_id.is_some() {
                let mut config = Map::new();
                config.insert("type".into(), json!("oauth2"));
                config.insert("token_url".into(), json!(token_url));
                config.insert("client_id".into(), json!(client_id));
                config.insert(
                    "client_secret".into(),
                    json!(text("clientSecret", vars).unwrap_or_default()),
                );
                if let Some(scope) = text("scope", vars).filter(|s| !s.is_empty()) {
                    config.insert("scope".into(), json!(scope));
                }
                return Some(Auth::Config(Value::Object(config)));
            }
            let Some(token) = text("accessToken", vars).filter(|t| !t.is_empty()) else {
                notes.push(format!(
                    "OAuth 2.0 auth{owner} (grant `{}`) has no access token and is not client credentials; add `auth` by hand",
                    if grant.is_empty() { "authorization_code" } else { grant.as_str() }
                ));
                return None;
            };
            let prefix = auth_text(auth, kind, "headerPrefix").unwrap_or_default();
            if auth_text(auth, kind, "addTokenTo").as_deref() == Some("queryParams") {
                return Some(Auth::Query("access_token".into(), json!(token)));
            }
            if !prefix.is_empty() && prefix != "Bearer" {
                headers.insert("Authorization".into(), json!(format!("{prefix} {token}")));
                return None;
            }
            Some(Auth::Config(json!({"type": "bearer", "token": token})))
        }
        other => {
            notes.push(format!("auth type `{other}`{owner} is not translated (TestMesh has basic, bearer, api_key and OAuth 2.0 client credentials)"));
            None
        }
    }
}
