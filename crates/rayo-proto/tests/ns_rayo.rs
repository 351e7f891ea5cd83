//! `urn:xmpp:rayo:1` (`generated::rayo`): parse, serialise, mismatch and invalid tests for
//! every element type, then the core commands and events through `Command` and `Event`.

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod common;

use common::*;
use rayo_proto::address::EntityKind;
use rayo_proto::command::{CallCommand, MixerCommand, ServiceCommand};
use rayo_proto::generated::rayo::*;
use rayo_proto::{Command, Event};

fn header(name: &str, value: &str) -> Header {
    Header {
        name: name.into(),
        value: value.into(),
    }
}

#[test]
fn offer_parse_keeps_repeated_headers_in_order() {
    let offer: Offer = parse(
        "<offer xmlns='urn:xmpp:rayo:1' to='tel:+18003211212' from='tel:+13058881212'>
           <header name='x-skill' value='agent'/>
           <header name='x-customer-id' value='8877'/>
           <header name='x-skill' value='sales'/>
         </offer>",
    );
    assert_eq!(offer.to, "tel:+18003211212");
    assert_eq!(offer.from.as_deref(), Some("tel:+13058881212"));
    let expected = [
        ("x-skill", "agent"),
        ("x-customer-id", "8877"),
        ("x-skill", "sales"),
    ];
    assert_eq!(offer.headers, expected.map(|(n, v)| header(n, v)));
    let bare: Offer = parse("<offer xmlns='urn:xmpp:rayo:1' to='sip:a@b'/>");
    assert_eq!((bare.from, bare.headers.len()), (None, 0));
}

#[test]
fn offer_serialise() {
    let offer = Offer {
        to: "tel:+1 & <2>".into(),
        from: None,
        headers: vec![header("x-a", "\"quoted\" 'é'")],
    };
    assert_serialises(
        offer,
        "<offer xmlns='urn:xmpp:rayo:1' to='tel:+1 &amp; &lt;2&gt;'>\
         <header name='x-a' value='&quot;quoted&quot; &apos;é&apos;'/></offer>",
    );
}

#[test]
fn offer_mismatch_in_another_namespace() {
    assert_mismatch::<Offer>("<offer xmlns='urn:xmpp:rayo:ext:1' to='tel:1'/>");
    assert_mismatch::<Offer>("<dial xmlns='urn:xmpp:rayo:1' to='tel:1'/>");
}

#[test]
fn offer_invalid_without_to_or_with_unknown_child() {
    invalid::<Offer>("<offer xmlns='urn:xmpp:rayo:1' from='tel:1'/>");
    invalid::<Offer>("<offer xmlns='urn:xmpp:rayo:1' to='tel:1'><ringing/></offer>");
    invalid::<Offer>("<offer xmlns='urn:xmpp:rayo:1' to='tel:1' priority='1'/>");
}

#[test]
fn header_parse_serialise_mismatch_invalid() {
    let h: Header = parse("<header xmlns='urn:xmpp:rayo:1' name='Via' value=' SIP/2.0 '/>");
    assert_eq!(h, header("Via", " SIP/2.0 "));
    assert_serialises(
        h,
        "<header xmlns='urn:xmpp:rayo:1' name='Via' value=' SIP/2.0 '/>",
    );
    assert_mismatch::<Header>("<hint xmlns='urn:xmpp:rayo:record:1' name='a' value='b'/>");
    invalid::<Header>("<header xmlns='urn:xmpp:rayo:1' name='Via'/>");
    invalid::<Header>("<header xmlns='urn:xmpp:rayo:1' name='a' value='b' type='x'/>");
}

