//! XEP-0327 §6.4: mixers — implicit creation, presence, events to every controlling party
//! with a call in them, names scoped to security zones, components, active speakers and
//! destruction.
//!
//! Listings are compared as the engine writes JIDs: `myMixer@…` is `mymixer@…` after nodeprep
//! ([`listing_folded`]); the friendly name in `mixer-name` stays `myMixer`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use rayo_call::{CallId, MediaAction, MediaEvent, MixerId, Output, Party, Refusal, SignalEvent};
use rayo_proto::generated::rayo::{EndReason, JoinDirection, JoinMedia};
use xmpp_parsers::iq::Iq;

const A: &str = "calla@call.shakespeare.lit";
const B: &str = "callb@call.shakespeare.lit";
const M: &str = "mymixer@mixer.shakespeare.lit";
const JOIN_MY_MIXER: &str = "<join xmlns='urn:xmpp:rayo:1' mixer-name='myMixer'/>";
const UNJOIN_MY_MIXER: &str = "<unjoin xmlns='urn:xmpp:rayo:1' mixer-name='myMixer'/>";
const OUTPUT: &str = "<output xmlns='urn:xmpp:rayo:output:1'>\
     <document content-type='text/plain'>Thanks for calling, goodbye!</document></output>";

fn spec(file: &str, index: usize) -> minidom::Element {
    listing_folded(file, index, &[])
}

fn call(id: &str) -> Party {
    Party::Call(CallId(id.to_owned()))
}

fn presence(from: &str, to: &str, payload: &str) -> minidom::Element {
    el(&format!(
        "<presence from='{from}' to='{to}'>{payload}</presence>"
    ))
}

/// The mixer caps presence of example 42, to `to`.
fn mixer_caps_to(to: &str) -> minidom::Element {
    listing_folded(
        "xep-0327-042.xml",
        1,
        &[(
            "to='juliet@capulet.lit/balcony'>\n  <c",
            &format!("to='{to}'>\n  <c"),
        )],
    )
}

fn call_joined_mixer() -> String {
    "<joined xmlns='urn:xmpp:rayo:1' mixer-name='myMixer'/>".to_owned()
}

fn call_unjoined_mixer() -> String {
    "<unjoined xmlns='urn:xmpp:rayo:1' mixer-name='myMixer'/>".to_owned()
}

fn mixer_says(event: &str, call_jid: &str) -> String {
    format!("<{event} xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{call_jid}'/>")
}

/// The mixers the media engine was told to create.
fn created(out: &[Output]) -> Vec<MixerId> {
    media(out)
        .into_iter()
        .filter_map(|m| match m {
            MediaAction::CreateMixer { mixer } => Some(mixer),
            _ => None,
        })
        .collect()
}

fn is_result(out: &[Output]) -> bool {
    matches!(iqs(out)[..], [Iq::Result { .. }])
}

fn speaking(mixer: &MixerId, call_id: &str, speaking: bool) -> MediaEvent {
    MediaEvent::Speaking {
        mixer: mixer.clone(),
        call: CallId(call_id.to_owned()),
        speaking,
    }
}

/// Juliet's callA in myMixer (example 42); returns the mixer's id.
fn call_a_in_my_mixer<P: rayo_call::Policy>(h: &mut Harness<P>) -> MixerId {
    h.answered_call("calla");
    let out = h.set(JULIET, A, "h7ed2", JOIN_MY_MIXER);
    assert!(is_result(&out), "{out:#?}");
    created(&out).pop().expect("a mixer")
}

#[test]
fn s6_4_example_42_first_join_creates_the_mixer_with_caps_presence_ref_and_joined_events() {
    let mut h = Harness::new();
    h.answered_call("calla");
    let out = h.send(spec("xep-0327-042.xml", 0));
    let st = stanzas(&out);
    // "A mixer MUST be implicitly created the first time a call attempts to join it, MUST
    // immediately broadcast presence to all controlling parties who have calls joined to it,
    // and must respond to the join command with a reference to the mixer. The server MUST
    // include entity capabilities information in the first presence stanza it sends".
    assert_eq!(
        st.len(),
        4,
        "caps presence, ref, two joined events: {out:#?}"
    );
    for (i, s) in st.iter().enumerate() {
        assert_matches_listing(s, &spec("xep-0327-042.xml", i + 1));
    }
    let mixer = created(&out).pop().expect("the mixer is created");
    assert_eq!(
        media(&out),
        vec![
            MediaAction::CreateMixer {
                mixer: mixer.clone()
            },
            MediaAction::Join {
                a: call("calla"),
                b: Party::Mixer(mixer),
                direction: JoinDirection::Duplex,
                media: JoinMedia::Bridge,
            },
        ]
    );
    assert_eq!(h.engine.mixer_count(), 1);
}

