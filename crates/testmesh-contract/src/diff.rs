//! Breaking-change detection between two versions of a pact.
//!
//! The question answered is oasdiff's: *would a consumer written against OLD still work if the
//! provider behaved as NEW says?* Interactions are paired by description (then by method and
//! path). Requests and responses are read in opposite directions: a request that demands more
//! (a new field, header or parameter, a stricter matcher, fewer allowed values) breaks existing
//! consumers; a response that promises less (a removed field, a changed type or status, a looser
//! matcher, more possible values) breaks them too. The reverse changes are information.
//!
//! | rule | severity |
//! |---|---|
//! | `interaction_removed` | breaking |
//! | `interaction_added` | info |
//! | `request_method_changed`, `request_path_changed` | breaking |
//! | `request_field_added` (new required request field), `request_header_added`, `request_query_added` | breaking |
//! | `request_field_removed`, `request_header_removed`, `request_query_removed` | info |
//! | `request_matcher_tightened` (request became stricter), `request_values_narrowed` | breaking |
//! | `request_matcher_loosened` | info |
//! | `request_value_changed` (exact value, no matcher) | warning |
//! | `request_body_added` | breaking |
//! | `status_changed` | breaking |
//! | `response_header_removed` | breaking |
//! | `response_header_value_changed` | warning |
//! | `response_body_removed`, `content_type_changed` | breaking |
//! | `response_field_removed` | breaking |
//! | `response_field_added` | info |
//! | `type_changed` (request or response) | breaking |
//! | `response_matcher_loosened`, `response_values_widened` | warning |
//! | `response_matcher_tightened` | info |
//! | `response_value_changed` (exact value, no matcher) | warning |
//! | `array_size_changed` | breaking for a request that needs more/fewer items, warning for a response |
//! | `provider_state_changed` | info |
//!
//! Arrays are compared on their first element, as pacts describe every element by the first.
//! Message contents read like response bodies, message metadata like response headers.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::body::Body;
use crate::model::{HttpRequest, HttpResponse, Interaction, InteractionKind, Multimap, Pact};
use crate::path_expr::PathExpr;
use crate::rules::{MatchingRule, RuleCategory, RuleList};

/// How much a change matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Existing consumers will break.
    Breaking,
    /// Existing consumers may break, depending on what they do with the value.
    Warning,
    /// Harmless.
    Info,
}

impl Severity {
    /// `breaking`, `warning`, `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Breaking => "breaking",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The rule that found it (`response_field_removed`).
    pub rule: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The interaction's description.
    pub interaction: String,
    /// Which part: `interaction`, `request.method`, `request.path`, `request.query`,
    /// `request.headers`, `request.body`, `response.status`, `response.headers`, `response.body`,
    /// `message.contents`, `message.metadata`, `openapi`.
    pub part: &'static str,
    /// Where in that part: a body path (`$.items[*].price`), a header or parameter name, or empty.
    pub path: String,
    /// What changed, in words.
    pub message: String,
}

impl Change {
    /// A change; used by other comparisons (the OpenAPI check) too.
    pub fn new(
        rule: &'static str,
        severity: Severity,
        interaction: &str,
        part: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Change {
            rule,
            severity,
            interaction: interaction.to_string(),
            part,
            path: path.into(),
            message: message.into(),
        }
    }

    /// `part path` as shown to people (`response.body $.id`).
    pub fn location(&self) -> String {
        if self.path.is_empty() {
            self.part.to_string()
        } else {
            format!("{} {}", self.part, self.path)
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}: {}: {}",
            self.severity,
            self.interaction,
            self.location(),
            self.message
        )
    }
}

/// Counts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DiffSummary {
    /// Breaking changes.
    pub breaking: usize,
    /// Warnings.
    pub warning: usize,
    /// Information.
    pub info: usize,
}

/// The changes between two pacts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// The consumer.
    pub consumer: String,
    /// The provider.
    pub provider: String,
    /// Every change, in interaction order, most severe first within an interaction.
    pub changes: Vec<Change>,
    /// Counts.
    pub summary: DiffSummary,
}

impl DiffReport {
    /// A report over `changes`, with the counts.
    pub fn new(consumer: &str, provider: &str, changes: Vec<Change>) -> Self {
        let count = |s| changes.iter().filter(|c| c.severity == s).count();
        DiffReport {
            consumer: consumer.to_string(),
            provider: provider.to_string(),
            summary: DiffSummary {
                breaking: count(Severity::Breaking),
                warning: count(Severity::Warning),
                info: count(Severity::Info),
            },
            changes,
        }
    }

