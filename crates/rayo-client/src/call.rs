//! A call: its commands (XEP-0327 §6.2, §6.3, §6.6, §6.8), its events, its components.

use jid::{BareJid, Jid};
use minidom::Element;
use rayo_proto::address::uri_for;
use rayo_proto::generated::rayo::{
    Accept, Answer, Hangup, Header, Join, JoinDirection, JoinMedia, Redirect, Reject, RejectReason,
    Unjoin,
};
use xmpp_parsers::message::{Lang, Message};

use crate::client::Client;
use crate::component::{start, Input, Output, Prompt, Record};
use crate::core::CallParts;
use crate::error::Error;
use crate::event::CallEvents;
use crate::spec::{InputSpec, OutputSpec, PromptSpec, RecordSpec};

/// A call this client was offered or dialled.
///
/// Commands take `&self`; the events take `&mut self` ([`Call::events`]) or can be moved
/// out to another task ([`Call::take_events`]).
#[derive(Debug)]
pub struct Call {
    client: Client,
    jid: BareJid,
    events: Option<CallEvents>,
}

/// The other party of a join: a call or a mixer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinParty {
    /// A call, by JID.
    Call(BareJid),
    /// A mixer, by name.
    Mixer(String),
}

/// Where and how to join a call (§6.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinTarget {
    /// The other party.
    pub party: JoinParty,
    /// Which way media flows, from this call's point of view.
    pub direction: JoinDirection,
    /// Bridged through the media server, or direct.
    pub media: JoinMedia,
}

impl JoinTarget {
    /// Join to another call, duplex, bridged.
    pub fn call(call: &Call) -> Self {
        Self::new(JoinParty::Call(call.jid.clone()))
    }

    /// Join to the mixer `name` (created on first join), duplex, bridged.
    pub fn mixer(name: impl Into<String>) -> Self {
        Self::new(JoinParty::Mixer(name.into()))
    }

    fn new(party: JoinParty) -> Self {
        JoinTarget {
            party,
            direction: JoinDirection::Duplex,
            media: JoinMedia::Bridge,
        }
    }

    /// The direction.
    pub fn direction(mut self, d: JoinDirection) -> Self {
        self.direction = d;
        self
    }

    /// The media mode.
    pub fn media(mut self, m: JoinMedia) -> Self {
        self.media = m;
        self
    }

    pub(crate) fn into_join(self) -> Join {
        let (call_uri, mixer_name) = self.party.attrs();
        Join {
            call_uri,
            mixer_name,
            direction: Some(self.direction),
            media: Some(self.media),
        }
    }
}

impl JoinParty {
    fn attrs(self) -> (Option<String>, Option<String>) {
        match self {
            JoinParty::Call(j) => (Some(uri_for(&j.into())), None),
            JoinParty::Mixer(m) => (None, Some(m)),
        }
    }
}

fn headers(h: impl IntoIterator<Item = Header>) -> Vec<Header> {
    h.into_iter().collect()
}

impl Call {
    pub(crate) fn new(client: Client, parts: CallParts) -> Self {
        Call {
            client,
            jid: parts.jid,
            events: Some(CallEvents::new(parts.events)),
        }
    }

    /// The call's id (the node of its JID).
    pub fn id(&self) -> &str {
        self.jid.node().map(|n| n.as_str()).unwrap_or_default()
    }

    /// The call's JID.
    pub fn jid(&self) -> &BareJid {
        &self.jid
    }

    /// The call's events: ringing, answered, joined, unjoined, messages, and last `end`.
    /// After [`Call::take_events`] this is an empty, ended stream.
    pub fn events(&mut self) -> &mut CallEvents {
        self.events.get_or_insert_with(|| {
            let (_, rx) = crate::event_queue::channel();
            CallEvents::new(rx)
        })
    }

    /// Moves the event stream out (to read it in another task).
    pub fn take_events(&mut self) -> Option<CallEvents> {
        self.events.take()
    }

    async fn command(&self, payload: impl Into<Element>) -> Result<(), Error> {
        self.client
            .command_ok(Jid::from(self.jid.clone()), payload.into())
            .await
    }

