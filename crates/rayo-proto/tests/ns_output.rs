//! `urn:xmpp:rayo:output:1` (`generated::output`): `<output/>` and its `<document/>`, the
//! output component's commands, then through `Command` with the rules of §7.19.3 (documents,
//! url xor content-type and body, seek amount, repeat-times).

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod common;

use std::time::Duration;

use common::*;
use rayo_proto::address::EntityKind;
use rayo_proto::command::{CallCommand, ComponentCommand, ComponentStart, OutputCommand};
use rayo_proto::generated::output::*;
use rayo_proto::Command;

const SSML: &str = "
        <speak version=\"1.0\" xml:lang=\"en-US\">
          <s>You have 4 new messages &amp; more.</s>
        </speak>
      ";

#[test]
fn output_parse_defaults_through_accessors() {
    let o: Output = parse(
        "<output xmlns='urn:xmpp:rayo:output:1' max-time='-1'><document url='http://x/a.wav'/></output>",
    );
    assert_eq!(o.repeat_times(), 1);
    assert_eq!(o.start_offset(), Duration::ZERO);
    assert_eq!(o.repeat_interval(), Duration::ZERO);
    assert!(!o.start_paused());
    assert_eq!((o.max_time, o.renderer, o.voice), (None, None, None));
    assert_eq!(o.documents[0].url.as_deref(), Some("http://x/a.wav"));
    assert_eq!(
        (
            o.documents[0].content_type.as_deref(),
            o.documents[0].body.as_str()
        ),
        (None, "")
    );
}

#[test]
fn output_parse_every_attribute() {
    let o: Output = parse(
        "<output xmlns='urn:xmpp:rayo:output:1' start-offset='2000' start-paused='true'
                 repeat-interval='500' repeat-times='4' max-time='30000' renderer='swift' voice='allison'/>",
    );
    assert_eq!(
        (o.start_offset(), o.repeat_interval()),
        (Duration::from_secs(2), Duration::from_millis(500))
    );
    assert_eq!((o.start_paused(), o.repeat_times()), (true, 4));
    assert_eq!(o.max_time, Some(Duration::from_secs(30)));
    assert_eq!(
        (o.renderer.as_deref(), o.voice.as_deref()),
        (Some("swift"), Some("allison"))
    );
}

#[test]
fn document_parse_keeps_cdata_body_byte_for_byte() {
    let xml = format!(
        "<output xmlns='urn:xmpp:rayo:output:1'>
           <document content-type='application/ssml+xml'>
      <![CDATA[{SSML}]]>
    </document>
         </output>"
    );
    let o: Output = parse(&xml);
    let d = &o.documents[0];
    assert_eq!(d.content_type.as_deref(), Some("application/ssml+xml"));
    assert_eq!(d.body, format!("\n      {SSML}\n    "));
    let d: Document = parse("<document xmlns='urn:xmpp:rayo:output:1' content-type='text/plain'>a &lt; b<![CDATA[ & c ]]> </document>");
    assert_eq!(d.body, "a < b & c  ");
}

#[test]
fn output_serialise() {
    let o = Output {
        repeat_times: Some(2),
        max_time: Some(Duration::from_millis(1500)),
        start_paused: Some(false),
        documents: vec![Document {
            content_type: Some("text/plain".into()),
            body: "  Thanks for calling <&> ".into(),
            ..Document::default()
        }],
        ..Output::default()
    };
    assert_serialises(
        o,
        "<output xmlns='urn:xmpp:rayo:output:1' start-paused='false' repeat-times='2' max-time='1500'>\
         <document content-type='text/plain'>  Thanks for calling &lt;&amp;&gt; </document></output>",
    );
}

/// BUG (codegen): a `<document/>` with an empty body serialises with an empty text node
/// (`<document url='…'></document>`), so the element differs from the one it was read from.
/// The same holds for `input::Grammar`, `input_complete::Match` and `ext_complete::Error`.
#[test]
fn document_serialise_url_only_without_text_node() {
    let d = Document {
        url: Some("http://x/a.wav".into()),
        ..Document::default()
    };
    assert_serialises(
        d,
        "<document xmlns='urn:xmpp:rayo:output:1' url='http://x/a.wav'/>",
    );
}

#[test]
fn output_and_document_mismatch() {
    assert_mismatch::<Output>("<output xmlns='urn:xmpp:rayo:input:1'/>");
    assert_mismatch::<Document>("<grammar xmlns='urn:xmpp:rayo:output:1' url='x'/>");
    assert_mismatch::<Document>("<document xmlns='urn:xmpp:rayo:input:1' url='x'/>");
}

