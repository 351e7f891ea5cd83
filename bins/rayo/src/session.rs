//! What `rayo dial` and `rayo listen` share: logging in to the node with the SDK, printing
//! lines as things happen, running the steps on an answered call and following the call's
//! events to its end. Everything Rayo is done by `rayo_client`; this module only decides
//! what to print.

use std::future::Future;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use rayo_client::proto::event::{
    CompleteMetadata, CompleteReason, InputReason, OutputReason, RecordReason,
};
use rayo_client::proto::generated::input_complete::Match;
use rayo_client::{
    Call, CallEvent, Client, Complete, Component, Config, DefinedCondition, EndReason, Error,
    Input, InputSpec, Offers, Output, Record, Trust,
};
use rayo_media::nlsml::{self, NlsmlResult};
use rayo_media::srgs::Grammar;

use crate::cli::{ConnectArgs, StepArgs};

/// How long a call may take to end once rayo hung up.
const END_WAIT: Duration = Duration::from_secs(20);

/// A failure already reported on standard error: the exit status to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure(pub u8);

impl From<Failure> for ExitCode {
    fn from(f: Failure) -> ExitCode {
        ExitCode::from(f.0)
    }
}

/// Prints `rayo: MESSAGE` on standard error (a closed standard error is ignored).
pub fn error(message: &str) {
    let _ = writeln!(io::stderr().lock(), "rayo: {message}");
}

/// Prints one line on standard output at once (flushed). A failed write is reported and
/// gives exit status 2 (silently when the reader went away).
pub fn line(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| {
            if e.kind() != io::ErrorKind::BrokenPipe {
                error(&format!("writing the output: {e}"));
            }
            Failure(2)
        })
}

/// Runs `f` to completion on a single-threaded runtime.
pub fn block_on(f: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            error(&format!("cannot start the async runtime: {e}"));
            ExitCode::from(2)
        }
    }
}

/// How the node's certificate is trusted, from the flags.
fn trust(args: &ConnectArgs) -> Result<Trust, Failure> {
    if args.insecure {
        error(
            "warning: --insecure: the server's TLS certificate is not checked; anyone on the \
             path can read and change the stream (use it on loopback only)",
        );
        return Ok(Trust::DangerAcceptAny);
    }
    if let Some(path) = &args.ca {
        let pem = std::fs::read(path).map_err(|e| {
            error(&format!("--ca {}: {e}", path.display()));
            Failure(2)
        })?;
        return Trust::anchors_from_pem(&pem).map_err(|e| {
            error(&format!("--ca {}: {e}", path.display()));
            Failure(2)
        });
    }
    if let Some(fp) = &args.fingerprint {
        return Ok(Trust::Pinned(fp.clone()));
    }
    error(
        "no way to check the node's TLS certificate: give --fingerprint SHA256 (or \
         RAYO_FINGERPRINT; rayo-node prints it at start), --ca FILE, or --insecure on loopback",
    );
    Err(Failure(2))
}

/// Logs in to the node as the flags say. Failures are reported and give exit status 2.
pub async fn connect(args: &ConnectArgs) -> Result<(Client, Offers), Failure> {
    let trust = trust(args)?;
    let pinned = matches!(trust, Trust::Pinned(_));
    let mut config = Config::new(&args.jid, &args.password)
        .map_err(|e| {
            error(&format!("--jid {}: {e}", args.jid));
            Failure(2)
        })?
        .trust(trust);
    if let Some(s) = &args.server {
        config = config.server(s.clone());
    }
    if let Some(d) = &args.rayo_domain {
        config = config.rayo_domain(d.clone());
    }
    let server = args
        .server
        .clone()
        .unwrap_or_else(|| format!("{}:5222", config.jid.domain()));
    let jid = config.jid.to_string();
    Client::connect(config).await.map_err(|e| {
        error(&match &e {
            Error::Auth(_) => format!("{server}: logging in as {jid}: {e}"),
            Error::Connect(_) => format!("cannot reach {server}: {e} (is the node running?)"),
            Error::Tls(_) if pinned => {
                format!("{server}: {e} (is --fingerprint the SHA-256 the node printed at start?)")
            }
            _ => format!("{server}: {e}"),
        });
        Failure(2)
    })
}

