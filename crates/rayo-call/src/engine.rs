//! The engine: one `Input` in, `Output`s and a wake-up time out; no socket, no clock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use jid::{BareJid, FullJid, Jid, NodePart, ResourcePart};
use minidom::Element;
use rayo_proto::address::Addressing;
use rayo_proto::error::stanza_error;
use rayo_proto::event::Event;
use rayo_proto::random::{Fill, RandomError};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use crate::clients::Clients;
use crate::media::{MediaAction, MediaEvent, Party};
use crate::offer::Route;
use crate::policy::{AllowAll, Policy, Refusal, ZoneScope};
use crate::signal::{SignalAction, SignalEvent};
use crate::state::{Call, Component, Mixer};
use crate::timers::{Timer, Timers};
use crate::{CallId, ComponentId, MixerId};

/// The default of [`Config::max_components_per_party`].
pub const DEFAULT_MAX_COMPONENTS_PER_PARTY: usize = 32;
/// The default of [`Config::max_components_per_client`].
pub const DEFAULT_MAX_COMPONENTS_PER_CLIENT: usize = 1024;

/// The engine's configuration.
pub struct Config {
    /// The service's domains (XEP-0327 §5.2).
    pub addressing: Addressing,
    /// Inbound routing rules, tried in order; the first whose pattern matches the called
    /// URI decides who is offered the call.
    pub routes: Vec<Route>,
    /// How long an offer round waits for its PCPs to accept, answer, redirect or reject the
    /// call when its route sets no [`Route::offer_timeout`] (`None`: forever). When it
    /// passes, the call moves on like an expired route offer: to the next staged PCP, or
    /// rejected as service unavailable and ended with `timeout` for those offered it.
    pub default_offer_timeout: Option<Duration>,
    /// How wide a security zone is (§4.1).
    pub zone_scope: ZoneScope,
    /// Whether outbound calls are supported at all (`feature-not-implemented` otherwise).
    pub outbound_calls: bool,
    /// The most components running at once on one call or mixer; one more is refused with
    /// `resource-constraint` (XEP-0327 §11: sessions are resource-intensive).
    pub max_components_per_party: usize,
    /// The most components one client (bare JID) runs at once, over all its calls.
    pub max_components_per_client: usize,
    /// How long the calls of a controlling party that went unavailable (its stream lost, or
    /// an unavailable presence) stay up waiting for it to come back (`None`: for ever).
    /// Then they are hung up and end with `error`.
    pub orphan_grace: Option<Duration>,
    /// Where call, mixer and component ids come from: the OS ([`rayo_proto::random::fill`]);
    /// when it fails, nothing is created (`internal-server-error`).
    pub random: Fill,
}

impl Config {
    /// A configuration for `addressing`, with no routes, offers that wait until the caller
    /// gives up, bare-JID zones, outbound calls on.
    pub fn new(addressing: Addressing) -> Self {
        Config {
            addressing,
            routes: Vec::new(),
            default_offer_timeout: None,
            zone_scope: ZoneScope::BareJid,
            outbound_calls: true,
            max_components_per_party: DEFAULT_MAX_COMPONENTS_PER_PARTY,
            max_components_per_client: DEFAULT_MAX_COMPONENTS_PER_CLIENT,
            orphan_grace: None,
            random: rayo_proto::random::fill,
        }
    }
}

/// Something the engine is told.
#[derive(Debug, Clone)]
pub enum Input {
    /// An IQ addressed to the service, a call, a mixer or a component.
    Iq(Iq),
    /// A presence addressed to the service (client availability) or one of its entities.
    Presence(Presence),
    /// A message addressed to a call (XEP-0327 §6.8).
    Message(Message),
    /// The signalling layer reports about a call. For [`SignalEvent::Incoming`] the call id
    /// is the driver's choice ([`Engine::allocate_call_id`] gives one).
    Signal {
        /// The call.
        call: CallId,
        /// What happened.
        event: SignalEvent,
    },
    /// The media engine reports.
    Media(MediaEvent),
}

/// Something the engine wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// An IQ result or error to send.
    Iq(Iq),
    /// A presence (an event, caps, unavailability) to send.
    Presence(Presence),
    /// A message to send (call-bound message from the remote party, or an error).
    Message(Message),
    /// An action for the signalling layer.
    Signal(SignalAction),
    /// An action for the media engine.
    Media(MediaAction),
    /// A component start to prepare (its documents fetched and rendered), then to give back
    /// with [`Engine::accept_component`] or [`Engine::refuse_component`]. Only sent when
    /// [`crate::Policy::needs_preparation`] says so.
    Prepare(crate::component::PendingComponent),
}

