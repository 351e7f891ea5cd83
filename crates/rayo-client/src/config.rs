//! How to reach and log in to a Rayo service.

use std::time::Duration;

use jid::{BareJid, Jid};
use rustls::pki_types::CertificateDer;

use crate::error::Error;

/// Settings of a [`Client`](crate::Client). Its `Debug` output leaves the password out.
#[derive(Clone)]
pub struct Config {
    /// The account to log in as: a bare JID, or a full JID whose resource is asked for.
    pub jid: Jid,
    /// Its password.
    pub password: String,
    /// Where to connect, as `host:port` or `ip:port`; `None`: the JID's domain, port 5222
    /// (no SRV lookup).
    pub server: Option<String>,
    /// The Rayo service's JID (where dial and client presence go): the node's domain when
    /// logging in to the node itself, or the component's domain when the node is an XMPP
    /// component of another server (Prosody). `None`: the JID's domain.
    pub rayo_domain: Option<String>,
    /// The domain mixers live at (XEP-0327 §5.2); `None`: `mixer.` + the Rayo domain.
    pub mixer_domain: Option<String>,
    /// TLS; always required.
    pub tls: Tls,
    /// How long a command waits for its answer before failing with [`Error::Timeout`].
    pub command_timeout: Duration,
    /// How long connecting and logging in may take.
    pub connect_timeout: Duration,
    /// How to reconnect when the stream drops.
    pub reconnect: Backoff,
    /// Where a copy of every stanza received goes (debugging, tests that look at the wire);
    /// when its queue is full, copies are dropped, never the stanzas themselves.
    pub tap: Option<tokio::sync::mpsc::Sender<minidom::Element>>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("jid", &self.jid)
            .field("password", &"…")
            .field("server", &self.server)
            .field("rayo_domain", &self.rayo_domain)
            .field("mixer_domain", &self.mixer_domain)
            .field("tls", &self.tls)
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("reconnect", &self.reconnect)
            .field("tap", &self.tap.is_some())
            .finish()
    }
}

impl Config {
    /// Settings for `jid` with `password`: the JID's domain on port 5222, TLS with no trust
    /// anchor yet (set [`Config::tls`]), 10 s command timeout, default backoff.
    pub fn new(jid: &str, password: &str) -> Result<Config, Error> {
        let jid = Jid::new(jid).map_err(|e| Error::Config(format!("JID {jid:?}: {e}")))?;
        if jid.node().is_none() {
            return Err(Error::Config(format!("JID {jid} has no user part")));
        }
        Ok(Config {
            jid,
            password: password.to_owned(),
            server: None,
            rayo_domain: None,
            mixer_domain: None,
            tls: Tls::Required {
                trust: Trust::Anchors(Vec::new()),
            },
            command_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(15),
            reconnect: Backoff::default(),
            tap: None,
        })
    }

    /// Sends a copy of every stanza received to `tap` ([`Config::tap`]).
    pub fn tap(mut self, tap: tokio::sync::mpsc::Sender<minidom::Element>) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Connect to `addr` (`host:port`) instead of the JID's domain.
    pub fn server(mut self, addr: impl Into<String>) -> Self {
        self.server = Some(addr.into());
        self
    }

    /// Trust the server's certificate this way.
    pub fn trust(mut self, trust: Trust) -> Self {
        self.tls = Tls::Required { trust };
        self
    }

    /// The Rayo service JID.
    pub fn rayo_domain(mut self, domain: impl Into<String>) -> Self {
        self.rayo_domain = Some(domain.into());
        self
    }

    /// The per-command timeout.
    pub fn command_timeout(mut self, t: Duration) -> Self {
        self.command_timeout = t;
        self
    }

    /// The account's bare JID.
    pub fn bare_jid(&self) -> BareJid {
        self.jid.to_bare()
    }

    /// The TCP address to dial.
    pub(crate) fn server_addr(&self) -> String {
        match &self.server {
            Some(s) => s.clone(),
            None => format!("{}:5222", self.jid.domain()),
        }
    }

