//! What a user sees when things go wrong: a dial the node refuses (an account it does not
//! know, behind Prosody), a wrong password, no way to check the certificate, an invalid
//! grammar. Errors are one plain line on standard error, with an exit status.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::prosody::{Prosody, COMPONENT, HOST, SECRET};
use common::{free_udp_ports, Rayo, Sipp, TempDir, TestNode, LOOPBACK, WAIT};
use rayo_server::config::{Component, Config, RouteConfig};
use rayo_server::Node;

/// A node hosted by Prosody as the component `rayo.localhost`. Prosody has the users juliet
/// and romeo; the node knows romeo only (calls are routed to him), so juliet is a client it
/// does not know, and `limits.unknown_clients_may_dial` is off (the default).
async fn node_behind_prosody(prosody: &Prosody, dir: &TempDir) -> Node {
    let mut cfg = Config::default();
    cfg.service.domain = COMPONENT.into();
    cfg.service.call_subdomain = Some("call".into());
    cfg.service.mixer_subdomain = Some("mixer".into());
    cfg.c2s = None;
    cfg.component = Some(Component {
        server: prosody.component_addr(),
        secret: SECRET.into(),
        subdomains: true,
        max_stanza_depth: rayo_xmpp::xml::DEFAULT_MAX_DEPTH,
    });
    cfg.routes = vec![RouteConfig {
        pattern: "*".into(),
        targets: vec![format!("romeo@{HOST}")],
        algorithm: Default::default(),
        weights: Vec::new(),
        offer_timeout: None,
    }];
    let sip = free_udp_ports(1);
    cfg.sip.listen = format!("{LOOPBACK}:{sip}").parse().expect("address");
    let rtp = free_udp_ports(10);
    cfg.rtp.first_port = rtp;
    cfg.rtp.last_port = rtp + 8;
    cfg.recording.dir = dir.0.join("recordings");
    let node = Node::start(cfg).await.expect("the node starts");
    assert!(
        node.component_connected(WAIT).await,
        "the node did not connect to Prosody; log:\n{}",
        prosody.log()
    );
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_from_an_account_the_node_does_not_know_is_refused() {
    let mut prosody = Prosody::new();
    prosody.start().await;
    let dir = TempDir::new("behind-prosody");
    let node = node_behind_prosody(&prosody, &dir).await;
    let sipp = Sipp::start("uas_busy.xml", None, "service", &[], None);
    let server = prosody.c2s_addr().to_string();
    // Everything from the environment this time.
    let env = |jid: &'static str, password: &'static str| {
        [
            ("RAYO_JID", jid),
            ("RAYO_PASSWORD", password),
            ("RAYO_SERVER", server.as_str()),
            ("RAYO_DOMAIN", COMPONENT),
            ("RAYO_FINGERPRINT", prosody.fingerprint.as_str()),
        ]
    };

    let juliet = env("juliet@localhost", "r0m30");
    let done = Rayo::spawn(&["dial", &sipp.uri("service")], &juliet)
        .finish()
        .await;
    assert_eq!(done.status.code(), Some(1), "{done:?}");
    assert_eq!(done.stdout, Vec::<String>::new(), "no call: {done:?}");
    // The condition, then the node's text: "registration-required (this client is not …)".
    assert_eq!(done.stderr.lines().count(), 1, "{done:?}");
    assert!(
        done.stderr
            .starts_with("rayo: dial refused: registration-required"),
        "{done:?}"
    );

    // romeo, whom the node routes calls to, may dial: the same dial reaches sipp.
    let romeo = env("romeo@localhost", "jul13t");
    let args = ["dial", &sipp.uri("service"), "--expect", "busy"];
    let done = Rayo::spawn(&args, &romeo).finish().await;
    assert!(done.status.success(), "{done:?}");
    assert!(done.stdout[0].starts_with("dialed "), "{done:?}");
    assert!(
        done.stdout[0].ends_with(&format!("@call.{COMPONENT}")),
        "{done:?}"
    );
    assert_eq!(done.stdout[1], "end busy platform-code=486", "{done:?}");
    sipp.passed().await;
    node.shutdown_within(Duration::ZERO).await;
    prosody.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_reported_plainly() {
    let node = TestNode::start().await;
    let server = node.node.c2s_addr().expect("c2s").to_string();
    let args = [
        "listen",
        "--server",
        &server,
        "--password",
        "not-the-password",
        "--insecure",
    ];
    let done = Rayo::spawn(&args, &[]).finish().await;
    assert_eq!(done.status.code(), Some(2), "{done:?}");
    assert_eq!(done.stdout, Vec::<String>::new(), "{done:?}");
    let lines: Vec<&str> = done.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{done:?}");
    assert!(
        lines[0]
            .starts_with("rayo: warning: --insecure: the server's TLS certificate is not checked"),
        "{done:?}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "rayo: {server}: logging in as rayo@localhost: authentication failed"
        )),
        "{done:?}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_fingerprint_is_a_tls_failure() {
    let node = TestNode::start().await;
    let server = node.node.c2s_addr().expect("c2s").to_string();
    let wrong = "00".repeat(32);
    let args = ["dial", "sip:x@127.0.0.1", "--server", &server];
    let env = [
        ("RAYO_PASSWORD", common::PASSWORD),
        ("RAYO_FINGERPRINT", &wrong),
    ];
    let done = Rayo::spawn(&args, &env).finish().await;
    assert_eq!(done.status.code(), Some(2), "{done:?}");
    assert!(
        done.stderr.starts_with(&format!("rayo: {server}: TLS")),
        "{done:?}"
    );
    assert!(done.stderr.contains("--fingerprint"), "{done:?}");
    node.stop().await;
}

#[test]
fn without_a_way_to_trust_the_node_rayo_says_what_to_give() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rayo"))
        .args(["listen", "--password", "x"])
        .env_remove("RAYO_FINGERPRINT")
        .output()
        .expect("rayo runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).expect("UTF-8");
    assert!(
        err.starts_with("rayo: no way to check the node's TLS certificate: give --fingerprint"),
        "{err}"
    );
}

#[test]
fn an_invalid_grammar_is_refused_before_connecting() {
    // Nothing listens on port 9 of loopback: the grammar is checked first.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rayo"))
        .args(["listen", "--answer", "--ask", "builtin:dtmf/nonsense"])
        .args(["--password", "x", "--insecure", "--server", "127.0.0.1:9"])
        .output()
        .expect("rayo runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).expect("UTF-8");
    assert!(
        err.starts_with("rayo: --ask builtin:dtmf/nonsense: "),
        "{err}"
    );
    assert_eq!(
        err.lines().count(),
        1,
        "no --insecure warning, no connection: {err}"
    );
}