/// The five elements whose only content is headers.
macro_rules! headers_only {
    ($($m:ident: $t:ident = $name:literal, mismatch $other:literal;)*) => {$(
        mod $m {
            use super::*;
            #[test]
            fn parse() {
                let x: $t = common::parse(concat!(
                    "<", $name, " xmlns='urn:xmpp:rayo:1'><header name='a' value='1'/></", $name, ">"
                ));
                assert_eq!(x.headers, vec![header("a", "1")]);
                let empty: $t = common::parse(concat!("<", $name, " xmlns='urn:xmpp:rayo:1'/>"));
                assert!(empty.headers.is_empty());
            }
            #[test]
            fn serialise() {
                assert_serialises($t::default(), concat!("<", $name, " xmlns='urn:xmpp:rayo:1'/>"));
            }
            #[test]
            fn mismatch() {
                assert_mismatch::<$t>($other);
            }
            #[test]
            fn invalid_unknown_attribute_or_child() {
                invalid::<$t>(concat!("<", $name, " xmlns='urn:xmpp:rayo:1' to='x'/>"));
                invalid::<$t>(concat!("<", $name, " xmlns='urn:xmpp:rayo:1'><busy/></", $name, ">"));
            }
        }
    )*};
}

headers_only! {
    ringing: Ringing = "ringing", mismatch "<answered xmlns='urn:xmpp:rayo:1'/>";
    answered: Answered = "answered", mismatch "<ringing xmlns='urn:xmpp:rayo:1'/>";
    accept: Accept = "accept", mismatch "<answer xmlns='urn:xmpp:rayo:1'/>";
    answer: Answer = "answer", mismatch "<accept xmlns='urn:xmpp:rayo:1'/>";
    hangup: Hangup = "hangup", mismatch "<hangup xmlns='urn:xmpp:rayo:ext:complete:1'/>";
}

#[test]
fn end_parse_every_reason_with_platform_code() {
    let reasons = [
        "hungup",
        "hangup-command",
        "timeout",
        "busy",
        "rejected",
        "error",
        "hangup",
    ];
    for name in reasons {
        let end: End = parse(&format!(
            "<end xmlns='urn:xmpp:rayo:1'><{name} platform-code='486'/><header name='a' value='b'/></end>"
        ));
        let code = match &end.reason {
            EndReason::Hungup { platform_code } if name == "hungup" => platform_code,
            EndReason::HangupCommand { platform_code } if name == "hangup-command" => platform_code,
            EndReason::Timeout { platform_code } if name == "timeout" => platform_code,
            EndReason::Busy { platform_code } if name == "busy" => platform_code,
            EndReason::Rejected { platform_code } if name == "rejected" => platform_code,
            EndReason::Error { platform_code } if name == "error" => platform_code,
            EndReason::Hangup { platform_code } if name == "hangup" => platform_code,
            other => panic!("<{name}/> read as {other:?}"),
        };
        assert_eq!(code.as_deref(), Some("486"));
        assert_eq!(end.headers, vec![header("a", "b")]);
    }
}

#[test]
fn end_serialise() {
    let end = End {
        reason: EndReason::Hungup {
            platform_code: None,
        },
        headers: vec![header("x", "y")],
    };
    assert_serialises(
        end,
        "<end xmlns='urn:xmpp:rayo:1'><hungup/><header name='x' value='y'/></end>",
    );
    let reason = EndReason::Busy {
        platform_code: Some("17".into()),
    };
    assert_serialises(reason, "<busy xmlns='urn:xmpp:rayo:1' platform-code='17'/>");
}

#[test]
fn end_and_end_reason_mismatch() {
    assert_mismatch::<End>("<end xmlns='urn:xmpp:rayo:ext:1'><hungup/></end>");
    assert_mismatch::<EndReason>("<decline xmlns='urn:xmpp:rayo:1'/>");
    assert_mismatch::<EndReason>("<hangup xmlns='urn:xmpp:rayo:ext:complete:1'/>");
}

#[test]
fn end_invalid_without_reason_with_two_or_with_content_in_reason() {
    invalid::<End>("<end xmlns='urn:xmpp:rayo:1'/>");
    invalid::<End>("<end xmlns='urn:xmpp:rayo:1'><hungup/><busy/></end>");
    invalid::<End>(
        "<end xmlns='urn:xmpp:rayo:1'><hungup><header name='a' value='b'/></hungup></end>",
    );
    invalid::<EndReason>("<timeout xmlns='urn:xmpp:rayo:1' code='1'/>");
}

