//! Issue 12 §8 against the node: a stranger on another port sprays every RTP port of the
//! node with RFC 4733 digits (`9`) and audio under its own SSRC while sipp keys `12#`. The
//! bot's input matches `12`: nothing of the stranger reached the call.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use rayo_client::proto::event::{CompleteReason, InputReason};
use rayo_client::Input;
use rayo_e2e::{free_udp_ports, next_offer, Sipp, TestNode};
use rayo_media::stream::{Sender, StreamConfig};
use tokio::net::UdpSocket;

/// The node's RTP ports (even ones are handed out).
const PORTS: u16 = 40;

/// Sends, every 20 ms for `ticks` ticks, a packet under SSRC `0x0bad` to every even port
/// from `first` on: loud audio, and a `9` every 200 ms (telephone-event 96, as sipp offers).
async fn spray(first: u16, ticks: u32) -> u64 {
    let sock = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let cfg = StreamConfig {
        telephone_event: Some(96),
        ..StreamConfig::pcmu()
    };
    let mut streams: Vec<_> = (0..PORTS / 2)
        .map(|i| (first + 2 * i, Sender::new(cfg.clone(), 0x0bad, 1, 0)))
        .collect();
    let loud = [12_000i16; 160];
    let mut every = tokio::time::interval(Duration::from_millis(20));
    let mut sent = 0;
    for tick in 0..ticks {
        every.tick().await;
        for (port, s) in &mut streams {
            if tick % 10 == 0 {
                s.send_dtmf('9').expect("negotiated");
            }
            let mut p = Vec::new();
            s.tick(&loud, &mut p);
            if sock.send_to(&p, ("127.0.0.1", *port)).await.is_ok() {
                sent += 1;
            }
        }
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_spraying_rtp_ports_injects_no_digit() {
    let rtp = free_udp_ports(PORTS);
    let node = TestNode::start(|cfg| {
        cfg.rtp.first_port = rtp;
        cfg.rtp.last_port = rtp + PORTS - 2;
    })
    .await;
    let (_client, mut offers) = node.bot("bot").await;
    // sipp keys 12# 2.5 s after the answer, then waits for the BYE.
    let sip = Some(node.node.sip_addr());
    let sipp = Sipp::start("uac_ivr_dtmf_then_bye.xml", sip, "ivr", &[], None);
    let call = next_offer(&mut offers).await.call;
    call.answer([]).await.expect("answered");
    // The input runs from the answer; the stranger starts once the latch window (2 s) is
    // over, before sipp's first packet, and goes on through sipp's digits.
    let input = call
        .input(Input::digits(2, 2).terminator('#'))
        .await
        .expect("input started");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let sprayed = spray(rtp, 150).await;
    assert!(sprayed > 1000, "{sprayed} packets sprayed");

    let got = input.complete().await.expect("input completes");
    let CompleteReason::Input(InputReason::Match(m)) = &got.reason else {
        panic!("expected a match, got {:?}", got.reason)
    };
    assert!(m.body.contains("<instance>12</instance>"), "{}", m.body);
    call.hangup([]).await.expect("hung up");
    sipp.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}
