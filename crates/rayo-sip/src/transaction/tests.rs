//! Transactions under a virtual clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;

const S: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

fn peer(t: Transport) -> Peer {
    Peer {
        addr: "127.0.0.1:5070".parse().expect("addr"),
        transport: t,
    }
}

fn request(method: &str, branch: &str) -> Message {
    let m: Method = method.into();
    Message::request(m, "sip:bob@127.0.0.1:5070")
        .expect("uri")
        .with(
            "Via",
            &format!("SIP/2.0/UDP 127.0.0.1:5060;branch={branch}"),
        )
        .with("Max-Forwards", "70")
        .with("From", "<sip:rayo@127.0.0.1>;tag=f1")
        .with("To", "<sip:bob@127.0.0.1:5070>")
        .with("Call-ID", "c1")
        .with("CSeq", &format!("1 {method}"))
}

/// Runs the clock from `start` to `end` in 10 ms steps; returns the send times (ms after
/// `start`) and the events.
fn run(tx: &mut Transactions, start: Instant, end: Duration) -> (Vec<u128>, Vec<TxEvent>) {
    let mut sends = Vec::new();
    let mut events = Vec::new();
    let mut now = start;
    while now <= start + end {
        tx.handle_timeout(now);
        while let Some(_t) = tx.poll_transmit() {
            sends.push((now - start).as_millis());
        }
        events.extend(std::iter::from_fn(|| tx.poll_event()));
        now += 10 * MS;
    }
    (sends, events)
}

#[test]
fn invite_retransmits_over_udp_until_timer_b() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    tx.send_request(t0, request("INVITE", "z9hG4bK1"), peer(Transport::Udp))
        .expect("sent");
    let (sends, events) = run(&mut tx, t0, 40 * S);
    assert_eq!(sends, vec![0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert!(matches!(&events[..], [TxEvent::Timeout { key }] if key.method == "INVITE"));
    assert!(tx.is_empty());
}

#[test]
fn no_retransmission_over_tcp_but_timer_b() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    tx.send_request(t0, request("INVITE", "z9hG4bK1"), peer(Transport::Tcp))
        .expect("sent");
    let (sends, events) = run(&mut tx, t0, 33 * S);
    assert_eq!(sends, vec![0]);
    assert_eq!(events.len(), 1);
}

#[test]
fn non_invite_caps_at_t2_until_timer_f() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    tx.send_request(t0, request("OPTIONS", "z9hG4bK2"), peer(Transport::Udp))
        .expect("sent");
    let (sends, events) = run(&mut tx, t0, 40 * S);
    assert_eq!(
        sends,
        vec![0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
    );
    assert!(matches!(&events[..], [TxEvent::Timeout { key }] if key.method == "OPTIONS"));
}

#[test]
fn provisional_stops_invite_retransmissions() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let inv = request("INVITE", "z9hG4bK3");
    tx.send_request(t0, inv.clone(), peer(Transport::Udp))
        .expect("sent");
    let _ = tx.poll_transmit();
    tx.handle_message(
        t0 + 100 * MS,
        response_to(&inv, 180, Some("t")),
        peer(Transport::Udp),
    );
    let (sends, events) = run(&mut tx, t0, 60 * S);
    assert!(sends.is_empty());
    assert!(matches!(&events[..], [TxEvent::Response { msg, .. }] if msg.status() == Some(180)));
}

