//! Inbound calls (XEP-0349 §4.1, §4.2): a node's `<offer/>` → the application owning the
//! called URI → its available clients (a bare JID stands for every available resource) →
//! the offer, from the call under the external domain, to each client the application's
//! [`Distribution`] picks. The first command from one of them claims the call (see
//! [`crate::store::Store::claim_call`]). A called URI no application owns is declined at the
//! node; an application with no available client gets the call rejected with `error`.

use std::time::Instant;

use jid::Jid;
use minidom::Element;

use crate::config::Distribution;
use crate::envelope;
use crate::gateway::Gateway;
use crate::pending::{PendingIq, Purpose};
use crate::rewrite;
use crate::store::{CallRecord, ClientShow, Store};

impl<S: Store> Gateway<S> {
    /// An offer presence from `call` (`id@node`).
    pub(crate) fn offer(&mut self, now: Instant, node: &str, call: &Jid, st: Element) {
        let Some(id) = call.node().map(|n| n.as_str().to_owned()) else {
            return;
        };
        if matches!(self.store.call(&id), Ok(Some(_))) {
            return tracing::debug!(id, "offer of a known call: dropped");
        }
        let called = st
            .get_child("offer", rayo_proto::ns::RAYO)
            .and_then(|o| o.attr("to"))
            .unwrap_or_default()
            .to_owned();
        let Some(app) = self.cfg.application_for_uri(&called).cloned() else {
            tracing::info!(called, "no application owns the called URI: declined");
            return self.reject(now, node, call, "decline");
        };
        let candidates = self.available_clients(&app.clients);
        let chosen = match app.distribution {
            Distribution::All => candidates,
            Distribution::RoundRobin if !candidates.is_empty() => {
                let pool = format!("offer:{}", app.name);
                let turn = self.store.next_round_robin(&pool).unwrap_or(0);
                let at = usize::try_from(turn % candidates.len() as u64).unwrap_or(0);
                vec![candidates[at].clone()]
            }
            Distribution::RoundRobin => candidates,
        };
        if chosen.is_empty() {
            tracing::info!(app = app.name, "no available client: rejected");
            return self.reject(now, node, call, "error");
        }
        let record = CallRecord {
            id: id.clone(),
            node: node.to_owned(),
            controller: None,
            offered: chosen.clone(),
            application: Some(app.name.clone()),
        };
        if let Err(e) = self.store.insert_call(record) {
            tracing::warn!(%e, id, "offered call not recorded: rejected");
            return self.reject(now, node, call, "error");
        }
        let from = rewrite::with_domain(call, self.cfg.domains.external());
        let mut st = st;
        self.outward(&mut st);
        for to in chosen {
            let mut s = st.clone();
            envelope::address(&mut s, &from, &to);
            self.send_to_client(&to, s);
        }
    }

    /// The available resources of these clients (bare JIDs expanded), in order, once each.
    fn available_clients(&self, clients: &[Jid]) -> Vec<Jid> {
        let mut out: Vec<Jid> = Vec::new();
        for c in clients {
            let resources = self.store.clients_of(&c.to_bare()).unwrap_or_default();
            for r in resources {
                let wanted = c.resource().is_none() || r.jid == *c;
                if wanted && r.show == ClientShow::Available && !out.contains(&r.jid) {
                    out.push(r.jid);
                }
            }
        }
        out
    }

    /// Rejects an offered call at its node with this reason.
    fn reject(&mut self, now: Instant, node: &str, call: &Jid, reason: &str) {
        let reject = Element::builder("reject", rayo_proto::ns::RAYO)
            .append(Element::builder(reason, rayo_proto::ns::RAYO).build())
            .build();
        let p = PendingIq::own(Purpose::Own, now);
        let timeout = self.cfg.iq_timeout;
        if let Err(why) = self.iq_to_node(now, node, call.as_str(), "set", reject, p, timeout) {
            tracing::warn!(%why, node, "reject not sent");
        }
    }
}
