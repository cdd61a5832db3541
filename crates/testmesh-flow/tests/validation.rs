//! Each validation rule: the message a user sees and the position it points at.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use testmesh_flow::{Severity, load_str};

/// (severity, code, line, col, message) of every finding.
fn findings(text: &str) -> Vec<(Severity, &'static str, usize, usize, String)> {
    load_str(text)
        .diagnostics
        .into_iter()
        .map(|d| (d.severity, d.code, d.span.line, d.span.col, d.message))
        .collect()
}

/// The single finding with `code`, failing when there is not exactly one.
fn one(text: &str, code: &str) -> (Severity, usize, usize, String) {
    let all = findings(text);
    let matching: Vec<_> = all.iter().filter(|f| f.1 == code).collect();
    assert_eq!(matching.len(), 1, "expected one `{code}` in {all:#?}");
    let (severity, _, line, col, message) = matching[0].clone();
    (severity, line, col, message)
}

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

#[test]
fn yaml_syntax_errors_point_at_the_problem() {
    let (severity, line, _, message) = one(
        "name: x\nsteps:\n  - id: a\n    action: [log\n",
        "yaml-syntax",
    );
    assert_eq!(severity, E);
    assert!(message.starts_with("invalid YAML"), "{message}");
    assert!(line >= 4, "{line}");
    let (_, line, col, message) = one("name: x\nname: y\n", "yaml-syntax");
    assert_eq!((line, col), (2, 1));
    assert_eq!(message, "duplicate key `name` (first defined on line 1)");
    assert_eq!(one("a: \"unterminated\n", "yaml-syntax").0, E);
}

#[test]
fn a_document_that_is_not_a_mapping_is_rejected() {
    let (_, line, col, message) = one("- a\n- b\n", "invalid-type");
    assert_eq!((line, col), (1, 1));
    assert_eq!(message, "expected a mapping (the flow), found list");
    assert!(!load_str("just text").is_ok());
}

#[test]
fn missing_action_and_required_keys() {
    let text = "name: x\nsteps:\n  - id: a\n    config: {}\n  - id: b\n    action: http_request\n    config:\n      url: http://x\n";
    let all = findings(text);
    assert!(
        all.contains(&(E, "missing-key", 3, 5, "a step needs `action`".into())),
        "{all:#?}"
    );
    assert!(
        all.contains(&(
            E,
            "missing-key",
            8,
            7,
            "http_request config needs `method`".into()
        )),
        "{all:#?}"
    );
}

#[test]
fn missing_config_is_reported_at_the_action() {
    let (_, line, col, message) = one("name: x\nsteps:\n  - action: delay\n", "missing-key");
    assert_eq!((line, col), (3, 13));
    assert_eq!(message, "delay config needs `duration`");
}

#[test]
fn wrong_types_name_expected_and_found() {
    let text = "name: x\nsteps:\n  - action: http\n    config: {method: GET, url: u, max_redirects: many}\n    disabled: 'yes'\n";
    let all = findings(text);
    assert!(
        all.contains(&(
            E,
            "invalid-type",
            4,
            50,
            "expected a whole number ≥ 0, found string \"many\"".into()
        )),
        "{all:#?}"
    );
    assert!(
        all.contains(&(
            E,
            "invalid-type",
            5,
            15,
            "expected true or false, found string \"yes\"".into()
        )),
        "{all:#?}"
    );
}

#[test]
fn unknown_actions_suggest_the_closest() {
    let text = "name: x\nsteps:\n  - action: databse_query\n";
    let loaded = load_str(text);
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "unknown-action")
        .unwrap();
    assert_eq!((d.span.line, d.span.col), (3, 13));
    assert_eq!(d.message, "unknown action `databse_query`");
    assert_eq!(d.help.as_deref(), Some("did you mean `database_query`?"));
}

#[test]
fn aliases_are_accepted() {
    for action in [
        "http",
        "kafka_publish",
        "kafka_consume",
        "grpc_call",
        "mock_server_update",
    ] {
        let loaded = load_str(&format!(
            "name: x\nsteps:\n  - action: {action}\n    config: {{}}\n"
        ));
        assert!(
            loaded
                .diagnostics
                .iter()
                .all(|d| d.code != "unknown-action"),
            "{action}: {:?}",
            loaded.diagnostics
        );
    }
}

