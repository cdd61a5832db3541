//! `log` and `delay`.

use serde_json::json;
use testmesh_flow::Action;
use testmesh_flow::duration::format_duration;

use crate::handler::{ActionCx, ActionFuture, Handler, Outcome};
use crate::record::StepError;

/// `log`: the message (and data) become the step result, which the console and reports show.
pub struct Log;

impl Handler for Log {
    fn run<'a>(&'a self, action: &'a Action, _: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::Log(config) = action else {
                return Err(StepError::config("log handler got another action"));
            };
            // Unknown levels log as info, as in the original.
            let level = config
                .level
                .as_deref()
                .filter(|l| matches!(*l, "debug" | "info" | "warn" | "error"))
                .unwrap_or("info");
            let mut result = json!({"message": config.message, "level": level, "logged": true});
            if let Some(data) = &config.data {
                result["data"] = data.clone();
            }
            Ok(Outcome::of(result))
        })
    }
}

/// `delay`: waits; the executor's timeouts still apply.
pub struct Delay;

impl Handler for Delay {
    fn run<'a>(&'a self, action: &'a Action, _: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::Delay(config) = action else {
                return Err(StepError::config("delay handler got another action"));
            };
            let Some(duration) = config.duration.literal().copied() else {
                return Err(StepError::config(
                    "`duration` must be a duration such as `500ms`",
                ));
            };
            tokio::time::sleep(duration).await;
            Ok(Outcome::of(json!({
                "duration": format_duration(duration),
                "duration_ms": u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
                "completed": true,
            })))
        })
    }
}
