//! JID rewriting between the nodes' domains and the external domain.
//!
//! Crossing the gateway, a stanza's `from` and `to` change between `id@node-domain[/res]` and
//! `id@external[/res]` (calls, mixers, components), and so do the `xmpp:` URIs inside its
//! payload: `ref@uri`, `dial@uri`, `call-uri` of `join` (also nested in a `dial`), `unjoin`,
//! `joined`, `unjoined`, `started-speaking`, `stopped-speaking`. Outward (towards clients)
//! every attribute that holds a JID or an `xmpp:` URI under a node domain is rewritten,
//! whatever its element, so no node JID reaches a client; [`node_jids_in`] checks that (the
//! gateway runs it on everything it sends to clients and drops, with an error logged, what
//! still names a node, say in a text).
//! SIP URIs and headers are never touched (a `sip:` URI is not a JID).

use jid::Jid;
use minidom::{Element, Node};

/// `node@domain/resource` with `domain` replaced.
pub fn with_domain(jid: &Jid, domain: &Jid) -> Jid {
    let mut s = String::new();
    if let Some(n) = jid.node() {
        s.push_str(n.as_str());
        s.push('@');
    }
    s.push_str(domain.domain().as_str());
    if let Some(r) = jid.resource() {
        s.push('/');
        s.push_str(r.as_str());
    }
    // The parts were valid in a JID already; the domain too.
    Jid::new(&s).unwrap_or_else(|_| domain.clone())
}

/// A JID in an attribute value: `xmpp:` URI (`true`) or a plain JID with a node part.
fn jid_in(value: &str) -> Option<(Jid, bool)> {
    if value.starts_with("xmpp:") {
        return rayo_proto::address::jid_from_uri(value)
            .ok()
            .map(|j| (j, true));
    }
    if value.contains('@') {
        return Jid::new(value).ok().map(|j| (j, false));
    }
    None
}

fn render(jid: &Jid, uri: bool) -> String {
    if uri {
        rayo_proto::address::uri_for(jid)
    } else {
        jid.to_string()
    }
}

/// The node domains, prepared for [`NodeNames::may_name`]: lowercase, and the suffix they
/// all share (`.example.net` of `node1.example.net` and `node2.example.net`), searched first
/// so that a value without it is passed over in one search whatever the number of nodes.
#[derive(Debug, Clone, Default)]
pub struct NodeNames {
    domains: Vec<String>,
    /// Bytes, not a `str`: the shared tail of two non-ASCII domains may end inside a
    /// character.
    suffix: Vec<u8>,
}

impl NodeNames {
    /// `nodes` prepared.
    pub fn new(nodes: &[String]) -> Self {
        let domains: Vec<String> = nodes.iter().map(|n| n.to_ascii_lowercase()).collect();
        let mut suffix: Vec<u8> = domains
            .first()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        for d in &domains {
            let shared = suffix
                .iter()
                .rev()
                .zip(d.as_bytes().iter().rev())
                .take_while(|(a, b)| a == b)
                .count();
            suffix.drain(..suffix.len() - shared);
        }
        NodeNames { domains, suffix }
    }

    /// Whether `value` may name one of these domains: an ASCII value only if it holds one
    /// of them (case aside), so that the JID parser (IDNA, stringprep) runs only on values
    /// that may matter; a value with anything but ASCII is always parsed, since its
    /// normalised form could name a node in other characters.
    pub fn may_name(&self, value: &str) -> bool {
        if !value.is_ascii() {
            return true;
        }
        let bytes = value.as_bytes();
        let holds = |hay: &[u8]| {
            contains(hay, &self.suffix) && self.domains.iter().any(|n| contains(hay, n.as_bytes()))
        };
        if !bytes.iter().any(u8::is_ascii_uppercase) {
            // Already lowercase, as most values are: searched as they are.
            return holds(bytes);
        }
        let mut buf = [0u8; 256];
        match buf.get_mut(..bytes.len()) {
            Some(lower) => {
                lower.copy_from_slice(bytes);
                lower.make_ascii_lowercase();
                holds(lower)
            }
            None => holds(value.to_ascii_lowercase().as_bytes()),
        }
    }
}