#[test]
fn redirect_parse_serialise_mismatch_invalid() {
    let r: Redirect = parse("<redirect xmlns='urn:xmpp:rayo:1' to='tel:+14152226789'/>");
    assert_eq!((r.to.as_str(), r.headers.len()), ("tel:+14152226789", 0));
    assert_serialises(
        r,
        "<redirect xmlns='urn:xmpp:rayo:1' to='tel:+14152226789'/>",
    );
    assert_mismatch::<Redirect>("<redirect xmlns='urn:xmpp:rayo:output:1' to='tel:1'/>");
    invalid::<Redirect>("<redirect xmlns='urn:xmpp:rayo:1'/>");
}

#[test]
fn reject_parse_reason_and_headers_or_no_reason() {
    let r: Reject = parse(
        "<reject xmlns='urn:xmpp:rayo:1'><decline/><header name='x-reason' value='busy'/></reject>",
    );
    assert_eq!(r.reason, Some(RejectReason::Decline));
    assert_eq!(r.headers, vec![header("x-reason", "busy")]);
    // The schema accepts no reason (ERRATA R8, example 82); the rules refuse it, below.
    let r: Reject = parse("<reject xmlns='urn:xmpp:rayo:1'/>");
    assert_eq!(r.reason, None);
    assert_eq!(
        parse::<RejectReason>("<busy xmlns='urn:xmpp:rayo:1'/>"),
        RejectReason::Busy
    );
}

#[test]
fn reject_serialise() {
    let r = Reject {
        reason: Some(RejectReason::Error),
        headers: vec![],
    };
    assert_serialises(r, "<reject xmlns='urn:xmpp:rayo:1'><error/></reject>");
    assert_serialises(RejectReason::Decline, "<decline xmlns='urn:xmpp:rayo:1'/>");
}

#[test]
fn reject_and_reject_reason_mismatch() {
    assert_mismatch::<Reject>("<redirect xmlns='urn:xmpp:rayo:1' to='tel:1'/>");
    assert_mismatch::<RejectReason>("<hungup xmlns='urn:xmpp:rayo:1'/>");
}

#[test]
fn reject_invalid_two_reasons_text_or_attribute_on_reason() {
    invalid::<Reject>("<reject xmlns='urn:xmpp:rayo:1'><busy/><decline/></reject>");
    invalid::<Reject>("<reject xmlns='urn:xmpp:rayo:1'>no thanks<busy/></reject>");
    invalid::<RejectReason>("<busy xmlns='urn:xmpp:rayo:1' platform-code='486'/>");
}

#[test]
fn dial_parse_defaults_and_nested_join() {
    let d: Dial = parse(
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+13055195825' from='tel:+14152226789'>
           <header name='x-skill' value='agent'/>
           <join call-uri='xmpp:e8u398d902i90@call.shakespeare.lit'/>
         </dial>",
    );
    assert_eq!(
        (d.to.as_str(), d.from.as_deref()),
        ("tel:+13055195825", Some("tel:+14152226789"))
    );
    assert_eq!((d.uri, d.timeout), (None, None));
    assert_eq!(
        d.joins[0].call_uri.as_deref(),
        Some("xmpp:e8u398d902i90@call.shakespeare.lit")
    );
    assert_eq!(d.joins[0].direction(), JoinDirection::Duplex);
    let d: Dial = parse("<dial xmlns='urn:xmpp:rayo:1' to='tel:1' timeout='-1'/>");
    assert_eq!(d.timeout, None);
    let d: Dial = parse("<dial xmlns='urn:xmpp:rayo:1' to='tel:1' timeout='30000'/>");
    assert_eq!(d.timeout, Some(std::time::Duration::from_secs(30)));
}

#[test]
fn dial_serialise_skips_disabled_timeout() {
    let d = Dial {
        to: "tel:1".into(),
        uri: Some("xmpp:abc@call.example".into()),
        timeout: Some(std::time::Duration::from_millis(1500)),
        joins: vec![Join {
            mixer_name: Some("conf".into()),
            media: Some(JoinMedia::Direct),
            ..Join::default()
        }],
        ..Dial::default()
    };
    assert_serialises(
        d.clone(),
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:1' uri='xmpp:abc@call.example' timeout='1500'>\
         <join mixer-name='conf' media='direct'/></dial>",
    );
    let d = Dial {
        timeout: None,
        joins: vec![],
        ..d
    };
    assert_serialises(
        d,
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:1' uri='xmpp:abc@call.example'/>",
    );
}

