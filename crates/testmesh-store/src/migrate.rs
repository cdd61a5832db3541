//! Embedded, versioned migrations, applied on open inside one transaction and recorded in
//! `schema_migrations`. On PostgreSQL an advisory lock makes concurrent openers wait for the first
//! one; on SQLite `BEGIN IMMEDIATE` takes the write lock before anything is read.

use sqlx::AnyPool;
use sqlx::Row;

use crate::db::{Backend, Sql, now_ms};
use crate::error::{Error, Result};

/// One migration: a version, a name, SQL valid on both backends, and SQL run on PostgreSQL only.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    postgres: &'static str,
}

/// Every migration, in order. Released migrations are never edited: changes get a new version.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
        postgres: "",
    },
    Migration {
        version: 2,
        name: "mocks",
        sql: include_str!("../migrations/0002_mocks.sql"),
        postgres: include_str!("../migrations/0002_mocks.postgres.sql"),
    },
    Migration {
        version: 3,
        name: "contracts",
        sql: include_str!("../migrations/0003_contracts.sql"),
        postgres: include_str!("../migrations/0003_contracts.postgres.sql"),
    },
    Migration {
        version: 4,
        name: "reports",
        sql: include_str!("../migrations/0004_reports.sql"),
        postgres: "",
    },
    Migration {
        version: 5,
        name: "analytics",
        sql: include_str!("../migrations/0005_analytics.sql"),
        postgres: include_str!("../migrations/0005_analytics.postgres.sql"),
    },
    Migration {
        version: 6,
        name: "ai",
        sql: include_str!("../migrations/0006_ai.sql"),
        postgres: include_str!("../migrations/0006_ai.postgres.sql"),
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 6;

/// Advisory lock key for migrations on PostgreSQL (`"tmmigr"` as bytes).
const PG_LOCK_KEY: i64 = 0x746d_6d69_6772;

/// Brings the schema up to [`SCHEMA_VERSION`]; returns the versions applied now.
pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<Vec<i64>> {
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    if backend == Backend::Postgres {
        // Held until commit: a second process opening the same database waits here, then sees the
        // versions the first one recorded.
        let mut lock = Sql::new("SELECT 1 FROM pg_advisory_xact_lock(");
        lock.bind(PG_LOCK_KEY).push(")");
        lock.execute(&mut *tx).await?;
    }
    Sql::new(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Vec<i64> = Sql::new("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    if let Some(&found) = applied.iter().max()
        && found > SCHEMA_VERSION
    {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let mut done = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let postgres = if backend == Backend::Postgres {
            migration.postgres
        } else {
            ""
        };
        for statement in statements(migration.sql)
            .into_iter()
            .chain(statements(postgres))
        {
            Sql::new(&statement).execute(&mut *tx).await?;
        }
        let mut record =
            Sql::new("INSERT INTO schema_migrations (version, name, applied_at) VALUES (");
        record
            .bind(migration.version)
            .push(", ")
            .bind(migration.name)
            .push(", ")
            .bind(now_ms())
            .push(")");
        record.execute(&mut *tx).await?;
        done.push(migration.version);
    }
    tx.commit().await?;
    Ok(done)
}

/// The statements of a migration: comment lines dropped, split after lines ending in `;`.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            let statement = current.trim().trim_end_matches(';').to_string();
            out.push(statement);
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements() {
        let s = statements("-- c\nCREATE TABLE a (x INT);\n\nINSERT INTO a\nVALUES (1);\n");
        assert_eq!(
            s,
            vec!["CREATE TABLE a (x INT)", "INSERT INTO a\nVALUES (1)"]
        );
    }

    #[test]
    fn versions_are_ordered() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }
}
