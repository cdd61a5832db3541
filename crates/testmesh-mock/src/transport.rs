//! Between `http` types and the engine: any `http::Request` becomes a [`MockRequest`], and a
//! [`MockOutcome`] becomes an `http::Response` whose body carries faults on shared servers.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Limited};

use crate::mock::{Mock, payload_too_large};
use crate::outcome::{Fault, MockOutcome};
use crate::request::MockRequest;

/// A boxed error, as `http_body_util` uses.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error a [`MockBody`] yields to abort a connection (`close_connection` on a shared server).
#[derive(Debug, thiserror::Error)]
#[error("the mock closed the connection")]
pub struct ConnectionClosed;

/// A response body: the bytes, a body that never finishes (hang), or one that fails (close).
#[derive(Debug)]
pub struct MockBody {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    Hang,
    Fail,
}

impl MockBody {
    /// A complete body.
    pub fn full(bytes: Bytes) -> Self {
        MockBody {
            kind: Kind::Full(Some(bytes).filter(|b| !b.is_empty())),
        }
    }

    /// A body that never produces data nor ends.
    pub fn hang() -> Self {
        MockBody { kind: Kind::Hang }
    }

    /// A body that fails at once, so the server aborts the connection.
    pub fn fail() -> Self {
        MockBody { kind: Kind::Fail }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = ConnectionClosed;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ConnectionClosed>>> {
        match &mut self.kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            // Never woken: the connection's task is dropped when the client gives up or the
            // server stops.
            Kind::Hang => Poll::Pending,
            Kind::Fail => Poll::Ready(Some(Err(ConnectionClosed))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.kind, Kind::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Kind::Full(None) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

/// Why an `http::Request` could not become a [`MockRequest`].
#[derive(Debug, thiserror::Error)]
pub enum IntoRequestError {
    /// The body is larger than the limit (answer 413).
    #[error("the request body is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The body could not be read (the client went away).
    #[error("reading the request body failed: {0}")]
    Body(String),
}

/// Reads `request` into a [`MockRequest`]. `strip_prefix` is removed from the path (e.g.
/// `/mocks/{id}` on a shared server; empty for a dedicated listener); bodies above `max_body_bytes`
/// are refused without reading them all.
pub async fn request_from_http<B>(
    request: Request<B>,
    strip_prefix: &str,
    remote: Option<SocketAddr>,
    max_body_bytes: u64,
) -> Result<MockRequest, IntoRequestError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    let body = read_body(&parts.headers, body, max_body_bytes).await?;
    Ok(from_parts(parts, body, strip_prefix, remote))
}

async fn read_body<B>(
    headers: &http::HeaderMap,
    body: B,
    max_body_bytes: u64,
) -> Result<Bytes, IntoRequestError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body_bytes) {
        return Err(IntoRequestError::TooLarge {
            limit: max_body_bytes,
        });
    }
    let limit = usize::try_from(max_body_bytes).unwrap_or(usize::MAX);
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(IntoRequestError::TooLarge {
                limit: max_body_bytes,
            })
        }
        Err(e) => Err(IntoRequestError::Body(e.to_string())),
    }
}

fn from_parts(
    parts: http::request::Parts,
    body: Bytes,
    strip_prefix: &str,
    remote: Option<SocketAddr>,
) -> MockRequest {
    let path = parts.uri.path();
    let path = path.strip_prefix(strip_prefix).unwrap_or(path);
    let path = if path.is_empty() {
        "/".to_string()
    } else if !path.starts_with('/') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    MockRequest {
        method: parts.method,
        path,
        query: parts
            .uri
            .query()
            .map(MockRequest::parse_query)
            .unwrap_or_default(),
        headers: parts.headers,
        body,
        remote,
    }
}

/// Turns an outcome into a response. On a shared server a hang is a body that never ends and a
/// closed connection is a body that fails (the server then aborts the connection).
pub fn outcome_to_http(outcome: MockOutcome) -> Response<MockBody> {
    match outcome {
        MockOutcome::Response(r) => {
            let mut response = Response::new(MockBody::full(r.body));
            *response.status_mut() = r.status;
            *response.headers_mut() = r.headers;
            response
        }
        MockOutcome::Fault(fault) => {
            let body = match fault {
                Fault::Hang => MockBody::hang(),
                Fault::CloseConnection => MockBody::fail(),
            };
            let mut response = Response::new(body);
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}

impl Mock {
    /// Serves one `http::Request` (a shared server's `ANY /mocks/{id}/{*path}` route): reads the
    /// body within the mock's limit, handles it, and maps the outcome. `strip_prefix` is removed
    /// from the path.
    pub async fn serve_http<B>(
        &self,
        request: Request<B>,
        strip_prefix: &str,
        remote: Option<SocketAddr>,
    ) -> Response<MockBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        outcome_to_http(self.handle_http(request, strip_prefix, remote).await)
    }

    /// Like [`Mock::serve_http`] but returns the outcome, for hosts that carry out faults themselves.
    pub async fn handle_http<B>(
        &self,
        request: Request<B>,
        strip_prefix: &str,
        remote: Option<SocketAddr>,
    ) -> MockOutcome
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        match read_body(&parts.headers, body, self.max_body_bytes()).await {
            Ok(body) => {
                self.handle(from_parts(parts, body, strip_prefix, remote))
                    .await
            }
            Err(IntoRequestError::TooLarge { .. }) => {
                // Journal the refused request (without its body) so it is not invisible.
                self.handle_oversized(from_parts(parts, Bytes::new(), strip_prefix, remote))
                    .await
            }
            Err(IntoRequestError::Body(_)) => MockOutcome::Fault(Fault::CloseConnection),
        }
    }

    /// Journals a request whose body was refused for its size and answers 413.
    pub async fn handle_oversized(&self, request: MockRequest) -> MockOutcome {
        // `handle` checks the size again; an empty body would pass, so answer here.
        self.journal_oversized(&request);
        payload_too_large(self.max_body_bytes())
    }
}
