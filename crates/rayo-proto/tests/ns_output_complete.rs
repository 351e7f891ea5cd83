//! `urn:xmpp:rayo:output:complete:1` (`generated::output_complete`): the output component's
//! complete reasons `<finish/>` and `<max-time/>`, then as reasons of a `<complete/>` event.

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod common;

use common::*;
use minidom::Element;
use rayo_proto::event::{Complete, CompleteReason, OutputReason};
use rayo_proto::generated::output_complete::{Finish, MaxTime};
use rayo_proto::Event;

fn complete(reason: &str) -> String {
    format!("<complete xmlns='urn:xmpp:rayo:ext:1'>{reason}</complete>")
}

#[test]
fn finish_parse() {
    let f: Finish = parse("<finish xmlns='urn:xmpp:rayo:output:complete:1'/>");
    assert_eq!(f, Finish);
}

#[test]
fn finish_serialise() {
    assert_serialises(Finish, "<finish xmlns='urn:xmpp:rayo:output:complete:1'/>");
}

#[test]
fn finish_mismatch() {
    assert_mismatch::<Finish>("<finish xmlns='urn:xmpp:rayo:input:complete:1'/>");
    assert_mismatch::<Finish>("<max-time xmlns='urn:xmpp:rayo:output:complete:1'/>");
}

#[test]
fn finish_invalid_with_attribute_or_child() {
    invalid::<Finish>("<finish xmlns='urn:xmpp:rayo:output:complete:1' at='1000'/>");
    invalid::<Finish>("<finish xmlns='urn:xmpp:rayo:output:complete:1'><x/></finish>");
}

#[test]
fn max_time_parse() {
    let m: MaxTime = parse("<max-time xmlns='urn:xmpp:rayo:output:complete:1'>\n</max-time>");
    assert_eq!(m, MaxTime);
}

#[test]
fn max_time_serialise() {
    assert_serialises(
        MaxTime,
        "<max-time xmlns='urn:xmpp:rayo:output:complete:1'/>",
    );
}

#[test]
fn max_time_mismatch() {
    // The record component's own limit is max-duration; max-time is output:complete's.
    assert_mismatch::<MaxTime>("<max-duration xmlns='urn:xmpp:rayo:record:complete:1'/>");
    assert_mismatch::<MaxTime>("<max-time xmlns='urn:xmpp:rayo:output:1'/>");
}

#[test]
fn max_time_invalid_with_text_or_attribute() {
    invalid::<MaxTime>("<max-time xmlns='urn:xmpp:rayo:output:complete:1'>30000</max-time>");
    invalid::<MaxTime>("<max-time xmlns='urn:xmpp:rayo:output:complete:1' max-time='1'/>");
}

// ---- Through the hand-written layer ----

#[test]
fn output_reasons_of_a_complete_event() {
    for (xml, reason) in [
        (
            "<finish xmlns='urn:xmpp:rayo:output:complete:1'/>",
            OutputReason::Finish,
        ),
        (
            "<max-time xmlns='urn:xmpp:rayo:output:complete:1'/>",
            OutputReason::MaxTime,
        ),
    ] {
        let ev = event(&complete(xml));
        let expected = Event::Complete(Complete {
            reason: CompleteReason::Output(reason),
            metadata: vec![],
        });
        assert_eq!(ev, expected);
        assert_eq!(Element::from(ev), elem(&complete(xml)));
    }
}

#[test]
fn malformed_or_unknown_output_reasons_are_bad_request() {
    for xml in [
        "<finish xmlns='urn:xmpp:rayo:output:complete:1'>done</finish>",
        "<max-time xmlns='urn:xmpp:rayo:output:complete:1' value='1'/>",
        "<stopped xmlns='urn:xmpp:rayo:output:complete:1'/>",
    ] {
        assert_eq!(event_refusal(&complete(xml)), BAD_REQUEST, "{xml}");
    }
    // Not an event by itself.
    assert_eq!(
        event_refusal("<finish xmlns='urn:xmpp:rayo:output:complete:1'/>"),
        SERVICE_UNAVAILABLE
    );
}
