//! The flow actions `contract_generate`, `contract_verify` and `verify_contract_interaction`, over a [`ContractRepository`].
//!
//! `contract_generate` builds a V4 pact ([`crate::build`]) from the exchanges of the running flow:
//!
//! - `from: requests` — every passed `http_request` step of the run (the executor records them for
//!   flows that have a `contract_generate` step), described by the step's name and `contract:`
//!   hints;
//! - `from: mocks` — the matched requests in the journals of the mocks this run started (a consumer
//!   application driven by the flow calls the mock; no hints);
//! - `from: auto` (default) — the run's `http_request` steps that went to a mock this run started;
//!   when none did, those mocks' matched journal entries; when the run started no mock, every
//!   `http_request` step (a consumer flow calling a real provider).
//!
//! Re-generating the same (consumer, provider, version) replaces the stored contract (keeping its
//! id) and says so in `note`. `contract_verify` replays a stored contract (`contract_id`) or a pact
//! file against `provider_base_url`; a failed verification fails the step (with the mismatches),
//! or, with `fail_on_mismatch: false`, is only a result (`status: failed`) for the flow to assert on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use testmesh_flow::model::actions::{ContractGenerateConfig, ContractSource};
use testmesh_flow::model::step::ContractHints;
use testmesh_flow::{Action, ActionKind};
use testmesh_runner::{
    ActionCx, ActionFuture, Handler, HttpExchangeLog, Outcome, RecordedExchange, Registry,
    StepError,
};

use crate::build::{Hints, Observed, ObservedRequest, ObservedResponse, pact_from_exchanges};
use crate::model::Pact;
use crate::repository::{ContractRepository, NewContract, NewVerification};
use crate::verify::{VerificationReport, VerifyOptions, failure_lines, verify_pact};

/// Registers `contract_generate`, `contract_verify` and `verify_contract_interaction`, keeping contracts in `repo`.
pub fn register(registry: &mut Registry, repo: Arc<dyn ContractRepository>) {
    registry.register(
        ActionKind::ContractGenerate,
        Generate { repo: repo.clone() },
    );
    registry.register(ActionKind::ContractVerify, Verify { repo: repo.clone() });
    registry.register(ActionKind::VerifyContractInteraction, Verify { repo });
}

fn resolve(base: &Path, file: &str) -> PathBuf {
    let path = Path::new(file);
    if path.is_absolute() || base.as_os_str().is_empty() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// Writes `text` to `path` through a temporary file in the same directory, so readers never see
/// half a pact.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pact.json".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// `contract_generate`.
struct Generate {
    repo: Arc<dyn ContractRepository>,
}

impl Handler for Generate {
    fn run<'a>(&'a self, action: &'a Action, cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::ContractGenerate(config) = action else {
                return Err(StepError::config(
                    "the contract_generate handler got another action",
                ));
            };
            self.generate(config, cx).await
        })
    }
}

