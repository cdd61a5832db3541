//! Contracts: saving and replacing versions, verifications, recorded changes and can-i-deploy.

use serde_json::{Value, json};
use testmesh_store::{
    ContractFilter, ContractSource, Error, NewContract, NewContractChange, NewVerification,
    VerificationFilter, VerificationStatus,
};

use crate::common::{TestDb, WS};

on_both_backends!(
    contracts_save_replace_list_and_delete,
    verifications_are_listed_newest_first_and_filtered,
    changes_of_a_pair_are_replaced_not_accumulated,
    can_i_deploy_verdicts,
    original_contracts_schema_unfolds_interactions,
    flow_actions_keep_contracts_in_the_store
);

fn pact(consumer: &str, provider: &str, descriptions: &[&str]) -> Value {
    json!({
        "consumer": {"name": consumer},
        "provider": {"name": provider},
        "interactions": descriptions.iter().map(|d| json!({
            "type": "Synchronous/HTTP",
            "key": format!("k-{d}"),
            "description": d,
            "providerStates": [{"name": "an item exists", "params": {"id": 1}}],
            "request": {"method": "GET", "path": "/items/1"},
            "response": {"status": 200}
        })).collect::<Vec<_>>(),
        "metadata": {"pactSpecification": {"version": "4.0"}}
    })
}

fn contract(consumer: &str, provider: &str, version: &str, descriptions: &[&str]) -> NewContract {
    NewContract {
        consumer: consumer.into(),
        provider: provider.into(),
        version: version.into(),
        pact: pact(consumer, provider, descriptions),
        spec_version: "4.0".into(),
        source: ContractSource::Imported,
        flow_id: None,
        execution_id: None,
    }
}

fn verification(provider_version: &str, status: VerificationStatus) -> NewVerification {
    let passed = i64::from(status == VerificationStatus::Passed);
    NewVerification {
        provider_version: provider_version.into(),
        status,
        total: 1,
        passed,
        failed: 1 - passed,
        errors: 0,
        report: json!({"summary": {"total": 1}}),
        execution_id: None,
    }
}

