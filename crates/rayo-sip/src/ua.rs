//! The user agent: SIP calls mapped to rayo-call's [`SignalAction`]s and [`SignalEvent`]s,
//! sans-IO. Datagrams, actions and `now` in; datagrams, signal events and media commands out,
//! and the next timer (the transactions' table).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use ezk_sip_types::Method;
use rayo_call::{CallId, RejectCause, SignalAction, SignalEvent};
use rayo_media::stream::StreamConfig;
use rayo_proto::generated::rayo::{EndReason, Header};
use rayo_proto::random::Fill;

use crate::auth::{Challenge, Credentials};
use crate::dialog::Dialog;
use crate::message::{addr_uri, Message};
use crate::sdp::{self, Negotiated};
use crate::transaction::{
    response_to, shrink, Limits, Peer, Timers, Transactions, Transmit, Transport, TxEvent, TxKey,
};
use crate::Error;

mod destination;
mod inbound;
mod outbound;

pub use destination::{Destination, Undialable};

/// The user agent's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SIP address the node listens on (its Via and Contact).
    pub local: SocketAddr,
    /// The transport of outbound requests.
    pub transport: Transport,
    /// Where outbound calls go (a trunk); without one, to the host and port of the URI
    /// dialled, which must then be an IP address.
    pub outbound_proxy: Option<SocketAddr>,
    /// Credentials for digest challenges of the trunk.
    pub credentials: Option<Credentials>,
    /// Trunks chosen by the dialled URI, tried in order before `outbound_proxy`.
    pub trunks: Vec<Trunk>,
    /// The RTP address and even port range (inclusive) handed out to calls.
    pub rtp_ip: IpAddr,
    /// First RTP port.
    pub rtp_first: u16,
    /// Last RTP port.
    pub rtp_last: u16,
    /// Timer values.
    pub timers: Timers,
    /// Where tags, branches, Call-IDs, call ids, digest cnonces and SSRCs come from: the OS
    /// ([`rayo_proto::random::fill`]). When it fails, nothing is sent that would need one:
    /// the action fails with [`Error::Random`], an inbound request is answered 500.
    pub random: Fill,
    /// Look for in-band DTMF in received audio.
    pub inband_dtmf: bool,
    /// How long after a call's media starts its RTP session may latch onto a source other
    /// than the address of the remote SDP (a peer behind NAT); zero: never
    /// ([`rayo_media::latch`]). 2 s by default.
    pub rtp_latch_window: std::time::Duration,
    /// Inbound SIP TCP connections the driver keeps open at once (at least 1); one accepted
    /// beyond this is closed at once, unread. 1024 by default.
    pub max_tcp_connections: usize,
    /// Inbound SIP TCP connections from one source IP address the driver keeps open at once
    /// (at least 1); one accepted beyond this is closed at once, unread. 32 by default.
    pub max_tcp_connections_per_source: usize,
    /// Server transactions alive at once, in all and per source IP address; a new request
    /// beyond either is answered 503 with `Retry-After` and leaves no state.
    pub transaction_limits: Limits,
}

impl Config {
    /// A configuration listening on `local`, RTP on the same IP, ports 20000-29998.
    pub fn new(local: SocketAddr) -> Self {
        Config {
            local,
            transport: Transport::Udp,
            outbound_proxy: None,
            credentials: None,
            trunks: Vec::new(),
            rtp_ip: local.ip(),
            rtp_first: 20000,
            rtp_last: 29998,
            timers: Timers::default(),
            random: rayo_proto::random::fill,
            inband_dtmf: true,
            rtp_latch_window: rayo_media::latch::DEFAULT_LATCH_WINDOW,
            max_tcp_connections: 1024,
            max_tcp_connections_per_source: 32,
            transaction_limits: Limits::default(),
        }
    }
}

/// An outbound trunk: where calls to matching URIs go, and how to authenticate there.
#[derive(Debug, Clone)]
pub struct Trunk {
    /// The dialled URI pattern; `*` matches any run of characters (`sip:+1*`, `*`).
    pub pattern: String,
    /// Where the INVITEs go.
    pub proxy: SocketAddr,
    /// Digest credentials, if the trunk challenges.
    pub credentials: Option<Credentials>,
}

