//! The live view's event stream: the run's events from the store ([`follow_events`], as the API's
//! stream), as server-sent events until the run is over.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::json;
use testmesh_store::{Followed, follow_events};

use crate::DashboardState;
use crate::pages::not_found;
use crate::session::Session;

/// How often the store is asked for new events while a run goes on.
const POLL: Duration = Duration::from_millis(150);

/// `GET /executions/{id}/live`: one SSE message per stored event (`id` = its position, data =
/// `{seq, kind, data}`), resuming after `Last-Event-ID`; an `end` event when the run is over.
pub(crate) async fn live(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    // The run must be of the session's workspace.
    if state
        .store
        .get_execution(&session.workspace_id, &id)
        .await
        .is_err()
    {
        return not_found();
    }
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let shutdown = state.shutdown.clone().cancelled_owned();
    let events = follow_events(state.store.clone(), session.workspace_id, id, after, POLL)
        .map(|followed| Ok::<_, Infallible>(message(followed)))
        .take_until(shutdown);
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The page's form of what the stream follows; a failed read ends the stream like the run's end
/// (the page then reloads and shows what is stored).
fn message(followed: Followed) -> Event {
    match followed {
        Followed::Event(event) => Event::default()
            .id(event.seq.to_string())
            .data(json!({"seq": event.seq, "kind": event.kind, "data": event.data}).to_string()),
        Followed::End(_) | Followed::Failed(_) => Event::default().event("end").data("{}"),
    }
}
