//! Interpolation of `${…}` / `{{…}}` references in the string leaves of step
//! configs, plus the step-output path resolver used by `output:` entries.
//!
//! Parse with [`Template::parse`], collect runtime data in a [`Scope`], and render
//! with [`render_str`] / [`render_value`]. A string that is exactly one reference
//! renders to the referenced value with its JSON type; anything else renders to a
//! string.

mod builtins;
mod faker;
mod path;
mod scope;
mod template;

pub use builtins::{BUILTINS, is_builtin};
pub use faker::{faker_functions, faker_is_known};
pub use path::{check_output_path, resolve_output};
pub use scope::{Scope, SystemInfo, VariableSources};
pub use template::{Reference, Segment, Template, TemplateError, references_in};

use builtins::LeafContext;
use scope::Lookup;
use serde_json::Value;

/// Options for [`render_value`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// References whose root is listed are left verbatim (e.g. `request`, `state`
    /// in mock-server templates rendered later by the mock engine).
    pub passthrough_roots: Vec<String>,
}

/// An interpolation failure. Every variant carries `at`, the location inside the
/// rendered value (`body.items[0].name`; empty at the root).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolateError {
    /// The string is not a valid template.
    #[error("{}invalid template: {source}", loc(at))]
    Template {
        /// Location inside the rendered value.
        at: String,
        /// The parse error.
        source: TemplateError,
    },
    /// No step, variable or built-in has the reference's root.
    #[error("{}undefined reference `{reference}`: no step or variable named `{root}`{}", loc(at),
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Undefined {
        /// Location inside the rendered value.
        at: String,
        /// The reference text, e.g. `${regster.body.id}`.
        reference: String,
        /// The unknown root name.
        root: String,
        /// The nearest known name, if any is close.
        suggestion: Option<String>,
    },
    /// The root exists but the path does not lead to a value.
    #[error(
        "{}undefined reference `{reference}`: {kind} `{root}` has no `{path}`",
        loc(at)
    )]
    MissingPath {
        /// Location inside the rendered value.
        at: String,
        /// The reference text.
        reference: String,
        /// `"step"` or `"variable"`.
        kind: String,
        /// The step id or variable name.
        root: String,
        /// The path that was not found.
        path: String,
    },
    /// An unknown `FAKER.…` function.
    #[error("{}{message}", loc(at))]
    Faker {
        /// Location inside the rendered value.
        at: String,
        /// The reference text.
        reference: String,
        /// What is wrong and which functions exist.
        message: String,
    },
}

fn loc(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!("at `{at}`: ")
    }
}

impl InterpolateError {
    /// The location inside the rendered value (empty at the root).
    pub fn at(&self) -> &str {
        match self {
            Self::Template { at, .. }
            | Self::Undefined { at, .. }
            | Self::MissingPath { at, .. }
            | Self::Faker { at, .. } => at,
        }
    }

    /// The same error located at `location` (a path such as `body.items[0].name`).
    pub fn with_at(mut self, location: String) -> Self {
        match &mut self {
            Self::Template { at, .. }
            | Self::Undefined { at, .. }
            | Self::MissingPath { at, .. }
            | Self::Faker { at, .. } => *at = location,
        }
        self
    }
}

/// Renders one string with no passthrough roots. See [`render_value`].
pub fn render_str(s: &str, scope: &Scope) -> Result<Value, InterpolateError> {
    render_leaf(s, scope, &RenderOptions::default())
}

/// Like [`render_str`], with options (passthrough roots).
pub fn render_str_with(
    s: &str,
    scope: &Scope,
    opts: &RenderOptions,
) -> Result<Value, InterpolateError> {
    render_leaf(s, scope, opts)
}

/// Recursively renders every string leaf of `v` (map keys are untouched).
/// Errors carry the location of the failing leaf in `at`.
pub fn render_value(
    v: &Value,
    scope: &Scope,
    opts: &RenderOptions,
) -> Result<Value, InterpolateError> {
    render_at(v, scope, opts, &mut String::new())
}

fn render_at(
    v: &Value,
    scope: &Scope,
    opts: &RenderOptions,
    at: &mut String,
) -> Result<Value, InterpolateError> {
    let len = at.len();
    let out = match v {
        Value::String(s) => render_leaf(s, scope, opts).map_err(|e| e.with_at(at.clone())),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                at.push_str(&format!("[{i}]"));
                let r = render_at(item, scope, opts, at);
                at.truncate(len);
                r
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => map
            .iter()
            .map(|(k, item)| {
                if k.is_empty() || k.contains(['.', '[', ']', ' ', '"']) {
                    at.push_str(&format!("[{k:?}]"));
                } else {
                    if !at.is_empty() {
                        at.push('.');
                    }
                    at.push_str(k);
                }
                let r = render_at(item, scope, opts, at);
                at.truncate(len);
                Ok((k.clone(), r?))
            })
            .collect::<Result<serde_json::Map<_, _>, _>>()
            .map(Value::Object),
        other => Ok(other.clone()),
    };
    at.truncate(len);
    out
}