impl Generate {
    async fn generate(
        &self,
        config: &ContractGenerateConfig,
        cx: &ActionCx,
    ) -> Result<Outcome, StepError> {
        let consumer = non_empty(&config.consumer, "consumer")?;
        let provider = non_empty(&config.provider, "provider")?;
        let version = config
            .version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(cx.execution_id.as_str());
        let from = config.from.unwrap_or(ContractSource::Auto);
        let collected = collect(from, cx)?;
        if collected.exchanges.is_empty() {
            return Err(StepError::action(format!(
                "no HTTP interactions found to build a contract from ({})",
                collected.why_empty
            )));
        }
        let pact = pact_from_exchanges(consumer, provider, &collected.exchanges)
            .map_err(|e| StepError::config(e.to_string()))?;
        let saved = self
            .repo
            .save_contract(NewContract {
                consumer,
                provider,
                version,
                pact: &pact,
                execution_id: Some(&cx.execution_id),
            })
            .await
            .map_err(|e| StepError::action(e.to_string()))?;
        let pact_json = pact.to_json();
        let mut result = Map::new();
        if let Some(file) = &config.output_file {
            let path = resolve(&cx.flow_dir, file);
            let text = serde_json::to_string_pretty(&pact_json).unwrap_or_default();
            write_atomically(&path, &text).map_err(|e| {
                StepError::action(format!("cannot write the pact to {}: {e}", path.display()))
            })?;
            result.insert("output_file".into(), json!(path.display().to_string()));
        }
        result.insert("contract_id".into(), json!(saved.id));
        result.insert("consumer".into(), json!(consumer));
        result.insert("provider".into(), json!(provider));
        result.insert("version".into(), json!(version));
        result.insert("interactions".into(), json!(pact.interactions.len()));
        result.insert("exchanges".into(), json!(collected.exchanges.len()));
        result.insert("source".into(), json!(collected.source));
        result.insert("status".into(), json!("generated"));
        result.insert("replaced".into(), json!(saved.replaced));
        if saved.replaced {
            result.insert(
                "note".into(),
                json!(format!(
                    "replaced the contract {consumer} → {provider} version {version}"
                )),
            );
        }
        if collected.skipped > 0 {
            result.insert("skipped".into(), json!(collected.skipped));
        }
        if config
            .export_json
            .as_ref()
            .and_then(|t| t.literal().copied())
            .unwrap_or(false)
        {
            result.insert("pact_json".into(), pact_json);
        }
        Ok(Outcome::of(Value::Object(result)))
    }
}

fn non_empty<'a>(value: &'a str, name: &str) -> Result<&'a str, StepError> {
    let value = value.trim();
    if value.is_empty() {
        Err(StepError::config(format!("`{name}` must not be empty")))
    } else {
        Ok(value)
    }
}

struct Collected {
    exchanges: Vec<Observed>,
    source: &'static str,
    skipped: usize,
    why_empty: String,
}

/// The exchanges `from` selects (see the module documentation).
fn collect(from: ContractSource, cx: &ActionCx) -> Result<Collected, StepError> {
    let mocks = testmesh_mock::actions::mocks_started_in(&cx.flow_state);
    let bases: Vec<String> = mocks
        .iter()
        .filter_map(|m| m.base_url().map(|b| b.trim_end_matches('/').to_string()))
        .collect();
    let recorded = cx
        .flow_state
        .get::<HttpExchangeLog>()
        .map(|log| log.entries())
        .unwrap_or_default();
    let mut skipped = 0;
    let mut from_requests = |only_mocks: bool| -> Vec<Observed> {
        recorded
            .iter()
            .filter_map(|r| {
                let url = r.request.get("url").and_then(Value::as_str).unwrap_or("");
                let base = bases.iter().find(|b| {
                    url.strip_prefix(b.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
                });
                if only_mocks && base.is_none() {
                    return None;
                }
                let observed = from_recorded(r, base.map(String::as_str));
                if observed.is_none() {
                    skipped += 1;
                }
                observed
            })
            .collect()
    };
    let from_journals = || -> Vec<Observed> {
        mocks
            .iter()
            .flat_map(|mock| {
                let name = mock.name().to_string();
                mock.journal()
                    .into_iter()
                    .filter(|e| e.matched() && !e.body_truncated && !e.response_body_truncated)
                    .enumerate()
                    .map(move |(i, e)| from_journal(&name, i, &e))
            })
            .collect()
    };
    let (exchanges, source) = match from {
        ContractSource::Requests => (from_requests(false), "requests"),
        ContractSource::Mocks => (from_journals(), "mocks"),
        ContractSource::Auto if mocks.is_empty() => (from_requests(false), "requests"),
        ContractSource::Auto => {
            let to_mocks = from_requests(true);
            if to_mocks.is_empty() {
                (from_journals(), "mocks")
            } else {
                (to_mocks, "requests")
            }
        }
    };
    let why_empty = match source {
        "mocks" if mocks.is_empty() => "this run started no mock server".to_string(),
        "mocks" => format!(
            "the journals of the {} mock(s) this run started hold no matched request",
            mocks.len()
        ),
        _ if recorded.is_empty() => {
            "no http_request step of this run has passed before this step".to_string()
        }
        _ => format!("{} recorded exchange(s) could not be used", recorded.len()),
    };
    Ok(Collected {
        exchanges,
        source,
        skipped,
        why_empty,
    })
}

fn pairs(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A JSON body as JSON; text that declares or looks like JSON parsed; empty as none.
fn body_value(value: Option<&Value>, headers: &[(String, String)]) -> Option<Value> {
    let is_json = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type") && v.to_ascii_lowercase().contains("json")
    });
    match value? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) if is_json => {
            Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())))
        }
        other => Some(other.clone()),
    }
}

