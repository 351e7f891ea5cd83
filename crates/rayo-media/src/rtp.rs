//! RTP packets (RFC 3550): parse, serialise, and the sending side's framing of 20 ms frames
//! with consecutive sequence numbers and timestamps under one SSRC.

use crate::Error;

/// Samples per 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
/// The length of a frame.
pub const FRAME_DURATION: std::time::Duration = std::time::Duration::from_millis(20);

/// A parsed RTP packet borrowing its payload from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The marker bit.
    pub marker: bool,
    /// The payload type (7 bits).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence: u16,
    /// The timestamp.
    pub timestamp: u32,
    /// The synchronisation source.
    pub ssrc: u32,
    /// The payload, without padding.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses a datagram. Anything not a well-formed RTP version 2 packet is an error.
    pub fn parse(buf: &'a [u8]) -> Result<Self, Error> {
        if buf.len() < 12 {
            return Err(Error::Malformed("shorter than the RTP header"));
        }
        let b0 = buf[0];
        if b0 >> 6 != 2 {
            return Err(Error::Malformed("RTP version is not 2"));
        }
        let padding = b0 & 0x20 != 0;
        let extension = b0 & 0x10 != 0;
        let csrcs = usize::from(b0 & 0x0f);
        let mut offset = 12 + 4 * csrcs;
        if buf.len() < offset {
            return Err(Error::Malformed("CSRC list beyond the packet"));
        }
        if extension {
            let ext = buf
                .get(offset + 2..offset + 4)
                .ok_or(Error::Malformed("header extension beyond the packet"))?;
            let words = usize::from(u16::from_be_bytes([ext[0], ext[1]]));
            offset += 4 + 4 * words;
            if buf.len() < offset {
                return Err(Error::Malformed("header extension beyond the packet"));
            }
        }
        let mut end = buf.len();
        if padding {
            let pad = usize::from(buf[end - 1]);
            if pad == 0 || end - offset < pad {
                return Err(Error::Malformed("bad padding length"));
            }
            end -= pad;
        }
        Ok(RtpPacket {
            marker: buf[1] & 0x80 != 0,
            payload_type: buf[1] & 0x7f,
            sequence: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
            payload: &buf[offset..end],
        })
    }

    /// Appends the packet (no CSRC, extension or padding) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(0x80);
        out.push((u8::from(self.marker) << 7) | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(self.payload);
    }

    /// The packet as a new datagram.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(12 + self.payload.len());
        self.write(&mut v);
        v
    }
}

/// The sending side of one RTP stream: it numbers packets and keeps the timestamp running
/// at 8 kHz, one frame of [`FRAME_SAMPLES`] per packet.
#[derive(Debug, Clone)]
pub struct Packetizer {
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    first: bool,
}

impl Packetizer {
    /// A stream with this SSRC, first sequence number and first timestamp (pick them at
    /// random, RFC 3550 §5.1).
    pub fn new(ssrc: u32, sequence: u16, timestamp: u32) -> Self {
        Packetizer {
            ssrc,
            sequence,
            timestamp,
            first: true,
        }
    }

    /// The SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The sequence number the next packet gets.
    pub fn next_sequence(&self) -> u16 {
        self.sequence
    }

    /// The timestamp of the next frame.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }

    /// Writes one packet of `payload` (an encoded frame of `samples` samples) to `out`,
    /// then advances sequence number and timestamp. The first packet carries the marker.
    pub fn frame(&mut self, payload_type: u8, payload: &[u8], samples: u32, out: &mut Vec<u8>) {
        let p = RtpPacket {
            marker: self.first,
            payload_type,
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            payload,
        };
        p.write(out);
        self.first = false;
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(samples);
    }

    /// Writes a packet with an explicit timestamp and marker (telephone events keep the
    /// timestamp of the event start), advancing only the sequence number.
    pub fn event(
        &mut self,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) {
        let p = RtpPacket {
            marker,
            payload_type,
            sequence: self.sequence,
            timestamp,
            ssrc: self.ssrc,
            payload,
        };
        p.write(out);
        self.sequence = self.sequence.wrapping_add(1);
    }

    /// Lets `samples` of time pass without sending audio (during a telephone event).
    pub fn skip(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
    }
}

/// Fuzzing entry point: parses `data` as an RTP packet; one that parses must serialise and
/// parse back to the same header and payload. Never panics otherwise.
pub fn fuzz_bytes(data: &[u8]) {
    if let Ok(p) = RtpPacket::parse(data) {
        let again = p.to_vec();
        let q = RtpPacket::parse(&again);
        assert_eq!(q.ok(), Some(p), "RTP round trip");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn round_trip() {
        let p = RtpPacket {
            marker: true,
            payload_type: 8,
            sequence: 65535,
            timestamp: 0xdead_beef,
            ssrc: 42,
            payload: &[1, 2, 3],
        };
        let v = p.to_vec();
        assert_eq!(v.len(), 15);
        assert_eq!(RtpPacket::parse(&v).expect("valid"), p);
    }

    #[test]
    fn csrc_extension_and_padding() {
        let mut v = vec![0xb1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        v.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        v.extend_from_slice(&[0xbe, 0xde, 0, 1, 7, 7, 7, 7]); // extension of one word
        v.extend_from_slice(&[0xaa, 0xbb, 0, 2]); // payload + 2 padding bytes
        let p = RtpPacket::parse(&v).expect("valid");
        assert_eq!(p.payload, &[0xaa, 0xbb]);
        assert_eq!(p.sequence, 1);
    }

    #[test]
    fn malformed_packets_are_errors() {
        assert!(RtpPacket::parse(&[]).is_err());
        assert!(RtpPacket::parse(&[0x80; 11]).is_err());
        assert!(RtpPacket::parse(&[0x40; 12]).is_err());
        let mut v = vec![0x8f; 12]; // 15 CSRCs announced
        assert!(RtpPacket::parse(&v).is_err());
        v[0] = 0xa0; // padding of 0x8f bytes, longer than the packet
        assert!(RtpPacket::parse(&v).is_err());
        v[0] = 0x90; // extension announced, absent
        assert!(RtpPacket::parse(&v).is_err());
    }

    #[test]
    fn packetizer_numbers_frames() {
        let mut p = Packetizer::new(7, 65534, u32::MAX - 159);
        let mut seqs = Vec::new();
        for _ in 0..3 {
            let mut out = Vec::new();
            p.frame(0, &[0xff; FRAME_SAMPLES], FRAME_SAMPLES as u32, &mut out);
            let pkt = RtpPacket::parse(&out).expect("valid");
            assert_eq!(pkt.ssrc, 7);
            assert_eq!(pkt.payload.len(), 160);
            seqs.push((pkt.sequence, pkt.timestamp, pkt.marker));
        }
        assert_eq!(
            seqs,
            vec![
                (65534, u32::MAX - 159, true),
                (65535, 0, false),
                (0, 160, false)
            ]
        );
    }
}
