//! The sans-IO state of a client: IQ correlation by id with per-command deadlines, the
//! registries of calls, components and mixers, and the routing of every incoming stanza to
//! the handle it concerns. No socket and no clock: the driver feeds stanzas and `now`,
//! writes what [`Core::poll_transmit`] gives and wakes at [`Core::poll_timeout`].
//!
//! Handles are reached through channels (`tokio::sync` channels are plain data structures:
//! sending needs no runtime), so a reply or event is delivered the moment its stanza is
//! handled. A `<ref/>` registers its call or component *before* the stanza after it is read,
//! so a completion arriving in the same read as the result is never lost.
//!
//! A call's events can also arrive *before* the `<ref/>` that names it: behind an XMPP
//! server the result comes from the service's domain and the events from the call's, over
//! different component streams, so a busy callee's `<end/>` may overtake the dial's result.
//! While a request that will name a new entity is pending, presences from entities not yet
//! known are kept (at most [`EARLY_MAX`], oldest dropped first) and handed to the call or
//! component its `<ref/>` registers.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use rayo_proto::address::jid_from_uri;
use rayo_proto::event::Complete;
use rayo_proto::generated::rayo::{Offer, Ref};
use rayo_proto::ns;
use tokio::sync::oneshot;
use xmpp_parsers::presence::{Presence, Show};

mod requests;
mod route;

use route::{client_info, iq_error};

use crate::error::Error;
use crate::event::{CallEvent, ComponentEvent};

/// What a request's result must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Nothing in particular.
    Nothing,
    /// A `<ref/>` to a new call (dial).
    Call,
    /// A `<ref/>` to a new component.
    Component,
}

/// The answer to a request.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A result, with its payload if any.
    Done(Option<Element>),
    /// A new call, registered.
    Call(CallParts),
    /// A new component, registered.
    Component(ComponentParts),
}

/// What the answer of a request is sent through.
pub(crate) type Reply = Result<Answer, Error>;

/// A call's registration: its JID and the receiving end of its events.
#[derive(Debug)]
pub(crate) struct CallParts {
    pub jid: BareJid,
    pub events: crate::event_queue::Receiver<CallEvent>,
}

/// A component's registration.
#[derive(Debug)]
pub(crate) struct ComponentParts {
    pub jid: FullJid,
    pub complete: oneshot::Receiver<Complete>,
    pub events: crate::event_queue::Receiver<ComponentEvent>,
}

/// An offer presence, its call registered.
#[derive(Debug)]
pub(crate) struct NewOffer {
    pub call: CallParts,
    pub offer: Offer,
}

/// The most presences from unknown entities kept while a `<ref/>` is awaited.
pub(crate) const EARLY_MAX: usize = 64;

struct Pending {
    to: Jid,
    deadline: Instant,
    expect: Expect,
    reply: oneshot::Sender<Reply>,
}

struct ComponentEntry {
    complete: Option<oneshot::Sender<Complete>>,
    events: crate::event_queue::Sender<ComponentEvent>,
}

/// The client's state.
pub(crate) struct Core {
    service: Jid,
    connected: bool,
    jid: Option<FullJid>,
    seq: u64,
    pending: requests::Requests,
    calls: HashMap<BareJid, crate::event_queue::Sender<CallEvent>>,
    components: HashMap<FullJid, ComponentEntry>,
    mixers: HashMap<BareJid, crate::event_queue::Sender<CallEvent>>,
    offers: crate::event_queue::Sender<NewOffer>,
    out: VecDeque<Element>,
    show: Option<Show>,
    /// Presences from entities not yet known, kept while a `<ref/>` is awaited.
    early: VecDeque<(Jid, Element)>,
}

fn set_attr(el: &mut Element, name: &str, value: impl Into<String>) {
    rayo_xmpp::xml::set_attr(el, name, value);
}

fn iq(type_: &str, id: &str, to: Option<&str>) -> Element {
    let mut e = Element::bare("iq", ns::JABBER_CLIENT);
    set_attr(&mut e, "type", type_);
    set_attr(&mut e, "id", id);
    if let Some(to) = to {
        set_attr(&mut e, "to", to);
    }
    e
}

impl Core {
    /// A disconnected core for the Rayo service `service`; offers go to `offers`.
    pub(crate) fn new(service: Jid, offers: crate::event_queue::Sender<NewOffer>) -> Core {
        Core {
            service,
            connected: false,
            jid: None,
            seq: 0,
            pending: Default::default(),
            calls: HashMap::new(),
            components: HashMap::new(),
            mixers: HashMap::new(),
            offers,
            out: VecDeque::new(),
            show: None,
            early: VecDeque::new(),
        }
    }

    /// The stream is up, bound to `jid`: the last availability is announced again.
    pub(crate) fn connected(&mut self, jid: FullJid) {
        self.connected = true;
        self.jid = Some(jid);
        if let Some(show) = self.show.clone() {
            self.queue_presence(show);
        }
    }

