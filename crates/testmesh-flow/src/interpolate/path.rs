//! Path walking for references (`body.items[0].id`, `items.-1`, `["a b"]`),
//! RFC 9535 JSONPath selection, and the step-output resolver used by `output:`.

use serde_json::Value;
use serde_json_path::JsonPath;

/// One step of a simple (non-JSONPath) path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A member name (or a numeric dot segment, which also indexes arrays).
    Key(String),
    /// A bracketed index; negative counts from the end.
    Index(i64),
}

/// Parses a simple path such as `body.items[0]["a b"].id` into segments.
pub(crate) fn parse_path(path: &str) -> Result<Vec<Seg>, String> {
    let chars: Vec<char> = path.chars().collect();
    let mut segs = Vec::new();
    let mut i = 0;
    let mut expect_member = !path.starts_with('[');
    while i < chars.len() || expect_member {
        if expect_member {
            let start = i;
            while i < chars.len() && chars.get(i).is_some_and(|c| *c != '.' && *c != '[') {
                i += 1;
            }
            let name: String = chars.get(start..i).unwrap_or_default().iter().collect();
            if name.is_empty() {
                return Err(format!("empty segment in path `{path}`"));
            }
            segs.push(Seg::Key(name));
            expect_member = false;
            continue;
        }
        match chars.get(i) {
            Some('.') => {
                i += 1;
                expect_member = true;
            }
            Some('[') => {
                let (seg, next) = parse_bracket(&chars, i + 1)
                    .ok_or_else(|| format!("malformed `[...]` in path `{path}`"))?;
                segs.push(seg);
                i = next;
            }
            _ => return Err(format!("unexpected character in path `{path}`")),
        }
    }
    Ok(segs)
}

/// Parses the inside of `[...]` starting just after `[`; returns the segment and
/// the index just after `]`.
fn parse_bracket(chars: &[char], mut i: usize) -> Option<(Seg, usize)> {
    let skip_ws = |mut i: usize| {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        i
    };
    i = skip_ws(i);
    let quote = chars.get(i).copied().filter(|c| *c == '"' || *c == '\'');
    let seg = if let Some(q) = quote {
        let mut key = String::new();
        i += 1;
        loop {
            match chars.get(i)? {
                '\\' => {
                    key.push(*chars.get(i + 1)?);
                    i += 2;
                }
                c if *c == q => {
                    i += 1;
                    break;
                }
                c => {
                    key.push(*c);
                    i += 1;
                }
            }
        }
        i = skip_ws(i);
        Seg::Key(key)
    } else {
        let start = i;
        while chars.get(i).is_some_and(|c| *c != ']') {
            i += 1;
        }
        let text: String = chars.get(start..i)?.iter().collect();
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        match text.parse::<i64>() {
            Ok(n) => Seg::Index(n),
            Err(_) => Seg::Key(text.to_owned()),
        }
    };
    (chars.get(i) == Some(&']')).then_some((seg, i + 1))
}

/// Deepest `[`/`(` nesting accepted in a JSONPath. The JSONPath parser recurses
/// (and backtracks) per level, so deeper inputs could overflow the stack or take
/// exponential time; real-world paths stay far below this.
const MAX_JSONPATH_DEPTH: usize = 8;

/// Parses an RFC 9535 JSONPath after a nesting-depth guard.
fn parse_jsonpath(path: &str) -> Result<JsonPath, String> {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in path.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '[' | '(' => {
                    depth += 1;
                    max = max.max(depth);
                }
                ']' | ')' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    if max > MAX_JSONPATH_DEPTH {
        return Err(format!("JSONPath `{path}` is nested too deeply"));
    }
    JsonPath::parse(path).map_err(|e| format!("invalid JSONPath `{path}`: {e}"))
}

/// Checks that `path` is a valid simple path or (when it starts with `$`) JSONPath.
pub(crate) fn validate(path: &str) -> Result<(), String> {
    if path.starts_with('$') {
        parse_jsonpath(path).map(|_| ())
    } else {
        parse_path(path).map(|_| ())
    }
}

