//! Issue 12 §16: RTP port allocation scanned every call and, with the range exhausted,
//! handed out a port in use. Each live call now holds its own port; when none is free an
//! inbound call gets 503 and a dial fails, and an ended call's port is free again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use rayo_call::{CallId, RejectCause, SignalAction, SignalEvent};
use rayo_sip::message::Message;
use rayo_sip::transaction::{Peer, Transport};
use rayo_sip::ua::{Config, Output, UserAgent};

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";

fn invite(n: u32) -> Vec<u8> {
    format!(
        "INVITE sip:svc@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKp{n}\r\nFrom: <sip:al@127.0.0.1:5070>;tag=al{n}\r\nTo: <sip:svc@127.0.0.1:5060>\r\nCall-ID: ports{n}\r\nCSeq: 1 INVITE\r\nContact: <sip:al@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    )
    .into_bytes()
}

/// An INVITE arrives: the statuses sent and the call offered, if any.
fn offer(ua: &mut UserAgent, now: Instant, n: u32) -> (Vec<u16>, Option<CallId>) {
    let peer = Peer {
        addr: "127.0.0.1:5070".parse().expect("addr"),
        transport: Transport::Udp,
    };
    ua.handle_datagram(now, peer, &invite(n));
    let (mut statuses, mut call) = (Vec::new(), None);
    while let Some(o) = ua.poll_output() {
        match o {
            Output::Transmit(t) => {
                let (m, _) = Message::parse(&t.bytes, false).expect("valid SIP");
                statuses.extend(m.status());
            }
            Output::Signal {
                call: c,
                event: SignalEvent::Incoming { .. },
            } => call = Some(c),
            _ => {}
        }
    }
    (statuses, call)
}

/// Answers `call`: the local RTP port its media starts on.
fn answer(ua: &mut UserAgent, now: Instant, call: &CallId) -> u16 {
    ua.handle_action(
        now,
        SignalAction::Answer {
            call: call.clone(),
            headers: vec![],
        },
    )
    .expect("answered");
    std::iter::from_fn(|| ua.poll_output())
        .find_map(|o| match o {
            Output::MediaStart { local, .. } => Some(local.port()),
            _ => None,
        })
        .expect("media starts")
}

#[test]
fn each_call_holds_its_own_port_and_none_free_is_503() {
    let mut cfg = Config::new("127.0.0.1:5060".parse().expect("addr"));
    // Two even ports: 20000 and 20002.
    (cfg.rtp_first, cfg.rtp_last) = (20000, 20003);
    let mut ua = UserAgent::new(cfg);
    let now = Instant::now();
    let (_, a) = offer(&mut ua, now, 1);
    let (_, b) = offer(&mut ua, now, 2);
    let (a, b) = (a.expect("offered"), b.expect("offered"));
    let (pa, pb) = (answer(&mut ua, now, &a), answer(&mut ua, now, &b));
    assert_ne!(pa, pb, "two live calls never share a port");
    assert_eq!(ua.rtp_ports_in_use(), 2);
    // The range is exhausted: a third caller gets 503 and is not offered; a dial fails.
    let (statuses, c) = offer(&mut ua, now, 3);
    assert_eq!(c, None);
    assert!(statuses.contains(&503), "{statuses:?}");
    let dial = ua.handle_action(
        now,
        SignalAction::Dial {
            call: CallId("out1".into()),
            to: "sip:bob@127.0.0.1:5090".into(),
            from: None,
            headers: vec![],
        },
    );
    assert!(matches!(dial, Err(rayo_sip::Error::NoRtpPort)), "{dial:?}");
    // One call ends (the engine hangs it up): its port serves the next caller.
    ua.handle_action(
        now,
        SignalAction::Hangup {
            call: a,
            headers: vec![],
        },
    )
    .expect("hung up");
    while ua.poll_output().is_some() {}
    assert_eq!(ua.rtp_ports_in_use(), 1);
    // A rejected offer gives its port back at once.
    let (_, d) = offer(&mut ua, now, 4);
    assert_eq!(ua.rtp_ports_in_use(), 2);
    ua.handle_action(
        now,
        SignalAction::Reject {
            call: d.expect("offered"),
            cause: RejectCause::Busy,
            headers: vec![],
        },
    )
    .expect("rejected");
    assert_eq!(ua.rtp_ports_in_use(), 1);
    let (_, e) = offer(&mut ua, now, 5);
    assert_eq!(answer(&mut ua, now, &e.expect("offered again")), pa);
    while ua.poll_output().is_some() {}
    assert_eq!(ua.rtp_ports_in_use(), 2);
}

/// Issue 12 §16: a failed RTP bind left the call up with dead media. The driver reports it
/// and the call ends: a BYE to the peer, `Ended` with `error` to the engine.
#[test]
fn a_call_whose_media_cannot_start_ends_with_error() {
    let mut ua = UserAgent::new(Config::new("127.0.0.1:5060".parse().expect("addr")));
    let now = Instant::now();
    let (_, call) = offer(&mut ua, now, 1);
    let call = call.expect("offered");
    answer(&mut ua, now, &call);
    while ua.poll_output().is_some() {}
    ua.media_failed(now, &call);
    let (mut bye, mut ended) = (false, None);
    while let Some(o) = ua.poll_output() {
        match o {
            Output::Transmit(t) => {
                let (m, _) = Message::parse(&t.bytes, false).expect("valid SIP");
                bye |= m.method() == Some(&ezk_sip_types::Method::BYE);
            }
            Output::Signal {
                event: SignalEvent::Ended { reason, .. },
                ..
            } => ended = Some(reason),
            _ => {}
        }
    }
    assert!(bye, "the peer gets a BYE");
    assert!(
        matches!(
            ended,
            Some(rayo_proto::generated::rayo::EndReason::Error { .. })
        ),
        "{ended:?}"
    );
    assert_eq!(ua.rtp_ports_in_use(), 0);
}
