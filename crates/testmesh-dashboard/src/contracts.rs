//! Contract pages: the list (consumer, provider, version, interactions, last verification) with an
//! import form (paste a Pact file; errors name their JSON path or line), and each contract with
//! tabs for its interactions (request and response with matching rules), its verifications
//! (failures unfold) and the breaking changes against the previous version (computed on first
//! view), a form to verify it against a running provider, and the Pact V4 download.

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use testmesh_contract::{PactError, VerifyOptions, parse_pact, verify_pact};
use testmesh_store::{
    ContractFilter, ContractInfo, ContractSource, PactOrigin, VerificationFilter, VerificationInfo,
    find_interaction, interaction_summaries,
};

use crate::DashboardState;
use crate::pages::{PageError, PageResult, render, store_error};
use crate::session::Session;
use crate::views::{ago, pretty};

struct ContractRow {
    id: String,
    consumer: String,
    provider: String,
    version: String,
    interactions: i64,
    verification: String,
    verified_against: String,
}

fn verification_word(v: Option<&VerificationInfo>) -> (String, String) {
    match v {
        Some(v) => (v.status.as_str().to_string(), v.provider_version.clone()),
        None => ("unverified".to_string(), String::new()),
    }
}

fn row(c: &ContractInfo) -> ContractRow {
    let (verification, verified_against) = verification_word(c.last_verification.as_ref());
    ContractRow {
        id: c.id.clone(),
        consumer: c.consumer.clone(),
        provider: c.provider.clone(),
        version: c.version.clone(),
        interactions: c.interaction_count,
        verification,
        verified_against,
    }
}

#[derive(Template)]
#[template(path = "contracts.html")]
struct ContractsPage {
    nav: &'static str,
    key_name: String,
    contracts: Vec<ContractRow>,
    pact: String,
    version: String,
    error: Option<String>,
    error_at: Option<String>,
}

async fn list_page(
    state: &DashboardState,
    session: Session,
    form: ImportForm,
    error: Option<(String, Option<String>)>,
) -> PageResult {
    let page = state
        .store
        .list_contracts(
            &session.workspace_id,
            &ContractFilter {
                limit: Some(200),
                ..ContractFilter::default()
            },
        )
        .await
        .map_err(store_error)?;
    let (error, error_at) = match error {
        Some((e, at)) => (Some(e), at),
        None => (None, None),
    };
    render(&ContractsPage {
        nav: "contracts",
        key_name: session.key_name,
        contracts: page.items.iter().map(row).collect(),
        pact: form.pact,
        version: form.version,
        error,
        error_at,
    })
}

pub(crate) async fn list(State(state): State<DashboardState>, session: Session) -> PageResult {
    list_page(&state, session, ImportForm::default(), None).await
}

#[derive(Deserialize, Default)]
pub(crate) struct ImportForm {
    #[serde(default)]
    pact: String,
    #[serde(default)]
    version: String,
}

/// The message and the place of a pact error (`interactions[0].request.method`, `line 3:7`).
fn pact_error(error: &PactError) -> (String, Option<String>) {
    let at = match error {
        PactError::Syntax { line, column, .. } => format!("line {line}, column {column}"),
        PactError::Invalid { path, .. }
        | PactError::UnknownMatcher { path, .. }
        | PactError::InvalidRegex { path, .. }
        | PactError::InvalidFormat { path, .. } => path.clone(),
    };
    (format!("invalid pact: {error}"), Some(at))
}

