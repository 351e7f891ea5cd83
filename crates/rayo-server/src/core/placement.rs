//! Which call or mixer each media component runs on, indexed both ways: the end of a call
//! or mixer finds its components in one lookup, not by a scan of every live component of
//! the node.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

#[cfg(test)]
use rayo_call::CallId;
use rayo_call::ComponentId;

/// Media components and the parents (calls or mixers: `P`) they run on.
#[derive(Debug)]
pub(super) struct Placement<P> {
    parent_of: HashMap<ComponentId, P>,
    on: HashMap<P, HashSet<ComponentId>>,
}

impl<P> Default for Placement<P> {
    fn default() -> Self {
        Placement {
            parent_of: HashMap::new(),
            on: HashMap::new(),
        }
    }
}

impl<P: Clone + Eq + Hash> Placement<P> {
    /// `component` runs on `parent` (moved there if it ran elsewhere).
    pub(super) fn insert(&mut self, component: ComponentId, parent: P) {
        self.remove(&component);
        self.on
            .entry(parent.clone())
            .or_default()
            .insert(component.clone());
        self.parent_of.insert(component, parent);
    }

    /// The parent `component` runs on.
    pub(super) fn get(&self, component: &ComponentId) -> Option<&P> {
        self.parent_of.get(component)
    }

    /// Forgets `component`; the parent it ran on.
    pub(super) fn remove(&mut self, component: &ComponentId) -> Option<P> {
        let parent = self.parent_of.remove(component)?;
        if let Some(set) = self.on.get_mut(&parent) {
            set.remove(component);
            if set.is_empty() {
                self.on.remove(&parent);
            }
        }
        Some(parent)
    }

    /// Forgets every component of `parent`.
    pub(super) fn forget_parent(&mut self, parent: &P) {
        for c in self.on.remove(parent).into_iter().flatten() {
            self.parent_of.remove(&c);
        }
    }

    /// Components placed.
    #[cfg(test)]
    fn len(&self) -> usize {
        debug_assert_eq!(
            self.parent_of.len(),
            self.on.values().map(HashSet::len).sum::<usize>()
        );
        self.parent_of.len()
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
        let mut p = Placement::<CallId>::default();
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
        assert!(!p.on.contains_key(&call("a")), "an empty set goes");
        p.insert(comp("a3"), call("a"));
        p.forget_parent(&call("b"));
        assert_eq!((p.get(&comp("b1")), p.get(&comp("a2"))), (None, None));
        assert_eq!(p.get(&comp("a3")), Some(&call("a")));
        assert_eq!(p.len(), 1);
    }
}
