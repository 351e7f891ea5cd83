//! The output component (XEP-0327 §6.5.1, §7.19.3): every document rendered to 8 kHz audio
//! by [`render`] before the component is acknowledged, then played by the sans-IO
//! [`Player`] one 20 ms frame at a time.
//!
//! Documents: inline `text/plain` and `application/ssml+xml` are spoken by espeak-ng
//! ([`crate::tts`]); a `url` (`file`, `http`, `https`, through [`crate::fetch::Cache`]) is
//! rendered by its content type: audio ([`crate::audio`]: WAV, μ-law/A-law WAV, `.au`, MP3,
//! Ogg Vorbis), text and SSML (spoken) or `text/uri-list` (each URL in turn, one level deep).
//! An audio document of unknown type is recognised by its first bytes. Anything that cannot
//! be fetched or rendered refuses the whole command before it gets a component ref.
//!
//! `renderer` may be absent, `espeak-ng` or `builtin` (the same engine); another is
//! `feature-not-implemented`. `voice` is checked against espeak-ng's voices whenever given.

use std::sync::Arc;

use rayo_proto::generated::output::{Document, Output};

use crate::fetch::{self, Cache};
use crate::sources;
use crate::{audio, ssml, tts};

mod player;

pub use player::{
    Player, PlayerError, FRAME, SPEED_MAX, SPEED_MIN, SPEED_STEP, VOLUME_MAX_DB, VOLUME_MIN_DB,
    VOLUME_STEP_DB,
};

/// The renderers accepted in the `renderer` attribute.
pub const RENDERERS: &[&str] = &["espeak-ng", "builtin"];
/// The most URLs one `text/uri-list` may name.
pub const MAX_URIS: usize = 64;

/// One document (or one URL of a `text/uri-list`), rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Where it came from: its URL, or `inline` for a body.
    pub source: String,
    /// 8 kHz mono samples.
    pub samples: Arc<Vec<i16>>,
}

/// Why an output was refused before it started.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A `renderer` other than those of [`RENDERERS`] (`feature-not-implemented`).
    #[error("renderer {0:?} is not implemented")]
    Renderer(String),
    /// No document at all (`bad-request`).
    #[error("an output needs at least one document")]
    NoDocument,
    /// A document with both a url and a body, or neither, or a body without content type
    /// (`bad-request`).
    #[error("document {0}: needs a url, or a content-type and a body")]
    UrlAndBody(usize),
    /// A content type this server does not render (`feature-not-implemented`).
    #[error("document {index}: content type {content_type:?} is not supported")]
    ContentType {
        /// The document's position in the command.
        index: usize,
        /// The content type.
        content_type: String,
    },
    /// A document that could not be fetched (`item-not-found` for HTTP 404 and 410 and
    /// missing files, else `bad-request`).
    #[error("document {index}: {source}")]
    Fetch {
        /// The document's position in the command.
        index: usize,
        /// What failed.
        source: fetch::Error,
    },
    /// An audio document that does not decode (`bad-request`; `feature-not-implemented` for
    /// an audio format this server does not decode).
    #[error("document {index}: {source}")]
    Audio {
        /// The document's position in the command.
        index: usize,
        /// What failed.
        source: audio::Error,
    },
    /// Speech synthesis failed or refused a document's text or SSML (the condition of
    /// [`tts::Error::condition`]).
    #[error("document {index}: {source}")]
    Tts {
        /// The document's position in the command.
        index: usize,
        /// What failed.
        source: tts::Error,
    },
    /// The output's `voice` attribute names a voice the synthesiser does not have
    /// (`feature-not-implemented`), or the voices could not be listed.
    #[error("voice: {0}")]
    Voice(tts::Error),
    /// A `text/uri-list` naming no URL, more than [`MAX_URIS`], or another uri-list
    /// (`bad-request`).
    #[error("document {0}: a uri-list must name 1 to {MAX_URIS} URLs of documents")]
    UriList(usize),
    /// A fetched document that does not render (the condition of the underlying error): its
    /// text names the URL only, never what was read.
    #[error("document {index}: {url} is not audio or text this node can play")]
    Fetched {
        /// The document's position in the command.
        index: usize,
        /// The URL it was fetched from.
        url: String,
        /// The condition of what failed.
        condition: &'static str,
    },
    /// The rendered audio is longer than [`audio::MAX_SAMPLES`] in all (`resource-constraint`).
    #[error("the rendered output is longer than one hour")]
    TooLong,
}

