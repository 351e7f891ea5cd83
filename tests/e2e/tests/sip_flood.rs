//! Issue 12 §13 against the node: an OPTIONS flood over UDP used to grow the node's
//! transaction table without bound (and keep it). Beyond `[sip] max_transactions_per_source`
//! a flooder gets 503 with `Retry-After`, beyond `max_transactions` so do floods from many
//! addresses (up to the places reserved for sources the node knows), the node's memory stays
//! bounded, a sipp call from another address is offered as usual during the flood, and while
//! the many addresses fill the table, a caller the node knows still gets in.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use rayo_e2e::{next_offer as offer, Sipp, TestNode};
use tokio::net::UdpSocket;

/// Requests are sent in rounds of this many; each round's answers are read before the next
/// is sent, so the socket buffers lose nothing.
const ROUND: usize = 100;
const PER_SOURCE: usize = 500;
const TOTAL: usize = 5_000;
const RESERVED: usize = 1_000;

/// What the flood got back: 200s and 503s.
#[derive(Debug, Default, PartialEq, Eq)]
struct Answers {
    ok: usize,
    busy: usize,
}

/// Sends `count` OPTIONS to `sip`, taking the sockets in turn; `tag` tells floods apart.
async fn flood(sip: SocketAddr, from: &[UdpSocket], count: usize, tag: &str) -> Answers {
    let mut got = Answers::default();
    let mut buf = vec![0u8; 4096];
    for round in 0..count / ROUND {
        for i in 0..ROUND {
            let n = round * ROUND + i;
            let s = &from[n % from.len()];
            let me = s.local_addr().expect("local");
            let options = format!(
                "OPTIONS sip:node@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{tag}{n}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:flood@{me}>;tag=f{n}\r\nTo: <sip:node@{sip}>\r\n\
                 Call-ID: {tag}-{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            );
            s.send_to(options.as_bytes(), sip).await.expect("send");
        }
        for i in 0..ROUND {
            let s = &from[(round * ROUND + i) % from.len()];
            let Ok(Ok((len, _))) =
                tokio::time::timeout(Duration::from_secs(5), s.recv_from(&mut buf)).await
            else {
                panic!("an answer to every OPTIONS ({tag}, round {round})");
            };
            let r = String::from_utf8_lossy(&buf[..len]);
            if r.starts_with("SIP/2.0 200") {
                got.ok += 1;
            } else if r.starts_with("SIP/2.0 503") {
                assert!(r.contains("\r\nRetry-After: 5\r\n"), "{r}");
                got.busy += 1;
            } else {
                panic!("{r}");
            }
        }
    }
    got
}

/// This process's resident memory (the node runs in it), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    line.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_options_flood_gets_503_with_retry_after_and_a_call_still_gets_through() {
    let node = TestNode::start(|cfg| {
        cfg.sip.max_transactions_per_source = PER_SOURCE;
        cfg.sip.max_transactions = TOTAL;
        cfg.sip.reserved_for_known = Some(RESERVED);
        // This test counts an answer to every request; the rate limit of the 503s (which
        // drops the rest) has its own tests in rayo-sip.
        cfg.sip.max_refusals_per_second = u32::MAX;
        cfg.limits.offer_timeout = 2.0;
    })
    .await;
    let sip = node.node.sip_addr();
    let (_client, mut offers) = node.bot("bot").await;

    // From 127.0.0.2 (another source than sipp's 127.0.0.1): past its own share.
    let one = [UdpSocket::bind("127.0.0.2:0").await.expect("bind")];
    let got = flood(sip, &one, 3_000, "one").await;
    assert_eq!(
        got,
        Answers {
            ok: PER_SOURCE,
            busy: 3_000 - PER_SOURCE
        }
    );
    // Meanwhile, a caller from 127.0.0.1 is offered (and gets the 503 of an offer nobody
    // takes when it expires).
    let call = Sipp::start("uac_reject_503.xml", Some(sip), "during", &[], None);
    let o = offer(&mut offers).await;
    assert!(o.to.contains("during@"), "called URI: {}", o.to);
    call.passed().await;

    // A caller from 127.0.0.3 whose call is answered: its ACK quotes the node's To tag, so
    // the node knows it receives what it is sent.
    let known = ["-i", "127.0.0.3"];
    let call = Sipp::start("uac_sipp_hangs_up.xml", Some(sip), "known", &known, None);
    offer(&mut offers)
        .await
        .call
        .answer([])
        .await
        .expect("answered");
    call.passed().await;

    // From 200 addresses of 127.1.0.0/24, eight times what the node holds: it takes what
    // is left of its total, and its memory grows by what that holds, not with the flood
    // (without the bound, 40 000 transactions took 44 MB here; bounded, 5 MB).
    let mut many = Vec::new();
    for i in 1..=200 {
        many.push(
            UdpSocket::bind(format!("127.1.0.{i}:0"))
                .await
                .expect("bind"),
        );
    }
    let before = rss_kib();
    let got = flood(sip, &many, 40_000, "many").await;
    let grown = rss_kib().saturating_sub(before);
    // Strangers have TOTAL - RESERVED places, the first flood holds PER_SOURCE of them; the
    // three INVITEs' and the BYE's transactions may still hold some.
    let room = TOTAL - RESERVED - PER_SOURCE;
    assert!((room - 4..=room).contains(&got.ok), "{got:?}");
    assert_eq!(got.ok + got.busy, 40_000);
    assert!(grown < 24 * 1024, "the node grew by {grown} KiB");

    // While the flood's state lasts (32 s), a new caller is refused too, with Retry-After;
    // once it is gone, offered again.
    Sipp::start("uac_source_busy_503.xml", Some(sip), "full", &[], None)
        .passed()
        .await;
    // The known caller gets in, from the reserve, while strangers are still refused.
    let call = Sipp::start("uac_reject_503.xml", Some(sip), "again", &known, None);
    let o = offer(&mut offers).await;
    assert!(o.to.contains("again@"), "called URI: {}", o.to);
    call.passed().await;
    Sipp::start("uac_source_busy_503.xml", Some(sip), "still", &[], None)
        .passed()
        .await;
    tokio::time::sleep(Duration::from_secs(33)).await;
    let call = Sipp::start("uac_reject_503.xml", Some(sip), "after", &[], None);
    let o = offer(&mut offers).await;
    assert!(o.to.contains("after@"), "called URI: {}", o.to);
    call.passed().await;
}
