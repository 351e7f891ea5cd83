//! Tests of the parent module.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// Answers `<echo xmlns='urn:test'/>` IQs with their payload, and a presence to a call with
/// two presences from that call (events).
struct Echo;

impl Handler for Echo {
    fn handle(&mut self, incoming: Incoming, out: &mut Outbox) -> Handled {
        match incoming.stanza.name() {
            "iq" if incoming.payload().is_some_and(|p| p.is("echo", "urn:test")) => {
                out.send(incoming.result(incoming.payload().cloned()));
                Handled::Yes
            }
            "presence" if incoming.entity.kind() == EntityKind::Call => {
                for _ in 0..2 {
                    let mut p = Element::bare("presence", JABBER_CLIENT);
                    xml::set_attr(&mut p, "from", incoming.to.to_string());
                    xml::set_attr(&mut p, "to", incoming.from.to_string());
                    out.send(p);
                }
                Handled::Yes
            }
            _ => Handled::No,
        }
    }

    fn exists(&self, entity: &Entity) -> bool {
        !matches!(entity, Entity::Call(n) if n.as_str() == "gone")
    }
}

fn router() -> Router<Echo> {
    let a = Addressing::new("rayo.test", Some("call"), Some("mixer")).expect("domains");
    let mut r = Router::new(a, Mode::C2s, Echo);
    r.bind(1, FullJid::new("juliet@rayo.test/a").expect("jid"));
    r
}

fn el(s: &str) -> Element {
    s.parse().expect("xml")
}

