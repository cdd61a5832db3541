//! Response templates: `{{path.id}}`, `{{request.body.name}}`, `{{state.counter}}`, `{{random.uuid}}`, …
//!
//! A template is parsed once, when the mock is loaded, into literal text and variables; rendering a
//! response walks those segments without parsing anything. An unknown variable or a malformed
//! `{{ … }}` is a load error. A value missing at request time renders as the empty string (as `null`
//! when a JSON string is exactly one template, which keeps the value's type).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use http::HeaderName;
use rand::RngExt;
use serde_json::{Map, Value};
use testmesh_flow::diagnostic::did_you_mean;

use crate::request::Incoming;

/// A parsed template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Var(Var),
}

/// One step into a JSON value.
#[derive(Debug, Clone)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone)]
enum Var {
    Path(Arc<str>),
    Query(String),
    Header(HeaderName),
    Body(Vec<Seg>),
    Method,
    RequestPath,
    Ip,
    State(Vec<Seg>),
    Uuid,
    RandomInt(i64, i64),
    RandomString(usize),
    Timestamp,
    TimestampUnix,
    RequestCount,
}

/// What a template sees while rendering.
pub(crate) struct RenderCx<'a> {
    pub incoming: &'a Incoming<'a>,
    pub state: &'a Map<String, Value>,
    pub request_count: u64,
}

const ROOTS: &[&str] = &[
    "path",
    "query",
    "headers",
    "header",
    "request",
    "body",
    "state",
    "random",
    "timestamp",
    "timestamp_unix",
    "request_count",
];

/// Longest string `random.string(n)` produces.
const MAX_RANDOM_STRING: usize = 4096;

impl Template {
    /// Parses `source`. Errors name the offending `{{ … }}`.
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(format!(
                    "unclosed `{{{{` in template {}",
                    Value::from(source)
                ));
            };
            let inner = after[..close].trim();
            parts.push(Part::Var(parse_var(inner)?));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// True when the template has no variables.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    fn single(&self) -> Option<&Var> {
        match self.parts.as_slice() {
            [Part::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// Renders as text into `out`.
    pub fn render_into(&self, cx: &RenderCx, out: &mut String) {
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => match resolve(v, cx) {
                    Got::Str(s) => out.push_str(&s),
                    Got::Val(v) => push_value(&v, out),
                    Got::Missing => {}
                },
            }
        }
    }

    /// Renders as text.
    pub fn render(&self, cx: &RenderCx) -> String {
        let mut out = String::new();
        self.render_into(cx, &mut out);
        out
    }

    /// Renders as a JSON value: exactly one variable keeps its type, anything else is a string.
    pub fn render_value(&self, cx: &RenderCx) -> Value {
        match self.single() {
            Some(v) => match resolve(v, cx) {
                Got::Str(s) => Value::String(s.into_owned()),
                Got::Val(v) => v.into_owned(),
                Got::Missing => Value::Null,
            },
            None => Value::String(self.render(cx)),
        }
    }
}

fn push_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

