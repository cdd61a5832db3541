//! Postman collections imported as flows: structure, variables, bodies, auth, test-script
//! translation, bad input — and the generated flows run by the real runner against a local API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use testmesh_import::{GeneratedFlow, Import, ImportError, Source, postman};
use testmesh_runner::{FlowRecord, FlowStatus};

mod common;

use common::assert_clean;

/// Every flow loads like `testmesh validate` with no errors and no warnings.
fn flow<'a>(import: &'a Import, name: &str) -> &'a GeneratedFlow {
    import
        .flows
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no flow {name}: {:?}",
                import.flows.iter().map(|f| &f.name).collect::<Vec<_>>()
            )
        })
}

/// The flow's YAML as JSON.
fn doc(flow: &GeneratedFlow) -> Value {
    let tree = testmesh_flow::yaml::parse(&flow.yaml).unwrap();
    tree.to_json()
}

fn step<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {doc:#}"))
}

fn shop() -> Import {
    postman::import(&common::source("postman/shop-v2.1.json")).unwrap()
}

#[test]
fn folders_become_flows_with_collection_and_folder_variables() {
    let import = shop();
    assert_clean(&import);
    assert_eq!(import.title, "Shop API");
    let names: Vec<_> = import.flows.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Shop API",
            "Shop API / Users",
            "Shop API / Catalog",
            "Shop API / Catalog / Admin",
            "Shop API / Catalog / Search",
        ]
    );
    let files: Vec<_> = import.flows.iter().map(|f| f.file_name.as_str()).collect();
    assert_eq!(files[1], "shop-api-users.yaml");
    assert_eq!(import.step_count(), 1 + 7 + 1 + 3 + 3);

    let users = doc(flow(&import, "Shop API / Users"));
    assert_eq!(users["suite"], "shop-api");
    assert_eq!(users["tags"], json!(["postman", "users"]));
    assert_eq!(
        users["description"],
        "Sign in, then create, read, update, search and delete a user."
    );
    // Collection variables, then the folder's own.
    assert_eq!(users["env"]["baseUrl"], "http://localhost:8080/api");
    assert_eq!(users["env"]["username"], "alice");
    // Used unquoted in a JSON body (`"age": {{defaultAge}}`), so the value is a number there.
    assert_eq!(users["env"]["defaultAge"], 30);

    // A folder variable overrides the collection's; a nested folder inherits both.
    let catalog = doc(flow(&import, "Shop API / Catalog"));
    assert_eq!(catalog["env"]["category"], "books");
    assert_eq!(catalog["tags"], json!(["postman", "catalog"]));
    let admin = doc(flow(&import, "Shop API / Catalog / Admin"));
    assert_eq!(admin["env"]["category"], "books");
    assert_eq!(admin["env"]["adminPassword"], "s3cret");
    assert_eq!(admin["tags"], json!(["postman", "catalog", "admin"]));
    let root = doc(flow(&import, "Shop API"));
    assert_eq!(root["env"]["category"], "all");
    assert!(root["env"].get("username").is_none());

    // Undefined variables get an empty placeholder and a note.
    let search = doc(flow(&import, "Shop API / Catalog / Search"));
    assert_eq!(search["env"]["term"], "");
    assert!(
        import
            .untranslated
            .iter()
            .any(|u| u.item == "Shop API/Catalog/Search"
                && u.what.contains("`term` is not defined in the collection"))
    );
}

