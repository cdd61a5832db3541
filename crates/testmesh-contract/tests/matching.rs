//! The matching engine on whole requests, responses and messages: every matcher in a body,
//! rule selection by weight, open/closed world, and the wording of mismatches.

use serde_json::{Value, json};
use testmesh_contract::read::{
    message_contents_from_v4_json, request_from_json, response_from_json,
};
use testmesh_contract::{
    HttpRequest, HttpResponse, MessageContents, MismatchKind, match_message, match_request,
    match_response,
};

fn response(body: Value, rules: Value) -> HttpResponse {
    response_from_json(
        &json!({"status": 200, "headers": {"Content-Type": "application/json"},
                "body": {"content": body, "contentType": "application/json", "encoded": false},
                "matchingRules": {"body": rules}}),
        "expected",
        true,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn actual(body: Value) -> HttpResponse {
    response_from_json(
        &json!({"status": 200, "headers": {"Content-Type": "application/json"},
                "body": {"content": body, "contentType": "application/json", "encoded": false}}),
        "actual",
        true,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn check(body: Value, rules: Value, actual_body: Value) -> Vec<String> {
    match_response(&response(body, rules), &actual(actual_body))
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn rule(r: Value) -> Value {
    json!({"matchers": [r]})
}

#[test]
fn mismatches_name_precise_paths() {
    let m = check(
        json!({"items": [{"price": 1.5}]}),
        json!({"$.items": rule(json!({"match": "type", "min": 1})), "$.items[*].price": rule(json!({"match": "number"}))}),
        json!({"items": [{"price": 1}, {"price": 2}, {"price": "12"}]}),
    );
    assert_eq!(
        m,
        vec!["$.items[2].price: expected a number, got string \"12\""]
    );
    let m = check(
        json!({"a": {"b-c": 1}}),
        json!({}),
        json!({"a": {"b-c": 2}}),
    );
    assert_eq!(m, vec!["$.a['b-c']: expected number 1, got number 2"]);
}

#[test]
fn the_most_specific_rule_wins() {
    let rules = json!({
        "$.animals": rule(json!({"match": "type", "min": 1})),
        "$.animals[*].*": rule(json!({"match": "type"})),
        "$.animals[*].name": rule(json!({"match": "regex", "regex": "[A-Z][a-z]+"})),
    });
    let body = json!({"animals": [{"name": "Mary", "age": 3}]});
    assert!(
        check(
            body.clone(),
            rules.clone(),
            json!({"animals": [{"name": "Fred", "age": 10}, {"name": "Sue", "age": 1}]})
        )
        .is_empty()
    );
    let m = check(
        body,
        rules,
        json!({"animals": [{"name": "fred", "age": "ten"}]}),
    );
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m[0].starts_with("$.animals[0].name: expected \"fred\" to match the regex"),
        "{m:?}"
    );
    assert_eq!(
        m[1],
        "$.animals[0].age: expected number, got string \"ten\""
    );
}

#[test]
fn min_and_max_on_arrays() {
    let rules = json!({"$.a": rule(json!({"match": "type", "min": 2, "max": 3}))});
    assert!(check(json!({"a": [1]}), rules.clone(), json!({"a": [1, 2]})).is_empty());
    assert_eq!(
        check(json!({"a": [1]}), rules.clone(), json!({"a": [1]})),
        vec!["$.a: expected at least 2 item(s), got 1"]
    );
    assert_eq!(
        check(json!({"a": [1]}), rules, json!({"a": [1, 2, 3, 4]})),
        vec!["$.a: expected at most 3 item(s), got 4"]
    );
}

#[test]
fn each_key_each_value_and_values() {
    let rules = json!({"$.scores": {"matchers": [
        {"match": "eachKey", "rules": [{"match": "regex", "regex": "[a-z]+"}]},
        {"match": "eachValue", "rules": [{"match": "integer"}]}
    ]}});
    assert!(
        check(
            json!({"scores": {"ann": 1}}),
            rules.clone(),
            json!({"scores": {"bob": 2, "cat": 3}})
        )
        .is_empty()
    );
    let m = check(
        json!({"scores": {"ann": 1}}),
        rules,
        json!({"scores": {"Bob": 2, "cat": 3.5}}),
    );
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m.iter()
            .any(|s| s.starts_with("$.scores.Bob: key: expected 'Bob' to match")),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|s| s == "$.scores.cat: expected an integer, got number 3.5"),
        "{m:?}"
    );

    let values = json!({"$.ids": rule(json!({"match": "values"})), "$.ids.*": rule(json!({"match": "type"}))});
    assert!(
        check(
            json!({"ids": {"a": 1}}),
            values.clone(),
            json!({"ids": {"x": 5, "y": 6}})
        )
        .is_empty()
    );
    assert!(!check(json!({"ids": {"a": 1}}), values, json!({"ids": {"x": "5"}})).is_empty());
}

#[test]
fn array_contains_with_variants() {
    let rules = json!({"$.events": rule(json!({"match": "arrayContains", "variants": [
        {"index": 0, "rules": {"$.id": {"matchers": [{"match": "integer"}]}}},
        {"index": 1, "rules": {"$.kind": {"matchers": [{"match": "regex", "regex": "del.*"}]}}}
    ]}))});
    // Fields without a variant rule compare by equality, as in the reference.
    let body = json!({"events": [{"id": 1, "kind": "add"}, {"id": 2, "kind": "delete"}]});
    assert!(
        check(body.clone(), rules.clone(), json!({"events": [{"id": 2, "kind": "deleted"}, {"id": 7, "kind": "add"}, {"id": 3, "kind": "x"}]}))
            .is_empty()
    );
    let m = check(body, rules, json!({"events": [{"id": 9, "kind": "add"}]}));
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].starts_with("$.events: expected an item matching variant 1"),
        "{m:?}"
    );
    // Without variants, every example item must be present as is.
    let plain = json!({"$.tags": rule(json!({"match": "arrayContains"}))});
    assert!(
        check(
            json!({"tags": ["a", "b"]}),
            plain.clone(),
            json!({"tags": ["c", "b", "a"]})
        )
        .is_empty()
    );
    assert!(!check(json!({"tags": ["a", "b"]}), plain, json!({"tags": ["a"]})).is_empty());
}

