//! XEP-0327 §6.6: session termination. Redirect (§6.6.1), reject (§6.6.2), hangup and its
//! order (§6.6.3), and the end notification (§6.6.4): its recipients and reasons, silence
//! after it, and `item-not-found` for commands to ended or unknown calls.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use std::time::Duration;

use rayo_call::{
    CallId, ComponentId, Input, MediaEvent, Output, RejectCause, RoundRobin, Route, SignalAction,
    SignalEvent,
};
use rayo_proto::event::CompleteReason;
use rayo_proto::generated::rayo::EndReason;
use xmpp_parsers::iq::Iq;

const CALL: &str = "9f00061@call.shakespeare.lit";
const CALL_B: &str = "callb@call.shakespeare.lit";
const OUTPUT: &str = "<output xmlns='urn:xmpp:rayo:output:1'>\
                      <document content-type='text/plain'>Goodbye!</document></output>";

fn id() -> CallId {
    CallId("9f00061".into())
}

/// Example 82's reject with a reason (§7.9 requires one; the listing has none).
fn reject_82(reason: &str) -> minidom::Element {
    listing_edited(
        "xep-0327-082.xml",
        0,
        &[(
            "<reject xmlns='urn:xmpp:rayo:1'>",
            &format!("<reject xmlns='urn:xmpp:rayo:1'><{reason}/>"),
        )],
    )
}

fn send(h: &mut Harness, e: minidom::Element) -> Vec<Output> {
    h.input(Input::Iq(Iq::try_from(e).expect("an IQ")))
}

fn ended(reason: EndReason) -> SignalEvent {
    SignalEvent::Ended {
        reason,
        headers: vec![],
    }
}

fn hungup() -> SignalEvent {
    ended(EndReason::Hungup {
        platform_code: None,
    })
}

fn end_event(to: &str, reason_xml: &str) -> minidom::Element {
    el(&format!(
        "<presence xmlns='jabber:client' from='{CALL}' to='{to}' type='unavailable'>\
           <end xmlns='urn:xmpp:rayo:1'>{reason_xml}</end></presence>"
    ))
}

/// Juliet's answered call 9f00061, running an output component and joined to answered call
/// callb; returns the component's id.
fn busy_call(h: &mut Harness) -> String {
    h.answered_call("9f00061");
    h.answered_call("callb");
    let out = h.set(JULIET, CALL, "o1", OUTPUT);
    let comp = stanzas(&out)[0]
        .children()
        .find(|c| c.name() == "ref")
        .and_then(|r| r.attr("uri"))
        .and_then(|u| u.rsplit('/').next())
        .expect("a component ref")
        .to_owned();
    let out = h.set(
        JULIET,
        CALL,
        "j1",
        &format!("<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{CALL_B}'/>"),
    );
    assert!(matches!(iqs(&out)[..], [Iq::Result { .. }]), "{out:#?}");
    comp
}

/// The position of the first line of `t` starting with `prefix`.
fn pos(t: &[String], prefix: &str) -> usize {
    t.iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {t:#?}"))
}

// ---- §6.6.1 redirect -------------------------------------------------------------------------

#[test]
fn s6_6_1_example_79_80_redirect_is_relayed_acknowledged_and_ends_the_call() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    let out = h.send_listing("xep-0327-079.xml", 0);
    assert_eq!(
        signals(&out),
        vec![SignalAction::Redirect {
            call: id(),
            to: "sip:other@there.com".into(),
            headers: vec![header("x-skill", "agent"), header("x-customer-id", "8877")],
        }]
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 2, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-080.xml", 0));
    assert!(
        trace(&out)
            .iter()
            .any(|l| l.starts_with(&format!("{CALL} -> {JULIET}: end("))),
        "the redirected call is over: {out:#?}"
    );
    assert!(!h.engine.has_call(&id()));
}

#[test]
fn s6_6_1_accepted_call_can_still_be_redirected() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    h.send_listing("xep-0327-002.xml", 0);
    let out = h.send_listing("xep-0327-079.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-080.xml", 0));
    assert!(matches!(
        &signals(&out)[..],
        [SignalAction::Redirect { .. }]
    ));
}

