//! The listener's timers and its bound on what it queues for a client, seen from real
//! sockets: a silent client gets whitespace keepalives, then a XEP-0199 ping, and is
//! disconnected with `<connection-timeout/>` if it does not answer; a client that answers
//! stays; a client that never reads while stanzas are routed to it is dropped with
//! `<resource-constraint/>` instead of being buffered for without end, while another
//! connection keeps working; a client that pipelines thousands of requests and reads the
//! answers is not taken for a slow one.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

const STREAM_ERR: &str = "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>";
const PING: &str = "<ping xmlns='urn:xmpp:ping'/>";

/// Short timers: a keepalive after 100 ms without output, a ping after 1.5 s without input,
/// 800 ms to answer it.
async fn quick_timers() -> TestListener {
    start_listener(|c| {
        c.keepalive_interval = Duration::from_millis(100);
        c.ping_interval = Duration::from_millis(1500);
        c.ping_timeout = Duration::from_millis(800);
    })
    .await
}

/// The value of attribute `name` in the first tag of `xml`.
fn attr<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let tag = &xml[..xml.find('>')?];
    let at = tag.find(&format!(" {name}='"))? + name.len() + 3;
    let len = tag[at..].find('\'')?;
    Some(&tag[at..at + len])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_client_gets_keepalives_then_a_ping_then_connection_timeout() {
    let l = quick_timers().await;
    let mut idle = raw_session(l.listener.local_addr(), &l.cert, "juliet", "r0m30", "idle").await;
    // Say nothing; read everything the server sends until it closes.
    let got = read_to_close(&mut idle).await;

    let iq_at = got
        .find("<iq")
        .unwrap_or_else(|| panic!("no ping before the close: {got:?}"));
    let before = &got[..iq_at];
    assert!(
        !before.is_empty() && before.bytes().all(|b| b == b' '),
        "whitespace keepalives (and nothing else) come before the ping: {before:?}"
    );
    let ping = &got[iq_at..];
    let end = ping.find("</iq>").expect("the ping IQ is complete") + "</iq>".len();
    let ping = &ping[..end];
    assert!(ping.contains(PING), "{ping}");
    assert_eq!(attr(ping, "type"), Some("get"), "{ping}");
    assert_eq!(attr(ping, "from"), Some(DOMAIN), "{ping}");
    assert_eq!(
        attr(ping, "to"),
        Some(format!("juliet@{DOMAIN}/idle").as_str()),
        "{ping}"
    );
    assert!(attr(ping, "id").is_some_and(|id| !id.is_empty()), "{ping}");

    let after = &got[iq_at + end..];
    let error = format!("<stream:error><connection-timeout {STREAM_ERR}");
    assert!(
        after.contains(&error),
        "unanswered ping ends the stream with <connection-timeout/>: {after:?}"
    );
    assert!(got.ends_with("</stream:stream>"), "{got:?}");
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_answering_pings_stays_connected() {
    let l = quick_timers().await;
    let mut c = raw_session(l.listener.local_addr(), &l.cert, "juliet", "r0m30", "awake").await;
    let mut ids = Vec::new();
    // Two pings in a row, each answered: the second comes a ping interval after the first
    // answer, later than the first ping's deadline, so the answer is what kept the stream.
    for _ in 0..2 {
        let got = read_until(&mut c, &format!("{PING}</iq>")).await;
        assert!(!got.contains("<stream:error>"), "{got:?}");
        let iq = &got[got.rfind("<iq").expect("ping IQ")..];
        let id = attr(iq, "id").expect("ping id").to_owned();
        c.write_all(format!("<iq type='result' id='{id}' to='{DOMAIN}'/>").as_bytes())
            .await
            .expect("write");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1], "each ping has its own id");
    // Still served.
    raw_echo(&mut c, "still-here").await;
    l.listener.shutdown();
}

/// The most bytes the kernel may hold for one loopback connection between the server's
/// socket and the client's: the server's largest send buffer (Linux `tcp_wmem`, 4 MiB by
/// default) plus the client's receive buffer as set below (doubled by the kernel).
fn kernel_slack(client_rcvbuf: u32) -> usize {
    let wmem_max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2).and_then(|v| v.parse().ok()))
        .unwrap_or(16 * 1024 * 1024);
    wmem_max + 2 * client_rcvbuf as usize
}

