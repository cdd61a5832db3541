//! Runtime data for interpolation: variable layers, recorded step outputs,
//! output aliases, and system info for built-ins.

use indexmap::IndexMap;
use serde_json::Value;

use super::builtins::{BUILTINS, LeafContext};
use super::template::Reference;
use super::{faker, path};

/// Identity of the running flow, exposed as `FLOW_ID`, `FLOW_NAME`, `EXECUTION_ID`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemInfo {
    /// The flow's id.
    pub flow_id: String,
    /// The flow's display name.
    pub flow_name: String,
    /// The id of this execution.
    pub execution_id: String,
}

/// Where a run's variables come from; see [`Scope::for_run`] for their precedence.
#[derive(Debug, Clone, Default)]
pub struct VariableSources {
    /// The process environment.
    pub process_env: IndexMap<String, Value>,
    /// Variables read from `--env-file` (dotenv).
    pub env_file: IndexMap<String, Value>,
    /// The flow's `env:` mapping.
    pub flow_env: IndexMap<String, Value>,
    /// `--var k=v` values.
    pub cli_vars: IndexMap<String, Value>,
}

/// Variables, step outputs and system info that references resolve against.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    system: SystemInfo,
    layers: Vec<IndexMap<String, Value>>,
    outputs: IndexMap<String, Value>,
    aliases: IndexMap<String, Value>,
}

/// The outcome of looking a reference up (before defaults are applied).
pub(crate) enum Lookup {
    /// The reference resolved to a value.
    Found(Value),
    /// No step, variable or built-in has this root.
    NoRoot,
    /// The root exists (`kind` is "step" or "variable") but the path does not.
    NoPath(&'static str),
    /// A `FAKER.…` reference is invalid.
    Faker(String),
}

impl Scope {
    /// Creates an empty scope with the given system info.
    pub fn new(system: SystemInfo) -> Self {
        Scope {
            system,
            ..Scope::default()
        }
    }

    /// A scope for one flow run with the variable sources in their precedence order, lowest first:
    /// the process environment, the `--env-file`, the flow's `env:`, then `--var` values. Loop variables
    /// are pushed above these while a loop runs. This is the only place the order is decided.
    pub fn for_run(system: SystemInfo, sources: VariableSources) -> Self {
        let mut scope = Scope::new(system);
        for layer in [
            sources.process_env,
            sources.env_file,
            sources.flow_env,
            sources.cli_vars,
        ] {
            scope.push_layer(layer);
        }
        scope
    }

    /// Every variable visible now, merged across layers (higher layers win); output aliases excluded.
    pub fn visible_variables(&self) -> IndexMap<String, Value> {
        let mut out = IndexMap::new();
        for layer in &self.layers {
            for (name, value) in layer {
                out.insert(name.clone(), value.clone());
            }
        }
        out
    }

    /// The system info given at creation.
    pub fn system(&self) -> &SystemInfo {
        &self.system
    }

    /// Pushes a variable layer; later layers take precedence.
    pub fn push_layer(&mut self, vars: IndexMap<String, Value>) {
        self.layers.push(vars);
    }

    /// Removes the top variable layer (no-op when there is none).
    pub fn pop_layer(&mut self) {
        self.layers.pop();
    }

    /// Sets a variable in the top layer, creating a layer if there is none.
    pub fn set_var(&mut self, name: impl Into<String>, value: Value) {
        if self.layers.is_empty() {
            self.layers.push(IndexMap::new());
        }
        if let Some(top) = self.layers.last_mut() {
            top.insert(name.into(), value);
        }
    }

    /// Records a step: `outputs[step_id]` gets every top-level key of `result`
    /// (when it is an object) overridden by the named `outputs`, and each named
    /// output also becomes a bare alias variable (lowest precedence).
    pub fn record_step(&mut self, step_id: &str, result: Value, outputs: &IndexMap<String, Value>) {
        let mut ns = match result {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        for (k, v) in outputs {
            ns.insert(k.clone(), v.clone());
            self.aliases.insert(k.clone(), v.clone());
        }
        self.outputs.insert(step_id.to_owned(), Value::Object(ns));
    }

    /// All recorded step output namespaces, by step id.
    pub fn outputs(&self) -> &IndexMap<String, Value> {
        &self.outputs
    }

    /// Looks a bare variable up: layers top-down, then output aliases.
    pub fn lookup_var(&self, name: &str) -> Option<&Value> {
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.get(name))
            .or_else(|| self.aliases.get(name))
    }

