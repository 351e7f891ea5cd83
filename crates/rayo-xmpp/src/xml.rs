//! Incremental reading and writing of XMPP streams (RFC 6120 §4).
//!
//! [`StreamReader`] takes bytes in whatever pieces the network delivers and yields the stream
//! header, each top-level element (stanza or nonza) as a [`minidom::Element`], and the end of
//! the stream. It never buffers more than the configured stanza size: the bytes of every
//! top-level element, and any text between them, are counted as they are parsed. It also
//! bounds how deep elements nest inside a stanza ([`DEFAULT_MAX_DEPTH`] levels unless told
//! otherwise), checked as each start tag is parsed, before anything is built: element trees
//! are dropped, cloned and serialised recursively, so a stanza nested thousands of levels
//! deep (a few KiB of `<a><a><a>…`) would otherwise overflow the stack.

use std::collections::VecDeque;

use minidom::tree_builder::TreeBuilder;
use minidom::{Element, Node};
use rxml::error::EndOrError;
use rxml::{Parse, RawEvent, RawParser};

use crate::stream_error::Condition;

/// The namespace of the stream element itself.
pub const NS_STREAMS: &str = "http://etherx.jabber.org/streams";

/// The opening `<stream:stream>` a peer sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamHeader {
    /// `to`.
    pub to: Option<String>,
    /// `from`.
    pub from: Option<String>,
    /// `id`.
    pub id: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// The default namespace (`jabber:client`, `jabber:component:accept`, …).
    pub ns: String,
}

/// How many element levels a stanza may hold below itself by default: `<iq>` with a
/// `<query>` inside is 1 level, and no XMPP or Rayo payload needs more than a handful.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// What the reader found in the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum XmlEvent {
    /// The stream header.
    Open(StreamHeader),
    /// A complete top-level element.
    Element(Element),
    /// `</stream:stream>`.
    Close,
}

/// Why the reader gave up; each maps to the stream error to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The bytes are not well-formed XML (RFC 6120 §4.9.3.13).
    #[error("not well-formed: {0}")]
    NotWellFormed(String),
    /// A top-level element (or text between them) exceeds the configured limit.
    #[error("stanza larger than {limit} bytes")]
    TooBig {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Elements nest more levels below a top-level element than the configured limit.
    #[error("elements nested more than {limit} levels deep in a stanza")]
    TooDeep {
        /// The limit, in element levels below the stanza.
        limit: usize,
    },
    /// The root is not `<stream:stream>` in the streams namespace.
    #[error("invalid namespace: {0}")]
    InvalidNamespace(String),
}

impl ReadError {
    /// The stream error condition for this failure.
    pub fn condition(&self) -> Condition {
        match self {
            ReadError::NotWellFormed(_) => Condition::NotWellFormed,
            // Both are local policy on well-formed XML (RFC 6120 §4.9.3.18 names a size
            // limit as its example); `<restricted-xml/>` is for XML features XMPP forbids.
            ReadError::TooBig { .. } | ReadError::TooDeep { .. } => Condition::PolicyViolation,
            ReadError::InvalidNamespace(_) => Condition::InvalidNamespace,
        }
    }
}

/// An incremental XMPP stream parser with a bound on the size of each stanza.
pub struct StreamReader {
    parser: RawParser,
    tree: TreeBuilder,
    max_stanza: usize,
    max_depth: usize,
    counted: usize,
    in_element: bool,
    opened: bool,
    failed: Option<ReadError>,
    default_ns: Option<String>,
}

impl std::fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("max_stanza", &self.max_stanza)
            .field("max_depth", &self.max_depth)
            .field("opened", &self.opened)
            .finish_non_exhaustive()
    }
}

impl StreamReader {
    /// A reader for a new stream whose top-level elements may be at most `max_stanza` bytes,
    /// nesting at most [`DEFAULT_MAX_DEPTH`] levels below themselves.
    pub fn new(max_stanza: usize) -> Self {
        StreamReader::with_limits(max_stanza, DEFAULT_MAX_DEPTH)
    }

