//! Generators: values a pact asks to be produced at verification time instead of its examples
//! (a fresh UUID, a random integer, today's date, an id the provider-state setup returned).
//!
//! [`generate_request`] applies a request's generators the way the reference verifier does in
//! "provider" mode: `RandomInt`, `RandomDecimal`, `RandomHexadecimal`, `RandomString`,
//! `RandomBoolean`, `Regex`, `Uuid`, `Date`, `Time`, `DateTime` and `ProviderState` (values from
//! the provider-state parameters and the state-change responses). `MockServerURL` only applies to
//! consumer tests and is left alone. A generator that cannot produce a value leaves the example
//! in place and says why in [`Generated::warnings`].

use chrono::{DateTime, Duration, Local, Months};
use rand::RngExt as _;
use rand::distr::Alphanumeric;
use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::{Map, Value};

use crate::body::Body;
use crate::datetime::DateTimeFormat;
use crate::model::{HttpRequest, Multimap};
use crate::path_expr::{PathExpr, PathToken};
use crate::rules::PactRegex;

/// Values generators may refer to: provider-state parameters merged with the JSON values the
/// state-change URL answered.
pub type GeneratorContext = Map<String, Value>;

/// A request with its generators applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The request to send.
    pub request: HttpRequest,
    /// Generators that could not run, each with its location (`body $.id: …`).
    pub warnings: Vec<String>,
}

/// Applies the request's generators (categories `path`, `query`, `header`, `body`).
pub fn generate_request(request: &HttpRequest, context: &GeneratorContext) -> Generated {
    let mut out = request.clone();
    let mut warnings = Vec::new();
    let categories = &request.generators.categories;
    if let Some(generator) = categories.get("path").and_then(single_generator) {
        match generate(generator, &Value::String(request.path.clone()), context) {
            Ok(value) => out.path = as_text(&value),
            Err(e) => warnings.push(format!("path: {e}")),
        }
    }
    for (category, map) in [("query", &mut out.query), ("header", &mut out.headers)] {
        if let Some(Value::Object(generators)) = categories.get(category) {
            apply_multimap(category, generators, map, context, &mut warnings);
        }
    }
    if let Some(Value::Object(generators)) = categories.get("body") {
        out.body = generate_body(&request.body, generators, context, &mut warnings);
    }
    Generated {
        request: out,
        warnings,
    }
}

/// `path` and `status` hold one generator; accept it bare or wrapped in an object with one key.
fn single_generator(value: &Value) -> Option<&Map<String, Value>> {
    let obj = value.as_object()?;
    if obj.contains_key("type") {
        Some(obj)
    } else {
        obj.values().next().and_then(Value::as_object)
    }
}

fn apply_multimap(
    category: &str,
    generators: &Map<String, Value>,
    map: &mut Multimap,
    context: &GeneratorContext,
    warnings: &mut Vec<String>,
) {
    for (name, generator) in generators {
        let Some(generator) = generator.as_object() else {
            continue;
        };
        // Headers are case-insensitive; query names are not.
        let key = map
            .keys()
            .find(|k| {
                if category == "header" {
                    k.eq_ignore_ascii_case(name)
                } else {
                    *k == name
                }
            })
            .cloned();
        let key = key.unwrap_or_else(|| name.clone());
        let values = map.entry(key).or_default();
        if values.is_empty() {
            values.push(String::new());
        }
        for value in values.iter_mut() {
            match generate(generator, &Value::String(value.clone()), context) {
                Ok(v) => *value = as_text(&v),
                Err(e) => warnings.push(format!("{category} {name}: {e}")),
            }
        }
    }
}

