//! The server side of one client-to-server stream (RFC 6120), sans-IO.
//!
//! [`C2sConnection`] is fed the bytes read from the socket ([`C2sConnection::handle_input`])
//! and the time ([`C2sConnection::handle_timeout`]); it says what to write
//! ([`C2sConnection::poll_transmit`]), what happened ([`C2sConnection::poll_event`]) and when
//! it next needs waking ([`C2sConnection::poll_timeout`]). It negotiates STARTTLS (the driver
//! does the handshake when told by [`C2sEvent::StartTls`]), SASL SCRAM-SHA-256, SCRAM-SHA-1
//! and PLAIN, resource binding and the legacy session, then hands every stanza out with its
//! `from` stamped. Misbehaviour ends the stream with the stream error RFC 6120 §4.9 names.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use jid::FullJid;
use minidom::Element;

use crate::outq::OutQueue;
use crate::scram::{AuthError, ScramHash, ScramServer, Users};
use crate::stream_error::Condition;
use crate::xml::{self, StreamReader, XmlEvent, JABBER_CLIENT, NS_STREAMS};

const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
/// XEP-0199 ping.
pub const NS_PING: &str = "urn:xmpp:ping";

/// A token-bucket limit on the stanzas one connection may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Stanzas per second, sustained.
    pub per_second: f64,
    /// Stanzas that may arrive at once.
    pub burst: f64,
}

/// Settings of the c2s listener, shared by its connections.
#[derive(Debug, Clone)]
pub struct C2sConfig {
    /// The domain served; a stream header to another gets `<host-unknown/>`.
    pub domain: String,
    /// Who may log in.
    pub users: Users,
    /// Whether the driver can do TLS (STARTTLS is offered).
    pub tls_available: bool,
    /// Whether TLS is required before authentication (only meaningful with TLS available).
    pub require_tls: bool,
    /// Whether PLAIN is offered at all (on TLS streams, or also without TLS when
    /// `allow_plain_without_tls`).
    pub offer_plain: bool,
    /// Whether PLAIN is offered on a stream without TLS.
    pub allow_plain_without_tls: bool,
    /// The largest stanza accepted, in bytes; larger ones get `<policy-violation/>`.
    pub max_stanza_size: usize,
    /// How many element levels a stanza may nest below itself (64 by default,
    /// [`xml::DEFAULT_MAX_DEPTH`]); deeper ones end the stream with `<policy-violation/>`,
    /// found while parsing, before any element tree is built.
    pub max_stanza_depth: usize,
    /// The most bytes queued for a client once its stream is bound; a client reading slower
    /// than it is sent to gets `<resource-constraint/>` (RFC 6120 §4.9.3.17: the server
    /// lacks the resources to go on serving the stream).
    pub max_outbound_bytes: usize,
    /// The most bytes queued for a client before its stream is bound (before TLS, before
    /// authentication, before binding). Every reply then answers a negotiation element of
    /// the client's, so a client that sends them without reading what they elicit gets
    /// `<policy-violation/>` (RFC 6120 §4.9.3.12: it violated a local service policy, the
    /// bound) and the connection is dropped, before the queue grows past this.
    pub max_negotiation_queued_bytes: usize,
    /// The most elements a client may send before its stream is bound (STARTTLS, SASL
    /// `<auth/>`, `<response/>`, `<abort/>`, the bind and session requests, ...; a login
    /// takes about six). One more ends the stream with `<policy-violation/>`.
    pub max_negotiation_elements: u32,
    /// Inbound stanza rate; faster senders get `<policy-violation/>`.
    pub rate_limit: Option<RateLimit>,
    /// After this long without sending anything, a whitespace keepalive is sent.
    pub keepalive_interval: Duration,
    /// After this long without hearing from the client, it is pinged (XEP-0199).
    pub ping_interval: Duration,
    /// How long a pinged client has to answer before `<connection-timeout/>`.
    pub ping_timeout: Duration,
    /// How long authentication and binding may take.
    pub negotiation_timeout: Duration,
    /// Failed SASL attempts allowed before the stream is closed.
    pub max_auth_attempts: u32,
}

