//! Cookies: the per-flow-run jar filled by `Set-Cookie`, and the `Cookie` header of a request.

use std::sync::Mutex;

use cookie_store::{CookieStore, RawCookie};
use reqwest::header::{HeaderMap, HeaderValue, SET_COOKIE};
use url::Url;

use crate::record::StepError;

/// Cookies set by responses during one flow run. It lives in the run's
/// [`FlowState`](crate::handler::FlowState), so later steps of the same run send them back and
/// other runs never see them.
#[derive(Default)]
pub(crate) struct CookieJar(Mutex<CookieStore>);

impl CookieJar {
    /// Keeps the cookies a response from `url` sets (expired ones remove stored cookies; invalid
    /// ones are ignored, as browsers do).
    pub(crate) fn store(&self, headers: &HeaderMap, url: &Url) {
        let cookies = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| RawCookie::parse(v.to_string()).ok());
        self.lock().store_response_cookies(cookies, url);
    }

    /// The stored cookies to send to `url`, as name/value pairs.
    pub(crate) fn cookies_for(&self, url: &Url) -> Vec<(String, String)> {
        self.lock()
            .get_request_values(url)
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CookieStore> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The `Cookie` header: a `Cookie` header the step set, then the step's `cookies`, then stored
/// cookies whose names the step did not set. `None` when there is nothing to send.
pub(crate) fn cookie_header(
    given: Option<&HeaderValue>,
    explicit: &[(String, String)],
    stored: &[(String, String)],
) -> Result<Option<HeaderValue>, StepError> {
    let mut pairs: Vec<String> = given
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .into_iter()
        .collect();
    pairs.extend(
        explicit
            .iter()
            .map(|(name, value)| format!("{name}={value}")),
    );
    pairs.extend(
        stored
            .iter()
            .filter(|(name, _)| !explicit.iter().any(|(n, _)| n == name))
            .map(|(name, value)| format!("{name}={value}")),
    );
    if pairs.is_empty() {
        return Ok(None);
    }
    super::header_value("Cookie", &pairs.join("; ")).map(Some)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn jar_keeps_and_scopes_cookies() {
        let jar = CookieJar::default();
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, HeaderValue::from_static("sid=abc; Path=/"));
        headers.append(SET_COOKIE, HeaderValue::from_static("admin=1; Path=/admin"));
        headers.append(SET_COOKIE, HeaderValue::from_static("not a cookie"));
        jar.store(&headers, &url("http://127.0.0.1:8080/login"));
        assert_eq!(
            jar.cookies_for(&url("http://127.0.0.1:8080/home")),
            vec![("sid".to_string(), "abc".to_string())]
        );
        assert_eq!(
            jar.cookies_for(&url("http://127.0.0.1:8080/admin/x")).len(),
            2
        );
        assert!(
            jar.cookies_for(&url("http://localhost:8080/home"))
                .is_empty()
        );
    }

    #[test]
    fn explicit_cookies_win_over_stored_ones() {
        let explicit = vec![("sid".to_string(), "mine".to_string())];
        let stored = vec![
            ("sid".to_string(), "old".to_string()),
            ("theme".to_string(), "dark".to_string()),
        ];
        let header = cookie_header(Some(&HeaderValue::from_static("a=1")), &explicit, &stored)
            .unwrap()
            .unwrap();
        assert_eq!(header, "a=1; sid=mine; theme=dark");
        assert!(cookie_header(None, &[], &[]).unwrap().is_none());
    }
}
