//! `urn:xmpp:rayo:prompt:1`: types generated from `xsd/rayo-prompt.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:prompt:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:prompt:1";

/// Instructs the server to begin an input detector of the specified mode, with certain
/// attributes, governed by the rules provided in one or more grammar documents, while
/// simultaneously rendering output.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "prompt", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Prompt {
    /// Whether or not the input detector is permitted to interrupt the output. Absent means the
    /// schema's default, `true`: see [`Self::barge_in()`].
    #[xml(attribute(name = "barge-in", default, codec = crate::codec::Token))]
    pub barge_in: Option<bool>,
    /// Provides the output component to be executed
    #[xml(child)]
    pub output: super::output::Output,
    /// Provides the input component to be executed
    #[xml(child)]
    pub input: super::input::Input,
}

impl Prompt {
    /// The `barge-in` attribute, or its schema default `true` when absent.
    pub fn barge_in(&self) -> bool {
        self.barge_in.unwrap_or(true)
    }
}

/// Indicates that the component's input timers have started.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "input-timers-started", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct InputTimersStarted;
