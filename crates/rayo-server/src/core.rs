//! The node's core, sans-IO: the Rayo engine between the XMPP transport, SIP and the media
//! of each call. Stanzas, SIP events, prepared components and `now` in; stanzas, SIP and
//! media commands, preparation jobs and the next wake-up out. Every decision lives here or
//! in the engine; the async driver ([`crate::node`]) only moves bytes and runs jobs.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use jid::Jid;
use minidom::Element;
use rayo_call::{
    CallId, ComponentId, Engine, Input, MediaAction, MediaEvent, MixerId, Output, Party,
    PendingComponent, Refusal, RejectCause, SignalAction, SignalEvent,
};
use rayo_media::bridge::{BridgeEvent, Party as MediaParty};
use rayo_media::components::{ComponentCommand, ComponentEvent, Running};
use rayo_media::hub::HubCommand;
use rayo_media::udp::{Command as MediaCommand, SessionEvent};
use rayo_proto::command::ComponentStart;
use rayo_proto::generated::rayo::{EndReason, Header};
use rayo_sip::driver::{Command as SipCommand, Event as SipEvent};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::Presence;

use crate::policy::{NodePolicy, Prepared};

mod placement;
use placement::Placement;

/// Something the core wants done.
#[derive(Debug)]
pub enum CoreOutput {
    /// Send a stanza (its `to` says where).
    Stanza(Element),
    /// A command for the SIP driver (signalling, or a call's media).
    Sip(SipCommand),
    /// Fetch and render what `start` needs, then call [`NodeCore::handle_prepared`].
    Prepare {
        /// Identifies the job.
        ticket: u64,
        /// The component to prepare.
        start: ComponentStart,
    },
    /// A command for the media hub (joins, mixers, components on mixers).
    Hub(HubCommand),
    /// Connect the call's media to the hub (it was joined).
    Tap(CallId),
    /// The node's own presence to its gateway (cluster mode): send it now, and again each
    /// time the link to the gateway comes back, until a newer one replaces it.
    NodePresence(Element),
    /// Shutdown finished: no call is left.
    Stopped,
}

/// Serving a gateway (XEP-0349 §4.2).
#[derive(Debug)]
struct Cluster {
    /// The gateway's internal domain.
    gateway: Jid,
    /// Whether the last presence told it `chat` (`None`: none sent yet).
    shown_chat: Option<bool>,
}

fn media_party(p: &Party) -> MediaParty {
    match p {
        Party::Call(c) => MediaParty::Call(c.0.clone()),
        Party::Mixer(m) => MediaParty::Mixer(m.0.clone()),
    }
}

/// The node's core.
pub struct NodeCore {
    engine: Engine<NodePolicy>,
    out: VecDeque<CoreOutput>,
    live: HashSet<CallId>,
    /// Which call each media component runs on (and each call's components).
    component_call: Placement<CallId>,
    /// Which mixer each mixer component runs on.
    component_mixer: Placement<MixerId>,
    /// Calls whose media goes through the hub.
    tapped: HashSet<CallId>,
    /// Admitted component starts waiting for their preparation, by ticket.
    pending: HashMap<u64, PendingComponent>,
    /// Stanzas held behind a command being prepared, per [`Lane`] (order kept).
    held: HashMap<Lane, VecDeque<(Jid, Element)>>,
    next_ticket: u64,
    /// Clients that sent presence to the service (told when the node shuts down).
    clients: HashSet<Jid>,
    domain: String,
    draining: Option<Instant>,
    stopped: bool,
    live_changed: bool,
    /// The source address of each live inbound call that came with one.
    source_of: HashMap<CallId, IpAddr>,
    /// Live inbound calls by source address.
    per_source: HashMap<IpAddr, usize>,
    /// The most live inbound calls from one source address (0: no limit).
    max_calls_per_source: usize,
    /// What the `Retry-After` of a 503 for a source over its limit says.
    retry_after: Duration,
    /// The gateway served, in cluster mode.
    cluster: Option<Cluster>,
}

