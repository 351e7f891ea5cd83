//! `rayo dial`: places a call with the SDK and prints its progress, one line per event;
//! once answered, runs the steps and hangs up.

use std::process::ExitCode;

use rayo_client::{DialBuilder, Error};

use crate::cli::DialArgs;
use crate::session::{self, end_name, error, line, Failure, Steps};

/// Runs `rayo dial`. Exit status 0 when the call was answered and the steps ran (with
/// `--expect`: when it ended with that reason), 1 when the dial was refused or the call
/// went otherwise, 2 on a usage error or when the node could not be reached.
pub fn run(args: &DialArgs) -> ExitCode {
    session::block_on(async {
        match dial(args).await {
            Ok(code) => code,
            Err(f) => f.into(),
        }
    })
}

async fn dial(args: &DialArgs) -> Result<ExitCode, Failure> {
    let steps = Steps::from_args(&args.steps)?;
    let (client, _offers) = session::connect(&args.connect).await?;
    let mut dial = DialBuilder::new(args.to.as_str());
    if let Some(from) = &args.from {
        dial = dial.from(from.as_str());
    }
    for (name, value) in &args.headers {
        dial = dial.header(name.as_str(), value.as_str());
    }
    if let Some(t) = args.timeout {
        dial = dial.timeout(t);
    }
    let mut call = match client.dial(dial).await {
        Ok(call) => call,
        Err(e @ Error::Stanza { .. }) => {
            let text = match &e {
                Error::Stanza { text: Some(t), .. } => format!(" ({})", t.trim()),
                _ => String::new(),
            };
            error(&format!(
                "dial refused: {}{text}",
                e.condition_name().unwrap_or("undefined-condition")
            ));
            client.close();
            return Ok(ExitCode::from(1));
        }
        Err(e) => {
            error(&format!("dial: {e}"));
            client.close();
            return Ok(ExitCode::from(1));
        }
    };
    line(&format!("dialed {}", call.jid()))?;
    let outcome = session::drive(&mut call, &steps, false).await?;
    client.close();
    let ended = outcome.end.as_ref().map(|r| end_name(r).0);
    let success = match &args.expect {
        Some(expected) => {
            if ended != Some(expected.as_str()) {
                error(&format!(
                    "expected the call to end with {expected}, it ended {}",
                    ended.map_or_else(|| "unseen".to_owned(), |e| format!("with {e}"))
                ));
            }
            ended == Some(expected.as_str())
        }
        None => {
            if !outcome.answered {
                error(&format!(
                    "the call was not answered (end {})",
                    ended.unwrap_or("unseen")
                ));
            }
            outcome.answered && outcome.steps_ok
        }
    };
    Ok(ExitCode::from(u8::from(!success)))
}
