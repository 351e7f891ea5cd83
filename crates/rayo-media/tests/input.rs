//! The input component's state machine under a virtual clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use rayo_media::input::{Error, FetchedGrammar, InputComponent};
use rayo_media::nlsml::NlsmlResult;
use rayo_proto::event::{CompleteReason, InputReason};
use rayo_proto::generated::input::{Grammar, Input, InputMode};
use rayo_proto::types::Fraction;

const PIN: &str = r##"<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" mode="dtmf">
  <rule id="digit"><one-of><item>0</item><item>1</item><item>2</item><item>3</item><item>4</item>
    <item>5</item><item>6</item><item>7</item><item>8</item><item>9</item></one-of></rule>
  <rule id="pin" scope="public"><one-of>
    <item><item repeat="4"><ruleref uri="#digit"/></item>#</item>
    <item>* 9</item></one-of></rule></grammar>"##;

fn inline(body: &str) -> Grammar {
    Grammar {
        content_type: Some("application/srgs+xml".into()),
        body: body.into(),
        url: None,
    }
}

fn by_url(url: &str) -> Grammar {
    Grammar {
        url: Some(url.into()),
        ..Grammar::default()
    }
}

fn cmd(grammars: Vec<Grammar>) -> Input {
    Input {
        grammars,
        ..Input::default()
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn start(cmd: &Input, t0: Instant) -> InputComponent {
    InputComponent::from_command(cmd, t0, |_| None).unwrap()
}

/// The NLSML of a match completion, parsed: (digits, interpretation, grammar).
fn matched(reason: Option<CompleteReason>) -> (String, String, String) {
    let Some(CompleteReason::Input(InputReason::Match(m))) = reason else {
        panic!("expected a match, got {reason:?}");
    };
    assert_eq!(m.content_type(), "application/nlsml+xml");
    let r = NlsmlResult::parse(&m.body).unwrap();
    let i = &r.interpretations[0];
    assert_eq!(i.confidence, Some(1.0));
    (
        i.input.as_ref().unwrap().digits(),
        i.instance.clone().unwrap(),
        i.grammar.clone().unwrap(),
    )
}

const NOMATCH: Option<CompleteReason> = Some(CompleteReason::Input(InputReason::NoMatch));
const NOINPUT: Option<CompleteReason> = Some(CompleteReason::Input(InputReason::NoInput));

#[test]
fn max_match_completes_at_once() {
    let t0 = Instant::now();
    let mut input = start(&cmd(vec![inline(PIN)]), t0);
    for (i, d) in "1234".chars().enumerate() {
        assert_eq!(input.handle_digit(t0 + ms(100 * i as u64), d), None);
    }
    let (digits, interp, grammar) = matched(input.handle_digit(t0 + ms(500), '#'));
    assert_eq!(
        (digits.as_str(), interp.as_str(), grammar.as_str()),
        ("1234#", "1234#", "session:grammar-0")
    );
    assert!(input.is_complete());
    assert_eq!(
        input.handle_digit(t0 + ms(600), '1'),
        None,
        "nothing after completion"
    );
    assert_eq!(input.poll_timeout(), None);
}

#[test]
fn nomatch_completes_at_once() {
    let t0 = Instant::now();
    let mut input = start(&cmd(vec![inline(PIN)]), t0);
    assert_eq!(input.handle_digit(t0, '*'), None);
    assert_eq!(input.handle_digit(t0, '8'), NOMATCH);
}

#[test]
fn match_waits_for_the_terminator_which_is_not_input() {
    let t0 = Instant::now();
    let mut c = cmd(vec![by_url("builtin:dtmf/digits?minlength=2;maxlength=6")]);
    c.terminator = Some("#".into());
    let mut input = start(&c, t0);
    assert_eq!(input.handle_digit(t0, '1'), None);
    assert_eq!(
        input.handle_digit(t0, '2'),
        None,
        "a match that could be extended waits"
    );
    assert_eq!(input.poll_timeout(), None, "no timers configured");
    let (digits, interp, grammar) = matched(input.handle_digit(t0 + ms(10), '#'));
    assert_eq!((digits.as_str(), interp.as_str()), ("12", "12"));
    assert_eq!(grammar, "builtin:dtmf/digits?minlength=2;maxlength=6");
    assert_eq!(input.digits(), "12");
}

#[test]
fn match_completes_on_the_inter_digit_timeout() {
    let t0 = Instant::now();
    let mut c = cmd(vec![by_url("builtin:dtmf/digits?minlength=2;maxlength=6")]);
    c.inter_digit_timeout = Some(ms(2000));
    c.initial_timeout = Some(ms(5000));
    let mut input = start(&c, t0);
    assert_eq!(input.poll_timeout(), Some(t0 + ms(5000)));
    input.handle_digit(t0 + ms(1000), '5');
    assert_eq!(
        input.poll_timeout(),
        Some(t0 + ms(3000)),
        "inter-digit replaces initial"
    );
    input.handle_digit(t0 + ms(2500), '6');
    assert_eq!(input.poll_timeout(), Some(t0 + ms(4500)));
    assert_eq!(input.handle_timeout(t0 + ms(4499)), None);
    assert_eq!(matched(input.handle_timeout(t0 + ms(4500))).0, "56");
}

#[test]
fn potential_then_terminator_or_timeout_is_nomatch() {
    let t0 = Instant::now();
    let mut c = cmd(vec![inline(PIN)]);
    c.terminator = Some("*".into());
    c.inter_digit_timeout = Some(ms(1000));
    let mut input = start(&c, t0);
    input.handle_digit(t0, '1');
    assert_eq!(
        input.handle_digit(t0 + ms(100), '*'),
        NOMATCH,
        "potential + terminator"
    );
    let mut input = start(&c, t0);
    input.handle_digit(t0, '1');
    assert_eq!(input.handle_timeout(t0 + ms(999)), None);
    assert_eq!(
        input.handle_timeout(t0 + ms(1000)),
        NOMATCH,
        "potential + inter-digit timeout"
    );
}

#[test]
fn initial_timeout_gives_noinput() {
    let t0 = Instant::now();
    let mut c = cmd(vec![inline(PIN)]);
    c.initial_timeout = Some(ms(3000));
    let mut input = start(&c, t0);
    assert_eq!(input.handle_timeout(t0 + ms(2999)), None);
    assert_eq!(input.handle_timeout(t0 + ms(3000)), NOINPUT);
    // Timers deferred (a prompt still playing) and started later.
    let mut input = start(&c, t0);
    input.defer_timers();
    assert_eq!(input.poll_timeout(), None);
    input.start_timers(t0 + ms(10_000));
    assert_eq!(input.handle_timeout(t0 + ms(12_000)), None);
    assert_eq!(input.handle_timeout(t0 + ms(13_000)), NOINPUT);
}

#[test]
fn several_grammars_best_one_wins() {
    let t0 = Instant::now();
    let mut input = start(&cmd(vec![by_url("builtin:dtmf/boolean"), inline(PIN)]), t0);
    let (_, interp, grammar) = matched(input.handle_digit(t0, '1'));
    assert_eq!(
        (interp.as_str(), grammar.as_str()),
        ("true", "builtin:dtmf/boolean")
    );
    // '1' then '2': boolean is at nomatch, the PIN still potential.
    let mut input = start(
        &cmd(vec![by_url("builtin:dtmf/boolean?y=9"), inline(PIN)]),
        t0,
    );
    assert_eq!(input.handle_digit(t0, '1'), None);
    for d in "234".chars() {
        assert_eq!(input.handle_digit(t0, d), None);
    }
    assert_eq!(matched(input.handle_digit(t0, '#')).2, "session:grammar-1");
}

#[test]
fn fetched_grammars_by_url() {
    let t0 = Instant::now();
    let c = cmd(vec![by_url("https://example.com/pin.grxml")]);
    let fetch = |url: &str| {
        (url == "https://example.com/pin.grxml").then(|| FetchedGrammar {
            content_type: "application/srgs+xml; charset=utf-8".into(),
            body: PIN.into(),
        })
    };
    let mut input = InputComponent::from_command(&c, t0, fetch).unwrap();
    input.handle_digit(t0, '*');
    assert_eq!(
        matched(input.handle_digit(t0, '9')).2,
        "https://example.com/pin.grxml"
    );
    let err = InputComponent::from_command(&c, t0, |_| None).unwrap_err();
    assert!(matches!(err, Error::NotFetched(_)));
    let wrong = InputComponent::from_command(&c, t0, |_| {
        Some(FetchedGrammar {
            content_type: "text/html".into(),
            body: "<html/>".into(),
        })
    });
    assert!(matches!(wrong, Err(Error::UnknownContentType(_))));
}

#[test]
fn refusals_and_their_conditions() {
    let t0 = Instant::now();
    let refuse = |c: &Input| InputComponent::from_command(c, t0, |_| None).unwrap_err();
    for mode in [InputMode::Voice, InputMode::Any, InputMode::Cpa] {
        let mut c = cmd(vec![inline(PIN)]);
        c.mode = Some(mode);
        let e = refuse(&c);
        assert_eq!(e, Error::ModeNotImplemented(mode));
        assert_eq!(e.condition(), "feature-not-implemented");
    }
    let mut c = cmd(vec![inline(PIN)]);
    c.match_content_type = Some("application/json".into());
    assert_eq!(refuse(&c).condition(), "feature-not-implemented");
    let mut bad_ct = inline(PIN);
    bad_ct.content_type = Some("application/grammar+voicexml".into());
    let e = refuse(&cmd(vec![bad_ct]));
    assert!(matches!(e, Error::UnknownContentType(_)));
    // A content type this server cannot read: lack of support, not a malformed command.
    assert_eq!(e.condition(), "feature-not-implemented");
    assert!(matches!(refuse(&cmd(vec![])), Error::GrammarCount(0)));
    assert!(matches!(
        refuse(&cmd(vec![inline("<grammar")])),
        Error::Grammar { index: 0, .. }
    ));
    assert!(matches!(
        refuse(&cmd(vec![by_url("ftp://x/g")])),
        Error::UnsupportedUrl(_)
    ));
    let mut both = inline(PIN);
    both.url = Some("builtin:dtmf/digits".into());
    assert!(matches!(refuse(&cmd(vec![both])), Error::UrlAndBody));
    let mut c = cmd(vec![inline(PIN)]);
    c.terminator = Some("##".into());
    assert!(matches!(refuse(&c), Error::BadTerminator(_)));
    assert!(matches!(
        refuse(&cmd(vec![by_url("builtin:dtmf/xyz")])),
        Error::Grammar { .. }
    ));
}

#[test]
fn min_confidence_up_to_one_accepts_dtmf() {
    let t0 = Instant::now();
    let mut c = cmd(vec![by_url("builtin:dtmf/digits?length=1")]);
    c.min_confidence = Fraction::new(1.0);
    c.language = Some("fr-FR".into());
    c.recognizer = Some("mrcp".into());
    let mut input = start(&c, t0);
    assert_eq!(input.attributes().language(), "fr-FR");
    assert_eq!(input.attributes().recognizer(), "mrcp");
    assert_eq!(matched(input.handle_digit(t0, '7')).1, "7");
}
