//! Comparing lists under matching rules, shared by JSON arrays, query parameter values and
//! header values: length limits, `eachValue`, `arrayContains`, and the items themselves (an
//! actual list longer than the example is compared item by item against the first example item).

use serde_json::Value;

use super::context::Ctx;
use super::mismatch::Mismatch;
use super::values::{apply_list, show};
use crate::path_expr::{PathExpr, PathToken};
use crate::rules::{Combine, MatchingRule, RuleCategory, RuleList};

/// How list items are shown in messages.
pub(crate) trait Item: Clone + PartialEq {
    fn text(&self) -> String;
}

impl Item for Value {
    fn text(&self) -> String {
        show(self)
    }
}

impl Item for String {
    fn text(&self) -> String {
        format!("'{self}'")
    }
}

fn list_text<T: Item>(items: &[T]) -> String {
    format!(
        "[{}]",
        items.iter().map(Item::text).collect::<Vec<_>>().join(", ")
    )
}

/// Compares one item; the path is the item's location.
pub(crate) type ItemCompare<'f, T> = dyn FnMut(&[String], &T, &T, &Ctx<'_>) -> Vec<Mismatch> + 'f;
/// Builds a mismatch about the list at a location.
pub(crate) type ListMismatch<'f> = dyn Fn(&[String], String) -> Mismatch + 'f;

fn child(path: &[String], index: usize) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(index.to_string());
    p
}

/// Applies a rule list to a list and its items.
#[allow(clippy::too_many_arguments)]
pub(crate) fn compare_lists_with_rules<T: Item>(
    path: &[String],
    list: &RuleList,
    cascaded: bool,
    expected: &[T],
    actual: &[T],
    ctx: &Ctx<'_>,
    mismatch: &ListMismatch<'_>,
    item: &mut ItemCompare<'_, T>,
) -> Vec<Mismatch> {
    let results: Vec<Vec<Mismatch>> = list
        .rules
        .iter()
        .map(|rule| {
            compare_list_with_rule(path, rule, cascaded, expected, actual, ctx, mismatch, item)
        })
        .collect();
    match list.combine {
        Combine::And => results.into_iter().flatten().collect(),
        Combine::Or => {
            if results.iter().any(Vec::is_empty) {
                Vec::new()
            } else {
                results.into_iter().flatten().collect()
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn compare_list_with_rule<T: Item>(
    path: &[String],
    rule: &MatchingRule,
    cascaded: bool,
    expected: &[T],
    actual: &[T],
    ctx: &Ctx<'_>,
    mismatch: &ListMismatch<'_>,
    item: &mut ItemCompare<'_, T>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    // As in the reference: an empty example list carries no item to compare against.
    if expected.is_empty() {
        return out;
    }
    match rule {
        MatchingRule::ArrayContains(variants) => {
            let default_variants: Vec<(usize, RuleCategory)>;
            let variants: Vec<(usize, &RuleCategory)> = if variants.is_empty() {
                default_variants = (0..expected.len()).map(|i| (i, equality_rules())).collect();
                default_variants.iter().map(|(i, r)| (*i, r)).collect()
            } else {
                variants.iter().map(|v| (v.index, &v.rules)).collect()
            };
            let root = vec!["$".to_string()];
            for (index, rules) in variants {
                match expected.get(index) {
                    Some(example) => {
                        let variant_ctx = ctx.with_rules(rules.clone());
                        if !actual
                            .iter()
                            .any(|a| item(&root, example, a, &variant_ctx).is_empty())
                        {
                            out.push(mismatch(
                                path,
                                format!(
                                    "expected an item matching variant {index} ({}), but none was found in {}",
                                    example.text(),
                                    list_text(actual)
                                ),
                            ));
                        }
                    }
                    None => out.push(mismatch(
                        path,
                        format!(
                            "arrayContains variant {index} has no example (the list has {} items)",
                            expected.len()
                        ),
                    )),
                }
            }
        }
        MatchingRule::EachValue(each) => {
            if !cascaded {
                let mut rules = RuleCategory::default();
                rules.add(
                    PathExpr::from_location(path, Some(PathToken::Star)),
                    RuleList {
                        rules: each.rules.clone(),
                        combine: Combine::And,
                    },
                );
                let each_ctx = ctx.with_rules(rules);
                out.extend(match_list_contents(
                    path, expected, actual, &each_ctx, mismatch, item,
                ));
            }
        }
        _ => {
            if let Err(message) = apply_list(rule, expected, actual, cascaded, || list_text(actual))
            {
                out.push(mismatch(path, message));
            }
            out.extend(match_list_contents(
                path, expected, actual, ctx, mismatch, item,
            ));
        }
    }
    out
}

fn equality_rules() -> RuleCategory {
    let mut rules = RuleCategory::default();
    rules.add(
        PathExpr::from_location(&["$".to_string()], None),
        RuleList::single(MatchingRule::Equality),
    );
    rules
}

/// Compares each actual item with the example at the same index, or the first example item when
/// the actual list is longer.
pub(crate) fn match_list_contents<T: Item>(
    path: &[String],
    expected: &[T],
    actual: &[T],
    ctx: &Ctx<'_>,
    mismatch: &ListMismatch<'_>,
    item: &mut ItemCompare<'_, T>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let Some(first) = expected.first() else {
        return out;
    };
    let len = expected.len().max(actual.len());
    for index in 0..len {
        let example = expected.get(index).unwrap_or(first);
        let p = child(path, index);
        match actual.get(index) {
            Some(a) => out.extend(item(&p, example, a, ctx)),
            None => {
                if !ctx.is_defined(&p) {
                    out.push(mismatch(
                        path,
                        format!(
                            "expected {} at index {index}, but it was missing",
                            example.text()
                        ),
                    ));
                }
            }
        }
    }
    out
}
