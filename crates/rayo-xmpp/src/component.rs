//! The component side of a XEP-0114 connection to an XMPP server, sans-IO, and the backoff
//! between reconnection attempts.
//!
//! The component opens a `jabber:component:accept` stream to its domain, answers the
//! server's stream id with `<handshake>SHA1(id + secret)</handshake>`, and once the server
//! says `<handshake/>` exchanges stanzas.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use minidom::Element;
use sha1::{Digest, Sha1};

use crate::outq::OutQueue;
use crate::stream_error::{self, Condition};
use crate::xml::{self, StreamReader, XmlEvent, JABBER_CLIENT, JABBER_COMPONENT};

/// Settings of one component connection.
#[derive(Debug, Clone)]
pub struct ComponentConfig {
    /// The component's domain (the stream's `to`).
    pub domain: String,
    /// The secret shared with the server.
    pub secret: String,
    /// The largest stanza accepted from the server.
    pub max_stanza_size: usize,
    /// How many element levels a stanza from the server may nest below itself (64 by
    /// default, [`xml::DEFAULT_MAX_DEPTH`]); deeper ones end the stream with
    /// `<policy-violation/>`, found while parsing, before any element tree is built.
    pub max_stanza_depth: usize,
    /// The most bytes queued for the server before the connection is dropped.
    pub max_outbound_bytes: usize,
    /// After this long without sending, a whitespace keepalive is sent.
    pub keepalive_interval: Duration,
    /// How long the handshake may take.
    pub handshake_timeout: Duration,
}

