//! What a mock answers: a response, or a fault the host carries out.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::Value;

/// An HTTP response produced by a mock.
#[derive(Debug, Clone, PartialEq)]
pub struct MockResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers (without `content-length`, which the host sets).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl MockResponse {
    /// A JSON response.
    pub fn json(status: StatusCode, value: &Value) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        MockResponse {
            status,
            headers,
            body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        }
    }
}

/// A way of not answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Never answer; the client waits until it gives up.
    Hang,
    /// Drop the connection without an answer.
    CloseConnection,
}

impl Fault {
    /// `"hang"` or `"close_connection"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Hang => "hang",
            Fault::CloseConnection => "close_connection",
        }
    }
}

/// The result of handling a request: a response, or a fault that each host maps to its transport.
#[derive(Debug, Clone, PartialEq)]
pub enum MockOutcome {
    /// Send this response.
    Response(MockResponse),
    /// Do not answer normally.
    Fault(Fault),
}

impl MockOutcome {
    /// The response status, `None` for a fault.
    pub fn status(&self) -> Option<u16> {
        match self {
            MockOutcome::Response(r) => Some(r.status.as_u16()),
            MockOutcome::Fault(_) => None,
        }
    }
}

/// A request rejected before matching (by a [`RequestValidator`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The status to answer: 400, 404, 405, 415 or 422.
    pub status: u16,
    /// What is wrong, one message each.
    pub errors: Vec<String>,
}

/// Checks a request before matching (mocks served from an OpenAPI document implement it).
pub trait RequestValidator: Send + Sync + 'static {
    /// `Err` answers the request with the rejection's status and errors instead of matching it.
    fn validate(&self, request: &crate::MockRequest) -> Result<(), Rejection>;
}

/// Told about every request and state change, so a host can persist them. Called when the answer
/// is ready, on the request's task: implementations must not block (queue the work instead).
pub trait MockObserver: Send + Sync + 'static {
    /// A request was answered (or faulted) and journaled.
    fn on_request(&self, mock_id: uuid::Uuid, entry: &crate::JournalEntry);
    /// A top-level state key changed; `None` when it was deleted.
    fn on_state(&self, mock_id: uuid::Uuid, key: &str, value: Option<&Value>);
    /// A mock started serving (through a [`crate::MockHub`]).
    fn on_started(&self, _mock: &crate::Mock) {}
    /// A mock stopped serving (through a [`crate::MockHub`]).
    fn on_stopped(&self, _mock: &crate::Mock) {}
    /// A running mock's endpoints changed (added, replaced or removed while it serves).
    fn on_endpoints_changed(&self, _mock: &crate::Mock) {}
}
