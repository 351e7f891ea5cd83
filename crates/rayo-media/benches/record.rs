//! The record component and the voice-activity detector against the real-time budget of
//! 2 000 calls on one core, each as a ratio to a baseline measured in the same run: G.711
//! μ-law encoding of the same frames (what every call costs anyway to send them).
//!
//! One call-second is 50 ticks of `Recorder::frame` (20 ms, 160 samples each way) written to
//! a file in a temp dir; the recorder is replaced every minute of audio so the file stays
//! small. The VAD runs once per 20 ms frame.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayo_media::g711::{Law, G711};
use rayo_media::record::Recorder;
use rayo_media::vad::{Vad, VadConfig};
use rayo_proto::generated::record::{Hint, Record};

/// Calls one core should record at once.
const GOAL: f64 = 2000.0;

/// 50 frames of speech-like audio (a 150 Hz voice with harmonics, syllabic envelope).
fn frames(seed: usize) -> Vec<Vec<i16>> {
    (0..50)
        .map(|f| {
            let env = 0.55 + 0.45 * (f as f32 * 0.5).cos();
            (0..160)
                .map(|k| {
                    let t = ((f * 160 + k + seed) as f32) / 8000.0;
                    let w = 2.0 * std::f32::consts::PI * 150.0 * t;
                    (env * (6000.0 * w.sin() + 3000.0 * (3.0 * w).sin())) as i16
                })
                .collect()
        })
        .collect()
}

/// A recorder writing to `path`, started at `t`.
fn recorder(spec: &Record, path: &Path, t: Instant) -> Recorder {
    Recorder::new(
        spec,
        path.to_path_buf(),
        "file:///bench.wav".into(),
        t,
        false,
    )
    .unwrap()
}

/// One call-second: 50 ticks; a new recorder after each minute of audio.
fn call_second(
    rec: &mut Recorder,
    spec: &Record,
    path: &Path,
    t: &mut Instant,
    n: &mut u32,
    sent: &[Vec<i16>],
    received: &[Vec<i16>],
) {
    for (s, r) in sent.iter().zip(received) {
        rec.frame(*t, s, r);
        *t += Duration::from_millis(20);
    }
    *n += 1;
    if *n == 60 {
        black_box(rec.finish());
        *rec = recorder(spec, path, *t);
        *n = 0;
    }
}

/// The baseline: μ-law encoding of the same 100 frames.
fn encode_second(codec: &G711, sent: &[Vec<i16>], received: &[Vec<i16>], out: &mut Vec<u8>) {
    for (s, r) in sent.iter().zip(received) {
        out.clear();
        codec.encode(s, out);
        codec.encode(r, out);
        black_box(&out);
    }
}

/// Seconds per iteration of `f`, run for about `secs`.
fn time(secs: f64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        f();
        n += 1;
    }
    start.elapsed().as_secs_f64() / n as f64
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("rayo-record-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sent = frames(0);
    let received = frames(77);
    let codec = G711::new(Law::Ulaw);
    let mut out = Vec::with_capacity(400);

    let stereo = Record::default();
    let ulaw_mix = Record {
        mix: Some(true),
        hints: vec![Hint {
            name: "codec".into(),
            value: "pcmu".into(),
        }],
        final_timeout: Some(Duration::from_secs(3600)),
        ..Record::default()
    };
    let p1 = dir.join("stereo.wav");
    let p2 = dir.join("ulaw.wav");
    let mut t = Instant::now();
    let (mut r1, mut r2) = (recorder(&stereo, &p1, t), recorder(&ulaw_mix, &p2, t));
    let (mut n1, mut n2) = (0, 0);

    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Elements(1));
    g.bench_function("baseline_g711_encode_per_call_second", |b| {
        b.iter(|| encode_second(&codec, &sent, &received, &mut out))
    });
    g.bench_function("stereo_pcm_per_call_second", |b| {
        b.iter(|| call_second(&mut r1, &stereo, &p1, &mut t, &mut n1, &sent, &received))
    });
    g.bench_function("mixed_ulaw_vad_per_call_second", |b| {
        b.iter(|| call_second(&mut r2, &ulaw_mix, &p2, &mut t, &mut n2, &sent, &received))
    });
    g.finish();

    let mut vad = Vad::new(VadConfig::default());
    let mut i = 0;
    let mut g = c.benchmark_group("vad");
    g.throughput(Throughput::Elements(1));
    g.bench_function("baseline_g711_encode_per_frame", |b| {
        b.iter(|| {
            out.clear();
            codec.encode(black_box(&sent[i % 50]), &mut out);
            i += 1;
        })
    });
    g.bench_function("vad_per_frame", |b| {
        b.iter(|| {
            i += 1;
            vad.frame(black_box(&sent[i % 50]))
        })
    });
    g.finish();

    // The figures asked for, measured again here so they sit side by side.
    let base = time(1.0, || encode_second(&codec, &sent, &received, &mut out));
    let rec = time(2.0, || {
        call_second(&mut r1, &stereo, &p1, &mut t, &mut n1, &sent, &received)
    });
    let recu = time(2.0, || {
        call_second(&mut r2, &ulaw_mix, &p2, &mut t, &mut n2, &sent, &received)
    });
    for (what, cost) in [("stereo PCM", rec), ("mixed mu-law", recu)] {
        println!(
            "record ({what}): {:.1} us per call-second = {:.2}x the G.711 encode of the same \
             frames ({:.1} us); one core records {:.0} calls in real time ({:.1}x the goal of \
             2 000)",
            cost * 1e6,
            cost / base,
            base * 1e6,
            1.0 / cost,
            1.0 / cost / GOAL
        );
    }
    let frame_base = time(1.0, || {
        for f in &sent {
            out.clear();
            codec.encode(black_box(f), &mut out);
        }
    }) / 50.0;
    let frame_vad = time(1.0, || {
        for f in &sent {
            black_box(vad.frame(black_box(f)));
        }
    }) / 50.0;
    println!(
        "vad: {:.0} ns per 20 ms frame = {:.2}x the G.711 encode of the frame ({:.0} ns); one \
         core runs {:.0} detectors in real time ({:.1}x the goal of 2 000)",
        frame_vad * 1e9,
        frame_vad / frame_base,
        frame_base * 1e9,
        0.02 / frame_vad,
        0.02 / frame_vad / GOAL
    );
    drop((r1, r2));
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
