//! The tokio driver of the [`Bridge`]: one task for the whole node, ticking every 20 ms.
//! Joined calls' RTP sessions send it what they receive ([`HubInput::Frame`]) and get back,
//! on the channel they attached with, what to add to what they send.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use rayo_proto::generated::rayo::JoinDirection;
use tokio::sync::mpsc;

use crate::backlog::Backlog;
use crate::bridge::{Bridge, BridgeEvent, Party};
use crate::components::ComponentCommand;
use crate::rtp::FRAME_SAMPLES;
use crate::udp::Pacer;
use crate::vad::VadConfig;

/// The most audio kept per call between two ticks (frames beyond are the oldest dropped).
const MAX_QUEUED: usize = 3 * FRAME_SAMPLES;
/// The most mixed frames waiting for a session ([`HubInput::Attach`]).
pub const MIX_QUEUE: usize = 4;
/// The most inputs of sessions waiting for the hub ([`Hub::inputs`]): frames beyond are
/// dropped by their sessions; attach and detach wait (the hub never waits on a session).
pub const INPUT_QUEUE: usize = 8192;
/// The most commands of the node waiting for the hub ([`Hub::commands`]); beyond, the node
/// waits (the hub always takes commands, even while its events wait).
pub const COMMAND_QUEUE: usize = 4096;
/// The most events waiting for the node ([`Hub::events`]); beyond, the hub stops ticking
/// until they are taken (it still takes commands and inputs).
pub const EVENT_QUEUE: usize = 4096;

/// What RTP sessions tell the hub.
#[derive(Debug)]
pub enum HubInput {
    /// A session joins the hub: mixed audio for `call` goes to `mix`.
    Attach {
        /// The call.
        call: String,
        /// Where its mixed audio goes, at most [`MIX_QUEUE`] frames waiting: the hub drops
        /// a frame the session has no room for (real time: it would be late anyway).
        mix: mpsc::Sender<Vec<i16>>,
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
    /// For RTP sessions, at most [`INPUT_QUEUE`] waiting.
    pub inputs: mpsc::Sender<HubInput>,
    /// For the node, at most [`COMMAND_QUEUE`] waiting.
    pub commands: mpsc::Sender<HubCommand>,
    /// Speakers and mixer components' reports, at most [`EVENT_QUEUE`] waiting.
    pub events: mpsc::Receiver<BridgeEvent>,
}

impl Hub {
    /// Spawns the hub, detecting speakers with `vad`.
    pub fn spawn(vad: VadConfig) -> Hub {
        let (itx, irx) = mpsc::channel(INPUT_QUEUE);
        let (ctx, crx) = mpsc::channel(COMMAND_QUEUE);
        let (etx, erx) = mpsc::channel(EVENT_QUEUE);
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
    mut inputs: mpsc::Receiver<HubInput>,
    mut commands: mpsc::Receiver<HubCommand>,
    events: mpsc::Sender<BridgeEvent>,
) {
    let mut pacer = Pacer::new(Instant::now());
    let mut heard: HashMap<String, VecDeque<i16>> = HashMap::new();
    let mut sessions: HashMap<String, mpsc::Sender<Vec<i16>>> = HashMap::new();
    // Events the node has not taken yet: ticking pauses at EVENT_QUEUE (commands still
    // make a few each), so the node, waiting to send a command, is never waited on.
    let mut pending = Backlog::new(EVENT_QUEUE);
    loop {
        let mut wake = pacer.poll_timeout();
        if let Some(t) = bridge.poll_timeout() {
            wake = wake.min(t);
        }
        let open = pending.is_open();
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
            _ = tokio::time::sleep_until(wake.into()), if open => {}
            Ok(permit) = events.reserve(), if !pending.is_empty() => pending.send_one(permit),
        }
        let now = Instant::now();
        if !open {
            // Paused: the clock is caught up on when the node takes its events.
        } else if pacer.tick(now) {
            bridge.tick(
                now,
                |call| {
                    let q = heard.get_mut(call)?;
                    (q.len() >= FRAME_SAMPLES).then(|| q.drain(..FRAME_SAMPLES).collect())
                },
                |call, frame| {
                    if let Some(s) = sessions.get(call) {
                        let _ = s.try_send(frame.to_vec());
                    }
                },
            );
        } else {
            bridge.handle_timeout(now);
        }
        while let Some(e) = bridge.poll_event() {
            pending.push(e);
        }
        if !pending.flush(&events) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// Issue 12 §16: the hub's queues are bounded, and a node that stops reading events
    /// while it sends far more commands than the queues hold is never stuck (the hub always
    /// takes commands) and loses no event once it reads again.
    #[tokio::test]
    async fn the_queues_are_bounded_and_commands_taken_while_events_wait() {
        use crate::components::Running;
        use crate::output::{Player, Rendered};
        let mut hub = Hub::spawn(VadConfig::default());
        assert_eq!(hub.inputs.max_capacity(), INPUT_QUEUE);
        assert_eq!(hub.commands.max_capacity(), COMMAND_QUEUE);
        assert_eq!(hub.events.max_capacity(), EVENT_QUEUE);
        // Each output started and stopped with a report completes: one event per pair.
        let n = EVENT_QUEUE + COMMAND_QUEUE;
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            for i in 0..n {
                let doc = Rendered {
                    source: "inline".into(),
                    samples: std::sync::Arc::new(vec![0; 8000]),
                };
                let player = Player::new(&Default::default(), vec![doc], Instant::now());
                let id = format!("o{i}");
                for command in [
                    ComponentCommand::Start {
                        id: id.clone(),
                        component: Running::Output(player),
                    },
                    ComponentCommand::Stop { id, report: true },
                ] {
                    let c = HubCommand::MixerComponent {
                        mixer: "m".into(),
                        command,
                    };
                    hub.commands.send(c).await.expect("hub running");
                }
            }
        })
        .await
        .expect("commands taken while the events wait");
        let mut got = 0;
        while got < n {
            match tokio::time::timeout(std::time::Duration::from_secs(10), hub.events.recv()).await
            {
                Ok(Some(BridgeEvent::Component { .. })) => got += 1,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => panic!("{got} of {n} completions"),
            }
        }
    }
}
