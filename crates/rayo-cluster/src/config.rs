//! The gateway's configuration: its domains, the trusted nodes, timers and limits, and the
//! applications (tenants) that own called URIs and may dial.

use std::time::Duration;

use jid::Jid;

use crate::domains::Domains;

/// The default of [`Config::ping_interval`].
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(10);
/// The default of [`Config::offer_timeout`].
pub const DEFAULT_OFFER_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of [`Config::ping_timeout`].
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(5);
/// The default of [`Config::iq_timeout`].
pub const DEFAULT_IQ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of [`Config::dial_timeout`].
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of [`Config::max_dial_tries`].
pub const DEFAULT_MAX_DIAL_TRIES: usize = 3;
/// The default of [`Config::node_failures_out`].
pub const DEFAULT_NODE_FAILURES_OUT: u32 = 3;
/// The default of [`Config::node_pings_back`].
pub const DEFAULT_NODE_PINGS_BACK: u32 = 2;
/// The default of [`Config::max_pending_iqs`].
pub const DEFAULT_MAX_PENDING_IQS: usize = 10_000;
/// The default of [`Config::max_client_links`].
pub const DEFAULT_MAX_CLIENT_LINKS: usize = 65_536;
/// The default of [`Config::max_outputs`].
pub const DEFAULT_MAX_OUTPUTS: usize = 200_000;

/// How an inbound call is offered to an application's available clients (XEP-0354's
/// algorithms, applied to offers: this project's own policy, the XEP speaks of messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Distribution {
    /// `urn:xmpp:cmr:all`: to every available client at once; the first accept wins.
    #[default]
    All,
    /// `urn:xmpp:cmr:roundrobin`: to one client, the next one each call.
    RoundRobin,
    /// `urn:xmpp:cmr:mostactive`: to the client that sent something most recently (to this
    /// gateway), ties to the highest presence priority.
    MostActive,
    /// `urn:xmpp:cmr:weighted`: to one client, each as often as its presence priority (at
    /// least 1) in proportion.
    Weighted,
}

impl Distribution {
    /// Every algorithm, as [`Distribution::uri`] names them.
    pub const ALL: [Distribution; 4] = [
        Distribution::All,
        Distribution::MostActive,
        Distribution::RoundRobin,
        Distribution::Weighted,
    ];

    /// The XEP-0354 algorithm URI.
    pub fn uri(self) -> &'static str {
        match self {
            Distribution::All => "urn:xmpp:cmr:all",
            Distribution::RoundRobin => "urn:xmpp:cmr:roundrobin",
            Distribution::MostActive => "urn:xmpp:cmr:mostactive",
            Distribution::Weighted => "urn:xmpp:cmr:weighted",
        }
    }

    /// The algorithm a XEP-0354 URI names, if it is one the gateway implements.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Distribution::ALL.into_iter().find(|d| d.uri() == uri)
    }
}

/// How dials are spread over the nodes in rotation (XEP-0349 §4.2: round robin at least).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Balance {
    /// Each node in turn.
    #[default]
    RoundRobin,
    /// Each node in turn, as many turns per cycle as its weight ([`Config::node_weights`]).
    Weighted,
    /// The node with the fewest calls (dials in flight count); ties in turn.
    LeastActive,
}

/// An application (tenant): who its clients are, which called URIs it owns, whether it dials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Its name (unique; scopes its calls).
    pub name: String,
    /// Its clients: a bare JID stands for every available resource of it.
    pub clients: Vec<Jid>,
    /// The called URIs it owns: exact, `*` for any, or a prefix ending in `*` (`tel:+1800*`).
    pub uris: Vec<String>,
    /// How its offers are spread over its clients.
    pub distribution: Distribution,
    /// Whether its clients may dial.
    pub may_dial: bool,
    /// What happens to a client's calls when it goes away.
    pub on_client_lost: crate::orphans::ClientLoss,
    /// The most calls it has at once, inbound and outbound (dials in flight count): one more
    /// dial is refused `resource-constraint` (wait), one more offer rejected `busy`.
    pub max_calls: Option<usize>,
    /// The most dials its clients send in one second; beyond, `resource-constraint` (wait).
    pub max_dials_per_second: Option<u32>,
}

