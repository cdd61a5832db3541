//! Pact files (specification V1–V4) as flows: one flow per pact that replays every HTTP
//! interaction against the provider and asserts what the consumer relies on.
//!
//! - Each `Synchronous/HTTP` interaction becomes an `http_request` step: method, `${BASE_URL}` and
//!   the path, query (`params`), headers and body of the pact's request.
//! - Request generators: `ProviderState` expressions (`/users/${id}`) become flow variables, with
//!   the provider-state parameters as their values in the flow's `env`; `Uuid` becomes `${UUID}`;
//!   other generators keep the pact's example value (listed as untranslated).
//! - The expected response becomes assertions: the status (or the `statusCode` class), each
//!   header (equality, `regex` → `matches`, `include` → `contains`, type rules → `exists`) and the
//!   body as one `matches_schema` assertion whose JSON Schema is derived from the example body and
//!   the body's matching rules (see `docs/import.md`), so a response the pact accepts passes and
//!   one it rejects fails. Values generated from provider states are compared with their variables.
//! - Provider states are named in the flow's header comment and in each step's description; the
//!   flow does not call a state-change URL, so the states must be set up beforehand.
//! - Pending interactions keep running but do not fail the flow (`on_error: continue`).
//! - Message interactions (V3 `messages`, V4 `Asynchronous/Messages` and `Synchronous/Messages`)
//!   and interactions that need a Pact plugin (a non-HTTP `transport` or `pluginConfiguration`)
//!   are skipped, each with the reason.

mod schema;

use serde_json::{Map, Value, json};
use testmesh_contract::path_expr::{PathExpr, PathToken};
use testmesh_contract::rules::{HttpStatus, MatchingRule, RuleList};
use testmesh_contract::{
    Body, HttpRequest, HttpResponse, Interaction, InteractionKind, Pact, PactError, SpecVersion,
    pact_from_json,
};

use crate::error::ImportError;
use crate::output::{Import, SourceKind, StepIds, slug};
use crate::source::{Source, escape};

use schema::SchemaBuilder;

/// The default provider address; `testmesh run --var BASE_URL=…` replaces it.
const DEFAULT_BASE_URL: &str = "http://localhost:8080";

/// Request headers the HTTP client sets itself.
const CLIENT_HEADERS: [&str; 4] = ["host", "content-length", "connection", "transfer-encoding"];

/// Words of the expression language that cannot be variable names in assertions.
const KEYWORDS: [&str; 18] = [
    "and",
    "or",
    "not",
    "in",
    "contains",
    "matches",
    "exists",
    "is",
    "null",
    "nil",
    "true",
    "false",
    "startsWith",
    "endsWith",
    "starts_with",
    "ends_with",
    "matches_schema",
    "BASE_URL",
];

/// Reads a pact and turns its HTTP interactions into one flow. Errors name the file, line, column
/// and JSON pointer of the offending field (an unknown matcher, a regex that does not compile, a
/// missing `consumer`).
pub fn import(source: &Source) -> Result<Import, ImportError> {
    let root = source.root();
    let Some(object) = root.as_object() else {
        return Err(source.invalid("", "a pact must be a JSON object"));
    };
    if !object.contains_key("consumer")
        && !object.contains_key("provider")
        && !object.contains_key("interactions")
    {
        return Err(source.invalid(
            "",
            "not a pact: expected `consumer`, `provider` and `interactions` (or `messages`)",
        ));
    }
    let pact = pact_from_json(root).map_err(|e| pact_error(source, &e))?;
    Ok(PactFlow::new(&pact, source.file()).build(pact.interactions.iter()))
}

/// An [`ImportError`] at the pact path a [`PactError`] names.
fn pact_error(source: &Source, error: &PactError) -> ImportError {
    match error {
        PactError::Syntax {
            line,
            column,
            message,
        } => ImportError::Syntax {
            file: source.file().to_string(),
            line: *line,
            col: *column,
            message: message.clone(),
        },
        PactError::Invalid { path, message } => source.invalid(&pointer(path), message.clone()),
        PactError::UnknownMatcher { path, matcher } => source.invalid(
            &pointer(path),
            format!("unknown matcher type '{matcher}' (at {path})"),
        ),
        PactError::InvalidRegex {
            path,
            regex,
            message,
        } => source.invalid(
            &pointer(path),
            format!("invalid regular expression '{regex}' (at {path}): {message}"),
        ),
        PactError::InvalidFormat {
            path,
            format,
            message,
        } => source.invalid(
            &pointer(path),
            format!("invalid date/time format '{format}' (at {path}): {message}"),
        ),
    }
}

