//! Turning [`Node`]s into typed values while collecting every problem with its position.
//!
//! One decoder serves two moments: loading a file (where a value may still be a `${…}` template that is
//! resolved at run time) and running a step (where the config has been interpolated and a rendered
//! `"5"` must become the number 5). Structs are declared once with [`config_struct!`], which derives the
//! decoder, the unknown-key check and the JSON Schema from the same field list.

use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::duration::parse_duration;
use crate::yaml::{Entry, Node, NodeKind, Span};

/// When a value is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reading a flow file: `${…}` strings in typed fields are kept as templates.
    Load,
    /// Decoding an interpolated config: strings such as `"5"` or `"true"` are read as numbers and booleans.
    Runtime,
}

/// Collects diagnostics while decoding.
pub struct Decoder<'a> {
    /// The source text, used to quote numbers exactly as written when a string was expected.
    source: &'a str,
    mode: Mode,
    /// Everything found so far.
    pub diagnostics: Vec<Diagnostic>,
    step_depth: usize,
    /// Keys and indexes from the decoded root to the current value (`body.items[0]`), used to name the
    /// field in runtime messages, which have no source position.
    path: Vec<String>,
    /// Expressions parsed so far, by source: the steps of a flow often assert the same thing.
    exprs: std::collections::HashMap<String, crate::expr::Expr>,
}

/// Deepest nesting of steps inside steps.
pub const MAX_STEP_DEPTH: usize = 32;

impl<'a> Decoder<'a> {
    /// A decoder over `source` (may be empty for synthetic nodes).
    pub fn new(source: &'a str, mode: Mode) -> Self {
        Decoder {
            source,
            mode,
            diagnostics: Vec::new(),
            step_depth: 0,
            path: Vec::new(),
            exprs: std::collections::HashMap::new(),
        }
    }

    /// Parses an expression, reusing the tree of an identical one parsed before by this decoder.
    pub fn parse_expr(
        &mut self,
        source: &str,
    ) -> Result<crate::expr::Expr, crate::expr::ParseError> {
        if let Some(expr) = self.exprs.get(source) {
            return Ok(expr.clone());
        }
        let expr = crate::expr::parse(source)?;
        self.exprs.insert(source.to_string(), expr.clone());
        Ok(expr)
    }