#[test]
fn dial_mismatch() {
    assert_mismatch::<Dial>("<dial xmlns='urn:xmpp:rayo:output:1' to='tel:1'/>");
}

#[test]
fn dial_invalid_timeout_missing_to_or_foreign_child() {
    invalid::<Dial>("<dial xmlns='urn:xmpp:rayo:1' to='tel:1' timeout='-2'/>");
    invalid::<Dial>("<dial xmlns='urn:xmpp:rayo:1' to='tel:1' timeout='5s'/>");
    invalid::<Dial>("<dial xmlns='urn:xmpp:rayo:1'/>");
    invalid::<Dial>("<dial xmlns='urn:xmpp:rayo:1' to='tel:1'><x xmlns='urn:example'/></dial>");
}

#[test]
fn join_parse_defaults_through_accessors() {
    let j: Join = parse("<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.x'/>");
    assert_eq!((j.direction, j.media), (None, None));
    assert_eq!(
        (j.direction(), j.media()),
        (JoinDirection::Duplex, JoinMedia::Bridge)
    );
    let j: Join =
        parse("<join xmlns='urn:xmpp:rayo:1' mixer-name='m' direction='recv' media='direct'/>");
    assert_eq!(
        (j.direction(), j.media()),
        (JoinDirection::Recv, JoinMedia::Direct)
    );
    assert_eq!(j.mixer_name.as_deref(), Some("m"));
}

#[test]
fn join_serialise() {
    let j = Join {
        call_uri: Some("xmpp:b@call.x".into()),
        direction: Some(JoinDirection::Send),
        ..Join::default()
    };
    assert_serialises(
        j,
        "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.x' direction='send'/>",
    );
}

#[test]
fn join_mismatch_and_invalid_enumerations() {
    assert_mismatch::<Join>("<joined xmlns='urn:xmpp:rayo:1' mixer-name='m'/>");
    invalid::<Join>("<join xmlns='urn:xmpp:rayo:1' mixer-name='m' direction='sideways'/>");
    invalid::<Join>("<join xmlns='urn:xmpp:rayo:1' mixer-name='m' media='Bridge'/>");
}

/// `<unjoin/>`, `<joined/>` and `<unjoined/>`: a party, both attributes optional.
macro_rules! party {
    ($($m:ident: $t:ident = $name:literal, mismatch $other:literal;)*) => {$(
        mod $m {
            use super::*;
            #[test]
            fn parse() {
                let x: $t = common::parse(concat!("<", $name, " xmlns='urn:xmpp:rayo:1' mixer-name='conf'/>"));
                assert_eq!((x.call_uri, x.mixer_name.as_deref()), (None, Some("conf")));
            }
            #[test]
            fn serialise() {
                let x = $t { call_uri: Some("xmpp:b@call.x".into()), mixer_name: None };
                assert_serialises(x, concat!("<", $name, " xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.x'/>"));
            }
            #[test]
            fn mismatch() {
                assert_mismatch::<$t>($other);
            }
            #[test]
            fn invalid_direction_is_unknown_here() {
                invalid::<$t>(concat!("<", $name, " xmlns='urn:xmpp:rayo:1' mixer-name='m' direction='duplex'/>"));
            }
        }
    )*};
}

party! {
    unjoin: Unjoin = "unjoin", mismatch "<join xmlns='urn:xmpp:rayo:1'/>";
    joined: Joined = "joined", mismatch "<unjoined xmlns='urn:xmpp:rayo:1'/>";
    unjoined: Unjoined = "unjoined", mismatch "<joined xmlns='urn:xmpp:rayo:1'/>";
}

