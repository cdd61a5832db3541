//! Record mode: each proxied exchange becomes an endpoint appended to a mock file.

use std::path::PathBuf;
use std::sync::Mutex;

use http::header;
use indexmap::IndexMap;
use serde_json::Value;

use crate::definition::{EndpointDef, MatchDef, MockDefinition, ResponseDef};
use crate::outcome::MockResponse;
use crate::proxy::is_hop_by_hop;
use crate::request::MockRequest;
use testmesh_flow::to_yaml;

/// Appends exchanges to a mock file, rewriting it atomically each time.
pub(crate) struct Recorder {
    file: PathBuf,
    name: String,
    endpoints: Mutex<Vec<EndpointDef>>,
}

impl Recorder {
    /// Opens `file`; endpoints already recorded there are kept and appended to.
    pub fn open(file: PathBuf, name: &str) -> Result<Recorder, String> {
        let endpoints = if file.exists() {
            let mocks = crate::load::load_file(&file).map_err(|e| {
                format!(
                    "the recording `{}` cannot be appended to:\n{e}",
                    file.display()
                )
            })?;
            mocks.into_iter().flat_map(|m| m.endpoints).collect()
        } else {
            Vec::new()
        };
        Ok(Recorder {
            file,
            name: name.to_string(),
            endpoints: Mutex::new(endpoints),
        })
    }

    /// Appends one exchange and writes the file.
    pub fn record(&self, req: &MockRequest, resp: &MockResponse) -> Result<(), String> {
        let endpoint = endpoint_for(req, resp);
        let mut endpoints = self.endpoints.lock().unwrap_or_else(|e| e.into_inner());
        endpoints.push(endpoint);
        let mut mock = MockDefinition::new(self.name.clone());
        mock.endpoints = endpoints.clone();
        let text = format!(
            "# Recorded by TestMesh: each endpoint answers like the target did.\n{}",
            to_yaml(&mock.to_json())
        );
        write_atomically(&self.file, text.as_bytes())
            .map_err(|e| format!("cannot write the recording `{}`: {e}", self.file.display()))
    }
}

/// Writes through a temporary file in the same directory, then renames it over `path`, so a reader
/// never sees half a file.
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "recording.yaml".into());
    let tmp = dir.join(format!(
        ".{file_name}.{}.tmp",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The endpoint that answers `req` like `resp`: method, exact path, query values, status, headers
/// (minus hop-by-hop ones) and the body (JSON when it is JSON), literally (no templating).
pub(crate) fn endpoint_for(req: &MockRequest, resp: &MockResponse) -> EndpointDef {
    let mut endpoint = EndpointDef::new(req.method.as_str(), "");
    if req.path.contains([':', '{', '}', '*']) {
        endpoint.match_.path_pattern = Some(format!("^{}$", regex::escape(&req.path)));
    } else {
        endpoint.path = req.path.clone();
    }
    let mut query = IndexMap::new();
    for (k, v) in &req.query {
        query.entry(k.clone()).or_insert_with(|| {
            if v.starts_with("regex:") {
                format!("regex:^{}$", regex::escape(v))
            } else {
                v.clone()
            }
        });
    }
    endpoint.match_ = MatchDef {
        query,
        ..endpoint.match_
    };
    let mut response = ResponseDef {
        status: resp.status.as_u16(),
        template: false,
        ..ResponseDef::default()
    };
    for (name, value) in &resp.headers {
        if is_hop_by_hop(name) || *name == header::DATE {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        response
            .headers
            .entry(name.as_str().to_string())
            .and_modify(|v| {
                if name != header::SET_COOKIE {
                    v.push_str(", ");
                    v.push_str(&value);
                }
            })
            .or_insert(value);
    }
    let is_json = resp
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    if !resp.body.is_empty() {
        match serde_json::from_slice::<Value>(&resp.body) {
            Ok(v) if is_json && !v.is_string() => response.body = Some(v),
            _ => response.body_text = Some(String::from_utf8_lossy(&resp.body).into_owned()),
        }
    }
    endpoint.response = Some(response);
    endpoint
}
