//! Which call each media component runs on, indexed both ways: a call's end finds its
//! components in one lookup, not by a scan of every live component of the node.

use std::collections::{HashMap, HashSet};

use rayo_call::{CallId, ComponentId};

/// Media components and the calls they run on.
#[derive(Debug, Default)]
pub(super) struct Placement {
    call_of: HashMap<ComponentId, CallId>,
    on_call: HashMap<CallId, HashSet<ComponentId>>,
}

impl Placement {
    /// `component` runs on `call` (moved there if it ran elsewhere).
    pub(super) fn insert(&mut self, component: ComponentId, call: CallId) {
        self.remove(&component);
        self.on_call
            .entry(call.clone())
            .or_default()
            .insert(component.clone());
        self.call_of.insert(component, call);
    }

    /// The call `component` runs on.
    pub(super) fn get(&self, component: &ComponentId) -> Option<&CallId> {
        self.call_of.get(component)
    }

    /// Forgets `component`; the call it ran on.
    pub(super) fn remove(&mut self, component: &ComponentId) -> Option<CallId> {
        let call = self.call_of.remove(component)?;
        if let Some(set) = self.on_call.get_mut(&call) {
            set.remove(component);
            if set.is_empty() {
                self.on_call.remove(&call);
            }
        }
        Some(call)
    }

    /// Forgets every component of `call`.
    pub(super) fn forget_call(&mut self, call: &CallId) {
        for c in self.on_call.remove(call).into_iter().flatten() {
            self.call_of.remove(&c);
        }
    }

    /// Components placed.
    #[cfg(test)]
    fn len(&self) -> usize {
        debug_assert_eq!(
            self.call_of.len(),
            self.on_call.values().map(HashSet::len).sum::<usize>()
        );
        self.call_of.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(s: &str) -> CallId {
        CallId(s.into())
    }

    fn comp(s: &str) -> ComponentId {
        ComponentId(s.into())
    }

    #[test]
    fn both_ways_agree_and_a_call_takes_its_components_along() {
        let mut p = Placement::default();
        p.insert(comp("a1"), call("a"));
        p.insert(comp("a2"), call("a"));
        p.insert(comp("b1"), call("b"));
        assert_eq!(p.get(&comp("a2")), Some(&call("a")));
        assert_eq!(p.len(), 3);
        // Moved to another call.
        p.insert(comp("a2"), call("b"));
        assert_eq!(p.get(&comp("a2")), Some(&call("b")));
        assert_eq!(p.remove(&comp("a1")), Some(call("a")));
        assert_eq!(p.remove(&comp("a1")), None);
        assert!(!p.on_call.contains_key(&call("a")), "an empty set goes");
        p.insert(comp("a3"), call("a"));
        p.forget_call(&call("b"));
        assert_eq!((p.get(&comp("b1")), p.get(&comp("a2"))), (None, None));
        assert_eq!(p.get(&comp("a3")), Some(&call("a")));
        assert_eq!(p.len(), 1);
    }
}
