//! The Import and Coverage pages. Import is a wizard: choose a format and upload a file or paste
//! the text (with the format's options); see the generated flows (YAML unfolds), what was skipped
//! and what could not be translated, and tick the flows to create; create them, then follow the
//! links to the new flows. Every import is recorded, and the history lists the recent ones.
//! Coverage analyses an OpenAPI document against the workspace's flows (and, on request, the
//! calls their recorded runs made): a summary, a table of operations, the calls that matched
//! nothing, and the analysis' HTML page; past analyses are listed.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use chrono::Utc;
use serde_json::Value;
use testmesh_import::{Import, ImportError, SourceKind};
use testmesh_store::{
    AiStatus, CoverageFilter, CoverageRecord, ImportFilter, ImportRecord, ImportSource,
};

use crate::DashboardState;
use crate::ai::{
    self as work, CoverageFailure, CoverageRequest, ImportInput, ImportOptions, MAX_IMPORT_BYTES,
    SaveError,
};
use crate::pages::{PageError, PageResult, render, store_error};
use crate::session::Session;
use crate::views::ago;

/// The largest import or analysis form: the input and the other fields.
pub(crate) const MAX_FORM_BYTES: usize = MAX_IMPORT_BYTES + 1024 * 1024;

/// The `Content-Security-Policy` of a stored analysis' HTML page: it runs in an opaque origin
/// (no cookies, no access to the dashboard) and loads nothing from the network.
const REPORT_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// A posted form with an optional uploaded file.
#[derive(Default)]
struct Upload {
    fields: HashMap<String, String>,
    /// The uploaded file's name and text.
    file: Option<(String, String)>,
}

impl Upload {
    fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    fn flag(&self, name: &str) -> bool {
        self.fields
            .get(name)
            .is_some_and(|v| !v.is_empty() && v != "false")
    }
}

