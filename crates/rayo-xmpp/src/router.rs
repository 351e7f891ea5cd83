//! Entity routing, sans-IO: every stanza addressed to the service domain, a call, a mixer or
//! a component (XEP-0327 §5.2) goes to one [`Handler`] with its authenticated sender; what
//! the handler sends goes out with a correct `from`, a XEP-0203 delay stamp on every event
//! presence and XEP-0115 caps on the first presence of a call or mixer.
//!
//! The router answers disco#info per entity and XEP-0199 pings to the service itself, and
//! answers IQs the handler leaves alone with `service-unavailable` (RFC 6120 §8.4), or with
//! `feature-not-implemented` when the payload is a Rayo command (XEP-0327 §10).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::SystemTime;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use rayo_proto::address::{Addressing, Entity, EntityKind};
use rayo_proto::ns;
use xmpp_parsers::caps::Caps;
use xmpp_parsers::disco::DiscoInfoResult;

use crate::c2s::NS_PING;
use crate::disco;
use crate::stream_error::Condition;
use crate::xml::{self, JABBER_CLIENT};

/// Identifies one client connection of the c2s listener.
pub type ConnId = u64;

/// A stanza for the handler.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The authenticated sender (stamped by the c2s listener, or by the server in component
    /// mode).
    pub from: Jid,
    /// The recipient, one of the service's entities.
    pub to: Jid,
    /// What `to` names.
    pub entity: Entity,
    /// The stanza, in `jabber:client`.
    pub stanza: Element,
}

impl Incoming {
    /// The first child of an IQ (its payload).
    pub fn payload(&self) -> Option<&Element> {
        self.stanza.children().next()
    }

    /// The reply to an IQ request: `type='result'`, addressed back, from the entity it was
    /// sent to, with the request's id.
    pub fn result(&self, payload: Option<Element>) -> Element {
        let mut iq = Element::bare("iq", JABBER_CLIENT);
        xml::set_attr(&mut iq, "type", "result");
        xml::set_attr(&mut iq, "id", self.stanza.attr("id").unwrap_or_default());
        xml::set_attr(&mut iq, "from", self.to.to_string());
        xml::set_attr(&mut iq, "to", self.from.to_string());
        if let Some(p) = payload {
            iq.append_child(p);
        }
        iq
    }

    /// The error reply to an IQ request (RFC 6120 §8.3), echoing its payload.
    pub fn error(&self, type_: &str, condition: &str) -> Element {
        error_reply(
            &self.stanza,
            &self.from.to_string(),
            &self.to.to_string(),
            type_,
            condition,
        )
    }
}

/// Whether the handler took care of a stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// It did (and sent any reply).
    Yes,
    /// It did not: the router answers an IQ request with the error RFC 6120 prescribes.
    No,
}

/// Stanzas the handler sends; each must carry `to`, and `from` naming the entity it speaks
/// for (a stanza without a valid `from` of this service is sent from the service domain).
#[derive(Debug, Default)]
pub struct Outbox {
    stanzas: Vec<Element>,
}

impl Outbox {
    /// Queues a stanza.
    pub fn send(&mut self, stanza: Element) {
        self.stanzas.push(stanza);
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.stanzas.is_empty()
    }

    /// Takes what is queued (a handler's tests look at its answers this way).
    pub fn take(&mut self) -> Vec<Element> {
        std::mem::take(&mut self.stanzas)
    }
}

/// The application behind the service: the Rayo engine, or a test double.
pub trait Handler: Send + 'static {
    /// A stanza for one of the service's entities, from an authenticated sender.
    fn handle(&mut self, incoming: Incoming, out: &mut Outbox) -> Handled;

    /// Whether a call, mixer or component exists (for disco#info; `item-not-found` if not).
    fn exists(&self, entity: &Entity) -> bool {
        let _ = entity;
        true
    }
}

/// Where the router sends a stanza.
#[derive(Debug, Clone, PartialEq)]
pub enum Routed {
    /// To a client connection of the c2s listener.
    Deliver {
        /// The connection.
        conn: ConnId,
        /// The stanza.
        stanza: Element,
    },
    /// End a client's stream (a newer session bound its JID: `<conflict/>`).
    Close {
        /// The connection.
        conn: ConnId,
        /// The stream error.
        condition: Condition,
    },
    /// To the XMPP server this service is a component of.
    ToServer(Element),
}

