//! A JSON Schema that accepts what a pact's matching rules accept: derived from the example body
//! and the body rules, following the matching engine of `testmesh-contract` (the most specific rule
//! for a location wins, type rules cascade to descendants, an actual array longer than the example
//! is compared item by item against the first example item, response objects may hold extra keys).
//!
//! | rule | schema |
//! |---|---|
//! | none (equality) | `const` for values; objects by their keys (extra keys allowed); arrays item by item with their exact length |
//! | `type` | the example's JSON type; on arrays every item like the first, `min`/`max` → `minItems`/`maxItems` |
//! | `regex` | `pattern` (anchored) |
//! | `include` | `pattern` of the escaped text |
//! | `integer`, `decimal`, `number` | `type: integer` / `number` |
//! | `date`, `time`, `datetime` | `type: string` and a `pattern` built from the format |
//! | `boolean`, `null`, `notEmpty`, `semver` | `enum`, `type: null`, `not`, `pattern` |
//! | `values`, `eachValue`, `eachKey` | `additionalProperties` / `items` / `propertyNames` |
//! | `arrayContains` | `contains` per variant |
//!
//! Rules combined with OR become `anyOf`; several rules with AND `allOf`.

use serde_json::{Map, Value, json};
use testmesh_contract::path_expr::{PathExpr, PathToken};
use testmesh_contract::rules::{Combine, MatchingRule, RuleCategory, RuleList};

/// A key no rule can name: the location of object values and array items that the example does
/// not have (compared against the first example value, as the matching engine does).
const OTHER_KEY: &str = "\u{0}";

/// A semantic version (semver.org's suggested expression).
pub(crate) const SEMVER: &str = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$";

/// Builds schemas; collects what could not be expressed.
pub(crate) struct SchemaBuilder<'n> {
    notes: &'n mut Vec<String>,
}

