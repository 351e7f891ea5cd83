//! Client registration and inbound offers (XEP-0327 §6.1, §6.2.2), with XEP-0354's
//! distribution algorithms.

use std::time::{Duration, Instant};

use jid::Jid;
use rayo_proto::address::uri_for;
use rayo_proto::event::Event;
use rayo_proto::generated::rayo::{EndReason, Header, Offer};
use xmpp_parsers::presence::{Presence, Show, Type as PresenceType};

use crate::engine::Engine;
use crate::policy::Policy;
use crate::signal::{RejectCause, SignalAction};
use crate::state::{Call, CallState, OfferState};
use crate::timers::Timer;
use crate::CallId;

/// A potential controlling party a route selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The client.
    pub jid: Jid,
    /// Index of the route target that named it.
    pub target: usize,
    /// When it last said it was available.
    pub since: Instant,
}

/// How to offer a call to the candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// All at once.
    Simultaneous(Vec<Jid>),
    /// One at a time, in this order, moving on at each offer timeout.
    Staged(Vec<Jid>),
}

/// A distribution algorithm: orders the candidates of one call. Implementations keep their
/// own state across calls (a round-robin position, weights).
pub trait Distribution: Send {
    /// The plan for a call, from its candidates (never empty).
    fn plan(&mut self, candidates: Vec<Candidate>) -> Plan;
}

/// XEP-0354 `all`: every candidate at once.
#[derive(Debug, Default, Clone)]
pub struct All;

impl Distribution for All {
    fn plan(&mut self, candidates: Vec<Candidate>) -> Plan {
        Plan::Simultaneous(candidates.into_iter().map(|c| c.jid).collect())
    }
}

/// XEP-0354 `mostactive`: the most recently available candidate first, then the others.
#[derive(Debug, Default, Clone)]
pub struct MostActive;

impl Distribution for MostActive {
    fn plan(&mut self, mut candidates: Vec<Candidate>) -> Plan {
        candidates.sort_by_key(|c| std::cmp::Reverse(c.since));
        Plan::Staged(candidates.into_iter().map(|c| c.jid).collect())
    }
}

/// XEP-0354 `roundrobin`: each call starts one candidate further than the previous one.
#[derive(Debug, Default, Clone)]
pub struct RoundRobin {
    next: usize,
}

impl Distribution for RoundRobin {
    fn plan(&mut self, candidates: Vec<Candidate>) -> Plan {
        let n = candidates.len().max(1);
        let start = self.next % n;
        self.next = self.next.wrapping_add(1);
        let mut v: Vec<Jid> = candidates.into_iter().map(|c| c.jid).collect();
        v.rotate_left(start);
        Plan::Staged(v)
    }
}

/// XEP-0354 `weighted`: candidates are chosen in proportion to the weight of the route
/// target that named them (smooth weighted round robin, deterministic); the others follow.
#[derive(Debug, Default, Clone)]
pub struct Weighted {
    weights: Vec<i64>,
    current: Vec<i64>,
}

impl Weighted {
    /// Weights by route target index (a missing weight counts as 1).
    pub fn new(weights: Vec<u32>) -> Self {
        let weights: Vec<i64> = weights.into_iter().map(i64::from).collect();
        let current = vec![0; weights.len()];
        Weighted { weights, current }
    }

    fn weight(&self, target: usize) -> i64 {
        self.weights.get(target).copied().unwrap_or(1)
    }
}

impl Distribution for Weighted {
    fn plan(&mut self, candidates: Vec<Candidate>) -> Plan {
        let max_target = candidates.iter().map(|c| c.target).max().unwrap_or(0);
        if self.current.len() <= max_target {
            self.current.resize(max_target + 1, 0);
        }
        let mut targets: Vec<usize> = candidates.iter().map(|c| c.target).collect();
        targets.sort_unstable();
        targets.dedup();
        let total: i64 = targets.iter().map(|t| self.weight(*t)).sum();
        for t in &targets {
            self.current[*t] += self.weight(*t);
        }
        let chosen = targets
            .iter()
            .copied()
            .max_by_key(|t| (self.current[*t], std::cmp::Reverse(*t)))
            .unwrap_or(0);
        self.current[chosen] -= total;
        let mut order: Vec<Candidate> = candidates;
        order.sort_by_key(|c| {
            (
                c.target != chosen,
                std::cmp::Reverse(self.weight(c.target)),
                c.target,
            )
        });
        Plan::Staged(order.into_iter().map(|c| c.jid).collect())
    }
}

