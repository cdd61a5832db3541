//! Workspaces: every other row belongs to one. The default workspace exists from the first migration.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::Store;
use crate::db::{RowExt, Sql, new_id, now_ms};
use crate::error::{Error, Result};

/// A workspace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workspace {
    /// Id (UUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique short name used in URLs.
    pub slug: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Workspace {
    fn from_row(row: &AnyRow) -> Result<Workspace> {
        Ok(Workspace {
            id: row.text("id")?,
            name: row.text("name")?,
            slug: row.text("slug")?,
            created_at: row.time("created_at")?,
        })
    }
}

const COLUMNS: &str = "SELECT id, name, slug, created_at FROM workspaces";

impl Store {
    /// Creates a workspace; `Conflict` when the slug is taken.
    pub async fn create_workspace(&self, name: &str, slug: &str) -> Result<Workspace> {
        let valid_slug = !slug.is_empty()
            && slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_slug {
            return Err(Error::invalid(
                "a workspace slug is lowercase letters, digits and dashes",
            ));
        }
        let id = new_id();
        let mut sql = Sql::new("INSERT INTO workspaces (id, name, slug, created_at) VALUES (");
        sql.bind(id.as_str())
            .push(", ")
            .bind(name)
            .push(", ")
            .bind(slug)
            .push(", ")
            .bind(now_ms())
            .push(")");
        sql.execute(&self.pool).await?;
        self.workspace(&id).await
    }

    /// A workspace by id.
    pub async fn workspace(&self, id: &str) -> Result<Workspace> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE id = ").bind(id);
        let row = sql.fetch_optional(&self.pool).await?;
        row.as_ref()
            .map(Workspace::from_row)
            .transpose()?
            .ok_or_else(|| Error::not_found("workspace", id))
    }

    /// A workspace by slug.
    pub async fn workspace_by_slug(&self, slug: &str) -> Result<Workspace> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE slug = ").bind(slug);
        let row = sql.fetch_optional(&self.pool).await?;
        row.as_ref()
            .map(Workspace::from_row)
            .transpose()?
            .ok_or_else(|| Error::not_found("workspace", slug))
    }

    /// Every workspace, oldest first.
    pub async fn list_workspaces(&self) -> Result<Vec<Workspace>> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" ORDER BY created_at, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(Workspace::from_row)
            .collect()
    }
}
