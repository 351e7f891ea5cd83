//! The node's configuration: a TOML file (every key documented in `node.example.toml`), or
//! the embedded defaults that need no file at all.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

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
    /// The file is not valid TOML or has unknown or mistyped keys.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A value is out of range or inconsistent with another.
    #[error("{0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The Rayo service.
    pub service: Service,
    /// The client-to-server listener bots log in to. A file without `[c2s]` has none if it
    /// has `[component]`, and the default listener otherwise (something must reach the node).
    #[serde(default)]
    pub c2s: Option<C2s>,
    /// The XEP-0114 component connection to an existing XMPP server (absent: none).
    pub component: Option<Component>,
    /// Serving a gateway (XEP-0349) instead of clients (absent: a stand-alone node).
    pub cluster: Option<Cluster>,
    /// Users who may log in to the c2s listener.
    pub users: Vec<User>,
    /// SIP signalling.
    pub sip: Sip,
    /// RTP media.
    pub rtp: Rtp,
    /// Where recordings go.
    pub recording: Recording,
    /// Where output documents and grammars named by URL may be read from.
    pub documents: Documents,
    /// Inbound routing: tried in order, the first whose pattern matches the called URI
    /// decides whom the call is offered to.
    pub routes: Vec<RouteConfig>,
    /// Outbound trunks, tried in order: the first whose pattern matches the dialled URI
    /// takes the call (none matching: IP-addressed SIP URIs are dialled directly).
    pub trunks: Vec<Trunk>,
    /// Limits.
    pub limits: Limits,
    /// Graceful shutdown.
    pub shutdown: Shutdown,
}

/// The Rayo service's domains (XEP-0327 §5.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Service {
    /// The service domain clients send commands to.
    pub domain: String,
    /// Calls live at `<call_subdomain>.<domain>` (absent: at the domain itself).
    pub call_subdomain: Option<String>,
    /// Mixers live at `<mixer_subdomain>.<domain>` (absent: at the domain itself).
    pub mixer_subdomain: Option<String>,
}

impl Default for Service {
    fn default() -> Self {
        Service {
            domain: "localhost".into(),
            call_subdomain: None,
            mixer_subdomain: None,
        }
    }
}

/// The c2s listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct C2s {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The certificate (PEM) for STARTTLS; with `key`. Absent: a self-signed one.
    pub cert: Option<PathBuf>,
    /// The private key (PEM). The node refuses to start if this file is writable by group
    /// or others or not owned by the node's user, or if its directory is writable by group
    /// or others or owned by someone other than the node's user or root (Unix).
    pub key: Option<PathBuf>,
    /// Where a self-signed certificate is generated and kept. Default: `tls` under the
    /// node's state directory (`$XDG_STATE_HOME/rayo-node`, else
    /// `$HOME/.local/state/rayo-node`, else `rayo-node-<uid>` under the temporary directory
    /// when there is no home). Created `0700`, the key written `0600`; the node refuses to
    /// start if this directory, or the key in it, is writable by group or others or owned
    /// by another user (Unix).
    pub self_signed_dir: PathBuf,
    /// Whether PLAIN may be used on a stream without TLS (never by default).
    pub allow_plain_without_tls: bool,
    /// The largest stanza accepted, in bytes.
    pub max_stanza_size: usize,
    /// How deep elements may nest below a stanza; deeper nesting ends the stream with
    /// `policy-violation` while it is being read (nothing recursive is built first).
    pub max_stanza_depth: usize,
    /// Stanzas per second one connection may send (bursts of twice as many); a flood ends
    /// the stream with `policy-violation`.
    pub max_stanzas_per_second: f64,
    /// The most bytes queued for a client before its stream is bound (before TLS, before
    /// authentication, before binding): a client sending negotiation elements without
    /// reading the replies gets `policy-violation` and is dropped.
    pub max_queued_bytes_unbound: usize,
    /// The most bytes queued for a client once its stream is bound: a client reading slower
    /// than it is sent to gets `resource-constraint` and is dropped.
    pub max_queued_bytes: usize,
    /// The most elements a client may send before its stream is bound (a login takes about
    /// six); one more ends the stream with `policy-violation`.
    pub max_negotiation_elements: u32,
    /// Client connections open at once; one accepted beyond this is closed at once,
    /// before any stream (so no stream error).
    pub max_connections: usize,
    /// Client connections open at once from one source IP address; one beyond this is
    /// closed at once like one over `max_connections`.
    pub max_connections_per_source: usize,
    /// Failed logins a minute from one source address (IPv6: one /64), in bursts of as
    /// many; beyond, its logins get SASL `<temporary-auth-failure/>` without their
    /// credentials being checked, until the rate allows again. 0: no limit.
    pub max_failed_logins_per_minute: u32,
}

