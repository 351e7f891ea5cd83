//! Issue 12 §13 against the node: an OPTIONS flood over UDP from one source used to grow the
//! node's transaction table without bound. Beyond `[sip] max_transactions_per_source` the
//! flooder gets 503 with `Retry-After`, and a sipp call from another address is offered as
//! usual during the flood.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use rayo_e2e::{next_offer as offer, Sipp, TestNode};
use tokio::net::UdpSocket;

/// OPTIONS sent, in rounds of [`ROUND`] (each round's answers are read before the next is
/// sent, so the socket buffers lose nothing).
const FLOOD: u32 = 3000;
const ROUND: u32 = 100;
const PER_SOURCE: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_options_flood_gets_503_with_retry_after_and_a_call_still_gets_through() {
    let node = TestNode::start(|cfg| {
        cfg.sip.max_transactions_per_source = PER_SOURCE;
        cfg.limits.offer_timeout = 2.0;
    })
    .await;
    let sip = node.node.sip_addr();
    let (_client, mut offers) = node.bot("bot").await;
    // The flooder is 127.0.0.2: another source than sipp's 127.0.0.1.
    let flooder = UdpSocket::bind("127.0.0.2:0")
        .await
        .expect("bind 127.0.0.2");
    let me = flooder.local_addr().expect("local");
    let (mut ok, mut busy) = (0usize, 0usize);
    let mut buf = vec![0u8; 4096];
    for round in 0..FLOOD / ROUND {
        for i in 0..ROUND {
            let n = round * ROUND + i;
            let options = format!(
                "OPTIONS sip:node@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKflood{n}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:flood@{me}>;tag=f{n}\r\nTo: <sip:node@{sip}>\r\n\
                 Call-ID: flood-{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            );
            flooder
                .send_to(options.as_bytes(), sip)
                .await
                .expect("send");
        }
        for _ in 0..ROUND {
            let Ok(Ok((len, _))) =
                tokio::time::timeout(Duration::from_secs(5), flooder.recv_from(&mut buf)).await
            else {
                panic!("an answer to every OPTIONS (round {round})");
            };
            let r = String::from_utf8_lossy(&buf[..len]);
            if r.starts_with("SIP/2.0 200") {
                ok += 1;
            } else if r.starts_with("SIP/2.0 503") {
                assert!(r.contains("\r\nRetry-After: 5\r\n"), "{r}");
                busy += 1;
            } else {
                panic!("{r}");
            }
        }
    }
    assert_eq!(ok, PER_SOURCE, "answered within the limit");
    assert_eq!(busy, FLOOD as usize - PER_SOURCE, "503 beyond it");

    // During the flood's 32 s of state, a caller from 127.0.0.1 is offered (and gets the
    // 503 of an offer nobody takes when it expires).
    let call = Sipp::start("uac_reject_503.xml", Some(sip), "during", &[], None);
    let o = offer(&mut offers).await;
    assert!(o.to.contains("during@"), "called URI: {}", o.to);
    call.passed().await;
}
