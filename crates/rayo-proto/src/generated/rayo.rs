//! `urn:xmpp:rayo:1`: types generated from `xsd/rayo.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:1";

/// Informs the recipient that a new call is available for control and invites it to take
/// control using progress commands below.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "offer", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Offer {
    /// The target URI for the call. May be a tel URI, SIP URI, a JID (for Jingle) or some other
    /// platform-specific addressing mechanism.
    #[xml(attribute(name = "to"))]
    pub to: String,
    /// The caller ID URI for the call. May be a tel URI, SIP URI, a JID (for Jingle) or some
    /// other platform-specific addressing mechanism.
    #[xml(attribute(name = "from", default))]
    pub from: Option<String>,
    /// Set of header variables sent by the originating party (eg SIP INVITE headers).
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
}

/// A header of the underlying signalling (eg a SIP header) as a name and value pair. Several
/// headers may share a name; their order is kept.
///
/// Declared locally inside other elements of this namespace.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "header", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Header {
    /// A token giving the name by which the header may be known.
    #[xml(attribute(name = "name"))]
    pub name: String,
    /// The string value of the named header.
    #[xml(attribute(name = "value"))]
    pub value: String,
}

/// Indication that an outbound call has begun ringing, or accepted by the remote party.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "ringing", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Ringing {
    /// The `<header/>` children, in document order.
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
}

/// Indication that an outbound call has been answered and that the 3rd party negotiation has
/// completed. At this point, the media stream should be open.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "answered", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Answered {
    /// The `<header/>` children, in document order.
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
}

/// Indication that the call has come to an end, giving the reason.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "end", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct End {
    /// The reason the call ended: exactly one end reason element.
    #[xml(child)]
    pub reason: EndReason,
    /// Set of header variables sent by the remote party along with the indication of the call
    /// ending.
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
}

/// The reason the call ended: exactly one end reason element.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS)]
pub enum EndReason {
    /// Indication that the call ended due to a normal hangup by the remote party.
    #[xml(name = "hungup", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    Hungup {
        /// A platform-specific end code. This could be a SIP code, ITU-T Q.850 or some other
        /// system. The code may be an arbitrary string.
        #[xml(attribute(name = "platform-code", default))]
        platform_code: Option<String>,
    },
    /// Indication that the call ended due to a normal hangup triggered by a hangup command.
    #[xml(name = "hangup-command", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    HangupCommand {
        /// A platform-specific end code. This could be a SIP code, ITU-T Q.850 or some other
        /// system. The code may be an arbitrary string.
        #[xml(attribute(name = "platform-code", default))]
        platform_code: Option<String>,
    },
    /// Indication that the call ended due to a timeout in contacting the remote party.
    #[xml(name = "timeout", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    Timeout {
        /// A platform-specific end code. This could be a SIP code, ITU-T Q.850 or some other
        /// system. The code may be an arbitrary string.
        #[xml(attribute(name = "platform-code", default))]
        platform_code: Option<String>,
    },
    /// Indication that the call ended due to being rejected by the remote party subsequent to
    /// being accepted.
    #[xml(name = "busy", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    Busy {
        /// A platform-specific end code. This could be a SIP code, ITU-T Q.850 or some other
        /// system. The code may be an arbitrary string.
        #[xml(attribute(name = "platform-code", default))]
        platform_code: Option<String>,
    },
    /// Indication that the call ended due to being rejected by the remote party before being
    /// accepted.
    #[xml(name = "rejected", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    Rejected {
        /// A platform-specific end code. This could be a SIP code, ITU-T Q.850 or some other
        /// system. The code may be an arbitrary string.
        #[xml(attribute(name = "platform-code", default))]
        platform_code: Option<String>,
    },
    /// Indication that the call ended due to a system error.
    #[xml(name = "error", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    Error {
        /// A platform-specific end code. This could be a SIP code, ITU-T Q.850 or some other
        /// system. The code may be an arbitrary string.
        #[xml(attribute(name = "platform-code", default))]
        platform_code: Option<String>,
    },
    /// Indication that the call ended due to a normal hangup by the remote party. Spelling of
    /// hungup used by example 87 of XEP-0327; receivers treat it as hungup and servers send
    /// hungup.
    #[xml(name = "hangup", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    Hangup {
        /// A platform-specific end code. This could be a SIP code, ITU-T Q.850 or some other
        /// system. The code may be an arbitrary string.
        #[xml(attribute(name = "platform-code", default))]
        platform_code: Option<String>,
    },
}

