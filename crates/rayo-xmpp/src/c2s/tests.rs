//! Tests of the parent module.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::scram::client_final;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='rayo.test' version='1.0'>";

fn config(tls: bool) -> Arc<C2sConfig> {
    let mut users = Users::new();
    users
        .add_password("juliet", "r0m30")
        .expect("OS randomness");
    let mut c = C2sConfig::new("rayo.test", users);
    c.tls_available = tls;
    c.allow_plain_without_tls = !tls;
    c.max_stanza_size = 4096;
    Arc::new(c)
}

fn drain(c: &mut C2sConnection) -> String {
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit() {
        let n = b.len();
        out.extend_from_slice(b);
        c.handle_transmitted(n);
    }
    String::from_utf8(out).expect("utf-8")
}

fn events(c: &mut C2sConnection) -> Vec<C2sEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn between<'a>(s: &'a str, a: &str, b: &str) -> &'a str {
    let start = s.find(a).map(|i| i + a.len()).expect("start marker");
    let end = s[start..].find(b).map(|i| i + start).expect("end marker");
    &s[start..end]
}

/// Logs in with PLAIN and binds `res`; returns the connection.
fn logged_in(res: &str) -> (C2sConnection, Instant) {
    let now = Instant::now();
    let mut c = C2sConnection::new(config(false), now);
    c.handle_input(HEADER.as_bytes(), now);
    let f = drain(&mut c);
    assert!(f.contains("<mechanism>PLAIN</mechanism>"), "{f}");
    assert!(f.contains("<mechanism>SCRAM-SHA-256</mechanism>"), "{f}");
    let plain = B64.encode("\0juliet\0r0m30");
    c.handle_input(
        format!("<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{plain}</auth>").as_bytes(),
        now,
    );
    assert!(drain(&mut c).contains("<success"));
    c.handle_input(HEADER.as_bytes(), now);
    assert!(drain(&mut c).contains("<bind xmlns"));
    c.handle_input(
        format!(
            "<iq type='set' id='b'><bind xmlns='{NS_BIND}'><resource>{res}</resource></bind></iq>"
        )
        .as_bytes(),
        now,
    );
    let bound = drain(&mut c);
    assert!(
        bound.contains(&format!("<jid>juliet@rayo.test/{res}</jid>")),
        "{bound}"
    );
    let ev = events(&mut c);
    assert!(ev.contains(&C2sEvent::Bound(
        FullJid::new(&format!("juliet@rayo.test/{res}")).expect("jid")
    )));
    (c, now)
}