/// The steps to run on an answered call, checked before connecting.
#[derive(Debug, Clone, Default)]
pub struct Steps {
    say: Option<String>,
    ask: Option<InputSpec>,
    record: Option<Duration>,
}

impl Steps {
    /// Reads the step flags; a grammar that cannot be read or is invalid is reported and
    /// gives exit status 2.
    pub fn from_args(args: &StepArgs) -> Result<Steps, Failure> {
        let ask = match &args.ask {
            None => None,
            Some(g) => {
                let bad = |e: &dyn std::fmt::Display| {
                    error(&format!("--ask {g}: {e}"));
                    Failure(2)
                };
                let mut spec = if g.starts_with("builtin:") {
                    Grammar::builtin(g).map_err(|e| bad(&e))?;
                    InputSpec::builtin(g)
                } else {
                    let text = std::fs::read_to_string(g).map_err(|e| bad(&e))?;
                    Grammar::parse(&text).map_err(|e| bad(&e))?;
                    Input::dtmf(text)
                };
                if let Some(t) = args.ask_timeout {
                    spec = spec.initial_timeout(t);
                }
                Some(spec)
            }
        };
        Ok(Steps {
            say: args.say.clone(),
            ask,
            record: args.record,
        })
    }

    /// Runs the steps on an answered call, printing each one's result, then hangs up.
    /// Gives whether every step ran (a refused component or an `error` completion: false).
    /// When a step completes with `hangup` the call is gone: the rest is skipped.
    async fn run(&self, call: &Call) -> Result<bool, Failure> {
        let mut ok = true;
        'steps: {
            if let Some(text) = &self.say {
                let started = call.output(Output::say(text.as_str())).await;
                let Some(done) = wait("--say", started.map(Output::into_component)).await else {
                    ok = false;
                    break 'steps;
                };
                line(&format!("output {}", reason_text(&done.reason)))?;
                match done.reason {
                    CompleteReason::Hangup => return Ok(ok),
                    CompleteReason::Error(_) => ok = false,
                    _ => {}
                }
            }
            if let Some(spec) = &self.ask {
                let started = call.input(spec.clone()).await;
                let Some(done) = wait("--ask", started.map(Input::into_component)).await else {
                    ok = false;
                    break 'steps;
                };
                line(&format!("input {}", reason_text(&done.reason)))?;
                match done.reason {
                    CompleteReason::Hangup => return Ok(ok),
                    CompleteReason::Error(_) => ok = false,
                    _ => {}
                }
            }
            if let Some(max) = self.record {
                let started = call.record(Record::wav(max)).await;
                let Some(done) = wait("--record", started.map(Record::into_component)).await else {
                    ok = false;
                    break 'steps;
                };
                line(&record_text(&done))?;
                match done.reason {
                    CompleteReason::Hangup => return Ok(ok),
                    CompleteReason::Error(_) => ok = false,
                    _ => {}
                }
            }
        }
        if let Err(e) = call.hangup([]).await {
            // item-not-found: the call ended meanwhile; its end event tells how.
            if !e.is_condition(&DefinedCondition::ItemNotFound) {
                error(&format!("hangup: {e}"));
                ok = false;
            }
        }
        Ok(ok)
    }
}

/// Waits for a started component to complete; a refusal or a lost completion is reported.
async fn wait(what: &str, started: Result<Component, Error>) -> Option<Complete> {
    let component = match started {
        Ok(c) => c,
        Err(e) => {
            error(&format!("{what}: {e}"));
            return None;
        }
    };
    match component.complete().await {
        Ok(done) => Some(done),
        Err(e) => {
            error(&format!("{what}: no completion: {e}"));
            None
        }
    }
}

/// How a call went, as far as [`drive`] saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The call was answered.
    pub answered: bool,
    /// The steps ran without failure (true when they never started).
    pub steps_ok: bool,
    /// Why it ended; `None` when the end was never seen (the connection was lost, or
    /// the node did not end the call after the hangup).
    pub end: Option<EndReason>,
}

