//! Flows generated from an OpenAPI document: a request per operation with values valid against its
//! schemas, assertions on the status, content type and response schema, authentication from the
//! security schemes, and optionally negative checks (requests the API must refuse) and CRUD chains.
//!
//! Rules:
//! - **Grouping.** [`GroupBy::Operation`]: one flow per operation, named after its `summary`, else
//!   its `operationId`, else `METHOD path`. [`GroupBy::Tag`]: one flow per tag (an operation's first
//!   tag) with a step per operation; untagged operations go to a flow named after the API title.
//! - **Requests.** `url: ${BASE_URL}<path>`, `BASE_URL` declared in the flow's `env` from
//!   `servers[0]` (variables at their defaults; a relative or missing server gives
//!   `http://localhost:8080` plus its path). Path parameters are filled in, required query, header
//!   and cookie parameters always sent, optional ones only when they have an example. Bodies are
//!   the media type's example, else its first named example, else a value built from the schema,
//!   whichever first validates against the schema.
//! - **Assertions.** The status of the first documented 2xx response (else the first explicit code;
//!   `status < 400` when only `default` is documented); its content type; and for JSON, that the
//!   body matches the response schema (as one self-contained JSON Schema). No body assertions for
//!   204 responses and `HEAD`.
//! - **Authentication.** The first security requirement of the operation (else of the document):
//!   HTTP basic and bearer become `auth`, API keys a header, query parameter or cookie, OAuth 2 and
//!   OpenID Connect a bearer token. Every credential is a variable declared in `env` and listed in
//!   the file's header comment.
//!
//! What could not be generated is recorded with [`Import::skip`]; what was only partly translated
//! with [`Import::untranslated`].

mod checks;
mod crud;
mod negative;
mod request;

use serde_json::{Map, Value, json};

use super::model::{OpenApi, Operation};
use crate::output::{Import, SourceKind, StepIds, slug};

use request::Var;

/// How operations are grouped into flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupBy {
    /// One flow per operation.
    #[default]
    Operation,
    /// One flow per tag, with a step per operation.
    Tag,
}

impl GroupBy {
    /// `operation` (or `op`, `operations`) or `tag` (or `tags`).
    pub fn parse(text: &str) -> Option<GroupBy> {
        match text.trim().to_ascii_lowercase().as_str() {
            "operation" | "operations" | "op" => Some(GroupBy::Operation),
            "tag" | "tags" => Some(GroupBy::Tag),
            _ => None,
        }
    }
}

/// What to generate besides one positive request per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowOptions {
    /// How operations are grouped into flows.
    pub group_by: GroupBy,
    /// Also generate negative flows: requests the API must refuse with a 4xx (invalid bodies,
    /// missing required headers, invalid parameters, undeclared methods).
    pub negative: bool,
    /// Also generate create → read → update → delete flows for collection/item path pairs.
    pub crud: bool,
}

/// Flows for the operations of `api`.
pub fn generate(api: &OpenApi, options: &FlowOptions) -> Import {
    let title = if api.title.trim().is_empty() {
        "OpenAPI".to_string()
    } else {
        api.title.clone()
    };
    let mut import = Import::new(SourceKind::OpenApi, title);
    let cx = Cx::new(api);
    let groups = groups(api, options.group_by);

    // Positive flows.
    let mut positives: Vec<Option<request::Request>> = Vec::with_capacity(api.operations.len());
    for op in &api.operations {
        match request::build(&cx, op) {
            Ok(req) => positives.push(Some(req)),
            Err(reason) => {
                import.skip(origin(op), reason);
                positives.push(None);
            }
        }
    }
    for group in &groups {
        let mut draft = Draft::new(&cx, group, "");
        let mut ids = StepIds::new();
        for &index in &group.operations {
            let (Some(op), Some(Some(req))) = (api.operations.get(index), positives.get(index))
            else {
                continue;
            };
            draft.note_request(&mut import, op, req);
            let mut step = req.step(&step_name(op), &mut ids);
            checks::add_positive(&cx, op, req, &mut step, &mut import);
            draft.steps.push(Value::Object(step));
        }
        draft.finish(&cx, &mut import);
    }

    if options.negative {
        let mut first_on_path: Vec<&str> = Vec::new();
        let mut path_first = vec![false; api.operations.len()];
        for (i, op) in api.operations.iter().enumerate() {
            let generated = positives.get(i).is_some_and(Option::is_some);
            if generated && !first_on_path.contains(&op.path.as_str()) {
                first_on_path.push(op.path.as_str());
                path_first[i] = true;
            }
        }
        for group in &groups {
            let mut draft = Draft::new(&cx, group, " (negative)");
            draft.tags.push("negative".into());
            let mut ids = StepIds::new();
            for &index in &group.operations {
                let (Some(op), Some(Some(req))) = (api.operations.get(index), positives.get(index))
                else {
                    continue;
                };
                let first = path_first.get(index).copied().unwrap_or(false);
                let steps = negative::steps(&cx, op, req, first, &mut ids);
                if !steps.is_empty() {
                    draft.note_request(&mut import, op, req);
                    draft.steps.extend(steps);
                }
            }
            draft.finish(&cx, &mut import);
        }
    }

    if options.crud {
        crud::generate(&cx, &mut import);
    }
    import
}

