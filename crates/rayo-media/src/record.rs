//! The record component (XEP-0327 §6.5.6, §7.19.6), sans-IO except for writing its file:
//! 20 ms frames go in with `now`, a WAV file grows, and a completion with its `<recording/>`
//! comes out.
//!
//! **Audio.** Each tick the node passes the frame it `sent` to the call (what the caller
//! hears: TTS, prompts, the other party) and the frame it `received` from it (the caller's
//! voice), 160 samples at 8 kHz; a missing or short frame counts as silence. In XEP-0327's
//! words, `direction="send"` is the audio the caller sends, so the `received` frame;
//! `direction="recv"` is what the caller receives, so the `sent` frame; `duplex` both. With
//! `duplex` and `mix="false"` (the default) the file is stereo, `sent` left and `received`
//! right; with `mix="true"` mono, the two summed with saturation (no wrap-around). Against a
//! mixer (`on_mixer`), `send` is refused, `duplex` is a clone of `recv`, and the mixer's mix
//! goes in as `sent`.
//!
//! **Format.** `format="wav"` (the default) records 16-bit PCM at 8 kHz. XEP-0327 leaves
//! format tokens to implementations and encodings to `<hint/>`s: a hint named `codec` or
//! `encoding` with value `pcmu`, `ulaw`, `mulaw`, `mu-law` or `g711u` records G.711 μ-law
//! (WAV format tag 7) instead, half the size. Any other format is refused with
//! `feature-not-implemented`; unknown hints and values are ignored, as §6.5.6 requires.
//!
//! **Timers** run on recorded audio, not on the wall clock: `max-duration` is the file's
//! length (the last frame is cut to it, so a 3 s limit gives a 3.000 s file), and they stop
//! while paused. Speech is found by [`crate::vad`] on the recorded audio (both directions
//! summed): `initial-timeout` completes when none was heard that long from the start,
//! `final-timeout` when that long passed since the last voiced frame.
//!
//! **Beeps.** `start-beep` asks for a 1 kHz, 200 ms beep ([`beep`]) through
//! [`Recorder::poll_beep`] before recording starts, and does not record the 10 frames it
//! plays over (with `start-paused`, the beep comes on the first resume). `stop-beep` asks
//! for the same beep when the recording ends by [`Recorder::stop`] or by a timer (not on
//! hangup: nobody is there to hear it).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rayo_media::record::Recorder;
//! use rayo_proto::event::{CompleteMetadata, CompleteReason, RecordReason};
//! use rayo_proto::generated::record::Record;
//!
//! let path = std::env::temp_dir().join(format!("rayo-doc-{}.wav", std::process::id()));
//! let spec = Record { max_duration: Some(Duration::from_secs(1)), ..Record::default() };
//! let t0 = Instant::now();
//! let mut rec = Recorder::new(&spec, path.clone(), "file:///rec.wav".into(), t0, false)?;
//! for i in 0..60 {
//!     rec.frame(t0 + Duration::from_millis(20 * i), &[100; 160], &[-100; 160]);
//! }
//! let (reason, meta) = rec.poll_complete().expect("complete");
//! assert_eq!(reason, CompleteReason::Record(RecordReason::MaxDuration));
//! let CompleteMetadata::Recording(r) = &meta[0] else { panic!() };
//! assert_eq!(r.duration, Duration::from_secs(1));
//! assert_eq!(r.size, 44 + 32_000); // stereo 16-bit
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayo_proto::command::RecordCommand;
use rayo_proto::event::{CompleteMetadata, CompleteReason, RecordReason};
use rayo_proto::generated::record::{Record, RecordDirection};
use rayo_proto::generated::record_complete::Recording;

use crate::vad::{Vad, VadConfig, VadState};
use crate::wav::{WavSpec, WavWriter};

/// The sample rate of every recording.
pub const SAMPLE_RATE: u32 = 8000;
/// The beep's frequency, in Hz.
pub const BEEP_HZ: u32 = 1000;
/// The beep's length, in milliseconds (10 frames of 20 ms).
pub const BEEP_MS: u32 = 200;

