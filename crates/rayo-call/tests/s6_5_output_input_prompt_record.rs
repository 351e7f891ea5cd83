//! XEP-0327 §6.5.3–§6.5.6: the output, input, prompt and record components — their
//! commands, events and completions.
//!
//! The listings name components `eh3u28` (`fgh4590` in examples 7 and 8); the engine picks
//! its own ids, which replace them before comparing. Completions of examples 59, 70, 72, 74
//! and 78 go to `juliet@capulet.lit/courtyard`: there the courtyard controls the call and
//! created the component.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use rayo_call::{ComponentId, MediaAction, MediaEvent, Output, Party};
use rayo_proto::command::{ComponentStart, OutputCommand, RecordCommand};
use rayo_proto::event::{CompleteReason, InputReason, OutputReason, RecordReason};
use rayo_proto::generated::output::SeekDirection;
use xmpp_parsers::iq::Iq;

const CALL: &str = "9f00061@call.shakespeare.lit";
const OUTPUT: &str = "<output xmlns='urn:xmpp:rayo:output:1'>\
     <document content-type='text/plain'>Thanks for calling, goodbye!</document></output>";
const PROMPT: &str = "<prompt xmlns='urn:xmpp:rayo:prompt:1'>\
     <output xmlns='urn:xmpp:rayo:output:1'><document url='http://example.com/pin.wav'/></output>\
     <input xmlns='urn:xmpp:rayo:input:1' mode='dtmf'>\
     <grammar url='http://example.com/pin.grxml'/></input></prompt>";
const STOP: &str = "<stop xmlns='urn:xmpp:rayo:ext:1'/>";
const MIXER: &str = "mymixer@mixer.shakespeare.lit";

fn spec_for(file: &str, index: usize, id: &str) -> minidom::Element {
    listing_edited(file, index, &[("eh3u28", id)])
}

/// `who` has answered 9f00061.
fn answered_by(who: &str) -> Harness {
    let mut h = Harness::new();
    h.answered_call_by(who, "9f00061");
    h
}

/// `who` starts the component of a listing (sent by `who`); returns its id.
fn start_listing(h: &mut Harness, who: &str, file: &str) -> String {
    let e = listing_edited(file, 0, &[("juliet@capulet.lit/balcony", who)]);
    let out = h.send(e);
    resource(&ref_jid(&out).unwrap_or_else(|| panic!("a ref: {out:#?}")))
}

fn start(h: &mut Harness, who: &str, payload: &str) -> String {
    resource(&h.start_component(who, CALL, payload))
}

fn is_result(out: &[Output]) -> bool {
    matches!(iqs(out)[..], [Iq::Result { .. }])
}

/// Sends an output command listing (63–69) to component `id` and checks the reply and the
/// media action; returns the command the media engine got.
fn output_command(h: &mut Harness, file: &str, id: &str) -> OutputCommand {
    let out = h.send(spec_for(file, 0, id));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &spec_for(file, 1, id));
    match &media(&out)[..] {
        [MediaAction::Output { component, command }] if component.0 == id => command.clone(),
        other => panic!("{file}: one output command for the media engine: {other:#?}"),
    }
}

// ---- §6.5.3: output -----------------------------------------------------------------------

#[test]
fn s6_5_3_example_6_7_8_output_is_referenced_then_completes_with_finish() {
    let mut h = answered_by(JULIET);
    let out = h.send_listing("xep-0327-006.xml", 0);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    let id = resource(&ref_jid(&out).expect("a ref"));
    assert_matches_listing(
        &st[0],
        &listing_edited("xep-0327-007.xml", 0, &[("fgh4590", &id)]),
    );
    assert!(matches!(
        &media(&out)[..],
        [MediaAction::StartComponent { spec: ComponentStart::Output(o), .. }]
            if o.voice.as_deref() == Some("allison")
    ));
    let out = h.media(MediaEvent::Complete {
        component: ComponentId(id.clone()),
        reason: CompleteReason::Output(OutputReason::Finish),
        metadata: vec![],
    });
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(
        &st[0],
        &listing_edited("xep-0327-008.xml", 0, &[("fgh4590", &id)]),
    );
}

