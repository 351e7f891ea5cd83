//! What the engine tells the signalling layer (SIP) and hears back from it, free of any
//! signalling protocol's vocabulary.

use rayo_proto::generated::rayo::{EndReason, Header};

use crate::CallId;

/// An action for the signalling layer.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalAction {
    /// Tell the caller the call will be handled (SIP 180).
    Accept {
        /// The call.
        call: CallId,
        /// Headers to send, in order.
        headers: Vec<Header>,
    },
    /// Open early media before answering, so components can run (SIP 183 with SDP).
    EarlyMedia {
        /// The call.
        call: CallId,
    },
    /// Answer (SIP 200 with SDP).
    Answer {
        /// The call.
        call: CallId,
        /// Headers to send, in order.
        headers: Vec<Header>,
    },
    /// Send the caller elsewhere (SIP 302 with Contact).
    Redirect {
        /// The call.
        call: CallId,
        /// The new target URI.
        to: String,
        /// Headers to send, in order.
        headers: Vec<Header>,
    },
    /// Refuse the call.
    Reject {
        /// The call.
        call: CallId,
        /// Why.
        cause: RejectCause,
        /// Headers to send, in order.
        headers: Vec<Header>,
    },
    /// End an established or ringing call (SIP BYE, or CANCEL before an answer).
    Hangup {
        /// The call.
        call: CallId,
        /// Headers to send, in order.
        headers: Vec<Header>,
    },
    /// Place an outbound call.
    Dial {
        /// The new call.
        call: CallId,
        /// Whom to call.
        to: String,
        /// Caller id, if given.
        from: Option<String>,
        /// Headers to send, in order.
        headers: Vec<Header>,
    },
    /// Give up an outbound call that was not answered in time (SIP CANCEL).
    Cancel {
        /// The call.
        call: CallId,
    },
    /// Send an instant message to the remote party (SIP MESSAGE, XEP-0327 §6.8.1).
    SendMessage {
        /// The call.
        call: CallId,
        /// The text.
        body: String,
    },
}

/// Why the engine refuses an inbound call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectCause {
    /// The controlling party declined it (SIP 603).
    Decline,
    /// The controlling party is busy (SIP 486).
    Busy,
    /// The controlling party hit an error (SIP 500).
    Error,
    /// No potential controlling party could take it (SIP 503): XEP-0327 §6.2.2.
    ServiceUnavailable,
}

/// Something the signalling layer reports about a call.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalEvent {
    /// A new inbound call.
    Incoming {
        /// The called URI.
        to: String,
        /// The caller URI.
        from: Option<String>,
        /// Every header of the request, in order.
        headers: Vec<Header>,
        /// Whether early media (183) is possible on this call.
        early_media: bool,
    },
    /// The remote party rings (outbound; SIP 180/183).
    Ringing {
        /// Headers of the response.
        headers: Vec<Header>,
    },
    /// The remote party answered (outbound; SIP 200).
    Answered {
        /// Headers of the response.
        headers: Vec<Header>,
    },
    /// The session ended for a reason of the remote party or the network.
    Ended {
        /// The end reason (`hungup`, `busy`, `rejected`, `timeout`, `error`), with the
        /// platform code (the SIP status) inside.
        reason: EndReason,
        /// Headers of the request or response that ended it.
        headers: Vec<Header>,
    },
    /// A DTMF digit from the remote party, signalled out of band.
    Dtmf {
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
    },
    /// An instant message from the remote party.
    Message {
        /// The text.
        body: String,
    },
}
