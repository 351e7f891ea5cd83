//! The tokio driver of RTP: per-call UDP sockets from a configured port range, and a task
//! per call that paces one packet every 20 ms by the clock and feeds what arrives from the
//! call's peer ([`SourceLock`]) to the sans-IO [`Receiver`].

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::components::{ComponentCommand, ComponentEvent, Components};
use crate::hub::HubInput;
use crate::jitter::JitterStats;
use crate::latch::{SourceLock, SourceStats};
use crate::rtp::{RtpPacket, FRAME_DURATION, FRAME_SAMPLES};
use crate::stream::{DtmfSource, ReceiveStats, Receiver, Sender, StreamConfig};
use crate::Error;

/// A range of UDP ports for RTP; even ports are handed out in turn (RTCP would take the
/// odd one above).
#[derive(Debug)]
pub struct PortRange {
    ip: IpAddr,
    first: u16,
    last: u16,
    next: AtomicU32,
}

impl PortRange {
    /// Ports `first..=last` on `ip`.
    pub fn new(ip: IpAddr, first: u16, last: u16) -> Self {
        PortRange {
            ip,
            first: first & !1,
            last,
            next: AtomicU32::new(0),
        }
    }

    /// Binds a socket on the next free even port.
    pub async fn bind(&self) -> Result<UdpSocket, Error> {
        let count = u32::from(self.last.saturating_sub(self.first) / 2 + 1);
        for _ in 0..count {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % count;
            let port = self.first + (i * 2) as u16;
            if let Ok(s) = UdpSocket::bind(SocketAddr::new(self.ip, port)).await {
                return Ok(s);
            }
        }
        Err(Error::PortsExhausted)
    }
}

/// The sans-IO pacing clock: a tick every 20 ms from the start, never two at once. When the
/// driver wakes late by more than a frame, the missed ticks are dropped, not burst.
#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    next: Instant,
}

impl Pacer {
    /// Ticks from `start`.
    pub fn new(start: Instant) -> Self {
        Pacer { next: start }
    }

    /// When the next tick is due.
    pub fn poll_timeout(&self) -> Instant {
        self.next
    }

    /// Whether a tick is due at `now`; if so it is taken.
    pub fn tick(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        self.next += FRAME_DURATION;
        if now >= self.next {
            let behind = (now - self.next).as_micros() / FRAME_DURATION.as_micros() + 1;
            self.next += FRAME_DURATION * behind as u32;
        }
        true
    }
}

/// A command to a running session.
// Moved a few times per component or join, never per frame: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Command {
    /// The peer's address (from the remote SDP): what arrives is taken from it (or from the
    /// source latched onto, [`SourceLock`]) and what is sent goes there; nothing is sent or
    /// taken before.
    Remote(SocketAddr),
    /// Audio to send, 8 kHz linear; silence when the queue is empty.
    Play(Vec<i16>),
    /// An RFC 4733 digit to send.
    Dtmf(char),
    /// Something for the components running on the call (outputs, inputs, recorders).
    Component(ComponentCommand),
    /// The call is joined: send what it receives to the hub and add what the hub mixes
    /// for it to what it sends.
    Tap {
        /// The call's id, as the hub knows it.
        call: String,
        /// The hub.
        hub: mpsc::Sender<HubInput>,
    },
    /// Stop the session.
    Stop,
}

/// What a running session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// A digit arrived.
    Dtmf(char, DtmfSource),
    /// A component completed, or a prompt's input timers started.
    Component(ComponentEvent),
    /// The session stopped: what it sent and received.
    Stopped {
        /// Packets sent.
        sent: u64,
        /// Receive counters.
        received: ReceiveStats,
        /// Jitter buffer counters (losses are gaps in what arrived).
        jitter: JitterStats,
        /// Packets dropped as not from the call's peer.
        sources: SourceStats,
    },
}

/// The most commands waiting for a session ([`Session::commands`]).
pub const COMMAND_QUEUE: usize = 256;
/// The most events of a session waiting for its owner ([`Session::events`]).
pub const EVENT_QUEUE: usize = 256;

/// A handle on a call's RTP task.
#[derive(Debug)]
pub struct Session {
    /// The local address (for the SDP).
    pub local: SocketAddr,
    /// Commands, at most [`COMMAND_QUEUE`] waiting. The session takes each in microseconds:
    /// a full queue means it has stalled (its owner stops it).
    pub commands: mpsc::Sender<Command>,
    /// Events, at most [`EVENT_QUEUE`] waiting: beyond, the session waits for them to be
    /// taken (it sends and reads no RTP meanwhile).
    pub events: mpsc::Receiver<SessionEvent>,
    dropped: Arc<AtomicU64>,
}

