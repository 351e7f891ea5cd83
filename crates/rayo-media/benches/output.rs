//! Output rendering per call: [`Player::frame`] (one 20 ms frame of 160 samples, 50 per
//! call-second), at normal speed and volume (the copy path) and after `speed-up` and
//! `volume-up` (the interpolating path), against a baseline measured in the same run: the
//! G.711 μ-law encode of the same frame, which every call pays anyway. Prints the calls one
//! core keeps in real time.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayo_media::g711;
use rayo_media::output::{Player, Rendered, FRAME};
use rayo_proto::command::OutputCommand;
use rayo_proto::generated::output::{Output, SpeedUp, VolumeUp};

/// Ten seconds of a 440 Hz tone, played for ever.
fn player(fast_path: bool) -> Player {
    let samples: Vec<i16> = (0..80_000)
        .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 8000.0).sin() * 8000.0) as i16)
        .collect();
    let spec = Output {
        repeat_times: Some(0),
        ..Output::default()
    };
    let docs = vec![Rendered {
        source: "bench".into(),
        samples: Arc::new(samples),
    }];
    let mut p = Player::new(&spec, docs, Instant::now());
    if !fast_path {
        let now = Instant::now();
        p.command(now, &OutputCommand::SpeedUp(SpeedUp)).unwrap();
        p.command(now, &OutputCommand::VolumeUp(VolumeUp)).unwrap();
    }
    p
}

fn encode(frame: &[i16; FRAME], out: &mut [u8; FRAME]) {
    for (o, s) in out.iter_mut().zip(frame) {
        *o = g711::linear_to_ulaw(*s);
    }
}

/// Seconds per call of `f`, over about a second.
fn per_call(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..1000 {
            f();
        }
        n += 1000;
    }
    start.elapsed().as_secs_f64() / n as f64
}

fn bench(c: &mut Criterion) {
    let now = Instant::now();
    let mut g = c.benchmark_group("output");
    g.throughput(Throughput::Elements(FRAME as u64));
    let mut frame = [0i16; FRAME];
    let mut bytes = [0u8; FRAME];
    g.bench_function("baseline_g711_encode_frame", |b| {
        b.iter(|| encode(black_box(&frame), &mut bytes))
    });
    for (name, fast) in [
        ("player_frame_copy", true),
        ("player_frame_speed_volume", false),
    ] {
        let mut p = player(fast);
        g.bench_function(name, |b| b.iter(|| p.frame(black_box(now), &mut frame)));
    }
    g.finish();

    let base = per_call(|| encode(black_box(&frame), &mut bytes));
    for (name, fast) in [("copy", true), ("speed+volume", false)] {
        let mut p = player(fast);
        let t = per_call(|| {
            p.frame(black_box(now), &mut frame);
        });
        println!(
            "output ({name}): {:.0} ns per 20 ms frame = {:.2}x a G.711 encode of the frame \
             ({:.0} ns); {:.0} calls in real time per core (50 frames per call-second)",
            t * 1e9,
            t / base,
            base * 1e9,
            1.0 / (t * 50.0)
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