#[test]
fn ack_for_non_2xx_and_for_each_retransmission() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let inv = request("INVITE", "z9hG4bK4");
    tx.send_request(t0, inv.clone(), peer(Transport::Udp))
        .expect("sent");
    let _ = tx.poll_transmit();
    let busy = response_to(&inv, 486, Some("totag"));
    tx.handle_message(t0 + 100 * MS, busy.clone(), peer(Transport::Udp));
    tx.handle_message(t0 + 600 * MS, busy, peer(Transport::Udp));
    let acks: Vec<_> = std::iter::from_fn(|| tx.poll_transmit()).collect();
    assert_eq!(acks.len(), 2);
    let (ack, _) = Message::parse(&acks[0].bytes, false).expect("valid ACK");
    assert_eq!(ack.method(), Some(&Method::ACK));
    assert_eq!(ack.branch().expect("branch"), "z9hG4bK4");
    assert_eq!(ack.cseq().expect("cseq"), (1, Method::ACK));
    assert_eq!(ack.to_tag().expect("to").as_deref(), Some("totag"));
    assert_eq!(ack.request_uri().as_deref(), Some("sip:bob@127.0.0.1:5070"));
    let events: Vec<_> = std::iter::from_fn(|| tx.poll_event()).collect();
    assert_eq!(events.len(), 1, "the final response reaches the TU once");
    // Timer D ends the transaction after 32 s.
    let (sends, _) = run(&mut tx, t0 + 100 * MS, 33 * S);
    assert!(sends.is_empty());
    assert!(tx.is_empty());
}

#[test]
fn server_absorbs_retransmitted_invite_and_resends_last_response() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let inv = request("INVITE", "z9hG4bK5");
    tx.handle_message(t0, inv.clone(), peer(Transport::Udp));
    let trying = tx.poll_transmit().expect("100 Trying");
    assert!(trying.bytes.starts_with(b"SIP/2.0 100"));
    let Some(TxEvent::Request { key, .. }) = tx.poll_event() else {
        panic!("a request")
    };
    tx.send_response(t0, &key, response_to(&inv, 180, Some("t")))
        .expect("sent");
    let _ = tx.poll_transmit();
    tx.handle_message(t0 + 500 * MS, inv.clone(), peer(Transport::Udp));
    assert!(tx.poll_event().is_none(), "absorbed");
    let again = tx.poll_transmit().expect("180 again");
    assert!(again.bytes.starts_with(b"SIP/2.0 180"));
}

#[test]
fn server_non_2xx_retransmits_with_g_until_ack() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let inv = request("INVITE", "z9hG4bK6");
    tx.handle_message(t0, inv.clone(), peer(Transport::Udp));
    let _ = tx.poll_transmit();
    let Some(TxEvent::Request { key, .. }) = tx.poll_event() else {
        panic!("a request")
    };
    tx.send_response(t0, &key, response_to(&inv, 603, Some("t")))
        .expect("sent");
    let (sends, _) = run(&mut tx, t0, 2 * S);
    assert_eq!(sends, vec![0, 500, 1500]);
    let mut ack = request("ACK", "z9hG4bK6");
    ack.remove("CSeq");
    ack.push("CSeq", "1 ACK");
    tx.handle_message(t0 + 2 * S, ack, peer(Transport::Udp));
    assert!(
        tx.poll_event().is_none(),
        "the ACK of a non-2xx stays in the transaction"
    );
    let (sends, events) = run(&mut tx, t0 + 2 * S, 40 * S);
    assert!(sends.is_empty());
    assert!(events.is_empty());
    assert!(tx.is_empty(), "timer I ended it");
}

#[test]
fn server_timer_h_without_ack() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let inv = request("INVITE", "z9hG4bK7");
    tx.handle_message(t0, inv.clone(), peer(Transport::Udp));
    let Some(TxEvent::Request { key, .. }) = tx.poll_event() else {
        panic!("a request")
    };
    tx.send_response(t0, &key, response_to(&inv, 486, Some("t")))
        .expect("sent");
    let (sends, events) = run(&mut tx, t0, 40 * S);
    // 100, 486, then G: 0.5, 1.5, 3.5, 7.5, 11.5 ... up to 31.5.
    assert_eq!(sends.len(), 2 + 10);
    assert!(matches!(&events[..], [TxEvent::Timeout { .. }]));
}

