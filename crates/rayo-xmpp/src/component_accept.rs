//! The server (accepting) side of XEP-0114 component connections, sans-IO: what a gateway
//! runs for each Rayo node that connects to it as a component.
//!
//! The peer opens a `jabber:component:accept` stream whose `to` names its domain; this side
//! answers with its own header (`from` that domain, a fresh random `id`), the peer proves it
//! knows the domain's secret with `<handshake>hex(SHA-1(id + secret))</handshake>`, and after
//! `<handshake/>` stanzas flow both ways.
//!
//! **The `from` of the peer's stanzas is not checked here.** A component may send from any
//! address in its own domain (and XEP-0114 servers differ on subdomains), so the consumer
//! must check every [`AcceptEvent::Stanza`]'s `from` against the domain that
//! [`AcceptEvent::Authenticated`] named before trusting it.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//!
//! use rayo_xmpp::component::{ComponentConfig, ComponentConnection, ComponentEvent};
//! use rayo_xmpp::component_accept::{AcceptConfig, AcceptConnection, AcceptEvent};
//!
//! let mut config = AcceptConfig::new();
//! config.add_component("node1.example", "s3cret");
//! let now = Instant::now();
//! let mut server = AcceptConnection::new(Arc::new(config), now);
//! let mut node = ComponentConnection::new(ComponentConfig::new("node1.example", "s3cret"), now);
//!
//! // Move bytes both ways until neither side has anything left to say.
//! for _ in 0..4 {
//!     while let Some(b) = node.poll_transmit() {
//!         let n = b.len();
//!         server.handle_input(b, now);
//!         node.handle_transmitted(n);
//!     }
//!     while let Some(b) = server.poll_transmit() {
//!         let n = b.len();
//!         node.handle_input(b, now);
//!         server.handle_transmitted(n);
//!     }
//! }
//! assert_eq!(
//!     server.poll_event(),
//!     Some(AcceptEvent::Authenticated("node1.example".into()))
//! );
//! assert_eq!(node.poll_event(), Some(ComponentEvent::Connected));
//! assert_eq!(server.domain(), Some("node1.example"));
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use minidom::Element;
use rayo_proto::random::Fill;

use crate::component::handshake_digest;
use crate::outq::OutQueue;
use crate::stream_error::{self, Condition};
use crate::xml::{self, StreamReader, XmlEvent, JABBER_CLIENT, JABBER_COMPONENT};

/// Settings shared by every accepted component connection.
#[derive(Debug, Clone)]
pub struct AcceptConfig {
    /// The components allowed to connect: domain (lowercase) → shared secret. A stream whose
    /// `to` is not here ends with `<host-unknown/>`. [`AcceptConfig::add_component`]
    /// lowercases the domain.
    pub secrets: HashMap<String, String>,
    /// The largest stanza accepted from a component (256 KiB by default); larger ends the
    /// stream with `<policy-violation/>`.
    pub max_stanza_size: usize,
    /// How many element levels a stanza may nest below itself ([`xml::DEFAULT_MAX_DEPTH`] by
    /// default); deeper ends the stream with `<policy-violation/>`, found while parsing.
    pub max_stanza_depth: usize,
    /// The most bytes queued toward one component (16 MiB by default); a stanza that would
    /// go beyond is refused and the stream ends with `<resource-constraint/>`.
    pub max_outbound_bytes: usize,
    /// After this long without sending, a whitespace keepalive is sent (60 s by default).
    pub keepalive_interval: Duration,
    /// How long the peer has, from the connection's start, to complete the handshake (10 s
    /// by default); then the stream ends with `<connection-timeout/>`.
    pub handshake_timeout: Duration,
    /// Where stream ids come from: [`rayo_proto::random::fill`] (the OS) unless a test says
    /// otherwise. Without randomness the stream ends with `<internal-server-error/>`, never
    /// with a guessable id.
    pub random: Fill,
}

impl Default for AcceptConfig {
    fn default() -> Self {
        AcceptConfig::new()
    }
}

impl AcceptConfig {
    /// No components yet; 256 KiB stanzas, [`xml::DEFAULT_MAX_DEPTH`] levels, 16 MiB queue,
    /// keepalive after 60 s idle, 10 s handshake, stream ids from the OS.
    pub fn new() -> Self {
        AcceptConfig {
            secrets: HashMap::new(),
            max_stanza_size: 256 * 1024,
            max_stanza_depth: xml::DEFAULT_MAX_DEPTH,
            max_outbound_bytes: 16 * 1024 * 1024,
            keepalive_interval: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(10),
            random: rayo_proto::random::fill,
        }
    }

