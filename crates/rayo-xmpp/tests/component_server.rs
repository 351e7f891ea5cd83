//! The accepting side of XEP-0114 against this crate's own component client: a
//! [`ComponentListener`] on a free loopback port, and [`ComponentClient`]s serving
//! [`common::Echo`] that connect to it as a Rayo node would connect to a gateway.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use minidom::Element;
use rayo_xmpp::component_accept::AcceptConfig;
use rayo_xmpp::component_client::{ComponentClient, ComponentClientConfig};
use rayo_xmpp::component_server::{ComponentListener, ComponentListenerConfig, LinkEvent};
use tokio::sync::mpsc;

const SECRET: &str = "s3cret";
const WAIT: Duration = Duration::from_secs(5);

async fn listener() -> (ComponentListener, mpsc::Receiver<LinkEvent>) {
    let mut accept = AcceptConfig::new();
    accept.add_component(DOMAIN, SECRET);
    let mut config = ComponentListenerConfig::new(accept);
    config.addr.set_port(0);
    ComponentListener::start(config).await.expect("listener")
}

/// A node connecting to `listener` with `secret`; it retries after `retry`.
fn node(listener: &ComponentListener, secret: &str, retry: Duration) -> ComponentClient {
    let mut config = ComponentClientConfig::new(listener.local_addr(), DOMAIN, secret);
    config.backoff_initial = retry;
    config.backoff_max = retry;
    ComponentClient::start(config, addressing(DOMAIN), Echo)
}

async fn next(events: &mut mpsc::Receiver<LinkEvent>) -> LinkEvent {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("an event in time")
        .expect("the listener is running")
}

/// The next event, which must be `Up`: its id and sender.
async fn up(events: &mut mpsc::Receiver<LinkEvent>) -> (u64, mpsc::Sender<Element>) {
    match next(events).await {
        LinkEvent::Up {
            id,
            domain,
            peer,
            tx,
        } => {
            assert_eq!(domain, DOMAIN);
            assert!(peer.ip().is_loopback());
            (id, tx)
        }
        other => panic!("expected Up, got {other:?}"),
    }
}

fn stanza(s: &str) -> Element {
    s.parse().expect("xml")
}

#[tokio::test]
async fn a_node_links_up_exchanges_stanzas_and_links_down() {
    let (listener, mut events) = listener().await;
    let mut node = node(&listener, SECRET, Duration::from_secs(30));
    let (id, tx) = up(&mut events).await;
    node.wait_connected(WAIT)
        .await
        .expect("the node sees the handshake accepted");

    // Gateway → node: a request the node's handler answers.
    tx.try_send(stanza(&format!(
        "<iq xmlns='jabber:client' type='get' id='e1' from='juliet@gw.test/x' to='{DOMAIN}'>\
         <echo xmlns='{TEST_NS}'>ping</echo></iq>"
    )))
    .expect("queued");
    let LinkEvent::Stanza {
        id: from_link,
        stanza: answer,
    } = next(&mut events).await
    else {
        panic!("expected the answer")
    };
    assert_eq!(from_link, id);
    assert!(answer.is("iq", "jabber:client"));
    assert_eq!(answer.attr("type"), Some("result"));
    assert_eq!(answer.attr("id"), Some("e1"));
    assert_eq!(answer.attr("from"), Some(DOMAIN));
    assert_eq!(
        answer.get_child("echo", TEST_NS).map(Element::text),
        Some("ping".into())
    );

    // Node → gateway, unasked.
    node.send(stanza(&format!(
        "<message xmlns='jabber:client' from='{DOMAIN}' to='juliet@gw.test/x'><body>hi</body></message>"
    )))
    .await
    .expect("sent");
    let LinkEvent::Stanza {
        id: from_link,
        stanza: m,
    } = next(&mut events).await
    else {
        panic!("expected the message")
    };
    assert_eq!(from_link, id);
    assert_eq!(
        m.get_child("body", "jabber:client").map(Element::text),
        Some("hi".into())
    );

    node.shutdown();
    let LinkEvent::Down { id: down } = next(&mut events).await else {
        panic!("expected Down")
    };
    assert_eq!(down, id);
    drop(listener);
}