/// The source limit of [`NodeCore::new`]: none.
const NO_SOURCE_LIMIT: usize = 0;

/// Where a sender's stanzas keep their order while one of its commands is prepared: the
/// sender and the live call they are for (a call's JID or one of its components'), or the
/// sender alone (an empty call id) for anything else (mixers, the service). A gateway sends
/// every client's commands as one JID; holding them per call keeps one call's slow
/// preparation (a long TTS) from delaying every other call's commands.
type Lane = (Jid, String);

fn lane_of_pending(pending: &PendingComponent) -> Lane {
    let call = match pending.on() {
        Party::Call(c) => c.0.clone(),
        Party::Mixer(_) => String::new(),
    };
    (pending.client().clone(), call)
}

/// The most stanzas of one lane held behind its command being prepared.
pub const MAX_HELD: usize = 256;

/// The answer to an IQ request that finds its sender's queue full: `resource-constraint`
/// (wait). Other stanzas are dropped.
fn held_overflow(stanza: &Element) -> Option<Element> {
    if stanza.name() != "iq" || !matches!(stanza.attr("type"), Some("get" | "set")) {
        return None;
    }
    let (Some(from), Some(to)) = (stanza.attr("from"), stanza.attr("to")) else {
        return None;
    };
    Some(rayo_xmpp::router::error_reply(
        stanza,
        from,
        to,
        "wait",
        "resource-constraint",
    ))
}

impl NodeCore {
    /// A core around `engine`, serving `domain`.
    pub fn new(engine: Engine<NodePolicy>, domain: &str) -> Self {
        NodeCore {
            engine,
            out: VecDeque::new(),
            live: HashSet::new(),
            component_call: Placement::default(),
            component_mixer: Placement::default(),
            tapped: HashSet::new(),
            pending: HashMap::new(),
            held: HashMap::new(),
            next_ticket: 0,
            clients: HashSet::new(),
            domain: domain.to_owned(),
            draining: None,
            stopped: false,
            live_changed: false,
            source_of: HashMap::new(),
            per_source: HashMap::new(),
            max_calls_per_source: NO_SOURCE_LIMIT,
            retry_after: Duration::from_secs(5),
            cluster: None,
        }
    }

    /// Serves the gateway whose internal domain is `gateway` (cluster mode): every call is
    /// offered to it (the engine's routes must name it), it is the one client the node takes
    /// stanzas from (anyone else's IQ requests get `forbidden`, other stanzas are dropped),
    /// it is always a potential controlling party (a gateway that restarts, or whose
    /// presence bounces, does not end calls), and it is told `chat` while the node takes
    /// calls and `dnd` while it is full or shutting down, by presence with caps
    /// `urn:xmpp:rayo:node:1` ([`CoreOutput::NodePresence`]).
    pub fn with_gateway(mut self, gateway: Jid, now: Instant) -> Self {
        let mut p = Element::bare("presence", "jabber:client");
        rayo_xmpp::xml::set_attr(&mut p, "from", gateway.to_string());
        rayo_xmpp::xml::set_attr(&mut p, "to", self.domain.as_str());
        p.append_child(
            Element::builder("show", "jabber:client")
                .append("chat")
                .build(),
        );
        self.feed(now, p);
        // Told of a shutdown by its node presence, not as a client.
        self.clients.remove(&gateway);
        self.cluster = Some(Cluster {
            gateway,
            shown_chat: None,
        });
        self.node_presence();
        self
    }