#[test]
fn urls_headers_and_every_body_mode() {
    let import = shop();
    let users = doc(flow(&import, "Shop API / Users"));

    let login = step(&users, "login");
    assert_eq!(login["config"]["method"], "POST");
    assert_eq!(login["config"]["url"], "${baseUrl}/login");
    assert_eq!(
        login["config"]["body"],
        json!({"username": "${username}", "password": "${password}"})
    );

    // Raw JSON with an unquoted placeholder, dynamic variables and a literal `${`.
    let create = step(&users, "create_user");
    assert_eq!(
        create["config"]["body"],
        json!({
            "name": "${FAKER.name.fullName}",
            "email": "${FAKER.internet.email}",
            "age": "${defaultAge}",
            "tags": ["new"],
            "note": "price $${5}"
        })
    );
    // Disabled headers are left out.
    assert_eq!(
        create["config"]["headers"],
        json!({"Content-Type": "application/json", "X-Request-Id": "${UUID}"})
    );

    // `:id` path variables take their value; a step output feeds it.
    let get_user = step(&users, "get_user");
    assert_eq!(get_user["config"]["url"], "${baseUrl}/users/${createdId}");

    // urlencoded → form (disabled fields left out), query → params (disabled left out).
    let update = step(&users, "update_user");
    assert_eq!(update["config"]["form"], json!({"name": "Updated Name"}));
    let search = step(&users, "search_users");
    assert_eq!(search["config"]["url"], "${baseUrl}/users");
    assert_eq!(
        search["config"]["params"],
        json!({"q": "Updated", "limit": "10"})
    );

    // formdata → multipart; text fields and files.
    let avatar = step(&users, "set_avatar_caption");
    assert_eq!(
        avatar["config"]["multipart"],
        json!({"caption": "${username} on holiday", "visibility": "public"})
    );
    let admin = doc(flow(&import, "Shop API / Catalog / Admin"));
    let upload = step(&admin, "import_products");
    assert_eq!(
        upload["config"]["multipart"],
        json!({"file": {"file": "products.csv"}, "dry_run": "true"})
    );
    assert!(import.untranslated.iter().any(|u| {
        u.item == "Shop API/Catalog/Admin/Import products"
            && u.what
                .contains("`products.csv` is read relative to the flow file")
    }));

    // Raw XML → text body with the language's content type.
    let product = step(&admin, "create_product");
    assert_eq!(
        product["config"]["body"],
        "<product><name>Dune</name><category>${category}</category></product>"
    );
    assert_eq!(
        product["config"]["headers"]["Content-Type"],
        "application/xml"
    );

    // GraphQL → a JSON body with the query and parsed variables.
    let search_flow = doc(flow(&import, "Shop API / Catalog / Search"));
    let graphql = step(&search_flow, "graphql_search");
    assert_eq!(
        graphql["config"]["body"]["variables"],
        json!({"term": "${term}", "limit": 5})
    );
    assert!(
        graphql["config"]["body"]["query"]
            .as_str()
            .unwrap()
            .starts_with("query Search($term: String!")
    );

    // A URL object with protocol and host parts.
    let catalog = doc(flow(&import, "Shop API / Catalog"));
    let list = step(&catalog, "list_products");
    assert_eq!(
        list["config"]["url"],
        "https://shop.example.com/api/products"
    );
    assert_eq!(
        list["config"]["params"],
        json!({"category": "${category}", "page": "1"})
    );
}

