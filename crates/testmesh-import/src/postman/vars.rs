//! Postman variables in one generated flow: the flow's `env`, `{{name}}` placeholders turned into
//! references (to `env`, to earlier steps' outputs, to built-ins for dynamic variables) and notes on
//! what could not be resolved.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::script::is_identifier;
use super::text::{Part, Piece, pieces, render};

/// Postman's dynamic variables with a TestMesh equivalent (built-in variables and faker functions).
const DYNAMIC: &[(&str, &str)] = &[
    ("guid", "UUID"),
    ("randomUUID", "UUID"),
    ("timestamp", "TIMESTAMP"),
    ("isoTimestamp", "ISO_TIMESTAMP"),
    ("randomInt", "RANDOM_INT"),
    ("randomAlphaNumeric", "RANDOM_STRING"),
    ("randomFirstName", "FAKER.name.firstName"),
    ("randomLastName", "FAKER.name.lastName"),
    ("randomFullName", "FAKER.name.fullName"),
    ("randomNamePrefix", "FAKER.name.prefix"),
    ("randomNameSuffix", "FAKER.name.suffix"),
    ("randomJobTitle", "FAKER.name.jobTitle"),
    ("randomEmail", "FAKER.internet.email"),
    ("randomExampleEmail", "FAKER.internet.email"),
    ("randomUserName", "FAKER.internet.userName"),
    ("randomUrl", "FAKER.internet.url"),
    ("randomDomainName", "FAKER.internet.domainName"),
    ("randomIP", "FAKER.internet.ipv4"),
    ("randomIPV6", "FAKER.internet.ipv6"),
    ("randomPassword", "FAKER.internet.password"),
    ("randomUserAgent", "FAKER.internet.userAgent"),
    ("randomHexColor", "FAKER.internet.color"),
    ("randomColor", "FAKER.commerce.color"),
    ("randomPhoneNumber", "FAKER.phone.phoneNumber"),
    ("randomCity", "FAKER.address.city"),
    ("randomStreetName", "FAKER.address.streetName"),
    ("randomStreetAddress", "FAKER.address.streetAddress"),
    ("randomCountry", "FAKER.address.country"),
    ("randomCountryCode", "FAKER.address.countryCode"),
    ("randomLatitude", "FAKER.address.latitude"),
    ("randomLongitude", "FAKER.address.longitude"),
    ("randomCompanyName", "FAKER.company.companyName"),
    ("randomCatchPhrase", "FAKER.company.catchPhrase"),
    ("randomBs", "FAKER.company.bs"),
    ("randomProductName", "FAKER.commerce.productName"),
    ("randomProduct", "FAKER.commerce.product"),
    ("randomPrice", "FAKER.commerce.price"),
    ("randomDepartment", "FAKER.commerce.department"),
    ("randomBoolean", "FAKER.datatype.boolean"),
    ("randomWord", "FAKER.lorem.word"),
    ("randomWords", "FAKER.lorem.words"),
    ("randomLoremWord", "FAKER.lorem.word"),
    ("randomLoremWords", "FAKER.lorem.words"),
    ("randomLoremSentence", "FAKER.lorem.sentence"),
    ("randomLoremSentences", "FAKER.lorem.sentences"),
    ("randomLoremParagraph", "FAKER.lorem.paragraph"),
    ("randomLoremText", "FAKER.lorem.text"),
    ("randomDatePast", "FAKER.date.past"),
    ("randomDateFuture", "FAKER.date.future"),
    ("randomDateRecent", "FAKER.date.recent"),
];

/// TestMesh's built-in variables, which shadow flow variables of the same name.
const BUILTINS: &[&str] = &[
    "FLOW_ID",
    "FLOW_NAME",
    "EXECUTION_ID",
    "TIMESTAMP",
    "TIMESTAMP_UNIX",
    "TIMESTAMP_MS",
    "ISO_TIMESTAMP",
    "DATE",
    "TIME",
    "DATETIME",
    "YEAR",
    "MONTH",
    "DAY",
    "HOUR",
    "MINUTE",
    "SECOND",
    "RANDOM_ID",
    "UUID",
    "RANDOM_INT",
    "RANDOM_STRING",
    "FAKER",
];

/// A Postman variable name as a TestMesh variable name (`user.id` → `user_id`, `UUID` →
/// `UUID_VAR`), and whether it changed.
pub(super) fn sanitize(name: &str) -> (String, bool) {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    {
        out = format!("v_{out}");
    }
    if BUILTINS.contains(&out.as_str()) {
        out.push_str("_VAR");
    }
    let changed = out != name;
    (out, changed)
}

/// Upper-case names are expected from the environment (`testmesh validate` does not report them
/// when undefined).
pub(crate) fn is_env_style(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The variables of one flow being generated.
pub(super) struct FlowVars<'c> {
    label: String,
    env: Map<String, Value>,
    outputs: HashMap<String, String>,
    placeholders: BTreeSet<String>,
    undefined: BTreeSet<String>,
    renamed: BTreeMap<String, String>,
    unknown_dynamic: BTreeSet<String>,
    unexpanded: BTreeSet<String>,
    typed: BTreeSet<String>,
    altered: bool,
    set_by: &'c BTreeMap<String, String>,
}

