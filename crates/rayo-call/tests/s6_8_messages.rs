//! XEP-0327 §6.8.1: call-bound messages. A `normal` message to a call goes to the remote
//! party; any other type is `feature-not-implemented` (modify); one that cannot be
//! translated is the same with `cancel`. Messages of the remote party reach the DCP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use rayo_call::{CallId, Input, Output, SignalAction, SignalEvent};
use rayo_proto::generated::rayo::EndReason;
use xmpp_parsers::message::Message;

const CALL: &str = "9f00061@call.shakespeare.lit";
const LINE: &str = "Art thou not Romeo, and a Montague?";

fn id() -> CallId {
    CallId("9f00061".into())
}

/// A message `from` → `to` with id `m1`; `type_` and `body` as given (`None`: absent).
fn message(
    h: &mut Harness,
    from: &str,
    to: &str,
    type_: Option<&str>,
    body: Option<&str>,
) -> Vec<Output> {
    let t = type_.map(|t| format!(" type='{t}'")).unwrap_or_default();
    let b = body
        .map(|b| format!("<body>{b}</body>"))
        .unwrap_or_default();
    let e = el(&format!(
        "<message xmlns='jabber:client' from='{from}' to='{to}' id='m1'{t}>{b}</message>"
    ));
    h.input(Input::Message(Message::try_from(e).expect("a message")))
}

/// The message error the call answers `from` with.
fn message_error(from: &str, to: &str, type_: &str, condition: &str) -> minidom::Element {
    el(&format!(
        "<message xmlns='jabber:client' from='{from}' to='{to}' id='m1' type='error'>\
           <error type='{type_}'>\
             <{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
           </error>\
         </message>"
    ))
}

fn only_stanza(out: &[Output]) -> minidom::Element {
    assert!(
        signals(out).is_empty(),
        "nothing reaches the remote party: {out:#?}"
    );
    let st = stanzas(out);
    assert_eq!(st.len(), 1, "{out:#?}");
    st[0].clone()
}

#[test]
fn s6_8_1_example_90_normal_message_is_forwarded_to_the_remote_party() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = h.send_listing("xep-0327-090.xml", 0);
    assert_eq!(
        out,
        vec![Output::Signal(SignalAction::SendMessage {
            call: id(),
            body: LINE.into(),
        })]
    );
}

#[test]
fn s6_8_1_message_without_a_type_is_normal_and_forwarded() {
    let mut h = Harness::new();
    h.dial_as("9f00061");
    let out = message(&mut h, JULIET, CALL, None, Some(LINE));
    assert_eq!(
        out,
        vec![Output::Signal(SignalAction::SendMessage {
            call: id(),
            body: LINE.into(),
        })]
    );
}

#[test]
fn s6_8_1_message_types_other_than_normal_are_feature_not_implemented_modify() {
    for type_ in ["chat", "groupchat", "headline"] {
        let mut h = Harness::new();
        h.answered_call("9f00061");
        let out = message(&mut h, JULIET, CALL, Some(type_), Some(LINE));
        assert_matches_listing(
            &only_stanza(&out),
            &message_error(CALL, JULIET, "modify", "feature-not-implemented"),
        );
    }
}

#[test]
fn s6_8_1_message_types_other_than_normal_are_feature_not_implemented_from_anyone() {
    // The MUST holds for any message of another type directed to the call's JID.
    let mut h = Harness::new();
    h.available(ROMEO);
    h.answered_call("9f00061");
    let out = message(&mut h, ROMEO, CALL, Some("chat"), Some(LINE));
    assert_matches_listing(
        &only_stanza(&out),
        &message_error(CALL, ROMEO, "modify", "feature-not-implemented"),
    );
}

#[test]
fn s6_8_1_untranslatable_message_is_feature_not_implemented_cancel() {
    for body in [None, Some("")] {
        let mut h = Harness::new();
        h.answered_call("9f00061");
        let out = message(&mut h, JULIET, CALL, Some("normal"), body);
        assert_matches_listing(
            &only_stanza(&out),
            &message_error(CALL, JULIET, "cancel", "feature-not-implemented"),
        );
    }
}

#[test]
fn s6_8_1_message_of_the_remote_party_reaches_the_dcp() {
    let mut h = Harness::new();
    h.available(ROMEO);
    h.answered_call("9f00061");
    let out = h.signal("9f00061", SignalEvent::Message { body: LINE.into() });
    let expected = el(&format!(
        "<message xmlns='jabber:client' from='{CALL}' to='{JULIET}' type='normal'>\
           <body>{LINE}</body></message>"
    ));
    assert_matches_listing(&only_stanza(&out), &expected);
}

#[test]
fn s6_8_1_message_from_a_client_that_does_not_control_the_call_is_conflict() {
    let mut h = Harness::new();
    h.available(ROMEO);
    h.answered_call("9f00061");
    let out = message(&mut h, ROMEO, CALL, Some("normal"), Some(LINE));
    assert_matches_listing(
        &only_stanza(&out),
        &message_error(CALL, ROMEO, "cancel", "conflict"),
    );
}

#[test]
fn s6_8_1_message_to_an_ended_or_unknown_call_is_item_not_found() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    h.signal(
        "9f00061",
        SignalEvent::Ended {
            reason: EndReason::Hungup {
                platform_code: None,
            },
            headers: vec![],
        },
    );
    for to in [CALL, "nosuchcall@call.shakespeare.lit"] {
        let out = message(&mut h, JULIET, to, Some("normal"), Some(LINE));
        assert_matches_listing(
            &only_stanza(&out),
            &message_error(to, JULIET, "cancel", "item-not-found"),
        );
    }
}

#[test]
fn s6_8_1_error_messages_to_a_call_are_not_answered() {
    let mut h = Harness::new();
    h.answered_call("9f00061");
    let out = message(&mut h, JULIET, CALL, Some("error"), Some(LINE));
    assert!(out.is_empty(), "{out:#?}");
}
