//! Reading pact JSON (V1–V4) into the V4 model. V2 flat matching rules (`$.body.x`), V3 rule
//! categories, query strings, singular `providerState` and V3 message pacts are upgraded.
//! Errors name the JSON path of the offending field.

use serde_json::{Map, Value};

use crate::body::Body;
use crate::error::PactError;
use crate::model::{
    Generators, HttpRequest, HttpResponse, Interaction, InteractionKind, MessageContents, Multimap,
    Pact, Pacticipant, ProviderState, SpecVersion, header_value,
};
use crate::rules::MatchingRules;

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn expect_object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, PactError> {
    value
        .as_object()
        .ok_or_else(|| PactError::invalid(path, "expected an object"))
}

fn optional_string(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, PactError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(PactError::invalid(&join(path, key), "expected a string")),
    }
}

fn required_string(obj: &Map<String, Value>, key: &str, path: &str) -> Result<String, PactError> {
    optional_string(obj, key, path)?
        .ok_or_else(|| PactError::invalid(&join(path, key), "is required (a string)"))
}

fn optional_object(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Map<String, Value>, PactError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(PactError::invalid(&join(path, key), "expected an object")),
    }
}

/// Parses pact JSON text of any specification version.
pub fn parse_pact(text: &str) -> Result<Pact, PactError> {
    let value: Value = serde_json::from_str(text).map_err(|e| PactError::from_json(&e))?;
    pact_from_json(&value)
}

/// The specification version a pact document declares, if it declares one.
pub fn declared_version(root: &Value) -> Option<SpecVersion> {
    let metadata = root.get("metadata")?;
    let text = metadata
        .get("pactSpecification")
        .or_else(|| metadata.get("pact-specification"))
        .and_then(|v| v.get("version"))
        .or_else(|| metadata.get("pactSpecificationVersion"))
        .and_then(Value::as_str)?;
    let text = text.trim();
    Some(if text.starts_with("1.1") {
        SpecVersion::V1_1
    } else if text.starts_with('1') {
        SpecVersion::V1
    } else if text.starts_with('2') {
        SpecVersion::V2
    } else if text.starts_with('3') {
        SpecVersion::V3
    } else {
        SpecVersion::V4
    })
}

/// Reads a parsed pact document of any specification version.
pub fn pact_from_json(root: &Value) -> Result<Pact, PactError> {
    let obj = expect_object(root, "")?;
    let pacticipant = |key: &str| -> Result<Pacticipant, PactError> {
        let value = obj
            .get(key)
            .ok_or_else(|| PactError::invalid(key, "is required"))?;
        let p = expect_object(value, key)?;
        Ok(Pacticipant {
            name: required_string(p, "name", key)?,
        })
    };
    let consumer = pacticipant("consumer")?;
    let provider = pacticipant("provider")?;
    let declared = declared_version(root);

    let mut interactions = Vec::new();
    match obj.get("interactions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("interactions[{i}]");
                let is_v4 = item.get("type").is_some() || declared == Some(SpecVersion::V4);
                interactions.push(if is_v4 {
                    interaction_from_v4_json(item, &path)?
                } else {
                    http_interaction_from_v3_json(item, &path)?
                });
            }
        }
        Some(_) => return Err(PactError::invalid("interactions", "expected an array")),
    }
    match obj.get("messages") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                interactions.push(message_from_v3_json(item, &format!("messages[{i}]"))?);
            }
        }
        Some(_) => return Err(PactError::invalid("messages", "expected an array")),
    }

    let mut metadata = optional_object(obj, "metadata", "")?;
    for key in [
        "pactSpecification",
        "pact-specification",
        "pactSpecificationVersion",
    ] {
        metadata.shift_remove(key);
    }
    let typed = obj
        .get("interactions")
        .and_then(Value::as_array)
        .is_some_and(|items| items.iter().any(|i| i.get("type").is_some()));
    let source_version = declared.or(Some(if typed {
        SpecVersion::V4
    } else {
        SpecVersion::V3
    }));
    Ok(Pact {
        consumer,
        provider,
        interactions,
        metadata,
        source_version,
    })
}