    /// Whether any change is breaking.
    pub fn has_breaking(&self) -> bool {
        self.summary.breaking > 0
    }
}

/// Two pacts between different parties cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// Consumers or providers differ.
    #[error(
        "the pacts are between different parties: {old_consumer} → {old_provider} and {new_consumer} → {new_provider}"
    )]
    DifferentParties {
        /// Old consumer.
        old_consumer: String,
        /// Old provider.
        old_provider: String,
        /// New consumer.
        new_consumer: String,
        /// New provider.
        new_provider: String,
    },
}

/// Compares two versions of a pact between the same consumer and provider.
pub fn diff_pacts(old: &Pact, new: &Pact) -> Result<DiffReport, DiffError> {
    if old.consumer.name != new.consumer.name || old.provider.name != new.provider.name {
        return Err(DiffError::DifferentParties {
            old_consumer: old.consumer.name.clone(),
            old_provider: old.provider.name.clone(),
            new_consumer: new.consumer.name.clone(),
            new_provider: new.provider.name.clone(),
        });
    }
    let mut changes = Vec::new();
    let mut used = vec![false; new.interactions.len()];
    for old_i in &old.interactions {
        let found = new
            .interactions
            .iter()
            .enumerate()
            .find(|(i, n)| !used[*i] && n.description == old_i.description)
            .or_else(|| {
                new.interactions
                    .iter()
                    .enumerate()
                    .find(|(i, n)| !used[*i] && same_endpoint(old_i, n))
            });
        match found {
            None => changes.push(Change::new(
                "interaction_removed",
                Severity::Breaking,
                &old_i.description,
                "interaction",
                "",
                format!("{} was removed", describe(old_i)),
            )),
            Some((index, new_i)) => {
                used[index] = true;
                let mut found = compare_interaction(old_i, new_i);
                found.sort_by_key(|c| c.severity);
                changes.extend(found);
            }
        }
    }
    for (index, new_i) in new.interactions.iter().enumerate() {
        if !used[index] {
            changes.push(Change::new(
                "interaction_added",
                Severity::Info,
                &new_i.description,
                "interaction",
                "",
                format!("{} was added", describe(new_i)),
            ));
        }
    }
    Ok(DiffReport::new(
        &new.consumer.name,
        &new.provider.name,
        changes,
    ))
}

fn describe(i: &Interaction) -> String {
    match &i.kind {
        InteractionKind::Http { request, .. } => format!("{} {}", request.method, request.path),
        InteractionKind::AsyncMessage(_) => "the message".to_string(),
        InteractionKind::SyncMessages { .. } => "the synchronous message".to_string(),
    }
}

fn same_endpoint(a: &Interaction, b: &Interaction) -> bool {
    match (&a.kind, &b.kind) {
        (InteractionKind::Http { request: ra, .. }, InteractionKind::Http { request: rb, .. }) => {
            ra.method.eq_ignore_ascii_case(&rb.method) && ra.path == rb.path
        }
        _ => false,
    }
}

/// Which way a part travels, which decides whether "more" or "less" breaks consumers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

struct Cx<'a> {
    interaction: &'a str,
    part: &'static str,
    side: Side,
    old_rules: Option<&'a RuleCategory>,
    new_rules: Option<&'a RuleCategory>,
    out: Vec<Change>,
}

impl Cx<'_> {
    fn push(
        &mut self,
        rule: &'static str,
        severity: Severity,
        path: &str,
        message: impl Into<String>,
    ) {
        self.out.push(Change::new(
            rule,
            severity,
            self.interaction,
            self.part,
            path,
            message,
        ));
    }

    fn side_rule(&self, request: &'static str, response: &'static str) -> &'static str {
        match self.side {
            Side::Request => request,
            Side::Response => response,
        }
    }
}

