//! `urn:xmpp:cmr:0`: types generated from `xsd/cmr.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! Customizable Message Routing (XEP-0354). Written from the specification text, because the schema published in XEP-0354 section 11 is not well-formed.

use xso::{AsXml, FromXml};

/// The `urn:xmpp:cmr:0` namespace.
pub const NS: &str = "urn:xmpp:cmr:0";

/// Queries (empty, in an IQ get) or reports (in the IQ result) the message routing algorithm
/// active for the bare JID and the algorithms available.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "query", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Query {
    /// The routing algorithm currently active for the bare JID; absent in a request and when
    /// the entity reports available algorithms only.
    #[xml(child(default))]
    pub active: Option<Active>,
    /// The routing algorithms the server offers.
    #[xml(child(n = ..))]
    pub available: Vec<Available>,
}

/// Names the message routing algorithm currently active.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "active", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Active {
    /// The algorithm's URI, such as urn:xmpp:cmr:all, urn:xmpp:cmr:mostactive,
    /// urn:xmpp:cmr:roundrobin or urn:xmpp:cmr:weighted.
    #[xml(attribute(name = "algorithm"))]
    pub algorithm: String,
}

/// Names one message routing algorithm the server supports.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "available", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Available {
    /// The algorithm's URI, such as urn:xmpp:cmr:all, urn:xmpp:cmr:mostactive,
    /// urn:xmpp:cmr:roundrobin or urn:xmpp:cmr:weighted.
    #[xml(attribute(name = "algorithm"))]
    pub algorithm: String,
}

/// In an IQ set, asks the server to make the named algorithm active; in a message, a routing
/// hint naming the algorithm to deliver that message with.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "cmr", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Cmr {
    /// The algorithm's URI, such as urn:xmpp:cmr:all, urn:xmpp:cmr:mostactive,
    /// urn:xmpp:cmr:roundrobin or urn:xmpp:cmr:weighted.
    #[xml(attribute(name = "algorithm"))]
    pub algorithm: String,
}
