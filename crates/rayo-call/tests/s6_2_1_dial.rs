//! XEP-0327 §6.2.1: outbound calls. The dial command, its authorisation and errors, the
//! `uri` and `timeout` attributes, the ringing and answered events, and nested joins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use std::time::{Duration, Instant};

use jid::Jid;
use rayo_call::{
    CallId, Config, Engine, Input, MediaAction, Output, Party, Policy, Refusal, SignalAction,
    SignalEvent,
};
use rayo_proto::generated::rayo::{Dial, EndReason, JoinDirection, JoinMedia};
use xmpp_parsers::iq::Iq;

const CALL: &str = "9f00061@call.shakespeare.lit";
const HANGUP: &str = "<hangup xmlns='urn:xmpp:rayo:1'/>";

/// A deployment policy refusing every dial with one refusal.
struct Refuse(Refusal);

impl Policy for Refuse {
    fn authorize_dial(&mut self, _client: &Jid, _dial: &Dial) -> Result<(), Refusal> {
        Err(self.0.clone())
    }
}

/// Example 14's dial, asking for the call to be created at `xmpp:9f00061@call…`.
fn dial_14_at_9f00061() -> Iq {
    let e = listing_edited(
        "xep-0327-014.xml",
        0,
        &[(
            "from='tel:+14152226789'",
            "from='tel:+14152226789' uri='xmpp:9f00061@call.shakespeare.lit'",
        )],
    );
    Iq::try_from(e).expect("an IQ")
}

/// The id of the call a dial result refers to.
fn ref_call(out: &[Output]) -> String {
    let st = stanzas(out);
    let r = st[0]
        .children()
        .find(|c| c.name() == "ref")
        .and_then(|r| r.attr("uri"))
        .expect("a ref in the result");
    let rest = r.strip_prefix("xmpp:").expect("an xmpp: URI");
    rest.split('@').next().unwrap_or_default().to_owned()
}

fn ended(reason: EndReason) -> SignalEvent {
    SignalEvent::Ended {
        reason,
        headers: vec![],
    }
}

fn presence_xml(from: &str, to: &str, payload: &str) -> minidom::Element {
    el(&format!(
        "<presence xmlns='jabber:client' from='{from}' to='{to}'>{payload}</presence>"
    ))
}

// ---- the dial command and its confirmation --------------------------------------------------

#[test]
fn s6_2_1_example_14_21_dial_is_confirmed_with_a_ref_to_the_new_call() {
    let mut h = Harness::new();
    let out = h.send_listing("xep-0327-014.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    let id = ref_call(&out);
    assert_matches_listing(
        &st[0],
        &listing_edited("xep-0327-021.xml", 0, &[("9f00061", &id)]),
    );
    assert!(h.engine.has_call(&CallId(id.clone())));
    // The call id may be used to execute commands for the duration of the session.
    let out = h.set(JULIET, &format!("{id}@call.{SERVICE}"), "h1", HANGUP);
    assert_eq!(trace(&out)[0], format!("result -> {JULIET}"));
}

#[test]
fn s6_2_1_example_14_dial_maps_from_and_headers_to_the_signalling() {
    let mut h = Harness::new();
    let out = h.send_listing("xep-0327-014.xml", 0);
    let id = ref_call(&out);
    assert_eq!(
        signals(&out),
        vec![SignalAction::Dial {
            call: CallId(id),
            to: "tel:+13055195825".into(),
            from: Some("tel:+14152226789".into()),
            headers: vec![header("x-skill", "agent"), header("x-customer-id", "8877")],
        }]
    );
}

#[test]
fn s6_2_1_example_21_uri_attribute_creates_the_call_at_that_uri() {
    let mut h = Harness::new();
    let out = h.input(Input::Iq(dial_14_at_9f00061()));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-021.xml", 0));
    assert!(matches!(
        &signals(&out)[..],
        [SignalAction::Dial { call, .. }] if call.0 == "9f00061"
    ));
}

// ---- errors ----------------------------------------------------------------------------------

#[test]
fn s6_2_1_example_20_uri_of_an_existing_call_is_conflict_modify() {
    // The listing's URI (xmpp:somecall@capulet.lit) is not a call address of this service
    // (see the next test); the same request with a URI of this service's call domain.
    let edits = [(
        "xmpp:somecall@capulet.lit",
        "xmpp:somecall@call.shakespeare.lit",
    )];
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("somecall", true);
    let reply = listing_edited("xep-0327-020.xml", 0, &edits);
    let out = h.input(Input::Iq(request_answered_by(&reply)));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &reply);
    assert!(signals(&out).is_empty(), "nothing dialled");
    // The existing call is untouched.
    let out = h.set(
        JULIET,
        "somecall@call.shakespeare.lit",
        "a",
        "<accept xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(
        trace(&out),
        vec![format!("result -> {JULIET}"), "signal Accept".into()]
    );
    // An outbound call's URI conflicts the same way.
    h.dial_as("outcall");
    let out = h.dial_as("outcall");
    assert_eq!(iq_error(&out), ("conflict".into(), "modify".into()));
    assert!(signals(&out).is_empty());
}

