//! RFC 4733 telephone events: receiving (each event reported once, whatever the
//! duplicates, retransmitted updates and the three redundant end packets) and sending.

use std::collections::VecDeque;

use crate::Error;

/// The digit of an RFC 4733 event code (0-15), if it is one.
pub fn event_digit(code: u8) -> Option<char> {
    match code {
        0..=9 => Some(char::from(b'0' + code)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + code - 12)),
        _ => None,
    }
}

/// The RFC 4733 event code of a digit.
pub fn digit_event(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    /// The event code.
    pub event: u8,
    /// The end bit.
    pub end: bool,
    /// The volume, 0 to 63 (-dBm0).
    pub volume: u8,
    /// The duration so far, in timestamp units.
    pub duration: u16,
}

impl EventPayload {
    /// Parses the first event of an RTP payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        let [event, flags, d0, d1, ..] = *payload else {
            return Err(Error::Malformed(
                "telephone-event payload shorter than 4 bytes",
            ));
        };
        Ok(EventPayload {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// The 4-byte payload.
    pub fn to_bytes(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }
}

/// A received telephone event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TelephoneEvent {
    /// A digit began (reported once per event).
    Start {
        /// The digit.
        digit: char,
    },
    /// The digit ended (reported once per event).
    End {
        /// The digit.
        digit: char,
        /// Its duration in timestamp units.
        duration: u16,
    },
}

#[derive(Debug, Clone, Copy)]
struct Current {
    timestamp: u32,
    event: u8,
    ended: bool,
}

/// The receiving side: packets in, each event's start and end out exactly once.
#[derive(Debug, Default)]
pub struct EventReceiver {
    current: Option<Current>,
    /// Recently finished events (timestamp, code), so that stragglers are not new events.
    history: VecDeque<(u32, u8)>,
    out: VecDeque<TelephoneEvent>,
}

impl EventReceiver {
    /// A receiver with no event seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the payload of a telephone-event packet with its RTP timestamp.
    pub fn handle(&mut self, timestamp: u32, payload: &[u8]) -> Result<(), Error> {
        let p = EventPayload::parse(payload)?;
        let Some(digit) = event_digit(p.event) else {
            return Ok(());
        };
        if let Some(cur) = &mut self.current {
            if cur.timestamp == timestamp && cur.event == p.event {
                if p.end && !cur.ended {
                    cur.ended = true;
                    self.out.push_back(TelephoneEvent::End {
                        digit,
                        duration: p.duration,
                    });
                }
                return Ok(());
            }
        }
        if self.history.contains(&(timestamp, p.event)) {
            return Ok(());
        }
        if let Some(old) = self.current.take() {
            if !old.ended {
                if let Some(d) = event_digit(old.event) {
                    self.out.push_back(TelephoneEvent::End {
                        digit: d,
                        duration: 0,
                    });
                }
            }
            if self.history.len() == 8 {
                self.history.pop_front();
            }
            self.history.push_back((old.timestamp, old.event));
        }
        self.current = Some(Current {
            timestamp,
            event: p.event,
            ended: p.end,
        });
        self.out.push_back(TelephoneEvent::Start { digit });
        if p.end {
            self.out.push_back(TelephoneEvent::End {
                digit,
                duration: p.duration,
            });
        }
        Ok(())
    }

    /// The next event.
    pub fn poll(&mut self) -> Option<TelephoneEvent> {
        self.out.pop_front()
    }
}

/// The sending side of one event: a payload per 20 ms tick, the duration growing, then
/// the end packet three times (RFC 4733 §2.5.1.4).
#[derive(Debug, Clone)]
pub struct EventSender {
    event: u8,
    volume: u8,
    total: u32,
    step: u32,
    sent: u32,
    ends_left: u8,
    started: bool,
}

impl EventSender {
    /// Sends `digit` for `duration_samples` (at 8 kHz: 800 is 100 ms), `step` samples a
    /// tick (160 for 20 ms), at `volume` -dBm0.
    pub fn new(digit: char, duration_samples: u32, step: u32, volume: u8) -> Result<Self, Error> {
        let event = digit_event(digit).ok_or(Error::UnknownDigit(digit))?;
        Ok(EventSender {
            event,
            volume: volume.min(63),
            total: duration_samples.clamp(step.max(1), u32::from(u16::MAX)),
            step: step.max(1),
            sent: 0,
            ends_left: 3,
            started: false,
        })
    }

