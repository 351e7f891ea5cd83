//! Engine throughput for whole call lifecycles: an inbound call offered to a client, accepted,
//! answered, an output started and completed, and the call hung up — every output drained at
//! each step, as a driver would.
//!
//! After criterion's group, under `cargo bench` only, the same cycle is timed with
//! `std::time::Instant` over a fixed number of cycles and printed as lifecycles per second on
//! one core, against the goal of 100 000.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use jid::Jid;
use minidom::Element;
use rayo_call::{
    All, CallId, ComponentId, Config, Engine, Input, MediaAction, MediaEvent, Output, Route,
    SignalEvent,
};
use rayo_proto::address::Addressing;
use rayo_proto::event::{CompleteReason, OutputReason};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::presence::{Presence, Show};

const GOAL: f64 = 100_000.0;

/// An engine with one available client, and the commands it sends, parsed once.
struct Rig {
    engine: Engine,
    now: Instant,
    juliet: Jid,
    accept: Element,
    answer: Element,
    output: Element,
    hangup: Element,
}

fn parse(xml: &str) -> Element {
    xml.parse()
        .unwrap_or_else(|e| panic!("bench XML {xml}: {e}"))
}

impl Rig {
    fn new() -> Rig {
        let addressing = Addressing::new("shakespeare.lit", Some("call"), Some("mixer"))
            .unwrap_or_else(|e| panic!("addressing: {e}"));
        let mut cfg = Config::new(addressing);
        let juliet = Jid::new("juliet@capulet.lit/balcony").unwrap_or_else(|e| panic!("{e}"));
        cfg.routes.push(Route::new(
            "*",
            vec![juliet.to_bare().into()],
            Box::new(All),
        ));
        let mut engine = Engine::new(cfg);
        let now = Instant::now();
        let service = Jid::new("shakespeare.lit").unwrap_or_else(|e| panic!("{e}"));
        engine.handle(
            now,
            Input::Presence(
                Presence::available()
                    .with_from(juliet.clone())
                    .with_to(service)
                    .with_show(Show::Chat),
            ),
        );
        engine.drain_outputs();
        Rig {
            engine,
            now,
            juliet,
            accept: parse("<accept xmlns='urn:xmpp:rayo:1'/>"),
            answer: parse("<answer xmlns='urn:xmpp:rayo:1'/>"),
            output: parse(
                "<output xmlns='urn:xmpp:rayo:output:1' voice='allison'>\
                 <document content-type='text/plain'>You have no new messages. Goodbye!</document>\
                 </output>",
            ),
            hangup: parse("<hangup xmlns='urn:xmpp:rayo:1'/>"),
        }
    }

    /// Handles one input and drains what it produced; returns how many outputs.
    fn step(&mut self, input: Input, started: &mut Option<ComponentId>) -> usize {
        self.engine.handle(self.now, input);
        let mut n = 0;
        while let Some(o) = self.engine.poll_output() {
            if let Output::Media(MediaAction::StartComponent { component, .. }) = &o {
                *started = Some(component.clone());
            }
            black_box(&o);
            n += 1;
        }
        n
    }

    fn command(&self, to: &Jid, id: &str, payload: &Element) -> Input {
        Input::Iq(Iq::Set {
            from: Some(self.juliet.clone()),
            to: Some(to.clone()),
            id: id.to_owned(),
            payload: payload.clone(),
        })
    }

    /// One lifecycle; returns the number of outputs: 12 when all goes as planned (offer;
    /// result and accept; result and answer; ref and start; complete; result, hangup,
    /// release and end).
    fn cycle(&mut self) -> usize {
        let mut started = None;
        let call: CallId = self.engine.allocate_call_id().expect("OS randomness");
        let mut n = self.step(
            Input::Signal {
                call: call.clone(),
                event: SignalEvent::Incoming {
                    to: "tel:+18003211212".to_owned(),
                    from: Some("tel:+13058881212".to_owned()),
                    headers: Vec::new(),
                    early_media: true,
                },
            },
            &mut started,
        );
        let Some(to) = self.engine.call_jid(&call).map(Jid::from) else {
            return n;
        };
        n += self.step(self.command(&to, "acc", &self.accept), &mut started);
        n += self.step(self.command(&to, "ans", &self.answer), &mut started);
        n += self.step(self.command(&to, "out", &self.output), &mut started);
        if let Some(component) = started.take() {
            n += self.step(
                Input::Media(MediaEvent::Complete {
                    component,
                    reason: CompleteReason::Output(OutputReason::Finish),
                    metadata: Vec::new(),
                }),
                &mut started,
            );
        }
        n += self.step(self.command(&to, "hup", &self.hangup), &mut started);
        n
    }
}

fn lifecycle(c: &mut Criterion) {
    let mut rig = Rig::new();
    let per_cycle = rig.cycle();
    assert_eq!(per_cycle, 12, "a lifecycle goes as planned");
    assert_eq!(rig.engine.call_count(), 0, "and leaves nothing behind");
    let mut group = c.benchmark_group("lifecycle");
    group.bench_function(
        "offer→accept→answer→output→complete→hangup",
        |b| b.iter(|| black_box(rig.cycle())),
    );
    group.finish();
}

/// Lifecycles per second on one core, timed over a fixed number of cycles (best of a few
/// rounds, after a warm-up).
fn per_second(measure: bool) {
    if !measure {
        println!("lifecycles per second: measured and printed under `cargo bench` only");
        return;
    }
    const CYCLES: u32 = 50_000;
    let mut rig = Rig::new();
    for _ in 0..5_000 {
        black_box(rig.cycle());
    }
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..CYCLES {
            black_box(rig.cycle());
        }
        best = best.min(start.elapsed());
    }
    let rate = f64::from(CYCLES) / best.as_secs_f64();
    println!(
        "lifecycles per second (one core): {rate:.0} — goal ≥ 100000: {rate:.0}/100000 = {:.2}×",
        rate / GOAL
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    lifecycle(&mut c);
    c.final_summary();
    // As criterion decides: `--bench` without `--test` measures, anything else is a test run.
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    per_second(has("--bench") && !has("--test") && !has("--list"));
}
