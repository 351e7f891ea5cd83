//! `urn:xmpp:rayo:prompt:1` (`generated::prompt`): `<prompt/>` (an output and an input of
//! their own namespaces) and the `<input-timers-started/>` event, then through `Command`
//! and `Event`.

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod common;

use common::*;
use rayo_proto::address::EntityKind;
use rayo_proto::command::{CallCommand, ComponentStart};
use rayo_proto::generated::prompt::{InputTimersStarted, Prompt};
use rayo_proto::generated::{input, output};
use rayo_proto::{Command, Event};

const OUTPUT: &str = "<output xmlns='urn:xmpp:rayo:output:1'><document content-type='text/plain'> Your PIN? </document></output>";
const INPUT: &str =
    "<input xmlns='urn:xmpp:rayo:input:1' mode='dtmf'><grammar url='http://x/pin.grxml'/></input>";

fn prompt(attrs: &str, children: &str) -> String {
    format!("<prompt xmlns='urn:xmpp:rayo:prompt:1'{attrs}>{children}</prompt>")
}

fn sample() -> Prompt {
    Prompt {
        barge_in: Some(false),
        output: output::Output {
            documents: vec![output::Document {
                content_type: Some("text/plain".into()),
                body: " Your PIN? ".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
        input: input::Input {
            mode: Some(input::InputMode::Dtmf),
            grammars: vec![input::Grammar {
                url: Some("http://x/pin.grxml".into()),
                content_type: None,
                // Not empty: see `grammar_serialise_url_only_without_text_node` (ns_input.rs).
                body: "\n".into(),
            }],
            ..Default::default()
        },
    }
}

#[test]
fn prompt_parse_barge_in_default_and_children() {
    let p: Prompt = parse(&prompt("", &format!("\n  {OUTPUT}\n  {INPUT}\n")));
    assert_eq!(p.barge_in, None);
    assert!(p.barge_in());
    assert_eq!(p.output.documents[0].body, " Your PIN? ");
    assert_eq!(p.output.repeat_times(), 1);
    assert_eq!(p.input.mode(), input::InputMode::Dtmf);
    let p: Prompt = parse(&prompt(" barge-in='false'", &format!("{OUTPUT}{INPUT}")));
    assert!(!p.barge_in());
}

#[test]
fn prompt_serialise() {
    let xml = prompt(
        " barge-in='false'",
        &format!(
            "{OUTPUT}<input xmlns='urn:xmpp:rayo:input:1' mode='dtmf'><grammar url='http://x/pin.grxml'>\n</grammar></input>"
        ),
    );
    assert_serialises(sample(), &xml);
}

#[test]
fn prompt_mismatch() {
    assert_mismatch::<Prompt>(&format!(
        "<prompt xmlns='urn:xmpp:rayo:input:1'>{OUTPUT}{INPUT}</prompt>"
    ));
    assert_mismatch::<Prompt>(OUTPUT);
}

#[test]
fn prompt_invalid_missing_child_wrong_namespace_or_attribute() {
    invalid::<Prompt>(&prompt("", OUTPUT));
    invalid::<Prompt>(&prompt("", INPUT));
    invalid::<Prompt>(&prompt("", &format!("{OUTPUT}{INPUT}{INPUT}")));
    // Children in the prompt namespace are not the output and input elements.
    invalid::<Prompt>(&prompt("", "<output/><input/>"));
    invalid::<Prompt>(&prompt(" barge-in='maybe'", &format!("{OUTPUT}{INPUT}")));
    invalid::<Prompt>(&prompt(" mode='dtmf'", &format!("{OUTPUT}{INPUT}")));
}

#[test]
fn input_timers_started_parse_serialise_mismatch_invalid() {
    let xml = "<input-timers-started xmlns='urn:xmpp:rayo:prompt:1'/>";
    assert_eq!(parse::<InputTimersStarted>(xml), InputTimersStarted);
    assert_serialises(InputTimersStarted, xml);
    assert_mismatch::<InputTimersStarted>("<input-timers-started xmlns='urn:xmpp:rayo:input:1'/>");
    invalid::<InputTimersStarted>("<input-timers-started xmlns='urn:xmpp:rayo:prompt:1' at='1'/>");
    invalid::<InputTimersStarted>(
        "<input-timers-started xmlns='urn:xmpp:rayo:prompt:1'>now</input-timers-started>",
    );
}

// ---- Through the hand-written layer ----

#[test]
fn prompt_starts_on_calls_and_mixers_only() {
    let xml = prompt("", &format!("{OUTPUT}{INPUT}"));
    let c = command(EntityKind::Call, &xml);
    let Command::Call(CallCommand::Start(ComponentStart::Prompt(p))) = &c else {
        panic!("{c:?}")
    };
    assert_eq!(p.input.grammars.len(), 1);
    command(EntityKind::Mixer, &xml);
    assert_eq!(
        refusal(EntityKind::Component, &xml),
        FEATURE_NOT_IMPLEMENTED
    );
    assert_eq!(refusal(EntityKind::Call, &prompt("", OUTPUT)), BAD_REQUEST);
}

#[test]
fn prompt_checks_the_rules_of_its_output_and_input() {
    let no_doc = "<output xmlns='urn:xmpp:rayo:output:1'/>";
    let no_grammar = "<input xmlns='urn:xmpp:rayo:input:1'/>";
    let bad_grammar = "<input xmlns='urn:xmpp:rayo:input:1'><grammar>1|2</grammar></input>";
    for children in [
        format!("{no_doc}{INPUT}"),
        format!("{OUTPUT}{no_grammar}"),
        format!("{OUTPUT}{bad_grammar}"),
    ] {
        assert_eq!(
            refusal(EntityKind::Call, &prompt("", &children)),
            BAD_REQUEST,
            "{children}"
        );
    }
}

#[test]
fn input_timers_started_is_an_event() {
    let ev = event("<input-timers-started xmlns='urn:xmpp:rayo:prompt:1'/>");
    assert_eq!(ev, Event::InputTimersStarted(InputTimersStarted));
    assert!(!ev.is_final());
    let bad = "<input-timers-started xmlns='urn:xmpp:rayo:prompt:1'>x</input-timers-started>";
    assert_eq!(event_refusal(bad), BAD_REQUEST);
    assert_eq!(
        event_refusal(&prompt("", &format!("{OUTPUT}{INPUT}"))),
        SERVICE_UNAVAILABLE
    );
}