#[test]
fn output_invalid_attribute_values_and_children() {
    invalid::<Output>("<output xmlns='urn:xmpp:rayo:output:1' repeat-times='foo'/>");
    invalid::<Output>("<output xmlns='urn:xmpp:rayo:output:1' repeat-times='-1'/>");
    invalid::<Output>("<output xmlns='urn:xmpp:rayo:output:1' start-offset='-1'/>");
    invalid::<Output>("<output xmlns='urn:xmpp:rayo:output:1' max-time='-2'/>");
    invalid::<Output>("<output xmlns='urn:xmpp:rayo:output:1' start-paused='yes'/>");
    invalid::<Output>("<output xmlns='urn:xmpp:rayo:output:1' loop='true'/>");
    invalid::<Output>("<output xmlns='urn:xmpp:rayo:output:1'>Hello</output>");
    invalid::<Output>("<output xmlns='urn:xmpp:rayo:output:1'><grammar url='x'/></output>");
}

#[test]
fn document_invalid_attribute_or_child() {
    invalid::<Document>("<document xmlns='urn:xmpp:rayo:output:1' href='x'/>");
    invalid::<Document>("<document xmlns='urn:xmpp:rayo:output:1' content-type='application/ssml+xml'><speak/></document>");
}

/// The empty component commands.
macro_rules! empty_command {
    ($($m:ident: $t:ident = $name:literal, $variant:ident, mismatch $other:literal;)*) => {$(
        mod $m {
            use super::*;
            const XML: &str = concat!("<", $name, " xmlns='urn:xmpp:rayo:output:1'/>");
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
                invalid::<$t>(concat!("<", $name, " xmlns='urn:xmpp:rayo:output:1' by='2'/>"));
                invalid::<$t>(concat!("<", $name, " xmlns='urn:xmpp:rayo:output:1'>2</", $name, ">"));
            }
            #[test]
            fn is_a_component_command_only() {
                let c = command(EntityKind::Component, XML);
                assert_eq!(c, Command::Component(ComponentCommand::Output(OutputCommand::$variant($t))));
                assert_eq!(refusal(EntityKind::Call, XML), FEATURE_NOT_IMPLEMENTED);
                assert_eq!(refusal(EntityKind::Mixer, XML), FEATURE_NOT_IMPLEMENTED);
            }
        }
    )*};
}

empty_command! {
    pause: Pause = "pause", Pause, mismatch "<pause xmlns='urn:xmpp:rayo:record:1'/>";
    resume: Resume = "resume", Resume, mismatch "<resume xmlns='urn:xmpp:rayo:record:1'/>";
    speed_up: SpeedUp = "speed-up", SpeedUp, mismatch "<speed-down xmlns='urn:xmpp:rayo:output:1'/>";
    speed_down: SpeedDown = "speed-down", SpeedDown, mismatch "<speed-up xmlns='urn:xmpp:rayo:output:1'/>";
    volume_up: VolumeUp = "volume-up", VolumeUp, mismatch "<volume-down xmlns='urn:xmpp:rayo:output:1'/>";
    volume_down: VolumeDown = "volume-down", VolumeDown, mismatch "<volume-up xmlns='urn:xmpp:rayo:output:1'/>";
}

#[test]
fn seek_parse_serialise() {
    let s: Seek =
        parse("<seek xmlns='urn:xmpp:rayo:output:1' direction='forward' amount='20000'/>");
    assert_eq!(
        (s.direction, s.amount),
        (SeekDirection::Forward, Duration::from_secs(20))
    );
    let back = Seek {
        direction: SeekDirection::Back,
        amount: Duration::from_millis(250),
    };
    assert_serialises(
        back,
        "<seek xmlns='urn:xmpp:rayo:output:1' direction='back' amount='250'/>",
    );
}

#[test]
fn seek_mismatch_and_invalid() {
    assert_mismatch::<Seek>("<seek xmlns='urn:xmpp:rayo:record:1' direction='back' amount='1'/>");
    invalid::<Seek>("<seek xmlns='urn:xmpp:rayo:output:1' direction='backward' amount='1'/>");
    invalid::<Seek>("<seek xmlns='urn:xmpp:rayo:output:1' direction='back'/>");
    invalid::<Seek>("<seek xmlns='urn:xmpp:rayo:output:1' amount='1'/>");
    invalid::<Seek>("<seek xmlns='urn:xmpp:rayo:output:1' direction='back' amount='-20'/>");
    invalid::<Seek>("<seek xmlns='urn:xmpp:rayo:output:1' direction='back' amount='1.5'/>");
}

