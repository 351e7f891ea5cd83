//! The state gateways share: nodes, client presence, calls, mixers, component owners and the
//! round-robin cursors, behind the [`Store`] trait.
//!
//! Every operation is one atomic step on plain owned values (records in, records out, no
//! references into the store), so that a store on another machine (Redis, the next issue)
//! fits behind the same trait: each method maps to one command or script. Every operation
//! may fail ([`StoreError`]); the gateway then refuses new work with a `wait` error and keeps
//! forwarding what it can.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jid::{BareJid, Jid};

use crate::config::Distribution;

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
    /// The offer presence as clients get it (rewritten, unaddressed), kept until the call is
    /// claimed to offer it again when an offer times out.
    pub offer: Option<minidom::Element>,
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

/// The sizes a [`MemoryStore`] holds at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimits {
    /// Nodes.
    pub nodes: usize,
    /// Client resources.
    pub clients: usize,
    /// Calls.
    pub calls: usize,
    /// Mixers.
    pub mixers: usize,
    /// Components with a known owner.
    pub components: usize,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            nodes: 1024,
            clients: 65_536,
            calls: 100_000,
            mixers: 10_000,
            components: 400_000,
        }
    }
}

/// A [`Store`] in this process's memory: one gateway, state lost when it stops.
#[derive(Debug, Default)]
pub struct MemoryStore {
    limits: MemoryLimits,
    nodes: BTreeMap<String, NodeRecord>,
    cursors: HashMap<String, u64>,
    clients: BTreeMap<BareJid, BTreeMap<Jid, ClientShow>>,
    client_count: usize,
    routing: HashMap<BareJid, Distribution>,
    calls: BTreeMap<String, CallRecord>,
    per_application: HashMap<String, usize>,
    mixers: BTreeMap<String, MixerRecord>,
    components: BTreeMap<(String, String), Jid>,
}

impl MemoryStore {
    /// An empty store with these limits.
    pub fn new(limits: MemoryLimits) -> Self {
        MemoryStore {
            limits,
            ..MemoryStore::default()
        }
    }

    fn drop_components(&mut self, parent: &str) {
        self.components.retain(|(p, _), _| p != parent);
    }
}

impl Store for MemoryStore {
    fn node(&self, domain: &str) -> Result<Option<NodeRecord>, StoreError> {
        Ok(self.nodes.get(domain).cloned())
    }

    fn put_node(&mut self, node: NodeRecord) -> Result<(), StoreError> {
        if !self.nodes.contains_key(&node.domain) && self.nodes.len() >= self.limits.nodes {
            return Err(StoreError::Full("nodes"));
        }
        self.nodes.insert(node.domain.clone(), node);
        Ok(())
    }

    fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        Ok(self.nodes.values().cloned().collect())
    }

    fn next_round_robin(&mut self, pool: &str) -> Result<u64, StoreError> {
        if !self.cursors.contains_key(pool) && self.cursors.len() >= self.limits.nodes * 16 {
            return Err(StoreError::Full("round-robin cursors"));
        }
        let c = self.cursors.entry(pool.to_owned()).or_insert(0);
        let v = *c;
        *c = c.wrapping_add(1);
        Ok(v)
    }

    fn put_client(&mut self, client: ClientRecord) -> Result<(), StoreError> {
        let bare = client.jid.to_bare();
        let known = self
            .clients
            .get(&bare)
            .is_some_and(|r| r.contains_key(&client.jid));
        if !known {
            if self.client_count >= self.limits.clients {
                return Err(StoreError::Full("clients"));
            }
            self.client_count += 1;
        }
        self.clients
            .entry(bare)
            .or_default()
            .insert(client.jid, client.show);
        Ok(())
    }

    fn remove_client(&mut self, jid: &Jid) -> Result<(), StoreError> {
        let bare = jid.to_bare();
        if let Some(resources) = self.clients.get_mut(&bare) {
            if resources.remove(jid).is_some() {
                self.client_count -= 1;
            }
            if resources.is_empty() {
                self.clients.remove(&bare);
            }
        }
        Ok(())
    }

    fn clients_of(&self, bare: &BareJid) -> Result<Vec<ClientRecord>, StoreError> {
        Ok(self
            .clients
            .get(bare)
            .map(|r| {
                r.iter()
                    .map(|(jid, show)| ClientRecord {
                        jid: jid.clone(),
                        show: *show,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn routing(&self, bare: &BareJid) -> Result<Option<Distribution>, StoreError> {
        Ok(self.routing.get(bare).copied())
    }

    fn set_routing(&mut self, bare: &BareJid, algorithm: Distribution) -> Result<(), StoreError> {
        if !self.routing.contains_key(bare) && self.routing.len() >= self.limits.clients {
            return Err(StoreError::Full("routing choices"));
        }
        self.routing.insert(bare.clone(), algorithm);
        Ok(())
    }

    fn call(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        Ok(self.calls.get(id).cloned())
    }

    fn insert_call(&mut self, call: CallRecord) -> Result<bool, StoreError> {
        if self.calls.contains_key(&call.id) {
            return Ok(false);
        }
        if self.calls.len() >= self.limits.calls {
            return Err(StoreError::Full("calls"));
        }
        if let Some(app) = &call.application {
            *self.per_application.entry(app.clone()).or_default() += 1;
        }
        self.calls.insert(call.id.clone(), call);
        Ok(true)
    }

    fn claim_call(&mut self, id: &str, client: &Jid) -> Result<Claim, StoreError> {
        let Some(call) = self.calls.get_mut(id) else {
            return Ok(Claim::NoCall);
        };
        match &call.controller {
            Some(c) if c == client => Ok(Claim::Won),
            Some(c) => Ok(Claim::Lost(c.clone())),
            None if call.is_offered_to(client) => {
                call.controller = Some(client.clone());
                call.offer = None;
                Ok(Claim::Won)
            }
            None => Ok(Claim::NotOffered),
        }
    }

    fn move_offer(&mut self, id: &str, offered: Vec<Jid>) -> Result<bool, StoreError> {
        match self.calls.get_mut(id) {
            Some(call) if call.controller.is_none() => {
                let before = std::mem::replace(&mut call.offered, offered);
                call.passed.extend(before);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn remove_call(&mut self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        self.drop_components(id);
        let call = self.calls.remove(id);
        if let Some(app) = call.as_ref().and_then(|c| c.application.as_ref()) {
            if let Some(n) = self.per_application.get_mut(app) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.per_application.remove(app);
                }
            }
        }
        Ok(call)
    }

    fn count_calls(&self, application: &str) -> Result<usize, StoreError> {
        Ok(self.per_application.get(application).copied().unwrap_or(0))
    }

    fn calls_on(&self, node: &str) -> Result<Vec<CallRecord>, StoreError> {
        Ok(self
            .calls
            .values()
            .filter(|c| c.node == node)
            .cloned()
            .collect())
    }

    fn calls_controlled_by(&self, client: &Jid) -> Result<Vec<CallRecord>, StoreError> {
        Ok(self
            .calls
            .values()
            .filter(|c| c.controller.as_ref() == Some(client))
            .cloned()
            .collect())
    }

    fn mixer(&self, name: &str) -> Result<Option<MixerRecord>, StoreError> {
        Ok(self.mixers.get(name).cloned())
    }

    fn put_mixer(&mut self, mixer: MixerRecord) -> Result<(), StoreError> {
        if !self.mixers.contains_key(&mixer.name) && self.mixers.len() >= self.limits.mixers {
            return Err(StoreError::Full("mixers"));
        }
        self.mixers.insert(mixer.name.clone(), mixer);
        Ok(())
    }

    fn remove_mixer(&mut self, name: &str) -> Result<Option<MixerRecord>, StoreError> {
        self.drop_components(name);
        Ok(self.mixers.remove(name))
    }

    fn mixers_on(&self, node: &str) -> Result<Vec<MixerRecord>, StoreError> {
        Ok(self
            .mixers
            .values()
            .filter(|m| m.node == node)
            .cloned()
            .collect())
    }

    fn put_component_owner(
        &mut self,
        parent: &str,
        resource: &str,
        owner: Jid,
    ) -> Result<(), StoreError> {
        let key = (parent.to_owned(), resource.to_owned());
        if !self.components.contains_key(&key) && self.components.len() >= self.limits.components {
            return Err(StoreError::Full("components"));
        }
        self.components.insert(key, owner);
        Ok(())
    }

    fn component_owner(&self, parent: &str, resource: &str) -> Result<Option<Jid>, StoreError> {
        Ok(self
            .components
            .get(&(parent.to_owned(), resource.to_owned()))
            .cloned())
    }

    fn remove_component(&mut self, parent: &str, resource: &str) -> Result<(), StoreError> {
        self.components
            .remove(&(parent.to_owned(), resource.to_owned()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> Jid {
        Jid::new(s).unwrap_or_else(|e| unreachable!("{s}: {e}"))
    }

    fn call(id: &str, node: &str) -> CallRecord {
        CallRecord {
            id: id.into(),
            node: node.into(),
            controller: None,
            offered: vec![jid("juliet@capulet.lit")],
            passed: vec![],
            offer: None,
            application: None,
        }
    }

    #[test]
    fn the_first_claim_wins_and_the_second_loses() {
        let mut s = MemoryStore::default();
        assert_eq!(s.insert_call(call("a", "n1")), Ok(true));
        assert_eq!(s.insert_call(call("a", "n2")), Ok(false), "ids are unique");
        let (j, r) = (jid("juliet@capulet.lit/b"), jid("romeo@montague.lit/o"));
        assert_eq!(s.claim_call("a", &j), Ok(Claim::Won));
        assert_eq!(s.claim_call("a", &j), Ok(Claim::Won), "idempotent");
        assert_eq!(s.claim_call("a", &r), Ok(Claim::Lost(j.clone())));
        assert_eq!(s.claim_call("b", &r), Ok(Claim::NoCall));
        // An offer moved away cannot be claimed by its former PCP any more.
        assert_eq!(s.insert_call(call("c", "n1")), Ok(true));
        assert_eq!(s.move_offer("c", vec![r.clone()]), Ok(true));
        assert_eq!(s.claim_call("c", &j), Ok(Claim::NotOffered));
        assert_eq!(s.claim_call("c", &r), Ok(Claim::Won));
        assert_eq!(s.move_offer("c", vec![]), Ok(false), "claimed: stays");
    }

    #[test]
    fn tables_are_bounded_and_calls_take_their_components_along() {
        let mut s = MemoryStore::new(MemoryLimits {
            calls: 1,
            clients: 1,
            ..MemoryLimits::default()
        });
        assert_eq!(s.insert_call(call("a", "n1")), Ok(true));
        assert_eq!(
            s.insert_call(call("b", "n1")),
            Err(StoreError::Full("calls"))
        );
        let j = jid("juliet@capulet.lit/b");
        assert_eq!(s.put_component_owner("a", "c1", j.clone()), Ok(()));
        assert_eq!(s.component_owner("a", "c1"), Ok(Some(j.clone())));
        assert_eq!(s.calls_on("n1").map(|v| v.len()), Ok(1));
        assert!(matches!(s.remove_call("a"), Ok(Some(_))));
        assert_eq!(s.component_owner("a", "c1"), Ok(None));
        let c = |jid: Jid| ClientRecord {
            jid,
            show: ClientShow::Available,
        };
        assert_eq!(s.put_client(c(j.clone())), Ok(()));
        assert_eq!(
            s.put_client(c(j.clone())),
            Ok(()),
            "an update is no new row"
        );
        assert_eq!(
            s.put_client(c(jid("romeo@montague.lit/o"))),
            Err(StoreError::Full("clients"))
        );
        assert_eq!(s.remove_client(&j), Ok(()));
        assert_eq!(s.clients_of(&j.to_bare()), Ok(vec![]));
    }

    #[test]
    fn round_robin_cursors_count_per_pool() {
        let mut s = MemoryStore::default();
        assert_eq!(s.next_round_robin("dial"), Ok(0));
        assert_eq!(s.next_round_robin("dial"), Ok(1));
        assert_eq!(s.next_round_robin("offer:app"), Ok(0));
    }
}
