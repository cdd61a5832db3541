//! `testmesh import` and `testmesh coverage` as users run them: flows imported from a document run
//! against a server answering that document, nothing is half-written, coverage gates CI.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use testmesh_test::Running;

fn testmesh(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_testmesh"));
    cmd.env("NO_COLOR", "1").current_dir(dir).env(
        "TESTMESH_DATABASE_URL",
        format!("sqlite://{}", dir.join("history.db").display()),
    );
    cmd
}

fn import_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testmesh-import/tests/fixtures")
        .join(name)
}

const PETS: &str = r##"openapi: 3.0.3
info: {title: Pets, version: "1"}
servers: [{url: "http://localhost:8080/v1"}]
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      responses:
        "200":
          description: the pets
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}
              example: [{id: 1, name: Rex, tag: dog}]
    post:
      operationId: createPet
      summary: Create a pet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewPet"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
              example: {id: 2, name: Tom, tag: cat}
  /pets/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer, example: 1}}
    get:
      operationId: getPet
      summary: Get a pet
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
              example: {id: 1, name: Rex, tag: dog}
        "404": {description: not found}
components:
  schemas:
    NewPet:
      type: object
      required: [name]
      properties:
        name: {type: string, minLength: 1}
        tag: {type: string, enum: [dog, cat]}
    Pet:
      allOf:
        - $ref: "#/components/schemas/NewPet"
        - type: object
          required: [id]
          properties: {id: {type: integer}}
