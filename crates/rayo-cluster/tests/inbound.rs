//! Inbound calls: an offer goes to the application owning the called URI, spread over its
//! available clients (XEP-0354 `all` or `roundrobin`); the first command wins the call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use rayo_cluster::{Distribution, Output, Store, DEFAULT_OFFER_TIMEOUT};

fn juliets(h: &mut Harness, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let j = format!("juliet@capulet.lit/r{i}");
            h.client_available(&j);
            j
        })
        .collect()
}

#[test]
fn all_offers_to_every_resource_and_the_first_accept_wins() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let js = juliets(&mut h, 2);
    let out = offer(&mut h, 0, "c1", "tel:+18005550000");
    let offered: Vec<_> = sent_on(&out, CLIENTS)
        .iter()
        .map(|s| s.attr("to").unwrap().to_owned())
        .collect();
    assert_eq!(offered, js);
    let out = command(
        &mut h,
        &js[1],
        "c1@shakespeare.lit",
        "a",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(
        sent_on(&out, node_link(0)).len(),
        1,
        "the winner's accept goes to the node"
    );
    let out = command(
        &mut h,
        &js[0],
        "c1@shakespeare.lit",
        "b",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    let e = one_on(&out, CLIENTS);
    assert_eq!(condition(&e), "conflict");
    assert_eq!(e.attr("from"), Some("c1@shakespeare.lit"));
    assert!(
        sent_on(&out, node_link(0)).is_empty(),
        "the loser's never reaches the node"
    );
    // Events now go to the winner only.
    let out = h.node(0, &format!("<presence xmlns='jabber:client' from='c1@{}' to='{INT}'><answered xmlns='urn:xmpp:rayo:1'/></presence>", NODES[0]));
    assert_eq!(one_on(&out, CLIENTS).attr("to"), Some(js[1].as_str()));
}

#[test]
fn roundrobin_spreads_offers_evenly_over_resources() {
    let mut h = Harness::with_nodes(config(Distribution::RoundRobin));
    let js = juliets(&mut h, 3);
    let mut counts = [0; 3];
    for c in 0..30 {
        let out = offer(&mut h, c % 3, &format!("c{c}"), "tel:+18005550000");
        let o = one_on(&out, CLIENTS);
        let at = js
            .iter()
            .position(|j| Some(j.as_str()) == o.attr("to"))
            .unwrap();
        counts[at] += 1;
    }
    assert_eq!(counts, [10, 10, 10]);
}

#[test]
fn a_busy_client_is_not_offered_and_another_application_cannot_command() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let js = juliets(&mut h, 2);
    h.client(&format!(
        "<presence xmlns='jabber:client' from='{}' to='{EXT}'><show>dnd</show></presence>",
        js[0]
    ));
    h.client_available("romeo@montague.lit/orchard");
    let out = offer(&mut h, 0, "c1", "tel:+18005550000");
    assert_eq!(one_on(&out, CLIENTS).attr("to"), Some(js[1].as_str()));
    // Romeo (another application) was never offered the call: conflict, as a node answers.
    let out = command(
        &mut h,
        "romeo@montague.lit/orchard",
        "c1@shakespeare.lit",
        "x",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "conflict");
    assert!(sent_on(&out, node_link(0)).is_empty());
    // After going unavailable, Juliet's second resource gets no more offers.
    h.client(&format!(
        "<presence xmlns='jabber:client' from='{}' to='{EXT}' type='unavailable'/>",
        js[1]
    ));
    let out = offer(&mut h, 0, "c2", "tel:+18005550000");
    assert!(sent_on(&out, CLIENTS).is_empty());
}

#[test]
fn an_unowned_number_is_declined_and_an_application_with_nobody_rejects_with_error() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.client_available("juliet@capulet.lit/r0");
    for (called, reason) in [("tel:+4420", "decline"), ("tel:+19005550000", "error")] {
        let out = offer(&mut h, 1, "c9", called);
        assert!(sent_on(&out, CLIENTS).is_empty(), "{called}");
        let reject = one_on(&out, node_link(1));
        assert_eq!(reject.attr("to"), Some(format!("c9@{}", NODES[1]).as_str()));
        assert_eq!(reject.attr("from"), Some(INT));
        let r = reject.get_child("reject", "urn:xmpp:rayo:1").unwrap();
        assert!(r.has_child(reason, "urn:xmpp:rayo:1"), "{called}: {reason}");
        // The node's result to the gateway's own reject goes nowhere.
        assert!(answer(&mut h, 1, &reject, "").is_empty());
    }
}

