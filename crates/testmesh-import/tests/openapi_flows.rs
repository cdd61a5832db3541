//! Flows generated from OpenAPI documents, run for real: a clinic API served on 127.0.0.1 (stateful,
//! validating every request against its document, bearer-protected) must pass every positive,
//! negative and CRUD flow generated from its document, and a lax server that accepts anything must
//! fail every negative step. Plus grouping, value choice, auth mapping, deprecated operations, 204
//! responses and skip reasons, and every generated flow of every fixture loading without errors or
//! warnings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};
use testmesh_import::openapi::flows::{FlowOptions, GroupBy, generate};
use testmesh_import::openapi::{MockOptions, OpenApi, Rejection, ValidationRequest, Validator};
use testmesh_import::{GeneratedFlow, Import, Source};
use testmesh_runner::{FlowRecord, FlowStatus, StepStatus};

mod common;

const TOKEN: &str = "secret-token";

fn load(name: &str) -> OpenApi {
    OpenApi::load(&common::fixture_path(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn parse(text: &str) -> OpenApi {
    OpenApi::parse(text, "inline.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn options(group_by: GroupBy, negative: bool, crud: bool) -> FlowOptions {
    FlowOptions {
        group_by,
        negative,
        crud,
    }
}

/// There are flows, and every one loads as `testmesh validate` loads it, without errors or
/// warnings.
fn assert_clean(import: &Import) {
    assert!(!import.flows.is_empty(), "no flows: {:?}", import.skipped);
    common::assert_clean(import);
}

/// The flow as JSON.
fn value(flow: &GeneratedFlow) -> Value {
    Source::parse(&flow.yaml, &flow.file_name)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_root()
}

fn flow<'a>(import: &'a Import, name: &str) -> &'a GeneratedFlow {
    import
        .flows
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| {
            let names: Vec<_> = import.flows.iter().map(|f| &f.name).collect();
            panic!("no flow {name:?} among {names:?}")
        })
}

fn first_step(import: &Import, name: &str) -> Value {
    value(flow(import, name))["steps"][0].clone()
}

// ---------------------------------------------------------------------------------------------
// The clinic: a real, stateful implementation of tests/fixtures/flows/clinic.yaml.

#[derive(Default)]
struct Data {
    pets: BTreeMap<i64, Value>,
    owners: BTreeMap<i64, Value>,
    next_pet: i64,
    next_owner: i64,
}

struct Clinic {
    api: OpenApi,
    validator: Validator,
    data: Mutex<Data>,
}

const CREATED_AT: &str = "2024-05-01T10:00:00Z";

impl Clinic {
    fn new() -> Clinic {
        let api = load("flows/clinic.yaml");
        let validator = Validator::new(&api, &MockOptions::default()).unwrap();
        let mut data = Data {
            next_pet: 3,
            next_owner: 2,
            ..Data::default()
        };
        data.pets.insert(
            1,
            json!({"id": 1, "createdAt": CREATED_AT, "name": "Rex", "species": "dog", "age": 3,
                   "details": {"species": "dog", "breed": "collie"}}),
        );
        data.pets.insert(
            2,
            json!({"id": 2, "createdAt": CREATED_AT, "name": "Tom", "species": "cat", "nickname": null,
                   "details": {"species": "cat", "lives": 9}}),
        );
        data.owners.insert(
            1,
            json!({"id": 1, "name": "Ann", "email": "ann@example.com", "age": 40}),
        );
        Clinic {
            api,
            validator,
            data: Mutex::new(data),
        }
    }
}

fn error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap();
    (code, Json(json!({"code": status, "message": message}))).into_response()
}

fn rejected(rejection: Rejection) -> Response {
    error(rejection.status, &rejection.errors.join("; "))
}