fn render_leaf(s: &str, scope: &Scope, opts: &RenderOptions) -> Result<Value, InterpolateError> {
    if !s.contains("${") && !s.contains("{{") {
        return Ok(Value::String(s.to_owned()));
    }
    let template = Template::parse(s).map_err(|source| InterpolateError::Template {
        at: String::new(),
        source,
    })?;
    let leaf = LeafContext::default();
    if let [Segment::Ref(r)] = template.segments() {
        return resolve(r, scope, opts, &leaf);
    }
    let mut out = String::with_capacity(s.len());
    for seg in template.segments() {
        match seg {
            Segment::Literal(text) => out.push_str(text),
            Segment::Ref(r) => out.push_str(&to_text(&resolve(r, scope, opts, &leaf)?)),
        }
    }
    Ok(Value::String(out))
}

/// Resolves one reference, applying passthrough and defaults.
fn resolve(
    r: &Reference,
    scope: &Scope,
    opts: &RenderOptions,
    leaf: &LeafContext,
) -> Result<Value, InterpolateError> {
    if opts.passthrough_roots.contains(&r.root) {
        return Ok(Value::String(r.raw.clone()));
    }
    let default = r.default.as_ref().map(|d| Value::String(d.clone()));
    match scope.lookup(r, leaf) {
        Lookup::Found(v) if is_blank(&v) => Ok(default.unwrap_or(v)),
        Lookup::Found(v) => Ok(v),
        Lookup::Faker(message) => Err(InterpolateError::Faker {
            at: String::new(),
            reference: r.raw.clone(),
            message,
        }),
        _ if default.is_some() => Ok(default.unwrap_or_default()),
        Lookup::NoRoot => Err(InterpolateError::Undefined {
            at: String::new(),
            reference: r.raw.clone(),
            root: r.root.clone(),
            suggestion: scope.suggest(&r.root),
        }),
        Lookup::NoPath(kind) => Err(InterpolateError::MissingPath {
            at: String::new(),
            reference: r.raw.clone(),
            kind: kind.to_owned(),
            root: r.root.clone(),
            path: r.path.clone().unwrap_or_default(),
        }),
    }
}

fn is_blank(v: &Value) -> bool {
    v.is_null() || v.as_str().is_some_and(str::is_empty)
}