/// Something the user agent wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send bytes.
    Transmit(Transmit),
    /// Tell the engine.
    Signal {
        /// The call.
        call: CallId,
        /// What happened.
        event: SignalEvent,
    },
    /// Open the call's RTP: bind `local`, send to `remote`.
    MediaStart {
        /// The call.
        call: CallId,
        /// The local RTP address (in the SDP).
        local: SocketAddr,
        /// Where to send.
        remote: SocketAddr,
        /// What was negotiated.
        config: StreamConfig,
        /// The synchronisation source of what the node sends (random, RFC 3550 §8).
        ssrc: u32,
        /// Where the call's signalling comes from (its SIP peer): the source of RTP
        /// preferred after the SDP address when latching.
        signalling: std::net::IpAddr,
    },
    /// The peer moved or changed its media (re-INVITE).
    MediaUpdate {
        /// The call.
        call: CallId,
        /// Where to send now.
        remote: SocketAddr,
    },
    /// Close the call's RTP.
    MediaStop {
        /// The call.
        call: CallId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Inbound, no final response yet; outbound, no answer yet.
    Early,
    /// Answered.
    Confirmed,
    /// Outbound, CANCEL sent.
    Cancelling,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Invite,
    Other,
}

#[derive(Debug)]
struct Call {
    inbound: bool,
    phase: Phase,
    dialog: Dialog,
    /// Inbound: the INVITE's server transaction; outbound: the INVITE's client transaction.
    invite_tx: Option<TxKey>,
    /// The INVITE (inbound: received; outbound: sent).
    invite: Message,
    local_rtp: SocketAddr,
    negotiated: Option<Negotiated>,
    media_started: bool,
    sdp_version: u64,
    ringing_reported: bool,
    auth_tried: bool,
    /// Outbound: the credentials for the trunk the call went to.
    credentials: Option<Credentials>,
    ack: Option<Message>,
}

/// The user agent of a node.
#[derive(Debug)]
pub struct UserAgent {
    cfg: Config,
    tx: Transactions,
    calls: HashMap<CallId, Call>,
    /// Calls by dialog: Call-ID and this side's tag (RFC 3261 §12.2.2; the peer's tag is
    /// checked against the call found).
    dialogs: HashMap<(String, String), CallId>,
    /// Inbound calls by their INVITE's server transaction (a CANCEL names that
    /// transaction, RFC 3261 §9.2), so a CANCEL finds its call without a scan.
    inbound_invites: HashMap<TxKey, CallId>,
    client: HashMap<TxKey, (CallId, Purpose)>,
    out: VecDeque<Output>,
    next_port: u16,
    /// The RTP ports of live calls (each call holds its port until it ends).
    ports_in_use: HashSet<u16>,
    /// Datagrams that did not parse as SIP.
    pub malformed: u64,
}

fn headers_of(m: &Message) -> Vec<Header> {
    m.ordered
        .iter()
        .map(|(k, v)| Header {
            name: k.clone(),
            value: v.clone(),
        })
        .collect()
}

/// Writes the client's `headers` into `m`, in order, after checking every one
/// ([`rayo_proto::header::check`]). The engine refuses commands with such headers already;
/// this is defence in depth: a header that would add a line (CR/LF), is no SIP token, or is
/// one the node controls fails the whole message (fail closed, nothing is sent) rather
/// than being written or silently dropped.
fn add_headers(m: &mut Message, headers: &[Header]) -> Result<(), Error> {
    rayo_proto::header::check_all(headers)?;
    push_headers(m, headers);
    Ok(())
}

/// [`add_headers`] for a dial's INVITE, which may also carry a pre-loaded route set
/// ([`rayo_proto::header::check_dial`]).
fn add_dial_headers(m: &mut Message, headers: &[Header]) -> Result<(), Error> {
    rayo_proto::header::check_dial(headers)?;
    push_headers(m, headers);
    Ok(())
}

fn push_headers(m: &mut Message, headers: &[Header]) {
    for h in headers {
        m.push(&h.name, &h.value);
    }
}

