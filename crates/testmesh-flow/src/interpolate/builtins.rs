//! Built-in variables (`TIMESTAMP`, `UUID`, `DATE`, …) evaluated per rendered leaf.

use std::cell::OnceCell;

use chrono::{DateTime, Local, SecondsFormat};
use rand::RngExt;
use rand::distr::Alphanumeric;
use serde_json::Value;

use super::scope::SystemInfo;

/// Names of all built-in variables.
#[rustfmt::skip]
pub const BUILTINS: &[&str] = &[
    "FLOW_ID", "FLOW_NAME", "EXECUTION_ID", "TIMESTAMP", "TIMESTAMP_UNIX", "TIMESTAMP_MS",
    "ISO_TIMESTAMP", "DATE", "TIME", "DATETIME", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND",
    "RANDOM_ID", "UUID", "RANDOM_INT", "RANDOM_STRING",
];

/// True when `name` is a built-in variable (exact, upper-case).
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// Per-leaf state: the clock and the `UUID`/`RANDOM_ID` value are fixed once
/// per rendered string leaf and created lazily.
#[derive(Debug, Default)]
pub(crate) struct LeafContext {
    now: OnceCell<DateTime<Local>>,
    uuid: OnceCell<String>,
}

impl LeafContext {
    fn now(&self) -> DateTime<Local> {
        *self.now.get_or_init(Local::now)
    }

    /// Evaluates built-in `name`; `None` if it is not a built-in.
    pub(crate) fn builtin(&self, name: &str, system: &SystemInfo) -> Option<Value> {
        let fmt = |f: &str| Value::String(self.now().format(f).to_string());
        Some(match name {
            "FLOW_ID" => Value::String(system.flow_id.clone()),
            "FLOW_NAME" => Value::String(system.flow_name.clone()),
            "EXECUTION_ID" => Value::String(system.execution_id.clone()),
            "TIMESTAMP" | "TIMESTAMP_UNIX" => Value::from(self.now().timestamp()),
            "TIMESTAMP_MS" => Value::from(self.now().timestamp_millis()),
            "ISO_TIMESTAMP" => {
                Value::String(self.now().to_rfc3339_opts(SecondsFormat::Millis, false))
            }
            "DATE" => fmt("%Y-%m-%d"),
            "TIME" => fmt("%H:%M:%S"),
            "DATETIME" => fmt("%Y-%m-%d %H:%M:%S"),
            "YEAR" => fmt("%Y"),
            "MONTH" => fmt("%m"),
            "DAY" => fmt("%d"),
            "HOUR" => fmt("%H"),
            "MINUTE" => fmt("%M"),
            "SECOND" => fmt("%S"),
            "RANDOM_ID" | "UUID" => Value::String(
                self.uuid
                    .get_or_init(|| uuid::Uuid::new_v4().to_string())
                    .clone(),
            ),
            "RANDOM_INT" => Value::from(rand::rng().random_range(0..=999_999u32)),
            "RANDOM_STRING" => Value::String(
                rand::rng()
                    .sample_iter(Alphanumeric)
                    .take(16)
                    .map(char::from)
                    .collect(),
            ),
            _ => return None,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn builtins_values() {
        let sys = SystemInfo {
            flow_id: "f1".into(),
            flow_name: "Flow".into(),
            execution_id: "e1".into(),
        };
        let ctx = LeafContext::default();
        assert_eq!(ctx.builtin("FLOW_ID", &sys), Some(Value::from("f1")));
        assert_eq!(ctx.builtin("flow_id", &sys), None);
        assert!(ctx.builtin("TIMESTAMP", &sys).is_some_and(|v| v.is_i64()));
        assert!(
            ctx.builtin("TIMESTAMP_MS", &sys)
                .is_some_and(|v| v.is_i64())
        );
        assert_eq!(ctx.builtin("UUID", &sys), ctx.builtin("RANDOM_ID", &sys));
        let month = ctx.builtin("MONTH", &sys).unwrap();
        assert_eq!(month.as_str().map(str::len), Some(2));
        let s = ctx.builtin("RANDOM_STRING", &sys).unwrap();
        assert!(
            s.as_str()
                .is_some_and(|s| s.len() == 16 && s.chars().all(|c| c.is_ascii_alphanumeric()))
        );
        assert!(
            ctx.builtin("RANDOM_INT", &sys)
                .and_then(|v| v.as_u64())
                .is_some_and(|n| n <= 999_999)
        );
        let iso = ctx.builtin("ISO_TIMESTAMP", &sys).unwrap();
        assert!(
            iso.as_str()
                .is_some_and(|s| DateTime::parse_from_rfc3339(s).is_ok())
        );
        assert!(
            BUILTINS
                .iter()
                .all(|b| is_builtin(b) && ctx.builtin(b, &sys).is_some())
        );
        assert_ne!(
            LeafContext::default().builtin("UUID", &sys),
            ctx.builtin("UUID", &sys)
        );
    }
}