fn provider_states(obj: &Map<String, Value>, path: &str) -> Result<Vec<ProviderState>, PactError> {
    let mut states = Vec::new();
    match obj.get("providerStates") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{}[{i}]", join(path, "providerStates"));
                let state = expect_object(item, &p)?;
                states.push(ProviderState {
                    name: required_string(state, "name", &p)?,
                    params: optional_object(state, "params", &p)?,
                });
            }
        }
        Some(_) => {
            return Err(PactError::invalid(
                &join(path, "providerStates"),
                "expected an array",
            ));
        }
    }
    // V1–V2: a single state name (the original TestMesh wrote "" for none).
    for key in ["providerState", "provider_state"] {
        if let Some(name) = optional_string(obj, key, path)?
            && !name.is_empty()
            && states.is_empty()
        {
            states.push(ProviderState::named(&name));
        }
    }
    Ok(states)
}

fn common_fields(
    obj: &Map<String, Value>,
    path: &str,
    kind: InteractionKind,
) -> Result<Interaction, PactError> {
    let pending = match obj.get("pending") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(PactError::invalid(
                &join(path, "pending"),
                "expected a boolean",
            ));
        }
    };
    let mut extra = Map::new();
    for key in ["pluginConfiguration", "interactionMarkup", "transport"] {
        if let Some(v) = obj.get(key) {
            extra.insert(key.to_string(), v.clone());
        }
    }
    Ok(Interaction {
        key: optional_string(obj, "key", path)?,
        description: required_string(obj, "description", path)?,
        provider_states: provider_states(obj, path)?,
        pending,
        comments: optional_object(obj, "comments", path)?,
        extra,
        kind,
    })
}

/// Reads one V4 interaction (any `type`).
pub fn interaction_from_v4_json(value: &Value, path: &str) -> Result<Interaction, PactError> {
    let obj = expect_object(value, path)?;
    let kind = match optional_string(obj, "type", path)?.as_deref() {
        None | Some("Synchronous/HTTP") => InteractionKind::Http {
            request: request_from_json(
                obj.get("request").unwrap_or(&Value::Null),
                &join(path, "request"),
                true,
            )?,
            response: response_from_json(
                obj.get("response").unwrap_or(&Value::Null),
                &join(path, "response"),
                true,
            )?,
        },
        Some("Asynchronous/Messages") => {
            InteractionKind::AsyncMessage(message_contents_from_v4_json(value, path)?)
        }
        Some("Synchronous/Messages") => {
            let request = match obj.get("request") {
                Some(v) => message_contents_from_v4_json(v, &join(path, "request"))?,
                None => MessageContents::default(),
            };
            let responses = match obj.get("response") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        message_contents_from_v4_json(
                            v,
                            &format!("{}[{i}]", join(path, "response")),
                        )
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(PactError::invalid(
                        &join(path, "response"),
                        "expected an array",
                    ));
                }
            };
            InteractionKind::SyncMessages { request, responses }
        }
        Some(other) => {
            return Err(PactError::invalid(
                &join(path, "type"),
                format!("unknown interaction type '{other}'"),
            ));
        }
    };
    common_fields(obj, path, kind)
}

fn http_interaction_from_v3_json(value: &Value, path: &str) -> Result<Interaction, PactError> {
    let obj = expect_object(value, path)?;
    let kind = InteractionKind::Http {
        request: request_from_json(
            obj.get("request").unwrap_or(&Value::Null),
            &join(path, "request"),
            false,
        )?,
        response: response_from_json(
            obj.get("response").unwrap_or(&Value::Null),
            &join(path, "response"),
            false,
        )?,
    };
    common_fields(obj, path, kind)
}

