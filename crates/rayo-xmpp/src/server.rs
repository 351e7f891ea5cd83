//! The tokio driver of the c2s listener: accepts TCP connections, runs one
//! [`C2sConnection`] per client (doing the TLS handshake when STARTTLS asks for it), and one
//! task owning the [`Router`] and its [`Handler`].

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use jid::FullJid;
use minidom::Element;
use rayo_proto::address::Addressing;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::c2s::{C2sConfig, C2sConnection, C2sEvent};
use crate::caps::{Open, Slot};
use crate::failed_logins::FailedLogins;
use crate::router::{ConnId, Handler, Mode, Routed, Router};
use crate::stream_error::Condition;
use crate::tls::{TlsIdentity, TlsSource};
use crate::Error;

/// Settings of the listener.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// Where to listen; `127.0.0.1:5222` by default.
    pub addr: SocketAddr,
    /// The stream settings.
    pub c2s: C2sConfig,
    /// The TLS certificate; `None` disables STARTTLS (then PLAIN is offered only if
    /// [`C2sConfig::allow_plain_without_tls`] says so).
    pub tls: Option<TlsSource>,
    /// Stanzas the router may queue for one connection's task between two of its turns
    /// (at least 1); if that fills, the connection is ended with `<resource-constraint/>`.
    /// How far behind a client may fall in reading is [`C2sConfig::max_outbound_bytes`].
    pub connection_queue: usize,
    /// Connections open at once (at least 1); one accepted beyond this is closed at once,
    /// before anything is read or written (no stream, so no stream error). 1024 by default.
    pub max_connections: usize,
    /// Connections open at once from one source IP address (at least 1); one beyond this is
    /// closed at once like one over [`ListenerConfig::max_connections`]. 64 by default.
    pub max_connections_per_source: usize,
    /// Failed logins a minute from one source address (IPv6: one /64), in bursts of as
    /// many; beyond, its SASL attempts get `<temporary-auth-failure/>` unchecked until the
    /// rate allows again (0: no limit). 10 by default.
    pub max_failed_logins_per_minute: u32,
}

/// How long the accept loop pauses after `accept` fails (out of file descriptors, …).
pub const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

impl ListenerConfig {
    /// Listens on `127.0.0.1:port` for `c2s.domain`.
    pub fn new(port: u16, c2s: C2sConfig, tls: Option<TlsSource>) -> Self {
        ListenerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            c2s,
            tls,
            connection_queue: 1024,
            max_connections: 1024,
            max_connections_per_source: 64,
            max_failed_logins_per_minute: 10,
        }
    }
}

/// What a client connection's task tells whoever consumes the listener's sessions: the
/// router ([`Listener::start`]), or the caller of [`SessionListener::start`].
#[derive(Debug)]
pub enum SessionEvent {
    /// A client bound `jid` on `conn`. Stanzas for it go through `tx`; when `try_send`
    /// fails (the connection does not keep up, or is closing) the consumer drops `tx`, which
    /// ends the stream with `<resource-constraint/>`.
    Bound {
        /// The connection.
        conn: ConnId,
        /// The full JID it bound.
        jid: FullJid,
        /// Where its stanzas go.
        tx: mpsc::Sender<ToSession>,
    },
    /// A stanza from a bound client, its `from` stamped with the bound JID.
    Stanza {
        /// The connection it came on.
        conn: ConnId,
        /// The stanza, in `jabber:client`.
        stanza: Element,
    },
    /// A bound connection ended (sent once per [`SessionEvent::Bound`]).
    Unbound {
        /// The connection.
        conn: ConnId,
    },
}

/// What a consumer sends a client connection.
#[derive(Debug)]
pub enum ToSession {
    /// A stanza to write.
    Stanza(Element),
    /// End the stream with this error.
    Close(Condition),
}

/// Sends stanzas from the handler's side at any time (events of calls and mixers).
#[derive(Clone, Debug)]
pub struct ServiceHandle {
    tx: mpsc::Sender<Element>,
}

impl ServiceHandle {
    /// Routes `stanza` as if the handler had sent it (its `from` checked, events stamped).
    pub async fn send(&self, stanza: Element) -> Result<(), Error> {
        self.tx.send(stanza).await.map_err(|_| Error::Closed)
    }
}

/// A running listener.
#[derive(Debug)]
pub struct Listener {
    local_addr: SocketAddr,
    fingerprint: Option<String>,
    handle: ServiceHandle,
    accept: JoinHandle<()>,
    router: JoinHandle<()>,
}

