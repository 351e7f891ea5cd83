//! The sans-IO player of an output component: rendered documents in, one 20 ms frame of
//! 8 kHz audio out per [`Player::frame`], commands applied with `now`.
//!
//! Behaviour the specification leaves open, as implemented:
//! - The documents play back to back as one *pass*; `repeat-times` passes are played (`0`:
//!   for ever), `repeat-interval` of silence between two passes (not after the last).
//! - `start-offset` skips into the first pass only; an offset past its end starts with the
//!   interval before the second pass (or finishes, with one pass).
//! - `max-time` counts wall time from the start, pauses included ("allowed to run"): the first
//!   frame at or after the deadline completes with `max-time` and is silent.
//! - `pause` while paused and `resume` while playing are `unexpected-request`; a paused player
//!   writes silence and its interval does not advance.
//! - `speed-up`/`speed-down` change the rate by [`SPEED_STEP`] (10 %) between [`SPEED_MIN`]
//!   and [`SPEED_MAX`], by resampling with linear interpolation: the pitch moves with the
//!   speed. `volume-up`/`volume-down` change the gain by [`VOLUME_STEP_DB`] (3 dB) between
//!   [`VOLUME_MIN_DB`] and [`VOLUME_MAX_DB`]; louder samples saturate instead of wrapping.
//!   At a limit the command is acknowledged and changes nothing.
//! - `seek` moves the marker by `amount` of document time within the current pass: back
//!   stops at the pass's start; forward past its end ends the pass (then the interval and
//!   the next pass, or `finish`). A seek during the interval applies to the next pass.
//! - Commands after completion are `unexpected-request`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rayo_proto::command::OutputCommand;
use rayo_proto::event::{CompleteReason, OutputReason};
use rayo_proto::generated::output::{Output, SeekDirection};

use super::Rendered;
use crate::audio::RATE;

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;
/// The rate change of one `speed-up` or `speed-down`.
pub const SPEED_STEP: f64 = 0.1;
/// The slowest rate.
pub const SPEED_MIN: f64 = 0.5;
/// The fastest rate.
pub const SPEED_MAX: f64 = 2.0;
/// The gain change of one `volume-up` or `volume-down`, in dB.
pub const VOLUME_STEP_DB: f64 = 3.0;
/// The lowest gain, in dB.
pub const VOLUME_MIN_DB: f64 = -30.0;
/// The highest gain, in dB.
pub const VOLUME_MAX_DB: f64 = 12.0;

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlayerError {
    /// `pause` while paused (`unexpected-request`).
    #[error("output is already paused")]
    AlreadyPaused,
    /// `resume` while not paused (`unexpected-request`).
    #[error("output is not paused")]
    NotPaused,
    /// The output has completed (`unexpected-request`).
    #[error("output has completed")]
    Complete,
}

impl PlayerError {
    /// The stanza error condition a Rayo server answers with.
    pub fn condition(&self) -> &'static str {
        "unexpected-request"
    }
}

/// Where the player is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// In a pass, at a fractional sample position of the document timeline.
    Playing,
    /// In the silence before the next pass, with this many samples left.
    Interval(u64),
    /// Completed.
    Done,
}

/// One output's playback state.
#[derive(Debug, Clone)]
pub struct Player {
    audio: Arc<Vec<i16>>,
    pos: f64,
    phase: Phase,
    pass: u64,
    repeat_times: u64,
    interval: u64,
    deadline: Option<Instant>,
    paused: bool,
    speed: f64,
    gain_db: f64,
    gain: f32,
    reason: Option<CompleteReason>,
}

fn samples_of(d: Duration) -> u64 {
    (d.as_micros() * u128::from(RATE) / 1_000_000).min(u128::from(u64::MAX)) as u64
}