/// Follows a call to its end: prints its events as they come, runs the steps (then hangs
/// up) once it is answered (`answered`: it already is), and prints the `end` line.
pub async fn drive(call: &mut Call, steps: &Steps, answered: bool) -> Result<Outcome, Failure> {
    let mut outcome = Outcome {
        answered,
        steps_ok: true,
        end: None,
    };
    let Some(mut events) = call.take_events() else {
        error("the call's events were already taken");
        return Ok(outcome);
    };
    let call: &Call = call;
    let mut running = answered.then(|| Box::pin(steps.run(call)));
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        // Biased, steps first: a component's completion (such as `input hangup`) is printed
        // before the end event that followed it on the stream.
        tokio::select! {
            biased;
            r = poll_some(&mut running), if running.is_some() => {
                running = None;
                outcome.steps_ok = r?;
                deadline = Some(tokio::time::Instant::now() + END_WAIT);
            }
            () = sleep_until_some(deadline), if deadline.is_some() => {
                error(&format!(
                    "the call did not end within {} s of hanging up",
                    END_WAIT.as_secs()
                ));
                return Ok(outcome);
            }
            event = events.next() => match event {
                None => {
                    error("the connection to the node was lost before the call ended");
                    return Ok(outcome);
                }
                Some(CallEvent::Answered(_)) => {
                    line("answered")?;
                    if !outcome.answered {
                        outcome.answered = true;
                        running = Some(Box::pin(steps.run(call)));
                    }
                }
                Some(CallEvent::End { reason, .. }) => {
                    line(&end_line(&reason))?;
                    outcome.end = Some(reason);
                    return Ok(outcome);
                }
                Some(CallEvent::MessageError(e)) => error(&format!("message refused: {e}")),
                Some(other) => {
                    if let Some(l) = event_line(&other) {
                        line(&l)?;
                    }
                }
            }
        }
    }
}

/// Follows an answered call that runs no steps: prints its events until it ends.
pub async fn follow(call: &mut Call) -> Result<Outcome, Failure> {
    let Some(mut events) = call.take_events() else {
        error("the call's events were already taken");
        return Ok(Outcome {
            answered: true,
            steps_ok: true,
            end: None,
        });
    };
    let jid = call.jid().to_string();
    loop {
        match events.next().await {
            None => {
                error("the connection to the node was lost before the call ended");
                return Ok(Outcome {
                    answered: true,
                    steps_ok: true,
                    end: None,
                });
            }
            Some(CallEvent::End { reason, .. }) => {
                line(&format!("{jid} {}", end_line(&reason)))?;
                return Ok(Outcome {
                    answered: true,
                    steps_ok: true,
                    end: Some(reason),
                });
            }
            Some(other) => {
                if let Some(l) = event_line(&other) {
                    line(&format!("{jid} {l}"))?;
                }
            }
        }
    }
}

