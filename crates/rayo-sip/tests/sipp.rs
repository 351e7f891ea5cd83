//! Calls between the node's SIP stack and sipp (Debian package `sip-tester`), on loopback
//! ports chosen per test. Each test starts sipp with a scenario of `tests/sip/`, scripts
//! the engine's side with [`SignalAction`]s and checks what sipp and the node saw. sipp
//! missing is a failure, not a skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use rayo_call::{CallId, RejectCause, SignalAction, SignalEvent};
use rayo_media::stream::DtmfSource;
use rayo_media::udp::{Command as MediaCommand, SessionEvent};
use rayo_peers::{free_udp_ports as free_ports, Sipp, LOOPBACK};
use rayo_proto::generated::rayo::{EndReason, Header};
use rayo_sip::auth::Credentials;
use rayo_sip::driver::{Command, Driver, Event};
use rayo_sip::ua::Config;

async fn node(extra: impl FnOnce(&mut Config)) -> Driver {
    let port = free_ports(1);
    let mut cfg = Config::new(format!("{LOOPBACK}:{port}").parse().expect("addr"));
    let rtp = free_ports(20);
    cfg.rtp_first = rtp;
    cfg.rtp_last = rtp + 18;
    extra(&mut cfg);
    Driver::spawn(cfg).await.expect("node binds")
}

async fn next(d: &mut Driver) -> Event {
    tokio::time::timeout(Duration::from_secs(20), d.events.recv())
        .await
        .expect("an event in time")
        .expect("driver running")
}

/// The next signal event, skipping media reports.
async fn next_signal(d: &mut Driver) -> (CallId, SignalEvent) {
    loop {
        match next(d).await {
            Event::Signal(c, e)
            | Event::Incoming {
                call: c, event: e, ..
            } => return (c, e),
            Event::Media(..) => {}
            Event::ActionFailed(e) | Event::DialFailed { reason: e, .. } => {
                panic!("action failed: {e}")
            }
        }
    }
}

fn act(d: &Driver, a: SignalAction) {
    d.commands
        .try_send(Command::Action(a))
        .expect("driver running");
}

async fn incoming(d: &mut Driver) -> CallId {
    match next_signal(d).await {
        (
            call,
            SignalEvent::Incoming {
                to,
                from,
                headers,
                early_media,
            },
        ) => {
            assert!(to.starts_with("sip:service@127.0.0.1"), "{to}");
            assert!(
                from.as_deref()
                    .is_some_and(|f| f.starts_with("sip:sipp@127.0.0.1")),
                "{from:?}"
            );
            assert!(early_media);
            let names: Vec<_> = headers.iter().map(|h| h.name.as_str()).collect();
            for n in [
                "Via",
                "From",
                "To",
                "Call-ID",
                "CSeq",
                "Contact",
                "Max-Forwards",
                "X-Rayo-Test",
                "Subject",
                "Content-Type",
            ] {
                assert!(names.contains(&n), "header {n} exposed: {names:?}");
            }
            call
        }
        e => panic!("expected an incoming call, got {e:?}"),
    }
}

async fn answer(d: &mut Driver) -> CallId {
    let call = incoming(d).await;
    act(
        d,
        SignalAction::Accept {
            call: call.clone(),
            headers: vec![],
        },
    );
    act(
        d,
        SignalAction::Answer {
            call: call.clone(),
            headers: vec![Header {
                name: "X-Answered-By".into(),
                value: "rayo".into(),
            }],
        },
    );
    call
}

#[tokio::test]
async fn inbound_answered_then_hung_up_by_the_node() {
    let mut d = node(|_| {}).await;
    let sipp = Sipp::start("uac_node_hangs_up.xml", Some(d.local), "service", &[], None);
    let call = answer(&mut d).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    act(
        &d,
        SignalAction::Hangup {
            call,
            headers: vec![],
        },
    );
    sipp.passed().await;
}

#[tokio::test]
async fn inbound_answered_then_hung_up_by_sipp() {
    let mut d = node(|_| {}).await;
    let sipp = Sipp::start("uac_sipp_hangs_up.xml", Some(d.local), "service", &[], None);
    let call = answer(&mut d).await;
    let (c, e) = next_signal(&mut d).await;
    assert_eq!(c, call);
    assert!(
        matches!(&e, SignalEvent::Ended { reason: EndReason::Hungup { platform_code: Some(p) }, headers } if p == "200" && !headers.is_empty()),
        "{e:?}"
    );
    sipp.passed().await;
}