    /// In cluster mode, whether a stanza from `from` is taken: only the gateway's, and never
    /// its presence (its availability is fixed). Refused requests are answered.
    fn admitted(&mut self, from: &Jid, stanza: &Element) -> bool {
        let Some(cl) = &self.cluster else {
            return true;
        };
        if from.domain() != cl.gateway.domain() || from.node().is_some() {
            tracing::debug!(%from, "cluster mode: a stanza not from the gateway is refused");
            let request =
                stanza.name() == "iq" && matches!(stanza.attr("type"), Some("get" | "set"));
            if let (true, Some(to)) = (request, stanza.attr("to")) {
                let reply = rayo_xmpp::router::error_reply(
                    stanza,
                    &from.to_string(),
                    to,
                    "auth",
                    "forbidden",
                );
                self.out.push_back(CoreOutput::Stanza(reply));
            }
            return false;
        }
        stanza.name() != "presence"
    }

    /// Tells the gateway `chat` or `dnd` when that changes (cluster mode).
    fn node_presence(&mut self) {
        let chat = self.draining.is_none() && self.engine.policy_mut().has_room();
        let domain = self.domain.clone();
        let Some(cl) = &mut self.cluster else {
            return;
        };
        if cl.shown_chat == Some(chat) {
            return;
        }
        cl.shown_chat = Some(chat);
        let mut p = Element::bare("presence", "jabber:client");
        rayo_xmpp::xml::set_attr(&mut p, "from", domain.as_str());
        rayo_xmpp::xml::set_attr(&mut p, "to", cl.gateway.to_string());
        let caps = rayo_proto::disco::caps(
            rayo_proto::ns::NODE_CAPS,
            &rayo_proto::disco::service_info(),
        );
        p.append_child(caps.into());
        let show = if chat { "chat" } else { "dnd" };
        p.append_child(
            Element::builder("show", "jabber:client")
                .append(show)
                .build(),
        );
        tracing::info!(gateway = %cl.gateway, show, "node presence to the gateway");
        self.out.push_back(CoreOutput::NodePresence(p));
    }

    /// Limits the live inbound calls of one source address to `max` (0: no limit): an
    /// INVITE from a source holding that many is answered 503 with a `Retry-After` of
    /// `retry_after` (whole seconds, at least 1), and is neither a call nor offered.
    pub fn with_source_limit(mut self, max: usize, retry_after: Duration) -> Self {
        self.max_calls_per_source = max;
        self.retry_after = retry_after;
        self
    }

    /// Live inbound calls from `source`.
    pub fn calls_from(&self, source: IpAddr) -> usize {
        self.per_source.get(&source).copied().unwrap_or(0)
    }

    /// A new inbound call from `source` (if the driver knows it): refused with 503 when the
    /// node is full or stopping, or the source is at its limit; otherwise live and handed
    /// to the engine, which offers it.
    fn incoming(&mut self, now: Instant, call: CallId, source: Option<IpAddr>, ev: SignalEvent) {
        let reject = |headers| {
            CoreOutput::Sip(SipCommand::Action(SignalAction::Reject {
                call: call.clone(),
                cause: RejectCause::ServiceUnavailable,
                headers,
            }))
        };
        if self.draining.is_some() || !self.engine.policy_mut().has_room() {
            tracing::info!(%call, "inbound call refused: node full or stopping");
            self.out.push_back(reject(Vec::new()));
            return;
        }
        if let Some(ip) = source {
            if self.max_calls_per_source != NO_SOURCE_LIMIT
                && self.calls_from(ip) >= self.max_calls_per_source
            {
                tracing::info!(%call, %ip, "inbound call refused: source at its call limit");
                let secs = self.retry_after.as_secs().max(1);
                self.out.push_back(reject(vec![Header {
                    name: "Retry-After".into(),
                    value: secs.to_string(),
                }]));
                return;
            }
            *self.per_source.entry(ip).or_default() += 1;
            self.source_of.insert(call.clone(), ip);
        }
        self.live.insert(call.clone());
        self.sync_live();
        self.engine.handle(now, Input::Signal { call, event: ev });
    }

    /// Calls live now.
    pub fn live_calls(&self) -> usize {
        self.live.len()
    }

