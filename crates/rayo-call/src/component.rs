//! Components (XEP-0327 §6.5): creation, commands, completion.

use std::time::Instant;

use jid::{BareJid, Jid};
use rayo_proto::command::{ComponentCommand, ComponentStart, OutputCommand, RecordCommand};
use rayo_proto::event::{Complete, CompleteMetadata, CompleteReason, Event};
use rayo_proto::generated::prompt::InputTimersStarted;
use rayo_proto::generated::rayo::Ref;
use rayo_proto::generated::record::RecordDirection;
use xmpp_parsers::stanza_error::{DefinedCondition as C, ErrorType as T};

use crate::engine::{Engine, Output, Request};
use crate::media::{MediaAction, MediaEvent, Party};
use crate::policy::{Policy, Refusal};
use crate::signal::SignalAction;
use crate::state::{CallState, Component, ComponentKind};
use crate::ComponentId;

/// A component start the engine has admitted (its sender may, its call or mixer exists and
/// is in a state for it, the limits hold) and that waits for the driver to prepare what it
/// needs: documents fetched and rendered, grammars fetched. Only an admitted command is
/// prepared. It holds its place in the component limits until it is given back with
/// [`Engine::accept_component`] or [`Engine::refuse_component`]; the client's answer is
/// sent then. Only the first of these counts: a copy given back again is ignored.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a pending component is answered only when it is accepted or refused"]
pub struct PendingComponent {
    req: Request,
    on: Party,
    spec: ComponentStart,
    seq: u64,
}

impl PendingComponent {
    /// The command.
    pub fn spec(&self) -> &ComponentStart {
        &self.spec
    }

    /// The call or mixer it is to run on.
    pub fn on(&self) -> &Party {
        &self.on
    }

    /// Who sent it.
    pub fn client(&self) -> &Jid {
        &self.req.from
    }
}

impl<P: Policy> Engine<P> {
    /// A command that starts a component on a call or mixer: checked, then either started
    /// now or, when the policy needs documents prepared first, handed to the driver as a
    /// [`PendingComponent`] (nothing is fetched for a command refused here).
    pub(crate) fn start_component(&mut self, req: &Request, on: Party, spec: ComponentStart) {
        let Some((parent_jid, early)) = self.admit_component(req, &on, &spec) else {
            return;
        };
        if self.policy.needs_preparation(&on, &spec) {
            let seq = self.load.prepare(req.from.to_bare(), on.clone());
            self.emit(Output::Prepare(PendingComponent {
                req: req.clone(),
                on,
                spec,
                seq,
            }));
            return;
        }
        if let Err(r) = self.policy.check_component(&on, &spec) {
            return self.refuse(req, r);
        }
        self.create_component(req, on, spec, parent_jid, early);
    }

    /// The driver prepared a pending component, and the policy has what it needs to run it:
    /// the command is checked again (its call may have ended meanwhile, a limit been
    /// reached) and, if it still holds, the component is created and the client gets its
    /// `<ref/>`. The policy's `check_component` is not asked again.
    pub fn accept_component(&mut self, now: Instant, pending: PendingComponent) {
        let _ = now;
        let PendingComponent { req, on, spec, seq } = pending;
        if !self.load.prepared(seq) {
            return;
        }
        if let Some((parent_jid, early)) = self.admit_component(&req, &on, &spec) {
            self.create_component(&req, on, spec, parent_jid, early);
        }
    }

    /// A pending component could not be prepared: the client gets `refusal`.
    pub fn refuse_component(&mut self, pending: PendingComponent, refusal: Refusal) {
        if self.load.prepared(pending.seq) {
            self.refuse(&pending.req, refusal);
        }
    }

    /// Components started or pending on `on`, and those of `client`.
    fn component_load(&self, on: &Party, client: &BareJid) -> (usize, usize) {
        let on_party = match on {
            Party::Call(c) => self.calls.get(c).map_or(0, |c| c.components.len()),
            Party::Mixer(m) => self.mixers.get(m).map_or(0, |m| m.components.len()),
        };
        (
            on_party + self.load.pending_on(on),
            self.load.of_client(client),
        )
    }

