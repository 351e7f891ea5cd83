//! Reading files that hold a sequence of stanzas (or bare payloads), as the XEP-0327
//! examples do: comments allowed between them, a non-XML tail reported, never a panic.

use minidom::Element;
use quick_xml::events::Event as XmlEvent;
use quick_xml::Reader;

use crate::address::EntityKind;
use crate::error::Error;
use crate::event::is_event;
use crate::ns;
use crate::payload::{Context, Payload};
use crate::stanza::Stanza;

/// One top-level element of a document, with where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// 1-based line of its start tag.
    pub line: usize,
    /// Its text, from `<` to the end of its end tag.
    pub text: String,
}

/// Something in a document that is not a well-formed top-level element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SyntaxError {
    /// 1-based line where the problem starts.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// What a chunk holds once read.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A whole stanza.
    Stanza(Stanza),
    /// A bare payload, read in the context its name implies.
    Payload(Payload),
}

/// Splits `input` into its top-level elements. Comments, processing instructions and white
/// space between them are skipped. The first thing that is not XML (text at the top level,
/// a syntax error) ends the split with a [`SyntaxError`].
pub fn split(input: &str) -> (Vec<Chunk>, Option<SyntaxError>) {
    // The reader skips a byte order mark without counting it in its positions: drop it
    // here so that its positions are positions in `input`.
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut reader = Reader::from_str(input);
    let mut chunks = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    // Positions from the reader may fall inside a multi-byte character (an error inside
    // one): count bytes, never slice the `str` there. A line feed is always one byte.
    let line_at = |pos: usize| {
        let upto = input.as_bytes().get(..pos).unwrap_or(input.as_bytes());
        upto.iter().filter(|&&b| b == b'\n').count() + 1
    };
    // Element boundaries are at `<` and `>`, so always character boundaries; were one not,
    // it would be reported, not panic.
    let text_of = |from: usize, to: usize| {
        input
            .get(from..to)
            .map(str::to_owned)
            .ok_or_else(|| SyntaxError {
                line: line_at(from),
                message: "element boundary inside a character (not XML)".to_owned(),
            })
    };
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let pos = usize::try_from(reader.error_position()).unwrap_or(before);
                let err = SyntaxError {
                    line: line_at(pos),
                    message: format!("not well-formed XML: {e}"),
                };
                return (chunks, Some(err));
            }
        };
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match ev {
            XmlEvent::Start(_) => {
                if depth == 0 {
                    start = before;
                }
                depth += 1;
            }
            XmlEvent::Empty(_) if depth == 0 => match text_of(before, after) {
                Ok(text) => chunks.push(Chunk {
                    line: line_at(before),
                    text,
                }),
                Err(err) => return (chunks, Some(err)),
            },
            XmlEvent::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    match text_of(start, after) {
                        Ok(text) => chunks.push(Chunk {
                            line: line_at(start),
                            text,
                        }),
                        Err(err) => return (chunks, Some(err)),
                    }
                }
            }
            XmlEvent::Text(t) if depth == 0 => {
                let raw = t.into_inner();
                let bytes: &[u8] = raw.as_bytes();
                let skipped = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
                if skipped < bytes.len() {
                    let err = SyntaxError {
                        line: line_at(before + skipped),
                        message: "text outside any element (not XML)".to_owned(),
                    };
                    return (chunks, Some(err));
                }
            }
            XmlEvent::CData(_) | XmlEvent::GeneralRef(_) if depth == 0 => {
                let err = SyntaxError {
                    line: line_at(before),
                    message: "text outside any element (not XML)".to_owned(),
                };
                return (chunks, Some(err));
            }
            XmlEvent::Eof => {
                let err = (depth > 0).then(|| SyntaxError {
                    line: line_at(start),
                    message: "element not closed before the end of the input".to_owned(),
                });
                return (chunks, err);
            }
            _ => {}
        }
    }
}

