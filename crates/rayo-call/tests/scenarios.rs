//! Whole conversations, as the clients, the signalling layer and the media engine see them:
//! every stanza and action in order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use rayo_call::{CallId, ComponentId, MediaAction, MediaEvent, MixerId, Output, SignalEvent};
use rayo_proto::event::{CompleteReason, OutputReason};
use rayo_proto::generated::rayo::EndReason;

const CALL: &str = "9f00061@call.shakespeare.lit";
const JOIN_MY_MIXER: &str = "<join xmlns='urn:xmpp:rayo:1' mixer-name='myMixer'/>";
const UNJOIN: &str = "<unjoin xmlns='urn:xmpp:rayo:1'/>";
const MIXER: &str = "mymixer@mixer.shakespeare.lit";

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn hung_up() -> SignalEvent {
    SignalEvent::Ended {
        reason: EndReason::Hangup {
            platform_code: None,
        },
        headers: vec![],
    }
}

#[test]
fn inbound_call_accepted_answered_output_input_hangup() {
    let mut h = Harness::new();
    h.available(JULIET);

    // The call comes in: Juliet is offered it (example 1).
    let out = h.incoming_as("9f00061", true);
    assert_eq!(
        trace(&out),
        lines(&["9f00061@call.shakespeare.lit -> juliet@capulet.lit/balcony: offer"])
    );
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-001.xml", 0));

    // She accepts (examples 2, 3): the caller hears ringing.
    let out = h.send_listing("xep-0327-002.xml", 0);
    assert_eq!(
        trace(&out),
        lines(&["result -> juliet@capulet.lit/balcony", "signal Accept"])
    );
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-003.xml", 0));

    // She answers (examples 4, 5).
    let out = h.send_listing("xep-0327-004.xml", 0);
    assert_eq!(
        trace(&out),
        lines(&["result -> juliet@capulet.lit/balcony", "signal Answer"])
    );
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-005.xml", 0));

    // An output (examples 6, 7, 8).
    let out = h.send_listing("xep-0327-006.xml", 0);
    assert_eq!(
        trace(&out),
        lines(&[
            "result -> juliet@capulet.lit/balcony",
            "media StartComponent"
        ])
    );
    let output = resource(&ref_jid(&out).expect("a ref"));
    assert_matches_listing(
        &stanzas(&out)[0],
        &listing_edited("xep-0327-007.xml", 0, &[("fgh4590", &output)]),
    );
    let out = h.media(MediaEvent::Complete {
        component: ComponentId(output.clone()),
        reason: CompleteReason::Output(OutputReason::Finish),
        metadata: vec![],
    });
    assert_eq!(
        trace(&out),
        vec![format!(
            "{CALL}/{output} -> juliet@capulet.lit/balcony: complete"
        )]
    );
    assert_matches_listing(
        &stanzas(&out)[0],
        &listing_edited("xep-0327-008.xml", 0, &[("fgh4590", &output)]),
    );

    // An input (examples 71, 72): the caller keys in digits.
    let out = h.send_listing("xep-0327-071.xml", 0);
    assert_eq!(
        trace(&out),
        lines(&[
            "result -> juliet@capulet.lit/balcony",
            "media StartComponent"
        ])
    );
    let input = resource(&ref_jid(&out).expect("a ref"));
    for digit in ['1', '2', '3', '4'] {
        let out = h.signal("9f00061", SignalEvent::Dtmf { digit });
        assert_eq!(
            out,
            vec![Output::Media(MediaAction::Dtmf {
                call: CallId("9f00061".into()),
                digit
            })]
        );
    }
    let out = h.media(completed_as(&input, "xep-0327-072.xml", 0));
    assert_matches_listing(
        &stanzas(&out)[0],
        &listing_edited(
            "xep-0327-072.xml",
            0,
            &[("eh3u28", &input), ("juliet@capulet.lit/courtyard", JULIET)],
        ),
    );
    assert_eq!(h.engine.component_count(), 0);

    // She hangs up (examples 9, 10, 11).
    let out = h.send_listing("xep-0327-009.xml", 0);
    assert_eq!(
        trace(&out),
        lines(&[
            "result -> juliet@capulet.lit/balcony",
            "signal Hangup",
            "media ReleaseCall",
            "9f00061@call.shakespeare.lit -> juliet@capulet.lit/balcony: end(hangup-command)",
        ])
    );
    let st = stanzas(&out);
    assert_matches_listing(&st[0], &listing("xep-0327-010.xml", 0));
    assert_matches_listing(&st[1], &listing("xep-0327-011.xml", 0));
    assert_eq!(h.engine.call_count(), 0);
    // The call is gone (example 88).
    let out = h.send_listing("xep-0327-088.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-088.xml", 1));
}