impl Player {
    /// A player for `spec`'s attributes over `docs`, started at `now`.
    pub fn new(spec: &Output, docs: Vec<Rendered>, now: Instant) -> Player {
        let audio = match docs.as_slice() {
            [one] => one.samples.clone(),
            _ => Arc::new(
                docs.iter()
                    .flat_map(|d| d.samples.iter().copied())
                    .collect(),
            ),
        };
        let mut p = Player {
            audio,
            pos: 0.0,
            phase: Phase::Playing,
            pass: 0,
            repeat_times: spec.repeat_times(),
            interval: samples_of(spec.repeat_interval()),
            deadline: spec.max_time.and_then(|d| now.checked_add(d)),
            paused: spec.start_paused(),
            speed: 1.0,
            gain_db: 0.0,
            gain: 1.0,
            reason: None,
        };
        if p.audio.is_empty() && p.interval == 0 {
            p.finish(OutputReason::Finish);
        } else {
            p.seek_by(samples_of(spec.start_offset()) as f64);
        }
        p
    }

    fn finish(&mut self, why: OutputReason) {
        if self.phase != Phase::Done {
            self.phase = Phase::Done;
            self.reason = Some(CompleteReason::Output(why));
        }
    }

    /// Ends the current pass: to the interval, the next pass or `finish`.
    fn end_pass(&mut self) {
        self.pos = 0.0;
        let last = self.repeat_times != 0 && self.pass + 1 >= self.repeat_times;
        if last {
            self.finish(OutputReason::Finish);
        } else if self.interval > 0 {
            self.phase = Phase::Interval(self.interval);
        } else {
            self.next_pass();
        }
    }

    fn next_pass(&mut self) {
        self.pass += 1;
        self.phase = Phase::Playing;
        if self.audio.is_empty() {
            self.end_pass();
        }
    }

    /// Moves the marker by `delta` samples within the current pass.
    fn seek_by(&mut self, delta: f64) {
        let len = self.audio.len() as f64;
        self.pos = (self.pos + delta).max(0.0);
        if self.phase == Phase::Playing && self.pos >= len {
            self.end_pass();
        }
    }

    /// Writes the next frame at `now` into `out` (normally [`FRAME`] samples); false when it
    /// was all silence (paused, between repeats, or complete).
    pub fn frame(&mut self, now: Instant, out: &mut [i16]) -> bool {
        if self.deadline.is_some_and(|d| now >= d) {
            self.finish(OutputReason::MaxTime);
        }
        if self.paused || self.phase == Phase::Done {
            out.fill(0);
            return false;
        }
        let mut written = 0;
        let mut audible = false;
        while written < out.len() {
            match self.phase {
                Phase::Done => {
                    out[written..].fill(0);
                    break;
                }
                Phase::Interval(left) => {
                    let n = (out.len() - written).min(usize::try_from(left).unwrap_or(usize::MAX));
                    out[written..written + n].fill(0);
                    written += n;
                    if left as usize == n {
                        self.next_pass();
                    } else {
                        self.phase = Phase::Interval(left - n as u64);
                    }
                }
                Phase::Playing => {
                    let n = self.play(&mut out[written..]);
                    written += n;
                    audible |= n > 0;
                    if self.pos >= self.audio.len() as f64 {
                        self.end_pass();
                    }
                }
            }
        }
        audible
    }