    /// The text being decoded.
    pub fn source(&self) -> &'a str {
        self.source
    }

    /// The decoding moment.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Records a diagnostic. Without source positions (runtime mode) the message names the field.
    pub fn report(&mut self, mut diagnostic: Diagnostic) {
        if self.mode == Mode::Runtime && !self.path.is_empty() {
            diagnostic.message = format!("`{}`: {}", self.path_text(), diagnostic.message);
        }
        self.diagnostics.push(diagnostic);
    }

    /// The current field path, e.g. `body.items[0].price`.
    pub fn path_text(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            if !segment.starts_with('[') && !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
        out
    }

    /// Decodes `node` as the value under `segment` (a key, or `[i]` for an index).
    pub fn nested<T: FromNode>(
        &mut self,
        segment: impl FnOnce() -> String,
        node: &Node,
    ) -> Option<T> {
        // Files have positions; only rendered configs need the path to name a field.
        if self.mode == Mode::Load {
            return T::from_node(node, self);
        }
        self.path.push(segment());
        let value = T::from_node(node, self);
        self.path.pop();
        value
    }

    /// Records "expected X, found Y".
    pub fn type_error(&mut self, node: &Node, expected: &str) {
        let found = match &node.kind {
            NodeKind::Str(s) => format!("string \"{}\"", truncate(s, 40)),
            NodeKind::Int(_) | NodeKind::Float(_) => format!("number {}", self.text_of(node)),
            NodeKind::Bool(b) => format!("boolean {b}"),
            other => Node::synthetic(other.clone()).type_name().to_string(),
        };
        self.report(
            Diagnostic::error(
                "invalid-type",
                format!("expected {expected}, found {found}"),
                node.span,
            )
            .with_label(format!("expected {expected}")),
        );
    }

    /// The scalar as written in the source (falls back to its value for synthetic nodes).
    pub fn text_of(&self, node: &Node) -> String {
        if !node.span.is_empty()
            && let Some(text) = self.source.get(node.span.start..node.span.end)
        {
            return text.trim().to_string();
        }
        match &node.kind {
            NodeKind::Str(s) => s.clone(),
            NodeKind::Int(i) => i.to_string(),
            NodeKind::Float(f) => f.to_string(),
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Null => String::new(),
            NodeKind::Seq(_) | NodeKind::Map(_) => node.to_json().to_string(),
        }
    }

    /// Requires a mapping; reports and returns `None` otherwise.
    pub fn expect_map<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Entry]> {
        match &node.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => {
                self.type_error(node, &format!("a mapping ({what})"));
                None
            }
        }
    }

    /// Warns about keys that are not in `known` (with a suggestion) and rejects two spellings of one key.
    pub fn check_keys(
        &mut self,
        entries: &[Entry],
        known: &[&'static str],
        aliases: &[&[&'static str]],
        what: &str,
    ) {
        // Unknown keys were reported when the file was loaded; a rendered config has the same keys.
        let warn_unknown = self.mode == Mode::Load;
        for entry in entries {
            if warn_unknown && !known.contains(&entry.key.as_str()) {
                let mut diagnostic = Diagnostic::warning(
                    "unknown-key",
                    format!("unknown key `{}` in {what}; it is ignored", entry.key),
                    entry.key_span,
                );
                if let Some(suggestion) = did_you_mean(&entry.key, known.iter().copied()) {
                    diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
                }
                self.report(diagnostic);
            }
        }
        for spellings in aliases {
            let present: Vec<&Entry> = entries
                .iter()
                .filter(|e| spellings.contains(&e.key.as_str()))
                .collect();
            if let [_, second, ..] = present.as_slice() {
                self.report(Diagnostic::error(
                    "conflicting-keys",
                    format!(
                        "`{}` and `{}` are the same setting in {what}; keep one",
                        present[0].key, second.key
                    ),
                    second.key_span,
                ));
            }
        }
    }

    /// Decodes the value under the first present spelling of a key. Null counts as absent.
    pub fn field<T: FromNode>(&mut self, entries: &[Entry], keys: &[&str]) -> Field<T> {
        let Some(entry) = entries
            .iter()
            .find(|e| keys.contains(&e.key.as_str()) && !e.value.is_null())
        else {
            return Field::Absent;
        };
        match self.nested(|| entry.key.clone(), &entry.value) {
            Some(value) => Field::Present(value),
            None => Field::Invalid,
        }
    }

    /// Enters a nested step; `false` when nesting is too deep (reported).
    pub fn enter_step(&mut self, span: Span) -> bool {
        if self.step_depth >= MAX_STEP_DEPTH {
            self.report(Diagnostic::error(
                "too-deep",
                format!("steps are nested more than {MAX_STEP_DEPTH} levels deep"),
                span,
            ));
            return false;
        }
        self.step_depth += 1;
        true
    }

    /// Leaves a nested step.
    pub fn leave_step(&mut self) {
        self.step_depth = self.step_depth.saturating_sub(1);
    }

    /// Reports a missing required key on the mapping at `span`.
    pub fn missing(&mut self, key: &str, what: &str, span: Span) {
        self.report(
            Diagnostic::error("missing-key", format!("{what} needs `{key}`"), span)
                .with_label(format!("`{key}` is missing here")),
        );
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// The outcome of decoding one field.
pub enum Field<T> {
    /// The key is not there (or is null).
    Absent,
    /// The key is there but its value is wrong (already reported).
    Invalid,
    /// The decoded value.
    Present(T),
}

impl<T> Field<T> {
    /// The value, if decoded.
    pub fn ok(self) -> Option<T> {
        match self {
            Field::Present(v) => Some(v),
            _ => None,
        }
    }
}

/// A type that can be read from a [`Node`].
pub trait FromNode: Sized {
    /// Decodes `node`, reporting problems to `cx`; `None` when it cannot be used.
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self>;
    /// The JSON Schema of the accepted YAML.
    fn schema() -> Value;
}

impl FromNode for Node {
    fn from_node(node: &Node, _: &mut Decoder) -> Option<Self> {
        Some(node.clone())
    }
    fn schema() -> Value {
        json!({})
    }
}

impl FromNode for Value {
    fn from_node(node: &Node, _: &mut Decoder) -> Option<Self> {
        Some(node.to_json())
    }
    fn schema() -> Value {
        json!({})
    }
}

impl FromNode for String {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Str(s) => Some(s.clone()),
            // Go's decoder reads any scalar into a string field, as written (`version: 1.0` is "1.0").
            NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) => Some(cx.text_of(node)),
            _ => {
                cx.type_error(node, "a string");
                None
            }
        }
    }
    fn schema() -> Value {
        json!({"type": ["string", "number", "boolean"]})
    }
}

impl FromNode for bool {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Bool(b) => Some(*b),
            NodeKind::Str(s)
                if cx.mode() == Mode::Runtime && matches!(s.as_str(), "true" | "false") =>
            {
                Some(s == "true")
            }
            _ => {
                cx.type_error(node, "true or false");
                None
            }
        }
    }
    fn schema() -> Value {
        json!({"type": "boolean"})
    }
}

