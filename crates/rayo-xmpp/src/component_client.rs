//! The tokio driver of the component connections: one XEP-0114 stream per served domain
//! (the service domain and, when configured, its call and mixer subdomains), each
//! reconnecting with [`Backoff`] whenever it drops, and one task owning the [`Router`] in
//! component mode.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use minidom::Element;
use rayo_proto::address::Addressing;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::component::{Backoff, ComponentConfig, ComponentConnection, ComponentEvent};
use crate::router::{Handler, Mode, Routed, Router};
use crate::Error;

/// Settings of the component client.
#[derive(Debug, Clone)]
pub struct ComponentClientConfig {
    /// The server's component port.
    pub server: SocketAddr,
    /// The stream settings (the service domain, the secret).
    pub component: ComponentConfig,
    /// Whether to also connect the call and mixer subdomains of the addressing (each is a
    /// component of its own on the server, with the same secret).
    pub subdomains: bool,
    /// First delay before reconnecting.
    pub backoff_initial: Duration,
    /// Longest delay before reconnecting.
    pub backoff_max: Duration,
}

impl ComponentClientConfig {
    /// Connects to `server` as `domain` with `secret`; reconnects after 0.5 s, backing off to
    /// 30 s. Subdomains are not connected unless [`ComponentClientConfig::subdomains`] is set.
    pub fn new(server: SocketAddr, domain: &str, secret: &str) -> Self {
        ComponentClientConfig {
            server,
            component: ComponentConfig::new(domain, secret),
            subdomains: false,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

enum ToRouter {
    Up(String, mpsc::Sender<Element>),
    Down(String),
    Stanza(Element),
    Inject(Element),
    Presence(Element),
}

/// Running component connections.
#[derive(Debug)]
pub struct ComponentClient {
    tx: mpsc::Sender<ToRouter>,
    connected: watch::Receiver<usize>,
    domains: usize,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ToRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ToRouter")
    }
}

impl ComponentClient {
    /// Starts connecting; serves `addressing` with `handler` whenever connected.
    pub fn start<H: Handler>(
        config: ComponentClientConfig,
        addressing: Addressing,
        handler: H,
    ) -> Self {
        let mut domains = vec![config.component.domain.clone()];
        if config.subdomains {
            for d in [addressing.call_domain(), addressing.mixer_domain()] {
                if !domains.iter().any(|x| x == d.as_str()) {
                    domains.push(d.as_str().to_owned());
                }
            }
        }
        let (tx, rx) = mpsc::channel(4096);
        let (status, connected) = watch::channel(0usize);
        let router = Router::new(addressing, Mode::Component, handler);
        let mut tasks = vec![tokio::spawn(run_router(
            router,
            rx,
            config.component.domain.clone(),
            status,
        ))];
        for domain in &domains {
            let mut c = config.clone();
            c.component.domain = domain.clone();
            tasks.push(tokio::spawn(run_domain(c, tx.clone())));
        }
        ComponentClient {
            tx,
            connected,
            domains: domains.len(),
            tasks,
        }
    }

    /// Whether every domain's stream is up now.
    pub fn is_connected(&self) -> bool {
        *self.connected.borrow() == self.domains
    }

    /// Waits until every domain is connected (or `timeout` passes).
    pub async fn wait_connected(&mut self, timeout: Duration) -> Result<(), Error> {
        let all = self.domains;
        tokio::time::timeout(timeout, self.connected.wait_for(|c| *c == all))
            .await
            .map_err(|_| Error::Closed)?
            .map(|_| ())
            .map_err(|_| Error::Closed)
    }

    /// Waits until no domain is connected (or `timeout` passes).
    pub async fn wait_disconnected(&mut self, timeout: Duration) -> Result<(), Error> {
        tokio::time::timeout(timeout, self.connected.wait_for(|c| *c == 0))
            .await
            .map_err(|_| Error::Closed)?
            .map(|_| ())
            .map_err(|_| Error::Closed)
    }

    /// Routes `stanza` as if the handler had sent it (dropped while its domain is
    /// disconnected).
    pub async fn send(&self, stanza: Element) -> Result<(), Error> {
        self.tx
            .send(ToRouter::Inject(stanza))
            .await
            .map_err(|_| Error::Closed)
    }

    /// Sends the service's own presence now (if connected), and again each time the service
    /// domain's stream comes back up, until another replaces it: whoever it is addressed to
    /// (a gateway, XEP-0349) learns the latest state after either side restarts.
    pub async fn set_presence(&self, presence: Element) -> Result<(), Error> {
        self.tx
            .send(ToRouter::Presence(presence))
            .await
            .map_err(|_| Error::Closed)
    }

    /// Stops every connection.
    pub fn shutdown(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

async fn run_router<H: Handler>(
    mut router: Router<H>,
    mut rx: mpsc::Receiver<ToRouter>,
    service: String,
    status: watch::Sender<usize>,
) {
    let mut up: HashMap<String, mpsc::Sender<Element>> = HashMap::new();
    let mut presence: Option<Element> = None;
    while let Some(msg) = rx.recv().await {
        match msg {
            ToRouter::Up(domain, tx) => {
                let service_up = domain == service;
                up.insert(domain, tx);
                let _ = status.send(up.len());
                if let (true, Some(p)) = (service_up, &presence) {
                    router.send(p.clone(), SystemTime::now());
                }
            }
            ToRouter::Presence(p) => {
                presence = Some(p.clone());
                router.send(p, SystemTime::now());
            }
            ToRouter::Down(domain) => {
                up.remove(&domain);
                let _ = status.send(up.len());
            }
            ToRouter::Stanza(el) => router.handle_stanza(el, SystemTime::now()),
            ToRouter::Inject(el) => router.send(el, SystemTime::now()),
        }
        while let Some(out) = router.poll_output() {
            let Routed::ToServer(el) = out else { continue };
            // A component may only send from its own domain: pick the stream by `from`.
            let from_domain = el
                .attr("from")
                .and_then(|f| jid::Jid::new(f).ok())
                .map(|j| j.domain().as_str().to_owned())
                .unwrap_or_else(|| service.clone());
            let tx = up.get(&from_domain).or_else(|| up.get(&service));
            match tx {
                Some(tx) => {
                    if tx.try_send(el).is_err() {
                        tracing::warn!(domain = %from_domain, "component stream backlogged; stanza dropped");
                    }
                }
                None => tracing::debug!(domain = %from_domain, "not connected; stanza dropped"),
            }
        }
    }
}

async fn run_domain(config: ComponentClientConfig, router: mpsc::Sender<ToRouter>) {
    let domain = config.component.domain.clone();
    let mut backoff = Backoff::new(config.backoff_initial, config.backoff_max);
    loop {
        match TcpStream::connect(config.server).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                let result = session(&config, tcp, &router, &mut backoff).await;
                if router.send(ToRouter::Down(domain.clone())).await.is_err() {
                    return;
                }
                match result {
                    Ok(()) => tracing::info!(%domain, "component stream closed"),
                    Err(e) => tracing::warn!(%domain, error = %e, "component stream failed"),
                }
            }
            Err(e) => {
                tracing::debug!(server = %config.server, error = %e, "component connect failed")
            }
        }
        let delay = backoff.next_delay();
        tracing::debug!(%domain, ?delay, "component reconnecting");
        tokio::time::sleep(delay).await;
    }
}

async fn session(
    config: &ComponentClientConfig,
    tcp: TcpStream,
    router: &mpsc::Sender<ToRouter>,
    backoff: &mut Backoff,
) -> Result<(), Error> {
    let mut conn = ComponentConnection::new(config.component.clone(), Instant::now());
    let (mut rd, mut wr) = tcp.into_split();
    let mut buf = vec![0u8; 64 * 1024];
    let (tx, mut rx) = mpsc::channel::<Element>(4096);
    let mut tx = Some(tx);
    loop {
        while let Some(ev) = conn.poll_event() {
            match ev {
                ComponentEvent::Connected => {
                    tracing::info!(domain = %config.component.domain, "component connected");
                    backoff.reset();
                    if let Some(tx) = tx.take() {
                        let up = ToRouter::Up(config.component.domain.clone(), tx);
                        router.send(up).await.map_err(|_| Error::Closed)?;
                    }
                }
                ComponentEvent::Stanza(el) => {
                    router
                        .send(ToRouter::Stanza(el))
                        .await
                        .map_err(|_| Error::Closed)?;
                }
                ComponentEvent::Closed(reason) => {
                    tracing::info!(?reason, "component stream ended");
                }
            }
        }
        if conn.is_closed() {
            let flush = async {
                while let Some(b) = conn.poll_transmit() {
                    let n = b.len();
                    wr.write_all(b).await?;
                    conn.handle_transmitted(n);
                }
                wr.shutdown().await
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), flush).await;
            return Ok(());
        }
        // Move what the owner queued (up to one channel's worth, so that reading and
        // writing get their turns) into the stream's byte-bounded queue: one stanza per
        // wake-up left a backlog behind a pipelining peer.
        if tx.is_none() {
            for _ in 0..rx.max_capacity() {
                if conn.is_closed() {
                    break;
                }
                match rx.try_recv() {
                    Ok(el) => {
                        conn.send_stanza(&el, Instant::now());
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => return Err(Error::Closed),
                }
            }
        }
        let deadline = conn
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        // Written from the connection's own queue (not a copy of it: the copy, made at each
        // turn of the loop, grew with the backlog).
        let pending = conn.poll_transmit();
        tokio::select! {
            r = rd.read(&mut buf) => {
                let n = r?;
                if n == 0 {
                    return Err(Error::Closed);
                }
                conn.handle_input(&buf[..n], Instant::now());
            }
            w = async { wr.write(pending.unwrap_or_default()).await }, if pending.is_some() => {
                conn.handle_transmitted(w?);
            }
            m = rx.recv(), if tx.is_none() => match m {
                Some(el) => {
                    conn.send_stanza(&el, Instant::now());
                }
                None => return Err(Error::Closed),
            },
            _ = tokio::time::sleep_until(deadline.into()) => conn.handle_timeout(Instant::now()),
        }
    }
}

/// What a [`ComponentLink`] tells its owner.
#[derive(Debug)]
pub enum ComponentLinkEvent {
    /// The stream is up (again): stanzas for the server go through this sender (bounded:
    /// when `try_send` fails the stream is not keeping up).
    Up(mpsc::Sender<Element>),
    /// A stanza from the server, in `jabber:client`.
    Stanza(Element),
    /// The stream dropped; it reconnects with backoff and says [`ComponentLinkEvent::Up`]
    /// again.
    Down,
}

/// One XEP-0114 component stream of one domain to an XMPP server, without a [`Router`]:
/// for a service that routes stanzas itself (the gateway, as a component of the site's
/// server). It reconnects with backoff whenever the stream drops.
#[derive(Debug)]
pub struct ComponentLink {
    tasks: Vec<JoinHandle<()>>,
}

impl ComponentLink {
    /// Starts connecting as `config.component.domain` (subdomains are not connected); the
    /// stream's events arrive on the receiver (bounded: when the owner falls behind, the
    /// stream waits to be read).
    pub fn start(
        config: ComponentClientConfig,
    ) -> (ComponentLink, mpsc::Receiver<ComponentLinkEvent>) {
        let (tx, mut rx) = mpsc::channel(4096);
        let (etx, erx) = mpsc::channel(4096);
        let domain_task = tokio::spawn(run_domain(config, tx));
        let relay = tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                let ev = match msg {
                    ToRouter::Up(_, tx) => ComponentLinkEvent::Up(tx),
                    ToRouter::Down(_) => ComponentLinkEvent::Down,
                    ToRouter::Stanza(el) => ComponentLinkEvent::Stanza(el),
                    ToRouter::Inject(_) | ToRouter::Presence(_) => continue,
                };
                if etx.send(ev).await.is_err() {
                    return;
                }
            }
        });
        (
            ComponentLink {
                tasks: vec![domain_task, relay],
            },
            erx,
        )
    }

    /// Stops the stream.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for ComponentLink {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
