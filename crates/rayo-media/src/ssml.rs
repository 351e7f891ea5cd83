//! SSML documents (`application/ssml+xml`, W3C Speech Synthesis Markup Language 1.0/1.1),
//! checked before they reach the synthesiser.
//!
//! [`parse`] checks that the document is well-formed XML whose root is `<speak>` (in the
//! SSML namespace or none), that every unprefixed element is an SSML element, and lists the
//! elements used. Elements of other namespaces (prefixed, such as `tts:style`) are passed on
//! and left to the synthesiser. The prolog (XML declaration, `DOCTYPE`) is cut off:
//! [`Ssml::body`] starts at `<speak`, because espeak-ng would read a `DOCTYPE` aloud.
//!
//! What espeak-ng honours ([`HONOURED`]): `speak` (and its `xml:lang`), `voice` (`name`,
//! `gender`, `age`, `xml:lang`), `prosody` (`rate`, `pitch`, `volume`, `range`), `break`
//! (`time`, `strength`), `emphasis`, `say-as` (`characters`, `tts:char`, digits), `sub`
//! (its `alias` is spoken), `p` and `s` (pauses), `audio` (its content, the fallback, is
//! spoken; `src` is not fetched) and `mark` (accepted, silent: output has no mark events).
//! The other SSML elements (`phoneme`, `lexicon`, `lookup`, `meta`, `metadata`, `desc`,
//! `lang`, `token`, `w`) are accepted and their text is spoken plainly.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// The SSML content type.
pub const CONTENT_TYPE: &str = "application/ssml+xml";
/// The SSML namespace.
pub const NS: &str = "http://www.w3.org/2001/10/synthesis";
/// The largest document accepted, in bytes.
pub const MAX_DOCUMENT: usize = 256 * 1024;
/// The deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// The SSML elements espeak-ng acts upon (see the module documentation).
pub const HONOURED: &[&str] = &[
    "speak", "voice", "prosody", "break", "emphasis", "say-as", "sub", "p", "s", "audio", "mark",
];
/// Every element of SSML 1.0 and 1.1.
pub const ELEMENTS: &[&str] = &[
    "speak",
    "voice",
    "prosody",
    "break",
    "emphasis",
    "say-as",
    "sub",
    "p",
    "s",
    "audio",
    "mark",
    "phoneme",
    "lexicon",
    "lookup",
    "meta",
    "metadata",
    "desc",
    "lang",
    "token",
    "w",
    "paragraph",
    "sentence",
];

/// Why an SSML document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not well-formed XML.
    #[error("SSML is not well-formed: {0}")]
    Xml(String),
    /// The root element is not `<speak>`, or it is of another namespace.
    #[error("SSML root must be <speak> in {NS}, not {0}")]
    NotSpeak(String),
    /// An unprefixed element that SSML does not define.
    #[error("<{0}> is not an SSML element")]
    UnknownElement(String),
    /// A document larger than [`MAX_DOCUMENT`] or nested deeper than [`MAX_DEPTH`].
    #[error("SSML document too large: {0}")]
    TooLarge(&'static str),
}

/// A checked SSML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssml {
    /// The document from its `<speak` on (the prolog cut off).
    pub body: String,
    /// The distinct elements used, in order of first appearance (prefixed names as written).
    pub elements: Vec<String>,
    /// The `xml:lang` of `<speak>`, if any.
    pub lang: Option<String>,
    /// The text content, white space collapsed (what would be spoken, roughly).
    pub text: String,
}

impl Ssml {
    /// The elements used that espeak-ng does not act upon (their text is still spoken).
    pub fn unhonoured(&self) -> impl Iterator<Item = &str> {
        self.elements
            .iter()
            .map(String::as_str)
            .filter(|e| !e.contains(':') && !HONOURED.contains(e))
    }
}

fn xml_err(e: impl std::fmt::Display) -> Error {
    Error::Xml(e.to_string())
}

