//! Value helpers: type names, numbers, loose equality and ordering.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::EvalError;

/// The user-facing type name of a JSON value.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A number during evaluation: integers stay exact until they overflow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An exact integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
}

impl Num {
    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// Converts back to JSON; non-finite floats are an error.
    pub fn to_value(self) -> Result<Value, EvalError> {
        match self {
            Num::Int(i) => Ok(Value::from(i)),
            Num::Float(f) => {
                Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| EvalError::Arithmetic {
                        message: "result is not a finite number".into(),
                    })
            }
        }
    }

    /// Numeric comparison across integers and floats.
    pub fn cmp_num(self, other: Num) -> Ordering {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => a.cmp(&b),
            (a, b) => a
                .as_f64()
                .partial_cmp(&b.as_f64())
                .unwrap_or(Ordering::Equal),
        }
    }
}

/// The number inside a JSON number.
pub fn json_num(n: &Number) -> Num {
    match n.as_i64() {
        Some(i) => Num::Int(i),
        None => Num::Float(n.as_f64().unwrap_or(f64::NAN)),
    }
}

/// Parses a string that is entirely a number (`"201"`, `"-1.5"`, `"1e3"`).
pub fn numeric_str(s: &str) -> Option<Num> {
    if s.is_empty()
        || !s.chars().any(|c| c.is_ascii_digit())
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
    {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Num::Int(i));
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Num::Float)
}

/// A number, or a string that is a number.
pub fn as_num(v: &Value) -> Option<Num> {
    match v {
        Value::Number(n) => Some(json_num(n)),
        Value::String(s) => numeric_str(s),
        _ => None,
    }
}

/// Equality: deep, numbers by value, number vs numeric string by value.
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => json_num(x).cmp_num(json_num(y)).is_eq(),
        (Value::Number(x), Value::String(s)) | (Value::String(s), Value::Number(x)) => {
            numeric_str(s).is_some_and(|n| n.cmp_num(json_num(x)).is_eq())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| loose_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| loose_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Ordering for `< <= > >=`.
pub fn compare(a: &Value, b: &Value) -> Result<Ordering, EvalError> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => match (numeric_str(x), numeric_str(y)) {
            (Some(p), Some(q)) => Ok(p.cmp_num(q)),
            _ => Ok(x.cmp(y)),
        },
        (Value::Number(_), Value::Number(_) | Value::String(_))
        | (Value::String(_), Value::Number(_)) => match (as_num(a), as_num(b)) {
            (Some(p), Some(q)) => Ok(p.cmp_num(q)),
            _ => Err(cannot_compare(a, b)),
        },
        _ => Err(cannot_compare(a, b)),
    }
}

fn cannot_compare(a: &Value, b: &Value) -> EvalError {
    EvalError::Type {
        message: format!(
            "cannot compare {} {} with {} {}",
            type_name(a),
            short(a),
            type_name(b),
            short(b)
        ),
    }
}

/// Compact JSON text of a value, cut to a readable length.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// Text of a value for string concatenation: strings raw, others as JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Length of an array (elements), string (characters) or object (keys).
pub fn length(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(a.len()),
        Value::String(s) => Some(s.chars().count()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numeric_strings() {
        assert_eq!(numeric_str("201"), Some(Num::Int(201)));
        assert_eq!(numeric_str("-1.5"), Some(Num::Float(-1.5)));
        assert_eq!(numeric_str("1e3"), Some(Num::Float(1000.0)));
        for s in ["", "abc", "inf", "NaN", ".", "e", "1e999", " 1"] {
            assert_eq!(numeric_str(s), None, "{s}");
        }
    }

    #[test]
    fn equality_rules() {
        assert!(loose_eq(&json!(1), &json!(1.0)));
        assert!(loose_eq(&json!(201), &json!("201")));
        assert!(loose_eq(&json!("201"), &json!(201)));
        assert!(!loose_eq(&json!("abc"), &json!(1)));
        assert!(!loose_eq(&json!(true), &json!(1)));
        assert!(loose_eq(&json!({"a": [1, 2]}), &json!({"a": [1.0, 2]})));
        assert!(!loose_eq(&json!({"a": 1}), &json!({"b": 1})));
        assert!(!loose_eq(&json!(null), &json!(false)));
    }

    #[test]
    fn ordering_rules() -> Result<(), EvalError> {
        assert!(compare(&json!("10"), &json!("9"))?.is_gt());
        assert!(compare(&json!("b"), &json!("a"))?.is_gt());
        assert!(compare(&json!(2), &json!("10"))?.is_lt());
        assert!(compare(&json!(1.5), &json!(1))?.is_gt());
        assert!(compare(&json!("x"), &json!(true)).is_err());
        assert!(compare(&json!("x"), &json!(1)).is_err());
        assert!(compare(&json!(null), &json!(1)).is_err());
        Ok(())
    }
}
