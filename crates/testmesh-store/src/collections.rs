//! Collections: folders of flows, nested through `parent_id`, ordered by `sort_order`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::Store;
use crate::db::{RowExt, Sql, delete_owned, fetch_owned, new_id, now_ms};
use crate::error::{Error, Result};

/// A collection (folder).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collection {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The parent collection; `None` at the top.
    pub parent_id: Option<String>,
    /// Position among its siblings.
    pub sort_order: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The fields of a collection to create or replace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NewCollection {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The parent collection.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Position among its siblings.
    #[serde(default)]
    pub sort_order: i64,
}

/// A flow in a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionFlow {
    /// The flow.
    pub flow_id: String,
    /// Its name.
    pub name: String,
    /// Position in the collection.
    pub sort_order: i64,
}

const COLUMNS: &str = "SELECT id, workspace_id, name, description, parent_id, sort_order, created_at, updated_at FROM collections";

impl Collection {
    fn from_row(row: &AnyRow) -> Result<Collection> {
        Ok(Collection {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            name: row.text("name")?,
            description: row.opt_text("description")?,
            parent_id: row.opt_text("parent_id")?,
            sort_order: row.int("sort_order")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Store {
    /// Creates a collection (under `parent_id`, which must be in the same workspace).
    pub async fn create_collection(
        &self,
        workspace_id: &str,
        input: &NewCollection,
    ) -> Result<Collection> {
        check_name(&input.name)?;
        self.ensure_workspace(workspace_id).await?;
        if let Some(parent) = &input.parent_id {
            self.get_collection(workspace_id, parent).await?;
        }
        let id = new_id();
        let now = now_ms();
        let mut sql = Sql::new(
            "INSERT INTO collections (id, workspace_id, name, description, parent_id, sort_order, created_at, updated_at) VALUES (",
        );
        sql.bind(id.as_str())
            .push(", ")
            .bind(workspace_id)
            .push(", ")
            .bind(input.name.as_str())
            .push(", ")
            .bind(input.description.as_deref())
            .push(", ")
            .bind(input.parent_id.as_deref())
            .push(", ")
            .bind(input.sort_order)
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&self.pool).await?;
        self.get_collection(workspace_id, &id).await
    }

    /// A collection.
    pub async fn get_collection(&self, workspace_id: &str, id: &str) -> Result<Collection> {
        Collection::from_row(
            &fetch_owned(&self.pool, COLUMNS, "collection", workspace_id, id).await?,
        )
    }

    /// Every collection of the workspace, parents' children together, in sort order (build the
    /// tree from `parent_id`). With `search`, only those whose name contains it.
    pub async fn list_collections(
        &self,
        workspace_id: &str,
        search: Option<&str>,
    ) -> Result<Vec<Collection>> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE workspace_id = ").bind(workspace_id);
        if let Some(q) = search.filter(|q| !q.is_empty()) {
            sql.push(" AND LOWER(name) LIKE ")
                .bind(crate::db::like_contains(&q.to_lowercase()))
                .push(" ESCAPE '!'");
        }
        sql.push(" ORDER BY parent_id IS NOT NULL, parent_id, sort_order, name, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(Collection::from_row)
            .collect()
    }

    /// The direct children of a collection, in sort order.
    pub async fn collection_children(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Vec<Collection>> {
        self.get_collection(workspace_id, id).await?;
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND parent_id = ")
            .bind(id)
            .push(" ORDER BY sort_order, name, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(Collection::from_row)
            .collect()
    }

    /// The ancestors of a collection, nearest first.
    pub async fn collection_ancestors(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Vec<Collection>> {
        let mut out: Vec<Collection> = Vec::new();
        let mut next = self.get_collection(workspace_id, id).await?.parent_id;
        while let Some(parent) = next {
            if out.iter().any(|c| c.id == parent) {
                return Err(Error::Corrupt(format!("collection {id} is in a cycle")));
            }
            let collection = self.get_collection(workspace_id, &parent).await?;
            next = collection.parent_id.clone();
            out.push(collection);
        }
        Ok(out)
    }

    /// Replaces a collection's fields (moving it when `parent_id` changes). A collection cannot be
    /// moved under itself or one of its descendants.
    pub async fn update_collection(
        &self,
        workspace_id: &str,
        id: &str,
        input: &NewCollection,
    ) -> Result<Collection> {
        check_name(&input.name)?;
        self.get_collection(workspace_id, id).await?;
        if let Some(parent) = &input.parent_id {
            let mut chain = self.collection_ancestors(workspace_id, parent).await?;
            chain.push(self.get_collection(workspace_id, parent).await?);
            if chain.iter().any(|c| c.id == id) {
                return Err(Error::invalid(
                    "a collection cannot be moved under itself or its descendants",
                ));
            }
        }
        let mut sql = Sql::new("UPDATE collections SET name = ");
        sql.bind(input.name.as_str())
            .push(", description = ")
            .bind(input.description.as_deref())
            .push(", parent_id = ")
            .bind(input.parent_id.as_deref())
            .push(", sort_order = ")
            .bind(input.sort_order)
            .push(", updated_at = ")
            .bind(now_ms())
            .push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        sql.execute(&self.pool).await?;
        self.get_collection(workspace_id, id).await
    }

    /// Deletes a collection with its sub-collections (flows stay; only their membership goes).
    pub async fn delete_collection(&self, workspace_id: &str, id: &str) -> Result<()> {
        delete_owned(&self.pool, "collections", "collection", workspace_id, id).await
    }

    /// Puts a flow in a collection (or changes its position there).
    pub async fn add_flow_to_collection(
        &self,
        workspace_id: &str,
        collection_id: &str,
        flow_id: &str,
        sort_order: i64,
    ) -> Result<()> {
        self.get_collection(workspace_id, collection_id).await?;
        self.get_flow(workspace_id, flow_id).await?;
        let mut tx = self.begin_write().await?;
        let mut delete = Sql::new("DELETE FROM collection_flows WHERE collection_id = ");
        delete
            .bind(collection_id)
            .push(" AND flow_id = ")
            .bind(flow_id);
        delete.execute(&mut *tx).await?;
        let mut insert =
            Sql::new("INSERT INTO collection_flows (collection_id, flow_id, sort_order) VALUES (");
        insert
            .bind(collection_id)
            .push(", ")
            .bind(flow_id)
            .push(", ")
            .bind(sort_order)
            .push(")");
        insert.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a flow out of a collection.
    pub async fn remove_flow_from_collection(
        &self,
        workspace_id: &str,
        collection_id: &str,
        flow_id: &str,
    ) -> Result<()> {
        self.get_collection(workspace_id, collection_id).await?;
        let mut sql = Sql::new("DELETE FROM collection_flows WHERE collection_id = ");
        sql.bind(collection_id)
            .push(" AND flow_id = ")
            .bind(flow_id);
        if sql.execute(&self.pool).await? == 0 {
            return Err(Error::not_found("flow in collection", flow_id));
        }
        Ok(())
    }

    /// The live flows of a collection, in sort order.
    pub async fn collection_flows(
        &self,
        workspace_id: &str,
        collection_id: &str,
    ) -> Result<Vec<CollectionFlow>> {
        self.get_collection(workspace_id, collection_id).await?;
        let mut sql = Sql::new(
            "SELECT cf.flow_id, f.name, cf.sort_order FROM collection_flows cf JOIN flows f ON f.id = cf.flow_id WHERE f.deleted_at IS NULL AND cf.collection_id = ",
        );
        sql.bind(collection_id)
            .push(" ORDER BY cf.sort_order, f.name, f.id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(CollectionFlow {
                    flow_id: r.text("flow_id")?,
                    name: r.text("name")?,
                    sort_order: r.int("sort_order")?,
                })
            })
            .collect()
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid("a collection needs a name"));
    }
    Ok(())
}
