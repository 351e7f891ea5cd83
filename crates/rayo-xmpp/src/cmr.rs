//! Customizable message routing (XEP-0354) for the clients of the c2s listener, sans-IO: a
//! client asks which algorithm governs messages to its bare JID and which are available
//! (`<query xmlns='urn:xmpp:cmr:0'/>`, get), and chooses one for all its resources (`<cmr
//! algorithm='…'/>`, set). The router then delivers a message of type `normal` or `chat`
//! addressed to a bare JID with several resources bound by that algorithm: to all of them
//! (`urn:xmpp:cmr:all`, the default), to the one that sent something last
//! (`mostactive`), to each in turn (`roundrobin`), or in proportion to their presence
//! priority (`weighted`, a priority below 1 counting as 1), among the resources whose
//! presence priority is not negative (RFC 6121 §8.5.2.1.1). A message may carry its own
//! choice (`<cmr algorithm='…'/>`, a routing hint, `urn:xmpp:cmr:hints:0`). Other stanzas
//! are not affected.
//!
//! In component mode the node's bots are users of another server, which routes their
//! messages: the node then does not advertise `urn:xmpp:cmr:0`.

use std::collections::HashMap;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use rayo_proto::ns;

use crate::router::error_reply;
use crate::xml::{self, JABBER_CLIENT};

/// A message routing algorithm of XEP-0354.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// `urn:xmpp:cmr:all`: every resource.
    #[default]
    All,
    /// `urn:xmpp:cmr:mostactive`: the resource that sent a stanza most recently.
    MostActive,
    /// `urn:xmpp:cmr:roundrobin`: each resource in turn.
    RoundRobin,
    /// `urn:xmpp:cmr:weighted`: each resource as often as its presence priority.
    Weighted,
}

impl Algorithm {
    /// Every algorithm, as [`Algorithm::uri`] names them.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::All,
        Algorithm::MostActive,
        Algorithm::RoundRobin,
        Algorithm::Weighted,
    ];

    /// The XEP-0354 URI.
    pub fn uri(self) -> &'static str {
        match self {
            Algorithm::All => "urn:xmpp:cmr:all",
            Algorithm::MostActive => "urn:xmpp:cmr:mostactive",
            Algorithm::RoundRobin => "urn:xmpp:cmr:roundrobin",
            Algorithm::Weighted => "urn:xmpp:cmr:weighted",
        }
    }

    /// The algorithm a URI names, if it is one of the four.
    pub fn from_uri(uri: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.uri() == uri)
    }
}

/// Whether an IQ's payload is XEP-0354's.
pub fn is_request(iq: &Element) -> bool {
    iq.name() == "iq"
        && iq
            .children()
            .next()
            .is_some_and(|p| p.is("query", ns::CMR) || p.is("cmr", ns::CMR))
}

/// The routing hint of a message (XEP-0354 §5): its `<cmr algorithm='…'/>`, if it names one
/// of the four.
pub fn hint(message: &Element) -> Option<Algorithm> {
    message
        .get_child("cmr", ns::CMR)
        .and_then(|c| c.attr("algorithm"))
        .and_then(Algorithm::from_uri)
}

/// The service's disco#info for how it is reached: on the c2s listener, XEP-0354 and its
/// hints; in component mode neither (the server the bots use routes their messages).
pub fn service_info(
    mut info: xmpp_parsers::disco::DiscoInfoResult,
    mode: crate::router::Mode,
) -> xmpp_parsers::disco::DiscoInfoResult {
    match mode {
        crate::router::Mode::C2s => {
            info.features.insert(ns::CMR.to_owned());
            info.features.insert(HINTS.to_owned());
        }
        crate::router::Mode::Component => {
            info.features.remove(ns::CMR);
            info.features.remove(HINTS);
        }
    }
    info
}

/// The disco feature of routing hints.
pub const HINTS: &str = "urn:xmpp:cmr:hints:0";

/// Whether a stanza is a message the algorithms govern (type `normal`, absent, or `chat`).
pub fn is_routed_message(stanza: &Element) -> bool {
    stanza.name() == "message" && matches!(stanza.attr("type"), None | Some("normal" | "chat"))
}

/// The routing choices of the listener's clients and what the algorithms need to know.
#[derive(Debug, Default)]
pub struct MessageRouting {
    chosen: HashMap<BareJid, Algorithm>,
    turns: HashMap<BareJid, u64>,
    seq: u64,
    last_sent: HashMap<FullJid, u64>,
    priority: HashMap<FullJid, i8>,
}

impl MessageRouting {
    /// The algorithm active for `bare`.
    pub fn algorithm(&self, bare: &BareJid) -> Algorithm {
        self.chosen.get(bare).copied().unwrap_or_default()
    }

    /// A stanza a bound client sent: it is the most active of its JID now, and a presence
    /// tells its priority.
    pub fn saw(&mut self, from: &FullJid, stanza: &Element) {
        self.seq += 1;
        self.last_sent.insert(from.clone(), self.seq);
        if stanza.name() == "presence" && stanza.attr("type").is_none() {
            let p = stanza
                .get_child("priority", JABBER_CLIENT)
                .and_then(|p| p.text().trim().parse::<i8>().ok())
                .unwrap_or(0);
            self.priority.insert(from.clone(), p);
        }
    }

    /// A session ended.
    pub fn forget(&mut self, jid: &FullJid) {
        self.last_sent.remove(jid);
        self.priority.remove(jid);
        let bare = jid.to_bare();
        if !self.last_sent.keys().any(|j| j.to_bare() == bare) {
            self.turns.remove(&bare);
        }
    }

