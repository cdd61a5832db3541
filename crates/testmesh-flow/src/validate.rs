//! Checks that need the whole flow: references in execution order, step-id rules, action-specific
//! constraints, documented limits, and `run_flow` cycles across files.
//!
//! Decoding already reported syntax, types, required keys, unknown keys, durations and expression
//! syntax. Rules the original never enforced are warnings, so nothing it accepted is rejected; a flow
//! that cannot run as written is an error.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::interpolate::{self, faker_is_known, is_builtin};
use crate::model::actions::{Action, ActionKind, MOCK_TEMPLATE_ROOTS, is_deferred};
use crate::model::step::{Condition, Step};
use crate::model::{Flow, Phase};
use crate::yaml::{Node, NodeKind, Span};

/// Documented limits (warnings).
const MAX_STEPS: usize = 1000;
const MAX_NESTING: usize = 10;
const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 1000;

/// Validates a decoded flow. `source` is the file text, used to point inside strings.
pub fn check_flow(flow: &Flow, source: &str) -> Vec<Diagnostic> {
    let mut checker = Checker::new(flow, source);
    checker.flow_rules();
    checker.walk_phases();
    checker.diagnostics
}

struct Checker<'a> {
    flow: &'a Flow,
    source: &'a str,
    diagnostics: Vec<Diagnostic>,
    /// Every step id in the file with the step's line, for "runs later" messages.
    all_ids: HashMap<&'a str, usize>,
    /// Output names declared anywhere, mapped to the step that declares them.
    all_outputs: HashMap<&'a str, &'a str>,
    /// Steps that have run before the current point.
    done_ids: HashSet<&'a str>,
    /// Bare output names available at the current point.
    done_outputs: HashSet<&'a str>,
    /// Loop variables in scope.
    loop_vars: Vec<String>,
    seen_ids: HashMap<&'a str, Span>,
}

static STEP_ID: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_-]{0,63}$").ok());
static TAG: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9_-]*$").ok());

impl<'a> Checker<'a> {
    fn new(flow: &'a Flow, source: &'a str) -> Self {
        let mut all_ids = HashMap::new();
        let mut all_outputs = HashMap::new();
        for (_, steps) in flow.phases() {
            Step::walk(steps, &mut |step| {
                all_ids.entry(step.id.as_str()).or_insert(step.span.line);
                for name in step.output.keys() {
                    all_outputs.entry(name.as_str()).or_insert(step.id.as_str());
                }
            });
        }
        Checker {
            flow,
            source,
            diagnostics: Vec::new(),
            all_ids,
            all_outputs,
            done_ids: HashSet::new(),
            done_outputs: HashSet::new(),
            loop_vars: Vec::new(),
            seen_ids: HashMap::new(),
        }
    }