fn message_from_v3_json(value: &Value, path: &str) -> Result<Interaction, PactError> {
    let obj = expect_object(value, path)?;
    let mut metadata = optional_object(obj, "metadata", path)?;
    if metadata.is_empty() {
        metadata = optional_object(obj, "metaData", path)?;
    }
    let content_type = metadata
        .iter()
        .find(|(k, _)| {
            k.eq_ignore_ascii_case("contentType") || k.eq_ignore_ascii_case("content-type")
        })
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string);
    let contents = match obj.get("contents") {
        None => Body::Missing,
        Some(v) => Body::from_raw_json(v, content_type.as_deref()),
    };
    let (matching_rules, generators) = rules_and_generators(obj, path)?;
    let message = MessageContents {
        contents,
        metadata,
        matching_rules,
        generators,
    };
    common_fields(obj, path, InteractionKind::AsyncMessage(message))
}

fn rules_and_generators(
    obj: &Map<String, Value>,
    path: &str,
) -> Result<(MatchingRules, Generators), PactError> {
    let rules_path = join(path, "matchingRules");
    let rules = match obj.get("matchingRules") {
        None | Some(Value::Null) => MatchingRules::default(),
        Some(v @ Value::Object(m)) if m.keys().any(|k| k.starts_with("$.")) => {
            MatchingRules::from_v2_json(v, &rules_path)?
        }
        Some(v) => MatchingRules::from_json(v, &rules_path)?,
    };
    let generators = Generators {
        categories: optional_object(obj, "generators", path)?,
    };
    Ok((rules, generators))
}

fn headers_from_json(obj: &Map<String, Value>, path: &str) -> Result<Multimap, PactError> {
    let mut headers = Multimap::new();
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (name, value) in m {
                let p = format!("{}['{name}']", join(path, "headers"));
                let values = match value {
                    Value::String(s) => parse_header(name, s),
                    Value::Array(items) => items
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => Ok(s.clone()),
                            Value::Number(n) => Ok(n.to_string()),
                            _ => Err(PactError::invalid(
                                &p,
                                "expected a string or a list of strings",
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                    Value::Number(n) => vec![n.to_string()],
                    _ => {
                        return Err(PactError::invalid(
                            &p,
                            "expected a string or a list of strings",
                        ));
                    }
                };
                headers.entry(name.clone()).or_default().extend(values);
            }
        }
        Some(_) => {
            return Err(PactError::invalid(
                &join(path, "headers"),
                "expected an object",
            ));
        }
    }
    Ok(headers)
}

const MULTI_VALUE_HEADERS: [&str; 12] = [
    "accept",
    "accept-encoding",
    "accept-language",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-expose-headers",
    "access-control-request-headers",
    "allow",
    "cache-control",
    "if-match",
    "if-none-match",
    "vary",
];

/// Splits a header written as one string into its values: only headers that are lists by
/// definition (RFC 9110) are split on commas; dates, cookies and the like stay whole.
pub fn parse_header(name: &str, value: &str) -> Vec<String> {
    if MULTI_VALUE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        value.split(',').map(|v| v.trim().to_string()).collect()
    } else {
        vec![value.trim().to_string()]
    }
}

fn query_from_json(obj: &Map<String, Value>, path: &str) -> Result<Multimap, PactError> {
    let p = join(path, "query");
    match obj.get("query") {
        None | Some(Value::Null) => Ok(Multimap::new()),
        Some(Value::String(s)) => Ok(parse_query_string(s)),
        Some(Value::Object(m)) => {
            let mut query = Multimap::new();
            for (name, value) in m {
                let vp = format!("{p}['{name}']");
                let values = match value {
                    Value::String(s) => vec![s.clone()],
                    Value::Null => vec![String::new()],
                    Value::Array(items) => items
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => Ok(s.clone()),
                            Value::Null => Ok(String::new()),
                            Value::Number(n) => Ok(n.to_string()),
                            _ => Err(PactError::invalid(&vp, "expected a list of strings")),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(PactError::invalid(&vp, "expected a list of strings")),
                };
                query.insert(name.clone(), values);
            }
            Ok(query)
        }
        Some(_) => Err(PactError::invalid(
            &p,
            "expected an object or a query string",
        )),
    }
}