    /// A reader whose top-level elements may be at most `max_stanza` bytes and hold elements
    /// at most `max_depth` levels below themselves (0: no child elements at all); deeper
    /// nesting is [`ReadError::TooDeep`], found at the start tag that goes too deep.
    pub fn with_limits(max_stanza: usize, max_depth: usize) -> Self {
        let mut parser = RawParser::new();
        // Emit text as it arrives so that the size limit sees it at once.
        parser.set_text_buffering(false);
        StreamReader {
            parser,
            tree: TreeBuilder::new(),
            max_stanza,
            max_depth,
            counted: 0,
            in_element: false,
            opened: false,
            failed: None,
            default_ns: None,
        }
    }

    /// Starts over for a restarted stream (after STARTTLS or SASL, RFC 6120 §4.3.3).
    pub fn reset(&mut self) {
        *self = StreamReader::with_limits(self.max_stanza, self.max_depth);
    }

    /// Parses `data`, appending what it completes to `out`. Partial input is kept until the
    /// rest arrives. After an error every later call returns the same error.
    pub fn feed(&mut self, mut data: &[u8], out: &mut VecDeque<XmlEvent>) -> Result<(), ReadError> {
        while let Some(ev) = self.next_event(&mut data)? {
            out.push_back(ev);
        }
        Ok(())
    }

    /// Parses from `data` up to the next complete event, consuming only the bytes it needs:
    /// what is left in `data` belongs to whatever comes next (a restarted stream after SASL).
    /// `Ok(None)` means all of `data` was consumed without completing an event.
    pub fn next_event(&mut self, data: &mut &[u8]) -> Result<Option<XmlEvent>, ReadError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut out = VecDeque::with_capacity(1);
        loop {
            match self.parser.parse(data, false) {
                Ok(Some(ev)) => {
                    if let Err(e) = self.process(ev, &mut out) {
                        self.failed = Some(e.clone());
                        return Err(e);
                    }
                    if let Some(ev) = out.pop_front() {
                        return Ok(Some(ev));
                    }
                }
                Ok(None) | Err(EndOrError::NeedMoreData) => return Ok(None),
                Err(EndOrError::Error(e)) => {
                    let e = ReadError::NotWellFormed(e.to_string());
                    self.failed = Some(e.clone());
                    return Err(e);
                }
            }
        }
    }

    fn count(&mut self, len: usize) -> Result<(), ReadError> {
        self.counted = self.counted.saturating_add(len);
        if self.counted > self.max_stanza {
            return Err(ReadError::TooBig {
                limit: self.max_stanza,
            });
        }
        Ok(())
    }

    fn tree(&mut self, ev: RawEvent) -> Result<(), ReadError> {
        self.tree
            .process_event(ev)
            .map_err(|e| ReadError::NotWellFormed(e.to_string()))
    }

    fn process(&mut self, ev: RawEvent, out: &mut VecDeque<XmlEvent>) -> Result<(), ReadError> {
        let len = ev.metrics().len();
        if !self.opened {
            // The stream header counts against the same limit.
            self.count(len)?;
            let closes_head = matches!(ev, RawEvent::ElementHeadClose(_));
            if matches!(ev, RawEvent::Text(..)) {
                return Ok(());
            }
            if let RawEvent::Attribute(_, (None, name), value) = &ev {
                if name.as_str() == "xmlns" {
                    self.default_ns = Some(value.as_str().to_owned());
                }
            }
            self.tree(ev)?;
            if closes_head {
                let Some(root) = self.tree.top() else {
                    return Err(ReadError::NotWellFormed("no root element".into()));
                };
                if root.name() != "stream" || root.ns() != NS_STREAMS {
                    return Err(ReadError::InvalidNamespace(format!(
                        "root <{} xmlns='{}'> is not <stream:stream>",
                        root.name(),
                        root.ns()
                    )));
                }
                let header = StreamHeader {
                    to: root.attr("to").map(str::to_owned),
                    from: root.attr("from").map(str::to_owned),
                    id: root.attr("id").map(str::to_owned),
                    version: root.attr("version").map(str::to_owned),
                    ns: self.default_ns.take().unwrap_or_default(),
                };
                self.opened = true;
                self.counted = 0;
                out.push_back(XmlEvent::Open(header));
            }
            return Ok(());
        }
        self.count(len)?;
        let depth = self.tree.depth();
        match ev {
            RawEvent::Text(..) if depth <= 1 && !self.in_element => {
                // Whitespace keepalives between stanzas: counted, never stored.
                Ok(())
            }
            RawEvent::ElementFoot(_) if depth <= 1 => {
                out.push_back(XmlEvent::Close);
                Ok(())
            }
            RawEvent::ElementHeadOpen(..) if depth == 1 => {
                self.in_element = true;
                self.tree(ev)
            }
            // An element opened at tree depth `d` (the stream is 1, the stanza 2) is `d - 1`
            // levels below the stanza.
            RawEvent::ElementHeadOpen(..) if depth > self.max_depth.saturating_add(1) => {
                Err(ReadError::TooDeep {
                    limit: self.max_depth,
                })
            }
            RawEvent::ElementFoot(_) if depth == 2 => {
                self.tree(ev)?;
                self.in_element = false;
                self.counted = 0;
                if let Some(el) = self.tree.unshift_child() {
                    out.push_back(XmlEvent::Element(el));
                }
                Ok(())
            }
            ev => self.tree(ev),
        }
    }
}

