//! The requests waiting for their answer: by id, by deadline, and how many await a `<ref/>`,
//! so that the driver's next wake-up and the check for presences to keep cost nothing per
//! request in flight (both ran over every pending request at each turn).

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use super::{Expect, Pending};

/// Pending requests.
#[derive(Default)]
pub(super) struct Requests {
    by_id: HashMap<String, Pending>,
    by_deadline: BTreeSet<(Instant, String)>,
    /// Those whose answer will name a new call or component.
    awaiting_refs: usize,
}

impl Requests {
    /// Request `id` waits for its answer.
    pub(super) fn insert(&mut self, id: String, p: Pending) {
        let at = p.deadline;
        if p.expect != Expect::Nothing {
            self.awaiting_refs += 1;
        }
        // A request of the same id (ids are never reused; still) is replaced whole.
        if let Some(old) = self.by_id.insert(id.clone(), p) {
            self.by_deadline.remove(&(old.deadline, id.clone()));
            self.forget(&old);
        }
        self.by_deadline.insert((at, id));
    }

    /// Request `id`, if it is pending.
    pub(super) fn get(&self, id: &str) -> Option<&Pending> {
        self.by_id.get(id)
    }

    /// Request `id`, no longer pending.
    pub(super) fn remove(&mut self, id: &str) -> Option<Pending> {
        let p = self.by_id.remove(id)?;
        self.by_deadline.remove(&(p.deadline, id.to_owned()));
        self.forget(&p);
        Some(p)
    }

    /// Every pending request, none left.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = Pending> + '_ {
        self.by_deadline.clear();
        self.awaiting_refs = 0;
        self.by_id.drain().map(|(_, p)| p)
    }

    /// When the first deadline falls.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.first().map(|(at, _)| *at)
    }

    /// The requests whose deadline is `now` or before, removed.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<(String, Pending)> {
        let mut due = Vec::new();
        while let Some((at, id)) = self.by_deadline.first().cloned() {
            if at > now {
                break;
            }
            if let Some(p) = self.remove(&id) {
                due.push((id, p));
            } else {
                self.by_deadline.remove(&(at, id));
            }
        }
        due
    }

    /// Whether a request whose answer will name a new call or component is pending.
    pub(super) fn awaiting_ref(&self) -> bool {
        self.awaiting_refs > 0
    }

    fn forget(&mut self, p: &Pending) {
        if p.expect != Expect::Nothing {
            self.awaiting_refs -= 1;
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn pending(deadline: Instant, expect: Expect) -> Pending {
        Pending {
            to: "rayo.test".parse().expect("jid"),
            deadline,
            expect,
            reply: tokio::sync::oneshot::channel().0,
        }
    }

    #[test]
    fn deadlines_and_awaited_refs_follow_the_requests() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut r = Requests::default();
        r.insert("a".into(), pending(t0 + 3 * s, Expect::Nothing));
        r.insert("b".into(), pending(t0 + s, Expect::Call));
        r.insert("c".into(), pending(t0 + 2 * s, Expect::Component));
        assert_eq!(r.next_deadline(), Some(t0 + s));
        assert!(r.awaiting_ref());
        assert!(r.remove("b").is_some() && r.remove("b").is_none());
        assert_eq!(r.next_deadline(), Some(t0 + 2 * s));
        let due: Vec<String> = r
            .take_due(t0 + 2 * s)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(due, ["c"]);
        assert!(!r.awaiting_ref(), "a needs no ref");
        assert!(r.get("a").is_some());
        // The same id again: the new deadline only.
        r.insert("a".into(), pending(t0 + 9 * s, Expect::Nothing));
        assert_eq!(r.next_deadline(), Some(t0 + 9 * s));
        assert_eq!(r.drain().count(), 1);
        assert_eq!((r.next_deadline(), r.awaiting_ref()), (None, false));
    }
}
