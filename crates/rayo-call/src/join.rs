//! Joins and mixers (XEP-0327 §6.3, §6.4).

use std::collections::BTreeSet;

use jid::Jid;
use rayo_proto::address::{jid_from_uri, uri_for, Entity};
use rayo_proto::event::Event;
use rayo_proto::generated::rayo::{
    Join, JoinMedia, Joined, Ref, StartedSpeaking, StoppedSpeaking, Unjoin, Unjoined,
};
use xmpp_parsers::stanza_error::{DefinedCondition as C, ErrorType as T};

use crate::engine::{Engine, Output, Request};
use crate::media::{MediaAction, Party};
use crate::policy::{Policy, Refusal};
use crate::state::{JoinParams, Mixer};
use crate::{CallId, MixerId};

impl<P: Policy> Engine<P> {
    /// The zone a party belongs to: its DCP's (a call) or its own (a mixer).
    fn party_zone(&self, p: &Party) -> Option<String> {
        match p {
            Party::Call(c) => self.calls.get(c)?.dcp.as_ref().map(|d| self.zone_of(d)),
            Party::Mixer(m) => self.mixers.get(m).map(|m| m.zone.clone()),
        }
    }

    /// Resolves the other party of a join by call URI (mixers are resolved by the caller):
    /// `service-unavailable` if it does not exist, `not-allowed` if it is in another zone,
    /// `bad-request` if the URI is not a call's.
    pub(crate) fn join_target(
        &self,
        from: &Jid,
        call_uri: Option<&str>,
        mixer: Option<&MixerId>,
    ) -> Result<Option<Party>, Refusal> {
        let party = match (call_uri, mixer) {
            (Some(uri), _) => {
                let jid = jid_from_uri(uri).map_err(|_| Refusal::bad_request())?;
                let node = match self.cfg.addressing.classify(&jid) {
                    Some(Entity::Call(n)) | Some(Entity::CallOrMixer(n, None)) => n,
                    _ => return Err(Refusal::new(T::Cancel, C::ServiceUnavailable)),
                };
                let id = CallId(node.to_string());
                if !self.calls.contains_key(&id) {
                    return Err(Refusal::new(T::Cancel, C::ServiceUnavailable));
                }
                Party::Call(id)
            }
            (None, Some(m)) => Party::Mixer(m.clone()),
            (None, None) => return Ok(None),
        };
        // §6.3: parties in different security zones cannot be joined.
        if self.party_zone(&party).as_deref() != Some(self.zone_of(from).as_str()) {
            return Err(Refusal::new(T::Cancel, C::NotAllowed));
        }
        Ok(Some(party))
    }

    fn media_ready(&self, p: &Party) -> bool {
        match p {
            Party::Call(c) => self.calls.get(c).is_some_and(|c| c.media_ready()),
            Party::Mixer(m) => self.mixers.contains_key(m),
        }
    }

