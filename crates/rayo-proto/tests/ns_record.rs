//! `urn:xmpp:rayo:record:1` (`generated::record`): `<record/>` with its schema defaults and
//! `<hint/>`s, the record component's `<pause/>` and `<resume/>`, then through `Command`.

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod common;

use std::time::Duration;

use common::*;
use rayo_proto::address::EntityKind;
use rayo_proto::command::{CallCommand, ComponentCommand, ComponentStart, RecordCommand};
use rayo_proto::generated::record::*;
use rayo_proto::Command;

#[test]
fn record_parse_defaults_through_accessors() {
    let r: Record = parse("<record xmlns='urn:xmpp:rayo:record:1' max-duration='-1'/>");
    assert_eq!(r.format(), "wav");
    assert!(!r.start_beep() && !r.stop_beep() && !r.start_paused() && !r.mix());
    assert_eq!(r.direction(), RecordDirection::Duplex);
    assert_eq!(
        (r.max_duration, r.initial_timeout, r.final_timeout),
        (None, None, None)
    );
    assert!(r.hints.is_empty());
}

#[test]
fn record_parse_every_attribute_and_hints() {
    let r: Record = parse(
        "<record xmlns='urn:xmpp:rayo:record:1' format='mp3' start-beep='true' stop-beep='1'
                 start-paused='0' max-duration='600000' initial-timeout='5000'
                 final-timeout='2000' direction='recv' mix='true'>
           <hint name='bitrate' value='64k'/>
           <hint name='bitrate' value='32k'/>
         </record>",
    );
    assert_eq!(r.format(), "mp3");
    assert!(r.start_beep() && r.stop_beep() && !r.start_paused() && r.mix());
    assert_eq!(r.max_duration, Some(Duration::from_secs(600)));
    assert_eq!(r.initial_timeout, Some(Duration::from_secs(5)));
    assert_eq!(r.final_timeout, Some(Duration::from_secs(2)));
    assert_eq!(r.direction(), RecordDirection::Recv);
    let values: Vec<_> = r
        .hints
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()))
        .collect();
    assert_eq!(values, [("bitrate", "64k"), ("bitrate", "32k")]);
    let r: Record = parse("<record xmlns='urn:xmpp:rayo:record:1' direction='send'/>");
    assert_eq!(r.direction, Some(RecordDirection::Send));
}

#[test]
fn record_serialise() {
    let r = Record {
        format: Some("gsm".into()),
        stop_beep: Some(true),
        final_timeout: Some(Duration::from_millis(1500)),
        direction: Some(RecordDirection::Duplex),
        hints: vec![Hint {
            name: "codec".into(),
            value: "a&b".into(),
        }],
        ..Record::default()
    };
    assert_serialises(
        r,
        "<record xmlns='urn:xmpp:rayo:record:1' format='gsm' stop-beep='true' final-timeout='1500' direction='duplex'>\
         <hint name='codec' value='a&amp;b'/></record>",
    );
    assert_serialises(
        Record::default(),
        "<record xmlns='urn:xmpp:rayo:record:1'/>",
    );
}

#[test]
fn record_mismatch() {
    assert_mismatch::<Record>("<record xmlns='urn:xmpp:rayo:output:1'/>");
    assert_mismatch::<Record>("<recording xmlns='urn:xmpp:rayo:record:1'/>");
}

#[test]
fn record_invalid_attribute_values_and_children() {
    for attrs in [
        "direction='both'",
        "mix='yes'",
        "start-beep='TRUE'",
        "max-duration='-2'",
        "final-timeout='1s'",
        "channels='2'",
    ] {
        invalid::<Record>(&format!("<record xmlns='urn:xmpp:rayo:record:1' {attrs}/>"));
    }
    invalid::<Record>(
        "<record xmlns='urn:xmpp:rayo:record:1'><header name='a' value='b'/></record>",
    );
    invalid::<Record>("<record xmlns='urn:xmpp:rayo:record:1'>wav</record>");
}