#[test]
fn value_matchers_in_bodies() {
    let cases = [
        (
            json!({"match": "include", "value": "lo"}),
            json!("hello"),
            json!("help"),
        ),
        (json!({"match": "integer"}), json!(1), json!(1.5)),
        (json!({"match": "decimal"}), json!(1.5), json!(2)),
        (json!({"match": "number"}), json!(1), json!("1")),
        (json!({"match": "null"}), json!(null), json!(0)),
        (json!({"match": "boolean"}), json!(true), json!("yes")),
        (json!({"match": "notEmpty"}), json!("x"), json!("")),
        (json!({"match": "semver"}), json!("1.0.0"), json!("1.0")),
        (
            json!({"match": "date", "format": "yyyy-MM-dd"}),
            json!("2024-01-01"),
            json!("01/01/2024"),
        ),
        (
            json!({"match": "time", "format": "HH:mm:ss"}),
            json!("10:00:00"),
            json!("25:00:00"),
        ),
        (
            json!({"match": "datetime", "format": "yyyy-MM-dd'T'HH:mm:ssXXX"}),
            json!("2024-01-01T10:00:00Z"),
            json!("2024-01-01 10:00"),
        ),
        (
            json!({"match": "regex", "regex": "(?<=a)b|^b$"}),
            json!("b"),
            json!("cb"),
        ),
        (json!({"match": "equality"}), json!("x"), json!("y")),
    ];
    let good = [
        json!("hello"),
        json!(7),
        json!(2.25),
        json!(2.5),
        json!(null),
        json!("false"),
        json!("y"),
        json!("2.0.1"),
        json!("2023-12-31"),
        json!("23:59:59"),
        json!("2024-06-01T23:00:00+05:30"),
        json!("b"),
        json!("x"),
    ];
    for ((matcher, example, bad), good) in cases.into_iter().zip(good) {
        let rules = json!({"$.v": rule(matcher.clone())});
        assert!(
            check(
                json!({"v": example.clone()}),
                rules.clone(),
                json!({"v": good})
            )
            .is_empty(),
            "{matcher} should accept"
        );
        assert!(
            !check(json!({"v": example}), rules, json!({"v": bad})).is_empty(),
            "{matcher} should reject"
        );
    }
}