impl<'n> SchemaBuilder<'n> {
    /// A builder that appends notes about untranslated rules to `notes`.
    pub(crate) fn new(notes: &'n mut Vec<String>) -> SchemaBuilder<'n> {
        SchemaBuilder { notes }
    }

    /// The schema of a whole body (location `$`).
    pub(crate) fn body(&mut self, example: &Value, rules: &RuleCategory) -> Value {
        self.at(example, &mut vec!["$".to_string()], rules)
    }

    fn at(&mut self, example: &Value, path: &mut Vec<String>, rules: &RuleCategory) -> Value {
        match example {
            Value::Object(map) => self.object(map, path, rules),
            Value::Array(items) => self.array(items, path, rules),
            _ => self.leaf(example, path, rules),
        }
    }

    fn child(
        &mut self,
        example: &Value,
        path: &mut Vec<String>,
        key: &str,
        rules: &RuleCategory,
    ) -> Value {
        path.push(key.to_string());
        let schema = self.at(example, path, rules);
        path.pop();
        schema
    }

    fn object(
        &mut self,
        map: &Map<String, Value>,
        path: &mut Vec<String>,
        rules: &RuleCategory,
    ) -> Value {
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        let best = best(rules, path);
        // `values`/`eachValue` written for this object: keys are free, every value is compared
        // with the example of the same key, or the first example value.
        if let Some((list, false)) = best
            && let Some(rule) = list.rules.iter().find(|r| r.is_values_matcher())
        {
            let value_rules = match rule {
                MatchingRule::EachValue(each) => {
                    let mut own = RuleCategory::default();
                    own.add(
                        PathExpr::from_location(path, Some(PathToken::Star)),
                        RuleList {
                            rules: each.rules.clone(),
                            combine: Combine::And,
                        },
                    );
                    own
                }
                _ => rules.clone(),
            };
            let mut properties = Map::new();
            for (key, value) in map {
                properties.insert(key.clone(), self.child(value, path, key, &value_rules));
            }
            if !properties.is_empty() {
                schema.insert("properties".into(), Value::Object(properties));
            }
            if let Some(first) = map.values().next() {
                let other = self.child(first, path, OTHER_KEY, &value_rules);
                schema.insert("additionalProperties".into(), other);
            }
            self.property_names(&mut schema, path, rules);
            return Value::Object(schema);
        }
        if let Some((list, cascaded)) = best {
            for rule in &list.rules {
                match rule {
                    MatchingRule::Equality => return json!({ "const": Value::Object(map.clone()) }),
                    MatchingRule::NotEmpty => {
                        schema.insert("minProperties".into(), json!(1));
                    }
                    MatchingRule::MinType(_)
                    | MatchingRule::MaxType(_)
                    | MatchingRule::MinMaxType(..)
                        if !cascaded =>
                    {
                        let (min, max) = bounds(rule);
                        if let Some(min) = min {
                            schema.insert("minProperties".into(), json!(min));
                        }
                        if let Some(max) = max {
                            schema.insert("maxProperties".into(), json!(max));
                        }
                    }
                    _ => {}
                }
            }
        }
        let exact: Vec<&MatchingRule> = exact_rules(rules, path).collect();
        let keys_free = exact.iter().any(|r| {
            matches!(
                r,
                MatchingRule::Values | MatchingRule::EachValue(_) | MatchingRule::EachKey(_)
            )
        });
        self.property_names(&mut schema, path, rules);
        let mut properties = Map::new();
        for (key, value) in map {
            properties.insert(key.clone(), self.child(value, path, key, rules));
        }
        if !keys_free && !map.is_empty() {
            schema.insert(
                "required".into(),
                Value::Array(map.keys().map(|k| json!(k)).collect()),
            );
        }
        if !properties.is_empty() {
            schema.insert("properties".into(), Value::Object(properties));
        }
        Value::Object(schema)
    }

    /// `eachKey` rules written for this object constrain every key.
    fn property_names(
        &mut self,
        schema: &mut Map<String, Value>,
        path: &[String],
        rules: &RuleCategory,
    ) {
        let key_rules: Vec<MatchingRule> = exact_rules(rules, path)
            .filter_map(|r| match r {
                MatchingRule::EachKey(each) => Some(each.rules.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect();
        let at = format!("the keys of {}", location(path));
        let names: Vec<Value> = key_rules
            .iter()
            .filter_map(|rule| self.string_rule(rule, &at))
            .collect();
        if !names.is_empty() {
            schema.insert("propertyNames".into(), all_of(names));
        }
    }

    fn array(&mut self, items: &[Value], path: &mut Vec<String>, rules: &RuleCategory) -> Value {
        let Some((list, cascaded)) = best(rules, path) else {
            // No rule: the same items, in order, and no more.
            let mut schema = Map::new();
            schema.insert("type".into(), json!("array"));
            let prefix: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, item)| self.child(item, path, &i.to_string(), rules))
                .collect();
            if !prefix.is_empty() {
                schema.insert("prefixItems".into(), Value::Array(prefix));
            }
            schema.insert("minItems".into(), json!(items.len()));
            schema.insert("maxItems".into(), json!(items.len()));
            return Value::Object(schema);
        };
        // An empty example carries no item to compare against: any array.
        if items.is_empty() {
            return json!({"type": "array"});
        }
        let list = list.clone();
        let fragments: Vec<Value> = list
            .rules
            .iter()
            .map(|rule| self.array_rule(rule, cascaded, items, path, rules))
            .collect();
        combine(list.combine, fragments)
    }

    fn array_rule(
        &mut self,
        rule: &MatchingRule,
        cascaded: bool,
        items: &[Value],
        path: &mut Vec<String>,
        rules: &RuleCategory,
    ) -> Value {
        let mut schema = Map::new();
        schema.insert("type".into(), json!("array"));
        match rule {
            MatchingRule::ArrayContains(variants) => {
                let mut contains = Vec::new();
                if variants.is_empty() {
                    for item in items {
                        contains.push(json!({"contains": {"const": item}}));
                    }
                } else {
                    for variant in variants {
                        match items.get(variant.index) {
                            Some(example) => {
                                let item = self.at(example, &mut vec!["$".into()], &variant.rules);
                                contains.push(json!({ "contains": item }));
                            }
                            None => self.notes.push(format!(
                                "arrayContains variant {} at {} has no example item",
                                variant.index,
                                location(path)
                            )),
                        }
                    }
                }
                if !contains.is_empty() {
                    schema.insert("allOf".into(), Value::Array(contains));
                }
                return Value::Object(schema);
            }
            MatchingRule::EachValue(each) => {
                if cascaded {
                    return Value::Object(schema);
                }
                let mut own = RuleCategory::default();
                own.add(
                    PathExpr::from_location(path, Some(PathToken::Star)),
                    RuleList {
                        rules: each.rules.clone(),
                        combine: Combine::And,
                    },
                );
                self.contents(&mut schema, items, path, &own);
                return Value::Object(schema);
            }
            MatchingRule::Equality => {
                return json!({ "const": Value::Array(items.to_vec()) });
            }
            MatchingRule::NotEmpty => {
                schema.insert("minItems".into(), json!(1));
            }
            MatchingRule::MinType(_) | MatchingRule::MaxType(_) | MatchingRule::MinMaxType(..)
                if !cascaded =>
            {
                let (min, max) = bounds(rule);
                if let Some(min) = min {
                    schema.insert("minItems".into(), json!(min));
                }
                if let Some(max) = max {
                    schema.insert("maxItems".into(), json!(max));
                }
            }
            _ => {}
        }
        self.contents(&mut schema, items, path, rules);
        Value::Object(schema)
    }

    /// Items under a rule: each actual item is compared with the example at its index, items
    /// past the example with the first example item. Missing items are allowed when a rule covers
    /// the item's location.
    fn contents(
        &mut self,
        schema: &mut Map<String, Value>,
        items: &[Value],
        path: &mut Vec<String>,
        rules: &RuleCategory,
    ) {
        let Some(first) = items.first() else {
            return;
        };
        let prefix: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.child(item, path, &i.to_string(), rules))
            .collect();
        let rest = self.child(first, path, &items.len().to_string(), rules);
        let uniform = prefix.iter().all(|p| *p == rest);
        if uniform {
            schema.insert("items".into(), rest);
        } else {
            schema.insert("prefixItems".into(), Value::Array(prefix));
            schema.insert("items".into(), rest);
        }
        path.push("0".into());
        let defined = is_defined(rules, path);
        path.pop();
        if !defined && !schema.contains_key("minItems") {
            schema.insert("minItems".into(), json!(items.len()));
        }
    }

    fn leaf(&mut self, example: &Value, path: &[String], rules: &RuleCategory) -> Value {
        let Some((list, _)) = best(rules, path) else {
            return json!({ "const": example });
        };
        let list = list.clone();
        let fragments: Vec<Value> = list
            .rules
            .iter()
            .map(|rule| self.leaf_rule(rule, example, path))
            .collect();
        combine(list.combine, fragments)
    }

    fn leaf_rule(&mut self, rule: &MatchingRule, example: &Value, path: &[String]) -> Value {
        match rule {
            MatchingRule::Equality | MatchingRule::Values => json!({ "const": example }),
            MatchingRule::Type
            | MatchingRule::MinType(_)
            | MatchingRule::MaxType(_)
            | MatchingRule::MinMaxType(..) => json!({ "type": json_type(example) }),
            MatchingRule::Integer => json!({"type": "integer"}),
            // A decimal is any number with a fraction; JSON Schema cannot tell 2.0 from 2.
            MatchingRule::Decimal | MatchingRule::Number => json!({"type": "number"}),
            MatchingRule::Null => json!({"type": "null"}),
            MatchingRule::Boolean => json!({"enum": [true, false, "true", "false"]}),
            MatchingRule::NotEmpty => json!({"not": {"enum": [null, "", [], {}]}}),
            MatchingRule::StatusCode(_)
            | MatchingRule::ArrayContains(_)
            | MatchingRule::EachKey(_)
            | MatchingRule::EachValue(_) => json!({}),
            MatchingRule::ContentType(ct) => {
                self.notes.push(format!(
                    "the contentType '{ct}' rule at {} is not checked",
                    location(path)
                ));
                json!({})
            }
            // Regex, include, dates and semver match the value's text.
            other => self
                .string_rule(other, &location(path))
                .unwrap_or_else(|| json!({})),
        }
    }

    /// The schema of a rule that checks text: regex, include, date/time, semver. `None` for rules
    /// that are not about text, or when the pattern cannot be used (with a note).
    fn string_rule(&mut self, rule: &MatchingRule, at: &str) -> Option<Value> {
        let pattern = match rule {
            MatchingRule::Regex(re) => format!("^(?:{})$", re.as_str()),
            MatchingRule::Include(text) => regex::escape(text),
            MatchingRule::Semver => SEMVER.to_string(),
            MatchingRule::Date(f) | MatchingRule::Time(f) | MatchingRule::Timestamp(f) => {
                match date_pattern(f.pattern()) {
                    Some(p) => p,
                    None => {
                        self.notes.push(format!(
                            "the {} format '{}' at {at} is checked as any string",
                            rule.name(),
                            f.pattern()
                        ));
                        return Some(json!({"type": "string"}));
                    }
                }
            }
            _ => return None,
        };
        if !pattern_compiles(&pattern) {
            self.notes.push(format!(
                "the {} rule at {at} ('{pattern}') cannot be checked by JSON Schema and is left out",
                rule.name()
            ));
            return Some(json!({}));
        }
        let typed = matches!(
            rule,
            MatchingRule::Date(_)
                | MatchingRule::Time(_)
                | MatchingRule::Timestamp(_)
                | MatchingRule::Semver
        );
        Some(if typed {
            json!({"type": "string", "pattern": pattern})
        } else {
            json!({ "pattern": pattern })
        })
    }
}

/// Whether JSON Schema validation (`matches_schema`) accepts `pattern`.
pub(crate) fn pattern_compiles(pattern: &str) -> bool {
    jsonschema::validator_for(&json!({ "pattern": pattern })).is_ok()
}

fn combine(how: Combine, mut fragments: Vec<Value>) -> Value {
    fragments.retain(|f| f.as_object().is_none_or(|o| !o.is_empty()));
    match how {
        // One alternative that accepts anything makes the whole list accept anything.
        Combine::Or if fragments.len() < 2 => fragments.pop().unwrap_or_else(|| json!({})),
        Combine::Or => json!({ "anyOf": fragments }),
        Combine::And => all_of(fragments),
    }
}

fn all_of(mut fragments: Vec<Value>) -> Value {
    if fragments.len() < 2 {
        return fragments.pop().unwrap_or_else(|| json!({}));
    }
    json!({ "allOf": fragments })
}

fn bounds(rule: &MatchingRule) -> (Option<usize>, Option<usize>) {
    match rule {
        MatchingRule::MinType(min) => (Some(*min), None),
        MatchingRule::MaxType(max) => (None, Some(*max)),
        MatchingRule::MinMaxType(min, max) => (Some(*min), Some(*max)),
        _ => (None, None),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `$.items[0].id` for `["$", "items", "0", "id"]`.
fn location(path: &[String]) -> String {
    testmesh_contract::path_expr::format_location(path)
}

/// The most specific rule list for a location (highest weight × length, first written wins a
/// tie) and whether it comes from an ancestor, exactly as the matching engine chooses.
pub(crate) fn best<'r>(rules: &'r RuleCategory, path: &[String]) -> Option<(&'r RuleList, bool)> {
    let mut found: Option<(&PathExpr, &RuleList, usize)> = None;
    for (key, list) in &rules.entries {
        let (weight, len) = key.weight(path);
        if weight == 0 {
            continue;
        }
        let score = weight * len;
        if found.is_none_or(|(_, _, s)| score > s) {
            found = Some((key, list, score));
        }
    }
    found.map(|(key, list, _)| (list, key.tokens().len() != path.len()))
}

fn is_defined(rules: &RuleCategory, path: &[String]) -> bool {
    rules.entries.iter().any(|(k, _)| k.matches(path))
}

fn exact_rules<'r>(
    rules: &'r RuleCategory,
    path: &'r [String],
) -> impl Iterator<Item = &'r MatchingRule> {
    rules
        .entries
        .iter()
        .filter(move |(k, _)| k.matches_exactly(path))
        .flat_map(|(_, list)| list.rules.iter())
}

