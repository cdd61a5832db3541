//! Every route of the server, in one table. The router and the OpenAPI document are both built
//! from it, so a route cannot exist without its documentation or the other way round.

pub(crate) mod ai;
pub(crate) mod analytics;
mod api_keys;
mod collections;
mod contracts;
mod environments;
mod events;
mod executions;
mod flows;
mod mocks;
mod reports;
mod schedules;
mod system;

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

use crate::AppState;
use crate::extract::Param;

/// What a request body is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BodyDoc {
    /// JSON of the named schema.
    Json(&'static str),
    /// A flow: raw YAML, or JSON `FlowInput`.
    FlowYaml,
}

/// What a response body is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reply {
    /// JSON of the named schema.
    Json(&'static str),
    /// No body.
    Empty,
    /// A `text/event-stream` of the named event schema.
    EventStream(&'static str),
    /// Text of a media type.
    Text(&'static str),
}

/// One route: method, path, documentation and handler.
pub(crate) struct Endpoint {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    pub(crate) operation_id: &'static str,
    pub(crate) tag: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) description: &'static str,
    pub(crate) query: &'static [Param],
    pub(crate) headers: &'static [Param],
    pub(crate) body: Option<BodyDoc>,
    /// Documented answers besides the errors every route of its kind can give.
    pub(crate) replies: Vec<(u16, &'static str, Reply)>,
    /// Served without an API key.
    pub(crate) public: bool,
    pub(crate) handler: MethodRouter<AppState>,
}

impl Endpoint {
    fn new(
        method: Method,
        path: &'static str,
        operation_id: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Endpoint {
        Endpoint {
            method,
            path,
            operation_id,
            tag: "",
            summary: "",
            description: "",
            query: &[],
            headers: &[],
            body: None,
            replies: Vec::new(),
            public: false,
            handler,
        }
    }

    fn get<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        operation_id: &'static str,
        handler: H,
    ) -> Endpoint {
        Endpoint::new(Method::GET, path, operation_id, routing::get(handler))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        operation_id: &'static str,
        handler: H,
    ) -> Endpoint {
        Endpoint::new(Method::POST, path, operation_id, routing::post(handler))
    }

    fn put<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        operation_id: &'static str,
        handler: H,
    ) -> Endpoint {
        Endpoint::new(Method::PUT, path, operation_id, routing::put(handler))
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        operation_id: &'static str,
        handler: H,
    ) -> Endpoint {
        Endpoint::new(Method::DELETE, path, operation_id, routing::delete(handler))
    }

    fn doc(mut self, tag: &'static str, summary: &'static str) -> Endpoint {
        self.tag = tag;
        self.summary = summary;
        self
    }

    fn describe(mut self, description: &'static str) -> Endpoint {
        self.description = description;
        self
    }

    fn query(mut self, params: &'static [Param]) -> Endpoint {
        self.query = params;
        self
    }

    fn headers(mut self, params: &'static [Param]) -> Endpoint {
        self.headers = params;
        self
    }

    fn body(mut self, body: BodyDoc) -> Endpoint {
        self.body = Some(body);
        self
    }

    fn json_body(self, schema: &'static str) -> Endpoint {
        self.body(BodyDoc::Json(schema))
    }

    fn reply(mut self, status: u16, description: &'static str, reply: Reply) -> Endpoint {
        self.replies.push((status, description, reply));
        self
    }

    fn ok(self, status: u16, schema: &'static str) -> Endpoint {
        let description = match status {
            201 => "created",
            _ => "success",
        };
        self.reply(status, description, Reply::Json(schema))
    }

    fn no_content(self) -> Endpoint {
        self.reply(204, "done", Reply::Empty)
    }

    fn error(self, status: u16, description: &'static str) -> Endpoint {
        self.reply(status, description, Reply::Json("Error"))
    }

    fn public(mut self) -> Endpoint {
        self.public = true;
        self
    }
}

/// Every route of the server.
pub(crate) fn endpoints() -> Vec<Endpoint> {
    let mut all = vec![
        Endpoint::get("/health", "health", system::health)
            .doc("system", "Server and database health")
            .describe("Needs no API key. 503 when the database does not answer.")
            .reply(200, "the server and its database work", Reply::Json("Health"))
            .reply(503, "the database does not answer", Reply::Json("Health"))
            .public(),
        Endpoint::get("/metrics", "metrics", system::metrics)
            .doc("system", "Prometheus metrics")
            .describe(
                "Executions by status, queue depth, step durations by action (histogram over the stored steps) and HTTP requests by route and status, in the Prometheus text format.",
            )
            .reply(200, "the metrics", Reply::Text("text/plain; version=0.0.4")),
        Endpoint::get("/api/v1/openapi.json", "openapi", system::openapi)
            .doc("system", "This API's OpenAPI 3.1 document")
            .reply(200, "the document", Reply::Json("OpenApi")),
    ];
    all.extend(flows::endpoints());
    all.extend(executions::endpoints());
    all.extend(environments::endpoints());
    all.extend(collections::endpoints());
    all.extend(schedules::endpoints());
    all.extend(api_keys::endpoints());
    all.extend(mocks::endpoints());
    all.extend(contracts::endpoints());
    all.extend(reports::endpoints());
    all.extend(analytics::endpoints());
    all.extend(ai::endpoints());
    all
}
