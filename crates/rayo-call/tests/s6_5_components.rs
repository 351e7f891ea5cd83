//! XEP-0327 §6.5: component execution — creation, early media, initial errors, the stop
//! command, command errors, completion and commands to components that are gone.
//!
//! The listings name components `eh3u28` (`eh3u82` in example 46); the engine picks its own
//! ids, which replace them before comparing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use rayo_call::{CallId, MediaAction, Party, Refusal, SignalAction, SignalEvent};
use rayo_proto::command::ComponentStart;
use rayo_proto::generated::rayo::EndReason;
use xmpp_parsers::iq::Iq;

const CALL: &str = "9f00061@call.shakespeare.lit";
const OUTPUT: &str = "<output xmlns='urn:xmpp:rayo:output:1'>\
     <document content-type='text/plain'>Thanks for calling, goodbye!</document></output>";
const INPUT: &str = "<input xmlns='urn:xmpp:rayo:input:1' mode='dtmf'>\
     <grammar url='http://example.com/pin.grxml'/></input>";
const RECORD: &str = "<record xmlns='urn:xmpp:rayo:record:1'/>";
const PROMPT: &str = "<prompt xmlns='urn:xmpp:rayo:prompt:1'>\
     <output xmlns='urn:xmpp:rayo:output:1'><document url='http://example.com/pin.wav'/></output>\
     <input xmlns='urn:xmpp:rayo:input:1' mode='dtmf'>\
     <grammar url='http://example.com/pin.grxml'/></input></prompt>";
const STOP: &str = "<stop xmlns='urn:xmpp:rayo:ext:1'/>";

fn call_id() -> CallId {
    CallId("9f00061".to_owned())
}

/// A listing with the component id of the spec (`eh3u28`) replaced by `id`.
fn spec_for(file: &str, index: usize, id: &str) -> minidom::Element {
    listing_edited(file, index, &[("eh3u28", id)])
}

/// Juliet (balcony) has answered 9f00061.
fn answered() -> Harness {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    h
}

/// Juliet has accepted 9f00061 but not answered it; the signalling says whether early media
/// is possible.
fn accepted<P: rayo_call::Policy>(h: &mut Harness<P>, early_media: bool) {
    h.available(JULIET);
    h.incoming_as("9f00061", early_media);
    let out = h.set(JULIET, CALL, "acc", "<accept xmlns='urn:xmpp:rayo:1'/>");
    assert!(matches!(iqs(&out)[..], [Iq::Result { .. }]));
}

/// `who` starts `payload` on 9f00061; returns the component's id.
fn start<P: rayo_call::Policy>(h: &mut Harness<P>, who: &str, payload: &str) -> String {
    resource(&h.start_component(who, CALL, payload))
}

fn started(out: &[rayo_call::Output]) -> Vec<(String, bool)> {
    media(out)
        .into_iter()
        .filter_map(|m| match m {
            MediaAction::StartComponent {
                component, early, ..
            } => Some((component.0, early)),
            _ => None,
        })
        .collect()
}

fn assert_nothing_started(out: &[rayo_call::Output]) {
    assert!(media(out).is_empty(), "no media action: {out:#?}");
    assert!(signals(out).is_empty(), "no signalling: {out:#?}");
    assert!(presences(out).is_empty(), "no event: {out:#?}");
}

// ---- §6.5: creation -----------------------------------------------------------------------

