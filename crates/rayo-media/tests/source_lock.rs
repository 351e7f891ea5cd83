//! Issue 12 §8 over real loopback sockets: a session talking with its peer, and a foreign
//! socket sending RTP under another SSRC (audio and an RFC 4733 digit) to the same port.
//! The call keeps hearing its peer, hears nothing of the foreign source, reports no digit,
//! and counts what it dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use rayo_media::hub::HubInput;
use rayo_media::latch::{SourceLock, DEFAULT_LATCH_WINDOW};
use rayo_media::stream::{Sender, StreamConfig};
use rayo_media::udp::{Command, Session, SessionEvent};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

const PEER_LEVEL: i16 = 1000;
const FOREIGN_LEVEL: i16 = -3000;

/// Sends `packets` frames of `level` every 20 ms from `sock` to `to` under `ssrc`, with a
/// digit queued every tenth frame when `digits`.
async fn talk(sock: &UdpSocket, to: SocketAddr, ssrc: u32, level: i16, packets: u32, digits: bool) {
    let mut tx = Sender::new(StreamConfig::pcmu(), ssrc, 1, 0);
    let frame = vec![level; 160];
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for i in 0..packets {
        tick.tick().await;
        if digits && i % 10 == 0 {
            tx.send_dtmf('5').expect("negotiated");
        }
        let mut p = Vec::new();
        tx.tick(&frame, &mut p);
        sock.send_to(&p, to).await.expect("sent");
    }
}

fn near(s: i16, level: i16) -> bool {
    (i32::from(s) - i32::from(level)).abs() < 200
}

#[tokio::test]
async fn a_foreign_source_is_neither_heard_nor_its_digits_reported() {
    let peer = UdpSocket::bind("127.0.0.1:0").await.expect("peer");
    let foreign = UdpSocket::bind("127.0.0.1:0").await.expect("foreign");
    let sock = UdpSocket::bind("127.0.0.1:0").await.expect("session");
    let mut s = Session::spawn(
        sock,
        StreamConfig::pcmu(),
        77,
        SourceLock::new(DEFAULT_LATCH_WINDOW),
    )
    .expect("s");
    let local = s.local;
    s.commands
        .try_send(Command::Remote(peer.local_addr().expect("addr")))
        .expect("running");
    // What the call hears, frame by frame, as a joined call hands it to the hub.
    let (htx, mut hrx) = mpsc::channel(1024);
    s.commands
        .try_send(Command::Tap {
            call: "c".into(),
            hub: htx,
        })
        .expect("running");

    // The peer talks for 2 s; the foreign source starts 200 ms in (still inside the latch
    // window) with its own SSRC, audio at another level, and a digit every 200 ms.
    let peer_talks = talk(&peer, local, 1, PEER_LEVEL, 100, false);
    let foreign_talks = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        talk(&foreign, local, 2, FOREIGN_LEVEL, 80, true).await;
    };
    tokio::join!(peer_talks, foreign_talks);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let dropped = s.dropped_packets();
    s.commands.try_send(Command::Stop).expect("running");

    let mut frames = Vec::new();
    while let Ok(h) = hrx.try_recv() {
        if let HubInput::Frame { samples, .. } = h {
            frames.push(samples);
        }
    }
    let heard_peer = frames
        .iter()
        .filter(|f| f.iter().all(|&s| near(s, PEER_LEVEL)))
        .count();
    let heard_foreign = frames
        .iter()
        .filter(|f| f.iter().any(|&s| near(s, FOREIGN_LEVEL)))
        .count();
    assert_eq!(heard_foreign, 0, "foreign audio reached the call");
    // 100 frames sent; the jitter buffer's delay and the edges take a few.
    assert!(
        heard_peer >= 80,
        "the call heard {heard_peer} frames of its peer"
    );

    let mut digits = Vec::new();
    let stats = loop {
        match tokio::time::timeout(Duration::from_secs(2), s.events.recv())
            .await
            .expect("in time")
        {
            Some(SessionEvent::Dtmf(d, src)) => digits.push((d, src)),
            Some(SessionEvent::Stopped {
                sources, received, ..
            }) => break (sources, received),
            Some(_) => {}
            None => panic!("session gone without its counters"),
        }
    };
    assert_eq!(digits, [], "a digit from the foreign source was reported");
    let (sources, received) = stats;
    assert_eq!(sources.foreign_source, 80, "{sources:?}");
    assert_eq!(sources.dropped(), dropped);
    assert_eq!(received.packets, 100, "{received:?}");

    // The session sent back to its peer, not to the foreign source.
    let mut buf = [0u8; 2048];
    let (n, from) = tokio::time::timeout(Duration::from_secs(1), peer.recv_from(&mut buf))
        .await
        .expect("the peer hears the node")
        .expect("recv");
    assert!(n > 12 && from == local);
    let mut none = [0u8; 2048];
    assert!(
        tokio::time::timeout(Duration::from_millis(100), foreign.recv_from(&mut none))
            .await
            .is_err(),
        "the foreign source got the call's audio"
    );
}

#[tokio::test]
async fn a_peer_behind_nat_is_latched_and_answered_where_it_sends_from() {
    // The SDP names an address nobody sends from (the peer's private one behind NAT).
    let sdp: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let nat = UdpSocket::bind("127.0.0.1:0").await.expect("nat");
    let sock = UdpSocket::bind("127.0.0.1:0").await.expect("session");
    let s = Session::spawn(
        sock,
        StreamConfig::pcmu(),
        78,
        SourceLock::new(DEFAULT_LATCH_WINDOW),
    )
    .expect("s");
    s.commands.try_send(Command::Remote(sdp)).expect("running");
    talk(&nat, s.local, 5, PEER_LEVEL, 10, false).await;
    let mut buf = [0u8; 2048];
    let (_, from) = tokio::time::timeout(Duration::from_secs(1), nat.recv_from(&mut buf))
        .await
        .expect("the node answers the latched source")
        .expect("recv");
    assert_eq!(from, s.local);
    // The packets of the probation were dropped, the rest taken.
    assert_eq!(s.dropped_packets(), 2);
    s.commands.try_send(Command::Stop).expect("running");
}
