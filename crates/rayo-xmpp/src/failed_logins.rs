//! Failed logins per source address, sans-IO: each address has a bucket of failures that
//! refills at a fixed rate. While an address's bucket is empty its SASL attempts are refused
//! with `<temporary-auth-failure/>` without being checked (RFC 6120 §6.5.12), so a guesser
//! tries passwords no faster than the rate, whatever number of connections it opens, and a
//! client at another address is not affected. IPv6 addresses count by their /64 (what one
//! host is usually given).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// The most addresses tracked at once. When the table is full, addresses whose bucket is full
/// again are forgotten, and if that frees less than an eighth of the table, the addresses
/// that failed least recently too, down to seven eighths: a full table costs one sweep per
/// eighth of it, not one per new address.
pub const MAX_SOURCES: usize = 65_536;

/// What an address counts as: itself for IPv4, its /64 for IPv6.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The failed logins of every source address.
#[derive(Debug)]
pub struct FailedLogins {
    /// Failures allowed per minute (and in a burst); 0: no limit.
    per_minute: u32,
    by_source: HashMap<IpAddr, Bucket>,
}

impl FailedLogins {
    /// At most `per_minute` failed logins a minute from one address, in bursts of as many
    /// (0: no limit).
    pub fn new(per_minute: u32) -> Self {
        FailedLogins {
            per_minute,
            by_source: HashMap::new(),
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.per_minute)
    }

    /// The bucket of `source` refilled up to `now` (`None`: not tracked, so full).
    fn refilled(&mut self, source: IpAddr, now: Instant) -> Option<&mut Bucket> {
        let (cap, rate) = (self.capacity(), self.capacity() / 60.0);
        let b = self.by_source.get_mut(&key(source))?;
        let dt = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + dt * rate).min(cap);
        b.at = now;
        Some(b)
    }

    /// Whether `source` may try to log in at `now`.
    pub fn allows(&mut self, source: IpAddr, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        self.refilled(source, now).is_none_or(|b| b.tokens >= 1.0)
    }

    /// A login from `source` failed at `now`; `true` when that used up what the address is
    /// allowed (its next attempts are refused until the bucket refills).
    pub fn record(&mut self, source: IpAddr, now: Instant) -> bool {
        if self.per_minute == 0 {
            return false;
        }
        if !self.by_source.contains_key(&key(source)) {
            self.make_room(now);
            let tokens = self.capacity();
            self.by_source
                .insert(key(source), Bucket { tokens, at: now });
        }
        let Some(b) = self.refilled(source, now) else {
            return false;
        };
        b.tokens = (b.tokens - 1.0).max(0.0);
        b.tokens < 1.0
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.by_source.len()
    }

    fn make_room(&mut self, now: Instant) {
        if self.by_source.len() < MAX_SOURCES {
            return;
        }
        let (cap, rate) = (self.capacity(), self.capacity() / 60.0);
        self.by_source.retain(|_, b| {
            let dt = now.saturating_duration_since(b.at).as_secs_f64();
            b.tokens + dt * rate < cap
        });
        let keep = MAX_SOURCES - MAX_SOURCES / 8;
        if self.by_source.len() > keep {
            let mut by_age: Vec<(Instant, IpAddr)> =
                self.by_source.iter().map(|(k, b)| (b.at, *k)).collect();
            by_age.sort_unstable();
            let excess = self.by_source.len() - keep;
            for (_, k) in by_age.into_iter().take(excess) {
                self.by_source.remove(&k);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_address_is_slowed_to_the_rate_and_others_are_not() {
        let t0 = Instant::now();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let mut f = FailedLogins::new(3);
        assert!(f.allows(a, t0));
        assert!(!f.record(a, t0));
        assert!(!f.record(a, t0));
        assert!(f.record(a, t0), "the third failure uses up the burst");
        assert!(!f.allows(a, t0));
        assert!(f.allows(b, t0), "another address is not affected");
        // IPv6 addresses of one /64 share a bucket.
        let (v6a, v6b): (IpAddr, IpAddr) = (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        f.record(v6a, t0);
        f.record(v6a, t0);
        assert!(f.record(v6b, t0));
        assert!(!f.allows(v6b, t0) && f.allows("2001:db8:0:1::1".parse().unwrap(), t0));
        // Three a minute: one more after 20 s.
        assert!(!f.allows(a, t0 + Duration::from_secs(19)));
        assert!(f.allows(a, t0 + Duration::from_secs(20)));
        assert!(f.record(a, t0 + Duration::from_secs(20)));
        assert!(!f.allows(a, t0 + Duration::from_secs(21)));
        // After a quiet minute the whole burst is back.
        let later = t0 + Duration::from_secs(100);
        assert!(!f.record(a, later) && !f.record(a, later) && f.record(a, later));
    }

    #[test]
    fn zero_is_no_limit_and_the_table_is_bounded() {
        let t0 = Instant::now();
        let mut off = FailedLogins::new(0);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..100 {
            assert!(!off.record(a, t0));
        }
        assert!(off.allows(a, t0));
        assert_eq!(off.tracked(), 0);
        let mut f = FailedLogins::new(10);
        for i in 0..(MAX_SOURCES as u32 + 10) {
            f.record(
                IpAddr::from(i.to_be_bytes()),
                t0 + Duration::from_millis(u64::from(i)),
            );
        }
        assert!(f.tracked() <= MAX_SOURCES);
        // The newest failures are remembered, the oldest forgotten first.
        let newest = IpAddr::from((MAX_SOURCES as u32 + 9).to_be_bytes());
        let oldest = IpAddr::from(0u32.to_be_bytes());
        assert!(f.by_source.contains_key(&newest) && !f.by_source.contains_key(&oldest));
    }
}
