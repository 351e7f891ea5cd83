//! The gateway's async driver: starts the transports the configuration names, and one task
//! owning the sans-IO [`rayo_cluster::Gateway`] that everything they receive goes to. It
//! takes no routing decision of its own: it numbers links, moves stanzas, and wakes the core
//! when it asks.
//!
//! Links: each bot's c2s session is one external link ([`Peer::Session`], its bound JID);
//! the external component stream is one shared external link ([`Peer::Any`]); each node on
//! the node listener is one internal link ([`Peer::Domain`], the domain its secret
//! authenticated); the internal component stream is one shared internal link.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jid::Jid;
use minidom::Element;
use rayo_cluster::{Gateway, Input, LinkId, Output, Peer, Side, Store};
use rayo_xmpp::c2s::{C2sConfig, RateLimit};
use rayo_xmpp::component_accept::AcceptConfig;
use rayo_xmpp::component_client::{ComponentClientConfig, ComponentLink, ComponentLinkEvent};
use rayo_xmpp::component_server::{ComponentListener, ComponentListenerConfig, LinkEvent};
use rayo_xmpp::scram::Users;
use rayo_xmpp::server::{ListenerConfig, SessionEvent, SessionListener, ToSession};
use rayo_xmpp::tls::TlsSource;
use tokio::sync::{mpsc, watch};

use crate::config::{Config, ConfigError};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot be used.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// A transport could not start (port in use, certificate, …).
    #[error("{0}")]
    Xmpp(#[from] rayo_xmpp::Error),
    /// The OS gave no randomness (for the users' salts).
    #[error("{0}")]
    Random(#[from] rayo_proto::random::RandomError),
}

/// Link ids of the node listener's connections start here (c2s sessions count from 1).
const NODE_LINKS: u64 = 1 << 40;
/// The external component stream's link.
const EXTERNAL_COMPONENT: LinkId = LinkId(1 << 50);
/// The internal component stream's link.
const INTERNAL_COMPONENT: LinkId = LinkId((1 << 50) + 1);

enum Control {
    Drain(Duration),
    Nodes(tokio::sync::oneshot::Sender<Vec<NodeView>>),
}

/// One node as the gateway sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// Its domain.
    pub domain: String,
    /// What it said (or failed).
    pub status: rayo_cluster::store::NodeStatus,
    /// Whether it takes dials and new offers now.
    pub in_rotation: bool,
    /// The calls it holds.
    pub calls: usize,
}

/// A running gateway.
pub struct Running {
    c2s_addr: Option<SocketAddr>,
    fingerprint: Option<String>,
    node_addr: Option<SocketAddr>,
    control: mpsc::Sender<Control>,
    stopped: watch::Receiver<bool>,
    drain_time: Duration,
    sessions: Option<SessionListener>,
    nodes: Option<ComponentListener>,
    components: Vec<ComponentLink>,
    routing: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    /// Dropped without [`Running::shutdown`], the gateway stops at once, as if killed: every
    /// link drops, nothing is drained (nodes keep their calls).
    fn drop(&mut self) {
        if let Some(r) = self.routing.take() {
            r.abort();
        }
        if let Some(s) = self.sessions.take() {
            s.shutdown();
        }
        if let Some(n) = self.nodes.take() {
            n.shutdown();
        }
        self.components.clear();
    }
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("c2s_addr", &self.c2s_addr)
            .field("node_addr", &self.node_addr)
            .finish_non_exhaustive()
    }
}

fn users(cfg: &Config) -> Result<Users, Error> {
    let mut users = Users::new();
    for u in &cfg.users {
        users.add_password(&u.name, &u.password)?;
    }
    Ok(users)
}

/// Where a link's stanzas go.
enum Tx {
    Session(mpsc::Sender<ToSession>),
    Stanza(mpsc::Sender<Element>),
}

