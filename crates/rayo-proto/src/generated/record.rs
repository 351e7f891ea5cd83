//! `urn:xmpp:rayo:record:1`: types generated from `xsd/rayo-record.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:record:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:record:1";

/// Instructs the server to begin recording input to the call to a file.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "record", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Record {
    /// File format used during recording. Absent means the schema's default, `wav`: see
    /// [`Self::format()`].
    #[xml(attribute(name = "format", default))]
    pub format: Option<String>,
    /// Indicates whether subsequent record will be preceded with a beep. Absent means the
    /// schema's default, `false`: see [`Self::start_beep()`].
    #[xml(attribute(name = "start-beep", default, codec = crate::codec::Token))]
    pub start_beep: Option<bool>,
    /// Indicates whether subsequent record stop will be preceded with a beep. Absent means the
    /// schema's default, `false`: see [`Self::stop_beep()`].
    #[xml(attribute(name = "stop-beep", default, codec = crate::codec::Token))]
    pub stop_beep: Option<bool>,
    /// Whether subsequent record will start in PAUSE mode. Absent means the schema's default,
    /// `false`: see [`Self::start_paused()`].
    #[xml(attribute(name = "start-paused", default, codec = crate::codec::Token))]
    pub start_paused: Option<bool>,
    /// Indicates the maximum duration for the recording. `None` when absent or `-1`: disabled,
    /// the schema's default.
    #[xml(attribute(name = "max-duration", default, codec = crate::codec::Timeout))]
    pub max_duration: Option<core::time::Duration>,
    /// Controls how long the recognizer should wait after the end of the prompt for the caller
    /// to speak before sending a Recorder event. `None` when absent or `-1`: disabled, the
    /// schema's default.
    #[xml(attribute(name = "initial-timeout", default, codec = crate::codec::Timeout))]
    pub initial_timeout: Option<core::time::Duration>,
    /// Controls the length of a period of silence after callers have spoken to conclude they
    /// finished. `None` when absent or `-1`: disabled, the schema's default.
    #[xml(attribute(name = "final-timeout", default, codec = crate::codec::Timeout))]
    pub final_timeout: Option<core::time::Duration>,
    /// Indicates the direction of the call to record, as in media produced or received by the
    /// calling party. Absent means the schema's default, `duplex`: see [`Self::direction()`].
    #[xml(attribute(name = "direction", default))]
    pub direction: Option<RecordDirection>,
    /// Whether all channels (call legs) should be mixed into a single recording channel. Absent
    /// means the schema's default, `false`: see [`Self::mix()`].
    #[xml(attribute(name = "mix", default, codec = crate::codec::Token))]
    pub mix: Option<bool>,
    /// Optional format-specific encoding hints
    #[xml(child(n = ..))]
    pub hints: Vec<Hint>,
}

impl Record {
    /// The `format` attribute, or its schema default `wav` when absent.
    pub fn format(&self) -> &str {
        self.format.as_deref().unwrap_or("wav")
    }
    /// The `start-beep` attribute, or its schema default `false` when absent.
    pub fn start_beep(&self) -> bool {
        self.start_beep.unwrap_or(false)
    }
    /// The `stop-beep` attribute, or its schema default `false` when absent.
    pub fn stop_beep(&self) -> bool {
        self.stop_beep.unwrap_or(false)
    }
    /// The `start-paused` attribute, or its schema default `false` when absent.
    pub fn start_paused(&self) -> bool {
        self.start_paused.unwrap_or(false)
    }
    /// The `direction` attribute, or its schema default `duplex` when absent.
    pub fn direction(&self) -> RecordDirection {
        self.direction.unwrap_or(RecordDirection::Duplex)
    }
    /// The `mix` attribute, or its schema default `false` when absent.
    pub fn mix(&self) -> bool {
        self.mix.unwrap_or(false)
    }
}

/// Indicates the direction of the call to record, as in media produced or received by the
/// calling party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RecordDirection {
    /// Records both sent and received audio.
    #[default]
    Duplex,
    /// Indicates that only the audio sent from the caller is to be recorded. Not supported when
    /// Record is executed against a mixer.
    Send,
    /// Indicates that only and all audio received by the caller is recorded.
    Recv,
}

impl RecordDirection {
    /// The value as written in XML.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Duplex => "duplex",
            Self::Send => "send",
            Self::Recv => "recv",
        }
    }
}

impl core::fmt::Display for RecordDirection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl xso::FromXmlText for RecordDirection {
    fn from_xml_text(s: String) -> Result<Self, xso::error::Error> {
        match s.trim() {
            "duplex" => Ok(Self::Duplex),
            "send" => Ok(Self::Send),
            "recv" => Ok(Self::Recv),
            _ => Err(xso::error::Error::Other("unknown RecordDirection value")),
        }
    }
}

impl xso::AsXmlText for RecordDirection {
    fn as_xml_text(&self) -> Result<std::borrow::Cow<'_, str>, xso::error::Error> {
        Ok(std::borrow::Cow::Borrowed(self.as_str()))
    }
}

/// Optional format-specific encoding hints
///
/// Declared locally inside other elements of this namespace.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "hint", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Hint {
    /// The name of the hint value as expected by the recorder.
    #[xml(attribute(name = "name"))]
    pub name: String,
    /// The value of the hint provided.
    #[xml(attribute(name = "value"))]
    pub value: String,
}

/// Instructs the server to cease recording input but to leave the destination open for
/// appending to permit resumption from the same point.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "pause", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Pause;

/// Instructs the server to continue recording input, appending to the same destination.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "resume", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Resume;