    /// The join command to party `a`.
    pub(crate) fn join(&mut self, req: &Request, a: Party, j: Join) {
        let params = JoinParams {
            direction: j.direction(),
            media: j.media(),
        };
        let zone = self.zone_of(&req.from);
        let (mixer, created) = match &j.mixer_name {
            Some(name) => match self.mixer_for(zone, name, params.media) {
                Ok((m, created)) => (Some(m), created),
                Err(r) => return self.refuse(req, r),
            },
            None => (None, false),
        };
        let b = match self.join_target(&req.from, j.call_uri.as_deref(), mixer.as_ref()) {
            Ok(Some(b)) => b,
            Ok(None) => return self.refuse(req, Refusal::bad_request()),
            Err(r) => {
                self.drop_if_unused(mixer.as_ref(), created);
                return self.refuse(req, r);
            }
        };
        let refusal = if b == a {
            Some(Refusal::bad_request().with_text("a party cannot be joined to itself"))
        } else if !self.media_ready(&a) || !self.media_ready(&b) {
            Some(Refusal::new(T::Wait, C::UnexpectedRequest).with_text("media is not up yet"))
        } else if params.media == JoinMedia::Direct && matches!(b, Party::Mixer(_)) {
            Some(Refusal::option_not_implemented().with_text("mixers are always bridged"))
        } else if self.breaks_existing(&a, &b, params.media) {
            // §6.3.4: "If a join ... cannot be created without destroying existing joins,
            // the call MUST return a conflict (cancel) error."
            Some(Refusal::new(T::Cancel, C::Conflict))
        } else {
            self.policy
                .check_join(&a, &b, params.direction, params.media)
                .err()
        };
        if let Some(r) = refusal {
            self.drop_if_unused(mixer.as_ref(), created);
            return self.refuse(req, r);
        }
        if created {
            if let Some(m) = &mixer {
                self.media(MediaAction::CreateMixer { mixer: m.clone() });
            }
        }
        let existing = self.joins.get(&a).and_then(|m| m.get(&b)).is_some();
        self.link(&a, &b, params);
        if existing {
            // §6.3.3: renegotiate, acknowledge, MUST NOT re-send joined events.
            self.reply_mixer_ref(req, mixer.as_ref());
            return;
        }
        if let Some(m) = &mixer {
            self.mixer_presence(m);
        }
        self.reply_mixer_ref(req, mixer.as_ref());
        self.joined_events(&a, &b);
    }

    /// The mixer `name` of `zone`, created (without telling the media engine yet) if it does
    /// not exist: a mixer is named within its zone and created on first join (§6.4).
    fn mixer_for(
        &mut self,
        zone: String,
        name: &str,
        media: JoinMedia,
    ) -> Result<(MixerId, bool), Refusal> {
        if let Some(m) = self.mixer_names.get(&(zone.clone(), mixer_key(name))) {
            return Ok((m.clone(), false));
        }
        if media == JoinMedia::Direct {
            return Err(Refusal::option_not_implemented().with_text("mixers are always bridged"));
        }
        self.policy.create_mixer(name)?;
        let jid = self.mixer_bare(name).ok_or_else(Refusal::bad_request)?;
        let id = MixerId(self.token()?);
        self.mixers.insert(
            id.clone(),
            Mixer {
                name: name.to_owned(),
                zone: zone.clone(),
                jid,
                presence_sent: BTreeSet::new(),
                subscribers: BTreeSet::new(),
                components: BTreeSet::new(),
            },
        );
        self.mixer_names.insert((zone, mixer_key(name)), id.clone());
        Ok((id, true))
    }

    /// A dial's nested join, made once the new call is answered; a join to a mixer creates
    /// the mixer as a join command would.
    pub(crate) fn nested_join(&mut self, dcp: &Jid, new: &CallId, j: Join) {
        let (mixer, created) = match &j.mixer_name {
            Some(name) => match self.mixer_for(self.zone_of(dcp), name, j.media()) {
                Ok((m, created)) => (Some(m), created),
                Err(_) => return,
            },
            None => (None, false),
        };
        let Ok(Some(b)) = self.join_target(dcp, j.call_uri.as_deref(), mixer.as_ref()) else {
            self.drop_if_unused(mixer.as_ref(), created);
            return;
        };
        let a = Party::Call(new.clone());
        if self.breaks_existing(&a, &b, j.media()) {
            self.drop_if_unused(mixer.as_ref(), created);
            return;
        }
        if let (Some(m), true) = (&mixer, created) {
            self.media(MediaAction::CreateMixer { mixer: m.clone() });
        }
        self.link(
            &a,
            &b,
            JoinParams {
                direction: j.direction(),
                media: j.media(),
            },
        );
        if let Some(m) = &mixer {
            self.mixer_presence(m);
        }
        self.joined_events(&a, &b);
    }

    fn drop_if_unused(&mut self, mixer: Option<&MixerId>, created: bool) {
        if let (Some(m), true) = (mixer, created) {
            if let Some(mx) = self.mixers.remove(m) {
                self.mixer_names.remove(&(mx.zone, mixer_key(&mx.name)));
            }
        }
    }

