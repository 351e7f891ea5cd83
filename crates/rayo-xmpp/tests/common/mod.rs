//! Shared pieces of the integration tests: a handler, a listener on a free loopback port,
//! a tokio-xmpp connector that does STARTTLS against the listener's self-signed
//! certificate, and a raw client for misbehaving on purpose.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use minidom::Element;
use rayo_proto::address::{Addressing, EntityKind};
use rayo_xmpp::c2s::C2sConfig;
use rayo_xmpp::router::{Handled, Handler, Incoming, Outbox};
use rayo_xmpp::scram::Users;
use rayo_xmpp::server::{Listener, ListenerConfig};
use rayo_xmpp::tls::TlsSource;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;

pub mod prosody;

pub const DOMAIN: &str = "rayo.test";
pub const TEST_NS: &str = "urn:test";

/// Echoes `<echo xmlns='urn:test'/>` IQs; answers a presence to the service with a
/// presence from the call `c1` (an event).
pub struct Echo;

impl Handler for Echo {
    fn handle(&mut self, incoming: Incoming, out: &mut Outbox) -> Handled {
        match incoming.stanza.name() {
            "iq" if incoming.payload().is_some_and(|p| p.is("echo", TEST_NS)) => {
                out.send(incoming.result(incoming.payload().cloned()));
                Handled::Yes
            }
            "presence" if incoming.entity.kind() == EntityKind::Service => {
                if incoming.stanza.attr("type").is_none() {
                    let p: Element = format!(
                        "<presence xmlns='jabber:client' from='c1@call.{DOMAIN}' to='{}'><offer xmlns='urn:xmpp:rayo:1' to='tel:+1' from='tel:+2'/></presence>",
                        incoming.from
                    )
                    .parse()
                    .expect("presence");
                    out.send(p);
                }
                Handled::Yes
            }
            _ => Handled::No,
        }
    }
}

pub fn addressing(domain: &str) -> Addressing {
    Addressing::new(domain, Some("call"), Some("mixer")).expect("domains")
}

pub fn users() -> Users {
    let mut u = Users::new();
    u.add_password("juliet", "r0m30").expect("OS randomness");
    u.add_password("romeo", "jul13t").expect("OS randomness");
    u
}

pub struct TestListener {
    pub listener: Listener,
    pub cert: CertificateDer<'static>,
    pub dir: tempdir::Dir,
}

/// Starts a listener on a free loopback port with a freshly generated certificate.
pub async fn start_listener(tune: impl FnOnce(&mut C2sConfig)) -> TestListener {
    start_listener_with(|l| tune(&mut l.c2s)).await
}

/// [`start_listener`], tuning the listener's settings (its caps) too.
pub async fn start_listener_with(tune: impl FnOnce(&mut ListenerConfig)) -> TestListener {
    let dir = tempdir::Dir::new("listener");
    let mut config = ListenerConfig::new(
        0,
        C2sConfig::new(DOMAIN, users()),
        Some(TlsSource::SelfSigned {
            dir: dir.path().to_owned(),
        }),
    );
    tune(&mut config);
    let listener = Listener::start(config, addressing(DOMAIN), Echo)
        .await
        .expect("listener starts");
    let pem = std::fs::read(dir.path().join("cert.pem")).expect("certificate written");
    let cert = rustls::pki_types::pem::PemObject::from_pem_slice(&pem).expect("PEM");
    TestListener {
        listener,
        cert,
        dir,
    }
}

pub fn tls_connector(cert: &CertificateDer<'static>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).expect("certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Reads from `s` until `needle` has been seen; returns everything read.
pub async fn read_until<S: AsyncReadExt + Unpin>(s: &mut S, needle: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            if String::from_utf8_lossy(&got).contains(needle) {
                return;
            }
            let n = s.read(&mut buf).await.expect("read");
            assert!(
                n > 0,
                "closed before {needle:?}; got {}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no {needle:?} within 10 s; got {}",
                String::from_utf8_lossy(&got)
            )
        });
    String::from_utf8_lossy(&got).into_owned()
}

/// Reads until the peer closes; returns everything read.
pub async fn read_to_close<S: AsyncReadExt + Unpin>(s: &mut S) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&got).into_owned()
}

pub fn header(domain: &str) -> String {
    format!("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='{domain}' version='1.0'>")
}

pub type RawTls = tokio_rustls::client::TlsStream<TcpStream>;

/// A hand-driven client after STARTTLS and the restarted stream's features.
pub async fn raw_starttls(addr: SocketAddr, cert: &CertificateDer<'static>) -> RawTls {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    raw_starttls_over(tcp, cert).await
}

