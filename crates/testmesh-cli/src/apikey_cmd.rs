//! `testmesh apikey create|list|revoke`: API keys for the REST API, managed on the database
//! directly, so the first key can be made before the server has any.

use chrono::Local;
use testmesh_store::{ApiKey, DEFAULT_WORKSPACE_ID, Store};

use crate::console::columns;
use crate::history::{StoreArgs, shown_url};
use crate::{CliError, EXIT_OK};

/// Create, list and revoke API keys for `testmesh serve`.
///
/// Keys act in the default workspace. The server keeps only a hash of each key: a key is shown
/// once, when it is created.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  testmesh apikey create ci\n  \
KEY=$(testmesh apikey create dashboard --rate-limit 120)\n  \
testmesh apikey list\n  testmesh apikey revoke 3f9a1c2e")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Create a key and print it; it is not shown again.
    ///
    /// The key alone goes to standard output (so `KEY=$(testmesh apikey create ci)` works), the
    /// explanation to standard error.
    Create {
        /// What the key is for, e.g. `ci` or `dashboard`.
        name: String,
        /// Requests per minute allowed for this key [default: the server's, 600 unless `serve
        /// --rate-limit` says otherwise].
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
        rate_limit: Option<i64>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the keys (never the keys themselves), revoked ones included.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a key by its id or its prefix (the 8 characters after `tm_`); it stops working at
    /// once.
    Revoke {
        /// The key's id or prefix, as `testmesh apikey list` shows them.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// Aligned columns for people.
    Table,
    /// The keys as a JSON array, for scripts.
    Json,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let runtime = crate::run_cmd::runtime()?;
    runtime.block_on(async {
        match args.command {
            Command::Create {
                name,
                rate_limit,
                store,
            } => create(&store, &name, rate_limit).await,
            Command::List { format, store } => list(&store, format).await,
            Command::Revoke { id, store } => revoke(&store, &id).await,
        }
    })
}

async fn open(args: &StoreArgs) -> Result<Store, CliError> {
    let url = args.url()?;
    Store::open(&url)
        .await
        .map_err(|e| CliError::Input(format!("cannot open {}: {e}", shown_url(&url))))
}

fn store_error(e: testmesh_store::Error) -> CliError {
    match e {
        testmesh_store::Error::Invalid { message, .. } => CliError::Input(message),
        e => CliError::Internal(e.to_string()),
    }
}

async fn create(args: &StoreArgs, name: &str, rate_limit: Option<i64>) -> Result<u8, CliError> {
    let store = open(args).await?;
    let created = store
        .create_api_key(DEFAULT_WORKSPACE_ID, name, rate_limit)
        .await
        .map_err(store_error);
    store.close().await;
    let created = created?;
    outln!("{}", created.plain);
    eprintln!(
        "Created API key `{}` (prefix {}, id {}). It is shown only this once: store it now.\n\
         Send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
        created.key.name, created.key.prefix, created.key.id
    );
    Ok(EXIT_OK)
}

async fn list(args: &StoreArgs, format: Format) -> Result<u8, CliError> {
    let store = open(args).await?;
    let keys = store
        .list_api_keys(DEFAULT_WORKSPACE_ID)
        .await
        .map_err(store_error);
    store.close().await;
    let keys = keys?;
    match format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&keys)
                .map_err(|e| CliError::Internal(e.to_string()))?;
            outln!("{text}");
        }
        Format::Table if keys.is_empty() => {
            outln!("No API keys yet. Create one with `testmesh apikey create NAME`.");
        }
        Format::Table => print_table(&keys),
    }
    Ok(EXIT_OK)
}

fn print_table(keys: &[ApiKey]) {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(
            || "-".to_string(),
            |t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.prefix.clone(),
                k.name.clone(),
                if k.revoked_at.is_some() {
                    "revoked".into()
                } else {
                    "active".into()
                },
                k.rate_limit_per_minute
                    .map_or_else(|| "default".into(), |n| format!("{n}/min")),
                time(Some(k.created_at)),
                time(k.last_used_at),
                k.id.clone(),
            ]
        })
        .collect();
    let headers = [
        "PREFIX",
        "NAME",
        "STATUS",
        "RATE LIMIT",
        "CREATED",
        "LAST USED",
        "ID",
    ];
    for line in columns(&headers, &rows) {
        outln!("{line}");
    }
}

async fn revoke(args: &StoreArgs, id_or_prefix: &str) -> Result<u8, CliError> {
    let store = open(args).await?;
    let result = revoke_in(&store, id_or_prefix).await;
    store.close().await;
    let key = result?;
    outln!("Revoked API key `{}` (prefix {}).", key.name, key.prefix);
    Ok(EXIT_OK)
}

async fn revoke_in(store: &Store, id_or_prefix: &str) -> Result<ApiKey, CliError> {
    let keys = store
        .list_api_keys(DEFAULT_WORKSPACE_ID)
        .await
        .map_err(store_error)?;
    let wanted = id_or_prefix.trim().to_ascii_lowercase();
    let matches: Vec<&ApiKey> = keys
        .iter()
        .filter(|k| k.id == wanted || k.prefix == wanted)
        .collect();
    match matches.as_slice() {
        [key] => store
            .revoke_api_key(DEFAULT_WORKSPACE_ID, &key.id)
            .await
            .map_err(store_error),
        [] => Err(CliError::Input(format!(
            "no API key has the id or prefix `{id_or_prefix}`; `testmesh apikey list` shows them"
        ))),
        _ => Err(CliError::Input(format!(
            "several API keys have the prefix `{id_or_prefix}`: revoke by id"
        ))),
    }
}
