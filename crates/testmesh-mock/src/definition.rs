//! The mock definition: one format for YAML files, API JSON and flow action configs.
//!
//! These types are the *canonical* form: what the store saves and the API returns. They serialize
//! with serde using the documented key names (`status`, `body`, `query`, `delay: 150ms`, …) and
//! load back through [`crate::load`], which also accepts the original TestMesh spellings
//! (`status_code`, `body_json`, `delay_ms`, `query_params`). Nothing here is compiled yet: regexes,
//! templates and expressions are checked and compiled when a [`crate::Mock`] is built from it.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Request bodies above this many bytes are answered with 413 unless a mock sets `max_body_bytes`.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
/// Requests kept in a mock's in-memory journal unless `journal.max_entries` says otherwise.
pub const DEFAULT_JOURNAL_ENTRIES: usize = 1000;
/// Bytes of each request body kept in the journal unless `journal.max_body_bytes` says otherwise.
pub const DEFAULT_JOURNAL_BODY_BYTES: usize = 64 * 1024;

/// One mock server: its endpoints and its settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MockDefinition {
    /// A name for people (required in files; flows default it to the step id).
    pub name: String,
    /// A stable id, kept across restarts; a random one is chosen at start when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// The bind address of a dedicated listener (default `127.0.0.1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// A dedicated listener port; `0` takes the next free port of the hub's pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// HTTPS for the dedicated listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsDef>,
    /// The initial server state (what `reset_state` goes back to).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub state: Map<String, Value>,
    /// Request journal limits.
    #[serde(skip_serializing_if = "JournalDef::is_default")]
    pub journal: JournalDef,
    /// Request bodies above this size are answered with 413.
    #[serde(skip_serializing_if = "is_default_max_body")]
    pub max_body_bytes: u64,
    /// Serve endpoints, record a real target, or play a recording back.
    #[serde(skip_serializing_if = "MockMode::is_mock")]
    pub mode: MockMode,
    /// A real target for pass-through and record mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyDef>,
    /// Record mode: the file exchanges are written to. Playback mode: the file endpoints are read from.
    /// Relative to `base_dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub save_to: Option<String>,
    /// Random faults: per request, at most one rule is drawn by cumulative probability.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chaos_rules: Vec<ChaosRuleDef>,
    /// The endpoints, in definition order (ties in priority keep this order).
    pub endpoints: Vec<EndpointDef>,
    /// The directory relative paths (`body_from_file`, `save_to`, TLS files) are resolved against:
    /// the mock file's directory when loaded from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_dir: Option<PathBuf>,
}

impl MockDefinition {
    /// An empty mock with the given name and every setting at its default.
    pub fn new(name: impl Into<String>) -> Self {
        MockDefinition {
            name: name.into(),
            id: None,
            host: None,
            port: None,
            tls: None,
            state: Map::new(),
            journal: JournalDef::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            mode: MockMode::Mock,
            proxy: None,
            save_to: None,
            chaos_rules: Vec::new(),
            endpoints: Vec::new(),
            base_dir: None,
        }
    }

    /// The canonical JSON form (what the store saves and the API returns).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

fn is_default_max_body(n: &u64) -> bool {
    *n == DEFAULT_MAX_BODY_BYTES
}

/// Deserializes through the strict loader, so serde users get the same aliases and errors.
impl<'de> Deserialize<'de> for MockDefinition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        crate::load::mock_from_json(&value).map_err(serde::de::Error::custom)
    }
}

/// HTTPS settings of a dedicated listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsDef {
    /// `tls: true`: a self-signed certificate for `localhost`, `127.0.0.1` and the bind host.
    SelfSigned,
    /// `tls: {cert, key}`: PEM files (relative to `base_dir`).
    Files {
        /// The certificate chain, PEM.
        cert: String,
        /// The private key, PEM.
        key: String,
    },
}

impl Serialize for TlsDef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TlsDef::SelfSigned => s.serialize_bool(true),
            TlsDef::Files { cert, key } => {
                serde_json::json!({"cert": cert, "key": key}).serialize(s)
            }
        }
    }
}

/// Limits of the in-memory request journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JournalDef {
    /// Entries kept; the oldest is dropped when full.
    pub max_entries: usize,
    /// Bytes of each request body kept (the rest is cut and marked truncated).
    pub max_body_bytes: usize,
}