    /// The Rayo service domain.
    pub(crate) fn service(&self) -> Result<Jid, Error> {
        let d = self
            .rayo_domain
            .clone()
            .unwrap_or_else(|| self.jid.domain().to_string());
        Jid::new(&d).map_err(|e| Error::Config(format!("Rayo domain {d:?}: {e}")))
    }

    /// The mixer domain.
    pub(crate) fn mixers(&self) -> String {
        match &self.mixer_domain {
            Some(d) => d.clone(),
            None => format!(
                "mixer.{}",
                self.rayo_domain
                    .clone()
                    .unwrap_or_else(|| self.jid.domain().to_string())
            ),
        }
    }
}

/// Transport security. Rayo carries call control and credentials: plaintext streams are not
/// offered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Tls {
    /// STARTTLS is required; the server's certificate is checked as `trust` says.
    Required {
        /// How the certificate is checked.
        trust: Trust,
    },
}

/// How the server's certificate is trusted.
#[derive(Clone)]
#[non_exhaustive]
pub enum Trust {
    /// Certificates chaining to these roots, issued for the JID's domain (webpki rules).
    Anchors(Vec<CertificateDer<'static>>),
    /// Exactly the certificate with this SHA-256 fingerprint (hex, colons and case
    /// ignored), whoever issued it: a node's self-signed certificate, whose fingerprint it
    /// logs at start.
    Pinned(String),
    /// Any certificate at all. For development only: anyone on the path can read and change
    /// the stream.
    DangerAcceptAny,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trust::Anchors(a) => write!(f, "Anchors({} roots)", a.len()),
            Trust::Pinned(p) => write!(f, "Pinned({p})"),
            Trust::DangerAcceptAny => f.write_str("DangerAcceptAny"),
        }
    }
}

impl Trust {
    /// Roots read from a PEM file (every certificate in it).
    pub fn anchors_from_pem(pem: &[u8]) -> Result<Trust, Error> {
        use rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Config(format!("PEM: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Config("no certificate in the PEM".to_owned()));
        }
        Ok(Trust::Anchors(certs))
    }
}

/// Reconnection with jittered exponential backoff: the n-th attempt waits a random time
/// between half and all of `min(initial × 2ⁿ, max)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    /// Whether to reconnect at all after the stream drops.
    pub enabled: bool,
    /// The first delay.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            enabled: true,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay before attempt `n` (0-based), with `random` a uniform value in `0..1`.
    pub fn delay(&self, n: u32, random: f64) -> Duration {
        let exp = 2f64.powi(n.min(30) as i32);
        let base = self.initial.as_secs_f64() * exp;
        let capped = base.min(self.max.as_secs_f64()).max(0.0);
        let r = random.clamp(0.0, 1.0);
        Duration::try_from_secs_f64(capped * (0.5 + 0.5 * r)).unwrap_or(self.max)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, 1.0), Duration::from_millis(500));
        assert_eq!(b.delay(0, 0.0), Duration::from_millis(250));
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(4));
        assert_eq!(b.delay(20, 1.0), Duration::from_secs(30));
        assert!(b.delay(20, 0.0) >= Duration::from_secs(15));
        let huge = Backoff {
            enabled: true,
            initial: Duration::MAX,
            max: Duration::MAX,
        };
        assert!(
            huge.delay(40, f64::NAN) > Duration::from_secs(1),
            "no panic"
        );
    }

    #[test]
    fn defaults_come_from_the_jid() {
        let c = Config::new("juliet@capulet.lit/balcony", "pw").expect("valid");
        assert_eq!(c.server_addr(), "capulet.lit:5222");
        assert_eq!(c.service().expect("jid").to_string(), "capulet.lit");
        assert_eq!(c.mixers(), "mixer.capulet.lit");
        let c = c.rayo_domain("rayo.capulet.lit").server("127.0.0.1:5333");
        assert_eq!(c.service().expect("jid").to_string(), "rayo.capulet.lit");
        assert_eq!(c.server_addr(), "127.0.0.1:5333");
        assert!(Config::new("capulet.lit", "pw").is_err());
        assert!(!format!("{c:?}").contains("pw"), "no password in logs");
    }
}