#[tokio::test]
async fn inbound_cancelled_before_answer() {
    let mut d = node(|_| {}).await;
    let sipp = Sipp::start("uac_cancel.xml", Some(d.local), "service", &[], None);
    let call = incoming(&mut d).await;
    act(
        &d,
        SignalAction::Accept {
            call: call.clone(),
            headers: vec![],
        },
    );
    let (c, e) = next_signal(&mut d).await;
    assert_eq!(c, call);
    assert!(
        matches!(&e, SignalEvent::Ended { reason: EndReason::Hungup { platform_code: Some(p) }, .. } if p == "487"),
        "{e:?}"
    );
    sipp.passed().await;
}

#[tokio::test]
async fn inbound_rejected_with_each_cause() {
    for (cause, code) in [
        (RejectCause::Decline, 603),
        (RejectCause::Busy, 486),
        (RejectCause::Error, 500),
        (RejectCause::ServiceUnavailable, 503),
    ] {
        let mut d = node(|_| {}).await;
        let sipp = Sipp::start(
            &format!("uac_reject_{code}.xml"),
            Some(d.local),
            "service",
            &[],
            None,
        );
        let call = incoming(&mut d).await;
        act(
            &d,
            SignalAction::Reject {
                call,
                cause,
                headers: vec![],
            },
        );
        sipp.passed().await;
    }
}

#[tokio::test]
async fn inbound_redirected_with_contact() {
    let mut d = node(|_| {}).await;
    let sipp = Sipp::start("uac_redirect.xml", Some(d.local), "service", &[], None);
    let call = incoming(&mut d).await;
    act(
        &d,
        SignalAction::Redirect {
            call,
            to: "sip:elsewhere@192.0.2.7".into(),
            headers: vec![],
        },
    );
    sipp.passed().await;
}

