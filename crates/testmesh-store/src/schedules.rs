//! Schedules: cron expressions (validated with `croner`, evaluated in an IANA time zone) that enqueue
//! a flow, or the flows of a suite or tags. A tick is claimed by advancing `next_run_at` with a
//! compare-and-set, so two servers never both enqueue it.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use croner::Cron;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;

use crate::Store;
use crate::db::{RowExt, Sql, delete_owned, fetch_owned, ms, new_id, now_ms, to_json_text};
use crate::error::{Error, Result};

/// A schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// Name, unique in the workspace.
    pub name: String,
    /// The flow to run; or `None` to run the flows selected by `suite`/`tags`.
    pub flow_id: Option<String>,
    /// Run the flows of this suite.
    pub suite: Option<String>,
    /// Run the flows with any of these tags.
    pub tags: Vec<String>,
    /// Cron expression (5 fields, or 6 with seconds; `@daily` and friends).
    pub cron_expr: String,
    /// IANA time zone the expression is read in, e.g. `Europe/Paris`.
    pub timezone: String,
    /// Environment name for the runs.
    pub environment: Option<String>,
    /// Variables for the runs.
    pub variables: Value,
    /// Paused schedules keep their settings but do not run.
    pub enabled: bool,
    /// The next tick (none while paused).
    pub next_run_at: Option<DateTime<Utc>>,
    /// The last tick that was enqueued.
    pub last_run_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The fields of a schedule to create or replace.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScheduleInput {
    /// Name, unique in the workspace.
    pub name: String,
    /// The flow to run.
    #[serde(default)]
    pub flow_id: Option<String>,
    /// Or the flows of this suite.
    #[serde(default)]
    pub suite: Option<String>,
    /// Or the flows with any of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Cron expression.
    pub cron_expr: String,
    /// IANA time zone (default `UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Environment name for the runs.
    #[serde(default)]
    pub environment: Option<String>,
    /// Variables for the runs.
    #[serde(default)]
    pub variables: Option<Value>,
    /// Start enabled (default true).
    #[serde(default = "enabled_default")]
    pub enabled: bool,
}

fn enabled_default() -> bool {
    true
}

impl ScheduleInput {
    /// A schedule of one flow in UTC, enabled.
    pub fn for_flow(name: &str, flow_id: &str, cron_expr: &str) -> ScheduleInput {
        ScheduleInput {
            name: name.to_string(),
            flow_id: Some(flow_id.to_string()),
            suite: None,
            tags: Vec::new(),
            cron_expr: cron_expr.to_string(),
            timezone: None,
            environment: None,
            variables: None,
            enabled: true,
        }
    }
}

fn parse_cron(expr: &str) -> Result<Cron> {
    Cron::from_str(expr.trim())
        .map_err(|e| Error::invalid(format!("invalid cron expression `{expr}`: {e}")))
}

fn parse_tz(timezone: &str) -> Result<chrono_tz::Tz> {
    chrono_tz::Tz::from_str(timezone)
        .map_err(|_| Error::invalid(format!("unknown time zone `{timezone}`")))
}

/// The first tick of `cron_expr` (read in `timezone`) strictly after `after`. `Invalid` for a bad
/// expression or zone, or an expression that never fires.
pub fn next_run_after(
    cron_expr: &str,
    timezone: &str,
    after: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    let cron = parse_cron(cron_expr)?;
    let tz = parse_tz(timezone)?;
    cron.find_next_occurrence(&after.with_timezone(&tz), false)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::invalid(format!("cron expression `{cron_expr}` never fires: {e}")))
}

const COLUMNS: &str = "SELECT id, workspace_id, name, flow_id, suite, tags, cron_expr, timezone, environment, variables, enabled, next_run_at, last_run_at, created_at, updated_at FROM schedules";

