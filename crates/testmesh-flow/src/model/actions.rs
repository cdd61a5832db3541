//! Every action a step can name, with its typed config.
//!
//! The list covers the original's registered handlers, the documented actions it never built, and the
//! documented aliases (`http` → `http_request`, `kafka_publish` → `kafka_producer`, `grpc_call` → `grpc`).
//! Later crates add behaviour for these configs; the set of accepted keys lives only here.

use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;

use crate::config_struct;
use crate::decode::{Decoder, FromNode, Tpl};
use crate::model::step::{Assertion, Condition, OnFailure, Step};
use crate::string_enum;
use crate::yaml::{Node, NodeKind, Span};

macro_rules! actions {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $name:literal $([$($alias:literal),*])? => $config:ty
    ),* $(,)?) => {
        /// The canonical name of an action.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ActionKind { $($(#[doc = $doc])* $variant),* }

        impl ActionKind {
            /// Every action.
            pub const ALL: &'static [ActionKind] = &[$(ActionKind::$variant),*];

            /// The canonical name, e.g. `http_request`.
            pub fn name(self) -> &'static str {
                match self { $(ActionKind::$variant => $name),* }
            }

            /// Other accepted names, e.g. `http` for `http_request`.
            pub fn aliases(self) -> &'static [&'static str] {
                match self { $(ActionKind::$variant => &[$($($alias),*)?]),* }
            }

            /// One line on what the action does.
            pub fn summary(self) -> &'static str {
                match self { $(ActionKind::$variant => concat!($($doc),*)),* }.trim()
            }

            /// Looks an action up by its name or an alias.
            pub fn from_name(name: &str) -> Option<Self> {
                $(if name == $name $($(|| name == $alias)*)? { return Some(ActionKind::$variant); })*
                None
            }

            /// The JSON Schema of the action's `config`.
            pub fn config_schema(self) -> Value {
                match self { $(ActionKind::$variant => <$config as FromNode>::schema()),* }
            }
        }

        /// An action with its decoded config.
        #[derive(Debug, Clone)]
        pub enum Action { $($(#[doc = $doc])* $variant(Box<$config>)),* }

        impl Action {
            /// Which action this is.
            pub fn kind(&self) -> ActionKind {
                match self { $(Action::$variant(_) => ActionKind::$variant),* }
            }

            fn decode_config(kind: ActionKind, node: &Node, cx: &mut Decoder) -> Option<Action> {
                match kind { $(ActionKind::$variant => <$config as FromNode>::from_node(node, cx).map(|c| Action::$variant(Box::new(c)))),* }
            }
        }
    };
}

impl ActionKind {
    /// Every accepted name, canonical names and aliases.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        ActionKind::ALL
            .iter()
            .flat_map(|k| std::iter::once(k.name()).chain(k.aliases().iter().copied()))
    }
}

/// Roots that mock-server response templates render per request (`{{request.body.name}}`,
/// `{{state.counter}}`); flow interpolation leaves references to them as written in the endpoints of
/// `mock_server_start` / `mock_server_configure`.
pub const MOCK_TEMPLATE_ROOTS: &[&str] = &[
    "request",
    "state",
    "path",
    "query",
    "header",
    "headers",
    "body",
    "random",
    "timestamp",
    "timestamp_unix",
    "request_count",
];

/// Whether the config value at `path` is rendered by the action itself when it runs, not by flow
/// interpolation before the step: nested steps (rendered as each runs, with loop variables) and the
/// templates of `transform`'s `format` operations (rendered with the operation's input).
pub fn is_deferred(kind: ActionKind, path: &[&str]) -> bool {
    match (kind, path) {
        (ActionKind::Condition, [key, ..]) => *key == "then" || *key == "else",
        (ActionKind::ForEach | ActionKind::Parallel | ActionKind::WaitUntil, [key, ..]) => {
            *key == "steps"
        }
        (ActionKind::Transform, ["operations", _, "template"]) => true,
        _ => false,
    }
}

impl Action {
    /// Decodes a step's `config` for `kind`. A missing config is read as an empty mapping so that
    /// missing required keys are reported at the `action:` line.
    pub fn decode(
        kind: ActionKind,
        config: &Node,
        action_span: Span,
        cx: &mut Decoder,
    ) -> Option<Action> {
        if config.is_null() {
            let empty = Node {
                kind: NodeKind::Map(Vec::new()),
                span: action_span,
                style: None,
            };
            return Action::decode_config(kind, &empty, cx);
        }
        Action::decode_config(kind, config, cx)
    }

    /// Decodes a config after interpolation, when every `${…}` has been replaced by its value: typed
    /// fields accept rendered text (`"5"` for a number, `"true"` for a boolean). Errors name the field,
    /// e.g. `` `max_redirects`: expected a whole number ≥ 0, found string "many" ``.
    pub fn from_rendered(
        kind: ActionKind,
        config: &serde_json::Value,
    ) -> Result<Action, Vec<String>> {
        Action::from_rendered_node(kind, &Node::from_json(config))
    }

