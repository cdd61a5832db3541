//! What an importer produces: flow files (validated before they are offered), and the items it
//! skipped or could only partly translate, each with the reason — nothing is dropped silently.

use std::collections::HashSet;

use serde_json::{Value, json};

/// The kind of input an import read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// OpenAPI 3.x (or Swagger 2.0, converted).
    OpenApi,
    /// A Postman collection (v2.0 / v2.1).
    Postman,
    /// A Pact file (v2–v4).
    Pact,
    /// An HTTP Archive (HAR 1.2).
    Har,
}

impl SourceKind {
    /// `openapi`, `postman`, `pact` or `har` (the `source_type` of import history).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::OpenApi => "openapi",
            SourceKind::Postman => "postman",
            SourceKind::Pact => "pact",
            SourceKind::Har => "har",
        }
    }

    /// Parses [`SourceKind::as_str`].
    pub fn parse(text: &str) -> Option<SourceKind> {
        match text {
            "openapi" | "swagger" => Some(SourceKind::OpenApi),
            "postman" => Some(SourceKind::Postman),
            "pact" => Some(SourceKind::Pact),
            "har" => Some(SourceKind::Har),
            _ => None,
        }
    }
}

/// One generated flow file.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedFlow {
    /// File name, unique within the import (`get-pet-by-id.yaml`).
    pub file_name: String,
    /// The flow's `name`.
    pub name: String,
    /// What it was generated from (`GET /pets/{id}`, `Users/Create user`, an interaction).
    pub origin: String,
    /// Number of top-level steps.
    pub steps: usize,
    /// The file's text: a comment header, then the flow as YAML.
    pub yaml: String,
}

/// An input item the importer did not turn into a step, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The item (`GET /pets`, `Users/Login`, `entries[12] GET https://…/app.js`).
    pub item: String,
    /// Why.
    pub reason: String,
}

/// Something the importer could not translate inside an item it did import (a test script line,
/// an auth type), listed so the user can finish it by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untranslated {
    /// The item it belongs to.
    pub item: String,
    /// What was not translated.
    pub what: String,
}

/// The result of one import.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// What was read.
    pub kind: SourceKind,
    /// The input's title (API title, collection name, `consumer → provider`, HAR page title).
    pub title: String,
    /// The flows, in input order.
    pub flows: Vec<GeneratedFlow>,
    /// Items not imported.
    pub skipped: Vec<Skipped>,
    /// Parts of imported items that were not translated.
    pub untranslated: Vec<Untranslated>,
    file_names: HashSet<String>,
}

impl Import {
    /// An empty import of `kind`.
    pub fn new(kind: SourceKind, title: impl Into<String>) -> Import {
        Import {
            kind,
            title: title.into(),
            flows: Vec::new(),
            skipped: Vec::new(),
            untranslated: Vec::new(),
            file_names: HashSet::new(),
        }
    }

    /// Adds a flow (a JSON value in the flow format, `name` set) generated from `origin`. The flow
    /// is written as YAML under a header of `comments` (one `# ` line each) and validated exactly as
    /// `testmesh validate` does; a flow with errors is not added but recorded as skipped with the
    /// first error, so an import never offers a flow that cannot run.
    pub fn add_flow(&mut self, origin: impl Into<String>, flow: Value, comments: &[String]) {
        let origin = origin.into();
        let name = flow
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("imported flow")
            .to_string();
        let mut yaml = String::new();
        for comment in comments {
            for line in comment.lines() {
                yaml.push_str(if line.is_empty() { "#" } else { "# " });
                yaml.push_str(line);
                yaml.push('\n');
            }
        }
        if !comments.is_empty() {
            yaml.push('\n');
        }
        yaml.push_str(&testmesh_flow::to_yaml(&flow));
        let loaded = testmesh_flow::load_str(&yaml);
        if let Some(error) = loaded.errors().next() {
            self.skip(
                origin,
                format!(
                    "the generated flow is not valid ({} at line {}); please report this",
                    error.message, error.span.line
                ),
            );
            return;
        }
        let steps = flow
            .get("steps")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let file_name = self.unique_file_name(&name);
        self.flows.push(GeneratedFlow {
            file_name,
            name,
            origin,
            steps,
            yaml,
        });
    }

