//! `rayo grammar match`: match DTMF digits against an SRGS grammar or a VoiceXML builtin,
//! and print the match state and interpretation (or the NLSML result).

use std::io::{self, Read, Write};
use std::process::ExitCode;

use rayo_media::nlsml::NlsmlResult;
use rayo_media::srgs::{Grammar, MatchState};

use crate::cli::MatchArgs;

/// Reads the grammar named on the command line: a builtin URI, a file, or `-`.
fn load(spec: &str) -> Result<Result<Grammar, rayo_media::srgs::Error>, io::Error> {
    if spec.starts_with("builtin:") {
        return Ok(Grammar::builtin(spec));
    }
    let mut text = String::new();
    if spec == "-" {
        io::stdin().lock().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(spec)?;
    }
    Ok(Grammar::parse(&text))
}

/// Runs `rayo grammar match`. Exit status 0 once the digits are matched, 1 for an invalid
/// grammar, 2 for an unreadable file, a bad digit or terminator, or a failed write.
pub fn run(args: &MatchArgs) -> ExitCode {
    let grammar = match load(&args.grammar) {
        Err(e) => {
            eprintln!("rayo: {}: {e}", args.grammar);
            return ExitCode::from(2);
        }
        Ok(Err(e)) => return print(&format!("invalid\t{e}"), 1),
        Ok(Ok(g)) => g,
    };
    if let Some(t) = args.terminator {
        if Grammar::builtin("builtin:dtmf/digits")
            .map(|g| g.matcher().push(t).is_err())
            .unwrap_or(true)
        {
            eprintln!("rayo: terminator {t:?} is not a DTMF digit");
            return ExitCode::from(2);
        }
    }
    let mut m = grammar.matcher();
    let mut terminated = false;
    for d in args.digits.chars() {
        if args.terminator.is_some_and(|t| t.eq_ignore_ascii_case(&d)) {
            terminated = true;
            break;
        }
        if let Err(e) = m.push(d) {
            eprintln!("rayo: {e}");
            return ExitCode::from(2);
        }
    }
    let mut state = m.state();
    if terminated && !state.is_match() {
        state = MatchState::NoMatch;
    }
    let interpretation = if state.is_match() {
        m.interpretation()
    } else {
        None
    };
    match interpretation {
        Some(i) if args.nlsml => print(
            &NlsmlResult::dtmf(&args.grammar, m.digits(), &i).to_xml(),
            0,
        ),
        i => print(&format!("{}\t{}", state.as_str(), i.unwrap_or_default()), 0),
    }
}

/// Prints one line on standard output and gives `status`, or 2 if it cannot be written.
fn print(line: &str, status: u8) -> ExitCode {
    let mut out = io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::from(status),
        Err(e) => {
            if e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("rayo: writing the output: {e}");
            }
            ExitCode::from(2)
        }
    }
}
