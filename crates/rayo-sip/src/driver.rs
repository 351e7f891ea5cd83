//! The tokio driver: a UDP socket and a TCP listener for SIP, the [`UserAgent`] woken by
//! them, by commands and by its next timer, and an RTP [`Session`] per call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayo_call::{CallId, SignalAction, SignalEvent};
use rayo_media::backlog::Backlog;
use rayo_media::latch::SourceLock;
use rayo_media::udp::{Command as MediaCommand, Session, SessionEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::message::{Message, MAX_MESSAGE};
use crate::transaction::{Peer, Transport};
use crate::ua::{Config, Output, UserAgent};
use crate::Error;

/// A command to the driver.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "commands cross one channel once and are consumed; boxing would add an allocation per command"
)]
pub enum Command {
    /// An action of the engine.
    Action(SignalAction),
    /// A command to a call's RTP session.
    Media(CallId, MediaCommand),
    /// Stop the driver.
    Stop,
}

/// What the driver reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// For the engine.
    Signal(CallId, SignalEvent),
    /// A new inbound call, for the engine: `event` is its [`SignalEvent::Incoming`], `source`
    /// the address its INVITE came from (the transport's, not a header's), by which the
    /// node counts the calls of one source.
    Incoming {
        /// The call.
        call: CallId,
        /// Where the INVITE came from.
        source: SocketAddr,
        /// The [`SignalEvent::Incoming`].
        event: SignalEvent,
    },
    /// A call's RTP session reported (digits, and its counters when it stops).
    Media(CallId, SessionEvent),
    /// An action could not be carried out.
    ActionFailed(String),
    /// A dial could not even be started (a URI the stack cannot call, no route): the call
    /// is over before it began.
    DialFailed {
        /// The call.
        call: CallId,
        /// Why.
        reason: String,
    },
}

/// A handle on a running driver.
#[derive(Debug)]
pub struct Driver {
    /// The SIP address (UDP and TCP).
    pub local: SocketAddr,
    /// Commands, at most [`COMMAND_QUEUE`] waiting: beyond, the sender waits for room. The
    /// driver always takes them, even while its events wait, so the wait is short and
    /// cannot close a cycle with [`Driver::events`].
    pub commands: mpsc::Sender<Command>,
    /// Events, at most [`EVENT_QUEUE`] waiting: beyond, the driver reads no more SIP and
    /// runs no timers until they are taken (peers retransmit); it still takes commands.
    pub events: mpsc::Receiver<Event>,
    tcp_count: Arc<AtomicUsize>,
}

/// How long an inbound SIP TCP connection may stay silent before the driver closes it.
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the TCP accept loop pauses after `accept` fails (out of file descriptors, …).
pub const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

enum Internal {
    Sip(Peer, Vec<u8>),
    Media(CallId, SessionEvent),
    /// A TCP connection's reader or writer ended (peer closed, error, idle): `id` tells it
    /// from a newer connection to the same address.
    TcpClosed(SocketAddr, u64),
    /// An outbound TCP connection was made, or could not be within [`TCP_CONNECT_TIMEOUT`].
    TcpConnected(SocketAddr, Result<TcpStream, String>),
}

/// How long an outbound SIP TCP connection may take to be made; then what was queued for
/// it fails: each request's transaction ends at once (a transport error counts as a 503).
pub const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most messages queued for one peer while its connection is being made.
pub const MAX_QUEUED_PER_CONNECTING_PEER: usize = 32;
/// The most peers being connected to at once; a message for one more is dropped.
pub const MAX_CONNECTING_PEERS: usize = 256;

/// The most events waiting for the driver's owner ([`Driver::events`]); beyond, the driver
/// reads no more SIP and runs no timers until they are taken.
pub const EVENT_QUEUE: usize = 4096;
/// The most commands waiting for the driver ([`Driver::commands`]); beyond, senders wait.
pub const COMMAND_QUEUE: usize = 4096;
/// The most SIP messages queued for one TCP connection's writer; a peer that lets more
/// pile up (it does not read) has its connection dropped.
pub const TCP_WRITE_QUEUE: usize = 256;
/// The most events of TCP readers, connects and media sessions waiting for the driver's
/// loop; their senders wait (a TCP peer is pushed back by its connection's flow control).
pub const INTERNAL_QUEUE: usize = 4096;

/// Outbound TCP connections being made, off the driver's loop: what waits for each.
#[derive(Default)]
struct Connecting {
    waiting: HashMap<SocketAddr, Vec<Vec<u8>>>,
}

