//! The command line: subcommands and their arguments (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// `rayo`: a Rayo (XEP-0327) client.
#[derive(Debug, Parser)]
#[command(
    name = "rayo",
    version,
    about = "Rayo (XEP-0327) client: third-party call control over XMPP",
    long_about = "Rayo (XEP-0327) client: third-party call control over XMPP.\n\n\
                  It places calls (`rayo dial`) and takes them (`rayo listen`) through a Rayo \
                  node, and checks stanzas and grammars offline."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `rayo`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Place a call through a Rayo node and print its progress, one line per event.
    #[command(long_about = DIAL_LONG_ABOUT, after_help = DIAL_AFTER_HELP)]
    Dial(DialArgs),
    /// Print the calls a Rayo node offers; with --answer, take and run each one.
    #[command(long_about = LISTEN_LONG_ABOUT, after_help = LISTEN_AFTER_HELP)]
    Listen(ListenArgs),
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
    rayo stanza check specs/examples/*.xml
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

/// How to reach and log in to the Rayo node; shared by `rayo dial` and `rayo listen`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    /// The account to log in as (a bare JID, or a full JID to ask for that resource).
    #[arg(
        long,
        env = "RAYO_JID",
        value_name = "JID",
        default_value = "rayo@localhost"
    )]
    pub jid: String,
    /// Its password (rayo-node prints the development user's at start).
    #[arg(
        long,
        env = "RAYO_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub password: String,
    /// Where to connect, as HOST:PORT [default: the JID's domain, port 5222].
    #[arg(long, env = "RAYO_SERVER", value_name = "HOST:PORT")]
    pub server: Option<String>,
    /// The Rayo service's domain, when it is not the JID's: the node's component domain
    /// when it is hosted by another XMPP server (such as Prosody).
    #[arg(long, env = "RAYO_DOMAIN", value_name = "DOMAIN")]
    pub rayo_domain: Option<String>,
    /// Trust exactly the TLS certificate with this SHA-256 fingerprint (hex; colons and
    /// case ignored): the node's self-signed certificate, printed by rayo-node at start.
    #[arg(
        long,
        env = "RAYO_FINGERPRINT",
        value_name = "SHA256",
        conflicts_with_all = ["ca", "insecure"]
    )]
    pub fingerprint: Option<String>,
    /// Trust TLS certificates issued for the JID's domain by the CAs of this PEM file.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca: Option<PathBuf>,
    /// Accept any TLS certificate. For development on loopback only: anyone on the path
    /// could read and change the stream, password included.
    #[arg(long)]
    pub insecure: bool,
}

/// What to do on an answered call before hanging up; shared by `rayo dial` and
/// `rayo listen --answer`. The steps run in this order, each waiting for the one before.
#[derive(Debug, Args)]
#[command(next_help_heading = "Steps once answered (in this order, then hang up)")]
pub struct StepArgs {
    /// Speak TEXT (text to speech) and wait until it is said.
    #[arg(long, value_name = "TEXT")]
    pub say: Option<String>,
    /// Collect DTMF digits against GRAMMAR: a builtin such as
    /// 'builtin:dtmf/digits?minlength=1;maxlength=4', or the path of an SRGS XML file.
    #[arg(long, value_name = "GRAMMAR")]
    pub ask: Option<String>,
    /// With --ask: give up (`input noinput`) when no digit comes within SECONDS.
    #[arg(long, value_name = "SECONDS", requires = "ask", value_parser = parse_seconds)]
    pub ask_timeout: Option<Duration>,
    /// Record the caller for up to SECONDS (WAV on the node) and print where it went.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub record: Option<Duration>,
}

impl StepArgs {
    /// Whether any step was asked for.
    pub fn any(&self) -> bool {
        self.say.is_some() || self.ask.is_some() || self.record.is_some()
    }
}

/// Arguments of `rayo dial`.
#[derive(Debug, Args)]
pub struct DialArgs {
    /// Whom to call: a sip: or tel: URI.
    #[arg(value_name = "URI")]
    pub to: String,
    /// The caller id to present (a sip: or tel: URI).
    #[arg(long, value_name = "URI")]
    pub from: Option<String>,
    /// A signalling (SIP) header for the call; may be repeated.
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Give up when the call is not answered within SECONDS (`end timeout`).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Succeed when the call ends with this reason, instead of when it is answered.
    #[arg(long, value_name = "REASON", value_parser = END_REASONS)]
    pub expect: Option<String>,
    /// The steps.
    #[command(flatten)]
    pub steps: StepArgs,
    /// The connection.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Arguments of `rayo listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Accept and answer each call offered, run the steps, then hang up.
    #[arg(long)]
    pub answer: bool,
    /// Stop after N calls [default: run until interrupted].
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Put each answered caller into the conference (mixer) MIXER, where it stays until it
    /// hangs up; callers are taken at once, several at a time. Needs --answer.
    #[arg(long, value_name = "MIXER", requires = "answer")]
    pub join: Option<String>,
    /// The steps.
    #[command(flatten)]
    pub steps: StepArgs,
    /// The connection.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// The end reasons of XEP-0327 §7.10, as `rayo dial --expect` takes and `end` lines print.
pub const END_REASONS: [&str; 6] = [
    "hungup",
    "hangup-command",
    "timeout",
    "busy",
    "rejected",
    "error",
];

/// Reads a positive number of seconds (fractions allowed).
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!("{s} is not between 0 and 86400 seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// Reads `NAME=VALUE`.
fn parse_header(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("{s:?} is not NAME=VALUE")),
    }
}

/// The newcomer's flow, shared by the help of `dial` and `listen`.
macro_rules! getting_started {
    () => {
        "\
Getting started, with a node on this machine:

    cargo run --release --bin rayo-node
        development user: rayo@localhost  password: 0f3a…
        XMPP c2s on 127.0.0.1:5222
        TLS certificate SHA-256 AB:CD:…
        SIP on 127.0.0.1:5060
    export RAYO_PASSWORD=0f3a… RAYO_FINGERPRINT=AB:CD:…

The defaults (--jid rayo@localhost, the server localhost:5222) then reach it; only the
password and the certificate's fingerprint, both printed by rayo-node, are needed.
--insecure instead of the fingerprint skips the certificate check (loopback only)."
    };
}

const DIAL_LONG_ABOUT: &str = "\
Place a call through a Rayo node (XEP-0327 §6.2.1) and print its progress on standard
output, one line per event as it happens:

    dialed CALL-JID             the node took the dial; the call's JID
    ringing                     the called party rings
    answered                    the called party answered
    output finish               --say was said (or: output hangup, output error TEXT…)
    input match INTERPRETATION  --ask matched (or: input nomatch, input noinput…)
    recorded URI MS ms SIZE bytes
                                --record's recording
    end REASON                  the call ended: hungup, hangup-command, timeout, busy,
                                rejected or error (then platform-code=CODE if the node
                                gave one)

Once the call is answered the steps (--say, --ask, --record) run in that order, then rayo
hangs up (`end hangup-command`); with no step it hangs up at once. When the node refuses
the dial, standard error says why with the stanza error condition:

    rayo: dial refused: registration-required

(for instance: the account may not dial, resource-constraint: too many calls).";

const DIAL_AFTER_HELP: &str = concat!(
    "\
Exit status: 0 when the call was answered and every step ran (with --expect REASON: when
the call ended with REASON), 1 when the dial was refused, the call was not answered (or
ended otherwise than expected) or a step failed, 2 on a usage error or when the node could
not be reached or logged in to.

Examples:
    rayo dial sip:alice@192.0.2.10:5060
    rayo dial sip:alice@192.0.2.10 --from sip:bot@example.com --header X-Campaign=7 \\
        --say 'Your parcel arrives today. Press 1 to confirm.' \\
        --ask 'builtin:dtmf/digits?length=1'
    rayo dial tel:+13055195825 --timeout 20 --expect busy

The embedded node (no trunk) dials IP-addressed sip: URIs directly.

",
    getting_started!()
);

const LISTEN_LONG_ABOUT: &str = "\
Log in to a Rayo node, say this client takes calls (XEP-0327 §6.1), and print every call
offered, as it comes:

    listening as JID            logged in; the node now offers calls here
    offer CALL-JID from FROM to TO

With --answer each call is accepted and answered, the steps (--say, --ask, --record) run
in that order, and rayo hangs up; each step's line is printed as it happens:

    answered
    output finish               --say was said (or: output hangup, output error TEXT…)
    input match INTERPRETATION  --ask matched (or: input nomatch, input noinput…)
    recorded URI MS ms SIZE bytes
                                --record's recording
    end hangup-command          (or end hungup when the caller hung up first)

Calls are taken one at a time: while one is in progress rayo tells the node it is busy
(presence `dnd`), so new calls are offered to other clients meanwhile. Without --answer
nothing is done with the offers; another client may take them.";

const LISTEN_AFTER_HELP: &str = concat!(
    "\
Exit status (with --count, or when the connection is lost for good): 0 when every call went
as asked, 1 when a call could not be taken or a step failed, 2 on a usage error or when
the node could not be reached or logged in to.

Examples:
    rayo listen
    rayo listen --answer --say 'Hello' --ask 'builtin:dtmf/digits?minlength=1;maxlength=4'
    rayo listen --answer --ask pin.grxml --ask-timeout 10 --record 30 --count 1

Then call the node, for example with sipp: sipp -sn uac -s service 127.0.0.1:5060 -m 1

",
    getting_started!()
);
