//! Authentication and rate limiting: every route but `/health` needs an API key, sent as
//! `Authorization: Bearer <key>` or `X-API-Key: <key>`. The key's workspace is the workspace the
//! request acts in; its rate limit (or the server's default) is enforced per key.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use testmesh_store::ApiKey;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::rate_limit::Decision;

/// The verified key of the request.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) Arc<ApiKey>);

impl Caller {
    /// The workspace the request acts in.
    pub(crate) fn workspace(&self) -> &str {
        &self.0.workspace_id
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> ApiResult<Self> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("this route needs an API key"))
    }
}

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const LIMIT_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-remaining");

/// The key the request presents: `Authorization: Bearer …` first, then `X-API-Key`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    bearer
        .or_else(|| {
            headers
                .get(X_API_KEY)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        })
        .filter(|key| !key.is_empty())
}

/// Middleware: verifies the key, applies its rate limit, and hands the key to the handlers.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(presented) = presented_key(request.headers()) else {
        return ApiError::unauthorized(
            "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>` (create one with `testmesh apikey create NAME`)",
        )
        .into_response();
    };
    let key = match state.store.verify_api_key(presented).await {
        Ok(Some(key)) => key,
        Ok(None) => {
            return ApiError::unauthorized("the API key is unknown or revoked").into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let per_minute = key
        .rate_limit_per_minute
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(state.config.default_rate_limit_per_minute);
    match state.limiter.check(&key.id, per_minute) {
        Decision::Limited { limit, retry_after } => {
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            let mut response = ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("rate limit of {limit} requests per minute exceeded; retry in {seconds} s"),
            )
            .into_response();
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            headers.insert(LIMIT_HEADER, HeaderValue::from(limit));
            headers.insert(REMAINING_HEADER, HeaderValue::from(0u32));
            response
        }
        Decision::Allowed { limit, remaining } => {
            request.extensions_mut().insert(Caller(Arc::new(key)));
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert(LIMIT_HEADER, HeaderValue::from(limit));
            headers.insert(REMAINING_HEADER, HeaderValue::from(remaining));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn keys_from_either_header() {
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer tm_a_b")])),
            Some("tm_a_b")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "bearer  tm_a_b ")])),
            Some("tm_a_b")
        );
        assert_eq!(
            presented_key(&headers(&[("x-api-key", "tm_c_d")])),
            Some("tm_c_d")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Basic abc")])),
            None
        );
        assert_eq!(presented_key(&headers(&[("x-api-key", "  ")])), None);
        assert_eq!(presented_key(&HeaderMap::new()), None);
    }
}
