//! Reading mock definitions from YAML files (errors at `file:line:col`) and from JSON values (errors
//! naming the field path, e.g. `endpoints[2].match.path_pattern`).
//!
//! Decoding is strict: unknown keys are errors with a "did you mean" hint, because mock files are
//! written by hand and a typo would otherwise silently change what matches. After decoding, the
//! definition is compiled once (regexes, templates, expressions, `body_from_file`) so that every
//! problem surfaces at load time, located in the source.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;
use testmesh_flow::diagnostic::did_you_mean;
use testmesh_flow::duration::parse_duration;
use testmesh_flow::yaml::{self, Entry, Node, NodeKind, Span};
use uuid::Uuid;

use crate::compile;
use crate::definition::*;
use crate::error::{DefinitionError, LoadError};

/// Mock files larger than this are refused.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Reads a mock file: one mock at the top level, or several under `mocks: [...]`. Relative paths
/// inside (`body_from_file`, `save_to`, TLS files) resolve against the file's directory.
pub fn load_file(path: &Path) -> Result<Vec<MockDefinition>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        LoadError::single(DefinitionError {
            file: Some(path.to_path_buf()),
            ..DefinitionError::at("", format!("cannot read the mock file: {e}"))
        })
    })?;
    load_str(&text, Some(path))
}

/// Reads mock definitions from YAML text; `file` names it in errors and gives relative paths their
/// base directory.
pub fn load_str(text: &str, file: Option<&Path>) -> Result<Vec<MockDefinition>, LoadError> {
    let base_dir = file.map(|f| match f.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    });
    let located = |mut e: DefinitionError| {
        e.file = file.map(Path::to_path_buf);
        e
    };
    if text.len() > MAX_FILE_BYTES {
        return Err(LoadError::single(located(DefinitionError::at(
            "",
            format!(
                "the file is {} bytes; mock files are limited to {MAX_FILE_BYTES}",
                text.len()
            ),
        ))));
    }
    let root = yaml::parse(text).map_err(|e| {
        LoadError::single(located(DefinitionError {
            span: Some(e.span),
            ..DefinitionError::at("", e.message)
        }))
    })?;
    let mut reader = Reader::new(file.map(Path::to_path_buf));
    let mut mocks = Vec::new();
    if let Some(list) = root.entry("mocks") {
        if let Some(entries) = root.as_map() {
            for extra in entries.iter().filter(|e| e.key != "mocks") {
                reader.error_at(
                    extra.key_span,
                    &extra.key,
                    "a file with `mocks: [...]` holds nothing else at the top level; move this key into each mock",
                );
            }
        }
        reader.push("mocks", "mocks", list.value.span);
        match list.value.as_seq() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let seg = format!("[{i}]");
                    reader.push(&seg, &seg, item.span);
                    if let Some(mut mock) = reader.mock(item, true) {
                        mock.base_dir = mock.base_dir.or_else(|| base_dir.clone());
                        mocks.push(mock);
                    }
                    reader.pop();
                }
            }
            None => reader.type_error(&list.value, "a list of mocks"),
        }
        reader.pop();
    } else if let Some(mut mock) = reader.mock(&root, true) {
        mock.base_dir = mock.base_dir.or_else(|| base_dir.clone());
        mocks.push(mock);
    }
    reader.finish(mocks)
}

/// Reads one mock from JSON (API bodies, flow configs, stored rows). Errors name the field path.
pub fn mock_from_json(value: &Value) -> Result<MockDefinition, LoadError> {
    let node = Node::from_json(value);
    let mut reader = Reader::new(None);
    let mock = reader.mock(&node, false);
    reader
        .finish(mock)?
        .ok_or_else(|| LoadError::single(DefinitionError::at("", "not a mock")))
}

/// Reads one endpoint from JSON (the REST form of an endpoint; the original's `match_config`,
/// `response_config` and `state_config` keys are accepted too).
pub fn endpoint_from_json(value: &Value) -> Result<EndpointDef, LoadError> {
    let node = Node::from_json(value);
    let mut reader = Reader::new(None);
    let endpoint = reader.endpoint(&node);
    reader
        .finish(endpoint)?
        .ok_or_else(|| LoadError::single(DefinitionError::at("", "not an endpoint")))
}

