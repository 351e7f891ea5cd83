//! The Rayo (XEP-0327) SDK bots embed: log in to a Rayo node (its own c2s listener, or any
//! XMPP server such as Prosody hosting the node as a component), say you take calls, get
//! offers, control calls with typed commands, start components and await their completion.
//!
//! ```no_run
//! use std::time::Duration;
//! use rayo_client::{Client, Config, Output, Input, Prompt, Trust};
//! use rayo_client::proto::event::{CompleteReason, InputReason};
//!
//! # async fn run() -> Result<(), rayo_client::Error> {
//! let config = Config::new("bot@rayo.example", "secret")?
//!     .server("127.0.0.1:5222")
//!     // The node's self-signed certificate, by the fingerprint it logs at start.
//!     .trust(Trust::Pinned("AB:CD:…".into()));
//! let (client, mut offers) = Client::connect(config).await?;
//! client.set_available()?;
//! while let Some(offer) = offers.next().await {
//!     let mut call = offer.call;
//!     call.answer([]).await?;
//!     let prompt = call
//!         .prompt(Prompt::new(Output::say("Your PIN?"), Input::digits(4, 4), true))
//!         .await?;
//!     if let CompleteReason::Input(InputReason::Match(m)) = prompt.complete().await?.reason {
//!         println!("NLSML: {}", m.body);
//!     }
//!     call.hangup([]).await?;
//!     while let Some(event) = call.events().next().await {
//!         println!("{event:?}"); // …, then End
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Shape
//!
//! [`Client::connect`] gives a [`Client`] (cheap to clone) and the [`Offers`] stream. Every
//! [`Offer`] carries a [`Call`]; [`Client::dial`] makes one too. A call's commands answer
//! `Ok(())` or the server's refusal as [`Error::Stanza`] with its condition (`conflict` when
//! another client took the call first, `item-not-found` when it is gone); its events
//! ([`CallEvent`]) come on [`Call::events`]. [`Call::output`], [`Call::input`],
//! [`Call::prompt`] and [`Call::record`] return component handles once the server answers
//! with their `<ref/>`; each has `complete()`, resolving with the typed
//! [`proto::event::Complete`] (reason, NLSML match, recording). [`Mixer`]s take components
//! too. [`Call::info`] asks the server what a call supports (XEP-0030 disco#info), a round
//! trip that changes nothing. Every command fails with [`Error::Timeout`] after
//! [`Config::command_timeout`].
//!
//! # Transport, and why not tokio-xmpp
//!
//! The XMPP client stream is this crate's own (the private `stream` module): TCP,
//! STARTTLS with `tokio-rustls`, SASL SCRAM-SHA-256 / SCRAM-SHA-1 / PLAIN (over TLS only)
//! with the `sasl` crate, resource binding, and `rayo_xmpp`'s bounded incremental
//! [`StreamReader`](rayo_xmpp::xml::StreamReader) and serializer for the XML. tokio-xmpp 6
//! was tried first and left out because the SDK needs what it does not give reliably:
//!
//! - IQ answers: its client now and then never surfaces answers that are on the wire with
//!   our listener over STARTTLS (see rayo-xmpp's `tokio_xmpp_client` tests); here every
//!   incoming stanza is read by one loop and IQ results/errors are matched by id.
//! - Failures: it logs an authentication failure and reconnects forever; a bot needs
//!   [`Error::Auth`] at connect, and control of when and how fast to reconnect ([`Backoff`]).
//! - Trust: pinning a node's self-signed certificate ([`Trust::Pinned`]) is one verifier here.
//!
//! The state is sans-IO: one struct holds the IQ correlation table with per-command
//! deadlines, the call, component and mixer registries and the event routing, fed stanzas
//! and `now` and unit-tested without sockets; a thin tokio task moves bytes and reconnects.
//! Nothing a peer sends can make it panic: malformed stanzas and events are dropped (and
//! logged at debug level), answers from another entity than the one asked are ignored.
//!
//! The same client works against a node's own c2s listener and against Prosody hosting a
//! node as a XEP-0114 component: then log in to Prosody and set [`Config::rayo_domain`] to
//! the component's domain (both are exercised by the tests).

mod call;
mod client;
mod component;
mod config;
mod core;
mod driver;
mod error;
mod event;
pub mod event_queue;
mod mixer;
mod offer;
mod spec;
mod stream;
mod tls;

pub use call::{Call, JoinParty, JoinTarget};
pub use client::{Client, DialBuilder, Routing};
pub use component::{Component, Input, Output, Prompt, Record};
pub use config::{Backoff, Config, Tls, Trust};
pub use error::Error;
pub use event::{CallEvent, CallEvents, ComponentEvent, Events, MixerEvent};
pub use mixer::Mixer;
pub use offer::{Offer, Offers};
pub use spec::{InputSpec, OutputSpec, PromptSpec, RecordSpec};

/// The stanza model the SDK speaks: generated element types, complete reasons, headers.
pub use rayo_proto as proto;
pub use rayo_proto::event::Complete;
pub use rayo_proto::generated::rayo::{EndReason, Header, JoinDirection, JoinMedia, RejectReason};
pub use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

/// A signalling header, for the commands that take headers.
pub fn header(name: impl Into<String>, value: impl Into<String>) -> Header {
    Header {
        name: name.into(),
        value: value.into(),
    }
}