impl Default for C2s {
    fn default() -> Self {
        C2s {
            listen: SocketAddr::from(([127, 0, 0, 1], 5222)),
            cert: None,
            key: None,
            self_signed_dir: rayo_proto::private_fs::default_state_dir().join("tls"),
            allow_plain_without_tls: false,
            max_stanza_size: 256 * 1024,
            max_stanza_depth: rayo_xmpp::xml::DEFAULT_MAX_DEPTH,
            max_stanzas_per_second: 5000.0,
            max_queued_bytes_unbound: 64 * 1024,
            max_queued_bytes: 1024 * 1024,
            max_negotiation_elements: 32,
            max_connections: 1024,
            max_connections_per_source: 64,
            max_failed_logins_per_minute: 10,
        }
    }
}

/// The XEP-0114 component connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// The server's component port.
    pub server: SocketAddr,
    /// The shared secret.
    pub secret: String,
    /// Also connect the call and mixer subdomains as components of their own.
    #[serde(default)]
    pub subdomains: bool,
    /// How deep elements may nest below a stanza from the server; deeper nesting ends the
    /// stream with `policy-violation` (and the component reconnects).
    #[serde(default = "default_stanza_depth")]
    pub max_stanza_depth: usize,
}

/// A node behind a Rayo gateway (XEP-0349): it reaches the gateway through its
/// `[component]` connection (to the gateway's own node listener, or to the site's XMPP
/// server the gateway is a component of too), offers every call to the gateway, takes
/// commands only from it, and tells it `chat` or `dnd` by directed presence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The gateway's internal domain (what nodes address), e.g. `gateway.example.com`.
    pub gateway: String,
}

fn default_stanza_depth() -> usize {
    rayo_xmpp::xml::DEFAULT_MAX_DEPTH
}

/// A user of the c2s listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The local part of the JID (`name@domain`).
    pub name: String,
    /// The password (turned into salted SCRAM credentials at start, then forgotten).
    pub password: Option<String>,
    /// Stored SCRAM credentials, as `rayo-xmpp` writes them, instead of a password.
    #[serde(default)]
    pub scram: Vec<String>,
}

/// SIP signalling.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sip {
    /// Where to listen (UDP and TCP).
    pub listen: SocketAddr,
    /// Look for DTMF tones in received audio besides RFC 4733 events.
    pub inband_dtmf: bool,
    /// Inbound SIP TCP connections open at once; one accepted beyond this is closed at
    /// once, unread.
    pub max_tcp_connections: usize,
    /// Inbound SIP TCP connections open at once from one source IP address; one beyond
    /// this is closed at once, unread.
    pub max_tcp_connections_per_source: usize,
    /// SIP server transactions alive at once (a request's state lives until its response
    /// has been absorbing retransmissions for 32 s over UDP, RFC 3261 Timer J/H/L); a new
    /// request beyond is answered 503 with `Retry-After` (`[limits] source_retry_after`)
    /// and leaves no state.
    pub max_transactions: usize,
    /// SIP server transactions alive at once from one source IP address; beyond, the same
    /// 503.
    pub max_transactions_per_source: usize,
    /// How many of those 503s go out per second at most; a request beyond is dropped
    /// unanswered (UDP peers retransmit; a spoofed flood is not reflected).
    pub max_refusals_per_second: u32,
    /// How many of `max_transactions` only sources known to receive what the node sends
    /// them may take (a source that answered a request of the node's, or acknowledged one
    /// of its 2xx quoting that 2xx's To tag, in the last hour): a flood from strangers,
    /// however many addresses it comes from, leaves this many places to trunks and callers
    /// the node has talked with. Absent: a tenth of `max_transactions`.
    pub reserved_for_known: Option<usize>,
}