/// An attribute's value by qualified name.
fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, Error> {
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        if a.key.as_ref() == name {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(xml_err)?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// Parses and checks an SSML document.
pub fn parse(xml: &str) -> Result<Ssml, Error> {
    if xml.len() > MAX_DOCUMENT {
        return Err(Error::TooLarge("document"));
    }
    // A byte order mark is no part of the document (XML 1.0 §4.3.3): the body handed to the
    // synthesiser starts at `<speak`.
    let xml = xml.trim_start_matches('\u{feff}').trim();
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let (mut depth, mut start, mut closed) = (0usize, None, false);
    let mut doc = Ssml {
        body: String::new(),
        elements: Vec::new(),
        lang: None,
        text: String::new(),
    };
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(xml_err)?;
        let (e, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                closed |= depth == 0;
                continue;
            }
            Event::Text(t) => {
                let t = t.xml10_content();
                if depth == 0 && !t.trim().is_empty() {
                    return Err(Error::Xml("text outside the root element".into()));
                }
                push_text(&mut doc.text, &t);
                continue;
            }
            Event::CData(t) => {
                push_text(&mut doc.text, &t.xml10_content());
                continue;
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(xml_err)? {
                    Some(c) => c,
                    None => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(Error::Xml(format!("unknown entity &{other};"))),
                    },
                };
                doc.text.push(c);
                continue;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
        };
        let name = e.name().as_ref().to_owned();
        if depth == 0 {
            if start.is_some() {
                return Err(Error::Xml("more than one root element".into()));
            }
            let ns = attr(&e, "xmlns")?;
            if name != "speak" || ns.as_deref().is_some_and(|ns| ns != NS) {
                return Err(Error::NotSpeak(format!(
                    "<{name}> {}",
                    ns.unwrap_or_default()
                )));
            }
            doc.lang = attr(&e, "xml:lang")?;
            start = Some(before);
        } else if !name.contains(':') && !ELEMENTS.contains(&name.as_str()) {
            return Err(Error::UnknownElement(name));
        }
        if !doc.elements.contains(&name) {
            doc.elements.push(name);
        }
        if empty {
            closed |= depth == 0;
        } else {
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(Error::TooLarge("element nesting"));
            }
        }
    }
    match start {
        Some(at) if closed && depth == 0 => {
            doc.body = xml.get(at..).unwrap_or(xml).trim_start().to_owned();
            doc.text = doc.text.trim().to_owned();
            Ok(doc)
        }
        Some(_) => Err(Error::Xml("unclosed element at the end".into())),
        None => Err(Error::NotSpeak("no element".into())),
    }
}

