//! Matching rules: the matcher types of the Pact specification (V2–V4), rule lists combined with
//! AND/OR, and the per-category rule sets of a request, response or message.
//!
//! Rules are validated when read: an unknown `match` type, a regex that does not compile or a
//! date/time pattern with unknown letters is a [`PactError`] naming the rule's JSON path.

use std::fmt;

use serde_json::{Map, Value, json};

use crate::datetime::DateTimeFormat;
use crate::error::PactError;
use crate::path_expr::PathExpr;

/// A regular expression as written in a pact, compiled to match whole values.
#[derive(Debug, Clone)]
pub struct PactRegex {
    source: String,
    compiled: fancy_regex::Regex,
}

impl PactRegex {
    /// Compiles `source`; Pact regexes must match the whole value (as the reference's Oniguruma
    /// `is_match` does), and lookaround and backreferences are supported.
    pub fn new(source: &str) -> Result<Self, String> {
        let compiled =
            fancy_regex::Regex::new(&format!("^(?:{source})$")).map_err(|e| e.to_string())?;
        Ok(PactRegex {
            source: source.to_string(),
            compiled,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `value` matches. A backtracking limit hit counts as no match.
    pub fn is_match(&self, value: &str) -> bool {
        self.compiled.is_match(value).unwrap_or(false)
    }
}

impl PartialEq for PactRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// The status classes of the V4 `statusCode` matcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpStatus {
    /// 100–199.
    Information,
    /// 200–299.
    Success,
    /// 300–399.
    Redirect,
    /// 400–499.
    ClientError,
    /// 500–599.
    ServerError,
    /// Below 400.
    NonError,
    /// 400 and above.
    Error,
    /// One of the listed codes.
    Codes(Vec<u16>),
}

impl HttpStatus {
    /// Whether `status` belongs to this class.
    pub fn contains(&self, status: u16) -> bool {
        match self {
            HttpStatus::Information => (100..=199).contains(&status),
            HttpStatus::Success => (200..=299).contains(&status),
            HttpStatus::Redirect => (300..=399).contains(&status),
            HttpStatus::ClientError => (400..=499).contains(&status),
            HttpStatus::ServerError => (500..=599).contains(&status),
            HttpStatus::NonError => status < 400,
            HttpStatus::Error => status >= 400,
            HttpStatus::Codes(codes) => codes.contains(&status),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            HttpStatus::Information => json!("info"),
            HttpStatus::Success => json!("success"),
            HttpStatus::Redirect => json!("redirect"),
            HttpStatus::ClientError => json!("clientError"),
            HttpStatus::ServerError => json!("serverError"),
            HttpStatus::NonError => json!("nonError"),
            HttpStatus::Error => json!("error"),
            HttpStatus::Codes(codes) => json!(codes),
        }
    }
}

impl fmt::Display for HttpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpStatus::Codes(codes) => write!(
                f,
                "one of {}",
                codes
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => f.write_str(other.to_json().as_str().unwrap_or("?")),
        }
    }
}

/// The rules of an `eachKey`/`eachValue` matcher.
#[derive(Debug, Clone, PartialEq)]
pub struct EachRules {
    /// Rules applied to every key or value.
    pub rules: Vec<MatchingRule>,
    /// The example value, if the pact records one.
    pub value: Option<Value>,
}

/// One variant of an `arrayContains` matcher: the expected item at `index` must be found somewhere
/// in the actual array, compared with `rules` (paths relative to the item, `$` being the item).
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayVariant {
    /// Index of the expected example item.
    pub index: usize,
    /// Rules for the item.
    pub rules: RuleCategory,
    /// Generators for the item, kept as written.
    pub generators: Map<String, Value>,
}

