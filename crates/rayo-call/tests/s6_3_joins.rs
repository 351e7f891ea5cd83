//! XEP-0327 §6.3: joining calls, unjoining, unjoined events and multiple joins.
//!
//! The spec's error listings of §6.3 are sent from `callA@shakespeare.lit`, a typo for
//! `callA@call.shakespeare.lit` (§5.2, and every other listing): they are compared after that
//! edit ([`CALL_A_FROM_TYPO`]). Example 37 echoes a `<join/>` for an unjoin command; it is
//! compared with the `<unjoin/>` the client sent.

mod common;
use common::*;

use rayo_call::{CallId, MediaAction, Party, Refusal, SignalEvent};
use rayo_proto::generated::rayo::{EndReason, JoinDirection, JoinMedia};

const A: &str = "calla@call.shakespeare.lit";
const B: &str = "callb@call.shakespeare.lit";
const C: &str = "callc@call.shakespeare.lit";

/// A listing, as the engine writes its JIDs ([`listing_folded`]).
fn spec(file: &str, index: usize) -> minidom::Element {
    listing_folded(file, index, &[])
}

fn call(id: &str) -> Party {
    Party::Call(CallId(id.to_owned()))
}

fn join_action(a: &str, b: &str, direction: JoinDirection, media: JoinMedia) -> MediaAction {
    MediaAction::Join {
        a: call(a),
        b: call(b),
        direction,
        media,
    }
}

/// `<join/>` to the call `node` with extra attributes.
fn join_to(node: &str, extra: &str) -> String {
    format!("<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{node}@call.shakespeare.lit' {extra}/>")
}

fn presence(from: &str, to: &str, payload: &str) -> minidom::Element {
    el(&format!(
        "<presence from='{from}' to='{to}'>{payload}</presence>"
    ))
}

fn joined(to_uri: &str) -> String {
    format!("<joined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{to_uri}'/>")
}

fn unjoined(to_uri: &str) -> String {
    format!("<unjoined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{to_uri}'/>")
}

/// Juliet (balcony) controls callA and callB, both answered.
fn two_calls() -> Harness {
    let mut h = Harness::new();
    h.answered_call("calla");
    h.answered_call("callb");
    h
}

/// Juliet controls callA, callB and callC, all answered.
fn three_calls() -> Harness {
    let mut h = two_calls();
    h.answered_call("callc");
    h
}

/// Juliet joins `a` to `b` (call nodes) with `extra` attributes; the join must succeed.
fn join_ok<P: rayo_call::Policy>(h: &mut Harness<P>, a: &str, b: &str, extra: &str) {
    let out = h.set(
        JULIET,
        &format!("{a}@call.shakespeare.lit"),
        "j",
        &join_to(b, extra),
    );
    assert!(
        matches!(iqs(&out)[..], [xmpp_parsers::iq::Iq::Result { .. }]),
        "join {a} to {b}: {out:#?}"
    );
}

fn assert_nothing_happened(out: &[rayo_call::Output]) {
    assert!(media(out).is_empty(), "no media action: {out:#?}");
    assert!(presences(out).is_empty(), "no event: {out:#?}");
    assert!(signals(out).is_empty(), "no signalling: {out:#?}");
}

// ---- §6.3: joining ------------------------------------------------------------------------