#[test]
fn s6_5_3_example_61_62_ssml_and_plain_text_outputs_are_started() {
    let mut h = answered_by(JULIET);
    for file in ["xep-0327-061.xml", "xep-0327-062.xml"] {
        let out = h.send_listing(file, 0);
        assert!(ref_jid(&out).is_some(), "{file}: {out:#?}");
        assert!(
            matches!(
                &media(&out)[..],
                [MediaAction::StartComponent { spec: ComponentStart::Output(o), .. }]
                    if o.documents.len() == 1
            ),
            "{file}"
        );
    }
}

#[test]
fn s6_5_3_1_example_63_pause_pauses_rendering() {
    let mut h = answered_by(JULIET);
    let id = start(&mut h, JULIET, OUTPUT);
    assert!(matches!(
        output_command(&mut h, "xep-0327-063.xml", &id),
        OutputCommand::Pause(_)
    ));
}

#[test]
fn s6_5_3_2_example_64_resume_resumes_a_paused_output() {
    let mut h = answered_by(JULIET);
    let id = start(&mut h, JULIET, OUTPUT);
    output_command(&mut h, "xep-0327-063.xml", &id);
    assert!(matches!(
        output_command(&mut h, "xep-0327-064.xml", &id),
        OutputCommand::Resume(_)
    ));
    // An output started paused can be resumed at once, and not paused again first.
    let paused = start(
        &mut h,
        JULIET,
        "<output xmlns='urn:xmpp:rayo:output:1' start-paused='true'>\
         <document url='http://example.com/a.wav'/></output>",
    );
    let out = h.send(spec_for("xep-0327-063.xml", 0, &paused));
    assert_eq!(
        iq_error(&out),
        ("unexpected-request".to_owned(), "wait".to_owned())
    );
    assert!(matches!(
        output_command(&mut h, "xep-0327-064.xml", &paused),
        OutputCommand::Resume(_)
    ));
}

#[test]
fn s6_5_3_3_example_65_speed_up() {
    let mut h = answered_by(JULIET);
    let id = start(&mut h, JULIET, OUTPUT);
    assert!(matches!(
        output_command(&mut h, "xep-0327-065.xml", &id),
        OutputCommand::SpeedUp(_)
    ));
}

#[test]
fn s6_5_3_4_example_66_speed_down() {
    let mut h = answered_by(JULIET);
    let id = start(&mut h, JULIET, OUTPUT);
    assert!(matches!(
        output_command(&mut h, "xep-0327-066.xml", &id),
        OutputCommand::SpeedDown(_)
    ));
}

#[test]
fn s6_5_3_5_example_67_volume_up() {
    let mut h = answered_by(JULIET);
    let id = start(&mut h, JULIET, OUTPUT);
    assert!(matches!(
        output_command(&mut h, "xep-0327-067.xml", &id),
        OutputCommand::VolumeUp(_)
    ));
}

#[test]
fn s6_5_3_6_example_68_volume_down() {
    let mut h = answered_by(JULIET);
    let id = start(&mut h, JULIET, OUTPUT);
    assert!(matches!(
        output_command(&mut h, "xep-0327-068.xml", &id),
        OutputCommand::VolumeDown(_)
    ));
}

