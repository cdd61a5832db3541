//! A step: one action with its assertions, outputs, retries, timeout and error handling.

use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::decode::{Decoder, FromNode, Tpl};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::Expr;
use crate::model::actions::{Action, ActionKind};
use crate::yaml::{Node, NodeKind, Span};
use crate::{config_struct, string_enum};

/// One step of a flow.
#[derive(Debug, Clone)]
pub struct Step {
    /// The step id: as written, or `<phase>_<index>` (e.g. `main_3`) when omitted, as the original did.
    pub id: String,
    /// Whether `id` was written in the file.
    pub id_given: bool,
    /// Display name.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// The action as written (`http` stays `http`); see [`Step::kind`] for the canonical one.
    pub action_name: String,
    /// The canonical action, `None` when the name is unknown (reported).
    pub kind: Option<ActionKind>,
    /// The typed config, `None` when unknown or invalid (reported).
    pub action: Option<Action>,
    /// The config as written, with positions (null when absent).
    pub config: Node,
    /// Assertions that must all hold.
    pub assert: Vec<Assertion>,
    /// Assertions of which at least one must hold.
    pub assert_any: Vec<Assertion>,
    /// Assertions of which none may hold.
    pub assert_none: Vec<Assertion>,
    /// `name: path` outputs stored after a successful step.
    pub output: IndexMap<String, OutputPath>,
    /// Retry policy.
    pub retry: Option<Retry>,
    /// Per-attempt time limit.
    pub timeout: Option<Tpl<Duration>>,
    /// What a timeout means for the flow.
    pub on_timeout: Option<OnFailure>,
    /// Run only when this expression holds; otherwise the step is recorded as skipped.
    pub when: Option<Condition>,
    /// Skip the step (recorded as skipped).
    pub disabled: bool,
    /// What a failure means for the flow.
    pub on_error: OnFailure,
    /// Steps run only when this step fails.
    pub error_steps: Vec<Step>,
    /// Step tags, for filtering.
    pub tags: Vec<String>,
    /// How `contract_generate` describes the exchange this step makes.
    pub contract: Option<ContractHints>,
    /// The whole step mapping.
    pub span: Span,
    /// The `action:` value.
    pub action_span: Span,
    /// Each key of the step mapping with the span of its value.
    pub value_spans: Vec<(String, Span)>,
}

config_struct! {
    /// The keys every step accepts.
    "a step"
    pub struct StepFields {
        /// Step id: the namespace of its outputs (`${id.body.x}`). Lower-case letters, digits, `_` and `-`.
        id = "id": optional Spanned<String>,
        /// Display name.
        name = "name": optional String,
        /// Free text.
        description = "description": optional String,
        /// The action to run, e.g. `http_request`, `database_query`, `assert`, `log`.
        action = "action": required Spanned<String>,
        /// The action's settings.
        config = "config": optional Node,
        /// Expressions that must all be true after the action, e.g. `status == 200`.
        assert = "assert": default Vec<Assertion>,
        /// Expressions of which at least one must be true.
        assert_any = "assert_any": default Vec<Assertion>,
        /// Expressions that must all be false.
        assert_none = "assert_none": default Vec<Assertion>,
        /// Values to keep from the result: `name: path` (`$.body.id`, `body.items[0].id`, `first_row.total`).
        output = "output": default IndexMap<String, OutputPath>,
        /// Retry the step when it fails.
        retry = "retry": optional Retry,
        /// Time limit per attempt, e.g. `10s`.
        timeout = "timeout": optional Tpl<Duration>,
        /// What a timeout does: `fail` (default) or `continue`.
        on_timeout = "on_timeout": optional OnFailure,
        /// Run the step only when this expression is true; otherwise it is skipped.
        when = "when": optional Condition,
        /// Skip this step.
        disabled = "disabled": default bool,
        /// What a failure does: `fail` (default) stops the flow, `continue` records it and goes on.
        on_error = "on_error": default OnFailure,
        /// Steps to run when this step fails.
        error_steps = "error_steps": default Vec<Step>,
        /// Tags for filtering.
        tags = "tags": default Vec<String>,
        /// Contract hints for `contract_generate`: `description`, `provider_state(s)`, `matching_rules`.
        contract = "contract": optional ContractHints,
    }
}

