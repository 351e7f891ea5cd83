//! The gateway: one [`Input`] in, [`Output`]s and a wake-up time out; no socket, no clock.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use jid::Jid;
use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use crate::config::Config;
use crate::domains;
use crate::envelope::{self, Kind};
use crate::link::{Admitted, LinkId, Links, Origin, Peer, Refusal, Side};
use crate::pending::Pending;
use crate::registry::Registry;
use crate::rewrite;
use crate::store::{MemoryStore, Store};

/// Something the gateway is told.
#[derive(Debug, Clone)]
pub enum Input {
    /// A stanza arrived on a link (in the `jabber:client` namespace: drivers of component
    /// links normalise it).
    Stanza {
        /// The link it came on.
        link: LinkId,
        /// The side the driver holds that link on.
        side: Side,
        /// The stanza.
        stanza: Element,
    },
    /// A link is up.
    LinkUp {
        /// The link.
        link: LinkId,
        /// Its side.
        side: Side,
        /// Who its transport authenticated.
        peer: Peer,
    },
    /// A link is gone: the nodes on it are failed, the clients on it unavailable.
    LinkDown {
        /// The link.
        link: LinkId,
    },
    /// The time [`Gateway::poll_timeout`] gave has come.
    Timeout,
}

/// Something the gateway wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send a stanza on a link.
    Send {
        /// The link.
        link: LinkId,
        /// The stanza.
        stanza: Element,
    },
    /// A stanza was refused without an answer (it was no IQ request): for logs and metrics.
    Dropped {
        /// The link it came on.
        link: LinkId,
        /// Why.
        reason: Refusal,
    },
}

/// What a timer is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// Time to ping a node.
    Ping(String),
    /// A pending IQ's deadline, by its inner id.
    Iq(String),
    /// An inbound call's offer round expires: the call id, and how many clients had been
    /// passed over when the round began (a later round makes this timer stale).
    Offer(String, usize),
    /// A lost client's grace period for a call ends: the call id, the client.
    Orphan(String, String),
    /// A drain's maximum time ends: of a node, or of the gateway.
    Drain(Option<String>),
}

/// A Rayo gateway: two domains, the links, the node registry, and the shared [`Store`].
pub struct Gateway<S: Store = MemoryStore> {
    pub(crate) cfg: Config,
    /// `cfg.nodes` prepared for the node-name prefilter.
    node_names: rewrite::NodeNames,
    pub(crate) store: S,
    pub(crate) links: Links,
    pub(crate) registry: Registry,
    /// The link each client was last seen on, and when.
    pub(crate) client_links: HashMap<Jid, (LinkId, Instant)>,
    pub(crate) pending: Pending,
    pub(crate) timers: BTreeSet<(Instant, Timer)>,
    out: VecDeque<Output>,
    withheld: u64,
    pub(crate) draining: bool,
    /// The end of the grace period of each call whose client is lost.
    pub(crate) orphans: HashMap<String, Instant>,
    /// Per application: the start of its current one-second dial window, dials in it.
    pub(crate) dial_rates: HashMap<String, (Instant, u32)>,
}

impl Gateway<MemoryStore> {
    /// A gateway keeping its state in memory.
    pub fn new(cfg: Config) -> Self {
        Gateway::with_store(cfg, MemoryStore::default())
    }
}

