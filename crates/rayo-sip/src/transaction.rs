//! RFC 3261 §17 client and server transactions (with the RFC 6026 Accepted state), sans-IO:
//! messages and `now` in, datagrams to send, events for the transaction user and the next
//! timer out. Every transaction's timers (A, B, D, E, F, G, H, I, J, K, L, M) are in one table.
//!
//! Server transactions are bounded ([`Limits`], in all and per source IP address): a new
//! request beyond gets a stateless 503 with `Retry-After`. Every server transaction ends by
//! a timer, answered or not, and the tables shrink when they empty.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ezk_sip_types::Method;

use crate::message::Message;
use crate::Error;

mod known;
mod limits;

use known::KnownSources;
pub use known::{CAPACITY as KNOWN_SOURCES, LIFETIME as KNOWN_SOURCE_LIFETIME};
pub(crate) use limits::shrink;
pub use limits::Limits;
use limits::{overload_response, ServerCounts};

/// How often, at most, overload is logged.
const OVERLOAD_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// A transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// UDP: unreliable, the transactions retransmit.
    Udp,
    /// TCP: reliable.
    Tcp,
}

impl Transport {
    /// The name in a Via header.
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

/// Where a message goes or came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    /// The address.
    pub addr: SocketAddr,
    /// The transport.
    pub transport: Transport,
}

/// The RFC 3261 timer values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// Round-trip estimate (500 ms).
    pub t1: Duration,
    /// Largest retransmission interval of non-INVITE requests and INVITE responses (4 s).
    pub t2: Duration,
    /// Longest a message stays in the network (5 s).
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// A transaction's identity: the branch of the top Via and the method (ACK matching INVITE).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxKey {
    /// The branch.
    pub branch: String,
    /// The method (of the request that created the transaction).
    pub method: String,
    /// Server (true) or client transaction.
    pub server: bool,
    /// The sent-by of the top Via (RFC 3261 §17.2.3: a request reusing another peer's
    /// branch does not join that peer's transaction).
    pub sent_by: String,
}

/// Something for the transaction user.
#[derive(Debug, Clone)]
pub enum TxEvent {
    /// A new request (a server transaction was created, except for ACK which has none).
    Request {
        /// The server transaction.
        key: TxKey,
        /// The request.
        msg: Message,
        /// Where it came from.
        peer: Peer,
    },
    /// A response of a client transaction (each 2xx of an INVITE, for the TU to ACK).
    Response {
        /// The client transaction.
        key: TxKey,
        /// The response.
        msg: Message,
    },
    /// A response that matches no transaction (a 2xx retransmitted after it ended).
    Stray {
        /// The response.
        msg: Message,
        /// Where it came from.
        peer: Peer,
    },
    /// A client transaction got no final response (timer B or F), or a server transaction
    /// got no ACK for its final response (timer H, or L for a 2xx).
    Timeout {
        /// The transaction.
        key: TxKey,
    },
}

/// Bytes to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where.
    pub peer: Peer,
    /// The datagram or stream bytes.
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    A,
    B,
    D,
    E,
    F,
    G,
    H,
    I,
    J,
    K,
    L,
    M,
    /// A server non-INVITE transaction that got no final response within 64·T1: its
    /// client has given up (its timer F), the state goes.
    Unanswered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Client INVITE: Calling; client non-INVITE and server non-INVITE: Trying.
    Initial,
    Proceeding,
    Completed,
    Accepted,
    Confirmed,
}

