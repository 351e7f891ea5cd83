//! Which source a call's RTP is taken from, sans-IO: the negotiated peer (the address and
//! port of the remote SDP), with symmetric-RTP latching (RFC 4961) for a peer behind NAT.
//!
//! The rule, packet by packet (`now` passed in):
//!
//! - Before the remote SDP address is known, nothing is accepted.
//! - A packet from the SDP address is always accepted, and the session locks onto it (its
//!   address and SSRC), even when it had latched onto another source before: the
//!   negotiated peer wins.
//! - While nothing is locked and the *latch window* (from when the SDP address was set, 2 s
//!   by default) is open, another source may be latched onto, but only after
//!   [`PROBATION`] packets in a row from the same address and SSRC with increasing
//!   sequence numbers (each at most [`PROBATION_GAP`] past the one before, for packets lost
//!   on the way; the ones before are dropped): one stray or forged packet latches nothing.
//!   A window of zero never latches onto another source.
//! - The address the call's signalling comes from (its SIP peer, [`SourceLock::preferring`])
//!   ranks next: a phone behind NAT sends its RTP from the same public address as its SIP.
//!   While the window is open, a source from that address (after the same probation) takes
//!   the lock from a source latched onto from elsewhere, so a stranger who sends first
//!   cannot keep the call's audio. (Sources from elsewhere still latch, for a media path
//!   that does not follow the signalling, say behind a proxy; such a call, in its window,
//!   can in turn lose its latch to packets spoofing the signalling address.)
//! - Once locked, packets from any other address are dropped. From the locked address, a
//!   new SSRC is taken only when the current one has been silent for [`SSRC_SILENCE`] (a
//!   peer that switches streams); one interleaved with a live stream is dropped.
//! - A new SDP address (a re-INVITE that moved the media) restarts all this; the same one
//!   changes nothing.
//!
//! What is dropped is counted ([`SourceStats`]) and logged at debug, at most once per
//! [`LOG_INTERVAL`]. Packets go back to where the accepted ones come from
//! ([`SourceLock::send_to`]), so a peer behind NAT hears the node.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Packets in a row, with increasing sequence numbers from one address and SSRC, before
/// a session latches onto a source other than the SDP address.
pub const PROBATION: u32 = 3;

/// How far past the one before a probation packet's sequence number may be (a few packets
/// lost; some senders, sipp's RFC 4733 among them, step by 2).
pub const PROBATION_GAP: u16 = 8;

/// How long the SSRC of the locked source must have been silent before another SSRC from
/// the same address is taken.
pub const SSRC_SILENCE: Duration = Duration::from_millis(100);

/// The shortest interval between two debug lines about dropped packets of one session.
pub const LOG_INTERVAL: Duration = Duration::from_secs(1);

/// The default latch window.
pub const DEFAULT_LATCH_WINDOW: Duration = Duration::from_secs(2);

/// Counters of packets the lock dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Packets from an address the session is not locked to (including those of a source
    /// on probation, and all before the SDP address was known).
    pub foreign_source: u64,
    /// Packets from the locked address with another SSRC while the locked one is live.
    pub foreign_ssrc: u64,
    /// Times the session locked onto a source (the first time, and each change).
    pub latches: u64,
}

impl SourceStats {
    /// All packets dropped.
    pub fn dropped(&self) -> u64 {
        self.foreign_source + self.foreign_ssrc
    }
}

#[derive(Debug, Clone, Copy)]
struct Locked {
    addr: SocketAddr,
    ssrc: u32,
    last: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    addr: SocketAddr,
    ssrc: u32,
    sequence: u16,
    count: u32,
}

/// The source lock of one session.
#[derive(Debug, Clone)]
pub struct SourceLock {
    window: Duration,
    preferred: Option<IpAddr>,
    remote: Option<(SocketAddr, Instant)>,
    locked: Option<Locked>,
    candidate: Option<Candidate>,
    stats: SourceStats,
    next_log: Option<Instant>,
}

impl SourceLock {
    /// A lock that may latch onto a source other than the SDP address during `window`
    /// after the address is set (zero: never).
    pub fn new(window: Duration) -> Self {
        SourceLock {
            window,
            preferred: None,
            remote: None,
            locked: None,
            candidate: None,
            stats: SourceStats::default(),
            next_log: None,
        }
    }

