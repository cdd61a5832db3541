//! Postman collections (v2.0 and v2.1) as flows.
//!
//! Every folder holding requests becomes one flow (the collection's own top-level requests too);
//! nested folders get flows of their own. Requests become `http_request` steps in collection
//! order, so values a test script stores (`pm.environment.set("id", …)`) flow into later requests
//! as step outputs. Collection and folder variables become the flow's `env` (a folder's win over
//! the collection's), auth is inherited collection → folder → request, and the common `pm.test` /
//! `pm.expect` checks become assertions. Whatever is not translated — script lines, auth types,
//! file bodies — is listed in [`Import::untranslated`] and in the flow file's header.

mod js;
mod request;
mod script;
pub(crate) mod text;
mod vars;

pub(crate) use script::quote;

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use crate::ImportError;
use crate::output::{Import, SourceKind, StepIds, slug};
use crate::source::Source;

use vars::FlowVars;

/// Most steps a generated flow gets; longer folders are split into parts.
const MAX_STEPS: usize = 1000;

/// Imports a Postman collection (v2.0 or v2.1, optionally wrapped in `{"collection": …}` as the
/// Postman API returns it). Fails on input that is not such a collection (a v1 collection, an
/// unknown schema, `item` not a list, …) with the location; an empty collection gives an import
/// with no flows.
pub fn import(source: &Source) -> Result<Import, ImportError> {
    let root = source.root();
    let (collection, base) = match root.get("collection") {
        Some(inner) if inner.is_object() && root.get("info").is_none() => (inner, "/collection"),
        _ => (root, ""),
    };
    if !collection.is_object() {
        return Err(source.invalid(base, "a Postman collection is a JSON object"));
    }
    let version = version(source, collection, base)?;
    let info = collection.get("info");
    let name = info
        .and_then(|i| i.get("name"))
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or("Postman collection")
        .trim()
        .to_string();
    let mut import = Import::new(SourceKind::Postman, name.clone());
    let collection_level = Level {
        names: Vec::new(),
        label: name.clone(),
        vars: variables(source, collection, base)?,
        auth: auth_of(collection, &name, None),
        tests: scripts(source, collection, base, "test", &name)?,
        prerequest: scripts(source, collection, base, "prerequest", &name)?,
    };
    let mut folders = Vec::new();
    walk(
        source,
        collection,
        base,
        &collection_level,
        description(collection.get("info")),
        &mut folders,
        &mut import,
    )?;
    if folders.is_empty() {
        import.skip(name.as_str(), "the collection has no requests");
        return Ok(import);
    }
    let context = Context {
        collection: name,
        file: source.file().to_string(),
        version,
        set_by: set_by(&folders),
    };
    let mut reported = HashSet::new();
    for folder in &folders {
        for (part, requests) in folder.requests.chunks(MAX_STEPS).enumerate() {
            let flow = build_flow(
                source,
                &context,
                folder,
                requests,
                part,
                &mut import,
                &mut reported,
            )?;
            let Some((origin, flow, comments)) = flow else {
                continue;
            };
            import.add_flow(origin, flow, &comments);
        }
    }
    Ok(import)
}

/// Which collection version the input is; an error for v1 and unknown schemas.
fn version(source: &Source, collection: &Value, base: &str) -> Result<&'static str, ImportError> {
    let Some(info) = collection.get("info") else {
        let v1 = ["requests", "folders", "order"]
            .iter()
            .any(|k| collection.get(k).is_some());
        return Err(if v1 {
            source.invalid(
                base,
                "this is a Postman collection v1, which TestMesh does not read; export it from Postman as Collection v2.1",
            )
        } else {
            source.invalid(
                &format!("{base}/info"),
                "not a Postman collection: `info` is missing (expected a v2.0 or v2.1 collection)",
            )
        });
    };
    let pointer = format!("{base}/info/schema");
    let Some(schema) = info.get("schema").and_then(Value::as_str) else {
        return Err(source.invalid(
            &pointer,
            "`info.schema` is missing or not a string; it names the collection format (…/collection/v2.1.0/collection.json)",
        ));
    };
    if schema.contains("/v2.1") {
        Ok("v2.1")
    } else if schema.contains("/v2.0") {
        Ok("v2.0")
    } else if schema.contains("/v1") {
        Err(source.invalid(
            &pointer,
            "this is a Postman collection v1, which TestMesh does not read; export it from Postman as Collection v2.1",
        ))
    } else {
        Err(source.invalid(
            &pointer,
            format!("unsupported collection schema `{schema}`; TestMesh reads Postman collections v2.0 and v2.1"),
        ))
    }
}

