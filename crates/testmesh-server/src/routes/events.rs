//! Live execution events over Server-Sent Events. The stream tails the store's event log of the
//! execution, so it shows runs of in-process and remote workers alike: past events first (after
//! `Last-Event-ID`), then new ones as they are appended, polled while the execution is not final.
//! Once it is final, the remaining events are sent, then an `end` event, and the stream closes.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use futures::stream::{self, StreamExt};
use serde_json::json;
use testmesh_store::{ExecutionEvent, MAX_EVENTS_PER_READ, Store};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, Param, ParamKind};

/// The request headers the route reads.
pub(super) const HEADERS: &[Param] = &[Param {
    name: "Last-Event-ID",
    description: "resume after this event `seq` (EventSource clients send it when they reconnect)",
    kind: ParamKind::Int(0, i64::MAX),
}];

/// Where the stream is.
struct Tail {
    store: Store,
    workspace_id: String,
    execution_id: String,
    /// The last `seq` sent.
    after: i64,
    poll: Duration,
    queued: VecDeque<Event>,
    /// The final status, once seen.
    final_status: Option<&'static str>,
    /// After the final status, the stream waits one poll interval and looks once more before it
    /// ends: a worker may append its last events just after it stores the status.
    grace_used: bool,
    done: bool,
}

/// `GET /executions/{id}/events`.
pub(super) async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let after = last_event_id(&headers)?;
    // 404 before the stream starts.
    state.store.get_execution(caller.workspace(), &id).await?;
    let tail = Tail {
        store: state.store.clone(),
        workspace_id: caller.workspace().to_string(),
        execution_id: id,
        after,
        poll: state.config.event_poll,
        queued: VecDeque::new(),
        final_status: None,
        grace_used: false,
        done: false,
    };
    let events = stream::unfold(tail, next_event)
        .map(Ok)
        .take_until(state.shutdown.clone().cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(state.config.keep_alive)))
}

fn last_event_id(headers: &HeaderMap) -> ApiResult<i64> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(0);
    };
    value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map_or(Ok(0), |v| {
            v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_last_event_id",
                    "Last-Event-ID must be the `seq` of an event (a non-negative integer)",
                )
            })
        })
}

/// The SSE form of a stored event.
fn sse_event(event: &ExecutionEvent) -> Event {
    // Field values cannot hold line breaks (axum would panic); kinds are single words anyway.
    let kind: String = event
        .kind
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_string());
    Event::default()
        .id(event.seq.to_string())
        .event(kind)
        .data(data)
}

async fn next_event(mut tail: Tail) -> Option<(Event, Tail)> {
    loop {
        if let Some(event) = tail.queued.pop_front() {
            return Some((event, tail));
        }
        if tail.done {
            return None;
        }
        match step(&mut tail).await {
            Ok(true) => continue,
            Ok(false) => tokio::time::sleep(tail.poll).await,
            Err(e) => {
                tracing::warn!(execution = %tail.execution_id, error = %e, "event stream stopped");
                tail.queued.push_back(Event::default().event("error").data(
                    json!({"error": "reading the events failed; reconnect to resume"}).to_string(),
                ));
                tail.done = true;
            }
        }
    }
}

/// One look at the store: queues new events, or notices the end. `Ok(false)` when there was
/// nothing new and the caller should wait before looking again.
async fn step(tail: &mut Tail) -> testmesh_store::Result<bool> {
    let events = tail
        .store
        .events_after(&tail.execution_id, tail.after, MAX_EVENTS_PER_READ)
        .await?;
    if let Some(last) = events.last() {
        tail.after = last.seq;
        tail.queued.extend(events.iter().map(sse_event));
        return Ok(true);
    }
    match tail.final_status {
        Some(status) if tail.grace_used => {
            tail.queued.push_back(
                Event::default()
                    .event("end")
                    .data(json!({ "status": status }).to_string()),
            );
            tail.done = true;
            Ok(true)
        }
        Some(_) => {
            tail.grace_used = true;
            Ok(false)
        }
        None => {
            let execution = tail
                .store
                .get_execution(&tail.workspace_id, &tail.execution_id)
                .await?;
            if execution.status.is_final() {
                tail.final_status = Some(execution.status.as_str());
                return Ok(true);
            }
            Ok(false)
        }
    }
}