#[test]
fn hint_parse_serialise_mismatch_invalid() {
    let h: Hint = parse("<hint xmlns='urn:xmpp:rayo:record:1' name='rate' value=' 8000 '/>");
    assert_eq!((h.name.as_str(), h.value.as_str()), ("rate", " 8000 "));
    assert_serialises(
        h,
        "<hint xmlns='urn:xmpp:rayo:record:1' name='rate' value=' 8000 '/>",
    );
    assert_mismatch::<Hint>("<header xmlns='urn:xmpp:rayo:1' name='a' value='b'/>");
    invalid::<Hint>("<hint xmlns='urn:xmpp:rayo:record:1' value='b'/>");
    invalid::<Hint>("<hint xmlns='urn:xmpp:rayo:record:1' name='a'/>");
    invalid::<Hint>("<hint xmlns='urn:xmpp:rayo:record:1' name='a' value='b'>c</hint>");
}

#[test]
fn pause_and_resume_parse_serialise() {
    let pause = "<pause xmlns='urn:xmpp:rayo:record:1'/>";
    let resume = "<resume xmlns='urn:xmpp:rayo:record:1'/>";
    assert_eq!(parse::<Pause>(pause), Pause);
    assert_eq!(parse::<Resume>(resume), Resume);
    assert_serialises(Pause, pause);
    assert_serialises(Resume, resume);
}

#[test]
fn pause_and_resume_mismatch_the_output_commands() {
    assert_mismatch::<Pause>("<pause xmlns='urn:xmpp:rayo:output:1'/>");
    assert_mismatch::<Resume>("<resume xmlns='urn:xmpp:rayo:output:1'/>");
    assert_mismatch::<Pause>("<resume xmlns='urn:xmpp:rayo:record:1'/>");
}

#[test]
fn pause_and_resume_invalid_with_content() {
    invalid::<Pause>("<pause xmlns='urn:xmpp:rayo:record:1' for='5000'/>");
    invalid::<Resume>("<resume xmlns='urn:xmpp:rayo:record:1'><now/></resume>");
}

// ---- Through the hand-written layer ----

#[test]
fn record_starts_on_calls_and_mixers_only() {
    let xml =
        "<record xmlns='urn:xmpp:rayo:record:1' format='wav'><hint name='a' value='b'/></record>";
    let c = command(EntityKind::Call, xml);
    assert!(
        matches!(c, Command::Call(CallCommand::Start(ComponentStart::Record(ref r))) if r.hints.len() == 1)
    );
    command(EntityKind::Mixer, xml);
    assert_eq!(refusal(EntityKind::Component, xml), FEATURE_NOT_IMPLEMENTED);
    assert_eq!(refusal(EntityKind::Service, xml), FEATURE_NOT_IMPLEMENTED);
}

#[test]
fn record_pause_and_resume_go_to_components_as_record_commands() {
    let c = command(
        EntityKind::Component,
        "<pause xmlns='urn:xmpp:rayo:record:1'/>",
    );
    assert_eq!(
        c,
        Command::Component(ComponentCommand::Record(RecordCommand::Pause(Pause)))
    );
    let c = command(
        EntityKind::Component,
        "<resume xmlns='urn:xmpp:rayo:record:1'/>",
    );
    assert_eq!(
        c,
        Command::Component(ComponentCommand::Record(RecordCommand::Resume(Resume)))
    );
    assert_eq!(
        refusal(EntityKind::Call, "<pause xmlns='urn:xmpp:rayo:record:1'/>"),
        FEATURE_NOT_IMPLEMENTED
    );
    assert_eq!(
        refusal(
            EntityKind::Component,
            "<resume xmlns='urn:xmpp:rayo:record:1'>x</resume>"
        ),
        BAD_REQUEST
    );
}

#[test]
fn record_rules_and_malformed_records_are_bad_request() {
    let record = |inner: &str| format!("<record xmlns='urn:xmpp:rayo:record:1'{inner}");
    for bad in [
        "><hint name=' ' value='b'/></record>",
        "><hint name='' value='b'/></record>",
        " direction='sideways'/>",
        " max-duration='forever'/>",
        " start-beep='yes'/>",
    ] {
        assert_eq!(
            refusal(EntityKind::Call, &record(bad)),
            BAD_REQUEST,
            "{bad}"
        );
    }
}