/// What a folder (or the collection) passes down to its items.
#[derive(Debug, Clone)]
struct Level {
    /// Folder names from the collection root.
    names: Vec<String>,
    /// `Collection/Folder/Sub`, for listings.
    label: String,
    /// Variables in force, in definition order (later entries win).
    vars: Vec<(String, Value)>,
    /// The auth in force (`None`: no auth) and the label of where it was set.
    auth: Option<(Value, String)>,
    tests: Vec<Script>,
    prerequest: Vec<Script>,
}

/// A script and the label of the item that owns it.
#[derive(Debug, Clone)]
struct Script {
    owner: String,
    text: String,
}

/// A folder with requests of its own.
#[derive(Debug)]
struct Folder<'a> {
    level: Level,
    description: Option<String>,
    requests: Vec<RequestItem<'a>>,
}

/// One request and what it inherits.
#[derive(Debug)]
struct RequestItem<'a> {
    name: String,
    label: String,
    pointer: String,
    item: &'a Value,
    auth: Option<(Value, String)>,
    tests: Vec<Script>,
    prerequest: Vec<Script>,
}

/// Collects folders with requests, depth first, the folder's own flow before its sub-folders'.
fn walk<'a>(
    source: &Source,
    container: &'a Value,
    pointer: &str,
    level: &Level,
    folder_description: Option<String>,
    folders: &mut Vec<Folder<'a>>,
    import: &mut Import,
) -> Result<(), ImportError> {
    let items_pointer = format!("{pointer}/item");
    let items = match container.get("item") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(source.invalid(
                &items_pointer,
                "`item` must be a list of requests and folders",
            ));
        }
    };
    let mut here = Folder {
        level: level.clone(),
        description: folder_description,
        requests: Vec::new(),
    };
    let mut sub_folders = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_pointer = format!("{items_pointer}/{i}");
        if !item.is_object() {
            return Err(source.invalid(
                &item_pointer,
                "an item must be an object (a request with `request`, or a folder with `item`)",
            ));
        }
        let name = match item.get("name") {
            None | Some(Value::Null) => format!("Request {}", i + 1),
            Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_string(),
            Some(Value::String(_)) => format!("Request {}", i + 1),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                return Err(
                    source.invalid(&format!("{item_pointer}/name"), "`name` must be a string")
                );
            }
        };
        let label = format!("{}/{name}", level.label);
        if item.get("disabled").and_then(Value::as_bool) == Some(true) {
            import.skip(label, "the item is disabled");
            continue;
        }
        if item.get("item").is_some() {
            let mut names = level.names.clone();
            names.push(name.clone());
            let mut vars = level.vars.clone();
            vars.extend(variables(source, item, &item_pointer)?);
            let mut tests = level.tests.clone();
            tests.extend(scripts(source, item, &item_pointer, "test", &label)?);
            let mut prerequest = level.prerequest.clone();
            prerequest.extend(scripts(source, item, &item_pointer, "prerequest", &label)?);
            let child = Level {
                names,
                vars,
                auth: auth_of(item, &label, level.auth.clone()),
                tests,
                prerequest,
                label,
            };
            sub_folders.push((item, item_pointer, child, description(Some(item))));
        } else if item.get("request").is_some() {
            let mut tests = level.tests.clone();
            tests.extend(scripts(source, item, &item_pointer, "test", &label)?);
            let mut prerequest = level.prerequest.clone();
            prerequest.extend(scripts(source, item, &item_pointer, "prerequest", &label)?);
            let request = item.get("request");
            let auth = match request.filter(|r| r.is_object()) {
                Some(r) => auth_of(r, &label, level.auth.clone()),
                None => level.auth.clone(),
            };
            if item
                .get("variable")
                .and_then(Value::as_array)
                .is_some_and(|v| !v.is_empty())
            {
                import.untranslated(
                    label.as_str(),
                    "request-level variables (`variable`) are not translated; move them to the folder",
                );
            }
            here.requests.push(RequestItem {
                name,
                label,
                pointer: item_pointer,
                item,
                auth,
                tests,
                prerequest,
            });
        } else {
            import.skip(label, "the item has neither `request` nor `item`");
        }
    }
    if !here.requests.is_empty() {
        folders.push(here);
    }
    for (item, item_pointer, child, child_description) in sub_folders {
        walk(
            source,
            item,
            &item_pointer,
            &child,
            child_description,
            folders,
            import,
        )?;
    }
    Ok(())
}

