//! `database_query` and `db_poll` through the real executor, on SQLite (always), PostgreSQL and
//! MariaDB (from `TESTMESH_TEST_POSTGRES_URL` / `TESTMESH_TEST_MYSQL_URL`, started by
//! scripts/services.sh). Without a server URL those tests fail under `CI` and skip locally.
//! Every test works in a database of its own, so runs never collide.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use testmesh_runner::executor::{FlowLibrary, RunOptions, Runner};
use testmesh_runner::{ErrorKind, FlowRecord, FlowStatus, NoEvents, Secrets, StepRecord};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    MariaDb,
}

/// A database of one test.
struct Db {
    kind: Kind,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        Db {
            kind: Kind::Sqlite,
            url: format!("sqlite://{}", dir.path().join("test.db").display()),
            _dir: Some(dir),
        }
    }

    /// A fresh database on the server named by the environment, or `None` (after saying why)
    /// when there is none and `CI` is not set.
    async fn server(kind: Kind) -> Option<Db> {
        let var = match kind {
            Kind::Postgres => "TESTMESH_TEST_POSTGRES_URL",
            _ => "TESTMESH_TEST_MYSQL_URL",
        };
        let Ok(base) = std::env::var(var) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{var} is not set and CI is: run the tests through scripts/test.sh, which starts the server"
            );
            eprintln!("skipping: {var} is not set (scripts/test.sh starts a throwaway server)");
            return None;
        };
        let name = format!(
            "tm_{}_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let record = run(&format!(
            "name: create db\nsteps:\n  - id: create\n    action: database_query\n    config:\n      connection: \"{base}\"\n      query: CREATE DATABASE {name}\n"
        ))
        .await;
        assert_passed(&record);
        let (prefix, _) = base.rsplit_once('/').expect("URL with a database");
        Some(Db {
            kind,
            url: format!("{prefix}/{name}"),
            _dir: None,
        })
    }

    /// Runs a flow with `%URL%` replaced by this database's URL.
    async fn run(&self, yaml: &str) -> FlowRecord {
        run(&yaml.replace("%URL%", &self.url)).await
    }

    /// Runs one statement and expects it to pass.
    async fn exec(&self, query: &str) {
        let record = self
            .run(&format!(
                "name: exec\nsteps:\n  - id: q\n    action: database_query\n    config:\n      connection: \"%URL%\"\n      query: \"{}\"\n",
                query.replace('"', "\\\"")
            ))
            .await;
        assert_passed(&record);
    }
}

async fn run(yaml: &str) -> FlowRecord {
    let loaded = testmesh_flow::load_str(yaml);
    assert!(loaded.is_ok(), "{yaml}\n{:#?}", loaded.diagnostics);
    let flow = loaded.flow.expect("flow");
    let runner = Runner::new(
        testmesh_runner::actions::builtin(),
        Arc::new(NoEvents),
        Secrets::default(),
        FlowLibrary::default(),
    );
    runner.run(&flow, None, &RunOptions::default()).await
}

fn pretty(record: &FlowRecord) -> String {
    serde_json::to_string_pretty(record).unwrap_or_default()
}

fn assert_passed(record: &FlowRecord) {
    assert_eq!(record.status, FlowStatus::Passed, "{}", pretty(record));
}

fn step<'a>(record: &'a FlowRecord, id: &str) -> &'a StepRecord {
    record
        .all_steps()
        .into_iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id} in {}", pretty(record)))
}

fn result<'a>(record: &'a FlowRecord, id: &str) -> &'a Value {
    step(record, id).result.as_ref().expect("result")
}

fn failure(record: &FlowRecord, id: &str) -> (ErrorKind, String) {
    let error = step(record, id)
        .error
        .clone()
        .unwrap_or_else(|| panic!("step {id} did not fail: {}", pretty(record)));
    (error.kind, error.message)
}

/// The `items` table used by most cases: id, name, qty.
async fn items(db: &Db) {
    db.exec("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50), qty INT)")
        .await;
}

