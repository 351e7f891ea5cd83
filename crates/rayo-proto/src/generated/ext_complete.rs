//! `urn:xmpp:rayo:ext:complete:1`: types generated from `xsd/rayo-ext-complete.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:ext:complete:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:ext:complete:1";

/// Indicates that the component came to an end because it was issued a stop command by the
/// controlling party.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "stop", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Stop;

/// Indicates that the component came to an end because the call ended.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "hangup", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Hangup;

/// Indicates that the component came to an end because it encountered an error.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "error", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Error {
    /// The text content, kept byte for byte.
    #[xml(text(codec = crate::codec::Body))]
    pub text: String,
}
