//! Bodies and message contents (`{content, contentType, encoded}`) and content types.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

/// A parsed media type: `type/subtype; name=value…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// Main type, lower-cased (`application`).
    pub main: String,
    /// Subtype, lower-cased (`json`, `vnd.api+json`).
    pub sub: String,
    /// Parameters in order (`charset=utf-8`), names lower-cased.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    /// Parses a media type; `None` when there is no `type/subtype`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(';');
        let base = parts.next()?.trim();
        let (main, sub) = base.split_once('/')?;
        let (main, sub) = (main.trim(), sub.trim());
        if main.is_empty() || sub.is_empty() {
            return None;
        }
        let params = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().to_ascii_lowercase(),
                    v.trim().trim_matches('"').to_string(),
                )
            })
            .collect();
        Some(ContentType {
            main: main.to_ascii_lowercase(),
            sub: sub.to_ascii_lowercase(),
            params,
        })
    }

    /// `type/subtype` without parameters.
    pub fn base(&self) -> String {
        format!("{}/{}", self.main, self.sub)
    }

    /// JSON: `application/json`, `*/*+json`, `application/x-json`.
    pub fn is_json(&self) -> bool {
        self.sub == "json" || self.sub.ends_with("+json") || self.sub == "x-json"
    }

    /// XML: `*/xml`, `*/*+xml`.
    pub fn is_xml(&self) -> bool {
        self.sub == "xml" || self.sub.ends_with("+xml")
    }

    /// `application/x-www-form-urlencoded`.
    pub fn is_form_urlencoded(&self) -> bool {
        self.main == "application" && self.sub == "x-www-form-urlencoded"
    }

    /// Text that can be stored as a string: `text/*`, JSON, XML, forms, JavaScript.
    pub fn is_text(&self) -> bool {
        self.main == "text"
            || self.is_json()
            || self.is_xml()
            || self.is_form_urlencoded()
            || self.sub == "javascript"
    }

    /// Same `type/subtype` (parameters ignored).
    pub fn same_base(&self, other: &ContentType) -> bool {
        self.main == other.main && self.sub == other.sub
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.main, self.sub)?;
        for (k, v) in &self.params {
            write!(f, ";{k}={v}")?;
        }
        Ok(())
    }
}

/// A body or message contents. Pact distinguishes a body that is absent from one that is
/// explicitly null or empty: an expected `Missing` body accepts anything, an expected `Null` or
/// `Empty` body rejects a non-empty actual one.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Body {
    /// Not specified.
    #[default]
    Missing,
    /// Explicitly null (`"body": null` or `{"content": null}`).
    Null,
    /// Explicitly empty.
    Empty,
    /// Content bytes.
    Present {
        /// The bytes (decoded if the pact stored them base64-encoded).
        content: Vec<u8>,
        /// The declared content type, if any.
        content_type: Option<ContentType>,
        /// `contentTypeHint` (`TEXT` or `BINARY`) if given.
        content_type_hint: Option<String>,
    },
}

impl Body {
    /// A body holding this JSON value, typed `application/json`.
    pub fn json(value: &Value) -> Self {
        Body::Present {
            content: value.to_string().into_bytes(),
            content_type: ContentType::parse("application/json"),
            content_type_hint: None,
        }
    }

    /// A body of text with the given content type.
    pub fn text(text: &str, content_type: &str) -> Self {
        if text.is_empty() {
            return Body::Empty;
        }
        Body::Present {
            content: text.as_bytes().to_vec(),
            content_type: ContentType::parse(content_type),
            content_type_hint: None,
        }
    }

    /// Whether there are content bytes.
    pub fn is_present(&self) -> bool {
        matches!(self, Body::Present { .. })
    }

