//! The request journal: every request a mock received, matched or not, in a bounded ring, and
//! verification of expectations over it (for `mock_server_verify`).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};
use testmesh_flow::expr::{self, Expr};
use uuid::Uuid;

use crate::error::{DefinitionError, LoadError};
use crate::matcher::PathMatcher;

/// Why one endpoint did not match a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NearMiss {
    /// The endpoint, as `METHOD path`.
    pub endpoint: String,
    /// The endpoint's id.
    pub endpoint_id: String,
    /// Each failed condition, e.g. `header X-Api-Key: expected regex ^k-, got none`.
    pub reasons: Vec<String>,
}

/// One request as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// Unique id of the entry.
    pub id: Uuid,
    /// When the request arrived.
    pub time: DateTime<Utc>,
    /// The method.
    pub method: String,
    /// The path relative to the mock.
    pub path: String,
    /// Query parameters in order.
    pub query: Vec<(String, String)>,
    /// Headers in order (lower-case names).
    pub headers: Vec<(String, String)>,
    /// The body as text, cut at the journal's `max_body_bytes`.
    pub body: String,
    /// True when `body` was cut.
    pub body_truncated: bool,
    /// The client's address.
    pub remote: Option<String>,
    /// The endpoint that answered, when one matched.
    pub endpoint_id: Option<String>,
    /// The status sent; `None` for a fault (hang or dropped connection).
    pub status: Option<u16>,
    /// The response headers sent, in order (lower-case names); empty for a fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers: Vec<(String, String)>,
    /// The response body as text (base64 when not UTF-8), cut at the journal's `max_body_bytes`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub response_body: String,
    /// True when `response_body` was cut.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub response_body_truncated: bool,
    /// Time from arrival to the answer (delays included), in milliseconds.
    pub duration_ms: f64,
    /// How the request was answered: `endpoint`, `unmatched`, `proxy`, `record`, `chaos`,
    /// `rejected`, `too_large`, `error`.
    pub outcome: &'static str,
    /// `hang` or `close_connection` when the answer was a fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<&'static str>,
    /// For unmatched requests: the closest endpoints and why they did not match.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub near_misses: Vec<NearMiss>,
}

impl JournalEntry {
    /// True when an endpoint answered.
    pub fn matched(&self) -> bool {
        self.endpoint_id.is_some()
    }

    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The expression environment of this entry (`body`, `headers`, `query`, `method`, `path`, `request`).
    pub fn env(&self) -> Map<String, Value> {
        let body = serde_json::from_str::<Value>(&self.body).unwrap_or_else(|_| {
            if self.body.is_empty() {
                Value::Null
            } else {
                Value::String(self.body.clone())
            }
        });
        let mut headers = Map::new();
        for (k, v) in &self.headers {
            headers
                .entry(k.clone())
                .or_insert_with(|| Value::String(v.clone()));
        }
        let query = crate::request::query_map(&self.query);
        let mut request = Map::new();
        request.insert("method".into(), Value::from(self.method.as_str()));
        request.insert("path".into(), Value::from(self.path.as_str()));
        request.insert("query".into(), Value::Object(query.clone()));
        request.insert("headers".into(), Value::Object(headers.clone()));
        request.insert("body".into(), body.clone());
        let mut env = Map::new();
        env.insert("request".into(), Value::Object(request));
        env.insert("method".into(), Value::from(self.method.as_str()));
        env.insert("path".into(), Value::from(self.path.as_str()));
        env.insert("query".into(), Value::Object(query));
        env.insert("headers".into(), Value::Object(headers));
        env.insert("body".into(), body);
        env
    }
}

/// A bounded in-memory journal: the oldest entries are dropped when full.
#[derive(Debug)]
pub(crate) struct Journal {
    entries: VecDeque<JournalEntry>,
    cap: usize,
    dropped: u64,
}

impl Journal {
    pub fn new(cap: usize) -> Self {
        Journal {
            entries: VecDeque::with_capacity(cap.min(1024)),
            cap,
            dropped: 0,
        }
    }