/// A single matcher.
#[derive(Debug, Clone, PartialEq)]
pub enum MatchingRule {
    /// Values must be equal (the default).
    Equality,
    /// The string form of the value must match the whole regex.
    Regex(PactRegex),
    /// Same JSON type as the example.
    Type,
    /// Same type; arrays have at least this many items.
    MinType(usize),
    /// Same type; arrays have at most this many items.
    MaxType(usize),
    /// Same type; arrays have between min and max items.
    MinMaxType(usize, usize),
    /// The string form of the value contains this text.
    Include(String),
    /// An integer.
    Integer,
    /// A number with a fractional part.
    Decimal,
    /// Any number.
    Number,
    /// A date-time in this format.
    Timestamp(DateTimeFormat),
    /// A date in this format.
    Date(DateTimeFormat),
    /// A time in this format.
    Time(DateTimeFormat),
    /// A null value.
    Null,
    /// A boolean, or the strings `true`/`false`.
    Boolean,
    /// Content whose detected media type is this one.
    ContentType(String),
    /// Compare a map's values against the example's, ignoring keys.
    Values,
    /// Every variant is present somewhere in the actual array.
    ArrayContains(Vec<ArrayVariant>),
    /// The response status is in this class.
    StatusCode(HttpStatus),
    /// Present and not empty (not null, "", [] or {}).
    NotEmpty,
    /// A semantic version string.
    Semver,
    /// Rules applied to every key of a map.
    EachKey(EachRules),
    /// Rules applied to every value of a map or array.
    EachValue(EachRules),
}

const DEFAULT_DATE: &str = "yyyy-MM-dd";
const DEFAULT_TIME: &str = "HH:mm:ss";
const DEFAULT_DATETIME: &str = "yyyy-MM-dd'T'HH:mm:ssXXX";

