//! Comparing the fields around the body: method, path, query parameters, headers, status and
//! message metadata.

use serde_json::{Map, Value};

use super::collections::compare_lists_with_rules;
use super::context::Ctx;
use super::mismatch::{Mismatch, MismatchKind};
use super::values::{apply_json, apply_str, combine, quote, show};
use crate::model::Multimap;
use crate::rules::{MatchingRule, RuleList};

/// Methods compare case-insensitively.
pub(crate) fn compare_method(expected: &str, actual: &str) -> Vec<Mismatch> {
    if expected.eq_ignore_ascii_case(actual) {
        Vec::new()
    } else {
        vec![Mismatch::new(
            MismatchKind::Method,
            "",
            format!("expected {}, got {}", quote(expected), quote(actual)),
        )]
    }
}

/// Paths compare exactly unless a `path` rule applies.
pub(crate) fn compare_path(
    expected: &str,
    actual: &str,
    rules: Option<&RuleList>,
) -> Vec<Mismatch> {
    let result = match rules {
        Some(list) => combine(list, |rule| apply_str(rule, expected, actual, false)),
        None => apply_str(&MatchingRule::Equality, expected, actual, false).map_err(|m| vec![m]),
    };
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|m| Mismatch::new(MismatchKind::Path, "", m))
        .collect()
}

/// Statuses compare exactly unless a `status` rule (e.g. `statusCode`) applies.
pub(crate) fn compare_status(
    expected: u16,
    actual: u16,
    rules: Option<&RuleList>,
) -> Vec<Mismatch> {
    let (e, a) = (Value::from(expected), Value::from(actual));
    let result = match rules {
        Some(list) => combine(list, |rule| apply_json(rule, &e, &a, false)),
        None if expected == actual => Ok(()),
        None => Err(vec![format!("expected {expected}, got {actual}")]),
    };
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|m| Mismatch::new(MismatchKind::Status, "", m))
        .collect()
}

fn named(name: &str) -> Vec<String> {
    vec!["$".to_string(), name.to_string()]
}

/// Query parameters: every expected parameter must be present with the same values in the same
/// order (or values matching its rules); unexpected parameters are mismatches.
pub(crate) fn compare_query(
    expected: &Multimap,
    actual: &Multimap,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (name, values) in expected {
        let Some(actual_values) = actual.get(name) else {
            out.push(Mismatch::new(
                MismatchKind::Query,
                name.as_str(),
                format!(
                    "expected {}, but the parameter was missing",
                    show(&Value::from(values.clone()))
                ),
            ));
            continue;
        };
        let path = named(name);
        let mismatch =
            |_: &[String], m: String| Mismatch::new(MismatchKind::Query, name.as_str(), m);
        let mut item = |p: &[String], e: &String, a: &String, c: &Ctx<'_>| -> Vec<Mismatch> {
            let result = match c.best(p) {
                Some((list, cascaded)) => combine(list, |rule| apply_str(rule, e, a, cascaded)),
                None => apply_str(&MatchingRule::Equality, e, a, false).map_err(|m| vec![m]),
            };
            result
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|m| mismatch(p, m))
                .collect()
        };
        if let Some((list, cascaded)) = ctx.best(&path) {
            out.extend(compare_lists_with_rules(
                &path,
                list,
                cascaded,
                values,
                actual_values,
                ctx,
                &mismatch,
                &mut item,
            ));
        } else if values.is_empty() && !actual_values.is_empty() {
            out.push(mismatch(
                &path,
                format!(
                    "expected no values, got {}",
                    show(&Value::from(actual_values.clone()))
                ),
            ));
        } else {
            for (index, e) in values.iter().enumerate() {
                if let Some(a) = actual_values.get(index) {
                    let mut p = path.clone();
                    p.push(index.to_string());
                    out.extend(item(&p, e, a, ctx));
                }
            }
            if values.len() != actual_values.len() {
                out.push(mismatch(
                    &path,
                    format!(
                        "expected {} value(s) {}, got {} value(s) {}",
                        values.len(),
                        show(&Value::from(values.clone())),
                        actual_values.len(),
                        show(&Value::from(actual_values.clone()))
                    ),
                ));
            }
        }
    }
    for name in actual.keys().filter(|k| !expected.contains_key(*k)) {
        out.push(Mismatch::new(
            MismatchKind::Query,
            name.as_str(),
            format!(
                "unexpected parameter with {}",
                show(&Value::from(actual[name].clone()))
            ),
        ));
    }
    out
}

/// Headers whose values carry parameters compared by name (`; charset=utf-8`).
const PARAMETERISED_HEADERS: [&str; 2] = ["accept", "content-type"];