#[test]
fn s6_2_1_uri_that_is_not_a_rayo_call_address_is_bad_request() {
    let mut h = Harness::new();
    // Example 20's own URI names no call of shakespeare.lit: the request is malformed.
    let out = h.send_request_of("xep-0327-020.xml", 0);
    let expected = listing_edited(
        "xep-0327-020.xml",
        0,
        &[("<conflict xmlns", "<bad-request xmlns")],
    );
    assert_matches_listing(&stanzas(&out)[0], &expected);
    for uri in [
        "xmpp:mymixer@mixer.shakespeare.lit",
        "xmpp:9f00061@call.shakespeare.lit/comp1",
        "xmpp:shakespeare.lit",
        "sip:9f00061@call.shakespeare.lit",
    ] {
        let out = h.set(
            JULIET,
            SERVICE,
            "d",
            &format!("<dial xmlns='urn:xmpp:rayo:1' to='tel:+1' uri='{uri}'/>"),
        );
        assert_eq!(
            iq_error(&out),
            ("bad-request".into(), "modify".into()),
            "{uri}"
        );
        assert!(signals(&out).is_empty(), "{uri}");
    }
    assert_eq!(h.engine.call_count(), 0);
}

#[test]
fn s6_2_1_example_15_unknown_client_is_registration_required() {
    let mut h = Harness::with_policy(vec![], Refuse(Refusal::registration_required()));
    let out = h.send_request_of("xep-0327-015.xml", 0);
    assert_eq!(stanzas(&out).len(), 1, "{out:#?}");
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-015.xml", 0));
    assert!(signals(&out).is_empty());
    assert_eq!(h.engine.call_count(), 0);
}

#[test]
fn s6_2_1_example_16_unauthorised_dial_is_not_authorized() {
    let mut h = Harness::with_policy(vec![], Refuse(Refusal::not_authorized()));
    let out = h.send_request_of("xep-0327-016.xml", 0);
    assert_eq!(stanzas(&out).len(), 1, "{out:#?}");
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-016.xml", 0));
    assert!(signals(&out).is_empty());
    assert_eq!(h.engine.call_count(), 0);
}

#[test]
fn s6_2_1_example_17_no_outbound_calls_is_feature_not_implemented() {
    // As the deployment policy says…
    let mut h = Harness::with_policy(vec![], Refuse(Refusal::not_implemented()));
    let out = h.send_request_of("xep-0327-017.xml", 0);
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-017.xml", 0));
    assert!(signals(&out).is_empty());
    // …and as the configuration says.
    let mut cfg = Config::new(addressing());
    cfg.outbound_calls = false;
    let mut h = Harness {
        engine: Engine::new(cfg),
        now: Instant::now(),
    };
    let out = h.send_request_of("xep-0327-017.xml", 0);
    assert_eq!(stanzas(&out).len(), 1, "{out:#?}");
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-017.xml", 0));
    assert!(signals(&out).is_empty());
    assert_eq!(h.engine.call_count(), 0);
}