#[derive(Debug)]
struct Tx {
    invite: bool,
    state: State,
    peer: Peer,
    /// The request (client) or the last response (server), as sent.
    bytes: Vec<u8>,
    /// Client INVITE: the request, to build the ACK of a non-2xx final response (boxed: the
    /// table holds many server transactions, which have none).
    request: Option<Box<Message>>,
    /// Client: the ACK sent for a non-2xx final response.
    ack: Option<Vec<u8>>,
    interval: Duration,
    /// Server INVITE: Call-ID and CSeq number, to match the ACK of a 2xx.
    dialog_match: Option<(String, u32)>,
    /// Server INVITE that starts a dialog (its To has no tag): its 2xx carries a tag the
    /// node draws at random now. A re-INVITE's 2xx carries the dialog's tag, which the
    /// peer knows already, so its ACK proves nothing.
    initial: bool,
    /// Server INVITE starting a dialog, answered 2xx: the To tag of that 2xx, which its ACK
    /// must quote, from the INVITE's source, for that source to become known.
    local_tag: Option<Box<str>>,
    acked: bool,
    /// Server non-INVITE: where its [`Timer::Unanswered`] is in the table, taken out when
    /// the final response is sent (timer J then stands for it).
    guard: Option<(Instant, u64)>,
    /// Where its pending timers are in the table, taken out with it: a transaction that
    /// ends early (timer K after a response) leaves no entry behind to wait for its
    /// timer F.
    timers: Vec<(Instant, u64)>,
}

/// Every transaction of an endpoint.
#[derive(Debug, Default)]
pub struct Transactions {
    timers_cfg: Timers,
    txs: HashMap<TxKey, Tx>,
    timers: BTreeMap<(Instant, u64), (TxKey, Timer)>,
    timer_seq: u64,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TxEvent>,
    /// Server transactions by the (Call-ID, CSeq number) of their request: an ACK of a 2xx
    /// finds its INVITE with one lookup, however many transactions are alive.
    by_dialog: HashMap<(String, u32), Vec<TxKey>>,
    /// Messages dropped because they could not be matched or were malformed.
    pub dropped: u64,
    limits: Limits,
    servers: ServerCounts,
    known: KnownSources,
    /// Requests answered 503 because a limit was reached.
    pub overloaded: u64,
    /// Requests over a limit dropped unanswered: more 503s than
    /// [`Limits::max_refusals_per_second`] would have gone out.
    pub refusals_dropped: u64,
    next_overload_log: Option<Instant>,
    /// The second in which 503s are being counted, and how many went out in it.
    refusal_window: Option<(Instant, u32)>,
}

/// A response to `req` with its Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6), and
/// `to_tag` added to To when it has none.
pub fn response_to(req: &Message, code: u16, to_tag: Option<&str>) -> Message {
    let mut r = Message::response(code);
    for (k, v) in &req.ordered {
        let n = k.to_ascii_lowercase();
        match n.as_str() {
            "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => r.push(k, v),
            "to" | "t" => match to_tag {
                Some(t) if crate::message::header_param(v, "tag").is_none() && code != 100 => {
                    r.push(k, &format!("{v};tag={t}"))
                }
                _ => r.push(k, v),
            },
            _ => {}
        }
    }
    r
}

impl Transactions {
    /// A layer with these timer values.
    pub fn new(timers: Timers) -> Self {
        Transactions {
            timers_cfg: timers,
            ..Default::default()
        }
    }

    /// The layer with these bounds on server transactions.
    pub fn with_limits(self, limits: Limits) -> Self {
        Transactions { limits, ..self }
    }

    /// Forgets a transaction (and its place in the dialog index).
    fn remove(&mut self, key: &TxKey) {
        let Some(tx) = self.txs.remove(key) else {
            return;
        };
        for h in &tx.timers {
            self.timers.remove(h);
        }
        if key.server {
            self.servers.remove(tx.peer.addr.ip());
        }
        if let Some(dm) = tx.dialog_match {
            if let Some(keys) = self.by_dialog.get_mut(&dm) {
                keys.retain(|k| k != key);
                if keys.is_empty() {
                    self.by_dialog.remove(&dm);
                    shrink(&mut self.by_dialog);
                }
            }
        }
        shrink(&mut self.txs);
    }

    /// Answers `msg` 503 without creating state: the node is over a limit. Beyond
    /// [`Limits::max_refusals_per_second`] 503s in a second, the request is dropped instead.
    fn refuse(&mut self, now: Instant, msg: &Message, peer: Peer) {
        let window = match self.refusal_window {
            Some((start, n)) if now < start + Duration::from_secs(1) => (start, n),
            _ => (now, 0),
        };
        if window.1 >= self.limits.max_refusals_per_second.max(1) {
            self.refusal_window = Some(window);
            self.refusals_dropped += 1;
            return;
        }
        self.refusal_window = Some((window.0, window.1 + 1));
        self.overloaded += 1;
        if self.next_overload_log.is_none_or(|t| now >= t) {
            self.next_overload_log = Some(now + OVERLOAD_LOG_INTERVAL);
            tracing::warn!(
                source = %peer.addr,
                live = self.servers.total(),
                refused = self.overloaded,
                dropped = self.refusals_dropped,
                "SIP transaction limit reached: new requests answered 503"
            );
        }
        let r = overload_response(msg, self.limits.retry_after);
        self.send(peer, r.to_bytes());
    }

