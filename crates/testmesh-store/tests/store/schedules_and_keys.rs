//! Schedules (next run, one enqueue per tick across servers) and API keys (verify, revoke).

use chrono::{Duration as TimeDelta, Utc};
use testmesh_store::{Error, ScheduleInput, Store};

use crate::common::{SQL_LOOKING, TestDb, WS, flow_yaml};

on_both_backends!(
    schedules_compute_next_runs_and_claim_each_tick_once,
    api_keys_verify_and_revoke,
);

async fn schedules_compute_next_runs_and_claim_each_tick_once(db: &TestDb) {
    let store = db.open().await;
    let flow = store
        .create_flow(WS, &flow_yaml("nightly", None, &[]), None)
        .await
        .unwrap();
    let bad = ScheduleInput::for_flow("bad", &flow.flow.id, "61 * * * *");
    assert!(matches!(
        store.create_schedule(WS, &bad).await,
        Err(Error::Invalid { .. })
    ));
    let bad_tz = ScheduleInput {
        timezone: Some("Nowhere/Land".into()),
        ..ScheduleInput::for_flow("bad-tz", &flow.flow.id, "* * * * *")
    };
    assert!(matches!(
        store.create_schedule(WS, &bad_tz).await,
        Err(Error::Invalid { .. })
    ));
    let no_target = ScheduleInput {
        flow_id: None,
        ..ScheduleInput::for_flow("none", "", "* * * * *")
    };
    assert!(matches!(
        store.create_schedule(WS, &no_target).await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        store
            .create_schedule(
                WS,
                &ScheduleInput::for_flow("ghost", "missing", "* * * * *")
            )
            .await,
        Err(Error::NotFound { .. })
    ));

    let before = Utc::now();
    let schedule = store
        .create_schedule(
            WS,
            &ScheduleInput {
                timezone: Some("Europe/Paris".into()),
                environment: Some("staging".into()),
                ..ScheduleInput::for_flow("every-minute", &flow.flow.id, "* * * * *")
            },
        )
        .await
        .unwrap();
    let tick = schedule.next_run_at.unwrap();
    assert!(
        tick > before && tick <= before + TimeDelta::seconds(61),
        "{tick}"
    );
    assert_eq!(schedule.timezone, "Europe/Paris");
    assert!(matches!(
        store
            .create_schedule(
                WS,
                &ScheduleInput::for_flow("every-minute", &flow.flow.id, "@daily")
            )
            .await,
        Err(Error::Conflict(_))
    ));
    let by_suite = store
        .create_schedule(
            WS,
            &ScheduleInput {
                flow_id: None,
                suite: Some("smoke".into()),
                ..ScheduleInput::for_flow("suite-daily", "", "0 3 * * *")
            },
        )
        .await
        .unwrap();
    assert_eq!(store.list_schedules(WS).await.unwrap().len(), 2);

    assert!(
        store
            .due_schedules(tick - TimeDelta::seconds(1))
            .await
            .unwrap()
            .is_empty()
    );
    let due = store
        .due_schedules(tick + TimeDelta::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec![schedule.id.as_str()]
    );

    // Two servers see the same due tick; exactly one may enqueue it.
    let now = tick + TimeDelta::seconds(1);
    let other = Store::open_with(&db.url, db.options()).await.unwrap();
    let (a, b) = tokio::join!(
        store.mark_schedule_ran(&due[0], now),
        other.mark_schedule_ran(&due[0], now)
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|won| **won).count(),
        1
    );
    assert!(
        !store.mark_schedule_ran(&due[0], now).await.unwrap(),
        "a tick is claimed once"
    );
    let after = store.get_schedule(WS, &schedule.id).await.unwrap();
    assert_eq!(after.last_run_at, Some(tick));
    assert!(after.next_run_at.unwrap() > tick);
    assert!(store.due_schedules(now).await.unwrap().is_empty());

    // Paused schedules have no next run and are never due; resuming computes one.
    let paused = store
        .set_schedule_enabled(WS, &schedule.id, false)
        .await
        .unwrap();
    assert_eq!((paused.enabled, paused.next_run_at), (false, None));
    assert!(
        store
            .due_schedules(now + TimeDelta::days(2))
            .await
            .unwrap()
            .iter()
            .all(|s| s.id != schedule.id)
    );
    let resumed = store
        .set_schedule_enabled(WS, &schedule.id, true)
        .await
        .unwrap();
    assert!(resumed.next_run_at.is_some());

    let updated = store
        .update_schedule(
            WS,
            &by_suite.id,
            &ScheduleInput {
                flow_id: None,
                suite: Some("smoke".into()),
                ..ScheduleInput::for_flow("suite-hourly", "", "0 * * * *")
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "suite-hourly");
    assert!(updated.next_run_at.unwrap() <= Utc::now() + TimeDelta::hours(1));
    store.delete_schedule(WS, &by_suite.id).await.unwrap();
    assert!(matches!(
        store.get_schedule(WS, &by_suite.id).await,
        Err(Error::NotFound { .. })
    ));
}

async fn api_keys_verify_and_revoke(db: &TestDb) {
    let store = db.open().await;
    let created = store.create_api_key(WS, "ci", Some(120)).await.unwrap();
    let plain = created.plain.clone();
    assert!(
        plain.starts_with(&format!("tm_{}_", created.key.prefix)),
        "{plain}"
    );
    assert_eq!(created.key.prefix.len(), 8);
    assert!(
        plain.len() >= 3 + 8 + 1 + 64,
        "at least 32 random bytes: {plain}"
    );
    assert_eq!(created.key.rate_limit_per_minute, Some(120));

    // Only the hash is stored.
    let row: (String,) = sqlx::query_as("SELECT hash FROM api_keys WHERE id = $1")
        .bind(created.key.id.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(row.0.len(), 64);
    assert!(!row.0.contains(&plain[12..]));

    let verified = store.verify_api_key(&plain).await.unwrap().unwrap();
    assert_eq!(verified.id, created.key.id);
    assert!(verified.last_used_at.is_some());
    assert_eq!(
        store
            .get_api_key(WS, &created.key.id)
            .await
            .unwrap()
            .last_used_at,
        verified.last_used_at
    );

    let mut wrong = plain.clone();
    wrong.pop();
    wrong.push(if plain.ends_with('0') { '1' } else { '0' });
    assert_eq!(store.verify_api_key(&wrong).await.unwrap(), None);
    assert_eq!(
        store.verify_api_key("tm_00000000_nothing").await.unwrap(),
        None
    );
    assert_eq!(store.verify_api_key("").await.unwrap(), None);
    for bad in SQL_LOOKING {
        assert_eq!(store.verify_api_key(bad).await.unwrap(), None);
        assert_eq!(
            store
                .verify_api_key(&format!("tm_{}_x", &format!("{bad:8}")[..8]))
                .await
                .unwrap(),
            None
        );
    }

    let other = store.create_api_key(WS, "dashboard", None).await.unwrap();
    assert_eq!(store.list_api_keys(WS).await.unwrap().len(), 2);
    let revoked = store.revoke_api_key(WS, &created.key.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(store.verify_api_key(&plain).await.unwrap(), None);
    assert!(store.verify_api_key(&other.plain).await.unwrap().is_some());
    assert!(matches!(
        store.revoke_api_key(WS, "missing").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.create_api_key(WS, " ", None).await,
        Err(Error::Invalid { .. })
    ));
}