macro_rules! integer_from_node {
    ($($t:ty),*) => {$(
        impl FromNode for $t {
            fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
                let wide: Option<i128> = match &node.kind {
                    NodeKind::Int(i) => Some(i128::from(*i)),
                    NodeKind::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i128),
                    NodeKind::Str(s) if cx.mode() == Mode::Runtime => s.trim().parse::<i128>().ok(),
                    _ => None,
                };
                match wide.map(<$t>::try_from) {
                    Some(Ok(v)) => Some(v),
                    Some(Err(_)) => {
                        cx.report(Diagnostic::error(
                            "out-of-range",
                            format!("{} is out of range ({}..={})", cx.text_of(node), <$t>::MIN, <$t>::MAX),
                            node.span,
                        ));
                        None
                    }
                    None => {
                        let what = if <$t>::MIN == 0 { "a whole number ≥ 0" } else { "a whole number" };
                        cx.type_error(node, what);
                        None
                    }
                }
            }
            fn schema() -> Value {
                if <$t>::MIN == 0 { json!({"type": "integer", "minimum": 0}) } else { json!({"type": "integer"}) }
            }
        }
    )*};
}
integer_from_node!(i64, i32, u64, u32, u16);

impl FromNode for f64 {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Int(i) => Some(*i as f64),
            NodeKind::Float(f) => Some(*f),
            NodeKind::Str(s) if cx.mode() == Mode::Runtime => s.trim().parse().ok().or_else(|| {
                cx.type_error(node, "a number");
                None
            }),
            _ => {
                cx.type_error(node, "a number");
                None
            }
        }
    }
    fn schema() -> Value {
        json!({"type": "number"})
    }
}

impl FromNode for Duration {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Str(s) => match parse_duration(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    cx.report(Diagnostic::error(
                        "invalid-duration",
                        e.to_string(),
                        node.span,
                    ));
                    None
                }
            },
            NodeKind::Int(0) => Some(Duration::ZERO),
            NodeKind::Int(_) | NodeKind::Float(_) => {
                cx.report(
                    Diagnostic::error(
                        "invalid-duration",
                        format!(
                            "a duration needs a unit: `{}` is ambiguous",
                            cx.text_of(node)
                        ),
                        node.span,
                    )
                    .with_help(format!("write `{0}s` or `{0}ms`", cx.text_of(node))),
                );
                None
            }
            _ => {
                cx.type_error(node, "a duration such as `500ms` or `1.5s`");
                None
            }
        }
    }
    fn schema() -> Value {
        json!({
            "type": "string",
            "pattern": r"^(0|[+]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))*)$",
            "description": "A Go-style duration: 500ms, 1.5s, 2m, 1h30m"
        })
    }
}

