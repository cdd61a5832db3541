//! TestMesh contract testing: the Pact v4 model and the Pact matching engine.
//!
//! - [`parse_pact`] / [`pact_from_json`]: read a pact of any specification version (V1–V4;
//!   V2 flat rules, V3 categories and message pacts are upgraded to the V4 model). Malformed
//!   documents, unknown matcher types and regexes that do not compile are [`PactError`]s naming
//!   the JSON path (`interactions[3].request.method: expected a string`).
//! - [`Pact::to_json`]: write V4 JSON (`metadata.pactSpecification.version = "4.0"`).
//! - [`match_request`], [`match_response`], [`match_message`]: compare an actual part with the
//!   expected one under its matching rules; each [`Mismatch`] names where it is
//!   (`$.items[2].price: expected number, got string "12"`).
//! - [`verify_pacts`] ([`verify`]): replay a pact's interactions against a running provider, with
//!   provider-state setup/teardown through a state-change URL and request [`generate`]ors, into a
//!   [`VerificationReport`] (JSON, JUnit XML). Progress arrives through a callback.
//! - [`diff_pacts`] ([`diff`]): breaking changes between two versions of a pact, each with a
//!   [`Severity`], the interaction and the path.
//! - [`pact_from_exchanges`] ([`build`]): a V4 pact from observed HTTP exchanges, with matching
//!   rules inferred for volatile values and declared [`Hints`] applied.
//! - [`actions`]: the flow actions `contract_generate` and `contract_verify`, keeping contracts
//!   in a [`ContractRepository`] ([`MemoryRepository`] until a store is wired in).
//!
//! ```
//! use testmesh_contract::{parse_pact, match_response, InteractionKind, HttpResponse, Body};
//! let pact = parse_pact(r#"{
//!   "consumer": {"name": "web"}, "provider": {"name": "api"},
//!   "interactions": [{"type": "Synchronous/HTTP", "description": "get item",
//!     "request": {"method": "GET", "path": "/items/1"},
//!     "response": {"status": 200, "body": {"content": {"price": 1.5}, "contentType": "application/json", "encoded": false},
//!       "matchingRules": {"body": {"$.price": {"matchers": [{"match": "number"}]}}}}}],
//!   "metadata": {"pactSpecification": {"version": "4.0"}}}"#)?;
//! let InteractionKind::Http { response, .. } = &pact.interactions[0].kind else { unreachable!() };
//! let actual = HttpResponse { body: Body::json(&serde_json::json!({"price": "12"})), ..HttpResponse::default() };
//! let mismatches = match_response(response, &actual);
//! assert_eq!(mismatches[0].to_string(), "$.price: expected a number, got string \"12\"");
//! # Ok::<(), testmesh_contract::PactError>(())
//! ```

pub mod actions;
pub mod body;
pub mod build;
pub mod datetime;
pub mod diff;
pub mod error;
pub mod generate;
pub mod matching;
pub mod model;
pub mod path_expr;
pub mod read;
pub mod repository;
pub mod rules;
pub mod verify;
mod write;

pub use body::{Body, ContentType};
pub use build::{Hints, Observed, ObservedRequest, ObservedResponse, pact_from_exchanges};
pub use diff::{Change, DiffError, DiffReport, Severity, diff_pacts};
pub use error::PactError;
pub use matching::{Mismatch, MismatchKind, match_message, match_request, match_response};
pub use model::{
    Generators, HttpRequest, HttpResponse, Interaction, InteractionKind, MessageContents, Multimap,
    Pact, Pacticipant, ProviderState, SpecVersion,
};
pub use read::{pact_from_json, parse_pact};
pub use repository::{
    ContractRepository, MemoryRepository, NewContract, NewVerification, RepoFuture,
    RepositoryError, SavedContract,
};
pub use rules::{Combine, HttpStatus, MatchingRule, MatchingRules, RuleCategory, RuleList};
pub use verify::{
    InteractionFilter, InteractionResult, Outcome, PactSource, VerificationReport, VerifyError,
    VerifyEvent, VerifyOptions, verify_pact, verify_pacts,
};
