use std::sync::Arc;

use serde_json::Value;
use testmesh_mock::{HubConfig, Mock, MockHub, load};

/// A hub with OS-assigned ports and one mock loaded from YAML.
pub async fn start(yaml: &str) -> (MockHub, Arc<Mock>) {
    let hub = MockHub::new(HubConfig::default());
    let mut mocks = load::load_str(yaml, None).unwrap_or_else(|e| panic!("{e}"));
    let mock = hub.start(mocks.remove(0)).await.unwrap();
    (hub, mock)
}

pub fn url(mock: &Mock, path: &str) -> String {
    format!("{}{path}", mock.base_url().unwrap())
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

pub async fn get(mock: &Mock, path: &str) -> (u16, Value) {
    send(client().get(url(mock, path))).await
}

pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}
