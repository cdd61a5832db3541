//! Building a V4 pact from observed HTTP exchanges (a consumer's requests to a provider or to a
//! mock of it, and the responses it got).
//!
//! - One interaction per distinct (method, path, query, request body, provider states): repeated
//!   identical calls collapse into the first one seen.
//! - Volatile response values get matching rules: UUIDs a regex, ISO timestamps/dates/times a
//!   `datetime`/`date`/`time` matcher with the format they were written in, numeric ids
//!   (`id`, `…_id`, `…Id` keys) `integer`, arrays of similar objects `type` with `min: 1` (their
//!   elements are then matched like the first, whose own rules are inferred under `[*]`).
//! - Declared [`Hints`] override: description, provider states, and matching rules by location.
//! - Only the headers that matter are kept: request `Content-Type`, `Accept` and `Authorization`
//!   (its credentials replaced by a placeholder under a `type` matcher — never the secret), and the
//!   response `Content-Type`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::body::{Body, ContentType};
use crate::datetime::DateTimeFormat;
use crate::error::PactError;
use crate::model::{
    HttpRequest, HttpResponse, Interaction, Multimap, Pact, Pacticipant, ProviderState,
};
use crate::path_expr::PathExpr;
use crate::rules::{MatchingRule, PactRegex, RuleList};

/// The regex a UUID gets (any case, any version).
pub const UUID_REGEX: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// What stands in for the credentials of a recorded `Authorization` header.
pub const REDACTED: &str = "REDACTED";

/// Request headers a generated interaction keeps (others — cookies, tracing ids, API keys — are
/// the consumer's business, not the contract's).
const REQUEST_HEADERS: &[&str] = &["content-type", "accept", "authorization"];

/// A request as observed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedRequest {
    /// Method.
    pub method: String,
    /// Path, without the query string.
    pub path: String,
    /// Query parameters in order.
    pub query: Vec<(String, String)>,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The body: JSON when it was JSON, else a string; `None` when there was none.
    pub body: Option<Value>,
}

/// A response as observed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedResponse {
    /// Status.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The body: JSON when it was JSON, else a string; `None` when there was none.
    pub body: Option<Value>,
}

/// Declared hints for one exchange (a flow step's `contract:`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hints {
    /// The interaction's description.
    pub description: Option<String>,
    /// Provider states.
    pub provider_states: Vec<ProviderState>,
    /// Matching rules by location (`$.id`, `response.header.X-Id`, …): each a matcher name, a
    /// Pact matcher object or a list of them; `none` keeps the recorded value exact.
    pub matching_rules: Vec<(String, Value)>,
}

/// One observed exchange.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// Where it came from (`step get_user`, `mock users #3`), for error messages.
    pub source: String,
    /// Default description (the step's name, say); `METHOD /path` when absent.
    pub name: Option<String>,
    /// The request.
    pub request: ObservedRequest,
    /// The response.
    pub response: ObservedResponse,
    /// Declared hints.
    pub hints: Hints,
}

impl Hints {
    /// Reads provider states written as names or `{name, params}` objects.
    pub fn states_from_json(values: &[Value]) -> Result<Vec<ProviderState>, String> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(name) => Ok(ProviderState::named(name)),
                Value::Object(m) => {
                    let name = m
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("provider_states[{i}]: `name` must be a string"))?;
                    let params = match m.get("params") {
                        None | Some(Value::Null) => Map::new(),
                        Some(Value::Object(p)) => p.clone(),
                        Some(_) => {
                            return Err(format!(
                                "provider_states[{i}]: `params` must be a mapping"
                            ));
                        }
                    };
                    Ok(ProviderState {
                        name: name.to_string(),
                        params,
                    })
                }
                _ => Err(format!(
                    "provider_states[{i}]: expected a name or {{name, params}}"
                )),
            })
            .collect()
    }
}

