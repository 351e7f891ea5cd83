//! The input component's state machine (XEP-0327 §6.5.2), sans-IO: digits and timer expiries
//! go in with `now`, a completion reason comes out, and [`InputComponent::poll_timeout`] says
//! when to call back.
//!
//! Semantics, over one or more DTMF grammars: a digit that leaves every grammar at
//! `nomatch` completes with `nomatch` at once; a `max-match` completes with `match` at once;
//! a `match` that could be extended waits for the terminator or the inter-digit timeout, then
//! completes with `match`; the terminator with only a `potential` match completes with
//! `nomatch`; the terminator is never part of the input. `initial-timeout` with no digit
//! completes with `noinput`; the inter-digit timeout with only a `potential` match, with
//! `nomatch`. DTMF confidence is 1.0, compared with `min-confidence`. Matches are reported
//! as NLSML ([`crate::nlsml`]). `mode` `voice`, `any` and `cpa` are refused with
//! `feature-not-implemented` until speech recognition exists.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rayo_media::input::InputComponent;
//! use rayo_proto::event::{CompleteReason, InputReason};
//! use rayo_proto::generated::input::{Grammar, Input};
//!
//! let cmd = Input {
//!     terminator: Some("#".into()),
//!     inter_digit_timeout: Some(Duration::from_secs(3)),
//!     grammars: vec![Grammar { url: Some("builtin:dtmf/digits?maxlength=6".into()), ..Grammar::default() }],
//!     ..Input::default()
//! };
//! let t0 = Instant::now();
//! let mut input = InputComponent::from_command(&cmd, t0, |_| None)?;
//! assert_eq!(input.handle_digit(t0, '4'), None);
//! assert_eq!(input.poll_timeout(), Some(t0 + Duration::from_secs(3)));
//! let Some(CompleteReason::Input(InputReason::Match(m))) = input.handle_digit(t0, '#') else {
//!     panic!("a match");
//! };
//! assert!(m.body.contains(">4</input>"));
//! # Ok::<(), rayo_media::input::Error>(())
//! ```

use std::time::{Duration, Instant};

use rayo_proto::event::{CompleteReason, InputReason};
use rayo_proto::generated::input::{Input, InputMode};
use rayo_proto::generated::input_complete;

use crate::nlsml::{self, NlsmlResult};
use crate::srgs::{self, Grammar, Matcher};

/// The most grammars one input component accepts.
pub const MAX_GRAMMARS: usize = 32;

/// Why an input command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A mode other than `dtmf`: no speech recogniser yet (`feature-not-implemented`).
    #[error("input mode {0} is not implemented")]
    ModeNotImplemented(InputMode),
    /// A `match-content-type` other than NLSML (`feature-not-implemented`).
    #[error("match content type {0:?} is not implemented")]
    MatchContentType(String),
    /// A grammar of a content type this server cannot read, other than
    /// `application/srgs+xml` (`feature-not-implemented`).
    #[error("grammar content type {0:?} is not supported")]
    UnknownContentType(String),
    /// No grammar, or more than [`MAX_GRAMMARS`] (`bad-request`).
    #[error("an input needs 1 to {MAX_GRAMMARS} grammars, not {0}")]
    GrammarCount(usize),
    /// A grammar with both a url and a body, or neither (`bad-request`).
    #[error("a grammar needs exactly one of url and body")]
    UrlAndBody,
    /// A grammar url of a scheme that cannot be fetched (`bad-request`).
    #[error("unsupported grammar url {0:?}")]
    UnsupportedUrl(String),
    /// A grammar url whose document the caller did not supply (`bad-request`).
    #[error("grammar {0:?} could not be fetched")]
    NotFetched(String),
    /// A terminator that is not one DTMF digit (`bad-request`).
    #[error("terminator {0:?} is not one DTMF digit")]
    BadTerminator(String),
    /// A grammar fetched from a URL that was refused (`bad-request`): the text names the URL
    /// only, never what was read.
    #[error("grammar {index}: {url} is not a grammar this node can use")]
    FetchedGrammar {
        /// The grammar's position in the command.
        index: usize,
        /// Its URL.
        url: String,
    },
    /// A grammar that was refused (`bad-request`).
    #[error("grammar {index}: {source}")]
    Grammar {
        /// The grammar's position in the command.
        index: usize,
        /// What is wrong with it.
        source: srgs::Error,
    },
}

