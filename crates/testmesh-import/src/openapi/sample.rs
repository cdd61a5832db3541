//! Deterministic sample values generated from schemas (what a mock answers when the document has no
//! example), in the spirit of Prism's static mode: the same document always gives the same bodies.

use serde_json::{Map, Number, Value, json};

use super::document::{Document, percent_decode};
use super::schema::Direction;

/// How deep generation follows nested schemas before answering with the smallest value of the type
/// (recursive schemas such as trees would otherwise never end).
pub const MAX_DEPTH: usize = 8;

/// Largest `minLength`, `minItems` or `minProperties` honoured: a hostile document must not make a
/// mock build gigabyte bodies.
const MAX_GENERATED: u64 = 10_000;

/// Generates sample values from the schemas of one document.
#[derive(Debug, Clone, Copy)]
pub struct Sampler<'a> {
    doc: &'a Document,
    direction: Direction,
}

impl<'a> Sampler<'a> {
    /// A sampler for values sent in `direction` (`readOnly` properties are left out of requests,
    /// `writeOnly` ones out of responses).
    pub fn new(doc: &'a Document, direction: Direction) -> Self {
        Sampler { doc, direction }
    }

    /// A value for `schema`: its `const`, `example`, first `examples`, `default` or first `enum`
    /// value, else one built from its type and constraints.
    pub fn sample(&self, schema: &Value) -> Value {
        self.generate(schema, 0, &mut Vec::new())
    }

