//! Imports and coverage (the original's `/api/v1/ai` routes, without a model): OpenAPI documents,
//! Postman collections, Pact files and HAR files become flows — previewed, or saved exactly as
//! `POST /api/v1/flows` saves a flow — and every import is recorded, failed ones too; an OpenAPI
//! document's coverage by the workspace's stored flows (and, on request, by the HTTP calls their
//! recorded runs made) is analysed and stored with its HTML page.
//!
//! Inputs may be larger than the API's usual body limit (up to 16 MiB of input); importers and the
//! analysis run on the blocking pool.

use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use testmesh_dashboard::ai::{
    self as work, CoverageFailure, CoverageRequest, ImportInput, ImportOptions, MAX_IMPORT_BYTES,
};
use testmesh_import::{ImportError, SourceKind};
use testmesh_store::{AiStatus, CoverageFilter, CoverageRecord, ImportFilter, ImportSource};

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, Input, LIMIT, OFFSET, Param, ParamKind, Query, json_body, parse_id};

/// The largest request body of an import or an analysis: the input, JSON-escaped, and the rest.
const MAX_BODY_BYTES: usize = 2 * MAX_IMPORT_BYTES;

/// At most this many flow ids in one analysis.
const MAX_FLOW_IDS: usize = 1000;

const SOURCE_TYPES: &[&str] = &["openapi", "postman", "pact", "har"];
const STATUSES: &[&str] = &["completed", "failed"];

const HISTORY_QUERY: &[Param] = &[
    Param {
        name: "source_type",
        description: "only imports of this kind",
        kind: ParamKind::Enum(SOURCE_TYPES),
    },
    Param {
        name: "status",
        description: "only imports that ended so",
        kind: ParamKind::Enum(STATUSES),
    },
    LIMIT,
    OFFSET,
];

const COVERAGE_QUERY: &[Param] = &[
    Param {
        name: "status",
        description: "only analyses that ended so",
        kind: ParamKind::Enum(STATUSES),
    },
    LIMIT,
    OFFSET,
];

const FORMAT_QUERY: &[Param] = &[Param {
    name: "format",
    description: "`json` (default): the analysis as JSON; `html`: its self-contained HTML page",
    kind: ParamKind::Enum(&["json", "html"]),
}];

/// What to import: the input (as `content`, or under the original's name for the format), how
/// to translate it, and whether to save the flows.
#[derive(Deserialize)]
pub(super) struct ImportBody {
    content: Option<Value>,
    spec: Option<Value>,
    collection: Option<Value>,
    contract: Option<Value>,
    har: Option<Value>,
    source_name: Option<String>,
    #[serde(default)]
    options: ImportOptions,
    #[serde(default)]
    create_flows: bool,
    suite: Option<String>,
    collection_id: Option<String>,
    /// The original asked a model; these are accepted and ignored.
    #[serde(rename = "provider")]
    _provider: Option<String>,
    #[serde(rename = "model")]
    _model: Option<String>,
}

impl Input for ImportBody {
    const SCHEMA: &'static str = "AiImportInput";
}

/// What to analyse.
#[derive(Deserialize)]
pub(super) struct CoverageBody {
    spec: Value,
    spec_name: Option<String>,
    base_url: Option<String>,
    #[serde(default)]
    flow_ids: Vec<String>,
    suite: Option<String>,
    #[serde(default)]
    from_history: bool,
    since: Option<DateTime<Utc>>,
}

impl Input for CoverageBody {
    const SCHEMA: &'static str = "AiCoverageInput";
}

/// A JSON body of up to [`MAX_BODY_BYTES`], parsed and checked against its schema on the blocking
/// pool (an input of megabytes is CPU work).
pub(super) struct LargeBody<T>(T);

