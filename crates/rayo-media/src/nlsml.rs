//! NLSML results (`application/nlsml+xml`, RFC 6787 §6.3.1) for DTMF input: built for an
//! input component's `<match/>`, and parsed back into a typed [`NlsmlResult`].
//!
//! Built documents use the MRCPv2 namespace `urn:ietf:params:xml:ns:mrcpv2`; parsing also
//! accepts the older `http://www.ietf.org/xml/ns/mrcpv2` of XEP-0327's example 72, and a
//! confidence on the old 0-100 scale (any value above 1 is divided by 100).
//!
//! ```
//! use rayo_media::nlsml::NlsmlResult;
//!
//! let result = NlsmlResult::dtmf("session:grammar-0", "1234#", "1234");
//! let xml = result.to_xml();
//! assert!(xml.contains(r#"<input mode="dtmf" confidence="1">1 2 3 4 #</input>"#));
//! let back = NlsmlResult::parse(&xml)?;
//! assert_eq!(back, result);
//! assert_eq!(back.interpretations[0].instance.as_deref(), Some("1234"));
//! # Ok::<(), rayo_media::nlsml::Error>(())
//! ```

use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// The MRCPv2 namespace of NLSML results (RFC 6787).
pub const NS: &str = "urn:ietf:params:xml:ns:mrcpv2";
/// The namespace used by older drafts, and by XEP-0327's example 72.
pub const NS_OLD: &str = "http://www.ietf.org/xml/ns/mrcpv2";
/// The content type of NLSML documents.
pub const CONTENT_TYPE: &str = "application/nlsml+xml";
/// The largest NLSML document [`NlsmlResult::parse`] reads, in bytes.
pub const MAX_DOCUMENT: usize = 256 * 1024;
/// The deepest element nesting [`NlsmlResult::parse`] reads.
pub const MAX_DEPTH: usize = 64;

/// Why an NLSML document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Xml(String),
    /// Well-formed, but not an NLSML `<result>` (wrong root or namespace).
    #[error("not an NLSML result: {0}")]
    NotNlsml(String),
    /// A `confidence` that is not a number from 0 to 100.
    #[error("bad confidence {0:?}")]
    BadConfidence(String),
    /// Beyond [`MAX_DOCUMENT`] or [`MAX_DEPTH`].
    #[error("NLSML document too large")]
    TooLarge,
}

/// An NLSML `<result>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NlsmlResult {
    /// The `grammar` attribute of `<result>`.
    pub grammar: Option<String>,
    /// The `<interpretation>`s, best first.
    pub interpretations: Vec<Interpretation>,
}

/// One `<interpretation>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Interpretation {
    /// The grammar that matched.
    pub grammar: Option<String>,
    /// The confidence, 0 to 1.
    pub confidence: Option<f64>,
    /// What was received.
    pub input: Option<Input>,
    /// The semantic result: the text of `<instance>` (text inside child elements included).
    pub instance: Option<String>,
}

/// An `<input>`: what the caller entered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Input {
    /// `dtmf` or `speech`.
    pub mode: Option<String>,
    /// The confidence, 0 to 1.
    pub confidence: Option<f64>,
    /// The text: for DTMF, the digits separated by spaces.
    pub text: String,
}

impl Input {
    /// The DTMF digits of the text, without the spaces.
    pub fn digits(&self) -> String {
        self.text.split_whitespace().collect()
    }
}

/// The characters XML 1.0 allows in text.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

fn clean(s: &str) -> String {
    s.chars().filter(|&c| xml_char(c)).collect()
}

