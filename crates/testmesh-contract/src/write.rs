//! Writing the model as Pact V4 JSON, in the shape of the specification's examples.

use serde_json::{Map, Value, json};

use crate::model::{
    Generators, HttpRequest, HttpResponse, Interaction, InteractionKind, MessageContents, Multimap,
    Pact, ProviderState, header_value,
};
use crate::rules::MatchingRules;

impl Pact {
    /// The pact as V4 JSON. Interactions without a key get one computed from their contents.
    pub fn to_json(&self) -> Value {
        let mut metadata = Map::new();
        metadata.insert("pactSpecification".into(), json!({"version": "4.0"}));
        for (k, v) in &self.metadata {
            metadata.insert(k.clone(), v.clone());
        }
        metadata
            .entry("testmesh")
            .or_insert_with(|| json!({"version": env!("CARGO_PKG_VERSION")}));
        json!({
            "consumer": {"name": self.consumer.name},
            "provider": {"name": self.provider.name},
            "interactions": self.interactions.iter().map(Interaction::to_json).collect::<Vec<_>>(),
            "metadata": metadata,
        })
    }

    /// The pact as pretty-printed V4 JSON text.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(&self.to_json()).unwrap_or_default()
    }
}

impl Interaction {
    /// The interaction as V4 JSON.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("type".into(), json!(self.kind.type_name()));
        obj.insert("description".into(), json!(self.description));
        if !self.provider_states.is_empty() {
            obj.insert(
                "providerStates".into(),
                Value::Array(self.provider_states.iter().map(state_json).collect()),
            );
        }
        match &self.kind {
            InteractionKind::Http { request, response } => {
                obj.insert("request".into(), request_json(request));
                obj.insert("response".into(), response_json(response));
            }
            InteractionKind::AsyncMessage(message) => {
                if let Value::Object(m) = message_json(message, "contents") {
                    obj.extend(m);
                }
            }
            InteractionKind::SyncMessages { request, responses } => {
                obj.insert("request".into(), message_json(request, "contents"));
                obj.insert(
                    "response".into(),
                    Value::Array(
                        responses
                            .iter()
                            .map(|r| message_json(r, "contents"))
                            .collect(),
                    ),
                );
            }
        }
        if self.pending {
            obj.insert("pending".into(), json!(true));
        }
        if !self.comments.is_empty() {
            obj.insert("comments".into(), Value::Object(self.comments.clone()));
        }
        for (k, v) in &self.extra {
            obj.insert(k.clone(), v.clone());
        }
        let key = match &self.key {
            Some(key) => key.clone(),
            None => content_key(&Value::Object(obj.clone())),
        };
        // `key` goes right after `type`, as in the specification's examples.
        let mut ordered = Map::new();
        ordered.insert(
            "type".into(),
            obj.shift_remove("type").unwrap_or(Value::Null),
        );
        ordered.insert("key".into(), json!(key));
        ordered.extend(obj);
        Value::Object(ordered)
    }
}

/// A stable 16-hex-digit key (FNV-1a 64) for an interaction's JSON.
fn content_key(value: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn state_json(state: &ProviderState) -> Value {
    let mut obj = Map::new();
    obj.insert("name".into(), json!(state.name));
    if !state.params.is_empty() {
        obj.insert("params".into(), Value::Object(state.params.clone()));
    }
    Value::Object(obj)
}

fn multimap_json(map: &Multimap) -> Value {
    Value::Object(map.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

fn add_rules(obj: &mut Map<String, Value>, rules: &MatchingRules, generators: &Generators) {
    if !rules.is_empty() {
        obj.insert("matchingRules".into(), rules.to_json());
    }
    if !generators.is_empty() {
        obj.insert(
            "generators".into(),
            Value::Object(generators.categories.clone()),
        );
    }
}

fn request_json(request: &HttpRequest) -> Value {
    let mut obj = Map::new();
    obj.insert("method".into(), json!(request.method));
    obj.insert("path".into(), json!(request.path));
    if !request.query.is_empty() {
        obj.insert("query".into(), multimap_json(&request.query));
    }
    if !request.headers.is_empty() {
        obj.insert("headers".into(), multimap_json(&request.headers));
    }
    let ct = header_value(&request.headers, "content-type");
    if let Some(body) = request.body.to_v4_json(ct.as_deref()) {
        obj.insert("body".into(), body);
    }
    add_rules(&mut obj, &request.matching_rules, &request.generators);
    Value::Object(obj)
}

fn response_json(response: &HttpResponse) -> Value {
    let mut obj = Map::new();
    obj.insert("status".into(), json!(response.status));
    if !response.headers.is_empty() {
        obj.insert("headers".into(), multimap_json(&response.headers));
    }
    let ct = header_value(&response.headers, "content-type");
    if let Some(body) = response.body.to_v4_json(ct.as_deref()) {
        obj.insert("body".into(), body);
    }
    add_rules(&mut obj, &response.matching_rules, &response.generators);
    Value::Object(obj)
}

fn message_json(message: &MessageContents, contents_key: &str) -> Value {
    let mut obj = Map::new();
    let ct = message.content_type().map(|c| c.to_string());
    if let Some(body) = message.contents.to_v4_json(ct.as_deref()) {
        obj.insert(contents_key.into(), body);
    }
    if !message.metadata.is_empty() {
        obj.insert("metadata".into(), Value::Object(message.metadata.clone()));
    }
    add_rules(&mut obj, &message.matching_rules, &message.generators);
    Value::Object(obj)
}
