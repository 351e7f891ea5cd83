//! Joins and mixers (XEP-0327 §6.3, §6.4), sans-IO: who hears whom, frame by frame.
//!
//! Every 20 ms [`Bridge::tick`] takes the frame each joined call received from its remote
//! party and gives back, per call, the audio the node adds to what it sends that call:
//!
//! - **call↔call**: a join has a direction from the first party's point of view: `duplex`
//!   (both hear each other), `send` (the first is heard by the second only), `recv` (the
//!   second is heard by the first only). A call may be joined to many calls and mixers at
//!   once, each join with its own direction; it hears the sum of all that flows to it.
//! - **mixers**: a mixer's sum is the audio of every participant whose join lets media flow
//!   into the mixer, plus, one level deep, the participants of mixers joined to it, plus what
//!   the mixer's own components play (an output on a mixer is an announcement heard by all).
//!   Each participant whose join lets media flow out of the mixer hears that sum minus its
//!   own contribution: everybody else, never itself. Record on a mixer captures the sum;
//!   input on a mixer takes DTMF from every participant.
//! - **clipping control**: sums are computed in 32 bits and limited to the 16-bit range
//!   only once, at the end (saturation), so many quiet parties never wrap around.
//! - **active speaker**: every call in a mixer has an energy voice-activity detector
//!   ([`crate::vad`], default thresholds: −40 dBFS absolute, 9 dB above the adaptive noise
//!   floor, speech after 3 voiced frames (60 ms), silence after a 400 ms hangover); its
//!   transitions become [`BridgeEvent::Speaking`] for each mixer the call sends audio to.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use rayo_proto::generated::rayo::JoinDirection;

use crate::components::{ComponentCommand, ComponentEvent, Components, Running};
use crate::rtp::FRAME_SAMPLES;
use crate::vad::{Vad, VadConfig, VadState};

/// A joinable party, as the media engine knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// A call, by id.
    Call(String),
    /// A mixer, by id.
    Mixer(String),
}

/// What the bridge reports.
#[derive(Debug, Clone, PartialEq)]
pub enum BridgeEvent {
    /// A participant of a mixer started or stopped speaking.
    Speaking {
        /// The mixer.
        mixer: String,
        /// The call.
        call: String,
        /// Started (`true`) or stopped.
        speaking: bool,
    },
    /// A component running on a mixer reported.
    Component {
        /// The mixer.
        mixer: String,
        /// What it reported.
        event: ComponentEvent,
    },
}

#[derive(Debug)]
struct CallState {
    vad: Vad,
    heard: Vec<i16>,
}

#[derive(Debug, Default)]
struct MixerState {
    components: Components,
    /// The sum of the mixer's own participants (what flows into it), last tick.
    own: Vec<i32>,
    /// Everything the mixer plays: participants, joined mixers and announcements.
    total: Vec<i32>,
}

/// The join graph and the mixers of one node.
#[derive(Debug, Default)]
pub struct Bridge {
    /// `flows[(a, b)]`: media flows from `a` to `b`.
    flows: BTreeMap<(Party, Party), ()>,
    calls: HashMap<String, CallState>,
    mixers: BTreeMap<String, MixerState>,
    events: VecDeque<BridgeEvent>,
    vad: VadConfig,
    scratch: Vec<i16>,
    received: Vec<i16>,
}

fn flows_of(direction: JoinDirection) -> (bool, bool) {
    // (a → b, b → a)
    match direction {
        JoinDirection::Duplex => (true, true),
        JoinDirection::Send => (true, false),
        JoinDirection::Recv => (false, true),
    }
}

