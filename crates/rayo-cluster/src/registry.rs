//! The node registry (XEP-0349 §4.2): nodes present themselves by directed presence to the
//! internal domain with caps node `urn:xmpp:rayo:node:1`; `<show>chat</show>` puts a node in
//! rotation, any other show (`dnd`) keeps it out of rotation for dials and new offers while
//! its calls go on; unavailable, its link lost, or a XEP-0199 ping unanswered for
//! [`crate::Config::ping_timeout`] fails it, and every call it held ends for its controlling
//! client with `<end><error/></end>`. A node that fails
//! [`crate::Config::node_failures_out`] dials in a row leaves rotation until it answers
//! [`crate::Config::node_pings_back`] pings in a row.

use std::collections::BTreeMap;
use std::time::Instant;

use jid::Jid;
use minidom::Element;

use crate::envelope;
use crate::gateway::{Gateway, Output, Timer};
use crate::link::{LinkId, Refusal};
use crate::pending::{PendingIq, Purpose};
use crate::store::{NodeRecord, NodeStatus, Store};

/// A bound on the registry (nodes are allow-listed, so this is never reached in practice).
const MAX_UNREGISTERED_GUARD: usize = 65_536;

/// What this gateway knows of a node locally: the link it is on, its next ping.
#[derive(Debug, Clone)]
pub(crate) struct NodeLink {
    link: LinkId,
    next_ping: Option<Instant>,
}

/// The nodes this gateway has a link to.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    nodes: BTreeMap<String, NodeLink>,
}

impl Registry {
    /// The link a node is on.
    pub fn link(&self, node: &str) -> Option<LinkId> {
        self.nodes.get(node).map(|n| n.link)
    }

    /// Notes the link a node's stanza came on, if none is known yet (it has not presented
    /// itself): answers to it can then go back there.
    pub fn learn(&mut self, node: &str, link: LinkId) {
        if !self.nodes.contains_key(node) && self.nodes.len() < MAX_UNREGISTERED_GUARD {
            self.nodes.insert(
                node.to_owned(),
                NodeLink {
                    link,
                    next_ping: None,
                },
            );
        }
    }

    /// The nodes on a link.
    pub fn on_link(&self, link: LinkId) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.link == link)
            .map(|(d, _)| d.clone())
            .collect()
    }
}

/// Whether a presence carries caps node `urn:xmpp:rayo:node:1`.
fn is_node_presence(p: &Element) -> bool {
    p.get_child("c", rayo_proto::ns::CAPS)
        .is_some_and(|c| c.attr("node") == Some(rayo_proto::ns::NODE_CAPS))
}

impl<S: Store> Gateway<S> {
    /// Whether a node is in rotation (present with `chat`, not suspended for failed dials).
    pub fn in_rotation(&self, node: &str) -> bool {
        matches!(self.store.node(node), Ok(Some(r)) if r.in_rotation())
    }

    /// A node's status, if the store knows it.
    pub fn node_status(&self, node: &str) -> Option<NodeStatus> {
        self.store.node(node).ok().flatten().map(|n| n.status)
    }

    /// A presence from a node's own domain.
    pub(crate) fn node_presence(&mut self, now: Instant, link: LinkId, node: &str, p: &Element) {
        if p.attr("type") == Some("unavailable") {
            return self.node_failed(now, node, "unavailable");
        }
        if p.attr("type").is_some() || !is_node_presence(p) {
            return self.push(Output::Dropped {
                link,
                reason: Refusal::Unhandled,
            });
        }
        let show = p
            .get_child("show", minidom::NSChoice::Any)
            .map(|s| s.text());
        let status = match show.as_deref().map(str::trim) {
            Some("chat") => NodeStatus::Available,
            _ => NodeStatus::Busy,
        };
        let record = match self.store.node(node) {
            // A suspension outlives what the node says; a failure does not.
            Ok(Some(r)) if r.status != NodeStatus::Failed => NodeRecord { status, ..r },
            _ => NodeRecord::new(node, status),
        };
        if let Err(e) = self.store.put_node(record) {
            tracing::warn!(%e, node, "node not registered");
            return self.push(Output::Dropped {
                link,
                reason: Refusal::Store(e),
            });
        }
        tracing::info!(node, ?status, "node present");
        let entry = self
            .registry
            .nodes
            .entry(node.to_owned())
            .or_insert(NodeLink {
                link,
                next_ping: None,
            });
        entry.link = link;
        if entry.next_ping.is_none() {
            let at = now + self.cfg.ping_interval;
            entry.next_ping = Some(at);
            self.timers.insert((at, Timer::Ping(node.to_owned())));
        }
    }

    /// A node's ping is due: ping it, and schedule the next.
    pub(crate) fn ping_due(&mut self, now: Instant, node: &str) {
        let Some(entry) = self.registry.nodes.get_mut(node) else {
            return;
        };
        let at = now + self.cfg.ping_interval;
        entry.next_ping = Some(at);
        self.timers.insert((at, Timer::Ping(node.to_owned())));
        let ping = Element::builder("ping", rayo_proto::ns::PING).build();
        let p = PendingIq::own(Purpose::Ping, now);
        let timeout = self.cfg.ping_timeout;
        if let Err(why) = self.iq_to_node(now, node, node, "get", ping, p, timeout) {
            tracing::warn!(%why, node, "ping not sent");
        }
    }