/// `interactions[3].response.matchingRules.body['$.id'].matchers[0]` →
/// `/interactions/3/response/matchingRules/body/$.id/matchers/0`; `$` → the root.
fn pointer(path: &str) -> String {
    let mut out = String::new();
    let mut segment = String::new();
    let mut chars = path.chars().peekable();
    let flush = |segment: &mut String, out: &mut String| {
        if !segment.is_empty() {
            out.push('/');
            out.push_str(&escape(segment));
            segment.clear();
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => flush(&mut segment, &mut out),
            '[' => {
                flush(&mut segment, &mut out);
                let quoted = matches!(chars.peek(), Some('\'' | '"'));
                let quote = if quoted { chars.next() } else { None };
                let mut inner = String::new();
                while let Some(c) = chars.next() {
                    if Some(c) == quote && chars.peek() == Some(&']') {
                        chars.next();
                        break;
                    }
                    if quote.is_none() && c == ']' {
                        break;
                    }
                    inner.push(c);
                }
                out.push('/');
                out.push_str(&escape(&inner));
            }
            _ => segment.push(c),
        }
    }
    flush(&mut segment, &mut out);
    if out == "/$" { String::new() } else { out }
}

fn version_text(version: Option<SpecVersion>) -> &'static str {
    match version {
        Some(SpecVersion::V1) => "V1",
        Some(SpecVersion::V1_1) => "V1.1",
        Some(SpecVersion::V2) => "V2",
        Some(SpecVersion::V3) | None => "V3",
        Some(SpecVersion::V4) => "V4",
    }
}

/// The flow being built from one pact.
struct PactFlow {
    import: Import,
    file: String,
    version: &'static str,
    consumer: String,
    provider: String,
    env: Map<String, Value>,
    ids: StepIds,
    steps: Vec<Value>,
    states: Vec<String>,
    /// Flow variables other than `BASE_URL`, with what they hold.
    var_notes: Vec<(String, String)>,
    interactions: usize,
}

/// Provider-state parameter name → the flow variable holding it, for one interaction.
type StateVars = Vec<(String, String)>;

impl PactFlow {
    fn new(pact: &Pact, file: &str) -> PactFlow {
        let title = format!("{} → {}", pact.consumer.name, pact.provider.name);
        let mut env = Map::new();
        env.insert("BASE_URL".into(), json!(DEFAULT_BASE_URL));
        PactFlow {
            import: Import::new(SourceKind::Pact, title),
            file: file.to_string(),
            version: version_text(pact.source_version),
            consumer: pact.consumer.name.clone(),
            provider: pact.provider.name.clone(),
            env,
            ids: StepIds::new(),
            steps: Vec::new(),
            states: Vec::new(),
            var_notes: Vec::new(),
            interactions: pact.interactions.len(),
        }
    }

