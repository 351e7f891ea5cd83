//! An energy voice-activity detector, sans-IO: one call per audio frame, a state out.
//!
//! Used by the record component for `initial-timeout` and `final-timeout`, and meant for
//! active-speaker detection in mixers (`Started` → started-speaking, `Stopped` →
//! stopped-speaking). It knows nothing of clocks or sample rates: it counts frames, and every
//! figure below assumes the 20 ms frames of G.711 (160 samples at 8 kHz). Other frame lengths
//! work; scale the frame counts of [`VadConfig`] to keep the same durations.
//!
//! A frame is *voiced* when its level (mean power relative to a full-scale square wave, in
//! dBFS: a full-scale sine is −3 dBFS, digital silence [`SILENCE_DBFS`]) is at least
//! [`VadConfig::threshold_dbfs`] **and** at least [`VadConfig::margin_db`] above the adaptive
//! noise floor. Speech starts after [`VadConfig::onset_frames`] voiced frames in a row and
//! stops after [`VadConfig::hangover_frames`] unvoiced frames in a row.
//!
//! The noise floor follows quieter frames at once (the pauses between words reset it), follows
//! unvoiced frames above it with a 400 ms time constant, and creeps up under voiced frames by
//! [`VadConfig::floor_rise_db`] per frame, so that a steady loud noise (a fan, a bad line) is
//! absorbed within seconds instead of counting as endless speech. It never goes below
//! `threshold_dbfs - margin_db`, where the absolute threshold decides alone.
//!
//! ```
//! use rayo_media::vad::{Vad, VadConfig, VadState};
//!
//! let mut vad = Vad::new(VadConfig::default());
//! let loud: Vec<i16> = (0..160).map(|i| if i % 20 < 10 { 8000 } else { -8000 }).collect();
//! assert_eq!(vad.frame(&[0; 160]), VadState::Silence);
//! assert_eq!(vad.frame(&loud), VadState::Silence); // one frame is not yet speech
//! assert_eq!(vad.frame(&loud), VadState::Started);
//! assert_eq!(vad.frame(&loud), VadState::Speech);
//! ```

/// The level reported for a frame of digital silence (or an empty frame), in dBFS.
pub const SILENCE_DBFS: f32 = -100.0;

/// The detector's thresholds. The defaults suit telephone speech in 20 ms frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// The absolute level a frame must reach to be voiced. Default **−40 dBFS**: nominal
    /// telephone speech is about −26 dBFS (ITU-T P.56 active level) and soft talkers 10 dB
    /// below that, while line and comfort noise sits at −55 dBFS or lower and idle G.711
    /// channels near −70 dBFS; −40 keeps soft speech and leaves 15 dB above ordinary noise.
    pub threshold_dbfs: f32,
    /// How far above the noise floor a frame must be to be voiced. Default **10 dB**: the
    /// smallest signal-to-noise ratio at which speech is still understood on a phone line,
    /// and well above the ±3 dB a stationary noise's frame levels wander.
    pub margin_db: f32,
    /// Voiced frames in a row before speech starts. Default **2** (40 ms): a click or a
    /// single-frame burst is not speech, while a syllable (100 ms and more) is found within
    /// its first 40 ms.
    pub onset_frames: u32,
    /// Unvoiced frames in a row before speech stops. Default **15** (300 ms): the gaps between
    /// words and before plosives last 100–250 ms, so one utterance stays one segment, and a
    /// speaker is reported silent a third of a second after the last word.
    pub hangover_frames: u32,
    /// How far the noise floor rises per voiced frame. Default **0.1 dB** (5 dB/s at 20 ms
    /// frames): a noise 15 dB above the floor is absorbed in 3 s, while speech, whose pauses
    /// pull the floor back down, is not.
    pub floor_rise_db: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            threshold_dbfs: -40.0,
            margin_db: 10.0,
            onset_frames: 2,
            hangover_frames: 15,
            floor_rise_db: 0.1,
        }
    }
}

/// What a frame says about speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VadState {
    /// No speech.
    Silence,
    /// Speech started with this frame (a mixer's started-speaking).
    Started,
    /// Speech goes on (this frame, or the hangover after it).
    Speech,
    /// Speech stopped with this frame (a mixer's stopped-speaking).
    Stopped,
}

impl VadState {
    /// Whether the speaker counts as speaking after this frame (`Started` or `Speech`).
    pub fn is_speech(self) -> bool {
        matches!(self, VadState::Started | VadState::Speech)
    }
}

/// The level of a frame in dBFS: mean power relative to a full-scale square wave.
/// [`SILENCE_DBFS`] for digital silence and for an empty frame.
pub fn level_dbfs(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return SILENCE_DBFS;
    }
    let sum: i64 = samples.iter().map(|&s| i64::from(s) * i64::from(s)).sum();
    if sum == 0 {
        return SILENCE_DBFS;
    }
    let mean = sum as f64 / samples.len() as f64;
    let db = 10.0 * (mean / (32768.0 * 32768.0)).log10();
    (db as f32).max(SILENCE_DBFS)
}