/// Reads a `multipart/form-data` form; the message says what is wrong (too large, not text).
async fn read_upload(form: Result<Multipart, MultipartRejection>) -> Result<Upload, String> {
    let mut multipart = form.map_err(|e| format!("the form could not be read: {e}"))?;
    let too_large = || format!("the form is larger than {MAX_FORM_BYTES} bytes");
    let mut upload = Upload::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(format!("the form could not be read: {}", e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(format!("the form could not be read: {}", e.body_text())),
        };
        if name == "file" {
            let Some(file_name) = file_name.filter(|n| !n.is_empty()) else {
                continue;
            };
            if bytes.is_empty() {
                continue;
            }
            let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
                format!(
                    "{file_name} is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                )
            })?;
            upload.file = Some((file_name, text));
        } else {
            upload
                .fields
                .insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(upload)
}

/// The input of a form: the uploaded file or the pasted text (not both), and its name.
fn input_of(upload: &Upload, text_field: &str) -> Result<(String, Option<String>), String> {
    let pasted = upload.text(text_field);
    match (&upload.file, pasted.trim().is_empty()) {
        (Some(_), false) => Err("upload a file or paste the text, not both".into()),
        (Some((name, text)), true) => Ok((text.clone(), Some(name.clone()))),
        (None, false) => Ok((pasted, None)),
        (None, true) => Err("upload a file or paste the text".into()),
    }
}

/// The message of an import error and where it is (`file:line:col`, the JSON pointer).
fn located(error: &ImportError) -> (String, Option<String>) {
    let at = match error {
        ImportError::Syntax {
            file, line, col, ..
        } => Some(format!("{file}:{line}:{col}")),
        ImportError::Invalid { location, .. } => Some(location.to_string()),
        ImportError::Read { .. } | ImportError::TooLarge { .. } => None,
    };
    (error.to_string(), at)
}

fn kind_of(source: ImportSource) -> SourceKind {
    match source {
        ImportSource::OpenApi => SourceKind::OpenApi,
        ImportSource::Postman => SourceKind::Postman,
        ImportSource::Pact => SourceKind::Pact,
        ImportSource::Har => SourceKind::Har,
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The import form, as posted (and shown again with an error).
#[derive(Default)]
struct ImportForm {
    format: String,
    content: String,
    source_name: String,
    group_by: String,
    negative: bool,
    crud: bool,
    keep_static: bool,
    include_hosts: String,
}

impl ImportForm {
    fn of(upload: &Upload) -> ImportForm {
        ImportForm {
            format: upload.text("format"),
            content: upload.text("content"),
            source_name: upload.text("source_name"),
            group_by: upload.text("group_by"),
            negative: upload.flag("negative"),
            crud: upload.flag("crud"),
            keep_static: upload.flag("keep_static"),
            include_hosts: upload.text("include_hosts"),
        }
    }

    /// The options the form sets for its format (the others' fields are ignored: the page shows
    /// every field).
    fn options(&self, kind: SourceKind) -> ImportOptions {
        let mut options = ImportOptions::default();
        match kind {
            SourceKind::OpenApi => {
                options.group_by = Some(self.group_by.trim().to_string())
                    .filter(|g| !g.is_empty() && g != "operation");
                options.negative = self.negative;
                options.crud = self.crud;
            }
            SourceKind::Har => {
                options.keep_static = self.keep_static;
                options.include_hosts = words(&self.include_hosts);
            }
            SourceKind::Postman | SourceKind::Pact => {}
        }
        options
    }
}

struct HistoryRow {
    id: String,
    when: String,
    source_type: &'static str,
    source_name: String,
    status: &'static str,
    flows: i64,
    saved: usize,
    error: String,
}

fn history_row(record: &ImportRecord) -> HistoryRow {
    HistoryRow {
        id: record.id.clone(),
        when: ago(record.created_at, Utc::now()),
        source_type: record.source_type.as_str(),
        source_name: record.source_name.clone(),
        status: record.status.as_str(),
        flows: record.flows_generated,
        saved: record.flow_ids.len(),
        error: record.error.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    nav: &'static str,
    key_name: String,
    form: ImportForm,
    error: Option<String>,
    error_at: Option<String>,
    history: Vec<HistoryRow>,
}

async fn import_page(
    state: &DashboardState,
    session: Session,
    form: ImportForm,
    error: Option<(String, Option<String>)>,
) -> PageResult {
    let history = state
        .store
        .list_imports(
            &session.workspace_id,
            &ImportFilter {
                limit: Some(50),
                ..ImportFilter::default()
            },
        )
        .await
        .map_err(store_error)?;
    let failed = error.is_some();
    let (error, error_at) = error.map_or((None, None), |(e, at)| (Some(e), at));
    let mut page = render(&ImportPage {
        nav: "import",
        key_name: session.key_name,
        form,
        error,
        error_at,
        history: history.items.iter().map(history_row).collect(),
    })?;
    if failed {
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// Step 1: the form and the history.
pub(crate) async fn import_form(
    State(state): State<DashboardState>,
    session: Session,
) -> PageResult {
    let form = ImportForm {
        format: "openapi".into(),
        ..ImportForm::default()
    };
    import_page(&state, session, form, None).await
}

/// Step 1 posted: runs the import, records it, and shows step 2 (or the form with the error).
pub(crate) async fn import_upload(
    State(state): State<DashboardState>,
    session: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let upload = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(message) => {
            return import_page(
                &state,
                session,
                ImportForm::default(),
                Some((message, None)),
            )
            .await;
        }
    };
    let form = ImportForm::of(&upload);
    let Some(kind) = SourceKind::parse(form.format.trim()) else {
        let message = format!(
            "Format: `{}` is not openapi, postman, pact or har",
            form.format
        );
        return import_page(&state, session, form, Some((message, None))).await;
    };
    let (text, file_name) = match input_of(&upload, "content") {
        Ok(input) => input,
        Err(message) => return import_page(&state, session, form, Some((message, None))).await,
    };
    let options = form.options(kind);
    if let Err(message) = options.check(kind) {
        return import_page(&state, session, form, Some((message, None))).await;
    }
    let source_name = Some(form.source_name.trim().to_string())
        .filter(|n| !n.is_empty())
        .or(file_name)
        .unwrap_or_else(|| kind.as_str().to_string());
    let run = ImportInput {
        kind,
        source_name,
        text,
        options,
    };
    let outcome = run.run().await;
    let record = work::record_import(
        &state.store,
        &session.workspace_id,
        &run,
        outcome.as_ref(),
        None,
    )
    .await
    .map_err(store_error)?;
    match outcome {
        Ok(import) => preview_page(&state, session, &record, &import, &run, None).await,
        Err(error) => import_page(&state, session, form, Some(located(&error))).await,
    }
}

struct FlowView {
    file_name: String,
    name: String,
    origin: String,
    steps: usize,
    yaml: String,
}

#[derive(Template)]
#[template(path = "import_preview.html")]
struct PreviewPage {
    nav: &'static str,
    key_name: String,
    id: String,
    title: String,
    source_type: &'static str,
    source_name: String,
    flows: Vec<FlowView>,
    skipped: Vec<(String, String)>,
    untranslated: Vec<(String, String)>,
    collections: Vec<(String, String)>,
    saved_before: usize,
    /// The input, carried by the form when the history could not keep it (over 5 MiB).
    carried: Option<String>,
    error: Option<String>,
}

async fn preview_page(
    state: &DashboardState,
    session: Session,
    record: &ImportRecord,
    import: &Import,
    run: &ImportInput,
    error: Option<String>,
) -> PageResult {
    let collections = state
        .store
        .list_collections(&session.workspace_id, None)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let failed = error.is_some();
    let mut page = render(&PreviewPage {
        nav: "import",
        key_name: session.key_name,
        id: record.id.clone(),
        title: import.title.clone(),
        source_type: record.source_type.as_str(),
        source_name: record.source_name.clone(),
        flows: import
            .flows
            .iter()
            .map(|f| FlowView {
                file_name: f.file_name.clone(),
                name: f.name.clone(),
                origin: f.origin.clone(),
                steps: f.steps,
                yaml: f.yaml.clone(),
            })
            .collect(),
        skipped: import
            .skipped
            .iter()
            .map(|s| (s.item.clone(), s.reason.clone()))
            .collect(),
        untranslated: import
            .untranslated
            .iter()
            .map(|u| (u.item.clone(), u.what.clone()))
            .collect(),
        collections,
        saved_before: record.flow_ids.len(),
        carried: (!record.source_stored).then(|| run.text.clone()),
        error,
    })?;
    if failed {
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// The import of a history row, run again from its stored input (or `carried`, the input the
/// preview form carries when the history could not keep it); the message says why it cannot be.
async fn rerun(
    record: &ImportRecord,
    carried: Option<String>,
) -> Result<(ImportInput, Import), String> {
    let text = match (&record.source_content, carried) {
        (Some(text), _) => text.clone(),
        (None, Some(text)) if text.len() as i64 == record.source_size => text,
        _ => {
            return Err(format!(
                "the input of this import ({} bytes) was not kept: inputs over 5 MiB are not; import the file again",
                record.source_size
            ));
        }
    };
    let run = ImportInput {
        kind: kind_of(record.source_type),
        source_name: record.source_name.clone(),
        text,
        options: work::recorded_options(record),
    };
    let import = run
        .run()
        .await
        .map_err(|e| format!("the import cannot be run again: {e}"))?;
    Ok((run, import))
}

/// The first step's form for a recorded import, with `message`.
async fn form_again(
    state: &DashboardState,
    session: Session,
    record: &ImportRecord,
    message: String,
) -> PageResult {
    let options = work::recorded_options(record);
    let form = ImportForm {
        format: record.source_type.as_str().to_string(),
        content: record.source_content.clone().unwrap_or_default(),
        source_name: record.source_name.clone(),
        group_by: options.group_by.unwrap_or_default(),
        negative: options.negative,
        crud: options.crud,
        keep_static: options.keep_static,
        include_hosts: options.include_hosts.join(", "),
    };
    import_page(state, session, form, Some((message, None))).await
}

/// Step 2 of a recorded import (from the history).
pub(crate) async fn import_preview(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    let record = state
        .store
        .get_import(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    if record.status == AiStatus::Failed {
        let message = record.error.clone().unwrap_or_default();
        return form_again(&state, session, &record, message).await;
    }
    match rerun(&record, None).await {
        Ok((run, import)) => preview_page(&state, session, &record, &import, &run, None).await,
        Err(message) => form_again(&state, session, &record, message).await,
    }
}

struct CreatedView {
    id: String,
    name: String,
    file_name: String,
}

#[derive(Template)]
#[template(path = "import_done.html")]
struct DonePage {
    nav: &'static str,
    key_name: String,
    id: String,
    title: String,
    created: Vec<CreatedView>,
    errors: Vec<SaveError>,
}

/// Step 3: creates the ticked flows (in the suite and collection chosen) and links to them.
pub(crate) async fn import_create(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let record = state
        .store
        .get_import(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    if record.status == AiStatus::Failed {
        return Err(PageError::NotFound);
    }
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let chosen: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "flow")
        .map(|(_, v)| v.as_str())
        .collect();
    let carried = pairs
        .iter()
        .find(|(k, _)| k == "content")
        .map(|(_, v)| v.clone());
    let (run, import) = match rerun(&record, carried).await {
        Ok(done) => done,
        Err(message) => return form_again(&state, session, &record, message).await,
    };
    if chosen.is_empty() {
        return preview_page(
            &state,
            session,
            &record,
            &import,
            &run,
            Some("Tick at least one flow to create.".into()),
        )
        .await;
    }
    let flows: Vec<_> = import
        .flows
        .iter()
        .filter(|f| chosen.contains(&f.file_name.as_str()))
        .collect();
    let suite = value("suite");
    let collection = value("collection_id");
    let saved = match work::save_flows(
        &state.store,
        &session.workspace_id,
        &flows,
        suite.as_deref(),
        collection.as_deref(),
    )
    .await
    {
        Ok(saved) => saved,
        Err(testmesh_store::Error::NotFound { what, id }) => {
            return preview_page(
                &state,
                session,
                &record,
                &import,
                &run,
                Some(format!("{what} not found: {id}")),
            )
            .await;
        }
        Err(e) => return Err(store_error(e)),
    };
    let mut flow_ids = record.flow_ids.clone();
    flow_ids.extend(saved.flow_ids());
    state
        .store
        .set_import_flows(
            &session.workspace_id,
            &record.id,
            &flow_ids,
            saved.error_summary().as_deref(),
        )
        .await
        .map_err(store_error)?;
    let mut page = render(&DonePage {
        nav: "import",
        key_name: session.key_name,
        id: record.id.clone(),
        title: import.title.clone(),
        created: saved
            .created
            .iter()
            .map(|s| CreatedView {
                id: s.flow.flow.id.clone(),
                name: s.flow.flow.name.clone(),
                file_name: s.file_name.clone(),
            })
            .collect(),
        errors: saved.errors.clone(),
    })?;
    if saved.created.is_empty() {
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// The coverage form, as posted (and shown again with an error).
#[derive(Default)]
struct CoverageForm {
    spec: String,
    spec_name: String,
    base_url: String,
    suite: String,
    from_history: bool,
}

struct AnalysisRow {
    id: String,
    when: String,
    name: String,
    status: &'static str,
    covered: String,
    percent: String,
    error: String,
    has_html: bool,
}

fn percent(value: f64) -> String {
    format!("{value:.1} %")
}

fn analysis_row(record: &CoverageRecord) -> AnalysisRow {
    AnalysisRow {
        id: record.id.clone(),
        when: ago(record.created_at, Utc::now()),
        name: record.spec_name.clone(),
        status: record.status.as_str(),
        covered: format!("{} / {}", record.covered_endpoints, record.total_endpoints),
        percent: percent(record.coverage_percent),
        error: record.error.clone().unwrap_or_default(),
        has_html: record.has_html,
    }
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    nav: &'static str,
    key_name: String,
    form: CoverageForm,
    error: Option<String>,
    error_at: Option<String>,
    analyses: Vec<AnalysisRow>,
}

async fn coverage_page(
    state: &DashboardState,
    session: Session,
    form: CoverageForm,
    error: Option<(String, Option<String>)>,
) -> PageResult {
    let analyses = state
        .store
        .list_coverage(
            &session.workspace_id,
            &CoverageFilter {
                limit: Some(50),
                ..CoverageFilter::default()
            },
        )
        .await
        .map_err(store_error)?;
    let failed = error.is_some();
    let (error, error_at) = error.map_or((None, None), |(e, at)| (Some(e), at));
    let mut page = render(&CoveragePage {
        nav: "coverage",
        key_name: session.key_name,
        form,
        error,
        error_at,
        analyses: analyses.items.iter().map(analysis_row).collect(),
    })?;
    if failed {
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// The form and the past analyses.
pub(crate) async fn coverage_form(
    State(state): State<DashboardState>,
    session: Session,
) -> PageResult {
    coverage_page(&state, session, CoverageForm::default(), None).await
}

/// The form posted: analyses, records and shows the analysis (or the form with the error).
pub(crate) async fn coverage_analyze(
    State(state): State<DashboardState>,
    session: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let upload = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(message) => {
            return coverage_page(
                &state,
                session,
                CoverageForm::default(),
                Some((message, None)),
            )
            .await;
        }
    };
    let form = CoverageForm {
        spec: upload.text("spec"),
        spec_name: upload.text("spec_name"),
        base_url: upload.text("base_url"),
        suite: upload.text("suite"),
        from_history: upload.flag("from_history"),
    };
    let (spec, file_name) = match input_of(&upload, "spec") {
        Ok(input) => input,
        Err(message) => {
            return coverage_page(&state, session, form, Some((message, None))).await;
        }
    };
    let trimmed = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let request = CoverageRequest {
        spec,
        spec_name: trimmed(&form.spec_name).or(file_name),
        base_url: trimmed(&form.base_url),
        flow_ids: Vec::new(),
        suite: trimmed(&form.suite),
        from_history: form.from_history,
        since: None,
    };
    match work::analyze_coverage(&state.store, &session.workspace_id, request).await {
        Ok(outcome) => {
            Ok(Redirect::to(&format!("/coverage/{}", outcome.record.id)).into_response())
        }
        Err(CoverageFailure::Spec { error, .. }) => {
            coverage_page(&state, session, form, Some(located(&error))).await
        }
        Err(CoverageFailure::Store(e)) => Err(store_error(e)),
    }
}

struct OperationRow {
    method: String,
    path: String,
    status: String,
    summary: String,
    by: String,
    covered_statuses: String,
    missing_statuses: String,
}

/// A value of an operation as text: a string, a number, or a list of them joined.
fn text_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Object(call) => {
                    let part = |k: &str| call.get(k).and_then(Value::as_str).unwrap_or_default();
                    match (part("flow"), part("step")) {
                        ("", _) => item.to_string(),
                        (flow, "") => flow.to_string(),
                        (flow, step) => format!("{flow} › {step}"),
                    }
                }
                other => text_of(Some(other)),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn operation_row(op: &Value) -> OperationRow {
    OperationRow {
        method: text_of(op.get("method")).to_uppercase(),
        path: text_of(op.get("path")),
        status: text_of(op.get("status")),
        summary: text_of(op.get("summary")),
        by: text_of(op.get("covered_by")),
        covered_statuses: text_of(op.get("covered_statuses")),
        missing_statuses: text_of(op.get("missing_statuses")),
    }
}

#[derive(Template)]
#[template(path = "coverage_detail.html")]
struct CoverageDetailPage {
    nav: &'static str,
    key_name: String,
    id: String,
    name: String,
    status: &'static str,
    error: String,
    when: String,
    total: i64,
    covered: i64,
    partial: i64,
    percent: String,
    operations: Vec<OperationRow>,
    unmatched: Vec<String>,
    recommendations: Vec<String>,
    read: String,
    has_html: bool,
}

/// One analysis: summary, operations, unmatched calls, recommendations.
pub(crate) async fn coverage_detail(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    let record = state
        .store
        .get_coverage(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    let results = record.results.clone().unwrap_or(Value::Null);
    let list = |key: &str| -> Vec<Value> {
        results
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let read = results
        .get("read")
        .map(|r| {
            let n = |k: &str| r.get(k).and_then(Value::as_u64).unwrap_or(0);
            format!(
                "{} flows ({} calls){}",
                n("flows"),
                n("flow_calls"),
                if r.get("history_calls").is_some_and(|h| h.as_u64() > Some(0)) {
                    format!(", {} recorded calls", n("history_calls"))
                } else {
                    String::new()
                }
            )
        })
        .unwrap_or_default();
    render(&CoverageDetailPage {
        nav: "coverage",
        key_name: session.key_name,
        id: record.id.clone(),
        name: record.spec_name.clone(),
        status: record.status.as_str(),
        error: record.error.clone().unwrap_or_default(),
        when: ago(record.created_at, Utc::now()),
        total: record.total_endpoints,
        covered: record.covered_endpoints,
        partial: record.partial_endpoints,
        percent: percent(record.coverage_percent),
        operations: list("operations").iter().map(operation_row).collect(),
        unmatched: list("unmatched")
            .iter()
            .map(|c| {
                let part = |k: &str| text_of(c.get(k));
                let reason = part("reason");
                format!(
                    "{} {} — {} › {}{}",
                    part("method").to_uppercase(),
                    part("url"),
                    part("flow"),
                    part("step"),
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {reason}")
                    }
                )
            })
            .collect(),
        recommendations: list("recommendations")
            .iter()
            .map(|r| text_of(Some(r)))
            .collect(),
        read,
        has_html: record.has_html,
    })
}

/// The analysis' own HTML page, sandboxed.
pub(crate) async fn coverage_report(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    let html = state
        .store
        .coverage_html(&session.workspace_id, &id)
        .await
        .map_err(store_error)?
        .ok_or(PageError::NotFound)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(REPORT_CSP),
            ),
        ],
        html,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_read_whatever_they_hold() {
        let row = operation_row(&json!({
            "method": "get", "path": "/pets/{id}", "status": "partial",
            "covered_by": [{"flow": "pets", "step": "get_one"}, {"flow": "smoke"}],
            "covered_statuses": ["200"], "missing_statuses": ["404", "4XX"],
        }));
        assert_eq!(row.method, "GET");
        assert_eq!(row.by, "pets › get_one, smoke");
        assert_eq!(row.missing_statuses, "404, 4XX");
        let row = operation_row(
            &json!({"method": "POST", "path": "/pets", "status": "uncovered", "covered_by": []}),
        );
        assert_eq!((row.status.as_str(), row.by.as_str()), ("uncovered", ""));
        assert_eq!(text_of(Some(&json!(3))), "3");
    }

    #[test]
    fn forms_give_one_input() {
        let mut upload = Upload::default();
        assert!(input_of(&upload, "content").is_err());
        upload
            .fields
            .insert("content".into(), "openapi: 3.0.3".into());
        assert_eq!(
            input_of(&upload, "content").ok(),
            Some(("openapi: 3.0.3".to_string(), None))
        );
        upload.file = Some(("api.yaml".into(), "x".into()));
        assert!(input_of(&upload, "content").is_err_and(|e| e.contains("not both")));
        upload.fields.clear();
        assert_eq!(
            input_of(&upload, "content").ok(),
            Some(("x".to_string(), Some("api.yaml".to_string())))
        );
    }
}
