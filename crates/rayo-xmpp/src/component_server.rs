//! The tokio driver of accepted XEP-0114 component connections: listens for Rayo nodes
//! connecting as components, runs one [`AcceptConnection`] per connection, and tells the
//! consumer (the gateway) about each authenticated link through one bounded channel of
//! [`LinkEvent`]s.
//!
//! - Every [`LinkEvent::Up`] is followed, once, by a [`LinkEvent::Down`] of the same `id`;
//!   the stanzas of a link ([`LinkEvent::Stanza`]) come between the two.
//! - **One live link per domain.** When a connection authenticates for a domain that already
//!   has one, the older is ended with `<conflict/>` and its `Down` is sent before the newer's
//!   `Up`: at any time at most one link of a domain is up.
//! - **Check `from`.** The stanzas are not checked against the domain: the consumer must
//!   refuse any whose `from` is not in the domain of the link's `Up`.
//! - The event channel holds [`EVENT_QUEUE`] events; when it is full the connections wait
//!   (they stop reading their sockets) until the consumer takes some.
//! - The consumer sends to a component through the `tx` of its `Up`
//!   ([`ComponentListenerConfig::connection_queue`] stanzas deep) with `try_send`: if that
//!   fails the component is not keeping up, and the consumer drops `tx`, which ends the
//!   connection with `<resource-constraint/>`. How far behind a component may fall in
//!   reading is [`AcceptConfig::max_outbound_bytes`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use minidom::Element;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::caps::{Open, Slot};
use crate::component_accept::{AcceptCloseReason, AcceptConfig, AcceptConnection, AcceptEvent};
use crate::failed_logins::FailedLogins;
use crate::server::ACCEPT_ERROR_PAUSE;
use crate::stream_error::Condition;
use crate::Error;

/// How many [`LinkEvent`]s wait for the consumer before the connections wait for it.
pub const EVENT_QUEUE: usize = 4096;

const WRITE_CHUNK: usize = 64 * 1024;
/// How long what is queued may take to write once the stream is over.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the peer's last input is read and dropped after the stream is over, so that
/// closing the socket does not reset the connection before it read the stream error.
const LINGER: Duration = Duration::from_secs(2);

/// Settings of the component listener.
#[derive(Debug, Clone)]
pub struct ComponentListenerConfig {
    /// Where to listen; `127.0.0.1:5347` by default.
    pub addr: SocketAddr,
    /// The stream settings: the components' domains and secrets, the bounds.
    pub accept: AcceptConfig,
    /// Connections open at once, authenticated or not (at least 1); one accepted beyond
    /// this is closed at once, before anything is read or written. 64 by default.
    pub max_connections: usize,
    /// Connections open at once from one source IP address (at least 1); one beyond is
    /// closed at once like one over [`ComponentListenerConfig::max_connections`]. 16 by
    /// default.
    pub max_connections_per_source: usize,
    /// Stanzas the consumer may queue toward one connection (the capacity of the `tx` of
    /// [`LinkEvent::Up`], at least 1). 4096 by default.
    pub connection_queue: usize,
    /// Failed handshakes a minute from one source address (IPv6: one /64), in bursts of as
    /// many: a wrong secret or an unknown domain counts. Beyond, connections from it are
    /// closed at once, unread, until the rate allows again (0: no limit). 10 by default.
    pub max_failed_handshakes_per_minute: u32,
}

impl ComponentListenerConfig {
    /// Listens on `127.0.0.1:5347` for the components of `accept`.
    pub fn new(accept: AcceptConfig) -> Self {
        ComponentListenerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 5347)),
            accept,
            max_connections: 64,
            max_connections_per_source: 16,
            connection_queue: 4096,
            max_failed_handshakes_per_minute: 10,
        }
    }
}

/// What happened to the component links, in order for each link.
#[derive(Debug)]
pub enum LinkEvent {
    /// A component authenticated: its stanzas follow as [`LinkEvent::Stanza`] with this
    /// `id` until [`LinkEvent::Down`].
    Up {
        /// This connection, unique for the listener's life.
        id: u64,
        /// The authenticated domain (lowercase). Stanzas of this link must come from it.
        domain: String,
        /// The component's address.
        peer: SocketAddr,
        /// Stanzas for the component (written in `jabber:component:accept`). Use
        /// `try_send`; when it fails, drop this sender: the connection then ends with
        /// `<resource-constraint/>`. Dropping it ends the link in any case.
        tx: mpsc::Sender<Element>,
    },
    /// A stanza from the component of link `id`, in `jabber:client`; its `from` is
    /// unchecked.
    Stanza {
        /// The link.
        id: u64,
        /// The stanza.
        stanza: Element,
    },
    /// Link `id` is over: nothing more comes from it and nothing more is written to it.
    Down {
        /// The link.
        id: u64,
    },
}

/// A running component listener. Dropping it (or [`ComponentListener::shutdown`]) stops
/// accepting and ends every open connection with `<system-shutdown/>`.
#[derive(Debug)]
pub struct ComponentListener {
    local_addr: SocketAddr,
    accept: JoinHandle<()>,
    /// Dropped with the listener: every connection watches it.
    _stop: watch::Sender<()>,
}