/// Whether `needle` occurs in `hay`: its first byte found with `memchr`, the rest compared
/// (the needles are node domains and the values short: building a substring searcher for
/// each would cost more than the search).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let Some(last_start) = hay.len().checked_sub(needle.len()) else {
        return false;
    };
    let mut from = 0;
    while let Some(i) = hay
        .get(from..=last_start)
        .and_then(|h| memchr::memchr(first, h))
    {
        let at = from + i;
        if hay.get(at + 1..at + needle.len()) == Some(rest) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// Rewrites, in `el` and everything under it, every attribute holding a JID or `xmpp:` URI
/// whose domain `is_node` says is a node's, to the same JID under `external`.
pub fn payload_to_external(el: &mut Element, is_node: &dyn Fn(&str) -> bool, external: &Jid) {
    payload_to_external_among(el, is_node, &|_| true, external);
}

/// [`payload_to_external`], parsing only the values `may` says may name a node (see
/// [`NodeNames::may_name`]).
pub fn payload_to_external_among(
    el: &mut Element,
    is_node: &dyn Fn(&str) -> bool,
    may: &dyn Fn(&str) -> bool,
    external: &Jid,
) {
    for (_, value) in el.attrs_mut().iter_mut() {
        if !may(value) {
            continue;
        }
        let found = jid_in(value).or_else(|| Jid::new(value).ok().map(|j| (j, false)));
        if let Some((jid, uri)) = found {
            if is_node(&jid.domain().as_str().to_ascii_lowercase()) {
                *value = render(&with_domain(&jid, external), uri);
            }
        }
    }
    for child in el.children_mut() {
        payload_to_external_among(child, is_node, may, external);
    }
}

/// A payload naming a call on another node than the one the stanza goes to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("call {call} is on another node")]
pub struct CrossNode {
    /// The call named.
    pub call: String,
}

/// Rewrites, in `el` and under it, every `uri` and `call-uri` naming an entity under
/// `external` to the same entity on `node` (where `locate` says the call or mixer id is).
/// An entity on another node is refused ([`CrossNode`]): media cannot cross nodes. An
/// entity `locate` does not know is left as it is (the node answers `item-not-found`).
pub fn payload_to_node(
    el: &mut Element,
    external: &Jid,
    node: &Jid,
    locate: &dyn Fn(&str) -> Option<String>,
) -> Result<(), CrossNode> {
    for (name, value) in el.attrs_mut().iter_mut() {
        if !matches!(name.1.as_str(), "uri" | "call-uri") {
            continue;
        }
        let Some((jid, uri)) = jid_in(value) else {
            continue;
        };
        if jid.domain() != external.domain() {
            continue;
        }
        let Some(id) = jid.node() else { continue };
        match locate(id.as_str()) {
            Some(d) if d.eq_ignore_ascii_case(node.domain().as_str()) => {
                *value = render(&with_domain(&jid, node), uri);
            }
            Some(_) => {
                return Err(CrossNode {
                    call: id.as_str().to_owned(),
                })
            }
            None => {}
        }
    }
    for child in el.children_mut() {
        payload_to_node(child, external, node, locate)?;
    }
    Ok(())
}

/// Every JID under a node domain found in the stanza: in any attribute value (as a JID or an
/// `xmpp:` URI) or text. What goes to clients must give an empty list.
pub fn node_jids_in(el: &Element, is_node: &dyn Fn(&str) -> bool) -> Vec<String> {
    node_jids_among(el, is_node, &|_| true)
}

/// [`node_jids_in`], parsing only the values and words `may` says may name a node (see
/// [`NodeNames::may_name`]).
pub fn node_jids_among(
    el: &Element,
    is_node: &dyn Fn(&str) -> bool,
    may: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut found = Vec::new();
    scan(el, &|v| may(v) && names_node(v, is_node), &mut found);
    found
}

fn names_node(v: &str, is_node: &dyn Fn(&str) -> bool) -> bool {
    let jid = match jid_in(v) {
        Some((j, _)) => Some(j),
        None => Jid::new(v).ok(),
    };
    jid.is_some_and(|j| is_node(&j.domain().as_str().to_ascii_lowercase()))
}

fn scan(el: &Element, names: &dyn Fn(&str) -> bool, found: &mut Vec<String>) {
    for (_, v) in el.attrs().iter() {
        if names(v) {
            found.push(v.clone());
        }
    }
    for node in el.nodes() {
        match node {
            Node::Element(c) => scan(c, names, found),
            Node::Text(t) => {
                found.extend(t.split_whitespace().filter(|w| names(w)).map(str::to_owned))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> Jid {
        Jid::new(s).unwrap_or_else(|e| unreachable!("{s}: {e}"))
    }

    fn el(s: &str) -> Element {
        s.parse().unwrap_or_else(|e| unreachable!("{s}: {e}"))
    }

    fn is_node(d: &str) -> bool {
        d == "node1.shakespeare.lit" || d == "node2.shakespeare.lit"
    }

    #[test]
    fn every_uri_kind_goes_out_under_the_external_domain() {
        let ext = jid("shakespeare.lit");
        for payload in [
            "<ref xmlns='urn:xmpp:rayo:1' uri='xmpp:9f00061@node1.shakespeare.lit/comp1'/>",
            "<joined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:9f00061@node1.shakespeare.lit'/>",
            "<unjoined xmlns='urn:xmpp:rayo:1' call-uri='xmpp:a@node2.shakespeare.lit'/>",
            "<started-speaking xmlns='urn:xmpp:rayo:1' call-uri='xmpp:a@node1.shakespeare.lit'/>",
            "<stopped-speaking xmlns='urn:xmpp:rayo:1' call-uri='xmpp:a@node1.shakespeare.lit'/>",
            "<dial xmlns='urn:xmpp:rayo:1' to='sip:bob@node1.shakespeare.lit' \
              uri='xmpp:x@node1.shakespeare.lit'>\
              <join call-uri='xmpp:b@node1.shakespeare.lit'/></dial>",
        ] {
            let mut e = el(payload);
            payload_to_external(&mut e, &is_node, &ext);
            assert_eq!(
                node_jids_in(&e, &is_node),
                Vec::<String>::new(),
                "{payload}"
            );
            let xml = crate::envelope::to_xml(&e);
            assert!(xml.contains("@shakespeare.lit"), "{xml}");
        }
        let mut dial = el("<dial xmlns='urn:xmpp:rayo:1' to='sip:bob@node1.shakespeare.lit'/>");
        payload_to_external(&mut dial, &is_node, &ext);
        assert_eq!(
            dial.attr("to"),
            Some("sip:bob@node1.shakespeare.lit"),
            "SIP URIs are never rewritten"
        );
    }

    #[test]
    fn inward_uris_go_to_the_node_and_never_across_nodes() {
        let (ext, node1) = (jid("shakespeare.lit"), jid("node1.shakespeare.lit"));
        let locate = |id: &str| match id {
            "a" => Some("node1.shakespeare.lit".to_owned()),
            "b" => Some("node2.shakespeare.lit".to_owned()),
            _ => None,
        };
        let mut join = el("<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:a@shakespeare.lit'/>");
        assert_eq!(payload_to_node(&mut join, &ext, &node1, &locate), Ok(()));
        assert_eq!(join.attr("call-uri"), Some("xmpp:a@node1.shakespeare.lit"));
        let mut nested = el("<dial xmlns='urn:xmpp:rayo:1' to='sip:x@y'>\
            <join call-uri='xmpp:b@shakespeare.lit'/></dial>");
        assert_eq!(
            payload_to_node(&mut nested, &ext, &node1, &locate),
            Err(CrossNode { call: "b".into() })
        );
        let mut unknown = el("<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:zz@shakespeare.lit'/>");
        assert_eq!(payload_to_node(&mut unknown, &ext, &node1, &locate), Ok(()));
        assert_eq!(unknown.attr("call-uri"), Some("xmpp:zz@shakespeare.lit"));
    }

    /// The prefilter never hides a node: ASCII values in any case, and values with other
    /// characters, which are always parsed.
    #[test]
    fn the_prefilter_keeps_every_value_that_may_name_a_node() {
        let nodes = vec!["node1.shakespeare.lit".to_owned()];
        let may_name = |v: &str, nodes: &[String]| NodeNames::new(nodes).may_name(v);
        assert!(may_name("xmpp:a@NODE1.Shakespeare.lit/x", &nodes));
        assert!(may_name("a@node1.shakespeare.lit", &nodes));
        assert!(!may_name("urn:xmpp:rayo:1", &nodes));
        assert!(!may_name("sip:bob@127.0.0.1", &nodes));
        assert!(
            may_name("a@ｎｏｄｅ1.shakespeare.lit", &nodes),
            "non-ASCII: parsed"
        );
        let long = format!("{}@Node1.Shakespeare.LIT", "x".repeat(300));
        assert!(may_name(&long, &nodes), "longer than the stack buffer");
        assert!(!may_name(&"X".repeat(300), &nodes));
        assert!(!may_name("node1", &nodes), "shorter than any node");
        assert!(may_name("node1.shakespeare.lit", &nodes), "the whole value");
        assert!(
            may_name("nnode1.shakespeare.lit.", &nodes),
            "after a false start"
        );
        assert!(!may_name("node1.shakespeare.li", &nodes));
        let many: Vec<String> = [
            "Node1.Shakespeare.lit",
            "node2.shakespeare.lit",
            "n3.shakespeare.lit",
        ]
        .map(String::from)
        .to_vec();
        let names = NodeNames::new(&many);
        assert_eq!(names.suffix, b".shakespeare.lit");
        assert!(names.may_name("xmpp:a@NODE1.shakespeare.lit"));
        assert!(names.may_name("n3.shakespeare.lit"));
        assert!(!names.may_name("juliet@shakespeare.lit"));
        assert!(!names.may_name("n4.shakespeare.lit"));
        let unrelated = NodeNames::new(&["a.example".into(), "b.test".into()]);
        assert!(unrelated.may_name("x@b.test") && unrelated.may_name("a.example"));
        assert!(!unrelated.may_name("c.example"));
        assert!(NodeNames::new(&[]).suffix.is_empty() && !NodeNames::new(&[]).may_name("x@y"));
        // Non-ASCII domains whose shared tail ends inside a character (C3 A9, C5 A9).
        let idn = NodeNames::new(&["é.x".into(), "ũ.x".into()]);
        assert_eq!(idn.suffix, b"\xa9.x");
        assert!(idn.may_name("a@é.x") && !idn.may_name("a@b.x"));
        let e = el("<x xmlns='u' a='q@NODE1.shakespeare.lit/r' b='urn:x'><y>xmpp:node1.shakespeare.lit</y></x>");
        let may = |v: &str| may_name(v, &nodes);
        assert_eq!(
            node_jids_among(&e, &is_node, &may),
            node_jids_in(&e, &is_node)
        );
        assert_eq!(node_jids_among(&e, &is_node, &may).len(), 2);
    }

    #[test]
    fn the_scan_finds_node_jids_anywhere() {
        let e = el(
            "<x xmlns='u' a='q@node1.shakespeare.lit/r'><y>see xmpp:node2.shakespeare.lit</y></x>",
        );
        assert_eq!(node_jids_in(&e, &is_node).len(), 2);
    }
}