    /// The content bytes, if present.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Present { content, .. } => Some(content),
            _ => None,
        }
    }

    /// The declared content type, if any.
    pub fn declared_content_type(&self) -> Option<&ContentType> {
        match self {
            Body::Present { content_type, .. } => content_type.as_ref(),
            _ => None,
        }
    }

    /// Reads a V4 body attribute (`{content, contentType, encoded, contentTypeHint}`), falling back
    /// to `header_content_type` when the body declares none.
    pub(crate) fn from_v4_json(value: Option<&Value>, header_content_type: Option<&str>) -> Self {
        let Some(value) = value else {
            return Body::Missing;
        };
        let attrs = match value {
            Value::Null => return Body::Null,
            Value::Object(attrs) => attrs,
            // Not the V4 shape: keep the raw value, as the reference does.
            other => return Body::from_raw_json(other, header_content_type),
        };
        let Some(content) = attrs.get("content") else {
            return if attrs
                .keys()
                .all(|k| ["contentType", "encoded", "contentTypeHint"].contains(&k.as_str()))
            {
                Body::Missing
            } else {
                Body::from_raw_json(value, header_content_type)
            };
        };
        if content.is_null() {
            return Body::Null;
        }
        let content_type = attrs
            .get("contentType")
            .and_then(Value::as_str)
            .and_then(ContentType::parse)
            .or_else(|| header_content_type.and_then(ContentType::parse));
        let encoding = match attrs.get("encoded") {
            Some(Value::String(s)) => Some(s.to_ascii_lowercase()),
            Some(Value::Bool(true)) => Some("base64".to_string()),
            _ => None,
        };
        let bytes = match encoding.as_deref() {
            Some("base64") => {
                let text = value_text(content);
                BASE64
                    .decode(text.trim())
                    .unwrap_or_else(|_| text.into_bytes())
            }
            Some(_) => value_text(content).into_bytes(),
            None => match &content_type {
                Some(ct) if ct.is_json() => match content {
                    Value::String(s) if s.is_empty() => Vec::new(),
                    other => other.to_string().into_bytes(),
                },
                _ => value_text(content).into_bytes(),
            },
        };
        let hint = attrs
            .get("contentTypeHint")
            .and_then(Value::as_str)
            .map(str::to_string);
        finish(bytes, content_type, hint)
    }

    /// Reads a V2/V3 body (the raw value), typed by the Content-Type header when present.
    pub(crate) fn from_raw_json(value: &Value, header_content_type: Option<&str>) -> Self {
        let content_type = header_content_type.and_then(ContentType::parse);
        let bytes = match (value, &content_type) {
            (Value::Null, _) => return Body::Null,
            (Value::String(s), Some(ct)) if !ct.is_json() => s.clone().into_bytes(),
            (Value::String(s), None) => s.clone().into_bytes(),
            (Value::String(s), Some(_)) if s.is_empty() => Vec::new(),
            (other, _) => other.to_string().into_bytes(),
        };
        finish(bytes, content_type, None)
    }

    /// The V4 JSON form: JSON content inline, text as a string, anything else base64.
    pub(crate) fn to_v4_json(&self, header_content_type: Option<&str>) -> Option<Value> {
        match self {
            Body::Missing => None,
            Body::Null => Some(Value::Null),
            Body::Empty => Some(serde_json::json!({"content": ""})),
            Body::Present {
                content,
                content_type,
                content_type_hint,
            } => {
                let ct = content_type
                    .clone()
                    .or_else(|| header_content_type.and_then(ContentType::parse))
                    .or_else(|| detect_content_type(content));
                let mut obj = Map::new();
                let text = std::str::from_utf8(content).ok();
                let (value, encoded) = match (&ct, text) {
                    (Some(ct), Some(text)) if ct.is_json() => {
                        match serde_json::from_str::<Value>(text) {
                            Ok(v) => (v, Value::Bool(false)),
                            Err(_) => (Value::String(text.to_string()), Value::Bool(false)),
                        }
                    }
                    (Some(ct), Some(text))
                        if ct.is_text() || content_type_hint.as_deref() == Some("TEXT") =>
                    {
                        (Value::String(text.to_string()), Value::Bool(false))
                    }
                    (None, Some(text)) => (Value::String(text.to_string()), Value::Bool(false)),
                    _ => (
                        Value::String(BASE64.encode(content)),
                        Value::String("base64".into()),
                    ),
                };
                obj.insert("content".into(), value);
                if let Some(ct) = ct {
                    obj.insert("contentType".into(), Value::String(ct.to_string()));
                }
                obj.insert("encoded".into(), encoded);
                if let Some(hint) = content_type_hint {
                    obj.insert("contentTypeHint".into(), Value::String(hint.clone()));
                }
                Some(Value::Object(obj))
            }
        }
    }
}

fn finish(bytes: Vec<u8>, content_type: Option<ContentType>, hint: Option<String>) -> Body {
    if bytes.is_empty() {
        Body::Empty
    } else {
        Body::Present {
            content: bytes,
            content_type,
            content_type_hint: hint,
        }
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Guesses a content type from the bytes: JSON, XML, or plain text.
pub fn detect_content_type(bytes: &[u8]) -> Option<ContentType> {
    let text = std::str::from_utf8(bytes).ok()?;
    let trimmed = text.trim_start();
    let kind = if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<Value>(text).is_ok()
    {
        "application/json"
    } else if trimmed.starts_with("<?xml")
        || (trimmed.starts_with('<') && roxmltree::Document::parse(text).is_ok())
    {
        "application/xml"
    } else {
        "text/plain"
    };
    ContentType::parse(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn distinguishes_missing_null_empty_and_present() {
        assert_eq!(Body::from_v4_json(None, None), Body::Missing);
        assert_eq!(Body::from_v4_json(Some(&Value::Null), None), Body::Null);
        assert_eq!(
            Body::from_v4_json(Some(&json!({"content": null})), None),
            Body::Null
        );
        assert_eq!(
            Body::from_v4_json(Some(&json!({"content": ""})), None),
            Body::Empty
        );
        assert_eq!(
            Body::from_v4_json(Some(&json!({"contentType": "application/json"})), None),
            Body::Missing
        );
        let body = Body::from_v4_json(
            Some(
                &json!({"content": {"a": 1}, "contentType": "application/json", "encoded": false}),
            ),
            None,
        );
        assert_eq!(body.bytes(), Some(&b"{\"a\":1}"[..]));
    }

    #[test]
    fn decodes_base64_and_round_trips() {
        let body = Body::from_v4_json(
            Some(
                &json!({"content": "AAEC", "contentType": "application/octet-stream", "encoded": "base64"}),
            ),
            None,
        );
        assert_eq!(body.bytes(), Some(&[0u8, 1, 2][..]));
        let written = body.to_v4_json(None).unwrap();
        assert_eq!(written["encoded"], json!("base64"));
        assert_eq!(Body::from_v4_json(Some(&written), None), body);
    }

    #[test]
    fn parses_content_types() {
        let ct = ContentType::parse("Application/Vnd.Api+JSON; charset=UTF-8").unwrap();
        assert!(ct.is_json());
        assert_eq!(ct.base(), "application/vnd.api+json");
        assert_eq!(ct.params, vec![("charset".into(), "UTF-8".into())]);
        assert!(ContentType::parse("nonsense").is_none());
    }
}