impl MatchingRule {
    /// The `match` name the rule is written with.
    pub fn name(&self) -> &'static str {
        match self {
            MatchingRule::Equality => "equality",
            MatchingRule::Regex(_) => "regex",
            MatchingRule::Type
            | MatchingRule::MinType(_)
            | MatchingRule::MaxType(_)
            | MatchingRule::MinMaxType(..) => "type",
            MatchingRule::Include(_) => "include",
            MatchingRule::Integer => "integer",
            MatchingRule::Decimal => "decimal",
            MatchingRule::Number => "number",
            MatchingRule::Timestamp(_) => "datetime",
            MatchingRule::Date(_) => "date",
            MatchingRule::Time(_) => "time",
            MatchingRule::Null => "null",
            MatchingRule::Boolean => "boolean",
            MatchingRule::ContentType(_) => "contentType",
            MatchingRule::Values => "values",
            MatchingRule::ArrayContains(_) => "arrayContains",
            MatchingRule::StatusCode(_) => "statusCode",
            MatchingRule::NotEmpty => "notEmpty",
            MatchingRule::Semver => "semver",
            MatchingRule::EachKey(_) => "eachKey",
            MatchingRule::EachValue(_) => "eachValue",
        }
    }

    /// Whether the rule is a (min/max) type matcher.
    pub fn is_type_matcher(&self) -> bool {
        matches!(
            self,
            MatchingRule::Type
                | MatchingRule::MinType(_)
                | MatchingRule::MaxType(_)
                | MatchingRule::MinMaxType(..)
        )
    }

    /// Whether the rule applies to a collection as a whole, ignoring keys (values, eachValue,
    /// arrayContains).
    pub fn is_values_matcher(&self) -> bool {
        matches!(
            self,
            MatchingRule::Values | MatchingRule::EachValue(_) | MatchingRule::ArrayContains(_)
        )
    }

    /// Whether the rule, defined on an ancestor, also applies to descendants.
    pub fn can_cascade(&self) -> bool {
        !matches!(
            self,
            MatchingRule::Values | MatchingRule::EachValue(_) | MatchingRule::EachKey(_)
        )
    }

    /// Reads one matcher object. `path` names it in errors.
    pub fn from_json(value: &Value, path: &str) -> Result<Self, PactError> {
        let obj = value
            .as_object()
            .ok_or_else(|| PactError::invalid(path, "expected a matcher object"))?;
        let kind = match obj.get("match") {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => {
                return Err(PactError::invalid(
                    &format!("{path}.match"),
                    "expected a string",
                ));
            }
            // V2 rules may omit `match`: infer it from the attributes present.
            None if obj.contains_key("regex") => "regex",
            None if obj.contains_key("min") || obj.contains_key("max") => "type",
            None if obj.contains_key("timestamp") => "timestamp",
            None if obj.contains_key("date") => "date",
            None if obj.contains_key("time") => "time",
            None => return Err(PactError::invalid(path, "matcher has no 'match' type")),
        };
        let size = |key: &str| -> Result<Option<usize>, PactError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .map(Some)
                    .ok_or_else(|| {
                        PactError::invalid(
                            &format!("{path}.{key}"),
                            "expected a non-negative integer",
                        )
                    }),
            }
        };
        let string = |key: &str| -> Result<String, PactError> {
            match obj.get(key) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(PactError::invalid(
                    &format!("{path}.{key}"),
                    "expected a string",
                )),
                None => Err(PactError::invalid(
                    path,
                    format!("'{kind}' matcher needs '{key}'"),
                )),
            }
        };
        let format = |keys: &[&str], default: &str| -> Result<DateTimeFormat, PactError> {
            let pattern = keys
                .iter()
                .find_map(|k| obj.get(*k).and_then(Value::as_str))
                .unwrap_or(default);
            DateTimeFormat::parse(pattern).map_err(|message| PactError::InvalidFormat {
                path: path.to_string(),
                format: pattern.to_string(),
                message,
            })
        };
        Ok(match kind {
            "equality" => MatchingRule::Equality,
            "regex" => {
                let source = string("regex")?;
                let regex = PactRegex::new(&source).map_err(|message| PactError::InvalidRegex {
                    path: path.to_string(),
                    regex: source.clone(),
                    message,
                })?;
                MatchingRule::Regex(regex)
            }
            "type" | "min" | "max" => match (size("min")?, size("max")?) {
                (Some(min), Some(max)) => MatchingRule::MinMaxType(min, max),
                (Some(min), None) => MatchingRule::MinType(min),
                (None, Some(max)) => MatchingRule::MaxType(max),
                (None, None) => MatchingRule::Type,
            },
            "include" => MatchingRule::Include(string("value")?),
            "integer" => MatchingRule::Integer,
            "decimal" => MatchingRule::Decimal,
            "number" => MatchingRule::Number,
            "timestamp" | "datetime" => MatchingRule::Timestamp(format(
                &["format", "timestamp", "datetime"],
                DEFAULT_DATETIME,
            )?),
            "date" => MatchingRule::Date(format(&["format", "date"], DEFAULT_DATE)?),
            "time" => MatchingRule::Time(format(&["format", "time"], DEFAULT_TIME)?),
            "null" => MatchingRule::Null,
            "boolean" => MatchingRule::Boolean,
            "contentType" | "content-type" => MatchingRule::ContentType(string("value")?),
            "values" => MatchingRule::Values,
            "arrayContains" | "array-contains" => {
                let variants = match obj.get("variants") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| ArrayVariant::from_json(v, &format!("{path}.variants[{i}]")))
                        .collect::<Result<Vec<_>, _>>()?,
                    None => Vec::new(),
                    Some(_) => {
                        return Err(PactError::invalid(
                            &format!("{path}.variants"),
                            "expected an array",
                        ));
                    }
                };
                MatchingRule::ArrayContains(variants)
            }
            "statusCode" | "status-code" => {
                let status_path = format!("{path}.status");
                let status = match obj.get("status") {
                    Some(Value::String(s)) => match s.as_str() {
                        "info" | "information" => HttpStatus::Information,
                        "success" => HttpStatus::Success,
                        "redirect" => HttpStatus::Redirect,
                        "clientError" => HttpStatus::ClientError,
                        "serverError" => HttpStatus::ServerError,
                        "nonError" => HttpStatus::NonError,
                        "error" => HttpStatus::Error,
                        other => {
                            return Err(PactError::invalid(
                                &status_path,
                                format!("unknown status class '{other}'"),
                            ));
                        }
                    },
                    Some(Value::Array(codes)) => HttpStatus::Codes(
                        codes
                            .iter()
                            .map(|c| c.as_u64().and_then(|n| u16::try_from(n).ok()))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| {
                                PactError::invalid(&status_path, "expected a list of status codes")
                            })?,
                    ),
                    _ => {
                        return Err(PactError::invalid(
                            &status_path,
                            "expected a status class or a list of codes",
                        ));
                    }
                };
                MatchingRule::StatusCode(status)
            }
            "notEmpty" | "not-empty" => MatchingRule::NotEmpty,
            "semver" => MatchingRule::Semver,
            "eachKey" | "each-key" => MatchingRule::EachKey(EachRules::from_json(obj, path)?),
            "eachValue" | "each-value" => MatchingRule::EachValue(EachRules::from_json(obj, path)?),
            other => {
                return Err(PactError::UnknownMatcher {
                    path: path.to_string(),
                    matcher: other.to_string(),
                });
            }
        })
    }

    /// The V3/V4 JSON form of the matcher.
    pub fn to_json(&self) -> Value {
        match self {
            MatchingRule::Regex(r) => json!({"match": "regex", "regex": r.as_str()}),
            MatchingRule::MinType(min) => json!({"match": "type", "min": min}),
            MatchingRule::MaxType(max) => json!({"match": "type", "max": max}),
            MatchingRule::MinMaxType(min, max) => json!({"match": "type", "min": min, "max": max}),
            MatchingRule::Include(v) => json!({"match": "include", "value": v}),
            MatchingRule::Timestamp(f) => json!({"match": "datetime", "format": f.pattern()}),
            MatchingRule::Date(f) => json!({"match": "date", "format": f.pattern()}),
            MatchingRule::Time(f) => json!({"match": "time", "format": f.pattern()}),
            MatchingRule::ContentType(v) => json!({"match": "contentType", "value": v}),
            MatchingRule::ArrayContains(variants) => json!({
                "match": "arrayContains",
                "variants": variants.iter().map(ArrayVariant::to_json).collect::<Vec<_>>()
            }),
            MatchingRule::StatusCode(status) => {
                json!({"match": "statusCode", "status": status.to_json()})
            }
            MatchingRule::EachKey(each) | MatchingRule::EachValue(each) => {
                let mut obj = Map::new();
                obj.insert("match".into(), json!(self.name()));
                obj.insert(
                    "rules".into(),
                    Value::Array(each.rules.iter().map(MatchingRule::to_json).collect()),
                );
                if let Some(v) = &each.value {
                    obj.insert("value".into(), v.clone());
                }
                Value::Object(obj)
            }
            other => json!({"match": other.name()}),
        }
    }
}

