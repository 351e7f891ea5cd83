//! Marker traits that let the typed payloads travel in `xmpp-parsers` stanzas:
//! `Iq::from_set(id, dial)`, `Iq::from_result(id, Some(reference))`, presence payloads.

use xmpp_parsers::iq::{IqGetPayload, IqResultPayload, IqSetPayload};
use xmpp_parsers::message::MessagePayload;
use xmpp_parsers::presence::PresencePayload;

use crate::generated::{cmr, ext, input, output, prompt, rayo, record};

macro_rules! iq_set {
    ($($t:ty),* $(,)?) => { $(impl IqSetPayload for $t {})* };
}
macro_rules! presence {
    ($($t:ty),* $(,)?) => { $(impl PresencePayload for $t {})* };
}

iq_set!(
    rayo::Dial,
    rayo::Accept,
    rayo::Answer,
    rayo::Redirect,
    rayo::Reject,
    rayo::Hangup,
    rayo::Join,
    rayo::Unjoin,
    output::Output,
    output::Pause,
    output::Resume,
    output::SpeedUp,
    output::SpeedDown,
    output::VolumeUp,
    output::VolumeDown,
    output::Seek,
    input::Input,
    prompt::Prompt,
    record::Record,
    record::Pause,
    record::Resume,
    ext::Stop,
    cmr::Cmr,
);

presence!(
    rayo::Offer,
    rayo::Ringing,
    rayo::Answered,
    rayo::End,
    rayo::Joined,
    rayo::Unjoined,
    rayo::StartedSpeaking,
    rayo::StoppedSpeaking,
    prompt::InputTimersStarted,
    ext::Complete,
);

impl IqResultPayload for rayo::Ref {}
impl IqGetPayload for cmr::Query {}
impl IqResultPayload for cmr::Query {}
impl MessagePayload for cmr::Cmr {}