    /// Allows the component `domain` (compared without regard to ASCII case) with `secret`.
    pub fn add_component(&mut self, domain: &str, secret: &str) -> &mut Self {
        self.secrets
            .insert(domain.to_ascii_lowercase(), secret.to_owned());
        self
    }

    /// The secret of `domain`, if it is configured (its key compared without regard to
    /// ASCII case).
    fn secret(&self, domain: &str) -> Option<&str> {
        let lower = domain.to_ascii_lowercase();
        self.secrets
            .get(&lower)
            .or_else(|| {
                self.secrets
                    .iter()
                    .find(|(d, _)| d.eq_ignore_ascii_case(&lower))
                    .map(|(_, s)| s)
            })
            .map(String::as_str)
    }
}

/// What an [`AcceptConnection`] tells its driver.
#[derive(Debug, Clone, PartialEq)]
pub enum AcceptEvent {
    /// The peer proved it knows the secret of this domain (lowercase): stanzas flow.
    Authenticated(String),
    /// A stanza from the component, moved to `jabber:client`. Its `from` is the peer's
    /// claim: check it against the authenticated domain.
    Stanza(Element),
    /// The stream ended; nothing more is read.
    Closed(AcceptCloseReason),
}

/// Why an accepted component stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcceptCloseReason {
    /// The component closed the stream (`</stream:stream>`).
    ByPeer,
    /// The component sent a stream error.
    PeerError {
        /// The condition's element name.
        condition: String,
        /// The text, if any.
        text: Option<String>,
    },
    /// This side sent a stream error (`not-authorized` for a wrong secret, `host-unknown`
    /// for a domain not configured, …, or what [`AcceptConnection::close`] was given).
    Sent(Condition),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitHeader,
    AwaitHandshake,
    Authenticated,
    Closed,
}

/// One accepted XEP-0114 component stream, server side.
#[derive(Debug)]
pub struct AcceptConnection {
    config: Arc<AcceptConfig>,
    state: State,
    reader: StreamReader,
    out: OutQueue,
    events: VecDeque<AcceptEvent>,
    header_sent: bool,
    /// The domain the header asked for and its expected handshake, while awaiting it.
    pending: Option<(String, String)>,
    domain: Option<String>,
    started: Instant,
    last_out: Instant,
}

impl AcceptConnection {
    /// A connection accepted at `now`; nothing is sent before the peer's header.
    pub fn new(config: Arc<AcceptConfig>, now: Instant) -> Self {
        AcceptConnection {
            reader: StreamReader::with_limits(config.max_stanza_size, config.max_stanza_depth),
            config,
            state: State::AwaitHeader,
            out: OutQueue::default(),
            events: VecDeque::new(),
            header_sent: false,
            pending: None,
            domain: None,
            started: now,
            last_out: now,
        }
    }

    /// The domain the peer authenticated as (lowercase); `None` before the handshake
    /// succeeded (a domain merely named in the header is never returned).
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// Whether the handshake succeeded and the stream is not over.
    pub fn is_authenticated(&self) -> bool {
        self.state == State::Authenticated
    }

    /// Whether the stream is over (what is queued should still be written).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The next thing that happened.
    pub fn poll_event(&mut self) -> Option<AcceptEvent> {
        self.events.pop_front()
    }

