//! Service discovery and entity capabilities of calls and mixers (XEP-0030, XEP-0115): the
//! `<c/>` of their first presence (XEP-0327 §6.2.2, §6.4), with the `ver` hash computed as
//! XEP-0115 §5 prescribes.

use xmpp_parsers::caps::{compute_disco, hash_caps, Caps};
use xmpp_parsers::disco::{DiscoInfoResult, Identity};
use xmpp_parsers::hashes::Algo;

use rayo_proto::ns;

/// The disco#info of a call.
pub fn call_info() -> DiscoInfoResult {
    info("call", ns::CALL_CAPS)
}

/// The disco#info of a mixer.
pub fn mixer_info() -> DiscoInfoResult {
    info("mixer", ns::MIXER_CAPS)
}

fn info(kind: &str, node: &str) -> DiscoInfoResult {
    let mut features: std::collections::BTreeSet<String> = [
        ns::RAYO,
        ns::EXT,
        ns::OUTPUT,
        ns::INPUT,
        ns::PROMPT,
        ns::RECORD,
        node,
        rayo_proto::ns::DISCO_INFO,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    features.insert(ns::CAPS.to_owned());
    DiscoInfoResult {
        node: None,
        identities: vec![Identity::new(
            "client",
            "rayo",
            "en",
            format!("Rayo {kind}"),
        )],
        features,
        extensions: Vec::new(),
    }
}

/// The `<c/>` element for an entity with this disco#info under `node`.
pub fn caps(node: &str, info: &DiscoInfoResult) -> Caps {
    let data = compute_disco(info);
    // SHA-1 is always available in xmpp-parsers; an error here would be a bug there.
    let hash = hash_caps(&data, Algo::Sha_1)
        .unwrap_or_else(|_| xmpp_parsers::hashes::Hash::new(Algo::Sha_1, Vec::new()));
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
    }
}
