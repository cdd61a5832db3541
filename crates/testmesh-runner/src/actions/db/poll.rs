//! `db_poll`: run a query every `interval` until its rows satisfy the condition, or give up after
//! `timeout` / `max_attempts` with what was seen last.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use testmesh_flow::duration::format_duration;
use testmesh_flow::model::actions::{DbPollConfig, PollCondition, PollConditionType};

use super::{Executed, Pools, Request, Transaction, insert_rows};
use crate::record::{ErrorKind, StepError};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_MAX_ATTEMPTS: u32 = 100;

/// What must hold, checked against each attempt's rows.
enum Check {
    MinRows(u64),
    ValueEquals { column: String, expected: String },
    ValueNotNull { column: String },
}

impl Check {
    fn of(condition: Option<&PollCondition>) -> Result<Check, StepError> {
        let Some(condition) = condition else {
            return Ok(Check::MinRows(1));
        };
        let column = || {
            condition
                .column
                .clone()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    StepError::config(format!(
                        "condition {} needs `column`",
                        condition.kind.as_str()
                    ))
                })
        };
        Ok(match condition.kind {
            PollConditionType::RowExists => Check::MinRows(1),
            PollConditionType::RowCount => Check::MinRows(
                condition
                    .min_count
                    .as_ref()
                    .and_then(|m| m.literal().copied())
                    .unwrap_or(1),
            ),
            PollConditionType::ValueEquals => Check::ValueEquals {
                column: column()?,
                expected: as_text(condition.value.as_ref().unwrap_or(&Value::Null)),
            },
            PollConditionType::ValueNotNull => Check::ValueNotNull { column: column()? },
        })
    }

    fn describe(&self) -> String {
        match self {
            Check::MinRows(1) => "at least 1 row".into(),
            Check::MinRows(n) => format!("at least {n} rows"),
            Check::ValueEquals { column, expected } => format!("{column} = '{expected}'"),
            Check::ValueNotNull { column } => format!("{column} is not null"),
        }
    }

    /// Whether the rows satisfy the check; an error when the named column is not in them.
    fn holds(&self, rows: &[Map<String, Value>]) -> Result<bool, StepError> {
        let first_value = |column: &str| -> Result<Option<Value>, StepError> {
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            first.get(column).cloned().map(Some).ok_or_else(|| {
                StepError::action(format!(
                    "column `{column}` is not in the result (columns: {})",
                    first.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })
        };
        Ok(match self {
            Check::MinRows(n) => u64::try_from(rows.len()).unwrap_or(u64::MAX) >= *n,
            Check::ValueEquals { column, expected } => {
                first_value(column)?.is_some_and(|v| as_text(&v) == *expected)
            }
            Check::ValueNotNull { column } => first_value(column)?.is_some_and(|v| !v.is_null()),
        })
    }
}

/// Values compared as text: strings as they are, null as empty, others as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Polls until the condition holds; the result is `{success, row_count, attempts, duration_ms,
/// rows, first_row?}`.
pub(super) async fn run(
    pools: &Pools,
    request: &Request,
    config: &DbPollConfig,
) -> Result<Value, StepError> {
    let check = Check::of(config.condition.as_ref())?;
    let literal =
        |d: Option<&testmesh_flow::decode::Tpl<Duration>>| d.and_then(|d| d.literal().copied());
    let timeout = literal(config.timeout.as_ref()).unwrap_or(DEFAULT_TIMEOUT);
    let interval = literal(config.interval.as_ref()).unwrap_or(DEFAULT_INTERVAL);
    let max_attempts = config
        .max_attempts
        .as_ref()
        .and_then(|m| m.literal().copied())
        .filter(|m| *m > 0)
        .unwrap_or(DEFAULT_MAX_ATTEMPTS);
    let started = Instant::now();
    let deadline = started + timeout;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let executed = request.run(pools, Transaction::None).await?;
        let satisfied = check.holds(executed.rows())?;
        let now = Instant::now();
        if satisfied {
            return Ok(summary(&executed, attempts, started));
        }
        if attempts >= max_attempts || now >= deadline {
            return Err(StepError::new(
                ErrorKind::Timeout,
                format!(
                    "db_poll: {} not met after {attempts} attempt(s) in {}; last result: {}",
                    check.describe(),
                    format_duration(started.elapsed()),
                    last_observation(&executed),
                ),
            ));
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
    }
}

fn summary(executed: &Executed, attempts: u32, started: Instant) -> Value {
    let rows = executed.rows();
    let mut out = Map::new();
    out.insert("success".into(), json!(true));
    out.insert("attempts".into(), json!(attempts));
    out.insert(
        "duration_ms".into(),
        json!(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
    );
    insert_rows(&mut out, rows);
    if let Some(first) = rows.first() {
        out.insert("first_row".into(), Value::Object(first.clone()));
    }
    Value::Object(out)
}

/// The last rows seen, short enough for an error message.
fn last_observation(executed: &Executed) -> String {
    let rows = executed.rows();
    match rows.first() {
        None => "no rows".into(),
        Some(first) => {
            let mut first = Value::Object(first.clone()).to_string();
            if first.len() > 300 {
                let cut = (0..=300)
                    .rev()
                    .find(|i| first.is_char_boundary(*i))
                    .unwrap_or(0);
                first.truncate(cut);
                first.push('…');
            }
            format!("{} row(s), first {first}", rows.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(values: &[Value]) -> Vec<Map<String, Value>> {
        values
            .iter()
            .filter_map(|v| v.as_object().cloned())
            .collect()
    }

    #[test]
    fn checks() {
        let none = rows(&[]);
        let one = rows(&[json!({"status": "done", "n": 2, "gone": null})]);
        assert!(!Check::MinRows(1).holds(&none).unwrap());
        assert!(Check::MinRows(1).holds(&one).unwrap());
        assert!(!Check::MinRows(2).holds(&one).unwrap());
        let equals = |column: &str, expected: &str| Check::ValueEquals {
            column: column.into(),
            expected: expected.into(),
        };
        assert!(equals("status", "done").holds(&one).unwrap());
        assert!(equals("n", "2").holds(&one).unwrap());
        assert!(!equals("n", "3").holds(&one).unwrap());
        assert!(!equals("n", "2").holds(&none).unwrap());
        assert!(equals("missing", "x").holds(&one).is_err());
        let not_null = |column: &str| Check::ValueNotNull {
            column: column.into(),
        };
        assert!(not_null("n").holds(&one).unwrap());
        assert!(!not_null("gone").holds(&one).unwrap());
    }
}