impl Schedule {
    fn from_row(row: &AnyRow) -> Result<Schedule> {
        Ok(Schedule {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            name: row.text("name")?,
            flow_id: row.opt_text("flow_id")?,
            suite: row.opt_text("suite")?,
            tags: row.string_list("tags")?,
            cron_expr: row.text("cron_expr")?,
            timezone: row.text("timezone")?,
            environment: row.opt_text("environment")?,
            variables: row.json("variables")?,
            enabled: row.flag("enabled")?,
            next_run_at: row.opt_time("next_run_at")?,
            last_run_at: row.opt_time("last_run_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

/// Validated input: the time zone and the first tick.
struct Checked {
    timezone: String,
    next_run_at: Option<i64>,
}

impl Store {
    async fn check_schedule(&self, workspace_id: &str, input: &ScheduleInput) -> Result<Checked> {
        if input.name.trim().is_empty() {
            return Err(Error::invalid("a schedule needs a name"));
        }
        let timezone = input.timezone.clone().unwrap_or_else(|| "UTC".to_string());
        let next = next_run_after(&input.cron_expr, &timezone, Utc::now())?;
        match &input.flow_id {
            Some(flow_id) => {
                self.get_flow(workspace_id, flow_id).await?;
            }
            None if input.suite.is_none() && input.tags.is_empty() => {
                return Err(Error::invalid(
                    "a schedule runs a flow (flow_id) or a selection (suite and/or tags)",
                ));
            }
            None => self.ensure_workspace(workspace_id).await?,
        }
        Ok(Checked {
            timezone,
            next_run_at: input.enabled.then(|| ms(next)),
        })
    }

    /// Creates a schedule and computes its first tick. `Invalid` for a bad cron expression or time
    /// zone, `NotFound` for an unknown flow, `Conflict` for a taken name.
    pub async fn create_schedule(
        &self,
        workspace_id: &str,
        input: &ScheduleInput,
    ) -> Result<Schedule> {
        let checked = self.check_schedule(workspace_id, input).await?;
        let id = new_id();
        let now = now_ms();
        let mut sql = Sql::new(
            "INSERT INTO schedules (id, workspace_id, name, flow_id, suite, tags, cron_expr, timezone, environment, variables, enabled, next_run_at, created_at, updated_at) VALUES (",
        );
        sql.bind(id.as_str())
            .push(", ")
            .bind(workspace_id)
            .push(", ")
            .bind(input.name.as_str())
            .push(", ")
            .bind(input.flow_id.as_deref())
            .push(", ")
            .bind(input.suite.as_deref())
            .push(", ")
            .bind(to_json_text(&input.tags))
            .push(", ")
            .bind(input.cron_expr.trim())
            .push(", ")
            .bind(checked.timezone.as_str())
            .push(", ")
            .bind(input.environment.as_deref())
            .push(", ")
            .bind(to_json_text(&variables(input)))
            .push(", ")
            .bind(i64::from(input.enabled))
            .push(", ")
            .bind(checked.next_run_at)
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&self.pool)
            .await
            .map_err(|e| taken(e, &input.name))?;
        self.get_schedule(workspace_id, &id).await
    }

    /// A schedule.
    pub async fn get_schedule(&self, workspace_id: &str, id: &str) -> Result<Schedule> {
        Schedule::from_row(&fetch_owned(&self.pool, COLUMNS, "schedule", workspace_id, id).await?)
    }

    /// Every schedule of the workspace, by name.
    pub async fn list_schedules(&self, workspace_id: &str) -> Result<Vec<Schedule>> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" ORDER BY name, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(Schedule::from_row)
            .collect()
    }

    /// Replaces a schedule's fields and recomputes its next tick.
    pub async fn update_schedule(
        &self,
        workspace_id: &str,
        id: &str,
        input: &ScheduleInput,
    ) -> Result<Schedule> {
        let checked = self.check_schedule(workspace_id, input).await?;
        let mut sql = Sql::new("UPDATE schedules SET name = ");
        sql.bind(input.name.as_str())
            .push(", flow_id = ")
            .bind(input.flow_id.as_deref())
            .push(", suite = ")
            .bind(input.suite.as_deref())
            .push(", tags = ")
            .bind(to_json_text(&input.tags))
            .push(", cron_expr = ")
            .bind(input.cron_expr.trim())
            .push(", timezone = ")
            .bind(checked.timezone.as_str())
            .push(", environment = ")
            .bind(input.environment.as_deref())
            .push(", variables = ")
            .bind(to_json_text(&variables(input)))
            .push(", enabled = ")
            .bind(i64::from(input.enabled))
            .push(", next_run_at = ")
            .bind(checked.next_run_at)
            .push(", updated_at = ")
            .bind(now_ms())
            .push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        if sql
            .execute(&self.pool)
            .await
            .map_err(|e| taken(e, &input.name))?
            == 0
        {
            return Err(Error::not_found("schedule", id));
        }
        self.get_schedule(workspace_id, id).await
    }

    /// Pauses (`false`) or resumes (`true`) a schedule; resuming computes the next tick from now.
    pub async fn set_schedule_enabled(
        &self,
        workspace_id: &str,
        id: &str,
        enabled: bool,
    ) -> Result<Schedule> {
        let current = self.get_schedule(workspace_id, id).await?;
        let next = if enabled {
            Some(ms(next_run_after(
                &current.cron_expr,
                &current.timezone,
                Utc::now(),
            )?))
        } else {
            None
        };
        let mut sql = Sql::new("UPDATE schedules SET enabled = ");
        sql.bind(i64::from(enabled))
            .push(", next_run_at = ")
            .bind(next)
            .push(", updated_at = ")
            .bind(now_ms())
            .push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        sql.execute(&self.pool).await?;
        self.get_schedule(workspace_id, id).await
    }

    /// Deletes a schedule.
    pub async fn delete_schedule(&self, workspace_id: &str, id: &str) -> Result<()> {
        delete_owned(&self.pool, "schedules", "schedule", workspace_id, id).await
    }

    /// Enabled schedules of every workspace whose next tick is at or before `now`, oldest first.
    pub async fn due_schedules(&self, now: DateTime<Utc>) -> Result<Vec<Schedule>> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE enabled = 1 AND next_run_at <= ")
            .bind(ms(now))
            .push(" ORDER BY next_run_at, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(Schedule::from_row)
            .collect()
    }

    /// Claims the tick `schedule.next_run_at` of a due schedule: records it as the last run and
    /// advances `next_run_at` to the first tick after `now` (missed ticks are not replayed), but
    /// only if nobody did so first. Returns `true` for the one caller that should enqueue the run.
    pub async fn mark_schedule_ran(&self, schedule: &Schedule, now: DateTime<Utc>) -> Result<bool> {
        let Some(tick) = schedule.next_run_at else {
            return Ok(false);
        };
        let next = next_run_after(&schedule.cron_expr, &schedule.timezone, now.max(tick))?;
        let mut sql = Sql::new("UPDATE schedules SET last_run_at = ");
        sql.bind(ms(tick))
            .push(", next_run_at = ")
            .bind(ms(next))
            .push(" WHERE enabled = 1 AND id = ")
            .bind(schedule.id.as_str())
            .push(" AND next_run_at = ")
            .bind(ms(tick));
        Ok(sql.execute(&self.pool).await? == 1)
    }
}

fn variables(input: &ScheduleInput) -> Value {
    input
        .variables
        .clone()
        .unwrap_or_else(|| Value::Object(Default::default()))
}

fn taken(e: Error, name: &str) -> Error {
    match e {
        Error::Conflict(_) => Error::Conflict(format!("a schedule named `{name}` already exists")),
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn next_runs() {
        let at = Utc
            .with_ymd_and_hms(2025, 1, 1, 10, 7, 0)
            .single()
            .unwrap_or_default();
        let next = next_run_after("*/15 * * * *", "UTC", at).ok();
        assert_eq!(next, Utc.with_ymd_and_hms(2025, 1, 1, 10, 15, 0).single());
        // 09:00 in Paris is 08:00 UTC in winter.
        let next = next_run_after("0 9 * * *", "Europe/Paris", at).ok();
        assert_eq!(next, Utc.with_ymd_and_hms(2025, 1, 2, 8, 0, 0).single());
        assert!(matches!(
            next_run_after("61 * * * *", "UTC", at),
            Err(Error::Invalid { .. })
        ));
        assert!(matches!(
            next_run_after("* * * * *", "Mars/Base", at),
            Err(Error::Invalid { .. })
        ));
    }
}