impl Sip {
    /// [`Sip::reserved_for_known`], or its default: a tenth of `max_transactions`.
    pub fn reserved_for_known(&self) -> usize {
        self.reserved_for_known
            .unwrap_or(self.max_transactions / 10)
    }
}

impl Default for Sip {
    fn default() -> Self {
        Sip {
            listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            inband_dtmf: false,
            max_tcp_connections: 1024,
            max_tcp_connections_per_source: 32,
            max_transactions: 20_000,
            max_transactions_per_source: 2_000,
            max_refusals_per_second: 1_000,
            reserved_for_known: None,
        }
    }
}

/// RTP media.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rtp {
    /// The address RTP is bound to and announced in SDP (absent: the SIP address's).
    pub ip: Option<IpAddr>,
    /// The first port of the range (even). Keep the range outside the kernel's ephemeral
    /// ports (Linux: `net.ipv4.ip_local_port_range`, 32768–60999 by default): a call binds
    /// its port when its media starts, and a port there may by then belong to any socket
    /// bound to port 0, which ends that call with an error. The node warns at start when the
    /// two overlap.
    pub first_port: u16,
    /// The last port of the range.
    pub last_port: u16,
    /// Seconds after a call's media starts during which its RTP may be latched onto a
    /// source other than the address and port of the remote SDP (a peer behind NAT), after
    /// a few consecutive packets and only while nothing came from the SDP address; 0: RTP
    /// only from the SDP address. Once a source is locked, packets from any other are
    /// dropped and counted.
    pub latch_window: f64,
}

impl Rtp {
    /// The latch window.
    pub fn latch_window(&self) -> Duration {
        Duration::try_from_secs_f64(self.latch_window).unwrap_or(Duration::ZERO)
    }
}

impl Default for Rtp {
    fn default() -> Self {
        Rtp {
            ip: None,
            first_port: 20000,
            last_port: 29998,
            latch_window: 2.0,
        }
    }
}

/// Recordings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Recording {
    /// The directory recordings are written to. Default: `recordings` under the node's state
    /// directory (see [`C2s::self_signed_dir`]). Created `0700` if missing, recordings
    /// written `0600`; the node refuses to start if it is writable by group or others or
    /// owned by another user (Unix).
    pub dir: PathBuf,
}

impl Default for Recording {
    fn default() -> Self {
        Recording {
            dir: rayo_proto::private_fs::default_state_dir().join("recordings"),
        }
    }
}

/// Where the documents and grammars that clients name by URL may come from. With nothing
/// configured every URL is refused with `not-allowed`: a client can make the node read
/// only what the operator listed here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Documents {
    /// Directories `file:` URLs may name (absolute; files below them, symlinks resolved,
    /// regular files only). Default: none.
    pub file_dirs: Vec<PathBuf>,
    /// URL prefixes `http(s):` documents may come from, each `http(s)://host[:port]/path/`
    /// (ending with `/`), or `*` for any host on a public address (loopback, private,
    /// link-local and reserved addresses refused, checked on the resolved address). A host
    /// named by a prefix is reached whatever it resolves to. Redirects are not followed.
    /// Default: none.
    pub http_prefixes: Vec<String>,
    /// The most bytes of one document (bounded while reading). Default 16 MiB.
    pub max_bytes: usize,
}

impl Default for Documents {
    fn default() -> Self {
        Documents {
            file_dirs: Vec::new(),
            http_prefixes: Vec::new(),
            max_bytes: rayo_media::sources::DEFAULT_MAX_BYTES,
        }
    }
}

/// How an inbound route distributes offers (XEP-0354 algorithms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Offer to every target at once; the first to accept wins (XEP-0327 §6.2).
    #[default]
    All,
    /// The most recently active client first.
    MostActive,
    /// Each call to the next client in turn.
    RoundRobin,
    /// In proportion to each target's weight.
    Weighted,
}