#[test]
fn auth_is_inherited_collection_folder_request() {
    let import = shop();
    let users = doc(flow(&import, "Shop API / Users"));
    // `noauth` on the request.
    assert!(step(&users, "login")["config"].get("auth").is_none());
    // The collection's bearer, with the token a test script stored.
    assert_eq!(
        step(&users, "create_user")["config"]["auth"],
        json!({"type": "bearer", "token": "${login.token}"})
    );
    let catalog = doc(flow(&import, "Shop API / Catalog"));
    assert_eq!(
        step(&catalog, "list_products")["config"]["auth"],
        json!({"type": "bearer", "token": "${token}"})
    );
    // The folder's basic auth; a request's own unsupported auth is listed.
    let admin = doc(flow(&import, "Shop API / Catalog / Admin"));
    assert_eq!(
        step(&admin, "create_product")["config"]["auth"],
        json!({"type": "basic", "username": "admin", "password": "${adminPassword}"})
    );
    assert!(step(&admin, "sales_report")["config"].get("auth").is_none());
    assert!(
        import
            .untranslated
            .iter()
            .any(|u| u.item == "Shop API/Catalog/Admin/Sales report"
                && u.what.starts_with("auth type `digest` is not translated"))
    );
    // API keys in a header (folder) and in the query (request), OAuth 2.0 with a token.
    let search = doc(flow(&import, "Shop API / Catalog / Search"));
    assert_eq!(
        step(&search, "graphql_search")["config"]["auth"],
        json!({"type": "api_key", "name": "X-API-Key", "key": "${apiKey}", "location": "header"})
    );
    let suggest = step(&search, "suggest");
    assert!(suggest["config"].get("auth").is_none());
    assert_eq!(suggest["config"]["params"], json!({"api_key": "${apiKey}"}));
    assert_eq!(
        step(&search, "partner_feed")["config"]["auth"],
        json!({"type": "bearer", "token": "${partnerToken}"})
    );
}

#[test]
fn test_scripts_become_assertions_and_outputs_and_the_rest_is_listed() {
    let import = shop();
    let users = doc(flow(&import, "Shop API / Users"));
    let login = step(&users, "login");
    assert_eq!(
        login["assert"],
        json!([
            "status < 500",
            "status == 200",
            "body.token is string",
            "'id' in body.user"
        ])
    );
    assert_eq!(
        login["output"],
        json!({"token": "$.token", "userId": "$.user.id"})
    );
    let create = step(&users, "create_user");
    assert_eq!(
        create["assert"],
        json!([
            "status < 500",
            "status == 201",
            "body.id exists",
            "body.age == 30",
            "body.owner == ${login.userId}"
        ])
    );
    assert_eq!(create["output"], json!({"createdId": "$.id"}));
    assert_eq!(
        step(&users, "get_user")["assert"],
        json!([
            "status < 500",
            "status == 200",
            "body.id == ${create_user.createdId}",
            "body.tags contains 'new'",
            "body.email matches '@'",
            "'name' in body",
            "headers['content-type'] exists",
            "response.time < 5000",
            "body matches_schema {'type': 'object', 'required': ['id', 'email'], 'properties': {'id': {'type': 'string'}, 'age': {'type': 'integer', 'minimum': 0}}}"
        ])
    );
    assert_eq!(
        step(&users, "search_users")["assert"],
        json!([
            "status < 500",
            "body.items is array",
            "len(body.items) > 0",
            "body.items[0].name == 'Updated Name'",
            "string(body) contains 'Updated Name'"
        ])
    );
    let listed: Vec<(String, String)> = import
        .untranslated
        .iter()
        .map(|u| (u.item.clone(), u.what.clone()))
        .collect();
    assert!(
        listed.contains(&(
            "Shop API/Users/Delete user".into(),
            "test script: postman.setNextRequest(null)".into()
        )),
        "{listed:#?}"
    );
    // The collection's pre-request script is listed once, under the collection.
    assert_eq!(
        listed
            .iter()
            .filter(|(_, w)| w.starts_with("pre-request script"))
            .count(),
        1
    );
    // And each flow's header says what is left to do.
    let yaml = &flow(&import, "Shop API / Users").yaml;
    assert!(
        yaml.contains(
            "# - Shop API/Users/Delete user: test script: postman.setNextRequest(null)\n"
        ),
        "{yaml}"
    );
}