#[test]
fn s6_2_1_example_18_no_resources_is_resource_constraint() {
    let mut h = Harness::with_policy(vec![], Refuse(Refusal::resource_constraint()));
    let out = h.send_request_of("xep-0327-018.xml", 0);
    assert_eq!(stanzas(&out).len(), 1, "{out:#?}");
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-018.xml", 0));
    assert!(signals(&out).is_empty());
    assert_eq!(h.engine.call_count(), 0);
}

#[test]
fn s6_2_1_example_19_dial_the_deployment_finds_malformed_is_bad_request() {
    let mut h = Harness::with_policy(vec![], Refuse(Refusal::bad_request()));
    let out = h.send_request_of("xep-0327-019.xml", 0);
    assert_eq!(stanzas(&out).len(), 1, "{out:#?}");
    assert_matches_listing(&stanzas(&out)[0], &listing("xep-0327-019.xml", 0));
    assert!(signals(&out).is_empty());
    assert_eq!(h.engine.call_count(), 0);
}

#[test]
fn s6_2_1_malformed_dial_is_bad_request() {
    let mut h = Harness::new();
    for dial in [
        // `to` is REQUIRED (§7.11).
        "<dial xmlns='urn:xmpp:rayo:1' from='tel:+14152226789'/>",
        // Not a URI.
        "<dial xmlns='urn:xmpp:rayo:1' to='13055195825'/>",
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+13055195825' from='somebody'/>",
        // A header needs a name.
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'><header name='' value='x'/></dial>",
        // A nested join needs a party.
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'><join/></dial>",
        // Not a timeout.
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1' timeout='soon'/>",
    ] {
        let out = h.set(JULIET, SERVICE, "m", dial);
        assert_eq!(
            iq_error(&out),
            ("bad-request".into(), "modify".into()),
            "{dial}"
        );
        assert!(signals(&out).is_empty(), "{dial}");
    }
    assert_eq!(h.engine.call_count(), 0);
}

#[test]
fn s6_2_1_authorisation_decides_per_client_and_dial() {
    /// Only Capulets may dial, and only tel: numbers.
    struct Capulets;
    impl Policy for Capulets {
        fn authorize_dial(&mut self, client: &Jid, dial: &Dial) -> Result<(), Refusal> {
            if client.domain().as_str() != "capulet.lit" {
                return Err(Refusal::registration_required());
            }
            if !dial.to.starts_with("tel:") {
                return Err(Refusal::not_authorized());
            }
            Ok(())
        }
    }
    let mut h = Harness::with_policy(vec![], Capulets);
    let dial = |to: &str| format!("<dial xmlns='urn:xmpp:rayo:1' to='{to}'/>");
    let out = h.set(ROMEO, SERVICE, "r", &dial("tel:+1"));
    assert_eq!(
        iq_error(&out),
        ("registration-required".into(), "auth".into())
    );
    let out = h.set(JULIET, SERVICE, "j1", &dial("sip:romeo@montague.lit"));
    assert_eq!(iq_error(&out), ("not-authorized".into(), "auth".into()));
    let out = h.set(JULIET, SERVICE, "j2", &dial("tel:+1"));
    assert_eq!(
        trace(&out),
        vec![format!("result -> {JULIET}"), "signal Dial".into()]
    );
    assert_eq!(h.engine.call_count(), 1);
}

// ---- ringing, answered, timeout --------------------------------------------------------------

