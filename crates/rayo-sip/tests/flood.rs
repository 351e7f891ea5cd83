//! Issue 12 §13 under a virtual clock: OPTIONS floods from one source and from many. Beyond
//! the transaction limits a request gets a stateless 503 with `Retry-After`; the state of
//! what was answered is gone after timer J; a caller from elsewhere still gets through.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rayo_call::{SignalAction, SignalEvent};
use rayo_sip::message::Message;
use rayo_sip::transaction::{Limits, Peer, Transport};
use rayo_sip::ua::{Config, Output, UserAgent};

/// Past timer J (64·T1 = 32 s) of a UDP transaction.
const AFTER_TIMER_J: Duration = Duration::from_millis(32_001);

/// A user agent with these limits and no place reserved for known sources.
fn ua(total: usize, per_source: usize) -> UserAgent {
    ua_reserving(total, per_source, 0)
}

fn ua_reserving(total: usize, per_source: usize, reserved: usize) -> UserAgent {
    let mut cfg = Config::new("127.0.0.1:5060".parse().expect("addr"));
    cfg.transaction_limits = Limits {
        max_transactions: total,
        max_transactions_per_source: per_source,
        retry_after: Duration::from_secs(7),
        reserved_for_known: Some(reserved),
        ..Limits::default()
    };
    UserAgent::new(cfg)
}

/// The `i`-th of 65 536 source addresses.
fn source(i: u32, transport: Transport) -> Peer {
    Peer {
        addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | i)), 5070),
        transport,
    }
}

