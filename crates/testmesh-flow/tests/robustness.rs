//! No input makes the loader, the validator, the expression parser or the template parser panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use proptest::prelude::*;
use testmesh_flow::{expr, interpolate, load_str};

/// YAML-shaped noise: flow keys, actions, references and punctuation that trip parsers.
fn yamlish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "name: x\n",
        "steps:\n",
        "  - ",
        "id: a\n",
        "action: http_request\n",
        "action: for_each\n",
        "config:\n",
        "    ",
        "url: ${a.b[0]}\n",
        "{{x}}",
        "assert:\n",
        "- status == 200\n",
        "[",
        "]",
        "{",
        "}",
        ":",
        "&a ",
        "*a",
        "<<: ",
        "'",
        "\"",
        "\t",
        "\n",
        "#",
        "---\n",
        "!!str ",
        "retry: {delay: 1s}\n",
        "then:\n",
        "when: a &&\n",
        "output: {x: $.y}\n",
        "${",
        "$${",
        "é",
        "- ",
        "? ",
        "|\n",
        ">\n",
    ]);
    prop::collection::vec(atoms, 0..60).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn loader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = load_str(&text);
    }

    #[test]
    fn loader_never_panics_on_yamlish_text(text in yamlish()) {
        let loaded = load_str(&text);
        // Every finding points inside the text.
        for d in &loaded.diagnostics {
            prop_assert!(d.span.start <= text.len() && d.span.end <= text.len(), "{d:?}");
        }
    }

    #[test]
    fn expression_parser_never_panics(source in ".{0,80}") {
        if let Ok(parsed) = expr::parse(&source) {
            let env = serde_json::Map::new();
            let _ = parsed.eval(&env);
            let _ = parsed.references();
        }
    }

    #[test]
    fn template_parser_never_panics(source in ".{0,80}") {
        let _ = interpolate::references_in(&source);
    }
}
