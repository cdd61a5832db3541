//! Connections: reading the three forms a flow may give (URL, libpq `key=value`, object), and the
//! pool cache shared by every database step of a runner.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlSslMode};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection as _};
use testmesh_flow::model::actions::{Connection, ConnectionObject};

use crate::record::{ErrorKind, StepError};

const DEFAULT_POOL_SIZE: u32 = 5;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect options of one backend.
#[derive(Clone)]
enum Options {
    Postgres(PgConnectOptions),
    MySql(MySqlConnectOptions),
    Sqlite(SqliteConnectOptions),
}

/// A resolved connection: what to connect to, how it is shown, and the pool settings.
#[derive(Clone)]
pub(crate) struct Target {
    options: Options,
    /// Cache key: the connection as written plus anything resolved from the flow (SQLite paths).
    key: String,
    /// The connection without its password, for records and messages.
    pub display: String,
    pool_size: u32,
    connect_timeout: Duration,
    /// An in-memory SQLite database lives as long as its one connection.
    in_memory: bool,
}

/// A pool of one backend.
#[derive(Clone)]
pub(crate) enum DbPool {
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL or MariaDB.
    MySql(MySqlPool),
    /// SQLite.
    Sqlite(SqlitePool),
}

/// Pools by connection, created on first use and kept for the life of the runner, so steps and
/// flows that name the same database share connections. (The original TestMesh opened a fresh
/// connection for every step.)
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<String, DbPool>>,
}

