//! Logging in with an API key: the key is checked once, and the browser gets an opaque session
//! cookie (HttpOnly, SameSite=Lax). Every page re-checks that the key is not revoked, so revoking
//! a key ends its sessions. Sessions live in the server's memory: a restart logs everyone out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRef, FromRequestParts, OriginalUri};
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use crate::DashboardState;
use crate::pages::error_page;

/// Name of the session cookie.
pub(crate) const COOKIE_NAME: &str = "tm_session";

/// How long a session lasts without use.
const IDLE: Duration = Duration::from_secs(12 * 60 * 60);

/// The signed-in user: the workspace and API key they logged in with.
#[derive(Debug, Clone)]
pub struct Session {
    /// Workspace of the key.
    pub workspace_id: String,
    /// The key's id.
    pub key_id: String,
    /// The key's name, shown in the header.
    pub key_name: String,
    last_seen: Instant,
}

/// The sessions of this server.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Session>>>,
}

impl Sessions {
    /// Starts a session for a verified key; returns the cookie value.
    pub(crate) fn start(&self, workspace_id: &str, key_id: &str, key_name: &str) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut sessions = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.last_seen.elapsed() < IDLE);
        sessions.insert(
            token.clone(),
            Session {
                workspace_id: workspace_id.to_string(),
                key_id: key_id.to_string(),
                key_name: key_name.to_string(),
                last_seen: Instant::now(),
            },
        );
        token
    }

    /// The live session of a token, refreshed.
    fn touch(&self, token: &str) -> Option<Session> {
        let mut sessions = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let session = sessions.get_mut(token)?;
        if session.last_seen.elapsed() >= IDLE {
            sessions.remove(token);
            return None;
        }
        session.last_seen = Instant::now();
        Some(session.clone())
    }

    /// Ends a session.
    pub(crate) fn end(&self, token: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }
}

/// The session token sent by the browser, if any.
pub(crate) fn token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE_NAME).then(|| value.to_string())
        })
}

/// The cookie that holds a session (or clears it, for an empty token).
pub(crate) fn cookie(token: &str) -> String {
    let max_age = if token.is_empty() { 0 } else { IDLE.as_secs() };
    format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// Where a request goes to log in: `/login?next=<the page asked for>`.
fn login_redirect(parts: &Parts) -> Response {
    let asked = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
    let next = asked
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let target = format!("/login?next={}", url_escape(&next));
    Redirect::to(&target).into_response()
}

/// Percent-encodes everything but unreserved characters.
pub(crate) fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl<S> FromRequestParts<S> for Session
where
    S: Send + Sync,
    DashboardState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = DashboardState::from_ref(state);
        let Some(token) = token(parts) else {
            return Err(login_redirect(parts));
        };
        let Some(session) = state.sessions.touch(&token) else {
            return Err(login_redirect(parts));
        };
        match state
            .store
            .get_api_key(&session.workspace_id, &session.key_id)
            .await
        {
            Ok(key) if key.revoked_at.is_none() => Ok(session),
            Ok(_) | Err(testmesh_store::Error::NotFound { .. }) => {
                state.sessions.end(&token);
                Err(login_redirect(parts))
            }
            Err(e) => Err(error_page(&e.to_string())),
        }
    }
}