async fn crud(db: &Db) {
    items(db).await;
    let record = db
        .run(
            r#"
name: crud
steps:
  - id: insert
    action: database_query
    config:
      connection: "%URL%"
      query: INSERT INTO items (id, name, qty) VALUES ($1, $2, $3), ($4, $5, $6)
      params: [1, apple, 3, 2, pear, 5]
    assert: [rows_affected == 2, query_type == "INSERT"]
  - id: count
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT COUNT(*) AS total FROM items
    assert: [row_count == 1, first_row.total == 2]
  - id: update
    action: database_query
    config:
      connection: "%URL%"
      query: UPDATE items SET qty = qty + 1 WHERE id = $1
      params: [1]
    assert: [rows_affected == 1, query_type == "UPDATE"]
  - id: delete
    action: database_query
    config:
      connection: "%URL%"
      query: DELETE FROM items WHERE name = $1
      params: [pear]
    assert: [rows_affected == 1, query_type == "DELETE"]
  - id: read
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT id, name, qty FROM items ORDER BY id
    assert: [row_count == 1, first_row.qty == 4]
    output:
      kept_id: first_row.id
  - id: use_output
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT name FROM items WHERE id = $1
      params: ["${kept_id}"]
    assert: [first_row.name == "apple"]
"#,
        )
        .await;
    assert_passed(&record);
    assert_eq!(step(&record, "read").outputs["kept_id"], json!(1));
    let read = result(&record, "read");
    assert_eq!(read["query_type"], "SELECT");
    assert_eq!(read["rows"], json!([{"id": 1, "name": "apple", "qty": 4}]));
    assert_eq!(result(&record, "count")["first_row"]["total"], json!(2));
    // The record keeps the request without secrets and the response.
    let request = step(&record, "update").request.clone().expect("request");
    assert_eq!(request["params"], json!([1]));
    assert!(
        request["query"]
            .as_str()
            .unwrap_or("")
            .starts_with("UPDATE")
    );
    assert!(
        !request["connection"]
            .as_str()
            .unwrap_or("")
            .contains(":testmesh@")
    );
    assert_eq!(
        step(&record, "read").response.as_ref().expect("response")["row_count"],
        json!(1)
    );
}

async fn placeholders(db: &Db) {
    items(db).await;
    let record = db
        .run(
            r#"
name: placeholders
steps:
  - id: question_marks
    action: database_query
    config:
      connection: "%URL%"
      query: "INSERT INTO items (id, name, qty) VALUES (?, ?, ?) -- not a placeholder: ?"
      params: [1, "it's ?", 2]
  - id: dollars_reordered
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT name FROM items WHERE qty = $2 AND id = $1 AND name <> '$1'
      params: [1, 2]
    assert: [row_count == 1, first_row.name == "it's ?"]
  - id: repeated
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT id FROM items WHERE id = $1 OR qty = $1
      params: [1]
    assert: [row_count == 1]
"#,
        )
        .await;
    assert_passed(&record);
}

async fn named_params(db: &Db) {
    items(db).await;
    let record = db
        .run(
            r#"
name: named
steps:
  - id: insert
    action: database_query
    config:
      connection: "%URL%"
      query: INSERT INTO items (id, name, qty) VALUES (:id, :name, :qty)
      named_params: {id: 7, name: ":kiwi", qty: 1}
  - id: read
    action: database_query
    config:
      connection: "%URL%"
      query: "SELECT name, ':id' AS literal FROM items WHERE id = :id AND (qty = :qty OR id = :id)"
      named_params: {id: 7, qty: 1}
    assert: [first_row.name == ":kiwi", first_row.literal == ":id"]
  - id: map_as_params
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT 1 AS x
      params: {id: 7}
"#,
        )
        .await;
    assert_eq!(
        step(&record, "insert").status,
        testmesh_runner::StepStatus::Passed
    );
    assert_eq!(
        step(&record, "read").status,
        testmesh_runner::StepStatus::Passed,
        "{}",
        pretty(&record)
    );
    let (kind, message) = failure(&record, "map_as_params");
    assert_eq!(kind, ErrorKind::Config);
    assert!(message.contains("named_params"), "{message}");
}