/// Builds a V4 pact between `consumer` and `provider` from `exchanges`, in order. Errors name the
/// exchange whose hints are wrong.
pub fn pact_from_exchanges(
    consumer: &str,
    provider: &str,
    exchanges: &[Observed],
) -> Result<Pact, PactError> {
    let mut interactions: Vec<Interaction> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut descriptions: HashMap<String, usize> = HashMap::new();
    for exchange in exchanges {
        let identity = identity(exchange);
        if seen.contains_key(&identity) {
            continue;
        }
        let mut interaction = interaction(exchange)?;
        // Descriptions are unique within a pact: a second distinct call of one step gets a number.
        let count = descriptions
            .entry(interaction.description.clone())
            .or_insert(0);
        *count += 1;
        if *count > 1 {
            interaction.description = format!("{} ({count})", interaction.description);
        }
        seen.insert(identity, interactions.len());
        interactions.push(interaction);
    }
    Ok(Pact {
        consumer: Pacticipant {
            name: consumer.to_string(),
        },
        provider: Pacticipant {
            name: provider.to_string(),
        },
        interactions,
        metadata: Map::new(),
        source_version: None,
    })
}

/// What makes two exchanges the same interaction.
fn identity(exchange: &Observed) -> String {
    let r = &exchange.request;
    let mut query = r.query.clone();
    query.sort();
    let states: Vec<Value> = exchange
        .hints
        .provider_states
        .iter()
        .map(|s| serde_json::json!([s.name, s.params]))
        .collect();
    serde_json::json!([r.method.to_ascii_uppercase(), r.path, query, r.body, states]).to_string()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn canonical_header(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "content-type" => "Content-Type",
        "accept" => "Accept",
        _ => "Authorization",
    }
}

fn body_of(value: &Option<Value>, content_type: Option<&str>) -> Body {
    let declared = content_type.and_then(ContentType::parse);
    match value {
        None => Body::Missing,
        Some(Value::String(text)) if declared.as_ref().is_none_or(|c| !c.is_json()) => {
            if text.is_empty() {
                Body::Missing
            } else {
                Body::text(text, content_type.unwrap_or("text/plain"))
            }
        }
        Some(value) => {
            let mut body = Body::json(value);
            if let (Body::Present { content_type, .. }, Some(d)) = (&mut body, declared)
                && d.is_json()
            {
                *content_type = Some(d);
            }
            body
        }
    }
}

fn interaction(exchange: &Observed) -> Result<Interaction, PactError> {
    let at = |m: String| PactError::invalid(&exchange.source, m);
    let r = &exchange.request;
    let mut request = HttpRequest {
        method: r.method.to_ascii_uppercase(),
        path: if r.path.is_empty() {
            "/".to_string()
        } else {
            r.path.clone()
        },
        ..HttpRequest::default()
    };
    for (name, value) in &r.query {
        request
            .query
            .entry(name.clone())
            .or_default()
            .push(value.clone());
    }
    for (name, value) in &r.headers {
        let lower = name.to_ascii_lowercase();
        if !REQUEST_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        let canonical = canonical_header(&lower);
        let value = if lower == "authorization" {
            // Keep the scheme (when the record still shows one: run records mask the whole
            // value) so the provider sees the kind of credentials; never the secret.
            request.matching_rules.category_mut("header").add(
                PathExpr::named(canonical),
                RuleList::single(MatchingRule::Type),
            );
            match value.trim().split_once(char::is_whitespace) {
                Some((scheme, _))
                    if scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
                {
                    format!("{scheme} {REDACTED}")
                }
                _ => REDACTED.to_string(),
            }
        } else {
            value.clone()
        };
        insert_header(&mut request.headers, canonical, value);
    }
    request.body = body_of(&r.body, header(&r.headers, "content-type"));

    let s = &exchange.response;
    let mut response = HttpResponse {
        status: s.status,
        ..HttpResponse::default()
    };
    let content_type = header(&s.headers, "content-type");
    if let Some(ct) = content_type {
        insert_header(&mut response.headers, "Content-Type", ct.to_string());
    }
    response.body = body_of(&s.body, content_type);
    if let (Body::Present { content_type, .. }, Some(value)) = (&response.body, &s.body)
        && content_type.as_ref().is_some_and(ContentType::is_json)
    {
        let mut inferred = Vec::new();
        infer(value, "$", None, &mut inferred);
        let body = response.matching_rules.category_mut("body");
        for (path, rule) in inferred {
            let expr = PathExpr::parse(&path).map_err(at)?;
            body.add(expr, RuleList::single(rule));
        }
    }

    let hints = &exchange.hints;
    for (location, spec) in &hints.matching_rules {
        apply_hint(location, spec, &mut request, &mut response, s.body.as_ref())
            .map_err(|m| at(format!("contract.matching_rules `{location}`: {m}")))?;
    }

    let description = hints
        .description
        .clone()
        .or_else(|| exchange.name.clone())
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| format!("{} {}", request.method, request.path));
    let mut interaction = Interaction::http(&description, request, response);
    interaction.provider_states = hints.provider_states.clone();
    Ok(interaction)
}