async fn contracts_save_replace_list_and_delete(db: &TestDb) {
    let store = db.open().await;
    let v1 = store
        .save_contract(WS, &contract("web", "api", "1.0.0", &["get item"]))
        .await
        .unwrap();
    assert_eq!(v1.info.interaction_count, 1);
    assert_eq!(v1.info.source, ContractSource::Imported);
    assert_eq!(v1.pact["interactions"][0]["description"], "get item");
    std::thread::sleep(std::time::Duration::from_millis(5));
    let v2 = store
        .save_contract(WS, &contract("web", "api", "2.0.0", &["get item", "list"]))
        .await
        .unwrap();
    store
        .save_contract(WS, &contract("mobile", "api", "1.0.0", &["get item"]))
        .await
        .unwrap();

    // Same version again: replaced in place, same id; the old content's verifications go.
    store
        .record_verification(
            WS,
            &v2.info.id,
            &verification("p1", VerificationStatus::Passed),
        )
        .await
        .unwrap();
    let same = store
        .save_contract(WS, &contract("web", "api", "2.0.0", &["get item", "list"]))
        .await
        .unwrap();
    assert_eq!(same.info.id, v2.info.id);
    assert!(
        same.info.last_verification.is_some(),
        "same content keeps verifications"
    );
    let replaced = store
        .save_contract(WS, &contract("web", "api", "2.0.0", &["list"]))
        .await
        .unwrap();
    assert_eq!(replaced.info.id, v2.info.id);
    assert_eq!(replaced.info.created_at, v2.info.created_at);
    assert_eq!(replaced.info.interaction_count, 1);
    assert!(replaced.info.last_verification.is_none());

    let all = store
        .list_contracts(WS, &ContractFilter::default())
        .await
        .unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(all.items[0].consumer, "mobile", "newest first");
    let web = store
        .list_contracts(
            WS,
            &ContractFilter {
                consumer: Some("web".into()),
                limit: Some(1),
                ..ContractFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((web.total, web.items.len()), (2, 1));
    let versions = store.contract_versions(WS, "web", "api").await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|c| c.version.as_str())
            .collect::<Vec<_>>(),
        vec!["2.0.0", "1.0.0"]
    );
    let previous = store.previous_contract(WS, &versions[0]).await.unwrap();
    assert_eq!(previous.map(|c| c.id), Some(v1.info.id.clone()));
    assert!(
        store
            .previous_contract(WS, &versions[1])
            .await
            .unwrap()
            .is_none()
    );
    let found = store
        .find_contract(WS, "web", "api", "1.0.0")
        .await
        .unwrap();
    assert_eq!(found.map(|c| c.info.id), Some(v1.info.id.clone()));

    // Bad input and other workspaces.
    let mut empty = contract("web", "api", " ", &[]);
    assert!(matches!(
        store.save_contract(WS, &empty).await,
        Err(Error::Invalid { .. })
    ));
    empty.version = "3".into();
    empty.pact = json!({"consumer": {"name": "web"}});
    assert!(matches!(
        store.save_contract(WS, &empty).await,
        Err(Error::Invalid { .. })
    ));
    let other = store.create_workspace("other", "other").await.unwrap();
    assert!(matches!(
        store.get_contract(&other.id, &v1.info.id).await,
        Err(Error::NotFound { .. })
    ));

    store.delete_contract(WS, &v1.info.id).await.unwrap();
    assert!(matches!(
        store.delete_contract(WS, &v1.info.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.get_contract(WS, &v1.info.id).await,
        Err(Error::NotFound { .. })
    ));
}

async fn verifications_are_listed_newest_first_and_filtered(db: &TestDb) {
    let store = db.open().await;
    let c = store
        .save_contract(WS, &contract("web", "api", "1", &["a"]))
        .await
        .unwrap();
    for (version, status) in [
        ("p1", VerificationStatus::Failed),
        ("p1", VerificationStatus::Passed),
        ("p2", VerificationStatus::Error),
    ] {
        store
            .record_verification(WS, &c.info.id, &verification(version, status))
            .await
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    let all = store
        .list_verifications(WS, &c.info.id, &VerificationFilter::default())
        .await
        .unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(all.items[0].info.provider_version, "p2");
    assert_eq!(all.items[0].info.provider, "api");
    assert_eq!(all.items[0].report, json!({"summary": {"total": 1}}));
    let passed = store
        .list_verifications(
            WS,
            &c.info.id,
            &VerificationFilter {
                status: Some(VerificationStatus::Passed),
                ..VerificationFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(passed.total, 1);
    let p1 = store
        .list_verifications(
            WS,
            &c.info.id,
            &VerificationFilter {
                provider_version: Some("p1".into()),
                ..VerificationFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(p1.total, 2);
    let got = store
        .get_verification(WS, &all.items[2].info.id)
        .await
        .unwrap();
    assert_eq!(got.info.status, VerificationStatus::Failed);
    let contract = store.get_contract(WS, &c.info.id).await.unwrap();
    assert_eq!(
        contract.info.last_verification.map(|v| v.status),
        Some(VerificationStatus::Error)
    );
    assert!(matches!(
        store
            .record_verification(WS, "nope", &verification("p", VerificationStatus::Passed))
            .await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store
            .list_verifications(WS, "nope", &VerificationFilter::default())
            .await,
        Err(Error::NotFound { .. })
    ));
    // Deleting the contract deletes its verifications.
    store.delete_contract(WS, &c.info.id).await.unwrap();
    assert!(matches!(
        store.get_verification(WS, &got.info.id).await,
        Err(Error::NotFound { .. })
    ));
}

fn change(rule: &str, severity: &str) -> NewContractChange {
    NewContractChange {
        rule: rule.into(),
        severity: severity.into(),
        interaction: "get item".into(),
        part: "response.body".into(),
        path: "$.price".into(),
        message: "removed".into(),
    }
}

async fn changes_of_a_pair_are_replaced_not_accumulated(db: &TestDb) {
    let store = db.open().await;
    let old = store
        .save_contract(WS, &contract("web", "api", "1", &["a"]))
        .await
        .unwrap();
    let new = store
        .save_contract(WS, &contract("web", "api", "2", &["b"]))
        .await
        .unwrap();
    assert!(
        store
            .contract_comparison(WS, &old.info.id, &new.info.id)
            .await
            .unwrap()
            .is_none()
    );
    let changes = [
        change("response_field_removed", "breaking"),
        change("interaction_added", "info"),
    ];
    for _ in 0..2 {
        let recorded = store
            .record_contract_changes(WS, &old.info.id, &new.info.id, &changes)
            .await
            .unwrap();
        assert_eq!(recorded.changes.len(), 2);
        assert_eq!(recorded.changes[0].rule, "response_field_removed");
    }
    assert_eq!(
        store
            .contract_changes(WS, &new.info.id)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .contract_changes(WS, &old.info.id)
            .await
            .unwrap()
            .len(),
        2
    );
    // A pair without changes is still known to be compared.
    let none = store
        .record_contract_changes(WS, &old.info.id, &new.info.id, &[])
        .await
        .unwrap();
    assert!(none.changes.is_empty());
    assert!(
        store
            .contract_comparison(WS, &old.info.id, &new.info.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store
            .record_contract_changes(WS, &old.info.id, &new.info.id, &[change("x", "critical")])
            .await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        store
            .record_contract_changes(WS, &old.info.id, "missing", &[])
            .await,
        Err(Error::NotFound { .. })
    ));
}

async fn can_i_deploy_verdicts(db: &TestDb) {
    let store = db.open().await;
    let web1 = store
        .save_contract(WS, &contract("web", "api", "1", &["a"]))
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    let web2 = store
        .save_contract(WS, &contract("web", "api", "2", &["a"]))
        .await
        .unwrap();
    let mobile = store
        .save_contract(WS, &contract("mobile", "api", "7", &["a"]))
        .await
        .unwrap();

    // Not verified yet.
    let verdict = store.can_i_deploy(WS, "web", "2", None).await.unwrap();
    assert!(!verdict.deployable);
    assert!(
        verdict.reasons[0].message.contains("never verified"),
        "{verdict:?}"
    );

    store
        .record_verification(
            WS,
            &web2.info.id,
            &verification("p1", VerificationStatus::Passed),
        )
        .await
        .unwrap();
    store
        .record_verification(
            WS,
            &web1.info.id,
            &verification("p1", VerificationStatus::Failed),
        )
        .await
        .unwrap();
    // Deployable: latest verification passed, and against p1 specifically.
    let verdict = store.can_i_deploy(WS, "web", "2", None).await.unwrap();
    assert!(verdict.deployable, "{verdict:?}");
    assert_eq!(verdict.reasons[0].provider_version.as_deref(), Some("p1"));
    assert!(
        store
            .can_i_deploy(WS, "web", "2", Some("p1"))
            .await
            .unwrap()
            .deployable
    );
    // Not verified against the provider version asked.
    let verdict = store
        .can_i_deploy(WS, "web", "2", Some("p2"))
        .await
        .unwrap();
    assert!(!verdict.deployable);
    assert!(
        verdict.reasons[0]
            .message
            .contains("not verified against api p2")
    );
    // Failed.
    let verdict = store.can_i_deploy(WS, "web", "1", None).await.unwrap();
    assert!(!verdict.deployable);
    assert!(verdict.reasons[0].message.contains("failed"), "{verdict:?}");
    // Unknown consumer version.
    let verdict = store.can_i_deploy(WS, "web", "9", None).await.unwrap();
    assert!(!verdict.deployable);
    assert!(
        verdict.reasons[0]
            .message
            .contains("no contract for version 9")
    );
    // Unknown pacticipant.
    let verdict = store.can_i_deploy(WS, "nobody", "1", None).await.unwrap();
    assert!(!verdict.deployable);
    assert!(verdict.reasons[0].message.contains("unknown pacticipant"));

    // As a provider: the latest contract of each consumer must pass against p1.
    let verdict = store.can_i_deploy(WS, "api", "p1", None).await.unwrap();
    assert!(!verdict.deployable, "mobile is not verified: {verdict:?}");
    assert_eq!(verdict.reasons.len(), 2);
    store
        .record_verification(
            WS,
            &mobile.info.id,
            &verification("p1", VerificationStatus::Passed),
        )
        .await
        .unwrap();
    let verdict = store.can_i_deploy(WS, "api", "p1", None).await.unwrap();
    assert!(verdict.deployable, "{verdict:?}");
    assert!(verdict.reasons.iter().all(|r| r.ok));
    // A later failure against p1 makes it undeployable again.
    std::thread::sleep(std::time::Duration::from_millis(3));
    store
        .record_verification(
            WS,
            &mobile.info.id,
            &verification("p1", VerificationStatus::Failed),
        )
        .await
        .unwrap();
    assert!(
        !store
            .can_i_deploy(WS, "api", "p1", None)
            .await
            .unwrap()
            .deployable
    );
}

async fn original_contracts_schema_unfolds_interactions(db: &TestDb) {
    use sqlx::{Connection, Row};
    let store = db.open().await;
    if db.backend == testmesh_store::Backend::Sqlite {
        return; // SQLite has no schemas; the views exist on PostgreSQL only.
    }
    let c = store
        .save_contract(WS, &contract("web", "api", "1", &["a", "b"]))
        .await
        .unwrap();
    store
        .record_verification(
            WS,
            &c.info.id,
            &verification("p1", VerificationStatus::Passed),
        )
        .await
        .unwrap();
    store
        .record_contract_changes(WS, &c.info.id, &c.info.id, &[change("r", "breaking")])
        .await
        .unwrap();
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let rows = sqlx::query(
        "SELECT i.description, i.provider_state, i.interaction_type, i.request->>'method' AS method FROM contracts.interactions i JOIN contracts.contracts c ON c.id = i.contract_id WHERE c.consumer = 'web' ORDER BY i.id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<String, _>("description"), "a");
    assert_eq!(rows[0].get::<String, _>("provider_state"), "an item exists");
    assert_eq!(rows[0].get::<String, _>("interaction_type"), "http");
    assert_eq!(rows[0].get::<String, _>("method"), "GET");
    let row = sqlx::query(
        "SELECT status, (results->>'total_interactions')::int AS total FROM contracts.verifications",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("status"), "passed");
    assert_eq!(row.get::<i32, _>("total"), 1);
    let changes: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM contracts.breaking_changes WHERE severity = 'breaking'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
    .get("n");
    assert_eq!(changes, 1);
}

/// `StoreContracts` is what `contract_generate`/`contract_verify` use under `serve` and `worker`.
async fn flow_actions_keep_contracts_in_the_store(db: &TestDb) {
    use testmesh_contract::{ContractRepository, RepositoryError};
    let store = db.open().await;
    let repo = testmesh_store::StoreContracts::new(store.clone());
    let pact = testmesh_contract::pact_from_json(&pact("web", "users", &["get an item"])).unwrap();
    let new = || testmesh_contract::NewContract {
        consumer: "web",
        provider: "users",
        version: "1.0.0",
        pact: &pact,
        execution_id: Some("not-a-stored-execution"),
    };
    let first = repo.save_contract(new()).await.unwrap();
    assert!(!first.replaced);
    let again = repo.save_contract(new()).await.unwrap();
    assert_eq!(
        (again.id.as_str(), again.replaced),
        (first.id.as_str(), true)
    );
    let loaded = repo.load_contract(&first.id).await.unwrap();
    assert_eq!(loaded.consumer.name, "web");
    assert!(matches!(
        repo.load_contract("nope").await,
        Err(RepositoryError::NotFound(_))
    ));

    // A provider that is not there: every interaction errors, and the result is kept.
    let report = testmesh_contract::verify_pact(
        &loaded,
        &testmesh_contract::VerifyOptions::new("http://127.0.0.1:9"),
    )
    .await
    .unwrap();
    let verification = testmesh_contract::NewVerification {
        contract_id: Some(&first.id),
        provider_version: "2.0.0",
        report: &report,
        execution_id: None,
    };
    let id = repo.save_verification(verification).await.unwrap();
    let listed = store
        .list_verifications(WS, &first.id, &VerificationFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].info.id, id);
    assert_ne!(listed.items[0].info.status, VerificationStatus::Passed);
    // A pact file's verification is not a stored contract's: nothing is kept.
    let unstored = testmesh_contract::NewVerification {
        contract_id: None,
        ..verification
    };
    repo.save_verification(unstored).await.unwrap();
    assert_eq!(
        store
            .list_verifications(WS, &first.id, &VerificationFilter::default())
            .await
            .unwrap()
            .total,
        1
    );
}