#[test]
fn s6_2_1_example_22_ringing_event_goes_to_the_dialling_client() {
    let mut h = Harness::new();
    h.input(Input::Iq(dial_14_at_9f00061()));
    let out = h.signal("9f00061", SignalEvent::Ringing { headers: vec![] });
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-022.xml", 0));
}

#[test]
fn s6_2_1_example_23_answered_event_goes_to_the_dialling_client() {
    let mut h = Harness::new();
    h.input(Input::Iq(dial_14_at_9f00061()));
    h.signal("9f00061", SignalEvent::Ringing { headers: vec![] });
    let out = h.signal("9f00061", SignalEvent::Answered { headers: vec![] });
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-023.xml", 0));
}

#[test]
fn s6_2_1_outbound_call_flow_ref_ringing_answered_end() {
    let mut h = Harness::new();
    let mut all = h.input(Input::Iq(dial_14_at_9f00061()));
    all.extend(h.signal("9f00061", SignalEvent::Ringing { headers: vec![] }));
    all.extend(h.signal("9f00061", SignalEvent::Answered { headers: vec![] }));
    all.extend(h.signal(
        "9f00061",
        ended(EndReason::Hungup {
            platform_code: None,
        }),
    ));
    let t = trace(&all);
    let stanza_lines: Vec<&String> = t
        .iter()
        .filter(|l| !l.starts_with("signal") && !l.starts_with("media"))
        .collect();
    assert_eq!(
        stanza_lines,
        vec![
            &format!("result -> {JULIET}"),
            &format!("{CALL} -> {JULIET}: ringing"),
            &format!("{CALL} -> {JULIET}: answered"),
            &format!("{CALL} -> {JULIET}: end(hungup)"),
        ]
    );
}

#[test]
fn s6_2_1_ringing_is_announced_once() {
    let mut h = Harness::new();
    h.input(Input::Iq(dial_14_at_9f00061()));
    h.signal("9f00061", SignalEvent::Ringing { headers: vec![] });
    let out = h.signal("9f00061", SignalEvent::Ringing { headers: vec![] });
    assert!(out.is_empty(), "{out:#?}");
}

