//! `contract_generate`, `contract_verify` and `verify_contract_interaction`, run by the real executor over real HTTP against mock
//! providers and a plain HTTP provider.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::sync::Arc;

use serde_json::Value;
use testmesh_contract::{
    ContractRepository, MemoryRepository, VerifyOptions, parse_pact, verify_pact,
};
use testmesh_mock::{HubConfig, MockHub};
use testmesh_runner::{
    FlowLibrary, FlowRecord, FlowStatus, NoEvents, RunOptions, Runner, Secrets, StepRecord,
    StepStatus, actions,
};

fn runner(hub: &Arc<MockHub>, repo: Arc<dyn ContractRepository>) -> Runner {
    let mut registry = actions::builtin();
    testmesh_mock::actions::register(&mut registry, hub.clone());
    testmesh_contract::actions::register(&mut registry, repo);
    Runner::new(
        registry,
        Arc::new(NoEvents),
        Secrets::new(["s3cr3t-token".to_string()]),
        FlowLibrary::default(),
    )
}

async fn run(hub: &Arc<MockHub>, repo: &Arc<MemoryRepository>, yaml: &str) -> FlowRecord {
    let loaded = testmesh_flow::load_str(yaml);
    let errors: Vec<String> = loaded.errors().map(|d| d.message.clone()).collect();
    assert!(errors.is_empty(), "flow does not load: {errors:#?}");
    runner(hub, repo.clone())
        .run(&loaded.flow.unwrap(), None, &RunOptions::default())
        .await
}

fn step<'a>(record: &'a FlowRecord, id: &str) -> &'a StepRecord {
    record
        .steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

fn result(record: &FlowRecord, id: &str) -> Value {
    step(record, id).result.clone().unwrap_or(Value::Null)
}

fn assert_passed(record: &FlowRecord) {
    let failures: Vec<String> = record
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Failed)
        .map(|s| format!("{}: {:?}", s.id, s.error.as_ref().map(|e| &e.message)))
        .collect();
    assert_eq!(
        record.status,
        FlowStatus::Passed,
        "{failures:#?} {:?}",
        record.error
    );
}

const USER_ID: &str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";

fn provider_flow(output_file: &str) -> String {
    format!(
        r#"
name: consumer of users
setup:
  - id: provider
    action: mock_server_start
    config:
      name: users-provider
      keep_running: true
      endpoints:
        - path: /users
          method: GET
          response:
            status_code: 200
            body_json:
              users:
                - {{id: 1, name: Ann, created_at: "2024-05-01T10:00:00Z"}}
                - {{id: 2, name: Bob, created_at: "2024-05-02T11:00:00Z"}}
        - path: /users/me
          method: GET
          response:
            status_code: 200
            body_json: {{id: "{USER_ID}", name: Ann, born: "1990-01-31"}}
        - path: /users
          method: POST
          response:
            status_code: 201
            body_json: {{id: 3, name: "{{{{request.body.name}}}}"}}
steps:
  - id: list
    name: list users
    action: http_request
    config: {{method: GET, url: "{{{{provider.base_url}}}}/users", headers: {{Accept: application/json}}}}
  - id: list_again
    name: list users
    action: http_request
    config: {{method: GET, url: "{{{{provider.base_url}}}}/users", headers: {{Accept: application/json}}}}
  - id: me
    name: get me
    action: http_request
    contract:
      description: the signed-in user
      provider_state: Ann is signed in
      matching_rules:
        $.name: type
    config:
      method: GET
      url: "{{{{provider.base_url}}}}/users/me"
      headers: {{Authorization: Bearer s3cr3t-token, X-Trace: abc}}
  - id: create
    name: create a user
    action: http_request
    config:
      method: POST
      url: "{{{{provider.base_url}}}}/users"
      body: {{name: Cid}}
    assert: [status == 201]
  - id: generate
    action: contract_generate
    config:
      consumer: web
      provider: users
      version: 1.0.0
      export_json: true
      output_file: "{output_file}"
  - id: verify
    action: contract_verify
    config:
      contract_id: "{{{{generate.contract_id}}}}"
      provider_base_url: "{{{{provider.base_url}}}}"
      provider_version: 2.0.0
    assert: [status == "passed"]
"#
    )
}

