//! XEP-0327 §6.2.2: inbound calls: routing, offers, distribution, offer timeouts, PCPs going
//! away, and the first command making the DCP (registration itself: `s6_1_registration.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use std::time::Duration;

use rayo_call::{
    All, CallId, Input, MostActive, RejectCause, RoundRobin, Route, SignalAction, SignalEvent,
    Weighted,
};
use rayo_proto::generated::rayo::EndReason;

#[test]
fn s6_2_2_example_1_offer_goes_to_the_available_pcp_with_call_caps() {
    let mut h = Harness::new();
    h.available(JULIET);
    let out = h.incoming_as("9f00061", true);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "one offer for the one available PCP: {out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-001.xml", 0));
}

#[test]
fn s6_2_2_example_2_3_first_command_makes_the_dcp() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    let req = listing("xep-0327-002.xml", 0);
    let out = h.input(rayo_call::Input::Iq(
        xmpp_parsers::iq::Iq::try_from(req).expect("iq"),
    ));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1);
    assert_matches_listing(&st[0], &listing("xep-0327-003.xml", 0));
    assert!(matches!(
        signals(&out)[..],
        [rayo_call::SignalAction::Accept { .. }]
    ));
}

#[test]
fn s6_2_2_example_26_second_pcp_gets_conflict() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    h.set(
        ROMEO,
        "9f00061@call.shakespeare.lit",
        "r1",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    let out = h.set(
        JULIET,
        "9f00061@call.shakespeare.lit",
        "h7ed2",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-026.xml", 0));
}

// ---- §6.2.2, sentence by sentence ----------------------------------------------------------

const CALL: &str = "9f00061@call.shakespeare.lit";
const ACCEPT: &str = "<accept xmlns='urn:xmpp:rayo:1'/>";

fn both() -> Vec<jid::Jid> {
    vec![jid("juliet@capulet.lit"), jid("romeo@montague.lit")]
}

/// The JIDs the outputs offer a call to, in order.
fn offers(out: &[rayo_call::Output]) -> Vec<String> {
    trace(out)
        .into_iter()
        .filter_map(|l| {
            l.strip_suffix(": offer")
                .map(|s| s.rsplit(" -> ").next().unwrap_or("").to_owned())
        })
        .collect()
}

fn rejected_unavailable(id: &str) -> SignalAction {
    SignalAction::Reject {
        call: CallId(id.to_owned()),
        cause: RejectCause::ServiceUnavailable,
        headers: vec![],
    }
}

/// The end event of `9f00061` to `to` with `reason`, as an element.
fn end_event(to: &str, reason: &str) -> minidom::Element {
    el(&format!(
        "<presence xmlns='jabber:client' from='{CALL}' to='{to}' type='unavailable'>\
           <end xmlns='urn:xmpp:rayo:1'><{reason}/></end></presence>"
    ))
}

#[test]
fn s6_2_2_empty_pcp_set_rejects_the_call_as_service_unavailable() {
    let mut h = Harness::new();
    let out = h.incoming_as("9f00061", true);
    assert_eq!(
        out,
        vec![rayo_call::Output::Signal(rejected_unavailable("9f00061"))]
    );
    assert!(
        !h.engine.has_call(&CallId("9f00061".into())),
        "no call is left"
    );
}

#[test]
fn s6_2_2_routing_maps_the_called_uri_to_its_pcps() {
    let mut h = Harness::with_routes(vec![
        Route::new("tel:+1800*", vec![jid("juliet@capulet.lit")], Box::new(All)),
        Route::new("*", vec![jid("romeo@montague.lit")], Box::new(All)),
    ]);
    h.available(JULIET);
    h.available(ROMEO);
    let out = h.incoming_as("call1", true); // to tel:+18003211212
    assert_eq!(offers(&out), vec![JULIET]);
    let out = h.signal(
        "call2",
        SignalEvent::Incoming {
            to: "sip:bob@example.com".into(),
            from: None,
            headers: vec![],
            early_media: false,
        },
    );
    assert_eq!(offers(&out), vec![ROMEO]);
}

#[test]
fn s6_2_2_call_no_route_matches_is_rejected_as_service_unavailable() {
    let mut h = Harness::with_routes(vec![Route::new(
        "sip:*",
        vec![jid("juliet@capulet.lit")],
        Box::new(All),
    )]);
    h.available(JULIET);
    let out = h.incoming_as("9f00061", true); // a tel: URI
    assert_eq!(
        out,
        vec![rayo_call::Output::Signal(rejected_unavailable("9f00061"))]
    );
}

#[test]
fn s6_2_2_route_targets_that_are_not_available_are_not_offered() {
    let mut h = Harness::new(); // Juliet and Romeo, all at once
    h.available(ROMEO);
    h.available(JULIET);
    h.dnd(JULIET);
    let out = h.incoming_as("9f00061", true);
    assert_eq!(offers(&out), vec![ROMEO]);
}

#[test]
fn s6_2_2_example_25_offer_carries_the_incoming_to_from_and_headers() {
    let mut h = Harness::new();
    h.available(JULIET);
    let out = h.signal(
        "9f00061",
        SignalEvent::Incoming {
            to: "tel:+18003211212".into(),
            from: Some("tel:+13058881212".into()),
            headers: vec![header("x-skill", "agent"), header("x-customer-id", "8877")],
            early_media: false,
        },
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-025.xml", 0));
}

#[test]
fn s6_2_2_distribution_all_offers_every_pcp_at_once_each_with_call_caps() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    let out = h.incoming_as("9f00061", true);
    let st = stanzas(&out);
    assert_eq!(st.len(), 2, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-001.xml", 0));
    assert_matches_listing(
        &st[1],
        &listing_edited(
            "xep-0327-001.xml",
            0,
            &[("juliet@capulet.lit/balcony", ROMEO)],
        ),
    );
}

#[test]
fn s6_2_2_distribution_most_active_offers_the_latest_available_pcp_first() {
    let route =
        Route::new("*", both(), Box::new(MostActive)).with_offer_timeout(Duration::from_secs(20));
    let mut h = Harness::with_routes(vec![route]);
    h.available(JULIET);
    h.advance(Duration::from_secs(1));
    h.available(ROMEO);
    let out = h.incoming_as("9f00061", true);
    assert_eq!(offers(&out), vec![ROMEO], "staged: one PCP at a time");
    let out = h.advance(Duration::from_secs(20));
    assert_eq!(offers(&out), vec![JULIET]);
    let st = stanzas(&out);
    assert_matches_listing(&st[0], &listing("xep-0327-001.xml", 0));
}

#[test]
fn s6_2_2_distribution_round_robin_starts_each_call_with_the_next_pcp() {
    let mut h = Harness::with_routes(vec![Route::new(
        "*",
        both(),
        Box::new(RoundRobin::default()),
    )]);
    h.available(JULIET);
    h.available(ROMEO);
    let firsts: Vec<Vec<String>> = (0..4)
        .map(|i| offers(&h.incoming_as(&format!("call{i}"), true)))
        .collect();
    assert_eq!(
        firsts,
        vec![vec![JULIET], vec![ROMEO], vec![JULIET], vec![ROMEO]]
    );
}

#[test]
fn s6_2_2_distribution_weighted_offers_in_proportion_to_the_target_weights() {
    let mut h = Harness::with_routes(vec![Route::new(
        "*",
        both(),
        Box::new(Weighted::new(vec![3, 1])),
    )]);
    h.available(JULIET);
    h.available(ROMEO);
    let mut juliet = 0;
    let mut romeo = 0;
    for i in 0..8 {
        let o = offers(&h.incoming_as(&format!("call{i}"), true));
        assert_eq!(o.len(), 1, "staged: one PCP at a time");
        match o[0].as_str() {
            JULIET => juliet += 1,
            ROMEO => romeo += 1,
            other => panic!("offered to {other}"),
        }
    }
    assert_eq!((juliet, romeo), (6, 2));
}

#[test]
fn s6_2_2_offer_timeout_moves_the_offer_to_the_next_pcp() {
    let route = Route::new("*", both(), Box::new(RoundRobin::default()))
        .with_offer_timeout(Duration::from_secs(10));
    let mut h = Harness::with_routes(vec![route]);
    h.available(JULIET);
    h.available(ROMEO);
    assert_eq!(offers(&h.incoming_as("9f00061", true)), vec![JULIET]);
    assert!(h.advance(Duration::from_secs(9)).is_empty(), "not yet");
    let out = h.advance(Duration::from_secs(1));
    assert_eq!(offers(&out), vec![ROMEO]);
    assert!(signals(&out).is_empty(), "the call goes on");
    // Juliet's offer has moved on: control is no longer hers to take.
    let out = h.set(JULIET, CALL, "late", ACCEPT);
    assert_eq!(iq_error(&out), ("conflict".into(), "cancel".into()));
    let out = h.set(ROMEO, CALL, "r1", ACCEPT);
    assert_eq!(trace(&out)[0], format!("result -> {ROMEO}"));
}

/// Call 9f00061 was rejected as service unavailable and `pcps`, in order, were told it
/// ended with `timeout`.
fn assert_rejected_and_ended_with_timeout(out: &[rayo_call::Output], pcps: &[&str]) {
    assert_eq!(signals(out), vec![rejected_unavailable("9f00061")]);
    let st = stanzas(out);
    assert_eq!(st.len(), pcps.len(), "{out:#?}");
    for (s, pcp) in st.iter().zip(pcps) {
        assert_matches_listing(s, &end_event(pcp, "timeout"));
    }
}

#[test]
fn s6_2_2_last_offer_timing_out_rejects_the_call_and_ends_it_with_timeout() {
    let route = Route::new("*", both(), Box::new(All)).with_offer_timeout(Duration::from_secs(10));
    let mut h = Harness::with_routes(vec![route]);
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    let out = h.advance(Duration::from_secs(10));
    assert_rejected_and_ended_with_timeout(&out, &[JULIET, ROMEO]);
}

#[test]
fn s6_2_2_offered_call_waits_for_a_pcp_when_there_is_no_offer_timeout() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    assert_eq!(h.engine.poll_timeout(), None, "nothing to wake up for");
    assert!(h.advance(Duration::from_secs(24 * 3600)).is_empty());
    let out = h.set(JULIET, CALL, "a1", ACCEPT);
    assert_eq!(
        trace(&out),
        vec![format!("result -> {JULIET}"), "signal Accept".into()]
    );
}

#[test]
fn s6_2_2_offer_nobody_answers_is_rejected_after_the_default_offer_timeout() {
    let route = Route::new("*", both(), Box::new(All));
    let mut h = Harness::with_default_offer_timeout(vec![route], Some(Duration::from_secs(60)));
    h.available(JULIET);
    h.available(ROMEO);
    assert_eq!(offers(&h.incoming_as("9f00061", true)), vec![JULIET, ROMEO]);
    assert!(h.advance(Duration::from_secs(59)).is_empty(), "not yet");
    let out = h.advance(Duration::from_secs(1));
    assert_rejected_and_ended_with_timeout(&out, &[JULIET, ROMEO]);
    // The call is gone: accepting it now finds nothing to take.
    let out = h.set(JULIET, CALL, "late", ACCEPT);
    assert_eq!(iq_error(&out).0, "item-not-found");
}

#[test]
fn s6_2_2_a_routes_own_offer_timeout_wins_over_the_default() {
    let route = Route::new("*", both(), Box::new(All)).with_offer_timeout(Duration::from_secs(10));
    let mut h = Harness::with_default_offer_timeout(vec![route], Some(Duration::from_secs(60)));
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    let out = h.advance(Duration::from_secs(10));
    assert_eq!(signals(&out), vec![rejected_unavailable("9f00061")]);
    assert_matches_listing(&stanzas(&out)[0], &end_event(JULIET, "timeout"));

    // A longer route timeout also wins: the default does not cut it short.
    let route = Route::new("*", both(), Box::new(All)).with_offer_timeout(Duration::from_secs(90));
    let mut h = Harness::with_default_offer_timeout(vec![route], Some(Duration::from_secs(60)));
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    assert!(
        h.advance(Duration::from_secs(89)).is_empty(),
        "the route's 90 s hold"
    );
    let out = h.advance(Duration::from_secs(1));
    assert_eq!(signals(&out), vec![rejected_unavailable("9f00061")]);
}

#[test]
fn s6_2_2_the_default_offer_timeout_moves_a_staged_offer_to_the_next_pcp() {
    let route = Route::new("*", both(), Box::new(RoundRobin::default()));
    let mut h = Harness::with_default_offer_timeout(vec![route], Some(Duration::from_secs(5)));
    h.available(JULIET);
    h.available(ROMEO);
    assert_eq!(offers(&h.incoming_as("9f00061", true)), vec![JULIET]);
    let out = h.advance(Duration::from_secs(5));
    assert_eq!(offers(&out), vec![ROMEO]);
    assert!(signals(&out).is_empty(), "the call goes on");
    let out = h.advance(Duration::from_secs(5));
    assert_eq!(signals(&out), vec![rejected_unavailable("9f00061")]);
}

#[test]
fn s6_2_2_remote_party_ending_an_offered_call_ends_it_for_every_pcp() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    let out = h.signal(
        "9f00061",
        SignalEvent::Ended {
            reason: EndReason::Hungup {
                platform_code: None,
            },
            headers: vec![],
        },
    );
    assert!(signals(&out).is_empty(), "nothing to reject: {out:#?}");
    let st = stanzas(&out);
    assert_eq!(st.len(), 2, "{out:#?}");
    assert_matches_listing(&st[0], &end_event(JULIET, "hungup"));
    assert_matches_listing(&st[1], &end_event(ROMEO, "hungup"));
}

