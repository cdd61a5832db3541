//! Imports and coverage analyses, done one way for the dashboard's Import and Coverage pages and
//! the server's `/api/v1/ai` routes: run an importer on text, save the generated flows exactly as
//! `POST /api/v1/flows` saves a flow ([`Store::create_flow`]), record every import (failed ones
//! too), and analyse an OpenAPI document's coverage by the workspace's stored flows and,
//! optionally, the HTTP calls their recorded runs made.
//!
//! Importers and the analysis are CPU work: they run on the blocking pool.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use testmesh_import::coverage::{self, Call, CallSource, Coverage, CoverageOptions};
use testmesh_import::har::{self, HarOptions};
use testmesh_import::openapi::OpenApi;
use testmesh_import::openapi::flows::{self, FlowOptions, GroupBy};
use testmesh_import::{
    GeneratedFlow, Import, ImportError, Source, SourceKind, pact_import, postman,
};
use testmesh_store::{
    AiStatus, CoverageRecord, FlowSourceFilter, HttpCallFilter, ImportRecord, ImportSource,
    NewCoverage, NewImport, Store, StoredFlow,
};

/// The largest input an import or an analysis reads from a request (API body or dashboard
/// upload), in bytes.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

/// How an import translates its input. Each option applies to one format; the others must stay
/// unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// OpenAPI: one flow per `operation` (default) or per `tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// OpenAPI: add negative steps (missing required fields, wrong types).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negative: bool,
    /// OpenAPI: chain create, read, update and delete of a resource in one flow.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub crud: bool,
    /// HAR: keep requests for static assets (scripts, styles, images, fonts).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_static: bool,
    /// HAR: only requests to these hosts (all non-noise hosts when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_hosts: Vec<String>,
}

impl ImportOptions {
    /// Refuses options of another format and a `group_by` that is neither `operation` nor `tag`;
    /// the message names the option.
    pub fn check(&self, kind: SourceKind) -> Result<(), String> {
        let openapi = self.group_by.is_some() || self.negative || self.crud;
        let har = self.keep_static || !self.include_hosts.is_empty();
        if openapi && kind != SourceKind::OpenApi {
            return Err(format!(
                "`group_by`, `negative` and `crud` apply to OpenAPI imports, not to {}",
                kind.as_str()
            ));
        }
        if har && kind != SourceKind::Har {
            return Err(format!(
                "`keep_static` and `include_hosts` apply to HAR imports, not to {}",
                kind.as_str()
            ));
        }
        if let Some(group_by) = &self.group_by
            && GroupBy::parse(group_by).is_none()
        {
            return Err(format!(
                "`group_by` must be `operation` or `tag`, not `{group_by}`"
            ));
        }
        Ok(())
    }
}

/// The store's name of an import kind.
pub fn source_type(kind: SourceKind) -> ImportSource {
    match kind {
        SourceKind::OpenApi => ImportSource::OpenApi,
        SourceKind::Postman => ImportSource::Postman,
        SourceKind::Pact => ImportSource::Pact,
        SourceKind::Har => ImportSource::Har,
    }
}

/// Runs the importer of `kind` on `text` (JSON or YAML); `source_name` names it in errors.
/// Options are expected to have passed [`ImportOptions::check`]. Blocking: CPU work.
pub fn run_import(
    kind: SourceKind,
    text: &str,
    source_name: &str,
    options: &ImportOptions,
) -> Result<Import, ImportError> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(too_large(source_name, text.len()));
    }
    match kind {
        SourceKind::OpenApi => {
            let api = OpenApi::parse(text, source_name)?;
            let options = FlowOptions {
                group_by: options
                    .group_by
                    .as_deref()
                    .and_then(GroupBy::parse)
                    .unwrap_or(GroupBy::Operation),
                negative: options.negative,
                crud: options.crud,
            };
            Ok(flows::generate(&api, &options))
        }
        SourceKind::Postman => postman::import(&Source::parse(text, source_name)?),
        SourceKind::Pact => pact_import::import(&Source::parse(text, source_name)?),
        SourceKind::Har => har::import(
            &Source::parse(text, source_name)?,
            &HarOptions {
                keep_static: options.keep_static,
                include_hosts: options.include_hosts.clone(),
            },
        ),
    }
}

