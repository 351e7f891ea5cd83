//! Whole stanzas: the XMPP envelope (from `xmpp-parsers`) with its payloads typed.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza_error::StanzaError;

use crate::address::{guess_kind, EntityKind};
use crate::error::Error;
use crate::ns;
use crate::payload::{Context, Payload};

/// A stanza with its Rayo payloads typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Stanza {
    /// `<iq/>`.
    Iq(IqStanza),
    /// `<presence/>`: events, client availability.
    Presence(PresenceStanza),
    /// `<message/>`: call-bound messages (XEP-0327 §6.8), routing hints.
    Message(MessageStanza),
}

/// An IQ with its payload typed.
#[derive(Debug, Clone, PartialEq)]
pub struct IqStanza {
    /// Sender.
    pub from: Option<Jid>,
    /// Recipient.
    pub to: Option<Jid>,
    /// Request id.
    pub id: String,
    /// Type and payload.
    pub body: IqBody,
}

/// The type of an IQ and its payload.
#[derive(Debug, Clone, PartialEq)]
pub enum IqBody {
    /// `type='get'`.
    Get(Payload),
    /// `type='set'`: a command.
    Set(Payload),
    /// `type='result'`, with a payload such as `<ref/>` or none.
    Result(Option<Payload>),
    /// `type='error'`.
    Error {
        /// The error.
        error: StanzaError,
        /// The request's payload echoed back (RFC 6120 §8.3.1), kept as received since it
        /// may be the very thing that was wrong.
        echoed: Option<Element>,
    },
}

/// A presence with its payloads typed.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceStanza {
    /// The presence, without its payloads (they are in `payloads`).
    pub presence: Presence,
    /// The payloads, in document order.
    pub payloads: Vec<Payload>,
}

/// A message with its payloads typed.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageStanza {
    /// The message, without its payloads (they are in `payloads`).
    pub message: Message,
    /// The payloads, in document order.
    pub payloads: Vec<Payload>,
}

impl Stanza {
    /// Reads a stanza; the kind of entity an IQ set addresses is guessed from its `to`
    /// ([`guess_kind`]). A server knows better and uses [`Stanza::parse_for`].
    pub fn parse(elem: Element) -> Result<Stanza, Error> {
        Stanza::parse_for(elem, |to| to.map_or(EntityKind::Service, guess_kind))
    }

    /// Reads a stanza, asking `kind_of` which kind of entity an IQ set's `to` names.
    pub fn parse_for(
        elem: Element,
        kind_of: impl Fn(Option<&Jid>) -> EntityKind,
    ) -> Result<Stanza, Error> {
        let stanza_err = |name: &str, e: &dyn std::fmt::Display| Error::Stanza {
            name: name.to_owned(),
            reason: e.to_string(),
        };
        if elem.ns() != ns::JABBER_CLIENT && elem.ns() != "jabber:component:accept" {
            return Err(Error::Stanza {
                name: elem.name().to_owned(),
                reason: format!("not a stanza of jabber:client (namespace {})", elem.ns()),
            });
        }
        match elem.name() {
            "iq" => {
                let iq = Iq::try_from(elem).map_err(|e| stanza_err("iq", &e))?;
                Ok(Stanza::Iq(IqStanza::from_iq(iq, kind_of)?))
            }
            "presence" => {
                let mut presence =
                    Presence::try_from(elem).map_err(|e| stanza_err("presence", &e))?;
                let payloads = std::mem::take(&mut presence.payloads)
                    .into_iter()
                    .map(|p| Payload::parse(Context::Presence, p))
                    .collect::<Result<_, _>>()?;
                Ok(Stanza::Presence(PresenceStanza { presence, payloads }))
            }
            "message" => {
                let mut message = Message::try_from(elem).map_err(|e| stanza_err("message", &e))?;
                let payloads = std::mem::take(&mut message.payloads)
                    .into_iter()
                    .map(|p| Payload::parse(Context::Message, p))
                    .collect::<Result<_, _>>()?;
                Ok(Stanza::Message(MessageStanza { message, payloads }))
            }
            other => Err(Error::Stanza {
                name: other.to_owned(),
                reason: "not iq, presence or message".to_owned(),
            }),
        }
    }

    /// Checks every payload against the rules the schema cannot express.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Stanza::Iq(iq) => match &iq.body {
                IqBody::Get(p) | IqBody::Set(p) | IqBody::Result(Some(p)) => p.validate(),
                IqBody::Result(None) | IqBody::Error { .. } => Ok(()),
            },
            Stanza::Presence(p) => p.payloads.iter().try_for_each(Payload::validate),
            Stanza::Message(m) => m.payloads.iter().try_for_each(Payload::validate),
        }
    }
}

impl IqStanza {
    /// Types the payload of an IQ.
    pub fn from_iq(
        iq: Iq,
        kind_of: impl Fn(Option<&Jid>) -> EntityKind,
    ) -> Result<IqStanza, Error> {
        Ok(match iq {
            Iq::Get {
                from,
                to,
                id,
                payload,
            } => IqStanza {
                body: IqBody::Get(Payload::parse(Context::Get, payload)?),
                from,
                to,
                id,
            },
            Iq::Set {
                from,
                to,
                id,
                payload,
            } => IqStanza {
                body: IqBody::Set(Payload::parse(Context::Set(kind_of(to.as_ref())), payload)?),
                from,
                to,
                id,
            },
            Iq::Result {
                from,
                to,
                id,
                payload,
            } => IqStanza {
                body: IqBody::Result(
                    payload
                        .map(|p| Payload::parse(Context::Result, p))
                        .transpose()?,
                ),
                from,
                to,
                id,
            },
            Iq::Error {
                from,
                to,
                id,
                error,
                payload,
            } => IqStanza {
                body: IqBody::Error {
                    error,
                    echoed: payload,
                },
                from,
                to,
                id,
            },
        })
    }
}

impl From<IqStanza> for Iq {
    fn from(s: IqStanza) -> Iq {
        let IqStanza { from, to, id, body } = s;
        match body {
            IqBody::Get(p) => Iq::Get {
                from,
                to,
                id,
                payload: p.into(),
            },
            IqBody::Set(p) => Iq::Set {
                from,
                to,
                id,
                payload: p.into(),
            },
            IqBody::Result(p) => Iq::Result {
                from,
                to,
                id,
                payload: p.map(Element::from),
            },
            IqBody::Error { error, echoed } => Iq::Error {
                from,
                to,
                id,
                error,
                payload: echoed,
            },
        }
    }
}

impl From<Stanza> for Element {
    fn from(s: Stanza) -> Element {
        match s {
            Stanza::Iq(iq) => Element::from(<Iq as From<IqStanza>>::from(iq)),
            Stanza::Presence(PresenceStanza {
                mut presence,
                payloads,
            }) => {
                presence.payloads = payloads.into_iter().map(Element::from).collect();
                presence.into()
            }
            Stanza::Message(MessageStanza {
                mut message,
                payloads,
            }) => {
                message.payloads = payloads.into_iter().map(Element::from).collect();
                message.into()
            }
        }
    }
}
