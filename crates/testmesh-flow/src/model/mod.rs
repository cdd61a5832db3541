//! The flow model: a flow, its phases of steps, and the typed config of every action.

pub mod actions;
pub mod step;

use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;

use crate::config_struct;
use crate::decode::{Decoder, FromNode, Tpl};
use crate::diagnostic::Diagnostic;
use crate::model::step::{Retry, Spanned, Step};
use crate::yaml::{Node, NodeKind, Span};

config_struct! {
    /// A TestMesh flow.
    "the flow"
    pub struct FlowFields {
        /// The flow's name (unique within a workspace).
        name = "name": optional Spanned<String>,
        /// What the flow checks.
        description = "description": optional String,
        /// Suite used for grouping and filtering runs.
        suite = "suite": optional String,
        /// Tags used for filtering (`--tag smoke`).
        tags = "tags": default Vec<Spanned<String>>,
        /// Collection (folder) the flow belongs to.
        collection = "collection": optional String,
        /// Version of the flow definition.
        version = "version": optional String,
        /// Author.
        author = "author": optional String,
        /// Variables of this flow, e.g. `BASE_URL: http://localhost:8080`.
        env = "env": default IndexMap<String, Value>,
        /// Flow-wide settings.
        config = "config": optional FlowConfig,
        /// Steps run first; a failure stops the flow.
        setup = "setup": default Vec<Step>,
        /// The main steps.
        steps = "steps": default Vec<Step>,
        /// Steps run last, always.
        teardown = "teardown": default Vec<Step>,
        /// Steps run after a failed main phase, before teardown.
        on_error = "on_error": default Vec<Step>,
        /// Contract generation settings.
        contract = "contract": optional Value,
        /// Contract verification settings.
        contract_verification = "contract_verification": optional Value,
    }
}

config_struct! {
    /// Flow-wide settings.
    "flow config"
    pub struct FlowConfig {
        /// Time limit for the whole flow, e.g. `5m`.
        timeout = "timeout": optional Tpl<Duration>,
        /// Stop at the first failure (default true; `false` runs every main step).
        fail_fast = "fail_fast": optional Tpl<bool>,
        /// Default retry policy for steps without their own.
        retry = "retry": optional Retry,
    }
}

/// Which document shape a file used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `name:` / `steps:` at the root.
    Bare,
    /// Everything under `flow:`.
    Wrapped,
}

/// A loaded flow.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Name (may be empty: the original accepted that; `validate` warns).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Suite.
    pub suite: Option<String>,
    /// Tags.
    pub tags: Vec<Spanned<String>>,
    /// Collection.
    pub collection: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// Flow variables.
    pub env: IndexMap<String, Value>,
    /// Flow settings.
    pub config: Option<FlowConfig>,
    /// Setup phase.
    pub setup: Vec<Step>,
    /// Main phase.
    pub steps: Vec<Step>,
    /// Teardown phase.
    pub teardown: Vec<Step>,
    /// Steps run after a failed main phase.
    pub on_error: Vec<Step>,
    /// Contract settings (read by the contract issue).
    pub contract: Option<Value>,
    /// Contract verification settings.
    pub contract_verification: Option<Value>,
    /// The document shape.
    pub shape: Shape,
    /// The flow mapping with positions (the inner mapping for wrapped files).
    pub node: Node,
    /// Where the `name:` value is, when given.
    pub name_span: Option<Span>,
}

/// The phases of a flow, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `setup:`
    Setup,
    /// `steps:`
    Main,
    /// `on_error:`
    OnError,
    /// `teardown:`
    Teardown,
}

impl Phase {
    /// The key in YAML.
    pub fn key(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Main => "steps",
            Phase::OnError => "on_error",
            Phase::Teardown => "teardown",
        }
    }

    /// The phase's name in records, events and the store: `setup`, `main`, `on_error`, `teardown`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Main => "main",
            Phase::OnError => "on_error",
            Phase::Teardown => "teardown",
        }
    }

    /// The prefix of generated step ids (`main_3`), as in the original: the phase's name.
    pub fn id_prefix(self) -> &'static str {
        self.name()
    }
}

