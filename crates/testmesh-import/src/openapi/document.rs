//! Loading an OpenAPI document: YAML or JSON text to JSON with source positions, version detection,
//! and local `$ref` resolution.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde_json::Value;
use testmesh_flow::yaml::NodeKind;

use crate::error::ImportError;
use crate::source::{Location, Source, escape};

/// Which specification a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    /// OpenAPI 3.0.x: schemas are an extended subset of JSON Schema draft 4/5 (`nullable`,
    /// boolean `exclusiveMinimum`).
    OpenApi30,
    /// OpenAPI 3.1.x: schemas are JSON Schema 2020-12.
    OpenApi31,
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpecVersion::OpenApi30 => "OpenAPI 3.0",
            SpecVersion::OpenApi31 => "OpenAPI 3.1",
        })
    }
}

/// A parsed OpenAPI document: its JSON value plus what is needed to point at places in its source.
#[derive(Debug, Clone)]
pub struct Document {
    source: Source,
    version: SpecVersion,
    version_text: String,
}

/// Most `$ref` hops followed for one value before giving up (cycles are caught earlier; this bounds
/// pathological chains).
const MAX_REF_HOPS: usize = 64;

impl Document {
    /// Reads and parses a file (YAML or JSON, by content).
    pub fn load(path: &Path) -> Result<Document, ImportError> {
        Document::from_source(Source::load(path)?)
    }

