//! The gateway's configuration file (TOML): its two domains, how clients and nodes reach it,
//! the trusted nodes, and the applications. Every key is documented in
//! `bins/rayo-gateway/gateway.example.toml`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use jid::Jid;
use rayo_cluster::{Application, Balance, ClientLoss, Distribution, Domains};
use serde::Deserialize;

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not valid TOML for this configuration.
    #[error("{0}")]
    Parse(#[from] toml::de::Error),
    /// A value is out of range or inconsistent with another.
    #[error("{0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Domains, timers and limits of the routing core.
    pub gateway: Gateway,
    /// A client-to-server listener bots log in to (absent: none).
    pub c2s: Option<C2s>,
    /// Users who may log in to the c2s listener.
    pub users: Vec<User>,
    /// The external domain as a XEP-0114 component of the site's XMPP server, where bots
    /// log in (absent: none).
    pub external_component: Option<ComponentLink>,
    /// A listener nodes connect to as XEP-0114 components (absent: none).
    pub node_listener: Option<NodeListener>,
    /// The internal domain as a XEP-0114 component of the site's XMPP server, where the
    /// nodes are components too (absent: none).
    pub internal_component: Option<ComponentLink>,
    /// The trusted nodes: stanzas on the internal side from any other domain are refused.
    pub nodes: Vec<Node>,
    /// The applications (tenants), tried in order for an inbound call's called URI.
    pub applications: Vec<App>,
}

/// The `[gateway]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Gateway {
    /// The domain clients address (calls are `id@external`).
    pub external: String,
    /// The domain nodes address.
    pub internal: String,
    /// How dials are spread: `round-robin`, `weighted` (by each node's `weight`) or
    /// `least-active`.
    pub balance: String,
    /// Seconds between pings of each node (XEP-0199).
    pub ping_interval: f64,
    /// Seconds a ping may go unanswered before its node is failed.
    pub ping_timeout: f64,
    /// Seconds an offer waits to be claimed before it moves on (0: for ever).
    pub offer_timeout: f64,
    /// Seconds a command forwarded to a node may go unanswered.
    pub iq_timeout: f64,
    /// Seconds one node may take to answer a dial before it is tried on another.
    pub dial_timeout: f64,
    /// The most nodes a dial is tried on.
    pub max_dial_tries: usize,
    /// Failed dials in a row that take a node out of rotation.
    pub node_failures_out: u32,
    /// Pings in a row a node out of rotation must answer to come back.
    pub node_pings_back: u32,
    /// The most commands forwarded to nodes and not answered yet.
    pub max_pending_iqs: usize,
    /// The most clients whose link the gateway remembers.
    pub max_client_links: usize,
    /// Seconds live calls may go on after SIGTERM before the rest are hung up.
    pub drain_time: f64,
    /// Worker threads of the gateway's runtime. The routing core is one task whatever this
    /// says; more threads parse and write the links' XML beside it, which pays only once
    /// one core is busy, and costs latency otherwise (every stanza wakes another thread):
    /// one thread is the default. (Set here, it wins over tokio's `TOKIO_WORKER_THREADS`.)
    pub threads: usize,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            external: "localhost".into(),
            internal: "gateway.localhost".into(),
            balance: "round-robin".into(),
            ping_interval: rayo_cluster::DEFAULT_PING_INTERVAL.as_secs_f64(),
            ping_timeout: rayo_cluster::DEFAULT_PING_TIMEOUT.as_secs_f64(),
            offer_timeout: rayo_cluster::DEFAULT_OFFER_TIMEOUT.as_secs_f64(),
            iq_timeout: rayo_cluster::DEFAULT_IQ_TIMEOUT.as_secs_f64(),
            dial_timeout: rayo_cluster::DEFAULT_DIAL_TIMEOUT.as_secs_f64(),
            max_dial_tries: rayo_cluster::DEFAULT_MAX_DIAL_TRIES,
            node_failures_out: rayo_cluster::DEFAULT_NODE_FAILURES_OUT,
            node_pings_back: rayo_cluster::DEFAULT_NODE_PINGS_BACK,
            max_pending_iqs: rayo_cluster::DEFAULT_MAX_PENDING_IQS,
            max_client_links: rayo_cluster::DEFAULT_MAX_CLIENT_LINKS,
            drain_time: 30.0,
            threads: 1,
        }
    }
}