async fn value_types(db: &Db) {
    let (create, insert, params, expected) = match db.kind {
        Kind::Postgres => (
            "CREATE TABLE types (c_int INT, c_big BIGINT, c_float DOUBLE PRECISION, c_real REAL, c_num NUMERIC(10,2), c_text TEXT, c_varchar VARCHAR(10), c_bool BOOLEAN, c_bytes BYTEA, c_ts TIMESTAMP, c_tstz TIMESTAMPTZ, c_date DATE, c_time TIME, c_uuid UUID, c_json JSON, c_jsonb JSONB, c_null TEXT, c_arr INT[], c_interval INTERVAL)",
            "INSERT INTO types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, ARRAY[1, NULL, 3], INTERVAL '1 day 2 hours')",
            r#"[1, 9007199254740993, 1.5, 0.1, "12.50", hello, v, true, hi, "2024-01-02T03:04:05", "2024-01-02T05:04:05+02:00", "2024-01-02", "03:04:05.25", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", {a: 1}, {b: [1, 2]}, null]"#,
            json!({
                "c_int": 1, "c_big": 9007199254740993i64, "c_float": 1.5, "c_real": 0.1,
                "c_num": "12.50", "c_text": "hello", "c_varchar": "v", "c_bool": true,
                "c_bytes": "aGk=", "c_ts": "2024-01-02T03:04:05", "c_tstz": "2024-01-02T03:04:05Z",
                "c_date": "2024-01-02", "c_time": "03:04:05.250",
                "c_uuid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "c_json": {"a": 1},
                "c_jsonb": {"b": [1, 2]}, "c_null": null, "c_arr": [1, null, 3],
                "c_interval": "P1DT2H"
            }),
        ),
        Kind::MariaDb => (
            "CREATE TABLE types (c_int INT, c_big BIGINT, c_float DOUBLE, c_real FLOAT, c_num DECIMAL(10,2), c_text TEXT, c_varchar VARCHAR(10), c_bool BOOLEAN, c_bytes VARBINARY(10), c_ts DATETIME(3), c_tstz TIMESTAMP, c_date DATE, c_time TIME, c_uuid UUID, c_json JSON, c_null TEXT, c_unsigned INT UNSIGNED)",
            "INSERT INTO types VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            r#"[1, 9007199254740993, 1.5, 0.1, "12.50", hello, v, true, hi, "2024-01-02 03:04:05.250", "2024-01-02 03:04:05", "2024-01-02", "-01:02:03", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", {a: 1}, null, 4000000000]"#,
            json!({
                "c_int": 1, "c_big": 9007199254740993i64, "c_float": 1.5, "c_real": 0.1,
                "c_num": "12.50", "c_text": "hello", "c_varchar": "v", "c_bool": 1,
                "c_bytes": "aGk=", "c_ts": "2024-01-02T03:04:05.250", "c_tstz": "2024-01-02T03:04:05Z",
                "c_date": "2024-01-02", "c_time": "-01:02:03",
                "c_uuid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "c_json": "{\"a\":1}",
                "c_null": null, "c_unsigned": 4000000000u64
            }),
        ),
        Kind::Sqlite => (
            "CREATE TABLE types (c_int INTEGER, c_big INTEGER, c_float REAL, c_num NUMERIC, c_text TEXT, c_bool BOOLEAN, c_bytes BLOB, c_ts DATETIME, c_json TEXT, c_null TEXT)",
            "INSERT INTO types VALUES (?, ?, ?, ?, ?, ?, X'6869', ?, ?, ?)",
            r#"[1, 9007199254740993, 1.5, "12.50", hello, true, "2024-01-02 03:04:05", {a: 1}, null]"#,
            json!({
                "c_int": 1, "c_big": 9007199254740993i64, "c_float": 1.5, "c_num": 12.5,
                "c_text": "hello", "c_bool": true, "c_bytes": "aGk=",
                "c_ts": "2024-01-02 03:04:05", "c_json": "{\"a\":1}", "c_null": null
            }),
        ),
    };
    db.exec(create).await;
    let record = db
        .run(&format!(
            r#"
name: types
steps:
  - id: insert
    action: database_query
    config:
      connection: "%URL%"
      query: "{insert}"
      params: {params}
    assert: [rows_affected == 1]
  - id: read
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT * FROM types
"#
        ))
        .await;
    assert_passed(&record);
    assert_eq!(result(&record, "read")["first_row"], expected);
}

async fn first_row_presence(db: &Db) {
    items(db).await;
    let record = db
        .run(
            r#"
name: first row
steps:
  - id: empty
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT id FROM items
    assert: [row_count == 0]
  - id: seed
    action: database_query
    config:
      connection: "%URL%"
      query: INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)
  - id: one
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT id FROM items
"#,
        )
        .await;
    assert_passed(&record);
    assert!(result(&record, "empty").get("first_row").is_none());
    assert_eq!(result(&record, "empty")["rows"], json!([]));
    assert_eq!(result(&record, "one")["first_row"], json!({"id": 1}));
}

async fn with_select(db: &Db) {
    items(db).await;
    db.exec("INSERT INTO items (id, name, qty) VALUES (1, 'a', 2), (2, 'b', 3)")
        .await;
    let record = db
        .run(
            r#"
name: cte
steps:
  - id: cte
    action: database_query
    config:
      connection: "%URL%"
      query: |
        -- totals per run
        WITH totals AS (SELECT SUM(qty) AS s FROM items WHERE id >= ?)
        SELECT s FROM totals
      params: [1]
    assert: [query_type == "SELECT", row_count == 1]
"#,
        )
        .await;
    assert_passed(&record);
    let s = &result(&record, "cte")["first_row"]["s"];
    // SUM over INT: BIGINT on PostgreSQL, DECIMAL (text, like NUMERIC) on MariaDB.
    let expected = match db.kind {
        Kind::MariaDb => json!("5"),
        _ => json!(5),
    };
    assert_eq!(*s, expected);
}

/// PostgreSQL and SQLite; MariaDB's `INSERT … RETURNING` rows do not come back through prepared
/// statements (docs/database.md).
async fn returning(db: &Db) {
    if db.kind == Kind::MariaDb {
        return;
    }
    items(db).await;
    let record = db
        .run(
            r#"
name: returning
steps:
  - id: insert
    action: database_query
    config:
      connection: "%URL%"
      query: INSERT INTO items (id, name, qty) VALUES ($1, $2, 1) RETURNING id, name
      params: [42, answer]
    assert: [rows_affected == 1, row_count == 1, first_row.id == 42]
    output:
      new_id: first_row.id
  - id: none
    action: database_query
    config:
      connection: "%URL%"
      query: DELETE FROM items WHERE id = -1 RETURNING id
"#,
        )
        .await;
    assert_passed(&record);
    let insert = result(&record, "insert");
    assert_eq!(insert["query_type"], "INSERT");
    assert_eq!(insert["first_row"], json!({"id": 42, "name": "answer"}));
    assert_eq!(step(&record, "insert").outputs["new_id"], json!(42));
    let none = result(&record, "none");
    assert_eq!(none["row_count"], json!(0));
    assert_eq!(none["rows_affected"], json!(0));
}

async fn transactions(db: &Db) {
    items(db).await;
    let record = db
        .run(
            r#"
name: transactions
steps:
  - id: committed
    action: database_query
    config:
      connection: "%URL%"
      query: INSERT INTO items (id, name, qty) VALUES (1, 'kept', 1)
      transaction: commit
  - id: rolled_back
    action: database_query
    config:
      connection: "%URL%"
      query: INSERT INTO items (id, name, qty) VALUES (2, 'gone', 1)
      transaction: rollback
    assert: [rows_affected == 1]
  - id: also_committed
    action: database_query
    config:
      connection: "%URL%"
      query: UPDATE items SET qty = 9 WHERE id = 1
      transaction: true
  - id: check
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT id, qty FROM items ORDER BY id
    assert: [row_count == 1, first_row.id == 1, first_row.qty == 9]
"#,
        )
        .await;
    assert_passed(&record);
}

async fn poll_conditions(db: &Db) {
    items(db).await;
    db.exec("INSERT INTO items (id, name, qty) VALUES (1, 'done', 5), (2, 'x', NULL)")
        .await;
    let record = db
        .run(
            r#"
name: poll
steps:
  - id: exists
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT id FROM items WHERE id = $1
      params: [1]
      condition: {type: row_exists}
    assert: [success == true, attempts == 1, row_count == 1, first_row.id == 1]
  - id: count
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT id FROM items
      condition: {type: row_count, min_count: 2}
  - id: equals
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT name, qty FROM items WHERE id = 1
      condition: {type: value_equals, column: qty, value: "5"}
  - id: not_null
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT qty FROM items WHERE id = 1
      condition: {type: value_not_null, column: qty}
  - id: default_condition
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT qty FROM items
"#,
        )
        .await;
    assert_passed(&record);
    assert_eq!(result(&record, "count")["row_count"], json!(2));
    assert!(result(&record, "equals")["duration_ms"].is_u64());
}

async fn poll_until_row_appears(db: &Db) {
    items(db).await;
    let url = db.url.clone();
    let inserter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        run(&format!(
            "name: later\nsteps:\n  - id: insert\n    action: database_query\n    config:\n      connection: \"{url}\"\n      query: INSERT INTO items (id, name, qty) VALUES (5, 'late', 1)\n"
        ))
        .await
    });
    let record = db
        .run(
            r#"
name: poll later
steps:
  - id: wait
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT name FROM items WHERE id = ?
      params: [5]
      interval: 100ms
      timeout: 20s
      condition: {type: value_equals, column: name, value: late}
    assert: [first_row.name == "late"]
"#,
        )
        .await;
    assert_passed(&record);
    assert_passed(&inserter.await.expect("inserter"));
    let attempts = result(&record, "wait")["attempts"].as_u64().unwrap_or(0);
    assert!(attempts > 1, "the row was there before polling: {attempts}");
}

