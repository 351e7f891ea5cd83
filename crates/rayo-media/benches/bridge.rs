//! Mixing in real time: one mixer of N participants ticked at 20 ms frames (everyone hears
//! the others, active-speaker detection on every participant), printed as participants one
//! core mixes in real time (goal: ≥ 500 in one mixer), and the cost of one more two-party
//! bridge. Baseline in the same run: G.711-decoding the same frames (what every
//! participant's RTP receive costs anyway).

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use rayo_media::bridge::{Bridge, Party};
use rayo_media::g711::{Law, G711};
use rayo_media::vad::VadConfig;
use rayo_proto::generated::rayo::JoinDirection;

const GOAL: f64 = 500.0;

fn frames(n: usize) -> Vec<Vec<i16>> {
    (0..n)
        .map(|p| {
            (0..160)
                .map(|i| (((i * 37 + p * 101) % 2000) as i16 - 1000) * 4)
                .collect()
        })
        .collect()
}

fn mixer(n: usize) -> Bridge {
    let mut b = Bridge::new(VadConfig::default());
    for p in 0..n {
        b.join(
            Party::Call(format!("c{p}")),
            Party::Mixer("m".into()),
            JoinDirection::Duplex,
        );
    }
    b
}

fn tick(b: &mut Bridge, t: Instant, said: &[Vec<i16>], heard: &mut u64) {
    b.tick(
        t,
        |c| {
            c[1..]
                .parse::<usize>()
                .ok()
                .and_then(|i| said.get(i).cloned())
        },
        |_, f| *heard += u64::from(f[0] as u16),
    );
    while b.poll_event().is_some() {}
}

/// Frames per second one core ticks for a bridge built by `build` over `n` frames.
fn rate(n: usize, build: impl Fn() -> Bridge) -> f64 {
    let said = frames(n);
    let mut b = build();
    let mut t = Instant::now();
    let mut heard = 0;
    let start = Instant::now();
    let mut ticks = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        tick(&mut b, t, &said, &mut heard);
        t += Duration::from_millis(20);
        ticks += 1;
    }
    std::hint::black_box(heard);
    ticks as f64 / start.elapsed().as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let n = 500;
    let said = frames(n);
    let codec = G711::new(Law::Ulaw);
    let encoded: Vec<Vec<u8>> = said
        .iter()
        .map(|f| {
            let mut o = Vec::new();
            codec.encode(f, &mut o);
            o
        })
        .collect();
    let mut g = c.benchmark_group("bridge");
    g.bench_function("baseline_decode_500_frames", |b| {
        let mut out = Vec::with_capacity(160);
        b.iter(|| {
            for e in &encoded {
                out.clear();
                codec.decode(e, &mut out);
            }
            std::hint::black_box(&out);
        })
    });
    let mut m = mixer(n);
    let mut t = Instant::now();
    let mut heard = 0;
    g.bench_function("mixer_500_participants_one_tick", |b| {
        b.iter(|| {
            tick(&mut m, t, &said, &mut heard);
            t += Duration::from_millis(20);
        })
    });
    g.finish();

    // The figures asked for.
    let ticks = rate(n, || mixer(n));
    let participants = ticks / 50.0 * n as f64;
    let base_start = Instant::now();
    let mut decoded = 0u64;
    let mut out = Vec::with_capacity(160);
    while base_start.elapsed() < Duration::from_secs(1) {
        for e in &encoded {
            out.clear();
            codec.decode(e, &mut out);
            decoded += 1;
        }
    }
    let decode_rate = decoded as f64 / base_start.elapsed().as_secs_f64() / 50.0;
    println!(
        "mixer: {participants:.0} participants mixed in real time on one core \
         ({:.2}× the goal of {GOAL}; G.711 decode alone: {decode_rate:.0} streams, \
         mixing costs {:.2}× a decode per participant)",
        participants / GOAL,
        decode_rate / participants
    );
    // One more two-party bridge: 100 bridges vs 101.
    let bridges = |k: usize| {
        move || {
            let mut b = Bridge::new(VadConfig::default());
            for i in 0..k {
                b.join(
                    Party::Call(format!("c{}", 2 * i)),
                    Party::Call(format!("c{}", 2 * i + 1)),
                    JoinDirection::Duplex,
                );
            }
            b
        }
    };
    let r100 = rate(200, bridges(100));
    let per_bridge_us = 1e6 / r100 / 100.0;
    println!(
        "bridge: one two-party bridge costs {per_bridge_us:.2} µs per 20 ms tick \
         ({:.4} of a core; {:.0} bridges per core)",
        per_bridge_us / 20_000.0,
        20_000.0 / per_bridge_us
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