/// The Rayo engine of one node: clients, calls, mixers, components and joins.
pub struct Engine<P: Policy = AllowAll> {
    pub(crate) cfg: Config,
    pub(crate) policy: P,
    pub(crate) clients: Clients,
    pub(crate) calls: HashMap<CallId, Call>,
    pub(crate) mixers: HashMap<MixerId, Mixer>,
    pub(crate) mixer_names: HashMap<(String, String), MixerId>,
    pub(crate) components: HashMap<ComponentId, Component>,
    /// Joins, both ways: `joins[a][b]` is the direction from `a`'s point of view.
    pub(crate) joins: BTreeMap<Party, BTreeMap<Party, crate::state::JoinParams>>,
    timers: Timers,
    out: VecDeque<Output>,
    /// Caps of calls and mixers: constant, computed once (XEP-0115 §5 hashing is not free).
    pub(crate) call_caps: Element,
    pub(crate) mixer_caps: Element,
    /// The offer payload of calls still being offered (re-sent in later rounds).
    pub(crate) offers: HashMap<CallId, rayo_proto::generated::rayo::Offer>,
    /// Controlling parties that went unavailable while they controlled calls.
    pub(crate) gone: std::collections::HashSet<Jid>,
    /// Component starts being prepared, and the components of each client and party (they
    /// count in the component limits).
    pub(crate) load: crate::load::Load,
}

impl Engine<AllowAll> {
    /// An engine that allows everything its configuration does.
    pub fn new(cfg: Config) -> Self {
        Engine::with_policy(cfg, AllowAll)
    }
}

