//! Rewriting across the gateway: XEP-0349's two example flows stanza by stanza, fresh ids on
//! the inner leg, URIs in payloads, timeouts, and the bound on pending requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use rayo_cluster::{Distribution, Store, DEFAULT_IQ_TIMEOUT};

const JULIET: &str = "juliet@capulet.lit/balcony";

#[test]
fn xep_0349_example_1_inbound_call() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.client_available(JULIET);
    // The node's offer reaches Juliet from the call under the external domain, caps and all.
    let out = offer(&mut h, 0, "9f00061", "tel:+18003211212");
    let o = one_on(&out, CLIENTS);
    assert_eq!(o.attr("from"), Some("9f00061@shakespeare.lit"));
    assert_eq!(o.attr("to"), Some(JULIET));
    assert!(o.has_child("c", "http://jabber.org/protocol/caps"));
    let payload = o.get_child("offer", "urn:xmpp:rayo:1").unwrap();
    assert_eq!(payload.attr("to"), Some("tel:+18003211212"));
    assert_eq!(payload.attr("from"), Some("tel:+13058881212"));

    // Her accept goes to the node from the internal domain, under a fresh id.
    let out = command(
        &mut h,
        JULIET,
        "9f00061@shakespeare.lit",
        "hd721",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    let inner = one_on(&out, node_link(0));
    assert_eq!(inner.attr("from"), Some(INT));
    assert_eq!(inner.attr("to"), Some("9f00061@node1.shakespeare.lit"));
    assert_eq!(inner.attr("type"), Some("set"));
    assert_ne!(
        inner.attr("id"),
        Some("hd721"),
        "the client's id is not reused"
    );
    assert!(inner.has_child("accept", "urn:xmpp:rayo:1"));

    // The node's result goes back to her with her id, from the call.
    let out = answer(&mut h, 0, &inner, "");
    let r = one_on(&out, CLIENTS);
    assert_eq!(r.attr("type"), Some("result"));
    assert_eq!(r.attr("id"), Some("hd721"));
    assert_eq!(r.attr("from"), Some("9f00061@shakespeare.lit"));
    assert_eq!(r.attr("to"), Some(JULIET));

    // Hangup, and the end event, which ends the call's state at the gateway.
    let out = command(
        &mut h,
        JULIET,
        "9f00061@shakespeare.lit",
        "f3wh8",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    let inner = one_on(&out, node_link(0));
    assert_eq!(
        one_on(&answer(&mut h, 0, &inner, ""), CLIENTS).attr("id"),
        Some("f3wh8")
    );
    let out = h.node(
        0,
        &format!(
            "<presence xmlns='jabber:client' from='9f00061@{}' to='{INT}' type='unavailable'>\
             <end xmlns='urn:xmpp:rayo:1'><hangup-command/></end></presence>",
            NODES[0]
        ),
    );
    let end = one_on(&out, CLIENTS);
    assert_eq!(end.attr("from"), Some("9f00061@shakespeare.lit"));
    assert_eq!(end.attr("to"), Some(JULIET));
    assert_eq!(end.attr("type"), Some("unavailable"));
    assert!(end
        .get_child("end", "urn:xmpp:rayo:1")
        .unwrap()
        .has_child("hangup-command", "urn:xmpp:rayo:1"));
    assert_eq!(h.gw.store().call("9f00061").unwrap(), None);
}

#[test]
fn xep_0349_example_2_outbound_call() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let out = command(
        &mut h,
        JULIET,
        EXT,
        "h7ed2",
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+13055195825' from='tel:+14152226789'/>",
    );
    let (i, inner) = (0..3)
        .find_map(|i| sent_on(&out, node_link(i)).pop().map(|s| (i, s)))
        .unwrap();
    assert_eq!(inner.attr("from"), Some(INT));
    assert_eq!(inner.attr("to"), Some(NODES[i]));
    let dial = inner.get_child("dial", "urn:xmpp:rayo:1").unwrap();
    assert_eq!(dial.attr("to"), Some("tel:+13055195825"));
    assert_eq!(dial.attr("from"), Some("tel:+14152226789"));
    // The node's ref names the call on the node: the client sees it under the external domain.
    let out = answer(
        &mut h,
        i,
        &inner,
        &format!(
            "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:9f00061@{}'/>",
            NODES[i]
        ),
    );
    let r = one_on(&out, CLIENTS);
    assert_eq!(r.attr("from"), Some(EXT));
    assert_eq!(r.attr("id"), Some("h7ed2"));
    assert_eq!(
        r.get_child("ref", "urn:xmpp:rayo:1").unwrap().attr("uri"),
        Some("xmpp:9f00061@shakespeare.lit")
    );
    // Events of the dialled call go to the dialler.
    for event in ["ringing", "answered"] {
        let out = h.node(
            i,
            &format!(
                "<presence xmlns='jabber:client' from='9f00061@{}' to='{INT}'>\
                 <{event} xmlns='urn:xmpp:rayo:1'/></presence>",
                NODES[i]
            ),
        );
        let e = one_on(&out, CLIENTS);
        assert_eq!(e.attr("from"), Some("9f00061@shakespeare.lit"));
        assert_eq!(e.attr("to"), Some(JULIET));
        assert!(e.has_child(event, "urn:xmpp:rayo:1"));
    }
    // And only the dialler commands it.
    let out = command(
        &mut h,
        "juliet@capulet.lit/other",
        "9f00061@shakespeare.lit",
        "x",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "conflict");
}