/// What every part of the generator shares.
pub(crate) struct Cx<'a> {
    pub(crate) api: &'a OpenApi,
    /// `BASE_URL`'s default.
    pub(crate) base_url: String,
    /// The flows' `suite`.
    pub(crate) suite: String,
}

impl<'a> Cx<'a> {
    fn new(api: &'a OpenApi) -> Cx<'a> {
        let suite = slug(&api.title, '-');
        Cx {
            api,
            base_url: base_url(api),
            suite: if suite.is_empty() {
                "openapi".into()
            } else {
                suite
            },
        }
    }
}

/// `servers[0].url` with its variables at their defaults, without a trailing slash; for a relative
/// or missing server, `http://localhost:8080` and the server's path.
fn base_url(api: &OpenApi) -> String {
    let server = api
        .document
        .root()
        .get("servers")
        .and_then(Value::as_array)
        .and_then(|s| s.first());
    let mut url = server
        .and_then(|s| s.get("url"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string();
    if let Some(vars) = server
        .and_then(|s| s.get("variables"))
        .and_then(Value::as_object)
    {
        for (name, var) in vars {
            let default = match var.get("default") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            url = url.replace(&format!("{{{name}}}"), &default);
        }
    }
    let absolute = url.starts_with("http://") || url.starts_with("https://");
    if absolute && !url.contains('{') {
        url.trim_end_matches('/').to_string()
    } else {
        format!("http://localhost:8080{}", api.base_path)
    }
}

/// `METHOD /path`.
pub(crate) fn origin(op: &Operation) -> String {
    format!("{} {}", op.method, op.path)
}

/// A flow or step name for an operation: its summary, else its `operationId`, else `METHOD path`.
pub(crate) fn step_name(op: &Operation) -> String {
    op.summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.lines().next().unwrap_or(s).to_string())
        .or_else(|| op.operation_id.clone().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| origin(op))
}

/// Operations grouped into flows.
struct Group {
    /// The flow's name (before any suffix).
    name: String,
    /// What it was generated from.
    origin: String,
    /// A tag description, for a tag flow.
    description: Option<String>,
    /// Indexes into [`OpenApi::operations`].
    operations: Vec<usize>,
    /// One operation per flow.
    single: bool,
}

fn groups(api: &OpenApi, by: GroupBy) -> Vec<Group> {
    match by {
        GroupBy::Operation => api
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| Group {
                name: step_name(op),
                origin: origin(op),
                description: None,
                operations: vec![i],
                single: true,
            })
            .collect(),
        GroupBy::Tag => {
            // Declared tags first, in declaration order; then tags as they appear.
            let declared: Vec<(String, Option<String>)> = api
                .document
                .root()
                .get("tags")
                .and_then(Value::as_array)
                .map(|tags| {
                    tags.iter()
                        .filter_map(|t| {
                            let name = t.get("name")?.as_str()?.to_string();
                            let description = t
                                .get("description")
                                .and_then(Value::as_str)
                                .map(str::to_string);
                            Some((name, description))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut out: Vec<Group> = Vec::new();
            let mut untagged = Vec::new();
            for (i, op) in api.operations.iter().enumerate() {
                let Some(tag) = op.tags.iter().find(|t| !t.trim().is_empty()) else {
                    untagged.push(i);
                    continue;
                };
                match out.iter_mut().find(|g| &g.name == tag) {
                    Some(group) => group.operations.push(i),
                    None => out.push(Group {
                        name: tag.clone(),
                        origin: format!("tag {tag}"),
                        description: declared
                            .iter()
                            .find(|(n, _)| n == tag)
                            .and_then(|(_, d)| d.clone()),
                        operations: vec![i],
                        single: false,
                    }),
                }
            }
            out.sort_by_key(|g| {
                declared
                    .iter()
                    .position(|(n, _)| *n == g.name)
                    .unwrap_or(usize::MAX)
            });
            if !untagged.is_empty() {
                let name = if api.title.trim().is_empty() {
                    "untagged".to_string()
                } else {
                    api.title.trim().to_string()
                };
                out.push(Group {
                    name,
                    origin: "untagged operations".into(),
                    description: None,
                    operations: untagged,
                    single: false,
                });
            }
            for group in &mut out {
                // Creation first, deletion last, so a group's steps leave each other's data alone.
                group.operations.sort_by_key(|&i| {
                    api.operations
                        .get(i)
                        .map_or(0, |op| method_rank(op.method.as_str()))
                });
            }
            out
        }
    }
}

fn method_rank(method: &str) -> u8 {
    match method {
        "POST" => 0,
        "GET" | "HEAD" | "OPTIONS" | "TRACE" => 1,
        "PUT" | "PATCH" => 2,
        "DELETE" => 3,
        _ => 1,
    }
}

/// A flow being assembled.
pub(crate) struct Draft {
    name: String,
    origin: String,
    description: String,
    pub(crate) tags: Vec<String>,
    pub(crate) steps: Vec<Value>,
    vars: Vec<Var>,
    /// `METHOD /path (operationId)` lines for the header comment.
    operations: Vec<String>,
    deprecated: Vec<String>,
    /// Steps are independent checks: all of them run even when one fails.
    independent: bool,
}

impl Draft {
    fn new(cx: &Cx<'_>, group: &Group, suffix: &str) -> Draft {
        let description = match (&group.description, group.single) {
            (Some(d), _) => d.clone(),
            (None, true) => group
                .operations
                .first()
                .and_then(|&i| cx.api.operations.get(i))
                .map(|op| describe(cx, op))
                .unwrap_or_default(),
            (None, false) => format!("Operations tagged {}", group.name),
        };
        Draft {
            name: format!("{}{suffix}", group.name),
            origin: if suffix.is_empty() {
                group.origin.clone()
            } else {
                format!("{}{suffix}", group.origin)
            },
            description,
            tags: Vec::new(),
            steps: Vec::new(),
            vars: Vec::new(),
            operations: Vec::new(),
            deprecated: Vec::new(),
            independent: !group.single || !suffix.is_empty(),
        }
    }

    /// A flow for one resource's CRUD chain.
    pub(crate) fn custom(name: String, origin: String, description: String) -> Draft {
        Draft {
            name,
            origin,
            description,
            tags: Vec::new(),
            steps: Vec::new(),
            vars: Vec::new(),
            operations: Vec::new(),
            deprecated: Vec::new(),
            independent: false,
        }
    }

    /// Replaces the description.
    pub(crate) fn set_description(&mut self, description: String) {
        self.description = description;
    }

    /// Records what a step for `op` needs: its tags, variables, notes.
    pub(crate) fn note_request(
        &mut self,
        import: &mut Import,
        op: &Operation,
        req: &request::Request,
    ) {
        let line = match &op.operation_id {
            Some(id) => format!("{} ({id})", origin(op)),
            None => origin(op),
        };
        if self.operations.contains(&line) {
            return;
        }
        self.operations.push(line);
        for tag in &op.tags {
            push_tag(&mut self.tags, tag);
        }
        if op.deprecated {
            push_tag(&mut self.tags, "deprecated");
            self.deprecated.push(origin(op));
        }
        for var in &req.vars {
            if !self.vars.iter().any(|v| v.name == var.name) {
                self.vars.push(var.clone());
            }
        }
        for note in &req.notes {
            let already = import
                .untranslated
                .iter()
                .any(|u| u.item == origin(op) && &u.what == note);
            if !already {
                import.untranslated(origin(op), note.clone());
            }
        }
    }

    /// Writes the flow into `import` (nothing when it has no steps).
    pub(crate) fn finish(self, cx: &Cx<'_>, import: &mut Import) {
        if self.steps.is_empty() {
            return;
        }
        let mut env = Map::new();
        env.insert("BASE_URL".into(), json!(cx.base_url));
        for var in &self.vars {
            env.insert(var.name.clone(), json!(var.default));
        }
        let mut flow = Map::new();
        flow.insert("name".into(), json!(clip(&self.name, 200)));
        if !self.description.trim().is_empty() {
            flow.insert("description".into(), json!(clip(&self.description, 900)));
        }
        flow.insert("suite".into(), json!(cx.suite));
        if !self.tags.is_empty() {
            flow.insert("tags".into(), json!(self.tags));
        }
        flow.insert("env".into(), Value::Object(env));
        if self.independent && self.steps.len() > 1 {
            flow.insert("config".into(), json!({"fail_fast": false}));
        }
        flow.insert("steps".into(), Value::Array(self.steps));
        let mut flow = Value::Object(flow);

        let api = cx.api;
        let mut comments = vec![format!(
            "Generated by `testmesh import openapi` from {}",
            api.document.file()
        )];
        let version = if api.api_version.is_empty() {
            String::new()
        } else {
            format!(" {}", api.api_version)
        };
        comments.push(format!("API: {}{version}", import.title));
        match self.operations.as_slice() {
            [one] => comments.push(format!("Operation: {one}")),
            many => {
                comments.push("Operations:".into());
                comments.extend(many.iter().map(|o| format!("  {o}")));
            }
        }
        for op in &self.deprecated {
            comments.push(format!("Deprecated: {op}"));
        }
        comments.push("Variables (set with `testmesh run <file> --var NAME=value`):".into());
        comments.push(format!(
            "  BASE_URL: where the API runs (default {})",
            cx.base_url
        ));
        for var in &self.vars {
            comments.push(format!("  {}: {}", var.name, var.about));
        }
        let header: usize = comments.iter().map(|c| c.len() + 3).sum();
        let dropped = fit(&mut flow, MAX_FLOW_BYTES.saturating_sub(header));
        if dropped > 0 {
            import.untranslated(
                self.origin.clone(),
                format!(
                    "{dropped} response schema assertion{} left out to keep the file under 1 MiB; \
                     group by operation to keep them",
                    if dropped == 1 { " is" } else { "s are" }
                ),
            );
        }
        import.add_flow(self.origin, flow, &comments);
    }
}

/// Largest flow file written; `testmesh validate` refuses files over 1 MiB.
const MAX_FLOW_BYTES: usize = 1_000_000;

/// Removes the largest `matches_schema` assertions until the flow's YAML fits in `budget` bytes;
/// returns how many were removed.
fn fit(flow: &mut Value, budget: usize) -> usize {
    let mut dropped = 0;
    loop {
        let size = testmesh_flow::to_yaml(flow).len();
        if size <= budget {
            return dropped;
        }
        // Remove assertions, largest first, until what they took (at least their text at the
        // top level; indented, more) covers the excess; then measure again.
        let mut excess = size - budget;
        while excess > 0 {
            let Some(removed) = remove_largest_schema(flow) else {
                return dropped;
            };
            dropped += 1;
            excess = excess.saturating_sub(testmesh_flow::to_yaml(&removed).len());
        }
    }
}

fn remove_largest_schema(flow: &mut Value) -> Option<Value> {
    let mut largest: Option<(usize, usize, usize)> = None;
    let steps = flow.get("steps").and_then(Value::as_array);
    for (s, step) in steps.into_iter().flatten().enumerate() {
        let asserts = step.get("assert").and_then(Value::as_array);
        for (a, assertion) in asserts.into_iter().flatten().enumerate() {
            if let Some(schema) = assertion.get("body matches_schema") {
                let size = schema.to_string().len();
                if largest.is_none_or(|(_, _, l)| size > l) {
                    largest = Some((s, a, size));
                }
            }
        }
    }
    let (s, a, _) = largest?;
    let asserts = flow
        .get_mut("steps")?
        .get_mut(s)?
        .get_mut("assert")?
        .as_array_mut()?;
    (a < asserts.len()).then(|| asserts.remove(a))
}

/// `METHOD path: summary` and the operation's description, for a flow's `description`.
fn describe(cx: &Cx<'_>, op: &Operation) -> String {
    let mut text = origin(op);
    if let Some(summary) = op.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        text.push_str(": ");
        text.push_str(summary.trim());
    }
    if let Some(description) = cx
        .api
        .document
        .get(&op.pointer)
        .and_then(|o| o.get("description"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        text.push_str(". ");
        text.push_str(description);
    }
    text
}

/// A tag in the recommended form (lower-case letters, digits, `-`), once.
fn push_tag(tags: &mut Vec<String>, tag: &str) {
    let tag = slug(tag, '-');
    if !tag.is_empty() && !tags.contains(&tag) {
        tags.push(tag);
    }
}

/// At most `max` characters of `text` (an ellipsis marks a cut).
fn clip(text: &str, max: usize) -> String {
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
    fn group_by_parses() {
        assert_eq!(GroupBy::parse("tag"), Some(GroupBy::Tag));
        assert_eq!(GroupBy::parse(" Operation "), Some(GroupBy::Operation));
        assert_eq!(GroupBy::parse("path"), None);
        assert_eq!(FlowOptions::default().group_by, GroupBy::Operation);
    }

    #[test]
    fn clips_long_text() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