impl Pools {
    /// The pool for `target`. A new pool is created only after one connection succeeded, so an
    /// unreachable server reports its own error (e.g. connection refused) at once instead of a
    /// pool timeout.
    pub(crate) async fn get(&self, target: &Target) -> Result<DbPool, StepError> {
        if let Some(pool) = self.lock().get(&target.key) {
            return Ok(pool.clone());
        }
        target.probe().await?;
        let pool = target.lazy_pool();
        Ok(self
            .lock()
            .entry(target.key.clone())
            .or_insert(pool)
            .clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, DbPool>> {
        self.pools.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Target {
    /// Resolves a connection; relative SQLite paths are taken from `flow_dir`.
    pub(crate) fn resolve(connection: &Connection, flow_dir: &Path) -> Result<Target, StepError> {
        match connection {
            Connection::Url(text) => from_text(text.trim(), flow_dir),
            Connection::Object(object) => from_object(object, flow_dir),
        }
    }

    async fn probe(&self) -> Result<(), StepError> {
        let timeout = self.connect_timeout;
        let attempt = async {
            match &self.options {
                Options::Postgres(o) => connect_once(o).await,
                Options::MySql(o) => connect_once(o).await,
                Options::Sqlite(o) => connect_once(o).await,
            }
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(connect_error(&self.display, e)),
            Err(_) => Err(StepError::new(
                ErrorKind::Connection,
                format!(
                    "cannot connect to {}: timed out after {}s",
                    self.display,
                    timeout.as_secs_f64()
                ),
            )),
        }
    }

    fn lazy_pool(&self) -> DbPool {
        let (size, idle, lifetime) = if self.in_memory {
            (1, None, None)
        } else {
            (
                self.pool_size,
                Some(Duration::from_secs(600)),
                Some(Duration::from_secs(1800)),
            )
        };
        macro_rules! pool {
            ($options:ty, $connect:expr) => {
                <$options>::new()
                    .max_connections(size)
                    .acquire_timeout(self.connect_timeout)
                    .idle_timeout(idle)
                    .max_lifetime(lifetime)
                    .connect_lazy_with($connect)
            };
        }
        match &self.options {
            Options::Postgres(o) => DbPool::Postgres(pool!(PgPoolOptions, o.clone())),
            Options::MySql(o) => DbPool::MySql(pool!(MySqlPoolOptions, o.clone())),
            Options::Sqlite(o) => DbPool::Sqlite(pool!(SqlitePoolOptions, o.clone())),
        }
    }
}

/// Opens and closes one connection.
async fn connect_once<O: ConnectOptions>(options: &O) -> Result<(), sqlx::Error>
where
    O::Connection: Sized,
{
    let connection = options.connect().await?;
    // The server was reached; a failed goodbye does not matter.
    connection.close().await.ok();
    Ok(())
}

fn config_error(message: impl Into<String>) -> StepError {
    StepError::config(message)
}

fn from_text(text: &str, flow_dir: &Path) -> Result<Target, StepError> {
    let lower = text.to_ascii_lowercase();
    let invalid = |e: sqlx::Error| config_error(format!("invalid connection string: {e}"));
    let (options, in_memory, key) = if lower.starts_with("postgres://")
        || lower.starts_with("postgresql://")
    {
        let options = PgConnectOptions::from_str(text).map_err(invalid)?;
        (Options::Postgres(options), false, text.to_string())
    } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        let rest = &text[text.find("://").unwrap_or(0)..];
        let options = MySqlConnectOptions::from_str(&format!("mysql{rest}")).map_err(invalid)?;
        (Options::MySql(options), false, text.to_string())
    } else if lower.starts_with("sqlite:") {
        sqlite_from_url(&text["sqlite:".len()..], flow_dir)?
    } else if !text.contains("://") && text.contains('=') {
        let options = pg_from_dsn(text)?;
        (Options::Postgres(options), false, text.to_string())
    } else {
        return Err(config_error(format!(
            "unsupported connection string `{}`: use postgres://, mysql://, mariadb://, sqlite: or key=value (host=… dbname=…)",
            redact_text(text)
        )));
    };
    Ok(target(
        options,
        key,
        in_memory,
        DEFAULT_POOL_SIZE,
        DEFAULT_CONNECT_TIMEOUT,
    ))
}

fn target(
    options: Options,
    key: String,
    in_memory: bool,
    pool_size: u32,
    connect_timeout: Duration,
) -> Target {
    let display = if in_memory {
        "sqlite::memory:".to_string()
    } else {
        display(&options)
    };
    Target {
        key: format!("{key}\u{0}{pool_size}\u{0}{}", connect_timeout.as_millis()),
        options,
        display,
        pool_size,
        connect_timeout,
        in_memory,
    }
}

/// `sqlite:` followed by `:memory:`, `path`, `//path` or `///abs/path`, with optional `?mode=…`.
fn sqlite_from_url(rest: &str, flow_dir: &Path) -> Result<(Options, bool, String), StepError> {
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    sqlite_options(path, query, flow_dir)
}

fn sqlite_options(
    path: &str,
    query: &str,
    flow_dir: &Path,
) -> Result<(Options, bool, String), StepError> {
    let invalid = |e: sqlx::Error| config_error(format!("invalid SQLite connection: {e}"));
    if path.is_empty() || path == ":memory:" {
        let options =
            SqliteConnectOptions::from_str(&format!("sqlite::memory:?{query}")).map_err(invalid)?;
        return Ok((
            Options::Sqlite(options),
            true,
            format!("sqlite::memory:?{query}"),
        ));
    }
    let file = flow_dir.join(path);
    let mut options = SqliteConnectOptions::from_str(&format!("sqlite://placeholder?{query}"))
        .map_err(invalid)?
        .filename(&file);
    // A test database is usually new: create it unless the flow chose a mode itself.
    if !query.contains("mode=") {
        options = options.create_if_missing(true);
    }
    let key = format!("sqlite://{}?{query}", file.display());
    Ok((Options::Sqlite(options), false, key))
}

/// A libpq connection string: `host=… port=… dbname=… user=… password=… sslmode=…`.
fn pg_from_dsn(text: &str) -> Result<PgConnectOptions, StepError> {
    let mut options = PgConnectOptions::new();
    for (key, value) in dsn_pairs(text)? {
        options = match key.as_str() {
            "host" | "hostaddr" => options.host(&value),
            "port" => options.port(
                value
                    .parse()
                    .map_err(|_| config_error(format!("port `{value}` is not a port number")))?,
            ),
            "dbname" => options.database(&value),
            "user" => options.username(&value),
            "password" => options.password(&value),
            "sslmode" => options.ssl_mode(pg_ssl_mode(&value)?),
            "sslrootcert" => options.ssl_root_cert(&value),
            "application_name" => options.application_name(&value),
            "connect_timeout" => options,
            other => {
                return Err(config_error(format!(
                    "unknown connection option `{other}` (expected host, port, dbname, user, password, sslmode, sslrootcert, application_name or connect_timeout)"
                )));
            }
        };
    }
    Ok(options)
}

/// `key=value` pairs separated by spaces; values may be single-quoted with `\'` and `\\` escapes.
fn dsn_pairs(text: &str) -> Result<Vec<(String, String)>, StepError> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(config_error(format!(
                "connection string: `{key}` has no value (expected key=value)"
            )));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(config_error(format!(
                            "connection string: unterminated quote in `{key}`"
                        )));
                    }
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())));
        }
        pairs.push((key, value));
    }
}