    /// Copies audio from the marker into `out`; returns how many samples were written.
    fn play(&mut self, out: &mut [i16]) -> usize {
        let a = self.audio.as_slice();
        if self.speed == 1.0 && self.pos.fract() == 0.0 {
            let at = self.pos as usize;
            let n = out.len().min(a.len().saturating_sub(at));
            if self.gain == 1.0 {
                out[..n].copy_from_slice(&a[at..at + n]);
            } else {
                for (o, s) in out[..n].iter_mut().zip(&a[at..at + n]) {
                    *o = (f32::from(*s) * self.gain).clamp(-32768.0, 32767.0) as i16;
                }
            }
            self.pos += n as f64;
            return n;
        }
        // 32.32 fixed point: no float-to-int conversion of the position per sample.
        const ONE: f64 = (1u64 << 32) as f64;
        let (mut p, step) = ((self.pos * ONE) as u64, (self.speed * ONE) as u64);
        let len = a.len() as u64;
        let mut n = 0;
        for o in out.iter_mut() {
            let i = p >> 32;
            if i >= len {
                break;
            }
            let i = i as usize;
            let s0 = f32::from(a[i]);
            let s1 = a.get(i + 1).map_or(s0, |&s| f32::from(s));
            let f = (p & 0xffff_ffff) as f32 * (1.0 / ONE as f32);
            *o = ((s0 + (s1 - s0) * f) * self.gain).clamp(-32768.0, 32767.0) as i16;
            p += step;
            n += 1;
        }
        self.pos = p as f64 / ONE;
        n
    }

    /// Applies a command received at `now`.
    pub fn command(&mut self, now: Instant, cmd: &OutputCommand) -> Result<(), PlayerError> {
        if self.deadline.is_some_and(|d| now >= d) {
            self.finish(OutputReason::MaxTime);
        }
        if self.phase == Phase::Done {
            return Err(PlayerError::Complete);
        }
        match cmd {
            OutputCommand::Pause(_) if self.paused => return Err(PlayerError::AlreadyPaused),
            OutputCommand::Pause(_) => self.paused = true,
            OutputCommand::Resume(_) if !self.paused => return Err(PlayerError::NotPaused),
            OutputCommand::Resume(_) => self.paused = false,
            OutputCommand::SpeedUp(_) => self.set_speed(self.speed + SPEED_STEP),
            OutputCommand::SpeedDown(_) => self.set_speed(self.speed - SPEED_STEP),
            OutputCommand::VolumeUp(_) => self.set_gain(self.gain_db + VOLUME_STEP_DB),
            OutputCommand::VolumeDown(_) => self.set_gain(self.gain_db - VOLUME_STEP_DB),
            OutputCommand::Seek(s) => {
                let d = samples_of(s.amount) as f64;
                self.seek_by(match s.direction {
                    SeekDirection::Forward => d,
                    SeekDirection::Back => -d,
                });
            }
        }
        Ok(())
    }

    fn set_speed(&mut self, s: f64) {
        // Rounded to the step so that ten ups and ten downs come back to exactly 1.0.
        self.speed = ((s / SPEED_STEP).round() * SPEED_STEP).clamp(SPEED_MIN, SPEED_MAX);
        if (self.speed - 1.0).abs() < 1e-9 {
            self.speed = 1.0;
            self.pos = self.pos.round();
        }
    }

    fn set_gain(&mut self, db: f64) {
        self.gain_db = db.clamp(VOLUME_MIN_DB, VOLUME_MAX_DB);
        self.gain = if self.gain_db.abs() < 1e-9 {
            1.0
        } else {
            10f64.powf(self.gain_db / 20.0) as f32
        };
    }

    /// The completion reason, once, when the output has ended.
    pub fn poll_complete(&mut self) -> Option<CompleteReason> {
        self.reason.take()
    }

    /// Whether the output has ended (its reason may already have been taken).
    pub fn is_complete(&self) -> bool {
        self.phase == Phase::Done
    }

    /// When the player must be called even if no frame is due: the `max-time` deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline.filter(|_| self.phase != Phase::Done)
    }

    /// Whether the output is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The play marker: document time into the current pass.
    pub fn position(&self) -> Duration {
        Duration::from_micros((self.pos * 1_000_000.0 / f64::from(RATE)).round() as u64)
    }

    /// The current pass, from 0.
    pub fn pass(&self) -> u64 {
        self.pass
    }

    /// The current rate (1.0 is normal speed).
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The current gain in dB.
    pub fn volume_db(&self) -> f64 {
        self.gain_db
    }
}

#[cfg(test)]
#[path = "player_tests.rs"]
mod tests;