enum Got<'a> {
    Str(Cow<'a, str>),
    Val(Cow<'a, Value>),
    Missing,
}

fn resolve<'a>(var: &Var, cx: &'a RenderCx<'a>) -> Got<'a> {
    let inc = cx.incoming;
    match var {
        Var::Path(name) => inc
            .param(name)
            .map_or(Got::Missing, |s| Got::Str(Cow::Borrowed(s))),
        Var::Query(name) => inc
            .req
            .query_value(name)
            .map_or(Got::Missing, |s| Got::Str(Cow::Borrowed(s))),
        Var::Header(name) => inc
            .header(name)
            .map_or(Got::Missing, |s| Got::Str(Cow::Borrowed(s))),
        Var::Body(segs) => {
            if segs.is_empty() {
                return match inc.json() {
                    Some(v) => Got::Val(Cow::Borrowed(v)),
                    None if inc.req.body.is_empty() => Got::Missing,
                    None => Got::Str(inc.req.body_text()),
                };
            }
            inc.json()
                .and_then(|v| lookup(v, segs))
                .map_or(Got::Missing, |v| Got::Val(Cow::Borrowed(v)))
        }
        Var::Method => Got::Str(Cow::Borrowed(inc.req.method.as_str())),
        Var::RequestPath => Got::Str(Cow::Borrowed(inc.req.path.as_str())),
        Var::Ip => inc
            .req
            .remote
            .map_or(Got::Missing, |a| Got::Str(Cow::Owned(a.ip().to_string()))),
        Var::State(segs) => {
            if segs.is_empty() {
                return Got::Val(Cow::Owned(Value::Object(cx.state.clone())));
            }
            let first = match &segs[0] {
                Seg::Key(k) => cx.state.get(k),
                Seg::Index(i) => cx.state.get(&i.to_string()),
            };
            first
                .and_then(|v| lookup(v, &segs[1..]))
                .map_or(Got::Missing, |v| Got::Val(Cow::Borrowed(v)))
        }
        Var::Uuid => Got::Str(Cow::Owned(uuid::Uuid::new_v4().to_string())),
        Var::RandomInt(lo, hi) => {
            Got::Val(Cow::Owned(Value::from(rand::rng().random_range(*lo..=*hi))))
        }
        Var::RandomString(n) => {
            let mut rng = rand::rng();
            let s: String = (0..*n)
                .map(|_| {
                    const CHARS: &[u8] =
                        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
                    CHARS[rng.random_range(0..CHARS.len())] as char
                })
                .collect();
            Got::Str(Cow::Owned(s))
        }
        Var::Timestamp => Got::Str(Cow::Owned(
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )),
        Var::TimestampUnix => Got::Val(Cow::Owned(Value::from(chrono::Utc::now().timestamp()))),
        Var::RequestCount => Got::Val(Cow::Owned(Value::from(cx.request_count))),
    }
}

/// Follows `segs` into `value` (a numeric key indexes a list).
pub(crate) fn lookup<'v>(value: &'v Value, segs: &[Seg]) -> Option<&'v Value> {
    let mut cur = value;
    for seg in segs {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get(k)?,
            (Seg::Key(k), Value::Array(items)) => items.get(k.parse::<usize>().ok()?)?,
            (Seg::Index(i), Value::Array(items)) => items.get(*i)?,
            (Seg::Index(i), Value::Object(m)) => m.get(&i.to_string())?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Parses `a.b[0].c` (after the root) into steps.
pub(crate) fn parse_segments(text: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    if text.is_empty() {
        return Ok(segs);
    }
    for piece in text.split('.') {
        let (key, mut rest) = match piece.find('[') {
            Some(i) => (&piece[..i], &piece[i..]),
            None => (piece, ""),
        };
        if key.is_empty() && rest.is_empty() {
            return Err(format!("empty name in `{text}`"));
        }
        if !key.is_empty() {
            segs.push(Seg::Key(key.to_string()));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else {
                return Err(format!("unclosed `[` in `{text}`"));
            };
            let index = stripped[..end]
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("`[{}]` is not a list index in `{text}`", &stripped[..end]))?;
            segs.push(Seg::Index(index));
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("unexpected `{rest}` in `{text}`"));
        }
    }
    Ok(segs)
}