#[test]
fn outbound_call_with_a_nested_join() {
    let mut h = Harness::new();
    // Juliet is on an inbound call e8u398d902i90 (the call example 24 joins).
    h.answered_call("e8u398d902i90");
    let other = "e8u398d902i90@call.shakespeare.lit";

    // She dials, asking for the new call to be joined to it once answered.
    let out = h.send_listing("xep-0327-024.xml", 0);
    assert_eq!(
        trace(&out),
        lines(&["result -> juliet@capulet.lit/balcony", "signal Dial"])
    );
    let new_jid = ref_jid(&out).expect("the new call's ref");
    let new_id = new_jid.split('@').next().expect("a node").to_owned();
    assert_matches_listing(
        &stanzas(&out)[0],
        &listing_edited("xep-0327-021.xml", 0, &[("9f00061", &new_id)]),
    );
    match &signals(&out)[0] {
        rayo_call::SignalAction::Dial { call, to, from, .. } => {
            assert_eq!(call.0, new_id);
            assert_eq!(to, "tel:+13055195825");
            assert_eq!(from.as_deref(), Some("tel:+14152226789"));
        }
        other => panic!("{other:?}"),
    }
    // Nothing is joined before the answer.
    assert!(media(&out).is_empty());

    // It rings (example 22), then is answered (example 23): then the join is made, and both
    // calls say so.
    let out = h.signal(&new_id, SignalEvent::Ringing { headers: vec![] });
    assert_eq!(
        trace(&out),
        vec![format!("{new_jid} -> juliet@capulet.lit/balcony: ringing")]
    );
    let out = h.signal(&new_id, SignalEvent::Answered { headers: vec![] });
    assert_eq!(
        trace(&out),
        vec![
            format!("{new_jid} -> juliet@capulet.lit/balcony: answered"),
            "media Join".to_owned(),
            format!("{new_jid} -> juliet@capulet.lit/balcony: joined"),
            format!("{other} -> juliet@capulet.lit/balcony: joined"),
        ]
    );
    let st = stanzas(&out);
    assert_matches_listing(
        &st[0],
        &listing_edited("xep-0327-023.xml", 0, &[("9f00061", &new_id)]),
    );
    assert_matches_listing(
        &st[1],
        &el(&format!(
            "<presence from='{new_jid}' to='{JULIET}'>\
             <joined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{other}'/></presence>"
        )),
    );
    assert_matches_listing(
        &st[2],
        &el(&format!(
            "<presence from='{other}' to='{JULIET}'>\
             <joined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{new_jid}'/></presence>"
        )),
    );
    assert_eq!(
        media(&out),
        vec![MediaAction::Join {
            a: rayo_call::Party::Call(CallId(new_id.clone())),
            b: rayo_call::Party::Call(CallId("e8u398d902i90".into())),
            direction: rayo_proto::generated::rayo::JoinDirection::Duplex,
            media: rayo_proto::generated::rayo::JoinMedia::Bridge,
        }]
    );

    // The callee hangs up: the join breaks with events from both, then the end.
    let out = h.signal(&new_id, hung_up());
    assert_eq!(
        trace(&out),
        vec![
            "media Unjoin".to_owned(),
            format!("{new_jid} -> juliet@capulet.lit/balcony: unjoined"),
            format!("{other} -> juliet@capulet.lit/balcony: unjoined"),
            "media ReleaseCall".to_owned(),
            format!("{new_jid} -> juliet@capulet.lit/balcony: end(hangup)"),
        ]
    );
    assert!(h.engine.has_call(&CallId("e8u398d902i90".into())));
}