fn insert_header(headers: &mut Multimap, name: &str, value: String) {
    headers.entry(name.to_string()).or_default().push(value);
}

fn is_id_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("id")
        || key.ends_with("_id")
        || key.ends_with("_ID")
        || (key.ends_with("Id") && key.len() > 2)
}

fn child_path(path: &str, key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{path}.{key}")
    } else {
        format!("{path}['{}']", key.replace('\'', "\\'"))
    }
}

/// Matching rules for the volatile values of `value` at `path`; `key` is the object key holding it.
fn infer(value: &Value, path: &str, key: Option<&str>, out: &mut Vec<(String, MatchingRule)>) {
    match value {
        Value::String(text) => {
            if let Some(rule) = string_rule(text) {
                out.push((path.to_string(), rule));
            }
        }
        Value::Number(n) if key.is_some_and(is_id_key) && (n.is_i64() || n.is_u64()) => {
            out.push((path.to_string(), MatchingRule::Integer));
        }
        Value::Object(map) => {
            for (k, v) in map {
                infer(v, &child_path(path, k), Some(k), out);
            }
        }
        Value::Array(items) => {
            if similar_objects(items) {
                out.push((path.to_string(), MatchingRule::MinType(1)));
                infer(&items[0], &format!("{path}[*]"), None, out);
            } else {
                for (i, item) in items.iter().enumerate() {
                    infer(item, &format!("{path}[{i}]"), None, out);
                }
            }
        }
        _ => {}
    }
}

/// Non-empty, and every element an object with the same keys.
fn similar_objects(items: &[Value]) -> bool {
    let Some(Value::Object(first)) = items.first() else {
        return false;
    };
    items.iter().all(|item| {
        item.as_object()
            .is_some_and(|m| m.len() == first.len() && m.keys().all(|k| first.contains_key(k)))
    })
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok() && text.as_bytes()[8] == b'-'
}

/// The rule a volatile string gets: UUIDs a regex, ISO 8601 timestamps/dates/times a datetime
/// matcher with the format they were written in.
fn string_rule(text: &str) -> Option<MatchingRule> {
    if is_uuid(text) {
        return PactRegex::new(UUID_REGEX).ok().map(MatchingRule::Regex);
    }
    let pattern = iso_pattern(text)?;
    let format = DateTimeFormat::parse(&pattern).ok()?;
    format.validate(text).ok()?;
    Some(
        if pattern.contains('T') || pattern.contains(' ') && pattern.contains("HH") {
            MatchingRule::Timestamp(format)
        } else if pattern.starts_with("yyyy") {
            MatchingRule::Date(format)
        } else {
            MatchingRule::Time(format)
        },
    )
}

