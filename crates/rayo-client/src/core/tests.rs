//! The sans-IO core alone: correlation, deadlines, registries, routing.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use super::*;
use rayo_proto::event::{CompleteReason, OutputReason};
use rayo_proto::generated::rayo::EndReason;
use tokio::sync::oneshot::error::TryRecvError;
use xmpp_parsers::stanza_error::DefinedCondition;

const ME: &str = "juliet@rayo.test/bot";
const CALL: &str = "c1@call.rayo.test";

fn jid(s: &str) -> Jid {
    Jid::new(s).expect("jid")
}

fn xml(s: &str) -> Element {
    s.parse().expect("xml")
}

fn core() -> (Core, crate::event_queue::Receiver<NewOffer>) {
    let (tx, rx) = crate::event_queue::channel();
    let mut c = Core::new(jid("rayo.test"), tx);
    c.connected(FullJid::new(ME).expect("jid"));
    (c, rx)
}

fn sent(c: &mut Core) -> Vec<Element> {
    std::iter::from_fn(|| c.poll_transmit()).collect()
}

/// Sends a command and returns the receiver and the IQ id it went out with.
fn command(
    c: &mut Core,
    now: Instant,
    to: &str,
    payload: &str,
    expect: Expect,
) -> (oneshot::Receiver<Reply>, String) {
    let rx = c
        .request(now, jid(to), xml(payload), expect, Duration::from_secs(10))
        .expect("connected");
    let out = sent(c);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].attr("type"), Some("set"));
    assert_eq!(out[0].attr("to"), Some(to));
    (rx, out[0].attr("id").expect("id").to_owned())
}

/// Sends an output to [`CALL`].
fn output(c: &mut Core, now: Instant) -> (oneshot::Receiver<Reply>, String) {
    command(
        c,
        now,
        CALL,
        "<output xmlns='urn:xmpp:rayo:output:1'><document url='http://x/a.wav'/></output>",
        Expect::Component,
    )
}

/// Sends a dial to the service.
fn dial(c: &mut Core, now: Instant) -> (oneshot::Receiver<Reply>, String) {
    command(
        c,
        now,
        "rayo.test",
        "<dial xmlns='urn:xmpp:rayo:1' to='sip:bob@example.com' from='sip:me@example.com'/>",
        Expect::Call,
    )
}

/// The result of request `id`, from `from`, with a `<ref/>` to `uri` (without `xmpp:`).
fn ref_result(c: &mut Core, id: &str, from: &str, uri: &str) {
    c.handle_stanza(xml(&format!(
        "<iq xmlns='jabber:client' type='result' id='{id}' from='{from}' to='{ME}'>\
         <ref xmlns='urn:xmpp:rayo:1' uri='xmpp:{uri}'/></iq>"
    )));
}

fn offer(c: &mut Core, offers: &mut crate::event_queue::Receiver<NewOffer>) -> CallParts {
    c.handle_stanza(xml(&format!(
        "<presence xmlns='jabber:client' from='{CALL}' to='{ME}'>\
         <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:xmpp:rayo:call:1' ver='x'/>\
         <offer xmlns='urn:xmpp:rayo:1' to='tel:+1800' from='tel:+1305'>\
         <header name='x-skill' value='agent'/></offer></presence>"
    )));
    let n = offers.try_recv().expect("an offer");
    assert_eq!(n.offer.to, "tel:+1800");
    assert_eq!(n.offer.headers.len(), 1);
    n.call
}

#[test]
fn result_with_ref_registers_the_component_before_its_completion() {
    let (mut c, _) = core();
    let now = Instant::now();
    let (mut rx, id) = output(&mut c, now);
    // The result and the completion arrive in one read: both are handled before the
    // caller's task runs.
    ref_result(&mut c, &id, CALL, &format!("{CALL}/out1"));
    c.handle_stanza(xml(&format!(
        "<presence xmlns='jabber:client' type='unavailable' from='{CALL}/out1' to='{ME}'>\
         <complete xmlns='urn:xmpp:rayo:ext:1'><finish xmlns='urn:xmpp:rayo:output:complete:1'/>\
         </complete></presence>"
    )));
    let Ok(Ok(Answer::Component(mut parts))) = rx.try_recv() else {
        panic!("a component")
    };
    assert_eq!(parts.jid.to_string(), format!("{CALL}/out1"));
    let done = parts.complete.try_recv().expect("completed");
    assert_eq!(done.reason, CompleteReason::Output(OutputReason::Finish));
    assert_eq!(c.poll_timeout(), None, "nothing pending");
}

