//! The state gateways share: nodes, client presence, calls, mixers, component owners and the
//! round-robin cursors, behind the [`Store`] trait.
//!
//! Every operation is one atomic step on plain owned values (records in, records out, no
//! references into the store), so that a store on another machine (Redis, the next issue)
//! fits behind the same trait: each method maps to one command or script (`claim_call`,
//! `move_offer` and `transfer_call` are compare-and-set: HSETNX or a script), and records
//! serialise as they are (the offer element as its XML). The trait is synchronous, like the
//! rest of the sans-IO gateway: a remote implementation answers from the driver's thread
//! (a blocking client, or the driver running the gateway where it may block). Every
//! operation may fail ([`StoreError`]); the gateway then refuses new work with a `wait` error
//! and keeps forwarding what it can.
//!
//! [`Journaled`] wraps a store and writes down each change it made as a [`Change`], which
//! applied in order to another store keeps it equal: the way for each gateway of a cluster
//! to answer from a copy in its own memory while the changes travel between them.

use std::collections::BTreeSet;

use jid::{BareJid, Jid};

use crate::config::Distribution;

mod journal;
mod memory;
pub use journal::{Change, Changes, Journaled};
pub use memory::{MemoryLimits, MemoryStore};

/// Why the store did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A table is at its configured size.
    #[error("the store's {0} table is full")]
    Full(&'static str),
    /// The store cannot be reached (a remote store's connection is down).
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
}

/// A node's place in rotation (XEP-0349 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeStatus {
    /// `<show>chat</show>`: takes dials and new offers.
    Available,
    /// `<show>dnd</show>`: keeps its calls, takes no new ones.
    Busy,
    /// Unavailable, its link lost, or its pings unanswered: out until it presents itself again.
    Failed,
}

/// A node of the cluster, by its domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// The node's domain (`node1.shakespeare.lit`).
    pub domain: String,
    /// Where it stands, as it said (or failed).
    pub status: NodeStatus,
    /// Out of rotation for failing dials ([`crate::Config::node_failures_out`]) until it
    /// answers enough pings ([`crate::Config::node_pings_back`]), whatever it says.
    pub suspended: bool,
    /// Dials it failed in a row.
    pub failures: u32,
    /// Pings it answered in a row while suspended.
    pub good_pings: u32,
    /// Being drained: no new dials or offers, whatever it says.
    pub draining: bool,
}

impl NodeRecord {
    /// A node that just said where it stands.
    pub fn new(domain: &str, status: NodeStatus) -> Self {
        NodeRecord {
            domain: domain.to_owned(),
            status,
            suspended: false,
            failures: 0,
            good_pings: 0,
            draining: false,
        }
    }

    /// Whether it takes dials and new offers.
    pub fn in_rotation(&self) -> bool {
        self.status == NodeStatus::Available && !self.suspended && !self.draining
    }
}

/// A client's availability, from its directed presence to the external domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientShow {
    /// Available (`chat` or no `<show/>`): takes offers.
    Available,
    /// `dnd`, `away` or `xa`: takes no new offers.
    Busy,
}

/// One available resource of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// The client's full JID.
    pub jid: Jid,
    /// Its availability.
    pub show: ClientShow,
    /// Its presence priority (RFC 6121 §4.7.2.3), 0 when absent.
    pub priority: i8,
}

/// A call the gateway knows, by the node part of its JID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The call id (the node part of `id@node` and of `id@external`).
    pub id: String,
    /// The node that holds it.
    pub node: String,
    /// The controlling party (DCP), once set: set exactly once ([`Store::claim_call`]).
    pub controller: Option<Jid>,
    /// The clients an inbound call is offered to now (PCPs); a bare JID stands for each of
    /// its resources.
    pub offered: Vec<Jid>,
    /// The clients it was offered to before, whose offers timed out.
    pub passed: Vec<Jid>,
    /// The offer presence as clients get it (rewritten, unaddressed), kept to offer the call
    /// again (an offer timed out, or its controlling client lost, [`crate::ClientLoss::Reoffer`]).
    /// Shared, not copied, when the record is read.
    pub offer: Option<std::sync::Arc<minidom::Element>>,
    /// The application (tenant) the call belongs to, when known.
    pub application: Option<String>,
}

impl CallRecord {
    /// Whether the call is offered to `client` now.
    pub fn is_offered_to(&self, client: &Jid) -> bool {
        self.offered
            .iter()
            .any(|o| o == client || (o.resource().is_none() && o.to_bare() == client.to_bare()))
    }
}

