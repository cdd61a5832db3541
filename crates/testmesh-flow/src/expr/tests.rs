//! Unit tests for the expression language.

use super::*;
use proptest::prelude::*;
use serde_json::{Map, json};

fn env() -> Map<String, Value> {
    match json!({
        "status": 201,
        "code": "201",
        "name": "Alice",
        "nothing": null,
        "flag": true,
        "price": 9.5,
        "tags": ["a", "b", "c"],
        "headers": {"content-type": "application/json", "length": "12"},
        "body": {
            "id": "0b7d2a0e-8c1f-4d5e-9a3b-1c2d3e4f5a6b",
            "email": "alice@example.com",
            "users": [{"name": "Ann", "age": 30}, {"name": "Bob", "age": 25}],
            "meta": null,
            "in": 1,
            "count": 2,
            "empty": []
        }
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[track_caller]
fn ev(src: &str) -> Result<Value, String> {
    let e = parse(src).map_err(|e| format!("parse: {e}"))?;
    e.eval(&env()).map_err(|e| e.to_string())
}

#[track_caller]
fn val(src: &str, want: Value) {
    match ev(src) {
        Ok(v) => assert_eq!(v, want, "{src}"),
        Err(e) => panic!("{src}: {e}"),
    }
}

#[track_caller]
fn yes(src: &str) {
    val(src, json!(true));
}

#[track_caller]
fn no(src: &str) {
    val(src, json!(false));
}

#[track_caller]
fn fails(src: &str, needle: &str) {
    match ev(src) {
        Ok(v) => panic!("{src}: expected an error, got {v}"),
        Err(e) => assert!(e.contains(needle), "{src}: {e:?} lacks {needle:?}"),
    }
}

#[track_caller]
fn perr(src: &str) -> ParseError {
    match parse(src) {
        Ok(e) => panic!("{src}: expected a parse error, got {:?}", e.node),
        Err(e) => e,
    }
}

#[track_caller]
fn failure(src: &str) -> AssertionFailure {
    failure_in(src, &env())
}

#[track_caller]
fn failure_in(src: &str, env: &Map<String, Value>) -> AssertionFailure {
    match parse(src) {
        Ok(e) => match e.check(env) {
            Ok(()) => panic!("{src}: check passed"),
            Err(f) => f,
        },
        Err(e) => panic!("{src}: {e}"),
    }
}

#[test]
fn literals() {
    val("1", json!(1));
    val("1.5", json!(1.5));
    val("1e3", json!(1000.0));
    val(r#"'it\'s' + "\t\u0041""#, json!("it's\tA"));
    val("nil", json!(null));
    val("null", json!(null));
    val("[1, 'a', [true]]", json!([1, "a", [true]]));
    val(
        r#"{"k": 1, k2: status, in: 3,}"#,
        json!({"k": 1, "k2": 201, "in": 3}),
    );
    val("[]", json!([]));
    val("{}", json!({}));
}

#[test]
fn arithmetic() {
    val("1 + 2 * 3", json!(7));
    val("(1 + 2) * 3", json!(9));
    val("7 / 2", json!(3.5));
    val("6 / 3", json!(2));
    val("7 % 3", json!(1));
    val("10 - 2 - 3", json!(5));
    val("1.5 + 1.5", json!(3.0));
    val("-status", json!(-201));
    val("- -2", json!(2));
    val("9223372036854775807 + 1", json!(9223372036854775808.0));
    val("'5' * 2", json!(10));
    val("code - 1", json!(200));
    val("code + 1", json!(202));
    val("'a' + 1", json!("a1"));
    val("'1' + '2'", json!("12"));
    val("name + '!' ", json!("Alice!"));
    val("[1] + [2, 3]", json!([1, 2, 3]));
    fails("1 / 0", "division by zero");
    fails("1 % 0", "modulo by zero");
    fails("'a' - 1", "`-` needs numbers");
    fails("true + 1", "cannot add");
    fails("-'x'", "cannot negate");
    fails("1e308 * 10", "finite");
}

#[test]
fn equality_and_numeric_strings() {
    yes("status == 201");
    yes("status == '201'");
    yes("'201' == status");
    yes("code == 201");
    yes("1 == 1.0");
    yes("nothing == null");
    yes("body.missing == null");
    yes("status != 200");
    no("status == 'abc'");
    no("true == 1");
    yes("tags == ['a', 'b', 'c']");
    yes("body.users[0] == {name: 'Ann', age: 30}");
}

#[test]
fn ordering() {
    yes("status > 200 && status >= 201 && status < 300 && status <= 201");
    yes("'10' > '9'");
    yes("'b' > 'a'");
    yes("code >= 201");
    yes("price > 9");
    yes("'abc' < 'abd'");
    fails("'x' < true", "cannot compare string \"x\" with boolean");
    fails("status < 'abc'", "cannot compare");
    fails("nothing < 1", "cannot compare null");
}

#[test]
fn logic_and_ternary() {
    yes("flag && true");
    yes("flag and not false");
    yes("false || flag");
    yes("false or true");
    yes("!false");
    no("not flag");
    no("false && undefined_name");
    yes("true || undefined_name");
    fails("status && true", "`&&` needs a boolean, got number 201");
    fails("!1", "`not` needs a boolean");
    val("flag ? 'y' : 'n'", json!("y"));
    val("false ? 1 : true ? 2 : 3", json!(2));
    fails("1 ? 2 : 3", "condition needs a boolean");
    // && binds tighter than ||
    yes("true || false && false");
    // ternary is lowest: (a ?? b) ? ...
    val("nothing ?? false ? 1 : 2", json!(2));
}

#[test]
fn predicates() {
    yes("name contains 'lic'");
    yes("tags contains 'b'");
    yes("body contains 'users'");
    no("tags contains 'z'");
    yes("'b' in tags");
    yes("'ell' in 'hello'");
    yes("'users' in body");
    yes("'z' not in tags");
    no("'a' not in tags");
    yes("201 in [200, '201']");
    yes("name startsWith 'Al' && name starts_with 'A'");
    yes("name endsWith 'ice' && name ends_with 'e'");
    yes("name matches '^A[a-z]+$'");
    yes("status matches '^2\\d\\d$'");
    no("name matches '^B'");
    let pattern = "'^A'";
    yes(&format!("name matches {pattern}"));
    fails("tags contains 1 + true", "cannot add");
    fails(
        "nothing contains 'a'",
        "cannot look for string \"a\" in null",
    );
    fails("1 startsWith 'a'", "need two strings");
    fails("name matches ('[' + '')", "invalid regex");
}

#[test]
fn postfix_predicates() {
    yes("body.id exists");
    no("body.nope exists");
    no("undefined exists");
    no("nothing exists");
    no("body.meta.deep.er exists");
    no("undefined.a[0].b exists");
    yes("nothing is null");
    yes("undefined is null");
    yes("body.meta.x is null");
    yes("status is not null");
    yes("status is number && name is string && flag is boolean && flag is bool");
    yes("tags is array && tags is list && body is object && body is map");
    yes("name is not number");
    no("tags is object");
    fails("undefined is number", "unknown name");
    yes("body.count + 1 exists");
    let e = perr("status is weird");
    assert_eq!(e.offset, 10);
}

#[test]
fn access() {
    val("body.users[0].name", json!("Ann"));
    val("body.users[-1].name", json!("Bob"));
    val("tags[-3]", json!("a"));
    val("tags[5]", json!(null));
    val("tags[-4]", json!(null));
    val("name[0]", json!("A"));
    val("name[-1]", json!("e"));
    val(r#"headers["content-type"]"#, json!("application/json"));
    val("body['users'][1]['age']", json!(25));
    val("body.in", json!(1));
    val("tags.length", json!(3));
    val("name.length", json!(5));
    val("body.length", json!(7));
    val("headers.length", json!("12"));
    val("${body.users[0].name}", json!("Ann"));
    val("${ status } + 1", json!(202));
    val("body.missing", json!(null));
    fails("body.meta.x", "cannot read `.x` of null (at `body.meta`)");
    fails(
        "body.missing.x",
        "cannot read `.x` of null (at `body.missing`)",
    );
    fails("nothing[0]", "cannot index null (at `nothing`)");
    fails("status.x", "cannot read `.x` of number (at `status`)");
    fails("tags['x']", "cannot index array with string");
    fails("tags[0.5]", "index must be an integer, got 0.5");
}

#[test]
fn null_safety() {
    val("body.meta?.x", json!(null));
    val("undefined?.x", json!(null));
    val("body?.users?.length", json!(2));
    val("body.meta ?? 'default'", json!("default"));
    val("undefined ?? 1", json!(1));
    val("undefined.a.b ?? 2", json!(2));
    val("body.meta.x ?? 3", json!(3));
    val("status ?? 1", json!(201));
    val("nothing ?? nothing ?? 'z'", json!("z"));
    val("false ?? true", json!(false));
}

#[test]
fn unknown_names() {
    let e = parse("stauts == 201").map(|e| e.eval(&env()));
    match e {
        Ok(Err(EvalError::UnknownName { name, available })) => {
            assert_eq!(name, "stauts");
            assert!(available.contains(&"status".to_string()));
        }
        other => panic!("{other:?}"),
    }
    fails(
        "stauts == 201",
        "unknown name `stauts`; available names: status, code,",
    );
    let empty = Map::new();
    match parse("x").map(|e| e.eval(&empty).map_err(|e| e.to_string())) {
        Ok(Err(m)) => assert_eq!(m, "unknown name `x`; available names: (none)"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn functions() {
    val("len(tags)", json!(3));
    val("len(name)", json!(5));
    val("len(body.users)", json!(2));
    val("lower(name) + upper('x')", json!("aliceX"));
    val("trim('  a ')", json!("a"));
    val("int('42') + int(3.9) + int(true)", json!(46));
    val("float(2)", json!(2.0));
    val(
        "string(12) + string(name) + string([1])",
        json!("12Alice[1]"),
    );
    val("abs(-3) + abs(-1.5)", json!(4.5));
    val("keys(body.users[0])", json!(["name", "age"]));
    val("values(body.users[0])", json!(["Ann", 30]));
    val(
        "type(1) + type('') + type(flag) + type(tags)",
        json!("numberstringbooleanarray"),
    );
    val("type(body) + type(nothing)", json!("objectnull"));
    val("min(3, 1, 2)", json!(1));
    val("max(tags)", json!("c"));
    val("max('10', '9')", json!("10"));
    fails("min(body.empty)", "empty array");
    fails(
        "len(1)",
        "len() needs an array, string or object, got number 1",
    );
    fails("upper(1)", "upper() needs a string");
    fails("int('x')", "int() needs a number");
    fails("keys(tags)", "keys() needs an object");
    let e = perr("len(1, 2)");
    assert_eq!(
        (e.offset, e.message.as_str()),
        (0, "len() takes 1 argument(s), got 2")
    );
}

fn schema_env() -> Map<String, Value> {
    let mut m = env();
    m.insert(
        "doc".into(),
        json!({"id": "0b7d2a0e-8c1f-4d5e-9a3b-1c2d3e4f5a6b", "email": "a@b.io", "n": 3}),
    );
    m.insert("bad".into(), json!({"id": "nope", "email": "x", "n": "3"}));
    m
}

#[test]
fn matches_schema() {
    let schema = r#"{type: 'object', required: ['id', 'n'],
        properties: {id: {type: 'string', format: 'uuid'}, email: {format: 'email'},
                     n: {type: 'integer'}}}"#;
    let run = |src: &str| parse(src).map(|e| e.eval(&schema_env()));
    assert_eq!(
        run(&format!("doc matches_schema {schema}")),
        Ok(Ok(json!(true)))
    );
    assert_eq!(
        run(&format!("bad matches_schema {schema}")),
        Ok(Ok(json!(false)))
    );
    assert_eq!(
        run(&format!("matches_schema(doc, {schema})")),
        Ok(Ok(json!(true)))
    );
    let draft7 = r##"{"$schema": "http://json-schema.org/draft-07/schema#",
        definitions: {user: {type: 'object', required: ['name'], properties: {name: {type: 'string'}}}},
        type: 'array', items: {"$ref": "#/definitions/user"}}"##;
    assert_eq!(
        run(&format!("body.users matches_schema {draft7}")),
        Ok(Ok(json!(true)))
    );
    assert_eq!(
        run(&format!("[{{name: 1}}] matches_schema {draft7}")),
        Ok(Ok(json!(false)))
    );
    let src = format!("bad matches_schema {schema}");
    let f = failure_in(&src, &schema_env());
    assert!(
        f.message.starts_with("expected bad matches_schema"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("/id: \"nope\" is not a \"uuid\""),
        "{}",
        f.message
    );
    assert!(f.message.contains("/n: "), "{}", f.message);
    assert!(!f.message.contains("(and"), "{}", f.message);
    assert_eq!(f.actual, schema_env().get("bad").cloned());
    fails("1 matches_schema {type: 'nonsense'}", "invalid JSON schema");
    fails(
        r#"1 matches_schema {"$ref": "http://example.com/s.json"}"#,
        "invalid JSON schema",
    );
    yes(r##"1 matches_schema {"$ref": "#"}"##);
    let f = failure("[1, 2, 3, 4, 5] matches_schema {items: {type: 'string'}}");
    assert!(
        f.message.contains("/0: 1 is not of type \"string\"; /1: "),
        "{}",
        f.message
    );
    assert!(f.message.ends_with("(and 2 more)"), "{}", f.message);
}

#[test]
fn parse_error_columns() {
    let cases: &[(&str, usize, &str)] = &[
        ("status == ", 10, "expected an expression"),
        ("status ==", 10, "expected an expression"),
        ("status === 1", 8, "`===` is not an operator"),
        ("status = 1", 8, "use `==`"),
        ("name == 'abc", 9, "unterminated string"),
        ("foo(1) == 2", 1, "unknown function `foo`"),
        ("name matches '['", 14, "invalid regex"),
        ("name matches '(a'", 14, "unclosed group"),
        ("(status == 1", 13, "expected `)`"),
        ("1 == 2 == 3", 8, "comparisons cannot be chained"),
        ("status in", 10, "expected an expression"),
        ("in == 1", 1, "unexpected keyword `in`"),
        ("a b", 3, "unexpected `b`"),
        ("a.", 3, "expected a member name"),
        ("", 1, "expected an expression"),
        ("x @ 1", 3, "unexpected character `@`"),
        ("'é' == x x", 10, "unexpected `x`"),
    ];
    for (src, col, msg) in cases {
        let e = perr(src);
        assert_eq!(e.offset + 1, *col, "{src}: {e}");
        assert!(e.message.contains(msg), "{src}: {e}");
        assert!(e.to_string().ends_with(&format!(" at column {col}")), "{e}");
    }
}

#[test]
fn check_messages() {
    let mut m = env();
    m.insert("status".into(), json!(404));
    let f = failure_in("status == 201", &m);
    assert_eq!(f.message, "expected status == 201, but status is 404");
    assert_eq!(f.actual, Some(json!(404)));
    assert_eq!(f.expected, Some(json!(201)));
    assert_eq!(f.expression, "status == 201");

    let f = failure("body.users[0].name startsWith 'B'");
    assert_eq!(
        f.message,
        "expected body.users[0].name startsWith 'B', but body.users[0].name is \"Ann\""
    );
    let f = failure("status == 201 && name contains 'x'");
    assert_eq!(
        f.message,
        "expected name contains 'x', but name is \"Alice\""
    );
    assert_eq!(f.expected, Some(json!("x")));
    let f = failure("'z' in tags");
    assert_eq!(f.message, "expected 'z' in tags, but it is false");
    assert_eq!(f.actual, Some(json!("z")));
    let f = failure("body.nope exists");
    assert_eq!(
        f.message,
        "expected body.nope exists, but body.nope is missing"
    );
    let f = failure("body.meta exists");
    assert_eq!(
        f.message,
        "expected body.meta exists, but body.meta is null"
    );
    let f = failure("status is null");
    assert_eq!(f.message, "expected status is null, but status is 201");
    let f = failure("status");
    assert_eq!(f.message, "expression `status` is a number, not a boolean");
    let f = failure("flag == false || false");
    assert_eq!(
        f.message,
        "expected flag == false || false, but it is false"
    );
    let f = failure("nope == 1");
    assert!(
        f.message.starts_with("unknown name `nope`"),
        "{}",
        f.message
    );
    assert_eq!(f.actual, None);
    for ok in [
        "status == 201",
        "body.id exists && tags contains 'a'",
        "true",
    ] {
        match parse(ok) {
            Ok(e) => assert_eq!(e.check(&env()), Ok(()), "{ok}"),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn eval_bool_requires_boolean() {
    let e = parse("status + 1").map(|e| e.eval_bool(&env()));
    assert_eq!(
        e,
        Ok(Err(EvalError::NotBoolean {
            expression: "status + 1".into(),
            type_name: "number".into()
        }))
    );
    assert_eq!(
        parse("status > 1").map(|e| e.eval_bool(&env())),
        Ok(Ok(true))
    );
}

#[test]
fn references() {
    let refs = match parse("body.users[0].name > 1 && status") {
        Ok(e) => e.references(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        refs,
        vec![
            Reference {
                root: "body".into(),
                path: "body.users[0].name".into(),
                offset: 0,
                len: 18
            },
            Reference {
                root: "status".into(),
                path: "status".into(),
                offset: 26,
                len: 6
            },
        ]
    );
    let refs = match parse("len(${a.b[i]}) + c?.d ?? 'x'") {
        Ok(e) => e.references(),
        Err(e) => panic!("{e}"),
    };
    let paths: Vec<_> = refs
        .iter()
        .map(|r| (r.root.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(paths, [("a", "a.b[i]"), ("i", "i"), ("c", "c?.d")]);
}

#[test]
fn roots_of_every_path_including_those_inside_indexes() {
    for (src, want) in [
        ("body.users[0].name > 1 && status", vec!["body", "status"]),
        ("len(${a.b[i]}) + c?.d ?? 'x'", vec!["a", "i", "c"]),
        (
            "x[y[z]].w == (p ? q : r) && !s",
            vec!["x", "y", "z", "p", "q", "r", "s"],
        ),
        ("1 + 2", vec![]),
    ] {
        let expr = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let mut roots = Vec::new();
        expr.for_each_root(&mut |root| roots.push(root.to_string()));
        roots.sort();
        let mut want: Vec<String> = want.into_iter().map(String::from).collect();
        want.sort();
        assert_eq!(roots, want, "{src}");
    }
}

#[test]
fn precedence_and_postfix_order() {
    // `exists` binds tighter than comparisons, `+` tighter than `exists`.
    yes("body.id exists == true");
    yes("1 + 2 == 3 && 2 * 3 == 6");
    yes("-2 * -2 == 4");
    yes("status == 201 ? true : false");
    yes("not false == true");
    val("1 + 2 ?? 5", json!(3));
}

#[test]
fn deep_nesting_is_rejected() {
    let deep = "(".repeat(100_000);
    let e = perr(&deep);
    assert!(e.message.contains("nested too deeply"), "{e}");
    let e = perr(&"!".repeat(100_000));
    assert!(e.message.contains("nested too deeply"), "{e}");
    let e = perr(&"[".repeat(100_000));
    assert!(e.message.contains("nested too deeply"), "{e}");
    let chain = vec!["1"; 100_000].join(" + ");
    assert!(perr(&chain).message.contains("nested too deeply"));
    let members = format!("a{}", ".b".repeat(100_000));
    assert!(perr(&members).message.contains("nested too deeply"));
    let ok = format!("{}1{}", "(".repeat(40), ")".repeat(40));
    val(&ok, json!(1));
    let sum = vec!["1"; 60].join(" + ");
    val(&sum, json!(60));
    // Just under the limit: every construct evaluates without exhausting the stack.
    let near = [
        format!("{}status{}", "(".repeat(62), ")".repeat(62)),
        format!("{}true", "!".repeat(62)),
        format!("{}true", "not ".repeat(62)),
        format!("{}1", "-".repeat(62)),
        format!("{}1{}", "[".repeat(31), "]".repeat(31)),
        format!("{}2", "false ? 1 : ".repeat(30)),
        vec!["status == 201"; 60].join(" && "),
        vec!["nothing"; 60].join(" ?? "),
        format!("body{}", "?.x".repeat(60)),
    ];
    for src in &near {
        match parse(src) {
            Ok(e) => {
                let _ = e.eval(&env());
                let _ = e.check(&env());
                let _ = e.references();
            }
            Err(e) => panic!("{src}: {e}"),
        }
    }
}

#[test]
fn regex_cache_reuse() {
    for _ in 0..3 {
        yes("name matches 'A.*' && 'x' + name matches 'xA'");
    }
}

const VOCAB: &[&str] = &[
    "status",
    "body",
    ".",
    "?.",
    "users",
    "[",
    "]",
    "(",
    ")",
    "0",
    "-1",
    "1.5",
    "'a'",
    "\"b\"",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "!",
    "not",
    "and",
    "or",
    "??",
    "?",
    ":",
    "+",
    "-",
    "*",
    "/",
    "%",
    "contains",
    "in",
    "not in",
    "matches",
    "'^a'",
    "exists",
    "is",
    "null",
    "number",
    "len(",
    "min(",
    ",",
    "{",
    "}",
    "${",
    "true",
    "nil",
    "matches_schema",
    "{type: 'string'}",
    "startsWith",
    "tags",
    "nothing",
    "length",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,80}") {
        if let Ok(e) = parse(&s) {
            let _ = e.eval(&env());
            let _ = e.check(&env());
            let _ = e.references();
        }
    }

    #[test]
    fn token_soup_never_panics(parts in proptest::collection::vec(proptest::sample::select(VOCAB), 0..24)) {
        let s = parts.join(" ");
        if let Ok(e) = parse(&s) {
            let _ = e.eval(&env());
            let _ = e.check(&env());
            let _ = e.eval_bool(&env());
            for r in e.references() {
                prop_assert!(s.chars().skip(r.offset).take(r.len).collect::<String>() == r.path);
            }
        }
    }
}
