//! `urn:xmpp:rayo:output:1`: types generated from `xsd/rayo-output.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:output:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:output:1";

/// Instructs the server to begin an output component executing on the target call or mixer with
/// the specified document and parameters.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "output", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Output {
    /// Indicates some offset through which the output should be skipped before rendering
    /// begins. Absent means the schema's default, `0`: see [`Self::start_offset()`].
    #[xml(attribute(name = "start-offset", default, codec = crate::codec::Millis))]
    pub start_offset: Option<core::time::Duration>,
    /// Indicates wether or not the component should be started in a paused state to be resumed
    /// at a later time. Absent means the schema's default, `false`: see
    /// [`Self::start_paused()`].
    #[xml(attribute(name = "start-paused", default, codec = crate::codec::Token))]
    pub start_paused: Option<bool>,
    /// Indicates the duration of silence that should space repeats of the rendered document.
    /// Absent means the schema's default, `0`: see [`Self::repeat_interval()`].
    #[xml(attribute(name = "repeat-interval", default, codec = crate::codec::Millis))]
    pub repeat_interval: Option<core::time::Duration>,
    /// Indicates the number of times the output should be played. Absent means the schema's
    /// default, `1`: see [`Self::repeat_times()`].
    #[xml(attribute(name = "repeat-times", default, codec = crate::codec::Token))]
    pub repeat_times: Option<u64>,
    /// Indicates the maximum amount of time for which the output should be allowed to run
    /// before being terminated. Includes repeats. `None` when absent or `-1`: disabled, the
    /// schema's default.
    #[xml(attribute(name = "max-time", default, codec = crate::codec::Timeout))]
    pub max_time: Option<core::time::Duration>,
    /// Indicates which media engine the server should use to render the Output.
    #[xml(attribute(name = "renderer", default))]
    pub renderer: Option<String>,
    /// The voice with which to speak the requested document.
    #[xml(attribute(name = "voice", default))]
    pub voice: Option<String>,
    /// Provides the document for rendering.
    #[xml(child(n = ..))]
    pub documents: Vec<Document>,
}

impl Output {
    /// The `start-offset` attribute, or its schema default `0` when absent.
    pub fn start_offset(&self) -> core::time::Duration {
        self.start_offset
            .unwrap_or(core::time::Duration::from_millis(0))
    }
    /// The `start-paused` attribute, or its schema default `false` when absent.
    pub fn start_paused(&self) -> bool {
        self.start_paused.unwrap_or(false)
    }
    /// The `repeat-interval` attribute, or its schema default `0` when absent.
    pub fn repeat_interval(&self) -> core::time::Duration {
        self.repeat_interval
            .unwrap_or(core::time::Duration::from_millis(0))
    }
    /// The `repeat-times` attribute, or its schema default `1` when absent.
    pub fn repeat_times(&self) -> u64 {
        self.repeat_times.unwrap_or(1)
    }
}

/// Provides the document for rendering.
///
/// Declared locally inside other elements of this namespace.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "document", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Document {
    /// Provides a URI at which the document is available. Must not be provided if the
    /// content-type attribute is set or the element contains a document as CDATA.
    #[xml(attribute(name = "url", default))]
    pub url: Option<String>,
    /// Indicates the content type of the document provided as CDATA. Must not be set if the url
    /// attribute is set.
    #[xml(attribute(name = "content-type", default))]
    pub content_type: Option<String>,
    /// The body (a document given inline, usually as CDATA), kept byte for byte.
    #[xml(text(codec = crate::codec::Body))]
    pub body: String,
}

/// Instructs the server to cease rendering output at the current marker and permit resumption
/// from the same point.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "pause", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Pause;

/// Instructs the server to continue rendering the output from the last pause marker.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "resume", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Resume;

/// Instructs the server to increase the rate of output by a unit amount.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "speed-up", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct SpeedUp;

/// Instructs the server to decrease the rate of output by a unit amount.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "speed-down", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct SpeedDown;

/// Instructs the server to increase the volume of output by a unit amount.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "volume-up", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct VolumeUp;

/// Instructs the server to decrease the volume of output by a unit amount.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "volume-down", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct VolumeDown;

/// Instructs the server to move the play marker of the output forward or back in time before
/// resuming output.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "seek", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Seek {
    /// Indicates the direction in time in which to move the play marker.
    #[xml(attribute(name = "direction"))]
    pub direction: SeekDirection,
    /// Indicates the duration by which to move the play marker.
    #[xml(attribute(name = "amount", codec = crate::codec::Millis))]
    pub amount: core::time::Duration,
}

/// Indicates the direction in time in which to move the play marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeekDirection {
    /// `forward`.
    Forward,
    /// `back`.
    Back,
}

impl SeekDirection {
    /// The value as written in XML.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Forward => "forward",
            Self::Back => "back",
        }
    }
}

impl core::fmt::Display for SeekDirection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl xso::FromXmlText for SeekDirection {
    fn from_xml_text(s: String) -> Result<Self, xso::error::Error> {
        match s.trim() {
            "forward" => Ok(Self::Forward),
            "back" => Ok(Self::Back),
            _ => Err(xso::error::Error::Other("unknown SeekDirection value")),
        }
    }
}

impl xso::AsXmlText for SeekDirection {
    fn as_xml_text(&self) -> Result<std::borrow::Cow<'_, str>, xso::error::Error> {
        Ok(std::borrow::Cow::Borrowed(self.as_str()))
    }
}
