//! The request a mock sees, and the per-request view used while matching and rendering.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method};
use serde_json::{Map, Value};

/// One request to a mock, already separated from its host (the path is relative to the mock).
#[derive(Debug, Clone)]
pub struct MockRequest {
    /// The method.
    pub method: Method,
    /// The path relative to the mock (leading `/` kept, `/` when empty), without the query.
    pub path: String,
    /// Query parameters, decoded, in order (a repeated name appears several times).
    pub query: Vec<(String, String)>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (already limited to the mock's `max_body_bytes` by the host).
    pub body: Bytes,
    /// The client's address, when known.
    pub remote: Option<SocketAddr>,
}

impl MockRequest {
    /// A request without query, headers or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if path.is_empty() {
            path.push('/');
        }
        MockRequest {
            method,
            path,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            remote: None,
        }
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Parses a query string (`a=1&b=x%20y`) into decoded pairs.
    pub fn parse_query(query: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// A request being answered: the body parsed at most once, and the path parameters of the endpoint
/// that matched.
pub(crate) struct Incoming<'a> {
    pub req: &'a MockRequest,
    json: OnceLock<Option<Value>>,
    pub params: Vec<(Arc<str>, String)>,
}

impl<'a> Incoming<'a> {
    pub fn new(req: &'a MockRequest) -> Self {
        Incoming {
            req,
            json: OnceLock::new(),
            params: Vec::new(),
        }
    }

    /// The body as JSON, when it parses.
    pub fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| {
                if self.req.body.is_empty() {
                    None
                } else {
                    serde_json::from_slice(&self.req.body).ok()
                }
            })
            .as_ref()
    }

    /// The body as JSON when it parses, else as text (null when empty).
    pub fn body_value(&self) -> Value {
        match self.json() {
            Some(v) => v.clone(),
            None if self.req.body.is_empty() => Value::Null,
            None => Value::String(self.req.body_text().into_owned()),
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &HeaderName) -> Option<&str> {
        self.req.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The expression environment for `when` and `body_matches`.
    pub fn env(&self, state: &Map<String, Value>) -> Map<String, Value> {
        let path: Map<String, Value> = self
            .params
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
            .collect();
        let query = query_map(&self.req.query);
        let headers = header_map(&self.req.headers);
        let body = self.body_value();
        let ip = self
            .req
            .remote
            .map(|a| Value::String(a.ip().to_string()))
            .unwrap_or(Value::Null);
        let mut request = Map::new();
        request.insert("method".into(), Value::String(self.req.method.to_string()));
        request.insert("path".into(), Value::String(self.req.path.clone()));
        request.insert("query".into(), Value::Object(query.clone()));
        request.insert("headers".into(), Value::Object(headers.clone()));
        request.insert("body".into(), body.clone());
        request.insert("ip".into(), ip);
        request.insert("params".into(), Value::Object(path.clone()));
        let mut env = Map::new();
        env.insert("request".into(), Value::Object(request));
        env.insert("path".into(), Value::Object(path));
        env.insert("query".into(), Value::Object(query));
        env.insert("headers".into(), Value::Object(headers));
        env.insert("body".into(), body);
        env.insert("state".into(), Value::Object(state.clone()));
        env
    }
}

/// Query parameters as an object: a string, or a list when repeated.
pub(crate) fn query_map(query: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in query {
        match out.get_mut(k) {
            None => {
                out.insert(k.clone(), Value::String(v.clone()));
            }
            Some(Value::Array(items)) => items.push(Value::String(v.clone())),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(v.clone())]);
            }
        }
    }
    out
}

/// Headers as an object with lower-case names: a string, or a list when repeated.
pub(crate) fn header_map(headers: &HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for name in headers.keys() {
        let values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let value = if values.len() == 1 {
            values.into_iter().next().unwrap_or(Value::Null)
        } else {
            Value::Array(values)
        };
        out.insert(name.as_str().to_string(), value);
    }
    out
}