fn request(method: &str, from: Peer, n: u32) -> Vec<u8> {
    let (a, t) = (from.addr, from.transport.via_name());
    format!(
        "{method} sip:svc@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/{t} {a};branch=z9hG4bK{n}\r\nFrom: <sip:x@{a}>;tag=f{n}\r\nTo: <sip:svc@127.0.0.1:5060>\r\nCall-ID: flood-{n}\r\nCSeq: 1 {method}\r\nContact: <sip:x@{a}>\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// What the user agent sends, and the calls it offers.
fn outputs(ua: &mut UserAgent) -> (Vec<Message>, Vec<rayo_call::CallId>) {
    let (mut sip, mut calls) = (Vec::new(), Vec::new());
    while let Some(o) = ua.poll_output() {
        match o {
            Output::Transmit(t) => sip.push(Message::parse(&t.bytes, false).expect("SIP").0),
            Output::Signal {
                call,
                event: SignalEvent::Incoming { .. },
            } => calls.push(call),
            _ => {}
        }
    }
    (sip, calls)
}

/// Sends `method` number `n` from `from` at `now`: the statuses it got back.
fn send(ua: &mut UserAgent, now: Instant, method: &str, from: Peer, n: u32) -> Vec<u16> {
    ua.handle_datagram(now, from, &request(method, from, n));
    outputs(ua).0.iter().filter_map(Message::status).collect()
}

fn assert_overload_503(ua: &mut UserAgent, now: Instant, from: Peer, n: u32) {
    ua.handle_datagram(now, from, &request("OPTIONS", from, n));
    let (sip, _) = outputs(ua);
    assert_eq!(sip.len(), 1);
    assert_eq!(sip[0].status(), Some(503));
    assert_eq!(sip[0].header("Retry-After"), Some("7"));
    assert!(sip[0].to_tag().expect("To").is_some(), "a To tag");
}

/// The caller of [`call_gets_through`], a source of its own.
const CALLER: u32 = 0xffff;

/// An INVITE from [`CALLER`] is offered and answered, and its ACK (quoting the 2xx's To tag)
/// absorbed.
fn call_gets_through(ua: &mut UserAgent, now: Instant) {
    call_from_gets_through(ua, now, CALLER, 999_999);
}

/// Call number `n` (under a million) from source `from` is offered, answered and
/// acknowledged.
fn call_from_gets_through(ua: &mut UserAgent, now: Instant, from: u32, n: u32) {
    let caller = source(from, Transport::Udp);
    ua.handle_datagram(now, caller, &request("INVITE", caller, n));
    let (sip, calls) = outputs(ua);
    assert_eq!(
        sip.iter().filter_map(Message::status).collect::<Vec<_>>(),
        [100]
    );
    let [call] = &calls[..] else {
        panic!("offered {calls:?}")
    };
    let answer = SignalAction::Answer {
        call: call.clone(),
        headers: vec![],
    };
    ua.handle_action(now, answer).expect("answer");
    let (sip, _) = outputs(ua);
    assert_eq!(
        sip.iter().filter_map(Message::status).collect::<Vec<_>>(),
        [200]
    );
    let tag = sip[0].to_tag().expect("To").expect("a tag");
    let ack = String::from_utf8(request("ACK", caller, n))
        .expect("text")
        .replace(
            &format!("branch=z9hG4bK{n}\r"),
            &format!("branch=z9hG4bKack{n}\r"),
        )
        .replace(
            "To: <sip:svc@127.0.0.1:5060>",
            &format!("To: <sip:svc@127.0.0.1:5060>;tag={tag}"),
        );
    ua.handle_datagram(now, caller, ack.as_bytes());
    assert_eq!(outputs(ua).0.len(), 0, "the ACK is absorbed");
}

#[test]
fn an_options_flood_from_one_source_gets_503_and_leaves_nothing_after_timer_j() {
    let mut ua = ua(200, 50);
    let t0 = Instant::now();
    let flooder = source(1, Transport::Udp);
    for n in 0..50 {
        assert_eq!(send(&mut ua, t0, "OPTIONS", flooder, n), [200]);
    }
    for n in 50..1000 {
        assert_overload_503(&mut ua, t0, flooder, n);
    }
    assert_eq!(ua.server_transactions(), 50);
    assert_eq!(ua.overloaded(), 950);
    // A retransmission of an answered one is still absorbed with its 200, no new state.
    assert_eq!(send(&mut ua, t0, "OPTIONS", flooder, 3), [200]);
    // REGISTER too: the node has no registrar (501), and no room for this source.
    assert_overload_503(&mut ua, t0, flooder, 2000);
    // During the flood, a call from elsewhere.
    call_gets_through(&mut ua, t0);
    assert_eq!(ua.server_transactions(), 51);

    ua.handle_timeout(t0 + AFTER_TIMER_J);
    assert_eq!(
        ua.server_transactions(),
        0,
        "timers J (OPTIONS) and L (the 2xx)"
    );
    assert_eq!(ua.calls(), 1, "the call is still up");
    assert_eq!(
        send(&mut ua, t0 + AFTER_TIMER_J, "REGISTER", flooder, 3000),
        [501]
    );
}

#[test]
fn an_options_flood_from_many_sources_is_bounded_in_all() {
    let mut ua = ua(300, 50);
    let t0 = Instant::now();
    let (mut ok, mut refused, mut dropped) = (0, 0, 0);
    for n in 0..2000u32 {
        let from = source(n % 1000, Transport::Udp);
        match &send(&mut ua, t0, "OPTIONS", from, n)[..] {
            [200] => ok += 1,
            [503] => refused += 1,
            // Past `max_refusals_per_second` 503s in this second: dropped unanswered.
            [] => dropped += 1,
            s => panic!("{s:?}"),
        }
    }
    assert_eq!(ok, 300);
    assert_eq!((refused, dropped), (1000, 700));
    assert_eq!(ua.server_transactions(), 300);
    // Full: a new caller (in the next second: a new budget of 503s) is told to come back
    // too, statelessly.
    let caller = source(0xffff, Transport::Udp);
    let t = t0 + Duration::from_secs(1);
    assert_eq!(send(&mut ua, t, "INVITE", caller, 5000), [503]);
    assert_eq!(ua.calls(), 0);

    let t1 = t0 + AFTER_TIMER_J;
    ua.handle_timeout(t1);
    assert_eq!(ua.server_transactions(), 0);
    call_gets_through(&mut ua, t1);
}

#[test]
fn over_tcp_the_state_goes_at_once_and_the_table_shrinks_after_a_flood() {
    let mut ua = ua(100_000, 100_000);
    let t0 = Instant::now();
    for n in 0..20_000u32 {
        send(&mut ua, t0, "OPTIONS", source(n, Transport::Udp), n);
    }
    assert_eq!(ua.server_transactions(), 20_000);
    let peak = ua.transaction_capacity();
    assert!(peak >= 20_000, "{peak}");
    ua.handle_timeout(t0 + AFTER_TIMER_J);
    assert_eq!(ua.transactions(), 0);
    assert!(
        ua.transaction_capacity() < peak / 100,
        "the table kept room for {} transactions",
        ua.transaction_capacity()
    );

    // Timer J is zero over TCP: gone at the next timer.
    let t1 = t0 + AFTER_TIMER_J;
    let peer = source(7, Transport::Tcp);
    assert_eq!(send(&mut ua, t1, "OPTIONS", peer, 1), [200]);
    assert_eq!(ua.server_transactions(), 1);
    ua.handle_timeout(t1);
    assert_eq!(ua.server_transactions(), 0);
}

/// Issue 12 §13, the flood from many addresses: it fills the table up to the reserve, and a
/// caller the node has talked with (it acknowledged a 2xx quoting its To tag) still gets in,
/// while a stranger, or a source whose ACK did not quote the tag, is told to come back.
#[test]
fn a_caller_the_node_knows_still_gets_in_during_a_flood_from_many_addresses() {
    let mut ua = ua_reserving(300, 50, 100);
    let t0 = Instant::now();
    call_gets_through(&mut ua, t0);
    assert_eq!(ua.known_sources(), 1);
    // A source whose ACK names no tag of the node's: not known.
    let spoofer = source(0xfffe, Transport::Udp);
    ua.handle_datagram(t0, spoofer, &request("INVITE", spoofer, 500_000));
    let (_, calls) = outputs(&mut ua);
    let answer = SignalAction::Answer {
        call: calls[0].clone(),
        headers: vec![],
    };
    ua.handle_action(t0, answer).expect("answer");
    outputs(&mut ua);
    let ack = String::from_utf8(request("ACK", spoofer, 500_000))
        .expect("text")
        .replace("branch=z9hG4bK500000\r", "branch=z9hG4bKack500000\r")
        .replace(
            "To: <sip:svc@127.0.0.1:5060>",
            "To: <sip:svc@127.0.0.1:5060>;tag=guessed",
        );
    ua.handle_datagram(t0, spoofer, ack.as_bytes());
    outputs(&mut ua);
    assert_eq!(
        ua.known_sources(),
        1,
        "an ACK without the 2xx's tag proves nothing"
    );

    // The flood: 2 000 OPTIONS from 1 000 addresses in a second.
    let (mut ok, mut refused) = (0, 0);
    for n in 0..2000u32 {
        match &send(&mut ua, t0, "OPTIONS", source(n % 1000, Transport::Udp), n)[..] {
            [200] => ok += 1,
            [503] => refused += 1,
            [] => {}
            s => panic!("{s:?}"),
        }
    }
    // Two INVITE transactions (answered, absorbing retransmissions until timer L) and the
    // flood's 198: the 200 places strangers may take.
    assert_eq!((ok, refused), (198, 1000));
    assert_eq!(ua.server_transactions(), 200);
    let t = t0 + Duration::from_secs(1);
    assert_eq!(
        send(
            &mut ua,
            t,
            "INVITE",
            source(0xfffd, Transport::Udp),
            600_000
        ),
        [503]
    );
    assert_eq!(send(&mut ua, t, "INVITE", spoofer, 600_001), [503]);
    // The known caller's next call is offered and answered, from the reserve.
    call_from_gets_through(&mut ua, t, CALLER, 600_002);
    assert_eq!(ua.server_transactions(), 201);
}