impl RenderError {
    /// The stanza error condition a Rayo server answers with.
    pub fn condition(&self) -> &'static str {
        match self {
            Self::Renderer(_) | Self::ContentType { .. } => "feature-not-implemented",
            Self::Audio {
                source: audio::Error::Unsupported(_),
                ..
            } => "feature-not-implemented",
            Self::Fetch {
                source:
                    fetch::Error::Status {
                        status: 404 | 410, ..
                    },
                ..
            } => "item-not-found",
            Self::Fetch {
                source: fetch::Error::Refused(sources::Refused::NotFound(_)),
                ..
            } => "item-not-found",
            Self::Fetch {
                source: fetch::Error::Refused(_),
                ..
            } => "not-allowed",
            Self::Fetched { condition, .. } => condition,
            Self::Tts { source, .. } | Self::Voice(source) => source.condition(),
            Self::TooLong => "resource-constraint",
            _ => "bad-request",
        }
    }
}

/// What a content type says to do.
enum Action {
    Speak(tts::Format),
    UriList,
    Audio,
}

fn action(content_type: &str) -> Option<Action> {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    Some(match ct.as_str() {
        "text/plain" => Action::Speak(tts::Format::Text),
        ssml::CONTENT_TYPE => Action::Speak(tts::Format::Ssml),
        fetch::URI_LIST => Action::UriList,
        "application/octet-stream" => Action::Audio,
        _ if audio::is_audio(&ct) => Action::Audio,
        _ => return None,
    })
}

/// Renders every document of an `<output/>` to 8 kHz audio, in order; a `text/uri-list`
/// yields one [`Rendered`] per URL.
pub async fn render(spec: &Output, cache: &Cache) -> Result<Vec<Rendered>, RenderError> {
    if let Some(r) = spec.renderer.as_deref().map(str::trim) {
        if !RENDERERS.iter().any(|k| k.eq_ignore_ascii_case(r)) {
            return Err(RenderError::Renderer(r.chars().take(64).collect()));
        }
    }
    if spec.documents.is_empty() {
        return Err(RenderError::NoDocument);
    }
    let voice = spec
        .voice
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if let Some(v) = voice {
        let voices = tts::voices().map_err(RenderError::Voice)?;
        if tts::resolve_voice(voices, v).is_none() {
            let unknown = tts::Error::UnknownVoice(v.chars().take(64).collect());
            return Err(RenderError::Voice(unknown));
        }
    }
    let mut out = Vec::new();
    for (index, doc) in spec.documents.iter().enumerate() {
        render_document(index, doc, voice, cache, &mut out).await?;
    }
    let total: usize = out.iter().map(|r| r.samples.len()).sum();
    if total > audio::MAX_SAMPLES {
        return Err(RenderError::TooLong);
    }
    Ok(out)
}

async fn render_document(
    index: usize,
    doc: &Document,
    voice: Option<&str>,
    cache: &Cache,
    out: &mut Vec<Rendered>,
) -> Result<(), RenderError> {
    let has_body = !doc.body.trim().is_empty();
    match (&doc.url, has_body, &doc.content_type) {
        (Some(url), false, _) => {
            let fetched = cache
                .fetch(url)
                .await
                .map_err(|source| RenderError::Fetch { index, source })?;
            let ct = fetched.content_type.clone();
            if let Some(Action::UriList) = ct.as_deref().and_then(action) {
                let text = String::from_utf8_lossy(&fetched.body);
                let urls = fetch::parse_uri_list(&text);
                if urls.is_empty() || urls.len() > MAX_URIS {
                    return Err(RenderError::UriList(index));
                }
                for u in urls {
                    let f = cache
                        .fetch(&u)
                        .await
                        .map_err(|source| RenderError::Fetch { index, source })?;
                    if let Some(Action::UriList) = f.content_type.as_deref().and_then(action) {
                        return Err(RenderError::UriList(index));
                    }
                    let samples = url_audio(cache, &u, index, &f, voice).await?;
                    out.push(Rendered { source: u, samples });
                }
                return Ok(());
            }
            let samples = url_audio(cache, url, index, &fetched, voice).await?;
            out.push(Rendered {
                source: url.clone(),
                samples,
            });
            Ok(())
        }
        (None, true, Some(ct)) => {
            if let Some(Action::UriList) = action(ct) {
                let urls = fetch::parse_uri_list(&doc.body);
                if urls.is_empty() || urls.len() > MAX_URIS {
                    return Err(RenderError::UriList(index));
                }
                for u in urls {
                    let d = Document {
                        url: Some(u),
                        content_type: None,
                        body: String::new(),
                    };
                    Box::pin(render_document(index, &d, voice, cache, out)).await?;
                }
                return Ok(());
            }
            let samples = bytes(index, doc.body.as_bytes(), Some(ct), voice).await?;
            out.push(Rendered {
                source: "inline".into(),
                samples: Arc::new(samples),
            });
            Ok(())
        }
        _ => Err(RenderError::UrlAndBody(index)),
    }
}