"##;

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn imported_openapi_flows_validate_and_pass_against_a_mock_of_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pets.yaml"), PETS).unwrap();
    testmesh(dir.path())
        .args([
            "import",
            "openapi",
            "pets.yaml",
            "-o",
            "flows",
            "--negative",
        ])
        .assert()
        .code(0)
        .stdout(
            contains("openapi Pets: wrote")
                .and(contains("list-pets.yaml"))
                .and(contains("next: testmesh validate flows")),
        );
    let written = files_in(&dir.path().join("flows"));
    assert!(
        written.contains(&"create-a-pet.yaml".to_string()),
        "{written:?}"
    );
    assert!(
        written.iter().any(|f| f.contains("negative")),
        "{written:?}"
    );
    testmesh(dir.path())
        .args(["validate", "flows", "--strict"])
        .assert()
        .code(0);

    // `mock serve --openapi` answers from the examples and rejects what the document forbids:
    // positive flows pass against it, and so do the negative ones.
    let mut mock = Running::start(
        env!("CARGO_BIN_EXE_testmesh"),
        &["mock", "serve", "--openapi", "pets.yaml", "--no-watch"],
        dir.path(),
    );
    let base = mock.url_of("pets");
    let output = testmesh(dir.path())
        .args(["run", "flows", "--var"])
        .arg(format!("BASE_URL={base}/v1"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    mock.terminate();

    // The run was recorded: its requests, with the statuses they got, count as coverage.
    let output = testmesh(dir.path())
        .args([
            "coverage",
            "--spec",
            "pets.yaml",
            "--from-history",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["covered_endpoints"], 3, "{json}");
    let listed = json.to_string();
    assert!(listed.contains("\"history\""), "{json}");
}

#[test]
fn an_import_never_overwrites_or_half_writes_and_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pets.yaml"), PETS).unwrap();
    testmesh(dir.path())
        .args(["import", "openapi", "pets.yaml", "-o", "out", "--dry-run"])
        .assert()
        .code(0)
        .stdout(contains("would write 3 flow(s)"));
    assert!(!dir.path().join("out").exists());

    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/get-a-pet.yaml"), "# mine\n").unwrap();
    testmesh(dir.path())
        .args(["import", "openapi", "pets.yaml", "-o", "out"])
        .assert()
        .code(2)
        .stderr(
            contains("already exist")
                .and(contains("get-a-pet.yaml"))
                .and(contains("--force")),
        );
    assert_eq!(files_in(&dir.path().join("out")), ["get-a-pet.yaml"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/get-a-pet.yaml")).unwrap(),
        "# mine\n"
    );
    testmesh(dir.path())
        .args([
            "import",
            "openapi",
            "pets.yaml",
            "-o",
            "out",
            "--force",
            "--format",
            "json",
        ])
        .assert()
        .code(0)
        .stdout(contains("\"source_type\": \"openapi\"").and(contains("\"written\"")));
    assert_eq!(files_in(&dir.path().join("out")).len(), 3);
}

#[test]
fn bad_documents_name_file_line_and_column_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "openapi",
            "broken.yaml",
            "openapi: 3.0.3\npaths: [\n",
            "broken.yaml:",
        ),
        (
            "openapi",
            "old.yaml",
            "openapi: 2.5.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
            "unsupported OpenAPI version",
        ),
        (
            "openapi",
            "dangling.yaml",
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: '#/components/responses/Nope'}\n",
            "dangling.yaml:7:",
        ),
        (
            "pact",
            "pact.json",
            "{\"consumer\": {\"name\": \"a\"},\n \"interactions\": 3}",
            "pact.json",
        ),
        (
            "postman",
            "c.json",
            "{\"info\": {\"name\": \"x\"}, \"item\": [",
            "c.json:1:",
        ),
    ];
    for (kind, file, text, expected) in cases {
        std::fs::write(dir.path().join(file), text).unwrap();
        testmesh(dir.path())
            .args(["import", kind, file, "-o", "out"])
            .assert()
            .code(2)
            .stderr(contains(expected));
    }
    testmesh(dir.path())
        .args(["import", "har", "missing.har", "-o", "out"])
        .assert()
        .code(2)
        .stderr(contains("missing.har: cannot read"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn imported_pacts_and_postman_collections_validate() {
    let dir = tempfile::tempdir().unwrap();
    testmesh(dir.path())
        .args(["import", "pact"])
        .arg(import_fixture("pact/v4.json"))
        .args(["-o", "pact"])
        .assert()
        .code(0)
        .stdout(contains("pact ").and(contains("skipped")));
    testmesh(dir.path())
        .args(["validate", "pact", "--strict"])
        .assert()
        .code(0);
}

#[test]
fn coverage_reads_flows_gates_ci_and_writes_html() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pets.yaml"), PETS).unwrap();
    std::fs::create_dir(dir.path().join("flows")).unwrap();
    std::fs::write(
        dir.path().join("flows/pets.yaml"),
        "name: pets\nsteps:\n  - id: one\n    action: http_request\n    config: {method: GET, url: \"${BASE_URL}/pets/${id}\"}\n    assert: [status == 200]\n  - id: odd\n    action: http\n    config: {method: GET, url: \"http://localhost:8080/v1/cats\"}\n",
    )
    .unwrap();
    testmesh(dir.path())
        .args(["coverage", "--spec", "pets.yaml", "flows"])
        .assert()
        .code(0)
        .stdout(
            contains("33.3%")
                .and(contains("GET /pets/{id}"))
                .and(contains("POST /pets"))
                .and(contains("/cats")),
        );
    let output = testmesh(dir.path())
        .args([
            "coverage",
            "--spec",
            "pets.yaml",
            "flows",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["total_endpoints"], 3, "{json}");
    assert_eq!(json["covered_endpoints"], 1, "{json}");
    testmesh(dir.path())
        .args([
            "coverage",
            "--spec",
            "pets.yaml",
            "flows",
            "--fail-under",
            "50",
        ])
        .assert()
        .code(1)
        .stdout(contains("under --fail-under 50"));
    testmesh(dir.path())
        .args([
            "coverage",
            "--spec",
            "pets.yaml",
            "flows",
            "-f",
            "html",
            "-o",
            "cov.html",
        ])
        .assert()
        .code(0)
        .stderr(contains("wrote cov.html"));
    let html = std::fs::read_to_string(dir.path().join("cov.html")).unwrap();
    assert!(
        html.contains("<html") && html.contains("/pets/{id}"),
        "{html}"
    );
    testmesh(dir.path())
        .args(["coverage", "--spec", "pets.yaml"])
        .assert()
        .code(2)
        .stderr(contains("--from-history"));
}
