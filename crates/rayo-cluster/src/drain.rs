//! Drains: a node, or the whole gateway, takes no new work while its live calls finish; a
//! maximum drain time ends the rest (hung up at their nodes), so no drain lasts for ever.
//!
//! A draining node is out of rotation (no dials) and its new offers are rejected `busy`, as
//! those of a node that says `dnd`. A draining gateway refuses every dial
//! (`service-unavailable`, wait) and rejects every new offer `busy`.

use std::time::{Duration, Instant};

use crate::gateway::{Gateway, Timer};
use crate::store::{NodeStatus, Store};

impl<S: Store> Gateway<S> {
    /// Drains a node: no more dials or offers; after `max_time` its remaining calls are hung up.
    pub fn drain_node(&mut self, now: Instant, node: &str, max_time: Duration) {
        let node = node.to_ascii_lowercase();
        match self.store.node(&node) {
            Ok(Some(mut r)) => {
                r.draining = true;
                if let Err(e) = self.store.put_node(r) {
                    tracing::warn!(%e, node, "drain not recorded");
                }
            }
            Ok(None) => return,
            Err(e) => return tracing::warn!(%e, node, "drain not recorded"),
        }
        tracing::info!(node, ?max_time, "node draining");
        self.timers
            .insert((now + max_time, Timer::Drain(Some(node))));
    }

    /// Drains the whole gateway: no more dials or offers; after `max_time` every remaining
    /// call is hung up.
    pub fn drain(&mut self, now: Instant, max_time: Duration) {
        tracing::info!(?max_time, "gateway draining");
        self.draining = true;
        self.timers.insert((now + max_time, Timer::Drain(None)));
    }

    /// Whether the gateway is draining.
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// `node`, or every node.
    fn node_or_all(&self, node: Option<&str>) -> Vec<String> {
        match node {
            Some(n) => vec![n.to_ascii_lowercase()],
            None => self
                .store
                .nodes()
                .unwrap_or_default()
                .into_iter()
                .map(|n| n.domain)
                .collect(),
        }
    }

    /// The calls still up: on one node, or on every node.
    pub fn calls_left(&self, node: Option<&str>) -> usize {
        self.node_or_all(node)
            .iter()
            .map(|n| self.store.calls_on(n).map_or(0, |c| c.len()))
            .sum()
    }

    /// Whether a node's new offers are rejected: it says `dnd` (or never presented itself),
    /// it or the gateway drains.
    pub(crate) fn refuses_offers(&self, node: &str) -> bool {
        self.draining
            || match self.store.node(node) {
                Ok(Some(r)) => r.draining || r.status != NodeStatus::Available,
                Ok(None) => true,
                Err(_) => true,
            }
    }

    /// A drain's maximum time is over: what is left is hung up.
    pub(crate) fn drain_expired(&mut self, now: Instant, node: Option<&str>) {
        for n in self.node_or_all(node) {
            for call in self.store.calls_on(&n).unwrap_or_default() {
                tracing::info!(call = call.id, node = n, "drain time over: hung up");
                self.hang_up(now, &call.id, &n);
            }
        }
    }
}
