//! XEP-0327 §6.1 and §6.2.2: client registration and inbound calls.

mod common;
use common::*;

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
