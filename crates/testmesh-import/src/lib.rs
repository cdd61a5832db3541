//! Importers that turn other tools' API descriptions into TestMesh artefacts.
//!
//! [`openapi`] loads OpenAPI 3.0 / 3.1 documents into a reusable model ([`openapi::OpenApi`]), turns
//! them into mock definitions ([`openapi::mock_definition`], the format of the mock engine's files)
//! and checks requests against them ([`openapi::Validator`]), as `testmesh mock serve --openapi` does.

pub mod openapi;