#[test]
fn s6_4_second_call_joins_the_existing_mixer_without_a_second_creation_or_caps() {
    let mut h = Harness::new();
    let mixer = call_a_in_my_mixer(&mut h);
    h.answered_call("callb");
    let out = h.set(JULIET, B, "h7ed3", JOIN_MY_MIXER);
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "ref and two joined events: {out:#?}");
    assert_matches_listing(
        &st[0],
        &listing_folded(
            "xep-0327-042.xml",
            2,
            &[("callA@", "callB@"), ("h7ed2", "h7ed3")],
        ),
    );
    assert_matches_listing(&st[1], &presence(B, JULIET, &call_joined_mixer()));
    assert_matches_listing(&st[2], &presence(M, JULIET, &mixer_says("joined", B)));
    assert_eq!(
        media(&out),
        vec![MediaAction::Join {
            a: call("callb"),
            b: Party::Mixer(mixer),
            direction: JoinDirection::Duplex,
            media: JoinMedia::Bridge,
        }]
    );
    assert_eq!(h.engine.mixer_count(), 1);
}

#[test]
fn s6_4_mixer_presence_and_events_go_to_every_controlling_party_with_a_call_in_it() {
    let mut h = Harness::new();
    let mixer = call_a_in_my_mixer(&mut h);
    // Juliet's courtyard (same zone) controls callB and joins it to the mixer: she gets the
    // mixer's first presence with caps, and from then on the mixer's events, as does the
    // balcony.
    h.answered_call_by(JULIET_COURTYARD, "callb");
    let out = h.set(JULIET_COURTYARD, B, "c1", JOIN_MY_MIXER);
    let st = stanzas(&out);
    assert_eq!(st.len(), 5, "{:#?}", trace(&out));
    assert_matches_listing(&st[0], &mixer_caps_to(JULIET_COURTYARD));
    assert!(matches!(
        &iqs(&out)[..],
        [Iq::Result {
            payload: Some(_),
            ..
        }]
    ));
    assert_matches_listing(&st[2], &presence(B, JULIET_COURTYARD, &call_joined_mixer()));
    let mixer_joined_b = mixer_says("joined", B);
    let to_both: Vec<_> = st[3..].iter().collect();
    assert_matches_listing(to_both[0], &presence(M, JULIET, &mixer_joined_b));
    assert_matches_listing(to_both[1], &presence(M, JULIET_COURTYARD, &mixer_joined_b));

    // Active speakers too.
    let out = h.media(speaking(&mixer, "callb", true));
    let st = stanzas(&out);
    assert_eq!(st.len(), 2, "{out:#?}");
    let started_b = mixer_says("started-speaking", B);
    assert_matches_listing(&st[0], &presence(M, JULIET, &started_b));
    assert_matches_listing(&st[1], &presence(M, JULIET_COURTYARD, &started_b));

    // callB leaves: both hear it; the courtyard, with no call left in the mixer, hears no
    // more of it.
    let out = h.set(JULIET_COURTYARD, B, "c2", UNJOIN_MY_MIXER);
    assert_eq!(
        trace(&out),
        vec![
            "result -> juliet@capulet.lit/courtyard".to_owned(),
            "media Unjoin".to_owned(),
            format!("{B} -> {JULIET_COURTYARD}: unjoined"),
            format!("{M} -> {JULIET}: unjoined"),
            format!("{M} -> {JULIET_COURTYARD}: unjoined"),
        ]
    );
    let out = h.media(speaking(&mixer, "calla", true));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &spec("xep-0327-044.xml", 0));
}