#[test]
fn server_non_invite_answers_retransmissions_until_j() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let opt = request("OPTIONS", "z9hG4bK8");
    tx.handle_message(t0, opt.clone(), peer(Transport::Udp));
    let Some(TxEvent::Request { key, .. }) = tx.poll_event() else {
        panic!("a request")
    };
    tx.send_response(t0, &key, response_to(&opt, 200, Some("t")))
        .expect("sent");
    let _ = tx.poll_transmit();
    tx.handle_message(t0 + S, opt.clone(), peer(Transport::Udp));
    assert!(tx.poll_event().is_none());
    assert!(tx
        .poll_transmit()
        .expect("200 again")
        .bytes
        .starts_with(b"SIP/2.0 200"));
    let _ = run(&mut tx, t0 + S, 33 * S);
    assert!(tx.is_empty());
}

#[test]
fn two_hundred_retransmitted_until_ack() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let inv = request("INVITE", "z9hG4bK9");
    tx.handle_message(t0, inv.clone(), peer(Transport::Udp));
    let _ = tx.poll_transmit();
    let Some(TxEvent::Request { key, .. }) = tx.poll_event() else {
        panic!("a request")
    };
    tx.send_response(t0, &key, response_to(&inv, 200, Some("t")))
        .expect("sent");
    let (sends, _) = run(&mut tx, t0, 2 * S);
    assert_eq!(sends, vec![0, 500, 1500]);
    let mut ack = request("ACK", "z9hG4bKnew");
    ack.remove("CSeq");
    ack.push("CSeq", "1 ACK");
    tx.handle_message(t0 + 2 * S, ack, peer(Transport::Udp));
    assert!(matches!(tx.poll_event(), Some(TxEvent::Request { key, .. }) if key.method == "ACK"));
    let (sends, events) = run(&mut tx, t0 + 2 * S, 40 * S);
    assert!(sends.is_empty());
    assert!(events.is_empty());
}

#[test]
fn an_unanswered_non_invite_goes_after_64_t1_and_an_invite_stays() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    tx.handle_message(t0, request("OPTIONS", "z9hG4bKo"), peer(Transport::Udp));
    tx.handle_message(t0, request("INVITE", "z9hG4bKi"), peer(Transport::Udp));
    assert_eq!(tx.server_len(), 2);
    tx.handle_timeout(t0 + 32 * S - MS);
    assert_eq!(tx.server_len(), 2);
    tx.handle_timeout(t0 + 32 * S);
    // The OPTIONS nobody answered is gone; the INVITE waits for its call to be decided.
    assert_eq!(tx.server_len(), 1);
    assert!(tx
        .poll_event()
        .is_some_and(|e| matches!(e, TxEvent::Request { .. })));
}

#[test]
fn beyond_the_limits_a_request_gets_a_stateless_503() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default()).with_limits(Limits {
        max_transactions: 10,
        max_transactions_per_source: 2,
        retry_after: Duration::from_millis(300),
        reserved_for_known: Some(0),
        ..Limits::default()
    });
    for b in ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3"] {
        tx.handle_message(t0, request("OPTIONS", b), peer(Transport::Udp));
    }
    assert_eq!((tx.server_len(), tx.overloaded), (2, 1));
    let sent: Vec<_> = std::iter::from_fn(|| tx.poll_transmit()).collect();
    let [t] = &sent[..] else { panic!("{sent:?}") };
    let (r, _) = Message::parse(&t.bytes, false).expect("SIP");
    assert_eq!(r.status(), Some(503));
    // Retry-After is whole seconds, at least one.
    assert_eq!(r.header("Retry-After"), Some("1"));
}

/// RFC 3261 §8.1.3.1: a request that could not be sent (its TCP connection failed) ends its
/// transaction at once with a 503, not 32 s later at timer B; a second report, or one for
/// an answered transaction, changes nothing.
#[test]
fn a_transport_error_ends_the_client_transaction_with_a_503_at_once() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let invite = request("INVITE", "z9hG4bKte");
    tx.send_request(t0, invite.clone(), peer(Transport::Tcp))
        .expect("sent");
    let sent = tx
        .poll_transmit()
        .expect("the INVITE was handed to the transport");
    tx.handle_transport_error(&sent.bytes);
    let events: Vec<TxEvent> = std::iter::from_fn(|| tx.poll_event()).collect();
    match &events[..] {
        [TxEvent::Response { key, msg }] => {
            assert_eq!(key.method, "INVITE");
            assert_eq!(msg.status(), Some(503));
        }
        other => panic!("expected one 503: {other:?}"),
    }
    assert!(tx.is_empty(), "the transaction is gone");
    tx.handle_transport_error(&sent.bytes);
    assert!(tx.poll_event().is_none());
    let (_, later) = run(&mut tx, t0, 33 * S);
    assert!(later.is_empty(), "no timer B afterwards: {later:?}");
}

