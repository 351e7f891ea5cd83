//! Rayo addressing (XEP-0327 §5.2): which entity a JID names, and `xmpp:` URIs.
//!
//! | actor | JID |
//! | --- | --- |
//! | server | `service.domain` |
//! | call | `callid@[call subdomain.]service.domain` |
//! | mixer | `name@[mixer subdomain.]service.domain` |
//! | call or mixer component | the call's or mixer's JID `/componentid` |
//! | server component | `service.domain/componentid` |

use jid::{BareJid, DomainPart, Jid, NodePart, ResourcePart};

use crate::error::Error;

/// The kind of entity a command is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// The Rayo service (server) itself.
    Service,
    /// A call.
    Call,
    /// A mixer.
    Mixer,
    /// A component of a call, a mixer or the server.
    Component,
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EntityKind::Service => "service",
            EntityKind::Call => "call",
            EntityKind::Mixer => "mixer",
            EntityKind::Component => "component",
        })
    }
}

/// A Rayo entity, as named by a JID under a service's domains.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Entity {
    /// The service.
    Service,
    /// A component executing on the service itself.
    ServiceComponent(ResourcePart),
    /// A call, by id.
    Call(NodePart),
    /// A component of a call.
    CallComponent(NodePart, ResourcePart),
    /// A mixer, by name.
    Mixer(NodePart),
    /// A component of a mixer.
    MixerComponent(NodePart, ResourcePart),
    /// A call or a mixer when both share one domain (no subdomains are configured): only the
    /// service's tables can tell which.
    CallOrMixer(NodePart, Option<ResourcePart>),
}

impl Entity {
    /// The kind of entity, for dispatching commands. A [`Entity::CallOrMixer`] is reported as
    /// a call.
    pub fn kind(&self) -> EntityKind {
        match self {
            Entity::Service => EntityKind::Service,
            Entity::Call(_) | Entity::CallOrMixer(_, None) => EntityKind::Call,
            Entity::Mixer(_) => EntityKind::Mixer,
            Entity::ServiceComponent(_)
            | Entity::CallComponent(..)
            | Entity::MixerComponent(..)
            | Entity::CallOrMixer(_, Some(_)) => EntityKind::Component,
        }
    }
}

/// The domains of one Rayo service: the service domain and where calls and mixers live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressing {
    service: DomainPart,
    calls: DomainPart,
    mixers: DomainPart,
}

impl Addressing {
    /// A service at `service`, with calls at `call_subdomain.service` and mixers at
    /// `mixer_subdomain.service` (`None`: directly at the service domain).
    pub fn new(
        service: &str,
        call_subdomain: Option<&str>,
        mixer_subdomain: Option<&str>,
    ) -> Result<Self, jid::Error> {
        let sub = |s: Option<&str>| match s {
            Some(s) => DomainPart::new(&format!("{s}.{service}")).map(|d| d.into_owned()),
            None => DomainPart::new(service).map(|d| d.into_owned()),
        };
        Ok(Addressing {
            service: DomainPart::new(service)?.into_owned(),
            calls: sub(call_subdomain)?,
            mixers: sub(mixer_subdomain)?,
        })
    }

    /// The service domain.
    pub fn service(&self) -> &DomainPart {
        &self.service
    }

    /// The domain calls live at.
    pub fn call_domain(&self) -> &DomainPart {
        &self.calls
    }

    /// The domain mixers live at.
    pub fn mixer_domain(&self) -> &DomainPart {
        &self.mixers
    }

    /// What `jid` names under this service, or `None` if it is not one of its entities.
    pub fn classify(&self, jid: &Jid) -> Option<Entity> {
        let domain = jid.domain();
        let resource = jid.resource().map(|r| r.to_owned());
        match jid.node() {
            None if *domain == *self.service => Some(match resource {
                None => Entity::Service,
                Some(r) => Entity::ServiceComponent(r),
            }),
            None => None,
            Some(node) => {
                let node = node.to_owned();
                let call = *domain == *self.calls;
                let mixer = *domain == *self.mixers;
                match (call, mixer, resource) {
                    (true, true, r) => Some(Entity::CallOrMixer(node, r)),
                    (true, false, None) => Some(Entity::Call(node)),
                    (true, false, Some(r)) => Some(Entity::CallComponent(node, r)),
                    (false, true, None) => Some(Entity::Mixer(node)),
                    (false, true, Some(r)) => Some(Entity::MixerComponent(node, r)),
                    (false, false, _) => None,
                }
            }
        }
    }