impl Chunk {
    /// Parses the chunk into an element; an element without a namespace is read as
    /// `jabber:client`, as stanzas on a client stream are.
    /// An element in no namespace (`xmlns=''`) is refused: nothing in XMPP lives there, and
    /// it would not print back as itself (it would read back in its parent's namespace, or
    /// as a `jabber:client` stanza).
    pub fn element(&self) -> Result<Element, Error> {
        let el =
            Element::from_reader_with_prefixes(self.text.as_bytes(), ns::JABBER_CLIENT.to_owned())
                .map_err(|e| Error::Stanza {
                    name: "xml".to_owned(),
                    reason: e.to_string(),
                })?;
        if let Some(name) = in_no_namespace(&el) {
            return Err(Error::Stanza {
                name,
                reason: "an element in no namespace (xmlns='')".to_owned(),
            });
        }
        Ok(el)
    }

    /// Parses and types the chunk: a stanza, or a bare payload. The rules the schema cannot
    /// express are not checked here (see [`Item::validate`]).
    pub fn item(&self) -> Result<Item, Error> {
        let elem = self.element()?;
        if matches!(elem.name(), "iq" | "presence" | "message") && elem.ns() == ns::JABBER_CLIENT {
            return Stanza::parse(elem).map(Item::Stanza);
        }
        Payload::parse(bare_context(&elem), elem).map(Item::Payload)
    }
}

impl Item {
    /// Checks the rules the schema cannot express.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Item::Stanza(s) => s.validate(),
            Item::Payload(p) => p.validate(),
        }
    }
}

impl From<Item> for Element {
    fn from(i: Item) -> Element {
        match i {
            Item::Stanza(s) => s.into(),
            Item::Payload(p) => p.into(),
        }
    }
}

/// The name of the first element of the tree in no namespace, if any.
fn in_no_namespace(el: &Element) -> Option<String> {
    if el.ns().is_empty() {
        return Some(el.name().to_owned());
    }
    el.children().find_map(in_no_namespace)
}

/// The fuzzing entry point (`fuzz/fuzz_targets/stanza.rs` is a one-line wrapper of it).
///
/// Decodes `data` as UTF-8 (lossily), [`split`]s it, reads and validates every chunk, then
/// serialises every item that was read, splits and reads that serialisation again, and
/// checks it comes back as one chunk, equal to the item, serialising to the same bytes: the
/// promise of `rayo stanza check` that its output reads back to itself.
///
/// # Panics
///
/// Only when an item does not survive that round trip, which is a bug the fuzzer must
/// report. Reading malformed input never panics.
pub fn fuzz_bytes(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (chunks, _) = split(&text);
    for chunk in chunks {
        let Ok(item) = chunk.item() else { continue };
        let _ = item.validate();
        let first = serialise(item.clone());
        let (again, err) = split(&first);
        assert_eq!(
            err, None,
            "the serialisation of {item:?} does not split: {first}"
        );
        assert_eq!(
            again.len(),
            1,
            "the serialisation of {item:?} splits in several: {first}"
        );
        let reread = again[0].item();
        assert_eq!(reread.as_ref(), Ok(&item), "{first} reads back differently");
        if let Ok(reread) = reread {
            assert_eq!(serialise(reread), first, "the serialisation is not stable");
        }
    }
}

/// The serialisation of an item, as `rayo stanza check` prints it (less the escaping of
/// line feeds that keeps it on one line).
fn serialise(item: Item) -> String {
    let mut xml = Vec::new();
    let written = Element::from(item).write_to(&mut xml);
    assert!(
        written.is_ok(),
        "an item read from XML does not serialise: {written:?}"
    );
    String::from_utf8_lossy(&xml).into_owned()
}