#[test]
fn s6_3_example_27_28_join_is_acknowledged_then_both_calls_emit_joined() {
    let mut h = two_calls();
    let out = h.send(spec("xep-0327-027.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "result and two joined events: {out:#?}");
    assert_matches_listing(&st[0], &spec("xep-0327-027.xml", 1));
    assert_matches_listing(&st[1], &spec("xep-0327-028.xml", 0));
    assert_matches_listing(&st[2], &spec("xep-0327-028.xml", 1));
    // "By default, the server MUST join the calls by bridging their audio through its local
    // media server, with bidirectional media."
    assert_eq!(
        media(&out),
        vec![join_action(
            "calla",
            "callb",
            JoinDirection::Duplex,
            JoinMedia::Bridge
        )]
    );
}

#[test]
fn s6_3_join_media_and_direction_options_are_bridged_as_asked() {
    // "the client MAY specify a media option ... and/or a direction option ..., and the
    // server MUST bridge accordingly."
    for (attrs, direction, media_kind) in [
        ("direction='send'", JoinDirection::Send, JoinMedia::Bridge),
        (
            "direction='recv' media='bridge'",
            JoinDirection::Recv,
            JoinMedia::Bridge,
        ),
        ("media='direct'", JoinDirection::Duplex, JoinMedia::Direct),
        (
            "media='direct' direction='send'",
            JoinDirection::Send,
            JoinMedia::Direct,
        ),
    ] {
        let mut h = two_calls();
        let out = h.set(JULIET, A, "j1", &join_to("callb", attrs));
        assert!(
            matches!(iqs(&out)[..], [xmpp_parsers::iq::Iq::Result { .. }]),
            "{attrs}: {out:#?}"
        );
        assert_eq!(
            media(&out),
            vec![join_action("calla", "callb", direction, media_kind)],
            "{attrs}"
        );
        assert_eq!(presences(&out).len(), 2, "joined from both calls ({attrs})");
    }
}

#[test]
fn s6_3_joined_events_go_to_each_calls_controlling_party_within_the_zone() {
    // Two resources of one bare JID are one security zone: Juliet's balcony controls callA,
    // her courtyard callB; each call tells its own DCP.
    let mut h = Harness::new();
    h.answered_call("calla");
    h.answered_call_by(JULIET_COURTYARD, "callb");
    let out = h.set(JULIET, A, "j1", &join_to("callb", ""));
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "{out:#?}");
    assert_matches_listing(&st[1], &presence(A, JULIET, &joined(B)));
    assert_matches_listing(&st[2], &presence(B, JULIET_COURTYARD, &joined(A)));
}

#[test]
fn s6_3_1_example_29_join_unknown_party_is_service_unavailable() {
    let mut h = two_calls();
    let expected = listing_folded("xep-0327-029.xml", 0, &[CALL_A_FROM_TYPO]);
    let out = h.set(JULIET, A, "h7ed2", &join_to("callc", ""));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(&st[0], &expected);
    assert_nothing_happened(&out);
    // Nor is anything that is not a call of this service a party.
    for uri in [
        "xmpp:callb@call.example.com",
        "xmpp:shakespeare.lit",
        "xmpp:juliet@capulet.lit/balcony",
    ] {
        let out = h.set(
            JULIET,
            A,
            "h7ed3",
            &format!("<join xmlns='urn:xmpp:rayo:1' call-uri='{uri}'/>"),
        );
        assert_eq!(
            iq_error(&out),
            ("service-unavailable".to_owned(), "cancel".to_owned()),
            "{uri}"
        );
        assert_nothing_happened(&out);
    }
}

#[test]
fn s6_3_1_join_to_an_ended_call_is_service_unavailable() {
    let mut h = three_calls();
    h.signal(
        "callc",
        SignalEvent::Ended {
            reason: EndReason::Hangup {
                platform_code: None,
            },
            headers: vec![],
        },
    );
    let out = h.set(JULIET, A, "h7ed2", &join_to("callc", ""));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(
        &st[0],
        &listing_folded("xep-0327-029.xml", 0, &[CALL_A_FROM_TYPO]),
    );
    assert_nothing_happened(&out);
}

#[test]
fn s6_3_1_example_30_join_across_security_zones_is_not_allowed() {
    let mut h = Harness::new();
    h.answered_call("calla");
    // callC is Romeo's: another bare JID, another security zone.
    h.available(ROMEO);
    h.answered_call_by(ROMEO, "callc");
    let out = h.set(JULIET, A, "h7ed2", &join_to("callc", ""));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(
        &st[0],
        &listing_folded("xep-0327-030.xml", 0, &[CALL_A_FROM_TYPO]),
    );
    assert_nothing_happened(&out);
    // The other way round too.
    let out = h.set(ROMEO, C, "r1", &join_to("calla", ""));
    assert_eq!(
        iq_error(&out),
        ("not-allowed".to_owned(), "cancel".to_owned())
    );
    assert_nothing_happened(&out);
}

#[test]
fn s6_3_1_example_31_join_without_resources_is_resource_constraint() {
    let mut h = Harness::scripted(ScriptedPolicy {
        join: Box::new(|_, _, _, _| Err(Refusal::resource_constraint())),
        ..Default::default()
    });
    h.answered_call("calla");
    h.answered_call("callb");
    let out = h.set(JULIET, A, "h7ed2", &join_to("callb", ""));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(
        &st[0],
        &listing_folded("xep-0327-031.xml", 0, &[CALL_A_FROM_TYPO]),
    );
    assert_nothing_happened(&out);
}

#[test]
fn s6_3_1_example_32_malformed_join_is_bad_request() {
    let mut h = two_calls();
    let out = h.set(
        JULIET,
        A,
        "h7ed2",
        "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:'/>",
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(
        &st[0],
        &listing_folded("xep-0327-032.xml", 0, &[CALL_A_FROM_TYPO]),
    );
    assert_nothing_happened(&out);
    // "(eg no call URI specified)", or two parties at once.
    for bad in [
        "<join xmlns='urn:xmpp:rayo:1'/>",
        "<join xmlns='urn:xmpp:rayo:1' direction='recv'/>",
        "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:callb@call.shakespeare.lit' \
         mixer-name='myMixer'/>",
        "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:callb@call.shakespeare.lit' \
         direction='sideways'/>",
        "<join xmlns='urn:xmpp:rayo:1' call-uri='tel:+13055195825'/>",
    ] {
        let out = h.set(JULIET, A, "h7ed3", bad);
        assert_eq!(
            iq_error(&out),
            ("bad-request".to_owned(), "modify".to_owned()),
            "{bad}"
        );
        assert_nothing_happened(&out);
    }
}

#[test]
fn s6_3_1_example_33_unsupported_media_direction_is_feature_not_implemented_modify() {
    // A media server that cannot receive only over a direct join.
    let mut h = Harness::scripted(ScriptedPolicy {
        join: Box::new(|_, _, direction, media| {
            if media == JoinMedia::Direct && direction != JoinDirection::Duplex {
                Err(Refusal::option_not_implemented())
            } else {
                Ok(())
            }
        }),
        ..Default::default()
    });
    h.answered_call("calla");
    h.answered_call("callb");
    let out = h.set(
        JULIET,
        A,
        "h7ed2",
        &join_to("callb", "media='direct' direction='recv'"),
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(
        &st[0],
        &listing_folded("xep-0327-033.xml", 0, &[CALL_A_FROM_TYPO]),
    );
    assert_nothing_happened(&out);
    // The supported combination goes through.
    join_ok(&mut h, "calla", "callb", "media='direct'");
}

// ---- §6.3.2: unjoin -----------------------------------------------------------------------

#[test]
fn s6_3_2_example_34_35_39_unjoin_is_acknowledged_then_both_calls_emit_unjoined() {
    let mut h = two_calls();
    join_ok(&mut h, "calla", "callb", "");
    let out = h.send(spec("xep-0327-034.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "result and two unjoined events: {out:#?}");
    assert_matches_listing(&st[0], &spec("xep-0327-035.xml", 0));
    assert_matches_listing(&st[1], &spec("xep-0327-039.xml", 0));
    assert_matches_listing(&st[2], &spec("xep-0327-039.xml", 1));
    // "The server MUST unjoin the media streams of the two calls, rejoin both to the media
    // server".
    assert_eq!(
        media(&out),
        vec![MediaAction::Unjoin {
            a: call("calla"),
            b: call("callb"),
        }]
    );
    // The join is gone: unjoining again finds nothing.
    let out = h.send(spec("xep-0327-034.xml", 0));
    assert_eq!(
        iq_error(&out),
        ("service-unavailable".to_owned(), "cancel".to_owned())
    );
}

#[test]
fn s6_3_2_example_36_unjoin_without_party_breaks_every_join() {
    let mut h = three_calls();
    join_ok(&mut h, "calla", "callb", "");
    join_ok(&mut h, "calla", "callc", "direction='send'");
    let out = h.send(spec("xep-0327-036.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 5, "result and four unjoined events: {out:#?}");
    assert_matches_listing(&st[0], &spec("xep-0327-036.xml", 1));
    let expected = [
        presence(A, JULIET, &unjoined(B)),
        presence(B, JULIET, &unjoined(A)),
        presence(A, JULIET, &unjoined(C)),
        presence(C, JULIET, &unjoined(A)),
    ];
    for (actual, expected) in st[1..].iter().zip(&expected) {
        assert_matches_listing(actual, expected);
    }
    let mut unjoins = media(&out);
    unjoins.sort_by_key(|m| format!("{m:?}"));
    assert_eq!(
        unjoins,
        vec![
            MediaAction::Unjoin {
                a: call("calla"),
                b: call("callb")
            },
            MediaAction::Unjoin {
                a: call("calla"),
                b: call("callc")
            },
        ]
    );
    // With no join left, unjoining everything is still acknowledged and does nothing.
    let out = h.send(spec("xep-0327-036.xml", 0));
    assert_eq!(stanzas(&out).len(), 1);
    assert_matches_listing(&stanzas(&out)[0], &spec("xep-0327-036.xml", 1));
    assert_nothing_happened(&out);
}

#[test]
fn s6_3_2_example_37_unjoin_of_a_join_that_does_not_exist_is_service_unavailable() {
    let mut h = three_calls();
    join_ok(&mut h, "calla", "callb", "");
    // Example 37 echoes a <join/>: the unjoin that was sent is what comes back.
    let expected = listing_folded(
        "xep-0327-037.xml",
        0,
        &[CALL_A_FROM_TYPO, ("<join xmlns", "<unjoin xmlns")],
    );
    let unjoin_c = "<unjoin xmlns='urn:xmpp:rayo:1' call-uri='xmpp:callc@call.shakespeare.lit'/>";
    // callC exists but is not joined to callA.
    let out = h.set(JULIET, A, "h7ed2", unjoin_c);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(&st[0], &expected);
    assert_nothing_happened(&out);
    // callC does not exist at all.
    h.set(JULIET, C, "hang", "<hangup xmlns='urn:xmpp:rayo:1'/>");
    let out = h.set(JULIET, A, "h7ed2", unjoin_c);
    assert_error_matches_listing(&stanzas(&out)[0], &expected);
    assert_nothing_happened(&out);
    // Nor a mixer it was never joined to.
    let out = h.set(
        JULIET,
        A,
        "h7ed4",
        "<unjoin xmlns='urn:xmpp:rayo:1' mixer-name='myMixer'/>",
    );
    assert_eq!(
        iq_error(&out),
        ("service-unavailable".to_owned(), "cancel".to_owned())
    );
    // The existing join was not touched.
    let out = h.send(spec("xep-0327-034.xml", 0));
    assert_matches_listing(&stanzas(&out)[0], &spec("xep-0327-035.xml", 0));
}

#[test]
fn s6_3_2_example_38_malformed_unjoin_is_bad_request() {
    let mut h = two_calls();
    join_ok(&mut h, "calla", "callb", "");
    let out = h.set(
        JULIET,
        A,
        "h7ed2",
        "<unjoin xmlns='urn:xmpp:rayo:1' call-uri='xmpp:'/>",
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(
        &st[0],
        &listing_folded("xep-0327-038.xml", 0, &[CALL_A_FROM_TYPO]),
    );
    assert_nothing_happened(&out);
    let out = h.set(
        JULIET,
        A,
        "h7ed3",
        "<unjoin xmlns='urn:xmpp:rayo:1' call-uri='xmpp:callb@call.shakespeare.lit' \
         mixer-name='myMixer'/>",
    );
    assert_eq!(
        iq_error(&out),
        ("bad-request".to_owned(), "modify".to_owned())
    );
    assert_nothing_happened(&out);
}

// ---- §6.3.3: unjoined event ---------------------------------------------------------------

#[test]
fn s6_3_3_a_party_hanging_up_unjoins_with_events_from_both_calls() {
    // "Calls may be unjoined ... as the result of one of the calls disconnecting ... The
    // server MUST monitor calls for being unjoined from another call, and emit an unjoined
    // event when this is detected."
    let mut h = two_calls();
    join_ok(&mut h, "calla", "callb", "");
    let out = h.signal(
        "callb",
        SignalEvent::Ended {
            reason: EndReason::Hangup {
                platform_code: None,
            },
            headers: vec![],
        },
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "two unjoined events, then the end: {out:#?}");
    assert_matches_listing(&st[0], &spec("xep-0327-039.xml", 1));
    assert_matches_listing(&st[1], &spec("xep-0327-039.xml", 0));
    assert_matches_listing(
        &st[2],
        &listing_folded("xep-0327-087.xml", 0, &[("9f00061", "callb")]),
    );
    assert!(media(&out).contains(&MediaAction::Unjoin {
        a: call("callb"),
        b: call("calla"),
    }));
    // callA lives on, alone: nothing is joined to it any more.
    assert!(h.engine.has_call(&CallId("calla".into())));
    let out = h.send(spec("xep-0327-034.xml", 0));
    assert_eq!(
        iq_error(&out),
        ("service-unavailable".to_owned(), "cancel".to_owned())
    );
}

#[test]
fn s6_3_3_hanging_up_a_joined_call_unjoins_with_events_before_the_end() {
    let mut h = two_calls();
    join_ok(&mut h, "calla", "callb", "");
    let out = h.set(JULIET, A, "f3wh8", "<hangup xmlns='urn:xmpp:rayo:1'/>");
    let st = stanzas(&out);
    assert_eq!(st.len(), 4, "result, two unjoined, end: {out:#?}");
    assert_matches_listing(
        &st[0],
        &el("<iq type='result' from='calla@call.shakespeare.lit' \
             to='juliet@capulet.lit/balcony' id='f3wh8'/>"),
    );
    assert_matches_listing(&st[1], &spec("xep-0327-039.xml", 0));
    assert_matches_listing(&st[2], &spec("xep-0327-039.xml", 1));
    assert_matches_listing(
        &st[3],
        &listing_folded("xep-0327-011.xml", 0, &[("9f00061", "calla")]),
    );
}

// ---- §6.3.4: multiple joins ---------------------------------------------------------------

#[test]
fn s6_3_4_example_40_new_join_parameters_renegotiate_without_joined_events() {
    let mut h = two_calls();
    let out = h.send(spec("xep-0327-040.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "{out:#?}");
    for (i, s) in st.iter().enumerate() {
        assert_matches_listing(s, &spec("xep-0327-040.xml", i + 1));
    }
    assert_eq!(
        media(&out),
        vec![join_action(
            "calla",
            "callb",
            JoinDirection::Recv,
            JoinMedia::Bridge
        )]
    );
    // The upgrade: acknowledged, media renegotiated, and "The server MUST NOT re-send joined
    // events."
    let out = h.send(spec("xep-0327-040.xml", 4));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "only the result: {out:#?}");
    assert_matches_listing(&st[0], &spec("xep-0327-040.xml", 5));
    assert_eq!(
        media(&out),
        vec![join_action(
            "calla",
            "callb",
            JoinDirection::Duplex,
            JoinMedia::Bridge
        )]
    );
    // Sent to the other call of the join, a join is the same join modified: acknowledged,
    // renegotiated, no joined events.
    let out = h.set(JULIET, B, "h7ed4", &join_to("calla", "direction='send'"));
    assert_eq!(stanzas(&out).len(), 1, "only the result: {out:#?}");
    assert_eq!(
        media(&out),
        vec![join_action(
            "callb",
            "calla",
            JoinDirection::Send,
            JoinMedia::Bridge
        )]
    );
}

#[test]
fn s6_3_4_several_joins_at_once_each_with_its_own_parameters() {
    // "Rayo calls SHOULD support being joined to more than one other call at a time, each
    // join having different parameters. Creating a new join MUST NOT destroy existing joins."
    let mut h = three_calls();
    join_ok(&mut h, "calla", "callb", "direction='recv'");
    let out = h.set(JULIET, A, "j2", &join_to("callc", "direction='send'"));
    let st = stanzas(&out);
    assert_eq!(
        st.len(),
        3,
        "result and joined for the new join only: {out:#?}"
    );
    assert_matches_listing(&st[1], &presence(A, JULIET, &joined(C)));
    assert_matches_listing(&st[2], &presence(C, JULIET, &joined(A)));
    assert_eq!(
        media(&out),
        vec![join_action(
            "calla",
            "callc",
            JoinDirection::Send,
            JoinMedia::Bridge
        )],
        "the join to callB is left alone"
    );
    // Both joins exist: each can be broken on its own.
    for other in ["callb", "callc"] {
        let out = h.set(
            JULIET,
            A,
            "u",
            &format!(
                "<unjoin xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{other}@call.shakespeare.lit'/>"
            ),
        );
        assert!(
            matches!(iqs(&out)[..], [xmpp_parsers::iq::Iq::Result { .. }]),
            "{other}: {out:#?}"
        );
        assert_eq!(presences(&out).len(), 2);
    }
    // callB can meanwhile be joined to callC from its own side.
    join_ok(&mut h, "callb", "callc", "");
}

#[test]
fn s6_3_4_example_41_join_next_to_a_direct_join_is_conflict() {
    // A direct join connects the two remote parties to each other, outside the media
    // server: another join of callA cannot be made without breaking it.
    let mut h = three_calls();
    join_ok(&mut h, "calla", "callb", "media='direct'");
    let out = h.send(spec("xep-0327-041.xml", 4));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(
        &st[0],
        &listing_folded("xep-0327-041.xml", 5, &[CALL_A_FROM_TYPO]),
    );
    assert_nothing_happened(&out);
    // From callB's side, and from callC's side, the same.
    for (a, b) in [("callb", "callc"), ("callc", "calla"), ("callc", "callb")] {
        let out = h.set(
            JULIET,
            &format!("{a}@call.shakespeare.lit"),
            "x",
            &join_to(b, ""),
        );
        assert_eq!(
            iq_error(&out),
            ("conflict".to_owned(), "cancel".to_owned()),
            "{a} to {b}"
        );
        assert_nothing_happened(&out);
    }
    // The direct join itself is intact.
    let out = h.send(spec("xep-0327-034.xml", 0));
    assert_matches_listing(&stanzas(&out)[0], &spec("xep-0327-035.xml", 0));
}

#[test]
fn s6_3_4_direct_join_next_to_existing_joins_is_conflict() {
    let mut h = three_calls();
    let out = h.send(spec("xep-0327-041.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "{out:#?}");
    for (i, s) in st.iter().enumerate() {
        assert_matches_listing(s, &spec("xep-0327-041.xml", i + 1));
    }
    let direct_c = join_to("callc", "media='direct'");
    let out = h.set(JULIET, A, "h7ed3", &direct_c);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(
        &st[0],
        &with_echo(
            &listing_folded("xep-0327-041.xml", 5, &[CALL_A_FROM_TYPO]),
            &direct_c,
        ),
    );
    assert_nothing_happened(&out);
    // callC joined elsewhere cannot take a direct join to callA either.
    let mut h = three_calls();
    join_ok(&mut h, "callb", "callc", "");
    let out = h.set(JULIET, A, "h7ed3", &direct_c);
    assert_eq!(iq_error(&out), ("conflict".to_owned(), "cancel".to_owned()));
    assert_nothing_happened(&out);
    // Changing the existing join to direct is fine: it breaks nothing else.
    let mut h = two_calls();
    join_ok(&mut h, "calla", "callb", "");
    let out = h.set(JULIET, A, "h7ed4", &join_to("callb", "media='direct'"));
    assert_eq!(stanzas(&out).len(), 1, "no joined events re-sent: {out:#?}");
    assert_eq!(
        media(&out),
        vec![join_action(
            "calla",
            "callb",
            JoinDirection::Duplex,
            JoinMedia::Direct
        )]
    );
}