/// A `description` (a string, or `{content}`), when present.
fn description(item: Option<&Value>) -> Option<String> {
    let d = item?.get("description")?;
    let text = d
        .as_str()
        .or_else(|| d.get("content").and_then(Value::as_str))?;
    let text = text.trim();
    (!text.is_empty()).then(|| truncate(text, 1000))
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars().take(max - 1).collect::<String>() + "…"
    }
}

/// The enabled `variable` entries of a collection or folder.
fn variables(
    source: &Source,
    owner: &Value,
    pointer: &str,
) -> Result<Vec<(String, Value)>, ImportError> {
    let list = match owner.get("variable") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(source.invalid(
                &format!("{pointer}/variable"),
                "`variable` must be a list of {key, value}",
            ));
        }
    };
    let mut out = Vec::new();
    for (i, var) in list.iter().enumerate() {
        if var.get("disabled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let key = var
            .get("key")
            .or_else(|| var.get("id"))
            .and_then(Value::as_str)
            .filter(|k| !k.trim().is_empty());
        let Some(key) = key else {
            return Err(source.invalid(
                &format!("{pointer}/variable/{i}"),
                "a variable needs a `key`",
            ));
        };
        let value = var.get("value").cloned().unwrap_or(Value::Null);
        out.push((key.trim().to_string(), value));
    }
    Ok(out)
}

/// The scripts of one kind (`test`, `prerequest`) in an item's `event` list.
fn scripts(
    source: &Source,
    owner: &Value,
    pointer: &str,
    listen: &str,
    label: &str,
) -> Result<Vec<Script>, ImportError> {
    let events = match owner.get("event") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(events)) => events,
        Some(_) => {
            return Err(source.invalid(&format!("{pointer}/event"), "`event` must be a list"));
        }
    };
    let mut out = Vec::new();
    for (i, event) in events.iter().enumerate() {
        if event.get("listen").and_then(Value::as_str) != Some(listen)
            || event.get("disabled").and_then(Value::as_bool) == Some(true)
        {
            continue;
        }
        let exec = event.get("script").and_then(|s| s.get("exec"));
        let text = match exec {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(lines)) => {
                let mut text = String::new();
                for (j, line) in lines.iter().enumerate() {
                    let Some(line) = line.as_str() else {
                        return Err(source.invalid(
                            &format!("{pointer}/event/{i}/script/exec/{j}"),
                            "script lines must be strings",
                        ));
                    };
                    text.push_str(line);
                    text.push('\n');
                }
                text
            }
            Some(_) => {
                return Err(source.invalid(
                    &format!("{pointer}/event/{i}/script/exec"),
                    "`exec` must be a list of lines or a string",
                ));
            }
        };
        if !text.trim().is_empty() {
            out.push(Script {
                owner: label.to_string(),
                text,
            });
        }
    }
    Ok(out)
}

/// The auth in force for an item: its own `auth` (`noauth` → none), or the inherited one.
fn auth_of(
    owner: &Value,
    label: &str,
    inherited: Option<(Value, String)>,
) -> Option<(Value, String)> {
    match owner.get("auth") {
        None | Some(Value::Null) => inherited,
        Some(auth) => match auth.get("type").and_then(Value::as_str) {
            Some("inherit") | None => inherited,
            Some("noauth") => None,
            Some(_) => Some((auth.clone(), label.to_string())),
        },
    }
}

/// Import-wide facts the flows need.
struct Context {
    collection: String,
    file: String,
    version: &'static str,
    /// Variables stored by test scripts → the folder label of the first script storing them.
    set_by: BTreeMap<String, String>,
}

/// Which folder's scripts store which variables.
fn set_by(folders: &[Folder<'_>]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for folder in folders {
        for request in &folder.requests {
            for test in &request.tests {
                let translation = script::translate(&test.text, &|_| None);
                for (name, _) in translation.outputs {
                    out.entry(vars::sanitize(&name).0)
                        .or_insert_with(|| folder.level.label.clone());
                }
            }
        }
    }
    out
}

