//! OpenAPI schemas as standalone JSON Schema 2020-12 documents, compiled with `jsonschema`.
//!
//! Both versions end up as 2020-12: 3.1 schemas already are; 3.0 schemas are translated (`nullable`
//! becomes a `null` type or alternative, boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers,
//! siblings of `$ref` are dropped as 3.0 says). Every `$ref` reached is copied into `$defs` under a
//! generated name, so a compiled schema needs nothing from the document. `readOnly` properties are not
//! required in requests and `writeOnly` ones not in responses, as the specification says.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::document::{Document, SpecVersion, percent_decode};

/// Which way a schema is used: `readOnly`/`writeOnly` properties are dropped from `required`
/// accordingly, and left out of generated samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sent by the client (request bodies, parameters).
    Request,
    /// Sent by the server (responses).
    Response,
}

/// Converts `schema` (a schema of `doc`, possibly with `$ref`s) into one self-contained JSON Schema
/// 2020-12 document.
pub fn to_json_schema(doc: &Document, schema: &Value, direction: Direction) -> Value {
    let mut bundler = Bundler {
        doc,
        direction,
        names: HashMap::new(),
        pending: Vec::new(),
        defs: Map::new(),
    };
    let converted = bundler.convert(schema);
    // Targets are converted here, one after another, rather than from inside the schema that
    // refers to them: a long chain of schemas each referring to the next would otherwise nest one
    // call per link and could exhaust the stack.
    while let Some((pointer, name)) = bundler.pending.pop() {
        let converted = match doc.get(&pointer) {
            Some(target) => bundler.convert(target),
            // Cannot happen for loaded documents (references are checked); accept anything.
            None => Value::Bool(true),
        };
        bundler.defs.insert(name, converted);
    }
    let mut root = Map::new();
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    // `allOf` rather than the schema itself at the root, so its own keywords never clash with `$defs`.
    root.insert("allOf".into(), Value::Array(vec![converted]));
    if !bundler.defs.is_empty() {
        root.insert("$defs".into(), Value::Object(bundler.defs));
    }
    Value::Object(root)
}

/// Compiles `schema` for validation (formats checked).
pub fn compile(
    doc: &Document,
    schema: &Value,
    direction: Direction,
) -> Result<jsonschema::Validator, String> {
    let bundled = to_json_schema(doc, schema, direction);
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&bundled)
        .map_err(|e| e.to_string())
}

struct Bundler<'a> {
    doc: &'a Document,
    direction: Direction,
    /// Document pointer → name under `$defs`.
    names: HashMap<String, String>,
    /// References named but not converted yet: (document pointer, name).
    pending: Vec<(String, String)>,
    defs: Map<String, Value>,
}

