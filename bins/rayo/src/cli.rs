//! The command line: subcommands and their arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `rayo`: a Rayo (XEP-0327) client.
#[derive(Debug, Parser)]
#[command(
    name = "rayo",
    version,
    about = "Rayo (XEP-0327) client: third-party call control over XMPP",
    long_about = "Rayo (XEP-0327) client: third-party call control over XMPP.\n\n\
                  Today it checks stanzas offline; placing and taking calls come later."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `rayo`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with Rayo stanzas offline (no server needed).
    #[command(subcommand)]
    Stanza(StanzaCommand),
    /// Work with DTMF grammars offline (SRGS XML and VoiceXML builtins).
    #[command(subcommand)]
    Grammar(GrammarCommand),
}

/// The subcommands of `rayo grammar`.
#[derive(Debug, Subcommand)]
pub enum GrammarCommand {
    /// Match DTMF digits against a grammar; print the match state and interpretation.
    #[command(long_about = MATCH_LONG_ABOUT, after_help = MATCH_AFTER_HELP)]
    Match(MatchArgs),
}

/// Arguments of `rayo grammar match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// An SRGS XML grammar file (`-` for standard input) or a `builtin:dtmf/NAME?p=v` URI.
    #[arg(long, value_name = "FILE")]
    pub grammar: String,
    /// The digit that ends input (never part of it), as an input component's `terminator`.
    #[arg(long, value_name = "DIGIT")]
    pub terminator: Option<char>,
    /// Print the NLSML result of a match instead of the line.
    #[arg(long)]
    pub nlsml: bool,
    /// The DTMF digits entered: 0-9, *, #, A-D.
    #[arg(value_name = "DIGITS", allow_hyphen_values = true)]
    pub digits: String,
}

/// The subcommands of `rayo stanza`.
#[derive(Debug, Subcommand)]
pub enum StanzaCommand {
    /// Parse and validate stanzas; print each one's canonical form or what is wrong with it.
    #[command(long_about = CHECK_LONG_ABOUT, after_help = CHECK_AFTER_HELP)]
    Check(CheckArgs),
}

/// Arguments of `rayo stanza check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files of stanzas to check; `-`, or no file at all, reads standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

const CHECK_LONG_ABOUT: &str = "\
Parse and validate Rayo stanzas, as a Rayo server would before acting on them.

Each FILE holds a sequence of top-level elements: whole stanzas (<iq/>, <presence/>,
<message/>; without a namespace they are read as jabber:client) or bare Rayo payloads
(<dial/>, <output/>, <offer/>, <complete/>...), which are read where such an element is
normally sent. XML comments, processing instructions and white space between them are
skipped, so the examples of XEP-0327, XEP-0349 and XEP-0354 can be checked as they are.

Every element that parses and passes XEP-0327's rules is printed on standard output as
one line: its canonical serialisation, nothing else. That output is itself valid input:
checking it again prints the same lines.

Every element that is refused gives one line on standard error:

    FILE:LINE: WHAT IS WRONG (server answers CONDITION/TYPE)

where LINE is the line of its start tag and CONDITION/TYPE the stanza error a Rayo server
answers with (for example bad-request/modify, service-unavailable/cancel,
feature-not-implemented/cancel). Text that is not XML (or broken XML) ends the check of
that file with:

    FILE:LINE: not XML: WHAT (server answers not-well-formed stream error)

(`not well-formed XML: WHAT` for a broken element). Standard input is named `-` in these lines.";

const CHECK_AFTER_HELP: &str = "\
Exit status: 0 when every element passed, 1 when anything was refused or not XML,
2 on a usage error or a file that cannot be read.

Examples:
    rayo stanza check ../shared/specs/examples/*.xml
    rayo stanza check calls.xml > canonical.xml && rayo stanza check canonical.xml
    echo \"<dial xmlns='urn:xmpp:rayo:1' to='tel:+13055195825'/>\" | rayo stanza check";

const MATCH_LONG_ABOUT: &str = "\
Match DTMF digits against a grammar, as an input component would.

The grammar is an SRGS 1.0 XML file in DTMF mode (application/srgs+xml), or a VoiceXML
builtin DTMF grammar: builtin:dtmf/digits?minlength=N;maxlength=M (or length=N),
boolean?y=D;n=D, number, currency, date, phone, time.

One line is printed: the state after the digits, a tab, and the interpretation (empty
unless the digits match):

    nomatch     no continuation of the digits can match
    potential   the digits are the start of a match
    match       the digits match, and more digits could too
    maxmatch    the digits match and no further digit can

With --terminator, input stops at that digit (which is not part of it): the digits before it
are a match or, if only a potential match, nomatch. With --nlsml a match prints its NLSML
result (application/nlsml+xml) instead of the line.

A grammar that is refused prints `invalid`, a tab and the reason (what a Rayo server
answers with bad-request), and exits with status 1.";

const MATCH_AFTER_HELP: &str = "\
Exit status: 0 when the digits were matched against the grammar (whatever the state),
1 for an invalid grammar, 2 on a usage error, a bad digit or a file that cannot be read.

Examples:
    rayo grammar match --grammar pin.grxml '1234#'
    rayo grammar match --grammar 'builtin:dtmf/digits?length=4' --nlsml 1234
    rayo grammar match --grammar pin.grxml --terminator '#' 12#";