fn ok(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Routes, authenticates and validates every request against the document (404, 405, 401, 400,
/// 415, 422), then serves it from the data.
async fn clinic(
    State(clinic): State<Arc<Clinic>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let (index, params) = match clinic.validator.route(&method, &path) {
        Ok(found) => found,
        Err(rejection) => return rejected(rejection),
    };
    let op_id = clinic.api.operations[index]
        .operation_id
        .clone()
        .unwrap_or_default();
    let public = matches!(op_id.as_str(), "listOwners" | "health");
    let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    if !public && bearer != Some(&format!("Bearer {TOKEN}")) {
        return error(401, "a bearer token is required");
    }
    let request = ValidationRequest {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        headers: headers.clone(),
        body: body.clone(),
    };
    if let Err(rejection) = clinic.validator.validate(&request) {
        return rejected(rejection);
    }
    let id = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let query_value = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut data = clinic.data.lock().unwrap();
    match op_id.as_str() {
        "health" => ([(CONTENT_TYPE, "text/plain")], "ok").into_response(),
        "listPets" => {
            let limit = query_value("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(100);
            let species = query_value("species");
            let items: Vec<Value> = data
                .pets
                .values()
                .filter(|p| species.as_deref().is_none_or(|s| p["species"] == s))
                .take(limit)
                .cloned()
                .collect();
            let total = items.len();
            ok(StatusCode::OK, json!({"items": items, "total": total}))
        }
        "createPet" => {
            let mut pet: Value = serde_json::from_slice(&body).unwrap();
            let id = data.next_pet;
            data.next_pet += 1;
            pet["id"] = json!(id);
            pet["createdAt"] = json!(CREATED_AT);
            data.pets.insert(id, pet.clone());
            ok(StatusCode::CREATED, pet)
        }
        "getPet" => match data.pets.get(&id("petId")) {
            Some(pet) => ok(StatusCode::OK, pet.clone()),
            None => error(404, "no such pet"),
        },
        "updatePet" => {
            let id = id("petId");
            if !data.pets.contains_key(&id) {
                return error(404, "no such pet");
            }
            let mut pet: Value = serde_json::from_slice(&body).unwrap();
            pet["id"] = json!(id);
            pet["createdAt"] = json!(CREATED_AT);
            data.pets.insert(id, pet.clone());
            ok(StatusCode::OK, pet)
        }
        "deletePet" => match data.pets.remove(&id("petId")) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => error(404, "no such pet"),
        },
        "listVisits" => {
            if !data.pets.contains_key(&id("petId")) {
                return error(404, "no such pet");
            }
            ok(
                StatusCode::OK,
                json!([{"id": 7, "at": "2024-04-02T09:30:00Z", "reason": "vaccination"}]),
            )
        }
        "listOwners" => ok(
            StatusCode::OK,
            Value::Array(data.owners.values().cloned().collect()),
        ),
        "createOwner" => {
            let mut owner = json!({});
            for (key, value) in url::form_urlencoded::parse(&body) {
                owner[key.as_ref()] = match key.as_ref() {
                    "age" => json!(value.parse::<i64>().unwrap()),
                    _ => json!(value),
                };
            }
            let id = data.next_owner;
            data.next_owner += 1;
            owner["id"] = json!(id);
            data.owners.insert(id, owner.clone());
            ok(StatusCode::CREATED, owner)
        }
        "getOwner" => match data.owners.get(&id("ownerId")) {
            Some(owner) => {
                let mut owner = owner.clone();
                let pets: Vec<Value> = data.pets.get(&1).cloned().into_iter().collect();
                owner["pets"] = json!(pets);
                ok(StatusCode::OK, owner)
            }
            None => error(404, "no such owner"),
        },
        other => error(500, &format!("not implemented: {other}")),
    }
}

/// Starts a fresh clinic (or, `lax`, a server that answers every request with 200 `{}`) and
/// returns the `BASE_URL` to use.
async fn serve(lax: bool) -> String {
    let router = if lax {
        Router::new().fallback(|| async { Json(json!({})) })
    } else {
        Router::new()
            .fallback(clinic)
            .with_state(Arc::new(Clinic::new()))
    };
    format!("{}/api", common::serve(router).await)
}

async fn run(flow: &GeneratedFlow, base_url: &str) -> FlowRecord {
    let vars = [("BASE_URL", json!(base_url)), ("API_TOKEN", json!(TOKEN))];
    common::run(&common::load_clean(&flow.yaml), &vars).await
}

fn failures(record: &FlowRecord) -> Vec<String> {
    record
        .all_steps()
        .into_iter()
        .filter(|s| s.status != StepStatus::Passed)
        .map(|s| {
            format!(
                "{} ({:?}): {}",
                s.id,
                s.status,
                s.error.as_ref().map(|e| e.message.as_str()).unwrap_or("")
            )
        })
        .collect()
}

/// Runs every flow against its own fresh clinic; all must pass.
async fn all_pass(import: &Import) {
    for flow in &import.flows {
        let base = serve(false).await;
        let record = run(flow, &base).await;
        assert_eq!(
            record.status,
            FlowStatus::Passed,
            "{} failed: {:#?}\n{}",
            flow.file_name,
            failures(&record),
            flow.yaml
        );
        assert!(!record.all_steps().is_empty());
    }
}

#[tokio::test]
async fn positive_flows_pass_against_the_clinic() {
    let api = load("flows/clinic.yaml");
    let import = generate(&api, &options(GroupBy::Operation, false, false));
    assert_clean(&import);
    assert_eq!(import.flows.len(), api.operations.len());
    assert!(import.skipped.is_empty(), "{:?}", import.skipped);
    all_pass(&import).await;
    // The assertions bite: a server answering 200 `{}` to everything passes none of them (wrong
    // status, content type or body for every operation).
    for flow in &import.flows {
        let base = serve(true).await;
        let record = run(flow, &base).await;
        assert_eq!(record.status, FlowStatus::Failed, "{}", flow.name);
    }
}

#[tokio::test]
async fn tag_flows_pass_against_the_clinic() {
    let api = load("flows/clinic.yaml");
    let import = generate(&api, &options(GroupBy::Tag, false, false));
    assert_clean(&import);
    all_pass(&import).await;
}

#[tokio::test]
async fn crud_flows_pass_against_the_stateful_clinic() {
    let api = load("flows/clinic.yaml");
    let import = generate(&api, &options(GroupBy::Operation, false, true));
    assert_clean(&import);
    let crud: Vec<&GeneratedFlow> = import
        .flows
        .iter()
        .filter(|f| f.origin.starts_with("CRUD "))
        .collect();
    let names: Vec<&str> = crud.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Pets CRUD", "Owners CRUD"]);

    let pets = value(crud[0]);
    let ids: Vec<&str> = pets["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "create_pet",
            "read_the_pet",
            "update_the_pet",
            "delete_the_pet",
            "the_pet_is_gone"
        ]
    );
    assert_eq!(pets["steps"][0]["output"], json!({"created_id": "$.id"}));
    assert_eq!(
        pets["steps"][1]["config"]["url"],
        "${BASE_URL}/pets/${created_id}"
    );
    assert_eq!(pets["steps"][4]["assert"], json!(["status == 404"]));
    // Owners have no update or delete: create and read only.
    assert_eq!(value(crud[1])["steps"].as_array().unwrap().len(), 2);

    for flow in &crud {
        let base = serve(false).await;
        let record = run(flow, &base).await;
        assert_eq!(
            record.status,
            FlowStatus::Passed,
            "{}: {:#?}\n{}",
            flow.name,
            failures(&record),
            flow.yaml
        );
        // The created item, not a seeded one, went through the chain.
        let create = record.all_steps()[0].clone();
        assert!(create.outputs["created_id"].as_i64().unwrap() >= 2);
    }

    // Against a server that never deletes anything, the last read finds the pet still there.
    let base = serve(true).await;
    let record = run(crud[0], &base).await;
    assert_eq!(record.status, FlowStatus::Failed);
}

#[tokio::test]
async fn negative_flows_fail_against_a_lax_server_and_pass_against_the_clinic() {
    let api = load("flows/clinic.yaml");
    let import = generate(&api, &options(GroupBy::Operation, true, false));
    assert_clean(&import);
    let negative: Vec<&GeneratedFlow> = import
        .flows
        .iter()
        .filter(|f| f.name.ends_with(" (negative)"))
        .collect();
    // Every operation has something to violate (a parameter, a body, or its path's methods).
    assert!(negative.len() >= 8, "{}", negative.len());

    let mut checks: BTreeMap<String, usize> = BTreeMap::new();
    for flow in &negative {
        for step in value(flow)["steps"].as_array().unwrap() {
            assert_eq!(step["assert"], json!(["status >= 400 && status < 500"]));
            *checks
                .entry(step["tags"][0].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    for check in [
        "negative_data_rejection",
        "missing_required_header",
        "invalid_parameter",
        "unsupported_method",
    ] {
        assert!(checks.contains_key(check), "no {check} step: {checks:?}");
    }
    // One unsupported-method step per path.
    assert_eq!(checks["unsupported_method"], 6);

    let mut steps = 0;
    for flow in &negative {
        // Lax: everything is accepted, so every single step fails.
        let base = serve(true).await;
        let record = run(flow, &base).await;
        assert_eq!(record.status, FlowStatus::Failed, "{}", flow.name);
        for step in record.all_steps() {
            assert_eq!(
                step.status,
                StepStatus::Failed,
                "{}: {} passed against the lax server",
                flow.name,
                step.id
            );
            steps += 1;
        }
        // Strict: the clinic refuses every one of them with a 4xx.
        let base = serve(false).await;
        let record = run(flow, &base).await;
        assert_eq!(
            record.status,
            FlowStatus::Passed,
            "{}: {:#?}\n{}",
            flow.name,
            failures(&record),
            flow.yaml
        );
    }
    assert!(steps >= 25, "{steps} negative steps");
}

#[tokio::test]
async fn negative_tag_flows_pass_against_the_clinic() {
    let api = load("flows/clinic.yaml");
    let import = generate(&api, &options(GroupBy::Tag, true, true));
    assert_clean(&import);
    let names: Vec<&str> = import.flows.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "pets",
            "owners",
            "Pet Clinic API",
            "pets (negative)",
            "owners (negative)",
            "Pet Clinic API (negative)",
            "Pets CRUD",
            "Owners CRUD"
        ]
    );
    all_pass(&import).await;
}

// ---------------------------------------------------------------------------------------------
// What the flows contain.

#[test]
fn flows_name_requests_assertions_and_variables() {
    let api = load("flows/clinic.yaml");
    let import = generate(&api, &FlowOptions::default());
    let list = value(flow(&import, "List pets"));
    assert_eq!(list["suite"], "pet-clinic-api");
    assert_eq!(list["tags"], json!(["pets"]));
    assert_eq!(
        list["env"],
        json!({"BASE_URL": "http://clinic.example.com/api", "API_TOKEN": ""})
    );
    let step = &list["steps"][0];
    assert_eq!(step["action"], "http_request");
    assert_eq!(
        step["config"],
        json!({
            "method": "GET",
            "url": "${BASE_URL}/pets",
            // Required header always; optional query parameters only with an example.
            "headers": {"X-Request-Id": "095be615-a8ad-4c33-8e9c-c7612fbf6c9f"},
            "params": {"limit": 10},
            "auth": {"type": "bearer", "token": "${API_TOKEN}"}
        })
    );
    assert_eq!(step["assert"][0], "status == 200");
    assert_eq!(
        step["assert"][1],
        "headers[\"content-type\"] contains 'application/json'"
    );
    let schema = &step["assert"][2]["body matches_schema"];
    assert!(schema["$defs"].is_object(), "{schema}");
    assert!(schema.get("$schema").is_none());

    let text = &flow(&import, "List pets").yaml;
    assert!(text.starts_with("# Generated by `testmesh import openapi` from "));
    assert!(text.contains("# API: Pet Clinic API 2.1\n"));
    assert!(text.contains("# Operation: GET /pets (listPets)\n"));
    assert!(text.contains("#   API_TOKEN: bearer token (scheme `bearerAuth`)\n"));

    // A public operation (`security: []`) sends no credentials and declares none.
    let owners = value(flow(&import, "List owners"));
    assert!(owners["steps"][0]["config"].get("auth").is_none());
    assert_eq!(
        owners["env"],
        json!({"BASE_URL": "http://clinic.example.com/api"})
    );

    // The form body, and a text response checked by its content type only.
    let register = first_step(&import, "Register an owner");
    assert_eq!(
        register["config"]["form"],
        json!({"name": "string", "email": "user@example.com", "age": 18})
    );
    assert!(register["config"].get("headers").is_none());
    let health = first_step(&import, "health");
    assert_eq!(
        health["assert"],
        json!([
            "status == 200",
            "headers[\"content-type\"] contains 'text/plain'"
        ])
    );
}

#[test]
fn no_body_assertions_for_204_and_head() {
    let api = parse(
        r#"
openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /things/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    head:
      responses:
        '200':
          description: exists
          content: {application/json: {schema: {type: object}}}
    delete:
      responses:
        '204': {description: gone}
  /only-default:
    get:
      responses:
        default:
          description: whatever
          content: {application/json: {schema: {type: object, required: [x]}}}
  /ranges:
    get:
      responses:
        '2XX':
          description: fine
"#,
    );
    let import = generate(&api, &FlowOptions::default());
    assert_clean(&import);
    assert_eq!(
        first_step(&import, "HEAD /things/{id}")["assert"],
        json!(["status == 200"])
    );
    assert_eq!(
        first_step(&import, "DELETE /things/{id}")["assert"],
        json!(["status == 204"])
    );
    assert_eq!(
        first_step(&import, "GET /only-default")["assert"],
        json!(["status < 400"])
    );
    assert_eq!(
        first_step(&import, "GET /ranges")["assert"],
        json!(["status >= 200 && status < 300"])
    );
    // No server: localhost with the base path (none here).
    assert_eq!(
        value(flow(&import, "GET /ranges"))["env"]["BASE_URL"],
        "http://localhost:8080"
    );
}

#[test]
fn bodies_use_valid_examples_first_then_generated_values() {
    let api = parse(
        r#"
openapi: 3.1.0
info: {title: Values, version: "1"}
servers: [{url: /v2}]
paths:
  /media-example:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Item'}
            example: {name: from-media, size: 2}
            examples:
              other: {value: {name: from-examples, size: 3}}
      responses: {'200': {description: ok}}
  /named-example:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Item'}
            examples:
              first: {value: {name: from-examples, size: 3}}
      responses: {'200': {description: ok}}
  /invalid-example:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Item'}
            example: {name: too-big, size: 1000}
      responses: {'200': {description: ok}}
  /schema-example:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string, examples: [from-schema]}
                note: {type: string, example: 'costs $${PRICE} {{x}}'}
      responses: {'200': {description: ok}}
  /text:
    post:
      requestBody:
        content:
          text/plain:
            schema: {type: string, example: hello}
      responses: {'200': {description: ok}}
  /json-string:
    post:
      requestBody:
        content:
          application/merge-patch+json:
            schema: {type: string}
      responses: {'200': {description: ok}}
components:
  schemas:
    Item:
      type: object
      required: [name, size]
      properties:
        name: {type: string}
        size: {type: integer, maximum: 10}
"#,
    );
    let import = generate(&api, &FlowOptions::default());
    assert_clean(&import);
    let body = |name: &str| first_step(&import, name)["config"]["body"].clone();
    assert_eq!(
        body("POST /media-example"),
        json!({"name": "from-media", "size": 2})
    );
    assert_eq!(
        body("POST /named-example"),
        json!({"name": "from-examples", "size": 3})
    );
    // The example breaks `maximum: 10`: a generated value is sent instead.
    assert_eq!(
        body("POST /invalid-example"),
        json!({"name": "string", "size": 0})
    );
    // `${` is escaped so it is sent as written; `{{` cannot be and is reported.
    assert_eq!(
        body("POST /schema-example"),
        json!({"name": "from-schema", "note": "costs $$${PRICE} { {x}}"})
    );
    assert!(
        import
            .untranslated
            .iter()
            .any(|u| u.item == "POST /schema-example" && u.what.contains("{{")),
        "{:?}",
        import.untranslated
    );
    let text = first_step(&import, "POST /text");
    assert_eq!(text["config"]["body"], "hello");
    assert_eq!(
        text["config"]["headers"],
        json!({"Content-Type": "text/plain"})
    );
    // A JSON string body goes out JSON-encoded, with its own media type.
    let string = first_step(&import, "POST /json-string");
    assert_eq!(string["config"]["body"], "\"string\"");
    assert_eq!(
        string["config"]["headers"],
        json!({"Content-Type": "application/merge-patch+json"})
    );
    // A relative server: localhost plus its path.
    assert_eq!(
        value(flow(&import, "POST /text"))["env"]["BASE_URL"],
        "http://localhost:8080/v2"
    );
}

#[test]
fn parameters_follow_their_styles() {
    let api = parse(
        r#"
openapi: 3.0.3
info: {title: Styles, version: "1"}
paths:
  /search/{ids}:
    get:
      parameters:
        - {name: ids, in: path, required: true, schema: {type: array, items: {type: integer}}, example: [1, 2]}
        - {name: tag, in: query, required: true, schema: {type: array, items: {type: string}}, example: [a, b]}
        - {name: csv, in: query, required: true, explode: false, schema: {type: array, items: {type: string}}, example: [a, b]}
        - {name: filter, in: query, required: true, style: deepObject, schema: {type: object}, example: {age: 3}}
        - {name: q, in: query, required: true, schema: {type: string}, example: 'a b/c'}
        - {name: skip, in: query, schema: {type: integer}}
        - {name: session, in: cookie, required: true, schema: {type: string}, example: abc}
        - {name: Accept, in: header, required: true, schema: {type: string}}
      responses: {'204': {description: ok}}
  /files/{name}:
    get:
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}, example: 'a b/${x}'}
      responses: {'204': {description: ok}}
"#,
    );
    let import = generate(&api, &FlowOptions::default());
    assert_clean(&import);
    let step = first_step(&import, "GET /search/{ids}");
    assert_eq!(
        step["config"],
        json!({
            "method": "GET",
            "url": "${BASE_URL}/search/1,2",
            "params": {"tag": ["a", "b"], "csv": "a,b", "filter[age]": 3, "q": "a b/c"},
            "cookies": {"session": "abc"}
        })
    );
    assert_eq!(
        first_step(&import, "GET /files/{name}")["config"]["url"],
        "${BASE_URL}/files/a%20b%2F%24%7Bx%7D"
    );
}