/// Why a record command, or a command to a record component, was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A `format` other than `wav` (`feature-not-implemented`, modify: §6.2.3's "option
    /// value" the server does not implement).
    #[error("record format {0:?} is not implemented")]
    UnsupportedFormat(String),
    /// `direction="send"` on a mixer, which §6.5.6 says is not supported
    /// (`feature-not-implemented`, modify).
    #[error("direction send is not supported when recording a mixer")]
    SendOnMixer,
    /// A `max-duration`, `initial-timeout` or `final-timeout` of 0: the schema asks for a
    /// positive number of milliseconds or -1 (`bad-request`, modify). Holds the attribute.
    #[error("{0} must be a positive number of milliseconds or -1")]
    ZeroDuration(&'static str),
    /// The file could not be created or written (`resource-constraint`, wait: the server
    /// lacks the resources to make the recording).
    #[error("recording file: {0}")]
    Io(#[from] std::io::Error),
    /// A command after the recording completed (`unexpected-request`, wait).
    #[error("the recording has completed")]
    Completed,
}

impl RecordError {
    /// The stanza error condition XEP-0327 §6.2.3/§6.3 names for this error.
    pub fn condition(&self) -> &'static str {
        match self {
            Self::UnsupportedFormat(_) | Self::SendOnMixer => "feature-not-implemented",
            Self::ZeroDuration(_) => "bad-request",
            Self::Io(_) => "resource-constraint",
            Self::Completed => "unexpected-request",
        }
    }

    /// The stanza error type that goes with [`Self::condition`].
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::UnsupportedFormat(_) | Self::SendOnMixer | Self::ZeroDuration(_) => "modify",
            Self::Io(_) | Self::Completed => "wait",
        }
    }
}

/// The beep of `start-beep` and `stop-beep`: 1 kHz for 200 ms at 8 kHz, −12 dBFS, with 5 ms
/// ramps so it does not click.
pub fn beep() -> Vec<i16> {
    let n = (SAMPLE_RATE * BEEP_MS / 1000) as usize;
    let ramp = (SAMPLE_RATE / 200) as usize;
    let amp = 32767.0 * 10f32.powf(-12.0 / 20.0) * std::f32::consts::SQRT_2;
    (0..n)
        .map(|i| {
            let env = (i.min(n - 1 - i) as f32 / ramp as f32).min(1.0);
            let t = i as f32 / SAMPLE_RATE as f32;
            (amp * env * (2.0 * std::f32::consts::PI * BEEP_HZ as f32 * t).sin()) as i16
        })
        .collect()
}

/// Which frames go into the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// The `received` frame alone (`send`).
    Received,
    /// The `sent` frame alone (`recv`, or anything on a mixer).
    Sent,
    /// Both summed (`duplex`, `mix`).
    Mixed,
    /// Both, `sent` left and `received` right (`duplex`).
    Stereo,
}

/// Whether the hints ask for μ-law.
fn wants_ulaw(spec: &Record) -> bool {
    let mut ulaw = false;
    for h in &spec.hints {
        let name = h.name.trim();
        if name.eq_ignore_ascii_case("codec") || name.eq_ignore_ascii_case("encoding") {
            match h.value.trim().to_ascii_lowercase().as_str() {
                "pcmu" | "ulaw" | "mulaw" | "mu-law" | "g711u" => ulaw = true,
                "pcm" | "l16" | "linear" => ulaw = false,
                _ => {}
            }
        }
    }
    ulaw
}

/// A timer duration in samples; 0 is refused.
fn samples_of(d: Option<Duration>, name: &'static str) -> Result<Option<u64>, RecordError> {
    match d {
        Some(d) if d.is_zero() => Err(RecordError::ZeroDuration(name)),
        Some(d) => Ok(Some(
            (d.as_micros() * u128::from(SAMPLE_RATE) / 1_000_000)
                .try_into()
                .unwrap_or(u64::MAX)
                .max(1),
        )),
        None => Ok(None),
    }
}

/// One running record component.
#[derive(Debug)]
pub struct Recorder<W: Write + Seek = File> {
    wav: WavWriter<W>,
    uri: String,
    layout: Layout,
    vad: Vad,
    max: Option<u64>,
    initial: Option<u64>,
    final_: Option<u64>,
    stop_beep: bool,
    /// Sample frames recorded.
    recorded: u64,
    heard_speech: bool,
    /// Sample frames recorded since the last voiced frame.
    silence: u64,
    paused: bool,
    /// Frames still to skip while the start beep plays.
    beep_frames: u32,
    /// A start beep waits for the first resume.
    beep_on_resume: bool,
    beeps: Vec<Vec<i16>>,
    last_now: Instant,
    scratch: Vec<i16>,
    mono: Vec<i16>,
    pending: Option<(CompleteReason, Vec<CompleteMetadata>)>,
    done: Option<Recording>,
}

impl Recorder {
    /// Validates `spec` and creates the file at `path` (truncating one that exists), `0600`
    /// on Unix so that only the node's user can read the recording. `uri`
    /// is what the completion reports; `on_mixer` when the record runs against a mixer.
    pub fn new(
        spec: &Record,
        path: PathBuf,
        uri: String,
        now: Instant,
        on_mixer: bool,
    ) -> Result<Recorder, RecordError> {
        Self::check(spec, on_mixer)?;
        let file = rayo_proto::private_fs::create_private_file(&path)?;
        Recorder::with_sink(spec, file, uri, now, on_mixer)
    }
}

