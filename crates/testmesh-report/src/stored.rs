//! Reports kept in the store with their files (for `testmesh serve` and its dashboard): each is
//! rendered into the report directory as `<id>.<ext>` (a name made here, never one a user gives),
//! recorded in the store, and deleted with its file when it expires.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use testmesh_store::{NewReport, Report, ReportFormat, Store};

use crate::collect::{DEFAULT_FAILURE_DETAIL_LIMIT, ReportRequest};
use crate::model::ReportFilters;
use tokio_util::sync::CancellationToken;

/// Where report files go and how long they are kept.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// The directory of report files (created when needed).
    pub dir: PathBuf,
    /// How long a generated report is kept (default 7 days).
    pub ttl: Duration,
    /// How often expired reports are looked for (default every hour, and at start).
    pub cleanup_every: Duration,
}

impl ReportConfig {
    /// Reports in `dir`, kept 7 days.
    pub fn new(dir: impl Into<PathBuf>) -> ReportConfig {
        ReportConfig {
            dir: dir.into(),
            ttl: Duration::from_secs(7 * 24 * 3600),
            cleanup_every: Duration::from_secs(3600),
        }
    }
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig::new(".testmesh/reports")
    }
}

/// The file of a report inside `dir`, when it has one. Only plain file names are accepted, so a
/// damaged row cannot point outside the directory.
pub fn file_of(dir: &Path, report: &Report) -> Option<PathBuf> {
    let name = report.file_name.as_deref()?;
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.contains('\0');
    plain.then(|| dir.join(name))
}

/// The request a stored report describes; stored filters that do not read are an error naming
/// them (a report over everything instead would be silently wrong).
pub fn request_of(report: &Report) -> Result<ReportRequest, String> {
    let filters = serde_json::from_value::<ReportFilters>(report.filters.clone())
        .map_err(|e| format!("the report's stored `filters` do not read: {e}"))?;
    Ok(ReportRequest {
        title: Some(report.name.clone()),
        from: report.from_date,
        to: report.to_date,
        filters,
        failure_detail_limit: DEFAULT_FAILURE_DETAIL_LIMIT,
    })
}

/// What a user asks for when generating a report.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// Its name; `Report FROM to TO` when empty.
    pub name: Option<String>,
    /// First day; 29 days before `to` when not given.
    pub from: Option<NaiveDate>,
    /// Last day; today (UTC) when not given.
    pub to: Option<NaiveDate>,
    /// Filters.
    pub filters: ReportFilters,
    /// How long to keep it; the configured time when not given.
    pub ttl: Option<Duration>,
}

impl Submission {
    /// The report to record, with the defaults filled in; an error when `to` is before `from`.
    pub fn into_new_report(
        self,
        format: ReportFormat,
        config: &ReportConfig,
        generated_by: &str,
    ) -> Result<NewReport, String> {
        let to = self.to.unwrap_or_else(|| Utc::now().date_naive());
        let from = self
            .from
            .unwrap_or_else(|| to.checked_sub_days(Days::new(29)).unwrap_or(to));
        if from > to {
            return Err(format!("`to` ({to}) is before `from` ({from})"));
        }
        let ttl = chrono::Duration::from_std(self.ttl.unwrap_or(config.ttl))
            .unwrap_or_else(|_| chrono::Duration::days(7));
        let name = self
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("Report {from} to {to}"));
        Ok(NewReport {
            name,
            format,
            filters: serde_json::to_value(&self.filters).map_err(|e| e.to_string())?,
            from,
            to,
            generated_by: generated_by.to_string(),
            expires_at: Some(Utc::now() + ttl),
        })
    }
}

/// The `Content-Disposition` value of a report's download: `attachment; filename="<name>.<ext>"`.
pub fn attachment(report: &Report) -> String {
    format!(
        "attachment; filename=\"{}.{}\"",
        testmesh_store::file_name_part(&report.name, "report"),
        report.format.extension()
    )
}

/// The bytes of a completed report's file; `None` when it has no file or the file is gone.
pub async fn read(config: &ReportConfig, report: &Report) -> Option<Vec<u8>> {
    tokio::fs::read(file_of(&config.dir, report)?).await.ok()
}

/// Generates a recorded report in the background. Whatever happens to the generation — an error,
/// a panic — the report ends `completed` or `failed`, never stuck `generating`.
pub fn spawn(store: Store, config: ReportConfig, report: Report) {
    tokio::spawn(async move {
        let workspace = report.workspace_id.clone();
        let id = report.id.clone();
        let task = tokio::spawn(generate(store.clone(), config, report));
        if let Err(e) = task.await {
            let _ = store
                .fail_report(&workspace, &id, &format!("generation stopped: {e}"))
                .await;
        }
    });
}