/// The `[c2s]` section: bots log in to the gateway itself, as `name@external`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct C2s {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The TLS certificate (PEM); with `key`. Absent: a self-signed one in
    /// `self_signed_dir`, made at first start.
    pub cert: Option<PathBuf>,
    /// The TLS key (PEM).
    pub key: Option<PathBuf>,
    /// Where the self-signed certificate and key are kept (a private directory).
    pub self_signed_dir: PathBuf,
    /// Whether PLAIN is offered without TLS (loopback tests only).
    pub allow_plain_without_tls: bool,
    /// The largest stanza accepted, in bytes.
    pub max_stanza_size: usize,
    /// Stanzas a second one client may send (bursts of twice that).
    pub max_stanzas_per_second: f64,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one source address.
    pub max_connections_per_source: usize,
    /// Failed logins a minute from one source address.
    pub max_failed_logins_per_minute: u32,
}

impl Default for C2s {
    fn default() -> Self {
        C2s {
            listen: SocketAddr::from(([127, 0, 0, 1], 5223)),
            cert: None,
            key: None,
            self_signed_dir: rayo_proto::private_fs::default_state_dir().join("gateway-tls"),
            allow_plain_without_tls: false,
            max_stanza_size: 256 * 1024,
            max_stanzas_per_second: 5000.0,
            max_connections: 1024,
            max_connections_per_source: 64,
            max_failed_logins_per_minute: 10,
        }
    }
}

/// A user of the c2s listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The local part of its JID (`name@external`).
    pub name: String,
    /// Its password (kept only as salted SCRAM keys once loaded).
    pub password: String,
}

/// A XEP-0114 component connection to the site's XMPP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentLink {
    /// The server's component port.
    pub server: SocketAddr,
    /// The shared secret.
    pub secret: String,
}

/// The `[node_listener]` section: nodes connect here as XEP-0114 components, each with its
/// own secret (`[[nodes]] secret`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeListener {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Failed handshakes (wrong secret, unknown domain) a minute from one address; beyond,
    /// its connections are closed unread until the rate allows again (0: no limit).
    pub max_failed_handshakes_per_minute: u32,
}

impl Default for NodeListener {
    fn default() -> Self {
        NodeListener {
            listen: SocketAddr::from(([127, 0, 0, 1], 5347)),
            max_failed_handshakes_per_minute: 10,
        }
    }
}

/// A trusted node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Its domain (calls on it are `id@domain`).
    pub domain: String,
    /// The secret it authenticates with at the node listener (absent: it cannot connect
    /// there; it may still be reached through the site's server).
    pub secret: Option<String>,
    /// Its weight with `balance = "weighted"` (0: no dials).
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// An application (tenant).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Its name (unique).
    pub name: String,
    /// Its clients: bare JIDs (every available resource) or full JIDs.
    pub clients: Vec<String>,
    /// The called URIs it owns: exact, `*`, or a prefix ending in `*`.
    #[serde(default)]
    pub uris: Vec<String>,
    /// How its offers are spread: `all`, `roundrobin`, `mostactive`, `weighted`.
    #[serde(default = "all")]
    pub distribution: String,
    /// Whether its clients may dial.
    #[serde(default)]
    pub may_dial: bool,
    /// What happens to a lost client's calls: `hangup`, `keep` or `reoffer`.
    #[serde(default = "keep")]
    pub on_client_lost: String,
    /// Seconds `keep` and `reoffer` wait for the client before hanging up.
    #[serde(default = "grace")]
    pub grace: f64,
    /// The most calls it has at once.
    pub max_calls: Option<usize>,
    /// The most dials a second.
    pub max_dials_per_second: Option<u32>,
}

fn all() -> String {
    "all".into()
}
fn keep() -> String {
    "keep".into()
}
fn grace() -> f64 {
    rayo_cluster::DEFAULT_ORPHAN_GRACE.as_secs_f64()
}

/// The development user of the embedded defaults.
pub const DEV_USER: &str = "rayo";
/// The development nodes of the embedded defaults.
pub const DEV_NODES: [&str; 3] = ["node1.localhost", "node2.localhost", "node3.localhost"];