/// Moves every element of `el` in namespace `from` (`el` included) to `to` (component
/// streams carry stanzas in `jabber:component:accept`; handlers see `jabber:client`). Only
/// the elements in `from` are rebuilt, with their attributes and children moved into the new
/// element; everything else (a stanza's payload, as a rule) stays where it is, in one walk.
pub fn renamespace(mut el: Element, from: &str, to: &str) -> Element {
    if from == to {
        return el;
    }
    rename_below(&mut el, from, to);
    if el.has_ns(from) {
        moved_to(el, to)
    } else {
        el
    }
}

/// [`renamespace`] for the elements below `el`.
fn rename_below(el: &mut Element, from: &str, to: &str) {
    for child in el.children_mut() {
        rename_below(child, from, to);
        if child.has_ns(from) {
            let old = std::mem::replace(child, Element::bare("x", ""));
            *child = moved_to(old, to);
        }
    }
}

/// `el` in namespace `to`, its attributes and children moved over.
fn moved_to(mut el: Element, to: &str) -> Element {
    let mut out = Element::builder(el.name(), to).build();
    *out.attrs_mut() = std::mem::take(el.attrs_mut());
    for node in el.take_nodes() {
        out.append_node(node);
    }
    out
}

/// Serialises a stanza into a stream whose default namespace is `stream_ns`: a top-level
/// element in `jabber:client` or `jabber:component:accept` is written in the stream's
/// namespace (with every element of its namespace below it, as [`renamespace`] would move
/// them, without building that copy).
pub fn write_stanza(out: &mut String, el: &Element, stream_ns: &str) {
    let rename = [JABBER_CLIENT, JABBER_COMPONENT]
        .into_iter()
        .find(|ns| *ns != stream_ns && el.has_ns(*ns));
    write_in(out, el, stream_ns, rename.map(|from| (from, stream_ns)));
}

/// Sets (or replaces) an unqualified attribute.
pub fn set_attr(el: &mut Element, name: &str, value: impl Into<String>) {
    if let Ok(n) = rxml::NcName::try_from(name) {
        el.attrs_mut()
            .insert(rxml::Namespace::NONE, n, value.into());
    }
}

/// Removes an unqualified attribute.
pub fn remove_attr(el: &mut Element, name: &str) {
    if let Ok(n) = rxml::NcName::try_from(name) {
        el.attrs_mut().remove(&rxml::Namespace::NONE, &n);
    }
}

/// The c2s namespace.
pub const JABBER_CLIENT: &str = "jabber:client";
/// The XEP-0114 namespace.
pub const JABBER_COMPONENT: &str = "jabber:component:accept";

/// Escapes text or an attribute value.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['<', '>', '&', '\'', '"']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Serialises `el` as a child of an element whose default namespace is `parent_ns`: the
/// `xmlns` is written only where the namespace changes, so stanzas written into a stream come
/// out in the stream's namespace (`jabber:client` or `jabber:component:accept`) without
/// repeating it.
pub fn write_element(out: &mut String, el: &Element, parent_ns: &str) {
    write_in(out, el, parent_ns, None);
}

