//! In-band DTMF detection with the Goertzel algorithm, for peers that send tones in the
//! audio. Tolerances after ITU-T Q.24: frequencies within ±1.5 % detected, ±3.5 % rejected;
//! twist up to 8 dB normal and 4 dB reverse; tones of 40 ms detected.

const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];
/// Samples in an analysis window (25.6 ms at 8 kHz).
const WINDOW: usize = 205;
/// Samples between the starts of two windows: windows overlap by half.
const HOP: usize = 102;
/// Share of the window's energy the two tones must hold.
const PURITY: f32 = 0.70;
/// Normal twist (row stronger than column), as a power ratio: 8 dB.
const TWIST_NORMAL: f32 = 6.31;
/// Reverse twist (column stronger than row), as a power ratio: 4 dB.
const TWIST_REVERSE: f32 = 2.51;
/// Least mean power per sample of a window worth looking at (about -40 dBm0 per tone).
const MIN_POWER: f32 = 30.0 * 30.0;

/// Offsets (relative) at which each nominal frequency is probed; a tone whose strongest
/// probe lies beyond [`MAX_OFFSET`] is off frequency.
const PROBES: [f32; 9] = [
    -0.05, -0.0375, -0.025, -0.0125, 0.0, 0.0125, 0.025, 0.0375, 0.05,
];
/// Largest accepted probe offset: ±1.5 % lands on ±1.25 %, ±3.5 % on ±3.75 %.
const MAX_OFFSET: f32 = 0.026;
/// The index of offset 0 in [`PROBES`].
const CENTRE: usize = 4;
/// Share of the energy the nominal frequencies must hold before the pair is probed.
const PRE_PURITY: f32 = 0.2;

fn coeff(f: f32) -> f32 {
    2.0 * (2.0 * std::f32::consts::PI * f / 8000.0).cos()
}

/// Detects DTMF digits in 8 kHz linear audio.
#[derive(Debug, Clone)]
pub struct InbandDetector {
    coeffs: [[f32; 9]; 8],
    buf: Vec<f32>,
    current: Option<char>,
    misses: u8,
}

impl Default for InbandDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl InbandDetector {
    /// A detector in silence.
    pub fn new() -> Self {
        let mut coeffs = [[0.0; 9]; 8];
        for (i, f) in ROWS.iter().chain(COLS.iter()).enumerate() {
            for (j, o) in PROBES.iter().enumerate() {
                coeffs[i][j] = coeff(f * (1.0 + o));
            }
        }
        InbandDetector {
            coeffs,
            buf: Vec::with_capacity(WINDOW * 2),
            current: None,
            misses: 0,
        }
    }

    /// Feeds samples; calls `on_digit` once for each digit that starts in them.
    pub fn feed(&mut self, samples: &[i16], mut on_digit: impl FnMut(char)) {
        self.buf.extend(samples.iter().map(|&s| f32::from(s)));
        let mut start = 0;
        while self.buf.len() - start >= WINDOW {
            let d = self.analyse(start);
            start += HOP;
            match d {
                Some(d) if self.current != Some(d) => {
                    self.current = Some(d);
                    self.misses = 0;
                    on_digit(d);
                }
                Some(_) => self.misses = 0,
                None => {
                    self.misses = self.misses.saturating_add(1);
                    if self.misses >= 2 {
                        self.current = None;
                    }
                }
            }
        }
        self.buf.drain(..start);
    }