impl Running {
    /// Starts the transports and the routing task.
    pub async fn start(cfg: Config) -> Result<Running, Error> {
        cfg.check()?;
        let routing = cfg.routing()?;
        let external = routing.domains.external().to_string();
        let internal = routing.domains.internal().to_string();

        let mut sessions = None;
        let mut session_rx = None;
        if let Some(c) = &cfg.c2s {
            let mut c2s = C2sConfig::new(&external, users(&cfg)?);
            c2s.allow_plain_without_tls = c.allow_plain_without_tls;
            c2s.max_stanza_size = c.max_stanza_size;
            c2s.rate_limit = Some(RateLimit {
                per_second: c.max_stanzas_per_second,
                burst: c.max_stanzas_per_second * 2.0,
            });
            let tls = TlsSource::files_or_self_signed(
                c.cert.as_ref(),
                c.key.as_ref(),
                &c.self_signed_dir,
            );
            let lcfg = ListenerConfig {
                addr: c.listen,
                c2s,
                tls: Some(tls),
                connection_queue: 4096,
                max_connections: c.max_connections,
                max_connections_per_source: c.max_connections_per_source,
                max_failed_logins_per_minute: c.max_failed_logins_per_minute,
            };
            let (l, rx) = SessionListener::start(lcfg).await?;
            tracing::info!(addr = %l.local_addr(), domain = %external, "clients: c2s listening");
            sessions = Some(l);
            session_rx = Some(rx);
        }

        let mut nodes = None;
        let mut node_rx = None;
        if let Some(n) = &cfg.node_listener {
            let mut accept = AcceptConfig::new();
            for (domain, secret) in cfg.node_secrets() {
                accept.add_component(&domain, &secret);
            }
            accept.max_stanza_size = 1024 * 1024;
            let lcfg = ComponentListenerConfig {
                addr: n.listen,
                max_failed_handshakes_per_minute: n.max_failed_handshakes_per_minute,
                ..ComponentListenerConfig::new(accept)
            };
            let (l, rx) = ComponentListener::start(lcfg).await?;
            tracing::info!(addr = %l.local_addr(), domain = %internal, "nodes: component listener");
            nodes = Some(l);
            node_rx = Some(rx);
        }

        let mut components = Vec::new();
        let mut ext_rx = None;
        if let Some(c) = &cfg.external_component {
            let (link, rx) =
                ComponentLink::start(ComponentClientConfig::new(c.server, &external, &c.secret));
            components.push(link);
            ext_rx = Some(rx);
        }
        let mut int_rx = None;
        if let Some(c) = &cfg.internal_component {
            let (link, rx) =
                ComponentLink::start(ComponentClientConfig::new(c.server, &internal, &c.secret));
            components.push(link);
            int_rx = Some(rx);
        }

        let (control, control_rx) = mpsc::channel(8);
        let (stopped_tx, stopped) = watch::channel(false);
        let links = Links {
            sessions: session_rx,
            nodes: node_rx,
            external: ext_rx,
            internal: int_rx,
        };
        let routing = tokio::spawn(run(Gateway::new(routing), links, control_rx, stopped_tx));
        Ok(Running {
            c2s_addr: sessions.as_ref().map(SessionListener::local_addr),
            fingerprint: sessions
                .as_ref()
                .and_then(|s| s.fingerprint().map(str::to_owned)),
            node_addr: nodes.as_ref().map(ComponentListener::local_addr),
            control,
            stopped,
            drain_time: Duration::from_secs_f64(cfg.gateway.drain_time),
            sessions,
            nodes,
            components,
            routing: Some(routing),
        })
    }

    /// The c2s listener's address.
    pub fn c2s_addr(&self) -> Option<SocketAddr> {
        self.c2s_addr
    }

    /// The SHA-256 fingerprint of the c2s TLS certificate.
    pub fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// The node listener's address.
    pub fn node_addr(&self) -> Option<SocketAddr> {
        self.node_addr
    }

