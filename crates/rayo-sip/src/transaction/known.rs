//! Sources known to receive what the node sends them (issue 12 §13): a flood from many or
//! spoofed addresses may fill the transaction table up to its reserve, and a peer that has
//! proved it is real still gets in.
//!
//! A source is *known* once it has shown that it receives the node's messages at the
//! address it sends from, which a spoofed source cannot do:
//! - it answered a request the node sent it (the response carries the branch the node
//!   drew from the OS RNG), or
//! - it acknowledged a 2xx the node sent it, quoting the To tag of that 2xx (also drawn
//!   at random).
//!
//! The table is bounded ([`CAPACITY`]; when it is full the source proved longest ago makes
//! room) and a proof lasts [`LIFETIME`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How many known sources are remembered at most.
pub const CAPACITY: usize = 4096;

/// How long a proof lasts: a source that proves nothing for this long is a stranger again.
pub const LIFETIME: Duration = Duration::from_secs(3600);

/// Source addresses and when each last proved it receives what it is sent.
#[derive(Debug, Default)]
pub(super) struct KnownSources {
    proved: HashMap<IpAddr, Instant>,
}

impl KnownSources {
    /// `ip` has just proved it receives what the node sends it.
    pub(super) fn prove(&mut self, now: Instant, ip: IpAddr) {
        if let Some(at) = self.proved.get_mut(&ip) {
            *at = now;
            return;
        }
        if self.proved.len() >= CAPACITY {
            // Rare (a new source, and the table full): a scan of a bounded table.
            let expired: Vec<IpAddr> = self
                .proved
                .iter()
                .filter(|(_, at)| now.saturating_duration_since(**at) >= LIFETIME)
                .map(|(ip, _)| *ip)
                .collect();
            for ip in &expired {
                self.proved.remove(ip);
            }
            if self.proved.len() >= CAPACITY {
                let oldest = self
                    .proved
                    .iter()
                    .min_by_key(|(_, at)| **at)
                    .map(|(ip, _)| *ip);
                if let Some(ip) = oldest {
                    self.proved.remove(&ip);
                }
            }
        }
        self.proved.insert(ip, now);
    }

    /// Whether `ip` proved itself within [`LIFETIME`] of `now`.
    pub(super) fn knows(&self, now: Instant, ip: IpAddr) -> bool {
        self.proved
            .get(&ip)
            .is_some_and(|at| now.saturating_duration_since(*at) < LIFETIME)
    }

    /// How many sources are remembered.
    pub(super) fn len(&self) -> usize {
        self.proved.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(i: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 | i))
    }

    #[test]
    fn a_proof_lasts_its_lifetime() {
        let t0 = Instant::now();
        let mut k = KnownSources::default();
        assert!(!k.knows(t0, ip(1)));
        k.prove(t0, ip(1));
        assert!(k.knows(t0 + LIFETIME - Duration::from_secs(1), ip(1)));
        assert!(!k.knows(t0 + LIFETIME, ip(1)));
        // Proving again renews it.
        k.prove(t0 + LIFETIME, ip(1));
        assert!(k.knows(t0 + LIFETIME + Duration::from_secs(10), ip(1)));
    }

    #[test]
    fn the_table_is_bounded_and_the_oldest_proof_makes_room() {
        let t0 = Instant::now();
        let mut k = KnownSources::default();
        for i in 0..CAPACITY as u32 {
            k.prove(t0 + Duration::from_millis(u64::from(i)), ip(i));
        }
        // Source 0 renews its proof: source 1 is now the oldest.
        let later = t0 + Duration::from_secs(10);
        k.prove(later, ip(0));
        k.prove(later, ip(CAPACITY as u32));
        assert_eq!(k.len(), CAPACITY);
        assert!(k.knows(later, ip(0)));
        assert!(!k.knows(later, ip(1)), "the oldest proof made room");
        assert!(k.knows(later, ip(2)));
        assert!(k.knows(later, ip(CAPACITY as u32)));
        // Past their lifetime, all but the newest go at the next new source.
        let much_later = t0 + LIFETIME + Duration::from_secs(5);
        k.prove(much_later, ip(CAPACITY as u32 + 1));
        assert_eq!(
            k.len(),
            3,
            "source 0, the one proved at 10 s, and the new one"
        );
    }
}
