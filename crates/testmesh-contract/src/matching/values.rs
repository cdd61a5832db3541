//! Applying one matcher to a value: JSON values, strings (headers, query, path, text, XML),
//! and collections as a whole (array length, map size).

use serde_json::Value;

use crate::body::{ContentType, detect_content_type};
use crate::rules::{Combine, MatchingRule, RuleList};

/// The JSON type name used in messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A short rendering of a value for messages (compact JSON, long values cut).
pub(crate) fn show(value: &Value) -> String {
    shorten(value.to_string())
}

pub(crate) fn shorten(text: String) -> String {
    const MAX: usize = 80;
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// `'text'` for messages about strings.
pub(crate) fn quote(text: &str) -> String {
    shorten(format!("'{text}'"))
}

pub(crate) fn described(value: &Value) -> String {
    format!("{} {}", type_name(value), show(value))
}

/// The string form the reference matches regexes, dates and includes against.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Applies the rules of a list, combined with AND or OR; returns every failure message.
pub(crate) fn combine(
    list: &RuleList,
    mut apply: impl FnMut(&MatchingRule) -> Result<(), String>,
) -> Result<(), Vec<String>> {
    let results: Vec<Result<(), String>> = list.rules.iter().map(&mut apply).collect();
    let ok = match list.combine {
        Combine::And => results.iter().all(Result::is_ok),
        Combine::Or => results.iter().any(Result::is_ok),
    };
    if ok || results.is_empty() {
        Ok(())
    } else {
        Err(results.into_iter().filter_map(Result::err).collect())
    }
}

fn same_type(expected: &Value, actual: &Value) -> bool {
    std::mem::discriminant(expected) == std::mem::discriminant(actual)
}

fn size_check(len: usize, rule: &MatchingRule, cascaded: bool, unit: &str) -> Result<(), String> {
    if cascaded {
        return Ok(());
    }
    let (min, max) = match rule {
        MatchingRule::MinType(min) => (Some(*min), None),
        MatchingRule::MaxType(max) => (None, Some(*max)),
        MatchingRule::MinMaxType(min, max) => (Some(*min), Some(*max)),
        _ => (None, None),
    };
    if let Some(min) = min
        && len < min
    {
        return Err(format!("expected at least {min} {unit}, got {len}"));
    }
    if let Some(max) = max
        && len > max
    {
        return Err(format!("expected at most {max} {unit}, got {len}"));
    }
    Ok(())
}

fn date_check(rule: &MatchingRule, text: &str) -> Option<Result<(), String>> {
    let (what, format) = match rule {
        MatchingRule::Date(f) => ("date", f),
        MatchingRule::Time(f) => ("time", f),
        MatchingRule::Timestamp(f) => ("date-time", f),
        _ => return None,
    };
    Some(format.validate(text).map_err(|reason| {
        format!(
            "expected a {what} in the format '{}', got {}: {reason}",
            format.pattern(),
            quote(text)
        )
    }))
}

/// The media type of some content, from magic numbers or the text itself.
pub(crate) fn sniff_content_type(bytes: &[u8]) -> String {
    const MAGIC: [(&[u8], &str); 7] = [
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"%PDF", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b", "application/gzip"),
        (b"RIFF", "audio/wav"),
    ];
    for (magic, kind) in MAGIC {
        if bytes.starts_with(magic) {
            return kind.to_string();
        }
    }
    detect_content_type(bytes)
        .map(|ct| ct.base())
        .unwrap_or_else(|| "application/octet-stream".to_string())
}

pub(crate) fn content_type_check(bytes: &[u8], expected: &str) -> Result<(), String> {
    let actual = sniff_content_type(bytes);
    let matches = match ContentType::parse(expected) {
        Some(ct) => ct.base() == actual || (ct.main == "text" && actual == "text/plain"),
        None => false,
    };
    if matches {
        Ok(())
    } else {
        Err(format!(
            "expected content of type '{expected}', got '{actual}'"
        ))
    }
}

fn semver_check(text: &str) -> Result<(), String> {
    semver::Version::parse(text)
        .map(|_| ())
        .map_err(|e| format!("expected a semantic version, got {}: {e}", quote(text)))
}

/// Applies a rule to a JSON value.
pub(crate) fn apply_json(
    rule: &MatchingRule,
    expected: &Value,
    actual: &Value,
    cascaded: bool,
) -> Result<(), String> {
    if let Some(result) = date_check(rule, &text_of(actual)) {
        return result;
    }
    match rule {
        MatchingRule::Equality | MatchingRule::Values => {
            if expected == actual {
                Ok(())
            } else {
                Err(format!(
                    "expected {}, got {}",
                    described(expected),
                    described(actual)
                ))
            }
        }
        MatchingRule::Regex(re) => {
            if re.is_match(&text_of(actual)) {
                Ok(())
            } else {
                Err(format!(
                    "expected {} to match the regex '{}'",
                    show(actual),
                    re.as_str()
                ))
            }
        }
        MatchingRule::Type
        | MatchingRule::MinType(_)
        | MatchingRule::MaxType(_)
        | MatchingRule::MinMaxType(..) => {
            if !same_type(expected, actual) {
                return Err(format!(
                    "expected {}, got {}",
                    type_name(expected),
                    described(actual)
                ));
            }
            match actual {
                Value::Array(items) => size_check(items.len(), rule, cascaded, "item(s)"),
                _ => Ok(()),
            }
        }
        MatchingRule::Include(text) => {
            if text_of(actual).contains(text.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "expected {} to include {}",
                    show(actual),
                    quote(text)
                ))
            }
        }
        MatchingRule::Integer => {
            if actual.is_i64() || actual.is_u64() {
                Ok(())
            } else {
                Err(format!("expected an integer, got {}", described(actual)))
            }
        }
        MatchingRule::Decimal => {
            if actual.is_f64() {
                Ok(())
            } else {
                Err(format!(
                    "expected a decimal number, got {}",
                    described(actual)
                ))
            }
        }
        MatchingRule::Number => {
            if actual.is_number() {
                Ok(())
            } else {
                Err(format!("expected a number, got {}", described(actual)))
            }
        }
        MatchingRule::Null => {
            if actual.is_null() {
                Ok(())
            } else {
                Err(format!("expected null, got {}", described(actual)))
            }
        }
        MatchingRule::Boolean => match actual {
            Value::Bool(_) => Ok(()),
            Value::String(s) if s == "true" || s == "false" => Ok(()),
            other => Err(format!("expected a boolean, got {}", described(other))),
        },
        MatchingRule::NotEmpty => {
            let empty = match actual {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
                _ => false,
            };
            if empty {
                Err(format!(
                    "expected a non-empty value, got {}",
                    described(actual)
                ))
            } else {
                Ok(())
            }
        }
        MatchingRule::Semver => match actual {
            Value::String(s) => semver_check(s),
            other => Err(format!(
                "expected a semantic version, got {}",
                described(other)
            )),
        },
        MatchingRule::ContentType(ct) => content_type_check(text_of(actual).as_bytes(), ct),
        MatchingRule::StatusCode(status) => {
            match actual.as_u64().and_then(|n| u16::try_from(n).ok()) {
                Some(code) if status.contains(code) => Ok(()),
                Some(code) => Err(format!("expected a status of {status}, got {code}")),
                None => Err(format!("expected a status code, got {}", described(actual))),
            }
        }
        // Collection rules hold nothing to check on a single value.
        MatchingRule::ArrayContains(_) | MatchingRule::EachKey(_) | MatchingRule::EachValue(_) => {
            Ok(())
        }
        MatchingRule::Date(_) | MatchingRule::Time(_) | MatchingRule::Timestamp(_) => Ok(()),
    }
}

