//! Text to speech with espeak-ng, run as a subprocess: `espeak-ng --stdout [-m] [-v VOICE]`
//! with the text on its standard input; the WAV it writes (22 050 Hz mono, streamed sizes) is
//! decoded by [`crate::audio`] and resampled to 8 kHz.
//!
//! Plain text (`text/plain`) has its white space collapsed (espeak-ng reads each line end as a
//! long pause). SSML (`application/ssml+xml`) is checked by [`crate::ssml::parse`] first and
//! handed over from its `<speak>` on; [`crate::ssml`] says which elements espeak-ng honours.
//!
//! The `voice` attribute names one of espeak-ng's voices (`espeak-ng --voices`), by language
//! (`en-us`), by name (`English_(America)`) or by file (`gmw/en-US`), case-insensitively. An
//! unknown voice is refused with `bad-request`: XEP-0327 lists the attribute's possible values
//! as "any voice supported by the TTS engine", so another value makes a command that does not
//! comply (§6.5.1 "Some aspect of the component does not comply with this specification"),
//! rather than an option the server does not implement.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::{audio, ssml};

/// The synthesiser run.
pub const ESPEAK: &str = "espeak-ng";
/// The longest text (or SSML document) synthesised, in bytes.
pub const MAX_TEXT: usize = 64 * 1024;

/// Why speech could not be synthesised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A voice espeak-ng does not have (`feature-not-implemented`: the value is valid, this
    /// server lacks it).
    #[error("unknown voice {0:?}")]
    UnknownVoice(String),
    /// The SSML document was refused (`bad-request`).
    #[error(transparent)]
    Ssml(#[from] ssml::Error),
    /// A text longer than [`MAX_TEXT`] (`bad-request`).
    #[error("text longer than {MAX_TEXT} bytes")]
    TooLong,
    /// espeak-ng could not be run, or failed (`internal-server-error`).
    #[error("espeak-ng: {0}")]
    Engine(String),
    /// Its output did not decode (`internal-server-error`).
    #[error("espeak-ng output: {0}")]
    Audio(#[from] audio::Error),
}

impl Error {
    /// The stanza error condition a Rayo server answers with.
    pub fn condition(&self) -> &'static str {
        match self {
            Self::Engine(_) | Self::Audio(_) => "internal-server-error",
            Self::UnknownVoice(_) => "feature-not-implemented",
            _ => "bad-request",
        }
    }
}

/// What the text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain`.
    Text,
    /// `application/ssml+xml`.
    Ssml,
}

/// One voice of `espeak-ng --voices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voice {
    /// Its language code, such as `en-us`: what is passed to `-v`.
    pub language: String,
    /// Its name, such as `English_(America)`.
    pub name: String,
    /// Its file, such as `gmw/en-US`.
    pub file: String,
}

/// Reads the table `espeak-ng --voices` prints (sans-IO).
pub fn parse_voices(listing: &str) -> Vec<Voice> {
    listing
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let (_pty, language, _age, name, file) =
                (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
            Some(Voice {
                language: language.to_owned(),
                name: name.to_owned(),
                file: file.to_owned(),
            })
        })
        .collect()
}

/// Finds `wanted` among `voices` by language, name or file; returns what to pass to `-v`.
pub fn resolve_voice<'a>(voices: &'a [Voice], wanted: &str) -> Option<&'a str> {
    let w = wanted.trim();
    voices
        .iter()
        .find(|v| {
            [&v.language, &v.name, &v.file]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(w))
        })
        .map(|v| v.language.as_str())
}

