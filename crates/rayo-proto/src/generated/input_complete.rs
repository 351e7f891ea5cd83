//! `urn:xmpp:rayo:input:complete:1`: types generated from `xsd/rayo-input-complete.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:input:complete:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:input:complete:1";

/// Indicates that the component came to an end due to one of its grammars matching the received
/// input. Provides the NLSML result of the grammar match after any symantic processing which
/// may have been performed. See the NLSML spec for details.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "match", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Match {
    /// Indicates the content type of the result document provided as CDATA. Absent means the
    /// schema's default, `application/nlsml+xml`: see [`Self::content_type()`].
    #[xml(attribute(name = "content-type", default))]
    pub content_type: Option<String>,
    /// The body (a document given inline, usually as CDATA), kept byte for byte.
    #[xml(text(codec = crate::codec::Body))]
    pub body: String,
}

impl Match {
    /// The `content-type` attribute, or its schema default `application/nlsml+xml` when absent.
    pub fn content_type(&self) -> &str {
        self.content_type
            .as_deref()
            .unwrap_or("application/nlsml+xml")
    }
}

/// Indicates that the component came to an end because a timeout was triggered before input was
/// received.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "noinput", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Noinput;

/// Indicates that the component came to an end because input was received which did not match
/// any of the specified grammars.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "nomatch", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Nomatch;
