//! [`Journaled`]: a [`Store`] that also writes down, as a [`Change`], every change it made,
//! for a driver to carry to the other gateways of a cluster (the next step of issue 15: a
//! Redis stream) and for each of them to [`Change::apply`] to its own copy.
//!
//! A change is recorded whenever the store may have changed, and only after the wrapped
//! store said yes: an `insert_call` of a taken id, a `claim_call` lost, a `move_offer` or
//! `transfer_call` refused record nothing; a removal of what is not there, a `put_*` of the
//! same record or a claim by the call's controller are recorded and replay as the no-ops
//! they were. Applying the changes of one store in order to another that started equal
//! leaves the two equal (the tests replay random gateway runs). A decision that must be
//! taken once for the whole cluster (who won an offer, whose turn it is in a round robin)
//! is journaled as the step the store took (the claim that won, the cursor moved on by
//! one); taking it once across gateways is the shared store's part, not the journal's.

use std::collections::VecDeque;

use jid::{BareJid, Jid};

use super::{CallRecord, Claim, ClientRecord, MixerRecord, NodeRecord, Store, StoreError};
use crate::config::Distribution;

/// One change a store made, with what it takes to make it again elsewhere.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// [`Store::put_node`].
    PutNode(NodeRecord),
    /// [`Store::next_round_robin`]: the cursor of the pool moved on by one.
    RoundRobin {
        /// The pool whose cursor moved.
        pool: String,
    },
    /// [`Store::put_client`].
    PutClient(ClientRecord),
    /// [`Store::remove_client`].
    RemoveClient(Jid),
    /// [`Store::set_routing`].
    SetRouting {
        /// The bare JID whose routing changed.
        bare: BareJid,
        /// The algorithm it chose.
        algorithm: Distribution,
    },
    /// [`Store::insert_call`] that created the call (one of a taken id is not recorded).
    InsertCall(CallRecord),
    /// [`Store::claim_call`] that made `client` the call's controller, or found it was.
    ClaimCall {
        /// The call.
        id: String,
        /// Its controlling party from now on.
        client: Jid,
    },
    /// [`Store::move_offer`] that moved the offer.
    MoveOffer {
        /// The call.
        id: String,
        /// The clients it is offered to now.
        offered: Vec<Jid>,
    },
    /// [`Store::transfer_call`] that handed the call on.
    TransferCall {
        /// The call.
        id: String,
        /// The controller it was taken from.
        from: Jid,
        /// The controller it was given to.
        to: Jid,
    },
    /// [`Store::remove_call`] (with the call's component owners).
    RemoveCall(String),
    /// [`Store::put_mixer`].
    PutMixer(MixerRecord),
    /// [`Store::remove_mixer`] (with the mixer's component owners).
    RemoveMixer(String),
    /// [`Store::put_component_owner`].
    PutComponentOwner {
        /// The call or mixer the component belongs to.
        parent: String,
        /// The component's resource.
        resource: String,
        /// The client that started it.
        owner: Jid,
    },
    /// [`Store::remove_component`].
    RemoveComponent {
        /// The call or mixer the component belonged to.
        parent: String,
        /// The component's resource.
        resource: String,
    },
}

impl Change {
    /// Makes the change in `store` (another gateway's copy). On a copy equal to the source
    /// before the change, the change's condition holds as it did there (the claimed call is
    /// offered to the claimant, the transferred call controlled by `from`); on a copy that
    /// drifted, a change whose condition fails leaves it as it is. A copy with smaller
    /// limits than the source can fail with [`StoreError::Full`].
    pub fn apply<S: Store + ?Sized>(self, store: &mut S) -> Result<(), StoreError> {
        match self {
            Change::PutNode(n) => store.put_node(n),
            Change::RoundRobin { pool } => store.next_round_robin(&pool).map(drop),
            Change::PutClient(c) => store.put_client(c),
            Change::RemoveClient(j) => store.remove_client(&j),
            Change::SetRouting { bare, algorithm } => store.set_routing(&bare, algorithm),
            Change::InsertCall(c) => store.insert_call(c).map(drop),
            Change::ClaimCall { id, client } => store.claim_call(&id, &client).map(drop),
            Change::MoveOffer { id, offered } => store.move_offer(&id, offered).map(drop),
            Change::TransferCall { id, from, to } => store.transfer_call(&id, &from, &to).map(drop),
            Change::RemoveCall(id) => store.remove_call(&id).map(drop),
            Change::PutMixer(m) => store.put_mixer(m),
            Change::RemoveMixer(name) => store.remove_mixer(&name).map(drop),
            Change::PutComponentOwner {
                parent,
                resource,
                owner,
            } => store.put_component_owner(&parent, &resource, owner),
            Change::RemoveComponent { parent, resource } => {
                store.remove_component(&parent, &resource)
            }
        }
    }
}

