//! `database_query` and `db_poll` against PostgreSQL, MySQL/MariaDB and SQLite.
//!
//! A step's statement goes through one path on every backend: placeholders are translated to the
//! backend's style (`sql.rs`), the statement is prepared (so PostgreSQL reports the parameter types
//! it inferred and every backend tells whether rows come back), values are bound, and rows are read
//! into JSON (`pg.rs`, `rows.rs`). Pools are shared across steps and flows (`connect.rs`).

mod connect;
mod pg;
mod poll;
mod rows;
mod sql;

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use serde_json::{Map, Value, json};
use sqlx::{
    AssertSqlSafe, Database, Either, Executor, MySql, Pool, Postgres, SqlSafeStr, Sqlite, Statement,
};
use testmesh_flow::Action;
use testmesh_flow::model::actions::Connection;

pub use connect::Pools;
use connect::{DbPool, Target, connect_error, database_message};
use sql::{Dialect, Params, Prepared, StatementClass};

use crate::handler::{ActionCx, ActionFuture, Exchange, Handler, Outcome};
use crate::record::{ErrorKind, StepError};

/// Rows kept in the step record's `response` (the result itself keeps them all).
const RECORDED_ROWS: usize = 1000;

/// `database_query`: one statement, optionally in a transaction.
pub struct DatabaseQuery(Arc<Pools>);

impl DatabaseQuery {
    /// A handler using (and filling) `pools`.
    pub fn new(pools: Arc<Pools>) -> Self {
        DatabaseQuery(pools)
    }
}

/// `db_poll`: a query repeated until its rows satisfy a condition.
pub struct DbPoll(Arc<Pools>);

impl DbPoll {
    /// A handler using (and filling) `pools`.
    pub fn new(pools: Arc<Pools>) -> Self {
        DbPoll(pools)
    }
}

impl Handler for DatabaseQuery {
    fn run<'a>(&'a self, action: &'a Action, cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::DatabaseQuery(config) = action else {
                return Err(StepError::config(
                    "database_query handler got another action",
                ));
            };
            let params = params_of(config.params.as_ref(), config.named_params.as_ref())?;
            let transaction = transaction_of(config.transaction.as_ref())?;
            let request = Request::new(&config.connection, cx, &config.query, params)?;
            let run = request.run(&self.0, transaction);
            let result = match config.timeout.as_ref().and_then(|t| t.literal()) {
                Some(limit) => tokio::time::timeout(*limit, run)
                    .await
                    .map_err(|_| timed_out(*limit))?,
                None => run.await,
            }?;
            Ok(request.outcome(result.to_json()))
        })
    }
}

impl Handler for DbPoll {
    fn run<'a>(&'a self, action: &'a Action, cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::DbPoll(config) = action else {
                return Err(StepError::config("db_poll handler got another action"));
            };
            let params = params_of(config.params.as_ref(), None)?;
            let request = Request::new(&config.connection, cx, &config.query, params)?;
            let result = poll::run(&self.0, &request, config).await?;
            Ok(request.outcome(result))
        })
    }
}

fn timed_out(limit: Duration) -> StepError {
    StepError::new(
        ErrorKind::Timeout,
        format!(
            "query timed out after {}",
            testmesh_flow::duration::format_duration(limit)
        ),
    )
}

/// What a step gave as parameters.
enum StepParams {
    Positional(Vec<Value>),
    Named(indexmap::IndexMap<String, Value>),
}

impl StepParams {
    fn as_params(&self) -> Params<'_> {
        match self {
            StepParams::Positional(values) => Params::Positional(values),
            StepParams::Named(map) => Params::Named(map),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            StepParams::Positional(values) => Value::Array(values.clone()),
            StepParams::Named(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
        }
    }
}

fn params_of(
    params: Option<&Value>,
    named: Option<&indexmap::IndexMap<String, Value>>,
) -> Result<StepParams, StepError> {
    let positional = match params {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values.clone(),
        Some(Value::Object(_)) => {
            return Err(StepError::config(
                "`params` must be a list bound in order ($1, $2, … or ?); for :name placeholders use `named_params`",
            ));
        }
        Some(other) => {
            return Err(StepError::config(format!(
                "`params` must be a list, got {other}"
            )));
        }
    };
    match named {
        Some(map) if !map.is_empty() => {
            if !positional.is_empty() {
                return Err(StepError::config(
                    "give either `params` or `named_params`, not both",
                ));
            }
            Ok(StepParams::Named(map.clone()))
        }
        _ => Ok(StepParams::Positional(positional)),
    }
}

/// How a statement relates to a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transaction {
    /// Autocommit.
    None,
    /// Run in a transaction and commit it.
    Commit,
    /// Run in a transaction and roll it back (nothing stays behind).
    Rollback,
}

