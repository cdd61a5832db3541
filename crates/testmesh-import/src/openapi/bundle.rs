//! References to other files (`./schemas/pet.yaml`, `common.json#/components/schemas/Error`,
//! `../shared/types.yaml#/Pet`), resolved relative to the file that holds them and bundled into the
//! root document, so the rest of the crate only ever sees local `#/…` references.
//!
//! Each target is copied once into the section its use calls for: a schema under
//! `components/schemas` (`definitions` in Swagger 2.0), a parameter under `components/parameters`,
//! a response under `components/responses`, and so on, named after the last segment of the pointer
//! or the file name (made unique). A component that is only a reference to another file
//! (`components: {schemas: {Pet: {$ref: './pet.yaml'}}}`) takes the target's content in place. Path
//! items are copied in place (OpenAPI 3.0 has no section for them). Targets of references found
//! anywhere else go under a private top-level `x-testmesh-bundled` mapping. References inside a
//! copied target are resolved against its own file, transitively; each (file, pointer) target is
//! copied once, so references between files that loop back terminate. References back into the root
//! file become local ones.
//!
//! What is bundled is remembered (document pointer → file and pointer there), so errors found later
//! name the file and line a part was written in.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::document::percent_decode;
use crate::error::ImportError;
use crate::source::{MAX_INPUT_BYTES, Source, escape, read_text, unescape};

/// A root document with the files it references bundled in.
pub(crate) struct Bundled {
    /// The bundled document.
    pub(crate) value: Value,
    /// Document pointer → (index into `files`, pointer in that file), for every copied part.
    pub(crate) origins: HashMap<String, (usize, String)>,
    /// The files read, in the order they were first referenced.
    pub(crate) files: Vec<Source>,
}

/// Bundles the files `root` references. `file` is the root file's path, size in bytes and directory,
/// or `None` when the document was given as text (then a reference to another file is an error).
/// `None` when the document references no other file.
pub(crate) fn bundle(
    root: &Source,
    file: Option<(&Path, u64, &Path)>,
    swagger: bool,
) -> Result<Option<Bundled>, ImportError> {
    if !has_external_refs(root.root()) {
        return Ok(None);
    }
    let mut bundler = Bundler {
        root,
        root_real: file.and_then(|(path, _, _)| std::fs::canonicalize(path).ok()),
        root_dir: file.map(|(_, _, dir)| dir.to_path_buf()),
        swagger,
        files: Vec::new(),
        by_path: HashMap::new(),
        total_bytes: file.map_or(0, |(_, size, _)| size),
        placed: HashMap::new(),
        taken: HashMap::new(),
        queue: VecDeque::new(),
        additions: Vec::new(),
        origins: HashMap::new(),
        inlining: Vec::new(),
    };
    let mut value = root.root().clone();
    bundler.claim_component_refs(&value)?;
    bundler.walk(&mut value, Kind::Document, ROOT, "", "")?;
    while let Some(job) = bundler.queue.pop_front() {
        bundler.copy(job)?;
    }
    let additions = std::mem::take(&mut bundler.additions);
    for (section, name, content) in additions {
        bundler.insert(&mut value, section, name, content)?;
    }
    Ok(Some(Bundled {
        value,
        origins: bundler.origins,
        files: bundler.files.into_iter().map(|f| f.source).collect(),
    }))
}

