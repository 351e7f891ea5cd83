//! Audio documents decoded to what a call plays: 8 kHz mono 16-bit samples.
//!
//! WAV is read with `hound` (PCM 8/16/24/32-bit integer and 32-bit float, any rate and channel
//! count, `WAVE_FORMAT_EXTENSIBLE` too) after our own RIFF walk, which also decodes the
//! G.711 formats hound cannot (format tag 7 μ-law, 6 A-law, through [`crate::g711`]) and
//! tolerates the bogus `0x7fffffff` chunk sizes of streamed WAV (espeak-ng `--stdout`). Sun
//! `.au` (`audio/basic`: μ-law, A-law, 8/16-bit PCM; raw 8 kHz μ-law without header) is read
//! here too. MP3 and Ogg Vorbis go through `symphonia` (its `mp3`, `ogg` and `vorbis`
//! features only).
//!
//! Channels are averaged; other rates are converted by [`resample`], a windowed-sinc
//! (Blackman, 8 zero crossings each side) band-limited interpolator whose cut-off sits at
//! 92 % of the lower Nyquist frequency, so a 44.1 kHz file does not alias into the band.

use std::io::Cursor;

use crate::g711;

/// The rate everything is decoded to.
pub const RATE: u32 = 8000;
/// The longest audio one document may decode to: one hour at 8 kHz.
pub const MAX_SAMPLES: usize = RATE as usize * 3600;

/// Why a document could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A content type or encoding this module does not decode.
    #[error("unsupported audio: {0}")]
    Unsupported(String),
    /// Bytes that do not form the format they claim.
    #[error("malformed audio: {0}")]
    Malformed(String),
    /// The audio decodes to more than [`MAX_SAMPLES`].
    #[error("audio longer than one hour")]
    TooLong,
}

/// The audio formats [`decode`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Wav,
    Au,
    Mp3,
    Ogg,
}

/// The kind named by a content type (parameters ignored), if it is an audio one we decode.
fn kind_of(content_type: &str) -> Option<Kind> {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let ct = ct.to_ascii_lowercase();
    Some(match ct.as_str() {
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => Kind::Wav,
        "audio/basic" | "audio/au" | "audio/x-au" => Kind::Au,
        "audio/mpeg" | "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg" => Kind::Mp3,
        "audio/ogg" | "application/ogg" | "audio/vorbis" | "audio/x-vorbis+ogg" => Kind::Ogg,
        _ => return None,
    })
}

/// Whether [`decode`] takes documents of this content type.
pub fn is_audio(content_type: &str) -> bool {
    kind_of(content_type).is_some()
}

/// The kind the first bytes announce.
fn sniff(bytes: &[u8]) -> Option<Kind> {
    match bytes {
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E', ..] => Some(Kind::Wav),
        [b'.', b's', b'n', b'd', ..] => Some(Kind::Au),
        [b'O', b'g', b'g', b'S', ..] => Some(Kind::Ogg),
        [b'I', b'D', b'3', ..] => Some(Kind::Mp3),
        [0xff, b, ..] if b & 0xe0 == 0xe0 => Some(Kind::Mp3),
        _ => None,
    }
}

/// Decodes an audio document to 8 kHz mono. The content type picks the format; without one
/// (or with `application/octet-stream`) the first bytes do.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Result<Vec<i16>, Error> {
    let kind = match content_type.map(|ct| (ct, kind_of(ct))) {
        Some((_, Some(k))) => k,
        Some((ct, None)) if !ct.trim().starts_with("application/octet-stream") => {
            return Err(Error::Unsupported(format!("content type {ct:?}")))
        }
        _ => sniff(bytes).ok_or_else(|| Error::Unsupported("unrecognised bytes".into()))?,
    };
    let (samples, rate) = match kind {
        Kind::Wav => wav(bytes)?,
        Kind::Au => au(bytes)?,
        Kind::Mp3 => compressed(bytes, "mp3")?,
        Kind::Ogg => compressed(bytes, "ogg")?,
    };
    if samples.len() as u64 * u64::from(RATE) / u64::from(rate.max(1)) > MAX_SAMPLES as u64 {
        return Err(Error::TooLong);
    }
    Ok(to_i16(&resample(&samples, rate)))
}

/// Converts samples in `[-1, 1]` to 16-bit, clipping.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Averages interleaved frames of `channels` channels.
fn downmix(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels <= 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|f| f.iter().sum::<f32>() * scale),
    );
}

/// Resamples mono audio at `from` Hz to [`RATE`] with a windowed-sinc interpolator.
pub fn resample(input: &[f32], from: u32) -> Vec<f32> {
    resample_to(input, from, RATE)
}