    fn generate(&self, schema: &Value, depth: usize, refs: &mut Vec<String>) -> Value {
        // Follow references, noting them so that a schema reached again through itself stops.
        let mut schema = schema;
        let mut pushed = 0;
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let Some(target) = reference
                .strip_prefix('#')
                .map(percent_decode)
                .and_then(|p| self.doc.get(&p))
            else {
                break;
            };
            if pushed > 16 || refs.iter().filter(|r| *r == reference).count() >= 2 {
                refs.truncate(refs.len() - pushed);
                return self.smallest(target);
            }
            refs.push(reference.to_string());
            pushed += 1;
            schema = target;
        }
        let value = if depth > MAX_DEPTH {
            self.smallest(schema)
        } else {
            self.generate_resolved(schema, depth, refs)
        };
        refs.truncate(refs.len() - pushed);
        value
    }

    fn generate_resolved(&self, schema: &Value, depth: usize, refs: &mut Vec<String>) -> Value {
        let Some(map) = schema.as_object() else {
            // `true` / `false` schemas (3.1), or garbage: anything goes.
            return Value::Null;
        };
        if let Some(value) = map.get("const") {
            return value.clone();
        }
        if let Some(value) = map.get("example") {
            return value.clone();
        }
        if let Some(value) = map
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return value.clone();
        }
        if let Some(value) = map.get("default") {
            return value.clone();
        }
        if let Some(value) = map
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.iter().find(|v| !v.is_null()).or(e.first()))
        {
            return value.clone();
        }
        if let Some(all) = map.get("allOf").and_then(Value::as_array) {
            let merged = self.merge_all_of(map, all);
            return self.generate_resolved(&merged, depth + 1, refs);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(alternatives) = map.get(key).and_then(Value::as_array)
                && let Some(first) = alternatives
                    .iter()
                    .find(|a| {
                        // Inside a recursive structure, an alternative that does not recurse (often
                        // `null`) ends it.
                        !a.get("$ref")
                            .and_then(Value::as_str)
                            .is_some_and(|r| refs.iter().any(|seen| seen == r))
                    })
                    .or(alternatives.first())
            {
                // The alternative, with the sibling keywords (shared properties) merged in.
                let mut rest = map.clone();
                rest.remove(key);
                let merged = self.merge_all_of(&rest, std::slice::from_ref(first));
                return self.generate_resolved(&merged, depth + 1, refs);
            }
        }
        match primary_type(map).as_deref() {
            Some("object") => self.object(map, depth, refs),
            Some("array") => self.array(map, depth, refs),
            Some("string") => Value::String(string(map)),
            Some("integer") => integer(map),
            Some("number") => number(map),
            Some("boolean") => Value::Bool(true),
            Some("null") => Value::Null,
            _ => Value::Object(Map::new()),
        }
    }

    fn object(&self, map: &Map<String, Value>, depth: usize, refs: &mut Vec<String>) -> Value {
        let skip = match self.direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(properties) = map.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                let resolved = self.doc.resolve_schema(property);
                if resolved.get(skip) == Some(&Value::Bool(true)) {
                    continue;
                }
                // Deep inside recursive structures only what is required is generated.
                let recursive = property
                    .get("$ref")
                    .and_then(Value::as_str)
                    .is_some_and(|r| refs.iter().any(|seen| seen == r));
                if (recursive || depth >= MAX_DEPTH / 2) && !required.contains(&name.as_str()) {
                    continue;
                }
                out.insert(name.clone(), self.generate(property, depth + 1, refs));
            }
        }
        let min_properties = map
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(MAX_GENERATED);
        if let Some(extra) = map.get("additionalProperties").filter(|a| a.is_object())
            && (out.is_empty() || (out.len() as u64) < min_properties)
        {
            let mut i = 1;
            while out.is_empty() || (out.len() as u64) < min_properties {
                out.insert(
                    format!("additionalProp{i}"),
                    self.generate(extra, depth + 1, refs),
                );
                i += 1;
            }
        }
        Value::Object(out)
    }

    fn array(&self, map: &Map<String, Value>, depth: usize, refs: &mut Vec<String>) -> Value {
        let min = map
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(MAX_GENERATED);
        let max = map.get("maxItems").and_then(Value::as_u64);
        let mut out = Vec::new();
        if let Some(prefix) = map.get("prefixItems").and_then(Value::as_array) {
            out.extend(prefix.iter().map(|s| self.generate(s, depth + 1, refs)));
        }
        let Some(items) = map.get("items").filter(|i| i.is_object()) else {
            return Value::Array(out);
        };
        // A list of the structure being built (a tree's children) ends the recursion when it may.
        let recursive = items
            .get("$ref")
            .and_then(Value::as_str)
            .is_some_and(|r| refs.iter().any(|seen| seen == r));
        if recursive && min == 0 && out.is_empty() {
            return Value::Array(out);
        }
        // One item (as Prism does), or the minimum; none when the schema allows none.
        let count = min.max(1).min(max.unwrap_or(u64::MAX)) as usize;
        let item = self.generate(items, depth + 1, refs);
        let unique = map.get("uniqueItems") == Some(&Value::Bool(true));
        let enum_values: Vec<Value> = self
            .doc
            .resolve_schema(items)
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        while out.len() < count {
            match (unique, enum_values.get(out.len())) {
                (true, Some(v)) => out.push(v.clone()),
                _ => out.push(item.clone()),
            }
        }
        Value::Array(out)
    }

    /// `allOf` (and a chosen `oneOf`/`anyOf` alternative) merged with the sibling keywords into one
    /// schema: properties and `required` united, other keywords first-wins.
    fn merge_all_of(&self, base: &Map<String, Value>, parts: &[Value]) -> Value {
        let mut merged = base.clone();
        merged.remove("allOf");
        for part in parts {
            let part = self.doc.resolve_schema(part);
            let Some(part) = part.as_object() else {
                continue;
            };
            let part = match part.get("allOf").and_then(Value::as_array) {
                Some(nested) => self.merge_all_of(part, nested),
                None => Value::Object(part.clone()),
            };
            let Some(part) = part.as_object() else {
                continue;
            };
            for (key, value) in part {
                match (key.as_str(), merged.get_mut(key)) {
                    ("properties", Some(Value::Object(props))) => {
                        if let Some(more) = value.as_object() {
                            for (k, v) in more {
                                props.entry(k.clone()).or_insert_with(|| v.clone());
                            }
                        }
                    }
                    ("required", Some(Value::Array(names))) => {
                        for name in value.as_array().into_iter().flatten() {
                            if !names.contains(name) {
                                names.push(name.clone());
                            }
                        }
                    }
                    (_, Some(_)) => {}
                    (_, None) => {
                        merged.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        if !merged.contains_key("type") && merged.contains_key("properties") {
            merged.insert("type".into(), json!("object"));
        }
        Value::Object(merged)
    }

    /// The smallest value of a schema's type, for depth-limited recursion.
    fn smallest(&self, schema: &Value) -> Value {
        let Some(map) = schema.as_object() else {
            return Value::Null;
        };
        if is_nullable(map) {
            return Value::Null;
        }
        match primary_type(map).as_deref() {
            Some("array") => json!([]),
            Some("string") => Value::String(string(map)),
            Some("integer") => integer(map),
            Some("number") => number(map),
            Some("boolean") => Value::Bool(true),
            Some("null") => Value::Null,
            _ => json!({}),
        }
    }
}

fn is_nullable(map: &Map<String, Value>) -> bool {
    map.get("nullable") == Some(&Value::Bool(true))
        || map
            .get("type")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|t| t == "null"))
}

/// The type a schema generates: the first non-null entry of `type`, else one inferred from keywords.
pub(crate) fn primary_type(map: &Map<String, Value>) -> Option<String> {
    match map.get("type") {
        Some(Value::String(t)) => return Some(t.clone()),
        Some(Value::Array(types)) => {
            return types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .or_else(|| types.first().and_then(Value::as_str))
                .map(str::to_string);
        }
        _ => {}
    }
    let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    if has(&[
        "properties",
        "additionalProperties",
        "required",
        "minProperties",
    ]) {
        Some("object".into())
    } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
        Some("array".into())
    } else if has(&["format", "minLength", "maxLength", "pattern"]) {
        Some("string".into())
    } else if has(&["minimum", "maximum", "multipleOf"]) {
        Some("number".into())
    } else {
        None
    }
}

