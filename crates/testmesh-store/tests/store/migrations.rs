//! Migrations: applied once, idempotent, safe under concurrent opens, refusing newer schemas.

use testmesh_store::{Error, SCHEMA_VERSION, Store};

use crate::common::{TestDb, WS};

on_both_backends!(
    migrations_are_idempotent,
    concurrent_opens_apply_once,
    newer_schema_is_refused
);

async fn migration_rows(store: &Store) -> i64 {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    row.0
}

async fn migrations_are_idempotent(db: &TestDb) {
    let first = db.open().await;
    assert_eq!(first.backend(), db.backend);
    assert_eq!(first.schema_version().await.unwrap(), SCHEMA_VERSION);
    first.close().await;
    let second = db.open().await;
    assert_eq!(second.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(migration_rows(&second).await, SCHEMA_VERSION);
    let default = second.workspace(WS).await.unwrap();
    assert_eq!(default.slug, "default");
    assert_eq!(second.list_workspaces().await.unwrap().len(), 1);
    if let Some(path) = db.url.strip_prefix("sqlite://") {
        assert!(
            std::path::Path::new(path).exists(),
            "the SQLite file and its directory are created"
        );
    }
}

async fn concurrent_opens_apply_once(db: &TestDb) {
    let opens = (0..4).map(|_| Store::open_with(&db.url, db.options()));
    let stores = futures::future::join_all(opens).await;
    for store in &stores {
        assert!(store.is_ok(), "{:?}", store.as_ref().err());
    }
    let store = stores.into_iter().next().unwrap().unwrap();
    assert_eq!(migration_rows(&store).await, SCHEMA_VERSION);
    assert_eq!(store.list_workspaces().await.unwrap().len(), 1);
}

async fn newer_schema_is_refused(db: &TestDb) {
    let store = db.open().await;
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    match Store::open_with(&db.url, db.options()).await {
        Err(Error::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (999, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[tokio::test]
async fn default_url_is_under_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let url = Store::default_url(dir.path());
    assert_eq!(
        url,
        format!("sqlite://{}/.testmesh/testmesh.db", dir.path().display())
    );
    let store = Store::open(&url).await.unwrap();
    assert!(dir.path().join(".testmesh/testmesh.db").exists());
    // The key file for secrets is generated next to the database, private to the user.
    let key = dir.path().join(".testmesh/testmesh.key");
    if std::env::var_os(testmesh_store::KEY_ENV).is_none() {
        assert!(key.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
    store.close().await;
}

#[tokio::test]
async fn unsupported_urls_are_clear_errors() {
    let err = Store::open("mysql://u:pw@127.0.0.1/x").await.unwrap_err();
    assert!(matches!(err, Error::UnsupportedUrl(_)), "{err}");
    assert!(!err.to_string().contains("pw@"), "{err}");
}

#[tokio::test]
async fn in_memory_sqlite_is_one_database() {
    let store = Store::open_with(
        "sqlite::memory:",
        testmesh_store::StoreOptions {
            encryption_key: Some([1u8; 32]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let yaml = crate::common::flow_yaml("mem", None, &[]);
    let created = store.create_flow(WS, &yaml, None).await.unwrap();
    let reads = (0..4).map(|_| store.get_flow(WS, &created.flow.id));
    for read in futures::future::join_all(reads).await {
        assert_eq!(read.unwrap().flow.name, "mem");
    }
}

#[tokio::test]
async fn sqlite_page_cache_follows_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cache.db").display());
    let cache_size = |store: Store| async move {
        let size: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        size
    };
    let options = |kib| testmesh_store::StoreOptions {
        encryption_key: Some([1u8; 32]),
        sqlite_cache_kib: kib,
        ..Default::default()
    };
    let small = Store::open_with(&url, options(Some(512))).await.unwrap();
    assert_eq!(
        cache_size(small).await,
        -512,
        "512 KiB, as SQLite writes it"
    );
    let default = Store::open_with(&url, options(None)).await.unwrap();
    assert_eq!(cache_size(default).await, -2000, "SQLite's own default");
}