    /// Whether a call exists (for disco#info).
    pub fn has_call(&self, id: &str) -> bool {
        self.live.contains(&CallId(id.to_owned()))
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<CoreOutput> {
        self.out.pop_front()
    }

    /// When [`NodeCore::handle_timeout`] must next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let e = self.engine.poll_timeout();
        match (e, self.draining) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.engine.policy_mut().now = now;
        self.engine.handle_timeout(now);
        self.drain(now);
        if let Some(deadline) = self.draining {
            if now >= deadline {
                self.end_all(now);
            }
        }
    }

    /// A stanza from an authenticated client for one of the service's entities.
    pub fn handle_stanza(&mut self, now: Instant, from: Jid, stanza: Element) {
        if !self.admitted(&from, &stanza) {
            return;
        }
        let lane = self.lane_of(&from, &stanza);
        if let Some(q) = self.held.get_mut(&lane) {
            if q.len() < MAX_HELD {
                q.push_back((from, stanza));
            } else if let Some(refusal) = held_overflow(&stanza) {
                // A client flooding while its command is prepared: memory stays bounded.
                self.out.push_back(CoreOutput::Stanza(refusal));
            }
            return;
        }
        self.stanza(now, from, stanza);
    }

    fn lane_of(&self, from: &Jid, stanza: &Element) -> Lane {
        let call = stanza
            .attr("to")
            .and_then(|t| Jid::new(t).ok())
            .and_then(|j| j.node().map(|n| CallId(n.as_str().to_owned())))
            .filter(|c| self.live.contains(c))
            .map(|c| c.0)
            .unwrap_or_default();
        (from.clone(), call)
    }

    fn stanza(&mut self, now: Instant, from: Jid, mut stanza: Element) {
        rayo_xmpp::xml::set_attr(&mut stanza, "from", from.to_string());
        self.feed(now, stanza);
    }

    /// What the driver fetched and rendered for an admitted component (or the refusal it
    /// must get): the component is built from it and given back to the engine.
    pub fn handle_prepared(
        &mut self,
        now: Instant,
        ticket: u64,
        result: Result<Prepared, Refusal>,
    ) {
        let Some(pending) = self.pending.remove(&ticket) else {
            return;
        };
        let lane = lane_of_pending(&pending);
        let policy = self.engine.policy_mut();
        policy.now = now;
        match result.and_then(|p| policy.build(pending.on(), pending.spec(), p)) {
            Ok(running) => {
                policy.built = Some(running);
                self.engine.accept_component(now, pending);
                // The start (if it still holds) takes the component as the outputs are
                // handled; one not started (its call ended meanwhile) is dropped.
                self.drain(now);
                self.engine.policy_mut().built = None;
            }
            Err(refusal) => {
                self.engine.refuse_component(pending, refusal);
                self.drain(now);
            }
        }
        // Release the lane's held stanzas, up to its next command to prepare.
        let mut queue = self.held.remove(&lane).unwrap_or_default();
        while let Some((f, s)) = queue.pop_front() {
            self.stanza(now, f, s);
            if let Some(q) = self.held.get_mut(&lane) {
                q.extend(queue.drain(..));
                break;
            }
        }
    }

    fn feed(&mut self, now: Instant, stanza: Element) {
        self.engine.policy_mut().now = now;
        let input = match stanza.name() {
            "iq" => Iq::try_from(stanza).ok().map(Input::Iq),
            "presence" => {
                let p = Presence::try_from(stanza).ok();
                if let Some(p) = &p {
                    if let Some(f) = &p.from {
                        if p.type_ == xmpp_parsers::presence::Type::Unavailable {
                            self.clients.remove(f);
                        } else {
                            self.clients.insert(f.clone());
                        }
                    }
                }
                p.map(Input::Presence)
            }
            "message" => Message::try_from(stanza).ok().map(Input::Message),
            _ => None,
        };
        if let Some(input) = input {
            self.engine.handle(now, input);
        }
        self.drain(now);
    }

