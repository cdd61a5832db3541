//! A mock's state: a JSON object changed by `state_changes` and the original's `state` rule.

use serde_json::{Map, Number, Value};

use crate::compile::CompiledChange;
use crate::definition::StateAction;

/// Applies `action` with the (already rendered) `operand` at `path`; returns the top-level key
/// that changed.
pub(crate) fn apply(
    state: &mut Map<String, Value>,
    path: &[String],
    action: StateAction,
    operand: Option<Value>,
) -> Option<String> {
    let (first, rest) = path.split_first()?;
    if action == StateAction::Delete {
        if rest.is_empty() {
            state.remove(first)?;
        } else {
            let parent = walk(state.get_mut(first)?, &rest[..rest.len() - 1])?;
            parent.as_object_mut()?.remove(rest.last()?)?;
        }
        return Some(first.clone());
    }
    let slot = slot(state, first, rest);
    let current = slot.take();
    *slot = match action {
        StateAction::Set => operand.unwrap_or(Value::Null),
        StateAction::Append => {
            let mut items = match current {
                Value::Array(items) => items,
                _ => Vec::new(),
            };
            items.push(operand.unwrap_or(Value::Null));
            Value::Array(items)
        }
        StateAction::Increment | StateAction::Decrement => {
            let amount = operand.as_ref().and_then(number).unwrap_or(Num::Int(1));
            let amount = if action == StateAction::Decrement {
                amount.negate()
            } else {
                amount
            };
            let base = number(&current).unwrap_or(Num::Int(0));
            base.add(amount)
        }
        StateAction::Toggle => Value::Bool(!current.as_bool().unwrap_or(false)),
        StateAction::Delete => Value::Null,
    };
    Some(first.clone())
}

/// Applies a compiled change whose operand has been rendered.
pub(crate) fn apply_change(
    state: &mut Map<String, Value>,
    change: &CompiledChange,
    operand: Option<Value>,
) -> Option<String> {
    apply(state, &change.path, change.action, operand)
}

fn walk<'v>(mut value: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    for key in path {
        value = value.as_object_mut()?.get_mut(key)?;
    }
    Some(value)
}

/// The value at `first.rest…`, creating objects on the way (a non-object in between is replaced).
fn slot<'m>(state: &'m mut Map<String, Value>, first: &str, rest: &[String]) -> &'m mut Value {
    let mut value = state.entry(first.to_string()).or_insert(Value::Null);
    for key in rest {
        if !value.is_object() {
            *value = Value::Object(Map::new());
        }
        let Value::Object(map) = value else {
            unreachable!("made an object above")
        };
        value = map.entry(key.clone()).or_insert(Value::Null);
    }
    value
}

#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn negate(self) -> Num {
        match self {
            Num::Int(i) => Num::Int(i.saturating_neg()),
            Num::Float(f) => Num::Float(-f),
        }
    }

    fn add(self, other: Num) -> Value {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Value::from(a.saturating_add(b)),
            (a, b) => Number::from_f64(a.as_f64() + b.as_f64())
                .map(Value::Number)
                .unwrap_or(Value::Null),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// A number, or a string holding one (rendered templates are strings).
fn number(v: &Value) -> Option<Num> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(Num::Int)
            .or_else(|| n.as_f64().map(Num::Float)),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map(Num::Int)
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(Num::Float)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(state: Value, path: &str, action: StateAction, operand: Option<Value>) -> Value {
        let mut map = state.as_object().cloned().unwrap_or_default();
        let path: Vec<String> = path.split('.').map(String::from).collect();
        apply(&mut map, &path, action, operand);
        Value::Object(map)
    }

    #[test]
    fn actions() {
        use StateAction::*;
        assert_eq!(run(json!({}), "a", Set, Some(json!(1))), json!({"a": 1}));
        assert_eq!(
            run(json!({}), "a.b", Set, Some(json!(1))),
            json!({"a": {"b": 1}})
        );
        assert_eq!(
            run(json!({"a": [1]}), "a", Append, Some(json!(2))),
            json!({"a": [1, 2]})
        );
        assert_eq!(
            run(json!({"a": "x"}), "a", Append, Some(json!(2))),
            json!({"a": [2]})
        );
        assert_eq!(run(json!({}), "n", Increment, None), json!({"n": 1}));
        assert_eq!(
            run(json!({"n": 5}), "n", Increment, Some(json!("2"))),
            json!({"n": 7})
        );
        assert_eq!(run(json!({"n": 5}), "n", Decrement, None), json!({"n": 4}));
        assert_eq!(
            run(json!({"n": 1.5}), "n", Increment, Some(json!(1))),
            json!({"n": 2.5})
        );
        assert_eq!(
            run(json!({"a": 1, "b": 2}), "a", Delete, None),
            json!({"b": 2})
        );
        assert_eq!(
            run(json!({"a": {"b": 1, "c": 2}}), "a.b", Delete, None),
            json!({"a": {"c": 2}})
        );
        assert_eq!(run(json!({}), "t", Toggle, None), json!({"t": true}));
        assert_eq!(
            run(json!({"t": true}), "t", Toggle, None),
            json!({"t": false})
        );
    }
}