    /// Sets timer `t` of transaction `key` (noted in the transaction when it is in the
    /// table already; a new one is given the handles when it is put there).
    fn set(&mut self, at: Instant, key: &TxKey, t: Timer) -> (Instant, u64) {
        self.timer_seq += 1;
        let handle = (at, self.timer_seq);
        self.timers.insert(handle, (key.clone(), t));
        if let Some(tx) = self.txs.get_mut(key) {
            tx.timers.push(handle);
        }
        handle
    }

    fn send(&mut self, peer: Peer, bytes: Vec<u8>) {
        self.transmits.push_back(Transmit { peer, bytes });
    }

    /// Sends a message outside any transaction (the ACK of a 2xx, a stateless response).
    pub fn send_stateless(&mut self, peer: Peer, msg: &Message) {
        self.send(peer, msg.to_bytes());
    }

    /// Starts a client transaction sending `msg` (whose top Via carries a fresh branch).
    pub fn send_request(&mut self, now: Instant, msg: Message, peer: Peer) -> Result<TxKey, Error> {
        let method = msg
            .method()
            .ok_or(Error::Malformed("not a request"))?
            .clone();
        let key = TxKey {
            branch: msg.branch()?,
            method: method.to_string(),
            server: false,
            sent_by: msg.sent_by(),
        };
        let invite = method == Method::INVITE;
        // A branch is fresh for each request; a transaction already under this key (none
        // is) would otherwise keep timers that fire into the new one.
        self.remove(&key);
        let bytes = msg.to_bytes();
        let t1 = self.timers_cfg.t1;
        self.send(peer, bytes.clone());
        let mut timers = Vec::with_capacity(2);
        if peer.transport == Transport::Udp {
            timers.push(self.set(now + t1, &key, if invite { Timer::A } else { Timer::E }));
        }
        timers.push(self.set(
            now + 64 * t1,
            &key,
            if invite { Timer::B } else { Timer::F },
        ));
        self.txs.insert(
            key.clone(),
            Tx {
                invite,
                state: State::Initial,
                peer,
                bytes,
                request: invite.then(|| Box::new(msg)),
                ack: None,
                interval: t1,
                dialog_match: None,
                initial: false,
                local_tag: None,
                acked: false,
                guard: None,
                timers,
            },
        );
        Ok(key)
    }

    /// Sends a response in server transaction `key`.
    pub fn send_response(&mut self, now: Instant, key: &TxKey, msg: Message) -> Result<(), Error> {
        let code = msg.status().ok_or(Error::Malformed("not a response"))?;
        let t = self.timers_cfg;
        let Some(tx) = self.txs.get_mut(key) else {
            return Err(Error::NoTransaction);
        };
        if !matches!(tx.state, State::Initial | State::Proceeding) {
            return Err(Error::NoTransaction);
        }
        let bytes = msg.to_bytes();
        tx.bytes = bytes.clone();
        let peer = tx.peer;
        let udp = peer.transport == Transport::Udp;
        let invite = tx.invite;
        tx.interval = t.t1;
        let next = match (invite, code) {
            (_, 100..=199) => {
                tx.state = State::Proceeding;
                None
            }
            (true, 200..=299) => {
                tx.state = State::Accepted;
                if tx.initial {
                    tx.local_tag = msg.to_tag().ok().flatten().map(Into::into);
                }
                Some(State::Accepted)
            }
            (true, _) => {
                tx.state = State::Completed;
                Some(State::Completed)
            }
            (false, _) => {
                tx.state = State::Completed;
                Some(State::Completed)
            }
        };
        if let Some(g) = next.and(tx.guard.take()) {
            tx.timers.retain(|h| *h != g);
            self.timers.remove(&g);
        }
        self.send(peer, bytes);
        match (invite, next) {
            (true, Some(s)) => {
                if udp {
                    self.set(now + t.t1, key, Timer::G);
                }
                self.set(
                    now + 64 * t.t1,
                    key,
                    if s == State::Accepted {
                        Timer::L
                    } else {
                        Timer::H
                    },
                );
            }
            (false, Some(_)) => {
                self.set(
                    now + if udp { 64 * t.t1 } else { Duration::ZERO },
                    key,
                    Timer::J,
                );
            }
            _ => {}
        }
        Ok(())
    }