/// Awaits the future if there is one, else never completes.
async fn poll_some<F: Future + Unpin>(f: &mut Option<F>) -> F::Output {
    match f.as_mut() {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

/// Sleeps until the deadline if there is one, else never completes.
async fn sleep_until_some(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The line of an event other than answered and end, if it has one.
fn event_line(event: &CallEvent) -> Option<String> {
    let party = |call: &Option<String>, mixer: &Option<String>| match (call, mixer) {
        (Some(c), _) => c.clone(),
        (None, Some(m)) => format!("mixer {m}"),
        (None, None) => "-".to_owned(),
    };
    Some(match event {
        CallEvent::Ringing(_) => "ringing".to_owned(),
        CallEvent::Joined(j) => format!("joined {}", party(&j.call_uri, &j.mixer_name)),
        CallEvent::Unjoined(u) => format!("unjoined {}", party(&u.call_uri, &u.mixer_name)),
        CallEvent::StartedSpeaking { call_uri } => format!("started-speaking {call_uri}"),
        CallEvent::StoppedSpeaking { call_uri } => format!("stopped-speaking {call_uri}"),
        CallEvent::Message(text) => format!("message {}", one_line(text)),
        _ => return None,
    })
}

/// The XML name of an end reason (`hangup`, example 87's spelling, reads as `hungup`) and
/// its platform code.
pub fn end_name(reason: &EndReason) -> (&'static str, Option<&str>) {
    let (name, code) = match reason {
        EndReason::Hungup { platform_code } | EndReason::Hangup { platform_code } => {
            ("hungup", platform_code)
        }
        EndReason::HangupCommand { platform_code } => ("hangup-command", platform_code),
        EndReason::Timeout { platform_code } => ("timeout", platform_code),
        EndReason::Busy { platform_code } => ("busy", platform_code),
        EndReason::Rejected { platform_code } => ("rejected", platform_code),
        EndReason::Error { platform_code } => ("error", platform_code),
    };
    (name, code.as_deref())
}

/// `end REASON`, then `platform-code=CODE` when the node gave one.
fn end_line(reason: &EndReason) -> String {
    match end_name(reason) {
        (name, Some(code)) => format!("end {name} platform-code={}", one_line(code)),
        (name, None) => format!("end {name}"),
    }
}

/// A complete reason as printed after the component's name: `finish`, `match 1234`,
/// `noinput`, `hangup`, `error TEXT`…
fn reason_text(reason: &CompleteReason) -> String {
    match reason {
        CompleteReason::Stop => "stop".into(),
        CompleteReason::Hangup => "hangup".into(),
        CompleteReason::Error(text) => format!("error {}", one_line(text)),
        CompleteReason::Output(OutputReason::Finish) => "finish".into(),
        CompleteReason::Output(OutputReason::MaxTime) => "max-time".into(),
        CompleteReason::Input(InputReason::Match(m)) => format!("match {}", interpretation(m)),
        CompleteReason::Input(InputReason::NoInput) => "noinput".into(),
        CompleteReason::Input(InputReason::NoMatch) => "nomatch".into(),
        CompleteReason::Record(RecordReason::MaxDuration) => "max-duration".into(),
        CompleteReason::Record(RecordReason::InitialTimeout) => "initial-timeout".into(),
        CompleteReason::Record(RecordReason::FinalTimeout) => "final-timeout".into(),
        CompleteReason::Other(el) => el.name().to_owned(),
    }
}

/// `recorded URI MS ms SIZE bytes` when the completion carries a recording, else
/// `record REASON`.
fn record_text(done: &Complete) -> String {
    let recording = done.metadata.iter().find_map(|m| match m {
        CompleteMetadata::Recording(r) => Some(r),
        _ => None,
    });
    match recording {
        Some(r) => format!(
            "recorded {} {} ms {} bytes",
            one_line(&r.uri),
            r.duration.as_millis(),
            r.size
        ),
        None => format!("record {}", reason_text(&done.reason)),
    }
}

/// What a match means: the NLSML result's first interpretation (its instance, else the
/// DTMF digits received), or the result document itself on one line.
fn interpretation(m: &Match) -> String {
    if m.content_type() == nlsml::CONTENT_TYPE {
        if let Some(i) = NlsmlResult::parse(&m.body)
            .ok()
            .and_then(|r| r.interpretations.into_iter().next())
        {
            if let Some(instance) = i.instance.as_deref().map(one_line) {
                if !instance.is_empty() {
                    return instance;
                }
            }
            if let Some(input) = &i.input {
                return input.digits();
            }
        }
    }
    one_line(&m.body)
}

/// Text from a peer on one line: runs of white space (newlines included) become one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn matches_print_the_interpretation() {
        let body = NlsmlResult::dtmf("builtin:dtmf/digits", "12", "12").to_xml();
        let m = Match {
            content_type: None,
            body,
        };
        assert_eq!(interpretation(&m), "12");
        let m = Match {
            content_type: Some("text/plain".into()),
            body: "yes\n  please".into(),
        };
        assert_eq!(interpretation(&m), "yes please");
    }

    #[test]
    fn end_lines_name_the_reason() {
        assert_eq!(
            end_line(&EndReason::Busy {
                platform_code: Some("486".into())
            }),
            "end busy platform-code=486"
        );
        assert_eq!(
            end_line(&EndReason::HangupCommand {
                platform_code: None
            }),
            "end hangup-command"
        );
        for name in crate::cli::END_REASONS {
            assert!(
                [
                    EndReason::Hungup {
                        platform_code: None
                    },
                    EndReason::HangupCommand {
                        platform_code: None
                    },
                    EndReason::Timeout {
                        platform_code: None
                    },
                    EndReason::Busy {
                        platform_code: None
                    },
                    EndReason::Rejected {
                        platform_code: None
                    },
                    EndReason::Error {
                        platform_code: None
                    },
                ]
                .iter()
                .any(|r| end_name(r).0 == name),
                "{name}"
            );
        }
    }
}
