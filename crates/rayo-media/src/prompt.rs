//! The prompt component (XEP-0327 §6.5.3, §7.19.5), sans-IO: an output [`Player`] and an
//! [`InputComponent`] with one lifecycle.
//!
//! As implemented (the specification says little more than "barge-in"):
//! - The input's timers start when the output ends (at the `now` of the frame that played its
//!   last samples), whatever `barge-in` says: §6.5.3 ties
//!   `input-timers-started` to "the completion of the output sub-component", and an
//!   `initial-timeout` running under a long prompt would end it before the caller heard it.
//!   [`Prompt::poll_input_timers_started`] reports that moment once.
//! - `barge-in="true"` (the default): digits are taken while the output plays; the first one
//!   stops the output (which counts as its end: the timers start then).
//! - `barge-in="false"`: digits received while the output plays are discarded.
//! - Output commands pass through to the player; once the output has ended they are refused
//!   with `unexpected-request` (§6.5.3).
//! - The prompt completes with the input's reason only; the output's own completion is
//!   suppressed. When the input completes, the output (if still playing) stops.

use std::time::Instant;

use rayo_proto::command::OutputCommand;
use rayo_proto::event::CompleteReason;
use rayo_proto::generated::prompt::Prompt as PromptCommand;

use crate::input::{self, FetchedGrammar, InputComponent};
use crate::output::{Player, PlayerError, Rendered};

/// Why a prompt command (or an output command sent to a prompt) was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `<input/>` was refused (its own condition).
    #[error(transparent)]
    Input(#[from] input::Error),
    /// An output command after the output ended (`unexpected-request`).
    #[error("the prompt's output has ended")]
    OutputDone,
    /// The player refused the command (`unexpected-request`).
    #[error(transparent)]
    Player(#[from] PlayerError),
}

impl Error {
    /// The stanza error condition a Rayo server answers with.
    pub fn condition(&self) -> &'static str {
        match self {
            Self::Input(e) => e.condition(),
            Self::OutputDone | Self::Player(_) => "unexpected-request",
        }
    }
}

/// One running prompt.
#[derive(Debug, Clone)]
pub struct Prompt {
    player: Player,
    input: InputComponent,
    barge_in: bool,
    output_done: bool,
    timers_started: bool,
    reason: Option<CompleteReason>,
}

impl Prompt {
    /// Starts a prompt at `now` over the output's rendered documents; `fetch` supplies the
    /// input's fetched grammars as for [`InputComponent::from_command`].
    pub fn new(
        cmd: &PromptCommand,
        docs: Vec<Rendered>,
        now: Instant,
        fetch: impl FnMut(&str) -> Option<FetchedGrammar>,
    ) -> Result<Prompt, Error> {
        let mut input = InputComponent::from_command(&cmd.input, now, fetch)?;
        input.defer_timers();
        let mut p = Prompt {
            player: Player::new(&cmd.output, docs, now),
            input,
            barge_in: cmd.barge_in(),
            output_done: false,
            timers_started: false,
            reason: None,
        };
        if p.player.is_complete() {
            p.end_output(now);
        }
        Ok(p)
    }

    /// The output has ended (or was barged in on): the input's timers start.
    fn end_output(&mut self, now: Instant) {
        if !self.output_done {
            self.output_done = true;
            let _suppressed = self.player.poll_complete();
            self.input.start_timers(now);
            self.timers_started = true;
        }
    }

    fn complete(&mut self, reason: Option<CompleteReason>) -> Option<CompleteReason> {
        if let Some(r) = &reason {
            self.output_done = true;
            self.reason = Some(r.clone());
        }
        reason
    }

    /// Writes the next 20 ms of output at `now`; false when silent.
    pub fn frame(&mut self, now: Instant, out: &mut [i16]) -> bool {
        if self.output_done {
            out.fill(0);
            return false;
        }
        let audible = self.player.frame(now, out);
        if self.player.is_complete() {
            self.end_output(now);
        }
        audible
    }