    fn reply_mixer_ref(&mut self, req: &Request, mixer: Option<&MixerId>) {
        let payload = mixer.and_then(|m| self.mixers.get(m)).map(|m| {
            Ref {
                uri: uri_for(&m.jid.clone().into()),
            }
            .into()
        });
        self.reply_result(req, payload);
    }

    /// Whether joining `a` and `b` would need an existing join broken: a direct join must
    /// be the only join of both parties.
    fn breaks_existing(&self, a: &Party, b: &Party, media: JoinMedia) -> bool {
        let others = |p: &Party, other: &Party| -> Vec<JoinMedia> {
            self.joins
                .get(p)
                .map(|m| {
                    m.iter()
                        .filter(|(q, _)| *q != other)
                        .map(|(_, jp)| jp.media)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (oa, ob) = (others(a, b), others(b, a));
        if media == JoinMedia::Direct {
            return !oa.is_empty() || !ob.is_empty();
        }
        oa.contains(&JoinMedia::Direct) || ob.contains(&JoinMedia::Direct)
    }

    fn link(&mut self, a: &Party, b: &Party, params: JoinParams) {
        self.joins
            .entry(a.clone())
            .or_default()
            .insert(b.clone(), params);
        self.joins
            .entry(b.clone())
            .or_default()
            .insert(a.clone(), params.reversed());
        self.media(MediaAction::Join {
            a: a.clone(),
            b: b.clone(),
            direction: params.direction,
            media: params.media,
        });
    }

    /// The JIDs that control a party: a call's DCP; a mixer's, the DCPs of the calls in it.
    pub(crate) fn controllers(&self, p: &Party) -> Vec<Jid> {
        match p {
            Party::Call(c) => self
                .calls
                .get(c)
                .and_then(|c| c.dcp.clone())
                .into_iter()
                .collect(),
            Party::Mixer(_) => {
                let mut v: Vec<Jid> = Vec::new();
                for q in self.joins.get(p).into_iter().flat_map(|m| m.keys()) {
                    if let Party::Call(c) = q {
                        if let Some(d) = self.calls.get(c).and_then(|c| c.dcp.clone()) {
                            if !v.contains(&d) {
                                v.push(d);
                            }
                        }
                    }
                }
                v
            }
        }
    }

    /// How `p` is named in a joined/unjoined event.
    fn party_ref(&self, p: &Party) -> (Option<String>, Option<String>) {
        match p {
            Party::Call(c) => (self.call_uri(c), None),
            Party::Mixer(m) => (None, self.mixers.get(m).map(|m| m.name.clone())),
        }
    }

    fn joined_events(&mut self, a: &Party, b: &Party) {
        for (x, y) in [(a, b), (b, a)] {
            let (call_uri, mixer_name) = self.party_ref(y);
            self.party_event(
                x,
                Event::Joined(Joined {
                    call_uri,
                    mixer_name,
                }),
            );
        }
    }

    /// Sends an event from a party to its controllers.
    pub(crate) fn party_event(&mut self, p: &Party, event: Event) {
        match p {
            Party::Call(c) => {
                for to in self.controllers(p) {
                    self.call_event(c, &to, event.clone());
                }
            }
            Party::Mixer(m) => {
                self.mixer_presence(m);
                let Some(mixer) = self.mixers.get(m) else {
                    return;
                };
                let from = mixer.jid.clone();
                // §6.4: to the controlling parties with calls in it, and to every client
                // with a presence subscription.
                let mut to = self.controllers(p);
                for s in &mixer.subscribers {
                    if !to.contains(s) {
                        to.push(s.clone());
                    }
                }
                for to in to {
                    self.send_event(from.clone().into(), to, event.clone(), None);
                }
            }
        }
    }

    /// A mixer's first presence (with caps) to each controller that has not had one.
    fn mixer_presence(&mut self, m: &MixerId) {
        let controllers = self.controllers(&Party::Mixer(m.clone()));
        let Some(mixer) = self.mixers.get_mut(m) else {
            return;
        };
        let from: Jid = mixer.jid.clone().into();
        let new: Vec<Jid> = controllers
            .into_iter()
            .filter(|c| mixer.presence_sent.insert(c.clone()))
            .collect();
        for to in new {
            let caps = self.mixer_caps.clone();
            self.send_presence(from.clone(), to, Some(caps), false);
        }
    }

    /// The unjoin command to party `a` (§6.3.2).
    pub(crate) fn unjoin(&mut self, req: &Request, a: Party, u: Unjoin) {
        let zone = self.zone_of(&req.from);
        let target = match (&u.call_uri, &u.mixer_name) {
            (None, None) => None,
            (Some(uri), _) => match jid_from_uri(uri)
                .ok()
                .and_then(|j| self.cfg.addressing.classify(&j))
            {
                Some(Entity::Call(n)) | Some(Entity::CallOrMixer(n, None)) => {
                    Some(Party::Call(CallId(n.to_string())))
                }
                _ => return self.refuse_with(req, T::Cancel, C::ServiceUnavailable),
            },
            (None, Some(name)) => match self.mixer_names.get(&(zone, mixer_key(name))) {
                Some(m) => Some(Party::Mixer(m.clone())),
                None => return self.refuse_with(req, T::Cancel, C::ServiceUnavailable),
            },
        };
        match target {
            None => {
                self.reply_result(req, None);
                self.unjoin_all(&a);
            }
            Some(b) => {
                if self.joins.get(&a).and_then(|m| m.get(&b)).is_none() {
                    // "If the specified join does not exist, the server MUST return a
                    // <service-unavailable/> error with a type of 'cancel'."
                    return self.refuse_with(req, T::Cancel, C::ServiceUnavailable);
                }
                self.reply_result(req, None);
                self.break_join(&a, &b);
            }
        }
    }

    /// Breaks every join of `p`, with events.
    pub(crate) fn unjoin_all(&mut self, p: &Party) {
        let others: Vec<Party> = self
            .joins
            .get(p)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for b in others {
            self.break_join(p, &b);
        }
    }

    /// Breaks one join: media, then unjoined events on both sides; a mixer left empty is
    /// destroyed.
    fn break_join(&mut self, a: &Party, b: &Party) {
        let controllers_b = self.controllers(b);
        let removed = self.joins.get_mut(a).and_then(|m| m.remove(b)).is_some();
        if let Some(m) = self.joins.get_mut(b) {
            m.remove(a);
        }
        self.joins.retain(|_, m| !m.is_empty());
        if !removed {
            return;
        }
        self.media(MediaAction::Unjoin {
            a: a.clone(),
            b: b.clone(),
        });
        let (ca, ma) = self.party_ref(a);
        let (cb, mb) = self.party_ref(b);
        self.party_event(
            a,
            Event::Unjoined(Unjoined {
                call_uri: cb,
                mixer_name: mb,
            }),
        );
        // The other side's controllers as they were: a mixer's controller whose call just
        // left still hears that it left.
        let unjoined_b = Event::Unjoined(Unjoined {
            call_uri: ca,
            mixer_name: ma,
        });
        match b {
            Party::Call(c) => {
                for to in controllers_b {
                    self.call_event(c, &to, unjoined_b.clone());
                }
            }
            Party::Mixer(m) => {
                if let Some(from) = self.mixers.get(m).map(|m| m.jid.clone()) {
                    for to in controllers_b {
                        self.send_event(from.clone().into(), to, unjoined_b.clone(), None);
                    }
                }
            }
        }
        for p in [a, b] {
            if let Party::Mixer(m) = p {
                if !self.joins.contains_key(p) {
                    self.destroy_mixer(m);
                }
            }
        }
    }

    /// §6.4: "Once the last participant unjoins from the mixer, the mixer SHOULD be
    /// destroyed. When a mixer is destroyed, it MUST send unavailable presence to all
    /// entities which have a presence subscription."
    fn destroy_mixer(&mut self, m: &MixerId) {
        let comps: Vec<_> = self
            .mixers
            .get(m)
            .map(|mx| mx.components.iter().cloned().collect())
            .unwrap_or_default();
        for c in comps {
            self.complete_for_hangup(&c);
        }
        let Some(mixer) = self.mixers.remove(m) else {
            return;
        };
        self.mixer_names
            .remove(&(mixer.zone.clone(), mixer_key(&mixer.name)));
        self.media(MediaAction::DestroyMixer { mixer: m.clone() });
        let from: Jid = mixer.jid.into();
        for to in mixer.presence_sent {
            self.send_presence(from.clone(), to, None, true);
        }
    }

    /// Active speaker detection in a mixer (§6.4).
    pub(crate) fn speaking(&mut self, mixer: MixerId, call: CallId, speaking: bool) {
        let joined = self
            .joins
            .get(&Party::Mixer(mixer.clone()))
            .is_some_and(|m| m.contains_key(&Party::Call(call.clone())));
        let Some(call_uri) = self.call_uri(&call) else {
            return;
        };
        if !joined {
            return;
        }
        let event = if speaking {
            Event::StartedSpeaking(StartedSpeaking { call_uri })
        } else {
            Event::StoppedSpeaking(StoppedSpeaking { call_uri })
        };
        self.party_event(&Party::Mixer(mixer), event);
    }
}

impl<P: Policy> Engine<P> {
    /// A presence subscription request to a mixer (§6.4): "presence subscriptions from
    /// clients within the same security zone as the mixer must be implicitly permitted".
    /// Clients of other zones are refused as if the mixer did not exist.
    pub(crate) fn mixer_subscription(
        &mut self,
        from: &Jid,
        to: &Jid,
        type_: xmpp_parsers::presence::Type,
    ) {
        use xmpp_parsers::presence::{Presence, Type};
        let Some(node) = to.node() else { return };
        let zone = self.zone_of(from);
        let found = match self.cfg.addressing.classify(to) {
            Some(Entity::Mixer(_)) | Some(Entity::CallOrMixer(_, None)) => self
                .mixer_names
                .get(&(zone, mixer_key(node.as_str())))
                .cloned(),
            _ => return,
        };
        let reply = |t: Type| {
            Output::Presence(
                Presence::new(t)
                    .with_from(to.to_bare())
                    .with_to(from.clone()),
            )
        };
        match (type_, found) {
            (Type::Subscribe, Some(m)) => {
                self.emit(reply(Type::Subscribed));
                let caps = self.mixer_caps.clone();
                if let Some(mixer) = self.mixers.get_mut(&m) {
                    mixer.subscribers.insert(from.clone());
                    mixer.presence_sent.insert(from.clone());
                    let jid: Jid = mixer.jid.clone().into();
                    self.send_presence(jid, from.clone(), Some(caps), false);
                }
            }
            (Type::Subscribe, None) => self.emit(reply(Type::Unsubscribed)),
            (Type::Unsubscribe, m) => {
                if let Some(mixer) = m.and_then(|m| self.mixers.get_mut(&m)) {
                    mixer.subscribers.remove(from);
                }
                self.emit(reply(Type::Unsubscribed));
            }
            _ => {}
        }
    }
}

/// The key of a mixer's friendly name in `mixer_names`: the node of its JID, as nodeprep
/// makes it (RFC 7622 §3.3), so that `mixer-name='myMixer'` and a command to
/// `myMixer@mixer.…` (whose JID is `mymixer@mixer.…`) find the same mixer. A name that is no
/// valid node is kept as given (no JID can name it; creating it is refused).
fn mixer_key(name: &str) -> String {
    jid::NodePart::new(name).map_or_else(|_| name.to_owned(), |n| n.as_str().to_owned())
}
