//! The node's core under a virtual clock: limits, dial rights, preparation order, shutdown.
//! No socket: SIP events go in as values, stanzas come out as elements.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
use std::collections::HashSet;
use std::time::{Duration, Instant};

use jid::{BareJid, Jid};
use minidom::Element;
use rayo_call::{CallId, Engine, RejectCause, Route, SignalAction, SignalEvent};
use rayo_proto::address::Addressing;
use rayo_proto::generated::rayo::EndReason;
use rayo_server::core::{CoreOutput, NodeCore};
use rayo_server::policy::NodePolicy;
use rayo_sip::driver::{Command as SipCommand, Event as SipEvent};

const BOT: &str = "bot@localhost/a";

fn core(max_calls: usize, rate: f64, t0: Instant) -> NodeCore {
    core_with(max_calls, rate, t0, None)
}

/// [`core`] with offers of the route (which sets no timeout) waiting `offer_timeout`.
fn core_with(
    max_calls: usize,
    rate: f64,
    t0: Instant,
    offer_timeout: Option<Duration>,
) -> NodeCore {
    let addressing = Addressing::new("localhost", None, None).expect("domain");
    let mut known = HashSet::new();
    known.insert(BareJid::new("bot@localhost").expect("jid"));
    let policy = NodePolicy::new(
        known,
        false,
        rate,
        max_calls,
        std::env::temp_dir().join("rayo-core-tests"),
        t0,
    );
    let mut cfg = rayo_call::Config::new(addressing);
    cfg.routes = vec![Route::new(
        "*",
        vec![Jid::new("bot@localhost").expect("jid")],
        Box::new(rayo_call::All),
    )];
    cfg.default_offer_timeout = offer_timeout;
    NodeCore::new(Engine::with_policy(cfg, policy), "localhost")
}

/// The remote party of `id` hangs up; what the core does then.
fn hung_up(c: &mut NodeCore, now: Instant, id: &str) -> Vec<CoreOutput> {
    c.handle_sip(
        now,
        SipEvent::Signal(
            CallId(id.into()),
            SignalEvent::Ended {
                reason: EndReason::Hungup {
                    platform_code: None,
                },
                headers: Vec::new(),
            },
        ),
    );
    drain(c)
}

fn drain(c: &mut NodeCore) -> Vec<CoreOutput> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