/// Issue 12 §13: under a flood from many addresses the 503s themselves are bounded: at most
/// `max_refusals_per_second` go out in a second, the rest is dropped unanswered and counted;
/// the next second has its own budget.
#[test]
fn the_503s_of_a_flood_are_rate_limited() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default()).with_limits(Limits {
        max_transactions: 1,
        max_transactions_per_source: 1,
        max_refusals_per_second: 5,
        ..Limits::default()
    });
    let flood = |tx: &mut Transactions, at: Instant, from: u32, n: u32| {
        for i in from..from + n {
            let p = Peer {
                addr: SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 5070)),
                transport: Transport::Udp,
            };
            tx.handle_message(at, request("OPTIONS", &format!("z9hG4bKf{i}")), p);
        }
        std::iter::from_fn(|| tx.poll_transmit()).count()
    };
    // One transaction admitted (nobody answers it), 5 refused with a 503, 94 dropped.
    assert_eq!(flood(&mut tx, t0, 0, 100), 5);
    assert_eq!(
        (tx.server_len(), tx.overloaded, tx.refusals_dropped),
        (1, 5, 94)
    );
    // Still within the same second: nothing more goes out.
    assert_eq!(flood(&mut tx, t0 + Duration::from_millis(900), 100, 10), 0);
    // A second later, another 5.
    assert_eq!(flood(&mut tx, t0 + Duration::from_millis(1000), 200, 10), 5);
    assert_eq!((tx.overloaded, tx.refusals_dropped), (10, 109));
}

/// Issue 12 §13: a source that answers a request of the node's (quoting its random branch)
/// becomes known, and may use the places reserved for known sources; the same response from
/// another address proves nothing.
#[test]
fn a_source_that_answers_a_request_becomes_known_and_may_use_the_reserve() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default()).with_limits(Limits {
        max_transactions: 3,
        max_transactions_per_source: 3,
        reserved_for_known: Some(2),
        ..Limits::default()
    });
    let trunk = peer(Transport::Udp);
    let other = Peer {
        addr: "127.0.0.9:5070".parse().expect("addr"),
        transport: Transport::Udp,
    };
    // Strangers have one place: the trunk's second request is refused.
    tx.handle_message(t0, request("OPTIONS", "z9hG4bKs1"), trunk);
    tx.handle_message(t0, request("OPTIONS", "z9hG4bKs2"), trunk);
    assert_eq!((tx.server_len(), tx.overloaded), (1, 1));
    // The node's OPTIONS to the trunk, answered from elsewhere: nothing proved.
    let ping = request("OPTIONS", "z9hG4bKping1");
    tx.send_request(t0, ping.clone(), trunk).expect("sent");
    tx.handle_message(t0, response_to(&ping, 200, Some("x")), other);
    assert_eq!(tx.known_sources(), 0);
    // Answered by the trunk itself: known.
    tx.handle_message(t0, response_to(&ping, 200, Some("x")), trunk);
    assert_eq!(tx.known_sources(), 1);
    tx.handle_message(t0, request("OPTIONS", "z9hG4bKs3"), trunk);
    tx.handle_message(t0, request("OPTIONS", "z9hG4bKs4"), trunk);
    assert_eq!(
        (tx.server_len(), tx.overloaded),
        (3, 1),
        "the reserve is the trunk's"
    );
    // A stranger still has no room.
    tx.handle_message(t0, request("OPTIONS", "z9hG4bKs5"), other);
    assert_eq!(tx.overloaded, 2);
}

