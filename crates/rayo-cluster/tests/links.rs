//! Links and domains: who may send what where, and what each domain's disco#info says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use rayo_cluster::{Distribution, Input, Output, Refusal, Side};

fn features(reply: &minidom::Element) -> Vec<String> {
    let q = reply
        .get_child("query", "http://jabber.org/protocol/disco#info")
        .expect("a disco#info result");
    q.children()
        .filter(|c| c.name() == "feature")
        .filter_map(|c| c.attr("var").map(str::to_owned))
        .collect()
}

#[test]
fn the_external_domain_is_a_rayo_service_with_cmr_and_the_internal_one_a_gateway() {
    let mut h = Harness::new(config(Distribution::All));
    let out = h.client(&format!(
        "<iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' to='{EXT}' type='get' \
         id='info1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    ));
    let reply = one_on(&out, CLIENTS);
    assert_eq!(reply.attr("type"), Some("result"));
    assert_eq!(reply.attr("from"), Some(EXT));
    assert_eq!(reply.attr("to"), Some("juliet@capulet.lit/balcony"));
    assert_eq!(reply.attr("id"), Some("info1"));
    let f = features(&reply);
    assert!(f.contains(&"urn:xmpp:rayo:1".to_owned()), "{f:?}");
    assert!(f.contains(&"urn:xmpp:cmr:0".to_owned()), "{f:?}");
    assert!(!f.contains(&"urn:xmpp:rayo:gateway:1".to_owned()), "{f:?}");

    let out = h.node(
        0,
        &format!(
            "<iq xmlns='jabber:client' from='{}' to='{INT}' type='get' id='i2'>\
             <query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            NODES[0]
        ),
    );
    let reply = one_on(&out, node_link(0));
    assert_eq!(reply.attr("from"), Some(INT));
    let f = features(&reply);
    assert!(f.contains(&"urn:xmpp:rayo:gateway:1".to_owned()), "{f:?}");
    assert!(!f.contains(&"urn:xmpp:rayo:1".to_owned()), "{f:?}");
}

#[test]
fn a_node_not_on_the_allow_list_is_refused_and_reaches_no_client() {
    let mut h = Harness::new(config(Distribution::All));
    h.client_available("juliet@capulet.lit/balcony");
    let rogue = |xml: &str| Input::Stanza {
        link: ROGUE,
        side: Side::Internal,
        stanza: el(xml),
    };
    // Its IQ gets forbidden (RFC 6120 §8.3.3.6), on its own link.
    let out = h.input(rogue(&format!(
        "<iq xmlns='jabber:client' from='evil.lit' to='{INT}' type='get' id='p1'>\
         <ping xmlns='urn:xmpp:ping'/></iq>"
    )));
    let reply = one_on(&out, ROGUE);
    assert_eq!(condition(&reply), "forbidden");
    // Its registration and its offer are dropped: nothing reaches a client.
    let out = h.input(rogue(&format!(
        "<presence xmlns='jabber:client' from='evil.lit' to='{INT}'>\
         <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:xmpp:rayo:node:1' ver='x'/>\
         <show>chat</show></presence>"
    )));
    assert_eq!(
        out,
        vec![Output::Dropped {
            link: ROGUE,
            reason: Refusal::UntrustedNode("evil.lit".into())
        }]
    );
    let out = h.input(rogue(&format!(
        "<presence xmlns='jabber:client' from='c1@evil.lit' to='{INT}'>\
         <offer xmlns='urn:xmpp:rayo:1' to='tel:+18005551212' from='tel:+1'/></presence>"
    )));
    assert!(sent_on(&out, CLIENTS).is_empty());
    assert!(!h.gw.in_rotation("evil.lit"));
}

#[test]
fn a_node_link_carries_only_its_own_domain() {
    let mut h = Harness::new(config(Distribution::All));
    // node1's component link sends as node2: refused.
    let xml = format!(
        "<presence xmlns='jabber:client' from='{}' to='{INT}'>\
         <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:xmpp:rayo:node:1' ver='x'/>\
         <show>chat</show></presence>",
        NODES[1]
    );
    let out = h.node(0, &xml);
    assert!(matches!(
        out.as_slice(),
        [Output::Dropped {
            reason: Refusal::WrongPeer { .. },
            ..
        }]
    ));
    assert!(!h.gw.in_rotation(NODES[1]));
}

#[test]
fn clients_and_nodes_stay_on_their_own_side() {
    let mut h = Harness::new(config(Distribution::All));
    // A client pretending to be a node on the external side.
    let out = h.client(&format!(
        "<iq xmlns='jabber:client' from='x@{}' to='{EXT}' type='get' id='a'>\
         <ping xmlns='urn:xmpp:ping'/></iq>",
        NODES[0]
    ));
    // (Not even an error goes back: it would name a node on the external side.)
    assert!(matches!(
        out.as_slice(),
        [Output::Dropped {
            reason: Refusal::Impersonation(_),
            ..
        }]
    ));
    let out = h.client(&format!(
        "<iq xmlns='jabber:client' from='x@{INT}' to='{EXT}' type='get' id='a'>\
         <ping xmlns='urn:xmpp:ping'/></iq>"
    ));
    assert_eq!(condition(&one_on(&out, CLIENTS)), "forbidden");
    // A client addressing the internal domain through the external side.
    let out = h.client(&format!(
        "<iq xmlns='jabber:client' from='juliet@capulet.lit/b' to='{INT}' type='get' id='b'>\
         <ping xmlns='urn:xmpp:ping'/></iq>"
    ));
    assert_eq!(condition(&one_on(&out, CLIENTS)), "service-unavailable");
    // A node addressing the external domain (or a client) through the internal side.
    let out = h.node(
        0,
        &format!(
            "<message xmlns='jabber:client' from='c@{}' to='juliet@capulet.lit/b'><body>hi</body></message>",
            NODES[0]
        ),
    );
    assert!(matches!(
        out.as_slice(),
        [Output::Dropped {
            reason: Refusal::NotForInternal,
            ..
        }]
    ));
    // A stanza on a link that is not up, or on the wrong side.
    let out = h.input(Input::Stanza {
        link: rayo_cluster::LinkId(9),
        side: Side::External,
        stanza: el(&format!(
            "<message xmlns='jabber:client' from='a@b.lit/c' to='{EXT}'/>"
        )),
    });
    assert!(matches!(
        out.as_slice(),
        [Output::Dropped {
            reason: Refusal::UnknownLink,
            ..
        }]
    ));
    let out = h.input(Input::Stanza {
        link: CLIENTS,
        side: Side::Internal,
        stanza: el(&format!(
            "<message xmlns='jabber:client' from='a@b.lit/c' to='{EXT}'/>"
        )),
    });
    assert!(matches!(
        out.as_slice(),
        [Output::Dropped {
            reason: Refusal::WrongSide,
            ..
        }]
    ));
    // Pings to either domain are answered.
    let out = h.client(&format!(
        "<iq xmlns='jabber:client' from='juliet@capulet.lit/b' to='{EXT}' type='get' id='p'>\
         <ping xmlns='urn:xmpp:ping'/></iq>"
    ));
    assert_eq!(one_on(&out, CLIENTS).attr("type"), Some("result"));
}

/// Bots that log in to the gateway itself have JIDs in the external domain; their session
/// link admits exactly the bound JID, and never the external domain's own entities.
#[test]
fn a_client_session_link_carries_only_its_bound_jid() {
    use rayo_cluster::{LinkId, Peer};
    let mut h = Harness::new(config(Distribution::All));
    let session = LinkId(7);
    let bound = format!("juliet@{EXT}/balcony");
    h.input(Input::LinkUp {
        link: session,
        side: Side::External,
        peer: Peer::Session(jid::Jid::new(&bound).expect("jid")),
    });
    let ping = |from: &str| {
        el(&format!(
            "<iq xmlns='jabber:client' from='{from}' to='{EXT}' type='get' id='p'>\
             <ping xmlns='urn:xmpp:ping'/></iq>"
        ))
    };
    let send = |h: &mut Harness, from: &str| {
        h.input(Input::Stanza {
            link: session,
            side: Side::External,
            stanza: ping(from),
        })
    };
    // Its own JID, in the external domain: answered.
    let out = send(&mut h, &bound);
    let reply = one_on(&out, session);
    assert_eq!(reply.attr("type"), Some("result"));
    assert_eq!(reply.attr("to"), Some(bound.as_str()));
    // Another JID on the same session: forbidden.
    let out = send(&mut h, &format!("romeo@{EXT}/garden"));
    assert_eq!(condition(&one_on(&out, session)), "forbidden");
    // On a shared link (a server's component stream), a sender in the external domain is
    // an impersonation.
    let xml = String::from(&ping(&bound));
    let out = h.client(&xml);
    assert_eq!(condition(&one_on(&out, CLIENTS)), "forbidden");
}
