//! Environments: secrets encrypted at rest, masked on read, decrypted only on purpose.

use testmesh_store::{EnvironmentInput, Error, MASK, Store, StoreOptions, Variable};

use crate::common::{TestDb, WS};

on_both_backends!(
    secrets_are_encrypted_at_rest_and_masked_on_read,
    defaults_names_and_copies,
);

fn var(key: &str, value: &str, is_secret: bool) -> Variable {
    Variable {
        key: key.into(),
        value: value.into(),
        description: None,
        is_secret,
        enabled: true,
    }
}

async fn raw_variables(store: &Store, id: &str) -> String {
    let row: (String,) = sqlx::query_as("SELECT variables FROM environments WHERE id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    row.0
}

async fn secrets_are_encrypted_at_rest_and_masked_on_read(db: &TestDb) {
    let store = db.open().await;
    let input = EnvironmentInput {
        name: "staging".into(),
        description: Some("shared staging".into()),
        is_default: true,
        variables: vec![
            var("BASE_URL", "https://staging.example", false),
            var("API_TOKEN", "tok-very-secret-123", true),
        ],
    };
    let env = store.create_environment(WS, &input).await.unwrap();
    assert_eq!(env.variables[0].value, "https://staging.example");
    assert_eq!(env.variables[1].value, MASK);
    assert!(env.is_default);

    let raw = raw_variables(&store, &env.id).await;
    assert!(!raw.contains("tok-very-secret-123"), "{raw}");
    assert!(raw.contains("enc:v1:"), "{raw}");
    assert!(
        raw.contains("https://staging.example"),
        "plain values stay plain"
    );

    for read in [
        store.get_environment(WS, &env.id).await.unwrap(),
        store.get_environment_by_name(WS, "staging").await.unwrap(),
        store.default_environment(WS).await.unwrap(),
        store.list_environments(WS).await.unwrap().remove(0),
    ] {
        assert_eq!(read.variables[1].value, MASK);
    }
    let plain = store.decrypted_environment(WS, "staging").await.unwrap();
    assert_eq!(plain.variables[1].value, "tok-very-secret-123");
    assert_eq!(
        store
            .decrypted_environment(WS, &env.id)
            .await
            .unwrap()
            .variables[1]
            .value,
        "tok-very-secret-123"
    );

    // Sending the mask back keeps the secret; a new value replaces it.
    let mut update = input.clone();
    update.variables[1].value = MASK.into();
    update.variables.push(var("EXTRA", "1", false));
    store
        .update_environment(WS, &env.id, &update)
        .await
        .unwrap();
    let plain = store.decrypted_environment(WS, &env.id).await.unwrap();
    assert_eq!(plain.variables[1].value, "tok-very-secret-123");
    assert_eq!(plain.variables.len(), 3);
    update.variables[1].value = "rotated".into();
    store
        .update_environment(WS, &env.id, &update)
        .await
        .unwrap();
    let plain = store.decrypted_environment(WS, &env.id).await.unwrap();
    assert_eq!(plain.variables[1].value, "rotated");
    assert!(!raw_variables(&store, &env.id).await.contains("rotated"));

    // A store with another key cannot read the secret, and says so.
    if db.backend == testmesh_store::Backend::Postgres {
        let other = Store::open_with(
            &db.url,
            StoreOptions {
                encryption_key: Some([7u8; 32]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(matches!(
            other.decrypted_environment(WS, &env.id).await,
            Err(Error::Decrypt)
        ));
        // Masked reads do not need the key.
        assert_eq!(
            other.get_environment(WS, &env.id).await.unwrap().variables[1].value,
            MASK
        );
    }
}

async fn defaults_names_and_copies(db: &TestDb) {
    let store = db.open().await;
    assert!(matches!(
        store.default_environment(WS).await,
        Err(Error::NotFound { .. })
    ));
    let a = store
        .create_environment(
            WS,
            &EnvironmentInput {
                name: "a".into(),
                is_default: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let b = store
        .create_environment(
            WS,
            &EnvironmentInput {
                name: "b".into(),
                is_default: true,
                variables: vec![var("S", "s3", true)],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.default_environment(WS).await.unwrap().id,
        b.id,
        "one default at a time"
    );
    assert!(!store.get_environment(WS, &a.id).await.unwrap().is_default);
    store.set_default_environment(WS, &a.id).await.unwrap();
    assert_eq!(store.default_environment(WS).await.unwrap().id, a.id);

    assert!(matches!(
        store
            .create_environment(
                WS,
                &EnvironmentInput {
                    name: "a".into(),
                    ..Default::default()
                }
            )
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_environment(
                WS,
                &EnvironmentInput {
                    name: "c".into(),
                    variables: vec![var("X", "1", false), var("X", "2", false)],
                    ..Default::default()
                }
            )
            .await,
        Err(Error::Invalid { .. })
    ));
    let copy = store
        .duplicate_environment(WS, &b.id, "b-copy")
        .await
        .unwrap();
    assert!(!copy.is_default);
    assert_eq!(
        store
            .decrypted_environment(WS, &copy.id)
            .await
            .unwrap()
            .variables[0]
            .value,
        "s3"
    );
    assert!(matches!(
        store.duplicate_environment(WS, &b.id, "a").await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        store.duplicate_environment(WS, "missing", "zz").await,
        Err(Error::NotFound { .. })
    ));

    store.delete_environment(WS, &b.id).await.unwrap();
    assert!(matches!(
        store.get_environment(WS, &b.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_environment(WS, &b.id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.list_environments(WS).await.unwrap().len(), 2);
}

#[tokio::test]
async fn postgres_without_a_key_reads_masked_but_refuses_secrets() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    if std::env::var_os(testmesh_store::KEY_ENV).is_some()
        || std::env::var_os(testmesh_store::KEY_FILE_ENV).is_some()
    {
        return;
    }
    let store = Store::open(&db.url).await.unwrap();
    let err = store
        .create_environment(
            WS,
            &EnvironmentInput {
                name: "e".into(),
                variables: vec![var("S", "x", true)],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Key(_)), "{err}");
    assert!(err.to_string().contains("TESTMESH_ENCRYPTION_KEY"), "{err}");
    // Environments without secrets work.
    store
        .create_environment(
            WS,
            &EnvironmentInput {
                name: "plain".into(),
                variables: vec![var("A", "1", false)],
                ..Default::default()
            },
        )
        .await
        .unwrap();
}