#[tokio::test]
async fn generates_from_the_run_and_verifies_against_the_mock_then_a_changed_mock() {
    let hub = Arc::new(MockHub::new(HubConfig::default()));
    let repo = Arc::new(MemoryRepository::new());
    let dir = tempfile::tempdir().unwrap();
    let pact_path = dir.path().join("pacts/web-users.json");
    let record = run(
        &hub,
        &repo,
        &provider_flow(&pact_path.display().to_string()),
    )
    .await;
    assert_passed(&record);

    let generated = result(&record, "generate");
    assert_eq!(generated["status"], "generated");
    assert_eq!(generated["interactions"], 3, "{generated}");
    assert_eq!(generated["source"], "requests");
    assert_eq!(generated["replaced"], false);
    let pact = &generated["pact_json"];
    let me = &pact["interactions"][1];
    assert_eq!(me["description"], "the signed-in user");
    assert_eq!(me["providerStates"][0]["name"], "Ann is signed in");
    assert!(me["request"]["headers"].get("X-Trace").is_none());
    let rules = &me["response"]["matchingRules"]["body"];
    assert_eq!(rules["$.id"]["matchers"][0]["match"], "regex");
    assert_eq!(rules["$.born"]["matchers"][0]["match"], "date");
    assert_eq!(rules["$.name"]["matchers"][0]["match"], "type");
    let list_rules = &pact["interactions"][0]["response"]["matchingRules"]["body"];
    assert_eq!(list_rules["$.users"]["matchers"][0]["min"], 1);
    assert_eq!(
        list_rules["$.users[*].created_at"]["matchers"][0]["match"],
        "datetime"
    );
    let text = std::fs::read_to_string(&pact_path).unwrap();
    assert!(!text.contains("s3cr3t"), "the secret reached the pact file");
    let file: Value = serde_json::from_str(&text).unwrap();
    // (Step records mask every Authorization value; the pact itself holds the placeholder.)
    assert_eq!(
        file["interactions"][1]["request"]["headers"]["Authorization"][0],
        "REDACTED"
    );
    assert_eq!(file["interactions"].as_array().unwrap().len(), 3);

    let verified = result(&record, "verify");
    assert_eq!(verified["status"], "passed", "{verified}");
    assert_eq!(verified["total_interactions"], 3);
    assert_eq!(verified["passed_interactions"], 3);
    assert_eq!(verified["summary"], "All 3 interactions passed");
    assert_eq!(repo.verifications().len(), 1);
    assert_eq!(repo.verifications()[0].provider_version, "2.0.0");

    // The written pact, read back, passes our verifier against the same provider.
    let mock = hub.find_by_name("users-provider").unwrap();
    let base = mock.base_url().unwrap().to_string();
    let report = verify_pact(&parse_pact(&text).unwrap(), &VerifyOptions::new(&base))
        .await
        .unwrap();
    assert!(!report.failed(), "{}", report.to_json_string());

    // The provider changes: the id becomes a number and a field goes away.
    let contract_id = generated["contract_id"].as_str().unwrap().to_string();
    let changed = format!(
        r#"
name: verify a changed provider
steps:
  - id: change
    action: mock_server_configure
    config:
      server_id: users-provider
      endpoints:
        - path: /users/me
          method: GET
          response:
            status_code: 200
            body_json: {{id: 7, name: Ann}}
  - id: verify
    action: contract_verify
    config:
      contract_id: "{contract_id}"
      provider_base_url: "{base}"
      fail_on_mismatch: false
  - id: strict
    action: contract_verify
    on_error: continue
    config:
      contract_id: "{contract_id}"
      provider_base_url: "{base}"
  - id: one_still_passing
    action: verify_contract_interaction
    config:
      contract_id: "{contract_id}"
      interaction: list users
      provider_base_url: "{base}"
  - id: one_broken
    action: verify_contract_interaction
    on_error: continue
    config:
      contract_id: "{contract_id}"
      interaction: the signed-in user
      provider_base_url: "{base}"
  - id: one_misspelt
    action: verify_contract_interaction
    on_error: continue
    config:
      contract_id: "{contract_id}"
      interaction: the signed in user
      provider_base_url: "{base}"
"#
    );
    let record = run(&hub, &repo, &changed).await;
    let verified = result(&record, "verify");
    assert_eq!(
        step(&record, "verify").status,
        StepStatus::Passed,
        "with fail_on_mismatch: false a failed verification is a result"
    );
    assert_eq!(verified["status"], "failed");
    assert_eq!(verified["failed_interactions"], 1);
    assert_eq!(verified["summary"], "1 of 3 interactions failed");
    let mismatches = verified["mismatches"].as_array().unwrap();
    assert!(
        mismatches
            .iter()
            .any(|m| m["interaction"] == "the signed-in user" && m["path"] == "$.id"),
        "{mismatches:#?}"
    );
    assert!(
        mismatches.iter().any(|m| m["path"] == "$.born"),
        "{mismatches:#?}"
    );
    let strict = step(&record, "strict");
    assert_eq!(strict.status, StepStatus::Failed);
    let message = &strict.error.as_ref().unwrap().message;
    assert!(
        message.contains("1 of 3 interactions failed") && message.contains("$.id"),
        "{message}"
    );

    // One interaction at a time: the unchanged one passes, the changed one fails with its path,
    // and a description that is not in the contract is named with the closest one.
    let one = result(&record, "one_still_passing");
    assert_eq!(
        step(&record, "one_still_passing").status,
        StepStatus::Passed
    );
    assert_eq!(one["total_interactions"], 1, "{one}");
    assert_eq!(one["interactions"][0]["description"], "list users");
    let broken = step(&record, "one_broken");
    assert_eq!(broken.status, StepStatus::Failed);
    let message = &broken.error.as_ref().unwrap().message;
    assert!(
        message.contains("1 of 1 interactions failed") && message.contains("$.id"),
        "{message}"
    );
    // A single interaction never counts as a verification of the whole contract.
    let of_contract = repo
        .verifications()
        .iter()
        .filter(|v| v.contract_id.as_deref() == Some(contract_id.as_str()))
        .count();
    assert_eq!(
        of_contract, 3,
        "the first run's and the two whole verifications"
    );
    let misspelt = &step(&record, "one_misspelt")
        .error
        .as_ref()
        .unwrap()
        .message;
    assert!(
        misspelt.contains("'the signed in user'")
            && misspelt.contains("did you mean 'the signed-in user'?"),
        "{misspelt}"
    );

    // Generating the same consumer/provider/version again replaces the contract, keeping its id.
    let record = run(
        &hub,
        &repo,
        &provider_flow(&pact_path.display().to_string()),
    )
    .await;
    let again = result(&record, "generate");
    assert_eq!(again["replaced"], true);
    assert_eq!(again["contract_id"], contract_id.as_str());
    assert!(again["note"].as_str().unwrap().contains("replaced"));
    assert_eq!(repo.contract_count(), 1);
    hub.stop_all().await;
}

