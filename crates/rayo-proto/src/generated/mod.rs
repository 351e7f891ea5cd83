//! Types generated from the schemas in `xsd/` by rayo-codegen, one module per namespace.
//! Do not edit: change the schema and run `cargo run -p rayo-codegen`.

pub mod cmr;
pub mod ext;
pub mod ext_complete;
pub mod input;
pub mod input_complete;
pub mod output;
pub mod output_complete;
pub mod prompt;
pub mod rayo;
pub mod record;
pub mod record_complete;
