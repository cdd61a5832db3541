//! A YAML tree that remembers where every node came from.
//!
//! Flows are read into [`Node`]s first so that every later message (a wrong type, an unknown key, a bad
//! expression, a failed step) can point at `file:line:col`. The tree is built from `saphyr-parser`
//! events: scalars are resolved with the YAML 1.2 core schema (as Go's yaml.v3 does), duplicate keys are
//! errors, anchors, aliases and `<<` merge keys work, and alias expansion is bounded so a hostile file
//! cannot exhaust memory.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, Span as RawSpan};
use serde_json::Value;

/// Where a node sits in its source text. Offsets are bytes; line and column start at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character (equal to `start` for empty nodes).
    pub end: usize,
    /// Line number, 1-based.
    pub line: usize,
    /// Column in characters, 1-based.
    pub col: usize,
}

impl Span {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// True for a zero-width span.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub kind: NodeKind,
    /// Its position in the source.
    pub span: Span,
    /// How a string scalar was written (plain, quoted, block); `None` for other nodes.
    pub style: Option<ScalarStyle>,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<Entry>),
}

/// One key/value pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key, as a string (scalar keys of other types are written as YAML shows them).
    pub key: String,
    /// Where the key is.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// Most nodes aliases may add to one document (a "billion laughs" guard). Nodes written out in the
/// text are not counted: their number is bounded by the text's length, and large API descriptions
/// hold well over a million of them.
const MAX_NODES: usize = 1_000_000;
/// Mappings with more entries than this check duplicate keys through a hash set rather than a scan,
/// so a mapping of many thousand keys (the `paths` of a large API description) loads in linear time.
const INDEXED_KEYS: usize = 32;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 256;

impl Node {
    /// A node without a source position (for values built in code, such as rendered configs).
    pub fn synthetic(kind: NodeKind) -> Node {
        Node {
            kind,
            span: Span::default(),
            style: None,
        }
    }

    /// Looks up a key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Looks up a key of a mapping, with the key's own position.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The entries when this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items when this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The text when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// The YAML type name used in messages ("string", "mapping", …).
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "boolean",
            NodeKind::Int(_) => "integer",
            NodeKind::Float(_) => "number",
            NodeKind::Str(_) => "string",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "mapping",
        }
    }

    /// Converts the tree to JSON. Non-finite floats become strings (`.inf`, `.nan`), which JSON cannot hold.
    pub fn to_json(&self) -> Value {
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(format_non_finite(*f))),
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Builds a tree without positions from JSON, so rendered (interpolated) configs can be decoded by the
    /// same code that decodes files.
    pub fn from_json(value: &Value) -> Node {
        let kind = match value {
            Value::Null => NodeKind::Null,
            Value::Bool(b) => NodeKind::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => NodeKind::Int(i),
                None => NodeKind::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => NodeKind::Str(s.clone()),
            Value::Array(items) => NodeKind::Seq(items.iter().map(Node::from_json).collect()),
            Value::Object(map) => NodeKind::Map(
                map.iter()
                    .map(|(k, v)| Entry {
                        key: k.clone(),
                        key_span: Span::default(),
                        value: Node::from_json(v),
                    })
                    .collect(),
            ),
        };
        Node::synthetic(kind)
    }

    /// The span of `len` bytes starting `offset` bytes into this string scalar's value, when the YAML text
    /// maps one-to-one onto the value (plain, or quoted without escapes); otherwise the whole node.
    pub fn inner_span(&self, source: &str, offset: usize, len: usize) -> Span {
        let (Some(value), false) = (self.as_str(), self.span.is_empty()) else {
            return self.span;
        };
        let Some(written) = source.get(self.span.start..self.span.end) else {
            return self.span;
        };
        let quote = if written == value {
            0
        } else if written.len() == value.len() + 2
            && written.get(1..written.len() - 1) == Some(value)
        {
            1
        } else {
            return self.span;
        };
        let Some(prefix) = value.get(..offset.min(value.len())) else {
            return self.span;
        };
        let start = self.span.start + quote + prefix.len();
        Span {
            start,
            end: (start + len.max(1)).min(self.span.end),
            line: self.span.line,
            col: self.span.col + quote + prefix.chars().count(),
        }
    }

    fn count(&self) -> usize {
        1 + match &self.kind {
            NodeKind::Seq(items) => items.iter().map(Node::count).sum(),
            NodeKind::Map(entries) => entries.iter().map(|e| e.value.count()).sum(),
            _ => 0,
        }
    }
}

fn format_non_finite(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f > 0.0 {
        ".inf".into()
    } else {
        "-.inf".into()
    }
}