#[test]
fn s6_6_1_example_81_answered_call_cannot_be_redirected() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = h.send_listing("xep-0327-079.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-081.xml", 0));
    assert!(signals(&out).is_empty());
    assert!(h.engine.has_call(&id()), "the call goes on");
}

#[test]
fn s6_6_1_outbound_call_cannot_be_redirected() {
    let mut h = Harness::new();
    h.dial_as("9f00061");
    let out = h.send_listing("xep-0327-079.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-081.xml", 0));
    assert!(signals(&out).is_empty());
}

// ---- §6.6.2 reject ---------------------------------------------------------------------------

#[test]
fn s6_6_2_example_82_83_reject_is_relayed_and_acknowledged() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    let out = send(&mut h, reject_82("decline"));
    assert_eq!(
        signals(&out),
        vec![SignalAction::Reject {
            call: id(),
            cause: RejectCause::Decline,
            headers: vec![header("x-reject-description", "Sorry, she cannae take it!")],
        }]
    );
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-083.xml", 0));
    assert!(!h.engine.has_call(&id()));
}

#[test]
fn s6_6_2_reject_reasons_map_to_the_signalled_cause() {
    for (reason, cause) in [
        ("decline", RejectCause::Decline),
        ("busy", RejectCause::Busy),
        ("error", RejectCause::Error),
    ] {
        let mut h = Harness::new();
        h.available(JULIET);
        h.incoming_as("9f00061", true);
        let out = send(&mut h, reject_82(reason));
        assert!(
            matches!(&signals(&out)[..], [SignalAction::Reject { cause: c, .. }] if *c == cause),
            "{reason}: {out:#?}"
        );
    }
}

#[test]
fn s6_6_2_example_82_reject_without_a_reason_is_bad_request() {
    // §7.9: "The <reject/> element MUST contain a single reject reason element"; the spec's
    // own listing has none (xsd/ERRATA.md R8).
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    let out = h.send_listing("xep-0327-082.xml", 0);
    assert_eq!(iq_error(&out), ("bad-request".into(), "modify".into()));
    assert!(signals(&out).is_empty());
    assert!(h.engine.has_call(&id()), "the call is still offered");
}

#[test]
fn s6_6_2_example_84_reject_after_accept_is_not_allowed() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    h.send_listing("xep-0327-002.xml", 0);
    let out = send(&mut h, reject_82("busy"));
    let expected = listing_edited(
        "xep-0327-084.xml",
        0,
        &[(
            "<reject xmlns='urn:xmpp:rayo:1'>",
            "<reject xmlns='urn:xmpp:rayo:1'><busy/>",
        )],
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &expected);
    assert!(signals(&out).is_empty());
    assert!(h.engine.has_call(&id()));
}

#[test]
fn s6_6_2_answered_or_outbound_call_cannot_be_rejected() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = send(&mut h, reject_82("decline"));
    assert_eq!(iq_error(&out), ("not-allowed".into(), "cancel".into()));
    assert!(signals(&out).is_empty());
    let mut h = Harness::new();
    h.dial_as("9f00061");
    let out = send(&mut h, reject_82("decline"));
    assert_eq!(iq_error(&out), ("not-allowed".into(), "cancel".into()));
    assert!(signals(&out).is_empty());
}

#[test]
fn s6_6_2_rejected_call_ends_for_every_pcp_it_was_offered_to() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    let out = send(&mut h, reject_82("decline"));
    let t = trace(&out);
    assert!(
        t.iter()
            .any(|l| l.starts_with(&format!("{CALL} -> {JULIET}: end("))),
        "{t:#?}"
    );
    assert!(
        t.iter()
            .any(|l| l.starts_with(&format!("{CALL} -> {ROMEO}: end("))),
        "{t:#?}"
    );
}

// ---- §6.6.3 hangup ---------------------------------------------------------------------------

#[test]
fn s6_6_3_example_9_10_11_hangup_is_acknowledged_then_the_call_ends() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = h.send_listing("xep-0327-009.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 2, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-010.xml", 0));
    assert_matches_listing(&st[1], &listing("xep-0327-011.xml", 0));
    assert_eq!(
        signals(&out),
        vec![SignalAction::Hangup {
            call: id(),
            headers: vec![],
        }]
    );
}