    /// [`Action::from_rendered`] for a config already rendered as a tree.
    pub fn from_rendered_node(kind: ActionKind, node: &Node) -> Result<Action, Vec<String>> {
        let mut cx = Decoder::new("", crate::decode::Mode::Runtime);
        let action = Action::decode(kind, node, Span::default(), &mut cx);
        let errors: Vec<String> = cx
            .diagnostics
            .into_iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .map(|d| d.message)
            .collect();
        match action {
            Some(action) if errors.is_empty() => Ok(action),
            _ => Err(errors),
        }
    }

    /// Steps nested in this action's config, with the key that holds them.
    pub fn nested_steps(&self) -> Vec<(&'static str, &[Step])> {
        match self {
            Action::Condition(c) => vec![("then", &c.then), ("else", &c.else_)],
            Action::ForEach(c) => vec![("steps", &c.steps)],
            Action::Parallel(c) => vec![("steps", &c.steps)],
            Action::WaitUntil(c) => vec![("steps", &c.steps)],
            _ => Vec::new(),
        }
    }

    pub(crate) fn nested_steps_mut(&mut self) -> Vec<(&'static str, &mut Vec<Step>)> {
        match self {
            Action::Condition(c) => vec![("then", &mut c.then), ("else", &mut c.else_)],
            Action::ForEach(c) => vec![("steps", &mut c.steps)],
            Action::Parallel(c) => vec![("steps", &mut c.steps)],
            Action::WaitUntil(c) => vec![("steps", &mut c.steps)],
            _ => Vec::new(),
        }
    }
}

actions! {
    /// Send an HTTP request and capture status, headers, body and timing.
    HttpRequest = "http_request" ["http"] => HttpRequestConfig,
    /// Run a SQL query against PostgreSQL, MySQL/MariaDB or SQLite.
    DatabaseQuery = "database_query" => DatabaseQueryConfig,
    /// Poll a SQL query until a condition on its rows holds.
    DbPoll = "db_poll" => DbPollConfig,
    /// Write a message to the run log.
    Log = "log" => LogConfig,
    /// Wait for a fixed time.
    Delay = "delay" => DelayConfig,
    /// Reshape data: extract, map, filter, join, format.
    Transform = "transform" => TransformConfig,
    /// Check expressions against given data.
    Assert = "assert" => AssertConfig,
    /// Run `then` or `else` steps depending on an expression.
    Condition = "condition" => ConditionConfig,
    /// Run steps for each item of a list, a range or a glob.
    ForEach = "for_each" => ForEachConfig,
    /// Run steps concurrently.
    Parallel = "parallel" => ParallelConfig,
    /// Re-run steps until an expression holds or time runs out.
    WaitUntil = "wait_until" => WaitUntilConfig,
    /// Wait until an HTTP endpoint or a TCP port answers.
    WaitFor = "wait_for" => WaitForConfig,
    /// Run another flow and use its outputs.
    RunFlow = "run_flow" => RunFlowConfig,
    /// Start a mock HTTP server.
    MockServerStart = "mock_server_start" => MockServerStartConfig,
    /// Stop a mock server.
    MockServerStop = "mock_server_stop" => MockServerRefConfig,
    /// Add or replace a running mock server's endpoints.
    MockServerConfigure = "mock_server_configure" ["mock_server_update"] => MockServerConfigureConfig,
    /// Check the requests a mock server received.
    MockServerVerify = "mock_server_verify" => MockServerVerifyConfig,
    /// Reset a mock server's state.
    MockServerResetState = "mock_server_reset_state" => MockServerResetStateConfig,
    /// Generate a Pact contract from the interactions recorded so far.
    ContractGenerate = "contract_generate" => ContractGenerateConfig,
    /// Verify a provider against a Pact contract.
    ContractVerify = "contract_verify" => ContractVerifyConfig,
    /// Verify one interaction of a contract.
    VerifyContractInteraction = "verify_contract_interaction" => VerifyContractInteractionConfig,
    /// Publish a message to Kafka.
    KafkaProducer = "kafka_producer" ["kafka_publish"] => KafkaProducerConfig,
    /// Consume messages from Kafka.
    KafkaConsumer = "kafka_consumer" ["kafka_consume"] => KafkaConsumerConfig,
    /// Connect, send and receive over a WebSocket.
    Websocket = "websocket" => WebsocketConfig,
    /// Call a unary gRPC method.
    Grpc = "grpc" ["grpc_call"] => GrpcConfig,
    /// Call a streaming gRPC method.
    GrpcStream = "grpc_stream" => GrpcStreamConfig,
    /// Drive a headless browser.
    Browser = "browser" => BrowserConfig,
    /// Call a tool on an MCP server.
    Mcp = "mcp" => McpConfig,
}

