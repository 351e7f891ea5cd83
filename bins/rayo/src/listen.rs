//! `rayo listen`: says it takes calls and prints every offer; with `--answer`, takes each
//! call in turn, runs the steps, hangs up and prints how it ended.

use std::process::ExitCode;

use rayo_client::{Client, DefinedCondition, JoinTarget, Offer};

use crate::cli::ListenArgs;
use crate::session::{self, error, line, Failure, Steps};

/// Runs `rayo listen`. Runs until `--count` calls were seen (or the connection is gone):
/// exit status 0 when every call went as asked, 1 when one could not be taken or a step
/// failed, 2 on a usage error or when the node could not be reached.
pub fn run(args: &ListenArgs) -> ExitCode {
    session::block_on(async {
        match listen(args).await {
            Ok(code) => code,
            Err(f) => f.into(),
        }
    })
}

async fn listen(args: &ListenArgs) -> Result<ExitCode, Failure> {
    if args.steps.any() && !args.answer {
        error("--say, --ask and --record run on answered calls: add --answer");
        return Err(Failure(2));
    }
    if args.join.is_some() && args.steps.any() {
        error("--join keeps callers in the conference until they hang up: no --say, --ask or --record with it");
        return Err(Failure(2));
    }
    let steps = Steps::from_args(&args.steps)?;
    let (client, mut offers) = session::connect(&args.connect).await?;
    if let Err(e) = client.set_available() {
        error(&format!("saying this client takes calls: {e}"));
        return Err(Failure(1));
    }
    // Once the ping is answered the node has seen the presence: calls come here from now.
    if let Err(e) = client.ping().await {
        error(&format!("the node does not answer: {e}"));
        return Err(Failure(1));
    }
    let me = client
        .jid()
        .map_or_else(|| args.connect.jid.clone(), |j| j.to_string());
    line(&format!("listening as {me}"))?;

    let mut seen = 0u64;
    let mut all_ok = true;
    let mut conference = tokio::task::JoinSet::new();
    while args.count.is_none_or(|n| seen < n) {
        let Some(offer) = offers.next().await else {
            error("the connection to the node is closed");
            return Ok(ExitCode::from(1));
        };
        seen += 1;
        line(&format!(
            "offer {} from {} to {}",
            offer.call.jid(),
            offer.from.as_deref().unwrap_or("-"),
            offer.to
        ))?;
        match (&args.join, args.answer) {
            (Some(mixer), _) => {
                conference.spawn(join(offer, mixer.clone()));
            }
            (None, true) => all_ok &= take(&client, offer, &steps).await?,
            (None, false) => {}
        }
    }
    while let Some(r) = conference.join_next().await {
        all_ok &= matches!(r, Ok(Ok(true)));
    }
    client.close();
    Ok(ExitCode::from(u8::from(!all_ok)))
}

/// Takes one call: busy meanwhile, accept, answer, the steps, hang up, the end.
async fn take(client: &Client, offer: Offer, steps: &Steps) -> Result<bool, Failure> {
    let mut call = offer.call;
    // Busy once the call is ours (not before: the node withdraws offers from busy clients).
    let answered = match call.accept([]).await {
        Ok(()) => {
            if let Err(e) = client.set_busy() {
                error(&format!("saying this client is busy: {e}"));
            }
            call.answer([]).await
        }
        Err(e) => Err(e),
    };
    let ok = match answered {
        Ok(()) => {
            line("answered")?;
            let outcome = session::drive(&mut call, steps, true).await?;
            outcome.steps_ok && outcome.end.is_some()
        }
        Err(e) if e.is_condition(&DefinedCondition::Conflict) => {
            error(&format!("{}: another client took the call", call.jid()));
            false
        }
        Err(e) if e.is_condition(&DefinedCondition::ItemNotFound) => {
            error(&format!("{}: the call is gone", call.jid()));
            false
        }
        Err(e) => {
            error(&format!("{}: answering: {e}", call.jid()));
            false
        }
    };
    if let Err(e) = client.set_available() {
        error(&format!("saying this client takes calls again: {e}"));
    }
    Ok(ok)
}

/// Takes one call into the conference `mixer`: accept, answer, join, then its events until
/// the caller hangs up.
async fn join(offer: Offer, mixer: String) -> Result<bool, Failure> {
    let mut call = offer.call;
    let joined = async {
        call.accept([]).await?;
        call.answer([]).await?;
        call.join(JoinTarget::mixer(mixer.clone())).await
    }
    .await;
    if let Err(e) = joined {
        error(&format!("{}: joining {mixer}: {e}", call.jid()));
        return Ok(false);
    }
    line(&format!("answered {}", call.jid()))?;
    let outcome = session::follow(&mut call).await?;
    Ok(outcome.end.is_some())
}