impl Error {
    /// The stanza error condition a Rayo server answers with.
    pub fn condition(&self) -> &'static str {
        match self {
            Self::ModeNotImplemented(_)
            | Self::MatchContentType(_)
            | Self::UnknownContentType(_) => "feature-not-implemented",
            _ => "bad-request",
        }
    }
}

/// A grammar document the caller fetched for a `url` (http, https or file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedGrammar {
    /// Its content type (parameters such as `charset` are ignored).
    pub content_type: String,
    /// The document.
    pub body: String,
}

/// One running input component.
#[derive(Debug, Clone)]
pub struct InputComponent {
    grammars: Vec<(String, Matcher)>,
    terminator: Option<char>,
    initial_timeout: Option<Duration>,
    inter_digit_timeout: Option<Duration>,
    min_confidence: f64,
    timers_from: Option<Instant>,
    last_digit: Option<Instant>,
    digits: String,
    done: bool,
    /// The command's attributes (`recognizer`, `language`, `sensitivity`…), grammars left out.
    attributes: Input,
}

/// Compiles one grammar of the command; `name` is what NLSML reports for it.
fn grammar(
    index: usize,
    g: &rayo_proto::generated::input::Grammar,
    fetch: &mut impl FnMut(&str) -> Option<FetchedGrammar>,
) -> Result<(String, Grammar), Error> {
    let wrap = |source| Error::Grammar { index, source };
    let srgs_body = |content_type: &str, body: &str| {
        let ct = content_type.split(';').next().unwrap_or("").trim();
        if ct.eq_ignore_ascii_case(srgs::CONTENT_TYPE) {
            Grammar::parse(body).map_err(wrap)
        } else {
            Err(Error::UnknownContentType(content_type.to_owned()))
        }
    };
    match (&g.url, g.body.trim().is_empty()) {
        (Some(url), true) => {
            let grammar = if url.starts_with("builtin:") {
                Grammar::builtin(url).map_err(wrap)?
            } else if ["http://", "https://", "file://"]
                .iter()
                .any(|s| url.starts_with(s))
            {
                let f = fetch(url).ok_or_else(|| Error::NotFetched(url.clone()))?;
                srgs_body(&f.content_type, &f.body).map_err(|e| match e {
                    Error::Grammar { .. } => {
                        tracing::debug!(%url, error = %e, "fetched grammar refused");
                        Error::FetchedGrammar {
                            index,
                            url: url.chars().take(200).collect(),
                        }
                    }
                    e => e,
                })?
            } else {
                return Err(Error::UnsupportedUrl(url.clone()));
            };
            Ok((url.clone(), grammar))
        }
        (None, false) => {
            let grammar = srgs_body(g.content_type.as_deref().unwrap_or(""), &g.body)?;
            Ok((format!("session:grammar-{index}"), grammar))
        }
        _ => Err(Error::UrlAndBody),
    }
}

