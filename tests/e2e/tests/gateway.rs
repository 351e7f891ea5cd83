//! The gateway end to end (issue 14): one gateway, nodes behind it in cluster mode, sipp
//! calling the nodes and answering their dials, SDK bots logged in to the gateway.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use minidom::Element;
use rayo_client::{CallEvent, DefinedCondition, DialBuilder, EndReason, Error};
use rayo_e2e::gateway::{node_domain, TestGateway, EXTERNAL, INTERNAL};
use rayo_e2e::{end_reason, next_offer, MixerDomain, Sipp, WAIT};

async fn next_event(call: &mut rayo_client::Call) -> CallEvent {
    tokio::time::timeout(WAIT, call.events().next())
        .await
        .expect("an event in time")
        .expect("events open")
}

/// Every stanza the tap saw so far, as text.
fn tapped(tap: &mut tokio::sync::mpsc::Receiver<Element>) -> Vec<String> {
    std::iter::from_fn(|| tap.try_recv().ok())
        .map(|el| String::from(&el))
        .collect()
}

/// A gateway on its test defaults with node 1 behind it, in rotation.
async fn one_node() -> (TestGateway, rayo_e2e::TestNode) {
    let gw = TestGateway::start(|_| {}).await;
    let node = gw.node(1, |_| {}).await;
    gw.wait_rotation(&domains(1)).await;
    (gw, node)
}

/// sipp calling `node` as `service` with `scenario`, for one call.
fn caller(scenario: &str, node: &rayo_e2e::TestNode, service: &str) -> Sipp {
    Sipp::start(scenario, Some(node.node.sip_addr()), service, &[], None)
}