    /// An event of the SIP driver.
    pub fn handle_sip(&mut self, now: Instant, event: SipEvent) {
        self.engine.policy_mut().now = now;
        match event {
            SipEvent::Signal(call, ev @ SignalEvent::Incoming { .. }) => {
                self.incoming(now, call, None, ev)
            }
            SipEvent::Incoming {
                call,
                source,
                event,
            } => self.incoming(now, call, Some(source.ip()), event),
            SipEvent::Signal(call, ev) => {
                let ended = matches!(ev, SignalEvent::Ended { .. });
                self.engine.handle(
                    now,
                    Input::Signal {
                        call: call.clone(),
                        event: ev,
                    },
                );
                if ended {
                    self.forget(&call);
                }
            }
            SipEvent::Media(call, SessionEvent::Dtmf(digit, _)) => {
                self.engine.handle(
                    now,
                    Input::Signal {
                        call,
                        event: SignalEvent::Dtmf { digit },
                    },
                );
            }
            SipEvent::Media(_, SessionEvent::Component(ev)) => self.component_event(now, ev),
            SipEvent::Media(call, SessionEvent::Stopped { sent, received, .. }) => {
                tracing::debug!(%call, sent, received = received.packets, "RTP stopped");
            }
            SipEvent::ActionFailed(why) => tracing::warn!(%why, "SIP action failed"),
            SipEvent::DialFailed { call, reason } => {
                tracing::info!(%call, %reason, "dial failed");
                self.engine.handle(
                    now,
                    Input::Signal {
                        call: call.clone(),
                        event: SignalEvent::Ended {
                            reason: EndReason::Error {
                                platform_code: None,
                            },
                            headers: Vec::new(),
                        },
                    },
                );
                self.forget(&call);
            }
        }
        self.drain(now);
    }

    fn component_event(&mut self, now: Instant, ev: ComponentEvent) {
        match ev {
            ComponentEvent::Complete {
                id,
                reason,
                metadata,
            } => {
                let component = ComponentId(id);
                self.component_call.remove(&component);
                self.component_mixer.remove(&component);
                self.engine.policy_mut().recorders.remove(&component);
                self.engine.handle(
                    now,
                    Input::Media(MediaEvent::Complete {
                        component,
                        reason,
                        metadata,
                    }),
                );
            }
            ComponentEvent::InputTimersStarted { id } => self.engine.handle(
                now,
                Input::Media(MediaEvent::InputTimersStarted {
                    component: ComponentId(id),
                }),
            ),
        }
    }

    /// An event of the media hub: a speaker, or a component on a mixer.
    pub fn handle_hub(&mut self, now: Instant, event: BridgeEvent) {
        self.engine.policy_mut().now = now;
        match event {
            BridgeEvent::Speaking {
                mixer,
                call,
                speaking,
            } => self.engine.handle(
                now,
                Input::Media(MediaEvent::Speaking {
                    mixer: MixerId(mixer),
                    call: CallId(call),
                    speaking,
                }),
            ),
            BridgeEvent::Component { event, .. } => self.component_event(now, event),
        }
        self.drain(now);
    }