#[test]
fn an_unclaimed_offer_moves_on_to_the_next_resource_after_its_timeout() {
    let mut h = Harness::with_nodes(config(Distribution::RoundRobin));
    let js = juliets(&mut h, 2);
    let out = offer(&mut h, 0, "c1", "tel:+18005550000");
    let first = one_on(&out, CLIENTS).attr("to").unwrap().to_owned();
    let second = js.iter().find(|j| **j != first).unwrap().clone();
    assert!(h
        .advance(DEFAULT_OFFER_TIMEOUT - Duration::from_millis(1))
        .iter()
        .all(|o| !matches!(o, Output::Send { link, .. } if *link == CLIENTS)));
    let out = h.advance(Duration::from_millis(1));
    let to_clients = sent_on(&out, CLIENTS);
    assert_eq!(to_clients.len(), 2, "{to_clients:#?}");
    let end = &to_clients[0];
    assert_eq!(end.attr("to"), Some(first.as_str()));
    assert_eq!(end.attr("type"), Some("unavailable"));
    assert!(end
        .get_child("end", "urn:xmpp:rayo:1")
        .unwrap()
        .has_child("timeout", "urn:xmpp:rayo:1"));
    let again = &to_clients[1];
    assert_eq!(again.attr("to"), Some(second.as_str()));
    assert_eq!(again.attr("from"), Some("c1@shakespeare.lit"));
    assert!(again.has_child("offer", "urn:xmpp:rayo:1"));
    // The first one is too late; the second one gets the call.
    let out = command(
        &mut h,
        &first,
        "c1@shakespeare.lit",
        "a",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "conflict");
    let out = command(
        &mut h,
        &second,
        "c1@shakespeare.lit",
        "b",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(sent_on(&out, node_link(0)).len(), 1);
    // Claimed: no more timeouts.
    let out = h.advance(DEFAULT_OFFER_TIMEOUT);
    assert!(
        sent_on(&out, CLIENTS).iter().all(|s| s.name() == "iq"),
        "only the accept's timeout"
    );
}

#[test]
fn an_offer_nobody_claims_is_rejected_at_the_node() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let js = juliets(&mut h, 1);
    offer(&mut h, 2, "c1", "tel:+18005550000");
    let out = h.advance(DEFAULT_OFFER_TIMEOUT);
    let end = one_on(&out, CLIENTS);
    assert_eq!(end.attr("to"), Some(js[0].as_str()));
    let reject = sent_on(&out, node_link(2))
        .into_iter()
        .find(|s| s.has_child("reject", "urn:xmpp:rayo:1"))
        .unwrap();
    assert_eq!(reject.attr("to"), Some(format!("c1@{}", NODES[2]).as_str()));
    assert!(reject
        .get_child("reject", "urn:xmpp:rayo:1")
        .unwrap()
        .has_child("error", "urn:xmpp:rayo:1"));
    // The node's end event then reaches nobody, and ends the call at the gateway.
    let out = h.node(2, &format!("<presence xmlns='jabber:client' from='c1@{}' to='{INT}' type='unavailable'><end xmlns='urn:xmpp:rayo:1'><error/></end></presence>", NODES[2]));
    assert!(sent_on(&out, CLIENTS).is_empty());
    assert_eq!(h.gw.store().call("c1").unwrap(), None);
}

fn cmr(h: &mut Harness, from: &str, kind: &str, payload: &str) -> minidom::Element {
    let out = h.client(&format!(
        "<iq xmlns='jabber:client' from='{from}' to='{EXT}' type='{kind}' id='cmr1'>{payload}</iq>"
    ));
    one_on(&out, CLIENTS)
}

