//! IQs the gateway sent and waits for: commands forwarded to nodes under fresh ids, dials,
//! pings. Bounded ([`crate::Config::max_pending_iqs`]); each has a deadline in the gateway's
//! timer table.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use jid::Jid;
use minidom::Element;

/// What a pending IQ is for.
#[derive(Debug, Clone)]
pub(crate) enum Purpose {
    /// A client's command forwarded to a node: the answer goes back to the client.
    Command {
        /// The call or mixer id addressed, when one was.
        entity: Option<String>,
    },
    /// A client's dial, tried on `tried` so far (the last one is the current try).
    Dial {
        /// The `<dial/>` as the client sent it (before rewriting).
        request: Element,
        /// The nodes tried, in order.
        tried: Vec<String>,
    },
    /// A XEP-0199 ping to a node.
    Ping,
    /// A request of the gateway's own (an inbound call's reject): the answer is dropped.
    Own,
}

/// One IQ sent to a node and not answered yet.
#[derive(Debug, Clone)]
pub(crate) struct PendingIq {
    /// The node it was sent to: only that node may answer.
    pub node: String,
    /// The client that asked (for commands and dials).
    pub client: Option<Jid>,
    /// The client's own id for the request.
    pub client_id: String,
    /// The address the client sent the request to: the answer comes from it.
    pub reply_from: Option<Jid>,
    /// What it is for.
    pub purpose: Purpose,
    /// When it times out.
    pub deadline: Instant,
}

impl PendingIq {
    /// A request of the gateway's own (no client waits for it); node and deadline are set
    /// when it is sent.
    pub fn own(purpose: Purpose, now: Instant) -> Self {
        PendingIq {
            node: String::new(),
            client: None,
            client_id: String::new(),
            reply_from: None,
            purpose,
            deadline: now,
        }
    }

    /// A client's request, sent to `reply_from` under `client_id`.
    pub fn for_client(
        client: Jid,
        client_id: &str,
        reply_from: Jid,
        purpose: Purpose,
        now: Instant,
    ) -> Self {
        PendingIq {
            client: Some(client),
            client_id: client_id.to_owned(),
            reply_from: Some(reply_from),
            ..PendingIq::own(purpose, now)
        }
    }
}

/// The most dials remembered after they timed out at a node (oldest forgotten first).
pub(crate) const MAX_ABANDONED: usize = 1024;

/// The pending IQs, by the id used on the inner leg.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    by_id: HashMap<String, PendingIq>,
    next: u64,
    /// Dials that timed out (and were retried elsewhere or failed), by inner id with their
    /// node: if the node places the call after all, the gateway hangs it up.
    abandoned: VecDeque<(String, String)>,
}

impl Pending {
    /// A fresh id for the inner leg: never a client's, never reused.
    pub fn fresh_id(&mut self) -> String {
        self.next += 1;
        format!("gw-{:x}", self.next)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn insert(&mut self, id: String, iq: PendingIq) {
        self.by_id.insert(id, iq);
    }

    pub fn take(&mut self, id: &str) -> Option<PendingIq> {
        self.by_id.remove(id)
    }

    pub fn get(&self, id: &str) -> Option<&PendingIq> {
        self.by_id.get(id)
    }

    /// Remembers a dial that timed out at `node` under inner id `id`.
    pub fn abandon(&mut self, id: String, node: String) {
        if self.abandoned.len() >= MAX_ABANDONED {
            self.abandoned.pop_front();
        }
        self.abandoned.push_back((id, node));
    }

    /// Whether `id` is a dial that timed out at `node` (forgotten once asked).
    pub fn take_abandoned(&mut self, id: &str, node: &str) -> bool {
        match self
            .abandoned
            .iter()
            .position(|(i, n)| i == id && n == node)
        {
            Some(at) => {
                self.abandoned.remove(at);
                true
            }
            None => false,
        }
    }

    /// How many dials are in flight for clients `of` says yes to.
    pub fn dials_of(&self, of: &dyn Fn(&Jid) -> bool) -> usize {
        self.by_id
            .values()
            .filter(|p| matches!(p.purpose, Purpose::Dial { .. }))
            .filter(|p| p.client.as_ref().is_some_and(of))
            .count()
    }

    /// How many dials are in flight at `node`.
    pub fn dials_at(&self, node: &str) -> usize {
        self.by_id
            .values()
            .filter(|p| p.node == node && matches!(p.purpose, Purpose::Dial { .. }))
            .count()
    }

    /// The ids of every IQ pending at `node`.
    pub fn at_node(&self, node: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .by_id
            .iter()
            .filter(|(_, p)| p.node == node)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }
}
