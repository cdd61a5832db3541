//! Live execution events over Server-Sent Events. The stream tails the store's event log of the
//! execution, so it shows runs of in-process and remote workers alike: past events first (after
//! `Last-Event-ID`), then new ones as they are appended, polled while the execution is not final.
//! Once it is final, the remaining events are sent, then an `end` event, and the stream closes.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use futures::StreamExt;
use serde_json::json;
use testmesh_store::{ExecutionEvent, Followed, follow_events};

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
    let events = follow_events(
        state.store.clone(),
        caller.workspace().to_string(),
        id.clone(),
        after,
        state.config.event_poll,
    )
    .map(move |followed| Ok(sse(followed, &id)))
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

/// The SSE form of what the stream follows: each event, then `end` with the final status, or an
/// `error` event when reading failed.
fn sse(followed: Followed, execution_id: &str) -> Event {
    match followed {
        Followed::Event(event) => sse_event(&event),
        Followed::End(status) => Event::default()
            .event("end")
            .data(json!({ "status": status.as_str() }).to_string()),
        Followed::Failed(e) => {
            tracing::warn!(execution = %execution_id, error = %e, "event stream stopped");
            Event::default().event("error").data(
                json!({"error": "reading the events failed; reconnect to resume"}).to_string(),
            )
        }
    }
}
