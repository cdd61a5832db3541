//! An OpenAPI document as a TestMesh mock definition (the format of the mock engine's YAML files),
//! as JSON.
//!
//! Rules:
//! - One endpoint per operation, at `base path + path template` (`{id}` kept; the engine reads it as
//!   a parameter). The base path is the path of `servers[0].url` unless [`MockOptions::base_path`]
//!   says otherwise; the [`Validator`](super::Validator) built with the same options expects the same
//!   paths. Endpoints with more literal segments get a higher `priority`, so `/pets/mine` wins over
//!   `/pets/{id}` as OpenAPI requires.
//! - The answer is the lowest 2xx response, else `default` (served as 200), else the first. Its media
//!   type is `application/json` when offered, else another JSON type, else the first. The body is the
//!   media type's `example`, else its first `examples` entry, else generated from the schema.
//! - Prism's `Prefer` request header is honoured with conditional responses: `Prefer: code=404` answers
//!   the 404 response, `Prefer: example=name` the named example, and both together combine.

use serde_json::{Map, Value, json};

use super::model::{MediaType, OpenApi, Operation, Response};
use super::sample::Sampler;
use super::schema::Direction;

/// Choices shared by [`mock_definition`] and the [`Validator`](super::Validator), so that both see
/// the same paths.
#[derive(Debug, Clone, Default)]
pub struct MockOptions {
    /// The mock's `name`; by default the document's title in lower-case words joined by `-`
    /// (`openapi` when it has none).
    pub name: Option<String>,
    /// A path prefix for every endpoint. `None`: the path of `servers[0].url` (`/v1`);
    /// `Some("")`: none.
    pub base_path: Option<String>,
}

impl MockOptions {
    /// The base path in force for `api`: normalised to `/x/y` or empty.
    pub fn base_path_for(&self, api: &OpenApi) -> String {
        match &self.base_path {
            None => api.base_path.clone(),
            Some(custom) => {
                let trimmed = custom.trim().trim_end_matches('/');
                if trimmed.is_empty() {
                    String::new()
                } else if trimmed.starts_with('/') {
                    trimmed.to_string()
                } else {
                    format!("/{trimmed}")
                }
            }
        }
    }
}

/// The mock definition for `api`: `{name, endpoints: [...]}` in the format of the mock engine.
pub fn mock_definition(api: &OpenApi, options: &MockOptions) -> Value {
    let base = options.base_path_for(api);
    let sampler = Sampler::new(&api.document, Direction::Response);
    let name = options.name.clone().unwrap_or_else(|| slug(&api.title));
    let mut endpoints = Vec::new();
    let mut used_ids: Vec<String> = Vec::new();
    for op in &api.operations {
        let mut id = op
            .operation_id
            .clone()
            .unwrap_or_else(|| slug(&format!("{} {}", op.method, op.path)));
        if used_ids.contains(&id) {
            id = format!("{id}-{}", used_ids.len());
        }
        used_ids.push(id.clone());
        let mut endpoint = Map::new();
        endpoint.insert("id".into(), json!(id));
        endpoint.insert("path".into(), json!(format!("{base}{}", op.path)));
        endpoint.insert("method".into(), json!(op.method.as_str()));
        endpoint.insert("priority".into(), json!(literal_segments(&op.path)));
        let (primary, alternatives) = answers(&sampler, op);
        if alternatives.is_empty() {
            endpoint.insert("response".into(), Value::Object(primary));
        } else {
            let mut list: Vec<Value> = alternatives.into_iter().map(Value::Object).collect();
            list.push(Value::Object(primary));
            endpoint.insert("responses".into(), Value::Array(list));
        }
        endpoints.push(Value::Object(endpoint));
    }
    json!({ "name": name, "endpoints": endpoints })
}

/// The number of segments of a template without a `{parameter}`.
pub(crate) fn literal_segments(path: &str) -> usize {
    path.split('/')
        .filter(|s| !s.is_empty() && !s.contains('{'))
        .count()
}

/// The response chosen by default (see the module documentation) and its index.
pub fn default_response(op: &Operation) -> Option<&Response> {
    op.responses
        .iter()
        .filter(|r| r.code().is_some_and(|c| (200..300).contains(&c)))
        .min_by_key(|r| (r.code(), r.status.len()))
        .or_else(|| op.responses.iter().find(|r| r.status == "default"))
        .or_else(|| op.responses.first())
}