fn saturate(x: i32) -> i16 {
    x.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

impl Bridge {
    /// An empty bridge whose speakers are detected with `vad`.
    pub fn new(vad: VadConfig) -> Self {
        Bridge {
            vad,
            ..Bridge::default()
        }
    }

    fn touch(&mut self, p: &Party) {
        match p {
            Party::Call(c) => {
                let vad = self.vad;
                self.calls.entry(c.clone()).or_insert_with(|| CallState {
                    vad: Vad::new(vad),
                    heard: vec![0; FRAME_SAMPLES],
                });
            }
            Party::Mixer(m) => {
                self.mixers.entry(m.clone()).or_default();
            }
        }
    }

    /// Joins `a` and `b` (or changes an existing join): `direction` from `a`'s view.
    pub fn join(&mut self, a: Party, b: Party, direction: JoinDirection) {
        self.unjoin(&a, &b);
        self.touch(&a);
        self.touch(&b);
        let (ab, ba) = flows_of(direction);
        if ab {
            self.flows.insert((a.clone(), b.clone()), ());
        }
        if ba {
            self.flows.insert((b, a), ());
        }
    }

    /// Breaks the join of `a` and `b`.
    pub fn unjoin(&mut self, a: &Party, b: &Party) {
        self.flows.remove(&(a.clone(), b.clone()));
        self.flows.remove(&(b.clone(), a.clone()));
        self.forget_idle_calls();
    }

    /// Creates a mixer (joins create it too).
    pub fn create_mixer(&mut self, mixer: &str) {
        self.touch(&Party::Mixer(mixer.to_owned()));
    }

    /// Destroys a mixer, its joins and its components (without completions: the engine
    /// has completed them).
    pub fn destroy_mixer(&mut self, mixer: &str) {
        let p = Party::Mixer(mixer.to_owned());
        self.flows.retain(|(a, b), _| *a != p && *b != p);
        self.mixers.remove(mixer);
        self.forget_idle_calls();
    }

    /// A call ended: its joins go.
    pub fn remove_call(&mut self, call: &str) {
        let p = Party::Call(call.to_owned());
        self.flows.retain(|(a, b), _| *a != p && *b != p);
        self.calls.remove(call);
    }

    fn forget_idle_calls(&mut self) {
        let flows = &self.flows;
        self.calls.retain(|c, _| {
            let p = Party::Call(c.clone());
            flows.keys().any(|(a, b)| *a == p || *b == p)
        });
    }

    /// The calls whose audio the bridge needs (joined to something).
    pub fn calls(&self) -> impl Iterator<Item = &str> {
        self.calls.keys().map(String::as_str)
    }

    /// Whether `call` is joined to anything.
    pub fn has_call(&self, call: &str) -> bool {
        self.calls.contains_key(call)
    }

    /// Whether a mixer exists.
    pub fn has_mixer(&self, mixer: &str) -> bool {
        self.mixers.contains_key(mixer)
    }

    /// Whether media flows from `a` to `b`.
    pub fn flows(&self, a: &Party, b: &Party) -> bool {
        self.flows.contains_key(&(a.clone(), b.clone()))
    }

    /// Starts, commands or stops a component running on a mixer.
    pub fn mixer_component(&mut self, now: Instant, mixer: &str, command: ComponentCommand) {
        self.create_mixer(mixer);
        if let Some(m) = self.mixers.get_mut(mixer) {
            m.components.handle(now, command);
        }
        self.collect(mixer);
    }

    /// Starts a component on a mixer.
    pub fn start_mixer_component(&mut self, now: Instant, mixer: &str, id: String, c: Running) {
        self.mixer_component(now, mixer, ComponentCommand::Start { id, component: c });
    }

    /// A digit from `call`: every mixer it is in hands it to its inputs.
    pub fn dtmf(&mut self, now: Instant, call: &str, digit: char) {
        let p = Party::Call(call.to_owned());
        let mixers: Vec<String> = self
            .mixers
            .keys()
            .filter(|m| {
                let mp = Party::Mixer((*m).clone());
                self.flows(&p, &mp) || self.flows(&mp, &p)
            })
            .cloned()
            .collect();
        for m in mixers {
            if let Some(state) = self.mixers.get_mut(&m) {
                state.components.handle(now, ComponentCommand::Dtmf(digit));
            }
            self.collect(&m);
        }
    }

    fn collect(&mut self, mixer: &str) {
        if let Some(m) = self.mixers.get_mut(mixer) {
            while let Some(event) = m.components.poll_event() {
                self.events.push_back(BridgeEvent::Component {
                    mixer: mixer.to_owned(),
                    event,
                });
            }
        }
    }

    /// Runs mixer components' timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let names: Vec<String> = self.mixers.keys().cloned().collect();
        for m in names {
            if let Some(state) = self.mixers.get_mut(&m) {
                state.components.handle_timeout(now);
            }
            self.collect(&m);
        }
    }

    /// When [`Bridge::handle_timeout`] must next run (ticks aside).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.mixers
            .values()
            .filter_map(|m| m.components.poll_timeout())
            .min()
    }

    /// One 20 ms tick. `received(call)` is what `call` received from its remote party this
    /// tick (`None`: silence); `deliver(call, frame)` gets, for every joined call, the audio
    /// the node adds to what it sends that call.
    pub fn tick(
        &mut self,
        now: Instant,
        mut received: impl FnMut(&str) -> Option<Vec<i16>>,
        mut deliver: impl FnMut(&str, &[i16]),
    ) {
        // What each call said, and who starts or stops speaking.
        for (id, c) in &mut self.calls {
            match received(id) {
                Some(f) if f.len() == FRAME_SAMPLES => c.heard = f,
                _ => c.heard.iter_mut().for_each(|s| *s = 0),
            }
        }
        let mut speaking = Vec::new();
        for (id, c) in &mut self.calls {
            let state = c.vad.frame(&c.heard);
            if matches!(state, VadState::Started | VadState::Stopped) {
                speaking.push((id.clone(), state == VadState::Started));
            }
        }
        // Each mixer's own participants.
        for (name, m) in &mut self.mixers {
            let mp = Party::Mixer(name.clone());
            m.own.clear();
            m.own.resize(FRAME_SAMPLES, 0);
            for (id, c) in &self.calls {
                if self
                    .flows
                    .contains_key(&(Party::Call(id.clone()), mp.clone()))
                {
                    for (o, s) in m.own.iter_mut().zip(&c.heard) {
                        *o += i32::from(*s);
                    }
                }
            }
        }
        // Totals: own + joined mixers' own + announcements (components).
        let owns: HashMap<String, Vec<i32>> = self
            .mixers
            .iter()
            .map(|(n, m)| (n.clone(), m.own.clone()))
            .collect();
        let names: Vec<String> = self.mixers.keys().cloned().collect();
        for name in &names {
            let mp = Party::Mixer(name.clone());
            let mut total = owns.get(name).cloned().unwrap_or_default();
            for (other, own) in &owns {
                if other != name
                    && self
                        .flows
                        .contains_key(&(Party::Mixer(other.clone()), mp.clone()))
                {
                    for (t, s) in total.iter_mut().zip(own) {
                        *t += *s;
                    }
                }
            }
            let Some(m) = self.mixers.get_mut(name) else {
                continue;
            };
            if !m.components.is_empty() {
                self.received.clear();
                self.received.extend(total.iter().map(|s| saturate(*s)));
                self.scratch.clear();
                self.scratch.extend_from_slice(&self.received);
                m.components.tick(now, &self.received, &mut self.scratch);
                for ((t, after), before) in total.iter_mut().zip(&self.scratch).zip(&self.received)
                {
                    *t += i32::from(*after) - i32::from(*before);
                }
            }
            m.total = total;
            self.collect(name);
        }
        // What each call hears.
        let mut out = vec![0i32; FRAME_SAMPLES];
        let mut frame = vec![0i16; FRAME_SAMPLES];
        let ids: Vec<String> = self.calls.keys().cloned().collect();
        for id in &ids {
            let me = Party::Call(id.clone());
            out.iter_mut().for_each(|s| *s = 0);
            let mut any = false;
            for ((from, to), ()) in &self.flows {
                if *to != me {
                    continue;
                }
                match from {
                    Party::Call(other) => {
                        if let Some(c) = self.calls.get(other) {
                            any = true;
                            for (o, s) in out.iter_mut().zip(&c.heard) {
                                *o += i32::from(*s);
                            }
                        }
                    }
                    Party::Mixer(m) => {
                        let Some(mix) = self.mixers.get(m) else {
                            continue;
                        };
                        any = true;
                        let mine = self.flows.contains_key(&(me.clone(), from.clone()));
                        let heard = self.calls.get(id).map(|c| &c.heard);
                        for (i, o) in out.iter_mut().enumerate() {
                            let own = match (mine, heard) {
                                (true, Some(h)) => i32::from(h[i]),
                                _ => 0,
                            };
                            *o += mix.total.get(i).copied().unwrap_or(0) - own;
                        }
                    }
                }
            }
            if any {
                for (f, o) in frame.iter_mut().zip(&out) {
                    *f = saturate(*o);
                }
                deliver(id, &frame);
            }
        }
        // Speakers, for each mixer they send to.
        for (call, started) in speaking {
            let cp = Party::Call(call.clone());
            for name in &names {
                if self
                    .flows
                    .contains_key(&(cp.clone(), Party::Mixer(name.clone())))
                {
                    self.events.push_back(BridgeEvent::Speaking {
                        mixer: name.clone(),
                        call: call.clone(),
                        speaking: started,
                    });
                }
            }
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<BridgeEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
#[path = "bridge_tests.rs"]
mod tests;