#[test]
fn plain_login_binds_and_stamps_from() {
    let (mut c, now) = logged_in("balcony");
    c.handle_input(b"<presence to='rayo.test' from='romeo@evil/x'/>", now);
    let ev = events(&mut c);
    let [C2sEvent::Stanza(p)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(p.attr("from"), Some("juliet@rayo.test/balcony"));
}

#[test]
fn scram_sha_256_login() {
    let now = Instant::now();
    let mut c = C2sConnection::new(config(false), now);
    c.handle_input(HEADER.as_bytes(), now);
    drain(&mut c);
    let first_bare = "n=juliet,r=abcdefgh";
    c.handle_input(
        format!(
            "<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-256'>{}</auth>",
            B64.encode(format!("n,,{first_bare}"))
        )
        .as_bytes(),
        now,
    );
    let out = drain(&mut c);
    let challenge = B64
        .decode(between(&out, "'>", "</challenge>"))
        .expect("b64");
    let server_first = String::from_utf8(challenge).expect("utf-8");
    let fin = client_final(ScramHash::Sha256, "r0m30", first_bare, &server_first);
    c.handle_input(
        format!("<response xmlns='{NS_SASL}'>{}</response>", B64.encode(fin)).as_bytes(),
        now,
    );
    let out = drain(&mut c);
    assert!(out.contains("<success"), "{out}");
    assert_eq!(
        events(&mut c),
        vec![C2sEvent::Authenticated("juliet".into())]
    );
}

#[test]
fn wrong_password_is_refused_then_stream_closed() {
    let now = Instant::now();
    let mut c = C2sConnection::new(config(false), now);
    c.handle_input(HEADER.as_bytes(), now);
    drain(&mut c);
    let bad = B64.encode("\0juliet\0nope");
    for i in 0..3 {
        c.handle_input(
            format!("<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{bad}</auth>").as_bytes(),
            now,
        );
        let out = drain(&mut c);
        assert!(out.contains("<not-authorized/></failure>"), "{out}");
        assert_eq!(c.is_closed(), i == 2);
        assert!(
            events(&mut c).contains(&C2sEvent::AuthFailed),
            "each failure is told to the driver"
        );
    }
}

/// Issue 12 §12: while the client's address is over its failed-login rate, even the right
/// password gets `<temporary-auth-failure/>`: nothing is checked, so nothing is learnt.
#[test]
fn a_throttled_address_gets_temporary_auth_failure_unchecked() {
    let now = Instant::now();
    let mut c = C2sConnection::new(config(false), now);
    c.handle_input(HEADER.as_bytes(), now);
    drain(&mut c);
    c.set_login_allowed(false);
    let good = B64.encode("\0juliet\0r0m30");
    c.handle_input(
        format!("<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{good}</auth>").as_bytes(),
        now,
    );
    let out = drain(&mut c);
    assert!(out.contains("<temporary-auth-failure/></failure>"), "{out}");
    assert!(
        events(&mut c).is_empty(),
        "neither a login nor a checked failure"
    );
    c.set_login_allowed(true);
    c.handle_input(
        format!("<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{good}</auth>").as_bytes(),
        now,
    );
    assert!(drain(&mut c).contains("<success"));
}

#[test]
fn starttls_required_before_auth() {
    let now = Instant::now();
    let mut c = C2sConnection::new(config(true), now);
    c.handle_input(HEADER.as_bytes(), now);
    let f = drain(&mut c);
    assert!(
        f.contains("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"),
        "{f}"
    );
    assert!(!f.contains("mechanisms"), "{f}");
    c.handle_input(format!("<starttls xmlns='{NS_TLS}'/>").as_bytes(), now);
    assert!(drain(&mut c).contains("<proceed"));
    assert_eq!(events(&mut c), vec![C2sEvent::StartTls]);
    c.handle_tls_established();
    c.handle_input(HEADER.as_bytes(), now);
    let f = drain(&mut c);
    assert!(
        f.contains("<mechanism>PLAIN</mechanism>") && !f.contains("starttls"),
        "{f}"
    );
}

#[test]
fn wrong_host_and_malformed_xml_get_stream_errors() {
    let now = Instant::now();
    let mut c = C2sConnection::new(config(false), now);
    c.handle_input(HEADER.replace("rayo.test", "elsewhere").as_bytes(), now);
    let out = drain(&mut c);
    assert!(out.starts_with("<?xml"), "header first: {out}");
    assert!(out.contains("<host-unknown"), "{out}");
    assert!(out.ends_with("</stream:stream>"));
    assert_eq!(
        events(&mut c),
        vec![C2sEvent::Closed(Some(Condition::HostUnknown))]
    );

    let (mut c, now) = logged_in("a");
    c.handle_input(b"<message><body>x</mess", now);
    c.handle_input(b"age></body>", now);
    assert!(drain(&mut c).contains("<not-well-formed"));
    assert!(c.is_closed());
}

#[test]
fn oversized_stanza_and_flood_get_policy_violation() {
    let (mut c, now) = logged_in("a");
    let big = format!("<message><body>{}</body></message>", "x".repeat(5000));
    c.handle_input(big.as_bytes(), now);
    assert!(drain(&mut c).contains("<policy-violation"));

    let (mut c, now) = logged_in("b");
    for _ in 0..2000 {
        c.handle_input(b"<presence/>", now);
    }
    let out = drain(&mut c);
    assert!(out.contains("<policy-violation"), "{out}");
    assert!(out.contains("too many stanzas"));
}

#[test]
fn slow_reader_gets_resource_constraint() {
    let (mut c, now) = logged_in("a");
    let msg: Element =
        "<message xmlns='jabber:client' to='juliet@rayo.test/a'><body>hello there</body></message>"
            .parse()
            .expect("xml");
    let mut sent = 0;
    while c.send_stanza(&msg, now) {
        sent += 1;
        assert!(sent < 1_000_000);
    }
    assert!(c.queued_bytes() < 1024 * 1024 + 1000);
    assert!(drain(&mut c).ends_with("</stream:error></stream:stream>"));
    assert!(events(&mut c).contains(&C2sEvent::Closed(Some(Condition::ResourceConstraint))));
}

#[test]
fn keepalive_then_ping_then_timeout() {
    let (mut c, now) = logged_in("a");
    let t = c.poll_timeout().expect("timer");
    assert_eq!(t, now + Duration::from_secs(60));
    c.handle_timeout(t);
    assert_eq!(drain(&mut c), " ");
    let t = c.poll_timeout().expect("timer");
    assert_eq!(t, now + Duration::from_secs(120));
    c.handle_timeout(t);
    let ping = drain(&mut c);
    assert!(ping.contains("<ping xmlns='urn:xmpp:ping'/>"), "{ping}");
    let t = c.poll_timeout().expect("timer");
    c.handle_timeout(t);
    assert!(drain(&mut c).contains("<connection-timeout"));

    // A client that answers stays up.
    let (mut c, now) = logged_in("b");
    c.handle_timeout(now + Duration::from_secs(120));
    let ping = drain(&mut c);
    let id = between(&ping, "id='", "'").to_owned();
    c.handle_input(
        format!("<iq type='result' id='{id}'/>").as_bytes(),
        now + Duration::from_secs(121),
    );
    assert!(events(&mut c).is_empty(), "the pong is not routed");
    c.handle_timeout(now + Duration::from_secs(160));
    assert!(!c.is_closed());
}

#[test]
fn stanzas_before_auth_are_refused() {
    let now = Instant::now();
    let mut c = C2sConnection::new(config(false), now);
    c.handle_input(HEADER.as_bytes(), now);
    c.handle_input(b"<message to='x@y'/>", now);
    assert!(drain(&mut c).contains("<not-authorized"));
}

const ABORT: &str = "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";

#[test]
fn aborts_before_tls_from_a_client_that_never_reads_stay_within_the_queue_bound() {
    // The element limit out of the way: the byte bound alone holds the queue.
    let mut cfg = (*config(true)).clone();
    cfg.max_negotiation_elements = u32::MAX;
    let bound = cfg.max_negotiation_queued_bytes;
    let now = Instant::now();
    let mut c = C2sConnection::new(Arc::new(cfg), now);
    c.handle_input(HEADER.as_bytes(), now);
    let mut fed = 0;
    while !c.is_closed() {
        c.handle_input(ABORT.as_bytes(), now);
        assert!(
            c.queued_bytes() <= bound + 512,
            "{} queued",
            c.queued_bytes()
        );
        fed += 1;
        assert!(fed < 100_000, "the stream never closed");
    }
    assert!(
        fed > 100,
        "a normal negotiation's replies fit: closed after {fed}"
    );
    assert_eq!(
        events(&mut c),
        vec![C2sEvent::Closed(Some(Condition::PolicyViolation))]
    );
    let out = drain(&mut c);
    assert!(out.contains("<policy-violation"), "{out}");
    assert!(out.ends_with("</stream:error></stream:stream>"), "{out}");
}

#[test]
fn more_negotiation_elements_than_allowed_get_policy_violation() {
    let now = Instant::now();
    let mut c = C2sConnection::new(config(true), now);
    c.handle_input(HEADER.as_bytes(), now);
    drain(&mut c);
    for _ in 0..32 {
        c.handle_input(ABORT.as_bytes(), now);
    }
    let out = drain(&mut c);
    assert_eq!(out.matches("<aborted/>").count(), 32, "{out}");
    assert!(!c.is_closed());
    c.handle_input(ABORT.as_bytes(), now);
    let out = drain(&mut c);
    assert!(out.contains("<policy-violation"), "{out}");
    assert!(
        !out.contains("<aborted/>"),
        "the 33rd is not answered: {out}"
    );
    assert_eq!(
        events(&mut c),
        vec![C2sEvent::Closed(Some(Condition::PolicyViolation))]
    );
}

#[test]
fn a_login_fits_in_the_negotiation_limits_and_bound_streams_are_not_counted() {
    let (mut c, now) = logged_in("a");
    for i in 0..100 {
        c.handle_input(format!("<iq type='get' id='p{i}'/>").as_bytes(), now);
    }
    assert!(!c.is_closed());
    assert_eq!(events(&mut c).len(), 100, "every stanza handed on");
}
