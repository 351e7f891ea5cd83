//! The records the engine keeps for calls, mixers and components.

use std::collections::BTreeSet;

use jid::{BareJid, Jid};
use rayo_proto::generated::rayo::{Join, JoinDirection, JoinMedia};

use crate::media::Party;
use crate::{ComponentId, MixerId};

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Inbound, offered, not accepted yet.
    Offered,
    /// Inbound, accepted (ringing the caller), not answered.
    Accepted,
    /// Outbound, dialled, no answer yet.
    Dialing,
    /// Outbound, the remote party rings.
    Ringing,
    /// Media flows.
    Answered,
}

/// The parameters of one join, from one party's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinParams {
    /// Which way media flows, seen from the party holding this record.
    pub direction: JoinDirection,
    /// Bridged or direct.
    pub media: JoinMedia,
}

impl JoinParams {
    /// The same join seen from the other party.
    pub fn reversed(self) -> Self {
        JoinParams {
            direction: match self.direction {
                JoinDirection::Send => JoinDirection::Recv,
                JoinDirection::Recv => JoinDirection::Send,
                JoinDirection::Duplex => JoinDirection::Duplex,
            },
            media: self.media,
        }
    }
}

/// Offers of an inbound call still to be answered.
#[derive(Debug, Clone, Default)]
pub struct OfferState {
    /// Index of the route that selected the PCPs.
    pub route: usize,
    /// PCPs offered in the current round, still potential controlling parties.
    pub current: Vec<Jid>,
    /// PCPs to offer next when the current round times out or goes away (staged offers).
    pub next: Vec<Jid>,
    /// The current round (timers of older rounds are stale).
    pub round: u64,
}

/// A call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Its JID.
    pub jid: BareJid,
    /// Inbound (offered) or outbound (dialled).
    pub inbound: bool,
    /// Where it is in its life.
    pub state: CallState,
    /// The definitive controlling party.
    pub dcp: Option<Jid>,
    /// Every JID the call was offered to or received a command from, in order: they all
    /// get the end event (§6.6.4).
    pub interested: Vec<Jid>,
    /// JIDs this call has sent presence to (the first one carries caps).
    pub presence_sent: BTreeSet<Jid>,
    /// Pending offers (inbound, before a DCP).
    pub offer: Option<OfferState>,
    /// Whether early media is possible (the signalling said so).
    pub early_media_possible: bool,
    /// Whether early media was opened.
    pub early_media_on: bool,
    /// Its running components.
    pub components: BTreeSet<ComponentId>,
    /// Joins to make once an outbound call is answered (a dial's nested joins).
    pub pending_joins: Vec<Join>,
}

impl Call {
    /// Remembers a JID that must hear of the call's end.
    pub fn interest(&mut self, jid: &Jid) {
        if !self.interested.contains(jid) {
            self.interested.push(jid.clone());
        }
    }

    /// Whether media can flow to the call now (answered, or early media open).
    pub fn media_ready(&self) -> bool {
        self.state == CallState::Answered || self.early_media_on
    }
}

/// A mixer.
#[derive(Debug, Clone)]
pub struct Mixer {
    /// Its friendly name, the node of its JID.
    pub name: String,
    /// The security zone it belongs to.
    pub zone: String,
    /// Its JID.
    pub jid: BareJid,
    /// JIDs it has sent presence to: they get its unavailable presence when it goes.
    pub presence_sent: BTreeSet<Jid>,
    /// Clients of its zone that subscribed to its presence: they get its events too.
    pub subscribers: BTreeSet<Jid>,
    /// Its running components.
    pub components: BTreeSet<ComponentId>,
}

/// What kind of component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentKind {
    /// An output.
    Output,
    /// An input.
    Input,
    /// A prompt; `output_done` once its output finished.
    Prompt {
        /// The output part has finished: output commands are now unexpected.
        output_done: bool,
    },
    /// A record component.
    Record,
}

/// A running component.
#[derive(Debug, Clone)]
pub struct Component {
    /// Where it runs.
    pub on: Party,
    /// Its JID.
    pub jid: Jid,
    /// Who created it: the only JID that may command it, and that hears its events.
    pub owner: Jid,
    /// What it is.
    pub kind: ComponentKind,
    /// Paused (output, record).
    pub paused: bool,
    /// A stop command was acknowledged; the completion is awaited.
    pub stopping: bool,
}

/// The mixer a party is, if it is one.
pub fn mixer_of(p: &Party) -> Option<&MixerId> {
    match p {
        Party::Mixer(m) => Some(m),
        Party::Call(_) => None,
    }
}