/// Appends text, collapsing white space.
fn push_text(out: &mut String, t: &str) {
    let lead = t.starts_with(char::is_whitespace);
    for (i, word) in t.split_whitespace().enumerate() {
        if (i > 0 || lead) && !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(word);
    }
    if t.ends_with(char::is_whitespace) && !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

/// Fuzz entry point: arbitrary bytes as an SSML document. Never panics.
pub fn fuzz_bytes(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(doc) = parse(text) {
            let _ = doc.unhonoured().count();
            assert!(doc.body.starts_with("<speak"), "body starts at the root");
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Found by the fuzzer: a document starting with a byte order mark.
    #[test]
    fn a_byte_order_mark_is_not_part_of_the_body() {
        let doc = parse("\u{feff}<speak>Thanks</speak>").expect("parses");
        assert!(doc.body.starts_with("<speak"), "{:?}", doc.body);
    }

    /// The SSML of XEP-0327 example 61 (prolog and all).
    pub(crate) const EXAMPLE: &str = r#"
        <?xml version="1.0"?>
        <!DOCTYPE speak PUBLIC "-//W3C//DTD SYNTHESIS 1.0//EN"
                          "http://www.w3.org/TR/speech-synthesis/synthesis.dtd">
        <speak version="1.0"
               xmlns="http://www.w3.org/2001/10/synthesis"
               xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
               xsi:schemaLocation="http://www.w3.org/2001/10/synthesis
                           http://www.w3.org/TR/speech-synthesis/synthesis.xsd"
               xml:lang="en-US">
          <p>
            <s>You have 4 new messages.</s>
            <s>The first is from Stephanie Williams and arrived at <break/> 3:45pm.</s>
            <s>
              The subject is <prosody rate="-20%">ski trip</prosody>
            </s>
          </p>
        </speak>
      "#;

    #[test]
    fn the_spec_example_parses_and_loses_its_prolog() {
        let d = parse(EXAMPLE).expect("parses");
        assert!(d.body.starts_with("<speak version"));
        assert!(d.body.ends_with("</speak>"));
        assert_eq!(d.elements, ["speak", "p", "s", "break", "prosody"]);
        assert_eq!(d.lang.as_deref(), Some("en-US"));
        assert!(
            d.text.starts_with("You have 4 new messages. The first"),
            "{}",
            d.text
        );
        assert!(d.text.ends_with("ski trip"));
        assert_eq!(d.unhonoured().count(), 0);
    }

    #[test]
    fn unhonoured_and_foreign_elements_are_accepted_and_listed() {
        let d = parse(
            r#"<speak xmlns:tts="urn:x"><phoneme ph="t">tomato</phoneme><tts:style/></speak>"#,
        )
        .expect("parses");
        assert_eq!(d.unhonoured().collect::<Vec<_>>(), ["phoneme"]);
        assert!(d.elements.contains(&"tts:style".to_owned()));
    }

    #[test]
    fn invalid_documents_are_refused() {
        assert!(matches!(parse("<speak>hello"), Err(Error::Xml(_))));
        assert!(matches!(
            parse("<speak><p></s></speak>"),
            Err(Error::Xml(_))
        ));
        assert!(matches!(parse("<grammar/>"), Err(Error::NotSpeak(_))));
        assert!(matches!(
            parse(r#"<speak xmlns="urn:other"/>"#),
            Err(Error::NotSpeak(_))
        ));
        assert!(matches!(
            parse("<speak><blink/></speak>"),
            Err(Error::UnknownElement(_))
        ));
        assert!(matches!(parse("<speak/><speak/>"), Err(Error::Xml(_))));
        assert!(parse("hello").is_err());
        assert!(matches!(
            parse("<speak>&bogus;</speak>"),
            Err(Error::Xml(_))
        ));
        // As deep as the attack of issue 12 §1 (≈ 3 500 levels): refused, no overflow.
        let deep = "<s>".repeat(3_500) + &"</s>".repeat(3_500);
        assert!(matches!(
            parse(&format!("<speak>{deep}</speak>")),
            Err(Error::TooLarge(_))
        ));
        assert!(parse(&" ".repeat(MAX_DOCUMENT + 1)).is_err());
    }

    #[test]
    fn an_empty_speak_is_fine() {
        let d = parse("<speak/>").expect("parses");
        assert_eq!(d.body, "<speak/>");
        assert!(d.text.is_empty());
    }

    #[test]
    fn the_fuzz_seed_corpus_parses_as_expected() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/ssml");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("seed file");
        for good in [
            "example-61.ssml",
            "example-73.ssml",
            "elements.ssml",
            "plain.ssml",
        ] {
            let d = parse(&read(good)).expect(good);
            assert_eq!(d.unhonoured().count(), 0, "{good}");
        }
        let d = parse(&read("unhonoured.ssml")).expect("parses");
        assert_eq!(
            d.unhonoured().collect::<Vec<_>>(),
            ["phoneme", "lexicon", "meta"]
        );
        assert!(d.text.ends_with("&A"), "{}", d.text);
        assert!(parse(&read("malformed.ssml")).is_err());
    }

    proptest! {
        #[test]
        fn text_round_trips_through_escaping(words in proptest::collection::vec("[a-z<>&]{1,8}", 1..10)) {
            let text = words.join(" ");
            let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            let d = parse(&format!("<speak><s>{escaped}</s></speak>")).expect("parses");
            prop_assert_eq!(d.text.split(' ').count(), words.len());
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            fuzz_bytes(&data);
        }
    }
}
