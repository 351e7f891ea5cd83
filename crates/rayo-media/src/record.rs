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
    /// Validates `spec` and creates the file at `path` (truncating one that exists). `uri`
    /// is what the completion reports; `on_mixer` when the record runs against a mixer.
    pub fn new(
        spec: &Record,
        path: PathBuf,
        uri: String,
        now: Instant,
        on_mixer: bool,
    ) -> Result<Recorder, RecordError> {
        Self::check(spec, on_mixer)?;
        Recorder::with_sink(spec, File::create(&path)?, uri, now, on_mixer)
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
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use rayo_proto::generated::record::{Hint, Pause, Resume};
    use std::io::Cursor;
    use std::path::Path;

    /// A directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let p = std::env::temp_dir()
                .join(format!("rayo-record-{tag}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&p).expect("temp dir");
            Self(p)
        }
        fn file(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const MS20: Duration = Duration::from_millis(20);

    fn tone(level: i16, i: usize) -> Vec<i16> {
        (0..160)
            .map(|k| {
                let t = (i * 160 + k) as f32 / 8000.0;
                (f32::from(level) * (2.0 * std::f32::consts::PI * 300.0 * t).sin()) as i16
            })
            .collect()
    }

    fn read(path: &Path) -> (hound::WavSpec, Vec<i16>) {
        let mut r = hound::WavReader::open(path).expect("hound opens the recording");
        let spec = r.spec();
        (
            spec,
            r.samples::<i16>()
                .collect::<Result<_, _>>()
                .expect("samples"),
        )
    }

    fn recording(meta: &[CompleteMetadata]) -> Recording {
        match meta {
            [CompleteMetadata::Recording(r)] => r.clone(),
            other => panic!("one recording expected, got {other:?}"),
        }
    }

    /// The recording's metadata matches the file: hound's length, the file's size.
    fn assert_matches_file(r: &Recording, path: &Path) {
        let reader = hound::WavReader::open(path).expect("open");
        let frames = u64::from(reader.duration());
        assert_eq!(r.duration.as_millis() as u64, frames * 1000 / 8000);
        let len = std::fs::metadata(path).expect("metadata").len();
        assert_eq!(r.size as u64, len);
    }

    #[test]
    fn max_duration_gives_a_file_of_that_length() {
        let dir = TempDir::new("max");
        let path = dir.file("max.wav");
        let spec = Record {
            max_duration: Some(Duration::from_secs(3)),
            ..Record::default()
        };
        let t0 = Instant::now();
        let mut rec = Recorder::new(&spec, path.clone(), "file:///max.wav".into(), t0, false)
            .expect("recorder");
        assert_eq!(rec.poll_timeout(), Some(t0 + Duration::from_secs(3)));
        let mut done_at = None;
        for i in 0..200u32 {
            rec.frame(t0 + MS20 * i, &tone(3000, i as usize), &[7; 160]);
            if i == 49 {
                // 1 s recorded, frame 49 at 980 ms: the frame at 2 980 ms ends it.
                assert_eq!(rec.poll_timeout(), Some(t0 + Duration::from_millis(2980)));
            }
            if let Some(c) = rec.poll_complete() {
                assert!(done_at.is_none(), "completes once");
                done_at = Some((i, c));
            }
        }
        let (i, (reason, meta)) = done_at.expect("max-duration completes");
        assert_eq!(i, 149);
        assert_eq!(reason, CompleteReason::Record(RecordReason::MaxDuration));
        let r = recording(&meta);
        assert_eq!(r.uri, "file:///max.wav");
        assert_eq!(r.duration, Duration::from_secs(3));
        assert_matches_file(&r, &path);
        let (wspec, samples) = read(&path);
        assert_eq!(
            (wspec.channels, wspec.sample_rate, wspec.bits_per_sample),
            (2, 8000, 16)
        );
        let secs = samples.len() as f64 / 2.0 / 8000.0;
        assert!((secs - 3.0).abs() <= 0.1, "{secs} s");
        // Stereo: sent left, received right.
        assert_eq!(
            samples[0..8].iter().step_by(2).copied().collect::<Vec<_>>(),
            tone(3000, 0)[0..4]
        );
        assert!(samples.iter().skip(1).step_by(2).all(|&s| s == 7));
        assert_eq!(rec.poll_timeout(), None);
        assert!(rec.command(t0, &RecordCommand::Pause(Pause)).is_err());
    }

    #[test]
    fn directions_and_mix_pick_the_audio() {
        let dir = TempDir::new("dir");
        let cases = [
            (Some(RecordDirection::Send), None, false, 1, 200),
            (Some(RecordDirection::Recv), None, false, 1, 100),
            (None, Some(true), false, 1, 300),
            (Some(RecordDirection::Duplex), Some(true), true, 1, 100),
            (None, None, true, 1, 100),
        ];
        for (n, (direction, mix, on_mixer, channels, value)) in cases.into_iter().enumerate() {
            let path = dir.file(&format!("{n}.wav"));
            let spec = Record {
                direction,
                mix,
                ..Record::default()
            };
            let t0 = Instant::now();
            let mut rec = Recorder::new(&spec, path.clone(), format!("u{n}"), t0, on_mixer)
                .expect("recorder");
            for i in 0..10 {
                rec.frame(t0 + MS20 * i, &[100; 160], &[200; 160]);
            }
            let (reason, meta) = rec.stop();
            assert_eq!(reason, CompleteReason::Stop);
            let (wspec, samples) = read(&path);
            assert_eq!(wspec.channels, channels, "case {n}");
            assert_eq!(samples, vec![value; 1600], "case {n}");
            let r = recording(&meta);
            assert_eq!(r.duration, Duration::from_millis(200));
            assert_matches_file(&r, &path);
        }
    }

    #[test]
    fn mixing_saturates_and_short_frames_are_silence() {
        let spec = Record {
            mix: Some(true),
            ..Record::default()
        };
        let t0 = Instant::now();
        let mut rec = Recorder::with_sink(&spec, Cursor::new(Vec::new()), "m".into(), t0, false)
            .expect("recorder");
        rec.frame(t0, &[30000; 160], &[30000; 160]);
        rec.frame(t0 + MS20, &[-30000; 160], &[-30000; 160]);
        rec.frame(t0 + MS20 * 2, &[5; 160], &[]);
        let r = rec.finish();
        assert_eq!(r.duration, Duration::from_millis(60));
        let bytes = rec.wav.get_ref().get_ref().clone();
        assert_eq!(r.size as usize, bytes.len());
        let mut reader = hound::WavReader::new(Cursor::new(bytes)).expect("wav");
        let s: Vec<i16> = reader
            .samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples");
        assert_eq!(&s[..160], &[32767; 160]);
        assert_eq!(&s[160..320], &[-32768; 160]);
        assert_eq!(&s[320..], &[5; 160]);
    }

    #[test]
    fn refusals_name_the_spec_conditions() {
        let dir = TempDir::new("refuse");
        let t0 = Instant::now();
        let try_new = |spec: &Record, on_mixer| {
            Recorder::new(spec, dir.file("x.wav"), "x".into(), t0, on_mixer).map(|_| ())
        };
        let mp3 = Record {
            format: Some("mp3".into()),
            ..Record::default()
        };
        let e = try_new(&mp3, false).expect_err("mp3 refused");
        assert_eq!(
            (e.condition(), e.error_type()),
            ("feature-not-implemented", "modify")
        );
        assert!(
            !dir.file("x.wav").exists(),
            "nothing created for a refused command"
        );
        let send = Record {
            direction: Some(RecordDirection::Send),
            ..Record::default()
        };
        let e = try_new(&send, true).expect_err("send on a mixer refused");
        assert!(matches!(e, RecordError::SendOnMixer));
        assert_eq!(e.condition(), "feature-not-implemented");
        let zero = Record {
            final_timeout: Some(Duration::ZERO),
            ..Record::default()
        };
        let e = try_new(&zero, false).expect_err("zero refused");
        assert_eq!(
            (e.condition(), e.to_string().contains("final-timeout")),
            ("bad-request", true)
        );
        let upper = Record {
            format: Some("WAV".into()),
            ..Record::default()
        };
        try_new(&upper, false).expect("WAV is wav");
        let e = Recorder::new(
            &Record::default(),
            dir.file("no/such/dir.wav"),
            "x".into(),
            t0,
            false,
        )
        .expect_err("unwritable");
        assert_eq!(
            (e.condition(), e.error_type()),
            ("resource-constraint", "wait")
        );
    }

    #[test]
    fn ulaw_by_hint_and_unknown_hints_ignored() {
        let dir = TempDir::new("ulaw");
        let t0 = Instant::now();
        let hint = |name: &str, value: &str| Hint {
            name: name.into(),
            value: value.into(),
        };
        let cases = [
            (vec![hint("codec", "PCMU")], 7u16, 1600u64),
            (
                vec![hint("encoding", "mulaw"), hint("bitrate", "9")],
                7,
                1600,
            ),
            (
                vec![hint("codec", "opus"), hint("quality", "best")],
                1,
                3200,
            ),
            (vec![], 1, 3200),
        ];
        for (n, (hints, tag, data)) in cases.into_iter().enumerate() {
            let path = dir.file(&format!("{n}.wav"));
            let spec = Record {
                direction: Some(RecordDirection::Send),
                hints,
                ..Record::default()
            };
            let mut rec = Recorder::new(&spec, path.clone(), "u".into(), t0, false).expect("rec");
            for i in 0..10 {
                rec.frame(t0 + MS20 * i, &[], &[1000; 160]);
            }
            let r = rec.finish();
            let b = std::fs::read(&path).expect("read");
            assert_eq!(u16::from_le_bytes([b[20], b[21]]), tag, "case {n}");
            let header = if tag == 7 { 58 } else { 44 };
            assert_eq!(b.len() as u64, header + data, "case {n}");
            assert_eq!(r.size as usize, b.len());
            assert_eq!(r.duration, Duration::from_millis(200));
            if tag == 7 {
                assert!(b[58..]
                    .iter()
                    .all(|&x| x == crate::g711::linear_to_ulaw(1000)));
            }
        }
    }

    #[test]
    fn start_beep_is_asked_for_and_not_recorded() {
        let dir = TempDir::new("beep");
        let path = dir.file("b.wav");
        let spec = Record {
            start_beep: Some(true),
            stop_beep: Some(true),
            direction: Some(RecordDirection::Recv),
            ..Record::default()
        };
        let t0 = Instant::now();
        let mut rec = Recorder::new(&spec, path.clone(), "b".into(), t0, false).expect("rec");
        let b = rec.poll_beep().expect("start beep");
        assert_eq!(rec.poll_beep(), None);
        assert_eq!(b.len(), 1600);
        // 1 kHz: 400 sign changes in 200 ms; about -12 dBFS.
        let crossings = b.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        assert!((398..=401).contains(&crossings), "{crossings}");
        assert!((crate::vad::level_dbfs(&b[400..1200]) + 12.0).abs() < 0.5);
        for i in 0..30u32 {
            let v = if i < 10 { 1 } else { 2 };
            rec.frame(t0 + MS20 * i, &[v; 160], &[0; 160]);
        }
        let (reason, meta) = rec.stop();
        assert_eq!(reason, CompleteReason::Stop);
        assert_eq!(rec.poll_beep().map(|b| b.len()), Some(1600), "stop beep");
        let (_, s) = read(&path);
        assert_eq!(s, vec![2; 3200]);
        assert_matches_file(&recording(&meta), &path);
        // No beep on hangup.
        let mut rec = Recorder::new(&spec, dir.file("h.wav"), "h".into(), t0, false).expect("rec");
        rec.poll_beep();
        rec.finish();
        assert_eq!(rec.poll_beep(), None);
    }

    #[test]
    fn pause_and_resume_append_to_the_same_file() {
        let dir = TempDir::new("pause");
        let path = dir.file("p.wav");
        let spec = Record {
            start_paused: Some(true),
            start_beep: Some(true),
            direction: Some(RecordDirection::Send),
            max_duration: Some(Duration::from_secs(10)),
            ..Record::default()
        };
        let t0 = Instant::now();
        let mut rec = Recorder::new(&spec, path.clone(), "p".into(), t0, false).expect("rec");
        assert_eq!(rec.poll_beep(), None, "the beep waits for the resume");
        assert_eq!(rec.poll_timeout(), None, "no timer while paused");
        let mut t = t0;
        fn feed(rec: &mut Recorder, t: &mut Instant, frames: u32, v: i16) {
            for _ in 0..frames {
                rec.frame(*t, &[0; 160], &[v; 160]);
                *t += MS20;
            }
        }
        feed(&mut rec, &mut t, 5, 1);
        rec.command(t, &RecordCommand::Resume(Resume))
            .expect("resume");
        assert!(rec.poll_beep().is_some());
        feed(&mut rec, &mut t, 10, 9); // beep
        feed(&mut rec, &mut t, 5, 2);
        rec.command(t, &RecordCommand::Pause(Pause)).expect("pause");
        rec.command(t, &RecordCommand::Pause(Pause))
            .expect("pause again is fine");
        // Paused: the file on disk already holds what was recorded.
        assert_eq!(read(&path).1, vec![2; 800]);
        feed(&mut rec, &mut t, 5, 3);
        rec.command(t, &RecordCommand::Resume(Resume))
            .expect("resume");
        assert_eq!(rec.poll_beep(), None, "one start beep only");
        feed(&mut rec, &mut t, 5, 4);
        let r = rec.finish();
        let mut want = vec![2; 800];
        want.extend([4; 800]);
        assert_eq!(read(&path).1, want);
        assert_eq!(r.duration, Duration::from_millis(200));
        assert_matches_file(&r, &path);
        let e = rec
            .command(t, &RecordCommand::Resume(Resume))
            .expect_err("completed");
        assert_eq!(e.condition(), "unexpected-request");
    }

    #[test]
    fn initial_timeout_without_speech() {
        let dir = TempDir::new("initial");
        let path = dir.file("i.wav");
        let spec = Record {
            initial_timeout: Some(Duration::from_secs(2)),
            final_timeout: Some(Duration::from_secs(1)),
            mix: Some(true),
            ..Record::default()
        };
        let t0 = Instant::now();
        let mut rec = Recorder::new(&spec, path.clone(), "i".into(), t0, false).expect("rec");
        let mut got = None;
        for i in 0..200u32 {
            // Low line noise, no speech.
            let noise: Vec<i16> = (0..160)
                .map(|k| ((k * 7919 + i as usize * 31) % 61) as i16 - 30)
                .collect();
            rec.frame(t0 + MS20 * i, &[0; 160], &noise);
            if let Some(c) = rec.poll_complete() {
                got = Some((i, c));
                break;
            }
        }
        let (i, (reason, meta)) = got.expect("initial-timeout");
        assert_eq!(i, 99);
        assert_eq!(reason, CompleteReason::Record(RecordReason::InitialTimeout));
        let r = recording(&meta);
        assert_eq!(r.duration, Duration::from_secs(2));
        assert_matches_file(&r, &path);
    }

    #[test]
    fn final_timeout_after_speech() {
        let dir = TempDir::new("final");
        let path = dir.file("f.wav");
        let spec = Record {
            initial_timeout: Some(Duration::from_secs(1)),
            final_timeout: Some(Duration::from_millis(1500)),
            direction: Some(RecordDirection::Send),
            ..Record::default()
        };
        let t0 = Instant::now();
        let mut rec = Recorder::new(&spec, path.clone(), "f".into(), t0, false).expect("rec");
        let mut got = None;
        for i in 0..400u32 {
            // 0.5 s silence, 1.5 s of speech (past the initial timeout), then silence.
            let rx = if (25..100).contains(&i) {
                tone(8000, i as usize)
            } else {
                vec![0; 160]
            };
            rec.frame(t0 + MS20 * i, &[0; 160], &rx);
            if let Some(c) = rec.poll_complete() {
                got = Some((i, c));
                break;
            }
        }
        let (i, (reason, meta)) = got.expect("final-timeout");
        assert_eq!(reason, CompleteReason::Record(RecordReason::FinalTimeout));
        // Speech ends with frame 99; 1.5 s (75 frames) of silence later it completes.
        assert_eq!(i, 174);
        let r = recording(&meta);
        assert_eq!(r.duration, Duration::from_millis(3500));
        assert_matches_file(&r, &path);
        assert_eq!(read(&path).1.len(), 28_000);
    }

    /// A sink that fails once `limit` bytes were written.
    struct Failing {
        inner: Cursor<Vec<u8>>,
        limit: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.inner.get_ref().len() + buf.len() > self.limit {
                return Err(std::io::Error::other("disk full"));
            }
            self.inner.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Seek for Failing {
        fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    #[test]
    fn a_write_error_completes_with_an_error() {
        let sink = Failing {
            inner: Cursor::new(Vec::new()),
            limit: 20_000,
        };
        let t0 = Instant::now();
        let mut rec =
            Recorder::with_sink(&Record::default(), sink, "e".into(), t0, false).expect("rec");
        let mut got = None;
        for i in 0..200u32 {
            rec.frame(t0 + MS20 * i, &[1; 160], &[2; 160]);
            if let Some(c) = rec.poll_complete() {
                got = Some(c);
                break;
            }
        }
        let (reason, meta) = got.expect("completes");
        assert!(
            matches!(&reason, CompleteReason::Error(t) if t.contains("disk full")),
            "{reason:?}"
        );
        assert_eq!(meta.len(), 1);
        assert!(rec.is_complete());
    }
}
