//! Environments: named variable sets. Secret values are encrypted at rest (AES-256-GCM) and come back
//! masked from every read except [`Store::decrypted_environment`], which a run uses.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::Store;
use crate::db::{RowExt, Sql, delete_owned, new_id, now_ms, to_json_text};
use crate::error::{Error, Result};

/// What a secret value reads as. Sending it back in an update keeps the stored secret.
pub const MASK: &str = "********";

/// One variable of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    /// Name, e.g. `BASE_URL`.
    pub key: String,
    /// Value ([`MASK`] for secrets on normal reads).
    pub value: String,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Encrypted at rest, masked on read.
    #[serde(default)]
    pub is_secret: bool,
    /// Disabled variables are kept but not applied.
    #[serde(default = "enabled_default")]
    pub enabled: bool,
}

fn enabled_default() -> bool {
    true
}

/// An environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Environment {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// Name, unique in the workspace.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The workspace's default environment (at most one is).
    pub is_default: bool,
    /// Variables (secrets masked unless decrypted on purpose).
    pub variables: Vec<Variable>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The fields of an environment to create or replace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EnvironmentInput {
    /// Name, unique in the workspace.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Make it the workspace's default.
    #[serde(default)]
    pub is_default: bool,
    /// Variables in plain text; a secret whose value is [`MASK`] keeps its stored value.
    #[serde(default)]
    pub variables: Vec<Variable>,
}

const COLUMNS: &str = "SELECT id, workspace_id, name, description, is_default, variables, created_at, updated_at FROM environments";

/// How to present secret values read from the database.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Secrets {
    Masked,
    Decrypted,
}

