//! Errors raised while reading a pact file or its matching rules.

/// An error reading a pact: every variant names where in the document it happened.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PactError {
    /// The text is not JSON at all.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser reported.
        message: String,
    },
    /// A field has the wrong shape (`interactions[3].request.method: expected a string`).
    #[error("{path}: {message}")]
    Invalid {
        /// JSON path of the offending field.
        path: String,
        /// What was wrong with it.
        message: String,
    },
    /// A matching rule names a matcher type this engine does not know.
    #[error("{path}: unknown matcher type '{matcher}'")]
    UnknownMatcher {
        /// JSON path of the rule.
        path: String,
        /// The unknown `match` value.
        matcher: String,
    },
    /// A `regex` matcher whose expression does not compile.
    #[error("{path}: invalid regular expression '{regex}': {message}")]
    InvalidRegex {
        /// JSON path of the rule.
        path: String,
        /// The expression as written.
        regex: String,
        /// Why it does not compile.
        message: String,
    },
    /// A `date`/`time`/`datetime` matcher whose format pattern cannot be used.
    #[error("{path}: invalid date/time format '{format}': {message}")]
    InvalidFormat {
        /// JSON path of the rule.
        path: String,
        /// The pattern as written.
        format: String,
        /// Why it cannot be used.
        message: String,
    },
}

impl PactError {
    pub(crate) fn invalid(path: &str, message: impl Into<String>) -> Self {
        PactError::Invalid {
            path: display_path(path),
            message: message.into(),
        }
    }

    pub(crate) fn from_json(err: &serde_json::Error) -> Self {
        PactError::Syntax {
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        }
    }
}

/// The document root has an empty path; show it as `$` rather than nothing.
pub(crate) fn display_path(path: &str) -> String {
    if path.is_empty() {
        "$".to_string()
    } else {
        path.to_string()
    }
}