    fn build<'a>(mut self, interactions: impl Iterator<Item = &'a Interaction>) -> Import {
        for interaction in interactions {
            let item = format!(
                "\"{}\" ({})",
                interaction.description,
                interaction.kind.type_name()
            );
            match &interaction.kind {
                InteractionKind::Http { request, response } => {
                    if let Some(reason) = plugin_reason(interaction) {
                        self.import.skip(item, reason);
                        continue;
                    }
                    let step = self.step(interaction, request, response, &item);
                    self.steps.push(step);
                }
                InteractionKind::AsyncMessage(_) => self.import.skip(
                    item,
                    "a message interaction: flows send HTTP requests to the provider; verify \
                     message pacts with `testmesh contract verify`",
                ),
                InteractionKind::SyncMessages { .. } => self.import.skip(
                    item,
                    "a synchronous message interaction (request/response messages, not HTTP): \
                     verify it with `testmesh contract verify`",
                ),
            }
        }
        if self.steps.is_empty() {
            return self.import;
        }
        let title = self.import.title.clone();
        let comments = self.comments();
        let mut flow = Map::new();
        flow.insert("name".into(), json!(truncate(&title, 255)));
        flow.insert(
            "description".into(),
            json!(truncate(
                &format!(
                    "What {} expects of {}, from their pact (Pact {}). Each step replays one \
                     interaction and asserts the response the consumer relies on.",
                    self.consumer, self.provider, self.version
                ),
                1000
            )),
        );
        flow.insert("suite".into(), json!(self.provider));
        let mut tags = vec!["pact".to_string()];
        for name in [&self.consumer, &self.provider] {
            let tag = slug(name, '-');
            if !tag.is_empty() && !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        flow.insert("tags".into(), json!(tags));
        flow.insert("env".into(), Value::Object(std::mem::take(&mut self.env)));
        // Every interaction is checked even when an earlier one fails, as a verifier does.
        flow.insert("config".into(), json!({"fail_fast": false}));
        flow.insert(
            "steps".into(),
            Value::Array(std::mem::take(&mut self.steps)),
        );
        self.import.add_flow(title, Value::Object(flow), &comments);
        self.import
    }

    fn comments(&self) -> Vec<String> {
        let file = std::path::Path::new(&self.file)
            .file_name()
            .map_or_else(|| self.file.clone(), |f| f.to_string_lossy().into_owned());
        let mut lines = vec![
            format!("Generated by `testmesh import pact` from {file}"),
            format!(
                "Pact: {} → {} (Pact {}, {} interaction{})",
                self.consumer,
                self.provider,
                self.version,
                self.interactions,
                if self.interactions == 1 { "" } else { "s" }
            ),
            "Variables (set with `testmesh run <file> --var NAME=value`):".to_string(),
            format!(
                "  BASE_URL: where {} runs (default {DEFAULT_BASE_URL})",
                self.provider
            ),
        ];
        for (name, why) in &self.var_notes {
            lines.push(format!("  {name}: {why}"));
        }
        if !self.states.is_empty() {
            lines.push(
                "Provider states to set up before running (the flow does not call a state-change \
                 URL):"
                    .to_string(),
            );
            for state in &self.states {
                lines.push(format!("  - {state}"));
            }
        }
        if !self.import.skipped.is_empty() {
            lines.push("Not imported:".to_string());
            for skipped in &self.import.skipped {
                lines.push(format!("  - {}: {}", skipped.item, skipped.reason));
            }
        }
        lines
    }

    fn step(
        &mut self,
        interaction: &Interaction,
        request: &HttpRequest,
        response: &HttpResponse,
        item: &str,
    ) -> Value {
        let vars = self.state_vars(interaction, item);
        let mut notes = Vec::new();
        let mut step = Map::new();
        step.insert("id".into(), json!(self.ids.next(&interaction.description)));
        step.insert(
            "name".into(),
            json!(truncate(&interaction.description, 255)),
        );
        let mut description = Vec::new();
        if !interaction.provider_states.is_empty() {
            let states: Vec<String> = interaction
                .provider_states
                .iter()
                .map(|s| state_text(&s.name, &s.params))
                .collect();
            description.push(format!("Given {}.", states.join("; ")));
        }
        if interaction.pending {
            description.push(
                "Pending in the pact: a failure is recorded but does not fail the flow."
                    .to_string(),
            );
        }
        if !description.is_empty() {
            step.insert(
                "description".into(),
                json!(truncate(&description.join(" "), 1000)),
            );
        }
        step.insert("action".into(), json!("http_request"));
        let config = self.request_config(request, &vars, &mut notes);
        step.insert("config".into(), Value::Object(config));
        let assertions = self.response_assertions(response, &vars, &mut notes);
        step.insert("assert".into(), Value::Array(assertions));
        if interaction.pending {
            step.insert("on_error".into(), json!("continue"));
        }
        for note in notes {
            self.import.untranslated(item, note);
        }
        Value::Object(step)
    }

    /// Records the interaction's provider states and puts their scalar parameters in the flow's
    /// `env`, under names unique within the flow.
    fn state_vars(&mut self, interaction: &Interaction, item: &str) -> StateVars {
        let mut vars = StateVars::new();
        for state in &interaction.provider_states {
            let text = state_text(&state.name, &state.params);
            if !self.states.contains(&text) {
                self.states.push(text);
            }
            for (name, value) in &state.params {
                if value.is_object() || value.is_array() {
                    self.import.untranslated(
                        item,
                        format!(
                            "provider-state parameter `{name}` is a {}; flow variables hold \
                             single values, so it is only named in the description",
                            if value.is_object() { "mapping" } else { "list" }
                        ),
                    );
                    continue;
                }
                let why = format!(
                    "parameter `{name}` of the provider state \"{}\" (default {})",
                    state.name,
                    compact(value)
                );
                let var = self.env_var(name, value, why);
                vars.push((name.clone(), var));
            }
        }
        vars
    }

    /// A flow variable holding `value`: `wanted` made a valid name, reused when it already holds
    /// the same value, else numbered (`id_2`).
    fn env_var(&mut self, wanted: &str, value: &Value, why: String) -> String {
        let mut base: String = wanted
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if !base
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        {
            base = format!("v_{base}");
        }
        if KEYWORDS.contains(&base.as_str())
            || testmesh_flow::interpolate::is_builtin(&base.to_ascii_uppercase())
        {
            base = format!("{base}_value");
        }
        let mut name = base.clone();
        let mut n = 2;
        loop {
            let existing = self
                .env
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                .map(|(_, v)| v);
            match existing {
                None => {
                    self.env.insert(name.clone(), value.clone());
                    self.var_notes.push((name.clone(), why));
                    return name;
                }
                Some(v) if v == value => return name,
                Some(_) => {
                    name = format!("{base}_{n}");
                    n += 1;
                }
            }
        }
    }

    fn request_config(
        &mut self,
        request: &HttpRequest,
        vars: &StateVars,
        notes: &mut Vec<String>,
    ) -> Map<String, Value> {
        let mut generators = request.generators.categories.clone();
        let mut config = Map::new();
        config.insert("method".into(), json!(request.method.to_ascii_uppercase()));

        let mut path = literal(&request.path, notes);
        if let Some(generator) = generators
            .remove("path")
            .as_ref()
            .and_then(single_generator)
        {
            let example = Value::String(request.path.clone());
            if let Some(value) = self.generated(generator, &example, vars, "path", notes) {
                path = text_of(&value);
            }
        }
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        config.insert("url".into(), json!(format!("${{BASE_URL}}{path}")));

        let header_generators = take_category(&mut generators, &["header", "headers"]);
        let mut headers = Map::new();
        for (name, values) in &request.headers {
            if CLIENT_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            let text = values.join(", ");
            let mut value = json!(literal(&text, notes));
            if let Some(generator) = find_generator(&header_generators, name, true) {
                let at = format!("header {name}");
                if let Some(v) = self.generated(generator, &json!(text), vars, &at, notes) {
                    value = v;
                }
            }
            headers.insert(name.clone(), value);
        }

        let query_generators = take_category(&mut generators, &["query"]);
        let mut params = Map::new();
        for (name, values) in &request.query {
            let mut items: Vec<Value> = values.iter().map(|v| json!(literal(v, notes))).collect();
            if let Some(generator) = find_generator(&query_generators, name, false) {
                let at = format!("query {name}");
                for (item, raw) in items.iter_mut().zip(values) {
                    if let Some(v) = self.generated(generator, &json!(raw), vars, &at, notes) {
                        *item = v;
                    }
                }
            }
            let value = if items.len() == 1 {
                items.pop().unwrap_or(Value::Null)
            } else {
                Value::Array(items)
            };
            params.insert(name.clone(), value);
        }

        let body_generators = take_category(&mut generators, &["body"]);
        match &request.body {
            Body::Missing | Body::Null | Body::Empty => {}
            Body::Present { content, .. } => {
                let content_type = request.content_type();
                match std::str::from_utf8(content) {
                    Err(_) => notes.push(format!(
                        "the request body is binary ({} bytes); add it to the step by hand",
                        content.len()
                    )),
                    Ok(text) => {
                        let json_body = content_type
                            .as_ref()
                            .is_none_or(testmesh_contract::ContentType::is_json)
                            .then(|| serde_json::from_str::<Value>(text).ok())
                            .flatten();
                        match json_body {
                            Some(original @ (Value::Object(_) | Value::Array(_))) => {
                                let mut value = original.clone();
                                escape_strings(&mut value, notes);
                                for (key, generator) in &body_generators {
                                    let Some(generator) = generator.as_object() else {
                                        continue;
                                    };
                                    let Ok(expr) = PathExpr::parse(key) else {
                                        notes.push(format!(
                                            "the body generator at '{key}' names no location"
                                        ));
                                        continue;
                                    };
                                    let mut targets = Vec::new();
                                    collect_locations(
                                        &original,
                                        expr.tokens(),
                                        &mut Vec::new(),
                                        &mut targets,
                                    );
                                    for target in targets {
                                        let example = lookup(&original, &target)
                                            .cloned()
                                            .unwrap_or(Value::Null);
                                        let at = format!("body {key}");
                                        if let Some(v) =
                                            self.generated(generator, &example, vars, &at, notes)
                                        {
                                            set_at(&mut value, &target, v);
                                        }
                                    }
                                }
                                config.insert("body".into(), value);
                            }
                            _ => {
                                let form = content_type
                                    .as_ref()
                                    .filter(|c| c.is_form_urlencoded())
                                    .and_then(|_| form_fields(text, notes));
                                match form {
                                    Some(fields) => {
                                        config.insert("form".into(), Value::Object(fields));
                                    }
                                    None => {
                                        config.insert("body".into(), json!(literal(text, notes)));
                                    }
                                }
                                if !body_generators.is_empty() {
                                    notes.push(
                                        "body generators of a non-JSON request body are not \
                                         translated; the example body is sent"
                                            .to_string(),
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        for category in generators.keys() {
            notes.push(format!(
                "request generators of category '{category}' are not translated"
            ));
        }
        if !headers.is_empty() {
            config.insert("headers".into(), Value::Object(headers));
        }
        if !params.is_empty() {
            config.insert("params".into(), Value::Object(params));
        }
        config
    }

    /// What a request generator becomes in the flow: a template over flow variables
    /// (`ProviderState`), a system variable (`Uuid`), or `None` to keep the example (noted).
    fn generated(
        &mut self,
        generator: &Map<String, Value>,
        example: &Value,
        vars: &StateVars,
        at: &str,
        notes: &mut Vec<String>,
    ) -> Option<Value> {
        let kind = generator.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "ProviderState" => {
                let expression = generator.get("expression").and_then(Value::as_str)?;
                let template = self.state_template(expression, example, vars, at, notes)?;
                Some(template.into_value())
            }
            "Uuid"
                if generator
                    .get("format")
                    .and_then(Value::as_str)
                    .is_none_or(|f| f == "lower-case-hyphenated") =>
            {
                Some(json!("${UUID}"))
            }
            "MockServerURL" => None,
            other => {
                notes.push(format!(
                    "the {} generator for the request {at} is not translated; the example {} is sent",
                    if other.is_empty() { "untyped" } else { other },
                    compact(example)
                ));
                None
            }
        }
    }

    /// A ProviderState expression (`/users/${id}`) over flow variables. Names that are no
    /// parameter of the interaction's provider states get a variable whose value is taken from
    /// the example where the expression's literal text allows (`/users/100` → `100`).
    fn state_template(
        &mut self,
        expression: &str,
        example: &Value,
        vars: &StateVars,
        at: &str,
        notes: &mut Vec<String>,
    ) -> Option<Template> {
        let pieces = split_expression(expression)?;
        let names: Vec<&str> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Var(name) => Some(name.as_str()),
                Piece::Text(_) => None,
            })
            .collect();
        let extracted = extract(&pieces, example);
        let mut out = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Text(text) => out.push(Piece::Text(text.clone())),
                Piece::Var(name) => {
                    let var = match vars.iter().find(|(param, _)| param == name) {
                        Some((_, var)) => var.clone(),
                        None => {
                            let value = match (&extracted, names.len()) {
                                // The whole value is the variable: keep the example's type.
                                (_, 1) if pieces.len() == 1 => example.clone(),
                                (Some(values), _) => values
                                    .iter()
                                    .find(|(n, _)| n == name)
                                    .map(|(_, v)| json!(v))
                                    .unwrap_or_else(|| json!("")),
                                (None, _) => json!(""),
                            };
                            notes.push(format!(
                                "the request {at} uses `{name}` from the provider state, which \
                                 the pact gives no parameter for: the flow variable `{name}` \
                                 holds the example value {}; set it (--var) to what the state \
                                 creates",
                                compact(&value)
                            ));
                            let why = format!(
                                "`{name}` of the provider state, which the pact gives no \
                                 parameter for (default {}, the pact's example)",
                                compact(&value)
                            );
                            self.env_var(name, &value, why)
                        }
                    };
                    out.push(Piece::Var(var));
                }
            }
        }
        Some(Template(out))
    }

    fn response_assertions(
        &mut self,
        response: &HttpResponse,
        vars: &StateVars,
        notes: &mut Vec<String>,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        let rules = &response.matching_rules;
        let status_class = rules
            .category("status")
            .and_then(|c| c.single())
            .and_then(|list| {
                list.rules.iter().find_map(|r| match r {
                    MatchingRule::StatusCode(class) => Some(class.clone()),
                    _ => None,
                })
            });
        out.push(json!(match status_class {
            Some(class) => status_expression(&class),
            None => format!("status == {}", response.status),
        }));

        let header_rules = rules.category("header");
        for (name, values) in &response.headers {
            let text = values.join(", ");
            let list = header_rules.and_then(|c| {
                c.entries
                    .iter()
                    .find(|(k, _)| k.as_str().eq_ignore_ascii_case(name))
                    .map(|(_, l)| l)
            });
            out.extend(
                header_assertions(name, &text, list, notes)
                    .into_iter()
                    .map(Value::String),
            );
        }

        match &response.body {
            Body::Missing => {}
            Body::Null | Body::Empty => out.push(json!("body == '' or body == null")),
            Body::Present { content, .. } => {
                let content_type = response.content_type();
                let body_rules = rules.category("body").cloned().unwrap_or_default();
                match std::str::from_utf8(content) {
                    Err(_) => notes.push(format!(
                        "the expected response body is binary ({} bytes) and is not checked",
                        content.len()
                    )),
                    Ok(text) => {
                        let is_json = content_type.as_ref().is_none_or(|c| c.is_json());
                        let parsed = is_json
                            .then(|| serde_json::from_str::<Value>(text).ok())
                            .flatten();
                        if let Some(example) = parsed {
                            let schema = SchemaBuilder::new(notes).body(&example, &body_rules);
                            out.push(json!({ "body matches_schema": schema }));
                        } else if content_type.as_ref().is_some_and(|c| c.is_xml()) {
                            notes.push(
                                "the expected XML response body is not checked (compare it by \
                                 hand or add assertions on its text)"
                                    .to_string(),
                            );
                        } else {
                            let root = vec!["$".to_string()];
                            match schema::best(&body_rules, &root) {
                                None => out.push(json!(format!("body == {}", quote(text)))),
                                Some((list, _)) => out.extend(
                                    text_assertions("body", text, list, notes)
                                        .into_iter()
                                        .map(Value::String),
                                ),
                            }
                        }
                    }
                }
            }
        }

        // Response values generated from provider states: compare with their variables.
        let body_generators = response
            .generators
            .categories
            .get("body")
            .and_then(Value::as_object);
        for (key, generator) in body_generators.into_iter().flatten() {
            let Some(generator) = generator.as_object() else {
                continue;
            };
            if generator.get("type").and_then(Value::as_str) != Some("ProviderState") {
                continue;
            }
            let Some(expression) = generator.get("expression").and_then(Value::as_str) else {
                continue;
            };
            let Some(target) = PathExpr::parse(key).ok().and_then(|e| body_path(&e)) else {
                continue;
            };
            let example = json!(null);
            let at = format!("response body {key}");
            if let Some(template) = self.state_template(expression, &example, vars, &at, notes) {
                out.push(json!(format!("{target} == {}", template.expression())));
            }
        }
        out
    }
}

/// `a user exists (id: 42, name: "Ann")`.
fn state_text(name: &str, params: &Map<String, Value>) -> String {
    if params.is_empty() {
        return name.to_string();
    }
    let params: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}: {}", compact(v)))
        .collect();
    format!("{name} ({})", params.join(", "))
}

/// Why an HTTP interaction cannot be replayed without a Pact plugin, if it cannot.
fn plugin_reason(interaction: &Interaction) -> Option<String> {
    if let Some(transport) = interaction.extra.get("transport").and_then(Value::as_str)
        && !transport.eq_ignore_ascii_case("http")
        && !transport.eq_ignore_ascii_case("https")
    {
        return Some(format!(
            "uses the '{transport}' transport of a Pact plugin; flows replay plain HTTP"
        ));
    }
    let plugins: Vec<&String> = interaction
        .extra
        .get("pluginConfiguration")
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    if !plugins.is_empty() {
        let names: Vec<&str> = plugins.iter().map(|s| s.as_str()).collect();
        return Some(format!(
            "its contents are defined by the Pact plugin{} {} and cannot be built or checked without it",
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    None
}

fn status_expression(class: &HttpStatus) -> String {
    let range = |from: u16, to: u16| format!("status >= {from} and status < {to}");
    match class {
        HttpStatus::Information => range(100, 200),
        HttpStatus::Success => range(200, 300),
        HttpStatus::Redirect => range(300, 400),
        HttpStatus::ClientError => range(400, 500),
        HttpStatus::ServerError => range(500, 600),
        HttpStatus::NonError => "status < 400".to_string(),
        HttpStatus::Error => "status >= 400".to_string(),
        HttpStatus::Codes(codes) => format!(
            "status in [{}]",
            codes
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Assertions on one expected response header.
fn header_assertions(
    name: &str,
    value: &str,
    rules: Option<&RuleList>,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let target = format!("headers[{}]", quote(&name.to_ascii_lowercase()));
    match rules {
        Some(list) => text_assertions(&target, value, list, notes),
        None if name.eq_ignore_ascii_case("content-type") => {
            // Parameters (`; charset=utf-8`) may differ, as the matching engine allows.
            let base = value.split(';').next().unwrap_or_default().trim();
            vec![format!(
                "{target} matches {}",
                quote(&format!(r"(?i)^{}\s*(;.*)?$", regex::escape(base)))
            )]
        }
        None => vec![format!("{target} == {}", quote(value))],
    }
}

/// Assertions that a text value (a header, a plain-text body) satisfies a rule list.
fn text_assertions(
    target: &str,
    example: &str,
    list: &RuleList,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let mut parts = Vec::new();
    for rule in &list.rules {
        let part = match rule {
            MatchingRule::Equality | MatchingRule::Values => {
                format!("{target} == {}", quote(example))
            }
            MatchingRule::Include(text) => format!("{target} contains {}", quote(text)),
            MatchingRule::Integer => format!("{target} matches '^-?\\d+$'"),
            MatchingRule::Decimal | MatchingRule::Number => {
                format!("{target} matches '^-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?$'")
            }
            MatchingRule::Boolean => format!("{target} in ['true', 'false']"),
            MatchingRule::NotEmpty => format!("{target} != ''"),
            other => {
                let pattern = match other {
                    MatchingRule::Regex(re) => Some(format!("^(?:{})$", re.as_str())),
                    MatchingRule::Semver => Some(schema::SEMVER.to_string()),
                    MatchingRule::Date(f) | MatchingRule::Time(f) | MatchingRule::Timestamp(f) => {
                        schema::date_pattern(f.pattern())
                    }
                    _ => None,
                };
                match pattern {
                    Some(p) if regex::Regex::new(&p).is_ok() => {
                        format!("{target} matches {}", quote(&p))
                    }
                    Some(p) => {
                        notes.push(format!(
                            "the {} rule for {target} ('{p}') uses regex features the assertion \
                             language lacks; only its presence is checked",
                            other.name()
                        ));
                        format!("{target} exists")
                    }
                    None => format!("{target} exists"),
                }
            }
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    match list.combine {
        testmesh_contract::rules::Combine::And => parts,
        testmesh_contract::rules::Combine::Or if parts.len() > 1 => vec![
            parts
                .iter()
                .map(|p| format!("({p})"))
                .collect::<Vec<_>>()
                .join(" or "),
        ],
        testmesh_contract::rules::Combine::Or => parts,
    }
}

/// A string literal of the expression language.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Text sent as written: `${` is escaped (`$${`) so it is not read as a reference. `{{` has no
/// escape in flow strings; as the OpenAPI importer does, it is sent as `{ {` and noted.
fn literal(text: &str, notes: &mut Vec<String>) -> String {
    let mut out = text.replace("${", "$${");
    if out.contains("{{") {
        let note = format!(
            "'{}' contains `{{{{`, which flows would read as a reference; it is sent as `{{ {{`",
            truncate(text, 80)
        );
        if !notes.contains(&note) {
            notes.push(note);
        }
        while out.contains("{{") {
            out = out.replace("{{", "{ {");
        }
    }
    out
}

fn escape_strings(value: &mut Value, notes: &mut Vec<String>) {
    match value {
        Value::String(s) => *s = literal(s, notes),
        Value::Array(items) => items.iter_mut().for_each(|v| escape_strings(v, notes)),
        Value::Object(map) => map.values_mut().for_each(|v| escape_strings(v, notes)),
        _ => {}
    }
}

fn form_fields(text: &str, notes: &mut Vec<String>) -> Option<Map<String, Value>> {
    let mut fields = Map::new();
    for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
        if fields.contains_key(k.as_ref()) {
            return None;
        }
        fields.insert(k.into_owned(), json!(literal(&v, notes)));
    }
    Some(fields)
}

fn single_generator(value: &Value) -> Option<&Map<String, Value>> {
    let obj = value.as_object()?;
    if obj.contains_key("type") {
        Some(obj)
    } else {
        obj.values().next().and_then(Value::as_object)
    }
}

fn take_category(generators: &mut Map<String, Value>, names: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for name in names {
        if let Some(Value::Object(map)) = generators.remove(*name) {
            out.extend(map);
        }
    }
    out
}

fn find_generator<'g>(
    generators: &'g Map<String, Value>,
    name: &str,
    any_case: bool,
) -> Option<&'g Map<String, Value>> {
    generators
        .iter()
        .find(|(k, _)| {
            if any_case {
                k.eq_ignore_ascii_case(name)
            } else {
                *k == name
            }
        })
        .and_then(|(_, g)| g.as_object())
}

/// Every concrete location of `value` that `tokens` (a body path expression) names.
fn collect_locations(
    value: &Value,
    tokens: &[PathToken],
    at: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    let Some((first, rest)) = tokens.split_first() else {
        out.push(at.clone());
        return;
    };
    let mut visit = |key: String, child: &Value, at: &mut Vec<String>| {
        at.push(key);
        collect_locations(child, rest, at, out);
        at.pop();
    };
    match (first, value) {
        (PathToken::Root, _) => collect_locations(value, rest, at, out),
        (PathToken::Field(name), Value::Object(map)) => {
            if let Some(child) = map.get(name) {
                visit(name.clone(), child, at);
            }
        }
        (PathToken::Index(i), Value::Array(items)) => {
            if let Some(child) = items.get(*i) {
                visit(i.to_string(), child, at);
            }
        }
        (PathToken::Star | PathToken::StarIndex, Value::Array(items)) => {
            for (i, child) in items.iter().enumerate() {
                visit(i.to_string(), child, at);
            }
        }
        (PathToken::Star, Value::Object(map)) => {
            for (k, child) in map {
                visit(k.clone(), child, at);
            }
        }
        _ => {}
    }
}

fn lookup<'v>(value: &'v Value, at: &[String]) -> Option<&'v Value> {
    at.iter().try_fold(value, |v, key| match v {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn set_at(value: &mut Value, at: &[String], new: Value) {
    let target = at.iter().try_fold(value, |v, key| match v {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    });
    if let Some(target) = target {
        *target = new;
    }
}

/// `body.items[0].id` for `$.items[0].id`; `None` for wildcards.
fn body_path(expr: &PathExpr) -> Option<String> {
    let mut out = String::from("body");
    for token in expr.tokens() {
        match token {
            PathToken::Root => {}
            PathToken::Field(name) => {
                let word = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if word {
                    out.push('.');
                    out.push_str(name);
                } else {
                    out.push_str(&format!("[{}]", quote(name)));
                }
            }
            PathToken::Index(i) => out.push_str(&format!("[{i}]")),
            PathToken::Star | PathToken::StarIndex => return None,
        }
    }
    Some(out)
}

/// A piece of a ProviderState expression or of a flow template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Var(String),
}

/// `/users/${id}` → text `/users/`, variable `id`. `None` when a `${` is not closed.
fn split_expression(expression: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut rest = expression;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            pieces.push(Piece::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        pieces.push(Piece::Var(after[..end].trim().to_string()));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Some(pieces)
}

/// The values of an expression's variables in the example (`/users/${id}` over `/users/100` →
/// `id = 100`), when the literal text lines up.
fn extract(pieces: &[Piece], example: &Value) -> Option<Vec<(String, String)>> {
    let text = text_of(example);
    let mut pattern = String::from("^");
    let mut names = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => pattern.push_str(&regex::escape(t)),
            Piece::Var(name) => {
                pattern.push_str("(.*?)");
                names.push(name.clone());
            }
        }
    }
    pattern.push('$');
    let captures = regex::Regex::new(&pattern).ok()?.captures(&text)?;
    Some(
        names
            .into_iter()
            .zip(captures.iter().skip(1))
            .map(|(n, m)| (n, m.map_or(String::new(), |m| m.as_str().to_string())))
            .collect(),
    )
}

/// Flow text built from literal pieces and variable references.
struct Template(Vec<Piece>);

impl Template {
    /// The config value: exactly one reference keeps the variable's type.
    fn into_value(self) -> Value {
        let mut text = String::new();
        for piece in self.0 {
            match piece {
                Piece::Text(t) => text.push_str(&t.replace("${", "$${")),
                Piece::Var(v) => text.push_str(&format!("${{{v}}}")),
            }
        }
        Value::String(text)
    }

    /// The value as an expression: `${id}`, or `'/users/' + ${id}`.
    fn expression(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|p| match p {
                Piece::Text(t) => quote(t),
                Piece::Var(v) => format!("${{{v}}}"),
            })
            .collect();
        match parts.as_slice() {
            [one] => one.clone(),
            _ if matches!(self.0.first(), Some(Piece::Var(_))) => {
                format!("'' + {}", parts.join(" + "))
            }
            _ => parts.join(" + "),
        }
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    truncate(&text, 120)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pact_paths_become_json_pointers() {
        assert_eq!(pointer("$"), "");
        assert_eq!(
            pointer("interactions[3].request.method"),
            "/interactions/3/request/method"
        );
        assert_eq!(
            pointer("interactions[0].response.matchingRules.body['$.a.b'].matchers[0]"),
            "/interactions/0/response/matchingRules/body/$.a.b/matchers/0"
        );
        assert_eq!(
            pointer("interactions[1].matchingRules['$.body.x/y']"),
            "/interactions/1/matchingRules/$.body.x~1y"
        );
    }

    #[test]
    fn expressions_split_and_extract() {
        let pieces = split_expression("/users/${id}/orders/${ order }").unwrap_or_default();
        assert_eq!(
            pieces,
            vec![
                Piece::Text("/users/".into()),
                Piece::Var("id".into()),
                Piece::Text("/orders/".into()),
                Piece::Var("order".into())
            ]
        );
        assert_eq!(
            extract(&pieces, &json!("/users/7/orders/x1")),
            Some(vec![
                ("id".into(), "7".into()),
                ("order".into(), "x1".into())
            ])
        );
        assert_eq!(split_expression("${oops"), None);
        let t = Template(vec![Piece::Var("id".into()), Piece::Text("'s".into())]);
        assert_eq!(t.expression(), "'' + ${id} + '\\'s'");
    }

    #[test]
    fn quoting_and_literals() {
        assert_eq!(quote("a'b\\c\n"), "'a\\'b\\\\c\\n'");
        let mut notes = Vec::new();
        assert_eq!(literal("x ${y} z", &mut notes), "x $${y} z");
        assert!(notes.is_empty());
        assert_eq!(literal("{{name}}}}", &mut notes), "{ {name}}}}");
        assert_eq!(notes.len(), 1);
    }
}
