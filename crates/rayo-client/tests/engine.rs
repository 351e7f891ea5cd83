//! The SDK against a real Rayo engine behind rayo-xmpp's c2s listener (STARTTLS, SCRAM,
//! pinned self-signed certificate). The test plays SIP and media: it injects signalling and
//! media events into the engine and checks the actions the SDK's commands cause.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use rayo_call::{MediaAction, MediaEvent, Party, SignalAction, SignalEvent};
use rayo_client::proto::command::ComponentStart;
use rayo_client::proto::event::{CompleteReason, OutputReason};
use rayo_client::{
    header, CallEvent, Client, DefinedCondition, DialBuilder, EndReason, Error, JoinTarget, Output,
    Trust,
};

async fn next_event(events: &mut rayo_client::CallEvents) -> CallEvent {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an event in time")
        .expect("events open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offer_accept_answer_output_and_remote_hangup() {
    let mut node = Node::start().await;
    let (client, mut offers) = node.client("juliet", "r0m30").await;
    assert_eq!(
        client.jid().map(|j| j.to_string()),
        Some(format!("juliet@{DOMAIN}/bot"))
    );

    // A call comes in: the offer arrives with its addresses and headers.
    let id = node.incoming("tel:+18005551212", "tel:+13055550000").await;
    let offer = next_offer(&mut offers).await;
    assert_eq!(offer.to, "tel:+18005551212");
    assert_eq!(offer.from.as_deref(), Some("tel:+13055550000"));
    assert_eq!(offer.headers, vec![header("x-skill", "agent")]);
    let mut call = offer.call;
    assert_eq!(call.id(), id.0);

    // accept → 180, answer → 200, each with its headers.
    call.accept([]).await.expect("accepted");
    assert_eq!(
        node.action().await,
        Action::Signal(SignalAction::Accept {
            call: id.clone(),
            headers: vec![]
        })
    );
    call.answer([header("x-answered-by", "bot")])
        .await
        .expect("answered");
    assert_eq!(
        node.action().await,
        Action::Signal(SignalAction::Answer {
            call: id.clone(),
            headers: vec![header("x-answered-by", "bot")]
        })
    );

    // An output: the handle comes with the ref; the media layer finishes it.
    let output = call
        .output(Output::say("Hello from the SDK"))
        .await
        .expect("output started");
    let Action::Media(MediaAction::StartComponent {
        on,
        component,
        spec: ComponentStart::Output(spec),
        ..
    }) = node.action().await
    else {
        panic!("the output was not started")
    };
    assert_eq!(on, Party::Call(id.clone()));
    assert_eq!(component.0, output.id());
    assert_eq!(spec.documents[0].body, "Hello from the SDK");
    node.media(MediaEvent::Complete {
        component,
        reason: CompleteReason::Output(OutputReason::Finish),
        metadata: vec![],
    })
    .await;
    let done = tokio::time::timeout(WAIT, output.complete())
        .await
        .expect("completion in time")
        .expect("completed");
    assert_eq!(done.reason, CompleteReason::Output(OutputReason::Finish));

    // Call-bound messages, both ways (§6.8).
    call.send_message("your code is 42").expect("sent");
    assert_eq!(
        node.action().await,
        Action::Signal(SignalAction::SendMessage {
            call: id.clone(),
            body: "your code is 42".into()
        })
    );
    node.signal(
        &id,
        SignalEvent::Message {
            body: "thanks".into(),
        },
    )
    .await;
    loop {
        match next_event(call.events()).await {
            CallEvent::Message(m) => break assert_eq!(m, "thanks"),
            _ => continue,
        }
    }

    // The caller hangs up: the call's events end with `end hungup`.
    node.signal(
        &id,
        SignalEvent::Ended {
            reason: EndReason::Hungup {
                platform_code: Some("200".into()),
            },
            headers: vec![],
        },
    )
    .await;
    let end = loop {
        match next_event(call.events()).await {
            e @ CallEvent::End { .. } => break e,
            _ => continue,
        }
    };
    assert!(
        matches!(&end, CallEvent::End { reason: EndReason::Hungup { platform_code }, .. }
            if platform_code.as_deref() == Some("200")),
        "{end:?}"
    );
    assert_eq!(call.events().next().await, None, "nothing after end");

    // The call is gone: a command to it is refused with item-not-found.
    let err = call.hangup([]).await.expect_err("the call is gone");
    assert!(
        matches!(
            err,
            Error::Stanza {
                condition: DefinedCondition::ItemNotFound,
                ..
            }
        ),
        "{err}"
    );
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_race_to_accept_one_wins() {
    let mut node = Node::start().await;
    let (juliet, mut j_offers) = node.client("juliet", "r0m30").await;
    let (romeo, mut r_offers) = node.client("romeo", "jul13t").await;
    let id = node.incoming("tel:+18005551212", "tel:+1").await;
    let a = next_offer(&mut j_offers).await.call;
    let b = next_offer(&mut r_offers).await.call;
    assert_eq!(a.id(), b.id());
    let (ra, rb) = tokio::join!(a.accept([]), b.accept([]));
    let (won, lost) = match (ra, rb) {
        (Ok(()), Err(e)) | (Err(e), Ok(())) => ((), e),
        other => panic!("exactly one accept wins: {other:?}"),
    };
    let () = won;
    assert!(lost.is_condition(&DefinedCondition::Conflict), "{lost}");
    assert_eq!(lost.condition_name(), Some("conflict"));
    assert_eq!(
        node.action().await,
        Action::Signal(SignalAction::Accept {
            call: id,
            headers: vec![]
        })
    );
    juliet.close();
    romeo.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_rings_then_answers() {
    let mut node = Node::start().await;
    let (client, _offers) = node.client("juliet", "r0m30").await;
    let mut call = client
        .dial(
            DialBuilder::new("tel:+15551234567")
                .from("tel:+15550000000")
                .header("x-campaign", "7"),
        )
        .await
        .expect("dialled");
    let Action::Signal(SignalAction::Dial {
        call: id,
        to,
        from,
        headers,
    }) = node.action().await
    else {
        panic!("no dial action")
    };
    assert_eq!(id.0, call.id());
    assert_eq!(to, "tel:+15551234567");
    assert_eq!(from.as_deref(), Some("tel:+15550000000"));
    assert_eq!(headers, vec![header("x-campaign", "7")]);

    node.signal(&id, SignalEvent::Ringing { headers: vec![] })
        .await;
    node.signal(
        &id,
        SignalEvent::Answered {
            headers: vec![header("x-pickup", "1")],
        },
    )
    .await;
    assert_eq!(next_event(call.events()).await, CallEvent::Ringing(vec![]));
    assert_eq!(
        next_event(call.events()).await,
        CallEvent::Answered(vec![header("x-pickup", "1")])
    );

    // Joined to a mixer: the engine creates and joins it, the call reports joined.
    call.join(JoinTarget::mixer("conf")).await.expect("joined");
    let joined = next_event(call.events()).await;
    assert!(
        matches!(&joined, CallEvent::Joined(j) if j.mixer_name.as_deref() == Some("conf")),
        "{joined:?}"
    );
    let mixer_id = loop {
        if let Action::Media(MediaAction::CreateMixer { mixer }) = node.action().await {
            break mixer;
        }
    };

    // The mixer by name: its events once subscribed, components on it.
    let mut mixer = client.mixer("conf").expect("mixer");
    assert_eq!(mixer.jid().to_string(), format!("conf@mixer.{DOMAIN}"));
    mixer.subscribe().expect("subscribed");
    client.ping().await.expect("subscription seen");
    node.media(MediaEvent::Speaking {
        mixer: mixer_id.clone(),
        call: id.clone(),
        speaking: true,
    })
    .await;
    // The mixer also reports its participants (joined call-uri=…): skip to the speaking.
    let speaking = loop {
        let e = tokio::time::timeout(WAIT, mixer.events().next())
            .await
            .expect("a mixer event in time")
            .expect("mixer events open");
        if !matches!(e, CallEvent::Joined(_)) {
            break e;
        }
    };
    assert!(
        matches!(&speaking, CallEvent::StartedSpeaking { call_uri } if call_uri.contains(call.id())),
        "{speaking:?}"
    );
    let announcement = mixer
        .output(Output::say("Welcome to the conference"))
        .await
        .expect("output on the mixer");
    let on = loop {
        if let Action::Media(MediaAction::StartComponent { on, component, .. }) =
            node.action().await
        {
            assert_eq!(component.0, announcement.id());
            break on;
        }
    };
    assert_eq!(on, Party::Mixer(mixer_id));
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_nobody_answers_times_out() {
    let (listener, fp, _dir) = silent_node().await;
    let config = client_config(&listener, &fp, "juliet", "r0m30")
        .command_timeout(Duration::from_millis(300));
    let (client, _offers) = Client::connect(config).await.expect("login");
    let start = Instant::now();
    let err = client
        .dial(DialBuilder::new("tel:+1"))
        .await
        .expect_err("nobody answers");
    assert_eq!(err, Error::Timeout);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // The stream is still fine: the listener itself answers pings.
    client.ping().await.expect("still connected");
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_at_login_are_typed() {
    let (listener, fp, _dir) = silent_node().await;
    let wrong = client_config(&listener, &fp, "juliet", "wrong");
    let err = Client::connect(wrong).await.expect_err("wrong password");
    assert!(
        matches!(err, Error::Auth(ref c) if c == "not-authorized"),
        "{err}"
    );

    let other_pin =
        client_config(&listener, &fp, "juliet", "r0m30").trust(Trust::Pinned("00".repeat(32)));
    let err = Client::connect(other_pin).await.expect_err("wrong pin");
    assert!(matches!(err, Error::Tls(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_the_stream_drops() {
    let node = Node::start().await;
    let mut config = node.config("juliet", "r0m30");
    config.reconnect.initial = Duration::from_millis(300);
    config.reconnect.max = Duration::from_millis(600);
    let (client, mut offers) = Client::connect(config).await.expect("login");
    client.set_available().expect("presence");
    // Another session binding the same JID ends the first stream with <conflict/>.
    let mut intruder = node.config("juliet", "r0m30");
    intruder.reconnect.enabled = false;
    let (other, _o) = Client::connect(intruder).await.expect("second login");
    let dropped = tokio::time::timeout(WAIT, async {
        while client.is_connected() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(dropped.is_ok(), "the first stream was not replaced");
    assert_eq!(
        client.ping().await,
        Err(Error::Disconnected),
        "commands fail at once while disconnected"
    );
    other.close();
    let back = tokio::time::timeout(WAIT, async {
        loop {
            if client.ping().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(back.is_ok(), "no reconnection");
    // Offers reach the reconnected client (its availability was announced again).
    node.incoming("tel:+1", "tel:+2").await;
    let offer = next_offer(&mut offers).await;
    offer
        .call
        .accept([])
        .await
        .expect("accepted after reconnecting");
    client.close();
}

/// Answers an offered call and returns it with its id, the actions drained.
async fn answered_call(
    node: &mut Node,
    client: &mut rayo_client::Offers,
) -> (rayo_client::Call, rayo_call::CallId) {
    let id = node.incoming("tel:+18005551212", "tel:+1").await;
    let call = next_offer(client).await.call;
    call.answer([]).await.expect("answered");
    assert!(matches!(
        node.action().await,
        Action::Signal(SignalAction::Answer { .. })
    ));
    (call, id)
}

/// The component the engine asked the media layer to start.
async fn started(node: &mut Node) -> (rayo_call::ComponentId, ComponentStart) {
    loop {
        if let Action::Media(MediaAction::StartComponent {
            component, spec, ..
        }) = node.action().await
        {
            return (component, spec);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_record_and_stop_complete_with_their_results() {
    use rayo_client::proto::event::{CompleteMetadata, InputReason, RecordReason};
    use rayo_client::proto::generated::input_complete::Match;
    use rayo_client::proto::generated::record_complete::Recording;
    use rayo_client::{Prompt, Record};

    let mut node = Node::start().await;
    let (client, mut offers) = node.client("juliet", "r0m30").await;
    let (call, _id) = answered_call(&mut node, &mut offers).await;

    // A prompt for a PIN: the engine gets the builtin grammar; the match comes back typed.
    let prompt = call
        .prompt(Prompt::new(
            Output::say("Your PIN?"),
            rayo_client::Input::digits(4, 4).terminator('#'),
            true,
        ))
        .await
        .expect("prompt started");
    let (component, spec) = started(&mut node).await;
    let ComponentStart::Prompt(p) = spec else {
        panic!("not a prompt")
    };
    assert_eq!(
        p.input.grammars[0].url.as_deref(),
        Some("builtin:dtmf/digits?minlength=4;maxlength=4")
    );
    let nlsml = "<result xmlns='http://www.ietf.org/xml/ns/mrcpv2'><interpretation>\
                 <input mode='dtmf'>1 2 3 4</input></interpretation></result>";
    node.media(MediaEvent::Complete {
        component,
        reason: CompleteReason::Input(InputReason::Match(Match {
            content_type: None,
            body: nlsml.into(),
        })),
        metadata: vec![],
    })
    .await;
    let done = prompt.complete().await.expect("completed");
    let CompleteReason::Input(InputReason::Match(m)) = done.reason else {
        panic!("no match: {done:?}")
    };
    assert!(m.body.contains("1 2 3 4"), "{}", m.body);

    // A recording: paused and resumed, then it completes with its metadata.
    let record = call
        .record(Record::wav(Duration::from_secs(30)))
        .await
        .expect("record started");
    let (component, _) = started(&mut node).await;
    record.pause().await.expect("paused");
    record.resume().await.expect("resumed");
    let recording = Recording {
        uri: "file:///tmp/r.wav".into(),
        duration: Duration::from_millis(2500),
        size: 40_000,
    };
    node.media(MediaEvent::Complete {
        component,
        reason: CompleteReason::Record(RecordReason::MaxDuration),
        metadata: vec![CompleteMetadata::Recording(recording.clone())],
    })
    .await;
    let done = record.complete().await.expect("completed");
    assert_eq!(
        done.reason,
        CompleteReason::Record(RecordReason::MaxDuration)
    );
    assert_eq!(done.metadata, vec![CompleteMetadata::Recording(recording)]);

    // An output stopped by the bot completes with `stop`.
    let output = call
        .output(Output::url("http://example.com/hold.wav"))
        .await
        .expect("output");
    let (component, _) = started(&mut node).await;
    output.pause().await.expect("paused");
    output.stop().await.expect("stopped");
    loop {
        if let Action::Media(MediaAction::StopComponent {
            component: c,
            report: true,
        }) = node.action().await
        {
            assert_eq!(c, component);
            break;
        }
    }
    node.media(MediaEvent::Complete {
        component,
        reason: CompleteReason::Stop,
        metadata: vec![],
    })
    .await;
    assert_eq!(
        output.complete().await.expect("completed").reason,
        CompleteReason::Stop
    );
    client.close();
}
