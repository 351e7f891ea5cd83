//! The sans-IO user agent under a virtual clock: SIP in, rayo-call signal events and SIP out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rayo_call::{CallId, SignalAction, SignalEvent};
use rayo_proto::generated::rayo::EndReason;
use rayo_sip::message::Message;
use rayo_sip::transaction::{Peer, Transport};
use rayo_sip::ua::{failure_reason, Config, Output, UserAgent};

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

fn peer() -> Peer {
    Peer {
        addr: "127.0.0.1:5070".parse().expect("addr"),
        transport: Transport::Udp,
    }
}

fn request(method: &str, cseq: u32, branch: &str, to_tag: &str, body: &str) -> Vec<u8> {
    request_from(method, cseq, branch, "al", to_tag, body)
}

/// A request of the peer with From tag `from_tag` (a spoofer's own, or the peer's `al`).
fn request_from(
    method: &str,
    cseq: u32,
    branch: &str,
    from_tag: &str,
    to_tag: &str,
    body: &str,
) -> Vec<u8> {
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{method} sip:svc@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}\r\nFrom: <sip:al@127.0.0.1:5070>;tag={from_tag}\r\nTo: <sip:svc@127.0.0.1:5060>{to_tag}\r\nCall-ID: c1\r\nCSeq: {cseq} {method}\r\nContact: <sip:al@127.0.0.1:5070>\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn ua() -> UserAgent {
    UserAgent::new(Config::new("127.0.0.1:5060".parse().expect("addr")))
}

fn drain(ua: &mut UserAgent) -> (Vec<Message>, Vec<(CallId, SignalEvent)>, Vec<Output>) {
    let (mut sip, mut sig, mut other) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(o) = ua.poll_output() {
        match o {
            Output::Transmit(t) => sip.push(
                Message::parse(&t.bytes, false)
                    .expect("we send valid SIP")
                    .0,
            ),
            Output::Signal { call, event } => sig.push((call, event)),
            o => other.push(o),
        }
    }
    (sip, sig, other)
}

/// The peer's INVITE with SDP arrives now: what the user agent sends and signals.
fn invite_in(ua: &mut UserAgent) -> (Vec<Message>, Vec<(CallId, SignalEvent)>) {
    ua.handle_datagram(
        Instant::now(),
        peer(),
        &request("INVITE", 1, "z9hG4bK1", "", SDP),
    );
    let (sip, sig, _) = drain(ua);
    (sip, sig)
}

fn statuses(sip: &[Message]) -> Vec<u16> {
    sip.iter().filter_map(Message::status).collect()
}

/// An answered inbound call; returns the call and our To tag.
fn answered(ua: &mut UserAgent, now: Instant) -> (CallId, String) {
    ua.handle_datagram(now, peer(), &request("INVITE", 1, "z9hG4bK1", "", SDP));
    let (_, sig, _) = drain(ua);
    let call = sig[0].0.clone();
    ua.handle_action(
        now,
        SignalAction::Answer {
            call: call.clone(),
            headers: vec![],
        },
    )
    .expect("answer");
    let (sip, _, media) = drain(ua);
    assert_eq!(statuses(&sip), vec![200]);
    assert!(
        matches!(&media[..], [Output::MediaStart { remote, signalling, .. }]
            if *remote == "127.0.0.1:6000".parse::<SocketAddr>().expect("addr")
                && *signalling == peer().addr.ip()),
        "media to the SDP address, the signalling source preferred when latching: {media:?}"
    );
    let tag = sip[0].to_tag().expect("to").expect("tag");
    ua.handle_datagram(
        now,
        peer(),
        &request("ACK", 1, "z9hG4bK2", &format!(";tag={tag}"), ""),
    );
    (call, tag)
}