/// Formats a value for embedding in a larger string.
fn to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => {
            n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string())
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use indexmap::IndexMap;
    use proptest::prelude::*;
    use serde_json::json;

    fn scope() -> Scope {
        let mut s = Scope::new(SystemInfo {
            flow_id: "f1".into(),
            flow_name: "Flow".into(),
            execution_id: "e1".into(),
        });
        s.push_layer(
            [
                ("name", json!("Ann")),
                ("n", json!(42)),
                ("price", json!(49.99)),
                ("two", json!(2.0)),
                ("obj", json!({"a": [1, 2], "b": null})),
                ("empty", json!("")),
                ("nothing", json!(null)),
                ("flag", json!(true)),
                ("item", json!({"name": "widget", "tags": ["x", "y"]})),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        );
        let outputs: IndexMap<String, Value> = [("provider_url".to_owned(), json!("http://p"))]
            .into_iter()
            .collect();
        s.record_step(
            "register",
            json!({"status": 201, "body": {"id": 7, "items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}}),
            &outputs,
        );
        s
    }

    fn r(s: &str) -> Value {
        render_str(s, &scope()).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn plain_and_mixed() {
        assert_eq!(r("Total: $109.96"), json!("Total: $109.96"));
        assert_eq!(r("hi ${name} / {{ name }}!"), json!("hi Ann / Ann!"));
        assert_eq!(r("$${name} is ${ name }"), json!("${name} is Ann"));
        assert_eq!(
            r("n=${n} p=${price} t=${two} f=${flag} z=${nothing}"),
            json!("n=42 p=49.99 t=2 f=true z=null")
        );
        assert_eq!(r("o=${obj}"), json!(r#"o={"a":[1,2],"b":null}"#));
    }

    #[test]
    fn typed_single_reference() {
        assert_eq!(r("${n}"), json!(42));
        assert_eq!(r("{{ obj }}"), json!({"a": [1, 2], "b": null}));
        assert_eq!(r("${register.body.id}"), json!(7));
        assert_eq!(r("${register.status}"), json!(201));
        assert_eq!(r("${register.body.items[-1].name}"), json!("b"));
        assert_eq!(r("${register.body.items.0.id}"), json!(1));
        assert_eq!(r("${register.$.body.items[?@.id==2].name}"), json!("b"));
        assert_eq!(r("${item.name}"), json!("widget"));
        assert_eq!(r("${item.tags[1]}"), json!("y"));
        assert_eq!(r("${register.provider_url}"), json!("http://p"));
        assert_eq!(r("{{provider_url}}/x"), json!("http://p/x"));
        assert_eq!(r("${nothing}"), Value::Null);
    }

    #[test]
    fn defaults() {
        assert_eq!(r("${missing:fallback}"), json!("fallback"));
        assert_eq!(r("${empty:e}-${nothing:n}-${name:x}"), json!("e-n-Ann"));
        assert_eq!(r("${register.body.nope:d}"), json!("d"));
        assert_eq!(r("${obj.b:was null}"), json!("was null"));
        assert_eq!(r("${missing:}"), json!(""));
        assert_eq!(
            r("${URL:http://localhost:8080}"),
            json!("http://localhost:8080")
        );
    }

    #[test]
    fn undefined_errors() {
        let s = scope();
        let e = render_str("${regster.body.id}", &s).unwrap_err();
        assert_eq!(
            e.to_string(),
            "undefined reference `${regster.body.id}`: no step or variable named `regster` (did you mean `register`?)"
        );
        let e = render_str("x ${register.body.idx}", &s).unwrap_err();
        assert_eq!(
            e.to_string(),
            "undefined reference `${register.body.idx}`: step `register` has no `body.idx`"
        );
        let e = render_str("${item.nope}", &s).unwrap_err();
        assert!(matches!(e, InterpolateError::MissingPath { ref kind, .. } if kind == "variable"));
        let e = render_str("${zzz_unknown}", &s).unwrap_err();
        assert!(matches!(
            e,
            InterpolateError::Undefined {
                suggestion: None,
                ..
            }
        ));
        let e = render_str("${oops", &s).unwrap_err();
        assert!(matches!(e, InterpolateError::Template { ref source, .. } if source.offset == 0));
    }

    #[test]
    fn builtins_in_render() {
        let s = scope();
        assert_eq!(
            render_str("${FLOW_ID}/${FLOW_NAME}/${EXECUTION_ID}", &s),
            Ok(json!("f1/Flow/e1"))
        );
        assert!(render_str("${TIMESTAMP}", &s).is_ok_and(|v| v.is_i64()));
        let v = render_str("${RANDOM_ID}|${UUID}", &s).unwrap();
        let (a, b) = v.as_str().and_then(|v| v.split_once('|')).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 36);
        let list = render_value(
            &json!(["${UUID}", "${UUID}"]),
            &s,
            &RenderOptions::default(),
        )
        .unwrap();
        assert_ne!(list[0], list[1]);
        let mut shadow = scope();
        shadow.set_var("FLOW_ID", json!("mine"));
        assert_eq!(render_str("${FLOW_ID}", &shadow), Ok(json!("f1")));
    }

    #[test]
    fn faker_in_render() {
        let s = scope();
        let v = render_str("${FAKER.name.firstName} {{FAKER.name.last_name}}", &s).unwrap();
        assert!(v.as_str().is_some_and(|v| v.contains(' ')));
        let e = render_str("${FAKER.name.frstName}", &s).unwrap_err();
        assert!(matches!(e, InterpolateError::Faker { .. }));
        assert!(e.to_string().contains("firstName"));
    }

    #[test]
    fn render_value_locations_and_passthrough() {
        let s = scope();
        let v = json!({"url": "${provider_url}/u", "n": "${n}", "keep": 5, "${name}": "k",
                       "body": {"items": [{"name": "${item.name}"}]}});
        let out = render_value(&v, &s, &RenderOptions::default()).unwrap();
        assert_eq!(
            out,
            json!({"url": "http://p/u", "n": 42, "keep": 5, "${name}": "k", "body": {"items": [{"name": "widget"}]}})
        );
        let bad = json!({"body": {"items": [{"name": "${nope}"}]}});
        let e = render_value(&bad, &s, &RenderOptions::default()).unwrap_err();
        assert_eq!(e.at(), "body.items[0].name");
        assert!(
            e.to_string()
                .starts_with("at `body.items[0].name`: undefined reference")
        );
        let e =
            render_value(&json!({"a b": ["${nope}"]}), &s, &RenderOptions::default()).unwrap_err();
        assert_eq!(e.at(), "[\"a b\"][0]");

        let opts = RenderOptions {
            passthrough_roots: vec!["request".into(), "state".into()],
        };
        let mock =
            json!({"msg": "Hi {{request.body.name}} from ${name}", "c": "{{ state.counter }}"});
        assert_eq!(
            render_value(&mock, &s, &opts),
            Ok(json!({"msg": "Hi {{request.body.name}} from Ann", "c": "{{ state.counter }}"}))
        );
    }

    #[test]
    fn bare_step_id_gives_namespace() {
        assert_eq!(r("${register}")["body"]["id"], json!(7));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = Template::parse(&s);
            let _ = render_str(&s, &scope());
        }

        #[test]
        fn never_panics_templatey(s in "[${}\\[\\]\"':.a-z0-9 ?@=\\\\-]{0,40}") {
            let _ = Template::parse(&s);
            let _ = render_str(&s, &scope());
            let _ = resolve_output(&json!({"body": {"a": [1]}}), &s, "a");
        }
    }
}