fn delivered(r: &mut Router<Echo>) -> Vec<Element> {
    std::iter::from_fn(|| r.poll_output())
        .map(|o| match o {
            Routed::Deliver { conn: 1, stanza } => stanza,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

const FROM: &str = "from='juliet@rayo.test/a'";

#[test]
fn iq_round_trip_through_the_handler() {
    let mut r = router();
    r.handle_stanza(
        el(&format!("<iq xmlns='jabber:client' type='get' id='1' {FROM} to='rayo.test'><echo xmlns='urn:test'/></iq>")),
        SystemTime::now(),
    );
    let out = delivered(&mut r);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].attr("type"), Some("result"));
    assert_eq!(out[0].attr("from"), Some("rayo.test"));
    assert_eq!(out[0].attr("to"), Some("juliet@rayo.test/a"));
    assert!(out[0].has_child("echo", "urn:test"));
}

#[test]
fn unknown_payloads_get_the_rfc_errors() {
    let mut r = router();
    r.handle_stanza(
        el(&format!("<iq xmlns='jabber:client' type='get' id='1' {FROM} to='rayo.test'><q xmlns='urn:unknown'/></iq>")),
        SystemTime::now(),
    );
    r.handle_stanza(
        el(&format!("<iq xmlns='jabber:client' type='set' id='2' {FROM} to='c1@call.rayo.test'><dial xmlns='urn:xmpp:rayo:1' to='sip:a@b' from='sip:c@d'/></iq>")),
        SystemTime::now(),
    );
    let out = delivered(&mut r);
    let cond = |e: &Element| {
        e.get_child("error", JABBER_CLIENT)
            .and_then(|e| e.children().next())
            .map(|c| c.name().to_owned())
    };
    assert_eq!(cond(&out[0]).as_deref(), Some("service-unavailable"));
    assert_eq!(cond(&out[1]).as_deref(), Some("feature-not-implemented"));
    assert_eq!(out[1].attr("from"), Some("c1@call.rayo.test"));
}

#[test]
fn disco_info_per_entity() {
    let mut r = router();
    for (i, to) in [
        "rayo.test",
        "c1@call.rayo.test",
        "m@mixer.rayo.test",
        "gone@call.rayo.test",
    ]
    .iter()
    .enumerate()
    {
        r.handle_stanza(
            el(&format!("<iq xmlns='jabber:client' type='get' id='{i}' {FROM} to='{to}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")),
            SystemTime::now(),
        );
    }
    let out = delivered(&mut r);
    let features = |e: &Element| -> Vec<String> {
        e.get_child("query", ns::DISCO_INFO)
            .map(|q| {
                q.children()
                    .filter_map(|f| f.attr("var").map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(features(&out[0]).contains(&ns::RAYO.to_owned()));
    assert!(features(&out[1]).contains(&ns::CALL_CAPS.to_owned()));
    assert!(features(&out[2]).contains(&ns::MIXER_CAPS.to_owned()));
    assert_eq!(out[3].attr("type"), Some("error"));
}

#[test]
fn event_presences_get_delay_and_first_one_caps() {
    let mut r = router();
    r.handle_stanza(
        el(&format!(
            "<presence xmlns='jabber:client' {FROM} to='c1@call.rayo.test'/>"
        )),
        SystemTime::now(),
    );
    let out = delivered(&mut r);
    assert_eq!(out.len(), 2);
    for p in &out {
        assert_eq!(p.attr("from"), Some("c1@call.rayo.test"));
        assert!(p.has_child("delay", ns::DELAY), "{p:?}");
    }
    let c = out[0]
        .get_child("c", ns::CAPS)
        .expect("caps on the first presence");
    assert_eq!(c.attr("node"), Some(ns::CALL_CAPS));
    assert!(!out[1].has_child("c", ns::CAPS));
}

#[test]
fn a_second_bind_of_the_same_jid_closes_the_first() {
    let mut r = router();
    r.bind(2, FullJid::new("juliet@rayo.test/a").expect("jid"));
    assert_eq!(
        r.poll_output(),
        Some(Routed::Close {
            conn: 1,
            condition: Condition::Conflict
        })
    );
}

#[test]
fn clients_reach_each_other_and_bad_to_is_refused() {
    let mut r = router();
    r.bind(2, FullJid::new("romeo@rayo.test/b").expect("jid"));
    r.handle_stanza(
        el("<message xmlns='jabber:client' from='romeo@rayo.test/b' to='juliet@rayo.test'><body>hi</body></message>"),
        SystemTime::now(),
    );
    assert!(matches!(
        r.poll_output(),
        Some(Routed::Deliver { conn: 1, .. })
    ));
    r.handle_stanza(
        el(&format!(
            "<iq xmlns='jabber:client' type='get' id='x' {FROM} to='a@@b'><q xmlns='urn:x'/></iq>"
        )),
        SystemTime::now(),
    );
    let out = delivered(&mut r);
    assert!(out[0]
        .get_child("error", JABBER_CLIENT)
        .is_some_and(|e| e.has_child("jid-malformed", ns::STANZAS)));
}

/// XEP-0354 on the node's own c2s listener: the query and the choice, for all resources of
/// the bare JID, and messages to the bare JID spread as chosen.
#[test]
fn cmr_query_set_and_messages_spread_by_the_chosen_algorithm() {
    let mut r = router();
    for (c, res) in [(2, "b"), (3, "c")] {
        r.bind(
            c,
            FullJid::new(&format!("juliet@rayo.test/{res}")).expect("jid"),
        );
    }
    r.bind(9, FullJid::new("romeo@rayo.test/x").expect("jid"));
    let outputs = |r: &mut Router<Echo>| -> Vec<(ConnId, Element)> {
        std::iter::from_fn(|| r.poll_output())
            .map(|o| match o {
                Routed::Deliver { conn, stanza } => (conn, stanza),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    };
    r.handle_stanza(
        el(&format!("<iq xmlns='jabber:client' type='get' id='q' {FROM} to='rayo.test'><query xmlns='urn:xmpp:cmr:0'/></iq>")),
        SystemTime::now(),
    );
    let out = outputs(&mut r);
    let query = out[0]
        .1
        .get_child("query", "urn:xmpp:cmr:0")
        .expect("query");
    let active = query.get_child("active", "urn:xmpp:cmr:0").expect("active");
    assert_eq!(active.attr("algorithm"), Some("urn:xmpp:cmr:all"));
    assert_eq!(
        query.children().filter(|c| c.name() == "available").count(),
        4
    );
    let message = || {
        el("<message xmlns='jabber:client' from='romeo@rayo.test/x' to='juliet@rayo.test' type='chat'><body>hi</body></message>")
    };
    r.handle_stanza(message(), SystemTime::now());
    let conns: Vec<ConnId> = outputs(&mut r).into_iter().map(|(c, _)| c).collect();
    assert_eq!(conns, vec![1, 2, 3], "all: every resource");

    // Juliet's resource c chooses roundrobin, for every resource.
    r.handle_stanza(
        el("<iq xmlns='jabber:client' type='set' id='s' from='juliet@rayo.test/c' to='rayo.test'><cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:roundrobin'/></iq>"),
        SystemTime::now(),
    );
    let out = outputs(&mut r);
    assert_eq!((out[0].0, out[0].1.attr("type")), (3, Some("result")));
    let mut got = Vec::new();
    for _ in 0..6 {
        r.handle_stanza(message(), SystemTime::now());
        got.extend(outputs(&mut r).into_iter().map(|(c, _)| c));
    }
    assert_eq!(got, vec![1, 2, 3, 1, 2, 3]);
    // A routing hint on one message wins for that message.
    r.handle_stanza(
        el("<message xmlns='jabber:client' from='romeo@rayo.test/x' to='juliet@rayo.test'><body>all</body><cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:all'/></message>"),
        SystemTime::now(),
    );
    let conns: Vec<ConnId> = outputs(&mut r).into_iter().map(|(c, _)| c).collect();
    assert_eq!(conns, vec![1, 2, 3]);
    // An algorithm that does not exist: not-allowed.
    r.handle_stanza(
        el(&format!("<iq xmlns='jabber:client' type='set' id='n' {FROM} to='rayo.test'><cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:nosuch'/></iq>")),
        SystemTime::now(),
    );
    let out = outputs(&mut r);
    let err = out[0].1.get_child("error", JABBER_CLIENT).expect("error");
    assert!(err.has_child("not-allowed", ns::STANZAS), "{:?}", out[0].1);
}

/// In component mode the bots' own server routes their messages: the node does not claim
/// XEP-0354; on the c2s listener it claims it with its hints.
#[test]
fn cmr_is_advertised_on_the_c2s_listener_only() {
    let features = |mode| {
        let a = Addressing::new("rayo.test", Some("call"), Some("mixer")).expect("domains");
        let mut r = Router::new(a, mode, Echo);
        r.bind(1, FullJid::new("juliet@rayo.test/a").expect("jid"));
        r.handle_stanza(
            el(&format!("<iq xmlns='jabber:client' type='get' id='d' {FROM} to='rayo.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")),
            SystemTime::now(),
        );
        let reply = match r.poll_output() {
            Some(Routed::Deliver { stanza, .. } | Routed::ToServer(stanza)) => stanza,
            other => panic!("unexpected {other:?}"),
        };
        let query = reply
            .get_child("query", "http://jabber.org/protocol/disco#info")
            .expect("query");
        query
            .children()
            .filter_map(|f| f.attr("var").map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let c2s = features(Mode::C2s);
    assert!(c2s.iter().any(|f| f == "urn:xmpp:cmr:0"), "{c2s:?}");
    assert!(c2s.iter().any(|f| f == "urn:xmpp:cmr:hints:0"), "{c2s:?}");
    let component = features(Mode::Component);
    assert!(
        !component.iter().any(|f| f.starts_with("urn:xmpp:cmr")),
        "{component:?}"
    );
}
