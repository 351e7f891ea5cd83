//! What each client and each call or mixer has running, counted as components start, are
//! prepared and end, so that a start checks its limits without looking at every other
//! component of the node.

use std::collections::HashMap;

use jid::BareJid;

use crate::media::Party;

/// Components being prepared, and counts of those and of the started ones.
#[derive(Debug, Default)]
pub(crate) struct Load {
    /// Being prepared (their documents fetched), by sequence number: the client that asked
    /// and where.
    pending: HashMap<u64, (BareJid, Party)>,
    next: u64,
    pending_on: HashMap<Party, usize>,
    pending_of: HashMap<BareJid, usize>,
    started_by: HashMap<BareJid, usize>,
}

impl Load {
    /// A component of `client` on `on` goes to be prepared: its sequence number.
    pub(crate) fn prepare(&mut self, client: BareJid, on: Party) -> u64 {
        self.next += 1;
        *self.pending_on.entry(on.clone()).or_default() += 1;
        *self.pending_of.entry(client.clone()).or_default() += 1;
        self.pending.insert(self.next, (client, on));
        self.next
    }

    /// Prepared component `seq` is back (started or refused): whether it was pending.
    pub(crate) fn prepared(&mut self, seq: u64) -> bool {
        let Some((client, on)) = self.pending.remove(&seq) else {
            return false;
        };
        decrement(&mut self.pending_on, &on);
        decrement(&mut self.pending_of, &client);
        true
    }

    /// A component of `client` started.
    pub(crate) fn started(&mut self, client: BareJid) {
        *self.started_by.entry(client).or_default() += 1;
    }

    /// A component of `client` ended.
    pub(crate) fn ended(&mut self, client: &BareJid) {
        decrement(&mut self.started_by, client);
    }

    /// Components being prepared on `on`.
    pub(crate) fn pending_on(&self, on: &Party) -> usize {
        self.pending_on.get(on).copied().unwrap_or(0)
    }

    /// Components of `client`, started or being prepared.
    pub(crate) fn of_client(&self, client: &BareJid) -> usize {
        self.started_by.get(client).copied().unwrap_or(0)
            + self.pending_of.get(client).copied().unwrap_or(0)
    }
}

/// One less of `key`, forgotten at zero.
fn decrement<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::CallId;

    #[test]
    fn counts_follow_starts_preparations_and_ends() {
        let mut l = Load::default();
        let (a, b): (BareJid, BareJid) = ("a@x".parse().expect("jid"), "b@x".parse().expect("jid"));
        let call = Party::Call(CallId("c".into()));
        let s1 = l.prepare(a.clone(), call.clone());
        let s2 = l.prepare(b.clone(), call.clone());
        assert_ne!(s1, s2);
        l.started(a.clone());
        assert_eq!(
            (l.pending_on(&call), l.of_client(&a), l.of_client(&b)),
            (2, 2, 1)
        );
        assert!(l.prepared(s1) && !l.prepared(s1), "once");
        l.ended(&a);
        l.ended(&a);
        assert_eq!(
            (l.pending_on(&call), l.of_client(&a), l.of_client(&b)),
            (1, 0, 1)
        );
        assert!(l.prepared(s2));
        assert!(l.pending.is_empty() && l.pending_on.is_empty() && l.started_by.is_empty());
    }
}