impl<S: Store> Gateway<S> {
    /// A gateway keeping its state in `store`.
    pub fn with_store(mut cfg: Config, store: S) -> Self {
        for n in &mut cfg.nodes {
            n.make_ascii_lowercase();
        }
        Gateway {
            node_names: rewrite::NodeNames::new(&cfg.nodes),
            cfg,
            store,
            links: Links::default(),
            registry: Registry::default(),
            client_links: HashMap::new(),
            pending: Pending::default(),
            timers: BTreeSet::new(),
            out: VecDeque::new(),
            withheld: 0,
            draining: false,
            orphans: HashMap::new(),
            dial_rates: HashMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The shared state.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The shared state, for the driver to act on it between inputs (take a
    /// [`crate::Journaled`] store's changes); a change made through it is not seen by the
    /// gateway's timers or links.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Handles one input.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Stanza { link, side, stanza } => self.handle_stanza(now, link, side, stanza),
            Input::LinkUp { link, side, peer } => self.links.up(link, side, peer),
            Input::LinkDown { link } => self.link_down(now, link),
            Input::Timeout => self.handle_timeout(now),
        }
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When the gateway next needs [`Input::Timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(t, _)| *t)
    }

    pub(crate) fn push(&mut self, output: Output) {
        if self.out.len() >= self.cfg.max_outputs {
            tracing::error!(?output, "output queue full: dropped");
            return;
        }
        self.out.push_back(output);
    }

    /// Sends a stanza on `link`, checking on the external side that it names no node.
    pub(crate) fn send(&mut self, link: LinkId, side: Side, stanza: Element) {
        if side == Side::External && self.names_node(&stanza) {
            self.withheld += 1;
            let found = self.node_jids(&stanza);
            tracing::error!(?found, "a stanza for a client named a node: not sent");
            return;
        }
        self.push(Output::Send { link, stanza });
    }

    fn names_node(&self, stanza: &Element) -> bool {
        !self.node_jids(stanza).is_empty()
    }

    /// The node JIDs a stanza still holds (parsing only values that may hold one).
    fn node_jids(&self, stanza: &Element) -> Vec<String> {
        rewrite::node_jids_among(stanza, &|d| self.cfg.is_node_domain(d), &|v| {
            self.node_names.may_name(v)
        })
    }

    /// How many stanzas for clients were not sent because they still named a node after
    /// rewriting (a node put one where the gateway does not rewrite, say in a text): 0 unless
    /// a node misbehaves.
    pub fn withheld(&self) -> u64 {
        self.withheld
    }

    /// Sends a stanza to a client, on the link it was last seen on (or the external side's
    /// shared link).
    pub(crate) fn send_to_client(&mut self, client: &Jid, stanza: Element) {
        let link = self
            .client_links
            .get(client)
            .map(|(l, _)| *l)
            .or_else(|| self.links.shared(Side::External));
        match link {
            Some(l) => self.send(l, Side::External, stanza),
            None => tracing::debug!(%client, "no link to the client: dropped"),
        }
    }

    /// Refuses a stanza: an IQ request gets the error, anything else is dropped.
    pub(crate) fn refuse(&mut self, link: LinkId, side: Side, stanza: &Element, why: Refusal) {
        let (type_, condition) = why.error();
        let text = why.to_string();
        let reply =
            envelope::error_reply(stanza, None, envelope::error(type_, condition, Some(&text)));
        match reply {
            // An answer to a client claiming a node's JID would name that node.
            Some(reply)
                if stanza.attr("from").is_some()
                    && !(side == Side::External && self.names_node(&reply)) =>
            {
                self.send(link, side, reply)
            }
            _ => self.push(Output::Dropped { link, reason: why }),
        }
    }

    /// Answers a request with an error, from `from`.
    pub(crate) fn reply_error(
        &mut self,
        link: LinkId,
        side: Side,
        request: &Element,
        from: Option<&Jid>,
        err: StanzaError,
    ) {
        if let Some(reply) = envelope::error_reply(request, from, err) {
            self.send(link, side, reply);
        }
    }

    fn handle_stanza(&mut self, now: Instant, link: LinkId, side: Side, stanza: Element) {
        let adm = match self.links.admit(&self.cfg, link, side, &stanza) {
            Ok(a) => a,
            Err(why) => return self.refuse(link, side, &stanza, why),
        };
        match adm.origin.clone() {
            Origin::Node(domain) => self.node_stanza(now, link, &domain, adm, stanza),
            Origin::Client => {
                if !self.client_links.contains_key(&adm.from)
                    && self.client_links.len() >= self.cfg.max_client_links
                {
                    return self.refuse(link, side, &stanza, Refusal::Limit("client links"));
                }
                self.client_links.insert(adm.from.clone(), (link, now));
                self.client_stanza(now, link, adm, stanza);
            }
        }
    }

    /// A stanza from a node, admitted.
    fn node_stanza(
        &mut self,
        now: Instant,
        link: LinkId,
        domain: &str,
        adm: Admitted,
        st: Element,
    ) {
        self.registry.learn(domain, link);
        match (envelope::kind(&st), st.attr("type")) {
            (Some(Kind::Iq), Some("result" | "error")) => self.node_answer(now, link, domain, st),
            (Some(Kind::Iq), _) => self.gateway_request(link, Side::Internal, &st),
            (Some(Kind::Presence), _) if adm.from.node().is_none() => {
                self.node_presence(now, link, domain, &st)
            }
            _ if adm.from.node().is_some() => self.node_event(now, link, domain, &adm, st),
            _ => self.push(Output::Dropped {
                link,
                reason: Refusal::Unhandled,
            }),
        }
    }

    /// A request to one of the gateway's domains: disco#info and ping are answered,
    /// anything else is `service-unavailable`.
    pub(crate) fn gateway_request(&mut self, link: LinkId, side: Side, st: &Element) {
        if !envelope::is_request(st) {
            return self.push(Output::Dropped {
                link,
                reason: Refusal::Unsolicited,
            });
        }
        let payload = envelope::payload(st);
        let get = st.attr("type") == Some("get");
        let answer = match payload {
            Some(p) if get && p.is("query", rayo_proto::ns::DISCO_INFO) => Some(match side {
                Side::External => domains::external_info(),
                Side::Internal => domains::internal_info(),
            }),
            Some(p) if get && p.is("ping", rayo_proto::ns::PING) => None,
            _ => {
                let err = envelope::error(
                    ErrorType::Cancel,
                    DefinedCondition::ServiceUnavailable,
                    None,
                );
                return self.reply_error(link, side, st, None, err);
            }
        };
        if let Some(reply) = envelope::result_reply(st, None, answer) {
            self.send(link, side, reply);
        }
    }

    /// Rewrites a stanza's payload for the external side.
    pub(crate) fn outward(&self, st: &mut Element) {
        let cfg = &self.cfg;
        let ext = cfg.domains.external();
        rewrite::payload_to_external_among(
            st,
            &|d| cfg.is_node_domain(d),
            &|v| self.node_names.may_name(v),
            ext,
        );
        crate::tenancy::unscope_payload(st, &cfg.applications, ext);
    }

    fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, timer)) = self.timers.first().cloned() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, timer.clone()));
            match timer {
                Timer::Ping(node) => self.ping_due(now, &node),
                Timer::Offer(call, round) => self.offer_expired(now, &call, round),
                Timer::Orphan(call, client) => self.orphan_expired(now, &call, &client),
                Timer::Drain(node) => self.drain_expired(now, node.as_deref()),
                Timer::Iq(id) => {
                    if let Some(p) = self.pending.take(&id) {
                        let node = p.node.clone();
                        if matches!(p.purpose, crate::pending::Purpose::Dial { .. }) {
                            self.pending.abandon(id, node.clone());
                        }
                        self.answered(now, &node, p, None);
                    }
                }
            }
        }
    }

    fn link_down(&mut self, now: Instant, link: LinkId) {
        let Some((side, _)) = self.links.down(link) else {
            return;
        };
        match side {
            Side::Internal => {
                for node in self.registry.on_link(link) {
                    self.node_failed(now, &node, "link lost");
                }
            }
            Side::External => {
                let gone: Vec<Jid> = self
                    .client_links
                    .iter()
                    .filter(|(_, (l, _))| *l == link)
                    .map(|(j, _)| j.clone())
                    .collect();
                for client in gone {
                    self.client_lost(now, &client);
                }
            }
        }
    }
}