    /// The payload of the next tick and whether it carries the marker; `None` when done.
    pub fn next_payload(&mut self) -> Option<(bool, [u8; 4])> {
        if self.ends_left == 0 {
            return None;
        }
        let marker = !self.started;
        self.started = true;
        self.sent = (self.sent + self.step).min(self.total);
        let end = self.sent >= self.total;
        if end {
            self.ends_left -= 1;
        }
        let p = EventPayload {
            event: self.event,
            end,
            volume: self.volume,
            duration: self.sent as u16,
        };
        Some((marker, p.to_bytes()))
    }

    /// Whether the end packets are all out.
    pub fn is_done(&self) -> bool {
        self.ends_left == 0
    }
}

/// Fuzzing entry point: `data` as a sequence of 8-byte records (RTP timestamp, then a
/// telephone-event payload) fed to an [`EventReceiver`]; every start reported must be of a
/// new (timestamp, event) and be followed by at most one end.
pub fn fuzz_bytes(data: &[u8]) {
    let mut rx = EventReceiver::new();
    let mut open: Option<char> = None;
    for rec in data.chunks(8) {
        let ts = rec
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0);
        let _ = rx.handle(ts, rec.get(4..).unwrap_or(&[]));
        while let Some(e) = rx.poll() {
            match e {
                TelephoneEvent::Start { digit } => {
                    assert!(open.is_none(), "a start while {open:?} is open");
                    open = Some(digit);
                }
                TelephoneEvent::End { digit, .. } => {
                    assert_eq!(open.take(), Some(digit), "an end without its start");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn digits(rx: &mut EventReceiver) -> Vec<TelephoneEvent> {
        std::iter::from_fn(|| rx.poll()).collect()
    }

    #[test]
    fn sent_event_is_received_once() {
        let mut tx = EventSender::new('#', 800, 160, 10).expect("digit");
        let mut rx = EventReceiver::new();
        let mut n = 0;
        let mut markers = 0;
        while let Some((marker, p)) = tx.next_payload() {
            markers += usize::from(marker);
            rx.handle(1000, &p).expect("valid");
            rx.handle(1000, &p).expect("valid"); // duplicated by the network
            n += 1;
        }
        assert_eq!((n, markers), (5 + 2, 1)); // 5 ticks, the last one an end, 2 more ends
        assert_eq!(
            digits(&mut rx),
            vec![
                TelephoneEvent::Start { digit: '#' },
                TelephoneEvent::End {
                    digit: '#',
                    duration: 800
                }
            ]
        );
    }

    #[test]
    fn sequence_of_digits_each_once() {
        let mut rx = EventReceiver::new();
        let mut ts = 0u32;
        for d in "12#*9".chars() {
            let mut tx = EventSender::new(d, 400, 160, 10).expect("digit");
            while let Some((_, p)) = tx.next_payload() {
                rx.handle(ts, &p).expect("valid");
            }
            ts += 1600;
        }
        let starts: String = digits(&mut rx)
            .into_iter()
            .filter_map(|e| match e {
                TelephoneEvent::Start { digit } => Some(digit),
                TelephoneEvent::End { .. } => None,
            })
            .collect();
        assert_eq!(starts, "12#*9");
    }

    #[test]
    fn lost_start_and_lost_end() {
        let mut rx = EventReceiver::new();
        // Only an end packet of '5' arrives: still once.
        let end5 = EventPayload {
            event: 5,
            end: true,
            volume: 10,
            duration: 800,
        }
        .to_bytes();
        rx.handle(0, &end5).expect("valid");
        rx.handle(0, &end5).expect("valid");
        // '6' never ends: the next event closes it.
        let s6 = EventPayload {
            event: 6,
            end: false,
            volume: 10,
            duration: 160,
        }
        .to_bytes();
        rx.handle(800, &s6).expect("valid");
        let s7 = EventPayload {
            event: 7,
            end: false,
            volume: 10,
            duration: 160,
        }
        .to_bytes();
        rx.handle(1600, &s7).expect("valid");
        // A straggler of '5' is not a new event.
        rx.handle(0, &end5).expect("valid");
        use TelephoneEvent::*;
        assert_eq!(
            digits(&mut rx),
            vec![
                Start { digit: '5' },
                End {
                    digit: '5',
                    duration: 800
                },
                Start { digit: '6' },
                End {
                    digit: '6',
                    duration: 0
                },
                Start { digit: '7' }
            ]
        );
        assert!(rx.handle(0, &[1, 2]).is_err());
        assert!(EventSender::new('x', 800, 160, 10).is_err());
    }
}
