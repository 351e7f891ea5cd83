//! Builders of the commands that start components (XEP-0327 §7.19), over the generated
//! rayo-proto types: each `*Spec` wraps one and converts from it, so anything the schema
//! allows can be set directly on [`OutputSpec::inner`] and friends.

use std::time::Duration;

use rayo_proto::command::ComponentStart;
use rayo_proto::generated::input::{Grammar, Input as InputEl, InputMode};
use rayo_proto::generated::output::{Document, Output as OutputEl};
use rayo_proto::generated::prompt::Prompt as PromptEl;
use rayo_proto::generated::record::Record as RecordEl;

/// An `<output/>` to start: what to render, and how.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputSpec {
    /// The command as it will be sent.
    pub inner: OutputEl,
}

impl OutputSpec {
    /// Text to speak (`text/plain`).
    pub fn say(text: impl Into<String>) -> Self {
        Self::document("text/plain", text)
    }

    /// An SSML document to render (`application/ssml+xml`).
    pub fn ssml(doc: impl Into<String>) -> Self {
        Self::document("application/ssml+xml", doc)
    }

    /// Audio (or a document) fetched from a URL.
    pub fn url(url: impl Into<String>) -> Self {
        OutputSpec::default().and(Document {
            url: Some(url.into()),
            content_type: None,
            body: String::new(),
        })
    }

    fn document(content_type: &str, body: impl Into<String>) -> Self {
        OutputSpec::default().and(Document {
            url: None,
            content_type: Some(content_type.to_owned()),
            body: body.into(),
        })
    }

    /// Adds a document, rendered after the ones before it.
    pub fn and(mut self, doc: Document) -> Self {
        self.inner.documents.push(doc);
        self
    }

    /// The TTS voice.
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.inner.voice = Some(voice.into());
        self
    }

    /// Stop after this long (completes with `max-time`).
    pub fn max_time(mut self, d: Duration) -> Self {
        self.inner.max_time = Some(d);
        self
    }

    /// Render the documents this many times.
    pub fn repeat_times(mut self, n: u64) -> Self {
        self.inner.repeat_times = Some(n);
        self
    }

    /// Start paused (resume with [`Output::resume`](crate::Output::resume)).
    pub fn start_paused(mut self) -> Self {
        self.inner.start_paused = Some(true);
        self
    }
}

impl From<OutputEl> for OutputSpec {
    fn from(inner: OutputEl) -> Self {
        OutputSpec { inner }
    }
}

/// An `<input/>` to start: the grammars to match, and the timers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputSpec {
    /// The command as it will be sent.
    pub inner: InputEl,
}

impl InputSpec {
    /// DTMF matched against an SRGS grammar (`application/srgs+xml`).
    pub fn dtmf(grammar_srgs: impl Into<String>) -> Self {
        InputSpec::default().mode(InputMode::Dtmf).grammar(Grammar {
            url: None,
            content_type: Some("application/srgs+xml".to_owned()),
            body: grammar_srgs.into(),
        })
    }

    /// Between `min` and `max` DTMF digits (`builtin:dtmf/digits`).
    pub fn digits(min: u32, max: u32) -> Self {
        Self::builtin(&format!(
            "builtin:dtmf/digits?minlength={min};maxlength={max}"
        ))
    }

    /// A builtin grammar by URL, such as `builtin:dtmf/boolean`.
    pub fn builtin(url: &str) -> Self {
        InputSpec::default().mode(InputMode::Dtmf).grammar(Grammar {
            url: Some(url.to_owned()),
            content_type: None,
            body: String::new(),
        })
    }

    /// Adds a grammar.
    pub fn grammar(mut self, g: Grammar) -> Self {
        self.inner.grammars.push(g);
        self
    }

    /// The input mode.
    pub fn mode(mut self, mode: InputMode) -> Self {
        self.inner.mode = Some(mode);
        self
    }

    /// The digit that ends input, such as `#`.
    pub fn terminator(mut self, t: char) -> Self {
        self.inner.terminator = Some(t.to_string());
        self
    }

