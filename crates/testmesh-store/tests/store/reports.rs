//! Reports: recorded, moved through their statuses, listed, filtered, expired and deleted.

use chrono::{Duration, NaiveDate, Utc};
use serde_json::json;
use testmesh_store::{Error, NewReport, ReportFilter, ReportFormat, ReportStatus};

use crate::common::{TestDb, WS};

on_both_backends!(
    reports_move_through_their_statuses,
    reports_are_listed_filtered_and_expire,
    bad_reports_are_refused
);

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn report(name: &str, format: ReportFormat, expires_in: Option<Duration>) -> NewReport {
    NewReport {
        name: name.into(),
        format,
        filters: json!({"suites": ["shop"]}),
        from: day("2026-11-01"),
        to: day("2026-11-21"),
        generated_by: "api".into(),
        expires_at: expires_in.map(|d| Utc::now() + d),
    }
}

async fn reports_move_through_their_statuses(db: &TestDb) {
    let store = db.open().await;
    let created = store
        .create_report(WS, &report("November", ReportFormat::Html, None))
        .await
        .unwrap();
    assert_eq!(created.status, ReportStatus::Pending);
    assert_eq!(created.from_date, day("2026-11-01"));
    assert_eq!(created.filters, json!({"suites": ["shop"]}));
    assert_eq!(created.file_name, None);

    let started = store.start_report(WS, &created.id).await.unwrap();
    assert_eq!(started.status, ReportStatus::Generating);
    let done = store
        .complete_report(WS, &created.id, "abc.html", 1234)
        .await
        .unwrap();
    assert_eq!(done.status, ReportStatus::Completed);
    assert_eq!(done.file_name.as_deref(), Some("abc.html"));
    assert_eq!(done.file_size, Some(1234));
    assert!(done.generated_at.is_some());

    let other = store
        .create_report(WS, &report("broken", ReportFormat::Json, None))
        .await
        .unwrap();
    let failed = store
        .fail_report(WS, &other.id, "the store went away")
        .await
        .unwrap();
    assert_eq!(failed.status, ReportStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("the store went away"));

    // Reports left unfinished before a moment (their server stopped) are marked failed; the
    // finished ones and those asked for later are left alone.
    let stuck = store
        .create_report(WS, &report("stuck", ReportFormat::Html, None))
        .await
        .unwrap();
    store.start_report(WS, &stuck.id).await.unwrap();
    assert_eq!(
        store
            .fail_unfinished_reports(Utc::now() - Duration::hours(1), "abandoned")
            .await
            .unwrap(),
        0,
        "too recent"
    );
    assert_eq!(
        store
            .fail_unfinished_reports(Utc::now() + Duration::seconds(1), "abandoned")
            .await
            .unwrap(),
        1
    );
    let stuck = store.get_report(WS, &stuck.id).await.unwrap();
    assert_eq!(
        (stuck.status, stuck.error.as_deref()),
        (ReportStatus::Failed, Some("abandoned"))
    );
    assert_eq!(
        store.get_report(WS, &created.id).await.unwrap().status,
        ReportStatus::Completed
    );

    assert!(matches!(
        store.start_report("another-workspace", &created.id).await,
        Err(Error::NotFound { .. })
    ));
    let deleted = store.delete_report(WS, &created.id).await.unwrap();
    assert_eq!(deleted.file_name.as_deref(), Some("abc.html"));
    assert!(matches!(
        store.get_report(WS, &created.id).await,
        Err(Error::NotFound { .. })
    ));
}

async fn reports_are_listed_filtered_and_expire(db: &TestDb) {
    let store = db.open().await;
    let old = store
        .create_report(
            WS,
            &report("old", ReportFormat::Junit, Some(-Duration::hours(1))),
        )
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    let fresh = store
        .create_report(
            WS,
            &report("fresh", ReportFormat::Html, Some(Duration::days(7))),
        )
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    store
        .create_report(WS, &report("kept", ReportFormat::Html, None))
        .await
        .unwrap();

    let all = store
        .list_reports(WS, &ReportFilter::default())
        .await
        .unwrap();
    assert_eq!(all.total, 3);
    let names: Vec<&str> = all.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["kept", "fresh", "old"], "newest first");
    let html = store
        .list_reports(
            WS,
            &ReportFilter {
                format: Some(ReportFormat::Html),
                limit: Some(1),
                ..ReportFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((html.total, html.items.len()), (2, 1));
    assert_eq!(html.items[0].name, "kept");
    let pending = store
        .list_reports(
            WS,
            &ReportFilter {
                status: Some(ReportStatus::Completed),
                ..ReportFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(pending.total, 0);

    let expired = store.expired_reports(Utc::now(), 100).await.unwrap();
    assert_eq!(
        expired.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [old.id.as_str()]
    );
    let later = store
        .expired_reports(Utc::now() + Duration::days(8), 100)
        .await
        .unwrap();
    assert_eq!(later.len(), 2);
    assert_eq!(later[1].id, fresh.id, "oldest expiry first");
}

async fn bad_reports_are_refused(db: &TestDb) {
    let store = db.open().await;
    let mut backwards = report("backwards", ReportFormat::Html, None);
    backwards.from = day("2026-11-22");
    let err = store.create_report(WS, &backwards).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("must not end (2026-11-21) before it starts (2026-11-22)"),
        "{err}"
    );
    let err = store
        .create_report(WS, &report("  ", ReportFormat::Html, None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs a name"), "{err}");
    assert_eq!(
        store
            .list_reports(WS, &ReportFilter::default())
            .await
            .unwrap()
            .total,
        0,
        "nothing half-written"
    );
}
