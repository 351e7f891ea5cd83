//! A WAV writer that keeps its file playable while it grows: 16-bit PCM or G.711 μ-law
//! (format tag 7), mono or stereo, over any `Write + Seek`.
//!
//! Samples are buffered and written once per second of audio; each time, the RIFF and
//! `data` sizes in the header (and the `fact` sample count of μ-law) are rewritten, so a
//! process that dies mid-recording leaves a valid file that lacks at most the last second.
//! [`WavWriter::finish`] writes the rest, the pad byte an odd-sized `data` chunk needs, and the
//! final sizes. `hound` reads the PCM files; it reads no μ-law, which is why the header is
//! written here for both.
//!
//! ```
//! use std::io::Cursor;
//! use rayo_media::wav::{WavSpec, WavWriter};
//!
//! let mut w = WavWriter::new(Cursor::new(Vec::new()), WavSpec::pcm(1))?;
//! w.write_samples(&[0; 8000])?;
//! let len = w.finish()?;
//! assert_eq!(len, 44 + 16_000);
//! assert_eq!(w.duration().as_millis(), 1000);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Seek, SeekFrom, Write};
use std::time::Duration;

use crate::g711::linear_to_ulaw;

/// How samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Linear PCM, 16 bits little-endian (format tag 1).
    Pcm16,
    /// G.711 μ-law, 8 bits (format tag 7, with a `fact` chunk).
    Ulaw,
}

/// The format of a WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WavSpec {
    /// 1 (mono) or 2 (stereo, samples interleaved left first).
    pub channels: u16,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// How samples are stored.
    pub encoding: Encoding,
}

impl WavSpec {
    /// 16-bit PCM at 8 kHz.
    pub fn pcm(channels: u16) -> Self {
        Self {
            channels,
            sample_rate: 8000,
            encoding: Encoding::Pcm16,
        }
    }

    /// μ-law at 8 kHz.
    pub fn ulaw(channels: u16) -> Self {
        Self {
            channels,
            sample_rate: 8000,
            encoding: Encoding::Ulaw,
        }
    }

    /// Bytes per sample of one channel.
    pub fn bytes_per_sample(&self) -> u16 {
        match self.encoding {
            Encoding::Pcm16 => 2,
            Encoding::Ulaw => 1,
        }
    }

    /// Bytes per sample frame (all channels).
    pub fn block_align(&self) -> u16 {
        self.bytes_per_sample() * self.channels
    }

    /// The header's length: 44 bytes for PCM, 58 for μ-law (`fmt ` with `cbSize`, `fact`).
    pub fn header_len(&self) -> u64 {
        match self.encoding {
            Encoding::Pcm16 => 44,
            Encoding::Ulaw => 58,
        }
    }
}

/// The most `data` bytes a WAV file holds (its sizes are 32 bits).
const MAX_DATA: u64 = u32::MAX as u64 - 64;

/// Writes one WAV file.
#[derive(Debug)]
pub struct WavWriter<W: Write + Seek> {
    inner: W,
    spec: WavSpec,
    start: u64,
    /// Data bytes in the file (written to `inner`).
    flushed: u64,
    /// Data bytes waiting in `buf`.
    buf: Vec<u8>,
    flush_at: usize,
    finished: bool,
}

