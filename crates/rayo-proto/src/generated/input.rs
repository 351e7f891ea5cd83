//! `urn:xmpp:rayo:input:1`: types generated from `xsd/rayo-input.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:input:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:input:1";

/// Instructs the server to begin an input detector of the specified mode, with certain
/// attributes, governed by the rules provided in one or more grammar documents.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "input", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Input {
    /// The method by which to collect input. Absent means the schema's default, `dtmf`: see
    /// [`Self::mode()`].
    #[xml(attribute(name = "mode", default))]
    pub mode: Option<InputMode>,
    /// Indicates a terminator token which, when encountered, should cause the input detection
    /// to cease. Absent means the schema's default, ``: see [`Self::terminator()`].
    #[xml(attribute(name = "terminator", default))]
    pub terminator: Option<String>,
    /// Indicates the name of the particular input processor to be engaged, used only for
    /// routing purposes (eg to choose which MRCP profile to invoke). Absent means the schema's
    /// default, ``: see [`Self::recognizer()`].
    #[xml(attribute(name = "recognizer", default))]
    pub recognizer: Option<String>,
    /// Specifies the recognition language to the recognizer. Absent means the schema's default,
    /// `en-US`: see [`Self::language()`].
    #[xml(attribute(name = "language", default))]
    pub language: Option<String>,
    /// Indicates the amount of time preceding input which may expire before a timeout is
    /// triggered. `None` when absent or `-1`: disabled, the schema's default.
    #[xml(attribute(name = "initial-timeout", default, codec = crate::codec::Timeout))]
    pub initial_timeout: Option<core::time::Duration>,
    /// Indicates (in the case of DTMF input) the amount of time between input digits which may
    /// expire before a timeout is triggered. `None` when absent or `-1`: disabled, the schema's
    /// default.
    #[xml(attribute(name = "inter-digit-timeout", default, codec = crate::codec::Timeout))]
    pub inter_digit_timeout: Option<core::time::Duration>,
    /// Indicates the time (in milliseconds) for speech input, after speech has begun, to return
    /// a Match before triggering a Nomatch completion. `None` when absent or `-1`: disabled,
    /// the schema's default.
    #[xml(attribute(name = "recognition-timeout", default, codec = crate::codec::Timeout))]
    pub recognition_timeout: Option<core::time::Duration>,
    /// Indicates how sensitive the interpreter should be to loud versus quiet input. Higher
    /// values represent greater sensitivity. Absent means the schema's default, `0.5`: see
    /// [`Self::sensitivity()`].
    #[xml(attribute(name = "sensitivity", default))]
    pub sensitivity: Option<crate::types::Fraction>,
    /// Indicates the confidence threshold, below which a match is to be considered unreliable.
    /// Absent means the schema's default, `0`: see [`Self::min_confidence()`].
    #[xml(attribute(name = "min-confidence", default))]
    pub min_confidence: Option<crate::types::Fraction>,
    /// Indicates the maximum period of silence which may be encountered during input gathering
    /// before a timeout is triggered. `None` when absent or `-1`: disabled, the schema's
    /// default.
    #[xml(attribute(name = "max-silence", default, codec = crate::codec::Timeout))]
    pub max_silence: Option<core::time::Duration>,
    /// Indicates the required response document format. Absent means the schema's default,
    /// `application/nlsml+xml`: see [`Self::match_content_type()`].
    #[xml(attribute(name = "match-content-type", default))]
    pub match_content_type: Option<String>,
    /// Provides the grammar document by which the input detection should be governed.
    #[xml(child(n = ..))]
    pub grammars: Vec<Grammar>,
}

impl Input {
    /// The `mode` attribute, or its schema default `dtmf` when absent.
    pub fn mode(&self) -> InputMode {
        self.mode.unwrap_or(InputMode::Dtmf)
    }
    /// The `terminator` attribute, or its schema default `` when absent.
    pub fn terminator(&self) -> &str {
        self.terminator.as_deref().unwrap_or("")
    }
    /// The `recognizer` attribute, or its schema default `` when absent.
    pub fn recognizer(&self) -> &str {
        self.recognizer.as_deref().unwrap_or("")
    }
    /// The `language` attribute, or its schema default `en-US` when absent.
    pub fn language(&self) -> &str {
        self.language.as_deref().unwrap_or("en-US")
    }
    /// The `sensitivity` attribute, or its schema default `0.5` when absent.
    pub fn sensitivity(&self) -> crate::types::Fraction {
        self.sensitivity
            .unwrap_or(crate::types::Fraction::clamped(0.5))
    }
    /// The `min-confidence` attribute, or its schema default `0` when absent.
    pub fn min_confidence(&self) -> crate::types::Fraction {
        self.min_confidence
            .unwrap_or(crate::types::Fraction::clamped(0.0))
    }
    /// The `match-content-type` attribute, or its schema default `application/nlsml+xml` when absent.
    pub fn match_content_type(&self) -> &str {
        self.match_content_type
            .as_deref()
            .unwrap_or("application/nlsml+xml")
    }
}

/// The method by which to collect input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InputMode {
    /// `any`.
    Any,
    /// `voice`.
    Voice,
    /// `dtmf`.
    #[default]
    Dtmf,
    /// `cpa`.
    Cpa,
}

impl InputMode {
    /// The value as written in XML.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Voice => "voice",
            Self::Dtmf => "dtmf",
            Self::Cpa => "cpa",
        }
    }
}

impl core::fmt::Display for InputMode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl xso::FromXmlText for InputMode {
    fn from_xml_text(s: String) -> Result<Self, xso::error::Error> {
        match s.trim() {
            "any" => Ok(Self::Any),
            "voice" => Ok(Self::Voice),
            "dtmf" => Ok(Self::Dtmf),
            "cpa" => Ok(Self::Cpa),
            _ => Err(xso::error::Error::Other("unknown InputMode value")),
        }
    }
}

impl xso::AsXmlText for InputMode {
    fn as_xml_text(&self) -> Result<std::borrow::Cow<'_, str>, xso::error::Error> {
        Ok(std::borrow::Cow::Borrowed(self.as_str()))
    }
}

/// Provides the grammar document by which the input detection should be governed.
///
/// Declared locally inside other elements of this namespace.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "grammar", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Grammar {
    /// Provides a URI at which the grammar document is available. Must not be provided if the
    /// content-type attribute is set or the element contains a grammar document as CDATA.
    #[xml(attribute(name = "url", default))]
    pub url: Option<String>,
    /// Indicates the content type of the grammar document provided as CDATA. Must not be set if
    /// the url attribute is set.
    #[xml(attribute(name = "content-type", default))]
    pub content_type: Option<String>,
    /// The body (a document given inline, usually as CDATA), kept byte for byte.
    #[xml(text(codec = crate::codec::Body))]
    pub body: String,
}