/// Instructs the server to send notification to the calling party that the call will be dealt
/// with and that ringing may begin.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "accept", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Accept {
    /// The `<header/>` children, in document order.
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
}

/// Instructs the server to pick up an incoming call and connect the media stream.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "answer", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Answer {
    /// The `<header/>` children, in document order.
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
}

/// Instructs the calling party that the call will not be accepted and that instead it should
/// try to call the URI indicated in the command.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "redirect", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Redirect {
    /// The new target URI for the call to be redirected to.
    #[xml(attribute(name = "to"))]
    pub to: String,
    /// The `<header/>` children, in document order.
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
}

/// Instructs the server to reject the call with a given reason.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "reject", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Reject {
    /// The reason the call is rejected: a single reject reason element.
    ///
    /// Optional in the schema: see the crate's validation for the rule that requires it.
    #[xml(child(default))]
    pub reason: Option<RejectReason>,
    /// The `<header/>` children, in document order.
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
}

/// The reason the call is rejected: a single reject reason element.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS)]
pub enum RejectReason {
    /// Indicates that the controlling party refused the call for an unspecified reason, such as
    /// access control.
    #[xml(name = "decline", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    Decline,
    /// Indicates that the controlling party refused the call due to excess load.
    #[xml(name = "busy", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    Busy,
    /// Indicates that the controlling party refused the call because some error occurred.
    #[xml(name = "error", on_unknown_attribute = Fail, on_unknown_child = Fail)]
    Error,
}

/// Instructs the server to bring the call to an end naturally.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "hangup", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Hangup {
    /// The `<header/>` children, in document order.
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
}

/// Instructs the server to create a new call and surrender control of it to the requesting
/// party.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "dial", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Dial {
    /// Indicates the party to whom the call should be directed.
    #[xml(attribute(name = "to"))]
    pub to: String,
    /// Indicates the caller ID with which the call should appear to originate.
    #[xml(attribute(name = "from", default))]
    pub from: Option<String>,
    /// Indicates the URI at which the client wishes the call to be presented.
    #[xml(attribute(name = "uri", default))]
    pub uri: Option<String>,
    /// Indicates the maximum time allowed for a response to be provided by the remote party
    /// before the call should be considered to have come to an end. `None` when absent or `-1`:
    /// disabled, the schema's default.
    #[xml(attribute(name = "timeout", default, codec = crate::codec::Timeout))]
    pub timeout: Option<core::time::Duration>,
    /// The `<header/>` children, in document order.
    #[xml(child(n = ..))]
    pub headers: Vec<Header>,
    /// Instructs the server to join the new call in the indicated manner rather than the
    /// default (join to the local media server).
    #[xml(child(n = ..))]
    pub joins: Vec<Join>,
}

/// Instructs the server to join the media streams of the call and the specified party, given
/// direction and media negotiation parameters.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "join", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Join {
    /// Indicates the 3rd party call URI to which the target call should be joined. May not be
    /// set if the mixer-name attribute is set.
    #[xml(attribute(name = "call-uri", default))]
    pub call_uri: Option<String>,
    /// Indicates the mixer name to which the target call should be joined. May not be set if
    /// the call-id attribute is set.
    #[xml(attribute(name = "mixer-name", default))]
    pub mixer_name: Option<String>,
    /// Indicates the direction in which the media should flow between the call and the 3rd
    /// party. Absent means the schema's default, `duplex`: see [`Self::direction()`].
    #[xml(attribute(name = "direction", default))]
    pub direction: Option<JoinDirection>,
    /// Indicates the manner in which the server should negotiate media between the two parties.
    /// Absent means the schema's default, `bridge`: see [`Self::media()`].
    #[xml(attribute(name = "media", default))]
    pub media: Option<JoinMedia>,
}

impl Join {
    /// The `direction` attribute, or its schema default `duplex` when absent.
    pub fn direction(&self) -> JoinDirection {
        self.direction.unwrap_or(JoinDirection::Duplex)
    }
    /// The `media` attribute, or its schema default `bridge` when absent.
    pub fn media(&self) -> JoinMedia {
        self.media.unwrap_or(JoinMedia::Bridge)
    }
}

/// Indicates the direction in which the media should flow between the call and the 3rd party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JoinDirection {
    /// Indicates that media should flow in both directions between the parties.
    #[default]
    Duplex,
    /// Indicates that media should only flow from the target call to the third party.
    Send,
    /// Indicates that media should only flow from the third party to the target call.
    Recv,
}