    /// How long to wait for the first input (completes with `noinput`).
    pub fn initial_timeout(mut self, d: Duration) -> Self {
        self.inner.initial_timeout = Some(d);
        self
    }

    /// How long to wait between digits.
    pub fn inter_digit_timeout(mut self, d: Duration) -> Self {
        self.inner.inter_digit_timeout = Some(d);
        self
    }
}

impl From<InputEl> for InputSpec {
    fn from(inner: InputEl) -> Self {
        InputSpec { inner }
    }
}

/// A `<prompt/>` to start: an output, then (or during, with barge-in) an input.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSpec {
    /// The command as it will be sent.
    pub inner: PromptEl,
}

impl PromptSpec {
    /// `output` then `input`; with `barge_in`, input during the output stops it.
    pub fn new(output: OutputSpec, input: InputSpec, barge_in: bool) -> Self {
        PromptSpec {
            inner: PromptEl {
                barge_in: Some(barge_in),
                output: output.inner,
                input: input.inner,
            },
        }
    }
}

impl From<PromptEl> for PromptSpec {
    fn from(inner: PromptEl) -> Self {
        PromptSpec { inner }
    }
}

/// A `<record/>` to start.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordSpec {
    /// The command as it will be sent.
    pub inner: RecordEl,
}

impl RecordSpec {
    /// A WAV recording of at most `max_duration`.
    pub fn wav(max_duration: Duration) -> Self {
        RecordSpec {
            inner: RecordEl {
                format: Some("wav".to_owned()),
                max_duration: Some(max_duration),
                ..RecordEl::default()
            },
        }
    }

    /// Beep before recording starts.
    pub fn start_beep(mut self) -> Self {
        self.inner.start_beep = Some(true);
        self
    }

    /// End after this much silence once speech began (completes with `final-timeout`).
    pub fn final_timeout(mut self, d: Duration) -> Self {
        self.inner.final_timeout = Some(d);
        self
    }

    /// End if nobody speaks within this (completes with `initial-timeout`).
    pub fn initial_timeout(mut self, d: Duration) -> Self {
        self.inner.initial_timeout = Some(d);
        self
    }
}

impl From<RecordEl> for RecordSpec {
    fn from(inner: RecordEl) -> Self {
        RecordSpec { inner }
    }
}

impl From<OutputSpec> for ComponentStart {
    fn from(s: OutputSpec) -> Self {
        ComponentStart::Output(s.inner)
    }
}

impl From<InputSpec> for ComponentStart {
    fn from(s: InputSpec) -> Self {
        ComponentStart::Input(s.inner)
    }
}

impl From<PromptSpec> for ComponentStart {
    fn from(s: PromptSpec) -> Self {
        ComponentStart::Prompt(s.inner)
    }
}

impl From<RecordSpec> for ComponentStart {
    fn from(s: RecordSpec) -> Self {
        ComponentStart::Record(s.inner)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use rayo_proto::address::EntityKind;
    use rayo_proto::command::{CallCommand, Command};

    fn valid(start: ComponentStart) {
        let el = minidom::Element::from(start);
        let cmd = Command::parse_valid(EntityKind::Call, el).expect("a valid command");
        assert!(matches!(cmd, Command::Call(CallCommand::Start(_))));
    }

    #[test]
    fn builders_make_valid_commands() {
        valid(OutputSpec::say("Hello").voice("allison").into());
        valid(OutputSpec::ssml("<speak>Hi</speak>").into());
        valid(OutputSpec::url("http://example.com/a.wav").into());
        valid(InputSpec::digits(4, 4).terminator('#').into());
        valid(InputSpec::dtmf("<grammar/>").into());
        valid(PromptSpec::new(OutputSpec::say("PIN?"), InputSpec::digits(1, 8), true).into());
        valid(RecordSpec::wav(Duration::from_secs(30)).start_beep().into());
    }

    #[test]
    fn digits_url() {
        let i = InputSpec::digits(4, 6).inner;
        assert_eq!(
            i.grammars[0].url.as_deref(),
            Some("builtin:dtmf/digits?minlength=4;maxlength=6")
        );
    }
}
