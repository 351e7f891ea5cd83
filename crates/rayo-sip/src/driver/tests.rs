//! The driver's rule for a stalled RTP session (issue 12 §16).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;

/// A session whose command queue is full has stalled: the next command stops it (its
/// queue is closed once the driver drops its sender) and ends the call with an error (a
/// 500 to a call not yet answered), rather than losing the command.
#[test]
fn a_session_that_takes_no_command_is_stopped_and_its_call_ends_with_an_error() {
    let now = Instant::now();
    let mut ua = UserAgent::new(Config::new("127.0.0.1:5060".parse().expect("addr")));
    let caller = Peer {
        addr: "127.0.0.1:5070".parse().expect("addr"),
        transport: Transport::Udp,
    };
    let invite = "INVITE sip:svc@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKs1\r\nFrom: <sip:x@127.0.0.1:5070>;tag=f1\r\nTo: <sip:svc@127.0.0.1:5060>\r\nCall-ID: stalled-1\r\nCSeq: 1 INVITE\r\nContact: <sip:x@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n";
    ua.handle_datagram(now, caller, invite.as_bytes());
    let mut call = None;
    while let Some(o) = ua.poll_output() {
        if let Output::Signal {
            call: c,
            event: SignalEvent::Incoming { .. },
        } = o
        {
            call = Some(c);
        }
    }
    let call = call.expect("the call is offered");

    // A session that reads nothing: its queue fills up.
    let (tx, mut rx) = mpsc::channel(rayo_media::udp::COMMAND_QUEUE);
    let mut sessions = HashMap::from([(call.clone(), tx)]);
    for _ in 0..rayo_media::udp::COMMAND_QUEUE {
        to_session(&mut ua, &mut sessions, &call, MediaCommand::Dtmf('1'));
    }
    assert!(
        sessions.contains_key(&call),
        "a full queue is not yet a stall"
    );
    assert!(ua.poll_output().is_none());

    to_session(&mut ua, &mut sessions, &call, MediaCommand::Dtmf('2'));
    assert!(sessions.is_empty(), "the stalled session is dropped");
    let (mut statuses, mut ended) = (Vec::new(), None);
    while let Some(o) = ua.poll_output() {
        match o {
            Output::Transmit(t) => {
                statuses.extend(Message::parse(&t.bytes, false).expect("SIP").0.status())
            }
            Output::Signal {
                event: SignalEvent::Ended { reason, .. },
                ..
            } => ended = Some(reason),
            _ => {}
        }
    }
    assert_eq!(statuses, [500], "the caller is told");
    assert!(
        matches!(
            ended,
            Some(rayo_proto::generated::rayo::EndReason::Error { .. })
        ),
        "the call ends with an error: {ended:?}"
    );
    // The session drains what it was given, then finds its queue closed: it stops.
    let mut drained = 0;
    while let Ok(m) = rx.try_recv() {
        assert!(matches!(m, MediaCommand::Dtmf('1')), "{m:?}");
        drained += 1;
    }
    assert_eq!(drained, rayo_media::udp::COMMAND_QUEUE);
    assert!(matches!(
        rx.try_recv(),
        Err(mpsc::error::TryRecvError::Disconnected)
    ));
}