/// Parses `a=1&b=2&a=3` (percent-decoded, `+` as space) into name → values.
pub fn parse_query_string(query: &str) -> Multimap {
    let mut map = Multimap::new();
    for pair in query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(percent_decode(name))
            .or_default()
            .push(percent_decode(value));
    }
    map
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a request. `v4` selects the V4 body shape; otherwise the body is the raw value.
pub fn request_from_json(value: &Value, path: &str, v4: bool) -> Result<HttpRequest, PactError> {
    if value.is_null() {
        return Ok(HttpRequest::default());
    }
    let obj = expect_object(value, path)?;
    let headers = headers_from_json(obj, path)?;
    let content_type = header_value(&headers, "content-type");
    let body = body_from(obj, "body", v4, content_type.as_deref());
    let (matching_rules, generators) = rules_and_generators(obj, path)?;
    Ok(HttpRequest {
        method: optional_string(obj, "method", path)?.unwrap_or_else(|| "GET".to_string()),
        path: optional_string(obj, "path", path)?.unwrap_or_else(|| "/".to_string()),
        query: query_from_json(obj, path)?,
        headers,
        body,
        matching_rules,
        generators,
    })
}

/// Reads a response. `v4` selects the V4 body shape; otherwise the body is the raw value.
pub fn response_from_json(value: &Value, path: &str, v4: bool) -> Result<HttpResponse, PactError> {
    if value.is_null() {
        return Ok(HttpResponse::default());
    }
    let obj = expect_object(value, path)?;
    let headers = headers_from_json(obj, path)?;
    let content_type = header_value(&headers, "content-type");
    let body = body_from(obj, "body", v4, content_type.as_deref());
    let (matching_rules, generators) = rules_and_generators(obj, path)?;
    let status = match obj.get("status") {
        None | Some(Value::Null) => 200,
        Some(v) => v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| (100..=999).contains(n))
            .ok_or_else(|| {
                PactError::invalid(
                    &join(path, "status"),
                    "expected an HTTP status code (100-999)",
                )
            })?,
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
        matching_rules,
        generators,
    })
}

fn body_from(obj: &Map<String, Value>, key: &str, v4: bool, content_type: Option<&str>) -> Body {
    if v4 {
        Body::from_v4_json(obj.get(key), content_type)
    } else {
        match obj.get(key) {
            None => Body::Missing,
            Some(v) => Body::from_raw_json(v, content_type),
        }
    }
}

/// Reads V4 message contents (`{contents, metadata, matchingRules, generators}`).
pub fn message_contents_from_v4_json(
    value: &Value,
    path: &str,
) -> Result<MessageContents, PactError> {
    let obj = expect_object(value, path)?;
    let metadata = optional_object(obj, "metadata", path)?;
    let content_type = metadata
        .iter()
        .find(|(k, _)| {
            k.eq_ignore_ascii_case("contentType") || k.eq_ignore_ascii_case("content-type")
        })
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string);
    let contents = Body::from_v4_json(obj.get("contents"), content_type.as_deref());
    let (matching_rules, generators) = rules_and_generators(obj, path)?;
    Ok(MessageContents {
        contents,
        metadata,
        matching_rules,
        generators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_query_strings() {
        let q = parse_query_string("a=1&b=x%20y&a=2&c=d=e&flag");
        assert_eq!(q["a"], vec!["1", "2"]);
        assert_eq!(q["b"], vec!["x y"]);
        assert_eq!(q["c"], vec!["d=e"]);
        assert_eq!(q["flag"], vec![""]);
    }

    #[test]
    fn splits_only_list_headers() {
        assert_eq!(parse_header("Accept", "a, b"), vec!["a", "b"]);
        assert_eq!(
            parse_header("Date", "Wed, 21 Oct 2015 07:28:00 GMT"),
            vec!["Wed, 21 Oct 2015 07:28:00 GMT"]
        );
    }
}
