//! Provider verification: replays each interaction of a pact against a running provider and
//! compares what comes back with what the consumer expects.
//!
//! For every interaction, in pact order (as the Pact reference verifier does):
//! 1. **Provider states** are set up through the state-change URL, if one is given: a `POST` with
//!    the JSON body `{"state": NAME, "params": {…}, "action": "setup"}` (or, with
//!    [`VerifyOptions::state_change_as_query`], the same as query parameters: `state`, `action`
//!    and one parameter per param). An interaction without states gets one call with an empty
//!    state name. A JSON object in a 2xx answer is kept: its values, with the states' params,
//!    feed `ProviderState` generators. A non-2xx answer or a transport error makes the
//!    interaction an [`Outcome::Error`].
//! 2. The request's **generators** are applied ([`crate::generate`]), custom headers replace the
//!    pact's headers of the same name, and the request is sent to the provider base URL with a
//!    per-request timeout.
//! 3. The response is compared with [`match_response`]; messages (`Asynchronous/Messages`) are
//!    asked of the provider with `POST {"description": …, "providerStates": […]}` to the message
//!    URL and compared with [`match_message`] (metadata from the `Pact-Message-Metadata` header,
//!    base64 JSON, plus `contentType`).
//! 4. With [`VerifyOptions::state_change_teardown`], the states are torn down (`"action":
//!    "teardown"`).
//!
//! A provider that goes away mid-run makes the remaining interactions errors with the cause;
//! every interaction still gets a result. Pending interactions never fail the verification.

mod report;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

pub use report::{
    InteractionResult, MismatchReport, Outcome, PactResult, ReceivedResponse, SentRequest, Summary,
    VerificationReport, failure_lines,
};

use crate::body::{Body, ContentType};
use crate::generate::{GeneratorContext, generate_request};
use crate::matching::{Mismatch, match_message, match_response};
use crate::model::{
    HttpRequest, HttpResponse, Interaction, InteractionKind, MessageContents, Multimap, Pact,
    ProviderState, header_value,
};
use crate::read::parse_header;

/// Which interactions to verify. Every set criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct InteractionFilter {
    /// The description must match this regex (anywhere in it, as the reference's filter does).
    pub description: Option<regex::Regex>,
    /// A provider state's name must match this regex; an empty string selects the interactions
    /// without provider states (as the reference's `--filter-state` does).
    pub state: Option<String>,
    /// Only pacts with one of these consumers.
    pub consumers: Vec<String>,
}

impl InteractionFilter {
    /// Whether `interaction` of a pact with `consumer` is selected. A state filter that is not a
    /// valid regex is compared literally.
    pub fn selects(&self, consumer: &str, interaction: &Interaction) -> bool {
        if !self.consumers.is_empty() && !self.consumers.iter().any(|c| c == consumer) {
            return false;
        }
        if let Some(re) = &self.description
            && !re.is_match(&interaction.description)
        {
            return false;
        }
        if let Some(state) = &self.state {
            if state.is_empty() {
                return interaction.provider_states.is_empty();
            }
            let re = regex::Regex::new(state).ok();
            return interaction.provider_states.iter().any(|s| match &re {
                Some(re) => re.is_match(&s.name),
                None => s.name == *state,
            });
        }
        true
    }
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Where the provider runs (`http://localhost:8080`, may have a base path).
    pub provider_base_url: String,
    /// Where to set up and tear down provider states.
    pub state_change_url: Option<String>,
    /// Send state changes as query parameters instead of a JSON body.
    pub state_change_as_query: bool,
    /// Tear states down after each interaction (off by default, as in the reference).
    pub state_change_teardown: bool,
    /// Headers added to every request to the provider, replacing the pact's of the same name
    /// (authentication, typically). Their values are masked in reports.
    pub headers: Vec<(String, String)>,
    /// Timeout of each request (to the provider and to the state-change URL).
    pub timeout: Duration,
    /// Where messages are asked for; the provider base URL when `None`.
    pub message_url: Option<String>,
    /// Which interactions to verify.
    pub filter: InteractionFilter,
}

