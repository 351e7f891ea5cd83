//! Outbound calls and the node's refusals, end to end: SDK bots dial sipp UASes through the
//! node, race for one inbound call, and meet the node's limits.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use rayo_client::{CallEvent, DefinedCondition, DialBuilder, EndReason, Error};
use rayo_e2e::{Sipp, TestNode, WAIT};

async fn next_event(call: &mut rayo_client::Call) -> CallEvent {
    tokio::time::timeout(WAIT, call.events().next())
        .await
        .expect("an event in time")
        .expect("events open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_rings_is_answered_and_ends_when_the_bot_hangs_up() {
    let node = TestNode::start(|_| {}).await;
    let (client, _offers) = node.bot("bot").await;
    let uas = Sipp::start("uas_answer.xml", None, "ivr", &[], None);
    let mut call = client
        .dial(DialBuilder::new(uas.uri("service")).from("sip:bot@127.0.0.1"))
        .await
        .expect("dialled");
    assert!(matches!(
        next_event(&mut call).await,
        CallEvent::Ringing { .. }
    ));
    assert!(matches!(
        next_event(&mut call).await,
        CallEvent::Answered { .. }
    ));
    call.hangup([]).await.expect("hung up");
    let CallEvent::End { reason, .. } = next_event(&mut call).await else {
        panic!("expected the end")
    };
    assert!(
        matches!(reason, EndReason::HangupCommand { .. }),
        "{reason:?}"
    );
    uas.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_to_a_busy_callee_ends_busy() {
    let node = TestNode::start(|_| {}).await;
    let (client, _offers) = node.bot("bot").await;
    let uas = Sipp::start("uas_busy.xml", None, "ivr", &[], None);
    let mut call = client
        .dial(DialBuilder::new(uas.uri("service")))
        .await
        .expect("dialled");
    let reason = loop {
        match next_event(&mut call).await {
            CallEvent::End { reason, .. } => break reason,
            CallEvent::Ringing { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(matches!(reason, EndReason::Busy { .. }), "{reason:?}");
    uas.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_race_to_accept_and_the_loser_gets_conflict() {
    let node = TestNode::start(|_| {}).await;
    let (_a, mut offers_a) = node.bot("bot").await;
    let (_b, mut offers_b) = node.bot("bot2").await;
    let sipp = Sipp::start(
        "uac_sipp_hangs_up_later.xml",
        Some(node.node.sip_addr()),
        "ivr",
        &[],
        None,
    );
    let (oa, ob) = tokio::join!(
        tokio::time::timeout(WAIT, offers_a.next()),
        tokio::time::timeout(WAIT, offers_b.next())
    );
    let call_a = oa.expect("bot got the offer").expect("offers open").call;
    let call_b = ob.expect("bot2 got the offer").expect("offers open").call;
    assert_eq!(call_a.jid(), call_b.jid(), "the same call offered to both");
    let (ra, rb) = tokio::join!(call_a.accept([]), call_b.accept([]));
    let (winner, loser) = match (&ra, &rb) {
        (Ok(()), Err(e)) => (&call_a, e),
        (Err(e), Ok(())) => (&call_b, e),
        other => panic!("exactly one accept must win: {other:?}"),
    };
    assert!(
        matches!(
            loser,
            Error::Stanza {
                condition: DefinedCondition::Conflict,
                ..
            }
        ),
        "{loser:?}"
    );
    winner.answer([]).await.expect("the winner answers");
    sipp.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_client_gets_registration_required_and_over_the_limit_resource_constraint() {
    // `stranger` can log in but is neither a route target nor a dialer.
    let node = TestNode::start(|cfg| {
        cfg.limits.max_calls = 1;
    })
    .await;
    let (stranger, _o) = node.bot("stranger").await;
    let refused = stranger
        .dial(DialBuilder::new("sip:nobody@127.0.0.1:9"))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            refused,
            Error::Stanza {
                condition: DefinedCondition::RegistrationRequired,
                ..
            }
        ),
        "{refused:?}"
    );

    let (bot, _offers) = node.bot("bot").await;
    let uas = Sipp::start("uas_answer.xml", None, "ivr", &[], None);
    let mut first = bot
        .dial(DialBuilder::new(uas.uri("service")))
        .await
        .expect("the first call fits");
    let refused = bot
        .dial(DialBuilder::new(uas.uri("service")))
        .await
        .expect_err("the second does not");
    assert!(
        matches!(
            refused,
            Error::Stanza {
                condition: DefinedCondition::ResourceConstraint,
                ..
            }
        ),
        "{refused:?}"
    );
    while !matches!(next_event(&mut first).await, CallEvent::Answered { .. }) {}
    first.hangup([]).await.expect("hung up");
    uas.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dials_go_to_the_trunk_their_uri_matches_with_its_credentials() {
    let busy = Sipp::start("uas_busy.xml", None, "ivr", &[], None);
    // Challenges for user rayo / password s3cret, then answers.
    let auth = Sipp::start("uas_auth.xml", None, "ivr", &[], None);
    let (busy_addr, auth_addr) = (
        format!("127.0.0.1:{}", busy.port).parse().expect("address"),
        format!("127.0.0.1:{}", auth.port).parse().expect("address"),
    );
    let node = TestNode::start(|cfg| {
        cfg.trunks = vec![
            rayo_server::config::Trunk {
                pattern: "tel:+1800*".into(),
                proxy: busy_addr,
                username: None,
                password: None,
            },
            rayo_server::config::Trunk {
                pattern: "*".into(),
                proxy: auth_addr,
                username: Some("rayo".into()),
                password: Some("s3cret".into()),
            },
        ];
    })
    .await;
    let (client, _offers) = node.bot("bot").await;
    // Neither URI names a host the node could reach: only the trunks can take them.
    let mut toll_free = client
        .dial(DialBuilder::new("tel:+18005551212"))
        .await
        .expect("dialled");
    let reason = loop {
        if let CallEvent::End { reason, .. } = next_event(&mut toll_free).await {
            break reason;
        }
    };
    assert!(matches!(reason, EndReason::Busy { .. }), "{reason:?}");
    let mut other = client
        .dial(DialBuilder::new("sip:alice@example.invalid"))
        .await
        .expect("dialled");
    while !matches!(next_event(&mut other).await, CallEvent::Answered { .. }) {}
    other.hangup([]).await.expect("hung up");
    busy.passed().await;
    auth.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}

/// §6.2.1.1: a dial to something no INVITE can be sent for — the spec's own `foo:bar`, a
/// `sip:` URI without a host, another scheme, a number or host name with no trunk to take
/// it — is refused with `bad-request` (modify) before any call exists: no `<ref/>`, and a
/// dial after it still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_to_what_cannot_be_dialled_is_a_bad_request_and_no_call() {
    let node = TestNode::start(|_| {}).await;
    let (bot, _offers) = node.bot("bot").await;
    for to in [
        "foo:bar",
        "sip:",
        "sip:alice@",
        "mailto:alice@example.com",
        "tel:+14155551212",
        "sip:bob@example.com",
    ] {
        let refused = bot.dial(DialBuilder::new(to)).await.expect_err("refused");
        let Error::Stanza {
            condition,
            type_,
            text,
        } = &refused
        else {
            panic!("{to}: {refused:?}")
        };
        assert_eq!(
            *condition,
            DefinedCondition::BadRequest,
            "{to}: {refused:?}"
        );
        assert_eq!(*type_, rayo_client::ErrorType::Modify, "{to}: {refused:?}");
        let text = text.as_deref().unwrap_or_default();
        assert!(text.starts_with("cannot dial: "), "{to}: {text}");
        assert!(text.contains(to), "the text names the target: {text}");
    }
    let uas = Sipp::start("uas_busy.xml", None, "ivr", &[], None);
    let mut call = bot
        .dial(DialBuilder::new(uas.uri("service")))
        .await
        .expect("a dialable target still dials");
    let reason = loop {
        if let CallEvent::End { reason, .. } = next_event(&mut call).await {
            break reason;
        }
    };
    assert!(matches!(reason, EndReason::Busy { .. }), "{reason:?}");
    uas.passed().await;
    node.node.shutdown_within(Duration::ZERO).await;
}
