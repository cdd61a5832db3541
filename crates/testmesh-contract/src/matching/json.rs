//! Comparing JSON bodies: objects, arrays and values under matching rules.

use serde_json::{Map, Value};

use super::collections::compare_lists_with_rules;
use super::context::Ctx;
use super::mismatch::Mismatch;
use super::values::{apply_json, apply_map, combine, described, show, type_name};
use crate::path_expr::{PathExpr, PathToken};
use crate::rules::{Combine, MatchingRule, RuleCategory, RuleList};

fn child(path: &[String], key: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(key.to_string());
    p
}

/// Compares an actual JSON value with the expected one at `path`.
pub(crate) fn compare_json(
    path: &[String],
    expected: &Value,
    actual: &Value,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => compare_maps(path, e, a, ctx),
        (Value::Array(e), Value::Array(a)) => compare_lists(path, e, a, ctx),
        (Value::Object(_) | Value::Array(_), _) => vec![Mismatch::body(
            path,
            format!(
                "expected {}, got {}",
                type_name(expected),
                described(actual)
            ),
        )],
        _ => compare_values(path, expected, actual, ctx),
    }
}

fn compare_values(
    path: &[String],
    expected: &Value,
    actual: &Value,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let result = match ctx.best(path) {
        Some((list, cascaded)) => {
            combine(list, |rule| apply_json(rule, expected, actual, cascaded))
        }
        None => apply_json(&MatchingRule::Equality, expected, actual, false).map_err(|m| vec![m]),
    };
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|m| Mismatch::body(path, m))
        .collect()
}

fn compare_maps(
    path: &[String],
    expected: &Map<String, Value>,
    actual: &Map<String, Value>,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    if expected.is_empty() && !ctx.allow_unexpected_keys && !actual.is_empty() {
        return vec![Mismatch::body(
            path,
            format!(
                "expected an empty object, got {}",
                show(&Value::Object(actual.clone()))
            ),
        )];
    }
    let mut out = Vec::new();
    match ctx.best(path) {
        Some((list, cascaded)) => {
            for rule in &list.rules {
                out.extend(compare_maps_with_rule(
                    path, rule, cascaded, expected, actual, ctx,
                ));
            }
        }
        None => {
            out.extend(match_keys(path, expected, actual, ctx));
            for (key, value) in expected {
                if let Some(a) = actual.get(key) {
                    out.extend(compare_json(&child(path, key), value, a, ctx));
                }
            }
        }
    }
    out
}

fn compare_maps_with_rule(
    path: &[String],
    rule: &MatchingRule,
    cascaded: bool,
    expected: &Map<String, Value>,
    actual: &Map<String, Value>,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if !cascaded && rule.is_values_matcher() {
        // Values are compared against the example with the same key, or the first example.
        let values_ctx = match rule {
            MatchingRule::EachValue(each) => {
                let mut rules = RuleCategory::default();
                rules.add(
                    PathExpr::from_location(path, Some(PathToken::Star)),
                    RuleList {
                        rules: each.rules.clone(),
                        combine: Combine::And,
                    },
                );
                ctx.with_rules(rules)
            }
            _ => ctx.clone(),
        };
        for (key, value) in actual {
            let example = expected.get(key).or_else(|| expected.values().next());
            if let Some(example) = example {
                out.extend(compare_json(&child(path, key), example, value, &values_ctx));
            }
        }
    } else {
        if let Err(message) = apply_map(rule, expected, actual, cascaded) {
            out.push(Mismatch::body(path, message));
        }
        out.extend(match_keys(path, expected, actual, ctx));
        for (key, value) in expected {
            if let Some(a) = actual.get(key) {
                out.extend(compare_json(&child(path, key), value, a, ctx));
            }
        }
    }
    out
}

/// Missing keys are always mismatches; unexpected keys are too unless the context allows them.
/// `values`/`eachValue`/`eachKey` rules on the object itself make keys free; `eachKey` rules then
/// apply to every actual key.
fn match_keys(
    path: &[String],
    expected: &Map<String, Value>,
    actual: &Map<String, Value>,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let keys_free = ctx.exact_rules(path).any(|r| {
        matches!(
            r,
            MatchingRule::Values | MatchingRule::EachValue(_) | MatchingRule::EachKey(_)
        )
    });
    if !keys_free {
        for key in expected.keys().filter(|k| !actual.contains_key(*k)) {
            out.push(Mismatch::body(
                &child(path, key),
                format!(
                    "expected key '{key}' with {}, but it was missing",
                    show(&expected[key])
                ),
            ));
        }
        if !ctx.allow_unexpected_keys {
            for key in actual.keys().filter(|k| !expected.contains_key(*k)) {
                out.push(Mismatch::body(
                    &child(path, key),
                    format!("unexpected key '{key}' with {}", show(&actual[key])),
                ));
            }
        }
    }
    let each_key_rules: Vec<&MatchingRule> = ctx
        .exact_rules(path)
        .filter_map(|r| match r {
            MatchingRule::EachKey(each) => Some(each.rules.iter()),
            _ => None,
        })
        .flatten()
        .collect();
    for rule in each_key_rules {
        for key in actual.keys() {
            if let Err(message) = super::values::apply_str(rule, "", key, false) {
                out.push(Mismatch::body(&child(path, key), format!("key: {message}")));
            }
        }
    }
    out
}

fn compare_lists(
    path: &[String],
    expected: &[Value],
    actual: &[Value],
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let mut item = |p: &[String], e: &Value, a: &Value, c: &Ctx<'_>| compare_json(p, e, a, c);
    let mismatch = |p: &[String], m: String| Mismatch::body(p, m);
    if let Some((list, cascaded)) = ctx.best(path) {
        return compare_lists_with_rules(
            path, list, cascaded, expected, actual, ctx, &mismatch, &mut item,
        );
    }
    if expected.is_empty() && !actual.is_empty() {
        return vec![Mismatch::body(
            path,
            format!(
                "expected an empty array, got {}",
                show(&Value::Array(actual.to_vec()))
            ),
        )];
    }
    let mut out = Vec::new();
    for (index, example) in expected.iter().enumerate() {
        let p = child(path, &index.to_string());
        match actual.get(index) {
            Some(a) => out.extend(compare_json(&p, example, a, ctx)),
            None if !ctx.is_defined(&p) => out.push(Mismatch::body(
                &p,
                format!("expected {}, but it was missing", show(example)),
            )),
            None => {}
        }
    }
    if expected.len() != actual.len() {
        out.push(Mismatch::body(
            path,
            format!(
                "expected an array of {} item(s), got {} item(s)",
                expected.len(),
                actual.len()
            ),
        ));
    }
    out
}
