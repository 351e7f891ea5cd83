//! Commands to the service and to calls, signalling events, and the end of calls
//! (XEP-0327 §6.2, §6.6).

use std::time::Instant;

use jid::Jid;
use rayo_proto::address::{jid_from_uri, Entity, EntityKind};
use rayo_proto::command::{CallCommand, Command, MixerCommand, ServiceCommand};
use rayo_proto::event::Event;
use rayo_proto::generated::rayo::{
    Answered, Dial, End, EndReason, Header, Ref, RejectReason, Ringing,
};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition as C, ErrorType as T};

use crate::engine::{Engine, Output, Request};
use crate::media::{MediaAction, Party};
use crate::policy::{Policy, Refusal};
use crate::signal::{RejectCause, SignalAction, SignalEvent};
use crate::state::{Call, CallState};
use crate::timers::Timer;
use crate::{CallId, MixerId};

/// The entity an IQ set addresses, resolved against the engine's tables.
pub(crate) enum Target {
    Service,
    Call(CallId),
    Mixer(MixerId),
    Component(crate::ComponentId),
}

impl<P: Policy> Engine<P> {
    /// An IQ to the service or one of its entities.
    pub(crate) fn handle_iq(&mut self, now: Instant, iq: Iq) {
        let (from, to, id, payload) = match iq {
            Iq::Set {
                from: Some(from),
                to: Some(to),
                id,
                payload,
            } => (from, to, id, payload),
            Iq::Get {
                from: Some(from),
                to: Some(to),
                id,
                payload,
            } => {
                // Queries (disco, ping…) are the transport's; anything reaching the engine
                // is a payload nobody here handles (RFC 6120 §8.4).
                let req = Request {
                    from,
                    to,
                    id,
                    payload,
                };
                self.refuse_with(&req, T::Cancel, C::ServiceUnavailable);
                return;
            }
            // Results and errors answer nothing the engine asked; requests without
            // addresses cannot be answered.
            _ => return,
        };
        let req = Request {
            from,
            to,
            id,
            payload,
        };
        let Some(target) = self.resolve(&req.from, &req.to) else {
            self.refuse_with(&req, T::Cancel, C::ItemNotFound);
            return;
        };
        let kind = match &target {
            Target::Service => EntityKind::Service,
            Target::Call(_) => EntityKind::Call,
            Target::Mixer(_) => EntityKind::Mixer,
            Target::Component(_) => EntityKind::Component,
        };
        // A call only takes commands from its DCP, or from a PCP it is offered to.
        if let Target::Call(cid) = &target {
            if !self.may_control(cid, &req.from) {
                self.refuse_with(&req, T::Cancel, C::Conflict);
                return;
            }
        }
        let command = match Command::parse_valid(kind, req.payload.clone()) {
            Ok(c) => c,
            Err(e) => {
                self.reply_error(&req, e.to_stanza_error());
                return;
            }
        };
        // Headers become SIP header lines: none may add a line or set what the node controls.
        let checked = match &command {
            Command::Service(ServiceCommand::Dial(d)) => rayo_proto::header::check_dial(&d.headers),
            other => rayo_proto::header::check_all(other.headers()),
        };
        if let Err(e) = checked {
            return self.refuse(&req, Refusal::bad_request().with_text(e.to_string()));
        }
        match (target, command) {
            (Target::Service, Command::Service(ServiceCommand::Dial(d))) => self.dial(now, &req, d),
            (Target::Call(cid), Command::Call(c)) => {
                self.take_control(&cid, &req.from);
                self.call_command(now, &req, cid, c)
            }
            (Target::Mixer(m), Command::Mixer(c)) => match c {
                MixerCommand::Join(j) => self.join(&req, Party::Mixer(m), j),
                MixerCommand::Unjoin(u) => self.unjoin(&req, Party::Mixer(m), u),
                MixerCommand::Start(s) => self.start_component(&req, Party::Mixer(m), s),
            },
            (Target::Component(c), Command::Component(cmd)) => self.component_command(&req, c, cmd),
            // parse_valid groups by the kind it was given.
            _ => self.refuse_with(&req, T::Cancel, C::FeatureNotImplemented),
        }
    }

