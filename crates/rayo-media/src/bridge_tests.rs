#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rayo_proto::event::{CompleteReason, InputReason};
use rayo_proto::generated::rayo::JoinDirection;

use super::*;
use crate::input::InputComponent;

fn call(s: &str) -> Party {
    Party::Call(s.into())
}

fn mixer(s: &str) -> Party {
    Party::Mixer(s.into())
}

/// A constant frame identifying a speaker by its level.
fn voice(level: i16) -> Vec<i16> {
    vec![level; FRAME_SAMPLES]
}

/// One tick where each call in `said` sends its frame; what every call hears (first
/// sample, the frames are constant).
fn tick(b: &mut Bridge, now: Instant, said: &[(&str, i16)]) -> HashMap<String, i16> {
    let said: HashMap<String, Vec<i16>> = said
        .iter()
        .map(|(c, l)| ((*c).to_owned(), voice(*l)))
        .collect();
    let mut heard = HashMap::new();
    b.tick(
        now,
        |c| said.get(c).cloned(),
        |c, f| {
            heard.insert(c.to_owned(), f[0]);
        },
    );
    heard
}

#[test]
fn duplex_joins_carry_both_ways_send_and_recv_one_way_and_unjoin_stops_it() {
    let t = Instant::now();
    let mut b = Bridge::new(VadConfig::default());
    b.join(call("a"), call("b"), JoinDirection::Duplex);
    let h = tick(&mut b, t, &[("a", 100), ("b", 200)]);
    assert_eq!((h["a"], h["b"]), (200, 100));

    b.join(call("a"), call("b"), JoinDirection::Send);
    let h = tick(&mut b, t, &[("a", 100), ("b", 200)]);
    assert_eq!(h["b"], 100, "a is heard by b");
    assert_eq!(h.get("a"), None, "b is not heard by a");

    b.join(call("a"), call("b"), JoinDirection::Recv);
    let h = tick(&mut b, t, &[("a", 100), ("b", 200)]);
    assert_eq!(h["a"], 200);
    assert_eq!(h.get("b"), None);

    b.unjoin(&call("a"), &call("b"));
    assert!(tick(&mut b, t, &[("a", 100), ("b", 200)]).is_empty());
    assert_eq!(b.calls().count(), 0, "unjoined calls leave the bridge");
}

#[test]
fn a_call_joined_to_two_others_hears_both() {
    let t = Instant::now();
    let mut b = Bridge::new(VadConfig::default());
    b.join(call("a"), call("b"), JoinDirection::Duplex);
    b.join(call("a"), call("c"), JoinDirection::Duplex);
    let h = tick(&mut b, t, &[("a", 1), ("b", 10), ("c", 100)]);
    assert_eq!(h["a"], 110);
    assert_eq!(h["b"], 1, "b and c are not joined to each other");
    assert_eq!(h["c"], 1);
}

#[test]
fn a_mixer_gives_each_participant_the_others_and_a_recv_participant_is_heard_by_none() {
    let t = Instant::now();
    let mut b = Bridge::new(VadConfig::default());
    for c in ["a", "b", "c"] {
        b.join(call(c), mixer("m"), JoinDirection::Duplex);
    }
    b.join(call("d"), mixer("m"), JoinDirection::Recv);
    let h = tick(&mut b, t, &[("a", 1), ("b", 10), ("c", 100), ("d", 1000)]);
    assert_eq!(h["a"], 110);
    assert_eq!(h["b"], 101);
    assert_eq!(h["c"], 11);
    assert_eq!(h["d"], 111, "d hears everyone, nobody hears d");

    // send: heard by the others, hears nothing.
    b.join(call("d"), mixer("m"), JoinDirection::Send);
    let h = tick(&mut b, t, &[("a", 1), ("b", 10), ("c", 100), ("d", 1000)]);
    assert_eq!(h["a"], 1110);
    assert_eq!(h.get("d"), None);
}

#[test]
fn mixers_joined_to_each_other_share_their_participants() {
    let t = Instant::now();
    let mut b = Bridge::new(VadConfig::default());
    b.join(call("a"), mixer("m"), JoinDirection::Duplex);
    b.join(call("b"), mixer("n"), JoinDirection::Duplex);
    b.join(mixer("m"), mixer("n"), JoinDirection::Duplex);
    let h = tick(&mut b, t, &[("a", 5), ("b", 50)]);
    assert_eq!((h["a"], h["b"]), (50, 5));
}