impl JoinDirection {
    /// The value as written in XML.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Duplex => "duplex",
            Self::Send => "send",
            Self::Recv => "recv",
        }
    }
}

impl core::fmt::Display for JoinDirection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl xso::FromXmlText for JoinDirection {
    fn from_xml_text(s: String) -> Result<Self, xso::error::Error> {
        match s.trim() {
            "duplex" => Ok(Self::Duplex),
            "send" => Ok(Self::Send),
            "recv" => Ok(Self::Recv),
            _ => Err(xso::error::Error::Other("unknown JoinDirection value")),
        }
    }
}

impl xso::AsXmlText for JoinDirection {
    fn as_xml_text(&self) -> Result<std::borrow::Cow<'_, str>, xso::error::Error> {
        Ok(std::borrow::Cow::Borrowed(self.as_str()))
    }
}

/// Indicates the manner in which the server should negotiate media between the two parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JoinMedia {
    /// Instructs the server to bridge the parties media streams via its local media server.
    #[default]
    Bridge,
    /// Instructs the server to have the parties negotiate media directly with one another.
    Direct,
}

impl JoinMedia {
    /// The value as written in XML.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bridge => "bridge",
            Self::Direct => "direct",
        }
    }
}

impl core::fmt::Display for JoinMedia {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl xso::FromXmlText for JoinMedia {
    fn from_xml_text(s: String) -> Result<Self, xso::error::Error> {
        match s.trim() {
            "bridge" => Ok(Self::Bridge),
            "direct" => Ok(Self::Direct),
            _ => Err(xso::error::Error::Other("unknown JoinMedia value")),
        }
    }
}

impl xso::AsXmlText for JoinMedia {
    fn as_xml_text(&self) -> Result<std::borrow::Cow<'_, str>, xso::error::Error> {
        Ok(std::borrow::Cow::Borrowed(self.as_str()))
    }
}

/// Instructs the server to unjoin the media streams of the call and the specified party.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "unjoin", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Unjoin {
    /// Indicates the 3rd party call URI to which the target call should be joined. May not be
    /// set if the mixer-name attribute is set.
    #[xml(attribute(name = "call-uri", default))]
    pub call_uri: Option<String>,
    /// Indicates the mixer name to which the target call should be joined. May not be set if
    /// the call-id attribute is set.
    #[xml(attribute(name = "mixer-name", default))]
    pub mixer_name: Option<String>,
}

/// Indicates that the call was successfully joined to the specified party.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "joined", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Joined {
    /// Indicates the 3rd party call URI to which the target call should be joined. May not be
    /// set if the mixer-name attribute is set.
    #[xml(attribute(name = "call-uri", default))]
    pub call_uri: Option<String>,
    /// Indicates the mixer name to which the target call should be joined. May not be set if
    /// the call-id attribute is set.
    #[xml(attribute(name = "mixer-name", default))]
    pub mixer_name: Option<String>,
}

/// Indicates that the call ceased to be joined to the specified party.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "unjoined", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Unjoined {
    /// Indicates the 3rd party call URI to which the target call should be joined. May not be
    /// set if the mixer-name attribute is set.
    #[xml(attribute(name = "call-uri", default))]
    pub call_uri: Option<String>,
    /// Indicates the mixer name to which the target call should be joined. May not be set if
    /// the call-id attribute is set.
    #[xml(attribute(name = "mixer-name", default))]
    pub mixer_name: Option<String>,
}

/// Indicates that a call joined to a mixer with which the controlling party has an events
/// subscription has activated a speech detector, providing its ID.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "started-speaking", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct StartedSpeaking {
    /// Indicates the URI of the call which has triggered the speech detector.
    #[xml(attribute(name = "call-uri"))]
    pub call_uri: String,
}

/// Indicates that a call joined to a mixer with which the controlling party has an events
/// subscription has ceased activation of a speech detector, providing its ID.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "stopped-speaking", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct StoppedSpeaking {
    /// Indicates the URI of the call which has triggered the speech detector.
    #[xml(attribute(name = "call-uri"))]
    pub call_uri: String,
}

/// Used to give an indication of the identity of a newly created resource, either a call or a
/// component.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "ref", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Ref {
    /// Gives the URI of the new resource.
    #[xml(attribute(name = "uri"))]
    pub uri: String,
}
