//! Tests of the parent module, most against the component side ([`ComponentConnection`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::component::{CloseReason, ComponentConfig, ComponentConnection, ComponentEvent};

const DOMAIN: &str = "node1.example";
const SECRET: &str = "s3cret";

fn config() -> AcceptConfig {
    let mut c = AcceptConfig::new();
    c.add_component(DOMAIN, SECRET);
    c.add_component("other.example", "other");
    c
}

fn drain(c: &mut AcceptConnection) -> String {
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit() {
        let n = b.len();
        out.extend_from_slice(b);
        c.handle_transmitted(n);
    }
    String::from_utf8(out).expect("utf-8")
}

fn events(c: &mut AcceptConnection) -> Vec<AcceptEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Moves bytes both ways until neither side has anything to write (a bounded number of
/// rounds).
fn pump(server: &mut AcceptConnection, node: &mut ComponentConnection, now: Instant) {
    for _ in 0..16 {
        let mut moved = false;
        while let Some(b) = node.poll_transmit() {
            let n = b.len();
            server.handle_input(b, now);
            node.handle_transmitted(n);
            moved = true;
        }
        while let Some(b) = server.poll_transmit() {
            let n = b.len();
            node.handle_input(b, now);
            server.handle_transmitted(n);
            moved = true;
        }
        if !moved {
            return;
        }
    }
    panic!("the two sides never went quiet");
}

/// A server and a node that completed the handshake.
fn connected(config: AcceptConfig, now: Instant) -> (AcceptConnection, ComponentConnection) {
    let mut server = AcceptConnection::new(Arc::new(config), now);
    let mut node = ComponentConnection::new(ComponentConfig::new(DOMAIN, SECRET), now);
    pump(&mut server, &mut node, now);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Authenticated(DOMAIN.into())]
    );
    assert_eq!(node.poll_event(), Some(ComponentEvent::Connected));
    (server, node)
}

fn stanza(s: &str) -> Element {
    s.parse().expect("xml")
}

#[test]
fn handshake_then_stanzas_both_ways() {
    let now = Instant::now();
    let mut server = AcceptConnection::new(Arc::new(config()), now);
    assert_eq!(
        server.poll_transmit(),
        None,
        "nothing before the peer's header"
    );
    assert_eq!(server.domain(), None);
    let mut node = ComponentConnection::new(ComponentConfig::new(DOMAIN, SECRET), now);
    // The header alone: our answer names the domain and carries a fresh id.
    let hello = node.poll_transmit().expect("header").to_vec();
    node.handle_transmitted(hello.len());
    server.handle_input(&hello, now);
    let header = drain(&mut server);
    assert!(
        header.contains("xmlns='jabber:component:accept'"),
        "{header}"
    );
    assert!(header.contains(&format!("from='{DOMAIN}'")), "{header}");
    assert!(header.contains(" id='"), "{header}");
    let stream = header
        .split("<stream:stream")
        .nth(1)
        .expect("a stream header");
    assert!(
        !stream.contains("version="),
        "no stream features follow: {header}"
    );
    assert_eq!(server.domain(), None, "named is not authenticated");
    node.handle_input(header.as_bytes(), now);
    pump(&mut server, &mut node, now);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Authenticated(DOMAIN.into())]
    );
    assert!(server.is_authenticated());
    assert_eq!(server.domain(), Some(DOMAIN));
    assert_eq!(node.poll_event(), Some(ComponentEvent::Connected));

    // Node → gateway: arrives in jabber:client, payload untouched, `from` as sent.
    let iq = stanza(
        "<iq xmlns='jabber:client' type='get' id='1' from='c1@node1.example' to='gw.example'>\
         <ping xmlns='urn:xmpp:ping'/></iq>",
    );
    assert!(node.send_stanza(&iq, now));
    pump(&mut server, &mut node, now);
    let [AcceptEvent::Stanza(got)] = &events(&mut server)[..] else {
        panic!("one stanza")
    };
    assert!(got.is("iq", JABBER_CLIENT));
    assert_eq!(got.attr("from"), Some("c1@node1.example"));
    assert!(got.has_child("ping", "urn:xmpp:ping"));

    // Gateway → node: written in the stream's namespace, read back as jabber:client.
    let reply = stanza(
        "<message xmlns='jabber:client' to='c1@node1.example' from='gw.example'>\
         <body>hi</body></message>",
    );
    assert!(server.send_stanza(&reply, now));
    let wire = drain(&mut server);
    assert!(
        wire.starts_with("<message ") && !wire.contains("xmlns"),
        "{wire}"
    );
    node.handle_input(wire.as_bytes(), now);
    let Some(ComponentEvent::Stanza(m)) = node.poll_event() else {
        panic!("the node got no stanza")
    };
    assert_eq!(
        m.get_child("body", JABBER_CLIENT).map(Element::text),
        Some("hi".into())
    );
}

