//! Request extractors that answer bad input with the API's JSON errors: bodies (JSON checked against
//! the documented schema, or raw YAML for flows), query strings (unknown parameters refused, typed
//! values checked), path segments and ids.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// A request body type: deserialised after the body passed its schema in the OpenAPI document.
pub(crate) trait Input: DeserializeOwned {
    /// The name of its schema under `components/schemas`.
    const SCHEMA: &'static str;
}

/// A JSON body of type `T`: `Content-Type` JSON, within the size limit, well-formed, valid
/// against `T::SCHEMA`, without NUL characters.
pub(crate) struct Body<T>(pub(crate) T);

impl<T: Input> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        if !is_json(req.headers()) {
            return Err(unsupported_media_type("application/json"));
        }
        let bytes = read_body(req, state).await?;
        json_body(&bytes, state).map(Body)
    }
}

/// Parses and checks a JSON body (see [`Body`]).
pub(crate) fn json_body<T: Input>(bytes: &[u8], state: &AppState) -> ApiResult<T> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("malformed JSON: {e}"))
            .with_details(json!({ "line": e.line(), "column": e.column() }))
    })?;
    if has_nul(&value) {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "text in the body cannot contain NUL characters (\\u0000)",
        ));
    }
    state.schemas.check(T::SCHEMA, &value)?;
    // The schema admits what the type reads; a mismatch is still answered, not a panic.
    T::deserialize(value)
        .map_err(|e| ApiError::unprocessable("invalid_body", format!("invalid body: {e}")))
}

/// Reads the body within the configured limit.
async fn read_body(req: Request, state: &AppState) -> ApiResult<Bytes> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!(
                        "the request body is larger than {} bytes",
                        state.config.max_body_bytes
                    ),
                )
            } else {
                ApiError::bad_request("unreadable_body", format!("cannot read the body: {e}"))
            }
        })
}

/// True for `application/json` and `application/*+json`.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|m| {
        m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
    })
}

/// The media type of `Content-Type`, lowercased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next().unwrap_or_default().trim();
    Some(media.to_ascii_lowercase())
}

pub(crate) fn unsupported_media_type(expected: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("send the body with `Content-Type: {expected}`"),
    )
}

/// True when any string or key in `value` contains NUL (PostgreSQL text cannot hold it).
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// `{yaml}` as JSON.
#[derive(serde::Deserialize)]
struct FlowInput {
    yaml: String,
}

impl Input for FlowInput {
    const SCHEMA: &'static str = "FlowInput";
}

/// A flow's YAML: raw with a YAML content type, or `{"yaml": "…"}` as JSON.
pub(crate) struct FlowYaml(pub(crate) String);

/// The media types read as raw YAML.
const YAML_TYPES: [&str; 4] = [
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
];

impl FromRequest<AppState> for FlowYaml {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        let media = media_type(req.headers());
        if media.as_deref().is_some_and(|m| YAML_TYPES.contains(&m)) {
            let bytes = read_body(req, state).await?;
            let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
                ApiError::bad_request(
                    "invalid_utf8",
                    format!(
                        "the YAML is not UTF-8 (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                )
            })?;
            Ok(FlowYaml(text))
        } else if is_json(req.headers()) {
            let bytes = read_body(req, state).await?;
            json_body::<FlowInput>(&bytes, state).map(|input| FlowYaml(input.yaml))
        } else {
            Err(unsupported_media_type(
                "application/json` ({\"yaml\": …}) or `Content-Type: application/yaml",
            ))
        }
    }
}

/// Path parameters; a segment that cannot be decoded names nothing (404).
pub(crate) struct PathParams<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathParams(value))
            .map_err(|_| ApiError::not_found("no such resource"))
    }
}

/// The `{id}` of the path. Ids are UUIDs, so anything else names nothing (404) and never reaches
/// the database. Holds the canonical (lowercase, hyphenated) form.
pub(crate) struct Id(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let PathParams(params) =
            PathParams::<Vec<(String, String)>>::from_request_parts(parts, state).await?;
        let raw = params
            .iter()
            .find(|(name, _)| name == "id")
            .map(|(_, value)| value.as_str())
            .unwrap_or_default();
        parse_id(raw).map(Id)
    }
}

/// A UUID from a path, canonical; 404 for anything else.
pub(crate) fn parse_id(raw: &str) -> ApiResult<String> {
    uuid::Uuid::try_parse(raw)
        .map(|id| id.to_string())
        .map_err(|_| ApiError::not_found(format!("nothing has the id `{raw}`: ids are UUIDs")))
}

/// The query string as name/value pairs (percent-decoded, in order).
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> ApiResult<Self> {
        Query::parse(parts.uri.query().unwrap_or_default())
    }
}

