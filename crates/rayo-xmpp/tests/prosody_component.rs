//! Component mode against a real Prosody (Debian `prosody`), started by the test with a
//! temporary configuration on free loopback ports: a client logged in to Prosody sends IQs
//! to the component's domain and gets the answers; the component reconnects after Prosody
//! restarts.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::prosody::*;
use common::*;
use rayo_xmpp::component_client::{ComponentClient, ComponentClientConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_serves_prosody_clients_and_reconnects_after_restart() {
    let mut prosody = Prosody::new();
    prosody.start().await;
    let mut config = ComponentClientConfig::new(prosody.component_addr(), COMPONENT, SECRET);
    config.backoff_initial = Duration::from_millis(200);
    config.backoff_max = Duration::from_secs(1);
    // One stream each for rayo.localhost, call.rayo.localhost and mixer.rayo.localhost.
    config.subdomains = true;
    let mut component = ComponentClient::start(config, addressing(COMPONENT), Echo);
    component
        .wait_connected(Duration::from_secs(15))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "component handshake with prosody failed; log:\n{}",
                prosody.log()
            )
        });

    let mut c = PlainClient::login(prosody.c2s_addr(), HOST, "juliet", "r0m30").await;
    let answer = c
        .request(COMPONENT, &format!("<echo xmlns='{TEST_NS}'>1</echo>"))
        .await;
    assert!(
        answer.contains("result") && answer.contains(">1</echo>"),
        "{answer}"
    );
    c.round(COMPONENT, 20).await;

    let disco = "<query xmlns='http://jabber.org/protocol/disco#info'/>";
    let info = c.request(COMPONENT, disco).await;
    assert!(info.contains("urn:xmpp:rayo:1"), "service disco: {info}");
    // A call's disco#info, through the call subdomain's own component stream.
    let info = c.request(&format!("c1@call.{COMPONENT}"), disco).await;
    assert!(info.contains("urn:xmpp:rayo:call:1"), "call disco: {info}");
    // An unknown payload: service-unavailable from the component.
    let err = c.request(COMPONENT, "<what xmlns='urn:nobody'/>").await;
    assert!(err.contains("service-unavailable"), "{err}");
    drop(c);

    // Restart prosody: the component notices, backs off, and comes back.
    prosody.stop().await;
    eprintln!("prosody stopped");
    component
        .wait_disconnected(Duration::from_secs(10))
        .await
        .expect("component noticed prosody going away");
    prosody.start().await;
    eprintln!("prosody restarted");
    component
        .wait_connected(Duration::from_secs(15))
        .await
        .unwrap_or_else(|_| panic!("component did not reconnect; log:\n{}", prosody.log()));
    let mut c = PlainClient::login(prosody.c2s_addr(), HOST, "juliet", "r0m30").await;
    let answer = c
        .request(COMPONENT, &format!("<echo xmlns='{TEST_NS}'>2</echo>"))
        .await;
    assert!(answer.contains(">2</echo>"), "{answer}");
    component.shutdown();
    prosody.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_component_secret_is_refused() {
    let mut prosody = Prosody::new();
    prosody.start().await;
    let mut config = ComponentClientConfig::new(prosody.component_addr(), COMPONENT, "wrong");
    config.backoff_initial = Duration::from_millis(200);
    let mut component = ComponentClient::start(config, addressing(COMPONENT), Echo);
    assert!(
        component
            .wait_connected(Duration::from_secs(3))
            .await
            .is_err(),
        "handshake accepted with a wrong secret"
    );
    component.shutdown();
    prosody.stop().await;
}