#[test]
fn incoming_exposes_uris_and_every_header() {
    let mut ua = ua();
    let (sip, sig) = invite_in(&mut ua);
    assert_eq!(statuses(&sip), vec![100]);
    match &sig[..] {
        [(
            _,
            SignalEvent::Incoming {
                to,
                from,
                headers,
                early_media: true,
            },
        )] => {
            assert_eq!(to, "sip:svc@127.0.0.1:5060");
            assert_eq!(from.as_deref(), Some("sip:al@127.0.0.1:5070"));
            let names: Vec<_> = headers.iter().map(|h| h.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "Via",
                    "From",
                    "To",
                    "Call-ID",
                    "CSeq",
                    "Contact",
                    "Content-Type",
                    "Content-Length"
                ]
            );
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn offer_without_g711_is_refused_with_488() {
    let mut ua = ua();
    let g729 = SDP.replace("RTP/AVP 0 101", "RTP/AVP 18");
    ua.handle_datagram(
        Instant::now(),
        peer(),
        &request("INVITE", 1, "z9hG4bK1", "", &g729),
    );
    let (sip, sig, _) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![100, 488]);
    assert!(sig.is_empty());
}

#[test]
fn early_media_then_answer() {
    let mut ua = ua();
    let now = Instant::now();
    ua.handle_datagram(now, peer(), &request("INVITE", 1, "z9hG4bK1", "", SDP));
    let call = drain(&mut ua).1[0].0.clone();
    ua.handle_action(now, SignalAction::EarlyMedia { call: call.clone() })
        .expect("183");
    let (sip, _, media) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![183]);
    assert!(!sip[0].body.is_empty());
    assert_eq!(media.len(), 1);
    ua.handle_action(
        now,
        SignalAction::Answer {
            call,
            headers: vec![],
        },
    )
    .expect("200");
    let (sip, _, media) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![200]);
    assert!(media.is_empty(), "media already running");
}

#[test]
fn reinvite_is_answered_and_the_call_stays_up() {
    let mut ua = ua();
    let now = Instant::now();
    let (call, tag) = answered(&mut ua, now);
    let hold = SDP.replace("6000", "6002") + "a=sendonly\r\n";
    ua.handle_datagram(
        now,
        peer(),
        &request("INVITE", 2, "z9hG4bK3", &format!(";tag={tag}"), &hold),
    );
    let (sip, sig, media) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![100, 200]);
    assert!(String::from_utf8_lossy(&sip[1].body).contains("a=recvonly"));
    assert!(sig.is_empty(), "no end: {sig:?}");
    assert!(matches!(&media[..], [Output::MediaUpdate { remote, .. }] if remote.port() == 6002));
    assert_eq!(ua.calls(), 1);
    // Later the peer hangs up: the call ends as hungup with the status of our answer.
    ua.handle_datagram(
        now,
        peer(),
        &request("BYE", 3, "z9hG4bK4", &format!(";tag={tag}"), ""),
    );
    let (sip, sig, media) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![200]);
    assert!(
        matches!(&sig[..], [(c, SignalEvent::Ended { reason: EndReason::Hungup { platform_code: Some(p) }, .. })] if *c == call && p == "200")
    );
    assert!(matches!(&media[..], [Output::MediaStop { .. }]));
}

#[test]
fn options_message_in_both_directions() {
    let mut ua = ua();
    let now = Instant::now();
    ua.handle_datagram(now, peer(), &request("OPTIONS", 1, "z9hG4bK9", "", ""));
    let (sip, _, _) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![200]);
    assert!(sip[0].header("Allow").is_some_and(|a| a.contains("INVITE")));

    let (call, tag) = answered(&mut ua, now);
    ua.handle_action(
        now,
        SignalAction::SendMessage {
            call: call.clone(),
            body: "hello".into(),
        },
    )
    .expect("message");
    let (sip, _, _) = drain(&mut ua);
    assert_eq!(
        sip[0].method().map(ToString::to_string).as_deref(),
        Some("MESSAGE")
    );
    assert_eq!(sip[0].body, b"hello");
    assert_eq!(sip[0].header("Content-Type"), Some("text/plain"));

    let mut msg = request("MESSAGE", 2, "z9hG4bK8", &format!(";tag={tag}"), "");
    msg.truncate(msg.len() - 4 - "Content-Length: 0".len());
    msg.extend_from_slice(b"Content-Length: 2\r\n\r\nhi");
    ua.handle_datagram(now, peer(), &msg);
    let (sip, sig, _) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![200]);
    assert!(matches!(&sig[..], [(c, SignalEvent::Message { body })] if *c == call && body == "hi"));
}