/// Generates a recorded (`pending`) report: `generating`, then `completed` with its file, or
/// `failed` with the reason. Nothing is left half-written: the file appears under its final
/// name only when complete, and is removed again if the report was deleted meanwhile.
pub async fn generate(store: Store, config: ReportConfig, report: Report) {
    let workspace = report.workspace_id.clone();
    let id = report.id.clone();
    if let Err(e) = store.start_report(&workspace, &id).await {
        tracing::warn!(report = %id, error = %e, "cannot start the report");
        return;
    }
    let recorded = match render_to_file(&store, &config.dir, &report).await {
        Ok((name, size)) => {
            let done = store.complete_report(&workspace, &id, &name, size).await;
            if let Err(testmesh_store::Error::NotFound { .. }) = done {
                // Deleted while it was being generated: its file goes too.
                let _ = tokio::fs::remove_file(config.dir.join(&name)).await;
                return;
            }
            done
        }
        Err(message) => store.fail_report(&workspace, &id, &message).await,
    };
    if let Err(e) = recorded {
        tracing::warn!(report = %id, error = %e, "cannot record the report's outcome");
    }
}

async fn render_to_file(
    store: &Store,
    dir: &Path,
    report: &Report,
) -> Result<(String, i64), String> {
    let data = crate::collect::collect(store, &report.workspace_id, &request_of(report)?)
        .await
        .map_err(|e| e.to_string())?;
    let text = crate::render(&data, report.format);
    let name = format!("{}.{}", report.id, report.format.extension());
    let path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let written = async {
        tokio::fs::create_dir_all(dir).await?;
        tokio::fs::write(&tmp, text.as_bytes()).await?;
        tokio::fs::rename(&tmp, &path).await
    }
    .await;
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    Ok((name, i64::try_from(text.len()).unwrap_or(i64::MAX)))
}

/// A report still `pending` or `generating` this long after it was asked for was abandoned (its
/// server stopped or crashed): generation takes seconds, a minute for the largest histories.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(30 * 60);

/// Now and then every `config.cleanup_every` until `token` is cancelled: deletes expired reports
/// with their files, and marks reports abandoned by a server that stopped as `failed` (after
/// [`ABANDONED_AFTER`], so reports other servers are generating are left alone).
pub async fn cleanup(store: Store, config: ReportConfig, token: CancellationToken) {
    let mut tick = tokio::time::interval(config.cleanup_every);
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            _ = tick.tick() => {
                if let Err(e) = delete_expired(&store, &config.dir).await {
                    tracing::warn!(error = %e, "cannot delete expired reports");
                }
                if let Err(e) = fail_abandoned(&store).await {
                    tracing::warn!(error = %e, "cannot mark abandoned reports");
                }
            }
        }
    }
}

/// Marks reports left unfinished for longer than [`ABANDONED_AFTER`] as `failed`; returns how
/// many.
pub async fn fail_abandoned(store: &Store) -> testmesh_store::Result<u64> {
    let before = Utc::now()
        - chrono::Duration::from_std(ABANDONED_AFTER)
            .unwrap_or_else(|_| chrono::Duration::hours(1));
    store
        .fail_unfinished_reports(
            before,
            "abandoned: its server stopped while generating it; generate it again",
        )
        .await
}

/// Deletes every report expired by now with its file; returns how many.
pub async fn delete_expired(store: &Store, dir: &Path) -> testmesh_store::Result<usize> {
    let mut deleted = 0;
    loop {
        let expired = store.expired_reports(Utc::now(), 500).await?;
        if expired.is_empty() {
            return Ok(deleted);
        }
        for report in expired {
            remove_file_of(dir, &report).await;
            store
                .delete_report(&report.workspace_id, &report.id)
                .await?;
            deleted += 1;
        }
    }
}

/// Removes a report's file; a file already gone is fine.
pub async fn remove_file_of(dir: &Path, report: &Report) {
    if let Some(path) = file_of(dir, report)
        && let Err(e) = tokio::fs::remove_file(&path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a report file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_are_served() {
        let mut report = Report {
            id: "r".into(),
            workspace_id: "w".into(),
            name: "n".into(),
            format: testmesh_store::ReportFormat::Html,
            status: testmesh_store::ReportStatus::Completed,
            filters: serde_json::json!({}),
            from_date: chrono::NaiveDate::MIN,
            to_date: chrono::NaiveDate::MIN,
            file_name: Some("r.html".into()),
            file_size: Some(1),
            error: None,
            generated_by: "api".into(),
            created_at: Utc::now(),
            generated_at: None,
            expires_at: None,
        };
        let dir = Path::new("/srv/reports");
        assert_eq!(file_of(dir, &report), Some(dir.join("r.html")));
        for bad in ["../etc/passwd", "/etc/passwd", "..", "a\\b", ""] {
            report.file_name = Some(bad.into());
            assert_eq!(file_of(dir, &report), None, "{bad}");
        }
        report.file_name = None;
        assert_eq!(file_of(dir, &report), None);
    }
}
