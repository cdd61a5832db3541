//! Request bodies from `body`, `form` and `multipart`.
//!
//! A mapping or list `body` is sent as JSON. A **string `body` is sent as written**: the original
//! TestMesh JSON-encoded every body, so `body: '{"a":1}'` went out as the quoted string
//! `"{\"a\":1}"`; we send the text itself, which is what a flow author means. Other scalars
//! (numbers, booleans) are sent as JSON.

use std::path::Path;

use bytes::Bytes;
use indexmap::IndexMap;
use reqwest::RequestBuilder;
use reqwest::multipart::{Form, Part as FormPart};
use serde_json::{Value, json};
use testmesh_flow::model::actions::HttpRequestConfig;

use super::value_text;
use crate::record::StepError;

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
const FORM: &str = "application/x-www-form-urlencoded";

/// What a request body sends; cheap to clone, so a 307/308 redirect can send it again.
#[derive(Clone)]
pub(crate) enum Payload {
    /// Bytes as they are.
    Bytes(Bytes),
    /// `multipart/form-data` parts; the boundary is chosen when the body is attached.
    Multipart(Vec<Part>),
}

/// One multipart field.
#[derive(Clone)]
pub(crate) struct Part {
    name: String,
    content: PartContent,
}

#[derive(Clone)]
enum PartContent {
    Text(String),
    File {
        data: Bytes,
        filename: String,
        content_type: String,
    },
}

impl Payload {
    /// Whether the payload sets its own `Content-Type` (with the multipart boundary).
    pub(crate) fn is_multipart(&self) -> bool {
        matches!(self, Payload::Multipart(_))
    }

    /// Puts the payload on a request.
    pub(crate) fn attach(&self, builder: RequestBuilder) -> Result<RequestBuilder, StepError> {
        match self {
            Payload::Bytes(bytes) => Ok(builder.body(bytes.clone())),
            Payload::Multipart(parts) => {
                let mut form = Form::new();
                for part in parts {
                    form = match &part.content {
                        PartContent::Text(text) => form.text(part.name.clone(), text.clone()),
                        PartContent::File {
                            data,
                            filename,
                            content_type,
                        } => {
                            let length = data.len() as u64;
                            let file =
                                FormPart::stream_with_length(reqwest::Body::from(data.clone()), length)
                                    .file_name(filename.clone())
                                    .mime_str(content_type)
                                    .map_err(|_| {
                                        StepError::config(format!(
                                            "multipart field `{}`: `{content_type}` is not a valid content type",
                                            part.name
                                        ))
                                    })?;
                            form.part(part.name.clone(), file)
                        }
                    };
                }
                Ok(builder.multipart(form))
            }
        }
    }
}

/// A request body with the content type it implies and how the request record shows it.
pub(crate) struct Body {
    /// What is sent.
    pub payload: Payload,
    /// `Content-Type` to add when the step sets none (multipart sets its own).
    pub content_type: Option<String>,
    /// The body as the request record shows it.
    pub record: Value,
}

/// The body of a request from `body`, `form` or `multipart` (at most one of them).
pub(crate) async fn from_config(
    config: &HttpRequestConfig,
    flow_dir: &Path,
) -> Result<Option<Body>, StepError> {
    let body = config.body.as_ref().filter(|b| !b.is_null());
    let given = [
        body.is_some(),
        config.form.is_some(),
        config.multipart.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(StepError::config(
            "use only one of `body`, `form` and `multipart`",
        ));
    }
    if let Some(body) = body {
        return Ok(Some(from_body(body)));
    }
    if let Some(form) = &config.form {
        return Ok(Some(from_form(form)));
    }
    if let Some(fields) = &config.multipart {
        return from_multipart(fields, flow_dir).await.map(Some);
    }
    Ok(None)
}

fn from_body(body: &Value) -> Body {
    match body {
        Value::String(text) => {
            // Text that is JSON is labelled as JSON; anything else as plain text.
            let content_type = if serde_json::from_str::<Value>(text).is_ok() {
                JSON
            } else {
                TEXT
            };
            Body {
                payload: Payload::Bytes(Bytes::from(text.clone())),
                content_type: Some(content_type.to_string()),
                record: body.clone(),
            }
        }
        other => Body {
            payload: Payload::Bytes(Bytes::from(other.to_string())),
            content_type: Some(JSON.to_string()),
            record: other.clone(),
        },
    }
}

fn from_form(form: &IndexMap<String, Value>) -> Body {
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in form {
        encoded.append_pair(name, &value_text(value));
    }
    let encoded = encoded.finish();
    Body {
        payload: Payload::Bytes(Bytes::from(encoded.clone())),
        content_type: Some(FORM.to_string()),
        record: Value::String(encoded),
    }
}

/// A field is text, or a file when it is a mapping with `file` (a path relative to the flow's
/// directory), optional `filename` (default: the file's name) and `content_type` (default: guessed
/// from the extension).
async fn from_multipart(
    fields: &IndexMap<String, Value>,
    flow_dir: &Path,
) -> Result<Body, StepError> {
    let mut parts = Vec::with_capacity(fields.len());
    let mut record = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        let file = value.get("file").and_then(Value::as_str);
        let Some(file) = file else {
            let text = value_text(value);
            record.push(json!({"name": name, "value": text}));
            parts.push(Part {
                name: name.clone(),
                content: PartContent::Text(text),
            });
            continue;
        };
        let path = flow_dir.join(file);
        let data = tokio::fs::read(&path).await.map_err(|e| {
            StepError::config(format!(
                "multipart field `{name}`: cannot read {}: {e}",
                path.display()
            ))
        })?;
        let filename = value
            .get("filename")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| path.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| name.clone());
        let content_type = value
            .get("content_type")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                mime_guess::from_path(&path)
                    .first_or_octet_stream()
                    .to_string()
            });
        record.push(json!({
            "name": name,
            "file": file,
            "filename": filename,
            "content_type": content_type,
            "size": data.len(),
        }));
        parts.push(Part {
            name: name.clone(),
            content: PartContent::File {
                data: Bytes::from(data),
                filename,
                content_type,
            },
        });
    }
    Ok(Body {
        payload: Payload::Multipart(parts),
        content_type: None,
        record: Value::Array(record),
    })
}
