//! Comparing XML bodies. Element names carry their namespace URI (`urn:a:alligator`), so
//! prefixes do not matter; locations are `$.root.child`, attributes `$.root['@name']` and text
//! `$.root['#text']`. Repeated children share one location, as in the reference.

use std::collections::BTreeMap;

use roxmltree::{Document, Node};

use super::context::Ctx;
use super::mismatch::Mismatch;
use super::values::{apply_str, combine};
use crate::rules::MatchingRule;

fn qualified(node: Node<'_, '_>) -> String {
    let tag = node.tag_name();
    match tag.namespace() {
        Some(ns) => format!("{ns}:{}", tag.name()),
        None => tag.name().to_string(),
    }
}

fn child(path: &[String], key: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(key.to_string());
    p
}

fn elements<'a, 'i>(node: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    node.children().filter(Node::is_element).collect()
}

/// Compares two XML documents.
pub(crate) fn compare_xml(expected: &str, actual: &str, ctx: &Ctx<'_>) -> Vec<Mismatch> {
    let ctx = &ctx.for_xml();
    let root = vec!["$".to_string()];
    let e = Document::parse(expected);
    let a = Document::parse(actual);
    match (e, a) {
        (Ok(e), Ok(a)) => {
            let (e, a) = (e.root_element(), a.root_element());
            let path = child(&root, &qualified(e));
            let mut out = Vec::new();
            compare_element(&path, e, a, ctx, &mut out);
            out
        }
        (e, a) => {
            let mut out = Vec::new();
            if let Err(err) = e {
                out.push(Mismatch::body(
                    &root,
                    format!("the expected body is not valid XML: {err}"),
                ));
            }
            if let Err(err) = a {
                out.push(Mismatch::body(
                    &root,
                    format!("the actual body is not valid XML: {err}"),
                ));
            }
            out
        }
    }
}

/// A rule applied to an element as a whole: names, child counts.
fn apply_element(
    rule: &MatchingRule,
    expected: Node<'_, '_>,
    actual: Node<'_, '_>,
    cascaded: bool,
) -> Result<(), String> {
    let children = elements(actual).len();
    match rule {
        MatchingRule::Regex(re) => {
            if re.is_match(actual.tag_name().name()) {
                Ok(())
            } else {
                Err(format!(
                    "expected element <{}> to match the regex '{}'",
                    qualified(actual),
                    re.as_str()
                ))
            }
        }
        MatchingRule::Type | MatchingRule::Equality => {
            if qualified(expected) == qualified(actual) {
                Ok(())
            } else {
                Err(format!(
                    "expected element <{}>, got <{}>",
                    qualified(expected),
                    qualified(actual)
                ))
            }
        }
        MatchingRule::MinType(min) if !cascaded && children < *min => Err(format!(
            "expected <{}> to have at least {min} child element(s), got {children}",
            qualified(actual)
        )),
        MatchingRule::MaxType(max) if !cascaded && children > *max => Err(format!(
            "expected <{}> to have at most {max} child element(s), got {children}",
            qualified(actual)
        )),
        MatchingRule::MinMaxType(min, max) if !cascaded && (children < *min || children > *max) => {
            Err(format!(
                "expected <{}> to have between {min} and {max} child element(s), got {children}",
                qualified(actual)
            ))
        }
        MatchingRule::MinType(_) | MatchingRule::MaxType(_) | MatchingRule::MinMaxType(..) => {
            Ok(())
        }
        MatchingRule::NotEmpty => {
            if children == 0 {
                Err(format!(
                    "expected <{}> to have child elements",
                    qualified(actual)
                ))
            } else {
                Ok(())
            }
        }
        other => Err(format!(
            "the '{}' matcher cannot be applied to the element <{}>",
            other.name(),
            qualified(actual)
        )),
    }
}

fn compare_element(
    path: &[String],
    expected: Node<'_, '_>,
    actual: Node<'_, '_>,
    ctx: &Ctx<'_>,
    out: &mut Vec<Mismatch>,
) {
    let result = match ctx.best(path) {
        Some((list, cascaded)) => {
            combine(list, |rule| apply_element(rule, expected, actual, cascaded))
        }
        None => {
            apply_element(&MatchingRule::Equality, expected, actual, false).map_err(|m| vec![m])
        }
    };
    match result {
        Err(messages) => out.extend(messages.into_iter().map(|m| Mismatch::body(path, m))),
        Ok(()) => {
            compare_attributes(path, expected, actual, ctx, out);
            compare_children(path, expected, actual, ctx, out);
            compare_text(path, expected, actual, ctx, out);
        }
    }
}

