//! `rayo`: the Rayo (XEP-0327) client command line.
//!
//! `rayo stanza check [FILE…]` parses and validates files of stanzas offline; see
//! `rayo stanza check --help`. `rayo grammar match` matches DTMF digits against a grammar;
//! see `rayo grammar match --help`. `rayo dial URI` places a call through a Rayo node and
//! `rayo listen` takes the calls it offers; see their `--help`.

mod cli;
mod dial;
mod grammar_match;
mod listen;
mod session;
mod stanza_check;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, GrammarCommand, StanzaCommand};

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Dial(args) => dial::run(&args),
        Command::Listen(args) => listen::run(&args),
        Command::Stanza(StanzaCommand::Check(args)) => stanza_check::run(&args),
        Command::Grammar(GrammarCommand::Match(args)) => grammar_match::run(&args),
    }
}
