//! The Rayo stanza model (XEP-0327, with XEP-0354's routing payloads).
//!
//! - [`generated`]: one module per namespace, generated from the corrected schemas in
//!   `xsd/` by `rayo-codegen`: every element a struct, every choice an enum, attributes with
//!   real types (milliseconds as [`std::time::Duration`], `-1` timeouts as `None`).
//! - [`Command`] and [`Event`]: every command grouped by the entity it addresses, every event;
//!   [`Stanza`] types whole stanzas on top of `xmpp-parsers`' envelopes.
//! - [`rules`]: what the schemas cannot say; [`Error`] maps every refusal to the stanza error
//!   XEP-0327 names, and [`error::error_iq`] builds the reply that echoes the command.
//! - [`address`]: call, mixer and component JIDs, `xmpp:` URIs; [`ns`]: namespaces and caps
//!   nodes; [`delay`]: XEP-0203 stamps for events.
//! - [`header`]: which `<header/>`s may become SIP header lines; [`random`]: the OS
//!   randomness every identifier, tag, nonce and password comes from.
//!
//! ```
//! use rayo_proto::{address::EntityKind, Command, command::CallCommand};
//!
//! let elem: minidom::Element =
//!     "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:callB@call.shakespeare.lit'/>".parse()?;
//! let cmd = Command::parse_valid(EntityKind::Call, elem)?;
//! let Command::Call(CallCommand::Join(join)) = &cmd else { unreachable!() };
//! assert_eq!(join.direction(), rayo_proto::generated::rayo::JoinDirection::Duplex);
//!
//! // The same join without its party is refused with the error a server must answer.
//! let bad: minidom::Element = "<join xmlns='urn:xmpp:rayo:1'/>".parse()?;
//! let err = Command::parse_valid(EntityKind::Call, bad).unwrap_err();
//! assert_eq!(err.condition_name(), "bad-request");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod address;
pub mod codec;
pub mod command;
pub mod delay;
pub mod disco;
pub mod document;
pub mod error;
pub mod event;
pub mod generated;
pub mod header;
mod interop;
pub mod ns;
pub mod payload;
pub mod private_fs;
pub mod random;
pub mod rules;
pub mod shape;
pub mod stanza;
pub mod types;

pub use command::Command;
pub use error::Error;
pub use event::Event;
pub use payload::Payload;
pub use stanza::Stanza;
