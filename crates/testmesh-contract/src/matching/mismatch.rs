//! Mismatches: what differs between an expected and an actual interaction part, and where.

use std::fmt;

use crate::path_expr::format_location;

/// Which part of an interaction a mismatch is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MismatchKind {
    /// The request method.
    Method,
    /// The request path.
    Path,
    /// A query parameter.
    Query,
    /// A header.
    Header,
    /// The response status.
    Status,
    /// A location inside the body or message contents.
    Body,
    /// The body has another content type than expected.
    BodyType,
    /// A message metadata entry.
    Metadata,
}

/// One difference, with a precise location and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The part of the interaction.
    pub kind: MismatchKind,
    /// Where: a body path (`$.items[2].price`), a header, parameter or metadata name, or empty
    /// for method, path and status.
    pub path: String,
    /// What differs (`expected number, got string "12"`).
    pub message: String,
}

impl Mismatch {
    pub(crate) fn new(
        kind: MismatchKind,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Mismatch {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn body(location: &[String], message: impl Into<String>) -> Self {
        Mismatch::new(MismatchKind::Body, format_location(location), message)
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            MismatchKind::Method => write!(f, "method: {}", self.message),
            MismatchKind::Path => write!(f, "path: {}", self.message),
            MismatchKind::Status => write!(f, "status: {}", self.message),
            MismatchKind::Query => write!(f, "query parameter {}: {}", self.path, self.message),
            MismatchKind::Header => write!(f, "header {}: {}", self.path, self.message),
            MismatchKind::Metadata => write!(f, "metadata {}: {}", self.path, self.message),
            MismatchKind::Body | MismatchKind::BodyType => {
                write!(f, "{}: {}", self.path, self.message)
            }
        }
    }
}