impl Default for JournalDef {
    fn default() -> Self {
        JournalDef {
            max_entries: DEFAULT_JOURNAL_ENTRIES,
            max_body_bytes: DEFAULT_JOURNAL_BODY_BYTES,
        }
    }
}

impl JournalDef {
    fn is_default(&self) -> bool {
        *self == JournalDef::default()
    }
}

/// What a mock does with requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MockMode {
    /// Answer from the endpoints (unmatched requests may pass through to `proxy.target`).
    #[default]
    Mock,
    /// Forward every request to `proxy.target` and append each exchange to `save_to` as an endpoint.
    Record,
    /// Answer from the endpoints recorded in `save_to` (plus any defined inline).
    Playback,
}

impl MockMode {
    fn is_mock(&self) -> bool {
        *self == MockMode::Mock
    }

    /// `"mock"`, `"record"` or `"playback"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MockMode::Mock => "mock",
            MockMode::Record => "record",
            MockMode::Playback => "playback",
        }
    }
}

/// A real target behind the mock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyDef {
    /// Base URL requests are forwarded to (the mock-relative path and query are appended).
    pub target: String,
    /// Forward requests no endpoint matched (default true when a proxy is given).
    pub pass_through: bool,
}

/// A chaos rule: with `probability`, answer `response` instead of the normal answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChaosRuleDef {
    /// Between 0 and 1; the rules' probabilities add up to at most 1.
    pub probability: f64,
    /// The answer (any response keys, including `delay`, `hang` and `close_connection`).
    pub response: ResponseDef,
}

/// One endpoint: how requests are matched and how they are answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointDef {
    /// A stable id (generated when absent); the journal and the API name endpoints by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `/users/:id`, `/users/{id}`, `/files/*`, `*`; may be empty when `match.path_pattern` is given.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Upper-case method, or `*` for any.
    pub method: String,
    /// Higher is tried first; ties keep definition order.
    #[serde(skip_serializing_if = "is_zero")]
    pub priority: i64,
    /// Extra conditions on the request.
    #[serde(rename = "match", skip_serializing_if = "MatchDef::is_empty")]
    pub match_: MatchDef,
    /// The answer (the default when conditional `responses` are given too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseDef>,
    /// Conditional answers: the first whose `when` holds (or that has no `when`) is used.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<ConditionalResponseDef>,
    /// The original TestMesh's per-endpoint state rule, applied on every matched request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<LegacyStateDef>,
}

impl EndpointDef {
    /// An endpoint answering `200` with an empty body for `method path`.
    pub fn new(method: &str, path: &str) -> Self {
        EndpointDef {
            id: None,
            path: path.to_string(),
            method: method.to_ascii_uppercase(),
            priority: 0,
            match_: MatchDef::default(),
            response: None,
            responses: Vec::new(),
            state: None,
        }
    }

    /// `GET /users/:id`, or the path pattern when there is no path; used in messages.
    pub fn label(&self) -> String {
        let path = if self.path.is_empty() {
            self.match_
                .path_pattern
                .as_deref()
                .map(|p| format!("~{p}"))
                .unwrap_or_default()
        } else {
            self.path.clone()
        };
        format!("{} {}", self.method, path)
    }
}

/// Deserializes through the strict loader (aliases accepted, unknown keys refused).
impl<'de> Deserialize<'de> for EndpointDef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        crate::load::endpoint_from_json(&value).map_err(serde::de::Error::custom)
    }
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Conditions on a request besides method and path. All given conditions must hold.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MatchDef {
    /// A regex searched in the path (anchor it yourself); replaces path matching. Named groups
    /// become path parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_pattern: Option<String>,
    /// Query parameters: exact value or `regex:<re>`.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub query: IndexMap<String, String>,
    /// Headers (names case-insensitive): exact value or `regex:<re>`.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// The whole body: JSON equality when both are JSON, else the raw text (a string is raw text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_equals: Option<Value>,
    /// A partial JSON body: every given key must be there with this value (recursively; arrays
    /// element by element).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A regex searched in the raw body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_pattern: Option<String>,
    /// Expressions over the request that must all be true.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub body_matches: Vec<String>,
}