#[test]
fn s6_6_3_example_85_86_hangup_with_headers_is_queued_and_acknowledged() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = h.send_listing("xep-0327-085.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-086.xml", 0));
    assert_eq!(
        signals(&out),
        vec![SignalAction::Hangup {
            call: id(),
            headers: vec![header("x-call-result", "4")],
        }]
    );
}

#[test]
fn s6_6_3_hangup_completes_components_then_unjoins_then_ends_the_session_then_the_call() {
    let mut h = Harness::new();
    let comp = busy_call(&mut h);
    let out = h.send_listing("xep-0327-085.xml", 0);
    let t: Vec<String> = trace(&out)
        .into_iter()
        .filter(|l| !l.starts_with("media"))
        .collect();
    assert_eq!(
        t,
        vec![
            format!("result -> {JULIET}"),
            format!("{CALL}/{comp} -> {JULIET}: complete(hangup)"),
            format!("{CALL} -> {JULIET}: unjoined"),
            format!("{CALL_B} -> {JULIET}: unjoined"),
            "signal Hangup".to_owned(),
            format!("{CALL} -> {JULIET}: end(hangup-command)"),
        ]
    );
    // The media engine is told in the same order: stop the component, break the join,
    // before the session is terminated.
    let t = trace(&out);
    assert!(
        pos(&t, "media StopComponent") < pos(&t, "media Unjoin"),
        "{t:#?}"
    );
    assert!(pos(&t, "media Unjoin") < pos(&t, "signal Hangup"), "{t:#?}");
}

#[test]
fn s6_6_3_hangup_of_an_unanswered_outbound_call() {
    let mut h = Harness::new();
    h.dial_as("9f00061");
    h.signal("9f00061", SignalEvent::Ringing { headers: vec![] });
    let out = h.send_listing("xep-0327-009.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 2, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-010.xml", 0));
    assert_matches_listing(&st[1], &listing("xep-0327-011.xml", 0));
    assert!(matches!(&signals(&out)[..], [SignalAction::Hangup { .. }]));
}

// ---- §6.6.4 end notification -----------------------------------------------------------------

#[test]
fn s6_6_4_example_87_remote_hangup_ends_the_call_for_its_dcp() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = h.signal("9f00061", hungup());
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    // Example 87 spells the reason <hangup/>; §7.3 names it <hungup/> (xsd/ERRATA.md R6).
    assert_matches_listing(
        &st[0],
        &listing_edited("xep-0327-087.xml", 0, &[("<hangup/>", "<hungup/>")]),
    );
    assert!(signals(&out).is_empty(), "the session is already over");
    assert!(!h.engine.has_call(&id()));
}

#[test]
fn s6_6_4_remote_end_completes_components_and_unjoins_before_the_end_event() {
    let mut h = Harness::new();
    let comp = busy_call(&mut h);
    let out = h.signal("9f00061", hungup());
    let t: Vec<String> = trace(&out)
        .into_iter()
        .filter(|l| !l.starts_with("media"))
        .collect();
    assert_eq!(
        t,
        vec![
            format!("{CALL}/{comp} -> {JULIET}: complete(hangup)"),
            format!("{CALL} -> {JULIET}: unjoined"),
            format!("{CALL_B} -> {JULIET}: unjoined"),
            format!("{CALL} -> {JULIET}: end(hungup)"),
        ]
    );
    let t = trace(&out);
    assert!(
        pos(&t, "media StopComponent") < pos(&t, "media Unjoin"),
        "{t:#?}"
    );
    assert!(
        h.engine.has_call(&CallId("callb".into())),
        "the other call goes on"
    );
}

