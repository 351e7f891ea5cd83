//! XEP-0327 §6.7: headers. Several `<header/>` elements may share a name; they "MUST be
//! considered to form a collection of ordered values for the key provided". Every element
//! carrying headers keeps them all, repeated names included, in their order, from the
//! client to the signalling layer and from the signalling layer to the client.

mod common;
use common::*;

use rayo_call::{CallId, Output, RejectCause, SignalAction, SignalEvent};
use rayo_proto::generated::rayo::{EndReason, Header};

const CALL: &str = "9f00061@call.shakespeare.lit";

/// Route twice, with another header between and after: what must arrive unchanged.
fn mixed() -> Vec<Header> {
    vec![
        header("Route", "foo"),
        header("x-skill", "agent"),
        header("Route", "bar"),
        header("x-skill", "agent"),
        header("route", "baz"),
    ]
}

/// The same headers as XML children.
fn mixed_xml() -> String {
    mixed()
        .iter()
        .map(|h| format!("<header name='{}' value='{}'/>", h.name, h.value))
        .collect()
}

fn id() -> CallId {
    CallId("9f00061".into())
}

fn offered() -> Harness {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    h
}

fn command(h: &mut Harness, name: &str, attrs: &str, inner: &str) -> Vec<Output> {
    h.set(
        JULIET,
        CALL,
        "h1",
        &format!(
            "<{name} xmlns='urn:xmpp:rayo:1'{attrs}>{inner}{}</{name}>",
            mixed_xml()
        ),
    )
}

/// The single event presence among outputs.
fn event_presence(out: &[Output], payload: &str, type_: &str) -> minidom::Element {
    let st = stanzas(out);
    assert_eq!(st.len(), 1, "{out:#?}");
    let expected = el(&format!(
        "<presence xmlns='jabber:client' from='{CALL}' to='{JULIET}'{type_}>{payload}</presence>"
    ));
    assert_matches_listing(&st[0], &expected);
    st[0].clone()
}

#[test]
fn s6_7_example_89_dial_keeps_repeated_header_values_in_order() {
    let mut h = Harness::new();
    let out = h.send_listing("xep-0327-089.xml", 0);
    assert!(
        matches!(
            &signals(&out)[..],
            [SignalAction::Dial { to, from, headers, .. }]
                if to == "tel:+13055195825"
                    && from.as_deref() == Some("tel:+14152226789")
                    && *headers == vec![header("Route", "foo"), header("Route", "bar")]
        ),
        "{out:#?}"
    );
}

#[test]
fn s6_7_offer_keeps_repeated_header_values_in_order() {
    let mut h = Harness::new();
    h.available(JULIET);
    let out = h.signal(
        "9f00061",
        SignalEvent::Incoming {
            to: "tel:+18003211212".into(),
            from: Some("tel:+13058881212".into()),
            headers: mixed(),
            early_media: false,
        },
    );
    let offer = listing_edited(
        "xep-0327-025.xml",
        0,
        &[(
            "<header name=\"x-skill\" value=\"agent\" />\n    \
             <header name=\"x-customer-id\" value=\"8877\" />",
            &mixed_xml(),
        )],
    );
    assert_matches_listing(&stanzas(&out)[0], &offer);
}

#[test]
fn s6_7_accept_keeps_repeated_header_values_in_order() {
    let mut h = offered();
    let out = command(&mut h, "accept", "", "");
    assert_eq!(
        signals(&out),
        vec![SignalAction::Accept {
            call: id(),
            headers: mixed()
        }]
    );
}

#[test]
fn s6_7_answer_keeps_repeated_header_values_in_order() {
    let mut h = offered();
    let out = command(&mut h, "answer", "", "");
    assert_eq!(
        signals(&out),
        vec![SignalAction::Answer {
            call: id(),
            headers: mixed()
        }]
    );
}

#[test]
fn s6_7_redirect_keeps_repeated_header_values_in_order() {
    let mut h = offered();
    let out = command(&mut h, "redirect", " to='sip:other@there.com'", "");
    assert_eq!(
        signals(&out),
        vec![SignalAction::Redirect {
            call: id(),
            to: "sip:other@there.com".into(),
            headers: mixed()
        }]
    );
}

#[test]
fn s6_7_reject_keeps_repeated_header_values_in_order() {
    let mut h = offered();
    let out = command(&mut h, "reject", "", "<busy/>");
    assert_eq!(
        signals(&out),
        vec![SignalAction::Reject {
            call: id(),
            cause: RejectCause::Busy,
            headers: mixed()
        }]
    );
}

#[test]
fn s6_7_hangup_keeps_repeated_header_values_in_order() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = command(&mut h, "hangup", "", "");
    assert_eq!(
        signals(&out),
        vec![SignalAction::Hangup {
            call: id(),
            headers: mixed()
        }]
    );
}

#[test]
fn s6_7_ringing_and_answered_keep_repeated_header_values_in_order() {
    let mut h = Harness::new();
    h.dial_as("9f00061");
    let out = h.signal("9f00061", SignalEvent::Ringing { headers: mixed() });
    event_presence(
        &out,
        &format!("<ringing xmlns='urn:xmpp:rayo:1'>{}</ringing>", mixed_xml()),
        "",
    );
    let out = h.signal("9f00061", SignalEvent::Answered { headers: mixed() });
    event_presence(
        &out,
        &format!(
            "<answered xmlns='urn:xmpp:rayo:1'>{}</answered>",
            mixed_xml()
        ),
        "",
    );
}

#[test]
fn s6_7_end_keeps_repeated_header_values_in_order() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = h.signal(
        "9f00061",
        SignalEvent::Ended {
            reason: EndReason::Busy {
                platform_code: Some("486".into()),
            },
            headers: mixed(),
        },
    );
    event_presence(
        &out,
        &format!(
            "<end xmlns='urn:xmpp:rayo:1'><busy platform-code='486'/>{}</end>",
            mixed_xml()
        ),
        " type='unavailable'",
    );
}
