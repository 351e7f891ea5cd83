//! Inbound calls end to end: sipp calls the node, an SDK bot controls the call.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use rayo_client::proto::event::{
    CompleteMetadata, CompleteReason, InputReason, OutputReason, RecordReason,
};
use rayo_client::{EndReason, Input, Output, Record};
use rayo_e2e::{chirp_wav, end_reason, Sipp, TestNode, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_answers_speaks_plays_collects_digits_records_and_hangs_up() {
    let node = TestNode::start(|_| {}).await;
    let (_client, mut offers) = node.bot("bot").await;
    let files = node.prompts();
    let (wav, _) = chirp_wav(&files, 1.0);
    let sipp = Sipp::start(
        "uac_ivr_dtmf_then_bye.xml",
        Some(node.node.sip_addr()),
        "ivr",
        &[],
        None,
    );

    let offer = tokio::time::timeout(WAIT, offers.next())
        .await
        .expect("an offer in time")
        .expect("offers open");
    assert!(offer.to.contains("ivr@"), "called URI: {}", offer.to);
    let mut call = offer.call;
    call.accept([]).await.expect("accepted");
    call.answer([]).await.expect("answered");

    // Input runs while the outputs play: sipp sends 12# 2.5 s after the answer.
    let input = call
        .input(Input::digits(2, 2).terminator('#'))
        .await
        .expect("input started");
    let t0 = std::time::Instant::now();
    let speech = call
        .output(Output::say("Hello, this is the Rayo node speaking."))
        .await
        .expect("TTS output started");
    let done = speech.complete().await.expect("TTS output completes");
    assert_eq!(done.reason, CompleteReason::Output(OutputReason::Finish));
    let spoken = t0.elapsed();
    assert!(
        spoken > Duration::from_millis(1200) && spoken < Duration::from_secs(8),
        "a sentence takes seconds to say, took {spoken:?}"
    );
    let tune = call
        .output(Output::url(format!("file://{}", wav.display())))
        .await
        .expect("WAV output started");
    let done = tune.complete().await.expect("WAV output completes");
    assert_eq!(done.reason, CompleteReason::Output(OutputReason::Finish));

    let got = input.complete().await.expect("input completes");
    let CompleteReason::Input(InputReason::Match(m)) = &got.reason else {
        panic!("expected a match, got {:?}", got.reason)
    };
    assert_eq!(m.content_type.as_deref(), Some("application/nlsml+xml"));
    let nlsml: minidom::Element = m.body.parse().expect("NLSML parses");
    let input_el = nlsml
        .children()
        .flat_map(|i| i.children())
        .find(|e| e.name() == "input")
        .expect("an <input/> in the interpretation");
    // The utterance is the digits as tokens, the instance the grammar's interpretation.
    assert_eq!(input_el.text().replace(' ', ""), "12", "{}", m.body);
    assert_eq!(input_el.attr("mode"), Some("dtmf"));
    let instance = nlsml
        .children()
        .flat_map(|i| i.children())
        .find(|e| e.name() == "instance")
        .expect("an <instance/>");
    assert_eq!(instance.text().trim(), "12", "{}", m.body);

    let rec = call
        .record(Record::wav(Duration::from_secs(3)))
        .await
        .expect("record started");
    let done = rec.complete().await.expect("record completes");
    assert_eq!(
        done.reason,
        CompleteReason::Record(RecordReason::MaxDuration)
    );
    let recording = done
        .metadata
        .iter()
        .find_map(|m| match m {
            CompleteMetadata::Recording(r) => Some(r.clone()),
            _ => None,
        })
        .expect("recording metadata");
    let path = recording.uri.strip_prefix("file://").expect("a file URI");
    let wav = hound::WavReader::open(path).expect("a readable WAV");
    let secs = wav.duration() as f64 / f64::from(wav.spec().sample_rate);
    assert!((secs - 3.0).abs() <= 0.1, "recorded {secs} s");
    assert_eq!(
        recording.duration.as_millis() as u64,
        (secs * 1000.0).round() as u64
    );
    assert_eq!(
        recording.size as u64,
        std::fs::metadata(path).expect("file").len()
    );

    call.hangup([]).await.expect("hung up");
    assert!(matches!(
        end_reason(&mut call).await,
        EndReason::HangupCommand { .. }
    ));
    sipp.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caller_hangs_up_first_and_running_components_complete_with_hangup() {
    let node = TestNode::start(|_| {}).await;
    let (_client, mut offers) = node.bot("bot").await;
    // sipp waits 1.5 s after the answer, then sends BYE.
    let sipp = Sipp::start(
        "uac_sipp_hangs_up_later.xml",
        Some(node.node.sip_addr()),
        "ivr",
        &[],
        None,
    );
    let mut call = tokio::time::timeout(WAIT, offers.next())
        .await
        .expect("an offer in time")
        .expect("offers open")
        .call;
    call.answer([]).await.expect("answered");
    let input = call
        .input(Input::digits(1, 8))
        .await
        .expect("input started");
    assert!(matches!(
        end_reason(&mut call).await,
        EndReason::Hungup { .. }
    ));
    let done = input.complete().await.expect("input completes");
    assert_eq!(done.reason, CompleteReason::Hangup);
    sipp.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

/// Issue 12 §17: offers went out before the router's snapshot of live calls was updated, so
/// a bot accepting the instant an offer arrived could get `item-not-found`. Thirty calls,
/// three at a time, each accepted as soon as its offer is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_accepted_at_once_always_finds_its_call() {
    let node = TestNode::start(|_| {}).await;
    let (_client, mut offers) = node.bot("bot").await;
    let sipp = Sipp::start(
        "uac_node_hangs_up.xml",
        Some(node.node.sip_addr()),
        "race",
        &["-m", "30", "-l", "3"],
        None,
    );
    for i in 0..30 {
        let call = rayo_e2e::next_offer(&mut offers).await.call;
        call.accept([])
            .await
            .unwrap_or_else(|e| panic!("call {i}: accept refused: {e}"));
        call.answer([]).await.expect("answered");
        call.hangup([]).await.expect("hung up");
    }
    sipp.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}
