//! Errors of the stanza model, each mapped to the stanza error XEP-0327 prescribes.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

/// Why a stanza or payload was refused.
///
/// Every variant maps to the stanza error a server answers with ([`Error::condition`],
/// [`Error::error_type`], [`Error::to_stanza_error`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The element is in none of the namespaces this crate knows, or is not an element of
    /// its namespace: `service-unavailable` (cancel), as RFC 6120 §8.4 requires for an IQ
    /// nobody handles.
    #[error("unknown payload <{name} xmlns='{ns}'>")]
    UnknownPayload {
        /// Element name.
        name: String,
        /// Element namespace.
        ns: String,
    },
    /// An element of a Rayo namespace that is not a command of it (`<foo
    /// xmlns='urn:xmpp:rayo:1'/>` in an IQ set): `feature-not-implemented` (cancel), as
    /// XEP-0327 §6.5.1 lists for a command the server does not support.
    #[error("<{name} xmlns='{ns}'> is not a command this server implements")]
    UnknownCommand {
        /// Element name.
        name: String,
        /// Element namespace.
        ns: String,
    },
    /// A known Rayo payload that does not match its schema (a missing or mistyped attribute,
    /// a wrong child): `bad-request` (modify), XEP-0327 §6.5.1.
    #[error("malformed <{name}>: {reason}")]
    Malformed {
        /// Element name.
        name: String,
        /// What is wrong, from the parser.
        reason: String,
    },
    /// A rule of XEP-0327 the schema cannot express is broken: `bad-request` (modify).
    #[error("<{name}>: {rule}")]
    Rule {
        /// Element name.
        name: &'static str,
        /// The rule, with its section.
        rule: &'static str,
    },
    /// A command sent to an entity that does not take it (for example `<dial/>` to a call,
    /// `<stop/>` to a call): `feature-not-implemented` (cancel), XEP-0327 §5.2 and §10.
    #[error("<{name}> cannot be sent to a {target}")]
    WrongTarget {
        /// Element name.
        name: String,
        /// The kind of entity it was sent to.
        target: crate::address::EntityKind,
    },
    /// The stanza itself (not its payload) is malformed: `bad-request` (modify).
    #[error("malformed <{name}> stanza: {reason}")]
    Stanza {
        /// `iq`, `presence`, `message` or the unknown element name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// An `xmpp:` URI that does not hold a JID: `bad-request` (modify).
    #[error("bad xmpp: URI {uri:?}: {reason}")]
    Uri {
        /// The URI.
        uri: String,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// The stanza error condition a server answers with.
    pub fn condition(&self) -> DefinedCondition {
        match self {
            Error::UnknownPayload { .. } => DefinedCondition::ServiceUnavailable,
            Error::WrongTarget { .. } | Error::UnknownCommand { .. } => {
                DefinedCondition::FeatureNotImplemented
            }
            Error::Malformed { .. }
            | Error::Rule { .. }
            | Error::Stanza { .. }
            | Error::Uri { .. } => DefinedCondition::BadRequest,
        }
    }

    /// The stanza error type that goes with [`Error::condition`].
    pub fn error_type(&self) -> ErrorType {
        match self {
            Error::UnknownPayload { .. }
            | Error::WrongTarget { .. }
            | Error::UnknownCommand { .. } => ErrorType::Cancel,
            _ => ErrorType::Modify,
        }
    }

    /// The `<error/>` element, with this error's message as its text.
    pub fn to_stanza_error(&self) -> StanzaError {
        StanzaError::new(self.error_type(), self.condition(), "en", self.to_string())
    }

    /// The condition's XML name, such as `bad-request`.
    pub fn condition_name(&self) -> &'static str {
        condition_name(&self.condition())
    }
}

/// The XML name of a stanza error condition.
pub fn condition_name(c: &DefinedCondition) -> &'static str {
    match c {
        DefinedCondition::BadRequest => "bad-request",
        DefinedCondition::Conflict => "conflict",
        DefinedCondition::FeatureNotImplemented => "feature-not-implemented",
        DefinedCondition::Forbidden => "forbidden",
        DefinedCondition::Gone { .. } => "gone",
        DefinedCondition::InternalServerError => "internal-server-error",
        DefinedCondition::ItemNotFound => "item-not-found",
        DefinedCondition::JidMalformed => "jid-malformed",
        DefinedCondition::NotAcceptable => "not-acceptable",
        DefinedCondition::NotAllowed => "not-allowed",
        DefinedCondition::NotAuthorized => "not-authorized",
        DefinedCondition::PolicyViolation => "policy-violation",
        DefinedCondition::RecipientUnavailable => "recipient-unavailable",
        DefinedCondition::Redirect { .. } => "redirect",
        DefinedCondition::RegistrationRequired => "registration-required",
        DefinedCondition::RemoteServerNotFound => "remote-server-not-found",
        DefinedCondition::RemoteServerTimeout => "remote-server-timeout",
        DefinedCondition::ResourceConstraint => "resource-constraint",
        DefinedCondition::ServiceUnavailable => "service-unavailable",
        DefinedCondition::SubscriptionRequired => "subscription-required",
        DefinedCondition::UndefinedCondition => "undefined-condition",
        DefinedCondition::UnexpectedRequest => "unexpected-request",
    }
}

/// The XML name of a stanza error type, such as `modify`.
pub fn type_name(t: &ErrorType) -> &'static str {
    match t {
        ErrorType::Auth => "auth",
        ErrorType::Cancel => "cancel",
        ErrorType::Continue => "continue",
        ErrorType::Modify => "modify",
        ErrorType::Wait => "wait",
    }
}

/// Builds the error reply to an IQ request as XEP-0327's listings show it: addressed back
/// to the sender, from the entity it was sent to, with the same id, echoing the request's
/// payload (RFC 6120 §8.3.1) before the `<error/>`.
///
/// Returns `None` for an IQ that is itself a result or error, which must never be answered.
pub fn error_iq(request: &Iq, error: StanzaError) -> Option<Iq> {
    let (from, to, id, payload) = match request {
        Iq::Get {
            from,
            to,
            id,
            payload,
        }
        | Iq::Set {
            from,
            to,
            id,
            payload,
        } => (from, to, id, payload),
        Iq::Result { .. } | Iq::Error { .. } => return None,
    };
    Some(Iq::Error {
        from: to.clone(),
        to: from.clone(),
        id: id.clone(),
        error,
        payload: Some(payload.clone()),
    })
}

/// Builds the result reply to an IQ request, with an optional payload (a `<ref/>`).
pub fn result_iq(request: &Iq, payload: Option<Element>) -> Option<Iq> {
    match request {
        Iq::Get { from, to, id, .. } | Iq::Set { from, to, id, .. } => Some(Iq::Result {
            from: to.clone(),
            to: from.clone(),
            id: id.clone(),
            payload,
        }),
        Iq::Result { .. } | Iq::Error { .. } => None,
    }
}

/// A stanza error from a condition and type, for the errors a server decides (conflict,
/// item-not-found, …) rather than ones found in the payload.
pub fn stanza_error(type_: ErrorType, condition: DefinedCondition) -> StanzaError {
    StanzaError {
        type_,
        by: None::<Jid>,
        defined_condition: condition,
        texts: Default::default(),
        other: None,
    }
}
