//! Sending requests: pooled clients, redirects, the cookie jar, streamed bodies with a size cap,
//! time limits, and transport errors that say what went wrong.

use std::collections::HashMap;
use std::error::Error;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HeaderMap, LOCATION,
    PROXY_AUTHORIZATION, TRANSFER_ENCODING, WWW_AUTHENTICATE,
};
use reqwest::{Client, Method, StatusCode, Version};
use testmesh_flow::duration::format_duration;
use url::Url;

use super::body::Payload;
use super::cookies::{CookieJar, cookie_header};
use super::spin::AdaptiveSpin;
use crate::record::{ErrorKind, StepError};

/// Most bytes of a response body kept in memory; larger responses fail the step.
pub(crate) const MAX_BODY_BYTES: usize = 100 * 1024 * 1024;

const USER_AGENT: &str = concat!("testmesh/", env!("CARGO_PKG_VERSION"));

/// The settings that need a client of their own. Everything else is set per request, so every
/// step and flow with the same settings shares one connection pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey {
    /// Accept any server certificate (`verify_ssl: false`).
    pub insecure: bool,
    /// Client certificate and key files (PEM) for mutual TLS.
    pub identity: Option<(PathBuf, PathBuf)>,
}

/// The HTTP clients of a runner, one per [`ClientKey`]. Redirects are followed here, not by the
/// client, so that the per-flow cookie jar sees every hop.
#[derive(Default)]
pub struct Transport {
    clients: Mutex<HashMap<ClientKey, Client>>,
    /// How responses are waited for (see [`AdaptiveSpin`]).
    pub(crate) spin: AdaptiveSpin,
}

impl Transport {
    /// The client for `key` (built on first use), with this transport's wait policy.
    pub(crate) fn client(&self, key: &ClientKey) -> Result<HttpClient<'_>, StepError> {
        let cached = self.lock().get(key).cloned();
        let client = match cached {
            Some(client) => client,
            None => {
                let client = build_client(key)?;
                self.lock().entry(key.clone()).or_insert(client).clone()
            }
        };
        Ok(HttpClient {
            client,
            spin: &self.spin,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClientKey, Client>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A pooled client and how its transport waits for responses.
pub(crate) struct HttpClient<'t> {
    client: Client,
    spin: &'t AdaptiveSpin,
}

fn build_client(key: &ClientKey) -> Result<Client, StepError> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(super::tls::client_config(key)?)
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| {
            StepError::config(format!(
                "cannot set up the HTTP client: {}",
                error_chain(&e)
            ))
        })
}

/// A request that can be sent more than once (a 307/308 redirect re-sends it).
pub(crate) struct Request {
    /// Method, verbatim.
    pub method: Method,
    /// Absolute URL, query included.
    pub url: Url,
    /// Headers set by the step (and by authentication).
    pub headers: HeaderMap,
    /// Body, if any.
    pub payload: Option<Payload>,
    /// Cookies from the step's `cookies`; like `Authorization`, they go to the first origin only.
    pub cookies: Vec<(String, String)>,
}

/// Redirect policy of one request.
pub(crate) struct Redirects {
    /// Follow 3xx responses that have a `Location`.
    pub follow: bool,
    /// Most redirects to follow; one more fails the request.
    pub max: u32,
}

/// The final response of an exchange, with its body read.
pub(crate) struct Exchange {
    /// The headers of the first request, as sent.
    pub sent_headers: HeaderMap,
    /// Final status.
    pub status: StatusCode,
    /// Protocol of the final response.
    pub version: Version,
    /// Final response headers.
    pub headers: HeaderMap,
    /// Final URL, after redirects.
    pub url: Url,
    /// Final response body.
    pub body: Bytes,
}

/// Runs `future` with a time limit; running out is a timeout error naming the limit.
pub(crate) async fn within<T>(
    limit: Duration,
    future: impl Future<Output = Result<T, StepError>>,
) -> Result<T, StepError> {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| {
            Err(StepError::new(
                ErrorKind::Timeout,
                format!("timed out after {}", format_duration(limit)),
            ))
        })
}