config_struct! {
    /// Settings of `http_request`.
    "http_request config"
    pub struct HttpRequestConfig {
        /// HTTP method: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS.
        method = "method": required String,
        /// The URL, e.g. `${BASE_URL}/api/users`.
        url = "url": required String,
        /// Request headers.
        headers = "headers": default IndexMap<String, Value>,
        /// Query parameters appended to the URL.
        params = "params" | "query": default IndexMap<String, Value>,
        /// Body: a mapping or list is sent as JSON, a string is sent as written.
        body = "body": optional Value,
        /// URL-encoded form fields.
        form = "form": optional IndexMap<String, Value>,
        /// Multipart fields: a value, or `{file, filename, content_type}`.
        multipart = "multipart": optional IndexMap<String, Value>,
        /// Authentication.
        auth = "auth": optional HttpAuth,
        /// Cookies to send.
        cookies = "cookies": default IndexMap<String, Value>,
        /// Follow redirects (default true).
        follow_redirects = "follow_redirects": optional Tpl<bool>,
        /// Most redirects to follow (default 10).
        max_redirects = "max_redirects": optional Tpl<u32>,
        /// Verify TLS certificates (default true).
        verify_ssl = "verify_ssl": optional Tpl<bool>,
        /// Client certificate file (PEM) for mutual TLS.
        client_cert = "client_cert": optional String,
        /// Client key file (PEM) for mutual TLS.
        client_key = "client_key": optional String,
        /// Request timeout (default 30s).
        timeout = "timeout": optional Tpl<Duration>,
    }
}

string_enum! {
    /// Kinds of HTTP authentication.
    pub enum AuthType {
        /// `Authorization: Basic …`
        Basic = "basic",
        /// `Authorization: Bearer <token>`
        Bearer = "bearer",
        /// A key in a header or the query string.
        ApiKey = "api_key",
        /// OAuth 2 client credentials.
        Oauth2 = "oauth2",
    }
}

config_struct! {
    /// HTTP authentication.
    "auth"
    pub struct HttpAuth {
        /// basic, bearer, api_key or oauth2.
        kind = "type": required AuthType,
        /// Basic auth user.
        username = "username": optional String,
        /// Basic auth password.
        password = "password": optional String,
        /// Bearer token.
        token = "token": optional String,
        /// API key value.
        key = "key": optional String,
        /// Header or query parameter name of the API key (default `X-API-Key`).
        name = "name": optional String,
        /// Where the API key goes: `header` (default) or `query`.
        location = "location" | "in": optional String,
        /// OAuth 2 token endpoint.
        token_url = "token_url": optional String,
        /// OAuth 2 client id.
        client_id = "client_id": optional String,
        /// OAuth 2 client secret.
        client_secret = "client_secret": optional String,
        /// OAuth 2 scopes (space-separated).
        scope = "scope" | "scopes": optional Value,
        /// OAuth 2 audience.
        audience = "audience": optional String,
    }
}

/// A database connection: a DSN/URL string or the object form.
#[derive(Debug, Clone)]
pub enum Connection {
    /// `postgres://…`, `mysql://…`, `sqlite:…` or a libpq `key=value` string.
    Url(String),
    /// `{type, host, port, database, username, password, ssl}`.
    Object(Box<ConnectionObject>),
}

impl FromNode for Connection {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Map(_) => {
                ConnectionObject::from_node(node, cx).map(|c| Connection::Object(Box::new(c)))
            }
            _ => String::from_node(node, cx).map(Connection::Url),
        }
    }
    fn schema() -> Value {
        serde_json::json!({"anyOf": [{"type": "string"}, ConnectionObject::schema()]})
    }
}

config_struct! {
    /// A database connection in object form.
    "connection"
    pub struct ConnectionObject {
        /// postgresql, mysql, mariadb or sqlite.
        kind = "type" | "driver": required String,
        /// Host name.
        host = "host": optional String,
        /// Port.
        port = "port": optional Tpl<u16>,
        /// Database name (or file for SQLite).
        database = "database" | "dbname": optional String,
        /// User.
        username = "username" | "user": optional String,
        /// Password.
        password = "password": optional String,
        /// TLS mode (`disable`, `require`, …) or true/false.
        ssl = "ssl" | "sslmode": optional Value,
        /// Connect timeout.
        timeout = "timeout": optional Tpl<Duration>,
        /// Connections kept open.
        pool_size = "pool_size": optional Tpl<u32>,
    }
}

config_struct! {
    /// Settings of `database_query`.
    "database_query config"
    pub struct DatabaseQueryConfig {
        /// Where to connect.
        connection = "connection": required Connection,
        /// SQL with `$1` or `?` placeholders, or `:name` with `named_params`.
        query = "query": required String,
        /// Positional parameters.
        params = "params": optional Value,
        /// Named parameters for `:name` placeholders.
        named_params = "named_params": optional IndexMap<String, Value>,
        /// Run inside a transaction that is rolled back (or `commit`).
        transaction = "transaction": optional Value,
        /// Query timeout.
        timeout = "timeout": optional Tpl<Duration>,
    }
}

string_enum! {
    /// Conditions of `db_poll`.
    pub enum PollConditionType {
        /// At least one row.
        RowExists = "row_exists",
        /// At least `min_count` rows.
        RowCount = "row_count",
        /// `column` equals `value` in the first row.
        ValueEquals = "value_equals",
        /// `column` is not null in the first row.
        ValueNotNull = "value_not_null",
    }
}