#[test]
fn two_pcps_race_for_an_offered_call() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    let out = h.incoming_as("9f00061", true);
    let mut offered = trace(&out);
    offered.sort();
    assert_eq!(
        offered,
        lines(&[
            "9f00061@call.shakespeare.lit -> juliet@capulet.lit/balcony: offer",
            "9f00061@call.shakespeare.lit -> romeo@montague.lit/orchard: offer",
        ])
    );
    // Romeo is first: he becomes the DCP.
    let out = h.set(ROMEO, CALL, "r1", "<accept xmlns='urn:xmpp:rayo:1'/>");
    assert_eq!(
        trace(&out),
        lines(&["result -> romeo@montague.lit/orchard", "signal Accept"])
    );
    // Juliet is second: conflict (example 26), whatever she sends.
    let out = h.set(JULIET, CALL, "h7ed2", "<accept xmlns='urn:xmpp:rayo:1'/>");
    assert_eq!(out.len(), 1);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-026.xml", 0));
    let out = h.set(JULIET, CALL, "j2", "<answer xmlns='urn:xmpp:rayo:1'/>");
    assert_eq!(
        trace(&out),
        lines(&["error conflict -> juliet@capulet.lit/balcony"])
    );
    // Romeo goes on alone.
    let out = h.set(ROMEO, CALL, "r2", "<answer xmlns='urn:xmpp:rayo:1'/>");
    assert_eq!(
        trace(&out),
        lines(&["result -> romeo@montague.lit/orchard", "signal Answer"])
    );
    let out = h.set(ROMEO, CALL, "r3", "<hangup xmlns='urn:xmpp:rayo:1'/>");
    // Both were offered the call: both hear of its end (§6.6.4).
    assert_eq!(
        trace(&out),
        lines(&[
            "result -> romeo@montague.lit/orchard",
            "signal Hangup",
            "media ReleaseCall",
            "9f00061@call.shakespeare.lit -> juliet@capulet.lit/balcony: end(hangup-command)",
            "9f00061@call.shakespeare.lit -> romeo@montague.lit/orchard: end(hangup-command)",
        ])
    );
}

#[test]
fn a_pcp_leaves_mid_offer() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.available(ROMEO);
    h.incoming_as("9f00061", true);
    // Juliet goes offline while the offer stands: nobody hears of it, Romeo still holds it.
    let out = h.offline(JULIET);
    assert!(out.is_empty(), "{out:#?}");
    // She is no longer a potential controlling party of it.
    let out = h.set(JULIET, CALL, "j1", "<accept xmlns='urn:xmpp:rayo:1'/>");
    assert_eq!(
        trace(&out),
        lines(&["error conflict -> juliet@capulet.lit/balcony"])
    );
    let out = h.set(ROMEO, CALL, "r1", "<accept xmlns='urn:xmpp:rayo:1'/>");
    assert_eq!(
        trace(&out),
        lines(&["result -> romeo@montague.lit/orchard", "signal Accept"])
    );

    // Another call, offered to both; both leave: it is rejected as if nobody had been there
    // (§6.2.2), and ends for those it was offered to.
    h.available(JULIET);
    h.incoming_as("c2", true);
    assert!(h.dnd(ROMEO).is_empty());
    let out = h.offline(JULIET);
    assert_eq!(
        trace(&out),
        lines(&[
            "signal Reject",
            "media ReleaseCall",
            "c2@call.shakespeare.lit -> juliet@capulet.lit/balcony: end(error)",
            "c2@call.shakespeare.lit -> romeo@montague.lit/orchard: end(error)",
        ])
    );
    assert!(matches!(
        signals(&out)[0],
        rayo_call::SignalAction::Reject {
            cause: rayo_call::RejectCause::ServiceUnavailable,
            ..
        }
    ));
    // Romeo's first call is untouched.
    assert!(h.engine.has_call(&CallId("9f00061".into())));
}