#[test]
fn s6_5_example_45_46_component_is_acknowledged_with_a_ref_then_started() {
    let mut h = answered();
    let out = h.send_listing("xep-0327-045.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    let id = resource(&ref_jid(&out).expect("a ref"));
    assert_matches_listing(
        &st[0],
        &listing_edited("xep-0327-046.xml", 0, &[("eh3u82", &id)]),
    );
    // "schedule the component for immediate execution and return a reference": the ref, then
    // the media engine runs it as it was asked.
    assert_eq!(
        trace(&out),
        vec![
            format!("result -> {JULIET}"),
            "media StartComponent".to_owned()
        ]
    );
    let sent = listing("xep-0327-045.xml", 0)
        .children()
        .next()
        .cloned()
        .expect("the output");
    match &media(&out)[0] {
        MediaAction::StartComponent {
            on,
            component,
            spec: ComponentStart::Output(o),
            early,
        } => {
            assert_eq!(*on, Party::Call(call_id()));
            assert_eq!(component.0, id);
            assert!(!early);
            assert_eq!(
                ComponentStart::Output(o.clone()),
                match rayo_proto::Command::parse(rayo_proto::address::EntityKind::Call, sent) {
                    Ok(rayo_proto::Command::Call(rayo_proto::command::CallCommand::Start(s))) => s,
                    other => panic!("{other:?}"),
                }
            );
        }
        other => panic!("not a start: {other:?}"),
    }
    assert_eq!(h.engine.component_count(), 1);
}

#[test]
fn s6_5_components_of_same_and_different_types_run_at_once() {
    // "A server SHOULD implement components in such a way that it is acceptable to execute
    // multiple components of the same type or of differing types simultaneously."
    let mut h = answered();
    let mut ids = Vec::new();
    for payload in [OUTPUT, OUTPUT, INPUT, RECORD] {
        let out = h.set(JULIET, CALL, "s", payload);
        let id = resource(&ref_jid(&out).expect("a ref"));
        assert_eq!(started(&out), vec![(id.clone(), false)]);
        assert!(!ids.contains(&id), "each component has its own id");
        ids.push(id);
    }
    assert_eq!(h.engine.component_count(), 4);
    // Each is its own: stopping one leaves the others running.
    let out = h.set(JULIET, &format!("{CALL}/{}", ids[0]), "st", STOP);
    assert!(matches!(iqs(&out)[..], [Iq::Result { .. }]));
    h.media(completed_as(&ids[0], "xep-0327-059.xml", 0));
    assert_eq!(h.engine.component_count(), 3);
}

#[test]
fn s6_5_whole_command_is_validated_before_acknowledgement() {
    // "The whole command MUST be parsed up-front, and any applicable validation performed
    // before acknowledgement of the command." Even before an answer: nothing is started and
    // early media is not opened for a command that is refused.
    let mut h = Harness::new();
    accepted(&mut h, true);
    for bad in [
        "<output xmlns='urn:xmpp:rayo:output:1' repeat-times='foo'>\
         <document url='http://example.com/a.wav'/></output>",
        "<output xmlns='urn:xmpp:rayo:output:1'/>",
        "<output xmlns='urn:xmpp:rayo:output:1'>\
         <document url='http://example.com/a.wav' content-type='text/plain'>hi</document></output>",
        "<output xmlns='urn:xmpp:rayo:output:1'><document content-type='text/plain'/></output>",
        "<input xmlns='urn:xmpp:rayo:input:1' mode='dtmf'/>",
        "<prompt xmlns='urn:xmpp:rayo:prompt:1'><output xmlns='urn:xmpp:rayo:output:1'>\
         <document url='http://example.com/a.wav'/></output></prompt>",
        "<record xmlns='urn:xmpp:rayo:record:1' direction='both'/>",
        "<record xmlns='urn:xmpp:rayo:record:1'><hint name='' value='x'/></record>",
    ] {
        let out = h.set(JULIET, CALL, "bad", bad);
        assert_eq!(
            iq_error(&out),
            ("bad-request".to_owned(), "modify".to_owned()),
            "{bad}"
        );
        assert_nothing_started(&out);
    }
    assert_eq!(h.engine.component_count(), 0);
}

#[test]
fn s6_5_component_before_answer_runs_on_early_media_without_answering() {
    // "If a component execution command is received prior to the call being answered, the
    // server MUST NOT answer the call, and SHOULD attempt to use early-media techniques".
    let mut h = Harness::new();
    accepted(&mut h, true);
    let out = h.set(JULIET, CALL, "o1", OUTPUT);
    let id1 = resource(&ref_jid(&out).expect("a ref"));
    assert_eq!(
        signals(&out),
        vec![SignalAction::EarlyMedia { call: call_id() }]
    );
    assert_eq!(started(&out), vec![(id1, true)]);
    // Early media is opened once; every component before the answer runs on it.
    let out = h.set(JULIET, CALL, "i1", INPUT);
    let id2 = resource(&ref_jid(&out).expect("a ref"));
    assert!(signals(&out).is_empty(), "{out:#?}");
    assert_eq!(started(&out), vec![(id2, true)]);
    // The client answers: then components run on the answered call.
    let out = h.set(JULIET, CALL, "ans", "<answer xmlns='urn:xmpp:rayo:1'/>");
    assert!(matches!(signals(&out)[..], [SignalAction::Answer { .. }]));
    let out = h.set(JULIET, CALL, "o2", OUTPUT);
    assert!(signals(&out).is_empty());
    assert_eq!(started(&out).len(), 1);
    assert!(!started(&out)[0].1);
}

#[test]
fn s6_5_component_on_an_offered_call_takes_control_and_uses_early_media() {
    let mut h = Harness::new();
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    let out = h.send_listing("xep-0327-045.xml", 0);
    assert!(ref_jid(&out).is_some(), "{out:#?}");
    assert_eq!(
        signals(&out),
        vec![SignalAction::EarlyMedia { call: call_id() }],
        "no accept, no answer: only early media"
    );
    assert!(started(&out)[0].1);
}

// ---- §6.5.1: initial errors -----------------------------------------------------------------

#[test]
fn s6_5_1_example_52_component_before_answer_without_early_media_is_unexpected_request() {
    let mut h = Harness::new();
    accepted(&mut h, false);
    let out = h.send_listing("xep-0327-045.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(&st[0], &listing("xep-0327-052.xml", 0));
    assert_nothing_started(&out);
    assert_eq!(h.engine.component_count(), 0);
    // Once answered, the same command runs.
    h.set(JULIET, CALL, "ans", "<answer xmlns='urn:xmpp:rayo:1'/>");
    let out = h.send_listing("xep-0327-045.xml", 0);
    assert!(ref_jid(&out).is_some(), "{out:#?}");
}

#[test]
fn s6_5_1_example_52_component_on_an_unanswered_outbound_call_is_unexpected_request() {
    let mut h = Harness::new();
    h.available(JULIET);
    let out = h.dial_as("9f00061");
    assert_eq!(ref_jid(&out).as_deref(), Some(CALL));
    let out = h.send_listing("xep-0327-045.xml", 0);
    assert_error_matches_listing(&stanzas(&out)[0], &listing("xep-0327-052.xml", 0));
    assert_nothing_started(&out);
    h.signal("9f00061", SignalEvent::Ringing { headers: vec![] });
    let out = h.send_listing("xep-0327-045.xml", 0);
    assert_error_matches_listing(&stanzas(&out)[0], &listing("xep-0327-052.xml", 0));
    assert_nothing_started(&out);
    h.signal("9f00061", SignalEvent::Answered { headers: vec![] });
    let out = h.send_listing("xep-0327-045.xml", 0);
    assert!(ref_jid(&out).is_some(), "{out:#?}");
    assert_eq!(started(&out).len(), 1);
    assert!(!started(&out)[0].1);
}

#[test]
fn s6_5_1_example_47_unimplemented_component_is_feature_not_implemented_cancel() {
    let mut h = Harness::scripted(ScriptedPolicy {
        component: Box::new(|_, spec| match spec {
            ComponentStart::Output(_) => Err(Refusal::not_implemented()),
            _ => Ok(()),
        }),
        ..Default::default()
    });
    h.answered_call("9f00061");
    let out = h.send_listing("xep-0327-045.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(&st[0], &listing("xep-0327-047.xml", 0));
    assert_nothing_started(&out);
    assert_eq!(h.engine.component_count(), 0);
    // Refused before an answer, it does not open early media either.
    let mut h = Harness::scripted(ScriptedPolicy {
        component: Box::new(|_, _| Err(Refusal::not_implemented())),
        ..Default::default()
    });
    accepted(&mut h, true);
    let out = h.send_listing("xep-0327-045.xml", 0);
    assert_error_matches_listing(&stanzas(&out)[0], &listing("xep-0327-047.xml", 0));
    assert_nothing_started(&out);
    // Every kind of component is checked before it is acknowledged (§6.5.3–§6.5.6: "The
    // server MUST validate that it has appropriate resources/mechanisms ... before
    // acknowledging the component creation").
    let mut h = Harness::scripted(ScriptedPolicy {
        component: Box::new(|_, _| Err(Refusal::not_implemented())),
        ..Default::default()
    });
    h.answered_call("9f00061");
    for payload in [OUTPUT, INPUT, PROMPT, RECORD] {
        let out = h.set(JULIET, CALL, "h7ed2", payload);
        assert_error_matches_listing(
            &stanzas(&out)[0],
            &with_echo(&listing("xep-0327-047.xml", 0), payload),
        );
        assert_nothing_started(&out);
    }
}

#[test]
fn s6_5_1_example_48_unsupported_option_is_feature_not_implemented_modify() {
    let mut h = Harness::scripted(ScriptedPolicy {
        component: Box::new(|_, spec| match spec {
            ComponentStart::Output(o) if o.repeat_times() > 1 => {
                Err(Refusal::option_not_implemented())
            }
            _ => Ok(()),
        }),
        ..Default::default()
    });
    h.answered_call("9f00061");
    let payload = "<output xmlns='urn:xmpp:rayo:output:1' repeat-times='4'>\
                   <document url='http://example.com/a.wav'/></output>";
    let out = h.set(JULIET, CALL, "h7ed2", payload);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(&st[0], &with_echo(&listing("xep-0327-048.xml", 0), payload));
    assert_nothing_started(&out);
    // Without the option, it runs.
    let out = h.set(JULIET, CALL, "h7ed3", OUTPUT);
    assert!(ref_jid(&out).is_some());
}

#[test]
fn s6_5_1_example_49_component_not_meeting_the_spec_is_bad_request() {
    let mut h = answered();
    let out = h.send_request_of("xep-0327-049.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(&st[0], &listing("xep-0327-049.xml", 0));
    assert_nothing_started(&out);
}

#[test]
fn s6_5_1_example_50_51_no_resources_is_resource_constraint() {
    // Both a lack of resources and a conflict with another component are resource-constraint
    // (wait); the media engine's deployment decides which through the policy.
    for file in ["xep-0327-050.xml", "xep-0327-051.xml"] {
        let mut h = Harness::scripted(ScriptedPolicy {
            component: Box::new(|_, _| Err(Refusal::resource_constraint())),
            ..Default::default()
        });
        h.answered_call("9f00061");
        let out = h.send_listing("xep-0327-045.xml", 0);
        let st = stanzas(&out);
        assert_eq!(st.len(), 1, "{out:#?}");
        assert_error_matches_listing(&st[0], &listing(file, 0));
        assert_nothing_started(&out);
    }
}

// ---- §6.5: stop ---------------------------------------------------------------------------

#[test]
fn s6_5_example_53_stop_is_acknowledged_and_the_component_stopped() {
    let mut h = answered();
    let id = start(&mut h, JULIET, OUTPUT);
    let out = h.send(spec_for("xep-0327-053.xml", 0, &id));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &spec_for("xep-0327-053.xml", 1, &id));
    assert_eq!(
        media(&out),
        vec![MediaAction::StopComponent {
            component: rayo_call::ComponentId(id.clone()),
            report: true,
        }]
    );
    assert!(
        presences(&out).is_empty(),
        "the completion comes from the media engine"
    );
    // A second stop while it ceases is acknowledged; the media engine is not told twice.
    let out = h.send(spec_for("xep-0327-053.xml", 0, &id));
    assert_matches_listing(&stanzas(&out)[0], &spec_for("xep-0327-053.xml", 1, &id));
    assert!(media(&out).is_empty());
    // It ceases: complete with the stop reason, to its creator.
    let out = h.media(completed_as(&id, "xep-0327-059.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1);
    assert_matches_listing(
        &st[0],
        &listing_edited(
            "xep-0327-059.xml",
            0,
            &[("eh3u28", &id), ("juliet@capulet.lit/courtyard", JULIET)],
        ),
    );
    assert_eq!(h.engine.component_count(), 0);
}

// ---- §6.5.2: command errors ---------------------------------------------------------------

#[test]
fn s6_5_2_example_54_command_the_component_does_not_implement_is_feature_not_implemented_cancel() {
    let mut h = answered();
    let output = start(&mut h, JULIET, OUTPUT);
    let input = start(&mut h, JULIET, INPUT);
    let record = start(&mut h, JULIET, RECORD);
    let prompt = start(&mut h, JULIET, PROMPT);
    for (id, command) in [
        (&prompt, "<pause xmlns='urn:xmpp:rayo:record:1'/>"),
        (&output, "<pause xmlns='urn:xmpp:rayo:record:1'/>"),
        (&output, "<resume xmlns='urn:xmpp:rayo:record:1'/>"),
        (&record, "<pause xmlns='urn:xmpp:rayo:output:1'/>"),
        (
            &record,
            "<seek xmlns='urn:xmpp:rayo:output:1' direction='back' amount='1000'/>",
        ),
        (&input, "<volume-up xmlns='urn:xmpp:rayo:output:1'/>"),
        (&input, "<pause xmlns='urn:xmpp:rayo:record:1'/>"),
    ] {
        let out = h.set(JULIET, &format!("{CALL}/{id}"), "h7ed2", command);
        let st = stanzas(&out);
        assert_eq!(st.len(), 1, "{out:#?}");
        assert_error_matches_listing(
            &st[0],
            &with_echo(&spec_for("xep-0327-054.xml", 0, id), command),
        );
        assert!(media(&out).is_empty(), "{command}: {out:#?}");
    }
    // What is not a component command at all gets the same answer.
    let out = h.set(
        JULIET,
        &format!("{CALL}/{output}"),
        "h7ed3",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(
        iq_error(&out),
        ("feature-not-implemented".to_owned(), "cancel".to_owned())
    );
    assert_eq!(h.engine.component_count(), 4, "all still running");
}

#[test]
fn s6_5_2_example_56_command_not_meeting_the_spec_is_bad_request() {
    let mut h = answered();
    let id = start(&mut h, JULIET, OUTPUT);
    for command in [
        "<seek xmlns='urn:xmpp:rayo:output:1' direction='forward' amount='0'/>",
        "<seek xmlns='urn:xmpp:rayo:output:1' direction='sideways' amount='1000'/>",
        "<seek xmlns='urn:xmpp:rayo:output:1' direction='forward'/>",
        "<pause xmlns='urn:xmpp:rayo:output:1' now='yes'/>",
    ] {
        let out = h.set(JULIET, &format!("{CALL}/{id}"), "h7ed2", command);
        let st = stanzas(&out);
        assert_eq!(st.len(), 1, "{out:#?}");
        assert_error_matches_listing(
            &st[0],
            &with_echo(&spec_for("xep-0327-056.xml", 0, &id), command),
        );
        assert!(media(&out).is_empty(), "{command}");
    }
}

#[test]
fn s6_5_2_example_57_command_inappropriate_at_this_stage_is_unexpected_request() {
    let mut h = answered();
    let id = start(&mut h, JULIET, OUTPUT);
    let to = format!("{CALL}/{id}");
    let resume = "<resume xmlns='urn:xmpp:rayo:output:1'/>";
    let pause = "<pause xmlns='urn:xmpp:rayo:output:1'/>";
    let unexpected = |command: &str| with_echo(&spec_for("xep-0327-057.xml", 0, &id), command);
    // Resuming what plays.
    let out = h.set(JULIET, &to, "h7ed2", resume);
    assert_error_matches_listing(&stanzas(&out)[0], &unexpected(resume));
    assert!(media(&out).is_empty());
    // Pausing what is paused.
    assert!(matches!(
        iqs(&h.set(JULIET, &to, "p1", pause))[..],
        [Iq::Result { .. }]
    ));
    let out = h.set(JULIET, &to, "h7ed2", pause);
    assert_error_matches_listing(&stanzas(&out)[0], &unexpected(pause));
    assert!(media(&out).is_empty());
    // Anything but stop once a stop was acknowledged.
    assert!(matches!(
        iqs(&h.set(JULIET, &to, "s1", STOP))[..],
        [Iq::Result { .. }]
    ));
    let out = h.set(JULIET, &to, "h7ed2", resume);
    assert_error_matches_listing(&stanzas(&out)[0], &unexpected(resume));
    assert!(media(&out).is_empty());
}

#[test]
fn s6_5_2_example_58_command_from_anyone_but_the_creator_is_conflict() {
    let mut h = answered();
    let id = start(&mut h, JULIET, OUTPUT);
    // Juliet's courtyard: same bare JID, but not the component's creator.
    let out = h.set(JULIET_COURTYARD, &format!("{CALL}/{id}"), "h7ed2", STOP);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(&st[0], &spec_for("xep-0327-058.xml", 0, &id));
    assert!(media(&out).is_empty(), "the component is not stopped");
    // Nor Romeo, nor any other command.
    let out = h.set(
        ROMEO,
        &format!("{CALL}/{id}"),
        "r1",
        "<pause xmlns='urn:xmpp:rayo:output:1'/>",
    );
    assert_eq!(iq_error(&out), ("conflict".to_owned(), "cancel".to_owned()));
    assert!(media(&out).is_empty());
    // The creator still commands it.
    let out = h.send(spec_for("xep-0327-053.xml", 0, &id));
    assert_matches_listing(&stanzas(&out)[0], &spec_for("xep-0327-053.xml", 1, &id));
}

// ---- §6.5: completion and components that are gone -----------------------------------------

#[test]
fn s6_5_example_59_completion_goes_to_the_creator_as_unavailable_presence() {
    // "When the component ceases to execute, it MUST send a complete event with a valid
    // reason to the requesting party as directed presence with a type of 'unavailable'."
    let mut h = Harness::new();
    h.answered_call_by(JULIET_COURTYARD, "9f00061");
    let id = start(&mut h, JULIET_COURTYARD, OUTPUT);
    let out = h.set(JULIET_COURTYARD, &format!("{CALL}/{id}"), "s", STOP);
    assert!(matches!(iqs(&out)[..], [Iq::Result { .. }]));
    let out = h.media(completed_as(&id, "xep-0327-059.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &spec_for("xep-0327-059.xml", 0, &id));
    assert!(media(&out).is_empty() && signals(&out).is_empty());
    // Only once: the media engine repeating itself changes nothing.
    assert!(h.media(completed_as(&id, "xep-0327-059.xml", 0)).is_empty());
}

#[test]
fn s6_5_example_60_command_to_a_completed_or_unknown_component_is_item_not_found() {
    let mut h = answered();
    // No component eh3u28 ever existed.
    let out = h.send_listing("xep-0327-060.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &listing("xep-0327-060.xml", 1));
    // One that completed.
    let id = start(&mut h, JULIET, OUTPUT);
    h.media(completed_as(&id, "xep-0327-070.xml", 0));
    let out = h.send(spec_for("xep-0327-060.xml", 0, &id));
    assert_matches_listing(&stanzas(&out)[0], &spec_for("xep-0327-060.xml", 1, &id));
    assert!(media(&out).is_empty());
    // One whose call ended.
    let id = start(&mut h, JULIET, RECORD);
    h.set(JULIET, CALL, "hang", "<hangup xmlns='urn:xmpp:rayo:1'/>");
    let out = h.send(spec_for("xep-0327-060.xml", 0, &id));
    assert_matches_listing(&stanzas(&out)[0], &spec_for("xep-0327-060.xml", 1, &id));
    assert!(media(&out).is_empty());
}

#[test]
fn s6_5_components_complete_with_hangup_when_their_call_ends() {
    let mut h = answered();
    let output = start(&mut h, JULIET, OUTPUT);
    let record = start(&mut h, JULIET, RECORD);
    let out = h.signal(
        "9f00061",
        SignalEvent::Ended {
            reason: EndReason::Hangup {
                platform_code: None,
            },
            headers: vec![],
        },
    );
    let mut expected: Vec<String> = Vec::new();
    for id in [&output, &record] {
        let mut pair = vec![
            "media StopComponent".to_owned(),
            format!("{CALL}/{id} -> {JULIET}: complete(hangup)"),
        ];
        expected.append(&mut pair);
    }
    let mut got = trace(&out);
    let end = got.split_off(4);
    // The two components in either order, then the end of the call.
    let mut got_sorted = got.chunks(2).map(|c| c.to_vec()).collect::<Vec<_>>();
    got_sorted.sort();
    let mut want_sorted = expected.chunks(2).map(|c| c.to_vec()).collect::<Vec<_>>();
    want_sorted.sort();
    assert_eq!(got_sorted, want_sorted, "{:#?}", trace(&out));
    assert_eq!(
        end,
        vec![
            "media ReleaseCall".to_owned(),
            format!("{CALL} -> {JULIET}: end(hangup)")
        ]
    );
    for id in [&output, &record] {
        assert!(media(&out).contains(&MediaAction::StopComponent {
            component: rayo_call::ComponentId(id.clone()),
            report: false,
        }));
    }
    assert_eq!(h.engine.component_count(), 0);
    // The media engine reporting late changes nothing: each completed once.
    assert!(h
        .media(completed_as(&output, "xep-0327-070.xml", 0))
        .is_empty());
}

/// Issue 12 §14: 200 recorders on one call all ran, each with a file. A call or mixer runs at
/// most `max_components_per_party` components and a client at most
/// `max_components_per_client`; one more is refused with `resource-constraint` (wait) before
/// the media engine hears of it, and a place frees when a component completes.
#[test]
fn components_are_bounded_per_call_and_per_client() {
    let mut cfg = rayo_call::Config::new(addressing());
    cfg.routes = vec![rayo_call::Route::new(
        "*",
        vec![jid("juliet@capulet.lit")],
        Box::new(rayo_call::All),
    )];
    cfg.max_components_per_party = 3;
    cfg.max_components_per_client = 5;
    let mut h = Harness {
        engine: rayo_call::Engine::new(cfg),
        now: std::time::Instant::now(),
    };
    h.answered_call("9f00061");
    let ids: Vec<String> = (0..3).map(|_| start(&mut h, JULIET, RECORD)).collect();
    let refused = h.set(JULIET, CALL, "r4", RECORD);
    assert_eq!(
        iq_error(&refused),
        ("resource-constraint".into(), "wait".into())
    );
    assert!(
        media(&refused).is_empty(),
        "the media engine never hears of it"
    );
    // One completes: its place is free again.
    h.media(rayo_call::MediaEvent::Complete {
        component: rayo_call::ComponentId(ids[0].clone()),
        reason: rayo_proto::event::CompleteReason::Stop,
        metadata: vec![],
    });
    start(&mut h, JULIET, RECORD);
    // Per client: two more on a second call fill Juliet's five; the sixth is refused.
    h.answered_call("c2");
    let second = "c2@call.shakespeare.lit";
    h.start_component(JULIET, second, RECORD);
    h.start_component(JULIET, second, RECORD);
    let refused = h.set(JULIET, second, "r6", RECORD);
    assert_eq!(
        iq_error(&refused),
        ("resource-constraint".into(), "wait".into())
    );
}

/// A policy for which outputs need their documents prepared first (as the node's does).
struct Preparing;

impl rayo_call::Policy for Preparing {
    fn needs_preparation(&self, _on: &Party, spec: &ComponentStart) -> bool {
        matches!(spec, ComponentStart::Output(_))
    }
}

/// The pending components among outputs.
fn pending(out: &[rayo_call::Output]) -> Vec<rayo_call::PendingComponent> {
    pick(out, |o| match o {
        rayo_call::Output::Prepare(p) => Some(p.clone()),
        _ => None,
    })
}

/// Issue 12 §6: documents were fetched before the engine checked who sent the command and
/// whether its call exists. The engine decides first: a refused command is never handed out
/// for preparation; an admitted one comes out as a `PendingComponent` value, holds its place
/// in the limits, and the client is answered only when it is given back.
#[test]
fn components_are_prepared_only_once_admitted() {
    let mut cfg = rayo_call::Config::new(addressing());
    cfg.routes = juliet_and_romeo_routes();
    cfg.max_components_per_party = 2;
    let mut h = Harness {
        engine: rayo_call::Engine::with_policy(cfg, Preparing),
        now: std::time::Instant::now(),
    };
    // No such call: item-not-found at once, nothing to prepare.
    let out = h.set(JULIET, "nosuchcall@call.shakespeare.lit", "o0", OUTPUT);
    assert_eq!(iq_error(&out), ("item-not-found".into(), "cancel".into()));
    assert!(pending(&out).is_empty());
    h.answered_call_by(JULIET, "9f00061");
    // Someone else's call: refused before any preparation.
    h.available(ROMEO);
    let out = h.set(ROMEO, CALL, "o1", OUTPUT);
    assert!(matches!(iqs(&out)[..], [Iq::Error { .. }]), "{out:#?}");
    assert!(pending(&out).is_empty());
    // Juliet's: handed out, not answered yet.
    let out = h.set(JULIET, CALL, "o2", OUTPUT);
    assert!(iqs(&out).is_empty(), "no answer before it is prepared");
    let [first] = &pending(&out)[..] else {
        panic!("one pending component: {out:#?}")
    };
    assert_eq!(first.client().to_string(), JULIET);
    assert!(matches!(first.on(), Party::Call(c) if *c == call_id()));
    // It holds its place: one more pending fills the call's two, a third is refused.
    let second = pending(&h.set(JULIET, CALL, "o3", OUTPUT)).remove(0);
    let out = h.set(JULIET, CALL, "o4", OUTPUT);
    assert_eq!(
        iq_error(&out),
        ("resource-constraint".into(), "wait".into())
    );
    // Accepted: the ref, and the media engine starts it; a copy given back again is ignored.
    h.engine.accept_component(h.now, first.clone());
    let out = h.outputs();
    assert!(ref_uri(&out).is_some(), "{out:#?}");
    assert!(matches!(
        media(&out)[..],
        [MediaAction::StartComponent { .. }]
    ));
    h.engine.accept_component(h.now, first.clone());
    h.engine
        .refuse_component(first.clone(), Refusal::bad_request());
    assert!(h.outputs().is_empty(), "given back once only");
    // Refused: the client gets the preparation's error and the place is free again.
    h.engine.refuse_component(
        second,
        Refusal::new(
            xmpp_parsers::stanza_error::ErrorType::Cancel,
            xmpp_parsers::stanza_error::DefinedCondition::NotAllowed,
        ),
    );
    let out = h.outputs();
    assert_eq!(iq_error(&out), ("not-allowed".into(), "cancel".into()));
    let third = pending(&h.set(JULIET, CALL, "o5", OUTPUT)).remove(0);
    // The call ends while it is prepared: accepting it answers item-not-found.
    h.set(JULIET, CALL, "hang", "<hangup xmlns='urn:xmpp:rayo:1'/>");
    h.engine.accept_component(h.now, third);
    let out = h.outputs();
    assert_eq!(iq_error(&out), ("item-not-found".into(), "cancel".into()));
    assert!(media(&out).is_empty());
}
