//! What a run request or a schedule selects — one flow, a list of flows, or the flows of a suite
//! and/or tags — and queuing one execution per selected flow, all or none.

use serde_json::Value;
use testmesh_store::{Error as StoreError, Execution, RunContext, Store, Trigger};

use crate::error::{ApiError, ApiResult};

/// The flows to run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selection {
    /// These flows, in this order (duplicates run once).
    Flows(Vec<String>),
    /// The live flows of a suite and/or with any of some tags, by name.
    Query {
        /// Only this suite.
        suite: Option<String>,
        /// Any of these tags.
        tags: Vec<String>,
    },
}

/// How to run the selected flows.
pub(crate) struct Run<'a> {
    pub(crate) workspace_id: &'a str,
    pub(crate) selection: &'a Selection,
    /// An environment id or name; the workspace default when `None`.
    pub(crate) environment: Option<&'a str>,
    pub(crate) variables: Value,
    pub(crate) trigger: Trigger,
    pub(crate) schedule_id: Option<&'a str>,
}

/// The ids of the selected flows. `unknown_reference` (422) for a listed flow that does not
/// exist; `no_flows_selected` (422) when a suite/tag query matches nothing.
async fn flow_ids(
    store: &Store,
    workspace_id: &str,
    selection: &Selection,
) -> ApiResult<Vec<String>> {
    match selection {
        Selection::Flows(ids) => {
            let mut out: Vec<String> = Vec::with_capacity(ids.len());
            for id in ids {
                if !out.contains(id) {
                    out.push(id.clone());
                }
            }
            if out.is_empty() {
                return Err(ApiError::unprocessable(
                    "no_flows_selected",
                    "`flow_ids` is empty",
                ));
            }
            Ok(out)
        }
        Selection::Query { suite, tags } => {
            let out = store
                .selected_flow_ids(workspace_id, suite.as_deref(), tags)
                .await?;
            if out.is_empty() {
                return Err(ApiError::unprocessable(
                    "no_flows_selected",
                    format!("no flow matches {}", describe(suite.as_deref(), tags)),
                ));
            }
            Ok(out)
        }
    }
}

fn describe(suite: Option<&str>, tags: &[String]) -> String {
    match (suite, tags.is_empty()) {
        (Some(suite), true) => format!("suite `{suite}`"),
        (None, false) => format!("tags {}", tags.join(", ")),
        (Some(suite), false) => format!("suite `{suite}` with tags {}", tags.join(", ")),
        (None, true) => "an empty selection".into(),
    }
}

/// The name of the environment to record: the one given (by id or name; 422 when it does not
/// exist), else the workspace's default, else none.
async fn environment_name(
    store: &Store,
    workspace_id: &str,
    given: Option<&str>,
) -> ApiResult<Option<String>> {
    let Some(given) = given.filter(|g| !g.is_empty()) else {
        return match store.default_environment(workspace_id).await {
            Ok(env) => Ok(Some(env.name)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        };
    };
    let by_id = match uuid::Uuid::try_parse(given) {
        Ok(id) => match store.get_environment(workspace_id, &id.to_string()).await {
            Ok(env) => Some(env),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    match by_id {
        Some(env) => Ok(Some(env.name)),
        None => store
            .get_environment_by_name(workspace_id, given)
            .await
            .map(|env| Some(env.name))
            .map_err(ApiError::reference),
    }
}

/// Queues one execution per selected flow, in one transaction.
pub(crate) async fn enqueue(store: &Store, run: Run<'_>) -> ApiResult<Vec<Execution>> {
    let ids = flow_ids(store, run.workspace_id, run.selection).await?;
    let environment = environment_name(store, run.workspace_id, run.environment).await?;
    let contexts: Vec<RunContext> = ids
        .iter()
        .map(|id| RunContext {
            environment: environment.clone(),
            variables: run.variables.clone(),
            schedule_id: run.schedule_id.map(str::to_string),
            ..RunContext::for_flow(run.workspace_id, id, None, run.trigger)
        })
        .collect();
    store
        .enqueue_executions(&contexts)
        .await
        .map_err(ApiError::reference)
}
