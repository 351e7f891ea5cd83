//! Stanzas routed per second: IQ round trips from a client through rayo-xmpp's c2s listener
//! to the handler and back, beside the same load from a client through Prosody to a
//! rayo-xmpp component, measured in the same run. Prints the ratio.
//!
//! Both legs use plain TCP on loopback and the same minimal client (PLAIN login, then
//! batches of pipelined IQs), so they differ only in the routing path. Needs Prosody
//! (Debian `prosody`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::await_holding_refcell_ref
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use common::prosody::{Prosody, COMPONENT, HOST, SECRET};
use common::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayo_xmpp::c2s::C2sConfig;
use rayo_xmpp::component_client::{ComponentClient, ComponentClientConfig};
use rayo_xmpp::server::{Listener, ListenerConfig};

/// IQs in flight per batch.
const BATCH: usize = 50;

struct Setup {
    rt: tokio::runtime::Runtime,
    rayo: RefCell<PlainClient>,
    via_prosody: RefCell<PlainClient>,
    _listener: Listener,
    _component: ComponentClient,
    prosody: Prosody,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (rayo, via_prosody, listener, component, p) = rt.block_on(async {
        let mut c2s = C2sConfig::new(DOMAIN, users());
        c2s.allow_plain_without_tls = true;
        c2s.rate_limit = None;
        let listener = Listener::start(ListenerConfig::new(0, c2s, None), addressing(DOMAIN), Echo)
            .await
            .expect("listener");
        let rayo = PlainClient::login(listener.local_addr(), DOMAIN, "juliet", "r0m30").await;
        let mut p = Prosody::new();
        p.start().await;
        let mut component = ComponentClient::start(
            ComponentClientConfig::new(p.component_addr(), COMPONENT, SECRET),
            addressing(COMPONENT),
            Echo,
        );
        component
            .wait_connected(Duration::from_secs(15))
            .await
            .expect("component up");
        let via_prosody = PlainClient::login(p.c2s_addr(), HOST, "juliet", "r0m30").await;
        (rayo, via_prosody, listener, component, p)
    });
    Setup {
        rayo: RefCell::new(rayo),
        via_prosody: RefCell::new(via_prosody),
        _listener: listener,
        _component: component,
        prosody: p,
        rt,
    }
}

/// Round trips per second over `rounds` batches.
fn rate(s: &Setup, c: &RefCell<PlainClient>, to: &str, rounds: usize) -> f64 {
    s.rt.block_on(async {
        let mut c = c.borrow_mut();
        let start = Instant::now();
        for _ in 0..rounds {
            c.round(to, BATCH).await;
        }
        (rounds * BATCH) as f64 / start.elapsed().as_secs_f64()
    })
}

fn routing(cr: &mut Criterion) {
    let s = setup();
    let (rayo_to, prosody_to) = (DOMAIN, COMPONENT);
    let mut g = cr.benchmark_group("iq_round_trip");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    for (name, client, to) in [
        ("rayo_c2s_to_handler", &s.rayo, rayo_to),
        ("client_prosody_component", &s.via_prosody, prosody_to),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                s.rt.block_on(async {
                    let mut c = client.borrow_mut();
                    let start = Instant::now();
                    for _ in 0..iters {
                        c.round(to, BATCH).await;
                    }
                    start.elapsed()
                })
            })
        });
    }
    g.finish();
    // The ratio, from both legs measured back to back (interleaved, best of three).
    let (mut best_rayo, mut best_prosody) = (0f64, 0f64);
    for _ in 0..3 {
        best_rayo = best_rayo.max(rate(&s, &s.rayo, rayo_to, 20));
        best_prosody = best_prosody.max(rate(&s, &s.via_prosody, prosody_to, 20));
    }
    println!(
        "IQ round trips/s (2 stanzas routed each): rayo c2s -> handler: {best_rayo:.0}; \
         client -> Prosody -> rayo component: {best_prosody:.0}; ratio rayo/prosody = {:.2}",
        best_rayo / best_prosody
    );
    drop(s.prosody);
}

criterion_group!(benches, routing);
criterion_main!(benches);
