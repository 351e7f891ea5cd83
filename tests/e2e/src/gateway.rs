//! A gateway under test ([`rayo_gateway::Running`]) on free loopback ports, with nodes
//! behind it in cluster mode and SDK bots logged in to it.

use std::time::{Duration, Instant};

use rayo_client::{Client, Config as ClientConfig, Offers, Trust};
use rayo_gateway::config::Config as GatewayConfig;
use rayo_gateway::driver::NodeView;
use rayo_gateway::Running;
use rayo_server::config::{Cluster, Component, Config};

use crate::{MixerDomain, TempDir, TestNode, LOOPBACK, PASSWORD, WAIT};

/// The gateway's external domain in these tests (clients log in as `name@localhost`).
pub const EXTERNAL: &str = "localhost";
/// The gateway's internal domain.
pub const INTERNAL: &str = "gateway.localhost";
/// The secret every test node authenticates with at the node listener.
pub const NODE_SECRET: &str = "n0de-s3cret";

/// A gateway under test.
pub struct TestGateway {
    /// The gateway.
    pub gw: Running,
    /// Its working directory (certificate).
    pub dir: TempDir,
}

/// The domain of test node `i` (1-based): `node<i>.localhost`.
pub fn node_domain(i: usize) -> String {
    format!("node{i}.localhost")
}

impl TestGateway {
    /// A gateway on free loopback ports: users `bot`, `bot2`, `other` and `stranger`
    /// (password [`PASSWORD`]); nodes `node1.localhost`…`node5.localhost` trusted with
    /// [`NODE_SECRET`]; application `dev` owning every called URI with clients
    /// `bot@localhost` and `bot2@localhost`, which may dial; application `other` (client
    /// `other@localhost`) owning `sip:other@*`; pings every second; `tune` applied last.
    pub async fn start(tune: impl FnOnce(&mut GatewayConfig)) -> TestGateway {
        let dir = TempDir::new("gateway");
        let mut cfg = GatewayConfig::embedded(PASSWORD, NODE_SECRET);
        cfg.users = ["bot", "bot2", "other", "stranger"]
            .into_iter()
            .map(|n| rayo_gateway::config::User {
                name: n.into(),
                password: PASSWORD.into(),
            })
            .collect();
        cfg.nodes = (1..=5)
            .map(|i| rayo_gateway::config::Node {
                domain: node_domain(i),
                secret: Some(NODE_SECRET.into()),
                weight: 1,
            })
            .collect();
        let mut other = cfg.applications[0].clone();
        other.name = "other".into();
        other.clients = vec!["other@localhost".into()];
        other.uris = vec!["sip:other@*".into()];
        cfg.applications[0].clients = vec!["bot@localhost".into(), "bot2@localhost".into()];
        cfg.applications.insert(0, other);
        if let Some(c) = &mut cfg.c2s {
            c.listen = format!("{LOOPBACK}:0").parse().expect("address");
            c.self_signed_dir = dir.0.join("tls");
        }
        if let Some(n) = &mut cfg.node_listener {
            n.listen = format!("{LOOPBACK}:0").parse().expect("address");
        }
        cfg.gateway.ping_interval = 1.0;
        cfg.gateway.ping_timeout = 1.0;
        tune(&mut cfg);
        let gw = Running::start(cfg).await.expect("the gateway starts");
        TestGateway { gw, dir }
    }

    /// Node `i` (1-based) behind this gateway: a [`TestNode`] in cluster mode connected to
    /// the node listener as `node<i>.localhost`, with no c2s listener; `tune` applied last.
    pub async fn node(&self, i: usize, tune: impl FnOnce(&mut Config)) -> TestNode {
        let addr = self.gw.node_addr().expect("a node listener");
        let node = TestNode::start(|cfg| {
            cluster_node(cfg, i, addr);
            tune(cfg);
        })
        .await;
        assert!(
            node.node.component_connected(WAIT).await,
            "node {i} connects to the gateway"
        );
        node
    }