    fn flow_rules(&mut self) {
        let flow = self.flow;
        let whole = flow.node.span;
        match flow.name_span {
            None => self.warn(
                "missing-name",
                "the flow has no `name`; runs and reports will show it without one",
                whole,
            ),
            Some(span) if flow.name.trim().is_empty() => {
                self.warn("missing-name", "the flow's `name` is empty", span)
            }
            Some(span) if flow.name.chars().count() > MAX_NAME => self.warn(
                "limit",
                format!("the name is longer than {MAX_NAME} characters"),
                span,
            ),
            Some(_) => {}
        }
        if flow
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            let span = flow.node.entry("description").map_or(whole, |e| e.key_span);
            self.warn(
                "limit",
                format!("the description is longer than {MAX_DESCRIPTION} characters"),
                span,
            );
        }
        if flow.steps.is_empty() {
            let span = flow.node.entry("steps").map_or(whole, |e| e.key_span);
            self.warn(
                "no-steps",
                "the flow has no steps; it will pass without doing anything",
                span,
            );
        }
        for tag in &flow.tags {
            if TAG.as_ref().is_some_and(|re| !re.is_match(&tag.value)) {
                self.diagnostics.push(
                    Diagnostic::warning(
                        "tag-format",
                        format!(
                            "tag `{}` is not lower-case letters, digits, `_` and `-`",
                            tag.value
                        ),
                        tag.span,
                    )
                    .with_help("tags are matched exactly; `Smoke` and `smoke` are different tags"),
                );
            }
        }
        let mut total = 0;
        for (_, steps) in flow.phases() {
            Step::walk(steps, &mut |_| total += 1);
        }
        if total > MAX_STEPS {
            self.warn("limit", format!("the flow has {total} steps; more than {MAX_STEPS} is hard to read and slow to run"), whole);
        }
        for (key, value) in &flow.env {
            if !value.is_string() && !value.is_number() && !value.is_boolean() {
                let span = flow
                    .node
                    .get("env")
                    .and_then(|env| env.entry(key))
                    .map_or(whole, |e| e.value.span);
                self.warn(
                    "env-value",
                    format!("`env.{key}` is not a plain value; it is passed to steps as JSON text"),
                    span,
                );
            }
        }
    }

    fn walk_phases(&mut self) {
        // Run order: setup, main, on_error, teardown. Steps of on_error and teardown may refer to any main
        // step, though a failed run may not have produced it; that is a runtime matter, not a typo.
        for phase in [Phase::Setup, Phase::Main, Phase::OnError, Phase::Teardown] {
            self.walk_steps(self.flow.phase(phase), 1);
        }
    }

    fn walk_steps(&mut self, steps: &'a [Step], depth: usize) {
        for step in steps {
            self.check_step(step, depth);
        }
    }

    fn check_step(&mut self, step: &'a Step, depth: usize) {
        if step.id_given {
            self.check_step_id(step);
        }
        if depth > MAX_NESTING {
            self.warn(
                "limit",
                format!(
                    "steps nested {depth} levels deep; more than {MAX_NESTING} is hard to follow"
                ),
                step.span,
            );
        }
        if let Some(when) = &step.when {
            self.check_condition_names(when, step);
        }
        self.check_retry(step);
        self.check_outputs(step);
        self.check_contract_hints(step);
        if let Some(action) = &step.action {
            self.check_action(step, action);
        }
        self.check_config_references(step);

        // Nested steps see the loop variables of a for_each.
        let loop_vars = match &step.action {
            Some(Action::ForEach(c)) => vec![
                c.item_name.clone().unwrap_or_else(|| "item".into()),
                c.index_name.clone().unwrap_or_else(|| "index".into()),
            ],
            _ => Vec::new(),
        };
        let pushed = loop_vars.len();
        self.loop_vars.extend(loop_vars);
        if let Some(action) = &step.action {
            // Branches (`then`/`else`) and parallel children cannot see each other's results: each
            // starts from what was done before this step.
            let isolated = matches!(action, Action::Condition(_) | Action::Parallel(_));
            // Only isolated branches need the snapshot; copying it for every step made checking a
            // long flow quadratic.
            let before = isolated.then(|| (self.done_ids.clone(), self.done_outputs.clone()));
            for (_, children) in action.nested_steps() {
                match &before {
                    Some(before) if matches!(action, Action::Parallel(_)) => {
                        for child in children {
                            (self.done_ids, self.done_outputs) = before.clone();
                            self.check_step(child, depth + 1);
                        }
                    }
                    Some(before) => {
                        (self.done_ids, self.done_outputs) = before.clone();
                        self.walk_steps(children, depth + 1);
                    }
                    None => self.walk_steps(children, depth + 1),
                }
            }
            if let Some(before) = before {
                (self.done_ids, self.done_outputs) = before;
            }
        }
        self.loop_vars.truncate(self.loop_vars.len() - pushed);
        if !step.error_steps.is_empty() {
            // Error steps run after this step failed and see `error` (`message`, `kind`, `step`).
            self.done_ids.insert(step.id.as_str());
            self.loop_vars.push("error".into());
            self.walk_steps(&step.error_steps, depth + 1);
            self.loop_vars.pop();
        }

        self.done_ids.insert(step.id.as_str());
        for name in step.output.keys() {
            self.done_outputs.insert(name.as_str());
        }
        if let Some(action) = &step.action {
            // Children of condition/parallel/for_each/wait_until have run once their parent is done.
            for (_, children) in action.nested_steps() {
                Step::walk(children, &mut |child| {
                    self.done_ids.insert(child.id.as_str());
                    for name in child.output.keys() {
                        self.done_outputs.insert(name.as_str());
                    }
                });
            }
        }
    }

    /// `contract:` hints: state shapes, rule locations and matcher shapes (the matchers themselves
    /// are checked when `contract_generate` builds the pact).
    fn check_contract_hints(&mut self, step: &'a Step) {
        let Some(hints) = &step.contract else {
            return;
        };
        let span = step.value_span("contract");
        if !matches!(step.kind, Some(ActionKind::HttpRequest) | None) {
            self.warn(
                "contract-hints",
                "`contract:` hints are read only on `http_request` steps",
                span,
            );
        }
        for (i, state) in hints.provider_states.iter().enumerate() {
            let ok = match state {
                Value::String(_) => true,
                Value::Object(map) => {
                    map.get("name").is_some_and(Value::is_string)
                        && map
                            .get("params")
                            .is_none_or(|p| p.is_object() || p.is_null())
                }
                _ => false,
            };
            if !ok {
                self.error(
                    "invalid-value",
                    format!(
                        "contract.provider_states[{i}]: expected a state name or {{name, params}}"
                    ),
                    span,
                );
            }
        }
        for (location, rule) in &hints.matching_rules {
            if let Err(message) = contract_rule_location(location) {
                self.error(
                    "invalid-value",
                    format!("contract.matching_rules `{location}`: {message}"),
                    span,
                );
            }
            let shape_ok = |v: &Value| {
                v.is_string()
                    || v.as_object()
                        .is_some_and(|m| m.get("match").is_some_and(Value::is_string))
            };
            let ok = match rule {
                Value::Array(items) => !items.is_empty() && items.iter().all(shape_ok),
                other => shape_ok(other),
            };
            if !ok {
                self.error(
                    "invalid-value",
                    format!(
                        "contract.matching_rules `{location}`: expected a matcher name, a `{{match: …}}` matcher or a list of them"
                    ),
                    span,
                );
            }
        }
    }

    fn check_step_id(&mut self, step: &'a Step) {
        let span = step.value_span("id");
        if let Some(first) = self.seen_ids.get(step.id.as_str()) {
            self.diagnostics.push(
                Diagnostic::warning(
                    "duplicate-step-id",
                    format!(
                        "step id `{}` is already used on line {}; its outputs will be overwritten",
                        step.id, first.line
                    ),
                    span,
                )
                .with_help("give every step its own id"),
            );
        } else {
            self.seen_ids.insert(step.id.as_str(), span);
        }
        if STEP_ID.as_ref().is_some_and(|re| !re.is_match(&step.id)) {
            self.diagnostics.push(
                Diagnostic::warning(
                    "step-id-format",
                    format!("step id `{}` should start with a lower-case letter and use only a-z, 0-9, `_` and `-` (at most 64)", step.id),
                    span,
                )
                .with_help("ids are used in references like `${step_id.body.id}`"),
            );
        }
    }

    fn check_retry(&mut self, step: &Step) {
        let Some(retry) = &step.retry else { return };
        if let Some(n) = retry
            .max_attempts
            .as_ref()
            .and_then(|m| m.literal())
            .copied()
            && !(1..=10).contains(&n)
        {
            let span = step.value_span("retry");
            self.warn(
                "limit",
                format!("`retry.max_attempts` is {n}; use 1 to 10 (it counts the first attempt)"),
                span,
            );
        }
    }

    fn check_outputs(&mut self, step: &Step) {
        for (name, path) in &step.output {
            if let Err(err) = interpolate::check_output_path(&path.value) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "invalid-output-path",
                        format!("output `{name}`: {err}"),
                        path.span,
                    )
                    .with_help(
                        "write `$.body.id`, `$.items[0].id` or a dotted path like `body.id`",
                    ),
                );
            }
        }
    }

    fn check_action(&mut self, step: &Step, action: &Action) {
        let at = |key: &str| {
            step.config
                .entry(key)
                .map_or(step.action_span, |e| e.key_span)
        };
        let config_span = if step.config.span.is_empty() {
            step.action_span
        } else {
            step.config.span
        };
        match action {
            Action::ForEach(c) => {
                let given = [
                    c.items.is_some(),
                    c.range.is_some(),
                    c.items_from_glob.is_some(),
                ];
                match given.iter().filter(|g| **g).count() {
                    0 => self.error(
                        "missing-key",
                        "for_each needs one of `items`, `range` or `items_from_glob`",
                        config_span,
                    ),
                    1 => {}
                    _ => self.error(
                        "conflicting-keys",
                        "for_each takes only one of `items`, `range` and `items_from_glob`",
                        config_span,
                    ),
                }
            }
            Action::Transform(c) => {
                if c.input.is_none() && c.input_file.is_none() {
                    self.error(
                        "missing-key",
                        "transform needs `input` or `input_file`",
                        config_span,
                    );
                }
                if c.transforms.is_empty() && c.operations.is_empty() {
                    self.error(
                        "missing-key",
                        "transform needs `transforms` or `operations`",
                        config_span,
                    );
                }
            }
            Action::Assert(c) if c.assertions.is_empty() => {
                self.error(
                    "missing-key",
                    "the assert action needs at least one assertion",
                    at("assertions"),
                );
            }
            Action::Websocket(c) if c.action.is_none() && c.actions.is_none() => {
                self.error(
                    "missing-key",
                    "websocket needs `action` (connect, send, receive, close) or `actions`",
                    config_span,
                );
            }
            Action::Websocket(c) => {
                if let Some(a) = &c.action
                    && !["connect", "send", "receive", "close"].contains(&a.as_str())
                    && !crate::decode::is_template(a)
                {
                    self.error(
                        "invalid-value",
                        format!(
                            "websocket action `{a}` is not one of connect, send, receive, close"
                        ),
                        at("action"),
                    );
                }
            }
            Action::ContractVerify(c) if c.contract_id.is_none() && c.pact_file.is_none() => {
                self.error(
                    "missing-key",
                    "contract_verify needs `contract_id` or `pact_file`",
                    config_span,
                );
            }
            Action::VerifyContractInteraction(c)
                if c.contract_id.is_none() && c.pact_file.is_none() =>
            {
                self.error(
                    "missing-key",
                    "verify_contract_interaction needs `contract_id` or `pact_file`",
                    config_span,
                );
            }
            Action::WaitFor(c) => match c.kind {
                crate::model::actions::WaitForType::Http if c.url.is_none() => self.error(
                    "missing-key",
                    "wait_for with `type: http` needs `url`",
                    config_span,
                ),
                crate::model::actions::WaitForType::Tcp if c.host.is_none() || c.port.is_none() => {
                    self.error(
                        "missing-key",
                        "wait_for with `type: tcp` needs `host` and `port`",
                        config_span,
                    )
                }
                _ => {}
            },
            Action::DbPoll(c) => {
                if let Some(cond) = &c.condition {
                    use crate::model::actions::PollConditionType as T;
                    let needs_column = matches!(cond.kind, T::ValueEquals | T::ValueNotNull);
                    if needs_column && cond.column.is_none() {
                        self.error(
                            "missing-key",
                            format!("db_poll condition `{}` needs `column`", cond.kind.as_str()),
                            at("condition"),
                        );
                    }
                    if cond.kind == T::ValueEquals && cond.value.is_none() {
                        self.error(
                            "missing-key",
                            "db_poll condition `value_equals` needs `value`",
                            at("condition"),
                        );
                    }
                }
            }
            Action::Log(c) => {
                if let Some(level) = &c.level
                    && !["debug", "info", "warn", "error"].contains(&level.as_str())
                {
                    self.warn(
                        "invalid-value",
                        format!(
                            "log level `{level}` is not debug, info, warn or error; it logs as info"
                        ),
                        at("level"),
                    );
                }
            }
            Action::HttpRequest(c) => {
                const METHODS: &[&str] = &[
                    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
                ];
                if !crate::decode::is_template(&c.method)
                    && !METHODS.contains(&c.method.to_ascii_uppercase().as_str())
                {
                    self.warn(
                        "invalid-value",
                        format!(
                            "`{}` is not a standard HTTP method; it is sent as written",
                            c.method
                        ),
                        at("method"),
                    );
                }
                if c.body.is_some() && (c.form.is_some() || c.multipart.is_some()) {
                    self.error(
                        "conflicting-keys",
                        "use only one of `body`, `form` and `multipart`",
                        at("body"),
                    );
                }
            }
            Action::GrpcStream(c)
                if !["client", "server", "bidirectional"].contains(&c.kind.as_str()) =>
            {
                self.error(
                    "invalid-value",
                    format!(
                        "grpc_stream type `{}` is not client, server or bidirectional",
                        c.kind
                    ),
                    at("type"),
                );
            }
            Action::Browser(c) => {
                for (i, a) in c.actions.iter().enumerate() {
                    if !BROWSER_ACTIONS.contains(&a.kind.as_str()) {
                        let span = step
                            .config
                            .get("actions")
                            .and_then(Node::as_seq)
                            .and_then(|items| items.get(i))
                            .and_then(|n| n.get("type"))
                            .map_or(config_span, |n| n.span);
                        let mut d = Diagnostic::error(
                            "invalid-value",
                            format!("unknown browser action `{}`", a.kind),
                            span,
                        );
                        if let Some(s) = did_you_mean(&a.kind, BROWSER_ACTIONS.iter().copied()) {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        self.diagnostics.push(d);
                    }
                }
            }
            Action::Condition(c) => self.check_condition_names(&c.condition, step),
            Action::WaitUntil(c) => self.check_condition_names(&c.condition, step),
            _ => {}
        }
    }

    /// Names read by a `when`/`condition` expression must be variables, earlier steps or outputs.
    fn check_condition_names(&mut self, condition: &Condition, step: &Step) {
        let in_wait_until = matches!(step.kind, Some(ActionKind::WaitUntil));
        let mut own_children: HashSet<&str> = HashSet::new();
        if let Some(action) = &step.action {
            for (_, children) in action.nested_steps() {
                Step::walk(children, &mut |child| {
                    own_children.insert(child.id.as_str());
                    own_children.extend(child.output.keys().map(String::as_str));
                });
            }
        }
        for reference in condition.expr.references() {
            let root = reference.root.as_str();
            if self.is_known_bare(root) || self.done_ids.contains(root) || is_builtin(root) {
                continue;
            }
            // wait_until runs its own steps before each check, so their ids and outputs are available.
            if in_wait_until && own_children.contains(root) {
                continue;
            }
            let span = condition.span;
            if let Some(line) = self.all_ids.get(root) {
                self.error("reference-order", format!("`{}` reads step `{root}`, which has not run yet at this point (it is on line {line})", reference.path), span);
            } else if !is_env_style(root) {
                self.undefined_warning(root, &reference.path, span);
            }
        }
    }

    fn is_known_bare(&self, name: &str) -> bool {
        self.flow.env.contains_key(name)
            || self.loop_vars.iter().any(|v| v == name)
            || self.done_outputs.contains(name)
    }

    /// Checks every `${…}`/`{{…}}` in the step's config strings.
    fn check_config_references(&mut self, step: &'a Step) {
        let mock_templates = matches!(
            step.kind,
            Some(ActionKind::MockServerStart | ActionKind::MockServerConfigure)
        );
        let mut strings = Vec::new();
        collect_strings(&step.config, &mut Vec::new(), &mut strings);
        for (path, node) in strings {
            // Nested steps are checked as steps in their own right; format templates see their input.
            let keys: Vec<&str> = path.iter().map(String::as_str).collect();
            if step.kind.is_some_and(|kind| is_deferred(kind, &keys)) {
                continue;
            }
            let in_mock_endpoint = mock_templates && path.first().is_some_and(|k| k == "endpoints");
            self.check_string(step, node, in_mock_endpoint);
        }
    }

    fn check_string(&mut self, step: &Step, node: &'a Node, in_mock_endpoint: bool) {
        let Some(text) = node.as_str() else { return };
        if !crate::decode::is_template(text) {
            return;
        }
        let references = match interpolate::references_in(text) {
            Ok(refs) => refs,
            Err(_) if in_mock_endpoint => return,
            Err(err) => {
                self.diagnostics.push(
                    Diagnostic::error("invalid-template", format!("invalid reference: {}", err.message), node.inner_span(self.source, err.offset, 2))
                        .with_help("references look like `${NAME}`, `${step.body.id}` or `{{NAME}}`; write `$${` for a literal `${`"),
                );
                return;
            }
        };
        for reference in references {
            let span = node.inner_span(self.source, reference.offset, reference.len);
            let root = reference.root.as_str();
            if in_mock_endpoint && (MOCK_TEMPLATE_ROOTS.contains(&root) || root.is_empty()) {
                continue;
            }
            if root == "FAKER" {
                self.check_faker(&reference.raw, reference.path.as_deref(), span);
                continue;
            }
            if is_builtin(root) && reference.path.is_none() {
                continue;
            }
            if reference.path.is_some() {
                self.check_step_reference(
                    step,
                    &reference.raw,
                    root,
                    span,
                    reference.default.is_some(),
                );
            } else {
                self.check_bare_reference(&reference.raw, root, span, reference.default.is_some());
            }
        }
    }

    fn check_step_reference(
        &mut self,
        step: &Step,
        raw: &str,
        root: &str,
        span: Span,
        has_default: bool,
    ) {
        if self.done_ids.contains(root) || self.is_known_bare(root) {
            return;
        }
        if root == step.id {
            self.error(
                "reference-order",
                format!(
                    "`{raw}` reads this step's own result, which does not exist until it has run"
                ),
                span,
            );
        } else if let Some(line) = self.all_ids.get(root) {
            self.error("reference-order", format!("`{raw}` reads step `{root}`, which has not run yet at this point (it is on line {line})"), span);
        } else if !has_default {
            let candidates: Vec<&str> = self.done_ids.iter().copied().collect();
            match did_you_mean(root, candidates) {
                Some(suggestion) => self.diagnostics.push(
                    Diagnostic::error(
                        "undefined-reference",
                        format!("`{raw}`: there is no step or variable named `{root}`"),
                        span,
                    )
                    .with_help(format!("did you mean `{suggestion}`?")),
                ),
                None if is_env_style(root) => {}
                None => self.undefined_warning(root, raw, span),
            }
        }
    }

    fn check_bare_reference(&mut self, raw: &str, name: &str, span: Span, has_default: bool) {
        // `${register}` is a step's whole result.
        if self.is_known_bare(name)
            || self.done_ids.contains(name)
            || has_default
            || is_env_style(name)
        {
            return;
        }
        if let Some(line) = self.all_ids.get(name) {
            self.error(
                "reference-order",
                format!("`{raw}` reads step `{name}`, which has not run yet at this point (it is on line {line})"),
                span,
            );
            return;
        }
        if let Some(step_id) = self.all_outputs.get(name) {
            self.error(
                "reference-order",
                format!(
                    "`{raw}` is an output of step `{step_id}`, which has not run yet at this point"
                ),
                span,
            );
            return;
        }
        self.undefined_warning(name, raw, span);
    }

    fn undefined_warning(&mut self, name: &str, raw: &str, span: Span) {
        let mut candidates: Vec<&str> = self.flow.env.keys().map(String::as_str).collect();
        candidates.extend(self.done_outputs.iter().copied());
        candidates.extend(self.done_ids.iter().copied());
        candidates.extend(self.loop_vars.iter().map(String::as_str));
        let mut d = Diagnostic::warning(
            "undefined-variable",
            format!(
                "`{raw}`: `{name}` is not defined in this flow; it must come from --var, --env-file, the environment or a run_flow input"
            ),
            span,
        );
        if let Some(s) = did_you_mean(name, candidates) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.diagnostics.push(d);
    }

    fn check_faker(&mut self, raw: &str, path: Option<&str>, span: Span) {
        let known = path
            .and_then(|p| p.split_once('.'))
            .is_some_and(|(category, function)| faker_is_known(category, function));
        if !known {
            self.diagnostics.push(
                Diagnostic::error("unknown-faker", format!("`{raw}` is not a known faker function"), span)
                    .with_help("write `${FAKER.<category>.<function>}`, e.g. `${FAKER.internet.email}`; see docs/flow-format.md"),
            );
        }
    }

    fn warn(&mut self, code: &'static str, message: impl Into<String>, span: Span) {
        self.diagnostics
            .push(Diagnostic::warning(code, message, span));
    }

    fn error(&mut self, code: &'static str, message: impl Into<String>, span: Span) {
        self.diagnostics
            .push(Diagnostic::error(code, message, span));
    }
}

