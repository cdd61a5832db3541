//! Errors as the API answers them: a status and a JSON body `{"error", "code", "details"?}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use testmesh_store::Error as StoreError;

/// An error answer of the API.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code, e.g. `not_found`.
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Structured details (positions, findings), when there are any.
    pub details: Option<Value>,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    /// The same error with details.
    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 422 with a code.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 500 `internal`: the cause is logged, not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the server log has the details",
        )
    }

    /// For ids given in a request body: a missing referenced row makes the body invalid (422),
    /// it does not mean the URL names nothing (404).
    pub fn reference(err: StoreError) -> ApiError {
        match err {
            StoreError::NotFound { what, id } => {
                ApiError::unprocessable("unknown_reference", format!("{what} not found: {id}"))
            }
            other => ApiError::from(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::NotFound { what, id } => {
                ApiError::not_found(format!("{what} not found: {id}"))
            }
            StoreError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            StoreError::Invalid {
                message,
                diagnostics,
            } if diagnostics.is_empty() => ApiError::unprocessable("invalid", message),
            StoreError::Invalid {
                message,
                diagnostics,
            } => ApiError::unprocessable("invalid_flow", message)
                .with_details(json!({ "diagnostics": diagnostics })),
            StoreError::Key(message) => {
                tracing::error!(error = %message, "encryption key");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "encryption_key",
                    format!("the server cannot store or read secret values: {message}"),
                )
            }
            other => ApiError::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message, "code": self.code });
        if let (Some(details), Some(map)) = (self.details, body.as_object_mut()) {
            map.insert("details".into(), details);
        }
        (self.status, Json(body)).into_response()
    }
}

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_statuses() {
        let e = ApiError::from(StoreError::NotFound {
            what: "flow",
            id: "x".into(),
        });
        assert_eq!((e.status, e.code), (StatusCode::NOT_FOUND, "not_found"));
        let e = ApiError::reference(StoreError::NotFound {
            what: "flow",
            id: "x".into(),
        });
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let e = ApiError::from(StoreError::Conflict("taken".into()));
        assert_eq!(e.status, StatusCode::CONFLICT);
        let e = ApiError::from(StoreError::invalid("bad cron"));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
        );
        let e = ApiError::from(StoreError::Decrypt);
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("decrypt"));
    }
}
