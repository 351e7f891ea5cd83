//! The sans-IO heart of a Rayo gateway (XEP-0349): one Rayo service for clients in front of
//! many Rayo nodes.
//!
//! The [`Gateway`] never touches a socket or a clock. Drivers tell it what arrived on which
//! link ([`Input`], each with `now`) and send what it says ([`Output`]), waking it at
//! [`Gateway::poll_timeout`]. It presents two domains ([`Domains`]): the *external* one that
//! clients address and the *internal* one that nodes address. Across them it
//!
//! - admits stanzas only from where they belong ([`link`]): nodes on the internal side from
//!   allow-listed domains, clients on the external side; everything else is refused;
//! - keeps the node registry ([`registry`]): directed presence with caps
//!   `urn:xmpp:rayo:node:1`, `chat` in rotation, `dnd` out, XEP-0199 pings for liveness;
//! - rewrites every stanza that crosses ([`rewrite`]): `id@node` ↔ `id@external`, fresh IQ ids
//!   on the inner leg, `xmpp:` URIs inside payloads, so no node JID ever reaches a client;
//! - routes inbound calls (offer → the application owning the called URI → its clients, by
//!   XEP-0354's algorithms, [`cmr`]) and outbound ones (dial → a node in rotation, retried on
//!   another when one fails), scopes mixers and joins per application ([`tenancy`]), and
//!   handles clients lost mid-call ([`ClientLoss`]) and drains ([`Gateway::drain`]);
//! - keeps its shared state in a [`Store`] ([`MemoryStore`] for one gateway): each method one
//!   atomic step on owned records, so a store shared by several gateways fits behind it.
//!
//! ```
//! use std::time::Instant;
//! use rayo_cluster::{Config, Domains, Gateway, Input, LinkId, Output, Peer, Side};
//!
//! let domains = Domains::new("shakespeare.lit", "gateway.shakespeare.lit")?;
//! let mut cfg = Config::new(domains);
//! cfg.nodes.push("node1.shakespeare.lit".into());
//! let mut gw = Gateway::new(cfg);
//! let now = Instant::now();
//! let node = LinkId(1);
//! gw.handle(now, Input::LinkUp { link: node, side: Side::Internal, peer: Peer::Any });
//! let presence = "<presence xmlns='jabber:client' from='node1.shakespeare.lit' \
//!     to='gateway.shakespeare.lit'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
//!     node='urn:xmpp:rayo:node:1' ver='x'/><show>chat</show></presence>".parse()?;
//! gw.handle(now, Input::Stanza { link: node, side: Side::Internal, stanza: presence });
//! assert!(gw.in_rotation("node1.shakespeare.lit"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod cmr;
mod commands;
mod config;
pub mod domains;
mod drain;
pub mod envelope;
mod events;
#[doc(hidden)]
pub mod fuzz;
mod gateway;
mod inbound;
pub mod link;
mod messages;
mod orphans;
mod outbound;
mod pending;
pub mod registry;
mod requests;
pub mod rewrite;
pub mod store;
pub mod tenancy;

pub use config::{
    Application, Balance, Config, Distribution, DEFAULT_DIAL_TIMEOUT, DEFAULT_IQ_TIMEOUT,
    DEFAULT_MAX_CLIENT_LINKS, DEFAULT_MAX_DIAL_TRIES, DEFAULT_MAX_OUTPUTS, DEFAULT_MAX_PENDING_IQS,
    DEFAULT_NODE_FAILURES_OUT, DEFAULT_NODE_PINGS_BACK, DEFAULT_OFFER_TIMEOUT,
    DEFAULT_PING_INTERVAL, DEFAULT_PING_TIMEOUT,
};
pub use domains::{DomainError, Domains};
pub use gateway::{Gateway, Input, Output};
pub use link::{LinkId, Peer, Refusal, Side};
pub use orphans::{ClientLoss, DEFAULT_ORPHAN_GRACE};
pub use store::{Change, Changes, Journaled, MemoryStore, Store, StoreError};
