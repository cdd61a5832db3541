//! Contracts: Pact files imported or generated, exported as genuine Pact V4, their interactions,
//! verifications (stored, and run against a provider on request), breaking changes between two
//! versions, and `can-i-deploy`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use testmesh_contract::{PactError, VerifyOptions, pact_from_json, parse_pact, verify_pact};
use testmesh_store::{
    ContractComparison, ContractFilter, ContractSource, PactOrigin, VerificationFilter,
    VerificationStatus, find_interaction, interaction_summaries,
};

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Id, Input, LIMIT, OFFSET, Param, ParamKind, PathParams, Query};

const LIST_QUERY: &[Param] = &[
    Param {
        name: "consumer",
        description: "only contracts of this consumer",
        kind: ParamKind::Text,
    },
    Param {
        name: "provider",
        description: "only contracts with this provider",
        kind: ParamKind::Text,
    },
    LIMIT,
    OFFSET,
];

const VERSIONS_QUERY: &[Param] = &[
    Param {
        name: "consumer",
        description: "the consumer (required)",
        kind: ParamKind::Text,
    },
    Param {
        name: "provider",
        description: "the provider (required)",
        kind: ParamKind::Text,
    },
];

const IMPORT_QUERY: &[Param] = &[Param {
    name: "version",
    description: "the consumer version; else the pact's `metadata.consumerVersion`, else `imported-<unix seconds>`",
    kind: ParamKind::Text,
}];

const VERIFICATION_STATUSES: &[&str] = &["passed", "failed", "error"];

const VERIFICATIONS_QUERY: &[Param] = &[
    Param {
        name: "status",
        description: "only verifications with this outcome",
        kind: ParamKind::Enum(VERIFICATION_STATUSES),
    },
    Param {
        name: "provider_version",
        description: "only verifications of this provider version",
        kind: ParamKind::Text,
    },
    LIMIT,
    OFFSET,
];

const DEPLOY_QUERY: &[Param] = &[
    Param {
        name: "pacticipant",
        description: "the consumer or provider to deploy (required)",
        kind: ParamKind::Text,
    },
    Param {
        name: "version",
        description: "its version (required)",
        kind: ParamKind::Text,
    },
    Param {
        name: "provider_version",
        description: "for a consumer: the provider version it will meet (default: the provider version that verified each contract last)",
        kind: ParamKind::Text,
    },
];

/// A pact to import: `{"pact_json": "<text>"}` or the pact object itself.
#[derive(Deserialize)]
#[serde(transparent)]
pub(super) struct ImportInput(Value);

impl Input for ImportInput {
    const SCHEMA: &'static str = "ContractImportInput";
}

/// Two contracts to compare.
#[derive(Deserialize)]
pub(super) struct CompareInput {
    old_contract_id: String,
    new_contract_id: String,
}

impl Input for CompareInput {
    const SCHEMA: &'static str = "ContractCompareInput";
}

/// Where the provider runs.
#[derive(Deserialize)]
pub(super) struct VerifyInput {
    provider_base_url: String,
    provider_version: String,
    state_change_url: Option<String>,
    timeout_seconds: Option<u64>,
}

impl Input for VerifyInput {
    const SCHEMA: &'static str = "ContractVerifyInput";
}