/// An `http_request` step's records as an exchange (paths as sent); `None` when the response was
/// cut or binary.
pub fn observed_from_recorded(r: &RecordedExchange) -> Option<Observed> {
    from_recorded(r, None)
}

/// An `http_request` step's records as an exchange; `None` when the response was cut or binary.
fn from_recorded(r: &RecordedExchange, base: Option<&str>) -> Option<Observed> {
    if r.response.get("truncated").is_some() || r.response.get("body_encoding").is_some() {
        return None;
    }
    let url_text = r.request.get("url").and_then(Value::as_str)?;
    let url = url::Url::parse(url_text).ok()?;
    // Paths are relative to the mock (a mock mounted under a shared server has a base path).
    let base_path = base
        .and_then(|b| url::Url::parse(b).ok())
        .map(|b| b.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    let path = url
        .path()
        .strip_prefix(base_path.as_str())
        .unwrap_or(url.path());
    let request_headers = pairs(r.request.get("headers"));
    let response_headers = pairs(r.response.get("headers"));
    Some(Observed {
        source: format!("step `{}`", r.step_id),
        name: r.step_name.clone(),
        request: ObservedRequest {
            method: r
                .request
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_string(),
            path: if path.is_empty() { "/" } else { path }.to_string(),
            query: url.query_pairs().into_owned().collect(),
            body: body_value(r.request.get("body"), &request_headers),
            headers: request_headers,
        },
        response: ObservedResponse {
            status: r
                .response
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200),
            body: body_value(r.response.get("body"), &response_headers),
            headers: response_headers,
        },
        hints: r.hints.as_ref().map(hints).unwrap_or_default(),
    })
}

