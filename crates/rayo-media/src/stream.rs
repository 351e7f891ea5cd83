//! One call's RTP stream, sans-IO: datagrams in with `now`, decoded audio and DTMF out;
//! audio frames in, packets out.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::dtmf::{EventReceiver, EventSender, TelephoneEvent};
use crate::g711::{Law, G711};
use crate::inband::InbandDetector;
use crate::jitter::{JitterBuffer, JitterStats, Playout};
use crate::rtp::{Packetizer, RtpPacket, FRAME_SAMPLES};
use crate::Error;

/// What was negotiated for a stream (by SDP offer/answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    /// The audio codec and its payload type.
    pub audio: (u8, Law),
    /// The telephone-event payload type, if negotiated.
    pub telephone_event: Option<u8>,
    /// The jitter buffer's playout delay.
    pub jitter_delay: Duration,
    /// Whether to look for DTMF tones in the audio.
    pub inband_dtmf: bool,
}

impl StreamConfig {
    /// PCMU (0) with telephone-event 101, a 40 ms jitter buffer and in-band detection.
    pub fn pcmu() -> Self {
        StreamConfig {
            audio: (0, Law::Ulaw),
            telephone_event: Some(101),
            jitter_delay: Duration::from_millis(40),
            inband_dtmf: true,
        }
    }
}

/// Counters of what arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveStats {
    /// Datagrams that parsed as RTP.
    pub packets: u64,
    /// Datagrams dropped as malformed RTP or telephone-event payloads.
    pub malformed: u64,
    /// Packets of a payload type not negotiated, ignored.
    pub unknown_payload_type: u64,
}

/// A DTMF digit received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfSource {
    /// By RFC 4733 telephone event.
    Rfc4733,
    /// Detected in the audio.
    Inband,
}

/// The receiving half of a stream.
#[derive(Debug)]
pub struct Receiver {
    cfg: StreamConfig,
    codec: G711,
    jitter: JitterBuffer,
    events: EventReceiver,
    inband: Option<InbandDetector>,
    digits: VecDeque<(char, DtmfSource)>,
    stats: ReceiveStats,
}

impl Receiver {
    /// A receiver for `cfg`.
    pub fn new(cfg: StreamConfig) -> Self {
        Receiver {
            codec: G711::new(cfg.audio.1),
            jitter: JitterBuffer::new(cfg.jitter_delay, 50, 8000),
            events: EventReceiver::new(),
            inband: cfg.inband_dtmf.then(InbandDetector::new),
            digits: VecDeque::new(),
            stats: ReceiveStats::default(),
            cfg,
        }
    }

    /// The counters.
    pub fn stats(&self) -> ReceiveStats {
        self.stats
    }

    /// The jitter buffer's counters.
    pub fn jitter_stats(&self) -> JitterStats {
        self.jitter.stats()
    }

    /// Takes a datagram that arrived at `now`. Malformed ones are counted and dropped.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        let Ok(p) = RtpPacket::parse(datagram) else {
            self.stats.malformed += 1;
            return;
        };
        self.stats.packets += 1;
        if p.payload_type == self.cfg.audio.0 {
            self.jitter.push(
                now,
                p.ssrc,
                p.sequence,
                p.timestamp,
                p.payload_type,
                p.payload,
            );
        } else if Some(p.payload_type) == self.cfg.telephone_event {
            if self.events.handle(p.timestamp, p.payload).is_err() {
                self.stats.malformed += 1;
            }
            while let Some(e) = self.events.poll() {
                if let TelephoneEvent::Start { digit } = e {
                    self.digits.push_back((digit, DtmfSource::Rfc4733));
                }
            }
        } else {
            self.stats.unknown_payload_type += 1;
        }
    }

    /// When [`Receiver::poll_audio`] next has something.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.jitter.poll_timeout()
    }

    /// Appends the next frame due by `now`, decoded (silence for a lost one), to `out`.
    /// Returns false when nothing is due.
    pub fn poll_audio(&mut self, now: Instant, out: &mut Vec<i16>) -> bool {
        let start = out.len();
        match self.jitter.poll(now) {
            None => return false,
            Some(Playout::Frame(f)) => self.codec.decode(&f.payload, out),
            Some(Playout::Lost) => out.extend(std::iter::repeat_n(0, FRAME_SAMPLES)),
        }
        if let Some(d) = &mut self.inband {
            let digits = &mut self.digits;
            d.feed(&out[start..], |c| digits.push_back((c, DtmfSource::Inband)));
        }
        true
    }

    /// The next digit received, each once.
    pub fn poll_dtmf(&mut self) -> Option<(char, DtmfSource)> {
        self.digits.pop_front()
    }
}

/// The sending half of a stream: one packet per 20 ms tick.
#[derive(Debug)]
pub struct Sender {
    cfg: StreamConfig,
    codec: G711,
    packetizer: Packetizer,
    queued: VecDeque<char>,
    event: Option<(u32, EventSender)>,
    encoded: Vec<u8>,
}

