//! A sans-IO jitter buffer: packets go in with the time they arrived, frames come out in
//! sequence order when their playout time (arrival of the first packet plus a fixed delay
//! plus the media time since) has come. A gap whose successor is due comes out as a loss.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One buffered frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The payload type.
    pub payload_type: u8,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The encoded payload.
    pub payload: Vec<u8>,
}

/// What the buffer plays out next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// The frame of the next sequence number.
    Frame(Frame),
    /// The next sequence number never arrived in time (conceal it).
    Lost,
}

/// Counters of what the buffer did with packets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets accepted.
    pub accepted: u64,
    /// Packets dropped because their slot was already played out.
    pub late: u64,
    /// Packets dropped because their slot already held one.
    pub duplicate: u64,
    /// Frames played as lost.
    pub lost: u64,
    /// Times the buffer restarted (a jump in sequence numbers or a new SSRC).
    pub resyncs: u64,
}

/// The jitter buffer of one stream.
#[derive(Debug)]
pub struct JitterBuffer {
    delay: Duration,
    capacity: u64,
    clock_rate: u32,
    base: Option<Base>,
    next: u64,
    highest: u64,
    slots: BTreeMap<u64, (i64, Frame)>,
    stats: JitterStats,
}

#[derive(Debug, Clone, Copy)]
struct Base {
    at: Instant,
    timestamp: u32,
    ssrc: u32,
}

impl JitterBuffer {
    /// A buffer delaying playout by `delay`, holding at most `capacity` frames, for media
    /// of `clock_rate` Hz.
    pub fn new(delay: Duration, capacity: usize, clock_rate: u32) -> Self {
        JitterBuffer {
            delay,
            capacity: capacity.max(1) as u64,
            clock_rate: clock_rate.max(1),
            base: None,
            next: 0,
            highest: 0,
            slots: BTreeMap::new(),
            stats: JitterStats::default(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no frame is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn restart(&mut self, now: Instant, ssrc: u32, sequence: u16, timestamp: u32) -> u64 {
        let ext = 1 << 20 | u64::from(sequence);
        self.base = Some(Base {
            at: now,
            timestamp,
            ssrc,
        });
        self.next = ext;
        self.highest = ext;
        self.slots.clear();
        ext
    }

    /// Takes a packet that arrived at `now`.
    pub fn push(
        &mut self,
        now: Instant,
        ssrc: u32,
        sequence: u16,
        timestamp: u32,
        payload_type: u8,
        payload: &[u8],
    ) {
        let ext = match self.base {
            Some(b) if b.ssrc == ssrc => {
                let diff = i64::from(sequence.wrapping_sub(self.highest as u16) as i16);
                let ext = (self.highest as i64 + diff) as u64;
                if ext < self.next {
                    self.stats.late += 1;
                    return;
                }
                if ext >= self.next + self.capacity {
                    self.stats.resyncs += 1;
                    self.restart(now, ssrc, sequence, timestamp)
                } else {
                    ext
                }
            }
            Some(_) => {
                self.stats.resyncs += 1;
                self.restart(now, ssrc, sequence, timestamp)
            }
            None => self.restart(now, ssrc, sequence, timestamp),
        };
        if self.slots.contains_key(&ext) {
            self.stats.duplicate += 1;
            return;
        }
        let Some(base) = self.base else { return };
        let rel = i64::from(timestamp.wrapping_sub(base.timestamp) as i32);
        self.highest = self.highest.max(ext);
        self.stats.accepted += 1;
        self.slots.insert(
            ext,
            (
                rel,
                Frame {
                    payload_type,
                    timestamp,
                    payload: payload.to_vec(),
                },
            ),
        );
    }

    fn due(&self, rel: i64) -> Option<Instant> {
        let base = self.base?;
        let at = base.at + self.delay;
        if rel >= 0 {
            Some(at + Duration::from_micros(rel as u64 * 1_000_000 / u64::from(self.clock_rate)))
        } else {
            at.checked_sub(Duration::from_micros(
                rel.unsigned_abs() * 1_000_000 / u64::from(self.clock_rate),
            ))
        }
    }

    /// When the next frame (or loss) is due, if anything is buffered.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let (_, (rel, _)) = self.slots.first_key_value()?;
        self.due(*rel)
    }

    /// The next frame or loss due by `now`, in sequence order.
    pub fn poll(&mut self, now: Instant) -> Option<Playout> {
        let (&seq, (rel, _)) = self.slots.first_key_value()?;
        if self.due(*rel)? > now {
            return None;
        }
        if seq == self.next {
            self.next += 1;
            self.slots.remove(&seq).map(|(_, f)| Playout::Frame(f))
        } else {
            self.next += 1;
            self.stats.lost += 1;
            Some(Playout::Lost)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn frames(jb: &mut JitterBuffer, now: Instant) -> Vec<Option<u32>> {
        let mut v = Vec::new();
        while let Some(p) = jb.poll(now) {
            v.push(match p {
                Playout::Frame(f) => Some(f.timestamp),
                Playout::Lost => None,
            });
        }
        v
    }

    #[test]
    fn reorders_and_delays() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(40 * MS, 50, 8000);
        jb.push(t0, 1, 10, 1600, 0, &[0]);
        jb.push(t0 + 25 * MS, 1, 12, 1920, 0, &[0]);
        jb.push(t0 + 30 * MS, 1, 11, 1760, 0, &[0]);
        assert_eq!(frames(&mut jb, t0 + 39 * MS), vec![]);
        assert_eq!(jb.poll_timeout(), Some(t0 + 40 * MS));
        assert_eq!(frames(&mut jb, t0 + 40 * MS), vec![Some(1600)]);
        assert_eq!(frames(&mut jb, t0 + 80 * MS), vec![Some(1760), Some(1920)]);
        assert!(jb.is_empty());
    }

    #[test]
    fn gaps_late_and_duplicates() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(40 * MS, 50, 8000);
        jb.push(t0, 1, 65535, 0, 0, &[0]);
        jb.push(t0, 1, 65535, 0, 0, &[0]);
        jb.push(t0 + 40 * MS, 1, 1, 320, 0, &[0]); // 0 is lost, wraps
        assert_eq!(
            frames(&mut jb, t0 + 80 * MS),
            vec![Some(0), None, Some(320)]
        );
        jb.push(t0 + 90 * MS, 1, 0, 160, 0, &[0]); // too late now
        let s = jb.stats();
        assert_eq!((s.accepted, s.duplicate, s.lost, s.late), (2, 1, 1, 1));
    }

    #[test]
    fn jump_or_new_ssrc_restarts() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(20 * MS, 10, 8000);
        jb.push(t0, 1, 100, 0, 0, &[0]);
        jb.push(t0, 1, 5000, 99, 0, &[0]);
        assert_eq!(jb.stats().resyncs, 1);
        jb.push(t0, 2, 7, 5, 0, &[0]);
        assert_eq!(jb.stats().resyncs, 2);
        assert_eq!(frames(&mut jb, t0 + 20 * MS), vec![Some(5)]);
    }
}