/// How the service is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Clients log in to the node itself.
    C2s,
    /// The node is a XEP-0114 component of an XMPP server.
    Component,
}

/// The entity router.
#[derive(Debug)]
pub struct Router<H> {
    addressing: Addressing,
    mode: Mode,
    handler: H,
    sessions: HashMap<FullJid, ConnId>,
    out: VecDeque<Routed>,
    announced: HashSet<BareJid>,
    /// The disco#info of the service, of a call and of a mixer, rendered once (rendering
    /// one per query was most of the cost of answering it).
    service_info: Element,
    call_info: Element,
    mixer_info: Element,
    call_caps: Caps,
    mixer_caps: Caps,
    routing: crate::cmr::MessageRouting,
}

/// An IQ error reply to `req` (from `to`, to `from`), echoing the payload.
pub fn error_reply(req: &Element, from: &str, to: &str, type_: &str, condition: &str) -> Element {
    let mut iq = Element::bare("iq", JABBER_CLIENT);
    xml::set_attr(&mut iq, "type", "error");
    xml::set_attr(&mut iq, "id", req.attr("id").unwrap_or_default());
    xml::set_attr(&mut iq, "from", to);
    xml::set_attr(&mut iq, "to", from);
    if let Some(p) = req.children().next() {
        iq.append_child(p.clone());
    }
    let mut err = Element::bare("error", JABBER_CLIENT);
    xml::set_attr(&mut err, "type", type_);
    err.append_child(Element::bare(condition, ns::STANZAS));
    iq.append_child(err);
    iq
}

fn is_request(el: &Element) -> bool {
    el.name() == "iq" && matches!(el.attr("type"), Some("get" | "set"))
}

impl<H: Handler> Router<H> {
    /// A router for the service at `addressing`, reached as `mode`.
    pub fn new(addressing: Addressing, mode: Mode, handler: H) -> Self {
        Router {
            addressing,
            mode,
            handler,
            sessions: HashMap::new(),
            out: VecDeque::new(),
            announced: HashSet::new(),
            service_info: crate::cmr::service_info(disco::service_info(), mode).into(),
            call_info: disco::call_info().into(),
            mixer_info: disco::mixer_info().into(),
            call_caps: disco::caps(ns::CALL_CAPS, &disco::call_info()),
            mixer_caps: disco::caps(ns::MIXER_CAPS, &disco::mixer_info()),
            routing: crate::cmr::MessageRouting::default(),
        }
    }

