//! `auth`: basic, bearer, API key, and OAuth 2 client credentials with a shared token cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use testmesh_flow::model::actions::{AuthType, HttpAuth};

use super::body::Payload;
use super::transport::{HttpClient, Redirects, Request};
use super::{header_value, parse_url, value_text};
use crate::record::StepError;

/// Header of an API key when `name` is not given.
const DEFAULT_API_KEY_HEADER: &str = "X-API-Key";
/// Query parameter of an API key when `name` is not given.
const DEFAULT_API_KEY_PARAM: &str = "api_key";
/// How long a token without `expires_in` is reused.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Longest a token is reused, whatever `expires_in` says.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A cached token is renewed this long before it expires (at most a tenth of its lifetime).
const RENEW_BEFORE: Duration = Duration::from_secs(30);

/// OAuth 2 tokens by (token_url, client_id, scope, audience), shared by every flow of a runner.
#[derive(Default)]
pub(crate) struct TokenCache {
    slots: Mutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<Option<Token>>>>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    token_url: String,
    client_id: String,
    scope: String,
    audience: String,
}

struct Token {
    access_token: String,
    renew_at: Instant,
}

impl TokenCache {
    /// The slot of a key; holding its lock while fetching makes concurrent steps wait for one fetch.
    fn slot(&self, key: &TokenKey) -> Arc<tokio::sync::Mutex<Option<Token>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(key.clone()).or_default().clone()
    }
}

/// Adds the credentials of `auth` to `request`.
pub(crate) async fn apply(
    auth: &HttpAuth,
    request: &mut Request,
    client: &HttpClient<'_>,
    cache: &TokenCache,
) -> Result<(), StepError> {
    match auth.kind {
        AuthType::Basic => {
            let user = required(&auth.username, "username", "basic")?;
            let password = auth.password.as_deref().unwrap_or_default();
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            set_authorization(&mut request.headers, &format!("Basic {encoded}"))
        }
        AuthType::Bearer => {
            let token = required(&auth.token, "token", "bearer")?;
            set_authorization(&mut request.headers, &format!("Bearer {token}"))
        }
        AuthType::ApiKey => {
            let key = required(&auth.key, "key", "api_key")?;
            match auth.location.as_deref().unwrap_or("header") {
                "header" => {
                    let name = auth.name.as_deref().unwrap_or(DEFAULT_API_KEY_HEADER);
                    let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                        StepError::config(format!(
                            "auth `name`: `{name}` is not a valid header name"
                        ))
                    })?;
                    request.headers.insert(header, header_value(name, key)?);
                    Ok(())
                }
                "query" => {
                    let name = auth.name.as_deref().unwrap_or(DEFAULT_API_KEY_PARAM);
                    request.url.query_pairs_mut().append_pair(name, key);
                    Ok(())
                }
                other => Err(StepError::config(format!(
                    "auth `location` must be `header` or `query`, not `{other}`"
                ))),
            }
        }
        AuthType::Oauth2 => {
            let token = oauth2_token(auth, client, cache).await?;
            set_authorization(&mut request.headers, &format!("Bearer {token}"))
        }
    }
}

fn required<'a>(value: &'a Option<String>, key: &str, kind: &str) -> Result<&'a str, StepError> {
    value
        .as_deref()
        .ok_or_else(|| StepError::config(format!("auth type `{kind}` needs `{key}`")))
}

fn set_authorization(headers: &mut HeaderMap, value: &str) -> Result<(), StepError> {
    headers.insert(AUTHORIZATION, header_value("Authorization", value)?);
    Ok(())
}

/// A client-credentials token: from the cache while it is fresh, else fetched from `token_url`.
async fn oauth2_token(
    auth: &HttpAuth,
    client: &HttpClient<'_>,
    cache: &TokenCache,
) -> Result<String, StepError> {
    let token_url = required(&auth.token_url, "token_url", "oauth2")?;
    let client_id = required(&auth.client_id, "client_id", "oauth2")?;
    let client_secret = required(&auth.client_secret, "client_secret", "oauth2")?;
    let scope = match &auth.scope {
        Some(Value::Array(items)) => items.iter().map(value_text).collect::<Vec<_>>().join(" "),
        Some(other) => value_text(other),
        None => String::new(),
    };
    let audience = auth.audience.clone().unwrap_or_default();
    let key = TokenKey {
        token_url: token_url.to_string(),
        client_id: client_id.to_string(),
        scope,
        audience,
    };
    let slot = cache.slot(&key);
    let mut cached = slot.lock().await;
    if let Some(token) = cached.as_ref()
        && Instant::now() < token.renew_at
    {
        return Ok(token.access_token.clone());
    }
    let token = fetch_token(&key, client_secret, client).await?;
    let access_token = token.access_token.clone();
    *cached = Some(token);
    Ok(access_token)
}

async fn fetch_token(
    key: &TokenKey,
    client_secret: &str,
    client: &HttpClient<'_>,
) -> Result<Token, StepError> {
    // The serializer is not `Send`; it must be gone before the request is awaited.
    let form = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        form.append_pair("client_id", &key.client_id);
        form.append_pair("client_secret", client_secret);
        if !key.scope.is_empty() {
            form.append_pair("scope", &key.scope);
        }
        if !key.audience.is_empty() {
            form.append_pair("audience", &key.audience);
        }
        form.finish()
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let request = Request {
        method: Method::POST,
        url: parse_url(&key.token_url)?,
        headers,
        payload: Some(Payload::Bytes(Bytes::from(form))),
        cookies: Vec::new(),
    };
    let no_redirects = Redirects {
        follow: false,
        max: 0,
    };
    let fetched_at = Instant::now();
    let exchange = client.send(request, &no_redirects, None).await?;
    let what = format!("oauth2 token request to {}", key.token_url);
    if !exchange.status.is_success() {
        let body = String::from_utf8_lossy(&exchange.body);
        let excerpt: String = body.chars().take(200).collect();
        return Err(StepError::action(format!(
            "{what} returned {}: {excerpt}",
            exchange.status
        )));
    }
    let body: Value = serde_json::from_slice(&exchange.body)
        .map_err(|e| StepError::action(format!("{what}: the response is not JSON: {e}")))?;
    let access_token = body
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| StepError::action(format!("{what}: the response has no `access_token`")))?
        .to_string();
    let lifetime = match body.get("expires_in") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
    .map_or(DEFAULT_TOKEN_LIFETIME, |l| l.min(MAX_TOKEN_LIFETIME));
    Ok(Token {
        access_token,
        renew_at: fetched_at + lifetime - RENEW_BEFORE.min(lifetime / 10),
    })
}
