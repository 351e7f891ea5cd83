//! Mixers (XEP-0327 §6.4): named conference bridges calls are joined to.

use jid::{BareJid, Jid};
use xmpp_parsers::presence::Presence;

use crate::call::JoinTarget;
use crate::client::Client;
use crate::component::{start, Input, Output, Prompt, Record};
use crate::error::Error;
use crate::event::{Events, MixerEvent};
use crate::spec::{InputSpec, OutputSpec, PromptSpec, RecordSpec};

/// A mixer, by name. The server creates it when a call first joins it
/// ([`Call::join`](crate::Call::join) with [`Mixer::join_target`]) and destroys it when the
/// last one leaves.
#[derive(Debug)]
pub struct Mixer {
    client: Client,
    name: String,
    jid: BareJid,
    events: Events<MixerEvent>,
}

impl Mixer {
    pub(crate) fn new(
        client: Client,
        name: String,
        jid: BareJid,
        events: crate::event_queue::Receiver<MixerEvent>,
    ) -> Self {
        Mixer {
            client,
            name,
            jid,
            events: Events::new(events),
        }
    }

    /// The mixer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The mixer's JID.
    pub fn jid(&self) -> &BareJid {
        &self.jid
    }

    /// Where to join a call to this mixer: `call.join(mixer.join_target())`.
    pub fn join_target(&self) -> JoinTarget {
        JoinTarget::mixer(self.name.clone())
    }

    /// Asks for the mixer's events (joined, unjoined, started/stopped speaking) with a
    /// presence subscription (§6.4).
    pub fn subscribe(&self) -> Result<(), Error> {
        self.client
            .send(Presence::subscribe().with_to(self.to()).into())
    }

    /// The mixer's events.
    pub fn events(&mut self) -> &mut Events<MixerEvent> {
        &mut self.events
    }

    fn to(&self) -> Jid {
        Jid::from(self.jid.clone())
    }

    /// Starts an output on the mixer: every participant hears it.
    pub async fn output(&self, spec: impl Into<OutputSpec>) -> Result<Output, Error> {
        start(&self.client, self.to(), spec.into().into())
            .await
            .map(Output::from_parts)
    }

    /// Starts an input on the mixer.
    pub async fn input(&self, spec: impl Into<InputSpec>) -> Result<Input, Error> {
        start(&self.client, self.to(), spec.into().into())
            .await
            .map(Input::from_parts)
    }

    /// Starts a prompt on the mixer.
    pub async fn prompt(&self, spec: impl Into<PromptSpec>) -> Result<Prompt, Error> {
        start(&self.client, self.to(), spec.into().into())
            .await
            .map(Prompt::from_parts)
    }

    /// Records the mixer.
    pub async fn record(&self, spec: impl Into<RecordSpec>) -> Result<Record, Error> {
        start(&self.client, self.to(), spec.into().into())
            .await
            .map(Record::from_parts)
    }
}