#[test]
fn speaking_parse_serialise_mismatch_invalid() {
    let s: StartedSpeaking =
        parse("<started-speaking xmlns='urn:xmpp:rayo:1' call-uri='xmpp:a@call.x'/>");
    assert_eq!(s.call_uri, "xmpp:a@call.x");
    assert_serialises(
        s,
        "<started-speaking xmlns='urn:xmpp:rayo:1' call-uri='xmpp:a@call.x'/>",
    );
    let s = StoppedSpeaking {
        call_uri: "xmpp:b@call.x".into(),
    };
    assert_serialises(
        s,
        "<stopped-speaking xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.x'/>",
    );
    assert_mismatch::<StartedSpeaking>("<stopped-speaking xmlns='urn:xmpp:rayo:1' call-uri='x'/>");
    assert_mismatch::<StoppedSpeaking>("<started-speaking xmlns='urn:xmpp:rayo:1' call-uri='x'/>");
    invalid::<StartedSpeaking>("<started-speaking xmlns='urn:xmpp:rayo:1'/>");
    invalid::<StoppedSpeaking>(
        "<stopped-speaking xmlns='urn:xmpp:rayo:1' call-uri='x'>x</stopped-speaking>",
    );
}

#[test]
fn ref_parse_serialise_mismatch_invalid() {
    let r: Ref = parse("<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:9f00061@call.shakespeare.lit'/>");
    assert_eq!(r.uri, "xmpp:9f00061@call.shakespeare.lit");
    assert_serialises(
        r,
        "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:9f00061@call.shakespeare.lit'/>",
    );
    assert_mismatch::<Ref>("<ref xmlns='urn:example' uri='x'/>");
    invalid::<Ref>("<ref xmlns='urn:xmpp:rayo:1'/>");
    invalid::<Ref>("<ref xmlns='urn:xmpp:rayo:1' uri='x' id='y'/>");
}

// ---- Through the hand-written layer ----

#[test]
fn dial_goes_to_the_service_only() {
    let xml = "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1' from='sip:a@b'/>";
    assert!(
        matches!(command(EntityKind::Service, xml), Command::Service(ServiceCommand::Dial(d)) if d.to == "tel:+1")
    );
    for target in [EntityKind::Call, EntityKind::Mixer, EntityKind::Component] {
        assert_eq!(refusal(target, xml), FEATURE_NOT_IMPLEMENTED);
    }
}

#[test]
fn call_commands_to_a_mixer_are_feature_not_implemented() {
    for xml in [
        "<accept xmlns='urn:xmpp:rayo:1'/>",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    ] {
        assert!(matches!(command(EntityKind::Call, xml), Command::Call(_)));
        assert_eq!(refusal(EntityKind::Mixer, xml), FEATURE_NOT_IMPLEMENTED);
    }
}

/// §6.5.1: an element of a Rayo namespace that is no command (unknown, or an event) is
/// answered `feature-not-implemented` (cancel), through `Command` and through `Payload`; an
/// event that is not one stays `service-unavailable` (RFC 6120 §8.4: nobody handles it).
#[test]
fn unknown_elements_and_events_as_commands_are_feature_not_implemented() {
    use rayo_proto::payload::{Context, Payload};
    for xml in [
        "<transfer xmlns='urn:xmpp:rayo:1'/>",
        "<offer xmlns='urn:xmpp:rayo:1' to='tel:1'/>",
    ] {
        assert_eq!(
            refusal(EntityKind::Call, xml),
            FEATURE_NOT_IMPLEMENTED,
            "{xml}"
        );
        let e = Payload::parse(Context::Set(EntityKind::Call), elem(xml)).expect_err(xml);
        assert_eq!(answer(&e), FEATURE_NOT_IMPLEMENTED, "{xml}");
    }
    assert_eq!(
        event_refusal("<answer xmlns='urn:xmpp:rayo:1'/>"),
        SERVICE_UNAVAILABLE
    );
}

#[test]
fn malformed_commands_are_bad_request() {
    assert_eq!(
        refusal(
            EntityKind::Call,
            "<join xmlns='urn:xmpp:rayo:1' mixer-name='m' direction='up'/>"
        ),
        BAD_REQUEST
    );
    assert_eq!(
        refusal(
            EntityKind::Service,
            "<dial xmlns='urn:xmpp:rayo:1' to='foo bar'/>"
        ),
        BAD_REQUEST
    );
    assert_eq!(
        refusal(EntityKind::Call, "<redirect xmlns='urn:xmpp:rayo:1'/>"),
        BAD_REQUEST
    );
}