/// An inbound route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The called URI (or number) pattern; `*` matches any run of characters.
    pub pattern: String,
    /// Client JIDs: full JIDs, or bare JIDs standing for every available resource.
    pub targets: Vec<String>,
    /// How to offer.
    #[serde(default)]
    pub algorithm: Algorithm,
    /// Weights of the targets, in order (algorithm `weighted`).
    #[serde(default)]
    pub weights: Vec<u32>,
    /// How long one round of offers waits, in seconds (absent: `[limits] offer_timeout`).
    pub offer_timeout: Option<f64>,
}

/// An outbound trunk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trunk {
    /// The dialled URI pattern this trunk takes; `*` matches any run of characters.
    #[serde(default = "any_uri")]
    pub pattern: String,
    /// Where outbound INVITEs go.
    pub proxy: SocketAddr,
    /// Digest user name.
    pub username: Option<String>,
    /// Digest password.
    pub password: Option<String>,
}

fn any_uri() -> String {
    "*".into()
}

/// Limits, answered with `resource-constraint` or `registration-required`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most calls at once (inbound calls over it get SIP 503, dials `resource-constraint`).
    pub max_calls: usize,
    /// Dials per second one client may start (a token bucket with a burst of as many).
    pub dial_rate_per_client: f64,
    /// Whether clients the node does not know (neither a route target nor in `dialers`) may
    /// dial; otherwise they get `registration-required`. Being a c2s user only lets a
    /// client log in.
    pub unknown_clients_may_dial: bool,
    /// Bare JIDs allowed to dial besides route targets.
    pub dialers: Vec<String>,
    /// Most calls at once from one source IP address (the address the INVITE came from);
    /// more inbound calls from it get SIP 503 with `Retry-After` and are not offered
    /// (0: no limit).
    pub max_calls_per_source: usize,
    /// Seconds in the `Retry-After` of the 503 for a source over `max_calls_per_source`,
    /// and of the 503 for a request over `[sip] max_transactions(_per_source)`.
    pub source_retry_after: u32,
    /// Seconds an offered call waits for a client to accept, answer, redirect or reject it
    /// when its route sets no `offer_timeout` (per round of offers); then it moves on like
    /// an expired route offer (the caller gets 503, the clients offered it `<end/>` with
    /// `timeout`). 0: offers wait until the caller hangs up.
    pub offer_timeout: f64,
    /// Components (output, input, prompt, record) running at once on one call or mixer;
    /// one more is refused with `resource-constraint`.
    pub max_components_per_call: usize,
    /// Components one client (bare JID) runs at once over all its calls and mixers; one
    /// more is refused with `resource-constraint`.
    pub max_components_per_client: usize,
    /// Seconds the calls of a client whose stream is gone (lost connection, unanswered
    /// pings, unavailable presence) stay up waiting for it to come back with the same JID;
    /// then the node hangs them up and they end with `error`. 0: they stay up.
    pub orphan_grace: f64,
}

impl Limits {
    /// How long a lost client's calls wait for it (`None`: for ever).
    pub fn orphan_grace(&self) -> Option<Duration> {
        (self.orphan_grace > 0.0).then(|| Duration::from_secs_f64(self.orphan_grace))
    }

    /// The default offer timeout (`None`: offers wait until the caller hangs up).
    pub fn default_offer_timeout(&self) -> Option<Duration> {
        (self.offer_timeout > 0.0).then(|| Duration::from_secs_f64(self.offer_timeout))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_calls: 2000,
            dial_rate_per_client: 50.0,
            unknown_clients_may_dial: false,
            dialers: Vec::new(),
            max_calls_per_source: 100,
            source_retry_after: 5,
            offer_timeout: 60.0,
            max_components_per_call: rayo_call::DEFAULT_MAX_COMPONENTS_PER_PARTY,
            max_components_per_client: rayo_call::DEFAULT_MAX_COMPONENTS_PER_CLIENT,
            orphan_grace: 30.0,
        }
    }
}

