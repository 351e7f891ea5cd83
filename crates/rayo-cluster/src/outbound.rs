//! Outbound calls (XEP-0349 §4.1, §4.2, §4.3): a client's `<dial/>` to the external domain
//! goes to a node in rotation, by round robin (the spec's MUST; weighted and least-active
//! too, [`crate::Balance`]), or to the node holding the
//! call or mixer its nested `<join/>` names. A node answering `service-unavailable`,
//! `internal-server-error` or `remote-server-timeout`, not answering within
//! [`crate::Config::dial_timeout`], or lost meanwhile, gets the dial retried on another node,
//! up to [`crate::Config::max_dial_tries`] nodes. The `<ref/>` that comes back names the call
//! under the external domain, and the call is the dialler's.

use std::time::Instant;

use jid::Jid;
use minidom::Element;

use crate::config::{Application, Balance};
use crate::envelope;
use crate::gateway::Gateway;
use crate::link::{Admitted, LinkId, Refusal, Side};
use crate::pending::{PendingIq, Purpose};
use crate::store::{CallRecord, Store};

const SECOND: std::time::Duration = std::time::Duration::from_secs(1);

/// The errors after which a dial is tried on another node.
const RETRIED: [&str; 3] = [
    "service-unavailable",
    "internal-server-error",
    "remote-server-timeout",
];

impl<S: Store> Gateway<S> {
    /// A `<dial/>` from a client.
    pub(crate) fn dial(&mut self, now: Instant, link: LinkId, adm: &Admitted, st: Element) {
        let app = match self.cfg.application_of(&adm.from) {
            Some(a) if a.may_dial => a.clone(),
            _ => return self.refuse(link, Side::External, &st, Refusal::DialNotAllowed),
        };
        if let Err(why) = self.dial_allowed(now, &app) {
            return self.refuse(link, Side::External, &st, why);
        }
        if self.draining {
            return self.refuse(link, Side::External, &st, Refusal::NoNode);
        }
        let Some(mut request) = envelope::payload(&st).cloned() else {
            return;
        };
        if let Err(why) = self.tenant_payload(&mut request, &adm.from) {
            return self.refuse(link, Side::External, &st, why);
        }
        let purpose = Purpose::Dial {
            request: request.clone(),
            tried: Vec::new(),
        };
        let id = st.attr("id").unwrap_or_default();
        let p = PendingIq::for_client(adm.from.clone(), id, adm.to.clone(), purpose, now);
        if let Err(why) = self.try_dial(now, p, request, Vec::new()) {
            self.refuse(link, Side::External, &st, why);
        }
    }

    /// An application's calls, with its dials in flight (a store failure counts as full).
    pub(crate) fn app_load(&self, app: &Application) -> usize {
        let in_flight = self.pending.dials_of(&|c| app.has_client(c));
        self.store
            .count_calls(&app.name)
            .map_or(usize::MAX, |n| n + in_flight)
    }

    /// Whether the application is within its limits for one more dial (and counts it).
    fn dial_allowed(&mut self, now: Instant, app: &Application) -> Result<(), Refusal> {
        if app.max_calls.is_some_and(|max| self.app_load(app) >= max) {
            return Err(Refusal::Limit("the application's concurrent calls"));
        }
        if let Some(max) = app.max_dials_per_second {
            if self.dial_rates.len() >= self.cfg.applications.len() {
                self.dial_rates
                    .retain(|_, (start, _)| now.duration_since(*start) < SECOND);
            }
            let (start, count) = self.dial_rates.entry(app.name.clone()).or_insert((now, 0));
            if now.duration_since(*start) >= SECOND {
                (*start, *count) = (now, 0);
            }
            if *count >= max {
                return Err(Refusal::Limit("the application's dials per second"));
            }
            *count += 1;
        }
        Ok(())
    }

    /// The node a dial's nested join pins it to, if any.
    fn pinned_node(&self, request: &Element) -> Option<String> {
        request
            .children()
            .filter(|j| j.is("join", rayo_proto::ns::RAYO))
            .find_map(|j| {
                let id = match (j.attr("call-uri"), j.attr("mixer-name")) {
                    (Some(uri), _) => rayo_proto::address::jid_from_uri(uri)
                        .ok()?
                        .node()?
                        .as_str()
                        .to_owned(),
                    (None, Some(name)) => name.to_owned(),
                    (None, None) => return None,
                };
                self.locate(&id)
            })
    }