/// Applies a rule to a string value (header, query parameter, path, plain text, XML).
pub(crate) fn apply_str(
    rule: &MatchingRule,
    expected: &str,
    actual: &str,
    cascaded: bool,
) -> Result<(), String> {
    if let Some(result) = date_check(rule, actual) {
        return result;
    }
    match rule {
        MatchingRule::Equality | MatchingRule::Values => {
            if expected == actual {
                Ok(())
            } else {
                Err(format!(
                    "expected {}, got {}",
                    quote(expected),
                    quote(actual)
                ))
            }
        }
        MatchingRule::Regex(re) => {
            if re.is_match(actual) {
                Ok(())
            } else {
                Err(format!(
                    "expected {} to match the regex '{}'",
                    quote(actual),
                    re.as_str()
                ))
            }
        }
        MatchingRule::Type
        | MatchingRule::MinType(_)
        | MatchingRule::MaxType(_)
        | MatchingRule::MinMaxType(..) => Ok(()),
        MatchingRule::Include(text) => {
            if actual.contains(text.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "expected {} to include {}",
                    quote(actual),
                    quote(text)
                ))
            }
        }
        MatchingRule::Number | MatchingRule::Decimal => match actual.trim().parse::<f64>() {
            Ok(n)
                if n.is_finite()
                    && (matches!(rule, MatchingRule::Number) || actual.contains('.')) =>
            {
                Ok(())
            }
            _ => Err(format!(
                "expected {}, got {}",
                if matches!(rule, MatchingRule::Number) {
                    "a number"
                } else {
                    "a decimal number"
                },
                quote(actual)
            )),
        },
        MatchingRule::Integer => match actual.trim().parse::<i64>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("expected an integer, got {}", quote(actual))),
        },
        MatchingRule::Boolean => {
            if actual == "true" || actual == "false" {
                Ok(())
            } else {
                Err(format!("expected a boolean, got {}", quote(actual)))
            }
        }
        MatchingRule::NotEmpty => {
            if actual.is_empty() {
                Err("expected a non-empty value, got ''".to_string())
            } else {
                Ok(())
            }
        }
        MatchingRule::Semver => semver_check(actual),
        MatchingRule::ContentType(ct) => content_type_check(actual.as_bytes(), ct),
        MatchingRule::StatusCode(status) => match actual.trim().parse::<u16>() {
            Ok(code) if status.contains(code) => Ok(()),
            Ok(code) => Err(format!("expected a status of {status}, got {code}")),
            Err(_) => Err(format!("expected a status code, got {}", quote(actual))),
        },
        other => {
            if cascaded && !other.can_cascade() {
                Ok(())
            } else {
                Err(format!(
                    "the '{}' matcher cannot be applied to the text {}",
                    other.name(),
                    quote(actual)
                ))
            }
        }
    }
}