    /// Takes a message that arrived from `peer` at `now`. Malformed or unmatched ones are
    /// dropped and counted.
    pub fn handle_message(&mut self, now: Instant, msg: Message, peer: Peer) {
        let branch = match msg.branch() {
            Ok(b) => b,
            Err(_) => {
                self.dropped += 1;
                return;
            }
        };
        if let Some(method) = msg.method().cloned() {
            self.handle_request(now, msg, method, branch, peer);
        } else {
            self.handle_response(now, msg, branch, peer);
        }
    }

    fn handle_request(
        &mut self,
        now: Instant,
        msg: Message,
        method: Method,
        branch: String,
        peer: Peer,
    ) {
        let t = self.timers_cfg;
        if method == Method::ACK {
            let key = TxKey {
                branch: branch.clone(),
                method: "INVITE".into(),
                server: true,
                sent_by: msg.sent_by(),
            };
            if let Some(tx) = self.txs.get_mut(&key) {
                if tx.state == State::Completed {
                    tx.state = State::Confirmed;
                    let d = if tx.peer.transport == Transport::Udp {
                        t.t4
                    } else {
                        Duration::ZERO
                    };
                    self.set(now + d, &key, Timer::I);
                    return; // ACK of a non-2xx: absorbed.
                }
                if tx.state != State::Accepted {
                    return;
                }
            }
            // ACK of a 2xx: stops the 2xx retransmissions, and goes to the TU.
            if let (Ok(cid), Ok((n, _))) = (msg.call_id(), msg.cseq()) {
                let tag = msg.to_tag().ok().flatten();
                let mut proved = false;
                for k in self.by_dialog.get(&(cid, n)).into_iter().flatten() {
                    if let Some(tx) = self.txs.get_mut(k) {
                        if tx.state == State::Accepted {
                            tx.acked = true;
                            proved |= tx.peer.addr.ip() == peer.addr.ip()
                                && tx.local_tag.is_some()
                                && tx.local_tag.as_deref() == tag.as_deref();
                        }
                    }
                }
                if proved {
                    self.known.prove(now, peer.addr.ip());
                }
            }
            let key = TxKey {
                sent_by: msg.sent_by(),
                branch,
                method: "ACK".into(),
                server: true,
            };
            self.events.push_back(TxEvent::Request { key, msg, peer });
            return;
        }
        let key = TxKey {
            sent_by: msg.sent_by(),
            branch,
            method: method.to_string(),
            server: true,
        };
        if let Some(tx) = self.txs.get(&key) {
            // A retransmission: answered with the last response, absorbed.
            if !tx.bytes.is_empty() {
                let (p, b) = (tx.peer, tx.bytes.clone());
                self.send(p, b);
            }
            return;
        }
        let invite = method == Method::INVITE;
        let initial = invite && matches!(msg.to_tag(), Ok(None));
        let dialog_match = match (msg.call_id(), msg.cseq()) {
            (Ok(c), Ok((n, _))) => Some((c, n)),
            _ => {
                self.dropped += 1;
                return;
            }
        };
        let ip = peer.addr.ip();
        if !self
            .servers
            .admits(&self.limits, ip, self.known.knows(now, ip))
        {
            self.refuse(now, &msg, peer);
            return;
        }
        self.servers.add(peer.addr.ip());
        // The TU answers at once; should it not, the state still goes.
        let guard = (!invite).then(|| self.set(now + 64 * t.t1, &key, Timer::Unanswered));
        if let (true, Some(dm)) = (invite, &dialog_match) {
            self.by_dialog
                .entry(dm.clone())
                .or_default()
                .push(key.clone());
        }
        let mut bytes = Vec::new();
        if invite {
            bytes = response_to(&msg, 100, None).to_bytes();
            self.send(peer, bytes.clone());
        }
        self.txs.insert(
            key.clone(),
            Tx {
                invite,
                state: if invite {
                    State::Proceeding
                } else {
                    State::Initial
                },
                peer,
                bytes,
                request: None,
                ack: None,
                interval: t.t1,
                // Only an INVITE's ACK is matched by dialog.
                dialog_match: dialog_match.filter(|_| invite),
                initial,
                local_tag: None,
                acked: false,
                guard,
                timers: guard.into_iter().collect(),
            },
        );
        self.events.push_back(TxEvent::Request { key, msg, peer });
    }