impl<W: Write + Seek> Recorder<W> {
    /// Like [`Recorder::new`], writing to `sink` (a file, a `Cursor`…).
    pub fn with_sink(
        spec: &Record,
        sink: W,
        uri: String,
        now: Instant,
        on_mixer: bool,
    ) -> Result<Recorder<W>, RecordError> {
        Self::check(spec, on_mixer)?;
        let layout = match (spec.direction(), on_mixer, spec.mix()) {
            (RecordDirection::Send, false, _) => Layout::Received,
            (RecordDirection::Recv, _, _) | (_, true, _) => Layout::Sent,
            (RecordDirection::Duplex, false, true) => Layout::Mixed,
            (RecordDirection::Duplex, false, false) => Layout::Stereo,
        };
        let channels = if layout == Layout::Stereo { 2 } else { 1 };
        let wav_spec = if wants_ulaw(spec) {
            WavSpec::ulaw(channels)
        } else {
            WavSpec::pcm(channels)
        };
        let mut rec = Recorder {
            wav: WavWriter::new(sink, wav_spec)?,
            uri,
            layout,
            vad: Vad::new(VadConfig::default()),
            max: samples_of(spec.max_duration, "max-duration")?,
            initial: samples_of(spec.initial_timeout, "initial-timeout")?,
            final_: samples_of(spec.final_timeout, "final-timeout")?,
            stop_beep: spec.stop_beep(),
            recorded: 0,
            heard_speech: false,
            silence: 0,
            paused: spec.start_paused(),
            beep_frames: 0,
            beep_on_resume: false,
            beeps: Vec::new(),
            last_now: now,
            scratch: Vec::with_capacity(320),
            mono: Vec::with_capacity(160),
            pending: None,
            done: None,
        };
        if spec.start_beep() {
            if rec.paused {
                rec.beep_on_resume = true;
            } else {
                rec.start_beep();
            }
        }
        Ok(rec)
    }

    /// The checks done before anything is created.
    fn check(spec: &Record, on_mixer: bool) -> Result<(), RecordError> {
        if !spec.format().trim().eq_ignore_ascii_case("wav") {
            return Err(RecordError::UnsupportedFormat(
                spec.format().chars().take(32).collect(),
            ));
        }
        if on_mixer && spec.direction() == RecordDirection::Send {
            return Err(RecordError::SendOnMixer);
        }
        for (d, name) in [
            (spec.max_duration, "max-duration"),
            (spec.initial_timeout, "initial-timeout"),
            (spec.final_timeout, "final-timeout"),
        ] {
            samples_of(d, name)?;
        }
        Ok(())
    }

    fn start_beep(&mut self) {
        self.beeps.push(beep());
        self.beep_frames = BEEP_MS / 20;
    }

    /// The format the file is written in.
    pub fn wav_spec(&self) -> WavSpec {
        self.wav.spec()
    }

    /// Whether the recording is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Whether the recording has completed (the file is closed).
    pub fn is_complete(&self) -> bool {
        self.done.is_some()
    }

    /// The audio recorded so far.
    pub fn duration(&self) -> Duration {
        self.wav.duration()
    }

    /// One 20 ms tick: the frame sent to the call and the frame received from it. Ignored
    /// while paused, while the start beep plays and after completion. A write error
    /// completes the recording with an error reason.
    pub fn frame(&mut self, now: Instant, sent: &[i16], received: &[i16]) {
        self.last_now = now;
        if self.done.is_some() || self.paused {
            return;
        }
        if self.beep_frames > 0 {
            self.beep_frames -= 1;
            return;
        }
        let mut n = match self.layout {
            Layout::Received => received.len(),
            Layout::Sent => sent.len(),
            Layout::Mixed | Layout::Stereo => sent.len().max(received.len()),
        } as u64;
        if let Some(max) = self.max {
            n = n.min(max.saturating_sub(self.recorded));
        }
        let n = n as usize;
        let at = |s: &[i16], i: usize| s.get(i).copied().unwrap_or(0);
        self.mono.clear();
        self.scratch.clear();
        match self.layout {
            Layout::Received => self.mono.extend((0..n).map(|i| at(received, i))),
            Layout::Sent => self.mono.extend((0..n).map(|i| at(sent, i))),
            Layout::Mixed | Layout::Stereo => {
                for i in 0..n {
                    let (l, r) = (at(sent, i), at(received, i));
                    self.mono.push(l.saturating_add(r));
                    if self.layout == Layout::Stereo {
                        self.scratch.push(l);
                        self.scratch.push(r);
                    }
                }
            }
        }
        let out = if self.layout == Layout::Stereo {
            &self.scratch
        } else {
            &self.mono
        };
        if let Err(e) = self.wav.write_samples(out) {
            self.complete(CompleteReason::Error(format!("recording file: {e}")), false);
            return;
        }
        self.recorded += n as u64;
        let state = self.vad.frame(&self.mono);
        if state == VadState::Started || (state.is_speech() && self.vad.voiced()) {
            self.heard_speech = true;
            self.silence = 0;
        } else {
            self.silence += n as u64;
        }
        let reason = if self.max.is_some_and(|m| self.recorded >= m) {
            Some(RecordReason::MaxDuration)
        } else if !self.heard_speech && self.initial.is_some_and(|t| self.recorded >= t) {
            Some(RecordReason::InitialTimeout)
        } else if self.heard_speech && self.final_.is_some_and(|t| self.silence >= t) {
            Some(RecordReason::FinalTimeout)
        } else {
            None
        };
        if let Some(r) = reason {
            self.complete(CompleteReason::Record(r), true);
        }
    }