    /// The service's domains.
    pub fn addressing(&self) -> &Addressing {
        &self.addressing
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The handler, mutably.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// Replaces the service's disco#info (features it supports beyond the defaults).
    pub fn set_service_info(&mut self, mut info: DiscoInfoResult) {
        // A query's own `node` is set on each answer; none is kept from here.
        info.node = None;
        self.service_info = info.into();
    }

    /// What to send next.
    pub fn poll_output(&mut self) -> Option<Routed> {
        self.out.pop_front()
    }

    /// A client bound `jid` on `conn`. A session already holding the JID is closed with
    /// `<conflict/>` (RFC 6120 §7.7.2.2).
    pub fn bind(&mut self, conn: ConnId, jid: FullJid) {
        if let Some(old) = self.sessions.insert(jid, conn) {
            if old != conn {
                self.out.push_back(Routed::Close {
                    conn: old,
                    condition: Condition::Conflict,
                });
            }
        }
    }

    /// `conn`'s session ended. As RFC 6121 §4.6.3 has a server do for a client whose stream
    /// is gone, the service gets an unavailable presence from each JID it had bound (one
    /// whose resource another stream took over is not gone), so the calls it controlled are
    /// known to be orphaned.
    pub fn unbind(&mut self, conn: ConnId, now: SystemTime) {
        let gone: Vec<FullJid> = self
            .sessions
            .iter()
            .filter(|(_, c)| **c == conn)
            .map(|(j, _)| j.clone())
            .collect();
        self.sessions.retain(|_, c| *c != conn);
        let service = self.addressing.service().to_string();
        for jid in &gone {
            self.routing.forget(jid);
        }
        for jid in gone {
            let mut p = Element::bare("presence", JABBER_CLIENT);
            xml::set_attr(&mut p, "type", "unavailable");
            xml::set_attr(&mut p, "from", jid.to_string());
            xml::set_attr(&mut p, "to", service.clone());
            self.handle_stanza(p, now);
        }
    }

    /// Sends a stanza from the handler outside any request (events).
    pub fn send(&mut self, stanza: Element, now: SystemTime) {
        self.emit(stanza, now);
    }

    /// Routes a stanza received from a client (c2s, `from` stamped by the stream) or from
    /// the server (component mode, `from` stamped by the server).
    pub fn handle_stanza(&mut self, stanza: Element, now: SystemTime) {
        let stanza = if stanza.ns() == xml::JABBER_COMPONENT {
            xml::renamespace(stanza, xml::JABBER_COMPONENT, JABBER_CLIENT)
        } else {
            stanza
        };
        let Some(from) = stanza.attr("from").and_then(|f| Jid::new(f).ok()) else {
            tracing::debug!("dropping a stanza without a valid from");
            return;
        };
        let to = match stanza.attr("to") {
            None if self.mode == Mode::C2s => {
                Jid::from(BareJid::from_parts(None, self.addressing.service()))
            }
            None => return,
            Some(t) => match Jid::new(t) {
                Ok(t) => t,
                Err(_) => {
                    if is_request(&stanza) {
                        let e =
                            error_reply(&stanza, &from.to_string(), t, "modify", "jid-malformed");
                        self.route(e);
                    }
                    return;
                }
            },
        };
        if self.mode == Mode::C2s {
            if let Ok(f) = from.try_as_full() {
                if self.sessions.contains_key(f) {
                    self.routing.saw(f, &stanza);
                }
            }
            let to_service =
                to.node().is_none() && to.domain().as_str() == self.addressing.service().as_str();
            if to_service && crate::cmr::is_request(&stanza) {
                let service = self.addressing.service().to_string();
                let reply = self.routing.answer(&from, &service, &stanza);
                return self.route(reply);
            }
        }
        if self.mode == Mode::C2s && self.is_client(&to) {
            let mut stanza = stanza;
            xml::set_attr(&mut stanza, "to", to.to_string());
            return self.route(stanza);
        }
        let Some(entity) = self.addressing.classify(&to) else {
            if is_request(&stanza) {
                let e = error_reply(
                    &stanza,
                    &from.to_string(),
                    &to.to_string(),
                    "cancel",
                    "service-unavailable",
                );
                self.route(e);
            }
            return;
        };
        if is_request(&stanza) && stanza.attr("type") == Some("get") {
            if let Some(reply) = self.builtin_get(&stanza, &from, &to, &entity) {
                return self.route(reply);
            }
        }
        let request = is_request(&stanza);
        let incoming = Incoming {
            from,
            to,
            entity,
            stanza,
        };
        let unhandled_reply = request.then(|| {
            let rayo = incoming
                .payload()
                .is_some_and(|p| ns::is_schema_namespace(&p.ns()));
            if rayo {
                incoming.error("cancel", "feature-not-implemented")
            } else {
                incoming.error("cancel", "service-unavailable")
            }
        });
        let mut outbox = Outbox::default();
        let handled = self.handler.handle(incoming, &mut outbox);
        for s in outbox.stanzas {
            self.emit(s, now);
        }
        if handled == Handled::No {
            if let Some(reply) = unhandled_reply {
                self.route(reply);
            }
        }
    }

    fn is_client(&self, to: &Jid) -> bool {
        match to.try_as_full() {
            Ok(full) => self.sessions.contains_key(full),
            Err(bare) => self.sessions.keys().any(|k| k.to_bare() == *bare),
        }
    }

    fn builtin_get(
        &mut self,
        req: &Element,
        from: &Jid,
        to: &Jid,
        entity: &Entity,
    ) -> Option<Element> {
        let payload = req.children().next()?;
        let incoming = |e: &Entity| Incoming {
            from: from.clone(),
            to: to.clone(),
            entity: e.clone(),
            stanza: req.clone(),
        };
        if payload.is("ping", NS_PING) && *entity == Entity::Service {
            return Some(incoming(entity).result(None));
        }
        if !payload.is("query", ns::DISCO_INFO) {
            return None;
        }
        let info = match entity {
            Entity::Service => &self.service_info,
            Entity::Call(_) | Entity::CallOrMixer(_, None) if self.handler.exists(entity) => {
                &self.call_info
            }
            Entity::Mixer(_) if self.handler.exists(entity) => &self.mixer_info,
            Entity::Call(_) | Entity::Mixer(_) | Entity::CallOrMixer(_, None) => {
                return Some(incoming(entity).error("cancel", "item-not-found"));
            }
            _ => return None,
        };
        let mut info = info.clone();
        if let Some(node) = payload.attr("node") {
            xml::set_attr(&mut info, "node", node);
        }
        Some(incoming(entity).result(Some(info)))
    }

    fn emit(&mut self, mut stanza: Element, now: SystemTime) {
        let from = stanza
            .attr("from")
            .and_then(|f| Jid::new(f).ok())
            .filter(|f| self.addressing.classify(f).is_some());
        let from = match from {
            Some(f) => f,
            None => {
                let service = Jid::from(BareJid::from_parts(None, self.addressing.service()));
                xml::set_attr(&mut stanza, "from", service.to_string());
                service
            }
        };
        if stanza.name() == "presence" {
            let kind = self.addressing.classify(&from).map(|e| e.kind());
            if kind.is_some_and(|k| k != EntityKind::Service) {
                if !stanza.has_child("delay", ns::DELAY) {
                    stanza.append_child(rayo_proto::delay::stamp(now, None).into());
                }
                let bare = from.to_bare();
                let unavailable = stanza.attr("type") == Some("unavailable");
                let caps = match kind {
                    Some(EntityKind::Call) => Some(&self.call_caps),
                    Some(EntityKind::Mixer) => Some(&self.mixer_caps),
                    _ => None,
                };
                if unavailable {
                    self.announced.remove(&bare);
                } else if let Some(caps) = caps {
                    if self.announced.insert(bare) && !stanza.has_child("c", ns::CAPS) {
                        stanza.append_child(caps.clone().into());
                    }
                }
            }
        }
        self.route(stanza);
    }

    fn route(&mut self, stanza: Element) {
        if self.mode == Mode::Component {
            self.out.push_back(Routed::ToServer(stanza));
            return;
        }
        let Some(to) = stanza.attr("to").and_then(|t| Jid::new(t).ok()) else {
            tracing::debug!("dropping a stanza without a valid to");
            return;
        };
        let conns: Vec<ConnId> = match to.try_as_full() {
            Ok(full) => self.sessions.get(full).copied().into_iter().collect(),
            Err(bare) => {
                let mut to: Vec<(FullJid, ConnId)> = self
                    .sessions
                    .iter()
                    .filter(|(k, _)| k.to_bare() == *bare)
                    .map(|(k, c)| (k.clone(), *c))
                    .collect();
                to.sort_unstable_by_key(|(_, c)| *c);
                if stanza.name() == "iq" {
                    to.truncate(1);
                } else if crate::cmr::is_routed_message(&stanza) && to.len() > 1 {
                    // XEP-0354: the bare JID's chosen algorithm (or the message's hint)
                    // decides which resources.
                    let resources: Vec<FullJid> = to.iter().map(|(j, _)| j.clone()).collect();
                    let hint = crate::cmr::hint(&stanza);
                    let chosen = self.routing.pick(bare, &resources, hint);
                    to.retain(|(j, _)| chosen.contains(j));
                }
                to.into_iter().map(|(_, c)| c).collect()
            }
        };
        if conns.is_empty() {
            tracing::debug!(%to, "no session for stanza");
            if is_request(&stanza) {
                let from = stanza.attr("from").unwrap_or_default().to_owned();
                let e = error_reply(
                    &stanza,
                    &from,
                    &to.to_string(),
                    "cancel",
                    "service-unavailable",
                );
                // The error goes back to the sender, who may be a client.
                if e.attr("to")
                    .and_then(|t| Jid::new(t).ok())
                    .is_some_and(|t| self.is_client(&t))
                {
                    self.route(e);
                }
            }
            return;
        }
        for conn in conns {
            self.out.push_back(Routed::Deliver {
                conn,
                stanza: stanza.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests;
