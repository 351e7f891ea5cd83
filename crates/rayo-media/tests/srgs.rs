//! The SRGS DTMF matcher: every construct, the spec's PIN grammar, the builtins, and the
//! refusals of malformed or hostile grammars.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use rayo_media::srgs::{Error, Grammar, MatchState};
use MatchState::{Match, MaxMatch, NoMatch, Potential};

/// A grammar document around `rules`, with `root` as its root rule.
fn doc(root: &str, rules: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" mode="dtmf" root="{root}">{rules}</grammar>"#
    )
}

fn g(rules: &str) -> Grammar {
    Grammar::parse(&doc("r", rules)).unwrap_or_else(|e| panic!("{e}: {rules}"))
}

fn state(grammar: &Grammar, digits: &str) -> MatchState {
    grammar.match_digits(digits).unwrap().0
}

/// Each input of `cases` gives its state on `grammar`.
fn states(grammar: &Grammar, cases: &[(&str, MatchState)]) {
    for (digits, want) in cases {
        assert_eq!(state(grammar, digits), *want, "input {digits:?}");
    }
}

fn interp(grammar: &Grammar, digits: &str) -> Option<String> {
    grammar.match_digits(digits).unwrap().1
}

fn refused(xml: &str) -> Error {
    Grammar::parse(xml).expect_err(xml)
}

/// The grammar of XEP-0327 example 71, taken from the spec's example file.
fn pin() -> Grammar {
    let dir = std::env::var_os("RAYO_SPEC_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../specs/examples"));
    let text = std::fs::read_to_string(dir.join("xep-0327-071.xml")).expect("example 71");
    let start = text.find("<![CDATA[").unwrap() + 9;
    let end = text.find("]]>").unwrap();
    Grammar::parse(&text[start..end]).unwrap()
}

#[test]
fn pin_grammar_of_example_71() {
    let pin = pin();
    assert_eq!(
        pin.match_digits("1234#").unwrap(),
        (MaxMatch, Some("1234#".into()))
    );
    assert_eq!(
        pin.match_digits("*9").unwrap(),
        (MaxMatch, Some("*9".into()))
    );
    assert_eq!(state(&pin, "12#"), NoMatch);
    assert_eq!(state(&pin, ""), Potential);
    assert_eq!(state(&pin, "12"), Potential);
    assert_eq!(state(&pin, "1234"), Potential);
    assert_eq!(state(&pin, "*"), Potential);
    assert_eq!(state(&pin, "*8"), NoMatch);
    assert_eq!(state(&pin, "12345"), NoMatch);
    assert_eq!(state(&pin, "1234#5"), NoMatch);
    assert_eq!(interp(&pin, "12"), None);
}

