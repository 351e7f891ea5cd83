//! A controlling client lost mid-call: its application's policy hangs its calls up at once,
//! or keeps them for a grace period and hangs them up only if it does not come back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use minidom::Element;
use rayo_cluster::{Distribution, Output, DEFAULT_ORPHAN_GRACE};

const JULIET: &str = "juliet@capulet.lit/balcony";
const ROMEO: &str = "romeo@montague.lit/orchard";

fn accepted(h: &mut Harness, call: &str, called: &str, who: &str) {
    offer(h, 0, call, called);
    let out = command(
        h,
        who,
        &format!("{call}@{EXT}"),
        "a",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    let inner = one_on(&out, node_link(0));
    answer(h, 0, &inner, "");
}

fn hangups(out: &[Output]) -> Vec<Element> {
    sent_on(out, node_link(0))
        .into_iter()
        .filter(|s| s.has_child("hangup", "urn:xmpp:rayo:1"))
        .collect()
}

fn unavailable(h: &mut Harness, who: &str) -> Vec<Output> {
    h.client(&format!(
        "<presence xmlns='jabber:client' from='{who}' to='{EXT}' type='unavailable'/>"
    ))
}

#[test]
fn hangup_policy_hangs_up_at_once() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.client_available(ROMEO);
    accepted(&mut h, "c2", "tel:+19005550000", ROMEO);
    let out = unavailable(&mut h, ROMEO);
    let hangup = hangups(&out);
    assert_eq!(hangup.len(), 1);
    assert_eq!(
        hangup[0].attr("to"),
        Some(format!("c2@{}", NODES[0]).as_str())
    );
    assert_eq!(hangup[0].attr("from"), Some(INT));
}

#[test]
fn keep_policy_waits_for_the_client_then_hangs_up() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.client_available(JULIET);
    accepted(&mut h, "c1", "tel:+18005550000", JULIET);
    assert!(hangups(&unavailable(&mut h, JULIET)).is_empty());
    assert!(hangups(&h.advance(DEFAULT_ORPHAN_GRACE - Duration::from_millis(1))).is_empty());
    let out = h.advance(Duration::from_millis(1));
    assert_eq!(hangups(&out).len(), 1, "hung up when the grace period ends");
}

#[test]
fn keep_policy_keeps_the_call_of_a_client_that_comes_back() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.client_available(JULIET);
    accepted(&mut h, "c1", "tel:+18005550000", JULIET);
    unavailable(&mut h, JULIET);
    h.advance(DEFAULT_ORPHAN_GRACE / 2);
    h.client_available(JULIET);
    assert!(hangups(&h.advance(DEFAULT_ORPHAN_GRACE)).is_empty());
    // And she still controls it.
    let out = command(
        &mut h,
        JULIET,
        &format!("c1@{EXT}"),
        "h",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(hangups(&out).len(), 1);
}

#[test]
fn reoffer_policy_hands_the_call_to_another_resource() {
    let mut cfg = config(Distribution::All);
    cfg.applications[0].on_client_lost = rayo_cluster::ClientLoss::Reoffer(DEFAULT_ORPHAN_GRACE);
    let mut h = Harness::with_nodes(cfg);
    h.client_available(JULIET);
    accepted(&mut h, "c1", "tel:+18005550000", JULIET);
    let other = "juliet@capulet.lit/courtyard";
    h.client_available(other);
    let out = unavailable(&mut h, JULIET);
    assert!(hangups(&out).is_empty());
    let again = one_on(&out, CLIENTS);
    assert_eq!(again.attr("to"), Some(other));
    assert_eq!(again.attr("from"), Some("c1@shakespeare.lit"));
    assert!(again.has_child("offer", "urn:xmpp:rayo:1"));
    // The other resource now controls the call; the lost one does not.
    let out = command(
        &mut h,
        other,
        &format!("c1@{EXT}"),
        "h",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(hangups(&out).len(), 1);
    h.client_available(JULIET);
    let out = command(
        &mut h,
        JULIET,
        &format!("c1@{EXT}"),
        "h2",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "conflict");
}

#[test]
fn reoffer_with_nobody_else_keeps_the_call_for_the_grace_period() {
    let mut cfg = config(Distribution::All);
    cfg.applications[0].on_client_lost = rayo_cluster::ClientLoss::Reoffer(DEFAULT_ORPHAN_GRACE);
    let mut h = Harness::with_nodes(cfg);
    h.client_available(JULIET);
    accepted(&mut h, "c1", "tel:+18005550000", JULIET);
    let out = unavailable(&mut h, JULIET);
    assert!(hangups(&out).is_empty());
    assert!(sent_on(&out, CLIENTS).is_empty());
    assert_eq!(hangups(&h.advance(DEFAULT_ORPHAN_GRACE)).len(), 1);
}
