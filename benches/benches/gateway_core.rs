//! The gateway's sans-IO core (`rayo_cluster::Gateway`) forwarding one command: a client's
//! disco#info to a call it controls goes to the call's node under a fresh id, its `to`
//! and URIs rewritten, and the node's result comes back to the client with the client's
//! id, every stanza to the client checked for node names. No socket, no clock: what the
//! core adds per command, against what any XMPP hop must do with the same two stanzas
//! (parse both from bytes and serialise both), measured in the same run.
//!
//! Under `cargo bench` only, prints `ratio gateway core round trip / parse+serialise`.
#![allow(clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use minidom::Element;
use rayo_benches::{dom_parse, median_ratio, write};
use rayo_cluster::envelope::set_attr;
use rayo_cluster::{fuzz::fuzz_gateway, Gateway, Input, LinkId, Output, Side};

const CALL: &str = "9f00061";
const CLIENT: &str = "juliet@capulet.lit/balcony";
const DISCO: &str = "http://jabber.org/protocol/disco#info";

/// A gateway with a call on node1 that the client has accepted.
fn rig(now: Instant) -> Gateway {
    let mut gw = fuzz_gateway(now);
    // An offer as a node sends it for a sipp call: the INVITE's eleven headers.
    let headers: String = [
        (
            "Via",
            "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-inv-1-4242",
        ),
        ("From", "sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001"),
        ("To", "sut <sip:ivr@127.0.0.1:5060>"),
        ("Call-ID", "1-4242@127.0.0.1"),
        ("CSeq", "1 INVITE"),
        ("Contact", "sip:sipp@127.0.0.1:5061"),
        ("Max-Forwards", "70"),
        ("X-Rayo-Test", "ivr"),
        ("Subject", "Performance Test"),
        ("Content-Type", "application/sdp"),
        ("Content-Length", "211"),
    ]
    .iter()
    .map(|(n, v)| {
        let v = v.replace('<', "&lt;").replace('>', "&gt;");
        format!("<header name='{n}' value='{v}'/>")
    })
    .collect();
    let offer = format!(
        "<presence xmlns='jabber:client' from='{CALL}@node1.shakespeare.lit' \
         to='gateway.shakespeare.lit'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
         node='urn:xmpp:rayo:call:1' ver='x'/><offer xmlns='urn:xmpp:rayo:1' \
         to='sip:ivr@127.0.0.1:5060' from='sip:sipp@127.0.0.1:5061'>{headers}</offer></presence>"
    );
    let accept = format!(
        "<iq xmlns='jabber:client' from='{CLIENT}' to='{CALL}@shakespeare.lit' type='set' \
         id='a'><accept xmlns='urn:xmpp:rayo:1'/></iq>"
    );
    feed(&mut gw, now, LinkId(1), Side::Internal, &offer);
    while gw.poll_output().is_some() {}
    feed(&mut gw, now, LinkId(0), Side::External, &accept);
    let fwd = forwarded(&mut gw).expect("the accept is forwarded");
    gw.handle(
        now,
        Input::Stanza {
            link: LinkId(1),
            side: Side::Internal,
            stanza: result_of(&fwd, &call_info()),
        },
    );
    while gw.poll_output().is_some() {}
    gw
}

fn feed(gw: &mut Gateway, now: Instant, link: LinkId, side: Side, xml: &str) {
    let stanza = xml.parse().expect("a fixture");
    gw.handle(now, Input::Stanza { link, side, stanza });
}

/// The stanza the gateway sends to a node, the rest of its output dropped.
fn forwarded(gw: &mut Gateway) -> Option<Element> {
    let mut found = None;
    while let Some(o) = gw.poll_output() {
        if let Output::Send { link, stanza } = o {
            if link != LinkId(0) {
                found = Some(stanza);
            }
        }
    }
    found
}

/// What a node answers to a call's disco#info: an identity and nine features.
fn call_info() -> Element {
    Element::from(rayo_proto::disco::call_info())
}

/// The node's result to a request the gateway forwarded (with `info` if it was a
/// disco#info).
fn result_of(request: &Element, info: &Element) -> Element {
    let mut r = Element::builder("iq", "jabber:client").build();
    set_attr(&mut r, "from", request.attr("to").unwrap_or_default());
    set_attr(&mut r, "to", "gateway.shakespeare.lit");
    set_attr(&mut r, "id", request.attr("id").unwrap_or_default());
    set_attr(&mut r, "type", "result");
    if request.get_child("query", DISCO).is_some() {
        r.append_child(info.clone());
    }
    r
}

/// One command through the core and its result back; whether the client got it.
fn round_trip(gw: &mut Gateway, now: Instant, command: &Element, info: &Element) -> bool {
    gw.handle(
        now,
        Input::Stanza {
            link: LinkId(0),
            side: Side::External,
            stanza: command.clone(),
        },
    );
    let Some(fwd) = forwarded(gw) else {
        return false;
    };
    gw.handle(
        now,
        Input::Stanza {
            link: LinkId(1),
            side: Side::Internal,
            stanza: result_of(&fwd, info),
        },
    );
    let mut answered = false;
    while let Some(o) = gw.poll_output() {
        if let Output::Send {
            link: LinkId(0),
            stanza,
        } = o
        {
            answered = stanza.attr("id") == Some("c1") && stanza.attr("type") == Some("result");
        }
    }
    answered
}

fn main() {
    let now = Instant::now();
    let command_xml = format!(
        "<iq xmlns='jabber:client' from='{CLIENT}' to='{CALL}@shakespeare.lit' type='get' \
         id='c1'><query xmlns='{DISCO}'/></iq>"
    );
    let command: Element = command_xml.parse().expect("a fixture");
    let mut gw = rig(now);
    let info = call_info();
    assert!(
        round_trip(&mut gw, now, &command, &info),
        "the command is answered"
    );
    let result_xml = {
        let mut out = Vec::new();
        let mut r = result_of(&command, &info);
        set_attr(&mut r, "from", &format!("{CALL}@shakespeare.lit"));
        set_attr(&mut r, "to", CLIENT);
        write(&r, &mut out).expect("serialised");
        out
    };
    let mut out = Vec::with_capacity(4096);
    let mut hop = || {
        for xml in [command_xml.as_bytes(), &result_xml[..]] {
            if let Ok(e) = dom_parse(black_box(xml)) {
                black_box(write(&e, &mut out).is_ok());
            }
        }
    };

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("gateway_core");
    group.bench_function("parse+serialise command and result (baseline)", |b| {
        b.iter(&mut hop)
    });
    group.bench_function("core round trip (command to node, result to client)", |b| {
        b.iter(|| round_trip(&mut gw, now, black_box(&command), &info))
    });
    group.finish();
    c.final_summary();

    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    if has("--bench") && !has("--test") && !has("--list") {
        let ratio = median_ratio(21, Duration::from_millis(20), &mut hop, || {
            black_box(round_trip(&mut gw, now, &command, &info));
        });
        println!(
            "ratio gateway core round trip / parse+serialise of its two stanzas = {ratio:.2}x"
        );
    } else {
        println!("ratio line: measured and printed under `cargo bench` only");
    }
}