fn code(c: u16) -> Option<String> {
    Some(c.to_string())
}

/// The end reason of a failed outbound INVITE.
pub fn failure_reason(status: u16) -> EndReason {
    let platform_code = code(status);
    match status {
        486 | 600 => EndReason::Busy { platform_code },
        408 | 480 | 487 => EndReason::Timeout { platform_code },
        403 | 603 => EndReason::Rejected { platform_code },
        _ => EndReason::Error { platform_code },
    }
}

/// The host and port of a SIP URI, when the host is an IP address (no DNS here).
pub fn uri_addr(uri: &str) -> Option<SocketAddr> {
    let u = addr_uri(uri);
    let rest = u.strip_prefix("sip:").or_else(|| u.strip_prefix("sips:"))?;
    let rest = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let hostport = rest.split([';', '?', '>']).next()?;
    if let Ok(a) = hostport.parse::<SocketAddr>() {
        return Some(a);
    }
    hostport
        .trim_matches(['[', ']'])
        .parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 5060))
}

impl UserAgent {
    /// A user agent with `cfg`.
    pub fn new(cfg: Config) -> Self {
        UserAgent {
            tx: Transactions::new(cfg.timers).with_limits(cfg.transaction_limits),
            next_port: cfg.rtp_first & !1,
            ports_in_use: HashSet::new(),
            cfg,
            calls: HashMap::new(),
            dialogs: HashMap::new(),
            inbound_invites: HashMap::new(),
            client: HashMap::new(),
            out: VecDeque::new(),
            malformed: 0,
        }
    }

    /// A random number from the configured source.
    fn random(&self) -> Result<u64, Error> {
        Ok(rayo_proto::random::u64_from(self.cfg.random)?)
    }

    /// A tag, Call-ID or call id: 16 lowercase base-32 characters (80 bits).
    fn token(&self) -> Result<String, Error> {
        Ok(rayo_proto::random::token_from(self.cfg.random, 16)?)
    }

    /// A branch (RFC 3261 §8.1.1.7: the magic cookie, then a random token).
    fn branch(&self) -> Result<String, Error> {
        Ok(format!("z9hG4bK{}", self.token()?))
    }

    fn via(&self) -> String {
        format!(
            "SIP/2.0/{} {}",
            self.cfg.transport.via_name(),
            self.cfg.local
        )
    }

    fn contact(&self) -> String {
        format!("sip:rayo@{}", self.cfg.local)
    }

    /// The next free even RTP port of the range, held until the call ends; `None` when
    /// every one is in use (never one a live call holds).
    fn allocate_port(&mut self) -> Option<SocketAddr> {
        let first = self.cfg.rtp_first & !1;
        let last = self.cfg.rtp_last.max(first);
        let span = usize::from((last - first) / 2) + 1;
        if self.ports_in_use.len() >= span {
            return None;
        }
        for _ in 0..span {
            let p = self.next_port;
            self.next_port = if p >= last.saturating_sub(1) {
                first
            } else {
                p + 2
            };
            if self.ports_in_use.insert(p) {
                return Some(SocketAddr::new(self.cfg.rtp_ip, p));
            }
        }
        None
    }

    /// RTP ports held by live calls.
    pub fn rtp_ports_in_use(&self) -> usize {
        self.ports_in_use.len()
    }

    fn stream_config(&self, n: &Negotiated) -> StreamConfig {
        StreamConfig {
            audio: n.audio,
            telephone_event: n.telephone_event,
            inband_dtmf: self.cfg.inband_dtmf,
            ..StreamConfig::pcmu()
        }
    }

    fn signal(&mut self, call: &CallId, event: SignalEvent) {
        self.out.push_back(Output::Signal {
            call: call.clone(),
            event,
        });
    }

