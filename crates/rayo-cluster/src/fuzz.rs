//! The gateway under arbitrary stanzas, for the `gateway` fuzz target and tests.

use std::time::{Duration, Instant};

use jid::Jid;
use minidom::Element;

use crate::{
    Application, Config, Distribution, Domains, Gateway, Input, LinkId, Output, Peer, Side,
};

const NODES: [&str; 2] = ["node1.shakespeare.lit", "node2.shakespeare.lit"];

/// A gateway for `shakespeare.lit` with two registered nodes and an available client, its
/// links up: 0 for clients, 1 a server link for nodes, 2 node2's own component link.
pub fn fuzz_gateway(now: Instant) -> Gateway {
    let mut cfg = match Domains::new("shakespeare.lit", "gateway.shakespeare.lit") {
        Ok(d) => Config::new(d),
        Err(e) => unreachable!("fixed domains: {e}"),
    };
    cfg.nodes = NODES.iter().map(|n| (*n).to_owned()).collect();
    cfg.applications.push(Application {
        name: "verona".into(),
        clients: Jid::new("juliet@capulet.lit").into_iter().collect(),
        uris: vec!["*".into()],
        distribution: Distribution::All,
        may_dial: true,
        on_client_lost: Default::default(),
        max_calls: Some(64),
        max_dials_per_second: None,
    });
    let mut gw = Gateway::new(cfg);
    let up = |link, side, peer| Input::LinkUp { link, side, peer };
    gw.handle(now, up(LinkId(0), Side::External, Peer::Any));
    gw.handle(now, up(LinkId(1), Side::Internal, Peer::Any));
    gw.handle(
        now,
        up(LinkId(2), Side::Internal, Peer::Domain(NODES[1].into())),
    );
    let caps = "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
                node='urn:xmpp:rayo:node:1' ver='x'/><show>chat</show>";
    for (i, n) in NODES.iter().enumerate() {
        let xml = format!(
            "<presence xmlns='jabber:client' from='{n}' to='gateway.shakespeare.lit'>{caps}</presence>"
        );
        if let Ok(stanza) = xml.parse() {
            let link = LinkId(1 + i as u64);
            gw.handle(
                now,
                Input::Stanza {
                    link,
                    side: Side::Internal,
                    stanza,
                },
            );
        }
    }
    let juliet = "<presence xmlns='jabber:client' from='juliet@capulet.lit/balcony' \
                  to='shakespeare.lit'/>";
    if let Ok(stanza) = juliet.parse() {
        gw.handle(
            now,
            Input::Stanza {
                link: LinkId(0),
                side: Side::External,
                stanza,
            },
        );
    }
    while gw.poll_output().is_some() {}
    gw
}

/// Feeds the stanzas in `data` (split as `rayo stanza check` splits files) to a
/// [`fuzz_gateway`]: those from a node's or the gateway's domain on the nodes' server link
/// (or node2's own), the others on the clients' link, a clock tick after each. Nothing may
/// panic, and nothing sent to the clients' link may name a node.
pub fn fuzz_bytes(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (chunks, _) = rayo_proto::document::split(&text);
    let mut now = Instant::now();
    let mut gw = fuzz_gateway(now);
    for (i, chunk) in chunks.iter().enumerate() {
        let Ok(stanza) = chunk.element() else {
            continue;
        };
        let from = stanza.attr("from").unwrap_or_default();
        let (link, side) = if from.contains(NODES[1]) && i % 2 == 0 {
            (LinkId(2), Side::Internal)
        } else if from.contains("shakespeare.lit") {
            (LinkId(1), Side::Internal)
        } else {
            (LinkId(0), Side::External)
        };
        gw.handle(now, Input::Stanza { link, side, stanza });
        check(&mut gw);
        now += Duration::from_secs(7);
        gw.handle(now, Input::Timeout);
        check(&mut gw);
    }
    gw.handle(now, Input::LinkDown { link: LinkId(1) });
    check(&mut gw);
}

fn check(gw: &mut Gateway) {
    while let Some(out) = gw.poll_output() {
        if let Output::Send {
            link: LinkId(0),
            stanza,
        } = &out
        {
            assert_no_node(stanza);
        }
    }
}

fn assert_no_node(stanza: &Element) {
    let found = crate::rewrite::node_jids_in(stanza, &|d| NODES.contains(&d));
    assert!(found.is_empty(), "{found:?} sent to a client");
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_xep_0349_flows_go_through() {
        let flows = "<presence xmlns='jabber:client' from='9f00061@node1.shakespeare.lit' \
            to='gateway.shakespeare.lit'><offer xmlns='urn:xmpp:rayo:1' to='tel:+1' from='tel:+2'/>\
            </presence>\
            <iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' to='9f00061@shakespeare.lit' \
            type='set' id='a'><accept xmlns='urn:xmpp:rayo:1'/></iq>\
            <iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' to='shakespeare.lit' \
            type='set' id='d'><dial xmlns='urn:xmpp:rayo:1' to='tel:+3'/></iq>\
            <message xmlns='jabber:client' from='9f00061@node1.shakespeare.lit' \
            to='gateway.shakespeare.lit'><body>node1.shakespeare.lit</body></message>";
        super::fuzz_bytes(flows.as_bytes());
        super::fuzz_bytes(b"<iq/><presence from='x'/>garbage<<");
    }
}