#[tokio::test]
async fn a_wrong_secret_never_links_up() {
    let (listener, mut events) = listener().await;
    // Retrying every 100 ms: about ten refused handshakes.
    let mut node = node(&listener, "guess", Duration::from_millis(100));
    let got = tokio::time::timeout(Duration::from_secs(1), events.recv()).await;
    assert!(got.is_err(), "no event for a refused node: {got:?}");
    assert!(!node.is_connected());
    assert!(node
        .wait_connected(Duration::from_millis(100))
        .await
        .is_err());
    node.shutdown();
}

#[tokio::test]
async fn a_newer_connection_of_the_domain_replaces_the_older() {
    let (listener, mut events) = listener().await;
    let first = node(&listener, SECRET, Duration::from_secs(30));
    let (one, _tx1) = up(&mut events).await;
    let second = node(&listener, SECRET, Duration::from_secs(30));
    // The older link is down before the newer is up.
    let LinkEvent::Down { id } = next(&mut events).await else {
        panic!("expected the older link down")
    };
    assert_eq!(id, one);
    let (two, tx2) = up(&mut events).await;
    assert_ne!(two, one);
    // The newer link works.
    tx2.try_send(stanza(&format!(
        "<iq xmlns='jabber:client' type='get' id='e2' from='juliet@gw.test/x' to='{DOMAIN}'>\
         <echo xmlns='{TEST_NS}'/></iq>"
    )))
    .expect("queued");
    assert!(matches!(
        next(&mut events).await,
        LinkEvent::Stanza { id, stanza } if id == two && stanza.attr("id") == Some("e2")
    ));
    first.shutdown();
    second.shutdown();
}

#[tokio::test]
async fn dropping_the_sender_ends_the_link_and_shutdown_ends_the_rest() {
    let (listener, mut events) = listener().await;
    let node = node(&listener, SECRET, Duration::from_millis(100));
    let (one, tx) = up(&mut events).await;
    drop(tx);
    assert!(matches!(next(&mut events).await, LinkEvent::Down { id } if id == one));
    // The node reconnects; stopping the listener ends that link too.
    let (two, _tx) = up(&mut events).await;
    listener.shutdown();
    assert!(matches!(next(&mut events).await, LinkEvent::Down { id } if id == two));
    node.shutdown();
}

/// A component speaking the protocol by hand: the handshake, then `n` messages written as
/// fast as the socket takes them.
async fn raw_component(addr: std::net::SocketAddr, n: usize) -> tokio::task::JoinHandle<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(
        format!(
            "<stream:stream xmlns='jabber:component:accept' \
             xmlns:stream='http://etherx.jabber.org/streams' to='{DOMAIN}'>"
        )
        .as_bytes(),
    )
    .await
    .expect("header");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let id = loop {
        let n = tokio::time::timeout(WAIT, tcp.read(&mut buf))
            .await
            .expect("the header in time")
            .expect("read");
        assert!(n > 0, "closed before the header");
        got.extend_from_slice(&buf[..n]);
        let s = String::from_utf8_lossy(&got).into_owned();
        if let Some(rest) = s.split(" id='").nth(1) {
            if let Some(end) = rest.find('\'') {
                break rest[..end].to_owned();
            }
        }
    };
    let digest = rayo_xmpp::component::handshake_digest(&id, SECRET);
    tokio::spawn(async move {
        tcp.write_all(format!("<handshake>{digest}</handshake>").as_bytes())
            .await
            .expect("handshake");
        for i in 0..n {
            let m = format!(
                "<message from='{DOMAIN}' to='juliet@gw.test/x' id='m{i}'><body>{}</body></message>",
                "x".repeat(200)
            );
            if tcp.write_all(m.as_bytes()).await.is_err() {
                return;
            }
        }
        // Keep the stream open until the test is done with it.
        let _ = tcp.read(&mut buf).await;
    })
}

