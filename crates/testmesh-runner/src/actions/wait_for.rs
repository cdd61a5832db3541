//! `wait_for`: polls an HTTP endpoint or a TCP port until it answers as expected.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testmesh_flow::Action;
use testmesh_flow::model::actions::{WaitForConfig, WaitForType};

use super::http::{
    ClientKey, DEFAULT_MAX_REDIRECTS, Redirects, Request, Transport, decoded_body, header_map,
    literal, parse_method, parse_url, value_text, within,
};
use crate::handler::{ActionCx, ActionFuture, Handler, Outcome};
use crate::record::{ErrorKind, StepError};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_MAX_ATTEMPTS: u32 = 100;
/// Longest single probe, so one hanging request cannot use up the whole wait.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The `wait_for` handler; it sends HTTP probes through the runner's shared [`Transport`].
pub struct WaitFor {
    transport: Arc<Transport>,
}

impl WaitFor {
    /// A handler probing through `transport`.
    pub(crate) fn new(transport: Arc<Transport>) -> Self {
        WaitFor { transport }
    }
}

/// The outcome of one probe: what was seen, and why it is not good enough yet.
struct Probe {
    seen: Value,
    unmet: Option<String>,
}

impl Probe {
    fn failed(error: StepError) -> Self {
        Probe {
            seen: json!({"error": error.message}),
            unmet: Some(error.message),
        }
    }
}

impl Handler for WaitFor {
    fn run<'a>(&'a self, action: &'a Action, _: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::WaitFor(config) = action else {
                return Err(StepError::config("wait_for handler got another action"));
            };
            let timeout = literal(config.timeout.as_ref()).unwrap_or(DEFAULT_TIMEOUT);
            let interval = literal(config.interval.as_ref()).unwrap_or(DEFAULT_INTERVAL);
            let max_attempts = literal(config.max_attempts.as_ref())
                .unwrap_or(DEFAULT_MAX_ATTEMPTS)
                .max(1);
            let started = Instant::now();
            let mut attempts = 0u32;
            loop {
                attempts += 1;
                let left = timeout.saturating_sub(started.elapsed());
                let limit = left.min(PROBE_TIMEOUT).max(Duration::from_millis(1));
                let probe = match within(limit, self.probe(config)).await {
                    Ok(probe) => probe,
                    Err(e) if e.kind == ErrorKind::Config => return Err(e),
                    Err(e) => Probe::failed(e),
                };
                let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                let Some(reason) = probe.unmet else {
                    return Ok(Outcome::of(json!({
                        "success": true,
                        "attempts": attempts,
                        "duration_ms": duration_ms,
                        "last_result": probe.seen,
                    })));
                };
                if attempts >= max_attempts || started.elapsed() + interval >= timeout {
                    return Err(StepError::new(
                        ErrorKind::Timeout,
                        format!("wait_for failed after {attempts} attempts: {reason}"),
                    ));
                }
                tokio::time::sleep(interval).await;
            }
        })
    }
}

impl WaitFor {
    /// One probe. Config errors (a bad URL, no port) end the wait at once.
    async fn probe(&self, config: &WaitForConfig) -> Result<Probe, StepError> {
        match config.kind {
            WaitForType::Http => self.probe_http(config).await,
            WaitForType::Tcp => probe_tcp(config).await,
        }
    }

    async fn probe_http(&self, config: &WaitForConfig) -> Result<Probe, StepError> {
        let url = config
            .url
            .as_deref()
            .ok_or_else(|| StepError::config("wait_for with `type: http` needs `url`"))?;
        let request = Request {
            method: parse_method(config.method.as_deref().unwrap_or("GET"))?,
            url: parse_url(url)?,
            headers: header_map(&config.headers)?,
            payload: None,
            cookies: Vec::new(),
        };
        let client = self.transport.client(&ClientKey {
            insecure: !literal(config.verify_ssl.as_ref()).unwrap_or(true),
            identity: None,
        })?;
        let redirects = Redirects {
            follow: true,
            max: DEFAULT_MAX_REDIRECTS,
        };
        let exchange = match client.send(request, &redirects, None).await {
            Ok(exchange) => exchange,
            Err(e) if e.kind == ErrorKind::Config => return Err(e),
            Err(e) => return Ok(Probe::failed(e)),
        };
        let status = exchange.status.as_u16();
        let (body, _) = decoded_body(&exchange.body);
        let seen = json!({"status": status, "body": body});
        let expected = literal(config.status_code.as_ref()).unwrap_or(200);
        let unmet = if status != expected {
            Some(format!("status {status}, expected {expected}"))
        } else if let Some(needle) = &config.body_contains
            && !String::from_utf8_lossy(&exchange.body).contains(needle.as_str())
        {
            Some(format!("the body does not contain `{needle}`"))
        } else if let Some(path) = &config.json_path {
            json_unmet(&body, path, config.json_value.as_ref())
        } else {
            None
        };
        Ok(Probe { seen, unmet })
    }
}

async fn probe_tcp(config: &WaitForConfig) -> Result<Probe, StepError> {
    let (Some(host), Some(port)) = (&config.host, literal(config.port.as_ref())) else {
        return Err(StepError::config(
            "wait_for with `type: tcp` needs `host` and `port`",
        ));
    };
    Ok(
        match tokio::net::TcpStream::connect((host.as_str(), port)).await {
            Ok(_) => Probe {
                seen: json!({"connected": true, "host": host, "port": port}),
                unmet: None,
            },
            Err(e) => Probe {
                seen: json!({"connected": false, "host": host, "port": port, "error": e.to_string()}),
                unmet: Some(format!("cannot connect to {host}:{port}: {e}")),
            },
        },
    )
}

/// Why the value at `path` is missing or differs from `expected` (compared as text).
fn json_unmet(body: &Value, path: &str, expected: Option<&Value>) -> Option<String> {
    let Some(found) = at_path(body, path) else {
        return Some(format!("`{path}` is not in the body"));
    };
    let expected = expected?;
    let (found, expected) = (value_text(found), value_text(expected));
    (found != expected).then(|| format!("`{path}` is `{found}`, expected `{expected}`"))
}

/// A dot path (`data.items.0.status`, also `$.data.items[0].status`); numeric segments index arrays.
fn at_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let path = path
        .trim_start_matches('$')
        .replace('[', ".")
        .replace(']', "");
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(value, |current, segment| match current {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_walk_objects_and_arrays() {
        let body = json!({"data": {"items": [{"status": "ok"}, {"n": 2}]}});
        assert_eq!(at_path(&body, "data.items.0.status"), Some(&json!("ok")));
        assert_eq!(at_path(&body, "$.data.items[1].n"), Some(&json!(2)));
        assert_eq!(at_path(&body, "data.items.x"), None);
        assert_eq!(at_path(&body, "data.missing"), None);
    }

    #[test]
    fn values_compare_as_text() {
        let body = json!({"count": 3, "state": "up"});
        assert_eq!(json_unmet(&body, "count", Some(&json!("3"))), None);
        assert_eq!(json_unmet(&body, "state", None), None);
        assert_eq!(
            json_unmet(&body, "state", Some(&json!("down"))),
            Some("`state` is `up`, expected `down`".to_string())
        );
        assert!(json_unmet(&body, "nope", None).is_some());
    }
}