impl Bundler<'_> {
    fn v30(&self) -> bool {
        self.doc.version() == SpecVersion::OpenApi30
    }

    fn reference(&mut self, reference: &str) -> Value {
        let pointer = percent_decode(reference.strip_prefix('#').unwrap_or(reference));
        let name = match self.names.get(&pointer) {
            Some(name) => name.clone(),
            None => {
                let name = format!("s{}", self.names.len());
                // Named now, converted later (once), so recursive schemas terminate.
                self.names.insert(pointer.clone(), name.clone());
                self.pending.push((pointer, name.clone()));
                name
            }
        };
        json!({ "$ref": format!("#/$defs/{name}") })
    }

    fn convert_map(&mut self, value: &Value) -> Value {
        match value.as_object() {
            Some(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.convert(v)))
                    .collect(),
            ),
            None => value.clone(),
        }
    }

    fn convert_list(&mut self, value: &Value) -> Value {
        match value.as_array() {
            Some(items) => Value::Array(items.iter().map(|v| self.convert(v)).collect()),
            None => self.convert(value),
        }
    }

    fn convert(&mut self, schema: &Value) -> Value {
        let Some(map) = schema.as_object() else {
            return schema.clone();
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            let target = self.reference(reference);
            if self.v30() {
                // 3.0 ignores siblings of `$ref`, but `nullable: true` beside one is a common intent.
                return if map.get("nullable") == Some(&Value::Bool(true)) {
                    json!({ "anyOf": [{"type": "null"}, target] })
                } else {
                    target
                };
            }
            if map.len() == 1 {
                return target;
            }
        }
        let mut out = Map::new();
        for (key, value) in map {
            let converted = match key.as_str() {
                "$ref" => match value.as_str() {
                    Some(r) => self
                        .reference(r)
                        .get("$ref")
                        .cloned()
                        .unwrap_or(Value::Null),
                    None => value.clone(),
                },
                "properties" | "patternProperties" | "$defs" | "definitions"
                | "dependentSchemas" => self.convert_map(value),
                "items" if self.v30() => self.convert(value),
                "items" | "prefixItems" | "allOf" | "anyOf" | "oneOf" => self.convert_list(value),
                "additionalProperties"
                | "not"
                | "contains"
                | "propertyNames"
                | "if"
                | "then"
                | "else"
                | "unevaluatedProperties"
                | "unevaluatedItems"
                | "additionalItems" => self.convert(value),
                // OpenAPI-only keywords: annotations that JSON Schema would not understand.
                "nullable" | "discriminator" | "xml" | "externalDocs" | "example" => continue,
                "exclusiveMinimum" | "exclusiveMaximum" if value.is_boolean() => continue,
                _ => value.clone(),
            };
            out.insert(key.clone(), converted);
        }
        if self.v30() {
            for (flag, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if map.get(flag) == Some(&Value::Bool(true))
                    && let Some(limit) = out.remove(bound)
                {
                    out.insert(flag.into(), limit);
                }
            }
        }
        self.drop_one_way_required(map, &mut out);
        if self.v30() && map.get("nullable") == Some(&Value::Bool(true)) {
            return nullable(out);
        }
        Value::Object(out)
    }

    /// Removes `readOnly` properties from `required` in requests, `writeOnly` ones in responses.
    fn drop_one_way_required(&self, original: &Map<String, Value>, out: &mut Map<String, Value>) {
        let flag = match self.direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        let Some(properties) = original.get("properties").and_then(Value::as_object) else {
            return;
        };
        let Some(required) = out.get_mut("required").and_then(Value::as_array_mut) else {
            return;
        };
        required.retain(|name| {
            let Some(property) = name.as_str().and_then(|n| properties.get(n)) else {
                return true;
            };
            let property = self.doc.resolve_schema(property);
            property.get(flag) != Some(&Value::Bool(true))
        });
    }
}

/// A 3.0 `nullable: true` schema in 2020-12 terms.
fn nullable(mut out: Map<String, Value>) -> Value {
    let composed = ["allOf", "anyOf", "oneOf", "not"]
        .iter()
        .any(|k| out.contains_key(*k));
    match out.get("type").cloned() {
        Some(Value::String(t)) if !composed => {
            out.insert("type".into(), json!([t, "null"]));
            if let Some(Value::Array(values)) = out.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            Value::Object(out)
        }
        _ => json!({ "anyOf": [{"type": "null"}, Value::Object(out)] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        match Document::parse(text, "t.yaml") {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn translates_3_0_keywords() {
        let d = doc(
            "openapi: 3.0.0\npaths: {}\ncomponents:\n  schemas:\n    N: {type: string, nullable: true, enum: [a]}\n",
        );
        let s = json!({"type": "object", "properties": {"n": {"$ref": "#/components/schemas/N"},
            "x": {"type": "integer", "minimum": 1, "exclusiveMinimum": true}}});
        let out = to_json_schema(&d, &s, Direction::Request);
        assert_eq!(
            out["$defs"]["s0"],
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        assert_eq!(
            out["allOf"][0]["properties"]["x"],
            json!({"type": "integer", "exclusiveMinimum": 1})
        );
        assert_eq!(
            out["allOf"][0]["properties"]["n"],
            json!({"$ref": "#/$defs/s0"})
        );
    }

    #[test]
    fn recursive_schemas_bundle_once() {
        let d = doc(
            "openapi: 3.1.0\npaths: {}\ncomponents:\n  schemas:\n    T:\n      type: object\n      properties:\n        kids: {type: array, items: {$ref: '#/components/schemas/T'}}\n",
        );
        let v = match compile(
            &d,
            &json!({"$ref": "#/components/schemas/T"}),
            Direction::Response,
        ) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        assert!(v.is_valid(&json!({"kids": [{"kids": []}]})));
        assert!(!v.is_valid(&json!({"kids": [{"kids": 3}]})));
    }

    #[test]
    fn read_only_is_not_required_in_requests() {
        let d = doc("openapi: 3.0.0\npaths: {}\n");
        let s = json!({"type": "object", "required": ["id", "name"],
            "properties": {"id": {"type": "integer", "readOnly": true}, "name": {"type": "string"}}});
        let out = to_json_schema(&d, &s, Direction::Request);
        assert_eq!(out["allOf"][0]["required"], json!(["name"]));
        let out = to_json_schema(&d, &s, Direction::Response);
        assert_eq!(out["allOf"][0]["required"], json!(["id", "name"]));
    }
}