fn generate_body(
    body: &Body,
    generators: &Map<String, Value>,
    context: &GeneratorContext,
    warnings: &mut Vec<String>,
) -> Body {
    let Body::Present {
        content,
        content_type,
        content_type_hint,
    } = body
    else {
        return body.clone();
    };
    let is_json = content_type
        .clone()
        .or_else(|| crate::body::detect_content_type(content))
        .is_some_and(|ct| ct.is_json());
    let parsed = if is_json {
        serde_json::from_slice::<Value>(content).ok()
    } else {
        None
    };
    let Some(mut document) = parsed else {
        // A non-JSON body can only be replaced whole, by a generator at `$`.
        if let Some(generator) = generators.get("$").and_then(Value::as_object) {
            let text = String::from_utf8_lossy(content).to_string();
            match generate(generator, &Value::String(text), context) {
                Ok(v) => {
                    return Body::Present {
                        content: as_text(&v).into_bytes(),
                        content_type: content_type.clone(),
                        content_type_hint: content_type_hint.clone(),
                    };
                }
                Err(e) => warnings.push(format!("body $: {e}")),
            }
        } else if !generators.is_empty() {
            warnings.push(
                "body: generators on a body that is not JSON are not applied (only one at `$`)"
                    .to_string(),
            );
        }
        return body.clone();
    };
    for (key, generator) in generators {
        let Some(generator) = generator.as_object() else {
            continue;
        };
        let expr = PathExpr::parse(key).or_else(|_| PathExpr::parse(&format!("$.{key}")));
        let Ok(expr) = expr else {
            warnings.push(format!("body {key}: not a path expression"));
            continue;
        };
        let mut location = vec!["$".to_string()];
        let mut applied = false;
        apply_at(
            &mut document,
            &mut location,
            &expr,
            generator,
            context,
            warnings,
            &mut applied,
        );
        if !applied {
            warnings.push(format!("body {key}: no such location in the body"));
        }
    }
    Body::Present {
        content: document.to_string().into_bytes(),
        content_type: content_type.clone(),
        content_type_hint: content_type_hint.clone(),
    }
}

fn apply_at(
    node: &mut Value,
    location: &mut Vec<String>,
    expr: &PathExpr,
    generator: &Map<String, Value>,
    context: &GeneratorContext,
    warnings: &mut Vec<String>,
    applied: &mut bool,
) {
    if expr.matches_exactly(location) {
        *applied = true;
        match generate(generator, node, context) {
            Ok(value) => *node = value,
            Err(e) => warnings.push(format!(
                "body {}: {e}",
                crate::path_expr::format_location(location)
            )),
        }
        return;
    }
    // Only descend while the expression can still match below here.
    if location.len() >= expr.tokens().len() || !prefix_matches(expr, location) {
        return;
    }
    match node {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                location.push(k.clone());
                apply_at(v, location, expr, generator, context, warnings, applied);
                location.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                location.push(i.to_string());
                apply_at(v, location, expr, generator, context, warnings, applied);
                location.pop();
            }
        }
        _ => {}
    }
}

