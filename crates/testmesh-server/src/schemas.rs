//! The JSON Schemas of the API's bodies (`components/schemas` of the OpenAPI document). Request
//! bodies are validated against them before they are read, so the document cannot promise a
//! shape the server does not accept; the test suite validates every response against them.
//! Response objects list every field as required and allow no others, so a field added to a
//! stored type without its schema fails the tests.

use serde_json::{Map, Value, json};

/// A property: its name, its schema, and whether it must be present.
type Prop = (&'static str, Value, bool);

fn req(name: &'static str, schema: Value) -> Prop {
    (name, schema, true)
}

fn opt(name: &'static str, schema: Value) -> Prop {
    (name, schema, false)
}

/// A closed object: only the listed properties.
fn object(props: Vec<Prop>) -> Value {
    let required: Vec<&str> = props.iter().filter(|p| p.2).map(|p| p.0).collect();
    let properties: Map<String, Value> = props
        .into_iter()
        .map(|(name, schema, _)| (name.to_string(), schema))
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn string() -> Value {
    json!({"type": "string"})
}

fn text(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn integer() -> Value {
    json!({"type": "integer"})
}

fn nullable_integer() -> Value {
    json!({"type": ["integer", "null"]})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn nullable_time() -> Value {
    json!({"type": ["string", "null"], "format": "date-time"})
}

fn id() -> Value {
    json!({"type": "string", "format": "uuid"})
}

fn nullable_id() -> Value {
    json!({"type": ["string", "null"], "format": "uuid"})
}

fn date(description: &str) -> Value {
    json!({"type": "string", "format": "date", "description": description})
}

fn text_strings(description: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": description})
}

fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

fn any() -> Value {
    json!({})
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn list_of(name: &str) -> Value {
    json!({"type": "array", "items": reference(name)})
}

/// `{<plural>: [...], total, limit, offset}`.
fn page(plural: &'static str, item: &str) -> Value {
    page_with(plural, item, Vec::new())
}

/// [`page`] with more properties.
fn page_with(plural: &'static str, item: &str, more: Vec<Prop>) -> Value {
    let mut props = vec![
        req(plural, list_of(item)),
        req(
            "total",
            text_int("rows matching the filter, over all pages"),
        ),
        req("limit", integer()),
        req("offset", integer()),
    ];
    props.extend(more);
    object(props)
}

/// `{<plural>: [...], total}` for lists that are not paged.
fn all(plural: &'static str, item: &str) -> Value {
    object(vec![req(plural, list_of(item)), req("total", integer())])
}

fn text_int(description: &str) -> Value {
    json!({"type": "integer", "description": description})
}

fn text_any(description: &str) -> Value {
    json!({"description": description})
}

fn verification_props() -> Vec<Prop> {
    vec![
        req("id", id()),
        req("contract_id", id()),
        req("provider", string()),
        req("provider_version", string()),
        req("status", json!({"enum": ["passed", "failed", "error"]})),
        req("total", integer()),
        req("passed", integer()),
        req("failed", integer()),
        req("errors", text_int("interactions that could not be checked")),
        req("execution_id", nullable_string()),
        req("verified_at", time()),
    ]
}

fn contract_props() -> Vec<Prop> {
    vec![
        req("id", id()),
        req("workspace_id", id()),
        req("consumer", string()),
        req("provider", string()),
        req("version", text("the consumer version")),
        req(
            "spec_version",
            text("the Pact specification version the file was read from"),
        ),
        req("interaction_count", integer()),
        req("source", json!({"enum": ["generated", "imported"]})),
        req("flow_id", nullable_string()),
        req("execution_id", nullable_string()),
        req("created_at", time()),
        req("updated_at", time()),
        req(
            "last_verification",
            json!({"oneOf": [reference("VerificationInfo"), {"type": "null"}]}),
        ),
    ]
}

fn flow_summary_props() -> Vec<Prop> {
    vec![
        req("id", id()),
        req("workspace_id", id()),
        req("name", string()),
        req("description", nullable_string()),
        req("suite", nullable_string()),
        req("tags", strings()),
        req(
            "source_path",
            json!({"type": ["string", "null"], "description": "the file a CLI run loaded it from"}),
        ),
        req("version", text_int("the current version, from 1")),
        req("created_at", time()),
        req("updated_at", time()),
        req("deleted_at", nullable_time()),
    ]
}

fn execution_props() -> Vec<Prop> {
    vec![
        req("id", id()),
        req("workspace_id", id()),
        req("flow_id", nullable_id()),
        req("flow_version", nullable_integer()),
        req("flow_name", string()),
        req("suite", nullable_string()),
        req("tags", strings()),
        req(
            "status",
            json!({"enum": ["pending", "running", "completed", "failed", "cancelled"]}),
        ),
        req("trigger", json!({"enum": ["cli", "api", "schedule"]})),
        req("schedule_id", nullable_id()),
        req("environment", nullable_string()),
        req("variables", any()),
        req("created_at", time()),
        req("started_at", nullable_time()),
        req("finished_at", nullable_time()),
        req("duration_ms", nullable_integer()),
        req("total_steps", integer()),
        req("passed_steps", integer()),
        req("failed_steps", integer()),
        req("skipped_steps", integer()),
        req("error", nullable_string()),
        req("attempts", integer()),
        req("worker_id", nullable_string()),
        req("lease_expires_at", nullable_time()),
        req("cancel_requested", boolean()),
    ]
}

fn api_key_props() -> Vec<Prop> {
    vec![
        req("id", id()),
        req("workspace_id", id()),
        req("name", string()),
        req(
            "prefix",
            text("the 8 characters after `tm_`, to tell keys apart"),
        ),
        req("created_at", time()),
        req("last_used_at", nullable_time()),
        req("revoked_at", nullable_time()),
        req("rate_limit_per_minute", nullable_integer()),
    ]
}

fn with(mut props: Vec<Prop>, more: Vec<Prop>) -> Vec<Prop> {
    props.extend(more);
    props
}

fn mock_server_props() -> Vec<Prop> {
    vec![
        req("id", id()),
        req("workspace_id", id()),
        req("execution_id", nullable_id()),
        req("name", string()),
        req("settings", text_any("the definition without its endpoints")),
        req(
            "status",
            json!({"enum": ["starting", "running", "stopped", "failed"]}),
        ),
        req(
            "base_url",
            text("where it is reached: `/mocks/{id}` on this server, or its own port"),
        ),
        req("port", nullable_integer()),
        req("error", nullable_string()),
        req("started_at", nullable_time()),
        req("stopped_at", nullable_time()),
        req("created_at", time()),
        req("updated_at", time()),
        req("endpoint_count", integer()),
        req("running", text_bool("serving in this server process now")),
    ]
}

fn text_bool(description: &str) -> Value {
    json!({"type": "boolean", "description": description})
}

/// Every schema, by name.
pub(crate) fn components() -> Map<String, Value> {
    let nullable_text = || json!({"type": ["string", "null"]});
    let variables_input = json!({
        "type": ["object", "null"],
        "description": "variables for the run, by name (stored with the execution as given)",
    });
    let schemas = vec![
        (
            "Error",
            object(vec![
                req("error", text("what went wrong")),
                req("code", text("a stable machine-readable code")),
                opt(
                    "details",
                    json!({"description": "structured details: `diagnostics` for invalid flows, `errors` for invalid bodies, `line`/`column` for malformed JSON"}),
                ),
            ]),
        ),
        (
            "Diagnostic",
            object(vec![
                req("severity", json!({"enum": ["error", "warning"]})),
                req("code", string()),
                req("message", string()),
                req("line", integer()),
                req("column", integer()),
                opt("help", string()),
            ]),
        ),
        (
            "FlowInput",
            object(vec![req("yaml", text("the flow as YAML text"))]),
        ),
        ("FlowSummary", object(flow_summary_props())),
        (
            "Flow",
            object(with(
                flow_summary_props(),
                vec![
                    req("yaml", string()),
                    req("definition", json!({"type": "object"})),
                ],
            )),
        ),
        ("FlowList", page("flows", "FlowSummary")),
        (
            "FlowVersion",
            object(vec![
                req("flow_id", id()),
                req("version", integer()),
                req("yaml", string()),
                req("definition", json!({"type": "object"})),
                req("created_at", time()),
            ]),
        ),
        ("FlowVersionList", all("versions", "FlowVersion")),
        (
            "RunRequest",
            object(vec![
                opt("flow_id", nullable_text()),
                opt("flow_ids", strings()),
                opt("suite", nullable_text()),
                opt("tags", strings()),
                opt(
                    "environment",
                    json!({"type": ["string", "null"], "description": "environment id or name; the workspace default when absent"}),
                ),
                opt("variables", variables_input.clone()),
            ]),
        ),
        (
            "RunResponse",
            object(vec![req("executions", list_of("Execution"))]),
        ),
        ("Execution", object(execution_props())),
        (
            "ExecutionStep",
            object(vec![
                req("seq", integer()),
                req("parent_seq", nullable_integer()),
                req("depth", integer()),
                req(
                    "phase",
                    json!({"enum": ["setup", "main", "on_error", "teardown", null]}),
                ),
                req("step_id", string()),
                req("name", nullable_string()),
                req("action", string()),
                req("status", json!({"enum": ["passed", "failed", "skipped"]})),
                req("attempts", integer()),
                req("flaky", boolean()),
                req("continued", boolean()),
                req("started_at", time()),
                req("duration_ms", integer()),
                req("request", any()),
                req("response", any()),
                req("result", any()),
                req("outputs", any()),
                req("assertions", any()),
                req("error_kind", nullable_string()),
                req("error_message", nullable_string()),
                req("skip_reason", nullable_string()),
            ]),
        ),
        (
            "ExecutionDetail",
            object(with(
                execution_props(),
                vec![req("steps", list_of("ExecutionStep"))],
            )),
        ),
        (
            "ExecutionList",
            page_with(
                "executions",
                "Execution",
                vec![req(
                    "total_capped",
                    json!({"type": "boolean", "description": "more executions match than `total` says: counting stops at 10,000"}),
                )],
            ),
        ),
        (
            "ExecutionEvent",
            object(vec![
                req("execution_id", id()),
                req(
                    "seq",
                    text_int("position in the execution's events, from 1"),
                ),
                req("kind", text("e.g. `step.completed`")),
                req("data", any()),
                req("created_at", time()),
            ]),
        ),
        (
            "Variable",
            object(vec![
                req("key", string()),
                req("value", text("`********` for secrets")),
                req("description", nullable_string()),
                req("is_secret", boolean()),
                req("enabled", boolean()),
            ]),
        ),
        (
            "VariableInput",
            object(vec![
                req("key", string()),
                req(
                    "value",
                    text("sending `********` back for a secret keeps its stored value"),
                ),
                opt("description", nullable_text()),
                opt("is_secret", boolean()),
                opt("enabled", boolean()),
            ]),
        ),
        (
            "Environment",
            object(vec![
                req("id", id()),
                req("workspace_id", id()),
                req("name", string()),
                req("description", nullable_string()),
                req("is_default", boolean()),
                req("variables", list_of("Variable")),
                req("created_at", time()),
                req("updated_at", time()),
            ]),
        ),
        (
            "EnvironmentInput",
            object(vec![
                req("name", string()),
                opt("description", nullable_text()),
                opt("is_default", boolean()),
                opt("variables", list_of("VariableInput")),
            ]),
        ),
        ("EnvironmentList", all("environments", "Environment")),
        ("NameInput", object(vec![req("name", string())])),
        (
            "Collection",
            object(vec![
                req("id", id()),
                req("workspace_id", id()),
                req("name", string()),
                req("description", nullable_string()),
                req("parent_id", nullable_id()),
                req("sort_order", integer()),
                req("created_at", time()),
                req("updated_at", time()),
            ]),
        ),
        (
            "CollectionInput",
            object(vec![
                req("name", string()),
                opt("description", nullable_text()),
                opt("parent_id", nullable_text()),
                opt("sort_order", integer()),
            ]),
        ),
        ("CollectionList", all("collections", "Collection")),
        (
            "CollectionFlow",
            object(vec![
                req("flow_id", id()),
                req("name", string()),
                req("sort_order", integer()),
            ]),
        ),
        ("CollectionFlowList", all("flows", "CollectionFlow")),
        (
            "CollectionFlowInput",
            object(vec![req("flow_id", string()), opt("sort_order", integer())]),
        ),
        (
            "Schedule",
            object(vec![
                req("id", id()),
                req("workspace_id", id()),
                req("name", string()),
                req("flow_id", nullable_id()),
                req("suite", nullable_string()),
                req("tags", strings()),
                req("cron_expr", string()),
                req("timezone", string()),
                req("environment", nullable_string()),
                req("variables", any()),
                req("enabled", boolean()),
                req("next_run_at", nullable_time()),
                req("last_run_at", nullable_time()),
                req("created_at", time()),
                req("updated_at", time()),
            ]),
        ),
        (
            "ScheduleInput",
            object(vec![
                req("name", string()),
                opt("flow_id", nullable_text()),
                opt("suite", nullable_text()),
                opt("tags", strings()),
                req(
                    "cron_expr",
                    text("5 fields, or 6 with seconds first; `@daily` and the other aliases"),
                ),
                opt(
                    "timezone",
                    json!({"type": ["string", "null"], "description": "IANA time zone; default UTC"}),
                ),
                opt("environment", nullable_text()),
                opt("variables", variables_input),
                opt("enabled", boolean()),
            ]),
        ),
        ("ScheduleList", all("schedules", "Schedule")),
        ("ApiKey", object(api_key_props())),
        (
            "CreatedApiKey",
            object(with(
                api_key_props(),
                vec![req(
                    "key",
                    text("the key itself; shown only in this response"),
                )],
            )),
        ),
        ("ApiKeyList", all("api_keys", "ApiKey")),
        (
            "ApiKeyInput",
            object(vec![
                req("name", string()),
                opt(
                    "rate_limit_per_minute",
                    json!({"type": ["integer", "null"], "minimum": 1, "description": "requests per minute; the server default when absent"}),
                ),
            ]),
        ),
        (
            "OpenApi",
            json!({"type": "object", "required": ["openapi", "info", "paths", "components"]}),
        ),
        (
            "Health",
            object(vec![
                req("status", json!({"enum": ["ok", "unavailable"]})),
                req("database", json!({"enum": ["connected", "unreachable"]})),
            ]),
        ),
        (
            "MockDefinitionInput",
            json!({
                "type": "object",
                "description": "a mock definition: the keys of the mock YAML format (name, id, state, max_body_bytes, chaos_rules, proxy, endpoints with path, method, priority, match, response or responses), checked field by field by the mock engine",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "id": {"type": "string", "description": "a UUID; generated when absent"},
                    "endpoints": {"type": "array", "items": {"type": "object"}},
                },
            }),
        ),
        (
            "MockEndpointInput",
            json!({
                "type": "object",
                "description": "an endpoint definition: path, method, priority, match, response or responses, state (the original's `match_config`/`response_config`/`state_config` too)",
            }),
        ),
        (
            "MockStateInput",
            json!({
                "type": "object",
                "description": "the key's new value (`state_value` is the original's name for it)",
                "properties": {"value": {}, "state_value": {}},
                "minProperties": 1,
                "additionalProperties": false,
            }),
        ),
        ("MockServer", object(mock_server_props())),
        (
            "MockServerDetail",
            object(with(
                mock_server_props(),
                vec![req("endpoints", list_of("MockEndpoint"))],
            )),
        ),
        ("MockServerList", page("servers", "MockServer")),
        (
            "MockEndpoint",
            object(vec![
                req("id", string()),
                req("mock_server_id", id()),
                req("method", string()),
                req("path", string()),
                req("priority", integer()),
                req("position", text_int("definition order")),
                req("definition", any()),
                req("created_at", time()),
                req("updated_at", time()),
            ]),
        ),
        ("MockEndpointList", all("endpoints", "MockEndpoint")),
        (
            "MockRequest",
            object(vec![
                req("id", id()),
                req("mock_server_id", id()),
                req("endpoint_id", nullable_string()),
                req("method", string()),
                req("path", text("relative to the mock, without the query")),
                req("query", any()),
                req(
                    "headers",
                    json!({"description": "name → value, or a list when repeated; secret headers read `********`"}),
                ),
                req("body", nullable_string()),
                req("matched", boolean()),
                req(
                    "response_code",
                    json!({"type": ["integer", "null"], "description": "null for a fault (hang, dropped connection)"}),
                ),
                req("duration_us", nullable_integer()),
                req(
                    "near_misses",
                    json!({"description": "for unmatched requests: the closest endpoints and why they did not match"}),
                ),
                req("remote", nullable_string()),
                req("received_at", time()),
            ]),
        ),
        ("MockRequestList", page("requests", "MockRequest")),
        (
            "MockStateEntry",
            object(vec![
                req("key", string()),
                req("value", any()),
                req("updated_at", time()),
            ]),
        ),
        ("MockStateList", all("states", "MockStateEntry")),
        (
            "ContractImportInput",
            json!({
                "type": "object",
                "description": "`{\"pact_json\": \"<the pact file's text>\"}`, or the pact object itself (V1–V4); checked field by field by the Pact reader",
            }),
        ),
        (
            "ContractCompareInput",
            object(vec![
                req("old_contract_id", string()),
                req("new_contract_id", string()),
            ]),
        ),
        (
            "ContractVerifyInput",
            object(vec![
                req("provider_base_url", text("where the provider runs")),
                req(
                    "provider_version",
                    json!({"type": "string", "minLength": 1}),
                ),
                opt("state_change_url", nullable_string()),
                opt(
                    "timeout_seconds",
                    json!({"type": ["integer", "null"], "minimum": 1, "maximum": 300, "description": "per request (default 30)"}),
                ),
            ]),
        ),
        ("VerificationInfo", object(verification_props())),
        (
            "ContractVerification",
            object(with(
                verification_props(),
                vec![req("report", text_any("the verifier's report"))],
            )),
        ),
        (
            "ContractVerificationList",
            page("verifications", "ContractVerification"),
        ),
        ("Contract", object(contract_props())),
        ("ContractList", page("contracts", "Contract")),
        ("ContractVersions", all("versions", "Contract")),
        (
            "ContractInteractionSummary",
            object(vec![
                req("id", text("the interaction's key, or its position")),
                req("index", integer()),
                req("type", string()),
                req("description", string()),
                req("provider_states", strings()),
                req("method", nullable_string()),
                req("path", nullable_string()),
                req("status", nullable_integer()),
                req("pending", boolean()),
            ]),
        ),
        (
            "ContractDetail",
            object(vec![
                req("contract", reference("Contract")),
                req("interactions", list_of("ContractInteractionSummary")),
            ]),
        ),
        (
            "ContractInteractionList",
            page("interactions", "ContractInteractionSummary"),
        ),
        (
            "ContractInteraction",
            object(vec![
                req("summary", reference("ContractInteractionSummary")),
                req(
                    "interaction",
                    text_any("the interaction as written in the Pact V4 file"),
                ),
            ]),
        ),
        (
            "PactFile",
            json!({
                "type": "object",
                "description": "a Pact V4 file",
                "required": ["consumer", "provider", "interactions", "metadata"],
            }),
        ),
        (
            "ContractChange",
            object(vec![
                req("id", id()),
                req("old_contract_id", id()),
                req("new_contract_id", id()),
                req(
                    "rule",
                    text("the rule that found it, e.g. `response_field_removed`"),
                ),
                req("severity", json!({"enum": ["breaking", "warning", "info"]})),
                req("interaction", string()),
                req("part", text("e.g. `response.body`")),
                req("path", text("e.g. `$.items[*].price`, or empty")),
                req("message", string()),
                req("detected_at", time()),
            ]),
        ),
        ("ContractChangeList", all("changes", "ContractChange")),
        (
            "ContractChanges",
            object(vec![
                req("old_contract_id", id()),
                req("new_contract_id", id()),
                req("computed_at", time()),
                req("changes", list_of("ContractChange")),
                req(
                    "summary",
                    object(vec![
                        req("breaking", integer()),
                        req("warning", integer()),
                        req("info", integer()),
                        req("total", integer()),
                    ]),
                ),
            ]),
        ),
        (
            "DeployVerdict",
            object(vec![
                req("deployable", boolean()),
                req("pacticipant", string()),
                req("version", string()),
                req(
                    "reasons",
                    json!({"type": "array", "items": object(vec![
                        req("ok", boolean()),
                        req("consumer", string()),
                        req("consumer_version", string()),
                        req("provider", string()),
                        req("provider_version", nullable_string()),
                        req("contract_id", nullable_id()),
                        req("verification_id", nullable_id()),
                        req("message", string()),
                    ])}),
                ),
            ]),
        ),
        (
            "ReportGenerateInput",
            object(vec![
                opt(
                    "name",
                    json!({"type": "string", "minLength": 1, "maxLength": 200}),
                ),
                req("format", json!({"enum": ["html", "json", "junit"]})),
                opt("from", date("first day (UTC), default 29 days before `to`")),
                opt("to", date("last day (UTC), default today")),
                opt("start_date", date("the original's name for `from`")),
                opt("end_date", date("the original's name for `to`")),
                opt(
                    "expires_in_days",
                    json!({"type": "integer", "minimum": 1, "maximum": 3650, "description": "default: the server's --report-ttl-days"}),
                ),
                opt(
                    "filters",
                    object(vec![
                        opt("suites", strings()),
                        opt("flows", text_strings("flow names or ids")),
                        opt("flow_ids", text_strings("the original's name for `flows`")),
                        opt(
                            "statuses",
                            json!({"type": "array", "items": {"enum": ["completed", "failed", "cancelled"]}}),
                        ),
                        opt("environments", strings()),
                    ]),
                ),
            ]),
        ),
        (
            "Report",
            object(vec![
                req("id", id()),
                req("workspace_id", id()),
                req("name", string()),
                req("format", json!({"enum": ["html", "json", "junit"]})),
                req(
                    "status",
                    json!({"enum": ["pending", "generating", "completed", "failed"]}),
                ),
                req("filters", any()),
                req("from_date", date("first day covered")),
                req("to_date", date("last day covered")),
                req("file_name", nullable_string()),
                req("file_size", nullable_integer()),
                req("error", nullable_string()),
                req("generated_by", json!({"enum": ["cli", "api", "schedule"]})),
                req("created_at", time()),
                req("generated_at", nullable_time()),
                req("expires_at", nullable_time()),
                req("download_url", nullable_string()),
            ]),
        ),
        ("ReportList", page("reports", "Report")),
    ];
    schemas
        .into_iter()
        .chain(crate::routes::analytics::schemas())
        .chain(crate::routes::ai::schemas())
        .map(|(name, schema)| (name.to_string(), schema))
        .collect()
}
