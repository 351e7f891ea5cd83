//! The SRGS 1.0 XML form read into a rule tree ([`Rules`]), with quick-xml.
//!
//! Supported: `<grammar>` (`mode="dtmf"` or no mode, `root`), `<rule id scope>`,
//! `<one-of>`, `<item repeat weight>` (`repeat-prob` ignored), `<ruleref uri="#id">` and
//! `<ruleref special="NULL|VOID|GARBAGE">`, `<token>`, text tokens (each DTMF
//! symbol one token, separated by white space or adjacent, optionally in double quotes),
//! and `<tag>` whose text is the literal interpretation.
//! `<meta>`, `<metadata>`, `<lexicon>` and `<example>` are skipped. Everything else is
//! refused with an [`Error`].
//!
//! ```
//! use rayo_media::srgs::parse::parse;
//!
//! let rules = parse(r#"<grammar xmlns="http://www.w3.org/2001/06/grammar" mode="dtmf">
//!     <rule id="yes" scope="public">1 <tag>yes</tag></rule></grammar>"#)?;
//! assert_eq!(rules.root, 0);
//! assert!(parse("<grammar mode='dtmf'><rule id='r' scope='public'>x</rule></grammar>").is_err());
//! # Ok::<(), rayo_media::srgs::Error>(())
//! ```

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{symbol_index, Error, MAX_DEPTH, MAX_DOCUMENT, MAX_REPEAT, NS};

/// One node of a rule's expansion.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// One DTMF symbol out of a set (bit `i` is symbol `i` of `0-9 * # A-D`).
    Symbols(u16),
    /// The nodes one after the other.
    Seq(Vec<Node>),
    /// One of the alternatives, each with its weight.
    OneOf(Vec<(f64, Node)>),
    /// The node repeated `min` to `max` times (`None`: no upper bound).
    Repeat {
        /// What is repeated.
        node: Box<Node>,
        /// The fewest repetitions.
        min: u32,
        /// The most repetitions, if bounded.
        max: Option<u32>,
    },
    /// A reference to the rule of that index.
    Rule(usize),
    /// `NULL`: matches without input.
    Null,
    /// `VOID`: never matches.
    Void,
    /// `GARBAGE`: any sequence of digits (possibly none).
    Garbage,
    /// A tag: its text becomes the interpretation when the match goes through it.
    Tag(String),
    /// A reference to a rule by id, before [`parse`] resolves it to [`Node::Rule`].
    RuleId(String),
}

/// One rule of a grammar.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule's `id`.
    pub id: String,
    /// `scope="public"`.
    pub public: bool,
    /// The rule's expansion.
    pub body: Node,
}

/// A parsed grammar: its rules, and which one is the root.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// The rules in document order.
    pub rules: Vec<Rule>,
    /// The index of the root rule.
    pub root: usize,
}

/// One open element during parsing.
enum Frame {
    Grammar,
    Rule {
        id: String,
        public: bool,
        seq: Seq,
    },
    OneOf(Vec<(f64, Node)>),
    Item {
        weight: f64,
        repeat: Option<(u32, Option<u32>)>,
        seq: Seq,
    },
    Token(String),
    Tag(String),
    RuleRef,
    Skip,
}

/// The children of a rule or item, with text not yet split into tokens.
#[derive(Default)]
struct Seq {
    nodes: Vec<Node>,
    text: String,
}