impl EachRules {
    fn from_json(obj: &Map<String, Value>, path: &str) -> Result<Self, PactError> {
        let rules = match obj.get("rules") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| MatchingRule::from_json(v, &format!("{path}.rules[{i}]")))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
            Some(_) => {
                return Err(PactError::invalid(
                    &format!("{path}.rules"),
                    "expected an array",
                ));
            }
        };
        Ok(EachRules {
            rules,
            value: obj.get("value").cloned(),
        })
    }
}

impl ArrayVariant {
    fn from_json(value: &Value, path: &str) -> Result<Self, PactError> {
        let obj = value
            .as_object()
            .ok_or_else(|| PactError::invalid(path, "expected a variant object"))?;
        let index = obj
            .get("index")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                PactError::invalid(&format!("{path}.index"), "expected a non-negative integer")
            })?;
        let rules = match obj.get("rules") {
            Some(v) => RuleCategory::from_json(v, &format!("{path}.rules"), CategoryKind::Body)?,
            None => RuleCategory::default(),
        };
        let generators = match obj.get("generators") {
            Some(Value::Object(m)) => m.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(_) => {
                return Err(PactError::invalid(
                    &format!("{path}.generators"),
                    "expected an object",
                ));
            }
        };
        Ok(ArrayVariant {
            index,
            rules,
            generators,
        })
    }

    fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("index".into(), json!(self.index));
        obj.insert("rules".into(), self.rules.to_json());
        if !self.generators.is_empty() {
            obj.insert("generators".into(), Value::Object(self.generators.clone()));
        }
        Value::Object(obj)
    }
}