    /// A ping was answered (any answer, even an error, shows the node alive) or timed out.
    /// A suspended node's results count towards its return.
    pub(crate) fn ping_answered(&mut self, now: Instant, node: &str, answer: Option<&Element>) {
        let Some(answer) = answer else {
            return self.node_failed(now, node, "ping unanswered");
        };
        let good = answer.attr("type") == Some("result");
        let back = self.cfg.node_pings_back;
        self.update_node(node, |r| {
            if !r.suspended {
                return;
            }
            r.good_pings = if good { r.good_pings + 1 } else { 0 };
            if r.good_pings >= back {
                tracing::info!(
                    node = r.domain,
                    "node answers pings again: back in rotation"
                );
                r.suspended = false;
                r.failures = 0;
                r.good_pings = 0;
            }
        });
    }

    /// A dial at a node failed (`false`) or succeeded (`true`).
    pub(crate) fn dial_outcome(&mut self, node: &str, ok: bool) {
        let out = self.cfg.node_failures_out;
        self.update_node(node, |r| {
            if ok {
                r.failures = 0;
                return;
            }
            r.failures += 1;
            if r.failures >= out && !r.suspended {
                tracing::warn!(
                    node = r.domain,
                    failures = r.failures,
                    "node out of rotation"
                );
                r.suspended = true;
                r.good_pings = 0;
            }
        });
    }

    fn update_node(&mut self, node: &str, f: impl FnOnce(&mut NodeRecord)) {
        let result = match self.store.node(node) {
            Ok(Some(mut r)) => {
                f(&mut r);
                self.store.put_node(r)
            }
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(%e, node, "node not updated");
        }
    }

    /// A node is gone: out of rotation, its calls ended for their clients with
    /// `<end><error/></end>`, its mixers gone, its pending requests answered.
    pub(crate) fn node_failed(&mut self, now: Instant, node: &str, why: &str) {
        tracing::warn!(node, why, "node failed");
        if let Some(entry) = self.registry.nodes.remove(node) {
            if let Some(at) = entry.next_ping {
                self.timers.remove(&(at, Timer::Ping(node.to_owned())));
            }
        }
        let record = NodeRecord::new(node, NodeStatus::Failed);
        if let Err(e) = self.store.put_node(record) {
            tracing::warn!(%e, node, "node not marked failed");
        }
        for id in self.pending.at_node(node) {
            if let Some(p) = self.pending.take(&id) {
                self.timers.remove(&(p.deadline, Timer::Iq(id)));
                self.answered(now, node, p, None);
            }
        }
        self.end_calls_of(node);
    }

    fn end_calls_of(&mut self, node: &str) {
        let calls = self.store.calls_on(node).unwrap_or_else(|e| {
            tracing::error!(%e, node, "calls of a failed node not found");
            Vec::new()
        });
        for call in calls {
            let Ok(from) = Jid::new(&format!("{}@{}", call.id, self.cfg.domains.external())) else {
                continue;
            };
            let targets = match &call.controller {
                Some(c) => vec![c.clone()],
                None => call.offered.clone(),
            };
            for to in targets {
                let end = Element::builder("end", rayo_proto::ns::RAYO)
                    .append(Element::builder("error", rayo_proto::ns::RAYO).build())
                    .build();
                self.send_unavailable(&from, &to, Some(end));
            }
            if let Err(e) = self.store.remove_call(&call.id) {
                tracing::warn!(%e, call = call.id, "call of a failed node not removed");
            }
        }
        for mixer in self.store.mixers_on(node).unwrap_or_default() {
            let name = crate::tenancy::unscoped(&mixer.name, &self.cfg.applications);
            let Ok(from) = Jid::new(&format!("{name}@{}", self.cfg.domains.external())) else {
                continue;
            };
            for to in &mixer.clients {
                self.send_unavailable(&from, to, None);
            }
            if let Err(e) = self.store.remove_mixer(&mixer.name) {
                tracing::warn!(%e, mixer = mixer.name, "mixer of a failed node not removed");
            }
        }
    }

    /// Sends an unavailable presence from an entity to a client, with a payload (an `<end/>`).
    pub(crate) fn send_unavailable(&mut self, from: &Jid, to: &Jid, payload: Option<Element>) {
        let mut p = Element::builder("presence", rayo_proto::ns::JABBER_CLIENT).build();
        if let Some(x) = payload {
            p.append_child(x);
        }
        envelope::set_attr(&mut p, "type", "unavailable");
        envelope::address(&mut p, from, to);
        self.send_to_client(to, p);
    }

    /// The nodes in rotation, in domain order.
    pub(crate) fn rotation(&self) -> Vec<String> {
        self.store
            .nodes()
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n.in_rotation() && self.registry.link(&n.domain).is_some())
            .map(|n| n.domain)
            .collect()
    }
}
