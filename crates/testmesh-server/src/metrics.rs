//! Prometheus metrics: HTTP requests counted as they are answered, and the execution figures read
//! from the store when scraped (so every server and worker sharing a database reports the same).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use testmesh_store::Store;

use crate::AppState;

/// Upper bounds of the step duration buckets, in milliseconds.
pub(crate) const STEP_BUCKETS_MS: [i64; 12] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
];

/// Requests answered, by method, route template and status.
pub(crate) struct HttpMetrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
}

impl HttpMetrics {
    /// No requests yet.
    pub(crate) fn new() -> HttpMetrics {
        HttpMetrics {
            requests: Mutex::new(BTreeMap::new()),
        }
    }

    fn record(&self, method: &str, route: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests
            .entry((method.to_string(), route.to_string(), status))
            .or_insert(0) += 1;
    }

    fn snapshot(&self) -> Vec<((String, String, u16), u64)> {
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        requests.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// Middleware: counts every answer by route template (never the raw path: ids would make the
/// label set unbounded). Unmatched paths count as `unmatched`.
pub(crate) async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state
        .metrics
        .record(&method, &route, response.status().as_u16());
    response
}

/// Escapes a label value for the text format.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The metrics in the Prometheus text format (version 0.0.4).
pub(crate) async fn render(store: &Store, http: &HttpMetrics) -> testmesh_store::Result<String> {
    let counts = store.execution_counts(None).await?;
    let depth = store.queue_depth().await?;
    let steps = store.step_duration_histogram(&STEP_BUCKETS_MS).await?;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# HELP testmesh_executions Executions in the store by status.\n# TYPE testmesh_executions gauge"
    );
    for c in &counts {
        let _ = writeln!(
            out,
            "testmesh_executions{{status=\"{}\"}} {}",
            c.status.as_str(),
            c.count
        );
    }
    let _ = writeln!(
        out,
        "# HELP testmesh_queue_depth Executions waiting for a worker.\n# TYPE testmesh_queue_depth gauge\ntestmesh_queue_depth {depth}"
    );
    let _ = writeln!(
        out,
        "# HELP testmesh_step_duration_seconds Durations of the stored steps that ran, by action.\n# TYPE testmesh_step_duration_seconds histogram"
    );
    for s in &steps {
        let action = label(&s.action);
        for (bound, count) in &s.buckets {
            let _ = writeln!(
                out,
                "testmesh_step_duration_seconds_bucket{{action=\"{action}\",le=\"{}\"}} {count}",
                seconds(*bound)
            );
        }
        let _ = writeln!(
            out,
            "testmesh_step_duration_seconds_bucket{{action=\"{action}\",le=\"+Inf\"}} {}\ntestmesh_step_duration_seconds_sum{{action=\"{action}\"}} {}\ntestmesh_step_duration_seconds_count{{action=\"{action}\"}} {}",
            s.count,
            seconds(s.sum_ms),
            s.count
        );
    }
    let _ = writeln!(
        out,
        "# HELP testmesh_http_requests_total HTTP requests answered by this server, by route and status.\n# TYPE testmesh_http_requests_total counter"
    );
    for ((method, route, status), n) in http.snapshot() {
        let _ = writeln!(
            out,
            "testmesh_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
            label(&method),
            label(&route)
        );
    }
    Ok(out)
}

/// Milliseconds as seconds, without float noise.
fn seconds(ms: i64) -> String {
    let (whole, frac) = (ms / 1000, (ms % 1000).abs());
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{}", format!("{frac:03}").trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(seconds(5), "0.005");
        assert_eq!(seconds(250), "0.25");
        assert_eq!(seconds(30_000), "30");
        assert_eq!(seconds(1_500), "1.5");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