/// A store whose changes are also kept, in order, until the driver takes them
/// ([`Journaled::take_changes`]). The queue is bounded: when the driver falls behind, the
/// oldest changes are dropped and counted, and whoever copies this store must copy it whole
/// again (a change applied after a gap could contradict the lost ones): a clone of the
/// store ([`Journaled::inner`]), then only the changes taken after the clone.
#[derive(Debug)]
pub struct Journaled<S> {
    inner: S,
    changes: VecDeque<Change>,
    capacity: usize,
    lost: u64,
}

/// What [`Journaled::take_changes`] hands over.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// The changes since the last take, oldest first.
    pub changes: Vec<Change>,
    /// How many changes before these were dropped because the queue was full: when not
    /// zero, a copy of the store is out of date and must be made again.
    pub lost: u64,
}

impl<S: Store> Journaled<S> {
    /// `inner`, journaled, keeping at most `capacity` changes (at least one).
    pub fn new(inner: S, capacity: usize) -> Self {
        Journaled {
            inner,
            changes: VecDeque::new(),
            capacity: capacity.max(1),
            lost: 0,
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The changes made since the last take, and how many were dropped before them.
    pub fn take_changes(&mut self) -> Changes {
        Changes {
            changes: self.changes.drain(..).collect(),
            lost: std::mem::take(&mut self.lost),
        }
    }

    fn record(&mut self, change: Change) {
        if self.changes.len() >= self.capacity {
            self.changes.pop_front();
            self.lost += 1;
        }
        self.changes.push_back(change);
    }

    /// Records `change` when the store said yes.
    fn record_ok<T>(
        &mut self,
        done: Result<T, StoreError>,
        change: impl FnOnce() -> Change,
    ) -> Result<T, StoreError> {
        self.record_if(done, |_| true, change)
    }

    /// Records `change` when the store said yes and `changed` says it changed.
    fn record_if<T>(
        &mut self,
        done: Result<T, StoreError>,
        changed: impl FnOnce(&T) -> bool,
        change: impl FnOnce() -> Change,
    ) -> Result<T, StoreError> {
        if let Ok(v) = &done {
            if changed(v) {
                self.record(change());
            }
        }
        done
    }
}

impl<S: Store> Store for Journaled<S> {
    fn node(&self, domain: &str) -> Result<Option<NodeRecord>, StoreError> {
        self.inner.node(domain)
    }

    fn put_node(&mut self, node: NodeRecord) -> Result<(), StoreError> {
        let done = self.inner.put_node(node.clone());
        self.record_ok(done, || Change::PutNode(node))
    }

    fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        self.inner.nodes()
    }

    fn next_round_robin(&mut self, pool: &str) -> Result<u64, StoreError> {
        let done = self.inner.next_round_robin(pool);
        self.record_ok(done, || Change::RoundRobin {
            pool: pool.to_owned(),
        })
    }

    fn put_client(&mut self, client: ClientRecord) -> Result<(), StoreError> {
        let done = self.inner.put_client(client.clone());
        self.record_ok(done, || Change::PutClient(client))
    }

    fn remove_client(&mut self, jid: &Jid) -> Result<(), StoreError> {
        let done = self.inner.remove_client(jid);
        self.record_ok(done, || Change::RemoveClient(jid.clone()))
    }

    fn clients_of(&self, bare: &BareJid) -> Result<Vec<ClientRecord>, StoreError> {
        self.inner.clients_of(bare)
    }

    fn routing(&self, bare: &BareJid) -> Result<Option<Distribution>, StoreError> {
        self.inner.routing(bare)
    }

    fn set_routing(&mut self, bare: &BareJid, algorithm: Distribution) -> Result<(), StoreError> {
        let done = self.inner.set_routing(bare, algorithm);
        self.record_ok(done, || Change::SetRouting {
            bare: bare.clone(),
            algorithm,
        })
    }

    fn call(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        self.inner.call(id)
    }

    fn insert_call(&mut self, call: CallRecord) -> Result<bool, StoreError> {
        let done = self.inner.insert_call(call.clone());
        self.record_if(done, |created| *created, || Change::InsertCall(call))
    }

    fn claim_call(&mut self, id: &str, client: &Jid) -> Result<Claim, StoreError> {
        let done = self.inner.claim_call(id, client);
        self.record_if(
            done,
            |c| *c == Claim::Won,
            || Change::ClaimCall {
                id: id.to_owned(),
                client: client.clone(),
            },
        )
    }

    fn move_offer(&mut self, id: &str, offered: Vec<Jid>) -> Result<bool, StoreError> {
        let done = self.inner.move_offer(id, offered.clone());
        self.record_if(
            done,
            |moved| *moved,
            || Change::MoveOffer {
                id: id.to_owned(),
                offered,
            },
        )
    }

    fn transfer_call(&mut self, id: &str, from: &Jid, to: &Jid) -> Result<bool, StoreError> {
        let done = self.inner.transfer_call(id, from, to);
        self.record_if(
            done,
            |moved| *moved,
            || Change::TransferCall {
                id: id.to_owned(),
                from: from.clone(),
                to: to.clone(),
            },
        )
    }

    fn remove_call(&mut self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        // Recorded even when no call was there: the store may still have dropped component
        // owners recorded under the id after the call ended.
        let done = self.inner.remove_call(id);
        self.record_ok(done, || Change::RemoveCall(id.to_owned()))
    }

    fn calls_on(&self, node: &str) -> Result<Vec<CallRecord>, StoreError> {
        self.inner.calls_on(node)
    }

    fn count_calls(&self, application: &str) -> Result<usize, StoreError> {
        self.inner.count_calls(application)
    }

    fn calls_controlled_by(&self, client: &Jid) -> Result<Vec<CallRecord>, StoreError> {
        self.inner.calls_controlled_by(client)
    }

    fn mixer(&self, name: &str) -> Result<Option<MixerRecord>, StoreError> {
        self.inner.mixer(name)
    }

    fn put_mixer(&mut self, mixer: MixerRecord) -> Result<(), StoreError> {
        let done = self.inner.put_mixer(mixer.clone());
        self.record_ok(done, || Change::PutMixer(mixer))
    }

    fn remove_mixer(&mut self, name: &str) -> Result<Option<MixerRecord>, StoreError> {
        // Recorded even when no mixer was there, as `remove_call`.
        let done = self.inner.remove_mixer(name);
        self.record_ok(done, || Change::RemoveMixer(name.to_owned()))
    }

    fn mixers_on(&self, node: &str) -> Result<Vec<MixerRecord>, StoreError> {
        self.inner.mixers_on(node)
    }

    fn put_component_owner(
        &mut self,
        parent: &str,
        resource: &str,
        owner: Jid,
    ) -> Result<(), StoreError> {
        let done = self
            .inner
            .put_component_owner(parent, resource, owner.clone());
        self.record_ok(done, || Change::PutComponentOwner {
            parent: parent.to_owned(),
            resource: resource.to_owned(),
            owner,
        })
    }

    fn component_owner(&self, parent: &str, resource: &str) -> Result<Option<Jid>, StoreError> {
        self.inner.component_owner(parent, resource)
    }

    fn remove_component(&mut self, parent: &str, resource: &str) -> Result<(), StoreError> {
        let done = self.inner.remove_component(parent, resource);
        self.record_ok(done, || Change::RemoveComponent {
            parent: parent.to_owned(),
            resource: resource.to_owned(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, NodeStatus};

    #[test]
    fn a_full_journal_drops_the_oldest_changes_and_counts_them() {
        let mut j = Journaled::new(MemoryStore::default(), 2);
        for d in ["n1.lit", "n2.lit", "n3.lit"] {
            j.put_node(NodeRecord::new(d, NodeStatus::Available))
                .unwrap();
        }
        let taken = j.take_changes();
        assert_eq!(taken.lost, 1);
        let domains: Vec<String> = taken
            .changes
            .iter()
            .map(|c| match c {
                Change::PutNode(n) => n.domain.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(domains, ["n2.lit", "n3.lit"]);
        assert_eq!(j.take_changes(), Changes::default(), "taken once");
    }

    #[test]
    fn what_the_store_refused_is_not_journaled() {
        let mut j = Journaled::new(MemoryStore::default(), 16);
        let client: Jid = "juliet@capulet.lit/r".parse().unwrap();
        assert_eq!(j.claim_call("nope", &client).unwrap(), Claim::NoCall);
        assert!(!j.move_offer("nope", vec![client.clone()]).unwrap());
        assert!(!j.transfer_call("nope", &client, &client).unwrap());
        assert_eq!(j.take_changes(), Changes::default());
    }
}