#[test]
fn security_schemes_become_auth_headers_params_and_cookies() {
    let api = parse(
        r#"
openapi: 3.0.3
info: {title: Auth, version: "1"}
security: [{basic: []}]
paths:
  /basic:
    get: {responses: {'204': {description: ok}}}
  /bearer:
    get: {security: [{bearer: []}], responses: {'204': {description: ok}}}
  /header-key:
    get: {security: [{ApiKeyAuth: []}, {basic: []}], responses: {'204': {description: ok}}}
  /query-key:
    get: {security: [{partnerKey: []}], responses: {'204': {description: ok}}}
  /cookie-key:
    get: {security: [{session: []}], responses: {'204': {description: ok}}}
  /both:
    get: {security: [{bearer: [], ApiKeyAuth: []}], responses: {'204': {description: ok}}}
  /oauth:
    get: {security: [{oauth: [read]}], responses: {'204': {description: ok}}}
  /oidc:
    get: {security: [{oidc: []}], responses: {'204': {description: ok}}}
  /digest:
    get: {security: [{digest: []}], responses: {'204': {description: ok}}}
  /missing:
    get: {security: [{nope: []}], responses: {'204': {description: ok}}}
  /public:
    get: {security: [], responses: {'204': {description: ok}}}
components:
  securitySchemes:
    basic: {type: http, scheme: basic}
    bearer: {type: http, scheme: Bearer}
    ApiKeyAuth: {type: apiKey, in: header, name: X-API-Key}
    partnerKey: {type: apiKey, in: query, name: key}
    session: {type: apiKey, in: cookie, name: sid}
    oauth:
      type: oauth2
      flows: {clientCredentials: {tokenUrl: 'https://auth.example.com/token', scopes: {read: r}}}
    oidc: {type: openIdConnect, openIdConnectUrl: 'https://auth.example.com/.well-known/openid-configuration'}
    digest: {type: http, scheme: digest}
"#,
    );
    let import = generate(&api, &FlowOptions::default());
    assert_clean(&import);
    let config = |name: &str| first_step(&import, name)["config"].clone();
    let env = |name: &str| value(flow(&import, name))["env"].clone();

    assert_eq!(
        config("GET /basic")["auth"],
        json!({"type": "basic", "username": "${API_USERNAME}", "password": "${API_PASSWORD}"})
    );
    assert_eq!(
        env("GET /basic"),
        json!({"BASE_URL": "http://localhost:8080", "API_USERNAME": "", "API_PASSWORD": ""})
    );
    assert!(
        flow(&import, "GET /basic").yaml.contains(
            "#   API_PASSWORD: password for HTTP basic authentication (scheme `basic`)\n"
        )
    );
    assert_eq!(
        config("GET /bearer")["auth"],
        json!({"type": "bearer", "token": "${API_TOKEN}"})
    );
    // The first requirement wins.
    assert_eq!(
        config("GET /header-key")["headers"],
        json!({"X-API-Key": "${API_KEY}"})
    );
    assert!(config("GET /header-key").get("auth").is_none());
    assert_eq!(
        config("GET /query-key")["params"],
        json!({"key": "${PARTNER_KEY}"})
    );
    assert_eq!(
        config("GET /cookie-key")["cookies"],
        json!({"sid": "${SESSION_API_KEY}"})
    );
    // Every scheme of a requirement applies.
    let both = config("GET /both");
    assert_eq!(both["auth"]["type"], "bearer");
    assert_eq!(both["headers"], json!({"X-API-Key": "${API_KEY}"}));
    for name in ["GET /oauth", "GET /oidc"] {
        assert_eq!(
            config(name)["auth"],
            json!({"type": "bearer", "token": "${ACCESS_TOKEN}"})
        );
        assert!(
            import
                .untranslated
                .iter()
                .any(|u| u.item == name && u.what.contains("ACCESS_TOKEN")),
            "{name}: {:?}",
            import.untranslated
        );
    }
    for (name, words) in [("GET /digest", "`digest`"), ("GET /missing", "`nope`")] {
        assert!(config(name).get("auth").is_none());
        assert!(
            import
                .untranslated
                .iter()
                .any(|u| u.item == name && u.what.contains(words)),
            "{name}: {:?}",
            import.untranslated
        );
    }
    assert!(config("GET /public").get("auth").is_none());
    assert_eq!(
        env("GET /public"),
        json!({"BASE_URL": "http://localhost:8080"})
    );
}