    /// Which of `resources` (the bound resources of `bare`, in a stable order) a message to
    /// `bare` goes to, by its `hint` if it has one, else by the JID's algorithm. Resources
    /// with a negative presence priority get none (RFC 6121 §8.5.2.1.1).
    pub fn pick(
        &mut self,
        bare: &BareJid,
        resources: &[FullJid],
        hint: Option<Algorithm>,
    ) -> Vec<FullJid> {
        let resources: Vec<FullJid> = resources
            .iter()
            .filter(|r| self.priority.get(*r).copied().unwrap_or(0) >= 0)
            .cloned()
            .collect();
        if resources.len() < 2 {
            return resources;
        }
        let one = |i: usize| vec![resources[i % resources.len()].clone()];
        match hint.unwrap_or_else(|| self.algorithm(bare)) {
            Algorithm::All => resources,
            Algorithm::MostActive => {
                let best = resources
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, r)| self.last_sent.get(*r).copied().unwrap_or(0))
                    .map_or(0, |(i, _)| i);
                one(best)
            }
            Algorithm::RoundRobin => one(self.turn(bare) as usize),
            Algorithm::Weighted => {
                let weights: Vec<u64> = resources
                    .iter()
                    .map(|r| u64::from(self.priority.get(r).copied().unwrap_or(0).max(1) as u8))
                    .collect();
                let total: u64 = weights.iter().sum();
                let mut at = self.turn(bare) % total.max(1);
                let mut i = 0;
                while i + 1 < weights.len() && at >= weights[i] {
                    at -= weights[i];
                    i += 1;
                }
                one(i)
            }
        }
    }

    fn turn(&mut self, bare: &BareJid) -> u64 {
        let t = self.turns.entry(bare.clone()).or_insert(0);
        let now = *t;
        *t += 1;
        now
    }

    /// The answer to a XEP-0354 request ([`is_request`]) from `from` to `service`.
    pub fn answer(&mut self, from: &Jid, service: &str, req: &Element) -> Element {
        let bare = from.to_bare();
        let payload = req.children().next();
        let (f, t) = (from.to_string(), service);
        match (req.attr("type"), payload) {
            (Some("get"), Some(q)) if q.name() == "query" => {
                let mut query = Element::bare("query", ns::CMR);
                query.append_child(algorithm("active", self.algorithm(&bare)));
                for a in Algorithm::ALL {
                    query.append_child(algorithm("available", a));
                }
                result(req, t, &f, Some(query))
            }
            (Some("set"), Some(c)) if c.name() == "cmr" => {
                match c.attr("algorithm").and_then(Algorithm::from_uri) {
                    Some(a) => {
                        self.chosen.insert(bare, a);
                        result(req, t, &f, None)
                    }
                    None => error_reply(req, &f, t, "cancel", "not-allowed"),
                }
            }
            _ => error_reply(req, &f, t, "modify", "bad-request"),
        }
    }
}

fn algorithm(element: &str, a: Algorithm) -> Element {
    let mut e = Element::bare(element, ns::CMR);
    xml::set_attr(&mut e, "algorithm", a.uri());
    e
}

fn result(req: &Element, from: &str, to: &str, payload: Option<Element>) -> Element {
    let mut iq = Element::bare("iq", JABBER_CLIENT);
    xml::set_attr(&mut iq, "type", "result");
    xml::set_attr(&mut iq, "id", req.attr("id").unwrap_or_default());
    xml::set_attr(&mut iq, "from", from);
    xml::set_attr(&mut iq, "to", to);
    if let Some(p) = payload {
        iq.append_child(p);
    }
    iq
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn full(s: &str) -> FullJid {
        FullJid::new(s).expect("jid")
    }

    #[test]
    fn each_algorithm_picks_as_it_says() {
        let mut r = MessageRouting::default();
        let bare = BareJid::new("bot@localhost").expect("jid");
        let res: Vec<FullJid> = ["a", "b", "c"]
            .iter()
            .map(|x| full(&format!("bot@localhost/{x}")))
            .collect();
        assert_eq!(r.pick(&bare, &res, None), res, "all by default");
        r.chosen.insert(bare.clone(), Algorithm::RoundRobin);
        let turns: Vec<_> = (0..6)
            .map(|_| r.pick(&bare, &res, None)[0].clone())
            .collect();
        assert_eq!(turns, [&res[..], &res[..]].concat());
        assert_eq!(
            r.pick(&bare, &res, Some(Algorithm::All)),
            res,
            "a hint wins"
        );
        r.chosen.insert(bare.clone(), Algorithm::MostActive);
        let msg: Element = "<message xmlns='jabber:client'/>".parse().expect("xml");
        r.saw(&res[1], &msg);
        assert_eq!(r.pick(&bare, &res, None), vec![res[1].clone()]);
        r.chosen.insert(bare.clone(), Algorithm::Weighted);
        let prio: Element = "<presence xmlns='jabber:client'><priority>3</priority></presence>"
            .parse()
            .expect("xml");
        r.saw(&res[2], &prio);
        let mut counts = [0; 3];
        for _ in 0..50 {
            let p = r.pick(&bare, &res, None)[0].clone();
            counts[res.iter().position(|x| *x == p).unwrap()] += 1;
        }
        assert_eq!(counts, [10, 10, 30], "weights 1, 1, 3");
        // A negative priority: no messages to the bare JID for that resource.
        let away: Element = "<presence xmlns='jabber:client'><priority>-1</priority></presence>"
            .parse()
            .expect("xml");
        r.saw(&res[0], &away);
        r.chosen.insert(bare.clone(), Algorithm::All);
        assert_eq!(r.pick(&bare, &res, None), res[1..].to_vec());
    }
}
