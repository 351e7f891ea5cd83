//! The one error type of the SDK.

use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

/// Why an operation of the SDK failed.
///
/// A refusal by the Rayo server is [`Error::Stanza`], carrying the stanza error condition, so
/// that a bot can tell `conflict` (another client took the call), `item-not-found` (the call
/// is gone), `registration-required`, `resource-constraint` and the others apart:
///
/// ```
/// use rayo_client::{DefinedCondition, Error};
///
/// fn lost_the_race(e: &Error) -> bool {
///     matches!(e, Error::Stanza { condition: DefinedCondition::Conflict, .. })
/// }
/// # let _ = lost_the_race;
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server (or the call, mixer or component) answered the command with a stanza
    /// error (RFC 6120 §8.3, XEP-0327 §5.3).
    #[error("refused: {} ({}){}", rayo_proto::error::condition_name(condition), rayo_proto::error::type_name(type_), text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Stanza {
        /// The defined condition, such as [`DefinedCondition::Conflict`].
        condition: DefinedCondition,
        /// The error type (`cancel`, `modify`, `wait`, `auth`, `continue`).
        type_: ErrorType,
        /// The human-readable text the server gave, if any.
        text: Option<String>,
    },
    /// No answer came within [`Config::command_timeout`](crate::Config::command_timeout).
    #[error("no answer within the command timeout")]
    Timeout,
    /// The stream to the server is down (being re-established, or the client was closed):
    /// the command was not sent, or its answer can no longer arrive.
    #[error("not connected to the server")]
    Disconnected,
    /// The TLS handshake failed, or the certificate is not trusted (wrong pin, unknown
    /// issuer, name mismatch), or the server does not offer STARTTLS.
    #[error("TLS: {0}")]
    Tls(String),
    /// The server refused the credentials (SASL failure, with its condition), or offered no
    /// mechanism this SDK supports.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The TCP connection could not be made or broke during negotiation.
    #[error("connection: {0}")]
    Connect(String),
    /// The server ended the stream with a stream error, or broke the XMPP protocol during
    /// negotiation (not well-formed XML, missing features, no resource bound).
    #[error("stream: {0}")]
    Stream(String),
    /// The server answered with something the Rayo protocol does not allow here (such as a
    /// result without the `<ref/>` a dial or component start needs).
    #[error("protocol: {0}")]
    Protocol(String),
    /// The configuration is unusable (a malformed JID, an unresolvable server address, a
    /// bad certificate pin).
    #[error("configuration: {0}")]
    Config(String),
}

impl Error {
    /// The stanza error condition's XML name (`conflict`, `item-not-found`, …) when this is
    /// [`Error::Stanza`].
    pub fn condition_name(&self) -> Option<&'static str> {
        match self {
            Error::Stanza { condition, .. } => Some(rayo_proto::error::condition_name(condition)),
            _ => None,
        }
    }

    /// Whether this is [`Error::Stanza`] with `condition`.
    pub fn is_condition(&self, condition: &DefinedCondition) -> bool {
        matches!(self, Error::Stanza { condition: c, .. } if c == condition)
    }
}

impl From<StanzaError> for Error {
    fn from(e: StanzaError) -> Error {
        let text = e
            .texts
            .get("en")
            .or_else(|| e.texts.values().next())
            .cloned();
        Error::Stanza {
            condition: e.defined_condition,
            type_: e.type_,
            text,
        }
    }
}