config_struct! {
    /// When `db_poll` is satisfied.
    "db_poll condition"
    pub struct PollCondition {
        /// row_exists, row_count, value_equals or value_not_null.
        kind = "type": required PollConditionType,
        /// Rows needed for row_count (default 1).
        min_count = "min_count": optional Tpl<u64>,
        /// Column for value_equals / value_not_null.
        column = "column": optional String,
        /// Expected value for value_equals (compared as text).
        value = "value": optional Value,
    }
}

config_struct! {
    /// Settings of `db_poll`.
    "db_poll config"
    pub struct DbPollConfig {
        /// Where to connect.
        connection = "connection": required Connection,
        /// SQL to run on each attempt.
        query = "query": required String,
        /// Positional parameters.
        params = "params": optional Value,
        /// Give up after (default 60s).
        timeout = "timeout": optional Tpl<Duration>,
        /// Pause between attempts (default 1s).
        interval = "interval": optional Tpl<Duration>,
        /// Most attempts (default 100).
        max_attempts = "max_attempts": optional Tpl<u32>,
        /// What must hold (default: at least one row).
        condition = "condition": optional PollCondition,
    }
}

config_struct! {
    /// Settings of `log`.
    "log config"
    pub struct LogConfig {
        /// The message.
        message = "message": required String,
        /// debug, info (default), warn or error (other values log as info).
        level = "level": optional String,
        /// Structured data logged with the message.
        data = "data": optional Value,
    }
}

config_struct! {
    /// Settings of `delay`.
    "delay config"
    pub struct DelayConfig {
        /// How long to wait, e.g. `500ms`.
        duration = "duration": required Tpl<Duration>,
    }
}

string_enum! {
    /// Transform operations.
    pub enum TransformOpType {
        /// Pick a value by path.
        Extract = "extract",
        /// Compute a value for each item.
        Map = "map",
        /// Keep items for which an expression holds.
        Filter = "filter",
        /// Join items into a string.
        Join = "join",
        /// Render a string template.
        Format = "format",
    }
}

config_struct! {
    /// One operation of `transform`.
    "transform operation"
    pub struct TransformOp {
        /// extract, map, filter, join or format.
        kind = "type": required TransformOpType,
        /// Input path or value (default: the previous operation's result, else the transform input).
        input = "input" | "source": optional Value,
        /// Path to extract (`$.items[*].id`, `items[0].id`).
        path = "path": optional String,
        /// Expression for map/filter (`item.price > 10`).
        expression = "expression" | "condition": optional String,
        /// Field to pick from each item (map, join).
        field = "field": optional String,
        /// Template for format.
        template = "template": optional String,
        /// Separator for join (default `,`).
        separator = "separator": optional String,
        /// Output key for the result.
        save_as = "save_as": optional String,
    }
}

config_struct! {
    /// Settings of `transform`.
    "transform config"
    pub struct TransformConfig {
        /// The data to transform.
        input = "input": optional Value,
        /// Read the input from a JSON or YAML file instead.
        input_file = "input_file": optional String,
        /// `out_key: spec` where spec is a `$.path`, a `$key` or a literal.
        transforms = "transforms": default IndexMap<String, Value>,
        /// Operations applied in order.
        operations = "operations": default Vec<TransformOp>,
    }
}

config_struct! {
    /// Settings of the `assert` action.
    "assert config"
    pub struct AssertConfig {
        /// The data the assertions see: a mapping, or a value exposed as `value`.
        data = "data": required Value,
        /// Expressions that must all be true.
        assertions = "assertions": required Vec<Assertion>,
    }
}

config_struct! {
    /// Settings of `condition`.
    "condition config"
    pub struct ConditionConfig {
        /// The expression to test.
        condition = "condition": required Condition,
        /// Steps run when it is true.
        then = "then": default Vec<Step>,
        /// Steps run when it is false.
        else_ = "else": default Vec<Step>,
    }
}

config_struct! {
    /// An inclusive range of integers for `for_each`.
    "range"
    pub struct Range {
        /// First value.
        start = "start": required Tpl<i64>,
        /// Last value (inclusive).
        end = "end": required Tpl<i64>,
        /// Increment (default 1).
        step = "step": optional Tpl<i64>,
    }
}

config_struct! {
    /// Settings of `for_each`.
    "for_each config"
    pub struct ForEachConfig {
        /// The items: a list, or a reference to one (`${list.body.items}`).
        items = "items": optional Tpl<Vec<Value>>,
        /// Iterate over a range of integers instead.
        range = "range": optional Range,
        /// Iterate over files matching a glob instead.
        items_from_glob = "items_from_glob": optional String,
        /// Variable name of the current item (default `item`).
        item_name = "item_name": optional String,
        /// Variable name of the current index (default `index`).
        index_name = "index_name": optional String,
        /// Steps run for each item.
        steps = "steps": default Vec<Step>,
        /// Stop after this many items.
        max_iterations = "max_iterations": optional Tpl<u64>,
        /// Keep going when an iteration fails.
        continue_on_error = "continue_on_error": optional Tpl<bool>,
        /// Run iterations concurrently.
        parallel = "parallel": optional Tpl<bool>,
        /// Most concurrent iterations when parallel.
        max_concurrent = "max_concurrent": optional Tpl<u32>,
    }
}