    /// Resolves `r` (ignoring its default).
    pub(crate) fn lookup(&self, r: &Reference, leaf: &LeafContext) -> Lookup {
        let root = r.root.as_str();
        if root == "FAKER" {
            return match faker::generate(r.path.as_deref().unwrap_or_default()) {
                Ok(v) => Lookup::Found(v),
                Err(e) => Lookup::Faker(e),
            };
        }
        let Some(p) = r.path.as_deref() else {
            return leaf
                .builtin(root, &self.system)
                .or_else(|| self.lookup_var(root).cloned())
                .or_else(|| self.outputs.get(root).cloned())
                .map_or(Lookup::NoRoot, Lookup::Found);
        };
        let (base, kind) = match (self.outputs.get(root), self.lookup_var(root)) {
            (Some(v), _) => (v, "step"),
            (None, Some(v)) => (v, "variable"),
            (None, None) => return Lookup::NoRoot,
        };
        match path::select(base, p) {
            Ok(Some(v)) => Lookup::Found(v.clone()),
            _ => Lookup::NoPath(kind),
        }
    }

    /// The nearest known step id, variable or built-in to `name`.
    pub(crate) fn suggest(&self, name: &str) -> Option<String> {
        let candidates = self
            .outputs
            .keys()
            .chain(self.layers.iter().rev().flat_map(|l| l.keys()))
            .chain(self.aliases.keys())
            .map(String::as_str)
            .chain(BUILTINS.iter().copied());
        crate::diagnostic::did_you_mean(name, candidates).map(str::to_owned)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer(pairs: &[(&str, Value)]) -> IndexMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn run_sources_have_one_precedence_order() {
        let sources = VariableSources {
            process_env: layer(&[
                ("A", json!("env")),
                ("B", json!("env")),
                ("C", json!("env")),
                ("D", json!("env")),
            ]),
            env_file: layer(&[
                ("B", json!("file")),
                ("C", json!("file")),
                ("D", json!("file")),
            ]),
            flow_env: layer(&[("C", json!("flow")), ("D", json!("flow"))]),
            cli_vars: layer(&[("D", json!("cli"))]),
        };
        let mut s = Scope::for_run(SystemInfo::default(), sources);
        let value = |s: &Scope, k: &str| s.lookup_var(k).cloned();
        assert_eq!(value(&s, "A"), Some(json!("env")));
        assert_eq!(value(&s, "B"), Some(json!("file")));
        assert_eq!(value(&s, "C"), Some(json!("flow")));
        assert_eq!(value(&s, "D"), Some(json!("cli")));
        // A loop variable shadows everything while the loop runs.
        s.push_layer(layer(&[("D", json!("loop"))]));
        assert_eq!(value(&s, "D"), Some(json!("loop")));
        s.pop_layer();
        assert_eq!(value(&s, "D"), Some(json!("cli")));
    }

    #[test]
    fn layers_precedence_and_pop() {
        let mut s = Scope::new(SystemInfo::default());
        s.set_var("a", json!(0));
        s.push_layer(layer(&[("a", json!(1)), ("b", json!(1))]));
        s.push_layer(layer(&[("a", json!(2))]));
        assert_eq!(s.lookup_var("a"), Some(&json!(2)));
        assert_eq!(s.lookup_var("b"), Some(&json!(1)));
        s.set_var("c", json!(3));
        s.pop_layer();
        assert_eq!(s.lookup_var("a"), Some(&json!(1)));
        assert_eq!(s.lookup_var("c"), None);
        s.pop_layer();
        s.pop_layer();
        s.pop_layer();
        assert_eq!(s.lookup_var("a"), None);
    }

    #[test]
    fn record_step_and_aliases() {
        let mut s = Scope::new(SystemInfo::default());
        let outs = layer(&[("base_url", json!("http://x")), ("status", json!("named"))]);
        s.record_step("setup", json!({"status": 200, "body": {"a": 1}}), &outs);
        let ns = &s.outputs()["setup"];
        assert_eq!(ns["status"], json!("named"));
        assert_eq!(ns["body"]["a"], json!(1));
        assert_eq!(s.lookup_var("base_url"), Some(&json!("http://x")));
        s.push_layer(layer(&[("base_url", json!("var wins"))]));
        assert_eq!(s.lookup_var("base_url"), Some(&json!("var wins")));
    }

    #[test]
    fn suggestions() {
        let mut s = Scope::new(SystemInfo::default());
        s.record_step("register", json!({}), &IndexMap::new());
        s.set_var("username", json!("x"));
        assert_eq!(s.suggest("regster").as_deref(), Some("register"));
        assert_eq!(s.suggest("usrname").as_deref(), Some("username"));
        assert_eq!(s.suggest("TIMESTMP").as_deref(), Some("TIMESTAMP"));
        assert_eq!(s.suggest("completely_else"), None);
    }
}