#[tokio::test]
async fn a_consumer_that_falls_behind_slows_the_component_and_loses_nothing() {
    let (listener, mut events) = listener().await;
    // More than the event channel holds, written while nobody reads the events: a listener
    // that dropped events when the channel is full would lose some.
    let total = rayo_xmpp::component_server::EVENT_QUEUE + 6000;
    let writer = raw_component(listener.local_addr(), total).await;
    let (id, _tx) = up(&mut events).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..total {
        match next(&mut events).await {
            LinkEvent::Stanza { id: link, stanza } => {
                assert_eq!(link, id);
                let want = format!("m{i}");
                assert_eq!(
                    stanza.attr("id"),
                    Some(want.as_str()),
                    "in order, none lost"
                );
            }
            other => panic!("expected stanza {i}, got {other:?}"),
        }
    }
    writer.abort();
}

/// Reads what the listener sends on a fresh connection after our header, until it closes.
async fn attempt(addr: std::net::SocketAddr, secret: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let header = format!(
        "<stream:stream xmlns='jabber:component:accept' \
         xmlns:stream='http://etherx.jabber.org/streams' to='{DOMAIN}'>"
    );
    let _ = tcp.write_all(header.as_bytes()).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let mut sent = false;
    loop {
        let n = match tokio::time::timeout(WAIT, tcp.read(&mut buf)).await {
            Ok(Ok(n)) => n,
            Ok(Err(_)) => break,
            Err(_) => panic!("the listener neither answered nor closed"),
        };
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let (false, Some(at)) = (sent, text.find(" id='")) {
            let id: String = text[at + 5..].chars().take_while(|c| *c != '\'').collect();
            let digest = rayo_xmpp::component::handshake_digest(&id, secret);
            let _ = tcp
                .write_all(format!("<handshake>{digest}</handshake>").as_bytes())
                .await;
            sent = true;
        }
        if text.contains("<handshake/>") {
            break;
        }
    }
    String::from_utf8_lossy(&got).to_string()
}

/// Guessing a node's secret is rate-limited per source address: after the allowed failed
/// handshakes, even the right secret is not heard until the rate allows again.
#[tokio::test]
async fn failed_handshakes_from_one_address_are_rate_limited() {
    let mut accept = AcceptConfig::new();
    accept.add_component(DOMAIN, SECRET);
    let mut config = ComponentListenerConfig::new(accept);
    config.addr.set_port(0);
    config.max_failed_handshakes_per_minute = 2;
    let (listener, _events) = ComponentListener::start(config).await.expect("listener");
    let addr = listener.local_addr();
    assert!(
        attempt(addr, SECRET).await.contains("<handshake/>"),
        "the right secret works"
    );
    for _ in 0..2 {
        let refused = attempt(addr, "guess").await;
        assert!(refused.contains("not-authorized"), "{refused}");
    }
    let closed = attempt(addr, SECRET).await;
    assert!(
        closed.is_empty(),
        "closed unread once over the rate: {closed}"
    );
}

/// A burst of pipelined requests both ways of the link: 3 000 echo requests queued at once
/// for the node, each answered, every answer back in the order asked (the node's writer
/// takes its backlog in batches and writes it from its own queue).
#[tokio::test]
async fn a_burst_of_pipelined_requests_is_answered_whole_and_in_order() {
    const N: usize = 3000;
    let (listener, mut events) = listener().await;
    let mut node = node(&listener, SECRET, Duration::from_secs(30));
    let (_, tx) = up(&mut events).await;
    node.wait_connected(WAIT).await.expect("connected");
    let sender = tokio::spawn(async move {
        for i in 0..N {
            tx.send(stanza(&format!(
                "<iq xmlns='jabber:client' type='get' id='b{i}' from='juliet@gw.test/x' \
                 to='{DOMAIN}'><echo xmlns='{TEST_NS}'>{i}</echo></iq>"
            )))
            .await
            .expect("queued");
        }
        tx
    });
    for i in 0..N {
        let LinkEvent::Stanza { stanza: answer, .. } = next(&mut events).await else {
            panic!("expected answer {i}")
        };
        let id = format!("b{i}");
        assert_eq!(answer.attr("id"), Some(id.as_str()), "answer {i}");
        assert_eq!(answer.attr("type"), Some("result"));
    }
    drop(sender.await.expect("sent"));
    node.shutdown();
}