fn string(map: &Map<String, Value>) -> String {
    let format = map
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut value = match format {
        "date-time" => "2019-08-24T14:15:22Z",
        "date" => "2019-08-24",
        "time" => "14:15:22Z",
        "duration" => "P3D",
        "uuid" => "095be615-a8ad-4c33-8e9c-c7612fbf6c9f",
        "email" | "idn-email" => "user@example.com",
        "uri" | "url" | "iri" => "http://example.com",
        "uri-reference" | "iri-reference" => "/example",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "192.168.0.1",
        "ipv6" => "2001:db8::1",
        "byte" => "U3dhZ2dlciByb2Nrcw==",
        "binary" => "binary",
        "password" => "pa$$word",
        "json-pointer" => "/example",
        "regex" => ".*",
        _ => "string",
    }
    .to_string();
    if let Some(pattern) = map.get("pattern").and_then(Value::as_str)
        && let Ok(re) = regex::Regex::new(pattern)
        && !re.is_match(&value)
        && let Some(found) = pattern_sample(pattern).filter(|s| re.is_match(s))
    {
        value = found;
    }
    let min = map
        .get("minLength")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(MAX_GENERATED) as usize;
    let max = map
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    while value.chars().count() < min {
        value.push('x');
    }
    if let Some(max) = max
        && value.chars().count() > max
    {
        value = value.chars().take(max).collect();
    }
    value
}

/// A string matching `pattern`: the shortest repetitions, the first alternatives and, in classes,
/// a letter or digit when the class has one.
fn pattern_sample(pattern: &str) -> Option<String> {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn pick(ranges: impl Iterator<Item = (u32, u32)> + Clone) -> Option<char> {
        for wanted in ['a', 'A', '0'] {
            let w = wanted as u32;
            if let Some((lo, _)) = ranges.clone().find(|(lo, hi)| *lo <= w + 25 && *hi >= w) {
                return char::from_u32(lo.max(w));
            }
        }
        ranges.clone().next().and_then(|(lo, _)| char::from_u32(lo))
    }
    fn walk(hir: &Hir, out: &mut String, depth: usize) -> Option<()> {
        if depth > 64 || out.len() > 4096 {
            return None;
        }
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
            HirKind::Class(Class::Unicode(c)) => out.push(pick(
                c.ranges()
                    .iter()
                    .map(|r| (r.start() as u32, r.end() as u32)),
            )?),
            HirKind::Class(Class::Bytes(c)) => out.push(pick(
                c.ranges()
                    .iter()
                    .map(|r| (u32::from(r.start()), u32::from(r.end()))),
            )?),
            HirKind::Repetition(r) => {
                for _ in 0..r.min.min(256) {
                    walk(&r.sub, out, depth + 1)?;
                }
            }
            HirKind::Capture(c) => walk(&c.sub, out, depth + 1)?,
            HirKind::Concat(parts) => {
                for part in parts {
                    walk(part, out, depth + 1)?;
                }
            }
            HirKind::Alternation(parts) => walk(parts.first()?, out, depth + 1)?,
        }
        Some(())
    }
    let hir = regex_syntax::parse(pattern).ok()?;
    let mut out = String::new();
    walk(&hir, &mut out, 0)?;
    Some(out)
}

