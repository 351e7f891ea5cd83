//! The tokio driver: a UDP socket and a TCP listener for SIP, the [`UserAgent`] woken by
//! them, by commands and by its next timer, and an RTP [`Session`] per call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use rayo_call::{CallId, SignalAction, SignalEvent};
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
    /// Commands.
    pub commands: mpsc::UnboundedSender<Command>,
    /// Events.
    pub events: mpsc::UnboundedReceiver<Event>,
}

enum Internal {
    Sip(Peer, Vec<u8>),
    Media(CallId, SessionEvent),
}

impl Driver {
    /// Binds UDP and TCP on `cfg.local` and spawns the driver.
    pub async fn spawn(cfg: Config) -> Result<Driver, Error> {
        let (udp, tcp) = bind_udp_and_tcp(cfg.local).await?;
        let local = udp.local_addr()?;
        let cfg = Config { local, ..cfg };
        let (ctx, crx) = mpsc::unbounded_channel();
        let (etx, erx) = mpsc::unbounded_channel();
        tokio::spawn(run(UserAgent::new(cfg), udp, tcp, crx, etx));
        Ok(Driver {
            local,
            commands: ctx,
            events: erx,
        })
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

/// Runs a TCP connection's reader and writer; returns the writer's queue.
fn spawn_tcp(
    stream: TcpStream,
    peer: SocketAddr,
    internal: mpsc::UnboundedSender<Internal>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (mut rd, mut wr) = stream.into_split();
    let (wtx, mut wrx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        while let Some(b) = wrx.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 8192];
        while let Ok(n) = rd.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            loop {
                match Message::parse(&buf, true) {
                    Ok((_, used)) => {
                        let msg: Vec<u8> = buf.drain(..used).collect();
                        let _ = internal.send(Internal::Sip(
                            Peer {
                                addr: peer,
                                transport: Transport::Tcp,
                            },
                            msg,
                        ));
                    }
                    Err(Error::Incomplete) if buf.len() < MAX_MESSAGE => break,
                    Err(_) => return, // a stream that does not frame: drop the connection
                }
            }
        }
    });
    wtx
}

async fn run(
    mut ua: UserAgent,
    udp: UdpSocket,
    tcp: TcpListener,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Event>,
) {
    let (itx, mut irx) = mpsc::unbounded_channel::<Internal>();
    let mut conns: HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>> = HashMap::new();
    let mut sessions: HashMap<CallId, mpsc::UnboundedSender<MediaCommand>> = HashMap::new();
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let wake = ua.poll_timeout();
        tokio::select! {
            r = udp.recv_from(&mut buf) => {
                if let Ok((n, from)) = r {
                    ua.handle_datagram(Instant::now(), Peer { addr: from, transport: Transport::Udp }, &buf[..n]);
                }
            }
            r = tcp.accept() => {
                if let Ok((s, peer)) = r {
                    conns.insert(peer, spawn_tcp(s, peer, itx.clone()));
                }
            }
            Some(i) = irx.recv() => match i {
                Internal::Sip(peer, bytes) => ua.handle_datagram(Instant::now(), peer, &bytes),
                Internal::Media(call, e) => { let _ = events.send(Event::Media(call, e)); }
            },
            c = commands.recv() => match c {
                Some(Command::Action(a)) => {
                    let dial = match &a {
                        SignalAction::Dial { call, .. } => Some(call.clone()),
                        _ => None,
                    };
                    if let Err(e) = ua.handle_action(Instant::now(), a) {
                        let _ = events.send(match dial {
                            Some(call) => Event::DialFailed { call, reason: e.to_string() },
                            None => Event::ActionFailed(e.to_string()),
                        });
                    }
                }
                Some(Command::Media(call, m)) => {
                    if let Some(s) = sessions.get(&call) {
                        let _ = s.send(m);
                    }
                }
                Some(Command::Stop) | None => break,
            },
            _ = async {
                match wake {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending::<()>().await,
                }
            } => ua.handle_timeout(Instant::now()),
        }
        while let Some(o) = ua.poll_output() {
            match o {
                Output::Transmit(t) => match t.peer.transport {
                    Transport::Udp => {
                        let _ = udp.send_to(&t.bytes, t.peer.addr).await;
                    }
                    Transport::Tcp => {
                        if let std::collections::hash_map::Entry::Vacant(e) =
                            conns.entry(t.peer.addr)
                        {
                            if let Ok(s) = TcpStream::connect(t.peer.addr).await {
                                e.insert(spawn_tcp(s, t.peer.addr, itx.clone()));
                            }
                        }
                        if let Some(w) = conns.get(&t.peer.addr) {
                            let _ = w.send(t.bytes);
                        }
                    }
                },
                Output::Signal { call, event } => {
                    let source = match &event {
                        SignalEvent::Incoming { .. } => ua.peer_of(&call),
                        _ => None,
                    };
                    let _ = events.send(match source {
                        Some(p) => Event::Incoming {
                            call,
                            source: p.addr,
                            event,
                        },
                        None => Event::Signal(call, event),
                    });
                }
                Output::MediaStart {
                    call,
                    local,
                    remote,
                    config,
                    ssrc,
                } => match UdpSocket::bind(local).await {
                    Ok(sock) => {
                        if let Ok(mut s) = Session::spawn(sock, config, ssrc) {
                            let _ = s.commands.send(MediaCommand::Remote(remote));
                            sessions.insert(call.clone(), s.commands.clone());
                            let itx = itx.clone();
                            tokio::spawn(async move {
                                while let Some(e) = s.events.recv().await {
                                    let _ = itx.send(Internal::Media(call.clone(), e));
                                }
                            });
                        }
                    }
                    Err(e) => {
                        let _ = events.send(Event::ActionFailed(format!("RTP port {local}: {e}")));
                    }
                },
                Output::MediaUpdate { call, remote } => {
                    if let Some(s) = sessions.get(&call) {
                        let _ = s.send(MediaCommand::Remote(remote));
                    }
                }
                Output::MediaStop { call } => {
                    if let Some(s) = sessions.remove(&call) {
                        let _ = s.send(MediaCommand::Stop);
                    }
                }
            }
        }
    }
    for s in sessions.values() {
        let _ = s.send(MediaCommand::Stop);
    }
}
