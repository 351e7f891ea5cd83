//! Misbehaving connections end with the right stream error while another connection keeps
//! working: malformed XML, an oversized stanza, a flood, a client that does not read.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use rayo_xmpp::c2s::RateLimit;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

async fn check(l: &TestListener, bad_input: Vec<u8>, condition: &str) {
    let addr = l.listener.local_addr();
    let mut good = raw_session(addr, &l.cert, "romeo", "jul13t", "good").await;
    let mut bad = raw_session(addr, &l.cert, "juliet", "r0m30", "bad").await;
    raw_echo(&mut good, "before").await;
    // The server may close while we are still writing: ignore write errors.
    if let Err(e) = bad.write_all(&bad_input).await {
        eprintln!("write ended: {e}");
    }
    let got = read_to_close(&mut bad).await;
    assert!(
        got.contains(&format!(
            "<stream:error><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
        )),
        "expected <{condition}/>, got {} bytes, {} answers, ending …{}",
        got.len(),
        got.matches("</iq>").count(),
        &got[got.len().saturating_sub(200)..]
    );
    assert!(
        got.ends_with("</stream:stream>"),
        "the stream is closed after the error"
    );
    raw_echo(&mut good, "after").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_xml_gets_not_well_formed() {
    let l = start_listener(|_| {}).await;
    check(
        &l,
        b"<message to='rayo.test'><body>hi</message>".to_vec(),
        "not-well-formed",
    )
    .await;
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_stanza_gets_policy_violation() {
    let l = start_listener(|c| c.max_stanza_size = 8 * 1024).await;
    let big = format!(
        "<message to='rayo.test'><body>{}</body></message>",
        "x".repeat(20_000)
    );
    check(&l, big.into_bytes(), "policy-violation").await;
    l.listener.shutdown();
}

/// Issue 12 §1: a bound client's stanza nested 3 500 levels deep (≈ 25 KB, under the size
/// limit) used to overflow the stack and abort the process. Depth is bounded while parsing:
/// the stream ends with `policy-violation` and the other connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deeply_nested_stanza_gets_policy_violation_and_the_server_lives() {
    let l = start_listener(|c| c.rate_limit = None).await;
    let depth = 3_500;
    let deep = format!(
        "<message to='rayo.test'>{}{}</message>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    assert!(deep.len() < 64 * 1024, "under the default size limit");
    check(&l, deep.into_bytes(), "policy-violation").await;
    // Just inside the bound is still a stanza like any other.
    let addr = l.listener.local_addr();
    let mut ok = raw_session(addr, &l.cert, "juliet", "r0m30", "again").await;
    let nested = rayo_xmpp::xml::DEFAULT_MAX_DEPTH - 2;
    ok.write_all(
        format!(
            "<message to='romeo@rayo.test/good'>{}{}</message>",
            "<a>".repeat(nested),
            "</a>".repeat(nested)
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    raw_echo(&mut ok, "still-bound").await;
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_gets_policy_violation() {
    let l = start_listener(|c| {
        c.rate_limit = Some(RateLimit {
            per_second: 100.0,
            burst: 200.0,
        })
    })
    .await;
    let flood = "<message to='rayo.test'><body>spam</body></message>".repeat(5_000);
    check(&l, flood.into_bytes(), "policy-violation").await;
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_does_not_read_gets_resource_constraint() {
    let l = start_listener(|c| {
        c.rate_limit = None;
        c.max_outbound_bytes = 64 * 1024;
    })
    .await;
    // Each request is answered with 4 KiB; the client sends 4000 of them without reading.
    let payload = "y".repeat(4096);
    let requests: String = (0..4000)
        .map(|i| format!("<iq type='get' id='f{i}' to='rayo.test'><echo xmlns='{TEST_NS}'>{payload}</echo></iq>"))
        .collect();
    check(&l, requests.into_bytes(), "resource-constraint").await;
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_all_answered() {
    use rayo_xmpp::server::{Listener, ListenerConfig};
    let mut c2s = rayo_xmpp::c2s::C2sConfig::new(DOMAIN, users());
    c2s.allow_plain_without_tls = true;
    c2s.rate_limit = None;
    let listener = Listener::start(ListenerConfig::new(0, c2s, None), addressing(DOMAIN), Echo)
        .await
        .expect("listener");
    let mut c = PlainClient::login(listener.local_addr(), DOMAIN, "juliet", "r0m30").await;
    for _ in 0..50 {
        c.round(DOMAIN, 10).await;
    }
    listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_a_taken_resource_closes_the_older_session_with_conflict() {
    let l = start_listener(|_| {}).await;
    let addr = l.listener.local_addr();
    let mut first = raw_session(addr, &l.cert, "juliet", "r0m30", "balcony").await;
    let mut second = raw_session(addr, &l.cert, "juliet", "r0m30", "balcony").await;
    let got = read_to_close(&mut first).await;
    assert!(
        got.contains("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"),
        "{got}"
    );
    raw_echo(&mut second, "still-here").await;
    l.listener.shutdown();
}

const ABORT: &str = "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";

/// A hostile client before TLS: opens a stream and sends 100 000 SASL `<abort/>`s (each
/// elicits a `<failure><aborted/></failure>`) without reading, then reads what it got.
/// Returns that, once the server closed. Meanwhile a logged-in client keeps working, and
/// one more logs in afterwards.
async fn abort_flood(l: &TestListener, tcp: tokio::net::TcpStream) -> String {
    let addr = l.listener.local_addr();
    let mut good = raw_session(addr, &l.cert, "romeo", "jul13t", "good").await;
    let mut bad = tcp;
    let flood = format!("{}{}", header(DOMAIN), ABORT.repeat(100_000));
    let write = tokio::time::timeout(Duration::from_secs(20), bad.write_all(flood.as_bytes()));
    match write.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("write ended: {e}"),
        Err(_) => panic!("the server neither read nor closed: it must be waiting on us"),
    }
    let got = read_to_close(&mut bad).await;
    raw_echo(&mut good, "after").await;
    let mut again = raw_session(addr, &l.cert, "juliet", "r0m30", "again").await;
    raw_echo(&mut again, "again").await;
    got
}

fn assert_policy_violation(got: &str) {
    assert!(
        got.contains(
            "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
        ),
        "expected <policy-violation/>, got {} bytes, {} failures, ending …{}",
        got.len(),
        got.matches("<aborted/>").count(),
        &got[got.len().saturating_sub(200)..]
    );
    assert!(got.ends_with("</stream:stream>"), "closed after the error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborts_before_tls_end_with_policy_violation_after_the_negotiation_limit() {
    let l = start_listener(|_| {}).await;
    let tcp = tokio::net::TcpStream::connect(l.listener.local_addr())
        .await
        .expect("connect");
    let got = abort_flood(&l, tcp).await;
    assert_policy_violation(&got);
    // max_negotiation_elements = 32 by default: no more are answered.
    assert_eq!(got.matches("<aborted/>").count(), 32);
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborts_before_tls_from_a_client_that_never_reads_hit_the_queue_bound() {
    // Only the byte bound stops this one: the replies (5 MB) queue up until it is reached.
    let l = start_listener(|c| {
        c.max_negotiation_elements = u32::MAX;
        c.max_negotiation_queued_bytes = 8 * 1024;
    })
    .await;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let tcp = socket
        .connect(l.listener.local_addr())
        .await
        .expect("connect");
    let got = abort_flood(&l, tcp).await;
    assert_policy_violation(&got);
    let answered = got.matches("<aborted/>").count();
    assert!(
        answered < 50_000,
        "{answered} of 100 000 answered: the server stopped queueing"
    );
    l.listener.shutdown();
}
