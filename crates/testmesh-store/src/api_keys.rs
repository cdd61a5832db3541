//! API keys: `tm_<prefix>_<secret>`, shown once; only the SHA-256 of the whole key is stored. The
//! prefix finds the row, the hash comparison runs in constant time.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::Store;
use crate::crypto::{constant_time_eq, random_hex, sha256_hex};
use crate::db::{RowExt, Sql, fetch_owned, new_id, now_ms};
use crate::error::{Error, Result};

/// `last_used_at` is written at most this often per key, so verification stays a read.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// An API key as stored (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// Id (UUID).
    pub id: String,
    /// Workspace the key acts in.
    pub workspace_id: String,
    /// What the key is for.
    pub name: String,
    /// The 8 characters after `tm_`, shown to tell keys apart.
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; revoked keys never verify.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Requests per minute allowed; the server's default when `None`.
    pub rate_limit_per_minute: Option<i64>,
}

/// A new key with its plain text, which is not stored and cannot be shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedApiKey {
    /// The stored key.
    #[serde(flatten)]
    pub key: ApiKey,
    /// `tm_<prefix>_<secret>`.
    pub plain: String,
}

const COLUMNS: &str = "SELECT id, workspace_id, name, prefix, hash, created_at, last_used_at, revoked_at, rate_limit_per_minute FROM api_keys";

impl ApiKey {
    fn from_row(row: &AnyRow) -> Result<ApiKey> {
        Ok(ApiKey {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            name: row.text("name")?,
            prefix: row.text("prefix")?,
            created_at: row.time("created_at")?,
            last_used_at: row.opt_time("last_used_at")?,
            revoked_at: row.opt_time("revoked_at")?,
            rate_limit_per_minute: row.opt_int("rate_limit_per_minute")?,
        })
    }
}

/// Splits `tm_<prefix>_<secret>` into its prefix, or `None` when the text is not shaped like a key.
fn key_prefix(plain: &str) -> Option<&str> {
    let rest = plain.strip_prefix("tm_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 8 && !secret.is_empty()).then_some(prefix)
}

impl Store {
    /// Creates a key for the workspace and returns it with its plain text (32 random bytes).
    pub async fn create_api_key(
        &self,
        workspace_id: &str,
        name: &str,
        rate_limit_per_minute: Option<i64>,
    ) -> Result<CreatedApiKey> {
        if name.trim().is_empty() {
            return Err(Error::invalid("an API key needs a name"));
        }
        if rate_limit_per_minute.is_some_and(|r| r <= 0) {
            return Err(Error::invalid(
                "a rate limit is a positive number of requests per minute",
            ));
        }
        self.ensure_workspace(workspace_id).await?;
        // A 32-bit prefix can collide; a fresh one is drawn then.
        for _ in 0..5 {
            let prefix = random_hex(4);
            let plain = format!("tm_{prefix}_{}", random_hex(32));
            let id = new_id();
            let mut sql = Sql::new(
                "INSERT INTO api_keys (id, workspace_id, name, prefix, hash, created_at, rate_limit_per_minute) VALUES (",
            );
            sql.bind(id.as_str())
                .push(", ")
                .bind(workspace_id)
                .push(", ")
                .bind(name)
                .push(", ")
                .bind(prefix.as_str())
                .push(", ")
                .bind(sha256_hex(&plain))
                .push(", ")
                .bind(now_ms())
                .push(", ")
                .bind(rate_limit_per_minute)
                .push(")");
            match sql.execute(&self.pool).await {
                Ok(_) => {
                    let key = self.get_api_key(workspace_id, &id).await?;
                    return Ok(CreatedApiKey { key, plain });
                }
                Err(Error::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Conflict(
            "could not draw a unique API key prefix".into(),
        ))
    }

    /// A key by id.
    pub async fn get_api_key(&self, workspace_id: &str, id: &str) -> Result<ApiKey> {
        ApiKey::from_row(&fetch_owned(&self.pool, COLUMNS, "API key", workspace_id, id).await?)
    }

    /// Every key of the workspace, revoked ones included, oldest first.
    pub async fn list_api_keys(&self, workspace_id: &str) -> Result<Vec<ApiKey>> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" ORDER BY created_at, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(ApiKey::from_row)
            .collect()
    }

    /// Revokes a key (idempotent: the first revocation time is kept).
    pub async fn revoke_api_key(&self, workspace_id: &str, id: &str) -> Result<ApiKey> {
        let mut sql = Sql::new("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ");
        sql.bind(now_ms())
            .push(") WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        if sql.execute(&self.pool).await? == 0 {
            return Err(Error::not_found("API key", id));
        }
        self.get_api_key(workspace_id, id).await
    }

    /// The live key matching `plain`, or `None` (unknown, malformed, wrong secret or revoked).
    /// Records the use at most once a minute.
    pub async fn verify_api_key(&self, plain: &str) -> Result<Option<ApiKey>> {
        let Some(prefix) = key_prefix(plain) else {
            return Ok(None);
        };
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE prefix = ").bind(prefix);
        let Some(row) = sql.fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let stored = row.text("hash")?;
        let matches = constant_time_eq(stored.as_bytes(), sha256_hex(plain).as_bytes());
        let mut key = ApiKey::from_row(&row)?;
        if !matches || key.revoked_at.is_some() {
            return Ok(None);
        }
        let now = now_ms();
        let stale = key
            .last_used_at
            .is_none_or(|t| now - t.timestamp_millis() >= LAST_USED_RESOLUTION_MS);
        if stale {
            let mut touch = Sql::new("UPDATE api_keys SET last_used_at = ");
            touch.bind(now).push(" WHERE id = ").bind(key.id.as_str());
            touch.execute(&self.pool).await?;
            key.last_used_at = Some(crate::db::from_ms(now));
        }
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(key_prefix("tm_abcd1234_xyz"), Some("abcd1234"));
        assert_eq!(key_prefix("tm_abcd123_xyz"), None);
        assert_eq!(key_prefix("tm_abcd1234_"), None);
        assert_eq!(key_prefix("xx_abcd1234_xyz"), None);
        assert_eq!(key_prefix("' OR 1=1 --"), None);
    }
}
