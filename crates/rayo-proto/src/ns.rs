//! Namespaces of the Rayo protocol and the capability nodes it announces.

pub use crate::generated::cmr::NS as CMR;
pub use crate::generated::ext::NS as EXT;
pub use crate::generated::ext_complete::NS as EXT_COMPLETE;
pub use crate::generated::input::NS as INPUT;
pub use crate::generated::input_complete::NS as INPUT_COMPLETE;
pub use crate::generated::output::NS as OUTPUT;
pub use crate::generated::output_complete::NS as OUTPUT_COMPLETE;
pub use crate::generated::prompt::NS as PROMPT;
pub use crate::generated::rayo::NS as RAYO;
pub use crate::generated::record::NS as RECORD;
pub use crate::generated::record_complete::NS as RECORD_COMPLETE;

/// Caps node (XEP-0115) of a call's first presence (XEP-0327 §6.2.2).
pub const CALL_CAPS: &str = "urn:xmpp:rayo:call:1";
/// Caps node of a mixer's first presence (XEP-0327 §6.4).
pub const MIXER_CAPS: &str = "urn:xmpp:rayo:mixer:1";
/// Caps node and disco feature of a Rayo client (XEP-0327 §6.1).
pub const CLIENT_CAPS: &str = "urn:xmpp:rayo:client:1";
/// Caps node of a Rayo node presenting itself to a gateway (XEP-0349).
pub const NODE_CAPS: &str = "urn:xmpp:rayo:node:1";
/// Caps node of a Rayo gateway (XEP-0349).
pub const GATEWAY_CAPS: &str = "urn:xmpp:rayo:gateway:1";

/// The XMPP client namespace stanzas are read in when they carry none.
pub const JABBER_CLIENT: &str = "jabber:client";
/// XEP-0115 entity capabilities.
pub const CAPS: &str = "http://jabber.org/protocol/caps";
/// XEP-0030 service discovery, info.
pub const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
/// XEP-0199 XMPP ping.
pub const PING: &str = "urn:xmpp:ping";
/// XEP-0203 delayed delivery.
pub const DELAY: &str = "urn:xmpp:delay";
/// RFC 6120 stanza error conditions.
pub const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// The ten namespaces of XEP-0327's schemas, plus XEP-0354's.
pub const SCHEMA_NAMESPACES: [&str; 11] = [
    RAYO,
    EXT,
    EXT_COMPLETE,
    OUTPUT,
    OUTPUT_COMPLETE,
    INPUT,
    INPUT_COMPLETE,
    PROMPT,
    RECORD,
    RECORD_COMPLETE,
    CMR,
];

/// The thirteen Rayo namespaces: the ten schema namespaces of XEP-0327 and the call, mixer
/// and client capability namespaces.
pub const RAYO_NAMESPACES: [&str; 13] = [
    RAYO,
    EXT,
    EXT_COMPLETE,
    OUTPUT,
    OUTPUT_COMPLETE,
    INPUT,
    INPUT_COMPLETE,
    PROMPT,
    RECORD,
    RECORD_COMPLETE,
    CALL_CAPS,
    MIXER_CAPS,
    CLIENT_CAPS,
];

/// Whether `ns` is one of the namespaces whose payloads this crate types.
pub fn is_schema_namespace(ns: &str) -> bool {
    SCHEMA_NAMESPACES.contains(&ns)
}
