//! Persisting what mocks do, off the request path: the hub's observer queues journal entries and
//! state changes on a bounded channel (when it is full they are dropped and counted, so a flood of
//! traffic never blocks or slows a mock), and lifecycle changes (start, stop, endpoint edits — rare)
//! on an unbounded one. One background task writes them to the store in batches and keeps each
//! mock's stored journal within its cap.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};
use testmesh_mock::{JournalEntry, Mock, MockObserver};
use testmesh_store::{
    DEFAULT_WORKSPACE_ID, Error as StoreError, MockRequest as StoredRequest, MockStatus,
    NewMockServer, Store,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Header values replaced by [`MASK`] in the stored journal (the in-memory journal keeps them, so
/// verification can still look at them).
const SECRET_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// What a masked value reads as.
pub(crate) const MASK: &str = "********";

/// Journal entries written per statement batch.
const BATCH: usize = 500;

/// A mock that started, stopped or changed its endpoints.
pub(crate) enum Life {
    Started(Box<Started>),
    Stopped(Uuid),
    Endpoints(Uuid, Vec<Value>),
    /// Write everything queued so far, then answer.
    Flush(oneshot::Sender<()>),
}

/// A mock that started serving, as the store records it.
pub(crate) struct Started {
    id: Uuid,
    name: String,
    execution_id: Option<String>,
    settings: Value,
    endpoints: Vec<Value>,
    state: Map<String, Value>,
    base_url: String,
    port: Option<u16>,
}

/// A journal entry or a state change.
pub(crate) enum Data {
    Request(Box<StoredRequest>),
    State(Uuid, String, Option<Value>),
}

/// The hub's observer: queues, never waits.
pub(crate) struct StoreObserver {
    life: mpsc::UnboundedSender<Life>,
    data: mpsc::Sender<Data>,
    dropped: Arc<AtomicU64>,
}

/// The settings part of a definition (everything but id, name and endpoints) and the endpoints.
pub(crate) fn split(definition: &testmesh_mock::MockDefinition) -> (Value, Vec<Value>) {
    let mut json = definition.to_json();
    let endpoints = match json.as_object_mut() {
        Some(map) => {
            map.remove("id");
            map.remove("name");
            match map.remove("endpoints") {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    (json, endpoints)
}

fn endpoints_json(mock: &Mock) -> Vec<Value> {
    mock.endpoints()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
        .collect()
}

impl StoreObserver {
    /// An observer and the task that writes what it queues. `capacity`: journal entries and state
    /// changes held before new ones are dropped; `journal_cap`: stored entries kept per mock.
    pub(crate) fn start(
        store: Store,
        capacity: usize,
        journal_cap: i64,
    ) -> (Arc<StoreObserver>, tokio::task::JoinHandle<()>) {
        let (life, life_rx) = mpsc::unbounded_channel();
        let (data, data_rx) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            store,
            journal_cap: journal_cap.max(1),
            since_prune: HashMap::new(),
        };
        let task = tokio::spawn(writer.run(life_rx, data_rx));
        (
            Arc::new(StoreObserver {
                life,
                data,
                dropped,
            }),
            task,
        )
    }

    /// Journal entries and state changes dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until everything queued before this call is written.
    pub(crate) async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.life.send(Life::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    fn queue(&self, data: Data) {
        if self.data.try_send(data).is_err() {
            let before = self.dropped.fetch_add(1, Ordering::Relaxed);
            // Say so once per 1,000 rather than once per request.
            if before.is_multiple_of(1000) {
                tracing::warn!(
                    dropped = before + 1,
                    "the mock journal queue is full; entries are dropped, not stored"
                );
            }
        }
    }
}

/// The stored form of a journal entry, with secret header values masked.
pub(crate) fn stored_request(mock_id: Uuid, entry: &JournalEntry) -> StoredRequest {
    let headers: Vec<(String, String)> = entry
        .headers
        .iter()
        .map(|(k, v)| {
            let secret = SECRET_HEADERS.iter().any(|s| k.eq_ignore_ascii_case(s));
            (k.clone(), if secret { MASK.to_string() } else { v.clone() })
        })
        .collect();
    StoredRequest {
        id: entry.id.to_string(),
        mock_server_id: mock_id.to_string(),
        endpoint_id: entry.endpoint_id.clone(),
        method: entry.method.clone(),
        path: entry.path.clone(),
        query: pairs_json(&entry.query),
        headers: pairs_json(&headers),
        body: Some(entry.body.clone()),
        matched: entry.matched(),
        response_code: entry.status.map(i64::from),
        duration_us: Some((entry.duration_ms * 1000.0).round() as i64),
        near_misses: (!entry.near_misses.is_empty())
            .then(|| serde_json::to_value(&entry.near_misses).unwrap_or(Value::Null)),
        remote: entry.remote.clone(),
        received_at: entry.time,
    }
}

/// Name → value, or a list of values when the name repeats (the original's shape).
fn pairs_json(pairs: &[(String, String)]) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        match map.get_mut(k) {
            None => {
                map.insert(k.clone(), Value::String(v.clone()));
            }
            Some(Value::Array(list)) => list.push(Value::String(v.clone())),
            Some(first) => {
                let first = first.take();
                map.insert(
                    k.clone(),
                    Value::Array(vec![first, Value::String(v.clone())]),
                );
            }
        }
    }
    Value::Object(map)
}

impl MockObserver for StoreObserver {
    fn on_request(&self, mock_id: Uuid, entry: &JournalEntry) {
        self.queue(Data::Request(Box::new(stored_request(mock_id, entry))));
    }

    fn on_state(&self, mock_id: Uuid, key: &str, value: Option<&Value>) {
        self.queue(Data::State(mock_id, key.to_string(), value.cloned()));
    }

    fn on_started(&self, mock: &Mock) {
        let (settings, endpoints) = split(&mock.definition());
        let _ = self.life.send(Life::Started(Box::new(Started {
            id: mock.id(),
            name: mock.name().to_string(),
            execution_id: mock.execution_id().map(str::to_string),
            settings,
            endpoints,
            state: mock.state(),
            base_url: mock.base_url().unwrap_or_default().to_string(),
            port: mock.port(),
        })));
    }

    fn on_stopped(&self, mock: &Mock) {
        let _ = self.life.send(Life::Stopped(mock.id()));
    }

    fn on_endpoints_changed(&self, mock: &Mock) {
        let _ = self
            .life
            .send(Life::Endpoints(mock.id(), endpoints_json(mock)));
    }
}

struct Writer {
    store: Store,
    journal_cap: i64,
    /// Entries written per mock since its journal was last pruned.
    since_prune: HashMap<String, i64>,
}

impl Writer {
    async fn run(
        mut self,
        mut life: mpsc::UnboundedReceiver<Life>,
        mut data: mpsc::Receiver<Data>,
    ) {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                biased;
                event = life.recv() => match event {
                    Some(event) => self.life(event, &mut data).await,
                    None => break,
                },
                n = data.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        break;
                    }
                    // Lifecycle events queued before these entries (a flow-started mock's row)
                    // must be written first.
                    while let Ok(event) = life.try_recv() {
                        self.life(event, &mut data).await;
                    }
                    self.data(std::mem::take(&mut batch)).await;
                }
            }
        }
        // Whatever is left when the hub goes away.
        while let Ok(d) = data.try_recv() {
            batch.push(d);
        }
        self.data(batch).await;
    }

    async fn life(&mut self, event: Life, data: &mut mpsc::Receiver<Data>) {
        let result = match event {
            Life::Started(started) => self.started(*started).await,
            Life::Stopped(id) => self
                .store
                .set_mock_server_status(&id.to_string(), MockStatus::Stopped, None, None, None)
                .await
                .map(|_| ()),
            Life::Endpoints(id, endpoints) => self
                .store
                .replace_mock_endpoints(&id.to_string(), &endpoints)
                .await
                .map(|_| ()),
            Life::Flush(done) => {
                let mut batch = Vec::new();
                while let Ok(d) = data.try_recv() {
                    batch.push(d);
                }
                self.data(batch).await;
                let _ = done.send(());
                Ok(())
            }
        };
        match result {
            // A mock deleted meanwhile has nothing to update.
            Ok(()) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => tracing::warn!(error = %e, "cannot store a mock server change"),
        }
    }

    /// A started mock: its row is marked running, or created when a flow started it.
    async fn started(&self, started: Started) -> Result<(), StoreError> {
        let Started {
            id,
            name,
            execution_id,
            settings,
            endpoints,
            state,
            base_url,
            port,
        } = started;
        let key = id.to_string();
        match self.store.find_mock_server(&key).await {
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => {
                let workspace = match &execution_id {
                    Some(execution) => self
                        .store
                        .find_execution(execution)
                        .await
                        .map(|e| e.workspace_id)
                        .unwrap_or_else(|_| DEFAULT_WORKSPACE_ID.to_string()),
                    None => DEFAULT_WORKSPACE_ID.to_string(),
                };
                let input = NewMockServer {
                    id: Some(key.clone()),
                    name,
                    settings,
                    endpoints,
                    execution_id: execution_id.clone(),
                };
                match self.store.create_mock_server(&workspace, &input).await {
                    Ok(_) => {}
                    // The execution row is not in this store (a CLI run): keep the mock unlinked.
                    Err(_) if execution_id.is_some() => {
                        let input = NewMockServer {
                            execution_id: None,
                            ..input
                        };
                        self.store.create_mock_server(&workspace, &input).await?;
                    }
                    Err(e) => return Err(e),
                }
                self.store.replace_mock_state(&key, &state).await?;
            }
            Err(e) => return Err(e),
        }
        self.store
            .set_mock_server_status(&key, MockStatus::Running, Some(&base_url), port, None)
            .await
            .map(|_| ())
    }

    async fn data(&mut self, batch: Vec<Data>) {
        if batch.is_empty() {
            return;
        }
        let mut requests = Vec::new();
        // The last value of each key wins.
        let mut states: Vec<(Uuid, String, Option<Value>)> = Vec::new();
        for d in batch {
            match d {
                Data::Request(r) => requests.push(*r),
                Data::State(id, key, value) => {
                    states.retain(|(i, k, _)| !(*i == id && *k == key));
                    states.push((id, key, value));
                }
            }
        }
        self.requests(requests).await;
        for (id, key, value) in states {
            if let Err(e) = self
                .store
                .put_mock_state(&id.to_string(), &key, value.as_ref())
                .await
            {
                tracing::debug!(error = %e, mock = %id, "cannot store a mock state change");
            }
        }
    }

    async fn requests(&mut self, mut requests: Vec<StoredRequest>) {
        if requests.is_empty() {
            return;
        }
        if let Err(e) = self.store.record_mock_requests(&requests).await {
            // Most likely a mock deleted meanwhile: keep the entries of the mocks that exist.
            let mut exists: HashMap<String, bool> = HashMap::new();
            for r in &requests {
                if !exists.contains_key(&r.mock_server_id) {
                    let found = self.store.find_mock_server(&r.mock_server_id).await.is_ok();
                    exists.insert(r.mock_server_id.clone(), found);
                }
            }
            requests.retain(|r| exists.get(&r.mock_server_id).copied().unwrap_or(false));
            if let Err(again) = self.store.record_mock_requests(&requests).await {
                tracing::warn!(error = %e, retry = %again, "cannot store mock requests");
                return;
            }
        }
        let every = (self.journal_cap / 10).max(1);
        for r in &requests {
            *self
                .since_prune
                .entry(r.mock_server_id.clone())
                .or_default() += 1;
        }
        let due: Vec<String> = self
            .since_prune
            .iter()
            .filter(|(_, n)| **n >= every)
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.since_prune.remove(&id);
            if let Err(e) = self.store.prune_mock_requests(&id, self.journal_cap).await {
                tracing::warn!(error = %e, mock = %id, "cannot prune a mock's journal");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_become_lists() {
        let pairs = [("a", "1"), ("b", "2"), ("a", "3"), ("a", "4")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(
            pairs_json(&pairs),
            serde_json::json!({"a": ["1", "3", "4"], "b": "2"})
        );
    }
}
