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

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// How long one synthesis may take; then espeak-ng is killed and the text refused.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// The most WAV bytes read from espeak-ng: an hour at 22 050 Hz, 16-bit mono.
pub const MAX_OUTPUT: usize = 3600 * 22_050 * 2 + 4096;
/// How much of the synthesiser's standard error is kept for the error text (the rest is
/// read and dropped, so a chatty child never blocks on a full pipe).
const STDERR_KEPT: usize = 2048;

/// Runs `program` with `args`, `input` on its standard input; its standard output, at most
/// `max_out` bytes. Standard output and error are read while it runs; it is killed when it
/// takes longer than `timeout`, writes more than `max_out`, or the future is dropped (a
/// caller's own deadline).
pub async fn run_filter(
    program: &str,
    args: &[&str],
    input: Vec<u8>,
    timeout: Duration,
    max_out: usize,
) -> Result<Vec<u8>, Error> {
    let engine = |e: std::io::Error| Error::Engine(e.to_string());
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(engine)?;
    let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(Error::Engine("no pipes".into()));
    };
    let writer = tokio::spawn(async move {
        // Dropped at the end: the child sees end of input.
        let _ = stdin.write_all(&input).await;
    });
    let errors = tokio::spawn(async move {
        let (mut kept, mut buf) = (Vec::new(), [0u8; 4096]);
        while let Ok(n @ 1..) = stderr.read(&mut buf).await {
            let room = STDERR_KEPT.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        kept
    });
    let work = async {
        let mut out = Vec::new();
        stdout
            .take(max_out as u64 + 1)
            .read_to_end(&mut out)
            .await
            .map_err(engine)?;
        if out.len() > max_out {
            return Err(Error::TooLong);
        }
        let status = child.wait().await.map_err(engine)?;
        Ok((status, out))
    };
    let result = tokio::time::timeout(timeout, work).await;
    writer.abort();
    let (status, out) = match result {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            let _ = child.kill().await;
            return Err(e);
        }
        Err(_) => {
            let _ = child.kill().await;
            return Err(Error::Engine(format!(
                "{program} took longer than {} s",
                timeout.as_secs()
            )));
        }
    };
    let err = errors.await.unwrap_or_default();
    if !status.success() || out.is_empty() {
        let err = String::from_utf8_lossy(&err);
        return Err(Error::Engine(format!("{status}: {}", err.trim())));
    }
    Ok(out)
}

/// Synthesises `text` to 8 kHz mono samples with espeak-ng (killed after [`TIMEOUT`], its
/// output bounded by [`MAX_OUTPUT`]).
pub async fn synthesize_async(
    text: String,
    format: Format,
    voice: Option<String>,
) -> Result<Vec<i16>, Error> {
    // Listed once per process (a blocking run of `espeak-ng --voices`).
    let voices = tokio::task::spawn_blocking(voices)
        .await
        .map_err(|e| Error::Engine(e.to_string()))??;
    let (body, voice) = prepare(&text, format, voice.as_deref(), voices)?;
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec!["--stdout"];
    if format == Format::Ssml {
        args.push("-m");
    }
    if let Some(v) = &voice {
        args.extend(["-v", v.as_str()]);
    }
    let wav = run_filter(ESPEAK, &args, body.into_bytes(), TIMEOUT, MAX_OUTPUT).await?;
    Ok(audio::decode(&wav, Some("audio/wav"))?)
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

    fn synthesize(text: &str, format: Format, voice: Option<&str>) -> Result<Vec<i16>, Error> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(synthesize_async(
                text.to_owned(),
                format,
                voice.map(str::to_owned),
            ))
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

    /// Issue 12 §16: espeak-ng's standard error was read only after it exited (a chatty
    /// child blocked for ever on a full pipe), and a render that timed out left the child
    /// running. Both pipes are read while it runs; on a timeout, an output over the bound or
    /// a dropped future, the child is killed.
    #[tokio::test]
    async fn a_chatty_slow_or_endless_filter_never_blocks_and_is_killed() {
        // 1 MiB on stderr before any output: no deadlock.
        let out = run_filter(
            "sh",
            &["-c", "head -c 1048576 /dev/zero >&2; cat"],
            b"spoken".to_vec(),
            Duration::from_secs(20),
            1000,
        )
        .await
        .expect("runs to the end");
        assert_eq!(out, b"spoken");
        // Endless output: stopped at the bound.
        let e = run_filter(
            "sh",
            &["-c", "yes"],
            Vec::new(),
            Duration::from_secs(20),
            4096,
        )
        .await
        .expect_err("over the bound");
        assert_eq!(e, Error::TooLong);
        // Too slow: killed at the deadline.
        let pid_file = std::env::temp_dir().join(format!("rayo-tts-{}.pid", std::process::id()));
        let script = format!("echo $$ > {}; exec sleep 30", pid_file.display());
        let started = std::time::Instant::now();
        let e = run_filter(
            "sh",
            &["-c", &script],
            Vec::new(),
            Duration::from_millis(500),
            10,
        )
        .await
        .expect_err("timed out");
        assert!(matches!(e, Error::Engine(_)), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let pid = std::fs::read_to_string(&pid_file).expect("pid written");
        let _ = std::fs::remove_file(&pid_file);
        // Reaped: no process of that id is left.
        let alive = std::path::Path::new(&format!("/proc/{}", pid.trim())).exists();
        assert!(!alive, "the timed-out child was killed");
    }
}
