//! The JSON Schema of the flow format, generated from the same field lists the loader uses, so editor
//! completion (yaml-language-server) and `testmesh validate` never disagree about which keys exist.

use serde_json::{Value, json};

use crate::decode::FromNode;
use crate::model::FlowFields;
use crate::model::actions::ActionKind;
use crate::model::step::StepFields;

/// The schema of a flow file (draft-07, the draft editors support best). Both document shapes validate.
pub fn flow_schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://testmesh.dev/schema/flow.json",
        "title": "TestMesh flow",
        "description": "A TestMesh test flow: setup, steps and teardown of actions with assertions and outputs.",
        "anyOf": [
            {"$ref": "#/definitions/flow"},
            {
                "type": "object",
                "properties": {"flow": {"$ref": "#/definitions/flow"}},
                "required": ["flow"],
                "additionalProperties": false
            }
        ],
        "definitions": {
            "flow": FlowFields::schema(),
            "step": step_schema(),
        }
    })
}

fn step_schema() -> Value {
    let mut schema = StepFields::schema();
    let names: Vec<&str> = ActionKind::all_names().collect();
    schema["properties"]["action"] = json!({
        "type": "string",
        "enum": names,
        "description": "The action to run."
    });
    let branches: Vec<Value> = ActionKind::ALL
        .iter()
        .map(|kind| {
            let mut spellings = vec![kind.name()];
            spellings.extend(kind.aliases());
            let mut config = kind.config_schema();
            config["description"] = json!(format!("{}: {}", kind.name(), kind.summary()));
            json!({
                "if": {"properties": {"action": {"enum": spellings}}, "required": ["action"]},
                "then": {"properties": {"config": config}}
            })
        })
        .collect();
    schema["allOf"] = Value::Array(branches);
    schema
}

/// The action reference (`docs/actions.md`), generated from the same field lists as the loader.
pub fn actions_markdown() -> String {
    let mut out = String::from(
        "# Actions\n\n<!-- Generated from the flow model by `UPDATE_DOCS=1 cargo test -p testmesh-flow --test docs`; do not edit by hand. -->\n\n\
         Every action a step can name, with its `config` keys. Strings anywhere in a config may contain \
         `${…}` references; typed values (numbers, booleans, durations, lists) may also be written as a \
         single reference such as `count: ${N}`. Durations use Go's format: `500ms`, `1.5s`, `1h30m`.\n\n",
    );
    out.push_str("| action | aliases | what it does |\n|---|---|---|\n");
    for kind in ActionKind::ALL {
        let aliases: Vec<String> = kind.aliases().iter().map(|a| format!("`{a}`")).collect();
        out.push_str(&format!(
            "| [`{0}`](#{0}) | {1} | {2} |\n",
            kind.name(),
            aliases.join(", "),
            kind.summary()
        ));
    }
    for kind in ActionKind::ALL {
        out.push_str(&format!("\n## {}\n\n{}\n\n", kind.name(), kind.summary()));
        if !kind.aliases().is_empty() {
            let aliases: Vec<String> = kind.aliases().iter().map(|a| format!("`{a}`")).collect();
            out.push_str(&format!("Also accepted as {}.\n\n", aliases.join(", ")));
        }
        let schema = kind.config_schema();
        out.push_str("| key | type | required | description |\n|---|---|---|---|\n");
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(properties) = schema["properties"].as_object() {
            for (key, property) in properties {
                let description = property["description"]
                    .as_str()
                    .unwrap_or_default()
                    .replace('\n', " ")
                    .replace('|', "\\|");
                out.push_str(&format!(
                    "| `{key}` | {} | {} | {description} |\n",
                    type_label(property),
                    if required.contains(&key.as_str()) {
                        "yes"
                    } else {
                        ""
                    },
                ));
            }
        }
    }
    out
}

/// A short human label for a property's schema.
fn type_label(schema: &Value) -> String {
    if let Some(options) = schema["anyOf"].as_array() {
        let labels: Vec<String> = options
            .iter()
            .filter(|o| o["pattern"].as_str() != Some(r"\$\{|\{\{"))
            .map(type_label)
            .collect();
        return labels.join(" or ");
    }
    if schema.get("$ref").is_some() {
        return "list of steps".into();
    }
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| format!("`{v}`"))
            .collect();
        return names.join(" \\| ");
    }
    if schema["pattern"]
        .as_str()
        .is_some_and(|p| p.contains("ms|s|m|h"))
    {
        return "duration".into();
    }
    match &schema["type"] {
        Value::String(t) if t == "array" => match schema["items"].get("$ref") {
            Some(_) => "list of steps".into(),
            None => format!("list of {}", type_label(&schema["items"])),
        },
        Value::String(t) if t == "object" && schema["properties"].is_object() => {
            let keys: Vec<String> = schema["properties"]
                .as_object()
                .map(|p| p.keys().map(|k| format!("`{k}`")).collect())
                .unwrap_or_default();
            format!("mapping of {}", keys.join(", "))
        }
        Value::String(t) if t == "object" => "mapping".into(),
        Value::String(t) => t.clone(),
        Value::Array(types) if types.first().and_then(Value::as_str) == Some("string") => {
            "string".into()
        }
        _ => "any".into(),
    }
}