fn stanzas(out: &[CoreOutput]) -> Vec<&Element> {
    out.iter()
        .filter_map(|o| match o {
            CoreOutput::Stanza(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// The id and type of each IQ the core sent.
fn iq_answers(out: &[CoreOutput]) -> Vec<(Option<String>, Option<String>)> {
    stanzas(out)
        .iter()
        .filter(|s| s.name() == "iq")
        .map(|s| {
            (
                s.attr("id").map(str::to_owned),
                s.attr("type").map(str::to_owned),
            )
        })
        .collect()
}

fn xml(s: &str) -> Element {
    s.parse().expect("well-formed")
}

fn bot_available(c: &mut NodeCore, now: Instant) {
    c.handle_stanza(
        now,
        Jid::new(BOT).expect("jid"),
        xml("<presence xmlns='jabber:client' to='localhost'><show>chat</show></presence>"),
    );
    drain(c);
}

fn incoming(c: &mut NodeCore, now: Instant, id: &str) -> Vec<CoreOutput> {
    c.handle_sip(
        now,
        SipEvent::Signal(
            CallId(id.into()),
            SignalEvent::Incoming {
                to: "sip:ivr@127.0.0.1".into(),
                from: Some("sip:alice@127.0.0.1".into()),
                headers: Vec::new(),
                early_media: false,
            },
        ),
    );
    drain(c)
}

fn dial(c: &mut NodeCore, now: Instant, from: &str, id: &str) -> Vec<CoreOutput> {
    c.handle_stanza(
        now,
        Jid::new(from).expect("jid"),
        xml(&format!(
            "<iq xmlns='jabber:client' type='set' id='{id}' to='localhost'>\
             <dial xmlns='urn:xmpp:rayo:1' to='sip:b@127.0.0.1:5099'/></iq>"
        )),
    );
    drain(c)
}

fn error_condition(s: &Element) -> Option<String> {
    let e = s.children().find(|c| c.name() == "error")?;
    e.children()
        .find(|c| c.ns() == "urn:ietf:params:xml:ns:xmpp-stanzas")
        .map(|c| c.name().to_owned())
}

#[test]
fn an_inbound_call_is_offered_and_one_over_the_limit_gets_503() {
    let t0 = Instant::now();
    let mut c = core(1, 10.0, t0);
    bot_available(&mut c, t0);
    let out = incoming(&mut c, t0, "c1");
    let offers: Vec<_> = stanzas(&out)
        .into_iter()
        .filter(|s| s.children().any(|p| p.name() == "offer"))
        .collect();
    assert_eq!(offers.len(), 1, "{out:?}");
    assert_eq!(offers[0].attr("to"), Some(BOT));
    assert_eq!(c.live_calls(), 1);

    let out = incoming(&mut c, t0, "c2");
    assert!(
        out.iter().any(|o| matches!(o,
            CoreOutput::Sip(SipCommand::Action(SignalAction::Reject { call, cause: RejectCause::ServiceUnavailable, .. }))
                if call.0 == "c2")),
        "{out:?}"
    );
    assert!(stanzas(&out).is_empty(), "no offer for the refused call");
    assert_eq!(c.live_calls(), 1);
}

#[test]
fn unknown_clients_get_registration_required_and_fast_dialers_resource_constraint() {
    let t0 = Instant::now();
    let mut c = core(100, 2.0, t0);
    let out = dial(&mut c, t0, "stranger@elsewhere/x", "d0");
    assert_eq!(
        error_condition(stanzas(&out)[0]).as_deref(),
        Some("registration-required")
    );
    // Rate 2/s: two at once pass, the third is refused, one more passes half a second later.
    for id in ["d1", "d2"] {
        let out = dial(&mut c, t0, BOT, id);
        assert!(
            out.iter().any(|o| matches!(
                o,
                CoreOutput::Sip(SipCommand::Action(SignalAction::Dial { .. }))
            )),
            "{out:?}"
        );
    }
    let out = dial(&mut c, t0, BOT, "d3");
    assert_eq!(
        error_condition(stanzas(&out)[0]).as_deref(),
        Some("resource-constraint")
    );
    let out = dial(&mut c, t0 + Duration::from_millis(500), BOT, "d4");
    assert!(
        stanzas(&out)
            .iter()
            .all(|s| s.attr("type") == Some("result")),
        "{out:?}"
    );
}

#[test]
fn dials_over_the_call_limit_get_resource_constraint() {
    let t0 = Instant::now();
    let mut c = core(1, 100.0, t0);
    bot_available(&mut c, t0);
    incoming(&mut c, t0, "c1");
    let out = dial(&mut c, t0, BOT, "d1");
    assert_eq!(
        error_condition(stanzas(&out)[0]).as_deref(),
        Some("resource-constraint")
    );
}

#[test]
fn a_command_being_prepared_holds_the_senders_later_stanzas_in_order() {
    let t0 = Instant::now();
    let mut c = core(10, 10.0, t0);
    bot_available(&mut c, t0);
    let out = incoming(&mut c, t0, "c1");
    let offer = stanzas(&out)[0].clone();
    let call = offer.attr("from").expect("from the call").to_owned();
    let bot = Jid::new(BOT).expect("jid");
    c.handle_stanza(
        t0,
        bot.clone(),
        xml(&format!("<iq xmlns='jabber:client' type='set' id='a1' to='{call}'><answer xmlns='urn:xmpp:rayo:1'/></iq>")),
    );
    drain(&mut c);
    c.handle_stanza(
        t0,
        bot.clone(),
        xml(&format!(
            "<iq xmlns='jabber:client' type='set' id='o1' to='{call}'>\
             <output xmlns='urn:xmpp:rayo:output:1'><document content-type='text/plain'><![CDATA[hi]]></document></output></iq>"
        )),
    );
    let out = drain(&mut c);
    let ticket = match out.as_slice() {
        [CoreOutput::Prepare { ticket, .. }] => *ticket,
        other => panic!("expected one preparation job: {other:?}"),
    };
    // The hangup sent right after waits for the output's answer.
    c.handle_stanza(
        t0,
        bot,
        xml(&format!("<iq xmlns='jabber:client' type='set' id='h1' to='{call}'><hangup xmlns='urn:xmpp:rayo:1'/></iq>")),
    );
    assert!(drain(&mut c).is_empty(), "held behind the output");
    // The document could not be rendered: refused before any ref, then the hangup runs.
    let refusal = rayo_call::Refusal::new(
        xmpp_parsers::stanza_error::ErrorType::Modify,
        xmpp_parsers::stanza_error::DefinedCondition::FeatureNotImplemented,
    );
    c.handle_prepared(t0, ticket, Err(refusal));
    let out = drain(&mut c);
    let ids: Vec<_> = stanzas(&out)
        .iter()
        .filter(|s| s.name() == "iq")
        .map(|s| {
            (
                s.attr("id").unwrap_or("").to_owned(),
                s.attr("type").unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("o1".into(), "error".into()),
            ("h1".into(), "result".into())
        ],
        "{out:?}"
    );
    let o1 = stanzas(&out)[0];
    assert_eq!(
        error_condition(o1).as_deref(),
        Some("feature-not-implemented")
    );
}

#[test]
fn shutdown_tells_clients_refuses_new_calls_and_ends_live_ones_after_the_grace() {
    let t0 = Instant::now();
    let mut c = core(10, 10.0, t0);
    bot_available(&mut c, t0);
    incoming(&mut c, t0, "c1");
    c.shutdown(t0, Duration::from_secs(5));
    let out = drain(&mut c);
    let dnd = stanzas(&out)
        .into_iter()
        .find(|s| s.name() == "presence")
        .expect("clients told");
    assert_eq!(dnd.attr("to"), Some(BOT));
    assert!(dnd
        .children()
        .any(|s| s.name() == "show" && s.text() == "dnd"));

    let out = incoming(&mut c, t0 + Duration::from_secs(1), "c2");
    assert!(out.iter().any(|o| matches!(
        o,
        CoreOutput::Sip(SipCommand::Action(SignalAction::Reject {
            cause: RejectCause::ServiceUnavailable,
            ..
        }))
    )));

    assert_eq!(
        c.poll_timeout(),
        Some(t0 + Duration::from_secs(5)).min(c.poll_timeout())
    );
    c.handle_timeout(t0 + Duration::from_secs(5));
    let out = drain(&mut c);
    assert!(
        out.iter().any(|o| matches!(o,
        CoreOutput::Sip(SipCommand::Action(SignalAction::Hangup { call, .. })) if call.0 == "c1")),
        "{out:?}"
    );
    let end = stanzas(&out)
        .into_iter()
        .find_map(|s| s.children().find(|e| e.name() == "end"))
        .expect("end event");
    assert!(end.children().any(|r| r.name() == "error"), "{end:?}");
    assert!(matches!(out.last(), Some(CoreOutput::Stopped)), "{out:?}");
    assert_eq!(c.live_calls(), 0);
}

#[test]
fn a_call_ended_by_the_remote_party_frees_its_place() {
    let t0 = Instant::now();
    let mut c = core(1, 10.0, t0);
    bot_available(&mut c, t0);
    incoming(&mut c, t0, "c1");
    hung_up(&mut c, t0, "c1");
    assert_eq!(c.live_calls(), 0);
    let out = incoming(&mut c, t0, "c2");
    assert!(stanzas(&out)
        .iter()
        .any(|s| s.children().any(|p| p.name() == "offer")));
}

#[test]
fn a_dial_the_sip_stack_cannot_start_ends_with_error() {
    let t0 = Instant::now();
    let mut c = core(10, 10.0, t0);
    let out = dial(&mut c, t0, BOT, "d1");
    let call = out
        .iter()
        .find_map(|o| match o {
            CoreOutput::Sip(SipCommand::Action(SignalAction::Dial { call, .. })) => {
                Some(call.clone())
            }
            _ => None,
        })
        .expect("a dial");
    c.handle_sip(
        t0,
        SipEvent::DialFailed {
            call,
            reason: "no route".into(),
        },
    );
    let out = drain(&mut c);
    let end = stanzas(&out)
        .into_iter()
        .find_map(|s| s.children().find(|e| e.name() == "end"))
        .expect("the client hears the end");
    assert!(end.children().any(|r| r.name() == "error"), "{end:?}");
    assert_eq!(c.live_calls(), 0);
}

#[test]
fn a_sender_flooding_behind_a_command_being_prepared_gets_resource_constraint() {
    let t0 = Instant::now();
    let mut c = core(10, 10.0, t0);
    let (call, out) = answered_with_output(&mut c, t0);
    assert!(matches!(out.as_slice(), [CoreOutput::Prepare { .. }]));
    let bot = Jid::new(BOT).expect("jid");
    let ping = |i: usize| {
        xml(&format!(
            "<iq xmlns='jabber:client' type='get' id='p{i}' from='{BOT}' to='{call}'>\
             <ping xmlns='urn:xmpp:ping'/></iq>"
        ))
    };
    for i in 0..rayo_server::core::MAX_HELD {
        c.handle_stanza(t0, bot.clone(), ping(i));
    }
    assert!(drain(&mut c).is_empty(), "held in order");
    c.handle_stanza(t0, bot, ping(9999));
    let out = drain(&mut c);
    let refused = stanzas(&out);
    assert_eq!(refused.len(), 1, "{out:?}");
    assert_eq!(refused[0].attr("id"), Some("p9999"));
    assert_eq!(
        error_condition(refused[0]).as_deref(),
        Some("resource-constraint")
    );
}

/// An INVITE from `source`, as the SIP driver reports it.
fn incoming_from(c: &mut NodeCore, now: Instant, id: &str, source: &str) -> Vec<CoreOutput> {
    c.handle_sip(
        now,
        SipEvent::Incoming {
            call: CallId(id.into()),
            source: source.parse().expect("address"),
            event: SignalEvent::Incoming {
                to: "sip:ivr@127.0.0.1".into(),
                from: Some("sip:alice@127.0.0.1".into()),
                headers: Vec::new(),
                early_media: false,
            },
        },
    );
    drain(c)
}

fn offered(out: &[CoreOutput]) -> usize {
    stanzas(out)
        .into_iter()
        .filter(|s| s.children().any(|p| p.name() == "offer"))
        .count()
}

/// The headers of the 503 the core sends for `id`, if it sends one.
fn rejected_503(out: &[CoreOutput], id: &str) -> Option<Vec<(String, String)>> {
    out.iter().find_map(|o| match o {
        CoreOutput::Sip(SipCommand::Action(SignalAction::Reject {
            call,
            cause: RejectCause::ServiceUnavailable,
            headers,
        })) if call.0 == id => Some(
            headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect(),
        ),
        _ => None,
    })
}

#[test]
fn a_source_over_its_call_limit_gets_503_with_retry_after_and_no_offer() {
    let t0 = Instant::now();
    let mut c = core(100, 10.0, t0).with_source_limit(2, Duration::from_secs(5));
    bot_available(&mut c, t0);
    for id in ["c1", "c2"] {
        assert_eq!(offered(&incoming_from(&mut c, t0, id, "192.0.2.7:5060")), 1);
    }
    let out = incoming_from(&mut c, t0, "c3", "192.0.2.7:5070");
    assert_eq!(
        rejected_503(&out, "c3"),
        Some(vec![("Retry-After".into(), "5".into())])
    );
    assert_eq!(offered(&out), 0, "the refused call is not offered: {out:?}");
    assert_eq!(
        (c.live_calls(), c.calls_from("192.0.2.7".parse().unwrap())),
        (2, 2)
    );

    // Another source is not held back.
    assert_eq!(
        offered(&incoming_from(&mut c, t0, "d1", "192.0.2.8:5060")),
        1
    );

    // One of the source's calls ends: it may call again.
    hung_up(&mut c, t0, "c1");
    assert_eq!(c.calls_from("192.0.2.7".parse().unwrap()), 1);
    assert_eq!(
        offered(&incoming_from(&mut c, t0, "c4", "192.0.2.7:5060")),
        1
    );
}

#[test]
fn offers_nobody_answers_expire_and_free_their_sources_places() {
    let t0 = Instant::now();
    let mut c = core_with(2, 1.0, t0, Some(Duration::from_secs(60)))
        .with_source_limit(1, Duration::from_secs(5));
    bot_available(&mut c, t0);
    assert_eq!(
        offered(&incoming_from(&mut c, t0, "c1", "192.0.2.7:5060")),
        1
    );
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(60)));
    c.handle_timeout(t0 + Duration::from_secs(60));
    let out = drain(&mut c);
    assert_eq!(rejected_503(&out, "c1"), Some(Vec::new()), "{out:?}");
    let end = stanzas(&out)
        .into_iter()
        .find(|s| s.children().any(|p| p.name() == "end"))
        .expect("the bot is told the offer ended");
    assert!(end
        .children()
        .flat_map(|e| e.children())
        .any(|r| r.name() == "timeout"));
    assert_eq!(c.live_calls(), 0, "the expired offer is no call any more");
    let t1 = t0 + Duration::from_secs(61);
    assert_eq!(
        offered(&incoming_from(&mut c, t1, "c2", "192.0.2.7:5060")),
        1
    );
}

/// Issue 12 §6: any logged-in user made the node fetch any URL, with no call, because
/// documents were fetched before the engine looked at the command. Now a command the engine
/// refuses is answered at once and nothing is prepared (fetched) for it.
#[test]
fn nothing_is_fetched_for_a_command_the_engine_refuses() {
    let t0 = Instant::now();
    let mut c = core(10, 10.0, t0);
    bot_available(&mut c, t0);
    let bot = Jid::new(BOT).expect("jid");
    for (id, to) in [("o1", "nosuchcall@localhost"), ("o2", "localhost")] {
        c.handle_stanza(
            t0,
            bot.clone(),
            xml(&format!(
                "<iq xmlns='jabber:client' type='set' id='{id}' to='{to}'>\
                 <output xmlns='urn:xmpp:rayo:output:1'><document url='http://10.0.0.1:22/'/></output></iq>"
            )),
        );
        let out = drain(&mut c);
        assert!(
            !out.iter().any(|o| matches!(o, CoreOutput::Prepare { .. })),
            "{out:?}"
        );
        let replies = stanzas(&out);
        assert_eq!(replies.len(), 1, "{out:?}");
        assert_eq!(replies[0].attr("type"), Some("error"), "{out:?}");
    }
    // An offered call that is not the bot's to control yet: refused, nothing fetched.
    let out = incoming(&mut c, t0, "c1");
    let call = stanzas(&out)[0]
        .attr("from")
        .expect("from the call")
        .to_owned();
    let stranger = Jid::new("stranger@localhost/x").expect("jid");
    c.handle_stanza(
        t0,
        stranger,
        xml(&format!(
            "<iq xmlns='jabber:client' type='set' id='o3' to='{call}'>\
             <output xmlns='urn:xmpp:rayo:output:1'><document url='http://10.0.0.1:22/'/></output></iq>"
        )),
    );
    let out = drain(&mut c);
    assert!(
        !out.iter().any(|o| matches!(o, CoreOutput::Prepare { .. })),
        "{out:?}"
    );
    assert_eq!(stanzas(&out)[0].attr("type"), Some("error"), "{out:?}");
}

/// A prepared component is built from what was prepared, gets its ref, and its call's media
/// is told to start it.
#[test]
fn a_prepared_component_gets_its_ref_and_starts() {
    let t0 = Instant::now();
    let mut c = core(10, 10.0, t0);
    let (_, out) = answered_with_output(&mut c, t0);
    let ticket = match out.as_slice() {
        [CoreOutput::Prepare { ticket, .. }] => *ticket,
        other => panic!("expected one preparation job: {other:?}"),
    };
    c.handle_prepared(t0, ticket, Ok(rayo_server::policy::Prepared::default()));
    let out = drain(&mut c);
    let result = stanzas(&out)
        .into_iter()
        .find(|s| s.attr("id") == Some("o1"))
        .expect("the answer")
        .clone();
    assert_eq!(result.attr("type"), Some("result"), "{out:?}");
    assert!(result.children().any(|r| r.name() == "ref"), "{result:?}");
    assert!(
        out.iter().any(|o| matches!(
            o,
            CoreOutput::Sip(SipCommand::Media(_, rayo_media::udp::Command::Component(_)))
        )),
        "the media is told to start it: {out:?}"
    );
}

/// The bot answers an inbound call and starts an output on it: the call's JID, and what
/// came out (the preparation job).
fn answered_with_output(c: &mut NodeCore, t0: Instant) -> (String, Vec<CoreOutput>) {
    bot_available(c, t0);
    let out = incoming(c, t0, "c1");
    let call = stanzas(&out)[0]
        .attr("from")
        .expect("from the call")
        .to_owned();
    let bot = Jid::new(BOT).expect("jid");
    c.handle_stanza(
        t0,
        bot.clone(),
        xml(&format!("<iq xmlns='jabber:client' type='set' id='a1' to='{call}'><answer xmlns='urn:xmpp:rayo:1'/></iq>")),
    );
    drain(c);
    c.handle_stanza(
        t0,
        bot,
        xml(&format!(
            "<iq xmlns='jabber:client' type='set' id='o1' to='{call}'>\
             <output xmlns='urn:xmpp:rayo:output:1'><document content-type='text/plain'><![CDATA[hi]]></document></output></iq>"
        )),
    );
    let out = drain(c);
    (call, out)
}

/// A gateway sends every client's commands as one JID: a command prepared on one call holds
/// that call's later stanzas, not another call's (nor would it hold a mixer's behind a call).
#[test]
fn a_command_being_prepared_on_one_call_does_not_hold_another_calls_commands() {
    let t0 = Instant::now();
    let mut c = core(10, 10.0, t0);
    let (first, out) = answered_with_output(&mut c, t0);
    assert!(matches!(out.as_slice(), [CoreOutput::Prepare { .. }]));
    let out = incoming(&mut c, t0, "c2");
    let second = stanzas(&out)[0]
        .attr("from")
        .expect("from the call")
        .to_owned();
    let bot = Jid::new(BOT).expect("jid");
    let answer = |id: &str, to: &str| {
        xml(&format!(
            "<iq xmlns='jabber:client' type='set' id='{id}' to='{to}'>\
             <answer xmlns='urn:xmpp:rayo:1'/></iq>"
        ))
    };
    c.handle_stanza(t0, bot.clone(), answer("a2", &second));
    let out = drain(&mut c);
    let answered = iq_answers(&out);
    assert_eq!(
        answered,
        vec![(Some("a2".into()), Some("result".into()))],
        "the other call's command runs at once: {out:?}"
    );
    // The first call's own later stanza still waits.
    c.handle_stanza(t0, bot, answer("again", &first));
    assert!(
        drain(&mut c).is_empty(),
        "held behind the first call's output"
    );
}

/// A core serving a gateway: every call offered to it, `max_calls` calls at most.
fn cluster_core(max_calls: usize, t0: Instant) -> NodeCore {
    let addressing = Addressing::new("node1.localhost", None, None).expect("domain");
    let gateway = Jid::new("gateway.localhost").expect("jid");
    let policy = NodePolicy::new(
        HashSet::new(),
        false,
        1.0,
        max_calls,
        std::env::temp_dir().join("rayo-core-tests"),
        t0,
    )
    .with_gateway(gateway.to_bare());
    let mut cfg = rayo_call::Config::new(addressing);
    cfg.routes = vec![Route::new(
        "*",
        vec![gateway.clone()],
        Box::new(rayo_call::All),
    )];
    NodeCore::new(Engine::with_policy(cfg, policy), "node1.localhost").with_gateway(gateway, t0)
}

fn node_presences(out: &[CoreOutput]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            CoreOutput::NodePresence(p) => {
                assert_eq!(p.attr("to"), Some("gateway.localhost"));
                assert_eq!(p.attr("from"), Some("node1.localhost"));
                let caps = p
                    .get_child("c", "http://jabber.org/protocol/caps")
                    .expect("caps");
                assert_eq!(caps.attr("node"), Some("urn:xmpp:rayo:node:1"));
                Some(p.get_child("show", "jabber:client").expect("show").text())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn behind_a_gateway_calls_go_to_it_and_it_hears_chat_or_dnd() {
    let t0 = Instant::now();
    let mut c = cluster_core(2, t0);
    assert_eq!(
        node_presences(&drain(&mut c)),
        vec!["chat"],
        "told at start"
    );
    // Offered to the gateway, with no presence from it.
    let out = incoming(&mut c, t0, "c1");
    let offers = stanzas(&out);
    assert_eq!(offers.len(), 1, "{out:?}");
    assert_eq!(offers[0].attr("to"), Some("gateway.localhost"));
    assert!(
        node_presences(&out).is_empty(),
        "one call of two: still chat"
    );
    // Full: dnd; a call ends: chat again.
    assert_eq!(node_presences(&incoming(&mut c, t0, "c2")), vec!["dnd"]);
    assert_eq!(node_presences(&hung_up(&mut c, t0, "c1")), vec!["chat"]);
    // Shutting down: dnd.
    c.shutdown(t0, Duration::from_secs(30));
    assert_eq!(node_presences(&drain(&mut c)), vec!["dnd"]);
}

#[test]
fn behind_a_gateway_only_the_gateway_commands_and_its_presence_changes_nothing() {
    let t0 = Instant::now();
    let mut c = cluster_core(10, t0);
    drain(&mut c);
    let out = incoming(&mut c, t0, "c1");
    let call = stanzas(&out)[0].attr("from").expect("the call").to_owned();
    let answer = |id: &str| {
        xml(&format!(
            "<iq xmlns='jabber:client' type='set' id='{id}' to='{call}'>\
             <answer xmlns='urn:xmpp:rayo:1'/></iq>"
        ))
    };
    // A client of the node's XMPP server, not the gateway: forbidden.
    c.handle_stanza(
        t0,
        Jid::new("mallory@localhost/x").expect("jid"),
        answer("m1"),
    );
    let out = drain(&mut c);
    let refused = stanzas(&out);
    assert_eq!(refused.len(), 1, "{out:?}");
    assert_eq!(error_condition(refused[0]).as_deref(), Some("forbidden"));
    // The gateway going unavailable (a restart) does not end or orphan anything, and its
    // commands still work afterwards.
    let gateway = Jid::new("gateway.localhost").expect("jid");
    c.handle_stanza(
        t0,
        gateway.clone(),
        xml("<presence xmlns='jabber:client' type='unavailable' to='node1.localhost'/>"),
    );
    assert!(drain(&mut c).is_empty());
    c.handle_stanza(t0, gateway, answer("g1"));
    let out = drain(&mut c);
    let ids = iq_answers(&out);
    assert_eq!(
        ids,
        vec![(Some("g1".into()), Some("result".into()))],
        "{out:?}"
    );
    assert_eq!(c.live_calls(), 1);
}