/// An inbound routing rule.
pub struct Route {
    /// The called URI pattern: `*` matches any run of characters (`tel:+1800*`, `*`).
    pub pattern: String,
    /// The clients to offer calls to: full JIDs, or bare JIDs standing for all their
    /// available resources.
    pub targets: Vec<Jid>,
    /// How to offer.
    pub distribution: Box<dyn Distribution>,
    /// How long an offer round waits before moving on (`None`: the engine's
    /// [`Config::default_offer_timeout`](crate::Config::default_offer_timeout)).
    pub offer_timeout: Option<Duration>,
}

impl Route {
    /// A route offering every matching call to `targets` with `distribution`.
    pub fn new(pattern: &str, targets: Vec<Jid>, distribution: Box<dyn Distribution>) -> Self {
        Route {
            pattern: pattern.to_owned(),
            targets,
            distribution,
            offer_timeout: None,
        }
    }

    /// Sets the offer timeout.
    pub fn with_offer_timeout(mut self, t: Duration) -> Self {
        self.offer_timeout = Some(t);
        self
    }

    /// Whether the called URI matches the pattern.
    pub fn matches(&self, called: &str) -> bool {
        glob(self.pattern.as_bytes(), called.as_bytes())
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (`tel:+1800*`).
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    glob(pattern.as_bytes(), text.as_bytes())
}

/// `*`-only glob matching, iterative (no exponential blow-up on hostile input).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

impl<P: Policy> Engine<P> {
    /// A presence from a client (§6.1): `chat` makes it a PCP; anything else withdraws it,
    /// which may move or withdraw the offers it holds.
    pub(crate) fn handle_presence(&mut self, now: Instant, p: Presence) {
        let Some(from) = p.from.clone() else { return };
        let to_service = p.to.as_ref().is_some_and(|to| {
            to.node().is_none() && *to.domain() == **self.cfg.addressing.service()
        });
        if !to_service {
            if let Some(to) = p.to.clone() {
                self.mixer_subscription(&from, &to, p.type_);
            }
            return;
        }
        let chat = match p.type_ {
            PresenceType::None => p.show == Some(Show::Chat),
            PresenceType::Unavailable => false,
            _ => return,
        };
        self.clients.set(&from, chat, now);
        if !chat {
            self.pcp_gone(now, &from);
        }
        if p.type_ == PresenceType::Unavailable {
            self.dcp_gone(now, &from);
        } else {
            self.gone.remove(&from);
        }
    }

    /// A controlling party went unavailable: unless it comes back within
    /// [`Config::orphan_grace`](crate::Config::orphan_grace), its calls are hung up.
    fn dcp_gone(&mut self, now: Instant, jid: &Jid) {
        let Some(grace) = self.cfg.orphan_grace else {
            return;
        };
        let orphans: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.dcp.as_ref() == Some(jid))
            .map(|(id, _)| id.clone())
            .collect();
        if orphans.is_empty() {
            return;
        }
        self.gone.insert(jid.clone());
        for id in orphans {
            self.set_timer(Self::after(now, grace), Timer::Orphaned(id));
        }
    }

    /// The grace of a call whose controlling party went away passed: if it has not come
    /// back, the call is hung up and ends with `error` for whoever else follows it.
    pub(crate) fn orphan_expired(&mut self, id: CallId) {
        let Some(dcp) = self.calls.get(&id).and_then(|c| c.dcp.clone()) else {
            return;
        };
        if self.gone.contains(&dcp) {
            // end_call forgets the party once no call of its is left.
            self.stop_call_media(&id);
            self.signal(SignalAction::Hangup {
                call: id.clone(),
                headers: Vec::new(),
            });
            self.end_call(
                &id,
                EndReason::Error {
                    platform_code: None,
                },
                Vec::new(),
            );
        }
    }

