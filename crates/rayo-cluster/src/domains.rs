//! The gateway's two domains (XEP-0349 §4.1) and what their service discovery says (§5).

use jid::Jid;
use minidom::Element;
use xmpp_parsers::disco::{DiscoInfoResult, Identity};

use rayo_proto::ns;

/// A domain that is not a valid JID domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// Not a bare domain JID.
    #[error("{0:?} is not a domain")]
    NotADomain(String),
    /// The two domains are the same: clients and nodes could not be told apart.
    #[error("the external and internal domains must differ")]
    Same,
}

/// The external domain (what clients address) and the internal domain (what nodes address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domains {
    external: Jid,
    internal: Jid,
}

fn domain(s: &str) -> Result<Jid, DomainError> {
    match Jid::new(s) {
        Ok(j) if j.node().is_none() && j.resource().is_none() => Ok(j),
        _ => Err(DomainError::NotADomain(s.to_owned())),
    }
}

impl Domains {
    /// The domains, validated.
    pub fn new(external: &str, internal: &str) -> Result<Self, DomainError> {
        let (external, internal) = (domain(external)?, domain(internal)?);
        if external == internal {
            return Err(DomainError::Same);
        }
        Ok(Domains { external, internal })
    }

    /// The external domain, as a JID (`shakespeare.lit`).
    pub fn external(&self) -> &Jid {
        &self.external
    }

    /// The internal domain, as a JID (`gateway.shakespeare.lit`).
    pub fn internal(&self) -> &Jid {
        &self.internal
    }
}

fn info(name: &str, features: &[&str]) -> DiscoInfoResult {
    DiscoInfoResult {
        node: None,
        identities: vec![Identity::new("component", "generic", "en", name)],
        features: features.iter().map(|f| (*f).to_owned()).collect(),
        extensions: Vec::new(),
    }
}

/// The disco#info of the external domain: a Rayo service (`urn:xmpp:rayo:1`) with XEP-0354
/// routing (`urn:xmpp:cmr:0`) and its message hints (`urn:xmpp:cmr:hints:0`).
pub fn external_info() -> Element {
    info(
        "Rayo gateway",
        &[
            ns::DISCO_INFO,
            ns::PING,
            ns::RAYO,
            ns::CMR,
            "urn:xmpp:cmr:hints:0",
        ],
    )
    .into()
}

/// The disco#info of the internal domain: a Rayo gateway (`urn:xmpp:rayo:gateway:1`).
pub fn internal_info() -> Element {
    info(
        "Rayo gateway (internal)",
        &[ns::DISCO_INFO, ns::PING, ns::GATEWAY_CAPS],
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_bare_and_distinct() {
        assert!(Domains::new("shakespeare.lit", "gateway.shakespeare.lit").is_ok());
        assert_eq!(Domains::new("a.lit", "a.lit"), Err(DomainError::Same));
        assert!(matches!(
            Domains::new("x@a.lit", "b.lit"),
            Err(DomainError::NotADomain(_))
        ));
    }
}
