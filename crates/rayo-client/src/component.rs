//! Handles on running components (XEP-0327 §6.5): their commands, their events, and their
//! completion.

use std::time::Duration;

use jid::{FullJid, Jid};
use minidom::Element;
use rayo_proto::command::ComponentStart;
use rayo_proto::event::Complete;
use rayo_proto::generated::{ext, output, record};
use tokio::sync::oneshot;

use crate::client::Client;
use crate::core::{Answer, Expect};
use crate::error::Error;
use crate::event::ComponentEvent;
use crate::spec::{InputSpec, OutputSpec, PromptSpec, RecordSpec};

/// What every component handle has: its JID, its stop command, its completion.
#[derive(Debug)]
pub struct Component {
    client: Client,
    jid: FullJid,
    complete: oneshot::Receiver<Complete>,
    events: crate::event_queue::Receiver<ComponentEvent>,
}

/// Starts a component on `on` (a call or a mixer) and waits for its `<ref/>`.
pub(crate) async fn start(
    client: &Client,
    on: Jid,
    spec: ComponentStart,
) -> Result<Component, Error> {
    match client.command(on, spec.into(), Expect::Component).await? {
        Answer::Component(p) => Ok(Component {
            client: client.clone(),
            jid: p.jid,
            complete: p.complete,
            events: p.events,
        }),
        _ => Err(Error::Protocol(
            "component start answered without a ref".into(),
        )),
    }
}

impl Component {
    /// The component's JID (its call's or mixer's JID with the component id as resource).
    pub fn jid(&self) -> &FullJid {
        &self.jid
    }

    /// The component id.
    pub fn id(&self) -> &str {
        self.jid.resource().as_str()
    }

    async fn command(&self, payload: impl Into<Element>) -> Result<(), Error> {
        self.client
            .command_ok(Jid::from(self.jid.clone()), payload.into())
            .await
    }

    /// Stops the component; its completion (reason `stop`) follows.
    pub async fn stop(&self) -> Result<(), Error> {
        self.command(ext::Stop).await
    }

    /// The next event the component reports before completing.
    pub async fn next_event(&mut self) -> Option<ComponentEvent> {
        self.events.recv().await
    }

    /// Waits for the component to complete: the reason (finish, match with its NLSML,
    /// max-duration, stop, hangup, error …) and metadata (the recording). Fails with
    /// [`Error::Disconnected`] if the client is gone, or the call ended without the
    /// server reporting the completion.
    pub async fn complete(self) -> Result<Complete, Error> {
        self.complete.await.map_err(|_| Error::Disconnected)
    }
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(Component);

        impl $name {
            pub(crate) fn from_parts(c: Component) -> Self {
                $name(c)
            }

            /// The component's JID.
            pub fn jid(&self) -> &FullJid {
                self.0.jid()
            }

            /// The component id.
            pub fn id(&self) -> &str {
                self.0.id()
            }

            /// Stops the component; its completion (reason `stop`) follows.
            pub async fn stop(&self) -> Result<(), Error> {
                self.0.stop().await
            }

            /// Waits for the completion (see [`Component::complete`]).
            pub async fn complete(self) -> Result<Complete, Error> {
                self.0.complete().await
            }

            /// The general handle.
            pub fn into_component(self) -> Component {
                self.0
            }
        }
    };
}

handle!(
    /// A running output (§7.19.3).
    Output
);
handle!(
    /// A running input (§7.19.4).
    Input
);
handle!(
    /// A running prompt (§7.19.5).
    Prompt
);
handle!(
    /// A running recording (§7.19.6).
    Record
);

impl Output {
    /// Builds an output speaking `text` (see [`OutputSpec::say`]).
    pub fn say(text: impl Into<String>) -> OutputSpec {
        OutputSpec::say(text)
    }

    /// Builds an output rendering an SSML document.
    pub fn ssml(doc: impl Into<String>) -> OutputSpec {
        OutputSpec::ssml(doc)
    }

    /// Builds an output playing a URL.
    pub fn url(url: impl Into<String>) -> OutputSpec {
        OutputSpec::url(url)
    }

    /// Pauses rendering.
    pub async fn pause(&self) -> Result<(), Error> {
        self.0.command(output::Pause).await
    }

    /// Resumes rendering.
    pub async fn resume(&self) -> Result<(), Error> {
        self.0.command(output::Resume).await
    }

    /// Faster by one unit (`faster == false`: slower).
    pub async fn speed(&self, faster: bool) -> Result<(), Error> {
        match faster {
            true => self.0.command(output::SpeedUp).await,
            false => self.0.command(output::SpeedDown).await,
        }
    }

    /// Louder by one unit (`louder == false`: quieter).
    pub async fn volume(&self, louder: bool) -> Result<(), Error> {
        match louder {
            true => self.0.command(output::VolumeUp).await,
            false => self.0.command(output::VolumeDown).await,
        }
    }

    /// Moves the play marker forward or back by `amount`.
    pub async fn seek(&self, forward: bool, amount: Duration) -> Result<(), Error> {
        let direction = match forward {
            true => output::SeekDirection::Forward,
            false => output::SeekDirection::Back,
        };
        self.0.command(output::Seek { direction, amount }).await
    }
}

impl Input {
    /// Builds an input matching DTMF against an SRGS grammar.
    pub fn dtmf(grammar_srgs: impl Into<String>) -> InputSpec {
        InputSpec::dtmf(grammar_srgs)
    }

    /// Builds an input of `min` to `max` DTMF digits (`builtin:dtmf/digits`).
    pub fn digits(min: u32, max: u32) -> InputSpec {
        InputSpec::digits(min, max)
    }
}

impl Prompt {
    /// Builds a prompt: `output`, then `input`; with `barge_in`, input stops the output.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(output: OutputSpec, input: InputSpec, barge_in: bool) -> PromptSpec {
        PromptSpec::new(output, input, barge_in)
    }

    /// Waits until the prompt's input timers start (its output finished or was barged
    /// into). `None` if the prompt completed first.
    pub async fn input_timers_started(&mut self) -> Option<ComponentEvent> {
        self.0.next_event().await
    }
}

impl Record {
    /// Builds a WAV recording of at most `max_duration`.
    pub fn wav(max_duration: Duration) -> RecordSpec {
        RecordSpec::wav(max_duration)
    }

    /// Pauses recording (the file stays open).
    pub async fn pause(&self) -> Result<(), Error> {
        self.0.command(record::Pause).await
    }

    /// Resumes recording into the same file.
    pub async fn resume(&self) -> Result<(), Error> {
        self.0.command(record::Resume).await
    }
}