pub(super) fn endpoints() -> Vec<Endpoint> {
    const TAG: &str = "contracts";
    vec![
        Endpoint::get("/api/v1/contracts", "listContracts", list)
            .doc(TAG, "List contracts, newest first, each with its last verification")
            .query(LIST_QUERY)
            .ok(200, "ContractList"),
        Endpoint::get("/api/v1/contracts/versions", "listContractVersions", versions)
            .doc(TAG, "Every version of the contract between a consumer and a provider, newest first")
            .query(VERSIONS_QUERY)
            .ok(200, "ContractVersions")
            .error(400, "`consumer` or `provider` is missing"),
        Endpoint::post("/api/v1/contracts/import", "importContract", import)
            .doc(TAG, "Import a Pact file (V1–V4); it is stored as Pact V4")
            .describe("The body is `{\"pact_json\": \"<the file's text>\"}` or the pact object itself. Importing the same consumer, provider and version again replaces that contract (its verifications go when the content changed). A malformed pact answers 422 `invalid_pact` with the JSON path (or line and column) in `details`.")
            .query(IMPORT_QUERY)
            .json_body("ContractImportInput")
            .ok(201, "ContractDetail")
            .error(422, "the pact is malformed"),
        Endpoint::post("/api/v1/contracts/breaking-changes", "compareContracts", compare)
            .doc(TAG, "Compute, store and return the changes from one contract to another")
            .describe("Runs the breaking-change rules from the old contract to the new one and stores the result, replacing an earlier comparison of the same pair. Contracts between different parties answer 422.")
            .json_body("ContractCompareInput")
            .ok(200, "ContractChanges")
            .error(422, "an id names no contract, or the contracts are between different parties"),
        Endpoint::get("/api/v1/contracts/{id}", "getContract", get)
            .doc(TAG, "A contract with its interactions summarised")
            .ok(200, "ContractDetail"),
        Endpoint::delete("/api/v1/contracts/{id}", "deleteContract", delete)
            .doc(TAG, "Delete a contract with its verifications and changes")
            .no_content(),
        Endpoint::get("/api/v1/contracts/{id}/pact", "exportPact", export)
            .doc(TAG, "Download the contract as a Pact V4 file")
            .describe("`Content-Disposition: attachment; filename=\"<consumer>-<provider>.json\"`. The file is genuine Pact V4, readable by the Pact reference tools.")
            .ok(200, "PactFile"),
        Endpoint::get("/api/v1/contracts/{id}/interactions", "listContractInteractions", interactions)
            .doc(TAG, "A contract's interactions, in file order")
            .query(&[LIMIT, OFFSET])
            .ok(200, "ContractInteractionList"),
        Endpoint::get(
            "/api/v1/contracts/{id}/interactions/{interaction_id}",
            "getContractInteraction",
            interaction,
        )
        .doc(TAG, "One interaction, as written in the pact")
        .describe("`interaction_id` is the interaction's `key`, or its position (0-based).")
        .ok(200, "ContractInteraction"),
        Endpoint::get("/api/v1/contracts/{id}/verifications", "listContractVerifications", verifications)
            .doc(TAG, "A contract's verifications, newest first")
            .query(VERIFICATIONS_QUERY)
            .ok(200, "ContractVerificationList"),
        Endpoint::post("/api/v1/contracts/{id}/verify", "verifyContract", verify)
            .doc(TAG, "Verify the contract against a running provider and store the result")
            .describe("Replays every interaction against `provider_base_url` (provider states set up through `state_change_url`), waits for the result (at most `timeout_seconds` per request, 30 by default, and 10 minutes overall) and stores it as a verification of `provider_version`. A provider that does not answer gives a stored verification with status `error`.")
            .json_body("ContractVerifyInput")
            .ok(201, "ContractVerification")
            .error(422, "an unusable URL"),
        Endpoint::get("/api/v1/contracts/{id}/breaking-changes", "listContractChanges", changes)
            .doc(TAG, "Stored changes where this contract is the old or the new side")
            .ok(200, "ContractChangeList"),
        Endpoint::get("/api/v1/can-i-deploy", "canIDeploy", can_i_deploy)
            .doc(TAG, "Whether a pacticipant version can be deployed, from stored verifications")
            .describe("For a consumer version: every contract of it must have a passed verification (against `provider_version` when given, else the latest one). For a provider version: the latest contract of every consumer must have a passed verification against it. Unknown pacticipants are not deployable. Each reason names the contract and the verification that decided.")
            .query(DEPLOY_QUERY)
            .ok(200, "DeployVerdict")
            .error(400, "`pacticipant` or `version` is missing"),
    ]
}