/// A dialled call on node `i`, controlled by Juliet.
fn dialled(h: &mut Harness, id: &str) -> usize {
    let out = command(
        h,
        JULIET,
        EXT,
        "d",
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'/>",
    );
    let (i, inner) = (0..3)
        .find_map(|i| sent_on(&out, node_link(i)).pop().map(|s| (i, s)))
        .unwrap();
    let uri = format!(
        "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:{id}@{}'/>",
        NODES[i]
    );
    answer(h, i, &inner, &uri);
    i
}

#[test]
fn components_and_joins_are_rewritten_both_ways() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let i = dialled(&mut h, "a");
    // A join to a second call on the same node (round robin over three nodes brings the
    // fourth dial back to the first one's): its call-uri goes in under the node's domain.
    dialled(&mut h, "x1");
    dialled(&mut h, "x2");
    let same = "b";
    assert_eq!(dialled(&mut h, same), i);
    let out = command(
        &mut h,
        JULIET,
        "a@shakespeare.lit",
        "j1",
        &format!("<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{same}@shakespeare.lit'/>"),
    );
    let inner = one_on(&out, node_link(i));
    let join = inner.get_child("join", "urn:xmpp:rayo:1").unwrap();
    assert_eq!(
        join.attr("call-uri"),
        Some(format!("xmpp:{same}@{}", NODES[i]).as_str())
    );
    answer(&mut h, i, &inner, "");
    // The joined event comes out under the external domain.
    let out = h.node(
        i,
        &format!(
            "<presence xmlns='jabber:client' from='a@{n}' to='{INT}'>\
             <joined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{same}@{n}'/></presence>",
            n = NODES[i]
        ),
    );
    let ev = one_on(&out, CLIENTS);
    assert_eq!(
        ev.get_child("joined", "urn:xmpp:rayo:1")
            .unwrap()
            .attr("call-uri"),
        Some(format!("xmpp:{same}@shakespeare.lit").as_str())
    );
    // A component: its ref, its events, its complete.
    let out = command(&mut h, JULIET, "a@shakespeare.lit", "o1", "<output xmlns='urn:xmpp:rayo:output:1'><document content-type='text/plain'><![CDATA[hi]]></document></output>");
    let inner = one_on(&out, node_link(i));
    let out = answer(
        &mut h,
        i,
        &inner,
        &format!(
            "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:a@{}/out1'/>",
            NODES[i]
        ),
    );
    let r = one_on(&out, CLIENTS);
    assert_eq!(
        r.get_child("ref", "urn:xmpp:rayo:1").unwrap().attr("uri"),
        Some("xmpp:a@shakespeare.lit/out1")
    );
    let out = command(
        &mut h,
        JULIET,
        "a@shakespeare.lit/out1",
        "s1",
        "<stop xmlns='urn:xmpp:rayo:ext:1'/>",
    );
    let inner = one_on(&out, node_link(i));
    assert_eq!(
        inner.attr("to"),
        Some(format!("a@{}/out1", NODES[i]).as_str())
    );
    answer(&mut h, i, &inner, "");
    let out = h.node(
        i,
        &format!(
            "<presence xmlns='jabber:client' from='a@{}/out1' to='{INT}' type='unavailable'>\
             <complete xmlns='urn:xmpp:rayo:ext:1'><stop xmlns='urn:xmpp:rayo:ext:complete:1'/></complete></presence>",
            NODES[i]
        ),
    );
    let c = one_on(&out, CLIENTS);
    assert_eq!(c.attr("from"), Some("a@shakespeare.lit/out1"));
    assert_eq!(c.attr("to"), Some(JULIET));
}

