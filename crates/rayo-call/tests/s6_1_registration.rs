//! XEP-0327 §6.1: client registration. A client is a potential controlling party (PCP) for
//! inbound calls only after directed presence to the service with `<show>chat</show>`; `dnd`
//! (or going unavailable) withdraws it. Seen from the client: whether it is offered calls.

mod common;
use common::*;
use rayo_call::{Input, RejectCause, SignalAction};
use xmpp_parsers::presence::{Presence, Show};

/// The one inbound call of these tests is offered to exactly these JIDs (in any order), or
/// rejected as service unavailable when the list is empty.
fn offered_to(h: &mut Harness, id: &str) -> Vec<String> {
    let out = h.incoming_as(id, true);
    let to: Vec<String> = presences(&out)
        .iter()
        .map(|p| p.to.as_ref().map(|j| j.to_string()).unwrap_or_default())
        .collect();
    if to.is_empty() {
        assert_eq!(
            signals(&out),
            vec![SignalAction::Reject {
                call: rayo_call::CallId(id.to_owned()),
                cause: RejectCause::ServiceUnavailable,
                headers: vec![],
            }],
            "nobody offered: the call is rejected as service unavailable"
        );
    } else {
        assert!(signals(&out).is_empty(), "an offered call is not rejected");
    }
    to
}

#[test]
fn s6_1_example_12_chat_presence_makes_the_client_a_pcp() {
    let mut h = Harness::new();
    let out = h.send_listing("xep-0327-012.xml", 0);
    assert!(out.is_empty(), "registration is not answered: {out:#?}");
    let out = h.incoming_as("9f00061", true);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-001.xml", 0));
}

#[test]
fn s6_1_client_that_never_sent_chat_presence_is_not_offered_calls() {
    let mut h = Harness::new();
    assert_eq!(offered_to(&mut h, "9f00061"), Vec::<String>::new());
}

#[test]
fn s6_1_example_13_dnd_presence_withdraws_the_pcp() {
    let mut h = Harness::new();
    h.send_listing("xep-0327-012.xml", 0);
    let out = h.send_listing("xep-0327-013.xml", 0);
    assert!(out.is_empty(), "{out:#?}");
    assert_eq!(offered_to(&mut h, "9f00061"), Vec::<String>::new());
}

#[test]
fn s6_1_unavailable_presence_withdraws_the_pcp() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.offline(JULIET);
    assert_eq!(offered_to(&mut h, "9f00061"), Vec::<String>::new());
}

#[test]
fn s6_1_chat_again_after_dnd_makes_the_client_a_pcp_again() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.dnd(JULIET);
    h.available(JULIET);
    assert_eq!(offered_to(&mut h, "9f00061"), vec![JULIET.to_owned()]);
}

#[test]
fn s6_1_presence_without_show_chat_is_not_registration() {
    for show in [None, Some(Show::Away), Some(Show::Xa)] {
        let mut h = Harness::new();
        let mut p = Presence::available()
            .with_from(jid(JULIET))
            .with_to(jid(SERVICE));
        p.show = show.clone();
        h.input(Input::Presence(p));
        assert_eq!(
            offered_to(&mut h, "9f00061"),
            Vec::<String>::new(),
            "show {show:?} does not make a PCP"
        );
    }
}

#[test]
fn s6_1_chat_presence_not_directed_to_the_service_is_not_registration() {
    for to in [
        "call.shakespeare.lit",
        "9f00061@call.shakespeare.lit",
        "capulet.lit",
    ] {
        let mut h = Harness::new();
        let p = Presence::available()
            .with_from(jid(JULIET))
            .with_to(jid(to))
            .with_show(Show::Chat);
        h.input(Input::Presence(p));
        assert_eq!(
            offered_to(&mut h, "9f00061"),
            Vec::<String>::new(),
            "chat presence to {to} is not registration with {SERVICE}"
        );
    }
}

#[test]
fn s6_1_registration_is_per_resource() {
    // The route names Juliet's bare JID; only the resource that said chat is a PCP, and the
    // other resource's dnd does not withdraw it.
    let mut h = Harness::new();
    h.available(JULIET);
    h.dnd(JULIET_COURTYARD);
    assert_eq!(offered_to(&mut h, "call1"), vec![JULIET.to_owned()]);
    h.available(JULIET_COURTYARD);
    let mut both = offered_to(&mut h, "call2");
    both.sort();
    assert_eq!(both, vec![JULIET.to_owned(), JULIET_COURTYARD.to_owned()]);
}
