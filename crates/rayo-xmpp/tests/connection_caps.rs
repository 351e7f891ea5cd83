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
