//! The VoiceXML 2.0 builtin DTMF grammars (appendix P), from `builtin:dtmf/NAME?p=v;p=v`.
//!
//! | name | digits accepted | interpretation |
//! |---|---|---|
//! | `digits` | `0`-`9`, `minlength` (default 1) to `maxlength` (default unbounded), or exactly `length` | the digits |
//! | `boolean` | `y` (default `1`) or `n` (default `2`), each a DTMF string | `true` / `false` |
//! | `number` | digits, optionally `*` then more digits (the decimal point) | the digits, `*` as `.` |
//! | `currency` | as `number` (`*` separates the cents) | the digits, `*` as `.` |
//! | `date` | `YYYYMMDD`: 8 digits, month `01`-`12`, day `01`-`31` | the 8 digits |
//! | `phone` | digits, optionally `*` then the extension's digits | the digits, `*` as `x` |
//! | `time` | `HHMM`: hour `00`-`23`, minute `00`-`59` | the 4 digits |
//!
//! Parameters are separated by `;` (or `&`); an unknown name or parameter, a non-numeric
//! length, `minlength > maxlength`, or a length above [`MAX_REPEAT`] is
//! refused with [`Error::BadBuiltin`]. None of them includes `#`, which is left free to be
//! the terminator.
//!
//! ```
//! use rayo_media::srgs::{Grammar, MatchState};
//!
//! let yes_no = Grammar::builtin("builtin:dtmf/boolean?y=7;n=9")?;
//! assert_eq!(yes_no.match_digits("7")?, (MatchState::MaxMatch, Some("true".into())));
//! let phone = Grammar::builtin("builtin:dtmf/phone")?;
//! assert_eq!(phone.match_digits("5551234*12")?, (MatchState::Match, Some("5551234x12".into())));
//! assert!(Grammar::builtin("builtin:dtmf/digits?length=x").is_err());
//! # Ok::<(), rayo_media::srgs::Error>(())
//! ```

use super::matcher::{Grammar, Interpret};
use super::parse::{Node, Rule, Rules};
use super::{symbol_index, Error, MAX_REPEAT};

/// The digits `0`-`9` as a symbol set.
const DIGIT: u16 = 0x3ff;

/// The symbol set of the digits `lo..=hi`.
fn range(lo: u8, hi: u8) -> Node {
    Node::Symbols((lo..=hi).fold(0, |m, d| m | (1 << d)))
}

fn seq(nodes: Vec<Node>) -> Node {
    Node::Seq(nodes)
}

fn one_of(alts: Vec<Node>) -> Node {
    Node::OneOf(alts.into_iter().map(|n| (1.0, n)).collect())
}

fn repeat(node: Node, min: u32, max: Option<u32>) -> Node {
    Node::Repeat {
        node: Box::new(node),
        min,
        max,
    }
}

/// Digits, then optionally `*` and more digits.
fn decimal() -> Node {
    seq(vec![
        repeat(Node::Symbols(DIGIT), 1, None),
        repeat(
            seq(vec![
                Node::Symbols(1 << 10),
                repeat(Node::Symbols(DIGIT), 1, None),
            ]),
            0,
            Some(1),
        ),
    ])
}

/// A DTMF string as a sequence of symbols.
fn dtmf_string(param: &str, s: &str) -> Result<Node, Error> {
    let nodes = s
        .chars()
        .map(|c| symbol_index(c).map(|i| Node::Symbols(1 << i)))
        .collect::<Option<Vec<_>>>()
        .filter(|v| !v.is_empty() && v.len() <= 32)
        .ok_or_else(|| Error::BadBuiltin(format!("{param}={s:?} is not a DTMF string")))?;
    Ok(seq(nodes))
}

fn length(param: &str, v: &str) -> Result<u32, Error> {
    match v.trim().parse::<u32>() {
        Ok(n) if n <= MAX_REPEAT => Ok(n),
        _ => Err(Error::BadBuiltin(format!("{param}={v:?}"))),
    }
}

/// Builds the builtin DTMF grammar a `builtin:dtmf/NAME?params` URI names.
pub fn builtin(uri: &str) -> Result<Grammar, Error> {
    let bad = |why: &str| {
        Error::BadBuiltin(format!(
            "{why}: {:?}",
            uri.chars().take(80).collect::<String>()
        ))
    };
    let rest = uri
        .trim()
        .strip_prefix("builtin:dtmf/")
        .ok_or_else(|| bad("not builtin:dtmf/"))?;
    let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut params = Vec::new();
    for p in query.split([';', '&']).filter(|p| !p.is_empty()) {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| bad("parameter without a value"))?;
        params.push((k, v));
    }
    let allowed: &[&str] = match name {
        "digits" => &["minlength", "maxlength", "length"],
        "boolean" => &["y", "n"],
        "number" | "currency" | "date" | "phone" | "time" => &[],
        _ => return Err(bad("unknown builtin")),
    };
    if let Some((k, _)) = params.iter().find(|(k, _)| !allowed.contains(k)) {
        return Err(Error::BadBuiltin(format!("{name} has no parameter {k:?}")));
    }
    let get = |k: &str| params.iter().rev().find(|p| p.0 == k).map(|p| p.1);
    let mut interpret = Interpret::Digits;
    let body = match name {
        "digits" => {
            let (min, max) = match get("length") {
                Some(l) => {
                    let n = length("length", l)?;
                    (n, Some(n))
                }
                None => (
                    get("minlength")
                        .map(|v| length("minlength", v))
                        .transpose()?
                        .unwrap_or(1),
                    get("maxlength")
                        .map(|v| length("maxlength", v))
                        .transpose()?,
                ),
            };
            if max.is_some_and(|m| m < min) || max == Some(0) {
                return Err(bad("minlength above maxlength"));
            }
            repeat(Node::Symbols(DIGIT), min.max(1), max)
        }
        "boolean" => {
            let y = dtmf_string("y", get("y").unwrap_or("1"))?;
            let n = dtmf_string("n", get("n").unwrap_or("2"))?;
            if y == n {
                return Err(bad("y and n are the same"));
            }
            one_of(vec![
                seq(vec![y, Node::Tag("true".into())]),
                seq(vec![n, Node::Tag("false".into())]),
            ])
        }
        "number" | "currency" => {
            interpret = Interpret::StarAs('.');
            decimal()
        }
        "phone" => {
            interpret = Interpret::StarAs('x');
            decimal()
        }
        "date" => seq(vec![
            repeat(Node::Symbols(DIGIT), 4, Some(4)),
            one_of(vec![
                seq(vec![range(0, 0), range(1, 9)]),
                seq(vec![range(1, 1), range(0, 2)]),
            ]),
            one_of(vec![
                seq(vec![range(0, 0), range(1, 9)]),
                seq(vec![range(1, 2), range(0, 9)]),
                seq(vec![range(3, 3), range(0, 1)]),
            ]),
        ]),
        _ => seq(vec![
            one_of(vec![
                seq(vec![range(0, 1), range(0, 9)]),
                seq(vec![range(2, 2), range(0, 3)]),
            ]),
            range(0, 5),
            range(0, 9),
        ]),
    };
    let rules = Rules {
        rules: vec![Rule {
            id: name.to_owned(),
            public: true,
            body,
        }],
        root: 0,
    };
    Grammar::compile(&rules, interpret)
}