/// [`write_element`], writing every element in namespace `rename.0` in `rename.1`.
fn write_in(out: &mut String, el: &Element, parent_ns: &str, rename: Option<(&str, &str)>) {
    // The element's namespace, copied out of it only where it changes (its `ns()` is a copy).
    let own;
    let ns: &str = match rename {
        Some((from, to)) if el.has_ns(from) => to,
        _ if el.has_ns(parent_ns) => parent_ns,
        _ => {
            own = el.ns();
            &own
        }
    };
    out.push('<');
    out.push_str(el.name());
    if ns != parent_ns {
        out.push_str(" xmlns='");
        out.push_str(&escape(ns));
        out.push('\'');
    }
    let mut extra = 0usize;
    for ((attr_ns, name), value) in el.attrs().iter() {
        out.push(' ');
        if attr_ns.is_none() {
        } else if attr_ns.as_str() == rxml::XMLNS_XML {
            out.push_str("xml:");
        } else {
            extra += 1;
            out.push_str(&format!(
                "xmlns:a{extra}='{}' a{extra}:",
                escape(attr_ns.as_str())
            ));
        }
        out.push_str(name.as_str());
        out.push_str("='");
        out.push_str(&escape(value));
        out.push('\'');
    }
    let mut nodes = el.nodes().peekable();
    if nodes.peek().is_none() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for node in nodes {
        match node {
            Node::Element(child) => write_in(out, child, ns, rename),
            Node::Text(t) => out.push_str(&escape(t)),
        }
    }
    out.push_str("</");
    out.push_str(el.name());
    out.push('>');
}

/// The opening of a stream this side sends (with the XML declaration).
pub fn stream_header(ns: &str, from: Option<&str>, to: Option<&str>, id: Option<&str>) -> String {
    let mut s = format!(
        "<?xml version='1.0'?><stream:stream xmlns='{}' xmlns:stream='{NS_STREAMS}' version='1.0' xml:lang='en'",
        escape(ns)
    );
    for (name, value) in [("from", from), ("to", to), ("id", id)] {
        if let Some(v) = value {
            s.push_str(&format!(" {name}='{}'", escape(v)));
        }
    }
    s.push('>');
    s
}

/// The end of a stream.
pub const STREAM_CLOSE: &str = "</stream:stream>";