    /// Which live entity `to` names, for a request from `from`.
    pub(crate) fn resolve(&self, from: &Jid, to: &Jid) -> Option<Target> {
        let call = |node: &str| {
            let id = CallId(node.to_owned());
            self.calls.contains_key(&id).then_some(id)
        };
        let mixer = |node: &str| {
            let key = (self.zone_of(from), node.to_owned());
            self.mixer_names.get(&key).cloned()
        };
        let component = |res: &str, parent: &Jid| {
            let id = crate::ComponentId(res.to_owned());
            self.components
                .get(&id)
                .is_some_and(|c| c.jid.to_bare() == parent.to_bare())
                .then_some(id)
        };
        Some(match self.cfg.addressing.classify(to)? {
            Entity::Service => Target::Service,
            Entity::ServiceComponent(_) => return None,
            Entity::Call(n) => Target::Call(call(n.as_str())?),
            Entity::Mixer(n) => Target::Mixer(mixer(n.as_str())?),
            Entity::CallOrMixer(n, None) => match call(n.as_str()) {
                Some(c) => Target::Call(c),
                None => Target::Mixer(mixer(n.as_str())?),
            },
            Entity::CallComponent(_, r)
            | Entity::MixerComponent(_, r)
            | Entity::CallOrMixer(_, Some(r)) => Target::Component(component(r.as_str(), to)?),
        })
    }

    /// Whether `from` may command the call: its DCP, or (before there is one) a PCP holding
    /// its offer (§6.2.2).
    fn may_control(&self, id: &CallId, from: &Jid) -> bool {
        let Some(call) = self.calls.get(id) else {
            return false;
        };
        match &call.dcp {
            Some(dcp) => dcp == from,
            None => call
                .offer
                .as_ref()
                .is_some_and(|o| o.current.contains(from)),
        }
    }

    /// The first PCP to command an offered call becomes its DCP.
    fn take_control(&mut self, id: &CallId, from: &Jid) {
        let mut won = false;
        if let Some(call) = self.calls.get_mut(id) {
            call.interest(from);
            if call.dcp.is_none() {
                call.dcp = Some(from.clone());
                call.offer = None;
                won = true;
            }
        }
        if won {
            self.offers.remove(id);
            self.cancel_timers(id, |t| matches!(t, Timer::Offer(..)));
        }
    }

    fn call_command(&mut self, now: Instant, req: &Request, id: CallId, c: CallCommand) {
        let Some(call) = self.calls.get(&id) else {
            self.refuse_with(req, T::Cancel, C::ItemNotFound);
            return;
        };
        let (inbound, state) = (call.inbound, call.state);
        match c {
            CallCommand::Accept(a) => {
                if !inbound {
                    return self.refuse_with(req, T::Wait, C::UnexpectedRequest);
                }
                self.reply_result(req, None);
                if state == CallState::Offered {
                    self.set_state(&id, CallState::Accepted);
                    self.signal(SignalAction::Accept {
                        call: id,
                        headers: a.headers,
                    });
                }
            }
            CallCommand::Answer(a) => {
                if !inbound {
                    return self.refuse_with(req, T::Wait, C::UnexpectedRequest);
                }
                self.reply_result(req, None);
                if state != CallState::Answered {
                    self.set_state(&id, CallState::Answered);
                    self.signal(SignalAction::Answer {
                        call: id,
                        headers: a.headers,
                    });
                }
            }
            CallCommand::Redirect(r) => {
                // §6.6.1: only an inbound call not yet answered can be redirected.
                if !inbound || state == CallState::Answered {
                    return self.refuse_with(req, T::Wait, C::UnexpectedRequest);
                }
                self.reply_result(req, None);
                self.signal(SignalAction::Redirect {
                    call: id.clone(),
                    to: r.to,
                    headers: r.headers,
                });
                self.end_call(&id, hangup_command(), Vec::new());
            }
            CallCommand::Reject(r) => {
                // §6.6.2: "The client MUST do this before accepting the call."
                if !inbound || state != CallState::Offered {
                    return self.refuse_with(req, T::Cancel, C::NotAllowed);
                }
                self.reply_result(req, None);
                let cause = match r.reason {
                    Some(RejectReason::Busy) => RejectCause::Busy,
                    Some(RejectReason::Error) => RejectCause::Error,
                    _ => RejectCause::Decline,
                };
                self.signal(SignalAction::Reject {
                    call: id.clone(),
                    cause,
                    headers: r.headers,
                });
                self.end_call(&id, hangup_command(), Vec::new());
            }
            CallCommand::Hangup(h) => {
                self.reply_result(req, None);
                // §6.6.3: components, then joins, then the session, then the end event.
                self.stop_call_media(&id);
                self.signal(SignalAction::Hangup {
                    call: id.clone(),
                    headers: h.headers,
                });
                self.end_call(&id, hangup_command(), Vec::new());
            }
            CallCommand::Join(j) => self.join(req, Party::Call(id), j),
            CallCommand::Unjoin(u) => self.unjoin(req, Party::Call(id), u),
            CallCommand::Start(s) => {
                let _ = now;
                self.start_component(req, Party::Call(id), s)
            }
        }
    }