fn pg_ssl_mode(value: &str) -> Result<PgSslMode, StepError> {
    PgSslMode::from_str(value).map_err(|_| {
        config_error(format!(
            "sslmode `{value}`: expected disable, allow, prefer, require, verify-ca or verify-full"
        ))
    })
}

fn mysql_ssl_mode(value: &str) -> Result<MySqlSslMode, StepError> {
    Ok(
        match value.to_ascii_lowercase().replace('-', "_").as_str() {
            "disable" | "disabled" => MySqlSslMode::Disabled,
            "allow" | "prefer" | "preferred" => MySqlSslMode::Preferred,
            "require" | "required" => MySqlSslMode::Required,
            "verify_ca" => MySqlSslMode::VerifyCa,
            "verify_full" | "verify_identity" => MySqlSslMode::VerifyIdentity,
            _ => {
                return Err(config_error(format!(
                    "ssl `{value}`: expected disabled, preferred, required, verify_ca or verify_identity"
                )));
            }
        },
    )
}

/// `ssl` of the object form: true/false or a mode name.
fn ssl_setting(value: &Value) -> Result<Option<String>, StepError> {
    Ok(match value {
        Value::Null => None,
        Value::Bool(true) => Some("require".into()),
        Value::Bool(false) => Some("disable".into()),
        Value::String(s) => Some(match s.as_str() {
            "true" => "require".into(),
            "false" => "disable".into(),
            other => other.to_string(),
        }),
        other => {
            return Err(config_error(format!(
                "ssl: expected true, false or a mode name, got {other}"
            )));
        }
    })
}

fn from_object(object: &ConnectionObject, flow_dir: &Path) -> Result<Target, StepError> {
    let port = object.port.as_ref().and_then(|p| p.literal().copied());
    let ssl = object.ssl.as_ref().map(ssl_setting).transpose()?.flatten();
    let host = object.host.as_deref().unwrap_or("localhost");
    let kind = object.kind.to_ascii_lowercase();
    let (options, in_memory, key) = match kind.as_str() {
        "postgres" | "postgresql" | "pg" => {
            let mut o = PgConnectOptions::new()
                .host(host)
                .port(port.unwrap_or(5432));
            if let Some(db) = &object.database {
                o = o.database(db);
            }
            if let Some(user) = &object.username {
                o = o.username(user);
            }
            if let Some(password) = &object.password {
                o = o.password(password);
            }
            if let Some(mode) = &ssl {
                o = o.ssl_mode(pg_ssl_mode(mode)?);
            }
            (Options::Postgres(o), false, format!("{object:?}"))
        }
        "mysql" | "mariadb" => {
            let mut o = MySqlConnectOptions::new()
                .host(host)
                .port(port.unwrap_or(3306));
            if let Some(db) = &object.database {
                o = o.database(db);
            }
            if let Some(user) = &object.username {
                o = o.username(user);
            }
            if let Some(password) = &object.password {
                o = o.password(password);
            }
            if let Some(mode) = &ssl {
                o = o.ssl_mode(mysql_ssl_mode(mode)?);
            }
            (Options::MySql(o), false, format!("{object:?}"))
        }
        "sqlite" | "sqlite3" => {
            sqlite_options(object.database.as_deref().unwrap_or(""), "", flow_dir)?
        }
        other => {
            return Err(config_error(format!(
                "connection type `{other}` is not supported: use postgresql, mysql, mariadb or sqlite"
            )));
        }
    };
    let pool_size = object
        .pool_size
        .as_ref()
        .and_then(|p| p.literal().copied())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_POOL_SIZE);
    let timeout = object
        .timeout
        .as_ref()
        .and_then(|t| t.literal().copied())
        .filter(|t| !t.is_zero())
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    Ok(target(options, key, in_memory, pool_size, timeout))
}