pub(crate) async fn import(
    State(state): State<DashboardState>,
    session: Session,
    Form(form): Form<ImportForm>,
) -> PageResult {
    let pact = match parse_pact(&form.pact) {
        Ok(pact) => pact,
        Err(e) => {
            let error = pact_error(&e);
            let mut page = list_page(&state, session, form, Some(error)).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page);
        }
    };
    let declared = serde_json::from_str::<Value>(&form.pact)
        .ok()
        .and_then(|v| {
            v.pointer("/metadata/consumerVersion")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let version = Some(form.version.trim().to_string())
        .filter(|v| !v.is_empty())
        .or(declared)
        .unwrap_or_else(|| format!("imported-{}", Utc::now().timestamp()));
    let origin = PactOrigin {
        version,
        source: ContractSource::Imported,
        flow_id: None,
        execution_id: None,
    };
    match state
        .store
        .save_pact(&session.workspace_id, &pact, &origin)
        .await
    {
        Ok(contract) => {
            Ok(Redirect::to(&format!("/contracts/{}", contract.info.id)).into_response())
        }
        Err(testmesh_store::Error::Invalid { message, .. }) => {
            let mut page = list_page(&state, session, form, Some((message, None))).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(store_error(e)),
    }
}

struct InteractionView {
    id: String,
    method: String,
    path: String,
    status: String,
    kind: String,
    description: String,
    states: String,
    pending: bool,
    request: String,
    response: String,
}

struct VerificationView {
    status: String,
    provider_version: String,
    when: String,
    counts: String,
    failures: Vec<(String, Vec<String>)>,
}

struct ChangeView {
    severity: String,
    rule: String,
    interaction: String,
    location: String,
    message: String,
}

#[derive(Template)]
#[template(path = "contract.html")]
struct ContractPage {
    nav: &'static str,
    key_name: String,
    id: String,
    consumer: String,
    provider: String,
    version: String,
    spec_version: String,
    source: &'static str,
    verification: String,
    verified_against: String,
    tab: String,
    interactions: Vec<InteractionView>,
    verifications: Vec<VerificationView>,
    previous: Option<(String, String)>,
    changes: Vec<ChangeView>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct TabQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    error: String,
}

/// The failed interactions of a stored report, each with its mismatch lines.
fn failures(report: &Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for pact in report
        .get("pacts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for result in pact
            .get("interactions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let outcome = result.get("outcome").and_then(Value::as_str).unwrap_or("");
            if !matches!(outcome, "failed" | "error") {
                continue;
            }
            let mut lines: Vec<String> = result
                .get("mismatches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| m.get("text").and_then(Value::as_str).map(str::to_string))
                .collect();
            if let Some(error) = result.get("error").and_then(Value::as_str) {
                lines.push(error.to_string());
            }
            let description = result
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            out.push((format!("{description} ({outcome})"), lines));
        }
    }
    out
}

pub(crate) async fn show(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<TabQuery>,
) -> PageResult {
    let ws = &session.workspace_id;
    let contract = state
        .store
        .get_contract(ws, &id)
        .await
        .map_err(store_error)?;
    let tab = match query.tab.as_str() {
        "verifications" | "changes" => query.tab.clone(),
        _ => "interactions".to_string(),
    };
    let interactions = interaction_summaries(&contract.pact)
        .into_iter()
        .map(|s| {
            let full = find_interaction(&contract.pact, &s.id)
                .cloned()
                .unwrap_or_default();
            let part = |name: &str| full.get(name).map(pretty).unwrap_or_default();
            InteractionView {
                method: s.method.clone().unwrap_or_else(|| "—".into()),
                path: s.path.clone().unwrap_or_else(|| s.description.clone()),
                status: s.status.map(|v| v.to_string()).unwrap_or_default(),
                kind: s.interaction_type.clone(),
                states: s.provider_states.join(", "),
                pending: s.pending,
                request: if full.get("request").is_some() {
                    part("request")
                } else {
                    part("contents")
                },
                response: part("response"),
                description: s.description,
                id: s.id,
            }
        })
        .collect();
    let now = Utc::now();
    let mut verifications = Vec::new();
    let mut previous = None;
    let mut changes = Vec::new();
    let mut error = (!query.error.is_empty()).then(|| query.error.clone());
    if tab == "verifications" {
        let page = state
            .store
            .list_verifications(
                ws,
                &id,
                &VerificationFilter {
                    limit: Some(100),
                    ..VerificationFilter::default()
                },
            )
            .await
            .map_err(store_error)?;
        verifications = page
            .items
            .iter()
            .map(|v| VerificationView {
                status: v.info.status.as_str().to_string(),
                provider_version: v.info.provider_version.clone(),
                when: ago(v.info.verified_at, now),
                counts: format!(
                    "{} of {} passed{}",
                    v.info.passed,
                    v.info.total,
                    if v.info.errors > 0 {
                        format!(", {} not checked", v.info.errors)
                    } else {
                        String::new()
                    }
                ),
                failures: failures(&v.report),
            })
            .collect();
    }
    if tab == "changes"
        && let Some(prev) = state
            .store
            .previous_contract(ws, &contract.info)
            .await
            .map_err(store_error)?
    {
        let stored = state
            .store
            .contract_comparison(ws, &prev.id, &id)
            .await
            .map_err(store_error)?;
        let comparison = match stored {
            Some(c) => Some(c),
            None => match state.store.compare_contracts(ws, &prev.id, &id).await {
                Ok(c) => Some(c),
                Err(e) => {
                    error = Some(e.to_string());
                    None
                }
            },
        };
        changes = comparison
            .map(|c| {
                c.changes
                    .into_iter()
                    .map(|c| ChangeView {
                        location: if c.path.is_empty() {
                            c.part.clone()
                        } else {
                            format!("{} {}", c.part, c.path)
                        },
                        severity: c.severity,
                        rule: c.rule,
                        interaction: c.interaction,
                        message: c.message,
                    })
                    .collect()
            })
            .unwrap_or_default();
        previous = Some((prev.id, prev.version));
    }
    let (verification, verified_against) =
        verification_word(contract.info.last_verification.as_ref());
    render(&ContractPage {
        nav: "contracts",
        key_name: session.key_name,
        id: contract.info.id.clone(),
        consumer: contract.info.consumer.clone(),
        provider: contract.info.provider.clone(),
        version: contract.info.version.clone(),
        spec_version: contract.info.spec_version.clone(),
        source: contract.info.source.as_str(),
        verification,
        verified_against,
        tab,
        interactions,
        verifications,
        previous,
        changes,
        error,
    })
}

/// The Pact V4 file, as an attachment named `<consumer>-<provider>.json`.
pub(crate) async fn download(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let contract = state
        .store
        .get_contract(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    let text = serde_json::to_string_pretty(&contract.pact)
        .map_err(|e| PageError::Failed(e.to_string()))?;
    let name = format!(
        "attachment; filename=\"{}\"",
        testmesh_store::pact_file_name(&contract.info.consumer, &contract.info.provider)
    );
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&name) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct VerifyForm {
    provider_base_url: String,
    provider_version: String,
    #[serde(default)]
    state_change_url: String,
}

fn with_error(id: &str, message: &str) -> Response {
    let encoded: String = url_encode(message);
    Redirect::to(&format!(
        "/contracts/{id}?tab=verifications&error={encoded}"
    ))
    .into_response()
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Verifies the contract against a running provider (waiting for it) and stores the result.
pub(crate) async fn verify(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<VerifyForm>,
) -> Result<Response, PageError> {
    let ws = &session.workspace_id;
    let (_, pact) = state.store.load_pact(ws, &id).await.map_err(store_error)?;
    if form.provider_version.trim().is_empty() {
        return Ok(with_error(&id, "give the provider version"));
    }
    let mut options = VerifyOptions::new(form.provider_base_url.trim());
    options.state_change_url =
        Some(form.state_change_url.trim().to_string()).filter(|u| !u.is_empty());
    let report =
        match tokio::time::timeout(Duration::from_secs(600), verify_pact(&pact, &options)).await {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => return Ok(with_error(&id, &e.to_string())),
            Err(_) => {
                return Ok(with_error(
                    &id,
                    "the verification took longer than 10 minutes",
                ));
            }
        };
    state
        .store
        .record_verification_report(ws, &id, form.provider_version.trim(), &report, None)
        .await
        .map_err(store_error)?;
    Ok(Redirect::to(&format!("/contracts/{id}?tab=verifications")).into_response())
}