#[test]
fn loud_parties_saturate_instead_of_wrapping() {
    let t = Instant::now();
    let mut b = Bridge::new(VadConfig::default());
    for c in ["a", "b", "c"] {
        b.join(call(c), mixer("m"), JoinDirection::Duplex);
    }
    let h = tick(&mut b, t, &[("a", 0), ("b", 30000), ("c", 30000)]);
    assert_eq!(h["a"], i16::MAX);
    let h = tick(&mut b, t, &[("a", 0), ("b", -30000), ("c", -30000)]);
    assert_eq!(h["a"], i16::MIN);
}

fn tone(n: usize, amplitude: f64) -> Vec<i16> {
    (0..n)
        .map(|i| {
            ((i as f64 * 2.0 * std::f64::consts::PI * 440.0 / 8000.0).sin() * amplitude) as i16
        })
        .collect()
}

#[test]
fn the_speaker_alone_starts_and_stops_speaking() {
    let t0 = Instant::now();
    let mut b = Bridge::new(VadConfig::default());
    for c in ["a", "b", "c"] {
        b.join(call(c), mixer("m"), JoinDirection::Duplex);
    }
    let burst = tone(FRAME_SAMPLES, 8000.0);
    let mut events = Vec::new();
    for i in 0..100u32 {
        let now = t0 + Duration::from_millis(20 * u64::from(i));
        let speaking = (10..40).contains(&i);
        b.tick(
            now,
            |c| (c == "b" && speaking).then(|| burst.clone()),
            |_, _| {},
        );
        while let Some(e) = b.poll_event() {
            events.push((i, e));
        }
    }
    let seen: Vec<_> = events
        .iter()
        .map(|(_, e)| match e {
            BridgeEvent::Speaking {
                call,
                speaking,
                mixer,
            } => (call.as_str(), *speaking, mixer.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seen, vec![("b", true, "m"), ("b", false, "m")]);
    let (started, stopped) = (events[0].0, events[1].0);
    assert!((10..=14).contains(&started), "started at frame {started}");
    assert!((40..=70).contains(&stopped), "stopped at frame {stopped}");
}

#[test]
fn dtmf_from_any_participant_completes_an_input_on_the_mixer() {
    let t = Instant::now();
    let mut b = Bridge::new(VadConfig::default());
    b.join(call("a"), mixer("m"), JoinDirection::Duplex);
    b.join(call("b"), mixer("m"), JoinDirection::Recv);
    let cmd: rayo_proto::generated::input::Input =
        "<input xmlns='urn:xmpp:rayo:input:1' mode='dtmf'>\
        <grammar url='builtin:dtmf/digits?minlength=2;maxlength=2'/></input>"
            .parse::<minidom::Element>()
            .expect("xml")
            .try_into()
            .expect("input");
    let input = InputComponent::from_command(&cmd, t, |_| None).expect("input");
    b.start_mixer_component(t, "m", "i1".into(), Running::Input(input));
    b.dtmf(t, "a", '4');
    assert_eq!(b.poll_event(), None);
    b.dtmf(t, "b", '2');
    match b.poll_event() {
        Some(BridgeEvent::Component {
            mixer,
            event:
                ComponentEvent::Complete {
                    id,
                    reason: CompleteReason::Input(InputReason::Match(m)),
                    ..
                },
        }) => {
            assert_eq!((mixer.as_str(), id.as_str()), ("m", "i1"));
            assert!(m.body.contains("<instance>42</instance>"), "{}", m.body);
        }
        other => panic!("{other:?}"),
    }
    // A call in no mixer: nothing happens.
    b.dtmf(t, "zz", '1');
    assert_eq!(b.poll_event(), None);
}

#[test]
fn destroying_a_mixer_silences_it() {
    let t = Instant::now();
    let mut b = Bridge::new(VadConfig::default());
    b.join(call("a"), mixer("m"), JoinDirection::Duplex);
    b.join(call("b"), mixer("m"), JoinDirection::Duplex);
    b.destroy_mixer("m");
    assert!(!b.has_mixer("m"));
    assert!(tick(&mut b, t, &[("a", 1), ("b", 2)]).is_empty());
}