/// Applies a rule to a list as a whole (length limits, equality); item-level checks are made
/// separately for each item.
pub(crate) fn apply_list<T: PartialEq>(
    rule: &MatchingRule,
    expected: &[T],
    actual: &[T],
    cascaded: bool,
    show_actual: impl Fn() -> String,
) -> Result<(), String> {
    match rule {
        MatchingRule::MinType(_) | MatchingRule::MaxType(_) | MatchingRule::MinMaxType(..) => {
            size_check(actual.len(), rule, cascaded, "item(s)")
        }
        MatchingRule::Equality => {
            if expected == actual {
                Ok(())
            } else {
                Err(format!(
                    "expected the list to equal the example, got {}",
                    show_actual()
                ))
            }
        }
        MatchingRule::NotEmpty => {
            if actual.is_empty() {
                Err("expected a non-empty list, got []".to_string())
            } else {
                Ok(())
            }
        }
        MatchingRule::Null | MatchingRule::StatusCode(_) => Err(format!(
            "the '{}' matcher cannot be applied to the list {}",
            rule.name(),
            show_actual()
        )),
        _ => Ok(()),
    }
}

/// Applies a rule to a map as a whole (size limits, equality).
pub(crate) fn apply_map(
    rule: &MatchingRule,
    expected: &serde_json::Map<String, Value>,
    actual: &serde_json::Map<String, Value>,
    cascaded: bool,
) -> Result<(), String> {
    match rule {
        MatchingRule::Regex(_)
        | MatchingRule::Type
        | MatchingRule::ArrayContains(_)
        | MatchingRule::EachKey(_)
        | MatchingRule::EachValue(_)
        | MatchingRule::Values => Ok(()),
        MatchingRule::MinType(_) | MatchingRule::MaxType(_) | MatchingRule::MinMaxType(..) => {
            size_check(actual.len(), rule, cascaded, "entries")
        }
        MatchingRule::Equality => {
            if expected == actual {
                Ok(())
            } else {
                Err(format!(
                    "expected {}, got {}",
                    show(&Value::Object(expected.clone())),
                    show(&Value::Object(actual.clone()))
                ))
            }
        }
        MatchingRule::NotEmpty => {
            if actual.is_empty() {
                Err("expected a non-empty object, got {}".to_string())
            } else {
                Ok(())
            }
        }
        other => Err(format!(
            "the '{}' matcher cannot be applied to the object {}",
            other.name(),
            show(&Value::Object(actual.clone()))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{MatchingRule as R, RuleList};
    use serde_json::json;

    fn rule(v: Value) -> R {
        R::from_json(&v, "r").unwrap()
    }

    fn ok(r: &R, e: Value, a: Value) -> bool {
        apply_json(r, &e, &a, false).is_ok()
    }

    #[test]
    fn equality_and_type() {
        assert!(ok(&R::Equality, json!(1), json!(1)));
        assert!(!ok(&R::Equality, json!(1), json!(2)));
        assert!(ok(&R::Type, json!("a"), json!("b")));
        assert_eq!(
            apply_json(&R::Type, &json!(1.5), &json!("x"), false).unwrap_err(),
            "expected number, got string \"x\""
        );
        assert!(ok(&R::MinType(2), json!([1]), json!([1, 2])));
        assert!(!ok(&R::MinType(2), json!([1]), json!([1])));
        assert!(apply_json(&R::MinType(2), &json!([1]), &json!([1]), true).is_ok());
        assert!(!ok(&R::MaxType(1), json!([1]), json!([1, 2])));
        assert!(!ok(&R::MinMaxType(1, 2), json!([1]), json!([])));
    }

    #[test]
    fn numbers() {
        assert!(ok(&R::Integer, json!(1), json!(-5)));
        assert!(!ok(&R::Integer, json!(1), json!(1.5)));
        assert!(ok(&R::Decimal, json!(1.5), json!(2.25)));
        assert!(!ok(&R::Decimal, json!(1.5), json!(2)));
        assert!(ok(&R::Number, json!(1), json!(2.5)));
        assert!(!ok(&R::Number, json!(1), json!("2")));
        assert!(apply_str(&R::Integer, "", "42", false).is_ok());
        assert!(apply_str(&R::Decimal, "", "4.2", false).is_ok());
        assert!(apply_str(&R::Number, "", "x", false).is_err());
    }

    #[test]
    fn regex_include_null_boolean_notempty_semver() {
        let re = rule(json!({"match": "regex", "regex": "\\d{3}"}));
        assert!(ok(&re, json!(""), json!("123")));
        assert!(!ok(&re, json!(""), json!("1234")));
        assert!(ok(&re, json!(""), json!(123)));
        let inc = rule(json!({"match": "include", "value": "ell"}));
        assert!(ok(&inc, json!(""), json!("hello")));
        assert!(!ok(&inc, json!(""), json!("help")));
        assert!(ok(&R::Null, json!(null), json!(null)));
        assert!(!ok(&R::Null, json!(null), json!(0)));
        assert!(ok(&R::Boolean, json!(true), json!("false")));
        assert!(!ok(&R::Boolean, json!(true), json!(1)));
        assert!(!ok(&R::NotEmpty, json!("x"), json!("")));
        assert!(!ok(&R::NotEmpty, json!([1]), json!([])));
        assert!(ok(&R::NotEmpty, json!(1), json!(0)));
        assert!(ok(&R::Semver, json!("1.0.0"), json!("2.10.3-beta.1")));
        assert!(!ok(&R::Semver, json!("1.0.0"), json!("2.1")));
    }

    #[test]
    fn dates_and_times() {
        let date = rule(json!({"match": "date", "format": "yyyy-MM-dd"}));
        assert!(ok(&date, json!(""), json!("2024-01-31")));
        assert!(!ok(&date, json!(""), json!("2024-02-31")));
        let time = rule(json!({"match": "time", "format": "HH:mm"}));
        assert!(ok(&time, json!(""), json!("13:45")));
        let ts = rule(json!({"match": "datetime", "format": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"}));
        assert!(ok(&ts, json!(""), json!("2024-01-31T10:00:00.123+01:00")));
        assert!(!ok(&ts, json!(""), json!("2024-01-31 10:00:00")));
        let default_ts = rule(json!({"match": "timestamp"}));
        assert!(ok(&default_ts, json!(""), json!("2024-01-31T10:00:00Z")));
    }

    #[test]
    fn status_codes_and_content_types() {
        let success = rule(json!({"match": "statusCode", "status": "success"}));
        assert!(ok(&success, json!(200), json!(204)));
        assert!(!ok(&success, json!(200), json!(404)));
        let list = rule(json!({"match": "statusCode", "status": [200, 201]}));
        assert!(!ok(&list, json!(200), json!(202)));
        for (class, good, bad) in [
            ("info", 101, 200),
            ("redirect", 302, 200),
            ("clientError", 404, 500),
            ("serverError", 503, 404),
            ("nonError", 302, 400),
            ("error", 400, 399),
        ] {
            let r = rule(json!({"match": "statusCode", "status": class}));
            assert!(ok(&r, json!(0), json!(good)), "{class}");
            assert!(!ok(&r, json!(0), json!(bad)), "{class}");
        }
        assert!(content_type_check(b"\x89PNG\r\n\x1a\nrest", "image/png").is_ok());
        assert!(content_type_check(b"{\"a\":1}", "application/json").is_ok());
        assert!(content_type_check(b"plain", "image/png").is_err());
    }

    #[test]
    fn combines_with_and_or() {
        let and = RuleList {
            rules: vec![R::Integer, R::Null],
            combine: Combine::And,
        };
        let or = RuleList {
            rules: vec![R::Integer, R::Null],
            combine: Combine::Or,
        };
        assert!(combine(&and, |r| apply_json(r, &json!(1), &json!(1), false)).is_err());
        assert!(combine(&or, |r| apply_json(r, &json!(1), &json!(1), false)).is_ok());
        assert!(combine(&or, |r| apply_json(r, &json!(1), &json!(null), false)).is_ok());
        assert_eq!(
            combine(&or, |r| apply_json(r, &json!(1), &json!("x"), false))
                .unwrap_err()
                .len(),
            2
        );
    }
}
