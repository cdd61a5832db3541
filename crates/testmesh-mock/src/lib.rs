//! The TestMesh mock server engine.
//!
//! A mock is a set of endpoints (method, path with `:params`, `{params}` and `*`, query, header and
//! body conditions, priority) that answer with templated, stateful responses, delays and faults; it
//! can pass unmatched requests through to a real target, record a target into a mock file and play
//! it back. Every request is kept in a bounded journal that expectations can be verified against.
//!
//! - [`load`]: definitions from YAML files (errors at `file:line:col`) or JSON (errors naming the
//!   field path); [`MockDefinition`] is the canonical, serializable form.
//! - [`Mock`]: one running mock; [`Mock::handle`] answers a [`MockRequest`] with a [`MockOutcome`].
//! - [`MockHub`]: starts and stops mocks, with dedicated hyper listeners (HTTP/1.1 + HTTP/2, optional
//!   HTTPS) from a port pool, or mounted under a shared server's URL.
//! - [`actions`]: the flow actions (`mock_server_start`, `…_stop`, `…_configure`, `…_verify`,
//!   `…_reset_state`), registered on a runner's registry with [`actions::register`].
//! - [`transport`]: `http::Request` → [`MockRequest`] and [`MockOutcome`] → `http::Response`, for
//!   servers that route `/mocks/{id}/…` themselves.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use testmesh_mock::{HubConfig, MockHub, load};
//! let hub = MockHub::new(HubConfig { ports: Some(20000..=20099), ..HubConfig::default() });
//! for definition in load::load_file(std::path::Path::new("mocks/users.yaml"))? {
//!     let mock = hub.start(definition).await?;
//!     println!("{} at {}", mock.name(), mock.base_url().unwrap_or_default());
//! }
//! # Ok(()) }
//! ```

pub mod actions;
mod compile;
pub mod definition;
pub mod error;
mod hub;
pub mod journal;
mod listener;
pub mod load;
mod matcher;
mod mock;
mod outcome;
mod proxy;
mod record;
mod request;
mod state;
mod template;
mod tls;
pub mod transport;

pub use definition::{
    ChaosRuleDef, ConditionalResponseDef, DelayDef, EndpointDef, JournalDef, LegacyStateDef,
    MatchDef, MockDefinition, MockMode, ProxyDef, ResponseDef, StateAction, StateChangeDef, TlsDef,
};
pub use error::{DefinitionError, HubError, LoadError};
pub use hub::{HubConfig, MockHub, StartOptions};
pub use journal::{Expectation, JournalEntry, NearMiss, VerifyNearMiss, VerifyReport, Violation};
pub use mock::{Mock, MockOptions};
pub use outcome::{Fault, MockObserver, MockOutcome, MockResponse, Rejection, RequestValidator};
pub use request::MockRequest;
pub use transport::{MockBody, outcome_to_http, request_from_http};