impl HttpClient<'_> {
    /// Sends `request`, following redirects as `redirects` says, storing and sending cookies of `jar`
    /// on every hop, and reads the final body (at most [`MAX_BODY_BYTES`]). Each response is waited
    /// for as the transport's [`AdaptiveSpin`] says.
    pub(crate) async fn send(
        &self,
        request: Request,
        redirects: &Redirects,
        jar: Option<&CookieJar>,
    ) -> Result<Exchange, StepError> {
        let HttpClient { client, spin } = self;
        let Request {
            mut method,
            mut url,
            mut headers,
            mut payload,
            cookies,
        } = request;
        let first_origin = url.origin();
        let mut sent_headers = None;
        let mut hops = 0u32;
        loop {
            let mut hop_headers = headers.clone();
            let explicit: &[(String, String)] = if url.origin() == first_origin {
                &cookies
            } else {
                &[]
            };
            let stored = jar.map(|j| j.cookies_for(&url)).unwrap_or_default();
            if let Some(cookie) = cookie_header(hop_headers.get(COOKIE), explicit, &stored)? {
                hop_headers.insert(COOKIE, cookie);
            }
            let mut builder = client.request(method.clone(), url.clone());
            builder = match &payload {
                Some(payload) => {
                    if payload.is_multipart() {
                        hop_headers.remove(CONTENT_TYPE);
                    }
                    payload.attach(builder.headers(hop_headers))?
                }
                None => builder.headers(hop_headers),
            };
            let built = builder.build().map_err(|e| {
                StepError::config(format!("cannot build the request: {}", error_chain(&e)))
            })?;
            if sent_headers.is_none() {
                sent_headers = Some(built.headers().clone());
            }
            let mut response = spin
                .wait(client.execute(built))
                .await
                .map_err(|e| transport_error(&e, &url))?;
            if let Some(jar) = jar {
                jar.store(response.headers(), &url);
            }
            let status = response.status();
            if redirects.follow
                && let Some(next) = redirect_target(status, response.headers(), &url)
            {
                if hops >= redirects.max {
                    return Err(StepError::action(format!(
                        "too many redirects: more than {} (the last one to {next})",
                        redirects.max
                    )));
                }
                hops += 1;
                // What browsers and reqwest do: 301/302/303 turn into a GET without a body.
                if matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER
                ) && method != Method::GET
                    && method != Method::HEAD
                {
                    method = Method::GET;
                    payload = None;
                    for name in [
                        CONTENT_TYPE,
                        CONTENT_LENGTH,
                        CONTENT_ENCODING,
                        TRANSFER_ENCODING,
                    ] {
                        headers.remove(name);
                    }
                }
                // Credentials never follow a redirect to another origin.
                if next.origin() != url.origin() {
                    for name in [AUTHORIZATION, PROXY_AUTHORIZATION, WWW_AUTHENTICATE, COOKIE] {
                        headers.remove(name);
                    }
                }
                url = next;
                continue;
            }
            let body = read_body(&mut response, &url).await?;
            return Ok(Exchange {
                sent_headers: sent_headers.unwrap_or_default(),
                status,
                version: response.version(),
                headers: std::mem::take(response.headers_mut()),
                url,
                body,
            });
        }
    }
}

/// Where a redirect response points, if it is one with a usable `Location`.
fn redirect_target(status: StatusCode, headers: &HeaderMap, url: &Url) -> Option<Url> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = headers.get(LOCATION)?.to_str().ok()?;
    url.join(location).ok()
}

/// Streams the body into memory, refusing more than [`MAX_BODY_BYTES`].
async fn read_body(response: &mut reqwest::Response, url: &Url) -> Result<Bytes, StepError> {
    let too_large = || {
        StepError::action(format!(
            "the response body of {url} is larger than {} MiB, the most TestMesh keeps",
            MAX_BODY_BYTES / (1024 * 1024)
        ))
    };
    let announced = response.content_length().unwrap_or(0);
    if announced > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(usize::try_from(announced).unwrap_or(0));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(&e, url))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A transport failure as a step error that names the cause: refused, DNS, TLS, reset, timeout.
fn transport_error(error: &reqwest::Error, url: &Url) -> StepError {
    let connection = |message: String| StepError::new(ErrorKind::Connection, message);
    let mut cause: Option<&(dyn Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return connection(format!("TLS handshake failed: {tls} ({url})"));
        }
        if let Some(io) = current.downcast_ref::<io::Error>() {
            // An alert that arrives after the client's side of the handshake (TLS 1.3: the server
            // rejects the client certificate) reaches us as text, not as a `rustls::Error`.
            if let Some(alert) = io
                .get_ref()
                .map(ToString::to_string)
                .filter(|text| text.starts_with("received fatal alert"))
            {
                return connection(format!("TLS handshake failed: {alert} ({url})"));
            }
            match io.kind() {
                io::ErrorKind::ConnectionRefused => {
                    return connection(format!("connection refused: {url}"));
                }
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                    return connection(format!("connection reset by the server: {url}"));
                }
                _ => {}
            }
        }
        // hyper-util reports resolver failures as "dns error", with the resolver's error as source.
        if current.to_string().starts_with("dns error") {
            let host = url.host_str().unwrap_or_default();
            let detail = next_cause(current)
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            return connection(format!("cannot resolve host `{host}`{detail}"));
        }
        cause = next_cause(current);
    }
    if error.is_timeout() {
        return StepError::new(ErrorKind::Timeout, format!("timed out: {url}"));
    }
    if error.is_connect() {
        return connection(format!("cannot connect to {url}: {}", error_chain(error)));
    }
    connection(format!("request to {url} failed: {}", error_chain(error)))
}

/// The cause of an error. An `io::Error` wrapping another error reports that error's *source* as
/// its own, skipping the wrapped error itself (where TLS errors hide), so look inside it first.
fn next_cause<'e>(error: &'e (dyn Error + 'static)) -> Option<&'e (dyn Error + 'static)> {
    if let Some(inner) = error
        .downcast_ref::<io::Error>()
        .and_then(io::Error::get_ref)
    {
        return Some(inner);
    }
    error.source()
}

/// An error with its causes, `outer: inner: innermost`, without repeating nested messages.
fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        let text = current.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        cause = next_cause(current);
    }
    parts.join(": ")
}