config_struct! {
    /// Settings of `parallel`.
    "parallel config"
    pub struct ParallelConfig {
        /// Steps run concurrently.
        steps = "steps": required Vec<Step>,
        /// Wait for every step (default true).
        wait_for_all = "wait_for_all": optional Tpl<bool>,
        /// Cancel the others when one fails (default false).
        fail_fast = "fail_fast": optional Tpl<bool>,
        /// Most steps at once.
        max_concurrent = "max_concurrent": optional Tpl<u32>,
    }
}

config_struct! {
    /// Settings of `wait_until`.
    "wait_until config"
    pub struct WaitUntilConfig {
        /// Expression that ends the wait when true.
        condition = "condition": required Condition,
        /// Give up after this long.
        max_duration = "max_duration": required Tpl<Duration>,
        /// Pause between checks (default 1s).
        interval = "interval": optional Tpl<Duration>,
        /// Steps re-run before each check.
        steps = "steps": default Vec<Step>,
        /// `fail` (default) or `continue` when time runs out.
        on_timeout = "on_timeout": optional OnFailure,
    }
}

string_enum! {
    /// What `wait_for` waits for.
    pub enum WaitForType {
        /// An HTTP endpoint.
        Http = "http",
        /// A TCP port.
        Tcp = "tcp",
    }
}

config_struct! {
    /// Settings of `wait_for`.
    "wait_for config"
    pub struct WaitForConfig {
        /// http or tcp.
        kind = "type": required WaitForType,
        /// Give up after (default 60s).
        timeout = "timeout": optional Tpl<Duration>,
        /// Pause between attempts (default 1s).
        interval = "interval": optional Tpl<Duration>,
        /// Most attempts (default 100).
        max_attempts = "max_attempts": optional Tpl<u32>,
        /// http: the URL.
        url = "url": optional String,
        /// http: method (default GET).
        method = "method": optional String,
        /// http: headers.
        headers = "headers": default IndexMap<String, Value>,
        /// http: expected status (default 200).
        status_code = "status_code": optional Tpl<u16>,
        /// http: text the body must contain.
        body_contains = "body_contains": optional String,
        /// http: dot path into the JSON body.
        json_path = "json_path": optional String,
        /// http: expected value at json_path.
        json_value = "json_value": optional Value,
        /// http: check the server's TLS certificate (default true; false accepts self-signed ones).
        verify_ssl = "verify_ssl": optional Tpl<bool>,
        /// tcp: host.
        host = "host": optional String,
        /// tcp: port.
        port = "port": optional Tpl<u16>,
    }
}

config_struct! {
    /// Settings of `run_flow`.
    "run_flow config"
    pub struct RunFlowConfig {
        /// A flow file path (relative to this file) or a flow name among the loaded files.
        flow = "flow": required String,
        /// Variables passed to the sub-flow.
        input = "input": default IndexMap<String, Value>,
        /// Read the variables from a JSON, YAML or dotenv file.
        input_file = "input_file": optional String,
        /// Pass this flow's variables down (default true).
        inherit_env = "inherit_env": optional Tpl<bool>,
    }
}

config_struct! {
    /// Settings of `mock_server_start`. Endpoints use the mock file format (docs/mocks.md); the
    /// mock stops when the flow run ends unless `keep_running` is true.
    "mock_server_start config"
    pub struct MockServerStartConfig {
        /// Name shown in lists and the dashboard (default: the step id).
        name = "name": optional String,
        /// Fixed id, a UUID (default: generated).
        server_id = "server_id" | "id": optional String,
        /// Port of the mock's listener (default or `0`: a free one).
        port = "port": optional Tpl<u16>,
        /// Bind address of the listener (default 127.0.0.1).
        host = "host": optional String,
        /// Endpoints: path, method, priority, match, response or responses, state…
        endpoints = "endpoints": default Vec<Value>,
        /// Read the mock from a mock file (relative to the flow file); inline settings override it
        /// and inline endpoints are added to it.
        from_file = "from_file": optional String,
        /// Forward unmatched requests to a real target: `{target, pass_through}`.
        proxy = "proxy": optional Value,
        /// mock (default), record or playback.
        mode = "mode": optional String,
        /// Record mode: the file exchanges are saved to; playback: the file read.
        save_to = "save_to": optional String,
        /// Initial server state.
        state = "state": optional Value,
        /// Fault injection rules: `[{probability, response}]`.
        chaos_rules = "chaos_rules": optional Value,
        /// HTTPS: `true` (self-signed) or `{cert, key}` files.
        tls = "tls": optional Value,
        /// Request journal limits: `{max_entries, max_body_bytes}`.
        journal = "journal": optional Value,
        /// Request bodies above this many bytes are answered with 413 (default 10 MiB).
        max_body_bytes = "max_body_bytes": optional Tpl<u64>,
        /// Keep the server running after the flow run ends (default false).
        keep_running = "keep_running": optional Tpl<bool>,
    }
}

config_struct! {
    /// Settings that name one mock server.
    "mock server config"
    pub struct MockServerRefConfig {
        /// The server: its id (`${start.server_id}`) or its name.
        server_id = "server_id" | "server": required String,
    }
}

