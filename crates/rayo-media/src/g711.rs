//! G.711 μ-law (PCMU, payload type 0) and A-law (PCMA, payload type 8) codecs (ITU-T G.711).

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// Encodes one 16-bit linear sample as μ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    if s > CLIP {
        s = CLIP;
    }
    s += BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && s & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// Decodes one μ-law byte to a 16-bit linear sample.
pub fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = i32::from((u >> 4) & 0x07);
    let mantissa = i32::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Encodes one 16-bit linear sample as A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let s = i32::from(sample) >> 3; // 13-bit
    let (sign, mut m) = if s >= 0 {
        (0xd5u8, s)
    } else {
        (0x55u8, -s - 1)
    };
    if m > 0x0fff {
        m = 0x0fff;
    }
    let (seg, mant) = if m < 32 {
        (0, m >> 1)
    } else {
        let mut seg = 1;
        while seg < 7 && m >= (32 << seg) {
            seg += 1;
        }
        (seg, (m >> seg) & 0x0f)
    };
    ((seg << 4) as u8 | mant as u8) ^ sign
}

/// Decodes one A-law byte to a 16-bit linear sample.
pub fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let seg = i32::from((a >> 4) & 0x07);
    let mant = i32::from(a & 0x0f);
    let mag = match seg {
        0 => (mant << 4) + 8,
        _ => ((mant << 4) + 0x108) << (seg - 1),
    };
    if a & 0x80 != 0 {
        mag as i16
    } else {
        -mag as i16
    }
}

/// Which G.711 law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// μ-law, PCMU, static payload type 0.
    Ulaw,
    /// A-law, PCMA, static payload type 8.
    Alaw,
}

/// Decoding tables built once per codec: decoding is a lookup.
#[derive(Clone)]
pub struct G711 {
    law: Law,
    decode: [i16; 256],
}

impl std::fmt::Debug for G711 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("G711").field("law", &self.law).finish()
    }
}

impl G711 {
    /// A codec for `law`.
    pub fn new(law: Law) -> Self {
        let mut decode = [0i16; 256];
        for (i, d) in decode.iter_mut().enumerate() {
            *d = match law {
                Law::Ulaw => ulaw_to_linear(i as u8),
                Law::Alaw => alaw_to_linear(i as u8),
            };
        }
        G711 { law, decode }
    }

    /// The law.
    pub fn law(&self) -> Law {
        self.law
    }

    /// The static RTP payload type (0 or 8).
    pub fn payload_type(&self) -> u8 {
        match self.law {
            Law::Ulaw => 0,
            Law::Alaw => 8,
        }
    }

    /// Decodes `bytes`, appending samples to `out`.
    pub fn decode(&self, bytes: &[u8], out: &mut Vec<i16>) {
        out.extend(bytes.iter().map(|&b| self.decode[usize::from(b)]));
    }

    /// Encodes `samples`, appending bytes to `out`.
    pub fn encode(&self, samples: &[i16], out: &mut Vec<u8>) {
        match self.law {
            Law::Ulaw => out.extend(samples.iter().map(|&s| linear_to_ulaw(s))),
            Law::Alaw => out.extend(samples.iter().map(|&s| linear_to_alaw(s))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_ulaw(-1), 0x7f);
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
    }

    #[test]
    fn alaw_known_values() {
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(linear_to_alaw(i16::MAX), 0xaa);
    }

    #[test]
    fn every_code_round_trips() {
        for b in 0..=255u8 {
            let u = ulaw_to_linear(b);
            // 0x7f and 0xff both decode to 0; 0 encodes as 0xff.
            if u != 0 {
                assert_eq!(linear_to_ulaw(u), b, "ulaw {b:#x}");
            }
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b, "alaw {b:#x}");
        }
    }

    #[test]
    fn quantisation_error_is_bounded() {
        for law in [Law::Ulaw, Law::Alaw] {
            let c = G711::new(law);
            for s in (-32000i32..32000).step_by(7) {
                let mut enc = Vec::new();
                c.encode(&[s as i16], &mut enc);
                let mut dec = Vec::new();
                c.decode(&enc, &mut dec);
                let err = (i32::from(dec[0]) - s).abs();
                // Logarithmic: error within 1/16 of the magnitude, plus the smallest step.
                assert!(err <= s.abs() / 16 + 16, "{law:?} {s} -> {}", dec[0]);
            }
        }
    }
}
