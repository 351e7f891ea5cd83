//! Links (the connections a driver holds) and who may send what on them.
//!
//! A link is on one [`Side`]. On the internal side only nodes are taken: stanzas from an
//! allow-listed node domain ([`crate::Config::nodes`]), and on a link authenticated as one
//! domain ([`Peer::Domain`], a XEP-0114 component connection) only from that domain. On the
//! external side only clients are taken: never from a node domain or the gateway's own.
//! Anything else is refused ([`Refusal`]): an IQ request gets the error
//! [`Refusal::error`] names, other stanzas are dropped (RFC 6120 §8.3.1: errors are not
//! answered, presences and messages to nobody are not either).

use std::collections::HashMap;

use jid::Jid;
use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

use crate::config::Config;
use crate::envelope;

/// A driver's name for one connection (a c2s session, a component connection, a
/// server-to-server link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub u64);

/// Which of the gateway's two faces a link belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Clients, addressing the external domain.
    External,
    /// Nodes, addressing the internal domain.
    Internal,
}

/// Who is at the other end of a link, as its transport authenticated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A server carrying stanzas of many senders (a server-to-server link, or the gateway as
    /// a component of the site's server): each stanza's `from` is checked on its own.
    Any,
    /// One domain (a node connected as a XEP-0114 component with its own secret, or a c2s
    /// session's bound JID's domain): stanzas from any other domain are refused.
    Domain(String),
    /// One client's own session with the gateway (a c2s stream the gateway's listener
    /// authenticated and bound to this full JID): stanzas from any other JID are refused.
    /// Such a client may have the external domain in its JID (bots log in to the gateway
    /// itself as `bot@external`); it still may not claim a node or the internal domain.
    Session(Jid),
}

/// Why a stanza was refused or dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The link is not up (never announced, or down).
    #[error("link is not up")]
    UnknownLink,
    /// The stanza was said to come from the other side than the link's.
    #[error("link is on the other side")]
    WrongSide,
    /// Not `<iq/>`, `<presence/>` or `<message/>`.
    #[error("<{0}/> is not a stanza")]
    NotAStanza(String),
    /// No `from`, or one that is not a JID.
    #[error("no valid 'from'")]
    NoFrom,
    /// No `to`, or one that is not a JID.
    #[error("no valid 'to'")]
    NoTo,
    /// From a domain that is not an allow-listed node, on the internal side.
    #[error("{0} is not a trusted node")]
    UntrustedNode(String),
    /// From another domain than the one the link authenticated.
    #[error("{claimed} sent on a link authenticated as {authenticated}")]
    WrongPeer {
        /// The domain in `from`.
        claimed: String,
        /// The link's domain.
        authenticated: String,
    },
    /// On a client's own session, from another JID than the one it bound.
    #[error("{claimed} sent on the session of {bound}")]
    NotSessionJid {
        /// The JID in `from`.
        claimed: String,
        /// The session's JID.
        bound: String,
    },
    /// On the internal side, addressed elsewhere than the internal domain.
    #[error("nodes may only address the internal domain")]
    NotForInternal,
    /// On the external side, from a node domain or the gateway's own domains.
    #[error("{0} may not send on the external side")]
    Impersonation(String),
    /// On the external side, addressed elsewhere than the external domain.
    #[error("clients may only address the external domain")]
    NotForExternal,
    /// Addressed to a call, mixer or component the gateway does not know.
    #[error("no such call, mixer or component")]
    UnknownEntity,
    /// A result or error that answers nothing pending.
    #[error("answers nothing pending")]
    Unsolicited,
    /// From a client that does not control the call.
    #[error("not the call's controlling party")]
    NotController,
    /// A call or mixer named in the payload is on another node than the command's target:
    /// media cannot cross nodes.
    #[error("{0} is on another node: media cannot cross nodes")]
    CrossNode(String),
    /// The client's application may not dial (or the client belongs to none).
    #[error("this client may not dial")]
    DialNotAllowed,
    /// No node is in rotation.
    #[error("no node is available")]
    NoNode,
    /// No link leads to the addressee.
    #[error("no link to {0}")]
    NoRoute(String),
    /// The shared store failed.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// A limit was reached.
    #[error("limit reached: {0}")]
    Limit(&'static str),
    /// Nothing at the gateway takes this stanza.
    #[error("not handled")]
    Unhandled,
}