/// The accepting half shared by [`Listener`] and [`SessionListener`].
struct Accepting {
    local_addr: SocketAddr,
    fingerprint: Option<String>,
    accept: JoinHandle<()>,
}

/// How many session events wait for their consumer; when full, connection tasks wait.
const SESSION_EVENTS: usize = 4096;

impl Accepting {
    /// Binds the port and accepts connections, each driven by its own task, their session
    /// events sent to the returned receiver.
    async fn start(
        config: ListenerConfig,
    ) -> Result<(Accepting, mpsc::Receiver<SessionEvent>), Error> {
        let identity = match &config.tls {
            Some(src) => Some(TlsIdentity::load(src, &config.c2s.domain)?),
            None => None,
        };
        let mut c2s = config.c2s.clone();
        c2s.tls_available = identity.is_some();
        let c2s = Arc::new(c2s);
        let listener = TcpListener::bind(config.addr).await?;
        let local_addr = listener.local_addr()?;
        tracing::info!(%local_addr, domain = %c2s.domain, "c2s listener up");
        let (tx, rx) = mpsc::channel(SESSION_EVENTS);
        let fingerprint = identity.as_ref().map(|i| i.fingerprint.clone());
        let acceptor = identity.map(|i| i.acceptor);
        let queue = config.connection_queue;
        let (cap, cap_per_source) = (config.max_connections, config.max_connections_per_source);
        let open = Arc::new(Mutex::new(Open::default()));
        let logins = Arc::new(Mutex::new(FailedLogins::new(
            config.max_failed_logins_per_minute,
        )));
        let accept = tokio::spawn(async move {
            let mut next_id: ConnId = 0;
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "c2s accept failed");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                        continue;
                    }
                };
                let Some(slot) = Slot::take(&open, peer.ip(), cap, cap_per_source) else {
                    tracing::debug!(%peer, "c2s connection over the cap, closed");
                    drop(tcp);
                    continue;
                };
                next_id += 1;
                let _ = tcp.set_nodelay(true);
                tracing::debug!(%peer, conn = next_id, "c2s connection");
                let source = Source {
                    ip: peer.ip(),
                    logins: logins.clone(),
                };
                let conn = run_connection(
                    tcp,
                    next_id,
                    c2s.clone(),
                    acceptor.clone(),
                    tx.clone(),
                    source,
                    queue,
                );
                tokio::spawn(async move {
                    conn.await;
                    drop(slot);
                });
            }
        });
        Ok((
            Accepting {
                local_addr,
                fingerprint,
                accept,
            },
            rx,
        ))
    }
}

/// A running c2s listener whose sessions are handed to the caller as [`SessionEvent`]s,
/// with no [`Router`]: for a service that routes stanzas itself (the gateway, where each
/// client session is one link).
#[derive(Debug)]
pub struct SessionListener {
    local_addr: SocketAddr,
    fingerprint: Option<String>,
    accept: JoinHandle<()>,
}