#[test]
fn answer_never_acked_ends_the_call_with_a_bye() {
    let mut ua = ua();
    let now = Instant::now();
    ua.handle_datagram(now, peer(), &request("INVITE", 1, "z9hG4bK1", "", SDP));
    let call = drain(&mut ua).1[0].0.clone();
    ua.handle_action(
        now,
        SignalAction::Answer {
            call: call.clone(),
            headers: vec![],
        },
    )
    .expect("200");
    let mut sent = Vec::new();
    let mut t = now;
    let mut ended = Vec::new();
    while t < now + Duration::from_secs(40) {
        t += Duration::from_millis(100);
        ua.handle_timeout(t);
        let (sip, sig, _) = drain(&mut ua);
        sent.extend(sip);
        ended.extend(sig);
    }
    let twos = sent.iter().filter(|m| m.status() == Some(200)).count();
    assert!(twos >= 10, "the 200 is retransmitted: {twos}");
    assert!(sent
        .iter()
        .any(|m| m.method().map(ToString::to_string).as_deref() == Some("BYE")));
    assert!(
        matches!(&ended[..], [(c, SignalEvent::Ended { reason: EndReason::Error { .. }, .. })] if *c == call)
    );
}

#[test]
fn outbound_failure_statuses_map_to_end_reasons() {
    let code = |r: EndReason| format!("{r:?}");
    for (status, kind) in [
        (486, "Busy"),
        (600, "Busy"),
        (480, "Timeout"),
        (408, "Timeout"),
        (403, "Rejected"),
        (603, "Rejected"),
        (404, "Error"),
        (500, "Error"),
    ] {
        let r = code(failure_reason(status));
        assert!(
            r.starts_with(kind) && r.contains(&status.to_string()),
            "{status}: {r}"
        );
    }
}

/// Dials `to` as `call`, with no From and no extra headers.
fn dial(ua: &mut UserAgent, now: Instant, call: &CallId, to: &str) {
    ua.handle_action(
        now,
        SignalAction::Dial {
            call: call.clone(),
            to: to.into(),
            from: None,
            headers: vec![],
        },
    )
    .expect("dial");
}

#[test]
fn unanswered_outbound_invite_times_out_with_timer_b() {
    let mut ua = ua();
    let t0 = Instant::now();
    let call = CallId("o".into());
    dial(&mut ua, t0, &call, "sip:x@127.0.0.1:5999");
    let (sip, _, _) = drain(&mut ua);
    assert!(String::from_utf8_lossy(&sip[0].body).contains("RTP/AVP 0 8 101"));
    ua.handle_timeout(t0 + Duration::from_secs(33));
    let (_, sig, _) = drain(&mut ua);
    assert!(
        matches!(&sig[..], [(c, SignalEvent::Ended { reason: EndReason::Timeout { platform_code: Some(p) }, .. })] if *c == call && p == "408")
    );
}

#[test]
fn bye_or_reinvite_with_a_wrong_tag_gets_481_and_the_call_stays_up() {
    let mut ua = ua();
    let now = Instant::now();
    let (call, tag) = answered(&mut ua, now);
    let ours = format!(";tag={tag}");
    let moved = SDP.replace("6000", "6666");
    let spoofs = [
        request_from("BYE", 2, "z9hG4bKs1", "evil", &ours, ""),
        request_from("BYE", 3, "z9hG4bKs2", "al", ";tag=guessed", ""),
        request_from("BYE", 4, "z9hG4bKs3", "al", "", ""),
        request_from("INVITE", 5, "z9hG4bKs4", "evil", &ours, &moved),
        request_from("INVITE", 6, "z9hG4bKs5", "al", ";tag=guessed", &moved),
    ];
    for spoof in &spoofs {
        ua.handle_datagram(now, peer(), spoof);
        let (sip, sig, media) = drain(&mut ua);
        assert_eq!(statuses(&sip).last(), Some(&481));
        assert!(sig.is_empty(), "no end: {sig:?}");
        assert!(media.is_empty(), "media untouched: {media:?}");
        assert_eq!(ua.calls(), 1);
    }
    // The real peer's BYE (right Call-ID, From tag and To tag) still ends the call.
    ua.handle_datagram(now, peer(), &request("BYE", 7, "z9hG4bK7", &ours, ""));
    let (sip, sig, _) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![200]);
    assert!(matches!(&sig[..], [(c, SignalEvent::Ended { .. })] if *c == call));
    assert_eq!(ua.calls(), 0);
}