fn bounds(map: &Map<String, Value>) -> (Option<f64>, Option<f64>, bool, bool) {
    let mut min = map.get("minimum").and_then(Value::as_f64);
    let mut max = map.get("maximum").and_then(Value::as_f64);
    let mut min_exclusive = map.get("exclusiveMinimum") == Some(&Value::Bool(true));
    let mut max_exclusive = map.get("exclusiveMaximum") == Some(&Value::Bool(true));
    // 3.1 / 2020-12 numeric forms.
    if let Some(m) = map.get("exclusiveMinimum").and_then(Value::as_f64) {
        min = Some(min.map_or(m, |x| x.max(m)));
        min_exclusive = true;
    }
    if let Some(m) = map.get("exclusiveMaximum").and_then(Value::as_f64) {
        max = Some(max.map_or(m, |x| x.min(m)));
        max_exclusive = true;
    }
    (min, max, min_exclusive, max_exclusive)
}

fn integer(map: &Map<String, Value>) -> Value {
    let (min, max, min_ex, max_ex) = bounds(map);
    let lo = min.map(|m| if min_ex { m.floor() + 1.0 } else { m.ceil() });
    let hi = max.map(|m| if max_ex { m.ceil() - 1.0 } else { m.floor() });
    let mut v = match (lo, hi) {
        (Some(lo), _) => lo,
        (None, Some(hi)) if hi < 0.0 => hi,
        _ => 0.0,
    };
    if let Some(step) = map
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|s| *s > 0.0)
    {
        v = (v / step).ceil() * step;
    }
    json!(v as i64)
}

fn number(map: &Map<String, Value>) -> Value {
    let (min, max, min_ex, max_ex) = bounds(map);
    let mut v = match (min, max) {
        (Some(lo), Some(hi)) if min_ex || max_ex => (lo + hi) / 2.0,
        (Some(lo), _) if min_ex => lo + 1.0,
        (Some(lo), _) => lo,
        (None, Some(hi)) if hi < 0.0 || (max_ex && hi <= 0.0) => hi - 1.0,
        _ => 0.0,
    };
    if let Some(step) = map
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|s| *s > 0.0)
    {
        v = (v / step).ceil() * step;
    }
    if v.fract() == 0.0 && v.abs() < 9e15 {
        json!(v as i64)
    } else {
        Number::from_f64(v).map_or(json!(0), Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(schema: Value) -> Value {
        let doc = match Document::parse("openapi: 3.1.0\npaths: {}\n", "t.yaml") {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        Sampler::new(&doc, Direction::Response).sample(&schema)
    }

    #[test]
    fn scalars_respect_constraints() {
        assert_eq!(sample(json!({"type": "integer", "minimum": 5})), json!(5));
        assert_eq!(
            sample(json!({"type": "integer", "exclusiveMinimum": 5})),
            json!(6)
        );
        assert_eq!(sample(json!({"type": "integer", "maximum": -3})), json!(-3));
        assert_eq!(
            sample(json!({"type": "integer", "minimum": 1, "multipleOf": 5})),
            json!(5)
        );
        assert_eq!(
            sample(json!({"type": "string", "minLength": 8})),
            json!("stringxx")
        );
        assert_eq!(
            sample(json!({"type": "string", "maxLength": 3})),
            json!("str")
        );
        assert_eq!(
            sample(json!({"type": "string", "pattern": "^[0-9]+$"})),
            json!("0")
        );
        assert_eq!(
            sample(json!({"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}(x|y)?$"})),
            json!("AA-000")
        );
        assert_eq!(
            sample(json!({"type": ["null", "string"], "format": "uuid"})),
            json!("095be615-a8ad-4c33-8e9c-c7612fbf6c9f")
        );
        assert_eq!(sample(json!({"enum": ["b", "a"]})), json!("b"));
        assert_eq!(sample(json!({"const": 3})), json!(3));
    }

    #[test]
    fn arrays_and_maps() {
        assert_eq!(
            sample(json!({"type": "array", "items": {"type": "boolean"}, "minItems": 2})),
            json!([true, true])
        );
        assert_eq!(
            sample(json!({"type": "object", "additionalProperties": {"type": "integer"}})),
            json!({"additionalProp1": 0})
        );
    }
}