impl<T: Input + Send + 'static> FromRequest<AppState> for LargeBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        if !crate::extract::is_json(req.headers()) {
            return Err(crate::extract::unsupported_media_type("application/json"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!(
                        "the request body is larger than {MAX_BODY_BYTES} bytes; imports and analyses read at most {MAX_IMPORT_BYTES} bytes of input"
                    ),
                )
            } else {
                ApiError::bad_request("unreadable_body", format!("cannot read the body: {e}"))
            }
        })?;
        let state = state.clone();
        tokio::task::spawn_blocking(move || json_body::<T>(&bytes, &state))
            .await
            .map_err(|e| ApiError::internal(&e))?
            .map(LargeBody)
    }
}

/// An endpoint that takes a large body.
fn large(mut endpoint: Endpoint) -> Endpoint {
    endpoint.handler = endpoint
        .handler
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    endpoint
}

pub(super) fn endpoints() -> Vec<Endpoint> {
    const TAG: &str = "ai";
    let import = |path: &'static str,
                  id: &'static str,
                  handler: axum::routing::MethodRouter<AppState>,
                  summary: &'static str,
                  description: &'static str| {
        large(
            Endpoint::new(axum::http::Method::POST, path, id, handler)
                .doc(TAG, summary)
                .describe(description)
                .json_body("AiImportInput")
                .ok(200, "AiImport")
                .error(400, "the input cannot be read (`invalid_input`): `details` names the file, line, column and JSON pointer")
                .error(413, "the body or the input is too large")
                .error(422, "an unknown option, an option of another format, or an unknown `collection_id`"),
        )
    };
    vec![
        import(
            "/api/v1/ai/import/openapi",
            "importOpenApi",
            axum::routing::post(import_openapi),
            "Turn an OpenAPI document into flows",
            "The document (OpenAPI 3.0/3.1 or Swagger 2.0, JSON or YAML) is `content` — text, or the document itself as JSON — or `spec` as the original named it. `options`: `group_by` (`operation`, default, or `tag`), `negative`, `crud`. Without `create_flows` the flows are only returned (a preview); with it each is saved as `POST /api/v1/flows` saves a flow, in `suite` and `collection_id` when given. Every import is recorded in the import history, failed ones too.",
        ),
        import(
            "/api/v1/ai/import/postman",
            "importPostman",
            axum::routing::post(import_postman),
            "Turn a Postman collection into flows",
            "The collection (v2.0 or v2.1) is `content` or `collection`. Scripts and auth types that cannot be translated are listed in `untranslated`. `create_flows`, `suite` and `collection_id` as for OpenAPI.",
        ),
        import(
            "/api/v1/ai/import/pact",
            "importPact",
            axum::routing::post(import_pact),
            "Turn a Pact file into flows",
            "The pact (V2–V4) is `content` or `contract`. `create_flows`, `suite` and `collection_id` as for OpenAPI.",
        ),
        import(
            "/api/v1/ai/import/har",
            "importHar",
            axum::routing::post(import_har),
            "Turn a HAR recording into a flow",
            "The HTTP Archive (1.2) is `content` or `har`. `options`: `keep_static` (keep scripts, styles, images and fonts), `include_hosts` (only these hosts). `create_flows`, `suite` and `collection_id` as for OpenAPI.",
        ),
        Endpoint::get("/api/v1/ai/import-history", "listImports", list_imports)
            .doc(TAG, "The import history, newest first")
            .describe("Without the inputs (`source_content` is null; `source_stored` says whether the input is kept).")
            .query(HISTORY_QUERY)
            .ok(200, "ImportHistoryList"),
        Endpoint::get("/api/v1/ai/import-history/{id}", "getImport", get_import)
            .doc(TAG, "One import, with its input when it was kept (inputs over 5 MiB are recorded by size and SHA-256 only)")
            .ok(200, "ImportRecord"),
        Endpoint::delete("/api/v1/ai/import-history/{id}", "deleteImport", delete_import)
            .doc(TAG, "Delete an import's record (the flows saved from it stay)")
            .no_content(),
        large(
            Endpoint::post("/api/v1/ai/coverage/analyze", "analyzeCoverage", analyze)
                .doc(TAG, "Analyse an OpenAPI document's coverage by the workspace's flows")
                .describe("Matches the document's operations against the `http_request` steps of the workspace's stored flows (all, `flow_ids`, or a `suite`'s) and, with `from_history`, the HTTP calls recorded by their stored executions (`since` a time, the newest 50,000). `base_url` is stripped from URLs before matching. The analysis is stored (a document that cannot be read is stored as failed and answers 400).")
                .json_body("AiCoverageInput")
                .ok(201, "AiCoverage")
                .error(400, "the document cannot be read (`invalid_spec`): `details` names the file, line, column and JSON pointer")
                .error(413, "the body or the document is too large")
                .error(422, "an unknown flow id, or both `flow_ids` and `suite`"),
        ),
        Endpoint::get("/api/v1/ai/coverage", "listCoverageAnalyses", list_coverage)
            .doc(TAG, "Coverage analyses, newest first")
            .describe("Without specs and results; `GET /api/v1/ai/coverage/{id}` has them.")
            .query(COVERAGE_QUERY)
            .ok(200, "CoverageAnalysisList"),
        Endpoint::get("/api/v1/ai/coverage/{id}", "getCoverageAnalysis", get_coverage)
            .doc(TAG, "One coverage analysis with its results")
            .describe("`?format=html` answers its self-contained HTML page (`text/html`) instead; an analysis that failed has none (`409 no_report`).")
            .query(FORMAT_QUERY)
            .ok(200, "CoverageAnalysis")
            .error(409, "`format=html` for an analysis that failed"),
        Endpoint::delete("/api/v1/ai/coverage/{id}", "deleteCoverageAnalysis", delete_coverage)
            .doc(TAG, "Delete a coverage analysis")
            .no_content(),
        Endpoint::get("/api/v1/ai/coverage-analysis", "listCoverageAnalysesAlias", list_coverage)
            .doc(TAG, "The original's name for `GET /api/v1/ai/coverage`")
            .query(COVERAGE_QUERY)
            .ok(200, "CoverageAnalysisList"),
        Endpoint::get("/api/v1/ai/coverage-analysis/{id}", "getCoverageAnalysisAlias", get_coverage)
            .doc(TAG, "The original's name for `GET /api/v1/ai/coverage/{id}`")
            .query(FORMAT_QUERY)
            .ok(200, "CoverageAnalysis")
            .error(409, "`format=html` for an analysis that failed"),
    ]
}