    /// The next bytes to write.
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.out.peek()
    }

    /// `n` bytes of what [`AcceptConnection::poll_transmit`] gave were written.
    pub fn handle_transmitted(&mut self, n: usize) {
        self.out.advance(n);
    }

    /// Bytes queued and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.out.len()
    }

    /// When [`AcceptConnection::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Closed => None,
            State::Authenticated => Some(self.last_out + self.config.keepalive_interval),
            State::AwaitHeader | State::AwaitHandshake => {
                Some(self.started + self.config.handshake_timeout)
            }
        }
    }

    /// Runs the timers: the handshake deadline, then the keepalive.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Closed => {}
            State::Authenticated => {
                if now >= self.last_out + self.config.keepalive_interval {
                    self.out.push(" ");
                    self.last_out = now;
                }
            }
            State::AwaitHeader | State::AwaitHandshake => {
                if now >= self.started + self.config.handshake_timeout {
                    self.fail(Condition::ConnectionTimeout, "no handshake in time");
                }
            }
        }
    }

    /// Queues a stanza for the component, written in `jabber:component:accept`. Returns
    /// `false` if the stream is not authenticated, or if the stanza would take the queue
    /// past [`AcceptConfig::max_outbound_bytes`]: then what has not started is dropped and
    /// the stream ends with `<resource-constraint/>`.
    pub fn send_stanza(&mut self, stanza: &Element, now: Instant) -> bool {
        if self.state != State::Authenticated {
            return false;
        }
        let mut s = String::new();
        xml::write_stanza(&mut s, stanza, JABBER_COMPONENT);
        if self.out.len().saturating_add(s.len()) > self.config.max_outbound_bytes {
            self.out.drop_unstarted();
            self.fail(
                Condition::ResourceConstraint,
                "outbound queue full: the component reads too slowly",
            );
            return false;
        }
        self.out.push(s);
        self.last_out = now;
        true
    }

    /// Ends the stream with a stream error (`<conflict/>` when a newer connection of the
    /// same domain replaced this one, `<system-shutdown/>`, …). Nothing more is read.
    pub fn close(&mut self, condition: Condition, text: &str) {
        self.fail(condition, text);
    }

    /// Feeds bytes read from the component.
    pub fn handle_input(&mut self, mut data: &[u8], now: Instant) {
        while self.state != State::Closed {
            match self.reader.next_event(&mut data) {
                Ok(Some(ev)) => self.handle_xml(ev, now),
                Ok(None) => return,
                Err(e) => return self.fail(e.condition(), &e.to_string()),
            }
        }
    }

    /// Queues this side's stream header once; `id` only when it could be drawn. Without a
    /// `version` (XEP-0114 streams have no stream features, and some component libraries
    /// wait for features after a `version='1.0'`).
    fn send_header(&mut self, from: Option<&str>, id: Option<&str>) {
        if !self.header_sent {
            self.header_sent = true;
            let mut h = format!(
                "<?xml version='1.0'?><stream:stream xmlns='{JABBER_COMPONENT}' xmlns:stream='{}'",
                xml::NS_STREAMS
            );
            for (name, value) in [("from", from), ("id", id)] {
                if let Some(v) = value {
                    h.push_str(&format!(" {name}='{}'", xml::escape(v)));
                }
            }
            h.push('>');
            self.out.push(h);
        }
    }

    fn fail(&mut self, condition: Condition, text: &str) {
        if self.state == State::Closed {
            return;
        }
        tracing::debug!(%condition, text, domain = ?self.domain, "component stream error sent");
        // A stream error needs a stream around it (RFC 6120 §4.9.1.2), with an id for peers
        // that insist on one before reading on (this crate's component side does).
        let id = rayo_proto::random::token_from(self.config.random, 24).ok();
        self.send_header(None, id.as_deref());
        self.out.push(condition.to_xml(text));
        self.state = State::Closed;
        self.pending = None;
        self.events
            .push_back(AcceptEvent::Closed(AcceptCloseReason::Sent(condition)));
    }

    /// Ends the stream without an error after `reason`.
    fn finish(&mut self, reason: AcceptCloseReason) {
        self.send_header(None, None);
        self.out.push(xml::STREAM_CLOSE);
        self.state = State::Closed;
        self.pending = None;
        self.events.push_back(AcceptEvent::Closed(reason));
    }

    fn handle_xml(&mut self, ev: XmlEvent, now: Instant) {
        match (self.state, ev) {
            (State::AwaitHeader, XmlEvent::Open(h)) => self.handle_header(h, now),
            (_, XmlEvent::Open(_)) => self.fail(Condition::NotWellFormed, "nested stream header"),
            (_, XmlEvent::Close) => self.finish(AcceptCloseReason::ByPeer),
            (_, XmlEvent::Element(el)) if el.is("error", xml::NS_STREAMS) => {
                let (condition, text) = stream_error::read(&el).unwrap_or_default();
                self.finish(AcceptCloseReason::PeerError { condition, text });
            }
            (State::AwaitHandshake, XmlEvent::Element(el)) => self.handle_handshake(&el, now),
            (State::Authenticated, XmlEvent::Element(el)) => {
                if matches!(el.name(), "iq" | "message" | "presence")
                    && (el.ns() == JABBER_COMPONENT || el.ns() == JABBER_CLIENT)
                {
                    let el = xml::renamespace(el, JABBER_COMPONENT, JABBER_CLIENT);
                    self.events.push_back(AcceptEvent::Stanza(el));
                } else {
                    self.fail(Condition::UnsupportedStanzaType, "not a stanza");
                }
            }
            // The reader yields the header before any element; kept for completeness.
            (State::AwaitHeader | State::Closed, XmlEvent::Element(_)) => {
                self.fail(Condition::NotAuthorized, "no stream header")
            }
        }
    }

    fn handle_header(&mut self, h: xml::StreamHeader, now: Instant) {
        if h.ns != JABBER_COMPONENT {
            return self.fail(
                Condition::InvalidNamespace,
                "expected jabber:component:accept",
            );
        }
        let Some(to) = h.to.as_deref().map(str::to_ascii_lowercase) else {
            return self.fail(Condition::HostUnknown, "the stream header has no 'to'");
        };
        let Some(secret) = self.config.secret(&to).map(str::to_owned) else {
            return self.fail(Condition::HostUnknown, "no such component here");
        };
        let id = match rayo_proto::random::token_from(self.config.random, 24) {
            Ok(id) => id,
            Err(_) => return self.fail(Condition::InternalServerError, "no randomness"),
        };
        self.send_header(Some(&to), Some(&id));
        self.last_out = now;
        self.pending = Some((to, handshake_digest(&id, &secret)));
        self.state = State::AwaitHandshake;
    }

    fn handle_handshake(&mut self, el: &Element, now: Instant) {
        if !el.is("handshake", JABBER_COMPONENT) {
            return self.fail(Condition::NotAuthorized, "handshake first");
        }
        let Some((domain, expected)) = self.pending.take() else {
            return self.fail(Condition::NotAuthorized, "handshake first");
        };
        // Hex digits in either case; the comparison takes the same time wherever the first
        // difference is.
        let given = el.text().trim().to_ascii_lowercase();
        if !crate::scram::ct_eq(given.as_bytes(), expected.as_bytes()) {
            tracing::info!(%domain, "component handshake refused: wrong secret");
            return self.fail(Condition::NotAuthorized, "handshake refused");
        }
        self.out.push("<handshake/>");
        self.last_out = now;
        self.state = State::Authenticated;
        self.domain = Some(domain.clone());
        self.events.push_back(AcceptEvent::Authenticated(domain));
    }
}