/// Checks a `contract.matching_rules` location: `$…` (response body), or `request.`/`response.`
/// followed by `body.$…`, `header.NAME`, `query.NAME` (request), `path` (request) or `status`
/// (response).
pub fn contract_rule_location(location: &str) -> Result<(), String> {
    if location.starts_with('$') {
        return Ok(());
    }
    let (part, rest) = location
        .split_once('.')
        .ok_or("expected `$.…` or `request.…`/`response.…`")?;
    if part != "request" && part != "response" {
        return Err("expected `$.…` or `request.…`/`response.…`".into());
    }
    let (category, name) = match rest.split_once('.') {
        Some((c, n)) => (c, Some(n)),
        None => (rest, None),
    };
    match (part, category, name) {
        (_, "body", Some(n)) if n.starts_with('$') => Ok(()),
        (_, "header", Some(n)) if !n.is_empty() => Ok(()),
        ("request", "query", Some(n)) if !n.is_empty() => Ok(()),
        ("request", "path", None) | ("response", "status", None) => Ok(()),
        _ => Err(format!(
            "unknown location; use {part}.body.$.field, {part}.header.Name{}",
            if part == "request" {
                ", request.query.name or request.path"
            } else {
                " or response.status"
            }
        )),
    }
}

/// Browser action types accepted in `actions[].type`.
const BROWSER_ACTIONS: &[&str] = &[
    "navigate",
    "goto",
    "go_back",
    "go_forward",
    "reload",
    "wait_for_selector",
    "wait_for_url",
    "wait_for_navigation",
    "click",
    "fill",
    "type",
    "press",
    "check",
    "uncheck",
    "select",
    "hover",
    "focus",
    "drag",
    "get_text",
    "get_attribute",
    "evaluate",
    "assert_text",
    "assert_visible",
    "assert_hidden",
    "assert_count",
    "assert_url",
    "screenshot",
    "start_video",
    "stop_video",
];

