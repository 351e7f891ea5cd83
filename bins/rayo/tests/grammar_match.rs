//! `rayo grammar match` as a user runs it: the spec's PIN grammar, builtins, the terminator,
//! NLSML output and invalid grammars.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

const PIN: &str = r##"<?xml version="1.0"?>
<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" mode="dtmf">
  <rule id="digit"><one-of><item>0</item><item>1</item><item>2</item><item>3</item><item>4</item>
    <item>5</item><item>6</item><item>7</item><item>8</item><item>9</item></one-of></rule>
  <rule id="pin" scope="public"><one-of>
    <item><item repeat="4"><ruleref uri="#digit"/></item>#</item>
    <item>* 9 <tag>operator</tag></item></one-of></rule></grammar>"##;

/// Writes `text` to a file of the test's own temporary directory.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grammar_match");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn rayo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rayo"))
        .args(args)
        .output()
        .expect("rayo runs")
}

/// Runs `rayo grammar match` and gives (exit code, standard output).
fn run(grammar: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["grammar", "match", "--grammar", grammar];
    args.extend_from_slice(extra);
    let out = rayo(&args);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn pin_grammar_states() {
    let pin = file("pin.grxml", PIN);
    let pin = pin.to_str().unwrap();
    assert_eq!(run(pin, &["1234#"]), (0, "maxmatch\t1234#\n".into()));
    assert_eq!(run(pin, &["*9"]), (0, "maxmatch\toperator\n".into()));
    assert_eq!(run(pin, &["12#"]), (0, "nomatch\t\n".into()));
    assert_eq!(run(pin, &["12"]), (0, "potential\t\n".into()));
}

#[test]
fn terminator_ends_input_and_is_not_part_of_it() {
    let g = "builtin:dtmf/digits?minlength=2";
    assert_eq!(
        run(g, &["--terminator", "#", "123#"]),
        (0, "match\t123\n".into())
    );
    assert_eq!(
        run(g, &["--terminator", "#", "1#"]),
        (0, "nomatch\t\n".into()),
        "potential + terminator"
    );
    assert_eq!(run(g, &["123"]), (0, "match\t123\n".into()));
}

#[test]
fn builtins_are_accepted() {
    assert_eq!(
        run("builtin:dtmf/digits?length=4", &["1234"]),
        (0, "maxmatch\t1234\n".into())
    );
    assert_eq!(
        run("builtin:dtmf/boolean", &["2"]),
        (0, "maxmatch\tfalse\n".into())
    );
    assert_eq!(
        run("builtin:dtmf/time", &["2460"]),
        (0, "nomatch\t\n".into())
    );
}

#[test]
fn nlsml_output() {
    let (code, out) = run("builtin:dtmf/digits?length=4", &["--nlsml", "1234"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(r#"<result xmlns="urn:ietf:params:xml:ns:mrcpv2">"#),
        "{out}"
    );
    let r = rayo_media::nlsml::NlsmlResult::parse(out.trim()).unwrap();
    let i = &r.interpretations[0];
    assert_eq!(i.grammar.as_deref(), Some("builtin:dtmf/digits?length=4"));
    assert_eq!(i.input.as_ref().unwrap().text, "1 2 3 4");
    assert_eq!(i.instance.as_deref(), Some("1234"));
}

#[test]
fn invalid_grammars_exit_1() {
    let bad = file(
        "bad.grxml",
        r#"<grammar mode="dtmf"><rule id="r" scope="public">x</rule></grammar>"#,
    );
    let (code, out) = run(bad.to_str().unwrap(), &["1"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("invalid\t") && out.contains("not a DTMF token"),
        "{out}"
    );
    let (code, out) = run("builtin:dtmf/digits?length=x", &["1"]);
    assert_eq!(code, 1);
    assert!(out.starts_with("invalid\t"), "{out}");
    let (code, _) = run("/nonexistent/grammar.grxml", &["1"]);
    assert_eq!(code, 2);
    let (code, _) = run("builtin:dtmf/digits", &["12x"]);
    assert_eq!(code, 2, "not a DTMF digit");
}
