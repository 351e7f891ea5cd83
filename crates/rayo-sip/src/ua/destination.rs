//! Whether a URI can be dialled, and where its INVITE goes: decided from the configuration
//! alone, so the node can refuse a `<dial/>` with `bad-request` before any call exists
//! (XEP-0327 §6.2.1.1) instead of acknowledging it and failing a moment later.

use std::net::SocketAddr;

use super::{uri_addr, Config};
use crate::auth::Credentials;
use crate::message::addr_uri;

/// Why a URI cannot be dialled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Undialable {
    /// Not a `sip:` or `tel:` URI (`foo:bar`, `mailto:…`, `sips:` without TLS).
    #[error("{0:?} is not a sip: or tel: URI")]
    Scheme(String),
    /// A `sip:` URI without a host, or a `tel:` URI without a number.
    #[error("{0:?} names no host or number")]
    Incomplete(String),
    /// No trunk and no outbound proxy takes it, and its host is not an IP address the node
    /// could send to directly.
    #[error("no trunk takes {0:?} and its host is not an IP address")]
    NoRoute(String),
}

/// Where an outbound INVITE goes, and the credentials for that next hop's challenges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The next hop.
    pub addr: SocketAddr,
    /// Digest credentials for it, if configured.
    pub credentials: Option<Credentials>,
}

impl Config {
    /// Where a dial to `to` (a URI, bare or as a name-addr) goes: the first trunk whose
    /// pattern matches, else the outbound proxy, else the IP address and port of a `sip:`
    /// URI. Refuses what no INVITE can be sent for.
    pub fn destination(&self, to: &str) -> Result<Destination, Undialable> {
        let uri = addr_uri(to);
        let lower = uri.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("sip:") {
            let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
            let host = host.split([';', '?']).next().unwrap_or_default();
            if host.is_empty() || host.starts_with(':') {
                return Err(Undialable::Incomplete(uri.to_owned()));
            }
        } else if let Some(number) = lower.strip_prefix("tel:") {
            let number = number.split(';').next().unwrap_or_default();
            let phone = |c: char| c.is_ascii_hexdigit() || "+-.()*#pw".contains(c);
            if number.is_empty() || !number.chars().all(phone) {
                return Err(Undialable::Incomplete(uri.to_owned()));
            }
        } else {
            return Err(Undialable::Scheme(uri.to_owned()));
        }
        let trunk = self
            .trunks
            .iter()
            .find(|t| rayo_call::pattern_matches(&t.pattern, to));
        match (trunk, self.outbound_proxy) {
            (Some(t), _) => Ok(Destination {
                addr: t.proxy,
                credentials: t.credentials.clone(),
            }),
            (None, Some(p)) => Ok(Destination {
                addr: p,
                credentials: self.credentials.clone(),
            }),
            (None, None) => match lower.starts_with("sip:").then(|| uri_addr(uri)).flatten() {
                Some(addr) => Ok(Destination {
                    addr,
                    credentials: self.credentials.clone(),
                }),
                None => Err(Undialable::NoRoute(uri.to_owned())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::ua::Trunk;

    fn cfg() -> Config {
        Config::new("127.0.0.1:5060".parse().unwrap())
    }

    #[test]
    fn what_cannot_be_dialled_says_why() {
        let c = cfg();
        for (to, why) in [
            ("foo:bar", Undialable::Scheme("foo:bar".into())),
            (
                "mailto:a@b.example",
                Undialable::Scheme("mailto:a@b.example".into()),
            ),
            (
                "sips:a@127.0.0.1",
                Undialable::Scheme("sips:a@127.0.0.1".into()),
            ),
            ("", Undialable::Scheme("".into())),
            ("sip:", Undialable::Incomplete("sip:".into())),
            ("sip:alice@", Undialable::Incomplete("sip:alice@".into())),
            (
                "sip:alice@:5060",
                Undialable::Incomplete("sip:alice@:5060".into()),
            ),
            ("tel:", Undialable::Incomplete("tel:".into())),
            ("tel:call-me", Undialable::Incomplete("tel:call-me".into())),
            (
                "tel:+14155551212",
                Undialable::NoRoute("tel:+14155551212".into()),
            ),
            (
                "sip:bob@example.com",
                Undialable::NoRoute("sip:bob@example.com".into()),
            ),
        ] {
            assert_eq!(c.destination(to), Err(why), "{to}");
        }
    }

    #[test]
    fn a_trunk_a_proxy_or_an_ip_address_is_a_destination() {
        let mut c = cfg();
        let direct = c
            .destination("<sip:bob@127.0.0.2:5070>;tag=x")
            .expect("an IP");
        assert_eq!(direct.addr, "127.0.0.2:5070".parse().unwrap());
        let trunk: SocketAddr = "127.0.0.9:5060".parse().unwrap();
        c.trunks.push(Trunk {
            pattern: "tel:+1*".into(),
            proxy: trunk,
            credentials: None,
        });
        assert_eq!(c.destination("tel:+14155551212").unwrap().addr, trunk);
        assert!(c.destination("tel:+44207").is_err(), "no trunk takes +44");
        let proxy: SocketAddr = "127.0.0.8:5060".parse().unwrap();
        c.outbound_proxy = Some(proxy);
        assert_eq!(c.destination("tel:+44207").unwrap().addr, proxy);
        assert_eq!(c.destination("sip:bob@example.com").unwrap().addr, proxy);
        assert!(
            c.destination("foo:bar").is_err(),
            "a proxy does not make foo: dialable"
        );
    }
}