/// Reads a list of endpoints from JSON (a flow's `endpoints:`); errors are named `[i].…`.
pub fn endpoints_from_json(value: &Value) -> Result<Vec<EndpointDef>, LoadError> {
    let node = Node::from_json(value);
    let mut reader = Reader::new(None);
    let mut out = Vec::new();
    match node.as_seq() {
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                let seg = format!("[{i}]");
                reader.push(&seg, &seg, item.span);
                if let Some(endpoint) = reader.endpoint(item) {
                    out.push(endpoint);
                }
                reader.pop();
            }
        }
        None => reader.type_error(&node, "a list of endpoints"),
    }
    reader.finish(out)
}

const MOCK_KEYS: &[&str] = &[
    "name",
    "id",
    "host",
    "port",
    "tls",
    "state",
    "journal",
    "max_body_bytes",
    "mode",
    "proxy",
    "save_to",
    "chaos_rules",
    "endpoints",
    "base_dir",
];
const ENDPOINT_KEYS: &[&str] = &[
    "id",
    "path",
    "method",
    "priority",
    "match",
    "match_config",
    "response",
    "response_config",
    "responses",
    "state",
    "state_config",
];
const MATCH_KEYS: &[&str] = &[
    "path_pattern",
    "query",
    "query_params",
    "headers",
    "body_equals",
    "body",
    "body_json",
    "body_pattern",
    "body_matches",
];
const RESPONSE_KEYS: &[&str] = &[
    "status",
    "status_code",
    "headers",
    "body",
    "body_json",
    "body_text",
    "body_from_file",
    "template",
    "delay",
    "delay_ms",
    "hang",
    "close_connection",
    "state_changes",
];
const BODY_KEYS: &[&str] = &["body", "body_json", "body_text", "body_from_file"];

/// Walks a [`Node`] tree, keeping the field path (canonical and as written) and every error.
struct Reader {
    file: Option<PathBuf>,
    /// The directory of the file being read (relative paths resolve against it).
    file_dir: Option<PathBuf>,
    /// The directory `body_from_file` resolves against for the mock being read.
    base_dir: Option<PathBuf>,
    canon: Vec<String>,
    written: Vec<String>,
    errors: Vec<DefinitionError>,
    /// Canonical path → (span, path as written), for locating compile errors.
    spans: HashMap<String, (Span, String)>,
}

fn join(segments: &[String]) -> String {
    let mut out = String::new();
    for s in segments {
        if !s.starts_with('[') && !out.is_empty() {
            out.push('.');
        }
        out.push_str(s);
    }
    out
}