fn domains(n: usize) -> Vec<String> {
    (1..=n).map(node_domain).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_three_nodes_reach_the_bot_as_external_jids_and_no_node_jid_ever_does() {
    let gw = TestGateway::start(|_| {}).await;
    let mut nodes = Vec::new();
    for i in 1..=3 {
        nodes.push(gw.node(i, |_| {}).await);
    }
    gw.wait_rotation(&domains(3)).await;
    let (tx, mut tap) = tokio::sync::mpsc::channel(4096);
    let (_bot, mut offers) = gw.bot_with(gw.client_config("bot", "a").tap(tx)).await;

    for node in &nodes {
        let sipp = caller("uac_node_hangs_up.xml", node, "ivr");
        let offer = next_offer(&mut offers).await;
        let call_jid = offer.call.jid().to_string();
        assert!(
            call_jid.ends_with(&format!("@{EXTERNAL}")),
            "the call is {call_jid}"
        );
        let mut call = offer.call;
        call.accept([]).await.expect("accepted");
        call.answer([]).await.expect("answered");
        call.hangup([]).await.expect("hung up");
        assert!(
            matches!(end_reason(&mut call).await, EndReason::HangupCommand { .. }),
            "the bot's hangup ends the call"
        );
        sipp.passed().await;
    }
    // Three calls, one per node, all through the gateway.
    let seen = tapped(&mut tap);
    assert!(
        seen.iter().filter(|s| s.contains("<offer")).count() >= 3,
        "{seen:#?}"
    );
    for s in &seen {
        for d in domains(3).iter().map(String::as_str).chain([INTERNAL]) {
            assert!(!s.contains(d), "a stanza for the bot names {d}: {s}");
        }
    }
}

/// Dials `n` calls to `uas`, each answered, and returns them.
async fn dial_answered(
    client: &rayo_client::Client,
    uas: &Sipp,
    n: usize,
) -> Vec<rayo_client::Call> {
    let mut calls = Vec::new();
    for _ in 0..n {
        let mut call = client
            .dial(DialBuilder::new(uas.uri("service")).from("sip:bot@127.0.0.1"))
            .await
            .expect("dialled");
        loop {
            match next_event(&mut call).await {
                CallEvent::Answered { .. } => break,
                CallEvent::Ringing { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        calls.push(call);
    }
    calls
}

/// `n` dials answered by one sipp UAS taking `n` calls: the calls, and the UAS.
async fn dials(client: &rayo_client::Client, n: u32) -> (Vec<rayo_client::Call>, Sipp) {
    let uas = Sipp::start_calls("uas_answer.xml", None, "ivr", n, &[], None);
    let calls = dial_answered(client, &uas, n as usize).await;
    (calls, uas)
}

/// The calls each node holds as the gateway counts them, in domain order.
async fn calls_per_node(gw: &TestGateway) -> Vec<usize> {
    gw.calls_per_node()
        .await
        .into_iter()
        .map(|(_, c)| c)
        .collect()
}

async fn hang_up_all(calls: Vec<rayo_client::Call>) {
    for mut call in calls {
        call.hangup([]).await.expect("hung up");
        end_reason(&mut call).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_dials_land_ten_per_node_and_a_dnd_node_gets_none() {
    let gw = TestGateway::start(|_| {}).await;
    let mut nodes = Vec::new();
    for i in 1..=3 {
        nodes.push(gw.node(i, |_| {}).await);
    }
    // Node 4 is full (max_calls 0), so it says dnd: out of rotation.
    nodes.push(gw.node(4, |c| c.limits.max_calls = 0).await);
    gw.wait_rotation(&domains(3)).await;
    let (client, _offers) = gw.bot("bot", "a").await;
    let (calls, uas) = dials(&client, 30).await;
    assert_eq!(calls_per_node(&gw).await, vec![10, 10, 10, 0]);
    hang_up_all(calls).await;
    uas.passed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_dials_land_in_proportion() {
    let gw = TestGateway::start(|c| {
        c.gateway.balance = "weighted".into();
        for (n, w) in c.nodes.iter_mut().zip([1, 2, 3]) {
            n.weight = w;
        }
    })
    .await;
    let mut nodes = Vec::new();
    for i in 1..=3 {
        nodes.push(gw.node(i, |_| {}).await);
    }
    gw.wait_rotation(&domains(3)).await;
    let (client, _offers) = gw.bot("bot", "a").await;
    let (calls, uas) = dials(&client, 12).await;
    assert_eq!(calls_per_node(&gw).await, vec![2, 4, 6]);
    hang_up_all(calls).await;
    uas.passed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_race_for_an_offer_and_another_applications_bot_is_not_offered_it() {
    let (gw, node) = one_node().await;
    let (_a, mut offers_a) = gw.bot("bot", "a").await;
    let (_b, mut offers_b) = gw.bot("bot2", "b").await;
    let (_other, mut offers_o) = gw.bot("other", "o").await;
    let sipp = caller("uac_sipp_hangs_up_later.xml", &node, "ivr");
    let (oa, ob) = tokio::join!(next_offer(&mut offers_a), next_offer(&mut offers_b));
    let (ra, rb) = tokio::join!(oa.call.accept([]), ob.call.accept([]));
    let wins = [ra.is_ok(), rb.is_ok()];
    assert_eq!(
        wins.iter().filter(|w| **w).count(),
        1,
        "exactly one accept wins: {ra:?} {rb:?}"
    );
    let lost = if ra.is_ok() { rb } else { ra };
    assert!(
        matches!(
            &lost,
            Err(Error::Stanza {
                condition: DefinedCondition::Conflict,
                ..
            })
        ),
        "{lost:?}"
    );
    let mut winner = if wins[0] { oa.call } else { ob.call };
    winner.answer([]).await.expect("answered");
    let reason = end_reason(&mut winner).await;
    assert!(matches!(reason, EndReason::Hungup { .. }), "{reason:?}");
    sipp.passed().await;
    // The call's number belongs to `dev`: `other`'s bot never heard of it.
    let none = tokio::time::timeout(Duration::from_millis(200), offers_o.next()).await;
    assert!(none.is_err(), "another application was offered the call");
}

const NODE_PROCESS: &str = env!("CARGO_BIN_EXE_node_process");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_call_ends_its_calls_with_error_within_two_seconds_and_rejoins() {
    use rayo_e2e::gateway::NodeProcess;
    let gw = TestGateway::start(|_| {}).await;
    let _n1 = gw.node(1, |_| {}).await;
    let _n2 = gw.node(2, |_| {}).await;
    let mut n3 = NodeProcess::start(&gw, 3, NODE_PROCESS).await;
    gw.wait_rotation(&domains(3)).await;
    let (client, mut offers) = gw.bot("bot", "a").await;

    // Two live calls on node 3, answered by the bot.
    let mut sipps = Vec::new();
    let mut calls = Vec::new();
    for _ in 0..2 {
        sipps.push(Sipp::start(
            "uac_node_hangs_up.xml",
            Some(n3.sip_addr),
            "ivr",
            &[],
            None,
        ));
        let call = next_offer(&mut offers).await.call;
        call.accept([]).await.expect("accepted");
        call.answer([]).await.expect("answered");
        calls.push(call);
    }
    assert_eq!(gw.calls_per_node().await[2], (node_domain(3), 2));

    n3.kill().await;
    let killed = Instant::now();
    for call in &mut calls {
        let reason = end_reason(call).await;
        assert!(matches!(reason, EndReason::Error { .. }), "{reason:?}");
    }
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "ended {took:?} after the kill"
    );
    drop(sipps); // they wait for a BYE that never comes

    // New dials go to the two left.
    gw.wait_rotation(&domains(2)).await;
    let (dialled, uas) = dials(&client, 4).await;
    assert_eq!(calls_per_node(&gw).await, vec![2, 2, 0]);
    hang_up_all(dialled).await;
    uas.passed().await;

    // Restarted, it presents itself again and is back in rotation.
    n3.restart().await;
    gw.wait_rotation(&domains(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_a_stopped_node_does_not_answer_is_retried_and_the_node_comes_back_after_pings() {
    use rayo_e2e::gateway::NodeProcess;
    let gw = TestGateway::start(|c| {
        c.gateway.dial_timeout = 1.0;
        c.gateway.node_failures_out = 1;
        c.gateway.node_pings_back = 2;
        c.gateway.ping_timeout = 5.0;
    })
    .await;
    let _n1 = gw.node(1, |_| {}).await;
    let n2 = NodeProcess::start(&gw, 2, NODE_PROCESS).await;
    gw.wait_rotation(&domains(2)).await;
    let (client, _offers) = gw.bot("bot", "a").await;
    let uas = Sipp::start_calls("uas_answer.xml", None, "ivr", 2, &[], None);

    // Node 2 stops answering (SIGSTOP): of two dials one goes to it first, times out after
    // 1 s, and is placed on node 1 instead; both succeed for the bot.
    n2.signal("STOP");
    let t0 = Instant::now();
    let calls = dial_answered(&client, &uas, 2).await;
    assert!(
        t0.elapsed() >= Duration::from_secs(1),
        "one dial waited for its timeout"
    );
    assert_eq!(calls_per_node(&gw).await, vec![2, 0]);
    // One failed dial took node 2 out of rotation, though it never said dnd.
    let n2_view = gw
        .gw
        .nodes()
        .await
        .into_iter()
        .find(|n| n.domain == node_domain(2));
    assert!(!n2_view.expect("node 2 known").in_rotation);

    hang_up_all(calls).await;
    uas.passed().await;
    // Running again, it answers pings and comes back. (The dial it got while stopped is
    // placed late, towards the UAS that is gone now; the gateway hangs that call up, which
    // `a_dial_answered_after_its_timeout_is_hung_up_at_its_node` in rayo-cluster checks.)
    n2.signal("CONT");
    gw.wait_rotation(&domains(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rogue_node_with_a_wrong_secret_or_an_unlisted_domain_is_refused() {
    let gw = TestGateway::start(|_| {}).await;
    let good = gw.node(1, |_| {}).await;
    // Node 2's domain with the wrong secret: its component never connects.
    let addr = gw.gw.node_addr().expect("listener");
    let wrong = rayo_e2e::TestNode::start(|cfg| {
        rayo_e2e::gateway::cluster_node(cfg, 2, addr);
        if let Some(c) = &mut cfg.component {
            c.secret = "guess".into();
        }
    })
    .await;
    assert!(!wrong.node.component_connected(Duration::from_secs(2)).await);
    // A domain not on the list (node 9): refused at the handshake too.
    let unlisted =
        rayo_e2e::TestNode::start(|cfg| rayo_e2e::gateway::cluster_node(cfg, 9, addr)).await;
    assert!(
        !unlisted
            .node
            .component_connected(Duration::from_secs(2))
            .await
    );
    let nodes = gw.wait_rotation(&domains(1)).await;
    assert_eq!(nodes.len(), 1, "only node 1 is known: {nodes:?}");
    // Calls to the rogue nodes never reach the bot.
    let (_bot, mut offers) = gw.bot("bot", "a").await;
    let sipp = caller("uac_sipp_hangs_up.xml", &wrong, "ivr");
    let none = tokio::time::timeout(Duration::from_secs(2), offers.next()).await;
    assert!(none.is_err(), "an offer from a rogue node reached the bot");
    drop(sipp);
    drop(good);
}

/// The same flows with everything a component of a real Prosody: the gateway's two domains,
/// the nodes, and the bot a user of Prosody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_and_outbound_with_gateway_and_nodes_as_components_of_prosody() {
    use rayo_e2e::prosody::{Prosody, HOST, SECRET};
    const EXT: &str = "rayo.localhost";
    const INT: &str = "gw.localhost";
    let mut prosody = Prosody::with_components(&[INT, "node1.localhost", "node2.localhost"]);
    prosody.start().await;
    let server = prosody.component_addr();
    let link = |_: ()| rayo_gateway::config::ComponentLink {
        server,
        secret: SECRET.into(),
    };
    let gw = TestGateway::start(|c| {
        c.gateway.external = EXT.into();
        c.gateway.internal = INT.into();
        c.c2s = None;
        c.node_listener = None;
        c.external_component = Some(link(()));
        c.internal_component = Some(link(()));
        for n in &mut c.nodes {
            n.secret = None;
        }
        c.applications.retain(|a| a.name == "dev");
        c.applications[0].clients = vec![format!("juliet@{HOST}")];
    })
    .await;
    let mut nodes = Vec::new();
    for i in 1..=2 {
        let node = rayo_e2e::TestNode::start(|cfg| {
            rayo_e2e::gateway::cluster_node(cfg, i, server);
            if let Some(c) = &mut cfg.component {
                c.secret = SECRET.into();
            }
            cfg.cluster = Some(rayo_server::config::Cluster {
                gateway: INT.into(),
            });
        })
        .await;
        assert!(
            node.node.component_connected(WAIT).await,
            "node {i} connects to Prosody; log:\n{}",
            prosody.log()
        );
        nodes.push(node);
    }
    let until = Instant::now() + WAIT;
    while gw.gw.nodes().await.iter().filter(|n| n.in_rotation).count() < 2 {
        assert!(
            Instant::now() < until,
            "nodes registered; log:\n{}",
            prosody.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (tx, mut tap) = tokio::sync::mpsc::channel(4096);
    let config = rayo_client::Config::new(&format!("juliet@{HOST}/bot"), "r0m30")
        .expect("config")
        .server(prosody.c2s_addr().to_string())
        .rayo_domain(EXT)
        .with_mixer_domain(EXT)
        .trust(rayo_client::Trust::Pinned(prosody.fingerprint.clone()))
        .tap(tx);
    let (client, mut offers) = gw.bot_with(config).await;

    // Inbound on node 2.
    let sipp = caller("uac_node_hangs_up.xml", &nodes[1], "ivr");
    let mut call = tokio::time::timeout(WAIT, offers.next())
        .await
        .unwrap_or_else(|_| panic!("no offer through Prosody; log:\n{}", prosody.log()))
        .expect("offers open")
        .call;
    assert!(
        call.jid().to_string().ends_with(&format!("@{EXT}")),
        "{}",
        call.jid()
    );
    call.accept([]).await.expect("accepted");
    call.answer([]).await.expect("answered");
    call.hangup([]).await.expect("hung up");
    assert!(matches!(
        end_reason(&mut call).await,
        EndReason::HangupCommand { .. }
    ));
    sipp.passed().await;

    // Outbound: two dials, one per node.
    let (calls, uas) = dials(&client, 2).await;
    assert_eq!(calls_per_node(&gw).await, vec![1, 1]);
    hang_up_all(calls).await;
    uas.passed().await;
    for s in tapped(&mut tap) {
        for d in ["node1.localhost", "node2.localhost", INT] {
            assert!(!s.contains(d), "a stanza for the bot names {d}: {s}");
        }
    }
}

/// The README's quick start: the two node files are valid cluster nodes of the gateway's
/// embedded defaults.
#[test]
fn the_quick_start_node_files_serve_the_embedded_gateway() {
    let gw = rayo_gateway::Config::embedded("pw", "quick-start-secret");
    let secrets = gw.node_secrets();
    for i in 1..=2 {
        let path = format!(
            "{}/../../bins/rayo-gateway/node{i}.example.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let cfg = rayo_server::Config::from_file(std::path::Path::new(&path)).expect("valid");
        assert!(cfg.c2s.is_none(), "a cluster node has no c2s listener");
        assert_eq!(cfg.cluster.expect("cluster").gateway, gw.gateway.internal);
        let component = cfg.component.expect("component");
        assert_eq!(
            component.server,
            gw.node_listener.clone().expect("listener").listen
        );
        assert_eq!(secrets.get(&cfg.service.domain), Some(&component.secret));
    }
}

/// Counts the offers each bot gets and rejects them busy (one reject per call wins), until
/// `stop` says every call is over.
fn rejecting(
    mut offers: rayo_client::Offers,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            // Offers already delivered are counted before the stop.
            tokio::select! {
                biased;
                o = offers.next() => match o {
                    Some(offer) => {
                        seen += 1;
                        let _ = offer.call.reject(rayo_client::RejectReason::Busy, []).await;
                    }
                    None => return seen,
                },
                _ = stop.changed() => return seen,
            }
        }
    })
}

/// `calls` calls from sipp to `node`, rejected by whichever bot gets each offer first: how
/// many offers each bot got.
async fn offers_per_resource(
    bots: Vec<(rayo_client::Client, rayo_client::Offers)>,
    node: &rayo_e2e::TestNode,
    calls: u32,
    extra: &[&str],
) -> Vec<usize> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let counters: Vec<_> = bots
        .into_iter()
        .map(|(c, o)| (c, rejecting(o, stopped.clone())))
        .collect();
    let sipp = Sipp::start_calls(
        "uac_reject_486.xml",
        Some(node.node.sip_addr()),
        "ivr",
        calls,
        extra,
        None,
    );
    // Every call got its 486: every offer was counted.
    sipp.passed().await;
    stop.send(true).expect("counters running");
    let mut counts = Vec::new();
    for (_client, h) in counters {
        counts.push(h.await.expect("counted"));
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmr_round_trips_and_roundrobin_spreads_thirty_offers_ten_per_resource() {
    let (gw, node) = one_node().await;
    let mut bots = Vec::new();
    for r in ["r1", "r2", "r3"] {
        bots.push(gw.bot("bot", r).await);
    }
    // XEP-0354: what is active (the application's `all`) and available.
    let routing = bots[0].0.routing().await.expect("routing query");
    assert_eq!(routing.active, "urn:xmpp:cmr:all");
    for a in ["all", "mostactive", "roundrobin", "weighted"] {
        assert!(
            routing.available.contains(&format!("urn:xmpp:cmr:{a}")),
            "{routing:?}"
        );
    }
    let refused = bots[0].0.set_routing("urn:xmpp:cmr:nosuch").await;
    assert!(
        matches!(
            &refused,
            Err(Error::Stanza {
                condition: DefinedCondition::NotAllowed,
                ..
            })
        ),
        "{refused:?}"
    );
    // One resource chooses for the bare JID: the others see it.
    bots[0]
        .0
        .set_routing("urn:xmpp:cmr:roundrobin")
        .await
        .expect("set");
    assert_eq!(
        bots[2].0.routing().await.expect("routing").active,
        "urn:xmpp:cmr:roundrobin"
    );

    let counts = offers_per_resource(bots, &node, 30, &["-r", "20"]).await;
    assert_eq!(counts, vec![10, 10, 10], "offers per resource");

    // `all` (bot2's application's, unchanged): every resource is offered every call.
    let mut bots = Vec::new();
    for r in ["s1", "s2", "s3"] {
        bots.push(gw.bot("bot2", r).await);
    }
    let counts = offers_per_resource(bots, &node, 3, &[]).await;
    assert_eq!(
        counts,
        vec![3, 3, 3],
        "every resource of bot2 is offered every call"
    );
}

/// The next offer, accepted and answered.
async fn answered(offers: &mut rayo_client::Offers) -> rayo_client::Call {
    let call = next_offer(offers).await.call;
    call.accept([]).await.expect("accepted");
    call.answer([]).await.expect("answered");
    call
}

/// A gateway whose three applications each lose their bot a different way.
async fn lost_bot_gateway() -> TestGateway {
    TestGateway::start(|c| {
        let base = c.applications[1].clone();
        let app = |name: &str, client: &str, lost: &str, distribution: &str| {
            let mut a = base.clone();
            a.name = name.into();
            a.clients = vec![format!("{client}@localhost")];
            a.uris = vec![format!("sip:{name}@*")];
            a.on_client_lost = lost.into();
            a.distribution = distribution.into();
            a.grace = 2.0;
            a
        };
        c.applications = vec![
            app("hangup", "bot", "hangup", "all"),
            app("keep", "bot2", "keep", "all"),
            app("reoffer", "stranger", "reoffer", "roundrobin"),
        ];
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_bot_s_calls_are_hung_up_kept_for_the_grace_or_reoffered() {
    let gw = lost_bot_gateway().await;
    let node = gw.node(1, |_| {}).await;
    gw.wait_rotation(&domains(1)).await;
    // hangup: the bot goes away, its call is hung up at once (sipp gets the BYE).
    let (bot, mut offers) = gw.bot("bot", "a").await;
    let sipp = caller("uac_node_hangs_up.xml", &node, "hangup");
    let _call = answered(&mut offers).await;
    bot.close();
    sipp.passed().await;

    // keep: the call outlives its bot for the grace (2 s), then is hung up.
    let (bot2, mut offers) = gw.bot("bot2", "a").await;
    let sipp = caller("uac_node_hangs_up.xml", &node, "keep");
    let _call = answered(&mut offers).await;
    bot2.close();
    let lost = Instant::now();
    sipp.passed().await;
    let kept = lost.elapsed();
    assert!(
        kept >= Duration::from_millis(1800),
        "hung up after {kept:?}, before the grace"
    );

    // reoffer: another resource of the same bare JID is offered the call again and controls
    // it from then on.
    let (s1, mut o1) = gw.bot("stranger", "one").await;
    let (s2, mut o2) = gw.bot("stranger", "two").await;
    let sipp = caller("uac_node_hangs_up.xml", &node, "reoffer");
    let (first, first_is_one) = tokio::select! {
        o = next_offer(&mut o1) => (o, true),
        o = next_offer(&mut o2) => (o, false),
    };
    let jid = first.call.jid().clone();
    first.call.accept([]).await.expect("accepted");
    first.call.answer([]).await.expect("answered");
    let (gone, survivor) = if first_is_one {
        (&s1, &mut o2)
    } else {
        (&s2, &mut o1)
    };
    gone.close();
    let again = next_offer(survivor).await;
    assert_eq!(again.call.jid(), &jid, "the same call, offered again");
    let mut call = again.call;
    call.hangup([])
        .await
        .expect("the other resource controls the call now");
    let reason = end_reason(&mut call).await;
    assert!(
        matches!(reason, EndReason::HangupCommand { .. }),
        "{reason:?}"
    );
    sipp.passed().await;
}

/// XEP-0349 pitfall: a node must keep its calls through a gateway restart. The gateway dies
/// (dropped, nothing drained) with a call up; a new one takes its ports; the node reconnects
/// and presents itself again, and the call goes on until the caller hangs up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_keeps_its_calls_through_a_gateway_restart() {
    let first = TestGateway::start(|_| {}).await;
    let (c2s, listener) = (first.gw.c2s_addr().unwrap(), first.gw.node_addr().unwrap());
    let node = first.node(1, |_| {}).await;
    first.wait_rotation(&domains(1)).await;
    let (_bot, mut offers) = first.bot("bot", "a").await;
    let sipp = caller("uac_hangs_up_after_6s.xml", &node, "ivr");
    let _call = answered(&mut offers).await;
    drop(first);

    let second = TestGateway::start(|c| {
        if let Some(l) = &mut c.c2s {
            l.listen = c2s;
        }
        if let Some(n) = &mut c.node_listener {
            n.listen = listener;
        }
    })
    .await;
    second.wait_rotation(&domains(1)).await;
    // The caller hangs up 6 s after the answer and gets the node's 200: the call was
    // still up at the node, whatever bounced meanwhile.
    sipp.passed().await;
}

/// The node's own c2s listener is its bots' XMPP server: it answers XEP-0354 too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_s_own_c2s_listener_answers_cmr_too() {
    let node = rayo_e2e::TestNode::start(|_| {}).await;
    let (client, _offers) = node.bot("bot").await;
    assert_eq!(
        client.routing().await.expect("query").active,
        "urn:xmpp:cmr:all"
    );
    client
        .set_routing("urn:xmpp:cmr:mostactive")
        .await
        .expect("set");
    assert_eq!(
        client.routing().await.expect("query").active,
        "urn:xmpp:cmr:mostactive"
    );
    node.node.shutdown_within(Duration::ZERO).await;
}

/// The events of a mixer: the first (within [`WAIT`]), then any more until none comes for
/// 800 ms.
async fn settle(mixer: &mut rayo_client::Mixer) -> Vec<CallEvent> {
    let first = tokio::time::timeout(WAIT, mixer.events().next())
        .await
        .expect("a mixer event in time")
        .expect("mixer events open");
    let mut got = vec![first];
    while let Ok(Some(e)) =
        tokio::time::timeout(Duration::from_millis(800), mixer.events().next()).await
    {
        got.push(e);
    }
    got
}

/// Tenancy: two applications each use a mixer called `conf`; each is its own mixer, and
/// neither application's bot hears of the other's calls in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applications_mixers_of_one_name_are_two_mixers() {
    let (gw, node) = one_node().await;
    let (dev, mut dev_offers) = gw.bot("bot", "a").await;
    let (other, mut other_offers) = gw.bot("other", "o").await;
    let s1 = caller("uac_node_hangs_up.xml", &node, "ivr");
    let dev_call = answered(&mut dev_offers).await;
    let s2 = caller("uac_node_hangs_up.xml", &node, "other");
    let other_call = answered(&mut other_offers).await;

    let mut dev_conf = dev.mixer("conf").expect("mixer");
    let mut other_conf = other.mixer("conf").expect("mixer");
    assert_eq!(
        dev_conf.jid(),
        other_conf.jid(),
        "the same name for both, conf@localhost"
    );
    dev_call
        .join(dev_conf.join_target())
        .await
        .expect("dev joins conf");
    other_call
        .join(other_conf.join_target())
        .await
        .expect("other joins conf");

    let joined = |events: Vec<CallEvent>| -> Vec<String> {
        events
            .into_iter()
            .filter_map(|e| match e {
                CallEvent::Joined(j) => j.call_uri,
                _ => None,
            })
            .collect()
    };
    let dev_seen = joined(settle(&mut dev_conf).await);
    let other_seen = joined(settle(&mut other_conf).await);
    assert_eq!(
        dev_seen,
        vec![format!("xmpp:{}", dev_call.jid())],
        "dev's conf"
    );
    assert_eq!(
        other_seen,
        vec![format!("xmpp:{}", other_call.jid())],
        "other's conf"
    );

    for call in [dev_call, other_call] {
        call.hangup([]).await.expect("hung up");
    }
    s1.passed().await;
    s2.passed().await;
}
