//! The rules in force while comparing one part of an interaction, and how the most specific
//! rule for a location is chosen.

use std::borrow::Cow;

use crate::path_expr::PathExpr;
use crate::rules::{MatchingRule, RuleCategory, RuleList};

/// Rules for one category plus whether unexpected map keys are tolerated.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    rules: Cow<'a, RuleCategory>,
    /// Responses and messages tolerate extra keys in objects ("open world"); requests do not.
    pub allow_unexpected_keys: bool,
}

static EMPTY: RuleCategory = RuleCategory {
    entries: Vec::new(),
};

impl<'a> Ctx<'a> {
    pub(crate) fn new(rules: Option<&'a RuleCategory>, allow_unexpected_keys: bool) -> Self {
        Ctx {
            rules: Cow::Borrowed(rules.unwrap_or(&EMPTY)),
            allow_unexpected_keys,
        }
    }

    /// Header rules apply regardless of the case of the header name.
    pub(crate) fn for_headers(rules: Option<&RuleCategory>) -> Ctx<'static> {
        let entries = rules
            .map(|c| {
                c.entries
                    .iter()
                    .map(|(k, v)| (k.to_lowercase(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ctx {
            rules: Cow::Owned(RuleCategory { entries }),
            allow_unexpected_keys: true,
        }
    }

    /// The rules as they apply to XML documents, whose locations have no array indexes.
    pub(crate) fn for_xml(&self) -> Ctx<'a> {
        self.with_rules(RuleCategory {
            entries: self
                .rules
                .entries
                .iter()
                .map(|(k, v)| (k.without_star_index(), v.clone()))
                .collect(),
        })
    }

    /// The same settings with other rules (eachValue, arrayContains variants).
    pub(crate) fn with_rules(&self, rules: RuleCategory) -> Ctx<'a> {
        Ctx {
            rules: Cow::Owned(rules),
            allow_unexpected_keys: self.allow_unexpected_keys,
        }
    }

    /// Whether any rule applies to the location, directly or through an ancestor.
    pub(crate) fn is_defined(&self, path: &[String]) -> bool {
        self.rules.entries.iter().any(|(k, _)| k.matches(path))
    }

    /// The most specific rule list for the location (highest weight × length; the first written
    /// wins a tie), and whether it comes from an ancestor (cascaded).
    pub(crate) fn best(&self, path: &[String]) -> Option<(&RuleList, bool)> {
        let mut best: Option<(&PathExpr, &RuleList, usize)> = None;
        for (key, list) in &self.rules.entries {
            let (weight, len) = key.weight(path);
            if weight == 0 {
                continue;
            }
            let score = weight * len;
            if best.is_none_or(|(_, _, s)| score > s) {
                best = Some((key, list, score));
            }
        }
        best.map(|(key, list, _)| (list, key.tokens().len() != path.len()))
    }

    /// Whether some rule applying to the location is a type matcher.
    pub(crate) fn type_matcher_defined(&self, path: &[String]) -> bool {
        self.rules.entries.iter().any(|(k, list)| {
            k.matches(path) && list.rules.iter().any(MatchingRule::is_type_matcher)
        })
    }

    /// The rules written for exactly this location.
    pub(crate) fn exact_rules(&self, path: &[String]) -> impl Iterator<Item = &MatchingRule> {
        self.rules
            .entries
            .iter()
            .filter(move |(k, _)| k.matches_exactly(path))
            .flat_map(|(_, list)| list.rules.iter())
    }
}
