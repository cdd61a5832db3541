//! The matching engine: compares an actual request, response or message with the expected one
//! under the expected part's matching rules, and lists every mismatch with its location.
//!
//! Requests are compared "closed world" (unexpected object keys, attributes and query
//! parameters are mismatches); responses and messages "open world" (extra keys are fine), as the
//! Pact specification requires. Extra headers are always allowed.

mod collections;
mod context;
mod fields;
mod json;
mod mismatch;
mod values;
mod xml;

use serde_json::Value;

pub use mismatch::{Mismatch, MismatchKind};

use crate::body::{Body, ContentType};
use crate::model::{HttpRequest, HttpResponse, MessageContents};
use crate::read::parse_query_string;
use crate::rules::{MatchingRule, RuleCategory, RuleList};
use context::Ctx;
use values::{apply_str, combine, content_type_check, quote, shorten};

/// Compares an actual request with the expected one.
pub fn match_request(expected: &HttpRequest, actual: &HttpRequest) -> Vec<Mismatch> {
    let rules = &expected.matching_rules;
    let mut out = fields::compare_method(&expected.method, &actual.method);
    out.extend(fields::compare_path(
        &expected.path,
        &actual.path,
        rules.category("path").and_then(RuleCategory::single),
    ));
    out.extend(fields::compare_query(
        &expected.query,
        &actual.query,
        &Ctx::new(rules.category("query"), false),
    ));
    out.extend(fields::compare_headers(
        &expected.headers,
        &actual.headers,
        &Ctx::for_headers(rules.category("header")),
    ));
    out.extend(compare_body(
        &expected.body,
        expected.content_type(),
        &actual.body,
        actual.content_type(),
        &Ctx::new(rules.category("body"), false),
    ));
    out
}

/// Compares an actual response with the expected one.
pub fn match_response(expected: &HttpResponse, actual: &HttpResponse) -> Vec<Mismatch> {
    let rules = &expected.matching_rules;
    let mut out = fields::compare_status(
        expected.status,
        actual.status,
        rules.category("status").and_then(RuleCategory::single),
    );
    out.extend(fields::compare_headers(
        &expected.headers,
        &actual.headers,
        &Ctx::for_headers(rules.category("header")),
    ));
    out.extend(compare_body(
        &expected.body,
        expected.content_type(),
        &actual.body,
        actual.content_type(),
        &Ctx::new(rules.category("body"), true),
    ));
    out
}

/// Compares actual message contents and metadata with the expected ones.
pub fn match_message(expected: &MessageContents, actual: &MessageContents) -> Vec<Mismatch> {
    let rules = &expected.matching_rules;
    // V4 asynchronous messages use `content`; synchronous messages and V3 use `body`.
    let content_rules = rules.category("content").or_else(|| rules.category("body"));
    let mut out = compare_body(
        &expected.contents,
        expected.content_type(),
        &actual.contents,
        actual.content_type(),
        &Ctx::new(content_rules, true),
    );
    out.extend(fields::compare_metadata(
        &expected.metadata,
        &actual.metadata,
        &Ctx::new(rules.category("metadata"), true),
    ));
    out
}

fn root() -> Vec<String> {
    vec!["$".to_string()]
}

fn describe_body(body: &Body) -> String {
    match body.bytes() {
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => shorten(format!("'{text}'")),
            Err(_) => format!("{} bytes", bytes.len()),
        },
        None => "nothing".to_string(),
    }
}

fn compare_body(
    expected: &Body,
    expected_type: Option<ContentType>,
    actual: &Body,
    actual_type: Option<ContentType>,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let body = |m: String| vec![Mismatch::body(&root(), m)];
    match (expected, actual) {
        (Body::Missing, _) => Vec::new(),
        (Body::Null | Body::Empty, Body::Present { .. }) => body(format!(
            "expected an empty body, got {}",
            describe_body(actual)
        )),
        (Body::Null | Body::Empty, _) => Vec::new(),
        (Body::Present { .. }, Body::Missing) => body(format!(
            "expected a body ({}), but it was missing",
            describe_body(expected)
        )),
        (Body::Present { .. }, Body::Empty | Body::Null) => body(format!(
            "expected a body ({}), but it was empty",
            describe_body(expected)
        )),
        (Body::Present { content: e, .. }, Body::Present { content: a, .. }) => {
            if let (Some(et), Some(at)) = (&expected_type, &actual_type)
                && !et.same_base(at)
            {
                return vec![Mismatch::new(
                    MismatchKind::BodyType,
                    "$",
                    format!(
                        "expected a body of type '{}', got '{}'",
                        et.base(),
                        at.base()
                    ),
                )];
            }
            compare_content(e, a, expected_type.as_ref(), ctx)
        }
    }
}

fn compare_content(
    expected: &[u8],
    actual: &[u8],
    content_type: Option<&ContentType>,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let root = root();
    let (e_text, a_text) = (
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(actual),
    );
    match content_type {
        Some(ct) if ct.is_json() => {
            let e = serde_json::from_slice::<Value>(expected);
            let a = serde_json::from_slice::<Value>(actual);
            match (e, a) {
                (Ok(e), Ok(a)) => json::compare_json(&root, &e, &a, ctx),
                (e, a) => {
                    let mut out = Vec::new();
                    if let Err(err) = e {
                        out.push(Mismatch::body(
                            &root,
                            format!("the expected body is not valid JSON: {err}"),
                        ));
                    }
                    if let Err(err) = a {
                        out.push(Mismatch::body(
                            &root,
                            format!("the actual body is not valid JSON: {err}"),
                        ));
                    }
                    out
                }
            }
        }
        Some(ct) if ct.is_xml() => xml::compare_xml(&e_text, &a_text, ctx),
        Some(ct) if ct.is_form_urlencoded() => compare_form(&e_text, &a_text, ctx),
        _ => {
            let root_rules = ctx.best(&root);
            if let Some((list, _)) = root_rules
                && list
                    .rules
                    .iter()
                    .any(|r| matches!(r, MatchingRule::ContentType(_)))
            {
                return binary_content_type(list, actual);
            }
            match root_rules {
                Some((list, cascaded)) => {
                    combine(list, |rule| apply_str(rule, &e_text, &a_text, cascaded))
                        .err()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| Mismatch::body(&root, m))
                        .collect()
                }
                None if expected == actual => Vec::new(),
                None => vec![Mismatch::body(
                    &root,
                    format!("expected body {}, got {}", quote(&e_text), quote(&a_text)),
                )],
            }
        }
    }
}

fn binary_content_type(list: &RuleList, actual: &[u8]) -> Vec<Mismatch> {
    combine(list, |rule| match rule {
        MatchingRule::ContentType(ct) => content_type_check(actual, ct),
        _ => Ok(()),
    })
    .err()
    .unwrap_or_default()
    .into_iter()
    .map(|m| Mismatch::body(&root(), m))
    .collect()
}

/// `application/x-www-form-urlencoded` bodies compare like query strings, with body rules at
/// `$.name`.
fn compare_form(expected: &str, actual: &str, ctx: &Ctx<'_>) -> Vec<Mismatch> {
    let e = parse_query_string(expected);
    let a = parse_query_string(actual);
    let to_json = |m: &crate::model::Multimap| -> Value {
        Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                .collect(),
        )
    };
    json::compare_json(&root(), &to_json(&e), &to_json(&a), ctx)
}