    fn end(&mut self, call: &CallId, reason: Option<EndReason>, headers: Vec<Header>) {
        if let Some(c) = self.calls.remove(call) {
            self.ports_in_use.remove(&c.local_rtp.port());
            self.dialogs
                .remove(&(c.dialog.call_id.clone(), c.dialog.local_tag.clone()));
            if let (true, Some(key)) = (c.inbound, &c.invite_tx) {
                self.inbound_invites.remove(key);
            }
            if c.media_started {
                self.out.push_back(Output::MediaStop { call: call.clone() });
            }
            shrink(&mut self.calls);
            shrink(&mut self.dialogs);
            shrink(&mut self.inbound_invites);
        }
        if let Some(reason) = reason {
            self.signal(call, SignalEvent::Ended { reason, headers });
        }
    }

    /// The peer of a call: where its requests come from and responses go (for an inbound
    /// call, the address its INVITE came from).
    pub fn peer_of(&self, call: &CallId) -> Option<Peer> {
        self.calls.get(call).map(|c| c.dialog.peer)
    }

    /// The call whose dialog `msg` belongs to: same Call-ID, this side's tag in `ours` (To of
    /// a request, From of a response) and, for a request, the peer's tag in From. A request
    /// without a To tag is in no dialog (a new INVITE, a CANCEL of an INVITE not answered).
    fn dialog_of(&self, msg: &Message) -> Option<CallId> {
        let request = msg.method().is_some();
        let cid = msg.call_id().ok()?;
        let ours = if request {
            msg.to_tag()
        } else {
            msg.from_tag()
        }
        .ok()??;
        let id = self.dialogs.get(&(cid, ours))?;
        let c = self.calls.get(id)?;
        if request {
            let theirs = msg.from_tag().ok()??;
            if c.dialog.remote_tag.as_deref() != Some(theirs.as_str()) {
                return None;
            }
        }
        Some(id.clone())
    }

    fn remember_dialog(&mut self, d: &Dialog, id: &CallId) {
        self.dialogs
            .insert((d.call_id.clone(), d.local_tag.clone()), id.clone());
    }

    fn flush(&mut self) {
        while let Some(t) = self.tx.poll_transmit() {
            self.out.push_back(Output::Transmit(t));
        }
    }