    /// Waits until the gateway has exactly these nodes in rotation.
    pub async fn wait_rotation(&self, domains: &[String]) -> Vec<NodeView> {
        let until = Instant::now() + WAIT;
        loop {
            let nodes = self.gw.nodes().await;
            let mut up: Vec<String> = nodes
                .iter()
                .filter(|n| n.in_rotation)
                .map(|n| n.domain.clone())
                .collect();
            up.sort();
            let mut want = domains.to_vec();
            want.sort();
            if up == want {
                return nodes;
            }
            assert!(
                Instant::now() < until,
                "nodes in rotation: {up:?}, expected {want:?} ({nodes:?})"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The calls each node holds, by domain, as the gateway counts them.
    pub async fn calls_per_node(&self) -> Vec<(String, usize)> {
        self.gw
            .nodes()
            .await
            .into_iter()
            .map(|n| (n.domain, n.calls))
            .collect()
    }

    /// The SDK's configuration for `user` on this gateway, pinning its certificate.
    pub fn client_config(&self, user: &str, resource: &str) -> ClientConfig {
        ClientConfig::new(&format!("{user}@{EXTERNAL}/{resource}"), PASSWORD)
            .expect("client config")
            .server(self.gw.c2s_addr().expect("c2s listener").to_string())
            .trust(Trust::Pinned(
                self.gw.fingerprint().expect("a certificate").to_owned(),
            ))
            .command_timeout(Duration::from_secs(15))
            .with_mixer_domain(EXTERNAL)
    }

    /// A bot logged in to the gateway as `user/resource`, available for calls.
    pub async fn bot_with(&self, cfg: ClientConfig) -> (Client, Offers) {
        let (client, offers) = tokio::time::timeout(WAIT, Client::connect(cfg))
            .await
            .expect("login in time")
            .expect("login");
        client.set_available().expect("presence sent");
        client.ping().await.expect("the gateway answers pings");
        (client, offers)
    }

    /// [`TestGateway::bot_with`] with the default configuration.
    pub async fn bot(&self, user: &str, resource: &str) -> (Client, Offers) {
        self.bot_with(self.client_config(user, resource)).await
    }
}

/// Turns a node's configuration into node `i`'s behind the gateway at `listener`.
pub fn cluster_node(cfg: &mut Config, i: usize, listener: std::net::SocketAddr) {
    cfg.service.domain = node_domain(i);
    cfg.c2s = None;
    cfg.routes.clear();
    cfg.component = Some(Component {
        server: listener,
        secret: NODE_SECRET.into(),
        subdomains: false,
        max_stanza_depth: rayo_xmpp::xml::DEFAULT_MAX_DEPTH,
    });
    cfg.cluster = Some(Cluster {
        gateway: INTERNAL.into(),
    });
}

/// A node behind the gateway in a process of its own (`node_process`), for the tests that
/// kill it (`kill -9`) or stop it (`SIGSTOP`).
pub struct NodeProcess {
    child: tokio::process::Child,
    /// Its SIP address.
    pub sip_addr: std::net::SocketAddr,
    /// Its working directory (configuration, recordings).
    pub dir: TempDir,
    config: std::path::PathBuf,
    bin: &'static str,
}

impl NodeProcess {
    /// Starts node `i` (1-based) against the gateway's node listener, and waits until its
    /// component link is up. `bin` is the test's `env!("CARGO_BIN_EXE_node_process")`.
    pub async fn start(gw: &TestGateway, i: usize, bin: &'static str) -> NodeProcess {
        let dir = TempDir::new("node-process");
        let sip = crate::free_udp_ports(1);
        let rtp = crate::free_udp_ports(40);
        let listener = gw.gw.node_addr().expect("a node listener");
        let text = format!(
            "[service]\ndomain = \"{domain}\"\n\
             [component]\nserver = \"{listener}\"\nsecret = \"{NODE_SECRET}\"\n\
             [cluster]\ngateway = \"{INTERNAL}\"\n\
             [sip]\nlisten = \"{LOOPBACK}:{sip}\"\n\
             [rtp]\nfirst_port = {rtp}\nlast_port = {last}\n\
             [recording]\ndir = \"{rec}\"\n",
            domain = node_domain(i),
            last = rtp + 38,
            rec = dir.0.join("recordings").display(),
        );
        let config = dir.0.join("node.toml");
        std::fs::write(&config, text).expect("the node's configuration");
        let child = spawn(bin, &config).await;
        NodeProcess {
            child,
            sip_addr: format!("{LOOPBACK}:{sip}").parse().expect("address"),
            dir,
            config,
            bin,
        }
    }

    /// `kill -9`: the process dies at once, its TCP connections reset by the kernel.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("SIGKILL sent");
        let _ = tokio::time::timeout(WAIT, self.child.wait()).await;
    }

    /// Starts the same node again (same domain, ports and directory) after [`kill`].
    ///
    /// [`kill`]: NodeProcess::kill
    pub async fn restart(&mut self) {
        self.child = spawn(self.bin, &self.config).await;
    }

    /// Sends the process a signal (`STOP`, `CONT`) with kill(1).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let ok = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .expect("kill(1) runs")
            .success();
        assert!(ok, "SIG{name} sent");
    }
}

async fn spawn(bin: &str, config: &std::path::Path) -> tokio::process::Child {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(bin)
        .arg(config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node_process starts");
    let out = child.stdout.take().expect("its stdout");
    let mut lines = tokio::io::BufReader::new(out).lines();
    let ready = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("the node is ready in time")
        .expect("its stdout");
    assert_eq!(ready.as_deref(), Some("ready"), "the node process started");
    child
}
