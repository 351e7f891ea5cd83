//! SRGS 1.0 DTMF grammars: parsing, matching, and the VoiceXML builtin DTMF grammars.
//!
//! A grammar comes from a client, so everything here is bounded: [`parse`] refuses documents
//! that are too big or too deep, [`matcher`] compiles the grammar to a nondeterministic
//! automaton whose size is capped (repeat counts, rule expansions and recursion through
//! `ruleref` give an [`Error`], never unbounded work), and matching one digit costs at most
//! one pass over that automaton. [`builtin`] builds the same automaton from a
//! `builtin:dtmf/NAME?param=value` URI.
//!
//! ```
//! use rayo_media::srgs::{Grammar, MatchState};
//!
//! let grammar = Grammar::parse(r#"
//!     <grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" mode="dtmf" root="pin">
//!       <rule id="pin">
//!         <one-of>
//!           <item><item repeat="4"><one-of><item>1</item><item>2</item></one-of></item> #</item>
//!           <item>* 9 <tag>operator</tag></item>
//!         </one-of>
//!       </rule>
//!     </grammar>"#)?;
//! let mut m = grammar.matcher();
//! for d in "1212".chars() {
//!     assert_eq!(m.push(d)?, MatchState::Potential);
//! }
//! assert_eq!(m.push('#')?, MatchState::MaxMatch);
//! assert_eq!(m.interpretation().as_deref(), Some("1212#"));
//!
//! let mut m = grammar.matcher();
//! m.push_str("*9")?;
//! assert_eq!(m.state(), MatchState::MaxMatch);
//! assert_eq!(m.interpretation().as_deref(), Some("operator"));
//!
//! let digits = Grammar::builtin("builtin:dtmf/digits?minlength=2;maxlength=3")?;
//! assert_eq!(digits.match_digits("12")?.0, MatchState::Match);
//! assert_eq!(digits.match_digits("123")?.0, MatchState::MaxMatch);
//! # Ok::<(), rayo_media::srgs::Error>(())
//! ```

pub mod builtin;
pub mod matcher;
pub mod parse;

pub use matcher::{Grammar, MatchState, Matcher};

/// The SRGS namespace.
pub const NS: &str = "http://www.w3.org/2001/06/grammar";

/// The content type of SRGS XML grammars.
pub const CONTENT_TYPE: &str = "application/srgs+xml";

/// The largest grammar document accepted, in bytes.
pub const MAX_DOCUMENT: usize = 256 * 1024;
/// The deepest element nesting accepted in a grammar document.
pub const MAX_DEPTH: usize = 64;
/// The largest count accepted in an item's `repeat`.
pub const MAX_REPEAT: u32 = 1000;
/// The most automaton states a grammar may expand to (repeats and rulerefs multiply).
pub const MAX_STATES: usize = 50_000;
/// The deepest chain of `ruleref` expansions accepted.
pub const MAX_RULEREF_DEPTH: usize = 32;

/// Why a grammar was refused. Every variant is the client's fault: a server answers
/// `bad-request` (see [`Error::condition`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The document is not well-formed XML (or not UTF-8).
    #[error("not well-formed XML: {0}")]
    Xml(String),
    /// The document is well-formed but not an SRGS grammar (wrong root element or namespace).
    #[error("not an SRGS grammar: {0}")]
    NotSrgs(String),
    /// The grammar's `mode` is not `dtmf`.
    #[error("grammar mode {0:?} is not dtmf")]
    NotDtmf(String),
    /// Text that is not DTMF symbols (`0`-`9`, `*`, `#`, `A`-`D`), or an unbalanced quote.
    #[error("not a DTMF token: {0:?}")]
    BadToken(String),
    /// A digit given to the matcher that is not a DTMF symbol.
    #[error("not a DTMF digit: {0:?}")]
    UnknownDigit(char),
    /// An element SRGS does not allow where it was found.
    #[error("unexpected element <{0}>")]
    UnexpectedElement(String),
    /// Text where SRGS allows none (directly in `<grammar>` or `<one-of>`).
    #[error("unexpected text {0:?}")]
    UnexpectedText(String),
    /// A `<rule>` without an `id`, or with one already used.
    #[error("bad rule id: {0}")]
    BadRuleId(String),
    /// A `scope` other than `public` or `private`.
    #[error("bad rule scope {0:?}")]
    BadScope(String),
    /// An item's `repeat` that is not `N`, `N-M` or `N-` with `N <= M <= MAX_REPEAT`.
    #[error("bad repeat {0:?}")]
    BadRepeat(String),
    /// An item's `weight` that is not a positive finite number.
    #[error("bad weight {0:?}")]
    BadWeight(String),
    /// A `<ruleref>` without exactly one of a local `uri="#id"` and a `special`.
    #[error("bad ruleref: {0}")]
    BadRuleRef(String),
    /// A `<ruleref>` to a rule the grammar does not define.
    #[error("ruleref to unknown rule {0:?}")]
    UnknownRule(String),
    /// No root rule: no `root` attribute and no public rule, or a `root` naming no rule.
    #[error("no usable root rule: {0}")]
    NoRoot(String),
    /// A rule that refers to itself through rulerefs, or rulerefs nested deeper than
    /// [`MAX_RULEREF_DEPTH`].
    #[error("recursive or too deeply nested ruleref: {0}")]
    Recursive(String),
    /// The document or its expansion is beyond a limit (the text says which).
    #[error("grammar too large: {0}")]
    TooLarge(&'static str),
    /// A `builtin:` URI that names no builtin DTMF grammar or has bad parameters.
    #[error("bad builtin grammar: {0}")]
    BadBuiltin(String),
}

impl Error {
    /// The stanza error condition a Rayo server answers with: always `bad-request`.
    pub fn condition(&self) -> &'static str {
        "bad-request"
    }
}

/// The 16 DTMF symbols in index order: the index is the bit of a symbol set.
pub(crate) const SYMBOLS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

/// The index of a DTMF symbol (`a`-`d` accepted for `A`-`D`).
pub(crate) fn symbol_index(c: char) -> Option<u8> {
    Some(match c {
        '0'..='9' => c as u8 - b'0',
        '*' => 10,
        '#' => 11,
        'A'..='D' => c as u8 - b'A' + 12,
        'a'..='d' => c as u8 - b'a' + 12,
        _ => return None,
    })
}

/// Fuzz entry point: arbitrary bytes as an SRGS document, then as a builtin URI; any grammar
/// that parses is run over digits taken from the same bytes. Never panics.
pub fn fuzz_grammar(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let digits: String = data
        .iter()
        .take(64)
        .map(|b| SYMBOLS[usize::from(b & 15)])
        .collect();
    for grammar in [Grammar::parse(text), Grammar::builtin(text)]
        .into_iter()
        .flatten()
    {
        let mut m = grammar.matcher();
        let _ = m.push_str(&digits);
        let _ = m.interpretation();
    }
}