#[test]
fn reads_v2_0_shapes() {
    let import = postman::import(&common::source("postman/legacy-v2.0.json")).unwrap();
    assert_clean(&import);
    assert_eq!(import.flows.len(), 1);
    let legacy = doc(&import.flows[0]);
    // `request` as a URL string.
    let ping = step(&legacy, "ping");
    assert_eq!(
        ping["config"],
        json!({"method": "GET", "url": "${host}/ping"})
    );
    // Header lines as one string, auth as an object, v2.0 path-segment objects and `id` keys.
    let order = step(&legacy, "get_order");
    assert_eq!(order["config"]["url"], "${host}/orders/42/items");
    assert_eq!(
        order["config"]["headers"],
        json!({"Accept": "application/json", "X-Trace": "${trace}"})
    );
    assert_eq!(
        order["config"]["auth"],
        json!({"type": "basic", "username": "legacy", "password": "${secret}"})
    );
    // The legacy `tests[...]` form and `JSON.parse(responseBody)`.
    assert_eq!(
        order["assert"],
        json!(["status == 200", "body.id != null", "body.total > 0"])
    );
    assert_eq!(order["output"], json!({"orderId": "$.id"}));
    // A query in the raw URL, a bearer token as an object.
    let search = step(&legacy, "find_orders");
    assert_eq!(
        search["config"]["url"],
        "${host}/orders?status=open&sort=-created"
    );
    assert_eq!(
        search["config"]["auth"],
        json!({"type": "bearer", "token": "${orderId}"})
    );
}