#[tokio::test]
async fn generates_from_mock_journals_and_from_requests_to_a_real_provider() {
    let hub = Arc::new(MockHub::new(HubConfig::default()));
    let repo = Arc::new(MemoryRepository::new());
    // A plain provider (no mock): every http_request step of the run is used.
    let app = axum::Router::new().route(
        "/orders/{id}",
        axum::routing::get(
            |axum::extract::Path(id): axum::extract::Path<u64>| async move {
                axum::Json(
                    serde_json::json!({"orderId": id, "placed": "2024-01-01T08:00:00.250+01:00"}),
                )
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let yaml = format!(
        r#"
name: real provider
steps:
  - id: order
    action: http_request
    config: {{method: GET, url: "http://{addr}/orders/5?expand=lines"}}
  - id: generate
    action: contract_generate
    config: {{consumer: shop, provider: orders, export_json: true}}
"#
    );
    let record = run(&hub, &repo, &yaml).await;
    assert_passed(&record);
    let generated = result(&record, "generate");
    assert_eq!(generated["source"], "requests");
    let interaction = &generated["pact_json"]["interactions"][0];
    assert_eq!(interaction["description"], "GET /orders/5");
    assert_eq!(interaction["request"]["query"]["expand"][0], "lines");
    let rules = &interaction["response"]["matchingRules"]["body"];
    assert_eq!(rules["$.orderId"]["matchers"][0]["match"], "integer");
    assert_eq!(
        rules["$.placed"]["matchers"][0]["format"],
        "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
    );
    // Without a version the execution id is used, so runs never replace each other.
    assert_eq!(generated["version"], record.execution_id.as_str());

    // from: mocks reads the journal: the requests someone else (here a step) made to the mock.
    let yaml = r#"
name: journal
setup:
  - id: provider
    action: mock_server_start
    config:
      endpoints:
        - {path: /ping, method: GET, response: {status_code: 200, body_json: {ok: true}}}
steps:
  - id: ping
    action: http_request
    config: {method: GET, url: "{{provider.base_url}}/ping"}
  - id: unmatched
    action: http_request
    config: {method: GET, url: "{{provider.base_url}}/nothing"}
  - id: generate
    action: contract_generate
    config: {consumer: app, provider: pinger, from: mocks, export_json: true}
  - id: all_requests
    action: contract_generate
    config: {consumer: app, provider: pinger, from: requests, version: "2"}
"#;
    let record = run(&hub, &repo, yaml).await;
    let generated = result(&record, "generate");
    assert_eq!(generated["source"], "mocks", "{generated}");
    assert_eq!(generated["interactions"], 1, "only matched requests count");
    assert_eq!(
        generated["pact_json"]["interactions"][0]["description"],
        "GET /ping"
    );
    assert_eq!(
        generated["pact_json"]["interactions"][0]["response"]["body"]["content"]["ok"],
        true
    );
    assert_passed(&record);
    assert_eq!(
        result(&record, "all_requests")["interactions"],
        2,
        "both steps' requests"
    );
}

#[tokio::test]
async fn a_run_without_requests_says_so() {
    let hub = Arc::new(MockHub::new(HubConfig::default()));
    let repo = Arc::new(MemoryRepository::new());
    let record = run(
        &hub,
        &repo,
        "name: empty\nsteps:\n  - id: g\n    action: contract_generate\n    config: {consumer: a, provider: b}\n",
    )
    .await;
    let error = step(&record, "g").error.as_ref().unwrap().message.clone();
    assert!(error.contains("no HTTP interactions found"), "{error}");
    assert!(error.contains("no http_request step"), "{error}");
}