    /// When [`UserAgent::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.tx.poll_timeout()
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.flush();
        self.out.pop_front()
    }

    /// Calls in progress.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Live server transactions (what [`Config::transaction_limits`] bounds).
    pub fn server_transactions(&self) -> usize {
        self.tx.server_len()
    }

    /// Live transactions, client and server.
    pub fn transactions(&self) -> usize {
        self.tx.len()
    }

    /// Room in the transaction table (it shrinks when the table empties).
    pub fn transaction_capacity(&self) -> usize {
        self.tx.capacity()
    }

    /// Source addresses known to receive what the node sends them (they may use
    /// [`Limits::reserved_for_known`](crate::transaction::Limits::reserved_for_known)).
    pub fn known_sources(&self) -> usize {
        self.tx.known_sources()
    }

    /// Requests answered 503 because a transaction limit was reached.
    pub fn overloaded(&self) -> u64 {
        self.tx.overloaded
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tx.handle_timeout(now);
        self.drain_tx(now);
    }

    /// Bytes the UA sent could not be sent (an outbound TCP connection failed): a request's
    /// transaction fails now, as RFC 3261 §8.1.3.1 has a transport error count as a 503 (a
    /// dial ends with `error` at once rather than after timer B).
    pub fn handle_transport_error(&mut self, now: Instant, bytes: &[u8]) {
        self.tx.handle_transport_error(bytes);
        self.drain_tx(now);
    }

    /// Takes bytes that arrived from `peer` (a whole datagram, or one message framed from a
    /// stream).
    pub fn handle_datagram(&mut self, now: Instant, peer: Peer, bytes: &[u8]) {
        match Message::parse(bytes, false) {
            Ok((m, _)) => self.tx.handle_message(now, m, peer),
            Err(_) => self.malformed += 1,
        }
        self.drain_tx(now);
    }

    fn drain_tx(&mut self, now: Instant) {
        while let Some(e) = self.tx.poll_event() {
            match e {
                TxEvent::Request { key, msg, peer } => self.on_request(now, key, msg, peer),
                TxEvent::Response { key, msg } => self.on_response(now, key, msg),
                TxEvent::Stray { msg, .. } => self.on_stray(msg),
                TxEvent::Timeout { key } => self.on_tx_timeout(now, key),
            }
        }
    }

    fn respond(
        &mut self,
        now: Instant,
        key: &TxKey,
        req: &Message,
        status: u16,
        tag: Option<&str>,
    ) {
        let r = response_to(req, status, tag);
        let _ = self.tx.send_response(now, key, r);
    }

    fn start_media(&mut self, id: &CallId) {
        let Some(c) = self.calls.get(id) else { return };
        if c.media_started {
            return;
        }
        let Some(n) = c.negotiated else { return };
        let local = c.local_rtp;
        let signalling = c.dialog.peer.addr.ip();
        let config = self.stream_config(&n);
        if let Some(c) = self.calls.get_mut(id) {
            c.media_started = true;
        }
        // Without randomness the call has no media (it is not sent with a guessable SSRC).
        let Ok(ssrc) = self.random().map(|r| r as u32) else {
            return;
        };
        self.out.push_back(Output::MediaStart {
            call: id.clone(),
            local,
            remote: n.remote,
            config,
            ssrc,
            signalling,
        });
    }

    /// The driver could not set up the call's media (its RTP port could not be bound): the
    /// call ends rather than going on silent. An inbound call not answered yet gets 500; an
    /// outbound one not answered is cancelled; an answered one gets a BYE. The engine hears
    /// `Ended` with reason `error`.
    pub fn media_failed(&mut self, now: Instant, call: &CallId) {
        let Some(c) = self.calls.get(call) else {
            return;
        };
        let _ = match (c.inbound, c.phase) {
            (true, Phase::Early) => self.inbound_response(now, call, 500, &[], false, None),
            _ => self.hangup(now, call, &[]),
        };
        self.end(
            call,
            Some(EndReason::Error {
                platform_code: None,
            }),
            Vec::new(),
        );
        self.drain_tx(now);
    }

    /// Carries out an action of the engine.
    pub fn handle_action(&mut self, now: Instant, action: SignalAction) -> Result<(), Error> {
        let r = self.action(now, action);
        self.drain_tx(now);
        r
    }

    fn action(&mut self, now: Instant, action: SignalAction) -> Result<(), Error> {
        match action {
            SignalAction::Accept { call, headers } => {
                self.inbound_response(now, &call, 180, &headers, false, None)
            }
            SignalAction::EarlyMedia { call } => {
                self.inbound_response(now, &call, 183, &[], true, None)
            }
            SignalAction::Answer { call, headers } => {
                self.inbound_response(now, &call, 200, &headers, true, None)
            }
            SignalAction::Redirect { call, to, headers } => {
                self.inbound_response(now, &call, 302, &headers, false, Some(&to))
            }
            SignalAction::Reject {
                call,
                cause,
                headers,
            } => {
                let status = match cause {
                    RejectCause::Decline => 603,
                    RejectCause::Busy => 486,
                    RejectCause::Error => 500,
                    RejectCause::ServiceUnavailable => 503,
                };
                self.inbound_response(now, &call, status, &headers, false, None)
            }
            SignalAction::Hangup { call, headers } => self.hangup(now, &call, &headers),
            SignalAction::Cancel { call } => self.cancel(now, &call),
            SignalAction::Dial {
                call,
                to,
                from,
                headers,
            } => self.dial(now, call, &to, from.as_deref(), &headers),
            SignalAction::SendMessage { call, body } => {
                let m = self.in_dialog(&call, Method::MESSAGE)?;
                let mut m = m;
                m.set_body("text/plain", body.into_bytes());
                self.send_client(now, &call, m, Purpose::Other)
            }
        }
    }

    fn in_dialog(&mut self, id: &CallId, method: Method) -> Result<Message, Error> {
        let branch = self.branch()?;
        let via = self.via();
        let contact = self.contact();
        let c = self.calls.get_mut(id).ok_or(Error::UnknownCall)?;
        c.dialog.request(method, None, &via, &branch, &contact)
    }

    fn send_client(
        &mut self,
        now: Instant,
        id: &CallId,
        m: Message,
        purpose: Purpose,
    ) -> Result<(), Error> {
        let peer = self.calls.get(id).ok_or(Error::UnknownCall)?.dialog.peer;
        let key = self.tx.send_request(now, m, peer)?;
        self.client.insert(key, (id.clone(), purpose));
        Ok(())
    }

    fn hangup(&mut self, now: Instant, id: &CallId, headers: &[Header]) -> Result<(), Error> {
        let c = self.calls.get(id).ok_or(Error::UnknownCall)?;
        match (c.inbound, c.phase) {
            (true, Phase::Early) => self.inbound_response(now, id, 603, headers, false, None),
            (false, Phase::Early) => self.cancel(now, id),
            _ => {
                let mut bye = self.in_dialog(id, Method::BYE)?;
                add_headers(&mut bye, headers)?;
                let r = self.send_client(now, id, bye, Purpose::Other);
                self.end(id, None, Vec::new());
                r
            }
        }
    }
}