/// Resamples mono audio from `from` Hz to `to` Hz (band-limited windowed sinc).
pub fn resample_to(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || from == 0 || to == 0 || input.is_empty() {
        return input.to_vec();
    }
    const ZEROS: f64 = 8.0;
    // The kernel is tabulated at PHASES fractional offsets (polyphase): no trigonometry per
    // sample, so an hour of 44.1 kHz audio resamples in seconds.
    const PHASES: usize = 256;
    let step = f64::from(from) / f64::from(to);
    // Cut-off in cycles per input sample.
    let fc = 0.5 * (f64::from(to) / f64::from(from)).min(1.0) * 0.92;
    let half = ZEROS / (2.0 * fc);
    let h = half.ceil() as isize;
    let taps = (2 * h) as usize;
    let kernel = |t: f64| -> f32 {
        if t.abs() >= half {
            return 0.0;
        }
        let arg = 2.0 * fc * t;
        let sinc = if arg.abs() < 1e-9 {
            1.0
        } else {
            (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg)
        };
        let w = t / half; // -1..1
        let blackman = 0.42
            + 0.5 * (std::f64::consts::PI * w).cos()
            + 0.08 * (2.0 * std::f64::consts::PI * w).cos();
        (2.0 * fc * sinc * blackman) as f32
    };
    // table[phase][j]: the weight of input i + j - h + 1 for an output at i + phase/PHASES.
    let table: Vec<f32> = (0..=PHASES)
        .flat_map(|p| {
            let frac = p as f64 / PHASES as f64;
            (0..taps).map(move |j| frac - (j as isize - h + 1) as f64)
        })
        .map(kernel)
        .collect();
    let out_len = (input.len() as f64 / step).floor() as usize;
    let mut out = Vec::with_capacity(out_len);
    let last = input.len() as isize - 1;
    for n in 0..out_len {
        let x = n as f64 * step;
        let i = x.floor();
        let phase = ((x - i) * PHASES as f64).round() as usize;
        let weights = &table[phase * taps..(phase + 1) * taps];
        let first = i as isize - h + 1;
        let acc: f32 = if first >= 0 && first + taps as isize - 1 <= last {
            let s = &input[first as usize..first as usize + taps];
            s.iter().zip(weights).map(|(a, b)| a * b).sum()
        } else {
            weights
                .iter()
                .enumerate()
                .filter_map(|(j, w)| {
                    let k = first + j as isize;
                    (0..=last).contains(&k).then(|| input[k as usize] * w)
                })
                .sum()
        };
        out.push(acc);
    }
    out
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn malformed(what: &str) -> Error {
    Error::Malformed(what.to_owned())
}

/// Walks the RIFF chunks: the `fmt ` body and the `data` bytes (clamped to what is there).
fn riff(bytes: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(malformed("not a RIFF WAVE file"));
    }
    let (mut fmt, mut pos) = (None, 12usize);
    while let (Some(id), Some(size)) = (bytes.get(pos..pos + 4), le32(bytes, pos + 4)) {
        let start = pos + 8;
        let end = start.saturating_add(size as usize).min(bytes.len());
        let body = &bytes[start..end];
        match id {
            b"fmt " => fmt = Some(body),
            b"data" => {
                let fmt = fmt.ok_or_else(|| malformed("data chunk before fmt chunk"))?;
                return Ok((fmt, body));
            }
            _ => {}
        }
        pos = end + (size as usize & 1);
    }
    Err(malformed("no fmt and data chunks"))
}