/// Checks an `output:` path the way [`resolve_output`] reads it: `""` and `$`, RFC 9535 JSONPath
/// (depth-guarded), or — for `$`-paths that are not valid JSONPath, such as `$.data.user-id` — the
/// simple path after the `$.`. The error names what is wrong.
pub fn check_output_path(path: &str) -> Result<(), String> {
    let path = path.trim();
    if path.is_empty() || path == "$" {
        return Ok(());
    }
    if !path.starts_with('$') {
        return parse_path(path).map(|_| ());
    }
    match parse_jsonpath(path) {
        Ok(_) => Ok(()),
        Err(json_error) => {
            let rest = path.trim_start_matches(['$', '.']);
            if !rest.is_empty()
                && !json_error.contains("nested too deeply")
                && parse_path(rest).is_ok()
            {
                Ok(())
            } else {
                Err(json_error)
            }
        }
    }
}

fn index_array(items: &[Value], i: i64) -> Option<&Value> {
    let len = i64::try_from(items.len()).ok()?;
    let idx = if i < 0 { len.checked_add(i)? } else { i };
    items.get(usize::try_from(idx).ok()?)
}

/// Walks parsed segments into `value`; `None` when a step is missing.
pub(crate) fn walk<'a>(value: &'a Value, segs: &[Seg]) -> Option<&'a Value> {
    segs.iter().try_fold(value, |v, seg| match (v, seg) {
        (Value::Object(map), Seg::Key(k)) => map.get(k),
        (Value::Object(map), Seg::Index(n)) => map.get(&n.to_string()),
        (Value::Array(items), Seg::Index(n)) => index_array(items, *n),
        (Value::Array(items), Seg::Key(k)) => index_array(items, k.parse().ok()?),
        _ => None,
    })
}

/// Selects `path` in `value`: JSONPath (first match) when it starts with `$`,
/// otherwise a simple path. `Ok(None)` means "not found".
pub(crate) fn select<'a>(value: &'a Value, path: &str) -> Result<Option<&'a Value>, String> {
    if path.starts_with('$') {
        let jp = parse_jsonpath(path)?;
        Ok(jp.query(value).first())
    } else {
        Ok(walk(value, &parse_path(path)?))
    }
}

/// Resolves an `output:` path against a step result. Missing or malformed → `Null`.
///
/// Rules: `""`/`"$"` → whole result; `$…` → JSONPath relative to `result.body`
/// when there is one (falling back to the whole result); a leading segment equal
/// to the step id, `response` or `result` is dropped and the rest resolved against
/// the whole result; otherwise relative to the body (object/array) first, then
/// the whole result.
pub fn resolve_output(result: &Value, path: &str, step_id: &str) -> Value {
    resolve_output_ref(result, path.trim(), step_id)
        .cloned()
        .unwrap_or(Value::Null)
}

fn resolve_output_ref<'a>(result: &'a Value, path: &str, step_id: &str) -> Option<&'a Value> {
    if path.is_empty() || path == "$" {
        return Some(result);
    }
    let body = result.get("body");
    if path.starts_with('$') {
        if let Ok(jp) = parse_jsonpath(path) {
            return body
                .and_then(|b| jp.query(b).first())
                .or_else(|| jp.query(result).first());
        }
        // Not valid RFC 9535 (e.g. `$.items.0.id`): fall back to a simple path.
        let rest = path.trim_start_matches(['$', '.']);
        if rest.is_empty() {
            return None;
        }
        return resolve_simple(result, rest, step_id);
    }
    resolve_simple(result, path, step_id)
}