/// How the results of the rules in a list are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Combine {
    /// All rules must match.
    #[default]
    And,
    /// At least one rule must match.
    Or,
}

/// The rules for one location, with how they combine.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleList {
    /// The rules, in order.
    pub rules: Vec<MatchingRule>,
    /// AND (default) or OR.
    pub combine: Combine,
}

impl RuleList {
    /// A list of one rule.
    pub fn single(rule: MatchingRule) -> Self {
        RuleList {
            rules: vec![rule],
            combine: Combine::And,
        }
    }

    fn from_json(value: &Value, path: &str) -> Result<Self, PactError> {
        let obj = value
            .as_object()
            .ok_or_else(|| PactError::invalid(path, "expected an object with 'matchers'"))?;
        let combine = match obj.get("combine") {
            None | Some(Value::Null) => Combine::And,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("and") => Combine::And,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("or") => Combine::Or,
            Some(_) => {
                return Err(PactError::invalid(
                    &format!("{path}.combine"),
                    "expected \"AND\" or \"OR\"",
                ));
            }
        };
        let rules = match obj.get("matchers") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| MatchingRule::from_json(v, &format!("{path}.matchers[{i}]")))
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(PactError::invalid(
                    &format!("{path}.matchers"),
                    "expected an array",
                ));
            }
            // A V2 rule is a single matcher object.
            None => vec![MatchingRule::from_json(value, path)?],
        };
        Ok(RuleList { rules, combine })
    }

    fn to_json(&self) -> Value {
        json!({
            "combine": match self.combine { Combine::And => "AND", Combine::Or => "OR" },
            "matchers": self.rules.iter().map(MatchingRule::to_json).collect::<Vec<_>>(),
        })
    }
}

/// How a category's keys are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CategoryKind {
    /// Keys are path expressions (`body`, `content`).
    Body,
    /// Keys are names (`header`, `query`, `metadata`).
    Named,
    /// No keys: one rule list (`path`, `status`).
    Single,
}

pub(crate) fn category_kind(name: &str) -> CategoryKind {
    match name {
        "path" | "status" | "method" => CategoryKind::Single,
        "header" | "query" | "metadata" => CategoryKind::Named,
        _ => CategoryKind::Body,
    }
}

/// The rules of one category, keyed by location, in the order written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleCategory {
    /// (location, rules) pairs. Single-value categories use the key `$`.
    pub entries: Vec<(PathExpr, RuleList)>,
}

impl RuleCategory {
    /// Whether the category has no rules.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds (or extends) the rules at `key`.
    pub fn add(&mut self, key: PathExpr, list: RuleList) {
        if let Some((_, existing)) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            existing.rules.extend(list.rules);
        } else {
            self.entries.push((key, list));
        }
    }

    /// The rule list of a single-value category (`path`, `status`).
    pub fn single(&self) -> Option<&RuleList> {
        self.entries.first().map(|(_, list)| list)
    }

    pub(crate) fn from_json(
        value: &Value,
        path: &str,
        kind: CategoryKind,
    ) -> Result<Self, PactError> {
        let mut category = RuleCategory::default();
        if kind == CategoryKind::Single {
            category.add(PathExpr::named("$"), RuleList::from_json(value, path)?);
            return Ok(category);
        }
        let obj = value
            .as_object()
            .ok_or_else(|| PactError::invalid(path, "expected an object"))?;
        for (key, rules) in obj {
            let rule_path = format!("{path}['{key}']");
            let expr = match kind {
                CategoryKind::Body => {
                    PathExpr::parse(key).map_err(|m| PactError::invalid(&rule_path, m))?
                }
                _ => PathExpr::named(key),
            };
            category.add(expr, RuleList::from_json(rules, &rule_path)?);
        }
        Ok(category)
    }

    pub(crate) fn to_json(&self) -> Value {
        Value::Object(
            self.entries
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_json()))
                .collect(),
        )
    }
}