impl Session {
    /// Spawns the RTP task of a call on `socket`; it takes what arrives from the sources
    /// `lock` accepts (the peer's SDP address, and others only as its window and
    /// preference allow).
    pub fn spawn(
        socket: UdpSocket,
        cfg: StreamConfig,
        ssrc: u32,
        lock: SourceLock,
    ) -> Result<Session, Error> {
        let local = socket.local_addr()?;
        let (ctx, crx) = mpsc::channel(COMMAND_QUEUE);
        let (etx, erx) = mpsc::channel(EVENT_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        tokio::spawn(run(socket, cfg, ssrc, lock, dropped.clone(), crx, etx));
        Ok(Session {
            local,
            commands: ctx,
            events: erx,
            dropped,
        })
    }

    /// Packets dropped so far as not from the call's peer (the total of the
    /// [`SourceStats`] the session reports when it stops).
    pub fn dropped_packets(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Whether `datagram` from `from` goes to the receiver: well-formed RTP only from the source
/// `lock` takes; what does not parse goes on (the receiver counts it malformed).
fn admit(lock: &mut SourceLock, now: Instant, from: SocketAddr, datagram: &[u8]) -> bool {
    match RtpPacket::parse(datagram) {
        Ok(p) => lock.accept(now, from, p.ssrc, p.sequence),
        Err(_) => true,
    }
}

async fn run(
    socket: UdpSocket,
    cfg: StreamConfig,
    ssrc: u32,
    mut lock: SourceLock,
    dropped: Arc<AtomicU64>,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<SessionEvent>,
) {
    let mut rx = Receiver::new(cfg.clone());
    let mut tx = Sender::new(cfg, ssrc, (ssrc >> 16) as u16, ssrc.rotate_left(7));
    let mut started = false;
    let mut pacer = Pacer::new(Instant::now());
    let mut audio: VecDeque<i16> = VecDeque::new();
    let mut frame = Vec::with_capacity(FRAME_SAMPLES);
    let mut packet = Vec::with_capacity(200);
    let mut sink = Vec::with_capacity(FRAME_SAMPLES);
    let mut buf = vec![0u8; 2048];
    let mut sent = 0u64;
    let mut components = Components::new();
    // What arrived, decoded, waiting for the next tick (a few frames at most).
    let mut heard: VecDeque<i16> = VecDeque::new();
    let mut received = vec![0i16; FRAME_SAMPLES];
    // Joined: the hub, and what it mixed for this call.
    let mut tap: Option<(String, mpsc::Sender<HubInput>)> = None;
    let mut mix_rx: Option<mpsc::Receiver<Vec<i16>>> = None;
    let mut mixed: VecDeque<i16> = VecDeque::new();
    loop {
        let mut wake = match rx.poll_timeout() {
            Some(t) => t.min(pacer.poll_timeout()),
            None => pacer.poll_timeout(),
        };
        if let Some(t) = components.poll_timeout() {
            wake = wake.min(t);
        }
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = r {
                    let now = Instant::now();
                    if admit(&mut lock, now, from, &buf[..n]) {
                        rx.handle_datagram(now, &buf[..n]);
                    } else {
                        dropped.store(lock.stats().dropped(), Ordering::Relaxed);
                    }
                }
            }
            c = commands.recv() => match c {
                Some(Command::Remote(a)) => {
                    if !started {
                        pacer = Pacer::new(Instant::now());
                        started = true;
                    }
                    lock.set_remote(Instant::now(), a);
                }
                Some(Command::Play(s)) => audio.extend(s),
                Some(Command::Dtmf(d)) => { let _ = tx.send_dtmf(d); }
                Some(Command::Component(c)) => components.handle(Instant::now(), c),
                Some(Command::Tap { call, hub }) => {
                    if tap.is_none() {
                        let (mtx, mrx) = mpsc::channel(crate::hub::MIX_QUEUE);
                        // Awaited: the hub never waits on a session, so this is short.
                        let _ = hub.send(HubInput::Attach { call: call.clone(), mix: mtx }).await;
                        mix_rx = Some(mrx);
                        tap = Some((call, hub));
                    }
                }
                Some(Command::Stop) | None => break,
            },
            Some(m) = async {
                match &mut mix_rx {
                    Some(r) => r.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                mixed.extend(m);
                let excess = mixed.len().saturating_sub(3 * FRAME_SAMPLES);
                mixed.drain(..excess);
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
        let now = Instant::now();
        while rx.poll_audio(now, &mut sink) {
            heard.extend(sink.drain(..));
        }
        let excess = heard.len().saturating_sub(4 * FRAME_SAMPLES);
        heard.drain(..excess);
        while let Some((d, src)) = rx.poll_dtmf() {
            let _ = events.send(SessionEvent::Dtmf(d, src)).await;
        }
        if pacer.tick(now) {
            frame.clear();
            let n = audio.len().min(FRAME_SAMPLES);
            frame.extend(audio.drain(..n));
            frame.resize(FRAME_SAMPLES, 0);
            let n = heard.len().min(FRAME_SAMPLES);
            received.clear();
            received.extend(heard.drain(..n));
            received.resize(FRAME_SAMPLES, 0);
            if let Some((call, hub)) = &tap {
                // Real time: a frame the hub has no room for is dropped (the hub
                // plays silence for it), never queued behind.
                let _ = hub.try_send(HubInput::Frame {
                    call: call.clone(),
                    samples: received.clone(),
                });
                let n = mixed.len().min(FRAME_SAMPLES);
                for (f, m) in frame.iter_mut().zip(mixed.drain(..n)) {
                    *f = f.saturating_add(m);
                }
            }
            if !components.is_empty() {
                components.tick(now, &received, &mut frame);
            }
            if let Some(to) = lock.send_to() {
                packet.clear();
                tx.tick(&frame, &mut packet);
                if socket.send_to(&packet, to).await.is_ok() {
                    sent += 1;
                }
            }
        } else {
            components.handle_timeout(now);
        }
        while let Some(e) = components.poll_event() {
            let _ = events.send(SessionEvent::Component(e)).await;
        }
    }
    if let Some((call, hub)) = tap {
        let _ = hub.send(HubInput::Detach { call }).await;
    }
    // Components still running when the session ends are the node's to complete (hangup);
    // recorders among them are closed so their files are whole.
    drop(components);
    let _ = events
        .send(SessionEvent::Stopped {
            sent,
            received: rx.stats(),
            jitter: rx.jitter_stats(),
            sources: lock.stats(),
        })
        .await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::time::Duration;

    const W: Duration = crate::latch::DEFAULT_LATCH_WINDOW;

    #[test]
    fn pacer_never_bursts() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        assert!(p.tick(t0));
        assert!(!p.tick(t0 + Duration::from_millis(19)));
        assert!(p.tick(t0 + Duration::from_millis(21)));
        assert_eq!(p.poll_timeout(), t0 + Duration::from_millis(40));
        // Woken 200 ms late: one tick, then the schedule goes on from there.
        assert!(p.tick(t0 + Duration::from_millis(240)));
        assert!(!p.tick(t0 + Duration::from_millis(241)));
        assert!(p.poll_timeout() > t0 + Duration::from_millis(240));
    }

    #[tokio::test]
    async fn two_sessions_exchange_packets_and_dtmf() {
        let range = PortRange::new("127.0.0.1".parse().expect("ip"), 41000, 41100);
        let a = Session::spawn(
            range.bind().await.expect("port"),
            StreamConfig::pcmu(),
            1,
            SourceLock::new(W),
        )
        .expect("a");
        let mut b = Session::spawn(
            range.bind().await.expect("port"),
            StreamConfig::pcmu(),
            2,
            SourceLock::new(W),
        )
        .expect("b");
        assert_ne!(a.local, b.local);
        a.commands
            .try_send(Command::Remote(b.local))
            .expect("running");
        b.commands
            .try_send(Command::Remote(a.local))
            .expect("running");
        a.commands.try_send(Command::Dtmf('4')).expect("running");
        let got = tokio::time::timeout(Duration::from_secs(2), b.events.recv())
            .await
            .expect("in time");
        assert_eq!(got, Some(SessionEvent::Dtmf('4', DtmfSource::Rfc4733)));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = a.commands.try_send(Command::Stop);
        b.commands.try_send(Command::Stop).expect("running");
        match tokio::time::timeout(Duration::from_secs(2), b.events.recv())
            .await
            .expect("in time")
        {
            Some(SessionEvent::Stopped { received, .. }) => {
                assert!(received.packets >= 10, "{received:?}")
            }
            e => panic!("{e:?}"),
        }
    }
}