/// What the sender's reading task saw.
enum Seen {
    /// The answer to the echo IQ that closes batch `n`.
    Sync(usize),
    /// The first `<service-unavailable/>` for a request to the slow client, with what came
    /// before it.
    Bounce(String),
    /// The sender's stream ended, with its last bytes.
    Ended(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_never_reads_routed_stanzas_is_dropped_and_the_queue_stays_bounded() {
    // Per connection: room for a batch of bounces (16 × 4 KiB) to the sender.
    const MAX_OUTBOUND: usize = 256 * 1024;
    const RCVBUF: u32 = 4096;
    const BATCH: usize = 16;
    let l = start_listener(|c| {
        c.rate_limit = None;
        c.max_outbound_bytes = MAX_OUTBOUND;
    })
    .await;
    let addr = l.listener.local_addr();

    // The slow client: a small receive buffer, and it never reads after binding.
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(RCVBUF).expect("SO_RCVBUF");
    let tcp = socket.connect(addr).await.expect("connect");
    let mut slow = Some(raw_session_over(tcp, &l.cert, "juliet", "r0m30", "slow").await);

    // Another client sends it IQ requests of 4 KiB each, in batches closed by an echo IQ to
    // the service: the echo's answer means the whole batch has been routed. It reads its own
    // input all along (a task) so that it does not become a slow reader itself.
    let sender = raw_session(addr, &l.cert, "romeo", "jul13t", "sender").await;
    let (mut rd, mut wr) = tokio::io::split(sender);
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<Seen>();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut window = String::new();
        let mut bounced = false;
        loop {
            let n = match rd.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = seen_tx.send(Seen::Ended(window));
                    return;
                }
                Ok(n) => n,
            };
            window.push_str(&String::from_utf8_lossy(&buf[..n]));
            if !bounced {
                if let Some(at) = window.find("<service-unavailable") {
                    bounced = true;
                    let _ = seen_tx.send(Seen::Bounce(window[..at].to_owned()));
                }
            }
            while let Some(at) = window.find("id='sync") {
                let rest = &window[at + "id='sync".len()..];
                let Some(end) = rest.find('\'') else { break };
                if let Ok(n) = rest[..end].parse() {
                    let _ = seen_tx.send(Seen::Sync(n));
                }
                let cut = at + "id='sync".len() + end;
                window.drain(..cut);
            }
            // Keep only a tail, enough to find a marker cut in two.
            if window.len() > 4096 {
                let cut = (window.len() - 1024..window.len())
                    .find(|i| window.is_char_boundary(*i))
                    .unwrap_or(0);
                window.drain(..cut);
            }
        }
    });

    let body = "y".repeat(4096);
    let slack = kernel_slack(RCVBUF);
    // The queue, a stanza partly written when it overflowed, what rustls buffers, and the
    // kernel: what can reach the slow client at most.
    let bound = MAX_OUTBOUND + 64 * 1024 + 64 * 1024 + slack;
    let mut sent = 0usize;
    let mut sent_bytes = 0usize;
    let mut bounced_at = None;
    let mut reading = None;
    let mut batch_no = 0usize;
    // Until the server drops the slow client, and then on until twice the bound has been
    // routed to it (giving up at eight times it).
    while (bounced_at.is_none() || sent_bytes < 2 * bound) && sent_bytes < 8 * bound {
        batch_no += 1;
        let mut batch: String = (sent..sent + BATCH)
            .map(|i| {
                format!(
                    "<iq type='get' id='f{i}' to='juliet@{DOMAIN}/slow'><blob xmlns='{TEST_NS}'>{body}</blob></iq>"
                )
            })
            .collect();
        sent += BATCH;
        sent_bytes += batch.len();
        batch.push_str(&format!(
            "<iq type='get' id='sync{batch_no}' to='{DOMAIN}'><echo xmlns='{TEST_NS}'/></iq>"
        ));
        wr.write_all(batch.as_bytes()).await.expect("write");
        loop {
            let seen = tokio::time::timeout(Duration::from_secs(10), seen_rx.recv())
                .await
                .unwrap_or_else(|_| panic!("batch {batch_no} not routed within 10 s"))
                .expect("reader alive");
            match seen {
                Seen::Sync(n) if n == batch_no => break,
                Seen::Sync(_) => {}
                Seen::Bounce(before) => {
                    assert!(
                        !before.contains("<stream:error"),
                        "the sender is not the one dropped: {before:?}"
                    );
                    bounced_at = Some(sent);
                    // The server gave the slow client up: it now has a moment to read the
                    // stream error behind what the kernel already holds for it.
                    let mut slow = slow.take().expect("the slow client, once");
                    reading = Some(tokio::spawn(async move { read_to_close(&mut slow).await }));
                }
                Seen::Ended(end) => panic!("the sender's stream ended: …{end}"),
            }
        }
    }
    let bounced_at = bounced_at.unwrap_or_else(|| {
        panic!("after {sent} requests ({sent_bytes} bytes) the slow client was never dropped")
    });

    // The other connection kept working all along (every batch's echo was answered), and
    // still does.
    wr.write_all(
        format!("<iq type='get' id='sync0' to='{DOMAIN}'><echo xmlns='{TEST_NS}'/></iq>")
            .as_bytes(),
    )
    .await
    .expect("write");
    loop {
        let seen = tokio::time::timeout(Duration::from_secs(10), seen_rx.recv())
            .await
            .expect("echo answered within 10 s")
            .expect("reader alive");
        match seen {
            Seen::Sync(0) => break,
            Seen::Ended(end) => panic!("the sender's stream ended: …{end}"),
            _ => {}
        }
    }

    let got = reading
        .expect("slow reader started")
        .await
        .expect("slow reader");
    let error = format!("<stream:error><resource-constraint {STREAM_ERR}");
    assert!(
        got.contains(&error),
        "the slow client is told <resource-constraint/>; got {} bytes ending …{}",
        got.len(),
        &got[got.len().saturating_sub(300)..]
    );
    assert!(got.ends_with("</stream:stream>"), "the stream is closed");
    // What reached it is bounded by the queue and the buffers under it, not by what was
    // routed to it: every request after the drop was refused instead of queued.
    let received = got.matches("<iq ").count();
    assert!(
        got.len() <= bound && bound < sent_bytes,
        "{} bytes reached the slow client of {sent_bytes} routed to it; the queue \
         ({MAX_OUTBOUND}), TLS and the kernel's buffers ({slack}) hold {bound}",
        got.len()
    );
    assert!(
        received < bounced_at && bounced_at < sent,
        "received {received} of {sent} requests, dropped after {bounced_at}"
    );
    drop(wr);
    reader.abort();
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_pipelining_while_reading_gets_every_answer() {
    // Thousands of requests in one go, answers read as they come. Their answers (about
    // 100 bytes each) stay far below the 1 MiB the server queues for a client, so however
    // the work is scheduled the client never counts as a slow reader. (Taking one routed
    // stanza per wake-up of the connection's task used to drop it after about 1024.)
    const N: usize = 4000;
    let l = start_listener(|c| c.rate_limit = None).await;
    let c = raw_session(l.listener.local_addr(), &l.cert, "juliet", "r0m30", "burst").await;
    let (mut rd, mut wr) = tokio::io::split(c);
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut tail = String::new();
        let mut answers = 0usize;
        while answers < N {
            let n = match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return (answers, tail),
                Ok(n) => n,
            };
            tail.push_str(&String::from_utf8_lossy(&buf[..n]));
            // Count each answer once: drop the text up to the last one counted, and keep
            // a short tail, enough for a marker cut in two and to say how the stream ended.
            if let Some(last) = tail.rfind("type='result'") {
                answers += tail.matches("type='result'").count();
                tail.drain(..last + "type='result'".len());
            }
            if tail.len() > 400 {
                let cut = (tail.len() - 400..tail.len())
                    .find(|i| tail.is_char_boundary(*i))
                    .unwrap_or(0);
                tail.drain(..cut);
            }
        }
        (answers, tail)
    });
    let requests: String = (0..N)
        .map(|i| format!("<iq type='get' id='p{i}' to='{DOMAIN}'><echo xmlns='{TEST_NS}'/></iq>"))
        .collect();
    wr.write_all(requests.as_bytes()).await.expect("write");
    let (answers, tail) = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("answers within 60 s")
        .expect("reader");
    assert_eq!(
        answers, N,
        "answers read before the stream ended; last: {tail:?}"
    );
    l.listener.shutdown();
}