impl Store {
    fn environment_from_row(&self, row: &AnyRow, secrets: Secrets) -> Result<Environment> {
        let stored: Vec<Variable> = serde_json::from_str(&row.text("variables")?)
            .map_err(|e| Error::Corrupt(format!("environment variables: {e}")))?;
        let variables = stored
            .into_iter()
            .map(|mut v| {
                if v.is_secret {
                    v.value = match secrets {
                        Secrets::Masked => MASK.to_string(),
                        Secrets::Decrypted => self.cipher.decrypt(&v.value)?,
                    };
                }
                Ok(v)
            })
            .collect::<Result<_>>()?;
        Ok(Environment {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            name: row.text("name")?,
            description: row.opt_text("description")?,
            is_default: row.flag("is_default")?,
            variables,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }

    /// The stored JSON for `input`'s variables: secrets encrypted; masked secrets keep the value
    /// stored under the same key in `previous`.
    fn seal_variables(&self, input: &[Variable], previous: &[Variable]) -> Result<String> {
        let mut seen = std::collections::HashSet::new();
        let mut sealed = Vec::with_capacity(input.len());
        for v in input {
            if v.key.trim().is_empty() {
                return Err(Error::invalid("an environment variable needs a key"));
            }
            if !seen.insert(v.key.as_str()) {
                return Err(Error::invalid(format!(
                    "environment variable `{}` is given twice",
                    v.key
                )));
            }
            let mut v = v.clone();
            if v.is_secret {
                let kept = previous
                    .iter()
                    .find(|p| p.key == v.key && p.is_secret)
                    .filter(|_| v.value == MASK);
                v.value = match kept {
                    Some(p) => p.value.clone(),
                    None => self.cipher.encrypt(&v.value)?,
                };
            }
            sealed.push(v);
        }
        Ok(to_json_text(&sealed))
    }

    /// Creates an environment. `Conflict` when the name is taken.
    pub async fn create_environment(
        &self,
        workspace_id: &str,
        input: &EnvironmentInput,
    ) -> Result<Environment> {
        check_name(&input.name)?;
        self.ensure_workspace(workspace_id).await?;
        let variables = self.seal_variables(&input.variables, &[])?;
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        if input.is_default {
            clear_default(&mut tx, workspace_id).await?;
        }
        let mut sql = Sql::new(
            "INSERT INTO environments (id, workspace_id, name, description, is_default, variables, created_at, updated_at) VALUES (",
        );
        sql.bind(id.as_str())
            .push(", ")
            .bind(workspace_id)
            .push(", ")
            .bind(input.name.as_str())
            .push(", ")
            .bind(input.description.as_deref())
            .push(", ")
            .bind(i64::from(input.is_default))
            .push(", ")
            .bind(variables)
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *tx)
            .await
            .map_err(|e| taken(e, &input.name))?;
        tx.commit().await?;
        self.get_environment(workspace_id, &id).await
    }

    async fn environment_row(
        &self,
        workspace_id: &str,
        column: &str,
        value: &str,
    ) -> Result<AnyRow> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND ")
            .push(column)
            .bind(value);
        sql.fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("environment", value))
    }

    /// An environment with secrets masked.
    pub async fn get_environment(&self, workspace_id: &str, id: &str) -> Result<Environment> {
        let row = self.environment_row(workspace_id, "id = ", id).await?;
        self.environment_from_row(&row, Secrets::Masked)
    }

    /// An environment by name, secrets masked.
    pub async fn get_environment_by_name(
        &self,
        workspace_id: &str,
        name: &str,
    ) -> Result<Environment> {
        let row = self.environment_row(workspace_id, "name = ", name).await?;
        self.environment_from_row(&row, Secrets::Masked)
    }

    /// The workspace's default environment, secrets masked; `NotFound` when none is marked.
    pub async fn default_environment(&self, workspace_id: &str) -> Result<Environment> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE is_default = 1 AND workspace_id = ")
            .bind(workspace_id);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("default environment", workspace_id))?;
        self.environment_from_row(&row, Secrets::Masked)
    }

    /// An environment with secrets decrypted, for running flows. Never return this to API clients.
    pub async fn decrypted_environment(
        &self,
        workspace_id: &str,
        id_or_name: &str,
    ) -> Result<Environment> {
        let row = match self
            .environment_row(workspace_id, "id = ", id_or_name)
            .await
        {
            Err(Error::NotFound { .. }) => {
                self.environment_row(workspace_id, "name = ", id_or_name)
                    .await?
            }
            other => other?,
        };
        self.environment_from_row(&row, Secrets::Decrypted)
    }

    /// Every environment of the workspace by name, secrets masked.
    pub async fn list_environments(&self, workspace_id: &str) -> Result<Vec<Environment>> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" ORDER BY name, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| self.environment_from_row(r, Secrets::Masked))
            .collect()
    }

    /// Replaces an environment's fields. A secret sent back as [`MASK`] keeps its stored value.
    pub async fn update_environment(
        &self,
        workspace_id: &str,
        id: &str,
        input: &EnvironmentInput,
    ) -> Result<Environment> {
        check_name(&input.name)?;
        let mut tx = self.begin_write().await?;
        let mut current = Sql::new("SELECT variables FROM environments WHERE workspace_id = ");
        current.bind(workspace_id).push(" AND id = ").bind(id);
        let row = current
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::not_found("environment", id))?;
        let previous: Vec<Variable> = serde_json::from_str(&row.text("variables")?)
            .map_err(|e| Error::Corrupt(format!("environment variables: {e}")))?;
        let variables = self.seal_variables(&input.variables, &previous)?;
        if input.is_default {
            clear_default(&mut tx, workspace_id).await?;
        }
        let mut sql = Sql::new("UPDATE environments SET name = ");
        sql.bind(input.name.as_str())
            .push(", description = ")
            .bind(input.description.as_deref())
            .push(", is_default = ")
            .bind(i64::from(input.is_default))
            .push(", variables = ")
            .bind(variables)
            .push(", updated_at = ")
            .bind(now_ms())
            .push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        sql.execute(&mut *tx)
            .await
            .map_err(|e| taken(e, &input.name))?;
        tx.commit().await?;
        self.get_environment(workspace_id, id).await
    }

    /// Makes an environment the workspace's default (and no other).
    pub async fn set_default_environment(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Environment> {
        let mut tx = self.begin_write().await?;
        clear_default(&mut tx, workspace_id).await?;
        let mut sql = Sql::new("UPDATE environments SET is_default = 1, updated_at = ");
        sql.bind(now_ms())
            .push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        if sql.execute(&mut *tx).await? == 0 {
            return Err(Error::not_found("environment", id));
        }
        tx.commit().await?;
        self.get_environment(workspace_id, id).await
    }

    /// Copies an environment (secrets included, still encrypted) under a new name; the copy is not
    /// the default.
    pub async fn duplicate_environment(
        &self,
        workspace_id: &str,
        id: &str,
        new_name: &str,
    ) -> Result<Environment> {
        check_name(new_name)?;
        let new = new_id();
        let now = now_ms();
        let mut sql = Sql::new(
            "INSERT INTO environments (id, workspace_id, name, description, is_default, variables, created_at, updated_at) SELECT ",
        );
        sql.bind(new.as_str())
            .push(", workspace_id, ")
            .bind(new_name)
            .push(", description, 0, variables, ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(" FROM environments WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        if sql
            .execute(&self.pool)
            .await
            .map_err(|e| taken(e, new_name))?
            == 0
        {
            return Err(Error::not_found("environment", id));
        }
        self.get_environment(workspace_id, &new).await
    }

    /// Deletes an environment.
    pub async fn delete_environment(&self, workspace_id: &str, id: &str) -> Result<()> {
        delete_owned(&self.pool, "environments", "environment", workspace_id, id).await
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid("an environment needs a name"));
    }
    Ok(())
}

fn taken(e: Error, name: &str) -> Error {
    match e {
        Error::Conflict(_) => {
            Error::Conflict(format!("an environment named `{name}` already exists"))
        }
        e => e,
    }
}

async fn clear_default(conn: &mut sqlx::AnyConnection, workspace_id: &str) -> Result<()> {
    let mut sql =
        Sql::new("UPDATE environments SET is_default = 0 WHERE is_default = 1 AND workspace_id = ");
    sql.bind(workspace_id);
    sql.execute(conn).await?;
    Ok(())
}