impl Connecting {
    /// Queues `bytes` for `peer`; `true` when a connection must be started for it. A
    /// message over the bounds is dropped (and logged).
    fn queue(&mut self, peer: SocketAddr, bytes: Vec<u8>) -> bool {
        if let Some(q) = self.waiting.get_mut(&peer) {
            if q.len() < MAX_QUEUED_PER_CONNECTING_PEER {
                q.push(bytes);
            } else {
                tracing::debug!(%peer, "SIP TCP message dropped: its connection is not up yet");
            }
            return false;
        }
        if self.waiting.len() >= MAX_CONNECTING_PEERS {
            tracing::warn!(%peer, "SIP TCP message dropped: too many connections being made");
            return false;
        }
        self.waiting.insert(peer, vec![bytes]);
        true
    }
}

/// Makes an outbound connection in its own task and reports it.
fn connect_tcp(peer: SocketAddr, internal: mpsc::Sender<Internal>) {
    tokio::spawn(async move {
        let r = match tokio::time::timeout(TCP_CONNECT_TIMEOUT, TcpStream::connect(peer)).await {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_owned()),
        };
        let _ = internal.send(Internal::TcpConnected(peer, r)).await;
    });
}

/// A TCP connection the driver keeps for sending back.
struct Conn {
    id: u64,
    inbound: bool,
    writer: mpsc::Sender<Vec<u8>>,
}

impl Driver {
    /// Binds UDP and TCP on `cfg.local` and spawns the driver.
    pub async fn spawn(cfg: Config) -> Result<Driver, Error> {
        let (udp, tcp) = bind_udp_and_tcp(cfg.local).await?;
        let local = udp.local_addr()?;
        let cfg = Config { local, ..cfg };
        let (ctx, crx) = mpsc::channel(COMMAND_QUEUE);
        let (etx, erx) = mpsc::channel(EVENT_QUEUE);
        let tcp_count = Arc::new(AtomicUsize::new(0));
        let caps = Caps {
            total: cfg.max_tcp_connections.max(1),
            per_source: cfg.max_tcp_connections_per_source.max(1),
            latch: cfg.rtp_latch_window,
        };
        tokio::spawn(run(
            UserAgent::new(cfg),
            caps,
            udp,
            tcp,
            crx,
            etx,
            tcp_count.clone(),
        ));
        Ok(Driver {
            local,
            commands: ctx,
            events: erx,
            tcp_count,
        })
    }

    /// How many SIP TCP connections (inbound and outbound) the driver holds now.
    pub fn tcp_connections(&self) -> usize {
        self.tcp_count.load(Ordering::Relaxed)
    }
}