#[cfg(test)]
mod tests;

/// The configuration of [`fuzz_bytes`]: fixed stream ids, which nothing else may use.
fn fuzz_config() -> AcceptConfig {
    let mut config = AcceptConfig::new();
    config.add_component("node.example", "secret");
    config.max_outbound_bytes = 64 * 1024;
    config.random = |buf| {
        buf.fill(0);
        Ok(())
    };
    config
}

/// Fuzzing entry point: arbitrary bytes from a component, fed in two pieces (split at the
/// first byte's value) to a connection that knows `node.example` (secret `secret`) and
/// gives every stream the id `aaaaaaaaaaaaaaaaaaaaaaaa` (so that an input can carry the right
/// handshake, `3450eadba7856d6e1d2e246a3d708a967bd00328`, and reach the stanzas), with
/// stanzas sent back for every one received and every output drained. It must never panic,
/// and the queued output stays bounded.
pub fn fuzz_bytes(data: &[u8]) {
    let config = Arc::new(fuzz_config());
    let now = Instant::now();
    let mut conn = AcceptConnection::new(config.clone(), now);
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    for (i, piece) in [&data[..split], &data[split..]].into_iter().enumerate() {
        let at = now + Duration::from_millis(10 * i as u64);
        conn.handle_input(piece, at);
        while let Some(ev) = conn.poll_event() {
            if let AcceptEvent::Stanza(el) = ev {
                conn.send_stanza(&el, at);
            }
        }
        assert!(conn.queued_bytes() <= config.max_outbound_bytes + 4096);
        let n = conn.poll_transmit().map_or(0, <[u8]>::len);
        conn.handle_transmitted(n);
    }
    conn.handle_timeout(now + Duration::from_secs(3600));
    while conn.poll_event().is_some() {}
}