/// The date-time pattern of an ISO 8601 value (`2024-05-01T10:00:00.123Z` →
/// `yyyy-MM-dd'T'HH:mm:ss.SSSX`), if it is one.
fn iso_pattern(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    let time_pattern = |rest: &str| -> Option<String> {
        let b = rest.as_bytes();
        let two = |i: usize| {
            b.get(i..i + 2)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        };
        if !(two(0) && b.get(2) == Some(&b':') && two(3)) {
            return None;
        }
        let mut pattern = "HH:mm".to_string();
        let mut i = 5;
        if b.get(5) == Some(&b':') && two(6) {
            pattern.push_str(":ss");
            i = 8;
            if b.get(8) == Some(&b'.') {
                let n = b[9..].iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 {
                    return None;
                }
                pattern.push('.');
                pattern.push_str(&"S".repeat(n));
                i = 9 + n;
            }
        }
        let zone = &rest[i..];
        match zone {
            "" => {}
            "Z" => pattern.push_str("'Z'"),
            z if z.len() == 6
                && (z.starts_with('+') || z.starts_with('-'))
                && z.as_bytes()[3] == b':' =>
            {
                pattern.push_str("XXX")
            }
            z if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => pattern.push('Z'),
            _ => return None,
        }
        Some(pattern)
    };
    if digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
    {
        if text.len() == 10 {
            return Some("yyyy-MM-dd".to_string());
        }
        let sep = *bytes.get(10)?;
        if sep != b'T' {
            return None;
        }
        let time = time_pattern(&text[11..])?;
        return Some(format!("yyyy-MM-dd'T'{time}"));
    }
    // A bare time needs seconds to look volatile (`10:30` is more often a label).
    time_pattern(text).filter(|p| p.contains(":ss"))
}

/// Applies one declared rule, replacing what inference put at the same location.
fn apply_hint(
    location: &str,
    spec: &Value,
    request: &mut HttpRequest,
    response: &mut HttpResponse,
    response_body: Option<&Value>,
) -> Result<(), String> {
    let (rules, category, key) = if location.starts_with('$') {
        (&mut response.matching_rules, "body", location)
    } else {
        let (part, rest) = location
            .split_once('.')
            .ok_or("expected `$.…` or `request.…`/`response.…`")?;
        let rules = match part {
            "request" => &mut request.matching_rules,
            "response" => &mut response.matching_rules,
            _ => return Err("expected `$.…` or `request.…`/`response.…`".into()),
        };
        let (category, key) = rest.split_once('.').unwrap_or((rest, "$"));
        match (part, category) {
            (_, "body" | "header") | ("request", "query" | "path") | ("response", "status") => {}
            _ => return Err(format!("`{category}` is not a location of the {part}")),
        }
        (rules, category, key)
    };
    let expr = if category == "body" {
        PathExpr::parse(key)?
    } else {
        PathExpr::named(key)
    };
    let example = if category == "body" && !location.starts_with("request") {
        response_body.and_then(|b| value_at(b, key))
    } else {
        None
    };
    let list = hint_rules(spec, example)?;
    let cat = rules.category_mut(category);
    cat.entries.retain(|(k, _)| *k != expr);
    if let Some(list) = list {
        cat.entries.push((expr, list));
    }
    Ok(())
}

/// The value at a simple `$.a.b[0]` path (for choosing a datetime format), if there is one.
fn value_at<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = root;
    let rest = path.strip_prefix('$')?;
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let index = index.trim_end_matches(']');
            current = if index == "*" {
                current.get(0)?
            } else {
                current.get(index.parse::<usize>().ok()?)?
            };
        }
    }
    Some(current)
}

