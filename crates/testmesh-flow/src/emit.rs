//! Writing JSON values as block-style YAML that [`crate::yaml::parse`] reads back to the same value:
//! recorded mocks, imported flows. Strings are written plain when YAML 1.2 (and 1.1 readers) would read
//! them back as the same string, double-quoted otherwise.

use serde_json::Value;

/// Renders `value` as a YAML document.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => write_seq(items, 0, &mut out),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn write_map(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (k, v) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key(k));
        out.push(':');
        write_value(v, indent, out);
    }
}

fn write_seq(items: &[Value], indent: usize, out: &mut String) {
    for v in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match v {
            Value::Object(map) if !map.is_empty() => {
                let mut inner = String::new();
                write_map(map, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(&inner[indent + 2..]);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(items, indent + 2, out);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn write_value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(map, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(items, indent + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn key(k: &str) -> String {
    if is_plain(k) { k.to_string() } else { quote(k) }
}

/// True when `s` can be written without quotes and reads back as the same string.
fn is_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let last = s.chars().next_back().unwrap_or(first);
    !first.is_whitespace()
        && !last.is_whitespace()
        && !"-?:,[]{}#&*!|>'\"%@`".contains(first)
        && last != ':'
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains(['\n', '\r', '\t'])
        && !s
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}'))
        && !reads_as_other_type(s)
}

/// True when a plain `s` would be read as something other than a string by a YAML 1.2 or 1.1 reader.
fn reads_as_other_type(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off" | "y" | "n" | ".inf" | "+.inf"
            | "-.inf" | ".nan" | "<<" | "="
    ) || s.parse::<f64>().is_ok()
        || lower.starts_with("0x")
        || lower.starts_with("0o")
        || lower.starts_with("0b")
        // Sexagesimal numbers and dates in YAML 1.1 (`1:30`, `2024-01-01`).
        || (s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars().all(|c| c.is_ascii_digit() || matches!(c, ':' | '-' | '_' | '.' | '+' | 'e' | 'E' | 'T' | 't' | 'Z' | 'z' | ' ')))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if is_plain(s) => s.clone(),
        Value::String(s) => quote(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A YAML double-quoted string; every character YAML cannot hold raw is escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20
                || c as u32 == 0x7f
                || (0x80..0xa0).contains(&(c as u32))
                || c == '\u{feff}'
                || (0xd800..0xe000).contains(&(c as u32))
                || c as u32 == 0xfffe
                || c as u32 == 0xffff =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_the_loader_tree() {
        let value = json!({
            "name": "x",
            "endpoints": [
                {"path": "/a", "response": {"status": 200, "body": {"list": [1, [2, 3], {"k": "v"}], "e": {}, "n": null}}},
                {"path": "/b", "response": {"body_text": "line1\nline2 \"q\" \u{7f} {{x}}: - # ok"}}
            ],
            "true": "yes", "1": 2, "": "empty key",
            "plain": ["${BASE_URL}/pets/{id}", "status == 200", "$.id", "GET", "a: b", "a #b", "#c", "- d",
                      "2024-01-01", "1:30", "0x1f", "yes", "Off", "1e3", " lead", "trail ", "x:", "{y}", "[z]",
                      "*a", "&b", "!c", "%d", "@e", "`f", "|g", ">h", "'i'", "\"j\"", "?k", ",l"]
        });
        let text = to_yaml(&value);
        let back = crate::yaml::parse(&text).unwrap().to_json();
        assert_eq!(back, value, "{text}");
        assert!(text.contains("- ${BASE_URL}/pets/{id}\n"), "{text}");
        assert!(text.contains("- status == 200\n"), "{text}");
        assert!(text.contains("- \"yes\"\n"), "{text}");
    }
}
