//! CRUD chains: for a collection path (`/pets`) with `POST` and an item path (`/pets/{petId}`) with
//! `GET`, one flow that creates an item, reads it back, updates it (`PUT`, else `PATCH`), deletes it
//! and, when `GET` documents a 404, checks it is gone. The id comes from the create response
//! (`output: {created_id: $.id}`) and fills the item path of the later steps.

use serde_json::{Value, json};

use super::super::model::Operation;
use super::negative::object_properties;
use super::request::{self, Request};
use super::{Cx, Draft, checks, origin};
use crate::output::{Import, StepIds};

/// The output holding the created item's id.
const CREATED_ID: &str = "created_id";

/// Adds a CRUD flow for every collection/item pair of `cx.api`, and a skip for every pair that
/// cannot be chained.
pub(crate) fn generate(cx: &Cx<'_>, import: &mut Import) {
    let ops = &cx.api.operations;
    let find = |path: &str, method: &str| {
        ops.iter()
            .find(|o| o.path == path && o.method.as_str() == method)
    };
    let mut seen: Vec<&str> = Vec::new();
    for create in ops.iter().filter(|o| o.method.as_str() == "POST") {
        let collection = create.path.as_str();
        if seen.contains(&collection) || collection.ends_with('}') {
            continue;
        }
        seen.push(collection);
        let Some((item_path, id_param)) = item_path(cx, collection) else {
            continue;
        };
        let item = format!("CRUD {collection}");
        let Some(read) = find(&item_path, "GET") else {
            import.skip(
                item,
                format!("{item_path} has no GET to read the created item back"),
            );
            continue;
        };
        match chain(cx, create, read, &item_path, &id_param, import) {
            Ok(draft) => draft.finish(cx, import),
            Err(reason) => import.skip(item, reason),
        }
    }
}

/// The item path of a collection: the collection and one `{param}` segment.
fn item_path(cx: &Cx<'_>, collection: &str) -> Option<(String, String)> {
    let prefix = format!("{}/", collection.trim_end_matches('/'));
    cx.api.operations.iter().find_map(|o| {
        let rest = o.path.strip_prefix(&prefix)?;
        let name = rest.strip_prefix('{')?.strip_suffix('}')?;
        (!name.contains(['{', '}', '/'])).then(|| (o.path.clone(), name.to_string()))
    })
}