fn compare_interaction(old: &Interaction, new: &Interaction) -> Vec<Change> {
    let name = old.description.as_str();
    let mut out = Vec::new();
    let states = |i: &Interaction| {
        i.provider_states
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    if states(old) != states(new) {
        out.push(Change::new(
            "provider_state_changed",
            Severity::Info,
            name,
            "interaction",
            "",
            format!(
                "provider states changed from [{}] to [{}]",
                states(old).join(", "),
                states(new).join(", ")
            ),
        ));
    }
    match (&old.kind, &new.kind) {
        (
            InteractionKind::Http {
                request: oq,
                response: os,
            },
            InteractionKind::Http {
                request: nq,
                response: ns,
            },
        ) => {
            compare_request(name, oq, nq, &mut out);
            compare_response(name, os, ns, &mut out);
        }
        (InteractionKind::AsyncMessage(om), InteractionKind::AsyncMessage(nm)) => {
            let content = |m: &crate::model::MessageContents| {
                m.matching_rules
                    .category("content")
                    .or_else(|| m.matching_rules.category("body"))
                    .cloned()
            };
            let (oc, nc) = (content(om), content(nm));
            let mut cx = Cx {
                interaction: name,
                part: "message.contents",
                side: Side::Response,
                old_rules: oc.as_ref(),
                new_rules: nc.as_ref(),
                out: Vec::new(),
            };
            compare_bodies(&om.contents, &nm.contents, &mut cx);
            out.extend(cx.out);
            for key in om.metadata.keys() {
                if !nm.metadata.contains_key(key) {
                    out.push(Change::new(
                        "response_header_removed",
                        Severity::Breaking,
                        name,
                        "message.metadata",
                        key.clone(),
                        "metadata entry removed",
                    ));
                }
            }
        }
        (o, n) if o.type_name() != n.type_name() => out.push(Change::new(
            "interaction_type_changed",
            Severity::Breaking,
            name,
            "interaction",
            "",
            format!("type changed from {} to {}", o.type_name(), n.type_name()),
        )),
        _ => {}
    }
    out
}

fn compare_request(name: &str, old: &HttpRequest, new: &HttpRequest, out: &mut Vec<Change>) {
    if !old.method.eq_ignore_ascii_case(&new.method) {
        out.push(Change::new(
            "request_method_changed",
            Severity::Breaking,
            name,
            "request.method",
            "",
            format!("method changed from {} to {}", old.method, new.method),
        ));
    }
    if old.path != new.path {
        let loosened = new
            .matching_rules
            .category("path")
            .and_then(RuleCategory::single)
            .is_some_and(|list| accepts(list, &old.path));
        if !loosened {
            out.push(Change::new(
                "request_path_changed",
                Severity::Breaking,
                name,
                "request.path",
                "",
                format!("path changed from {} to {}", old.path, new.path),
            ));
        }
    }
    named(
        name,
        "request.query",
        &old.query,
        &new.query,
        Side::Request,
        out,
        ("request_query_added", "request_query_removed"),
    );
    named(
        name,
        "request.headers",
        &old.headers,
        &new.headers,
        Side::Request,
        out,
        ("request_header_added", "request_header_removed"),
    );
    let mut cx = Cx {
        interaction: name,
        part: "request.body",
        side: Side::Request,
        old_rules: old.matching_rules.category("body"),
        new_rules: new.matching_rules.category("body"),
        out: Vec::new(),
    };
    compare_bodies(&old.body, &new.body, &mut cx);
    out.extend(cx.out);
}

fn compare_response(name: &str, old: &HttpResponse, new: &HttpResponse, out: &mut Vec<Change>) {
    if old.status != new.status {
        let accepted = new
            .matching_rules
            .category("status")
            .and_then(RuleCategory::single)
            .is_some_and(|list| {
                list.rules.iter().any(|r| match r {
                    MatchingRule::StatusCode(s) => s.contains(old.status),
                    _ => false,
                })
            });
        out.push(Change::new(
            "status_changed",
            if accepted {
                Severity::Info
            } else {
                Severity::Breaking
            },
            name,
            "response.status",
            "",
            format!("status changed from {} to {}", old.status, new.status),
        ));
    }
    named(
        name,
        "response.headers",
        &old.headers,
        &new.headers,
        Side::Response,
        out,
        ("response_header_added", "response_header_removed"),
    );
    let mut cx = Cx {
        interaction: name,
        part: "response.body",
        side: Side::Response,
        old_rules: old.matching_rules.category("body"),
        new_rules: new.matching_rules.category("body"),
        out: Vec::new(),
    };
    compare_bodies(&old.body, &new.body, &mut cx);
    out.extend(cx.out);
}

/// Headers and query parameters.
fn named(
    name: &str,
    part: &'static str,
    old: &Multimap,
    new: &Multimap,
    side: Side,
    out: &mut Vec<Change>,
    (added_rule, removed_rule): (&'static str, &'static str),
) {
    let headers = part.ends_with("headers");
    let find = |map: &Multimap, key: &str| -> Option<Vec<String>> {
        map.iter()
            .find(|(k, _)| {
                if headers {
                    k.eq_ignore_ascii_case(key)
                } else {
                    *k == key
                }
            })
            .map(|(_, v)| v.clone())
    };
    let what = if headers { "header" } else { "query parameter" };
    for (key, old_values) in old {
        match find(new, key) {
            None => {
                let severity = match side {
                    Side::Request => Severity::Info,
                    Side::Response => Severity::Breaking,
                };
                let message = match side {
                    Side::Request => format!("{what} is no longer sent"),
                    Side::Response => format!("{what} is no longer returned"),
                };
                out.push(Change::new(
                    removed_rule,
                    severity,
                    name,
                    part,
                    key.clone(),
                    message,
                ));
            }
            Some(new_values) if new_values != *old_values => {
                // Content-Type parameters and casing differences are not worth a warning.
                if headers
                    && key.eq_ignore_ascii_case("content-type")
                    && old_values.join(",").to_ascii_lowercase().split(';').next()
                        == new_values.join(",").to_ascii_lowercase().split(';').next()
                {
                    continue;
                }
                let rule = match side {
                    Side::Request => "request_value_changed",
                    Side::Response => "response_header_value_changed",
                };
                out.push(Change::new(
                    rule,
                    Severity::Warning,
                    name,
                    part,
                    key.clone(),
                    format!(
                        "value changed from '{}' to '{}'",
                        old_values.join(", "),
                        new_values.join(", ")
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    for key in new.keys() {
        if find(old, key).is_none() {
            let (severity, message) = match side {
                Side::Request => (
                    Severity::Breaking,
                    format!("new required {what}: existing consumers do not send it"),
                ),
                Side::Response => (Severity::Info, format!("new {what} returned")),
            };
            out.push(Change::new(
                added_rule,
                severity,
                name,
                part,
                key.clone(),
                message,
            ));
        }
    }
}

fn compare_bodies(old: &Body, new: &Body, cx: &mut Cx<'_>) {
    let old_ct = old
        .declared_content_type()
        .cloned()
        .or_else(|| old.bytes().and_then(crate::body::detect_content_type));
    let new_ct = new
        .declared_content_type()
        .cloned()
        .or_else(|| new.bytes().and_then(crate::body::detect_content_type));
    match (old.bytes(), new.bytes()) {
        (None, None) => {}
        (Some(_), None) => match cx.side {
            Side::Response => cx.push(
                "response_body_removed",
                Severity::Breaking,
                "",
                "the body is no longer returned",
            ),
            Side::Request => cx.push(
                "request_field_removed",
                Severity::Info,
                "",
                "the request body is no longer sent",
            ),
        },
        (None, Some(_)) => match cx.side {
            Side::Response => cx.push(
                "response_field_added",
                Severity::Info,
                "",
                "a body is now returned",
            ),
            Side::Request => {
                if matches!(old, Body::Missing) {
                    // A missing expected body accepted anything; nothing new is demanded of
                    // consumers that sent one already, but those that sent none now fail.
                    cx.push(
                        "request_body_added",
                        Severity::Breaking,
                        "",
                        "a request body is now required",
                    );
                } else {
                    cx.push(
                        "request_body_added",
                        Severity::Breaking,
                        "",
                        "a request body is now required (it was empty)",
                    );
                }
            }
        },
        (Some(o), Some(n)) => {
            if let (Some(oc), Some(nc)) = (&old_ct, &new_ct)
                && !oc.same_base(nc)
            {
                cx.push(
                    "content_type_changed",
                    Severity::Breaking,
                    "",
                    format!("content type changed from {} to {}", oc.base(), nc.base()),
                );
                return;
            }
            let json = old_ct.as_ref().is_some_and(|c| c.is_json());
            match (
                json.then(|| serde_json::from_slice::<Value>(o).ok())
                    .flatten(),
                json.then(|| serde_json::from_slice::<Value>(n).ok())
                    .flatten(),
            ) {
                (Some(ov), Some(nv)) => {
                    let mut location = vec!["$".to_string()];
                    compare_json(&ov, &nv, &mut location, "$".to_string(), cx);
                }
                _ if o != n => {
                    let rule = match cx.side {
                        Side::Request => "request_value_changed",
                        Side::Response => "response_value_changed",
                    };
                    cx.push(rule, Severity::Warning, "$", "the body changed");
                }
                _ => {}
            }
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The most specific rules that apply at `location` (the reference's weighting).
fn rules_at<'a>(category: Option<&'a RuleCategory>, location: &[String]) -> Option<&'a RuleList> {
    category?
        .entries
        .iter()
        .map(|(expr, list): &(PathExpr, RuleList)| (expr.weight(location), list))
        .filter(|((w, _), _)| *w > 0)
        .max_by_key(|((w, len), _)| (*len, *w))
        .map(|(_, list)| list)
}

fn compare_json(
    old: &Value,
    new: &Value,
    location: &mut Vec<String>,
    shown: String,
    cx: &mut Cx<'_>,
) {
    let old_rules = rules_at(cx.old_rules, location);
    let new_rules = rules_at(cx.new_rules, location);
    if json_type(old) != json_type(new) {
        // A null example under a type matcher still says "this type".
        cx.push(
            "type_changed",
            Severity::Breaking,
            &shown,
            format!("type changed from {} to {}", json_type(old), json_type(new)),
        );
        return;
    }
    compare_rules(old, new, old_rules, new_rules, &shown, cx);
    match (old, new) {
        (Value::Object(om), Value::Object(nm)) => {
            // `values`/`eachValue` rules make keys examples, not requirements.
            let keys_are_examples = |rules: Option<&RuleList>| {
                rules.is_some_and(|l| {
                    l.rules.iter().any(|r| {
                        matches!(
                            r,
                            MatchingRule::Values
                                | MatchingRule::EachValue(_)
                                | MatchingRule::EachKey(_)
                        )
                    })
                })
            };
            let dynamic = keys_are_examples(old_rules) || keys_are_examples(new_rules);
            for (key, ov) in om {
                let child = child_shown(&shown, key);
                match nm.get(key) {
                    Some(nv) => {
                        location.push(key.clone());
                        compare_json(ov, nv, location, child, cx);
                        location.pop();
                    }
                    None if dynamic => {}
                    None => match cx.side {
                        Side::Response => cx.push(
                            "response_field_removed",
                            Severity::Breaking,
                            &child,
                            format!("field removed (was {})", json_type(ov)),
                        ),
                        Side::Request => cx.push(
                            "request_field_removed",
                            Severity::Info,
                            &child,
                            "field is no longer sent",
                        ),
                    },
                }
            }
            for (key, nv) in nm {
                if om.contains_key(key) || dynamic {
                    continue;
                }
                let child = child_shown(&shown, key);
                match cx.side {
                    Side::Request => cx.push(
                        "request_field_added",
                        Severity::Breaking,
                        &child,
                        format!(
                            "new required request field ({}): existing consumers do not send it",
                            json_type(nv)
                        ),
                    ),
                    Side::Response => cx.push(
                        "response_field_added",
                        Severity::Info,
                        &child,
                        format!("new field ({})", json_type(nv)),
                    ),
                }
            }
        }
        (Value::Array(oa), Value::Array(na)) => {
            if let (Some(o0), Some(n0)) = (oa.first(), na.first()) {
                location.push("0".to_string());
                compare_json(o0, n0, location, format!("{shown}[*]"), cx);
                location.pop();
            }
        }
        _ => {}
    }
}

fn child_shown(parent: &str, key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        format!("{parent}.{key}")
    } else {
        format!("{parent}['{key}']")
    }
}

/// How strict a rule list is: 4 exact value, 3 a format (regex, integer, date…), 2 any number,
/// 1 any value of the type.
fn strictness(rules: Option<&RuleList>) -> u8 {
    let Some(list) = rules else { return 4 };
    let level = |r: &MatchingRule| match r {
        MatchingRule::Equality => 4,
        MatchingRule::Regex(_)
        | MatchingRule::Include(_)
        | MatchingRule::Integer
        | MatchingRule::Decimal
        | MatchingRule::Timestamp(_)
        | MatchingRule::Date(_)
        | MatchingRule::Time(_)
        | MatchingRule::Null
        | MatchingRule::Boolean
        | MatchingRule::ContentType(_)
        | MatchingRule::Semver
        | MatchingRule::StatusCode(_) => 3,
        MatchingRule::Number => 2,
        _ => 1,
    };
    let levels = list.rules.iter().map(level);
    match list.combine {
        crate::rules::Combine::And => levels.max().unwrap_or(4),
        crate::rules::Combine::Or => levels.min().unwrap_or(4),
    }
}

fn describe_rules(rules: Option<&RuleList>) -> String {
    match rules {
        None => "an exact value".to_string(),
        Some(list) => list
            .rules
            .iter()
            .map(|r| match r {
                MatchingRule::Regex(re) => format!("regex '{}'", re.as_str()),
                MatchingRule::MinType(n) => format!("type (min {n})"),
                MatchingRule::MaxType(n) => format!("type (max {n})"),
                MatchingRule::MinMaxType(a, b) => format!("type (min {a}, max {b})"),
                MatchingRule::Date(f) | MatchingRule::Time(f) | MatchingRule::Timestamp(f) => {
                    format!("{} '{}'", r.name(), f.pattern())
                }
                other => other.name().to_string(),
            })
            .collect::<Vec<_>>()
            .join(" and "),
    }
}

fn regex_of(rules: Option<&RuleList>) -> Option<&crate::rules::PactRegex> {
    rules?.rules.iter().find_map(|r| match r {
        MatchingRule::Regex(re) => Some(re),
        _ => None,
    })
}

fn size_bounds(rules: Option<&RuleList>) -> (Option<usize>, Option<usize>) {
    let mut bounds = (None, None);
    for rule in rules.map(|l| l.rules.as_slice()).unwrap_or_default() {
        match rule {
            MatchingRule::MinType(n) => bounds.0 = Some(*n),
            MatchingRule::MaxType(n) => bounds.1 = Some(*n),
            MatchingRule::MinMaxType(a, b) => bounds = (Some(*a), Some(*b)),
            _ => {}
        }
    }
    bounds
}

/// Literal alternatives of an enum-like regex (`^(a|b|c)$`, `red|green`); `None` otherwise.
fn enum_values(regex: &str) -> Option<Vec<String>> {
    let inner = regex.trim_start_matches('^').trim_end_matches('$');
    let inner = inner
        .strip_prefix("(?:")
        .or_else(|| inner.strip_prefix('('))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(inner);
    let values: Vec<String> = inner.split('|').map(str::to_string).collect();
    (values.len() > 1
        && values
            .iter()
            .all(|v| !v.is_empty() && v.chars().all(|c| c.is_alphanumeric() || "_- .".contains(c))))
    .then_some(values)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn accepts(list: &RuleList, value: &str) -> bool {
    list.rules.iter().all(|r| match r {
        MatchingRule::Regex(re) => re.is_match(value),
        _ => true,
    })
}

fn compare_rules(
    old: &Value,
    new: &Value,
    old_rules: Option<&RuleList>,
    new_rules: Option<&RuleList>,
    shown: &str,
    cx: &mut Cx<'_>,
) {
    let containers = matches!(old, Value::Array(_) | Value::Object(_));
    // Array sizes.
    if let (Value::Array(_), Value::Array(_)) = (old, new) {
        let (omin, omax) = size_bounds(old_rules);
        let (nmin, nmax) = size_bounds(new_rules);
        let stricter = nmin.unwrap_or(0) > omin.unwrap_or(0)
            || nmax.unwrap_or(usize::MAX) < omax.unwrap_or(usize::MAX);
        let looser = nmin.unwrap_or(0) < omin.unwrap_or(0)
            || nmax.unwrap_or(usize::MAX) > omax.unwrap_or(usize::MAX);
        let severity = match (cx.side, stricter, looser) {
            (Side::Request, true, _) => Some(Severity::Breaking),
            (Side::Response, _, true) => Some(Severity::Warning),
            (_, false, false) => None,
            _ => Some(Severity::Info),
        };
        if let Some(severity) = severity {
            cx.push(
                "array_size_changed",
                severity,
                shown,
                format!(
                    "array size rule changed from {} to {}",
                    describe_rules(old_rules),
                    describe_rules(new_rules)
                ),
            );
        }
        return;
    }
    if containers {
        return;
    }
    let (so, sn) = (strictness(old_rules), strictness(new_rules));
    let (old_text, new_text) = (text_of(old), text_of(new));
    if so == 4 && sn == 4 {
        if old != new {
            cx.push(
                cx.side_rule("request_value_changed", "response_value_changed"),
                Severity::Warning,
                shown,
                format!("exact value changed from {old} to {new}"),
            );
        }
        return;
    }
    if sn > so {
        let (rule, severity, why) = match cx.side {
            Side::Request => (
                "request_matcher_tightened",
                Severity::Breaking,
                "the request became stricter",
            ),
            Side::Response => (
                "response_matcher_tightened",
                Severity::Info,
                "the response promises more",
            ),
        };
        cx.push(
            rule,
            severity,
            shown,
            format!(
                "{why}: matched by {}, now by {}",
                describe_rules(old_rules),
                describe_rules(new_rules)
            ),
        );
        return;
    }
    if sn < so {
        let (rule, severity, why) = match cx.side {
            Side::Request => (
                "request_matcher_loosened",
                Severity::Info,
                "the request accepts more",
            ),
            Side::Response => (
                "response_matcher_loosened",
                Severity::Warning,
                "the response may now hold values existing consumers did not expect",
            ),
        };
        cx.push(
            rule,
            severity,
            shown,
            format!(
                "{why}: matched by {}, now by {}",
                describe_rules(old_rules),
                describe_rules(new_rules)
            ),
        );
        return;
    }
    // Same strictness: compare regexes (and enum-like alternatives) and matcher kinds.
    match (regex_of(old_rules), regex_of(new_rules)) {
        (Some(or), Some(nr)) if or.as_str() != nr.as_str() => {
            match (enum_values(or.as_str()), enum_values(nr.as_str())) {
                (Some(ov), Some(nv)) => {
                    let removed: Vec<_> = ov.iter().filter(|v| !nv.contains(v)).cloned().collect();
                    let added: Vec<_> = nv.iter().filter(|v| !ov.contains(v)).cloned().collect();
                    if cx.side == Side::Request && !removed.is_empty() {
                        cx.push(
                            "request_values_narrowed",
                            Severity::Breaking,
                            shown,
                            format!(
                                "allowed values narrowed: {} no longer accepted",
                                removed.join(", ")
                            ),
                        );
                    } else if cx.side == Side::Response && !added.is_empty() {
                        cx.push(
                            "response_values_widened",
                            Severity::Warning,
                            shown,
                            format!("new possible values: {}", added.join(", ")),
                        );
                    } else {
                        cx.push(
                            cx.side_rule("request_matcher_loosened", "response_matcher_tightened"),
                            Severity::Info,
                            shown,
                            format!(
                                "allowed values changed from {} to {}",
                                ov.join("|"),
                                nv.join("|")
                            ),
                        );
                    }
                }
                _ => {
                    // Not comparable as languages; the examples tell whether one side still fits.
                    let (rule, severity, message) = match cx.side {
                        Side::Request if !nr.is_match(&old_text) => (
                            "request_values_narrowed",
                            Severity::Breaking,
                            format!(
                                "regex narrowed from '{}' to '{}': the old example '{old_text}' no longer matches",
                                or.as_str(),
                                nr.as_str()
                            ),
                        ),
                        Side::Response if !or.is_match(&new_text) => (
                            "response_values_widened",
                            Severity::Warning,
                            format!(
                                "regex changed from '{}' to '{}': the new example '{new_text}' does not match the old one",
                                or.as_str(),
                                nr.as_str()
                            ),
                        ),
                        _ => (
                            cx.side_rule("request_matcher_loosened", "response_matcher_tightened"),
                            Severity::Info,
                            format!("regex changed from '{}' to '{}'", or.as_str(), nr.as_str()),
                        ),
                    };
                    cx.push(rule, severity, shown, message);
                }
            }
        }
        _ => {
            let kinds = |r: Option<&RuleList>| {
                let mut names: Vec<&str> = r
                    .map(|l| l.rules.iter().map(MatchingRule::name).collect())
                    .unwrap_or_default();
                names.sort_unstable();
                names
            };
            if kinds(old_rules) != kinds(new_rules) {
                cx.push(
                    "type_changed",
                    Severity::Breaking,
                    shown,
                    format!(
                        "matched by {}, now by {}",
                        describe_rules(old_rules),
                        describe_rules(new_rules)
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_enum_like_regexes() {
        assert_eq!(
            enum_values("^(red|green|blue)$"),
            Some(vec!["red".into(), "green".into(), "blue".into()])
        );
        assert_eq!(enum_values("a|b"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(enum_values(r"\d+"), None);
        assert_eq!(enum_values("(a|b*)"), None);
    }
}