/// A step's `contract:` hints in the builder's terms (shapes were checked when the flow loaded).
fn hints(h: &ContractHints) -> Hints {
    let mut states: Vec<Value> = h.provider_state.iter().map(|s| json!(s)).collect();
    states.extend(h.provider_states.iter().cloned());
    Hints {
        description: h.description.clone(),
        provider_states: Hints::states_from_json(&states).unwrap_or_default(),
        matching_rules: h
            .matching_rules
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn from_journal(mock: &str, index: usize, e: &testmesh_mock::JournalEntry) -> Observed {
    let text_body = |text: &str, headers: &[(String, String)]| {
        if text.is_empty() {
            None
        } else {
            body_value(Some(&Value::String(text.to_string())), headers)
        }
    };
    Observed {
        source: format!("mock `{mock}` request {}", index + 1),
        name: None,
        request: ObservedRequest {
            method: e.method.clone(),
            path: e.path.clone(),
            query: e.query.clone(),
            body: text_body(&e.body, &e.headers),
            headers: e.headers.clone(),
        },
        response: ObservedResponse {
            status: e.status.unwrap_or(200),
            body: text_body(&e.response_body, &e.response_headers),
            headers: e.response_headers.clone(),
        },
        hints: Hints::default(),
    }
}

/// `contract_verify` and `verify_contract_interaction` (one interaction, chosen by description).
struct Verify {
    repo: Arc<dyn ContractRepository>,
}

/// What both verification actions say, in one shape.
struct VerifySettings<'a> {
    contract_id: Option<&'a str>,
    pact_file: Option<&'a str>,
    provider_base_url: &'a str,
    provider_version: Option<&'a str>,
    state_setup_url: Option<&'a str>,
    headers: &'a indexmap::IndexMap<String, Value>,
    fail_on_mismatch: bool,
    previous_contract_id: Option<&'a str>,
    /// Only this interaction (`verify_contract_interaction`).
    interaction: Option<&'a str>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn flag(value: &Option<testmesh_flow::decode::Tpl<bool>>) -> bool {
    value
        .as_ref()
        .and_then(|t| t.literal().copied())
        .unwrap_or(true)
}

impl Handler for Verify {
    fn run<'a>(&'a self, action: &'a Action, cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let settings = match action {
                Action::ContractVerify(c) => VerifySettings {
                    contract_id: given(&c.contract_id),
                    pact_file: given(&c.pact_file),
                    provider_base_url: c.provider_base_url.trim(),
                    provider_version: given(&c.provider_version),
                    state_setup_url: given(&c.state_setup_url),
                    headers: &c.headers,
                    fail_on_mismatch: flag(&c.fail_on_mismatch),
                    previous_contract_id: given(&c.previous_contract_id),
                    interaction: None,
                },
                Action::VerifyContractInteraction(c) => VerifySettings {
                    contract_id: given(&c.contract_id),
                    pact_file: given(&c.pact_file),
                    provider_base_url: c.provider_base_url.trim(),
                    provider_version: given(&c.provider_version),
                    state_setup_url: given(&c.state_setup_url),
                    headers: &c.headers,
                    fail_on_mismatch: flag(&c.fail_on_mismatch),
                    previous_contract_id: None,
                    interaction: Some(c.interaction.as_str()),
                },
                _ => {
                    return Err(StepError::config(
                        "the contract verification handler got another action",
                    ));
                }
            };
            self.verify(&settings, action.kind().name(), cx).await
        })
    }
}

impl Verify {
    async fn load(
        &self,
        settings: &VerifySettings<'_>,
        action: &str,
        cx: &ActionCx,
    ) -> Result<Pact, StepError> {
        if let Some(id) = settings.contract_id {
            return self
                .repo
                .load_contract(id)
                .await
                .map_err(|e| StepError::action(e.to_string()));
        }
        let Some(file) = settings.pact_file else {
            return Err(StepError::config(format!(
                "{action} needs `contract_id` or `pact_file`"
            )));
        };
        let path = resolve(&cx.flow_dir, file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| StepError::config(format!("cannot read {}: {e}", path.display())))?;
        crate::parse_pact(&text).map_err(|e| StepError::config(format!("{}: {e}", path.display())))
    }

    async fn verify(
        &self,
        settings: &VerifySettings<'_>,
        action: &str,
        cx: &ActionCx,
    ) -> Result<Outcome, StepError> {
        let mut pact = self.load(settings, action, cx).await?;
        if let Some(description) = settings.interaction {
            pact.interactions = interactions_described(&pact, description)?;
        }
        let mut options = VerifyOptions::new(settings.provider_base_url);
        options.state_change_url = settings.state_setup_url.map(str::to_string);
        options.headers = pairs(Some(&Value::Object(
            settings
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )));
        if let Some(limit) = cx.timeout {
            options.timeout = options.timeout.min(limit);
        }
        let report = verify_pact(&pact, &options)
            .await
            .map_err(|e| StepError::config(e.to_string()))?;
        let provider_version = settings.provider_version.unwrap_or("unknown");
        let verification_id = self
            .repo
            .save_verification(NewVerification {
                // One interaction does not verify the contract: only whole verifications are
                // stored against it, so `can-i-deploy` never rests on part of a contract.
                contract_id: settings
                    .contract_id
                    .filter(|_| settings.interaction.is_none()),
                provider_version,
                report: &report,
                execution_id: Some(&cx.execution_id),
            })
            .await
            .map_err(|e| StepError::action(e.to_string()))?;
        let mut result = verification_result(&report);
        result.insert("verification_id".into(), json!(verification_id));
        result.insert("contract_id".into(), json!(settings.contract_id));
        result.insert("provider_version".into(), json!(provider_version));
        if let Some(old_id) = settings.previous_contract_id {
            let old = self
                .repo
                .load_contract(old_id)
                .await
                .map_err(|e| StepError::action(e.to_string()))?;
            let diff =
                crate::diff_pacts(&old, &pact).map_err(|e| StepError::action(e.to_string()))?;
            if !diff.changes.is_empty() {
                result.insert(
                    "breaking_changes".into(),
                    json!({
                        "total": diff.changes.len(),
                        "breaking": diff.summary.breaking,
                        "warning": diff.summary.warning,
                        "info": diff.summary.info,
                    }),
                );
            }
        }
        if settings.fail_on_mismatch && report.failed() {
            let mut message = result["summary"].as_str().unwrap_or_default().to_string();
            for (_, r) in report
                .results()
                .filter(|(_, r)| r.outcome.is_failure())
                .take(5)
            {
                message.push_str(&format!("\n  {}:", r.description));
                for line in failure_lines(r).iter().take(5) {
                    message.push_str(&format!("\n    {line}"));
                }
            }
            return Err(StepError::action(message));
        }
        Ok(Outcome::of(Value::Object(result)))
    }
}