/// The flow of one folder (or one part of it): `(origin, flow, header comments)`.
fn build_flow(
    source: &Source,
    context: &Context,
    folder: &Folder<'_>,
    requests: &[RequestItem<'_>],
    part: usize,
    import: &mut Import,
    reported: &mut HashSet<(String, String)>,
) -> Result<Option<(String, Value, Vec<String>)>, ImportError> {
    let level = &folder.level;
    let mut flow_vars = FlowVars::new(&level.vars, &level.label, &context.set_by);
    let mut ids = StepIds::new();
    let mut steps = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut note = |import: &mut Import, item: &str, what: String, notes: &mut Vec<String>| {
        if reported.insert((item.to_string(), what.clone())) {
            import.untranslated(item, what.as_str());
        }
        let line = format!("{item}: {what}");
        if !notes.contains(&line) {
            notes.push(line);
        }
    };
    for request in requests {
        for script in &request.prerequest {
            for line in script.text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with("//") {
                    continue;
                }
                note(
                    import,
                    &script.owner,
                    format!("pre-request script: {line}"),
                    &mut notes,
                );
            }
        }
        let built = match request::build(source, request, &mut flow_vars)? {
            request::Built::Step(built) => built,
            request::Built::Skip(reason) => {
                import.skip(request.label.as_str(), reason);
                continue;
            }
        };
        for what in built.notes {
            note(import, &request.label, what, &mut notes);
        }
        let id = ids.next(&request.name);
        let mut step = Map::new();
        step.insert("id".into(), json!(id));
        step.insert("name".into(), json!(truncate(&request.name, 255)));
        if let Some(d) = built.description {
            step.insert("description".into(), json!(d));
        }
        step.insert("action".into(), json!("http_request"));
        step.insert("config".into(), Value::Object(built.config));
        let mut asserts = Vec::new();
        let mut outputs = Map::new();
        for test in &request.tests {
            let translation = script::translate(&test.text, &|name| flow_vars.expression(name));
            for assertion in translation.asserts {
                // Collection, folder and request scripts often check the same thing.
                let assertion = Value::String(assertion);
                if !asserts.contains(&assertion) {
                    asserts.push(assertion);
                }
            }
            for (name, path) in translation.outputs {
                let key = flow_vars.output(&name, &id);
                outputs.insert(key, Value::String(path));
            }
            for line in translation.untranslated {
                note(
                    import,
                    &test.owner,
                    format!("test script: {line}"),
                    &mut notes,
                );
            }
        }
        if !asserts.is_empty() {
            step.insert("assert".into(), Value::Array(asserts));
        }
        if !outputs.is_empty() {
            step.insert("output".into(), Value::Object(outputs));
        }
        steps.push(Value::Object(step));
    }
    for (item, what) in flow_vars.notes() {
        note(import, &item, what, &mut notes);
    }
    if steps.is_empty() {
        return Ok(None);
    }
    let mut name = if level.names.is_empty() {
        context.collection.clone()
    } else {
        format!("{} / {}", context.collection, level.names.join(" / "))
    };
    if part > 0 || folder.requests.len() > MAX_STEPS {
        name = format!("{name} (part {})", part + 1);
    }
    let mut flow = Map::new();
    flow.insert("name".into(), json!(truncate(&name, 255)));
    let description = folder.description.clone().unwrap_or_else(|| {
        if level.names.is_empty() {
            format!("Requests of the Postman collection {}", context.collection)
        } else {
            format!("Requests of the folder {}", level.names.join(" / "))
        }
    });
    flow.insert("description".into(), json!(description));
    let suite = slug(&context.collection, '-');
    if !suite.is_empty() {
        flow.insert("suite".into(), json!(suite));
    }
    let mut tags = vec!["postman".to_string()];
    for folder_name in &level.names {
        let tag = slug(folder_name, '-');
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    flow.insert("tags".into(), json!(tags));
    let env = flow_vars.env();
    if !env.is_empty() {
        flow.insert("env".into(), Value::Object(env));
    }
    flow.insert("steps".into(), Value::Array(steps));
    let mut comments = vec![format!(
        "Imported from the Postman collection \"{}\" ({}, {}){}.",
        context.collection,
        context.file,
        context.version,
        if level.names.is_empty() {
            String::new()
        } else {
            format!(", folder \"{}\"", level.names.join(" / "))
        }
    )];
    if !notes.is_empty() {
        comments.push("Not translated (finish by hand):".into());
        comments.extend(notes.into_iter().map(|n| format!("- {n}")));
    }
    let origin = level.label.clone();
    Ok(Some((origin, Value::Object(flow), comments)))
}
