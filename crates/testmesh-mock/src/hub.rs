//! The registry of running mocks: start and stop them, give each a dedicated listener from a port
//! pool, or mount them under a shared server's URL.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use uuid::Uuid;

use crate::definition::{MockDefinition, TlsDef};
use crate::error::HubError;
use crate::listener::{self, ListenerHandle};
use crate::mock::{Mock, MockOptions};
use crate::outcome::{MockObserver, RequestValidator};
use crate::tls;

/// How a hub places mocks.
#[derive(Clone, Default)]
pub struct HubConfig {
    /// Ports dedicated listeners take when a mock says `port: 0` or has no port (and there is no
    /// mount). Without a pool such mocks get a port from the operating system.
    pub ports: Option<RangeInclusive<u16>>,
    /// A shared server's base URL for mocks, e.g. `http://localhost:5016/mocks`. When set, a mock
    /// without `port` gets no listener and is reached at `{mount}/{id}` (the server routes it there).
    pub mount: Option<String>,
    /// Told about every request and state change of every mock.
    pub observer: Option<Arc<dyn MockObserver>>,
}

struct Running {
    mock: Arc<Mock>,
    listener: Option<ListenerHandle>,
    pool_port: Option<u16>,
}

#[derive(Default)]
struct Inner {
    running: HashMap<Uuid, Running>,
    starting: HashSet<Uuid>,
    pool_in_use: BTreeSet<u16>,
}

/// How to start one mock.
#[derive(Clone, Default)]
pub struct StartOptions {
    /// Checks each request before matching (mocks served from an OpenAPI document).
    pub validator: Option<Arc<dyn RequestValidator>>,
    /// The execution whose flow starts the mock.
    pub execution_id: Option<String>,
}

/// Running mocks by id.
pub struct MockHub {
    config: HubConfig,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for MockHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockHub")
            .field("ports", &self.config.ports)
            .field("mount", &self.config.mount)
            .finish()
    }
}

/// Removes an id from `starting` however `start` ends.
struct StartGuard<'a> {
    hub: &'a MockHub,
    id: Uuid,
}

impl Drop for StartGuard<'_> {
    fn drop(&mut self) {
        self.hub.lock().starting.remove(&self.id);
    }
}

fn url_host(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".into(),
        Ok(ip) if ip.is_unspecified() => "[::1]".into(),
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        _ => host.to_string(),
    }
}

fn bind(host: &str, port: u16) -> Result<std::net::TcpListener, HubError> {
    let addr_text = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let bind_error = |source| HubError::Bind {
        addr: addr_text.clone(),
        source,
    };
    let addrs: Vec<SocketAddr> = addr_text.to_socket_addrs().map_err(bind_error)?.collect();
    let listener = std::net::TcpListener::bind(addrs.as_slice()).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    Ok(listener)
}