config_struct! {
    /// Settings of `mock_server_reset_state`.
    "mock_server_reset_state config"
    pub struct MockServerResetStateConfig {
        /// The server: its id (`${start.server_id}`) or its name.
        server_id = "server_id" | "server": required String,
        /// Replace the whole state with this mapping (default: go back to the initial state).
        state = "state": optional IndexMap<String, Value>,
    }
}

config_struct! {
    /// Settings of `mock_server_configure` / `mock_server_update`. An endpoint with the same id, or
    /// the same method, path and match conditions as a served one replaces it; others are added.
    "mock_server_configure config"
    pub struct MockServerConfigureConfig {
        /// The server: its id or its name.
        server_id = "server_id" | "server": required String,
        /// Endpoints to add or replace.
        endpoints = "endpoints": default Vec<Value>,
        /// One endpoint to add or replace (the `mock_server_update` form).
        endpoint = "endpoint": optional Value,
        /// Replace every endpoint with `endpoints` instead (default false).
        replace = "replace": optional Tpl<bool>,
    }
}

config_struct! {
    /// Settings of `mock_server_verify`: one assertion inline, or a list under `assertions`.
    "mock_server_verify config"
    pub struct MockServerVerifyConfig {
        /// The server: its id or its name.
        server_id = "server_id" | "server": required String,
        /// Request path to count (`/users/:id`, `{id}` and `*` patterns allowed; default any).
        path = "path": optional String,
        /// Request method to count (default any).
        method = "method": optional String,
        /// Exactly this many requests (without any count: at least one).
        count = "count": optional Tpl<u64>,
        /// At least this many.
        count_min = "count_min": optional Tpl<u64>,
        /// At most this many.
        count_max = "count_max": optional Tpl<u64>,
        /// Expressions each counted request must satisfy (`body.name == "Alice"`).
        body_matches = "body_matches": optional Value,
        /// Headers each counted request must carry, with exactly these values.
        headers = "headers": default IndexMap<String, Value>,
        /// Several assertions, each `{path, method, count | count_min | count_max, body_matches, headers}`.
        assertions = "assertions": default Vec<Value>,
    }
}

config_struct! {
    /// Settings of `contract_generate`.
    "contract_generate config"
    pub struct ContractGenerateConfig {
        /// Consumer name.
        consumer = "consumer": required String,
        /// Provider name.
        provider = "provider": required String,
        /// Consumer version (default: the execution id, so runs never replace each other).
        version = "version": optional String,
        /// Also return the Pact JSON.
        export_json = "export_json": optional Tpl<bool>,
        /// Also write the Pact file here (atomically; relative to the flow file).
        output_file = "output_file" | "output": optional String,
        /// Where the interactions come from: `auto` (default: the run's `http_request` steps that
        /// went to a mock this run started; else those mocks' matched journal entries; else every
        /// `http_request` step), `requests` (every passed `http_request` step of the run) or
        /// `mocks` (the matched requests in the journals of the mocks this run started).
        from = "from": optional ContractSource,
    }
}

string_enum! {
    /// Where `contract_generate` takes its interactions from.
    pub enum ContractSource {
        /// Requests to this run's mocks, else the mocks' journals, else every request.
        Auto = "auto",
        /// Every passed `http_request` step of the run.
        Requests = "requests",
        /// The matched requests in the journals of the mocks this run started.
        Mocks = "mocks",
    }
}

config_struct! {
    /// Settings of `contract_verify`.
    "contract_verify config"
    pub struct ContractVerifyConfig {
        /// A stored contract id.
        contract_id = "contract_id": optional String,
        /// Or a Pact file.
        pact_file = "pact_file": optional String,
        /// The provider to replay interactions against.
        provider_base_url = "provider_base_url": required String,
        /// Provider version recorded with the result.
        provider_version = "provider_version": optional String,
        /// Provider-state setup URL: `POST {"state", "params", "action": "setup"}` before each
        /// interaction with states (the Pact reference's shape; no teardown, as the reference's default).
        state_setup_url = "state_setup_url" | "state_change_url": optional String,
        /// Headers added to every replayed request (an API key, say).
        headers = "headers": default IndexMap<String, Value>,
        /// Fail the step when verification fails (default `true`; `false` only reports it: the
        /// result's `status` says `failed` and the flow asserts on it, as the original did).
        fail_on_mismatch = "fail_on_mismatch": optional Tpl<bool>,
        /// Compare with this earlier contract for breaking changes.
        previous_contract_id = "previous_contract_id": optional String,
    }
}

config_struct! {
    /// Settings of `verify_contract_interaction`.
    "verify_contract_interaction config"
    pub struct VerifyContractInteractionConfig {
        /// A stored contract id.
        contract_id = "contract_id": optional String,
        /// Or a Pact file.
        pact_file = "pact_file": optional String,
        /// The interaction's description (exactly as in the contract).
        interaction = "interaction": required String,
        /// The provider to replay the interaction against.
        provider_base_url = "provider_base_url": required String,
        /// Provider version recorded with the result.
        provider_version = "provider_version": optional String,
        /// Provider-state setup URL, as for `contract_verify`.
        state_setup_url = "state_setup_url" | "state_change_url": optional String,
        /// Headers added to the replayed request.
        headers = "headers": default IndexMap<String, Value>,
        /// Fail the step when the interaction fails (default `true`).
        fail_on_mismatch = "fail_on_mismatch": optional Tpl<bool>,
    }
}

