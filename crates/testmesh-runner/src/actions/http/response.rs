//! What a response becomes: the step result that assertions and outputs see, and the
//! request/response records kept for reports.

use std::time::Duration;

use base64::Engine;
use reqwest::Version;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use super::transport;
use crate::handler::{Exchange, Outcome};

/// Most body bytes the response record keeps; the result keeps the whole body.
pub(crate) const RECORD_BODY_BYTES: usize = 64 * 1024;

/// The step outcome of an exchange; `request_body` is the body as the request record shows it.
/// The request and response records are built from the result only when a record keeps them.
pub(crate) fn outcome(
    method: &str,
    request_url: &str,
    request_body: Value,
    exchange: transport::Exchange,
    elapsed: Duration,
) -> Outcome {
    let (body, encoding) = decoded_body(&exchange.body);
    let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let content_type = exchange
        .headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let mut result = Map::with_capacity(10);
    result.insert("status".into(), exchange.status.as_u16().into());
    result.insert("body".into(), body);
    result.insert("headers".into(), headers_json(&exchange.headers));
    result.insert("duration_ms".into(), duration_ms.into());
    result.insert("content_type".into(), content_type.into());
    result.insert("url".into(), exchange.url.as_str().into());
    result.insert("method".into(), method.into());
    result.insert("http_version".into(), version_text(exchange.version).into());
    result.insert("size".into(), exchange.body.len().into());
    if let Some(encoding) = encoding {
        result.insert("body_encoding".into(), encoding.into());
    }

    let method = method.to_string();
    let request_url = request_url.to_string();
    let records = move |result: &Value| {
        let field = |name: &str| result.get(name).cloned().unwrap_or(Value::Null);
        let mut response = Map::new();
        for name in ["status", "headers"] {
            response.insert(name.into(), field(name));
        }
        if exchange.body.len() <= RECORD_BODY_BYTES {
            response.insert("body".into(), field("body"));
        } else {
            response.insert(
                "body".into(),
                decoded_prefix(&exchange.body[..RECORD_BODY_BYTES]),
            );
        }
        response.insert("duration_ms".into(), field("duration_ms"));
        if exchange.body.len() > RECORD_BODY_BYTES {
            response.insert("truncated".into(), true.into());
            response.insert("size".into(), exchange.body.len().into());
        }
        if let Some(encoding) = result.get("body_encoding") {
            response.insert("body_encoding".into(), encoding.clone());
        }
        Exchange {
            request: json!({
                "method": method,
                "url": request_url,
                "headers": headers_json(&exchange.sent_headers),
                "body": request_body,
            }),
            response: Value::Object(response),
        }
    };
    Outcome {
        result: Value::Object(result),
        exchange: Some(Box::new(records)),
    }
}

/// A body as a value: parsed JSON when it parses, else text; empty is `""`. Bytes that are not
/// UTF-8 become base64 text, and the second value says so (`"base64"`).
pub(crate) fn decoded_body(bytes: &[u8]) -> (Value, Option<&'static str>) {
    if bytes.is_empty() {
        return (Value::String(String::new()), None);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
            None,
        ),
        Err(_) => (Value::String(base64_text(bytes)), Some("base64")),
    }
}

/// The start of a body cut at a byte limit: text up to the last whole character, or base64 when
/// the bytes are not text.
fn decoded_prefix(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_string()),
        // A cut through a multi-byte character leaves at most 3 invalid bytes at the end.
        Err(e) if e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4 => {
            Value::String(String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned())
        }
        Err(_) => Value::String(base64_text(bytes)),
    }
}

fn base64_text(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Headers as an object: lower-case names; repeated headers joined with `", "`.
pub(crate) fn headers_json(headers: &HeaderMap) -> Value {
    joined_headers(headers.keys_len(), headers)
}

/// `pairs` as an object of `capacity` names. A `HeaderMap` yields the values of a name one after
/// the other (http's implementation, though its documentation promises no order), so a name's
/// values are joined without looking it up; a name met again later is still joined, not
/// overwritten.
fn joined_headers<'h>(
    capacity: usize,
    pairs: impl IntoIterator<Item = (&'h HeaderName, &'h HeaderValue)>,
) -> Value {
    let text = |value: &HeaderValue| match value.to_str() {
        Ok(text) => text.to_string(),
        Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
    };
    let mut out = Map::with_capacity(capacity);
    let mut add = |name: &HeaderName, joined: String| {
        let name = name.as_str();
        if let Some(Value::String(earlier)) = out.insert(name.to_string(), Value::String(joined))
            && let Some(Value::String(later)) = out.get_mut(name)
        {
            *later = format!("{earlier}, {later}");
        }
    };
    let mut current: Option<(&HeaderName, String)> = None;
    for (name, value) in pairs {
        match &mut current {
            Some((same, joined)) if *same == name => {
                joined.push_str(", ");
                joined.push_str(&text(value));
            }
            _ => {
                if let Some((name, joined)) = current.replace((name, text(value))) {
                    add(name, joined);
                }
            }
        }
    }
    if let Some((name, joined)) = current {
        add(name, joined);
    }
    Value::Object(out)
}

fn version_text(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_decode_by_content() {
        assert_eq!(decoded_body(b""), (json!(""), None));
        assert_eq!(decoded_body(br#"{"a":[1]}"#), (json!({"a": [1]}), None));
        assert_eq!(decoded_body(b"{not json"), (json!("{not json"), None));
        assert_eq!(
            decoded_body(&[0xff, 0x00, 0x10]),
            (json!("/wAQ"), Some("base64"))
        );
    }

    #[test]
    fn prefixes_cut_at_characters() {
        let text = "é".repeat(3);
        let cut = &text.as_bytes()[..5];
        assert_eq!(decoded_prefix(cut), json!("éé"));
        assert_eq!(decoded_prefix(&[0xff, 0xfe]), json!("//4="));
    }

    #[test]
    fn repeated_headers_join() {
        let mut headers = HeaderMap::new();
        headers.append("X-Multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        headers.append("Content-Type", HeaderValue::from_static("text/plain"));
        assert_eq!(
            headers_json(&headers),
            json!({"x-multi": "a, b", "content-type": "text/plain"})
        );
    }

    #[test]
    fn a_name_met_again_later_is_joined_not_overwritten() {
        let (multi, other) = (
            HeaderName::from_static("x-multi"),
            HeaderName::from_static("x-other"),
        );
        let (a, b, c) = (
            HeaderValue::from_static("a"),
            HeaderValue::from_static("b"),
            HeaderValue::from_static("c"),
        );
        let pairs = [(&multi, &a), (&other, &b), (&multi, &c)];
        assert_eq!(
            joined_headers(2, pairs),
            json!({"x-multi": "a, c", "x-other": "b"})
        );
    }
}