/// True when some `$ref` string does not start with `#` (a quick scan before any copying).
fn has_external_refs(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref")
                    && !r.starts_with('#')
                {
                    return true;
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

/// The root file's id; other files are `index + 1` into `Bundler::files`.
const ROOT: usize = 0;

/// What a value is, by where it sits: decides where a referenced target is copied to and what the
/// references inside it are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Document,
    Components,
    PathItem,
    Operation,
    Callback,
    Parameter,
    Header,
    MediaType,
    Encoding,
    RequestBody,
    Response,
    Schema,
    Example,
    Link,
    SecurityScheme,
    /// Anything else: walked for references, which are copied under `x-testmesh-bundled`.
    Other,
    /// Example values, defaults, enums: a `$ref` key there is data, not a reference.
    Data,
}

/// How the children under one key are walked.
enum Slot {
    /// The child is one value of this kind.
    One(Kind),
    /// The child is a mapping or list whose every member is of this kind.
    Each(Kind),
    /// A schema or a list of schemas (`items`, `allOf`).
    OneOrEach(Kind),
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn slot(kind: Kind, key: &str) -> Slot {
    use Kind::*;
    use Slot::{Each, One, OneOrEach};
    let data = matches!(key, "example" | "default" | "enum" | "const" | "value");
    match kind {
        Document => match key {
            "paths" | "webhooks" => Each(PathItem),
            "components" => One(Components),
            "definitions" => Each(Schema),
            "parameters" => Each(Parameter),
            "responses" => Each(Response),
            "securityDefinitions" => Each(SecurityScheme),
            _ => One(Other),
        },
        Components => match key {
            "schemas" => Each(Schema),
            "responses" => Each(Response),
            "parameters" => Each(Parameter),
            "examples" => Each(Example),
            "requestBodies" => Each(RequestBody),
            "headers" => Each(Header),
            "securitySchemes" => Each(SecurityScheme),
            "links" => Each(Link),
            "callbacks" => Each(Callback),
            "pathItems" => Each(PathItem),
            _ => One(Other),
        },
        PathItem => match key {
            "parameters" => Each(Parameter),
            k if METHODS.contains(&k) => One(Operation),
            _ => One(Other),
        },
        Operation => match key {
            "parameters" => Each(Parameter),
            "requestBody" => One(RequestBody),
            "responses" => Each(Response),
            "callbacks" => Each(Callback),
            _ => One(Other),
        },
        Callback if !key.starts_with("x-") => One(PathItem),
        Parameter | Header => match key {
            "schema" | "items" => One(Schema),
            "content" => Each(MediaType),
            "examples" => Each(Example),
            _ if data => One(Data),
            _ => One(Other),
        },
        MediaType => match key {
            "schema" => One(Schema),
            "examples" => Each(Example),
            "encoding" => Each(Encoding),
            _ if data => One(Data),
            _ => One(Other),
        },
        Encoding => match key {
            "headers" => Each(Header),
            _ => One(Other),
        },
        RequestBody => match key {
            "content" => Each(MediaType),
            _ => One(Other),
        },
        Response => match key {
            "content" => Each(MediaType),
            "headers" => Each(Header),
            "links" => Each(Link),
            "schema" => One(Schema),
            // Swagger 2.0 `examples`: media type → example value.
            "examples" => One(Data),
            _ => One(Other),
        },
        Schema => match key {
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                Each(Schema)
            }
            "items" | "prefixItems" | "allOf" | "anyOf" | "oneOf" => OneOrEach(Schema),
            "additionalProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedItems"
            | "unevaluatedProperties"
            | "additionalItems"
            | "contentSchema" => One(Schema),
            "examples" => One(Data),
            _ if data => One(Data),
            _ => One(Other),
        },
        Data => One(Data),
        Callback | Example | Link | SecurityScheme | Other => {
            if data {
                One(Data)
            } else {
                One(Other)
            }
        }
    }
}

/// Where targets referenced from a value of `kind` are copied: a section of the root document, or in
/// place (`None`).
fn section(kind: Kind, swagger: bool) -> Option<&'static str> {
    let section = match (kind, swagger) {
        (Kind::PathItem, _) => return None,
        (Kind::Schema, false) => "/components/schemas",
        (Kind::Schema, true) => "/definitions",
        (Kind::Parameter, false) => "/components/parameters",
        (Kind::Parameter, true) => "/parameters",
        (Kind::Response, false) => "/components/responses",
        (Kind::Response, true) => "/responses",
        (Kind::SecurityScheme, false) => "/components/securitySchemes",
        (Kind::SecurityScheme, true) => "/securityDefinitions",
        (Kind::RequestBody, false) => "/components/requestBodies",
        (Kind::Header, false) => "/components/headers",
        (Kind::Example, false) => "/components/examples",
        (Kind::Link, false) => "/components/links",
        (Kind::Callback, false) => "/components/callbacks",
        _ => "/x-testmesh-bundled",
    };
    Some(section)
}

