//! The connection: one `Any` pool over SQLite or PostgreSQL, and a small SQL builder that numbers
//! placeholders (`$1`, `$2`, …), which both backends accept.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Arguments, AssertSqlSafe, Encode, Executor, Row, Type};

use crate::error::{Error, Result};

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a URL names, or an error for anything else.
    pub fn of_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::UnsupportedUrl(redact_url(url)))
        }
    }
}

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 30_000;

/// The file a `sqlite:` URL points at (without query parameters), when it is a file.
pub(crate) fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Opens the pool: creates the SQLite file and its directory when missing and sets the pragmas every
/// connection needs (WAL, foreign keys, busy timeout; the page cache when `cache_kib` says).
pub(crate) async fn connect(
    url: &str,
    backend: Backend,
    max_connections: u32,
    cache_kib: Option<u32>,
) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let mut options = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(60));
    if backend == Backend::Sqlite && url.contains(":memory:") {
        // Every connection to `:memory:` is a database of its own: keep exactly one, for good.
        options = options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    match backend {
        Backend::Postgres => Ok(options.connect(url).await?),
        Backend::Sqlite => {
            if let Some(parent) = sqlite_path(url).as_deref().and_then(Path::parent)
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            let url = if url.contains("mode=") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            let pool = options
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        conn.execute(AssertSqlSafe(format!(
                            "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"
                        )))
                        .await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        if let Some(kib) = cache_kib {
                            // (A negative size is in KiB rather than pages.)
                            conn.execute(AssertSqlSafe(format!("PRAGMA cache_size = -{kib}")))
                                .await?;
                        }
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            // WAL is a property of the file: set once, every later connection sees it.
            sqlx::query("PRAGMA journal_mode = WAL")
                .fetch_optional(&pool)
                .await?;
            Ok(pool)
        }
    }
}

/// The URL with any password replaced, for error messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A statement under construction: text plus the values bound to its numbered placeholders.
/// Every value goes through [`Sql::bind`]; nothing from outside is formatted into the text.
pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    count: usize,
    /// Placeholders are `$1, $2, …` (both backends read them), or `?` for SQLite statements with
    /// many values: SQLite looks a numbered parameter's name up in a list, so binding N of them costs
    /// N² (5,000 recorded steps took seconds).
    numbered: bool,
    /// The first value that could not be encoded; reported when the statement runs.
    encode_error: Option<sqlx::error::BoxDynError>,
}