#[test]
fn or_combines_matchers() {
    let rules =
        json!({"$.v": {"combine": "OR", "matchers": [{"match": "null"}, {"match": "integer"}]}});
    assert!(check(json!({"v": 1}), rules.clone(), json!({"v": null})).is_empty());
    assert!(check(json!({"v": 1}), rules.clone(), json!({"v": 5})).is_empty());
    assert_eq!(check(json!({"v": 1}), rules, json!({"v": "x"})).len(), 2);
}

#[test]
fn requests_are_closed_world_responses_open() {
    let req = |body: Value| {
        request_from_json(
            &json!({"method": "POST", "path": "/", "headers": {"Content-Type": "application/json"},
                    "body": {"content": body, "contentType": "application/json", "encoded": false}}),
            "r",
            true,
        )
        .unwrap()
    };
    let m = match_request(&req(json!({"a": 1})), &req(json!({"a": 1, "b": 2})));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].to_string(), "$.b: unexpected key 'b' with 2");
    assert!(check(json!({"a": 1}), json!({}), json!({"a": 1, "b": 2})).is_empty());
    assert_eq!(
        check(json!({"a": 1}), json!({}), json!({"b": 2})),
        vec!["$.a: expected key 'a' with 1, but it was missing"]
    );
}

#[test]
fn request_fields() {
    let expected = request_from_json(
        &json!({"method": "GET", "path": "/items/1", "query": {"q": ["a"], "n": ["1"]},
                "headers": {"Content-Type": "application/json", "X-Id": "abc"},
                "matchingRules": {"query": {"n": rule(json!({"match": "regex", "regex": "\\d+"}))},
                                  "header": {"x-id": rule(json!({"match": "regex", "regex": "[a-z]+"}))}}}),
        "e",
        true,
    )
    .unwrap();
    let good = HttpRequest {
        method: "get".into(),
        path: "/items/1".into(),
        query: [
            ("q".to_string(), vec!["a".to_string()]),
            ("n".to_string(), vec!["42".to_string()]),
        ]
        .into_iter()
        .collect(),
        headers: [
            (
                "content-type".to_string(),
                vec!["application/json; charset=utf-8".to_string()],
            ),
            ("X-ID".to_string(), vec!["xyz".to_string()]),
            ("X-Extra".to_string(), vec!["fine".to_string()]),
        ]
        .into_iter()
        .collect(),
        ..HttpRequest::default()
    };
    assert!(
        match_request(&expected, &good).is_empty(),
        "{:?}",
        match_request(&expected, &good)
    );
    let mut bad = good.clone();
    bad.method = "POST".into();
    bad.path = "/items/2".into();
    bad.query.insert("extra".into(), vec!["1".into()]);
    bad.query.insert("n".into(), vec!["x".into()]);
    bad.headers
        .insert("content-type".into(), vec!["text/plain".into()]);
    let m: Vec<String> = match_request(&expected, &bad)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        m,
        vec![
            "method: expected 'GET', got 'POST'",
            "path: expected '/items/1', got '/items/2'",
            "query parameter n: expected 'x' to match the regex '\\d+'",
            "query parameter extra: unexpected parameter with [\"1\"]",
            "header Content-Type: expected 'application/json', got 'text/plain'",
        ]
    );
}

