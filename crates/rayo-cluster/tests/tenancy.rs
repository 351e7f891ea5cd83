//! Tenancy: one application never sees, commands or joins another's calls or mixers, even
//! when both use the same mixer name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use rayo_cluster::Distribution;

const JULIET: &str = "juliet@capulet.lit/balcony";
const ROMEO: &str = "romeo@montague.lit/orchard";

/// Juliet's call c1 and Romeo's call c2, both on node1 and accepted.
fn two_tenants() -> Harness {
    let mut h = Harness::with_nodes(config(Distribution::All));
    h.client_available(JULIET);
    h.client_available(ROMEO);
    for (call, called, who) in [
        ("c1", "tel:+18005550000", JULIET),
        ("c2", "tel:+19005550000", ROMEO),
    ] {
        let out = offer(&mut h, 0, call, called);
        assert_eq!(one_on(&out, CLIENTS).attr("to"), Some(who));
        let out = command(
            &mut h,
            who,
            &format!("{call}@{EXT}"),
            "a",
            "<accept xmlns='urn:xmpp:rayo:1'/>",
        );
        let inner = one_on(&out, node_link(0));
        answer(&mut h, 0, &inner, "");
    }
    h
}

#[test]
fn the_same_mixer_name_is_two_mixers_for_two_applications() {
    let mut h = two_tenants();
    let mut inner_names = vec![];
    for (call, who) in [("c1", JULIET), ("c2", ROMEO)] {
        let out = command(
            &mut h,
            who,
            &format!("{call}@{EXT}"),
            "j",
            "<join xmlns='urn:xmpp:rayo:1' mixer-name='conf'/>",
        );
        let inner = one_on(&out, node_link(0));
        let join = inner.get_child("join", "urn:xmpp:rayo:1").unwrap();
        inner_names.push(join.attr("mixer-name").unwrap().to_owned());
        let r = one_on(&answer(&mut h, 0, &inner, ""), CLIENTS);
        assert_eq!(r.attr("to"), Some(who));
    }
    assert_eq!(inner_names, ["verona~conf", "mantua~conf"]);
    // Verona's mixer speaks: Juliet hears it as conf@shakespeare.lit, Romeo hears nothing.
    let out = h.node(
        0,
        &format!(
            "<presence xmlns='jabber:client' from='verona~conf@{n}' to='{INT}'>\
             <joined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:c1@{n}'/></presence>",
            n = NODES[0]
        ),
    );
    let ev = one_on(&out, CLIENTS);
    assert_eq!(ev.attr("to"), Some(JULIET));
    assert_eq!(ev.attr("from"), Some("conf@shakespeare.lit"));
    // The call's joined event names the mixer by the name Juliet gave it.
    let out = h.node(
        0,
        &format!(
            "<presence xmlns='jabber:client' from='c1@{}' to='{INT}'>\
             <joined xmlns='urn:xmpp:rayo:1' mixer-name='verona~conf'/></presence>",
            NODES[0]
        ),
    );
    let ev = one_on(&out, CLIENTS);
    assert_eq!(
        ev.get_child("joined", "urn:xmpp:rayo:1")
            .unwrap()
            .attr("mixer-name"),
        Some("conf")
    );
    // A command to conf@ goes to each one's own mixer.
    for (who, scoped) in [(JULIET, "verona~conf"), (ROMEO, "mantua~conf")] {
        let out = command(
            &mut h,
            who,
            &format!("conf@{EXT}"),
            "m",
            "<output xmlns='urn:xmpp:rayo:output:1'/>",
        );
        let inner = one_on(&out, node_link(0));
        assert_eq!(
            inner.attr("to"),
            Some(format!("{scoped}@{}", NODES[0]).as_str())
        );
        let out = answer(
            &mut h,
            0,
            &inner,
            &format!(
                "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:{scoped}@{}/o1'/>",
                NODES[0]
            ),
        );
        let r = one_on(&out, CLIENTS);
        assert_eq!(r.attr("from"), Some("conf@shakespeare.lit"));
        assert_eq!(
            r.get_child("ref", "urn:xmpp:rayo:1").unwrap().attr("uri"),
            Some("xmpp:conf@shakespeare.lit/o1")
        );
    }
}

#[test]
fn another_applications_call_cannot_be_commanded_or_joined() {
    let mut h = two_tenants();
    let out = command(
        &mut h,
        ROMEO,
        &format!("c1@{EXT}"),
        "h",
        "<hangup xmlns='urn:xmpp:rayo:1'/>",
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "conflict");
    let out = command(
        &mut h,
        ROMEO,
        &format!("c2@{EXT}"),
        "j",
        &format!("<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:c1@{EXT}'/>"),
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "item-not-found");
    assert!(sent_on(&out, node_link(0)).is_empty());
    // Nor can a client of no application reach a mixer.
    let out = command(
        &mut h,
        "nobody@else.lit/x",
        &format!("conf@{EXT}"),
        "m",
        "<stop xmlns='urn:xmpp:rayo:ext:1'/>",
    );
    assert_eq!(condition(&one_on(&out, CLIENTS)), "item-not-found");
}