/// The connection as a URL without its password.
fn display(options: &Options) -> String {
    let url = |scheme: &str, user: &str, host: &str, port: u16, db: Option<&str>| {
        let user = if user.is_empty() {
            String::new()
        } else {
            format!("{user}@")
        };
        format!("{scheme}://{user}{host}:{port}/{}", db.unwrap_or(""))
    };
    match options {
        Options::Postgres(o) => url(
            "postgres",
            o.get_username(),
            o.get_host(),
            o.get_port(),
            o.get_database(),
        ),
        Options::MySql(o) => url(
            "mysql",
            o.get_username(),
            o.get_host(),
            o.get_port(),
            o.get_database(),
        ),
        Options::Sqlite(o) => format!("sqlite://{}", o.get_filename().display()),
    }
}

/// A connection string with any password removed, for messages about strings we could not read.
fn redact_text(text: &str) -> String {
    if let Some((scheme, rest)) = text.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
    {
        let user = userinfo.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}@{host}");
    }
    text.split_whitespace()
        .filter(|pair| !pair.starts_with("password="))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An I/O error as a short phrase (`connection refused`), keeping the OS text when it says more.
fn io_phrase(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused
        | K::ConnectionReset
        | K::ConnectionAborted
        | K::TimedOut
        | K::HostUnreachable
        | K::NetworkUnreachable
        | K::AddrNotAvailable
        | K::PermissionDenied => e.kind().to_string(),
        _ => e.to_string(),
    }
}

/// A database error as `message (code)`.
pub(crate) fn database_message(e: &dyn sqlx::error::DatabaseError) -> String {
    match e.code() {
        Some(code) => format!("{} ({code})", e.message()),
        None => e.message().to_string(),
    }
}

/// An error while connecting.
pub(crate) fn connect_error(display: &str, e: sqlx::Error) -> StepError {
    let reason = match &e {
        sqlx::Error::Configuration(m) => {
            return config_error(format!("invalid connection {display}: {m}"));
        }
        sqlx::Error::Io(io) => io_phrase(io),
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        sqlx::Error::Database(db) => database_message(db.as_ref()),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".into(),
        other => other.to_string(),
    };
    StepError::new(
        ErrorKind::Connection,
        format!("cannot connect to {display}: {reason}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> Result<Target, StepError> {
        Target::resolve(&Connection::Url(text.into()), Path::new("/flows"))
    }

    #[test]
    fn urls_and_dsns_display_without_passwords() {
        let t = resolve("postgres://app:secret@127.0.0.1:5433/shop").unwrap();
        assert_eq!(t.display, "postgres://app@127.0.0.1:5433/shop");
        let t = resolve("mariadb://root:pw@localhost:3307/db").unwrap();
        assert_eq!(t.display, "mysql://root@localhost:3307/db");
        let t = resolve("host=db port=6543 dbname=x user=u password='p w\\'x' sslmode=disable")
            .unwrap();
        assert_eq!(t.display, "postgres://u@db:6543/x");
    }

    #[test]
    fn sqlite_paths_resolve_against_the_flow() {
        assert_eq!(
            resolve("sqlite:data/t.db").unwrap().display,
            "sqlite:///flows/data/t.db"
        );
        assert_eq!(
            resolve("sqlite://t.db").unwrap().display,
            "sqlite:///flows/t.db"
        );
        assert_eq!(
            resolve("sqlite:///tmp/t.db").unwrap().display,
            "sqlite:///tmp/t.db"
        );
        let memory = resolve("sqlite::memory:").unwrap();
        assert!(memory.in_memory);
        assert_eq!(memory.display, "sqlite::memory:");
    }

    #[test]
    fn bad_strings_are_config_errors() {
        for bad in [
            "postgres://u@h:notaport/db",
            "mongodb://h/db",
            "host=h bogus=1",
            "host=h port=x",
            "host='h",
            "just text",
        ] {
            let e = resolve(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} resolved"));
            assert_eq!(e.kind, ErrorKind::Config, "{bad}: {}", e.message);
        }
        let e = resolve("foo://u:secret@h/db").err().unwrap();
        assert!(!e.message.contains("secret"), "{}", e.message);
    }
}