impl C2sConfig {
    /// Defaults for `domain`: TLS required, 64 KiB stanzas, 1 MiB outbound queue once bound
    /// and 64 KiB before, 32 negotiation elements, 500 stanzas/s with bursts of 1000,
    /// keepalive after 60 s, ping after 120 s.
    pub fn new(domain: &str, users: Users) -> Self {
        C2sConfig {
            domain: domain.to_owned(),
            users,
            tls_available: true,
            require_tls: true,
            offer_plain: true,
            allow_plain_without_tls: false,
            max_stanza_size: 64 * 1024,
            max_stanza_depth: xml::DEFAULT_MAX_DEPTH,
            max_outbound_bytes: 1024 * 1024,
            max_negotiation_queued_bytes: 64 * 1024,
            max_negotiation_elements: 32,
            rate_limit: Some(RateLimit {
                per_second: 500.0,
                burst: 1000.0,
            }),
            keepalive_interval: Duration::from_secs(60),
            ping_interval: Duration::from_secs(120),
            ping_timeout: Duration::from_secs(30),
            negotiation_timeout: Duration::from_secs(60),
            max_auth_attempts: 3,
        }
    }
}

/// What a [`C2sConnection`] tells its driver.
#[derive(Debug, Clone, PartialEq)]
pub enum C2sEvent {
    /// Write out everything queued, then do the TLS server handshake and call
    /// [`C2sConnection::handle_tls_established`].
    StartTls,
    /// SASL succeeded for this user.
    Authenticated(String),
    /// A SASL attempt was checked and failed (bad credentials, malformed exchange): the
    /// driver counts it against the client's address
    /// ([`crate::failed_logins::FailedLogins`]).
    AuthFailed,
    /// A resource was bound: the session is up and stanzas may be routed to this JID.
    Bound(FullJid),
    /// A stanza from the client, its `from` set to the bound JID.
    Stanza(Element),
    /// The stream ended: with the stream error this side sent, or `None` when the client
    /// closed it.
    Closed(Option<Condition>),
}

#[derive(Debug)]
enum State {
    AwaitHeader,
    Negotiating,
    TlsPending,
    Challenge(Box<ScramServer>),
    Closed,
}

/// One client-to-server stream, server side.
#[derive(Debug)]
pub struct C2sConnection {
    config: Arc<C2sConfig>,
    state: State,
    reader: StreamReader,
    out: OutQueue,
    events: VecDeque<C2sEvent>,
    header_sent: bool,
    tls: bool,
    user: Option<String>,
    jid: Option<FullJid>,
    auth_failures: u32,
    started: Instant,
    last_in: Instant,
    last_out: Instant,
    ping_id: Option<String>,
    ping_deadline: Option<Instant>,
    ping_seq: u64,
    tokens: f64,
    refilled: Instant,
    negotiation_elements: u32,
    login_allowed: bool,
}

impl C2sConnection {
    /// A new connection accepted at `now`.
    pub fn new(config: Arc<C2sConfig>, now: Instant) -> Self {
        let tokens = config.rate_limit.map_or(0.0, |r| r.burst);
        C2sConnection {
            reader: StreamReader::with_limits(config.max_stanza_size, config.max_stanza_depth),
            config,
            state: State::AwaitHeader,
            out: OutQueue::default(),
            events: VecDeque::new(),
            header_sent: false,
            tls: false,
            user: None,
            jid: None,
            auth_failures: 0,
            started: now,
            last_in: now,
            last_out: now,
            ping_id: None,
            ping_deadline: None,
            ping_seq: 0,
            tokens,
            refilled: now,
            negotiation_elements: 0,
            login_allowed: true,
        }
    }

    /// Whether the client's address may try to log in now (its failed logins are under
    /// their rate): while it may not, every SASL attempt gets `<temporary-auth-failure/>`
    /// without its credentials being checked. The driver sets this before handing input.
    pub fn set_login_allowed(&mut self, allowed: bool) {
        self.login_allowed = allowed;
    }

    /// The bound JID, once the session is up.
    pub fn jid(&self) -> Option<&FullJid> {
        self.jid.as_ref()
    }

    /// Whether the stream is over (the driver writes what is queued, then closes).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The next thing that happened.
    pub fn poll_event(&mut self) -> Option<C2sEvent> {
        self.events.pop_front()
    }