/// BUG (codegen, minor): XSD collapses white space in `xs:token` enumerations,
/// `xs:boolean` and integers, so the values below are valid against rayo-output.xsd (the
/// strict validator of tests/xsd accepts them), and `crate::codec::Millis` does trim
/// (`amount=' 5 '` is read); the generated enums, `bool` and `u64` do not.
#[test]
fn whitespace_around_typed_attribute_values_is_collapsed_as_in_xsd() {
    let s: Seek = parse("<seek xmlns='urn:xmpp:rayo:output:1' direction='back' amount=' 5 '/>");
    assert_eq!(s.amount, Duration::from_millis(5));
    let refused: Vec<_> = [
        "<seek xmlns='urn:xmpp:rayo:output:1' direction=' back ' amount='5'/>",
        "<output xmlns='urn:xmpp:rayo:output:1' repeat-times=' 2 '/>",
        "<output xmlns='urn:xmpp:rayo:output:1' start-paused=' true '/>",
    ]
    .into_iter()
    .filter(|xml| Seek::try_from(elem(xml)).is_err() && Output::try_from(elem(xml)).is_err())
    .collect();
    assert!(
        refused.is_empty(),
        "schema-valid, yet refused: {refused:#?}"
    );
}

// ---- Through the hand-written layer ----

#[test]
fn output_starts_on_calls_and_mixers_only() {
    let xml = "<output xmlns='urn:xmpp:rayo:output:1'><document url='http://x/a.wav'/></output>";
    assert!(matches!(
        command(EntityKind::Call, xml),
        Command::Call(CallCommand::Start(ComponentStart::Output(_)))
    ));
    command(EntityKind::Mixer, xml);
    assert_eq!(refusal(EntityKind::Component, xml), FEATURE_NOT_IMPLEMENTED);
    assert_eq!(refusal(EntityKind::Service, xml), FEATURE_NOT_IMPLEMENTED);
    assert_eq!(
        refusal(EntityKind::Call, "<play xmlns='urn:xmpp:rayo:output:1'/>"),
        FEATURE_NOT_IMPLEMENTED
    );
}

#[test]
fn seek_amount_must_be_positive() {
    let seek = |a: &str| {
        format!("<seek xmlns='urn:xmpp:rayo:output:1' direction='forward' amount='{a}'/>")
    };
    command(EntityKind::Component, &seek("1"));
    assert_eq!(refusal(EntityKind::Component, &seek("0")), BAD_REQUEST);
    assert_eq!(refusal(EntityKind::Component, &seek("-20")), BAD_REQUEST);
    assert_eq!(refusal(EntityKind::Component, &seek("x")), BAD_REQUEST);
}

#[test]
fn repeat_times_must_be_a_non_negative_integer() {
    let out = |r: &str| {
        format!("<output xmlns='urn:xmpp:rayo:output:1' repeat-times='{r}'><document url='http://x'/></output>")
    };
    command(EntityKind::Call, &out("0"));
    command(EntityKind::Call, &out("4"));
    assert_eq!(refusal(EntityKind::Call, &out("-1")), BAD_REQUEST);
    assert_eq!(refusal(EntityKind::Call, &out("foo")), BAD_REQUEST);
}

#[test]
fn document_needs_url_xor_content_type_and_body() {
    let out = |doc: &str| format!("<output xmlns='urn:xmpp:rayo:output:1'>{doc}</output>");
    command(EntityKind::Call, &out("<document url='http://x/a.wav'/>"));
    command(
        EntityKind::Call,
        &out("<document content-type='text/plain'> Hi </document>"),
    );
    for bad in [
        "",
        "<document/>",
        "<document url='http://x' content-type='text/plain'/>",
        "<document url='http://x'>Hi</document>",
        "<document content-type='text/plain'/>",
        "<document content-type='text/plain'> \n </document>",
        "<document>Hi</document>",
        "<document url='no-scheme'/>",
        "<document url='http://x/a.wav'/><document content-type='text/plain'/>",
    ] {
        assert_eq!(refusal(EntityKind::Call, &out(bad)), BAD_REQUEST, "{bad}");
    }
}