/// An import to run: the input, its format, its name and the options.
#[derive(Debug, Clone)]
pub struct ImportInput {
    /// The format.
    pub kind: SourceKind,
    /// The file name, or the name given with the request (names the input in errors).
    pub source_name: String,
    /// The input (JSON or YAML).
    pub text: String,
    /// How to translate it.
    pub options: ImportOptions,
}

impl ImportInput {
    /// [`run_import`] on the blocking pool.
    pub async fn run(&self) -> Result<Import, ImportError> {
        let input = self.clone();
        tokio::task::spawn_blocking(move || {
            run_import(input.kind, &input.text, &input.source_name, &input.options)
        })
        .await
        .unwrap_or_else(|e| Err(interrupted(&self.source_name, &e)))
    }
}

fn too_large(file: &str, size: usize) -> ImportError {
    ImportError::TooLarge {
        file: file.to_string(),
        size: size as u64,
        limit: MAX_IMPORT_BYTES as u64,
    }
}

/// An importer that panicked: reported as the input's failure rather than taking the server down.
fn interrupted(file: &str, error: &dyn std::fmt::Display) -> ImportError {
    ImportError::Invalid {
        location: testmesh_import::Location {
            file: file.to_string(),
            pointer: String::new(),
            line: None,
            col: None,
        },
        message: format!("the import stopped unexpectedly ({error}); please report this"),
    }
}

/// Where an import error is, as JSON: `{file, line, column, pointer}` (the ones known).
pub fn error_location(error: &ImportError) -> Value {
    match error {
        ImportError::Read { file, .. } | ImportError::TooLarge { file, .. } => {
            json!({"file": file})
        }
        ImportError::Syntax {
            file, line, col, ..
        } => json!({"file": file, "line": line, "column": col}),
        ImportError::Invalid { location, .. } => {
            let mut details = Map::new();
            details.insert("file".into(), json!(location.file));
            if let (Some(line), Some(col)) = (location.line, location.col) {
                details.insert("line".into(), json!(line));
                details.insert("column".into(), json!(col));
            }
            details.insert("pointer".into(), json!(location.pointer));
            Value::Object(details)
        }
    }
}

/// What the history keeps of an import: its summary without the flows' YAML, and the options.
pub fn import_metadata(import: &Import, options: &ImportOptions) -> Value {
    let mut summary = import.to_json();
    if let Some(flows) = summary.get_mut("flows").and_then(Value::as_array_mut) {
        for flow in flows {
            if let Some(flow) = flow.as_object_mut() {
                flow.remove("yaml");
            }
        }
    }
    if let Some(map) = summary.as_object_mut() {
        map.insert("options".into(), json!(options));
    }
    summary
}

/// The options an import was recorded with (from its metadata).
pub fn recorded_options(record: &ImportRecord) -> ImportOptions {
    record
        .metadata
        .get("options")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// A flow saved from an import.
#[derive(Debug, Clone)]
pub struct SavedFlow {
    /// The generated file's name.
    pub file_name: String,
    /// The stored flow.
    pub flow: StoredFlow,
}

/// A generated flow that could not be saved, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaveError {
    /// The generated file's name.
    pub file_name: String,
    /// The flow's name.
    pub name: String,
    /// Why it was not saved (a live flow has that name, …).
    pub error: String,
}

/// The outcome of saving an import's flows.
#[derive(Debug, Clone, Default)]
pub struct Saved {
    /// Flows saved, in import order.
    pub created: Vec<SavedFlow>,
    /// Flows not saved.
    pub errors: Vec<SaveError>,
}

