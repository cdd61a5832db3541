//! The HTTP calls of a flow, found without running it.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};
use testmesh_flow::model::step::Assertion;
use testmesh_flow::{Action, ActionKind, Flow, Step};

use super::{Call, CallSource};

/// Every `http_request` / `http` step of `flow` — setup, main, `on_error` and teardown phases,
/// nested steps of `condition`, `for_each`, `parallel`, `wait_until` and `error_steps` included;
/// disabled steps left out — as a [`Call`] labelled `label`. The method defaults to `GET`; the
/// URL is kept as written. Statuses come from assertions that only read the status (`status ==
/// 201`, `status in [200, 201]`, `response.status == 204`, `status >= 400 and status < 500` for
/// the class `4XX`); `assert` lists narrow each other, `assert_any` lists widen.
pub fn calls_in_flow(flow: &Flow, label: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    for (_, steps) in flow.phases() {
        Step::walk(steps, &mut |step| {
            if let Some(call) = call_of(step, label) {
                calls.push(call);
            }
        });
    }
    calls
}

fn call_of(step: &Step, label: &str) -> Option<Call> {
    if step.disabled || step.kind != Some(ActionKind::HttpRequest) {
        return None;
    }
    let (method, url) = match &step.action {
        Some(Action::HttpRequest(config)) => (config.method.clone(), config.url.clone()),
        // The config did not decode (reported by validation): read what is there.
        _ => {
            let config = step.config.to_json();
            let text = |key: &str| config.get(key).and_then(Value::as_str).map(str::to_string);
            (text("method").unwrap_or_default(), text("url")?)
        }
    };
    let method = if method.trim().is_empty() {
        "GET".to_string()
    } else {
        method.trim().to_string()
    };
    Some(Call {
        flow: label.to_string(),
        step: step.id.clone(),
        method,
        url: url.trim().to_string(),
        statuses: statuses(&step.assert, &step.assert_any),
        source: CallSource::Static,
    })
}

/// The statuses the assertions accept, encoded as in [`Call::statuses`].
fn statuses(all: &[Assertion], any: &[Assertion]) -> Vec<u16> {
    let mut accepted: Option<BTreeSet<u16>> = None;
    for assertion in all {
        if let Some(set) = accepted_statuses(assertion) {
            accepted = Some(match accepted {
                None => set,
                Some(before) => before.intersection(&set).copied().collect(),
            });
        }
    }
    // `assert_any` tells something only when every alternative is about the status.
    let alternatives: Vec<Option<BTreeSet<u16>>> = any.iter().map(accepted_statuses).collect();
    if !alternatives.is_empty() && alternatives.iter().all(Option::is_some) {
        let union: BTreeSet<u16> = alternatives.into_iter().flatten().flatten().collect();
        accepted = Some(match accepted {
            None => union,
            Some(before) => before.intersection(&union).copied().collect(),
        });
    }
    encode(&accepted.unwrap_or_default())
}

/// Whole classes become their digit; a set spanning several whole classes (`status < 500`,
/// `status >= 400`) says nothing about a particular status and is dropped.
fn encode(set: &BTreeSet<u16>) -> Vec<u16> {
    let full: Vec<u16> = (1..=5u16)
        .filter(|class| (class * 100..class * 100 + 100).all(|code| set.contains(&code)))
        .collect();
    if full.len() > 1 {
        return set
            .iter()
            .copied()
            .filter(|c| !is_in_class(*c, &full))
            .collect();
    }
    let mut out: Vec<u16> = full.clone();
    out.extend(set.iter().copied().filter(|c| !is_in_class(*c, &full)));
    out
}

fn is_in_class(code: u16, classes: &[u16]) -> bool {
    classes.contains(&(code / 100))
}