/// The live link of a domain, as a newer connection of that domain finds it.
struct Live {
    id: u64,
    /// Ends the older connection with `<conflict/>`.
    kick: oneshot::Sender<()>,
    /// Resolves once the older connection sent its `Down` (or will never send one).
    gone: oneshot::Receiver<()>,
}

/// What every connection task shares.
#[derive(Clone)]
struct Ctx {
    config: Arc<AcceptConfig>,
    events: mpsc::Sender<LinkEvent>,
    live: Arc<Mutex<HashMap<String, Live>>>,
    queue: usize,
    stop: watch::Receiver<()>,
    failures: Arc<Mutex<FailedLogins>>,
}

impl Ctx {
    fn failures(&self) -> std::sync::MutexGuard<'_, FailedLogins> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ComponentListener {
    /// Binds the port and starts accepting; returns the listener and the receiver of its
    /// events (the only one: the consumer must keep reading it).
    pub async fn start(
        config: ComponentListenerConfig,
    ) -> Result<(ComponentListener, mpsc::Receiver<LinkEvent>), Error> {
        let listener = TcpListener::bind(config.addr).await?;
        let local_addr = listener.local_addr()?;
        tracing::info!(%local_addr, components = config.accept.secrets.len(), "component listener up");
        let (events, rx) = mpsc::channel(EVENT_QUEUE);
        let (stop_tx, stop) = watch::channel(());
        let ctx = Ctx {
            config: Arc::new(config.accept.clone()),
            events,
            live: Arc::default(),
            queue: config.connection_queue.max(1),
            stop,
            failures: Arc::new(Mutex::new(FailedLogins::new(
                config.max_failed_handshakes_per_minute,
            ))),
        };
        let (cap, cap_per_source) = (config.max_connections, config.max_connections_per_source);
        let accept = tokio::spawn(async move {
            let open = Arc::new(Mutex::new(Open::default()));
            let mut next_id: u64 = 0;
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "component accept failed");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                        continue;
                    }
                };
                let Some(slot) = Slot::take(&open, peer.ip(), cap, cap_per_source) else {
                    tracing::debug!(%peer, "component connection over the cap, closed");
                    drop(tcp);
                    continue;
                };
                if !ctx.failures().allows(peer.ip(), Instant::now()) {
                    tracing::debug!(%peer, "too many failed handshakes from it: closed");
                    drop(tcp);
                    continue;
                }
                next_id += 1;
                let _ = tcp.set_nodelay(true);
                tracing::debug!(%peer, conn = next_id, "component connection");
                let conn = run_connection(tcp, peer, next_id, ctx.clone());
                tokio::spawn(async move {
                    conn.await;
                    drop(slot);
                });
            }
        });
        Ok((
            ComponentListener {
                local_addr,
                accept,
                _stop: stop_tx,
            },
            rx,
        ))
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting and ends every open connection with `<system-shutdown/>` (each
    /// sends its [`LinkEvent::Down`] while the receiver is still read).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for ComponentListener {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The state of a connection once its link is up.
struct Link {
    domain: String,
    /// Dropped once `Down` is sent.
    gone: oneshot::Sender<()>,
}

async fn run_connection(tcp: TcpStream, peer: SocketAddr, id: u64, mut ctx: Ctx) {
    let mut core = AcceptConnection::new(ctx.config.clone(), Instant::now());
    let (mut rd, mut wr) = tcp.into_split();
    let mut buf = vec![0u8; 16 * 1024];
    let mut link: Option<Link> = None;
    // Once up: what the consumer sends, and the kick of a newer connection of the domain.
    let mut rx: Option<mpsc::Receiver<Element>> = None;
    let mut kick: Option<oneshot::Receiver<()>> = None;
    let result: Result<(), Error> = async {
        loop {
            // Move what the consumer queued (up to one channel's worth, so that the writer
            // gets its turn) into the byte-bounded queue of the stream.
            if let Some(r) = rx.as_mut() {
                for _ in 0..r.max_capacity() {
                    if core.is_closed() {
                        break;
                    }
                    match r.try_recv() {
                        Ok(el) => {
                            core.send_stanza(&el, Instant::now());
                        }
                        Err(mpsc::error::TryRecvError::Empty) => break,
                        Err(mpsc::error::TryRecvError::Disconnected) => dropped(&mut core),
                    }
                }
            }
            while let Some(ev) = core.poll_event() {
                match ev {
                    AcceptEvent::Authenticated(domain) => match up(&ctx, id, peer, domain).await {
                        Some((l, r, k)) => {
                            link = Some(l);
                            rx = Some(r);
                            kick = Some(k);
                        }
                        None => core.close(Condition::SystemShutdown, "gateway stopped"),
                    },
                    AcceptEvent::Stanza(stanza) => {
                        if link.is_some()
                            && ctx.events.send(LinkEvent::Stanza { id, stanza }).await.is_err()
                        {
                            core.close(Condition::SystemShutdown, "gateway stopped");
                        }
                    }
                    AcceptEvent::Closed(reason) => {
                        tracing::debug!(conn = id, %peer, ?reason, "component stream ended");
                        let refused = matches!(
                            reason,
                            AcceptCloseReason::Sent(
                                Condition::NotAuthorized | Condition::HostUnknown
                            )
                        );
                        if refused && link.is_none() {
                            let over = ctx.failures().record(peer.ip(), Instant::now());
                            if over {
                                tracing::warn!(
                                    ip = %peer.ip(),
                                    "failed component handshakes from this address over \
                                     the rate: its connections are refused for now"
                                );
                            }
                        }
                    }
                }
            }
            if core.is_closed() {
                return Ok(());
            }
            let deadline = core
                .poll_timeout()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            // Written from the connection's own queue, a chunk at a time (a copy of it at
            // each turn of the loop grew with the backlog).
            let pending = core
                .poll_transmit()
                .map(|b| &b[..b.len().min(WRITE_CHUNK)]);
            tokio::select! {
                r = rd.read(&mut buf) => {
                    let n = r?;
                    if n == 0 {
                        return Err(Error::Closed);
                    }
                    core.handle_input(&buf[..n], Instant::now());
                }
                w = async { wr.write(pending.unwrap_or_default()).await }, if pending.is_some() => {
                    core.handle_transmitted(w?);
                }
                m = async {
                    match rx.as_mut() {
                        Some(r) => r.recv().await,
                        None => std::future::pending().await,
                    }
                } => match m {
                    Some(el) => {
                        core.send_stanza(&el, Instant::now());
                    }
                    None => dropped(&mut core),
                },
                kicked = async {
                    match kick.as_mut() {
                        Some(k) => k.await.is_ok(),
                        None => std::future::pending().await,
                    }
                } => {
                    kick = None;
                    if kicked {
                        core.close(Condition::Conflict, "replaced by a newer connection of this domain");
                    }
                }
                _ = ctx.stop.changed() => core.close(Condition::SystemShutdown, "the gateway is shutting down"),
                _ = tokio::time::sleep_until(deadline.into()) => core.handle_timeout(Instant::now()),
            }
        }
    }
    .await;
    // The link is over for the consumer before anything else (flushing can take seconds).
    drop(rx);
    if let Some(l) = link {
        forget(&ctx, &l.domain, id);
        let _ = ctx.events.send(LinkEvent::Down { id }).await;
        drop(l.gone);
        tracing::info!(conn = id, %peer, domain = %l.domain, "component link down");
    }
    match result {
        Ok(()) => {
            let flush = async {
                while let Some(b) = core.poll_transmit() {
                    let n = b.len();
                    wr.write_all(b).await?;
                    core.handle_transmitted(n);
                }
                wr.shutdown().await
            };
            let _ = tokio::time::timeout(FLUSH_TIMEOUT, flush).await;
            let _ = tokio::time::timeout(LINGER, async {
                while matches!(rd.read(&mut buf).await, Ok(n) if n > 0) {}
            })
            .await;
        }
        Err(e) => tracing::debug!(conn = id, %peer, error = %e, "component connection ended"),
    }
}

/// Removes the live entry of `domain` if it is still connection `id`'s.
fn forget(ctx: &Ctx, domain: &str, id: u64) {
    let mut live = ctx.live.lock().unwrap_or_else(|e| e.into_inner());
    if live.get(domain).is_some_and(|e| e.id == id) {
        live.remove(domain);
    }
}

/// Registers the link of `domain`, ending an older one of the same domain first (its `Down`
/// is sent before this returns), and sends `Up`: the link, the receiver of the consumer's
/// stanzas, and the kick of a newer connection. `None` if the consumer is gone.
async fn up(
    ctx: &Ctx,
    id: u64,
    peer: SocketAddr,
    domain: String,
) -> Option<(Link, mpsc::Receiver<Element>, oneshot::Receiver<()>)> {
    let (kick, kick_rx) = oneshot::channel();
    let (gone, gone_rx) = oneshot::channel();
    let older = {
        let mut live = ctx.live.lock().unwrap_or_else(|e| e.into_inner());
        live.insert(
            domain.clone(),
            Live {
                id,
                kick,
                gone: gone_rx,
            },
        )
    };
    if let Some(older) = older {
        tracing::info!(conn = id, older = older.id, %domain, "component reconnected: the older link is replaced");
        let _ = older.kick.send(());
        // Resolves when the older task drops its sender, whether or not it sent `Down`.
        let _ = older.gone.await;
    }
    let (tx, rx) = mpsc::channel(ctx.queue);
    let up = LinkEvent::Up {
        id,
        domain: domain.clone(),
        peer,
        tx,
    };
    if ctx.events.send(up).await.is_err() {
        forget(ctx, &domain, id);
        return None;
    }
    tracing::info!(conn = id, %peer, %domain, "component link up");
    Some((Link { domain, gone }, rx, kick_rx))
}

/// The consumer dropped the link's sender: it could not queue for the component.
fn dropped(core: &mut AcceptConnection) {
    core.close(
        Condition::ResourceConstraint,
        "the component reads too slowly",
    );
}
