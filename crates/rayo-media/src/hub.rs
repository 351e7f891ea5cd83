//! The tokio driver of the [`Bridge`]: one task for the whole node, ticking every 20 ms.
//! Joined calls' RTP sessions send it what they receive ([`HubInput::Frame`]) and get back,
//! on the channel they attached with, what to add to what they send.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use rayo_proto::generated::rayo::JoinDirection;
use tokio::sync::mpsc;

use crate::bridge::{Bridge, BridgeEvent, Party};
use crate::components::ComponentCommand;
use crate::rtp::FRAME_SAMPLES;
use crate::udp::Pacer;
use crate::vad::VadConfig;

/// The most audio kept per call between two ticks (frames beyond are the oldest dropped).
const MAX_QUEUED: usize = 3 * FRAME_SAMPLES;

/// What RTP sessions tell the hub.
#[derive(Debug)]
pub enum HubInput {
    /// A session joins the hub: mixed audio for `call` goes to `mix`.
    Attach {
        /// The call.
        call: String,
        /// Where its mixed audio goes.
        mix: mpsc::UnboundedSender<Vec<i16>>,
    },
    /// A session leaves (its call ended).
    Detach {
        /// The call.
        call: String,
    },
    /// 20 ms the call received from its remote party.
    Frame {
        /// The call.
        call: String,
        /// 160 samples at 8 kHz.
        samples: Vec<i16>,
    },
}

/// What the node tells the hub.
// Moved a few times per component or join, never per frame: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum HubCommand {
    /// Join (or re-join) `a` and `b`, `direction` from `a`'s view.
    Join {
        /// The party the join command addressed.
        a: Party,
        /// The other party.
        b: Party,
        /// Which way media flows.
        direction: JoinDirection,
    },
    /// Break a join.
    Unjoin {
        /// One party.
        a: Party,
        /// The other.
        b: Party,
    },
    /// Create a mixer.
    CreateMixer(String),
    /// Destroy a mixer.
    DestroyMixer(String),
    /// Something for a component on a mixer.
    MixerComponent {
        /// The mixer.
        mixer: String,
        /// The command.
        command: ComponentCommand,
    },
    /// A digit from a call (for inputs on the mixers it is in).
    Dtmf {
        /// The call.
        call: String,
        /// The digit.
        digit: char,
    },
    /// A call ended.
    CallEnded(String),
}

/// A handle on the running hub.
#[derive(Debug)]
pub struct Hub {
    /// For RTP sessions.
    pub inputs: mpsc::UnboundedSender<HubInput>,
    /// For the node.
    pub commands: mpsc::UnboundedSender<HubCommand>,
    /// Speakers and mixer components' reports.
    pub events: mpsc::UnboundedReceiver<BridgeEvent>,
}

impl Hub {
    /// Spawns the hub, detecting speakers with `vad`.
    pub fn spawn(vad: VadConfig) -> Hub {
        let (itx, irx) = mpsc::unbounded_channel();
        let (ctx, crx) = mpsc::unbounded_channel();
        let (etx, erx) = mpsc::unbounded_channel();
        tokio::spawn(run(Bridge::new(vad), irx, crx, etx));
        Hub {
            inputs: itx,
            commands: ctx,
            events: erx,
        }
    }
}

fn command(bridge: &mut Bridge, now: Instant, c: HubCommand) {
    match c {
        HubCommand::Join { a, b, direction } => bridge.join(a, b, direction),
        HubCommand::Unjoin { a, b } => bridge.unjoin(&a, &b),
        HubCommand::CreateMixer(m) => bridge.create_mixer(&m),
        HubCommand::DestroyMixer(m) => bridge.destroy_mixer(&m),
        HubCommand::MixerComponent { mixer, command } => {
            bridge.mixer_component(now, &mixer, command)
        }
        HubCommand::Dtmf { call, digit } => bridge.dtmf(now, &call, digit),
        HubCommand::CallEnded(call) => bridge.remove_call(&call),
    }
}

async fn run(
    mut bridge: Bridge,
    mut inputs: mpsc::UnboundedReceiver<HubInput>,
    mut commands: mpsc::UnboundedReceiver<HubCommand>,
    events: mpsc::UnboundedSender<BridgeEvent>,
) {
    let mut pacer = Pacer::new(Instant::now());
    let mut heard: HashMap<String, VecDeque<i16>> = HashMap::new();
    let mut sessions: HashMap<String, mpsc::UnboundedSender<Vec<i16>>> = HashMap::new();
    loop {
        let mut wake = pacer.poll_timeout();
        if let Some(t) = bridge.poll_timeout() {
            wake = wake.min(t);
        }
        tokio::select! {
            i = inputs.recv() => match i {
                Some(HubInput::Attach { call, mix }) => { sessions.insert(call, mix); }
                Some(HubInput::Detach { call }) => {
                    sessions.remove(&call);
                    heard.remove(&call);
                }
                Some(HubInput::Frame { call, samples }) => {
                    if bridge.has_call(&call) {
                        let q = heard.entry(call).or_default();
                        q.extend(samples);
                        let excess = q.len().saturating_sub(MAX_QUEUED);
                        q.drain(..excess);
                    }
                }
                None => return,
            },
            c = commands.recv() => match c {
                Some(c) => command(&mut bridge, Instant::now(), c),
                None => return,
            },
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
        let now = Instant::now();
        if pacer.tick(now) {
            bridge.tick(
                now,
                |call| {
                    let q = heard.get_mut(call)?;
                    (q.len() >= FRAME_SAMPLES).then(|| q.drain(..FRAME_SAMPLES).collect())
                },
                |call, frame| {
                    if let Some(s) = sessions.get(call) {
                        let _ = s.send(frame.to_vec());
                    }
                },
            );
        } else {
            bridge.handle_timeout(now);
        }
        while let Some(e) = bridge.poll_event() {
            let _ = events.send(e);
        }
    }
}