/// Binds UDP and TCP on the same address. With port 0 the OS picks the UDP port and TCP must
/// get the same one, which another program may hold: other ports are tried (16 at most).
async fn bind_udp_and_tcp(addr: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut tries = 0;
    loop {
        let udp = UdpSocket::bind(addr).await?;
        match TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e)
                if addr.port() == 0 && e.kind() == std::io::ErrorKind::AddrInUse && tries < 16 =>
            {
                tries += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs a TCP connection's reader and writer; returns the writer's queue. When either ends
/// (the peer closed, an error, an inbound connection idle for [`TCP_IDLE_TIMEOUT`], a
/// stream that does not frame) it reports [`Internal::TcpClosed`]; the driver then drops
/// the writer's queue, which ends the writer, and with both halves gone the socket closes.
fn spawn_tcp(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    inbound: bool,
    internal: mpsc::Sender<Internal>,
) -> Conn {
    let (mut rd, mut wr) = stream.into_split();
    let (wtx, mut wrx) = mpsc::channel::<Vec<u8>>(TCP_WRITE_QUEUE);
    let closed = internal.clone();
    tokio::spawn(async move {
        while let Some(b) = wrx.recv().await {
            if wr.write_all(&b).await.is_err() {
                let _ = closed.send(Internal::TcpClosed(peer, id)).await;
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 8192];
        let idle = if inbound {
            TCP_IDLE_TIMEOUT
        } else {
            Duration::MAX
        };
        loop {
            let n = match tokio::time::timeout(idle, rd.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => break,
            };
            buf.extend_from_slice(&chunk[..n]);
            loop {
                match Message::parse(&buf, true) {
                    Ok((_, used)) => {
                        let msg: Vec<u8> = buf.drain(..used).collect();
                        // Awaited: a fast sender waits for the driver (TCP pushes back).
                        let peer = Peer {
                            addr: peer,
                            transport: Transport::Tcp,
                        };
                        if internal.send(Internal::Sip(peer, msg)).await.is_err() {
                            return;
                        }
                    }
                    Err(Error::Incomplete) if buf.len() < MAX_MESSAGE => break,
                    // A stream that does not frame: drop the connection.
                    Err(_) => {
                        let _ = internal.send(Internal::TcpClosed(peer, id)).await;
                        return;
                    }
                }
            }
        }
        let _ = internal.send(Internal::TcpClosed(peer, id)).await;
    });
    Conn {
        id,
        inbound,
        writer: wtx,
    }
}

/// The caps on inbound TCP connections, and the latch window of RTP sessions.
#[derive(Clone, Copy)]
struct Caps {
    total: usize,
    per_source: usize,
    latch: Duration,
}

/// Whether one more inbound connection from `peer` stays under `caps`.
fn under_caps(conns: &HashMap<SocketAddr, Conn>, peer: SocketAddr, caps: Caps) -> bool {
    let inbound = conns.values().filter(|c| c.inbound).count();
    let same = conns
        .iter()
        .filter(|(a, c)| c.inbound && a.ip() == peer.ip())
        .count();
    inbound < caps.total && same < caps.per_source
}

async fn run(
    mut ua: UserAgent,
    caps: Caps,
    udp: UdpSocket,
    tcp: TcpListener,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    tcp_count: Arc<AtomicUsize>,
) {
    let (itx, mut irx) = mpsc::channel::<Internal>(INTERNAL_QUEUE);
    let mut conns: HashMap<SocketAddr, Conn> = HashMap::new();
    let mut connecting = Connecting::default();
    let mut next_conn: u64 = 0;
    // After an accept error, no accept before this instant (the loop must not spin on
    // EMFILE, and UDP and timers go on meanwhile).
    let mut accept_after: Option<tokio::time::Instant> = None;
    let mut sessions: HashMap<CallId, mpsc::Sender<MediaCommand>> = HashMap::new();
    // Events not yet taken by the owner. The network and the timers pause at
    // EVENT_QUEUE; commands go on (each makes a few events at most, and at most
    // COMMAND_QUEUE of them wait), so this stays bounded and the owner, waiting to send a
    // command, is never waited on in turn.
    let mut pending = Backlog::new(EVENT_QUEUE);
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let wake = ua.poll_timeout();
        let open = pending.is_open();
        tokio::select! {
            r = udp.recv_from(&mut buf), if open => {
                if let Ok((n, from)) = r {
                    ua.handle_datagram(Instant::now(), Peer { addr: from, transport: Transport::Udp }, &buf[..n]);
                }
            }
            r = async {
                if let Some(t) = accept_after {
                    tokio::time::sleep_until(t).await;
                }
                tcp.accept().await
            }, if open => match r {
                Ok((s, peer)) => {
                    accept_after = None;
                    if under_caps(&conns, peer, caps) {
                        next_conn += 1;
                        if let Some(old) = conns.insert(peer, spawn_tcp(s, peer, next_conn, true, itx.clone())) {
                            drop(old.writer);
                        }
                    } else {
                        // Over a cap: closed at once, nothing read.
                        tracing::debug!(%peer, "SIP TCP connection over the cap, closed");
                        drop(s);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "SIP TCP accept failed");
                    accept_after = Some(tokio::time::Instant::now() + ACCEPT_ERROR_PAUSE);
                }
            },
            Some(i) = irx.recv(), if open => match i {
                Internal::Sip(peer, bytes) => ua.handle_datagram(Instant::now(), peer, &bytes),
                Internal::Media(call, e) => {
                    if let SessionEvent::Stopped { sources, .. } = &e {
                        if sources.dropped() > 0 {
                            tracing::debug!(%call, ?sources, "RTP from other sources was dropped");
                        }
                    }
                    pending.push(Event::Media(call, e));
                }
                Internal::TcpClosed(peer, id) => {
                    if conns.get(&peer).is_some_and(|c| c.id == id) {
                        conns.remove(&peer);
                    }
                }
                Internal::TcpConnected(peer, r) => {
                    let waiting = connecting.waiting.remove(&peer).unwrap_or_default();
                    match r {
                        Ok(s) => {
                            next_conn += 1;
                            let c = spawn_tcp(s, peer, next_conn, false, itx.clone());
                            for b in waiting {
                                let _ = c.writer.try_send(b);
                            }
                            if let Some(old) = conns.insert(peer, c) {
                                drop(old.writer);
                            }
                        }
                        Err(e) => {
                            tracing::info!(
                                %peer,
                                error = %e,
                                failed = waiting.len(),
                                "SIP TCP connection failed"
                            );
                            // Their transactions fail now (a transport error is a 503).
                            for b in waiting {
                                ua.handle_transport_error(Instant::now(), &b);
                            }
                        }
                    }
                }
            },
            c = commands.recv() => match c {
                Some(Command::Action(a)) => {
                    let dial = match &a {
                        SignalAction::Dial { call, .. } => Some(call.clone()),
                        _ => None,
                    };
                    if let Err(e) = ua.handle_action(Instant::now(), a) {
                        pending.push(match dial {
                            Some(call) => Event::DialFailed { call, reason: e.to_string() },
                            None => Event::ActionFailed(e.to_string()),
                        });
                    }
                }
                Some(Command::Media(call, m)) => {
                    to_session(&mut ua, &mut sessions, &call, m);
                }
                Some(Command::Stop) | None => break,
            },
            _ = async {
                match wake {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending::<()>().await,
                }
            }, if open => ua.handle_timeout(Instant::now()),
            // Room again for the events waiting.
            Ok(permit) = events.reserve(), if !pending.is_empty() => pending.send_one(permit),
        }
        while let Some(o) = ua.poll_output() {
            match o {
                Output::Transmit(t) => match t.peer.transport {
                    Transport::Udp => {
                        let _ = udp.send_to(&t.bytes, t.peer.addr).await;
                    }
                    Transport::Tcp => {
                        // A connection is never awaited here: one unreachable peer must not
                        // hold up everybody's signalling.
                        if let Some(c) = conns.get(&t.peer.addr) {
                            if c.writer.try_send(t.bytes).is_err() {
                                // A peer that does not read what it is sent: dropped, like
                                // a closed connection (a new one is made if needed).
                                tracing::info!(peer = %t.peer.addr, "SIP TCP peer not reading: connection dropped");
                                conns.remove(&t.peer.addr);
                            }
                        } else if connecting.queue(t.peer.addr, t.bytes) {
                            connect_tcp(t.peer.addr, itx.clone());
                        }
                    }
                },
                Output::Signal { call, event } => {
                    let source = match &event {
                        SignalEvent::Incoming { .. } => ua.peer_of(&call),
                        _ => None,
                    };
                    let ev = match source {
                        Some(p) => Event::Incoming {
                            call,
                            source: p.addr,
                            event,
                        },
                        None => Event::Signal(call, event),
                    };
                    pending.push(ev);
                }
                Output::MediaStart {
                    call,
                    local,
                    remote,
                    config,
                    ssrc,
                    signalling,
                } => match UdpSocket::bind(local).await {
                    Ok(sock) => {
                        if let Ok(Session {
                            commands,
                            events: mut session_events,
                            ..
                        }) = Session::spawn(
                            sock,
                            config,
                            ssrc,
                            SourceLock::new(caps.latch).preferring(signalling),
                        ) {
                            // The map holds the only sender: dropping it stops the session.
                            let _ = commands.try_send(MediaCommand::Remote(remote));
                            sessions.insert(call.clone(), commands);
                            let itx = itx.clone();
                            tokio::spawn(async move {
                                while let Some(e) = session_events.recv().await {
                                    let _ = itx.send(Internal::Media(call.clone(), e)).await;
                                }
                            });
                        }
                    }
                    Err(e) => {
                        // No media: the call ends (BYE or 500, `Ended` with error) rather
                        // than going on silent.
                        tracing::warn!(%call, %local, error = %e, "RTP port could not be bound");
                        pending.push(Event::ActionFailed(format!("RTP port {local}: {e}")));
                        ua.media_failed(Instant::now(), &call);
                    }
                },
                Output::MediaUpdate { call, remote } => {
                    to_session(&mut ua, &mut sessions, &call, MediaCommand::Remote(remote));
                }
                Output::MediaStop { call } => {
                    if let Some(s) = sessions.remove(&call) {
                        stop_session(&s);
                    }
                }
            }
        }
        // What fits now goes at once; the rest waits for the `reserve` branch.
        pending.flush(&events);
        tcp_count.store(conns.len(), Ordering::Relaxed);
    }
    for s in sessions.values() {
        stop_session(s);
    }
}

/// Gives `m` to `call`'s RTP session. A session whose queue
/// ([`rayo_media::udp::COMMAND_QUEUE`]) is full has stalled (it takes a command in
/// microseconds): it is stopped and the call ends with an error (a BYE), rather than going
/// on with commands lost.
fn to_session(
    ua: &mut UserAgent,
    sessions: &mut HashMap<CallId, mpsc::Sender<MediaCommand>>,
    call: &CallId,
    m: MediaCommand,
) {
    let Some(s) = sessions.get(call) else {
        return;
    };
    if let Err(mpsc::error::TrySendError::Full(_)) = s.try_send(m) {
        tracing::warn!(%call, "RTP session not taking commands: stopped, call ended");
        if let Some(s) = sessions.remove(call) {
            stop_session(&s);
        }
        ua.media_failed(Instant::now(), call);
    }
}

/// Stops a session: by its command when there is room; else dropping its sender (the
/// driver holds the only one) closes its queue and it stops once it has drained it.
fn stop_session(s: &mpsc::Sender<MediaCommand>) {
    let _ = s.try_send(MediaCommand::Stop);
}

#[cfg(test)]
mod tests;
