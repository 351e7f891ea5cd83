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
#[allow(
    clippy::large_enum_variant,
    reason = "built once per stanza and moved; boxing would add an allocation per stanza"
)]
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
                let iq = parse_iq(elem)?;
                Ok(Stanza::Iq(IqStanza::from_iq(iq, kind_of)?))
            }
            "presence" => {
                // xmpp-parsers rebuilds every payload subtree node by node; the envelope is
                // read without them, and the payloads are typed here directly.
                let (envelope, detached) = detach(elem, &["show", "status", "priority", "error"]);
                let presence =
                    Presence::try_from(envelope).map_err(|e| stanza_err("presence", &e))?;
                let payloads = detached
                    .into_iter()
                    .map(|p| Payload::parse(Context::Presence, p))
                    .collect::<Result<_, _>>()?;
                Ok(Stanza::Presence(PresenceStanza { presence, payloads }))
            }
            "message" => {
                let (envelope, detached) = detach(elem, &["body", "subject", "thread", "error"]);
                let message = Message::try_from(envelope).map_err(|e| stanza_err("message", &e))?;
                let payloads = detached
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

/// Splits a presence or message into its envelope (the children of the client namespace
/// named in `keep`) and its payloads (every other child element, in order).
fn detach(mut elem: Element, keep: &[&str]) -> (Element, Vec<Element>) {
    let mut payloads = Vec::new();
    let mut envelope_children = Vec::new();
    for node in elem.take_nodes() {
        if let minidom::Node::Element(child) = node {
            if child.ns() == elem.ns() && keep.contains(&child.name()) {
                envelope_children.push(child);
            } else {
                payloads.push(child);
            }
        }
    }
    for c in envelope_children {
        elem.append_child(c);
    }
    (elem, payloads)
}

/// Reads an IQ (RFC 6120 §8.2.3): a get or set carries exactly one payload, a result at
/// most one, an error an `<error/>` and possibly the request's payload.
fn parse_iq(mut elem: Element) -> Result<Iq, Error> {
    let bad = |reason: String| Error::Stanza {
        name: "iq".to_owned(),
        reason,
    };
    let jid = |name: &str| -> Result<Option<Jid>, Error> {
        elem.attr(name)
            .map(|v| Jid::new(v).map_err(|e| bad(format!("bad {name} JID {v:?}: {e}"))))
            .transpose()
    };
    let (from, to) = (jid("from")?, jid("to")?);
    let id = elem
        .attr("id")
        .ok_or_else(|| bad("no id".to_owned()))?
        .to_owned();
    let type_ = elem.attr("type").unwrap_or_default().to_owned();
    let mut children: Vec<Element> = elem
        .take_nodes()
        .into_iter()
        .filter_map(|n| match n {
            minidom::Node::Element(e) => Some(e),
            minidom::Node::Text(_) => None,
        })
        .collect();
    let one = |mut c: Vec<Element>| -> Result<Element, Error> {
        match (c.pop(), c.is_empty()) {
            (Some(e), true) => Ok(e),
            _ => Err(bad(format!("a {type_} IQ carries exactly one payload"))),
        }
    };
    Ok(match type_.as_str() {
        "get" => Iq::Get {
            from,
            to,
            id,
            payload: one(children)?,
        },
        "set" => Iq::Set {
            from,
            to,
            id,
            payload: one(children)?,
        },
        "result" if children.len() <= 1 => Iq::Result {
            from,
            to,
            id,
            payload: children.pop(),
        },
        "error" => {
            let pos = children
                .iter()
                .position(|c| c.is("error", ns::JABBER_CLIENT))
                .ok_or_else(|| bad("an error IQ without <error/>".to_owned()))?;
            let error = StanzaError::try_from(children.remove(pos))
                .map_err(|e| bad(format!("bad <error/>: {e}")))?;
            if children.len() > 1 {
                return Err(bad("an error IQ echoes at most one payload".to_owned()));
            }
            Iq::Error {
                from,
                to,
                id,
                error,
                payload: children.pop(),
            }
        }
        other => return Err(bad(format!("bad type {other:?}"))),
    })
}

/// Writes an IQ; payloads are attached as they are (xmpp-parsers would rebuild them), the
/// echoed payload of an error before the `<error/>`, as XEP-0327's listings show it.
fn write_iq(iq: Iq) -> Element {
    let placeholder = || Element::bare("x", ns::JABBER_CLIENT);
    let (shell, payload) = match iq {
        Iq::Get {
            from,
            to,
            id,
            payload,
        } => (
            Iq::Get {
                from,
                to,
                id,
                payload: placeholder(),
            },
            Some(payload),
        ),
        Iq::Set {
            from,
            to,
            id,
            payload,
        } => (
            Iq::Set {
                from,
                to,
                id,
                payload: placeholder(),
            },
            Some(payload),
        ),
        Iq::Result {
            from,
            to,
            id,
            payload,
        } => (
            Iq::Result {
                from,
                to,
                id,
                payload: None,
            },
            payload,
        ),
        Iq::Error {
            from,
            to,
            id,
            error,
            payload,
        } => (
            Iq::Error {
                from,
                to,
                id,
                error,
                payload: None,
            },
            payload,
        ),
    };
    let mut e = Element::from(shell);
    let error: Vec<Element> = e
        .take_nodes()
        .into_iter()
        .filter_map(|n| match n {
            minidom::Node::Element(c) if c.is("error", ns::JABBER_CLIENT) => Some(c),
            _ => None,
        })
        .collect();
    if let Some(p) = payload {
        e.append_child(p);
    }
    for c in error {
        e.append_child(c);
    }
    e
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
            Stanza::Iq(iq) => write_iq(<Iq as From<IqStanza>>::from(iq)),
            Stanza::Presence(PresenceStanza { presence, payloads }) => {
                let mut e = Element::from(presence);
                for p in payloads {
                    e.append_child(p.into());
                }
                e
            }
            Stanza::Message(MessageStanza { message, payloads }) => {
                let mut e = Element::from(message);
                for p in payloads {
                    e.append_child(p.into());
                }
                e
            }
        }
    }
}
