//! Bounds on server transaction state (issue 12 §13): a new request beyond them gets a
//! stateless 503 with `Retry-After` and leaves nothing behind. Tables shrink when they
//! empty, so a flood that is over does not keep its memory.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::Duration;

use crate::message::Message;

use super::response_to;

/// How many server transactions may be alive at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// In all (at least 1). 20 000 by default.
    pub max_transactions: usize,
    /// From one source IP address (at least 1). 2 000 by default.
    pub max_transactions_per_source: usize,
    /// The `Retry-After` of the 503 a request beyond either gets (whole seconds, at
    /// least 1). 5 s by default.
    pub retry_after: Duration,
    /// How many of those 503s go out per second, at most (at least 1); a request beyond is
    /// dropped unanswered (a UDP peer retransmits, and a flood from spoofed addresses is not
    /// reflected at whoever they belong to). 1 000 by default.
    pub max_refusals_per_second: u32,
    /// How many of `max_transactions` only sources known to receive what the node sends
    /// them may take (a source that answered a request of the node's, or acknowledged its
    /// 2xx quoting that 2xx's To tag, within [`KNOWN_SOURCE_LIFETIME`](super::KNOWN_SOURCE_LIFETIME)): a flood from strangers, however many
    /// addresses it comes from, fills the table up to this reserve, and a trunk or caller
    /// the node has talked with still gets in. Strangers always have at least one place.
    /// `None` (the default): a tenth of `max_transactions`.
    pub reserved_for_known: Option<usize>,
}

impl Limits {
    /// [`Limits::reserved_for_known`], or its default: a tenth of `max_transactions`.
    pub fn reserved(&self) -> usize {
        self.reserved_for_known
            .unwrap_or(self.max_transactions / 10)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_transactions: 20_000,
            max_transactions_per_source: 2_000,
            retry_after: Duration::from_secs(5),
            max_refusals_per_second: 1_000,
            reserved_for_known: None,
        }
    }
}

/// Live server transactions, in all and by source IP address.
#[derive(Debug, Default)]
pub(super) struct ServerCounts {
    total: usize,
    per_source: HashMap<IpAddr, usize>,
}

impl ServerCounts {
    /// Whether one more from `ip` stays within `limits`; a `known` source may use the
    /// reserve.
    pub(super) fn admits(&self, limits: &Limits, ip: IpAddr, known: bool) -> bool {
        let total = limits.max_transactions.max(1);
        let cap = if known {
            total
        } else {
            total.saturating_sub(limits.reserved()).max(1)
        };
        self.total < cap
            && self.per_source.get(&ip).copied().unwrap_or(0)
                < limits.max_transactions_per_source.max(1)
    }

    pub(super) fn add(&mut self, ip: IpAddr) {
        self.total += 1;
        *self.per_source.entry(ip).or_default() += 1;
    }

    pub(super) fn remove(&mut self, ip: IpAddr) {
        self.total = self.total.saturating_sub(1);
        if let Some(n) = self.per_source.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(&ip);
                shrink(&mut self.per_source);
            }
        }
    }

    /// Live server transactions.
    pub(super) fn total(&self) -> usize {
        self.total
    }
}

/// Capacity a table keeps however empty it gets.
const MIN_CAPACITY: usize = 64;

/// Gives back most of `map`'s memory when it holds under a quarter of its capacity
/// (shrunk to twice what it holds: amortised, a table is not rebuilt at every removal).
pub(crate) fn shrink<K: Eq + Hash, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > MIN_CAPACITY && map.len() * 4 < map.capacity() {
        map.shrink_to((map.len() * 2).max(MIN_CAPACITY));
    }
}

/// The stateless 503 for `req` when the node is over a limit: a `Retry-After` and a To tag
/// derived from the request (the same for its retransmissions, RFC 3261 §8.2.7), nothing
/// remembered.
pub(super) fn overload_response(req: &Message, retry_after: Duration) -> Message {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    req.branch().unwrap_or_default().hash(&mut h);
    req.call_id().unwrap_or_default().hash(&mut h);
    let tag = format!("{:016x}", h.finish());
    let mut r = response_to(req, 503, Some(&tag));
    r.push("Retry-After", &retry_after.as_secs().max(1).to_string());
    r
}
