//! Matching DTMF digits against a grammar: the rule tree compiled to a nondeterministic
//! automaton, simulated one digit at a time over the set of live states.
//!
//! Compilation inlines rulerefs (recursion is refused) and expands repeats, with the total
//! size capped by [`MAX_STATES`]. Each digit then costs one pass over the
//! live states and their edges, so the work per digit is bounded by the grammar's size.
//! Ambiguity is settled by weights: every path carries the product of the (normalised)
//! weights of the `one-of` alternatives it took, and the best path to each state wins; its
//! last tag is the interpretation (the digits when it went through no tag).
//!
//! ```
//! use rayo_media::srgs::{Grammar, MatchState};
//!
//! let g = Grammar::parse(r#"<grammar xmlns="http://www.w3.org/2001/06/grammar" mode="dtmf" root="r">
//!   <rule id="r"><item repeat="2-">1</item></rule></grammar>"#)?;
//! let mut m = g.matcher();
//! assert_eq!(m.push('1')?, MatchState::Potential);
//! assert_eq!(m.push('1')?, MatchState::Match); // complete, and more 1s could follow
//! assert_eq!(m.push('2')?, MatchState::NoMatch);
//! # Ok::<(), rayo_media::srgs::Error>(())
//! ```

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;

use super::parse::{Node, Rules};
use super::{symbol_index, Error, MAX_RULEREF_DEPTH, MAX_STATES};

/// The weight of one digit consumed by `GARBAGE`, so that real tokens win over garbage.
const GARBAGE_WEIGHT: f64 = 0.5;
/// The most digits one matcher accepts; more make it [`MatchState::NoMatch`].
pub const MAX_INPUT: usize = 4096;

/// Where the digits so far stand against a grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchState {
    /// No continuation of the digits can match.
    NoMatch,
    /// The digits are a proper prefix of some match.
    Potential,
    /// The digits match, and more digits could still match too.
    Match,
    /// The digits match and no further digit can.
    MaxMatch,
}

impl MatchState {
    /// `nomatch`, `potential`, `match` or `maxmatch`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NoMatch => "nomatch",
            Self::Potential => "potential",
            Self::Match => "match",
            Self::MaxMatch => "maxmatch",
        }
    }

    /// Whether the digits are a complete match ([`Self::Match`] or [`Self::MaxMatch`]).
    pub const fn is_match(self) -> bool {
        matches!(self, Self::Match | Self::MaxMatch)
    }
}

/// How a match's interpretation is made when no tag gave one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interpret {
    /// The digits as entered.
    Digits,
    /// The digits, with `*` written as this character (`.` for number, `x` for phone).
    StarAs(char),
}

/// One edge of the automaton: `mask == 0` is an epsilon edge.
#[derive(Debug, Clone)]
struct Edge {
    to: u32,
    mask: u16,
    weight: f64,
    tag: Option<u32>,
}

/// The compiled automaton.
#[derive(Debug)]
struct Nfa {
    edges: Vec<Vec<Edge>>,
    start: u32,
    accept: u32,
    /// Whether the accept state can be reached from each state.
    alive: Vec<bool>,
    tags: Vec<String>,
    interpret: Interpret,
}

/// A compiled grammar, cheap to clone; [`Grammar::matcher`] starts matching against it.
#[derive(Debug, Clone)]
pub struct Grammar {
    nfa: Arc<Nfa>,
}

impl Grammar {
    /// Parses and compiles an SRGS XML grammar in DTMF mode.
    pub fn parse(xml: &str) -> Result<Self, Error> {
        Self::compile(&super::parse::parse(xml)?, Interpret::Digits)
    }

    /// Builds a VoiceXML builtin DTMF grammar from its URI (see [`super::builtin`]).
    pub fn builtin(uri: &str) -> Result<Self, Error> {
        super::builtin::builtin(uri)
    }

    /// Compiles a rule tree.
    pub(crate) fn compile(rules: &Rules, interpret: Interpret) -> Result<Self, Error> {
        let mut c = Compiler {
            rules,
            edges: vec![Vec::new()],
            tags: Vec::new(),
            stack: Vec::new(),
            work: 0,
        };
        c.stack.push(rules.root);
        let body = &rules
            .rules
            .get(rules.root)
            .ok_or(Error::NoRoot("no rules".into()))?
            .body;
        let accept = c.emit(body, 0)?;
        let n = c.edges.len();
        let mut reverse: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (from, edges) in c.edges.iter().enumerate() {
            for e in edges {
                reverse[e.to as usize].push(from as u32);
            }
        }
        let mut alive = vec![false; n];
        let mut todo = vec![accept];
        alive[accept as usize] = true;
        while let Some(s) = todo.pop() {
            for &p in &reverse[s as usize] {
                if !alive[p as usize] {
                    alive[p as usize] = true;
                    todo.push(p);
                }
            }
        }
        Ok(Self {
            nfa: Arc::new(Nfa {
                edges: c.edges,
                start: 0,
                accept,
                alive,
                tags: c.tags,
                interpret,
            }),
        })
    }

