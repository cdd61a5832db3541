//! The Pact v4 model: a pact between a consumer and a provider, its interactions
//! (`Synchronous/HTTP`, `Asynchronous/Messages`, `Synchronous/Messages`), provider states,
//! requests, responses and message contents.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::body::{Body, ContentType, detect_content_type};
use crate::rules::MatchingRules;

/// The Pact specification version a document was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SpecVersion {
    /// 1.0.
    V1,
    /// 1.1.
    V1_1,
    /// 2.0.
    V2,
    /// 3.0.
    V3,
    /// 4.0.
    V4,
}

/// A consumer or provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pacticipant {
    /// Its name.
    pub name: String,
}

/// A contract: what `consumer` expects of `provider`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pact {
    /// The consumer.
    pub consumer: Pacticipant,
    /// The provider.
    pub provider: Pacticipant,
    /// The interactions, in file order.
    pub interactions: Vec<Interaction>,
    /// Metadata other than the specification version (tool versions and the like).
    pub metadata: Map<String, Value>,
    /// The specification version the pact was read from (written pacts are always V4).
    pub source_version: Option<SpecVersion>,
}

/// A provider state, with optional parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderState {
    /// The state's name (`a user exists`).
    pub name: String,
    /// Its parameters (`{"id": 1234}`).
    pub params: Map<String, Value>,
}

impl ProviderState {
    /// A state without parameters.
    pub fn named(name: &str) -> Self {
        ProviderState {
            name: name.to_string(),
            params: Map::new(),
        }
    }
}

/// Generators by category (`body`, `header`, `query`, `path`, `status`, `metadata`, `content`),
/// kept as written; generating values is the verifier's and mock server's business.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Generators {
    /// Category name → generators (an object, or a single generator for `path`/`status`).
    pub categories: Map<String, Value>,
}

impl Generators {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }
}

/// Header or query values by name, in order; each name may carry several values.
pub type Multimap = IndexMap<String, Vec<String>>;

/// The request half of an HTTP interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// HTTP method (`GET`).
    pub method: String,
    /// Path, without the query string.
    pub path: String,
    /// Query parameters (name → values).
    pub query: Multimap,
    /// Headers (name → values).
    pub headers: Multimap,
    /// The body.
    pub body: Body,
    /// Matching rules (`path`, `query`, `header`, `body`).
    pub matching_rules: MatchingRules,
    /// Generators.
    pub generators: Generators,
}

impl Default for HttpRequest {
    fn default() -> Self {
        HttpRequest {
            method: "GET".to_string(),
            path: "/".to_string(),
            query: Multimap::new(),
            headers: Multimap::new(),
            body: Body::Missing,
            matching_rules: MatchingRules::default(),
            generators: Generators::default(),
        }
    }
}

/// The response half of an HTTP interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (name → values).
    pub headers: Multimap,
    /// The body.
    pub body: Body,
    /// Matching rules (`status`, `header`, `body`).
    pub matching_rules: MatchingRules,
    /// Generators.
    pub generators: Generators,
}

impl Default for HttpResponse {
    fn default() -> Self {
        HttpResponse {
            status: 200,
            headers: Multimap::new(),
            body: Body::Missing,
            matching_rules: MatchingRules::default(),
            generators: Generators::default(),
        }
    }
}

/// The contents of a message, with its metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MessageContents {
    /// The payload.
    pub contents: Body,
    /// Metadata (`contentType`, `destination`, …).
    pub metadata: Map<String, Value>,
    /// Matching rules (`content`/`body`, `metadata`).
    pub matching_rules: MatchingRules,
    /// Generators.
    pub generators: Generators,
}

/// What an interaction exchanges.
// Unboxed on purpose: a pact holds few interactions, and matching on them stays simple.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum InteractionKind {
    /// `Synchronous/HTTP`: a request and its response.
    Http {
        /// The request.
        request: HttpRequest,
        /// The expected response.
        response: HttpResponse,
    },
    /// `Asynchronous/Messages`: one message from provider to consumer.
    AsyncMessage(MessageContents),
    /// `Synchronous/Messages`: a request message and its expected responses.
    SyncMessages {
        /// The request message.
        request: MessageContents,
        /// The expected response messages.
        responses: Vec<MessageContents>,
    },
}

impl InteractionKind {
    /// The V4 `type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            InteractionKind::Http { .. } => "Synchronous/HTTP",
            InteractionKind::AsyncMessage(_) => "Asynchronous/Messages",
            InteractionKind::SyncMessages { .. } => "Synchronous/Messages",
        }
    }
}

/// One interaction of a pact.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// Unique key; computed from the contents when written if absent.
    pub key: Option<String>,
    /// Description, unique within the pact.
    pub description: String,
    /// Provider states to set up before verifying.
    pub provider_states: Vec<ProviderState>,
    /// Whether the interaction is pending (failures do not fail verification).
    pub pending: bool,
    /// Comments (`testname`, `text`, …).
    pub comments: Map<String, Value>,
    /// Plugin configuration and interaction markup, kept as written.
    pub extra: Map<String, Value>,
    /// The exchange itself.
    pub kind: InteractionKind,
}

impl Interaction {
    /// An HTTP interaction with no provider states.
    pub fn http(description: &str, request: HttpRequest, response: HttpResponse) -> Self {
        Interaction {
            key: None,
            description: description.to_string(),
            provider_states: Vec::new(),
            pending: false,
            comments: Map::new(),
            extra: Map::new(),
            kind: InteractionKind::Http { request, response },
        }
    }

    /// An asynchronous message interaction with no provider states.
    pub fn message(description: &str, contents: MessageContents) -> Self {
        Interaction {
            key: None,
            description: description.to_string(),
            provider_states: Vec::new(),
            pending: false,
            comments: Map::new(),
            extra: Map::new(),
            kind: InteractionKind::AsyncMessage(contents),
        }
    }
}

/// Case-insensitive header lookup; several values are joined with `, `.
pub fn header_value(headers: &Multimap, name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.join(", "))
}

/// The content type of an HTTP part: the body's declared type, else the `Content-Type` header,
/// else one detected from the bytes.
pub(crate) fn part_content_type(body: &Body, headers: &Multimap) -> Option<ContentType> {
    if let Some(ct) = body.declared_content_type() {
        return Some(ct.clone());
    }
    if let Some(ct) = header_value(headers, "content-type").and_then(|h| ContentType::parse(&h)) {
        return Some(ct);
    }
    body.bytes().and_then(detect_content_type)
}

impl HttpRequest {
    /// The request's content type (declared, from headers, or detected).
    pub fn content_type(&self) -> Option<ContentType> {
        part_content_type(&self.body, &self.headers)
    }
}

impl HttpResponse {
    /// The response's content type (declared, from headers, or detected).
    pub fn content_type(&self) -> Option<ContentType> {
        part_content_type(&self.body, &self.headers)
    }
}

impl MessageContents {
    /// The message's content type: declared on the contents, else metadata `contentType`, else
    /// detected.
    pub fn content_type(&self) -> Option<ContentType> {
        if let Some(ct) = self.contents.declared_content_type() {
            return Some(ct.clone());
        }
        self.metadata
            .iter()
            .find(|(k, _)| {
                k.eq_ignore_ascii_case("contentType") || k.eq_ignore_ascii_case("content-type")
            })
            .and_then(|(_, v)| v.as_str())
            .and_then(ContentType::parse)
            .or_else(|| self.contents.bytes().and_then(detect_content_type))
    }
}