    /// The engine's checks of a component start (its parent exists, is in a state for it,
    /// the limits hold): the parent's JID and whether it runs on early media, or `None`
    /// when the request was refused.
    fn admit_component(
        &mut self,
        req: &Request,
        on: &Party,
        spec: &ComponentStart,
    ) -> Option<(BareJid, bool)> {
        let mut early = false;
        let parent_jid = match on {
            Party::Call(c) => {
                let Some(call) = self.calls.get(c) else {
                    self.refuse_with(req, T::Cancel, C::ItemNotFound);
                    return None;
                };
                if call.state != CallState::Answered {
                    // §6.5: "the server MUST NOT answer the call, and SHOULD attempt to use
                    // early-media ... If such early-media is not possible, it MUST return
                    // an error indicating that the call state is incorrect".
                    let can = call.early_media_on
                        || (call.inbound
                            && call.early_media_possible
                            && matches!(call.state, CallState::Offered | CallState::Accepted));
                    if !can {
                        self.refuse(
                            req,
                            Refusal::new(T::Wait, C::UnexpectedRequest)
                                .with_text("the call is not answered and has no early media"),
                        );
                        return None;
                    }
                    // Every component started before the answer runs on early media, not
                    // only the one that opened it.
                    early = true;
                }
                call.jid.clone()
            }
            Party::Mixer(m) => {
                let Some(mixer) = self.mixers.get(m) else {
                    self.refuse_with(req, T::Cancel, C::ItemNotFound);
                    return None;
                };
                if let ComponentStart::Record(r) = spec {
                    // §6.5.6: "When executing a record against a mixer, send mode is not
                    // supported."
                    if r.direction() == RecordDirection::Send {
                        self.refuse(
                            req,
                            Refusal::option_not_implemented()
                                .with_text("a mixer cannot record in send mode"),
                        );
                        return None;
                    }
                }
                mixer.jid.clone()
            }
        };
        let (on_party, by_client) = self.component_load(on, &req.from.to_bare());
        if on_party >= self.cfg.max_components_per_party {
            self.refuse(
                req,
                Refusal::resource_constraint().with_text(format!(
                    "{on_party} components already run here, the most there may be"
                )),
            );
            return None;
        }
        if by_client >= self.cfg.max_components_per_client {
            self.refuse(
                req,
                Refusal::resource_constraint().with_text(format!(
                    "this client already runs {by_client} components, the most it may"
                )),
            );
            return None;
        }
        Some((parent_jid, early))
    }

    /// Creates an admitted component: its id and JID, its place on the parent, the
    /// client's `<ref/>`, and the media engine told to start it.
    fn create_component(
        &mut self,
        req: &Request,
        on: Party,
        spec: ComponentStart,
        parent_jid: BareJid,
        early: bool,
    ) {
        let id = match self.token() {
            Ok(t) => ComponentId(t),
            Err(e) => return self.refuse(req, e.into()),
        };
        let Some(jid) = Self::component_jid(&parent_jid, &id) else {
            return self.refuse(req, Refusal::bad_request());
        };
        let kind = match &spec {
            ComponentStart::Output(_) => ComponentKind::Output,
            ComponentStart::Input(_) => ComponentKind::Input,
            ComponentStart::Prompt(_) => ComponentKind::Prompt { output_done: false },
            ComponentStart::Record(_) => ComponentKind::Record,
        };
        let paused = match &spec {
            ComponentStart::Output(o) => o.start_paused(),
            ComponentStart::Prompt(p) => p.output.start_paused(),
            ComponentStart::Record(r) => r.start_paused(),
            ComponentStart::Input(_) => false,
        };
        let jid: Jid = jid.into();
        self.load.started(req.from.to_bare());
        let replaced = self.components.insert(
            id.clone(),
            Component {
                on: on.clone(),
                jid: jid.clone(),
                owner: req.from.clone(),
                kind,
                paused,
                stopping: false,
            },
        );
        if let Some(old) = replaced {
            // Only with a repeating id source (tests): the count stays right.
            self.load.ended(&old.owner.to_bare());
        }
        match &on {
            Party::Call(c) => {
                if let Some(call) = self.calls.get_mut(c) {
                    call.components.insert(id.clone());
                    if early && !call.early_media_on {
                        call.early_media_on = true;
                        self.signal(SignalAction::EarlyMedia { call: c.clone() });
                    }
                }
            }
            Party::Mixer(m) => {
                if let Some(mixer) = self.mixers.get_mut(m) {
                    mixer.components.insert(id.clone());
                }
            }
        }
        let uri = rayo_proto::address::uri_for(&jid);
        self.reply_result(req, Some(Ref { uri }.into()));
        self.media(MediaAction::StartComponent {
            on,
            component: id,
            spec,
            early,
        });
    }