fn transaction_of(value: Option<&Value>) -> Result<Transaction, StepError> {
    Ok(match value {
        None | Some(Value::Null | Value::Bool(false)) => Transaction::None,
        Some(Value::Bool(true)) => Transaction::Commit,
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "commit" => Transaction::Commit,
            "rollback" => Transaction::Rollback,
            "false" | "none" => Transaction::None,
            _ => {
                return Err(StepError::config(format!(
                    "`transaction` must be true, commit or rollback, got `{s}`"
                )));
            }
        },
        Some(other) => {
            return Err(StepError::config(format!(
                "`transaction` must be true, commit or rollback, got {other}"
            )));
        }
    })
}

/// One statement ready to run: where, what and with which values.
pub(crate) struct Request {
    target: Target,
    query: String,
    params: StepParams,
    class: StatementClass,
}

/// What a statement produced.
pub(crate) struct Executed {
    class: StatementClass,
    /// Rows, when the statement returns any (SELECT, RETURNING).
    rows: Option<Vec<Map<String, Value>>>,
    rows_affected: u64,
}

impl Executed {
    /// Rows returned (none for statements that return no rows).
    pub(crate) fn rows(&self) -> &[Map<String, Value>] {
        self.rows.as_deref().unwrap_or_default()
    }

    /// The step result: `{rows, row_count, query_type, first_row?}` for reads,
    /// `{rows_affected, query_type}` (plus the row keys when rows came back) for writes.
    fn to_json(&self) -> Value {
        let mut out = Map::new();
        if self.class != StatementClass::Select {
            out.insert("rows_affected".into(), json!(self.rows_affected));
        }
        if let Some(rows) = &self.rows {
            insert_rows(&mut out, rows);
        }
        out.insert("query_type".into(), json!(self.class.name()));
        if let Some(first) = self.rows.as_ref().and_then(|r| r.first()) {
            out.insert("first_row".into(), Value::Object(first.clone()));
        }
        Value::Object(out)
    }
}

/// `rows` and `row_count`.
fn insert_rows(out: &mut Map<String, Value>, rows: &[Map<String, Value>]) {
    out.insert(
        "rows".into(),
        Value::Array(rows.iter().cloned().map(Value::Object).collect()),
    );
    out.insert("row_count".into(), json!(rows.len()));
}

impl Request {
    fn new(
        connection: &Connection,
        cx: &ActionCx,
        query: &str,
        params: StepParams,
    ) -> Result<Request, StepError> {
        Ok(Request {
            target: Target::resolve(connection, &cx.flow_dir)?,
            class: sql::statement_class(query),
            query: query.to_string(),
            params,
        })
    }

    /// The outcome of a step with this request and `result`; the response record keeps the first
    /// rows only.
    fn outcome(&self, result: Value) -> Outcome {
        let request = json!({
            "connection": self.target.display,
            "query": self.query,
            "params": self.params.to_json(),
        });
        let records = move |result: &Value| {
            let mut response = result.clone();
            if let Some(Value::Array(rows)) = response.get_mut("rows") {
                rows.truncate(RECORDED_ROWS);
            }
            Exchange { request, response }
        };
        Outcome {
            result,
            exchange: Some(Box::new(records)),
        }
    }

    /// Runs the statement once.
    async fn run(&self, pools: &Pools, transaction: Transaction) -> Result<Executed, StepError> {
        let pool = pools.get(&self.target).await?;
        let result = match &pool {
            DbPool::Postgres(p) => self.run_on::<Postgres>(p, transaction).await,
            DbPool::MySql(p) => self.run_on::<MySql>(p, transaction).await,
            DbPool::Sqlite(p) => self.run_on::<Sqlite>(p, transaction).await,
        };
        result.map_err(|failure| failure.into_step_error(&self.target.display))
    }

    async fn run_on<DB: Backend>(
        &self,
        pool: &Pool<DB>,
        transaction: Transaction,
    ) -> Result<Executed, Failure>
    where
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        DB::Arguments: sqlx::IntoArguments<DB>,
    {
        let prepared = sql::prepare(&self.query, DB::DIALECT, self.params.as_params())
            .map_err(Failure::Config)?;
        if transaction == Transaction::None {
            let mut conn = pool.acquire().await.map_err(Failure::Connect)?;
            return execute::<DB>(&mut conn, &prepared, self.class).await;
        }
        let mut tx = pool.begin().await.map_err(Failure::Connect)?;
        let executed = execute::<DB>(&mut tx, &prepared, self.class).await?;
        match transaction {
            Transaction::Rollback => tx.rollback().await,
            _ => tx.commit().await,
        }
        .map_err(Failure::Sql)?;
        Ok(executed)
    }
}