config_struct! {
    /// How `contract_generate` describes the exchange a step makes (`contract:` on a step).
    "contract hints"
    pub struct ContractHints {
        /// The interaction's description (default: the step's name, else `METHOD /path`).
        description = "description": optional String,
        /// The provider state the interaction needs.
        provider_state = "provider_state": optional String,
        /// Several provider states: names, or `{name, params}` mappings.
        provider_states = "provider_states": default Vec<Value>,
        /// Matching rules that replace the inferred ones, by location: `$.id` (response body),
        /// `response.body.$.id`, `request.body.$.name`, `response.header.X-Id`, `request.query.page`,
        /// `request.path`, `response.status`; each a matcher name (`type`, `uuid`, `integer`, …), a
        /// Pact matcher (`{match: regex, regex: "^[a-z]+$"}`) or a list of them, or `none` to keep
        /// the recorded value exact.
        matching_rules = "matching_rules": default IndexMap<String, Value>,
    }
}

impl FromNode for Step {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        if !cx.enter_step(node.span) {
            return None;
        }
        let step = decode_step(node, cx);
        cx.leave_step();
        step
    }

    fn schema() -> Value {
        json!({"$ref": "#/definitions/step"})
    }
}

fn decode_step(node: &Node, cx: &mut Decoder) -> Option<Step> {
    let fields = StepFields::from_node(node, cx)?;
    let config = fields
        .config
        .unwrap_or_else(|| Node::synthetic(NodeKind::Null));
    let action_name = fields.action.value;
    let kind = ActionKind::from_name(&action_name);
    let action = match kind {
        Some(kind) => Action::decode(kind, &config, fields.action.span, cx),
        None => {
            let mut d = Diagnostic::error(
                "unknown-action",
                format!("unknown action `{action_name}`"),
                fields.action.span,
            );
            d = match did_you_mean(&action_name, ActionKind::all_names()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => {
                    d.with_help("run `testmesh schema` or see docs/flow-format.md for the list")
                }
            };
            cx.report(d);
            None
        }
    };
    let (id, id_given) = match fields.id {
        Some(id) => (id.value, true),
        None => (String::new(), false),
    };
    Some(Step {
        id,
        id_given,
        name: fields.name,
        description: fields.description,
        action_name,
        kind,
        action,
        config,
        assert: fields.assert,
        assert_any: fields.assert_any,
        assert_none: fields.assert_none,
        output: fields.output,
        retry: fields.retry,
        timeout: fields.timeout,
        on_timeout: fields.on_timeout,
        when: fields.when,
        disabled: fields.disabled,
        on_error: fields.on_error,
        error_steps: fields.error_steps,
        tags: fields.tags,
        contract: fields.contract,
        span: node.span,
        action_span: fields.action.span,
        value_spans: node
            .as_map()
            .unwrap_or_default()
            .iter()
            .map(|e| (e.key.clone(), e.value.span))
            .collect(),
    })
}

impl Step {
    /// Nested step lists (`then`, `else`, `steps`, `error_steps`) with the key that holds them.
    pub fn children(&self) -> Vec<(&'static str, &[Step])> {
        let mut out = self
            .action
            .as_ref()
            .map(Action::nested_steps)
            .unwrap_or_default();
        if !self.error_steps.is_empty() {
            out.push(("error_steps", &self.error_steps));
        }
        out
    }

    /// Calls `f` for every step of `steps` and, depth first, every step nested in them.
    pub fn walk<'a>(steps: &'a [Step], f: &mut impl FnMut(&'a Step)) {
        for step in steps {
            f(step);
            for (_, children) in step.children() {
                Step::walk(children, f);
            }
        }
    }