    /// The node a dial goes to among `nodes`, by the configured [`Balance`].
    fn pick_node(&mut self, mut nodes: Vec<String>) -> Result<String, Refusal> {
        match self.cfg.balance {
            Balance::RoundRobin => {}
            Balance::Weighted => {
                // Node i owns `weight(i)` consecutive turns of each cycle.
                let weights: Vec<u64> = nodes
                    .iter()
                    .map(|n| u64::from(self.cfg.weight_of(n)))
                    .collect();
                let total: u64 = weights.iter().sum();
                if total == 0 {
                    return Err(Refusal::NoNode);
                }
                let mut turn = self.store.next_round_robin("dial")? % total;
                for (n, w) in nodes.iter().zip(weights) {
                    if turn < w {
                        return Ok(n.clone());
                    }
                    turn -= w;
                }
            }
            Balance::LeastActive => {
                let load = |gw: &Self, n: &str| {
                    let calls = gw.store.calls_on(n).map_or(usize::MAX, |c| c.len());
                    calls.saturating_add(gw.pending.dials_at(n))
                };
                let least = nodes.iter().map(|n| load(self, n)).min();
                nodes.retain(|n| Some(load(self, n)) == least);
            }
        }
        if nodes.is_empty() {
            return Err(Refusal::NoNode);
        }
        let turn = self.store.next_round_robin("dial")?;
        let at = usize::try_from(turn % nodes.len() as u64).unwrap_or(0);
        nodes.get(at).cloned().ok_or(Refusal::NoNode)
    }

    /// Sends the dial to the next node: pinned, or the next in rotation not tried yet.
    fn try_dial(
        &mut self,
        now: Instant,
        mut p: PendingIq,
        request: Element,
        mut tried: Vec<String>,
    ) -> Result<(), Refusal> {
        let node = match self.pinned_node(&request) {
            Some(n) if tried.is_empty() => n,
            Some(_) => return Err(Refusal::NoNode),
            None => {
                let nodes: Vec<String> = self
                    .rotation()
                    .into_iter()
                    .filter(|n| !tried.contains(n))
                    .collect();
                self.pick_node(nodes)?
            }
        };
        let node_jid = Jid::new(&node).map_err(|_| Refusal::NoRoute(node.clone()))?;
        let mut payload = request.clone();
        self.inward(&mut payload, &node_jid)?;
        if let Some(client) = p.client.clone() {
            self.note_mixer_join(&payload, &node, &client)?;
        }
        tried.push(node.clone());
        p.purpose = Purpose::Dial { request, tried };
        let timeout = self.cfg.dial_timeout;
        self.iq_to_node(now, &node, node_jid.as_str(), "set", payload, p, timeout)
    }

    /// A node answered a dial, or did not in time.
    pub(crate) fn dial_answered(
        &mut self,
        now: Instant,
        p: PendingIq,
        request: Element,
        tried: Vec<String>,
        answer: Option<Element>,
    ) {
        let Some(client) = p.client.clone() else {
            return;
        };
        let node = tried.last().cloned().unwrap_or_default();
        let retry = match &answer {
            None => true,
            Some(a) if a.attr("type") == Some("error") => {
                envelope::error_condition(a).is_some_and(|c| RETRIED.contains(&c.as_str()))
            }
            Some(_) => false,
        };
        self.dial_outcome(&node, !retry);
        if retry && tried.len() < self.cfg.max_dial_tries {
            tracing::info!(node, tries = tried.len(), "dial retried on another node");
            match self.try_dial(now, p.clone(), request, tried) {
                Ok(()) => return,
                Err(why) => tracing::info!(%why, "no other node for the dial"),
            }
        }
        let reply = match answer {
            Some(mut a) => {
                if a.attr("type") == Some("result") {
                    self.dialled(&a, &node, &client);
                }
                self.outward(&mut a);
                a
            }
            None => self.timeout_error(&p),
        };
        self.reply_to_client(&p, &client, reply);
    }

    /// Records the call a dial made as the dialler's.
    fn dialled(&mut self, result: &Element, node: &str, client: &Jid) {
        let id = result
            .get_child("ref", rayo_proto::ns::RAYO)
            .and_then(|r| r.attr("uri"))
            .and_then(|u| rayo_proto::address::jid_from_uri(u).ok())
            .and_then(|j| j.node().map(|n| n.as_str().to_owned()));
        let Some(id) = id else {
            return tracing::warn!(node, "a dial result without a call ref");
        };
        let record = CallRecord {
            id,
            node: node.to_owned(),
            controller: Some(client.clone()),
            offered: Vec::new(),
            passed: Vec::new(),
            offer: None,
            application: self.cfg.application_of(client).map(|a| a.name.clone()),
        };
        match self.store.insert_call(record) {
            Ok(true) => {}
            Ok(false) => tracing::warn!(node, "a dialled call's id is taken"),
            Err(e) => tracing::error!(%e, node, "a dialled call not recorded"),
        }
    }
}