/// Upper-case names are read from the environment by convention; they are not reported when undefined.
fn is_env_style(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn collect_strings<'n>(
    node: &'n Node,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, &'n Node)>,
) {
    match &node.kind {
        NodeKind::Str(_) => out.push((path.clone(), node)),
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                collect_strings(item, path, out);
                path.pop();
            }
        }
        NodeKind::Map(entries) => {
            for entry in entries {
                path.push(entry.key.clone());
                collect_strings(&entry.value, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// What the cross-file check needs to know of one flow: its name and the flows it calls.
#[derive(Debug, Clone, Default)]
pub struct FlowLinks {
    /// The flow's name.
    pub name: String,
    /// `run_flow` targets written as literals, with the span of the `flow:` value.
    pub calls: Vec<(String, Span)>,
}

impl FlowLinks {
    /// Collects the links of a flow.
    pub fn of(flow: &Flow) -> FlowLinks {
        let mut calls = Vec::new();
        for (_, steps) in flow.phases() {
            Step::walk(steps, &mut |step| {
                if let Some(Action::RunFlow(config)) = &step.action
                    && !crate::decode::is_template(&config.flow)
                {
                    let span = step.config.get("flow").map_or(step.span, |n| n.span);
                    calls.push((config.flow.clone(), span));
                }
            });
        }
        FlowLinks {
            name: flow.name.clone(),
            calls,
        }
    }
}

/// Finds `run_flow` cycles among a set of files. Targets are matched by path (relative to the calling
/// file) or by flow name. Returns each finding with the index of the file it belongs to.
pub fn check_run_flow_cycles(files: &[(&Path, &FlowLinks)]) -> Vec<(usize, Diagnostic)> {
    let by_path: HashMap<PathBuf, usize> = files
        .iter()
        .enumerate()
        .map(|(i, (path, _))| (normalize_path(path), i))
        .collect();
    let by_name: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .filter(|(_, (_, links))| !links.name.is_empty())
        .map(|(i, (_, links))| (links.name.as_str(), i))
        .collect();
    // Edges: (to file, span of the `flow:` value in the caller).
    let edges: Vec<Vec<(usize, Span)>> = files
        .iter()
        .map(|(path, links)| {
            let base = path.parent().unwrap_or(Path::new(""));
            links
                .calls
                .iter()
                .filter_map(|(target, span)| {
                    by_path
                        .get(&normalize_path(&base.join(target)))
                        .or_else(|| by_name.get(target.as_str()))
                        .map(|&to| (to, *span))
                })
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    for start in 0..files.len() {
        for &(next, span) in &edges[start] {
            if let Some(mut chain) = path_between(&edges, next, start) {
                chain.insert(0, start);
                let names: Vec<String> = chain
                    .iter()
                    .map(|&i| files[i].0.display().to_string())
                    .collect();
                out.push((
                    start,
                    Diagnostic::error(
                        "run-flow-cycle",
                        format!("run_flow cycle: {}", names.join(" → ")),
                        span,
                    )
                    .with_help("a flow must not call itself, directly or through other flows"),
                ));
            }
        }
    }
    out
}

/// A path of file indexes from `from` to `to` (inclusive), breadth-first.
fn path_between(edges: &[Vec<(usize, Span)>], from: usize, to: usize) -> Option<Vec<usize>> {
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    let mut seen = HashSet::from([from]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            let mut chain = vec![to];
            let mut cur = to;
            while let Some(&p) = previous.get(&cur) {
                chain.push(p);
                cur = p;
            }
            chain.reverse();
            return Some(chain);
        }
        for &(next, _) in edges.get(node).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// A path with `.` and `..` resolved lexically (no file system access), for comparing flow paths.
pub fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}