fn required<'q>(query: &'q Query, name: &str) -> ApiResult<&'q str> {
    query.one(name)?.ok_or_else(|| {
        ApiError::bad_request("missing_parameter", format!("give the `{name}` parameter"))
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> ApiResult<Value> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(&e))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let filter = ContractFilter {
        consumer: query.one("consumer")?.map(str::to_string),
        provider: query.one("provider")?.map(str::to_string),
        limit: Some(limit),
        offset: Some(offset),
    };
    let page = state
        .store
        .list_contracts(caller.workspace(), &filter)
        .await?;
    Ok(Json(json!({
        "contracts": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let consumer = required(&query, "consumer")?;
    let provider = required(&query, "provider")?;
    let versions = state
        .store
        .contract_versions(caller.workspace(), consumer, provider)
        .await?;
    Ok(Json(json!({"versions": versions, "total": versions.len()})))
}

/// The 422 for a pact that does not read, with where.
fn pact_error(error: &PactError) -> ApiError {
    let details = match error {
        PactError::Syntax { line, column, .. } => json!({"line": line, "column": column}),
        PactError::Invalid { path, .. }
        | PactError::UnknownMatcher { path, .. }
        | PactError::InvalidRegex { path, .. }
        | PactError::InvalidFormat { path, .. } => json!({"path": path}),
    };
    ApiError::unprocessable("invalid_pact", format!("invalid pact: {error}")).with_details(details)
}

/// The consumer version of an import: the query's, the pact's `metadata.consumerVersion`, or
/// `imported-<unix seconds>`.
fn import_version(query: Option<&str>, root: &Value) -> String {
    query
        .map(str::to_string)
        .or_else(|| {
            root.pointer("/metadata/consumerVersion")
                .and_then(Value::as_str)
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("imported-{}", chrono::Utc::now().timestamp()))
}

async fn import(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
    Body(ImportInput(body)): Body<ImportInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (pact, root) = match body.get("pact_json") {
        Some(Value::String(text)) => {
            let pact = parse_pact(text).map_err(|e| pact_error(&e))?;
            (pact, serde_json::from_str(text).unwrap_or(Value::Null))
        }
        Some(_) => {
            return Err(ApiError::unprocessable(
                "invalid_pact",
                "`pact_json` must be the pact file's text (a string); send the pact object itself as the body instead",
            )
            .with_details(json!({"path": "pact_json"})));
        }
        None => (pact_from_json(&body).map_err(|e| pact_error(&e))?, body),
    };
    let origin = PactOrigin {
        version: import_version(query.one("version")?, &root),
        source: ContractSource::Imported,
        flow_id: None,
        execution_id: None,
    };
    let contract = state
        .store
        .save_pact(caller.workspace(), &pact, &origin)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(detail(&state, caller.workspace(), &contract.info.id).await?),
    ))
}

/// `{contract, interactions}`.
async fn detail(state: &AppState, workspace: &str, id: &str) -> ApiResult<Value> {
    let contract = state.store.get_contract(workspace, id).await?;
    let interactions = interaction_summaries(&contract.pact);
    Ok(json!({
        "contract": to_json(&contract.info)?,
        "interactions": interactions,
    }))
}

async fn get(State(state): State<AppState>, caller: Caller, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(detail(&state, caller.workspace(), &id).await?))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.store.delete_contract(caller.workspace(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn export(State(state): State<AppState>, caller: Caller, Id(id): Id) -> ApiResult<Response> {
    let contract = state.store.get_contract(caller.workspace(), &id).await?;
    let text = serde_json::to_string_pretty(&contract.pact).map_err(|e| ApiError::internal(&e))?;
    let disposition = format!(
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
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

async fn interactions(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let contract = state.store.get_contract(caller.workspace(), &id).await?;
    let all = interaction_summaries(&contract.pact);
    let total = all.len();
    let page: Vec<_> = all
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    Ok(Json(json!({
        "interactions": page,
        "total": total,
        "limit": limit,
        "offset": offset,
    })))
}

#[derive(Deserialize)]
struct InteractionPath {
    id: String,
    interaction_id: String,
}

async fn interaction(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<InteractionPath>,
) -> ApiResult<Json<Value>> {
    let id = crate::extract::parse_id(&path.id)?;
    let contract = state.store.get_contract(caller.workspace(), &id).await?;
    let summaries = interaction_summaries(&contract.pact);
    let found = find_interaction(&contract.pact, &path.interaction_id).ok_or_else(|| {
        ApiError::not_found(format!("interaction not found: {}", path.interaction_id))
    })?;
    let index = contract
        .pact
        .get("interactions")
        .and_then(Value::as_array)
        .and_then(|items| items.iter().position(|i| std::ptr::eq(i, found)))
        .unwrap_or_default();
    Ok(Json(json!({
        "summary": summaries.get(index),
        "interaction": found,
    })))
}

async fn verifications(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let filter = VerificationFilter {
        status: query
            .choice("status", VERIFICATION_STATUSES)?
            .and_then(VerificationStatus::parse),
        provider_version: query.one("provider_version")?.map(str::to_string),
        limit: Some(limit),
        offset: Some(offset),
    };
    let page = state
        .store
        .list_verifications(caller.workspace(), &id, &filter)
        .await?;
    Ok(Json(json!({
        "verifications": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

/// The longest a verification started through the API may take.
const VERIFY_DEADLINE: Duration = Duration::from_secs(600);

async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(input): Body<VerifyInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if input.provider_version.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "`provider_version` cannot be empty",
        ));
    }
    let (_, pact) = state.store.load_pact(caller.workspace(), &id).await?;
    let mut options = VerifyOptions::new(&input.provider_base_url);
    options.state_change_url = input.state_change_url.clone();
    options.timeout = Duration::from_secs(input.timeout_seconds.unwrap_or(30).clamp(1, 300));
    let report = match tokio::time::timeout(VERIFY_DEADLINE, verify_pact(&pact, &options)).await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            return Err(ApiError::unprocessable("invalid_body", e.to_string()));
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                "the verification took longer than 10 minutes; run `testmesh contract verify` instead",
            ));
        }
    };
    let stored = state
        .store
        .record_verification_report(
            caller.workspace(),
            &id,
            &input.provider_version,
            &report,
            None,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(&stored)?)))
}

/// `{changes, summary{breaking, warning, info, total}}` of a comparison.
pub(crate) fn comparison_json(comparison: &ContractComparison) -> Value {
    let count = |s: &str| {
        comparison
            .changes
            .iter()
            .filter(|c| c.severity == s)
            .count()
    };
    json!({
        "old_contract_id": comparison.old_contract_id,
        "new_contract_id": comparison.new_contract_id,
        "computed_at": comparison.computed_at,
        "changes": comparison.changes,
        "summary": {
            "breaking": count("breaking"),
            "warning": count("warning"),
            "info": count("info"),
            "total": comparison.changes.len(),
        },
    })
}

async fn compare(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<CompareInput>,
) -> ApiResult<Json<Value>> {
    let old = crate::extract::parse_id(&input.old_contract_id).map_err(|_| {
        ApiError::unprocessable(
            "unknown_reference",
            "`old_contract_id` is not a contract id",
        )
    })?;
    let new = crate::extract::parse_id(&input.new_contract_id).map_err(|_| {
        ApiError::unprocessable(
            "unknown_reference",
            "`new_contract_id` is not a contract id",
        )
    })?;
    let comparison = state
        .store
        .compare_contracts(caller.workspace(), &old, &new)
        .await
        .map_err(ApiError::reference)?;
    Ok(Json(comparison_json(&comparison)))
}

async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let changes = state
        .store
        .contract_changes(caller.workspace(), &id)
        .await?;
    Ok(Json(json!({"changes": changes, "total": changes.len()})))
}

async fn can_i_deploy(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let pacticipant = required(&query, "pacticipant")?;
    let version = required(&query, "version")?;
    let verdict = state
        .store
        .can_i_deploy(
            caller.workspace(),
            pacticipant,
            version,
            query.one("provider_version")?,
        )
        .await?;
    Ok(Json(to_json(&verdict)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_versions() {
        assert_eq!(import_version(Some("1.2"), &Value::Null), "1.2");
        assert_eq!(
            import_version(None, &json!({"metadata": {"consumerVersion": "9"}})),
            "9"
        );
        assert!(import_version(None, &json!({})).starts_with("imported-"));
    }
}
