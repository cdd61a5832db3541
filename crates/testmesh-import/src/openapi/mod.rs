//! OpenAPI 3.0 and 3.1 documents, and Swagger 2.0 ones converted to 3.0: loading (YAML or JSON,
//! `$ref`s within the document and to other files, errors with file, line, column and JSON
//! pointer), an operation model, deterministic sample values, mock definitions and request
//! validation.
//!
//! [`Document::load`] reads a file; references to other files (`./schemas/pet.yaml`,
//! `common.json#/components/schemas/Error`) are resolved relative to the file holding them and
//! bundled into the document, so every later stage sees local references only. A Swagger 2.0
//! document is converted to OpenAPI 3.0 in memory ([`Document::converted_from`] says so). Errors
//! found at any stage name the file and line where the offending part was written, including
//! bundled files and the original Swagger text.

mod bundle;
mod document;
pub mod flows;
mod mock;
mod model;
mod sample;
mod schema;
mod swagger2;
mod validate;
mod validator_adapter;

pub use document::{Document, SpecVersion};
pub use mock::{MockOptions, body, default_response, mock_definition, prefer_condition};
pub use model::{
    MediaType, OpenApi, Operation, Parameter, ParameterLocation, RequestBody, Response,
    ResponseHeader, is_json_media_type,
};
pub use sample::{MAX_DEPTH, Sampler};
pub use schema::{Direction, compile, to_json_schema};
pub use validate::{PathParams, Rejection, SchemaError, ValidationRequest, Validator};
pub use validator_adapter::MockValidator;
