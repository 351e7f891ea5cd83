//! The node registry: directed presence with caps `urn:xmpp:rayo:node:1` (XEP-0349 §4.2),
//! `chat` in rotation, `dnd` out, unavailable, link loss or unanswered pings failed; a failed
//! node's calls end for their clients with `<end><error/></end>`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use rayo_cluster::store::NodeStatus;
use rayo_cluster::Store;
use rayo_cluster::{
    Distribution, Input, Output, Refusal, DEFAULT_PING_INTERVAL, DEFAULT_PING_TIMEOUT,
};

#[test]
fn chat_puts_a_node_in_rotation_and_dnd_takes_it_out() {
    let mut h = Harness::new(config(Distribution::All));
    assert_eq!(h.gw.node_status(NODES[0]), None);
    assert!(h.node_show(0, "chat").is_empty(), "nothing is answered");
    assert!(h.gw.in_rotation(NODES[0]));
    h.node_show(0, "dnd");
    assert!(!h.gw.in_rotation(NODES[0]));
    assert_eq!(h.gw.node_status(NODES[0]), Some(NodeStatus::Busy));
    h.node_show(0, "chat");
    assert!(h.gw.in_rotation(NODES[0]));
    // Without the node caps, a presence registers nothing.
    let out = h.node(
        1,
        &format!(
            "<presence xmlns='jabber:client' from='{}' to='{INT}'><show>chat</show></presence>",
            NODES[1]
        ),
    );
    assert!(matches!(
        out.as_slice(),
        [Output::Dropped {
            reason: Refusal::Unhandled,
            ..
        }]
    ));
    assert!(!h.gw.in_rotation(NODES[1]));
}

#[test]
fn unavailable_or_a_lost_link_fails_a_node() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.node(
        0,
        &format!(
            "<presence xmlns='jabber:client' from='{}' to='{INT}' type='unavailable'/>",
            NODES[0]
        ),
    );
    assert_eq!(h.gw.node_status(NODES[0]), Some(NodeStatus::Failed));
    h.input(Input::LinkDown { link: node_link(1) });
    assert_eq!(h.gw.node_status(NODES[1]), Some(NodeStatus::Failed));
    assert!(h.gw.in_rotation(NODES[2]));
    // A failed node rejoins rotation when it presents itself again.
    h.node_show(0, "chat");
    assert!(h.gw.in_rotation(NODES[0]));
}

#[test]
fn nodes_are_pinged_and_one_that_does_not_answer_is_failed() {
    let mut h = Harness::new(config(Distribution::All));
    h.auto_pong = false;
    h.node_show(0, "chat");
    h.node_show(1, "chat");
    assert!(h
        .advance(DEFAULT_PING_INTERVAL - Duration::from_millis(1))
        .is_empty());
    let out = h.advance(Duration::from_millis(1));
    let ping0 = one_on(&out, node_link(0));
    let ping1 = one_on(&out, node_link(1));
    for (p, n) in [(&ping0, NODES[0]), (&ping1, NODES[1])] {
        assert_eq!(p.attr("type"), Some("get"));
        assert_eq!(p.attr("from"), Some(INT));
        assert_eq!(p.attr("to"), Some(n));
        assert!(p.has_child("ping", "urn:xmpp:ping"));
    }
    assert_ne!(ping0.attr("id"), ping1.attr("id"), "fresh ids");
    // node1 answers, node2 does not.
    assert!(answer(&mut h, 0, &ping0, "").is_empty());
    h.advance(DEFAULT_PING_TIMEOUT);
    assert!(h.gw.in_rotation(NODES[0]));
    assert_eq!(h.gw.node_status(NODES[1]), Some(NodeStatus::Failed));
    // A failed node is not pinged any more; the live one is, at every interval.
    let out = h.advance(DEFAULT_PING_INTERVAL - DEFAULT_PING_TIMEOUT);
    assert_eq!(sent_on(&out, node_link(0)).len(), 1);
    assert!(sent_on(&out, node_link(1)).is_empty());
}

#[test]
fn an_answer_from_another_node_or_to_nothing_is_dropped() {
    let mut h = Harness::new(config(Distribution::All));
    h.auto_pong = false;
    h.node_show(0, "chat");
    h.node_show(1, "chat");
    let out = h.advance(DEFAULT_PING_INTERVAL);
    let ping0 = one_on(&out, node_link(0));
    // node2 answers node1's ping: not taken, node1 still fails.
    let forged = format!(
        "<iq xmlns='jabber:client' from='{}' to='{INT}' type='result' id='{}'/>",
        NODES[1],
        ping0.attr("id").unwrap()
    );
    let out = h.node(1, &forged);
    assert!(matches!(
        out.as_slice(),
        [Output::Dropped {
            reason: Refusal::Unsolicited,
            ..
        }]
    ));
    h.advance(DEFAULT_PING_TIMEOUT);
    assert_eq!(h.gw.node_status(NODES[0]), Some(NodeStatus::Failed));
}

#[test]
fn a_lost_node_ends_each_of_its_calls_with_error_for_its_client() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.client_available("juliet@capulet.lit/balcony");
    offer(&mut h, 0, "9f00061", "tel:+18003211212");
    command(
        &mut h,
        "juliet@capulet.lit/balcony",
        "9f00061@shakespeare.lit",
        "a1",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    // A call on another node is not touched.
    offer(&mut h, 1, "other", "tel:+18003211212");
    let out = h.input(Input::LinkDown { link: node_link(0) });
    // The accept was pending at the node: answered remote-server-timeout.
    let to_client = sent_on(&out, CLIENTS);
    assert_eq!(to_client.len(), 2, "{to_client:#?}");
    let timeout = to_client.iter().find(|s| s.name() == "iq").unwrap();
    assert_eq!(timeout.attr("id"), Some("a1"));
    assert_eq!(condition(timeout), "remote-server-timeout");
    let end = to_client.iter().find(|s| s.name() == "presence").unwrap();
    assert_eq!(end.attr("type"), Some("unavailable"));
    assert_eq!(end.attr("from"), Some("9f00061@shakespeare.lit"));
    assert_eq!(end.attr("to"), Some("juliet@capulet.lit/balcony"));
    let reason = end.get_child("end", "urn:xmpp:rayo:1").unwrap();
    assert!(reason.has_child("error", "urn:xmpp:rayo:1"));
    // The call is gone: a command to it is item-not-found.
    let out = command(
        &mut h,
        "juliet@capulet.lit/balcony",
        "9f00061@shakespeare.lit",
        "a2",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "item-not-found");
    assert!(h.gw.store().call("other").unwrap().is_some());
}

#[test]
fn an_offer_from_a_node_that_never_presented_itself_is_rejected_there() {
    let mut h = Harness::new(config(Distribution::All));
    h.client_available("juliet@capulet.lit/balcony");
    let out = offer(&mut h, 0, "early", "tel:+18005550000");
    assert!(sent_on(&out, CLIENTS).is_empty());
    let reject = one_on(&out, node_link(0));
    assert_eq!(
        reject.attr("to"),
        Some(format!("early@{}", NODES[0]).as_str())
    );
    assert!(reject
        .get_child("reject", "urn:xmpp:rayo:1")
        .unwrap()
        .has_child("busy", "urn:xmpp:rayo:1"));
    // And it is in no rotation for dials either.
    let out = h.client(&format!(
        "<iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' to='{EXT}' type='set' id='d'>\
         <dial xmlns='urn:xmpp:rayo:1' to='tel:+1'/></iq>"
    ));
    assert_eq!(condition(&one_on(&out, CLIENTS)), "service-unavailable");
}
