//! SRGS match per digit and NLSML build, against the real-time budget: 2 000 calls on one
//! core, each entering a digit every 100 ms, is 20 000 digits/s (50 µs per digit, NLSML
//! result included).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayo_media::nlsml::NlsmlResult;
use rayo_media::srgs::Grammar;

/// The PIN grammar of XEP-0327 example 71.
const PIN: &str = r##"<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" mode="dtmf">
  <rule id="digit"><one-of><item>0</item><item>1</item><item>2</item><item>3</item><item>4</item>
    <item>5</item><item>6</item><item>7</item><item>8</item><item>9</item></one-of></rule>
  <rule id="pin" scope="public"><one-of>
    <item><item repeat="4"><ruleref uri="#digit"/></item>#</item>
    <item>* 9</item></one-of></rule></grammar>"##;

/// Digits per second the budget asks for: 2 000 calls, one digit per 100 ms each.
const TARGET: f64 = 20_000.0;

/// Matches `digits` from the start; returns the interpretation.
fn run(g: &Grammar, digits: &str) -> Option<String> {
    let mut m = g.matcher();
    m.push_str(digits).unwrap();
    m.interpretation()
}

fn bench(c: &mut Criterion) {
    let pin = Grammar::parse(PIN).unwrap();
    let digits16 = Grammar::builtin("builtin:dtmf/digits?minlength=4;maxlength=16").unwrap();
    let mut g = c.benchmark_group("srgs");
    g.throughput(Throughput::Elements(5));
    g.bench_function("pin_per_5_digits", |b| {
        b.iter(|| run(&pin, black_box("1234#")))
    });
    g.throughput(Throughput::Elements(16));
    g.bench_function("digits16_per_16_digits", |b| {
        b.iter(|| run(&digits16, black_box("1234567890123456")))
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_pin_grammar", |b| {
        b.iter(|| Grammar::parse(black_box(PIN)).unwrap())
    });
    g.bench_function("nlsml_build", |b| {
        b.iter(|| NlsmlResult::dtmf(black_box("session:grammar-0"), "1234#", "1234#").to_xml())
    });
    g.finish();

    // The figure asked for: cost of one digit (matcher plus, once per 5 digits, the NLSML
    // result) as a fraction of the 50 µs a digit may take at 20 000 digits/s.
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        let i = run(&pin, "1234#").unwrap();
        black_box(NlsmlResult::dtmf("session:grammar-0", "1234#", &i).to_xml());
        n += 5;
    }
    let per_digit = start.elapsed().as_secs_f64() / n as f64;
    println!(
        "srgs: {:.0} ns per digit (PIN grammar, NLSML included): {:.4} of the real-time budget \
         (20 000 digits/s: 2 000 calls, a digit every 100 ms each); {:.0}x headroom",
        per_digit * 1e9,
        per_digit * TARGET,
        1.0 / (per_digit * TARGET)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
