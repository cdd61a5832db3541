//! Forwarding requests to a real target (pass-through and record mode).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::outcome::MockResponse;
use crate::request::MockRequest;

/// Headers that belong to one connection and are never forwarded (RFC 9110 §7.6.1), plus the
/// ones the transport recomputes.
pub(crate) fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "trailers"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
            | "host"
    )
}

/// A client for one target.
pub(crate) struct Proxy {
    client: reqwest::Client,
    target: url::Url,
}

impl Proxy {
    pub fn new(target: &str) -> Result<Proxy, String> {
        let target =
            url::Url::parse(target).map_err(|e| format!("invalid proxy target `{target}`: {e}"))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build the proxy client: {e}"))?;
        Ok(Proxy { client, target })
    }

    /// The target URL for a mock-relative request.
    fn url_for(&self, req: &MockRequest) -> url::Url {
        let mut url = self.target.clone();
        let base = self.target.path().trim_end_matches('/');
        url.set_path(&format!("{base}{}", req.path));
        if req.query.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut()
                .clear()
                .extend_pairs(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        url
    }

    /// Sends `req` to the target. `identity` asks for an uncompressed body (for recording).
    pub async fn forward(&self, req: &MockRequest, identity: bool) -> Result<MockResponse, String> {
        let url = self.url_for(req);
        let mut headers = HeaderMap::with_capacity(req.headers.len());
        for (name, value) in &req.headers {
            if !is_hop_by_hop(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        if identity {
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            );
        }
        let response = self
            .client
            .request(req.method.clone(), url.clone())
            .headers(headers)
            .body(req.body.clone())
            .send()
            .await
            .map_err(|e| format!("the proxy target {url} did not answer: {e}"))?;
        let status = response.status();
        let mut headers = HeaderMap::with_capacity(response.headers().len());
        for (name, value) in response.headers() {
            if !is_hop_by_hop(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        let body: Bytes = response
            .bytes()
            .await
            .map_err(|e| format!("reading the answer of {url} failed: {e}"))?;
        Ok(MockResponse {
            status,
            headers,
            body,
        })
    }
}