/// Kafka brokers: a list, or one comma-separated string.
#[derive(Debug, Clone, PartialEq)]
pub struct Brokers(pub Vec<String>);

impl FromNode for Brokers {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Seq(_) => Vec::<String>::from_node(node, cx).map(Brokers),
            _ => String::from_node(node, cx).map(|s| Brokers(vec![s])),
        }
    }
    fn schema() -> Value {
        serde_json::json!({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
    }
}

config_struct! {
    /// Settings of `kafka_producer` / `kafka_publish`.
    "kafka_producer config"
    pub struct KafkaProducerConfig {
        /// Brokers (`host:port`).
        brokers = "brokers": required Brokers,
        /// Topic.
        topic = "topic": required String,
        /// The message: strings sent as written, other values as JSON.
        payload = "payload" | "value": required Value,
        /// Message key.
        key = "key": optional String,
        /// Message headers.
        headers = "headers": default IndexMap<String, Value>,
        /// Partition.
        partition = "partition": optional Tpl<i32>,
        /// none, gzip, snappy, lz4 or zstd.
        compression = "compression": optional String,
    }
}

config_struct! {
    /// Settings of `kafka_consumer` / `kafka_consume`.
    "kafka_consumer config"
    pub struct KafkaConsumerConfig {
        /// Brokers (`host:port`).
        brokers = "brokers": required Brokers,
        /// Topic.
        topic = "topic": required String,
        /// Consumer group (default `testmesh`).
        group_id = "group_id": optional String,
        /// Stop waiting after (default 30s); reaching it is not an error.
        timeout = "timeout": optional Tpl<Duration>,
        /// Messages to wait for (default 1; ≤0 = until timeout).
        count = "count" | "max_messages": optional Tpl<i64>,
        /// Read from the oldest message instead of the newest.
        from_beginning = "from_beginning": optional Tpl<bool>,
        /// Keep only messages matching key/key_pattern/headers.
        filter = "filter": optional Value,
        /// Wait for a message matching key/json_path.
        match_ = "match": optional Value,
    }
}

config_struct! {
    /// Settings of `websocket`.
    "websocket config"
    pub struct WebsocketConfig {
        /// connect, send, receive or close (one per step), or use `actions`.
        action = "action": optional String,
        /// A sequence of `{type: connect|send|wait_for|receive|close, …}` in one step.
        actions = "actions": optional Vec<Value>,
        /// ws:// or wss:// URL.
        url = "url": optional String,
        /// Handshake headers.
        headers = "headers": default IndexMap<String, Value>,
        /// Subprotocols.
        protocols = "protocols": default Vec<String>,
        /// Connection to reuse across steps.
        connection_id = "connection_id": optional String,
        /// Message to send: strings raw, other values as JSON.
        message = "message": optional Value,
        /// text (default) or binary.
        message_type = "message_type": optional String,
        /// Timeout (default 30s).
        timeout = "timeout": optional Tpl<Duration>,
    }
}

config_struct! {
    /// TLS for gRPC.
    "tls"
    pub struct GrpcTls {
        /// Use TLS.
        enabled = "enabled": optional Tpl<bool>,
        /// Client certificate.
        cert = "cert": optional String,
        /// Client key.
        key = "key": optional String,
        /// CA bundle.
        ca = "ca": optional String,
    }
}

config_struct! {
    /// Settings of `grpc` / `grpc_call`.
    "grpc config"
    pub struct GrpcConfig {
        /// `host:port`.
        address = "address": required String,
        /// Fully qualified service name.
        service = "service": required String,
        /// Method name.
        method = "method": required String,
        /// Request message as a mapping.
        request = "request": optional Value,
        /// Call metadata.
        metadata = "metadata": default IndexMap<String, Value>,
        /// Timeout (default 30s).
        timeout = "timeout": optional Tpl<Duration>,
        /// `.proto` file describing the service.
        proto_file = "proto_file": optional String,
        /// Use server reflection.
        use_reflection = "use_reflection": optional Tpl<bool>,
        /// Use TLS.
        use_tls = "use_tls": optional Tpl<bool>,
        /// TLS settings.
        tls = "tls": optional GrpcTls,
    }
}

config_struct! {
    /// Settings of `grpc_stream`.
    "grpc_stream config"
    pub struct GrpcStreamConfig {
        /// `host:port`.
        address = "address": required String,
        /// Fully qualified service name.
        service = "service": required String,
        /// Method name.
        method = "method": required String,
        /// client, server or bidirectional.
        kind = "type": required String,
        /// Messages to send.
        messages = "messages": default Vec<Value>,
        /// Most messages to receive.
        max_receive = "max_receive": optional Tpl<u32>,
        /// Call metadata.
        metadata = "metadata": default IndexMap<String, Value>,
        /// Timeout.
        timeout = "timeout": optional Tpl<Duration>,
        /// `.proto` file.
        proto_file = "proto_file": optional String,
    }
}

config_struct! {
    /// Browser viewport size.
    "viewport"
    pub struct Viewport {
        /// Width in CSS pixels.
        width = "width": required Tpl<u32>,
        /// Height in CSS pixels.
        height = "height": required Tpl<u32>,
    }
}

config_struct! {
    /// One browser action.
    "browser action"
    pub struct BrowserAction {
        /// navigate, click, fill, type, press, select, check, uncheck, hover, focus, drag, wait_for_selector,
        /// wait_for_url, wait_for_navigation, go_back, go_forward, reload, get_text, get_attribute, evaluate,
        /// assert_text, assert_visible, assert_hidden, assert_count, assert_url, screenshot.
        kind = "type": required String,
        /// URL for navigate / assert_url / wait_for_url.
        url = "url": optional String,
        /// CSS selector.
        selector = "selector": optional String,
        /// Value for fill / select.
        value = "value": optional Value,
        /// Text for type / assert_text.
        text = "text": optional String,
        /// Key for press.
        key = "key": optional String,
        /// attached, detached, visible or hidden.
        state = "state": optional String,
        /// equals, contains or regex (assert_text).
        mode = "mode": optional String,
        /// Expected count (assert_count).
        count = "count": optional Tpl<u64>,
        /// Attribute name (get_attribute).
        attribute = "attribute": optional String,
        /// JavaScript (evaluate).
        script = "script": optional String,
        /// Output name for get_text / get_attribute / evaluate.
        save_as = "save_as": optional String,
        /// Screenshot file.
        path = "path": optional String,
        /// Capture the full page.
        full_page = "full_page": optional Tpl<bool>,
        /// Mouse button (click).
        button = "button": optional String,
        /// Number of clicks.
        click_count = "click_count": optional Tpl<u32>,
        /// Delay between key strokes (type).
        delay = "delay": optional Tpl<Duration>,
        /// Drag source selector.
        from = "from": optional String,
        /// Drag target selector.
        to = "to": optional String,
        /// Time limit for this action.
        timeout = "timeout": optional Tpl<Duration>,
    }
}

config_struct! {
    /// Settings of `browser`.
    "browser config"
    pub struct BrowserConfig {
        /// chromium (default).
        browser = "browser": optional String,
        /// Run without a window (default true).
        headless = "headless": optional Tpl<bool>,
        /// Window size.
        viewport = "viewport": optional Viewport,
        /// Device to emulate.
        device = "device": optional String,
        /// Request interception.
        intercept = "intercept": optional Value,
        /// Actions run in order.
        actions = "actions": default Vec<BrowserAction>,
        /// One-action form: the action name.
        action = "action": optional String,
        /// One-action form: URL.
        url = "url": optional String,
        /// One-action form: selector.
        selector = "selector": optional String,
        /// One-action form: text.
        text = "text": optional String,
        /// One-action form: value.
        value = "value": optional Value,
        /// One-action form: attribute.
        attribute = "attribute": optional String,
        /// One-action form: script.
        script = "script": optional String,
        /// Take a screenshot after the action.
        screenshot = "screenshot": optional Tpl<bool>,
        /// Full-page screenshot.
        full_page = "full_page": optional Tpl<bool>,
        /// Wait for this selector first.
        wait_for = "wait_for": optional String,
        /// Cookies to set.
        cookies = "cookies": optional Value,
        /// Extra request headers.
        headers = "headers": default IndexMap<String, Value>,
        /// Time limit (default 30s).
        timeout = "timeout": optional Tpl<Duration>,
    }
}

config_struct! {
    /// Settings of `mcp`.
    "mcp config"
    pub struct McpConfig {
        /// MCP server URL.
        server = "server": required String,
        /// API key.
        api_key = "api_key": optional String,
        /// Tool to call.
        tool = "tool": required String,
        /// Tool arguments.
        arguments = "arguments": optional Value,
        /// Timeout (default 30s).
        timeout = "timeout": optional Tpl<Duration>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_resolve() {
        assert_eq!(ActionKind::from_name("http"), Some(ActionKind::HttpRequest));
        assert_eq!(
            ActionKind::from_name("kafka_publish"),
            Some(ActionKind::KafkaProducer)
        );
        assert_eq!(
            ActionKind::from_name("kafka_consume"),
            Some(ActionKind::KafkaConsumer)
        );
        assert_eq!(ActionKind::from_name("grpc_call"), Some(ActionKind::Grpc));
        assert_eq!(
            ActionKind::from_name("mock_server_update"),
            Some(ActionKind::MockServerConfigure)
        );
        assert_eq!(ActionKind::from_name("HTTP"), None);
        for kind in ActionKind::ALL {
            assert_eq!(ActionKind::from_name(kind.name()), Some(*kind));
            assert!(!kind.summary().is_empty());
            assert_eq!(kind.config_schema()["type"], "object", "{}", kind.name());
        }
    }
}