async fn import_openapi(
    state: State<AppState>,
    caller: Caller,
    body: LargeBody<ImportBody>,
) -> ApiResult<Json<Value>> {
    import(SourceKind::OpenApi, state, caller, body).await
}

async fn import_postman(
    state: State<AppState>,
    caller: Caller,
    body: LargeBody<ImportBody>,
) -> ApiResult<Json<Value>> {
    import(SourceKind::Postman, state, caller, body).await
}

async fn import_pact(
    state: State<AppState>,
    caller: Caller,
    body: LargeBody<ImportBody>,
) -> ApiResult<Json<Value>> {
    import(SourceKind::Pact, state, caller, body).await
}

async fn import_har(
    state: State<AppState>,
    caller: Caller,
    body: LargeBody<ImportBody>,
) -> ApiResult<Json<Value>> {
    import(SourceKind::Har, state, caller, body).await
}

/// The original's name for the input of each format.
fn original_field(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::OpenApi => "spec",
        SourceKind::Postman => "collection",
        SourceKind::Pact => "contract",
        SourceKind::Har => "har",
    }
}

/// The input's text: `content`, or the original's field of the format; a JSON value is written out
/// (indented, so errors have useful lines).
fn input_text(kind: SourceKind, body: &mut ImportBody) -> ApiResult<String> {
    let own = original_field(kind);
    let given: Vec<(&str, Value)> = [
        ("content", body.content.take()),
        ("spec", body.spec.take()),
        ("collection", body.collection.take()),
        ("contract", body.contract.take()),
        ("har", body.har.take()),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect();
    if let Some((name, _)) = given
        .iter()
        .find(|(name, _)| *name != "content" && *name != own)
    {
        return Err(ApiError::unprocessable(
            "invalid_body",
            format!(
                "`{name}` is not the input of {} imports: send the input as `content` (or `{own}`)",
                kind.as_str()
            ),
        ));
    }
    let mut given = given.into_iter();
    let (Some((_, value)), None) = (given.next(), given.next()) else {
        return Err(ApiError::unprocessable(
            "invalid_body",
            format!("send the input once, as `content` (or `{own}`)"),
        ));
    };
    match value {
        Value::String(text) => Ok(text),
        other => serde_json::to_string_pretty(&other).map_err(|e| ApiError::internal(&e)),
    }
}

/// The 400 (413 for a too large input) of an input that cannot be imported or analysed.
fn input_error(code: &'static str, error: &ImportError, record_key: &str, id: &str) -> ApiError {
    let mut details = work::error_location(error);
    details[record_key] = json!(id);
    let status = match error {
        ImportError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "input_too_large"
    } else {
        code
    };
    ApiError::new(status, code, error.to_string()).with_details(details)
}

async fn import(
    kind: SourceKind,
    State(state): State<AppState>,
    caller: Caller,
    LargeBody(mut body): LargeBody<ImportBody>,
) -> ApiResult<Json<Value>> {
    body.options
        .check(kind)
        .map_err(|message| ApiError::unprocessable("invalid_body", message))?;
    let text = input_text(kind, &mut body)?;
    let workspace = caller.workspace();
    let collection_id = match body.collection_id.as_deref() {
        Some(raw) => {
            let id = parse_id(raw).map_err(|_| {
                ApiError::unprocessable("unknown_reference", format!("collection not found: {raw}"))
            })?;
            state
                .store
                .get_collection(workspace, &id)
                .await
                .map_err(ApiError::reference)?;
            Some(id)
        }
        None => None,
    };
    let suite = body
        .suite
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let run = ImportInput {
        kind,
        source_name: body
            .source_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(kind.as_str())
            .to_string(),
        text,
        options: body.options,
    };
    let imported = run.run().await;
    let import = match imported {
        Ok(import) => import,
        Err(error) => {
            let record =
                work::record_import(&state.store, workspace, &run, Err(&error), None).await?;
            return Err(input_error(
                "invalid_input",
                &error,
                "history_id",
                &record.id,
            ));
        }
    };
    let saved = if body.create_flows {
        let all: Vec<_> = import.flows.iter().collect();
        Some(
            work::save_flows(
                &state.store,
                workspace,
                &all,
                suite,
                collection_id.as_deref(),
            )
            .await
            .map_err(ApiError::reference)?,
        )
    } else {
        None
    };
    let record =
        work::record_import(&state.store, workspace, &run, Ok(&import), saved.as_ref()).await?;
    let flow_id = |file_name: &str| {
        saved.as_ref().and_then(|s| {
            s.created
                .iter()
                .find(|c| c.file_name == file_name)
                .map(|c| c.flow.flow.id.clone())
        })
    };
    let flows: Vec<Value> = import
        .flows
        .iter()
        .map(|f| {
            json!({
                "file_name": f.file_name,
                "name": f.name,
                "origin": f.origin,
                "steps": f.steps,
                "yaml": f.yaml,
                "flow_id": flow_id(&f.file_name),
            })
        })
        .collect();
    let summary = import.to_json();
    Ok(Json(json!({
        "history_id": record.id,
        "source_type": kind.as_str(),
        "title": import.title,
        "flows": flows,
        "skipped": summary["skipped"],
        "untranslated": summary["untranslated"],
        "created": saved.as_ref().map_or(0, |s| s.created.len()),
        "errors": saved.as_ref().map(|s| s.errors.clone()).unwrap_or_default(),
    })))
}

async fn list_imports(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let filter = ImportFilter {
        source_type: query
            .choice("source_type", SOURCE_TYPES)?
            .and_then(ImportSource::parse),
        status: query.choice("status", STATUSES)?.and_then(AiStatus::parse),
        limit: Some(limit),
        offset: Some(offset),
    };
    let page = state
        .store
        .list_imports(caller.workspace(), &filter)
        .await?;
    Ok(Json(json!({
        "imports": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

async fn get_import(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let record = state.store.get_import(caller.workspace(), &id).await?;
    Ok(Json(
        serde_json::to_value(record).map_err(|e| ApiError::internal(&e))?,
    ))
}

async fn delete_import(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.store.delete_import(caller.workspace(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A stored analysis as the API shows it: the row and where its HTML page is.
fn shown(record: &CoverageRecord) -> ApiResult<Value> {
    let mut value = serde_json::to_value(record).map_err(|e| ApiError::internal(&e))?;
    value["html_url"] = json!(
        record
            .has_html
            .then(|| format!("/api/v1/ai/coverage/{}?format=html", record.id))
    );
    Ok(value)
}

async fn analyze(
    State(state): State<AppState>,
    caller: Caller,
    LargeBody(body): LargeBody<CoverageBody>,
) -> ApiResult<Response> {
    if !body.flow_ids.is_empty() && body.suite.is_some() {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "give `flow_ids` or `suite`, not both",
        ));
    }
    if body.flow_ids.len() > MAX_FLOW_IDS {
        return Err(ApiError::unprocessable(
            "invalid_body",
            format!("give at most {MAX_FLOW_IDS} `flow_ids`"),
        ));
    }
    let mut flow_ids = Vec::with_capacity(body.flow_ids.len());
    for raw in &body.flow_ids {
        flow_ids.push(parse_id(raw).map_err(|_| {
            ApiError::unprocessable("unknown_reference", format!("flow not found: {raw}"))
        })?);
    }
    let spec = match body.spec {
        Value::String(text) => text,
        other => serde_json::to_string_pretty(&other).map_err(|e| ApiError::internal(&e))?,
    };
    let request = CoverageRequest {
        spec,
        spec_name: body.spec_name,
        base_url: body.base_url.filter(|u| !u.trim().is_empty()),
        flow_ids,
        suite: body.suite.filter(|s| !s.trim().is_empty()),
        from_history: body.from_history,
        since: body.since,
    };
    match work::analyze_coverage(&state.store, caller.workspace(), request).await {
        Ok(outcome) => {
            let mut value = outcome.coverage.to_json();
            let record = &outcome.record;
            let read = record
                .results
                .as_ref()
                .and_then(|r| r.get("read"))
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(map) = value.as_object_mut() {
                map.insert("id".into(), json!(record.id));
                map.insert("spec_name".into(), json!(record.spec_name));
                map.insert("read".into(), read);
                map.insert(
                    "html_url".into(),
                    json!(format!("/api/v1/ai/coverage/{}?format=html", record.id)),
                );
                map.insert("created_at".into(), json!(record.created_at));
            }
            let mut response = (StatusCode::CREATED, Json(value)).into_response();
            if let Ok(location) =
                HeaderValue::from_str(&format!("/api/v1/ai/coverage/{}", record.id))
            {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Err(CoverageFailure::Spec { error, record }) => Err(input_error(
            "invalid_spec",
            &error,
            "analysis_id",
            &record.id,
        )),
        Err(CoverageFailure::Store(e)) => Err(ApiError::reference(e)),
    }
}

async fn list_coverage(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let filter = CoverageFilter {
        status: query.choice("status", STATUSES)?.and_then(AiStatus::parse),
        limit: Some(limit),
        offset: Some(offset),
    };
    let page = state
        .store
        .list_coverage(caller.workspace(), &filter)
        .await?;
    let analyses = page
        .items
        .iter()
        .map(shown)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(json!({
        "analyses": analyses,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

async fn get_coverage(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    query: Query,
) -> ApiResult<Response> {
    if query.choice("format", &["json", "html"])? == Some("html") {
        let html = state
            .store
            .coverage_html(caller.workspace(), &id)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "no_report",
                    "the analysis failed: it has no HTML page",
                )
            })?;
        return Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            html,
        )
            .into_response());
    }
    let record = state.store.get_coverage(caller.workspace(), &id).await?;
    Ok(Json(shown(&record)?).into_response())
}

async fn delete_coverage(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.store.delete_coverage(caller.workspace(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The schemas of these routes.
pub(crate) fn schemas() -> Vec<(&'static str, Value)> {
    let text = || json!({"type": "string"});
    let opt_text = || json!({"type": ["string", "null"]});
    let int = || json!({"type": "integer"});
    let time = || json!({"type": "string", "format": "date-time"});
    let input = || json!({"type": ["string", "object", "array"], "description": "the input: its text (JSON or YAML), or the document itself as JSON"});
    let closed = |props: Vec<(&str, Value)>, optional: &[&str]| {
        let required: Vec<&str> = props
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !optional.contains(n))
            .collect();
        let properties: serde_json::Map<String, Value> =
            props.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
        json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
    };
    let page = |plural: &str, item: &str| {
        closed(
            vec![
                (
                    plural,
                    json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}}),
                ),
                ("total", int()),
                ("limit", int()),
                ("offset", int()),
            ],
            &[],
        )
    };
    let status = || json!({"enum": STATUSES});
    let strings = || json!({"type": "array", "items": {"type": "string"}});
    let list_of = |item: &str| json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}});
    vec![
        (
            "AiImportInput",
            closed(
                vec![
                    ("content", input()),
                    ("spec", input()),
                    ("collection", input()),
                    ("contract", input()),
                    ("har", input()),
                    (
                        "source_name",
                        json!({"type": "string", "maxLength": 300, "description": "names the input in errors and in the history (default: the format)"}),
                    ),
                    (
                        "options",
                        closed(
                            vec![
                                (
                                    "group_by",
                                    json!({"enum": ["operation", "tag"], "description": "OpenAPI: one flow per operation (default) or per tag"}),
                                ),
                                (
                                    "negative",
                                    json!({"type": "boolean", "description": "OpenAPI: add negative steps"}),
                                ),
                                (
                                    "crud",
                                    json!({"type": "boolean", "description": "OpenAPI: chain create, read, update and delete of a resource"}),
                                ),
                                (
                                    "keep_static",
                                    json!({"type": "boolean", "description": "HAR: keep static assets"}),
                                ),
                                (
                                    "include_hosts",
                                    json!({"type": "array", "items": {"type": "string"}, "description": "HAR: only these hosts"}),
                                ),
                            ],
                            &[
                                "group_by",
                                "negative",
                                "crud",
                                "keep_static",
                                "include_hosts",
                            ],
                        ),
                    ),
                    (
                        "create_flows",
                        json!({"type": "boolean", "description": "save the flows (default: only return them)"}),
                    ),
                    (
                        "suite",
                        json!({"type": "string", "maxLength": 200, "description": "the suite of the saved flows (replaces the importer's)"}),
                    ),
                    (
                        "collection_id",
                        json!({"type": "string", "description": "a collection to put the saved flows in"}),
                    ),
                    (
                        "provider",
                        json!({"type": "string", "description": "the original's model provider: accepted and ignored"}),
                    ),
                    (
                        "model",
                        json!({"type": "string", "description": "the original's model: accepted and ignored"}),
                    ),
                ],
                &[
                    "content",
                    "spec",
                    "collection",
                    "contract",
                    "har",
                    "source_name",
                    "options",
                    "create_flows",
                    "suite",
                    "collection_id",
                    "provider",
                    "model",
                ],
            ),
        ),
        (
            "AiImport",
            closed(
                vec![
                    ("history_id", json!({"type": "string", "format": "uuid"})),
                    ("source_type", json!({"enum": SOURCE_TYPES})),
                    ("title", text()),
                    (
                        "flows",
                        json!({"type": "array", "items": closed(
                            vec![
                                ("file_name", text()),
                                ("name", text()),
                                ("origin", json!({"type": "string", "description": "what the flow was generated from"})),
                                ("steps", int()),
                                ("yaml", text()),
                                ("flow_id", json!({"type": ["string", "null"], "format": "uuid", "description": "the saved flow (with `create_flows`)"})),
                            ],
                            &[],
                        )}),
                    ),
                    (
                        "skipped",
                        json!({"type": "array", "items": closed(vec![("item", text()), ("reason", text())], &[])}),
                    ),
                    (
                        "untranslated",
                        json!({"type": "array", "items": closed(vec![("item", text()), ("what", text())], &[])}),
                    ),
                    (
                        "created",
                        json!({"type": "integer", "description": "flows saved"}),
                    ),
                    (
                        "errors",
                        json!({"type": "array", "description": "flows that could not be saved", "items": closed(vec![("file_name", text()), ("name", text()), ("error", text())], &[])}),
                    ),
                ],
                &[],
            ),
        ),
        (
            "ImportRecord",
            closed(
                vec![
                    ("id", json!({"type": "string", "format": "uuid"})),
                    ("workspace_id", json!({"type": "string", "format": "uuid"})),
                    ("source_type", json!({"enum": SOURCE_TYPES})),
                    ("source_name", text()),
                    (
                        "source_content",
                        json!({"type": ["string", "null"], "description": "the input (only in `GET …/{id}`, when it was kept)"}),
                    ),
                    (
                        "source_stored",
                        json!({"type": "boolean", "description": "whether the input is kept (inputs over 5 MiB are not)"}),
                    ),
                    ("source_size", int()),
                    ("source_sha256", text()),
                    ("status", status()),
                    ("flows_generated", int()),
                    (
                        "flow_ids",
                        json!({"type": "array", "items": {"type": "string"}}),
                    ),
                    ("skipped", int()),
                    ("error", opt_text()),
                    (
                        "metadata",
                        json!({"description": "the import's summary without YAML: title, options, flows, skipped, untranslated (or the error's location)"}),
                    ),
                    ("created_at", time()),
                ],
                &[],
            ),
        ),
        ("ImportHistoryList", page("imports", "ImportRecord")),
        (
            "AiCoverageInput",
            closed(
                vec![
                    ("spec", input()),
                    ("spec_name", json!({"type": "string", "maxLength": 300})),
                    (
                        "base_url",
                        json!({"type": "string", "description": "stripped from the flows' URLs before matching"}),
                    ),
                    (
                        "flow_ids",
                        json!({"type": "array", "items": {"type": "string"}, "description": "only these stored flows"}),
                    ),
                    (
                        "suite",
                        json!({"type": "string", "description": "only this suite's flows"}),
                    ),
                    (
                        "from_history",
                        json!({"type": "boolean", "description": "also match the HTTP calls of recorded executions"}),
                    ),
                    (
                        "since",
                        json!({"type": "string", "format": "date-time", "description": "with `from_history`: only executions from this time on"}),
                    ),
                ],
                &[
                    "spec_name",
                    "base_url",
                    "flow_ids",
                    "suite",
                    "from_history",
                    "since",
                ],
            ),
        ),
        (
            "CoverageCall",
            closed(
                vec![
                    ("flow", text()),
                    ("step", text()),
                    ("method", text()),
                    ("url", text()),
                    (
                        "statuses",
                        json!({"type": "array", "items": {"type": "string"}, "description": "asserted (static) or observed (history); `4XX` for a class"}),
                    ),
                    ("source", json!({"enum": ["static", "history"]})),
                ],
                &[],
            ),
        ),
        (
            "CoverageUnmatchedCall",
            closed(
                vec![
                    ("flow", text()),
                    ("step", text()),
                    ("method", text()),
                    ("url", text()),
                    (
                        "statuses",
                        json!({"type": "array", "items": {"type": "string"}}),
                    ),
                    ("source", json!({"enum": ["static", "history"]})),
                    (
                        "reason",
                        json!({"type": "string", "description": "why it matches no operation"}),
                    ),
                ],
                &[],
            ),
        ),
        (
            "CoverageOperation",
            closed(
                vec![
                    ("method", text()),
                    ("path", text()),
                    ("operation_id", opt_text()),
                    ("summary", opt_text()),
                    ("tags", strings()),
                    ("deprecated", json!({"type": "boolean"})),
                    (
                        "status",
                        json!({"enum": ["covered", "partial", "uncovered"]}),
                    ),
                    ("declared_statuses", strings()),
                    ("covered_statuses", strings()),
                    ("missing_statuses", strings()),
                    ("undeclared_statuses", strings()),
                    (
                        "status_coverage",
                        json!({"type": "number", "description": "covered share of the declared statuses, in percent"}),
                    ),
                    ("flows", strings()),
                    ("covered_by", list_of("CoverageCall")),
                ],
                &[],
            ),
        ),
        (
            "CoverageOperationBrief",
            closed(
                vec![
                    ("method", text()),
                    ("path", text()),
                    ("operation_id", opt_text()),
                    ("summary", opt_text()),
                    ("tags", strings()),
                    ("flows", strings()),
                ],
                &[],
            ),
        ),
        (
            "AiCoverage",
            closed(
                vec![
                    ("id", json!({"type": "string", "format": "uuid"})),
                    ("spec_name", text()),
                    (
                        "title",
                        json!({"type": "string", "description": "the document's title and version"}),
                    ),
                    ("total_endpoints", int()),
                    (
                        "covered_endpoints",
                        json!({"type": "integer", "description": "operations reached by a call, partial ones included"}),
                    ),
                    (
                        "partial_endpoints",
                        json!({"type": "integer", "description": "reached, with declared statuses never asserted nor observed"}),
                    ),
                    ("uncovered_endpoints", int()),
                    ("coverage_percent", json!({"type": "number"})),
                    ("covered", list_of("CoverageOperationBrief")),
                    ("partial", list_of("CoverageOperationBrief")),
                    ("uncovered", list_of("CoverageOperationBrief")),
                    ("operations", list_of("CoverageOperation")),
                    ("unmatched", list_of("CoverageUnmatchedCall")),
                    ("recommendations", strings()),
                    (
                        "read",
                        closed(
                            vec![
                                (
                                    "flows",
                                    json!({"type": "integer", "description": "stored flows read"}),
                                ),
                                ("unreadable_flows", strings()),
                                (
                                    "flow_calls",
                                    json!({"type": "integer", "description": "calls found in the flows"}),
                                ),
                                (
                                    "history_calls",
                                    json!({"type": "integer", "description": "recorded calls read (with `from_history`)"}),
                                ),
                                (
                                    "history_truncated",
                                    json!({"type": "boolean", "description": "older recorded calls were left out (more than 50,000)"}),
                                ),
                            ],
                            &[],
                        ),
                    ),
                    ("html_url", text()),
                    ("created_at", time()),
                ],
                &[],
            ),
        ),
        (
            "CoverageAnalysis",
            closed(
                vec![
                    ("id", json!({"type": "string", "format": "uuid"})),
                    ("workspace_id", json!({"type": "string", "format": "uuid"})),
                    ("spec_type", json!({"enum": ["openapi"]})),
                    ("spec_name", text()),
                    (
                        "spec_content",
                        json!({"type": ["string", "null"], "description": "the document (only in `GET …/{id}`, when it was kept)"}),
                    ),
                    ("spec_stored", json!({"type": "boolean"})),
                    ("spec_size", int()),
                    ("spec_sha256", text()),
                    ("status", status()),
                    ("total_endpoints", int()),
                    ("covered_endpoints", int()),
                    ("partial_endpoints", int()),
                    ("coverage_percent", json!({"type": "number"})),
                    (
                        "results",
                        json!({"description": "the analysis (only in `GET …/{id}`): the original's `covered`, `uncovered` and `partial` lists, operations, unmatched calls, recommendations, what was read"}),
                    ),
                    ("has_html", json!({"type": "boolean"})),
                    ("html_url", opt_text()),
                    ("error", opt_text()),
                    ("created_at", time()),
                ],
                &[],
            ),
        ),
        ("CoverageAnalysisList", page("analyses", "CoverageAnalysis")),
    ]
}