fn chain(
    cx: &Cx<'_>,
    create: &Operation,
    read: &Operation,
    item_path: &str,
    id_param: &str,
    import: &mut Import,
) -> Result<Draft, String> {
    let collection = create.path.as_str();
    let thing = singular(last_literal(collection));
    let create_req = request::build(cx, create)
        .map_err(|reason| format!("{} cannot be generated: {reason}", origin(create)))?;
    let field = id_field(cx, create, &thing, id_param)?;

    let things = last_literal(collection).replace(['-', '_'], " ");
    let title = capitalise(&things);
    let mut draft = Draft::custom(
        format!("{title} CRUD"),
        format!("CRUD {collection}"),
        String::new(),
    );
    draft.tags.push("crud".into());
    let mut ids = StepIds::new();

    // Create.
    draft.note_request(import, create, &create_req);
    let mut step = create_req.step(&format!("Create {thing}"), &mut ids);
    checks::add_positive(cx, create, &create_req, &mut step, import);
    step.insert("output".into(), json!({ CREATED_ID: json_path(&field) }));
    draft.steps.push(Value::Object(step));

    // Read it back.
    let read_req = on_created(cx, read, id_param)?;
    draft.note_request(import, read, &read_req);
    let mut step = read_req.step(&format!("Read the {thing}"), &mut ids);
    checks::add_positive(cx, read, &read_req, &mut step, import);
    if is_word(&field)
        && let Some(Value::Array(asserts)) = step.get_mut("assert")
    {
        asserts.push(json!(format!("body.{field} == {CREATED_ID}")));
    }
    draft.steps.push(Value::Object(step));

    // Update.
    let ops = &cx.api.operations;
    let update = ops
        .iter()
        .find(|o| o.path == item_path && o.method.as_str() == "PUT")
        .or_else(|| {
            ops.iter()
                .find(|o| o.path == item_path && o.method.as_str() == "PATCH")
        });
    let mut updated = false;
    if let Some(update) = update {
        match on_created(cx, update, id_param) {
            Ok(req) => {
                updated = true;
                draft.note_request(import, update, &req);
                let mut step = req.step(&format!("Update the {thing}"), &mut ids);
                checks::add_positive(cx, update, &req, &mut step, import);
                draft.steps.push(Value::Object(step));
            }
            Err(reason) => import.untranslated(
                format!("CRUD {collection}"),
                format!("the update step is left out: {reason}"),
            ),
        }
    }

    // Delete, then check it is gone.
    let delete = ops
        .iter()
        .find(|o| o.path == item_path && o.method.as_str() == "DELETE");
    if let Some(delete) = delete {
        let req = on_created(cx, delete, id_param)?;
        draft.note_request(import, delete, &req);
        let mut step = req.step(&format!("Delete the {thing}"), &mut ids);
        checks::add_positive(cx, delete, &req, &mut step, import);
        draft.steps.push(Value::Object(step));
        if read.responses.iter().any(|r| r.code() == Some(404)) {
            let mut step = read_req.step(&format!("The {thing} is gone"), &mut ids);
            step.insert("assert".into(), json!(["status == 404"]));
            draft.steps.push(Value::Object(step));
        }
    }
    let mut verbs = vec!["Create", "read"];
    if updated {
        verbs.push("update");
    }
    if delete.is_some() {
        verbs.push("delete");
    }
    let verbs = match verbs.split_last() {
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    draft.set_description(format!(
        "{verbs} {} through {collection} and {item_path}",
        article(&thing)
    ));
    Ok(draft)
}

/// The request of `op` with its item parameter set to the created id.
fn on_created(cx: &Cx<'_>, op: &Operation, id_param: &str) -> Result<Request, String> {
    let mut req = request::build(cx, op)
        .map_err(|reason| format!("{} cannot be generated: {reason}", origin(op)))?;
    req.set_path_value(id_param, format!("${{{CREATED_ID}}}"));
    Ok(req)
}

/// The property of the create response holding the new item's id: the path parameter's name,
/// `id`, `<thing>Id` or `<thing>_id` (compared without case, `_` and `-`).
fn id_field(
    cx: &Cx<'_>,
    create: &Operation,
    thing: &str,
    id_param: &str,
) -> Result<String, String> {
    let expected = checks::expected(create);
    let schema = expected
        .response
        .and_then(|r| r.preferred_content())
        .filter(|m| m.is_json())
        .and_then(|m| m.schema.as_ref())
        .ok_or_else(|| {
            format!(
                "the {} response of {} has no JSON schema to find the created id in",
                expected.response.map_or("success", |r| r.status.as_str()),
                origin(create)
            )
        })?;
    let (props, _) = object_properties(&cx.api.document, schema);
    let norm = |s: &str| s.replace(['_', '-'], "").to_ascii_lowercase();
    let wanted = [
        norm(id_param),
        "id".to_string(),
        format!("{}id", norm(thing)),
    ];
    for want in &wanted {
        if let Some((name, _)) = props.iter().find(|(n, _)| norm(n) == *want) {
            return Ok(name.clone());
        }
    }
    Err(format!(
        "the response of {} has no id property ({id_param}, id, {thing}Id or {thing}_id) to use in the item path",
        origin(create)
    ))
}

/// The last segment of a path that is not a `{param}`.
fn last_literal(path: &str) -> &str {
    path.rsplit('/')
        .find(|s| !s.is_empty() && !s.starts_with('{'))
        .unwrap_or("item")
}

/// A naive English singular (`pets` → `pet`, `categories` → `category`, `boxes` → `box`).
fn singular(word: &str) -> String {
    let lower = word.to_string();
    if let Some(stem) = lower.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for ending in ["sses", "xes", "ches", "shes", "zes"] {
        if lower.ends_with(ending) {
            return lower[..lower.len() - 2].to_string();
        }
    }
    match lower.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') && !stem.ends_with('u') && !stem.is_empty() => {
            stem.to_string()
        }
        _ => lower,
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn article(thing: &str) -> String {
    let vowel = thing
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {thing}", if vowel { "an" } else { "a" })
}

/// A name usable as `body.<name>` in an expression.
fn is_word(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            name,
            "and"
                | "or"
                | "not"
                | "in"
                | "contains"
                | "matches"
                | "exists"
                | "is"
                | "null"
                | "nil"
                | "true"
                | "false"
        )
}

/// `$.id`, or `$['odd name']`.
fn json_path(name: &str) -> String {
    if is_word(name) {
        format!("$.{name}")
    } else {
        format!("$['{}']", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singulars() {
        assert_eq!(singular("pets"), "pet");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("status"), "status");
        assert_eq!(last_literal("/owners/{ownerId}/pets"), "pets");
        assert_eq!(json_path("id"), "$.id");
        assert_eq!(json_path("pet-id"), "$['pet-id']");
    }
}
