//! RTP packets per second per core through receive → jitter buffer → decode and
//! encode → send, printed as a ratio of 200 000 packets/s (2 000 G.711 calls on one core).

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayo_media::stream::{Receiver, Sender, StreamConfig};

const TARGET: f64 = 200_000.0;
const BATCH: u64 = 1000;

/// One batch: `BATCH` packets built, received, played out and decoded, re-encoded and sent.
fn batch(
    tx: &mut Sender,
    out: &mut Sender,
    rx: &mut Receiver,
    t: &mut Instant,
    pcm: &[i16],
    buf: &mut Vec<u8>,
    sink: &mut Vec<i16>,
) {
    for _ in 0..BATCH {
        buf.clear();
        tx.tick(pcm, buf);
        rx.handle_datagram(*t, buf);
        sink.clear();
        while rx.poll_audio(*t + Duration::from_millis(40), sink) {}
        buf.clear();
        out.tick(sink, buf);
        *t += Duration::from_millis(20);
    }
}

fn bench(c: &mut Criterion) {
    let cfg = StreamConfig {
        inband_dtmf: false,
        ..StreamConfig::pcmu()
    };
    let pcm: Vec<i16> = (0..160)
        .map(|i| ((i * 397) % 20000 - 10000) as i16)
        .collect();
    let mut tx = Sender::new(cfg.clone(), 1, 0, 0);
    let mut out = Sender::new(cfg.clone(), 2, 0, 0);
    let mut rx = Receiver::new(cfg.clone());
    let mut t = Instant::now();
    let mut buf = Vec::with_capacity(200);
    let mut sink = Vec::with_capacity(320);

    // Baseline in the same run: only building the packets (the peer's side of the work).
    let mut base = Sender::new(cfg, 3, 0, 0);
    let mut g = c.benchmark_group("rtp");
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("baseline_build_only", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                buf.clear();
                base.tick(&pcm, &mut buf);
            }
        })
    });
    g.bench_function("receive_jitter_decode_encode_send", |b| {
        b.iter(|| {
            batch(
                &mut tx, &mut out, &mut rx, &mut t, &pcm, &mut buf, &mut sink,
            )
        })
    });
    g.finish();

    // The figure asked for: packets/s through the whole path on this core, vs the target.
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        batch(
            &mut tx, &mut out, &mut rx, &mut t, &pcm, &mut buf, &mut sink,
        );
        n += BATCH;
    }
    let pps = n as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut m = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..BATCH {
            buf.clear();
            base.tick(&pcm, &mut buf);
        }
        m += BATCH;
    }
    let base_pps = m as f64 / start.elapsed().as_secs_f64();
    // The same path with in-band DTMF detection on the decoded audio.
    let icfg = StreamConfig {
        inband_dtmf: true,
        ..StreamConfig::pcmu()
    };
    let (mut itx, mut iout, mut irx) = (
        Sender::new(icfg.clone(), 4, 0, 0),
        Sender::new(icfg.clone(), 5, 0, 0),
        Receiver::new(icfg),
    );
    let start = Instant::now();
    let mut k = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        batch(
            &mut itx, &mut iout, &mut irx, &mut t, &pcm, &mut buf, &mut sink,
        );
        k += BATCH;
    }
    let inband_pps = k as f64 / start.elapsed().as_secs_f64();
    println!(
        "rtp path with in-band DTMF detection: {:.2}x the 200 000 packets/s target",
        inband_pps / TARGET
    );
    println!(
        "rtp path: {:.2}x the 200 000 packets/s target (2 000 G.711 calls per core); {:.3}x the build-only baseline measured in this run",
        pps / TARGET,
        pps / base_pps
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
