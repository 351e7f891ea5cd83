//! `urn:xmpp:rayo:input:complete:1` (`generated::input_complete`): the input component's
//! complete reasons `<match/>` (with its result document), `<noinput/>` and `<nomatch/>`,
//! then as reasons of a `<complete/>` event.

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod common;

use common::*;
use minidom::Element;
use rayo_proto::event::{Complete, CompleteReason, InputReason};
use rayo_proto::generated::input_complete::{Match, Noinput, Nomatch};
use rayo_proto::Event;

const NLSML: &str = r#"
        <result xmlns='http://www.ietf.org/xml/ns/mrcpv2' grammar="session:grammar-0">
          <interpretation confidence="0.45"><input mode="dtmf">1 2 3 4</input></interpretation>
        </result>
      "#;

fn complete(reason: &str) -> String {
    format!("<complete xmlns='urn:xmpp:rayo:ext:1'>{reason}</complete>")
}

#[test]
fn match_parse_default_content_type_and_cdata_body_byte_for_byte() {
    let m: Match = parse(&format!(
        "<match xmlns='urn:xmpp:rayo:input:complete:1'>\n      <![CDATA[{NLSML}]]>\n    </match>"
    ));
    assert_eq!(m.content_type, None);
    assert_eq!(m.content_type(), "application/nlsml+xml");
    assert_eq!(m.body, format!("\n      {NLSML}\n    "));
    let m: Match = parse(
        "<match xmlns='urn:xmpp:rayo:input:complete:1' content-type='text/plain'>1234#</match>",
    );
    assert_eq!((m.content_type(), m.body.as_str()), ("text/plain", "1234#"));
}

#[test]
fn match_serialise() {
    let m = Match {
        content_type: Some("application/x-json".into()),
        body: " {\"digits\": \"<1&2>\"} ".into(),
    };
    assert_serialises(
        m,
        "<match xmlns='urn:xmpp:rayo:input:complete:1' content-type='application/x-json'> \
         {&quot;digits&quot;: &quot;&lt;1&amp;2&gt;&quot;} </match>",
    );
}

#[test]
fn match_mismatch() {
    assert_mismatch::<Match>("<match xmlns='urn:xmpp:rayo:input:1'/>");
    assert_mismatch::<Match>("<nomatch xmlns='urn:xmpp:rayo:input:complete:1'/>");
}

#[test]
fn match_invalid_with_element_content_or_unknown_attribute() {
    invalid::<Match>("<match xmlns='urn:xmpp:rayo:input:complete:1'><result/></match>");
    invalid::<Match>("<match xmlns='urn:xmpp:rayo:input:complete:1' confidence='0.4'>1</match>");
}

#[test]
fn noinput_and_nomatch_parse() {
    let n: Noinput = parse("<noinput xmlns='urn:xmpp:rayo:input:complete:1'/>");
    assert_eq!(n, Noinput);
    let n: Nomatch = parse("<nomatch xmlns='urn:xmpp:rayo:input:complete:1'> </nomatch>");
    assert_eq!(n, Nomatch);
}

#[test]
fn noinput_and_nomatch_serialise() {
    assert_serialises(Noinput, "<noinput xmlns='urn:xmpp:rayo:input:complete:1'/>");
    assert_serialises(Nomatch, "<nomatch xmlns='urn:xmpp:rayo:input:complete:1'/>");
}

#[test]
fn noinput_and_nomatch_mismatch() {
    assert_mismatch::<Noinput>("<nomatch xmlns='urn:xmpp:rayo:input:complete:1'/>");
    assert_mismatch::<Nomatch>("<noinput xmlns='urn:xmpp:rayo:input:complete:1'/>");
    assert_mismatch::<Nomatch>("<nomatch xmlns='urn:xmpp:rayo:input:1'/>");
}

#[test]
fn noinput_and_nomatch_invalid_with_content_or_attribute() {
    invalid::<Noinput>("<noinput xmlns='urn:xmpp:rayo:input:complete:1' after='5000'/>");
    invalid::<Nomatch>("<nomatch xmlns='urn:xmpp:rayo:input:complete:1'>1234</nomatch>");
}

// ---- Through the hand-written layer ----

#[test]
fn input_reasons_of_a_complete_event() {
    let with_match = format!(
        "<match xmlns='urn:xmpp:rayo:input:complete:1' content-type='application/nlsml+xml'><![CDATA[{NLSML}]]></match>"
    );
    let matched = InputReason::Match(Match {
        content_type: Some("application/nlsml+xml".into()),
        body: NLSML.into(),
    });
    for (xml, reason) in [
        (with_match.as_str(), matched),
        (
            "<noinput xmlns='urn:xmpp:rayo:input:complete:1'/>",
            InputReason::NoInput,
        ),
        (
            "<nomatch xmlns='urn:xmpp:rayo:input:complete:1'/>",
            InputReason::NoMatch,
        ),
    ] {
        let ev = event(&complete(xml));
        let expected = Event::Complete(Complete {
            reason: CompleteReason::Input(reason),
            metadata: vec![],
        });
        assert_eq!(ev, expected);
        // Read back through bytes: the CDATA comes back as escaped text, same value.
        let mut bytes = Vec::new();
        Element::from(ev.clone())
            .write_to(&mut bytes)
            .expect("serialises");
        let again: Element = std::str::from_utf8(&bytes)
            .expect("utf-8")
            .parse()
            .expect("xml");
        assert_eq!(Event::parse(again).ok(), Some(ev));
    }
}

#[test]
fn malformed_or_unknown_input_reasons_are_bad_request() {
    for xml in [
        "<match xmlns='urn:xmpp:rayo:input:complete:1'><result/></match>",
        "<noinput xmlns='urn:xmpp:rayo:input:complete:1'>x</noinput>",
        "<timeout xmlns='urn:xmpp:rayo:input:complete:1'/>",
    ] {
        assert_eq!(event_refusal(&complete(xml)), BAD_REQUEST, "{xml}");
    }
}