fn parse_var(inner: &str) -> Result<Var, String> {
    let unknown = |what: &str| {
        let root = what.split(['.', '(', '[']).next().unwrap_or(what);
        let mut message = format!(
            "unknown template variable `{{{{{inner}}}}}`; available: path.NAME, query.NAME, headers.NAME, \
             request.body…, request.method, request.path, request.ip, state…, random.uuid, random.int, \
             random.int(MIN,MAX), random.string(N), timestamp, timestamp_unix, request_count"
        );
        if let Some(s) = did_you_mean(root, ROOTS.iter().copied()) {
            message.push_str(&format!(" (did you mean `{s}`?)"));
        }
        message
    };
    if inner.is_empty() {
        return Err("empty template `{{}}`".into());
    }
    // The original's Go forms: `.path.x`, `.query.x`, `.headers.X`, `.body.a`, `.state.x`, `.method`.
    let text = inner.strip_prefix('.').unwrap_or(inner);
    if text.chars().any(char::is_whitespace) {
        return Err(unknown(text));
    }
    let (root, rest) = match text.find(['.', '(']) {
        Some(i) if text.as_bytes()[i] == b'.' => (&text[..i], Some(&text[i + 1..])),
        _ => (text, None),
    };
    let name = |rest: Option<&str>, what: &str| -> Result<String, String> {
        match rest {
            Some(n) if !n.is_empty() => Ok(n.to_string()),
            _ => Err(format!(
                "`{{{{{inner}}}}}` needs a name: write `{what}.NAME`"
            )),
        }
    };
    Ok(match root {
        "path" | "params" => Var::Path(Arc::from(name(rest, "path")?.as_str())),
        "query" => Var::Query(name(rest, "query")?),
        "headers" | "header" => header_var(&name(rest, "headers")?)?,
        "body" => Var::Body(parse_segments(rest.unwrap_or(""))?),
        "method" if rest.is_none() => Var::Method,
        "state" => Var::State(parse_segments(rest.unwrap_or(""))?),
        "request" => {
            let rest = rest.unwrap_or("");
            let (field, sub) = match rest.find('.') {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            match (field, sub) {
                ("body", sub) => Var::Body(parse_segments(sub.unwrap_or(""))?),
                ("method", None) => Var::Method,
                ("path", None) => Var::RequestPath,
                ("ip", None) => Var::Ip,
                ("query", sub) => Var::Query(name(sub, "request.query")?),
                ("headers" | "header", sub) => header_var(&name(sub, "request.headers")?)?,
                ("params", sub) => Var::Path(Arc::from(name(sub, "request.params")?.as_str())),
                _ => return Err(unknown(text)),
            }
        }
        "random" => match rest.unwrap_or("") {
            "uuid" => Var::Uuid,
            "int" => Var::RandomInt(0, i64::from(i32::MAX)),
            "string" => Var::RandomString(16),
            call => parse_random_call(call).ok_or_else(|| {
                format!(
                    "invalid `{{{{{inner}}}}}`: write random.uuid, random.int, random.int(MIN,MAX) \
                     with MIN <= MAX, or random.string(N) with N <= {MAX_RANDOM_STRING}"
                )
            })?,
        },
        "timestamp" if rest.is_none() => Var::Timestamp,
        "timestamp_unix" if rest.is_none() => Var::TimestampUnix,
        "request_count" if rest.is_none() => Var::RequestCount,
        _ => return Err(unknown(text)),
    })
}

fn header_var(name: &str) -> Result<Var, String> {
    HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
        .map(Var::Header)
        .map_err(|_| format!("`{name}` is not a valid header name"))
}

fn parse_random_call(call: &str) -> Option<Var> {
    let (func, args) = call.split_once('(')?;
    let args = args.strip_suffix(')')?;
    match func {
        "int" => {
            let (lo, hi) = args.split_once(',')?;
            let lo: i64 = lo.trim().parse().ok()?;
            let hi: i64 = hi.trim().parse().ok()?;
            (lo <= hi).then_some(Var::RandomInt(lo, hi))
        }
        "string" => {
            let n: usize = args.trim().parse().ok()?;
            (n <= MAX_RANDOM_STRING).then_some(Var::RandomString(n))
        }
        _ => None,
    }
}

/// A JSON value with templates in its strings, rendered per request.
#[derive(Debug, Clone)]
pub(crate) enum ValueTemplate {
    /// No templates anywhere inside: used as is.
    Literal(Value),
    /// A templated string.
    Str(Template),
    /// A list with templates inside.
    Array(Vec<ValueTemplate>),
    /// An object with templates inside (keys are literal).
    Object(Vec<(String, ValueTemplate)>),
}

impl ValueTemplate {
    /// Compiles every string of `value`; `path` names the value in errors (`.a[0]` is appended).
    pub fn compile(value: &Value, path: &str) -> Result<ValueTemplate, (String, String)> {
        Ok(match value {
            Value::String(s) => {
                let t = Template::parse(s).map_err(|e| (path.to_string(), e))?;
                if t.is_literal() {
                    ValueTemplate::Literal(value.clone())
                } else {
                    ValueTemplate::Str(t)
                }
            }
            Value::Array(items) => {
                let compiled = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ValueTemplate::compile(v, &format!("{path}[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                if compiled
                    .iter()
                    .all(|c| matches!(c, ValueTemplate::Literal(_)))
                {
                    ValueTemplate::Literal(value.clone())
                } else {
                    ValueTemplate::Array(compiled)
                }
            }
            Value::Object(map) => {
                let compiled = map
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            k.clone(),
                            ValueTemplate::compile(v, &format!("{path}.{k}"))?,
                        ))
                    })
                    .collect::<Result<Vec<_>, (String, String)>>()?;
                if compiled
                    .iter()
                    .all(|(_, c)| matches!(c, ValueTemplate::Literal(_)))
                {
                    ValueTemplate::Literal(value.clone())
                } else {
                    ValueTemplate::Object(compiled)
                }
            }
            other => ValueTemplate::Literal(other.clone()),
        })
    }

    /// Renders to a value.
    pub fn render(&self, cx: &RenderCx) -> Value {
        match self {
            ValueTemplate::Literal(v) => v.clone(),
            ValueTemplate::Str(t) => t.render_value(cx),
            ValueTemplate::Array(items) => {
                Value::Array(items.iter().map(|i| i.render(cx)).collect())
            }
            ValueTemplate::Object(items) => Value::Object(
                items
                    .iter()
                    .map(|(k, v)| (k.clone(), v.render(cx)))
                    .collect(),
            ),
        }
    }

    /// Writes the rendered value as JSON.
    pub fn write_json(&self, cx: &RenderCx, out: &mut Vec<u8>) {
        match self {
            ValueTemplate::Literal(v) => {
                let _ = serde_json::to_writer(&mut *out, v);
            }
            ValueTemplate::Str(t) => {
                let _ = serde_json::to_writer(&mut *out, &t.render_value(cx));
            }
            ValueTemplate::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_json(cx, out);
                }
                out.push(b']');
            }
            ValueTemplate::Object(items) => {
                out.push(b'{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let _ = serde_json::to_writer(&mut *out, k);
                    out.push(b':');
                    v.write_json(cx, out);
                }
                out.push(b'}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::MockRequest;
    use serde_json::json;

    fn render(src: &str, req: &MockRequest, state: &Map<String, Value>) -> Value {
        let mut inc = Incoming::new(req);
        inc.params.push((Arc::from("id"), "42".into()));
        let cx = RenderCx {
            incoming: &inc,
            state,
            request_count: 3,
        };
        Template::parse(src).unwrap().render_value(&cx)
    }

    #[test]
    fn variables_render() {
        let mut req = MockRequest::new(http::Method::POST, "/users/42");
        req.query.push(("q".into(), "alice".into()));
        req.headers.insert("x-trace", "t-1".parse().unwrap());
        req.body = bytes::Bytes::from_static(br#"{"name":"Bob","items":[{"sku":"a"}]}"#);
        let state: Map<String, Value> = json!({"counter": 2}).as_object().unwrap().clone();
        assert_eq!(render("{{path.id}}", &req, &state), json!("42"));
        assert_eq!(render("{{.path.id}}", &req, &state), json!("42"));
        assert_eq!(render("{{ query.q }}", &req, &state), json!("alice"));
        assert_eq!(render("{{headers.X-Trace}}", &req, &state), json!("t-1"));
        assert_eq!(render("{{.headers.X-Trace}}", &req, &state), json!("t-1"));
        assert_eq!(render("{{request.body.name}}", &req, &state), json!("Bob"));
        assert_eq!(render("{{.body.items[0].sku}}", &req, &state), json!("a"));
        assert_eq!(
            render("{{request.body.items.0.sku}}", &req, &state),
            json!("a")
        );
        assert_eq!(render("{{state.counter}}", &req, &state), json!(2));
        assert_eq!(render("n={{state.counter}}", &req, &state), json!("n=2"));
        assert_eq!(render("{{request_count}}", &req, &state), json!(3));
        assert_eq!(
            render("{{request.method}} {{request.path}}", &req, &state),
            json!("POST /users/42")
        );
        assert_eq!(render("{{state.nope}}", &req, &state), Value::Null);
        assert_eq!(render("x{{state.nope}}y", &req, &state), json!("xy"));
        assert_eq!(
            render("{{request.body.items}}x", &req, &state),
            json!(r#"[{"sku":"a"}]x"#)
        );
        let n = render("{{random.int(5,7)}}", &req, &state)
            .as_i64()
            .unwrap();
        assert!((5..=7).contains(&n));
        assert_eq!(
            render("{{random.string(8)}}", &req, &state)
                .as_str()
                .unwrap()
                .len(),
            8
        );
        assert_eq!(
            render("{{random.uuid}}", &req, &state)
                .as_str()
                .unwrap()
                .len(),
            36
        );
    }

    #[test]
    fn bad_templates_are_errors() {
        assert!(
            Template::parse("{{path.id")
                .unwrap_err()
                .contains("unclosed")
        );
        let e = Template::parse("{{stat.x}}").unwrap_err();
        assert!(e.contains("did you mean `state`"), "{e}");
        assert!(Template::parse("{{random.int(9,1)}}").is_err());
        assert!(Template::parse("{{#if x}}").is_err());
        assert!(Template::parse("{{path}}").is_err());
        assert!(Template::parse("plain } text {").unwrap().is_literal());
    }
}
