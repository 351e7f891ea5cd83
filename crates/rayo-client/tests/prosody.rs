//! The SDK through Prosody: the Rayo node is a XEP-0114 component of a real Prosody (TLS
//! required, self-signed certificate pinned by the SDK); the bot logs in to Prosody and
//! addresses the component's domain as its Rayo service.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::prosody::*;
use common::*;
use rayo_call::SignalAction;
use rayo_client::{CallEvent, Config, EndReason, Trust};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offer_answer_and_hangup_through_prosody() {
    let mut prosody = Prosody::new();
    prosody.start().await;
    let mut node = Node::component(prosody.component_addr(), COMPONENT, SECRET, HOST).await;
    let config = Config::new(&format!("juliet@{HOST}/bot"), "r0m30")
        .expect("config")
        .server(prosody.c2s_addr().to_string())
        .rayo_domain(COMPONENT)
        .trust(Trust::Pinned(prosody.fingerprint.clone()));
    let (client, mut offers) = tokio::time::timeout(WAIT, node.client_with(config))
        .await
        .unwrap_or_else(|_| panic!("no login through prosody; log:\n{}", prosody.log()));

    let id = node.incoming("tel:+18005551212", "tel:+1").await;
    let mut call = tokio::time::timeout(WAIT, offers.next())
        .await
        .unwrap_or_else(|_| panic!("no offer through prosody; log:\n{}", prosody.log()))
        .expect("offers open")
        .call;
    assert_eq!(call.jid().to_string(), format!("{}@call.{COMPONENT}", id.0));
    call.answer([]).await.expect("answered");
    assert_eq!(
        node.action().await,
        Action::Signal(SignalAction::Answer {
            call: id.clone(),
            headers: vec![]
        })
    );
    call.hangup([]).await.expect("hung up");
    let end = loop {
        let e = tokio::time::timeout(WAIT, call.events().next())
            .await
            .expect("an event in time")
            .expect("events open");
        if let CallEvent::End { reason, .. } = e {
            break reason;
        }
    };
    assert!(matches!(end, EndReason::HangupCommand { .. }), "{end:?}");
    client.close();
    prosody.stop().await;
}