impl Sender {
    /// A sender for `cfg` with this SSRC, first sequence number and timestamp.
    pub fn new(cfg: StreamConfig, ssrc: u32, sequence: u16, timestamp: u32) -> Self {
        Sender {
            codec: G711::new(cfg.audio.1),
            packetizer: Packetizer::new(ssrc, sequence, timestamp),
            queued: VecDeque::new(),
            event: None,
            encoded: Vec::with_capacity(FRAME_SAMPLES),
            cfg,
        }
    }

    /// Queues an RFC 4733 digit (100 ms) to go out instead of audio.
    pub fn send_dtmf(&mut self, digit: char) -> Result<(), Error> {
        if self.cfg.telephone_event.is_none() {
            return Err(Error::NotNegotiated("telephone-event"));
        }
        crate::dtmf::digit_event(digit).ok_or(Error::UnknownDigit(digit))?;
        self.queued.push_back(digit);
        Ok(())
    }

    /// The packetizer's state (sequence number and timestamp of the next packet).
    pub fn packetizer(&self) -> &Packetizer {
        &self.packetizer
    }

    /// Writes the packet of one 20 ms tick to `out`: `samples` (160) encoded, or the
    /// telephone event under way.
    pub fn tick(&mut self, samples: &[i16], out: &mut Vec<u8>) {
        if self.event.is_none() {
            if let Some(d) = self.queued.pop_front() {
                if let Ok(s) = EventSender::new(d, 800, FRAME_SAMPLES as u32, 10) {
                    self.event = Some((self.packetizer.timestamp(), s));
                }
            }
        }
        if let (Some((ts, ev)), Some(pt)) = (&mut self.event, self.cfg.telephone_event) {
            if let Some((marker, payload)) = ev.next_payload() {
                self.packetizer.event(pt, marker, *ts, &payload, out);
                self.packetizer.skip(FRAME_SAMPLES as u32);
                if ev.is_done() {
                    self.event = None;
                }
                return;
            }
        }
        self.event = None;
        self.encoded.clear();
        self.codec.encode(samples, &mut self.encoded);
        self.packetizer
            .frame(self.cfg.audio.0, &self.encoded, samples.len() as u32, out);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn sender_to_receiver_audio_and_dtmf() {
        let t0 = Instant::now();
        let cfg = StreamConfig::pcmu();
        let mut tx = Sender::new(cfg.clone(), 99, 1, 1000);
        let mut rx = Receiver::new(StreamConfig {
            inband_dtmf: false,
            ..cfg
        });
        tx.send_dtmf('7').expect("negotiated");
        let audio = vec![1000i16; 160];
        let mut got = Vec::new();
        for i in 0..20u32 {
            let mut pkt = Vec::new();
            tx.tick(&audio, &mut pkt);
            let now = t0 + Duration::from_millis(20 * u64::from(i));
            rx.handle_datagram(now, &pkt);
            rx.handle_datagram(now, &[0x80, 1, 2]); // malformed
            rx.handle_datagram(
                now,
                &RtpPacket {
                    marker: false,
                    payload_type: 97,
                    sequence: 1,
                    timestamp: 0,
                    ssrc: 5,
                    payload: &[0; 10],
                }
                .to_vec(),
            );
            while rx.poll_audio(now, &mut got) {}
        }
        assert_eq!(rx.poll_dtmf(), Some(('7', DtmfSource::Rfc4733)));
        assert_eq!(rx.poll_dtmf(), None);
        let s = rx.stats();
        assert_eq!(
            (s.packets, s.malformed, s.unknown_payload_type),
            (40, 20, 20)
        );
        // 7 event ticks, then 13 audio frames of which 11 were due.
        assert_eq!(got.len(), 11 * 160);
        assert!(got.iter().all(|&s| (s - 1000).abs() < 64));
    }

    #[test]
    fn inband_digits_through_the_receiver() {
        let t0 = Instant::now();
        let cfg = StreamConfig::pcmu();
        let mut tx = Sender::new(cfg.clone(), 1, 1, 0);
        let mut rx = Receiver::new(cfg);
        let mut pcm = Vec::new();
        for d in "3#".chars() {
            pcm.extend(crate::inband::tone(d, 800, 5000.0, 0.0));
            pcm.extend(vec![0i16; 800]);
        }
        let mut sink = Vec::new();
        for (i, frame) in pcm.chunks(160).enumerate() {
            let mut pkt = Vec::new();
            tx.tick(frame, &mut pkt);
            let now = t0 + Duration::from_millis(20 * i as u64);
            rx.handle_datagram(now, &pkt);
            while rx.poll_audio(now + Duration::from_millis(100), &mut sink) {}
        }
        let digits: Vec<_> = std::iter::from_fn(|| rx.poll_dtmf()).collect();
        assert_eq!(
            digits,
            vec![('3', DtmfSource::Inband), ('#', DtmfSource::Inband)]
        );
    }
}
