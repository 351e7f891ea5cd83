//! Service discovery (XEP-0030) and entity capabilities (XEP-0115) of the Rayo entities: the
//! disco#info the service, calls and mixers answer, and the `<c/>` of their first presence
//! (XEP-0327 §6.2.2, §6.4), its `ver` computed from the disco#info as XEP-0115 §5 prescribes.

use std::collections::BTreeSet;

use xmpp_parsers::caps::{compute_disco, hash_caps, Caps};
use xmpp_parsers::disco::{DiscoInfoResult, Identity};
use xmpp_parsers::hashes::{Algo, Hash};

use crate::ns;

fn features(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The disco#info of the Rayo service: `urn:xmpp:rayo:1`, the component namespaces it
/// supports, XEP-0354 routing, disco and ping.
pub fn service_info() -> DiscoInfoResult {
    DiscoInfoResult {
        node: None,
        identities: vec![Identity::new("component", "generic", "en", "Rayo service")],
        features: features(&[
            ns::DISCO_INFO,
            ns::PING,
            ns::RAYO,
            ns::EXT,
            ns::OUTPUT,
            ns::INPUT,
            ns::PROMPT,
            ns::RECORD,
            ns::CMR,
        ]),
        extensions: Vec::new(),
    }
}

/// The disco#info of a call.
pub fn call_info() -> DiscoInfoResult {
    entity_info("call", ns::CALL_CAPS)
}

/// The disco#info of a mixer.
pub fn mixer_info() -> DiscoInfoResult {
    entity_info("mixer", ns::MIXER_CAPS)
}

fn entity_info(kind: &str, node: &str) -> DiscoInfoResult {
    DiscoInfoResult {
        node: None,
        identities: vec![Identity::new(
            "client",
            "rayo",
            "en",
            format!("Rayo {kind}"),
        )],
        features: features(&[
            ns::RAYO,
            ns::EXT,
            ns::OUTPUT,
            ns::INPUT,
            ns::PROMPT,
            ns::RECORD,
            node,
            ns::DISCO_INFO,
            ns::CAPS,
        ]),
        extensions: Vec::new(),
    }
}

/// The `<c/>` for an entity with this disco#info under `node`, with a SHA-1 `ver`.
pub fn caps(node: &str, info: &DiscoInfoResult) -> Caps {
    let data = compute_disco(info);
    // SHA-1 is always available in xmpp-parsers; an error would be a bug there.
    let hash = hash_caps(&data, Algo::Sha_1).unwrap_or_else(|_| Hash::new(Algo::Sha_1, Vec::new()));
    Caps::new(node, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ver_is_the_hash_of_the_disco_info() {
        let c = caps(ns::CALL_CAPS, &call_info());
        assert_eq!(c.node, ns::CALL_CAPS);
        assert_eq!(c.ver.len(), 20, "SHA-1");
        let m = caps(ns::MIXER_CAPS, &mixer_info());
        assert_ne!(c.ver, m.ver, "different features, different hash");
        assert!(service_info().features.contains(ns::RAYO));
    }

    #[test]
    fn ver_follows_xep_0115_section_5() {
        // XEP-0115 §5.2's worked example: the string S and its SHA-1.
        let info = DiscoInfoResult {
            node: None,
            identities: vec![Identity::new("client", "pc", "", "Exodus 0.9.1")],
            features: features(&[
                "http://jabber.org/protocol/caps",
                "http://jabber.org/protocol/disco#info",
                "http://jabber.org/protocol/disco#items",
                "http://jabber.org/protocol/muc",
            ]),
            extensions: Vec::new(),
        };
        let c = caps("http://code.google.com/p/exodus", &info);
        let b64 = xso::text::Base64;
        let ver = xso::text::TextCodec::<Vec<u8>>::encode(&b64, &c.ver)
            .ok()
            .flatten()
            .map(|s| s.into_owned());
        assert_eq!(ver.as_deref(), Some("QgayPKawpkPSDYmwT/WM94uAlu0="));
    }
}