    /// A command to a running component.
    pub(crate) fn component_command(
        &mut self,
        req: &Request,
        id: ComponentId,
        cmd: ComponentCommand,
    ) {
        let Some(comp) = self.components.get(&id) else {
            return self.refuse_with(req, T::Cancel, C::ItemNotFound);
        };
        // §6.4: "A server MUST NOT allow clients to interact with mixers allocated within
        // other security zones either by observing their status or media": to a client of
        // another zone, a mixer's component does not exist (as its mixer does not).
        if let Party::Mixer(m) = &comp.on {
            let zone = self.zone_of(&req.from);
            if self.mixers.get(m).is_some_and(|mx| mx.zone != zone) {
                return self.refuse_with(req, T::Cancel, C::ItemNotFound);
            }
        }
        if comp.owner != req.from {
            // §6.5.2: a command from anyone but the component's creator: conflict (cancel).
            return self.refuse_with(req, T::Cancel, C::Conflict);
        }
        let (kind, paused, stopping) = (comp.kind, comp.paused, comp.stopping);
        // §6.5.2: once a stop is acknowledged the component is ceasing: any other command is
        // "not appropriate for the component at its current stage of execution".
        if stopping && !matches!(cmd, ComponentCommand::Stop(_)) {
            return self.refuse_with(req, T::Wait, C::UnexpectedRequest);
        }
        match cmd {
            ComponentCommand::Stop(_) => {
                self.reply_result(req, None);
                if !stopping {
                    if let Some(c) = self.components.get_mut(&id) {
                        c.stopping = true;
                    }
                    self.media(MediaAction::StopComponent {
                        component: id,
                        report: true,
                    });
                }
            }
            ComponentCommand::Output(o) => {
                match kind {
                    ComponentKind::Output | ComponentKind::Prompt { output_done: false } => {}
                    // §6.5.5: "If output component commands are executed after the output
                    // component has ceased executing, a <unexpected-request> error MUST be
                    // returned."
                    ComponentKind::Prompt { output_done: true } => {
                        return self.refuse_with(req, T::Wait, C::UnexpectedRequest)
                    }
                    _ => return self.refuse(req, Refusal::not_implemented()),
                }
                if let Some(p) = pause_change(&o, paused) {
                    match p {
                        Ok(now_paused) => self.set_paused(&id, now_paused),
                        Err(()) => return self.refuse_with(req, T::Wait, C::UnexpectedRequest),
                    }
                }
                self.reply_result(req, None);
                self.media(MediaAction::Output {
                    component: id,
                    command: o,
                });
            }
            ComponentCommand::Record(r) => {
                if kind != ComponentKind::Record {
                    return self.refuse(req, Refusal::not_implemented());
                }
                let want = matches!(r, RecordCommand::Pause(_));
                if want == paused {
                    return self.refuse_with(req, T::Wait, C::UnexpectedRequest);
                }
                self.set_paused(&id, want);
                self.reply_result(req, None);
                self.media(MediaAction::Record {
                    component: id,
                    command: r,
                });
            }
        }
    }

    fn set_paused(&mut self, id: &ComponentId, paused: bool) {
        if let Some(c) = self.components.get_mut(id) {
            c.paused = paused;
        }
    }

    /// The media engine reports.
    pub(crate) fn handle_media(&mut self, _now: std::time::Instant, ev: MediaEvent) {
        match ev {
            MediaEvent::Complete {
                component,
                reason,
                metadata,
            } => self.complete(&component, Complete { reason, metadata }),
            MediaEvent::InputTimersStarted { component } => {
                let Some(c) = self.components.get_mut(&component) else {
                    return;
                };
                let ComponentKind::Prompt { output_done } = &mut c.kind else {
                    return;
                };
                if *output_done {
                    return;
                }
                *output_done = true;
                let (from, to) = (c.jid.clone(), c.owner.clone());
                self.send_event(
                    from,
                    to,
                    Event::InputTimersStarted(InputTimersStarted),
                    None,
                );
            }
            MediaEvent::Speaking {
                mixer,
                call,
                speaking,
            } => self.speaking(mixer, call, speaking),
        }
    }

    /// A component ends: its owner gets the complete event, and it is forgotten.
    fn complete(&mut self, id: &ComponentId, complete: Complete) {
        let Some(comp) = self.components.remove(id) else {
            return;
        };
        self.load.ended(&comp.owner.to_bare());
        match &comp.on {
            Party::Call(c) => {
                if let Some(call) = self.calls.get_mut(c) {
                    call.components.remove(id);
                }
            }
            Party::Mixer(m) => {
                if let Some(mixer) = self.mixers.get_mut(m) {
                    mixer.components.remove(id);
                }
            }
        }
        self.send_event(comp.jid, comp.owner, Event::Complete(complete), None);
    }

    /// The call or mixer ends under a running component: it completes with `hangup` now,
    /// and the media engine is told to stop it without reporting back.
    pub(crate) fn complete_for_hangup(&mut self, id: &ComponentId) {
        let Some(kind) = self.components.get(id).map(|c| c.kind) else {
            return;
        };
        self.media(MediaAction::StopComponent {
            component: id.clone(),
            report: false,
        });
        let metadata = match kind {
            ComponentKind::Record => self
                .policy
                .finalize_recording(id)
                .map(CompleteMetadata::Recording)
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        self.complete(
            id,
            Complete {
                reason: CompleteReason::Hangup,
                metadata,
            },
        );
    }
}

/// How an output command changes the paused state: `None` if it does not, `Err` if it
/// makes no sense now (pause while paused, resume while playing).
fn pause_change(o: &OutputCommand, paused: bool) -> Option<Result<bool, ()>> {
    match o {
        OutputCommand::Pause(_) => Some(if paused { Err(()) } else { Ok(true) }),
        OutputCommand::Resume(_) => Some(if paused { Ok(false) } else { Err(()) }),
        _ => None,
    }
}