impl Seq {
    fn flush(&mut self) -> Result<(), Error> {
        tokens(&self.text, &mut self.nodes)?;
        self.text.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<Node, Error> {
        self.flush()?;
        Ok(if self.nodes.len() == 1 {
            self.nodes.pop().unwrap_or(Node::Null)
        } else if self.nodes.is_empty() {
            Node::Null
        } else {
            Node::Seq(self.nodes)
        })
    }
}

/// Reads DTMF tokens from text, one [`Node::Symbols`] per symbol, onto `out`.
///
/// As in ruby_speech and mod_rayo (and allowed by SRGS 1.0 §2.1), symbols may be separated
/// by white space or written adjacent (`715` is `7 1 5`), and a token may be written in
/// double quotes (`"*"`, `" 6 "`), the quotes being dropped. Anything else in the text (a
/// letter other than `A`-`D`, an unbalanced quote) is a [`Error::BadToken`].
fn tokens(text: &str, out: &mut Vec<Node>) -> Result<(), Error> {
    let bad = |t: &str| Error::BadToken(t.trim().chars().take(40).collect());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        rest = &rest[start..];
        let (word, next) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"').ok_or_else(|| bad(rest))?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        for c in word.chars().filter(|c| !c.is_whitespace()) {
            let i = symbol_index(c).ok_or_else(|| bad(word))?;
            out.push(Node::Symbols(1 << i));
        }
        rest = next;
    }
    Ok(())
}

/// The content of a `<token>` element: at least one DTMF symbol (see [`tokens`]).
fn token(t: &str) -> Result<Node, Error> {
    let mut nodes = Vec::new();
    tokens(t, &mut nodes)?;
    match nodes.len() {
        0 => Err(Error::BadToken(t.chars().take(40).collect())),
        1 => Ok(nodes.swap_remove(0)),
        _ => Ok(Node::Seq(nodes)),
    }
}

fn xml_err(e: impl std::fmt::Display) -> Error {
    Error::Xml(e.to_string())
}

/// The value of an attribute by its qualified name, unescaped.
pub(crate) fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, Error> {
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        if a.key.as_ref() == name {
            return Ok(Some(
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(xml_err)?
                    .into_owned(),
            ));
        }
    }
    Ok(None)
}

/// The text of an entity or character reference (`&amp;`, `&#49;`).
pub(crate) fn reference(
    name: &quick_xml::events::BytesRef<'_>,
) -> Result<Cow<'static, str>, Error> {
    if let Some(c) = name.resolve_char_ref().map_err(xml_err)? {
        return Ok(Cow::Owned(c.to_string()));
    }
    Ok(Cow::Borrowed(match &**name {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        other => return Err(Error::Xml(format!("unknown entity &{other};"))),
    }))
}

