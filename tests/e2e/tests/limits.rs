//! The node's limits against a real SIP peer: sipp calls that nobody answers expire, and one
//! source cannot hold more than its share of calls.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use rayo_client::EndReason;
use rayo_e2e::{end_reason, next_offer as offer, Sipp, TestNode, WAIT};

/// Opens a raw c2s stream to the node and writes `after_header` without reading (the node
/// may close before it is all written); gives whether the write finished within [`WAIT`]
/// and everything the node sent until it closed.
async fn raw_c2s(node: &TestNode, after_header: &str) -> (bool, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(node.node.c2s_addr().expect("c2s"))
        .await
        .expect("connect");
    let bytes = format!(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>\
         {after_header}"
    );
    let written = tokio::time::timeout(WAIT, s.write_all(bytes.as_bytes()))
        .await
        .is_ok();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut got)).await;
    (written, String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_over_its_call_limit_gets_503_with_retry_after_until_its_offers_expire() {
    let node = TestNode::start(|cfg| {
        cfg.limits.max_calls_per_source = 2;
        cfg.limits.offer_timeout = 4.0;
    })
    .await;
    let (_client, mut offers) = node.bot("bot").await;
    let sip = Some(node.node.sip_addr());

    // Two calls from 127.0.0.1 are offered and held: the bot never takes them. Each sipp
    // waits for the 503 the node sends when the offer expires.
    let held1 = Sipp::start("uac_reject_503.xml", sip, "held1", &[], None);
    let mut first = offer(&mut offers).await.call;
    let held2 = Sipp::start("uac_reject_503.xml", sip, "held2", &[], None);
    let mut second = offer(&mut offers).await.call;

    // The third from the same address is refused at once, with Retry-After, and not offered.
    Sipp::start("uac_source_busy_503.xml", sip, "third", &[], None)
        .passed()
        .await;
    let more = tokio::time::timeout(Duration::from_millis(300), offers.next()).await;
    assert!(more.is_err(), "the refused call was offered");

    // The offers expire: the callers get their 503, the bot the end of each offer.
    held1.passed().await;
    held2.passed().await;
    for call in [&mut first, &mut second] {
        let reason = end_reason(call).await;
        assert!(matches!(reason, EndReason::Timeout { .. }), "{reason:?}");
    }

    // The source's places are free again: a new call is offered.
    let again = Sipp::start("uac_reject_503.xml", sip, "again", &[], None);
    let o = offer(&mut offers).await;
    assert!(o.to.contains("again@"), "called URI: {}", o.to);
    again.passed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_flooding_aborts_before_tls_is_cut_off_and_others_still_log_in() {
    let node = TestNode::start(|cfg| {
        if let Some(c) = &mut cfg.c2s {
            c.max_negotiation_elements = 10;
        }
    })
    .await;
    let flood = "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>".repeat(100_000);
    let (written, got) = raw_c2s(&node, &flood).await;
    assert!(written, "the node stopped reading without closing");
    assert!(
        got.contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"),
        "{got}"
    );
    assert_eq!(
        got.matches("<aborted/>").count(),
        10,
        "[c2s] max_negotiation_elements"
    );
    assert!(got.ends_with("</stream:stream>"), "{got}");
    // A well-behaved client still logs in.
    let (_client, _offers) = node.bot("bot").await;
}

/// Issue 12 §1 against the node: an element nested 3 500 levels deep (≈ 25 KB, under the size
/// limit) used to overflow the node's stack and end every call. It ends that stream with
/// `policy-violation`; `[c2s] max_stanza_depth` sets the bound (here 16: a 20-deep element,
/// fine under the default 64, is refused too); a bot still logs in afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deeply_nested_element_ends_its_stream_and_the_node_lives() {
    let node = TestNode::start(|cfg| {
        if let Some(c) = &mut cfg.c2s {
            c.max_stanza_depth = 16;
        }
    })
    .await;
    for depth in [20, 3_500] {
        let deep = format!(
            "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}{}</abort>",
            "<a>".repeat(depth),
            "</a>".repeat(depth)
        );
        let (_, got) = raw_c2s(&node, &deep).await;
        assert!(
            got.contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"),
            "{depth} deep: {got}"
        );
        assert!(got.ends_with("</stream:stream>"), "{got}");
    }
    let (_client, _offers) = node.bot("bot").await;
}

/// Issue 12 §3 against the node: 1 000 SIP TCP connections opened and closed used to stay in
/// CLOSE_WAIT and lock the node out of logins and calls. They are reaped; a c2s connection
/// over `[c2s] max_connections_per_source` is closed at once; a bot then logs in and a call
/// over UDP is offered to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip_tcp_connect_and_close_and_excess_c2s_connections_leave_the_node_serving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    let node = TestNode::start(|cfg| {
        cfg.limits.offer_timeout = 2.0;
        if let Some(c) = &mut cfg.c2s {
            c.max_connections_per_source = 4;
        }
    })
    .await;
    let sip = node.node.sip_addr();
    for _ in 0..1000 {
        drop(TcpStream::connect(sip).await.expect("SIP TCP connect"));
    }
    // Had they been kept, the 33rd would be over `[sip] max_tcp_connections_per_source`:
    // an OPTIONS over TCP is answered.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut tcp = TcpStream::connect(sip).await.expect("SIP TCP connect");
    let me = tcp.local_addr().expect("local");
    let options = format!(
        "OPTIONS sip:node@{sip} SIP/2.0\r\nVia: SIP/2.0/TCP {me};branch=z9hG4bKe2e1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@{me}>;tag=e2e\r\nTo: <sip:node@{sip}>\r\n\
         Call-ID: e2e-options\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    tcp.write_all(options.as_bytes()).await.expect("write");
    let mut answer = [0u8; 16];
    tokio::time::timeout(WAIT, tcp.read_exact(&mut answer))
        .await
        .expect("an answer in time")
        .expect("an answer, not a close");
    assert_eq!(&answer[..], b"SIP/2.0 200 OK\r\n");
    drop(tcp);
    let c2s = node.node.c2s_addr().expect("c2s");
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(c2s).await.expect("connect"));
    }
    let mut extra = TcpStream::connect(c2s).await.expect("the kernel accepts");
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(WAIT, extra.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "the fifth connection from 127.0.0.1 is closed at once: {read:?}"
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_client, mut offers) = node.bot("bot").await;
    let call = Sipp::start("uac_reject_503.xml", Some(sip), "after", &[], None);
    let o = offer(&mut offers).await;
    assert!(o.to.contains("after@"), "called URI: {}", o.to);
    call.passed().await;
}