    /// The span of the value of one of the step's keys (the whole step when absent).
    pub fn value_span(&self, key: &str) -> Span {
        self.value_spans
            .iter()
            .find(|(k, _)| k == key)
            .map_or(self.span, |(_, span)| *span)
    }

    /// Gives every step without an id one: `<prefix>_<index>`, recursing into nested steps.
    pub(crate) fn assign_ids(steps: &mut [Step], prefix: &str) {
        for (index, step) in steps.iter_mut().enumerate() {
            if !step.id_given {
                step.id = format!("{prefix}_{index}");
            }
            let parent = step.id.clone();
            if let Some(action) = step.action.as_mut() {
                for (key, children) in action.nested_steps_mut() {
                    Step::assign_ids(children, &format!("{parent}_{key}"));
                }
            }
            Step::assign_ids(&mut step.error_steps, &format!("{parent}_error_steps"));
        }
    }
}

/// A string with the position it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it is.
    pub span: Span,
}

impl<T: FromNode> FromNode for Spanned<T> {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        T::from_node(node, cx).map(|value| Spanned {
            value,
            span: node.span,
        })
    }
    fn schema() -> Value {
        T::schema()
    }
}

/// An output path (`$.body.id`, `body.items[0].id`, `first_row.total`).
pub type OutputPath = Spanned<String>;

/// An expression used as a condition (`when`, `condition`, `wait_until`, `retry_on`), parsed at load time.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The parsed expression.
    pub expr: Expr,
    /// Where it was written.
    pub span: Span,
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.expr.source() == other.expr.source()
    }
}

impl FromNode for Condition {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        let source = match &node.kind {
            NodeKind::Str(s) => s.clone(),
            NodeKind::Bool(b) => b.to_string(),
            _ => {
                cx.type_error(node, "an expression");
                return None;
            }
        };
        let expr = parse_expression(&source, node, cx)?;
        Some(Condition {
            expr,
            span: node.span,
        })
    }
    fn schema() -> Value {
        json!({"type": ["string", "boolean"], "description": "An expression, e.g. `status == 200 && body.ok`"})
    }
}

/// Parses an expression written in `node`, reporting syntax errors at the exact column when the YAML
/// text maps one-to-one onto the expression (plain or simply quoted scalars).
pub(crate) fn parse_expression(source: &str, node: &Node, cx: &mut Decoder) -> Option<Expr> {
    match cx.parse_expr(source) {
        Ok(expr) => Some(expr),
        Err(err) => {
            let offset: usize = source.chars().take(err.offset).map(char::len_utf8).sum();
            let len: usize = source
                .chars()
                .skip(err.offset)
                .take(err.len.max(1))
                .map(char::len_utf8)
                .sum();
            let span = node.inner_span(cx.source(), offset, len);
            cx.report(
                Diagnostic::error(
                    "invalid-expression",
                    format!("invalid expression: {err}"),
                    span,
                )
                .with_label(err.message.clone())
                .with_help("see docs/expressions.md for the expression language"),
            );
            None
        }
    }
}

/// One assertion: an expression and an optional message used when it fails.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// The parsed expression.
    pub expr: Expr,
    /// Message shown instead of the generated one.
    pub message: Option<String>,
    /// Where it was written.
    pub span: Span,
}

