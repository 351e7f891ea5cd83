//! What the engine tells the media engine and hears back from it.

use rayo_proto::command::{ComponentStart, OutputCommand, RecordCommand};
use rayo_proto::event::{CompleteMetadata, CompleteReason};
use rayo_proto::generated::rayo::{JoinDirection, JoinMedia};

use crate::{CallId, ComponentId, MixerId};

/// Something joinable: a call or a mixer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// A call.
    Call(CallId),
    /// A mixer.
    Mixer(MixerId),
}

/// An action for the media engine.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "actions are handed to the driver once and consumed; boxing would add an allocation per action"
)]
pub enum MediaAction {
    /// Start a component on a call or mixer. `early` when the call is not answered yet and
    /// the component runs on early media.
    StartComponent {
        /// Where it runs.
        on: Party,
        /// Its id.
        component: ComponentId,
        /// What to run, as validated.
        spec: ComponentStart,
        /// Running on early media.
        early: bool,
    },
    /// An output command for a running output or prompt.
    Output {
        /// The component.
        component: ComponentId,
        /// The command.
        command: OutputCommand,
    },
    /// A record command for a running record component.
    Record {
        /// The component.
        component: ComponentId,
        /// The command.
        command: RecordCommand,
    },
    /// Stop a component. With `report` the media engine answers with
    /// [`MediaEvent::Complete`] (a stop command, which may carry a recording); without,
    /// the engine already completed it (hangup) and expects nothing back.
    StopComponent {
        /// The component.
        component: ComponentId,
        /// Whether a completion is expected.
        report: bool,
    },
    /// Join (or re-join with new parameters) the media of `a` to `b`. `direction` is from
    /// `a`'s point of view: `send` means media flows from `a` to `b` only.
    Join {
        /// The party the join command addressed.
        a: Party,
        /// The other party.
        b: Party,
        /// Which way media flows.
        direction: JoinDirection,
        /// Bridged through the media server, or direct between the remote parties.
        media: JoinMedia,
    },
    /// Break the join of `a` and `b`; each goes back to the media server.
    Unjoin {
        /// One party.
        a: Party,
        /// The other.
        b: Party,
    },
    /// Create a mixer.
    CreateMixer {
        /// Its id.
        mixer: MixerId,
    },
    /// Destroy a mixer (it has no participant left).
    DestroyMixer {
        /// Its id.
        mixer: MixerId,
    },
    /// An out-of-band DTMF digit, for the call's input components.
    Dtmf {
        /// The call.
        call: CallId,
        /// The digit.
        digit: char,
    },
    /// Release everything the call holds in the media engine: it has ended.
    ReleaseCall {
        /// The call.
        call: CallId,
    },
}

/// Something the media engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaEvent {
    /// A component ended by itself or after a stop: the complete event's content.
    Complete {
        /// The component.
        component: ComponentId,
        /// Why.
        reason: CompleteReason,
        /// Metadata (a recording).
        metadata: Vec<CompleteMetadata>,
    },
    /// A prompt's output finished: its input timers start now (XEP-0327 §6.5.5).
    InputTimersStarted {
        /// The prompt.
        component: ComponentId,
    },
    /// A participant of a mixer started (`true`) or stopped speaking.
    Speaking {
        /// The mixer.
        mixer: MixerId,
        /// The call.
        call: CallId,
        /// Started or stopped.
        speaking: bool,
    },
}