    /// A DTMF digit received at `now`; returns the prompt's completion if it ends the input.
    pub fn handle_digit(&mut self, now: Instant, digit: char) -> Option<CompleteReason> {
        if self.reason.is_some() {
            return None;
        }
        if !self.output_done {
            if !self.barge_in {
                return None;
            }
            self.end_output(now);
        }
        let r = self.input.handle_digit(now, digit);
        self.complete(r)
    }

    /// Runs what is due at `now`: the output's `max-time`, the input's timers.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<CompleteReason> {
        if self.reason.is_some() {
            return None;
        }
        if !self.output_done && self.player.poll_timeout().is_some_and(|t| now >= t) {
            let mut scratch = [0i16; 0];
            self.player.frame(now, &mut scratch);
            self.end_output(now);
        }
        let r = self.input.handle_timeout(now);
        self.complete(r)
    }

    /// When [`Self::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.reason.is_some() {
            return None;
        }
        let output = self.player.poll_timeout().filter(|_| !self.output_done);
        match (output, self.input.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// An output command received at `now`.
    pub fn command(&mut self, now: Instant, cmd: &OutputCommand) -> Result<(), Error> {
        if self.output_done {
            return Err(Error::OutputDone);
        }
        let r = self.player.command(now, cmd);
        if self.player.is_complete() {
            self.end_output(now);
        }
        r.map_err(|e| match e {
            PlayerError::Complete => Error::OutputDone,
            e => Error::Player(e),
        })
    }

    /// True once, when the input's timers have started (send `<input-timers-started/>`).
    pub fn poll_input_timers_started(&mut self) -> bool {
        std::mem::take(&mut self.timers_started)
    }

    /// The prompt's completion reason (always the input's), once.
    pub fn poll_complete(&mut self) -> Option<CompleteReason> {
        self.reason.take()
    }

    /// Whether the output part has ended.
    pub fn is_output_done(&self) -> bool {
        self.output_done
    }

    /// The input part.
    pub fn input(&self) -> &InputComponent {
        &self.input
    }

    /// The output part.
    pub fn player(&self) -> &Player {
        &self.player
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use rayo_proto::event::InputReason;
    use rayo_proto::generated::input::{Grammar, Input};
    use rayo_proto::generated::output::{Document, Output, Pause, Resume};
    use std::sync::Arc;
    use std::time::Duration;

    const MS20: Duration = Duration::from_millis(20);

    /// A prompt over 1 s of audio, a 4-digit grammar, 2 s initial and 1 s inter-digit timeouts.
    fn prompt(barge_in: Option<bool>, t0: Instant) -> Prompt {
        let cmd = PromptCommand {
            barge_in,
            output: Output {
                documents: vec![Document {
                    url: Some("file:///x.wav".into()),
                    ..Document::default()
                }],
                ..Output::default()
            },
            input: Input {
                initial_timeout: Some(Duration::from_secs(2)),
                inter_digit_timeout: Some(Duration::from_secs(1)),
                grammars: vec![Grammar {
                    url: Some("builtin:dtmf/digits?length=4".into()),
                    ..Grammar::default()
                }],
                ..Input::default()
            },
        };
        let docs = vec![Rendered {
            source: "x".into(),
            samples: Arc::new(vec![1000; 8000]),
        }];
        Prompt::new(&cmd, docs, t0, |_| None).expect("starts")
    }

    /// Plays frames `from..to`; returns how many were audible.
    fn play(p: &mut Prompt, t0: Instant, from: u32, to: u32) -> u32 {
        let mut f = [0; 160];
        (from..to)
            .filter(|&i| p.frame(t0 + MS20 * i, &mut f))
            .count() as u32
    }

    #[test]
    fn timers_start_when_the_output_ends_then_noinput() {
        let t0 = Instant::now();
        let mut p = prompt(None, t0);
        assert_eq!(p.poll_timeout(), None, "no timer while the output plays");
        assert_eq!(play(&mut p, t0, 0, 49), 49);
        assert!(!p.poll_input_timers_started());
        assert_eq!(play(&mut p, t0, 49, 51), 1, "1 s of audio is 50 frames");
        assert!(p.poll_input_timers_started());
        assert!(!p.poll_input_timers_started(), "reported once");
        let ended = t0 + MS20 * 49; // the frame that played the last samples
        assert_eq!(p.poll_timeout(), Some(ended + Duration::from_secs(2)));
        assert_eq!(p.handle_timeout(ended + Duration::from_millis(1999)), None);
        let r = p.handle_timeout(ended + Duration::from_secs(2));
        assert_eq!(r, Some(CompleteReason::Input(InputReason::NoInput)));
        assert_eq!(p.poll_complete(), r);
    }

    #[test]
    fn barge_in_a_digit_stops_the_output_and_input_completes() {
        let t0 = Instant::now();
        let mut p = prompt(Some(true), t0);
        play(&mut p, t0, 0, 10);
        let at = t0 + MS20 * 10;
        assert_eq!(p.handle_digit(at, '1'), None);
        assert!(p.is_output_done() && p.poll_input_timers_started());
        assert_eq!(play(&mut p, t0, 10, 20), 0, "the output has stopped");
        assert_eq!(
            p.command(at, &OutputCommand::Pause(Pause)),
            Err(Error::OutputDone)
        );
        assert_eq!(Error::OutputDone.condition(), "unexpected-request");
        for d in ['2', '3'] {
            assert_eq!(p.handle_digit(at, d), None);
        }
        let Some(CompleteReason::Input(InputReason::Match(m))) = p.handle_digit(at, '4') else {
            panic!("a match");
        };
        assert!(m.body.contains("<instance>1234</instance>"), "{}", m.body);
    }

    #[test]
    fn without_barge_in_digits_during_output_are_ignored() {
        let t0 = Instant::now();
        let mut p = prompt(Some(false), t0);
        play(&mut p, t0, 0, 10);
        assert_eq!(p.handle_digit(t0 + MS20 * 10, '1'), None);
        assert!(!p.is_output_done());
        assert_eq!(play(&mut p, t0, 10, 50), 40, "the output goes on");
        assert!(p.poll_input_timers_started());
        assert_eq!(p.input().digits(), "");
        assert_eq!(p.handle_digit(t0 + MS20 * 51, '5'), None);
        assert_eq!(p.input().digits(), "5");
    }

    #[test]
    fn output_commands_pass_through_while_it_plays() {
        let t0 = Instant::now();
        let mut p = prompt(None, t0);
        p.command(t0, &OutputCommand::Pause(Pause)).expect("pauses");
        assert!(p.player().is_paused());
        assert_eq!(play(&mut p, t0, 0, 100), 0, "paused: silent, no timers");
        assert_eq!(p.poll_timeout(), None);
        let e = p
            .command(t0, &OutputCommand::Pause(Pause))
            .expect_err("already paused");
        assert_eq!(e.condition(), "unexpected-request");
        p.command(t0 + MS20 * 100, &OutputCommand::Resume(Resume))
            .expect("resumes");
        assert_eq!(play(&mut p, t0, 100, 160), 50);
        assert!(p.is_output_done());
    }

    #[test]
    fn output_max_time_ends_the_output_not_the_prompt() {
        let t0 = Instant::now();
        let mut p = prompt(None, t0);
        p.player = Player::new(
            &Output {
                max_time: Some(Duration::from_millis(200)),
                ..Output::default()
            },
            vec![Rendered {
                source: "x".into(),
                samples: Arc::new(vec![1; 8000]),
            }],
            t0,
        );
        assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_millis(200)));
        assert_eq!(p.handle_timeout(t0 + Duration::from_millis(200)), None);
        assert!(p.is_output_done() && p.poll_input_timers_started());
        assert_eq!(
            p.poll_complete(),
            None,
            "the output's completion is suppressed"
        );
    }

    #[test]
    fn an_invalid_input_refuses_the_prompt() {
        let cmd = PromptCommand {
            barge_in: None,
            output: Output::default(),
            input: Input::default(),
        };
        let e = Prompt::new(&cmd, vec![], Instant::now(), |_| None).expect_err("no grammar");
        assert_eq!(e.condition(), "bad-request");
    }
}