impl Sql {
    /// A statement starting with `text`.
    pub(crate) fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: AnyArguments::default(),
            count: 0,
            numbered: true,
            encode_error: None,
        }
    }

    /// A statement for `conn` that binds many values: on SQLite its placeholders are `?`, bound
    /// in order (only `push` and `bind` build it, so the order is the text's).
    pub(crate) fn many(text: &str, conn: &sqlx::AnyConnection) -> Sql {
        Sql {
            numbered: !conn.backend_name().eq_ignore_ascii_case("sqlite"),
            ..Sql::new(text)
        }
    }

    /// Appends SQL text (constant text only).
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind<'t, T>(&mut self, value: T) -> &mut Sql
    where
        T: Encode<'t, sqlx::Any> + Type<sqlx::Any>,
    {
        if let Err(e) = self.args.add(value) {
            self.encode_error.get_or_insert(e);
        }
        self.count += 1;
        if self.numbered {
            self.text.push('$');
            self.text.push_str(&self.count.to_string());
        } else {
            self.text.push('?');
        }
        self
    }

    /// The number of values bound so far.
    pub(crate) fn bound(&self) -> usize {
        self.count
    }

    fn build(self) -> Result<sqlx::query::Query<'static, sqlx::Any, AnyArguments>> {
        match self.encode_error {
            Some(e) => Err(Error::Database(sqlx::Error::Encode(e))),
            None => Ok(sqlx::query_with(AssertSqlSafe(self.text), self.args)),
        }
    }

    /// Runs the statement; returns the number of rows affected.
    pub(crate) async fn execute<'c, E>(self, executor: E) -> Result<u64>
    where
        E: Executor<'c, Database = sqlx::Any>,
    {
        Ok(self.build()?.execute(executor).await?.rows_affected())
    }

    /// Runs the statement and returns every row.
    pub(crate) async fn fetch_all<'c, E>(self, executor: E) -> Result<Vec<AnyRow>>
    where
        E: Executor<'c, Database = sqlx::Any>,
    {
        Ok(self.build()?.fetch_all(executor).await?)
    }

    /// Runs the statement and streams its rows as the database sends them: big scans stay in
    /// constant memory.
    pub(crate) fn fetch<'e, E>(self, executor: E) -> BoxStream<'e, Result<AnyRow>>
    where
        E: 'e + Executor<'e, Database = sqlx::Any>,
    {
        match self.build() {
            Ok(query) => query.fetch(executor).map_err(Error::from).boxed(),
            Err(e) => futures::stream::once(async { Err(e) }).boxed(),
        }
    }

    /// Runs the statement and returns the first row, if any.
    pub(crate) async fn fetch_optional<'c, E>(self, executor: E) -> Result<Option<AnyRow>>
    where
        E: Executor<'c, Database = sqlx::Any>,
    {
        Ok(self.build()?.fetch_optional(executor).await?)
    }

    /// Runs a `SELECT COUNT(*) …` and returns the count.
    pub(crate) async fn count<'c, E>(self, executor: E) -> Result<i64>
    where
        E: Executor<'c, Database = sqlx::Any>,
    {
        let row = self.build()?.fetch_one(executor).await?;
        Ok(row.try_get::<i64, _>(0)?)
    }
}

/// Typed column access for rows, with the conversions the schema needs (times, flags, JSON).
pub(crate) trait RowExt {
    /// A text column.
    fn text(&self, col: &str) -> Result<String>;
    /// A nullable text column.
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    /// An integer column.
    fn int(&self, col: &str) -> Result<i64>;
    /// A nullable integer column.
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    /// A 0/1 flag column.
    fn flag(&self, col: &str) -> Result<bool> {
        Ok(self.int(col)? != 0)
    }
    /// A time column (milliseconds since the epoch).
    fn time(&self, col: &str) -> Result<DateTime<Utc>> {
        Ok(from_ms(self.int(col)?))
    }
    /// A nullable time column.
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.opt_int(col)?.map(from_ms))
    }
    /// A JSON text column.
    fn json(&self, col: &str) -> Result<serde_json::Value> {
        parse_json(col, &self.text(col)?)
    }
    /// A nullable JSON text column.
    fn opt_json(&self, col: &str) -> Result<Option<serde_json::Value>> {
        self.opt_text(col)?.map(|t| parse_json(col, &t)).transpose()
    }
    /// A JSON list of strings (tags).
    fn string_list(&self, col: &str) -> Result<Vec<String>> {
        serde_json::from_str(&self.text(col)?)
            .map_err(|e| Error::Corrupt(format!("column {col} is not a JSON list of strings: {e}")))
    }
}

impl RowExt for AnyRow {
    fn text(&self, col: &str) -> Result<String> {
        Ok(self.try_get::<String, _>(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get::<Option<String>, _>(col)?)
    }
    fn int(&self, col: &str) -> Result<i64> {
        Ok(self.try_get::<i64, _>(col)?)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.try_get::<Option<i64>, _>(col)?)
    }
}

fn parse_json(col: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text)
        .map_err(|e| Error::Corrupt(format!("column {col} does not hold JSON: {e}")))
}

/// Milliseconds since the epoch.
pub(crate) fn ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// A time from milliseconds since the epoch (out-of-range values clamp to the epoch).
pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Now, in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    ms(Utc::now())
}

