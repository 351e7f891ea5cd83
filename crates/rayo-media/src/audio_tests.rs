//! Tests of [`crate::audio`].
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use super::*;
use proptest::prelude::*;

fn sine(freq: f64, rate: u32, secs: f64, amp: f64) -> Vec<i16> {
    (0..(f64::from(rate) * secs) as usize)
        .map(|i| {
            (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()) as i16
        })
        .collect()
}

fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

/// A G.711 WAV by hand (hound cannot write one).
fn law_wav(tag: u16, bytes: &[u8]) -> Vec<u8> {
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(36 + bytes.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt \x10\0\0\0");
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&8000u32.to_le_bytes());
    v.extend_from_slice(&8000u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&8u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    v.extend_from_slice(bytes);
    v
}

#[test]
fn wav_8k_mono_decodes_to_the_source_samples() {
    let src = sine(440.0, 8000, 0.5, 10000.0);
    let got = decode(&encode_wav(&src, 8000, 1), Some("audio/wav")).expect("decodes");
    assert_eq!(got, src);
}

#[test]
fn stereo_44k1_is_downmixed_and_resampled_keeping_the_tone() {
    let mono = sine(440.0, 44100, 1.0, 8000.0);
    let stereo: Vec<i16> = mono.iter().flat_map(|&s| [s, s]).collect();
    let got = decode(&encode_wav(&stereo, 44100, 2), Some("audio/x-wav")).expect("decodes");
    assert!((got.len() as i64 - 8000).abs() <= 1, "{}", got.len());
    let expect = sine(440.0, 8000, 1.0, 8000.0);
    let mid = 200..7800; // away from the filter's edges
    let err: f64 = got[mid.clone()]
        .iter()
        .zip(&expect[mid.clone()])
        .map(|(a, b)| f64::from(a - b).powi(2))
        .sum::<f64>()
        / mid.len() as f64;
    assert!(err.sqrt() < 100.0, "rms error {}", err.sqrt());
}

#[test]
fn a_tone_above_4k_is_filtered_not_aliased() {
    let src = sine(6000.0, 48000, 0.5, 16000.0);
    let got = decode(&encode_wav(&src, 48000, 1), None).expect("decodes");
    assert!(rms(&got[100..got.len() - 100]) < 200.0, "rms {}", rms(&got));
}

#[test]
fn ulaw_and_alaw_wav_decode_within_quantisation_error() {
    let src = sine(300.0, 8000, 0.25, 12000.0);
    for (tag, enc, dec) in [
        (
            7u16,
            g711::linear_to_ulaw as fn(i16) -> u8,
            g711::ulaw_to_linear as fn(u8) -> i16,
        ),
        (6, g711::linear_to_alaw, g711::alaw_to_linear),
    ] {
        let bytes: Vec<u8> = src.iter().map(|&s| enc(s)).collect();
        let got = decode(&law_wav(tag, &bytes), Some("audio/wav")).expect("decodes");
        assert_eq!(got.len(), src.len());
        for (g, s) in got.iter().zip(&src) {
            assert!((i32::from(*g) - i32::from(*s)).abs() <= 512, "{g} vs {s}");
        }
        assert_eq!(got[10], dec(bytes[10]));
    }
}

#[test]
fn float_and_24_bit_wav_decode() {
    for (bits, format) in [
        (32, hound::SampleFormat::Float),
        (24, hound::SampleFormat::Int),
    ] {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: bits,
            sample_format: format,
        };
        let mut c = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut c, spec).expect("writer");
        for i in 0..16000 {
            let v = (2.0 * std::f64::consts::PI * 200.0 * f64::from(i) / 16000.0).sin() * 0.5;
            if format == hound::SampleFormat::Float {
                w.write_sample(v as f32).expect("write");
            } else {
                w.write_sample((v * 8_388_607.0) as i32).expect("write");
            }
        }
        w.finalize().expect("finalize");
        let got = decode(&c.into_inner(), Some("audio/wav")).expect("decodes");
        assert!((got.len() as i64 - 8000).abs() <= 1);
        let r = rms(&got[100..7900]);
        assert!((r - 0.5 * 32768.0 / 2f64.sqrt()).abs() < 300.0, "rms {r}");
    }
}

#[test]
fn streamed_wav_with_bogus_sizes_decodes() {
    let mut v = encode_wav(&sine(100.0, 8000, 0.1, 5000.0), 8000, 1);
    v[4..8].copy_from_slice(&0x7fff_f000u32.to_le_bytes());
    v[40..44].copy_from_slice(&0x7fff_f000u32.to_le_bytes());
    assert_eq!(decode(&v, None).expect("decodes").len(), 800);
}

#[test]
fn au_ulaw_decodes() {
    let src = sine(300.0, 8000, 0.1, 9000.0);
    let mut v = b".snd".to_vec();
    for f in [24u32, src.len() as u32, 1, 8000, 1] {
        v.extend_from_slice(&f.to_be_bytes());
    }
    v.extend(src.iter().map(|&s| g711::linear_to_ulaw(s)));
    let got = decode(&v, Some("audio/basic")).expect("decodes");
    assert_eq!(got.len(), src.len());
}

#[test]
fn invalid_inputs_are_errors() {
    assert!(matches!(
        decode(b"hello", Some("text/html")),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        decode(b"RIFF\0\0\0\0WAVE", None),
        Err(Error::Malformed(_))
    ));
    assert!(decode(b"\xff\xfbgarbage", Some("audio/mpeg")).is_err());
    assert!(decode(b"OggSgarbage", Some("audio/ogg")).is_err());
    assert!(matches!(
        decode(&law_wav(2, &[0; 8]), None),
        Err(Error::Unsupported(_))
    ));
}

proptest! {
    #[test]
    fn wav_round_trips(samples in proptest::collection::vec(any::<i16>(), 0..400)) {
        let got = decode(&encode_wav(&samples, 8000, 1), Some("audio/wav")).expect("decodes");
        prop_assert_eq!(got, samples);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode(&bytes, None);
        let _ = decode(&bytes, Some("audio/wav"));
        let _ = decode(&bytes, Some("audio/basic"));
    }
}