#[test]
fn stream_ids_are_fresh_and_domains_case_insensitive() {
    let now = Instant::now();
    let config = Arc::new(config());
    let header = |to: &str| {
        let mut s = AcceptConnection::new(config.clone(), now);
        s.handle_input(
            format!(
                "<stream:stream xmlns='jabber:component:accept' \
                 xmlns:stream='http://etherx.jabber.org/streams' to='{to}'>"
            )
            .as_bytes(),
            now,
        );
        drain(&mut s)
    };
    let (a, b) = (header(DOMAIN), header("NODE1.Example"));
    assert!(b.contains(&format!("from='{DOMAIN}'")), "{b}");
    let id = |h: &str| h.split(" id='").nth(1).map(|r| r[..24].to_owned());
    assert!(id(&a).is_some() && id(&a) != id(&b), "{a} / {b}");
}

#[test]
fn a_wrong_secret_is_not_authorized() {
    let now = Instant::now();
    let mut server = AcceptConnection::new(Arc::new(config()), now);
    let mut node = ComponentConnection::new(ComponentConfig::new(DOMAIN, "guess"), now);
    pump(&mut server, &mut node, now);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::NotAuthorized
        ))]
    );
    assert_eq!(server.domain(), None);
    assert!(server.is_closed());
    assert_eq!(
        node.poll_event(),
        Some(ComponentEvent::Closed(CloseReason::PeerError {
            condition: "not-authorized".into(),
            text: Some("handshake refused".into()),
        }))
    );
    // Another domain's secret does not open this one either.
    let mut server = AcceptConnection::new(Arc::new(config()), now);
    let mut node = ComponentConnection::new(ComponentConfig::new(DOMAIN, "other"), now);
    pump(&mut server, &mut node, now);
    assert!(!events(&mut server)
        .iter()
        .any(|e| matches!(e, AcceptEvent::Authenticated(_))));
}

#[test]
fn an_unknown_domain_is_host_unknown() {
    let now = Instant::now();
    let mut server = AcceptConnection::new(Arc::new(config()), now);
    let mut node = ComponentConnection::new(ComponentConfig::new("evil.example", SECRET), now);
    pump(&mut server, &mut node, now);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::HostUnknown
        ))]
    );
    assert!(matches!(
        node.poll_event(),
        Some(ComponentEvent::Closed(CloseReason::PeerError { condition, .. }))
            if condition == "host-unknown"
    ));
}

#[test]
fn no_handshake_in_time_is_a_connection_timeout() {
    let now = Instant::now();
    let mut server = AcceptConnection::new(Arc::new(config()), now);
    let deadline = now + Duration::from_secs(10);
    assert_eq!(server.poll_timeout(), Some(deadline));
    server.handle_input(
        b"<stream:stream xmlns='jabber:component:accept' \
          xmlns:stream='http://etherx.jabber.org/streams' to='node1.example'>",
        now,
    );
    assert_eq!(
        server.poll_timeout(),
        Some(deadline),
        "the header does not extend it"
    );
    server.handle_timeout(deadline - Duration::from_millis(1));
    assert!(!server.is_closed());
    server.handle_timeout(deadline);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::ConnectionTimeout
        ))]
    );
    assert!(drain(&mut server).contains("<connection-timeout "));
    assert_eq!(server.poll_timeout(), None);
}

#[test]
fn a_silent_peer_times_out_without_a_header_too() {
    let now = Instant::now();
    let mut server = AcceptConnection::new(Arc::new(config()), now);
    server.handle_timeout(now + Duration::from_secs(10));
    let out = drain(&mut server);
    // A stream error comes inside a stream: our header first.
    assert!(
        out.starts_with("<?xml version='1.0'?><stream:stream ")
            && out.contains("<connection-timeout "),
        "{out}"
    );
}

#[test]
fn oversized_and_too_deep_stanzas_are_policy_violations() {
    let now = Instant::now();
    let mut c = config();
    c.max_stanza_size = 1000;
    let (mut server, _node) = connected(c.clone(), now);
    let big = format!("<message><body>{}</body></message>", "x".repeat(2000));
    server.handle_input(big.as_bytes(), now);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::PolicyViolation
        ))]
    );
    assert!(drain(&mut server).contains("<policy-violation "));

    c.max_stanza_depth = 4;
    let (mut server, _node) = connected(c, now);
    let nested = |n: usize| format!("<iq>{}{}</iq>", "<a>".repeat(n), "</a>".repeat(n));
    server.handle_input(nested(4).as_bytes(), now);
    assert!(matches!(&events(&mut server)[..], [AcceptEvent::Stanza(_)]));
    server.handle_input(nested(5).as_bytes(), now);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::PolicyViolation
        ))]
    );
    // The default bound refuses 100 000 levels the same way, without building them.
    let (mut server, _node) = connected(config(), now);
    server.handle_input(format!("<iq>{}", "<a>".repeat(100_000)).as_bytes(), now);
    assert!(server.is_closed());
}

#[test]
fn a_stanza_before_the_handshake_is_not_authorized() {
    let now = Instant::now();
    let mut server = AcceptConnection::new(Arc::new(config()), now);
    server.handle_input(
        b"<stream:stream xmlns='jabber:component:accept' \
          xmlns:stream='http://etherx.jabber.org/streams' to='node1.example'>\
          <message to='gw.example' from='node1.example'><body>sneaky</body></message>",
        now,
    );
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::NotAuthorized
        ))]
    );
    assert!(drain(&mut server).contains("<not-authorized "));
    // Nothing is sent to a component that did not authenticate.
    assert!(!server.send_stanza(&stanza("<message xmlns='jabber:client'/>"), now));
}