impl Application {
    /// Whether the application owns this called URI.
    pub fn owns(&self, uri: &str) -> bool {
        self.uris.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => uri.starts_with(prefix),
            None => p == uri,
        })
    }

    /// Whether `client` is one of its clients (by full JID, or by bare JID for any resource).
    pub fn has_client(&self, client: &Jid) -> bool {
        self.clients
            .iter()
            .any(|c| c == client || (c.resource().is_none() && c.to_bare() == client.to_bare()))
    }
}

/// The gateway's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The external (clients) and internal (nodes) domains.
    pub domains: Domains,
    /// The allow-list of node domains: stanzas from any other domain on the internal side are
    /// refused.
    pub nodes: Vec<String>,
    /// How often each node that is not failed is pinged (XEP-0199).
    pub ping_interval: Duration,
    /// How dials are spread over the nodes in rotation.
    pub balance: Balance,
    /// Node weights for [`Balance::Weighted`] (a node not listed weighs 1; 0 takes no dials).
    pub node_weights: Vec<(String, u32)>,
    /// How long a ping may go unanswered before its node is failed.
    pub ping_timeout: Duration,
    /// How long an inbound call's offer waits for one of its clients to claim it (`None`:
    /// for ever). Then the clients offered get `<end><timeout/></end>` and the call is offered
    /// to the application's next available clients (all of them for `All`, the next one for
    /// `RoundRobin`), or rejected at its node with `error` when none is left.
    pub offer_timeout: Option<Duration>,
    /// How long a command forwarded to a node may go unanswered; then the client gets
    /// `remote-server-timeout`.
    pub iq_timeout: Duration,
    /// How long one node may take to answer a dial before it is tried on another.
    pub dial_timeout: Duration,
    /// The most nodes a dial is tried on.
    pub max_dial_tries: usize,
    /// After this many dials in a row failed at a node (an error that is retried, or no
    /// answer), it leaves rotation though it says `chat`.
    pub node_failures_out: u32,
    /// A node out of rotation for failed dials comes back after answering this many pings in
    /// a row: nothing stays banned for ever.
    pub node_pings_back: u32,
    /// The most IQs forwarded to nodes and not answered yet; one more is refused with
    /// `resource-constraint` (wait).
    pub max_pending_iqs: usize,
    /// The most clients whose link the gateway remembers (to send them offers and answers);
    /// a request from one more client gets `resource-constraint` (wait), other stanzas are
    /// dropped. Forgotten when the client goes unavailable or its link goes down.
    pub max_client_links: usize,
    /// The most outputs queued and not polled yet; beyond, outputs are dropped and logged
    /// (drivers poll after every input, so this only bounds a runaway).
    pub max_outputs: usize,
    /// The applications, tried in order for an inbound call's called URI.
    pub applications: Vec<Application>,
}

impl Config {
    /// A configuration for these domains with no nodes, no applications, default timers and
    /// limits.
    pub fn new(domains: Domains) -> Self {
        Config {
            domains,
            nodes: Vec::new(),
            ping_interval: DEFAULT_PING_INTERVAL,
            ping_timeout: DEFAULT_PING_TIMEOUT,
            balance: Balance::RoundRobin,
            node_weights: Vec::new(),
            offer_timeout: Some(DEFAULT_OFFER_TIMEOUT),
            iq_timeout: DEFAULT_IQ_TIMEOUT,
            dial_timeout: DEFAULT_DIAL_TIMEOUT,
            max_dial_tries: DEFAULT_MAX_DIAL_TRIES,
            node_failures_out: DEFAULT_NODE_FAILURES_OUT,
            node_pings_back: DEFAULT_NODE_PINGS_BACK,
            max_pending_iqs: DEFAULT_MAX_PENDING_IQS,
            max_client_links: DEFAULT_MAX_CLIENT_LINKS,
            max_outputs: DEFAULT_MAX_OUTPUTS,
            applications: Vec::new(),
        }
    }

    /// Whether `domain` is an allow-listed node domain.
    pub fn is_node_domain(&self, domain: &str) -> bool {
        self.nodes.iter().any(|n| n.eq_ignore_ascii_case(domain))
    }

    /// A node's weight for [`Balance::Weighted`].
    pub fn weight_of(&self, node: &str) -> u32 {
        self.node_weights
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(node))
            .map_or(1, |(_, w)| *w)
    }

    /// The application that owns a called URI.
    pub fn application_for_uri(&self, uri: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.owns(uri))
    }

    /// The application a client belongs to.
    pub fn application_of(&self, client: &Jid) -> Option<&Application> {
        self.applications.iter().find(|a| a.has_client(client))
    }
}