impl VerifyOptions {
    /// Options for a provider, with a 30 s timeout and everything else off.
    pub fn new(provider_base_url: &str) -> Self {
        VerifyOptions {
            provider_base_url: provider_base_url.to_string(),
            state_change_url: None,
            state_change_as_query: false,
            state_change_teardown: false,
            headers: Vec::new(),
            timeout: Duration::from_secs(30),
            message_url: None,
            filter: InteractionFilter::default(),
        }
    }
}

/// Options that cannot be used; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A URL that does not parse or is not http(s).
    #[error("{what}: invalid URL '{url}': {message}")]
    InvalidUrl {
        /// Which option (`provider base URL`, `state-change URL`, `message URL`).
        what: &'static str,
        /// The URL as given.
        url: String,
        /// Why.
        message: String,
    },
    /// A custom header with an invalid name or value.
    #[error("header '{name}': {message}")]
    InvalidHeader {
        /// The header name.
        name: String,
        /// Why.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// A pact to verify and where it came from.
#[derive(Debug, Clone)]
pub struct PactSource {
    /// A file path or other label, shown in reports.
    pub source: String,
    /// The pact.
    pub pact: Pact,
}

/// Progress of a verification, for progress bars and live output.
#[derive(Debug, Clone, Copy)]
pub enum VerifyEvent<'a> {
    /// Verification begins; `total` interactions passed the filters.
    Started {
        /// Interactions to verify.
        total: usize,
    },
    /// An interaction is about to be verified.
    InteractionStarted {
        /// Its consumer.
        consumer: &'a str,
        /// Its description.
        description: &'a str,
    },
    /// An interaction has been verified.
    InteractionFinished {
        /// Its consumer.
        consumer: &'a str,
        /// The result.
        result: &'a InteractionResult,
    },
}

