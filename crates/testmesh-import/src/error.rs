//! Why an input could not be imported: unreadable, not valid JSON/YAML, or not a usable document of
//! its kind. Every error names the file and, when known, the line, column and JSON pointer.

use crate::source::Location;

/// Why an input could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The input is larger than importers accept.
    #[error("{file}: the input is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The text is not valid YAML or JSON.
    #[error("{file}:{line}:{col}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// The text parses but is not a usable document (wrong version, dangling or cyclic `$ref`,
    /// wrong shape).
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What is wrong.
        message: String,
    },
}
