//! The c2s listener against tokio-xmpp's client: SCRAM login over STARTTLS, a wrong password
//! refused, a message between two clients, IQ round trips and disco#info.
//!
//! # Which tokio-xmpp 6.0.0 API is reliable
//!
//! `tokio_xmpp::Client` loses incoming stanzas now and then, whatever the server does. Its
//! background task (`ClientWorker`) reads the connection through
//! `stanzastream::StanzaReceiver`, whose `poll_next` does `try_lock()` on the
//! `tokio::sync::Mutex` it shares with `StanzaSender` and returns `Poll::Pending` *without
//! registering a waker* when the lock is taken (tokio-xmpp 6.0.0,
//! `src/stanzastream/mod.rs`, `impl Stream for StanzaReceiver`). `StanzaSender::send` holds
//! that lock while it enqueues, and `Client::send_stanza` and `Client::send_iq` both go
//! through it. When a stanza arrives while the application is inside one of them, the worker
//! is woken, fails the `try_lock`, parks with no waker, and nothing wakes it again: no later
//! event reaches `Client`'s stream and no `IqResponseToken` resolves (it is woken only when
//! the `Client` is dropped). With a fast server the answer to an IQ arrives while
//! `send_stanza` is still returning, so under load about one run in three hung. The wire
//! showed nothing wrong: the answer was written and flushed by the listener and parsed by
//! tokio-xmpp's stream worker ("passing to frontend via permit") within a millisecond.
//! `Client::split()` has the same flaw (`ClientReceiver::poll_next` also uses `try_lock`),
//! and so does `StanzaStream::split()`.
//!
//! Reliable: `tokio_xmpp::stanzastream::StanzaStream::new_c2s(connector, jid, password,
//! timeouts, queue_depth)`, *not* split, driven from one task: `stream.send(Box::new(stanza))`
//! to send and `stream.next()` (a plain `mpsc::Receiver::poll_recv`) to receive
//! `Event::Stream(StreamEvent::Reset { bound_jid, .. })` (online) and `Event::Stanza(..)`.
//! The application matches IQ answers by id itself, and must answer the server's XEP-0199
//! pings itself (tokio-xmpp does not). `Client` remains fine for a client that only logs in
//! or only receives, as the login tests here do.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use minidom::Element;
use rustls::pki_types::{CertificateDer, ServerName};
use sasl::common::ChannelBinding;
use tokio::io::{AsyncWriteExt, BufStream};
use tokio::net::TcpStream;
use tokio_xmpp::connect::ServerConnector;
use tokio_xmpp::jid::{BareJid, Jid};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::stanzastream::{self, StanzaStream, StreamEvent};
use tokio_xmpp::xmlstream::{initiate_stream, PendingFeaturesRecv, StreamHeader, Timeouts};
use tokio_xmpp::{Client, Event, Stanza};

/// STARTTLS to the test listener, trusting only its certificate.
#[derive(Debug, Clone)]
struct PinnedStartTls {
    addr: SocketAddr,
    cert: CertificateDer<'static>,
    attempts: Arc<AtomicUsize>,
}

impl ServerConnector for PinnedStartTls {
    type Stream = BufStream<tokio_rustls::client::TlsStream<TcpStream>>;

    async fn connect(
        &self,
        jid: &Jid,
        ns: &'static str,
        timeouts: Timeouts,
    ) -> Result<(PendingFeaturesRecv<Self::Stream>, ChannelBinding), tokio_xmpp::Error> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let domain = jid.domain().as_str().to_owned();
        let mut tcp = TcpStream::connect(self.addr).await?;
        tcp.write_all(header(&domain).as_bytes()).await?;
        read_until(&mut tcp, "</stream:features>").await;
        tcp.write_all(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .await?;
        read_until(&mut tcp, "<proceed").await;
        let name = ServerName::try_from(domain.clone())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let tls = tls_connector(&self.cert).connect(name, tcp).await?;
        let stream = initiate_stream(
            BufStream::new(tls),
            ns,
            StreamHeader {
                to: Some(Cow::Owned(domain)),
                from: None,
                id: None,
            },
            timeouts,
        )
        .await?;
        Ok((stream, ChannelBinding::None))
    }
}

