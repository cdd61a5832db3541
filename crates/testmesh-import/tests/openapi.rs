//! The OpenAPI importer over two petstore documents (3.0 in YAML, 3.1 in JSON): loading, generated
//! bodies, mock definitions, request validation and malformed documents.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{Map, Value, json};
use testmesh_import::ImportError;
use testmesh_import::openapi::{
    Direction, MockOptions, OpenApi, Operation, ParameterLocation, Rejection, Sampler,
    ValidationRequest, Validator, body, compile, mock_definition,
};

mod common;

use common::{collect_pointers, parse_err, request, validator};

fn load(name: &str) -> OpenApi {
    match OpenApi::load(&common::fixture_path(name)) {
        Ok(api) => api,
        Err(e) => panic!("{e}"),
    }
}

fn rejected(v: &Validator, req: ValidationRequest) -> Rejection {
    match v.validate(&req) {
        Ok(()) => panic!("{} {} should be rejected", req.method, req.path),
        Err(r) => r,
    }
}

fn accepted(v: &Validator, req: ValidationRequest) {
    if let Err(r) = v.validate(&req) {
        panic!("{} {} rejected: {r}", req.method, req.path);
    }
}

#[test]
fn loads_both_versions_with_their_operations() {
    let v30 = load("petstore-3.0.yaml");
    assert_eq!(v30.title, "Petstore API");
    assert_eq!(v30.base_path, "/v1");
    let ids: Vec<_> = v30
        .operations
        .iter()
        .map(|o| o.operation_id.as_deref().unwrap_or("-"))
        .collect();
    assert_eq!(
        ids,
        [
            "listPets",
            "createPet",
            "myPets",
            "getPet",
            "deletePet",
            "uploadPhoto",
            "createOwner",
            "getTree"
        ]
    );
    let list = v30.operation("listPets").map(|o| &o.parameters);
    let limit = list.and_then(|ps| ps.iter().find(|p| p.name == "limit"));
    assert!(limit.is_some_and(|p| p.location == ParameterLocation::Query && !p.required));
    // Path-level parameters are inherited; the operation's header parameter is added.
    let delete = v30.operation("deletePet").map(|o| o.parameters.len());
    assert_eq!(delete, Some(2));
    let create = v30.operation("createPet");
    let examples = create
        .and_then(|o| o.responses.first())
        .and_then(|r| r.preferred_content())
        .map(|m| {
            m.examples
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
        });
    assert_eq!(examples, Some(vec!["rex", "tom"]));

    let v31 = load("petstore-3.1.json");
    assert_eq!(v31.base_path, "/api");
    // `/pets/{id}` is a `$ref` to components/pathItems.
    let get = v31.operation("getPet");
    assert!(get.is_some_and(|o| o.path == "/pets/{id}" && o.parameters.len() == 1));
    assert_eq!(v31.operations.len(), 5);
}