    /// The stream dropped: every request waiting for an answer fails with
    /// [`Error::Disconnected`] (its answer can no longer arrive), unsent stanzas are dropped.
    pub(crate) fn disconnected(&mut self) {
        self.connected = false;
        self.out.clear();
        for p in self.pending.drain() {
            let _ = p.reply.send(Err(Error::Disconnected));
        }
        self.early.clear();
    }

    /// The client is closed for good: besides [`Core::disconnected`], the offer stream and
    /// every call's and mixer's event stream end, and pending completions fail.
    pub(crate) fn shutdown(&mut self) {
        self.disconnected();
        self.offers = crate::event_queue::channel().0;
        self.calls.clear();
        self.components.clear();
        self.mixers.clear();
    }

    /// Whether the stream is up.
    pub(crate) fn is_connected(&self) -> bool {
        self.connected
    }

    /// The bound JID of the current (or last) stream.
    pub(crate) fn jid(&self) -> Option<&FullJid> {
        self.jid.as_ref()
    }

    /// Sends an IQ set with `payload` to `to`; the answer (or [`Error::Timeout`] after
    /// `timeout`) comes through the receiver.
    pub(crate) fn request(
        &mut self,
        now: Instant,
        to: Jid,
        payload: Element,
        expect: Expect,
        timeout: Duration,
    ) -> Result<oneshot::Receiver<Reply>, Error> {
        self.iq_request("set", now, to, payload, expect, timeout)
    }

    /// [`Core::request`] with an IQ get (queries such as XEP-0199 ping).
    pub(crate) fn query(
        &mut self,
        now: Instant,
        to: Jid,
        payload: Element,
        timeout: Duration,
    ) -> Result<oneshot::Receiver<Reply>, Error> {
        self.iq_request("get", now, to, payload, Expect::Nothing, timeout)
    }

    fn iq_request(
        &mut self,
        type_: &str,
        now: Instant,
        to: Jid,
        payload: Element,
        expect: Expect,
        timeout: Duration,
    ) -> Result<oneshot::Receiver<Reply>, Error> {
        if !self.connected {
            return Err(Error::Disconnected);
        }
        self.seq += 1;
        let id = format!("rc{}", self.seq);
        let mut el = iq(type_, &id, Some(&to.to_string()));
        el.append_child(payload);
        self.out.push_back(el);
        let (tx, rx) = oneshot::channel();
        let deadline = now.checked_add(timeout).unwrap_or(now);
        self.pending.insert(
            id,
            Pending {
                to,
                deadline,
                expect,
                reply: tx,
            },
        );
        Ok(rx)
    }

    /// Queues a stanza that expects no answer (presence, message).
    pub(crate) fn send(&mut self, stanza: Element) -> Result<(), Error> {
        if !self.connected {
            return Err(Error::Disconnected);
        }
        self.out.push_back(stanza);
        Ok(())
    }

    /// Announces availability to the Rayo service (XEP-0327 §6.1): `chat` to be offered
    /// calls, `dnd` not to be. Remembered and repeated after a reconnection.
    pub(crate) fn set_show(&mut self, show: Show) -> Result<(), Error> {
        self.show = Some(show.clone());
        if !self.connected {
            return Err(Error::Disconnected);
        }
        self.queue_presence(show);
        Ok(())
    }

    fn queue_presence(&mut self, show: Show) {
        let caps = rayo_proto::disco::caps(ns::CLIENT_CAPS, &client_info());
        let p = Presence::available()
            .with_to(self.service.clone())
            .with_show(show)
            .with_payload(caps);
        self.out.push_back(p.into());
    }

    /// Registers a mixer's events (by its JID).
    pub(crate) fn watch_mixer(&mut self, jid: BareJid) -> crate::event_queue::Receiver<CallEvent> {
        let (tx, rx) = crate::event_queue::channel();
        self.mixers.insert(jid, tx);
        rx
    }

    /// The next stanza to write.
    pub(crate) fn poll_transmit(&mut self) -> Option<Element> {
        self.out.pop_front()
    }