/// Parses a text that holds exactly one YAML document.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    Builder::new(text).run()
}

/// Converts saphyr's character positions to byte offsets.
struct Positions<'a> {
    text: &'a str,
    /// Byte offset of each character, only when the text is not pure ASCII.
    char_bytes: Option<Vec<usize>>,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        let char_bytes = if text.is_ascii() {
            None
        } else {
            Some(text.char_indices().map(|(i, _)| i).collect())
        };
        Positions { text, char_bytes }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.char_bytes {
            None => char_index.min(self.text.len()),
            Some(table) => table.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    fn span(&self, raw: RawSpan) -> Span {
        Span {
            start: self.byte(raw.start.index()),
            end: self.byte(raw.end.index()),
            line: raw.start.line(),
            col: raw.start.col() + 1,
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Span,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        /// The keys of `entries`, once there are more than [`INDEXED_KEYS`].
        keys: Option<HashSet<String>>,
        pending_key: Option<(String, Span)>,
        merges: Vec<Node>,
        start: Span,
        anchor: usize,
    },
}

struct Builder<'a> {
    text: &'a str,
    positions: Positions<'a>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    /// Nodes added by aliases so far.
    nodes: usize,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        Builder {
            text,
            positions: Positions::new(text),
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            nodes: 0,
        }
    }

    fn run(mut self) -> Result<Node, YamlError> {
        let mut parser = Parser::new_from_str(self.text);
        let mut documents = 0usize;
        while let Some(event) = parser.next_event() {
            let (event, raw_span) = event.map_err(|e| {
                let mark = e.marker();
                let start = self.positions.byte(mark.index());
                YamlError {
                    message: format!("invalid YAML: {}", e.info()),
                    span: Span {
                        start,
                        end: start,
                        line: mark.line(),
                        col: mark.col() + 1,
                    },
                }
            })?;
            let span = self.positions.span(raw_span);
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(YamlError {
                            message:
                                "a flow file holds one YAML document; found a second one (`---`)"
                                    .into(),
                            span,
                        });
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let tag = tag.map(|t| t.suffix.clone());
                    let span = self.without_properties(span);
                    let node = resolve_scalar(&text, style, tag.as_deref(), span)?;
                    self.finish(node, anchor)?;
                }
                Event::Alias(id) => {
                    let node = self.anchors.get(&id).cloned().ok_or_else(|| YamlError {
                        message: "alias refers to an unknown anchor".into(),
                        span,
                    })?;
                    self.nodes += node.count();
                    if self.nodes > MAX_NODES {
                        return Err(YamlError {
                            message: format!(
                                "aliases expand this document past {MAX_NODES} nodes; refusing to load it"
                            ),
                            span,
                        });
                    }
                    // The alias keeps the anchored node's span, so values are quoted as written there.
                    self.finish(node, 0)?;
                }
                Event::SequenceStart(anchor, _) => {
                    self.push(Frame::Seq {
                        items: Vec::new(),
                        start: span,
                        anchor,
                    })?;
                }
                Event::MappingStart(anchor, _) => {
                    self.push(Frame::Map {
                        entries: Vec::new(),
                        keys: None,
                        pending_key: None,
                        merges: Vec::new(),
                        start: span,
                        anchor,
                    })?;
                }
                Event::SequenceEnd => {
                    if let Some(Frame::Seq {
                        items,
                        start,
                        anchor,
                    }) = self.stack.pop()
                    {
                        let node = Node {
                            kind: NodeKind::Seq(items),
                            span: join(start, span),
                            style: None,
                        };
                        self.finish(node, anchor)?;
                    }
                }
                Event::MappingEnd => {
                    if let Some(Frame::Map {
                        mut entries,
                        merges,
                        start,
                        anchor,
                        ..
                    }) = self.stack.pop()
                    {
                        apply_merges(&mut entries, merges)?;
                        let node = Node {
                            kind: NodeKind::Map(entries),
                            span: join(start, span),
                            style: None,
                        };
                        self.finish(node, anchor)?;
                    }
                }
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        self.root.ok_or_else(|| YamlError {
            message: "the file is empty".into(),
            span: Span {
                line: 1,
                col: 1,
                ..Span::default()
            },
        })
    }

    /// A scalar's span starts at its anchor or tag (`&id 1.10`, `!!str 5`); move it to the value.
    fn without_properties(&self, mut span: Span) -> Span {
        while let Some(rest) = self.text.get(span.start..span.end)
            && (rest.starts_with('&') || rest.starts_with('!'))
        {
            let token = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let gap = rest[token..].len() - rest[token..].trim_start().len();
            let skipped = &rest[..token + gap];
            span.start += skipped.len();
            span.col += skipped.chars().count();
        }
        span
    }

    fn push(&mut self, frame: Frame) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            let span = match &frame {
                Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
            };
            return Err(YamlError {
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
                span,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Places a completed node in its parent (or as the root).
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                keys,
                pending_key,
                merges,
                ..
            }) => match pending_key.take() {
                None => {
                    let span = node.span;
                    *pending_key = Some((scalar_key(node)?, span));
                    Ok(())
                }
                Some((key, _)) if key == "<<" && node.style.is_none() => {
                    merges.push(node);
                    Ok(())
                }
                Some((key, key_span)) => {
                    let seen = match keys {
                        Some(keys) => keys.contains(&key),
                        None => entries.iter().any(|e| e.key == key),
                    };
                    if seen && let Some(first) = entries.iter().find(|e| e.key == key) {
                        return Err(YamlError {
                            message: format!(
                                "duplicate key `{key}` (first defined on line {})",
                                first.key_span.line
                            ),
                            span: key_span,
                        });
                    }
                    match keys {
                        Some(keys) => {
                            keys.insert(key.clone());
                        }
                        None if entries.len() >= INDEXED_KEYS => {
                            let mut index: HashSet<String> =
                                entries.iter().map(|e| e.key.clone()).collect();
                            index.insert(key.clone());
                            *keys = Some(index);
                        }
                        None => {}
                    }
                    entries.push(Entry {
                        key,
                        key_span,
                        value: node,
                    });
                    Ok(())
                }
            },
        }
    }
}

