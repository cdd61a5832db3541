//! `testmesh.yaml`: a project's defaults for `testmesh run` without arguments (written by `testmesh init`).

use std::path::PathBuf;

use indexmap::IndexMap;
use serde_json::Value;

use crate::CliError;
use crate::reports::ReportSpec;

/// The file name looked up in the current directory.
pub(crate) const FILE: &str = "testmesh.yaml";

/// The project configuration.
#[derive(Debug, Default)]
pub(crate) struct ProjectConfig {
    /// Flow files, directories or globs to run.
    pub(crate) flows: Vec<String>,
    /// Dotenv files read before `--env-file`s.
    pub(crate) env_files: Vec<PathBuf>,
    /// Variables set before `--var`s.
    pub(crate) vars: IndexMap<String, String>,
    /// Reports written when no `--report` is given (`junit=PATH`, `json=PATH`).
    reports: Vec<String>,
    /// Flows at once.
    pub(crate) jobs: Option<usize>,
}

impl ProjectConfig {
    /// Reads ./testmesh.yaml; every problem names the file, and the line when there is one.
    pub(crate) fn read() -> Result<Self, CliError> {
        let text = std::fs::read_to_string(FILE).map_err(|e| {
            CliError::Input(format!(
                "no flows given and cannot read ./{FILE} ({e}); pass flow files or directories, or run `testmesh init`"
            ))
        })?;
        let root = testmesh_flow::yaml::parse(&text).map_err(|e| {
            CliError::Input(format!(
                "{FILE}:{}:{}: {}",
                e.span.line, e.span.col, e.message
            ))
        })?;
        let bad =
            |key: &str, what: &str| CliError::Input(format!("{FILE}: `{key}` must be {what}"));
        let mut config = ProjectConfig::default();
        let Value::Object(map) = root.to_json() else {
            return Err(CliError::Input(format!(
                "{FILE}: expected a mapping of settings"
            )));
        };
        for (key, value) in map {
            match key.as_str() {
                "flows" => {
                    config.flows = strings(&value).ok_or_else(|| bad("flows", "a list of paths"))?
                }
                "env_files" => {
                    config.env_files = strings(&value)
                        .ok_or_else(|| bad("env_files", "a list of paths"))?
                        .into_iter()
                        .map(PathBuf::from)
                        .collect();
                }
                "reports" => {
                    config.reports = strings(&value)
                        .ok_or_else(|| bad("reports", "a list like [junit=reports/junit.xml]"))?
                }
                "jobs" => {
                    config.jobs = Some(
                        value
                            .as_u64()
                            .and_then(|n| usize::try_from(n).ok())
                            .ok_or_else(|| bad("jobs", "a whole number"))?,
                    )
                }
                "vars" => {
                    let Value::Object(vars) = value else {
                        return Err(bad("vars", "a mapping"));
                    };
                    config.vars = vars
                        .into_iter()
                        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                        .collect();
                }
                other => {
                    return Err(CliError::Input(format!(
                        "{FILE}: unknown setting `{other}` (known: flows, env_files, vars, reports, jobs)"
                    )));
                }
            }
        }
        if config.flows.is_empty() {
            return Err(bad("flows", "a non-empty list of paths"));
        }
        Ok(config)
    }

    /// The configured reports.
    pub(crate) fn reports(&self) -> Result<Vec<ReportSpec>, CliError> {
        self.reports
            .iter()
            .map(|r| {
                r.parse()
                    .map_err(|e| CliError::Input(format!("{FILE}: reports: {e}")))
            })
            .collect()
    }
}

fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}
