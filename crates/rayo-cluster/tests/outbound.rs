//! Outbound calls: dials by round robin over the nodes in rotation, retried on another node
//! when one fails, pinned to the node of a nested join's call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use minidom::Element;
use rayo_cluster::{
    Distribution, DEFAULT_DIAL_TIMEOUT, DEFAULT_MAX_DIAL_TRIES, DEFAULT_NODE_FAILURES_OUT,
    DEFAULT_NODE_PINGS_BACK, DEFAULT_PING_INTERVAL,
};

const JULIET: &str = "juliet@capulet.lit/balcony";
const DIAL: &str = "<dial xmlns='urn:xmpp:rayo:1' to='tel:+13055195825'/>";

/// The node a dial went to, with the request.
fn dialled_to(out: &[rayo_cluster::Output]) -> Option<(usize, Element)> {
    (0..3).find_map(|i| {
        sent_on(out, node_link(i))
            .into_iter()
            .find(|s| s.has_child("dial", "urn:xmpp:rayo:1"))
            .map(|s| (i, s))
    })
}

#[test]
fn thirty_dials_land_ten_per_node_and_none_on_a_dnd_node() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let mut counts = [0; 3];
    for d in 0..30 {
        let out = command(&mut h, JULIET, EXT, &format!("d{d}"), DIAL);
        counts[dialled_to(&out).unwrap().0] += 1;
    }
    assert_eq!(counts, [10, 10, 10]);
    h.node_show(1, "dnd");
    let mut counts = [0; 3];
    for d in 0..30 {
        let out = command(&mut h, JULIET, EXT, &format!("e{d}"), DIAL);
        counts[dialled_to(&out).unwrap().0] += 1;
    }
    assert_eq!(counts, [15, 0, 15]);
}

#[test]
fn a_bounced_dial_is_retried_on_another_node() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let out = command(&mut h, JULIET, EXT, "d1", DIAL);
    let (first, req) = dialled_to(&out).unwrap();
    let out = answer_error(&mut h, first, &req, "service-unavailable");
    assert!(
        sent_on(&out, CLIENTS).is_empty(),
        "the client sees nothing of the retry"
    );
    let (second, _) = dialled_to(&out).unwrap();
    assert_ne!(first, second);
    // The second node does not answer in time: a third is tried.
    let out = h.advance(DEFAULT_DIAL_TIMEOUT);
    let (third, req3) = dialled_to(&out).unwrap();
    assert!(third != first && third != second);
    let out = answer(
        &mut h,
        third,
        &req3,
        &format!(
            "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:z@{}'/>",
            NODES[third]
        ),
    );
    let r = one_on(&out, CLIENTS);
    assert_eq!(r.attr("id"), Some("d1"));
    assert_eq!(
        r.get_child("ref", "urn:xmpp:rayo:1").unwrap().attr("uri"),
        Some("xmpp:z@shakespeare.lit")
    );
}

#[test]
fn a_dial_gives_up_after_the_most_tries_and_other_errors_are_not_retried() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let out = command(&mut h, JULIET, EXT, "d1", DIAL);
    let (mut i, mut req) = dialled_to(&out).unwrap();
    for _ in 1..DEFAULT_MAX_DIAL_TRIES {
        let out = answer_error(&mut h, i, &req, "internal-server-error");
        (i, req) = dialled_to(&out).unwrap();
    }
    let out = answer_error(&mut h, i, &req, "internal-server-error");
    let e = one_on(&out, CLIENTS);
    assert_eq!(e.attr("id"), Some("d1"));
    assert_eq!(e.attr("from"), Some(EXT));
    assert_eq!(condition(&e), "internal-server-error");
    // A refusal of the dial itself (bad-request) is the client's to see at once.
    let out = command(&mut h, JULIET, EXT, "d2", DIAL);
    let (i, req) = dialled_to(&out).unwrap();
    let out = answer_error(&mut h, i, &req, "bad-request");
    assert_eq!(condition(&one_on(&out, CLIENTS)), "bad-request");
}

#[test]
fn dials_need_a_node_and_an_application_that_may_dial() {
    let mut h = Harness::new(config(Distribution::All));
    let out = command(&mut h, JULIET, EXT, "d1", DIAL);
    assert_eq!(condition(&one_on(&out, CLIENTS)), "service-unavailable");
    h.node_show(0, "chat");
    let out = command(&mut h, "romeo@montague.lit/orchard", EXT, "d2", DIAL);
    assert_eq!(condition(&one_on(&out, CLIENTS)), "forbidden");
    let out = command(&mut h, "nobody@else.lit/x", EXT, "d3", DIAL);
    assert_eq!(condition(&one_on(&out, CLIENTS)), "forbidden");
}

