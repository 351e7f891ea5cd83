//! The engine's timers in one table, ordered by when they fire and indexed by call, so that
//! a call's end cancels its own timers without looking at every other call's.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use crate::CallId;

/// What a timer is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// The current round of offers of a call expires; `u64` is the round.
    Offer(CallId, u64),
    /// An outbound call was not answered in time.
    Dial(CallId),
    /// A call's controlling party went away (its stream ended) and has not come back.
    Orphaned(CallId),
}

impl Timer {
    /// The call it is for.
    fn call(&self) -> &CallId {
        match self {
            Timer::Offer(c, _) | Timer::Dial(c) | Timer::Orphaned(c) => c,
        }
    }
}

/// Every pending timer: by time, and each call's by call (a few per call at most).
#[derive(Debug, Default)]
pub(crate) struct Timers {
    by_time: BTreeSet<(Instant, Timer)>,
    by_call: HashMap<CallId, Vec<(Instant, Timer)>>,
}

impl Timers {
    /// Sets `t` to fire at `at`.
    pub(crate) fn set(&mut self, at: Instant, t: Timer) {
        if self.by_time.insert((at, t.clone())) {
            self.by_call
                .entry(t.call().clone())
                .or_default()
                .push((at, t));
        }
    }

    /// When the first one fires.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.by_time.first().map(|(at, _)| *at)
    }

    /// The first timer due at `now`, removed.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.by_time.first()?.0 > now {
            return None;
        }
        let (at, t) = self.by_time.pop_first()?;
        self.forget(&at, &t);
        Some(t)
    }

    /// Cancels `call`'s timers that `pred` picks.
    pub(crate) fn cancel(&mut self, call: &CallId, pred: impl Fn(&Timer) -> bool) {
        let Some(list) = self.by_call.get_mut(call) else {
            return;
        };
        list.retain(|(at, t)| {
            let cancel = pred(t);
            if cancel {
                self.by_time.remove(&(*at, t.clone()));
            }
            !cancel
        });
        if list.is_empty() {
            self.by_call.remove(call);
        }
    }

    /// Removes a fired timer from its call's list.
    fn forget(&mut self, at: &Instant, t: &Timer) {
        let call = t.call();
        if let Some(list) = self.by_call.get_mut(call) {
            if let Some(i) = list.iter().position(|(a, x)| a == at && x == t) {
                list.swap_remove(i);
            }
            if list.is_empty() {
                self.by_call.remove(call);
            }
        }
    }

    /// Timers pending (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        debug_assert_eq!(
            self.by_time.len(),
            self.by_call.values().map(Vec::len).sum::<usize>()
        );
        self.by_time.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_calls_timers_fire_in_order_and_are_cancelled_by_call() {
        let t0 = Instant::now();
        let (a, b) = (CallId("a".into()), CallId("b".into()));
        let mut ts = Timers::default();
        ts.set(t0 + Duration::from_secs(3), Timer::Dial(a.clone()));
        ts.set(t0 + Duration::from_secs(1), Timer::Offer(a.clone(), 1));
        ts.set(t0 + Duration::from_secs(2), Timer::Offer(b.clone(), 1));
        ts.set(t0 + Duration::from_secs(2), Timer::Offer(b.clone(), 1));
        assert_eq!(ts.len(), 3, "the same timer twice is one");
        assert_eq!(ts.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(ts.pop_due(t0), None);
        assert_eq!(
            ts.pop_due(t0 + Duration::from_secs(2)),
            Some(Timer::Offer(a.clone(), 1))
        );
        ts.cancel(&a, |t| matches!(t, Timer::Offer(..)));
        assert_eq!(ts.len(), 2, "a's dial timer stays");
        ts.cancel(&a, |_| true);
        assert_eq!(ts.len(), 1);
        assert_eq!(
            ts.pop_due(t0 + Duration::from_secs(9)),
            Some(Timer::Offer(b.clone(), 1))
        );
        assert_eq!((ts.len(), ts.next()), (0, None));
        assert!(ts.by_call.is_empty());
    }
}