#[test]
fn errors_carry_their_condition() {
    let (mut c, _) = core();
    let (mut rx, id) = command(
        &mut c,
        Instant::now(),
        CALL,
        "<accept xmlns='urn:xmpp:rayo:1'/>",
        Expect::Nothing,
    );
    c.handle_stanza(xml(&format!(
        "<iq xmlns='jabber:client' type='error' id='{id}' from='{CALL}' to='{ME}'>\
         <accept xmlns='urn:xmpp:rayo:1'/><error type='cancel'>\
         <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    )));
    let err = rx.try_recv().expect("answered").expect_err("refused");
    assert!(err.is_condition(&DefinedCondition::Conflict), "{err}");
    assert_eq!(err.condition_name(), Some("conflict"));
}

#[test]
fn answers_from_another_entity_or_id_are_ignored() {
    let (mut c, _) = core();
    let (mut rx, id) = command(
        &mut c,
        Instant::now(),
        CALL,
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
        Expect::Nothing,
    );
    c.handle_stanza(xml(&format!(
        "<iq xmlns='jabber:client' type='result' id='{id}' from='evil@call.rayo.test'/>"
    )));
    c.handle_stanza(xml(&format!(
        "<iq xmlns='jabber:client' type='result' id='nope' from='{CALL}'/>"
    )));
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    c.handle_stanza(xml(&format!(
        "<iq xmlns='jabber:client' type='result' id='{id}' from='{CALL}'/>"
    )));
    assert!(matches!(rx.try_recv(), Ok(Ok(Answer::Done(None)))));
}

#[test]
fn deadlines_fail_with_timeout() {
    let (mut c, _) = core();
    let now = Instant::now();
    let (mut rx, _) = command(
        &mut c,
        now,
        CALL,
        "<answer xmlns='urn:xmpp:rayo:1'/>",
        Expect::Nothing,
    );
    let at = c.poll_timeout().expect("a deadline");
    assert_eq!(at, now + Duration::from_secs(10));
    c.handle_timeout(at - Duration::from_millis(1));
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    c.handle_timeout(at);
    assert!(matches!(rx.try_recv(), Ok(Err(Error::Timeout))));
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn a_ref_that_is_missing_or_bad_is_a_protocol_error() {
    let (mut c, _) = core();
    let (mut rx, id) = command(
        &mut c,
        Instant::now(),
        "rayo.test",
        "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'/>",
        Expect::Call,
    );
    c.handle_stanza(xml(&format!(
        "<iq xmlns='jabber:client' type='result' id='{id}' from='rayo.test'>\
         <ref xmlns='urn:xmpp:rayo:1' uri='sip:nope'/></iq>"
    )));
    assert!(matches!(rx.try_recv(), Ok(Err(Error::Protocol(_)))));
}

/// Every queue is bounded: a bot that never reads a call's events keeps the newest
/// EVENT_QUEUE of them (its `End` among them, last), and is told how many were lost.
#[test]
fn unread_call_events_are_bounded_and_the_end_is_kept() {
    use crate::event_queue::EVENT_QUEUE;
    let (mut c, mut offers) = core();
    let mut call = offer(&mut c, &mut offers);
    let n = EVENT_QUEUE + 500;
    for i in 0..n {
        c.handle_stanza(xml(&format!(
            "<message xmlns='jabber:client' from='{CALL}' type='normal'><body>{i}</body></message>"
        )));
    }
    c.handle_stanza(xml(&format!(
        "<presence xmlns='jabber:client' type='unavailable' from='{CALL}'>\
         <end xmlns='urn:xmpp:rayo:1'><hungup/></end></presence>"
    )));
    assert_eq!(call.events.lost(), 501);
    let mut got = Vec::new();
    while let Ok(e) = call.events.try_recv() {
        got.push(e);
    }
    assert_eq!(got.len(), EVENT_QUEUE);
    assert_eq!(
        got[0],
        CallEvent::Message("501".into()),
        "the oldest went first"
    );
    assert!(matches!(got.last(), Some(CallEvent::End { .. })));
}

#[test]
fn offers_and_call_events_are_routed() {
    let (mut c, mut offers) = core();
    let mut call = offer(&mut c, &mut offers);
    assert_eq!(call.jid.to_string(), CALL);
    // The same offer again (a later round) does not make a second call.
    c.handle_stanza(xml(&format!(
        "<presence xmlns='jabber:client' from='{CALL}'><offer xmlns='urn:xmpp:rayo:1' to='tel:+1'/></presence>"
    )));
    assert!(offers.try_recv().is_err());
    c.handle_stanza(xml(&format!(
        "<message xmlns='jabber:client' from='{CALL}' type='normal'><body>hi</body></message>"
    )));
    c.handle_stanza(xml(&format!(
        "<presence xmlns='jabber:client' from='{CALL}'><joined xmlns='urn:xmpp:rayo:1' mixer-name='m'/>\
         <delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'/></presence>"
    )));
    c.handle_stanza(xml(&format!(
        "<presence xmlns='jabber:client' type='unavailable' from='{CALL}'>\
         <end xmlns='urn:xmpp:rayo:1'><hungup platform-code='200'/></end></presence>"
    )));
    assert_eq!(
        call.events.try_recv().ok(),
        Some(CallEvent::Message("hi".into()))
    );
    assert!(matches!(
        call.events.try_recv(),
        Ok(CallEvent::Joined(j)) if j.mixer_name.as_deref() == Some("m")
    ));
    assert!(matches!(
        call.events.try_recv(),
        Ok(CallEvent::End {
            reason: EndReason::Hungup { .. },
            ..
        })
    ));
    assert!(
        matches!(
            call.events.try_recv(),
            Err(crate::event_queue::TryRecvError::Disconnected)
        ),
        "the stream ends after end"
    );
}

#[test]
fn peers_cannot_make_it_panic() {
    let (mut c, mut offers) = core();
    let junk = [
        "<presence xmlns='jabber:client'/>",
        "<presence xmlns='jabber:client' from='@@'/>",
        "<presence xmlns='jabber:client' from='c1@call.rayo.test'><offer xmlns='urn:xmpp:rayo:1'/></presence>",
        "<presence xmlns='jabber:client' from='c1@call.rayo.test/x'><complete xmlns='urn:xmpp:rayo:ext:1'/></presence>",
        "<iq xmlns='jabber:client' type='result'/>",
        "<iq xmlns='jabber:client' type='error' id='rc1'/>",
        "<iq xmlns='jabber:client'/>",
        "<message xmlns='jabber:client' from='c1@call.rayo.test' type='error'/>",
        "<foo xmlns='jabber:client'/>",
        "<iq xmlns='urn:other' type='get' id='1'/>",
    ];
    for j in junk {
        c.handle_stanza(xml(j));
    }
    assert!(offers.try_recv().is_err(), "an offer without to is refused");
    // Only the IQ without a type… is dropped; nothing else is answered either.
    assert!(sent(&mut c).is_empty());
}

#[test]
fn server_requests_are_answered() {
    let (mut c, _) = core();
    c.handle_stanza(xml(
        "<iq xmlns='jabber:client' type='get' id='p1' from='rayo.test'><ping xmlns='urn:xmpp:ping'/></iq>",
    ));
    c.handle_stanza(xml(
        "<iq xmlns='jabber:client' type='get' id='d1' from='rayo.test'>\
         <query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    ));
    c.handle_stanza(xml(
        "<iq xmlns='jabber:client' type='set' id='s1' from='rayo.test'><x xmlns='urn:x'/></iq>",
    ));
    let out = sent(&mut c);
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].attr("type"), Some("result"));
    assert_eq!(out[0].attr("id"), Some("p1"));
    let info = out[1].children().next().expect("disco");
    assert!(info
        .children()
        .any(|f| f.attr("var") == Some(ns::CLIENT_CAPS)));
    assert_eq!(out[2].attr("type"), Some("error"));
    assert!(out[2]
        .get_child("error", ns::JABBER_CLIENT)
        .is_some_and(|e| e.has_child("service-unavailable", ns::STANZAS)));
}

#[test]
fn dropping_the_stream_fails_pending_and_presence_is_repeated() {
    let (mut c, _) = core();
    c.set_show(Show::Chat).expect("connected");
    let p = sent(&mut c);
    assert_eq!(p[0].name(), "presence");
    assert_eq!(p[0].attr("to"), Some("rayo.test"));
    assert!(p[0].has_child("c", ns::CAPS));
    let (mut rx, _) = command(
        &mut c,
        Instant::now(),
        CALL,
        "<answer xmlns='urn:xmpp:rayo:1'/>",
        Expect::Nothing,
    );
    c.disconnected();
    assert!(matches!(rx.try_recv(), Ok(Err(Error::Disconnected))));
    assert!(matches!(
        c.request(
            Instant::now(),
            jid(CALL),
            xml("<answer xmlns='urn:xmpp:rayo:1'/>"),
            Expect::Nothing,
            Duration::from_secs(1)
        ),
        Err(Error::Disconnected)
    ));
    c.connected(FullJid::new(ME).expect("jid"));
    let again = sent(&mut c);
    assert_eq!(again.len(), 1);
    assert!(again[0]
        .get_child("show", ns::JABBER_CLIENT)
        .is_some_and(|s| s.text() == "chat"));
}

#[test]
fn mixer_events_go_to_the_mixer() {
    let (mut c, _) = core();
    let mut rx = c.watch_mixer(BareJid::new("conf@mixer.rayo.test").expect("jid"));
    c.handle_stanza(xml(
        "<presence xmlns='jabber:client' from='conf@mixer.rayo.test'>\
         <started-speaking xmlns='urn:xmpp:rayo:1' call-uri='xmpp:c1@call.rayo.test'/></presence>",
    ));
    assert!(matches!(
        rx.try_recv(),
        Ok(CallEvent::StartedSpeaking { call_uri }) if call_uri == "xmpp:c1@call.rayo.test"
    ));
}

/// Behind an XMPP server the dial's result (from the service's domain) and the call's events
/// (from the call's domain) travel over different streams: a busy callee's `<ringing/>` and
/// `<end/>` can arrive before the `<ref/>`, and still reach the call.
#[test]
fn a_calls_events_that_overtake_its_ref_reach_it() {
    let (mut c, _) = core();
    let now = Instant::now();
    let (mut rx, id) = dial(&mut c, now);
    c.handle_stanza(xml(&format!(
        "<presence xmlns='jabber:client' from='{CALL}' to='{ME}'><ringing xmlns='urn:xmpp:rayo:1'/></presence>"
    )));
    c.handle_stanza(xml(&format!(
        "<presence xmlns='jabber:client' type='unavailable' from='{CALL}' to='{ME}'>\
         <end xmlns='urn:xmpp:rayo:1'><busy platform-code='486'/></end></presence>"
    )));
    ref_result(&mut c, &id, "rayo.test", CALL);
    let Ok(Ok(Answer::Call(mut call))) = rx.try_recv() else {
        panic!("a call")
    };
    assert_eq!(call.jid.to_string(), CALL);
    assert!(matches!(call.events.try_recv(), Ok(CallEvent::Ringing(_))));
    assert!(matches!(
        call.events.try_recv(),
        Ok(CallEvent::End {
            reason: EndReason::Busy { .. },
            ..
        })
    ));
    assert!(matches!(
        call.events.try_recv(),
        Err(crate::event_queue::TryRecvError::Disconnected)
    ));
}

/// A component's completion that arrives before its `<ref/>` completes it.
#[test]
fn a_completion_that_overtakes_its_ref_completes_the_component() {
    let (mut c, mut offers) = core();
    let _call = offer(&mut c, &mut offers);
    let now = Instant::now();
    let (mut rx, id) = output(&mut c, now);
    c.handle_stanza(xml(&format!(
        "<presence xmlns='jabber:client' type='unavailable' from='{CALL}/out1' to='{ME}'>\
         <complete xmlns='urn:xmpp:rayo:ext:1'><finish xmlns='urn:xmpp:rayo:output:complete:1'/>\
         </complete></presence>"
    )));
    ref_result(&mut c, &id, CALL, &format!("{CALL}/out1"));
    let Ok(Ok(Answer::Component(mut parts))) = rx.try_recv() else {
        panic!("a component")
    };
    let done = parts.complete.try_recv().expect("completed");
    assert_eq!(done.reason, CompleteReason::Output(OutputReason::Finish));
}

/// Events from unknown entities are kept only while a `<ref/>` is awaited, and at most
/// [`EARLY_MAX`] of them: a later dial to the same JID does not see stale events, and a
/// server cannot grow the client by sending presences.
#[test]
fn events_from_unknown_entities_are_kept_only_while_a_ref_is_awaited_and_bounded() {
    let (mut c, _) = core();
    let end = |from: &str| {
        xml(&format!(
            "<presence xmlns='jabber:client' type='unavailable' from='{from}' to='{ME}'>\
             <end xmlns='urn:xmpp:rayo:1'><hangup/></end></presence>"
        ))
    };
    // No request pending: not kept.
    c.handle_stanza(end(CALL));
    assert!(c.early.is_empty());
    let now = Instant::now();
    let (mut rx, id) = dial(&mut c, now);
    for i in 0..EARLY_MAX + 10 {
        c.handle_stanza(end(&format!("x{i}@call.rayo.test")));
    }
    assert_eq!(c.early.len(), EARLY_MAX);
    ref_result(&mut c, &id, "rayo.test", CALL);
    let Ok(Ok(Answer::Call(mut call))) = rx.try_recv() else {
        panic!("a call")
    };
    assert!(
        matches!(
            call.events.try_recv(),
            Err(crate::event_queue::TryRecvError::Empty)
        ),
        "the end sent before the dial is not this call's"
    );
    assert!(c.early.is_empty(), "nothing kept once no ref is awaited");
}

#[test]
fn disco_info_of_a_call_goes_out_as_a_get_and_its_features_come_back() {
    let (mut c, _) = core();
    let mut rx = c
        .query(
            Instant::now(),
            jid(CALL),
            disco_info_query(),
            Duration::from_secs(10),
        )
        .expect("connected");
    let out = sent(&mut c);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].attr("type"), Some("get"));
    assert_eq!(out[0].attr("to"), Some(CALL));
    let q = out[0].children().next().expect("a payload");
    assert!(q.is("query", ns::DISCO_INFO), "{}", String::from(&out[0]));
    let id = out[0].attr("id").expect("id").to_owned();
    c.handle_stanza(xml(&format!(
        "<iq xmlns='jabber:client' type='result' id='{id}' from='{CALL}' to='{ME}'>\
         <query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='client' type='pc'/>\
         <feature var='urn:xmpp:rayo:1'/><feature var='urn:xmpp:rayo:call:1'/>\
         </query></iq>"
    )));
    let Ok(Ok(Answer::Done(payload))) = rx.try_recv() else {
        panic!("answered")
    };
    assert_eq!(
        disco_features(payload).expect("features"),
        vec!["urn:xmpp:rayo:1", "urn:xmpp:rayo:call:1"]
    );
}

#[test]
fn a_disco_info_result_without_its_query_is_a_protocol_error() {
    assert!(matches!(disco_features(None), Err(Error::Protocol(_))));
    let other = xml("<ping xmlns='urn:xmpp:ping'/>");
    assert!(matches!(
        disco_features(Some(other)),
        Err(Error::Protocol(_))
    ));
    let bad = xml("<query xmlns='http://jabber.org/protocol/disco#info'><feature/></query>");
    assert!(matches!(disco_features(Some(bad)), Err(Error::Protocol(_))));
}