/// [`raw_starttls`] over a TCP connection the caller made (with its own socket options).
pub async fn raw_starttls_over(mut tcp: TcpStream, cert: &CertificateDer<'static>) -> RawTls {
    tcp.write_all(header(DOMAIN).as_bytes())
        .await
        .expect("write");
    read_until(&mut tcp, "</stream:features>").await;
    tcp.write_all(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        .await
        .expect("write");
    read_until(&mut tcp, "<proceed").await;
    let name = ServerName::try_from(DOMAIN.to_owned()).expect("name");
    let mut tls = tls_connector(cert)
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    tls.write_all(header(DOMAIN).as_bytes())
        .await
        .expect("write");
    read_until(&mut tls, "</stream:features>").await;
    tls
}

/// A hand-driven client: STARTTLS, PLAIN, bind.
/// Sends a SASL PLAIN `<auth/>` and returns what the server answered, up to its first
/// closing tag.
pub async fn raw_plain_auth(tls: &mut RawTls, user: &str, password: &str) -> String {
    use base64::Engine as _;
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
    tls.write_all(
        format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>")
            .as_bytes(),
    )
    .await
    .expect("write");
    read_until(tls, "</").await
}

pub async fn raw_session(
    addr: SocketAddr,
    cert: &CertificateDer<'static>,
    user: &str,
    password: &str,
    resource: &str,
) -> RawTls {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    raw_session_over(tcp, cert, user, password, resource).await
}

/// [`raw_session`] over a TCP connection the caller made (with its own socket options).
pub async fn raw_session_over(
    tcp: TcpStream,
    cert: &CertificateDer<'static>,
    user: &str,
    password: &str,
    resource: &str,
) -> RawTls {
    let mut tls = raw_starttls_over(tcp, cert).await;
    let answer = raw_plain_auth(&mut tls, user, password).await;
    assert!(answer.contains("<success"), "{answer}");
    tls.write_all(header(DOMAIN).as_bytes())
        .await
        .expect("write");
    read_until(&mut tls, "</stream:features>").await;
    tls.write_all(format!("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{resource}</resource></bind></iq>").as_bytes())
        .await
        .expect("write");
    read_until(&mut tls, "</iq>").await;
    tls
}

/// Sends an echo IQ on an established raw session and waits for the answer.
pub async fn raw_echo(tls: &mut RawTls, id: &str) {
    tls.write_all(
        format!("<iq type='get' id='{id}' to='{DOMAIN}'><echo xmlns='{TEST_NS}'/></iq>").as_bytes(),
    )
    .await
    .expect("write");
    let got = read_until(tls, &format!("id='{id}'")).await;
    assert!(got.contains("type='result'"), "{got}");
}

pub fn buffered(tcp: TcpStream) -> BufStream<TcpStream> {
    BufStream::new(tcp)
}

/// Temporary directories removed on drop (no extra dependency).
pub mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(prefix: &str) -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "rayo-xmpp-{prefix}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(&p).expect("temporary directory");
            Dir(p)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A free TCP port on loopback (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A hand-driven client over plain TCP: PLAIN login, bind, then batches of pipelined IQs.
pub struct PlainClient {
    tcp: TcpStream,
    seq: u64,
}

impl PlainClient {
    /// Logs in to the server at `addr` serving `domain`.
    pub async fn login(addr: SocketAddr, domain: &str, user: &str, password: &str) -> PlainClient {
        use base64::Engine as _;
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        let _ = tcp.set_nodelay(true);
        tcp.write_all(header(domain).as_bytes())
            .await
            .expect("write");
        read_until(&mut tcp, "</stream:features>").await;
        let plain =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        tcp.write_all(
            format!(
                "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
        read_until(&mut tcp, "success").await;
        tcp.write_all(header(domain).as_bytes())
            .await
            .expect("write");
        read_until(&mut tcp, "</stream:features>").await;
        tcp.write_all(
            b"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
        )
        .await
        .expect("write");
        read_until(&mut tcp, "</iq>").await;
        PlainClient { tcp, seq: 0 }
    }

    /// Sends one IQ get with `payload` to `to`; returns the answer as text.
    pub async fn request(&mut self, to: &str, payload: &str) -> String {
        self.seq += 1;
        let id = format!("q{}", self.seq);
        self.tcp
            .write_all(format!("<iq type='get' id='{id}' to='{to}'>{payload}</iq>").as_bytes())
            .await
            .expect("write");
        let mut got = String::new();
        let mut buf = vec![0u8; 64 * 1024];
        let read = async {
            loop {
                if let Some(at) = got.find(&id) {
                    if let Some(end) = got[at..].find("</iq>") {
                        return got[..at + end + 5].to_owned();
                    }
                }
                let k = self.tcp.read(&mut buf).await.expect("read");
                assert!(k > 0, "closed");
                got.push_str(&String::from_utf8_lossy(&buf[..k]));
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .unwrap_or_else(|_| panic!("no answer to {id} within 10 s"))
    }

    /// Sends `n` echo IQs to `to` in one write and waits for all the answers.
    pub async fn round(&mut self, to: &str, n: usize) {
        self.seq += 1;
        let round = self.seq;
        let batch: String = (0..n)
            .map(|i| {
                format!("<iq type='get' id='r{round}n{i}' to='{to}'><echo xmlns='{TEST_NS}'/></iq>")
            })
            .collect();
        self.tcp.write_all(batch.as_bytes()).await.expect("write");
        let last = format!("r{round}n{}", n - 1);
        let mut got = String::new();
        let mut buf = vec![0u8; 64 * 1024];
        let read = async {
            // Answers come back in order: wait for the last one.
            while !got.contains(&last) {
                let k = self.tcp.read(&mut buf).await.expect("read");
                assert!(k > 0, "closed");
                got.push_str(&String::from_utf8_lossy(&buf[..k]));
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .unwrap_or_else(|_| panic!("no answer to {last} within 10 s"));
    }
}
