//! Issue 12 §3: client connections are capped in total and per source address. One over a
//! cap is closed at once, before any stream; the ones under it work, and once the excess
//! ones are gone a client logs in again.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether the listener closed `s` (read returns 0 or reset) within 5 s, having sent nothing.
async fn closed_silently(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// Opens a stream on a new connection and waits for its features (the connection counts).
async fn opened(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(header(DOMAIN).as_bytes()).await.expect("write");
    read_until(&mut s, "</stream:features>").await;
    s
}

/// With `cap` connections open (one of them logged in), one more is closed at once; the
/// logged-in one goes on, and once the others are gone a new client logs in.
async fn check_cap(l: &TestListener, cap: usize) {
    let addr = l.listener.local_addr();
    let mut session = raw_session(addr, &l.cert, "romeo", "jul13t", "held").await;
    let mut others = Vec::new();
    for _ in 1..cap {
        others.push(opened(addr).await);
    }
    let mut extra = TcpStream::connect(addr).await.expect("the kernel accepts");
    // Whatever it writes, the connection over the cap gets no stream.
    let _ = extra.write_all(header(DOMAIN).as_bytes()).await;
    assert!(
        closed_silently(&mut extra).await,
        "the connection over the cap is closed"
    );
    raw_echo(&mut session, "still").await;
    drop(others);
    // The listener sees the closes and gives their places back.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut again = raw_session(addr, &l.cert, "juliet", "r0m30", "again").await;
    raw_echo(&mut again, "after").await;
    raw_echo(&mut session, "too").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_over_the_per_source_cap_is_closed() {
    let l = start_listener_with(|c| c.max_connections_per_source = 3).await;
    check_cap(&l, 3).await;
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_over_the_total_cap_is_closed() {
    let l = start_listener_with(|c| c.max_connections = 2).await;
    check_cap(&l, 2).await;
    l.listener.shutdown();
}

/// A PLAIN login attempt over TLS from `source` (a loopback address); the SASL answer.
async fn plain_attempt(
    l: &TestListener,
    source: std::net::IpAddr,
    user: &str,
    password: &str,
) -> String {
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.bind(std::net::SocketAddr::new(source, 0))
        .expect("bind");
    let tcp = sock
        .connect(l.listener.local_addr())
        .await
        .expect("connect");
    let mut tls = raw_starttls_over(tcp, &l.cert).await;
    raw_plain_auth(&mut tls, user, password).await
}

/// Issue 12 §12: password guessing was neither slowed nor logged. Failed logins are counted
/// per source address over all its connections: beyond the rate even the right password
/// gets `<temporary-auth-failure/>`, while a client at another address logs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_rate_limited_per_source_address() {
    let l = start_listener_with(|c| c.max_failed_logins_per_minute = 3).await;
    let guesser: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
    for guess in ["a", "b", "c"] {
        let got = plain_attempt(&l, guesser, "romeo", guess).await;
        assert!(got.contains("<not-authorized/>"), "{got}");
    }
    let got = plain_attempt(&l, guesser, "romeo", "jul13t").await;
    assert!(got.contains("<temporary-auth-failure/>"), "{got}");
    let other: std::net::IpAddr = "127.0.0.2".parse().expect("ip");
    let got = plain_attempt(&l, other, "romeo", "jul13t").await;
    assert!(got.contains("<success"), "another address logs in: {got}");
    l.listener.shutdown();
}
