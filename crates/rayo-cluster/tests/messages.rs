//! Messages between bots logged in to the gateway itself: delivered within an application,
//! spread over a bare JID's resources by XEP-0354 (or a message's hint).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use rayo_cluster::{Distribution, Input, LinkId, Output, Peer, Side};

/// A gateway whose `verona` application also has the session users juliet and nurse, each
/// on links of their own: juliet/a (10), juliet/b (11), juliet/c (12), nurse/n (20), and
/// stranger/s (30) of no application.
fn sessions() -> Harness {
    let mut cfg = config(Distribution::All);
    cfg.applications[0].clients.extend([
        format!("juliet@{EXT}").parse().unwrap(),
        format!("nurse@{EXT}").parse().unwrap(),
    ]);
    let mut h = Harness::new(cfg);
    for (link, jid) in [
        (10, "juliet@EXT/a"),
        (11, "juliet@EXT/b"),
        (12, "juliet@EXT/c"),
        (20, "nurse@EXT/n"),
        (30, "stranger@EXT/s"),
    ] {
        let jid = jid.replace("EXT", EXT);
        h.input(Input::LinkUp {
            link: LinkId(link),
            side: Side::External,
            peer: Peer::Session(jid.parse().unwrap()),
        });
        let presence = format!(
            "<presence xmlns='jabber:client' from='{jid}' to='{EXT}'><show>chat</show></presence>"
        );
        h.input(Input::Stanza {
            link: LinkId(link),
            side: Side::External,
            stanza: el(&presence),
        });
    }
    h
}

fn send(h: &mut Harness, link: u64, from: &str, to: &str, extra: &str) -> Vec<Output> {
    let xml = format!(
        "<message xmlns='jabber:client' from='{}' to='{}' type='chat'><body>hi</body>{extra}</message>",
        from.replace("EXT", EXT),
        to.replace("EXT", EXT)
    );
    h.input(Input::Stanza {
        link: LinkId(link),
        side: Side::External,
        stanza: el(&xml),
    })
}

fn links(out: &[Output]) -> Vec<u64> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { link, stanza } if stanza.name() == "message" => Some(link.0),
            _ => None,
        })
        .collect()
}

#[test]
fn messages_to_a_bare_jid_follow_its_routing_and_a_hint_wins() {
    let mut h = sessions();
    // Default: all resources.
    let out = send(&mut h, 20, "nurse@EXT/n", "juliet@EXT", "");
    assert_eq!(links(&out), vec![10, 11, 12]);
    // A full JID: that one.
    let out = send(&mut h, 20, "nurse@EXT/n", "juliet@EXT/b", "");
    assert_eq!(links(&out), vec![11]);
    // Juliet chooses roundrobin.
    let set = format!(
        "<iq xmlns='jabber:client' type='set' id='s' from='juliet@{EXT}/a' to='{EXT}'>\
         <cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:roundrobin'/></iq>"
    );
    h.input(Input::Stanza {
        link: LinkId(10),
        side: Side::External,
        stanza: el(&set),
    });
    let mut got = Vec::new();
    for _ in 0..6 {
        got.extend(links(&send(&mut h, 20, "nurse@EXT/n", "juliet@EXT", "")));
    }
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        vec![10, 10, 11, 11, 12, 12],
        "each in turn: {got:?}"
    );
    // A hint for one message.
    let hint = "<cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:all'/>";
    assert_eq!(
        links(&send(&mut h, 20, "nurse@EXT/n", "juliet@EXT", hint)),
        vec![10, 11, 12]
    );
}

#[test]
fn messages_do_not_cross_applications() {
    let mut h = sessions();
    let out = send(&mut h, 30, "stranger@EXT/s", "juliet@EXT", "");
    assert!(links(&out).is_empty(), "{out:?}");
}