#[test]
fn s6_2_2_all_offered_pcps_going_away_rejects_the_call_as_service_unavailable() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    let out = h.dnd(JULIET);
    assert!(out.is_empty(), "Romeo still holds the offer: {out:#?}");
    let out = h.offline(ROMEO);
    assert_eq!(signals(&out), vec![rejected_unavailable("9f00061")]);
    assert!(!h.engine.has_call(&CallId("9f00061".into())));
    // Both were offered the call: both hear of its end (§6.6.4), a system error.
    let st = stanzas(&out);
    assert_eq!(st.len(), 2, "{out:#?}");
    assert_matches_listing(&st[0], &end_event(JULIET, "error"));
    assert_matches_listing(&st[1], &end_event(ROMEO, "error"));
}

#[test]
fn s6_2_2_pcp_that_went_away_can_no_longer_take_control() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    h.dnd(JULIET);
    let out = h.set(JULIET, CALL, "a1", ACCEPT);
    assert_eq!(iq_error(&out), ("conflict".into(), "cancel".into()));
    assert!(signals(&out).is_empty());
}

#[test]
fn s6_2_2_staged_offer_moves_on_when_its_pcp_goes_away() {
    let mut h = Harness::with_routes(vec![Route::new(
        "*",
        both(),
        Box::new(RoundRobin::default()),
    )]);
    h.available(JULIET);
    h.available(ROMEO);
    assert_eq!(offers(&h.incoming_as("9f00061", true)), vec![JULIET]);
    let out = h.offline(JULIET);
    assert_eq!(offers(&out), vec![ROMEO]);
    assert!(signals(&out).is_empty());
    let out = h.offline(ROMEO);
    assert_eq!(signals(&out), vec![rejected_unavailable("9f00061")]);
}