#[test]
fn a_dial_with_a_nested_join_goes_to_the_node_of_its_call() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let out = command(&mut h, JULIET, EXT, "d1", DIAL);
    let (i, req) = dialled_to(&out).unwrap();
    answer(
        &mut h,
        i,
        &req,
        &format!("<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:a@{}'/>", NODES[i]),
    );
    for n in 0..4 {
        let out = command(
            &mut h,
            JULIET,
            EXT,
            &format!("j{n}"),
            "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'><join call-uri='xmpp:a@shakespeare.lit'/></dial>",
        );
        let (j, req) = dialled_to(&out).unwrap();
        assert_eq!(j, i, "pinned to the joined call's node");
        let join = req
            .get_child("dial", "urn:xmpp:rayo:1")
            .unwrap()
            .get_child("join", "urn:xmpp:rayo:1")
            .unwrap();
        assert_eq!(
            join.attr("call-uri"),
            Some(format!("xmpp:a@{}", NODES[i]).as_str())
        );
    }
}

#[test]
fn a_node_that_keeps_failing_leaves_rotation_and_comes_back_after_good_pings() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    // node1 bounces every dial it gets; the others take them.
    let mut bounced = 0;
    let mut d = 0;
    while bounced < DEFAULT_NODE_FAILURES_OUT {
        d += 1;
        let out = command(&mut h, JULIET, EXT, &format!("d{d}"), DIAL);
        let (i, req) = dialled_to(&out).unwrap();
        if i == 0 {
            bounced += 1;
            let out = answer_error(&mut h, 0, &req, "service-unavailable");
            let (j, req) = dialled_to(&out).unwrap();
            answer(
                &mut h,
                j,
                &req,
                &format!(
                    "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:x{d}@{}'/>",
                    NODES[j]
                ),
            );
        } else {
            answer(
                &mut h,
                i,
                &req,
                &format!(
                    "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:x{d}@{}'/>",
                    NODES[i]
                ),
            );
        }
    }
    assert!(
        !h.gw.in_rotation(NODES[0]),
        "out after {DEFAULT_NODE_FAILURES_OUT} failures"
    );
    for n in 0..12 {
        let out = command(&mut h, JULIET, EXT, &format!("e{n}"), DIAL);
        assert_ne!(
            dialled_to(&out).unwrap().0,
            0,
            "no dial for a suspended node"
        );
    }
    // It still says chat: that does not bring it back; answered pings do.
    h.node_show(0, "chat");
    assert!(!h.gw.in_rotation(NODES[0]));
    for _ in 0..DEFAULT_NODE_PINGS_BACK {
        h.advance(DEFAULT_PING_INTERVAL);
    }
    assert!(
        h.gw.in_rotation(NODES[0]),
        "back after {DEFAULT_NODE_PINGS_BACK} good pings"
    );
    let hits = (0..3)
        .filter(|n| {
            let out = command(&mut h, JULIET, EXT, &format!("f{n}"), DIAL);
            dialled_to(&out).unwrap().0 == 0
        })
        .count();
    assert_eq!(hits, 1, "one in three dials again");
}