    /// A pause or resume command. Pausing keeps the file open and flushes it; resuming
    /// appends to it. Either is a no-op in the state it asks for; after completion,
    /// [`RecordError::Completed`].
    pub fn command(&mut self, now: Instant, cmd: &RecordCommand) -> Result<(), RecordError> {
        self.last_now = now;
        if self.done.is_some() {
            return Err(RecordError::Completed);
        }
        match cmd {
            RecordCommand::Pause(_) => {
                if !self.paused {
                    self.paused = true;
                    self.wav.flush()?;
                }
            }
            RecordCommand::Resume(_) => {
                if self.paused {
                    self.paused = false;
                    if std::mem::take(&mut self.beep_on_resume) {
                        self.start_beep();
                    }
                }
            }
        }
        Ok(())
    }

    /// A beep the node should play to the call now (start or stop beep), if one is due.
    pub fn poll_beep(&mut self) -> Option<Vec<i16>> {
        if self.beeps.is_empty() {
            None
        } else {
            Some(self.beeps.remove(0))
        }
    }

    /// The completion, once a timer (or a write error) ended the recording; given once.
    pub fn poll_complete(&mut self) -> Option<(CompleteReason, Vec<CompleteMetadata>)> {
        self.pending.take()
    }

    /// When the next timer fires if frames keep coming every 20 ms from the last `now`;
    /// `None` when no timer runs (none set, paused, or complete).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.done.is_some() || self.paused {
            return None;
        }
        let left = [
            self.max.map(|m| m.saturating_sub(self.recorded)),
            self.initial
                .filter(|_| !self.heard_speech)
                .map(|t| t.saturating_sub(self.recorded)),
            self.final_
                .filter(|_| self.heard_speech)
                .map(|t| t.saturating_sub(self.silence)),
        ]
        .into_iter()
        .flatten()
        .min()?;
        let beep = u64::from(self.beep_frames) * u64::from(SAMPLE_RATE / 50);
        Some(self.last_now + Duration::from_micros((left + beep) * 1_000_000 / SAMPLE_RATE as u64))
    }

    /// A stop command: closes the file; the reason is `stop` (and the stop beep is asked
    /// for). After completion, the same recording again.
    pub fn stop(&mut self) -> (CompleteReason, Vec<CompleteMetadata>) {
        self.complete(CompleteReason::Stop, true);
        self.pending = None;
        (CompleteReason::Stop, self.metadata())
    }

    /// The call hung up: closes the file and returns the recording (reason `hangup`).
    pub fn finish(&mut self) -> Recording {
        self.complete(CompleteReason::Hangup, false);
        self.pending = None;
        self.recording()
    }

    /// Closes the file and leaves the completion for [`Self::poll_complete`]; does nothing
    /// once complete.
    fn complete(&mut self, reason: CompleteReason, with_beep: bool) {
        if self.done.is_some() {
            return;
        }
        let reason = match self.wav.finish() {
            Ok(_) => reason,
            Err(e) => CompleteReason::Error(format!("recording file: {e}")),
        };
        let size = i64::try_from(self.wav.file_len()).unwrap_or(i64::MAX);
        let frames = self.wav.frames();
        self.done = Some(Recording {
            uri: self.uri.clone(),
            duration: Duration::from_millis(frames * 1000 / u64::from(SAMPLE_RATE)),
            size,
        });
        if with_beep && self.stop_beep {
            self.beeps.push(beep());
        }
        self.pending = Some((reason, self.metadata()));
    }

    /// The recording element (uri, duration, size), once complete; before, what it would
    /// say if the file were closed now.
    pub fn recording(&self) -> Recording {
        self.done.clone().unwrap_or_else(|| Recording {
            uri: self.uri.clone(),
            duration: Duration::from_millis(self.wav.frames() * 1000 / u64::from(SAMPLE_RATE)),
            size: i64::try_from(self.wav.file_len()).unwrap_or(i64::MAX),
        })
    }

    fn metadata(&self) -> Vec<CompleteMetadata> {
        vec![CompleteMetadata::Recording(self.recording())]
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