impl<P: Policy> Engine<P> {
    /// An engine asking `policy` for the deployment's decisions.
    pub fn with_policy(cfg: Config, policy: P) -> Self {
        Engine {
            cfg,
            policy,
            clients: Clients::default(),
            calls: HashMap::new(),
            mixers: HashMap::new(),
            mixer_names: HashMap::new(),
            components: HashMap::new(),
            joins: BTreeMap::new(),
            timers: Timers::default(),
            out: VecDeque::new(),
            offers: HashMap::new(),
            gone: Default::default(),
            load: Default::default(),
            call_caps: crate::caps::caps(rayo_proto::ns::CALL_CAPS, &crate::caps::call_info())
                .into(),
            mixer_caps: crate::caps::caps(rayo_proto::ns::MIXER_CAPS, &crate::caps::mixer_info())
                .into(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The deployment policy.
    pub fn policy_mut(&mut self) -> &mut P {
        &mut self.policy
    }

    /// Handles one input.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Iq(iq) => self.handle_iq(now, iq),
            Input::Presence(p) => self.handle_presence(now, p),
            Input::Message(m) => self.handle_message(now, m),
            Input::Signal { call, event } => self.handle_signal(now, call, event),
            Input::Media(ev) => self.handle_media(now, ev),
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Offer(call, round) => self.offer_expired(now, call, round),
                Timer::Dial(call) => self.dial_expired(now, call),
                Timer::Orphaned(call) => self.orphan_expired(call),
            }
        }
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Engine::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// A fresh call id, for the signalling driver to announce an incoming call with; an
    /// error when the OS gives no randomness.
    pub fn allocate_call_id(&mut self) -> Result<CallId, RandomError> {
        loop {
            let id = CallId(self.token()?);
            if !self.calls.contains_key(&id) {
                return Ok(id);
            }
        }
    }

    /// Controlling parties that went away while their calls wait for them to come back
    /// ([`Config::orphan_grace`]).
    pub fn lost_party_count(&self) -> usize {
        self.gone.len()
    }

    /// Number of live calls.
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Number of live mixers.
    pub fn mixer_count(&self) -> usize {
        self.mixers.len()
    }

    /// Number of running components.
    pub fn component_count(&self) -> usize {
        self.components.len()
    }

    /// Whether `call` is live.
    pub fn has_call(&self, call: &CallId) -> bool {
        self.calls.contains_key(call)
    }

    /// The JID of a live call.
    pub fn call_jid(&self, call: &CallId) -> Option<BareJid> {
        self.calls.get(call).map(|c| c.jid.clone())
    }

    // ---- helpers shared by the modules -------------------------------------------------

    pub(crate) fn emit(&mut self, o: Output) {
        self.out.push_back(o);
    }

    pub(crate) fn signal(&mut self, a: SignalAction) {
        self.out.push_back(Output::Signal(a));
    }

    pub(crate) fn media(&mut self, a: MediaAction) {
        self.out.push_back(Output::Media(a));
    }

    pub(crate) fn set_timer(&mut self, at: Instant, t: Timer) {
        self.timers.set(at, t);
    }

    /// Cancels `call`'s timers that `pred` picks.
    pub(crate) fn cancel_timers(&mut self, call: &CallId, pred: impl Fn(&Timer) -> bool) {
        self.timers.cancel(call, pred);
    }

    /// A random id of 16 lowercase base-32 characters (80 bits) from the configured source.
    pub(crate) fn token(&self) -> Result<String, RandomError> {
        rayo_proto::random::token_from(self.cfg.random, 16)
    }

    /// The zone of a JID (§4.1).
    pub(crate) fn zone_of(&self, jid: &Jid) -> String {
        match self.cfg.zone_scope {
            ZoneScope::BareJid => jid.to_bare().to_string(),
            ZoneScope::Domain => jid.domain().to_string(),
        }
    }

    pub(crate) fn call_bare(&self, id: &CallId) -> Option<BareJid> {
        let node = NodePart::new(&id.0).ok()?.into_owned();
        Some(self.cfg.addressing.call_jid(&node))
    }

    pub(crate) fn mixer_bare(&self, name: &str) -> Option<BareJid> {
        let node = NodePart::new(name).ok()?.into_owned();
        Some(self.cfg.addressing.mixer_jid(&node))
    }

    pub(crate) fn component_jid(parent: &BareJid, id: &ComponentId) -> Option<FullJid> {
        let res = ResourcePart::new(&id.0).ok()?;
        Some(parent.with_resource(&res))
    }

    /// Replies `result` to a request, with an optional payload.
    pub(crate) fn reply_result(&mut self, req: &Request, payload: Option<Element>) {
        self.emit(Output::Iq(Iq::Result {
            from: Some(req.to.clone()),
            to: Some(req.from.clone()),
            id: req.id.clone(),
            payload,
        }));
    }

    /// Replies an error to a request, echoing its payload (RFC 6120 §8.3.1).
    pub(crate) fn reply_error(&mut self, req: &Request, error: StanzaError) {
        self.emit(Output::Iq(Iq::Error {
            from: Some(req.to.clone()),
            to: Some(req.from.clone()),
            id: req.id.clone(),
            error,
            payload: Some(req.payload.clone()),
        }));
    }

    pub(crate) fn refuse(&mut self, req: &Request, r: Refusal) {
        let mut e = stanza_error(r.type_, r.condition);
        if let Some(text) = r.text {
            e.texts.insert(String::from("en"), text);
        }
        self.reply_error(req, e);
    }

    pub(crate) fn refuse_with(&mut self, req: &Request, t: ErrorType, c: DefinedCondition) {
        self.reply_error(req, stanza_error(t, c));
    }

    /// Sends an event as directed presence from `from` to `to`, with `caps` when given; the
    /// final events (end, complete) go in unavailable presence.
    pub(crate) fn send_event(&mut self, from: Jid, to: Jid, event: Event, caps: Option<Element>) {
        let gone = event.is_final();
        let payloads = caps.into_iter().chain([event.into()]).collect();
        self.presence(from, to, gone, payloads);
    }

    /// Sends a bare presence (caps only, or unavailable).
    pub(crate) fn send_presence(&mut self, from: Jid, to: Jid, caps: Option<Element>, gone: bool) {
        self.presence(from, to, gone, caps.into_iter().collect());
    }

    fn presence(&mut self, from: Jid, to: Jid, gone: bool, payloads: Vec<Element>) {
        let type_ = if gone {
            PresenceType::Unavailable
        } else {
            PresenceType::None
        };
        let p = Presence::new(type_)
            .with_from(from)
            .with_to(to)
            .with_payloads(payloads);
        self.emit(Output::Presence(p));
    }

    pub(crate) fn after(now: Instant, d: Duration) -> Instant {
        now.checked_add(d).unwrap_or(now)
    }
}

/// An IQ request being handled: who sent it to whom, its id and payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub from: Jid,
    pub to: Jid,
    pub id: String,
    pub payload: Element,
}