#[test]
fn cmr_get_and_set_round_trip_and_govern_how_offers_spread() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let js = juliets(&mut h, 3);
    // XEP-0354 §5.2: one active algorithm, the available ones.
    let r = cmr(&mut h, &js[0], "get", "<query xmlns='urn:xmpp:cmr:0'/>");
    assert_eq!(r.attr("type"), Some("result"));
    assert_eq!(r.attr("id"), Some("cmr1"));
    let q = r.get_child("query", "urn:xmpp:cmr:0").unwrap();
    let active: Vec<_> = q.children().filter(|c| c.name() == "active").collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].attr("algorithm"), Some("urn:xmpp:cmr:all"));
    let available: Vec<_> = q
        .children()
        .filter(|c| c.name() == "available")
        .filter_map(|c| c.attr("algorithm"))
        .collect();
    assert_eq!(
        available,
        [
            "urn:xmpp:cmr:all",
            "urn:xmpp:cmr:mostactive",
            "urn:xmpp:cmr:roundrobin",
            "urn:xmpp:cmr:weighted"
        ]
    );
    // `all` offers to all three.
    assert_eq!(
        sent_on(&offer(&mut h, 0, "c0", "tel:+18005550000"), CLIENTS).len(),
        3
    );
    // An algorithm the gateway does not implement: not-allowed (§5.3, example 7).
    let r = cmr(
        &mut h,
        &js[1],
        "set",
        "<cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:forkalways'/>",
    );
    assert_eq!(condition(&r), "not-allowed");
    // Round robin, set from one resource, holds for the bare JID: 30 offers land 10/10/10.
    let r = cmr(
        &mut h,
        &js[1],
        "set",
        "<cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:roundrobin'/>",
    );
    assert_eq!(r.attr("type"), Some("result"));
    let r = cmr(&mut h, &js[2], "get", "<query xmlns='urn:xmpp:cmr:0'/>");
    let q = r.get_child("query", "urn:xmpp:cmr:0").unwrap();
    assert_eq!(
        q.get_child("active", "urn:xmpp:cmr:0")
            .unwrap()
            .attr("algorithm"),
        Some("urn:xmpp:cmr:roundrobin")
    );
    let mut counts = [0; 3];
    for c in 1..=30 {
        let out = offer(&mut h, c % 3, &format!("c{c}"), "tel:+18005550000");
        let o = one_on(&out, CLIENTS);
        counts[js
            .iter()
            .position(|j| Some(j.as_str()) == o.attr("to"))
            .unwrap()] += 1;
    }
    assert_eq!(counts, [10, 10, 10]);
}

#[test]
fn weighted_follows_presence_priority_and_mostactive_the_latest_sender() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let js: Vec<String> = (1..=3)
        .map(|p| {
            let j = format!("juliet@capulet.lit/p{p}");
            h.client(&format!(
                "<presence xmlns='jabber:client' from='{j}' to='{EXT}'><priority>{p}</priority></presence>"
            ));
            j
        })
        .collect();
    cmr(
        &mut h,
        &js[0],
        "set",
        "<cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:weighted'/>",
    );
    let mut counts = [0; 3];
    for c in 0..60 {
        let o = one_on(
            &offer(&mut h, c % 3, &format!("w{c}"), "tel:+18005550000"),
            CLIENTS,
        );
        counts[js
            .iter()
            .position(|j| Some(j.as_str()) == o.attr("to"))
            .unwrap()] += 1;
    }
    assert_eq!(counts, [10, 20, 30]);

    cmr(
        &mut h,
        &js[0],
        "set",
        "<cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:mostactive'/>",
    );
    for who in [1, 0, 2] {
        h.now += Duration::from_millis(10);
        h.client(&format!(
            "<iq xmlns='jabber:client' from='{}' to='{EXT}' type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>",
            js[who]
        ));
        let o = one_on(
            &offer(&mut h, 0, &format!("m{who}"), "tel:+18005550000"),
            CLIENTS,
        );
        assert_eq!(o.attr("to"), Some(js[who].as_str()));
    }
}

#[test]
fn only_accept_answer_redirect_or_reject_claim_an_offered_call() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let js = juliets(&mut h, 2);
    offer(&mut h, 0, "c1", "tel:+18005550000");
    // A PCP's other command goes to the node without claiming the call.
    let out = command(
        &mut h,
        &js[0],
        "c1@shakespeare.lit",
        "q",
        "<output xmlns='urn:xmpp:rayo:output:1'/>",
    );
    assert_eq!(sent_on(&out, node_link(0)).len(), 1);
    // The other PCP's answer claims it; the first one is now refused.
    let out = command(
        &mut h,
        &js[1],
        "c1@shakespeare.lit",
        "a",
        "<answer xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(sent_on(&out, node_link(0)).len(), 1);
    let out = command(
        &mut h,
        &js[0],
        "c1@shakespeare.lit",
        "b",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "conflict");
}