/// Whether the expression's first tokens accept `location` (so a descendant may match).
fn prefix_matches(expr: &PathExpr, location: &[String]) -> bool {
    expr.tokens()
        .iter()
        .zip(location)
        .all(|(token, segment)| match token {
            PathToken::Root => segment == "$",
            PathToken::Field(name) => name == segment,
            PathToken::Index(i) => segment.parse::<usize>().is_ok_and(|s| s == *i),
            PathToken::StarIndex => segment.parse::<usize>().is_ok(),
            PathToken::Star => true,
        })
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Produces one value. `example` is the value in the pact (its type guides `ProviderState`).
pub fn generate(
    generator: &Map<String, Value>,
    example: &Value,
    context: &GeneratorContext,
) -> Result<Value, String> {
    let kind = generator
        .get("type")
        .and_then(Value::as_str)
        .ok_or("generator has no 'type'")?;
    let number = |key: &str, default: u64| -> u64 {
        generator
            .get(key)
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(default)
    };
    let int = |key: &str, default: i64| -> i64 {
        generator
            .get(key)
            .and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(default)
    };
    let mut rng = rand::rng();
    match kind {
        "RandomInt" => {
            let (min, max) = (int("min", 0), int("max", i64::from(i32::MAX)));
            if min > max {
                return Err(format!("RandomInt: min {min} is greater than max {max}"));
            }
            Ok(Value::from(rng.random_range(min..=max)))
        }
        "RandomDecimal" => {
            let digits = number("digits", 10).clamp(2, 15) as usize;
            let text = random_decimal(digits);
            serde_json::from_str::<Value>(&text).map_err(|e| format!("RandomDecimal: {e}"))
        }
        "RandomHexadecimal" => {
            let digits = number("digits", 10) as usize;
            Ok(Value::String(
                (0..digits)
                    .map(|_| char::from_digit(rng.random_range(0..16u32), 16).unwrap_or('0'))
                    .collect(),
            ))
        }
        "RandomString" => {
            let size = number("size", 10) as usize;
            Ok(Value::String(
                (0..size)
                    .map(|_| char::from(rng.sample(Alphanumeric)))
                    .collect(),
            ))
        }
        "RandomBoolean" => Ok(Value::Bool(rng.random_bool(0.5))),
        "Uuid" => {
            let id = uuid::Uuid::new_v4();
            let format = generator
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or("lower-case-hyphenated");
            Ok(Value::String(match format {
                "simple" => id.simple().to_string(),
                "upper-case-hyphenated" => id.hyphenated().to_string().to_uppercase(),
                "URN" => id.urn().to_string(),
                _ => id.hyphenated().to_string(),
            }))
        }
        "Regex" => {
            let source = generator
                .get("regex")
                .and_then(Value::as_str)
                .ok_or("Regex generator needs 'regex'")?;
            regex_value(source).map(Value::String)
        }
        "Date" | "Time" | "DateTime" | "Timestamp" => {
            let default = match kind {
                "Date" => "yyyy-MM-dd",
                "Time" => "HH:mm:ss",
                _ => "yyyy-MM-dd'T'HH:mm:ssXXX",
            };
            let pattern = generator
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or(default);
            let format = DateTimeFormat::parse(pattern)
                .map_err(|e| format!("{kind}: format '{pattern}': {e}"))?;
            let at = match generator.get("expression").and_then(Value::as_str) {
                Some(expression) => shift(Local::now(), expression)?,
                None => Local::now(),
            };
            Ok(Value::String(format.format(&at)))
        }
        "ProviderState" => {
            let expression = generator
                .get("expression")
                .and_then(Value::as_str)
                .ok_or("ProviderState generator needs 'expression'")?;
            let value = substitute(expression, context)?;
            let data_type = generator
                .get("dataType")
                .and_then(Value::as_str)
                .unwrap_or("RAW");
            convert(value, data_type, example)
        }
        "MockServerURL" => Ok(example.clone()),
        other => Err(format!("unknown generator type '{other}'")),
    }
}

fn random_decimal(digits: usize) -> String {
    let mut rng = rand::rng();
    let mut text: String = std::iter::once(char::from(b'1' + rng.random_range(0..9u8)))
        .chain((1..digits).map(|_| char::from(b'0' + rng.random_range(0..10u8))))
        .collect();
    let point = rng.random_range(1..digits);
    text.insert(point, '.');
    // A trailing zero after the point would make the JSON number lose a digit; replace it.
    if text.ends_with('0') {
        text.pop();
        text.push('1');
    }
    text
}

/// Replaces `${name}` references with context values. An expression that is exactly one
/// reference keeps the value's JSON type.
fn substitute(expression: &str, context: &GeneratorContext) -> Result<Value, String> {
    let lookup = |name: &str| -> Result<&Value, String> {
        context.get(name).ok_or_else(|| {
            format!(
                "ProviderState: no value for '{name}' (provider-state parameters and state-change \
                 responses give: {})",
                if context.is_empty() {
                    "nothing".to_string()
                } else {
                    context.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            )
        })
    };
    let trimmed = expression.trim();
    if let Some(name) = trimmed
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .filter(|n| !n.contains("${") && !n.contains('}'))
    {
        return lookup(name.trim()).cloned();
    }
    let mut out = String::new();
    let mut rest = expression;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("ProviderState: unterminated '${{' in '{expression}'"))?;
        out.push_str(&as_text(lookup(after[..end].trim())?));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

fn convert(value: Value, data_type: &str, example: &Value) -> Result<Value, String> {
    let text = as_text(&value);
    let fail = |what: &str| format!("ProviderState: '{text}' is not {what}");
    match data_type.to_ascii_uppercase().as_str() {
        "STRING" => Ok(Value::String(text)),
        "INTEGER" => match &value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value),
            _ => text
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| fail("an integer")),
        },
        "DECIMAL" | "FLOAT" => match &value {
            Value::Number(_) => Ok(value),
            _ => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| fail("a number")),
        },
        "BOOLEAN" => match (&value, text.trim()) {
            (Value::Bool(_), _) => Ok(value),
            (_, "true") => Ok(Value::Bool(true)),
            (_, "false") => Ok(Value::Bool(false)),
            _ => Err(fail("a boolean")),
        },
        // RAW: keep the value; a string replacing a number in the example is converted back when
        // it reads as one, as the reference does.
        _ => match (&value, example) {
            (Value::String(s), Value::Number(_)) => Ok(serde_json::from_str::<Value>(s)
                .ok()
                .filter(Value::is_number)
                .unwrap_or(value)),
            _ => Ok(value),
        },
    }
}