/// Rules 3–5 of [`resolve_output`] for a non-JSONPath `path`.
fn resolve_simple<'a>(result: &'a Value, path: &str, step_id: &str) -> Option<&'a Value> {
    let body = result.get("body");
    let segs = parse_path(path).ok()?;
    if let Some(Seg::Key(first)) = segs.first()
        && (first == step_id || first == "response" || first == "result")
        && let Some(v) = walk(result, segs.get(1..).unwrap_or_default())
    {
        return Some(v);
    }
    body.filter(|b| b.is_object() || b.is_array())
        .and_then(|b| walk(b, &segs))
        .or_else(|| walk(result, &segs))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn http() -> Value {
        json!({"status": 201, "headers": {"Content-Type": "application/json"},
               "body": {"id": 7, "name": "Ann", "status": "active", "count": 3,
                        "items": [{"id": 1}, {"id": 2, "name": "two"}, {"id": 3}]}})
    }

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse_path(r#"a.0[-1]["k y"].b"#),
            Ok(vec![
                Seg::Key("a".into()),
                Seg::Key("0".into()),
                Seg::Index(-1),
                Seg::Key("k y".into()),
                Seg::Key("b".into()),
            ])
        );
        assert_eq!(parse_path("[2]"), Ok(vec![Seg::Index(2)]));
        for bad in ["", "a.", "a..b", "a[", "a[]", "a[1]x", "a['x"] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolver_cases() {
        let r = http();
        assert_eq!(resolve_output(&r, "register.body.id", "register"), json!(7));
        assert_eq!(resolve_output(&r, "response.body.id", "x"), json!(7));
        assert_eq!(resolve_output(&r, "response.status", "x"), json!(201));
        assert_eq!(resolve_output(&r, "$.name", "x"), json!("Ann"));
        assert_eq!(resolve_output(&r, "$.body.items[0].id", "x"), json!(1));
        assert_eq!(resolve_output(&r, "body.id", "x"), json!(7));
        assert_eq!(resolve_output(&r, "count", "x"), json!(3));
        assert_eq!(resolve_output(&r, "status", "x"), json!("active"));
        assert_eq!(
            resolve_output(&r, "headers.Content-Type", "x"),
            json!("application/json")
        );
        assert_eq!(resolve_output(&r, "items[-1].id", "x"), json!(3));
        assert_eq!(resolve_output(&r, "items.1.name", "x"), json!("two"));
        assert_eq!(
            resolve_output(&r, "$.items[?@.id==2].name", "x"),
            json!("two")
        );
        assert_eq!(resolve_output(&r, "$.items.0.id", "x"), json!(1));
        assert_eq!(resolve_output(&r, "", "x"), r);
        assert_eq!(resolve_output(&r, "$", "x"), r);
        assert_eq!(resolve_output(&r, "nope.deeper", "x"), Value::Null);
        assert_eq!(resolve_output(&r, "items[9]", "x"), Value::Null);
        assert_eq!(resolve_output(&r, "$[", "x"), Value::Null);
        assert_eq!(resolve_output(&r, &"$.".repeat(100_000), "x"), Value::Null);
        assert_eq!(
            resolve_output(&r, "$.items[?(@.id==2)].name", "x"),
            json!("two")
        );
    }

    #[test]
    fn deeply_nested_jsonpath_is_rejected_quickly() {
        for n in [9, 50, 300, 5000] {
            let parens = format!("$[?{}@.x{}]", "(".repeat(n), ")".repeat(n));
            let filters = format!("$[?@.x{}]", "[?@.y".repeat(n));
            for p in [parens, filters] {
                assert!(validate(&p).is_err());
                assert_eq!(resolve_output(&http(), &p, "x"), Value::Null);
            }
        }
        assert!(validate("$['(((((((((((((']").is_ok());
    }

    #[test]
    fn resolver_non_http() {
        let r = json!({"base_url": "http://x", "rows": [{"a": 1}], "first_row": {"total": 5}});
        assert_eq!(resolve_output(&r, "$.base_url", "s"), json!("http://x"));
        assert_eq!(resolve_output(&r, "first_row.total", "s"), json!(5));
        assert_eq!(resolve_output(&r, "result.rows[0]", "s"), json!({"a": 1}));
        assert_eq!(resolve_output(&r, "s.rows[-1].a", "s"), json!(1));
    }
}
