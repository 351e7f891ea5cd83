//! `urn:xmpp:rayo:record:complete:1` (`generated::record_complete`): the `<recording/>`
//! metadata and the record component's complete reasons, then through `Event` (typed
//! recording metadata, its rules).

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod common;

use std::time::Duration;

use common::*;
use minidom::Element;
use rayo_proto::event::{Complete, CompleteMetadata, CompleteReason, RecordReason};
use rayo_proto::generated::record_complete::*;
use rayo_proto::Event;

const RECORDING: &str = "<recording xmlns='urn:xmpp:rayo:record:complete:1' uri='http://rayo.io/recordings/foo.wav' duration='20000' size='12287492817'/>";

fn complete(children: &str) -> String {
    format!("<complete xmlns='urn:xmpp:rayo:ext:1'>{children}</complete>")
}

#[test]
fn recording_parse() {
    let r: Recording = parse(RECORDING);
    assert_eq!(r.uri, "http://rayo.io/recordings/foo.wav");
    assert_eq!(r.duration, Duration::from_secs(20));
    // Example 78's size needs 64 bits.
    assert_eq!(r.size, 12_287_492_817);
}

#[test]
fn recording_serialise() {
    let r = Recording {
        uri: "file:///tmp/a b&c.wav".into(),
        duration: Duration::from_millis(1),
        size: 0,
    };
    assert_serialises(
        r,
        "<recording xmlns='urn:xmpp:rayo:record:complete:1' uri='file:///tmp/a b&amp;c.wav' duration='1' size='0'/>",
    );
}

#[test]
fn recording_mismatch() {
    assert_mismatch::<Recording>(
        "<recording xmlns='urn:xmpp:rayo:record:1' uri='u' duration='1' size='1'/>",
    );
    assert_mismatch::<Recording>("<record xmlns='urn:xmpp:rayo:record:complete:1'/>");
}

#[test]
fn recording_invalid_missing_or_mistyped_attributes() {
    let r = |attrs: &str| format!("<recording xmlns='urn:xmpp:rayo:record:complete:1' {attrs}/>");
    for attrs in [
        "duration='1' size='1'",
        "uri='u' size='1'",
        "uri='u' duration='1'",
        "uri='u' duration='-1' size='1'",
        "uri='u' duration='1.5' size='1'",
        "uri='u' duration='1' size='big'",
        "uri='u' duration='1' size='99999999999999999999'",
        "uri='u' duration='1' size='1' format='wav'",
    ] {
        invalid::<Recording>(&r(attrs));
    }
    invalid::<Recording>(
        "<recording xmlns='urn:xmpp:rayo:record:complete:1' uri='u' duration='1' size='1'><x/></recording>",
    );
}

/// The three empty reasons.
macro_rules! empty_reason {
    ($($m:ident: $t:ident = $name:literal, $reason:ident, mismatch $other:literal;)*) => {$(
        mod $m {
            use super::*;
            const XML: &str = concat!("<", $name, " xmlns='urn:xmpp:rayo:record:complete:1'/>");
            #[test]
            fn parse() {
                assert_eq!(common::parse::<$t>(XML), $t);
            }
            #[test]
            fn serialise() {
                assert_serialises($t, XML);
            }
            #[test]
            fn mismatch() {
                assert_mismatch::<$t>($other);
            }
            #[test]
            fn invalid_attribute_or_text() {
                invalid::<$t>(concat!("<", $name, " xmlns='urn:xmpp:rayo:record:complete:1' after='1'/>"));
                invalid::<$t>(concat!("<", $name, " xmlns='urn:xmpp:rayo:record:complete:1'>1</", $name, ">"));
            }
            #[test]
            fn is_a_complete_reason() {
                let ev = event(&complete(XML));
                let expected = Event::Complete(Complete {
                    reason: CompleteReason::Record(RecordReason::$reason),
                    metadata: vec![],
                });
                assert_eq!(ev, expected);
                assert_eq!(Element::from(ev), elem(&complete(XML)));
            }
        }
    )*};
}

empty_reason! {
    max_duration: MaxDuration = "max-duration", MaxDuration, mismatch "<max-time xmlns='urn:xmpp:rayo:output:complete:1'/>";
    initial_timeout: InitialTimeout = "initial-timeout", InitialTimeout, mismatch "<final-timeout xmlns='urn:xmpp:rayo:record:complete:1'/>";
    final_timeout: FinalTimeout = "final-timeout", FinalTimeout, mismatch "<initial-timeout xmlns='urn:xmpp:rayo:record:complete:1'/>";
}

// ---- Through the hand-written layer ----

#[test]
fn recording_metadata_is_typed_beside_any_reason() {
    let xml = complete(&format!(
        "<max-duration xmlns='urn:xmpp:rayo:record:complete:1'/>{RECORDING}"
    ));
    let ev = event(&xml);
    let Event::Complete(c) = &ev else {
        panic!("{ev:?}")
    };
    assert_eq!(c.reason, CompleteReason::Record(RecordReason::MaxDuration));
    assert_eq!(
        c.metadata,
        vec![CompleteMetadata::Recording(parse::<Recording>(RECORDING))]
    );
    assert_eq!(Element::from(ev), elem(&xml));
    let stop = complete(&format!(
        "<stop xmlns='urn:xmpp:rayo:ext:complete:1'/>{RECORDING}"
    ));
    assert!(matches!(event(&stop), Event::Complete(c) if c.reason == CompleteReason::Stop));
}

#[test]
fn malformed_or_negative_recording_metadata_is_bad_request() {
    let reason = "<final-timeout xmlns='urn:xmpp:rayo:record:complete:1'/>";
    for recording in [
        "<recording xmlns='urn:xmpp:rayo:record:complete:1' uri='u' duration='1'/>",
        "<recording xmlns='urn:xmpp:rayo:record:complete:1' uri='u' duration='x' size='1'/>",
        "<recording xmlns='urn:xmpp:rayo:record:complete:1' uri='u' duration='1' size='-1'/>",
    ] {
        let xml = complete(&format!("{reason}{recording}"));
        assert_eq!(event_refusal(&xml), BAD_REQUEST, "{recording}");
    }
    // The recording is metadata, never a reason.
    assert_eq!(event_refusal(&complete(RECORDING)), BAD_REQUEST);
}
