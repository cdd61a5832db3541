//! Errors of loading and running mocks.

use std::fmt;
use std::path::PathBuf;

use testmesh_flow::Diagnostic;
use testmesh_flow::yaml::Span;

/// One problem in a mock definition, located by file position and/or field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    /// The mock file, when loaded from one.
    pub file: Option<PathBuf>,
    /// The position in the file (line and column start at 1), when loaded from YAML text.
    pub span: Option<Span>,
    /// The field path as written, e.g. `endpoints[2].match.path_pattern` (empty for the whole input).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, e.g. "did you mean `status`?".
    pub help: Option<String>,
}

impl DefinitionError {
    /// An error at a field path, without a file position.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        DefinitionError {
            file: None,
            span: None,
            path: path.into(),
            message: message.into(),
            help: None,
        }
    }

    /// As a flow-style [`Diagnostic`] (for the CLI's file:line:col rendering with a snippet).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let message = if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        };
        let diagnostic =
            Diagnostic::error("mock-definition", message, self.span.unwrap_or_default());
        match &self.help {
            Some(help) => diagnostic.with_help(help.clone()),
            None => diagnostic,
        }
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, &self.span) {
            (Some(file), Some(span)) if span.line > 0 => {
                write!(f, "{}:{}:{}: ", file.display(), span.line, span.col)?
            }
            (Some(file), _) => write!(f, "{}: ", file.display())?,
            (None, Some(span)) if span.line > 0 => write!(f, "{}:{}: ", span.line, span.col)?,
            _ => {}
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DefinitionError {}

/// Everything wrong with a mock definition (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The problems, in source order where known.
    pub errors: Vec<DefinitionError>,
}

impl LoadError {
    /// A load error with one problem.
    pub fn single(error: DefinitionError) -> Self {
        LoadError {
            errors: vec![error],
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// Why a hub could not start, stop or change a mock.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The definition is invalid.
    #[error("invalid mock definition:\n{0}")]
    Definition(#[from] LoadError),
    /// A mock with this id is already running.
    #[error("mock {0} is already running")]
    AlreadyRunning(uuid::Uuid),
    /// No running mock has this id.
    #[error("mock {0} is not running")]
    NotRunning(uuid::Uuid),
    /// Every port of the pool is taken.
    #[error("no free port in the mock port range {start}-{end}: all {count} ports are in use")]
    PortsExhausted {
        /// First port of the range.
        start: u16,
        /// Last port of the range.
        end: u16,
        /// How many ports the range holds.
        count: usize,
    },
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The record or playback file could not be used.
    #[error("{0}")]
    Recording(String),
}