    /// Parses a document from text. `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Document, ImportError> {
        Document::from_source(Source::parse(text, file)?)
    }

    /// Checks a parsed input is an OpenAPI 3.x document whose references all resolve.
    pub fn from_source(source: Source) -> Result<Document, ImportError> {
        let mut doc = Document {
            source,
            version: SpecVersion::OpenApi30,
            version_text: String::new(),
        };
        doc.detect_version()?;
        doc.check_refs()?;
        Ok(doc)
    }

    fn detect_version(&mut self) -> Result<(), ImportError> {
        let Some(map) = self.source.root().as_object() else {
            return Err(self.invalid(
                "",
                "not an OpenAPI document: expected a mapping with an `openapi: 3.x` field at the top",
            ));
        };
        if let Some(swagger) = map.get("swagger") {
            return Err(self.invalid(
                "/swagger",
                format!(
                    "Swagger {} documents are not supported; convert it to OpenAPI 3 first (for \
                     example with swagger2openapi)",
                    scalar_text(swagger)
                ),
            ));
        }
        let Some(version) = map.get("openapi") else {
            return Err(self.invalid(
                "",
                "not an OpenAPI document: there is no top-level `openapi` field (expected \
                 `openapi: 3.0.x` or `openapi: 3.1.x`)",
            ));
        };
        // A YAML author may write `openapi: 3.0` unquoted, which reads as a number: use the text as
        // written.
        let written = match (version, self.number_text("/openapi")) {
            (Value::String(s), _) => s.clone(),
            (_, Some(t)) => t,
            (other, None) => scalar_text(other),
        };
        self.version = if written.starts_with("3.0") {
            SpecVersion::OpenApi30
        } else if written.starts_with("3.1") {
            SpecVersion::OpenApi31
        } else {
            return Err(self.invalid(
                "/openapi",
                format!("unsupported OpenAPI version {written:?}: expected 3.0.x or 3.1.x"),
            ));
        };
        self.version_text = written;
        if !map.get("paths").is_none_or(Value::is_object) {
            return Err(self.invalid("/paths", "`paths` must be a mapping"));
        }
        Ok(())
    }

    /// A YAML float as written (`3.0` rather than JSON's `3`), when positions are known.
    fn number_text(&self, pointer: &str) -> Option<String> {
        match self.source.node_at(pointer)?.kind {
            NodeKind::Float(f) => Some(format!("{f:?}")),
            _ => None,
        }
    }

    /// Checks every `$ref` in the document resolves to a local target, so later stages can rely on it.
    fn check_refs(&self) -> Result<(), ImportError> {
        let mut stack: Vec<(String, &Value, bool)> =
            vec![(String::new(), self.source.root(), false)];
        while let Some((pointer, value, literal)) = stack.pop() {
            match value {
                Value::Object(map) => {
                    if !literal && let Some(Value::String(reference)) = map.get("$ref") {
                        self.ref_target(reference, &format!("{pointer}/$ref"))?;
                    }
                    for (key, child) in map {
                        // Example values, defaults, enums and consts are data: a `$ref` key inside
                        // them is not a reference. `properties` names can be anything, including
                        // these words, so a property named `example` is still walked.
                        let parent_is_names = pointer.ends_with("/properties");
                        let is_data = literal
                            || (!parent_is_names
                                && matches!(
                                    key.as_str(),
                                    "example" | "default" | "enum" | "const" | "value"
                                ));
                        stack.push((format!("{pointer}/{}", escape(key)), child, is_data));
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        stack.push((format!("{pointer}/{i}"), child, literal));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The target of a `$ref` string found at `at`, or an error naming both.
    fn ref_target(&self, reference: &str, at: &str) -> Result<(&Value, String), ImportError> {
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(self.invalid(
                at,
                format!(
                    "external reference {reference:?} is not supported: only local references \
                     (`#/components/…`) are resolved"
                ),
            ));
        };
        let pointer = percent_decode(fragment);
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(self.invalid(
                at,
                format!("reference {reference:?} is not a JSON pointer (`#/components/…`)"),
            ));
        }
        match self.source.root().pointer(&pointer) {
            Some(target) => Ok((target, pointer)),
            None => Err(self.invalid(
                at,
                format!("reference {reference:?} does not resolve: nothing at #{pointer}"),
            )),
        }
    }

    /// Follows `$ref`s from `value` (found at `pointer`) to a value that is not a reference. Returns
    /// the value and its own pointer. Reference cycles are errors naming the chain.
    pub fn resolve<'a>(
        &'a self,
        mut value: &'a Value,
        pointer: &str,
    ) -> Result<(&'a Value, String), ImportError> {
        let mut pointer = pointer.to_string();
        let mut seen: HashSet<String> = HashSet::new();
        let mut chain: Vec<String> = Vec::new();
        while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let (target, target_pointer) =
                self.ref_target(reference, &format!("{pointer}/$ref"))?;
            chain.push(format!("#{target_pointer}"));
            if !seen.insert(target_pointer.clone()) || chain.len() > MAX_REF_HOPS {
                return Err(
                    self.invalid(&pointer, format!("reference cycle: {}", chain.join(" → ")))
                );
            }
            value = target;
            pointer = target_pointer;
        }
        Ok((value, pointer))
    }

    /// Follows a schema's `$ref`s without failing: schemas may be recursive, and every reference was
    /// checked at load time. Returns the schema itself when a chain loops.
    pub fn resolve_schema<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut current = schema;
        for _ in 0..MAX_REF_HOPS {
            match current
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| self.source.root().pointer(&percent_decode(p)))
            {
                Some(next) => current = next,
                None => return current,
            }
        }
        current
    }

    /// The value at a JSON pointer.
    pub fn get(&self, pointer: &str) -> Option<&Value> {
        self.source.root().pointer(pointer)
    }

    /// The whole document as JSON (references left in place).
    pub fn root(&self) -> &Value {
        self.source.root()
    }

    /// The specification version.
    pub fn version(&self) -> SpecVersion {
        self.version
    }

    /// The `openapi` field as written (`3.0.3`).
    pub fn version_text(&self) -> &str {
        &self.version_text
    }

    /// The file name given to the loader.
    pub fn file(&self) -> &str {
        self.source.file()
    }

    /// The location of a JSON pointer (file, pointer and, when known, line and column).
    pub fn locate(&self, pointer: &str) -> Location {
        self.source.locate(pointer)
    }

    /// An [`ImportError::Invalid`] at `pointer`.
    pub fn invalid(&self, pointer: &str, message: impl Into<String>) -> ImportError {
        self.source.invalid(pointer, message)
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Decodes `%XX` escapes (URI fragments, path segments); invalid escapes are kept as written.
pub(crate) fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("/a%20b/%7Bid%7D"), "/a b/{id}");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn locates_nested_pointers() {
        let doc = Document::parse(
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a/b:\n    get:\n      responses: {}\n",
            "x.yaml",
        );
        let doc = match doc {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let loc = doc.locate("/paths/~1a~1b/get");
        assert_eq!((loc.line, loc.col), (Some(6), Some(7)));
        assert_eq!(doc.version(), SpecVersion::OpenApi30);
    }
}