    /// A new matcher at the start of input.
    pub fn matcher(&self) -> Matcher {
        Matcher::new(self.clone())
    }

    /// The number of automaton states (a measure of the grammar's size).
    pub fn size(&self) -> usize {
        self.nfa.edges.len()
    }

    /// Matches a whole string of digits: its state and interpretation.
    pub fn match_digits(&self, digits: &str) -> Result<(MatchState, Option<String>), Error> {
        let mut m = self.matcher();
        m.push_str(digits)?;
        Ok((m.state(), m.interpretation()))
    }
}

struct Compiler<'r> {
    rules: &'r Rules,
    edges: Vec<Vec<Edge>>,
    tags: Vec<String>,
    stack: Vec<usize>,
    work: usize,
}

impl Compiler<'_> {
    fn state(&mut self) -> Result<u32, Error> {
        if self.edges.len() >= MAX_STATES {
            return Err(Error::TooLarge("expanded grammar"));
        }
        self.edges.push(Vec::new());
        Ok((self.edges.len() - 1) as u32)
    }

    fn edge(&mut self, from: u32, to: u32, mask: u16, weight: f64, tag: Option<u32>) {
        if let Some(v) = self.edges.get_mut(from as usize) {
            v.push(Edge {
                to,
                mask,
                weight,
                tag,
            });
        }
    }

    /// Emits `node` starting at state `from`; returns the state where it ends.
    fn emit(&mut self, node: &Node, from: u32) -> Result<u32, Error> {
        self.work += 1;
        if self.work > 4 * MAX_STATES {
            return Err(Error::TooLarge("expanded grammar"));
        }
        match node {
            Node::Symbols(mask) => {
                let to = self.state()?;
                self.edge(from, to, *mask, 1.0, None);
                Ok(to)
            }
            Node::Seq(nodes) => nodes.iter().try_fold(from, |at, n| self.emit(n, at)),
            Node::OneOf(alts) => {
                let end = self.state()?;
                for (w, n) in alts {
                    let s = self.state()?;
                    self.edge(from, s, 0, w.clamp(f64::MIN_POSITIVE, 1.0), None);
                    let e = self.emit(n, s)?;
                    self.edge(e, end, 0, 1.0, None);
                }
                Ok(end)
            }
            Node::Repeat { node, min, max } => {
                let mut at = from;
                for _ in 0..*min {
                    at = self.emit(node, at)?;
                }
                match max {
                    None => {
                        let hub = self.state()?;
                        self.edge(at, hub, 0, 1.0, None);
                        let e = self.emit(node, hub)?;
                        self.edge(e, hub, 0, 1.0, None);
                        Ok(hub)
                    }
                    Some(max) => {
                        let end = self.state()?;
                        for _ in *min..*max {
                            self.edge(at, end, 0, 1.0, None);
                            at = self.emit(node, at)?;
                        }
                        self.edge(at, end, 0, 1.0, None);
                        Ok(end)
                    }
                }
            }
            Node::Rule(i) => {
                let id = |i: &usize| {
                    self.rules
                        .rules
                        .get(*i)
                        .map(|r| r.id.clone())
                        .unwrap_or_default()
                };
                if self.stack.contains(i) {
                    return Err(Error::Recursive(format!(
                        "rule {:?} refers to itself",
                        id(i)
                    )));
                }
                if self.stack.len() >= MAX_RULEREF_DEPTH {
                    return Err(Error::Recursive(format!(
                        "rulerefs nested deeper than {MAX_RULEREF_DEPTH}"
                    )));
                }
                let rules = self.rules;
                let body = &rules
                    .rules
                    .get(*i)
                    .ok_or_else(|| Error::UnknownRule(i.to_string()))?
                    .body;
                self.stack.push(*i);
                let end = self.emit(body, from)?;
                self.stack.pop();
                Ok(end)
            }
            Node::Null => Ok(from),
            Node::Void => self.state(),
            Node::Garbage => {
                let g = self.state()?;
                self.edge(from, g, 0, 1.0, None);
                self.edge(g, g, u16::MAX, GARBAGE_WEIGHT, None);
                Ok(g)
            }
            Node::Tag(text) => {
                let to = self.state()?;
                self.tags.push(text.clone());
                let t = (self.tags.len() - 1) as u32;
                self.edge(from, to, 0, 1.0, Some(t));
                Ok(to)
            }
            Node::RuleId(id) => Err(Error::UnknownRule(id.clone())),
        }
    }
}

/// A path's score in the heap: higher weight first, then earlier.
#[derive(PartialEq)]
struct Candidate {
    score: f64,
    seq: Reverse<u64>,
    state: u32,
    tag: Option<u32>,
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.seq.cmp(&other.seq))
    }
}

