//! Random conversations through the gateway: nodes registering, failing and coming back,
//! offers, client presences, commands of every kind to calls that exist or not, node answers
//! and events carrying node JIDs in every attribute, rogue stanzas on both sides, links lost,
//! clock advances. Whatever happens:
//!
//! - nothing panics;
//! - nothing sent to the client side names a node (the harness checks every stanza), and
//!   nothing had to be withheld for naming one: rewriting got every URI;
//! - every IQ request a client sends is answered at most once, with its id;
//! - nothing is sent to a node that is not an allow-listed node domain;
//! - a copy of the gateway's store fed its journal ([`Journaled`]) after every step equals
//!   the store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use minidom::Element;
use proptest::prelude::*;
use rayo_cluster::{Distribution, Input, Journaled, MemoryStore, Output, Peer, Side};

const CLIENT_JIDS: [&str; 4] = [
    "juliet@capulet.lit/r0",
    "juliet@capulet.lit/r1",
    "romeo@montague.lit/orchard",
    "nobody@else.lit/x",
];
const CALLS: [&str; 4] = ["c0", "c1", "c2", "c3"];

#[derive(Debug, Clone)]
enum Op {
    NodeShow {
        node: usize,
        kind: u8,
    },
    Offer {
        node: usize,
        call: usize,
        owned: bool,
    },
    ClientPresence {
        client: usize,
        kind: u8,
    },
    Command {
        client: usize,
        call: usize,
        kind: u8,
        arg: usize,
    },
    Dial {
        client: usize,
        join: Option<usize>,
    },
    Answer {
        node: usize,
        kind: u8,
        call: usize,
    },
    Event {
        node: usize,
        call: usize,
        kind: u8,
        attr: u8,
    },
    Rogue {
        side: bool,
        kind: u8,
    },
    LinkCycle {
        node: usize,
    },
    Advance {
        millis: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..3usize, 0..4u8).prop_map(|(node, kind)| Op::NodeShow { node, kind }),
        3 => (0..3usize, 0..4usize, any::<bool>()).prop_map(|(node, call, owned)| Op::Offer {
            node,
            call,
            owned
        }),
        2 => (0..4usize, 0..3u8).prop_map(|(client, kind)| Op::ClientPresence { client, kind }),
        5 => (0..4usize, 0..4usize, 0..8u8, 0..4usize).prop_map(|(client, call, kind, arg)| {
            Op::Command {
                client,
                call,
                kind,
                arg,
            }
        }),
        2 => (0..4usize, proptest::option::of(0..4usize))
            .prop_map(|(client, join)| Op::Dial { client, join }),
        6 => (0..3usize, 0..4u8, 0..4usize).prop_map(|(node, kind, call)| Op::Answer {
            node,
            kind,
            call
        }),
        3 => (0..3usize, 0..4usize, 0..6u8, 0..4u8).prop_map(|(node, call, kind, attr)| Op::Event {
            node,
            call,
            kind,
            attr
        }),
        1 => (any::<bool>(), 0..4u8).prop_map(|(side, kind)| Op::Rogue { side, kind }),
        1 => (0..3usize).prop_map(|node| Op::LinkCycle { node }),
        1 => (0..40_000u64).prop_map(|millis| Op::Advance { millis }),
    ]
}

/// What the run saw: requests each node still has to answer, answers each client got.
#[derive(Default)]
struct Seen {
    to_answer: BTreeMap<usize, Vec<Element>>,
    answers: BTreeMap<(String, String), usize>,
}

fn record(seen: &mut Seen, out: &[Output]) {
    for o in out {
        let Output::Send { link, stanza } = o else {
            continue;
        };
        if *link == CLIENTS {
            if stanza.name() == "iq" && matches!(stanza.attr("type"), Some("result" | "error")) {
                let key = (
                    stanza.attr("to").unwrap_or_default().to_owned(),
                    stanza.attr("id").unwrap_or_default().to_owned(),
                );
                *seen.answers.entry(key).or_default() += 1;
            }
            continue;
        }
        let node = (0..3).find(|i| node_link(*i) == *link);
        let node = node.unwrap_or_else(|| {
            assert!(
                stanza.attr("type") == Some("error"),
                "only errors go to rogue links: {stanza:?}"
            );
            usize::MAX
        });
        if node == usize::MAX {
            continue;
        }
        let to: jid::Jid = stanza.attr("to").unwrap_or_default().parse().unwrap();
        assert_eq!(
            to.domain().as_str(),
            NODES[node],
            "a stanza for {to} on {}'s link",
            NODES[node]
        );
        if stanza.name() == "iq" && matches!(stanza.attr("type"), Some("get" | "set")) {
            seen.to_answer.entry(node).or_default().push(stanza.clone());
        }
    }
}