impl ComponentConfig {
    /// Defaults: 256 KiB stanzas, 16 MiB queue, keepalive every 60 s, 10 s handshake.
    pub fn new(domain: &str, secret: &str) -> Self {
        ComponentConfig {
            domain: domain.to_owned(),
            secret: secret.to_owned(),
            max_stanza_size: 256 * 1024,
            max_stanza_depth: xml::DEFAULT_MAX_DEPTH,
            max_outbound_bytes: 16 * 1024 * 1024,
            keepalive_interval: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// What a [`ComponentConnection`] tells its driver.
#[derive(Debug, Clone, PartialEq)]
pub enum ComponentEvent {
    /// The server accepted the handshake: stanzas flow.
    Connected,
    /// A stanza from the server, moved to `jabber:client`.
    Stanza(Element),
    /// The stream ended.
    Closed(CloseReason),
}

/// Why a component stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The server closed the stream.
    ByServer,
    /// The server sent a stream error (`not-authorized` for a wrong secret).
    PeerError {
        /// The condition.
        condition: String,
        /// The text.
        text: Option<String>,
    },
    /// This side sent a stream error.
    Sent(Condition),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitHeader,
    AwaitHandshake,
    Connected,
    Closed,
}

/// One XEP-0114 component stream, component side.
#[derive(Debug)]
pub struct ComponentConnection {
    config: ComponentConfig,
    state: State,
    reader: StreamReader,
    out: OutQueue,
    events: VecDeque<ComponentEvent>,
    started: Instant,
    last_out: Instant,
}

/// The handshake value: lowercase hex SHA-1 of the stream id and the secret (XEP-0114 §3).
pub fn handshake_digest(stream_id: &str, secret: &str) -> String {
    let digest = Sha1::digest(format!("{stream_id}{secret}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl ComponentConnection {
    /// Starts a stream at `now`; the header is queued at once.
    pub fn new(config: ComponentConfig, now: Instant) -> Self {
        let mut out = OutQueue::default();
        out.push(xml::stream_header(
            JABBER_COMPONENT,
            None,
            Some(&config.domain),
            None,
        ));
        ComponentConnection {
            reader: StreamReader::with_limits(config.max_stanza_size, config.max_stanza_depth),
            config,
            state: State::AwaitHeader,
            out,
            events: VecDeque::new(),
            started: now,
            last_out: now,
        }
    }

    /// Whether the handshake succeeded and the stream is up.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether the stream is over.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The next thing that happened.
    pub fn poll_event(&mut self) -> Option<ComponentEvent> {
        self.events.pop_front()
    }

    /// The next bytes to write.
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.out.peek()
    }

    /// `n` bytes were written.
    pub fn handle_transmitted(&mut self, n: usize) {
        self.out.advance(n);
    }

    /// When [`ComponentConnection::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Closed => None,
            State::Connected => Some(self.last_out + self.config.keepalive_interval),
            _ => Some(self.started + self.config.handshake_timeout),
        }
    }

    /// Runs the timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Closed => {}
            State::Connected => {
                if now >= self.last_out + self.config.keepalive_interval {
                    self.out.push(" ");
                    self.last_out = now;
                }
            }
            _ => {
                if now >= self.started + self.config.handshake_timeout {
                    self.fail(Condition::ConnectionTimeout, "no handshake answer");
                }
            }
        }
    }

    /// Queues a stanza for the server (written in `jabber:component:accept`). Returns `false`
    /// if the stream is not up or the queue overflowed (the stream is then closed).
    pub fn send_stanza(&mut self, stanza: &Element, now: Instant) -> bool {
        if self.state != State::Connected {
            return false;
        }
        let mut s = String::new();
        xml::write_stanza(&mut s, stanza, JABBER_COMPONENT);
        if self.out.len() + s.len() > self.config.max_outbound_bytes {
            self.out.drop_unstarted();
            self.fail(Condition::ResourceConstraint, "the server reads too slowly");
            return false;
        }
        self.out.push(s);
        self.last_out = now;
        true
    }

    /// Ends the stream cleanly.
    pub fn close(&mut self) {
        if self.state != State::Closed {
            self.out.push(xml::STREAM_CLOSE);
            self.state = State::Closed;
        }
    }

    /// Feeds bytes read from the server.
    pub fn handle_input(&mut self, mut data: &[u8], now: Instant) {
        while self.state != State::Closed {
            match self.reader.next_event(&mut data) {
                Ok(Some(ev)) => self.handle_xml(ev, now),
                Ok(None) => return,
                Err(e) => return self.fail(e.condition(), &e.to_string()),
            }
        }
    }

    fn fail(&mut self, condition: Condition, text: &str) {
        if self.state == State::Closed {
            return;
        }
        tracing::warn!(%condition, text, domain = %self.config.domain, "component stream error");
        self.out.push(condition.to_xml(text));
        self.state = State::Closed;
        self.events
            .push_back(ComponentEvent::Closed(CloseReason::Sent(condition)));
    }

    fn handle_xml(&mut self, ev: XmlEvent, now: Instant) {
        match (self.state, ev) {
            (State::AwaitHeader, XmlEvent::Open(h)) => {
                if h.ns != JABBER_COMPONENT {
                    return self.fail(
                        Condition::InvalidNamespace,
                        "expected jabber:component:accept",
                    );
                }
                let Some(id) = h.id else {
                    return self.fail(Condition::BadFormat, "stream header without id");
                };
                let digest = handshake_digest(&id, &self.config.secret);
                self.out.push(format!("<handshake>{digest}</handshake>"));
                self.last_out = now;
                self.state = State::AwaitHandshake;
            }
            (_, XmlEvent::Close) => {
                self.out.push(xml::STREAM_CLOSE);
                self.state = State::Closed;
                self.events
                    .push_back(ComponentEvent::Closed(CloseReason::ByServer));
            }
            (_, XmlEvent::Element(el)) if el.is("error", xml::NS_STREAMS) => {
                let (condition, text) = stream_error::read(&el).unwrap_or_default();
                self.out.push(xml::STREAM_CLOSE);
                self.state = State::Closed;
                self.events
                    .push_back(ComponentEvent::Closed(CloseReason::PeerError {
                        condition,
                        text,
                    }));
            }
            (State::AwaitHandshake, XmlEvent::Element(el)) if el.name() == "handshake" => {
                self.state = State::Connected;
                self.events.push_back(ComponentEvent::Connected);
            }
            (State::Connected, XmlEvent::Element(el)) => {
                if matches!(el.name(), "iq" | "message" | "presence")
                    && (el.ns() == JABBER_COMPONENT || el.ns() == JABBER_CLIENT)
                {
                    let el = xml::renamespace(el, JABBER_COMPONENT, JABBER_CLIENT);
                    self.events.push_back(ComponentEvent::Stanza(el));
                } else {
                    self.fail(Condition::UnsupportedStanzaType, "not a stanza");
                }
            }
            (_, _) => self.fail(
                Condition::NotAuthorized,
                "unexpected element during handshake",
            ),
        }
    }
}