/// A WAV file: interleaved frames averaged to mono, and its rate.
fn wav(bytes: &[u8]) -> Result<(Vec<f32>, u32), Error> {
    let (fmt, data) = riff(bytes)?;
    let (tag, channels, rate) = match (le16(fmt, 0), le16(fmt, 2), le32(fmt, 4)) {
        (Some(t), Some(c), Some(r)) if c > 0 && r > 0 => (t, c, r),
        _ => return Err(malformed("short or empty fmt chunk")),
    };
    // WAVE_FORMAT_EXTENSIBLE: the real tag starts the sub-format GUID.
    let tag = if tag == 0xfffe {
        le16(fmt, 24).unwrap_or(tag)
    } else {
        tag
    };
    let mut out = Vec::new();
    let law: Option<fn(u8) -> i16> = match tag {
        7 => Some(g711::ulaw_to_linear),
        6 => Some(g711::alaw_to_linear),
        _ => None,
    };
    if let Some(law) = law {
        let f: Vec<f32> = data.iter().map(|&b| f32::from(law(b)) / 32768.0).collect();
        downmix(&f, usize::from(channels), &mut out);
        return Ok((out, rate));
    }
    if tag != 1 && tag != 3 {
        return Err(Error::Unsupported(format!("WAV format tag {tag}")));
    }
    // A canonical file around the chunks found, so hound sees consistent sizes.
    let data = &data[..data.len() - data.len() % usize::from(le16(fmt, 12).unwrap_or(1).max(1))];
    let mut canon = Vec::with_capacity(28 + fmt.len() + data.len());
    canon.extend_from_slice(b"RIFF");
    canon.extend_from_slice(&((20 + fmt.len() + data.len()) as u32).to_le_bytes());
    canon.extend_from_slice(b"WAVEfmt ");
    canon.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    canon.extend_from_slice(fmt);
    canon.extend_from_slice(b"data");
    canon.extend_from_slice(&(data.len() as u32).to_le_bytes());
    canon.extend_from_slice(data);
    let reader =
        hound::WavReader::new(Cursor::new(canon)).map_err(|e| Error::Malformed(e.to_string()))?;
    let spec = reader.spec();
    let frames: Result<Vec<f32>, hound::Error> = match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect()
        }
    };
    let frames = frames.map_err(|e| Error::Malformed(e.to_string()))?;
    downmix(&frames, usize::from(spec.channels), &mut out);
    Ok((out, spec.sample_rate))
}

/// A Sun `.au` file, or headerless 8 kHz μ-law.
fn au(bytes: &[u8]) -> Result<(Vec<f32>, u32), Error> {
    let mut out = Vec::new();
    if bytes.get(0..4) != Some(b".snd") {
        out.extend(
            bytes
                .iter()
                .map(|&b| f32::from(g711::ulaw_to_linear(b)) / 32768.0),
        );
        return Ok((out, RATE));
    }
    let field = |i| be32(bytes, i).ok_or_else(|| malformed("short .au header"));
    let (offset, encoding, rate, channels) = (field(4)?, field(12)?, field(16)?, field(20)?);
    let data = bytes.get(offset as usize..).unwrap_or(&[]);
    if rate == 0 || channels == 0 || channels > 64 {
        return Err(malformed(".au rate or channels"));
    }
    let f: Vec<f32> = match encoding {
        1 => data
            .iter()
            .map(|&b| f32::from(g711::ulaw_to_linear(b)) / 32768.0)
            .collect(),
        27 => data
            .iter()
            .map(|&b| f32::from(g711::alaw_to_linear(b)) / 32768.0)
            .collect(),
        2 => data.iter().map(|&b| f32::from(b as i8) / 128.0).collect(),
        3 => data
            .chunks_exact(2)
            .map(|c| f32::from(i16::from_be_bytes([c[0], c[1]])) / 32768.0)
            .collect(),
        e => return Err(Error::Unsupported(format!(".au encoding {e}"))),
    };
    downmix(&f, channels as usize, &mut out);
    Ok((out, rate))
}

/// MP3 or Ogg Vorbis through symphonia.
fn compressed(bytes: &[u8], extension: &str) -> Result<(Vec<f32>, u32), Error> {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::errors::Error as SErr;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    let bad = |e: SErr| Error::Malformed(format!("{extension}: {e}"));
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(extension);
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(bad)?;
    let mut format = probed.format;
    let track = format
        .default_track()
        .ok_or_else(|| malformed("no audio track"))?;
    let track_id = track.id;
    let mut rate = track.codec_params.sample_rate.unwrap_or(RATE);
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(bad)?;
    let mut out = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SErr::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SErr::ResetRequired) => break,
            Err(e) => return Err(bad(e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                let spec = *buf.spec();
                rate = spec.rate;
                let mut sb = SampleBuffer::<f32>::new(buf.capacity() as u64, spec);
                sb.copy_interleaved_ref(buf);
                downmix(sb.samples(), spec.channels.count(), &mut out);
                if out.len() as u64 * u64::from(RATE) / u64::from(rate.max(1)) > MAX_SAMPLES as u64
                {
                    return Err(Error::TooLong);
                }
            }
            Err(SErr::DecodeError(_)) => continue,
            Err(e) => return Err(bad(e)),
        }
    }
    if out.is_empty() {
        return Err(malformed("no audio decoded"));
    }
    Ok((out, rate))
}

/// Writes a WAV file with hound (tests and benches).
pub fn encode_wav(samples: &[i16], rate: u32, channels: u16) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::new());
    if let Ok(mut w) = hound::WavWriter::new(&mut cursor, spec) {
        for &s in samples {
            if w.write_sample(s).is_err() {
                break;
            }
        }
        let _ = w.finalize();
    }
    cursor.into_inner()
}

#[cfg(test)]
#[path = "audio_tests.rs"]
mod tests;
