//! A gateway under a virtual clock, with three nodes and a client-side link, checking that
//! nothing sent to the external side names a node.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use minidom::Element;
use rayo_cluster::rewrite::node_jids_in;
use rayo_cluster::{
    Application, Config, Distribution, Domains, Gateway, Input, LinkId, MemoryStore, Output, Peer,
    Side, Store,
};

pub const EXT: &str = "shakespeare.lit";
pub const INT: &str = "gateway.shakespeare.lit";
pub const NODES: [&str; 3] = [
    "node1.shakespeare.lit",
    "node2.shakespeare.lit",
    "node3.shakespeare.lit",
];
/// The client side's link (the gateway as a component of the clients' server).
pub const CLIENTS: LinkId = LinkId(100);
/// A link for a rogue node.
pub const ROGUE: LinkId = LinkId(666);

/// The link of node `i` (0-based).
pub fn node_link(i: usize) -> LinkId {
    LinkId(1 + i as u64)
}

pub fn el(s: &str) -> Element {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub struct Harness<S: Store = MemoryStore> {
    pub gw: Gateway<S>,
    pub now: Instant,
    /// Whether the nodes answer the gateway's pings (by themselves, in [`Harness::advance`]).
    pub auto_pong: bool,
}

pub fn config(distribution: Distribution) -> Config {
    let mut cfg = Config::new(Domains::new(EXT, INT).unwrap());
    cfg.nodes = NODES.iter().map(|n| (*n).to_owned()).collect();
    cfg.applications.push(Application {
        name: "verona".into(),
        clients: vec!["juliet@capulet.lit".parse().unwrap()],
        uris: vec!["tel:+1800*".into()],
        distribution,
        may_dial: true,
        on_client_lost: Default::default(),
        max_calls: None,
        max_dials_per_second: None,
    });
    cfg.applications.push(Application {
        name: "mantua".into(),
        clients: vec!["romeo@montague.lit/orchard".parse().unwrap()],
        uris: vec!["tel:+1900*".into()],
        distribution: Distribution::All,
        may_dial: false,
        on_client_lost: rayo_cluster::ClientLoss::Hangup,
        max_calls: None,
        max_dials_per_second: None,
    });
    cfg
}

impl Harness {
    /// A gateway with its links up, no node registered yet.
    pub fn new(cfg: Config) -> Self {
        Harness::with_store(cfg, MemoryStore::default())
    }

    /// A gateway with every node registered `chat`.
    pub fn with_nodes(cfg: Config) -> Self {
        Harness::with_nodes_and_store(cfg, MemoryStore::default())
    }
}

impl<S: Store> Harness<S> {
    /// A gateway on `store` with its links up, no node registered yet.
    pub fn with_store(cfg: Config, store: S) -> Self {
        let mut h = Harness {
            gw: Gateway::with_store(cfg, store),
            now: Instant::now(),
            auto_pong: true,
        };
        h.input(Input::LinkUp {
            link: CLIENTS,
            side: Side::External,
            peer: Peer::Any,
        });
        for (i, n) in NODES.iter().enumerate() {
            h.input(Input::LinkUp {
                link: node_link(i),
                side: Side::Internal,
                peer: Peer::Domain((*n).to_owned()),
            });
        }
        h.input(Input::LinkUp {
            link: ROGUE,
            side: Side::Internal,
            peer: Peer::Any,
        });
        h
    }

    /// A gateway on `store` with every node registered `chat`.
    pub fn with_nodes_and_store(cfg: Config, store: S) -> Self {
        let mut h = Harness::with_store(cfg, store);
        for i in 0..NODES.len() {
            h.node_show(i, "chat");
        }
        h
    }

    /// Feeds an input and returns everything it caused, checking what goes to clients.
    pub fn input(&mut self, input: Input) -> Vec<Output> {
        self.gw.handle(self.now, input);
        let mut out = Vec::new();
        while let Some(o) = self.gw.poll_output() {
            if let Output::Send { link, stanza } = &o {
                if *link == CLIENTS {
                    let leaks = node_jids_in(stanza, &|d| NODES.contains(&d));
                    assert!(leaks.is_empty(), "node JIDs {leaks:?} sent to a client");
                }
            }
            out.push(o);
        }
        out
    }

    /// A stanza from the client side.
    pub fn client(&mut self, xml: &str) -> Vec<Output> {
        self.input(Input::Stanza {
            link: CLIENTS,
            side: Side::External,
            stanza: el(xml),
        })
    }

    /// A stanza from node `i` on its link.
    pub fn node(&mut self, i: usize, xml: &str) -> Vec<Output> {
        self.input(Input::Stanza {
            link: node_link(i),
            side: Side::Internal,
            stanza: el(xml),
        })
    }

    /// Node `i` presents itself with this show.
    pub fn node_show(&mut self, i: usize, show: &str) -> Vec<Output> {
        let xml = format!(
            "<presence xmlns='jabber:client' from='{}' to='{INT}'>\
             <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:xmpp:rayo:node:1' \
             ver='QgayPKawpkPSDYmwT/WM94uAlu0='/><show>{show}</show></presence>",
            NODES[i]
        );
        self.node(i, &xml)
    }

    /// A client says it is available.
    pub fn client_available(&mut self, jid: &str) -> Vec<Output> {
        self.client(&format!(
            "<presence xmlns='jabber:client' from='{jid}' to='{EXT}'>\
             <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:xmpp:rayo:client:1' \
             ver='x'/><show>chat</show></presence>"
        ))
    }

    /// Moves the clock and fires what is due.
    pub fn advance(&mut self, d: Duration) -> Vec<Output> {
        self.now += d;
        let mut out = Vec::new();
        while self.gw.poll_timeout().is_some_and(|t| t <= self.now) {
            let fired = self.input(Input::Timeout);
            if self.auto_pong {
                for i in 0..NODES.len() {
                    for ping in sent_on(&fired, node_link(i)) {
                        if ping.has_child("ping", "urn:xmpp:ping") {
                            answer(self, i, &ping, "");
                        }
                    }
                }
            }
            out.extend(fired);
        }
        out
    }
}

/// The stanzas sent on `link`.
pub fn sent_on(out: &[Output], link: LinkId) -> Vec<Element> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { link: l, stanza } if *l == link => Some(stanza.clone()),
            _ => None,
        })
        .collect()
}

