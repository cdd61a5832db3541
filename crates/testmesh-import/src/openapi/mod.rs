//! OpenAPI 3.0 and 3.1 documents: loading (YAML or JSON, local `$ref`s, errors with file, line,
//! column and JSON pointer), an operation model, deterministic sample values, mock definitions and
//! request validation.

mod document;
pub mod flows;
mod mock;
mod model;
mod sample;
mod schema;
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
