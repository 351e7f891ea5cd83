//! Media components on live calls with sipp: what the caller hears, what comes back, what
//! is recorded, and a prompt's barge-in.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use rayo_client::proto::event::{CompleteReason, InputReason};
use rayo_client::proto::generated::record::RecordDirection;
use rayo_client::{Input, Output, Prompt, Record};
use rayo_e2e::{chirp_wav, recording, windowed_correlation, Sipp, TestNode, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_played_wav_comes_back_through_sipps_echo_and_is_recorded_faithfully() {
    let node = TestNode::start(|_| {}).await;
    let (_client, mut offers) = node.bot("bot").await;
    let files = node.prompts();
    let (wav, source) = chirp_wav(&files, 2.0);
    let sipp = Sipp::start(
        "uac_rtp_echo.xml",
        Some(node.node.sip_addr()),
        "ivr",
        &["-rtp_echo"],
        None,
    );
    let call = tokio::time::timeout(WAIT, offers.next())
        .await
        .expect("an offer")
        .expect("offers open")
        .call;
    call.answer([]).await.expect("answered");
    // XEP-0327 §7.19.6: `send` is the audio the caller sends (here sipp's echo), `recv` the
    // audio the caller receives (the node's output).
    let mut send = Record::wav(Duration::from_secs(4));
    send.inner.direction = Some(RecordDirection::Send);
    let mut recv = Record::wav(Duration::from_secs(4));
    recv.inner.direction = Some(RecordDirection::Recv);
    let caller = call.record(send).await.expect("send record");
    let heard = call.record(recv).await.expect("recv record");
    let out = call
        .output(Output::url(format!("file://{}", wav.display())))
        .await
        .expect("output");
    out.complete().await.expect("output completes");
    let echo = recording(&caller.complete().await.expect("send record completes"));
    let sent = recording(&heard.complete().await.expect("recv record completes"));
    call.hangup([]).await.expect("hung up");
    sipp.passed().await;

    let (c, windows) = windowed_correlation(&sent, &source, false);
    assert!(
        c >= 0.9 && windows >= 6,
        "what the caller received vs the WAV: {c:.3} over {windows} windows"
    );
    let (c, windows) = windowed_correlation(&echo, &source, false);
    assert!(
        c >= 0.9 && windows >= 6,
        "sipp's echo vs the WAV: {c:.3} over {windows} windows ({} samples recorded)",
        echo.len()
    );
    node.node.shutdown_within(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_with_barge_in_stops_its_output_at_the_first_digit() {
    let node = TestNode::start(|_| {}).await;
    let (_client, mut offers) = node.bot("bot").await;
    // sipp sends 12# 2.5 s after the answer, then waits for the BYE.
    let sipp = Sipp::start(
        "uac_ivr_dtmf_then_bye.xml",
        Some(node.node.sip_addr()),
        "ivr",
        &[],
        None,
    );
    let call = tokio::time::timeout(WAIT, offers.next())
        .await
        .expect("an offer")
        .expect("offers open")
        .call;
    call.answer([]).await.expect("answered");
    // A long announcement: it would take far longer than 2.5 s to say.
    let long = "Welcome. ".to_owned()
        + &"Please listen carefully as our menu options have changed. ".repeat(6);
    let t0 = std::time::Instant::now();
    let prompt = call
        .prompt(Prompt::new(
            Output::say(long),
            Input::digits(2, 2).terminator('#'),
            true,
        ))
        .await
        .expect("prompt started");
    let done = prompt.complete().await.expect("prompt completes");
    let took = t0.elapsed();
    let CompleteReason::Input(InputReason::Match(m)) = &done.reason else {
        panic!("expected a match, got {:?}", done.reason)
    };
    assert!(m.body.contains("<instance>12</instance>"), "{}", m.body);
    assert!(
        took < Duration::from_secs(6),
        "completed on the digits, not after the whole announcement ({took:?})"
    );
    call.hangup([]).await.expect("hung up");
    sipp.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}