async fn poll_timeout(db: &Db) {
    items(db).await;
    let record = db
        .run(
            r#"
name: poll timeout
steps:
  - id: never
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT qty FROM items
      interval: 100ms
      timeout: 500ms
      condition: {type: row_count, min_count: 3}
  - id: capped
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT qty FROM items
      interval: 10ms
      max_attempts: 3
"#,
        )
        .await;
    assert_eq!(record.status, FlowStatus::Failed);
    let (kind, message) = failure(&record, "never");
    assert_eq!(kind, ErrorKind::Timeout);
    assert!(message.contains("at least 3 rows not met"), "{message}");
    assert!(message.contains("no rows"), "{message}");
    // `capped` never ran: the flow stopped at the first failure. Run it on its own.
    let record = db
        .run(
            r#"
name: poll attempts
steps:
  - id: capped
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT qty FROM items
      interval: 10ms
      max_attempts: 3
"#,
        )
        .await;
    let (kind, message) = failure(&record, "capped");
    assert_eq!(kind, ErrorKind::Timeout);
    assert!(message.contains("after 3 attempt(s)"), "{message}");
}

async fn sql_error(db: &Db) {
    let record = db
        .run(
            r#"
name: sql error
steps:
  - id: bad
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT * FROM nope_missing_table
  - id: poll_bad
    action: db_poll
    config:
      connection: "%URL%"
      query: SELECT * FROM nope_missing_table
    on_error: continue
"#,
        )
        .await;
    assert_eq!(record.status, FlowStatus::Failed);
    let (kind, message) = failure(&record, "bad");
    assert_eq!(kind, ErrorKind::Action);
    assert!(message.starts_with("SQL error: "), "{message}");
    assert!(message.contains("nope_missing_table"), "{message}");
    if db.kind == Kind::Postgres {
        assert_eq!(
            message,
            "SQL error: relation \"nope_missing_table\" does not exist (42P01)"
        );
    }
}

