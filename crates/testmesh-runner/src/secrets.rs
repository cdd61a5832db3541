//! Masking: secret values and credential headers never reach logs, records or reports.

use serde_json::Value;

/// What replaces a secret.
pub const MASK: &str = "****";

/// Header names whose values are always masked.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
];

/// Secret values given by the user (`--secret`), masked wherever they appear.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    /// Secrets from their values; empty and very short values are ignored (masking `a` everywhere
    /// would destroy every record).
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = values.into_iter().filter(|v| v.len() >= 3).collect();
        // Longest first, so a secret containing another is masked whole; equal values end up
        // next to each other for `dedup`.
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Secrets { values }
    }

    /// These secrets and `more` together (a runner's own and one run's, say).
    pub fn with(&self, more: &Secrets) -> Secrets {
        if more.values.is_empty() {
            return self.clone();
        }
        Secrets::new(self.values.iter().chain(&more.values).cloned())
    }

    /// True when nothing but credential headers is masked.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Masks secret values inside a string.
    pub fn mask_str(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.values {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    /// Masks secret values in every string of a JSON value, and the values of credential headers
    /// (any object key named like `Authorization`, `Cookie`, `X-API-Key`, case-insensitive).
    pub fn mask_value(&self, value: &mut Value) {
        match value {
            Value::String(s) if !self.values.is_empty() => *s = self.mask_str(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_value(v)),
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if SENSITIVE_HEADERS.contains(&key.to_ascii_lowercase().as_str()) {
                        mask_all(v);
                    } else {
                        self.mask_value(v);
                    }
                }
            }
            _ => {}
        }
    }
}

fn mask_all(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(mask_all),
        Value::Null => {}
        other => *other = Value::String(MASK.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_values_and_credential_headers() {
        let secrets = Secrets::new(["s3cret-token".to_string(), "ab".to_string()]);
        let mut value = json!({
            "url": "http://h/?key=s3cret-token",
            "headers": {"Authorization": "Bearer xyz", "X-Trace": "ab", "Set-Cookie": ["a=1", "b=2"]},
            "body": {"nested": ["s3cret-token", 1]}
        });
        secrets.mask_value(&mut value);
        assert_eq!(
            value,
            json!({
                "url": "http://h/?key=****",
                "headers": {"Authorization": "****", "X-Trace": "ab", "Set-Cookie": ["****", "****"]},
                "body": {"nested": ["****", 1]}
            })
        );
    }

    #[test]
    fn merged_secrets_mask_both_sets_longest_first() {
        let runner = Secrets::new(["token-1".to_string(), "abc".to_string()]);
        let run = Secrets::new(["abc".to_string(), "abcdef".to_string()]);
        let merged = runner.with(&run);
        assert_eq!(merged.mask_str("token-1 abcdef abc"), "**** **** ****");
        assert!(!merged.is_empty());
        assert!(Secrets::default().is_empty());
        assert_eq!(runner.with(&Secrets::default()).mask_str("abc"), "****");
    }
}