fn client(l: &TestListener, user: &str, password: &str) -> Client {
    client_counting(l, user, password, Arc::default())
}

fn client_counting(
    l: &TestListener,
    user: &str,
    password: &str,
    attempts: Arc<AtomicUsize>,
) -> Client {
    let jid = BareJid::new(&format!("{user}@{DOMAIN}")).expect("jid");
    Client::new_with_connector(
        jid,
        password,
        PinnedStartTls {
            addr: l.listener.local_addr(),
            cert: l.cert.clone(),
            attempts,
        },
        Timeouts::tight(),
    )
}

async fn next_event(c: &mut Client) -> Event {
    tokio::time::timeout(Duration::from_secs(15), c.next())
        .await
        .expect("an event within 15 s")
        .expect("client stream open")
}

/// A `StanzaStream` logged in to the test listener (the reliable tokio-xmpp API, see the
/// module documentation); not yet online.
fn stanza_stream(l: &TestListener, user: &str, password: &str) -> StanzaStream {
    let jid = BareJid::new(&format!("{user}@{DOMAIN}")).expect("jid");
    StanzaStream::new_c2s(
        PinnedStartTls {
            addr: l.listener.local_addr(),
            cert: l.cert.clone(),
            attempts: Arc::default(),
        },
        jid.into(),
        password.to_owned(),
        Timeouts::tight(),
        16,
    )
}

