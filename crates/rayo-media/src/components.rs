//! The components running on one call's media (XEP-0327 §6.5), sans-IO: every 20 ms tick the
//! call's RTP task hands over the frame it received and gets the frame to send, to which
//! outputs and prompts add their audio and which recorders capture. DTMF digits and
//! commands come in between ticks; completions go out as [`ComponentEvent`]s.
//!
//! The node decides *whether* a component may start (and has already refused what cannot be
//! rendered, before the client got its `<ref/>`); this module only runs what it is given.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayo_proto::command::{OutputCommand, RecordCommand};
use rayo_proto::event::{CompleteMetadata, CompleteReason};

use crate::input::InputComponent;
use crate::output::Player;
use crate::prompt::Prompt;
use crate::record::Recorder;

/// A recorder shared between the call's RTP task (which feeds it frames) and the node
/// (which must close it synchronously when the call ends, XEP-0327 §6.5.6).
pub type SharedRecorder = Arc<Mutex<Recorder>>;

/// A component ready to run.
// Moved a few times per component or join, never per frame: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum Running {
    /// Collects DTMF.
    Input(InputComponent),
    /// Renders audio to the call.
    Output(Player),
    /// Output and input together.
    Prompt(Prompt),
    /// Records the call.
    Record(SharedRecorder),
}

/// Something to do on a call's components.
// Moved a few times per component or join, never per frame: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum ComponentCommand {
    /// Start a component under `id`.
    Start {
        /// The component's id.
        id: String,
        /// The component.
        component: Running,
    },
    /// A command to a running output or prompt.
    Output {
        /// The component.
        id: String,
        /// The command.
        command: OutputCommand,
    },
    /// A command to a running record component.
    Record {
        /// The component.
        id: String,
        /// The command.
        command: RecordCommand,
    },
    /// Stop a component: with `report` it completes with reason stop (and its recording);
    /// without, it is dropped silently (the call ended and the node already completed it).
    Stop {
        /// The component.
        id: String,
        /// Whether a completion is wanted.
        report: bool,
    },
    /// A DTMF digit from the remote party, for inputs and prompts.
    Dtmf(char),
}

/// What the components report.
#[derive(Debug, Clone, PartialEq)]
pub enum ComponentEvent {
    /// A component ended.
    Complete {
        /// The component.
        id: String,
        /// Why.
        reason: CompleteReason,
        /// A recording's metadata.
        metadata: Vec<CompleteMetadata>,
    },
    /// A prompt's output finished: its input timers run from now.
    InputTimersStarted {
        /// The prompt.
        id: String,
    },
}

/// The components of one call.
#[derive(Debug, Default)]
pub struct Components {
    running: Vec<(String, Running)>,
    events: VecDeque<ComponentEvent>,
    scratch: Vec<i16>,
}

fn lock(r: &SharedRecorder) -> std::sync::MutexGuard<'_, Recorder> {
    // A recorder poisoned by a panic elsewhere still holds a valid file state.
    r.lock().unwrap_or_else(|e| e.into_inner())
}

impl Components {
    /// No components.
    pub fn new() -> Self {
        Components::default()
    }

