//! Flows: versions, validation errors with positions, names, filters and pagination.

use testmesh_store::{Error, FlowFilter};

use crate::common::{SQL_LOOKING, TestDb, WS, flow_yaml};

on_both_backends!(
    saving_twice_keeps_both_versions,
    invalid_yaml_is_rejected_with_positions,
    names_are_unique_among_live_flows,
    upsert_adds_a_version_only_when_the_text_changes,
    lists_filter_and_paginate,
    sql_looking_filters_match_nothing,
    nul_characters_are_refused_with_their_position,
);

async fn saving_twice_keeps_both_versions(db: &TestDb) {
    let store = db.open().await;
    let v1 = flow_yaml("orders", Some("shop"), &["smoke"]);
    let created = store
        .create_flow(WS, &v1, Some("flows/orders.yaml"))
        .await
        .unwrap();
    assert_eq!(created.flow.version, 1);
    assert_eq!(created.flow.name, "orders");
    assert_eq!(created.flow.suite.as_deref(), Some("shop"));
    assert_eq!(created.flow.tags, vec!["smoke"]);
    assert_eq!(
        created.flow.source_path.as_deref(),
        Some("flows/orders.yaml")
    );
    assert_eq!(created.yaml, v1);
    assert_eq!(created.definition["steps"][0]["action"], "log");

    let v2 = flow_yaml("orders", Some("shop"), &["smoke", "nightly"]);
    let updated = store.update_flow(WS, &created.flow.id, &v2).await.unwrap();
    assert_eq!(updated.flow.version, 2);
    assert_eq!(updated.flow.tags, vec!["smoke", "nightly"]);
    assert_eq!(updated.yaml, v2);
    assert_eq!(updated.flow.created_at, created.flow.created_at);

    let versions = store
        .list_flow_versions(WS, &created.flow.id)
        .await
        .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    let old = store
        .get_flow_version(WS, &created.flow.id, 1)
        .await
        .unwrap();
    assert_eq!(old.yaml, v1);
    assert!(matches!(
        store.get_flow_version(WS, &created.flow.id, 3).await,
        Err(Error::NotFound { .. })
    ));

    // An invalid update writes nothing.
    let err = store
        .update_flow(WS, &created.flow.id, "name: orders\nsteps: 5\n")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    assert_eq!(
        store
            .get_flow(WS, &created.flow.id)
            .await
            .unwrap()
            .flow
            .version,
        2
    );
}

