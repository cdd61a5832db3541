//! Loading an OpenAPI document: YAML or JSON text to JSON with source positions, version detection,
//! Swagger 2.0 conversion, external files bundled in, and `$ref` checks.
//!
//! The stages, in order: the root file is parsed keeping positions; its version is detected
//! (`openapi: 3.0.x`, `3.1.x`, or `swagger: "2.0"`); references to other files are bundled into the
//! document ([`super::bundle`]) when it was loaded from a path; a Swagger 2.0 document is converted to
//! OpenAPI 3.0 ([`super::swagger2`]); then every remaining `$ref` must resolve locally and no chain of
//! references may loop. The document remembers where each part came from, so later errors still
//! name the original file, line and column.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde_json::Value;
use testmesh_flow::yaml::NodeKind;

use super::{bundle, swagger2};
use crate::error::ImportError;
use crate::source::{Location, Source, escape, read_text};

/// Which specification a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    /// OpenAPI 3.0.x: schemas are an extended subset of JSON Schema draft 4/5 (`nullable`,
    /// boolean `exclusiveMinimum`). Swagger 2.0 documents are converted to this version.
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

/// A parsed OpenAPI document: its JSON value plus what is needed to point at places in its sources.
#[derive(Debug, Clone)]
pub struct Document {
    /// The root file as parsed: positions, and the document itself unless `value` is set.
    source: Source,
    /// The document when it differs from the root file's text: other files bundled in, or converted
    /// from Swagger 2.0.
    value: Option<Value>,
    /// Where the parts of `value` came from.
    origins: Origins,
    version: SpecVersion,
    version_text: String,
    converted_from: Option<String>,
}

/// Maps pointers of a loaded document back to the file and place each part was written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origins {
    /// Pointer in the converted document → pointer in the Swagger 2.0 document it came from. The
    /// nearest recorded ancestor of a pointer applies, the rest of the pointer appended.
    pub(crate) converted: HashMap<String, String>,
    /// Pointer in the bundled document → (index into `files`, pointer in that file), looked up the
    /// same way.
    pub(crate) bundled: HashMap<String, (usize, String)>,
    /// The files bundled in, in the order they were first referenced.
    pub(crate) files: Vec<Source>,
}

impl Origins {
    /// The location of `pointer` (of the finished document): through the Swagger conversion, then
    /// into the file the part was bundled from.
    pub(crate) fn locate(&self, root: &Source, pointer: &str) -> Location {
        let pointer = match nearest(&self.converted, pointer) {
            Some((original, rest)) => format!("{original}{rest}"),
            None => pointer.to_string(),
        };
        if let Some(((file, at), rest)) = nearest(&self.bundled, &pointer)
            && let Some(source) = self.files.get(*file)
        {
            return source.locate(&format!("{at}{rest}"));
        }
        root.locate(&pointer)
    }

    pub(crate) fn invalid(
        &self,
        root: &Source,
        pointer: &str,
        message: impl Into<String>,
    ) -> ImportError {
        ImportError::Invalid {
            location: self.locate(root, pointer),
            message: message.into(),
        }
    }
}

/// The entry for the longest recorded prefix of `pointer` (whole segments), and the rest of it.
fn nearest<'m, 'p, T>(map: &'m HashMap<String, T>, pointer: &'p str) -> Option<(&'m T, &'p str)> {
    if map.is_empty() {
        return None;
    }
    let mut end = pointer.len();
    loop {
        if let Some(found) = map.get(&pointer[..end]) {
            return Some((found, &pointer[end..]));
        }
        end = pointer[..end].rfind('/')?;
    }
}

/// Most `$ref` hops followed for one value before giving up (cycles are caught earlier; this bounds
/// pathological chains).
const MAX_REF_HOPS: usize = 64;

impl Document {
    /// Reads and parses a file (YAML or JSON, by content). References to other files
    /// (`./schemas/pet.yaml`, `common.json#/components/schemas/Error`) are resolved relative to the
    /// file that holds them and bundled into the document.
    pub fn load(path: &Path) -> Result<Document, ImportError> {
        let text = read_text(path)?;
        let source = Source::parse(&text, &path.display().to_string())?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        Document::build(source, Some((path, text.len() as u64, dir)))
    }

    /// Parses a document from text. `file` names it in errors. There is no directory to resolve
    /// references to other files against, so they are errors; use [`Document::load`] for those.
    pub fn parse(text: &str, file: &str) -> Result<Document, ImportError> {
        Document::from_source(Source::parse(text, file)?)
    }