impl NlsmlResult {
    /// The result of a DTMF match: the digits (written space-separated), the grammar that
    /// matched, confidence 1 and the interpretation as the instance.
    pub fn dtmf(grammar: &str, digits: &str, interpretation: &str) -> Self {
        let text = digits
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            grammar: None,
            interpretations: vec![Interpretation {
                grammar: Some(grammar.to_owned()),
                confidence: Some(1.0),
                input: Some(Input {
                    mode: Some("dtmf".into()),
                    confidence: Some(1.0),
                    text,
                }),
                instance: Some(interpretation.to_owned()),
            }],
        }
    }

    /// Serialises the result (characters XML cannot carry are dropped).
    pub fn to_xml(&self) -> String {
        let mut out = format!(r#"<result xmlns="{NS}""#);
        let attr = |out: &mut String, name: &str, v: &str| {
            // White space is written as references: attribute value normalisation would
            // turn it into plain spaces.
            let value = escape(clean(v).as_str())
                .replace('\t', "&#9;")
                .replace('\n', "&#10;")
                .replace('\r', "&#13;");
            out.push_str(&format!(r#" {name}="{value}""#));
        };
        if let Some(g) = &self.grammar {
            attr(&mut out, "grammar", g);
        }
        out.push('>');
        for i in &self.interpretations {
            out.push_str("<interpretation");
            if let Some(g) = &i.grammar {
                attr(&mut out, "grammar", g);
            }
            if let Some(c) = i.confidence {
                attr(&mut out, "confidence", &c.to_string());
            }
            out.push('>');
            if let Some(input) = &i.input {
                out.push_str("<input");
                if let Some(m) = &input.mode {
                    attr(&mut out, "mode", m);
                }
                if let Some(c) = input.confidence {
                    attr(&mut out, "confidence", &c.to_string());
                }
                out.push('>');
                out.push_str(&escape(clean(&input.text).as_str()));
                out.push_str("</input>");
            }
            if let Some(inst) = &i.instance {
                out.push_str("<instance>");
                out.push_str(&escape(clean(inst).as_str()));
                out.push_str("</instance>");
            }
            out.push_str("</interpretation>");
        }
        out.push_str("</result>");
        out
    }

    /// Parses an NLSML result.
    pub fn parse(xml: &str) -> Result<Self, Error> {
        if xml.len() > MAX_DOCUMENT {
            return Err(Error::TooLarge);
        }
        let xml_err = |e: &dyn std::fmt::Display| Error::Xml(e.to_string());
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut path: Vec<String> = Vec::new();
        let mut result: Option<NlsmlResult> = None;
        loop {
            let event = reader.read_event().map_err(|e| xml_err(&e))?;
            let (start, empty) = match &event {
                Event::Start(e) => (Some(e), false),
                Event::Empty(e) => (Some(e), true),
                _ => (None, false),
            };
            if let Some(e) = start {
                let name = e.local_name().as_ref().to_owned();
                match (path.len(), name.as_str()) {
                    (0, "result") if result.is_none() => {
                        match get(e, "xmlns")?.as_deref() {
                            None | Some(NS) | Some(NS_OLD) => {}
                            Some(other) => {
                                return Err(Error::NotNlsml(format!("namespace {other:?}")))
                            }
                        }
                        result = Some(NlsmlResult {
                            grammar: get(e, "grammar")?,
                            interpretations: Vec::new(),
                        });
                    }
                    (0, _) => return Err(Error::NotNlsml(format!("root element <{name}>"))),
                    (1, "interpretation") => {
                        if let Some(r) = result.as_mut() {
                            r.interpretations.push(Interpretation {
                                grammar: get(e, "grammar")?,
                                confidence: confidence(e)?,
                                ..Interpretation::default()
                            });
                        }
                    }
                    (2, "input") if path[1] == "interpretation" => {
                        if let Some(i) = last(&mut result) {
                            i.input = Some(Input {
                                mode: get(e, "mode")?,
                                confidence: confidence(e)?,
                                text: String::new(),
                            });
                        }
                    }
                    (2, "instance") if path[1] == "interpretation" => {
                        if let Some(i) = last(&mut result) {
                            i.instance = Some(String::new());
                        }
                    }
                    _ => {}
                }
                if !empty {
                    path.push(name);
                    if path.len() > MAX_DEPTH {
                        return Err(Error::TooLarge);
                    }
                }
                continue;
            }
            let text = match event {
                Event::End(_) => {
                    path.pop();
                    continue;
                }
                Event::Text(t) => t.xml10_content().into_owned(),
                Event::CData(t) => t.xml10_content().into_owned(),
                Event::GeneralRef(r) => crate::srgs::parse::reference(&r)
                    .map_err(|e| xml_err(&e))?
                    .into_owned(),
                Event::Eof => break,
                _ => continue,
            };
            let slot = match (
                path.get(1).map(String::as_str),
                path.get(2).map(String::as_str),
            ) {
                (Some("interpretation"), Some("input")) if path.len() == 3 => last(&mut result)
                    .and_then(|i| i.input.as_mut())
                    .map(|i| &mut i.text),
                (Some("interpretation"), Some("instance")) => {
                    last(&mut result).and_then(|i| i.instance.as_mut())
                }
                _ => None,
            };
            if let Some(slot) = slot {
                slot.push_str(&text);
            }
        }
        if !path.is_empty() {
            return Err(Error::Xml("unclosed element at the end".into()));
        }
        result.ok_or_else(|| Error::NotNlsml("no <result> element".into()))
    }
}

fn last(result: &mut Option<NlsmlResult>) -> Option<&mut Interpretation> {
    result.as_mut().and_then(|r| r.interpretations.last_mut())
}

fn get(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, Error> {
    crate::srgs::parse::attr(e, name).map_err(|e| Error::Xml(e.to_string()))
}

/// A `confidence` attribute: 0 to 1, or 0 to 100 on the old scale.
fn confidence(e: &BytesStart<'_>) -> Result<Option<f64>, Error> {
    let Some(v) = get(e, "confidence")? else {
        return Ok(None);
    };
    match v.trim().parse::<f64>() {
        Ok(c) if (0.0..=1.0).contains(&c) => Ok(Some(c)),
        Ok(c) if (1.0..=100.0).contains(&c) => Ok(Some(c / 100.0)),
        _ => Err(Error::BadConfidence(v.chars().take(40).collect())),
    }
}

/// Fuzz entry point: arbitrary bytes parsed as NLSML; anything that parses is serialised and
/// must parse again. Never panics on any input.
pub fn fuzz_nlsml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(result) = NlsmlResult::parse(text) {
        let again = NlsmlResult::parse(&result.to_xml());
        debug_assert!(again.is_ok(), "{again:?}");
    }
}