fn join(start: Span, end: Span) -> Span {
    Span {
        end: end.end.max(start.start),
        ..start
    }
}

fn scalar_key(node: Node) -> Result<String, YamlError> {
    let key = match node.kind {
        NodeKind::Str(s) => s,
        NodeKind::Null => "null".into(),
        NodeKind::Bool(b) => b.to_string(),
        NodeKind::Int(i) => i.to_string(),
        NodeKind::Float(f) => f.to_string(),
        NodeKind::Seq(_) | NodeKind::Map(_) => {
            return Err(YamlError {
                message: "mapping keys must be plain values, not lists or mappings".into(),
                span: node.span,
            });
        }
    };
    Ok(key)
}

/// `<<: *base` and `<<: [*a, *b]`: keys written in the mapping itself win over merged ones, and earlier
/// merge sources win over later ones (YAML merge-key semantics).
fn apply_merges(entries: &mut Vec<Entry>, merges: Vec<Node>) -> Result<(), YamlError> {
    for merge in merges {
        let sources: Vec<Node> = match merge.kind {
            NodeKind::Map(_) => vec![merge],
            NodeKind::Seq(items) => items,
            _ => {
                return Err(YamlError {
                    message: "`<<` merges a mapping or a list of mappings".into(),
                    span: merge.span,
                });
            }
        };
        for source in sources {
            let NodeKind::Map(source_entries) = source.kind else {
                return Err(YamlError {
                    message: "`<<` merges a mapping or a list of mappings".into(),
                    span: source.span,
                });
            };
            for entry in source_entries {
                if !entries.iter().any(|e| e.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }
    Ok(())
}

/// YAML 1.2 core-schema resolution of a scalar, honouring `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`.
fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&str>,
    span: Span,
) -> Result<Node, YamlError> {
    let string = |s: &str| Node {
        kind: NodeKind::Str(s.to_string()),
        span,
        style: Some(style),
    };
    let typed = |kind: NodeKind| Node {
        kind,
        span,
        style: None,
    };
    let bad = |what: &str| YamlError {
        message: format!("`{text}` is not a valid {what}"),
        span,
    };
    match tag {
        Some("str") => return Ok(string(text)),
        Some("int") => {
            return parse_int(text)
                .map(|i| typed(NodeKind::Int(i)))
                .ok_or_else(|| bad("integer"));
        }
        Some("float") => {
            return parse_float(text)
                .or_else(|| parse_int(text).map(|i| i as f64))
                .map(|f| typed(NodeKind::Float(f)))
                .ok_or_else(|| bad("number"));
        }
        Some("bool") => {
            return parse_bool(text)
                .map(|b| typed(NodeKind::Bool(b)))
                .ok_or_else(|| bad("boolean"));
        }
        Some("null") => return Ok(typed(NodeKind::Null)),
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return Ok(string(text));
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(typed(NodeKind::Null));
    }
    if let Some(b) = parse_bool(text) {
        return Ok(typed(NodeKind::Bool(b)));
    }
    // Every number (`.inf` and `0x1F` too) starts with a digit, a sign or a dot; most plain
    // scalars (`GET`, `http_request`, step ids) do not, and are strings without further tries.
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return Ok(string(text));
    }
    if let Some(i) = parse_int(text) {
        return Ok(typed(NodeKind::Int(i)));
    }
    if looks_like_int(text) {
        // Too large for 64 bits: keep the value as a number rather than failing.
        if let Ok(f) = text.parse::<f64>() {
            return Ok(typed(NodeKind::Float(f)));
        }
    }
    if let Some(f) = parse_float(text) {
        return Ok(typed(NodeKind::Float(f)));
    }
    Ok(string(text))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn looks_like_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parse_int(text: &str) -> Option<i64> {
    if looks_like_int(text) {
        return text.parse().ok();
    }
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = if let Some(hex) = rest.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = rest.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else {
        return None;
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // The core schema's float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some()) {
        text.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> NodeKind {
        parse(text).unwrap().kind
    }

    #[test]
    fn scalars_resolve_like_yaml_1_2() {
        assert_eq!(kind("42"), NodeKind::Int(42));
        assert_eq!(kind("-0x1F"), NodeKind::Int(-31));
        assert_eq!(kind("0o17"), NodeKind::Int(15));
        assert_eq!(kind("1.5"), NodeKind::Float(1.5));
        assert_eq!(kind("1e3"), NodeKind::Float(1000.0));
        assert_eq!(kind("true"), NodeKind::Bool(true));
        assert_eq!(kind("yes"), NodeKind::Str("yes".into()));
        assert_eq!(kind("~"), NodeKind::Null);
        assert_eq!(kind("'42'"), NodeKind::Str("42".into()));
        assert_eq!(kind("!!str 42"), NodeKind::Str("42".into()));
        assert_eq!(kind("1.2.3"), NodeKind::Str("1.2.3".into()));
        assert_eq!(kind("$109.96"), NodeKind::Str("$109.96".into()));
        assert_eq!(
            kind("99999999999999999999"),
            NodeKind::Float(99999999999999999999.0)
        );
    }

    #[test]
    fn spans_point_at_nodes() {
        let text = "name: demo\nsteps:\n  - id: a\n    action: log\n";
        let root = parse(text).unwrap();
        let steps = root.get("steps").unwrap().as_seq().unwrap();
        let action = steps[0].entry("action").unwrap();
        assert_eq!((action.key_span.line, action.key_span.col), (4, 5));
        assert_eq!((action.value.span.line, action.value.span.col), (4, 13));
        assert_eq!(&text[action.value.span.start..action.value.span.end], "log");
    }

    #[test]
    fn spans_are_bytes_in_non_ascii_text() {
        let text = "a: \"héllo\"\nb: x\n";
        let root = parse(text).unwrap();
        let b = root.get("b").unwrap();
        assert_eq!(&text[b.span.start..b.span.end], "x");
        assert_eq!((b.span.line, b.span.col), (2, 4));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(err.message.contains("duplicate key `a`"), "{}", err.message);
        assert_eq!((err.span.line, err.span.col), (3, 1));
    }

    #[test]
    fn duplicate_keys_are_found_in_large_mappings() {
        let mut text: String = (0..200).map(|i| format!("k{i}: {i}\n")).collect();
        assert_eq!(parse(&text).unwrap().as_map().unwrap().len(), 200);
        text.push_str("k7: again\n");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.message, "duplicate key `k7` (first defined on line 8)");
        assert_eq!((err.span.line, err.span.col), (201, 1));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"));
        assert!(err.span.line >= 1);
    }

    #[test]
    fn anchors_aliases_and_merges() {
        let root =
            parse("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\nlist: [*b]\n").unwrap();
        let derived = root.get("derived").unwrap().to_json();
        assert_eq!(derived, serde_json::json!({"y": 3, "x": 1}));
        assert_eq!(
            root.get("list").unwrap().to_json(),
            serde_json::json!([{"x": 1, "y": 2}])
        );
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h'] {
            text.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("nodes"), "{}", err.message);
    }

    #[test]
    fn empty_and_multi_document_files_are_errors() {
        assert!(parse("").unwrap_err().message.contains("empty"));
        assert!(
            parse("# only a comment\n")
                .unwrap_err()
                .message
                .contains("empty")
        );
        assert!(
            parse("a: 1\n---\nb: 2\n")
                .unwrap_err()
                .message
                .contains("second")
        );
    }

    #[test]
    fn json_round_trip() {
        let value = serde_json::json!({"a": [1, 2.5, "x", null, true], "b": {"c": {}}});
        assert_eq!(Node::from_json(&value).to_json(), value);
    }
}