impl FromNode for Assertion {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Str(source) => Some(Assertion {
                expr: parse_expression(source, node, cx)?,
                message: None,
                span: node.span,
            }),
            NodeKind::Bool(b) => Some(Assertion {
                expr: parse_expression(&b.to_string(), node, cx)?,
                message: None,
                span: node.span,
            }),
            NodeKind::Map(entries) => {
                // `- body matches_schema: {type: object}`: YAML reads this as a one-key mapping.
                if let [entry] = entries.as_slice()
                    && let Some(target) = entry.key.trim_end().strip_suffix("matches_schema")
                {
                    let source =
                        format!("{} matches_schema {}", target.trim(), entry.value.to_json());
                    return Some(Assertion {
                        expr: parse_expression(
                            &source,
                            &Node {
                                span: entry.key_span,
                                ..Node::synthetic(NodeKind::Null)
                            },
                            cx,
                        )?,
                        message: None,
                        span: entry.key_span,
                    });
                }
                let item = AssertionItem::from_node(node, cx)?;
                Some(Assertion {
                    expr: parse_expression(&item.expression.value, &item.expression_node, cx)?,
                    message: item.message,
                    span: node.span,
                })
            }
            _ => {
                cx.type_error(node, "an expression or {expression, message}");
                None
            }
        }
    }
    fn schema() -> Value {
        json!({
            "anyOf": [
                {"type": "string", "description": "An expression that must be true, e.g. `status == 200`"},
                AssertionFields::schema(),
                {"type": "object", "description": "`<path> matches_schema: <JSON Schema>`",
                 "minProperties": 1, "maxProperties": 1, "patternProperties": {"matches_schema$": {"type": "object"}}}
            ]
        })
    }
}

config_struct! {
    /// An assertion with its own failure message.
    "an assertion"
    pub struct AssertionFields {
        /// The expression that must be true.
        expression = "expression": required Node,
        /// The message shown when it is false.
        message = "message": optional String,
    }
}

struct AssertionItem {
    expression: Spanned<String>,
    expression_node: Node,
    message: Option<String>,
}

impl AssertionItem {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        let fields = AssertionFields::from_node(node, cx)?;
        let expression = Spanned::<String>::from_node(&fields.expression, cx)?;
        Some(AssertionItem {
            expression,
            expression_node: fields.expression,
            message: fields.message,
        })
    }
}

string_enum! {
    /// What a failure (or timeout) of a step does to the flow.
    pub enum OnFailure {
        /// Stop the flow (after teardown).
        Fail = "fail",
        /// Record the failure and go on.
        Continue = "continue",
    }
}

string_enum! {
    /// How the delay between retries grows.
    pub enum Backoff {
        /// The same delay every time.
        Constant = "constant",
        /// delay × attempt.
        Linear = "linear",
        /// delay × 2^(attempt-1).
        Exponential = "exponential",
    }
}

config_struct! {
    /// Retry policy of a step, or the default of a flow (`config.retry`).
    "retry"
    pub struct Retry {
        /// Turn retrying on or off (default on). `enabled: false` on a step opts out of the flow's default.
        enabled = "enabled": optional Tpl<bool>,
        /// Attempts in total, including the first (1–10 recommended).
        max_attempts = "max_attempts": optional Tpl<u32>,
        /// Delay before the second attempt, e.g. `1s`.
        delay = "delay": optional Tpl<Duration>,
        /// `constant` (default), `linear` or `exponential`.
        backoff = "backoff": optional Backoff,
        /// Upper bound of the delay.
        max_delay = "max_delay": optional Tpl<Duration>,
        /// Retry only when one of these holds: expressions over the failed result, or `timeout` / `connection_error`.
        retry_on = "retry_on": default OneOrMany<Condition>,
        /// Do not retry when one of these holds.
        retry_on_not = "retry_on_not": default OneOrMany<Condition>,
    }
}

/// A value written either once or as a list.
#[derive(Debug, Clone, PartialEq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<T: FromNode> FromNode for OneOrMany<T> {
    fn from_node(node: &Node, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Seq(_) => Vec::<T>::from_node(node, cx).map(OneOrMany),
            _ => T::from_node(node, cx).map(|v| OneOrMany(vec![v])),
        }
    }
    fn schema() -> Value {
        json!({"anyOf": [T::schema(), {"type": "array", "items": T::schema()}]})
    }
}
