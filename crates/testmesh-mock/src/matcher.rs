//! Request matching: paths with parameters and wildcards, query, headers and body conditions.
//!
//! Everything is compiled when the mock is loaded. The hot path answers yes/no without allocating
//! beyond the path parameters; when nothing matches, the same checks run again in "explain" mode to
//! tell the client why each endpoint did not match.

use std::sync::Arc;

use http::HeaderName;
use regex::Regex;
use serde_json::Value;

use crate::request::Incoming;

/// Regexes from mock files may not grow beyond this (compiled program size).
const REGEX_SIZE_LIMIT: usize = 1 << 22;

/// Compiles a regex with a size limit; the error is one readable line.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| regex_error(pattern, &e.to_string()))
}

/// Compiles a regex over bytes (bodies need not be UTF-8).
pub(crate) fn compile_bytes_regex(pattern: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| regex_error(pattern, &e.to_string()))
}

fn regex_error(pattern: &str, full: &str) -> String {
    let detail = full
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(full)
        .trim();
    format!("invalid regex {}: {detail}", Value::from(pattern))
}

/// How an endpoint's path is matched.
#[derive(Debug, Clone)]
pub(crate) enum PathMatcher {
    /// `*`: any path.
    Any,
    /// A literal path (without a trailing `/`).
    Exact(String),
    /// Segments, some of which are `:name` / `{name}` parameters.
    Segments(Vec<PathSeg>),
    /// A regex (from `*` wildcards mixed with text, or `match.path_pattern`); named groups become
    /// parameters.
    Regex {
        regex: Regex,
        names: Vec<(usize, Arc<str>)>,
        shown: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum PathSeg {
    Lit(String),
    Param(Arc<str>),
}

fn param_name(segment: &str) -> Option<&str> {
    if let Some(name) = segment.strip_prefix(':') {
        return Some(name);
    }
    segment.strip_prefix('{')?.strip_suffix('}')
}

fn trim_slash(path: &str) -> &str {
    if path.len() > 1 {
        path.strip_suffix('/').unwrap_or(path)
    } else {
        path
    }
}

impl PathMatcher {
    /// Compiles an endpoint path: literal, `:p` / `{p}` segments, `*` for any run of characters.
    pub fn from_path(path: &str) -> Result<PathMatcher, String> {
        if path == "*" || path == "/*" {
            return Ok(PathMatcher::Any);
        }
        let path = trim_slash(path);
        let segments: Vec<&str> = path.split('/').collect();
        for seg in &segments {
            if let Some(name) = param_name(seg)
                && (name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-'))
            {
                return Err(format!(
                    "`{seg}` in the path is not a parameter name (letters, digits, `_`, `-`)"
                ));
            }
        }
        if path.contains('*') {
            let mut pattern = String::from("^");
            for (i, seg) in segments.iter().enumerate() {
                if i > 0 {
                    pattern.push('/');
                }
                match param_name(seg) {
                    Some(name) => {
                        pattern.push_str(&format!("(?P<{}>[^/]+)", name.replace('-', "_")))
                    }
                    None => {
                        let parts: Vec<String> = seg.split('*').map(regex::escape).collect();
                        pattern.push_str(&parts.join(".*"));
                    }
                }
            }
            pattern.push_str("/?$");
            let regex = compile_regex(&pattern)?;
            let names = segments
                .iter()
                .filter_map(|s| param_name(s))
                .map(|n| {
                    let idx = regex
                        .capture_names()
                        .position(|c| c == Some(&n.replace('-', "_")))
                        .unwrap_or(0);
                    (idx, Arc::from(n))
                })
                .collect();
            return Ok(PathMatcher::Regex {
                regex,
                names,
                shown: path.to_string(),
            });
        }
        if segments.iter().any(|s| param_name(s).is_some()) {
            return Ok(PathMatcher::Segments(
                segments
                    .iter()
                    .map(|s| match param_name(s) {
                        Some(n) => PathSeg::Param(Arc::from(n)),
                        None => PathSeg::Lit(s.to_string()),
                    })
                    .collect(),
            ));
        }
        Ok(PathMatcher::Exact(path.to_string()))
    }

    /// Compiles `match.path_pattern` (searched, not anchored).
    pub fn from_pattern(pattern: &str) -> Result<PathMatcher, String> {
        let regex = compile_regex(pattern)?;
        let names = regex
            .capture_names()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (i, Arc::from(n))))
            .collect();
        Ok(PathMatcher::Regex {
            regex,
            names,
            shown: format!("~{pattern}"),
        })
    }

    /// Matches `path`, pushing parameters on success.
    pub fn matches(&self, path: &str, params: &mut Vec<(Arc<str>, String)>) -> bool {
        match self {
            PathMatcher::Any => true,
            PathMatcher::Exact(p) => trim_slash(path) == p,
            PathMatcher::Segments(segs) => {
                let path = trim_slash(path);
                let mut parts = path.split('/');
                let start = params.len();
                for seg in segs {
                    let Some(part) = parts.next() else {
                        params.truncate(start);
                        return false;
                    };
                    match seg {
                        PathSeg::Lit(l) if l == part => {}
                        PathSeg::Param(name) if !part.is_empty() => {
                            params.push((name.clone(), percent_decode(part)))
                        }
                        _ => {
                            params.truncate(start);
                            return false;
                        }
                    }
                }
                if parts.next().is_some() {
                    params.truncate(start);
                    return false;
                }
                true
            }
            PathMatcher::Regex { regex, names, .. } => {
                if names.is_empty() {
                    return regex.is_match(path);
                }
                let Some(caps) = regex.captures(path) else {
                    return false;
                };
                for (idx, name) in names {
                    if let Some(m) = caps.get(*idx) {
                        params.push((name.clone(), percent_decode(m.as_str())));
                    }
                }
                true
            }
        }
    }

    /// Why `path` does not match.
    pub fn explain(&self, path: &str) -> String {
        match self {
            PathMatcher::Regex { shown, .. } if shown.starts_with('~') => {
                format!("path: {path} does not match regex {}", &shown[1..])
            }
            PathMatcher::Regex { shown, .. } => format!("path: expected {shown}, got {path}"),
            PathMatcher::Exact(p) => format!("path: expected {p}, got {path}"),
            PathMatcher::Segments(segs) => {
                let shown: Vec<String> = segs
                    .iter()
                    .map(|s| match s {
                        PathSeg::Lit(l) => l.clone(),
                        PathSeg::Param(n) => format!(":{n}"),
                    })
                    .collect();
                format!("path: expected {}, got {path}", shown.join("/"))
            }
            PathMatcher::Any => String::new(),
        }
    }
}

fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// An exact value or `regex:<re>` (searched).
#[derive(Debug)]
pub(crate) enum StrMatch {
    Exact(String),
    Regex(Regex, String),
}

impl StrMatch {
    pub fn compile(spec: &str) -> Result<StrMatch, String> {
        match spec.strip_prefix("regex:") {
            Some(re) => Ok(StrMatch::Regex(compile_regex(re)?, re.to_string())),
            None => Ok(StrMatch::Exact(spec.to_string())),
        }
    }