#[test]
fn s6_6_4_end_reasons_and_platform_codes_reach_the_client() {
    let reasons = [
        (
            EndReason::Hungup {
                platform_code: Some("200".into()),
            },
            "<hungup platform-code='200'/>",
        ),
        (
            EndReason::Timeout {
                platform_code: Some("408".into()),
            },
            "<timeout platform-code='408'/>",
        ),
        (
            EndReason::Busy {
                platform_code: Some("486".into()),
            },
            "<busy platform-code='486'/>",
        ),
        (
            EndReason::Rejected {
                platform_code: Some("603".into()),
            },
            "<rejected platform-code='603'/>",
        ),
        (
            EndReason::Error {
                platform_code: Some("500".into()),
            },
            "<error platform-code='500'/>",
        ),
        (
            EndReason::Error {
                platform_code: None,
            },
            "<error/>",
        ),
    ];
    for (reason, xml) in reasons {
        // An outbound call implicitly has its requesting party as controlling party.
        let mut h = Harness::new();
        h.dial_as("9f00061");
        let out = h.signal("9f00061", ended(reason));
        let st = stanzas(&out);
        assert_eq!(st.len(), 1, "{xml}: {out:#?}");
        assert_matches_listing(&st[0], &end_event(JULIET, xml));
    }
}

#[test]
fn s6_6_4_end_event_goes_to_every_jid_offered_the_call_or_commanding_it() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    h.send_listing("xep-0327-002.xml", 0);
    let out = h.signal("9f00061", hungup());
    let st = stanzas(&out);
    assert_eq!(st.len(), 2, "{out:#?}");
    assert_matches_listing(&st[0], &end_event(JULIET, "<hungup/>"));
    assert_matches_listing(&st[1], &end_event(ROMEO, "<hungup/>"));
}

#[test]
fn s6_6_4_end_event_reaches_pcps_of_earlier_offer_rounds() {
    let route = Route::new(
        "*",
        vec![jid("juliet@capulet.lit"), jid("romeo@montague.lit")],
        Box::new(RoundRobin::default()),
    )
    .with_offer_timeout(Duration::from_secs(10));
    let mut h = Harness::with_routes(vec![route]);
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true); // Juliet first
    h.advance(Duration::from_secs(10)); // then Romeo
    h.set(ROMEO, CALL, "r1", "<accept xmlns='urn:xmpp:rayo:1'/>");
    let out = h.signal("9f00061", hungup());
    let st = stanzas(&out);
    assert_eq!(st.len(), 2, "{out:#?}");
    assert_matches_listing(&st[0], &end_event(JULIET, "<hungup/>"));
    assert_matches_listing(&st[1], &end_event(ROMEO, "<hungup/>"));
}

#[test]
fn s6_6_4_nothing_is_sent_from_a_call_after_its_end() {
    let mut h = Harness::new();
    let comp = busy_call(&mut h);
    h.signal("9f00061", hungup());
    let late = [
        SignalEvent::Ringing { headers: vec![] },
        SignalEvent::Answered { headers: vec![] },
        hungup(),
        SignalEvent::Dtmf { digit: '5' },
        SignalEvent::Message {
            body: "still there?".into(),
        },
    ];
    for ev in late {
        let out = h.signal("9f00061", ev.clone());
        assert!(out.is_empty(), "{ev:?}: {out:#?}");
    }
    for ev in [
        MediaEvent::Complete {
            component: ComponentId(comp.clone()),
            reason: CompleteReason::Stop,
            metadata: vec![],
        },
        MediaEvent::InputTimersStarted {
            component: ComponentId(comp.clone()),
        },
    ] {
        let out = h.media(ev.clone());
        assert!(out.is_empty(), "{ev:?}: {out:#?}");
    }
    assert!(h.advance(Duration::from_secs(3600)).is_empty());
}

#[test]
fn s6_6_4_ended_outbound_call_does_not_time_out_later() {
    let mut h = Harness::new();
    h.set(
        JULIET,
        SERVICE,
        "d",
        &format!("<dial xmlns='urn:xmpp:rayo:1' to='tel:+1' uri='xmpp:{CALL}' timeout='5000'/>"),
    );
    h.signal(
        "9f00061",
        ended(EndReason::Rejected {
            platform_code: Some("603".into()),
        }),
    );
    assert!(h.advance(Duration::from_secs(10)).is_empty());
}

#[test]
fn s6_6_4_example_88_command_to_an_ended_call_is_item_not_found() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    h.signal("9f00061", hungup());
    let out = h.send_listing("xep-0327-088.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-088.xml", 1));
    assert!(signals(&out).is_empty());
}