#[test]
fn status_codes() {
    let expected = response_from_json(
        &json!({"status": 200, "matchingRules": {"status": {"matchers": [{"match": "statusCode", "status": "success"}]}}}),
        "e",
        true,
    )
    .unwrap();
    let with = |status| HttpResponse {
        status,
        ..HttpResponse::default()
    };
    assert!(match_response(&expected, &with(204)).is_empty());
    let m = match_response(&expected, &with(500));
    assert_eq!(m[0].kind, MismatchKind::Status);
    assert_eq!(
        m[0].to_string(),
        "status: expected a status of success, got 500"
    );
    assert_eq!(
        match_response(&with(200), &with(201))[0].to_string(),
        "status: expected 200, got 201"
    );
}

#[test]
fn bodies_of_other_types() {
    let text = |body: &str, ct: &str| HttpResponse {
        headers: [("Content-Type".to_string(), vec![ct.to_string()])]
            .into_iter()
            .collect(),
        body: testmesh_contract::Body::text(body, ct),
        ..HttpResponse::default()
    };
    assert!(match_response(&text("hi", "text/plain"), &text("hi", "text/plain")).is_empty());
    assert_eq!(
        match_response(&text("hi", "text/plain"), &text("ho", "text/plain"))[0].to_string(),
        "$: expected body 'hi', got 'ho'"
    );
    let m: Vec<String> = match_response(
        &text("{}", "application/json"),
        &text("<a/>", "application/xml"),
    )
    .iter()
    .map(ToString::to_string)
    .collect();
    assert!(
        m.contains(
            &"$: expected a body of type 'application/json', got 'application/xml'".to_string()
        ),
        "{m:?}"
    );
    let form = |body: &str| {
        request_from_json(
            &json!({"method": "POST", "path": "/", "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                    "body": {"content": body, "contentType": "application/x-www-form-urlencoded", "encoded": false},
                    "matchingRules": {"body": {"$.id": rule(json!({"match": "regex", "regex": "\\d+"}))}}}),
            "r",
            true,
        )
        .unwrap()
    };
    assert!(match_request(&form("a=1&id=5"), &form("a=1&id=77")).is_empty());
    assert!(!match_request(&form("a=1&id=5"), &form("a=2&id=77")).is_empty());
    let png = response_from_json(
        &json!({"headers": {"Content-Type": "image/png"},
                "body": {"content": "iVBORw0KGgo=", "contentType": "image/png", "encoded": "base64"},
                "matchingRules": {"body": {"$": rule(json!({"match": "contentType", "value": "image/png"}))}}}),
        "e",
        true,
    )
    .unwrap();
    let mut other = png.clone();
    other.body = testmesh_contract::Body::Present {
        content: b"\x89PNG\r\n\x1a\nother".to_vec(),
        content_type: testmesh_contract::ContentType::parse("image/png"),
        content_type_hint: None,
    };
    assert!(match_response(&png, &other).is_empty());
    other.body = testmesh_contract::Body::text("GIF89a", "image/png");
    assert!(!match_response(&png, &other).is_empty());
}

#[test]
fn messages_compare_contents_and_metadata() {
    let expected = message_contents_from_v4_json(
        &json!({"contents": {"content": {"id": "1-2"}, "contentType": "application/json", "encoded": false},
                "metadata": {"contentType": "application/json", "topic": "users", "seq": 1},
                "matchingRules": {"content": {"$.id": rule(json!({"match": "regex", "regex": "\\d+-\\d+"}))},
                                  "metadata": {"seq": rule(json!({"match": "integer"}))}}}),
        "e",
    )
    .unwrap();
    let actual = |id: &str, topic: &str, seq: Value| {
        MessageContents {
        metadata: json!({"contentType": "application/json; charset=utf-8", "topic": topic, "seq": seq, "extra": true})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        contents: testmesh_contract::Body::json(&json!({"id": id, "more": 1})),
        ..MessageContents::default()
    }
    };
    assert!(match_message(&expected, &actual("33-44", "users", json!(9))).is_empty());
    let m: Vec<String> = match_message(&expected, &actual("x", "orders", json!("9")))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        m,
        vec![
            "$.id: expected \"x\" to match the regex '\\d+-\\d+'",
            "metadata topic: expected string \"users\", got string \"orders\"",
            "metadata seq: expected an integer, got string \"9\"",
        ]
    );
}