    /// A PCP went away: it no longer holds offers; calls left with nobody move on or are
    /// rejected as if no PCP had been available (§6.2.2).
    fn pcp_gone(&mut self, now: Instant, jid: &Jid) {
        let affected: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.offer.as_ref().is_some_and(|o| o.current.contains(jid)))
            .map(|(id, _)| id.clone())
            .collect();
        for id in affected {
            let empty = match self.calls.get_mut(&id).and_then(|c| c.offer.as_mut()) {
                Some(o) => {
                    o.current.retain(|j| j != jid);
                    o.next.retain(|j| j != jid);
                    o.current.is_empty()
                }
                None => false,
            };
            if empty {
                self.next_offer_round(
                    now,
                    id,
                    EndReason::Error {
                        platform_code: None,
                    },
                );
            }
        }
    }

    /// A new inbound call: offer it to the PCPs its route selects, or reject it.
    pub(crate) fn incoming(
        &mut self,
        now: Instant,
        id: CallId,
        to: String,
        from: Option<String>,
        headers: Vec<Header>,
        early_media: bool,
    ) {
        if self.calls.contains_key(&id) {
            return;
        }
        // The id is the node of the call's JID: it must already be in its normalised form
        // (as `allocate_call_id` makes them), or commands to the JID could not find it.
        let normal = jid::NodePart::new(&id.0).is_ok_and(|n| n.as_str() == id.0);
        let jid = if normal { self.call_bare(&id) } else { None };
        let Some(jid) = jid else {
            self.signal(SignalAction::Reject {
                call: id,
                cause: RejectCause::Error,
                headers: Vec::new(),
            });
            return;
        };
        let route = self.cfg.routes.iter().position(|r| r.matches(&to));
        let plan = route.and_then(|r| {
            let mut candidates = Vec::new();
            for (i, target) in self.cfg.routes[r].targets.iter().enumerate() {
                for j in self.clients.matching(target) {
                    if !candidates.iter().any(|c: &Candidate| c.jid == j) {
                        let since = self.clients.since(&j).unwrap_or(now);
                        candidates.push(Candidate {
                            jid: j,
                            target: i,
                            since,
                        });
                    }
                }
            }
            (!candidates.is_empty()).then(|| (r, self.cfg.routes[r].distribution.plan(candidates)))
        });
        let Some((route, plan)) = plan else {
            // §6.2.2: "If ... the set of Potentially Controlling Parties is empty, the
            // server MUST reject the call indicating that the requested service was
            // unavailable."
            self.signal(SignalAction::Reject {
                call: id,
                cause: RejectCause::ServiceUnavailable,
                headers: Vec::new(),
            });
            return;
        };
        let (current, next) = match plan {
            Plan::Simultaneous(all) => (all, Vec::new()),
            Plan::Staged(mut order) => {
                let rest = order.split_off(1.min(order.len()));
                (order, rest)
            }
        };
        let offer = Offer { to, from, headers };
        let call = Call {
            jid,
            inbound: true,
            state: CallState::Offered,
            dcp: None,
            interested: Vec::new(),
            presence_sent: Default::default(),
            offer: Some(OfferState {
                route,
                current: Vec::new(),
                next,
                round: 0,
            }),
            early_media_possible: early_media,
            early_media_on: false,
            components: Default::default(),
            pending_joins: Vec::new(),
        };
        self.calls.insert(id.clone(), call);
        self.offers.insert(id.clone(), offer);
        self.offer_round(now, &id, current);
    }

    /// Offers the call to `pcps` and arms the round's timer.
    fn offer_round(&mut self, now: Instant, id: &CallId, pcps: Vec<Jid>) {
        let Some(offer) = self.offers.get(id).cloned() else {
            return;
        };
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(state) = call.offer.as_mut() else {
            return;
        };
        state.round += 1;
        state.current = pcps.clone();
        let (round, route) = (state.round, state.route);
        for pcp in &pcps {
            call.interest(pcp);
        }
        for pcp in pcps {
            self.call_event(id, &pcp, Event::Offer(offer.clone()));
        }
        let timeout = match self.cfg.routes.get(route) {
            Some(r) => r.offer_timeout.or(self.cfg.default_offer_timeout),
            None => self.cfg.default_offer_timeout,
        };
        if let Some(t) = timeout {
            self.set_timer(Self::after(now, t), Timer::Offer(id.clone(), round));
        }
    }

    /// The round's PCPs did not answer in time.
    pub(crate) fn offer_expired(&mut self, now: Instant, id: CallId, round: u64) {
        let current = self
            .calls
            .get(&id)
            .and_then(|c| c.offer.as_ref())
            .is_some_and(|o| o.round == round);
        if current {
            self.next_offer_round(
                now,
                id,
                EndReason::Timeout {
                    platform_code: None,
                },
            );
        }
    }

    /// Offers the call to the next staged PCP still available, or rejects it as service
    /// unavailable and ends it with `reason` for those it was offered to.
    fn next_offer_round(&mut self, now: Instant, id: CallId, reason: EndReason) {
        let next = loop {
            let Some(o) = self.calls.get_mut(&id).and_then(|c| c.offer.as_mut()) else {
                return;
            };
            if o.next.is_empty() {
                break None;
            }
            let j = o.next.remove(0);
            if self.clients.is_available(&j) {
                break Some(j);
            }
        };
        match next {
            Some(j) => self.offer_round(now, &id, vec![j]),
            None => {
                self.signal(SignalAction::Reject {
                    call: id.clone(),
                    cause: RejectCause::ServiceUnavailable,
                    headers: Vec::new(),
                });
                self.end_call(&id, reason, Vec::new());
            }
        }
    }

    /// Sends a call's event to `to`; the offer carries the call's caps (§6.2.2: "The server
    /// MUST also include entity capabilities information in the presence stanza containing
    /// the offer"). Other events go without, as examples 22, 23 and 28 show them.
    pub(crate) fn call_event(&mut self, id: &CallId, to: &Jid, event: Event) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let first = matches!(event, Event::Offer(_)) && call.presence_sent.insert(to.clone());
        let from = call.jid.clone();
        let caps = first.then(|| self.call_caps.clone());
        self.send_event(from.into(), to.clone(), event, caps);
    }

    /// The `xmpp:` URI of a call.
    pub(crate) fn call_uri(&self, id: &CallId) -> Option<String> {
        self.calls.get(id).map(|c| uri_for(&c.jid.clone().into()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn c(j: &str, target: usize, secs: u64, base: Instant) -> Candidate {
        Candidate {
            jid: Jid::new(j).expect("jid"),
            target,
            since: base + Duration::from_secs(secs),
        }
    }

    #[test]
    fn glob_patterns() {
        assert!(glob(b"*", b"tel:+1800"));
        assert!(glob(b"tel:+1800*", b"tel:+18003211212"));
        assert!(!glob(b"tel:+1800*", b"tel:+1900"));
        assert!(glob(b"sip:*@example.com", b"sip:bob@example.com"));
        assert!(glob(b"exact", b"exact"));
        assert!(!glob(b"exact", b"exactly"));
    }

    #[test]
    fn round_robin_rotates() {
        let base = Instant::now();
        let mut rr = RoundRobin::default();
        let cands = || vec![c("a@x/1", 0, 0, base), c("b@x/1", 0, 0, base)];
        let first = |p: Plan| match p {
            Plan::Staged(v) => v[0].to_string(),
            Plan::Simultaneous(_) => String::new(),
        };
        assert_eq!(first(rr.plan(cands())), "a@x/1");
        assert_eq!(first(rr.plan(cands())), "b@x/1");
        assert_eq!(first(rr.plan(cands())), "a@x/1");
    }

    #[test]
    fn most_active_first() {
        let base = Instant::now();
        let p = MostActive.plan(vec![c("a@x/1", 0, 1, base), c("b@x/1", 0, 5, base)]);
        assert_eq!(
            p,
            Plan::Staged(vec![
                Jid::new("b@x/1").expect("jid"),
                Jid::new("a@x/1").expect("jid")
            ])
        );
    }

    #[test]
    fn weighted_in_proportion() {
        let base = Instant::now();
        let mut w = Weighted::new(vec![3, 1]);
        let mut counts = [0; 2];
        for _ in 0..40 {
            let Plan::Staged(v) = w.plan(vec![c("a@x/1", 0, 0, base), c("b@x/1", 1, 0, base)])
            else {
                unreachable!()
            };
            counts[usize::from(v[0].to_string() != "a@x/1")] += 1;
        }
        assert_eq!(counts, [30, 10]);
    }
}