#[test]
fn cancel_from_another_sent_by_does_not_cancel_the_offer() {
    let mut ua = ua();
    let now = Instant::now();
    ua.handle_datagram(now, peer(), &request("INVITE", 1, "z9hG4bK1", "", SDP));
    let _ = drain(&mut ua);
    let spoof = String::from_utf8(request("CANCEL", 1, "z9hG4bK1", "", ""))
        .expect("utf8")
        .replace("SIP/2.0/UDP 127.0.0.1:5070", "SIP/2.0/UDP 127.0.0.1:6666");
    ua.handle_datagram(now, peer(), spoof.as_bytes());
    let (sip, sig, _) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![481]);
    assert!(sig.is_empty(), "offer still up: {sig:?}");
    ua.handle_datagram(now, peer(), &request("CANCEL", 1, "z9hG4bK1", "", ""));
    let (sip, sig, _) = drain(&mut ua);
    assert_eq!(statuses(&sip), vec![200, 487]);
    assert!(matches!(&sig[..], [(_, SignalEvent::Ended { .. })]));
}

#[test]
fn dialling_the_node_itself_offers_the_looped_invite_as_a_new_call() {
    let mut ua = ua();
    let now = Instant::now();
    let out = CallId("out".into());
    dial(&mut ua, now, &out, "sip:svc@127.0.0.1:5060");
    let (sip, sig, _) = drain(&mut ua);
    assert!(sig.is_empty());
    let me = Peer {
        addr: "127.0.0.1:5060".parse().expect("addr"),
        transport: Transport::Udp,
    };
    // The INVITE reaches the node itself: no To tag, so a new inbound call, offered.
    ua.handle_datagram(now, me, &sip[0].to_bytes());
    let (sip, sig, _) = drain(&mut ua);
    let inbound = match &sig[..] {
        [(c, SignalEvent::Incoming { .. })] => c.clone(),
        e => panic!("expected an offer, got {e:?}"),
    };
    assert_ne!(inbound, out);
    assert_eq!(ua.calls(), 2);
    // Its 100 Trying goes back to the outbound side, which is not answered by it.
    for m in sip {
        ua.handle_datagram(now, me, &m.to_bytes());
    }
    let (_, sig, _) = drain(&mut ua);
    assert!(
        !sig.iter()
            .any(|(_, e)| matches!(e, SignalEvent::Answered { .. })),
        "{sig:?}"
    );
    // Answering the offer answers the outbound call, each side with its own tag.
    ua.handle_action(
        now,
        SignalAction::Answer {
            call: inbound.clone(),
            headers: vec![],
        },
    )
    .expect("answer");
    let (sip, _, _) = drain(&mut ua);
    let ok = sip.iter().find(|m| m.status() == Some(200)).expect("200");
    assert_ne!(ok.to_tag().expect("to"), ok.from_tag().expect("from"));
    ua.handle_datagram(now, me, &ok.to_bytes());
    let (_, sig, _) = drain(&mut ua);
    assert!(matches!(&sig[..], [(c, SignalEvent::Answered { .. })] if *c == out));
}

/// A header that would write a Via line of its own.
fn injected() -> Vec<rayo_proto::generated::rayo::Header> {
    vec![rayo_proto::generated::rayo::Header {
        name: "X-Skill".into(),
        value: "a\r\nVia: SIP/2.0/UDP evil".into(),
    }]
}