/// The sections a component that is only a reference to another file can sit in, and their kinds.
fn component_sections(swagger: bool) -> &'static [(&'static str, Kind)] {
    if swagger {
        &[
            ("/definitions", Kind::Schema),
            ("/parameters", Kind::Parameter),
            ("/responses", Kind::Response),
        ]
    } else {
        &[
            ("/components/schemas", Kind::Schema),
            ("/components/parameters", Kind::Parameter),
            ("/components/responses", Kind::Response),
            ("/components/requestBodies", Kind::RequestBody),
            ("/components/headers", Kind::Header),
            ("/components/examples", Kind::Example),
            ("/components/links", Kind::Link),
            ("/components/callbacks", Kind::Callback),
            ("/components/securitySchemes", Kind::SecurityScheme),
        ]
    }
}

/// A file read for a reference.
struct File {
    source: Source,
    /// Its directory, as named (relative paths stay relative to the working directory).
    dir: PathBuf,
}

/// A target to copy: file id, pointer there, its kind, the document pointer it goes to and its
/// index in `Bundler::additions`.
struct Job {
    file: usize,
    pointer: String,
    kind: Kind,
    to: String,
    slot: usize,
}

struct Bundler<'a> {
    root: &'a Source,
    /// The root file's canonical path, to recognise references back into it.
    root_real: Option<PathBuf>,
    /// The root file's directory; `None` for a document given as text.
    root_dir: Option<PathBuf>,
    swagger: bool,
    files: Vec<File>,
    /// Canonical path → file id.
    by_path: HashMap<PathBuf, usize>,
    total_bytes: u64,
    /// (file id, pointer, kind it is used as) → document pointer of its copy.
    placed: HashMap<(usize, String, Kind), String>,
    /// Names used in each section.
    taken: HashMap<&'static str, HashSet<String>>,
    queue: VecDeque<Job>,
    /// (section, name, content) to add to the document.
    additions: Vec<(&'static str, String, Value)>,
    origins: HashMap<String, (usize, String)>,
    /// Path items being copied in place, to catch references that loop.
    inlining: Vec<(usize, String)>,
}