/// `type/sub; a=1; b=2`: the base value must be equal; each expected parameter must be present
/// with the same value (case-insensitively); extra actual parameters are fine.
pub(crate) fn compare_parameterised(expected: &str, actual: &str) -> Result<(), String> {
    let split = |s: &str| -> (String, Vec<(String, String)>) {
        let mut parts = s.split(';').map(str::trim).filter(|p| !p.is_empty());
        let base = parts.next().unwrap_or_default().to_string();
        let params = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        (base, params)
    };
    let (e_base, e_params) = split(expected);
    let (a_base, a_params) = split(actual);
    let ok = e_base == a_base
        && e_params.iter().all(|(k, v)| {
            a_params
                .iter()
                .any(|(ak, av)| ak == k && av.eq_ignore_ascii_case(v))
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected {}, got {}",
            quote(expected),
            quote(actual)
        ))
    }
}

fn compare_header_value(
    name: &str,
    index: usize,
    expected: &str,
    actual: &str,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let lower = name.to_ascii_lowercase();
    let path = named(&lower);
    let mut indexed = path.clone();
    indexed.push(index.to_string());
    let (expected, actual) = (expected.trim(), actual.trim());
    let result = if let Some((list, cascaded)) = ctx.best(&path) {
        combine(list, |rule| apply_str(rule, expected, actual, cascaded))
    } else if let Some((list, cascaded)) = ctx.best(&indexed) {
        combine(list, |rule| apply_str(rule, expected, actual, cascaded))
    } else if PARAMETERISED_HEADERS.contains(&lower.as_str()) {
        compare_parameterised(expected, actual).map_err(|m| vec![m])
    } else {
        // Optional whitespace after commas is not significant (RFC 9110).
        let normalise = |s: &str| s.split(',').map(str::trim).collect::<Vec<_>>().join(",");
        if normalise(expected) == normalise(actual) {
            Ok(())
        } else {
            Err(vec![format!(
                "expected {}, got {}",
                quote(expected),
                quote(actual)
            )])
        }
    };
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|m| Mismatch::new(MismatchKind::Header, name, m))
        .collect()
}

/// Headers: names are case-insensitive; every expected header must be present; extra actual
/// headers are allowed.
pub(crate) fn compare_headers(
    expected: &Multimap,
    actual: &Multimap,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (name, values) in expected {
        let Some((_, actual_values)) = actual.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
        else {
            out.push(Mismatch::new(
                MismatchKind::Header,
                name.as_str(),
                format!(
                    "expected {}, but the header was missing",
                    quote(&values.join(", "))
                ),
            ));
            continue;
        };
        if values.is_empty() && !actual_values.is_empty() {
            out.push(Mismatch::new(
                MismatchKind::Header,
                name.as_str(),
                format!(
                    "expected an empty header, got {}",
                    quote(&actual_values.join(", "))
                ),
            ));
        } else if values.len() == 1 && actual_values.len() == 1 {
            out.extend(compare_header_value(
                name,
                0,
                &values[0],
                &actual_values[0],
                ctx,
            ));
        } else {
            let path = named(&name.to_ascii_lowercase());
            if let Some((list, cascaded)) = ctx.best(&path) {
                let mismatch =
                    |_: &[String], m: String| Mismatch::new(MismatchKind::Header, name.as_str(), m);
                let mut item = |_: &[String], e: &String, a: &String, c: &Ctx<'_>| {
                    compare_header_value(name, 0, e, a, c)
                };
                out.extend(compare_lists_with_rules(
                    &path,
                    list,
                    cascaded,
                    values,
                    actual_values,
                    ctx,
                    &mismatch,
                    &mut item,
                ));
            } else {
                for (index, e) in values.iter().enumerate() {
                    match actual_values.get(index) {
                        Some(a) => out.extend(compare_header_value(name, index, e, a, ctx)),
                        None => out.push(Mismatch::new(
                            MismatchKind::Header,
                            name.as_str(),
                            format!(
                                "expected {} at index {index}, but the header has {} value(s)",
                                quote(e),
                                actual_values.len()
                            ),
                        )),
                    }
                }
            }
        }
    }
    out
}

/// Message metadata: every expected entry must be present and match; extra entries are fine.
pub(crate) fn compare_metadata(
    expected: &Map<String, Value>,
    actual: &Map<String, Value>,
    ctx: &Ctx<'_>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (key, value) in expected {
        let Some(actual_value) = actual.get(key) else {
            out.push(Mismatch::new(
                MismatchKind::Metadata,
                key.as_str(),
                format!("expected {}, but the entry was missing", show(value)),
            ));
            continue;
        };
        let path = named(key);
        let result = if let Some((list, cascaded)) = ctx.best(&path) {
            combine(list, |rule| apply_json(rule, value, actual_value, cascaded))
        } else if key.eq_ignore_ascii_case("contentType")
            || key.eq_ignore_ascii_case("content-type")
        {
            compare_parameterised(
                value.as_str().unwrap_or_default(),
                actual_value.as_str().unwrap_or_default(),
            )
            .map_err(|m| vec![m])
        } else {
            apply_json(&MatchingRule::Equality, value, actual_value, false).map_err(|m| vec![m])
        };
        out.extend(
            result
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|m| Mismatch::new(MismatchKind::Metadata, key.as_str(), m)),
        );
    }
    out
}