#[test]
fn headers_need_a_name() {
    for xml in [
        "<accept xmlns='urn:xmpp:rayo:1'><header name='' value='x'/></accept>",
        "<hangup xmlns='urn:xmpp:rayo:1'><header name=' ' value='x'/></hangup>",
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:1'><header name='' value='x'/></dial>",
    ] {
        let target = if xml.starts_with("<dial") {
            EntityKind::Service
        } else {
            EntityKind::Call
        };
        assert_eq!(refusal(target, xml), BAD_REQUEST, "{xml}");
    }
    let offer = "<offer xmlns='urn:xmpp:rayo:1' to='tel:1'><header name='' value='x'/></offer>";
    assert_eq!(event_refusal(offer), BAD_REQUEST);
}

#[test]
fn join_needs_call_uri_xor_mixer_name_on_calls_mixers_and_in_dial() {
    for target in [EntityKind::Call, EntityKind::Mixer] {
        assert_eq!(
            refusal(target, "<join xmlns='urn:xmpp:rayo:1'/>"),
            BAD_REQUEST
        );
        let both = "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.x' mixer-name='m'/>";
        assert_eq!(refusal(target, both), BAD_REQUEST);
        command(
            target,
            "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.x'/>",
        );
        command(target, "<join xmlns='urn:xmpp:rayo:1' mixer-name='m'/>");
    }
    let m = command(
        EntityKind::Mixer,
        "<join xmlns='urn:xmpp:rayo:1' mixer-name='m'/>",
    );
    assert!(matches!(m, Command::Mixer(MixerCommand::Join(_))));
    let nested = "<dial xmlns='urn:xmpp:rayo:1' to='tel:1'><join call-uri='xmpp:b@call.x' mixer-name='m'/></dial>";
    assert_eq!(refusal(EntityKind::Service, nested), BAD_REQUEST);
}

#[test]
fn unjoin_takes_at_most_one_party() {
    assert!(matches!(
        command(EntityKind::Call, "<unjoin xmlns='urn:xmpp:rayo:1'/>"),
        Command::Call(CallCommand::Unjoin(_))
    ));
    let both = "<unjoin xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.x' mixer-name='m'/>";
    assert_eq!(refusal(EntityKind::Call, both), BAD_REQUEST);
}

#[test]
fn reject_needs_exactly_one_reason() {
    let ok = command(
        EntityKind::Call,
        "<reject xmlns='urn:xmpp:rayo:1'><busy/></reject>",
    );
    assert!(matches!(
        ok,
        Command::Call(CallCommand::Reject(Reject {
            reason: Some(RejectReason::Busy),
            ..
        }))
    ));
    assert_eq!(
        refusal(EntityKind::Call, "<reject xmlns='urn:xmpp:rayo:1'/>"),
        BAD_REQUEST
    );
    let two = "<reject xmlns='urn:xmpp:rayo:1'><busy/><decline/></reject>";
    assert_eq!(refusal(EntityKind::Call, two), BAD_REQUEST);
}

#[test]
fn events_parse_and_validate() {
    let ev = event(
        "<offer xmlns='urn:xmpp:rayo:1' to='tel:+18003211212'><header name='a' value='b'/></offer>",
    );
    assert!(matches!(ev, Event::Offer(ref o) if o.headers.len() == 1));
    let ev = event("<end xmlns='urn:xmpp:rayo:1'><hangup-command/></end>");
    assert!(
        ev.is_final()
            && matches!(
                ev,
                Event::End(End {
                    reason: EndReason::HangupCommand { .. },
                    ..
                })
            )
    );
    event("<joined xmlns='urn:xmpp:rayo:1' mixer-name='m'/>");
    event("<stopped-speaking xmlns='urn:xmpp:rayo:1' call-uri='xmpp:a@call.x'/>");
    assert_eq!(
        event_refusal("<joined xmlns='urn:xmpp:rayo:1'/>"),
        BAD_REQUEST
    );
    assert_eq!(
        event_refusal("<unjoined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:a@x' mixer-name='m'/>"),
        BAD_REQUEST
    );
    assert_eq!(
        event_refusal("<started-speaking xmlns='urn:xmpp:rayo:1' call-uri='tel:1'/>"),
        BAD_REQUEST
    );
    assert_eq!(event_refusal("<end xmlns='urn:xmpp:rayo:1'/>"), BAD_REQUEST);
}