#[test]
fn unknown_keys_warn_at_every_level_and_strictness_is_the_callers_choice() {
    let text = "name: x\nauthr: me\nsteps:\n  - action: log\n    config: {message: hi, levl: info}\n    asert: [x]\n";
    let all = findings(text);
    let unknown: Vec<_> = all
        .iter()
        .filter(|f| f.1 == "unknown-key")
        .map(|f| (f.0, f.2, f.3))
        .collect();
    assert_eq!(unknown, vec![(W, 2, 1), (W, 5, 27), (W, 6, 5)]);
    let loaded = load_str(text);
    let help: Vec<_> = loaded.warnings().filter_map(|d| d.help.clone()).collect();
    assert!(help.contains(&"did you mean `author`?".to_string()));
    assert!(help.contains(&"did you mean `level`?".to_string()));
    assert!(help.contains(&"did you mean `assert`?".to_string()));
    assert!(loaded.is_ok(), "unknown keys are warnings");
}

#[test]
fn step_id_rules() {
    let text = "name: x\nsteps:\n  - id: Fetch\n    action: log\n    config: {message: a}\n  - id: fetch2\n    action: log\n    config: {message: b}\n  - id: fetch2\n    action: log\n    config: {message: c}\n";
    let (severity, line, col, message) = one(text, "step-id-format");
    assert_eq!((severity, line, col), (W, 3, 9));
    assert!(
        message.starts_with("step id `Fetch` should start with a lower-case letter"),
        "{message}"
    );
    let (severity, line, col, message) = one(text, "duplicate-step-id");
    assert_eq!((severity, line, col), (W, 9, 9));
    assert_eq!(
        message,
        "step id `fetch2` is already used on line 6; its outputs will be overwritten"
    );
}

#[test]
fn default_ids_follow_the_original() {
    let text = "name: x\nsetup:\n  - action: log\n    config: {message: a}\nsteps:\n  - action: log\n    config: {message: a}\n  - action: condition\n    config:\n      condition: 'true'\n      then:\n        - action: log\n          config: {message: t}\nteardown:\n  - action: log\n    config: {message: a}\n";
    let flow = load_str(text).flow.unwrap();
    assert_eq!(flow.setup[0].id, "setup_0");
    assert_eq!(flow.steps[1].id, "main_1");
    assert_eq!(flow.teardown[0].id, "teardown_0");
    let children = flow.steps[1].children();
    assert_eq!(children[0].1[0].id, "main_1_then_0");
}

#[test]
fn references_to_later_steps_are_errors() {
    let text = "name: x\nsteps:\n  - id: a\n    action: log\n    config: {message: \"${b.status}\"}\n  - id: b\n    action: log\n    config: {message: \"${b.message}\"}\n";
    let all: Vec<_> = findings(text)
        .into_iter()
        .filter(|f| f.1 == "reference-order")
        .collect();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!((all[0].2, all[0].3), (5, 24));
    assert_eq!(
        all[0].4,
        "`${b.status}` reads step `b`, which has not run yet at this point (it is on line 6)"
    );
    assert_eq!((all[1].2, all[1].3), (8, 24));
    assert_eq!(
        all[1].4,
        "`${b.message}` reads this step's own result, which does not exist until it has run"
    );
}

#[test]
fn outputs_are_available_by_bare_name_after_their_step_only() {
    let text = "name: x\nsteps:\n  - id: a\n    action: log\n    config: {message: \"{{token}}\"}\n  - id: b\n    action: log\n    config: {message: m}\n    output: {token: message}\n  - id: c\n    action: log\n    config: {message: \"{{token}} ${b.token}\"}\n";
    let all = findings(text);
    assert_eq!(
        all,
        vec![(
            E,
            "reference-order",
            5,
            24,
            "`{{token}}` is an output of step `b`, which has not run yet at this point".into()
        )]
    );
}

#[test]
fn undefined_references() {
    let text = "name: x\nsteps:\n  - id: login\n    action: log\n    config: {message: m}\n  - id: b\n    action: log\n    config: {message: \"${lgin.body.token} ${nothing_here} ${API_KEY} ${opt:fallback}\"}\n";
    let all = findings(text);
    assert!(
        all.contains(&(
            E,
            "undefined-reference",
            8,
            24,
            "`${lgin.body.token}`: there is no step or variable named `lgin`".into()
        )),
        "{all:#?}"
    );
    let warning = all.iter().find(|f| f.1 == "undefined-variable").unwrap();
    assert_eq!((warning.0, warning.2, warning.3), (W, 8, 43));
    // Upper-case names come from the environment; defaults make a name optional.
    assert_eq!(all.len(), 2, "{all:#?}");
}

