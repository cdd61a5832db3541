//! Reading and writing pact files: V4 round trips, V2/V3 upgrades and bad input.

use serde_json::{Value, json};
use testmesh_contract::{
    Body, InteractionKind, MatchingRule, PactError, ProviderState, SpecVersion, pact_from_json,
    parse_pact,
};

fn v4_pact() -> Value {
    json!({
        "consumer": {"name": "web"},
        "provider": {"name": "api"},
        "interactions": [
            {
                "type": "Synchronous/HTTP",
                "key": "k1",
                "description": "get user",
                "providerStates": [{"name": "a user exists", "params": {"id": 42, "name": "Testy"}}, {"name": "no admins"}],
                "pending": true,
                "comments": {"testname": "users::get", "text": ["first"]},
                "request": {
                    "method": "GET",
                    "path": "/users/42",
                    "query": {"fields": ["name", "id"]},
                    "headers": {"Accept": ["application/json"]},
                    "matchingRules": {
                        "path": {"matchers": [{"match": "regex", "regex": "/users/\\d+"}], "combine": "AND"},
                        "query": {"fields": {"matchers": [{"match": "type"}], "combine": "AND"}}
                    },
                    "generators": {"path": {"type": "ProviderState", "expression": "/users/${id}"}}
                },
                "response": {
                    "status": 200,
                    "headers": {"Content-Type": ["application/json"]},
                    "body": {"content": {"id": 42, "name": "Testy", "tags": ["a"]}, "contentType": "application/json", "encoded": false},
                    "matchingRules": {
                        "body": {
                            "$.id": {"matchers": [{"match": "integer"}], "combine": "AND"},
                            "$.tags": {"matchers": [{"match": "type", "min": 1}], "combine": "AND"}
                        },
                        "status": {"matchers": [{"match": "statusCode", "status": "success"}], "combine": "AND"}
                    }
                }
            },
            {
                "type": "Asynchronous/Messages",
                "key": "m1",
                "description": "user created",
                "contents": {"content": {"id": "1234-1234"}, "contentType": "application/json", "encoded": false},
                "metadata": {"contentType": "application/json", "destination": "users"},
                "matchingRules": {"content": {"$.id": {"matchers": [{"match": "regex", "regex": "\\d+-\\d+"}], "combine": "AND"}}}
            },
            {
                "type": "Synchronous/Messages",
                "key": "s1",
                "description": "ping",
                "request": {"contents": {"content": "cGluZw==", "contentType": "application/octet-stream", "encoded": "base64"}},
                "response": [{"contents": {"content": "pong", "contentType": "text/plain", "encoded": false}}]
            }
        ],
        "metadata": {"pactSpecification": {"version": "4.0"}, "pact-jvm": {"version": "4.6.0"}}
    })
}

#[test]
fn reads_a_v4_pact() {
    let pact = pact_from_json(&v4_pact()).unwrap();
    assert_eq!(pact.consumer.name, "web");
    assert_eq!(pact.source_version, Some(SpecVersion::V4));
    assert_eq!(pact.interactions.len(), 3);
    let http = &pact.interactions[0];
    assert!(http.pending);
    assert_eq!(http.provider_states[0].params["id"], json!(42));
    assert_eq!(http.provider_states[1], ProviderState::named("no admins"));
    let InteractionKind::Http { request, response } = &http.kind else {
        panic!("expected HTTP")
    };
    assert_eq!(request.query["fields"], vec!["name", "id"]);
    assert_eq!(response.status, 200);
    assert!(matches!(
        response
            .matching_rules
            .category("status")
            .unwrap()
            .single()
            .unwrap()
            .rules[0],
        MatchingRule::StatusCode(_)
    ));
    let InteractionKind::SyncMessages { request, responses } = &pact.interactions[2].kind else {
        panic!("expected sync messages")
    };
    assert_eq!(request.contents.bytes(), Some(&b"ping"[..]));
    assert_eq!(responses[0].contents.bytes(), Some(&b"pong"[..]));
}