async fn assertion_failure(db: &Db) {
    let record = db
        .run(
            r#"
name: assertion
steps:
  - id: q
    action: database_query
    config:
      connection: "%URL%"
      query: SELECT 1 AS one
    assert: [first_row.one == 2]
"#,
        )
        .await;
    let (kind, _) = failure(&record, "q");
    assert_eq!(kind, ErrorKind::Assertion);
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&super::Db::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(db) = super::Db::server(super::Kind::Postgres).await {
                        super::$case(&db).await;
                    }
                }
            )*
        }
        mod mariadb {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(db) = super::Db::server(super::Kind::MariaDb).await {
                        super::$case(&db).await;
                    }
                }
            )*
        }
    };
}

on_every_backend!(
    crud,
    placeholders,
    named_params,
    value_types,
    first_row_presence,
    with_select,
    returning,
    transactions,
    poll_conditions,
    poll_until_row_appears,
    poll_timeout,
    sql_error,
    assertion_failure,
);

/// Connection failures need no server: nothing listens on port 1.
#[tokio::test]
async fn unreachable_servers_are_connection_errors() {
    for (url, shown) in [
        (
            "postgres://user:secret@127.0.0.1:1/db",
            "cannot connect to postgres://user@127.0.0.1:1/db: connection refused",
        ),
        (
            "mysql://user:secret@127.0.0.1:1/db",
            "cannot connect to mysql://user@127.0.0.1:1/db: connection refused",
        ),
    ] {
        let record = run(&format!(
            "name: down\nsteps:\n  - id: q\n    action: database_query\n    config:\n      connection: \"{url}\"\n      query: SELECT 1\n"
        ))
        .await;
        let (kind, message) = failure(&record, "q");
        assert_eq!(kind, ErrorKind::Connection, "{message}");
        assert_eq!(message, shown);
        assert!(!pretty(&record).contains("secret"));
    }
    let record = run(
        "name: down\nsteps:\n  - id: q\n    action: database_query\n    config:\n      connection: sqlite:///nonexistent-dir/x/y.db\n      query: SELECT 1\n",
    )
    .await;
    let (kind, message) = failure(&record, "q");
    assert_eq!(kind, ErrorKind::Connection, "{message}");
    assert!(
        message.starts_with("cannot connect to sqlite:///nonexistent-dir/x/y.db: "),
        "{message}"
    );
}