#[test]
fn s6_2_1_timeout_cancels_an_unanswered_call_and_ends_it_with_timeout() {
    let mut h = Harness::new();
    h.set(
        JULIET,
        SERVICE,
        "d",
        &format!("<dial xmlns='urn:xmpp:rayo:1' to='tel:+1' uri='xmpp:{CALL}' timeout='30000'/>"),
    );
    assert!(
        h.advance(Duration::from_millis(29_999)).is_empty(),
        "not yet"
    );
    let out = h.advance(Duration::from_millis(1));
    assert_eq!(
        signals(&out),
        vec![SignalAction::Cancel {
            call: CallId("9f00061".into())
        }]
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(
        &st[0],
        &el(&format!(
            "<presence xmlns='jabber:client' from='{CALL}' to='{JULIET}' type='unavailable'>\
               <end xmlns='urn:xmpp:rayo:1'><timeout/></end></presence>"
        )),
    );
    let t = trace(&out);
    let cancel = t.iter().position(|l| l == "signal Cancel");
    let end = t.iter().position(|l| l.ends_with("end(timeout)"));
    assert!(cancel < end, "cancelled, then ended: {t:#?}");
    assert!(!h.engine.has_call(&CallId("9f00061".into())));
}

#[test]
fn s6_2_1_timeout_applies_while_ringing() {
    let mut h = Harness::new();
    h.set(
        JULIET,
        SERVICE,
        "d",
        &format!("<dial xmlns='urn:xmpp:rayo:1' to='tel:+1' uri='xmpp:{CALL}' timeout='5000'/>"),
    );
    h.advance(Duration::from_secs(1));
    h.signal("9f00061", SignalEvent::Ringing { headers: vec![] });
    let out = h.advance(Duration::from_secs(4));
    assert_eq!(
        trace(&out)
            .into_iter()
            .filter(|l| !l.starts_with("media"))
            .collect::<Vec<_>>(),
        vec![
            "signal Cancel".to_owned(),
            format!("{CALL} -> {JULIET}: end(timeout)")
        ]
    );
}

#[test]
fn s6_2_1_timeout_does_not_fire_once_answered() {
    let mut h = Harness::new();
    h.set(
        JULIET,
        SERVICE,
        "d",
        &format!("<dial xmlns='urn:xmpp:rayo:1' to='tel:+1' uri='xmpp:{CALL}' timeout='5000'/>"),
    );
    h.signal("9f00061", SignalEvent::Answered { headers: vec![] });
    assert!(h.advance(Duration::from_secs(60)).is_empty());
    assert!(h.engine.has_call(&CallId("9f00061".into())));
}

#[test]
fn s6_2_1_no_timeout_means_waiting_for_the_remote_party() {
    for attr in ["", " timeout='-1'"] {
        let mut h = Harness::new();
        h.set(
            JULIET,
            SERVICE,
            "d",
            &format!("<dial xmlns='urn:xmpp:rayo:1' to='tel:+1' uri='xmpp:{CALL}'{attr}/>"),
        );
        assert_eq!(h.engine.poll_timeout(), None, "{attr:?}");
        assert!(h.advance(Duration::from_secs(24 * 3600)).is_empty());
        assert!(h.engine.has_call(&CallId("9f00061".into())));
    }
}

// ---- nested join -----------------------------------------------------------------------------

#[test]
fn s6_2_1_example_24_nested_join_is_made_when_the_call_is_answered() {
    let other = "e8u398d902i90@call.shakespeare.lit";
    let mut h = Harness::new();
    h.answered_call("e8u398d902i90");
    let out = h.send_listing("xep-0327-024.xml", 0);
    let id = ref_call(&out);
    let new = format!("{id}@call.{SERVICE}");
    assert_eq!(
        trace(&out),
        vec![format!("result -> {JULIET}"), "signal Dial".into()],
        "nothing is joined before the answer"
    );
    let out = h.signal(&id, SignalEvent::Answered { headers: vec![] });
    // Media goes as the join says (duplex, bridged by default), and nowhere else.
    assert_eq!(
        media(&out),
        vec![MediaAction::Join {
            a: Party::Call(CallId(id.clone())),
            b: Party::Call(CallId("e8u398d902i90".into())),
            direction: JoinDirection::Duplex,
            media: JoinMedia::Bridge,
        }]
    );
    let st = stanzas(&out);
    assert_eq!(st.len(), 3, "answered, then joined on both calls: {out:#?}");
    assert_matches_listing(
        &st[0],
        &presence_xml(&new, JULIET, "<answered xmlns='urn:xmpp:rayo:1'/>"),
    );
    assert_matches_listing(
        &st[1],
        &presence_xml(
            &new,
            JULIET,
            &format!("<joined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{other}'/>"),
        ),
    );
    assert_matches_listing(
        &st[2],
        &presence_xml(
            other,
            JULIET,
            &format!("<joined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{new}'/>"),
        ),
    );
}

#[test]
fn s6_2_1_nested_join_to_no_such_call_is_refused_as_a_join_would_be() {
    let mut h = Harness::new();
    let out = h.set(
        JULIET,
        SERVICE,
        "d",
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'>\
           <join call-uri='xmpp:callc@call.shakespeare.lit'/></dial>",
    );
    // §6.3.1, example 29.
    assert_eq!(
        iq_error(&out),
        ("service-unavailable".into(), "cancel".into())
    );
    assert!(signals(&out).is_empty());
    assert_eq!(h.engine.call_count(), 0);
}

#[test]
fn s6_2_1_nested_join_to_a_mixer_creates_it_when_the_call_is_answered() {
    let mut h = Harness::new();
    let dial = "<dial xmlns='urn:xmpp:rayo:1' to='tel:+13055195825'>\
                <join mixer-name='conf1'/></dial>";
    let out = h.set(JULIET, SERVICE, "d1", dial);
    let id = ref_call(&out);
    assert!(media(&out).is_empty(), "no mixer before the answer");
    let out = h.signal(&id, SignalEvent::Answered { headers: vec![] });
    let actions = media(&out);
    assert!(
        matches!(
            &actions[..],
            [
                MediaAction::CreateMixer { .. },
                MediaAction::Join {
                    a: Party::Call(_),
                    b: Party::Mixer(_),
                    ..
                }
            ]
        ),
        "the mixer is created, then the call joins it: {actions:#?}"
    );
    let mixer_jid = "conf1@mixer.shakespeare.lit";
    let from: Vec<String> = presences(&out)
        .iter()
        .filter_map(|p| p.from.as_ref().map(|f| f.to_string()))
        .collect();
    assert!(
        from.contains(&mixer_jid.to_owned()),
        "mixer presence and joined event: {from:?}"
    );
    assert_eq!(h.engine.mixer_count(), 1);
}

#[test]
fn s6_2_2_call_id_not_in_normal_form_is_refused_not_lost() {
    // A call whose id is not the node of its JID (upper case) could never be commanded:
    // the engine refuses it at once instead of offering a call nobody can take.
    let mut h = Harness::new();
    h.available(JULIET);
    let out = h.incoming_as("CallA", true);
    assert!(stanzas(&out).is_empty(), "no offer: {out:#?}");
    assert!(matches!(
        signals(&out)[..],
        [SignalAction::Reject {
            cause: rayo_call::RejectCause::Error,
            ..
        }]
    ));
    assert_eq!(h.engine.call_count(), 0);
}

/// An engine whose source of randomness fails, calls routed to Juliet.
fn without_randomness() -> Harness {
    let mut cfg = Config::new(addressing());
    cfg.routes = vec![rayo_call::Route::new(
        "*",
        vec![jid("juliet@capulet.lit")],
        Box::new(rayo_call::All),
    )];
    cfg.random = rayo_proto::random::failing;
    Harness {
        engine: Engine::new(cfg),
        now: Instant::now(),
    }
}

#[test]
fn without_os_randomness_a_dial_is_refused_and_no_call_is_made() {
    let mut h = without_randomness();
    h.available(JULIET);
    let out = h.set(
        JULIET,
        SERVICE,
        "d1",
        "<dial xmlns='urn:xmpp:rayo:1' to='sip:romeo@127.0.0.1'/>",
    );
    assert_eq!(
        iq_error(&out),
        ("internal-server-error".into(), "wait".into())
    );
    assert!(signals(&out).is_empty(), "{out:#?}");
    assert_eq!(h.engine.call_count(), 0);
    assert!(h.engine.allocate_call_id().is_err());
}

#[test]
fn without_os_randomness_no_component_is_started() {
    let mut h = without_randomness();
    // The call's id is the driver's (given with the signal); its components' are drawn.
    h.answered_call("9f00061");
    let out = h.set(
        JULIET,
        CALL,
        "o1",
        "<output xmlns='urn:xmpp:rayo:output:1'><document content-type='text/plain'>\
         <![CDATA[hi]]></document></output>",
    );
    assert_eq!(
        iq_error(&out),
        ("internal-server-error".into(), "wait".into())
    );
    assert_eq!(h.engine.component_count(), 0);
    assert!(media(&out).is_empty(), "{out:#?}");
}

#[test]
fn call_ids_are_distinct_lowercase_base32() {
    let mut h = Harness::new();
    let ids: std::collections::HashSet<String> = (0..2000)
        .map(|_| h.engine.allocate_call_id().expect("OS randomness").0)
        .collect();
    assert_eq!(ids.len(), 2000);
    assert!(ids.iter().all(|id| id.len() == 16
        && id
            .bytes()
            .all(|b| rayo_proto::random::ALPHABET.contains(&b))));
}