/// Parses an SRGS XML grammar in DTMF mode.
pub fn parse(xml: &str) -> Result<Rules, Error> {
    if xml.len() > MAX_DOCUMENT {
        return Err(Error::TooLarge("document"));
    }
    // A document given as CDATA often starts with white space before its declaration.
    let mut reader = Reader::from_str(xml.trim_start());
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Frame> = Vec::new();
    let mut rules: Vec<(String, bool, Node)> = Vec::new();
    let mut root_attr: Option<String> = None;
    let mut seen_root = false;
    loop {
        let event = reader.read_event().map_err(xml_err)?;
        match event {
            Event::Start(e) => {
                let frame = if matches!(stack.last(), Some(Frame::Skip)) {
                    Frame::Skip
                } else {
                    open(&e, &mut stack, &mut root_attr, &mut seen_root)?
                };
                stack.push(frame);
                if stack.len() > MAX_DEPTH {
                    return Err(Error::TooLarge("element nesting"));
                }
            }
            Event::Empty(e) => {
                if !matches!(stack.last(), Some(Frame::Skip)) {
                    let frame = open(&e, &mut stack, &mut root_attr, &mut seen_root)?;
                    stack.push(frame);
                    close(&mut stack, &mut rules)?;
                }
            }
            Event::End(_) => close(&mut stack, &mut rules)?,
            Event::Text(t) => text(&mut stack, &t.xml10_content())?,
            Event::CData(t) => text(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(r) => text(&mut stack, &reference(&r)?)?,
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !seen_root {
        return Err(Error::NotSrgs("no <grammar> element".into()));
    }
    if !stack.is_empty() {
        return Err(Error::Xml("unclosed element at the end".into()));
    }
    resolve(rules, root_attr)
}

/// Opens an element under the current frame.
fn open(
    e: &BytesStart<'_>,
    stack: &mut [Frame],
    root_attr: &mut Option<String>,
    seen_root: &mut bool,
) -> Result<Frame, Error> {
    let name = e.local_name().as_ref().to_owned();
    if let Some(Frame::Rule { seq, .. } | Frame::Item { seq, .. }) = stack.last_mut() {
        seq.flush()?;
    }
    let parent = stack.last();
    let allowed_in_seq = matches!(parent, Some(Frame::Rule { .. } | Frame::Item { .. }));
    Ok(match name.as_str() {
        "grammar" if parent.is_none() && !*seen_root => {
            *seen_root = true;
            if let Some(ns) = attr(e, "xmlns")? {
                if ns != NS {
                    return Err(Error::NotSrgs(format!("namespace {ns:?}")));
                }
            }
            if let Some(mode) = attr(e, "mode")? {
                if mode.trim() != "dtmf" {
                    return Err(Error::NotDtmf(mode));
                }
            }
            *root_attr = attr(e, "root")?;
            Frame::Grammar
        }
        _ if parent.is_none() => return Err(Error::NotSrgs(format!("root element <{name}>"))),
        "meta" | "metadata" | "lexicon" | "example" => Frame::Skip,
        "rule" if matches!(parent, Some(Frame::Grammar)) => {
            let id = attr(e, "id")?.ok_or_else(|| Error::BadRuleId("missing id".into()))?;
            let public = match attr(e, "scope")?.as_deref() {
                None | Some("private") => false,
                Some("public") => true,
                Some(other) => return Err(Error::BadScope(other.into())),
            };
            Frame::Rule {
                id,
                public,
                seq: Seq::default(),
            }
        }
        "one-of" if allowed_in_seq => Frame::OneOf(Vec::new()),
        "item" if allowed_in_seq || matches!(parent, Some(Frame::OneOf(_))) => {
            let weight = match attr(e, "weight")? {
                None => 1.0,
                Some(w) => match w.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() && v > 0.0 => v,
                    _ => return Err(Error::BadWeight(w)),
                },
            };
            let repeat = attr(e, "repeat")?.map(|r| parse_repeat(&r)).transpose()?;
            Frame::Item {
                weight,
                repeat,
                seq: Seq::default(),
            }
        }
        "token" if allowed_in_seq => Frame::Token(String::new()),
        "tag" if allowed_in_seq => Frame::Tag(String::new()),
        "ruleref" if allowed_in_seq => {
            let node = match (attr(e, "uri")?, attr(e, "special")?) {
                (Some(uri), None) => match uri.trim().strip_prefix('#') {
                    Some(id) if !id.is_empty() => Node::RuleId(id.to_owned()),
                    _ => return Err(Error::BadRuleRef(format!("not a local rule: {uri:?}"))),
                },
                (None, Some(s)) => match s.trim() {
                    "NULL" => Node::Null,
                    "VOID" => Node::Void,
                    "GARBAGE" => Node::Garbage,
                    other => return Err(Error::BadRuleRef(format!("special {other:?}"))),
                },
                _ => return Err(Error::BadRuleRef("needs one of uri and special".into())),
            };
            if let Some(Frame::Rule { seq, .. } | Frame::Item { seq, .. }) = stack.last_mut() {
                seq.nodes.push(node);
            }
            Frame::RuleRef
        }
        _ => return Err(Error::UnexpectedElement(name)),
    })
}

/// Parses `N`, `N-M` or `N-`.
fn parse_repeat(r: &str) -> Result<(u32, Option<u32>), Error> {
    let bad = || Error::BadRepeat(r.chars().take(40).collect());
    let num = |s: &str| -> Result<u32, Error> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match s.parse::<u32>() {
            Ok(n) if n <= MAX_REPEAT => Ok(n),
            _ => Err(Error::TooLarge("repeat count")),
        }
    };
    let (min, max) = match r.split_once('-') {
        None => {
            let n = num(r)?;
            (n, Some(n))
        }
        Some((a, b)) if b.trim().is_empty() => (num(a)?, None),
        Some((a, b)) => (num(a)?, Some(num(b)?)),
    };
    match max {
        Some(m) if m < min => Err(bad()),
        _ => Ok((min, max)),
    }
}

/// Closes the innermost element, giving its node to its parent.
fn close(stack: &mut Vec<Frame>, rules: &mut Vec<(String, bool, Node)>) -> Result<(), Error> {
    let node = match stack.pop() {
        Some(Frame::Rule { id, public, seq }) => {
            rules.push((id, public, seq.finish()?));
            return Ok(());
        }
        Some(Frame::OneOf(alts)) => {
            if alts.is_empty() {
                return Err(Error::UnexpectedElement("one-of without items".into()));
            }
            let max = alts.iter().map(|a| a.0).fold(0.0, f64::max);
            Node::OneOf(alts.into_iter().map(|(w, n)| (w / max, n)).collect())
        }
        Some(Frame::Item {
            weight,
            repeat,
            seq,
        }) => {
            let node = seq.finish()?;
            let node = match repeat {
                None => node,
                Some((min, max)) => Node::Repeat {
                    node: Box::new(node),
                    min,
                    max,
                },
            };
            if let Some(Frame::OneOf(alts)) = stack.last_mut() {
                alts.push((weight, node));
                return Ok(());
            }
            node
        }
        Some(Frame::Token(t)) => token(t.trim())?,
        Some(Frame::Tag(t)) => Node::Tag(t.trim().to_owned()),
        Some(Frame::Grammar | Frame::RuleRef | Frame::Skip) | None => return Ok(()),
    };
    if let Some(Frame::Rule { seq, .. } | Frame::Item { seq, .. }) = stack.last_mut() {
        seq.nodes.push(node);
    }
    Ok(())
}

/// Text inside the current element.
fn text(stack: &mut [Frame], t: &str) -> Result<(), Error> {
    match stack.last_mut() {
        Some(Frame::Rule { seq, .. } | Frame::Item { seq, .. }) => seq.text.push_str(t),
        Some(Frame::Token(s) | Frame::Tag(s)) => s.push_str(t),
        Some(Frame::Skip) => {}
        _ if t.trim().is_empty() => {}
        _ => return Err(Error::UnexpectedText(t.trim().chars().take(40).collect())),
    }
    Ok(())
}

/// Resolves rule references to indices and picks the root rule.
fn resolve(rules: Vec<(String, bool, Node)>, root_attr: Option<String>) -> Result<Rules, Error> {
    let mut index = HashMap::new();
    for (i, (id, _, _)) in rules.iter().enumerate() {
        if index.insert(id.clone(), i).is_some() {
            return Err(Error::BadRuleId(format!("duplicate id {id:?}")));
        }
    }
    let root = match root_attr {
        Some(r) => *index
            .get(r.trim())
            .ok_or_else(|| Error::NoRoot(format!("root {r:?} names no rule")))?,
        None => rules
            .iter()
            .position(|r| r.1)
            .ok_or_else(|| Error::NoRoot("no root attribute and no public rule".into()))?,
    };
    let rules = rules
        .into_iter()
        .map(|(id, public, body)| {
            Ok(Rule {
                id,
                public,
                body: link(body, &index)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Rules { rules, root })
}

/// Replaces [`Node::RuleId`] by [`Node::Rule`].
fn link(node: Node, index: &HashMap<String, usize>) -> Result<Node, Error> {
    Ok(match node {
        Node::RuleId(id) => Node::Rule(*index.get(&id).ok_or(Error::UnknownRule(id))?),
        Node::Seq(v) => Node::Seq(
            v.into_iter()
                .map(|n| link(n, index))
                .collect::<Result<_, _>>()?,
        ),
        Node::OneOf(v) => Node::OneOf(
            v.into_iter()
                .map(|(w, n)| Ok((w, link(n, index)?)))
                .collect::<Result<_, Error>>()?,
        ),
        Node::Repeat { node, min, max } => Node::Repeat {
            node: Box::new(link(*node, index)?),
            min,
            max,
        },
        other => other,
    })
}