#[test]
fn s6_4_friendly_mixer_names_are_scoped_to_the_security_zone() {
    let mut h = Harness::new();
    let juliets = call_a_in_my_mixer(&mut h);
    // Romeo (another bare JID) names his mixer the same: he gets a mixer of his own.
    h.available(ROMEO);
    h.answered_call_by(ROMEO, "callr");
    let r = "callr@call.shakespeare.lit";
    let out = h.set(ROMEO, r, "r1", JOIN_MY_MIXER);
    let romeos = created(&out).pop().expect("Romeo's own mixer is created");
    assert_ne!(romeos, juliets);
    assert_eq!(h.engine.mixer_count(), 2);
    let st = stanzas(&out);
    assert_eq!(st.len(), 4, "{out:#?}");
    assert_matches_listing(&st[0], &mixer_caps_to(ROMEO));
    assert_matches_listing(&st[2], &presence(r, ROMEO, &call_joined_mixer()));
    assert_matches_listing(&st[3], &presence(M, ROMEO, &mixer_says("joined", r)));
    assert!(
        presences(&out)
            .iter()
            .all(|p| p.to.as_ref().map(|t| t.to_string()) == Some(ROMEO.to_owned())),
        "nothing of Romeo's mixer reaches Juliet"
    );
    assert!(media(&out).contains(&MediaAction::Join {
        a: call("callr"),
        b: Party::Mixer(romeos.clone()),
        direction: JoinDirection::Duplex,
        media: JoinMedia::Bridge,
    }));
    // Each mixer's active speakers go to its own zone only.
    let out = h.media(speaking(&juliets, "calla", true));
    assert_eq!(stanzas(&out).len(), 1);
    assert_matches_listing(&stanzas(&out)[0], &spec("xep-0327-044.xml", 0));
    let out = h.media(speaking(&romeos, "callr", true));
    assert_eq!(stanzas(&out).len(), 1);
    assert_matches_listing(
        &stanzas(&out)[0],
        &presence(M, ROMEO, &mixer_says("started-speaking", r)),
    );
    // A call of one zone is no participant of the other zone's mixer.
    assert!(h.media(speaking(&juliets, "callr", true)).is_empty());
}

#[test]
fn s6_4_clients_cannot_interact_with_mixers_of_another_zone() {
    // "A server MUST NOT allow clients to interact with mixers allocated within other
    // security zones either by observing their status or media."
    let mut h = Harness::new();
    call_a_in_my_mixer(&mut h);
    let comp = h.start_component(JULIET, M, OUTPUT);
    h.available(ROMEO);
    h.answered_call_by(ROMEO, "callr");
    // Romeo has no mixer of that name: to him it does not exist.
    for payload in [
        OUTPUT,
        "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:callr@call.shakespeare.lit'/>",
        "<unjoin xmlns='urn:xmpp:rayo:1'/>",
    ] {
        let out = h.set(ROMEO, M, "r1", payload);
        assert_eq!(
            iq_error(&out),
            ("item-not-found".to_owned(), "cancel".to_owned()),
            "{payload}"
        );
        assert!(media(&out).is_empty() && presences(&out).is_empty());
    }
    // Nor do its components exist for him.
    let out = h.set(ROMEO, &comp, "r2", "<stop xmlns='urn:xmpp:rayo:ext:1'/>");
    assert_eq!(
        iq_error(&out),
        ("item-not-found".to_owned(), "cancel".to_owned())
    );
    assert!(media(&out).is_empty());
    // Unjoining "myMixer" from his call names no join of his.
    let out = h.set(ROMEO, "callr@call.shakespeare.lit", "r3", UNJOIN_MY_MIXER);
    assert_eq!(
        iq_error(&out),
        ("service-unavailable".to_owned(), "cancel".to_owned())
    );
    assert_eq!(h.engine.mixer_count(), 1);
}