    pub fn is_match(&self, value: &str) -> bool {
        match self {
            StrMatch::Exact(e) => e == value,
            StrMatch::Regex(re, _) => re.is_match(value),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            StrMatch::Exact(e) => e.clone(),
            StrMatch::Regex(_, re) => format!("regex {re}"),
        }
    }
}

/// A query parameter condition.
#[derive(Debug)]
pub(crate) struct QueryMatch {
    pub name: String,
    pub want: StrMatch,
}

impl QueryMatch {
    pub fn is_match(&self, inc: &Incoming) -> bool {
        inc.req
            .query
            .iter()
            .any(|(k, v)| *k == self.name && self.want.is_match(v))
    }

    pub fn check(&self, inc: &Incoming) -> Result<(), String> {
        let mut got = None;
        for (k, v) in &inc.req.query {
            if *k == self.name {
                if self.want.is_match(v) {
                    return Ok(());
                }
                got.get_or_insert(v.as_str());
            }
        }
        Err(format!(
            "query {}: expected {}, got {}",
            self.name,
            self.want.describe(),
            got.unwrap_or("none")
        ))
    }
}

/// A header condition (names case-insensitive).
#[derive(Debug)]
pub(crate) struct HeaderMatch {
    pub shown: String,
    pub name: HeaderName,
    pub want: StrMatch,
}

impl HeaderMatch {
    pub fn is_match(&self, inc: &Incoming) -> bool {
        inc.req
            .headers
            .get_all(&self.name)
            .iter()
            .any(|v| match v.to_str() {
                Ok(text) => self.want.is_match(text),
                Err(_) => self.want.is_match(&String::from_utf8_lossy(v.as_bytes())),
            })
    }

    pub fn check(&self, inc: &Incoming) -> Result<(), String> {
        let mut got = None;
        for value in inc.req.headers.get_all(&self.name) {
            let text = String::from_utf8_lossy(value.as_bytes());
            if self.want.is_match(&text) {
                return Ok(());
            }
            got.get_or_insert(text.into_owned());
        }
        Err(format!(
            "header {}: expected {}, got {}",
            self.shown,
            self.want.describe(),
            got.as_deref().unwrap_or("none")
        ))
    }
}

/// `body_equals`: raw text when a string is expected, else JSON equality.
#[derive(Debug)]
pub(crate) enum BodyEquals {
    Text(String),
    Json(Value),
}

impl BodyEquals {
    pub fn is_match(&self, inc: &Incoming) -> bool {
        match self {
            BodyEquals::Text(t) => {
                inc.req.body.as_ref() == t.as_bytes()
                    || inc.json().and_then(Value::as_str) == Some(t.as_str())
            }
            BodyEquals::Json(want) => inc.json().is_some_and(|got| json_eq(want, got)),
        }
    }

