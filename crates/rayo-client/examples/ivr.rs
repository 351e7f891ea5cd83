//! A small IVR bot: answers every call offered to it, asks for a PIN (four to eight DTMF
//! digits ending with `#`), reads it back with TTS, records a message of up to a minute,
//! and hangs up.
//!
//! ```sh
//! RAYO_JID=bot@rayo.example RAYO_PASSWORD=secret RAYO_SERVER=127.0.0.1:5222 \
//! RAYO_FINGERPRINT=AB:CD:… cargo run -p rayo-client --example ivr
//! ```

use std::time::Duration;

use rayo_client::proto::event::{CompleteMetadata, CompleteReason, InputReason};
use rayo_client::{Call, CallEvent, Client, Config, Error, Input, Output, Prompt, Record, Trust};

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| Error::Config(format!("set {name}")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::new(&env("RAYO_JID")?, &env("RAYO_PASSWORD")?)?
        .server(env("RAYO_SERVER")?)
        .trust(Trust::Pinned(env("RAYO_FINGERPRINT")?));
    let (client, mut offers) = Client::connect(config).await?;
    client.set_available()?;
    println!("waiting for calls as {:?}", client.jid());
    while let Some(offer) = offers.next().await {
        println!("call {} from {:?}", offer.call.id(), offer.from);
        tokio::spawn(async move {
            if let Err(e) = serve(offer.call).await {
                eprintln!("call ended badly: {e}");
            }
        });
    }
    Ok(())
}

async fn serve(mut call: Call) -> Result<(), Error> {
    call.answer([]).await?;

    let pin = call
        .prompt(Prompt::new(
            Output::say("Welcome. Please enter your PIN, then press pound."),
            Input::digits(4, 8).terminator('#'),
            true,
        ))
        .await?
        .complete()
        .await?;
    let digits = match pin.reason {
        CompleteReason::Input(InputReason::Match(m)) => nlsml_input(&m.body),
        CompleteReason::Hangup => return Ok(()),
        other => {
            println!("no PIN: {other:?}");
            None
        }
    };
    let readback = match digits {
        Some(d) => format!("You entered {}.", spaced(&d)),
        None => "I did not get your PIN.".to_owned(),
    };
    call.output(Output::say(readback)).await?.complete().await?;

    call.output(Output::say("Leave a message after the beep."))
        .await?
        .complete()
        .await?;
    let recording = call
        .record(Record::wav(Duration::from_secs(60)).start_beep())
        .await?
        .complete()
        .await?;
    for m in recording.metadata {
        if let CompleteMetadata::Recording(r) = m {
            println!("recorded {} ({} ms)", r.uri, r.duration.as_millis());
        }
    }

    call.hangup([]).await?;
    while let Some(event) = call.events().next().await {
        if let CallEvent::End { reason, .. } = event {
            println!("call {} ended: {reason:?}", call.id());
        }
    }
    Ok(())
}

/// The text of the first `<input>` of an NLSML result: the digits matched.
fn nlsml_input(nlsml: &str) -> Option<String> {
    let start = nlsml.find("<input")?;
    let after = &nlsml[start..];
    let open_end = after.find('>')? + 1;
    let close = after.find("</input>")?;
    let text = after.get(open_end..close)?.trim();
    Some(text.chars().filter(|c| c.is_ascii_digit()).collect())
}

/// `1234` → `1 2 3 4`, so TTS reads digits, not a number.
fn spaced(digits: &str) -> String {
    digits
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ")
}
