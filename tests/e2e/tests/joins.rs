//! Joins and mixers with real audio (XEP-0327 §6.3, §6.4): sipp callers stream known
//! signals (`rtp_stream`), the bot joins them, and recordings on the node show who hears
//! whom. XEP-0327 §7.19.6: a `recv` recording holds what the caller receives.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use rayo_client::proto::event::{CompleteReason, InputReason};
use rayo_client::proto::generated::record::RecordDirection;
use rayo_client::{Call, CallEvent, Input, JoinDirection, JoinTarget, Offers, Output, Record};
use rayo_e2e::{
    recording, rms, tone, tone_share, ulaw_raw, windowed_correlation, Sipp, TempDir, TestNode, WAIT,
};

/// A caller streaming `signal` in a loop until the node hangs up, and its call.
async fn streaming_caller(
    node: &TestNode,
    offers: &mut Offers,
    dir: &Path,
    signal: &[i16],
) -> (Sipp, Call) {
    std::fs::create_dir_all(dir).expect("dir");
    ulaw_raw(&dir.join("stream.ulaw"), signal);
    let sipp = Sipp::start(
        "uac_stream_until_bye.xml",
        Some(node.node.sip_addr()),
        "ivr",
        &[],
        Some(dir),
    );
    let call = answered(offers).await;
    (sipp, call)
}

async fn answered(offers: &mut Offers) -> Call {
    let call = tokio::time::timeout(WAIT, offers.next())
        .await
        .expect("an offer in time")
        .expect("offers open")
        .call;
    call.answer([]).await.expect("answered");
    call
}

/// What `call`'s caller receives for `secs`.
async fn heard(call: &Call, secs: u64) -> Vec<i16> {
    let mut spec = Record::wav(Duration::from_secs(secs));
    spec.inner.direction = Some(RecordDirection::Recv);
    let rec = call.record(spec).await.expect("record started");
    recording(&rec.complete().await.expect("record completes"))
}

fn chirp(seconds: f64) -> Vec<i16> {
    let n = (seconds * 8000.0) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let k = (3000.0 - 300.0) / seconds;
            let phase = 2.0 * std::f64::consts::PI * (300.0 * t + 0.5 * k * t * t);
            (phase.sin() * 10000.0) as i16
        })
        .collect()
}