impl<W: Write + Seek> WavWriter<W> {
    /// Writes the header (sizes 0) at `inner`'s position. Refuses a channel count other
    /// than 1 or 2 and a sample rate of 0.
    pub fn new(mut inner: W, spec: WavSpec) -> io::Result<Self> {
        if !(1..=2).contains(&spec.channels) || spec.sample_rate == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "WAV: 1 or 2 channels and a sample rate are needed",
            ));
        }
        let start = inner.stream_position()?;
        let flush_at = spec.sample_rate as usize * usize::from(spec.block_align());
        let mut w = Self {
            inner,
            spec,
            start,
            flushed: 0,
            buf: Vec::with_capacity(flush_at + 1024),
            flush_at,
            finished: false,
        };
        let header = w.header();
        w.inner.write_all(&header)?;
        Ok(w)
    }

    /// The format.
    pub fn spec(&self) -> WavSpec {
        self.spec
    }

    /// Appends interleaved samples (left first for stereo); a trailing partial frame is
    /// kept as written. Fails once the file is finished or 4 GiB of data are reached.
    pub fn write_samples(&mut self, samples: &[i16]) -> io::Result<()> {
        let bytes = samples.len() as u64 * u64::from(self.spec.bytes_per_sample());
        if self.finished {
            return Err(io::Error::other("WAV: write after finish"));
        }
        if self.data_len() + bytes > MAX_DATA {
            return Err(io::Error::other("WAV: the 4 GiB limit is reached"));
        }
        match self.spec.encoding {
            Encoding::Pcm16 => {
                for s in samples {
                    self.buf.extend_from_slice(&s.to_le_bytes());
                }
            }
            Encoding::Ulaw => self.buf.extend(samples.iter().map(|&s| linear_to_ulaw(s))),
        }
        if self.buf.len() >= self.flush_at {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered samples and rewrites the header's sizes.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.finished {
            return Ok(());
        }
        self.inner.write_all(&self.buf)?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        self.write_sizes(false)
    }

    /// Writes what is buffered, a pad byte if the data is of odd length, and the final
    /// sizes; returns the file's length. Later calls return the same length.
    pub fn finish(&mut self) -> io::Result<u64> {
        if !self.finished {
            self.flush()?;
            if self.flushed % 2 == 1 {
                self.inner.write_all(&[0])?;
            }
            self.write_sizes(true)?;
            self.finished = true;
        }
        Ok(self.file_len())
    }

    /// Data bytes written so far (buffered included; pad byte excluded).
    pub fn data_len(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    /// The file's length once finished (header, data and pad byte).
    pub fn file_len(&self) -> u64 {
        let d = self.data_len();
        self.spec.header_len() + d + d % 2
    }

    /// Sample frames written (one sample per channel each).
    pub fn frames(&self) -> u64 {
        self.data_len() / u64::from(self.spec.block_align())
    }

    /// The audio's duration.
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(
            (u128::from(self.frames()) * 1_000_000_000 / u128::from(self.spec.sample_rate))
                .try_into()
                .unwrap_or(u64::MAX),
        )
    }

    /// Whether [`Self::finish`] was called.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The underlying writer (for a `Cursor`, the bytes so far).
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The header for the current sizes. The RIFF size counts the pad byte once finished.
    fn header(&self) -> Vec<u8> {
        let s = &self.spec;
        let data = u32::try_from(self.flushed).unwrap_or(u32::MAX);
        let pad = u32::from(self.finished && self.flushed % 2 == 1);
        let riff = (s.header_len() as u32 - 8)
            .saturating_add(data)
            .saturating_add(pad);
        let mut h = Vec::with_capacity(s.header_len() as usize);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&riff.to_le_bytes());
        h.extend_from_slice(b"WAVE");
        h.extend_from_slice(b"fmt ");
        let (fmt_len, tag): (u32, u16) = match s.encoding {
            Encoding::Pcm16 => (16, 1),
            Encoding::Ulaw => (18, 7),
        };
        h.extend_from_slice(&fmt_len.to_le_bytes());
        h.extend_from_slice(&tag.to_le_bytes());
        h.extend_from_slice(&s.channels.to_le_bytes());
        h.extend_from_slice(&s.sample_rate.to_le_bytes());
        let byte_rate = s.sample_rate.saturating_mul(u32::from(s.block_align()));
        h.extend_from_slice(&byte_rate.to_le_bytes());
        h.extend_from_slice(&s.block_align().to_le_bytes());
        h.extend_from_slice(&(s.bytes_per_sample() * 8).to_le_bytes());
        if s.encoding == Encoding::Ulaw {
            h.extend_from_slice(&0u16.to_le_bytes()); // cbSize
            h.extend_from_slice(b"fact");
            h.extend_from_slice(&4u32.to_le_bytes());
            let frames = data / u32::from(s.block_align());
            h.extend_from_slice(&frames.to_le_bytes());
        }
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data.to_le_bytes());
        h
    }

    /// Rewrites the header in place and returns to the end of the data.
    fn write_sizes(&mut self, finishing: bool) -> io::Result<()> {
        let was = self.finished;
        self.finished = finishing;
        let header = self.header();
        self.finished = was;
        self.inner.seek(SeekFrom::Start(self.start))?;
        self.inner.write_all(&header)?;
        self.inner.seek(SeekFrom::End(0))?;
        self.inner.flush()
    }
}

impl<W: Write + Seek> Drop for WavWriter<W> {
    /// Finishes the file if it was not: best effort, errors are lost (call
    /// [`WavWriter::finish`] to see them).
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.finish();
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Cursor;
    use std::path::PathBuf;