    /// Takes control of an offered call and signals ringing (§6.2.2). Loses with
    /// `conflict` when another client was first.
    pub async fn accept(&self, h: impl IntoIterator<Item = Header>) -> Result<(), Error> {
        self.command(Accept {
            headers: headers(h),
        })
        .await
    }

    /// Answers the call (§6.2.2).
    pub async fn answer(&self, h: impl IntoIterator<Item = Header>) -> Result<(), Error> {
        self.command(Answer {
            headers: headers(h),
        })
        .await
    }

    /// Sends the caller to `to` instead (§6.6.1); the call ends.
    pub async fn redirect(
        &self,
        to: impl Into<String>,
        h: impl IntoIterator<Item = Header>,
    ) -> Result<(), Error> {
        self.command(Redirect {
            to: to.into(),
            headers: headers(h),
        })
        .await
    }

    /// Refuses the call before accepting it (§6.6.2); the call ends.
    pub async fn reject(
        &self,
        reason: RejectReason,
        h: impl IntoIterator<Item = Header>,
    ) -> Result<(), Error> {
        self.command(Reject {
            reason: Some(reason),
            headers: headers(h),
        })
        .await
    }

    /// Ends the call (§6.6.3); its `end` event follows.
    pub async fn hangup(&self, h: impl IntoIterator<Item = Header>) -> Result<(), Error> {
        self.command(Hangup {
            headers: headers(h),
        })
        .await
    }

    /// Joins the call's media to another call or a mixer (§6.3.1).
    pub async fn join(&self, target: JoinTarget) -> Result<(), Error> {
        self.command(target.into_join()).await
    }

    /// Breaks the join with `party`, or every join with `None` (§6.3.2).
    pub async fn unjoin(&self, party: Option<JoinParty>) -> Result<(), Error> {
        let (call_uri, mixer_name) = party.map(JoinParty::attrs).unwrap_or_default();
        self.command(Unjoin {
            call_uri,
            mixer_name,
        })
        .await
    }

    /// Sends an instant message to the remote party (§6.8.1). A refusal arrives as
    /// [`CallEvent::MessageError`](crate::CallEvent::MessageError).
    pub fn send_message(&self, text: impl Into<String>) -> Result<(), Error> {
        let m =
            Message::normal(Some(Jid::from(self.jid.clone()))).with_body(Lang::new(), text.into());
        self.client.send(m.into())
    }

    /// Asks the server what the call supports (XEP-0030 disco#info on the call's JID) and
    /// returns the features it lists (sorted), such as `urn:xmpp:rayo:1`. The node holding the call
    /// answers (behind a gateway, the gateway forwards the request to it); once the call is
    /// gone the answer is [`Error::Stanza`] with `item-not-found`. Cheap on the server:
    /// nothing about the call changes.
    pub async fn info(&self) -> Result<Vec<String>, Error> {
        let payload = self
            .client
            .get(self.to(), crate::core::disco_info_query())
            .await?;
        crate::core::disco_features(payload)
    }

    fn to(&self) -> Jid {
        Jid::from(self.jid.clone())
    }

    /// Starts an output (§6.5, §7.19.3).
    pub async fn output(&self, spec: impl Into<OutputSpec>) -> Result<Output, Error> {
        start(&self.client, self.to(), spec.into().into())
            .await
            .map(Output::from_parts)
    }

    /// Starts an input (§7.19.4).
    pub async fn input(&self, spec: impl Into<InputSpec>) -> Result<Input, Error> {
        start(&self.client, self.to(), spec.into().into())
            .await
            .map(Input::from_parts)
    }

    /// Starts a prompt (§7.19.5).
    pub async fn prompt(&self, spec: impl Into<PromptSpec>) -> Result<Prompt, Error> {
        start(&self.client, self.to(), spec.into().into())
            .await
            .map(Prompt::from_parts)
    }

    /// Starts a recording (§7.19.6).
    pub async fn record(&self, spec: impl Into<RecordSpec>) -> Result<Record, Error> {
        start(&self.client, self.to(), spec.into().into())
            .await
            .map(Record::from_parts)
    }
}