fn error(text: &str) -> String {
    match Source::parse(text, "c.json").and_then(|s| postman::import(&s)) {
        Ok(import) => panic!("imported: {import:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_input_fails_with_its_location() {
    let v21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";
    // Invalid JSON: file:line:col.
    let e = error("{\n  \"info\": {\n    \"name\": \"x\",\n  }\n}");
    assert!(e.starts_with("c.json:4:3: invalid JSON"), "{e}");
    // Version 1, an unknown schema, no schema.
    let e = error(r#"{"id": "1", "name": "old", "requests": [], "order": []}"#);
    assert!(
        e.contains("Postman collection v1") && e.contains("Collection v2.1"),
        "{e}"
    );
    let e = error(
        r#"{"info": {"name": "x", "schema": "https://schema.postman.com/collection/v3.0/c.json"}, "item": []}"#,
    );
    assert!(
        e.starts_with("c.json:1:")
            && e.contains("#/info/schema")
            && e.contains("unsupported collection schema"),
        "{e}"
    );
    let e = error(r#"{"info": {"name": "x"}, "item": []}"#);
    assert!(e.contains("#/info/schema") && e.contains("missing"), "{e}");
    let e = error("[1, 2]");
    assert!(e.contains("a Postman collection is a JSON object"), "{e}");
    // Wrong shapes, with line and column.
    let e = error(&format!(
        "{{\"info\": {{\"name\": \"x\", \"schema\": \"{v21}\"}},\n \"item\": {{\"name\": \"a\"}}}}"
    ));
    assert!(
        e.starts_with("c.json:2:10: #/item: `item` must be a list"),
        "{e}"
    );
    let e = error(&format!(
        "{{\"info\": {{\"name\": \"x\", \"schema\": \"{v21}\"}}, \"item\": [\n {{\"name\": \"f\", \"item\": [\n  {{\"name\": \"r\", \"request\": {{\"url\": \"http://x\", \"header\": \"oops\", \"method\": 5}}}}]}}]}}"
    ));
    assert!(
        e.starts_with("c.json:3:") && e.contains("#/item/0/item/0/request/method"),
        "{e}"
    );
    let e = error(&format!(
        "{{\"info\": {{\"name\": \"x\", \"schema\": \"{v21}\"}}, \"item\": [{{\"name\": \"r\", \"request\": {{\"url\": {{\"raw\": \"http://x\", \"query\": {{\"a\": 1}}}}}}}}]}}"
    ));
    assert!(
        e.contains("#/item/0/request/url/query") && e.contains("must be a list"),
        "{e}"
    );
    // YAML input works as well as JSON.
    let s = Source::parse(
        &format!("info: {{name: y, schema: '{v21}'}}\nitem:\n  - name: r\n    request: 7\n"),
        "c.yaml",
    )
    .unwrap();
    let e = postman::import(&s).unwrap_err();
    assert!(matches!(e, ImportError::Invalid { .. }));
    assert!(
        e.to_string().starts_with("c.yaml:4:14: #/item/0/request"),
        "{e}"
    );
}

#[test]
fn empty_collections_and_odd_items_import_without_panicking() {
    let v21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";
    let s = Source::parse(
        &format!(r#"{{"info": {{"name": "Empty", "schema": "{v21}"}}, "item": []}}"#),
        "e.json",
    )
    .unwrap();
    let import = postman::import(&s).unwrap();
    assert!(import.flows.is_empty());
    assert_eq!(import.skipped[0].reason, "the collection has no requests");

    // The Postman API's `{"collection": …}` wrapper; an empty folder; an item without a request;
    // a request without a URL.
    let s = Source::parse(
        &format!(
            r#"{{"collection": {{"info": {{"name": "W", "schema": "{v21}"}}, "item": [
                {{"name": "Empty folder", "item": []}},
                {{"name": "Nothing"}},
                {{"name": "No URL", "request": {{"method": "GET"}}}},
                {{"name": "Ok", "request": {{"method": "GET", "url": "example.com/x"}}}},
                {{"name": "Raw query", "request": {{"url": {{"raw": "{{{{h}}}}/q?a=1&b=%20", "host": ["{{{{h}}}}"], "path": ["q"]}}}}}}
            ]}}}}"#
        ),
        "w.json",
    )
    .unwrap();
    let import = postman::import(&s).unwrap();
    assert_clean(&import);
    assert_eq!(import.flows.len(), 1);
    assert!(import.flows[0].yaml.contains("url: http://example.com/x"));
    // A URL object without a `query` list keeps the raw URL's query.
    assert!(
        import.flows[0].yaml.contains("url: ${h}/q?a=1&b=%20"),
        "{}",
        import.flows[0].yaml
    );
    let skipped: Vec<_> = import
        .skipped
        .iter()
        .map(|s| (s.item.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("W/Nothing", "the item has neither `request` nor `item`"),
            ("W/No URL", "the request has no URL"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// A local API the Users folder runs against.

#[derive(Default)]
struct Api {
    /// Issued token → the signed-in user's id.
    tokens: Mutex<HashMap<String, u64>>,
    users: Mutex<HashMap<String, Value>>,
    /// Answer reads without the user's tags (a regression the imported tests must catch).
    broken: bool,
}

fn random() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish()
}

type Shared = Arc<Api>;

fn signed_in(api: &Api, headers: &HeaderMap) -> Option<u64> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let token = auth.strip_prefix("Bearer ")?;
    api.tokens.lock().unwrap().get(token).copied()
}

async fn login(State(api): State<Shared>, Json(body): Json<Value>) -> Response {
    if body != json!({"username": "alice", "password": "wonderland"}) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let token = format!("tok-{:x}", random());
    let id = random() % 1_000_000;
    api.tokens.lock().unwrap().insert(token.clone(), id);
    Json(json!({"token": token, "user": {"id": id, "name": "Alice"}})).into_response()
}

async fn create_user(
    State(api): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(owner) = signed_in(&api, &headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let valid = headers.contains_key("x-request-id")
        && body["name"].is_string()
        && body["email"].as_str().is_some_and(|e| e.contains('@'))
        && body["age"].is_u64();
    if !valid {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"got": body}))).into_response();
    }
    let id = format!("u-{:x}", random());
    let user = json!({"id": id, "name": body["name"], "email": body["email"], "age": body["age"], "tags": body["tags"], "owner": owner});
    api.users.lock().unwrap().insert(id, user.clone());
    (StatusCode::CREATED, Json(user)).into_response()
}