/// Matching in progress: feed digits with [`Matcher::push`].
#[derive(Debug, Clone)]
pub struct Matcher {
    grammar: Grammar,
    /// The live states with the best path's score and last tag.
    active: Vec<(u32, f64, Option<u32>)>,
    digits: String,
    state: MatchState,
    /// Scratch per state: generation of the best-known score, and whether it is final.
    seen: Vec<u32>,
    done: Vec<u32>,
    best: Vec<f64>,
    generation: u32,
}

impl Matcher {
    /// A matcher at the start of input.
    pub fn new(grammar: Grammar) -> Self {
        let n = grammar.nfa.edges.len();
        let start = grammar.nfa.start;
        let mut m = Self {
            grammar,
            active: Vec::new(),
            digits: String::new(),
            state: MatchState::NoMatch,
            seen: vec![0; n],
            done: vec![0; n],
            best: vec![0.0; n],
            generation: 0,
        };
        let seeds = if m.grammar.nfa.alive.get(start as usize) == Some(&true) {
            vec![(start, 1.0, None)]
        } else {
            Vec::new()
        };
        m.closure(seeds);
        m
    }

    /// Feeds one digit; returns the new state. Once [`MatchState::NoMatch`], it stays so.
    pub fn push(&mut self, digit: char) -> Result<MatchState, Error> {
        let bit = 1u16 << symbol_index(digit).ok_or(Error::UnknownDigit(digit))?;
        if self.digits.len() >= MAX_INPUT {
            self.active.clear();
            self.state = MatchState::NoMatch;
            return Ok(self.state);
        }
        self.digits.push(digit.to_ascii_uppercase());
        let nfa = Arc::clone(&self.grammar.nfa);
        let mut seeds = Vec::new();
        for &(s, score, tag) in &self.active {
            for e in &nfa.edges[s as usize] {
                if e.mask & bit != 0 && nfa.alive[e.to as usize] {
                    seeds.push((e.to, score * e.weight, tag));
                }
            }
        }
        self.closure(seeds);
        Ok(self.state)
    }

    /// Feeds each digit of `digits` in turn; returns the final state.
    pub fn push_str(&mut self, digits: &str) -> Result<MatchState, Error> {
        for d in digits.chars() {
            self.push(d)?;
        }
        Ok(self.state)
    }

    /// Follows epsilon edges from the seeds, best score first, and sets the state.
    fn closure(&mut self, seeds: Vec<(u32, f64, Option<u32>)>) {
        let nfa = Arc::clone(&self.grammar.nfa);
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.seen.fill(0);
            self.done.fill(0);
            self.generation = 1;
        }
        let g = self.generation;
        let mut heap = BinaryHeap::new();
        let mut seq = 0u64;
        for (state, score, tag) in seeds {
            seq += 1;
            heap.push(Candidate {
                score,
                seq: Reverse(seq),
                state,
                tag,
            });
        }
        self.active.clear();
        while let Some(c) = heap.pop() {
            let s = c.state as usize;
            if self.done[s] == g {
                continue;
            }
            self.done[s] = g;
            self.active.push((c.state, c.score, c.tag));
            for e in &nfa.edges[s] {
                let t = e.to as usize;
                if e.mask != 0 || !nfa.alive[t] || self.done[t] == g {
                    continue;
                }
                let score = c.score * e.weight;
                if self.seen[t] != g || score > self.best[t] {
                    self.seen[t] = g;
                    self.best[t] = score;
                    seq += 1;
                    heap.push(Candidate {
                        score,
                        seq: Reverse(seq),
                        state: e.to,
                        tag: e.tag.or(c.tag),
                    });
                }
            }
        }
        let accepted = self.done[nfa.accept as usize] == g;
        let extensible = self.active.iter().any(|&(s, _, _)| {
            nfa.edges[s as usize]
                .iter()
                .any(|e| e.mask != 0 && nfa.alive[e.to as usize])
        });
        self.state = match (accepted, extensible) {
            (true, true) => MatchState::Match,
            (true, false) => MatchState::MaxMatch,
            (false, true) => MatchState::Potential,
            (false, false) => MatchState::NoMatch,
        };
    }

    /// Where the digits so far stand.
    pub fn state(&self) -> MatchState {
        self.state
    }

    /// The digits fed so far (`a`-`d` upper-cased).
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The interpretation of a complete match: the last tag on the best path, else the
    /// digits (for builtins, transformed as documented there). `None` unless matched.
    pub fn interpretation(&self) -> Option<String> {
        let nfa = &self.grammar.nfa;
        let &(_, _, tag) = self.active.iter().find(|a| a.0 == nfa.accept)?;
        if let Some(t) = tag.and_then(|t| nfa.tags.get(t as usize)) {
            return Some(t.clone());
        }
        Some(match nfa.interpret {
            Interpret::Digits => self.digits.clone(),
            Interpret::StarAs(c) => self.digits.replace('*', &c.to_string()),
        })
    }

    /// The weight of the best complete path (1.0 for unweighted grammars), if matched.
    pub fn score(&self) -> Option<f64> {
        let accept = self.grammar.nfa.accept;
        self.active.iter().find(|a| a.0 == accept).map(|a| a.1)
    }
}
