//! `urn:xmpp:rayo:output:complete:1`: types generated from `xsd/rayo-output-complete.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:output:complete:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:output:complete:1";

/// Indicates that the output component came to an end as a result of reaching the end of the
/// document to be rendered.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "finish", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Finish;

/// Indicates that the output component came to an end due to the maximum time limit being
/// reached.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "max-time", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct MaxTime;
