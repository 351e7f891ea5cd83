//! Issue 12 §3: SIP TCP connections that close are reaped, and inbound ones are capped in
//! total and per source address, over real loopback sockets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use rayo_peers::{free_udp_ports, LOOPBACK};
use rayo_sip::driver::Driver;
use rayo_sip::ua::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn node(extra: impl FnOnce(&mut Config)) -> Driver {
    let port = free_udp_ports(1);
    let mut cfg = Config::new(format!("{LOOPBACK}:{port}").parse().expect("addr"));
    let rtp = free_udp_ports(20);
    cfg.rtp_first = rtp;
    cfg.rtp_last = rtp + 18;
    extra(&mut cfg);
    Driver::spawn(cfg).await.expect("node binds")
}

fn options(to: SocketAddr, from: SocketAddr, n: u32) -> String {
    format!(
        "OPTIONS sip:node@{to} SIP/2.0\r\n\
         Via: SIP/2.0/TCP {from};branch=z9hG4bKopt{n}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@{from}>;tag=p{n}\r\n\
         To: <sip:node@{to}>\r\n\
         Call-ID: opt{n}@probe\r\n\
         CSeq: {n} OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// Sends an OPTIONS on `s` and returns the status line of the answer.
async fn ask_options(s: &mut TcpStream, to: SocketAddr, n: u32) -> String {
    let from = s.local_addr().unwrap();
    s.write_all(options(to, from, n).as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(5), async {
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before an answer");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("an answer in time");
    let text = String::from_utf8_lossy(&got);
    text.lines().next().unwrap_or_default().to_string()
}

/// Waits until the driver holds `n` TCP connections.
async fn until_count(d: &Driver, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while d.tcp_connections() != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "driver still holds {} TCP connections, expected {n}",
            d.tcp_connections()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Whether the node closed `s` (read returns 0 or the connection is reset) within 5 s.
async fn closed_by_node(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// One more connection is accepted by the kernel, then closed by the node.
async fn assert_next_is_closed(d: &Driver) {
    let mut extra = TcpStream::connect(d.local)
        .await
        .expect("accepted by the kernel");
    assert!(
        closed_by_node(&mut extra).await,
        "the connection over the cap is closed"
    );
}

#[tokio::test]
async fn a_thousand_connect_and_close_are_reaped_and_sip_still_works() {
    let d = node(|_| {}).await;
    let fds = open_fds();
    for _ in 0..1000 {
        let s = TcpStream::connect(d.local).await.expect("connect");
        drop(s);
    }
    until_count(&d, 0).await;
    // The node's sockets are closed too, not only forgotten (CLOSE_WAIT kept them open);
    // the margin is for the other tests of this binary, which run alongside.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open_fds() > fds + 50 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} file descriptors open, {fds} at the start",
            open_fds()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut s = TcpStream::connect(d.local).await.expect("connect");
    assert_eq!(ask_options(&mut s, d.local, 1).await, "SIP/2.0 200 OK");
    until_count(&d, 1).await;
    drop(s);
    until_count(&d, 0).await;
}

#[tokio::test]
async fn one_connection_over_the_per_source_cap_is_closed_and_the_others_work() {
    let cap = 4;
    let d = node(|c| c.max_tcp_connections_per_source = cap).await;
    let mut conns = Vec::new();
    for _ in 0..cap {
        conns.push(TcpStream::connect(d.local).await.expect("connect"));
    }
    until_count(&d, cap).await;
    assert_next_is_closed(&d).await;
    for (i, s) in conns.iter_mut().enumerate() {
        assert_eq!(
            ask_options(s, d.local, i as u32 + 1).await,
            "SIP/2.0 200 OK"
        );
    }
    // Once one closes, a new one is served.
    drop(conns.pop());
    until_count(&d, cap - 1).await;
    let mut again = TcpStream::connect(d.local).await.expect("connect");
    assert_eq!(ask_options(&mut again, d.local, 99).await, "SIP/2.0 200 OK");
}

#[tokio::test]
async fn one_connection_over_the_total_cap_is_closed() {
    let d = node(|c| c.max_tcp_connections = 2).await;
    let mut a = TcpStream::connect(d.local).await.expect("connect");
    let _b = TcpStream::connect(d.local).await.expect("connect");
    until_count(&d, 2).await;
    assert_next_is_closed(&d).await;
    assert_eq!(ask_options(&mut a, d.local, 1).await, "SIP/2.0 200 OK");
}

/// A TCP listener on `addr` whose accept queue is full (never accepted): connecting to it
/// hangs, as to a host that drops SYNs. Returns what must stay alive.
async fn blackhole(addr: SocketAddr) -> (tokio::net::TcpListener, Vec<TcpStream>) {
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.set_reuseaddr(true).expect("reuseaddr");
    sock.bind(addr).expect("bind the blackhole");
    let listener = sock.listen(1).expect("listen");
    let mut fill = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) =
            tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await
        {
            fill.push(s);
        }
    }
    (listener, fill)
}

/// Issue 12 §16: the driver awaited `TcpStream::connect` inside its loop, so one peer that
/// cannot be reached stalled every call's signalling. A connection is now made in its own
/// task: while it hangs, a UDP request is answered at once.
#[tokio::test]
async fn an_unreachable_tcp_peer_does_not_hold_up_other_signalling() {
    use rayo_sip::driver::{Command, Event};
    let mut d = node(|_| {}).await;
    // A caller over TCP from a known port sends an INVITE, then goes away.
    let port = free_udp_ports(1);
    let caller: SocketAddr = format!("{LOOPBACK}:{port}").parse().expect("addr");
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.set_reuseaddr(true).expect("reuseaddr");
    sock.bind(caller).expect("bind");
    let mut s = sock.connect(d.local).await.expect("connect");
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
    let invite = format!(
        "INVITE sip:svc@{to} SIP/2.0\r\nVia: SIP/2.0/TCP {caller};branch=z9hG4bKbh1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:al@{caller}>;tag=bh\r\nTo: <sip:svc@{to}>\r\n\
         Call-ID: blackhole@probe\r\nCSeq: 1 INVITE\r\nContact: <sip:al@{caller};transport=tcp>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len(),
        to = d.local,
    );
    s.write_all(invite.as_bytes()).await.expect("write");
    let call = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match d.events.recv().await.expect("events") {
                Event::Incoming { call, .. } => return call,
                _ => continue,
            }
        }
    })
    .await
    .expect("the call is offered");
    drop(s);
    until_count(&d, 0).await;
    // Its address now drops connections; the node must answer it over a new one.
    let _hole = blackhole(caller).await;
    d.commands
        .try_send(Command::Action(rayo_call::SignalAction::Reject {
            call,
            cause: rayo_call::RejectCause::Busy,
            headers: vec![],
        }))
        .expect("command");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Meanwhile a UDP peer is served at once.
    let udp = tokio::net::UdpSocket::bind(format!("{LOOPBACK}:0"))
        .await
        .expect("udp");
    let from = udp.local_addr().expect("addr");
    let probe = options(d.local, from, 7).replace("SIP/2.0/TCP", "SIP/2.0/UDP");
    let started = std::time::Instant::now();
    udp.send_to(probe.as_bytes(), d.local).await.expect("send");
    let mut buf = [0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(1), udp.recv_from(&mut buf))
        .await
        .expect("answered while the TCP connect hangs")
        .expect("recv");
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("SIP/2.0 200 OK"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// RFC 3261 §8.1.3.1: a dial whose TCP connection is refused fails at once (a transport
/// error is a 503), not when timer B fires 32 s later.
#[tokio::test]
async fn a_dial_whose_tcp_connection_is_refused_ends_at_once() {
    use rayo_sip::driver::{Command, Event};
    let mut d = node(|c| c.transport = rayo_sip::transaction::Transport::Tcp).await;
    // A port nobody listens on: the connection is refused.
    let port = rayo_peers::free_tcp_port();
    let call = rayo_call::CallId("refused".into());
    d.commands
        .try_send(Command::Action(rayo_call::SignalAction::Dial {
            call: call.clone(),
            to: format!("sip:bob@{LOOPBACK}:{port}"),
            from: None,
            headers: vec![],
        }))
        .expect("command");
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match d.events.recv().await.expect("events") {
                Event::Signal(c, rayo_call::SignalEvent::Ended { reason, .. }) if c == call => {
                    return format!("{reason:?}");
                }
                Event::DialFailed { call: c, reason } if c == call => return reason,
                _ => continue,
            }
        }
    })
    .await
    .expect("the dial ends well before timer B");
    assert!(ended.contains("503") || ended.contains("Error"), "{ended}");
}