/// Exponential backoff between reconnection attempts: `initial`, doubling up to `max`, with
/// up to 25 % random jitter; [`Backoff::reset`] after a successful connection.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    /// A backoff from `initial` to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            current: initial,
        }
    }

    /// The delay before the next attempt; later calls return longer delays.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.current;
        self.current = (self.current * 2).min(self.max);
        // Jitter only spreads reconnections; without OS randomness there is none.
        let mut r = [0u8; 1];
        let _ = rayo_proto::random::fill(&mut r);
        base + base.mul_f64(f64::from(r[0]) / 1024.0)
    }

    /// Back to the initial delay.
    pub fn reset(&mut self) {
        self.current = self.initial;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn drain(c: &mut ComponentConnection) -> String {
        let mut out = Vec::new();
        while let Some(b) = c.poll_transmit() {
            let n = b.len();
            out.extend_from_slice(b);
            c.handle_transmitted(n);
        }
        String::from_utf8(out).expect("utf-8")
    }

    const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' from='rayo.test' id='3BF96D32'>";

    #[test]
    fn handshake_then_stanzas() {
        let now = Instant::now();
        let mut c = ComponentConnection::new(ComponentConfig::new("rayo.test", "secret"), now);
        let hello = drain(&mut c);
        assert!(
            hello.contains("xmlns='jabber:component:accept'") && hello.contains("to='rayo.test'")
        );
        c.handle_input(SERVER_HEADER.as_bytes(), now);
        let hs = drain(&mut c);
        assert_eq!(
            hs,
            format!(
                "<handshake>{}</handshake>",
                handshake_digest("3BF96D32", "secret")
            )
        );
        assert_eq!(handshake_digest("3BF96D32", "secret").len(), 40);
        c.handle_input(b"<handshake/><iq type='get' id='1' from='a@b/c' to='rayo.test'><ping xmlns='urn:xmpp:ping'/></iq>", now);
        assert_eq!(c.poll_event(), Some(ComponentEvent::Connected));
        let Some(ComponentEvent::Stanza(iq)) = c.poll_event() else {
            panic!("no stanza")
        };
        assert!(iq.is("iq", JABBER_CLIENT));
        let reply: Element =
            "<iq xmlns='jabber:client' type='result' id='1' to='a@b/c' from='rayo.test'/>"
                .parse()
                .expect("xml");
        assert!(c.send_stanza(&reply, now));
        let out = drain(&mut c);
        assert!(out.starts_with("<iq ") && !out.contains("xmlns"), "{out}");
    }

    /// A connected component whose stanzas may nest `depth` levels.
    fn connected(depth: usize, now: Instant) -> ComponentConnection {
        let mut config = ComponentConfig::new("rayo.test", "secret");
        config.max_stanza_depth = depth;
        let mut c = ComponentConnection::new(config, now);
        c.handle_input(SERVER_HEADER.as_bytes(), now);
        c.handle_input(b"<handshake/>", now);
        assert_eq!(c.poll_event(), Some(ComponentEvent::Connected));
        drain(&mut c);
        c
    }

    fn message(levels: usize) -> String {
        format!(
            "<message to='rayo.test'>{}{}</message>",
            "<x>".repeat(levels),
            "</x>".repeat(levels)
        )
    }

    #[test]
    fn a_stanza_at_the_depth_limit_is_delivered() {
        let now = Instant::now();
        let mut c = connected(8, now);
        c.handle_input(message(8).as_bytes(), now);
        assert!(matches!(c.poll_event(), Some(ComponentEvent::Stanza(m)) if m.name() == "message"));
        assert!(c.is_connected());
    }

    #[test]
    fn a_stanza_nested_beyond_the_limit_ends_the_stream_with_policy_violation() {
        let now = Instant::now();
        let mut c = connected(8, now);
        c.handle_input(message(9).as_bytes(), now);
        assert_eq!(
            c.poll_event(),
            Some(ComponentEvent::Closed(CloseReason::Sent(
                Condition::PolicyViolation
            )))
        );
        assert!(drain(&mut c).contains("<policy-violation"));
        // With the default, 100 000 levels from a hostile server are refused the same way,
        // without building (or dropping) a deep tree.
        let mut c = connected(ComponentConfig::new("d", "s").max_stanza_depth, now);
        c.handle_input(format!("<iq>{}", "<x>".repeat(100_000)).as_bytes(), now);
        assert_eq!(
            c.poll_event(),
            Some(ComponentEvent::Closed(CloseReason::Sent(
                Condition::PolicyViolation
            )))
        );
    }

    #[test]
    fn wrong_secret_is_reported() {
        let now = Instant::now();
        let mut c = ComponentConnection::new(ComponentConfig::new("rayo.test", "bad"), now);
        c.handle_input(SERVER_HEADER.as_bytes(), now);
        c.handle_input(b"<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>", now);
        assert_eq!(
            c.poll_event(),
            Some(ComponentEvent::Closed(CloseReason::PeerError {
                condition: "not-authorized".into(),
                text: None
            }))
        );
    }

    #[test]
    fn backoff_grows_to_its_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let d: Vec<Duration> = (0..6).map(|_| b.next_delay()).collect();
        assert!(d[0] >= Duration::from_millis(100) && d[0] < Duration::from_millis(130));
        assert!(d[5] >= Duration::from_secs(1) && d[5] < Duration::from_millis(1300));
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(130));
    }
}
