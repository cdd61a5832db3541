//! An input document (JSON or YAML) parsed to JSON while keeping the source position of every node,
//! so errors can name `file:line:col` and the JSON pointer.

use std::fmt;
use std::path::Path;

use serde_json::Value;
use testmesh_flow::yaml::{self, Node, NodeKind};

use crate::error::ImportError;

/// Inputs larger than this are refused before parsing (the largest public API descriptions are a
/// few tens of megabytes).
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Where a problem in a document is: the file, the JSON pointer and, when the text was parsed with
/// positions, the line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file name as given to the loader.
    pub file: String,
    /// JSON pointer into the document (`/paths/~1pets/get`), empty for the root.
    pub pointer: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub col: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(line), Some(col)) = (self.line, self.col) {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": #{}", self.pointer)
    }
}

/// A parsed input: its JSON value and, when available, the YAML tree with positions.
#[derive(Debug, Clone)]
pub struct Source {
    file: String,
    root: Value,
    tree: Option<Node>,
}

impl Source {
    /// Reads a file (refusing files over [`MAX_INPUT_BYTES`]) and parses it.
    pub fn load(path: &Path) -> Result<Source, ImportError> {
        let file = path.display().to_string();
        let text = read_text(path)?;
        Source::parse(&text, &file)
    }

    /// Parses JSON or YAML text (by content: text starting with `{` or `[` is JSON). `file` names
    /// it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Source, ImportError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.len() as u64 > MAX_INPUT_BYTES {
            return Err(ImportError::TooLarge {
                file: file.to_string(),
                size: text.len() as u64,
                limit: MAX_INPUT_BYTES,
            });
        }
        let trimmed = text.trim_start();
        let (root, tree) = if trimmed.starts_with('{') || trimmed.starts_with('[') {
            // serde_json gives the better message for JSON; the YAML tree (JSON is YAML 1.2) only
            // supplies positions for later errors, and is optional.
            let root: Value = serde_json::from_str(text).map_err(|e| ImportError::Syntax {
                file: file.to_string(),
                line: e.line(),
                col: e.column(),
                message: format!("invalid JSON: {e}"),
            })?;
            (root, yaml::parse(text).ok())
        } else {
            let tree = yaml::parse(text).map_err(|e| ImportError::Syntax {
                file: file.to_string(),
                line: e.span.line,
                col: e.span.col,
                message: e.message.clone(),
            })?;
            (tree.to_json(), Some(tree))
        };
        Ok(Source {
            file: file.to_string(),
            root,
            tree,
        })
    }

    /// A source built from a value without positions (a converted document).
    pub fn from_value(root: Value, file: &str) -> Source {
        Source {
            file: file.to_string(),
            root,
            tree: None,
        }
    }

    /// The whole input as JSON.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// The input as JSON, consumed.
    pub fn into_root(self) -> Value {
        self.root
    }

    /// The file name given to the loader.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The location of a JSON pointer: the file, the pointer and, when known, line and column of the
    /// deepest node of the pointer that exists.
    pub fn locate(&self, pointer: &str) -> Location {
        let node = self.node_at(pointer).or_else(|| {
            // Point at the nearest existing ancestor.
            let mut p = pointer;
            loop {
                let cut = p.rfind('/')?;
                p = &p[..cut];
                if let Some(n) = self.node_at(p) {
                    return Some(n);
                }
            }
        });
        Location {
            file: self.file.clone(),
            pointer: pointer.to_string(),
            line: node.map(|n| n.span.line).filter(|l| *l > 0),
            col: node.map(|n| n.span.col).filter(|c| *c > 0),
        }
    }

    /// The YAML node at a JSON pointer, when the text was parsed with positions.
    pub fn node_at(&self, pointer: &str) -> Option<&Node> {
        let mut node = self.tree.as_ref()?;
        if pointer.is_empty() {
            return Some(node);
        }
        for segment in pointer.strip_prefix('/')?.split('/') {
            let segment = unescape(segment);
            node = match &node.kind {
                NodeKind::Map(entries) => &entries.iter().find(|e| e.key == segment)?.value,
                NodeKind::Seq(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// An [`ImportError::Invalid`] at `pointer`.
    pub fn invalid(&self, pointer: &str, message: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            location: self.locate(pointer),
            message: message.into(),
        }
    }
}

/// Reads a file as UTF-8 text, refusing files over [`MAX_INPUT_BYTES`] before reading them.
pub fn read_text(path: &Path) -> Result<String, ImportError> {
    let file = path.display().to_string();
    let read_error = |source| ImportError::Read {
        file: file.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_INPUT_BYTES {
        return Err(ImportError::TooLarge {
            file,
            size,
            limit: MAX_INPUT_BYTES,
        });
    }
    std::fs::read_to_string(path).map_err(read_error)
}

/// Escapes a key for use as one JSON pointer segment.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Undoes [`escape`].
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_errors_name_line_and_column() {
        let e = Source::parse("{\n  \"a\": 1,\n  \"b\": \n}", "x.json").err();
        assert!(
            matches!(e, Some(ImportError::Syntax { line: 4, .. })),
            "{e:?}"
        );
        let e = Source::parse("a: 1\nb: [1, 2\n", "x.yaml").err();
        assert!(matches!(e, Some(ImportError::Syntax { .. })), "{e:?}");
        assert!(
            e.map(|e| e.to_string())
                .unwrap_or_default()
                .starts_with("x.yaml:")
        );
    }

    #[test]
    fn locates_pointers_in_json_and_yaml() {
        let src = Source::parse("{\"a\": {\"b/c\": [1, {\"d\": 2}]}}", "x.json").ok();
        let loc = src.map(|s| s.locate("/a/b~1c/1/d"));
        assert_eq!(loc.map(|l| (l.line, l.col)), Some((Some(1), Some(25))));
    }
}