#[test]
fn an_application_is_held_to_its_call_and_dial_rate_limits() {
    let mut cfg = config(Distribution::All);
    cfg.applications[0].max_calls = Some(2);
    let mut h = Harness::with_nodes(cfg);
    h.client_available(JULIET);
    // Two dials in flight, then one call up: the third is refused.
    let out = command(&mut h, JULIET, EXT, "d1", DIAL);
    let (i, req) = dialled_to(&out).unwrap();
    answer(
        &mut h,
        i,
        &req,
        &format!("<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:a@{}'/>", NODES[i]),
    );
    let out = command(&mut h, JULIET, EXT, "d2", DIAL);
    assert!(dialled_to(&out).is_some());
    let out = command(&mut h, JULIET, EXT, "d3", DIAL);
    assert_eq!(condition(&one_on(&out, CLIENTS)), "resource-constraint");
    // An offer beyond the limit is rejected busy.
    let out = offer(&mut h, 0, "in1", "tel:+18005550000");
    assert!(sent_on(&out, CLIENTS).is_empty());
    // When the call ends there is room again.
    h.node(i, &format!("<presence xmlns='jabber:client' from='a@{}' to='{INT}' type='unavailable'><end xmlns='urn:xmpp:rayo:1'><hangup/></end></presence>", NODES[i]));
    let out = command(&mut h, JULIET, EXT, "d4", DIAL);
    assert!(dialled_to(&out).is_some());

    let mut cfg = config(Distribution::All);
    cfg.applications[0].max_dials_per_second = Some(3);
    let mut h = Harness::with_nodes(cfg);
    for d in 0..3 {
        assert!(dialled_to(&command(&mut h, JULIET, EXT, &format!("r{d}"), DIAL)).is_some());
    }
    let out = command(&mut h, JULIET, EXT, "r3", DIAL);
    assert_eq!(condition(&one_on(&out, CLIENTS)), "resource-constraint");
    h.advance(std::time::Duration::from_secs(1));
    assert!(dialled_to(&command(&mut h, JULIET, EXT, "r4", DIAL)).is_some());
}

#[test]
fn dials_in_proportion_to_weights() {
    let mut cfg = config(Distribution::All);
    cfg.balance = rayo_cluster::Balance::Weighted;
    cfg.node_weights = vec![
        (NODES[0].into(), 1),
        (NODES[1].into(), 2),
        (NODES[2].into(), 3),
    ];
    let mut h = Harness::with_nodes(cfg);
    let mut counts = [0; 3];
    for d in 0..60 {
        counts[dialled_to(&command(&mut h, JULIET, EXT, &format!("w{d}"), DIAL))
            .unwrap()
            .0] += 1;
    }
    assert_eq!(counts, [10, 20, 30]);
}

#[test]
fn least_active_dials_go_to_the_emptiest_node() {
    let mut cfg = config(Distribution::All);
    cfg.balance = rayo_cluster::Balance::LeastActive;
    let mut h = Harness::with_nodes(cfg);
    h.client_available(JULIET);
    // Two calls on node1.
    offer(&mut h, 0, "i1", "tel:+18005550000");
    offer(&mut h, 0, "i2", "tel:+18005550000");
    // Dials in flight count: four dials fill node2 and node3 up to node1's two.
    let mut counts = [0; 3];
    for d in 0..4 {
        counts[dialled_to(&command(&mut h, JULIET, EXT, &format!("l{d}"), DIAL))
            .unwrap()
            .0] += 1;
    }
    assert_eq!(counts, [0, 2, 2]);
    let out = command(&mut h, JULIET, EXT, "l4", DIAL);
    assert!(dialled_to(&out).is_some(), "then all equal: any of them");
}

/// A node that answers a dial after its timeout (the dial went to another node) has placed
/// a call nobody controls: the gateway hangs it up, and the client hears nothing of it.
#[test]
fn a_dial_answered_after_its_timeout_is_hung_up_at_its_node() {
    let mut h = Harness::with_nodes(config(Distribution::All));
    let out = command(&mut h, JULIET, EXT, "d1", DIAL);
    let (slow, req) = dialled_to(&out).unwrap();
    let out = h.advance(DEFAULT_DIAL_TIMEOUT);
    let (second, req2) = dialled_to(&out).unwrap();
    assert_ne!(slow, second);
    let late = format!(
        "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:late@{}'/>",
        NODES[slow]
    );
    let out = answer(&mut h, slow, &req, &late);
    assert!(sent_on(&out, CLIENTS).is_empty(), "{out:?}");
    let hangups: Vec<Element> = sent_on(&out, node_link(slow))
        .into_iter()
        .filter(|s| s.has_child("hangup", "urn:xmpp:rayo:1"))
        .collect();
    assert_eq!(hangups.len(), 1, "{out:?}");
    let late_call = format!("late@{}", NODES[slow]);
    assert_eq!(hangups[0].attr("to"), Some(late_call.as_str()));
    // The retried dial still completes for the client.
    let ok = format!(
        "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:z@{}'/>",
        NODES[second]
    );
    let out = answer(&mut h, second, &req2, &ok);
    assert_eq!(one_on(&out, CLIENTS).attr("id"), Some("d1"));
    // The same late answer again is just dropped (nothing pending, nothing abandoned).
    let out = answer(&mut h, slow, &req, &late);
    assert!(sent_on(&out, node_link(slow)).is_empty(), "{out:?}");
}