/// Renders a fetched document, or takes the copy rendered earlier from the same bytes.
async fn url_audio(
    cache: &Cache,
    url: &str,
    index: usize,
    f: &fetch::Fetched,
    voice: Option<&str>,
) -> Result<Arc<Vec<i16>>, RenderError> {
    // Speech depends on the voice too: only audio is shared.
    let audio = matches!(
        f.content_type.as_deref().map(action),
        None | Some(Some(Action::Audio))
    );
    let fp = fetch::fingerprint(&f.body);
    if audio {
        if let Some(s) = cache.rendered(url, fp) {
            return Ok(s);
        }
    }
    let samples = bytes(index, &f.body, f.content_type.as_deref(), voice)
        .await
        .map_err(|e| match e {
            // What the failure says may quote the document: only the URL is told.
            e @ (RenderError::Audio { .. } | RenderError::Tts { .. }) => {
                tracing::debug!(%url, error = %e, "fetched document refused");
                RenderError::Fetched {
                    index,
                    url: url.chars().take(200).collect(),
                    condition: e.condition(),
                }
            }
            e => e,
        })?;
    let samples = Arc::new(samples);
    if audio {
        cache.keep_rendered(url, fp, samples.clone());
    }
    Ok(samples)
}

/// Renders one document's bytes by content type (sniffed audio when there is none).
async fn bytes(
    index: usize,
    body: &[u8],
    content_type: Option<&str>,
    voice: Option<&str>,
) -> Result<Vec<i16>, RenderError> {
    let act = match content_type {
        None => Action::Audio,
        Some(ct) => action(ct).ok_or_else(|| RenderError::ContentType {
            index,
            content_type: ct.chars().take(100).collect(),
        })?,
    };
    match act {
        Action::Speak(format) => {
            let text = String::from_utf8_lossy(body).into_owned();
            tts::synthesize_async(text, format, voice.map(str::to_owned))
                .await
                .map_err(|source| RenderError::Tts { index, source })
        }
        Action::Audio => {
            audio::decode(body, content_type).map_err(|source| RenderError::Audio { index, source })
        }
        Action::UriList => Err(RenderError::UriList(index)),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn doc(url: Option<&str>, ct: Option<&str>, body: &str) -> Document {
        Document {
            url: url.map(str::to_owned),
            content_type: ct.map(str::to_owned),
            body: body.to_owned(),
        }
    }

    fn out(docs: Vec<Document>) -> Output {
        Output {
            documents: docs,
            ..Output::default()
        }
    }

    /// A cache that may read the temporary directory.
    fn cache() -> Cache {
        Cache::new(
            crate::sources::Sources::new(&[std::env::temp_dir()], &[], 1 << 20).expect("sources"),
        )
    }

    fn temp(name: &str, bytes: &[u8]) -> String {
        let p = std::env::temp_dir().join(format!("rayo-out-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).expect("write");
        format!("file://{}", p.display())
    }

    #[tokio::test]
    async fn text_ssml_and_files_render_in_order() {
        let tone: Vec<i16> = (0..4000).map(|i| ((i % 40) * 500 - 10000) as i16).collect();
        let wav = temp("a.wav", &audio::encode_wav(&tone, 8000, 1));
        let list = temp("l.uri", format!("# two\r\n{wav}\r\n{wav}\r\n").as_bytes());
        let spec = out(vec![
            doc(None, Some("text/plain"), "Hello."),
            doc(Some(&wav), None, ""),
            doc(
                None,
                Some("application/ssml+xml"),
                "<speak>Goodbye.</speak>",
            ),
            doc(Some(&list), None, ""),
            doc(None, Some("text/uri-list"), &wav),
        ]);
        let r = render(&spec, &cache()).await.expect("renders");
        assert_eq!(r.len(), 6);
        assert_eq!(r[1].samples.as_slice(), tone.as_slice());
        assert_eq!(r[1].source, wav);
        assert!(r[0].samples.len() > 2000 && r[2].samples.len() > 2000);
        assert!(r[3..]
            .iter()
            .all(|x| x.samples.as_slice() == tone.as_slice()));
    }

    #[tokio::test]
    async fn calls_playing_the_same_file_share_one_rendering_until_it_changes() {
        let tone: Vec<i16> = (0..4000).map(|i| ((i % 40) * 500 - 10000) as i16).collect();
        let wav = temp("shared.wav", &audio::encode_wav(&tone, 8000, 1));
        let spec = out(vec![doc(Some(&wav), None, "")]);
        let c = cache();
        let a = render(&spec, &c).await.expect("renders");
        let b = render(&spec, &c).await.expect("renders");
        assert!(
            Arc::ptr_eq(&a[0].samples, &b[0].samples),
            "one copy for both"
        );
        let path = wav.strip_prefix("file://").expect("file url");
        std::fs::write(path, audio::encode_wav(&tone[..2000], 8000, 1)).expect("rewritten");
        let c2 = render(&spec, &c).await.expect("renders");
        assert_eq!(
            c2[0].samples.len(),
            2000,
            "a changed file is rendered again"
        );
    }

    #[tokio::test]
    async fn refusals_name_their_condition() {
        let c = cache();
        let cond = |r: Result<Vec<Rendered>, RenderError>| r.expect_err("refused").condition();
        let mut s = out(vec![doc(None, Some("text/plain"), "hi")]);
        s.renderer = Some("nuance".into());
        assert_eq!(cond(render(&s, &c).await), "feature-not-implemented");
        s.renderer = Some("espeak-ng".into());
        s.voice = Some("nosuchvoice".into());
        // A voice this server lacks: feature-not-implemented, and the text names the voice
        // attribute, not a document.
        let refused = render(&s, &c).await.expect_err("no such voice");
        assert_eq!(refused.condition(), "feature-not-implemented");
        assert_eq!(refused.to_string(), "voice: unknown voice \"nosuchvoice\"");
        assert_eq!(cond(render(&out(vec![]), &c).await), "bad-request");
        let s = out(vec![doc(None, Some("video/mp4"), "x")]);
        assert_eq!(cond(render(&s, &c).await), "feature-not-implemented");
        let s = out(vec![doc(None, Some("application/ssml+xml"), "<speak>")]);
        assert_eq!(cond(render(&s, &c).await), "bad-request");
        let missing = std::env::temp_dir().join("rayo-no-such.wav");
        let s = out(vec![doc(
            Some(&format!("file://{}", missing.display())),
            None,
            "",
        )]);
        assert_eq!(cond(render(&s, &c).await), "item-not-found");
        // Outside the allowed directories: refused whether it exists or not.
        for url in [
            "file:///etc/passwd",
            "file:///no/such.wav",
            "file:///dev/zero",
        ] {
            let s = out(vec![doc(Some(url), None, "")]);
            let refused = render(&s, &c).await.expect_err("not allowed");
            assert_eq!(refused.condition(), "not-allowed", "{url}");
            assert!(refused.to_string().contains(url), "{refused}");
        }
        let s = out(vec![doc(Some("ftp://x/y.wav"), None, "")]);
        assert_eq!(cond(render(&s, &c).await), "bad-request");
        let s = out(vec![doc(Some(&temp("bad.wav", b"RIFF....WAVE")), None, "")]);
        assert_eq!(cond(render(&s, &c).await), "bad-request");
        // A fetched document that does not render: the text quotes nothing of it.
        let secret = temp("secret.ssml", b"<speak><TOPSECRET");
        let s = out(vec![doc(Some(&secret), None, "")]);
        let refused = render(&s, &c).await.expect_err("bad SSML");
        assert_eq!(refused.condition(), "bad-request");
        assert!(!refused.to_string().contains("TOPSECRET"), "{refused}");
        let s = out(vec![doc(None, Some("text/uri-list"), "# nothing\r\n")]);
        assert_eq!(cond(render(&s, &c).await), "bad-request");
        let s = out(vec![doc(Some("http://x/"), Some("text/plain"), "both")]);
        assert_eq!(cond(render(&s, &c).await), "bad-request");
    }
}
