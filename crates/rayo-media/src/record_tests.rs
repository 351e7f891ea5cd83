//! Tests of the record component: files read back with hound, durations, sizes, reasons.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

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
        let p =
            std::env::temp_dir().join(format!("rayo-record-{tag}-{}-{nanos}", std::process::id()));
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

/// Only the node's user can read a recording: the file is created `0600`.
#[cfg(unix)]
#[test]
fn a_recording_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("mode");
    let path = dir.file("private.wav");
    let t0 = Instant::now();
    let mut rec =
        Recorder::new(&Record::default(), path.clone(), "u".into(), t0, false).expect("recorder");
    rec.frame(t0, &[100; 160], &[200; 160]);
    rec.stop();
    let mode = std::fs::metadata(&path).expect("file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "recording mode {mode:o}");
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
    let mut rec =
        Recorder::new(&spec, path.clone(), "file:///max.wav".into(), t0, false).expect("recorder");
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
        let mut rec =
            Recorder::new(&spec, path.clone(), format!("u{n}"), t0, on_mixer).expect("recorder");
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

#[test]
fn the_file_is_playable_while_recording() {
    let dir = TempDir::new("live");
    let path = dir.file("live.wav");
    let t0 = Instant::now();
    let mut rec =
        Recorder::new(&Record::default(), path.clone(), "l".into(), t0, false).expect("rec");
    for i in 0..75u32 {
        rec.frame(t0 + MS20 * i, &[3; 160], &[4; 160]);
    }
    // 1.5 s recorded, the process "dies" now: the file holds the first whole second.
    let (spec, s) = read(&path);
    assert_eq!(spec.channels, 2);
    assert_eq!(s.len(), 16_000);
    assert_eq!(std::fs::metadata(&path).expect("meta").len(), 44 + 32_000);
    assert_eq!(rec.duration(), Duration::from_millis(1500));
    let r = rec.finish();
    assert_eq!(r.duration, Duration::from_millis(1500));
    assert_matches_file(&r, &path);
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
