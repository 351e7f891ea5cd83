//! `rayo listen` and `rayo dial` as a user runs them: against a real node on loopback, with
//! sipp at the other end of the calls, reading what the command prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Rayo, Sipp, TestNode};

/// `rayo dial URI` with the node's connection flags and `extra`.
fn dial(node: &TestNode, uri: &str, extra: &[&str]) -> Rayo {
    let mut args: Vec<String> = vec!["dial".into(), uri.into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(node.flags());
    Rayo::spawn(&args, &[])
}

/// `rayo listen ARGS` with the node's connection flags, once it says it is listening.
async fn listen(node: &TestNode, args: &[&str]) -> Rayo {
    let mut all: Vec<String> = vec!["listen".into()];
    all.extend(args.iter().map(|s| s.to_string()));
    all.extend(node.flags());
    let mut rayo = Rayo::spawn(&all, &[]);
    let ready = rayo.line().await;
    assert!(ready.starts_with("listening as rayo@localhost/"), "{ready}");
    rayo
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_answers_says_hello_collects_two_digits_and_hangs_up() {
    let node = TestNode::start().await;
    let mut rayo = listen(
        &node,
        &[
            "--answer",
            "--say",
            "Hello",
            "--ask",
            "builtin:dtmf/digits?minlength=2;maxlength=2",
            "--count",
            "1",
        ],
    )
    .await;

    // sipp calls `ivr`, sends the RFC 4733 digits 12# 2.5 s after the answer, then waits for
    // the node's BYE.
    let sipp = Sipp::start(
        "uac_ivr_dtmf_then_bye.xml",
        Some(node.sip()),
        "ivr",
        &[],
        None,
    );
    let offer = rayo.line().await;
    let fields: Vec<&str> = offer.split(' ').collect();
    assert_eq!(fields.len(), 6, "{offer}");
    assert_eq!(
        (fields[0], fields[2], fields[4]),
        ("offer", "from", "to"),
        "{offer}"
    );
    assert!(fields[1].ends_with("@localhost"), "a call JID: {offer}");
    assert!(fields[3].starts_with("sip:sipp@127.0.0.1"), "{offer}");
    assert!(fields[5].starts_with("sip:ivr@127.0.0.1"), "{offer}");

    let done = rayo.finish().await;
    assert_eq!(
        done.stdout[2..],
        [
            "answered",
            "output finish",
            "input match 12",
            "end hangup-command"
        ],
        "{done:?}"
    );
    assert!(done.status.success(), "{done:?}");
    assert_eq!(done.stderr, "", "nothing went wrong");
    sipp.passed().await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_shows_ringing_answered_and_the_end_and_records() {
    let node = TestNode::start().await;
    // sipp rings, answers, and waits for the node's BYE.
    let sipp = Sipp::start("uas_answer.xml", None, "service", &[], None);
    let rayo = dial(
        &node,
        &sipp.uri("service"),
        &["--header", "X-Campaign=7", "--say", "Hi", "--record", "1"],
    );
    let done = rayo.finish().await;
    let out = &done.stdout;
    assert_eq!(out.len(), 6, "{done:?}");
    assert!(
        out[0].starts_with("dialed ") && out[0].ends_with("@localhost"),
        "{done:?}"
    );
    assert_eq!(
        out[1..4],
        ["ringing", "answered", "output finish"],
        "{done:?}"
    );
    // recorded URI MS ms SIZE bytes: a WAV of one second on the node.
    let rec: Vec<&str> = out[4].split(' ').collect();
    assert_eq!(rec.len(), 6, "{done:?}");
    assert_eq!(
        (rec[0], rec[3], rec[5]),
        ("recorded", "ms", "bytes"),
        "{done:?}"
    );
    let path = rec[1].strip_prefix("file://").expect("a file URI");
    assert!(path.ends_with(".wav"), "{done:?}");
    let ms: u64 = rec[2].parse().expect("milliseconds");
    assert!((900..=1100).contains(&ms), "{done:?}");
    let size: u64 = rec[4].parse().expect("bytes");
    assert_eq!(std::fs::metadata(path).expect("the recording").len(), size);
    assert_eq!(out[5], "end hangup-command", "{done:?}");
    assert!(done.status.success(), "{done:?}");
    sipp.passed().await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_to_a_busy_party_ends_busy() {
    let node = TestNode::start().await;
    let sipp = Sipp::start("uas_busy.xml", None, "service", &[], None);
    let done = dial(&node, &sipp.uri("service"), &["--expect", "busy"])
        .finish()
        .await;
    assert_eq!(done.stdout.len(), 2, "{done:?}");
    assert!(done.stdout[0].starts_with("dialed "), "{done:?}");
    assert!(
        done.stdout[1] == "end busy" || done.stdout[1].starts_with("end busy platform-code="),
        "{done:?}"
    );
    assert!(done.status.success(), "busy was expected: {done:?}");
    sipp.passed().await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_unanswered_ends_timeout_and_fails() {
    let node = TestNode::start().await;
    // sipp rings and never answers; the node cancels after --timeout.
    let sipp = Sipp::start("uas_no_answer.xml", None, "service", &[], None);
    let done = dial(&node, &sipp.uri("service"), &["--timeout", "2"])
        .finish()
        .await;
    let out = &done.stdout;
    assert!(out[0].starts_with("dialed "), "{done:?}");
    assert_eq!(out[1..], ["ringing", "end timeout"], "{done:?}");
    assert_eq!(done.status.code(), Some(1), "not answered: {done:?}");
    assert!(
        done.stderr
            .contains("rayo: the call was not answered (end timeout)"),
        "{done:?}"
    );
    sipp.passed().await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_shows_the_caller_hanging_up_during_the_input() {
    let node = TestNode::start().await;
    let rayo = listen(
        &node,
        &[
            "--answer",
            "--say",
            "Hello",
            "--ask",
            "builtin:dtmf/digits?length=4",
            "--record",
            "5",
            "--count",
            "1",
        ],
    )
    .await;
    // sipp hangs up 2 s after the answer, while rayo waits for digits.
    let sipp = Sipp::start(
        "uac_hangs_up_after_2s.xml",
        Some(node.sip()),
        "service",
        &[],
        None,
    );
    let done = rayo.finish().await;
    assert!(done.stdout[1].starts_with("offer "), "{done:?}");
    // The recording is skipped and no hangup is sent; the node may add the SIP code.
    assert_eq!(
        done.stdout[2..5],
        ["answered", "output finish", "input hangup"],
        "{done:?}"
    );
    assert_eq!(done.stdout.len(), 6, "{done:?}");
    assert!(
        done.stdout[5] == "end hungup" || done.stdout[5].starts_with("end hungup platform-code="),
        "{done:?}"
    );
    assert!(done.status.success(), "{done:?}");
    assert_eq!(done.stderr, "", "{done:?}");
    sipp.passed().await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_join_puts_each_caller_in_the_conference_until_it_hangs_up() {
    let node = TestNode::start().await;
    let rayo = listen(&node, &["--answer", "--join", "conf", "--count", "2"]).await;
    // Two callers at once; each hangs up 1.5 s after the answer.
    let a = Sipp::start(
        "uac_sipp_hangs_up_later.xml",
        Some(node.sip()),
        "conf",
        &[],
        None,
    );
    let b = Sipp::start(
        "uac_sipp_hangs_up_later.xml",
        Some(node.sip()),
        "conf",
        &[],
        None,
    );
    let done = rayo.finish().await;
    assert!(done.status.success(), "{done:?}");
    let count = |f: &dyn Fn(&str) -> bool| done.stdout.iter().filter(|l| f(l)).count();
    assert_eq!(count(&|l| l.starts_with("offer ")), 2, "{done:?}");
    assert_eq!(count(&|l| l.starts_with("answered ")), 2, "{done:?}");
    assert_eq!(count(&|l| l.ends_with(" joined mixer conf")), 2, "{done:?}");
    assert_eq!(count(&|l| l.contains(" end hungup")), 2, "{done:?}");
    a.passed().await;
    b.passed().await;
    node.stop().await;
}

/// Issue 12 §9: a bot that dies in the middle of a call (killed: its stream is never closed,
/// no unavailable presence is sent) used to leave the call up, media flowing, for minutes.
/// The node notices the stream is gone and, after `[limits] orphan_grace`, hangs up: the
/// caller gets a BYE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_of_a_bot_that_dies_is_hung_up_after_the_grace() {
    let node = TestNode::start_with(|cfg| cfg.limits.orphan_grace = 1.0).await;
    let mut rayo = listen(
        &node,
        &[
            "--answer",
            "--say",
            "This sentence is long enough to be still playing when the bot is killed, \
             and then some more words follow so that it lasts for several seconds.",
            "--count",
            "1",
        ],
    )
    .await;
    // sipp calls, is answered, then waits for the node's BYE.
    let sipp = Sipp::start("uac_node_hangs_up.xml", Some(node.sip()), "ivr", &[], None);
    let offer = rayo.line().await;
    assert!(offer.starts_with("offer "), "{offer}");
    assert_eq!(rayo.line().await, "answered");
    rayo.kill();
    sipp.passed().await;
    node.stop().await;
}