/// The default answer and the `Prefer`-conditional ones (most specific first).
fn answers(sampler: &Sampler<'_>, op: &Operation) -> (Map<String, Value>, Vec<Map<String, Value>>) {
    let Some(primary) = default_response(op) else {
        // No responses at all (invalid, but seen): an empty 200.
        return (json_map(json!({"status": 200})), Vec::new());
    };
    let primary_code = primary.code().unwrap_or(200);
    let mut alternatives = Vec::new();
    let mut codes_done = vec![primary_code];
    for response in &op.responses {
        let Some(code) = response.code() else {
            continue;
        };
        if std::ptr::eq(response, primary) || codes_done.contains(&code) {
            continue;
        }
        codes_done.push(code);
        if let Some(media) = response.preferred_content() {
            // The first example is what `code=N` alone answers; only the others need a condition.
            for (example, _) in media.examples.iter().skip(1) {
                let mut answer = answer(sampler, response, code, Some(example));
                answer.insert(
                    "when".into(),
                    json!(format!(
                        "{} && {}",
                        prefer_condition("code", &code.to_string()),
                        prefer_condition("example", example)
                    )),
                );
                alternatives.push(answer);
            }
        }
        let mut answer = answer(sampler, response, code, None);
        answer.insert(
            "when".into(),
            json!(prefer_condition("code", &code.to_string())),
        );
        alternatives.push(answer);
    }
    if let Some(media) = primary.preferred_content() {
        for (example, _) in media.examples.iter().skip(1) {
            let mut answer = answer(sampler, primary, primary_code, Some(example));
            answer.insert("when".into(), json!(prefer_condition("example", example)));
            alternatives.push(answer);
        }
    }
    (answer(sampler, primary, primary_code, None), alternatives)
}

/// A `when` expression that holds when the `Prefer` header carries `key=value` (alone or among other
/// preferences, as in `Prefer: code=404, example=missing`).
pub fn prefer_condition(key: &str, value: &str) -> String {
    let pattern = format!(
        r"(^|[,;]\s*){}={}\s*($|[,;])",
        regex::escape(key),
        regex::escape(value)
    );
    format!("(headers.prefer ?? '') matches {}", quote(&pattern))
}

/// A single-quoted expression string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn json_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// One response as mock response keys.
fn answer(
    sampler: &Sampler<'_>,
    response: &Response,
    status: u16,
    example: Option<&str>,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("status".into(), json!(status));
    let mut headers = Map::new();
    for header in &response.headers {
        if header.name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        let value = header
            .example
            .clone()
            .or_else(|| header.schema.as_ref().map(|s| sampler.sample(s)));
        if let Some(value) = value {
            headers.insert(header.name.clone(), json!(header_text(&value)));
        }
    }
    let media = response.preferred_content();
    if let Some(media) = media {
        headers.insert("Content-Type".into(), json!(content_type(media)));
    }
    if !headers.is_empty() {
        out.insert("headers".into(), Value::Object(headers));
    }
    if let Some(media) = media
        && let Some(body) = body(sampler, media, example)
    {
        match body {
            Value::String(text) if !media.is_json() => {
                out.insert("body_text".into(), Value::String(text));
            }
            other => {
                out.insert("body".into(), other);
            }
        }
    }
    out
}

/// The body for a media type: the named example, else `example`, else the first of `examples`, else
/// a value generated from the schema.
pub fn body(sampler: &Sampler<'_>, media: &MediaType, example: Option<&str>) -> Option<Value> {
    if let Some(name) = example
        && let Some((_, value)) = media.examples.iter().find(|(n, _)| n == name)
    {
        return Some(value.clone());
    }
    media
        .example
        .clone()
        .or_else(|| media.examples.first().map(|(_, v)| v.clone()))
        .or_else(|| media.schema.as_ref().map(|s| sampler.sample(s)))
}

/// A concrete `Content-Type` for a media type key (wildcards made concrete).
fn content_type(media: &MediaType) -> String {
    if !media.name.contains('*') {
        return media.name.clone();
    }
    if media.name.starts_with("text/") {
        "text/plain".into()
    } else if media.name == "*/*" && media.schema.is_some() {
        "application/json".into()
    } else {
        "application/octet-stream".into()
    }
}

fn header_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(header_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Lower-case words of `text` joined by `-` (`Pet Store API` → `pet-store-api`).
fn slug(text: &str) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    if out.is_empty() {
        "openapi".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Pet Store API"), "pet-store-api");
        assert_eq!(slug("GET /users/{id}"), "get-users-id");
        assert_eq!(slug("∅"), "openapi");
    }

    #[test]
    fn literal_segments_count() {
        assert_eq!(literal_segments("/pets/mine"), 2);
        assert_eq!(literal_segments("/pets/{id}"), 1);
        assert_eq!(literal_segments("/"), 0);
    }
}
