//! Stream errors (RFC 6120 §4.9): the conditions this crate raises and reads.

use minidom::Element;

/// The namespace of stream error conditions.
pub const NS_STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";

/// A stream error condition (RFC 6120 §4.9.3). A stream error always ends the stream it is
/// sent on, and only that stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Condition {
    /// `<bad-format/>`: XML that is well-formed but not acceptable.
    BadFormat,
    /// `<conflict/>`: a new session bound the same full JID and replaced this one.
    Conflict,
    /// `<connection-timeout/>`: the peer stopped answering keepalive pings.
    ConnectionTimeout,
    /// `<host-unknown/>`: the stream header's `to` is not a domain served here.
    HostUnknown,
    /// `<internal-server-error/>`.
    InternalServerError,
    /// `<invalid-namespace/>`: wrong stream or content namespace.
    InvalidNamespace,
    /// `<not-authorized/>`: stanzas before authentication, or a failed component handshake.
    NotAuthorized,
    /// `<not-well-formed/>`: the bytes are not well-formed XML.
    NotWellFormed,
    /// `<policy-violation/>`: a stanza over the size limit, or sending faster than allowed.
    PolicyViolation,
    /// `<resource-constraint/>`: the peer reads too slowly; its outbound queue is full.
    ResourceConstraint,
    /// `<system-shutdown/>`.
    SystemShutdown,
    /// `<undefined-condition/>`.
    UndefinedCondition,
    /// `<unsupported-stanza-type/>`: a top-level element that is no stanza.
    UnsupportedStanzaType,
    /// `<unsupported-version/>`: a stream version other than 1.0.
    UnsupportedVersion,
}

const ALL: [(Condition, &str); 14] = [
    (Condition::BadFormat, "bad-format"),
    (Condition::Conflict, "conflict"),
    (Condition::ConnectionTimeout, "connection-timeout"),
    (Condition::HostUnknown, "host-unknown"),
    (Condition::InternalServerError, "internal-server-error"),
    (Condition::InvalidNamespace, "invalid-namespace"),
    (Condition::NotAuthorized, "not-authorized"),
    (Condition::NotWellFormed, "not-well-formed"),
    (Condition::PolicyViolation, "policy-violation"),
    (Condition::ResourceConstraint, "resource-constraint"),
    (Condition::SystemShutdown, "system-shutdown"),
    (Condition::UndefinedCondition, "undefined-condition"),
    (Condition::UnsupportedStanzaType, "unsupported-stanza-type"),
    (Condition::UnsupportedVersion, "unsupported-version"),
];

impl Condition {
    /// The element name, such as `not-well-formed`.
    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(c, _)| *c == self)
            .map_or("undefined-condition", |(_, n)| n)
    }

    /// The condition named `name`, if this crate knows it.
    pub fn from_name(name: &str) -> Option<Condition> {
        ALL.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
    }

    /// The `<stream:error>` element followed by the stream's end, ready to send.
    pub fn to_xml(self, text: &str) -> String {
        let mut s = format!(
            "<stream:error><{} xmlns='{NS_STREAM_ERRORS}'/>",
            self.name()
        );
        if !text.is_empty() {
            s.push_str(&format!(
                "<text xmlns='{NS_STREAM_ERRORS}' xml:lang='en'>{}</text>",
                crate::xml::escape(text)
            ));
        }
        s.push_str("</stream:error>");
        s.push_str(crate::xml::STREAM_CLOSE);
        s
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A `<stream:error>` received from the peer: its condition name and text.
pub fn read(el: &Element) -> Option<(String, Option<String>)> {
    if !el.is("error", crate::xml::NS_STREAMS) {
        return None;
    }
    let cond = el
        .children()
        .find(|c| c.ns() == NS_STREAM_ERRORS && c.name() != "text")
        .map_or_else(|| "undefined-condition".to_owned(), |c| c.name().to_owned());
    let text = el.get_child("text", NS_STREAM_ERRORS).map(|t| t.text());
    Some((cond, text))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (c, n) in ALL {
            assert_eq!(c.name(), n);
            assert_eq!(Condition::from_name(n), Some(c));
        }
        assert!(Condition::PolicyViolation
            .to_xml("too big")
            .contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"));
    }
}
