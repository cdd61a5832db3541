//! Which values of a recording are volatile: ids, tokens and other values a response returned
//! that a later request sends back, credentials, timestamps and UUIDs.

use serde_json::Value;

/// Scalars (strings, integers) of a JSON value as text.
pub(super) fn scalars(value: &Value, out: &mut dyn FnMut(String)) {
    match value {
        Value::String(s) => out(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => out(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| scalars(v, out)),
        Value::Object(map) => map.values().for_each(|v| scalars(v, out)),
        _ => {}
    }
}

/// Most returned values remembered per response.
const MAX_CANDIDATES: usize = 500;

/// A value in a response worth following.
pub(super) struct Candidate {
    pub key: String,
    pub parent: Option<String>,
    pub value: String,
    /// JSONPath of the value in the body.
    pub path: String,
}

/// The values in a response worth following; `key` holds `value`, inside an object held by
/// `parent`.
pub(super) fn candidates(
    value: &Value,
    path: &str,
    key: Option<&str>,
    parent: Option<&str>,
    depth: usize,
    out: &mut Vec<Candidate>,
) {
    if depth > 32 || out.len() >= MAX_CANDIDATES {
        return;
    }
    match value {
        Value::String(s) => {
            if let Some(key) = key
                && is_candidate(key, s, false)
            {
                out.push(Candidate {
                    key: key.to_string(),
                    parent: parent.map(str::to_string),
                    value: s.clone(),
                    path: path.to_string(),
                });
            }
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            let text = n.to_string();
            if let Some(key) = key
                && is_candidate(key, &text, true)
            {
                out.push(Candidate {
                    key: key.to_string(),
                    parent: parent.map(str::to_string),
                    value: text,
                    path: path.to_string(),
                });
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                candidates(item, &format!("{path}[{i}]"), key, parent, depth + 1, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let child = if k
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    format!("{path}.{k}")
                } else {
                    format!("{path}['{}']", k.replace('\\', "\\\\").replace('\'', "\\'"))
                };
                candidates(v, &child, Some(k), key, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Whether a returned value is worth following: an id-like key, or a distinctive value.
fn is_candidate(key: &str, value: &str, number: bool) -> bool {
    if value.is_empty() || value.len() > 4096 || value.chars().any(char::is_whitespace) {
        return false;
    }
    if matches!(value, "true" | "false" | "null") {
        return false;
    }
    if number {
        return is_id_name(key) || value.trim_start_matches('-').len() >= 6;
    }
    let letters = value.chars().any(|c| c.is_ascii_alphabetic());
    let digits = value.chars().any(|c| c.is_ascii_digit());
    is_id_name(key)
        || looks_like_uuid(value)
        || (value.len() >= 8 && letters && digits)
        || value.len() >= 20
}

/// Names of ids, tokens and similar values (`id`, `userId`, `order_id`, `csrfToken`, `X-Session-Id`).
pub(super) fn is_id_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "id" | "uuid" | "guid" | "key" | "slug" | "token" | "ref"
    ) || lower.ends_with("_id")
        || lower.ends_with("-id")
        || name.ends_with("Id")
        || name.ends_with("ID")
        || lower.ends_with("uuid")
        || lower.ends_with("_key")
        || lower.ends_with("-key")
        || name.ends_with("Key")
        || lower.ends_with("_ref")
        || ["token", "csrf", "xsrf", "session", "nonce"]
            .iter()
            .any(|w| lower.contains(w))
}

/// Query parameters and headers that carry credentials.
pub(super) fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace('-', "_");
    matches!(
        lower.as_str(),
        "api_key"
            | "apikey"
            | "x_api_key"
            | "access_token"
            | "auth_token"
            | "x_auth_token"
            | "x_access_token"
            | "password"
            | "client_secret"
            | "secret"
            | "x_csrf_token"
            | "x_xsrf_token"
            | "x_session_token"
    )
}

/// Form and JSON fields that hold passwords or secrets.
pub(super) fn is_password_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("password")
        || lower.contains("passwd")
        || matches!(
            lower.as_str(),
            "pwd" | "pass" | "secret" | "client_secret" | "pin" | "otp"
        )
}

pub(super) fn looks_like_uuid(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(len, p)| p.len() == *len && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Unix seconds or milliseconds between 2001 and 2100.
pub(super) fn looks_like_timestamp(value: &str) -> bool {
    if !value.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    match (value.len(), value.parse::<u64>()) {
        (10, Ok(n)) => (1_000_000_000..4_102_444_800).contains(&n),
        (13, Ok(n)) => (1_000_000_000_000..4_102_444_800_000).contains(&n),
        _ => false,
    }
}

/// `users` → `user`, `categories` → `category` (good enough for resource names).
pub(super) fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    match word.strip_suffix('s') {
        Some(stem) if word.len() > 3 && !word.ends_with("ss") => stem.to_string(),
        _ => word.to_string(),
    }
}

pub(super) fn camel_to_snake(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `%XX` sequences decoded (invalid UTF-8 replaced).
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn classifies_values_and_names() {
        assert!(is_candidate("id", "17", true));
        assert!(!is_candidate("count", "17", true));
        assert!(is_candidate("total", "1234567", true));
        assert!(is_candidate("name", "a1b2c3d4", false));
        assert!(!is_candidate("name", "Alice", false));
        assert!(!is_candidate(
            "name",
            "Alice Smith the third of her name",
            false
        ));
        assert!(is_candidate(
            "x",
            "550e8400-e29b-41d4-a716-446655440000",
            false
        ));
        assert!(
            is_id_name("userId")
                && is_id_name("order_id")
                && is_id_name("csrfToken")
                && is_id_name("X-Session-Id")
        );
        assert!(!is_id_name("paid") && !is_id_name("valid"));
        assert!(looks_like_timestamp("1714557600") && looks_like_timestamp("1714557600250"));
        assert!(!looks_like_timestamp("12345"));
        assert_eq!(camel_to_snake("accessToken"), "access_token");
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
    }
}