#[test]
fn three_party_mixer_with_one_leaving() {
    let mut h = Harness::new();
    // Juliet's balcony takes callA and callB, her courtyard callC: one security zone.
    h.answered_call("calla");
    h.answered_call("callb");
    h.answered_call_by(JULIET_COURTYARD, "callc");
    let (a, b, c) = (
        "calla@call.shakespeare.lit",
        "callb@call.shakespeare.lit",
        "callc@call.shakespeare.lit",
    );
    let out = h.set(JULIET, a, "ja", JOIN_MY_MIXER);
    assert_eq!(
        trace(&out),
        vec![
            "media CreateMixer".to_owned(),
            "media Join".to_owned(),
            format!("{MIXER} -> {JULIET}: presence"),
            format!("result -> {JULIET}"),
            format!("{a} -> {JULIET}: joined"),
            format!("{MIXER} -> {JULIET}: joined"),
        ]
    );
    let mixer: MixerId = media(&out)
        .into_iter()
        .find_map(|m| match m {
            MediaAction::CreateMixer { mixer } => Some(mixer),
            _ => None,
        })
        .expect("a mixer");
    let out = h.set(JULIET, b, "jb", JOIN_MY_MIXER);
    assert_eq!(
        trace(&out),
        vec![
            "media Join".to_owned(),
            format!("result -> {JULIET}"),
            format!("{b} -> {JULIET}: joined"),
            format!("{MIXER} -> {JULIET}: joined"),
        ]
    );
    let out = h.set(JULIET_COURTYARD, c, "jc", JOIN_MY_MIXER);
    assert_eq!(
        trace(&out),
        vec![
            "media Join".to_owned(),
            format!("{MIXER} -> {JULIET_COURTYARD}: presence"),
            format!("result -> {JULIET_COURTYARD}"),
            format!("{c} -> {JULIET_COURTYARD}: joined"),
            format!("{MIXER} -> {JULIET}: joined"),
            format!("{MIXER} -> {JULIET_COURTYARD}: joined"),
        ]
    );
    let speaks = |h: &mut Harness, who: &str| {
        trace(&h.media(MediaEvent::Speaking {
            mixer: mixer.clone(),
            call: CallId(who.to_owned()),
            speaking: true,
        }))
    };
    assert_eq!(
        speaks(&mut h, "calla"),
        vec![
            format!("{MIXER} -> {JULIET}: started-speaking"),
            format!("{MIXER} -> {JULIET_COURTYARD}: started-speaking"),
        ]
    );

    // callC's caller hangs up: it leaves the mixer, which goes on for the other two.
    let out = h.signal("callc", hung_up());
    assert_eq!(
        trace(&out),
        vec![
            "media Unjoin".to_owned(),
            format!("{c} -> {JULIET_COURTYARD}: unjoined"),
            format!("{MIXER} -> {JULIET}: unjoined"),
            format!("{MIXER} -> {JULIET_COURTYARD}: unjoined"),
            "media ReleaseCall".to_owned(),
            // callC was offered to both of Juliet's resources.
            format!("{c} -> {JULIET}: end(hangup)"),
            format!("{c} -> {JULIET_COURTYARD}: end(hangup)"),
        ]
    );
    assert_eq!(h.engine.mixer_count(), 1);
    // The courtyard has no call in the mixer any more: its events go to the balcony only.
    assert_eq!(
        speaks(&mut h, "callb"),
        vec![format!("{MIXER} -> {JULIET}: started-speaking")]
    );
    assert!(speaks(&mut h, "callc").is_empty());

    // The last two leave: the mixer is destroyed, and everyone it sent presence to hears it.
    let out = h.set(JULIET, a, "ua", UNJOIN);
    assert_eq!(
        trace(&out),
        vec![
            format!("result -> {JULIET}"),
            "media Unjoin".to_owned(),
            format!("{a} -> {JULIET}: unjoined"),
            format!("{MIXER} -> {JULIET}: unjoined"),
        ]
    );
    let out = h.set(JULIET, b, "ub", UNJOIN);
    assert_eq!(
        trace(&out),
        vec![
            format!("result -> {JULIET}"),
            "media Unjoin".to_owned(),
            format!("{b} -> {JULIET}: unjoined"),
            format!("{MIXER} -> {JULIET}: unjoined"),
            "media DestroyMixer".to_owned(),
            format!("{MIXER} -> {JULIET}: presence"),
            format!("{MIXER} -> {JULIET_COURTYARD}: presence"),
        ]
    );
    assert!(presences(&out)
        .iter()
        .rev()
        .take(2)
        .all(|p| p.type_ == xmpp_parsers::presence::Type::Unavailable));
    assert_eq!(h.engine.mixer_count(), 0);
}
