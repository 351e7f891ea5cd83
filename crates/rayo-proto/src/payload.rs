//! One payload of a stanza, typed when it belongs to a namespace this crate knows.

use minidom::Element;
use xso::error::FromElementError;

use crate::address::EntityKind;
use crate::command::{is_command, Command};
use crate::error::Error;
use crate::event::{is_event, Event};
use crate::generated::{cmr, rayo};
use crate::ns;

/// A payload of an IQ, presence or message.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per stanza and moved; boxing would add an allocation per stanza"
)]
pub enum Payload {
    /// A command (in an IQ set).
    Command(Command),
    /// An event (in a presence).
    Event(Event),
    /// The reference to a new call, mixer or component (in an IQ result).
    Ref(rayo::Ref),
    /// XEP-0354 routing state (`<query/>`).
    CmrQuery(cmr::Query),
    /// XEP-0354 algorithm change or message routing hint (`<cmr/>`).
    Cmr(cmr::Cmr),
    /// A payload of another protocol (caps, disco, …), kept as received.
    Other(Element),
}

/// Where a payload was found: decides how an element is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The payload of an IQ set sent to an entity of this kind.
    Set(EntityKind),
    /// The payload of an IQ get.
    Get,
    /// The payload of an IQ result.
    Result,
    /// A payload of a presence.
    Presence,
    /// A payload of a message.
    Message,
}

impl Payload {
    /// Reads a payload found in `context`. Elements of namespaces this crate does not know
    /// are kept as [`Payload::Other`]; a known element in the wrong place is an error.
    pub fn parse(context: Context, elem: Element) -> Result<Payload, Error> {
        let ns = elem.ns();
        let name = elem.name();
        if !ns::is_schema_namespace(&ns) {
            return Ok(Payload::Other(elem));
        }
        Ok(match (context, ns.as_str(), name) {
            (Context::Set(kind), _, _) if is_command(&ns, name) => {
                Payload::Command(Command::parse(kind, elem)?)
            }
            (Context::Presence, _, _) if is_event(&ns, name) => Payload::Event(Event::parse(elem)?),
            (Context::Result, ns::RAYO, "ref") => Payload::Ref(typed(elem)?),
            (Context::Get | Context::Result, ns::CMR, "query") => Payload::CmrQuery(typed(elem)?),
            (Context::Set(_) | Context::Message, ns::CMR, "cmr") => Payload::Cmr(typed(elem)?),
            (Context::Set(_) | Context::Get, _, _)
                if ns::RAYO_NAMESPACES.contains(&ns.as_str()) =>
            {
                return Err(Error::UnknownCommand {
                    name: name.to_owned(),
                    ns,
                })
            }
            _ => {
                return Err(Error::UnknownPayload {
                    name: name.to_owned(),
                    ns,
                })
            }
        })
    }

    /// Checks the rules the schema cannot express, for commands and events.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Payload::Command(c) => c.validate(),
            Payload::Event(e) => e.validate(),
            Payload::Ref(r) => crate::address::jid_from_uri(&r.uri).map(drop),
            _ => Ok(()),
        }
    }
}

impl From<Payload> for Element {
    fn from(p: Payload) -> Element {
        match p {
            Payload::Command(c) => c.into(),
            Payload::Event(e) => e.into(),
            Payload::Ref(r) => r.into(),
            Payload::CmrQuery(q) => q.into(),
            Payload::Cmr(c) => c.into(),
            Payload::Other(e) => e,
        }
    }
}

/// Parses a generated type from an element, mapping xso's errors to [`Error`].
pub(crate) fn typed<T>(elem: Element) -> Result<T, Error>
where
    T: TryFrom<Element, Error = FromElementError>,
{
    let name = elem.name().to_owned();
    let ns = elem.ns();
    T::try_from(elem).map_err(|e| match e {
        FromElementError::Mismatch(_) => Error::UnknownPayload { name, ns },
        FromElementError::Invalid(e) => Error::Malformed {
            name,
            reason: e.to_string(),
        },
    })
}