/// Verifies every selected interaction of `pacts` against the provider. Only unusable options
/// are errors; everything that happens to an interaction is in its result.
pub async fn verify_pacts(
    pacts: &[PactSource],
    options: &VerifyOptions,
    on_event: &(dyn Fn(VerifyEvent<'_>) + Send + Sync),
) -> Result<VerificationReport, VerifyError> {
    let verifier = Verifier::new(options)?;
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let start = Instant::now();
    let selected: Vec<Vec<&Interaction>> = pacts
        .iter()
        .map(|p| {
            p.pact
                .interactions
                .iter()
                .filter(|i| options.filter.selects(&p.pact.consumer.name, i))
                .collect()
        })
        .collect();
    on_event(VerifyEvent::Started {
        total: selected.iter().map(Vec::len).sum(),
    });
    let mut results = Vec::new();
    for (source, interactions) in pacts.iter().zip(&selected) {
        let consumer = source.pact.consumer.name.as_str();
        let mut pact_result = PactResult {
            source: source.source.clone(),
            consumer: consumer.to_string(),
            provider: source.pact.provider.name.clone(),
            interactions: Vec::new(),
            filtered_out: source.pact.interactions.len() - interactions.len(),
        };
        for interaction in interactions {
            on_event(VerifyEvent::InteractionStarted {
                consumer,
                description: &interaction.description,
            });
            let result = verifier.verify_interaction(interaction).await;
            on_event(VerifyEvent::InteractionFinished {
                consumer,
                result: &result,
            });
            pact_result.interactions.push(result);
        }
        results.push(pact_result);
    }
    let summary = VerificationReport::summarize(&results);
    Ok(VerificationReport {
        provider_base_url: options.provider_base_url.clone(),
        started_at,
        duration: start.elapsed(),
        pacts: results,
        summary,
    })
}

/// Verifies one pact (see [`verify_pacts`]).
pub async fn verify_pact(
    pact: &Pact,
    options: &VerifyOptions,
) -> Result<VerificationReport, VerifyError> {
    let source = PactSource {
        source: format!("{} → {}", pact.consumer.name, pact.provider.name),
        pact: pact.clone(),
    };
    verify_pacts(std::slice::from_ref(&source), options, &|_| {}).await
}

struct Verifier<'a> {
    options: &'a VerifyOptions,
    client: reqwest::Client,
    base: reqwest::Url,
    state_change: Option<reqwest::Url>,
    message: reqwest::Url,
    custom: Vec<(HeaderName, HeaderValue)>,
}

/// What went wrong while checking one interaction (becomes its error).
struct Failure(String);

const MAX_BODY_IN_REPORT: usize = 4000;

impl<'a> Verifier<'a> {
    fn new(options: &'a VerifyOptions) -> Result<Self, VerifyError> {
        let parse = |what: &'static str, url: &str| -> Result<reqwest::Url, VerifyError> {
            let invalid = |message: String| VerifyError::InvalidUrl {
                what,
                url: url.to_string(),
                message,
            };
            let parsed = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid("only http and https are supported".into()));
            }
            Ok(parsed)
        };
        let base = parse("provider base URL", &options.provider_base_url)?;
        let state_change = options
            .state_change_url
            .as_deref()
            .map(|u| parse("state-change URL", u))
            .transpose()?;
        let message = match &options.message_url {
            Some(u) => parse("message URL", u)?,
            None => base.clone(),
        };
        let mut custom = Vec::new();
        for (name, value) in &options.headers {
            let invalid = |message: String| VerifyError::InvalidHeader {
                name: name.clone(),
                message,
            };
            let header_name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|e| invalid(e.to_string()))?;
            let mut header_value =
                HeaderValue::from_str(value.trim()).map_err(|e| invalid(e.to_string()))?;
            header_value.set_sensitive(true);
            custom.push((header_name, header_value));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(concat!("testmesh/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| VerifyError::Client(error_chain(&e)))?;
        Ok(Verifier {
            options,
            client,
            base,
            state_change,
            message,
            custom,
        })
    }

    async fn verify_interaction(&self, interaction: &Interaction) -> InteractionResult {
        let start = Instant::now();
        let mut result = InteractionResult {
            description: interaction.description.clone(),
            key: interaction.key.clone(),
            interaction_type: interaction.kind.type_name(),
            provider_states: interaction
                .provider_states
                .iter()
                .map(|s| s.name.clone())
                .collect(),
            pending: interaction.pending,
            outcome: Outcome::Passed,
            mismatches: Vec::new(),
            error: None,
            warnings: Vec::new(),
            request: None,
            response: None,
            duration: Duration::ZERO,
        };
        if let InteractionKind::SyncMessages { .. } = &interaction.kind {
            result.outcome = Outcome::Skipped;
            result.error = Some(
                "Synchronous/Messages interactions need a plugin transport; this verifier \
                 checks Synchronous/HTTP and Asynchronous/Messages interactions"
                    .into(),
            );
            result.duration = start.elapsed();
            return result;
        }
        let outcome = match self.change_states(interaction, "setup").await {
            Err(Failure(error)) => Err(error),
            Ok(values) => {
                let mut context: GeneratorContext = Map::new();
                for state in &interaction.provider_states {
                    context.extend(state.params.clone());
                }
                context.extend(values);
                let checked = match &interaction.kind {
                    InteractionKind::Http { request, response } => {
                        self.check_http(request, response, &context, &mut result)
                            .await
                    }
                    InteractionKind::AsyncMessage(expected) => {
                        self.check_message(interaction, expected, &mut result).await
                    }
                    InteractionKind::SyncMessages { .. } => Ok(Vec::new()),
                };
                let teardown = if self.options.state_change_teardown {
                    self.change_states(interaction, "teardown")
                        .await
                        .map(|_| ())
                } else {
                    Ok(())
                };
                match (checked, teardown) {
                    (Err(Failure(e)), _) => Err(e),
                    (Ok(mismatches), Err(Failure(e))) => {
                        result.mismatches = mismatches.iter().map(MismatchReport::from).collect();
                        Err(e)
                    }
                    (Ok(mismatches), Ok(())) => Ok(mismatches),
                }
            }
        };
        match outcome {
            Ok(mismatches) if mismatches.is_empty() => result.outcome = Outcome::Passed,
            Ok(mismatches) => {
                result.mismatches = mismatches.iter().map(MismatchReport::from).collect();
                result.outcome = Outcome::Failed;
            }
            Err(error) => {
                result.error = Some(error);
                result.outcome = Outcome::Error;
            }
        }
        if interaction.pending && result.outcome.is_failure() {
            result.outcome = Outcome::Pending;
        }
        result.duration = start.elapsed();
        result
    }

    /// Runs the state changes of one phase; returns the values the setup answers carried.
    async fn change_states(
        &self,
        interaction: &Interaction,
        action: &str,
    ) -> Result<Map<String, Value>, Failure> {
        let Some(url) = &self.state_change else {
            return Ok(Map::new());
        };
        let empty = [ProviderState::named("")];
        let states: &[ProviderState] = if interaction.provider_states.is_empty() {
            &empty
        } else {
            &interaction.provider_states
        };
        let mut values = Map::new();
        for state in states {
            let request = if self.options.state_change_as_query {
                let mut with_query = url.clone();
                {
                    let mut pairs = with_query.query_pairs_mut();
                    pairs.append_pair("state", &state.name);
                    pairs.append_pair("action", action);
                    for (k, v) in &state.params {
                        pairs.append_pair(k, &text_of(v));
                    }
                }
                self.client.post(with_query)
            } else {
                self.client
                    .post(url.clone())
                    .header("content-type", "application/json")
                    .body(
                        json!({"state": state.name, "params": state.params, "action": action})
                            .to_string(),
                    )
            };
            let what = if state.name.is_empty() {
                format!("provider state {action} (no state)")
            } else {
                format!("provider state '{}' {action}", state.name)
            };
            let response = request
                .send()
                .await
                .map_err(|e| Failure(format!("{what} failed: {}", error_chain(&e))))?;
            let status = response.status();
            let is_json = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .and_then(ContentType::parse)
                .is_some_and(|ct| ct.is_json());
            let bytes = response.bytes().await.unwrap_or_default();
            if !status.is_success() {
                return Err(Failure(format!(
                    "{what} failed: the state-change URL answered {}{}",
                    status.as_u16(),
                    excerpt(&bytes, 200)
                        .map(|b| format!(": {b}"))
                        .unwrap_or_default()
                )));
            }
            if is_json
                && action == "setup"
                && let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes)
            {
                values.extend(map);
            }
        }
        Ok(values)
    }

    async fn check_http(
        &self,
        request: &HttpRequest,
        expected: &HttpResponse,
        context: &GeneratorContext,
        result: &mut InteractionResult,
    ) -> Result<Vec<Mismatch>, Failure> {
        let generated = generate_request(request, context);
        result.warnings = generated.warnings;
        let request = generated.request;
        let url = self.url_for(&self.base, &request.path, &request.query);
        let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| Failure(format!("invalid request method '{}'", request.method)))?;
        let mut headers = HeaderMap::new();
        for (name, values) in &request.headers {
            if self
                .custom
                .iter()
                .any(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            {
                continue;
            }
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| Failure(format!("request header '{name}': {e}")))?;
            for value in values {
                let header_value = HeaderValue::from_str(value)
                    .map_err(|e| Failure(format!("request header '{name}': {e}")))?;
                headers.append(header_name.clone(), header_value);
            }
        }
        for (name, value) in &self.custom {
            headers.insert(name.clone(), value.clone());
        }
        let body = match &request.body {
            Body::Present { content, .. } => Some(content.clone()),
            Body::Null if request.content_type().is_some_and(|ct| ct.is_json()) => {
                Some(b"null".to_vec())
            }
            _ => None,
        };
        result.request = Some(SentRequest {
            method: method.to_string(),
            url: url.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    let shown = if v.is_sensitive() {
                        "****".to_string()
                    } else {
                        String::from_utf8_lossy(v.as_bytes()).to_string()
                    };
                    (k.to_string(), shown)
                })
                .collect(),
            body: body.as_deref().and_then(|b| excerpt(b, MAX_BODY_IN_REPORT)),
        });
        let mut builder = self.client.request(method, url).headers(headers);
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(|e| {
            Failure(format!(
                "request to the provider failed: {}",
                error_chain(&e)
            ))
        })?;
        let actual = self.read_response(response, result).await?;
        Ok(match_response(expected, &actual))
    }

    async fn read_response(
        &self,
        response: reqwest::Response,
        result: &mut InteractionResult,
    ) -> Result<HttpResponse, Failure> {
        let status = response.status().as_u16();
        let mut headers = Multimap::new();
        for (name, value) in response.headers() {
            let text = String::from_utf8_lossy(value.as_bytes()).to_string();
            headers
                .entry(name.as_str().to_string())
                .or_default()
                .extend(parse_header(name.as_str(), &text));
        }
        let bytes = response.bytes().await.map_err(|e| {
            Failure(format!(
                "reading the provider's response failed: {}",
                error_chain(&e)
            ))
        })?;
        result.response = Some(ReceivedResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), v.join(", ")))
                .collect(),
            body: excerpt(&bytes, MAX_BODY_IN_REPORT),
        });
        let content_type =
            header_value(&headers, "content-type").and_then(|h| ContentType::parse(&h));
        let body = if bytes.is_empty() {
            Body::Empty
        } else {
            Body::Present {
                content: bytes.to_vec(),
                content_type,
                content_type_hint: None,
            }
        };
        Ok(HttpResponse {
            status,
            headers,
            body,
            ..HttpResponse::default()
        })
    }

    async fn check_message(
        &self,
        interaction: &Interaction,
        expected: &MessageContents,
        result: &mut InteractionResult,
    ) -> Result<Vec<Mismatch>, Failure> {
        let mut ask = json!({"description": interaction.description});
        if !interaction.provider_states.is_empty() {
            ask["providerStates"] = Value::Array(
                interaction
                    .provider_states
                    .iter()
                    .map(|s| json!({"name": s.name, "params": s.params}))
                    .collect(),
            );
        }
        let text = ask.to_string();
        let mut request = self
            .client
            .post(self.message.clone())
            .header("content-type", "application/json");
        for (name, value) in &self.custom {
            request = request.header(name.clone(), value.clone());
        }
        result.request = Some(SentRequest {
            method: "POST".into(),
            url: self.message.to_string(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(text.clone()),
        });
        let response = request.body(text).send().await.map_err(|e| {
            Failure(format!(
                "asking the provider for the message failed: {}",
                error_chain(&e)
            ))
        })?;
        let actual = self.read_response(response, result).await?;
        if !(200..300).contains(&actual.status) {
            return Err(Failure(format!(
                "the provider answered {} when asked for the message (it should answer the \
                 message's contents to POST {{\"description\": …}})",
                actual.status
            )));
        }
        let mut metadata = Map::new();
        if let Some(ct) = header_value(&actual.headers, "content-type") {
            metadata.insert("contentType".into(), Value::String(ct));
        }
        if let Some(encoded) = header_value(&actual.headers, "pact-message-metadata")
            && let Ok(decoded) = BASE64.decode(encoded.trim())
            && let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&decoded)
        {
            metadata.extend(map);
        }
        let actual = MessageContents {
            contents: actual.body,
            metadata,
            ..MessageContents::default()
        };
        Ok(match_message(expected, &actual))
    }

    fn url_for(&self, base: &reqwest::Url, path: &str, query: &Multimap) -> reqwest::Url {
        let mut url = base.clone();
        // Joined as the reference joins them: `/base` + `/items` → `/base/items`, `/` alone
        // keeps the base as it is.
        let base_path = base.path();
        let joined = if !path.is_empty() && path != "/" {
            format!(
                "{}/{}",
                base_path.trim_end_matches('/'),
                path.trim_start_matches('/')
            )
        } else if !base_path.is_empty() && base_path != "/" {
            base_path.trim_end_matches('/').to_string()
        } else {
            "/".to_string()
        };
        url.set_path(&joined);
        if query.is_empty() {
            url.set_query(None);
        } else {
            let mut pairs = url.query_pairs_mut();
            pairs.clear();
            for (name, values) in query {
                for value in values {
                    pairs.append_pair(name, value);
                }
            }
        }
        url
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The body as text for reports, shortened; `None` when empty.
fn excerpt(bytes: &[u8], max: usize) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() <= max {
        Some(text.to_string())
    } else {
        let cut: String = text.chars().take(max).collect();
        Some(format!("{cut}… ({} bytes in all)", bytes.len()))
    }
}

/// An error with its causes, deduplicated (`error sending request: connection refused`).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        let text = current.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = current.source();
    }
    parts.join(": ")
}