/// Every body a mock would answer (examples and generated ones) matches its own response schema.
#[test]
fn generated_and_example_bodies_match_their_schemas() {
    for name in ["petstore-3.0.yaml", "petstore-3.1.json"] {
        let api = load(name);
        let sampler = Sampler::new(&api.document, Direction::Response);
        let mut checked = 0;
        for op in &api.operations {
            for response in &op.responses {
                for media in &response.content {
                    let Some(schema) = &media.schema else {
                        continue;
                    };
                    let validator = match compile(&api.document, schema, Direction::Response) {
                        Ok(v) => v,
                        Err(e) => panic!("{name} {} {}: {e}", op.method, op.path),
                    };
                    let mut bodies = vec![("generated".to_string(), sampler.sample(schema))];
                    bodies.extend(media.examples.iter().cloned());
                    if let Some(b) = body(&sampler, media, None) {
                        bodies.push(("chosen".into(), b));
                    }
                    for (label, value) in bodies {
                        let errors: Vec<String> = validator
                            .iter_errors(&value)
                            .map(|e| e.to_string())
                            .collect();
                        assert!(
                            errors.is_empty(),
                            "{name} {} {} {} {label}: {value} does not match: {errors:?}",
                            op.method,
                            op.path,
                            response.status
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked >= 8, "{name}: only {checked} bodies checked");
    }
}

/// A request built from the document's own schemas (path and required parameters, body) passes the
/// validator, for every operation.
#[test]
fn requests_generated_from_the_document_are_accepted() {
    for name in ["petstore-3.0.yaml", "petstore-3.1.json"] {
        let api = load(name);
        let v = validator(&api);
        let sampler = Sampler::new(&api.document, Direction::Request);
        for op in &api.operations {
            let req = sample_request(&api, &sampler, op);
            if let Err(r) = v.validate(&req) {
                panic!(
                    "{name}: generated request {} {} rejected: {r}",
                    req.method, req.path
                );
            }
        }
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn sample_request(api: &OpenApi, sampler: &Sampler<'_>, op: &Operation) -> ValidationRequest {
    let mut path = format!("{}{}", api.base_path, op.path);
    let mut query = Vec::new();
    let mut headers = HeaderMap::new();
    for p in &op.parameters {
        let value = p
            .example
            .clone()
            .or_else(|| p.schema.as_ref().map(|s| sampler.sample(s)))
            .unwrap_or(json!("x"));
        match p.location {
            ParameterLocation::Path => {
                path = path.replace(&format!("{{{}}}", p.name), &text_of(&value));
            }
            ParameterLocation::Query if p.required => query.push((p.name.clone(), text_of(&value))),
            ParameterLocation::Header if p.required => {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(p.name.as_bytes()),
                    HeaderValue::from_str(&text_of(&value)),
                ) {
                    headers.insert(n, v);
                }
            }
            _ => {}
        }
    }
    let mut body_bytes = Bytes::new();
    if let Some(rb) = &op.request_body
        && let Some(media) = rb.content.first()
    {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_str(&media.name.replace('*', "png"))
                .unwrap_or(HeaderValue::from_static("application/json")),
        );
        let value = media
            .schema
            .as_ref()
            .map(|s| sampler.sample(s))
            .unwrap_or(json!("x"));
        body_bytes = Bytes::from(if media.name.contains("form-urlencoded") {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in value.as_object().into_iter().flatten() {
                form.append_pair(k, &text_of(v));
            }
            form.finish()
        } else if media.is_json() {
            value.to_string()
        } else {
            text_of(&value)
        });
    }
    ValidationRequest {
        method: op.method.clone(),
        path,
        query,
        headers,
        body: body_bytes,
    }
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405() {
    let api = load("petstore-3.0.yaml");
    let v = validator(&api);
    let r = rejected(&v, request("GET /v1/owls", &[], ""));
    assert_eq!(r.status, 404);
    assert!(r.errors[0].contains("/v1/owls"), "{r}");
    // Outside the base path.
    assert_eq!(rejected(&v, request("GET /pets", &[], "")).status, 404);
    let r = rejected(&v, request("PATCH /v1/pets/7", &[], ""));
    assert_eq!(r.status, 405);
    assert_eq!(
        r.errors,
        ["method: PATCH is not allowed for /v1/pets/7; allowed: GET, DELETE"]
    );
    // Concrete paths win over templates.
    assert_eq!(v.route(&Method::GET, "/v1/pets/mine").map(|r| r.0), Ok(2));
    assert_eq!(
        v.route(&Method::GET, "/v1/pets/42"),
        Ok((3, vec![("petId".to_string(), "42".to_string())]))
    );
}

#[test]
fn parameters_are_coerced_and_checked() {
    let api = load("petstore-3.0.yaml");
    let v = validator(&api);
    accepted(
        &v,
        request(
            "GET /v1/pets?limit=10&tags=dog&tags=cat&filter[minAge]=2&filter[vaccinated]=true",
            &[("X-Request-Id", "095be615-a8ad-4c33-8e9c-c7612fbf6c9f")],
            "",
        ),
    );
    let r = rejected(&v, request("GET /v1/pets?limit=abc", &[], ""));
    assert_eq!(
        (r.status, r.errors.clone()),
        (
            400,
            vec!["query.limit: expected integer, got \"abc\"".to_string()]
        )
    );
    let r = rejected(&v, request("GET /v1/pets?limit=500", &[], ""));
    assert_eq!(r.status, 400);
    assert!(
        r.errors[0].starts_with("query.limit: 500 is greater than the maximum of 100"),
        "{r}"
    );
    let r = rejected(&v, request("GET /v1/pets?tags=dog&tags=fish", &[], ""));
    assert!(r.errors[0].starts_with("query.tags/1: "), "{r}");
    let r = rejected(&v, request("GET /v1/pets?filter[minAge]=-1", &[], ""));
    assert!(r.errors[0].starts_with("query.filter/minAge: "), "{r}");
    let r = rejected(&v, request("GET /v1/pets", &[("X-Request-Id", "nope")], ""));
    assert!(r.errors[0].starts_with("header.X-Request-Id: "), "{r}");
    let r = rejected(&v, request("GET /v1/pets/abc", &[], ""));
    assert_eq!(r.errors, ["path.petId: expected integer, got \"abc\""]);
    let r = rejected(&v, request("GET /v1/pets/0", &[], ""));
    assert!(
        r.errors[0].starts_with("path.petId: 0 is less than the minimum of 1"),
        "{r}"
    );
    let r = rejected(&v, request("DELETE /v1/pets/3", &[], ""));
    assert_eq!(
        r.errors,
        ["header.X-Api-Key: required parameter is missing"]
    );
    accepted(
        &v,
        request("DELETE /v1/pets/3", &[("x-api-key", "k-123")], ""),
    );

    // 3.1: required query parameter, non-exploded arrays, type lists, exclusiveMinimum.
    let api = load("petstore-3.1.json");
    let v = validator(&api);
    accepted(
        &v,
        request("GET /api/pets?sort=name&ids=1,2,3&verbose=null", &[], ""),
    );
    let r = rejected(&v, request("GET /api/pets?limit=0", &[], ""));
    assert_eq!(r.status, 400);
    assert_eq!(
        r.errors,
        [
            "query.limit: 0 is less than or equal to the minimum of 0",
            "query.sort: required parameter is missing"
        ]
    );
    let r = rejected(&v, request("GET /api/pets?sort=name&ids=1,x", &[], ""));
    assert_eq!(r.errors, ["query.ids: item 1: expected integer, got \"x\""]);
    let r = rejected(
        &v,
        request("GET /api/pets?sort=name&verbose=maybe", &[], ""),
    );
    assert_eq!(
        r.errors,
        ["query.verbose: expected boolean or null, got \"maybe\""]
    );
}

#[test]
fn bodies_are_checked_by_content_type_and_schema() {
    let api = load("petstore-3.0.yaml");
    let v = validator(&api);
    let json = [("content-type", "application/json; charset=utf-8")];
    // readOnly `id` is not required in a request; `owner` is nullable.
    accepted(
        &v,
        request(
            "POST /v1/pets",
            &json,
            r#"{"name": "Rex", "kind": "dog", "owner": null}"#,
        ),
    );
    let r = rejected(&v, request("POST /v1/pets", &json, r#"{"kind": "dog"}"#));
    assert_eq!(r.status, 422);
    assert_eq!(r.errors, ["body/name: \"name\" is a required property"]);
    let r = rejected(
        &v,
        request(
            "POST /v1/pets",
            &json,
            r#"{"name": "Rex", "kind": "cow", "born": "yesterday"}"#,
        ),
    );
    assert_eq!(r.status, 422);
    assert!(r.errors.iter().any(|e| e.starts_with("body/kind: ")), "{r}");
    assert!(r.errors.iter().any(|e| e.starts_with("body/born: ")), "{r}");
    let r = rejected(&v, request("POST /v1/pets", &json, "{\"name\": "));
    assert_eq!(r.status, 400);
    assert!(r.errors[0].starts_with("body: invalid JSON: "), "{r}");
    let r = rejected(
        &v,
        request("POST /v1/pets", &[("content-type", "text/plain")], "hi"),
    );
    assert_eq!(r.status, 415);
    assert_eq!(
        r.errors,
        ["header.content-type: text/plain is not supported; expected one of: application/json"]
    );
    let r = rejected(&v, request("POST /v1/pets", &[], "{}"));
    assert_eq!(r.status, 415);
    let r = rejected(&v, request("POST /v1/pets", &json, ""));
    assert_eq!(
        (r.status, r.errors.clone()),
        (422, vec!["body: a request body is required".to_string()])
    );
    // Parameter problems outrank body problems; both are reported.
    let r = rejected(
        &v,
        request(
            "PUT /v1/pets/x/photo",
            &[("content-type", "text/plain")],
            "x",
        ),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.errors.len(), 2, "{r}");
    // `image/*` accepts any image type; other bodies are not parsed.
    accepted(
        &v,
        request(
            "PUT /v1/pets/1/photo",
            &[("content-type", "image/png")],
            "\u{1}PNG",
        ),
    );
    // Forms are coerced by the schema.
    let form = [("content-type", "application/x-www-form-urlencoded")];
    accepted(&v, request("POST /v1/owners", &form, "name=Ann&age=30"));
    let r = rejected(&v, request("POST /v1/owners", &form, "age=12"));
    assert_eq!(r.status, 422);
    assert!(
        r.errors
            .contains(&"body/name: \"name\" is a required property".to_string()),
        "{r}"
    );
    assert!(
        r.errors
            .iter()
            .any(|e| e.starts_with("body/age: 12 is less than")),
        "{r}"
    );
    let r = rejected(&v, request("POST /v1/owners", &form, "name=Ann&age=old"));
    assert_eq!(r.errors, ["body/age: expected integer, got \"old\""]);

    // 3.1: `+json` media types, additionalProperties: false, type lists.
    let api = load("petstore-3.1.json");
    let v = validator(&api);
    let id = "095be615-a8ad-4c33-8e9c-c7612fbf6c9f";
    let patch = [("content-type", "application/merge-patch+json")];
    accepted(
        &v,
        request(
            &format!("PATCH /api/pets/{id}"),
            &patch,
            r#"{"weight": null}"#,
        ),
    );
    let r = rejected(
        &v,
        request(
            &format!("PATCH /api/pets/{id}"),
            &patch,
            r#"{"weight": 0, "x": 1}"#,
        ),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.errors.len(), 2, "{r}");
    let r = rejected(&v, request("GET /api/pets/not-a-uuid", &[], ""));
    assert!(r.errors[0].starts_with("path.id: "), "{r}");
}

#[test]
fn mock_definition_follows_the_documented_format() {
    let api = load("petstore-3.0.yaml");
    let mock = mock_definition(&api, &MockOptions::default());
    assert_eq!(mock["name"], "petstore-api");
    let endpoints = mock["endpoints"].as_array().cloned().unwrap_or_default();
    assert_eq!(endpoints.len(), api.operations.len());
    let by_id = |id: &str| {
        endpoints
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let get = by_id("getPet");
    assert_eq!(get["path"], "/v1/pets/{petId}");
    assert_eq!(get["method"], "GET");
    assert_eq!(by_id("myPets")["priority"], 2);
    assert_eq!(get["priority"], 1);
    // Default answer last, without `when`; 404 from the document's example on `Prefer: code=404`.
    let answers = get["responses"].as_array().cloned().unwrap_or_default();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["status"], 404);
    assert_eq!(
        answers[0]["body"],
        json!({"code": 404, "message": "pet not found"})
    );
    assert_eq!(answers[1]["status"], 200);
    assert!(answers[1].get("when").is_none());
    assert_eq!(answers[1]["headers"]["Content-Type"], "application/json");
    assert_eq!(answers[1]["body"]["kind"], "dog");

    // The lowest 2xx wins; its first named example is the body; the others are reachable.
    let create = by_id("createPet");
    let answers = create["responses"].as_array().cloned().unwrap_or_default();
    let default = answers.last().cloned().unwrap_or(Value::Null);
    assert_eq!(default["status"], 201);
    assert_eq!(default["body"]["name"], "Rex");
    let tom = answers
        .iter()
        .find(|a| a["body"]["name"] == "Tom")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(tom["status"], 201);
    let problem = answers
        .iter()
        .find(|a| a["status"] == 400)
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        problem["headers"]["Content-Type"],
        "application/problem+json"
    );

    // A response without content; a text response; response headers from their schema.
    let delete = by_id("deletePet");
    assert_eq!(delete["responses"][1], json!({"status": 204}));
    let photo = by_id("uploadPhoto");
    assert_eq!(
        photo["response"],
        json!({"status": 200, "headers": {"Content-Type": "text/plain"}, "body_text": "stored"})
    );
    assert_eq!(by_id("listPets")["responses"], Value::Null);
    assert_eq!(
        by_id("listPets")["response"]["headers"]["X-Total-Count"],
        "0"
    );

    // Base path options, shared with the validator.
    let bare = MockOptions {
        name: Some("pets".into()),
        base_path: Some(String::new()),
    };
    let mock = mock_definition(&api, &bare);
    assert_eq!(mock["name"], "pets");
    assert_eq!(mock["endpoints"][0]["path"], "/pets");
    let v = match Validator::new(&api, &bare) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    accepted(&v, request("GET /pets", &[], ""));

    // 3.1: `default` is served as 200; a text const.
    let api = load("petstore-3.1.json");
    let mock = mock_definition(&api, &MockOptions::default());
    let health = mock["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["path"] == "/api/health"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(health["id"], "get-health");
    assert_eq!(health["response"]["status"], 200);
    assert_eq!(health["response"]["body_text"], "ok");
}

/// The `when` expressions the mock engine evaluates select the answers Prism's `Prefer` would.
#[test]
fn prefer_conditions_evaluate_as_prism_would() {
    let api = load("petstore-3.0.yaml");
    let mock = mock_definition(&api, &MockOptions::default());
    let create = mock["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["id"] == "createPet"))
        .cloned()
        .unwrap_or(Value::Null);
    let answers = create["responses"].as_array().cloned().unwrap_or_default();
    let pick = |prefer: Option<&str>| -> Value {
        let mut headers = Map::new();
        if let Some(p) = prefer {
            headers.insert("prefer".into(), json!(p));
        }
        let mut env = Map::new();
        env.insert("headers".into(), Value::Object(headers));
        for answer in &answers {
            let Some(when) = answer.get("when").and_then(Value::as_str) else {
                return answer.clone();
            };
            let expr = match testmesh_flow::expr::parse(when) {
                Ok(e) => e,
                Err(e) => panic!("{when}: {e}"),
            };
            match expr.eval_bool(&env) {
                Ok(true) => return answer.clone(),
                Ok(false) => {}
                Err(e) => panic!("{when}: {e}"),
            }
        }
        Value::Null
    };
    assert_eq!(pick(None)["status"], 201);
    assert_eq!(pick(None)["body"]["name"], "Rex");
    assert_eq!(pick(Some("code=400"))["status"], 400);
    assert_eq!(pick(Some("code=422"))["status"], 422);
    assert_eq!(pick(Some("code=4000"))["status"], 201);
    assert_eq!(pick(Some("example=tom"))["body"]["name"], "Tom");
    assert_eq!(pick(Some("example=tom, code=201"))["body"]["name"], "Tom");
    assert_eq!(pick(Some("dynamic=true"))["status"], 201);
    assert_eq!(pick(Some("example=rex"))["body"]["name"], "Rex");
    // Only examples other than the first need their own answer.
    assert_eq!(answers.len(), 4, "{answers:?}");
}

#[test]
fn malformed_documents_give_located_errors() {
    let e = parse_err("openapi: 3.0.0\npaths:\n  /a: [\n", "bad.yaml");
    assert!(e.starts_with("bad.yaml:"), "{e}");
    assert!(e.contains(":4:") || e.contains(":3:"), "{e}");

    let e = parse_err("{\"openapi\": \"3.1.0\",\n \"paths\": {,}}", "bad.json");
    assert!(e.starts_with("bad.json:2:"), "{e}");

    let dangling = "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          $ref: '#/components/responses/Nope'\n";
    let e = parse_err(dangling, "d.yaml");
    assert_eq!(
        e,
        "d.yaml:7:17: #/paths/~1a/get/responses/200/$ref: reference \"#/components/responses/Nope\" does not resolve: nothing at #/components/responses/Nope"
    );
    let nested = "openapi: 3.1.0\npaths: {}\ncomponents:\n  schemas:\n    A:\n      properties:\n        b: {items: {$ref: '#/components/schemas/B'}}\n";
    let e = parse_err(nested, "n.yaml");
    assert!(
        e.contains("#/components/schemas/A/properties/b/items/$ref"),
        "{e}"
    );
    assert!(e.starts_with("n.yaml:7:"), "{e}");

    let e = parse_err("title: not an api\n", "x.yaml");
    assert!(e.contains("not an OpenAPI document"), "{e}");
    let e = parse_err("- a\n- b\n", "x.yaml");
    assert!(e.contains("not an OpenAPI document"), "{e}");
    let e = parse_err("", "x.yaml");
    assert!(e.starts_with("x.yaml:1:1: "), "{e}");
    // Swagger 2.0 is converted (tests/openapi_load.rs); older versions are refused.
    let e = parse_err("swagger: '1.2'\npaths: {}\n", "s.yaml");
    assert!(e.contains("unsupported Swagger version \"1.2\""), "{e}");
    let e = parse_err("openapi: 2.5.0\npaths: {}\n", "v.yaml");
    assert!(e.contains("unsupported OpenAPI version \"2.5.0\""), "{e}");
    // An unquoted version reads as a number but is taken as written.
    assert!(OpenApi::parse("openapi: 3.0\npaths: {}\n", "n.yaml").is_ok());

    let cycle = "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      parameters: [{$ref: '#/components/parameters/A'}]\n      responses: {}\ncomponents:\n  parameters:\n    A: {$ref: '#/components/parameters/B'}\n    B: {$ref: '#/components/parameters/A'}\n";
    let e = parse_err(cycle, "c.yaml");
    assert!(e.contains("reference cycle"), "{e}");
    let external = "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: 'other.yaml#/R'}\n";
    let e = parse_err(external, "e.yaml");
    assert!(
        e.contains("external reference \"other.yaml#/R\" is not supported"),
        "{e}"
    );
    let e = parse_err(
        "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      parameters: [{name: q, in: body}]\n",
        "p.yaml",
    );
    assert!(
        e.starts_with("p.yaml:5:20: #/paths/~1a/get/parameters/0: parameter `in`"),
        "{e}"
    );
    let e = parse_err("openapi: 3.0.0\npaths:\n  a: {}\n", "p.yaml");
    assert!(e.contains("must start with `/`"), "{e}");

    match OpenApi::load(&common::fixture_path("does-not-exist.yaml")) {
        Err(ImportError::Read { .. }) => {}
        other => panic!("expected a read error, got {other:?}"),
    }
}

/// Recursive schemas generate finite bodies.
#[test]
fn recursive_schemas_stop() {
    let api = load("petstore-3.0.yaml");
    let sampler = Sampler::new(&api.document, Direction::Response);
    let tree = sampler.sample(&json!({"$ref": "#/components/schemas/Node"}));
    assert_eq!(tree["name"], "string");
    assert!(tree.to_string().len() < 2000, "{tree}");
    // `parent: anyOf [Pet, null]` ends with null instead of nesting.
    let api = load("petstore-3.1.json");
    let sampler = Sampler::new(&api.document, Direction::Response);
    let pet = sampler.sample(&json!({"$ref": "#/components/schemas/Pet"}));
    assert_eq!(pet["parent"], Value::Null);
    assert_eq!(pet["name"], "Rex");
    assert_eq!(pet["rank"], 3);
    assert_eq!(pet["chip"], "000000000000000");
    assert!(
        pet.get("password").is_none(),
        "writeOnly in a response: {pet}"
    );
    let request = Sampler::new(&api.document, Direction::Request)
        .sample(&json!({"$ref": "#/components/schemas/Pet"}));
    assert!(
        request.get("id").is_none(),
        "readOnly in a request: {request}"
    );
}

/// Every node of a document replaced by junk of another shape: loading, mock generation and
/// validation return values or errors, never panic.
#[test]
fn mutated_documents_never_panic() {
    for name in ["petstore-3.0.yaml", "petstore-3.1.json"] {
        mutate(&load(name).document.root().clone());
    }
}

fn mutate(original: &Value) {
    let mut pointers = Vec::new();
    collect_pointers(original, String::new(), &mut pointers);
    assert!(pointers.len() > 100);
    let junk = [json!(null), json!("x"), json!({}), json!(-1)];
    let mut loaded = 0;
    for (i, pointer) in pointers.iter().enumerate() {
        let mut doc = original.clone();
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = junk[i % junk.len()].clone();
        }
        let Ok(api) = OpenApi::parse(&doc.to_string(), "m.json") else {
            continue;
        };
        loaded += 1;
        let _ = mock_definition(&api, &MockOptions::default());
        if let Ok(v) = Validator::new(&api, &MockOptions::default()) {
            let _ = v.validate(&request(
                "POST /api/pets?limit=1",
                &[("content-type", "application/json")],
                r#"{"name": "Rex"}"#,
            ));
            let _ = v.validate(&request("GET /api/pets/1?sort=x", &[], ""));
            let _ = v.validate(&request("GET /v1/pets?limit=x&filter[minAge]=1", &[], ""));
        }
    }
    assert!(
        loaded > pointers.len() / 2,
        "{loaded} of {}",
        pointers.len()
    );
}