    fn forget(&mut self, call: &CallId) {
        if self.live.remove(call) {
            self.sync_live();
        }
        if let Some(ip) = self.source_of.remove(call) {
            if let Some(n) = self.per_source.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.per_source.remove(&ip);
                }
            }
        }
        self.component_call.forget_parent(call);
        if self.tapped.remove(call) {
            self.out
                .push_back(CoreOutput::Hub(HubCommand::CallEnded(call.0.clone())));
        }
    }

    fn tap(&mut self, p: &Party) {
        if let Party::Call(c) = p {
            if self.live.contains(c) && self.tapped.insert(c.clone()) {
                self.out.push_back(CoreOutput::Tap(c.clone()));
            }
        }
    }

    /// Sends a command to a running component, on whichever call or mixer it runs;
    /// `forget` when the component is gone afterwards (no completion will come).
    fn command_component(
        &mut self,
        component: ComponentId,
        forget: bool,
        command: impl FnOnce(String) -> ComponentCommand,
    ) {
        if let Some(m) = self.component_mixer.get(&component).cloned() {
            if forget {
                self.component_mixer.remove(&component);
            }
            self.mixer_command(&m, command(component.0));
        } else if let Some(call) = self.component_call.get(&component).cloned() {
            if forget {
                self.component_call.remove(&component);
            }
            self.media(&call, command(component.0));
        }
    }

    fn mixer_command(&mut self, mixer: &MixerId, command: ComponentCommand) {
        self.out
            .push_back(CoreOutput::Hub(HubCommand::MixerComponent {
                mixer: mixer.0.clone(),
                command,
            }));
    }

    fn sync_live(&mut self) {
        self.live_changed = true;
        self.engine.policy_mut().live_calls = self.live.len();
    }

    /// Whether the set of live calls changed since the last call.
    pub fn take_live_changed(&mut self) -> bool {
        std::mem::take(&mut self.live_changed)
    }

    /// The ids of the live calls.
    pub fn live_call_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.live.iter().map(|c| c.0.clone())
    }

    fn media(&mut self, call: &CallId, cmd: ComponentCommand) {
        self.out.push_back(CoreOutput::Sip(SipCommand::Media(
            call.clone(),
            MediaCommand::Component(cmd),
        )));
    }

    fn drain(&mut self, now: Instant) {
        while let Some(o) = self.engine.poll_output() {
            match o {
                Output::Iq(iq) => self.out.push_back(CoreOutput::Stanza(iq.into())),
                Output::Presence(p) => self.out.push_back(CoreOutput::Stanza(p.into())),
                Output::Message(m) => self.out.push_back(CoreOutput::Stanza(m.into())),
                Output::Signal(action) => {
                    if let SignalAction::Dial { call, .. } = &action {
                        self.live.insert(call.clone());
                        self.sync_live();
                    }
                    self.out
                        .push_back(CoreOutput::Sip(SipCommand::Action(action)));
                }
                Output::Media(action) => self.media_action(now, action),
                Output::Prepare(pending) => {
                    // The sender's later stanzas wait behind it, in order.
                    self.next_ticket += 1;
                    let ticket = self.next_ticket;
                    self.held.entry(lane_of_pending(&pending)).or_default();
                    let start = pending.spec().clone();
                    self.pending.insert(ticket, pending);
                    self.out.push_back(CoreOutput::Prepare { ticket, start });
                }
            }
        }
        self.node_presence();
        if self.draining.is_some() && self.live.is_empty() && !self.stopped {
            self.stopped = true;
            self.out.push_back(CoreOutput::Stopped);
        }
    }

    fn media_action(&mut self, _now: Instant, action: MediaAction) {
        match action {
            MediaAction::StartComponent {
                on: Party::Call(call),
                component,
                ..
            } => {
                let Some(running) = self.engine.policy_mut().built.take() else {
                    tracing::error!(%call, "component started without being built");
                    return;
                };
                if let Running::Record(r) = &running {
                    self.engine
                        .policy_mut()
                        .recorders
                        .insert(component.clone(), r.clone());
                }
                self.component_call.insert(component.clone(), call.clone());
                self.media(
                    &call,
                    ComponentCommand::Start {
                        id: component.0,
                        component: running,
                    },
                );
            }
            MediaAction::StartComponent {
                on: Party::Mixer(mixer),
                component,
                ..
            } => {
                let Some(running) = self.engine.policy_mut().built.take() else {
                    tracing::error!(mixer = %mixer.0, "component started without being built");
                    return;
                };
                if let Running::Record(r) = &running {
                    self.engine
                        .policy_mut()
                        .recorders
                        .insert(component.clone(), r.clone());
                }
                self.component_mixer
                    .insert(component.clone(), mixer.clone());
                self.mixer_command(
                    &mixer,
                    ComponentCommand::Start {
                        id: component.0,
                        component: running,
                    },
                );
            }
            MediaAction::Output { component, command } => {
                self.command_component(component, false, |id| ComponentCommand::Output {
                    id,
                    command,
                })
            }
            MediaAction::Record { component, command } => {
                self.command_component(component, false, |id| ComponentCommand::Record {
                    id,
                    command,
                })
            }
            MediaAction::StopComponent { component, report } => {
                self.command_component(component, !report, |id| ComponentCommand::Stop {
                    id,
                    report,
                })
            }
            MediaAction::Dtmf { call, digit } => {
                if self.tapped.contains(&call) {
                    self.out.push_back(CoreOutput::Hub(HubCommand::Dtmf {
                        call: call.0.clone(),
                        digit,
                    }));
                }
                self.media(&call, ComponentCommand::Dtmf(digit))
            }
            MediaAction::ReleaseCall { call } => self.forget(&call),
            MediaAction::Join {
                a, b, direction, ..
            } => {
                self.tap(&a);
                self.tap(&b);
                self.out.push_back(CoreOutput::Hub(HubCommand::Join {
                    a: media_party(&a),
                    b: media_party(&b),
                    direction,
                }));
            }
            MediaAction::Unjoin { a, b } => {
                self.out.push_back(CoreOutput::Hub(HubCommand::Unjoin {
                    a: media_party(&a),
                    b: media_party(&b),
                }))
            }
            MediaAction::CreateMixer { mixer } => self
                .out
                .push_back(CoreOutput::Hub(HubCommand::CreateMixer(mixer.0))),
            MediaAction::DestroyMixer { mixer } => {
                self.component_mixer.forget_parent(&mixer);
                self.out
                    .push_back(CoreOutput::Hub(HubCommand::DestroyMixer(mixer.0)))
            }
        }
    }

    /// Stops taking calls: clients are told (presence `dnd`), live calls may go on until
    /// `now + grace`, then they end with reason `error`. [`CoreOutput::Stopped`] follows when
    /// no call is left.
    pub fn shutdown(&mut self, now: Instant, grace: Duration) {
        if self.draining.is_some() {
            return;
        }
        self.draining = Some(now + grace);
        let mut to: Vec<Jid> = self.clients.iter().cloned().collect();
        to.sort_by_key(|j| j.to_string());
        for jid in to {
            let mut p = Element::bare("presence", "jabber:client");
            rayo_xmpp::xml::set_attr(&mut p, "from", self.domain.as_str());
            rayo_xmpp::xml::set_attr(&mut p, "to", jid.to_string());
            p.append_child(
                Element::builder("show", "jabber:client")
                    .append("dnd")
                    .build(),
            );
            p.append_child(
                Element::builder("status", "jabber:client")
                    .append("shutting down")
                    .build(),
            );
            self.out.push_back(CoreOutput::Stanza(p));
        }
        self.drain(now);
    }

    fn end_all(&mut self, now: Instant) {
        let mut calls: Vec<CallId> = self.live.iter().cloned().collect();
        calls.sort();
        for call in calls {
            self.out
                .push_back(CoreOutput::Sip(SipCommand::Action(SignalAction::Hangup {
                    call: call.clone(),
                    headers: Vec::new(),
                })));
            self.engine.handle(
                now,
                Input::Signal {
                    call: call.clone(),
                    event: SignalEvent::Ended {
                        reason: EndReason::Error {
                            platform_code: Some("shutdown".into()),
                        },
                        headers: Vec::new(),
                    },
                },
            );
            self.forget(&call);
        }
        self.drain(now);
    }
}
