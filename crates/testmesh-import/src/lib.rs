//! Importers that turn other tools' API descriptions into TestMesh artefacts.
//!
//! [`openapi`] loads OpenAPI 3.0 / 3.1 documents (and Swagger 2.0 ones, converted; `$ref`s to other
//! files bundled in) into a reusable model ([`openapi::OpenApi`]), turns them into mock definitions
//! ([`openapi::mock_definition`], the format of the mock engine's files) and checks requests against
//! them ([`openapi::Validator`]), as `testmesh mock serve --openapi` does.
//!
//! [`pact::check_pact_against_openapi`] checks a pact against the provider's OpenAPI document
//! (routes, request and response schemas, documented statuses), for `testmesh contract diff
//! --openapi`.
//!
//! The importers turn documents into flows ([`Import`]): [`openapi::flows`] (OpenAPI and Swagger),
//! [`postman`], [`pact_import`] and [`har`]; [`coverage`] measures which operations of an OpenAPI
//! document flows exercise.
//!
//! Every input is read through [`Source`] (JSON or YAML with positions), so a bad input fails with
//! an [`ImportError`] naming the file, line, column and JSON pointer.

pub mod coverage;
mod error;
pub mod har;
pub mod openapi;
mod output;
pub mod pact;
pub mod pact_import;
pub mod postman;
mod source;

pub use error::ImportError;
pub use output::{GeneratedFlow, Import, Skipped, SourceKind, StepIds, Untranslated, slug};
pub use source::{Location, MAX_INPUT_BYTES, Source, escape, read_text, unescape};
