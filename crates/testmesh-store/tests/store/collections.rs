//! Collections: a tree of folders holding flows.

use testmesh_store::{Error, NewCollection};

use crate::common::{SQL_LOOKING, TestDb, WS, flow_yaml};

on_both_backends!(collections_nest_and_hold_flows);

fn folder(name: &str, parent: Option<&str>, sort_order: i64) -> NewCollection {
    NewCollection {
        name: name.into(),
        description: None,
        parent_id: parent.map(str::to_string),
        sort_order,
    }
}

async fn collections_nest_and_hold_flows(db: &TestDb) {
    let store = db.open().await;
    let root = store
        .create_collection(WS, &folder("API", None, 0))
        .await
        .unwrap();
    let users = store
        .create_collection(WS, &folder("Users", Some(&root.id), 2))
        .await
        .unwrap();
    let orders = store
        .create_collection(WS, &folder("Orders", Some(&root.id), 1))
        .await
        .unwrap();
    let deep = store
        .create_collection(WS, &folder("Deep", Some(&users.id), 0))
        .await
        .unwrap();

    let children = store.collection_children(WS, &root.id).await.unwrap();
    assert_eq!(
        children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        vec!["Orders", "Users"]
    );
    let ancestors = store.collection_ancestors(WS, &deep.id).await.unwrap();
    assert_eq!(
        ancestors
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Users", "API"]
    );
    assert_eq!(
        store
            .list_collections(WS, Some("user"))
            .await
            .unwrap()
            .len(),
        1
    );
    for bad in SQL_LOOKING {
        assert!(
            store
                .list_collections(WS, Some(bad))
                .await
                .unwrap()
                .is_empty(),
            "{bad}"
        );
    }

    // No cycles.
    let err = store
        .update_collection(WS, &root.id, &folder("API", Some(&deep.id), 0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    let err = store
        .update_collection(WS, &root.id, &folder("API", Some(&root.id), 0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    let moved = store
        .update_collection(WS, &deep.id, &folder("Deep", Some(&orders.id), 5))
        .await
        .unwrap();
    assert_eq!(moved.parent_id.as_deref(), Some(orders.id.as_str()));

    let f1 = store
        .create_flow(WS, &flow_yaml("one", None, &[]), None)
        .await
        .unwrap();
    let f2 = store
        .create_flow(WS, &flow_yaml("two", None, &[]), None)
        .await
        .unwrap();
    store
        .add_flow_to_collection(WS, &users.id, &f1.flow.id, 2)
        .await
        .unwrap();
    store
        .add_flow_to_collection(WS, &users.id, &f2.flow.id, 1)
        .await
        .unwrap();
    store
        .add_flow_to_collection(WS, &users.id, &f1.flow.id, 0)
        .await
        .unwrap();
    let flows = store.collection_flows(WS, &users.id).await.unwrap();
    assert_eq!(
        flows.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        vec!["one", "two"]
    );
    store
        .remove_flow_from_collection(WS, &users.id, &f2.flow.id)
        .await
        .unwrap();
    assert!(matches!(
        store
            .remove_flow_from_collection(WS, &users.id, &f2.flow.id)
            .await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store
            .add_flow_to_collection(WS, &users.id, "missing", 0)
            .await,
        Err(Error::NotFound { .. })
    ));
    // Deleted flows leave the collection's list.
    store.delete_flow(WS, &f1.flow.id).await.unwrap();
    assert!(
        store
            .collection_flows(WS, &users.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting a folder deletes its sub-folders.
    store.delete_collection(WS, &root.id).await.unwrap();
    assert!(store.list_collections(WS, None).await.unwrap().is_empty());
    assert!(matches!(
        store.get_collection(WS, &deep.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store
            .create_collection(WS, &folder("x", Some("missing"), 0))
            .await,
        Err(Error::NotFound { .. })
    ));
}
