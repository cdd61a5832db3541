//! The OpenAPI [`Validator`] as the mock engine's [`RequestValidator`], so a mock served from an
//! OpenAPI document refuses requests the document does not allow (400/404/405/415/422 with reasons).

use std::sync::Arc;

use testmesh_mock::{MockRequest, Rejection, RequestValidator};

use super::validate::{ValidationRequest, Validator};

/// Checks every request to a mock against an OpenAPI document before matching.
#[derive(Debug, Clone)]
pub struct MockValidator {
    validator: Arc<Validator>,
}

impl MockValidator {
    /// Wraps a validator built with the same [`MockOptions`](super::MockOptions) as the mock's
    /// definition (so both expect the same base path).
    pub fn new(validator: Validator) -> Self {
        MockValidator {
            validator: Arc::new(validator),
        }
    }
}

impl RequestValidator for MockValidator {
    fn validate(&self, request: &MockRequest) -> Result<(), Rejection> {
        let request = ValidationRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
        };
        self.validator.validate(&request).map_err(|r| Rejection {
            status: r.status,
            errors: r.errors,
        })
    }
}