fn uri_value(node: &str, call: &str, attr: u8) -> String {
    match attr {
        0 => format!("xmpp:{call}@{node}"),
        1 => format!("xmpp:{call}@{node}/comp"),
        2 => format!("{call}@{node}"),
        _ => format!("xmpp:{node}"),
    }
}

fn run(ops: Vec<Op>) {
    // The gateway's store is journaled, and its changes applied after every step to a
    // copy, as another gateway would: the copy must stay equal to the store.
    let journaled = Journaled::new(MemoryStore::default(), usize::MAX);
    let mut h = Harness::with_nodes_and_store(config(Distribution::All), journaled);
    let mut copy = MemoryStore::default();
    let mut seen = Seen::default();
    h.client_available(CLIENT_JIDS[0]);
    h.client_available(CLIENT_JIDS[1]);
    let mut follow = |h: &mut Harness<Journaled<MemoryStore>>| {
        let changes = h.gw.store_mut().take_changes();
        assert_eq!(changes.lost, 0);
        for c in changes.changes {
            c.apply(&mut copy).unwrap();
        }
        assert_eq!(
            &copy,
            h.gw.store().inner(),
            "a copy fed the journal is the store"
        );
    };
    follow(&mut h);
    let mut sent_ids = 0u64;
    for op in ops {
        let out = match op {
            Op::NodeShow { node, kind } => match kind {
                0 | 1 => h.node_show(node, "chat"),
                2 => h.node_show(node, "dnd"),
                _ => h.node(
                    node,
                    &format!(
                        "<presence xmlns='jabber:client' from='{}' to='{INT}' type='unavailable'/>",
                        NODES[node]
                    ),
                ),
            },
            Op::Offer { node, call, owned } => {
                let called = if owned {
                    "tel:+18005550000"
                } else {
                    "tel:+4400"
                };
                offer(&mut h, node, CALLS[call], called)
            }
            Op::ClientPresence { client, kind } => {
                let t = match kind {
                    0 => "",
                    1 => " type='unavailable'",
                    _ => " type='subscribe'",
                };
                h.client(&format!(
                    "<presence xmlns='jabber:client' from='{}' to='{EXT}'{t}><show>chat</show></presence>",
                    CLIENT_JIDS[client]
                ))
            }
            Op::Command {
                client,
                call,
                kind,
                arg,
            } => {
                sent_ids += 1;
                let payload = match kind {
                    0 => "<accept xmlns='urn:xmpp:rayo:1'/>".to_owned(),
                    1 => "<answer xmlns='urn:xmpp:rayo:1'/>".to_owned(),
                    2 => "<hangup xmlns='urn:xmpp:rayo:1'/>".to_owned(),
                    3 => format!(
                        "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:{}@{EXT}'/>",
                        CALLS[arg]
                    ),
                    4 => format!("<join xmlns='urn:xmpp:rayo:1' mixer-name='m{arg}'/>"),
                    5 => "<stop xmlns='urn:xmpp:rayo:ext:1'/>".to_owned(),
                    6 => "<query xmlns='http://jabber.org/protocol/disco#info'/>".to_owned(),
                    _ => "<bogus xmlns='urn:x'/>".to_owned(),
                };
                let to = match kind {
                    5 => format!("{}@{EXT}/comp", CALLS[call]),
                    6 if arg == 0 => EXT.to_owned(),
                    4 if arg == 3 => format!("m{call}@{EXT}"),
                    _ => format!("{}@{EXT}", CALLS[call]),
                };
                command(
                    &mut h,
                    CLIENT_JIDS[client],
                    &to,
                    &format!("q{sent_ids}"),
                    &payload,
                )
            }
            Op::Dial { client, join } => {
                sent_ids += 1;
                let nested = join
                    .map(|c| format!("<join call-uri='xmpp:{}@{EXT}'/>", CALLS[c]))
                    .unwrap_or_default();
                command(
                    &mut h,
                    CLIENT_JIDS[client],
                    EXT,
                    &format!("q{sent_ids}"),
                    &format!("<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'>{nested}</dial>"),
                )
            }
            Op::Answer { node, kind, call } => {
                let Some(req) = seen.to_answer.get_mut(&node).and_then(|v| v.pop()) else {
                    continue;
                };
                match kind {
                    0 => answer(&mut h, node, &req, ""),
                    1 => answer(
                        &mut h,
                        node,
                        &req,
                        &format!(
                            "<ref xmlns='urn:xmpp:rayo:1' uri='{}'/>",
                            uri_value(NODES[node], CALLS[call], 0)
                        ),
                    ),
                    2 => answer_error(&mut h, node, &req, "service-unavailable"),
                    _ => answer_error(&mut h, node, &req, "item-not-found"),
                }
            }
            Op::Event {
                node,
                call,
                kind,
                attr,
            } => {
                let n = NODES[node];
                let c = CALLS[call];
                let v = uri_value(n, c, attr);
                let xml = match kind {
                    0 => format!("<presence xmlns='jabber:client' from='{c}@{n}' to='{INT}'><answered xmlns='urn:xmpp:rayo:1'/></presence>"),
                    1 => format!("<presence xmlns='jabber:client' from='{c}@{n}' to='{INT}'><joined xmlns='urn:xmpp:rayo:1' call-uri='{v}'/></presence>"),
                    2 => format!("<presence xmlns='jabber:client' from='{c}@{n}' to='{INT}' type='unavailable'><end xmlns='urn:xmpp:rayo:1'><hangup/></end></presence>"),
                    3 => format!("<presence xmlns='jabber:client' from='{c}@{n}/comp' to='{INT}' type='unavailable'><complete xmlns='urn:xmpp:rayo:ext:1' x='{v}'/></presence>"),
                    4 => format!("<message xmlns='jabber:client' from='{c}@{n}' to='{INT}'><body>hello</body><x xmlns='urn:x' ref='{v}'/></message>"),
                    _ => format!("<presence xmlns='jabber:client' from='m{call}@{n}' to='{INT}'><started-speaking xmlns='urn:xmpp:rayo:1' call-uri='{v}'/></presence>"),
                };
                h.node(node, &xml)
            }
            Op::Rogue { side, kind } => {
                let (link, side) = if side {
                    (ROGUE, Side::Internal)
                } else {
                    (CLIENTS, Side::External)
                };
                let xml = match kind {
                    0 => format!("<presence xmlns='jabber:client' from='c0@evil.lit' to='{INT}'><offer xmlns='urn:xmpp:rayo:1' to='tel:+18005550000' from='tel:+1'/></presence>"),
                    1 => format!("<iq xmlns='jabber:client' from='c0@{}' to='{EXT}' type='set' id='r'><hangup xmlns='urn:xmpp:rayo:1'/></iq>", NODES[0]),
                    2 => "<iq xmlns='jabber:client' type='set' id='r'/>".to_owned(),
                    _ => format!("<foo xmlns='jabber:client' from='a@b.lit/c' to='{EXT}'/>"),
                };
                h.input(Input::Stanza {
                    link,
                    side,
                    stanza: el(&xml),
                })
            }
            Op::LinkCycle { node } => {
                let mut out = h.input(Input::LinkDown {
                    link: node_link(node),
                });
                seen.to_answer.remove(&node);
                out.extend(h.input(Input::LinkUp {
                    link: node_link(node),
                    side: Side::Internal,
                    peer: Peer::Domain(NODES[node].to_owned()),
                }));
                out
            }
            Op::Advance { millis } => h.advance(Duration::from_millis(millis)),
        };
        record(&mut seen, &out);
        follow(&mut h);
    }
    assert_eq!(
        h.gw.withheld(),
        0,
        "everything for clients was rewritten, none withheld"
    );
    for ((to, id), n) in &seen.answers {
        if id.starts_with('q') {
            assert_eq!(*n, 1, "{to} got {n} answers to {id}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_conversations_never_panic_or_leak(ops in proptest::collection::vec(op(), 1..80)) {
        run(ops);
    }
}