    /// The next bytes to write, if any.
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.out.peek()
    }

    /// `n` bytes of [`C2sConnection::poll_transmit`] were written.
    pub fn handle_transmitted(&mut self, n: usize) {
        self.out.advance(n);
    }

    /// Bytes queued for the client.
    pub fn queued_bytes(&self) -> usize {
        self.out.len()
    }

    /// When [`C2sConnection::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        let c = &self.config;
        let mut t = self.last_out + c.keepalive_interval;
        if self.jid.is_none() {
            t = t.min(self.started + c.negotiation_timeout);
        }
        match self.ping_deadline {
            Some(deadline) => t = t.min(deadline),
            None if self.jid.is_some() => t = t.min(self.last_in + c.ping_interval),
            None => {}
        }
        Some(t)
    }

    /// Runs the timers: keepalives, pings, timeouts.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        let c = self.config.clone();
        if self.jid.is_none() && now >= self.started + c.negotiation_timeout {
            return self.fail(Condition::ConnectionTimeout, "negotiation took too long");
        }
        if let Some(deadline) = self.ping_deadline {
            if now >= deadline {
                return self.fail(Condition::ConnectionTimeout, "no answer to ping");
            }
        } else if let Some(jid) = &self.jid {
            if now >= self.last_in + c.ping_interval {
                self.ping_seq += 1;
                let id = format!("ping-{}", self.ping_seq);
                let ping = format!(
                    "<iq type='get' id='{id}' from='{}' to='{}'><ping xmlns='{NS_PING}'/></iq>",
                    xml::escape(&c.domain),
                    xml::escape(&jid.to_string())
                );
                self.ping_id = Some(id);
                self.ping_deadline = Some(now + c.ping_timeout);
                self.write(ping, now);
            }
        }
        if now >= self.last_out + c.keepalive_interval {
            self.write(" ", now);
        }
    }

    /// TLS is up: the client restarts the stream (RFC 6120 §5.4.3.3).
    pub fn handle_tls_established(&mut self) {
        if matches!(self.state, State::TlsPending) {
            self.tls = true;
            self.reader.reset();
            self.header_sent = false;
            self.state = State::AwaitHeader;
        }
    }

    /// Queues a stanza for the client. Returns `false` (and ends the stream with
    /// `<resource-constraint/>`) if the client has fallen too far behind reading.
    pub fn send_stanza(&mut self, stanza: &Element, now: Instant) -> bool {
        if self.is_closed() || self.jid.is_none() {
            return false;
        }
        let mut s = String::new();
        xml::write_stanza(&mut s, stanza, JABBER_CLIENT);
        self.write(s, now);
        !self.is_closed()
    }

    /// The most bytes that may be queued for the client in the stream's stage.
    fn queue_bound(&self) -> usize {
        if self.jid.is_some() {
            self.config.max_outbound_bytes
        } else {
            self.config.max_negotiation_queued_bytes
        }
    }

    /// Ends the stream with a stream error (for example `<conflict/>` when another session
    /// took over this JID, or `<system-shutdown/>`).
    pub fn close(&mut self, condition: Condition, text: &str) {
        self.fail(condition, text);
    }

    /// Feeds bytes read from the client.
    pub fn handle_input(&mut self, mut data: &[u8], now: Instant) {
        if !data.is_empty() {
            self.last_in = now;
            self.ping_deadline = None;
        }
        while !self.is_closed() && !matches!(self.state, State::TlsPending) {
            match self.reader.next_event(&mut data) {
                Ok(Some(ev)) => self.handle_xml(ev, now),
                Ok(None) => return,
                Err(e) => return self.fail(e.condition(), &e.to_string()),
            }
        }
    }

    /// Queues bytes for the client, unless that would take the queue past its bound: then
    /// what has not started is dropped and the stream ends (`<resource-constraint/>` once
    /// bound, `<policy-violation/>` before). Returns whether the stream goes on.
    fn write(&mut self, s: impl Into<Vec<u8>>, now: Instant) -> bool {
        let s = s.into();
        if self.out.len() + s.len() > self.queue_bound() {
            self.out.drop_unstarted();
            if self.jid.is_some() {
                self.fail(
                    Condition::ResourceConstraint,
                    "outbound queue full: the client reads too slowly",
                );
            } else {
                self.fail(
                    Condition::PolicyViolation,
                    "negotiation replies not read: queue bound reached",
                );
            }
            return false;
        }
        self.out.push(s);
        self.last_out = now;
        true
    }

    /// Closes the stream without an error: the closing tag (written once, so always
    /// queued), no more input.
    fn finish(&mut self, now: Instant) {
        self.out.push(xml::STREAM_CLOSE);
        self.last_out = now;
        self.state = State::Closed;
        self.events.push_back(C2sEvent::Closed(None));
    }

    fn send_header(&mut self) {
        if !self.header_sent {
            self.header_sent = true;
            let id = rayo_proto::random::token(16);
            self.out.push(xml::stream_header(
                JABBER_CLIENT,
                Some(&self.config.domain),
                None,
                id.as_deref().ok(),
            ));
            // No guessable stream id: without randomness the stream ends here.
            if id.is_err() {
                self.fail(Condition::InternalServerError, "no randomness");
            }
        }
    }

    fn fail(&mut self, condition: Condition, text: &str) {
        if self.is_closed() {
            return;
        }
        tracing::debug!(%condition, text, jid = ?self.jid, "c2s stream error");
        self.send_header();
        self.out.push(condition.to_xml(text));
        self.state = State::Closed;
        self.events.push_back(C2sEvent::Closed(Some(condition)));
    }

    fn handle_xml(&mut self, ev: XmlEvent, now: Instant) {
        match ev {
            XmlEvent::Open(header) => {
                if !matches!(self.state, State::AwaitHeader) {
                    return self.fail(Condition::NotWellFormed, "nested stream header");
                }
                self.send_header();
                if header.ns != JABBER_CLIENT {
                    return self.fail(Condition::InvalidNamespace, "expected jabber:client");
                }
                let to_ok = header
                    .to
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(&self.config.domain));
                if !to_ok {
                    return self.fail(Condition::HostUnknown, "this server does not serve it");
                }
                if header.version.as_deref() != Some("1.0") {
                    return self.fail(Condition::UnsupportedVersion, "only version 1.0");
                }
                let features = self.features();
                if self.write(features, now) {
                    self.state = State::Negotiating;
                }
            }
            XmlEvent::Close => self.finish(now),
            XmlEvent::Element(el) => self.handle_element(el, now),
        }
    }

    fn mechanisms(&self) -> Vec<&'static str> {
        let mut m: Vec<&'static str> = self
            .config
            .users
            .mechanisms()
            .into_iter()
            .map(ScramHash::mechanism)
            .collect();
        if self.config.offer_plain && (self.tls || self.config.allow_plain_without_tls) {
            m.push("PLAIN");
        }
        m
    }

    fn features(&self) -> String {
        let mut f = String::from("<stream:features>");
        if self.user.is_some() {
            f.push_str(&format!(
                "<bind xmlns='{NS_BIND}'/><session xmlns='{NS_SESSION}'><optional/></session>"
            ));
        } else {
            let offer_tls = self.config.tls_available && !self.tls;
            let tls_required = offer_tls && self.config.require_tls;
            if offer_tls {
                f.push_str(&format!("<starttls xmlns='{NS_TLS}'>"));
                if tls_required {
                    f.push_str("<required/>");
                }
                f.push_str("</starttls>");
            }
            if !tls_required {
                f.push_str(&format!("<mechanisms xmlns='{NS_SASL}'>"));
                for m in self.mechanisms() {
                    f.push_str(&format!("<mechanism>{m}</mechanism>"));
                }
                f.push_str("</mechanisms>");
            }
        }
        f.push_str("</stream:features>");
        f
    }

    fn sasl_failure(&mut self, condition: &str, now: Instant) {
        self.write(
            format!("<failure xmlns='{NS_SASL}'><{condition}/></failure>"),
            now,
        );
    }

    fn auth_failed(&mut self, e: AuthError, now: Instant) {
        self.events.push_back(C2sEvent::AuthFailed);
        self.auth_refused(e, now);
    }

    /// Answers a SASL attempt with `e`'s failure; the stream ends after
    /// [`C2sConfig::max_auth_attempts`] of them.
    fn auth_refused(&mut self, e: AuthError, now: Instant) {
        self.sasl_failure(e.condition(), now);
        if self.is_closed() {
            return;
        }
        self.state = State::Negotiating;
        self.auth_failures += 1;
        // Logged for operators (the driver's span names the peer): guessing shows up.
        tracing::warn!(
            condition = e.condition(),
            attempt = self.auth_failures,
            "failed SASL authentication"
        );
        if self.auth_failures >= self.config.max_auth_attempts {
            self.fail(
                Condition::NotAuthorized,
                "too many failed authentication attempts",
            );
        }
    }

    fn authenticated(&mut self, user: String, additional: Option<String>, now: Instant) {
        let body = additional.map(|a| B64.encode(a)).unwrap_or_default();
        if !self.write(format!("<success xmlns='{NS_SASL}'>{body}</success>"), now) {
            return;
        }
        self.user = Some(user.clone());
        self.reader.reset();
        self.header_sent = false;
        self.state = State::AwaitHeader;
        self.events.push_back(C2sEvent::Authenticated(user));
    }

    fn sasl_data(el: &Element) -> Option<Vec<u8>> {
        let text = el.text();
        let text = text.trim();
        if text.is_empty() || text == "=" {
            return Some(Vec::new());
        }
        B64.decode(text).ok()
    }

    fn handle_element(&mut self, el: Element, now: Instant) {
        if self.jid.is_none() {
            self.negotiation_elements = self.negotiation_elements.saturating_add(1);
            if self.negotiation_elements > self.config.max_negotiation_elements {
                return self.fail(
                    Condition::PolicyViolation,
                    "too many elements before the stream was bound",
                );
            }
        }
        match std::mem::replace(&mut self.state, State::Negotiating) {
            State::AwaitHeader => {
                self.state = State::AwaitHeader;
                self.fail(Condition::NotWellFormed, "element before the stream header")
            }
            State::TlsPending | State::Closed => self.state = State::Closed,
            State::Challenge(scram) => {
                if el.is("response", NS_SASL) {
                    let Some(data) = Self::sasl_data(&el) else {
                        return self.auth_failed(AuthError::MalformedRequest, now);
                    };
                    match scram.finish(&data) {
                        Ok((user, last)) => self.authenticated(user, Some(last), now),
                        Err(e) => self.auth_failed(e, now),
                    }
                } else if el.is("abort", NS_SASL) {
                    self.sasl_failure("aborted", now);
                } else {
                    self.fail(Condition::NotAuthorized, "SASL exchange interrupted")
                }
            }
            State::Negotiating if self.user.is_none() => self.negotiate(el, now),
            State::Negotiating => self.session_element(el, now),
        }
    }

    fn negotiate(&mut self, el: Element, now: Instant) {
        let c = self.config.clone();
        if el.is("starttls", NS_TLS) {
            if c.tls_available && !self.tls {
                if self.write(format!("<proceed xmlns='{NS_TLS}'/>"), now) {
                    self.state = State::TlsPending;
                    self.events.push_back(C2sEvent::StartTls);
                }
            } else if self.write(format!("<failure xmlns='{NS_TLS}'/>"), now) {
                self.finish(now);
            }
            return;
        }
        if el.is("auth", NS_SASL) {
            if c.tls_available && c.require_tls && !self.tls {
                return self.sasl_failure("encryption-required", now);
            }
            if !self.login_allowed {
                // Not checked: a guesser learns nothing, however many connections it has.
                return self.auth_refused(AuthError::TemporaryAuthFailure, now);
            }
            let mech = el.attr("mechanism").unwrap_or_default();
            let Some(data) = Self::sasl_data(&el) else {
                return self.auth_failed(AuthError::MalformedRequest, now);
            };
            let hash = match mech {
                "SCRAM-SHA-256" => Some(ScramHash::Sha256),
                "SCRAM-SHA-1" => Some(ScramHash::Sha1),
                "PLAIN" => None,
                _ => return self.sasl_failure("invalid-mechanism", now),
            };
            match hash {
                None if !self.mechanisms().contains(&"PLAIN") => {
                    self.sasl_failure("mechanism-too-weak", now)
                }
                None => match c.users.verify_plain(&data) {
                    Ok(user) => self.authenticated(user, None, now),
                    Err(e) => self.auth_failed(e, now),
                },
                Some(hash) => match rayo_proto::random::token(24)
                    .map_err(|_| AuthError::TemporaryAuthFailure)
                    .and_then(|nonce| ScramServer::start(&c.users, hash, &data, &nonce))
                {
                    Ok((scram, first)) => {
                        let challenge = format!(
                            "<challenge xmlns='{NS_SASL}'>{}</challenge>",
                            B64.encode(first)
                        );
                        if self.write(challenge, now) {
                            self.state = State::Challenge(Box::new(scram));
                        }
                    }
                    Err(e) => self.auth_failed(e, now),
                },
            }
            return;
        }
        if el.is("abort", NS_SASL) {
            return self.sasl_failure("aborted", now);
        }
        if c.tls_available && c.require_tls && !self.tls {
            return self.fail(Condition::PolicyViolation, "STARTTLS is required");
        }
        self.fail(Condition::NotAuthorized, "authenticate first")
    }

    fn iq_reply(&mut self, req: &Element, body: &str, now: Instant) -> bool {
        let id = xml::escape(req.attr("id").unwrap_or_default()).into_owned();
        self.write(format!("<iq type='result' id='{id}'>{body}</iq>"), now)
    }

    fn iq_error(&mut self, req: &Element, type_: &str, condition: &str, now: Instant) {
        let id = xml::escape(req.attr("id").unwrap_or_default()).into_owned();
        self.write(
            format!(
                "<iq type='error' id='{id}'><error type='{type_}'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
            ),
            now,
        );
    }

    fn session_element(&mut self, mut el: Element, now: Instant) {
        if el.ns() != JABBER_CLIENT || !matches!(el.name(), "iq" | "message" | "presence") {
            if el.is("error", NS_STREAMS) {
                return self.finish(now);
            }
            return self.fail(
                Condition::UnsupportedStanzaType,
                &format!("<{}/> is not a stanza", el.name()),
            );
        }
        let Some(jid) = self.jid.clone() else {
            return self.pre_bind(el, now);
        };
        if el.name() == "iq" {
            if let (Some(id), Some(t)) = (&self.ping_id, el.attr("type")) {
                if el.attr("id") == Some(id.as_str()) && (t == "result" || t == "error") {
                    self.ping_id = None;
                    return;
                }
            }
            if el.attr("type") == Some("set") && el.has_child("session", NS_SESSION) {
                self.iq_reply(&el, "", now);
                return;
            }
        }
        if let Some(limit) = self.config.rate_limit {
            let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
            self.refilled = now;
            self.tokens = (self.tokens + elapsed * limit.per_second).min(limit.burst);
            if self.tokens < 1.0 {
                return self.fail(Condition::PolicyViolation, "too many stanzas too fast");
            }
            self.tokens -= 1.0;
        }
        xml::set_attr(&mut el, "from", jid.to_string());
        self.events.push_back(C2sEvent::Stanza(el));
    }

    fn pre_bind(&mut self, el: Element, now: Instant) {
        let is_set = el.name() == "iq" && el.attr("type") == Some("set");
        if is_set && el.has_child("session", NS_SESSION) {
            self.iq_reply(&el, "", now);
            return;
        }
        let Some(bind) = el.get_child("bind", NS_BIND).filter(|_| is_set) else {
            if el.name() == "iq" {
                return self.iq_error(&el, "auth", "not-authorized", now);
            }
            return self.fail(Condition::NotAuthorized, "bind a resource first");
        };
        let resource = match bind
            .get_child("resource", NS_BIND)
            .map(|r| r.text().trim().to_owned())
            .filter(|r| !r.is_empty())
        {
            Some(r) => r,
            None => match rayo_proto::random::token(16) {
                Ok(r) => r,
                Err(_) => return self.iq_error(&el, "wait", "internal-server-error", now),
            },
        };
        let user = self.user.clone().unwrap_or_default();
        match FullJid::new(&format!("{user}@{}/{resource}", self.config.domain)) {
            Ok(jid) => {
                let body = format!(
                    "<bind xmlns='{NS_BIND}'><jid>{}</jid></bind>",
                    xml::escape(&jid.to_string())
                );
                if !self.iq_reply(&el, &body, now) {
                    return;
                }
                self.jid = Some(jid.clone());
                self.last_in = now;
                self.events.push_back(C2sEvent::Bound(jid));
            }
            Err(_) => self.iq_error(&el, "modify", "bad-request", now),
        }
    }
}

#[cfg(test)]
mod tests;

/// Fuzzing entry point: arbitrary bytes from a client, fed in two pieces (split at the first
/// byte's value) to a connection that allows PLAIN without TLS, with every output drained.
/// It must never panic, and the queued output stays bounded.
pub fn fuzz_bytes(data: &[u8]) {
    let mut config = C2sConfig::new("localhost", Users::new());
    config.tls_available = false;
    config.require_tls = false;
    config.allow_plain_without_tls = true;
    let now = Instant::now();
    let mut conn = C2sConnection::new(Arc::new(config.clone()), now);
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    for (i, piece) in [&data[..split], &data[split..]].into_iter().enumerate() {
        let at = now + Duration::from_millis(10 * i as u64);
        conn.handle_input(piece, at);
        while conn.poll_event().is_some() {}
        assert!(conn.queued_bytes() <= config.max_outbound_bytes + config.max_stanza_size);
        let n = conn.poll_transmit().map_or(0, <[u8]>::len);
        conn.handle_transmitted(n);
    }
    conn.handle_timeout(now + Duration::from_secs(3600));
    while conn.poll_event().is_some() {}
}