/// A new id: a UUIDv7, so ids made later sort later and new rows land at the end of every index
/// keyed by id instead of at a random page of it (fewer pages written per insert).
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// JSON text of a value that is known to serialise (plain data).
pub(crate) fn to_json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

/// A `LIKE` pattern matching `needle` anywhere, with `!` as the escape character.
pub(crate) fn like_contains(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Appends `AND (tags LIKE … OR …)`: rows whose JSON tag list holds any of `tags`.
pub(crate) fn push_any_tag(sql: &mut Sql, column: &str, tags: &[String]) {
    if tags.is_empty() {
        return;
    }
    sql.push(" AND (");
    for (i, tag) in tags.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push(column)
            .push(" LIKE ")
            .bind(like_contains(&to_json_text(tag)))
            .push(" ESCAPE '!'");
    }
    sql.push(")");
}

/// Clamps a page request: limit 1..=1000 (default 20), offset ≥ 0.
pub(crate) fn page_bounds(limit: Option<i64>, offset: Option<i64>) -> (i64, i64) {
    (
        limit.unwrap_or(20).clamp(1, 1000),
        offset.unwrap_or(0).max(0),
    )
}

/// One page of `select` (`SELECT … FROM <table>`) with the `WHERE …` that `filter` appends,
/// ordered by `order` (`ORDER BY …`), and the number of rows `count` (`SELECT COUNT(*) FROM
/// <table>`) finds under the same filter; rows mapped by `map`.
pub(crate) async fn fetch_page<T>(
    pool: &AnyPool,
    select: &str,
    count: &str,
    filter: impl Fn(&mut Sql),
    order: &str,
    (limit, offset): (i64, i64),
    map: impl Fn(&AnyRow) -> Result<T>,
) -> Result<crate::Page<T>> {
    let mut counted = Sql::new(count);
    filter(&mut counted);
    let total = counted.count(pool).await?;
    let mut sql = Sql::new(select);
    filter(&mut sql);
    sql.push(" ")
        .push(order)
        .push(" LIMIT ")
        .bind(limit)
        .push(" OFFSET ")
        .bind(offset);
    let items = sql
        .fetch_all(pool)
        .await?
        .iter()
        .map(map)
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::Page {
        items,
        total,
        total_capped: false,
        limit,
        offset,
    })
}

/// The row `id` of a workspace from `select` (`SELECT … FROM <table>`); `NotFound` naming `what`
/// when the workspace has no such row.
pub(crate) async fn fetch_owned(
    pool: &AnyPool,
    select: &str,
    what: &'static str,
    workspace_id: &str,
    id: &str,
) -> Result<AnyRow> {
    let mut sql = Sql::new(select);
    sql.push(" WHERE workspace_id = ")
        .bind(workspace_id)
        .push(" AND id = ")
        .bind(id);
    sql.fetch_optional(pool)
        .await?
        .ok_or_else(|| Error::not_found(what, id))
}

/// Deletes the row `id` of a workspace from `table`; `NotFound` naming `what` when there is none.
pub(crate) async fn delete_owned(
    pool: &AnyPool,
    table: &str,
    what: &'static str,
    workspace_id: &str,
    id: &str,
) -> Result<()> {
    let mut sql = Sql::new("DELETE FROM ");
    sql.push(table)
        .push(" WHERE workspace_id = ")
        .bind(workspace_id)
        .push(" AND id = ")
        .bind(id);
    if sql.execute(pool).await? == 0 {
        return Err(Error::not_found(what, id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(Backend::of_url("sqlite://a.db").ok(), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("postgresql://x@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(matches!(
            Backend::of_url("mysql://u:secret@h/db"),
            Err(Error::UnsupportedUrl(u)) if !u.contains("secret")
        ));
        assert_eq!(
            sqlite_path("sqlite:///tmp/x/t.db?mode=rwc"),
            Some(PathBuf::from("/tmp/x/t.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }

    #[test]
    fn like_escapes() {
        assert_eq!(like_contains("a%b_c!"), "%a!%b!_c!!%");
    }
}