#[test]
fn v4_round_trips_through_write_and_read() {
    let pact = pact_from_json(&v4_pact()).unwrap();
    let written = pact.to_json();
    assert_eq!(
        written["metadata"]["pactSpecification"]["version"],
        json!("4.0")
    );
    assert_eq!(written["metadata"]["pact-jvm"]["version"], json!("4.6.0"));
    assert_eq!(
        written["interactions"][0]["type"],
        json!("Synchronous/HTTP")
    );
    assert_eq!(written["interactions"][0]["key"], json!("k1"));
    assert_eq!(
        written["interactions"][0]["response"]["body"]["content"]["name"],
        json!("Testy")
    );
    assert_eq!(
        written["interactions"][0]["response"]["body"]["encoded"],
        json!(false)
    );
    assert_eq!(
        written["interactions"][2]["request"]["contents"]["encoded"],
        json!("base64")
    );
    let again = parse_pact(&pact.to_json_string()).unwrap();
    assert_eq!(again.interactions, pact.interactions);
    assert_eq!(again.consumer, pact.consumer);
    // Writing is stable.
    assert_eq!(again.to_json(), written);
}

#[test]
fn computes_keys_when_missing() {
    let mut doc = v4_pact();
    doc["interactions"][0]
        .as_object_mut()
        .unwrap()
        .remove("key");
    let pact = pact_from_json(&doc).unwrap();
    let key = pact.to_json()["interactions"][0]["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(key.len(), 16);
    assert_eq!(
        pact.to_json()["interactions"][0]["key"],
        json!(key),
        "keys are deterministic"
    );
}

#[test]
fn upgrades_a_v2_pact() {
    let pact = parse_pact(
        r#"{
          "consumer": {"name": "c"}, "provider": {"name": "p"},
          "interactions": [{
            "description": "search",
            "providerState": "animals exist",
            "request": {"method": "get", "path": "/animals", "query": "type=alligator&type=hippo&q=a%20b",
                        "headers": {"Accept": "application/json, text/plain"}},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                         "body": [{"name": "Mary"}],
                         "matchingRules": {"$.body": {"min": 1, "match": "type"}, "$.body[*].name": {"match": "type"},
                                           "$.headers.Content-Type": {"regex": "application/json.*"}}}
          }],
          "metadata": {"pactSpecification": {"version": "2.0.0"}}
        }"#,
    )
    .unwrap();
    assert_eq!(pact.source_version, Some(SpecVersion::V2));
    let interaction = &pact.interactions[0];
    assert_eq!(
        interaction.provider_states,
        vec![ProviderState::named("animals exist")]
    );
    let InteractionKind::Http { request, response } = &interaction.kind else {
        panic!("expected HTTP")
    };
    assert_eq!(request.query["type"], vec!["alligator", "hippo"]);
    assert_eq!(request.query["q"], vec!["a b"]);
    assert_eq!(
        request.headers["Accept"],
        vec!["application/json", "text/plain"]
    );
    let body = response.matching_rules.category("body").unwrap();
    assert_eq!(body.entries[0].0.as_str(), "$");
    assert_eq!(body.entries[0].1.rules, vec![MatchingRule::MinType(1)]);
    assert_eq!(body.entries[1].0.as_str(), "$[*].name");
    assert!(response.matching_rules.category("header").is_some());
    assert!(matches!(response.body, Body::Present { .. }));
    let written = pact.to_json();
    assert_eq!(
        written["interactions"][0]["providerStates"][0]["name"],
        json!("animals exist")
    );
    assert_eq!(
        written["interactions"][0]["response"]["body"]["content"][0]["name"],
        json!("Mary")
    );
    assert_eq!(
        written["interactions"][0]["response"]["matchingRules"]["body"]["$"]["matchers"][0]["min"],
        json!(1)
    );
}