/// Digits the node reported, by source, until the call's RTP session stopped.
async fn digits_until_end(d: &mut Driver) -> Vec<(char, DtmfSource)> {
    let mut digits = Vec::new();
    loop {
        match next(d).await {
            Event::Media(_, SessionEvent::Dtmf(c, s)) => digits.push((c, s)),
            Event::Media(_, e @ SessionEvent::Stopped { .. }) => {
                eprintln!("{e:?}");
                return digits;
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn rfc4733_digits_from_sipp_arrive_once_each() {
    let mut d = node(|c| c.inband_dtmf = false).await;
    let sipp = Sipp::start("uac_dtmf_rfc4733.xml", Some(d.local), "service", &[], None);
    answer(&mut d).await;
    let digits = digits_until_end(&mut d).await;
    let s: String = digits.iter().map(|(c, _)| *c).collect();
    assert_eq!(s, "12#*9");
    assert!(digits.iter().all(|(_, src)| *src == DtmfSource::Rfc4733));
    sipp.passed().await;
}

#[tokio::test]
async fn inband_digits_streamed_by_sipp_are_detected() {
    // A raw mu-law file of tones (100 ms each, 100 ms apart) for sipp's rtp_stream.
    let dir = std::env::temp_dir().join(format!("rayo-sip-inband-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut pcm = vec![0i16; 1600];
    for digit in "159#".chars() {
        pcm.extend(rayo_media::inband::tone(digit, 800, 5000.0, 0.0));
        pcm.extend(vec![0i16; 800]);
    }
    pcm.extend(vec![0i16; 1600]);
    let ulaw: Vec<u8> = pcm
        .iter()
        .map(|&s| rayo_media::g711::linear_to_ulaw(s))
        .collect();
    std::fs::write(dir.join("tones.ulaw"), ulaw).expect("tone file");

    let mut d = node(|c| c.inband_dtmf = true).await;
    let sipp = Sipp::start(
        "uac_dtmf_inband.xml",
        Some(d.local),
        "service",
        &[],
        Some(&dir),
    );
    answer(&mut d).await;
    let digits = digits_until_end(&mut d).await;
    let s: String = digits.iter().map(|(c, _)| *c).collect();
    assert_eq!(s, "159#");
    assert!(digits.iter().all(|(_, src)| *src == DtmfSource::Inband));
    sipp.passed().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn ten_seconds_of_rtp_reach_sipp_without_gaps() {
    let mut d = node(|c| c.inband_dtmf = false).await;
    let sipp = Sipp::start(
        "uac_rtp_echo.xml",
        Some(d.local),
        "service",
        &["-rtp_echo"],
        None,
    );
    let call = answer(&mut d).await;
    // The session starts sending when answered; sipp echoes every packet back.
    tokio::time::sleep(Duration::from_millis(10_000)).await;
    act(
        &d,
        SignalAction::Hangup {
            call: call.clone(),
            headers: vec![],
        },
    );
    let (sent, received, jitter) = loop {
        if let Event::Media(
            c,
            SessionEvent::Stopped {
                sent,
                received,
                jitter,
                ..
            },
        ) = next(&mut d).await
        {
            assert_eq!(c, call);
            break (sent, received, jitter);
        }
    };
    assert!((499..=501).contains(&sent), "sent {sent} packets in 10 s");
    assert!(
        (sent - 2..=sent).contains(&received.packets),
        "sipp echoed {} of {sent}",
        received.packets
    );
    assert_eq!(
        (
            jitter.lost,
            jitter.late,
            jitter.duplicate,
            received.malformed
        ),
        (0, 0, 0, 0),
        "{jitter:?}"
    );
    sipp.passed().await;
}

#[tokio::test]
async fn outbound_answered() {
    let mut d = node(|_| {}).await;
    let sipp = Sipp::start("uas_answer.xml", None, "service", &[], None);
    let call = CallId("out1".into());
    act(
        &d,
        SignalAction::Dial {
            call: call.clone(),
            to: format!("sip:service@{LOOPBACK}:{}", sipp.port),
            from: Some("sip:rayo@example.com".into()),
            headers: vec![Header {
                name: "X-Dialled-By".into(),
                value: "test".into(),
            }],
        },
    );
    assert!(matches!(next_signal(&mut d).await, (c, SignalEvent::Ringing { .. }) if c == call));
    match next_signal(&mut d).await {
        (c, SignalEvent::Answered { headers }) => {
            assert_eq!(c, call);
            assert!(headers.iter().any(|h| h.name == "Contact"));
        }
        e => panic!("{e:?}"),
    }
    act(
        &d,
        SignalAction::Hangup {
            call,
            headers: vec![],
        },
    );
    sipp.passed().await;
}

#[tokio::test]
async fn outbound_busy() {
    let mut d = node(|_| {}).await;
    let sipp = Sipp::start("uas_busy.xml", None, "service", &[], None);
    let call = CallId("out2".into());
    act(
        &d,
        SignalAction::Dial {
            call: call.clone(),
            to: format!("sip:service@{LOOPBACK}:{}", sipp.port),
            from: None,
            headers: vec![],
        },
    );
    let (c, e) = next_signal(&mut d).await;
    assert_eq!(c, call);
    assert!(
        matches!(&e, SignalEvent::Ended { reason: EndReason::Busy { platform_code: Some(p) }, .. } if p == "486"),
        "{e:?}"
    );
    sipp.passed().await;
}

#[tokio::test]
async fn outbound_never_answered_is_cancelled() {
    let mut d = node(|_| {}).await;
    let sipp = Sipp::start("uas_no_answer.xml", None, "service", &[], None);
    let call = CallId("out3".into());
    act(
        &d,
        SignalAction::Dial {
            call: call.clone(),
            to: format!("sip:service@{LOOPBACK}:{}", sipp.port),
            from: None,
            headers: vec![],
        },
    );
    assert!(matches!(next_signal(&mut d).await, (c, SignalEvent::Ringing { .. }) if c == call));
    // The engine's dial timeout: it cancels (and itself ends the call with `timeout`).
    tokio::time::sleep(Duration::from_millis(300)).await;
    act(&d, SignalAction::Cancel { call });
    sipp.passed().await;
}

#[tokio::test]
async fn outbound_with_digest_authentication() {
    let mut d = node(|c| {
        c.credentials = Some(Credentials {
            username: "rayo".into(),
            password: "s3cret".into(),
        })
    })
    .await;
    let sipp = Sipp::start("uas_auth.xml", None, "service", &[], None);
    let call = CallId("out4".into());
    act(
        &d,
        SignalAction::Dial {
            call: call.clone(),
            to: format!("sip:service@{LOOPBACK}:{}", sipp.port),
            from: None,
            headers: vec![],
        },
    );
    match next_signal(&mut d).await {
        (c, SignalEvent::Answered { .. }) => assert_eq!(c, call),
        e => panic!("{e:?}"),
    }
    act(
        &d,
        SignalAction::Hangup {
            call,
            headers: vec![],
        },
    );
    sipp.passed().await;
}

#[tokio::test]
async fn media_commands_reach_the_session() {
    // Playing audio into a call with no session is ignored, not an error.
    let d = node(|_| {}).await;
    d.commands
        .try_send(Command::Media(
            CallId("none".into()),
            MediaCommand::Dtmf('1'),
        ))
        .expect("running");
    d.commands.try_send(Command::Stop).expect("running");
}

#[tokio::test]
async fn inbound_call_over_tcp() {
    let mut d = node(|_| {}).await;
    let sipp = Sipp::start(
        "uac_sipp_hangs_up.xml",
        Some(d.local),
        "service",
        &["-t", "t1"],
        None,
    );
    let call = answer(&mut d).await;
    let (c, e) = next_signal(&mut d).await;
    assert_eq!(c, call);
    assert!(
        matches!(
            e,
            SignalEvent::Ended {
                reason: EndReason::Hungup { .. },
                ..
            }
        ),
        "{e:?}"
    );
    sipp.passed().await;
}