impl Refusal {
    /// The stanza error an IQ request refused for this reason is answered with.
    pub fn error(&self) -> (ErrorType, DefinedCondition) {
        use DefinedCondition as C;
        use ErrorType as T;
        match self {
            Refusal::NoFrom | Refusal::NoTo | Refusal::NotAStanza(_) => (T::Modify, C::BadRequest),
            Refusal::UntrustedNode(_)
            | Refusal::WrongPeer { .. }
            | Refusal::NotSessionJid { .. }
            | Refusal::Impersonation(_)
            | Refusal::DialNotAllowed => (T::Auth, C::Forbidden),
            Refusal::CrossNode(_) => (T::Cancel, C::NotAcceptable),
            Refusal::NoNode => (T::Wait, C::ServiceUnavailable),
            Refusal::UnknownEntity => (T::Cancel, C::ItemNotFound),
            Refusal::NotController => (T::Cancel, C::Conflict),
            Refusal::Store(_) => (T::Wait, C::InternalServerError),
            Refusal::Limit(_) => (T::Wait, C::ResourceConstraint),
            Refusal::NoRoute(_) => (T::Wait, C::RemoteServerNotFound),
            _ => (T::Cancel, C::ServiceUnavailable),
        }
    }
}

/// Where an admitted stanza comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A node (or one of its calls, mixers, components), by the node's domain.
    Node(String),
    /// A client.
    Client,
}

/// An admitted stanza's addresses.
#[derive(Debug, Clone)]
pub(crate) struct Admitted {
    pub origin: Origin,
    pub from: Jid,
    pub to: Jid,
}

/// The links that are up.
#[derive(Debug, Default)]
pub(crate) struct Links {
    links: HashMap<LinkId, (Side, Peer)>,
}

impl Links {
    pub fn up(&mut self, link: LinkId, side: Side, peer: Peer) {
        self.links.insert(link, (side, peer));
    }

    pub fn down(&mut self, link: LinkId) -> Option<(Side, Peer)> {
        self.links.remove(&link)
    }

    /// The first link on `side` that carries many senders (for addressees not seen yet).
    pub fn shared(&self, side: Side) -> Option<LinkId> {
        self.links
            .iter()
            .filter(|(_, (s, p))| *s == side && *p == Peer::Any)
            .map(|(l, _)| *l)
            .min()
    }

    /// Decides whether a stanza that arrived on `link` is taken.
    pub fn admit(
        &self,
        cfg: &Config,
        link: LinkId,
        side: Side,
        stanza: &Element,
    ) -> Result<Admitted, Refusal> {
        let (link_side, peer) = self.links.get(&link).ok_or(Refusal::UnknownLink)?;
        if *link_side != side {
            return Err(Refusal::WrongSide);
        }
        if envelope::kind(stanza).is_none() {
            return Err(Refusal::NotAStanza(stanza.name().to_owned()));
        }
        let from = envelope::jid_attr(stanza, "from").ok_or(Refusal::NoFrom)?;
        let to = envelope::jid_attr(stanza, "to").ok_or(Refusal::NoTo)?;
        let from_domain = from.domain().as_str().to_ascii_lowercase();
        if let Peer::Domain(d) = peer {
            if !d.eq_ignore_ascii_case(&from_domain) {
                return Err(Refusal::WrongPeer {
                    claimed: from_domain,
                    authenticated: d.clone(),
                });
            }
        }
        if let Peer::Session(bound) = peer {
            if *bound != from {
                return Err(Refusal::NotSessionJid {
                    claimed: from.to_string(),
                    bound: bound.to_string(),
                });
            }
        }
        let domains = &cfg.domains;
        match side {
            Side::Internal => {
                if !cfg.is_node_domain(&from_domain) {
                    return Err(Refusal::UntrustedNode(from_domain));
                }
                if to != *domains.internal() {
                    return Err(Refusal::NotForInternal);
                }
                Ok(Admitted {
                    origin: Origin::Node(from_domain),
                    from,
                    to,
                })
            }
            Side::External => {
                // A session's JID was authenticated by the gateway itself: it may be
                // `bot@external`, never the bare external domain or one of its entities'.
                let session = matches!(peer, Peer::Session(_)) && from.node().is_some();
                let own = [domains.external(), domains.internal()]
                    .iter()
                    .any(|d| d.domain() == from.domain())
                    && !(session && from.domain() == domains.external().domain());
                if own || cfg.is_node_domain(&from_domain) {
                    return Err(Refusal::Impersonation(from_domain));
                }
                if to.domain() != domains.external().domain() {
                    return Err(Refusal::NotForExternal);
                }
                Ok(Admitted {
                    origin: Origin::Client,
                    from,
                    to,
                })
            }
        }
    }
}