/// Applies a date expression (`+1 day`, `-2 hours`, `tomorrow`, `now + 3 months`) to `at`.
fn shift(at: DateTime<Local>, expression: &str) -> Result<DateTime<Local>, String> {
    let bad = || format!("unsupported date expression '{expression}'");
    let mut at = at;
    let mut sign = 1i64;
    let mut amount: Option<i64> = None;
    for word in expression
        .replace('+', " + ")
        .replace('-', " - ")
        .split_whitespace()
    {
        match word.to_ascii_lowercase().as_str() {
            "now" | "today" => {}
            "tomorrow" => at += Duration::days(1),
            "yesterday" => at -= Duration::days(1),
            "+" => sign = 1,
            "-" => sign = -1,
            number if number.chars().all(|c| c.is_ascii_digit()) => {
                amount = Some(number.parse().map_err(|_| bad())?);
            }
            unit => {
                let n = sign * amount.take().ok_or_else(bad)?;
                let unit = unit.trim_end_matches('s');
                at = match unit {
                    "second" => at + Duration::seconds(n),
                    "minute" => at + Duration::minutes(n),
                    "hour" => at + Duration::hours(n),
                    "day" => at + Duration::days(n),
                    "week" => at + Duration::weeks(n),
                    "fortnight" => at + Duration::weeks(2 * n),
                    "month" | "year" => {
                        let months =
                            u32::try_from(n.unsigned_abs() * if unit == "year" { 12 } else { 1 })
                                .map_err(|_| bad())?;
                        if n >= 0 {
                            at.checked_add_months(Months::new(months))
                        } else {
                            at.checked_sub_months(Months::new(months))
                        }
                        .ok_or_else(bad)?
                    }
                    _ => return Err(bad()),
                };
                sign = 1;
            }
        }
    }
    if amount.is_some() {
        return Err(bad());
    }
    Ok(at)
}

/// Generates a string matching `source`, then checks it with the pact regex engine. Expressions
/// `regex-syntax` cannot read (lookaround, backreferences) are an error.
pub fn regex_value(source: &str) -> Result<String, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(source)
        .map_err(|e| format!("Regex: cannot generate from '{source}': {e}"))?;
    let check = PactRegex::new(source).map_err(|e| format!("Regex '{source}': {e}"))?;
    for _ in 0..10 {
        let mut out = String::new();
        sample(&hir, &mut out);
        if check.is_match(&out) {
            return Ok(out);
        }
    }
    Err(format!(
        "Regex: could not generate a value matching '{source}'"
    ))
}