#[test]
fn deprecated_operations_are_generated_and_tagged() {
    let api = load("flows/clinic.yaml");
    let import = generate(&api, &FlowOptions::default());
    let visits = flow(&import, "List a pet's visits");
    assert_eq!(value(visits)["tags"], json!(["pets", "deprecated"]));
    assert!(
        visits
            .yaml
            .contains("# Deprecated: GET /pets/{petId}/visits\n")
    );
    let tags = generate(&api, &options(GroupBy::Tag, false, false));
    assert_eq!(
        value(flow(&tags, "pets"))["tags"],
        json!(["pets", "deprecated"])
    );
}

#[test]
fn tag_groups_order_steps_and_collect_untagged_operations() {
    let api = load("flows/clinic.yaml");
    let import = generate(&api, &options(GroupBy::Tag, false, false));
    assert_clean(&import);
    let pets = value(flow(&import, "pets"));
    let ids: Vec<&str> = pets["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    // Creation first, deletion last; otherwise document order.
    assert_eq!(
        ids,
        [
            "add_a_pet",
            "list_pets",
            "get_a_pet",
            "list_a_pet_s_visits",
            "replace_a_pet",
            "remove_a_pet"
        ]
    );
    assert_eq!(pets["description"], "Pets and their visits");
    assert_eq!(pets["config"], json!({"fail_fast": false}));
    assert_eq!(flow(&import, "pets").origin, "tag pets");
    let untagged = value(flow(&import, "Pet Clinic API"));
    assert_eq!(untagged["steps"].as_array().unwrap().len(), 1);
    let text = &flow(&import, "owners").yaml;
    assert!(
        text.contains(
            "# Operations:\n#   POST /owners (createOwner)\n#   GET /owners (listOwners)\n"
        )
    );

    // Without a title, untagged operations go to `untagged`.
    let api = parse(
        "openapi: 3.0.3\ninfo: {title: '', version: '1'}\npaths:\n  /a:\n    get: {responses: {'204': {description: ok}}}\n",
    );
    let import = generate(&api, &options(GroupBy::Tag, false, false));
    assert_eq!(import.flows[0].name, "untagged");
    assert_eq!(value(&import.flows[0])["suite"], "openapi");
}

#[test]
fn what_cannot_be_generated_is_skipped_with_a_reason() {
    let api = parse(
        r#"
openapi: 3.0.3
info: {title: Skips, version: "1"}
paths:
  /xml:
    post:
      requestBody:
        required: true
        content:
          application/xml:
            schema: {type: object, properties: {a: {type: string}}}
      responses: {'200': {description: ok}}
  /optional-xml:
    post:
      requestBody:
        content:
          application/xml:
            schema: {type: object}
      responses: {'204': {description: ok}}
  /things:
    post:
      responses:
        '201':
          description: created
          content: {application/json: {schema: {type: object, properties: {name: {type: string}}}}}
  /things/{thingId}:
    get:
      responses: {'200': {description: ok}}
  /gadgets:
    post:
      responses: {'201': {description: created}}
  /gadgets/{id}:
    delete:
      responses: {'204': {description: ok}}
  /widgets:
    post:
      responses: {'201': {description: created}}
  /widgets/{widgetId}:
    get:
      responses: {'200': {description: ok}}
"#,
    );
    let import = generate(&api, &options(GroupBy::Operation, false, true));
    assert_clean(&import);
    let reason = |item: &str| {
        import
            .skipped
            .iter()
            .find(|s| s.item == item)
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{item} not skipped: {:?}", import.skipped))
    };
    assert!(reason("POST /xml").contains("application/xml"));
    assert!(reason("CRUD /things").contains("no id property"));
    assert!(reason("CRUD /things").contains("thingId"));
    assert!(reason("CRUD /gadgets").contains("no GET"));
    assert!(reason("CRUD /widgets").contains("no JSON schema"));
    // The optional body is left out, and said so.
    assert!(
        import
            .flows
            .iter()
            .any(|f| f.origin == "POST /optional-xml")
    );
    assert!(
        import
            .untranslated
            .iter()
            .any(|u| u.item == "POST /optional-xml" && u.what.contains("optional request body")),
        "{:?}",
        import.untranslated
    );
    assert!(!import.flows.iter().any(|f| f.origin == "POST /xml"));
}

#[test]
fn negative_steps_violate_one_thing_each() {
    let api = load("flows/clinic.yaml");
    let import = generate(&api, &options(GroupBy::Operation, true, false));
    let create = value(flow(&import, "Add a pet (negative)"));
    let names: Vec<&str> = create["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "POST /pets: without the required body",
            "POST /pets: body without the required `name`",
            "POST /pets: body `name` is a number, not a string",
            "POST /pets: body `name` is longer than its maxLength 40",
            "POST /pets: body `name` is shorter than its minLength 1",
            "POST /pets: body `species` is outside its enum",
        ]
    );
    // Credentials stay, so a refusal is about the violation, not the token.
    for step in create["steps"].as_array().unwrap() {
        assert_eq!(step["config"]["auth"]["token"], "${API_TOKEN}");
    }
    let list = value(flow(&import, "List pets (negative)"));
    // The path's undeclared method is checked once, with its first operation.
    assert_eq!(
        list["steps"].as_array().unwrap().last().unwrap()["name"],
        "GET /pets: PATCH is not declared for /pets"
    );
    let step = list["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tags"][0] == "missing_required_header")
        .unwrap();
    assert!(step["config"].get("headers").is_none());
    let invalid: Vec<&Value> = list["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["tags"][0] == "invalid_parameter")
        .map(|s| &s["config"]["params"])
        .collect();
    assert_eq!(
        invalid,
        [
            &json!({"limit": "not-a-number"}),
            &json!({"limit": 10, "species": "not-in-enum"})
        ]
    );
    let register = value(flow(&import, "Register an owner (negative)"));
    assert!(
        register["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["config"]["form"]
                == json!({"name": "string", "email": "user@example.com", "age": 17}))
    );
}