    fn handle_response(&mut self, now: Instant, msg: Message, branch: String, peer: Peer) {
        let t = self.timers_cfg;
        let (Some(code), Ok((_, method))) = (msg.status(), msg.cseq()) else {
            self.dropped += 1;
            return;
        };
        let key = TxKey {
            sent_by: msg.sent_by(),
            branch,
            method: method.to_string(),
            server: false,
        };
        let Some(tx) = self.txs.get_mut(&key) else {
            self.events.push_back(TxEvent::Stray { msg, peer });
            return;
        };
        if tx.peer.addr.ip() == peer.addr.ip() {
            // It quotes the branch drawn for this request: it receives what it is sent.
            self.known.prove(now, peer.addr.ip());
        }
        let udp = tx.peer.transport == Transport::Udp;
        match (tx.invite, tx.state, code) {
            (_, State::Initial | State::Proceeding, 100..=199) => {
                tx.state = State::Proceeding;
                if !tx.invite {
                    tx.interval = t.t2;
                }
                self.events.push_back(TxEvent::Response { key, msg });
            }
            (true, State::Initial | State::Proceeding, 200..=299) => {
                tx.state = State::Accepted;
                self.set(now + 64 * t.t1, &key, Timer::M);
                self.events.push_back(TxEvent::Response { key, msg });
            }
            (true, State::Accepted, 200..=299) => {
                self.events.push_back(TxEvent::Response { key, msg })
            }
            (true, State::Initial | State::Proceeding, _) => {
                tx.state = State::Completed;
                let ack = tx.request.as_ref().map(|r| ack_for(r, &msg).to_bytes());
                tx.ack = ack.clone();
                let p = tx.peer;
                if let Some(a) = ack {
                    self.send(p, a);
                }
                self.set(
                    now + if udp {
                        Duration::from_secs(32)
                    } else {
                        Duration::ZERO
                    },
                    &key,
                    Timer::D,
                );
                self.events.push_back(TxEvent::Response { key, msg });
            }
            (true, State::Completed, 300..) => {
                if let Some(a) = tx.ack.clone() {
                    let p = tx.peer;
                    self.send(p, a);
                }
            }
            (false, State::Initial | State::Proceeding, 200..) => {
                tx.state = State::Completed;
                self.set(
                    now + if udp { t.t4 } else { Duration::ZERO },
                    &key,
                    Timer::K,
                );
                self.events.push_back(TxEvent::Response { key, msg });
            }
            _ => {}
        }
    }