impl<'c> FlowVars<'c> {
    /// The collection and folder variables in force (later entries win); `label` names the folder
    /// in notes; `set_by` says which folder's scripts store a variable.
    pub fn new(
        vars: &[(String, Value)],
        label: &str,
        set_by: &'c BTreeMap<String, String>,
    ) -> FlowVars<'c> {
        let mut this = FlowVars {
            label: label.to_string(),
            env: Map::new(),
            outputs: HashMap::new(),
            placeholders: BTreeSet::new(),
            undefined: BTreeSet::new(),
            renamed: BTreeMap::new(),
            unknown_dynamic: BTreeSet::new(),
            unexpanded: BTreeSet::new(),
            typed: BTreeSet::new(),
            altered: false,
            set_by,
        };
        let mut raw: Map<String, Value> = Map::new();
        for (name, value) in vars {
            let key = this.rename(name);
            raw.insert(key, value.clone());
        }
        // Flow variables are plain values (never interpolated), so placeholders inside them are
        // resolved now from the other variables.
        for (key, value) in &raw {
            let value = match value {
                Value::String(s) => Value::String(this.expand(s, &raw, 0)),
                Value::Null => Value::String(String::new()),
                Value::Array(_) | Value::Object(_) => Value::String(value.to_string()),
                other => other.clone(),
            };
            this.env.insert(key.clone(), value);
        }
        this
    }

    fn rename(&mut self, name: &str) -> String {
        let (key, changed) = sanitize(name);
        if changed {
            self.renamed.insert(name.to_string(), key.clone());
        }
        key
    }

    /// `{{x}}` in a variable's value replaced by the value of `x`.
    fn expand(&mut self, text: &str, raw: &Map<String, Value>, depth: usize) -> String {
        let mut out = String::new();
        for piece in pieces(text) {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(name) => {
                    let key = sanitize(name).0;
                    match raw.get(&key) {
                        Some(Value::String(s)) if depth < 10 => {
                            out.push_str(&self.expand(s, raw, depth + 1));
                        }
                        Some(v) if !v.is_string() && !v.is_null() => out.push_str(&v.to_string()),
                        _ => {
                            self.unexpanded.insert(name.to_string());
                            out.push_str("{{");
                            out.push_str(name);
                            out.push_str("}}");
                        }
                    }
                }
            }
        }
        out
    }

    /// The reference for `{{name}}` at this point of the flow.
    pub fn reference(&mut self, name: &str) -> String {
        if let Some(dynamic) = name.strip_prefix('$') {
            return match DYNAMIC.iter().find(|(d, _)| *d == dynamic) {
                Some((_, builtin)) => format!("${{{builtin}}}"),
                None => {
                    self.unknown_dynamic.insert(name.to_string());
                    "${RANDOM_STRING}".to_string()
                }
            };
        }
        let key = self.rename(name);
        if let Some(step) = self.outputs.get(&key) {
            // A bare name reads `env` before outputs, so a name in both must name the step.
            return if self.env.contains_key(&key) {
                if is_identifier(&key) {
                    format!("${{{step}.{key}}}")
                } else {
                    format!("${{{step}[\"{key}\"]}}")
                }
            } else {
                format!("${{{key}}}")
            };
        }
        if !self.env.contains_key(&key) {
            self.undefined.insert(key.clone());
            if !is_env_style(&key) {
                self.placeholders.insert(key.clone());
            }
        }
        format!("${{{key}}}")
    }

    /// The reference for a placeholder written unquoted in a JSON body (`{"n": {{count}}}`): Postman
    /// pastes the text, so a variable holding `30` sends a number; its `env` value becomes typed.
    pub fn typed_reference(&mut self, name: &str) -> String {
        let reference = self.reference(name);
        self.typed.insert(sanitize(name).0);
        reference
    }

    /// A Postman string as a flow string.
    pub fn convert(&mut self, text: &str) -> String {
        let parts: Vec<Part> = pieces(text)
            .into_iter()
            .map(|piece| match piece {
                Piece::Text(t) => Part::Text(t.to_string()),
                Piece::Var(name) => Part::Ref(self.reference(name)),
            })
            .collect();
        render(&parts, &mut self.altered)
    }

    /// Every string inside `value` converted (mapping keys are left as written).
    pub fn convert_value(&mut self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.convert(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.convert_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.convert_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// The expression text for a variable a test script reads; `None` when it is not defined at
    /// this point or its name cannot be written in an expression.
    pub fn expression(&self, name: &str) -> Option<String> {
        let key = sanitize(name).0;
        if !is_identifier(&key) {
            return None;
        }
        if let Some(step) = self.outputs.get(&key) {
            return Some(format!("${{{step}.{key}}}"));
        }
        self.env.contains_key(&key).then(|| format!("${{{key}}}"))
    }

    /// Records that step `step` stores variable `name`; returns the output key.
    pub fn output(&mut self, name: &str, step: &str) -> String {
        let key = self.rename(name);
        self.outputs.insert(key.clone(), step.to_string());
        key
    }

    /// The flow's `env`: the variables, then empty placeholders for names used but never defined.
    pub fn env(&self) -> Map<String, Value> {
        let mut env = self.env.clone();
        for name in &self.typed {
            if let Some(Value::String(text)) = env.get(name) {
                let typed = serde_json::from_str::<Value>(text.trim())
                    .ok()
                    .filter(|v| v.is_number() || v.is_boolean());
                if let Some(typed) = typed {
                    env.insert(name.clone(), typed);
                }
            }
        }
        for name in &self.placeholders {
            env.insert(name.clone(), Value::String(String::new()));
        }
        env
    }

    /// What the user must finish: `(item, what)`.
    pub fn notes(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let item = &self.label;
        for (from, to) in &self.renamed {
            out.push((item.clone(), format!("variable `{from}` is called `{to}` (TestMesh names are letters, digits, `_` and `-`; built-in names are taken)")));
        }
        for name in &self.undefined {
            let how = if self.placeholders.contains(name) {
                format!("it is in `env` with an empty value; set it there or pass `--var {name}=…`")
            } else {
                format!("pass `--var {name}=…` or set it in the environment")
            };
            let what = match self.set_by.get(name) {
                Some(folder) if folder != &self.label => format!(
                    "variable `{name}` is stored by a test script of {folder}, another flow; {how}"
                ),
                _ => format!(
                    "variable `{name}` is not defined in the collection (a Postman environment or global variable?); {how}"
                ),
            };
            out.push((item.clone(), what));
        }
        for name in &self.unknown_dynamic {
            out.push((item.clone(), format!("dynamic variable `{{{{{name}}}}}` has no TestMesh equivalent; it is replaced by `${{RANDOM_STRING}}`")));
        }
        for name in &self.unexpanded {
            out.push((item.clone(), format!("`{{{{{name}}}}}` inside a variable's value is sent as written (flow variables are plain values)")));
        }
        if self.altered {
            out.push((item.clone(), "literal `{{` (or a `$` right before a variable) got a space so it does not read as a reference".to_string()));
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_env_outputs_and_dynamic_variables() {
        let set_by = BTreeMap::from([("session".to_string(), "C/Auth".to_string())]);
        let vars = vec![
            ("host".to_string(), json!("api.example.com")),
            ("baseUrl".to_string(), json!("https://{{host}}/v1")),
            ("token".to_string(), json!("")),
            ("user.id".to_string(), json!(7)),
            ("UUID".to_string(), json!("x")),
            ("baseUrl".to_string(), json!("https://{{host}}/v2")),
        ];
        let mut v = FlowVars::new(&vars, "C/Users", &set_by);
        assert_eq!(
            v.env().get("baseUrl"),
            Some(&json!("https://api.example.com/v2"))
        );
        assert_eq!(
            v.convert("{{baseUrl}}/u/{{user.id}}"),
            "${baseUrl}/u/${user_id}"
        );
        assert_eq!(
            v.convert("{{$guid}}-{{$randomEmail}}"),
            "${UUID}-${FAKER.internet.email}"
        );
        assert_eq!(v.convert("{{$randomMACAddress}}"), "${RANDOM_STRING}");
        assert_eq!(v.output("token", "login"), "token");
        assert_eq!(v.convert("Bearer {{token}}"), "Bearer ${login.token}");
        assert_eq!(v.output("newId", "create"), "newId");
        assert_eq!(v.convert("{{newId}}"), "${newId}");
        assert_eq!(v.expression("newId").as_deref(), Some("${create.newId}"));
        assert_eq!(
            v.convert("{{session}} {{API_KEY}}"),
            "${session} ${API_KEY}"
        );
        let env = v.env();
        assert_eq!(env.get("session"), Some(&json!("")));
        assert!(!env.contains_key("API_KEY"));
        assert_eq!(env.get("UUID_VAR"), Some(&json!("x")));
        let notes: Vec<String> = v.notes().into_iter().map(|n| n.1).collect();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("`session` is stored by a test script of C/Auth")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("`API_KEY` is not defined")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("$randomMACAddress")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("`user.id` is called `user_id`")),
            "{notes:?}"
        );
    }

    #[test]
    fn every_dynamic_variable_is_a_valid_reference() {
        let mut steps = String::new();
        let set_by = BTreeMap::new();
        for (name, _) in DYNAMIC {
            let mut v = FlowVars::new(&[], "x", &set_by);
            let reference = v.convert(&format!("{{{{${name}}}}}"));
            steps.push_str(&format!(
                "  - action: log\n    config: {{message: \"{reference}\"}}\n"
            ));
        }
        let loaded = testmesh_flow::load_str(&format!("name: d\nsteps:\n{steps}"));
        let problems: Vec<_> = loaded
            .diagnostics
            .iter()
            .map(|d| d.message.clone())
            .collect();
        assert!(problems.is_empty(), "{problems:?}");
    }
}