/// All the rules of a request, response or message, by category (`body`, `header`, `query`,
/// `path`, `status`, `metadata`, `content`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchingRules {
    /// Category name → rules, in the order written.
    pub categories: Vec<(String, RuleCategory)>,
}

impl MatchingRules {
    /// Whether there are no rules at all.
    pub fn is_empty(&self) -> bool {
        self.categories.iter().all(|(_, c)| c.is_empty())
    }

    /// The rules of a category, if any.
    pub fn category(&self, name: &str) -> Option<&RuleCategory> {
        self.categories
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
    }

    /// The rules of a category, created empty when absent.
    pub fn category_mut(&mut self, name: &str) -> &mut RuleCategory {
        let index = match self.categories.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.categories
                    .push((name.to_string(), RuleCategory::default()));
                self.categories.len() - 1
            }
        };
        &mut self.categories[index].1
    }

    /// Reads V3/V4 rules (`{"body": {"$.a": {"matchers": [...]}}, "path": {...}}`).
    pub fn from_json(value: &Value, path: &str) -> Result<Self, PactError> {
        let obj = value
            .as_object()
            .ok_or_else(|| PactError::invalid(path, "expected an object"))?;
        let mut rules = MatchingRules::default();
        for (name, category) in obj {
            // V3 wrote `headers`; V4 writes `header`.
            let canonical = match name.as_str() {
                "headers" => "header",
                other => other,
            };
            let parsed = RuleCategory::from_json(
                category,
                &format!("{path}.{name}"),
                category_kind(canonical),
            )?;
            for (key, list) in parsed.entries {
                rules.category_mut(canonical).add(key, list);
            }
        }
        Ok(rules)
    }

    /// Reads V2 rules: one flat map of `$.body.x`, `$.headers.X`, `$.query.q`, `$.path` keys.
    pub fn from_v2_json(value: &Value, path: &str) -> Result<Self, PactError> {
        let obj = value
            .as_object()
            .ok_or_else(|| PactError::invalid(path, "expected an object"))?;
        let mut rules = MatchingRules::default();
        for (key, rule) in obj {
            let rule_path = format!("{path}['{key}']");
            let list = RuleList::from_json(rule, &rule_path)?;
            let (category, expr) = if key == "$.path" {
                ("path", PathExpr::named("$"))
            } else if key == "$.status" {
                ("status", PathExpr::named("$"))
            } else if let Some(rest) = key.strip_prefix("$.body") {
                let expr = PathExpr::parse(&format!("${rest}"))
                    .map_err(|m| PactError::invalid(&rule_path, m))?;
                ("body", expr)
            } else if let Some(name) = key
                .strip_prefix("$.headers.")
                .or_else(|| key.strip_prefix("$.header."))
            {
                ("header", PathExpr::named(strip_brackets(name)))
            } else if let Some(name) = key.strip_prefix("$.query.") {
                ("query", PathExpr::named(strip_brackets(name)))
            } else {
                return Err(PactError::invalid(
                    &rule_path,
                    "a V2 rule path must start with $.body, $.headers, $.query or $.path",
                ));
            };
            rules.category_mut(category).add(expr, list);
        }
        Ok(rules)
    }

    /// The V4 JSON form; empty categories are left out.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.categories
                .iter()
                .filter(|(_, c)| !c.is_empty())
                .map(|(name, category)| {
                    let value = match category_kind(name) {
                        CategoryKind::Single => category
                            .single()
                            .map(RuleList::to_json)
                            .unwrap_or(Value::Null),
                        _ => category.to_json(),
                    };
                    (name.clone(), value)
                })
                .collect(),
        )
    }
}