/// The context a bare payload is read in: where such an element is normally sent.
fn bare_context(elem: &Element) -> Context {
    let ns = elem.ns();
    let name = elem.name();
    match (ns.as_str(), name) {
        _ if is_event(&ns, name) => Context::Presence,
        (ns::RAYO, "ref") => Context::Result,
        (ns::CMR, "query") => Context::Get,
        (ns::RAYO, "dial") => Context::Set(EntityKind::Service),
        (ns::EXT, "stop") => Context::Set(EntityKind::Component),
        (ns::OUTPUT, "output") | (ns::INPUT, "input") | (ns::PROMPT, "prompt") => {
            Context::Set(EntityKind::Call)
        }
        (ns::RECORD, "record") => Context::Set(EntityKind::Call),
        (ns::OUTPUT | ns::RECORD, _) => Context::Set(EntityKind::Component),
        _ => Context::Set(EntityKind::Call),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn splits_with_comments_and_lines() {
        let doc = "<!-- caption -->\n<iq type='set' id='1' to='a@call.x'>\n  <answer xmlns='urn:xmpp:rayo:1'/>\n</iq>\n\n<presence to='b@x'/>\n";
        let (chunks, err) = split(doc);
        assert_eq!(err, None);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].line, 2);
        assert_eq!(chunks[1].line, 6);
        assert!(chunks[1].text.starts_with("<presence"));
    }

    #[test]
    fn reports_a_non_xml_tail() {
        let doc = "<message to='a@b'><body>x</body></message>\n\nMESSAGE sip:romeo@montague.lit SIP/2.0\nVia: x\n";
        let (chunks, err) = split(doc);
        assert_eq!(chunks.len(), 1);
        let err = err.expect("the SIP tail is reported");
        assert_eq!(err.line, 3);
    }

    /// Found by the `stanza` fuzz target: `<iq xmlns=''>` read as a payload in no
    /// namespace printed as `<iq>`, which reads back as a `jabber:client` stanza. Elements in
    /// no namespace are refused, at the root and below.
    #[test]
    fn elements_in_no_namespace_are_refused_and_the_round_trip_holds() {
        for doc in [
            "<iq xmlns='' type='result'><query xmlns='urn:xmpp:cmr:0'/></iq>",
            "<output xmlns='urn:xmpp:rayo:output:1'><x xmlns=''/></output>",
        ] {
            let (chunks, err) = split(doc);
            assert_eq!(err, None);
            let e = chunks[0].item().expect_err(doc);
            assert!(e.to_string().contains("no namespace"), "{e}");
            fuzz_bytes(doc.as_bytes());
        }
        let fine = "<iq type='result' id='1'><query xmlns='urn:xmpp:cmr:0'/></iq>";
        assert!(split(fine).0[0].item().is_ok());
    }

    #[test]
    fn reports_unclosed_and_broken_xml() {
        assert!(split("<iq type='set'>").1.is_some());
        assert!(split("<iq></presence>").1.is_some());
        assert!(split("<a><b></a>").1.is_some());
    }

    #[test]
    fn an_error_inside_a_multi_byte_character_is_reported_not_a_panic() {
        // Found by the fuzzer: after a byte order mark, the reader's error position fell
        // inside a U+FFFD.
        let crash = "\u{feff}<iq>\n  <doc:ment a='x'>\u{fffd}\u{fffd}  </document>\n</iq>\n";
        let (chunks, err) = split(crash);
        assert!(chunks.is_empty());
        assert_eq!(err.map(|e| e.line), Some(2));
        assert_eq!(
            split("\u{feff}<a>\u{e9}\u{e9}</ab>").1.map(|e| e.line),
            Some(1)
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let (chunks, err) = split("\u{feff}<a x='1'/>\n<b>\n</b>");
        assert_eq!(err, None);
        let texts: Vec<(usize, &str)> = chunks.iter().map(|c| (c.line, &c.text[..])).collect();
        assert_eq!(texts, [(1, "<a x='1'/>"), (2, "<b>\n</b>")]);
    }

    #[test]
    fn reads_stanzas_and_bare_payloads() {
        let (chunks, _) = split("<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'/>");
        assert!(matches!(
            chunks[0].item(),
            Ok(Item::Payload(Payload::Command(_)))
        ));
        let (chunks, _) = split("<iq type='result' id='x' from='a@b'/>");
        assert!(matches!(chunks[0].item(), Ok(Item::Stanza(_))));
    }
}
