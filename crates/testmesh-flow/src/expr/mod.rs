//! Assertion expressions for test flows (`assert:`, `when:`, `condition`, `wait_until`,
//! `retry_on`): one parser and one evaluator over [`serde_json::Value`].
//!
//! ```text
//! parse("status == 201")?.check(&env)   // with status = 404
//!   => Err(AssertionFailure { message: "expected status == 201, but status is 404",
//!                             actual: Some(404), expected: Some(201), .. })
//! ```
//!
//! See `EXPRESSIONS.md` for the language reference.

mod eval;
mod lexer;
mod parser;
pub mod value;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use eval::Ctx;
use parser::{Kind, Node, children};

pub use parser::MAX_DEPTH;

/// A parsed expression together with its source text. Cloning is cheap (shared), so the many steps
/// of a flow that assert the same thing share one parsed tree.
#[derive(Debug, Clone)]
pub struct Expr {
    source: Arc<str>,
    node: Arc<Node>,
}

/// A root reference read by an expression, e.g. `body.users[0].name` with root `body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The top-level name (`body`).
    pub root: String,
    /// The whole path as written (`body.users[0].name`).
    pub path: String,
    /// 0-based character offset of the path in the source.
    pub offset: usize,
    /// Length of the path in characters.
    pub len: usize,
}

/// Where names come from. The caller layers step result, outputs and variables behind it.
pub trait Env {
    /// The value bound to `name`, if any.
    fn get(&self, name: &str) -> Option<&Value>;
    /// All names that can be resolved (used in "unknown name" messages).
    fn names(&self) -> Vec<String>;
}

impl Env for serde_json::Map<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        serde_json::Map::get(self, name)
    }
    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

impl Env for HashMap<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        HashMap::get(self, name)
    }
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.keys().cloned().collect();
        v.sort();
        v
    }
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at column {col}", col = .offset + 1)]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// 0-based character column in the source.
    pub offset: usize,
    /// Length of the offending text in characters (0 at end of input).
    pub len: usize,
}

/// An error while evaluating an expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A top-level name is not defined.
    #[error("unknown name `{name}`; available names: {}", list_names(.available))]
    UnknownName {
        /// The missing name.
        name: String,
        /// Names that are defined.
        available: Vec<String>,
    },
    /// An operand has the wrong type.
    #[error("{message}")]
    Type {
        /// Explanation.
        message: String,
    },
    /// A member or index was read from null.
    #[error("{message}")]
    NullAccess {
        /// Explanation.
        message: String,
    },
    /// Division by zero or a non-finite result.
    #[error("{message}")]
    Arithmetic {
        /// Explanation.
        message: String,
    },
    /// A regex could not be compiled.
    #[error("{message}")]
    Regex {
        /// Explanation.
        message: String,
    },
    /// A JSON Schema could not be compiled.
    #[error("{message}")]
    Schema {
        /// Explanation.
        message: String,
    },
    /// A boolean was required but the expression produced another type.
    #[error("expression `{expression}` is a {type_name}, not a boolean")]
    NotBoolean {
        /// The expression source.
        expression: String,
        /// The type it produced.
        type_name: String,
    },
}

fn list_names(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

/// A failed assertion, with the values compared when the expression is a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct AssertionFailure {
    /// The expression source.
    pub expression: String,
    /// Readable explanation, e.g. "expected status == 201, but status is 404".
    pub message: String,
    /// The left-hand (actual) value of a failed comparison.
    pub actual: Option<Value>,
    /// The right-hand (expected) value of a failed comparison.
    pub expected: Option<Value>,
}

impl std::fmt::Display for AssertionFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AssertionFailure {}

/// Parses an expression. Invalid regex literals and unknown functions are parse errors.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    Ok(Expr {
        source: src.into(),
        node: Arc::new(parser::parse_node(src)?),
    })
}

impl Expr {
    /// The original source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn ctx<'a>(&'a self, env: &'a dyn Env) -> Ctx<'a> {
        Ctx {
            env,
            src: &self.source,
        }
    }

    /// Evaluates the expression.
    pub fn eval(&self, env: &dyn Env) -> Result<Value, EvalError> {
        self.ctx(env).eval(&self.node).map(|v| v.into_owned())
    }

    /// Evaluate and require a boolean; a non-boolean result is an error naming its type.
    pub fn eval_bool(&self, env: &dyn Env) -> Result<bool, EvalError> {
        match self.eval(env)? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError::NotBoolean {
                expression: self.source.to_string(),
                type_name: value::type_name(&other).into(),
            }),
        }
    }

    /// Assertion check: `Ok(())` when true. On false, a readable [`AssertionFailure`]; for a
    /// comparison it carries the left (actual) and right (expected) values. `a && b` is checked
    /// conjunct by conjunct so the failing part is the one explained.
    #[allow(clippy::result_large_err)] // the signature is part of the module's contract
    pub fn check(&self, env: &dyn Env) -> Result<(), AssertionFailure> {
        self.ctx(env)
            .check(&self.node)
            .map_err(|f| AssertionFailure {
                expression: self.source.to_string(),
                message: f.message,
                actual: f.actual,
                expected: f.expected,
            })
    }

    /// Every root reference the expression reads, in source order.
    pub fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        visit_paths(&self.node, &mut |n, root| {
            out.push(Reference {
                root: root.to_string(),
                path: self.source.chars().skip(n.offset).take(n.len).collect(),
                offset: n.offset,
                len: n.len,
            });
        });
        out.sort_by_key(|r| r.offset);
        out
    }

    /// Calls `f` with the root name of every reference the expression reads (repeats included),
    /// without building [`Reference`]s.
    pub fn for_each_root(&self, f: &mut dyn FnMut(&str)) {
        visit_paths(&self.node, &mut |_, root| f(root));
    }
}

/// Calls `f` with every path (`name`, `.member`, `[index]` chain) under `n` and its root name,
/// index expressions inside a path included.
fn visit_paths<'n>(n: &'n Node, f: &mut dyn FnMut(&'n Node, &'n str)) {
    if let Some(root) = path_root(n) {
        f(n, root);
        let mut cur = n;
        while let Kind::Member(b, ..) | Kind::Index(b, _) = &cur.kind {
            if let Kind::Index(_, i) = &cur.kind {
                visit_paths(i, f);
            }
            cur = b;
        }
        return;
    }
    for c in children(&n.kind) {
        visit_paths(c, f);
    }
}

/// The root name when `n` is a path (`name`, `.member`, `[index]` chain).
fn path_root(n: &Node) -> Option<&str> {
    let mut cur = n;
    loop {
        match &cur.kind {
            Kind::Name(r) => return Some(r),
            Kind::Member(b, ..) | Kind::Index(b, _) => cur = b,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests;