#[test]
fn s6_6_4_example_88_command_to_a_call_that_never_existed_is_item_not_found() {
    let mut h = Harness::new();
    let out = h.send_listing("xep-0327-088.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-088.xml", 1));
}

#[test]
fn s6_6_4_every_command_to_an_ended_call_is_item_not_found() {
    for how in ["remote hangup", "hangup", "redirect", "reject"] {
        let mut h = Harness::new();
        h.available(JULIET);
        h.incoming_as("9f00061", true);
        match how {
            "remote hangup" => {
                h.signal("9f00061", hungup());
            }
            "hangup" => {
                h.send_listing("xep-0327-009.xml", 0);
            }
            "redirect" => {
                h.send_listing("xep-0327-079.xml", 0);
            }
            _ => {
                send(&mut h, reject_82("decline"));
            }
        }
        for cmd in [
            "<accept xmlns='urn:xmpp:rayo:1'/>",
            "<answer xmlns='urn:xmpp:rayo:1'/>",
            "<redirect xmlns='urn:xmpp:rayo:1' to='sip:other@there.com'/>",
            "<reject xmlns='urn:xmpp:rayo:1'><decline/></reject>",
            "<hangup xmlns='urn:xmpp:rayo:1'/>",
            "<join xmlns='urn:xmpp:rayo:1' mixer-name='m'/>",
            "<unjoin xmlns='urn:xmpp:rayo:1'/>",
            OUTPUT,
        ] {
            let out = h.set(JULIET, CALL, "late", cmd);
            assert_eq!(
                iq_error(&out),
                ("item-not-found".into(), "cancel".into()),
                "after {how}: {cmd}"
            );
            assert_eq!(out.len(), 1, "after {how}: {cmd}: {out:#?}");
        }
    }
}

/// A harness whose calls outlive a lost controlling party by `grace`.
fn with_orphan_grace(grace: Duration) -> Harness {
    let mut cfg = rayo_call::Config::new(addressing());
    cfg.routes = vec![rayo_call::Route::new(
        "*",
        vec![jid("juliet@capulet.lit")],
        Box::new(rayo_call::All),
    )];
    cfg.orphan_grace = Some(grace);
    Harness {
        engine: rayo_call::Engine::new(cfg),
        now: std::time::Instant::now(),
    }
}

/// Issue 12 §9: a bot whose stream is lost (the server sends its unavailable presence) left
/// its calls up, media flowing, for minutes. After the grace period the node hangs them up
/// (BYE) and they end with `error`; a bot that comes back in time keeps its call.
#[test]
fn the_calls_of_a_controlling_party_that_is_gone_are_hung_up_after_the_grace() {
    let mut h = with_orphan_grace(Duration::from_secs(30));
    h.answered_call("9f00061");
    h.offline(JULIET);
    let out = h.advance(Duration::from_secs(29));
    assert!(signals(&out).is_empty(), "still within the grace: {out:#?}");
    let out = h.advance(Duration::from_secs(2));
    assert!(
        matches!(&signals(&out)[..], [SignalAction::Hangup { call, .. }] if call.0 == "9f00061"),
        "{out:#?}"
    );
    assert!(!h.engine.has_call(&CallId("9f00061".into())));

    // Back within the grace (a reconnect with the same resource): the call stays.
    let mut h = with_orphan_grace(Duration::from_secs(30));
    h.answered_call("c2");
    h.offline(JULIET);
    h.advance(Duration::from_secs(10));
    h.available(JULIET);
    let out = h.advance(Duration::from_secs(60));
    assert!(signals(&out).is_empty(), "{out:#?}");
    assert!(h.engine.has_call(&CallId("c2".into())));
    assert_eq!(h.engine.lost_party_count(), 0);

    // The caller hangs up within the grace: nothing is left waiting for the party.
    let mut h = with_orphan_grace(Duration::from_secs(30));
    h.answered_call("c3");
    h.offline(JULIET);
    assert_eq!(h.engine.lost_party_count(), 1);
    h.signal("c3", hungup());
    assert_eq!(
        h.engine.lost_party_count(),
        0,
        "forgotten with its last call"
    );
}