    /// How many components run.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Carries out a command at `now`.
    pub fn handle(&mut self, now: Instant, command: ComponentCommand) {
        match command {
            ComponentCommand::Start { id, component } => {
                self.running.retain(|(i, _)| *i != id);
                self.running.push((id, component));
            }
            ComponentCommand::Output { id, command } => {
                if let Some((_, r)) = self.running.iter_mut().find(|(i, _)| *i == id) {
                    let result = match r {
                        Running::Output(p) => p.command(now, &command).map_err(|e| e.to_string()),
                        Running::Prompt(p) => p.command(now, &command).map_err(|e| e.to_string()),
                        _ => Err("not an output".to_owned()),
                    };
                    if let Err(e) = result {
                        tracing::debug!(%id, error = %e, "output command changed nothing");
                    }
                }
            }
            ComponentCommand::Record { id, command } => {
                if let Some((_, Running::Record(r))) =
                    self.running.iter_mut().find(|(i, _)| *i == id)
                {
                    if let Err(e) = lock(r).command(now, &command) {
                        tracing::debug!(%id, error = %e, "record command changed nothing");
                    }
                }
            }
            ComponentCommand::Stop { id, report } => {
                let Some(pos) = self.running.iter().position(|(i, _)| *i == id) else {
                    return;
                };
                let (id, r) = self.running.remove(pos);
                if !report {
                    if let Running::Record(r) = &r {
                        let _ = lock(r).finish();
                    }
                    return;
                }
                let (reason, metadata) = match &r {
                    Running::Record(r) => lock(r).stop(),
                    _ => (CompleteReason::Stop, Vec::new()),
                };
                self.events.push_back(ComponentEvent::Complete {
                    id,
                    reason,
                    metadata,
                });
            }
            ComponentCommand::Dtmf(digit) => {
                for (id, r) in &mut self.running {
                    let done = match r {
                        Running::Input(i) => i.handle_digit(now, digit),
                        Running::Prompt(p) => {
                            let done = p.handle_digit(now, digit);
                            if p.poll_input_timers_started() {
                                self.events.push_back(ComponentEvent::InputTimersStarted {
                                    id: id.clone(),
                                });
                            }
                            done
                        }
                        _ => None,
                    };
                    if let Some(reason) = done {
                        self.events.push_back(ComponentEvent::Complete {
                            id: id.clone(),
                            reason,
                            metadata: Vec::new(),
                        });
                    }
                }
                self.reap();
            }
        }
    }

    /// One 20 ms tick: `received` is what the remote party sent (silence when nothing
    /// arrived), `out` the frame about to be sent, to which outputs add their audio.
    pub fn tick(&mut self, now: Instant, received: &[i16], out: &mut [i16]) {
        self.scratch.resize(out.len(), 0);
        for (_, r) in &mut self.running {
            self.scratch.fill(0);
            let audible = match r {
                Running::Output(p) => p.frame(now, &mut self.scratch),
                Running::Prompt(p) => p.frame(now, &mut self.scratch),
                Running::Record(rec) => match lock(rec).poll_beep() {
                    Some(beep) => {
                        for (o, s) in self.scratch.iter_mut().zip(beep.iter()) {
                            *o = *s;
                        }
                        true
                    }
                    None => false,
                },
                Running::Input(_) => false,
            };
            if audible {
                for (o, s) in out.iter_mut().zip(&self.scratch) {
                    *o = o.saturating_add(*s);
                }
            }
        }
        for (_, r) in &mut self.running {
            if let Running::Record(rec) = r {
                lock(rec).frame(now, out, received);
            }
        }
        self.handle_timeout(now);
    }

    /// Runs timers and collects completions due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for (id, r) in &mut self.running {
            let done = match r {
                Running::Input(i) => i.handle_timeout(now).map(|r| (r, Vec::new())),
                Running::Output(p) => p.poll_complete().map(|r| (r, Vec::new())),
                Running::Prompt(p) => {
                    let done = p.handle_timeout(now).or_else(|| p.poll_complete());
                    if p.poll_input_timers_started() {
                        self.events
                            .push_back(ComponentEvent::InputTimersStarted { id: id.clone() });
                    }
                    done.map(|r| (r, Vec::new()))
                }
                Running::Record(rec) => lock(rec).poll_complete(),
            };
            if let Some((reason, metadata)) = done {
                self.events.push_back(ComponentEvent::Complete {
                    id: id.clone(),
                    reason,
                    metadata,
                });
            }
        }
        self.reap();
    }

    /// When [`Components::handle_timeout`] must next run (ticks aside).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.running
            .iter()
            .filter_map(|(_, r)| match r {
                Running::Input(i) => i.poll_timeout(),
                Running::Output(p) => p.poll_timeout(),
                Running::Prompt(p) => p.poll_timeout(),
                Running::Record(rec) => lock(rec).poll_timeout(),
            })
            .min()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ComponentEvent> {
        self.events.pop_front()
    }

    /// Drops components that completed.
    fn reap(&mut self) {
        let done: Vec<&str> = self
            .events
            .iter()
            .filter_map(|e| match e {
                ComponentEvent::Complete { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        if done.is_empty() {
            return;
        }
        self.running.retain(|(i, _)| !done.contains(&i.as_str()));
    }
}