impl Query {
    /// Parses a query string; NUL characters are refused.
    pub(crate) fn parse(query: &str) -> ApiResult<Query> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "query parameters cannot contain NUL characters",
            ));
        }
        Ok(Query { pairs })
    }

    /// Refuses parameters not in `known` (a typo must not silently widen a filter).
    pub(crate) fn allow(&self, known: &[Param]) -> ApiResult<()> {
        let unknown = self
            .pairs
            .iter()
            .find(|(k, _)| !known.iter().any(|p| p.name == k.as_str()));
        match unknown {
            Some((name, _)) if known.is_empty() => Err(ApiError::bad_request(
                "unknown_parameter",
                format!("unknown query parameter `{name}`; this route takes none"),
            )),
            Some((name, _)) => {
                let names: Vec<&str> = known.iter().map(|p| p.name).collect();
                Err(ApiError::bad_request(
                    "unknown_parameter",
                    format!(
                        "unknown query parameter `{name}`; known: {}",
                        names.join(", ")
                    ),
                ))
            }
            None => Ok(()),
        }
    }

    /// The value of a single-valued parameter; empty counts as absent.
    pub(crate) fn one(&self, name: &str) -> ApiResult<Option<&str>> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty());
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("`{name}` is given more than once"),
            ));
        }
        Ok(first)
    }

    /// A parameter that is one of `words`.
    pub(crate) fn choice(&self, name: &str, words: &[&str]) -> ApiResult<Option<&str>> {
        match self.one(name)? {
            Some(word) if !words.contains(&word) => Err(ApiError::bad_request(
                "invalid_parameter",
                format!("`{name}` must be one of {}, not `{word}`", words.join(", ")),
            )),
            other => Ok(other),
        }
    }

    /// Every non-empty value of a repeatable parameter, for each of `names`.
    pub(crate) fn all(&self, names: &[&str]) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, v)| names.contains(&k.as_str()) && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// An integer parameter within `min..=max`.
    pub(crate) fn int(&self, name: &str, min: i64, max: i64) -> ApiResult<Option<i64>> {
        let Some(text) = self.one(name)? else {
            return Ok(None);
        };
        match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::bad_request(
                "invalid_parameter",
                format!("`{name}` must be an integer from {min} to {max}, not `{text}`"),
            )),
        }
    }

    /// An RFC 3339 time parameter.
    pub(crate) fn time(&self, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
        let Some(text) = self.one(name)? else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!(
                        "`{name}` must be an RFC 3339 time like 2025-01-31T08:00:00Z, not `{text}`"
                    ),
                )
            })
    }

    /// `limit` (1–1000, default 20) and `offset` (≥ 0, default 0).
    pub(crate) fn paging(&self) -> ApiResult<(i64, i64)> {
        Ok((
            self.int("limit", 1, MAX_PAGE)?.unwrap_or(DEFAULT_PAGE),
            self.int("offset", 0, i64::MAX)?.unwrap_or(0),
        ))
    }
}

/// A documented query parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    /// Its name.
    pub(crate) name: &'static str,
    /// What it does.
    pub(crate) description: &'static str,
    /// Its values.
    pub(crate) kind: ParamKind,
}

/// The values a query parameter takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ParamKind {
    /// Any text.
    Text,
    /// Any text, repeatable.
    Repeated,
    /// An integer in a range.
    Int(i64, i64),
    /// An RFC 3339 time.
    Time,
    /// One of these words.
    Enum(&'static [&'static str]),
}

/// `limit`.
pub(crate) const LIMIT: Param = Param {
    name: "limit",
    description: "page size, 1–1000 (default 20)",
    kind: ParamKind::Int(1, MAX_PAGE),
};

/// `offset`.
pub(crate) const OFFSET: Param = Param {
    name: "offset",
    description: "rows to skip (default 0)",
    kind: ParamKind::Int(0, i64::MAX),
};

/// The default page size of lists.
pub(crate) const DEFAULT_PAGE: i64 = 20;
/// The largest page size.
pub(crate) const MAX_PAGE: i64 = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let q = Query::parse("tag=a&tag=b&tags=c&suite=&limit=5&from=2025-01-01T00:00:00Z")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.all(&["tag", "tags"]), ["a", "b", "c"]);
        assert_eq!(q.one("suite").ok(), Some(None));
        assert_eq!(q.paging().ok(), Some((5, 0)));
        assert!(q.time("from").is_ok_and(|t| t.is_some()));
        let param = |name| Param {
            name,
            description: "",
            kind: ParamKind::Text,
        };
        let known = ["tag", "tags", "suite", "limit", "from"].map(param);
        assert!(q.allow(&known).is_ok());
        assert!(q.allow(&[param("tag")]).is_err());
        assert!(q.allow(&[]).is_err());
        assert!(Query::parse("a=1&a=2").is_ok_and(|q| q.one("a").is_err()));
        assert!(Query::parse("limit=0").is_ok_and(|q| q.paging().is_err()));
        assert!(Query::parse("limit=1001").is_ok_and(|q| q.paging().is_err()));
        assert!(Query::parse("offset=-1").is_ok_and(|q| q.paging().is_err()));
        assert!(Query::parse("from=yesterday").is_ok_and(|q| q.time("from").is_err()));
        assert!(Query::parse("q=%00").is_err());
    }

    #[test]
    fn ids_are_uuids() {
        assert!(parse_id("../../etc/passwd").is_err());
        assert!(parse_id("' OR 1=1 --").is_err());
        assert_eq!(
            parse_id("6F9619FF-8B86-D011-B42D-00CF4FC964FF").ok(),
            Some("6f9619ff-8b86-d011-b42d-00cf4fc964ff".to_string())
        );
    }

    #[test]
    fn nul_anywhere() {
        assert!(has_nul(&json!({"a": ["x", "y\u{0}"]})));
        assert!(has_nul(&json!({"a\u{0}": 1})));
        assert!(!has_nul(&json!({"a": "\\u0000"})));
    }
}
