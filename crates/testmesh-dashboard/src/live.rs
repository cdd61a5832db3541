//! The live view's event stream: the run's events from the store, as server-sent events, until the
//! run is over. The store is the meeting point, so this works whichever process runs the execution.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::stream::{self, Stream};
use serde_json::json;

use crate::DashboardState;
use crate::pages::not_found;
use crate::session::Session;

/// How often the store is asked for new events while a run goes on.
const POLL: Duration = Duration::from_millis(150);

/// Events read per query.
const BATCH: i64 = 200;

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
    Sse::new(follow(state, session.workspace_id, id, after).take_until(shutdown))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Where the stream is: the last event sent, and whether the run was seen finished.
struct Cursor {
    state: DashboardState,
    workspace_id: String,
    id: String,
    after: i64,
    done: bool,
    pending: std::collections::VecDeque<Event>,
}

fn follow(
    state: DashboardState,
    workspace_id: String,
    id: String,
    after: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let cursor = Cursor {
        state,
        workspace_id,
        id,
        after,
        done: false,
        pending: Default::default(),
    };
    stream::unfold(Some(cursor), |cursor| async move {
        let mut cursor = cursor?;
        loop {
            if let Some(event) = cursor.pending.pop_front() {
                return Some((Ok(event), Some(cursor)));
            }
            if cursor.done {
                return Some((Ok(Event::default().event("end").data("{}")), None));
            }
            // Read the state first: events appended before a run is final are all read below.
            let finished = match cursor
                .state
                .store
                .get_execution(&cursor.workspace_id, &cursor.id)
                .await
            {
                Ok(run) => run.status.is_final(),
                Err(_) => true,
            };
            let events = cursor
                .state
                .store
                .events_after(&cursor.id, cursor.after, BATCH)
                .await
                .unwrap_or_default();
            let full = events.len() as i64 == BATCH;
            for event in events {
                cursor.after = event.seq;
                let data = json!({"seq": event.seq, "kind": event.kind, "data": event.data});
                cursor.pending.push_back(
                    Event::default()
                        .id(event.seq.to_string())
                        .data(data.to_string()),
                );
            }
            if finished && !full {
                cursor.done = true;
            } else if cursor.pending.is_empty() {
                tokio::time::sleep(POLL).await;
            }
        }
    })
}