impl Flow {
    /// Decodes a flow from its document root, accepting both shapes: `flow:`-wrapped wins when the inner
    /// mapping has a non-empty `name` or `steps` (the original API's rule), otherwise the root is the flow.
    pub fn from_document(root: Node, cx: &mut Decoder) -> Option<Flow> {
        let shape = match root.get("flow") {
            Some(inner) if wrapped_has_content(inner) => Shape::Wrapped,
            _ => Shape::Bare,
        };
        if shape == Shape::Wrapped
            && let Some(entries) = root.as_map()
        {
            for entry in entries.iter().filter(|e| e.key != "flow") {
                cx.report(Diagnostic::warning(
                    "unknown-key",
                    format!("`{}` is outside `flow:` and is ignored", entry.key),
                    entry.key_span,
                ));
            }
        }
        // The flow keeps its tree; take it out of the document rather than copying it.
        let node = match (shape, root) {
            (
                Shape::Wrapped,
                Node {
                    kind: NodeKind::Map(entries),
                    ..
                },
            ) => entries
                .into_iter()
                .find(|e| e.key == "flow")
                .map(|e| e.value)?,
            (_, root) => root,
        };
        let fields = FlowFields::from_node(&node, cx)?;
        let mut flow = Flow {
            name: fields
                .name
                .as_ref()
                .map(|n| n.value.clone())
                .unwrap_or_default(),
            name_span: fields.name.map(|n| n.span),
            description: fields.description,
            suite: fields.suite,
            tags: fields.tags,
            collection: fields.collection,
            version: fields.version,
            author: fields.author,
            env: fields.env,
            config: fields.config,
            setup: fields.setup,
            steps: fields.steps,
            teardown: fields.teardown,
            on_error: fields.on_error,
            contract: fields.contract,
            contract_verification: fields.contract_verification,
            shape,
            node,
        };
        for phase in [Phase::Setup, Phase::Main, Phase::OnError, Phase::Teardown] {
            Step::assign_ids(flow.phase_mut(phase), phase.id_prefix());
        }
        Some(flow)
    }

    /// The steps of one phase.
    pub fn phase(&self, phase: Phase) -> &[Step] {
        match phase {
            Phase::Setup => &self.setup,
            Phase::Main => &self.steps,
            Phase::OnError => &self.on_error,
            Phase::Teardown => &self.teardown,
        }
    }

    fn phase_mut(&mut self, phase: Phase) -> &mut Vec<Step> {
        match phase {
            Phase::Setup => &mut self.setup,
            Phase::Main => &mut self.steps,
            Phase::OnError => &mut self.on_error,
            Phase::Teardown => &mut self.teardown,
        }
    }

    /// Every phase with its steps, in run order.
    pub fn phases(&self) -> impl Iterator<Item = (Phase, &[Step])> {
        [Phase::Setup, Phase::Main, Phase::OnError, Phase::Teardown]
            .into_iter()
            .map(|p| (p, self.phase(p)))
    }

    /// The definition as JSON (what the API stores and returns as `definition`); `null` after
    /// [`Flow::drop_tree`].
    pub fn definition(&self) -> Value {
        self.node.to_json()
    }

    /// Drops the parsed tree ([`Flow::node`]) that validation and [`Flow::definition`] read, keeping
    /// its span: a flow that is only run needs its steps, not the tree, which is about a quarter of
    /// a loaded flow's memory (every key, scalar and position of the file).
    pub fn drop_tree(&mut self) {
        self.node = Node {
            kind: NodeKind::Null,
            span: self.node.span,
            style: None,
        };
    }
}

fn wrapped_has_content(inner: &Node) -> bool {
    let name = inner
        .get("name")
        .and_then(Node::as_str)
        .is_some_and(|s| !s.is_empty());
    let steps = inner
        .get("steps")
        .is_some_and(|s| matches!(&s.kind, NodeKind::Seq(items) if !items.is_empty()));
    name || steps
}