impl Bundler<'_> {
    fn source(&self, file: usize) -> &Source {
        match file.checked_sub(1).and_then(|i| self.files.get(i)) {
            Some(f) => &f.source,
            None => self.root,
        }
    }

    fn invalid(&self, file: usize, pointer: &str, message: String) -> ImportError {
        self.source(file).invalid(pointer, message)
    }

    /// Components of the root that are only a reference to another file take the target's place, so
    /// `components: {schemas: {Pet: {$ref: './pet.yaml'}}}` bundles as `Pet` itself.
    fn claim_component_refs(&mut self, root: &Value) -> Result<(), ImportError> {
        for &(section, kind) in component_sections(self.swagger) {
            let Some(entries) = root.pointer(section).and_then(Value::as_object) else {
                continue;
            };
            for (name, entry) in entries {
                let Some(map) = entry.as_object() else {
                    continue;
                };
                let (1, Some(Value::String(reference))) = (map.len(), map.get("$ref")) else {
                    continue;
                };
                if reference.starts_with('#') {
                    continue;
                }
                let at = format!("{section}/{}", escape(name));
                let (file, pointer) = self.target(reference, ROOT, &format!("{at}/$ref"))?;
                if file == ROOT {
                    continue;
                }
                self.placed.entry((file, pointer, kind)).or_insert(at);
            }
        }
        Ok(())
    }

    /// Walks `value` (of `kind`, at `at` in file `file`, at `local` in the document), rewriting
    /// references to other files.
    fn walk(
        &mut self,
        value: &mut Value,
        kind: Kind,
        file: usize,
        at: &str,
        local: &str,
    ) -> Result<(), ImportError> {
        if kind == Kind::Data {
            return Ok(());
        }
        let Value::Object(map) = value else {
            return Ok(());
        };
        if let Some(Value::String(reference)) = map.get("$ref") {
            let reference = reference.clone();
            if self.reference(value, &reference, kind, file, at, local)? {
                return Ok(());
            }
        }
        let Value::Object(map) = value else {
            return Ok(());
        };
        for (key, child) in map.iter_mut() {
            if key == "$ref" {
                continue;
            }
            let child_at = format!("{at}/{}", escape(key));
            let child_local = format!("{local}/{}", escape(key));
            match slot(kind, key) {
                Slot::One(k) => self.walk(child, k, file, &child_at, &child_local)?,
                Slot::Each(k) => self.walk_each(child, k, file, &child_at, &child_local)?,
                Slot::OneOrEach(k) => {
                    if child.is_array() {
                        self.walk_each(child, k, file, &child_at, &child_local)?;
                    } else {
                        self.walk(child, k, file, &child_at, &child_local)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn walk_each(
        &mut self,
        value: &mut Value,
        kind: Kind,
        file: usize,
        at: &str,
        local: &str,
    ) -> Result<(), ImportError> {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    // Extensions among named members (`x-…` under `paths`) are not members.
                    let kind = if key.starts_with("x-") {
                        Kind::Other
                    } else {
                        kind
                    };
                    let segment = escape(key);
                    self.walk(
                        child,
                        kind,
                        file,
                        &format!("{at}/{segment}"),
                        &format!("{local}/{segment}"),
                    )?;
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    self.walk(
                        child,
                        kind,
                        file,
                        &format!("{at}/{i}"),
                        &format!("{local}/{i}"),
                    )?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Handles the `$ref` of `value`. True when `value` was replaced by the target's content (and
    /// walked already).
    fn reference(
        &mut self,
        value: &mut Value,
        reference: &str,
        kind: Kind,
        file: usize,
        at: &str,
        local: &str,
    ) -> Result<bool, ImportError> {
        if file == ROOT && reference.starts_with('#') {
            return Ok(false);
        }
        let ref_at = format!("{at}/$ref");
        let (target_file, pointer) = self.target(reference, file, &ref_at)?;
        if target_file == ROOT {
            set_ref(value, &pointer);
            return Ok(false);
        }
        let Some(target) = self.source(target_file).root().pointer(&pointer) else {
            let name = self.source(target_file).file().to_string();
            return Err(self.invalid(
                file,
                &ref_at,
                format!(
                    "reference {reference:?} does not resolve: {name} has nothing at #{pointer}"
                ),
            ));
        };
        if !(target.is_object() || (kind == Kind::Schema && target.is_boolean())) {
            let name = self.source(target_file).file().to_string();
            return Err(self.invalid(
                file,
                &ref_at,
                format!(
                    "reference {reference:?} leads to {} in {name} (at #{pointer}), not a mapping",
                    type_name(target)
                ),
            ));
        }
        let Some(section) = section(kind, self.swagger) else {
            // A path item: copied in place, siblings of `$ref` kept where the target lacks them.
            let key = (target_file, pointer.clone());
            if self.inlining.contains(&key) {
                return Err(self.invalid(
                    file,
                    &ref_at,
                    format!("reference {reference:?} loops back to a path item being resolved"),
                ));
            }
            let mut content = target.clone();
            if let (Value::Object(copy), Value::Object(own)) = (&mut content, &*value) {
                for (k, v) in own {
                    if k != "$ref" && !copy.contains_key(k) {
                        copy.insert(k.clone(), v.clone());
                    }
                }
            }
            *value = content;
            self.origins
                .insert(local.to_string(), (target_file - 1, pointer.clone()));
            self.inlining.push(key);
            let walked = self.walk(value, kind, target_file, &pointer, local);
            self.inlining.pop();
            walked?;
            return Ok(true);
        };
        let key = (target_file, pointer.clone(), kind);
        if let Some(to) = self.placed.get(&key).cloned() {
            if to == local {
                // A component that only referred to this target: it takes the content.
                *value = target.clone();
                self.origins
                    .insert(local.to_string(), (target_file - 1, pointer.clone()));
                self.walk(value, kind, target_file, &pointer, local)?;
                return Ok(true);
            }
            set_ref(value, &to);
            return Ok(false);
        }
        let name = self.unique_name(section, &candidate_name(&pointer, self.source(target_file)));
        let to = format!("{section}/{}", escape(&name));
        self.placed.insert(key, to.clone());
        self.queue.push_back(Job {
            file: target_file,
            pointer,
            kind,
            to: to.clone(),
            slot: self.additions.len(),
        });
        self.additions.push((section, name, Value::Null));
        set_ref(value, &to);
        Ok(false)
    }

    /// Copies a target into the document, its own references resolved.
    fn copy(&mut self, job: Job) -> Result<(), ImportError> {
        let mut content = self
            .source(job.file)
            .root()
            .pointer(&job.pointer)
            .cloned()
            .unwrap_or(Value::Null);
        self.origins
            .insert(job.to.clone(), (job.file - 1, job.pointer.clone()));
        self.walk(&mut content, job.kind, job.file, &job.pointer, &job.to)?;
        if let Some(slot) = self.additions.get_mut(job.slot) {
            slot.2 = content;
        }
        Ok(())
    }

    /// A name not yet used in `section` of the root document.
    fn unique_name(&mut self, section: &'static str, candidate: &str) -> String {
        let root = self.root.root();
        let taken = self.taken.entry(section).or_insert_with(|| {
            root.pointer(section)
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        });
        let mut name = candidate.to_string();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{candidate}_{n}");
            n += 1;
        }
        taken.insert(name.clone());
        name
    }

    /// Adds a copied target under its section, creating the section if needed.
    fn insert(
        &self,
        value: &mut Value,
        section: &str,
        name: String,
        content: Value,
    ) -> Result<(), ImportError> {
        let mut node = value;
        let mut at = String::new();
        for segment in section.trim_start_matches('/').split('/') {
            at.push('/');
            at.push_str(segment);
            let Value::Object(map) = node else {
                return Err(self.root.invalid(&at, "expected a mapping here"));
            };
            node = map
                .entry(segment.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        let Value::Object(map) = node else {
            return Err(self.root.invalid(
                &at,
                format!("`{}` must be a mapping", at.trim_start_matches('/')),
            ));
        };
        map.insert(name, content);
        Ok(())
    }

    /// The file and pointer a reference written in `file` (at `at`) leads to, reading the file when
    /// it is new.
    fn target(
        &mut self,
        reference: &str,
        file: usize,
        at: &str,
    ) -> Result<(usize, String), ImportError> {
        let (path_part, fragment) = match reference.split_once('#') {
            Some((path, fragment)) => (path, fragment),
            None => (reference, ""),
        };
        let pointer = percent_decode(fragment);
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(self.invalid(
                file,
                at,
                format!(
                    "reference {reference:?} does not end in a JSON pointer (`#/components/…`); \
                     anchors are not supported"
                ),
            ));
        }
        if path_part.is_empty() {
            return Ok((file, pointer));
        }
        if path_part.contains("://") || path_part.starts_with("//") {
            return Err(self.invalid(
                file,
                at,
                format!(
                    "remote reference {reference:?}: remote references are not fetched; download \
                     the file and refer to it by a relative path"
                ),
            ));
        }
        if let Some((scheme, _)) = path_part.split_once(':')
            && scheme.len() > 1
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        {
            return Err(self.invalid(
                file,
                at,
                format!(
                    "reference {reference:?} uses the `{scheme}:` scheme; only relative file paths \
                     and local references are resolved"
                ),
            ));
        }
        let Some(root_dir) = &self.root_dir else {
            return Err(self.invalid(
                file,
                at,
                format!(
                    "external reference {reference:?} is not supported when the document is given \
                     as text: there is no file to resolve it against; load the document from its \
                     file instead"
                ),
            ));
        };
        let dir = match file.checked_sub(1).and_then(|i| self.files.get(i)) {
            Some(f) => f.dir.clone(),
            None => root_dir.clone(),
        };
        let path = normalize(&dir.join(percent_decode(path_part)));
        let real = std::fs::canonicalize(&path).map_err(|e| {
            self.invalid(
                file,
                at,
                format!(
                    "reference {reference:?} does not resolve: cannot read {}: {e}",
                    path.display()
                ),
            )
        })?;
        if self.root_real.as_ref() == Some(&real) {
            return Ok((ROOT, pointer));
        }
        if let Some(&id) = self.by_path.get(&real) {
            return Ok((id, pointer));
        }
        let size = std::fs::metadata(&real).map(|m| m.len()).unwrap_or(0);
        self.total_bytes = self.total_bytes.saturating_add(size);
        if self.total_bytes > MAX_INPUT_BYTES {
            return Err(ImportError::TooLarge {
                file: format!(
                    "{} with the files it references (up to {})",
                    self.root.file(),
                    path.display()
                ),
                size: self.total_bytes,
                limit: MAX_INPUT_BYTES,
            });
        }
        let text = read_text(&path).map_err(|e| {
            let reason = match e {
                ImportError::Read { source, .. } => source.to_string(),
                other => other.to_string(),
            };
            self.invalid(
                file,
                at,
                format!(
                    "reference {reference:?} does not resolve: cannot read {}: {reason}",
                    path.display()
                ),
            )
        })?;
        let display = path.display().to_string();
        let source = Source::parse(&text, &display).map_err(|e| match e {
            ImportError::Syntax {
                file: f,
                line,
                col,
                message,
            } => ImportError::Syntax {
                file: f,
                line,
                col,
                message: format!(
                    "{message} (in a file referenced at {})",
                    self.source(file).locate(at)
                ),
            },
            other => other,
        })?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        self.files.push(File { source, dir });
        let id = self.files.len();
        self.by_path.insert(real, id);
        Ok((id, pointer))
    }
}

/// Rewrites the `$ref` of `value` to the local pointer `to`.
fn set_ref(value: &mut Value, to: &str) {
    if let Value::Object(map) = value {
        map.insert(
            "$ref".into(),
            Value::String(format!("#{}", to.replace('%', "%25"))),
        );
    }
}

/// The last pointer segment, else the file's name without extension; only characters component
/// names allow (`[A-Za-z0-9._-]`).
fn candidate_name(pointer: &str, file: &Source) -> String {
    let raw = match pointer.rsplit('/').next() {
        Some(last) if !pointer.is_empty() => unescape(last),
        _ => Path::new(file.file())
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "bundled".into()
    } else {
        name
    }
}

/// Removes `.` and resolves `..` against earlier segments without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                if matches!(last, Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(last, Some(Component::RootDir | Component::Prefix(_))) {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_lexically() {
        let n = |p: &str| normalize(Path::new(p)).display().to_string();
        assert_eq!(n("specs/./schemas/../common.yaml"), "specs/common.yaml");
        assert_eq!(n("./a.yaml"), "a.yaml");
        assert_eq!(n("../shared/x.yaml"), "../shared/x.yaml");
        assert_eq!(n("a/../../b"), "../b");
        assert_eq!(n("/a/../../b"), "/b");
    }

    #[test]
    fn names_come_from_pointers_or_files() {
        let file = Source::from_value(Value::Null, "schemas/pet-type.yaml");
        assert_eq!(candidate_name("", &file), "pet-type");
        assert_eq!(candidate_name("/components/schemas/Error", &file), "Error");
        assert_eq!(candidate_name("/a~1b c", &file), "a_b_c");
    }
}