/// Graceful shutdown.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Shutdown {
    /// Seconds live calls may go on after a stop was asked before they are ended.
    pub grace: f64,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown { grace: 30.0 }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            service: Service::default(),
            c2s: Some(C2s::default()),
            component: None,
            cluster: None,
            users: Vec::new(),
            sip: Sip::default(),
            rtp: Rtp::default(),
            recording: Recording::default(),
            documents: Documents::default(),
            routes: Vec::new(),
            trunks: Vec::new(),
            limits: Limits::default(),
            shutdown: Shutdown::default(),
        }
    }
}

/// The development user of the embedded defaults.
pub const DEV_USER: &str = "rayo";

/// A password for the development user when none is given: 20 lowercase base-32
/// characters (100 bits) from the OS; an error, never a weak password, when it has none.
pub fn random_password() -> Result<String, rayo_proto::random::RandomError> {
    rayo_proto::random::token(20)
}

impl Config {
    /// The embedded defaults: domain `localhost`, c2s on 127.0.0.1:5222 with a self-signed
    /// certificate, SIP on 127.0.0.1:5060, one user `rayo` with `password`, every call
    /// offered to every resource of `rayo@localhost`.
    pub fn embedded(password: &str) -> Config {
        Config {
            users: vec![User {
                name: DEV_USER.into(),
                password: Some(password.into()),
                scram: Vec::new(),
            }],
            routes: vec![RouteConfig {
                pattern: "*".into(),
                targets: vec![format!("{DEV_USER}@localhost")],
                algorithm: Algorithm::All,
                weights: Vec::new(),
                offer_timeout: None,
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
        let mut cfg: Config = toml::from_str(text)?;
        if cfg.c2s.is_none() && cfg.component.is_none() {
            cfg.c2s = Some(C2s::default());
        }
        cfg.check()?;
        Ok(cfg)
    }

    /// Checks what serde cannot: consistency between keys.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |s: String| Err(ConfigError::Invalid(s));
        if jid::DomainPart::new(&self.service.domain).is_err() {
            return bad(format!(
                "service.domain {:?} is no domain",
                self.service.domain
            ));
        }
        if self.c2s.is_none() && self.component.is_none() {
            return bad("neither [c2s] nor [component]: no client could reach the node".into());
        }
        if let Some(cl) = &self.cluster {
            if jid::DomainPart::new(&cl.gateway).is_err() {
                return bad(format!("cluster.gateway {:?} is no domain", cl.gateway));
            }
            if self.component.is_none() {
                return bad(
                    "[cluster] needs [component]: the node reaches its gateway as a \
                            XEP-0114 component"
                        .into(),
                );
            }
            if !self.routes.is_empty() {
                return bad(
                    "[cluster] and [[routes]] exclude each other: behind a gateway \
                            every call is offered to the gateway, which routes it"
                        .into(),
                );
            }
            if self.service.call_subdomain.is_some() || self.service.mixer_subdomain.is_some() {
                return bad(
                    "[cluster]: calls and mixers live at the node's own domain (no \
                            call_subdomain or mixer_subdomain)"
                        .into(),
                );
            }
        }
        if !(0.0..=60.0).contains(&self.rtp.latch_window) {
            return bad("rtp.latch_window must be between 0 and 60 seconds".into());
        }
        if self.sip.max_tcp_connections == 0 || self.sip.max_tcp_connections_per_source == 0 {
            return bad("sip.max_tcp_connections(_per_source) must be at least 1".into());
        }
        if self.sip.max_transactions == 0 || self.sip.max_transactions_per_source == 0 {
            return bad("sip.max_transactions(_per_source) must be at least 1".into());
        }
        if self.sip.reserved_for_known() >= self.sip.max_transactions {
            return bad(format!(
                "sip.reserved_for_known ({}) must be below sip.max_transactions ({})",
                self.sip.reserved_for_known(),
                self.sip.max_transactions
            ));
        }
        if self.sip.max_refusals_per_second == 0 {
            return bad("sip.max_refusals_per_second must be at least 1".into());
        }
        if let Some(c) = &self.c2s {
            if c.cert.is_some() != c.key.is_some() {
                return bad("c2s.cert and c2s.key go together".into());
            }
            if c.max_queued_bytes_unbound < 4096 || c.max_queued_bytes < 4096 {
                return bad("c2s.max_queued_bytes(_unbound) must be at least 4096".into());
            }
            if !(8..=1024).contains(&c.max_stanza_depth) {
                return bad("c2s.max_stanza_depth must be between 8 and 1024".into());
            }
            if c.max_negotiation_elements < 8 {
                return bad("c2s.max_negotiation_elements must be at least 8 (a login)".into());
            }
            if c.max_connections == 0 || c.max_connections_per_source == 0 {
                return bad("c2s.max_connections(_per_source) must be at least 1".into());
            }
        }
        for u in &self.users {
            if jid::NodePart::new(&u.name).is_err() {
                return bad(format!("user name {:?} is no JID local part", u.name));
            }
            if u.password.is_none() && u.scram.is_empty() {
                return bad(format!("user {:?} has neither password nor scram", u.name));
            }
        }
        if self.rtp.first_port > self.rtp.last_port || self.rtp.first_port < 1024 {
            return bad("rtp.first_port must be ≥ 1024 and ≤ rtp.last_port".into());
        }
        for r in &self.routes {
            if r.targets.is_empty() {
                return bad(format!("route {:?} has no targets", r.pattern));
            }
            for t in &r.targets {
                if jid::Jid::new(t).is_err() {
                    return bad(format!("route target {t:?} is no JID"));
                }
            }
            if r.offer_timeout.is_some_and(|t| !(t > 0.0 && t < 86_400.0)) {
                return bad(format!("route {:?}: offer_timeout out of range", r.pattern));
            }
        }
        if self.limits.dial_rate_per_client.is_nan() || self.limits.dial_rate_per_client <= 0.0 {
            return bad("limits.dial_rate_per_client must be > 0".into());
        }
        if !(0.0..86_400.0).contains(&self.limits.offer_timeout) {
            return bad("limits.offer_timeout out of range (0 to 86400 seconds)".into());
        }
        if !(0.0..86_400.0).contains(&self.limits.orphan_grace) {
            return bad("limits.orphan_grace out of range (0 to 86400 seconds)".into());
        }
        if !(0.0..86_400.0).contains(&self.shutdown.grace) {
            return bad("shutdown.grace out of range".into());
        }
        Ok(())
    }

    /// The shutdown grace period.
    pub fn grace(&self) -> Duration {
        Duration::from_secs_f64(self.shutdown.grace)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// The example says "remove the section to disable": a file without `[c2s]` but with
    /// `[component]` has no listener; one with neither has the default listener.
    #[test]
    fn a_file_without_c2s_has_no_listener() {
        let cfg = Config::from_toml("[component]\nserver = \"127.0.0.1:5347\"\nsecret = \"s\"\n")
            .expect("component only");
        assert!(cfg.c2s.is_none());
        let cfg = Config::from_toml("").expect("every key is optional");
        assert_eq!(cfg.c2s.map(|c| c.listen.port()), Some(5222));
    }

    #[test]
    fn the_example_file_parses_and_checks() {
        let text = include_str!("../node.example.toml");
        let cfg = Config::from_toml(text).expect("example is valid");
        assert_eq!(cfg.service.domain, "rayo.example.com");
        assert_eq!(cfg.routes.len(), 2);
        assert_eq!(cfg.routes[1].algorithm, Algorithm::RoundRobin);
        assert_eq!(cfg.trunks.len(), 2);
        assert_eq!(cfg.trunks[1].pattern, "*");
    }

    #[test]
    fn embedded_defaults_check() {
        let cfg = Config::embedded("pw");
        cfg.check().expect("valid");
        assert_eq!(cfg.c2s.as_ref().map(|c| c.listen.port()), Some(5222));
        assert_eq!(cfg.sip.listen.port(), 5060);
    }

    #[test]
    fn development_passwords_are_long_random_and_distinct() {
        let draws: std::collections::HashSet<String> = (0..500)
            .map(|_| random_password().expect("OS randomness"))
            .collect();
        assert_eq!(draws.len(), 500);
        assert!(
            draws
                .iter()
                .all(|p| p.len() == 20
                    && p.bytes().all(|b| rayo_proto::random::ALPHABET.contains(&b)))
        );
    }

    #[test]
    fn unknown_keys_and_inconsistencies_are_refused() {
        let e = Config::from_toml("[service]\ndomian = 'x'\n").expect_err("typo");
        assert!(e.to_string().contains("domian"), "{e}");
        let e = Config::from_toml("[[routes]]\npattern='*'\ntargets=[]\n").expect_err("empty");
        assert!(e.to_string().contains("no targets"), "{e}");
        let e = Config::from_toml("[rtp]\nfirst_port=30000\nlast_port=20000\n").expect_err("ports");
        assert!(e.to_string().contains("rtp.first_port"), "{e}");
        let e = Config::from_toml("[limits]\nmax_calls='many'\n").expect_err("type");
        assert!(e.to_string().contains("max_calls"), "{e}");
        let e = Config::from_toml("[c2s]\nmax_connections=0\n").expect_err("no connection");
        assert!(e.to_string().contains("c2s.max_connections"), "{e}");
        let e = Config::from_toml("[sip]\nmax_tcp_connections_per_source=0\n").expect_err("none");
        assert!(e.to_string().contains("sip.max_tcp_connections"), "{e}");
        let cfg = Config::from_toml("[sip]\nmax_tcp_connections=7\n").expect("parses");
        assert_eq!(cfg.sip.max_tcp_connections, 7);
        assert_eq!(cfg.sip.max_tcp_connections_per_source, 32);
        let e = Config::from_toml("[sip]\nmax_transactions=0\n").expect_err("none");
        assert!(e.to_string().contains("sip.max_transactions"), "{e}");
        let cfg = Config::from_toml("[sip]\nmax_transactions_per_source=9\n").expect("parses");
        assert_eq!(
            (
                cfg.sip.max_transactions,
                cfg.sip.max_transactions_per_source
            ),
            (20_000, 9)
        );
        assert_eq!(cfg.sip.reserved_for_known(), 2_000, "a tenth");
        let cfg = Config::from_toml("[sip]\nmax_transactions=50\n").expect("parses");
        assert_eq!(cfg.sip.reserved_for_known(), 5);
        let cfg = Config::from_toml("[sip]\nreserved_for_known=0\n").expect("none reserved");
        assert_eq!(cfg.sip.reserved_for_known(), 0);
        let e = Config::from_toml("[sip]\nmax_transactions=10\nreserved_for_known=10\n")
            .expect_err("all reserved");
        assert!(e.to_string().contains("sip.reserved_for_known (10)"), "{e}");
        let e = Config::from_toml("[rtp]\nlatch_window=-1\n").expect_err("negative");
        assert!(e.to_string().contains("rtp.latch_window"), "{e}");
        let cfg = Config::from_toml("[rtp]\nlatch_window=0\n").expect("strict");
        assert_eq!(cfg.rtp.latch_window(), Duration::ZERO);
        assert_eq!(Rtp::default().latch_window(), Duration::from_secs(2));
        let e = Config::from_toml("[c2s]\nmax_stanza_depth=2\n").expect_err("too shallow");
        assert!(e.to_string().contains("c2s.max_stanza_depth"), "{e}");
        let e = Config::from_toml("[c2s]\nmax_negotiation_elements=2\n").expect_err("login");
        assert!(
            e.to_string().contains("c2s.max_negotiation_elements"),
            "{e}"
        );
        let e = Config::from_toml("[limits]\noffer_timeout=-1.0\n").expect_err("range");
        assert!(e.to_string().contains("limits.offer_timeout"), "{e}");
    }

    #[test]
    fn offers_expire_and_sources_are_limited_by_default() {
        let l = Config::default().limits;
        assert_eq!(l.default_offer_timeout(), Some(Duration::from_secs(60)));
        assert_eq!((l.max_calls_per_source, l.source_retry_after), (100, 5));
        let cfg = Config::from_toml("[limits]\noffer_timeout=0\n").expect("0 is allowed");
        assert_eq!(cfg.limits.default_offer_timeout(), None, "0: offers wait");
    }
}