/// An anchored regular expression for text in a Java/ICU date-time format (`yyyy-MM-dd'T'HH:mm:ss`);
/// `None` for pattern letters it does not know.
pub(crate) fn date_pattern(format: &str) -> Option<String> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::from("^");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            let mut literal = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return None,
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        literal.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(other) => {
                        literal.push(*other);
                        j += 1;
                    }
                }
            }
            out.push_str(&regex::escape(&literal));
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push_str(&regex::escape(&c.to_string()));
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        let one_or_two = if n == 1 { r"\d{1,2}" } else { r"\d{2}" };
        let piece = match c {
            'y' | 'u' | 'Y' => match n {
                2 => r"\d{2}".to_string(),
                1 => r"\d+".to_string(),
                _ => format!(r"\d{{{n},}}"),
            },
            'M' | 'L' => match n {
                1 | 2 => one_or_two.to_string(),
                3 => "[A-Za-z]{3}".to_string(),
                _ => "[A-Za-z]+".to_string(),
            },
            'd' | 'H' | 'k' | 'K' | 'h' | 'm' | 's' | 'w' => one_or_two.to_string(),
            'D' => r"\d{1,3}".to_string(),
            'S' => format!(r"\d{{{n}}}"),
            'n' | 'A' | 'N' => r"\d+".to_string(),
            'W' | 'F' => r"\d".to_string(),
            'E' => {
                if n <= 3 {
                    "[A-Za-z]{3}".to_string()
                } else {
                    "[A-Za-z]+".to_string()
                }
            }
            'e' | 'c' | 'Q' | 'q' => {
                if n <= 2 {
                    one_or_two.to_string()
                } else {
                    "[A-Za-z0-9 ]+".to_string()
                }
            }
            'a' => "[AaPp][Mm]".to_string(),
            'G' => "[A-Za-z ]+".to_string(),
            'X' => match n {
                1 => r"(?:Z|[+-]\d{2}(?:\d{2})?)".to_string(),
                2 | 4 => r"(?:Z|[+-]\d{4})".to_string(),
                _ => r"(?:Z|[+-]\d{2}:\d{2})".to_string(),
            },
            'x' => match n {
                1 => r"[+-]\d{2}(?:\d{2})?".to_string(),
                2 | 4 => r"[+-]\d{4}".to_string(),
                _ => r"[+-]\d{2}:\d{2}".to_string(),
            },
            'Z' => match n {
                1..=3 => r"[+-]\d{4}".to_string(),
                4 => r"(?:GMT(?:[+-]\d{2}:\d{2})?|Z)".to_string(),
                _ => r"(?:Z|[+-]\d{2}:\d{2})".to_string(),
            },
            'z' | 'V' => "[A-Za-z][A-Za-z0-9/_+-]*".to_string(),
            'O' => r"GMT(?:[+-]\d{1,2}(?::\d{2})?)?".to_string(),
            _ => return None,
        };
        out.push_str(&piece);
    }
    out.push('$');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use testmesh_contract::rules::MatchingRules;

    fn rules(v: Value) -> RuleCategory {
        MatchingRules::from_json(&json!({ "body": v }), "m")
            .ok()
            .and_then(|r| r.category("body").cloned())
            .unwrap_or_default()
    }

    fn schema(example: Value, body_rules: Value) -> (Value, Vec<String>) {
        let mut notes = Vec::new();
        let s = SchemaBuilder::new(&mut notes).body(&example, &rules(body_rules));
        (s, notes)
    }

    #[test]
    fn values_without_rules_are_constants_and_objects_keep_extra_keys() {
        let (s, _) = schema(json!({"a": 1, "b": [true]}), json!({}));
        assert_eq!(
            s,
            json!({"type": "object", "required": ["a", "b"], "properties": {
                "a": {"const": 1},
                "b": {"type": "array", "prefixItems": [{"const": true}], "minItems": 1, "maxItems": 1}
            }})
        );
    }

    #[test]
    fn type_rules_cascade_and_arrays_follow_the_first_item() {
        let (s, _) = schema(
            json!({"users": [{"id": 1, "name": "Ann"}]}),
            json!({"$.users": {"matchers": [{"match": "type", "min": 1}]},
                   "$.users[*].id": {"matchers": [{"match": "integer"}]}}),
        );
        assert_eq!(
            s["properties"]["users"],
            json!({"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["id", "name"], "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}}}})
        );
    }

    #[test]
    fn regex_dates_and_or_rules() {
        let (s, notes) = schema(
            json!({"code": "AB12", "at": "2024-05-01", "n": 5}),
            json!({"$.code": {"matchers": [{"match": "regex", "regex": "[A-Z]+\\d+"}]},
                   "$.at": {"matchers": [{"match": "date", "format": "yyyy-MM-dd"}]},
                   "$.n": {"combine": "OR", "matchers": [{"match": "integer"}, {"match": "null"}]}}),
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            s["properties"]["code"],
            json!({"pattern": "^(?:[A-Z]+\\d+)$"})
        );
        assert_eq!(
            s["properties"]["at"],
            json!({"type": "string", "pattern": "^\\d{4,}\\-\\d{2}\\-\\d{2}$"})
        );
        assert_eq!(
            s["properties"]["n"],
            json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})
        );
    }

    #[test]
    fn values_and_each_key_free_the_keys() {
        let (s, _) = schema(
            json!({"prices": {"apple": 1.5}}),
            json!({"$.prices": {"matchers": [{"match": "values"}]},
                   "$.prices.*": {"matchers": [{"match": "number"}]}}),
        );
        assert_eq!(
            s["properties"]["prices"]["additionalProperties"],
            json!({"type": "number"})
        );
        assert!(s["properties"]["prices"].get("required").is_none());
        let (s, _) = schema(
            json!({"tags": {"a": "x"}}),
            json!({"$.tags": {"matchers": [{"match": "eachKey", "rules": [{"match": "regex", "regex": "[a-z]+"}]}]}}),
        );
        assert_eq!(
            s["properties"]["tags"]["propertyNames"],
            json!({"pattern": "^(?:[a-z]+)$"})
        );
    }

    #[test]
    fn array_contains_variants() {
        let (s, _) = schema(
            json!([{"id": 1, "kind": "a"}, {"id": 2, "kind": "b"}]),
            json!({"$": {"matchers": [{"match": "arrayContains", "variants": [
                {"index": 1, "rules": {"$.id": {"matchers": [{"match": "integer"}]}}}
            ]}]}}),
        );
        assert_eq!(
            s,
            json!({"type": "array", "allOf": [{"contains": {"type": "object", "required": ["id", "kind"],
                "properties": {"id": {"type": "integer"}, "kind": {"const": "b"}}}}]})
        );
    }

    #[test]
    fn date_patterns_accept_what_the_format_accepts() {
        use testmesh_contract::datetime::DateTimeFormat;
        for (format, text) in [
            ("yyyy-MM-dd", "2024-02-03"),
            ("HH:mm:ss", "04:05:06"),
            ("yyyy-MM-dd'T'HH:mm:ssXXX", "2024-02-03T04:05:06+01:00"),
            ("yyyy-MM-dd'T'HH:mm:ss.SSSX", "2024-02-03T04:05:06.789Z"),
            (
                "EEE, dd MMM yyyy HH:mm:ss Z",
                "Sat, 03 Feb 2024 04:05:06 +0100",
            ),
            ("dd/MM/yy h:mm a", "03/02/24 4:05 AM"),
        ] {
            let Ok(parsed) = DateTimeFormat::parse(format) else {
                panic!("{format}")
            };
            assert_eq!(parsed.validate(text), Ok(()), "{format}: {text}");
            let Some(pattern) = date_pattern(format) else {
                panic!("no pattern for {format}")
            };
            let Ok(re) = regex::Regex::new(&pattern) else {
                panic!("{pattern}")
            };
            assert!(re.is_match(text), "{format}: {text} !~ {pattern}");
            assert!(
                !re.is_match(&format!("x{text}")),
                "{pattern} is not anchored"
            );
        }
        assert_eq!(date_pattern("yyyy-bb"), None);
    }
}