async fn user(
    State(api): State<Shared>,
    UrlPath(id): UrlPath<String>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if signed_in(&api, &headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut users = api.users.lock().unwrap();
    let Some(user) = users.get_mut(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match method.as_str() {
        "GET" => {
            let mut user = user.clone();
            if api.broken {
                user["tags"] = json!([]);
            }
            Json(user).into_response()
        }
        "PUT" => {
            let form = headers.get("content-type").and_then(|v| v.to_str().ok())
                == Some("application/x-www-form-urlencoded");
            let text = String::from_utf8_lossy(&body).to_string();
            let Some(name) = text.strip_prefix("name=").filter(|_| form) else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            user["name"] = json!(name.replace('+', " "));
            Json(user.clone()).into_response()
        }
        "DELETE" => {
            users.remove(&id);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

async fn search(
    State(api): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if signed_in(&api, &headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let needle = q.get("q").cloned().unwrap_or_default();
    let items: Vec<Value> = api
        .users
        .lock()
        .unwrap()
        .values()
        .filter(|u| u["name"].as_str().unwrap_or_default().contains(&needle))
        .cloned()
        .collect();
    Json(json!({"items": items, "count": items.len(), "limit": q.get("limit")})).into_response()
}

async fn avatar(State(api): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if signed_in(&api, &headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart || !String::from_utf8_lossy(&body).contains("alice on holiday") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    (StatusCode::CREATED, Json(json!({"stored": true}))).into_response()
}

async fn serve(api: Api) -> String {
    let router = Router::new()
        .route(
            "/api/health",
            get(|| async { Json(json!({"status": "up"})) }),
        )
        .route("/api/login", post(login))
        .route("/api/users", post(create_user).get(search))
        .route("/api/users/{id}", get(user).put(user).delete(user))
        .route("/api/users/{id}/avatar", post(avatar))
        .with_state(Arc::new(api));
    format!("{}/api", common::serve(router).await)
}

async fn run(flow: &GeneratedFlow, base_url: &str) -> FlowRecord {
    common::run(
        &common::load_clean(&flow.yaml),
        &[("baseUrl", json!(base_url))],
    )
    .await
}

fn failures(record: &FlowRecord) -> Vec<String> {
    record
        .steps
        .iter()
        .filter(|s| s.status != testmesh_runner::StepStatus::Passed)
        .map(|s| format!("{}: {:?} {:?}", s.id, s.status, s.error))
        .collect()
}

#[tokio::test]
async fn imported_flows_run_against_the_api_with_fresh_tokens_and_ids() {
    let base = serve(Api::default()).await;
    let import = shop();
    for name in ["Shop API", "Shop API / Users"] {
        let record = run(flow(&import, name), &base).await;
        assert_eq!(
            record.status,
            FlowStatus::Passed,
            "{name}: {:#?}\n{:?}",
            failures(&record),
            record.error
        );
    }
    let record = run(flow(&import, "Shop API / Users"), &base).await;
    assert_eq!(record.steps.len(), 7);
    // The token and the id were the ones this run's server issued.
    let login = record.steps.iter().find(|s| s.id == "login").unwrap();
    let create = record.steps.iter().find(|s| s.id == "create_user").unwrap();
    let id = create.outputs["createdId"].as_str().unwrap();
    assert!(id.starts_with("u-"));
    let get = record.steps.iter().find(|s| s.id == "get_user").unwrap();
    assert!(
        get.request.as_ref().unwrap()["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/users/{id}"))
    );
    assert!(login.outputs["token"].as_str().is_some());
}

#[tokio::test]
async fn imported_tests_fail_when_the_api_breaks_them() {
    let base = serve(Api {
        broken: true,
        ..Api::default()
    })
    .await;
    let import = shop();
    let record = run(flow(&import, "Shop API / Users"), &base).await;
    assert_eq!(record.status, FlowStatus::Failed);
    let failed = failures(&record);
    assert!(
        failed[0].starts_with("get_user: Failed") && failed[0].contains("body.tags contains 'new'"),
        "{failed:#?}"
    );
}