    /// Checks a parsed input is an OpenAPI 3.x (or Swagger 2.0, converted) document whose references
    /// all resolve. References to other files are errors, as for [`Document::parse`].
    pub fn from_source(source: Source) -> Result<Document, ImportError> {
        Document::build(source, None)
    }

    /// The stages of loading; `file` is the root file's path, size and directory when loaded from a
    /// path.
    fn build(source: Source, file: Option<(&Path, u64, &Path)>) -> Result<Document, ImportError> {
        let mut doc = Document {
            source,
            value: None,
            origins: Origins::default(),
            version: SpecVersion::OpenApi30,
            version_text: String::new(),
            converted_from: None,
        };
        let swagger = doc.detect_version()?;
        if let Some(bundled) = bundle::bundle(&doc.source, file, swagger)? {
            doc.value = Some(bundled.value);
            doc.origins.bundled = bundled.origins;
            doc.origins.files = bundled.files;
        }
        if swagger {
            let converted = {
                let origins = &doc.origins;
                let source = &doc.source;
                let invalid = |pointer: &str, message: String| -> ImportError {
                    origins.invalid(source, pointer, message)
                };
                swagger2::convert(doc.root(), &invalid)?
            };
            doc.value = Some(converted.value);
            doc.origins.converted = converted.origins;
            doc.converted_from = Some(format!("Swagger {}", doc.version_text));
        }
        doc.check_refs()?;
        Ok(doc)
    }

    /// Reads the version field; true for a Swagger 2.0 document.
    fn detect_version(&mut self) -> Result<bool, ImportError> {
        let Some(map) = self.source.root().as_object() else {
            return Err(self.invalid(
                "",
                "not an OpenAPI document: expected a mapping with an `openapi: 3.x` (or \
                 `swagger: \"2.0\"`) field at the top",
            ));
        };
        let swagger = match (map.get("openapi"), map.get("swagger")) {
            (Some(_), _) => false,
            (None, Some(_)) => true,
            (None, None) => {
                return Err(self.invalid(
                    "",
                    "not an OpenAPI document: there is no top-level `openapi` field (expected \
                     `openapi: 3.0.x` or `openapi: 3.1.x`, or `swagger: \"2.0\"`)",
                ));
            }
        };
        let field = if swagger { "swagger" } else { "openapi" };
        let pointer = format!("/{field}");
        let version = map.get(field).unwrap_or(&Value::Null);
        // A YAML author may write `openapi: 3.0` unquoted, which reads as a number: use the text as
        // written.
        let written = match (version, self.number_text(&pointer)) {
            (Value::String(s), _) => s.clone(),
            (_, Some(t)) => t,
            (other, None) => scalar_text(other),
        };
        if swagger {
            if written != "2.0" {
                return Err(self.invalid(
                    &pointer,
                    format!(
                        "unsupported Swagger version {written:?}: only Swagger 2.0 (converted to \
                         OpenAPI 3.0) and OpenAPI 3.0.x / 3.1.x are read"
                    ),
                ));
            }
        } else if written.starts_with("3.0") {
            self.version = SpecVersion::OpenApi30;
        } else if written.starts_with("3.1") {
            self.version = SpecVersion::OpenApi31;
        } else {
            let hint = if written.starts_with('2') {
                " (a 2.0 document says `swagger: \"2.0\"`, not `openapi`)"
            } else {
                ""
            };
            return Err(self.invalid(
                &pointer,
                format!("unsupported OpenAPI version {written:?}: expected 3.0.x or 3.1.x{hint}"),
            ));
        }
        self.version_text = written;
        if !swagger && !map.get("paths").is_none_or(Value::is_object) {
            return Err(self.invalid("/paths", "`paths` must be a mapping"));
        }
        Ok(swagger)
    }

    /// A YAML float as written (`3.0` rather than JSON's `3`), when positions are known.
    fn number_text(&self, pointer: &str) -> Option<String> {
        match self.source.node_at(pointer)?.kind {
            NodeKind::Float(f) => Some(format!("{f:?}")),
            _ => None,
        }
    }