async fn invalid_yaml_is_rejected_with_positions(db: &TestDb) {
    let store = db.open().await;
    match store.create_flow(WS, "name: x\nname: y\n", None).await {
        Err(Error::Invalid {
            diagnostics,
            message,
        }) => {
            let d = &diagnostics[0];
            assert_eq!(
                (d.code, d.line, d.column),
                ("yaml-syntax", 2, 1),
                "{diagnostics:?}"
            );
            assert!(message.contains("2:1"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    match store
        .create_flow(WS, "name: x\nsteps:\n  - action: delay\n", None)
        .await
    {
        Err(Error::Invalid { diagnostics, .. }) => {
            let d = diagnostics.iter().find(|d| d.severity == "error").unwrap();
            assert_eq!(
                (d.code, d.line, d.column),
                ("missing-key", 3, 13),
                "{diagnostics:?}"
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(matches!(
        store
            .create_flow(
                WS,
                "steps:\n  - action: log\n    config: {message: hi}\n",
                None
            )
            .await,
        Err(Error::Invalid { .. })
    ));
    let page = store.list_flows(WS, &FlowFilter::default()).await.unwrap();
    assert_eq!(page.total, 0, "nothing is written for invalid flows");
}

async fn names_are_unique_among_live_flows(db: &TestDb) {
    let store = db.open().await;
    let yaml = flow_yaml("dup", None, &[]);
    let first = store.create_flow(WS, &yaml, None).await.unwrap();
    let err = store.create_flow(WS, &yaml, None).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert!(err.to_string().contains("dup"), "{err}");

    // Renaming another flow onto a taken name is a conflict too.
    let other = store
        .create_flow(WS, &flow_yaml("other", None, &[]), None)
        .await
        .unwrap();
    assert!(matches!(
        store.update_flow(WS, &other.flow.id, &yaml).await,
        Err(Error::Conflict(_))
    ));

    store.delete_flow(WS, &first.flow.id).await.unwrap();
    assert!(matches!(
        store.get_flow(WS, &first.flow.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_flow(WS, &first.flow.id).await,
        Err(Error::NotFound { .. })
    ));
    // Deleted flows keep their versions; their name is free again.
    assert_eq!(
        store
            .list_flow_versions(WS, &first.flow.id)
            .await
            .unwrap()
            .len(),
        1
    );
    let again = store.create_flow(WS, &yaml, None).await.unwrap();
    assert_ne!(again.flow.id, first.flow.id);

    // Another workspace has its own names and cannot see this one's flows.
    let team = store.create_workspace("Team", "team").await.unwrap();
    store.create_flow(&team.id, &yaml, None).await.unwrap();
    assert!(matches!(
        store.get_flow(&team.id, &again.flow.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.create_workspace("Team 2", "team").await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        store.create_flow("no-such-workspace", &yaml, None).await,
        Err(Error::NotFound { .. })
    ));
}

async fn upsert_adds_a_version_only_when_the_text_changes(db: &TestDb) {
    let store = db.open().await;
    let yaml = flow_yaml("cli", None, &[]);
    let (id, v) = store
        .upsert_flow_by_name(WS, &yaml, Some("cli.yaml"))
        .await
        .unwrap();
    assert_eq!(v, 1);
    assert_eq!(
        store
            .upsert_flow_by_name(WS, &yaml, Some("cli.yaml"))
            .await
            .unwrap(),
        (id.clone(), 1)
    );
    let changed = flow_yaml("cli", Some("suite-b"), &[]);
    assert_eq!(
        store.upsert_flow_by_name(WS, &changed, None).await.unwrap(),
        (id.clone(), 2)
    );
    let flow = store.get_flow(WS, &id).await.unwrap();
    assert_eq!(flow.flow.suite.as_deref(), Some("suite-b"));
    assert_eq!(flow.flow.source_path.as_deref(), Some("cli.yaml"));

    // Concurrent first runs of one new flow end with one flow.
    let yaml = flow_yaml("raced", None, &[]);
    let results =
        futures::future::join_all((0..4).map(|_| store.upsert_flow_by_name(WS, &yaml, None))).await;
    let ids: std::collections::HashSet<String> =
        results.into_iter().map(|r| r.unwrap().0).collect();
    assert_eq!(ids.len(), 1);
}

async fn lists_filter_and_paginate(db: &TestDb) {
    let store = db.open().await;
    for i in 0..7 {
        let suite = if i % 2 == 0 { "even" } else { "odd" };
        let tags: &[&str] = if i < 3 { &["smoke"] } else { &["nightly"] };
        store
            .create_flow(
                WS,
                &flow_yaml(&format!("Flow-{i}"), Some(suite), tags),
                None,
            )
            .await
            .unwrap();
    }
    let page = |f: FlowFilter| {
        let store = &store;
        async move { store.list_flows(WS, &f).await.unwrap() }
    };
    let all = page(FlowFilter {
        limit: Some(3),
        ..Default::default()
    })
    .await;
    assert_eq!((all.total, all.items.len(), all.limit), (7, 3, 3));
    assert_eq!(all.items[0].name, "Flow-0");
    let last = page(FlowFilter {
        limit: Some(3),
        offset: Some(6),
        ..Default::default()
    })
    .await;
    assert_eq!((last.total, last.items.len()), (7, 1));
    assert_eq!(last.items[0].name, "Flow-6");

    let even = page(FlowFilter {
        suite: Some("even".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(even.total, 4);
    let smoke = page(FlowFilter {
        tags: vec!["smoke".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(smoke.total, 3);
    let either = page(FlowFilter {
        tags: vec!["smoke".into(), "nightly".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(either.total, 7);
    let prefix_only = page(FlowFilter {
        tags: vec!["smok".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(prefix_only.total, 0, "tags match whole tags");
    let search = page(FlowFilter {
        search: Some("flow-5".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        search
            .items
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Flow-5"]
    );
    let combined = page(FlowFilter {
        suite: Some("odd".into()),
        tags: vec!["nightly".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(combined.total, 2);
    // Bounds are clamped, not errors.
    let clamped = page(FlowFilter {
        limit: Some(-5),
        offset: Some(-1),
        ..Default::default()
    })
    .await;
    assert_eq!(
        (clamped.limit, clamped.offset, clamped.items.len()),
        (1, 0, 1)
    );
}

async fn sql_looking_filters_match_nothing(db: &TestDb) {
    let store = db.open().await;
    store
        .create_flow(WS, &flow_yaml("target", Some("s"), &["smoke"]), None)
        .await
        .unwrap();
    for bad in SQL_LOOKING {
        let filters = [
            FlowFilter {
                suite: Some(bad.to_string()),
                ..Default::default()
            },
            FlowFilter {
                tags: vec![bad.to_string()],
                ..Default::default()
            },
            FlowFilter {
                search: Some(bad.to_string()),
                ..Default::default()
            },
        ];
        for filter in filters {
            let page = store
                .list_flows(WS, &filter)
                .await
                .unwrap_or_else(|e| panic!("{bad}: {e}"));
            assert_eq!(page.total, 0, "{bad} in {filter:?}");
        }
        assert!(matches!(
            store.get_flow(WS, bad).await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            store.get_flow(bad, bad).await,
            Err(Error::NotFound { .. })
        ));
    }
    assert_eq!(
        store
            .list_flows(WS, &FlowFilter::default())
            .await
            .unwrap()
            .total,
        1
    );
}

async fn nul_characters_are_refused_with_their_position(db: &TestDb) {
    let store = db.open().await;
    // A raw NUL in the text, and a `\0` escape that would put one in the stored name.
    let raw = "name: raw\nsteps:\n  - action: log\n    config: {message: \"a\u{0}b\"}\n";
    let escaped = "name: \"nul\\0name\"\nsteps:\n  - action: log\n    config: {message: hi}\n";
    for (yaml, line) in [(raw, 4), (escaped, 1)] {
        match store.create_flow(WS, yaml, None).await {
            Err(Error::Invalid { diagnostics, .. }) => {
                assert_eq!(diagnostics[0].code, "nul-character");
                assert_eq!(diagnostics[0].line, line, "{yaml:?}");
            }
            other => panic!("{yaml:?}: {other:?}"),
        }
    }
    let page = store.list_flows(WS, &FlowFilter::default()).await.unwrap();
    assert_eq!(page.total, 0, "nothing was written");
}