/// Fuzzing entry point: `data` as datagrams (split at NUL bytes) from one peer to a fresh
/// user agent, which answers every call it is offered, with timers run in between. Never
/// panics.
pub fn fuzz_bytes(data: &[u8]) {
    let local: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 5060));
    let mut ua = UserAgent::new(Config::new(local));
    let peer = Peer {
        addr: SocketAddr::from(([127, 0, 0, 1], 5070)),
        transport: Transport::Udp,
    };
    let mut now = Instant::now();
    for d in data.split(|b| *b == 0) {
        ua.handle_datagram(now, peer, d);
        while let Some(o) = ua.poll_output() {
            if let Output::Signal {
                call,
                event: SignalEvent::Incoming { .. },
            } = o
            {
                let _ = ua.handle_action(
                    now,
                    SignalAction::Answer {
                        call: call.clone(),
                        headers: vec![],
                    },
                );
                let _ = ua.handle_action(
                    now,
                    SignalAction::SendMessage {
                        call,
                        body: "hi".into(),
                    },
                );
            }
        }
        now += std::time::Duration::from_millis(700);
        ua.handle_timeout(now);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    fn invite() -> Message {
        Message::request(Method::INVITE, "sip:bob@127.0.0.1")
            .expect("a request")
            .with("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKok")
            .with("Call-ID", "c1")
    }

    /// The header lines of the message as printed.
    fn lines(m: &Message) -> Vec<String> {
        String::from_utf8(m.to_bytes())
            .expect("utf-8")
            .split("\r\n")
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn add_headers_never_writes_an_injected_or_reserved_line() {
        for bad in [
            h("X-Skill", "a\r\nVia: SIP/2.0/UDP evil"),
            h("X-Skill", "a\nVia: SIP/2.0/UDP evil"),
            h("X-Skill", "a\rVia: SIP/2.0/UDP evil"),
            h("X-Skill: a\r\nVia", "SIP/2.0/UDP evil"),
            h("Via", "SIP/2.0/UDP evil"),
            h("v", "SIP/2.0/UDP evil"),
            h("authorization", "Digest evil"),
        ] {
            let mut m = invite();
            let before = m.to_bytes();
            let r = add_headers(&mut m, &[h("X-Ok", "1"), bad.clone()]);
            assert!(matches!(r, Err(Error::Header(_))), "{bad:?}: {r:?}");
            assert_eq!(m.to_bytes(), before, "{bad:?}: nothing written");
            assert!(
                !lines(&m).iter().any(|l| l.contains("evil")),
                "{bad:?}: {:?}",
                lines(&m)
            );
        }
    }

    #[test]
    fn add_headers_writes_clean_headers_in_order() {
        let mut m = invite();
        add_headers(&mut m, &[h("X-Skill", "agent\tlevel 2"), h("x-skill", "b")]).expect("ok");
        let l = lines(&m);
        let i = l.iter().position(|l| l == "X-Skill: agent\tlevel 2");
        let j = l.iter().position(|l| l == "x-skill: b");
        assert!(matches!((i, j), (Some(i), Some(j)) if i < j), "{l:?}");
    }
}