fn attributes(node: Node<'_, '_>) -> BTreeMap<String, String> {
    node.attributes()
        .map(|a| {
            let name = match a.namespace() {
                Some(ns) => format!("{ns}:{}", a.name()),
                None => a.name().to_string(),
            };
            (name, a.value().to_string())
        })
        .collect()
}

fn compare_attributes(
    path: &[String],
    expected: Node<'_, '_>,
    actual: Node<'_, '_>,
    ctx: &Ctx<'_>,
    out: &mut Vec<Mismatch>,
) {
    let e = attributes(expected);
    let a = attributes(actual);
    if !ctx.allow_unexpected_keys {
        for key in a.keys().filter(|k| !e.contains_key(*k)) {
            out.push(Mismatch::body(
                &child(path, &format!("@{key}")),
                format!("unexpected attribute '{key}'='{}'", a[key]),
            ));
        }
    }
    for (key, value) in &e {
        let p = child(path, &format!("@{key}"));
        match a.get(key) {
            Some(actual_value) => out.extend(compare_string(&p, value, actual_value, ctx)),
            None => out.push(Mismatch::body(
                &p,
                format!("expected attribute '{key}'='{value}', but it was missing"),
            )),
        }
    }
}

fn compare_string(path: &[String], expected: &str, actual: &str, ctx: &Ctx<'_>) -> Vec<Mismatch> {
    let result = match ctx.best(path) {
        Some((list, cascaded)) => combine(list, |rule| apply_str(rule, expected, actual, cascaded)),
        None => apply_str(&MatchingRule::Equality, expected, actual, false).map_err(|m| vec![m]),
    };
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|m| Mismatch::body(path, m))
        .collect()
}

fn compare_children(
    path: &[String],
    expected: Node<'_, '_>,
    actual: Node<'_, '_>,
    ctx: &Ctx<'_>,
    out: &mut Vec<Mismatch>,
) {
    let expected_children = elements(expected);
    let actual_children = elements(actual);
    let names = |nodes: &[Node<'_, '_>]| {
        nodes
            .iter()
            .map(|n| format!("<{}>", qualified(*n)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if expected_children.is_empty() && !actual_children.is_empty() && !ctx.allow_unexpected_keys {
        out.push(Mismatch::body(
            path,
            format!(
                "expected no child elements, got {}",
                names(&actual_children)
            ),
        ));
        return;
    }
    let mut expected_by_name: BTreeMap<String, Vec<Node<'_, '_>>> = BTreeMap::new();
    for node in &expected_children {
        expected_by_name
            .entry(qualified(*node))
            .or_default()
            .push(*node);
    }
    let mut actual_by_name: BTreeMap<String, Vec<Node<'_, '_>>> = BTreeMap::new();
    for node in &actual_children {
        actual_by_name
            .entry(qualified(*node))
            .or_default()
            .push(*node);
    }
    for (name, group) in &actual_by_name {
        let p = child(path, name);
        match expected_by_name.remove(name) {
            Some(examples) => {
                if ctx.type_matcher_defined(&p) {
                    // Type matching: every actual child is compared with the first example.
                    for node in group {
                        compare_element(&p, examples[0], *node, ctx, out);
                    }
                } else {
                    for index in 0..examples.len().max(group.len()) {
                        match (examples.get(index), group.get(index)) {
                            (Some(e), Some(a)) => compare_element(&p, *e, *a, ctx, out),
                            (Some(_), None) => out.push(Mismatch::body(
                                &p,
                                format!(
                                    "expected {} <{name}> element(s), got {}",
                                    examples.len(),
                                    group.len()
                                ),
                            )),
                            (None, Some(_)) if !ctx.allow_unexpected_keys => {
                                out.push(Mismatch::body(
                                    &p,
                                    format!("unexpected <{name}> element at index {index}"),
                                ))
                            }
                            _ => {}
                        }
                    }
                }
            }
            None => {
                if !ctx.allow_unexpected_keys || ctx.type_matcher_defined(&p) {
                    out.push(Mismatch::body(
                        path,
                        format!("unexpected child element <{name}>"),
                    ));
                }
            }
        }
    }
    for name in expected_by_name.keys() {
        out.push(Mismatch::body(
            path,
            format!("expected child element <{name}>, but it was missing"),
        ));
    }
}

fn text_of(node: Node<'_, '_>) -> String {
    node.children()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect()
}

fn compare_text(
    path: &[String],
    expected: Node<'_, '_>,
    actual: Node<'_, '_>,
    ctx: &Ctx<'_>,
    out: &mut Vec<Mismatch>,
) {
    let p = child(path, "#text");
    out.extend(compare_string(
        &p,
        &text_of(expected),
        &text_of(actual),
        ctx,
    ));
}