/// One speaker's voice-activity detector.
#[derive(Debug, Clone)]
pub struct Vad {
    cfg: VadConfig,
    floor: f32,
    level: f32,
    voiced: bool,
    run: u32,
    hang: u32,
    speaking: bool,
}

impl Vad {
    /// A detector in the silent state, its noise floor at `threshold_dbfs - margin_db`.
    pub fn new(cfg: VadConfig) -> Self {
        Self {
            cfg,
            floor: cfg.threshold_dbfs - cfg.margin_db,
            level: SILENCE_DBFS,
            voiced: false,
            run: 0,
            hang: 0,
            speaking: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &VadConfig {
        &self.cfg
    }

    /// Feeds one frame; returns the state after it.
    pub fn frame(&mut self, samples: &[i16]) -> VadState {
        let level = level_dbfs(samples);
        let voiced = level >= self.cfg.threshold_dbfs && level >= self.floor + self.cfg.margin_db;
        let floor_min = self.cfg.threshold_dbfs - self.cfg.margin_db;
        if level < self.floor {
            self.floor = level.max(floor_min);
        } else if voiced {
            self.floor = (self.floor + self.cfg.floor_rise_db).min(level);
        } else {
            self.floor += (level - self.floor) * 0.05;
        }
        self.level = level;
        self.voiced = voiced;
        if voiced {
            self.run = self.run.saturating_add(1);
            self.hang = self.cfg.hangover_frames;
        } else {
            self.run = 0;
        }
        if !self.speaking {
            if voiced && self.run >= self.cfg.onset_frames.max(1) {
                self.speaking = true;
                return VadState::Started;
            }
            return VadState::Silence;
        }
        if voiced {
            VadState::Speech
        } else if self.hang > 0 {
            self.hang -= 1;
            VadState::Speech
        } else {
            self.speaking = false;
            VadState::Stopped
        }
    }

    /// Whether the speaker counts as speaking (after the last frame).
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Whether the last frame itself was voiced (hangover frames are not).
    pub fn voiced(&self) -> bool {
        self.voiced
    }

    /// The level of the last frame, in dBFS.
    pub fn level_dbfs(&self) -> f32 {
        self.level
    }

    /// The current noise floor, in dBFS.
    pub fn noise_floor_dbfs(&self) -> f32 {
        self.floor
    }

    /// Back to the silent state, keeping the noise floor.
    pub fn reset(&mut self) {
        self.run = 0;
        self.hang = 0;
        self.speaking = false;
        self.voiced = false;
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// A sine of `hz` at `dbfs` (sine level: a full-scale sine is −3 dBFS).
    fn sine(hz: f32, dbfs: f32, n: usize, phase0: usize) -> Vec<i16> {
        let amp = 32768.0 * 10f32.powf((dbfs + 3.01) / 20.0);
        (0..n)
            .map(|i| {
                let t = (i + phase0) as f32 / 8000.0;
                (amp * (2.0 * std::f32::consts::PI * hz * t).sin()) as i16
            })
            .collect()
    }

    /// White noise (uniform) at about `dbfs`, deterministic.
    fn noise(dbfs: f32, n: usize, seed: &mut u32) -> Vec<i16> {
        // Uniform in [-a, a] has power a²/3.
        let a = 32768.0 * 10f32.powf(dbfs / 20.0) * 3f32.sqrt();
        (0..n)
            .map(|_| {
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let u = (*seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
                (u * a).clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    /// Speech-like: 150 Hz voice with harmonics, 4 Hz syllabic envelope, over noise.
    fn speechlike(frames: usize, dbfs: f32, seed: &mut u32) -> Vec<Vec<i16>> {
        (0..frames)
            .map(|f| {
                let env = 0.55 + 0.45 * (2.0 * std::f32::consts::PI * 4.0 * f as f32 / 50.0).cos();
                let a = sine(150.0, dbfs, 160, f * 160);
                let b = sine(450.0, dbfs - 6.0, 160, f * 160);
                let c = sine(1200.0, dbfs - 12.0, 160, f * 160);
                let n = noise(-60.0, 160, seed);
                (0..160)
                    .map(|i| {
                        let v = env * (f32::from(a[i]) + f32::from(b[i]) + f32::from(c[i]))
                            + f32::from(n[i]);
                        v.clamp(-32768.0, 32767.0) as i16
                    })
                    .collect()
            })
            .collect()
    }

    fn states(vad: &mut Vad, frames: &[Vec<i16>]) -> Vec<VadState> {
        frames.iter().map(|f| vad.frame(f)).collect()
    }

    #[test]
    fn levels_are_in_dbfs() {
        assert_eq!(level_dbfs(&[0; 160]), SILENCE_DBFS);
        assert_eq!(level_dbfs(&[]), SILENCE_DBFS);
        assert!((level_dbfs(&sine(1000.0, -20.0, 160, 0)) + 20.0).abs() < 0.2);
        assert!((level_dbfs(&[i16::MIN; 160])).abs() < 0.01);
        let mut seed = 1;
        assert!((level_dbfs(&noise(-50.0, 1600, &mut seed)) + 50.0).abs() < 0.5);
    }

    #[test]
    fn silence_and_low_noise_are_never_speech() {
        let mut vad = Vad::new(VadConfig::default());
        let mut seed = 7;
        for _ in 0..500 {
            assert_eq!(vad.frame(&[0; 160]), VadState::Silence);
        }
        for _ in 0..500 {
            assert_eq!(vad.frame(&noise(-50.0, 160, &mut seed)), VadState::Silence);
        }
        for _ in 0..100 {
            assert_eq!(vad.frame(&sine(1000.0, -45.0, 160, 0)), VadState::Silence);
        }
    }

    #[test]
    fn speech_burst_starts_within_two_frames_and_stops_after_hangover() {
        let mut vad = Vad::new(VadConfig::default());
        let mut seed = 3;
        let quiet: Vec<_> = (0..50).map(|_| noise(-55.0, 160, &mut seed)).collect();
        assert!(states(&mut vad, &quiet)
            .iter()
            .all(|s| *s == VadState::Silence));
        // 1 s of speech-like audio at -20 dBFS: one segment, started at its 2nd frame.
        let talk = states(&mut vad, &speechlike(50, -20.0, &mut seed));
        assert_eq!(talk[0], VadState::Silence);
        assert_eq!(talk[1], VadState::Started);
        assert!(talk[2..].iter().all(|s| *s == VadState::Speech), "{talk:?}");
        // Then quiet again: stopped after exactly the 300 ms hangover.
        let after = states(&mut vad, &quiet);
        let stop = after.iter().position(|s| *s == VadState::Stopped);
        assert_eq!(stop, Some(15), "{after:?}");
        assert!(after[16..].iter().all(|s| *s == VadState::Silence));
    }

    #[test]
    fn soft_speech_and_tones_are_found() {
        let mut seed = 5;
        for (level, what) in [(-35.0, "soft speech"), (-10.0, "loud speech")] {
            let mut vad = Vad::new(VadConfig::default());
            let s = states(&mut vad, &speechlike(10, level, &mut seed));
            assert!(s.contains(&VadState::Started), "{what}: {s:?}");
        }
        let mut vad = Vad::new(VadConfig::default());
        let tone: Vec<_> = (0..3).map(|f| sine(1000.0, -25.0, 160, f * 160)).collect();
        assert_eq!(states(&mut vad, &tone)[1], VadState::Started);
    }

    #[test]
    fn a_click_is_not_speech() {
        let mut vad = Vad::new(VadConfig::default());
        let click = sine(1000.0, -10.0, 160, 0);
        for _ in 0..20 {
            assert_eq!(vad.frame(&click), VadState::Silence);
            assert_eq!(vad.frame(&[0; 160]), VadState::Silence);
        }
    }

    #[test]
    fn words_with_short_gaps_stay_one_segment() {
        let mut vad = Vad::new(VadConfig::default());
        let mut seed = 11;
        let mut all = Vec::new();
        for _ in 0..5 {
            all.extend(speechlike(15, -22.0, &mut seed)); // 300 ms word
            all.extend((0..10).map(|_| noise(-60.0, 160, &mut seed))); // 200 ms gap
        }
        all.extend((0..30).map(|_| noise(-60.0, 160, &mut seed)));
        let s = states(&mut vad, &all);
        assert_eq!(s.iter().filter(|x| **x == VadState::Started).count(), 1);
        assert_eq!(s.iter().filter(|x| **x == VadState::Stopped).count(), 1);
    }

    #[test]
    fn steady_loud_noise_is_absorbed_then_speech_over_it_is_found() {
        let mut vad = Vad::new(VadConfig::default());
        let mut seed = 13;
        let loud: Vec<_> = (0..250).map(|_| noise(-30.0, 160, &mut seed)).collect();
        let s = states(&mut vad, &loud);
        // Taken for speech at first, absorbed into the floor within 5 s.
        assert_eq!(s[1], VadState::Started);
        assert!(s[200..].iter().all(|x| *x == VadState::Silence), "{s:?}");
        assert!(vad.noise_floor_dbfs() > -36.0, "{}", vad.noise_floor_dbfs());
        // Speech 20 dB above that noise is speech again.
        let talk: Vec<_> = speechlike(10, -8.0, &mut seed)
            .into_iter()
            .zip(&loud)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x.saturating_add(*y)).collect())
            .collect();
        assert!(states(&mut vad, &talk).contains(&VadState::Started));
    }

    #[test]
    fn other_frame_lengths_work() {
        let cfg = VadConfig {
            onset_frames: 4,
            hangover_frames: 30,
            floor_rise_db: 0.05,
            ..VadConfig::default()
        };
        let mut vad = Vad::new(cfg);
        let tone: Vec<_> = (0..10).map(|f| sine(300.0, -20.0, 80, f * 80)).collect();
        let s = states(&mut vad, &tone);
        assert_eq!(s.iter().position(|x| *x == VadState::Started), Some(3));
        let quiet: Vec<_> = (0..40).map(|_| vec![0i16; 80]).collect();
        let s = states(&mut vad, &quiet);
        assert_eq!(s.iter().position(|x| *x == VadState::Stopped), Some(30));
        vad.reset();
        assert!(!vad.is_speaking());
    }
}