async fn hang_up(call: &Call) {
    call.hangup([]).await.expect("hung up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_calls_hear_each_other_send_is_one_way_and_unjoin_stops_it() {
    let node = TestNode::start(|_| {}).await;
    let (_client, mut offers) = node.bot("bot").await;
    let dir = TempDir::new("join");
    let source = chirp(0.5);
    let (sa, a) = streaming_caller(&node, &mut offers, &dir.0.join("a"), &source).await;
    let (sb, b) = streaming_caller(
        &node,
        &mut offers,
        &dir.0.join("b"),
        &tone(1300.0, 1.0, 8000.0),
    )
    .await;

    a.join(JoinTarget::call(&b)).await.expect("joined duplex");
    let (to_b, to_a) = tokio::join!(heard(&b, 2), heard(&a, 2));
    let (c, windows) = windowed_correlation(&to_b[4000..], &source, true);
    assert!(
        c >= 0.9 && windows >= 5,
        "B hears A's chirp: correlation {c:.3} over {windows} windows"
    );
    assert!(tone_share(&to_a[4000..], 1300.0) > 0.8, "A hears B's tone");

    a.join(JoinTarget::call(&b).direction(JoinDirection::Send))
        .await
        .expect("re-joined send");
    let (to_b, to_a) = tokio::join!(heard(&b, 2), heard(&a, 2));
    let (c, _) = windowed_correlation(&to_b[4000..], &source, true);
    assert!(c >= 0.9, "A still reaches B: {c:.3}");
    assert!(
        rms(&to_a[4000..]) < 50.0,
        "B no longer reaches A: rms {}",
        rms(&to_a[4000..])
    );

    a.unjoin(None).await.expect("unjoined");
    let to_b = heard(&b, 1).await;
    assert!(
        rms(&to_b[2000..]) < 50.0,
        "nothing after unjoin: rms {}",
        rms(&to_b[2000..])
    );

    hang_up(&a).await;
    hang_up(&b).await;
    sa.passed().await;
    sb.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixer_of_three_with_a_listener_announcements_whispers_and_a_mixer_recording() {
    let node = TestNode::start(|_| {}).await;
    let (client, mut offers) = node.bot("bot").await;
    let dir = TempDir::new("mixer");
    let freqs = [500.0, 1000.0, 1500.0, 2000.0];
    let mut sipps = Vec::new();
    let mut calls = Vec::new();
    for (i, f) in freqs.iter().enumerate() {
        let (s, c) = streaming_caller(
            &node,
            &mut offers,
            &dir.0.join(format!("p{i}")),
            &tone(*f, 1.0, 5000.0),
        )
        .await;
        sipps.push(s);
        calls.push(c);
    }
    let mixer = client.mixer("conf").expect("mixer handle");
    for c in &calls[..3] {
        c.join(mixer.join_target()).await.expect("joined the mixer");
    }
    // The fourth listens only: it hears all, nobody hears it.
    calls[3]
        .join(mixer.join_target().direction(JoinDirection::Recv))
        .await
        .expect("joined recv");

    let recs = futures_join(&calls, 2).await;
    for (i, rec) in recs.iter().enumerate() {
        let rec = &rec[4000..];
        for (j, f) in freqs.iter().enumerate() {
            let share = tone_share(rec, *f);
            let expect = j != i && j != 3;
            assert_eq!(
                share > 0.1,
                expect,
                "participant {i} hears {f} Hz: share {share:.3} (expected {expect})"
            );
        }
    }

    // An announcement on the mixer reaches everybody; a whisper on call 0 only call 0; a
    // recording of the mixer holds all three speakers.
    let announce = node.prompts().join("announce.wav");
    std::fs::write(
        &announce,
        rayo_media::audio::encode_wav(&tone(2600.0, 2.0, 6000.0), 8000, 1),
    )
    .expect("wav");
    let whisper = node.prompts().join("whisper.wav");
    std::fs::write(
        &whisper,
        rayo_media::audio::encode_wav(&tone(3100.0, 2.0, 6000.0), 8000, 1),
    )
    .expect("wav");
    let mut mix_rec = Record::wav(Duration::from_secs(2));
    mix_rec.inner.direction = Some(RecordDirection::Recv);
    let mixer_recording = mixer.record(mix_rec).await.expect("record on the mixer");
    let a = mixer
        .output(Output::url(format!("file://{}", announce.display())))
        .await
        .expect("announcement");
    let w = calls[0]
        .output(Output::url(format!("file://{}", whisper.display())))
        .await
        .expect("whisper");
    let recs = futures_join(&calls[..2], 1).await;
    assert!(
        tone_share(&recs[0], 2600.0) > 0.05,
        "call 0 hears the announcement"
    );
    assert!(
        tone_share(&recs[1], 2600.0) > 0.05,
        "call 1 hears the announcement"
    );
    assert!(
        tone_share(&recs[0], 3100.0) > 0.05,
        "call 0 hears its whisper"
    );
    assert!(
        tone_share(&recs[1], 3100.0) < 0.01,
        "call 1 does not hear call 0's whisper"
    );
    a.complete().await.expect("announcement completes");
    w.complete().await.expect("whisper completes");
    let mixed = recording(
        &mixer_recording
            .complete()
            .await
            .expect("mixer record completes"),
    );
    for f in &freqs[..3] {
        assert!(
            tone_share(&mixed[2000..], *f) > 0.05,
            "the mixer recording holds {f} Hz"
        );
    }
    assert!(
        tone_share(&mixed[2000..], 2000.0) < 0.01,
        "not the listener"
    );

    for c in &calls {
        hang_up(c).await;
    }
    for s in sipps {
        s.passed().await;
    }
    node.node.shutdown_within(Duration::ZERO).await;
}

/// Recordings of what each call hears, made at the same time.
async fn futures_join(calls: &[Call], secs: u64) -> Vec<Vec<i16>> {
    let mut recs = Vec::new();
    for c in calls {
        let mut spec = Record::wav(Duration::from_secs(secs));
        spec.inner.direction = Some(RecordDirection::Recv);
        recs.push(c.record(spec).await.expect("record started"));
    }
    let mut out = Vec::new();
    for r in recs {
        out.push(recording(&r.complete().await.expect("record completes")));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speaker_is_announced_and_dtmf_from_any_participant_completes_mixer_input() {
    let node = TestNode::start(|_| {}).await;
    let (client, mut offers) = node.bot("bot").await;
    let dir = TempDir::new("speaker");
    // 0.8 s of tone, then 2.2 s of silence, looped.
    let mut burst = tone(700.0, 0.8, 9000.0);
    burst.extend(std::iter::repeat_n(0i16, 17600));
    let (s1, talker) = streaming_caller(&node, &mut offers, &dir.0.join("t"), &burst).await;
    // This caller sends 12# 2.5 s after its answer, then waits for the BYE.
    let s2 = Sipp::start(
        "uac_ivr_dtmf_then_bye.xml",
        Some(node.node.sip_addr()),
        "ivr",
        &[],
        None,
    );
    let keypad = answered(&mut offers).await;
    let mut mixer = client.mixer("room").expect("mixer handle");
    talker.join(mixer.join_target()).await.expect("joined");
    keypad.join(mixer.join_target()).await.expect("joined");
    let input = mixer
        .input(Input::digits(2, 2).terminator('#'))
        .await
        .expect("input on the mixer");

    let talker_uri = format!("xmpp:{}", talker.jid());
    let (mut started, mut stopped) = (false, false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(started && stopped) {
        let e = tokio::time::timeout_at(deadline, mixer.events().next())
            .await
            .expect("speaking events in time")
            .expect("mixer events open");
        match e {
            CallEvent::StartedSpeaking { call_uri } => {
                assert_eq!(call_uri, talker_uri, "only the talker speaks");
                started = true;
            }
            CallEvent::StoppedSpeaking { call_uri } => {
                assert_eq!(call_uri, talker_uri);
                assert!(started, "stopped after started");
                stopped = true;
            }
            _ => {}
        }
    }
    let done = input.complete().await.expect("mixer input completes");
    let CompleteReason::Input(InputReason::Match(m)) = &done.reason else {
        panic!("expected a match, got {:?}", done.reason)
    };
    assert!(m.body.contains("<instance>12</instance>"), "{}", m.body);

    hang_up(&talker).await;
    hang_up(&keypad).await;
    s1.passed().await;
    s2.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_with_a_nested_join_is_joined_when_answered() {
    let node = TestNode::start(|_| {}).await;
    let (client, mut offers) = node.bot("bot").await;
    let dir = TempDir::new("nested");
    let source = chirp(0.5);
    let (sa, a) = streaming_caller(&node, &mut offers, &dir.0.join("a"), &source).await;
    let uas = Sipp::start("uas_answer.xml", None, "ivr", &[], None);
    let mut b = client
        .dial(rayo_client::DialBuilder::new(uas.uri("service")).join(JoinTarget::call(&a)))
        .await
        .expect("dialled");
    let (mut answered, mut joined) = (false, false);
    while !(answered && joined) {
        match tokio::time::timeout(WAIT, b.events().next())
            .await
            .expect("events in time")
            .expect("events open")
        {
            CallEvent::Answered { .. } => answered = true,
            CallEvent::Joined(j) => {
                assert!(answered, "joined once answered, not before");
                assert_eq!(
                    j.call_uri.as_deref(),
                    Some(format!("xmpp:{}", a.jid()).as_str())
                );
                joined = true;
            }
            _ => {}
        }
    }
    // B's callee now hears A's caller.
    let to_b = heard(&b, 2).await;
    let (c, _) = windowed_correlation(&to_b[4000..], &source, true);
    assert!(c >= 0.9, "B hears A: {c:.3}");
    hang_up(&b).await;
    hang_up(&a).await;
    uas.passed().await;
    sa.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}