/// The only stanza sent on `link`.
pub fn one_on(out: &[Output], link: LinkId) -> Element {
    let s = sent_on(out, link);
    assert_eq!(s.len(), 1, "one stanza on {link:?}, got {out:#?}");
    s.into_iter().next().unwrap()
}

/// The error condition of an IQ error.
pub fn condition(st: &Element) -> String {
    rayo_cluster::envelope::error_condition(st).unwrap_or_default()
}

/// Node `i` offers call `id` to the gateway, for `called`.
pub fn offer<S: Store>(h: &mut Harness<S>, i: usize, id: &str, called: &str) -> Vec<Output> {
    let xml = format!(
        "<presence xmlns='jabber:client' from='{id}@{}' to='{INT}'>\
         <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:xmpp:rayo:call:1' \
         ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>\
         <offer xmlns='urn:xmpp:rayo:1' to='{called}' from='tel:+13058881212'/></presence>",
        NODES[i]
    );
    h.node(i, &xml)
}

/// A client's command IQ to `to`.
pub fn command<S: Store>(
    h: &mut Harness<S>,
    from: &str,
    to: &str,
    id: &str,
    payload: &str,
) -> Vec<Output> {
    h.client(&format!(
        "<iq xmlns='jabber:client' from='{from}' to='{to}' type='set' id='{id}'>{payload}</iq>"
    ))
}

/// Node `i` answers the request `req` with a result carrying `payload`.
pub fn answer<S: Store>(h: &mut Harness<S>, i: usize, req: &Element, payload: &str) -> Vec<Output> {
    let xml = format!(
        "<iq xmlns='jabber:client' from='{}' to='{INT}' type='result' id='{}'>{payload}</iq>",
        req.attr("to").unwrap(),
        req.attr("id").unwrap()
    );
    h.node(i, &xml)
}

/// Node `i` answers the request `req` with an error.
pub fn answer_error<S: Store>(
    h: &mut Harness<S>,
    i: usize,
    req: &Element,
    condition: &str,
) -> Vec<Output> {
    let xml = format!(
        "<iq xmlns='jabber:client' from='{}' to='{INT}' type='error' id='{}'>\
         <error type='cancel'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        req.attr("to").unwrap(),
        req.attr("id").unwrap()
    );
    h.node(i, &xml)
}