    /// The lock, ranking sources from `ip` (the address the call's signalling comes from)
    /// after the SDP address and before any other: within the window, one of them takes
    /// the lock from a source latched onto from elsewhere.
    pub fn preferring(self, ip: IpAddr) -> Self {
        SourceLock {
            // An IPv4 peer seen on a dual-stack SIP socket is `::ffff:a.b.c.d` there.
            preferred: Some(ip.to_canonical()),
            ..self
        }
    }

    /// The counters.
    pub fn stats(&self) -> SourceStats {
        self.stats
    }

    /// The remote SDP address is `addr` (at `now`). A new one restarts the lock and its
    /// window; the same one changes nothing.
    pub fn set_remote(&mut self, now: Instant, addr: SocketAddr) {
        if self.remote.is_some_and(|(a, _)| a == addr) {
            return;
        }
        self.remote = Some((addr, now));
        self.locked = None;
        self.candidate = None;
    }

    /// Where to send: the locked source, else the SDP address.
    pub fn send_to(&self) -> Option<SocketAddr> {
        self.locked.map(|l| l.addr).or(self.remote.map(|(a, _)| a))
    }

    /// The source the session is locked onto, if any.
    pub fn locked(&self) -> Option<(SocketAddr, u32)> {
        self.locked.map(|l| (l.addr, l.ssrc))
    }

    /// Whether a packet from `from` with this SSRC and sequence number, arriving at `now`,
    /// is taken. One that is not is counted (and logged, rate-limited).
    pub fn accept(&mut self, now: Instant, from: SocketAddr, ssrc: u32, sequence: u16) -> bool {
        let ok = self.decide(now, from, ssrc, sequence);
        if !ok && self.next_log.is_none_or(|t| now >= t) {
            self.next_log = Some(now + LOG_INTERVAL);
            tracing::debug!(
                %from,
                ssrc,
                locked = ?self.locked(),
                foreign_source = self.stats.foreign_source,
                foreign_ssrc = self.stats.foreign_ssrc,
                "RTP from a source the session is not locked to, dropped"
            );
        }
        ok
    }

    fn lock(&mut self, now: Instant, addr: SocketAddr, ssrc: u32) -> bool {
        self.locked = Some(Locked {
            addr,
            ssrc,
            last: now,
        });
        self.candidate = None;
        self.stats.latches += 1;
        true
    }

    fn decide(&mut self, now: Instant, from: SocketAddr, ssrc: u32, sequence: u16) -> bool {
        let Some((sdp, since)) = self.remote else {
            self.stats.foreign_source += 1;
            return false;
        };
        match &mut self.locked {
            Some(l) if l.addr == from => {
                if l.ssrc != ssrc && now.saturating_duration_since(l.last) < SSRC_SILENCE {
                    self.stats.foreign_ssrc += 1;
                    return false;
                }
                l.ssrc = ssrc;
                l.last = now;
                return true;
            }
            Some(_) if from == sdp => return self.lock(now, from, ssrc),
            // Latched onto a source from elsewhere: one from the signalling address may take
            // over, on probation like any candidate.
            Some(l)
                if self.preferred == Some(from.ip().to_canonical())
                    && l.addr != sdp
                    && Some(l.addr.ip().to_canonical()) != self.preferred => {}
            Some(_) => {
                self.stats.foreign_source += 1;
                return false;
            }
            None if from == sdp => return self.lock(now, from, ssrc),
            None => {}
        }
        if now.saturating_duration_since(since) >= self.window {
            self.stats.foreign_source += 1;
            return false;
        }
        let count = match self.candidate {
            Some(c)
                if c.addr == from
                    && c.ssrc == ssrc
                    && (1..=PROBATION_GAP).contains(&sequence.wrapping_sub(c.sequence)) =>
            {
                c.count + 1
            }
            _ => 1,
        };
        if count >= PROBATION {
            return self.lock(now, from, ssrc);
        }
        self.candidate = Some(Candidate {
            addr: from,
            ssrc,
            sequence,
            count,
        });
        self.stats.foreign_source += 1;
        false
    }
}

#[cfg(test)]
mod tests;
