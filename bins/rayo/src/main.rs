//! `rayo`: the Rayo (XEP-0327) client command line.
//!
//! `rayo stanza check [FILE…]` parses and validates files of stanzas offline; see
//! `rayo stanza check --help`. `rayo grammar match` matches DTMF digits against a grammar;
//! see `rayo grammar match --help`.

mod cli;
mod grammar_match;
mod stanza_check;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, GrammarCommand, StanzaCommand};

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Stanza(StanzaCommand::Check(args)) => stanza_check::run(&args),
        Command::Grammar(GrammarCommand::Match(args)) => grammar_match::run(&args),
    }
}