/// Why a statement failed, before the connection's display name is known.
enum Failure {
    Connect(sqlx::Error),
    Sql(sqlx::Error),
    Config(String),
    Data(String),
}

impl Failure {
    fn into_step_error(self, display: &str) -> StepError {
        match self {
            Failure::Connect(e) => connect_error(display, e),
            Failure::Sql(e) => match e {
                sqlx::Error::Database(db) => {
                    StepError::action(format!("SQL error: {}", database_message(db.as_ref())))
                }
                e @ (sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed) => connect_error(display, e),
                other => StepError::action(format!("SQL error: {other}")),
            },
            Failure::Config(message) => StepError::config(message),
            Failure::Data(message) => StepError::action(message),
        }
    }
}

/// What differs between backends once a connection is open.
trait Backend: Database {
    const DIALECT: Dialect;
    fn row_to_json(row: &Self::Row) -> Result<Map<String, Value>, String>;
    fn arguments(values: &[Value], statement: &Self::Statement) -> Result<Self::Arguments, String>;
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

impl Backend for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
    fn row_to_json(row: &Self::Row) -> Result<Map<String, Value>, String> {
        pg::row_to_json(row)
    }
    fn arguments(values: &[Value], statement: &Self::Statement) -> Result<Self::Arguments, String> {
        match statement.parameters() {
            Some(Either::Left(types)) => pg::arguments(values, types),
            _ => pg::arguments(values, &[]),
        }
    }
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

impl Backend for MySql {
    const DIALECT: Dialect = Dialect::MySql;
    fn row_to_json(row: &Self::Row) -> Result<Map<String, Value>, String> {
        rows::mysql_row_to_json(row)
    }
    fn arguments(values: &[Value], _: &Self::Statement) -> Result<Self::Arguments, String> {
        by_json_type::<MySql>(values)
    }
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

impl Backend for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
    fn row_to_json(row: &Self::Row) -> Result<Map<String, Value>, String> {
        rows::sqlite_row_to_json(row)
    }
    fn arguments(values: &[Value], _: &Self::Statement) -> Result<Self::Arguments, String> {
        by_json_type::<Sqlite>(values)
    }
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Binds by JSON type (MySQL and SQLite convert on their side): null, bool, integer, float, string;
/// objects and lists as JSON text.
fn by_json_type<DB: Database>(values: &[Value]) -> Result<DB::Arguments, String>
where
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use sqlx::Arguments as _;
    let mut args = DB::Arguments::default();
    for (index, value) in values.iter().enumerate() {
        let added = match value {
            Value::Null => args.add(None::<String>),
            Value::Bool(b) => args.add(*b),
            // Integers beyond i64 (u64) go as text, which both backends convert exactly.
            Value::Number(n) => match (n.as_i64(), n.is_f64(), n.as_f64()) {
                (Some(i), _, _) => args.add(i),
                (None, true, Some(f)) => args.add(f),
                _ => args.add(n.to_string()),
            },
            Value::String(s) => args.add(s.clone()),
            other => args.add(other.to_string()),
        };
        added.map_err(|e| format!("parameter {}: {e}", index + 1))?;
    }
    Ok(args)
}

/// Runs a prepared statement on one connection and reads everything it returns.
async fn execute<DB: Backend>(
    conn: &mut DB::Connection,
    prepared: &Prepared,
    class: StatementClass,
) -> Result<Executed, Failure>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let sql = AssertSqlSafe(prepared.sql.clone()).into_sql_str();
    // Scripts without parameters (DDL, several statements) run as plain SQL, as psql would.
    if prepared.values.is_empty() && class == StatementClass::Other {
        let result = conn
            .execute(sqlx::raw_sql(sql))
            .await
            .map_err(Failure::Sql)?;
        return Ok(Executed {
            class,
            rows: None,
            rows_affected: DB::rows_affected(&result),
        });
    }
    let statement = conn.prepare(sql.clone()).await.map_err(Failure::Sql)?;
    let returns_rows = !statement.columns().is_empty() || class == StatementClass::Select;
    let arguments = DB::arguments(&prepared.values, &statement).map_err(Failure::Config)?;
    let mut stream = conn.fetch_many(sqlx::query_with::<DB, _>(sql, arguments));
    let mut rows = Vec::new();
    let mut rows_affected = 0;
    while let Some(item) = stream.try_next().await.map_err(Failure::Sql)? {
        match item {
            Either::Left(result) => rows_affected += DB::rows_affected(&result),
            Either::Right(row) => rows.push(DB::row_to_json(&row).map_err(Failure::Data)?),
        }
    }
    Ok(Executed {
        class,
        rows: returns_rows.then_some(rows),
        rows_affected,
    })
}
