//! Drains: no new dials or offers; live calls go on; a maximum drain time ends the rest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use minidom::Element;
use rayo_cluster::{Distribution, Output};

const JULIET: &str = "juliet@capulet.lit/balcony";
const DIAL: &str = "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'/>";

fn on(out: &[Output], i: usize, what: &str) -> Vec<Element> {
    sent_on(out, node_link(i))
        .into_iter()
        .filter(|s| s.children().any(|c| c.name() == what))
        .collect()
}

fn dial_node(out: &[Output]) -> usize {
    (0..3).find(|i| !on(out, *i, "dial").is_empty()).unwrap()
}

#[test]
fn a_draining_node_takes_no_new_work_and_its_last_calls_end_at_the_maximum() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.client_available(JULIET);
    offer(&mut h, 0, "live", "tel:+18005550000");
    let out = command(
        &mut h,
        JULIET,
        &format!("live@{EXT}"),
        "a",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    answer(&mut h, 0, &one_on(&out, node_link(0)), "");
    let now = h.now;
    h.gw.drain_node(now, NODES[0], Duration::from_secs(60));
    assert!(!h.gw.in_rotation(NODES[0]));
    let mut counts = [0; 3];
    for d in 0..30 {
        let out = command(&mut h, JULIET, EXT, &format!("d{d}"), DIAL);
        counts[dial_node(&out)] += 1;
    }
    assert_eq!(counts, [0, 15, 15]);
    // A new offer from it is rejected busy; its live call still takes commands.
    let out = offer(&mut h, 0, "new", "tel:+18005550000");
    assert!(sent_on(&out, CLIENTS).is_empty());
    let reject = &on(&out, 0, "reject")[0];
    assert!(reject
        .get_child("reject", "urn:xmpp:rayo:1")
        .unwrap()
        .has_child("busy", "urn:xmpp:rayo:1"));
    let out = command(
        &mut h,
        JULIET,
        &format!("live@{EXT}"),
        "m",
        "<mute xmlns='urn:xmpp:rayo:1'/>",
    );
    answer(&mut h, 0, &on(&out, 0, "mute")[0], "");
    assert_eq!(h.gw.calls_left(Some(NODES[0])), 1);
    // At the maximum drain time, what is left is hung up.
    let out = h.advance(Duration::from_secs(60));
    let hangups = on(&out, 0, "hangup");
    assert_eq!(hangups.len(), 1);
    assert_eq!(
        hangups[0].attr("to"),
        Some(format!("live@{}", NODES[0]).as_str())
    );
}

#[test]
fn a_draining_gateway_refuses_dials_and_offers() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.client_available(JULIET);
    let now = h.now;
    h.gw.drain(now, Duration::from_secs(10));
    assert!(h.gw.is_draining());
    let out = command(&mut h, JULIET, EXT, "d", DIAL);
    let e = one_on(&out, CLIENTS);
    assert_eq!(condition(&e), "service-unavailable");
    let out = offer(&mut h, 2, "new", "tel:+18005550000");
    assert!(sent_on(&out, CLIENTS).is_empty());
    assert_eq!(on(&out, 2, "reject").len(), 1);
    assert_eq!(h.gw.calls_left(None), 0);
}