    /// When [`Core::handle_timeout`] must next run.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.pending.next_deadline()
    }

    /// Fails every request whose deadline passed.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        for (id, p) in self.pending.take_due(now) {
            tracing::debug!(%id, to = %p.to, "command timed out");
            let _ = p.reply.send(Err(Error::Timeout));
        }
        self.forget_early_unless_awaited();
    }

    /// Handles one stanza from the server.
    pub(crate) fn handle_stanza(&mut self, el: Element) {
        if el.ns() != ns::JABBER_CLIENT {
            return;
        }
        let from = el.attr("from").and_then(|f| Jid::new(f).ok());
        match el.name() {
            "iq" => self.handle_iq(from, el),
            "presence" => {
                if let Some(from) = from {
                    self.handle_presence(from, el);
                }
            }
            "message" => {
                if let Some(from) = from {
                    self.handle_message(from, el);
                }
            }
            _ => {}
        }
    }

    fn handle_iq(&mut self, from: Option<Jid>, el: Element) {
        let id = el.attr("id").unwrap_or_default().to_owned();
        match el.attr("type") {
            Some("result") | Some("error") => {}
            Some("get") | Some("set") => return self.answer_request(from, &id, el),
            _ => return,
        }
        // An answer counts only from the entity asked (or, without a from, the server).
        let Some(p) = self.pending.get(&id) else {
            return;
        };
        if from.as_ref().is_some_and(|f| *f != p.to) {
            tracing::debug!(%id, "ignoring an answer from the wrong entity");
            return;
        }
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        let reply = if el.attr("type") == Some("error") {
            Err(iq_error(&el))
        } else {
            let payload = el.children().next().cloned();
            self.answered(p.expect, payload)
        };
        let _ = p.reply.send(reply);
        self.forget_early_unless_awaited();
    }

    /// Whether a request whose `<ref/>` will name a new call or component is pending.
    pub(super) fn awaiting_ref(&self) -> bool {
        self.pending.awaiting_ref()
    }

    /// Keeps a presence from an entity not yet known, if a `<ref/>` may still name it.
    pub(super) fn keep_early(&mut self, from: Jid, el: Element) {
        if !self.awaiting_ref() {
            return;
        }
        if self.early.len() == EARLY_MAX {
            let _ = self.early.pop_front();
            tracing::debug!("too many presences from unknown entities; dropping the oldest");
        }
        self.early.push_back((from, el));
    }

    /// Hands the presences kept from the entities `mine` selects to their handles.
    fn replay_early(&mut self, mine: impl Fn(&Jid) -> bool) {
        let (theirs, rest): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut self.early)
            .into_iter()
            .partition(|(from, _)| mine(from));
        self.early = rest;
        for (from, el) in theirs {
            self.handle_presence(from, el);
        }
    }

    fn forget_early_unless_awaited(&mut self) {
        if !self.awaiting_ref() {
            self.early.clear();
        }
    }

    /// A result to a request: registers what its `<ref/>` names.
    fn answered(&mut self, expect: Expect, payload: Option<Element>) -> Reply {
        let ref_jid = || -> Result<Jid, Error> {
            let p = payload
                .clone()
                .filter(|p| p.is("ref", ns::RAYO))
                .ok_or_else(|| Error::Protocol("the result carries no <ref/>".into()))?;
            let r = Ref::try_from(p).map_err(|e| Error::Protocol(format!("bad <ref/>: {e}")))?;
            jid_from_uri(&r.uri).map_err(|e| Error::Protocol(e.to_string()))
        };
        match expect {
            Expect::Nothing => Ok(Answer::Done(payload)),
            Expect::Call => {
                let jid = ref_jid()?.to_bare();
                let call = self.register_call(jid.clone());
                self.replay_early(|from| from.to_bare() == jid);
                Ok(Answer::Call(call))
            }
            Expect::Component => {
                let jid = ref_jid()?
                    .try_into_full()
                    .map_err(|j| Error::Protocol(format!("component ref {j} has no resource")))?;
                let (ctx, crx) = oneshot::channel();
                let (etx, erx) = crate::event_queue::channel();
                self.components.insert(
                    jid.clone(),
                    ComponentEntry {
                        complete: Some(ctx),
                        events: etx,
                    },
                );
                let wanted = Jid::from(jid.clone());
                self.replay_early(|from| *from == wanted);
                Ok(Answer::Component(ComponentParts {
                    jid,
                    complete: crx,
                    events: erx,
                }))
            }
        }
    }

    fn register_call(&mut self, jid: BareJid) -> CallParts {
        let (tx, rx) = crate::event_queue::channel();
        self.calls.insert(jid.clone(), tx);
        CallParts { jid, events: rx }
    }
}

/// The `<query xmlns='http://jabber.org/protocol/disco#info'/>` of a disco#info request.
pub(crate) fn disco_info_query() -> Element {
    Element::bare("query", ns::DISCO_INFO)
}

/// The features a disco#info result lists (XEP-0030 §3.1), sorted.
pub(crate) fn disco_features(payload: Option<Element>) -> Result<Vec<String>, Error> {
    let p = payload
        .filter(|p| p.is("query", ns::DISCO_INFO))
        .ok_or_else(|| Error::Protocol("the result carries no disco#info <query/>".into()))?;
    let info = xmpp_parsers::disco::DiscoInfoResult::try_from(p)
        .map_err(|e| Error::Protocol(format!("bad disco#info: {e}")))?;
    Ok(info.features.into_iter().collect())
}

#[cfg(test)]
mod tests;