impl Saved {
    /// The saved flows' ids.
    pub fn flow_ids(&self) -> Vec<String> {
        self.created
            .iter()
            .map(|s| s.flow.flow.id.clone())
            .collect()
    }

    /// One line naming the flows not saved, for the history.
    pub fn error_summary(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| {
            self.errors
                .iter()
                .map(|e| format!("{}: {}", e.file_name, e.error))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// Saves generated flows as `POST /api/v1/flows` does, in the given suite (replacing the one the
/// importer wrote) and collection when given. A flow that cannot be saved (its name is taken) is
/// listed in [`Saved::errors`] and the others are still saved; a collection that does not exist is
/// an error before anything is saved.
pub async fn save_flows(
    store: &Store,
    workspace_id: &str,
    flows: &[&GeneratedFlow],
    suite: Option<&str>,
    collection_id: Option<&str>,
) -> testmesh_store::Result<Saved> {
    if let Some(collection) = collection_id {
        store.get_collection(workspace_id, collection).await?;
    }
    let mut saved = Saved::default();
    for (position, generated) in flows.iter().enumerate() {
        let yaml = match suite {
            Some(suite) => with_suite(&generated.yaml, suite),
            None => generated.yaml.clone(),
        };
        match store.create_flow(workspace_id, &yaml, None).await {
            Ok(flow) => {
                if let Some(collection) = collection_id {
                    store
                        .add_flow_to_collection(
                            workspace_id,
                            collection,
                            &flow.flow.id,
                            position as i64,
                        )
                        .await?;
                }
                saved.created.push(SavedFlow {
                    file_name: generated.file_name.clone(),
                    flow,
                });
            }
            Err(
                e @ (testmesh_store::Error::Conflict(_) | testmesh_store::Error::Invalid { .. }),
            ) => saved.errors.push(SaveError {
                file_name: generated.file_name.clone(),
                name: generated.name.clone(),
                error: e.to_string(),
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(saved)
}

/// The flow YAML with its top-level `suite` set to `suite` (after `name` and `description` when
/// it had none); the comment lines above the flow are kept.
pub fn with_suite(yaml: &str, suite: &str) -> String {
    let Ok(tree) = testmesh_flow::yaml::parse(yaml) else {
        return yaml.to_string();
    };
    let Value::Object(flow) = tree.to_json() else {
        return yaml.to_string();
    };
    let mut out = Map::new();
    let has_suite = flow.contains_key("suite");
    let anchor = if flow.contains_key("description") {
        "description"
    } else {
        "name"
    };
    for (key, value) in flow {
        if key == "suite" {
            out.insert(key, json!(suite));
            continue;
        }
        let after = !has_suite && key == anchor;
        out.insert(key, value);
        if after {
            out.insert("suite".into(), json!(suite));
        }
    }
    if !out.contains_key("suite") {
        out.insert("suite".into(), json!(suite));
    }
    let header: String = yaml
        .lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("{header}{}", testmesh_flow::to_yaml(&Value::Object(out)))
}

/// Records an import in the history: its outcome, the flows saved from it and why others were
/// not.
pub async fn record_import(
    store: &Store,
    workspace_id: &str,
    run: &ImportInput,
    outcome: Result<&Import, &ImportError>,
    saved: Option<&Saved>,
) -> testmesh_store::Result<ImportRecord> {
    let (kind, source_name, text, options) = (run.kind, &run.source_name, &run.text, &run.options);
    let input = match outcome {
        Ok(import) => NewImport {
            source_type: source_type(kind),
            source_name: source_name.clone(),
            source_content: text.clone(),
            status: AiStatus::Completed,
            flows_generated: import.flows.len() as i64,
            flow_ids: saved.map(Saved::flow_ids).unwrap_or_default(),
            skipped: import.skipped.len() as i64,
            error: saved.and_then(Saved::error_summary),
            metadata: import_metadata(import, options),
        },
        Err(error) => NewImport {
            source_type: source_type(kind),
            source_name: source_name.clone(),
            source_content: text.clone(),
            status: AiStatus::Failed,
            flows_generated: 0,
            flow_ids: Vec::new(),
            skipped: 0,
            error: Some(error.to_string()),
            metadata: json!({"options": options, "location": error_location(error)}),
        },
    };
    store.record_import(workspace_id, &input).await
}

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct CoverageRequest {
    /// The OpenAPI document (JSON or YAML).
    pub spec: String,
    /// Its name (default: the document's title).
    pub spec_name: Option<String>,
    /// The server URL the flows call, stripped from their URLs before matching.
    pub base_url: Option<String>,
    /// Only these stored flows (all when empty).
    pub flow_ids: Vec<String>,
    /// Only the stored flows of this suite.
    pub suite: Option<String>,
    /// Also match the HTTP calls recorded by stored executions.
    pub from_history: bool,
    /// Only executions from this time on (with `from_history`).
    pub since: Option<DateTime<Utc>>,
}

/// A completed analysis.
#[derive(Debug, Clone)]
pub struct CoverageOutcome {
    /// The stored row (with its results).
    pub record: CoverageRecord,
    /// The analysis.
    pub coverage: Coverage,
}

/// Why an analysis did not complete.
#[derive(Debug)]
pub enum CoverageFailure {
    /// The spec could not be read; the failed analysis is recorded.
    Spec {
        /// The error, with its location.
        error: ImportError,
        /// The recorded failed analysis.
        record: Box<CoverageRecord>,
    },
    /// A store error (an unknown flow id is `NotFound`).
    Store(testmesh_store::Error),
}

impl From<testmesh_store::Error> for CoverageFailure {
    fn from(e: testmesh_store::Error) -> Self {
        CoverageFailure::Store(e)
    }
}

/// Analyses the coverage of `request.spec` by the workspace's stored flows (their `http_request`
/// steps, nested ones too) and, with `from_history`, by the recorded calls of stored executions;
/// records the analysis (a spec that cannot be read is recorded as failed).
pub async fn analyze_coverage(
    store: &Store,
    workspace_id: &str,
    request: CoverageRequest,
) -> Result<CoverageOutcome, CoverageFailure> {
    let flow_filter = FlowSourceFilter {
        ids: request.flow_ids.clone(),
        suite: request.suite.clone(),
    };
    let sources = store.flow_sources(workspace_id, &flow_filter).await?;
    let history = if request.from_history {
        Some(
            store
                .http_calls(
                    workspace_id,
                    &HttpCallFilter {
                        flow_ids: request.flow_ids.clone(),
                        since: request.since,
                        limit: None,
                    },
                )
                .await?,
        )
    } else {
        None
    };
    let file = request
        .spec_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "openapi".to_string());
    let spec = request.spec.clone();
    let base_url = request.base_url.clone();
    let name = file.clone();
    let analysed = tokio::task::spawn_blocking(move || {
        if spec.len() > MAX_IMPORT_BYTES {
            return Err(too_large(&name, spec.len()));
        }
        let api = OpenApi::parse(&spec, &name)?;
        let mut calls: Vec<Call> = Vec::new();
        let mut unreadable = Vec::new();
        for source in &sources {
            match testmesh_flow::load_str(&source.yaml).flow {
                Some(flow) => calls.extend(coverage::calls_in_flow(&flow, &source.name)),
                None => unreadable.push(source.name.clone()),
            }
        }
        let static_calls = calls.len();
        if let Some(history) = &history {
            calls.extend(history.calls.iter().map(|c| Call {
                flow: c.flow_name.clone(),
                step: c.step_id.clone(),
                method: c.method.clone(),
                url: c.url.clone(),
                statuses: c.status.into_iter().collect(),
                source: CallSource::History,
            }));
        }
        let coverage = coverage::analyze(&api, &calls, &CoverageOptions { base_url });
        let read = json!({
            "flows": sources.len(),
            "unreadable_flows": unreadable,
            "flow_calls": static_calls,
            "history_calls": calls.len() - static_calls,
            "history_truncated": history.as_ref().is_some_and(|h| h.truncated),
        });
        Ok((coverage, read))
    })
    .await
    .unwrap_or_else(|e| Err(interrupted(&file, &e)));
    let inputs = json!({
        "base_url": request.base_url,
        "flow_ids": request.flow_ids,
        "suite": request.suite,
        "from_history": request.from_history,
        "since": request.since,
    });
    match analysed {
        Ok((coverage, read)) => {
            let mut results = coverage.to_json();
            if let Some(map) = results.as_object_mut() {
                map.insert("read".into(), read);
                map.insert("request".into(), inputs);
            }
            let spec_name = request
                .spec_name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| coverage.title.clone());
            let record = store
                .record_coverage(
                    workspace_id,
                    &NewCoverage {
                        spec_type: "openapi".into(),
                        spec_name,
                        spec_content: request.spec,
                        status: AiStatus::Completed,
                        total_endpoints: coverage.total as i64,
                        covered_endpoints: coverage.covered as i64,
                        partial_endpoints: coverage.partial as i64,
                        coverage_percent: coverage.percent,
                        results,
                        html: Some(coverage.to_html()),
                        error: None,
                    },
                )
                .await?;
            Ok(CoverageOutcome { record, coverage })
        }
        Err(error) => {
            let record = store
                .record_coverage(
                    workspace_id,
                    &NewCoverage {
                        spec_type: "openapi".into(),
                        spec_name: file,
                        spec_content: request.spec,
                        status: AiStatus::Failed,
                        total_endpoints: 0,
                        covered_endpoints: 0,
                        partial_endpoints: 0,
                        coverage_percent: 0.0,
                        results: json!({"location": error_location(&error), "request": inputs}),
                        html: None,
                        error: Some(error.to_string()),
                    },
                )
                .await?;
            Err(CoverageFailure::Spec {
                error,
                record: Box::new(record),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_are_set_and_comments_kept() {
        let yaml = "# Imported from Petstore\n\nname: List pets\nsuite: petstore\nsteps:\n  - id: list\n    action: log\n    config:\n      message: hi\n";
        let out = with_suite(yaml, "smoke");
        assert!(
            out.starts_with("# Imported from Petstore\n\nname: List pets\nsuite: smoke\n"),
            "{out}"
        );
        let without = "name: A\ndescription: d\nsteps:\n  - id: x\n    action: log\n    config:\n      message: hi\n";
        let out = with_suite(without, "smoke");
        assert!(
            out.starts_with("name: A\ndescription: d\nsuite: smoke\nsteps:"),
            "{out}"
        );
        assert!(testmesh_flow::load_str(&out).errors().next().is_none());
    }

    #[test]
    fn options_belong_to_their_format() {
        let openapi = ImportOptions {
            group_by: Some("tag".into()),
            ..ImportOptions::default()
        };
        assert!(openapi.check(SourceKind::OpenApi).is_ok());
        assert!(openapi.check(SourceKind::Har).is_err());
        let bad = ImportOptions {
            group_by: Some("path".into()),
            ..ImportOptions::default()
        };
        assert!(
            bad.check(SourceKind::OpenApi)
                .is_err_and(|e| e.contains("`path`"))
        );
        let har = ImportOptions {
            include_hosts: vec!["api.test".into()],
            ..ImportOptions::default()
        };
        assert!(har.check(SourceKind::Har).is_ok());
        assert!(har.check(SourceKind::Postman).is_err());
        assert_eq!(
            serde_json::to_value(&har).ok(),
            Some(json!({"include_hosts": ["api.test"]}))
        );
    }
}