    /// When the next timer fires.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.keys().next().map(|(at, _)| *at)
    }

    /// `bytes`, sent for a client transaction, could not be sent (a TCP connection that
    /// could not be made): RFC 3261 §8.1.3.1 has the TU treat that as a 503, so the
    /// transaction ends now with a 503 made here ([`TxEvent::Response`]) instead of at timer
    /// B or F. Anything else (a response, an ACK, a transaction already answered) is ignored.
    pub fn handle_transport_error(&mut self, bytes: &[u8]) {
        let Ok((msg, _)) = Message::parse(bytes, false) else {
            return;
        };
        let (Some(method), Ok(branch)) = (msg.method(), msg.branch()) else {
            return;
        };
        let key = TxKey {
            branch,
            method: method.to_string(),
            server: false,
            sent_by: msg.sent_by(),
        };
        let waiting = self
            .txs
            .get(&key)
            .is_some_and(|tx| matches!(tx.state, State::Initial | State::Proceeding));
        if waiting {
            self.remove(&key);
            let msg = response_to(&msg, 503, None);
            self.events.push_back(TxEvent::Response { key, msg });
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let t = self.timers_cfg;
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (handle, (key, timer)) = entry.remove_entry();
            let Some(tx) = self.txs.get_mut(&key) else {
                continue;
            };
            tx.timers.retain(|h| *h != handle);
            match (timer, tx.state) {
                (Timer::A, State::Initial) => {
                    tx.interval *= 2;
                    let (p, b, i) = (tx.peer, tx.bytes.clone(), tx.interval);
                    self.send(p, b);
                    self.set(now + i, &key, Timer::A);
                }
                (Timer::E, State::Initial | State::Proceeding) => {
                    tx.interval = if tx.state == State::Proceeding {
                        t.t2
                    } else {
                        (tx.interval * 2).min(t.t2)
                    };
                    let (p, b, i) = (tx.peer, tx.bytes.clone(), tx.interval);
                    self.send(p, b);
                    self.set(now + i, &key, Timer::E);
                }
                (Timer::G, State::Completed | State::Accepted) if !tx.acked => {
                    tx.interval = (tx.interval * 2).min(t.t2);
                    let (p, b, i) = (tx.peer, tx.bytes.clone(), tx.interval);
                    self.send(p, b);
                    self.set(now + i, &key, Timer::G);
                }
                (Timer::B, State::Initial)
                | (Timer::F, State::Initial | State::Proceeding)
                | (Timer::H, State::Completed) => {
                    self.remove(&key);
                    self.events.push_back(TxEvent::Timeout { key });
                }
                (Timer::L, State::Accepted) => {
                    let acked = tx.acked;
                    self.remove(&key);
                    if !acked {
                        self.events.push_back(TxEvent::Timeout { key });
                    }
                }
                (Timer::Unanswered, State::Initial | State::Proceeding) => self.remove(&key),
                (Timer::D, State::Completed)
                | (Timer::K, State::Completed)
                | (Timer::J, State::Completed)
                | (Timer::I, State::Confirmed)
                | (Timer::M, State::Accepted) => {
                    self.remove(&key);
                }
                _ => {}
            }
        }
    }

    /// The next bytes to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the transaction user.
    pub fn poll_event(&mut self) -> Option<TxEvent> {
        self.events.pop_front()
    }

    /// Live transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Source addresses remembered as known to receive what the node sends them (at most
    /// [`KNOWN_SOURCES`]; they may use [`Limits::reserved_for_known`]).
    pub fn known_sources(&self) -> usize {
        self.known.len()
    }

    /// Live server transactions (what [`Limits`] bounds).
    pub fn server_len(&self) -> usize {
        self.servers.total()
    }

    /// How many transactions the table has room for without growing (it shrinks when it
    /// empties).
    pub fn capacity(&self) -> usize {
        self.txs.capacity()
    }
}

/// The ACK of a non-2xx final response (RFC 3261 §17.1.1.3): same Request-URI, Call-ID,
/// From, CSeq number and top Via as the INVITE, To of the response.
pub fn ack_for(invite: &Message, resp: &Message) -> Message {
    let mut ack = Message {
        line: invite.line.clone(),
        headers: Default::default(),
        ordered: Vec::new(),
        body: Vec::new(),
    };
    if let ezk_sip_types::msg::MessageLine::Request(l) = &mut ack.line {
        l.method = Method::ACK;
    }
    let mut via_done = false;
    for (k, v) in &invite.ordered {
        match k.to_ascii_lowercase().as_str() {
            "via" | "v" if !via_done => {
                via_done = true;
                ack.push(k, v.split(',').next().unwrap_or(v).trim());
            }
            "from" | "f" | "call-id" | "i" | "route" | "max-forwards" => ack.push(k, v),
            "cseq" => {
                let n = v.split_whitespace().next().unwrap_or("1");
                ack.push(k, &format!("{n} ACK"));
            }
            _ => {}
        }
    }
    if let Some(to) = resp.header("To") {
        ack.push("To", to);
    }
    ack
}

#[cfg(test)]
mod tests;
