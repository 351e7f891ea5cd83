//! The node as a XEP-0114 component of a real Prosody: the bot logs in to Prosody, the call
//! comes from sipp, every stanza goes through Prosody.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use rayo_client::proto::event::{CompleteReason, OutputReason};
use rayo_client::{Client, Config, EndReason, Output, Trust};
use rayo_e2e::prosody::{Prosody, COMPONENT, HOST, SECRET};
use rayo_e2e::{Sipp, TestNode, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_call_through_prosody() {
    let mut prosody = Prosody::new();
    prosody.start().await;
    let component = prosody.component_addr();
    let node = TestNode::start(|cfg| {
        cfg.c2s = None;
        cfg.component = Some(rayo_server::config::Component {
            server: component,
            secret: SECRET.into(),
            subdomains: true,
            max_stanza_depth: rayo_xmpp::xml::DEFAULT_MAX_DEPTH,
        });
        cfg.service.domain = COMPONENT.into();
        cfg.service.call_subdomain = Some("call".into());
        cfg.service.mixer_subdomain = Some("mixer".into());
        cfg.routes[0].targets = vec![format!("juliet@{HOST}")];
    })
    .await;
    assert!(
        node.node.component_connected(WAIT).await,
        "the node connects to Prosody; log:\n{}",
        prosody.log()
    );
    let config = Config::new(&format!("juliet@{HOST}/bot"), "r0m30")
        .expect("config")
        .server(prosody.c2s_addr().to_string())
        .rayo_domain(COMPONENT)
        .trust(Trust::Pinned(prosody.fingerprint.clone()));
    let (client, mut offers) = tokio::time::timeout(WAIT, Client::connect(config))
        .await
        .expect("login in time")
        .expect("login to Prosody");
    client.set_available().expect("presence");
    client.ping().await.expect("Prosody answers");

    let sipp = Sipp::start(
        "uac_node_hangs_up.xml",
        Some(node.node.sip_addr()),
        "ivr",
        &[],
        None,
    );
    let mut call = tokio::time::timeout(WAIT, offers.next())
        .await
        .unwrap_or_else(|_| panic!("no offer through Prosody; log:\n{}", prosody.log()))
        .expect("offers open")
        .call;
    assert!(
        call.jid()
            .to_string()
            .ends_with(&format!("@call.{COMPONENT}")),
        "{}",
        call.jid()
    );
    call.answer([]).await.expect("answered");
    let out = call
        .output(Output::say("Through Prosody."))
        .await
        .expect("output started");
    assert_eq!(
        out.complete().await.expect("completes").reason,
        CompleteReason::Output(OutputReason::Finish)
    );
    call.hangup([]).await.expect("hung up");
    let reason = rayo_e2e::end_reason(&mut call).await;
    assert!(
        matches!(reason, EndReason::HangupCommand { .. }),
        "{reason:?}"
    );
    sipp.passed().await;
    client.close();
    node.node.shutdown_within(Duration::ZERO).await;
    prosody.stop().await;
}
