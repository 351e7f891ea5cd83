//! The sans-IO heart of a Rayo node: clients, offers, calls, joins, mixers and components
//! under every rule of XEP-0327 §6.
//!
//! The [`Engine`] never touches a socket or a clock. It is told things ([`Input`]: IQs,
//! presences and messages from clients, [`SignalEvent`]s from the signalling layer,
//! [`MediaEvent`]s from the media engine), each with `now`, and says what to do
//! ([`Output`]: stanzas, [`SignalAction`]s, [`MediaAction`]s) and when it next needs
//! waking ([`Engine::poll_timeout`]). Drivers own the I/O; tests drive it under a virtual
//! clock.
//!
//! ```
//! use std::time::Instant;
//! use jid::Jid;
//! use rayo_call::{All, Config, Engine, Input, Output, Route, SignalAction, SignalEvent};
//! use rayo_proto::address::Addressing;
//! use xmpp_parsers::presence::{Presence, Show};
//!
//! let addressing = Addressing::new("shakespeare.lit", Some("call"), Some("mixer"))?;
//! let mut cfg = Config::new(addressing);
//! let juliet = Jid::new("juliet@capulet.lit/balcony")?;
//! cfg.routes.push(Route::new("*", vec![juliet.to_bare().into()], Box::new(All)));
//! let mut engine = Engine::new(cfg);
//! let now = Instant::now();
//!
//! // Juliet says she takes calls (§6.1).
//! let p = Presence::available()
//!     .with_from(juliet.clone())
//!     .with_to(Jid::new("shakespeare.lit")?)
//!     .with_show(Show::Chat);
//! engine.handle(now, Input::Presence(p));
//!
//! // A call comes in: she is offered it.
//! let call = engine.allocate_call_id()?;
//! engine.handle(now, Input::Signal {
//!     call: call.clone(),
//!     event: SignalEvent::Incoming {
//!         to: "tel:+18003211212".into(),
//!         from: Some("tel:+13058881212".into()),
//!         headers: vec![],
//!         early_media: true,
//!     },
//! });
//! let Some(Output::Presence(offer)) = engine.poll_output() else { panic!("an offer") };
//! assert_eq!(offer.to.as_ref(), Some(&juliet));
//!
//! // Nobody else is there: with no PCP, a call is rejected as service unavailable.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod call;
pub mod caps;
mod clients;
mod component;
mod engine;
mod join;
mod load;
pub mod media;
mod message;
mod offer;
pub mod policy;
pub mod signal;
pub mod state;
mod timers;

pub use component::PendingComponent;
pub use engine::{
    Config, Engine, Input, Output, DEFAULT_MAX_COMPONENTS_PER_CLIENT,
    DEFAULT_MAX_COMPONENTS_PER_PARTY,
};
pub use media::{MediaAction, MediaEvent, Party};
pub use offer::{
    pattern_matches, All, Candidate, Distribution, MostActive, Plan, RoundRobin, Route, Weighted,
};
pub use policy::{AllowAll, Policy, Refusal, ZoneScope};
pub use signal::{RejectCause, SignalAction, SignalEvent};

/// A call's id: the node of its JID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub String);

/// A mixer's internal id (its friendly name is scoped to a security zone).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MixerId(pub String);

/// A component's id: the resource of its JID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId(pub String);

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
