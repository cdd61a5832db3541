//! Errors of the store: typed where callers act on them (not found, conflict, invalid input, lost
//! lease), wrapped database errors otherwise.

use std::path::PathBuf;

use serde::Serialize;

/// A result of a store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One finding about a flow's YAML, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowDiagnostic {
    /// `"error"` or `"warning"`.
    pub severity: &'static str,
    /// Stable rule identifier, e.g. `yaml-syntax` or `unknown-key`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Line, 1-based.
    pub line: usize,
    /// Column in characters, 1-based.
    pub column: usize,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl From<&testmesh_flow::Diagnostic> for FlowDiagnostic {
    fn from(d: &testmesh_flow::Diagnostic) -> Self {
        FlowDiagnostic {
            severity: d.severity.as_str(),
            code: d.code,
            message: d.message.clone(),
            line: d.span.line.max(1),
            column: d.span.col.max(1),
            help: d.help.clone(),
        }
    }
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No row with that id (in that workspace).
    #[error("{what} not found: {id}")]
    NotFound {
        /// The kind of thing, e.g. `"flow"`.
        what: &'static str,
        /// The id or name looked up.
        id: String,
    },
    /// A unique constraint would be violated (a name already taken, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input is not acceptable: invalid flow YAML (with diagnostics), a bad cron expression, …
    #[error("{message}")]
    Invalid {
        /// What is wrong, in one sentence.
        message: String,
        /// Positions in the flow YAML, when the input was YAML.
        diagnostics: Vec<FlowDiagnostic>,
    },
    /// The worker no longer holds the execution's lease (it expired and was reclaimed, or the
    /// execution was released or finished elsewhere).
    #[error("execution {execution_id} is not leased to worker {worker_id}")]
    LeaseLost {
        /// The execution.
        execution_id: String,
        /// The worker that asked.
        worker_id: String,
    },
    /// The database was migrated by a newer TestMesh.
    #[error(
        "the database schema is at version {found}, newer than this build knows ({supported}): upgrade testmesh or use another database"
    )]
    SchemaTooNew {
        /// Highest version recorded in the database.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// No usable encryption key for secret environment values.
    #[error("encryption key: {0}")]
    Key(String),
    /// A stored secret could not be decrypted (wrong key or damaged data).
    #[error(
        "cannot decrypt a stored secret: the encryption key differs from the one it was written with, or the data is damaged"
    )]
    Decrypt,
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Stored data does not have the expected shape.
    #[error("corrupt data in the store: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl Error {
    /// An [`Error::Invalid`] without diagnostics.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::Invalid {
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn not_found(what: &'static str, id: impl Into<String>) -> Error {
        Error::NotFound {
            what,
            id: id.into(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                return Error::Conflict(db.message().to_string());
            }
            if db.is_foreign_key_violation() {
                return Error::invalid(format!(
                    "a referenced row does not exist: {}",
                    db.message()
                ));
            }
        }
        Error::Database(err)
    }
}