#[tokio::test]
async fn bad_connection_strings_are_config_errors() {
    for connection in [
        "postgres://u@h:notaport/db",
        "oracle://h/db",
        "host=localhost nonsense=1",
    ] {
        let record = run(&format!(
            "name: bad\nsteps:\n  - id: q\n    action: database_query\n    config:\n      connection: \"{connection}\"\n      query: SELECT 1\n"
        ))
        .await;
        let (kind, message) = failure(&record, "q");
        assert_eq!(kind, ErrorKind::Config, "{connection}: {message}");
    }
}

/// The object form and relative SQLite paths (against the flow's directory).
#[tokio::test]
async fn object_form_and_relative_sqlite_paths() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flow_path = dir.path().join("flow.yaml");
    let yaml = r#"
name: object form
steps:
  - id: create
    action: database_query
    config:
      connection: {type: sqlite, database: data.db, pool_size: 2, timeout: 5s}
      query: CREATE TABLE t (a INTEGER)
  - id: insert
    action: database_query
    config:
      connection: sqlite:data.db
      query: INSERT INTO t VALUES (?)
      params: [3]
  - id: read
    action: database_query
    config:
      connection: "sqlite://data.db"
      query: SELECT a FROM t
    assert: [first_row.a == 3]
  - id: memory_create
    action: database_query
    config:
      connection: "sqlite::memory:"
      query: CREATE TABLE m (a INTEGER); INSERT INTO m VALUES (1)
  - id: memory_read
    action: database_query
    config:
      connection: "sqlite::memory:"
      query: SELECT a FROM m
    assert: [row_count == 1]
"#;
    let loaded = testmesh_flow::load_str(yaml);
    let flow = loaded.flow.expect("flow");
    let runner = Runner::new(
        testmesh_runner::actions::builtin(),
        Arc::new(NoEvents),
        Secrets::default(),
        FlowLibrary::default(),
    );
    let record = runner
        .run(&flow, Some(&flow_path), &RunOptions::default())
        .await;
    assert_passed(&record);
    assert!(dir.path().join("data.db").exists());
    let request = step(&record, "create").request.clone().expect("request");
    assert_eq!(
        request["connection"],
        json!(format!("sqlite://{}", dir.path().join("data.db").display()))
    );
}
