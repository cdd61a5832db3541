//! Loading OpenAPI documents: bad input (syntax errors, dangling and looping references,
//! unsupported versions), a 20 MB document, Swagger 2.0 conversion and references across files.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::{Value, json};
use testmesh_import::ImportError;
use testmesh_import::openapi::{
    Direction, MockOptions, OpenApi, ParameterLocation, Sampler, SpecVersion, Validator, compile,
    mock_definition, to_json_schema,
};

mod common;

use common::{collect_pointers, parse_err, request, validator};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/load")
        .join(name)
}

/// The name a fixture has in messages.
fn shown(name: &str) -> String {
    path(name).display().to_string()
}

fn load(name: &str) -> OpenApi {
    match OpenApi::load(&path(name)) {
        Ok(api) => api,
        Err(e) => panic!("{e}"),
    }
}

fn load_err(name: &str) -> ImportError {
    match OpenApi::load(&path(name)) {
        Ok(_) => panic!("{name} should not load"),
        Err(e) => e,
    }
}

fn parse(text: &str, file: &str) -> OpenApi {
    match OpenApi::parse(text, file) {
        Ok(api) => api,
        Err(e) => panic!("{e}"),
    }
}

/// Samples `schema` both ways, checks the sample is small and valid against the compiled schema.
fn sample_is_finite_and_valid(api: &OpenApi, schema: &Value) -> Value {
    let mut last = Value::Null;
    for direction in [Direction::Request, Direction::Response] {
        let sample = Sampler::new(&api.document, direction).sample(schema);
        assert!(sample.to_string().len() < 20_000, "{sample}");
        let bundled = to_json_schema(&api.document, schema, direction);
        assert!(bundled.get("$defs").is_some(), "{bundled}");
        let compiled = match compile(&api.document, schema, direction) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let errors: Vec<String> = compiled
            .iter_errors(&sample)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{sample}: {errors:?}");
        last = sample;
    }
    last
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    match load_err("errors/invalid.json") {
        ImportError::Syntax {
            file,
            line,
            col,
            message,
        } => {
            assert_eq!((file, line, col), (shown("errors/invalid.json"), 6, 3));
            assert!(
                message.starts_with("invalid JSON: trailing comma"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    match load_err("errors/invalid.yaml") {
        ImportError::Syntax {
            file, line, col, ..
        } => assert_eq!((file, line, col), (shown("errors/invalid.yaml"), 9, 6)),
        other => panic!("{other:?}"),
    }
    // Invalid YAML in a referenced file: that file's position, and where it was referenced.
    let e = load_err("errors/broken-ref.yaml");
    match &e {
        ImportError::Syntax {
            file,
            line,
            message,
            ..
        } => {
            assert_eq!((file.clone(), *line), (shown("errors/broken.yaml"), 5));
            assert!(
                message.ends_with(&format!(
                    "(in a file referenced at {}:7:13: #/components/schemas/A/$ref)",
                    shown("errors/broken-ref.yaml")
                )),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Text given directly names the file it was given as.
    let e = parse_err(
        "openapi: 3.0.3\npaths:\n  /a: {get: {responses: {}}\n",
        "t.yaml",
    );
    assert!(e.starts_with("t.yaml:4:1: invalid YAML"), "{e}");
}

#[test]
fn unresolved_references_name_where_they_are() {
    let e = parse_err(
        "openapi: 3.0.3\npaths: {}\ncomponents:\n  schemas:\n    A:\n      properties:\n        b:\n          $ref: '#/components/schemas/Nope'\n",
        "d.yaml",
    );
    assert_eq!(
        e,
        "d.yaml:8:17: #/components/schemas/A/properties/b/$ref: reference \"#/components/schemas/Nope\" does not resolve: nothing at #/components/schemas/Nope"
    );

    // A file that is not there: the referring file's position and the missing path.
    let e = load_err("errors/missing-file.yaml").to_string();
    assert_eq!(
        e,
        format!(
            "{}:12:23: #/paths/~1a/get/responses/200/content/application~1json/schema/$ref: \
             reference \"./schemas/nope.yaml\" does not resolve: cannot read {}: No such file or \
             directory (os error 2)",
            shown("errors/missing-file.yaml"),
            shown("errors/schemas/nope.yaml")
        )
    );

    // A pointer that leads nowhere in the other file.
    let e = load_err("errors/bad-pointer.yaml").to_string();
    assert_eq!(
        e,
        format!(
            "{}:8:17: #/paths/~1a/get/responses/200/$ref: reference \
             \"../multi/shared/common.json#/components/responses/Gone\" does not resolve: {} has \
             nothing at #/components/responses/Gone",
            shown("errors/bad-pointer.yaml"),
            shown("multi/shared/common.json")
        )
    );

    // A dangling reference inside the referenced file names that file.
    let e = load_err("errors/dangling-inside.yaml").to_string();
    assert_eq!(
        e,
        format!(
            "{}:5:13: #/Thing/properties/part/$ref: reference \"#/Part\" does not resolve: {} has \
             nothing at #/Part",
            shown("errors/things.yaml"),
            shown("errors/things.yaml")
        )
    );

    // URLs are not fetched.
    let e = load_err("errors/remote.yaml").to_string();
    assert!(
        e.starts_with(&format!("{}:12:23: ", shown("errors/remote.yaml"))),
        "{e}"
    );
    assert!(
        e.contains(
            "remote reference \"https://example.com/schemas/pet.json#/Pet\": remote references are not fetched"
        ),
        "{e}"
    );

    // Text has no directory to resolve other files against.
    let e = parse_err(
        "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          $ref: './responses.yaml#/Ok'\n",
        "t.yaml",
    );
    assert!(
        e.starts_with(
            "t.yaml:7:17: #/paths/~1a/get/responses/200/$ref: external reference \"./responses.yaml#/Ok\" is not supported when the document is given as text"
        ),
        "{e}"
    );
    assert!(e.contains("load the document from its file"), "{e}");
}

#[test]
fn reference_chains_that_loop_are_errors() {
    let looped = "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/A'}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n";
    let e = parse_err(looped, "c.yaml");
    assert!(e.starts_with("c.yaml:"), "{e}");
    assert!(e.contains("reference cycle: "), "{e}");
    assert!(
        e.contains("#/components/schemas/A") && e.contains("#/components/schemas/B"),
        "{e}"
    );

    let itself = "openapi: 3.1.0\npaths: {}\ncomponents:\n  schemas:\n    A:\n      $ref: '#/components/schemas/A'\n";
    let e = parse_err(itself, "s.yaml");
    assert_eq!(
        e,
        "s.yaml:6:7: #/components/schemas/A: reference cycle: #/components/schemas/A → #/components/schemas/A (a reference must lead to a value that is not itself only a reference)"
    );

    // Across files: the chain names the file the references are written in.
    let e = load_err("errors/chain-a.yaml").to_string();
    let b = shown("errors/chain-b.yaml");
    assert!(e.starts_with(&format!("{b}:")), "{e}");
    assert!(
        e.contains(&format!("{b}#/X")) && e.contains(&format!("{b}#/Y")),
        "{e}"
    );

    // In Swagger 2.0, the chain is told in the Swagger document's terms.
    let swagger = "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\ndefinitions:\n  A:\n    $ref: '#/definitions/B'\n  B:\n    $ref: '#/definitions/A'\n";
    let e = parse_err(swagger, "s2.yaml");
    assert!(e.starts_with("s2.yaml:"), "{e}");
    assert!(
        e.contains("#/definitions/A") && e.contains("#/definitions/B"),
        "{e}"
    );
    assert!(!e.contains("components"), "{e}");
}

/// Schemas that contain themselves are not reference cycles: they load, and sampling and bundling
/// them end.
#[test]
fn recursive_schemas_load_and_stay_finite() {
    let schemas = "paths: {}\ncomponents:\n  schemas:\n    Node:\n      type: object\n      required: [name]\n      properties:\n        name: {type: string}\n        children:\n          type: array\n          items: {$ref: '#/components/schemas/Node'}\n    A:\n      type: object\n      properties:\n        b: {$ref: '#/components/schemas/B'}\n    B:\n      type: object\n      properties:\n        a: {$ref: '#/components/schemas/A'}\n    Tree:\n      allOf:\n        - $ref: '#/components/schemas/Node'\n        - type: object\n          properties:\n            parent: {$ref: '#/components/schemas/Tree'}\n    Endless:\n      type: object\n      required: [next]\n      properties:\n        value: {type: integer}\n        next:\n          $ref: '#/components/schemas/Endless'\n";
    for version in ["3.0.3", "3.1.0"] {
        let api = parse(&format!("openapi: {version}\n{schemas}"), "r.yaml");
        for name in ["Node", "A", "B", "Tree"] {
            let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
            sample_is_finite_and_valid(&api, &schema);
        }
        // No finite value satisfies `Endless` (each one requires another): sampling still ends,
        // and the compiled schema rejects what it gives.
        let endless = json!({"$ref": "#/components/schemas/Endless"});
        let sample = Sampler::new(&api.document, Direction::Response).sample(&endless);
        assert!(sample.to_string().len() < 20_000, "{sample}");
        match compile(&api.document, &endless, Direction::Response) {
            Ok(v) => assert!(!v.is_valid(&sample), "{sample}"),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn unsupported_versions_are_refused_clearly() {
    let e = parse_err("openapi: 2.5\npaths: {}\n", "v.yaml");
    assert_eq!(
        e,
        "v.yaml:1:10: #/openapi: unsupported OpenAPI version \"2.5\": expected 3.0.x or 3.1.x (a 2.0 document says `swagger: \"2.0\"`, not `openapi`)"
    );
    let e = parse_err("swagger: \"1.2\"\npaths: {}\n", "v.yaml");
    assert_eq!(
        e,
        "v.yaml:1:10: #/swagger: unsupported Swagger version \"1.2\": only Swagger 2.0 (converted to OpenAPI 3.0) and OpenAPI 3.0.x / 3.1.x are read"
    );
    let e = parse_err("{\"openapi\": \"4.0.0\", \"paths\": {}}", "v.json");
    assert_eq!(
        e,
        "v.json:1:13: #/openapi: unsupported OpenAPI version \"4.0.0\": expected 3.0.x or 3.1.x"
    );
    let e = parse_err("info: {title: t, version: '1'}\npaths: {}\n", "v.yaml");
    assert_eq!(
        e,
        "v.yaml:1:1: #: not an OpenAPI document: there is no top-level `openapi` field (expected `openapi: 3.0.x` or `openapi: 3.1.x`, or `swagger: \"2.0\"`)"
    );
    let e = parse_err("openapi: [3]\npaths: {}\n", "v.yaml");
    assert!(
        e.starts_with("v.yaml:1:10: #/openapi: unsupported OpenAPI version \"[3]\""),
        "{e}"
    );
    // Unquoted versions read as numbers are taken as written.
    let api = parse("openapi: 3.1\npaths: {}\n", "n.yaml");
    assert_eq!(api.document.version(), SpecVersion::OpenApi31);
    assert_eq!(api.document.version_text(), "3.1");
    let api = parse(
        "swagger: 2.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
        "n.yaml",
    );
    assert_eq!(api.document.converted_from(), Some("Swagger 2.0"));
    assert_eq!(api.document.version(), SpecVersion::OpenApi30);
}

/// A generated YAML document of about 20 MB: 2,500 paths, three operations each, long
/// descriptions, parameters, inline and shared schemas.
fn big_spec(paths: usize) -> String {
    let mut text = String::with_capacity(21 << 20);
    text.push_str(
        "openapi: 3.0.3\ninfo:\n  title: Big\n  version: '1'\nservers:\n  - url: https://api.example.com/v1\npaths:\n",
    );
    let sentence = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.";
    for i in 0..paths {
        text.push_str(&format!(
            "  /resources{i}/{{id}}:\n    parameters:\n      - name: id\n        in: path\n        required: true\n        schema: {{type: integer, minimum: 1}}\n"
        ));
        for method in ["get", "put", "delete"] {
            text.push_str(&format!(
                "    {method}:\n      operationId: {method}Resource{i}\n      tags: [group{}]\n      summary: {method} resource {i}\n      description: |\n",
                i % 40
            ));
            for line in 0..12 {
                text.push_str(&format!("        {line}. {sentence}\n"));
            }
            text.push_str(
                "      parameters:\n        - name: fields\n          in: query\n          schema:\n            type: array\n            items: {type: string, enum: [id, name, owner, created]}\n        - name: X-Request-Id\n          in: header\n          schema: {type: string, format: uuid}\n",
            );
            if method == "put" {
                text.push_str(&format!(
                    "      requestBody:\n        required: true\n        content:\n          application/json:\n            schema:\n              $ref: '#/components/schemas/Resource{}'\n",
                    i % 500
                ));
            }
            text.push_str(&format!(
                "      responses:\n        '200':\n          description: ok\n          headers:\n            X-Rate-Limit: {{schema: {{type: integer}}}}\n          content:\n            application/json:\n              schema:\n                type: object\n                properties:\n                  data: {{$ref: '#/components/schemas/Resource{}'}}\n                  links:\n                    type: object\n                    properties:\n                      self: {{type: string, format: uri}}\n                      next: {{type: string, format: uri, nullable: true}}\n        '404':\n          description: not found\n",
                i % 500
            ));
        }
    }
    text.push_str("components:\n  schemas:\n");
    for i in 0..500 {
        text.push_str(&format!(
            "    Resource{i}:\n      type: object\n      required: [id]\n      properties:\n        id: {{type: integer}}\n        name: {{type: string, maxLength: 64}}\n        created: {{type: string, format: date-time}}\n        child: {{$ref: '#/components/schemas/Resource{}'}}\n",
            (i + 1) % 500
        ));
    }
    text
}

#[test]
fn a_twenty_megabyte_document_loads() {
    let text = big_spec(2_500);
    assert!(
        (19 << 20..21 << 20).contains(&text.len()),
        "{} bytes",
        text.len()
    );
    let start = Instant::now();
    let api = parse(&text, "big.yaml");
    let elapsed = start.elapsed();
    eprintln!(
        "loaded {} bytes ({} operations) in {elapsed:?}",
        text.len(),
        api.operations.len()
    );
    assert_eq!(api.operations.len(), 7_500);
    assert_eq!(api.base_path, "/v1");
    let last = &api.operations[7_499];
    assert_eq!(last.operation_id.as_deref(), Some("deleteResource2499"));
    assert_eq!(last.parameters.len(), 3);
    // Positions still point into the text near its end.
    let Some(offset) = text.find("  /resources2499/{id}:\n") else {
        panic!("generated text lacks the last path");
    };
    let line = text[..offset].matches('\n').count() + 1;
    let loc = api
        .document
        .locate("/paths/~1resources2499~1{id}/parameters/0");
    assert_eq!((loc.line, loc.col), (Some(line + 2), Some(9)));
    let put = &api.operations[7_498];
    let Some(schema) = put
        .request_body
        .as_ref()
        .and_then(|b| b.content.first())
        .and_then(|m| m.schema.clone())
    else {
        panic!("no request body");
    };
    sample_is_finite_and_valid(&api, &schema);
}

#[test]
fn swagger_2_documents_convert_to_openapi_3() {
    let api = load("petstore-2.0.yaml");
    let doc = &api.document;
    assert_eq!(doc.version(), SpecVersion::OpenApi30);
    assert_eq!(doc.version_text(), "2.0");
    assert_eq!(doc.converted_from(), Some("Swagger 2.0"));
    assert_eq!(api.title, "Swagger Petstore");
    assert_eq!(api.base_path, "/v2");
    assert_eq!(
        doc.root()["servers"],
        json!([{"url": "https://petstore.swagger.io/v2"}, {"url": "http://petstore.swagger.io/v2"}])
    );
    let ids: Vec<&str> = api
        .operations
        .iter()
        .filter_map(|o| o.operation_id.as_deref())
        .collect();
    assert_eq!(
        ids,
        [
            "updatePet",
            "addPet",
            "findPetsByStatus",
            "getPetById",
            "updatePetWithForm",
            "deletePet",
            "uploadFile",
            "placeOrder",
            "loginUser"
        ]
    );
    let op = |id: &str| match api.operation(id) {
        Some(op) => op,
        None => panic!("no operation {id}"),
    };

    // A body parameter becomes the request body, one media type per `consumes`.
    let Some(body) = &op("addPet").request_body else {
        panic!("addPet has no body");
    };
    assert!(body.required);
    let types: Vec<&str> = body.content.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(types, ["application/json", "application/xml"]);
    assert_eq!(
        body.content[0].schema,
        Some(json!({"$ref": "#/components/schemas/Pet"}))
    );
    assert!(op("addPet").parameters.is_empty());
    let responses: Vec<&str> = op("addPet")
        .responses
        .iter()
        .map(|r| r.status.as_str())
        .collect();
    assert_eq!(responses, ["200", "405"]);
    let ok = &op("addPet").responses[0];
    let types: Vec<&str> = ok.content.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(types, ["application/json", "application/xml"]);
    // A shared body parameter, referenced, is inlined; global `consumes` applies.
    let Some(body) = &op("updatePet").request_body else {
        panic!("updatePet has no body");
    };
    assert_eq!(body.content.len(), 1);
    assert_eq!(body.content[0].name, "application/json");
    assert_eq!(
        doc.root()["components"]["requestBodies"]["PetBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/Pet"
    );
    // Shared responses keep their references, which now point into components.
    let bad = &op("updatePet").responses[1];
    assert_eq!(bad.description, "Invalid request");
    assert_eq!(
        bad.content[0].schema,
        Some(json!({"$ref": "#/components/schemas/Error"}))
    );

    // Form parameters: urlencoded, an object schema with the required ones.
    let Some(form) = &op("updatePetWithForm").request_body else {
        panic!("no form body");
    };
    assert!(form.required);
    assert_eq!(form.content[0].name, "application/x-www-form-urlencoded");
    assert_eq!(
        form.content[0].schema,
        Some(json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "Updated name of the pet"},
                "status": {"type": "string", "enum": ["available", "pending", "sold"], "description": "Updated status of the pet"},
                "tags": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["name"]
        }))
    );
    // The path-level parameter applies to every operation of the path.
    let pet_id = &op("updatePetWithForm").parameters[0];
    assert_eq!(
        (pet_id.name.as_str(), pet_id.location, pet_id.required),
        ("petId", ParameterLocation::Path, true)
    );
    assert_eq!(
        pet_id.schema,
        Some(json!({"type": "integer", "format": "int64", "minimum": 1}))
    );
    // A file makes it multipart, the file a binary string.
    let Some(upload) = &op("uploadFile").request_body else {
        panic!("no upload body");
    };
    assert_eq!(upload.content[0].name, "multipart/form-data");
    assert_eq!(
        upload.content[0]
            .schema
            .as_ref()
            .map(|s| s["properties"]["file"].clone()),
        Some(json!({"type": "string", "format": "binary"}))
    );

    // Non-body parameters get schemas; `multi` arrays explode.
    let status = &op("findPetsByStatus").parameters[0];
    assert_eq!((status.style.as_str(), status.explode), ("form", true));
    assert_eq!(
        status.schema,
        Some(
            json!({"type": "array", "items": {"type": "string", "default": "available", "enum": ["available", "pending", "sold"]}})
        )
    );
    let limit = &op("findPetsByStatus").parameters[1];
    assert_eq!(limit.name, "limit");
    assert_eq!(
        limit.schema,
        Some(
            json!({"type": "integer", "format": "int32", "default": 20, "maximum": 100, "minimum": 1})
        )
    );
    let api_key = &op("deletePet").parameters[1];
    assert_eq!(
        (api_key.name.as_str(), api_key.location),
        ("api_key", ParameterLocation::Header)
    );
    assert_eq!(
        api_key.schema,
        Some(json!({"type": "string", "nullable": true}))
    );

    // Response examples and headers.
    let found = &op("findPetsByStatus").responses[0];
    assert_eq!(
        found.content[0].example,
        Some(json!([{"id": 1, "name": "Rex", "photoUrls": [], "status": "available"}]))
    );
    let headers: Vec<(&str, Option<Value>)> = found
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.schema.clone()))
        .collect();
    assert_eq!(
        headers,
        [
            (
                "X-Rate-Limit",
                Some(json!({"type": "integer", "format": "int32"}))
            ),
            ("X-Next", Some(json!({"type": "string"})))
        ]
    );
    let login = &op("loginUser").responses[0];
    assert_eq!(login.content[0].name, "text/plain");

    // Security definitions.
    let schemes = &doc.root()["components"]["securitySchemes"];
    assert_eq!(
        schemes["petstore_auth"],
        json!({"type": "oauth2", "flows": {"implicit": {
            "authorizationUrl": "https://petstore.swagger.io/oauth/authorize",
            "scopes": {"write:pets": "modify pets in your account", "read:pets": "read your pets"}
        }}})
    );
    assert_eq!(
        schemes["api_key"],
        json!({"type": "apiKey", "name": "api_key", "in": "header"})
    );
    assert_eq!(
        schemes["basic_auth"],
        json!({"type": "http", "scheme": "basic", "description": "HTTP basic authentication"})
    );
    assert_eq!(
        schemes["partner"]["flows"]["clientCredentials"]["tokenUrl"],
        "https://petstore.swagger.io/oauth/token"
    );
    assert!(schemes["web"]["flows"]["authorizationCode"]["authorizationUrl"].is_string());
    assert_eq!(
        doc.root()["paths"]["/pet"]["post"]["security"],
        json!([{"petstore_auth": ["write:pets", "read:pets"]}])
    );

    // Definitions are schemas: nested references, recursion and `x-nullable`.
    let pet = &doc.root()["components"]["schemas"]["Pet"];
    assert_eq!(
        pet["properties"]["nickname"],
        json!({"type": "string", "nullable": true})
    );
    assert_eq!(
        pet["properties"]["tags"]["items"]["$ref"],
        "#/components/schemas/Tag"
    );
    assert_eq!(
        doc.root()["components"]["schemas"]["Category"]["properties"]["parent"]["$ref"],
        "#/components/schemas/Category"
    );
    let sample = sample_is_finite_and_valid(&api, &json!({"$ref": "#/components/schemas/Pet"}));
    assert_eq!(sample["name"], "doggie");

    // The converted document serves mocks and validates requests as an OpenAPI 3 one does.
    let definition = mock_definition(&api, &MockOptions::default());
    assert!(
        definition.to_string().contains("/v2/pet/findByStatus"),
        "{definition}"
    );
    let v = validator(&api);
    let json_type = [("content-type", "application/json")];
    assert!(
        v.validate(&request(
            "POST /v2/pet",
            &json_type,
            r#"{"name": "Rex", "photoUrls": ["http://x/1.png"], "nickname": null}"#
        ))
        .is_ok()
    );
    let rejected = v.validate(&request("POST /v2/pet", &json_type, r#"{"name": 5}"#));
    assert!(
        matches!(&rejected, Err(r) if r.status == 422),
        "{rejected:?}"
    );
    let form_type = [("content-type", "application/x-www-form-urlencoded")];
    assert!(
        v.validate(&request(
            "POST /v2/pet/3",
            &form_type,
            "name=Rex&status=sold"
        ))
        .is_ok()
    );
    let rejected = v.validate(&request("POST /v2/pet/3", &form_type, "status=lost"));
    assert!(rejected.is_err(), "{rejected:?}");
    let rejected = v.validate(&request("GET /v2/pet/0", &[], ""));
    assert!(
        matches!(&rejected, Err(r) if r.status == 400 || r.status == 422),
        "{rejected:?}"
    );
}

#[test]
fn swagger_errors_point_into_the_swagger_text() {
    let head = "swagger: '2.0'\ninfo: {title: t, version: '1'}\n";
    let two_bodies = format!(
        "{head}paths:\n  /a:\n    post:\n      parameters:\n        - {{in: body, name: a, schema: {{type: object}}}}\n        - {{in: body, name: b, schema: {{type: object}}}}\n      responses: {{}}\n"
    );
    let e = parse_err(&two_bodies, "s.yaml");
    assert_eq!(
        e,
        "s.yaml:8:11: #/paths/~1a/post/parameters/1: a second `in: body` parameter (\"a\" already is the body); Swagger 2.0 allows one"
    );
    let mixed = format!(
        "{head}paths:\n  /a:\n    parameters:\n      - {{in: body, name: a, schema: {{type: object}}}}\n    post:\n      parameters:\n        - {{in: formData, name: f, type: string}}\n      responses: {{}}\n"
    );
    let e = parse_err(&mixed, "s.yaml");
    assert!(
        e.starts_with("s.yaml:9:11: #/paths/~1a/post/parameters/0: `in: formData` parameter \"f\" beside the `in: body` parameter \"a\""),
        "{e}"
    );
    let security = format!("{head}paths: {{}}\nsecurityDefinitions:\n  k:\n    type: token\n");
    let e = parse_err(&security, "s.yaml");
    assert_eq!(
        e,
        "s.yaml:6:5: #/securityDefinitions/k: security definition `type` must be basic, apiKey or oauth2, got \"token\""
    );
    let oauth = format!(
        "{head}paths: {{}}\nsecurityDefinitions:\n  o:\n    type: oauth2\n    flow: password\n"
    );
    let e = parse_err(&oauth, "s.yaml");
    assert!(
        e.contains("the oauth2 `password` flow needs `tokenUrl`"),
        "{e}"
    );
    let location = format!(
        "{head}paths:\n  /a:\n    get:\n      parameters:\n        - {{in: cookie, name: c, type: string}}\n      responses: {{}}\n"
    );
    let e = parse_err(&location, "s.yaml");
    assert!(
        e.starts_with("s.yaml:7:11: #/paths/~1a/get/parameters/0: parameter `in` must be body, formData, path, query or header, got \"cookie\""),
        "{e}"
    );
    // A dangling reference is reported as written, where written.
    let dangling = format!(
        "{head}paths: {{}}\ndefinitions:\n  Pet:\n    properties:\n      owner:\n        $ref: '#/definitions/Owner'\n"
    );
    let e = parse_err(&dangling, "s.yaml");
    assert_eq!(
        e,
        "s.yaml:8:15: #/definitions/Pet/properties/owner/$ref: reference \"#/definitions/Owner\" does not resolve: nothing at #/definitions/Owner"
    );
    // Errors found after conversion still point into the Swagger text.
    let path = format!("{head}paths:\n  pets:\n    get:\n      responses: {{}}\n");
    let e = parse_err(&path, "s.yaml");
    assert_eq!(
        e,
        "s.yaml:5:5: #/paths/pets: path \"pets\" must start with `/`"
    );
    let api = load("petstore-2.0.yaml");
    let loc = api
        .document
        .locate("/paths/~1pet/post/requestBody/content/application~1xml/schema");
    assert_eq!(
        (loc.file, loc.pointer.as_str(), loc.line, loc.col),
        (
            shown("petstore-2.0.yaml"),
            "/paths/~1pet/post/parameters/0/schema",
            Some(38),
            Some(13)
        )
    );
    let loc = api
        .document
        .locate("/components/schemas/Pet/properties/nickname");
    assert_eq!(
        (loc.pointer.as_str(), loc.line),
        ("/definitions/Pet/properties/nickname", Some(359))
    );
}

#[test]
fn multi_file_documents_bundle_references_across_files() {
    let api = load("multi/openapi.yaml");
    let doc = &api.document;
    let files: Vec<String> = doc.external_files().iter().map(|f| f.to_string()).collect();
    assert_eq!(
        files,
        [
            shown("multi/schemas/pet.yaml"),
            shown("multi/shared/common.json"),
            shown("multi/paths/pet-by-id.yaml"),
            shown("multi/schemas/owner.yaml"),
        ]
    );
    let ids: Vec<&str> = api
        .operations
        .iter()
        .filter_map(|o| o.operation_id.as_deref())
        .collect();
    assert_eq!(ids, ["listPets", "createPet", "getPet", "deletePet"]);

    // `Pet: {$ref: ./schemas/pet.yaml}` takes the file's content; the owner it refers to refers back.
    let schemas = &doc.root()["components"]["schemas"];
    assert_eq!(schemas["Pet"]["required"], json!(["name"]));
    assert_eq!(
        schemas["Pet"]["properties"]["owner"]["$ref"],
        "#/components/schemas/owner"
    );
    assert_eq!(
        schemas["owner"]["properties"]["pets"]["items"]["$ref"],
        "#/components/schemas/Pet"
    );
    assert_eq!(
        schemas["owner"]["properties"]["lastError"]["$ref"],
        "#/components/schemas/Error"
    );
    assert_eq!(
        schemas["Tag"]["properties"]["related"]["items"]["$ref"],
        "#/components/schemas/Tag"
    );

    // Parameters, responses and path items from other files.
    let list = &api.operations[0];
    assert_eq!(list.parameters[0].name, "limit");
    assert_eq!(
        list.parameters[0].schema,
        Some(json!({"type": "integer", "minimum": 1, "maximum": 50}))
    );
    let problem = &list.responses[1];
    assert_eq!(
        (problem.status.as_str(), problem.content[0].name.as_str()),
        ("default", "application/problem+json")
    );
    let get = &api.operations[2];
    assert_eq!(get.path, "/pets/{id}");
    assert_eq!(
        (get.parameters[0].name.as_str(), get.parameters[0].location),
        ("id", ParameterLocation::Path)
    );
    assert_eq!(
        get.responses[0].content[0].schema,
        Some(json!({"$ref": "#/components/schemas/Pet"}))
    );

    // Positions of bundled parts are in their own files.
    let loc = doc.locate("/components/schemas/owner/properties/email");
    assert_eq!(
        (loc.file, loc.pointer.as_str(), loc.line, loc.col),
        (
            shown("multi/schemas/owner.yaml"),
            "/properties/email",
            Some(6),
            Some(5)
        )
    );
    let loc = doc.locate("/paths/~1pets~1{id}/get");
    assert_eq!(
        (loc.file, loc.line, loc.col),
        (shown("multi/paths/pet-by-id.yaml"), Some(8), Some(3))
    );
    let loc = doc.locate("/components/schemas/Pet/properties/name");
    assert_eq!(
        (loc.file, loc.line),
        (shown("multi/schemas/pet.yaml"), Some(8))
    );
    let loc = doc.locate("/paths/~1pets/post");
    assert_eq!(
        (loc.file, loc.line),
        (shown("multi/openapi.yaml"), Some(25))
    );

    // The recursive schemas across files sample, bundle and validate.
    let pet = sample_is_finite_and_valid(&api, &json!({"$ref": "#/components/schemas/Pet"}));
    assert_eq!(pet["name"], "Rex");
    // Mocks and validation use the other files' schemas.
    let _ = mock_definition(&api, &MockOptions::default());
    let v = validator(&api);
    let json_type = [("content-type", "application/json")];
    assert!(
        v.validate(&request(
            "POST /api/pets",
            &json_type,
            r#"{"name": "Rex", "tags": [{"label": "good"}], "owner": {"email": "a@b.io", "pets": [{"name": "Tom"}]}}"#
        ))
        .is_ok()
    );
    let long_label = v.validate(&request(
        "POST /api/pets",
        &json_type,
        r#"{"name": "Rex", "tags": [{"label": "a label that is far too long"}]}"#,
    ));
    assert!(
        matches!(&long_label, Err(r) if r.status == 422),
        "{long_label:?}"
    );
    let no_email = v.validate(&request(
        "POST /api/pets",
        &json_type,
        r#"{"name": "Rex", "owner": {"pets": []}}"#,
    ));
    assert!(
        matches!(&no_email, Err(r) if r.status == 422),
        "{no_email:?}"
    );
    let too_many = v.validate(&request("GET /api/pets?limit=51", &[], ""));
    assert!(
        matches!(&too_many, Err(r) if r.status == 400),
        "{too_many:?}"
    );

    // An error in a part from another file names that file.
    let e = load_err("errors/bad-in-external.yaml").to_string();
    assert_eq!(
        e,
        format!(
            "{}:6:7: #/get/parameters/1: parameter `in` must be path, query, header or cookie, got \"body\"",
            shown("errors/bad-path-item.yaml")
        )
    );
}

#[test]
fn swagger_documents_split_across_files_convert() {
    let api = load("swagger-multi/api.yaml");
    assert_eq!(
        api.document.external_files(),
        [shown("swagger-multi/definitions.yaml")]
    );
    assert_eq!(api.base_path, "/api");
    let schemas = &api.document.root()["components"]["schemas"];
    assert_eq!(
        schemas["Order"]["properties"]["note"],
        json!({"type": "string", "nullable": true})
    );
    assert_eq!(
        schemas["Order"]["properties"]["lines"]["items"]["$ref"],
        "#/components/schemas/Line"
    );
    assert_eq!(
        schemas["Line"]["properties"]["order"]["$ref"],
        "#/components/schemas/Order"
    );
    let create = &api.operations[0];
    let Some(body) = &create.request_body else {
        panic!("no body");
    };
    assert_eq!(
        body.content[0].schema,
        Some(json!({"$ref": "#/components/schemas/Order"}))
    );
    let order = sample_is_finite_and_valid(&api, &json!({"$ref": "#/components/schemas/Order"}));
    assert!(order["item"].is_string(), "{order}");
    let loc = api
        .document
        .locate("/components/schemas/Line/properties/sku");
    assert_eq!(
        (loc.file, loc.pointer.as_str(), loc.line),
        (
            shown("swagger-multi/definitions.yaml"),
            "/Line/properties/sku",
            Some(17)
        )
    );
}

/// Every node of the Swagger petstore replaced by junk of another shape: conversion, loading, mock
/// generation and validation return values or errors, never panic.
#[test]
fn mutated_swagger_documents_never_panic() {
    let original = match testmesh_import::Source::load(&path("petstore-2.0.yaml")) {
        Ok(source) => source.into_root(),
        Err(e) => panic!("{e}"),
    };
    let mut pointers = Vec::new();
    collect_pointers(&original, String::new(), &mut pointers);
    assert!(pointers.len() > 300, "{}", pointers.len());
    let junk = [json!(null), json!("x"), json!({}), json!([1]), json!(-1)];
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
                "POST /v2/pet",
                &[("content-type", "application/json")],
                r#"{"name": "Rex", "photoUrls": []}"#,
            ));
            let _ = v.validate(&request(
                "POST /v2/pet/1",
                &[("content-type", "application/x-www-form-urlencoded")],
                "name=a",
            ));
        }
    }
    assert!(
        loaded > pointers.len() / 2,
        "{loaded} of {}",
        pointers.len()
    );
}