impl<T: FromNode> FromNode for Vec<T> {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        let NodeKind::Seq(items) = &node.kind else {
            cx.type_error(node, "a list");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (index, item) in items.iter().enumerate() {
            match cx.nested(|| format!("[{index}]"), item) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
    fn schema() -> Value {
        json!({"type": "array", "items": T::schema()})
    }
}

impl<T: FromNode> FromNode for IndexMap<String, T> {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        let NodeKind::Map(entries) = &node.kind else {
            cx.type_error(node, "a mapping");
            return None;
        };
        let mut out = IndexMap::with_capacity(entries.len());
        let mut ok = true;
        for entry in entries {
            match cx.nested(|| entry.key.clone(), &entry.value) {
                Some(v) => {
                    out.insert(entry.key.clone(), v);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
    fn schema() -> Value {
        json!({"type": "object", "additionalProperties": T::schema()})
    }
}

/// True when a string holds a `${…}` or `{{…}}` reference and so is resolved at run time.
pub fn is_template(s: &str) -> bool {
    s.contains("${") || s.contains("{{")
}

/// A typed value that may instead be written as a template, e.g. `count: ${N}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Tpl<T> {
    /// Written as a literal.
    Value(T),
    /// A string with references, resolved when the step runs.
    Template(String),
}

impl<T> Tpl<T> {
    /// The literal value, if it was written as one.
    pub fn literal(&self) -> Option<&T> {
        match self {
            Tpl::Value(v) => Some(v),
            Tpl::Template(_) => None,
        }
    }
}

impl<T: FromNode> FromNode for Tpl<T> {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        if let NodeKind::Str(s) = &node.kind
            && cx.mode() == Mode::Load
            && is_template(s)
        {
            return Some(Tpl::Template(s.clone()));
        }
        T::from_node(node, cx).map(Tpl::Value)
    }
    fn schema() -> Value {
        json!({"anyOf": [T::schema(), {"type": "string", "pattern": r"\$\{|\{\{"}]})
    }
}

/// Adds a description to a schema (used by the struct macro).
pub fn describe(mut schema: Value, description: &str) -> Value {
    let description = description.trim();
    if let (Value::Object(map), false) = (&mut schema, description.is_empty()) {
        map.insert("description".into(), Value::String(description.to_string()));
    }
    schema
}

/// Declares a config struct whose decoder, unknown-key warnings and JSON Schema come from one field list.
///
/// Each field is `name = "key" | "alias"… : required|optional|default Type`. `optional` fields become
/// `Option<Type>`, `default` fields use `Type::default()` when absent.
#[macro_export]
macro_rules! config_struct {
    (
        $(#[doc = $doc:literal])*
        $what:literal
        pub struct $name:ident {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident = $key:literal $(| $alias:literal)* : $req:ident $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            $(
                $(#[doc = $fdoc])*
                pub $field: $crate::config_struct!(@type $req $ty),
            )*
        }

        impl $crate::decode::FromNode for $name {
            fn from_node(node: &$crate::yaml::Node, cx: &mut $crate::decode::Decoder) -> Option<Self> {
                let entries = cx.expect_map(node, $what)?;
                cx.check_keys(
                    entries,
                    &[$($key, $($alias,)*)*],
                    &[$(&[$key $(, $alias)*]),*],
                    $what,
                );
                $(
                    let $field = $crate::config_struct!(
                        @finish $req cx, node, $what, $key,
                        cx.field::<$ty>(entries, &[$key $(, $alias)*])
                    );
                )*
                Some(Self { $($field: $field?),* })
            }

            fn schema() -> serde_json::Value {
                let mut properties = serde_json::Map::new();
                let mut required: Vec<&str> = Vec::new();
                $(
                    let field_schema = $crate::decode::describe(
                        <$ty as $crate::decode::FromNode>::schema(),
                        concat!($($fdoc, "\n"),*),
                    );
                    properties.insert($key.to_string(), field_schema.clone());
                    $(
                        properties.insert(
                            $alias.to_string(),
                            $crate::decode::describe(field_schema.clone(), concat!("Same as `", $key, "`.")),
                        );
                    )*
                    if stringify!($req) == "required" {
                        required.push($key);
                    }
                )*
                let mut schema = serde_json::json!({
                    "type": "object",
                    "properties": properties,
                    "additionalProperties": false,
                });
                if !required.is_empty() {
                    schema["required"] = serde_json::json!(required);
                }
                $crate::decode::describe(schema, concat!($($doc, "\n"),*))
            }
        }
    };
    (@type required $ty:ty) => { $ty };
    (@type optional $ty:ty) => { Option<$ty> };
    (@type default $ty:ty) => { $ty };
    (@finish required $cx:ident, $node:ident, $what:literal, $key:literal, $field:expr) => {
        match $field {
            $crate::decode::Field::Present(v) => Some(v),
            $crate::decode::Field::Invalid => None,
            $crate::decode::Field::Absent => {
                $cx.missing($key, $what, $node.span);
                None
            }
        }
    };
    (@finish optional $cx:ident, $node:ident, $what:literal, $key:literal, $field:expr) => {
        Some($field.ok())
    };
    (@finish default $cx:ident, $node:ident, $what:literal, $key:literal, $field:expr) => {
        Some($field.ok().unwrap_or_default())
    };
}

/// Declares a string enum accepted in YAML, with its schema.
#[macro_export]
macro_rules! string_enum {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident { $($(#[doc = $vdoc:literal])* $variant:ident = $text:literal),* $(,)? }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub enum $name {
            #[default]
            $($(#[doc = $vdoc])* $variant),*
        }

        impl $name {
            /// Every accepted spelling.
            pub const NAMES: &'static [&'static str] = &[$($text),*];

            /// The spelling used in YAML.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// Reads a spelling (case-insensitive).
            pub fn parse(text: &str) -> Option<Self> {
                $(if text.eq_ignore_ascii_case($text) { return Some($name::$variant); })*
                None
            }
        }

        impl $crate::decode::FromNode for $name {
            fn from_node(node: &$crate::yaml::Node, cx: &mut $crate::decode::Decoder) -> Option<Self> {
                let text = match &node.kind {
                    $crate::yaml::NodeKind::Str(s) => s.as_str(),
                    _ => {
                        cx.type_error(node, &format!("one of {}", Self::NAMES.join(", ")));
                        return None;
                    }
                };
                match Self::parse(text) {
                    Some(v) => Some(v),
                    None => {
                        let mut d = $crate::diagnostic::Diagnostic::error(
                            "invalid-value",
                            format!("`{text}` is not one of {}", Self::NAMES.join(", ")),
                            node.span,
                        );
                        if let Some(s) = $crate::diagnostic::did_you_mean(text, Self::NAMES.iter().copied()) {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        cx.report(d);
                        None
                    }
                }
            }
            fn schema() -> serde_json::Value {
                serde_json::json!({"type": "string", "enum": Self::NAMES})
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    config_struct! {
        /// A test struct.
        "the sample"
        pub struct Sample {
            /// A required string.
            url = "url": required String,
            count = "count" | "max": optional Tpl<u32>,
            wait = "wait": optional Duration,
            tags = "tags": default Vec<String>,
        }
    }

    fn decode(text: &str, mode: Mode) -> (Option<Sample>, Vec<Diagnostic>) {
        let node = parse(text).unwrap();
        let mut cx = Decoder::new(text, mode);
        let value = Sample::from_node(&node, &mut cx);
        (value, cx.diagnostics)
    }

    #[test]
    fn decodes_fields_aliases_and_templates() {
        let (value, diags) = decode("url: http://x\nmax: ${N}\nwait: 1s\n", Mode::Load);
        assert!(diags.is_empty(), "{diags:?}");
        let value = value.unwrap();
        assert_eq!(value.url, "http://x");
        assert_eq!(value.count, Some(Tpl::Template("${N}".into())));
        assert_eq!(value.wait, Some(Duration::from_secs(1)));
        assert!(value.tags.is_empty());
    }

    #[test]
    fn runtime_mode_reads_rendered_strings() {
        let (value, diags) = decode("url: x\ncount: '5'\n", Mode::Runtime);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(value.unwrap().count, Some(Tpl::Value(5)));
        let (_, diags) = decode("url: x\ncount: '5'\n", Mode::Load);
        assert_eq!(
            diags[0].message,
            "expected a whole number ≥ 0, found string \"5\""
        );
    }

    #[test]
    fn reports_every_problem_with_positions() {
        let (value, diags) = decode("cuont: 1\ncount: -1\nwait: 10\n", Mode::Load);
        assert!(value.is_none());
        let messages: Vec<_> = diags
            .iter()
            .map(|d| (d.code, d.span.line, d.span.col, d.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            vec![
                (
                    "unknown-key",
                    1,
                    1,
                    "unknown key `cuont` in the sample; it is ignored"
                ),
                ("missing-key", 1, 1, "the sample needs `url`"),
                ("out-of-range", 2, 8, "-1 is out of range (0..=4294967295)"),
                (
                    "invalid-duration",
                    3,
                    7,
                    "a duration needs a unit: `10` is ambiguous"
                ),
            ]
        );
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `count`?"));
    }

    #[test]
    fn alias_conflicts_are_errors() {
        let (_, diags) = decode("url: x\ncount: 1\nmax: 2\n", Mode::Load);
        assert_eq!(diags[0].code, "conflicting-keys");
        assert_eq!(diags[0].span.line, 3);
    }

    #[test]
    fn schema_lists_keys_and_required() {
        let schema = Sample::schema();
        assert_eq!(schema["required"], json!(["url"]));
        assert_eq!(
            schema["properties"]["url"]["description"],
            "A required string."
        );
        assert!(schema["properties"]["max"].is_object());
    }
}