#[test]
fn a_join_across_nodes_is_refused() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let i = dialled(&mut h, "a");
    let j = dialled(&mut h, "b");
    assert_ne!(i, j, "round robin put them on two nodes");
    let out = command(
        &mut h,
        JULIET,
        "a@shakespeare.lit",
        "j1",
        "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@shakespeare.lit'/>",
    );
    let e = one_on(&out, CLIENTS);
    assert_eq!(condition(&e), "not-acceptable");
    assert!(sent_on(&out, node_link(i)).is_empty());
}

#[test]
fn an_unanswered_command_times_out_with_remote_server_timeout() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let i = dialled(&mut h, "a");
    let out = command(
        &mut h,
        JULIET,
        "a@shakespeare.lit",
        "h1",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    let inner = one_on(&out, node_link(i));
    let out = h.advance(DEFAULT_IQ_TIMEOUT - Duration::from_millis(1));
    assert!(sent_on(&out, CLIENTS).is_empty());
    let out = h.advance(Duration::from_millis(1));
    let e = one_on(&out, CLIENTS);
    assert_eq!(e.attr("id"), Some("h1"));
    assert_eq!(e.attr("from"), Some("a@shakespeare.lit"));
    assert_eq!(condition(&e), "remote-server-timeout");
    // A late answer is dropped.
    let out = answer(&mut h, i, &inner, "");
    assert!(sent_on(&out, CLIENTS).is_empty());
}

#[test]
fn pending_requests_are_bounded() {
    let mut cfg = config(Distribution::All);
    cfg.max_pending_iqs = 2;
    let mut h = Harness::with_nodes(cfg);
    let i = dialled(&mut h, "a");
    for n in 0..2 {
        let out = command(
            &mut h,
            JULIET,
            "a@shakespeare.lit",
            &format!("m{n}"),
            "<mute xmlns='urn:xmpp:rayo:1'/>",
        );
        assert_eq!(sent_on(&out, node_link(i)).len(), 1);
    }
    let out = command(
        &mut h,
        JULIET,
        "a@shakespeare.lit",
        "m3",
        "<mute xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "resource-constraint");
}

#[test]
fn no_node_jid_reaches_a_client_whatever_a_node_puts_in_its_events() {
    // Every attribute a Rayo event or result may carry a URI in, with node JIDs of every
    // shape (bare, full, as xmpp: URIs, percent-escaped). The harness checks every stanza
    // sent to the client side for node domains.
    let mut h = Harness::with_nodes(config(Distribution::All));
    let i = dialled(&mut h, "a");
    let n = NODES[i];
    let values = [
        format!("xmpp:a@{n}"),
        format!("xmpp:a@{n}/comp"),
        format!("xmpp:{n}"),
        format!("a@{n}"),
        format!("a@{n}/r"),
        format!("xmpp:a%40{n}"),
        format!("xmpp:b@{}", NODES[(i + 1) % 3]),
    ];
    let elements = [
        "ref",
        "joined",
        "unjoined",
        "started-speaking",
        "stopped-speaking",
        "foo",
    ];
    let mut sent = 0;
    for v in &values {
        for e in elements {
            for attr in ["uri", "call-uri", "jid", "x"] {
                let out = h.node(
                    i,
                    &format!(
                        "<presence xmlns='jabber:client' from='a@{n}' to='{INT}'>\
                         <{e} xmlns='urn:xmpp:rayo:1' {attr}='{v}'><nested {attr}='{v}'/></{e}></presence>"
                    ),
                );
                sent += sent_on(&out, CLIENTS).len();
            }
        }
    }
    assert_eq!(
        sent,
        values.len() * elements.len() * 4,
        "every event went out, rewritten"
    );
}

#[test]
fn a_ref_already_under_the_external_domain_is_taken_as_it_is() {
    // XEP-0349 example 2 shows the node's <ref/> with the external domain already.
    let mut h = Harness::with_nodes(config(Distribution::All));
    let out = command(
        &mut h,
        JULIET,
        EXT,
        "h7ed2",
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'/>",
    );
    let (i, inner) = (0..3)
        .find_map(|i| sent_on(&out, node_link(i)).pop().map(|s| (i, s)))
        .unwrap();
    let out = answer(
        &mut h,
        i,
        &inner,
        "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:9f00061@shakespeare.lit'/>",
    );
    let r = one_on(&out, CLIENTS);
    assert_eq!(
        r.get_child("ref", "urn:xmpp:rayo:1").unwrap().attr("uri"),
        Some("xmpp:9f00061@shakespeare.lit")
    );
    assert_eq!(
        h.gw.store().call("9f00061").unwrap().unwrap().node,
        NODES[i]
    );
    let out = command(
        &mut h,
        JULIET,
        "9f00061@shakespeare.lit",
        "x",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(
        one_on(&out, node_link(i)).attr("to"),
        Some(format!("9f00061@{}", NODES[i]).as_str())
    );
}
