//! [`MemoryStore`]: the [`Store`] of a single gateway, in its own memory, every table bounded.

use std::collections::{BTreeMap, HashMap};

use jid::{BareJid, Jid};

use super::{CallRecord, Claim, ClientRecord, MixerRecord, NodeRecord, Store, StoreError};
use crate::config::Distribution;

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

/// A [`Store`] in this process's memory: one gateway, state lost when it stops. Two are
/// equal when they hold the same records (and limits); a clone is a copy of the state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryStore {
    limits: MemoryLimits,
    nodes: BTreeMap<String, NodeRecord>,
    cursors: HashMap<String, u64>,
    clients: BTreeMap<BareJid, BTreeMap<Jid, ClientRecord>>,
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

    /// Forgets the components of `parent`: a range of the map (keys sort by parent first),
    /// not a scan of every live component.
    fn drop_components(&mut self, parent: &str) {
        let first = (parent.to_owned(), String::new());
        let keys: Vec<(String, String)> = self
            .components
            .range(first..)
            .take_while(|((p, _), _)| p == parent)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            self.components.remove(&k);
        }
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
            .insert(client.jid.clone(), client);
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
            .map(|r| r.values().cloned().collect())
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
                Ok(Claim::Won)
            }
            None => Ok(Claim::NotOffered),
        }
    }

    fn transfer_call(&mut self, id: &str, from: &Jid, to: &Jid) -> Result<bool, StoreError> {
        match self.calls.get_mut(id) {
            Some(call) if call.controller.as_ref() == Some(from) => {
                call.controller = Some(to.clone());
                Ok(true)
            }
            _ => Ok(false),
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
    use crate::store::ClientShow;

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
        assert_eq!(s.put_component_owner("a", "c2", j.clone()), Ok(()));
        assert_eq!(s.put_component_owner("ab", "c1", j.clone()), Ok(()));
        assert!(matches!(s.remove_call("a"), Ok(Some(_))));
        assert_eq!(s.component_owner("a", "c1"), Ok(None));
        assert_eq!(s.component_owner("a", "c2"), Ok(None));
        assert_eq!(
            s.component_owner("ab", "c1"),
            Ok(Some(j.clone())),
            "another call's components stay"
        );
        let c = |jid: Jid| ClientRecord {
            jid,
            show: ClientShow::Available,
            priority: 0,
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