/// Waits (15 s) until the stream is bound; returns the bound JID.
async fn stream_online(s: &mut StanzaStream) -> Jid {
    let wait = async {
        loop {
            match s.next().await {
                Some(stanzastream::Event::Stream(StreamEvent::Reset { bound_jid, .. })) => {
                    return bound_jid
                }
                Some(_) => {}
                None => panic!("stanza stream ended before login"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(15), wait)
        .await
        .expect("online within 15 s")
}

/// Sends an IQ get and waits (10 s) for the answer with its id.
async fn stream_iq(s: &mut StanzaStream, to: &Jid, payload: Element) -> Iq {
    static N: AtomicUsize = AtomicUsize::new(0);
    let id = format!("t{}", N.fetch_add(1, Ordering::SeqCst));
    let req = Iq::Get {
        from: None,
        to: Some(to.clone()),
        id: id.clone(),
        payload,
    };
    let _token = s.send(Box::new(Stanza::Iq(req))).await;
    let wait = async {
        loop {
            match s.next().await {
                Some(stanzastream::Event::Stanza(Stanza::Iq(answer))) => {
                    let answered = match &answer {
                        Iq::Result { id: i, .. } | Iq::Error { id: i, .. } => *i == id,
                        _ => false,
                    };
                    if answered {
                        return answer;
                    }
                }
                Some(_) => {}
                None => panic!("stanza stream ended while waiting for {id}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| panic!("no answer to {id} within 10 s"))
}

async fn online(c: &mut Client) -> Jid {
    loop {
        match next_event(c).await {
            Event::Online { bound_jid, .. } => return bound_jid,
            Event::Disconnected(e) => panic!("login failed: {e}"),
            Event::Stanza(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_login_over_starttls() {
    // PLAIN is not offered: the login can only be SCRAM.
    let l = start_listener(|c| c.offer_plain = false).await;
    let fp = l.listener.fingerprint().expect("TLS on").to_owned();
    assert_eq!(fp.len(), 32 * 3 - 1, "SHA-256 as AB:CD:…");
    let mut c = client(&l, "juliet", "r0m30");
    let jid = online(&mut c).await;
    assert_eq!(jid.to_bare().to_string(), format!("juliet@{DOMAIN}"));
    assert!(jid.resource().is_some(), "a resource was bound: {jid}");

    // Stanza exchange goes through `StanzaStream` in `iq_round_trips_and_disco_info`: see the
    // module documentation for why not through `Client`.
    c.send_end().await.expect("clean close");
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_refused() {
    // tokio-xmpp's client does not report authentication failures: it logs them and
    // reconnects. Refusal shows as never getting online while it keeps reconnecting.
    let l = start_listener(|_| {}).await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut c = client_counting(&l, "juliet", "wrong", attempts.clone());
    let waited = tokio::time::timeout(Duration::from_secs(6), async {
        loop {
            if let Some(Event::Online { .. }) = c.next().await {
                return;
            }
        }
    })
    .await;
    assert!(waited.is_err(), "logged in with a wrong password");
    assert!(
        attempts.load(Ordering::SeqCst) >= 2,
        "the client retried after being refused ({} attempts)",
        attempts.load(Ordering::SeqCst)
    );
    // The refusal itself, as a raw client sees it.
    let mut tls = raw_starttls(l.listener.local_addr(), &l.cert).await;
    use base64::Engine as _;
    let bad = base64::engine::general_purpose::STANDARD.encode("\0juliet\0wrong");
    tls.write_all(
        format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{bad}</auth>")
            .as_bytes(),
    )
    .await
    .expect("write");
    let got = read_until(&mut tls, "</failure>").await;
    assert!(got.contains("<not-authorized/>"), "{got}");
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iq_to_an_offline_client_and_to_another_client() {
    let l = start_listener(|_| {}).await;
    let mut a = client(&l, "juliet", "r0m30");
    let mut b = client(&l, "romeo", "jul13t");
    let _ = online(&mut a).await;
    let b_jid = online(&mut b).await;
    let msg: Element = format!(
        "<message xmlns='jabber:client' to='{b_jid}' type='chat'><body>wherefore</body></message>"
    )
    .parse()
    .expect("xml");
    let msg = tokio_xmpp::parsers::message::Message::try_from(msg).expect("message");
    a.send_stanza(Stanza::Message(msg)).await.expect("sent");
    loop {
        if let Event::Stanza(Stanza::Message(m)) = next_event(&mut b).await {
            assert_eq!(
                m.from.map(|f| f.to_bare().to_string()),
                Some(format!("juliet@{DOMAIN}"))
            );
            break;
        }
    }
    let _ = Iq::from_get("x", tokio_xmpp::parsers::ping::Ping);
    l.listener.shutdown();
}

/// IQ round trips, an unknown payload and disco#info through tokio-xmpp's `StanzaStream`:
/// every answer reaches the client. Many rounds, because with `Client` about one answer in a
/// few dozen was lost (see the module documentation).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iq_round_trips_and_disco_info() {
    let l = start_listener(|_| {}).await;
    let mut s = stanza_stream(&l, "juliet", "r0m30");
    let jid = stream_online(&mut s).await;
    assert_eq!(jid.to_bare().to_string(), format!("juliet@{DOMAIN}"));
    let to = Jid::new(DOMAIN).expect("jid");
    for n in 0..25 {
        let echo: Element = format!("<echo xmlns='{TEST_NS}'>{n}</echo>")
            .parse()
            .expect("xml");
        match stream_iq(&mut s, &to, echo).await {
            Iq::Result {
                payload: Some(p), ..
            } => {
                assert!(p.is("echo", TEST_NS), "{p:?}");
                assert_eq!(p.text(), n.to_string());
            }
            other => panic!("echo {n} not answered with its payload: {other:?}"),
        }
    }
    let unknown: Element = "<nonsense xmlns='urn:example:nothing'/>"
        .parse()
        .expect("xml");
    match stream_iq(&mut s, &to, unknown).await {
        Iq::Error { error, .. } => assert_eq!(
            error.defined_condition,
            tokio_xmpp::parsers::stanza_error::DefinedCondition::ServiceUnavailable,
            "{error:?}"
        ),
        other => panic!("an unknown payload was not refused: {other:?}"),
    }
    let query: Element = "<query xmlns='http://jabber.org/protocol/disco#info'/>"
        .parse()
        .expect("xml");
    let Iq::Result {
        payload: Some(info),
        ..
    } = stream_iq(&mut s, &to, query).await
    else {
        panic!("disco#info failed")
    };
    assert!(info.is("query", "http://jabber.org/protocol/disco#info"));
    assert!(info
        .children()
        .any(|f| f.attr("var") == Some("urn:xmpp:rayo:1")));
    s.close().await;
    l.listener.shutdown();
}
