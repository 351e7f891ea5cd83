//! Inbound calls (XEP-0349 §4.1, §4.2): a node's `<offer/>` → the application owning the
//! called URI → its available clients (a bare JID stands for every available resource) →
//! the offer, from the call under the external domain, to each client the application's
//! [`Distribution`] picks. The first `accept`, `answer`, `redirect` or `reject` from one of
//! them claims the call ([`crate::store::Store::claim_call`]). A called URI no application owns is declined at the
//! node; an application with no available client gets the call rejected with `error`. An
//! offer not claimed within [`crate::Config::offer_timeout`] ends with `timeout` for the
//! clients offered it and moves on to the next ones (see there).

use std::time::Instant;

use jid::Jid;
use minidom::Element;

use crate::config::{Application, Distribution};
use crate::envelope;
use crate::gateway::{Gateway, Timer};
use crate::pending::{PendingIq, Purpose};
use crate::store::{CallRecord, ClientShow, Store};

impl<S: Store> Gateway<S> {
    /// An offer presence from `call` (`id@node`).
    pub(crate) fn offer(&mut self, now: Instant, node: &str, call: &Jid, st: Element) {
        let Some(id) = call.node().map(|n| n.as_str().to_owned()) else {
            return;
        };
        match self.store.call(&id) {
            Ok(Some(known)) if known.node == node => {
                return tracing::debug!(id, "offer of a known call: dropped");
            }
            Ok(Some(_)) => {
                tracing::warn!(
                    id,
                    node,
                    "offer with the id of another node's call: rejected"
                );
                return self.reject(now, node, call, "error");
            }
            _ => {}
        }
        if self.refuses_offers(node) {
            tracing::info!(
                id,
                node,
                "offer while the node or the gateway takes none: rejected"
            );
            return self.reject(now, node, call, "busy");
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
        if app.max_calls.is_some_and(|max| self.app_load(&app) >= max) {
            tracing::info!(app = app.name, "application at its call limit: rejected");
            return self.reject(now, node, call, "busy");
        }
        let chosen = self.choose(&app, &[]);
        if chosen.is_empty() {
            tracing::info!(app = app.name, "no available client: rejected");
            return self.reject(now, node, call, "error");
        }
        let mut offer = st;
        self.outward(&mut offer);
        let offer = std::sync::Arc::new(offer);
        let record = CallRecord {
            id: id.clone(),
            node: node.to_owned(),
            controller: None,
            offered: chosen.clone(),
            passed: Vec::new(),
            offer: Some(offer.clone()),
            application: Some(app.name.clone()),
        };
        if let Err(e) = self.store.insert_call(record) {
            tracing::warn!(%e, id, "offered call not recorded: rejected");
            return self.reject(now, node, call, "error");
        }
        self.send_offer(now, &id, 0, &offer, &chosen);
    }

    /// The clients of `app` to offer a call to next, none of `exclude`: each full JID of its
    /// clients if available, and for each bare JID its available resources narrowed by that
    /// JID's routing algorithm (XEP-0354, see [`crate::cmr`]), by default the application's.
    fn choose(&mut self, app: &Application, exclude: &[Jid]) -> Vec<Jid> {
        let mut out: Vec<Jid> = Vec::new();
        for entry in &app.clients {
            let mut resources = self.available_clients(std::slice::from_ref(entry));
            resources.retain(|c| !exclude.contains(c) && !out.contains(c));
            if entry.resource().is_some() || resources.is_empty() {
                out.extend(resources);
                continue;
            }
            let bare = entry.to_bare();
            let algorithm = self.store.routing(&bare).ok().flatten();
            match algorithm.unwrap_or(app.distribution) {
                Distribution::All => out.extend(resources),
                d => {
                    let pool = format!("cmr:{bare}");
                    let turn = self.store.next_round_robin(&pool).unwrap_or(0);
                    out.extend(self.one_of(d, &bare, resources, turn));
                }
            }
        }
        out
    }

    /// The one resource (of several, available) a balancing algorithm picks at this turn.
    pub(crate) fn one_of(
        &self,
        d: Distribution,
        bare: &jid::BareJid,
        resources: Vec<Jid>,
        turn: u64,
    ) -> Option<Jid> {
        let records = self.store.clients_of(bare).unwrap_or_default();
        let priority = |j: &Jid| {
            records
                .iter()
                .find(|r| r.jid == *j)
                .map_or(0, |r| r.priority)
        };
        let fallback = resources.first().cloned();
        match d {
            Distribution::MostActive => {
                let seen = |j: &Jid| self.client_links.get(j).map(|(_, t)| *t);
                resources.into_iter().max_by_key(|j| (seen(j), priority(j)))
            }
            Distribution::Weighted => {
                let weights: Vec<u64> = resources
                    .iter()
                    .map(|j| u64::from(priority(j).max(1).unsigned_abs()))
                    .collect();
                let mut at = turn % weights.iter().sum::<u64>().max(1);
                for (j, w) in resources.iter().zip(weights) {
                    if at < w {
                        return Some(j.clone());
                    }
                    at -= w;
                }
                fallback
            }
            _ => {
                let at = usize::try_from(turn % resources.len() as u64).unwrap_or(0);
                resources.get(at).cloned().or(fallback)
            }
        }
    }

    /// Sends the offer of call `id` to `to`, and starts the round's timer.
    fn send_offer(&mut self, now: Instant, id: &str, round: usize, offer: &Element, to: &[Jid]) {
        let Ok(from) = Jid::new(&format!("{id}@{}", self.cfg.domains.external())) else {
            return;
        };
        for client in to {
            let mut s = offer.clone();
            envelope::address(&mut s, &from, client);
            self.send_to_client(client, s);
        }
        if let Some(t) = self.cfg.offer_timeout {
            self.timers
                .insert((now + t, Timer::Offer(id.to_owned(), round)));
        }
    }

    /// An offer round expired: the call moves on to the next clients, or is rejected.
    pub(crate) fn offer_expired(&mut self, now: Instant, id: &str, round: usize) {
        let call = match self.store.call(id) {
            Ok(Some(c)) if c.controller.is_none() && c.passed.len() == round => c,
            _ => return,
        };
        let Ok(from) = Jid::new(&format!("{id}@{}", self.cfg.domains.external())) else {
            return;
        };
        for client in &call.offered {
            let end = Element::builder("end", rayo_proto::ns::RAYO)
                .append(Element::builder("timeout", rayo_proto::ns::RAYO).build())
                .build();
            self.send_unavailable(&from, client, Some(end));
        }
        let app = call
            .application
            .as_deref()
            .and_then(|a| self.cfg.applications.iter().find(|x| x.name == a))
            .cloned();
        let mut exclude = call.passed.clone();
        exclude.extend(call.offered.iter().cloned());
        let next = match (&app, &call.offer) {
            (Some(app), Some(_)) => self.choose(app, &exclude),
            _ => Vec::new(),
        };
        match self.store.move_offer(id, next.clone()) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(%e, id, "offer not moved"),
        }
        let node_call = Jid::new(&format!("{id}@{}", call.node));
        match (next.is_empty(), call.offer, node_call) {
            (false, Some(offer), _) => {
                let round = exclude.len();
                self.send_offer(now, id, round, &offer, &next);
            }
            (_, _, Ok(node_call)) => {
                tracing::info!(id, "offer timed out with nobody left: rejected");
                self.reject(now, &call.node, &node_call, "error");
            }
            _ => {}
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