/// Rules from a hint: a matcher name, a Pact matcher object or a list of them; `None` for `none`.
fn hint_rules(spec: &Value, example: Option<&Value>) -> Result<Option<RuleList>, String> {
    let one = |v: &Value| -> Result<Option<MatchingRule>, String> {
        match v {
            Value::String(name) => named_rule(name, example),
            Value::Object(_) => MatchingRule::from_json(v, "matcher")
                .map(Some)
                .map_err(|e| e.to_string()),
            _ => Err("expected a matcher name or a `{match: …}` matcher".into()),
        }
    };
    let rules: Vec<MatchingRule> = match spec {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(one)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect(),
        Value::Array(_) => return Err("an empty list of matchers".into()),
        other => one(other)?.into_iter().collect(),
    };
    Ok((!rules.is_empty()).then_some(RuleList {
        rules,
        ..RuleList::default()
    }))
}

/// A matcher by name; date/time matchers take the format of the recorded value when it has one.
fn named_rule(name: &str, example: Option<&Value>) -> Result<Option<MatchingRule>, String> {
    let from_example = |default: &str| -> Result<DateTimeFormat, String> {
        let pattern = example
            .and_then(Value::as_str)
            .and_then(iso_pattern)
            .unwrap_or_else(|| default.to_string());
        DateTimeFormat::parse(&pattern)
    };
    Ok(Some(match name {
        "none" | "exact" => return Ok(None),
        "equality" => MatchingRule::Equality,
        "type" => MatchingRule::Type,
        "integer" => MatchingRule::Integer,
        "decimal" => MatchingRule::Decimal,
        "number" => MatchingRule::Number,
        "boolean" => MatchingRule::Boolean,
        "notEmpty" | "not_empty" => MatchingRule::NotEmpty,
        "semver" => MatchingRule::Semver,
        "uuid" => MatchingRule::Regex(PactRegex::new(UUID_REGEX)?),
        "datetime" | "timestamp" => {
            MatchingRule::Timestamp(from_example("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")?)
        }
        "date" => MatchingRule::Date(from_example("yyyy-MM-dd")?),
        "time" => MatchingRule::Time(from_example("HH:mm:ss")?),
        "array" | "eachLike" | "each_like" => MatchingRule::MinType(1),
        other => {
            return Err(format!(
                "unknown matcher `{other}` (use type, integer, decimal, number, boolean, uuid, \
                 datetime, date, time, notEmpty, semver, equality, array or none; or a Pact \
                 matcher object such as {{match: regex, regex: \"^[a-z]+$\"}})"
            ));
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InteractionKind;
    use serde_json::json;

    fn get(path: &str, body: Value) -> Observed {
        Observed {
            source: "test".into(),
            name: Some(format!("get {path}")),
            request: ObservedRequest {
                method: "GET".into(),
                path: path.into(),
                ..ObservedRequest::default()
            },
            response: ObservedResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Some(body),
            },
            hints: Hints::default(),
        }
    }

    fn rules_json(pact: &Pact, i: usize) -> Value {
        pact.to_json()["interactions"][i]["response"]["matchingRules"].clone()
    }

    #[test]
    fn identical_calls_collapse_and_distinct_ones_do_not() {
        let a = get("/users", json!([]));
        let mut b = get("/users", json!([]));
        b.request.query.push(("page".into(), "2".into()));
        let pact = pact_from_exchanges("web", "api", &[a.clone(), a.clone(), b, a]).unwrap();
        assert_eq!(pact.interactions.len(), 2);
        assert_eq!(pact.interactions[0].description, "get /users");
        assert_eq!(pact.interactions[1].description, "get /users (2)");
    }

    #[test]
    fn provider_states_and_bodies_distinguish_interactions() {
        let a = get("/users/1", json!({}));
        let mut b = a.clone();
        b.hints.provider_states = vec![ProviderState::named("user 1 exists")];
        let mut c = a.clone();
        c.request.method = "POST".into();
        c.request.body = Some(json!({"name": "x"}));
        let mut d = c.clone();
        d.request.body = Some(json!({"name": "y"}));
        let pact = pact_from_exchanges("web", "api", &[a, b, c, d]).unwrap();
        assert_eq!(pact.interactions.len(), 4);
        assert_eq!(
            pact.interactions[1].provider_states[0].name,
            "user 1 exists"
        );
    }

    #[test]
    fn infers_uuid_datetime_date_integer_id_and_arrays() {
        let body = json!({
            "id": 7,
            "count": 3,
            "uuid": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "created_at": "2024-05-01T10:00:00.123Z",
            "updated": "2024-05-01T10:00:00+02:00",
            "birthday": "1990-01-31",
            "alarm": "07:30:00",
            "label": "hello",
            "users": [{"userId": 1, "name": "a"}, {"userId": 2, "name": "b"}],
            "mixed": [1, "x"],
        });
        let pact = pact_from_exchanges("web", "api", &[get("/x", body)]).unwrap();
        let rules = rules_json(&pact, 0)["body"].clone();
        assert_eq!(rules["$.id"]["matchers"][0]["match"], "integer");
        assert!(
            rules.get("$.count").is_none(),
            "plain numbers stay exact: {rules}"
        );
        assert_eq!(rules["$.uuid"]["matchers"][0]["match"], "regex");
        assert_eq!(rules["$.uuid"]["matchers"][0]["regex"], UUID_REGEX);
        assert_eq!(rules["$.created_at"]["matchers"][0]["match"], "datetime");
        assert_eq!(
            rules["$.created_at"]["matchers"][0]["format"],
            "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        );
        assert_eq!(
            rules["$.updated"]["matchers"][0]["format"],
            "yyyy-MM-dd'T'HH:mm:ssXXX"
        );
        assert_eq!(rules["$.birthday"]["matchers"][0]["match"], "date");
        assert_eq!(rules["$.birthday"]["matchers"][0]["format"], "yyyy-MM-dd");
        assert_eq!(rules["$.alarm"]["matchers"][0]["match"], "time");
        assert!(rules.get("$.label").is_none());
        assert_eq!(rules["$.users"]["matchers"][0]["match"], "type");
        assert_eq!(rules["$.users"]["matchers"][0]["min"], 1);
        assert_eq!(
            rules["$.users[*].userId"]["matchers"][0]["match"],
            "integer"
        );
        assert!(rules.get("$.mixed").is_none());
    }

    #[test]
    fn inferred_rules_accept_other_values_of_the_same_kind() {
        let body = json!({"id": 1, "at": "2024-05-01T10:00:00Z", "items": [{"id": 1}]});
        let pact = pact_from_exchanges("web", "api", &[get("/x", body)]).unwrap();
        let InteractionKind::Http { response, .. } = &pact.interactions[0].kind else {
            unreachable!()
        };
        let other = HttpResponse {
            headers: response.headers.clone(),
            body: Body::json(&json!({"id": 99, "at": "2031-12-24T23:59:59Z",
                "items": [{"id": 5}, {"id": 6}, {"id": 7}]})),
            ..HttpResponse::default()
        };
        assert!(crate::match_response(response, &other).is_empty());
        let wrong = HttpResponse {
            headers: response.headers.clone(),
            body: Body::json(&json!({"id": "1", "at": "yesterday", "items": []})),
            ..HttpResponse::default()
        };
        assert_eq!(crate::match_response(response, &wrong).len(), 3);
    }

    #[test]
    fn hints_override_description_states_and_rules() {
        let mut e = get(
            "/users/1",
            json!({"id": 1, "name": "Ann", "at": "2024-01-01T00:00:00Z"}),
        );
        e.hints = Hints {
            description: Some("a request for user 1".into()),
            provider_states: Hints::states_from_json(&[
                json!("user 1 exists"),
                json!({"name": "has role", "params": {"role": "admin"}}),
            ])
            .unwrap(),
            matching_rules: vec![
                ("$.name".into(), json!("type")),
                ("$.id".into(), json!("none")),
                (
                    "response.body.$.at".into(),
                    json!({"match": "regex", "regex": "^2024-.*$"}),
                ),
                (
                    "response.status".into(),
                    json!({"match": "statusCode", "status": "success"}),
                ),
                ("request.header.Accept".into(), json!(["type"])),
            ],
        };
        let pact = pact_from_exchanges("web", "api", &[e]).unwrap();
        let json = pact.to_json();
        let i = &json["interactions"][0];
        assert_eq!(i["description"], "a request for user 1");
        assert_eq!(i["providerStates"][1]["params"]["role"], "admin");
        let rules = &i["response"]["matchingRules"];
        assert_eq!(rules["body"]["$.name"]["matchers"][0]["match"], "type");
        assert!(
            rules["body"].get("$.id").is_none(),
            "`none` removes the inferred rule"
        );
        assert_eq!(
            rules["body"]["$.at"]["matchers"].as_array().unwrap().len(),
            1
        );
        assert_eq!(rules["body"]["$.at"]["matchers"][0]["match"], "regex");
        assert_eq!(rules["status"]["matchers"][0]["match"], "statusCode");
        assert_eq!(
            i["request"]["matchingRules"]["header"]["Accept"]["matchers"][0]["match"],
            "type"
        );
    }

    #[test]
    fn bad_hints_are_errors_naming_the_location() {
        let mut e = get("/x", json!({}));
        e.hints.matching_rules = vec![("$.a".into(), json!("fuzzy"))];
        let err = pact_from_exchanges("web", "api", &[e.clone()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`$.a`") && err.contains("unknown matcher `fuzzy`"),
            "{err}"
        );
        e.hints.matching_rules = vec![("$.a".into(), json!({"match": "regex", "regex": "("}))];
        assert!(pact_from_exchanges("web", "api", &[e.clone()]).is_err());
        e.hints.matching_rules = vec![("response.query.a".into(), json!("type"))];
        let err = pact_from_exchanges("web", "api", &[e])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a location of the response"), "{err}");
        assert!(Hints::states_from_json(&[json!(3)]).is_err());
    }

    #[test]
    fn secrets_and_noise_headers_never_reach_the_pact() {
        let mut e = get("/me", json!({"ok": true}));
        e.request.headers = vec![
            ("authorization".into(), "Bearer s3cr3t-token".into()),
            ("cookie".into(), "session=s3cr3t-cookie".into()),
            ("x-api-key".into(), "s3cr3t-key".into()),
            ("accept".into(), "application/json".into()),
        ];
        e.response
            .headers
            .push(("set-cookie".into(), "session=s3cr3t-new".into()));
        let pact = pact_from_exchanges("web", "api", &[e]).unwrap();
        let text = pact.to_json_string();
        assert!(!text.contains("s3cr3t"), "{text}");
        let json = pact.to_json();
        let request = &json["interactions"][0]["request"];
        assert_eq!(request["headers"]["Authorization"][0], "Bearer REDACTED");
        assert_eq!(request["headers"]["Accept"][0], "application/json");
        assert!(request["headers"].get("cookie").is_none());
        assert_eq!(
            request["matchingRules"]["header"]["Authorization"]["matchers"][0]["match"],
            "type"
        );
    }

    #[test]
    fn text_bodies_stay_text() {
        let mut e = get("/health", json!("OK"));
        e.response.headers = vec![("content-type".into(), "text/plain".into())];
        let pact = pact_from_exchanges("web", "api", &[e]).unwrap();
        let json = pact.to_json();
        assert_eq!(json["interactions"][0]["response"]["body"]["content"], "OK");
        assert_eq!(
            json["interactions"][0]["response"]["body"]["contentType"],
            "text/plain"
        );
    }

    #[test]
    fn generated_pacts_read_back() {
        let e = get("/x", json!({"id": 1, "items": [{"at": "2024-01-01"}]}));
        let pact = pact_from_exchanges("web", "api", &[e]).unwrap();
        let back = crate::parse_pact(&pact.to_json_string()).unwrap();
        assert_eq!(back.interactions.len(), 1);
        assert_eq!(
            back.to_json(),
            crate::parse_pact(&back.to_json_string()).unwrap().to_json()
        );
    }
}