#[test]
fn repeat_exact_range_open_and_optional() {
    let exact = g(r#"<rule id="r"><item repeat="3">7</item></rule>"#);
    assert_eq!(state(&exact, "77"), Potential);
    assert_eq!(state(&exact, "777"), MaxMatch);
    assert_eq!(state(&exact, "7777"), NoMatch);
    let range = g(r#"<rule id="r"><item repeat="2-3" repeat-prob="0.5">1</item></rule>"#);
    assert_eq!(state(&range, "1"), Potential);
    assert_eq!(state(&range, "11"), Match);
    assert_eq!(state(&range, "111"), MaxMatch);
    assert_eq!(state(&range, "1111"), NoMatch);
    let open = g(r#"<rule id="r"><item repeat="1-">5</item> #</rule>"#);
    assert_eq!(state(&open, "5"), Potential);
    assert_eq!(state(&open, &"5".repeat(500)), Potential);
    assert_eq!(state(&open, "555#"), MaxMatch);
    assert_eq!(state(&open, "#"), NoMatch);
    let optional = g(r#"<rule id="r"><item repeat="0-2">1</item> #</rule>"#);
    assert_eq!(state(&optional, "#"), MaxMatch);
    assert_eq!(state(&optional, "11#"), MaxMatch);
    assert_eq!(state(&optional, "111"), NoMatch);
    let zero = g(r#"<rule id="r"><item repeat="0-">2</item></rule>"#);
    assert_eq!(state(&zero, ""), Match);
    assert_eq!(state(&zero, "222"), Match);
}

#[test]
fn one_of_token_and_tags() {
    let grammar = g(r#"<rule id="r"><one-of>
        <item><token>1</token><tag>one</tag></item>
        <item>2 <tag>first</tag> 3 <tag>two-three</tag></item>
        <item>A b C d</item>
      </one-of></rule>"#);
    assert_eq!(
        grammar.match_digits("1").unwrap(),
        (MaxMatch, Some("one".into()))
    );
    assert_eq!(interp(&grammar, "23"), Some("two-three".into()));
    assert_eq!(
        grammar.match_digits("abcd").unwrap(),
        (MaxMatch, Some("ABCD".into()))
    );
    assert_eq!(state(&grammar, "4"), NoMatch);
    let escaped = g(r#"<rule id="r">&#49; <tag>a &amp; b &lt;c&gt;</tag></rule>"#);
    assert_eq!(interp(&escaped, "1"), Some("a & b <c>".into()));
}

#[test]
fn adjacent_digits_are_a_sequence_of_tokens() {
    // The menus Adhearsion and mod_rayo's tests write: several digits in one text node.
    let menu = g(r#"<rule id="r"><one-of>
        <item>715<tag>a</tag></item>
        <item> 01 </item>
        <item>5 5</item>
        <item><token>92</token></item>
      </one-of></rule>"#);
    states(
        &menu,
        &[
            ("7", Potential),
            ("71", Potential),
            ("75", NoMatch),
            ("0", Potential),
            ("10", NoMatch),
            ("5", Potential),
            ("55", MaxMatch),
            ("555", NoMatch),
            ("92", MaxMatch),
        ],
    );
    assert_eq!(
        menu.match_digits("715").unwrap(),
        (MaxMatch, Some("a".into()))
    );
    assert_eq!(
        menu.match_digits("01").unwrap(),
        (MaxMatch, Some("01".into()))
    );
    // Adjacent digits in an open repeat: a match that can go on.
    let more = g(r#"<rule id="r">12<item repeat="0-">34</item></rule>"#);
    states(
        &more,
        &[
            ("1", Potential),
            ("12", Match),
            ("123", Potential),
            ("1234", Match),
            ("124", NoMatch),
        ],
    );
}

#[test]
fn quoted_tokens_lose_their_quotes() {
    let quoted = g(r##"<rule id="r"><one-of>
        <item><token>"*"</token> 9</item>
        <item>" 6 " "#"</item>
        <item>&quot;1&quot;2</item>
      </one-of></rule>"##);
    states(
        &quoted,
        &[
            ("*", Potential),
            ("*9", MaxMatch),
            ("6", Potential),
            ("12", MaxMatch),
            ("9", NoMatch),
            ("#", NoMatch),
        ],
    );
    assert_eq!(
        quoted.match_digits("6#").unwrap(),
        (MaxMatch, Some("6#".into()))
    );
}

#[test]
fn weights_choose_between_ambiguous_matches() {
    let heavy_second = g(r#"<rule id="r"><one-of>
        <item weight="1">1<tag>a</tag></item><item weight="3">1<tag>b</tag></item></one-of></rule>"#);
    assert_eq!(interp(&heavy_second, "1"), Some("b".into()));
    let heavy_first = g(r#"<rule id="r"><one-of>
        <item weight="5">1<tag>a</tag></item><item weight="0.5">1<tag>b</tag></item></one-of></rule>"#);
    assert_eq!(interp(&heavy_first, "1"), Some("a".into()));
    let equal = g(
        r#"<rule id="r"><one-of><item>1<tag>a</tag></item><item>1<tag>b</tag></item></one-of></rule>"#,
    );
    assert_eq!(
        interp(&equal, "1"),
        Some("a".into()),
        "ties go to document order"
    );
}

#[test]
fn special_rules_null_void_garbage() {
    let null = g(r#"<rule id="r">1 <ruleref special="NULL"/> 2</rule>"#);
    assert_eq!(state(&null, "12"), MaxMatch);
    let void = g(
        r#"<rule id="r"><one-of><item>1 <ruleref special="VOID"/></item><item>2</item></one-of></rule>"#,
    );
    assert_eq!(state(&void, "1"), NoMatch);
    assert_eq!(state(&void, "2"), MaxMatch);
    let garbage = g(r##"<rule id="r">1 <ruleref special="GARBAGE"/> #<tag>ok</tag></rule>"##);
    assert_eq!(state(&garbage, "1"), Potential);
    assert_eq!(
        garbage.match_digits("1#").unwrap(),
        (Match, Some("ok".into()))
    );
    assert_eq!(state(&garbage, "1*77#"), Match);
    assert_eq!(state(&garbage, "2"), NoMatch);
}

#[test]
fn local_rulerefs_root_and_scope() {
    let rules = r##"<rule id="d"><one-of><item>1</item><item>2</item></one-of></rule>
        <rule id="two" scope="public"><ruleref uri="#d"/><ruleref uri="#d"/></rule>
        <rule id="three" scope="public"><item repeat="3"><ruleref uri="#d"/></item></rule>"##;
    let by_root = Grammar::parse(&doc("three", rules)).unwrap();
    assert_eq!(state(&by_root, "121"), MaxMatch);
    let no_root = format!(
        r#"<grammar xmlns="http://www.w3.org/2001/06/grammar" mode="dtmf">{rules}</grammar>"#
    );
    let first_public = Grammar::parse(&no_root).unwrap();
    assert_eq!(state(&first_public, "21"), MaxMatch);
    let private_root = Grammar::parse(&doc("d", rules)).unwrap();
    assert_eq!(state(&private_root, "2"), MaxMatch);
    let metadata = g(
        r#"<meta name="x" content="y"/><metadata><a><b/></a></metadata>
        <rule id="r"><example>1</example>1</rule>"#,
    );
    assert_eq!(state(&metadata, "1"), MaxMatch);
}

#[test]
fn malformed_grammars_are_refused() {
    let r = |rules: &str| refused(&doc("r", rules));
    assert!(matches!(
        r(r##"<rule id="r"><ruleref uri="#nope"/></rule>"##),
        Error::UnknownRule(_)
    ));
    for bad in ["3-2", "x", "-1", "1-x", ""] {
        let e = r(&format!(
            r#"<rule id="r"><item repeat="{bad}">1</item></rule>"#
        ));
        assert!(matches!(e, Error::BadRepeat(_)), "{bad}: {e}");
    }
    assert!(matches!(
        r(r#"<rule id="r"><item repeat="1001">1</item></rule>"#),
        Error::TooLarge(_)
    ));
    for w in ["0", "-1", "abc", "inf"] {
        let e = r(&format!(
            r#"<rule id="r"><one-of><item weight="{w}">1</item></one-of></rule>"#
        ));
        assert!(matches!(e, Error::BadWeight(_)), "{w}: {e}");
    }
    assert!(matches!(
        r(r#"<rule id="r">1 x</rule>"#),
        Error::BadToken(_)
    ));
    for bad in ["**x", "1\"2", "\"*", "yes", "12e", "\"x\""] {
        let e = r(&format!(r#"<rule id="r">{bad}</rule>"#));
        assert!(matches!(e, Error::BadToken(_)), "{bad}: {e}");
    }
    assert!(matches!(
        r(r#"<rule id="r"><token></token></rule>"#),
        Error::BadToken(_)
    ));
    assert!(matches!(
        r(r#"<rule id="r"><token>yes</token></rule>"#),
        Error::BadToken(_)
    ));
    assert!(matches!(
        r(r#"<rule id="r"><ruleref uri="http://x/g.grxml"/></rule>"#),
        Error::BadRuleRef(_)
    ));
    assert!(matches!(
        r(r#"<rule id="r"><ruleref special="FOO"/></rule>"#),
        Error::BadRuleRef(_)
    ));
    assert!(matches!(
        r(r#"<rule id="r"><ruleref/></rule>"#),
        Error::BadRuleRef(_)
    ));
    assert!(matches!(
        r(r#"<rule id="r">1</rule><rule id="r">2</rule>"#),
        Error::BadRuleId(_)
    ));
    assert!(matches!(r(r#"<rule>1</rule>"#), Error::BadRuleId(_)));
    assert!(matches!(
        r(r#"<rule id="r" scope="global">1</rule>"#),
        Error::BadScope(_)
    ));
    assert!(matches!(
        r(r#"<rule id="r"><bogus/></rule>"#),
        Error::UnexpectedElement(_)
    ));
    assert!(matches!(
        r(r#"<rule id="r"><one-of>1</one-of></rule>"#),
        Error::UnexpectedText(_)
    ));
    assert!(matches!(
        r(r#"<rule id="other">1</rule>"#),
        Error::NoRoot(_)
    ));
    let no_public = r#"<grammar xmlns="http://www.w3.org/2001/06/grammar" mode="dtmf"><rule id="a">1</rule></grammar>"#;
    assert!(matches!(refused(no_public), Error::NoRoot(_)));
    assert!(matches!(
        refused(r#"<grammar mode="voice"><rule id="r" scope="public">1</rule></grammar>"#),
        Error::NotDtmf(_)
    ));
    assert!(matches!(
        refused(r#"<grammar xmlns="urn:other" mode="dtmf"/>"#),
        Error::NotSrgs(_)
    ));
    assert!(matches!(refused("<speak/>"), Error::NotSrgs(_)));
    assert!(matches!(refused(""), Error::NotSrgs(_)));
    assert!(matches!(
        refused(r#"<grammar mode="dtmf"><rule id="r">1</item></grammar>"#),
        Error::Xml(_)
    ));
    assert!(matches!(
        refused(r#"<grammar mode="dtmf"><rule id="r">&bogus;</rule></grammar>"#),
        Error::Xml(_)
    ));
    let unclosed = r#"<grammar mode="dtmf" root="r"><rule id="r">1</rule>"#;
    assert!(matches!(refused(unclosed), Error::Xml(_)));
    assert_eq!(r(r#"<rule id="r">x</rule>"#).condition(), "bad-request");
}

#[test]
fn recursive_rulerefs_are_refused() {
    let direct = doc(
        "r",
        r##"<rule id="r">1 <item repeat="0-1"><ruleref uri="#r"/></item></rule>"##,
    );
    assert!(matches!(refused(&direct), Error::Recursive(_)));
    let cycle = doc(
        "a",
        r##"<rule id="a"><ruleref uri="#b"/></rule><rule id="b"><ruleref uri="#a"/></rule>"##,
    );
    assert!(matches!(refused(&cycle), Error::Recursive(_)));
    // A chain of 40 rules, each referring to the next: deeper than the bound.
    let chain: String = (0..40)
        .map(|i| format!(r##"<rule id="r{i}"><ruleref uri="#r{}"/></rule>"##, i + 1))
        .chain(std::iter::once(r#"<rule id="r40">1</rule>"#.to_owned()))
        .collect();
    assert!(matches!(refused(&doc("r0", &chain)), Error::Recursive(_)));
}

#[test]
fn hostile_grammars_give_bounded_work() {
    let t0 = Instant::now();
    // 1000^3 repetitions of a digit, and of NULL (which creates no state).
    for inner in ["1", r#"<ruleref special="NULL"/>"#] {
        let nested = format!(
            r#"<rule id="r"><item repeat="1000"><item repeat="1000"><item repeat="1000">{inner}</item></item></item></rule>"#
        );
        assert!(matches!(refused(&doc("r", &nested)), Error::TooLarge(_)));
    }
    // Exponential expansion through rulerefs: each rule uses the previous one twice.
    let doubling: String = std::iter::once(r#"<rule id="r0">1</rule>"#.to_owned())
        .chain((1..30).map(|i| {
            format!(
                r##"<rule id="r{i}"><ruleref uri="#r{0}"/><ruleref uri="#r{0}"/></rule>"##,
                i - 1
            )
        }))
        .collect();
    assert!(matches!(
        refused(&doc("r29", &doubling)),
        Error::TooLarge(_)
    ));
    // Deep nesting, as deep as the attack of issue 12 §1 (≈ 3 500 levels).
    let deep = format!(
        r#"<rule id="r">{}1{}</rule>"#,
        "<item>".repeat(3_500),
        "</item>".repeat(3_500)
    );
    assert!(matches!(refused(&doc("r", &deep)), Error::TooLarge(_)));
    // The deepest nesting allowed, in each of the 31 rules of the longest ruleref chain
    // allowed: compiles (or is refused) without exhausting a 2 MiB test thread's stack.
    let nest = |inner: &str| format!("{}{inner}{}", "<item>".repeat(60), "</item>".repeat(60));
    let deep_chain: String = (0..31)
        .map(|i| {
            format!(
                r#"<rule id="r{i}">{}</rule>"#,
                nest(&format!(r##"1<ruleref uri="#r{}"/>"##, i + 1))
            )
        })
        .chain(std::iter::once(r#"<rule id="r31">1</rule>"#.to_owned()))
        .collect();
    let chained = Grammar::parse(&doc("r0", &deep_chain)).unwrap();
    assert_eq!(state(&chained, &"1".repeat(32)), MaxMatch);
    // A huge document.
    let huge = doc(
        "r",
        &format!(r#"<rule id="r">{}</rule>"#, "1 ".repeat(200_000)),
    );
    assert!(matches!(refused(&huge), Error::TooLarge(_)));
    assert!(
        t0.elapsed().as_secs() < 5,
        "refusals took {:?}",
        t0.elapsed()
    );
    // Many digits into an open repeat: bounded per digit, and a cap on the input.
    let open = g(r#"<rule id="r"><item repeat="0-"><ruleref special="GARBAGE"/></item></rule>"#);
    let mut m = open.matcher();
    for _ in 0..5000 {
        m.push('1').unwrap();
    }
    assert_eq!(m.state(), NoMatch, "beyond MAX_INPUT digits");
    assert_eq!(open.matcher().push('x'), Err(Error::UnknownDigit('x')));
}

#[test]
fn builtin_digits_and_its_lengths() {
    let any = Grammar::builtin("builtin:dtmf/digits").unwrap();
    assert_eq!(any.match_digits("1").unwrap(), (Match, Some("1".into())));
    assert_eq!(state(&any, "0123456789"), Match);
    assert_eq!(state(&any, "#"), NoMatch);
    assert_eq!(state(&any, "1*"), NoMatch);
    let four = Grammar::builtin("builtin:dtmf/digits?length=4").unwrap();
    assert_eq!(state(&four, "123"), Potential);
    assert_eq!(state(&four, "1234"), MaxMatch);
    let range = Grammar::builtin("builtin:dtmf/digits?minlength=2;maxlength=3").unwrap();
    assert_eq!(state(&range, "1"), Potential);
    assert_eq!(state(&range, "12"), Match);
    assert_eq!(state(&range, "123"), MaxMatch);
    let min = Grammar::builtin("builtin:dtmf/digits?minlength=3").unwrap();
    assert_eq!(state(&min, "12"), Potential);
    assert_eq!(state(&min, "123456"), Match);
    for bad in [
        "builtin:dtmf/digits?minlength=5;maxlength=2",
        "builtin:dtmf/digits?length=x",
        "builtin:dtmf/digits?length=100000",
        "builtin:dtmf/digits?foo=1",
        "builtin:dtmf/digits?length",
        "builtin:dtmf/nothing",
        "builtin:voice/digits",
        "http://example.com/g.grxml",
    ] {
        assert!(
            matches!(Grammar::builtin(bad), Err(Error::BadBuiltin(_))),
            "{bad}"
        );
    }
}

#[test]
fn builtin_boolean() {
    let yn = Grammar::builtin("builtin:dtmf/boolean").unwrap();
    assert_eq!(
        yn.match_digits("1").unwrap(),
        (MaxMatch, Some("true".into()))
    );
    assert_eq!(
        yn.match_digits("2").unwrap(),
        (MaxMatch, Some("false".into()))
    );
    assert_eq!(state(&yn, "3"), NoMatch);
    let custom = Grammar::builtin("builtin:dtmf/boolean?y=7;n=99").unwrap();
    assert_eq!(interp(&custom, "7"), Some("true".into()));
    assert_eq!(state(&custom, "9"), Potential);
    assert_eq!(interp(&custom, "99"), Some("false".into()));
    assert!(Grammar::builtin("builtin:dtmf/boolean?y=1;n=1").is_err());
    assert!(Grammar::builtin("builtin:dtmf/boolean?y=x").is_err());
}

#[test]
fn builtin_number_currency_phone() {
    for name in ["number", "currency"] {
        let n = Grammar::builtin(&format!("builtin:dtmf/{name}")).unwrap();
        assert_eq!(n.match_digits("42").unwrap(), (Match, Some("42".into())));
        assert_eq!(
            n.match_digits("12*50").unwrap(),
            (Match, Some("12.50".into()))
        );
        assert_eq!(state(&n, "12*"), Potential);
        assert_eq!(state(&n, "*"), NoMatch);
        assert_eq!(state(&n, "1*2*3"), NoMatch);
        assert!(Grammar::builtin(&format!("builtin:dtmf/{name}?x=1")).is_err());
    }
    let phone = Grammar::builtin("builtin:dtmf/phone").unwrap();
    assert_eq!(
        phone.match_digits("18005551234").unwrap(),
        (Match, Some("18005551234".into()))
    );
    assert_eq!(interp(&phone, "5551234*89"), Some("5551234x89".into()));
    assert_eq!(state(&phone, "#"), NoMatch);
}

#[test]
fn builtin_date_and_time() {
    let date = Grammar::builtin("builtin:dtmf/date").unwrap();
    assert_eq!(
        date.match_digits("20240229").unwrap(),
        (MaxMatch, Some("20240229".into()))
    );
    assert_eq!(state(&date, "2024123"), Potential);
    assert_eq!(state(&date, "20241301"), NoMatch);
    assert_eq!(state(&date, "20240001"), NoMatch);
    assert_eq!(state(&date, "20241232"), NoMatch);
    assert_eq!(state(&date, "20241200"), NoMatch);
    assert_eq!(state(&date, "19991031"), MaxMatch);
    let time = Grammar::builtin("builtin:dtmf/time").unwrap();
    assert_eq!(
        time.match_digits("2359").unwrap(),
        (MaxMatch, Some("2359".into()))
    );
    assert_eq!(state(&time, "0000"), MaxMatch);
    assert_eq!(state(&time, "1945"), MaxMatch);
    assert_eq!(state(&time, "2400"), NoMatch);
    assert_eq!(state(&time, "0960"), NoMatch);
    assert_eq!(state(&time, "0"), Potential);
}

#[test]
fn fuzz_entry_point_survives_odd_input() {
    for data in [&b""[..], b"\xff\xfe", b"<grammar", b"builtin:dtmf/digits?length=3", b"<grammar mode='dtmf' root='r'><rule id='r'><item repeat='0-'><ruleref special='NULL'/></item></rule></grammar>"] {
        rayo_media::srgs::fuzz_grammar(data);
    }
}

#[test]
fn fuzz_corpora_replay() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (dir, run) in [
        ("srgs", rayo_media::srgs::fuzz_grammar as fn(&[u8])),
        ("nlsml", rayo_media::nlsml::fuzz_nlsml),
    ] {
        let entries = std::fs::read_dir(root.join(dir)).expect("corpus");
        let mut n = 0;
        for e in entries {
            run(&std::fs::read(e.unwrap().path()).unwrap());
            n += 1;
        }
        assert!(n >= 3, "{dir}: {n} inputs");
    }
    let pin = std::fs::read_to_string(root.join("srgs/pin-example-71.grxml")).unwrap();
    assert_eq!(state(&Grammar::parse(&pin).unwrap(), "1234#"), MaxMatch);
}
