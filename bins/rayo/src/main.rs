//! `rayo`: the Rayo (XEP-0327) client command line.
//!
//! `rayo stanza check [FILE…]` parses and validates files of stanzas offline; see
//! `rayo stanza check --help`.

mod cli;
mod stanza_check;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, StanzaCommand};

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Stanza(StanzaCommand::Check(args)) => stanza_check::run(&args),
    }
}
