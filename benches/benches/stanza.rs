//! Parsing and serialising typed stanzas against the plain DOM (`minidom::Element`) doing
//! the same, for an offer with eight headers, an output with SSML in CDATA and a complete
//! with an NLSML match.
//!
//! After criterion's groups, under `cargo bench` only, each case prints the ratio of the
//! typed path to the DOM alone, measured in the same run (goal of the stanza model: typed
//! parse within 1.5x of the DOM parse).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion};
use rayo_benches::{dom_parse, median_ratio, typed_parse, write, write_typed, CASES};
use rayo_proto::Stanza;

fn parse(c: &mut Criterion) {
    for case in CASES {
        let bytes = case.xml.as_bytes();
        let Ok(elem) = dom_parse(bytes) else {
            eprintln!("{}: the fixture is not XML", case.name);
            continue;
        };
        let mut group = c.benchmark_group(format!("parse/{}", case.name));
        group.bench_function("dom (bytes→Element, baseline)", |b| {
            b.iter(|| dom_parse(black_box(bytes)))
        });
        group.bench_function("typed (Element→Stanza)", |b| {
            b.iter_batched(|| elem.clone(), Stanza::parse, BatchSize::SmallInput)
        });
        group.bench_function("typed (bytes→Stanza)", |b| {
            b.iter(|| typed_parse(black_box(bytes)))
        });
        group.finish();
    }
}

fn serialise(c: &mut Criterion) {
    for case in CASES {
        let bytes = case.xml.as_bytes();
        let (Ok(elem), Ok(stanza)) = (dom_parse(bytes), typed_parse(bytes)) else {
            eprintln!("{}: the fixture does not parse", case.name);
            continue;
        };
        let mut group = c.benchmark_group(format!("serialise/{}", case.name));
        let mut out = Vec::with_capacity(4096);
        group.bench_function("dom (Element→bytes, baseline)", |b| {
            b.iter(|| write(black_box(&elem), &mut out))
        });
        group.bench_function("typed (Stanza→bytes)", |b| {
            b.iter_batched(
                || stanza.clone(),
                |s| write_typed(s, &mut out),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

/// Prints, for each case, the typed parse from bytes over the DOM parse, measured here in
/// alternating batches (criterion's own figures are above).
fn ratios(measure: bool) {
    let (rounds, batch) = if measure {
        (21, Duration::from_millis(10))
    } else {
        (1, Duration::ZERO)
    };
    for case in CASES {
        let bytes = case.xml.as_bytes();
        let parse = median_ratio(
            rounds,
            batch,
            || drop(black_box(dom_parse(black_box(bytes)))),
            || drop(black_box(typed_parse(black_box(bytes)))),
        );
        if measure {
            println!(
                "ratio {}: typed parse (bytes→Stanza) / DOM parse = {parse:.2}x (goal ≤ 1.5x)",
                case.name
            );
        }
    }
    if !measure {
        println!("ratio lines: measured and printed under `cargo bench` only");
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    parse(&mut c);
    serialise(&mut c);
    c.final_summary();
    // As criterion decides: `--bench` without `--test` measures, anything else is a test run.
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    ratios(has("--bench") && !has("--test") && !has("--list"));
}