#[test]
fn s6_2_2_any_first_command_makes_its_sender_the_dcp() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    let out = h.set(ROMEO, CALL, "r1", "<answer xmlns='urn:xmpp:rayo:1'/>");
    assert_eq!(
        trace(&out),
        vec![format!("result -> {ROMEO}"), "signal Answer".into()]
    );
    let out = h.send_listing("xep-0327-002.xml", 0);
    assert_matches_listing(
        &stanzas(&out)[0],
        &listing_edited("xep-0327-026.xml", 0, &[("h7ed2", "hd721")]),
    );
    assert!(
        signals(&out).is_empty(),
        "the conflicting accept does nothing"
    );
}

#[test]
fn s6_2_2_dcp_keeps_control_other_pcps_keep_getting_conflict() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    h.send_listing("xep-0327-002.xml", 0);
    for cmd in [
        "<answer xmlns='urn:xmpp:rayo:1'/>",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
        "<reject xmlns='urn:xmpp:rayo:1'><busy/></reject>",
    ] {
        // A PCP that was offered the call, and a JID that never was.
        for who in [ROMEO, JULIET_COURTYARD] {
            let out = h.set(who, CALL, "r", cmd);
            assert_eq!(
                iq_error(&out),
                ("conflict".into(), "cancel".into()),
                "{who}: {cmd}"
            );
            assert!(signals(&out).is_empty(), "{who}: {cmd}");
        }
    }
    let out = h.send_listing("xep-0327-004.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-005.xml", 0));
}