/// Only the ACK of a 2xx that opened a dialog (a To tag the node drew just then), from the
/// INVITE's own source, makes that source known: not one from elsewhere quoting the tag, and
/// not the ACK of a re-INVITE's 2xx (its tag is the dialog's, known to the peer already), even
/// from the address the re-INVITE came from.
#[test]
fn only_the_ack_of_a_fresh_dialogs_2xx_from_its_source_proves_it() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let caller = peer(Transport::Udp);
    let spoofed = Peer {
        addr: "127.0.0.9:5070".parse().expect("addr"),
        transport: Transport::Udp,
    };
    let answer = |tx: &mut Transactions, inv: &Message, from: Peer| {
        while tx.poll_event().is_some() {}
        tx.handle_message(t0, inv.clone(), from);
        let Some(TxEvent::Request { key, .. }) = tx.poll_event() else {
            panic!("the INVITE reaches the TU")
        };
        tx.send_response(t0, &key, response_to(inv, 200, Some("n0de")))
            .expect("answered");
        while tx.poll_transmit().is_some() {}
    };
    let ack = |inv: &Message, branch: &str| {
        let mut a = request("ACK", branch);
        a.remove("To");
        a.push("To", &format!("{};tag=n0de", inv.header("To").expect("To")));
        a.remove("CSeq");
        a.push("CSeq", &format!("{} ACK", inv.cseq().expect("CSeq").0));
        a
    };
    // A fresh dialog's 2xx acknowledged from elsewhere: nothing proved.
    let inv = request("INVITE", "z9hG4bKf1");
    answer(&mut tx, &inv, caller);
    tx.handle_message(t0, ack(&inv, "z9hG4bKa1"), spoofed);
    assert_eq!(tx.known_sources(), 0);
    // A re-INVITE (To tagged) from the spoofed address, its 2xx acknowledged from there.
    let mut reinvite = request("INVITE", "z9hG4bKr1");
    reinvite.remove("To");
    reinvite.push("To", "<sip:bob@127.0.0.1:5070>;tag=n0de");
    reinvite.remove("CSeq");
    reinvite.push("CSeq", "2 INVITE");
    answer(&mut tx, &reinvite, spoofed);
    let mut re_ack = ack(&reinvite, "z9hG4bKa2");
    re_ack.remove("To");
    re_ack.push("To", "<sip:bob@127.0.0.1:5070>;tag=n0de");
    tx.handle_message(t0, re_ack, spoofed);
    assert_eq!(tx.known_sources(), 0, "a re-INVITE's ACK proves nothing");
    // The fresh dialog's ACK from the caller itself: known.
    tx.handle_message(t0, ack(&inv, "z9hG4bKa3"), caller);
    assert_eq!(tx.known_sources(), 1);
}

/// A transaction that ends before its longest timer takes that timer with it: after an
/// answered OPTIONS (timer K, 5 s) nothing is left to wake for at 32 s (timer F), and the
/// next wake-up is the next live transaction's.
#[test]
fn an_ended_transaction_leaves_no_timer_behind() {
    let t0 = Instant::now();
    let mut tx = Transactions::new(Timers::default());
    let opts = request("OPTIONS", "z9hG4bK9");
    tx.send_request(t0, opts.clone(), peer(Transport::Udp))
        .expect("sent");
    tx.handle_message(
        t0 + 100 * MS,
        response_to(&opts, 200, Some("t")),
        peer(Transport::Udp),
    );
    let (_, events) = run(&mut tx, t0, 6 * S);
    assert!(matches!(&events[..], [TxEvent::Response { msg, .. }] if msg.status() == Some(200)));
    assert!(tx.is_empty(), "timer K ended it");
    assert_eq!(tx.poll_timeout(), None, "timer F went with it");
    let inv = request("INVITE", "z9hG4bK10");
    tx.send_request(t0 + 6 * S, inv, peer(Transport::Tcp))
        .expect("sent");
    assert_eq!(tx.poll_timeout(), Some(t0 + 6 * S + 32 * S), "timer B only");
}