#[test]
fn a_client_stream_is_an_invalid_namespace() {
    let now = Instant::now();
    let mut server = AcceptConnection::new(Arc::new(config()), now);
    server.handle_input(
        b"<stream:stream xmlns='jabber:client' \
          xmlns:stream='http://etherx.jabber.org/streams' to='node1.example'>",
        now,
    );
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::InvalidNamespace
        ))]
    );
    let out = drain(&mut server);
    assert!(out.contains("<invalid-namespace "), "{out}");
    // Not a stream at all.
    let mut server = AcceptConnection::new(Arc::new(config()), now);
    server.handle_input(
        b"<handshake xmlns='jabber:component:accept'>00</handshake>",
        now,
    );
    assert!(server.is_closed());
    let out = drain(&mut server);
    assert!(out.contains("<invalid-namespace "), "{out}");
}

#[test]
fn without_randomness_there_is_no_stream() {
    let now = Instant::now();
    let mut c = config();
    c.random = rayo_proto::random::failing;
    let mut server = AcceptConnection::new(Arc::new(c), now);
    let mut node = ComponentConnection::new(ComponentConfig::new(DOMAIN, SECRET), now);
    pump(&mut server, &mut node, now);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::InternalServerError
        ))]
    );
    assert_ne!(node.poll_event(), Some(ComponentEvent::Connected));
}

#[test]
fn a_slow_reader_ends_with_resource_constraint() {
    let now = Instant::now();
    let mut c = config();
    c.max_outbound_bytes = 4096;
    let (mut server, _node) = connected(c, now);
    let m = stanza(&format!(
        "<message xmlns='jabber:client' to='c1@node1.example'><body>{}</body></message>",
        "x".repeat(900)
    ));
    let sent = (0..10).take_while(|_| server.send_stanza(&m, now)).count();
    assert_eq!(sent, 4, "four stanzas of 960 bytes fit in 4 KiB, not five");
    assert!(server.is_closed());
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::ResourceConstraint
        ))]
    );
    let out = drain(&mut server);
    assert!(out.starts_with("<resource-constraint") || out.contains("<resource-constraint "));
    assert!(
        !out.contains("<message"),
        "unwritten stanzas were dropped: {out}"
    );
}

#[test]
fn an_idle_stream_gets_whitespace_keepalives() {
    let now = Instant::now();
    let (mut server, _node) = connected(config(), now);
    let at = now + Duration::from_secs(60);
    assert_eq!(server.poll_timeout(), Some(at));
    server.handle_timeout(at - Duration::from_secs(1));
    assert_eq!(drain(&mut server), "");
    server.handle_timeout(at);
    assert_eq!(drain(&mut server), " ");
    assert_eq!(server.poll_timeout(), Some(at + Duration::from_secs(60)));
}

#[test]
fn the_peer_closing_is_reported_and_answered() {
    let now = Instant::now();
    let (mut server, mut node) = connected(config(), now);
    node.close();
    pump(&mut server, &mut node, now);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::ByPeer)]
    );
    assert!(server.is_closed());
    // And a stream error from the peer.
    let (mut server, _node) = connected(config(), now);
    server.handle_input(
        b"<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
          </stream:error>",
        now,
    );
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::PeerError {
            condition: "system-shutdown".into(),
            text: None
        })]
    );
    assert_eq!(drain(&mut server), xml::STREAM_CLOSE);
}

#[test]
fn close_sends_the_condition() {
    let now = Instant::now();
    let (mut server, mut node) = connected(config(), now);
    server.close(Condition::Conflict, "replaced by a newer connection");
    assert!(server.is_closed());
    pump(&mut server, &mut node, now);
    assert!(matches!(
        node.poll_event(),
        Some(ComponentEvent::Closed(CloseReason::PeerError { condition, .. })) if condition == "conflict"
    ));
}

#[test]
fn a_non_stanza_after_the_handshake_is_unsupported() {
    let now = Instant::now();
    let (mut server, _node) = connected(config(), now);
    server.handle_input(b"<handshake/>", now);
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Closed(AcceptCloseReason::Sent(
            Condition::UnsupportedStanzaType
        ))]
    );
}

#[test]
fn the_fuzz_configuration_accepts_its_seed_handshake() {
    let now = Instant::now();
    let mut server = AcceptConnection::new(Arc::new(fuzz_config()), now);
    server.handle_input(
        b"<stream:stream xmlns='jabber:component:accept' \
          xmlns:stream='http://etherx.jabber.org/streams' to='node.example'>\
          <handshake>3450eadba7856d6e1d2e246a3d708a967bd00328</handshake>",
        now,
    );
    assert_eq!(
        events(&mut server),
        vec![AcceptEvent::Authenticated("node.example".into())]
    );
    fuzz_bytes(b"\x10<stream:stream xmlns='jabber:component:accept'");
}