impl MockHub {
    /// A hub with the given placement rules.
    pub fn new(config: HubConfig) -> Self {
        MockHub {
            config,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The mount base URL, when mocks are served by a shared server.
    pub fn mount(&self) -> Option<&str> {
        self.config.mount.as_deref()
    }

    /// Starts a mock (with the definition's id when it has one, so a restart keeps the id).
    pub async fn start(&self, definition: MockDefinition) -> Result<Arc<Mock>, HubError> {
        self.start_with(definition, StartOptions::default()).await
    }

    /// Starts a mock with a request validator or on behalf of an execution.
    pub async fn start_with(
        &self,
        mut definition: MockDefinition,
        start: StartOptions,
    ) -> Result<Arc<Mock>, HubError> {
        let id = definition.id.unwrap_or_else(Uuid::new_v4);
        definition.id = Some(id);
        {
            let mut inner = self.lock();
            if inner.running.contains_key(&id) || !inner.starting.insert(id) {
                return Err(HubError::AlreadyRunning(id));
            }
        }
        let _guard = StartGuard { hub: self, id };
        let options = MockOptions {
            validator: start.validator,
            observer: self.config.observer.clone(),
            execution_id: start.execution_id,
        };
        let wants_listener = definition.port.is_some() || self.config.mount.is_none();
        let host = definition
            .host
            .clone()
            .unwrap_or_else(|| "127.0.0.1".to_string());
        let tls = match &definition.tls {
            None => None,
            Some(TlsDef::SelfSigned) => Some(tls::self_signed(&host).map_err(HubError::Tls)?),
            Some(TlsDef::Files { cert, key }) => {
                let base = definition.base_dir.clone().unwrap_or_default();
                let resolve = |p: &str| {
                    if Path::new(p).is_absolute() {
                        Path::new(p).to_path_buf()
                    } else {
                        base.join(p)
                    }
                };
                Some(tls::from_files(&resolve(cert), &resolve(key)).map_err(HubError::Tls)?)
            }
        };
        let requested = definition.port;
        let mock = Arc::new(Mock::new(definition, options)?);
        if let Some(tls) = &tls {
            mock.set_certificate(tls.certificate_pem.clone());
        }
        let (listener, pool_port) = if wants_listener {
            let (std_listener, pool_port) = self.bind_port(&host, requested)?;
            let port = std_listener
                .local_addr()
                .map_err(|source| HubError::Bind {
                    addr: format!("{host}:{}", requested.unwrap_or(0)),
                    source,
                })?
                .port();
            let release = |hub: &MockHub| {
                if let Some(p) = pool_port {
                    hub.lock().pool_in_use.remove(&p);
                }
            };
            let tokio_listener = match tokio::net::TcpListener::from_std(std_listener) {
                Ok(l) => l,
                Err(source) => {
                    release(self);
                    return Err(HubError::Bind {
                        addr: format!("{host}:{port}"),
                        source,
                    });
                }
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            mock.set_address(format!("{scheme}://{}:{port}", url_host(&host)), Some(port));
            let handle = listener::spawn(tokio_listener, tls.map(|t| t.acceptor), mock.clone());
            (Some(handle), pool_port)
        } else {
            let mount = self
                .config
                .mount
                .as_deref()
                .unwrap_or("")
                .trim_end_matches('/');
            mock.set_address(format!("{mount}/{id}"), None);
            (None, None)
        };
        self.lock().running.insert(
            id,
            Running {
                mock: mock.clone(),
                listener,
                pool_port,
            },
        );
        if let Some(o) = &self.config.observer {
            o.on_started(&mock);
        }
        Ok(mock)
    }

    /// Binds the requested port, or the next free one of the pool (`0` or no port), or an
    /// OS-assigned one when there is no pool.
    fn bind_port(
        &self,
        host: &str,
        requested: Option<u16>,
    ) -> Result<(std::net::TcpListener, Option<u16>), HubError> {
        match (requested, &self.config.ports) {
            (Some(p), pool) if p != 0 => {
                let listener = bind(host, p)?;
                let in_pool = pool.as_ref().is_some_and(|r| r.contains(&p));
                if in_pool {
                    self.lock().pool_in_use.insert(p);
                }
                Ok((listener, in_pool.then_some(p)))
            }
            (_, Some(range)) => {
                let mut inner = self.lock();
                for port in range.clone() {
                    if inner.pool_in_use.contains(&port) {
                        continue;
                    }
                    if let Ok(listener) = bind(host, port) {
                        inner.pool_in_use.insert(port);
                        return Ok((listener, Some(port)));
                    }
                }
                Err(HubError::PortsExhausted {
                    start: *range.start(),
                    end: *range.end(),
                    count: range.clone().count(),
                })
            }
            (_, None) => Ok((bind(host, 0)?, None)),
        }
    }

    /// Stops a mock: its listener closes (the port is free when this returns) and it leaves the hub.
    pub async fn stop(&self, id: Uuid) -> Result<Arc<Mock>, HubError> {
        let running = self
            .lock()
            .running
            .remove(&id)
            .ok_or(HubError::NotRunning(id))?;
        if let Some(listener) = running.listener {
            listener.stop().await;
        }
        if let Some(p) = running.pool_port {
            self.lock().pool_in_use.remove(&p);
        }
        if let Some(o) = &self.config.observer {
            o.on_stopped(&running.mock);
        }
        Ok(running.mock)
    }

    /// Stops a mock without waiting, for callers that cannot `.await` (a `Drop`): it leaves the hub
    /// at once and its listener closes the port as soon as the runtime it was started on runs its
    /// task (within milliseconds on a live runtime; at once when that runtime shuts down).
    pub fn stop_now(&self, id: Uuid) -> Result<Arc<Mock>, HubError> {
        let running = self
            .lock()
            .running
            .remove(&id)
            .ok_or(HubError::NotRunning(id))?;
        if let Some(listener) = running.listener {
            listener.signal_stop();
        }
        if let Some(p) = running.pool_port {
            self.lock().pool_in_use.remove(&p);
        }
        if let Some(o) = &self.config.observer {
            o.on_stopped(&running.mock);
        }
        Ok(running.mock)
    }

    /// Stops every mock.
    pub async fn stop_all(&self) {
        let ids: Vec<Uuid> = self.lock().running.keys().copied().collect();
        for id in ids {
            let _ = self.stop(id).await;
        }
    }

    /// A running mock.
    pub fn get(&self, id: Uuid) -> Option<Arc<Mock>> {
        self.lock().running.get(&id).map(|r| r.mock.clone())
    }

    /// A running mock by name (the first one started with it).
    pub fn find_by_name(&self, name: &str) -> Option<Arc<Mock>> {
        self.lock()
            .running
            .values()
            .find(|r| r.mock.name() == name)
            .map(|r| r.mock.clone())
    }

    /// Every running mock.
    pub fn list(&self) -> Vec<Arc<Mock>> {
        self.lock()
            .running
            .values()
            .map(|r| r.mock.clone())
            .collect()
    }
}
