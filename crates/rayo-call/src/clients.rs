//! Client registration (XEP-0327 §6.1): which JIDs are potential controlling parties.

use std::collections::HashMap;
use std::time::Instant;

use jid::Jid;

/// The availability of the clients that sent presence to the service.
#[derive(Debug, Default)]
pub struct Clients {
    /// Clients whose last presence showed `chat`, with when it came.
    available: HashMap<Jid, Instant>,
}

impl Clients {
    /// Records a presence: `chat` makes `jid` a PCP, anything else (dnd, away, plain
    /// available, unavailable) makes it not one.
    pub fn set(&mut self, jid: &Jid, chat: bool, now: Instant) {
        if chat {
            self.available.insert(jid.clone(), now);
        } else {
            self.available.remove(jid);
        }
    }

    /// Whether `jid` is a potential controlling party now.
    pub fn is_available(&self, jid: &Jid) -> bool {
        self.available.contains_key(jid)
    }

    /// When `jid` last said it was available.
    pub fn since(&self, jid: &Jid) -> Option<Instant> {
        self.available.get(jid).copied()
    }

    /// The available clients that a route target names: a full JID names itself, a bare
    /// JID every available resource of it. Sorted, for determinism.
    pub fn matching(&self, target: &Jid) -> Vec<Jid> {
        let mut v: Vec<Jid> = self
            .available
            .keys()
            .filter(|j| {
                if target.resource().is_some() {
                    *j == target
                } else {
                    j.to_bare() == target.to_bare()
                }
            })
            .cloned()
            .collect();
        v.sort_by_key(|j| j.to_string());
        v
    }
}