#[test]
fn loop_variables_and_env_are_in_scope() {
    let text = "name: x\nenv:\n  base: http://x\nsteps:\n  - id: loop\n    action: for_each\n    config:\n      items: [1, 2]\n      item_name: user\n      steps:\n        - action: log\n          config: {message: \"${base} ${user} ${index} ${user.id}\"}\n  - action: log\n    config: {message: \"${user}\"}\n";
    let all = findings(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!((all[0].1, all[0].2), ("undefined-variable", 14));
}

#[test]
fn template_syntax_errors() {
    let text = "name: x\nsteps:\n  - action: log\n    config: {message: \"id ${a.b\"}\n";
    let (severity, line, col, message) = one(text, "invalid-template");
    assert_eq!((severity, line), (E, 4));
    assert_eq!(col, 27);
    assert!(message.starts_with("invalid reference"), "{message}");
    // `$` not followed by `{` is text, and `$${` is a literal.
    let ok = "name: x\nsteps:\n  - action: log\n    config: {message: \"Total: $109.96 and $${NOT_A_REF}\"}\n";
    assert!(findings(ok).is_empty(), "{:?}", findings(ok));
}

#[test]
fn faker_references_are_checked() {
    let text = "name: x\nsteps:\n  - action: log\n    config: {message: \"${FAKER.internet.email} ${FAKER.name.firstName} ${FAKER.nope.x}\"}\n";
    let (severity, line, col, message) = one(text, "unknown-faker");
    assert_eq!((severity, line, col), (E, 4, 72));
    assert_eq!(message, "`${FAKER.nope.x}` is not a known faker function");
}

#[test]
fn invalid_durations() {
    let text = "name: x\nsteps:\n  - action: delay\n    config: {duration: 5 minutes}\n    timeout: 30\n    retry: {max_attempts: 3, delay: -1s}\n";
    let all: Vec<_> = findings(text)
        .into_iter()
        .filter(|f| f.1 == "invalid-duration")
        .collect();
    let positions: Vec<_> = all.iter().map(|f| (f.2, f.3)).collect();
    assert_eq!(positions, vec![(4, 24), (5, 14), (6, 37)]);
    assert!(all[0].4.contains("unknown unit"), "{}", all[0].4);
    assert_eq!(all[1].4, "a duration needs a unit: `30` is ambiguous");
    assert!(all[2].4.contains("cannot be negative"));
}

#[test]
fn expression_syntax_errors_have_the_column_inside_the_string() {
    let text = "name: x\nsteps:\n  - action: log\n    config: {message: m}\n    assert:\n      - status == \n      - \"body.items[0] >\"\n      - {expression: 'len(body) >', message: needs items}\n    when: \"ok &&\"\n";
    let all: Vec<_> = findings(text)
        .into_iter()
        .filter(|f| f.1 == "invalid-expression")
        .collect();
    let positions: Vec<_> = all.iter().map(|f| (f.2, f.3)).collect();
    assert_eq!(
        positions,
        vec![(6, 18), (7, 25), (8, 34), (9, 17)],
        "{all:#?}"
    );
    assert!(all[0].4.contains("column 10"), "{}", all[0].4);
}

#[test]
fn assertion_forms() {
    let text = "name: x\nsteps:\n  - action: log\n    config: {message: m}\n    assert:\n      - status == 200\n      - {expression: \"body.id exists\", message: \"the id is missing\"}\n      - body matches_schema: {type: object, required: [id]}\n    assert_any: [status == 200, status == 201]\n    assert_none: [status >= 500]\n";
    let loaded = load_str(text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let step = &loaded.flow.unwrap().steps[0];
    assert_eq!(step.assert.len(), 3);
    assert_eq!(step.assert[1].message.as_deref(), Some("the id is missing"));
    assert_eq!(step.assert_any.len(), 2);
    assert_eq!(step.assert_none.len(), 1);
}

#[test]
fn invalid_enumerations_suggest() {
    let text = "name: x\nsteps:\n  - action: log\n    config: {message: m}\n    on_error: continu\n    retry: {backoff: exponental}\n";
    let loaded = load_str(text);
    let invalid: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "invalid-value")
        .collect();
    assert_eq!(invalid.len(), 2);
    assert_eq!(invalid[0].message, "`continu` is not one of fail, continue");
    assert_eq!(invalid[0].help.as_deref(), Some("did you mean `continue`?"));
    assert_eq!((invalid[1].span.line, invalid[1].span.col), (6, 22));
}

#[test]
fn action_constraints() {
    let cases = [
        (
            "for_each",
            "{steps: []}",
            "for_each needs one of `items`, `range` or `items_from_glob`",
        ),
        (
            "for_each",
            "{items: [1], range: {start: 1, end: 2}}",
            "for_each takes only one of `items`, `range` and `items_from_glob`",
        ),
        (
            "transform",
            "{transforms: {a: $.b}}",
            "transform needs `input` or `input_file`",
        ),
        (
            "assert",
            "{data: {}, assertions: []}",
            "the assert action needs at least one assertion",
        ),
        (
            "websocket",
            "{url: ws://x}",
            "websocket needs `action` (connect, send, receive, close) or `actions`",
        ),
        (
            "contract_verify",
            "{provider_base_url: http://x}",
            "contract_verify needs `contract_id` or `pact_file`",
        ),
        (
            "wait_for",
            "{type: tcp, host: localhost}",
            "wait_for with `type: tcp` needs `host` and `port`",
        ),
        (
            "db_poll",
            "{connection: x, query: q, condition: {type: value_equals}}",
            "db_poll condition `value_equals` needs `column`",
        ),
        (
            "grpc_stream",
            "{address: a, service: s, method: m, type: sideways}",
            "grpc_stream type `sideways` is not client, server or bidirectional",
        ),
        (
            "browser",
            "{actions: [{type: clik, selector: '#b'}]}",
            "unknown browser action `clik`",
        ),
    ];
    for (action, config, expected) in cases {
        let text = format!("name: x\nsteps:\n  - action: {action}\n    config: {config}\n");
        let loaded = load_str(&text);
        let found: Vec<_> = loaded
            .errors()
            .map(|d| (d.span.line, d.message.clone()))
            .collect();
        assert!(
            found.iter().any(|(line, m)| m == expected && *line == 4),
            "{action}: expected `{expected}` on line 4, got {found:#?}"
        );
    }
}

#[test]
fn flow_level_warnings() {
    let all = findings("description: no name\nsteps: []\ntags: [Smoke]\n");
    let codes: Vec<_> = all.iter().map(|f| (f.0, f.1, f.2)).collect();
    assert!(codes.contains(&(W, "missing-name", 1)), "{all:#?}");
    assert!(codes.contains(&(W, "no-steps", 2)), "{all:#?}");
    assert!(codes.contains(&(W, "tag-format", 3)), "{all:#?}");
    assert!(all.iter().all(|f| f.0 == W));
}

#[test]
fn mock_endpoint_templates_are_left_to_the_mock() {
    let text = "name: x\nsteps:\n  - id: m\n    action: mock_server_start\n    config:\n      endpoints:\n        - path: /u/:id\n          response:\n            body: {id: \"{{path.id}}\", n: \"{{request.body.name}}\", c: \"{{state.counter}}\", g: \"{{.body.x}}\", t: \"{{#if x}}\"}\n";
    assert!(findings(text).is_empty(), "{:#?}", findings(text));
}

#[test]
fn the_wrapped_shape_wins_only_with_content() {
    let wrapped =
        load_str("flow:\n  name: inner\n  steps:\n    - action: log\n      config: {message: m}\n");
    assert_eq!(wrapped.flow.unwrap().name, "inner");
    // An empty `flow:` mapping is just an unknown key of a bare flow.
    let bare =
        load_str("name: outer\nflow: {}\nsteps:\n  - action: log\n    config: {message: m}\n");
    assert_eq!(bare.flow.as_ref().unwrap().name, "outer");
    assert_eq!(bare.warnings().next().unwrap().code, "unknown-key");
    let extra = load_str(
        "flow:\n  name: inner\n  steps: [{action: log, config: {message: m}}]\nversion: 2\n",
    );
    let w = extra.warnings().next().unwrap();
    assert_eq!(
        (w.span.line, w.message.as_str()),
        (4, "`version` is outside `flow:` and is ignored")
    );
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let text = format!(
        "name: x\ndescription: \"{}\"\n",
        "a".repeat(testmesh_flow::MAX_FILE_BYTES)
    );
    let (severity, line, col, message) = one(&text, "file-too-large");
    assert_eq!((severity, line, col), (E, 1, 1));
    assert!(message.contains("limited to 1048576 bytes"));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let mut text = String::from("name: x\nsteps:\n");
    let mut indent = String::from("  ");
    for _ in 0..40 {
        text.push_str(&format!("{indent}- action: condition\n{indent}  config:\n{indent}    condition: 'true'\n{indent}    then:\n"));
        indent.push_str("      ");
    }
    text.push_str(&format!(
        "{indent}- action: log\n{indent}  config: {{message: m}}\n"
    ));
    let loaded = load_str(&text);
    assert!(
        loaded.errors().any(|d| d.code == "too-deep"),
        "{:?}",
        loaded.diagnostics.first()
    );
}

#[test]
fn numbers_in_string_fields_keep_their_written_form() {
    let flow =
        load_str("name: x\nversion: 1.10\nsteps:\n  - action: log\n    config: {message: 1.50}\n")
            .flow
            .unwrap();
    assert_eq!(flow.version.as_deref(), Some("1.10"));
    match &flow.steps[0].action {
        Some(testmesh_flow::Action::Log(config)) => assert_eq!(config.message, "1.50"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn flow_config_and_step_control_keys_are_typed() {
    use std::time::Duration;
    use testmesh_flow::decode::Tpl;
    use testmesh_flow::model::step::{Backoff, OnFailure};
    let text = "name: x\nconfig:\n  timeout: 5m\n  fail_fast: false\n  retry: {max_attempts: 3, delay: 1s, backoff: linear}\non_error:\n  - action: log\n    config: {message: failed}\nsteps:\n  - action: log\n    config: {message: m}\n    timeout: 1.5s\n    on_timeout: continue\n    on_error: continue\n    disabled: true\n    tags: [slow]\n    retry: {enabled: false}\n    error_steps:\n      - action: log\n        config: {message: e}\n";
    let loaded = load_str(text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let flow = loaded.flow.unwrap();
    let config = flow.config.unwrap();
    assert_eq!(config.timeout, Some(Tpl::Value(Duration::from_secs(300))));
    assert_eq!(config.fail_fast, Some(Tpl::Value(false)));
    let retry = config.retry.unwrap();
    assert_eq!(retry.max_attempts, Some(Tpl::Value(3)));
    assert_eq!(retry.backoff, Some(Backoff::Linear));
    assert_eq!(flow.on_error[0].id, "on_error_0");
    let step = &flow.steps[0];
    assert_eq!(step.timeout, Some(Tpl::Value(Duration::from_millis(1500))));
    assert_eq!(step.on_timeout, Some(OnFailure::Continue));
    assert_eq!(step.on_error, OnFailure::Continue);
    assert!(step.disabled);
    assert_eq!(step.tags, vec!["slow".to_string()]);
    assert_eq!(
        step.retry.as_ref().unwrap().enabled,
        Some(Tpl::Value(false))
    );
    assert_eq!(step.error_steps[0].id, "main_0_error_steps_0");
}

#[test]
fn output_paths_follow_the_runtime_resolver_and_deep_jsonpaths_do_not_crash() {
    let ok = "name: x\nsteps:\n  - action: log\n    config: {message: m}\n    output: {a: $.data.user-id, b: $.items.0.id, c: \"$.headers.Content-Type\", d: \"$.items[?@.id==1].name\"}\n";
    assert!(findings(ok).is_empty(), "{:#?}", findings(ok));
    let deep = format!(
        "name: x\nsteps:\n  - action: log\n    config: {{message: m}}\n    output: {{x: \"$[?{}@.a{}]\"}}\n",
        "(".repeat(1000),
        ")".repeat(1000)
    );
    let (severity, line, _, message) = one(&deep, "invalid-output-path");
    assert_eq!((severity, line), (E, 5));
    assert!(message.contains("nested too deeply"), "{message}");
    let (_, _, _, message) = one(
        "name: x\nsteps:\n  - action: log\n    config: {message: m}\n    output: {x: \"$.[bad\"}\n",
        "invalid-output-path",
    );
    assert!(
        message.starts_with("output `x`: invalid JSONPath"),
        "{message}"
    );
}

#[test]
fn a_bare_step_id_is_the_whole_result() {
    let text = "name: x\nsteps:\n  - id: reg\n    action: log\n    config: {message: m}\n  - action: transform\n    config: {input: \"${reg}\", transforms: {m: $.message}}\n  - action: log\n    config: {message: \"${later}\"}\n  - id: later\n    action: log\n    config: {message: m}\n";
    let all = findings(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!((all[0].1, all[0].2), ("reference-order", 9));
}

#[test]
fn wait_until_conditions_see_their_own_steps_only() {
    let text = "name: x\nsteps:\n  - id: poll\n    action: wait_until\n    config:\n      condition: \"ready == true && check.message == 'm' && later.message == 'x'\"\n      max_duration: 1s\n      steps:\n        - {id: check, action: log, config: {message: m}, output: {ready: message}}\n  - {id: later, action: log, config: {message: x}}\n";
    let all = findings(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].1, "reference-order");
    assert!(all[0].4.contains("later.message"), "{}", all[0].4);
}

#[test]
fn parallel_siblings_and_branches_cannot_read_each_other() {
    let text = "name: x\nsteps:\n  - id: both\n    action: parallel\n    config:\n      steps:\n        - {id: p1, action: log, config: {message: a}}\n        - {id: p2, action: log, config: {message: \"${p1.message}\"}}\n  - id: branch\n    action: condition\n    config:\n      condition: 'true'\n      then: [{id: t, action: log, config: {message: a}}]\n      else: [{id: e, action: log, config: {message: \"${t.message}\"}}]\n  - {id: after, action: log, config: {message: \"${p1.message} ${t.message} ${e.message}\"}}\n";
    let all: Vec<_> = findings(text)
        .into_iter()
        .filter(|f| f.1 == "reference-order")
        .map(|f| f.2)
        .collect();
    assert_eq!(all, vec![8, 14], "{:#?}", findings(text));
}

#[test]
fn schema_assertion_errors_point_at_the_key() {
    let text = "name: x\nsteps:\n  - action: log\n    config: {message: m}\n    assert:\n      - body[ matches_schema: {type: object}\n";
    let (severity, line, col, _) = one(text, "invalid-expression");
    assert_eq!((severity, line, col), (E, 6, 9));
}

#[test]
fn aliases_to_scalars_keep_their_written_text() {
    let flow = load_str(
        "name: &n 1.10\nversion: *n\nsteps:\n  - action: log\n    config: {message: *n}\n",
    )
    .flow
    .unwrap();
    assert_eq!(flow.version.as_deref(), Some("1.10"));
    assert_eq!(flow.name, "1.10");
}

#[test]
fn references_inside_defaults_are_rejected() {
    let text = "name: x\nsteps:\n  - action: log\n    config: {message: \"${A:${B}}\"}\n";
    let (severity, line, _, message) = one(text, "invalid-template");
    assert_eq!((severity, line), (E, 4));
    assert!(message.contains("a default is literal text"), "{message}");
}

#[test]
fn contract_hints_are_checked() {
    let ok = "name: x\nsteps:\n  - action: http_request\n    contract:\n      description: d\n      provider_state: s\n      provider_states: [t, {name: u, params: {id: 1}}]\n      matching_rules:\n        $.id: integer\n        response.header.X-Id: [type]\n        request.query.page: {match: regex, regex: \"^[0-9]+$\"}\n    config: {method: GET, url: http://x}\n";
    assert!(findings(ok).is_empty(), "{:#?}", findings(ok));
    let bad = "name: x\nsteps:\n  - action: http_request\n    contract:\n      provider_states: [3]\n      matching_rules:\n        response.query.a: type\n        $.b: 5\n    config: {method: GET, url: http://x}\n";
    let all = findings(bad);
    let messages: Vec<&str> = all.iter().map(|f| f.4.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("contract.provider_states[0]")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`response.query.a`: unknown location")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`$.b`: expected a matcher name")),
        "{messages:#?}"
    );
    let typo = "name: x\nsteps:\n  - action: http_request\n    contract: {descripton: d}\n    config: {method: GET, url: http://x}\n";
    assert!(
        findings(typo).iter().any(|f| f.4.contains("descripton")),
        "{:#?}",
        findings(typo)
    );
    let (severity, _, _, _) = one(
        "name: x\nsteps:\n  - action: log\n    contract: {description: d}\n    config: {message: m}\n",
        "contract-hints",
    );
    assert_eq!(severity, W);
}