    /// Records an item that was not imported.
    pub fn skip(&mut self, item: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            item: item.into(),
            reason: reason.into(),
        });
    }

    /// Records a part of an imported item that was not translated.
    pub fn untranslated(&mut self, item: impl Into<String>, what: impl Into<String>) {
        self.untranslated.push(Untranslated {
            item: item.into(),
            what: what.into(),
        });
    }

    /// Total steps over all flows.
    pub fn step_count(&self) -> usize {
        self.flows.iter().map(|f| f.steps).sum()
    }

    /// The import as JSON (API responses, `--format json`, import history metadata).
    pub fn to_json(&self) -> Value {
        json!({
            "source_type": self.kind.as_str(),
            "title": self.title,
            "flows": self.flows.iter().map(|f| json!({
                "file_name": f.file_name,
                "name": f.name,
                "origin": f.origin,
                "steps": f.steps,
                "yaml": f.yaml,
            })).collect::<Vec<_>>(),
            "skipped": self.skipped.iter().map(|s| json!({"item": s.item, "reason": s.reason})).collect::<Vec<_>>(),
            "untranslated": self.untranslated.iter().map(|u| json!({"item": u.item, "what": u.what})).collect::<Vec<_>>(),
        })
    }

    fn unique_file_name(&mut self, name: &str) -> String {
        let base = slug(name, '-');
        let base = if base.is_empty() {
            "flow".to_string()
        } else {
            base
        };
        let mut candidate = format!("{base}.yaml");
        let mut n = 2;
        while !self.file_names.insert(candidate.clone()) {
            candidate = format!("{base}-{n}.yaml");
            n += 1;
        }
        candidate
    }
}

/// Lower-case ASCII letters and digits of `text`, runs of anything else turned into one
/// `separator`, at most 60 characters (`"Get pet by ID"` → `get-pet-by-id`).
pub fn slug(text: &str, separator: char) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with(separator) {
            out.push(separator);
        }
        if out.len() >= 60 {
            break;
        }
    }
    out.trim_end_matches(separator).to_string()
}

/// Step ids unique within one flow, made from names: lower-case, start with a letter, `a-z0-9_`,
/// at most 48 characters (`"Create user"` → `create_user`, then `create_user_2`).
#[derive(Debug, Default)]
pub struct StepIds {
    used: HashSet<String>,
}

impl StepIds {
    /// No ids used yet.
    pub fn new() -> StepIds {
        StepIds::default()
    }

    /// A fresh id for a step called `name`.
    pub fn next(&mut self, name: &str) -> String {
        let mut base = slug(name, '_');
        base.truncate(44);
        let base = base.trim_end_matches('_').to_string();
        let base = match base.chars().next() {
            Some(c) if c.is_ascii_lowercase() => base,
            Some(_) => format!("s_{base}"),
            None => "step".to_string(),
        };
        let mut candidate = base.clone();
        let mut n = 2;
        while !self.used.insert(candidate.clone()) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_valid_flows_with_unique_file_names_and_skips_invalid_ones() {
        let mut import = Import::new(SourceKind::Har, "t");
        let flow = json!({"name": "List pets", "steps": [{"id": "list", "action": "log", "config": {"message": "hi"}}]});
        import.add_flow("GET /pets", flow.clone(), &["Imported from t".into()]);
        import.add_flow("GET /pets", flow, &[]);
        import.add_flow(
            "bad",
            json!({"name": "Bad", "steps": [{"action": "nope"}]}),
            &[],
        );
        let names: Vec<_> = import.flows.iter().map(|f| f.file_name.as_str()).collect();
        assert_eq!(names, ["list-pets.yaml", "list-pets-2.yaml"]);
        assert!(
            import.flows[0]
                .yaml
                .starts_with("# Imported from t\n\nname: List pets\n")
        );
        assert_eq!(import.skipped.len(), 1);
        assert!(
            import.skipped[0].reason.contains("not valid"),
            "{:?}",
            import.skipped
        );
        assert_eq!(import.step_count(), 2);
    }

    #[test]
    fn step_ids_are_valid_and_unique() {
        let mut ids = StepIds::new();
        assert_eq!(ids.next("Create user"), "create_user");
        assert_eq!(ids.next("create-user!"), "create_user_2");
        assert_eq!(ids.next("123 go"), "s_123_go");
        assert_eq!(ids.next("¿?"), "step");
        assert_eq!(slug("Get pet by ID", '-'), "get-pet-by-id");
    }
}