    /// The JID of the call `id`.
    pub fn call_jid(&self, id: &NodePart) -> BareJid {
        BareJid::from_parts(Some(id), &self.calls)
    }

    /// The JID of the mixer `name`.
    pub fn mixer_jid(&self, name: &NodePart) -> BareJid {
        BareJid::from_parts(Some(name), &self.mixers)
    }
}

/// The kind of entity a JID most likely names when no service configuration is at hand
/// (tools reading stanzas from files): a resource means a component; a node under a domain
/// whose first label is `mixer` means a mixer; any other node a call; no node the service.
pub fn guess_kind(jid: &Jid) -> EntityKind {
    match (jid.node(), jid.resource()) {
        (None, None) => EntityKind::Service,
        (_, Some(_)) => EntityKind::Component,
        (Some(_), None) if jid.domain().as_str().starts_with("mixer.") => EntityKind::Mixer,
        (Some(_), None) => EntityKind::Call,
    }
}

/// Reads an `xmpp:` URI (RFC 5122) naming a JID, as found in `ref@uri`, `call-uri` and
/// `dial@uri`. Percent-escapes are decoded; a query or fragment is not allowed.
pub fn jid_from_uri(uri: &str) -> Result<Jid, Error> {
    let bad = |reason: &str| Error::Uri {
        uri: uri.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = uri
        .strip_prefix("xmpp:")
        .ok_or_else(|| bad("not an xmpp: URI"))?;
    let rest = rest.strip_prefix("//").map_or(rest, |r| {
        // An authority component (xmpp://auth@host/jid) names the account to act as.
        r.split_once('/').map_or("", |(_, jid)| jid)
    });
    if rest.contains(['?', '#']) {
        return Err(bad("queries and fragments are not allowed"));
    }
    let decoded = percent_decode(rest).ok_or_else(|| bad("bad percent-escape"))?;
    if decoded.is_empty() {
        return Err(bad("no JID"));
    }
    Jid::new(&decoded).map_err(|e| bad(&e.to_string()))
}

/// The `xmpp:` URI for a JID.
pub fn uri_for(jid: &Jid) -> String {
    format!("xmpp:{jid}")
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn jid(s: &str) -> Jid {
        Jid::new(s).expect("valid test JID")
    }

    #[test]
    fn classify_with_subdomains() {
        let a = Addressing::new("shakespeare.lit", Some("call"), Some("mixer")).expect("valid");
        assert_eq!(a.classify(&jid("shakespeare.lit")), Some(Entity::Service));
        assert_eq!(
            a.classify(&jid("9f00061@call.shakespeare.lit"))
                .map(|e| e.kind()),
            Some(EntityKind::Call)
        );
        assert_eq!(
            a.classify(&jid("9f00061@call.shakespeare.lit/eh3u28"))
                .map(|e| e.kind()),
            Some(EntityKind::Component)
        );
        assert_eq!(
            a.classify(&jid("myMixer@mixer.shakespeare.lit"))
                .map(|e| e.kind()),
            Some(EntityKind::Mixer)
        );
        assert_eq!(
            a.classify(&jid("shakespeare.lit/f3fg4")).map(|e| e.kind()),
            Some(EntityKind::Component)
        );
        assert_eq!(a.classify(&jid("juliet@capulet.lit/balcony")), None);
    }

    #[test]
    fn classify_without_subdomains() {
        let a = Addressing::new("shakespeare.lit", None, None).expect("valid");
        assert!(matches!(
            a.classify(&jid("9f00061@shakespeare.lit")),
            Some(Entity::CallOrMixer(_, None))
        ));
    }

    #[test]
    fn uris() {
        assert_eq!(
            jid_from_uri("xmpp:callB@call.shakespeare.lit").ok(),
            Some(jid("callB@call.shakespeare.lit"))
        );
        assert_eq!(
            jid_from_uri("xmpp:9f00061@call.shakespeare.lit/fgh4590").ok(),
            Some(jid("9f00061@call.shakespeare.lit/fgh4590"))
        );
        assert!(jid_from_uri("xmpp:").is_err());
        assert!(jid_from_uri("sip:foo@bar").is_err());
        assert!(jid_from_uri("xmpp:a@b?join").is_err());
        assert_eq!(
            uri_for(&jid("a@call.example/c")),
            "xmpp:a@call.example/c".to_owned()
        );
        assert_eq!(
            guess_kind(&jid("myMixer@mixer.shakespeare.lit")),
            EntityKind::Mixer
        );
    }
}
