//! Issue 12 §8 against the node: a stranger on another port sprays every RTP port of the
//! node with RFC 4733 digits (`9`) and audio under its own SSRC while sipp keys `12#`. The
//! bot's input matches `12`: nothing of the stranger reached the call. And behind NAT (the
//! SDP address never sends), a stranger who sprays first latches, but the caller's RTP, from
//! its SIP address, takes the call back within the latch window.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use rayo_client::proto::event::{CompleteReason, InputReason};
use rayo_client::{Call, Input};
use rayo_e2e::{free_udp_ports, next_offer, Sipp, TestNode};
use rayo_media::stream::{Sender, StreamConfig};
use tokio::net::UdpSocket;

/// The node's RTP ports (even ones are handed out).
const PORTS: u16 = 40;

/// Sends, every 20 ms for `ticks` ticks, a packet under SSRC `0x0bad` to every even port
/// from `first` on: loud audio, and a `9` every 200 ms (telephone-event 96, as sipp offers).
async fn spray(first: u16, ticks: u32) -> u64 {
    spray_from("127.0.0.1:0", first, ticks, 0).await
}

/// [`spray`] from a socket bound to `local`, its digits only from tick `digits_from` on
/// (audio alone before).
async fn spray_from(local: &str, first: u16, ticks: u32, digits_from: u32) -> u64 {
    let sock = UdpSocket::bind(local).await.expect("bind");
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
            if tick >= digits_from && tick % 10 == 0 {
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

/// A node on `PORTS` RTP ports (with this latch window), sipp calling it with `scenario`,
/// the bot answering and starting a two-digit input terminated by `#`.
async fn answered_with_input(
    scenario: &str,
    latch_window: Option<f64>,
) -> (TestNode, rayo_client::Client, Sipp, Call, Input, u16) {
    let rtp = free_udp_ports(PORTS);
    let node = TestNode::start(|cfg| {
        cfg.rtp.first_port = rtp;
        cfg.rtp.last_port = rtp + PORTS - 2;
        if let Some(w) = latch_window {
            cfg.rtp.latch_window = w;
        }
    })
    .await;
    let (client, mut offers) = node.bot("bot").await;
    let sipp = Sipp::start(scenario, Some(node.node.sip_addr()), "ivr", &[], None);
    let call = next_offer(&mut offers).await.call;
    call.answer([]).await.expect("answered");
    let input = call
        .input(Input::digits(2, 2).terminator('#'))
        .await
        .expect("input started");
    (node, client, sipp, call, input, rtp)
}

/// The bot's input matched sipp's `12` (nothing of the stranger's `9`s); the bot hangs up.
async fn matches_12_then_hang_up(input: Input, call: Call, sipp: Sipp, node: TestNode) {
    let got = input.complete().await.expect("input completes");
    let CompleteReason::Input(InputReason::Match(m)) = &got.reason else {
        panic!("expected a match, got {:?}", got.reason)
    };
    assert!(m.body.contains("<instance>12</instance>"), "{}", m.body);
    call.hangup([]).await.expect("hung up");
    sipp.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_spraying_rtp_ports_injects_no_digit() {
    // sipp keys 12# 2.5 s after the answer, then waits for the BYE. The input runs from the
    // answer; the stranger starts once the latch window (2 s) is over, before sipp's first
    // packet, and goes on through sipp's digits.
    let (node, _client, sipp, call, input, rtp) =
        answered_with_input("uac_ivr_dtmf_then_bye.xml", None).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let sprayed = spray(rtp, 150).await;
    assert!(sprayed > 1000, "{sprayed} packets sprayed");

    matches_12_then_hang_up(input, call, sipp, node).await;
}

/// Issue 12 §8, the latch-window race: sipp's SDP names 127.0.0.99 (nothing there: a phone
/// behind NAT), its RTP comes from 127.0.0.1 like its SIP. A stranger from 127.0.0.5 sprays
/// every port with audio from the answer on, so it is latched onto first; sipp's digits,
/// 2.5 s after the answer (inside a 5 s window), take the lock back, and the stranger's own
/// digits, from 4 s on, are dropped: the bot's input matches `12` (with the stranger keeping
/// the lock, it would match `99`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nat_a_stranger_who_latched_first_loses_the_call_to_the_caller() {
    let (node, _client, sipp, call, input, rtp) =
        answered_with_input("uac_dtmf_behind_nat.xml", Some(5.0)).await;
    let sprayed = spray_from("127.0.0.5:0", rtp, 240, 200).await;
    assert!(sprayed > 1000, "{sprayed} packets sprayed");

    matches_12_then_hang_up(input, call, sipp, node).await;
}