impl InputComponent {
    /// Builds the component from an `<input/>` command, starting its timers at `now`.
    /// `fetch` supplies the documents of `http(s)://` and `file://` grammar urls (fetched
    /// beforehand by the caller); `builtin:dtmf/…` urls need none.
    pub fn from_command(
        cmd: &Input,
        now: Instant,
        mut fetch: impl FnMut(&str) -> Option<FetchedGrammar>,
    ) -> Result<Self, Error> {
        if cmd.mode() != InputMode::Dtmf {
            return Err(Error::ModeNotImplemented(cmd.mode()));
        }
        let mct = cmd.match_content_type();
        if !mct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case(nlsml::CONTENT_TYPE)
        {
            return Err(Error::MatchContentType(mct.to_owned()));
        }
        let terminator = match cmd.terminator().trim() {
            "" => None,
            t => {
                let mut chars = t.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if srgs::symbol_index(c).is_some() => {
                        Some(c.to_ascii_uppercase())
                    }
                    _ => return Err(Error::BadTerminator(t.chars().take(20).collect())),
                }
            }
        };
        if cmd.grammars.is_empty() || cmd.grammars.len() > MAX_GRAMMARS {
            return Err(Error::GrammarCount(cmd.grammars.len()));
        }
        let grammars = cmd
            .grammars
            .iter()
            .enumerate()
            .map(|(i, g)| grammar(i, g, &mut fetch).map(|(name, g)| (name, g.matcher())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            grammars,
            terminator,
            initial_timeout: cmd.initial_timeout,
            inter_digit_timeout: cmd.inter_digit_timeout,
            min_confidence: cmd.min_confidence().get(),
            timers_from: Some(now),
            last_digit: None,
            digits: String::new(),
            done: false,
            attributes: Input {
                grammars: Vec::new(),
                ..cmd.clone()
            },
        })
    }

    /// (Re)starts the timers at `now`: for a prompt without barge-in, when its output ends.
    pub fn start_timers(&mut self, now: Instant) {
        self.timers_from = Some(now);
    }

    /// Makes the timers wait for [`Self::start_timers`] (a prompt's output still playing).
    pub fn defer_timers(&mut self) {
        self.timers_from = None;
    }

    /// The command's attributes as received (grammars left out): `recognizer`, `language`,
    /// `sensitivity` and the rest are kept, though DTMF input has no use for some of them.
    pub fn attributes(&self) -> &Input {
        &self.attributes
    }

    /// The digits received so far (never the terminator).
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// Whether the component has completed.
    pub fn is_complete(&self) -> bool {
        self.done
    }

    /// A DTMF digit received at `now`; returns the completion reason if it ends the input.
    /// Digits after completion, and characters that are no DTMF digit, are ignored.
    pub fn handle_digit(&mut self, now: Instant, digit: char) -> Option<CompleteReason> {
        if self.done || srgs::symbol_index(digit).is_none() {
            return None;
        }
        let digit = digit.to_ascii_uppercase();
        if Some(digit) == self.terminator {
            return Some(self.finish(false));
        }
        self.digits.push(digit);
        self.last_digit = Some(now);
        let mut any_max = false;
        let mut all_no = true;
        for (_, m) in &mut self.grammars {
            let state = m.push(digit).unwrap_or(srgs::MatchState::NoMatch);
            any_max |= state == srgs::MatchState::MaxMatch;
            all_no &= state == srgs::MatchState::NoMatch;
        }
        if any_max {
            Some(self.finish(true))
        } else if all_no {
            self.done = true;
            Some(CompleteReason::Input(InputReason::NoMatch))
        } else {
            None
        }
    }

    /// When [`Self::handle_timeout`] should next be called, if a timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.done {
            return None;
        }
        match self.last_digit {
            None => self
                .timers_from
                .zip(self.initial_timeout)
                .map(|(t, d)| t + d),
            Some(last) => self
                .inter_digit_timeout
                .map(|d| last.max(self.timers_from.unwrap_or(last)) + d),
        }
    }

    /// Runs the timers due at `now`; returns the completion reason if one fired.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<CompleteReason> {
        let due = self.poll_timeout()?;
        if now < due {
            return None;
        }
        if self.last_digit.is_none() {
            self.done = true;
            return Some(CompleteReason::Input(InputReason::NoInput));
        }
        Some(self.finish(false))
    }

    /// Completes with the best matching grammar, or `nomatch`.
    fn finish(&mut self, max_only: bool) -> CompleteReason {
        self.done = true;
        let best = self
            .grammars
            .iter()
            .filter(|(_, m)| {
                m.state() == srgs::MatchState::MaxMatch || (!max_only && m.state().is_match())
            })
            .max_by(|a, b| {
                let (sa, sb) = (a.1.score().unwrap_or(0.0), b.1.score().unwrap_or(0.0));
                sa.total_cmp(&sb).then(std::cmp::Ordering::Greater)
            });
        const CONFIDENCE: f64 = 1.0;
        match best.and_then(|(name, m)| Some((name, m.interpretation()?))) {
            Some((name, interpretation)) if CONFIDENCE >= self.min_confidence => {
                let body = NlsmlResult::dtmf(name, &self.digits, &interpretation).to_xml();
                CompleteReason::Input(InputReason::Match(input_complete::Match {
                    content_type: Some(nlsml::CONTENT_TYPE.to_owned()),
                    body,
                }))
            }
            _ => CompleteReason::Input(InputReason::NoMatch),
        }
    }
}