    /// The nodes that presented themselves, with their state and calls, in domain order.
    pub async fn nodes(&self) -> Vec<NodeView> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.control.send(Control::Nodes(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Drains (no new dials or offers; live calls go on for the configured drain time, the
    /// rest are then hung up) and returns once no call is left.
    pub async fn shutdown(self) {
        let t = self.drain_time;
        self.shutdown_within(t).await;
    }

    /// [`Running::shutdown`] with another drain time.
    pub async fn shutdown_within(mut self, max: Duration) {
        let stopped = &mut self.stopped;
        let _ = self.control.send(Control::Drain(max)).await;
        let wait = async {
            while !*stopped.borrow() {
                if stopped.changed().await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(max + Duration::from_secs(5), wait).await;
        // Let the last stanzas leave before the transports go (at the drop).
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The receivers of every transport.
struct Links {
    sessions: Option<mpsc::Receiver<SessionEvent>>,
    nodes: Option<mpsc::Receiver<LinkEvent>>,
    external: Option<mpsc::Receiver<ComponentLinkEvent>>,
    internal: Option<mpsc::Receiver<ComponentLinkEvent>>,
}

/// Events taken from each link at most between two waits.
const BATCH: usize = 256;

/// An event already queued on `rx`, if any.
fn try_recv<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    rx.as_mut().and_then(|r| r.try_recv().ok())
}

async fn recv<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// The routing task's state besides the core.
struct Driver {
    gw: Gateway,
    tx: HashMap<LinkId, Tx>,
    external: Jid,
}

impl Driver {
    fn nodes(&self) -> Vec<NodeView> {
        let store = self.gw.store();
        let nodes = store.nodes().unwrap_or_default();
        nodes
            .into_iter()
            .map(|n| NodeView {
                calls: store.calls_on(&n.domain).map(|c| c.len()).unwrap_or(0),
                in_rotation: n.in_rotation(),
                status: n.status,
                domain: n.domain,
            })
            .collect()
    }

    fn input(&mut self, input: Input) {
        self.gw.handle(Instant::now(), input);
        self.flush();
    }

    fn flush(&mut self) {
        while let Some(out) = self.gw.poll_output() {
            match out {
                Output::Send { link, stanza } => self.send(link, stanza),
                Output::Dropped { link, reason } => {
                    tracing::debug!(link = link.0, %reason, "stanza dropped")
                }
            }
        }
    }

    fn send(&mut self, link: LinkId, stanza: Element) {
        let ok = match self.tx.get(&link) {
            Some(Tx::Session(tx)) => tx.try_send(ToSession::Stanza(stanza)).is_ok(),
            Some(Tx::Stanza(tx)) => tx.try_send(stanza).is_ok(),
            None => {
                tracing::debug!(link = link.0, "no such link: stanza dropped");
                return;
            }
        };
        if ok {
            return;
        }
        if link == EXTERNAL_COMPONENT || link == INTERNAL_COMPONENT {
            // The site's server is behind: this stanza is lost, the stream stays.
            tracing::warn!(link = link.0, "component stream backlogged: stanza dropped");
            return;
        }
        // A client or node that does not keep up: dropping its sender ends its stream.
        tracing::info!(link = link.0, "link does not keep up: closed");
        self.tx.remove(&link);
        self.input(Input::LinkDown { link });
    }

    fn session(&mut self, ev: SessionEvent) {
        match ev {
            SessionEvent::Bound { conn, jid, tx } => {
                let link = LinkId(conn);
                self.tx.insert(link, Tx::Session(tx));
                self.input(Input::LinkUp {
                    link,
                    side: Side::External,
                    peer: Peer::Session(Jid::from(jid)),
                });
            }
            SessionEvent::Stanza { conn, mut stanza } => {
                // A client's stanza with no `to` is for its server: here, the service.
                if stanza.attr("to").is_none() {
                    rayo_xmpp::xml::set_attr(&mut stanza, "to", self.external.to_string());
                }
                self.input(Input::Stanza {
                    link: LinkId(conn),
                    side: Side::External,
                    stanza,
                });
            }
            SessionEvent::Unbound { conn } => {
                let link = LinkId(conn);
                if self.tx.remove(&link).is_some() {
                    self.input(Input::LinkDown { link });
                }
            }
        }
    }

    fn node(&mut self, ev: LinkEvent) {
        match ev {
            LinkEvent::Up { id, domain, tx, .. } => {
                let link = LinkId(NODE_LINKS + id);
                tracing::info!(%domain, "node connected");
                self.tx.insert(link, Tx::Stanza(tx));
                self.input(Input::LinkUp {
                    link,
                    side: Side::Internal,
                    peer: Peer::Domain(domain),
                });
            }
            LinkEvent::Stanza { id, stanza } => self.input(Input::Stanza {
                link: LinkId(NODE_LINKS + id),
                side: Side::Internal,
                stanza,
            }),
            LinkEvent::Down { id } => {
                let link = LinkId(NODE_LINKS + id);
                tracing::info!(link = link.0, "node link down");
                self.tx.remove(&link);
                self.input(Input::LinkDown { link });
            }
        }
    }

    fn component(&mut self, link: LinkId, side: Side, ev: ComponentLinkEvent) {
        match ev {
            ComponentLinkEvent::Up(tx) => {
                tracing::info!(?side, "component stream up");
                self.tx.insert(link, Tx::Stanza(tx));
                self.input(Input::LinkUp {
                    link,
                    side,
                    peer: Peer::Any,
                });
            }
            ComponentLinkEvent::Stanza(stanza) => self.input(Input::Stanza { link, side, stanza }),
            ComponentLinkEvent::Down => {
                tracing::warn!(?side, "component stream down");
                self.tx.remove(&link);
                self.input(Input::LinkDown { link });
            }
        }
    }
}

async fn run(
    gw: Gateway,
    mut links: Links,
    mut control: mpsc::Receiver<Control>,
    stopped: watch::Sender<bool>,
) {
    let external = gw.config().domains.external().clone();
    let mut d = Driver {
        gw,
        tx: HashMap::new(),
        external,
    };
    let mut draining = false;
    loop {
        let wake = d.gw.poll_timeout();
        tokio::select! {
            Some(ev) = recv(&mut links.sessions) => d.session(ev),
            Some(ev) = recv(&mut links.nodes) => d.node(ev),
            Some(ev) = recv(&mut links.external) => d.component(EXTERNAL_COMPONENT, Side::External, ev),
            Some(ev) = recv(&mut links.internal) => d.component(INTERNAL_COMPONENT, Side::Internal, ev),
            Some(c) = control.recv() => match c {
                Control::Drain(max) => {
                    tracing::info!(?max, calls = d.gw.calls_left(None), "draining");
                    d.gw.drain(Instant::now(), max);
                    d.flush();
                    draining = true;
                }
                Control::Nodes(reply) => {
                    let _ = reply.send(d.nodes());
                }
            },
            _ = async {
                match wake {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending::<()>().await,
                }
            } => d.input(Input::Timeout),
        }
        // What the links queued meanwhile is taken before waiting again (a bounded batch,
        // so that timers and control still get their turn): one event per wake-up made a
        // burst pay the wake-up and the timer's re-arming once per stanza.
        for _ in 0..BATCH {
            let mut taken = false;
            if let Some(ev) = try_recv(&mut links.sessions) {
                d.session(ev);
                taken = true;
            }
            if let Some(ev) = try_recv(&mut links.nodes) {
                d.node(ev);
                taken = true;
            }
            if let Some(ev) = try_recv(&mut links.external) {
                d.component(EXTERNAL_COMPONENT, Side::External, ev);
                taken = true;
            }
            if let Some(ev) = try_recv(&mut links.internal) {
                d.component(INTERNAL_COMPONENT, Side::Internal, ev);
                taken = true;
            }
            if !taken {
                break;
            }
        }
        if draining && d.gw.calls_left(None) == 0 && !*stopped.borrow() {
            tracing::info!("drained: no call left");
            let _ = stopped.send(true);
        }
    }
}