/// The interactions of `pact` described exactly as `description` (several when the same
/// description comes with different provider states), or an error with a "did you mean" hint
/// and the descriptions there are.
fn interactions_described(
    pact: &Pact,
    description: &str,
) -> Result<Vec<crate::model::Interaction>, StepError> {
    let found: Vec<_> = pact
        .interactions
        .iter()
        .filter(|i| i.description == description)
        .cloned()
        .collect();
    if !found.is_empty() {
        return Ok(found);
    }
    let known: Vec<&str> = pact
        .interactions
        .iter()
        .map(|i| i.description.as_str())
        .collect();
    if known.is_empty() {
        return Err(StepError::config(format!(
            "the contract has no interactions, so none is described as '{description}'"
        )));
    }
    let hint = testmesh_flow::diagnostic::did_you_mean(description, known.iter().copied())
        .map(|d| format!(" (did you mean '{d}'?)"))
        .unwrap_or_default();
    let list = known
        .iter()
        .take(10)
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let more = if known.len() > 10 { ", …" } else { "" };
    Err(StepError::config(format!(
        "no interaction of the contract is described as '{description}'{hint}; it has {list}{more}"
    )))
}

/// The result fields of a verification: status, counts, summary and every mismatch.
fn verification_result(report: &VerificationReport) -> Map<String, Value> {
    let total = report.summary.total;
    let failed = report
        .results()
        .filter(|(_, r)| r.outcome.is_failure() && !r.pending)
        .count();
    let passed = total.saturating_sub(failed);
    let summary = if failed == 0 {
        format!("All {total} interactions passed")
    } else {
        format!("{failed} of {total} interactions failed")
    };
    let mut mismatches = Vec::new();
    let mut interactions = Vec::new();
    for (_, r) in report.results() {
        for m in &r.mismatches {
            mismatches.push(json!({
                "interaction": r.description,
                "type": m.kind,
                "path": m.path,
                "message": m.message,
                "text": m.text,
            }));
        }
        if let Some(error) = &r.error {
            mismatches.push(json!({
                "interaction": r.description,
                "type": "request",
                "path": "",
                "message": error,
                "text": error,
            }));
        }
        interactions.push(json!({
            "description": r.description,
            "status": r.outcome.as_str(),
            "pending": r.pending,
        }));
    }
    let mut out = Map::new();
    out.insert(
        "status".into(),
        json!(if report.failed() { "failed" } else { "passed" }),
    );
    out.insert("total_interactions".into(), json!(total));
    out.insert("passed_interactions".into(), json!(passed));
    out.insert("failed_interactions".into(), json!(failed));
    out.insert("summary".into(), json!(summary));
    out.insert("mismatches".into(), Value::Array(mismatches));
    out.insert("interactions".into(), Value::Array(interactions));
    out
}