    fn analyse(&self, start: usize) -> Option<char> {
        let w = &self.buf[start..start + WINDOW];
        let energy: f32 = w.iter().map(|x| x * x).sum();
        if energy / (WINDOW as f32) < MIN_POWER {
            return None;
        }
        let goertzel = |c: f32| {
            let (mut s1, mut s2) = (0.0f32, 0.0f32);
            for &x in w {
                let s0 = x + c * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            s1 * s1 + s2 * s2 - c * s1 * s2
        };
        // The nominal frequencies first; most windows (silence, speech) stop here.
        let mut nominal = [0.0f32; 8];
        for (i, probes) in self.coeffs.iter().enumerate() {
            nominal[i] = goertzel(probes[CENTRE]);
        }
        let best = |ps: &[f32]| {
            let mut bi = 0;
            for i in 1..4 {
                if ps[i] > ps[bi] {
                    bi = i;
                }
            }
            bi
        };
        let (r, c) = (best(&nominal[..4]), best(&nominal[4..]));
        if 2.0 * (nominal[r] + nominal[4 + c]) / (WINDOW as f32 * energy) < PRE_PURITY {
            return None;
        }
        // Then the candidate pair, probed around the nominal frequencies.
        let refine = |i: usize| {
            let mut best = (0.0f32, 0.0f32);
            for (j, &coeff) in self.coeffs[i].iter().enumerate() {
                let power = goertzel(coeff);
                if power > best.0 {
                    best = (power, PROBES[j]);
                }
            }
            best
        };
        let ((pr, off_r), (pc, off_c)) = (refine(r), refine(4 + c));
        // A pure tone of amplitude A gives power (A N / 2)^2 and energy A^2 N / 2.
        let purity = 2.0 * (pr + pc) / (WINDOW as f32 * energy);
        if off_r.abs() > MAX_OFFSET || off_c.abs() > MAX_OFFSET {
            return None;
        }
        if purity < PURITY || pr > pc * TWIST_NORMAL || pc > pr * TWIST_REVERSE {
            return None;
        }
        // Each tone well above the other nominal frequencies of its group.
        for i in 0..4 {
            if (i != r && nominal[i] * 6.0 > pr) || (i != c && nominal[4 + i] * 6.0 > pc) {
                return None;
            }
        }
        Some(KEYS[r][c])
    }
}

/// Samples of the DTMF tone of `digit` (each tone at `amplitude`, frequencies scaled by
/// `1 + deviation`), for tests and tone generation.
pub fn tone(digit: char, samples: usize, amplitude: f32, deviation: f32) -> Vec<i16> {
    let Some((r, c)) = KEYS
        .iter()
        .enumerate()
        .find_map(|(r, row)| row.iter().position(|&k| k == digit).map(|c| (r, c)))
    else {
        return vec![0; samples];
    };
    tone_pair(
        ROWS[r] * (1.0 + deviation),
        amplitude,
        COLS[c] * (1.0 + deviation),
        amplitude,
        samples,
    )
}

/// Samples of two sine tones added, at 8 kHz.
pub fn tone_pair(f1: f32, a1: f32, f2: f32, a2: f32, samples: usize) -> Vec<i16> {
    let w1 = 2.0 * std::f32::consts::PI * f1 / 8000.0;
    let w2 = 2.0 * std::f32::consts::PI * f2 / 8000.0;
    (0..samples)
        .map(|n| {
            let n = n as f32;
            (a1 * (w1 * n).sin() + a2 * (w2 * n).sin()).clamp(-32767.0, 32767.0) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(samples: &[i16]) -> String {
        let mut d = InbandDetector::new();
        let mut out = String::new();
        for chunk in samples.chunks(160) {
            d.feed(chunk, |c| out.push(c));
        }
        out
    }

    fn with_gaps(digits: &str, on: usize, off: usize, dev: f32) -> Vec<i16> {
        let mut v = Vec::new();
        for d in digits.chars() {
            v.extend(tone(d, on, 6000.0, dev));
            v.extend(vec![0; off]);
        }
        v
    }

    #[test]
    fn every_digit_once() {
        let all = "123A456B789C*0#D";
        assert_eq!(detect(&with_gaps(all, 800, 400, 0.0)), all);
    }

    #[test]
    fn frequency_tolerance() {
        assert_eq!(detect(&with_gaps("159#", 800, 400, 0.015)), "159#");
        assert_eq!(detect(&with_gaps("159#", 800, 400, -0.015)), "159#");
        assert_eq!(detect(&with_gaps("159#", 800, 400, 0.035)), "");
        assert_eq!(detect(&with_gaps("159#", 800, 400, -0.035)), "");
    }

    #[test]
    fn forty_ms_tones_and_pauses() {
        assert_eq!(detect(&with_gaps("2580", 320, 320, 0.0)), "2580");
    }

    #[test]
    fn twist() {
        let db = |x: f32| 10f32.powf(x / 20.0);
        // Row 697 Hz, column 1209 Hz: '1'.
        assert_eq!(
            detect(&tone_pair(697.0, 8000.0, 1209.0, 8000.0 / db(7.0), 800)),
            "1"
        );
        assert_eq!(
            detect(&tone_pair(697.0, 8000.0 / db(3.0), 1209.0, 8000.0, 800)),
            "1"
        );
        assert_eq!(
            detect(&tone_pair(697.0, 8000.0, 1209.0, 8000.0 / db(12.0), 800)),
            ""
        );
        assert_eq!(
            detect(&tone_pair(697.0, 8000.0 / db(8.0), 1209.0, 8000.0, 800)),
            ""
        );
    }

    #[test]
    fn silence_speechlike_and_single_tones_are_not_digits() {
        assert_eq!(detect(&vec![0; 8000]), "");
        assert_eq!(detect(&tone_pair(697.0, 8000.0, 0.0, 0.0, 1600)), "");
        assert_eq!(detect(&tone_pair(440.0, 8000.0, 350.0, 8000.0, 1600)), "");
    }
}