    pub fn push(&mut self, entry: JournalEntry) {
        if self.cap == 0 {
            self.dropped += 1;
            return;
        }
        while self.entries.len() >= self.cap {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    pub fn entries(&self) -> std::collections::vec_deque::Iter<'_, JournalEntry> {
        self.entries.iter()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.dropped = 0;
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// One expectation over the journal (a `mock_server_verify` assertion).
#[derive(Debug, Clone)]
pub struct Expectation {
    /// `METHOD`, or `None` for any.
    pub method: Option<String>,
    /// A literal path or a `:param` / `{param}` / `*` pattern; `None` for any.
    pub path: Option<String>,
    /// Exactly this many requests.
    pub count: Option<usize>,
    /// At least this many.
    pub count_min: Option<usize>,
    /// At most this many.
    pub count_max: Option<usize>,
    /// Expressions over each request (`body.name == "Alice"`) that must all hold for it to count.
    pub body_matches: Vec<String>,
    /// Headers (names case-insensitive) each counted request must carry with exactly this value.
    pub headers: IndexMap<String, String>,
    path_matcher: Option<PathMatcher>,
    exprs: Vec<Expr>,
}

impl Expectation {
    /// Builds an expectation, compiling its path pattern and expressions.
    pub fn new(
        method: Option<&str>,
        path: Option<&str>,
        count: Option<usize>,
        count_min: Option<usize>,
        count_max: Option<usize>,
        body_matches: Vec<String>,
        headers: IndexMap<String, String>,
    ) -> Result<Self, LoadError> {
        let mut errors = Vec::new();
        let path_matcher = match path {
            Some(p) => match PathMatcher::from_path(p) {
                Ok(m) => Some(m),
                Err(e) => {
                    errors.push(DefinitionError::at("path", e));
                    None
                }
            },
            None => None,
        };
        let mut exprs = Vec::new();
        for (i, src) in body_matches.iter().enumerate() {
            match expr::parse(src) {
                Ok(e) => exprs.push(e),
                Err(e) => errors.push(DefinitionError::at(
                    format!("body_matches[{i}]"),
                    format!("invalid expression {}: {e}", Value::from(src.as_str())),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(LoadError { errors });
        }
        Ok(Expectation {
            method: method
                .map(|m| m.trim().to_ascii_uppercase())
                .filter(|m| m != "*"),
            path: path.map(str::to_string),
            count,
            count_min,
            count_max,
            body_matches,
            headers,
            path_matcher,
            exprs,
        })
    }

    /// Reads a list of expectations from JSON: `[{method, path, count | count_min | count_max,
    /// body_matches, headers}]`. Errors name the field (`[1].count`).
    pub fn list_from_json(value: &Value) -> Result<Vec<Expectation>, LoadError> {
        let Some(items) = value.as_array() else {
            return Err(LoadError::single(DefinitionError::at(
                "",
                "expected a list of assertions",
            )));
        };
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match Expectation::from_json(item) {
                Ok(e) => out.push(e),
                Err(e) => errors.extend(e.errors.into_iter().map(|mut d| {
                    d.path = if d.path.is_empty() {
                        format!("[{i}]")
                    } else {
                        format!("[{i}].{}", d.path)
                    };
                    d
                })),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(LoadError { errors })
        }
    }

    /// Reads one expectation from JSON.
    pub fn from_json(value: &Value) -> Result<Expectation, LoadError> {
        const KEYS: &[&str] = &[
            "method",
            "path",
            "count",
            "count_min",
            "count_max",
            "body_matches",
            "headers",
        ];
        let fail =
            |path: &str, message: String| LoadError::single(DefinitionError::at(path, message));
        let Some(map) = value.as_object() else {
            return Err(fail("", "expected a mapping (an assertion)".into()));
        };
        for key in map.keys() {
            if !KEYS.contains(&key.as_str()) {
                let mut e = DefinitionError::at(
                    key.as_str(),
                    format!("unknown key `{key}` in an assertion"),
                );
                e.help = testmesh_flow::diagnostic::did_you_mean(key, KEYS.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"));
                return Err(LoadError::single(e));
            }
        }
        let text = |key: &str| -> Result<Option<String>, LoadError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(fail(key, format!("expected a string, found {other}"))),
            }
        };
        let number = |key: &str| -> Result<Option<usize>, LoadError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .map(|n| Some(n as usize))
                    .ok_or_else(|| fail(key, format!("expected a count (0 or more), found {v}"))),
            }
        };
        let body_matches = match map.get("body_matches") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        fail(
                            &format!("body_matches[{i}]"),
                            format!("expected an expression, found {v}"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(fail(
                    "body_matches",
                    format!("expected a list of expressions, found {other}"),
                ));
            }
        };
        let headers = match map.get("headers") {
            None | Some(Value::Null) => IndexMap::new(),
            Some(Value::Object(h)) => h
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect(),
            Some(other) => {
                return Err(fail(
                    "headers",
                    format!("expected a mapping, found {other}"),
                ));
            }
        };
        Expectation::new(
            text("method")?.as_deref(),
            text("path")?.as_deref(),
            number("count")?,
            number("count_min")?,
            number("count_max")?,
            body_matches,
            headers,
        )
    }

    /// `POST /users` (or `any request`).
    pub fn describe(&self) -> String {
        match (&self.method, &self.path) {
            (Some(m), Some(p)) => format!("{m} {p}"),
            (None, Some(p)) => format!("* {p}"),
            (Some(m), None) => format!("{m} *"),
            (None, None) => "any request".into(),
        }
    }

    /// Whether method and path select `entry`.
    fn selects(&self, entry: &JournalEntry) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(&entry.method)
        {
            return false;
        }
        match &self.path_matcher {
            Some(p) => p.matches(&entry.path, &mut Vec::new()),
            None => true,
        }
    }

    /// Why a selected entry does not count (empty when it counts).
    fn mismatch(&self, entry: &JournalEntry) -> Vec<String> {
        let mut reasons = Vec::new();
        for (name, want) in &self.headers {
            match entry.header(name) {
                Some(got) if got == want => {}
                Some(got) => reasons.push(format!("header {name}: expected {want}, got {got}")),
                None => reasons.push(format!("header {name}: expected {want}, got none")),
            }
        }
        if !self.exprs.is_empty() {
            let env = entry.env();
            for e in &self.exprs {
                match e.eval_bool(&env) {
                    Ok(true) => {}
                    Ok(false) => reasons.push(format!("`{}` is false", e.source())),
                    Err(err) => reasons.push(format!("`{}`: {err}", e.source())),
                }
            }
        }
        reasons
    }
}

/// One failed expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Index of the expectation in the list.
    pub index: usize,
    /// What was expected of, e.g. `POST /users`.
    pub request: String,
    /// The bound, e.g. `exactly 2`, `at least 1`, `at most 3`, `between 1 and 3`.
    pub expected: String,
    /// How many requests counted.
    pub actual: usize,
    /// A readable sentence.
    pub message: String,
    /// Requests selected by method and path that did not count, with why (at most 5).
    pub near_misses: Vec<VerifyNearMiss>,
}

/// A request that had the right method and path but failed the header or body conditions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyNearMiss {
    /// The journal entry.
    pub entry_id: Uuid,
    /// The failed conditions.
    pub reasons: Vec<String>,
}