    /// A directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let p =
                std::env::temp_dir().join(format!("rayo-wav-{tag}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&p).expect("temp dir");
            Self(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn ramp(n: usize, offset: usize) -> Vec<i16> {
        (0..n)
            .map(|i| ((i + offset) * 37 % 20000) as i16 - 10000)
            .collect()
    }

    fn read_all(path: &std::path::Path) -> (hound::WavSpec, Vec<i16>) {
        let mut r = hound::WavReader::open(path).expect("hound opens the file");
        let spec = r.spec();
        let samples = r
            .samples::<i16>()
            .collect::<Result<Vec<_>, _>>()
            .expect("samples");
        (spec, samples)
    }

    #[test]
    fn file_read_while_open_has_every_whole_second() {
        let dir = TempDir::new("open");
        let path = dir.0.join("a.wav");
        let mut w =
            WavWriter::new(File::create(&path).expect("create"), WavSpec::pcm(1)).expect("header");
        let mut all = Vec::new();
        // 75 frames of 20 ms: 1.5 s, of which the first second is on disk.
        for f in 0..75 {
            let frame = ramp(160, f * 160);
            w.write_samples(&frame).expect("write");
            all.extend(frame);
        }
        let (spec, got) = read_all(&path);
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (1, 8000, 16)
        );
        assert_eq!(got.len(), 8000);
        assert_eq!(got, all[..8000]);
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), 44 + 16_000);
        // Finished: all 1.5 s, and the length it reports is the file's.
        let len = w.finish().expect("finish");
        assert_eq!(len, std::fs::metadata(&path).expect("meta").len());
        let (_, got) = read_all(&path);
        assert_eq!(got, all);
        assert_eq!(w.duration(), Duration::from_millis(1500));
    }

    #[test]
    fn stereo_pcm_reads_back_interleaved() {
        let dir = TempDir::new("stereo");
        let path = dir.0.join("s.wav");
        let mut w =
            WavWriter::new(File::create(&path).expect("create"), WavSpec::pcm(2)).expect("header");
        let inter: Vec<i16> = (0..3200)
            .map(|i| if i % 2 == 0 { 1000 } else { -2000 })
            .collect();
        w.write_samples(&inter).expect("write");
        drop(w); // Drop finishes the file.
        let (spec, got) = read_all(&path);
        assert_eq!(spec.channels, 2);
        assert_eq!(got, inter);
        let r = hound::WavReader::open(&path).expect("open");
        assert_eq!(r.duration(), 1600);
    }

    #[test]
    fn ulaw_header_and_data() {
        let mut w = WavWriter::new(Cursor::new(Vec::new()), WavSpec::ulaw(1)).expect("hdr");
        let samples = ramp(801, 0); // odd: the data chunk needs a pad byte
        w.write_samples(&samples).expect("write");
        let len = w.finish().expect("finish");
        let b = w.get_ref().get_ref().clone();
        assert_eq!(len, b.len() as u64);
        assert_eq!(b.len(), 58 + 801 + 1);
        let u16at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        assert_eq!(&b[0..4], b"RIFF");
        assert_eq!(u32at(4) as usize, b.len() - 8);
        assert_eq!(&b[8..16], b"WAVEfmt ");
        assert_eq!(u32at(16), 18);
        assert_eq!(u16at(20), 7, "format tag: mu-law");
        assert_eq!((u16at(22), u32at(24), u32at(28)), (1, 8000, 8000));
        assert_eq!((u16at(32), u16at(34), u16at(36)), (1, 8, 0));
        assert_eq!(&b[38..42], b"fact");
        assert_eq!(u32at(46), 801);
        assert_eq!(&b[50..54], b"data");
        assert_eq!(u32at(54), 801);
        let expect: Vec<u8> = samples.iter().map(|&s| linear_to_ulaw(s)).collect();
        assert_eq!(&b[58..58 + 801], &expect[..]);
        assert!(w.write_samples(&[0]).is_err(), "no write after finish");
    }

    #[test]
    fn header_sizes_follow_each_second() {
        let mut w = WavWriter::new(Cursor::new(Vec::new()), WavSpec::ulaw(2)).expect("hdr");
        for _ in 0..120 {
            w.write_samples(&[0; 320]).expect("write");
        }
        // 2.4 s of stereo mu-law: 2 s are in the file, and its header says so.
        let b = w.get_ref().get_ref();
        let u32at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        assert_eq!(b.len(), 58 + 32_000);
        assert_eq!(u32at(54), 32_000);
        assert_eq!(u32at(46), 16_000);
        assert_eq!(u32at(4) as usize, b.len() - 8);
        assert_eq!(w.frames(), 19_200);
    }

    #[test]
    fn bad_specs_are_refused() {
        for spec in [
            WavSpec::pcm(0),
            WavSpec::pcm(3),
            WavSpec {
                sample_rate: 0,
                ..WavSpec::pcm(1)
            },
        ] {
            assert!(
                WavWriter::new(Cursor::new(Vec::new()), spec).is_err(),
                "{spec:?}"
            );
        }
    }
}