    /// Checks every `$ref` in the document resolves to a local target and that no chain of references
    /// loops (`A: {$ref: B}`, `B: {$ref: A}`), so later stages can rely on both. Schemas that
    /// contain themselves (`children: {items: {$ref: Node}}`) are fine: only references to
    /// references form chains.
    fn check_refs(&self) -> Result<(), ImportError> {
        let mut stack: Vec<(String, &Value, bool)> = vec![(String::new(), self.root(), false)];
        // Targets known to end at a value that is not a reference.
        let mut settled: HashSet<String> = HashSet::new();
        while let Some((pointer, value, literal)) = stack.pop() {
            match value {
                Value::Object(map) => {
                    if !literal && let Some(Value::String(reference)) = map.get("$ref") {
                        let at = format!("{pointer}/$ref");
                        let (target, target_pointer) = self.ref_target(reference, &at)?;
                        if !settled.contains(&target_pointer) {
                            self.check_chain(target, target_pointer, &pointer, &mut settled)?;
                        }
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

    /// Follows the references from `target` (the target of the `$ref` in the value at `from`) until
    /// a value that is not a reference; an error naming the chain when it loops.
    fn check_chain<'a>(
        &'a self,
        mut target: &'a Value,
        mut target_pointer: String,
        from: &str,
        settled: &mut HashSet<String>,
    ) -> Result<(), ImportError> {
        let mut chain = vec![target_pointer.clone()];
        while let Some(reference) = target.get("$ref").and_then(Value::as_str) {
            if settled.contains(&target_pointer) {
                break;
            }
            let (next, next_pointer) =
                self.ref_target(reference, &format!("{target_pointer}/$ref"))?;
            if chain.contains(&next_pointer) || chain.len() > MAX_REF_HOPS {
                chain.push(next_pointer);
                let shown: Vec<String> = chain.iter().map(|p| self.describe(p)).collect();
                return Err(self.invalid(
                    from,
                    format!(
                        "reference cycle: {} (a reference must lead to a value that is not \
                         itself only a reference)",
                        shown.join(" → ")
                    ),
                ));
            }
            chain.push(next_pointer.clone());
            target = next;
            target_pointer = next_pointer;
        }
        settled.extend(chain);
        Ok(())
    }

    /// A pointer as the user wrote it: `#/components/schemas/A` in the root file,
    /// `schemas/pet.yaml#/Pet` for a part bundled from another file, the Swagger pointer for a
    /// converted document.
    fn describe(&self, pointer: &str) -> String {
        let location = self.locate(pointer);
        if location.file == self.file() {
            format!("#{}", location.pointer)
        } else {
            format!("{}#{}", location.file, location.pointer)
        }
    }

    /// The target of a `$ref` string found at `at`, or an error naming both.
    fn ref_target(&self, reference: &str, at: &str) -> Result<(&Value, String), ImportError> {
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(self.invalid(
                at,
                format!(
                    "external reference {reference:?} is not supported here: only local \
                     references (`#/components/…`) are resolved once loading is done"
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
        match self.root().pointer(&pointer) {
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
                .and_then(|p| self.root().pointer(&percent_decode(p)))
            {
                Some(next) => current = next,
                None => return current,
            }
        }
        current
    }

    /// The value at a JSON pointer.
    pub fn get(&self, pointer: &str) -> Option<&Value> {
        self.root().pointer(pointer)
    }

    /// The whole document as JSON (references left in place; other files bundled in; a Swagger 2.0
    /// document as its OpenAPI 3.0 conversion).
    pub fn root(&self) -> &Value {
        self.value.as_ref().unwrap_or_else(|| self.source.root())
    }

    /// The specification version the document follows once loaded (`OpenApi30` for a converted
    /// Swagger 2.0 document).
    pub fn version(&self) -> SpecVersion {
        self.version
    }

    /// The version field as written in the file: `openapi` (`3.0.3`), or `swagger` (`2.0`) for a
    /// converted document.
    pub fn version_text(&self) -> &str {
        &self.version_text
    }

    /// What the document was converted from (`Swagger 2.0`), or `None` for an OpenAPI 3 document.
    pub fn converted_from(&self) -> Option<&str> {
        self.converted_from.as_deref()
    }

    /// The file name given to the loader.
    pub fn file(&self) -> &str {
        self.source.file()
    }

    /// The other files bundled into the document through references, in the order they were first
    /// referenced (paths relative to the root file's directory as given).
    pub fn external_files(&self) -> Vec<&str> {
        self.origins.files.iter().map(Source::file).collect()
    }

    /// The location of a JSON pointer of the document: the file it was written in, the pointer in
    /// that file and, when known, line and column. Parts bundled from other files point into them;
    /// parts of a converted Swagger 2.0 document point at what they were converted from.
    pub fn locate(&self, pointer: &str) -> Location {
        self.origins.locate(&self.source, pointer)
    }

    /// An [`ImportError::Invalid`] at `pointer` (located as [`Document::locate`] does).
    pub fn invalid(&self, pointer: &str, message: impl Into<String>) -> ImportError {
        self.origins.invalid(&self.source, pointer, message)
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