    pub fn check(&self, inc: &Incoming) -> Result<(), String> {
        match self {
            BodyEquals::Text(t) => {
                if inc.req.body.as_ref() == t.as_bytes()
                    || inc.json().and_then(Value::as_str) == Some(t.as_str())
                {
                    Ok(())
                } else {
                    Err(format!(
                        "body: expected exactly {}, got {}",
                        short(&Value::from(t.as_str())),
                        short(&Value::from(inc.req.body_text().as_ref()))
                    ))
                }
            }
            BodyEquals::Json(want) => match inc.json() {
                Some(got) if json_eq(want, got) => Ok(()),
                Some(got) => Err(format!(
                    "body: expected exactly {}, got {}",
                    short(want),
                    short(got)
                )),
                None => Err(not_json(inc)),
            },
        }
    }
}

fn not_json(inc: &Incoming) -> String {
    if inc.req.body.is_empty() {
        "body: expected JSON, got an empty body".into()
    } else {
        "body: expected JSON, got a body that is not JSON".into()
    }
}

/// Partial JSON match: every expected key present with a matching value; arrays element by element.
pub(crate) fn check_partial(want: &Value, inc: &Incoming) -> Result<(), String> {
    match inc.json() {
        Some(got) => subset(want, got, "body"),
        None => Err(not_json(inc)),
    }
}

/// The partial match without explanation.
pub(crate) fn is_subset(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| is_subset(wv, gv))),
        (Value::Array(w), Value::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| is_subset(a, b))
        }
        (w, g) => json_eq(w, g),
    }
}

fn subset(want: &Value, got: &Value, path: &str) -> Result<(), String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let p = format!("{path}.{k}");
                match g.get(k) {
                    Some(gv) => subset(wv, gv, &p)?,
                    None => return Err(format!("{p}: expected {}, got none", short(wv))),
                }
            }
            Ok(())
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                return Err(format!(
                    "{path}: expected a list of {} items, got {}",
                    w.len(),
                    g.len()
                ));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                subset(wv, gv, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (w, g) if json_eq(w, g) => Ok(()),
        (w, g) => Err(format!("{path}: expected {}, got {}", short(w), short(g))),
    }
}

/// JSON equality where numbers compare by value (`1 == 1.0`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// A value in a message, cut to a readable length.
pub(crate) fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() <= 60 {
        text
    } else {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::MockRequest;
    use serde_json::json;

    fn params(m: &PathMatcher, path: &str) -> Option<Vec<(String, String)>> {
        let mut p = Vec::new();
        m.matches(path, &mut p)
            .then(|| p.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn paths() {
        let m = PathMatcher::from_path("/users/:id").unwrap();
        assert_eq!(
            params(&m, "/users/42"),
            Some(vec![("id".into(), "42".into())])
        );
        assert_eq!(
            params(&m, "/users/42/"),
            Some(vec![("id".into(), "42".into())])
        );
        assert_eq!(params(&m, "/users"), None);
        assert_eq!(params(&m, "/users/42/x"), None);
        let m = PathMatcher::from_path("/users/{id}/posts/{post}").unwrap();
        assert_eq!(params(&m, "/users/a%20b/posts/7").unwrap()[0].1, "a b");
        let m = PathMatcher::from_path("/files/*").unwrap();
        assert!(params(&m, "/files/a/b.txt").is_some());
        assert!(params(&m, "/filesx").is_none());
        // Regex characters in a wildcard path are literal (the original did not escape them).
        let m = PathMatcher::from_path("/v1.0/*").unwrap();
        assert!(params(&m, "/v1.0/x").is_some());
        assert!(params(&m, "/v1x0/x").is_none());
        let m = PathMatcher::from_path("/a/:id/*").unwrap();
        assert_eq!(params(&m, "/a/5/rest/of").unwrap()[0].1, "5");
        assert!(matches!(
            PathMatcher::from_path("*").unwrap(),
            PathMatcher::Any
        ));
        let m = PathMatcher::from_pattern("^/users/(?P<id>[0-9]+)$").unwrap();
        assert_eq!(params(&m, "/users/9").unwrap()[0].1, "9");
        assert!(PathMatcher::from_pattern("(").is_err());
    }

    #[test]
    fn partial_bodies_with_nested_arrays() {
        let mut req = MockRequest::new(http::Method::POST, "/");
        req.body = bytes::Bytes::from_static(
            br#"{"items":[{"sku":"a","qty":1},{"sku":"b","tags":["x"]}],"n":1.0}"#,
        );
        let inc = Incoming::new(&req);
        assert!(check_partial(&json!({"items": [{"sku": "a"}, {"tags": ["x"]}]}), &inc).is_ok());
        assert!(check_partial(&json!({"n": 1}), &inc).is_ok());
        let err = check_partial(&json!({"items": [{"sku": "a"}, {"sku": "c"}]}), &inc).unwrap_err();
        assert_eq!(err, r#"body.items[1].sku: expected "c", got "b""#);
        assert!(check_partial(&json!({"n": "1"}), &inc).is_err());
        let mut bad = MockRequest::new(http::Method::POST, "/");
        bad.body = bytes::Bytes::from_static(b"{not json");
        assert!(
            check_partial(&json!({}), &Incoming::new(&bad))
                .unwrap_err()
                .contains("not JSON")
        );
    }
}