/// What [`Store::claim_call`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The call is now controlled by the claimant (or already was).
    Won,
    /// Another client controls it.
    Lost(Jid),
    /// Nobody controls it, and it is not offered to the claimant (never was, or no more).
    NotOffered,
    /// No such call.
    NoCall,
}

/// A mixer, by name, on the node that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixerRecord {
    /// The mixer's name (the node part of its JID).
    pub name: String,
    /// The node that holds it.
    pub node: String,
    /// The clients whose calls joined it: they get its events.
    pub clients: BTreeSet<Jid>,
}

/// The shared state of a cluster's gateways.
///
/// Implementations must make each method atomic; [`Store::claim_call`] in particular sets the
/// controller only if none is set (the first accept wins across gateways).
pub trait Store {
    /// A node, by domain.
    fn node(&self, domain: &str) -> Result<Option<NodeRecord>, StoreError>;
    /// Creates or replaces a node.
    fn put_node(&mut self, node: NodeRecord) -> Result<(), StoreError>;
    /// Every node, in domain order.
    fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError>;
    /// Takes the next value of the round-robin cursor of `pool` (0, 1, 2, …).
    fn next_round_robin(&mut self, pool: &str) -> Result<u64, StoreError>;

    /// Records a client resource's availability.
    fn put_client(&mut self, client: ClientRecord) -> Result<(), StoreError>;
    /// Forgets a client resource (unavailable, or its link lost).
    fn remove_client(&mut self, jid: &Jid) -> Result<(), StoreError>;
    /// The available resources of a bare JID, in JID order.
    fn clients_of(&self, bare: &BareJid) -> Result<Vec<ClientRecord>, StoreError>;

    /// The routing algorithm a bare JID chose (XEP-0354), if it chose one.
    fn routing(&self, bare: &BareJid) -> Result<Option<Distribution>, StoreError>;
    /// Records the routing algorithm a bare JID chose, for all its resources.
    fn set_routing(&mut self, bare: &BareJid, algorithm: Distribution) -> Result<(), StoreError>;

    /// A call, by id.
    fn call(&self, id: &str) -> Result<Option<CallRecord>, StoreError>;
    /// Creates a call; `false` if its id is already taken (the record is left alone).
    fn insert_call(&mut self, call: CallRecord) -> Result<bool, StoreError>;
    /// Sets the call's controller to `client` if it has none and is offered to it now.
    fn claim_call(&mut self, id: &str, client: &Jid) -> Result<Claim, StoreError>;
    /// Moves an unclaimed call's offer to `offered` (the current PCPs join `passed`); `false`
    /// if the call is gone or claimed meanwhile (nothing changes then).
    fn move_offer(&mut self, id: &str, offered: Vec<Jid>) -> Result<bool, StoreError>;
    /// Hands a call's control from `from` to `to`; `false` if `from` no longer controls it.
    fn transfer_call(&mut self, id: &str, from: &Jid, to: &Jid) -> Result<bool, StoreError>;
    /// Removes a call with its component owners.
    fn remove_call(&mut self, id: &str) -> Result<Option<CallRecord>, StoreError>;
    /// The calls a node holds, in id order.
    fn calls_on(&self, node: &str) -> Result<Vec<CallRecord>, StoreError>;
    /// How many calls an application has.
    fn count_calls(&self, application: &str) -> Result<usize, StoreError>;
    /// The calls a client controls, in id order.
    fn calls_controlled_by(&self, client: &Jid) -> Result<Vec<CallRecord>, StoreError>;

    /// A mixer, by name.
    fn mixer(&self, name: &str) -> Result<Option<MixerRecord>, StoreError>;
    /// Creates or replaces a mixer.
    fn put_mixer(&mut self, mixer: MixerRecord) -> Result<(), StoreError>;
    /// Removes a mixer with its component owners.
    fn remove_mixer(&mut self, name: &str) -> Result<Option<MixerRecord>, StoreError>;
    /// The mixers a node holds, in name order.
    fn mixers_on(&self, node: &str) -> Result<Vec<MixerRecord>, StoreError>;

    /// Records who started component `resource` of call or mixer `parent`.
    fn put_component_owner(
        &mut self,
        parent: &str,
        resource: &str,
        owner: Jid,
    ) -> Result<(), StoreError>;
    /// Who started a component.
    fn component_owner(&self, parent: &str, resource: &str) -> Result<Option<Jid>, StoreError>;
    /// Forgets a component (it completed).
    fn remove_component(&mut self, parent: &str, resource: &str) -> Result<(), StoreError>;
}
