//! XEP-0327 §6.7: headers. Several `<header/>` elements may share a name; they "MUST be
//! considered to form a collection of ordered values for the key provided". Every element
//! carrying headers keeps them all, repeated names included, in their order, from the
//! client to the signalling layer and from the signalling layer to the client.
//!
//! A client's headers become SIP header lines, so a command whose header could add a line
//! (CR/LF or another control in a value, a name that is no SIP token) or set what the node
//! controls (Via, Call-ID, Route, Authorization…) is refused with `bad-request` before
//! anything is signalled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use rayo_call::{CallId, Output, RejectCause, SignalAction, SignalEvent};
use rayo_proto::generated::rayo::{EndReason, Header};
use xmpp_parsers::iq::Iq;

const CALL: &str = "9f00061@call.shakespeare.lit";

/// Diversion twice, with another header between and after: what must arrive unchanged.
fn mixed() -> Vec<Header> {
    vec![
        header("Diversion", "foo"),
        header("x-skill", "agent"),
        header("Diversion", "bar"),
        header("x-skill", "agent"),
        header("diversion", "baz"),
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

/// Example 89: a dial's pre-loaded route set (RFC 3261 §8.1.1.1), kept in order.
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

/// The text of the only IQ error among outputs, with `(condition, type)`.
fn refusal(out: &[Output]) -> (String, String, String) {
    let (condition, type_) = iq_error(out);
    let text = iqs(out)
        .into_iter()
        .find_map(|iq| match iq {
            Iq::Error { error, .. } => error.texts.get("en").cloned(),
            _ => None,
        })
        .unwrap_or_default();
    (condition, type_, text)
}

/// Asserts `out` is a `bad-request` (modify) naming `name`, and nothing else: no `<ref/>`,
/// no signalling, no event.
fn assert_refused_naming(out: &[Output], name: &str) {
    let (condition, type_, text) = refusal(out);
    assert_eq!(
        (condition.as_str(), type_.as_str()),
        ("bad-request", "modify")
    );
    assert!(text.contains(name), "{text:?} names {name:?}");
    assert_eq!(out.len(), 1, "only the error: {out:#?}");
}

/// Headers that must not reach SIP: `(name, value)` as XML attribute text, and the name the
/// refusal gives. CR and LF are character references, as a client must send them
/// (attribute normalisation would turn literal ones into spaces).
const EVIL: [(&str, &str, &str); 4] = [
    ("X-Skill", "a&#13;&#10;Via: evil", "X-Skill"),
    ("X-Skill", "a&#10;Via: evil", "X-Skill"),
    ("X-Skill:Via", "evil", "X-Skill:Via"),
    ("Authorization", "Digest username=\"evil\"", "Authorization"),
];

fn evil_xml(name: &str, value: &str) -> String {
    format!("<header name='x-ok' value='fine'/><header name='{name}' value='{value}'/>")
}

#[test]
fn s6_7_a_dial_with_an_injecting_or_reserved_header_is_refused_and_not_placed() {
    for (name, value, named) in EVIL {
        let mut h = Harness::new();
        h.available(JULIET);
        let out = h.set(
            JULIET,
            SERVICE,
            "d1",
            &format!(
                "<dial xmlns='urn:xmpp:rayo:1' to='sip:romeo@127.0.0.1'>{}</dial>",
                evil_xml(name, value)
            ),
        );
        assert_refused_naming(&out, named);
        assert_eq!(h.engine.call_count(), 0, "{name}: no call was created");
    }
}

#[test]
fn s6_7_the_cr_lf_of_a_refused_value_reached_the_engine() {
    // The refusal is for the CR/LF, not for something the XML parser did to it.
    let dial = el(&format!(
        "<dial xmlns='urn:xmpp:rayo:1' to='sip:romeo@127.0.0.1'>{}</dial>",
        evil_xml(EVIL[0].0, EVIL[0].1)
    ));
    let value = dial.children().nth(1).and_then(|c| c.attr("value"));
    assert_eq!(value, Some("a\r\nVia: evil"));
}

#[test]
fn s6_7_call_commands_with_an_injecting_or_reserved_header_are_refused_and_not_signalled() {
    for command in ["accept", "answer", "reject", "redirect", "hangup"] {
        for (name, value, named) in EVIL {
            let mut h = offered();
            let (attrs, inner) = match command {
                "redirect" => (" to='sip:other@there.com'", ""),
                "reject" => ("", "<busy/>"),
                _ => ("", ""),
            };
            let out = h.set(
                JULIET,
                CALL,
                "c1",
                &format!(
                    "<{command} xmlns='urn:xmpp:rayo:1'{attrs}>{inner}{}</{command}>",
                    evil_xml(name, value)
                ),
            );
            assert_refused_naming(&out, named);
            assert!(h.engine.has_call(&id()), "{command}: the call goes on");
        }
    }
}

#[test]
fn s6_7_a_hangup_of_an_answered_call_with_an_injected_header_is_refused_and_the_call_stays() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = h.set(
        JULIET,
        CALL,
        "h2",
        &format!(
            "<hangup xmlns='urn:xmpp:rayo:1'>{}</hangup>",
            evil_xml(EVIL[0].0, EVIL[0].1)
        ),
    );
    assert_refused_naming(&out, "X-Skill");
    assert!(h.engine.has_call(&id()));
    // A clean hangup still works.
    let out = h.set(JULIET, CALL, "h3", "<hangup xmlns='urn:xmpp:rayo:1'/>");
    assert!(matches!(&signals(&out)[..], [SignalAction::Hangup { .. }]));
}

/// Route is a dial's only: on an in-dialog command it would override the dialog's route
/// set, and a Route value may not inject lines either.
#[test]
fn s6_7_route_headers_are_refused_but_on_a_dial() {
    let mut h = offered();
    let out = h.set(
        JULIET,
        CALL,
        "h1",
        "<hangup xmlns='urn:xmpp:rayo:1'><header name='Route' value='&lt;sip:evil&gt;'/></hangup>",
    );
    assert_refused_naming(&out, "Route");
    let out = h.set(
        JULIET,
        SERVICE,
        "d1",
        "<dial xmlns='urn:xmpp:rayo:1' to='sip:romeo@127.0.0.1'>\
         <header name='Route' value='a&#13;&#10;Via: evil'/></dial>",
    );
    assert_refused_naming(&out, "Route");
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