impl SessionListener {
    /// Binds the port and starts accepting; the events of every session arrive on the
    /// receiver (bounded: when the caller falls behind, connections wait to be read).
    pub async fn start(
        config: ListenerConfig,
    ) -> Result<(SessionListener, mpsc::Receiver<SessionEvent>), Error> {
        let (a, rx) = Accepting::start(config).await?;
        Ok((
            SessionListener {
                local_addr: a.local_addr,
                fingerprint: a.fingerprint,
                accept: a.accept,
            },
            rx,
        ))
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The SHA-256 fingerprint of the TLS certificate.
    pub fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// Stops accepting (open connections end when their consumer drops their senders).
    pub fn shutdown(self) {
        self.accept.abort();
    }
}

impl Listener {
    /// Binds the port and starts serving `addressing` with `handler`.
    pub async fn start<H: Handler>(
        config: ListenerConfig,
        addressing: Addressing,
        handler: H,
    ) -> Result<Listener, Error> {
        let (a, sessions) = Accepting::start(config).await?;
        let (tx, injected) = mpsc::channel(4096);
        let router = tokio::spawn(run_router(
            Router::new(addressing, Mode::C2s, handler),
            sessions,
            injected,
        ));
        Ok(Listener {
            local_addr: a.local_addr,
            fingerprint: a.fingerprint,
            handle: ServiceHandle { tx },
            accept: a.accept,
            router,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The SHA-256 fingerprint of the TLS certificate.
    pub fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// A handle for sending stanzas from the handler's side.
    pub fn handle(&self) -> ServiceHandle {
        self.handle.clone()
    }

    /// Stops accepting and routing (open connections end when their router goes away).
    pub fn shutdown(self) {
        self.accept.abort();
        self.router.abort();
    }
}

async fn run_router<H: Handler>(
    mut router: Router<H>,
    mut sessions: mpsc::Receiver<SessionEvent>,
    mut injected: mpsc::Receiver<Element>,
) {
    let mut conns: std::collections::HashMap<ConnId, mpsc::Sender<ToSession>> = Default::default();
    loop {
        tokio::select! {
            ev = sessions.recv() => match ev {
                Some(SessionEvent::Bound { conn, jid, tx }) => {
                    conns.insert(conn, tx);
                    router.bind(conn, jid);
                }
                Some(SessionEvent::Unbound { conn }) => {
                    conns.remove(&conn);
                    router.unbind(conn, SystemTime::now());
                }
                Some(SessionEvent::Stanza { stanza, .. }) => {
                    router.handle_stanza(stanza, SystemTime::now())
                }
                None => return,
            },
            el = injected.recv() => match el {
                Some(el) => router.send(el, SystemTime::now()),
                None => return,
            },
        }
        while let Some(out) = router.poll_output() {
            let (conn, msg) = match out {
                Routed::Deliver { conn, stanza } => (conn, ToSession::Stanza(stanza)),
                Routed::Close { conn, condition } => (conn, ToSession::Close(condition)),
                Routed::ToServer(_) => continue,
            };
            let Some(tx) = conns.get(&conn) else { continue };
            if tx.try_send(msg).is_err() {
                // The connection is closing, or its task is not keeping up: dropping its
                // sender ends it with <resource-constraint/>.
                tracing::debug!(conn, "connection queue full or closed");
                conns.remove(&conn);
                router.unbind(conn, SystemTime::now());
            }
        }
    }
}

/// Where a connection comes from, and the failed logins of every address.
struct Source {
    ip: IpAddr,
    logins: Arc<Mutex<FailedLogins>>,
}

impl Source {
    fn logins(&self) -> std::sync::MutexGuard<'_, FailedLogins> {
        self.logins.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn run_connection(
    tcp: TcpStream,
    id: ConnId,
    config: Arc<C2sConfig>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    router: mpsc::Sender<SessionEvent>,
    source: Source,
    queue: usize,
) {
    let mut core = C2sConnection::new(config, Instant::now());
    let (tx, mut rx) = mpsc::channel(queue.max(1));
    let mut link = Link {
        id,
        router: &router,
        tx: Some(tx),
        bound: false,
        source,
    };
    let result = match drive(&mut core, tcp, &mut rx, &mut link).await {
        Ok(Some(tcp)) => match acceptor {
            Some(acceptor) => match acceptor.accept(tcp).await {
                Ok(tls) => {
                    core.handle_tls_established();
                    drive(&mut core, tls, &mut rx, &mut link).await.map(|_| ())
                }
                Err(e) => Err(Error::Tls(e.to_string())),
            },
            None => Ok(()),
        },
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::debug!(conn = id, error = %e, "c2s connection ended");
    }
    if link.bound {
        let _ = router.send(SessionEvent::Unbound { conn: id }).await;
    }
}

struct Link<'a> {
    id: ConnId,
    router: &'a mpsc::Sender<SessionEvent>,
    tx: Option<mpsc::Sender<ToSession>>,
    bound: bool,
    source: Source,
}

const WRITE_CHUNK: usize = 64 * 1024;
const LINGER: Duration = Duration::from_secs(2);
/// How long what is queued may take to write before TLS starts or the stream closes.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the connection over `stream` until it closes (`None`) or wants TLS (`Some(stream)`,
/// with everything queued written).
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    core: &mut C2sConnection,
    stream: S,
    rx: &mut mpsc::Receiver<ToSession>,
    link: &mut Link<'_>,
) -> Result<Option<S>, Error> {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut buf = vec![0u8; 16 * 1024];
    let mut router_gone = false;
    // TLS buffers what `write` accepted; it must be flushed once the queue is empty.
    let mut needs_flush = false;
    loop {
        // Move what the router queued (up to one channel's worth, so that the writer gets
        // its turn) into the connection's byte-bounded queue before waiting again: taking
        // one stanza per wake-up let a client that pipelines requests, and reads every
        // answer, overflow the channel and be dropped as a slow reader. Whether a client
        // keeps up is judged by `max_outbound_bytes`.
        for _ in 0..rx.max_capacity() {
            if !link.bound || router_gone || core.is_closed() {
                break;
            }
            match rx.try_recv() {
                Ok(m) => deliver(core, m),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => router_gone = gone(core),
            }
        }
        while let Some(ev) = core.poll_event() {
            match ev {
                C2sEvent::StartTls => {
                    // A client that asks for TLS but does not read the `<proceed/>` (and
                    // what came before it) is not waited for longer than a closing one.
                    let flush = async {
                        write_queued(core, &mut wr).await?;
                        wr.flush().await
                    };
                    tokio::time::timeout(FLUSH_TIMEOUT, flush)
                        .await
                        .map_err(|_| Error::Closed)??;
                    return Ok(Some(rd.unsplit(wr)));
                }
                C2sEvent::Bound(jid) => {
                    let Some(tx) = link.tx.take() else { continue };
                    link.bound = true;
                    // Only the router holds the sender: when it gives up on this connection
                    // the channel closes.
                    let msg = SessionEvent::Bound {
                        conn: link.id,
                        jid,
                        tx,
                    };
                    if link.router.send(msg).await.is_err() {
                        core.close(Condition::SystemShutdown, "service stopped");
                    }
                }
                C2sEvent::Stanza(el) => {
                    let msg = SessionEvent::Stanza {
                        conn: link.id,
                        stanza: el,
                    };
                    if link.router.send(msg).await.is_err() {
                        core.close(Condition::SystemShutdown, "service stopped");
                    }
                }
                C2sEvent::AuthFailed => {
                    let ip = link.source.ip;
                    if link.source.logins().record(ip, Instant::now()) {
                        tracing::warn!(
                            %ip,
                            "failed logins from this address over the rate: its logins \
                             are refused for now"
                        );
                    }
                }
                C2sEvent::Authenticated(_) | C2sEvent::Closed(_) => {}
            }
        }
        if core.is_closed() {
            // Nothing more is taken for this stream: the router finds the channel closed at
            // the next stanza for it and unbinds the session, answering requests for it with
            // errors instead of queueing them for a connection that is going away.
            rx.close();
            let flush = async {
                write_queued(core, &mut wr).await?;
                wr.shutdown().await
            };
            let _ = tokio::time::timeout(FLUSH_TIMEOUT, flush).await;
            // Read and discard what the client still sends for a moment: closing a socket
            // with unread input resets the connection, and the client would lose the
            // stream error.
            let _ = tokio::time::timeout(LINGER, async {
                while matches!(rd.read(&mut buf).await, Ok(n) if n > 0) {}
            })
            .await;
            return Ok(None);
        }
        let deadline = core
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        // Written from the connection's own queue, a chunk at a time (a copy of it at each
        // turn of the loop grew with the backlog).
        let pending = core.poll_transmit().map(|b| &b[..b.len().min(WRITE_CHUNK)]);
        tokio::select! {
            r = rd.read(&mut buf) => {
                let n = r?;
                if n == 0 {
                    return Ok(None);
                }
                let now = Instant::now();
                if !link.bound {
                    let ip = link.source.ip;
                    core.set_login_allowed(link.source.logins().allows(ip, now));
                }
                core.handle_input(&buf[..n], now);
            }
            io = async {
                match pending {
                    Some(p) => wr.write(p).await.map(Some),
                    None => wr.flush().await.map(|()| None),
                }
            }, if pending.is_some() || needs_flush => match io? {
                Some(n) => {
                    core.handle_transmitted(n);
                    needs_flush = true;
                }
                None => needs_flush = false,
            },
            m = rx.recv(), if link.bound && !router_gone => match m {
                Some(m) => deliver(core, m),
                None => router_gone = gone(core),
            },
            _ = tokio::time::sleep_until(deadline.into()) => core.handle_timeout(Instant::now()),
        }
    }
}

/// Writes everything the connection has queued.
async fn write_queued<W: AsyncWrite + Unpin>(
    core: &mut C2sConnection,
    wr: &mut W,
) -> std::io::Result<()> {
    while let Some(b) = core.poll_transmit() {
        let n = b.len();
        wr.write_all(b).await?;
        core.handle_transmitted(n);
    }
    Ok(())
}

/// Hands what the router sent to the stream.
fn deliver(core: &mut C2sConnection, m: ToSession) {
    match m {
        ToSession::Stanza(el) => {
            core.send_stanza(&el, Instant::now());
        }
        ToSession::Close(c) => core.close(c, "another session took over"),
    }
}

/// The router dropped this connection's channel (it could not queue for it): ends the
/// stream. Returns `true` (the router is gone for this connection).
fn gone(core: &mut C2sConnection) -> bool {
    core.close(Condition::ResourceConstraint, "the client reads too slowly");
    true
}
