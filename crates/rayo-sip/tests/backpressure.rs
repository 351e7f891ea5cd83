//! Issue 12 §16: the queues between the SIP driver and its owner are bounded both ways, and
//! an owner that stops reading events can still send commands (the driver always takes
//! them): no deadlock, and nothing lost once the owner reads again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use rayo_peers::{free_udp_ports, LOOPBACK};
use rayo_sip::driver::{Command, Driver, Event, COMMAND_QUEUE, EVENT_QUEUE};
use rayo_sip::ua::Config;

#[tokio::test]
async fn an_owner_that_stops_reading_events_can_still_command_and_loses_nothing() {
    let port = free_udp_ports(1);
    let mut cfg = Config::new(format!("{LOOPBACK}:{port}").parse().expect("addr"));
    let rtp = free_udp_ports(4);
    cfg.rtp_first = rtp;
    cfg.rtp_last = rtp + 2;
    let mut d = Driver::spawn(cfg).await.expect("node binds");
    assert_eq!(d.commands.max_capacity(), COMMAND_QUEUE);
    assert_eq!(d.events.max_capacity(), EVENT_QUEUE);

    // Each hangup of a call the driver does not know fails: one event per command. Far more
    // than both queues hold, sent while nobody reads the events.
    let n = EVENT_QUEUE + 2 * COMMAND_QUEUE;
    tokio::time::timeout(Duration::from_secs(30), async {
        for i in 0..n {
            d.commands
                .send(Command::Action(rayo_call::SignalAction::Hangup {
                    call: rayo_call::CallId(format!("nobody-{i}")),
                    headers: vec![],
                }))
                .await
                .expect("driver running");
        }
    })
    .await
    .expect("commands are taken while the events wait");

    // Every failure is reported, none dropped.
    let mut failed = 0;
    while failed < n {
        match tokio::time::timeout(Duration::from_secs(10), d.events.recv()).await {
            Ok(Some(Event::ActionFailed(_))) => failed += 1,
            Ok(Some(other)) => panic!("unexpected event {other:?}"),
            Ok(None) | Err(_) => panic!("{failed} of {n} failures reported"),
        }
    }

    // And the driver serves SIP again.
    let udp = tokio::net::UdpSocket::bind(format!("{LOOPBACK}:0"))
        .await
        .expect("udp");
    let from = udp.local_addr().expect("addr");
    let to = d.local;
    let probe = format!(
        "OPTIONS sip:node@{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {from};branch=z9hG4bKbp1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@{from}>;tag=bp\r\n\
         To: <sip:node@{to}>\r\n\
         Call-ID: bp1@{LOOPBACK}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    );
    udp.send_to(probe.as_bytes(), to).await.expect("send");
    let mut buf = [0u8; 4096];
    let (len, _) = tokio::time::timeout(Duration::from_secs(2), udp.recv_from(&mut buf))
        .await
        .expect("answered")
        .expect("recv");
    assert!(String::from_utf8_lossy(&buf[..len]).starts_with("SIP/2.0 200 OK"));
    d.commands.try_send(Command::Stop).expect("running");
}
