//! `urn:xmpp:rayo:record:complete:1`: types generated from `xsd/rayo-record-complete.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:record:complete:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:record:complete:1";

/// Metadata of the completed recording, given beside the complete reason.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "recording", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Recording {
    /// Indicates the URI at which the recording is made available.
    #[xml(attribute(name = "uri"))]
    pub uri: String,
    /// Indicates the duration of the completed recording.
    #[xml(attribute(name = "duration", codec = crate::codec::Millis))]
    pub duration: core::time::Duration,
    /// Indicates the filesize (in bytes) of the completed recording.
    #[xml(attribute(name = "size", codec = crate::codec::Token))]
    pub size: i64,
}

/// Indicates that the component came to an end due to the max duration being reached.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "max-duration", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct MaxDuration;

/// Indicates that the component came to an end due to no input being detected before the
/// initial-timeout.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "initial-timeout", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct InitialTimeout;

/// Indicates that the component came to an end because no input had been detected for the final
/// timeout duration.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "final-timeout", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct FinalTimeout;