fn secs(what: &str, v: f64) -> Result<Duration, ConfigError> {
    if !(v > 0.0 && v < 86_400.0) {
        return Err(ConfigError::Invalid(format!(
            "{what} must be between 0 and 86400 seconds"
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

impl Config {
    /// The embedded defaults: external domain `localhost` with a c2s listener on
    /// 127.0.0.1:5223 (self-signed certificate) and one user `rayo` with `password`;
    /// internal domain `gateway.localhost` with a node listener on 127.0.0.1:5347 taking
    /// `node1.localhost`…`node3.localhost`, each with `node_secret`; one application `dev`
    /// owning every called URI, offered to every resource of `rayo@localhost`, which may dial.
    pub fn embedded(password: &str, node_secret: &str) -> Config {
        Config {
            c2s: Some(C2s::default()),
            users: vec![User {
                name: DEV_USER.into(),
                password: password.into(),
            }],
            node_listener: Some(NodeListener::default()),
            nodes: DEV_NODES
                .iter()
                .map(|d| Node {
                    domain: (*d).into(),
                    secret: Some(node_secret.into()),
                    weight: 1,
                })
                .collect(),
            applications: vec![App {
                name: "dev".into(),
                clients: vec![format!("{DEV_USER}@localhost")],
                uris: vec!["*".into()],
                distribution: all(),
                may_dial: true,
                on_client_lost: keep(),
                grace: grace(),
                max_calls: None,
                max_dials_per_second: None,
            }],
            ..Config::default()
        }
    }

    /// Reads and checks a TOML file.
    pub fn from_file(path: &std::path::Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text)
    }

    /// Parses and checks TOML text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text)?;
        cfg.check()?;
        Ok(cfg)
    }

    /// Checks what parsing cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.routing().map(|_| ())?;
        let bad = |s: String| Err(ConfigError::Invalid(s));
        if self.c2s.is_none() && self.external_component.is_none() {
            return bad(
                "neither [c2s] nor [external_component]: no client could reach the \
                        gateway"
                    .into(),
            );
        }
        if self.node_listener.is_none() && self.internal_component.is_none() {
            return bad(
                "neither [node_listener] nor [internal_component]: no node could \
                        reach the gateway"
                    .into(),
            );
        }
        if let Some(c) = &self.c2s {
            if c.cert.is_some() != c.key.is_some() {
                return bad("c2s.cert and c2s.key go together".into());
            }
            if c.max_connections == 0 || c.max_connections_per_source == 0 {
                return bad("c2s.max_connections(_per_source) must be at least 1".into());
            }
        }
        for u in &self.users {
            if jid::NodePart::new(&u.name).is_err() {
                return bad(format!("user name {:?} is no JID local part", u.name));
            }
        }
        if !(1..=1024).contains(&self.gateway.threads) {
            return bad(format!(
                "gateway.threads = {}: from 1 to 1024 worker threads",
                self.gateway.threads
            ));
        }
        if !(self.gateway.drain_time >= 0.0 && self.gateway.drain_time < 86_400.0) {
            return bad("gateway.drain_time must be between 0 and 86400 seconds".into());
        }
        Ok(())
    }

    /// The routing core's configuration.
    pub fn routing(&self) -> Result<rayo_cluster::Config, ConfigError> {
        let g = &self.gateway;
        let invalid = |s: String| ConfigError::Invalid(s);
        let domains = Domains::new(&g.external, &g.internal)
            .map_err(|e| invalid(format!("[gateway] domains: {e}")))?;
        let mut cfg = rayo_cluster::Config::new(domains);
        cfg.balance = match g.balance.as_str() {
            "round-robin" => Balance::RoundRobin,
            "weighted" => Balance::Weighted,
            "least-active" => Balance::LeastActive,
            other => {
                return Err(invalid(format!(
                    "gateway.balance {other:?} is not one of round-robin, weighted, least-active"
                )))
            }
        };
        cfg.ping_interval = secs("gateway.ping_interval", g.ping_interval)?;
        cfg.ping_timeout = secs("gateway.ping_timeout", g.ping_timeout)?;
        cfg.offer_timeout = if g.offer_timeout == 0.0 {
            None
        } else {
            Some(secs("gateway.offer_timeout", g.offer_timeout)?)
        };
        cfg.iq_timeout = secs("gateway.iq_timeout", g.iq_timeout)?;
        cfg.dial_timeout = secs("gateway.dial_timeout", g.dial_timeout)?;
        if g.max_dial_tries == 0 || g.max_pending_iqs == 0 || g.max_client_links == 0 {
            return Err(invalid(
                "gateway.max_dial_tries, max_pending_iqs and max_client_links must be at least 1"
                    .into(),
            ));
        }
        cfg.max_dial_tries = g.max_dial_tries;
        cfg.node_failures_out = g.node_failures_out.max(1);
        cfg.node_pings_back = g.node_pings_back.max(1);
        cfg.max_pending_iqs = g.max_pending_iqs;
        cfg.max_client_links = g.max_client_links;
        for n in &self.nodes {
            if jid::DomainPart::new(&n.domain).is_err() {
                return Err(invalid(format!("node domain {:?} is no domain", n.domain)));
            }
            let own = [&g.external, &g.internal];
            if own.iter().any(|d| d.eq_ignore_ascii_case(&n.domain)) {
                return Err(invalid(format!(
                    "node domain {:?} is one of the gateway's own",
                    n.domain
                )));
            }
            cfg.nodes.push(n.domain.to_ascii_lowercase());
            cfg.node_weights
                .push((n.domain.to_ascii_lowercase(), n.weight));
        }
        for a in &self.applications {
            cfg.applications.push(application(a)?);
        }
        let mut names: Vec<&str> = self.applications.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(invalid("application names must be unique".into()));
        }
        Ok(cfg)
    }

    /// The node secrets of the node listener, by domain (lowercased).
    pub fn node_secrets(&self) -> std::collections::HashMap<String, String> {
        self.nodes
            .iter()
            .filter_map(|n| Some((n.domain.to_ascii_lowercase(), n.secret.clone()?)))
            .collect()
    }
}

fn application(a: &App) -> Result<Application, ConfigError> {
    let invalid = |s: String| ConfigError::Invalid(s);
    if a.name.is_empty() || a.name.contains(rayo_cluster::tenancy::SEPARATOR) {
        return Err(invalid(format!(
            "application name {:?} must be non-empty and hold no {:?}",
            a.name,
            rayo_cluster::tenancy::SEPARATOR
        )));
    }
    let clients = a
        .clients
        .iter()
        .map(|c| {
            Jid::new(c).map_err(|e| invalid(format!("application {}: client {c:?}: {e}", a.name)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let distribution = match a.distribution.as_str() {
        "all" => Distribution::All,
        "roundrobin" => Distribution::RoundRobin,
        "mostactive" => Distribution::MostActive,
        "weighted" => Distribution::Weighted,
        other => {
            return Err(invalid(format!(
                "application {}: distribution {other:?} is not one of all, roundrobin, \
                 mostactive, weighted",
                a.name
            )))
        }
    };
    let grace = secs(&format!("application {}: grace", a.name), a.grace)?;
    let on_client_lost = match a.on_client_lost.as_str() {
        "hangup" => ClientLoss::Hangup,
        "keep" => ClientLoss::Keep(grace),
        "reoffer" => ClientLoss::Reoffer(grace),
        other => {
            return Err(invalid(format!(
                "application {}: on_client_lost {other:?} is not one of hangup, keep, reoffer",
                a.name
            )))
        }
    };
    Ok(Application {
        name: a.name.clone(),
        clients,
        uris: a.uris.clone(),
        distribution,
        may_dial: a.may_dial,
        on_client_lost,
        max_calls: a.max_calls,
        max_dials_per_second: a.max_dials_per_second,
    })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_checks() {
        let text = include_str!("../gateway.example.toml");
        let cfg = Config::from_toml(text).expect("the example is valid");
        let routing = cfg.routing().expect("routing");
        assert!(!routing.nodes.is_empty());
        assert!(!routing.applications.is_empty());
    }

    #[test]
    fn embedded_defaults_check() {
        let cfg = Config::embedded("pw", "secret");
        cfg.check().expect("valid");
        assert_eq!(cfg.node_secrets().len(), 3);
    }

    #[test]
    fn mistakes_are_named() {
        let no_nodes_side = "[c2s]\n";
        let e = Config::from_toml(no_nodes_side).expect_err("no node side");
        assert!(e.to_string().contains("no node could reach"), "{e}");
        let bad_balance = "[gateway]\nbalance = \"random\"\n[c2s]\n[node_listener]\n";
        let e = Config::from_toml(bad_balance).expect_err("bad balance");
        assert!(e.to_string().contains("gateway.balance"), "{e}");
        let no_threads = "[gateway]\nthreads = 0\n[c2s]\n[node_listener]\n";
        let e = Config::from_toml(no_threads).expect_err("no worker thread");
        assert!(e.to_string().contains("gateway.threads = 0"), "{e}");
        let own = "[c2s]\n[node_listener]\n[[nodes]]\ndomain = \"localhost\"\n";
        let e = Config::from_toml(own).expect_err("own domain");
        assert!(e.to_string().contains("gateway's own"), "{e}");
        let unknown = "[c2s]\n[node_listener]\nfoo = 1\n";
        assert!(Config::from_toml(unknown).is_err());
    }
}