#[test]
fn upgrades_v3_pacts_and_message_pacts() {
    let pact = parse_pact(
        r#"{
          "consumer": {"name": "c"}, "provider": {"name": "p"},
          "interactions": [{
            "description": "create",
            "providerStates": [{"name": "empty", "params": {"x": 1}}],
            "request": {"method": "POST", "path": "/items", "query": {"dry": ["true"]},
                        "headers": {"Content-Type": "application/json"}, "body": {"name": "x"},
                        "matchingRules": {"body": {"$.name": {"matchers": [{"match": "type"}], "combine": "AND"}},
                                          "header": {"Content-Type": {"matchers": [{"match": "regex", "regex": "application/json.*"}]}},
                                          "path": {"matchers": [{"match": "regex", "regex": "/items"}]}}},
            "response": {"status": 201}
          }],
          "metadata": {"pactSpecification": {"version": "3.0.0"}}
        }"#,
    )
    .unwrap();
    assert_eq!(pact.source_version, Some(SpecVersion::V3));
    let InteractionKind::Http { request, .. } = &pact.interactions[0].kind else {
        panic!("expected HTTP")
    };
    assert_eq!(request.body.bytes(), Some(&b"{\"name\":\"x\"}"[..]));
    assert!(
        request
            .matching_rules
            .category("path")
            .unwrap()
            .single()
            .is_some()
    );

    let messages = parse_pact(
        r#"{
          "consumer": {"name": "c"}, "provider": {"name": "p"},
          "messages": [{"description": "event", "providerStates": [{"name": "s"}],
                        "contents": {"id": 1}, "metaData": {"contentType": "application/json"},
                        "matchingRules": {"body": {"$.id": {"matchers": [{"match": "integer"}]}}}}],
          "metadata": {"pactSpecification": {"version": "3.0.0"}}
        }"#,
    )
    .unwrap();
    let InteractionKind::AsyncMessage(message) = &messages.interactions[0].kind else {
        panic!("expected a message")
    };
    assert_eq!(message.metadata["contentType"], json!("application/json"));
    assert_eq!(
        messages.to_json()["interactions"][0]["type"],
        json!("Asynchronous/Messages")
    );
    assert_eq!(
        messages.to_json()["interactions"][0]["contents"]["content"]["id"],
        json!(1)
    );
}

#[test]
fn malformed_json_reports_line_and_column() {
    let err = parse_pact("{\n  \"consumer\": {\"name\": \"c\"},\n  oops\n}").unwrap_err();
    assert!(matches!(err, PactError::Syntax { line: 3, .. }), "{err}");
    assert!(err.to_string().starts_with("malformed JSON at line 3"));
}

#[test]
fn wrong_shapes_name_the_json_path() {
    let mut doc = v4_pact();
    doc["interactions"][1] =
        json!({"type": "Synchronous/HTTP", "description": "x", "request": {"method": 7}});
    assert_eq!(
        pact_from_json(&doc).unwrap_err().to_string(),
        "interactions[1].request.method: expected a string"
    );
    let cases = [
        (json!({"provider": {"name": "p"}}), "consumer: is required"),
        (
            json!({"consumer": {"name": 1}, "provider": {"name": "p"}}),
            "consumer.name: expected a string",
        ),
        (
            json!({"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": {}}),
            "interactions: expected an array",
        ),
        (
            json!({"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"type": "Synchronous/HTTP"}]}),
            "interactions[0].description: is required (a string)",
        ),
        (
            json!({"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"type": "Weird", "description": "d"}]}),
            "interactions[0].type: unknown interaction type 'Weird'",
        ),
        (
            json!({"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"type": "Synchronous/HTTP", "description": "d", "response": {"status": "ok"}}]}),
            "interactions[0].response.status: expected an HTTP status code (100-999)",
        ),
        (
            json!({"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": [{"type": "Synchronous/HTTP", "description": "d", "request": {"headers": {"A": {"x": 1}}}}]}),
            "interactions[0].request.headers['A']: expected a string or a list of strings",
        ),
        (json!([1, 2]), "$: expected an object"),
    ];
    for (doc, message) in cases {
        assert_eq!(pact_from_json(&doc).unwrap_err().to_string(), message);
    }
}

#[test]
fn unknown_matchers_and_bad_regexes_name_the_rule() {
    let mut doc = v4_pact();
    doc["interactions"][0]["response"]["matchingRules"]["body"]["$.id"]["matchers"][0] =
        json!({"match": "fuzzy"});
    assert_eq!(
        pact_from_json(&doc).unwrap_err().to_string(),
        "interactions[0].response.matchingRules.body['$.id'].matchers[0]: unknown matcher type 'fuzzy'"
    );
    let mut doc = v4_pact();
    doc["interactions"][0]["response"]["matchingRules"]["body"]["$.id"]["matchers"][0] =
        json!({"match": "regex", "regex": "(["});
    let err = pact_from_json(&doc).unwrap_err();
    assert!(matches!(err, PactError::InvalidRegex { .. }));
    assert!(
        err.to_string()
            .starts_with("interactions[0].response.matchingRules.body['$.id'].matchers[0]: invalid regular expression '(['"),
        "{err}"
    );
    let mut doc = v4_pact();
    doc["interactions"][0]["response"]["matchingRules"]["body"]["$..bad"] =
        json!({"matchers": [{"match": "type"}]});
    assert!(
        pact_from_json(&doc)
            .unwrap_err()
            .to_string()
            .starts_with("interactions[0].response.matchingRules.body['$..bad']")
    );
}