impl MatchDef {
    /// True when nothing beyond method and path is required.
    pub fn is_empty(&self) -> bool {
        *self == MatchDef::default()
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseDef {
    /// HTTP status (default 200).
    pub status: u16,
    /// Response headers; values are templates.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// A JSON body (templates inside strings); a string is sent as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A text body (a template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// A file sent as is (relative to `base_dir`), read when the mock is loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_from_file: Option<String>,
    /// `false` sends body and headers literally (recordings use it so `{{` in real data stays).
    #[serde(skip_serializing_if = "is_true")]
    pub template: bool,
    /// Wait before answering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<DelayDef>,
    /// Never answer (until the client gives up).
    #[serde(skip_serializing_if = "is_false")]
    pub hang: bool,
    /// Drop the connection without an answer.
    #[serde(skip_serializing_if = "is_false")]
    pub close_connection: bool,
    /// Changes to the mock's state made when this answer is chosen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub state_changes: Vec<StateChangeDef>,
}

impl Default for ResponseDef {
    fn default() -> Self {
        ResponseDef {
            status: 200,
            headers: IndexMap::new(),
            body: None,
            body_text: None,
            body_from_file: None,
            template: true,
            delay: None,
            hang: false,
            close_connection: false,
            state_changes: Vec::new(),
        }
    }
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A conditional answer of `responses`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionalResponseDef {
    /// An expression over the request and state; absent = always.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// The answer.
    #[serde(flatten)]
    pub response: ResponseDef,
}

/// How long to wait before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayDef {
    /// Always this long.
    Fixed(Duration),
    /// A uniformly random time in `min..=max`.
    Range {
        /// Shortest wait.
        min: Duration,
        /// Longest wait.
        max: Duration,
    },
}

impl Serialize for DelayDef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DelayDef::Fixed(d) => s.serialize_str(&format_duration(*d)),
            DelayDef::Range { min, max } => serde_json::json!({
                "min": format_duration(*min),
                "max": format_duration(*max),
            })
            .serialize(s),
        }
    }
}

/// `150ms`, `2s`, or nanoseconds when not a whole number of milliseconds.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos().is_multiple_of(1_000_000) {
        let ms = d.as_millis();
        if ms.is_multiple_of(1000) && ms > 0 {
            format!("{}s", ms / 1000)
        } else {
            format!("{ms}ms")
        }
    } else {
        format!("{}ns", d.as_nanos())
    }
}

/// What a state change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateAction {
    /// `path = value`.
    Set,
    /// Push `value` onto the list at `path` (a non-list becomes `[]` first).
    Append,
    /// Add `value` (default 1) to the number at `path` (a non-number counts as 0).
    Increment,
    /// Subtract `value` (default 1) from the number at `path` (a non-number counts as 0).
    Decrement,
    /// Remove `path`.
    Delete,
    /// Negate the boolean at `path` (a non-boolean becomes `true`).
    Toggle,
}

impl StateAction {
    /// Every action name, for messages.
    pub const NAMES: &'static [&'static str] = &[
        "set",
        "append",
        "increment",
        "decrement",
        "delete",
        "toggle",
    ];

    /// The action's name.
    pub fn as_str(self) -> &'static str {
        match self {
            StateAction::Set => "set",
            StateAction::Append => "append",
            StateAction::Increment => "increment",
            StateAction::Decrement => "decrement",
            StateAction::Delete => "delete",
            StateAction::Toggle => "toggle",
        }
    }

    /// Parses an action name (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_lowercase().as_str() {
            "set" => StateAction::Set,
            "append" => StateAction::Append,
            "increment" => StateAction::Increment,
            "decrement" => StateAction::Decrement,
            "delete" => StateAction::Delete,
            "toggle" => StateAction::Toggle,
            _ => return None,
        })
    }
}

/// One change to the mock's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateChangeDef {
    /// What to do.
    pub action: StateAction,
    /// The state key, or a dotted path into nested objects (`cart.items`).
    pub path: String,
    /// The operand (templates inside strings are rendered per request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// The original TestMesh's endpoint state rule (`state: {state_key, initial_value, update_rule,
/// update_value}`), applied on every matched request before the response is rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegacyStateDef {
    /// The state key.
    pub state_key: String,
    /// The value when the key has none yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_value: Option<Value>,
    /// `set`, `increment`, `decrement`, `append` or `toggle`; absent = unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_rule: Option<StateAction>,
    /// The operand of the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_value: Option<Value>,
}