/// The statuses (100–599) an assertion accepts, when it reads nothing but the status.
fn accepted_statuses(assertion: &Assertion) -> Option<BTreeSet<u16>> {
    let expr = &assertion.expr;
    let references = expr.references();
    if references.is_empty()
        || !references
            .iter()
            .all(|r| r.path == "status" || r.path == "response.status")
    {
        return None;
    }
    if let Some(set) = simple_form(expr.source()) {
        return Some(set);
    }
    // Other forms are evaluated for every status; flows repeat a few forms, so remember them.
    if let Some(set) = EVALUATED.with(|cache| cache.borrow().get(expr.source()).cloned()) {
        return Some(set);
    }
    let mut set = BTreeSet::new();
    let mut scope = Map::new();
    for code in 100..=599u16 {
        scope.insert("status".into(), json!(code));
        scope.insert("response".into(), json!({ "status": code }));
        if expr.eval_bool(&scope) == Ok(true) {
            set.insert(code);
        }
    }
    EVALUATED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(expr.source().to_string(), set.clone());
    });
    Some(set)
}

/// Most evaluated assertion forms remembered per thread.
const CACHE_LIMIT: usize = 4096;

thread_local! {
    /// Assertion source → the statuses it accepts.
    static EVALUATED: RefCell<HashMap<String, BTreeSet<u16>>> = RefCell::new(HashMap::new());
}

/// `status == 201`, `status == '201'`, `status in [200, 201]` without evaluating 500 times.
fn simple_form(source: &str) -> Option<BTreeSet<u16>> {
    let rest = source.trim();
    let rest = rest
        .strip_prefix("response.status")
        .or_else(|| rest.strip_prefix("status"))?
        .trim_start();
    let code = |text: &str| -> Option<u16> {
        let text = text.trim();
        let text = text
            .strip_prefix('\'')
            .and_then(|t| t.strip_suffix('\''))
            .or_else(|| text.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
            .unwrap_or(text);
        text.parse().ok().filter(|c| (100..=599).contains(c))
    };
    if let Some(value) = rest.strip_prefix("==") {
        return code(value).map(|c| BTreeSet::from([c]));
    }
    let list = rest
        .strip_prefix("in")?
        .trim()
        .strip_prefix('[')?
        .strip_suffix(']')?;
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(code)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(yaml: &str) -> Flow {
        let loaded = testmesh_flow::load_str(yaml);
        let errors: Vec<String> = loaded.errors().map(|d| d.message.clone()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        loaded.flow.unwrap_or_else(|| panic!("no flow"))
    }

    fn statuses_of(asserts: &str) -> Vec<u16> {
        let f = flow(&format!(
            "name: t\nsteps:\n  - id: s\n    action: http_request\n    config: {{method: GET, url: /x}}\n{asserts}"
        ));
        calls_in_flow(&f, "t")
            .first()
            .map(|c| c.statuses.clone())
            .unwrap_or_default()
    }

    #[test]
    fn statuses_from_assertions() {
        assert_eq!(statuses_of("    assert: [status == 201]"), [201]);
        assert_eq!(statuses_of("    assert: [\"status == '204'\"]"), [204]);
        assert_eq!(
            statuses_of("    assert: ['status in [200, 201]', body.id exists]"),
            [200, 201]
        );
        assert_eq!(statuses_of("    assert: [response.status == 404]"), [404]);
        assert_eq!(
            statuses_of("    assert: ['status >= 400 and status < 500']"),
            [4]
        );
        assert_eq!(
            statuses_of("    assert: ['status >= 400', 'status < 500']"),
            [4]
        );
        assert_eq!(
            statuses_of("    assert: ['status < 500']"),
            Vec::<u16>::new()
        );
        assert_eq!(
            statuses_of("    assert_any: [status == 200, status == 304]"),
            [200, 304]
        );
        assert_eq!(
            statuses_of("    assert_any: [status == 200, body.ok == true]"),
            Vec::<u16>::new()
        );
        assert_eq!(
            statuses_of(
                "    assert: ['status == 200 || status == 201 || (status >= 500 && status <= 599)']"
            ),
            [5, 200, 201]
        );
        assert_eq!(
            statuses_of("    assert: [body.status == 200]"),
            Vec::<u16>::new()
        );
        assert_eq!(statuses_of(""), Vec::<u16>::new());
    }
}