    fn set_state(&mut self, id: &CallId, state: CallState) {
        if let Some(c) = self.calls.get_mut(id) {
            c.state = state;
        }
    }

    /// §6.2.1: dial a new call for `req.from`.
    fn dial(&mut self, now: Instant, req: &Request, d: Dial) {
        if !self.cfg.outbound_calls {
            return self.refuse(req, Refusal::not_implemented());
        }
        if let Err(r) = self.policy.authorize_dial(&req.from, &d) {
            return self.refuse(req, r);
        }
        let id = match &d.uri {
            Some(uri) => {
                // "Such a URI MUST be a valid Rayo call address."
                let node = jid_from_uri(uri).ok().and_then(|j| {
                    match self.cfg.addressing.classify(&j)? {
                        Entity::Call(n) | Entity::CallOrMixer(n, None) => Some(n),
                        _ => None,
                    }
                });
                let Some(node) = node else {
                    return self.refuse(req, Refusal::bad_request());
                };
                let id = CallId(node.to_string());
                if self.calls.contains_key(&id) {
                    return self.refuse_with(req, T::Modify, C::Conflict);
                }
                id
            }
            None => match self.allocate_call_id() {
                Ok(id) => id,
                Err(e) => return self.refuse(req, e.into()),
            },
        };
        // Nested joins must name reachable parties now (§6.2.1.2, §6.3.1).
        for j in &d.joins {
            if let Err(r) = self.join_target(&req.from, j.call_uri.as_deref(), None) {
                return self.refuse(req, r);
            }
        }
        let Some(jid) = self.call_bare(&id) else {
            return self.refuse(req, Refusal::bad_request());
        };
        let mut call = Call {
            jid: jid.clone(),
            inbound: false,
            state: CallState::Dialing,
            dcp: Some(req.from.clone()),
            interested: Vec::new(),
            presence_sent: Default::default(),
            offer: None,
            early_media_possible: false,
            early_media_on: false,
            components: Default::default(),
            pending_joins: d.joins.clone(),
        };
        call.interest(&req.from);
        self.calls.insert(id.clone(), call);
        let uri = rayo_proto::address::uri_for(&jid.into());
        self.reply_result(req, Some(Ref { uri }.into()));
        self.signal(SignalAction::Dial {
            call: id.clone(),
            to: d.to,
            from: d.from,
            headers: d.headers,
        });
        if let Some(t) = d.timeout {
            self.set_timer(Self::after(now, t), Timer::Dial(id));
        }
    }

