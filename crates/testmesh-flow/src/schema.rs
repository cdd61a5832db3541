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