impl Reader {
    fn new(file: Option<PathBuf>) -> Self {
        let file_dir = file.as_ref().map(|f| match f.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        });
        Reader {
            file,
            base_dir: file_dir.clone(),
            file_dir,
            canon: Vec::new(),
            written: Vec::new(),
            errors: Vec::new(),
            spans: HashMap::new(),
        }
    }

    fn finish<T>(mut self, value: T) -> Result<T, LoadError> {
        if self.errors.is_empty() {
            return Ok(value);
        }
        self.errors
            .sort_by_key(|e| e.span.map(|s| (s.line, s.col)).unwrap_or((usize::MAX, 0)));
        self.errors.dedup();
        Err(LoadError {
            errors: self.errors,
        })
    }

    fn push(&mut self, canon: &str, written: &str, span: Span) {
        self.canon.push(canon.to_string());
        self.written.push(written.to_string());
        self.spans
            .insert(join(&self.canon), (span, join(&self.written)));
    }

    fn pop(&mut self) {
        self.canon.pop();
        self.written.pop();
    }

    fn span_of(span: Span) -> Option<Span> {
        (span.line > 0).then_some(span)
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(DefinitionError {
            file: self.file.clone(),
            span: Self::span_of(span),
            path: join(&self.written),
            message: message.into(),
            help: None,
        });
    }

    fn error_help(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.error(span, message);
        if let Some(last) = self.errors.last_mut() {
            last.help = Some(help.into());
        }
    }

    /// An error about a key of the current mapping (path = current path + key).
    fn error_at(&mut self, span: Span, key: &str, message: impl Into<String>) {
        self.written.push(key.to_string());
        self.error(span, message);
        self.written.pop();
    }

    fn type_error(&mut self, node: &Node, expected: &str) {
        let found = match &node.kind {
            NodeKind::Str(s) => format!("string {}", Value::from(s.as_str())),
            NodeKind::Int(i) => format!("number {i}"),
            NodeKind::Float(f) => format!("number {f}"),
            NodeKind::Bool(b) => format!("boolean {b}"),
            _ => node.type_name().to_string(),
        };
        self.error(node.span, format!("expected {expected}, found {found}"));
    }

    /// Compile errors carry canonical paths relative to `prefix`; locate them through the spans
    /// recorded while decoding (the longest recorded prefix of the path).
    fn compile_errors(&mut self, prefix: &str, errors: Vec<(String, String)>) {
        for (path, message) in errors {
            let full = match (prefix.is_empty(), path.is_empty()) {
                (true, _) => path.clone(),
                (false, true) => prefix.to_string(),
                (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
                (false, false) => format!("{prefix}.{path}"),
            };
            let mut probe = full.as_str();
            let mut located = None;
            loop {
                if let Some((span, written)) = self.spans.get(probe) {
                    located = Some((*span, format!("{written}{}", &full[probe.len()..])));
                    break;
                }
                match probe.rfind(['.', '[']) {
                    Some(i) if i > 0 => probe = &probe[..i],
                    _ => break,
                }
            }
            let (span, written) = located.unwrap_or((Span::default(), full.clone()));
            self.errors.push(DefinitionError {
                file: self.file.clone(),
                span: Self::span_of(span),
                path: written,
                message,
                help: None,
            });
        }
    }

    /// Requires a mapping and refuses unknown keys and two spellings of one setting.
    fn map<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: &[&str],
        exclusive: &[&[&str]],
    ) -> Option<&'n [Entry]> {
        let Some(entries) = node.as_map() else {
            self.type_error(node, &format!("a mapping ({what})"));
            return None;
        };
        for entry in entries {
            if !known.contains(&entry.key.as_str()) {
                let message = format!("unknown key `{}` in {what}", entry.key);
                self.written.push(entry.key.clone());
                match did_you_mean(&entry.key, known.iter().copied()) {
                    Some(s) => {
                        self.error_help(entry.key_span, message, format!("did you mean `{s}`?"))
                    }
                    None => self.error_help(
                        entry.key_span,
                        message,
                        format!("known keys: {}", known.join(", ")),
                    ),
                }
                self.written.pop();
            }
        }
        for group in exclusive {
            let present: Vec<&Entry> = entries
                .iter()
                .filter(|e| group.contains(&e.key.as_str()) && !e.value.is_null())
                .collect();
            if let [first, second, ..] = present.as_slice() {
                self.error_at(
                    second.key_span,
                    &second.key,
                    format!(
                        "`{}` and `{}` cannot both be given in {what}; keep one",
                        first.key, second.key
                    ),
                );
            }
        }
        Some(entries)
    }

    /// Decodes the first present (non-null) spelling of a setting under its canonical name.
    fn field<T>(
        &mut self,
        entries: &[Entry],
        names: &[&str],
        decode: impl FnOnce(&mut Self, &Node) -> Option<T>,
    ) -> Option<T> {
        let entry = entries
            .iter()
            .find(|e| names.contains(&e.key.as_str()) && !e.value.is_null())?;
        self.push(names[0], &entry.key, entry.value.span);
        let value = decode(self, &entry.value);
        self.pop();
        value
    }

    fn string(&mut self, node: &Node) -> Option<String> {
        match &node.kind {
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::Float(f) => Some(f.to_string()),
            NodeKind::Bool(b) => Some(b.to_string()),
            _ => {
                self.type_error(node, "a string");
                None
            }
        }
    }

    fn int(&mut self, node: &Node, expected: &str, min: i64, max: i64) -> Option<i64> {
        let value = match &node.kind {
            NodeKind::Int(i) => Some(*i),
            NodeKind::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some(*f as i64),
            NodeKind::Str(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match value {
            Some(v) if (min..=max).contains(&v) => Some(v),
            Some(v) => {
                self.error(
                    node.span,
                    format!("{v} is out of range: expected {expected}"),
                );
                None
            }
            None => {
                self.type_error(node, expected);
                None
            }
        }
    }

    fn float(&mut self, node: &Node) -> Option<f64> {
        match &node.kind {
            NodeKind::Int(i) => Some(*i as f64),
            NodeKind::Float(f) => Some(*f),
            NodeKind::Str(s) if s.trim().parse::<f64>().is_ok() => s.trim().parse().ok(),
            _ => {
                self.type_error(node, "a number");
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node) -> Option<bool> {
        match &node.kind {
            NodeKind::Bool(b) => Some(*b),
            NodeKind::Str(s) if s == "true" => Some(true),
            NodeKind::Str(s) if s == "false" => Some(false),
            _ => {
                self.type_error(node, "true or false");
                None
            }
        }
    }

    /// `150ms`, `2s`, or a number of milliseconds.
    fn duration(&mut self, node: &Node) -> Option<Duration> {
        match &node.kind {
            NodeKind::Int(i) if *i >= 0 => Some(Duration::from_millis(*i as u64)),
            NodeKind::Float(f) if *f >= 0.0 && f.is_finite() => {
                Some(Duration::from_secs_f64(f / 1000.0))
            }
            NodeKind::Str(s) => match s.trim().parse::<u64>() {
                Ok(ms) => Some(Duration::from_millis(ms)),
                Err(_) => match parse_duration(s) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        self.error(node.span, e.to_string());
                        None
                    }
                },
            },
            _ => {
                self.type_error(node, "a duration like `150ms` or a number of milliseconds");
                None
            }
        }
    }

    /// A mapping of names to scalar values (numbers and booleans are written as text).
    fn string_map(&mut self, node: &Node, what: &str) -> Option<IndexMap<String, String>> {
        let Some(entries) = node.as_map() else {
            self.type_error(node, &format!("a mapping ({what})"));
            return None;
        };
        let mut out = IndexMap::new();
        for entry in entries {
            self.push(&entry.key, &entry.key, entry.value.span);
            if let NodeKind::Null = entry.value.kind {
                out.insert(entry.key.clone(), String::new());
            } else if let Some(v) = self.string(&entry.value) {
                out.insert(entry.key.clone(), v);
            }
            self.pop();
        }
        Some(out)
    }

    fn list<T>(
        &mut self,
        node: &Node,
        what: &str,
        mut item: impl FnMut(&mut Self, &Node) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Some(items) = node.as_seq() else {
            self.type_error(node, &format!("a list ({what})"));
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, node) in items.iter().enumerate() {
            let seg = format!("[{i}]");
            self.push(&seg, &seg, node.span);
            if let Some(v) = item(self, node) {
                out.push(v);
            }
            self.pop();
        }
        Some(out)
    }

    fn mock(&mut self, node: &Node, in_file: bool) -> Option<MockDefinition> {
        let entries = self.map(node, "a mock", MOCK_KEYS, &[])?;
        let errors_before = self.errors.len();
        let mut mock = MockDefinition::new("");
        match self.field(entries, &["name"], Self::string) {
            Some(name) if !name.trim().is_empty() => mock.name = name,
            Some(_) => self.error_at(node.span, "name", "the name is empty"),
            None => {
                let message = if in_file {
                    "a mock needs a `name`"
                } else {
                    "a mock needs a `name` (flows use the step id)"
                };
                self.error(node.span, message);
            }
        }
        mock.id = self.field(entries, &["id"], |r, n| {
            let text = r.string(n)?;
            match Uuid::parse_str(text.trim()) {
                Ok(id) => Some(id),
                Err(_) => {
                    r.error(n.span, format!("`{text}` is not a UUID"));
                    None
                }
            }
        });
        mock.host = self.field(entries, &["host"], |r, n| {
            let host = r.string(n)?;
            if host.trim().is_empty() {
                r.error(n.span, "the host is empty");
                return None;
            }
            Some(host)
        });
        mock.port = self
            .field(entries, &["port"], |r, n| {
                r.int(n, "a port number 0-65535", 0, 65535)
            })
            .map(|p| p as u16);
        mock.tls = self.field(entries, &["tls"], |r, n| match &n.kind {
            NodeKind::Bool(true) => Some(Some(TlsDef::SelfSigned)),
            NodeKind::Bool(false) => Some(None),
            NodeKind::Map(_) => {
                let entries = r.map(n, "tls", &["cert", "key"], &[])?;
                let cert = r.field(entries, &["cert"], Self::string);
                let key = r.field(entries, &["key"], Self::string);
                match (cert, key) {
                    (Some(cert), Some(key)) => Some(Some(TlsDef::Files { cert, key })),
                    _ => {
                        r.error(n.span, "tls needs both `cert` and `key` (PEM files), or write `tls: true` for a self-signed certificate");
                        None
                    }
                }
            }
            _ => {
                r.type_error(n, "true, false or {cert, key}");
                None
            }
        })
        .flatten();
        if let Some(state) = self.field(entries, &["state"], |r, n| match n.to_json() {
            Value::Object(map) => Some(map),
            _ => {
                r.type_error(n, "a mapping (the initial state)");
                None
            }
        }) {
            mock.state = state;
        }
        if let Some(journal) = self.field(entries, &["journal"], |r, n| {
            let entries = r.map(n, "journal", &["max_entries", "max_body_bytes"], &[])?;
            let mut journal = JournalDef::default();
            if let Some(v) = r.field(entries, &["max_entries"], |r, n| {
                r.int(n, "a number of entries 0-10000000", 0, 10_000_000)
            }) {
                journal.max_entries = v as usize;
            }
            if let Some(v) = r.field(entries, &["max_body_bytes"], |r, n| {
                r.int(n, "a number of bytes", 0, i64::from(u32::MAX))
            }) {
                journal.max_body_bytes = v as usize;
            }
            Some(journal)
        }) {
            mock.journal = journal;
        }
        if let Some(v) = self.field(entries, &["max_body_bytes"], |r, n| {
            r.int(n, "a number of bytes", 0, i64::MAX)
        }) {
            mock.max_body_bytes = v as u64;
        }
        if let Some(mode) = self.field(entries, &["mode"], |r, n| {
            let text = r.string(n)?;
            match text.to_ascii_lowercase().as_str() {
                "mock" => Some(MockMode::Mock),
                "record" => Some(MockMode::Record),
                "playback" => Some(MockMode::Playback),
                _ => {
                    r.error(
                        n.span,
                        format!("unknown mode `{text}`; expected mock, record or playback"),
                    );
                    None
                }
            }
        }) {
            mock.mode = mode;
        }
        mock.proxy = self.field(entries, &["proxy"], |r, n| {
            let entries = r.map(n, "proxy", &["target", "pass_through"], &[])?;
            let target = r.field(entries, &["target"], |r, n| {
                let text = r.string(n)?;
                match url::Url::parse(&text) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") => Some(text),
                    _ => {
                        r.error(n.span, format!("`{text}` is not an http(s) URL"));
                        None
                    }
                }
            });
            let pass_through = r
                .field(entries, &["pass_through"], Self::boolean)
                .unwrap_or(true);
            match target {
                Some(target) => Some(ProxyDef {
                    target,
                    pass_through,
                }),
                None => {
                    if !entries.iter().any(|e| e.key == "target") {
                        r.error(n.span, "proxy needs a `target` URL");
                    }
                    None
                }
            }
        });
        mock.save_to = self.field(entries, &["save_to"], Self::string);
        mock.base_dir = self
            .field(entries, &["base_dir"], Self::string)
            .map(PathBuf::from);
        self.base_dir = mock.base_dir.clone().or_else(|| self.file_dir.clone());
        if let Some(rules) = self.field(entries, &["chaos_rules"], |r, n| {
            r.list(n, "chaos rules", |r, n| {
                let entries = r.map(n, "a chaos rule", &["probability", "response"], &[])?;
                let probability = r.field(entries, &["probability"], |r, n| {
                    let p = r.float(n)?;
                    if !(0.0..=1.0).contains(&p) {
                        r.error(n.span, format!("probability {p} is not between 0 and 1"));
                        return None;
                    }
                    Some(p)
                });
                let response = r.field(entries, &["response"], |r, n| {
                    let response = r.response(n, false)?;
                    if let Err(errors) = compile::compile_response(&response, r.base_dir.as_deref())
                    {
                        let prefix = join(&r.canon);
                        r.compile_errors(&prefix, errors);
                        return None;
                    }
                    Some(response)
                });
                if !entries.iter().any(|e| e.key == "probability") {
                    r.error(n.span, "a chaos rule needs a `probability`");
                }
                if !entries.iter().any(|e| e.key == "response") {
                    r.error(n.span, "a chaos rule needs a `response`");
                }
                Some(ChaosRuleDef {
                    probability: probability?,
                    response: response?,
                })
            })
        }) {
            let total: f64 = rules.iter().map(|r| r.probability).sum();
            if total > 1.0 + 1e-9
                && let Some(entry) = entries.iter().find(|e| e.key == "chaos_rules")
            {
                self.error_at(
                    entry.value.span,
                    "chaos_rules",
                    format!("the probabilities add up to {total}, more than 1"),
                );
            }
            mock.chaos_rules = rules;
        }
        match self.field(entries, &["endpoints"], |r, n| {
            r.list(n, "endpoints", |r, n| r.endpoint(n))
        }) {
            Some(list) => mock.endpoints = list,
            None if !entries.iter().any(|e| e.key == "endpoints") => {}
            None => {}
        }
        match mock.mode {
            MockMode::Record if mock.proxy.is_none() => {
                self.error(node.span, "record mode needs `proxy: {target: URL}`")
            }
            MockMode::Record | MockMode::Playback if mock.save_to.is_none() => self.error(
                node.span,
                format!("{} mode needs `save_to: FILE`", mock.mode.as_str()),
            ),
            _ => {}
        }
        (self.errors.len() == errors_before).then_some(mock)
    }

    fn endpoint(&mut self, node: &Node) -> Option<EndpointDef> {
        let entries = self.map(
            node,
            "an endpoint",
            ENDPOINT_KEYS,
            &[
                &["match", "match_config"],
                &["response", "response_config"],
                &["state", "state_config"],
            ],
        )?;
        let errors_before = self.errors.len();
        let mut endpoint = EndpointDef::new("GET", "");
        endpoint.id = self.field(entries, &["id"], Self::string);
        if let Some(path) = self.field(entries, &["path"], |r, n| {
            let path = r.string(n)?;
            if path != "*" && !path.starts_with('/') {
                r.error(
                    n.span,
                    format!("the path `{path}` must start with `/` (or be `*`)"),
                );
                return None;
            }
            Some(path)
        }) {
            endpoint.path = path;
        }
        if let Some(method) = self.field(entries, &["method"], |r, n| {
            let method = r.string(n)?.trim().to_ascii_uppercase();
            if method != "*" && http::Method::from_bytes(method.as_bytes()).is_err() {
                r.error(n.span, format!("`{method}` is not an HTTP method"));
                return None;
            }
            Some(method)
        }) {
            endpoint.method = method;
        }
        if let Some(priority) = self.field(entries, &["priority"], |r, n| {
            r.int(n, "an integer priority", i64::MIN, i64::MAX)
        }) {
            endpoint.priority = priority;
        }
        if let Some(m) = self.field(entries, &["match", "match_config"], Self::matcher) {
            endpoint.match_ = m;
        }
        endpoint.response = self.field(entries, &["response", "response_config"], |r, n| {
            r.response(n, false)
        });
        if let Some(responses) = self.field(entries, &["responses"], |r, n| {
            r.list(n, "conditional responses", |r, n| {
                let when = n.as_map().and_then(|e| r.field(e, &["when"], Self::string));
                let response = r.response(n, true)?;
                Some(ConditionalResponseDef { when, response })
            })
        }) {
            endpoint.responses = responses;
        }
        endpoint.state = self.field(entries, &["state", "state_config"], Self::legacy_state);
        if endpoint.path.is_empty() && endpoint.match_.path_pattern.is_none() {
            self.error(
                node.span,
                "an endpoint needs a `path` (or `match.path_pattern`)",
            );
        }
        if self.errors.len() != errors_before {
            return None;
        }
        // Compile now so regex, template and expression errors point at their source.
        if let Err(errors) = compile::compile_endpoint(&endpoint, self.base_dir.as_deref(), 0) {
            let prefix = join(&self.canon);
            self.compile_errors(&prefix, errors);
            return None;
        }
        Some(endpoint)
    }

    fn matcher(&mut self, node: &Node) -> Option<MatchDef> {
        let entries = self.map(
            node,
            "match",
            MATCH_KEYS,
            &[&["query", "query_params"], &["body", "body_json"]],
        )?;
        let mut m = MatchDef {
            path_pattern: self.field(entries, &["path_pattern"], Self::string),
            ..MatchDef::default()
        };
        if let Some(q) = self.field(entries, &["query", "query_params"], |r, n| {
            r.string_map(n, "query parameters")
        }) {
            m.query = q;
        }
        if let Some(h) = self.field(entries, &["headers"], |r, n| r.string_map(n, "headers")) {
            m.headers = h;
        }
        m.body_equals = self.field(entries, &["body_equals"], |_, n| Some(n.to_json()));
        m.body = self.field(entries, &["body", "body_json"], |_, n| Some(n.to_json()));
        m.body_pattern = self.field(entries, &["body_pattern"], Self::string);
        if let Some(list) = self.field(entries, &["body_matches"], |r, n| match &n.kind {
            NodeKind::Seq(_) => r.list(n, "expressions", Self::string),
            _ => r.string(n).map(|s| vec![s]),
        }) {
            m.body_matches = list;
        }
        Some(m)
    }

    fn response(&mut self, node: &Node, conditional: bool) -> Option<ResponseDef> {
        let mut keys: Vec<&str> = RESPONSE_KEYS.to_vec();
        if conditional {
            keys.push("when");
        }
        let what = if conditional {
            "a conditional response"
        } else {
            "a response"
        };
        let entries = self.map(
            node,
            what,
            &keys,
            &[
                BODY_KEYS,
                &["status", "status_code"],
                &["delay", "delay_ms"],
            ],
        )?;
        let errors_before = self.errors.len();
        let mut response = ResponseDef::default();
        if let Some(status) = self.field(entries, &["status", "status_code"], |r, n| {
            r.int(n, "an HTTP status 100-999", 100, 999)
        }) {
            response.status = status as u16;
        }
        if let Some(h) = self.field(entries, &["headers"], |r, n| r.string_map(n, "headers")) {
            response.headers = h;
        }
        response.body = self.field(entries, &["body", "body_json"], |_, n| Some(n.to_json()));
        response.body_text = self.field(entries, &["body_text"], Self::string);
        response.body_from_file = self.field(entries, &["body_from_file"], Self::string);
        if let Some(t) = self.field(entries, &["template"], Self::boolean) {
            response.template = t;
        }
        response.delay = self.field(entries, &["delay", "delay_ms"], |r, n| match &n.kind {
            NodeKind::Map(_) => {
                let entries = r.map(n, "a delay range", &["min", "max"], &[])?;
                let min = r.field(entries, &["min"], Self::duration);
                let max = r.field(entries, &["max"], Self::duration);
                match (min, max) {
                    (Some(min), Some(max)) if min <= max => Some(DelayDef::Range { min, max }),
                    (Some(_), Some(_)) => {
                        r.error(n.span, "the delay's `min` is larger than its `max`");
                        None
                    }
                    _ => {
                        r.error(n.span, "a delay range needs `min` and `max`");
                        None
                    }
                }
            }
            _ => r.duration(n).map(DelayDef::Fixed),
        });
        if let Some(b) = self.field(entries, &["hang"], Self::boolean) {
            response.hang = b;
        }
        if let Some(b) = self.field(entries, &["close_connection"], Self::boolean) {
            response.close_connection = b;
        }
        if let Some(changes) = self.field(entries, &["state_changes"], |r, n| {
            r.list(n, "state changes", Self::state_change)
        }) {
            response.state_changes = changes;
        }
        (self.errors.len() == errors_before).then_some(response)
    }

    fn state_change(&mut self, node: &Node) -> Option<StateChangeDef> {
        let entries = self.map(
            node,
            "a state change",
            &["action", "path", "key", "value"],
            &[&["path", "key"]],
        )?;
        let action = self.field(entries, &["action"], |r, n| {
            let text = r.string(n)?;
            let action = StateAction::parse(&text);
            if action.is_none() {
                let message = format!(
                    "unknown state action `{text}`; expected one of {}",
                    StateAction::NAMES.join(", ")
                );
                match did_you_mean(&text, StateAction::NAMES.iter().copied()) {
                    Some(s) => r.error_help(n.span, message, format!("did you mean `{s}`?")),
                    None => r.error(n.span, message),
                }
            }
            action
        });
        let path = self.field(entries, &["path", "key"], Self::string);
        let value = entries
            .iter()
            .find(|e| e.key == "value")
            .map(|e| e.value.to_json());
        if !entries.iter().any(|e| e.key == "action") {
            self.error(node.span, "a state change needs an `action`");
        }
        match &path {
            Some(p) if p.trim().is_empty() || p.split('.').any(str::is_empty) => {
                self.error(
                    node.span,
                    format!("`{p}` is not a state path (write `key` or `a.b`)"),
                );
                return None;
            }
            None => {
                self.error(node.span, "a state change needs a `path` (the state key)");
                return None;
            }
            _ => {}
        }
        let action = action?;
        if matches!(action, StateAction::Set | StateAction::Append) && value.is_none() {
            self.error(
                node.span,
                format!("the `{}` state change needs a `value`", action.as_str()),
            );
            return None;
        }
        Some(StateChangeDef {
            action,
            path: path?,
            value,
        })
    }

    fn legacy_state(&mut self, node: &Node) -> Option<LegacyStateDef> {
        let entries = self.map(
            node,
            "state",
            &[
                "state_key",
                "initial_value",
                "update_rule",
                "update_value",
                "condition",
            ],
            &[],
        )?;
        let state_key = self.field(entries, &["state_key"], Self::string);
        let initial_value = entries
            .iter()
            .find(|e| e.key == "initial_value")
            .map(|e| e.value.to_json());
        let update_value = entries
            .iter()
            .find(|e| e.key == "update_value")
            .map(|e| e.value.to_json());
        let update_rule = self
            .field(entries, &["update_rule"], |r, n| {
                let text = r.string(n)?;
                if text.is_empty() {
                    return Some(None);
                }
                match StateAction::parse(&text) {
                    Some(StateAction::Delete) | None => {
                        r.error(
                            n.span,
                            format!("unknown update rule `{text}`; expected set, increment, decrement, append or toggle"),
                        );
                        None
                    }
                    Some(a) => Some(Some(a)),
                }
            })
            .flatten();
        if entries
            .iter()
            .any(|e| e.key == "condition" && !e.value.is_null())
        {
            let span = entries
                .iter()
                .find(|e| e.key == "condition")
                .map(|e| e.key_span)
                .unwrap_or_default();
            self.error_at(
                span,
                "condition",
                "state conditions are not supported; use conditional `responses` with `when`",
            );
            return None;
        }
        match state_key {
            Some(k) if !k.is_empty() => Some(LegacyStateDef {
                state_key: k,
                initial_value,
                update_rule,
                update_value,
            }),
            _ => {
                self.error(node.span, "state needs a `state_key`");
                None
            }
        }
    }
}