fn strip_brackets(name: &str) -> &str {
    name.strip_prefix("['")
        .and_then(|n| n.strip_suffix("']"))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> Result<MatchingRule, PactError> {
        MatchingRule::from_json(&v, "r")
    }

    #[test]
    fn reads_every_matcher_type() {
        let cases = [
            json!({"match": "equality"}),
            json!({"match": "regex", "regex": "\\d+"}),
            json!({"match": "type"}),
            json!({"match": "type", "min": 1}),
            json!({"match": "type", "max": 3}),
            json!({"match": "type", "min": 1, "max": 3}),
            json!({"match": "include", "value": "x"}),
            json!({"match": "integer"}),
            json!({"match": "decimal"}),
            json!({"match": "number"}),
            json!({"match": "datetime", "format": "yyyy-MM-dd HH:mm"}),
            json!({"match": "date", "format": "yyyy-MM-dd"}),
            json!({"match": "time", "format": "HH:mm"}),
            json!({"match": "null"}),
            json!({"match": "boolean"}),
            json!({"match": "contentType", "value": "image/png"}),
            json!({"match": "values"}),
            json!({"match": "arrayContains", "variants": [{"index": 0, "rules": {"$.id": {"matchers": [{"match": "integer"}]}}}]}),
            json!({"match": "statusCode", "status": "success"}),
            json!({"match": "statusCode", "status": [200, 201]}),
            json!({"match": "notEmpty"}),
            json!({"match": "semver"}),
            json!({"match": "eachKey", "rules": [{"match": "regex", "regex": "[a-z]+"}]}),
            json!({"match": "eachValue", "rules": [{"match": "type"}]}),
        ];
        for case in cases {
            let parsed = rule(case.clone()).unwrap();
            let again = rule(parsed.to_json()).unwrap();
            assert_eq!(parsed, again, "{case}");
        }
    }

    #[test]
    fn unknown_matchers_and_bad_regexes_are_errors_naming_the_rule() {
        assert_eq!(
            rule(json!({"match": "fuzzy"})).unwrap_err().to_string(),
            "r: unknown matcher type 'fuzzy'"
        );
        let err = rule(json!({"match": "regex", "regex": "(unclosed"})).unwrap_err();
        assert!(matches!(err, PactError::InvalidRegex { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("r: invalid regular expression '(unclosed'")
        );
        assert!(matches!(
            rule(json!({"match": "date", "format": "yyyy-bb"})).unwrap_err(),
            PactError::InvalidFormat { .. }
        ));
        assert!(rule(json!({"match": "type", "min": -1})).is_err());
        assert!(rule(json!("type")).is_err());
    }

    #[test]
    fn regexes_match_whole_values_with_lookaround() {
        let re = PactRegex::new("\\d+").unwrap();
        assert!(re.is_match("123"));
        assert!(!re.is_match("a123"));
        let look = PactRegex::new("(?=.*[A-Z])(?!.*x)\\w+").unwrap();
        assert!(look.is_match("abCd"));
        assert!(!look.is_match("abCx"));
        assert!(!look.is_match("abcd"));
    }

    #[test]
    fn reads_v2_flat_rules() {
        let rules = MatchingRules::from_v2_json(
            &json!({
                "$.body.animals": {"min": 1, "match": "type"},
                "$.headers.Accept": {"regex": "\\w+"},
                "$.query.q": {"match": "type"},
                "$.path": {"regex": "/\\d+"}
            }),
            "m",
        )
        .unwrap();
        let body = rules.category("body").unwrap();
        assert_eq!(body.entries[0].0.as_str(), "$.animals");
        assert_eq!(body.entries[0].1.rules, vec![MatchingRule::MinType(1)]);
        assert!(rules.category("header").is_some());
        assert!(rules.category("query").is_some());
        assert!(
            rules
                .category("path")
                .and_then(RuleCategory::single)
                .is_some()
        );
    }
}
