//! `urn:xmpp:rayo:ext:complete:1` (`generated::ext_complete`): the core complete reasons
//! `<stop/>`, `<hangup/>` and `<error/>`, then as reasons of a `<complete/>` event.

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod common;

use common::*;
use minidom::Element;
use rayo_proto::event::{Complete, CompleteReason};
use rayo_proto::generated::ext_complete::{Error, Hangup, Stop};
use rayo_proto::Event;

fn complete(reason: &str) -> String {
    format!("<complete xmlns='urn:xmpp:rayo:ext:1'>{reason}</complete>")
}

#[test]
fn stop_parse_serialise_mismatch_invalid() {
    assert_eq!(
        parse::<Stop>("<stop xmlns='urn:xmpp:rayo:ext:complete:1'/>"),
        Stop
    );
    assert_serialises(Stop, "<stop xmlns='urn:xmpp:rayo:ext:complete:1'/>");
    // The stop command has the same name in urn:xmpp:rayo:ext:1.
    assert_mismatch::<Stop>("<stop xmlns='urn:xmpp:rayo:ext:1'/>");
    invalid::<Stop>("<stop xmlns='urn:xmpp:rayo:ext:complete:1' by='me'/>");
    invalid::<Stop>("<stop xmlns='urn:xmpp:rayo:ext:complete:1'>x</stop>");
}

#[test]
fn hangup_parse_serialise_mismatch_invalid() {
    assert_eq!(
        parse::<Hangup>("<hangup xmlns='urn:xmpp:rayo:ext:complete:1'/>"),
        Hangup
    );
    assert_serialises(Hangup, "<hangup xmlns='urn:xmpp:rayo:ext:complete:1'/>");
    // The hangup command and the end reason live in urn:xmpp:rayo:1.
    assert_mismatch::<Hangup>("<hangup xmlns='urn:xmpp:rayo:1'/>");
    invalid::<Hangup>("<hangup xmlns='urn:xmpp:rayo:ext:complete:1'><header/></hangup>");
}

#[test]
fn error_parse_keeps_text_byte_for_byte() {
    let e: Error = parse(
        "<error xmlns='urn:xmpp:rayo:ext:complete:1'>\n  Media server &lt;ms1&gt; failed &amp; \"gave up\"\t</error>",
    );
    assert_eq!(e.text, "\n  Media server <ms1> failed & \"gave up\"\t");
    let e: Error = parse("<error xmlns='urn:xmpp:rayo:ext:complete:1'><![CDATA[ <x/> ]]></error>");
    assert_eq!(e.text, " <x/> ");
    let e: Error = parse("<error xmlns='urn:xmpp:rayo:ext:complete:1'/>");
    assert_eq!(e.text, "");
}

#[test]
fn error_serialise() {
    assert_serialises(
        Error {
            text: " déjà <vu> ".into(),
        },
        "<error xmlns='urn:xmpp:rayo:ext:complete:1'> déjà &lt;vu&gt; </error>",
    );
}

#[test]
fn error_mismatch() {
    assert_mismatch::<Error>("<error xmlns='urn:xmpp:rayo:1'/>");
    assert_mismatch::<Error>("<hangup xmlns='urn:xmpp:rayo:ext:complete:1'/>");
}

#[test]
fn error_invalid_with_child_or_attribute() {
    invalid::<Error>("<error xmlns='urn:xmpp:rayo:ext:complete:1'>a<b/>c</error>");
    invalid::<Error>("<error xmlns='urn:xmpp:rayo:ext:complete:1' code='500'>x</error>");
}

// ---- Through the hand-written layer ----

#[test]
fn core_reasons_of_a_complete_event() {
    let cases = [
        (
            "<stop xmlns='urn:xmpp:rayo:ext:complete:1'/>",
            CompleteReason::Stop,
        ),
        (
            "<hangup xmlns='urn:xmpp:rayo:ext:complete:1'/>",
            CompleteReason::Hangup,
        ),
        (
            "<error xmlns='urn:xmpp:rayo:ext:complete:1'> out of ports\n</error>",
            CompleteReason::Error(" out of ports\n".into()),
        ),
    ];
    for (xml, reason) in cases {
        let ev = event(&complete(xml));
        let expected = Event::Complete(Complete {
            reason,
            metadata: vec![],
        });
        assert_eq!(ev, expected);
        assert_eq!(Element::from(ev), elem(&complete(xml)));
    }
}

#[test]
fn malformed_core_reasons_are_bad_request() {
    for xml in [
        "<stop xmlns='urn:xmpp:rayo:ext:complete:1'>early</stop>",
        "<hangup xmlns='urn:xmpp:rayo:ext:complete:1' cause='16'/>",
        "<error xmlns='urn:xmpp:rayo:ext:complete:1'><why/></error>",
        "<finish xmlns='urn:xmpp:rayo:ext:complete:1'/>",
    ] {
        assert_eq!(event_refusal(&complete(xml)), BAD_REQUEST, "{xml}");
    }
}
