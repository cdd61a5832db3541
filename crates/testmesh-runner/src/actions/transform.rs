//! `transform`: the original's `transforms` map (`$.path`, `$key`, literals) and the documented
//! `operations` (extract, map, filter, join, format), each saving its result under `save_as`.

use serde_json::{Map, Value, json};
use testmesh_flow::Action;
use testmesh_flow::interpolate::{Scope, SystemInfo, render_str, resolve_output};
use testmesh_flow::model::actions::{TransformConfig, TransformOp, TransformOpType};

use crate::handler::{ActionCx, ActionFuture, Handler, Outcome};
use crate::record::StepError;

/// Reshapes data.
pub struct Transform;

impl Handler for Transform {
    fn run<'a>(&'a self, action: &'a Action, cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::Transform(config) = action else {
                return Err(StepError::config("transform handler got another action"));
            };
            let input = input_of(config, cx)?;
            let mut result = Map::new();
            for (key, spec) in &config.transforms {
                result.insert(key.clone(), apply_spec(&input, spec));
            }
            let mut previous = input.clone();
            for (index, op) in config.operations.iter().enumerate() {
                let source = match &op.input {
                    Some(Value::String(path)) => lookup(&Value::Object(result.clone()), path)
                        .filter(|v| !v.is_null())
                        .or_else(|| lookup(&input, path))
                        .unwrap_or(Value::Null),
                    Some(value) => value.clone(),
                    None => previous.clone(),
                };
                let value = operate(op, &source).map_err(|e| {
                    StepError::action(format!("operation {index} ({}): {e}", op.kind.as_str()))
                })?;
                result.insert(
                    op.save_as.clone().unwrap_or_else(|| "result".into()),
                    value.clone(),
                );
                previous = value;
            }
            Ok(Outcome::of(Value::Object(result)))
        })
    }
}

fn input_of(config: &TransformConfig, cx: &ActionCx) -> Result<Value, StepError> {
    if let Some(input) = &config.input {
        // A string holding JSON is read as that JSON (interpolated bodies arrive as text).
        return Ok(match input {
            Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| input.clone()),
            other => other.clone(),
        });
    }
    let Some(file) = &config.input_file else {
        return Err(StepError::config("transform needs `input` or `input_file`"));
    };
    crate::data_file::read(&cx.flow_dir.join(file), "input_file")
}

/// The original's spec strings: `$.path` → JSONPath, `$key` → top-level key, anything else literal.
fn apply_spec(input: &Value, spec: &Value) -> Value {
    match spec.as_str() {
        Some(path) if path.starts_with("$.") || path == "$" => {
            lookup(input, path).unwrap_or(Value::Null)
        }
        Some(key) if key.starts_with('$') => input.get(&key[1..]).cloned().unwrap_or(Value::Null),
        _ => spec.clone(),
    }
}

/// A `$`-JSONPath or a dotted path with indexes; `None` when nothing matches.
fn lookup(value: &Value, path: &str) -> Option<Value> {
    let found = resolve_output(value, path, "");
    (!found.is_null()).then_some(found)
}

fn operate(op: &TransformOp, input: &Value) -> Result<Value, String> {
    match op.kind {
        TransformOpType::Extract => {
            let path = op.path.as_deref().ok_or("extract needs `path`")?;
            Ok(lookup(input, path).unwrap_or(Value::Null))
        }
        TransformOpType::Map => {
            let items = as_items(input)?;
            if let Some(field) = &op.field {
                return Ok(Value::Array(
                    items
                        .iter()
                        .map(|item| lookup(item, field).unwrap_or(Value::Null))
                        .collect(),
                ));
            }
            let source = op
                .expression
                .as_deref()
                .ok_or("map needs `field` or `expression`")?;
            let expr = testmesh_flow::expr::parse(source).map_err(|e| e.to_string())?;
            items
                .iter()
                .enumerate()
                .map(|(index, item)| expr.eval(&item_env(item, index)).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        TransformOpType::Filter => {
            let items = as_items(input)?;
            let source = op
                .expression
                .as_deref()
                .ok_or("filter needs `expression`")?;
            let expr = testmesh_flow::expr::parse(source).map_err(|e| e.to_string())?;
            let mut kept = Vec::new();
            for (index, item) in items.iter().enumerate() {
                if expr
                    .eval_bool(&item_env(item, index))
                    .map_err(|e| e.to_string())?
                {
                    kept.push(item.clone());
                }
            }
            Ok(Value::Array(kept))
        }
        TransformOpType::Join => {
            let items = as_items(input)?;
            let separator = op.separator.as_deref().unwrap_or(",");
            let parts: Vec<String> = items
                .iter()
                .map(|item| {
                    let value = match &op.field {
                        Some(field) => lookup(item, field).unwrap_or(Value::Null),
                        None => item.clone(),
                    };
                    match value {
                        Value::String(s) => s,
                        other => other.to_string(),
                    }
                })
                .collect();
            Ok(Value::String(parts.join(separator)))
        }
        TransformOpType::Format => {
            let template = op.template.as_deref().ok_or("format needs `template`")?;
            let mut scope = Scope::new(SystemInfo::default());
            let vars = match input {
                Value::Object(map) => map.clone().into_iter().collect(),
                other => [("value".to_string(), other.clone())].into_iter().collect(),
            };
            scope.push_layer(vars);
            render_str(template, &scope).map_err(|e| e.to_string())
        }
    }
}

fn as_items(input: &Value) -> Result<&Vec<Value>, String> {
    input
        .as_array()
        .ok_or_else(|| format!("expected a list, got {}", type_name(input)))
}

/// `item` and `index`, plus the item's own fields when it is an object.
fn item_env(item: &Value, index: usize) -> Map<String, Value> {
    let mut env = match item {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    env.insert("item".into(), item.clone());
    env.insert("index".into(), json!(index));
    env
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
