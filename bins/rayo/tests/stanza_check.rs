//! `rayo stanza check` as a user runs it: the built binary over the 110 examples of the
//! specs, its own output fed back to it, standard input, and the refusals a server answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Where the examples of XEP-0327, XEP-0349 and XEP-0354 are (`RAYO_SPEC_EXAMPLES` overrides).
fn examples_dir() -> PathBuf {
    let dir = std::env::var_os("RAYO_SPEC_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../specs/examples"));
    assert!(dir.is_dir(), "spec examples not found at {}", dir.display());
    dir
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .expect("examples readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 110, "94 + 4 + 12 examples");
    files
}

/// Runs `rayo` with `args`, feeding it `stdin`.
fn rayo(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rayo"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rayo starts");
    let mut input = child.stdin.take().expect("stdin piped");
    input.write_all(stdin.as_bytes()).expect("stdin written");
    drop(input);
    child.wait_with_output().expect("rayo ends")
}

fn check(files: &[&Path]) -> Output {
    let args: Vec<&str> = ["stanza", "check"]
        .into_iter()
        .chain(files.iter().map(|p| p.to_str().expect("UTF-8 path")))
        .collect();
    rayo(&args, "")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// 1-based number of the first line of `file` that starts with `prefix`.
fn line_of(file: &Path, prefix: &str) -> usize {
    let content = std::fs::read_to_string(file).expect("readable");
    content
        .lines()
        .position(|l| l.starts_with(prefix))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {}", file.display()))
}

/// A file in this test's own scratch directory.
fn scratch(name: &str, content: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, content).expect("scratch file written");
    path
}

#[test]
fn every_example_but_two_prints_one_canonical_line_per_stanza() {
    for file in examples() {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name == "xep-0327-082.xml" || name == "xep-0327-090.xml" {
            continue;
        }
        let out = check(&[&file]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(stderr, "", "{name}");
        assert_eq!(out.status.code(), Some(0), "{name}");
        let (chunks, tail) =
            rayo_proto::document::split(&std::fs::read_to_string(&file).expect("UTF-8"));
        assert_eq!(tail, None, "{name}");
        assert_eq!(stdout.lines().count(), chunks.len(), "{name}:\n{stdout}");
        for line in stdout.lines() {
            assert!(
                line.starts_with('<') && line.ends_with('>'),
                "{name}: {line}"
            );
        }
    }
}

#[test]
fn all_examples_at_once_report_exactly_the_two_bad_ones() {
    let files = examples();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = check(&paths);
    assert_eq!(out.status.code(), Some(1));
    let dir = examples_dir();
    let reject = dir.join("xep-0327-082.xml");
    let sip = dir.join("xep-0327-090.xml");
    // The <iq> holding the <reject/> without a reason, and the first line of the SIP MESSAGE.
    let expected = [
        format!(
            "{}:{}: <reject>: MUST contain a single reject reason element (XEP-0327 §7.9) \
             (server answers bad-request/modify)",
            reject.display(),
            line_of(&reject, "<iq")
        ),
        format!(
            "{}:{}: not XML: text outside any element (server answers not-well-formed stream error)",
            sip.display(),
            line_of(&sip, "MESSAGE sip:")
        ),
    ];
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().collect::<Vec<_>>(), expected);
    assert_eq!(line_of(&reject, "<iq"), 2);
}

#[test]
fn the_canonical_output_checks_again_to_itself_from_stdin() {
    let files = examples();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let first = text(&check(&paths).stdout);
    assert!(first.lines().count() >= 150, "{first}");
    for args in [&["stanza", "check", "-"][..], &["stanza", "check"][..]] {
        let again = rayo(args, &first);
        assert_eq!(text(&again.stderr), "", "{args:?}");
        assert_eq!(again.status.code(), Some(0), "{args:?}");
        assert!(text(&again.stdout) == first, "{args:?}: output differs");
    }
}

#[test]
fn the_canonical_form_of_a_command_is_one_line_without_white_space() {
    let input = "<!-- a call is answered -->\n\
                 <iq type='set' id='a1' to='9f00061@call.shakespeare.lit'>\n  \
                 <answer xmlns='urn:xmpp:rayo:1'/>\n</iq>\n";
    let out = rayo(&["stanza", "check"], input);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(
        text(&out.stdout),
        "<iq xmlns='jabber:client' id='a1' to='9f00061@call.shakespeare.lit' type='set'>\
         <answer xmlns='urn:xmpp:rayo:1'/></iq>\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_unknown_command_in_a_rayo_namespace_is_feature_not_implemented() {
    let file = scratch(
        "unknown-payload.xml",
        "<iq type='set' id='a1' to='9f00061@call.shakespeare.lit'>\n  \
         <answer xmlns='urn:xmpp:rayo:1'/>\n</iq>\n\
         <!-- no such command -->\n\
         <iq type='set' id='a2' to='9f00061@call.shakespeare.lit'>\n  \
         <transmogrify xmlns='urn:xmpp:rayo:1'/>\n</iq>\n",
    );
    let out = check(&[&file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).lines().count(),
        1,
        "the good stanza still prints"
    );
    assert_eq!(
        text(&out.stderr),
        format!(
            "{}:5: <transmogrify xmlns='urn:xmpp:rayo:1'> is not a command this server \
             implements (server answers feature-not-implemented/cancel)\n",
            file.display()
        )
    );
}

#[test]
fn failures_on_stdin_are_named_dash() {
    let input = "<iq type='set' id='d1' to='call.shakespeare.lit'>\n\
                 <answer xmlns='urn:xmpp:rayo:1'/></iq>\n\
                 <iq type='set' id='d2' to='9f00061@call.shakespeare.lit'>\
                 <join xmlns='urn:xmpp:rayo:1'/></iq>\n<broken>\n";
    let out = rayo(&["stanza", "check", "-"], input);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with("-:1: ")
            && lines[0].ends_with("(server answers feature-not-implemented/cancel)"),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("-:3: ") && lines[1].ends_with("(server answers bad-request/modify)"),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with("-:4: not XML: ")
            && lines[2].ends_with("(server answers not-well-formed stream error)"),
        "{stderr}"
    );
}

#[test]
fn an_unreadable_file_is_exit_status_2_and_the_others_are_still_checked() {
    let good = scratch("good.xml", "<presence to='juliet@capulet.lit'/>\n");
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-file.xml");
    let out = check(&[&missing, &good]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout).lines().count(), 1);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("rayo: {}: ", missing.display())),
        "{stderr}"
    );
}

#[test]
fn usage_errors_are_exit_status_2_and_help_explains_the_output() {
    assert_eq!(rayo(&["stanza", "frobnicate"], "").status.code(), Some(2));
    assert_eq!(rayo(&[], "").status.code(), Some(2));
    let help = rayo(&["stanza", "check", "--help"], "");
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    for needle in [
        "FILE:LINE:",
        "server answers",
        "Exit status",
        "standard input",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}