/// The result of verifying expectations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// True when no expectation was violated.
    pub passed: bool,
    /// How many expectations were checked.
    pub checked: usize,
    /// What failed.
    pub violations: Vec<Violation>,
    /// Entries dropped from the journal because of its cap (counts may be low when not zero).
    pub journal_dropped: u64,
}

pub(crate) fn verify<'a>(
    entries: impl Iterator<Item = &'a JournalEntry> + Clone,
    expectations: &[Expectation],
    dropped: u64,
) -> VerifyReport {
    let mut violations = Vec::new();
    for (index, exp) in expectations.iter().enumerate() {
        let mut actual = 0;
        let mut misses = Vec::new();
        for entry in entries.clone().filter(|e| exp.selects(e)) {
            let reasons = exp.mismatch(entry);
            if reasons.is_empty() {
                actual += 1;
            } else if misses.len() < 5 {
                misses.push(VerifyNearMiss {
                    entry_id: entry.id,
                    reasons,
                });
            }
        }
        let (ok, expected) = match (exp.count, exp.count_min, exp.count_max) {
            (Some(n), _, _) => (actual == n, format!("exactly {n}")),
            (None, Some(lo), Some(hi)) => (
                actual >= lo && actual <= hi,
                format!("between {lo} and {hi}"),
            ),
            (None, Some(lo), None) => (actual >= lo, format!("at least {lo}")),
            (None, None, Some(hi)) => (actual <= hi, format!("at most {hi}")),
            (None, None, None) => (actual >= 1, "at least 1".to_string()),
        };
        if !ok {
            let request = exp.describe();
            let conditions = if exp.headers.is_empty() && exp.exprs.is_empty() {
                String::new()
            } else {
                " matching the conditions".to_string()
            };
            violations.push(Violation {
                index,
                message: format!(
                    "expected {expected} {request} request(s){conditions}, got {actual}"
                ),
                request,
                expected,
                actual,
                near_misses: misses,
            });
        }
    }
    VerifyReport {
        passed: violations.is_empty(),
        checked: expectations.len(),
        violations,
        journal_dropped: dropped,
    }
}