#[test]
fn every_fixture_generates_clean_flows() {
    for name in [
        "petstore-3.0.yaml",
        "petstore-3.1.json",
        "flows/clinic.yaml",
    ] {
        let api = load(name);
        for group_by in [GroupBy::Operation, GroupBy::Tag] {
            let import = generate(&api, &options(group_by, true, true));
            assert_clean(&import);
            assert!(import.skipped.is_empty(), "{name}: {:?}", import.skipped);
        }
    }
}

#[test]
fn large_tag_flows_stay_under_the_file_limit() {
    // Twelve operations in one tag, each answering a schema of 1,500 described properties: the
    // tag flow would be several MiB with every schema assertion.
    let properties: serde_json::Map<String, Value> = (0..1500)
        .map(|i| {
            (
                format!("field_{i}"),
                json!({"type": "string", "description": "x".repeat(60)}),
            )
        })
        .collect();
    let mut paths = serde_json::Map::new();
    for i in 0..12 {
        paths.insert(
            format!("/things{i}"),
            json!({"get": {"tags": ["big"], "responses": {"200": {"description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Big"}}}}}}}),
        );
    }
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "Big", "version": "1"},
        "paths": paths,
        "components": {"schemas": {"Big": {"type": "object", "properties": properties}}}
    });
    let api = parse(&doc.to_string());
    let import = generate(&api, &options(GroupBy::Tag, false, false));
    assert_clean(&import);
    let big = flow(&import, "big");
    assert!(big.yaml.len() <= 1_000_000, "{}", big.yaml.len());
    assert_eq!(big.steps, 12);
    assert!(big.yaml.contains("body matches_schema"));
    assert!(
        import
            .untranslated
            .iter()
            .any(|u| u.item == "tag big" && u.what.contains("1 MiB")),
        "{:?}",
        import.untranslated
    );
    // One operation per flow keeps every assertion.
    let import = generate(&api, &FlowOptions::default());
    assert!(import.untranslated.is_empty(), "{:?}", import.untranslated);
}
