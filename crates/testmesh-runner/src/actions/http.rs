//! `http_request` (alias `http`): sends one HTTP request and reports status, headers, body and timing.
//!
//! Clients live in a shared [`Transport`], so connections are reused across steps and flows; cookies
//! set by responses live in a per-flow-run jar; OAuth 2 tokens are cached per handler (so across
//! flows). An HTTP 4xx/5xx is a result, not an error: only assertions turn it into a failure.

mod auth;
mod body;
mod cookies;
mod response;
mod spin;
mod tls;
mod transport;

use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use testmesh_flow::Action;
use testmesh_flow::decode::Tpl;
use testmesh_flow::model::actions::HttpRequestConfig;
use url::Url;

use crate::handler::{ActionCx, ActionFuture, Handler, Outcome};
use crate::record::StepError;

pub(crate) use response::decoded_body;
pub(crate) use transport::{ClientKey, Redirects, Request, Transport, within};

/// Time limit of a request when neither the config nor the step sets one.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Redirects followed when `max_redirects` is not set.
pub(crate) const DEFAULT_MAX_REDIRECTS: u32 = 10;

/// The `http_request` handler.
pub struct HttpRequest {
    transport: Arc<Transport>,
    tokens: auth::TokenCache,
}

impl HttpRequest {
    /// A handler sending through `transport` (shared with other HTTP-speaking actions).
    pub(crate) fn new(transport: Arc<Transport>) -> Self {
        HttpRequest {
            transport,
            tokens: auth::TokenCache::default(),
        }
    }

    async fn perform(
        &self,
        config: &HttpRequestConfig,
        cx: &ActionCx,
    ) -> Result<Outcome, StepError> {
        let method = parse_method(&config.method)?;
        let mut url = parse_url(&config.url)?;
        append_params(&mut url, &config.params);
        let mut headers = header_map(&config.headers)?;
        let body = body::from_config(config, &cx.flow_dir).await?;
        if let Some(content_type) = body.as_ref().and_then(|b| b.content_type.as_deref())
            && !headers.contains_key(CONTENT_TYPE)
        {
            headers.insert(CONTENT_TYPE, header_value("Content-Type", content_type)?);
        }
        let client = self.transport.client(&client_key(config, cx)?)?;
        let mut request = Request {
            method,
            url,
            headers,
            payload: body.as_ref().map(|b| b.payload.clone()),
            cookies: config
                .cookies
                .iter()
                .map(|(name, value)| (name.clone(), value_text(value)))
                .collect(),
        };
        if let Some(auth) = &config.auth {
            auth::apply(auth, &mut request, &client, &self.tokens).await?;
        }
        let redirects = Redirects {
            follow: literal(config.follow_redirects.as_ref()).unwrap_or(true),
            max: literal(config.max_redirects.as_ref()).unwrap_or(DEFAULT_MAX_REDIRECTS),
        };
        let jar = cx.flow_state.get_or_init(cookies::CookieJar::default);
        let method = request.method.to_string();
        let request_url = request.url.to_string();
        let started = Instant::now();
        let exchange = client.send(request, &redirects, Some(&jar)).await?;
        Ok(response::outcome(
            &method,
            &request_url,
            body.map_or(Value::Null, |b| b.record),
            exchange,
            started.elapsed(),
        ))
    }
}

impl Handler for HttpRequest {
    fn run<'a>(&'a self, action: &'a Action, cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::HttpRequest(config) = action else {
                return Err(StepError::config("http_request handler got another action"));
            };
            let limit = literal(config.timeout.as_ref())
                .or(cx.timeout)
                .unwrap_or(DEFAULT_TIMEOUT);
            within(limit, self.perform(config, cx)).await
        })
    }
}

/// A method token, sent verbatim (`get` stays `get`; servers decide what it means).
pub(crate) fn parse_method(method: &str) -> Result<Method, StepError> {
    Method::from_bytes(method.as_bytes())
        .map_err(|_| StepError::config(format!("`{method}` is not a valid HTTP method token")))
}

/// An absolute `http` or `https` URL.
pub(crate) fn parse_url(text: &str) -> Result<Url, StepError> {
    let url =
        Url::parse(text).map_err(|e| StepError::config(format!("invalid URL `{text}`: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(StepError::config(format!(
            "invalid URL `{text}`: the scheme must be http or https, not `{other}`"
        ))),
    }
}

/// Headers from a config mapping; values are sent as text (numbers as written).
pub(crate) fn header_map(headers: &IndexMap<String, Value>) -> Result<HeaderMap, StepError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| StepError::config(format!("`{name}` is not a valid header name")))?;
        map.append(header, header_value(name, &value_text(value))?);
    }
    Ok(map)
}

/// A header value, or a config error naming the header.
pub(crate) fn header_value(name: &str, value: &str) -> Result<HeaderValue, StepError> {
    HeaderValue::from_str(value).map_err(|_| {
        StepError::config(format!(
            "the value of header `{name}` cannot be sent (control characters or non-ASCII text)"
        ))
    })
}

/// The text of a config value: strings as they are, `null` as nothing, anything else as compact
/// JSON (so numbers read as they were written).
pub(crate) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Appends `params` to the query, keeping what the URL already has; a list repeats the key.
fn append_params(url: &mut Url, params: &IndexMap<String, Value>) {
    if params.is_empty() {
        return;
    }
    let mut query = url.query_pairs_mut();
    for (name, value) in params {
        match value {
            Value::Array(items) => {
                for item in items {
                    query.append_pair(name, &value_text(item));
                }
            }
            other => {
                query.append_pair(name, &value_text(other));
            }
        }
    }
}

/// The settings that pick the client: TLS verification and the client identity.
fn client_key(config: &HttpRequestConfig, cx: &ActionCx) -> Result<ClientKey, StepError> {
    let identity = match (&config.client_cert, &config.client_key) {
        (Some(cert), Some(key)) => Some((cx.flow_dir.join(cert), cx.flow_dir.join(key))),
        (None, None) => None,
        _ => {
            return Err(StepError::config(
                "`client_cert` and `client_key` must be given together",
            ));
        }
    };
    Ok(ClientKey {
        insecure: !literal(config.verify_ssl.as_ref()).unwrap_or(true),
        identity,
    })
}

/// A typed config value (after rendering every value is a literal).
pub(crate) fn literal<T: Copy>(value: Option<&Tpl<T>>) -> Option<T> {
    value.and_then(Tpl::literal).copied()
}