#[test]
fn s6_5_3_7_example_69_seek_moves_the_play_marker() {
    let mut h = answered_by(JULIET);
    let id = start(&mut h, JULIET, OUTPUT);
    match output_command(&mut h, "xep-0327-069.xml", &id) {
        OutputCommand::Seek(s) => {
            assert_eq!(s.direction, SeekDirection::Forward);
            assert_eq!(s.amount, std::time::Duration::from_secs(20));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn s6_5_3_example_70_output_completes_with_finish_or_max_time() {
    let mut h = answered_by(JULIET_COURTYARD);
    let id = start(&mut h, JULIET_COURTYARD, OUTPUT);
    let out = h.media(completed_as(&id, "xep-0327-070.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &spec_for("xep-0327-070.xml", 0, &id));
    assert_eq!(h.engine.component_count(), 0);
    let id = start(&mut h, JULIET_COURTYARD, OUTPUT);
    let out = h.media(MediaEvent::Complete {
        component: ComponentId(id.clone()),
        reason: CompleteReason::Output(OutputReason::MaxTime),
        metadata: vec![],
    });
    assert_matches_listing(
        &stanzas(&out)[0],
        &listing_edited(
            "xep-0327-070.xml",
            0,
            &[
                ("eh3u28", &id),
                (
                    "<finish xmlns='urn:xmpp:rayo:output:complete:1'/>",
                    "<max-time xmlns='urn:xmpp:rayo:output:complete:1'/>",
                ),
            ],
        ),
    );
}

// ---- §6.5.4: input ------------------------------------------------------------------------

#[test]
fn s6_5_4_example_71_72_input_completes_with_the_match() {
    let mut h = answered_by(JULIET_COURTYARD);
    let id = start_listing(&mut h, JULIET_COURTYARD, "xep-0327-071.xml");
    let out = h.media(completed_as(&id, "xep-0327-072.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &spec_for("xep-0327-072.xml", 0, &id));
}

#[test]
fn s6_5_4_input_completes_with_noinput_or_nomatch_and_takes_no_output_commands() {
    for (reason, element) in [
        (
            InputReason::NoInput,
            "<noinput xmlns='urn:xmpp:rayo:input:complete:1'/>",
        ),
        (
            InputReason::NoMatch,
            "<nomatch xmlns='urn:xmpp:rayo:input:complete:1'/>",
        ),
    ] {
        let mut h = answered_by(JULIET_COURTYARD);
        let id = start_listing(&mut h, JULIET_COURTYARD, "xep-0327-071.xml");
        // "The input component does not implement any intermediate commands".
        let out = h.set(
            JULIET_COURTYARD,
            &format!("{CALL}/{id}"),
            "p",
            "<pause xmlns='urn:xmpp:rayo:output:1'/>",
        );
        assert_eq!(
            iq_error(&out),
            ("feature-not-implemented".to_owned(), "cancel".to_owned())
        );
        let out = h.media(MediaEvent::Complete {
            component: ComponentId(id.clone()),
            reason: CompleteReason::Input(reason),
            metadata: vec![],
        });
        assert_matches_listing(
            &stanzas(&out)[0],
            &el(&format!(
                "<presence from='{CALL}/{id}' to='{JULIET_COURTYARD}' type='unavailable'>\
                 <complete xmlns='urn:xmpp:rayo:ext:1'>{element}</complete></presence>"
            )),
        );
    }
}

// ---- §6.5.5: prompt -----------------------------------------------------------------------

#[test]
fn s6_5_5_example_73_74_prompt_announces_that_the_input_timers_started() {
    let mut h = answered_by(JULIET_COURTYARD);
    let id = start_listing(&mut h, JULIET_COURTYARD, "xep-0327-073.xml");
    let out = h.media(MediaEvent::InputTimersStarted {
        component: ComponentId(id.clone()),
    });
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &spec_for("xep-0327-074.xml", 0, &id));
    // Once.
    assert!(h
        .media(MediaEvent::InputTimersStarted {
            component: ComponentId(id)
        })
        .is_empty());
}

#[test]
fn s6_5_5_output_commands_after_the_prompts_output_finished_are_unexpected_request() {
    let mut h = answered_by(JULIET);
    let id = start(&mut h, JULIET, PROMPT);
    // While its output plays, the prompt takes the output's commands.
    assert!(matches!(
        output_command(&mut h, "xep-0327-063.xml", &id),
        OutputCommand::Pause(_)
    ));
    assert!(matches!(
        output_command(&mut h, "xep-0327-064.xml", &id),
        OutputCommand::Resume(_)
    ));
    h.media(MediaEvent::InputTimersStarted {
        component: ComponentId(id.clone()),
    });
    // "If output component commands are executed after the output component has ceased
    // executing, a <unexpected-request> error MUST be returned."
    for file in [
        "xep-0327-063.xml",
        "xep-0327-065.xml",
        "xep-0327-067.xml",
        "xep-0327-069.xml",
    ] {
        let request = spec_for(file, 0, &id);
        let payload = request.children().next().cloned().expect("a command");
        let out = h.send(request);
        let st = stanzas(&out);
        assert_eq!(st.len(), 1, "{out:#?}");
        let mut xml = Vec::new();
        payload.write_to(&mut xml).expect("serialises");
        assert_error_matches_listing(
            &st[0],
            &with_echo(
                &spec_for("xep-0327-057.xml", 0, &id),
                &String::from_utf8(xml).expect("utf-8"),
            ),
        );
        assert!(media(&out).is_empty(), "{file}");
    }
    // Its stop still works.
    let out = h.set(JULIET, &format!("{CALL}/{id}"), "s", STOP);
    assert!(is_result(&out));
}

#[test]
fn s6_5_5_prompt_completes_once_with_the_input_reason() {
    // "Events signalling completion of the output components are suppressed": the one
    // complete event of a prompt is its input's.
    let mut h = answered_by(JULIET_COURTYARD);
    let id = start_listing(&mut h, JULIET_COURTYARD, "xep-0327-073.xml");
    h.media(MediaEvent::InputTimersStarted {
        component: ComponentId(id.clone()),
    });
    let out = h.media(completed_as(&id, "xep-0327-072.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &spec_for("xep-0327-072.xml", 0, &id));
    assert_eq!(h.engine.component_count(), 0);
    // Anything more about it is dropped.
    assert!(h
        .media(MediaEvent::Complete {
            component: ComponentId(id.clone()),
            reason: CompleteReason::Output(OutputReason::Finish),
            metadata: vec![],
        })
        .is_empty());
    assert!(h
        .media(MediaEvent::InputTimersStarted {
            component: ComponentId(id)
        })
        .is_empty());
}

// ---- §6.5.6: record -----------------------------------------------------------------------

#[test]
fn s6_5_6_example_75_76_77_record_pauses_and_resumes() {
    let mut h = answered_by(JULIET);
    let id = start_listing(&mut h, JULIET, "xep-0327-075.xml");
    for (file, pause) in [("xep-0327-076.xml", true), ("xep-0327-077.xml", false)] {
        let out = h.send(spec_for(file, 0, &id));
        let st = stanzas(&out);
        assert_eq!(st.len(), 1, "{out:#?}");
        assert_matches_listing(&st[0], &spec_for(file, 1, &id));
        match &media(&out)[..] {
            [MediaAction::Record {
                component,
                command: RecordCommand::Pause(_),
            }] if pause && component.0 == id => {}
            [MediaAction::Record {
                component,
                command: RecordCommand::Resume(_),
            }] if !pause && component.0 == id => {}
            other => panic!("{file}: {other:#?}"),
        }
    }
    // Resuming what records, or pausing twice, is inappropriate now.
    let out = h.send(spec_for("xep-0327-077.xml", 0, &id));
    assert_error_matches_listing(
        &stanzas(&out)[0],
        &with_echo(
            &spec_for("xep-0327-057.xml", 0, &id),
            "<resume xmlns='urn:xmpp:rayo:record:1'/>",
        ),
    );
    h.send(spec_for("xep-0327-076.xml", 0, &id));
    let out = h.send(spec_for("xep-0327-076.xml", 0, &id));
    assert_eq!(
        iq_error(&out),
        ("unexpected-request".to_owned(), "wait".to_owned())
    );
    assert!(media(&out).is_empty());
}

#[test]
fn s6_5_6_example_78_record_completion_carries_the_recording() {
    let mut h = answered_by(JULIET_COURTYARD);
    let id = start_listing(&mut h, JULIET_COURTYARD, "xep-0327-075.xml");
    let out = h.set(JULIET_COURTYARD, &format!("{CALL}/{id}"), "s", STOP);
    assert!(is_result(&out));
    let out = h.media(completed_as(&id, "xep-0327-078.xml", 0));
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_matches_listing(&st[0], &spec_for("xep-0327-078.xml", 0, &id));
    // The record reasons of its own, with their recording.
    for (reason, name) in [
        (RecordReason::MaxDuration, "max-duration"),
        (RecordReason::InitialTimeout, "initial-timeout"),
        (RecordReason::FinalTimeout, "final-timeout"),
    ] {
        let id = start_listing(&mut h, JULIET_COURTYARD, "xep-0327-075.xml");
        let recording = complete_of("xep-0327-078.xml", 0).metadata;
        let out = h.media(MediaEvent::Complete {
            component: ComponentId(id.clone()),
            reason: CompleteReason::Record(reason),
            metadata: recording,
        });
        assert_matches_listing(
            &stanzas(&out)[0],
            &listing_edited(
                "xep-0327-078.xml",
                0,
                &[
                    ("eh3u28", &id),
                    (
                        "<stop xmlns='urn:xmpp:rayo:ext:complete:1'/>",
                        &format!("<{name} xmlns='urn:xmpp:rayo:record:complete:1'/>"),
                    ),
                ],
            ),
        );
    }
}

#[test]
fn s6_5_6_record_in_send_mode_on_a_mixer_is_feature_not_implemented_modify() {
    // "When executing a record against a mixer, send mode is not supported. Recv mode records
    // audio from all mixer participants. Duplex is a clone of recv."
    let mut h = answered_by(JULIET);
    let out = h.set(
        JULIET,
        CALL,
        "j",
        "<join xmlns='urn:xmpp:rayo:1' mixer-name='myMixer'/>",
    );
    assert!(ref_jid(&out).is_some());
    let send = "<record xmlns='urn:xmpp:rayo:record:1' direction='send'/>";
    let out = h.set(JULIET, MIXER, "h7ed2", send);
    let st = stanzas(&out);
    assert_eq!(st.len(), 1, "{out:#?}");
    assert_error_matches_listing(
        &st[0],
        &with_echo(
            &listing_edited(
                "xep-0327-048.xml",
                0,
                &[("9f00061@call.shakespeare.lit", MIXER)],
            ),
            send,
        ),
    );
    assert!(media(&out).is_empty());
    for ok in ["recv", "duplex"] {
        let out = h.set(
            JULIET,
            MIXER,
            ok,
            &format!("<record xmlns='urn:xmpp:rayo:record:1' direction='{ok}'/>"),
        );
        assert!(
            matches!(
                &media(&out)[..],
                [MediaAction::StartComponent {
                    on: Party::Mixer(_),
                    spec: ComponentStart::Record(_),
                    ..
                }]
            ),
            "{ok}: {out:#?}"
        );
    }
    // On a call, send mode records what the caller sends.
    let out = h.set(JULIET, CALL, "c", send);
    assert!(ref_jid(&out).is_some(), "{out:#?}");
}

#[test]
fn s6_5_6_record_ignores_hints_it_does_not_understand() {
    // "The component MUST ignore any hints that it does not understand."
    let mut h = answered_by(JULIET);
    let out = h.set(
        JULIET,
        CALL,
        "h",
        "<record xmlns='urn:xmpp:rayo:record:1'>\
         <hint name='x-unheard-of' value='42'/><hint name='x-neither' value=''/></record>",
    );
    assert!(ref_jid(&out).is_some(), "{out:#?}");
    assert!(matches!(
        &media(&out)[..],
        [MediaAction::StartComponent { spec: ComponentStart::Record(r), .. }] if r.hints.len() == 2
    ));
}

/// A media engine that closes recordings when asked.
struct Recorder;

impl rayo_call::Policy for Recorder {
    fn finalize_recording(
        &mut self,
        component: &ComponentId,
    ) -> Option<rayo_proto::generated::record_complete::Recording> {
        Some(rayo_proto::generated::record_complete::Recording {
            uri: format!("file:///recordings/{}.wav", component.0),
            duration: std::time::Duration::from_millis(3000),
            size: 48_044,
        })
    }
}

#[test]
fn s6_5_6_record_completed_by_a_hangup_still_carries_the_recording() {
    // §6.5.6: "Record component completion provides recording metadata in all cases."
    let routes = vec![rayo_call::Route::new(
        "*",
        vec![jid("juliet@capulet.lit")],
        Box::new(rayo_call::All),
    )];
    let mut h = Harness::with_policy(routes, Recorder);
    h.available(JULIET);
    h.incoming_as("9f00061", true);
    let call = "9f00061@call.shakespeare.lit";
    h.set(JULIET, call, "acc", "<accept xmlns='urn:xmpp:rayo:1'/>");
    h.set(JULIET, call, "ans", "<answer xmlns='urn:xmpp:rayo:1'/>");
    h.set(
        JULIET,
        call,
        "rec",
        "<record xmlns='urn:xmpp:rayo:record:1'/>",
    );
    let out = h.set(JULIET, call, "bye", "<hangup xmlns='urn:xmpp:rayo:1'/>");
    let complete = presences(&out)
        .into_iter()
        .find(|p| p.payloads.iter().any(|e| e.name() == "complete"))
        .expect("the record component completes");
    let stanza = rayo_proto::Stanza::parse(minidom::Element::from(complete)).expect("typed");
    let rayo_proto::Stanza::Presence(p) = stanza else {
        panic!("a presence")
    };
    let rayo_proto::Payload::Event(rayo_proto::Event::Complete(c)) = &p.payloads[0] else {
        panic!("a complete event: {p:?}")
    };
    assert_eq!(c.reason, CompleteReason::Hangup);
    assert!(
        matches!(&c.metadata[..], [rayo_proto::event::CompleteMetadata::Recording(r)] if r.size == 48_044),
        "{c:?}"
    );
}
