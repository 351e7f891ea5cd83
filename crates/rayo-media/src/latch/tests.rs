#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;

fn a(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

const PEER: &str = "192.0.2.1:4000";
const NAT: &str = "198.51.100.7:31000";
const EVIL: &str = "203.0.113.9:5555";

/// A lock with the default window whose SDP address is `PEER` since `t0`.
fn fresh() -> (Instant, SourceLock) {
    let t0 = Instant::now();
    let mut l = SourceLock::new(DEFAULT_LATCH_WINDOW);
    l.set_remote(t0, a(PEER));
    (t0, l)
}

fn ms(t0: Instant, n: u64) -> Instant {
    t0 + Duration::from_millis(n)
}

#[test]
fn nothing_before_the_sdp_address() {
    let t0 = Instant::now();
    let mut l = SourceLock::new(DEFAULT_LATCH_WINDOW);
    assert!(!l.accept(t0, a(PEER), 1, 1));
    assert_eq!(l.send_to(), None);
    assert_eq!(l.stats().foreign_source, 1);
}

#[test]
fn the_sdp_peer_is_locked_and_others_dropped() {
    let (t0, mut l) = fresh();
    assert!(l.accept(ms(t0, 20), a(PEER), 7, 100));
    // Another source, even with consecutive sequence numbers inside the window: dropped.
    for i in 0..10u16 {
        assert!(!l.accept(ms(t0, 30 + u64::from(i)), a(EVIL), 9, i));
        assert!(l.accept(ms(t0, 40 + 20 * u64::from(i)), a(PEER), 7, 101 + i));
    }
    let s = l.stats();
    assert_eq!((s.foreign_source, s.foreign_ssrc, s.latches), (10, 0, 1));
    assert_eq!(l.locked(), Some((a(PEER), 7)));
    assert_eq!(l.send_to(), Some(a(PEER)));
}

#[test]
fn a_peer_behind_nat_is_latched_after_probation_inside_the_window() {
    let (t0, mut l) = fresh();
    assert_eq!(l.send_to(), Some(a(PEER)));
    let got: Vec<bool> = (0..5u16)
        .map(|i| l.accept(ms(t0, 20 * u64::from(i)), a(NAT), 3, 500 + i))
        .collect();
    assert_eq!(got, [false, false, true, true, true]);
    assert_eq!(
        l.send_to(),
        Some(a(NAT)),
        "symmetric RTP: back to the source"
    );
    // Now locked: a third source is dropped whatever it does.
    for i in 0..5u16 {
        assert!(!l.accept(ms(t0, 200), a(EVIL), 3, 505 + i));
    }
    assert_eq!(l.stats().foreign_source, 2 + 5);
}

#[test]
fn a_single_foreign_packet_or_a_broken_sequence_latches_nothing() {
    let (t0, mut l) = fresh();
    // Interleaved sources and jumping sequence numbers never complete a probation.
    for i in 0..20u16 {
        assert!(!l.accept(ms(t0, u64::from(i)), a(EVIL), 9, i * 2));
        assert!(!l.accept(ms(t0, u64::from(i)), a(NAT), 3, i));
    }
    assert_eq!(l.locked(), None);
    // A sequence that goes back, or jumps too far, starts the probation again.
    let (t0, mut l) = fresh();
    for (i, seq) in [10u16, 11, 9, 10, 10 + PROBATION_GAP + 1]
        .into_iter()
        .enumerate()
    {
        assert!(!l.accept(ms(t0, i as u64), a(NAT), 3, seq), "packet {i}");
    }
    assert_eq!(l.locked(), None);
}

/// Packets lost on the way (or a sender stepping by 2) do not stop a probation.
#[test]
fn a_probation_survives_small_gaps() {
    let (t0, mut l) = fresh();
    let got: Vec<bool> = [100u16, 102, 110, 111]
        .into_iter()
        .enumerate()
        .map(|(i, seq)| l.accept(ms(t0, 20 * i as u64), a(NAT), 3, seq))
        .collect();
    assert_eq!(got, [false, false, true, true]);
    assert_eq!(l.locked(), Some((a(NAT), 3)));
}

#[test]
fn no_latching_after_the_window_nor_with_a_zero_window() {
    let (t0, mut l) = fresh();
    for i in 0..10u16 {
        assert!(!l.accept(ms(t0, 2000 + u64::from(i)), a(NAT), 3, i));
    }
    // The SDP peer is still taken late.
    assert!(l.accept(ms(t0, 5000), a(PEER), 1, 1));
    let mut strict = SourceLock::new(Duration::ZERO);
    strict.set_remote(t0, a(PEER));
    for i in 0..10u16 {
        assert!(!strict.accept(t0, a(NAT), 3, i));
    }
}

#[test]
fn the_sdp_peer_wins_over_a_source_latched_before_it() {
    let (t0, mut l) = fresh();
    for i in 0..3u16 {
        l.accept(ms(t0, u64::from(i)), a(EVIL), 9, i);
    }
    assert_eq!(l.locked(), Some((a(EVIL), 9)));
    assert!(l.accept(ms(t0, 3000), a(PEER), 7, 1));
    assert_eq!(l.locked(), Some((a(PEER), 7)));
    assert!(!l.accept(ms(t0, 3001), a(EVIL), 9, 3));
    assert_eq!(l.send_to(), Some(a(PEER)));
}

#[test]
fn an_ssrc_change_is_taken_only_after_the_old_one_went_silent() {
    let (t0, mut l) = fresh();
    assert!(l.accept(ms(t0, 0), a(PEER), 7, 1));
    // Interleaved with the live stream: dropped.
    assert!(!l.accept(ms(t0, 10), a(PEER), 8, 1));
    assert!(l.accept(ms(t0, 20), a(PEER), 7, 2));
    assert!(!l.accept(ms(t0, 30), a(PEER), 8, 2));
    // SSRC 7 stops: after the silence the new stream is taken, and the old one is the
    // foreign one now.
    assert!(l.accept(ms(t0, 20 + 100), a(PEER), 8, 3));
    assert!(!l.accept(ms(t0, 130), a(PEER), 7, 3));
    let s = l.stats();
    assert_eq!((s.foreign_source, s.foreign_ssrc), (0, 3));
}

#[test]
fn a_new_sdp_address_restarts_the_lock() {
    let (t0, mut l) = fresh();
    assert!(l.accept(t0, a(PEER), 7, 1));
    l.set_remote(ms(t0, 10), a(PEER)); // the same: nothing changes
    assert_eq!(l.locked(), Some((a(PEER), 7)));
    l.set_remote(ms(t0, 10_000), a(NAT));
    assert_eq!(l.locked(), None);
    assert!(!l.accept(ms(t0, 10_001), a(PEER), 7, 2));
    assert!(l.accept(ms(t0, 10_002), a(NAT), 5, 1));
    assert_eq!(l.stats().latches, 2);
}

/// Issue 12 §8, the latch-window race: behind NAT (the SDP address never sends), a stranger
/// who sends first latches, but the real peer, sending from its signalling address, takes
/// the lock back within the window; past the window, nothing changes the lock.
#[test]
fn a_stranger_who_latched_first_loses_the_lock_to_the_signalling_address() {
    let t0 = Instant::now();
    let mut l = SourceLock::new(DEFAULT_LATCH_WINDOW).preferring(a(NAT).ip());
    l.set_remote(t0, a(PEER));
    let evil: Vec<bool> = (0..4u16)
        .map(|i| l.accept(ms(t0, 10 + u64::from(i)), a(EVIL), 9, 10 + i))
        .collect();
    assert_eq!(
        evil,
        [false, false, true, true],
        "the stranger latched first"
    );
    let peer: Vec<bool> = (0..4u16)
        .map(|i| l.accept(ms(t0, 100 + 20 * u64::from(i)), a(NAT), 3, 500 + i))
        .collect();
    assert_eq!(
        peer,
        [false, false, true, true],
        "after probation, the peer"
    );
    assert_eq!(l.locked(), Some((a(NAT), 3)));
    assert_eq!(l.send_to(), Some(a(NAT)));
    // The stranger cannot take it back, in the window or after.
    for i in 0..4u16 {
        assert!(!l.accept(ms(t0, 200 + u64::from(i)), a(EVIL), 9, 20 + i));
    }
    assert_eq!(l.stats().latches, 2);
}

#[test]
fn past_the_window_the_signalling_address_does_not_move_the_lock() {
    let t0 = Instant::now();
    let mut l = SourceLock::new(DEFAULT_LATCH_WINDOW).preferring(a(NAT).ip());
    l.set_remote(t0, a(PEER));
    for i in 0..3u16 {
        l.accept(ms(t0, 10 + u64::from(i)), a(EVIL), 9, 10 + i);
    }
    assert_eq!(l.locked(), Some((a(EVIL), 9)));
    let late = t0 + DEFAULT_LATCH_WINDOW;
    for i in 0..5u16 {
        assert!(!l.accept(
            late + Duration::from_millis(u64::from(i)),
            a(NAT),
            3,
            500 + i
        ));
    }
    assert_eq!(l.locked(), Some((a(EVIL), 9)));
    // The SDP address still wins, always.
    assert!(l.accept(late, a(PEER), 7, 1));
    assert_eq!(l.locked(), Some((a(PEER), 7)));
}

/// A lock onto the signalling address is not taken by another source from that address's
/// rivals: only a source from elsewhere can be displaced.
#[test]
fn a_lock_onto_the_signalling_address_stays() {
    let t0 = Instant::now();
    let mut l = SourceLock::new(DEFAULT_LATCH_WINDOW).preferring(a(NAT).ip());
    l.set_remote(t0, a(PEER));
    for i in 0..3u16 {
        l.accept(ms(t0, 10 + u64::from(i)), a(NAT), 3, 500 + i);
    }
    assert_eq!(l.locked(), Some((a(NAT), 3)));
    let other_port = "198.51.100.7:31002";
    for i in 0..5u16 {
        assert!(!l.accept(ms(t0, 50 + u64::from(i)), a(other_port), 4, 900 + i));
    }
    assert_eq!(l.locked(), Some((a(NAT), 3)));
}

/// The signalling address as a dual-stack SIP socket sees an IPv4 peer (`::ffff:a.b.c.d`)
/// still names that peer's RTP.
#[test]
fn an_ipv4_mapped_signalling_address_is_the_same_peer() {
    let t0 = Instant::now();
    let mapped: IpAddr = "::ffff:198.51.100.7".parse().expect("ip");
    let mut l = SourceLock::new(DEFAULT_LATCH_WINDOW).preferring(mapped);
    l.set_remote(t0, a(PEER));
    for i in 0..3u16 {
        l.accept(ms(t0, 10 + u64::from(i)), a(EVIL), 9, 10 + i);
    }
    for i in 0..3u16 {
        l.accept(ms(t0, 100 + u64::from(i)), a(NAT), 3, 500 + i);
    }
    assert_eq!(l.locked(), Some((a(NAT), 3)));
}