fn sample(hir: &Hir, out: &mut String) {
    let mut rng = rand::rng();
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
        HirKind::Class(Class::Unicode(class)) => {
            // Prefer printable ASCII, so ids stay readable.
            let ascii: Vec<(u32, u32)> = class
                .ranges()
                .iter()
                .filter_map(|r| {
                    let (lo, hi) = (u32::from(r.start()).max(0x21), u32::from(r.end()).min(0x7e));
                    (lo <= hi).then_some((lo, hi))
                })
                .collect();
            let ranges: Vec<(u32, u32)> = if ascii.is_empty() {
                class
                    .ranges()
                    .iter()
                    .map(|r| (u32::from(r.start()), u32::from(r.end())))
                    .collect()
            } else {
                ascii
            };
            if let Some(&(lo, hi)) = ranges.get(rng.random_range(0..ranges.len().max(1))) {
                let c = char::from_u32(rng.random_range(lo..=hi)).unwrap_or('a');
                out.push(c);
            }
        }
        HirKind::Class(Class::Bytes(class)) => {
            let ranges = class.ranges();
            if let Some(r) = ranges.get(rng.random_range(0..ranges.len().max(1))) {
                let b = rng.random_range(r.start().max(0x21)..=r.end().clamp(0x21, 0x7e));
                out.push(char::from(b));
            }
        }
        HirKind::Repetition(rep) => {
            let max = rep.max.unwrap_or(rep.min + 8).min(rep.min + 8);
            let count = rng.random_range(rep.min..=max.max(rep.min));
            for _ in 0..count {
                sample(&rep.sub, out);
            }
        }
        HirKind::Capture(cap) => sample(&cap.sub, out),
        HirKind::Concat(parts) => {
            for part in parts {
                sample(part, out);
            }
        }
        HirKind::Alternation(parts) => {
            if let Some(part) = parts.get(rng.random_range(0..parts.len().max(1))) {
                sample(part, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn produce(g: Value) -> Value {
        generate(g.as_object().unwrap(), &Value::Null, &Map::new()).unwrap()
    }

    #[test]
    fn random_values_have_the_asked_shape() {
        let n = produce(json!({"type": "RandomInt", "min": 5, "max": 7}));
        assert!((5..=7).contains(&n.as_i64().unwrap()));
        assert!(produce(json!({"type": "RandomDecimal", "digits": 6})).is_f64());
        let hex = produce(json!({"type": "RandomHexadecimal", "digits": 8}));
        assert!(hex.as_str().unwrap().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(hex.as_str().unwrap().len(), 8);
        assert_eq!(
            produce(json!({"type": "RandomString", "size": 12}))
                .as_str()
                .unwrap()
                .len(),
            12
        );
        let id = produce(json!({"type": "Uuid"}));
        assert!(uuid::Uuid::parse_str(id.as_str().unwrap()).is_ok());
        assert_eq!(
            produce(json!({"type": "Uuid", "format": "simple"}))
                .as_str()
                .unwrap()
                .len(),
            32
        );
    }

    #[test]
    fn dates_follow_their_format() {
        let date = produce(json!({"type": "Date", "format": "yyyy-MM-dd"}));
        DateTimeFormat::parse("yyyy-MM-dd")
            .unwrap()
            .validate(date.as_str().unwrap())
            .unwrap();
        let pattern = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";
        let dt = produce(json!({"type": "DateTime", "format": pattern}));
        DateTimeFormat::parse(pattern)
            .unwrap()
            .validate(dt.as_str().unwrap())
            .unwrap();
        let time = produce(json!({"type": "Time", "format": "hh:mm a"}));
        DateTimeFormat::parse("hh:mm a")
            .unwrap()
            .validate(time.as_str().unwrap())
            .unwrap();
        let today = Local::now().format("%Y-%m-%d").to_string();
        let tomorrow = produce(json!({"type": "Date", "expression": "+1 day"}));
        assert_ne!(tomorrow.as_str().unwrap(), today);
    }

    #[test]
    fn regex_values_match_their_regex() {
        for re in [r"\d{3}-[A-Z]{2}", "(red|green|blue)", r"[a-f0-9]{8}"] {
            let v = regex_value(re).unwrap();
            assert!(PactRegex::new(re).unwrap().is_match(&v), "{re} -> {v}");
        }
        assert!(regex_value("a(?=b)").is_err());
    }

    #[test]
    fn provider_state_values_keep_their_type() {
        let ctx: GeneratorContext = json!({"id": 42, "name": "Bo"}).as_object().unwrap().clone();
        let g = json!({"type": "ProviderState", "expression": "${id}"});
        assert_eq!(
            generate(g.as_object().unwrap(), &json!(1), &ctx).unwrap(),
            json!(42)
        );
        let g = json!({"type": "ProviderState", "expression": "/users/${id}/${name}"});
        assert_eq!(
            generate(g.as_object().unwrap(), &json!(""), &ctx).unwrap(),
            json!("/users/42/Bo")
        );
        let g = json!({"type": "ProviderState", "expression": "${id}", "dataType": "STRING"});
        assert_eq!(
            generate(g.as_object().unwrap(), &json!(""), &ctx).unwrap(),
            json!("42")
        );
        let g = json!({"type": "ProviderState", "expression": "${missing}"});
        assert!(
            generate(g.as_object().unwrap(), &json!(""), &ctx)
                .unwrap_err()
                .contains("id, name")
        );
    }

    #[test]
    fn request_generators_apply_by_category() {
        let request = crate::read::request_from_json(
            &json!({
                "method": "POST", "path": "/items/1",
                "query": {"q": ["x"]},
                "headers": {"X-Id": ["old"]},
                "body": {"content": {"items": [{"id": 1}, {"id": 2}], "name": "n"},
                         "contentType": "application/json", "encoded": false},
                "generators": {
                    "path": {"type": "ProviderState", "expression": "/items/${id}"},
                    "query": {"q": {"type": "RandomString", "size": 4}},
                    "header": {"x-id": {"type": "Uuid"}},
                    "body": {"$.items[*].id": {"type": "ProviderState", "expression": "${id}"},
                             "$.missing": {"type": "Uuid"}}
                }
            }),
            "request",
            true,
        )
        .unwrap();
        let ctx: GeneratorContext = json!({"id": 7}).as_object().unwrap().clone();
        let generated = generate_request(&request, &ctx);
        let r = generated.request;
        assert_eq!(r.path, "/items/7");
        assert_eq!(r.query["q"][0].len(), 4);
        assert!(uuid::Uuid::parse_str(&r.headers["X-Id"][0]).is_ok());
        let body: Value = serde_json::from_slice(r.body.bytes().unwrap()).unwrap();
        assert_eq!(body, json!({"items": [{"id": 7}, {"id": 7}], "name": "n"}));
        assert_eq!(
            generated.warnings,
            vec!["body $.missing: no such location in the body"]
        );
    }
}