#[test]
fn s6_4_example_43_output_on_a_mixer_gives_a_ref_under_the_mixer_jid() {
    // "mixers SHOULD be able to host components just like calls".
    let mut h = Harness::new();
    let mixer = call_a_in_my_mixer(&mut h);
    let out = h.send(spec("xep-0327-043.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    let jid = ref_jid(&out).expect("a ref");
    let id = resource(&jid);
    assert_matches_listing(
        &st[0],
        &listing_folded("xep-0327-043.xml", 1, &[("/d38d3", &format!("/{id}"))]),
    );
    assert!(
        matches!(
            &media(&out)[..],
            [MediaAction::StartComponent { on: Party::Mixer(m), component, early: false, .. }]
                if *m == mixer && component.0 == id
        ),
        "{out:#?}"
    );
    assert_eq!(h.engine.component_count(), 1);
    // It completes to the client that started it.
    let out = h.media(completed_as(&id, "xep-0327-070.xml", 0));
    assert_matches_listing(
        &stanzas(&out)[0],
        &listing_folded(
            "xep-0327-070.xml",
            0,
            &[
                ("9f00061@call.shakespeare.lit/eh3u28", &jid),
                ("juliet@capulet.lit/courtyard", JULIET),
            ],
        ),
    );
}

#[test]
fn s6_4_example_44_active_speaker_events_for_calls_in_the_mixer() {
    let mut h = Harness::new();
    let mixer = call_a_in_my_mixer(&mut h);
    h.answered_call("callb");
    assert!(is_result(&h.set(JULIET, B, "j", JOIN_MY_MIXER)));
    // "it MUST emit active speaker events ... Such events MUST indicate the start and end of
    // speaking for a particular call ID joined to the mixer."
    for (i, (who, on)) in [
        ("calla", true),
        ("callb", true),
        ("callb", false),
        ("calla", false),
    ]
    .into_iter()
    .enumerate()
    {
        let out = h.media(speaking(&mixer, who, on));
        let st = stanzas(&out);
        assert_eq!(st.len(), 1, "{out:#?}");
        assert_matches_listing(&st[0], &spec("xep-0327-044.xml", i));
    }
    // A call that is not in the mixer (or no longer is) is nobody's active speaker.
    h.answered_call("callc");
    assert!(h.media(speaking(&mixer, "callc", true)).is_empty());
    assert!(is_result(&h.set(JULIET, B, "u", UNJOIN_MY_MIXER)));
    assert!(h.media(speaking(&mixer, "callb", true)).is_empty());
    assert!(h.media(speaking(&mixer, "gone", true)).is_empty());
}

#[test]
fn s6_4_last_participant_leaving_destroys_the_mixer_with_unavailable_presence() {
    let mut h = Harness::new();
    let mixer = call_a_in_my_mixer(&mut h);
    h.answered_call("callb");
    assert!(is_result(&h.set(JULIET, B, "j", JOIN_MY_MIXER)));
    // callA leaves: the mixer stays for callB.
    let out = h.set(JULIET, A, "u1", UNJOIN_MY_MIXER);
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "{out:#?}");
    assert_matches_listing(&st[1], &presence(A, JULIET, &call_unjoined_mixer()));
    assert_matches_listing(&st[2], &presence(M, JULIET, &mixer_says("unjoined", A)));
    assert_eq!(
        media(&out),
        vec![MediaAction::Unjoin {
            a: call("calla"),
            b: Party::Mixer(mixer.clone()),
        }]
    );
    assert_eq!(h.engine.mixer_count(), 1);
    // callB, the last one, leaves: "the mixer SHOULD be destroyed. When a mixer is destroyed,
    // it MUST send unavailable presence to all entities which have a presence subscription."
    let out = h.set(JULIET, B, "u2", UNJOIN_MY_MIXER);
    let st = stanzas(&out);
    assert_eq!(st.len(), 4, "{out:#?}");
    assert_matches_listing(&st[1], &presence(B, JULIET, &call_unjoined_mixer()));
    assert_matches_listing(&st[2], &presence(M, JULIET, &mixer_says("unjoined", B)));
    assert_matches_listing(
        &st[3],
        &el(&format!(
            "<presence from='{M}' to='{JULIET}' type='unavailable'/>"
        )),
    );
    assert_eq!(
        media(&out),
        vec![
            MediaAction::Unjoin {
                a: call("callb"),
                b: Party::Mixer(mixer.clone()),
            },
            MediaAction::DestroyMixer {
                mixer: mixer.clone()
            },
        ]
    );
    assert_eq!(h.engine.mixer_count(), 0);
    // It is gone: commands to it find nothing…
    let out = h.set(JULIET, M, "o", OUTPUT);
    assert_eq!(
        iq_error(&out),
        ("item-not-found".to_owned(), "cancel".to_owned())
    );
    // …and the name makes a new mixer, announced anew.
    let out = h.set(JULIET, A, "j2", JOIN_MY_MIXER);
    let again = created(&out).pop().expect("a new mixer");
    assert_ne!(again, mixer);
    assert_matches_listing(&stanzas(&out)[0], &spec("xep-0327-042.xml", 1));
}

#[test]
fn s6_4_mixer_is_destroyed_when_its_last_call_hangs_up() {
    let mut h = Harness::new();
    let mixer = call_a_in_my_mixer(&mut h);
    let comp = h.start_component(JULIET, M, OUTPUT);
    let out = h.signal(
        "calla",
        SignalEvent::Ended {
            reason: EndReason::Hangup {
                platform_code: None,
            },
            headers: vec![],
        },
    );
    assert_eq!(
        trace(&out),
        vec![
            "media Unjoin".to_owned(),
            format!("{A} -> {JULIET}: unjoined"),
            format!("{M} -> {JULIET}: unjoined"),
            "media StopComponent".to_owned(),
            format!("{comp} -> {JULIET}: complete(hangup)"),
            "media DestroyMixer".to_owned(),
            format!("{M} -> {JULIET}: presence"),
            "media ReleaseCall".to_owned(),
            format!("{A} -> {JULIET}: end(hangup)"),
        ]
    );
    assert!(media(&out).contains(&MediaAction::DestroyMixer { mixer }));
    assert_eq!(h.engine.mixer_count(), 0);
    assert_eq!(h.engine.component_count(), 0);
    let unavailable = presences(&out)
        .into_iter()
        .find(|p| {
            p.from.as_ref().map(|f| f.to_string()) == Some(M.to_owned()) && p.payloads.is_empty()
        })
        .expect("the mixer's unavailable presence");
    assert_eq!(unavailable.type_, xmpp_parsers::presence::Type::Unavailable);
}

#[test]
fn s6_4_join_errors_on_mixers_are_those_of_calls() {
    // "The error conditions on joining a mixer are the same as for calls".
    // A mixer mixes in the media server: a direct join to one cannot be done.
    let mut h = Harness::new();
    h.answered_call("calla");
    let out = h.set(
        JULIET,
        A,
        "d",
        "<join xmlns='urn:xmpp:rayo:1' mixer-name='myMixer' media='direct'/>",
    );
    assert_eq!(
        iq_error(&out),
        ("feature-not-implemented".to_owned(), "modify".to_owned())
    );
    assert!(media(&out).is_empty() && presences(&out).is_empty());
    assert_eq!(h.engine.mixer_count(), 0, "no mixer is left behind");

    // No resources for the join: nothing is created.
    let mut h = Harness::scripted(ScriptedPolicy {
        join: Box::new(|_, b, _, _| match b {
            Party::Mixer(_) => Err(Refusal::resource_constraint()),
            Party::Call(_) => Ok(()),
        }),
        ..Default::default()
    });
    h.answered_call("calla");
    let out = h.set(JULIET, A, "h7ed2", JOIN_MY_MIXER);
    assert_eq!(
        iq_error(&out),
        ("resource-constraint".to_owned(), "wait".to_owned())
    );
    assert!(media(&out).is_empty() && presences(&out).is_empty());
    assert_eq!(h.engine.mixer_count(), 0, "no mixer is left behind");
    let out = h.set(JULIET, M, "o", OUTPUT);
    assert_eq!(
        iq_error(&out),
        ("item-not-found".to_owned(), "cancel".to_owned())
    );

    // "If a mixer cannot be created, an error similar to those specified for <dial/>".
    let mut h = Harness::scripted(ScriptedPolicy {
        mixer: Box::new(|_| Err(Refusal::resource_constraint())),
        ..Default::default()
    });
    h.answered_call("calla");
    let out = h.set(JULIET, A, "h7ed2", JOIN_MY_MIXER);
    assert_eq!(
        iq_error(&out),
        ("resource-constraint".to_owned(), "wait".to_owned())
    );
    assert!(media(&out).is_empty() && presences(&out).is_empty());
    assert_eq!(h.engine.mixer_count(), 0);

    // And a mixer name that can be no JID is a malformed join.
    let mut h = Harness::new();
    h.answered_call("calla");
    let out = h.set(
        JULIET,
        A,
        "bad",
        "<join xmlns='urn:xmpp:rayo:1' mixer-name='my@mixer'/>",
    );
    assert_eq!(
        iq_error(&out),
        ("bad-request".to_owned(), "modify".to_owned())
    );
    assert_eq!(h.engine.mixer_count(), 0);
}

#[test]
fn s6_4_changing_a_mixer_join_renegotiates_without_joined_events() {
    // "as are the unjoin and join modification semantics".
    let mut h = Harness::new();
    let mixer = call_a_in_my_mixer(&mut h);
    let out = h.set(
        JULIET,
        A,
        "h7ed3",
        "<join xmlns='urn:xmpp:rayo:1' mixer-name='myMixer' direction='recv'/>",
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "only the ref: {out:#?}");
    assert_matches_listing(
        &st[0],
        &listing_folded("xep-0327-042.xml", 2, &[("h7ed2", "h7ed3")]),
    );
    assert_eq!(
        media(&out),
        vec![MediaAction::Join {
            a: call("calla"),
            b: Party::Mixer(mixer),
            direction: JoinDirection::Recv,
            media: JoinMedia::Bridge,
        }]
    );
}

#[test]
fn s6_4_mixer_takes_join_and_unjoin_commands_itself() {
    // "mixers, which are entities like calls, to which calls or other mixers may be joined in
    // the same way as joining multiple calls directly".
    let mut h = Harness::new();
    let mixer = call_a_in_my_mixer(&mut h);
    h.answered_call("callb");
    let out = h.set(
        JULIET,
        M,
        "m1",
        "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:callb@call.shakespeare.lit' direction='send'/>",
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "{out:#?}");
    assert_matches_listing(
        &st[0],
        &el(&format!(
            "<iq type='result' from='{M}' to='{JULIET}' id='m1'/>"
        )),
    );
    assert_matches_listing(&st[1], &presence(M, JULIET, &mixer_says("joined", B)));
    assert_matches_listing(&st[2], &presence(B, JULIET, &call_joined_mixer()));
    assert_eq!(
        media(&out),
        vec![MediaAction::Join {
            a: Party::Mixer(mixer.clone()),
            b: call("callb"),
            direction: JoinDirection::Send,
            media: JoinMedia::Bridge,
        }]
    );
    let out = h.set(
        JULIET,
        M,
        "m2",
        "<unjoin xmlns='urn:xmpp:rayo:1' call-uri='xmpp:callb@call.shakespeare.lit'/>",
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "{out:#?}");
    assert_matches_listing(&st[1], &presence(M, JULIET, &mixer_says("unjoined", B)));
    assert_matches_listing(&st[2], &presence(B, JULIET, &call_unjoined_mixer()));
    assert_eq!(h.engine.mixer_count(), 1, "callA is still in it");
    // Unjoining a call that is not in it: service-unavailable.
    let out = h.set(
        JULIET,
        M,
        "m3",
        "<unjoin xmlns='urn:xmpp:rayo:1' call-uri='xmpp:callb@call.shakespeare.lit'/>",
    );
    assert_eq!(
        iq_error(&out),
        ("service-unavailable".to_owned(), "cancel".to_owned())
    );
}

#[test]
fn s6_4_presence_subscription_from_the_same_zone_is_implicitly_permitted() {
    // "Mixers MUST respect the normal rules of XMPP presence subscriptions, and presence
    // subscriptions from clients within the same security zone as the mixer must be
    // implicitly permitted." and active speaker events go "to all clients with a presence
    // subscription". Juliet's courtyard, with no call in the mixer, subscribes.
    let mut h = Harness::new();
    let mixer = call_a_in_my_mixer(&mut h);
    let subscribe = xmpp_parsers::presence::Presence::new(xmpp_parsers::presence::Type::Subscribe)
        .with_from(jid(JULIET_COURTYARD))
        .with_to(jid(M));
    let out = h.input(rayo_call::Input::Presence(subscribe));
    let ps = presences(&out);
    assert!(
        ps.iter()
            .any(|p| p.type_ == xmpp_parsers::presence::Type::Subscribed
                && p.from.as_ref().map(|f| f.to_string()) == Some(M.to_owned())
                && p.to.as_ref().map(|t| t.to_string()) == Some(JULIET_COURTYARD.to_owned())),
        "the subscription is approved: {out:#?}"
    );
    assert!(
        ps.iter()
            .any(|p| p.type_ == xmpp_parsers::presence::Type::None
                && p.to.as_ref().map(|t| t.to_string()) == Some(JULIET_COURTYARD.to_owned())
                && p.payloads
                    .iter()
                    .any(|c| c.is("c", "http://jabber.org/protocol/caps")
                        && c.attr("node") == Some("urn:xmpp:rayo:mixer:1"))),
        "the subscriber gets the mixer's presence with caps: {out:#?}"
    );
    let out = h.media(speaking(&mixer, "calla", true));
    let to: Vec<String> = presences(&out)
        .iter()
        .filter_map(|p| p.to.as_ref().map(|t| t.to_string()))
        .collect();
    assert_eq!(to, vec![JULIET.to_owned(), JULIET_COURTYARD.to_owned()]);
}