#[test]
fn s6_2_2_example_2_3_accept_notifies_the_caller_once() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    let out = h.send_listing("xep-0327-002.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-003.xml", 0));
    assert_eq!(
        signals(&out),
        vec![SignalAction::Accept {
            call: CallId("9f00061".into()),
            headers: vec![],
        }]
    );
    let out = h.send_listing("xep-0327-002.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-003.xml", 0));
    assert!(signals(&out).is_empty(), "already accepted: {out:#?}");
}

#[test]
fn s6_2_2_example_4_5_answer_notifies_the_caller_and_returns_an_empty_result() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    h.send_listing("xep-0327-002.xml", 0);
    let out = h.send_listing("xep-0327-004.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-005.xml", 0));
    assert_eq!(
        signals(&out),
        vec![SignalAction::Answer {
            call: CallId("9f00061".into()),
            headers: vec![],
        }]
    );
}

#[test]
fn s6_2_2_answer_without_accept_answers_the_call() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    let out = h.send_listing("xep-0327-004.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-005.xml", 0));
    assert_eq!(
        signals(&out),
        vec![SignalAction::Answer {
            call: CallId("9f00061".into()),
            headers: vec![],
        }]
    );
}

#[test]
fn s6_2_2_caller_id_and_headers_are_not_required_for_an_offer() {
    let mut h = Harness::new();
    h.available(JULIET);
    let out = h.input(Input::Signal {
        call: CallId("9f00061".into()),
        event: SignalEvent::Incoming {
            to: "tel:+18003211212".into(),
            from: None,
            headers: vec![],
            early_media: false,
        },
    });
    assert_matches_listing(
        &stanzas(&out)[0],
        &listing_edited("xep-0327-001.xml", 0, &[("from='tel:+13058881212'", "")]),
    );
}