/// The voices of the installed espeak-ng, listed once per process.
pub fn voices() -> Result<&'static [Voice], Error> {
    static VOICES: OnceLock<Result<Vec<Voice>, Error>> = OnceLock::new();
    VOICES
        .get_or_init(|| {
            let out = Command::new(ESPEAK)
                .arg("--voices")
                .stdin(Stdio::null())
                .output()
                .map_err(|e| Error::Engine(e.to_string()))?;
            Ok(parse_voices(&String::from_utf8_lossy(&out.stdout)))
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Checks the input and prepares what espeak-ng reads, with its `-v` argument.
pub fn prepare(
    text: &str,
    format: Format,
    voice: Option<&str>,
    voices: &[Voice],
) -> Result<(String, Option<String>), Error> {
    if text.len() > MAX_TEXT {
        return Err(Error::TooLong);
    }
    let voice = match voice {
        Some(v) => Some(
            resolve_voice(voices, v)
                .ok_or_else(|| Error::UnknownVoice(v.chars().take(64).collect()))?
                .to_owned(),
        ),
        None => None,
    };
    let body = match format {
        Format::Text => text.split_whitespace().collect::<Vec<_>>().join(" "),
        Format::Ssml => {
            // Line ends are white space to XML but long pauses to espeak-ng.
            let doc = ssml::parse(text)?;
            doc.body.replace(['\r', '\n'], " ")
        }
    };
    Ok((body, voice))
}

/// Synthesises `text` to 8 kHz mono samples; blocks while espeak-ng runs.
pub fn synthesize(text: &str, format: Format, voice: Option<&str>) -> Result<Vec<i16>, Error> {
    let (body, voice) = prepare(text, format, voice, voices()?)?;
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut cmd = Command::new(ESPEAK);
    cmd.arg("--stdout");
    if format == Format::Ssml {
        cmd.arg("-m");
    }
    if let Some(v) = &voice {
        cmd.args(["-v", v]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Engine(e.to_string()))?;
    let (mut stdin, mut stdout) = match (child.stdin.take(), child.stdout.take()) {
        (Some(i), Some(o)) => (i, o),
        _ => return Err(Error::Engine("no pipes".into())),
    };
    let mut wav = Vec::new();
    let read = std::thread::scope(|s| {
        s.spawn(move || {
            let _ = stdin.write_all(body.as_bytes());
        });
        stdout.read_to_end(&mut wav)
    });
    let status = child.wait().map_err(|e| Error::Engine(e.to_string()))?;
    read.map_err(|e| Error::Engine(e.to_string()))?;
    if !status.success() || wav.is_empty() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(Error::Engine(format!("{status}: {}", err.trim())));
    }
    Ok(audio::decode(&wav, Some("audio/wav"))?)
}

/// [`synthesize`] on tokio's blocking pool.
pub async fn synthesize_async(
    text: String,
    format: Format,
    voice: Option<String>,
) -> Result<Vec<i16>, Error> {
    tokio::task::spawn_blocking(move || synthesize(&text, format, voice.as_deref()))
        .await
        .map_err(|e| Error::Engine(e.to_string()))?
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    const LISTING: &str =
        "Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  af              --/M      Afrikaans          gmw/af
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  fr-be           --/M      French_(Belgium)   roa/fr-BE            (fr 8)
";

    fn rms(s: &[i16]) -> f64 {
        (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
    }

    #[test]
    fn voices_parse_and_resolve_by_language_name_or_file() {
        let v = parse_voices(LISTING);
        assert_eq!(v.len(), 3);
        assert_eq!(v[1].name, "English_(America)");
        assert_eq!(resolve_voice(&v, "EN-US"), Some("en-us"));
        assert_eq!(resolve_voice(&v, "French_(Belgium)"), Some("fr-be"));
        assert_eq!(resolve_voice(&v, "gmw/af"), Some("af"));
        assert_eq!(resolve_voice(&v, "nosuchvoice"), None);
    }

    #[test]
    fn prepare_collapses_text_cuts_the_ssml_prolog_and_refuses_bad_input() {
        let v = parse_voices(LISTING);
        let (b, voice) = prepare("  Thanks for\n calling!\n", Format::Text, Some("en-us"), &v)
            .expect("prepares");
        assert_eq!(
            (b.as_str(), voice.as_deref()),
            ("Thanks for calling!", Some("en-us"))
        );
        let (b, _) = prepare(
            "<?xml version='1.0'?>\n<speak>\nhi\n</speak>",
            Format::Ssml,
            None,
            &v,
        )
        .expect("prepares");
        assert_eq!(b, "<speak> hi </speak>");
        let e = prepare("hi", Format::Text, Some("nosuchvoice"), &v).expect_err("unknown voice");
        assert_eq!(
            (e.condition(), e),
            (
                "feature-not-implemented",
                Error::UnknownVoice("nosuchvoice".into())
            )
        );
        let e = prepare("<speak>", Format::Ssml, None, &v).expect_err("bad SSML");
        assert_eq!(e.condition(), "bad-request");
        assert_eq!(
            prepare(&"a".repeat(MAX_TEXT + 1), Format::Text, None, &v),
            Err(Error::TooLong)
        );
    }

    #[test]
    fn a_sentence_becomes_speech_of_plausible_length() {
        let s = synthesize("Thanks for calling, goodbye!", Format::Text, Some("en-us"))
            .expect("espeak-ng runs");
        let secs = s.len() as f64 / 8000.0;
        assert!((0.8..4.0).contains(&secs), "{secs} s");
        assert!(rms(&s) > 1000.0, "rms {}", rms(&s));
    }

    #[test]
    fn ssml_breaks_lengthen_the_speech() {
        let plain = synthesize("<speak>hello there</speak>", Format::Ssml, None).expect("runs");
        let long = synthesize(
            "<speak>hello <break time=\"2s\"/> there</speak>",
            Format::Ssml,
            None,
        )
        .expect("runs");
        let extra = (long.len() as f64 - plain.len() as f64) / 8000.0;
        assert!((1.5..2.6).contains(&extra), "{extra} s");
    }

    #[test]
    fn the_spec_example_speaks_for_a_few_seconds() {
        let s = synthesize(crate::ssml::tests::EXAMPLE, Format::Ssml, None).expect("runs");
        let secs = s.len() as f64 / 8000.0;
        assert!((4.0..14.0).contains(&secs), "{secs} s");
    }

    #[test]
    fn an_unknown_voice_is_refused_before_running() {
        let e = synthesize("hi", Format::Text, Some("nosuchvoice")).expect_err("refused");
        assert_eq!(e, Error::UnknownVoice("nosuchvoice".into()));
    }
}