#[test]
fn actions_with_an_injected_header_fail_and_send_nothing() {
    let mut ua = ua();
    let now = Instant::now();
    let r = ua.handle_action(
        now,
        SignalAction::Dial {
            call: CallId("o".into()),
            to: "sip:x@127.0.0.1:5999".into(),
            from: None,
            headers: injected(),
        },
    );
    assert!(matches!(r, Err(rayo_sip::Error::Header(_))), "{r:?}");
    assert_eq!(ua.calls(), 0);
    assert!(drain(&mut ua).0.is_empty(), "no INVITE");

    ua.handle_datagram(now, peer(), &request("INVITE", 1, "z9hG4bK1", "", SDP));
    let (_, sig, _) = drain(&mut ua);
    let call = sig[0].0.clone();
    let r = ua.handle_action(
        now,
        SignalAction::Answer {
            call: call.clone(),
            headers: injected(),
        },
    );
    assert!(matches!(r, Err(rayo_sip::Error::Header(_))), "{r:?}");
    let (sip, _, _) = drain(&mut ua);
    assert!(statuses(&sip).is_empty(), "no 200: {sip:?}");
}

#[test]
fn a_bye_with_an_injected_header_is_not_sent() {
    let mut ua = ua();
    let now = Instant::now();
    let (call, _) = answered(&mut ua, now);
    let r = ua.handle_action(
        now,
        SignalAction::Hangup {
            call,
            headers: injected(),
        },
    );
    assert!(matches!(r, Err(rayo_sip::Error::Header(_))), "{r:?}");
    let (sip, _, _) = drain(&mut ua);
    assert!(sip.iter().all(|m| m.method().is_none()), "no BYE: {sip:?}");
}

fn ua_without_randomness() -> UserAgent {
    let mut cfg = Config::new("127.0.0.1:5060".parse().expect("addr"));
    cfg.random = rayo_proto::random::failing;
    UserAgent::new(cfg)
}

#[test]
fn without_os_randomness_no_invite_is_sent() {
    let mut ua = ua_without_randomness();
    let r = ua.handle_action(
        Instant::now(),
        SignalAction::Dial {
            call: CallId("o".into()),
            to: "sip:x@127.0.0.1:5999".into(),
            from: None,
            headers: vec![],
        },
    );
    assert!(matches!(r, Err(rayo_sip::Error::Random(_))), "{r:?}");
    assert_eq!(ua.calls(), 0);
    assert!(drain(&mut ua).0.is_empty());
}

#[test]
fn without_os_randomness_an_invite_is_answered_500_and_not_offered() {
    let mut ua = ua_without_randomness();
    let (sip, sig) = invite_in(&mut ua);
    assert!(sig.is_empty(), "{sig:?}");
    assert_eq!(statuses(&sip), vec![100, 500]);
    assert_eq!(ua.calls(), 0);
}

#[test]
fn call_ids_tags_and_branches_are_distinct_and_random_looking() {
    let mut ua = ua();
    let now = Instant::now();
    let mut seen = std::collections::HashSet::new();
    for i in 0..300 {
        dial(
            &mut ua,
            now,
            &CallId(format!("o{i}")),
            "sip:x@127.0.0.1:5999",
        );
        let (sip, _, _) = drain(&mut ua);
        let invite = &sip[0];
        let call_id = invite.call_id().expect("Call-ID");
        let tag = invite.from_tag().expect("From").expect("a tag");
        let branch = invite.branch().expect("a branch");
        let (token, host) = call_id.split_once('@').expect("token@host");
        assert_eq!(host, "127.0.0.1");
        let branch = branch.strip_prefix("z9hG4bK").expect("magic cookie");
        for t in [token, tag.as_str(), branch] {
            assert_eq!(t.len(), 16, "{t}");
            assert!(t.bytes().all(|b| rayo_proto::random::ALPHABET.contains(&b)));
            assert!(seen.insert(t.to_owned()), "{t} drawn twice");
        }
    }
}