/// Fuzz entry point: a stanza of the extreme [`Shape`](rayo_proto::shape::Shape) that `data`
/// describes, fed to a stream reader in pieces of the size `data` gives. A stanza nested
/// deeper than [`DEFAULT_MAX_DEPTH`] must be [`ReadError::TooDeep`], any other one read.
///
/// # Panics
///
/// When the reader accepts a stanza nested too deep or refuses one that is not: the bug the
/// fuzzer looks for.
pub fn fuzz_shape(data: &[u8]) {
    let Some(shape) = rayo_proto::shape::Shape::from_bytes(data) else {
        return;
    };
    let stream = format!(
        "<stream:stream xmlns='jabber:client' xmlns:stream='{NS_STREAMS}' to='x'>{}",
        shape.inside("message", " to='y'")
    );
    let mut reader = StreamReader::new(usize::MAX);
    let mut out = VecDeque::new();
    let piece = usize::from(data[4]).max(1) * 16;
    let mut result = Ok(());
    for chunk in stream.as_bytes().chunks(piece) {
        result = reader.feed(chunk, &mut out);
        if result.is_err() {
            break;
        }
    }
    let below = shape.depth + usize::from(shape.width > 0);
    if below > DEFAULT_MAX_DEPTH {
        assert_eq!(
            result,
            Err(ReadError::TooDeep {
                limit: DEFAULT_MAX_DEPTH
            })
        );
    } else {
        assert_eq!(result, Ok(()));
        assert!(
            matches!(out.back(), Some(XmlEvent::Element(_))),
            "the stanza is read"
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

    /// Elements of the stanza's namespace are moved wherever they are (an `<error>`, a
    /// message forwarded inside a payload), the rest is left as it was; writing a stanza
    /// into a stream of the other namespace gives what writing its moved copy gives.
    #[test]
    fn a_stanzas_namespace_moves_everywhere_below_it_and_nothing_else_does() {
        let el: Element = "<message xmlns='jabber:component:accept' to='a@b' type='chat'>\
            <body>hi</body><x xmlns='urn:x' k='v'><y/>text</x>\
            <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:component:accept' \
            id='1'><body>inner</body></message></forwarded></message>"
            .parse()
            .expect("xml");
        let moved = renamespace(el.clone(), JABBER_COMPONENT, JABBER_CLIENT);
        assert!(moved.has_ns(JABBER_CLIENT) && moved.attr("to") == Some("a@b"));
        let inner = moved
            .get_child("forwarded", "urn:xmpp:forward:0")
            .and_then(|f| f.get_child("message", JABBER_CLIENT))
            .expect("the forwarded message moved");
        assert!(inner.get_child("body", JABBER_CLIENT).is_some());
        assert_eq!(moved.get_child("x", "urn:x"), el.get_child("x", "urn:x"));
        let mut direct = String::new();
        write_stanza(&mut direct, &el, JABBER_CLIENT);
        let mut via_copy = String::new();
        write_element(&mut via_copy, &moved, JABBER_CLIENT);
        assert_eq!(direct, via_copy);
        assert!(
            direct.starts_with("<message to='a@b' type='chat'><body>hi</body>"),
            "{direct}"
        );
        assert!(!direct.contains("component"), "{direct}");
        // And back: a client stanza written into a component stream.
        let mut back = String::new();
        write_stanza(&mut back, &moved, JABBER_COMPONENT);
        let mut original = String::new();
        write_element(&mut original, &el, JABBER_COMPONENT);
        assert_eq!(back, original);
    }

    fn feed_all(r: &mut StreamReader, data: &[u8]) -> Result<Vec<XmlEvent>, ReadError> {
        let mut out = VecDeque::new();
        r.feed(data, &mut out)?;
        Ok(out.into_iter().collect())
    }

    #[test]
    fn reads_header_stanzas_and_close_byte_by_byte() {
        let doc = format!(
            "{HEADER} <message to='a@b'><body>hi &amp; bye</body></message>\n<iq type='get' id='1'/></stream:stream>"
        );
        let mut r = StreamReader::new(10_000);
        let mut events = Vec::new();
        for b in doc.as_bytes() {
            events.extend(feed_all(&mut r, std::slice::from_ref(b)).expect("well-formed"));
        }
        assert_eq!(events.len(), 4, "{events:?}");
        let XmlEvent::Open(h) = &events[0] else {
            panic!("no header: {events:?}")
        };
        assert_eq!(h.to.as_deref(), Some("example.com"));
        assert_eq!(h.version.as_deref(), Some("1.0"));
        let XmlEvent::Element(m) = &events[1] else {
            panic!("no message")
        };
        assert!(m.is("message", "jabber:client"));
        assert_eq!(
            m.get_child("body", "jabber:client").map(|b| b.text()),
            Some("hi & bye".into())
        );
        assert!(matches!(&events[2], XmlEvent::Element(e) if e.is("iq", "jabber:client")));
        assert_eq!(events[3], XmlEvent::Close);
    }

    #[test]
    fn refuses_malformed_xml() {
        let mut r = StreamReader::new(10_000);
        feed_all(&mut r, HEADER.as_bytes()).expect("header");
        let err = feed_all(&mut r, b"<message><body></message>").expect_err("mismatch");
        assert_eq!(err.condition(), Condition::NotWellFormed);
        // Later input gets the same answer.
        assert!(feed_all(&mut r, b"<iq/>").is_err());
    }

    #[test]
    fn bounds_stanza_size_across_chunks() {
        let mut r = StreamReader::new(200);
        feed_all(&mut r, HEADER.as_bytes()).expect("header");
        // Many small stanzas are fine.
        for _ in 0..50 {
            feed_all(&mut r, b"<presence/>").expect("small");
        }
        feed_all(&mut r, b"<message><body>").expect("partial");
        let mut failed = None;
        for _ in 0..30 {
            if let Err(e) = feed_all(&mut r, b"0123456789") {
                failed = Some(e);
                break;
            }
        }
        assert_eq!(failed, Some(ReadError::TooBig { limit: 200 }));
    }

    /// A stanza with `levels` elements nested below it.
    fn nested(levels: usize) -> String {
        format!(
            "<message>{}{}</message>",
            "<a>".repeat(levels),
            "</a>".repeat(levels)
        )
    }

    #[test]
    fn accepts_nesting_up_to_the_limit() {
        let mut r = StreamReader::with_limits(1 << 20, 5);
        feed_all(&mut r, HEADER.as_bytes()).expect("header");
        let events = feed_all(&mut r, nested(5).as_bytes()).expect("5 levels are allowed");
        let [XmlEvent::Element(m)] = &events[..] else {
            panic!("one stanza: {events:?}")
        };
        assert!(m.is("message", "jabber:client"));
        // The stream goes on after it.
        assert_eq!(feed_all(&mut r, b"<presence/>").expect("next").len(), 1);
    }

    #[test]
    fn refuses_nesting_beyond_the_limit() {
        let mut r = StreamReader::with_limits(1 << 20, 5);
        feed_all(&mut r, HEADER.as_bytes()).expect("header");
        let err = feed_all(&mut r, nested(6).as_bytes()).expect_err("6 levels");
        assert_eq!(err, ReadError::TooDeep { limit: 5 });
        assert_eq!(err.condition(), Condition::PolicyViolation);
        assert!(
            feed_all(&mut r, b"<presence/>").is_err(),
            "the stream is over"
        );
    }

    #[test]
    fn a_stanza_nested_100_000_deep_is_refused_without_overflowing_the_stack() {
        // Under the size limit, far over the depth: refused at the 65th level, so no deep
        // tree is ever built (building, dropping or writing one would overflow the stack).
        let mut r = StreamReader::new(1 << 20);
        feed_all(&mut r, HEADER.as_bytes()).expect("header");
        let deep = "<a>".repeat(100_000);
        let err = feed_all(&mut r, format!("<iq>{deep}").as_bytes()).expect_err("too deep");
        assert_eq!(
            err,
            ReadError::TooDeep {
                limit: DEFAULT_MAX_DEPTH
            }
        );
        // The default is reachable: 64 levels pass, after a reset.
        r.reset();
        feed_all(&mut r, HEADER.as_bytes()).expect("header");
        let ok = feed_all(&mut r, nested(DEFAULT_MAX_DEPTH).as_bytes()).expect("64 levels");
        assert_eq!(ok.len(), 1);
    }

    #[test]
    fn refuses_a_wrong_root() {
        let mut r = StreamReader::new(1000);
        let err = feed_all(&mut r, b"<html xmlns='x'>").expect_err("not a stream");
        assert_eq!(err.condition(), Condition::InvalidNamespace);
    }

    #[test]
    fn writes_stanzas_without_repeating_the_stream_namespace() {
        let el: Element =
            "<iq xmlns='jabber:client' type='result' id='a&amp;b'><query xmlns='urn:x' xml:lang='en'>t&lt;</query></iq>"
                .parse()
                .expect("xml");
        let mut s = String::new();
        write_element(&mut s, &el, "jabber:client");
        assert_eq!(
            s,
            "<iq id='a&amp;b' type='result'><query xmlns='urn:x' xml:lang='en'>t&lt;</query></iq>"
                .replace("id='a&amp;b' type='result'", &attr_order(&el))
        );
        let mut c = String::new();
        write_element(&mut c, &el, "jabber:component:accept");
        assert!(c.starts_with("<iq xmlns='jabber:client'"), "{c}");
    }

    fn attr_order(el: &Element) -> String {
        el.attrs()
            .iter()
            .map(|((_, n), v)| format!("{}='{}'", n.as_str(), escape(v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn stanzas_of_extreme_shapes_are_read_or_refused_as_too_deep() {
        // depth 3 500 (the attack of issue 12 §1), then just inside and just beyond the bound.
        for depth in [3_500u16, 63, 64, 65, 0] {
            let [d0, d1] = depth.to_le_bytes();
            fuzz_shape(&[d0, d1, 0x10, 0x27, 3, b'1']);
            fuzz_shape(&[d0, d1, 0, 0, 200]);
        }
    }
}