    /// The dial timeout passed without an answer: cancel, end with `timeout`.
    pub(crate) fn dial_expired(&mut self, _now: Instant, id: CallId) {
        let waiting = self
            .calls
            .get(&id)
            .is_some_and(|c| c.state != CallState::Answered);
        if waiting {
            self.signal(SignalAction::Cancel { call: id.clone() });
            self.end_call(
                &id,
                EndReason::Timeout {
                    platform_code: None,
                },
                Vec::new(),
            );
        }
    }

    /// The signalling layer reports.
    pub(crate) fn handle_signal(&mut self, now: Instant, id: CallId, ev: SignalEvent) {
        if let SignalEvent::Incoming {
            to,
            from,
            headers,
            early_media,
        } = ev
        {
            return self.incoming(now, id, to, from, headers, early_media);
        }
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let (inbound, state, dcp) = (call.inbound, call.state, call.dcp.clone());
        match ev {
            SignalEvent::Incoming { .. } => {}
            SignalEvent::Ringing { headers } => {
                if !inbound && state == CallState::Dialing {
                    self.set_state(&id, CallState::Ringing);
                    if let Some(dcp) = dcp {
                        self.call_event(&id, &dcp, Event::Ringing(Ringing { headers }));
                    }
                }
            }
            SignalEvent::Answered { headers } => {
                if !inbound && state != CallState::Answered {
                    self.set_state(&id, CallState::Answered);
                    self.cancel_timers(&id, |t| matches!(t, Timer::Dial(_)));
                    if let Some(dcp) = dcp.clone() {
                        self.call_event(&id, &dcp, Event::Answered(Answered { headers }));
                    }
                    let joins = self
                        .calls
                        .get_mut(&id)
                        .map(|c| std::mem::take(&mut c.pending_joins))
                        .unwrap_or_default();
                    if let Some(dcp) = dcp {
                        for j in joins {
                            self.nested_join(&dcp, &id, j);
                        }
                    }
                }
            }
            SignalEvent::Ended { reason, headers } => {
                self.stop_call_media(&id);
                self.end_call(&id, reason, headers);
            }
            SignalEvent::Dtmf { digit } => self.media(MediaAction::Dtmf { call: id, digit }),
            SignalEvent::Message { body } => {
                if let Some(dcp) = dcp {
                    self.message_to_client(&id, &dcp, body);
                }
            }
        }
    }

    /// Completes a call's components with `hangup` and breaks its joins, sending the
    /// events (§6.6.3 steps 1 and 2).
    pub(crate) fn stop_call_media(&mut self, id: &CallId) {
        let comps: Vec<_> = self
            .calls
            .get(id)
            .map(|c| c.components.iter().cloned().collect())
            .unwrap_or_default();
        for comp in comps {
            self.complete_for_hangup(&comp);
        }
        self.unjoin_all(&Party::Call(id.clone()));
    }

    /// Ends a call: whatever media it still holds is released, every interested JID gets
    /// the end event, and the call is forgotten: nothing more is sent from it, and commands
    /// to it get `item-not-found` (§6.6.4).
    pub(crate) fn end_call(&mut self, id: &CallId, reason: EndReason, headers: Vec<Header>) {
        self.stop_call_media(id);
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        self.offers.remove(id);
        self.cancel_timers(id, |_| true);
        self.media(MediaAction::ReleaseCall { call: id.clone() });
        // A controlling party waited for only by this call is no longer waited for.
        if let Some(dcp) = &call.dcp {
            // Only a client that went away is looked for among the live calls (a scan of
            // them all at every call end otherwise).
            if self.gone.contains(dcp) && !self.calls.values().any(|c| c.dcp.as_ref() == Some(dcp))
            {
                self.gone.remove(dcp);
            }
        }
        let from: Jid = call.jid.clone().into();
        for to in call.interested {
            let event = Event::End(End {
                reason: reason.clone(),
                headers: headers.clone(),
            });
            self.send_event(from.clone(), to, event, None);
        }
    }

    /// Outputs queued so far that are stanzas (for tests and drivers that only relay).
    pub fn drain_outputs(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.poll_output()).collect()
    }
}

fn hangup_command() -> EndReason {
    EndReason::HangupCommand {
        platform_code: None,
    }
}
