//! The error type of the transport layer.

use crate::stream_error::Condition;

/// Why a connection or a driver stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// This side ended the stream with a stream error (sent to the peer).
    #[error("stream error sent: {condition}: {text}")]
    Stream {
        /// The condition sent.
        condition: Condition,
        /// Why.
        text: String,
    },
    /// The peer ended the stream with a stream error.
    #[error("peer sent stream error {condition}{}", text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    PeerStream {
        /// The condition's element name.
        condition: String,
        /// The peer's text, if any.
        text: Option<String>,
    },
    /// The peer closed the stream or the connection.
    #[error("connection closed")]
    Closed,
    /// A socket error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A TLS error (handshake, certificate, key).
    #[error("TLS error: {0}")]
    Tls(String),
    /// A configuration that cannot work (bad domain, bad certificate file, …).
    #[error("configuration error: {0}")]
    Config(String),
    /// The component handshake was refused by the server.
    #[error("component handshake refused: {0}")]
    HandshakeRefused(String),
}
