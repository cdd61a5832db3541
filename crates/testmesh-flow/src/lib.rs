//! The TestMesh flow language: loading YAML flows with source positions, the typed model of every
//! action, validation, the JSON Schema, the expression language and `${…}` interpolation.
//!
//! ```
//! let loaded = testmesh_flow::load_str("name: demo\nsteps:\n  - action: log\n    config: {message: hi}\n");
//! assert!(loaded.errors().next().is_none());
//! assert_eq!(loaded.flow.unwrap().steps[0].id, "main_0");
//! ```

pub mod decode;
pub mod diagnostic;
pub mod duration;
pub mod emit;
pub mod expr;
pub mod interpolate;
pub mod markup;
pub mod model;
pub mod schema;
pub mod validate;
pub mod yaml;

use std::path::Path;

pub use diagnostic::{Diagnostic, Severity};
pub use emit::to_yaml;
pub use model::Flow;
pub use model::actions::{Action, ActionKind};
pub use model::step::Step;

use decode::{Decoder, Mode};

/// Flow files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// The result of loading one flow text: the flow when it could be decoded, and every finding.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The flow, `None` when the file is not valid YAML or not a flow at all.
    pub flow: Option<Flow>,
    /// Findings from parsing, decoding and validation, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// Only the warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// True when nothing stops the flow from running.
    pub fn is_ok(&self) -> bool {
        self.flow.is_some() && self.errors().next().is_none()
    }
}

/// Loads and validates one flow from text.
pub fn load_str(text: &str) -> Loaded {
    load_str_unless(text, |_| false).unwrap_or_else(|| Loaded {
        flow: None,
        diagnostics: Vec::new(),
    })
}

/// [`load_str`], but `None` without decoding when `skip` returns true for the parsed YAML tree, so a
/// caller can tell other kinds of files (mock definitions) apart without parsing the text twice.
/// `skip` is not called when the text is too large or not valid YAML.
pub fn load_str_unless(text: &str, skip: impl FnOnce(&yaml::Node) -> bool) -> Option<Loaded> {
    if text.len() > MAX_FILE_BYTES {
        return Some(Loaded {
            flow: None,
            diagnostics: vec![Diagnostic::error(
                "file-too-large",
                format!(
                    "the file is {} bytes; flow files are limited to {MAX_FILE_BYTES} bytes",
                    text.len()
                ),
                yaml::Span {
                    line: 1,
                    col: 1,
                    ..Default::default()
                },
            )],
        });
    }
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(err) => {
            return Some(Loaded {
                flow: None,
                diagnostics: vec![Diagnostic::error("yaml-syntax", err.message, err.span)],
            });
        }
    };
    if skip(&root) {
        return None;
    }
    let mut cx = Decoder::new(text, Mode::Load);
    let flow = Flow::from_document(root, &mut cx);
    let mut diagnostics = cx.diagnostics;
    if let Some(flow) = &flow {
        diagnostics.extend(validate::check_flow(flow, text));
    }
    diagnostics.sort_by_key(|d| (d.span.start, d.severity));
    diagnostics.dedup();
    Some(Loaded { flow, diagnostics })
}

/// Reads and loads a flow file.
pub fn load_file(path: &Path) -> std::io::Result<(String, Loaded)> {
    let text = std::fs::read_to_string(path)?;
    let loaded = load_str(&text);
    Ok((text, loaded))
}
